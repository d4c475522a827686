//! Where it lives: the SQLite index plus content-addressed image files in the data dir.

mod batches;
mod check;
mod culling;
mod deferred;
pub use banana_core::dates;
mod health;
pub mod incoming;
pub use batches::{BatchId, BatchState, BatchSummary};
pub use check::{CheckProgress, CheckReport};
pub use culling::Mark;
pub use deferred::OpenDeferred;
pub mod export;
mod lineage;
mod migrations;
mod owners;
pub mod prompt_files;
pub mod prompts;
mod query;
mod records;
#[cfg(feature = "testing")]
mod sample;
mod sessions;
pub mod store;
mod turns;
pub use turns::LiftReport;

pub use banana_core::media::extension_for;
pub use banana_core::now_ms;
pub use records::{
    Flag, FlagFilter, Generation, HistoryQuery, ImageRecord, JobCost, JobRecord, JobState,
    LineageNode, LineageTree, NewImage, PageKey, Session, SessionId,
};
#[cfg(feature = "testing")]
pub use sample::SampleSpec;
pub use sessions::MAX_SESSION_NAME;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

use banana_core::ErrorKind;
use banana_core::recipe::{InputImage, Recipe};

/// A job's row id.
pub type JobId = i64;
/// An image's row id.
pub type ImageId = i64;

/// Why the library failed.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The database failed.
    #[error("the history database failed: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The database schema could not be brought up to date.
    #[error("the history database could not be upgraded: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A stored file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// Which path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be written or read.
    #[error("could not write to the library folder {path}: {source}")]
    Io {
        /// Which path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored recipe could not be read.
    #[error("a stored recipe is damaged: {0}")]
    Recipe(#[from] serde_json::Error),
    /// A request the library refuses, in words.
    #[error("{0}")]
    Invalid(String),
}

/// A full-text query from what the user typed: every word must appear, as a prefix,
/// with FTS5 syntax characters taken literally. None when nothing searchable is left.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The OS default data folder (e.g. `~/.local/share/bananastudio` on Linux).
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("studio", "banana", "BananaStudio")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("banana-studio-data"))
}

/// What real jobs created since `?1` cost (answered from the `jobs_spend` index alone).
const SPENT_SINCE: &str =
    "SELECT COALESCE(SUM(cost_usd), 0) FROM jobs WHERE created_at >= ?1 AND sandbox = 0";

/// What real jobs of session `?1` cost (answered from `jobs_session_spend` alone).
const SPENT_IN_SESSION: &str =
    "SELECT COALESCE(SUM(cost_usd), 0) FROM jobs WHERE session_id = ?1 AND sandbox = 0";

/// The history: one SQLite database and the files beside it.
pub struct Library {
    root: PathBuf,
    conn: Mutex<Connection>,
    /// The session new jobs go into.
    session: AtomicI64,
    /// This process's claim; its name goes with every job created here.
    owner: owners::OwnerLock,
    /// Whether a process before this one ended without closing the library, so the
    /// database was checked at open.
    after_unclean_close: bool,
}

const JOB_COLUMNS: &str = "id, created_at, state, recipe_json, sandbox, error_kind, error_message, \
                           text, cost_usd, finished_at, retry_of, \
                           COALESCE((SELECT turns_json FROM job_turns WHERE job_id = jobs.id), model_turns_json), \
                           parent_image_id, session_id, credits, same_recipe_of, usage_json, grounding_json";

/// The job columns for listings: the model turns (megabytes for a 4K conversation) are
/// left out; `Library::job` reads them when a refinement needs them.
const JOB_LIST_COLUMNS: &str = "id, created_at, state, recipe_json, sandbox, error_kind, error_message, \
                           text, cost_usd, finished_at, retry_of, NULL, parent_image_id, session_id, credits, same_recipe_of, usage_json, grounding_json";

const IMAGE_COLUMNS: &str = "id, job_id, idx, sha256, mime, width, height, size_bytes, turn_index, \
     rating, flag, favourite, deleted_at, \
     EXISTS (SELECT 1 FROM images AS live WHERE live.sha256 = images.sha256 AND live.deleted_at IS NULL)";

impl Library {
    /// Opens (or creates) the library in `root`, bringing the schema up to date.
    pub fn open(root: &Path) -> Result<Self, LibraryError> {
        let (library, _) = Self::open_checked(root)?;
        Ok(library)
    }

    /// Opens the library, checking the database first. A damaged database is moved aside
    /// as a backup and a new one started; the second value then says so in words.
    pub fn open_checked(root: &Path) -> Result<(Self, Option<String>), LibraryError> {
        std::fs::create_dir_all(root).map_err(|source| LibraryError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let db = root.join(health::DB_FILE);
        let mut notice = None;
        // Reading every page at each start grows with the library. After an unclean close
        // the engine checks in the background with the app already usable; only damage
        // such a check found makes this open read the pages again before use.
        let unclean = owners::unclean_close(root);
        let marker = root.join(check::DAMAGE_MARKER);
        let suspect = marker.exists();
        let damaged = match Connection::open(&db) {
            Ok(conn) => match health::start_up_problem(&conn, suspect) {
                Ok(problem) => problem,
                Err(e) => Some(e.to_string()),
            },
            Err(e) => Some(e.to_string()),
        };
        if suspect {
            // Dealt with now: set aside below, or sound after all.
            let _ = std::fs::remove_file(&marker);
        }
        if let Some(problem) = damaged {
            let backup = health::set_aside(root)?;
            tracing::error!(
                "the history database is damaged ({problem}); kept at {}",
                backup.display()
            );
            notice = Some(format!(
                "The history database was damaged ({problem}). A copy was kept at {} and a new \
                 history started; your image files are untouched.",
                backup.display()
            ));
        }
        let mut conn = Connection::open(&db)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrations().to_latest(&mut conn)?;
        let owner = owners::OwnerLock::claim(root)?;
        owner.sweep();
        let library = Self {
            root: root.to_path_buf(),
            conn: Mutex::new(conn),
            session: AtomicI64::new(0),
            owner,
            after_unclean_close: unclean,
        };
        let current = library.most_recent_session()?;
        library.session.store(current, Ordering::Relaxed);
        Ok((library, notice))
    }

    /// Whether an earlier process ended without closing the library (a crash, a kill,
    /// a power cut), so the database deserves a check ([`Library::quick_check`]).
    pub fn opened_after_unclean_close(&self) -> bool {
        self.after_unclean_close
    }

    /// The data folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent; keep going.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, LibraryError> {
        Ok(self
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Writes a new job in state `Created`; done before anything is sent.
    pub fn create_job(
        &self,
        recipe: &Recipe,
        sandbox: bool,
        retry_of: Option<JobId>,
    ) -> Result<JobId, LibraryError> {
        self.create_child_job(recipe, sandbox, retry_of, None)
    }

    /// Writes a new job that refines `parent_image` (lineage), in state `Created`.
    pub fn create_child_job(
        &self,
        recipe: &Recipe,
        sandbox: bool,
        retry_of: Option<JobId>,
        parent_image: Option<ImageId>,
    ) -> Result<JobId, LibraryError> {
        let json = serde_json::to_string(recipe)?;
        let conn = self.conn();
        conn.execute(
            "INSERT INTO jobs (created_at, updated_at, state, provider, model, prompt, recipe_json, sandbox, retry_of, parent_image_id, session_id, owner)
             VALUES (?1, ?1, 'created', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![now_ms(), recipe.provider.as_str(), recipe.model, recipe.prompt, json, sandbox, retry_of, parent_image, self.current_session(), self.owner.id],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Dollars spent on real (not sandbox) jobs created since `since_ms`.
    pub fn spent_since(&self, since_ms: i64) -> Result<f64, LibraryError> {
        Ok(self
            .conn()
            .query_row(SPENT_SINCE, [since_ms], |r| r.get(0))?)
    }

    /// Dollars spent on real jobs of the current session.
    pub fn spent_in_session(&self) -> Result<f64, LibraryError> {
        let session = self.current_session();
        Ok(self
            .conn()
            .query_row(SPENT_IN_SESSION, [session], |r| r.get(0))?)
    }

    /// Records what a grounded answer looked up.
    pub fn set_grounding(
        &self,
        job: JobId,
        grounding: &banana_core::recipe::Grounding,
    ) -> Result<(), LibraryError> {
        self.conn().execute(
            "UPDATE jobs SET grounding_json = ?2 WHERE id = ?1",
            params![job, serde_json::to_string(grounding)?],
        )?;
        Ok(())
    }

    /// Records that `job` runs the recipe of `origin` on another provider.
    pub fn set_same_recipe_of(&self, job: JobId, origin: JobId) -> Result<(), LibraryError> {
        self.conn().execute(
            "UPDATE jobs SET same_recipe_of = ?2 WHERE id = ?1",
            params![job, origin],
        )?;
        Ok(())
    }

    /// Moves a job to a non-terminal state.
    pub fn set_state(&self, id: JobId, state: JobState) -> Result<(), LibraryError> {
        self.conn().execute(
            "UPDATE jobs SET state = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, state.as_str(), now_ms()],
        )?;
        Ok(())
    }

    /// Ends a job with an error (or as cancelled when `kind` is `Cancelled`).
    pub fn fail_job(&self, id: JobId, kind: ErrorKind, message: &str) -> Result<(), LibraryError> {
        let state = if kind == ErrorKind::Cancelled {
            JobState::Cancelled
        } else {
            JobState::Failed
        };
        let now = now_ms();
        self.conn().execute(
            "UPDATE jobs SET state = ?2, error_kind = ?3, error_message = ?4, updated_at = ?5, finished_at = ?5
             WHERE id = ?1",
            params![id, state.as_str(), kind.as_str(), message, now],
        )?;
        Ok(())
    }

    /// Stores an image file by content; returns its hash and path.
    pub fn put_image_file(
        &self,
        bytes: &[u8],
        mime: &str,
    ) -> Result<(String, PathBuf), LibraryError> {
        store::put(&self.root, "images", extension_for(mime), bytes).map_err(|source| {
            LibraryError::Io {
                path: self.root.join("images"),
                source,
            }
        })
    }

    /// Stores a prepared input image by content; returns its hash.
    pub fn put_input_file(&self, bytes: &[u8], mime: &str) -> Result<String, LibraryError> {
        store::put(&self.root, "inputs", extension_for(mime), bytes)
            .map(|(sha, _)| sha)
            .map_err(|source| LibraryError::Io {
                path: self.root.join("inputs"),
                source,
            })
    }

    /// Reads a stored input image.
    /// Records the file an input was prepared from (kept as it came).
    pub fn record_input_original(
        &self,
        input: &str,
        original: &InputImage,
    ) -> Result<(), LibraryError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO input_originals (sha256, original_sha256, mime, width, height)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                input,
                original.sha256,
                original.mime,
                original.width,
                original.height
            ],
        )?;
        Ok(())
    }

    /// The stored result an input was made from ("Use as input", "Mark up…"), if it
    /// was one and is still live.
    pub fn result_of_input(&self, input: &str) -> Result<Option<ImageId>, LibraryError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row(
                "SELECT images.id FROM input_originals
                 JOIN images ON images.sha256 = input_originals.original_sha256
                 WHERE input_originals.sha256 = ?1 AND images.deleted_at IS NULL
                 ORDER BY images.id LIMIT 1",
                [input],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The file an input was prepared from, when it was kept.
    pub fn input_original(&self, input: &str) -> Result<Option<InputImage>, LibraryError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row(
                "SELECT original_sha256, mime, width, height FROM input_originals WHERE sha256 = ?1",
                [input],
                |r| {
                    Ok(InputImage {
                        sha256: r.get(0)?,
                        mime: r.get(1)?,
                        width: r.get(2)?,
                        height: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn read_input(&self, input: &InputImage) -> Result<Vec<u8>, LibraryError> {
        let path = store::content_path(
            &self.root,
            "inputs",
            &input.sha256,
            extension_for(&input.mime),
        );
        std::fs::read(&path).map_err(|source| LibraryError::Io { path, source })
    }

    /// An input stored earlier, by hash, with its size read from the file.
    pub fn stored_input(&self, sha256: &str) -> Option<InputImage> {
        let dir = self.root.join("inputs").join(sha256.get(..2)?);
        let entry = std::fs::read_dir(dir).ok()?.flatten().find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{sha256}."))
        })?;
        let bytes = std::fs::read(entry.path()).ok()?;
        let (width, height) = banana_imaging::dimensions(&bytes).ok()?;
        let mime = banana_imaging::sniff_mime(&bytes)?.to_owned();
        Some(InputImage {
            sha256: sha256.to_owned(),
            mime,
            width,
            height,
        })
    }

    /// Stores the PNG thumbnail of an image.
    pub fn put_thumbnail(&self, sha256: &str, png: &[u8]) -> Result<PathBuf, LibraryError> {
        let path = store::content_path(&self.root, "thumbs", sha256, "png");
        // A thumbnail is made again from its image when lost, so storing one does not wait
        // for the disk (two syncs less an image).
        store::write_derived(&path, png).map_err(|source| LibraryError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Makes an image's thumbnail from its bytes, in one pass without a full-size copy of
    /// the pixels, and keeps it; the thumbnail's PNG. `Ok(Err)` when the image does not
    /// decode.
    pub fn make_thumbnail(
        &self,
        sha256: &str,
        image: &[u8],
    ) -> Result<Result<Vec<u8>, banana_imaging::ImagingError>, LibraryError> {
        self.make_thumbnail_yielding(sha256, image, &mut || {})
    }

    /// [`Library::make_thumbnail`], calling `yield_now` every few rows of a large PNG
    /// (see [`banana_imaging::inspect_yielding`]).
    pub fn make_thumbnail_yielding(
        &self,
        sha256: &str,
        image: &[u8],
        yield_now: &mut dyn FnMut(),
    ) -> Result<Result<Vec<u8>, banana_imaging::ImagingError>, LibraryError> {
        let png = match banana_imaging::inspect_yielding(image, yield_now) {
            Ok(inspected) => inspected.thumb_png,
            Err(e) => return Ok(Err(e)),
        };
        self.put_thumbnail(sha256, &png)?;
        Ok(Ok(png))
    }

    /// Ends a job successfully with its images, in one transaction.
    pub fn complete_job(
        &self,
        id: JobId,
        images: &[NewImage],
        text: Option<&str>,
        model_turns_json: Option<&str>,
        turn_parts: &[String],
        cost: impl Into<JobCost>,
    ) -> Result<Vec<ImageId>, LibraryError> {
        let cost = cost.into();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms();
        let mut ids = Vec::with_capacity(images.len());
        for (index, image) in images.iter().enumerate() {
            tx.execute(
                "INSERT INTO images (job_id, idx, sha256, mime, width, height, size_bytes, created_at, turn_index)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![id, index as i64, image.sha256, image.mime, image.width, image.height, image.size_bytes as i64, now, image.turn_index],
            )?;
            ids.push(tx.last_insert_rowid());
        }
        tx.execute(
            "UPDATE jobs SET state = 'succeeded', text = ?2, model_turns_json = NULL, cost_usd = ?3,
                 updated_at = ?4, finished_at = ?4, error_kind = NULL, error_message = NULL, credits = ?5,
                 usage_json = ?6
             WHERE id = ?1",
            params![id, text, cost.usd, now, cost.credits,
                    cost.usage.map(|u| serde_json::to_string(&u)).transpose()?],
        )?;
        // Kept apart from the job row, which a history page reads (migration 17).
        match model_turns_json {
            Some(json) => tx.execute(
                "INSERT OR REPLACE INTO job_turns (job_id, turns_json) VALUES (?1, ?2)",
                params![id, json],
            )?,
            None => tx.execute("DELETE FROM job_turns WHERE job_id = ?1", [id])?,
        };
        for sha in turn_parts {
            tx.execute(
                "INSERT OR IGNORE INTO turn_parts (job_id, sha256) VALUES (?1, ?2)",
                params![id, sha],
            )?;
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Marks unfinished jobs whose owner is gone as interrupted; run at start-up.
    /// Jobs another running process (the app, a CLI run) owns are left running.
    /// Returns the ids marked.
    pub fn interrupt_unfinished(&self) -> Result<Vec<JobId>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, owner FROM jobs WHERE state IN ('created', 'running', 'storing')",
        )?;
        let unfinished: Vec<(JobId, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let orphaned: Vec<JobId> = unfinished
            .into_iter()
            .filter(|(_, owner)| {
                owner.as_deref() != Some(self.owner.id.as_str())
                    && !owners::owner_alive(&self.root, owner.as_deref())
            })
            .map(|(id, _)| id)
            .collect();
        for id in &orphaned {
            conn.execute(
                "UPDATE jobs SET state = 'interrupted', error_kind = 'interrupted',
                     error_message = 'The app closed while this job ran; Retry to run it again.',
                     updated_at = ?1, finished_at = ?1
                 WHERE id = ?2 AND state IN ('created', 'running', 'storing')",
                params![now_ms(), id],
            )?;
        }
        Ok(orphaned)
    }

    /// Whether another process changed the database since the last call (SQLite's
    /// `data_version`, which this connection's own writes leave alone).
    pub fn changed_elsewhere(&self, last: &mut Option<i64>) -> Result<bool, LibraryError> {
        let version: i64 = self
            .conn()
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let changed = last.is_some_and(|v| v != version);
        *last = Some(version);
        Ok(changed)
    }

    /// One job.
    pub fn job(&self, id: JobId) -> Result<Option<JobRecord>, LibraryError> {
        let conn = self.conn();
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
        let row = conn.query_row(&sql, [id], raw_job).optional()?;
        row.map(RawJob::into_record).transpose()
    }

    /// One image.
    pub fn image(&self, id: ImageId) -> Result<Option<ImageRecord>, LibraryError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                &format!("SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?1"),
                [id],
                |r| self.image_row(r),
            )
            .optional()?;
        Ok(row)
    }

    pub(crate) fn image_row(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<ImageRecord> {
        let sha256: String = r.get(3)?;
        let mime: String = r.get(4)?;
        let deleted_at_ms: Option<i64> = r.get(12)?;
        // A trashed image's file sits in the trash unless a live copy shares it.
        let shared_live: bool = r.get(13)?;
        let deleted = deleted_at_ms.is_some() && !shared_live;
        Ok(ImageRecord {
            id: r.get(0)?,
            job_id: r.get(1)?,
            index: r.get(2)?,
            path: store::content_path(
                &self.root,
                if deleted { "trash" } else { "images" },
                &sha256,
                extension_for(&mime),
            ),
            thumb_path: store::content_path(
                &self.root,
                if deleted { "trash-thumbs" } else { "thumbs" },
                &sha256,
                "png",
            ),
            sha256,
            mime,
            width: r.get(5)?,
            height: r.get(6)?,
            size_bytes: r.get::<_, i64>(7)? as u64,
            turn_index: r.get(8)?,
            rating: r.get(9)?,
            flag: r.get(10)?,
            favourite: r.get(11)?,
            deleted_at_ms,
        })
    }
}

struct RawJob {
    id: JobId,
    created_at_ms: i64,
    state: String,
    recipe_json: String,
    sandbox: bool,
    error_kind: Option<String>,
    error_message: Option<String>,
    text: Option<String>,
    cost_usd: Option<f64>,
    finished_at_ms: Option<i64>,
    retry_of: Option<JobId>,
    model_turns: Option<String>,
    parent_image_id: Option<ImageId>,
    session_id: Option<SessionId>,
    credits: Option<u32>,
    same_recipe_of: Option<JobId>,
    usage_json: Option<String>,
    grounding_json: Option<String>,
}

fn raw_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawJob> {
    Ok(RawJob {
        id: r.get(0)?,
        created_at_ms: r.get(1)?,
        state: r.get(2)?,
        recipe_json: r.get(3)?,
        sandbox: r.get(4)?,
        error_kind: r.get(5)?,
        error_message: r.get(6)?,
        text: r.get(7)?,
        cost_usd: r.get(8)?,
        finished_at_ms: r.get(9)?,
        retry_of: r.get(10)?,
        model_turns: r.get(11)?,
        parent_image_id: r.get(12)?,
        session_id: r.get(13)?,
        credits: r.get(14)?,
        same_recipe_of: r.get(15)?,
        usage_json: r.get(16)?,
        grounding_json: r.get(17)?,
    })
}

impl RawJob {
    fn into_record(self) -> Result<JobRecord, LibraryError> {
        Ok(JobRecord {
            id: self.id,
            created_at_ms: self.created_at_ms,
            state: JobState::parse(&self.state),
            recipe: serde_json::from_str(&self.recipe_json)?,
            sandbox: self.sandbox,
            error_kind: self.error_kind.as_deref().map(ErrorKind::parse),
            error_message: self.error_message,
            text: self.text,
            cost_usd: self.cost_usd,
            finished_at_ms: self.finished_at_ms,
            retry_of: self.retry_of,
            model_turns: self.model_turns,
            parent_image_id: self.parent_image_id,
            session_id: self.session_id,
            credits: self.credits,
            same_recipe_of: self.same_recipe_of,
            // A usage this version cannot read is left out rather than failing the job.
            usage: self
                .usage_json
                .as_deref()
                .and_then(|u| serde_json::from_str(u).ok()),
            grounding: self
                .grounding_json
                .as_deref()
                .and_then(|g| serde_json::from_str(g).ok()),
        })
    }
}
