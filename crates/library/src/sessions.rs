//! Sessions: named projects. New jobs go into the current one; the history panel lists
//! one session at a time or all of them.

use std::sync::atomic::Ordering;

use rusqlite::{OptionalExtension, params};

use super::{Library, LibraryError, Session, SessionId, now_ms};

/// The longest session name kept.
pub const MAX_SESSION_NAME: usize = 80;

/// A session name as stored: trimmed, one line, capped; empty becomes "Untitled session".
pub fn clean_session_name(name: &str) -> String {
    let one_line: String = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_SESSION_NAME)
        .collect();
    if one_line.is_empty() {
        "Untitled session".to_owned()
    } else {
        one_line
    }
}

/// When a session was last used: its newest job, or its creation. Both listings order by it.
const LAST_USED: &str = "MAX(s.created_at, COALESCE((SELECT MAX(j.created_at) FROM jobs j WHERE j.session_id = s.id), 0))";

impl Library {
    /// Every session, most recently used first, with its counts.
    pub fn sessions(&self) -> Result<Vec<Session>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT s.id, s.name, s.created_at,
                (SELECT COUNT(*) FROM jobs j WHERE j.session_id = s.id),
                (SELECT COUNT(*) FROM images i JOIN jobs j ON i.job_id = j.id
                    WHERE j.session_id = s.id AND i.deleted_at IS NULL),
                {LAST_USED} AS last_used
             FROM sessions s ORDER BY last_used DESC, s.id DESC"
        ))?;
        let sessions = stmt
            .query_map([], |r| {
                Ok(Session {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at_ms: r.get(2)?,
                    jobs: r.get(3)?,
                    images: r.get(4)?,
                    last_used_ms: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(sessions)
    }

    /// The session used most recently (made one if there are none).
    pub(super) fn most_recent_session(&self) -> Result<SessionId, LibraryError> {
        // The order of `sessions`, without counting every image.
        let newest = self
            .conn()
            .query_row(
                &format!(
                    "SELECT s.id FROM sessions s ORDER BY {LAST_USED} DESC, s.id DESC LIMIT 1"
                ),
                [],
                |r| r.get(0),
            )
            .optional()?;
        match newest {
            Some(id) => Ok(id),
            None => self.insert_session("First session"),
        }
    }

    fn insert_session(&self, name: &str) -> Result<SessionId, LibraryError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO sessions (name, created_at) VALUES (?1, ?2)",
            params![clean_session_name(name), now_ms()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Starts a new session and makes it current.
    pub fn create_session(&self, name: &str) -> Result<SessionId, LibraryError> {
        let id = self.insert_session(name)?;
        self.session.store(id, Ordering::Relaxed);
        Ok(id)
    }

    /// Renames a session.
    pub fn rename_session(&self, id: SessionId, name: &str) -> Result<(), LibraryError> {
        self.conn().execute(
            "UPDATE sessions SET name = ?2 WHERE id = ?1",
            params![id, clean_session_name(name)],
        )?;
        Ok(())
    }

    /// The session new jobs go into.
    pub fn current_session(&self) -> SessionId {
        self.session.load(Ordering::Relaxed)
    }

    /// Makes a session current; false when there is no such session.
    pub fn set_current_session(&self, id: SessionId) -> Result<bool, LibraryError> {
        let exists = self
            .conn()
            .query_row("SELECT 1 FROM sessions WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some();
        if exists {
            self.session.store(id, Ordering::Relaxed);
        }
        Ok(exists)
    }

    /// A session by name (case-insensitive), for the CLI.
    pub fn session_named(&self, name: &str) -> Result<Option<Session>, LibraryError> {
        let wanted = clean_session_name(name).to_lowercase();
        Ok(self
            .sessions()?
            .into_iter()
            .find(|s| s.name.to_lowercase() == wanted))
    }
}

#[cfg(test)]
mod tests {
    use super::clean_session_name;

    #[test]
    fn names_are_one_trimmed_capped_line() {
        assert_eq!(
            clean_session_name("  Spring\n campaign  "),
            "Spring campaign"
        );
        assert_eq!(clean_session_name("   "), "Untitled session");
        assert_eq!(clean_session_name(&"é".repeat(200)).chars().count(), 80);
    }
}
