//! Numbered schema migrations; each one is append-only once released.

use rusqlite_migration::{M, Migrations};

/// Every migration, oldest first.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        // 1: jobs and their images.
        M::up(
            "CREATE TABLE jobs (
                id INTEGER PRIMARY KEY,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                state TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                prompt TEXT NOT NULL,
                recipe_json TEXT NOT NULL,
                sandbox INTEGER NOT NULL DEFAULT 0,
                error_kind TEXT,
                error_message TEXT,
                text TEXT,
                model_turns_json TEXT,
                cost_usd REAL,
                finished_at INTEGER,
                retry_of INTEGER REFERENCES jobs(id) ON DELETE SET NULL
            );
            CREATE INDEX jobs_created ON jobs(created_at DESC);
            CREATE INDEX jobs_state ON jobs(state);
            CREATE TABLE images (
                id INTEGER PRIMARY KEY,
                job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                idx INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                mime TEXT NOT NULL,
                width INTEGER NOT NULL,
                height INTEGER NOT NULL,
                size_bytes INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                UNIQUE (job_id, idx)
            );
            CREATE INDEX images_sha ON images(sha256);",
        ),
        // 2: lineage (the image a job refines) and which model turn each image came in.
        M::up(
            "ALTER TABLE jobs ADD COLUMN parent_image_id INTEGER REFERENCES images(id) ON DELETE SET NULL;
            ALTER TABLE images ADD COLUMN turn_index INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX jobs_parent ON jobs(parent_image_id);",
        ),
        // 3: culling (rating, pick/reject, favourite), the trash, and prompt search.
        M::up(
            "ALTER TABLE images ADD COLUMN rating INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE images ADD COLUMN flag INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE images ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE images ADD COLUMN deleted_at INTEGER;
            CREATE INDEX images_deleted ON images(deleted_at);
            CREATE VIRTUAL TABLE jobs_fts USING fts5(prompt, content='jobs', content_rowid='id');
            INSERT INTO jobs_fts(rowid, prompt) SELECT id, prompt FROM jobs;
            CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
                INSERT INTO jobs_fts(rowid, prompt) VALUES (new.id, new.prompt);
            END;
            CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
                INSERT INTO jobs_fts(jobs_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
            END;",
        ),
        // 4: sessions (named projects) and the indexes the filters and paging lean on.
        M::up(
            "CREATE TABLE sessions (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            INSERT INTO sessions (id, name, created_at)
                SELECT 1, 'First session', COALESCE(MIN(created_at), CAST(strftime('%s', 'now') AS INTEGER) * 1000) FROM jobs;
            ALTER TABLE jobs ADD COLUMN session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL;
            UPDATE jobs SET session_id = 1;
            CREATE INDEX jobs_session ON jobs(session_id, created_at DESC);
            CREATE INDEX jobs_provider_model ON jobs(provider, model);
            CREATE INDEX images_job_live ON images(job_id, deleted_at);",
        ),
        // 5: credits charged (Vydra), and the job whose recipe another provider re-ran.
        M::up(
            "ALTER TABLE jobs ADD COLUMN credits INTEGER;
            ALTER TABLE jobs ADD COLUMN same_recipe_of INTEGER REFERENCES jobs(id) ON DELETE SET NULL;
            CREATE INDEX jobs_same_recipe ON jobs(same_recipe_of);",
        ),
        // 6: which process runs a job (its owner lock under owners/), so a second
        // process starting leaves the first one's live jobs alone.
        M::up("ALTER TABLE jobs ADD COLUMN owner TEXT;"),
        // 7: the error kind is a typed value (`ErrorKind`). Every ended job that is not a
        // success gets a kind the type can read; a name it cannot read (from a hand-edited
        // file or an older build) becomes `server`, with the old name kept in the message.
        M::up(
            "UPDATE jobs SET error_kind = 'cancelled' WHERE state = 'cancelled' AND error_kind IS NULL;
            UPDATE jobs SET error_kind = 'interrupted' WHERE state = 'interrupted' AND error_kind IS NULL;
            UPDATE jobs SET error_kind = 'server' WHERE state = 'failed' AND error_kind IS NULL;
            UPDATE jobs SET
                error_message = COALESCE(error_message, '') || ' (stored kind: ' || error_kind || ')',
                error_kind = 'server'
            WHERE error_kind IS NOT NULL AND error_kind NOT IN (
                'invalid_input', 'auth', 'rate_limited', 'refused', 'model_not_found', 'network',
                'server', 'timeout', 'bad_response', 'storage', 'cancelled', 'interrupted');
            UPDATE jobs SET error_kind = NULL WHERE state = 'succeeded';",
        ),
        // 8: model turns without pixels. Each picture of a turn is a file under parts/
        // and the turn holds its hash; `turn_parts` says which job needs which file.
        // Turns stored before hold their base64 still: a task in the background lifts
        // them out job by job (`library_tasks` keeps its place), then compacts the file.
        // And the index history pages walk: newest first, the next page after a key.
        M::up(
            "CREATE TABLE turn_parts (
                job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                sha256 TEXT NOT NULL,
                PRIMARY KEY (job_id, sha256)
            ) WITHOUT ROWID;
            CREATE INDEX turn_parts_sha ON turn_parts(sha256);
            CREATE INDEX jobs_page ON jobs(created_at DESC, id DESC);
            CREATE TABLE library_tasks (
                name TEXT PRIMARY KEY,
                progress INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID;
            INSERT INTO library_tasks (name, progress)
                SELECT 'lift_turn_pictures', 0
                WHERE EXISTS (SELECT 1 FROM jobs WHERE model_turns_json IS NOT NULL);",
        ),
        // 9: the prompt library: templates, saved prompts, styles and brand kits.
        M::up(
            "CREATE TABLE prompt_items (
                kind TEXT NOT NULL CHECK (kind IN ('template', 'saved', 'style', 'brand')),
                name TEXT NOT NULL,
                body_json TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (kind, name)
            ) WITHOUT ROWID;",
        ),
        // 10: prompt batches. A batch keeps every request's recipe from the start, so
        // one paused or cut short by a closed window can go on later; a request's job
        // is written when it is sent, and the job names its batch for the history.
        M::up(
            "CREATE TABLE batches (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                state TEXT NOT NULL
                    CHECK (state IN ('running', 'paused', 'cancelled', 'finished'))
            );
            CREATE TABLE batch_items (
                batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                recipe_json TEXT NOT NULL,
                job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
                PRIMARY KEY (batch_id, position)
            ) WITHOUT ROWID;
            ALTER TABLE jobs ADD COLUMN batch_id INTEGER REFERENCES batches(id) ON DELETE SET NULL;
            CREATE INDEX jobs_batch ON jobs(batch_id) WHERE batch_id IS NOT NULL;",
        ),
        // 11: the file an input was prepared from. An input is sent bounded and
        // re-encoded; a masked edit puts the answer back into the photo as it came, at
        // its own size and without a second lossy step, so that is kept too.
        M::up(
            "CREATE TABLE input_originals (
                sha256 TEXT PRIMARY KEY,
                original_sha256 TEXT NOT NULL,
                mime TEXT NOT NULL,
                width INTEGER NOT NULL,
                height INTEGER NOT NULL
            ) WITHOUT ROWID;",
        ),
        // 12: reference sets join the prompt library (a kind its check did not allow).
        M::up(
            "CREATE TABLE prompt_items_new (
                kind TEXT NOT NULL
                    CHECK (kind IN ('template', 'saved', 'style', 'brand', 'refset')),
                name TEXT NOT NULL,
                body_json TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (kind, name)
            ) WITHOUT ROWID;
            INSERT INTO prompt_items_new SELECT kind, name, body_json, updated_at FROM prompt_items;
            DROP TABLE prompt_items;
            ALTER TABLE prompt_items_new RENAME TO prompt_items;",
        ),
        // 13: what a job used, as the service reported it (tokens by kind, as JSON).
        M::up("ALTER TABLE jobs ADD COLUMN usage_json TEXT;"),
        // 14: what a grounded answer looked up (sources, searches, suggestions, as JSON).
        M::up("ALTER TABLE jobs ADD COLUMN grounding_json TEXT;"),
        // 15: deferred batches (the Gemini Batch API). The batch is written with its
        // requests before it is sent; `remote` names it on the service once it was
        // accepted; its requests' jobs are written when their results are stored.
        M::up(
            "ALTER TABLE batches ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE batches ADD COLUMN remote TEXT;
            ALTER TABLE batches ADD COLUMN remote_state TEXT;
            ALTER TABLE batches ADD COLUMN remote_note TEXT;
            ALTER TABLE batches ADD COLUMN estimate_usd REAL;
            CREATE UNIQUE INDEX batches_remote ON batches(remote) WHERE remote IS NOT NULL;",
        ),
        // 16: what was spent, read from small indexes alone. The spend the window shows
        // at start read every job row (recipes, answers' text, signatures) for its cost:
        // a start-up that grew with the library.
        M::up(
            "CREATE INDEX jobs_spend ON jobs(created_at, cost_usd) WHERE sandbox = 0;
            CREATE INDEX jobs_session_spend ON jobs(session_id, cost_usd) WHERE sandbox = 0;",
        ),
        // 17: model turns in a table of their own. A turn's thought signatures are tens
        // of kilobytes, so a job row holding them spilled onto overflow pages, and every
        // column after it (the session a history page filters on, its cost, its usage)
        // was read by walking that chain: a start-up that grew with the conversations.
        // Turns stored before are moved job by job in the background (`library_tasks`),
        // never all at open; until then a job's turns are read from whichever holds them.
        M::up(
            "CREATE TABLE job_turns (
                job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
                turns_json TEXT NOT NULL
            );
            INSERT INTO library_tasks (name, progress)
                SELECT 'move_turns', 0
                WHERE EXISTS (SELECT 1 FROM jobs WHERE model_turns_json IS NOT NULL);",
        ),
    ])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }

    /// What was spent is read from an index alone, never from the job rows.
    #[test]
    fn spend_is_read_from_covering_indexes() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        for (sql, index) in [
            (super::super::SPENT_SINCE, "jobs_spend"),
            (super::super::SPENT_IN_SESSION, "jobs_session_spend"),
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([0], |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(
                plan.iter()
                    .any(|step| step.contains(&format!("USING COVERING INDEX {index}"))),
                "{sql}: {plan:?}"
            );
        }
    }

    /// Every name `ErrorKind` writes survives migration 7 unchanged.
    #[test]
    fn migration_7_keeps_every_error_kind() {
        use banana_core::ErrorKind;
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 6).unwrap();
        for (id, kind) in ErrorKind::ALL.into_iter().enumerate() {
            conn.execute(
                "INSERT INTO jobs (id, created_at, updated_at, state, provider, model, prompt, recipe_json, error_kind)
                 VALUES (?1, 0, 0, 'failed', 'gemini', 'm', 'p', '{}', ?2)",
                rusqlite::params![id as i64 + 1, kind.as_str()],
            )
            .unwrap();
        }
        super::migrations().to_latest(&mut conn).unwrap();
        let kinds: Vec<String> = conn
            .prepare("SELECT error_kind FROM jobs ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want: Vec<String> = ErrorKind::ALL
            .iter()
            .map(|k| k.as_str().to_owned())
            .collect();
        assert_eq!(kinds, want);
    }

    #[test]
    fn migration_7_types_stored_kinds() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 6).unwrap();
        conn.execute_batch(
            "INSERT INTO jobs (id, created_at, updated_at, state, provider, model, prompt, recipe_json, error_kind, error_message)
             VALUES (1, 0, 0, 'failed', 'gemini', 'm', 'p', '{}', 'refused', 'blocked'),
                    (2, 0, 0, 'failed', 'gemini', 'm', 'p', '{}', 'Quota', 'slow down'),
                    (3, 0, 0, 'cancelled', 'gemini', 'm', 'p', '{}', NULL, NULL),
                    (4, 0, 0, 'failed', 'gemini', 'm', 'p', '{}', NULL, 'odd'),
                    (5, 0, 0, 'succeeded', 'gemini', 'm', 'p', '{}', 'auth', NULL);",
        )
        .unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let rows: Vec<(Option<String>, Option<String>)> = conn
            .prepare("SELECT error_kind, error_message FROM jobs ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            rows,
            vec![
                (s("refused"), s("blocked")),
                (s("server"), s("slow down (stored kind: Quota)")),
                (s("cancelled"), None),
                (s("server"), s("odd")),
                (None, None),
            ]
        );
    }
}
