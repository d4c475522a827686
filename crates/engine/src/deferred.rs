//! Deferred batches: a prompt batch sent whole to the Gemini Batch API, at half price,
//! done within a day. The batch and its requests are written first; the service's name
//! for it as soon as it accepts it; then it is polled (a few seconds after sending, then
//! less and less often, and again at every start) and, once done, each result is stored
//! as an ordinary job of the batch (recipe, lineage, thumbnails, its cost at the batch
//! rate), its job written with it in one transaction so nothing is stored twice. A
//! restart loses nothing; a batch is never sent twice.

use std::sync::Arc;
use std::time::Duration;

use super::{Engine, Event, Inner, jobs};
use banana_core::recipe::{Catalog, ProviderId, Recipe, ValidationError};
use banana_library::{BatchId, BatchState};
use banana_providers::gemini_batch::{KeyedResult, RemoteState};
use banana_providers::{CallContext, GenerateRequest, InputBytes};

/// A batch's name and the recipes of its requests that made nothing.
pub type FailedRequests = super::Answer<Result<(String, Vec<Recipe>), super::TaskError>>;

/// What a deferred batch costs against the standard rate.
pub const BATCH_PRICE_FACTOR: f64 = 0.5;

/// The longest wait between two polls of a batch.
const MAX_POLL_GAP: Duration = Duration::from_secs(300);

impl Engine {
    /// Checks every recipe (Gemini only; no refinement, mask or mark-up), records the
    /// batch and sends it; `Event::DeferredSubmitted` follows, then `BatchProgress` as
    /// it moves, then each request's job as its result is stored.
    pub fn submit_deferred(
        &self,
        name: String,
        recipes: Vec<Recipe>,
    ) -> Result<(), ValidationError> {
        // One image a request: a recipe asking for N is N requests (seeds apart).
        let recipes: Vec<Recipe> = recipes
            .into_iter()
            .flat_map(|r| {
                (0..r.count.max(1)).map(move |i| {
                    let mut one = r.clone();
                    one.count = 1;
                    one.seed = one.seed.map(|s| s.wrapping_add(u64::from(i)));
                    one
                })
            })
            .collect();
        if recipes.is_empty() {
            return Err(ValidationError {
                field: "batch",
                message: "the batch has no requests".to_owned(),
            });
        }
        for (i, recipe) in recipes.iter().enumerate() {
            let refuse = |message: String| ValidationError {
                field: "batch",
                message: format!("request {}: {message}", i + 1),
            };
            if recipe.provider != ProviderId::Gemini {
                return Err(refuse(format!(
                    "deferred batches go through the Gemini Batch API; {} has none. Send it now \
                     instead, or pick the Gemini API",
                    recipe.provider.label()
                )));
            }
            if recipe.mask.is_some() || recipe.markup.is_some() {
                return Err(refuse(
                    "a masked or marked-up edit cannot be deferred; send it now".to_owned(),
                ));
            }
            self.check_submittable(recipe)
                .map_err(|e| refuse(e.message))?;
        }
        self.check_batch_budget(&recipes)?;
        // What it is expected to cost at the batch rate; the sandbox is free.
        let catalog = self.catalog();
        let estimate = (!self.status(ProviderId::Gemini).sandbox).then(|| {
            recipes
                .iter()
                .filter_map(|r| r.estimate_cost(&catalog).usd)
                .sum::<f64>()
                * BATCH_PRICE_FACTOR
        });
        let inner = self.inner.clone();
        self.spawn(async move {
            let recorded = super::batch_tasks::record(&inner, name, recipes, Some(estimate)).await;
            if let Some(batch) = recorded {
                report(&inner, batch).await;
                if submit(&inner, batch).await {
                    follow(inner, batch).await;
                }
            }
        });
        Ok(())
    }

    /// Follows every deferred batch not yet done (at start): polls each and stores its
    /// results when they come.
    pub fn follow_deferred(&self) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let open = inner
                .blocking(|lib| lib.library.open_deferred().map_err(|e| e.to_string()))
                .await
                .unwrap_or_default();
            for batch in open {
                if batch.remote.is_none() {
                    // Cut off while being sent: it may or may not have reached the
                    // service, and sending it again could pay twice.
                    let note = "the app closed while sending it, so it may or may not have \
                                reached Google; look in Google AI Studio's batch list before \
                                sending it again";
                    let id = batch.id;
                    let _ = inner
                        .blocking(move |lib| {
                            lib.library
                                .close_deferred(id, BatchState::Cancelled, "unknown", Some(note))
                                .map_err(|e| e.to_string())
                        })
                        .await;
                    report(&inner, id).await;
                    continue;
                }
                let inner = inner.clone();
                tokio::spawn(follow(inner, batch.id));
            }
        });
    }

    /// The name and the recipes of a batch's requests that made nothing (expired,
    /// failed, cancelled, never sent), to send again as a new batch.
    pub fn failed_requests(&self, batch: BatchId) -> FailedRequests {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let found = inner
                .run_blocking(move |lib| {
                    let name = lib
                        .library
                        .batch(batch)?
                        .map(|b| b.name)
                        .unwrap_or_default();
                    Ok::<_, banana_library::LibraryError>((
                        name,
                        lib.library.failed_requests(batch)?,
                    ))
                })
                .await;
            reply.send(found);
        });
        answer
    }

    /// Asks the service about a deferred batch once, storing its results if they are
    /// there; answers whether it is over.
    pub fn poll_deferred(&self, batch: BatchId) -> super::Answer<bool> {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            reply.send(poll_once(&inner, batch).await);
        });
        answer
    }

    /// Asks the service to stop a deferred batch; what it made so far is still stored.
    pub fn cancel_deferred(&self, batch: BatchId) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let remote = inner
                .blocking(move |lib| {
                    Ok(lib
                        .library
                        .batch(batch)
                        .map_err(|e| e.to_string())?
                        .and_then(|b| b.remote))
                })
                .await
                .ok()
                .flatten();
            let (Some(remote), Some(gemini)) = (remote, gemini_slot(&inner)) else {
                return;
            };
            let Some(provider) = gemini.provider.as_gemini() else {
                return;
            };
            if let Err(e) = provider
                .cancel_batch(&remote, &CallContext::detached())
                .await
            {
                inner.emit(Event::LibraryFailed {
                    message: format!("the batch could not be cancelled: {e}"),
                });
            }
            poll_once(&inner, batch).await;
        });
    }
}

fn gemini_slot(inner: &Inner) -> Option<Arc<super::Slot>> {
    inner.slot(ProviderId::Gemini)
}

async fn report(inner: &Arc<Inner>, batch: BatchId) {
    if let Ok(Some(summary)) = inner
        .blocking(move |lib| lib.library.batch(batch).map_err(|e| e.to_string()))
        .await
    {
        inner.emit(Event::BatchProgress {
            summary: Box::new(summary),
            seconds_left: None,
        });
    }
}

/// Sends the batch; whether the service accepted it.
async fn submit(inner: &Arc<Inner>, batch: BatchId) -> bool {
    let catalog = inner
        .catalog
        .read()
        .map(|c| c.clone())
        .unwrap_or_else(|_| Catalog::bundled());
    let loaded = inner
        .blocking(move |lib| {
            let name = lib
                .library
                .batch(batch)
                .map_err(|e| e.to_string())?
                .map(|b| b.name)
                .unwrap_or_default();
            let requests = lib
                .library
                .batch_requests(batch)
                .map_err(|e| e.to_string())?;
            let requests = requests
                .into_iter()
                .map(|(position, recipe, _)| {
                    let inputs = recipe
                        .inputs
                        .iter()
                        .map(|i| {
                            Ok(InputBytes {
                                mime: i.mime.clone(),
                                bytes: Arc::new(lib.library.read_input(i).map_err(|e| {
                                    format!("an input image is missing from the library: {e}")
                                })?),
                            })
                        })
                        .collect::<Result<Vec<_>, String>>()?;
                    Ok((position, recipe, inputs))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok((name, requests))
        })
        .await;
    let failed = |message: String| async move {
        let note = message.clone();
        let _ = inner
            .blocking(move |lib| {
                lib.library
                    .close_deferred(batch, BatchState::Cancelled, "failed", Some(&note))
                    .map_err(|e| e.to_string())
            })
            .await;
        report(inner, batch).await;
        inner.emit(Event::SubmitFailed {
            message: format!("the deferred batch was not sent: {message}"),
        });
        false
    };
    let (name, loaded) = match loaded {
        Ok(loaded) => loaded,
        Err(message) => return failed(message).await,
    };
    let Some(slot) = gemini_slot(inner) else {
        return failed("the Gemini API is not available".to_owned()).await;
    };
    let Some(provider) = slot.provider.as_gemini() else {
        return failed("the Gemini API is not available".to_owned()).await;
    };
    // One image a request: a recipe asking for N is N requests of the batch, each its
    // own job (so the keys name the request and the copy).
    let mut requests = Vec::new();
    let mut model_id = None;
    for (position, recipe, inputs) in loaded {
        let Some(model) = catalog.model(recipe.provider, &recipe.model).cloned() else {
            return failed(format!("the model {} is not in the catalog", recipe.model)).await;
        };
        model_id.get_or_insert_with(|| model.request_id(recipe.is_edit()).to_owned());
        let mut one = recipe.clone();
        one.count = 1;
        requests.push((
            format!("p{position}"),
            GenerateRequest {
                recipe: one,
                model,
                inputs,
                history: Vec::new(),
            },
        ));
    }
    let model_id = model_id.unwrap_or_default();
    // Named so it is recognised in Google AI Studio's batch list.
    let display = format!("{name} · Banana Studio batch {batch}");
    match provider
        .submit_batch(&model_id, &display, &requests, &CallContext::detached())
        .await
    {
        Ok(remote) => {
            let name = remote.clone();
            let kept = inner
                .blocking(move |lib| {
                    lib.library
                        .set_remote(batch, Some(&name), "pending", None)
                        .map_err(|e| e.to_string())
                })
                .await;
            if let Err(e) = kept {
                tracing::error!("batch {batch} was sent as {remote} but could not be noted: {e}");
            }
            inner.emit(Event::DeferredSubmitted {
                batch,
                remote,
                requests: requests.len() as u32,
            });
            report(inner, batch).await;
            true
        }
        Err(e) => failed(e.to_string()).await,
    }
}

/// Polls a batch until it is over: soon after sending, then less and less often.
async fn follow(inner: Arc<Inner>, batch: BatchId) {
    let mut gap = inner.deferred_first_poll;
    loop {
        tokio::time::sleep(gap).await;
        if poll_once(&inner, batch).await {
            return;
        }
        // Half again as long each time: seconds at first, minutes within the hour.
        gap = (gap * 3 / 2).min(MAX_POLL_GAP);
    }
}

/// Asks the service once; stores the results when they are there. Whether the batch
/// is over (or can no longer be followed).
pub(crate) async fn poll_once(inner: &Arc<Inner>, batch: BatchId) -> bool {
    let found = inner
        .blocking(move |lib| lib.library.batch(batch).map_err(|e| e.to_string()))
        .await;
    let Ok(Some(summary)) = found else {
        return true;
    };
    let Some(remote) = summary.remote.clone().filter(|_| !summary.is_over()) else {
        return true;
    };
    let Some(slot) = gemini_slot(inner) else {
        return false;
    };
    let Some(provider) = slot.provider.as_gemini() else {
        return true;
    };
    let status = match provider
        .batch_status(&remote, &CallContext::detached())
        .await
    {
        Ok(status) => status,
        Err(e) => {
            tracing::warn!("batch {remote} could not be polled: {e}");
            let note = format!("could not be asked about just now ({e}); asking again later");
            let state = summary.remote_state.clone().unwrap_or_default();
            let _ = inner
                .blocking(move |lib| {
                    lib.library
                        .set_remote(batch, None, &state, Some(&note))
                        .map_err(|e| e.to_string())
                })
                .await;
            report(inner, batch).await;
            return false;
        }
    };
    let state = status.state;
    let over = state.is_over();
    if state == RemoteState::Succeeded {
        store_results(inner, batch, status.results, slot.sandbox).await;
    }
    let note =
        match state {
            RemoteState::Failed => Some(status.error.unwrap_or_else(|| {
                "the service failed the batch; send its requests again".to_owned()
            })),
            RemoteState::Expired => Some(
                "not done within 24 hours; send its requests again (now, or deferred)".to_owned(),
            ),
            _ => None,
        };
    let local = match state {
        RemoteState::Cancelled => Some(BatchState::Cancelled),
        _ if over => Some(BatchState::Finished),
        _ => None,
    };
    let _ = inner
        .blocking(move |lib| {
            match local {
                Some(end) => {
                    lib.library
                        .close_deferred(batch, end, state.as_str(), note.as_deref())
                }
                None => lib
                    .library
                    .set_remote(batch, None, state.as_str(), note.as_deref()),
            }
            .map_err(|e| e.to_string())
        })
        .await;
    report(inner, batch).await;
    over
}

/// Stores each result as its request's job, at the batch rate. A request whose job is
/// written already (a fetch cut short) is not stored again.
async fn store_results(
    inner: &Arc<Inner>,
    batch: BatchId,
    results: Vec<KeyedResult>,
    sandbox: bool,
) {
    let catalog = inner
        .catalog
        .read()
        .map(|c| c.clone())
        .unwrap_or_else(|_| Catalog::bundled());
    let requests = inner
        .blocking(move |lib| lib.library.batch_requests(batch).map_err(|e| e.to_string()))
        .await
        .unwrap_or_default();
    for result in results {
        let Some(position) = result
            .key
            .strip_prefix('p')
            .and_then(|p| p.parse::<u32>().ok())
        else {
            tracing::warn!("batch {batch}: a result with an unknown key {}", result.key);
            continue;
        };
        let Some((_, recipe, job)) = requests.iter().find(|(p, _, _)| *p == position) else {
            continue;
        };
        if job.is_some() {
            continue;
        }
        let lineage = jobs::Lineage {
            batch: Some((batch, position)),
            ..jobs::Lineage::default()
        };
        let Some((job, _cancel)) = jobs::create(inner, recipe, lineage).await else {
            continue;
        };
        if let Ok(mut running) = inner.running.lock() {
            running.remove(&job);
        }
        let Some(model) = catalog.model(recipe.provider, &recipe.model).cloned() else {
            continue;
        };
        match result.outcome {
            Ok(output) => {
                let warnings = size_warning(&model, recipe, &catalog, &output)
                    .into_iter()
                    .collect();
                let stored = jobs::Stored {
                    job,
                    recipe: recipe.clone(),
                    sandbox,
                    price_factor: BATCH_PRICE_FACTOR,
                    warnings,
                };
                jobs::set_state(inner, job, banana_library::JobState::Storing).await;
                jobs::store_output(
                    inner,
                    stored,
                    &model,
                    &catalog,
                    output,
                    Arc::new(super::store::Early::default()),
                    None,
                )
                .await;
            }
            Err(e) => jobs::fail(inner, job, e.kind(), e.to_string()).await,
        }
    }
}

/// Words for an image of another size than asked (the batch service is known to
/// ignore `imageConfig` at times).
fn size_warning(
    model: &banana_core::recipe::ModelInfo,
    recipe: &Recipe,
    catalog: &Catalog,
    output: &banana_providers::GenerateOutput,
) -> Option<String> {
    let aspect = match recipe.aspect {
        banana_core::recipe::AspectRatio::Auto => return None,
        a => a,
    };
    let (w, h) = model.pixel_size(aspect, recipe.effective_size(catalog))?;
    let image = output.images.first()?;
    let (gw, gh) = banana_imaging::dimensions(&image.bytes).ok()?;
    ((gw, gh) != (w, h)).then(|| {
        format!(
            "asked for {w}x{h}; the batch service made {gw}x{gh} (it ignores the size at times). \
             Run it again now if the size matters"
        )
    })
}
