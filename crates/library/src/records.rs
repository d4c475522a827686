//! The records the library stores and answers with.

use std::path::PathBuf;

use super::{ImageId, JobId};
use banana_core::ErrorKind;
use banana_core::recipe::{ProviderId, Recipe};

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Written, waiting for a slot.
    Created,
    /// Asking the provider.
    Running,
    /// Saving the results.
    Storing,
    /// Done with images.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Cancelled by the user.
    Cancelled,
    /// Found unfinished at start-up: the app closed while it ran.
    Interrupted,
}

impl JobState {
    /// The stable name used in storage and `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Created => "created",
            JobState::Running => "running",
            JobState::Storing => "storing",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Interrupted => "interrupted",
        }
    }

    pub(super) fn parse(s: &str) -> Self {
        match s {
            "created" => JobState::Created,
            "running" => JobState::Running,
            "storing" => JobState::Storing,
            "succeeded" => JobState::Succeeded,
            "cancelled" => JobState::Cancelled,
            "interrupted" => JobState::Interrupted,
            _ => JobState::Failed,
        }
    }

    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled | JobState::Interrupted
        )
    }
}

/// One job as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRecord {
    /// Row id.
    pub id: JobId,
    /// When it was created, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// Current state.
    pub state: JobState,
    /// What was asked.
    pub recipe: Recipe,
    /// Whether it ran against the offline sandbox.
    pub sandbox: bool,
    /// What kind of failure ended it, when it failed, was cancelled or interrupted.
    pub error_kind: Option<ErrorKind>,
    /// The error in words when failed.
    pub error_message: Option<String>,
    /// The model's text.
    pub text: Option<String>,
    /// What it cost, in US dollars.
    pub cost_usd: Option<f64>,
    /// Credits charged, for credit-priced providers.
    pub credits: Option<u32>,
    /// The job whose recipe this one ran on another provider.
    pub same_recipe_of: Option<JobId>,
    /// The tokens it used, as the service reported them.
    pub usage: Option<banana_core::recipe::Usage>,
    /// What a grounded answer looked up.
    pub grounding: Option<banana_core::recipe::Grounding>,
    /// When it ended, ms since the Unix epoch.
    pub finished_at_ms: Option<i64>,
    /// The job this one retries.
    pub retry_of: Option<JobId>,
    /// The model's turns as received (JSON array), for refinement.
    pub model_turns: Option<String>,
    /// The image this job refines, if any.
    pub parent_image_id: Option<ImageId>,
    /// The session it was made in.
    pub session_id: Option<SessionId>,
}

/// One stored image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRecord {
    /// Row id.
    pub id: ImageId,
    /// The job that made it.
    pub job_id: JobId,
    /// Position within the job, from 0.
    pub index: u32,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// MIME type.
    pub mime: String,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// File size in bytes.
    pub size_bytes: u64,
    /// The image file.
    pub path: PathBuf,
    /// The thumbnail file (PNG).
    pub thumb_path: PathBuf,
    /// The model turn (of the job's turns) this image came in.
    pub turn_index: u32,
    /// Stars, 0 (none) to 5.
    pub rating: u8,
    /// Picked, rejected or neither.
    pub flag: Flag,
    /// Marked as a favourite.
    pub favourite: bool,
    /// In the trash since (ms), if deleted.
    pub deleted_at_ms: Option<i64>,
}

/// A culling flag: what the designer decided about an image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Flag {
    /// Kept: one of the chosen.
    Pick,
    /// Not decided.
    #[default]
    Unflagged,
    /// Set aside (hidden by "hide rejects").
    Reject,
}

impl Flag {
    /// As the `images.flag` column holds it: 1 pick, 0 neither, -1 reject.
    pub fn stored(self) -> i8 {
        match self {
            Flag::Pick => 1,
            Flag::Unflagged => 0,
            Flag::Reject => -1,
        }
    }

    /// From the column; any other number reads as its sign, as the column was always
    /// written.
    pub fn from_stored(value: i64) -> Self {
        match value.signum() {
            1 => Flag::Pick,
            -1 => Flag::Reject,
            _ => Flag::Unflagged,
        }
    }
}

impl rusqlite::ToSql for Flag {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(i64::from(self.stored())))
    }
}

impl rusqlite::types::FromSql for Flag {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value.as_i64().map(Flag::from_stored)
    }
}

/// A job with its images: one row of the gallery.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// The job.
    pub job: JobRecord,
    /// Its images, in order.
    pub images: Vec<ImageRecord>,
}

/// A new image, already written to the store.
#[derive(Clone, Debug)]
pub struct NewImage {
    /// SHA-256, hex.
    pub sha256: String,
    /// MIME type.
    pub mime: String,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// File size.
    pub size_bytes: u64,
    /// The model turn it came in.
    pub turn_index: u32,
}

/// Where a page of history ends: the last job of the page before, in the listing's order
/// (newest first). The next page starts right after it, at the same cost wherever it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageKey {
    /// The job's creation time.
    pub created_at_ms: i64,
    /// The job, for jobs created in the same millisecond.
    pub id: i64,
}

impl PageKey {
    /// The key of a listed generation.
    pub fn of(generation: &Generation) -> Self {
        Self {
            created_at_ms: generation.job.created_at_ms,
            id: generation.job.id,
        }
    }
}

/// What history to list: a page of generations, newest first, narrowed by filters.
/// Image filters (favourite, rating, flag) list a generation only with its matching images.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Most rows.
    pub limit: u32,
    /// Start after this job (None: the first page). Keyset paging: no rows are read
    /// and skipped, so the last page of a big library costs what the first does.
    pub after: Option<PageKey>,
    /// Only prompts containing these words (case-insensitive, prefixes).
    pub search: Option<String>,
    /// Only finished jobs with images.
    pub succeeded_only: bool,
    /// Only this session's jobs (None: every session).
    pub session: Option<SessionId>,
    /// Only this provider's jobs.
    pub provider: Option<ProviderId>,
    /// Only this model's jobs.
    pub model: Option<String>,
    /// Only jobs created at or after this time (ms since the Unix epoch).
    pub since_ms: Option<i64>,
    /// Only jobs created before this time (ms since the Unix epoch).
    pub until_ms: Option<i64>,
    /// Only favourite images.
    pub favourites_only: bool,
    /// Only images rated at least this many stars (0: any).
    pub min_rating: u8,
    /// Which pick/reject flags to list.
    pub flag: FlagFilter,
    /// Only this job and the re-runs of its recipe on other providers.
    pub same_recipe: Option<JobId>,
    /// Only this batch's jobs.
    pub batch: Option<crate::BatchId>,
}

impl HistoryQuery {
    /// Whether any filter looks at the images rather than the job.
    pub fn filters_images(&self) -> bool {
        self.favourites_only || self.min_rating > 0 || self.flag != FlagFilter::Any
    }
}

/// Which pick/reject flags a history query lists.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum FlagFilter {
    /// Every image.
    #[default]
    Any,
    /// Picked images only.
    Picked,
    /// Everything but rejects.
    NotRejected,
    /// Rejected images only.
    Rejected,
}

impl FlagFilter {
    /// Every choice, in menu order.
    pub const ALL: [FlagFilter; 4] = [
        FlagFilter::Any,
        FlagFilter::Picked,
        FlagFilter::NotRejected,
        FlagFilter::Rejected,
    ];

    /// Words for a menu.
    pub fn label(self) -> &'static str {
        match self {
            FlagFilter::Any => "Picks and rejects",
            FlagFilter::Picked => "Picks only",
            FlagFilter::NotRejected => "Hide rejects",
            FlagFilter::Rejected => "Rejects only",
        }
    }

    /// (flag value to require, flag value to exclude) for SQL.
    pub(super) fn sql(self) -> (Option<i8>, Option<i8>) {
        match self {
            FlagFilter::Any => (None, None),
            FlagFilter::Picked => (Some(Flag::Pick.stored()), None),
            FlagFilter::NotRejected => (None, Some(Flag::Reject.stored())),
            FlagFilter::Rejected => (Some(Flag::Reject.stored()), None),
        }
    }
}

/// A session's row id.
pub type SessionId = i64;

/// A named project: the jobs made while it was current.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Row id.
    pub id: SessionId,
    /// The name the user gave it.
    pub name: String,
    /// When it was created, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// Its jobs.
    pub jobs: u32,
    /// Its live images.
    pub images: u32,
    /// Its newest job's time, or its creation time.
    pub last_used_ms: i64,
}

/// One image in a lineage tree.
#[derive(Clone, Debug, PartialEq)]
pub struct LineageNode {
    /// The image.
    pub image: ImageRecord,
    /// The prompt of the job that made it.
    pub prompt: String,
    /// The model that made it.
    pub model: String,
    /// Steps below the root generation (0: the root generation's images).
    pub depth: u32,
    /// The image its job refined.
    pub parent: Option<ImageId>,
    /// Its job rendered the final of the parent draft ("Render final").
    pub is_final: bool,
}

/// The family of an image: from the generation its line began with, every refinement
/// below, in tree order (each image followed by its children).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineageTree {
    /// The image the tree was asked for.
    pub focus: ImageId,
    /// The nodes in tree order.
    pub nodes: Vec<LineageNode>,
    /// Nodes left out past the size cap.
    pub truncated: usize,
}

/// What a finished job cost: dollars, credits, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct JobCost {
    /// US dollars.
    pub usd: Option<f64>,
    /// Credits.
    pub credits: Option<u32>,
    /// The tokens used, as the service reported them.
    pub usage: Option<banana_core::recipe::Usage>,
}

impl From<Option<f64>> for JobCost {
    fn from(usd: Option<f64>) -> Self {
        Self {
            usd,
            credits: None,
            usage: None,
        }
    }
}
