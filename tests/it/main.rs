//! Integration tests: one binary, one emulator for all of them (see `support`).

mod aws;
mod cli;
mod deploy;
mod provision;
mod provision_cloudfront;
mod provision_dns;
mod support;
