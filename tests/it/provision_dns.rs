//! Integration tests for this part of provisioning.
