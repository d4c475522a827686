//! Checking the library while it is in use: the quick check after an unclean close (in
//! the background, the app already usable) and the full check on demand (Settings,
//! "Check the library"), which reads every page and every image file with progress.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{Connection, OpenFlags};

use super::{ImageId, Library, LibraryError, health, store};

/// How far a full check has come; read by the window while the check runs.
#[derive(Debug, Default)]
pub struct CheckProgress {
    done: AtomicU64,
    total: AtomicU64,
}

impl CheckProgress {
    /// Steps done and steps in all (the database, then one a stored image); the total
    /// is zero until it is known.
    pub fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// What a full check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// What SQLite's `integrity_check` found wrong, or None when the database is sound.
    pub database_problem: Option<String>,
    /// Image records whose files were read.
    pub images_checked: usize,
    /// Images whose file is gone.
    pub missing: Vec<ImageId>,
    /// Images whose file no longer holds the bytes stored (they hash to another name).
    pub damaged: Vec<ImageId>,
    /// Thumbnails that were missing or unreadable and were made again from the image.
    pub thumbnails_rebuilt: usize,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.database_problem.is_none() && self.missing.is_empty() && self.damaged.is_empty()
    }

    /// The finding in words, with what to do about each problem.
    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        if self.is_sound() {
            lines.push(format!(
                "The library is sound: the history database and all {} image files check out.",
                self.images_checked
            ));
        }
        if let Some(problem) = &self.database_problem {
            lines.push(format!(
                "The history database is damaged ({problem}). Restart the app: it keeps a copy \
                 of the damaged database and starts a new history. Image files are not touched."
            ));
        }
        let ids = |ids: &[ImageId]| {
            let shown: Vec<String> = ids.iter().take(5).map(|id| format!("#{id}")).collect();
            let more = ids.len().saturating_sub(5);
            if more > 0 {
                format!("{} and {more} more", shown.join(", "))
            } else {
                shown.join(", ")
            }
        };
        if !self.missing.is_empty() {
            lines.push(format!(
                "{} of {} image files are missing ({}). Restore them from a backup into the \
                 library folder, or move those images to the trash.",
                self.missing.len(),
                self.images_checked,
                ids(&self.missing)
            ));
        }
        if !self.damaged.is_empty() {
            lines.push(format!(
                "{} of {} image files no longer hold what was stored ({}). Restore them from a \
                 backup, or move those images to the trash.",
                self.damaged.len(),
                self.images_checked,
                ids(&self.damaged)
            ));
        }
        if self.thumbnails_rebuilt > 0 {
            lines.push(format!(
                "{} missing thumbnails were made again.",
                self.thumbnails_rebuilt
            ));
        }
        lines.join("\n")
    }
}

/// The file whose presence says a check found the database damaged: the next open
/// checks again before use and, if the damage is still there, sets the database aside.
pub(super) const DAMAGE_MARKER: &str = "library.sqlite3.damaged";

/// A check's verdict from the rows SQLite's check pragmas return: None for "ok". A page
/// too damaged to walk stops the pragma with an error: that is a finding too.
fn verdict(conn: &Connection, pragma: &str) -> Result<Option<String>, rusqlite::Error> {
    let rows = conn.prepare(pragma).and_then(|mut stmt| {
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .take(5)
            .collect::<Result<Vec<_>, _>>()
    });
    match rows {
        Ok(rows) => Ok(match rows.as_slice() {
            [only] if only == "ok" => None,
            [] => None,
            rows => Some(rows.join("; ")),
        }),
        Err(rusqlite::Error::SqliteFailure(e, message))
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            ) =>
        {
            Ok(Some(message.unwrap_or_else(|| e.to_string())))
        }
        Err(e) => Err(e),
    }
}

impl Library {
    /// A connection of its own that only reads, so a long check never holds the lock the
    /// app's reads and writes wait on (WAL lets it read beside them).
    pub(super) fn reader(&self) -> Result<Connection, LibraryError> {
        let conn = Connection::open_with_flags(
            self.root.join(health::DB_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }

    /// SQLite's `quick_check` (every page read, no index cross-checks), beside the app's
    /// own work. Ok(None) when sound; damage found is also noted so the next open deals
    /// with it before use.
    pub fn quick_check(&self) -> Result<Option<String>, LibraryError> {
        let problem = verdict(&self.reader()?, "PRAGMA quick_check")?;
        if let Some(problem) = &problem {
            self.note_damage(problem);
        }
        Ok(problem)
    }

    fn note_damage(&self, problem: &str) {
        let marker = self.root.join(DAMAGE_MARKER);
        if let Err(e) = std::fs::write(&marker, problem) {
            tracing::error!("could not note the damage at {}: {e}", marker.display());
        }
    }

    /// The full check: SQLite's `integrity_check`, then every stored image file read and
    /// hashed against its name; missing thumbnails are made again. `progress` counts
    /// the database as one step and each image as one.
    pub fn check(&self, progress: &CheckProgress) -> Result<CheckReport, LibraryError> {
        let ids: Vec<ImageId> = {
            let conn = self.reader()?;
            let mut stmt = conn.prepare("SELECT id FROM images ORDER BY id")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        progress
            .total
            .store(ids.len() as u64 + 1, Ordering::Relaxed);
        progress.done.store(0, Ordering::Relaxed);
        let mut report = CheckReport {
            database_problem: verdict(&self.reader()?, "PRAGMA integrity_check")?,
            ..CheckReport::default()
        };
        if let Some(problem) = &report.database_problem {
            self.note_damage(problem);
        }
        progress.done.fetch_add(1, Ordering::Relaxed);
        for id in ids {
            // A record deleted for good while the check ran is simply passed over.
            if let Some(record) = self.image(id)? {
                report.images_checked += 1;
                match std::fs::read(&record.path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.missing.push(id),
                    Err(source) => {
                        return Err(LibraryError::Read {
                            path: record.path,
                            source,
                        });
                    }
                    Ok(bytes) if store::sha256_hex(&bytes) != record.sha256 => {
                        report.damaged.push(id);
                    }
                    Ok(bytes) => {
                        if record.deleted_at_ms.is_none()
                            && thumbnail_unreadable(&record.thumb_path)
                            && self.remake_thumbnail(&record.sha256, &bytes)
                        {
                            report.thumbnails_rebuilt += 1;
                        }
                    }
                }
            }
            progress.done.fetch_add(1, Ordering::Relaxed);
        }
        Ok(report)
    }

    fn remake_thumbnail(&self, sha256: &str, image: &[u8]) -> bool {
        let problem = match self.make_thumbnail(sha256, image) {
            Ok(Ok(_)) => return true,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!("a thumbnail could not be made again: {problem}");
        false
    }
}

/// Whether a thumbnail is missing or does not decode.
fn thumbnail_unreadable(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| banana_imaging::decode(&bytes).ok())
        .is_none()
}
