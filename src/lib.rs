//! Banana Studio: a native desktop studio for Google's Nano Banana image models.
//!
//! The app crate of the workspace: the egui window and the headless CLI, one binary over
//! one engine. The rooms below them are crates of their own (see `docs/ARCHITECTURE.md`);
//! they are re-exported here under their room names so the front ends read as one house.

pub mod allocator;
pub mod cli;
pub mod gui;
pub mod logs;
pub mod sandbox;

pub use banana_core::recipe;
pub use banana_engine as engine;
pub use banana_engine::{notify, settings};
pub use banana_imaging as imaging;
pub use banana_keys as keys;
pub use banana_library as library;
pub use banana_providers as providers;
pub use banana_sandbox as fake;
