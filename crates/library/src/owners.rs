//! Many processes, one library: each open library holds an exclusive lock on a file of
//! its own under `owners/`, and every job it creates names that owner. The OS drops the
//! lock when the process ends, however it ends, so "is the owner still running?" is a
//! lock that can or cannot be taken, not a guess from a process id that may be reused.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use super::LibraryError;

/// The folder of owner lock files in a data folder.
const DIR: &str = "owners";

/// This process's claim on the library; dropping it releases the lock and its file.
#[derive(Debug)]
pub(super) struct OwnerLock {
    /// The owner's name, stored with each job it creates.
    pub id: String,
    path: PathBuf,
    file: File,
}

impl OwnerLock {
    /// Takes a new lock in `root/owners/`. The file is locked under a temporary name and
    /// then renamed into place, so no other process ever sees it unlocked.
    pub fn claim(root: &Path) -> Result<Self, LibraryError> {
        let dir = root.join(DIR);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LibraryError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let id = format!("{}-{nanos:x}", std::process::id());
        let temp = dir.join(format!("{id}.new"));
        let path = dir.join(format!("{id}.lock"));
        let file = File::create(&temp).map_err(io(&temp))?;
        if let Err(e) = file.try_lock() {
            // A file system without locks (some network shares): the library still opens;
            // another process starting then cannot tell this one's jobs are live.
            tracing::warn!(
                "the library folder does not take file locks ({e}); another process starting now may mark this one's running jobs Interrupted"
            );
        }
        std::fs::rename(&temp, &path).map_err(io(&path))?;
        Ok(Self { id, path, file })
    }

    /// Removes lock files whose owners are gone (their lock can be taken).
    pub fn sweep(&self) {
        let Ok(entries) = std::fs::read_dir(self.path.parent().unwrap_or(Path::new("."))) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_lock = path.extension().is_some_and(|e| e == "lock");
            if is_lock && path != self.path && !lock_is_held(&path) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

impl Drop for OwnerLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether a process ended without closing the library in `root`: a lock file is left
/// whose owner is gone. A clean close removes its own file.
pub(super) fn unclean_close(root: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(root.join(DIR)) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        path.extension().is_some_and(|e| e == "lock") && !lock_is_held(&path)
    })
}

/// Whether the owner of a lock file still runs: its lock cannot be taken.
fn lock_is_held(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false; // No file: the owner closed its library.
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        // A file system without locks: assume alive rather than steal a live job.
        Err(TryLockError::Error(_)) => true,
    }
}

/// Whether the owner named in a job still runs. Jobs from before owners were recorded
/// (no name) belong to nobody alive.
pub(super) fn owner_alive(root: &Path, owner: Option<&str>) -> bool {
    match owner {
        Some(owner) if !owner.is_empty() && !owner.contains(['/', '\\', '.']) => {
            lock_is_held(&root.join(DIR).join(format!("{owner}.lock")))
        }
        _ => false,
    }
}
