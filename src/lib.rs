//! Banana Studio: a native desktop studio for Google's Nano Banana image models.
//!
//! One library with two front ends (the egui app and a headless CLI) over one engine.
//! See `ARCHITECTURE.md` for the rooms and the direction of their doors.

pub mod cli;
pub mod engine;
pub mod fake;
pub mod gui;
pub mod imaging;
pub mod keys;
pub mod library;
pub mod logs;
pub mod notify;
pub mod providers;
pub mod recipe;
pub mod settings;
