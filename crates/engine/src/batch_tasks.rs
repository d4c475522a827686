//! Prompt batches: a list of recipes made as one. The batch and every request are
//! written first; then a runner sends the requests in order, never more at once than
//! the provider's jobs at once, and can be paused (nothing more is sent, what runs
//! finishes), resumed and cancelled (nothing more is sent, what runs is cancelled).
//! After each job ends `Event::BatchProgress` says how far the batch has come. A batch
//! left running when the app closed is paused at the next start, to go on when asked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Answer, Engine, Event, Inner, TaskError, jobs};
use banana_core::recipe::{Recipe, ValidationError};
use banana_library::{BatchId, BatchState, ImageId, JobId};

/// The runners of this process, by batch: each listens for Pause, Resume and Cancel.
pub(crate) type Runners = std::sync::Mutex<HashMap<BatchId, watch::Sender<BatchState>>>;

impl Engine {
    /// Checks every recipe, records the batch and starts sending it. A recipe that
    /// fails its check stops the batch before anything is written, naming which.
    pub fn start_batch(&self, name: String, recipes: Vec<Recipe>) -> Result<(), ValidationError> {
        for (i, recipe) in recipes.iter().enumerate() {
            self.check_submittable(recipe)
                .map_err(|e| ValidationError {
                    field: e.field,
                    message: format!("request {}: {}", i + 1, e.message),
                })?;
        }
        if recipes.is_empty() {
            return Err(ValidationError {
                field: "batch",
                message: "the batch has no requests".to_owned(),
            });
        }
        self.check_batch_budget(&recipes)?;
        let inner = self.inner.clone();
        self.spawn(async move {
            if let Some(batch) = record(&inner, name, recipes, None).await {
                run(inner, batch).await;
            }
        });
        Ok(())
    }

    /// The whole batch against the caps, before any of it is sent.
    pub(crate) fn check_batch_budget(&self, recipes: &[Recipe]) -> Result<(), ValidationError> {
        self.check_budget(recipes).map_err(|e| ValidationError {
            field: e.field,
            message: format!("the batch: {}", e.message),
        })
    }

    /// Sends no more of a batch's requests; the running ones finish.
    pub fn pause_batch(&self, batch: BatchId) {
        self.steer_batch(batch, BatchState::Paused);
    }

    /// Goes on sending a paused batch's requests.
    pub fn resume_batch(&self, batch: BatchId) {
        self.steer_batch(batch, BatchState::Running);
    }

    /// Sends none of the rest and cancels the running ones.
    pub fn cancel_batch(&self, batch: BatchId) {
        self.steer_batch(batch, BatchState::Cancelled);
    }

    /// Every batch, newest first; `Event::Batches` follows.
    pub fn load_batches(&self) {
        let inner = self.inner.clone();
        self.spawn(async move {
            match inner
                .blocking(|lib| lib.library.batches().map_err(|e| e.to_string()))
                .await
            {
                Ok(list) => inner.emit(Event::Batches(list)),
                Err(message) => inner.emit(Event::LibraryFailed {
                    message: format!("the batches could not be read: {message}"),
                }),
            }
        });
    }

    /// The live images a batch made, in request order (to save them all at once).
    pub fn batch_images(&self, batch: BatchId) -> Answer<Result<Vec<ImageId>, TaskError>> {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let result = inner
                .run_blocking(move |lib| lib.library.batch_images(batch))
                .await;
            reply.send(result);
        });
        answer
    }

    fn steer_batch(&self, batch: BatchId, state: BatchState) {
        let inner = self.inner.clone();
        self.spawn(async move {
            // A runner of this process hears it at once; the state is written either way,
            // so a batch paused by a closed app is resumed by starting a runner.
            let sent = inner
                .batch_runners
                .lock()
                .ok()
                .and_then(|r| r.get(&batch).map(|tx| tx.send(state).is_ok()))
                .unwrap_or(false);
            let written = inner
                .blocking(move |lib| {
                    let summary = lib
                        .library
                        .batch(batch)
                        .map_err(|e| e.to_string())?
                        .ok_or("the batch is no longer in the library")?;
                    if summary.state == BatchState::Cancelled
                        || summary.state == BatchState::Finished && state != BatchState::Cancelled
                    {
                        return Ok(false);
                    }
                    lib.library
                        .set_batch_state(batch, state)
                        .map_err(|e| e.to_string())?;
                    Ok(true)
                })
                .await;
            match written {
                Ok(true) if !sent && state == BatchState::Running => run(inner, batch).await,
                Ok(_) => report(&inner, batch, None).await,
                Err(message) => inner.emit(Event::LibraryFailed {
                    message: format!("the batch could not be changed: {message}"),
                }),
            }
        });
    }
}

/// Writes a batch with its requests (deferred: for the provider's batch service, with
/// what it is expected to cost); None,
/// and the reason told, when it could not be written.
pub(crate) async fn record(
    inner: &Arc<Inner>,
    name: String,
    recipes: Vec<Recipe>,
    deferred: Option<Option<f64>>,
) -> Option<BatchId> {
    let created = inner
        .blocking(move |lib| {
            if let Some(estimate) = deferred {
                lib.library.create_deferred_batch(&name, &recipes, estimate)
            } else {
                lib.library.create_batch(&name, &recipes)
            }
            .map_err(|e| e.to_string())
        })
        .await;
    match created {
        Ok(batch) => Some(batch),
        Err(message) => {
            inner.emit(Event::SubmitFailed {
                message: format!("the batch could not be recorded: {message}"),
            });
            None
        }
    }
}

/// Sends a batch's unsent requests until none are left, or it is paused or cancelled,
/// then waits for its running jobs.
async fn run(inner: Arc<Inner>, batch: BatchId) {
    let (tx, mut control) = watch::channel(BatchState::Running);
    {
        let Ok(mut runners) = inner.batch_runners.lock() else {
            return;
        };
        if let Some(running) = runners.get(&batch) {
            // One runner a batch: the one there goes on.
            let _ = running.send(BatchState::Running);
            return;
        }
        runners.insert(batch, tx);
    }
    let started = Instant::now();
    let mut ended: u32 = 0;
    let mut running: JoinSet<()> = JoinSet::new();
    let mut tokens: HashMap<JobId, CancellationToken> = HashMap::new();
    let mut exhausted = false;
    loop {
        let state = *control.borrow_and_update();
        if state == BatchState::Running && !exhausted {
            exhausted = send_more(&inner, batch, &mut running, &mut tokens).await;
        }
        if running.is_empty() && (state != BatchState::Running || exhausted) {
            break;
        }
        report(
            &inner,
            batch,
            time_left(started, ended, &inner, batch).await,
        )
        .await;
        tokio::select! {
            Some(_) = running.join_next() => ended += 1,
            changed = control.changed() => {
                if changed.is_err() {
                    break;
                }
                match *control.borrow() {
                    BatchState::Cancelled => {
                        for token in tokens.values() {
                            token.cancel();
                        }
                    }
                    // Resumed: look for unsent requests again.
                    BatchState::Running => exhausted = false,
                    _ => {}
                }
            }
        }
        tokens.retain(|_, t| !t.is_cancelled());
        if let Ok(live) = inner.running.lock() {
            tokens.retain(|job, _| live.contains_key(job));
        }
    }
    if let Ok(mut runners) = inner.batch_runners.lock() {
        runners.remove(&batch);
    }
    let state = *control.borrow();
    let unsent = inner
        .blocking(move |lib| lib.library.next_unsent(batch).map_err(|e| e.to_string()))
        .await
        .map_or(true, |next| next.is_some());
    let end = match state {
        // Stopped short with requests left (one could not be written): they wait.
        BatchState::Running if unsent => BatchState::Paused,
        BatchState::Running => BatchState::Finished,
        other => other,
    };
    let _ = inner
        .blocking(move |lib| {
            lib.library
                .set_batch_state(batch, end)
                .map_err(|e| e.to_string())
        })
        .await;
    report(&inner, batch, None).await;
}

/// Sends requests until the provider's jobs at once are busy; true when none are
/// left to send.
async fn send_more(
    inner: &Arc<Inner>,
    batch: BatchId,
    running: &mut JoinSet<()>,
    tokens: &mut HashMap<JobId, CancellationToken>,
) -> bool {
    loop {
        let next = inner
            .blocking(move |lib| lib.library.next_unsent(batch).map_err(|e| e.to_string()))
            .await;
        let (position, recipe) = match next {
            Ok(Some(next)) => next,
            Ok(None) => return true,
            Err(message) => {
                inner.emit(Event::SubmitFailed {
                    message: format!("the batch's next request could not be read: {message}"),
                });
                return true;
            }
        };
        let at_once = inner.slot(recipe.provider).map_or(1, |s| s.jobs_at_once);
        if running.len() >= at_once {
            return false;
        }
        let lineage = jobs::Lineage {
            batch: Some((batch, position)),
            ..jobs::Lineage::default()
        };
        let Some((job, cancel)) = jobs::create(inner, &recipe, lineage).await else {
            // Not written (the provider went away, the disk is full): stop here rather
            // than loop on it; the batch is paused and says so.
            let _ = inner
                .blocking(move |lib| {
                    lib.library
                        .set_batch_state(batch, BatchState::Paused)
                        .map_err(|e| e.to_string())
                })
                .await;
            if let Ok(runners) = inner.batch_runners.lock()
                && let Some(tx) = runners.get(&batch)
            {
                let _ = tx.send(BatchState::Paused);
            }
            return true;
        };
        tokens.insert(job, cancel.clone());
        running.spawn(jobs::run_created(
            inner.clone(),
            job,
            recipe,
            lineage,
            cancel,
        ));
    }
}

/// About how long the rest takes, from the pace of this run (None before a job ends).
async fn time_left(
    started: Instant,
    ended: u32,
    inner: &Arc<Inner>,
    batch: BatchId,
) -> Option<u64> {
    if ended == 0 {
        return None;
    }
    let left = inner
        .blocking(move |lib| lib.library.batch(batch).map_err(|e| e.to_string()))
        .await
        .ok()
        .flatten()?
        .left();
    let per_job = started.elapsed().as_secs_f64() / f64::from(ended);
    Some((per_job * f64::from(left)).ceil() as u64)
}

/// Tells the front ends how far the batch has come.
async fn report(inner: &Arc<Inner>, batch: BatchId, seconds_left: Option<u64>) {
    let summary = inner
        .blocking(move |lib| lib.library.batch(batch).map_err(|e| e.to_string()))
        .await;
    if let Ok(Some(summary)) = summary {
        inner.emit(Event::BatchProgress {
            summary: Box::new(summary),
            seconds_left,
        });
    }
}
