//! One-shot answers: a request to the engine (a history page, pixels, a comparison, a
//! lineage tree, an export, a key test) returns an [`Answer`] that is filled once and
//! polled by whoever asked. The event bus carries only news. An answer nobody holds any
//! more is dropped with its request, so a stale answer can never be shown: the asker
//! keeps the handle of the newest request only.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Weak};
use std::time::Duration;

use banana_imaging::ImagingError;
use banana_library::LibraryError;
use banana_library::export::ExportError;

/// The answer to one request, filled once by the engine.
#[derive(Debug)]
pub struct Answer<T> {
    rx: Receiver<T>,
    value: Option<T>,
    gone: bool,
    /// Held while someone waits: work not started when it goes is not done at all.
    _held: Arc<()>,
}

/// What fills an [`Answer`]; wakes the window when it does.
pub(crate) struct Reply<T> {
    tx: SyncSender<T>,
    wake: Option<Arc<dyn Fn() + Send + Sync>>,
    held: Weak<()>,
}

/// A connected reply and answer; `wake` runs once the reply is sent (a repaint).
pub(crate) fn pair<T>(wake: Option<Arc<dyn Fn() + Send + Sync>>) -> (Reply<T>, Answer<T>) {
    let (tx, rx) = sync_channel(1);
    let held = Arc::new(());
    (
        Reply {
            tx,
            wake,
            held: Arc::downgrade(&held),
        },
        Answer {
            rx,
            value: None,
            gone: false,
            _held: held,
        },
    )
}

impl<T> Reply<T> {
    /// Whether the asker still holds the answer (a viewer that moved on to another
    /// image does not: its decode need not be done).
    pub(crate) fn wanted(&self) -> bool {
        self.held.strong_count() > 0
    }

    /// Fills the answer (a no-op when the asker has dropped it).
    pub(crate) fn send(self, value: T) {
        let _ = self.tx.try_send(value);
        if let Some(wake) = &self.wake {
            wake();
        }
    }
}

impl<T> Answer<T> {
    /// An answer that is already there (a request refused before any work).
    pub fn ready_with(value: T) -> Self {
        let (_tx, rx) = sync_channel(1);
        Self {
            rx,
            value: Some(value),
            gone: false,
            _held: Arc::new(()),
        }
    }

    fn poll(&mut self) {
        if self.value.is_none() && !self.gone {
            match self.rx.try_recv() {
                Ok(value) => self.value = Some(value),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.gone = true,
            }
        }
    }

    /// The value, once it has come.
    pub fn ready(&mut self) -> Option<&T> {
        self.poll();
        self.value.as_ref()
    }

    /// Takes the value once it has come; later calls return `None`.
    pub fn take(&mut self) -> Option<T> {
        self.poll();
        self.value.take()
    }

    /// Whether the engine stopped without answering (it is shutting down).
    pub fn is_gone(&mut self) -> bool {
        self.poll();
        self.gone && self.value.is_none()
    }

    /// Waits for the value, for a blocking caller (the CLI, tests). `None` when the
    /// engine stopped or the time ran out.
    pub fn wait(mut self, timeout: Duration) -> Option<T> {
        if let Some(value) = self.value.take() {
            return Some(value);
        }
        self.rx.recv_timeout(timeout).ok()
    }
}

/// Why a one-shot request failed, as something to tell the user.
#[derive(Clone, Debug, thiserror::Error)]
pub enum TaskError {
    /// The history database or library folder failed.
    #[error(transparent)]
    Library(Arc<LibraryError>),
    /// Saving outside the library failed.
    #[error(transparent)]
    Export(Arc<ExportError>),
    /// An image could not be decoded or compared.
    #[error(transparent)]
    Imaging(Arc<ImagingError>),
    /// Something asked for is not (or no longer) in the history.
    #[error("{0} is not in the history")]
    Missing(&'static str),
    /// A stored file could not be read.
    #[error("could not read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Arc<std::io::Error>,
    },
    /// A comparison was asked of an image made from the prompt alone.
    #[error("made from the prompt alone: there is no earlier image to compare with")]
    NothingToCompare,
    /// The background worker stopped (a panic, or the engine shutting down).
    #[error("background work failed: {0}")]
    Worker(String),
}

impl TaskError {
    /// A read failure of `path`.
    pub(crate) fn read(path: &std::path::Path, source: std::io::Error) -> Self {
        TaskError::Read {
            path: path.to_owned(),
            source: Arc::new(source),
        }
    }
}

impl From<LibraryError> for TaskError {
    fn from(e: LibraryError) -> Self {
        TaskError::Library(Arc::new(e))
    }
}

impl From<ExportError> for TaskError {
    fn from(e: ExportError) -> Self {
        TaskError::Export(Arc::new(e))
    }
}

impl From<ImagingError> for TaskError {
    fn from(e: ImagingError) -> Self {
        TaskError::Imaging(Arc::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_knows_when_nobody_waits_any_more() {
        let (reply, answer) = pair::<u32>(None);
        assert!(reply.wanted());
        drop(answer);
        assert!(!reply.wanted(), "the asker moved on");
        let (reply, answer) = pair::<u32>(None);
        let waiting = std::thread::Builder::new()
            .name("asker".into())
            .spawn(move || answer.wait(Duration::from_secs(10)));
        assert!(reply.wanted(), "a blocking caller still waits");
        reply.send(7);
        assert!(waiting.is_ok_and(|w| w.join().ok().flatten() == Some(7)));
    }

    #[test]
    fn an_answer_is_filled_once_and_wakes_the_asker() {
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let w = woken.clone();
        let (reply, mut answer) = pair::<u32>(Some(Arc::new(move || {
            w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })));
        assert_eq!(answer.ready(), None);
        assert!(!answer.is_gone());
        reply.send(7);
        assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(answer.ready(), Some(&7));
        assert_eq!(answer.take(), Some(7));
        assert_eq!(answer.take(), None);
    }

    #[test]
    fn a_reply_dropped_unsent_reads_as_gone_not_a_panic() {
        let (reply, mut answer) = pair::<u32>(None);
        drop(reply);
        assert!(answer.is_gone());
        assert_eq!(answer.ready(), None);
        let (reply, answer) = pair::<u32>(None);
        drop(reply);
        assert_eq!(answer.wait(Duration::from_secs(5)), None);
    }

    #[test]
    fn a_dropped_answer_does_not_block_the_reply() {
        let (reply, answer) = pair::<u32>(None);
        drop(answer);
        reply.send(1);
    }
}
