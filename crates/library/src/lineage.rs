//! Lineage: which image a job refined, read up to where the line began and down through
//! every refinement, as a tree the history panel draws.

use std::collections::HashSet;

use rusqlite::OptionalExtension;

use super::{IMAGE_COLUMNS, ImageId, JobId, Library, LibraryError, LineageNode, LineageTree};

/// The most images a tree lists; a longer family says how many were left out.
pub const MAX_LINEAGE_NODES: usize = 400;

/// The most steps walked up to find where a line began.
const MAX_DEPTH: usize = 10_000;

impl Library {
    /// The job an image came from and the image that job refined.
    fn job_and_parent(
        &self,
        image: ImageId,
    ) -> Result<Option<(JobId, Option<ImageId>)>, LibraryError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT images.job_id, jobs.parent_image_id FROM images
                 JOIN jobs ON jobs.id = images.job_id WHERE images.id = ?1",
                [image],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// The images of one job as tree nodes (trashed ones included, so a line is never
    /// cut), with the job's prompt and model.
    fn job_nodes(
        &self,
        job: JobId,
        depth: u32,
        parent: Option<ImageId>,
    ) -> Result<Vec<LineageNode>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {IMAGE_COLUMNS},
                 (SELECT prompt FROM jobs WHERE jobs.id = images.job_id),
                 (SELECT model FROM jobs WHERE jobs.id = images.job_id),
                 (SELECT json_extract(recipe_json, '$.final_of') IS NOT NULL
                    FROM jobs WHERE jobs.id = images.job_id)
             FROM images WHERE job_id = ?1 ORDER BY idx"
        ))?;
        let nodes = stmt
            .query_map([job], |r| {
                Ok(LineageNode {
                    image: self.image_row(r)?,
                    prompt: r.get(14)?,
                    model: r.get(15)?,
                    depth,
                    parent,
                    is_final: r.get(16)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(nodes)
    }

    /// The jobs that refined an image, oldest first.
    fn child_jobs(&self, image: ImageId) -> Result<Vec<JobId>, LibraryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM jobs WHERE parent_image_id = ?1 ORDER BY created_at, id",
        )?;
        let ids = stmt
            .query_map([image], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// The lineage tree around an image: its line's first generation, then each image
    /// followed by the images of the jobs that refined it (preorder). Parent, siblings
    /// and children of `image` are all in it.
    pub fn lineage(&self, image: ImageId) -> Result<LineageTree, LibraryError> {
        let mut tree = LineageTree {
            focus: image,
            ..LineageTree::default()
        };
        let Some((mut root_job, mut parent)) = self.job_and_parent(image)? else {
            return Ok(tree);
        };
        let mut seen = HashSet::new();
        while let Some(p) = parent {
            if !seen.insert(p) || seen.len() > MAX_DEPTH {
                break;
            }
            match self.job_and_parent(p)? {
                Some((job, up)) => {
                    root_job = job;
                    parent = up;
                }
                None => break,
            }
        }
        // An explicit stack keeps deep lines off the call stack; children are pushed in
        // reverse so they come out oldest first, right after their parent.
        let mut visited_jobs = HashSet::from([root_job]);
        let mut stack: Vec<LineageNode> = self.job_nodes(root_job, 0, None)?;
        stack.reverse();
        while let Some(node) = stack.pop() {
            if tree.nodes.len() >= MAX_LINEAGE_NODES {
                tree.truncated += 1;
                continue;
            }
            let mut children = Vec::new();
            for job in self.child_jobs(node.image.id)? {
                if visited_jobs.insert(job) {
                    children.extend(self.job_nodes(job, node.depth + 1, Some(node.image.id))?);
                }
            }
            tree.nodes.push(node);
            stack.extend(children.into_iter().rev());
        }
        Ok(tree)
    }
}
