//! One job from queue to stored images: Created -> Running -> Storing -> an end state.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Event, Inner, lineage, spool, store, thumbs};
use banana_core::recipe::{Catalog, Recipe};
use banana_library::{ImageId, JobId, JobState};
use banana_providers::{
    CallContext, ErrorKind, GenerateRequest, InputBytes, OutputImage, Progress, Thought,
};

/// The longest side of an interim thought image as the front ends get it.
const THOUGHT_PICTURE_SIDE_PX: u32 = 512;

/// Where a job comes from: a retry of another, a refinement of an image.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Lineage {
    pub retry_of: Option<JobId>,
    pub parent_image: Option<ImageId>,
    /// The job whose recipe this one runs on another provider.
    pub same_recipe_of: Option<JobId>,
    /// The batch and request (position) this job is.
    pub batch: Option<(banana_library::BatchId, u32)>,
    /// The result this job edits (its first input), recorded as its parent in the
    /// lineage without continuing that result's conversation.
    pub edit_of: Option<ImageId>,
}

/// What to pick instead of a model the service no longer has: its successor, and the
/// models this key can use when the live list is known.
fn model_gone_words(catalog: &Catalog, model: &banana_core::recipe::ModelInfo) -> String {
    let mut words = String::new();
    if let Some(next) = catalog.successor(model) {
        words.push_str(&format!(
            ". Its successor is {} ({}): \"Same recipe on\" it, or pick it in the prompt panel",
            next.brand, next.id
        ));
    }
    let live: Vec<String> = catalog
        .models_of(model.provider)
        .filter(|m| m.live == Some(true) && m.id != model.id)
        .map(|m| m.id.clone())
        .collect();
    if !live.is_empty() {
        words.push_str(&format!(". This key can use: {}", live.join(", ")));
    }
    words
}

/// The stored result a recipe edits: the one its first input was made from.
pub(super) async fn edited_result(inner: &Arc<Inner>, recipe: &Recipe) -> Option<ImageId> {
    let sha = recipe.inputs.first()?.sha256.clone();
    inner
        .blocking(move |lib| lib.library.result_of_input(&sha).map_err(|e| e.to_string()))
        .await
        .ok()
        .flatten()
}

/// Writes the job first, then queues and runs it.
pub(super) async fn create_and_run(inner: Arc<Inner>, recipe: Recipe, lineage: Lineage) {
    if let Some((job, cancel)) = create(&inner, &recipe, lineage).await {
        run_created(inner, job, recipe, lineage, cancel).await;
    }
}

/// Writes the job (in its batch, when it is a batch's request) and tells the front
/// ends; None (and `Event::SubmitFailed`) when it could not be written.
pub(super) async fn create(
    inner: &Arc<Inner>,
    recipe: &Recipe,
    lineage: Lineage,
) -> Option<(JobId, CancellationToken)> {
    let retry_of = lineage.retry_of;
    let Some(slot) = inner.slot(recipe.provider) else {
        inner.emit(Event::SubmitFailed {
            message: format!("{} is not available", recipe.provider.label()),
        });
        return None;
    };
    let sandbox = slot.sandbox;
    let stored = recipe.clone();
    let parent = lineage.parent_image.or(lineage.edit_of);
    let origin = lineage.same_recipe_of;
    let created = inner
        .blocking(move |lib| {
            if let Some((batch, position)) = lineage.batch {
                return lib
                    .library
                    .create_batch_job(batch, position, &stored, sandbox)
                    .map_err(|e| e.to_string());
            }
            let job = lib
                .library
                .create_child_job(&stored, sandbox, retry_of, parent)
                .map_err(|e| e.to_string())?;
            if let Some(origin) = origin {
                lib.library
                    .set_same_recipe_of(job, origin)
                    .map_err(|e| e.to_string())?;
            }
            Ok(job)
        })
        .await;
    let job = match created {
        Ok(job) => job,
        Err(message) => {
            tracing::error!("could not record a job: {message}");
            inner.emit(Event::SubmitFailed { message });
            return None;
        }
    };
    let cancel = CancellationToken::new();
    if let Ok(mut running) = inner.running.lock() {
        running.insert(job, cancel.clone());
    }
    inner.emit(Event::JobCreated {
        job,
        recipe: Box::new(recipe.clone()),
        sandbox,
        retry_of,
        batch: lineage.batch.map(|(batch, _)| batch),
    });
    Some((job, cancel))
}

/// Runs a written job to its end.
pub(super) async fn run_created(
    inner: Arc<Inner>,
    job: JobId,
    recipe: Recipe,
    lineage: Lineage,
    cancel: CancellationToken,
) {
    run(&inner, job, recipe, lineage.parent_image, cancel).await;
    if let Ok(mut running) = inner.running.lock() {
        running.remove(&job);
    }
}

/// Puts a guide (the photo tinted or marked up) after the clean photo where the model
/// takes both, else in its place; returns the words that say how to read it.
fn with_guide(
    inputs: &mut Vec<InputBytes>,
    guide: InputBytes,
    room: bool,
    words: (&'static str, &'static str),
) -> &'static str {
    if room || inputs.is_empty() {
        inputs.insert(1.min(inputs.len()), guide);
        words.0
    } else {
        inputs[0] = guide;
        words.1
    }
}

pub(super) async fn set_state(inner: &Arc<Inner>, job: JobId, state: JobState) {
    let result = inner
        .blocking(move |lib| lib.library.set_state(job, state).map_err(|e| e.to_string()))
        .await;
    if let Err(e) = result {
        tracing::error!(
            target: crate::notify::TARGET,
            job,
            "Job #{job}: the history could not record that it is {} ({e}); the job goes on",
            state.as_str()
        );
    }
    inner.emit(Event::JobState { job, state });
}

pub(super) async fn fail(inner: &Arc<Inner>, job: JobId, kind: ErrorKind, message: String) {
    tracing::warn!(job, kind = kind.as_str(), "job ended: {message}");
    let text = message.clone();
    let result = inner
        .blocking(move |lib| {
            lib.library
                .fail_job(job, kind, &text)
                .map_err(|e| e.to_string())
        })
        .await;
    if let Err(e) = result {
        tracing::error!(
            target: crate::notify::TARGET,
            job,
            "Job #{job}: the history could not record its failure ({e})"
        );
    }
    inner.emit(Event::JobFailed { job, kind, message });
}

async fn run(
    inner: &Arc<Inner>,
    job: JobId,
    recipe: Recipe,
    parent: Option<ImageId>,
    cancel: CancellationToken,
) {
    let Some(slot) = inner.slot(recipe.provider) else {
        return;
    };
    // Wait for a slot of this provider; a cancel while queued ends the job here.
    let permit = tokio::select! {
        biased;
        () = cancel.cancelled() => {
            fail(inner, job, ErrorKind::Cancelled, "cancelled before it started".into()).await;
            return;
        }
        permit = slot.semaphore.clone().acquire_owned() => permit,
    };
    let Ok(permit) = permit else { return };
    set_state(inner, job, JobState::Running).await;

    let catalog = inner
        .catalog
        .read()
        .map(|c| c.clone())
        .unwrap_or_else(|_| Catalog::bundled());
    let Some(model) = catalog.model(recipe.provider, &recipe.model).cloned() else {
        fail(
            inner,
            job,
            ErrorKind::InvalidInput,
            format!("the model {} is not in the catalog", recipe.model),
        )
        .await;
        return;
    };
    let wanted = recipe.clone();
    let loaded = inner
        .blocking(move |lib| {
            let inputs = wanted
                .inputs
                .iter()
                .map(|i| {
                    let bytes = lib
                        .library
                        .read_input(i)
                        .map_err(|e| format!("an input image is missing from the library: {e}"))?;
                    Ok(InputBytes {
                        mime: i.mime.clone(),
                        bytes: Arc::new(bytes),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let history = match parent {
                Some(parent) => lineage::conversation(&lib.library, parent, &wanted)?,
                None => Vec::new(),
            };
            let masked = match &wanted.mask {
                Some(spec) => Some(masked_edit(&lib.library, spec, &inputs)?),
                None => None,
            };
            let marked = match &wanted.markup {
                Some(spec) => Some(InputBytes {
                    mime: spec.guide.mime.clone(),
                    bytes: Arc::new(lib.library.read_input(&spec.guide).map_err(|e| {
                        format!("the marked-up copy is missing from the library: {e}")
                    })?),
                }),
                None => None,
            };
            Ok((inputs, history, masked, marked))
        })
        .await;
    let (mut inputs, history, masked, marked) = match loaded {
        Ok(loaded) => loaded,
        Err(message) => {
            fail(inner, job, ErrorKind::Storage, message).await;
            return;
        }
    };
    // A masked edit shows the model where: the clean photo, then the photo with the
    // region tinted, and words saying to change only that. What comes back is put into
    // the original when it is stored (`store::composite`).
    // Mark-up likewise: the clean photo, then the photo with the marks drawn.
    let mut sent = recipe.clone();
    let room = inputs.len() < model.max_inputs as usize;
    let masked = masked.map(|(guide, masked)| {
        let words = with_guide(&mut inputs, guide, room, banana_imaging::mask::GUIDE_WORDS);
        sent.prompt = format!("{} {words}", sent.prompt.trim());
        Arc::new(masked)
    });
    if let Some(guide) = marked {
        let words = with_guide(
            &mut inputs,
            guide,
            room,
            banana_imaging::drawing::MARKUP_WORDS,
        );
        sent.prompt = format!("{} {words}", sent.prompt.trim());
    }
    let request = GenerateRequest {
        recipe: sent,
        model: model.clone(),
        inputs,
        history,
    };
    let progress_inner = inner.clone();
    let attempt_timeout = inner
        .attempt_timeout()
        .unwrap_or_else(|| model.attempt_deadline(recipe.effective_size(&catalog)));
    // Each image is checked and saved as soon as it is read, while the job's other
    // requests are still under way.
    let early = Arc::new(store::Early::default());
    let on_image = {
        let (early, inner, format) = (early.clone(), inner.clone(), recipe.format);
        let masked = masked.clone();
        Arc::new(move |image: &OutputImage| early.start(&inner, image, format, masked.clone()))
    };
    let on_thought = (inner.show_thinking() && model.thinks()).then(|| {
        let inner = inner.clone();
        Arc::new(move |thought: Thought| {
            let picture = thought.image.and_then(|image| {
                let decoded = banana_imaging::decode(&image.bytes).ok()?;
                let side = THOUGHT_PICTURE_SIDE_PX;
                Some(Arc::new(banana_imaging::Rgba::from(
                    decoded.thumbnail(side, side),
                )))
            });
            inner.emit(Event::JobThought {
                job,
                request: thought.request,
                text: thought.text,
                picture,
            });
        }) as banana_providers::ThoughtListener
    });
    let ctx = CallContext {
        attempt_timeout: Some(attempt_timeout),
        on_image: Some(on_image),
        on_thought,
        // A masked edit's answer is put back into the original before it is stored.
        spool: masked.is_none().then(|| {
            Arc::new(spool::LibrarySpool::new(
                inner.library.root().to_owned(),
                inner.ahead_of_thumbs.clone(),
            )) as Arc<dyn banana_providers::spool::Spool>
        }),
        cancel: cancel.clone(),
        progress: Arc::new(move |p: Progress| {
            let message = match p {
                Progress::Retrying(n) => format!(
                    "attempt {} failed ({}); retrying in {:.1} s",
                    n.attempt,
                    n.reason,
                    n.wait.as_secs_f32()
                ),
                Progress::Note(text) => text,
            };
            progress_inner.emit(Event::JobProgress { job, message });
        }),
    };
    let output = match slot.provider.generate(&request, &ctx).await {
        Ok(output) => output,
        Err(e) => {
            let mut message = e.to_string();
            if e.kind() == ErrorKind::ModelNotFound {
                message.push_str(&model_gone_words(&catalog, &model));
            }
            fail(inner, job, e.kind(), message).await;
            return;
        }
    };
    // The provider's slot goes to the next request as soon as this answer is held (see
    // `Slot::held`), so the next request's wait on the service overlaps this saving.
    // Neither semaphore closes before the engine ends.
    let Ok(_held) = slot.held.clone().acquire_owned().await else {
        return;
    };
    set_state(inner, job, JobState::Storing).await;
    drop(permit);
    let Ok(_saving) = inner.store_gate.clone().acquire_owned().await else {
        return;
    };
    let stored = Stored {
        job,
        recipe,
        sandbox: slot.sandbox,
        price_factor: 1.0,
        warnings: Vec::new(),
    };
    store_output(inner, stored, &model, &catalog, output, early, masked).await;
}

/// A job whose answer is to be stored: what it asked and how it is billed.
pub(super) struct Stored {
    pub job: JobId,
    pub recipe: Recipe,
    pub sandbox: bool,
    /// What its usage costs against the standard rate (a deferred batch: half).
    pub price_factor: f64,
    /// Things to tell about it besides the service's own partial failures.
    pub warnings: Vec<String>,
}

/// Stores a job's answer (cost, sources, images) and says how it ended.
pub(super) async fn store_output(
    inner: &Arc<Inner>,
    stored: Stored,
    model: &banana_core::recipe::ModelInfo,
    catalog: &Catalog,
    output: banana_providers::GenerateOutput,
    early: Arc<store::Early>,
    masked: Option<Arc<store::Masked>>,
) {
    let _ahead = inner.ahead_of_thumbs.begin();
    let Stored {
        job,
        recipe,
        sandbox,
        price_factor,
        mut warnings,
    } = stored;
    // What the service says it charged wins; then what its reported usage costs at the
    // model's rates; then the catalog's estimate. The sandbox is free.
    let usage = output.charged.usage;
    let cost = banana_library::JobCost {
        usd: if sandbox {
            Some(0.0)
        } else {
            output
                .charged
                .usd
                .or_else(|| Some(usage?.cost_usd(&model.rates?) * price_factor))
                .or_else(|| {
                    model
                        .price_per_image(recipe.effective_size(catalog))
                        .map(|p| p * output.images.len() as f64 * price_factor)
                })
        },
        credits: output.charged.credits,
        usage,
    };
    warnings.extend(output.partial_failures.iter().cloned());
    if let Some(left) = output.charged.credits_left {
        inner.note_credits(recipe.provider, left);
    }
    if let Some(grounding) = output.grounding.clone() {
        let kept = inner
            .blocking(move |lib| {
                lib.library
                    .set_grounding(job, &grounding)
                    .map_err(|e| e.to_string())
            })
            .await;
        if let Err(e) = kept {
            tracing::warn!(
                job,
                "the sources of a grounded answer could not be kept ({e})"
            );
        }
    }
    let early = early.finish().await;
    // Giving a job's pictures back to the system takes a few ms per 4K picture: that is
    // done after the job is told of, not before.
    let pictures: Vec<Arc<Vec<u8>>> = output.images.iter().map(|i| i.bytes.clone()).collect();
    let stored = inner
        .blocking(move |lib| store::store(lib, job, &recipe, output, cost, early, masked))
        .await;
    match stored {
        Ok(Ok(generation)) => {
            thumbs::make_missing(inner, &generation);
            inner.emit(Event::JobSucceeded {
                generation: Box::new(generation),
                warnings,
            });
        }
        Ok(Err(unreadable)) => fail(inner, job, ErrorKind::BadResponse, unreadable).await,
        Err(message) => fail(inner, job, ErrorKind::Storage, message).await,
    }
    tokio::task::spawn_blocking(move || drop(pictures));
}

/// The guide image for a masked edit and what storing needs: the first input and the
/// mask at its size, feathered. The mask was checked when the job was made; a stored
/// file that no longer reads fails the job in words.
fn masked_edit(
    library: &banana_library::Library,
    spec: &banana_core::recipe::MaskSpec,
    inputs: &[InputBytes],
) -> Result<(InputBytes, store::Masked), String> {
    let first = inputs
        .first()
        .ok_or("a masked edit needs the photo to edit as its first input")?;
    let sent = banana_imaging::decode(&first.bytes)
        .map_err(|e| format!("the photo to edit cannot be read: {e}"))?
        .to_rgba8();
    let original_bytes = library
        .read_input(&spec.original)
        .map_err(|e| format!("the photo to edit is missing from the library: {e}"))?;
    let original = banana_imaging::decode(&original_bytes)
        .map_err(|e| format!("the photo to edit cannot be read: {e}"))?
        .to_rgba8();
    let mask_bytes = library
        .read_input(&spec.image)
        .map_err(|e| format!("the mask is missing from the library: {e}"))?;
    let (w, h) = original.dimensions();
    let mask = banana_imaging::mask::load_mask(&mask_bytes, w, h).map_err(|e| e.to_string())?;
    // The guide at the size of the copy sent, the region tinted on it.
    let (sw, sh) = sent.dimensions();
    let small_mask = if (sw, sh) == (w, h) {
        mask.clone()
    } else {
        image::imageops::resize(&mask, sw, sh, image::imageops::FilterType::Triangle)
    };
    let guide = banana_imaging::mask::guide(&sent, &small_mask);
    let guide_png = banana_imaging::encode(
        &image::DynamicImage::ImageRgba8(guide),
        banana_core::recipe::OutputFormat::Png,
    )
    .map_err(|e| e.to_string())?;
    let feathered = banana_imaging::mask::feather(&mask, spec.feather_px);
    Ok((
        InputBytes {
            mime: "image/png".to_owned(),
            bytes: Arc::new(guide_png),
        },
        store::Masked {
            original,
            mask: feathered,
        },
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use banana_core::recipe::{LiveModel, ProviderId};

    #[test]
    fn a_model_the_service_no_longer_has_names_its_successor_and_the_live_list() {
        let mut catalog = Catalog::bundled();
        let live = |id: &str| LiveModel {
            id: id.to_owned(),
            display_name: id.to_owned(),
            generates: true,
        };
        catalog.merge_live(
            ProviderId::Gemini,
            &[live("gemini-nano-banana-2.1"), live("gemini-3-pro-image")],
        );
        let gone = catalog
            .model(ProviderId::Gemini, "gemini-2.5-flash-image")
            .unwrap()
            .clone();
        let words = model_gone_words(&catalog, &gone);
        assert!(
            words.contains("Its successor is Nano Banana 2.1 (gemini-nano-banana-2.1)"),
            "{words}"
        );
        assert!(
            words.ends_with("This key can use: gemini-nano-banana-2.1, gemini-3-pro-image"),
            "{words}"
        );
    }
}
