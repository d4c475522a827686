//! Running a stored job's recipe again: a retry, a new seed or more images, or the same
//! recipe on another provider (linked to the family's first job, to compare).

use super::{Engine, Event, jobs};
use banana_core::recipe::ProviderId;
use banana_library::JobId;

/// How a stored job is run again.
#[derive(Clone, Copy, Debug)]
pub(super) enum Rerun {
    /// The same recipe, after a failure.
    Retry,
    /// The same recipe with a new seed, optionally more images.
    Regenerate { count: Option<u8> },
    /// The same recipe on another provider, to compare.
    OnProvider(ProviderId),
    /// The same recipe on the successor of its model, which has shut down.
    OnSuccessor,
}

impl Engine {
    /// Runs a failed, cancelled or interrupted job's recipe again as a new job.
    pub fn retry(&self, job: JobId) {
        self.rerun(job, Rerun::Retry);
    }

    /// Repeats a job's recipe with a new seed where the model takes one; `count`
    /// asks for that many images instead (variations).
    pub fn regenerate(&self, job: JobId, count: Option<u8>) {
        self.rerun(job, Rerun::Regenerate { count });
    }

    /// Runs a job's recipe on another provider (its model of the same brand); the new
    /// job is linked to the first of the family, so they can be listed side by side.
    pub fn rerun_on(&self, job: JobId, provider: ProviderId) {
        self.rerun(job, Rerun::OnProvider(provider));
    }

    /// Runs a job's recipe on the successor of its model (one that has shut down), as a
    /// retry of it; the size and thinking level follow what the successor takes.
    pub fn rerun_on_successor(&self, job: JobId) {
        self.rerun(job, Rerun::OnSuccessor);
    }

    fn rerun(&self, job: JobId, how: Rerun) {
        let inner = self.inner.clone();
        let catalog = self.catalog();
        self.spawn(async move {
            let record = inner
                .blocking(move |lib| {
                    lib.library
                        .job(job)
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("job {job} is not in the history"))
                })
                .await;
            let record = match record {
                Ok(record) => record,
                Err(message) => {
                    inner.emit(Event::SubmitFailed { message });
                    return;
                }
            };
            let mut recipe = record.recipe;
            let mut same_recipe_of = None;
            let retry_of = match how {
                Rerun::Retry => Some(job),
                Rerun::OnProvider(provider) => match recipe.on_provider(provider, &catalog) {
                    Ok(translated) => {
                        recipe = translated;
                        same_recipe_of = Some(record.same_recipe_of.unwrap_or(job));
                        None
                    }
                    Err(e) => {
                        inner.emit(Event::SubmitFailed {
                            message: format!("{} cannot run this recipe: {e}", provider.label()),
                        });
                        return;
                    }
                },
                Rerun::OnSuccessor => {
                    let next = catalog
                        .model(recipe.provider, &recipe.model)
                        .and_then(|m| catalog.successor(m))
                        .cloned();
                    let Some(next) = next else {
                        inner.emit(Event::SubmitFailed {
                            message: format!(
                                "{} has no successor in the catalog; pick another model",
                                recipe.model
                            ),
                        });
                        return;
                    };
                    recipe.model = next.id.clone();
                    if !recipe.size.is_some_and(|s| next.sizes.contains(&s)) {
                        recipe.size = next.default_size;
                    }
                    if recipe
                        .thinking
                        .is_some_and(|l| !next.thinking_levels.contains(&l))
                    {
                        recipe.thinking = None;
                    }
                    let searchable = |s: banana_core::recipe::Search| {
                        s.kinds()
                            .iter()
                            .all(|k| next.grounding.iter().any(|g| g == k))
                    };
                    if recipe.search.is_some_and(|s| !searchable(s)) {
                        recipe.search = None;
                    }
                    if !next.takes_ratio(recipe.aspect) {
                        recipe.aspect = banana_core::recipe::AspectRatio::Auto;
                    }
                    Some(job)
                }
                Rerun::Regenerate { count } => {
                    if catalog
                        .model(recipe.provider, &recipe.model)
                        .is_some_and(|m| m.seed)
                    {
                        recipe.seed = Some(u64::from(rand::random::<u32>() & 0x7fff_ffff));
                    }
                    if let Some(count) = count {
                        recipe.count = count;
                    }
                    None
                }
            };
            // A parent that is the edited photo (the first input made from it) is an
            // edit's, not a refinement's: its conversation is not continued.
            let edited = jobs::edited_result(&inner, &recipe).await;
            let (parent_image, edit_of) = match record.parent_image_id {
                Some(p) if edited == Some(p) => (None, Some(p)),
                other => (other, None),
            };
            // Spending caps first: a re-run costs what the first run did.
            let (asked, known) = (recipe.clone(), catalog.clone());
            let refusal = inner
                .blocking(move |lib| Ok(lib.budget_refusal(std::slice::from_ref(&asked), &known)))
                .await
                .unwrap_or_else(Some);
            if let Some(message) = refusal {
                inner.emit(Event::SubmitFailed { message });
                return;
            }
            match recipe.validate(&catalog) {
                Ok(()) => {
                    let lineage = jobs::Lineage {
                        retry_of,
                        parent_image,
                        same_recipe_of,
                        batch: None,
                        edit_of,
                    };
                    jobs::create_and_run(inner, recipe, lineage).await;
                }
                Err(e) => inner.emit(Event::SubmitFailed {
                    message: e.to_string(),
                }),
            }
        });
    }
}
