//! The `sqs-tasks` binary, driven as a user would, against servers started by each test.

mod commands;
mod demo;
mod harness;
mod work_exec;
mod work_http;
mod work_signals;
