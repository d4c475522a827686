//! A system file dialog on its own named thread (rfd blocks), and the tell-tale of a
//! machine where none can open: rfd answers "cancelled" within milliseconds.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

/// A dialog that "answers" faster than this never showed: rfd found no backend.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(300);

/// What a dialog said so far.
pub enum Answer<T> {
    /// Still open.
    Waiting,
    /// The user chose.
    Chosen(T),
    /// The user closed it.
    Cancelled,
    /// No dialog could open on this system (no desktop portal and no zenity).
    Unavailable,
}

/// A dialog running on its own thread.
pub struct DialogThread<T> {
    opened_at: Instant,
    answer: Receiver<Option<T>>,
}

impl<T: Send + 'static> DialogThread<T> {
    /// Runs `show` (an rfd call) on a thread named `name`.
    pub fn spawn(
        name: &str,
        show: impl FnOnce() -> Option<T> + Send + 'static,
    ) -> std::io::Result<Self> {
        // One answer: room for exactly it, so the dialog thread never waits.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let _ = tx.send(show());
            })?;
        Ok(Self {
            opened_at: Instant::now(),
            answer: rx,
        })
    }

    /// Checks for the answer without blocking; asks for a repaint while waiting.
    pub fn poll(&self, ctx: &egui::Context) -> Answer<T> {
        match self.answer.try_recv() {
            Ok(Some(chosen)) => Answer::Chosen(chosen),
            Ok(None) | Err(TryRecvError::Disconnected) => {
                if self.opened_at.elapsed() < NO_DIALOG_WITHIN {
                    Answer::Unavailable
                } else {
                    Answer::Cancelled
                }
            }
            Err(TryRecvError::Empty) => {
                ctx.request_repaint_after(Duration::from_millis(100));
                Answer::Waiting
            }
        }
    }
}
