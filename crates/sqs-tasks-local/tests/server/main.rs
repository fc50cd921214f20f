//! The server, driven through the official Rust SDK over HTTP on 127.0.0.1.

mod common;
mod durability;
mod errors;
mod long_polling;
mod messages;
mod queues;
mod redrive;
mod visibility;
