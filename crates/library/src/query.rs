//! Listing history: a page of generations with the filters of the history panel, read
//! in two statements (the page of jobs, then all their images) whatever the page size.

use std::collections::HashMap;

use super::{
    Generation, HistoryQuery, IMAGE_COLUMNS, ImageRecord, JOB_LIST_COLUMNS, JobId, Library,
    LibraryError, RawJob, fts_query, raw_job,
};

/// The image filters, as one SQL condition on `images` (named parameters).
const IMAGE_MATCH: &str = "images.deleted_at IS NULL
    AND (:favourites = 0 OR images.favourite = 1)
    AND images.rating >= :min_rating
    AND (:flag IS NULL OR images.flag = :flag)
    AND (:not_flag IS NULL OR images.flag <> :not_flag)";

impl Library {
    /// Generations, newest first, each with its live images (those matching the image
    /// filters when there are any).
    pub fn generations(&self, query: &HistoryQuery) -> Result<Vec<Generation>, LibraryError> {
        let conn = self.conn();
        let search = query.search.as_deref().and_then(fts_query);
        let needs_images = query.succeeded_only || query.filters_images();
        let (flag, not_flag) = query.flag.sql();
        let mut sql = format!(
            "SELECT {JOB_LIST_COLUMNS} FROM jobs WHERE
                (:session IS NULL OR session_id = :session)
                AND (:provider IS NULL OR provider = :provider)
                AND (:model IS NULL OR model = :model)
                AND (:since IS NULL OR created_at >= :since)
                AND (:until IS NULL OR created_at < :until)
                AND (:succeeded = 0 OR state = 'succeeded')
                AND (:family IS NULL OR id = :family OR same_recipe_of = :family)
                AND (:batch IS NULL OR batch_id = :batch)"
        );
        if needs_images {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM images WHERE images.job_id = jobs.id AND {IMAGE_MATCH})"
            ));
        }
        if search.is_some() {
            sql.push_str(" AND id IN (SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH :search)");
        }
        if query.after.is_some() {
            sql.push_str(" AND (created_at, id) < (:after_at, :after_id)");
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT :limit");
        let mut stmt = conn.prepare_cached(&sql)?;
        let provider = query.provider.map(|p| p.as_str());
        let mut params: Vec<(&str, &dyn rusqlite::ToSql)> = vec![
            (":session", &query.session),
            (":provider", &provider),
            (":model", &query.model),
            (":since", &query.since_ms),
            (":until", &query.until_ms),
            (":succeeded", &query.succeeded_only),
            (":family", &query.same_recipe),
            (":batch", &query.batch),
            (":limit", &query.limit),
        ];
        let after = query.after.map(|k| (k.created_at_ms, k.id));
        if let Some((at, id)) = &after {
            params.push((":after_at", at));
            params.push((":after_id", id));
        }
        let image_params: [(&str, &dyn rusqlite::ToSql); 4] = [
            (":favourites", &query.favourites_only),
            (":min_rating", &query.min_rating),
            (":flag", &flag),
            (":not_flag", &not_flag),
        ];
        if needs_images {
            params.extend(image_params.iter().copied());
        }
        if let Some(search) = &search {
            params.push((":search", search));
        }
        let raws: Vec<RawJob> = stmt
            .query_map(params.as_slice(), raw_job)?
            .collect::<Result<_, _>>()?;
        if raws.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<JobId> = raws.iter().map(|r| r.id).collect();
        let ids_json = serde_json::to_string(&ids)?;
        let mut image_stmt = conn.prepare_cached(&format!(
            "SELECT {IMAGE_COLUMNS} FROM images
             WHERE job_id IN (SELECT value FROM json_each(:jobs)) AND {IMAGE_MATCH}
             ORDER BY job_id, idx"
        ))?;
        let mut image_params: Vec<(&str, &dyn rusqlite::ToSql)> = image_params.to_vec();
        image_params.push((":jobs", &ids_json));
        let mut by_job: HashMap<JobId, Vec<ImageRecord>> = HashMap::new();
        let rows = image_stmt.query_map(image_params.as_slice(), |r| self.image_row(r))?;
        for row in rows {
            let image = row?;
            by_job.entry(image.job_id).or_default().push(image);
        }
        raws.into_iter()
            .map(|raw| {
                let images = by_job.remove(&raw.id).unwrap_or_default();
                Ok(Generation {
                    job: raw.into_record()?,
                    images,
                })
            })
            .collect()
    }

    /// One generation by job id, with its live images.
    pub fn generation(&self, id: JobId) -> Result<Option<Generation>, LibraryError> {
        let Some(job) = self.job(id)? else {
            return Ok(None);
        };
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {IMAGE_COLUMNS} FROM images WHERE job_id = ?1 AND deleted_at IS NULL ORDER BY idx"
        ))?;
        let images = stmt
            .query_map([id], |r| self.image_row(r))?
            .collect::<Result<_, _>>()?;
        Ok(Some(Generation { job, images }))
    }
}
