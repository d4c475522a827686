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
/// The background task that moves turns out of the job rows (migration 17).
const MOVE_TASK: &str = "move_turns";
/// How many jobs' turns one transaction of that move takes.
const MOVE_BATCH: i64 = 64;
/// The compaction that follows them, kept until it succeeds.
const VACUUM_TASK: &str = "vacuum";

/// What [`Library::lift_stored_turns`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiftReport {
    /// Jobs whose turns held pictures and now hold references.
    pub jobs: usize,
    /// Pictures moved out into files.
    pub pictures: usize,
    /// Jobs whose turns moved out of the job row into `job_turns`.
    pub moved: usize,
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

    /// Brings turns stored by earlier versions to today's form: first the pictures are
    /// moved out of them, one job per transaction, then the turns out of the job rows,
    /// a few dozen jobs per transaction. Either can stop anywhere (a crash, the app
    /// closing) and goes on at the next start; nothing is lost and a job half done does
    /// not exist. Then compacts the database once. Turns already without pictures are
    /// left as they are.
    pub fn lift_stored_turns(&self) -> Result<LiftReport, LibraryError> {
        let mut report = LiftReport::default();
        self.lift_pictures(&mut report)?;
        report.moved = self.move_turns()?;
        let vacuum_due = Self::task_progress(&self.conn(), VACUUM_TASK)?.is_some();
        if vacuum_due {
            let conn = self.conn();
            conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
            conn.execute("DELETE FROM library_tasks WHERE name = ?1", [VACUUM_TASK])?;
            report.compacted = true;
        }
        Ok(report)
    }

    /// Moves turns out of the job rows into `job_turns`. The pictures are lifted out
    /// first, since that reads and rewrites the turns where they are.
    fn move_turns(&self) -> Result<usize, LibraryError> {
        let mut moved = 0;
        loop {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let Some(progress) = Self::task_progress(&tx, MOVE_TASK)? else {
                break;
            };
            let (last, count): (Option<i64>, u32) = tx.query_row(
                "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM jobs
                     WHERE id > ?1 AND model_turns_json IS NOT NULL ORDER BY id LIMIT ?2)",
                params![progress, MOVE_BATCH],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            match last {
                Some(last) => {
                    let range = "id > ?1 AND id <= ?2 AND model_turns_json IS NOT NULL";
                    // A job already in `job_turns` keeps that (it is what is read).
                    tx.execute(
                        &format!(
                            "INSERT OR IGNORE INTO job_turns (job_id, turns_json)
                             SELECT id, model_turns_json FROM jobs WHERE {range}"
                        ),
                        params![progress, last],
                    )?;
                    tx.execute(
                        &format!("UPDATE jobs SET model_turns_json = NULL WHERE {range}"),
                        params![progress, last],
                    )?;
                    tx.execute(
                        "UPDATE library_tasks SET progress = ?2 WHERE name = ?1",
                        params![MOVE_TASK, last],
                    )?;
                    moved += count as usize;
                }
                None => Self::finish_task(&tx, MOVE_TASK)?,
            }
            tx.commit()?;
            if last.is_none() {
                break;
            }
        }
        Ok(moved)
    }

    /// How far a background task has come, if it is still to do.
    fn task_progress(conn: &rusqlite::Connection, task: &str) -> Result<Option<i64>, LibraryError> {
        Ok(conn
            .query_row(
                "SELECT progress FROM library_tasks WHERE name = ?1",
                [task],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Ends a conversion task; the compaction after it is due.
    fn finish_task(conn: &rusqlite::Connection, task: &str) -> Result<(), LibraryError> {
        conn.execute("DELETE FROM library_tasks WHERE name = ?1", [task])?;
        conn.execute(
            "INSERT OR IGNORE INTO library_tasks (name, progress) VALUES (?1, 0)",
            [VACUUM_TASK],
        )?;
        Ok(())
    }

    /// Lifts the pictures out of turns still in the job rows, one job per transaction.
    fn lift_pictures(&self, report: &mut LiftReport) -> Result<(), LibraryError> {
        loop {
            let next: Option<(i64, String)> = {
                let conn = self.conn();
                let Some(progress) = Self::task_progress(&conn, LIFT_TASK)? else {
                    break;
                };
                let next = conn
                    .query_row(
                        "SELECT id, model_turns_json FROM jobs
                         WHERE id > ?1 AND model_turns_json IS NOT NULL ORDER BY id LIMIT 1",
                        [progress],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if next.is_none() {
                    Self::finish_task(&conn, LIFT_TASK)?;
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
        Ok(())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use banana_core::recipe::{Catalog, ProviderId, Recipe};

    /// A library the previous version wrote (schema 16): turns without pictures, kept
    /// in the job rows; some jobs have none.
    fn schema_16_library(dir: &Path, jobs: i64) {
        let mut conn = rusqlite::Connection::open(dir.join(super::super::health::DB_FILE)).unwrap();
        crate::migrations::migrations()
            .to_version(&mut conn, 16)
            .unwrap();
        let recipe = serde_json::to_string(&Recipe::new(
            "a kite",
            ProviderId::Gemini,
            &Catalog::bundled(),
        ))
        .unwrap();
        for id in 1..=jobs {
            let turns = (id % 3 != 0).then(|| turns_of(id));
            conn.execute(
                "INSERT INTO jobs (id, created_at, updated_at, state, provider, model, prompt,
                                   recipe_json, model_turns_json)
                 VALUES (?1, ?1, ?1, 'succeeded', 'gemini', 'm', 'a kite', ?2, ?3)",
                params![id, recipe, turns],
            )
            .unwrap();
        }
    }

    fn turns_of(job: i64) -> String {
        format!(
            r#"[{{"role":"model","parts":[{{"text":"job {job}","thoughtSignature":"c2ln{job}"}}]}}]"#
        )
    }

    #[test]
    fn turns_leave_the_job_rows_in_the_background_and_read_the_same_throughout() {
        let dir = tempfile::tempdir().unwrap();
        // More jobs than one transaction of the move takes.
        let jobs = MOVE_BATCH * 2 + 7;
        schema_16_library(dir.path(), jobs);
        let library = Library::open(dir.path()).unwrap();
        let read_all = |library: &Library| -> Vec<Option<String>> {
            (1..=jobs)
                .map(|id| library.job(id).unwrap().unwrap().model_turns)
                .collect()
        };
        let want: Vec<Option<String>> = (1..=jobs)
            .map(|id| (id % 3 != 0).then(|| turns_of(id)))
            .collect();
        assert_eq!(
            read_all(&library),
            want,
            "read from the rows before the move"
        );
        assert!(library.has_turns_to_lift().unwrap());

        let report = library.lift_stored_turns().unwrap();
        let holding = want.iter().flatten().count();
        assert_eq!((report.jobs, report.moved), (0, holding));
        assert!(report.compacted);
        assert!(!library.has_turns_to_lift().unwrap());
        assert_eq!(read_all(&library), want, "read from job_turns after it");
        let left: i64 = library
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM jobs WHERE model_turns_json IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
        assert_eq!(library.lift_stored_turns().unwrap(), LiftReport::default());
    }

    #[test]
    fn a_move_cut_short_goes_on_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = MOVE_BATCH * 3;
        schema_16_library(dir.path(), jobs);
        let library = Library::open(dir.path()).unwrap();
        // As if the app closed after the first transaction of the move.
        {
            let conn = library.conn();
            conn.execute_batch(&format!(
                "INSERT INTO job_turns SELECT id, model_turns_json FROM jobs
                     WHERE id <= {MOVE_BATCH} AND model_turns_json IS NOT NULL;
                 UPDATE jobs SET model_turns_json = NULL WHERE id <= {MOVE_BATCH};
                 UPDATE library_tasks SET progress = {MOVE_BATCH} WHERE name = '{MOVE_TASK}';"
            ))
            .unwrap();
        }
        drop(library);
        let library = Library::open(dir.path()).unwrap();
        let report = library.lift_stored_turns().unwrap();
        let rest = (MOVE_BATCH + 1..=jobs).filter(|id| id % 3 != 0).count();
        assert_eq!(report.moved, rest);
        for id in 1..=jobs {
            let turns = library.job(id).unwrap().unwrap().model_turns;
            assert_eq!(turns, (id % 3 != 0).then(|| turns_of(id)), "job {id}");
        }
    }
}
