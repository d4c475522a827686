//! A file written into the library while its bytes are still arriving.
//!
//! A picture of a few tens of MB is hashed and written as it comes in, and the disk is
//! asked to take it in as it grows: a helper thread syncs the file every MB. When the
//! last byte is in, what is left before the file can be recorded is the sync of its last
//! MB or so and a rename ([`Library::adopt_image_file`]). The temporary file lives in a
//! folder of its own, is removed when the picture is not adopted, and is collected as
//! an orphan after a crash.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use crate::{Library, LibraryError, extension_for, store};

/// The folder, inside a kind's folder, where files wait while they arrive.
pub const INCOMING_DIR: &str = "incoming";

/// Bytes written between two requests to the disk to take the file in. Small, so that
/// what is still unsynced when the last byte is in stays small too, however many
/// pictures arrive at once: with four 4K pictures arriving together, syncing every 4 MB
/// left three times more to sync at the end than every MB did (`benches/day_at_speed.rs`).
const SYNC_EVERY: u64 = 1 << 20;

/// Bytes gathered before a write to the file.
const BUFFER: usize = 256 << 10;

/// A file being written as its bytes arrive.
pub struct Incoming {
    file: BufWriter<File>,
    shared: Arc<File>,
    path: Temporary,
    hasher: Sha256,
    len: u64,
    unsynced: u64,
    syncer: Option<Syncer>,
}

/// The thread that syncs a growing file while it is written.
struct Syncer {
    wake: SyncSender<()>,
    thread: JoinHandle<()>,
}

impl Incoming {
    /// A new temporary file under `{root}/{kind}/incoming/`.
    pub fn create(root: &Path, kind: &str) -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = root.join(kind).join(INCOMING_DIR);
        std::fs::create_dir_all(&dir)?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{}-{n}.tmp", std::process::id()));
        let file = File::create(&path)?;
        let shared = Arc::new(file.try_clone()?);
        Ok(Self {
            file: BufWriter::with_capacity(BUFFER, file),
            shared,
            path: Temporary(Some(path)),
            hasher: Sha256::new(),
            len: 0,
            unsynced: 0,
            syncer: None,
        })
    }

    /// Appends the next bytes.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes)?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        self.unsynced += bytes.len() as u64;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            self.sync_soon()?;
        }
        Ok(())
    }

    /// Asks the syncing thread to take in what is written so far; a sync already under
    /// way is enough.
    fn sync_soon(&mut self) -> std::io::Result<()> {
        if self.syncer.is_none() {
            let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
            let file = self.shared.clone();
            let thread = std::thread::Builder::new()
                .name("incoming-sync".to_owned())
                .spawn(move || {
                    for () in woken {
                        // A failure shows in the last sync, before the file is adopted.
                        let _ = file.sync_data();
                    }
                })?;
            self.syncer = Some(Syncer { wake, thread });
        }
        self.file.flush()?;
        if let Some(syncer) = &self.syncer {
            match syncer.wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => self.syncer = None,
            }
        }
        Ok(())
    }

    /// The bytes are all in: the file, its hash and length, ready to be adopted. The
    /// last bytes are written but not yet synced.
    pub fn finish(mut self) -> std::io::Result<Arrived> {
        self.file.flush()?;
        let syncing = self.syncer.take().map(|s| {
            drop(s.wake);
            s.thread
        });
        let digest = std::mem::take(&mut self.hasher).finalize();
        Ok(Arrived(Mutex::new(Some(Waiting {
            path: Temporary(self.path.0.take()),
            sha256: store::hex(&digest),
            len: self.len,
            syncing,
        }))))
    }
}

/// A temporary file, removed when dropped unless taken away.
struct Temporary(Option<PathBuf>);

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A whole file waiting to be adopted into the library; removed when dropped before.
pub struct Arrived(Mutex<Option<Waiting>>);

struct Waiting {
    /// Removed with the arrival unless renamed into the library.
    path: Temporary,
    sha256: String,
    len: u64,
    syncing: Option<JoinHandle<()>>,
}

impl Arrived {
    /// How many bytes it holds, unless adopted already.
    pub fn bytes(&self) -> Option<u64> {
        self.lock().as_ref().map(|w| w.len)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Waiting>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Library {
    /// Makes `arrived` (an [`Incoming`] made under this library's `images`) the image
    /// file of its content, durably, as
    /// [`Library::put_image_file`] does with bytes: its hash and path. None when it was
    /// adopted already.
    pub fn adopt_image_file(
        &self,
        arrived: &Arrived,
        mime: &str,
    ) -> Result<Option<(String, PathBuf)>, LibraryError> {
        let Some(mut waiting) = arrived.lock().take() else {
            return Ok(None);
        };
        let syncing = waiting.syncing.take();
        let target =
            store::content_path(self.root(), "images", &waiting.sha256, extension_for(mime));
        let io = |source| LibraryError::Io {
            path: target.clone(),
            source,
        };
        let Some(path) = waiting.path.0.clone() else {
            return Ok(None);
        };
        // On any failure, and when an identical file is there already, `waiting` goes
        // with its file.
        let complete = std::fs::metadata(&target).is_ok_and(|m| m.len() == waiting.len);
        // The last sync does not wait for the helper's sync under way: the disk takes the
        // last bytes while that one is still being committed.
        let kept = if complete {
            Ok(())
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.sync_all())
                .and_then(|()| store::rename_durably(&path, &target))
        };
        if let Some(syncing) = syncing {
            let _ = syncing.join();
        }
        kept.map_err(io)?;
        if !complete {
            waiting.path.0 = None;
        }
        Ok(Some((std::mem::take(&mut waiting.sha256), target)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting_files(root: &Path) -> usize {
        std::fs::read_dir(root.join("images").join(INCOMING_DIR)).map_or(0, |d| d.count())
    }

    /// `bytes` arrived whole in the library at `root`.
    fn arrived(root: &Path, bytes: &[u8]) -> Arrived {
        let mut incoming = Incoming::create(root, "images").unwrap();
        incoming.write(bytes).unwrap();
        incoming.finish().unwrap()
    }

    /// Bytes of `len` that differ from one test to the next.
    fn picture(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + seed as usize) as u8).collect()
    }

    #[test]
    fn a_file_written_as_it_arrives_is_adopted_as_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path()).unwrap();
        // Past the sync interval twice, so the syncing thread runs while it is written.
        let bytes = picture(2 * SYNC_EVERY as usize + 12_345, 1);
        let mut incoming = Incoming::create(dir.path(), "images").unwrap();
        for piece in bytes.chunks(65_537) {
            incoming.write(piece).unwrap();
        }
        let arrived = incoming.finish().unwrap();
        assert_eq!(arrived.bytes(), Some(bytes.len() as u64));
        assert_eq!(waiting_files(dir.path()), 1);
        let (sha, path) = library
            .adopt_image_file(&arrived, "image/png")
            .unwrap()
            .unwrap();
        assert_eq!(sha, store::sha256_hex(&bytes));
        assert_eq!(path, store::content_path(dir.path(), "images", &sha, "png"));
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(waiting_files(dir.path()), 0);
        // Once only; the same bytes put again find the file.
        assert!(
            library
                .adopt_image_file(&arrived, "image/png")
                .unwrap()
                .is_none()
        );
        assert_eq!(arrived.bytes(), None);
        let (again, same) = library.put_image_file(&bytes, "image/png").unwrap();
        assert_eq!((again, same), (sha, path));
    }

    #[test]
    fn a_file_already_stored_is_kept_and_the_arrival_removed() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path()).unwrap();
        let bytes = picture(5_000, 2);
        let (sha, path) = library.put_image_file(&bytes, "image/png").unwrap();
        let arrived = arrived(dir.path(), &bytes);
        let adopted = library.adopt_image_file(&arrived, "image/png").unwrap();
        assert_eq!(adopted, Some((sha, path.clone())));
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(waiting_files(dir.path()), 0);
    }

    #[test]
    fn nothing_is_left_of_a_picture_not_adopted() {
        let dir = tempfile::tempdir().unwrap();
        // Given up while arriving (a cut-off answer).
        let mut incoming = Incoming::create(dir.path(), "images").unwrap();
        incoming
            .write(&picture(SYNC_EVERY as usize + 1, 3))
            .unwrap();
        assert_eq!(waiting_files(dir.path()), 1);
        drop(incoming);
        assert_eq!(waiting_files(dir.path()), 0);
        // Whole, but never stored (a thought picture, a converted answer).
        let arrived = arrived(dir.path(), &picture(100, 4));
        assert_eq!(waiting_files(dir.path()), 1);
        drop(arrived);
        assert_eq!(waiting_files(dir.path()), 0);
        // No image file was made.
        let kept: Vec<_> = std::fs::read_dir(dir.path().join("images"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(kept, [INCOMING_DIR]);
    }

    #[test]
    fn an_arrival_whose_file_went_is_not_adopted() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path()).unwrap();
        let arrived = arrived(dir.path(), &picture(100, 6));
        std::fs::remove_dir_all(dir.path().join("images").join(INCOMING_DIR)).unwrap();
        // The caller writes the bytes again from memory.
        assert!(library.adopt_image_file(&arrived, "image/png").is_err());
        assert!(
            library
                .adopt_image_file(&arrived, "image/png")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_leftover_of_a_crash_is_collected_as_an_orphan() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path()).unwrap();
        let arrived = arrived(dir.path(), &picture(100, 5));
        // A crash: nobody removes it.
        std::mem::forget(arrived);
        assert_eq!(waiting_files(dir.path()), 1);
        let removed = library
            .collect_orphans_older_than(std::time::Duration::ZERO)
            .unwrap();
        assert_eq!(removed, 1);
        assert_eq!(waiting_files(dir.path()), 0);
    }
}
