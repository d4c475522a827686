//! The engine and library on temp dirs: jobs, history, exports, inputs, refining.
//!
//! One test binary for the group: each binary costs a link on 2 cores.

mod batches;
mod deferred;
mod export;
mod history;
mod inputs;
mod jobs;
mod library;
mod refine;
mod turns;
