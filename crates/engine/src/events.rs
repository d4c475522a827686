//! What the engine tells its front ends.

use super::inputs::AddedInput;
use banana_core::recipe::{Catalog, ProviderId, Recipe};
use banana_library::{
    BatchId, BatchSummary, Generation, JobId, JobRecord, JobState, Session, SessionId,
};
use banana_providers::ErrorKind;

/// News: one thing that happened, which any front end may want to know. Front ends
/// drain these every frame (or block on them). Answers to one request come back in
/// that request's [`crate::Answer`] instead.
#[derive(Clone, Debug)]
pub enum Event {
    /// A job was written to the library and queued.
    JobCreated {
        /// Its id.
        job: JobId,
        /// What it asks (boxed: a recipe is much larger than the other events).
        recipe: Box<Recipe>,
        /// Whether it runs against the sandbox.
        sandbox: bool,
        /// The job it retries.
        retry_of: Option<JobId>,
        /// The prompt batch it is a request of.
        batch: Option<BatchId>,
    },
    /// A job moved to a non-terminal state (Running, Storing).
    JobState {
        /// Which job.
        job: JobId,
        /// The new state.
        state: JobState,
    },
    /// News about a running job: a retry, a queue position.
    JobProgress {
        /// Which job.
        job: JobId,
        /// In words.
        message: String,
    },
    /// What a thinking model showed of its thinking while the job runs: never a
    /// result, never stored.
    JobThought {
        /// Which job.
        job: JobId,
        /// Which of its requests (N images are N requests).
        request: usize,
        /// Thought text, a piece of a longer thought (often a `**Heading**`).
        text: Option<String>,
        /// An interim image, decoded and made small.
        picture: Option<std::sync::Arc<banana_imaging::Rgba>>,
    },
    /// A job ended with images.
    JobSucceeded {
        /// The stored generation.
        generation: Box<Generation>,
        /// Requests of the batch that failed, in words.
        warnings: Vec<String>,
    },
    /// A job ended without images (failed or cancelled).
    JobFailed {
        /// Which job.
        job: JobId,
        /// What the user can do about it.
        kind: ErrorKind,
        /// In words.
        message: String,
    },
    /// A recipe could not even be queued.
    SubmitFailed {
        /// In words.
        message: String,
    },
    /// Jobs found unfinished at start-up, now Interrupted.
    Interrupted {
        /// Their records.
        jobs: Vec<JobRecord>,
    },
    /// The library changed in a way the gallery must show (marks, trash); reload history.
    LibraryChanged {
        /// What happened, in words, when worth telling.
        message: Option<String>,
        /// Whether what the gallery lists changed, so history must be read again.
        reload: bool,
    },
    /// Another process (a CLI run, a second window) changed the library: lists should
    /// be read again.
    LibraryChangedElsewhere,
    /// A library change failed.
    LibraryFailed {
        /// In words.
        message: String,
    },
    /// The sessions, after a change or when asked.
    Sessions {
        /// Most recently used first.
        sessions: Vec<Session>,
        /// The one new jobs go into.
        current: SessionId,
    },
    /// A prompt batch moved: how far it has come.
    BatchProgress {
        /// Its counts and state (boxed: larger than most events).
        summary: Box<BatchSummary>,
        /// About how long the rest takes, from this run's pace (None until a job ends,
        /// and once it is over).
        seconds_left: Option<u64>,
    },
    /// A deferred batch was accepted by the service.
    DeferredSubmitted {
        /// Its id in the library.
        batch: BatchId,
        /// Its name on the service (`batches/…`).
        remote: String,
        /// Requests in it.
        requests: u32,
    },
    /// What was spent, after a job ends or when asked.
    Spend(super::budget::Spend),
    /// Every batch, newest first, when asked.
    Batches(Vec<BatchSummary>),
    /// The prompt library, after a change or when asked.
    PromptLibrary(Box<super::prompt_tasks::PromptLibrary>),
    /// The settings could not be written.
    SettingsFailed {
        /// In words.
        message: String,
    },
    /// Providers were reconnected (a key or connection changed); statuses are new.
    ProvidersChanged,
    /// The catalog, merged with a provider's live list.
    Models {
        /// Which provider was asked.
        provider: ProviderId,
        /// The merged catalog.
        catalog: Catalog,
    },
    /// Input images were prepared (some may have been refused, each with its reason).
    InputsAdded {
        /// Ready to use, in the order given.
        added: Vec<AddedInput>,
        /// One message per refused file, naming it.
        errors: Vec<String>,
    },
    /// A provider's live model list could not be read.
    ModelsFailed {
        /// Which provider.
        provider: ProviderId,
        /// In words.
        message: String,
    },
}
