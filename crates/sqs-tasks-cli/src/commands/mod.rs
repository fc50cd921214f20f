//! One module per subcommand.

pub(crate) mod demo;
pub(crate) mod peek;
pub(crate) mod queue;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod stats;
pub(crate) mod work;
