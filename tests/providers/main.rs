//! Contract tests of every provider against its sandbox fake (faults included), and
//! hostile loopback servers.
//!
//! One test binary for the group: each binary costs a link on 2 cores.

#[path = "../common/mod.rs"]
mod common;
#[path = "../hostile_support/mod.rs"]
mod hostile_support;

mod eachlabs;
mod eachlabs_schema;
mod fal;
mod gemini;
mod gemini_batch;
mod gemini_files;
mod gemini_shapes;
mod gemini_stream;
mod hostile;
mod oxen;
mod vydra;
