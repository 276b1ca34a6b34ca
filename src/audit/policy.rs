//! Policy reading for the audit: see [`crate::policy::analysis`].

pub use crate::policy::analysis::*;
