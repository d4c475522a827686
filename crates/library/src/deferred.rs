//! Deferred batches: sent whole to the provider's batch service. The batch and its
//! requests are written before anything is sent; the service's name for it is written
//! as soon as it is accepted; each request's job is written (and the request marked
//! sent) with its result, in one transaction, so a restart at any point neither loses a
//! result nor stores one twice, and a batch is never submitted twice.

use rusqlite::{OptionalExtension, params};

use super::batches::BatchId;
use super::{JobId, Library, LibraryError};
use banana_core::recipe::Recipe;

/// A deferred batch still to be followed: its id and its name on the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenDeferred {
    /// Its id.
    pub id: BatchId,
    /// `batches/…`, None while it was being submitted.
    pub remote: Option<String>,
    /// Where it was last seen.
    pub remote_state: Option<String>,
}

impl Library {
    /// Records a deferred batch with every request's recipe and what it is expected to
    /// cost, "submitting".
    pub fn create_deferred_batch(
        &self,
        name: &str,
        recipes: &[Recipe],
        estimate_usd: Option<f64>,
    ) -> Result<BatchId, LibraryError> {
        let id = self.create_batch(name, recipes)?;
        self.conn().execute(
            "UPDATE batches SET deferred = 1, remote_state = 'submitting', estimate_usd = ?2
             WHERE id = ?1",
            params![id, estimate_usd],
        )?;
        Ok(id)
    }

    /// Notes where a deferred batch is on the service (and its name there, once known).
    pub fn set_remote(
        &self,
        batch: BatchId,
        remote: Option<&str>,
        state: &str,
        note: Option<&str>,
    ) -> Result<(), LibraryError> {
        self.conn().execute(
            "UPDATE batches SET remote = COALESCE(?2, remote), remote_state = ?3, remote_note = ?4
             WHERE id = ?1",
            params![batch, remote, state, note],
        )?;
        Ok(())
    }

    /// The deferred batch the service calls `remote`.
    pub fn batch_by_remote(&self, remote: &str) -> Result<Option<BatchId>, LibraryError> {
        Ok(self
            .conn()
            .query_row("SELECT id FROM batches WHERE remote = ?1", [remote], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Deferred batches whose results are not all stored yet.
    pub fn open_deferred(&self) -> Result<Vec<OpenDeferred>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, remote, remote_state FROM batches
             WHERE deferred = 1 AND state = 'running' ORDER BY id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(OpenDeferred {
                    id: r.get(0)?,
                    remote: r.get(1)?,
                    remote_state: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every request of a batch: position, recipe, and its job once written.
    pub fn batch_requests(
        &self,
        batch: BatchId,
    ) -> Result<Vec<(u32, Recipe, Option<JobId>)>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT position, recipe_json, job_id FROM batch_items
             WHERE batch_id = ?1 ORDER BY position",
        )?;
        let rows: Vec<(u32, String, Option<JobId>)> = stmt
            .query_map([batch], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(p, json, job)| Ok((p, serde_json::from_str(&json)?, job)))
            .collect()
    }

    /// The recipes of a batch's requests that made nothing: never stored (expired,
    /// failed as a whole, cancelled, never sent) or whose job failed.
    pub fn failed_requests(&self, batch: BatchId) -> Result<Vec<Recipe>, LibraryError> {
        self.batch_recipes(
            "SELECT i.recipe_json FROM batch_items AS i LEFT JOIN jobs AS j ON j.id = i.job_id
             WHERE i.batch_id = ?1
               AND (i.job_id IS NULL OR j.state IN ('failed', 'cancelled', 'interrupted'))
             ORDER BY i.position",
            batch,
        )
    }

    /// Ends a deferred batch: every result stored (or none will come).
    pub fn close_deferred(
        &self,
        batch: BatchId,
        state: super::BatchState,
        remote_state: &str,
        note: Option<&str>,
    ) -> Result<(), LibraryError> {
        self.set_remote(batch, None, remote_state, note)?;
        self.set_batch_state(batch, state)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::BatchState;
    use banana_core::recipe::ProviderId;

    #[test]
    fn a_deferred_batch_is_followed_until_closed_and_found_by_its_remote_name() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path()).unwrap();
        let catalog = banana_core::recipe::Catalog::bundled();
        let recipes = vec![
            Recipe::new("a", ProviderId::Gemini, &catalog),
            Recipe::new("b", ProviderId::Gemini, &catalog),
        ];
        let id = lib
            .create_deferred_batch("Later", &recipes, Some(0.0671))
            .unwrap();
        let open = lib.open_deferred().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].remote_state.as_deref(), Some("submitting"));
        lib.set_remote(id, Some("batches/7"), "pending", None)
            .unwrap();
        assert_eq!(lib.batch_by_remote("batches/7").unwrap(), Some(id));
        let summary = lib.batch(id).unwrap().unwrap();
        assert!(summary.deferred && !summary.is_over());
        assert_eq!(
            summary.in_words(),
            "2 requests at half price (about $0.07) · pending"
        );
        // A restart does not pause it: it runs on the service's side.
        assert_eq!(lib.pause_interrupted_batches().unwrap(), 0);
        let requests = lib.batch_requests(id).unwrap();
        assert_eq!(requests.len(), 2);
        lib.create_batch_job(id, 1, &requests[1].1, true).unwrap();
        assert!(lib.batch_requests(id).unwrap()[1].2.is_some());
        lib.close_deferred(id, BatchState::Finished, "succeeded", None)
            .unwrap();
        let again: Vec<String> = lib
            .failed_requests(id)
            .unwrap()
            .into_iter()
            .map(|r| r.prompt)
            .collect();
        assert_eq!(again, vec!["a"], "the request that made nothing");
        assert!(lib.open_deferred().unwrap().is_empty());
        assert!(lib.batch(id).unwrap().unwrap().is_over());
    }
}
