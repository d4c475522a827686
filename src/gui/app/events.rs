//! The app's answer to engine events: panels follow them; toasts say what happened.

use super::super::toasts::{Action, Level, Notice};
use super::BananaApp;
use crate::engine::Event;
use crate::gui::Command;
use crate::providers::ErrorKind;
use crate::recipe::AspectRatio;

impl BananaApp {
    pub(super) fn on_event(&mut self, ctx: &egui::Context, event: Event) {
        if matches!(event, Event::ProvidersChanged) {
            self.on_providers_changed();
        }
        self.jobs.on_event(&event);
        self.thinking.on_event(ctx, &event);
        if let Some(words) = self.batches.on_event(&event) {
            self.toasts.add(Level::Info, words);
        }
        if matches!(event, Event::Batches(_) | Event::BatchProgress { .. }) {
            self.history.batches = self.batches.all().to_vec();
        }
        let follow = match &event {
            Event::JobSucceeded { generation, .. } => !self.batches.is_batch_job(generation.job.id),
            _ => true,
        };
        self.gallery.on_event(&event, follow);
        self.lineage.on_event(&event);
        let model = self
            .catalog
            .model(self.state.draft.provider, &self.state.draft.model);
        let had_inputs = !self.state.draft.inputs.is_empty();
        self.tray
            .on_event(ctx, &event, &mut self.state.draft.inputs, model);
        if let Event::InputsAdded { added, .. } = &event
            && let Some(kind) = self.draw_on_added.take()
            && let Some(first) = added.first()
            && let Some(at) = self
                .state
                .draft
                .inputs
                .iter()
                .position(|i| i.sha256 == first.input.sha256)
        {
            // "Paint a region…" or "Mark up…" on a result: it is the photo to edit, so
            // it goes first, and the painter opens on it.
            let input = self.state.draft.inputs.remove(at);
            self.state.draft.inputs.insert(0, input.clone());
            self.run(match kind {
                crate::gui::DrawKind::Mask => Command::PaintMask(input),
                crate::gui::DrawKind::Markup => Command::MarkUp(input),
            });
        }
        if !had_inputs
            && !self.state.draft.inputs.is_empty()
            && self.state.draft.aspect == AspectRatio::Ratio(1, 1)
        {
            // An edit keeps its photo's shape unless the user picked one.
            self.state.draft.aspect = AspectRatio::Auto;
        }
        if matches!(event, Event::JobSucceeded { .. } | Event::JobFailed { .. })
            && !ctx.input(|i| i.viewport().focused.unwrap_or(true))
        {
            // Working in another window while a job runs: the taskbar or dock says it ended.
            ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                egui::UserAttentionType::Informational,
            ));
        }
        if let Event::JobCreated {
            job,
            recipe,
            sandbox,
            ..
        } = &event
        {
            let usd = if *sandbox {
                Some(0.0)
            } else {
                recipe.estimate_cost(&self.catalog).usd
            };
            self.jobs.set_estimate(*job, usd);
        }
        match event {
            Event::Interrupted { jobs } => {
                for job in jobs {
                    let message = job.error_message.clone().unwrap_or_default();
                    self.jobs.add_interrupted(
                        job.id,
                        job.recipe.prompt_preview(),
                        job.recipe.model.clone(),
                        message,
                    );
                }
            }
            Event::PromptLibrary(library) => self.prompt_library = *library,
            Event::LibraryChangedElsewhere => {
                // A CLI run or another window added or changed generations.
                self.reload_history();
            }
            Event::Sessions { sessions, current } => {
                let changed = self.history.current != Some(current);
                self.history.sessions = sessions;
                self.history.current = Some(current);
                if changed {
                    self.reload_history();
                }
            }
            Event::Spend(spend) => self.history.spend = Some(spend),
            Event::JobSucceeded {
                generation,
                warnings,
            } => {
                self.engine.load_spend();
                if self.gallery.relists_new_jobs() {
                    self.reload_history();
                }
                if self.batches.is_batch_job(generation.job.id) {
                    // A batch says how it went on its own line, and once when it ends;
                    // the viewer stays on what the designer is looking at (an empty one
                    // shows the first result, which the gallery selected).
                    if self.gallery.selected == generation.images.first().map(|i| i.id)
                        && let Some(first) = generation.images.first()
                    {
                        self.run(Command::Select(first.id));
                    }
                    return;
                }
                let n = generation.images.len();
                let plural = if n == 1 { "image" } else { "images" };
                self.toasts.add(
                    Level::Info,
                    format!("Job #{} done: {n} {plural}", generation.job.id),
                );
                for w in warnings {
                    self.toasts.add(
                        Level::Error,
                        format!("Job #{}: part of the batch failed: {w}", generation.job.id),
                    );
                }
                if let Some(first) = generation.images.first() {
                    // Refining again and again follows the newest step.
                    if self.state.refine_from.is_some()
                        && generation.job.parent_image_id == self.state.refine_from
                    {
                        self.state.refine_from = Some(first.id);
                    }
                    self.run(Command::Select(first.id));
                }
            }
            Event::JobFailed { job, kind, message }
                if kind != ErrorKind::Cancelled && !self.batches.is_batch_job(job) =>
            {
                self.toasts.push(
                    Notice::new(Level::Error, format!("Job #{job} failed: {message}"))
                        .with_action(Action::Retry(job)),
                );
            }
            Event::SettingsFailed { message } => self.toasts.add(Level::Error, message),
            Event::SubmitFailed { message } => {
                self.toasts.add(Level::Error, message);
            }
            Event::Models { catalog, .. } => self.catalog = catalog,
            Event::LibraryChanged { message, reload } => {
                if let Some(message) = message {
                    self.toasts.add(Level::Info, message);
                }
                if reload {
                    self.reload_history();
                }
            }
            Event::LibraryFailed { message } => {
                self.toasts.add(
                    Level::Error,
                    format!("The library could not be changed: {message}"),
                );
                self.reload_history();
            }
            Event::ModelsFailed { provider, message } => {
                self.toasts.add(
                    Level::Error,
                    format!("Could not list {} models: {message}", provider.label()),
                );
            }
            _ => {}
        }
    }
}
