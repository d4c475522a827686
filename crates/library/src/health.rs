//! Crash safety at start-up: the database checked (a corrupt one is kept as a backup and
//! replaced), and files no row points at collected (partial writes, stale temp files).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::Connection;

use super::{Library, LibraryError, now_ms, turns};

/// Files younger than this are left alone: another instance may be about to index them.
const ORPHAN_MIN_AGE: Duration = Duration::from_secs(10 * 60);

/// The database file name in the data folder.
pub const DB_FILE: &str = "library.sqlite3";

/// The check made at open. Normally it reads only the header and schema (a file that is
/// not a database at all fails here), so opening costs the same at any library size.
/// Where a check made while the library was in use found damage (`suspect`), it runs
/// SQLite's `quick_check` again before use. Ok(None) when sound, Ok(Some(problem)) when
/// not.
pub(super) fn start_up_problem(
    conn: &Connection,
    suspect: bool,
) -> Result<Option<String>, rusqlite::Error> {
    let _: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    if !suspect {
        return Ok(None);
    }
    let result: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    Ok((result != "ok").then_some(result))
}

/// Moves a damaged database (and its WAL files) aside; returns the backup's path.
pub(super) fn set_aside(root: &Path) -> Result<PathBuf, LibraryError> {
    let backup = root.join(format!("{DB_FILE}.corrupt-{}.bak", now_ms()));
    for suffix in ["", "-wal", "-shm"] {
        let from = root.join(format!("{DB_FILE}{suffix}"));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", backup.display()));
            std::fs::rename(&from, &to).map_err(|source| LibraryError::Io {
                path: from.clone(),
                source,
            })?;
        }
    }
    Ok(backup)
}

fn old_enough(path: &Path, now: SystemTime, min_age: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|age| age >= min_age)
}

impl Library {
    /// Removes leftovers of interrupted writes: temp files, and stored files that no
    /// image, input or model turn refers to. Returns how many files went.
    pub fn collect_orphans(&self) -> Result<usize, LibraryError> {
        self.collect_orphans_older_than(ORPHAN_MIN_AGE)
    }

    /// [`Self::collect_orphans`] with a chosen minimum age (tests use zero).
    pub fn collect_orphans_older_than(&self, min_age: Duration) -> Result<usize, LibraryError> {
        let known: std::collections::HashSet<String> = {
            // A connection of its own: reading every row must not hold up the app's
            // first page of history, which waits on the shared one.
            let conn = self.reader()?;
            let mut stmt = conn.prepare("SELECT sha256 FROM images")?;
            let images: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut stmt = conn.prepare("SELECT recipe_json FROM jobs")?;
            let recipes: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut stmt = conn.prepare(
                "SELECT sha256 FROM turn_parts WHERE job_id IN (SELECT job_id FROM images)",
            )?;
            let parts: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let inputs = recipes
                .iter()
                .filter_map(|json| serde_json::from_str::<banana_core::recipe::Recipe>(json).ok())
                .flat_map(|r| {
                    let mask = r
                        .mask
                        .map(|m| [m.image.sha256, m.original.sha256])
                        .into_iter()
                        .flatten();
                    let guide = r.markup.map(|m| m.guide.sha256);
                    r.inputs
                        .into_iter()
                        .map(|i| i.sha256)
                        .chain(mask)
                        .chain(guide)
                });
            // The reference images of styles and brand kits are kept too.
            let mut stmt = conn.prepare("SELECT body_json FROM prompt_items")?;
            let bodies: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let references: Vec<String> = bodies
                .iter()
                .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                .flat_map(|v| {
                    v["references"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r["sha256"].as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                })
                .collect();
            // A batch's requests not yet sent still need their inputs.
            let mut stmt =
                conn.prepare("SELECT recipe_json FROM batch_items WHERE job_id IS NULL")?;
            let waiting: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let waiting = waiting
                .iter()
                .filter_map(|json| serde_json::from_str::<banana_core::recipe::Recipe>(json).ok())
                .flat_map(|r| r.inputs.into_iter().map(|i| i.sha256));
            let mut known: std::collections::HashSet<String> = images
                .into_iter()
                .chain(parts)
                .chain(inputs)
                .chain(references)
                .chain(waiting)
                .collect();
            // The file an input came from lives as long as the input.
            let mut stmt = conn.prepare("SELECT sha256, original_sha256 FROM input_originals")?;
            let originals: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (input, original) in originals {
                if known.contains(&input) {
                    known.insert(original);
                }
            }
            known
        };
        let now = SystemTime::now();
        let mut removed = 0;
        for kind in [
            "images",
            "thumbs",
            "inputs",
            "trash",
            "trash-thumbs",
            turns::PARTS_DIR,
        ] {
            let Ok(fans) = std::fs::read_dir(self.root.join(kind)) else {
                continue;
            };
            for fan in fans.flatten() {
                let Ok(files) = std::fs::read_dir(fan.path()) else {
                    continue;
                };
                for file in files.flatten() {
                    let path = file.path();
                    let name = file.file_name().to_string_lossy().into_owned();
                    let is_temp = name.starts_with('.') && name.ends_with(".tmp");
                    let sha = name.split('.').next().unwrap_or_default();
                    let orphan = is_temp || !known.contains(sha);
                    if orphan
                        && old_enough(&path, now, min_age)
                        && std::fs::remove_file(&path).is_ok()
                    {
                        tracing::info!("collected orphan file {}", path.display());
                        removed += 1;
                    }
                }
            }
        }
        Ok(removed)
    }
}
