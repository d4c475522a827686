//! Prompt batches: many requests made as one, grouped in the history. A batch keeps
//! every request's recipe from the moment it is made; a request's job is written (and
//! the request marked sent) in one transaction, so a batch cut short by a crash or a
//! closed window goes on from its first unsent request and never sends one twice.

use rusqlite::{OptionalExtension, params};

use super::{JobId, Library, LibraryError, now_ms};
use banana_core::recipe::Recipe;

/// A batch's id in the library.
pub type BatchId = i64;

/// Where a batch is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BatchState {
    /// Requests are being sent.
    Running,
    /// No more are sent until it is resumed (also a batch whose app closed mid-way).
    Paused,
    /// Stopped by the user; the unsent requests never will be.
    Cancelled,
    /// Every request was sent.
    Finished,
}

impl BatchState {
    fn as_str(self) -> &'static str {
        match self {
            BatchState::Running => "running",
            BatchState::Paused => "paused",
            BatchState::Cancelled => "cancelled",
            BatchState::Finished => "finished",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "running" => BatchState::Running,
            "paused" => BatchState::Paused,
            "cancelled" => BatchState::Cancelled,
            _ => BatchState::Finished,
        }
    }
}

/// A batch and how far it has come.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchSummary {
    /// Its id.
    pub id: BatchId,
    /// Its name.
    pub name: String,
    /// When it was made (ms since the Unix epoch).
    pub created_at_ms: i64,
    /// Where it is.
    pub state: BatchState,
    /// Requests in it.
    pub requests: u32,
    /// Requests sent (their jobs written).
    pub sent: u32,
    /// Jobs that ended with images.
    pub succeeded: u32,
    /// Jobs that failed, were cancelled or interrupted.
    pub failed: u32,
    /// Images made.
    pub images: u32,
    /// What its jobs cost, as recorded.
    pub cost_usd: f64,
    /// Sent whole to the provider's batch service (half price, within a day).
    pub deferred: bool,
    /// Its name on the service (`batches/…`), once accepted.
    pub remote: Option<String>,
    /// Where it is on the service: submitting, pending, running, succeeded, failed,
    /// cancelled, expired, unknown.
    pub remote_state: Option<String>,
    /// What the service (or the app) said about it.
    pub remote_note: Option<String>,
    /// What it is expected to cost (deferred: at the batch rate; None in the sandbox).
    pub estimate_usd: Option<f64>,
}

impl BatchSummary {
    /// Jobs sent and not yet ended.
    pub fn running(&self) -> u32 {
        self.sent.saturating_sub(self.succeeded + self.failed)
    }

    /// Requests not yet sent.
    pub fn unsent(&self) -> u32 {
        self.requests.saturating_sub(self.sent)
    }

    /// Requests not yet ended (sent or not).
    pub fn left(&self) -> u32 {
        self.requests.saturating_sub(self.succeeded + self.failed)
    }

    /// How far it has come, in words: "7 of 12 done, 1 failed, 2 running, 3 waiting".
    pub fn in_words(&self) -> String {
        if self.deferred && self.sent == 0 {
            let state = self.remote_state.as_deref().unwrap_or("submitting");
            let plural = if self.requests == 1 { "" } else { "s" };
            let mut words = format!("{} request{plural} at half price", self.requests);
            if let Some(usd) = self.estimate_usd.filter(|u| *u > 0.0) {
                words.push_str(&format!(" (about ${usd:.2})"));
            }
            words.push_str(&format!(" · {state}"));
            if let Some(note) = &self.remote_note {
                words.push_str(&format!(": {note}"));
            }
            return words;
        }
        let mut words = format!("{} of {} done", self.succeeded + self.failed, self.requests);
        if self.failed > 0 {
            words.push_str(&format!(", {} failed", self.failed));
        }
        if self.running() > 0 {
            words.push_str(&format!(", {} running", self.running()));
        }
        match self.state {
            BatchState::Paused if self.unsent() > 0 => {
                words.push_str(&format!(", {} waiting (paused)", self.unsent()));
            }
            BatchState::Cancelled if self.unsent() > 0 => {
                words.push_str(&format!(", {} not sent (cancelled)", self.unsent()));
            }
            _ if self.unsent() > 0 => words.push_str(&format!(", {} waiting", self.unsent())),
            _ => {}
        }
        words
    }

    /// Whether nothing more will happen in it on its own.
    pub fn is_over(&self) -> bool {
        if self.deferred {
            return self.state != BatchState::Running;
        }
        self.running() == 0 && (self.unsent() == 0 || self.state == BatchState::Cancelled)
    }
}

const SUMMARY: &str = "SELECT b.id, b.name, b.created_at, b.state,
        (SELECT COUNT(*) FROM batch_items WHERE batch_id = b.id),
        (SELECT COUNT(*) FROM batch_items WHERE batch_id = b.id AND job_id IS NOT NULL),
        (SELECT COUNT(*) FROM jobs WHERE batch_id = b.id AND state = 'succeeded'),
        (SELECT COUNT(*) FROM jobs WHERE batch_id = b.id
            AND state IN ('failed', 'cancelled', 'interrupted')),
        (SELECT COUNT(*) FROM images JOIN jobs ON images.job_id = jobs.id
            WHERE jobs.batch_id = b.id AND images.deleted_at IS NULL),
        (SELECT COALESCE(SUM(cost_usd), 0) FROM jobs WHERE batch_id = b.id),
        b.deferred, b.remote, b.remote_state, b.remote_note, b.estimate_usd
    FROM batches AS b";

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<BatchSummary> {
    let state: String = r.get(3)?;
    Ok(BatchSummary {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at_ms: r.get(2)?,
        state: BatchState::parse(&state),
        requests: r.get(4)?,
        sent: r.get(5)?,
        succeeded: r.get(6)?,
        failed: r.get(7)?,
        images: r.get(8)?,
        cost_usd: r.get(9)?,
        deferred: r.get(10)?,
        remote: r.get(11)?,
        remote_state: r.get(12)?,
        remote_note: r.get(13)?,
        estimate_usd: r.get(14)?,
    })
}

impl Library {
    /// Records a batch with every request's recipe, running.
    pub fn create_batch(&self, name: &str, recipes: &[Recipe]) -> Result<BatchId, LibraryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO batches (name, created_at, state) VALUES (?1, ?2, 'running')",
            params![name, now_ms()],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO batch_items (batch_id, position, recipe_json) VALUES (?1, ?2, ?3)",
            )?;
            for (position, recipe) in (0_i64..).zip(recipes) {
                insert.execute(params![id, position, serde_json::to_string(recipe)?])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// The first request of a batch not yet sent: its position and recipe.
    pub fn next_unsent(&self, batch: BatchId) -> Result<Option<(u32, Recipe)>, LibraryError> {
        let row: Option<(u32, String)> = self
            .conn()
            .query_row(
                "SELECT position, recipe_json FROM batch_items
                 WHERE batch_id = ?1 AND job_id IS NULL ORDER BY position LIMIT 1",
                [batch],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(position, json)| Ok((position, serde_json::from_str(&json)?)))
            .transpose()
    }

    /// The recipes of a batch's requests not yet sent, in order.
    pub fn unsent_recipes(&self, batch: BatchId) -> Result<Vec<Recipe>, LibraryError> {
        self.batch_recipes(
            "SELECT recipe_json FROM batch_items
             WHERE batch_id = ?1 AND job_id IS NULL ORDER BY position",
            batch,
        )
    }

    /// The recipes a query of one batch's requests (`?1`: the batch) selects.
    pub(crate) fn batch_recipes(
        &self,
        sql: &str,
        batch: BatchId,
    ) -> Result<Vec<Recipe>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql)?;
        let rows: Vec<String> = stmt
            .query_map([batch], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter()
            .map(|json| Ok(serde_json::from_str(json)?))
            .collect()
    }

    /// Writes the job of a batch's request and marks the request sent, in one
    /// transaction: either both are recorded or neither.
    pub fn create_batch_job(
        &self,
        batch: BatchId,
        position: u32,
        recipe: &Recipe,
        sandbox: bool,
    ) -> Result<JobId, LibraryError> {
        let json = serde_json::to_string(recipe)?;
        let session = self.current_session();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO jobs (created_at, updated_at, state, provider, model, prompt, recipe_json, sandbox, session_id, owner, batch_id)
             VALUES (?1, ?1, 'created', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![now_ms(), recipe.provider.as_str(), recipe.model, recipe.prompt, json, sandbox, session, self.owner.id, batch],
        )?;
        let job = tx.last_insert_rowid();
        let marked = tx.execute(
            "UPDATE batch_items SET job_id = ?3 WHERE batch_id = ?1 AND position = ?2 AND job_id IS NULL",
            params![batch, position, job],
        )?;
        if marked != 1 {
            // Sent already (or gone): writing a second job would pay twice.
            return Err(LibraryError::Invalid(format!(
                "request {} of batch {batch} was sent already",
                position + 1
            )));
        }
        tx.commit()?;
        Ok(job)
    }

    /// Sets a batch's state.
    pub fn set_batch_state(&self, batch: BatchId, state: BatchState) -> Result<(), LibraryError> {
        self.conn().execute(
            "UPDATE batches SET state = ?2 WHERE id = ?1",
            params![batch, state.as_str()],
        )?;
        Ok(())
    }

    /// Renames a batch.
    pub fn rename_batch(&self, batch: BatchId, name: &str) -> Result<(), LibraryError> {
        self.conn().execute(
            "UPDATE batches SET name = ?2 WHERE id = ?1",
            params![batch, name],
        )?;
        Ok(())
    }

    /// One batch and how far it has come.
    pub fn batch(&self, batch: BatchId) -> Result<Option<BatchSummary>, LibraryError> {
        Ok(self
            .conn()
            .query_row(&format!("{SUMMARY} WHERE b.id = ?1"), [batch], summary)
            .optional()?)
    }

    /// Every batch, newest first.
    pub fn batches(&self) -> Result<Vec<BatchSummary>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("{SUMMARY} ORDER BY b.id DESC"))?;
        let rows = stmt.query_map([], summary)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The live images a batch made, in request order.
    pub fn batch_images(&self, batch: BatchId) -> Result<Vec<crate::ImageId>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT images.id FROM batch_items
             JOIN images ON images.job_id = batch_items.job_id
             WHERE batch_items.batch_id = ?1 AND images.deleted_at IS NULL
             ORDER BY batch_items.position, images.idx",
        )?;
        let rows = stmt
            .query_map([batch], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// At start-up: a batch left running by a run that ended is paused, to go on when
    /// the user says so (nothing is sent on its own after a restart). Returns how many.
    pub fn pause_interrupted_batches(&self) -> Result<usize, LibraryError> {
        Ok(self.conn().execute(
            "UPDATE batches SET state = CASE
                 WHEN EXISTS (SELECT 1 FROM batch_items WHERE batch_id = batches.id AND job_id IS NULL)
                 THEN 'paused' ELSE 'finished' END
             WHERE state = 'running' AND deferred = 0",
            [],
        )?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{HistoryQuery, JobState};
    use banana_core::recipe::ProviderId;

    fn recipe(prompt: &str) -> Recipe {
        Recipe::new(
            prompt,
            ProviderId::Gemini,
            &banana_core::recipe::Catalog::bundled(),
        )
    }

    #[test]
    fn a_batch_sends_each_request_once_in_order_and_counts_its_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path()).unwrap();
        let id = lib
            .create_batch("Mugs", &[recipe("a"), recipe("b"), recipe("c")])
            .unwrap();
        let (position, first) = lib.next_unsent(id).unwrap().unwrap();
        assert_eq!((position, first.prompt.as_str()), (0, "a"));
        let job = lib.create_batch_job(id, position, &first, true).unwrap();
        assert!(lib.create_batch_job(id, position, &first, true).is_err());
        let (position, second) = lib.next_unsent(id).unwrap().unwrap();
        assert_eq!((position, second.prompt.as_str()), (1, "b"));
        let failed = lib.create_batch_job(id, position, &second, true).unwrap();
        lib.fail_job(failed, banana_core::ErrorKind::Server, "no")
            .unwrap();
        lib.set_state(job, JobState::Running).unwrap();
        let s = lib.batch(id).unwrap().unwrap();
        assert_eq!(
            (
                s.requests,
                s.sent,
                s.succeeded,
                s.failed,
                s.running(),
                s.unsent(),
                s.left()
            ),
            (3, 2, 0, 1, 1, 1, 2)
        );
        assert!(!s.is_over());
        assert_eq!(
            lib.unsent_recipes(id)
                .unwrap()
                .iter()
                .map(|r| r.prompt.as_str())
                .collect::<Vec<_>>(),
            vec!["c"]
        );
        // The history lists the batch's jobs alone.
        lib.create_child_job(&recipe("other"), true, None, None)
            .unwrap();
        let query = HistoryQuery {
            limit: 10,
            batch: Some(id),
            ..HistoryQuery::default()
        };
        let listed: Vec<JobId> = lib
            .generations(&query)
            .unwrap()
            .iter()
            .map(|g| g.job.id)
            .collect();
        assert_eq!(listed, vec![failed, job]);
        assert!(lib.batch_images(id).unwrap().is_empty());
    }

    #[test]
    fn a_batch_left_running_is_paused_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let (unsent, done) = {
            let lib = Library::open(dir.path()).unwrap();
            let unsent = lib.create_batch("Left", &[recipe("a")]).unwrap();
            let done = lib.create_batch("Done", &[recipe("b")]).unwrap();
            let (p, r) = lib.next_unsent(done).unwrap().unwrap();
            lib.create_batch_job(done, p, &r, true).unwrap();
            (unsent, done)
        };
        let lib = Library::open(dir.path()).unwrap();
        assert_eq!(lib.pause_interrupted_batches().unwrap(), 2);
        assert_eq!(
            lib.batch(unsent).unwrap().unwrap().state,
            BatchState::Paused
        );
        assert_eq!(
            lib.batch(done).unwrap().unwrap().state,
            BatchState::Finished
        );
        let names: Vec<String> = lib.batches().unwrap().into_iter().map(|b| b.name).collect();
        assert_eq!(names, vec!["Done", "Left"]);
    }
}
