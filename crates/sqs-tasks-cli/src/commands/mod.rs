//! One module per subcommand.

pub(crate) mod demo;
pub(crate) mod peek;
pub(crate) mod queue;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod stats;
pub(crate) mod work;

/// A concurrency: at least one task at a time.
pub(crate) fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("the concurrency must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}
