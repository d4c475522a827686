//! The window, driven with egui_kittest: panels, dialogs, shortcuts, desktop glue, and
//! that keys never leak into files the app writes.
//!
//! One test binary for the group: each binary costs a link on 2 cores.

#[path = "../cli_support/mod.rs"]
mod cli_support;
#[path = "../gui_support/mod.rs"]
mod gui_support;

mod batches;
mod desktop;
mod history_panel;
mod inputs;
mod layout;
mod leak;
mod library;
mod masks;
mod providers;
mod settings;
mod shortcuts;
mod thinking;
mod window;
