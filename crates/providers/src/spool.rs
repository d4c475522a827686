//! Pictures written somewhere as they arrive, besides memory.
//!
//! A 4K picture takes tens of milliseconds to hash, write and sync. When the answers of a
//! job all come at once, that work would start only when the last byte is in. A
//! [`Spool`] (see [`crate::CallContext::spool`]) is given each picture's bytes while they
//! are decoded (see `lift`), so whoever stores them finds the file written, hashed and
//! mostly on disk when the answer ends. The picture stays in memory too: it is checked
//! there, and a refine sends it back from there.

use std::any::Any;
use std::sync::Arc;

/// Where pictures go as they arrive.
pub trait Spool: Send + Sync {
    /// A writer for the next picture; None when none can be had (the picture is then
    /// stored from memory, as without a spool).
    fn open(&self) -> Option<Box<dyn SpoolWriter>>;
}

impl std::fmt::Debug for dyn Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spool(..)")
    }
}

/// One picture being written. Dropped without [`SpoolWriter::close`] (the answer was cut
/// off, or the text was not a picture after all), it leaves nothing behind.
pub trait SpoolWriter: Send {
    /// The next bytes of the picture; false when they could not be written (the
    /// picture is then stored from memory, and the writer is dropped).
    fn write(&mut self, bytes: &[u8]) -> bool;

    /// The picture is whole: what was made of it, for whoever stores it.
    fn close(self: Box<Self>) -> Option<Spooled>;
}

/// What a [`Spool`] made of a whole picture; only the spool's owner knows its type.
#[derive(Clone)]
pub struct Spooled(Arc<dyn Any + Send + Sync>);

impl Spooled {
    /// Wraps what the spool made.
    pub fn new<T: Any + Send + Sync>(made: T) -> Self {
        Self(Arc::new(made))
    }

    /// What the spool made, when it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for Spooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spooled(..)")
    }
}

/// The same spooled picture, not merely equal bytes.
impl PartialEq for Spooled {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Spooled {}

/// A picture's writer, if any, inside the lifter.
pub(crate) struct Open(pub Box<dyn SpoolWriter>);

impl std::fmt::Debug for Open {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpoolWriter(..)")
    }
}
