//! When: a tokio runtime on named threads, a job queue with per-provider concurrency,
//! the job state machine, and events out to whoever listens.

mod answer;
mod batch_tasks;
pub mod budget;
mod connect;
pub mod deferred;
mod events;
mod history_tasks;
mod inputs;
mod jobs;
mod library_tasks;
mod lineage;
mod mask_tasks;
pub mod notify;
mod pending;
mod prompt_library_file;
mod prompt_tasks;
mod rerun;
pub mod settings;
mod setup;
mod spool;
mod store;
mod thumbs;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use answer::{Answer, TaskError};
pub use connect::{Connection, KeyTest};
pub use events::Event;
pub use history_tasks::ExportedMany;
pub use inputs::{AddedInput, InputSource};
pub use library_tasks::{Compared, LibraryCheck};
pub use mask_tasks::{MAX_FEATHER_PX, MarkupAnswer, MaskAnswer};
pub use prompt_tasks::PromptLibrary;

/// The answer to a history read: a page, newest first.
pub type HistoryAnswer = Answer<Result<Vec<banana_library::Generation>, TaskError>>;
/// The answer to a thumbnail or full-image decode.
pub type PixelsAnswer = Answer<Result<Arc<banana_imaging::Rgba>, TaskError>>;
/// The answer to a comparison with what an image came from.
pub type ComparisonAnswer = Answer<Result<Arc<Compared>, TaskError>>;
/// The answer to a lineage read.
pub type LineageAnswer = Answer<Result<Arc<banana_library::LineageTree>, TaskError>>;
/// The answer to "Save as…": the path written.
pub type ExportAnswer = Answer<Result<PathBuf, TaskError>>;
/// The answer to [`Engine::check_library`].
pub type CheckAnswer = Answer<Result<banana_library::CheckReport, TaskError>>;
pub use setup::{Env, connection, connections};

use banana_core::recipe::{Catalog, ImageSize, ProviderId, Recipe, ValidationError};
use banana_core::sandbox::SandboxHost;
use banana_keys::{KeyOrigin, KeySource};
use banana_library::{ImageId, JobId, Library, LibraryError};
use banana_providers::gemini;
use banana_providers::{CallContext, Provider, RetryPolicy};

/// How the engine is set up.
#[derive(Clone)]
pub struct EngineConfig {
    /// The library folder.
    pub data_dir: PathBuf,
    /// Use the offline sandbox even where a key is set.
    pub force_sandbox: bool,
    /// Where keys come from.
    pub keys: Arc<dyn KeySource>,
    /// Jobs running at once per provider.
    pub concurrency: usize,
    /// Retry and timeout policy for provider calls.
    pub retry: RetryPolicy,
    /// How each provider is reached (base URLs, jobs at once); a provider not listed
    /// uses the service's own hosts and `concurrency`.
    pub connections: HashMap<ProviderId, Connection>,
    /// How long one attempt may take, when Settings raise it; None: what fits the
    /// job's model and size.
    pub attempt_timeout: Option<Duration>,
    /// The spending caps.
    pub budget: budget::Budget,
    /// Whether a thinking model's thoughts are streamed and told as they come
    /// (`Event::JobThought`).
    pub show_thinking: bool,
    /// How soon a deferred batch is first polled after it is sent (then less often).
    pub deferred_first_poll: Duration,
    /// Starts a provider's offline stand-in when it runs without a key; None: such a
    /// provider is unavailable.
    pub sandbox: Option<Arc<dyn SandboxHost>>,
}

impl EngineConfig {
    /// Defaults for a data folder, with keys from `keys`; see [`EngineConfig::configured`]
    /// for Settings and the environment.
    pub fn new(data_dir: impl Into<PathBuf>, keys: Arc<dyn KeySource>) -> Self {
        Self {
            data_dir: data_dir.into(),
            force_sandbox: false,
            keys,
            concurrency: 4,
            retry: RetryPolicy {
                attempt_timeout: gemini::default_timeout(),
                ..RetryPolicy::default()
            },
            connections: HashMap::new(),
            attempt_timeout: None,
            budget: budget::Budget::default(),
            show_thinking: false,
            deferred_first_poll: Duration::from_secs(1),
            sandbox: None,
        }
    }

    /// Points one provider at another base URL (tests, tools).
    pub fn set_base_url(&mut self, provider: ProviderId, url: impl Into<String>) {
        let concurrency = self.concurrency;
        self.connections
            .entry(provider)
            .or_insert_with(|| Connection::with_concurrency(concurrency))
            .base_url = Some(url.into());
    }

    /// How a provider is to be reached at start.
    pub fn connection(&self, provider: ProviderId) -> Connection {
        self.connections
            .get(&provider)
            .cloned()
            .unwrap_or_else(|| Connection::with_concurrency(self.concurrency))
    }
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The runtime threads could not start.
    #[error("could not start the background workers: {0}")]
    Runtime(std::io::Error),
    /// The library could not be opened.
    #[error(transparent)]
    Library(#[from] LibraryError),
}

/// How a provider is reached in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderStatus {
    /// Whether this build can talk to it at all.
    pub available: bool,
    /// Whether it runs against the offline fake.
    pub sandbox: bool,
    /// Where its key came from.
    pub key_origin: KeyOrigin,
    /// Credits left on the account, as the service last said (Vydra).
    pub credits_left: Option<u64>,
}

pub(crate) struct Slot {
    provider: Arc<dyn Provider>,
    sandbox: bool,
    semaphore: Arc<Semaphore>,
    /// The semaphore's size: this provider's jobs at once.
    jobs_at_once: usize,
    /// Answers of this provider read and not yet stored, as many as jobs at once: a job
    /// hands its place in `semaphore` to the next request as soon as it holds one of
    /// these, so waiting on the service overlaps saving while the answers held in
    /// memory stay bounded.
    held: Arc<Semaphore>,
}

pub(crate) struct Inner {
    library: Library,
    catalog: RwLock<Catalog>,
    slots: RwLock<HashMap<ProviderId, Arc<Slot>>>,
    statuses: RwLock<HashMap<ProviderId, ProviderStatus>>,
    events: Sender<Event>,
    repaint: RwLock<Option<Arc<dyn Fn() + Send + Sync>>>,
    running: Mutex<HashMap<JobId, CancellationToken>>,
    /// The newest settings asked to be saved and not yet written; held while writing so
    /// saves land in order, and written at once when the engine stops.
    settings_pending: Mutex<Option<crate::settings::Settings>>,
    /// Library writes asked for and not yet done (waited for when the engine stops).
    pending: Arc<pending::Pending>,
    /// Marks and trash changes, done in the order the user made them.
    culling: pending::Lane,
    /// The per-attempt deadline Settings ask for, in milliseconds (0: the model's own).
    attempt_timeout_ms: std::sync::atomic::AtomicU64,
    /// Jobs saving their results at once (their images were checked as they arrived;
    /// this bounds the late work and the writing).
    store_gate: Arc<tokio::sync::Semaphore>,
    /// Images being checked (decoded and thumbnailed) as they arrive: one a core, first
    /// come first served.
    check_gate: Arc<tokio::sync::Semaphore>,
    /// Thumbnails being read for the window: one fewer than the cores, so drawing the
    /// window always has a core however many the gallery asks for at once.
    thumb_gate: Arc<tokio::sync::Semaphore>,
    /// The threads that make thumbnails after their jobs.
    thumb_makers: thumbs::Makers,
    /// Thumbnails still being made after their jobs, waited for by tiles asking for them.
    thumbs_due: thumbs::Due,
    /// Results being stored, which thumbnails wait for.
    ahead_of_thumbs: Arc<thumbs::Ahead>,
    /// Full-size decodes for the viewer, one at a time; one nobody waits for any more
    /// (the viewer moved on) is skipped.
    view_gate: Arc<tokio::sync::Semaphore>,
    /// The prompt batches this process is sending.
    batch_runners: batch_tasks::Runners,
    /// The spending caps Settings name.
    budget: Mutex<budget::Budget>,
    /// Whether jobs that start from now on stream their thoughts.
    show_thinking: std::sync::atomic::AtomicBool,
    /// How soon a deferred batch is first polled.
    deferred_first_poll: Duration,
}

/// A deadline as stored in `Inner::attempt_timeout_ms` (0: none).
fn millis_or_zero(timeout: Option<Duration>) -> u64 {
    timeout.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Inner {
    /// Stops every batch this process sends (none of the rest is sent), then cancels
    /// every queued and running job.
    fn cancel_all(&self) {
        if let Ok(runners) = self.batch_runners.lock() {
            for runner in runners.values() {
                let _ = runner.send(banana_library::BatchState::Cancelled);
            }
        }
        if let Ok(running) = self.running.lock() {
            for token in running.values() {
                token.cancel();
            }
        }
    }

    /// Whether jobs stream their thoughts to the front ends.
    pub(crate) fn show_thinking(&self) -> bool {
        self.show_thinking
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The per-attempt deadline Settings ask for, if any.
    pub(crate) fn attempt_timeout(&self) -> Option<Duration> {
        let ms = self
            .attempt_timeout_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        (ms > 0).then(|| Duration::from_millis(ms))
    }
}

impl Inner {
    /// Runs library or file work on a blocking thread. Its error, or a panic there,
    /// comes back as one message in words.
    pub(crate) async fn blocking<T, F>(self: &Arc<Self>, work: F) -> Result<T, String>
    where
        F: FnOnce(&Inner) -> Result<T, String> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| format!("background work failed: {e}"))?
    }

    /// Runs library or file work on a blocking thread for a one-shot answer; a panic
    /// there comes back as `TaskError::Worker`.
    pub(crate) async fn run_blocking<T, E, F>(self: &Arc<Self>, work: F) -> Result<T, TaskError>
    where
        F: FnOnce(&Inner) -> Result<T, E> + Send + 'static,
        E: Into<TaskError> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.clone();
        match tokio::task::spawn_blocking(move || work(&inner)).await {
            Ok(result) => result.map_err(Into::into),
            Err(e) => Err(TaskError::Worker(e.to_string())),
        }
    }

    /// A reply and its answer; sending the reply repaints the window.
    pub(crate) fn answer<T>(&self) -> (answer::Reply<T>, Answer<T>) {
        let wake = self.repaint.read().ok().and_then(|r| r.clone());
        answer::pair(wake)
    }

    pub(crate) fn emit(&self, event: Event) {
        // The receiver lives as long as the engine; a closed channel means shutdown.
        let _ = self.events.send(event);
        if let Ok(repaint) = self.repaint.read()
            && let Some(repaint) = repaint.as_ref()
        {
            repaint();
        }
    }
}

/// The engine: owns the runtime, the library and the providers.
pub struct Engine {
    inner: Arc<Inner>,
    runtime: Option<tokio::runtime::Runtime>,
    events: Receiver<Event>,
    sandbox: Option<Arc<dyn SandboxHost>>,
    keys: Arc<dyn KeySource>,
    force_sandbox: bool,
    retry: RetryPolicy,
}

impl Engine {
    /// Starts the runtime, opens the library (marking unfinished jobs Interrupted)
    /// and connects the providers, with the sandbox where no key is set.
    pub fn start(config: EngineConfig) -> Result<Self, EngineError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("banana-engine")
            .enable_all()
            .build()
            .map_err(EngineError::Runtime)?;
        let (library, notice) = Library::open_checked(&config.data_dir)?;
        if let Some(sandbox) = &config.sandbox {
            sandbox.keep_state_in(&config.data_dir);
        }
        let interrupted = library.interrupt_unfinished()?;
        // A batch the last run was sending waits for the user to go on with it.
        if let Err(e) = library.pause_interrupted_batches() {
            tracing::warn!("batches left running could not be paused ({e})");
        }
        let interrupted: Vec<_> = interrupted
            .into_iter()
            .filter_map(|id| library.job(id).ok().flatten())
            .collect();
        // News for the front end, drained every frame (or by the CLI's loop): unbounded on
        // purpose, since a worker must never wait on a window that is not drawing.
        #[allow(clippy::disallowed_methods)]
        let (tx, rx) = std::sync::mpsc::channel();

        // A provider without a key gets its stand-in from the sandbox host, started now
        // and only for it; one whose key is removed in Settings falls back to it then.
        let mut slots = HashMap::new();
        let mut statuses = HashMap::new();
        for provider in ProviderId::ALL {
            let (key, origin) = config.keys.key(provider);
            let connection = config.connection(provider);
            let (slot, status) = connect::connect(
                provider,
                key,
                origin,
                &connection,
                config.force_sandbox,
                config.sandbox.as_ref(),
                &config.retry,
            );
            if let Some(slot) = slot {
                slots.insert(provider, slot);
            }
            statuses.insert(provider, status);
        }

        let inner = Arc::new(Inner {
            library,
            catalog: RwLock::new(Catalog::bundled()),
            slots: RwLock::new(slots),
            statuses: RwLock::new(statuses),
            events: tx,
            repaint: RwLock::new(None),
            running: Mutex::new(HashMap::new()),
            settings_pending: Mutex::new(None),
            pending: Arc::default(),
            culling: pending::Lane::default(),
            attempt_timeout_ms: std::sync::atomic::AtomicU64::new(millis_or_zero(
                config.attempt_timeout,
            )),
            store_gate: Arc::new(tokio::sync::Semaphore::new(
                2 * std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            check_gate: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            thumb_gate: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            )),
            thumb_makers: thumbs::Makers::default(),
            thumbs_due: thumbs::Due::default(),
            ahead_of_thumbs: Arc::default(),
            view_gate: Arc::new(tokio::sync::Semaphore::new(1)),
            batch_runners: batch_tasks::Runners::default(),
            budget: Mutex::new(config.budget),
            show_thinking: std::sync::atomic::AtomicBool::new(config.show_thinking),
            deferred_first_poll: config.deferred_first_poll,
        });
        if let Some(message) = notice {
            inner.emit(Event::LibraryFailed { message });
        }
        // In the background: the check an unclean close calls for, then pictures moved
        // out of turns an earlier version stored.
        let collector = inner.clone();
        runtime.spawn_blocking(move || {
            // After an unclean close the pages are read here, with the app already in use,
            // rather than before the first frame.
            if collector.library.opened_after_unclean_close() {
                quick_check(&collector);
            }
            match collector.library.lift_stored_turns() {
                Ok(report) if report.jobs > 0 || report.moved > 0 || report.compacted => {
                    tracing::info!(
                        jobs = report.jobs,
                        moved = report.moved,
                        pictures = report.pictures,
                        compacted = report.compacted,
                        "brought stored model turns to today's form"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(
                    "older model turns could not be brought to today's form yet ({e}); \
                     they stay where they were and the next start tries again"
                ),
            }
        });
        // Collecting leftovers reads every row and lists every stored file: work for a
        // quiet moment, not for the first seconds a designer waits on the window.
        let collector = inner.clone();
        runtime.spawn(async move {
            tokio::time::sleep(ORPHAN_COLLECTION_DELAY).await;
            let _ = tokio::task::spawn_blocking(move || collect_orphans(&collector.library)).await;
        });
        if !interrupted.is_empty() {
            tracing::warn!(
                count = interrupted.len(),
                "jobs were interrupted by the last exit"
            );
            inner.emit(Event::Interrupted { jobs: interrupted });
        }
        Ok(Self {
            inner,
            runtime: Some(runtime),
            events: rx,
            sandbox: config.sandbox.clone(),
            keys: config.keys.clone(),
            force_sandbox: config.force_sandbox,
            retry: config.retry.clone(),
        })
    }

    fn spawn<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Some(rt) = &self.runtime {
            rt.spawn(future);
        }
    }

    /// Runs a change the user asked for (a mark, a deletion, a session, an export): counted
    /// from now, so stopping the engine waits for it instead of dropping it.
    fn spawn_write<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let write = self.inner.pending.begin();
        self.spawn(async move {
            let _write = write;
            future.await;
        });
    }

    /// Called after every event, e.g. to wake the GUI.
    pub fn set_repaint(&self, repaint: Arc<dyn Fn() + Send + Sync>) {
        if let Ok(mut slot) = self.inner.repaint.write() {
            *slot = Some(repaint);
        }
    }

    /// The next event, if one is waiting.
    pub fn try_event(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// The next event, waiting at most `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }

    /// The catalog as currently known (merged with live lists once fetched).
    pub fn catalog(&self) -> Catalog {
        self.inner
            .catalog
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|_| Catalog::bundled())
    }

    /// How a provider is reached.
    pub fn status(&self, provider: ProviderId) -> ProviderStatus {
        self.inner
            .statuses
            .read()
            .ok()
            .and_then(|s| s.get(&provider).cloned())
            .unwrap_or(ProviderStatus {
                available: false,
                sandbox: false,
                key_origin: KeyOrigin::NotSet,
                credits_left: None,
            })
    }

    /// Where keys come from, and a notice when no secure store answers.
    pub fn keys(&self) -> &Arc<dyn KeySource> {
        &self.keys
    }

    /// Checks and queues a recipe. The job is written to the library before anything
    /// is sent; `Event::JobCreated` follows.
    pub fn submit(&self, recipe: Recipe) -> Result<(), ValidationError> {
        self.check_submittable(&recipe)?;
        self.check_budget(std::slice::from_ref(&recipe))?;
        let inner = self.inner.clone();
        self.spawn(async move {
            // An edit of a result is that result's child in the lineage.
            let edit_of = jobs::edited_result(&inner, &recipe).await;
            let lineage = jobs::Lineage {
                edit_of,
                ..jobs::Lineage::default()
            };
            jobs::create_and_run(inner, recipe, lineage).await;
        });
        Ok(())
    }

    /// Validation against the catalog, and a provider this build can reach.
    fn check_submittable(&self, recipe: &Recipe) -> Result<(), ValidationError> {
        recipe.validate(&self.catalog())?;
        if self.inner.slot(recipe.provider).is_none() {
            return Err(ValidationError {
                field: "provider",
                message: format!(
                    "{} is not supported in this version yet; pick Gemini API or fal.ai",
                    recipe.provider.label()
                ),
            });
        }
        Ok(())
    }

    /// Draft to final: the draft's recipe again on `model` at `size`, with the draft
    /// attached as a reference image where the model takes inputs; the new job records
    /// the draft as its parent (and the recipe says it is the draft's final).
    pub fn render_final(&self, draft: ImageId, model: String, size: Option<ImageSize>) {
        let inner = self.inner.clone();
        let catalog = self.catalog();
        self.spawn(async move {
            let prepared = inner
                .blocking(move |lib| {
                    let record = lib
                        .library
                        .image(draft)
                        .map_err(|e| e.to_string())?
                        .ok_or("the draft is no longer in the library")?;
                    let job = lib
                        .library
                        .job(record.job_id)
                        .map_err(|e| e.to_string())?
                        .ok_or("the draft's job is no longer in the library")?;
                    let mut recipe = job.recipe;
                    recipe.model = model;
                    recipe.size = size;
                    recipe.count = 1;
                    recipe.mask = None;
                    recipe.final_of = Some(draft);
                    let takes = catalog
                        .model(recipe.provider, &recipe.model)
                        .map_or(0, |m| m.max_inputs as usize);
                    if recipe.inputs.len() < takes {
                        let added = inputs::add_one(lib, &InputSource::Stored(draft))?;
                        recipe.inputs.push(added.input);
                    }
                    recipe
                        .validate(&catalog)
                        .map_err(|e| format!("Render final: {e}"))?;
                    if let Some(refusal) =
                        lib.budget_refusal(std::slice::from_ref(&recipe), &catalog)
                    {
                        return Err(format!("Render final: {refusal}"));
                    }
                    Ok(recipe)
                })
                .await;
            match prepared {
                Ok(recipe) => {
                    let lineage = jobs::Lineage {
                        parent_image: Some(draft),
                        ..jobs::Lineage::default()
                    };
                    jobs::create_and_run(inner, recipe, lineage).await;
                }
                Err(message) => inner.emit(Event::SubmitFailed { message }),
            }
        });
    }

    /// Continues from a stored image: the next step of the same conversation where the
    /// provider and model keep one (Gemini), else the image becomes the first input.
    /// The new job records `parent` as its parent image.
    pub fn refine(&self, parent: ImageId, recipe: Recipe) -> Result<(), ValidationError> {
        self.check_submittable(&recipe)?;
        self.check_budget(std::slice::from_ref(&recipe))?;
        let inner = self.inner.clone();
        self.spawn(async move {
            let prepared = inner
                .blocking(move |lib| {
                    let mut recipe = recipe;
                    let history = lineage::conversation(&lib.library, parent, &recipe)?;
                    if history.is_empty() {
                        // No conversation to continue: the parent becomes the first input.
                        let added = inputs::add_one(lib, &InputSource::Stored(parent))?;
                        recipe.inputs.insert(0, added.input);
                    }
                    Ok(recipe)
                })
                .await;
            match prepared {
                Ok(recipe) => {
                    let lineage = jobs::Lineage {
                        parent_image: Some(parent),
                        ..jobs::Lineage::default()
                    };
                    jobs::create_and_run(inner, recipe, lineage).await;
                }
                Err(message) => inner.emit(Event::SubmitFailed { message }),
            }
        });
        Ok(())
    }

    /// Cancels a queued or running job.
    pub fn cancel(&self, job: JobId) {
        if let Ok(running) = self.inner.running.lock()
            && let Some(token) = running.get(&job)
        {
            token.cancel();
        }
    }

    /// Sets the per-attempt deadline for jobs that start from now on (None: what fits
    /// each job's model and size).
    pub fn set_attempt_timeout(&self, timeout: Option<Duration>) {
        self.inner.attempt_timeout_ms.store(
            millis_or_zero(timeout),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Whether jobs that start from now on show a thinking model's thoughts as they
    /// come (streamed; `Event::JobThought`).
    pub fn set_show_thinking(&self, show: bool) {
        self.inner
            .show_thinking
            .store(show, std::sync::atomic::Ordering::Relaxed);
    }

    /// Jobs queued or running in this process.
    pub fn running_count(&self) -> usize {
        self.inner.running.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Cancels every queued and running job (on the provider too, where it can be);
    /// each ends as Cancelled with its event.
    pub fn cancel_all(&self) {
        self.inner.cancel_all();
    }

    /// Cancels every queued and running job when the process gets Ctrl+C (SIGINT),
    /// so they end as Cancelled instead of being cut off mid-way.
    pub fn cancel_all_on_ctrl_c(&self) {
        let inner = self.inner.clone();
        self.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::warn!("interrupted: cancelling running jobs");
                inner.cancel_all();
            }
        });
    }

    /// Prepares input images off the UI thread; `Event::InputsAdded` follows.
    pub fn add_inputs(&self, sources: Vec<InputSource>) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let event = inner
                .blocking(move |lib| Ok(inputs::add_all(lib, &sources)))
                .await
                .unwrap_or_else(|message| Event::InputsAdded {
                    added: Vec::new(),
                    errors: vec![message],
                });
            inner.emit(event);
        });
    }

    /// Prepares input images and waits for them (for the CLI): every one is checked
    /// before any is stored, so a refused set writes nothing.
    pub fn add_inputs_blocking(
        &self,
        sources: &[InputSource],
    ) -> Result<Vec<AddedInput>, Vec<String>> {
        inputs::add_all_or_none(&self.inner, sources)
    }

    /// Loads the preview of a stored input.
    pub fn load_input_preview(&self, input: banana_core::recipe::InputImage) -> PixelsAnswer {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let pixels = inner
                .run_blocking(move |lib| inputs::preview(lib, &input))
                .await
                .map(Arc::new);
            reply.send(pixels);
        });
        answer
    }

    /// Asks a provider for its live model list and merges it; `Event::Models` follows.
    pub fn refresh_models(&self, provider: ProviderId) {
        let Some(slot) = self.inner.slot(provider) else {
            return;
        };
        let client = slot.provider.clone();
        let inner = self.inner.clone();
        self.spawn(async move {
            match client.list_models(&CallContext::detached()).await {
                Ok(live) => {
                    let catalog = match inner.catalog.write() {
                        Ok(mut c) => {
                            c.merge_live(provider, &live);
                            c.clone()
                        }
                        Err(_) => return,
                    };
                    inner.emit(Event::Models { provider, catalog });
                }
                Err(e) => inner.emit(Event::ModelsFailed {
                    provider,
                    message: e.to_string(),
                }),
            }
        });
    }

    /// Watches for other processes' writes to the library, about once a second off the
    /// calling thread; `Event::LibraryChangedElsewhere` follows each change.
    pub fn watch_library(&self) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let mut last = None;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let checked = inner
                    .blocking(move |lib| {
                        let mut seen = last;
                        let changed = lib
                            .library
                            .changed_elsewhere(&mut seen)
                            .map_err(|e| e.to_string())?;
                        Ok((changed, seen))
                    })
                    .await;
                match checked {
                    Ok((changed, seen)) => {
                        last = seen;
                        if changed {
                            inner.emit(Event::LibraryChangedElsewhere);
                        }
                    }
                    Err(e) => tracing::debug!("library watch: {e}"),
                }
            }
        });
    }

    /// The library itself, for the CLI's read-only commands.
    pub fn library(&self) -> &Library {
        &self.inner.library
    }
}

impl Drop for Engine {
    /// Stops without cancelling: a job still running is left as it is in the history,
    /// and the next start finds its owner gone and shows it Interrupted with Retry.
    /// Cancelling is the user's choice ([`Engine::cancel_all`]), never a side effect
    /// of closing.
    fn drop(&mut self) {
        // Marks, deletions, sessions and exports the user asked for land before the
        // runtime goes (it would drop those not yet started).
        let left = self.inner.pending.wait(Duration::from_secs(10));
        if left > 0 {
            tracing::error!("stopped with {left} library changes not written");
        }
        // A settings save still waiting for the pool is written now, not lost.
        if let Err(message) = self.inner.write_pending_settings() {
            tracing::error!("{message}");
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// Removes files that crashes left behind, telling the user only when it fails.
fn collect_orphans(library: &banana_library::Library) {
    match library.collect_orphans() {
        Ok(0) => {}
        Ok(n) => tracing::info!("collected {n} orphan files"),
        Err(e) => tracing::warn!(
            target: crate::notify::TARGET,
            "Leftover files of an earlier crash could not be tidied away ({e}); they only take space"
        ),
    }
}

/// How long after start leftovers of interrupted writes are collected.
const ORPHAN_COLLECTION_DELAY: Duration = Duration::from_secs(20);

/// The check after an unclean close: damage found reaches the user with what to do.
fn quick_check(inner: &Inner) {
    let started = std::time::Instant::now();
    match inner.library.quick_check() {
        Ok(None) => tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "the history database is sound after the unclean close"
        ),
        Ok(Some(problem)) => {
            tracing::error!("the history database is damaged: {problem}");
            inner.emit(Event::LibraryFailed {
                message: format!(
                    "The history database was damaged when the app last stopped without closing \
                     ({problem}). What still reads stays usable. Restart the app to keep a copy \
                     of the damaged database and start a new history; your image files are \
                     untouched."
                ),
            });
        }
        Err(e) => tracing::warn!("the history database could not be checked: {e}"),
    }
}
