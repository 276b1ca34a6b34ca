//! Integration tests: one binary, one emulator for all of them (see `support`).

// An end-to-end scenario reads best top to bottom in one function.
#![allow(clippy::too_many_lines)]

mod adopt;
mod audit;
mod aws;
mod bad_input;
mod browser;
mod ci;
mod cli;
mod deploy;
mod faults;
mod iam;
mod kills;
mod lease;
mod monitoring;
mod preview;
mod provision;
mod provision_cloudfront;
mod provision_dns;
mod support;
