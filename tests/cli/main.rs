//! The command line as scripts use it, and the history surviving a killed process.
//!
//! One test binary for the group: each binary costs a link on 2 cores.

#[path = "../cli_support/mod.rs"]
mod cli_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../hostile_support/mod.rs"]
mod hostile_support;

mod commands;
mod crash;
mod deferred;
mod scripts;
