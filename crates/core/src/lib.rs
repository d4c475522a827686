//! The pure core of Banana Studio: recipes and the model catalog, validation, the kinds of
//! failure, secrets, media types and the sandbox door. No I/O, no pixels, no UI: every
//! other crate of the workspace may depend on this one, and it depends on none of them.

pub mod dates;
pub mod error;
pub mod media;
pub mod recipe;
pub mod sandbox;
pub mod secret;
pub mod turn_parts;

pub use error::ErrorKind;
pub use secret::Secret;

use std::time::{SystemTime, UNIX_EPOCH};

/// The log target of notices for the user: a `tracing` event with this target is also
/// shown in the window (see the engine's `notify` module).
pub const NOTICE_TARGET: &str = "banana_studio::notice";

/// Milliseconds since the Unix epoch, as stored in the history.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
