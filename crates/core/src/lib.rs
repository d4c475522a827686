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

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The log target of notices for the user: a `tracing` event with this target is also
/// shown in the window (see the engine's `notify` module).
pub const NOTICE_TARGET: &str = "banana_studio::notice";

/// Milliseconds since the Unix epoch, as stored in the history.
///
/// Strictly increasing within a process: two records made in the same millisecond (a job
/// started right after another, a session made and used at once) still keep their order,
/// which "most recently used" and "newest first" rely on. A burst runs ahead of the clock by
/// a few milliseconds at most, and the clock catches up.
pub fn now_ms() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(wall.max(last + 1))
        })
        .unwrap_or(0);
    wall.max(previous + 1)
}

#[cfg(test)]
mod tests {
    use super::now_ms;

    #[test]
    fn now_ms_never_repeats_within_a_process() {
        let stamps: Vec<i64> = (0..1_000).map(|_| now_ms()).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert!((stamps[0] - wall).abs() < 60_000, "close to the wall clock");
    }
}
