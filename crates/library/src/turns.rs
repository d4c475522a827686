//! The pictures of model turns, stored once under `parts/` (see
//! `banana_core::turn_parts`). A part that has the same bytes as a stored image is a
//! hard link to it, so it takes no second copy of space, yet survives the image being
//! purged from the trash: a refinement further down the line still needs it.

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use banana_core::turn_parts;

use super::{Library, LibraryError, extension_for, store};

/// The folder of turn pictures in the data folder.
pub(super) const PARTS_DIR: &str = "parts";

/// The background task that lifts pictures out of turns stored by earlier versions.
const LIFT_TASK: &str = "lift_turn_pictures";
/// The compaction that follows it, kept until it succeeds.
const VACUUM_TASK: &str = "vacuum";

/// What [`Library::lift_stored_turns`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiftReport {
    /// Jobs whose turns held pictures and now hold references.
    pub jobs: usize,
    /// Pictures moved out into files.
    pub pictures: usize,
    /// Whether the database file was compacted afterwards.
    pub compacted: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LibraryError + '_ {
    move |source| LibraryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Library {
    fn part_path(&self, sha256: &str) -> PathBuf {
        store::content_path(&self.root, PARTS_DIR, sha256, "bin")
    }

    /// Stores a picture of a model turn by content and returns its hash; `sha256` is the
    /// hash of `bytes`, which the caller has already computed. `same_file` is a stored
    /// file known to hold the same bytes; the part is then a hard link to it (written out
    /// in full only where the file system has no hard links).
    pub fn put_turn_part(
        &self,
        sha256: &str,
        bytes: &[u8],
        same_file: Option<&Path>,
    ) -> Result<String, LibraryError> {
        let sha = sha256.to_owned();
        let path = self.part_path(&sha);
        let complete = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.len() == bytes.len() as u64)
                .unwrap_or(false)
        };
        if complete(&path) {
            return Ok(sha);
        }
        if let Some(source) = same_file.filter(|s| complete(s)) {
            let dir = path.parent().unwrap_or(&self.root);
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            let _ = std::fs::remove_file(&path); // a short leftover of a crash
            if std::fs::hard_link(source, &path).is_ok() {
                return Ok(sha);
            }
        }
        store::write_atomic(&path, bytes).map_err(io(&path))?;
        Ok(sha)
    }

    /// Drops the pictures of turns no image leads to any more (every image of the job
    /// purged): no refinement can reach them, so their space is given back.
    pub(super) fn forget_unreachable_turn_parts(&self) -> Result<usize, LibraryError> {
        let gone: Vec<String> = {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let unreachable = "job_id NOT IN (SELECT job_id FROM images)";
            let shas: Vec<String> = tx
                .prepare(&format!(
                    "SELECT DISTINCT sha256 FROM turn_parts WHERE {unreachable}
                     AND sha256 NOT IN (SELECT sha256 FROM turn_parts WHERE NOT ({unreachable}))"
                ))?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            tx.execute(&format!("DELETE FROM turn_parts WHERE {unreachable}"), [])?;
            tx.commit()?;
            shas
        };
        for sha in &gone {
            let _ = std::fs::remove_file(self.part_path(sha));
        }
        Ok(gone.len())
    }

    /// Puts the pictures back into a stored model turn, as the service sent them.
    pub fn put_back_turn_pictures(&self, turn: &mut Value) -> Result<(), LibraryError> {
        turn_parts::put_back(turn, |reference| match reference {
            turn_parts::Reference::Stored(sha) => {
                let path = self.part_path(sha);
                std::fs::read(&path).map_err(|source| LibraryError::Read { path, source })
            }
            turn_parts::Reference::Placeholder(index) => Err(LibraryError::Read {
                path: self.root.join(PARTS_DIR),
                source: std::io::Error::other(format!(
                    "picture {index} of a model turn was never stored"
                )),
            }),
        })
    }

    /// A stored image file with these bytes, if there is one (live or in the trash).
    fn image_file_of(&self, sha256: &str) -> Option<PathBuf> {
        let mime: String = self
            .conn()
            .query_row(
                "SELECT mime FROM images WHERE sha256 = ?1 LIMIT 1",
                [sha256],
                |r| r.get(0),
            )
            .optional()
            .ok()??;
        let ext = extension_for(&mime);
        ["images", "trash"]
            .into_iter()
            .map(|kind| store::content_path(&self.root, kind, sha256, ext))
            .find(|p| p.exists())
    }

    /// Whether turns stored by an earlier version still hold pictures (or the file is
    /// still to be compacted after they were moved out).
    pub fn has_turns_to_lift(&self) -> Result<bool, LibraryError> {
        Ok(self
            .conn()
            .query_row("SELECT EXISTS (SELECT 1 FROM library_tasks)", [], |r| {
                r.get(0)
            })?)
    }

    /// Moves the pictures out of turns stored by earlier versions, one job per
    /// transaction, so it can stop anywhere (a crash, the app closing) and go on at
    /// the next start; nothing is lost and a job half done does not exist. Then compacts
    /// the database once. Turns already without pictures are left as they are.
    pub fn lift_stored_turns(&self) -> Result<LiftReport, LibraryError> {
        let mut report = LiftReport::default();
        loop {
            let next: Option<(i64, String)> = {
                let conn = self.conn();
                let progress: Option<i64> = conn
                    .query_row(
                        "SELECT progress FROM library_tasks WHERE name = ?1",
                        [LIFT_TASK],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(progress) = progress else { break };
                let next = conn
                    .query_row(
                        "SELECT id, model_turns_json FROM jobs
                         WHERE id > ?1 AND model_turns_json IS NOT NULL ORDER BY id LIMIT 1",
                        [progress],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if next.is_none() {
                    conn.execute(
                        "UPDATE library_tasks SET name = ?2, progress = 0 WHERE name = ?1",
                        params![LIFT_TASK, VACUUM_TASK],
                    )?;
                }
                next
            };
            let Some((job, json)) = next else { break };
            let lifted = self.lift_job(job, &json)?;
            if lifted > 0 {
                report.jobs += 1;
                report.pictures += lifted;
            }
        }
        let vacuum_due: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM library_tasks WHERE name = ?1)",
            [VACUUM_TASK],
            |r| r.get(0),
        )?;
        if vacuum_due {
            let conn = self.conn();
            conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
            conn.execute("DELETE FROM library_tasks WHERE name = ?1", [VACUUM_TASK])?;
            report.compacted = true;
        }
        Ok(report)
    }

    /// Lifts the pictures out of one job's turns; returns how many there were.
    fn lift_job(&self, job: i64, json: &str) -> Result<usize, LibraryError> {
        let mut parts = Vec::new();
        let mut rewritten = None;
        match serde_json::from_str::<Vec<Value>>(json) {
            Ok(mut turns) => {
                for turn in &mut turns {
                    let pictures = turn_parts::lift(turn);
                    let mut shas = Vec::with_capacity(pictures.len());
                    for bytes in pictures {
                        let sha = store::sha256_hex(&bytes);
                        let same = self.image_file_of(&sha);
                        shas.push(self.put_turn_part(&sha, &bytes, same.as_deref())?);
                    }
                    // Every placeholder was just numbered and stored, so this holds.
                    let _ = turn_parts::seal(turn, &shas);
                    parts.extend(shas);
                }
                if !parts.is_empty() {
                    rewritten = Some(serde_json::to_string(&turns)?);
                }
            }
            // Turns that do not read are left exactly as they are; a refine says so.
            Err(e) => tracing::warn!("job {job}: stored model turns do not read ({e})"),
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Some(json) = &rewritten {
            tx.execute(
                "UPDATE jobs SET model_turns_json = ?2 WHERE id = ?1",
                params![job, json],
            )?;
        }
        for sha in &parts {
            tx.execute(
                "INSERT OR IGNORE INTO turn_parts (job_id, sha256) VALUES (?1, ?2)",
                params![job, sha],
            )?;
        }
        tx.execute(
            "UPDATE library_tasks SET progress = ?2 WHERE name = ?1",
            params![LIFT_TASK, job],
        )?;
        tx.commit()?;
        Ok(parts.len())
    }
}
