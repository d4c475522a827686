//! The engine's spool: a job's pictures are written into the library while they arrive
//! (see `banana_providers::spool` and `banana_library::incoming`), and adopted as image
//! files when stored (see `store`).

use std::path::PathBuf;

use banana_library::incoming::Incoming;
use banana_providers::spool::{Spool, SpoolWriter, Spooled};

/// Writes pictures under a library's `images` folder.
pub(super) struct LibrarySpool {
    root: PathBuf,
}

impl LibrarySpool {
    /// A spool into the library at `root`.
    pub(super) fn new(root: PathBuf) -> Self {
        Self { root }
    }
}

impl Spool for LibrarySpool {
    fn open(&self) -> Option<Box<dyn SpoolWriter>> {
        match Incoming::create(&self.root, "images") {
            Ok(incoming) => Some(Box::new(Writer(incoming))),
            Err(e) => {
                tracing::warn!("a picture is stored once whole, not as it arrives ({e})");
                None
            }
        }
    }
}

struct Writer(Incoming);

impl SpoolWriter for Writer {
    fn write(&mut self, bytes: &[u8]) -> bool {
        let written = self.0.write(bytes);
        if let Err(e) = &written {
            tracing::warn!("a picture is stored once whole, not as it arrives ({e})");
        }
        written.is_ok()
    }

    fn close(self: Box<Self>) -> Option<Spooled> {
        match self.0.finish() {
            Ok(arrived) => Some(Spooled::new(arrived)),
            Err(e) => {
                tracing::warn!("a picture is stored once whole, not as it arrives ({e})");
                None
            }
        }
    }
}
