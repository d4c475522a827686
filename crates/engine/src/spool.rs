//! The engine's spool: a job's pictures are written into the library while they arrive
//! (see `banana_providers::spool` and `banana_library::incoming`), and adopted as image
//! files when stored (see `store`).

use std::path::PathBuf;
use std::sync::Arc;

use banana_library::incoming::Incoming;
use banana_providers::spool::{Spool, SpoolWriter, Spooled};

use super::thumbs::{Ahead, AheadOf};

/// Writes pictures under a library's `images` folder.
pub(super) struct LibrarySpool {
    root: PathBuf,
    /// A picture arriving goes before thumbnails: receiving it (reading, decoding,
    /// hashing and writing some 30 MB for a 4K picture) is on the way to a job's end,
    /// and a thumbnail started meanwhile takes a core from it.
    ahead: Arc<Ahead>,
}

impl LibrarySpool {
    /// A spool into the library at `root`.
    pub(super) fn new(root: PathBuf, ahead: Arc<Ahead>) -> Self {
        Self { root, ahead }
    }
}

impl Spool for LibrarySpool {
    fn open(&self) -> Option<Box<dyn SpoolWriter>> {
        match Incoming::create(&self.root, "images") {
            Ok(incoming) => Some(Box::new(Writer {
                incoming,
                _ahead: self.ahead.begin(),
            })),
            Err(e) => {
                tracing::warn!("a picture is stored once whole, not as it arrives ({e})");
                None
            }
        }
    }
}

/// A picture being written; it goes before thumbnails until it is whole (then the
/// check and the storing that follow count in its place).
struct Writer {
    incoming: Incoming,
    _ahead: AheadOf,
}

impl SpoolWriter for Writer {
    fn write(&mut self, bytes: &[u8]) -> bool {
        let written = self.incoming.write(bytes);
        if let Err(e) = &written {
            tracing::warn!("a picture is stored once whole, not as it arrives ({e})");
        }
        written.is_ok()
    }

    fn close(self: Box<Self>) -> Option<Spooled> {
        match self.incoming.finish() {
            Ok(arrived) => Some(Spooled::new(arrived)),
            Err(e) => {
                tracing::warn!("a picture is stored once whole, not as it arrives ({e})");
                None
            }
        }
    }
}
