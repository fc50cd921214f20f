//! Wire protocols: how requests arrive and answers leave.

pub(crate) mod json;
pub(crate) mod params;
pub(crate) mod signature;
