//! The policy documents provision writes: see [`crate::policy`].

pub use crate::policy::*;
