//! Culling: ratings, pick/reject, favourites, and the trash (with undo and an explicit
//! empty). Trashed files move to `trash/` unless a live image shares the same content.

use std::path::PathBuf;

use rusqlite::{OptionalExtension, params};

use super::{Flag, ImageId, Library, LibraryError, extension_for, now_ms, store};

/// A change to one image's culling marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Stars, 0 (none) to 5.
    Rating(u8),
    /// Picked, rejected or neither.
    Flag(Flag),
    /// Favourite or not.
    Favourite(bool),
}

impl Library {
    /// Whether a live (not trashed) image uses this content.
    pub(super) fn is_live_sha(&self, sha256: &str) -> bool {
        self.conn()
            .query_row(
                "SELECT 1 FROM images WHERE sha256 = ?1 AND deleted_at IS NULL LIMIT 1",
                [sha256],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .unwrap_or(true)
    }

    /// Sets a culling mark.
    pub fn mark(&self, image: ImageId, mark: Mark) -> Result<(), LibraryError> {
        let conn = self.conn();
        match mark {
            Mark::Rating(r) => conn.execute(
                "UPDATE images SET rating = ?2 WHERE id = ?1",
                params![image, r.min(5)],
            )?,
            Mark::Flag(f) => conn.execute(
                "UPDATE images SET flag = ?2 WHERE id = ?1",
                params![image, f],
            )?,
            Mark::Favourite(f) => conn.execute(
                "UPDATE images SET favourite = ?2 WHERE id = ?1",
                params![image, f],
            )?,
        };
        Ok(())
    }

    fn sha_and_mime(&self, image: ImageId) -> Result<Option<(String, String)>, LibraryError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT sha256, mime FROM images WHERE id = ?1",
                [image],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn paths(&self, sha: &str, mime: &str, trashed: bool) -> (PathBuf, PathBuf) {
        let (images, thumbs) = if trashed {
            ("trash", "trash-thumbs")
        } else {
            ("images", "thumbs")
        };
        (
            store::content_path(&self.root, images, sha, extension_for(mime)),
            store::content_path(&self.root, thumbs, sha, "png"),
        )
    }

    fn move_files(&self, sha: &str, mime: &str, to_trash: bool) -> Result<(), LibraryError> {
        let (from_image, from_thumb) = self.paths(sha, mime, !to_trash);
        let (to_image, to_thumb) = self.paths(sha, mime, to_trash);
        for (from, to) in [(from_image, to_image), (from_thumb, to_thumb)] {
            if from.exists() {
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| LibraryError::Io {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                std::fs::rename(&from, &to).map_err(|source| LibraryError::Io {
                    path: from.clone(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Moves images to the trash; they leave the gallery until restored.
    pub fn trash(&self, images: &[ImageId]) -> Result<(), LibraryError> {
        for &image in images {
            let Some((sha, mime)) = self.sha_and_mime(image)? else {
                continue;
            };
            self.conn().execute(
                "UPDATE images SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
                params![image, now_ms()],
            )?;
            if !self.is_live_sha(&sha) {
                self.move_files(&sha, &mime, true)?;
            }
        }
        Ok(())
    }

    /// Brings trashed images back (Undo).
    pub fn restore(&self, images: &[ImageId]) -> Result<(), LibraryError> {
        for &image in images {
            let Some((sha, mime)) = self.sha_and_mime(image)? else {
                continue;
            };
            if !self.is_live_sha(&sha) {
                self.move_files(&sha, &mime, false)?;
            }
            self.conn()
                .execute("UPDATE images SET deleted_at = NULL WHERE id = ?1", [image])?;
        }
        Ok(())
    }

    /// Deletes everything in the trash for good; returns how many images went.
    pub fn empty_trash(&self) -> Result<usize, LibraryError> {
        let trashed: Vec<(ImageId, String, String)> = {
            let conn = self.conn();
            let mut stmt =
                conn.prepare("SELECT id, sha256, mime FROM images WHERE deleted_at IS NOT NULL")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?
        };
        self.conn()
            .execute("DELETE FROM images WHERE deleted_at IS NOT NULL", [])?;
        for (_, sha, mime) in &trashed {
            if !self.is_live_sha(sha) {
                let (image, thumb) = self.paths(sha, mime, true);
                let _ = std::fs::remove_file(image);
                let _ = std::fs::remove_file(thumb);
            }
        }
        if !trashed.is_empty() {
            self.forget_unreachable_turn_parts()?;
        }
        Ok(trashed.len())
    }
}
