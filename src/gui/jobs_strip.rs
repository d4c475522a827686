//! The jobs list under the viewer: one line a job with its state, elapsed time and
//! Cancel; on failure the error in words with a way forward (Retry, or Edit the prompt
//! for a refusal) and the whole message on demand. It takes a few lines at most.

use std::time::Instant;

use egui::RichText;

use super::Command;
use crate::engine::Event;
use crate::library::{JobId, JobState};
use crate::providers::ErrorKind;

/// One job as the strip shows it.
#[derive(Clone, Debug)]
pub struct JobView {
    /// Its id.
    pub id: JobId,
    /// Prompt preview.
    pub prompt: String,
    /// The whole recipe, to put back in the prompt panel (None for a job found at
    /// start-up).
    recipe: Option<Box<crate::recipe::Recipe>>,
    /// Model brand or id.
    pub model: String,
    /// Current state.
    pub state: JobState,
    /// Whether it runs against the sandbox.
    pub sandbox: bool,
    started: Instant,
    ended_after_secs: Option<u64>,
    /// When it ended here; Retry waits a moment after, so a double-click on Cancel
    /// never sends the job again.
    ended_at: Option<Instant>,
    /// The newest progress line.
    pub progress: Option<String>,
    /// The failure, when failed.
    pub error: Option<(ErrorKind, String)>,
    /// What it is expected to cost (dollars; the sandbox is free).
    pub estimate_usd: Option<f64>,
}

impl JobView {
    fn elapsed_secs(&self) -> u64 {
        self.ended_after_secs
            .unwrap_or_else(|| self.started.elapsed().as_secs())
    }
}

/// The strip's state.
#[derive(Default)]
pub struct JobsStrip {
    jobs: Vec<JobView>,
    /// Jobs whose whole message is shown.
    expanded: std::collections::HashSet<JobId>,
}

/// How long Retry waits after a job ends before it takes a click.
const RETRY_ARMS_AFTER: std::time::Duration = std::time::Duration::from_millis(800);

/// Lines of jobs shown before the list scrolls.
const MAX_LINES: f32 = 3.0;

impl JobsStrip {
    #[cfg(any(test, feature = "testing"))]
    /// The jobs shown, newest first.
    pub fn jobs(&self) -> &[JobView] {
        &self.jobs
    }

    /// Whether any job is still queued or running.
    pub fn any_active(&self) -> bool {
        self.jobs.iter().any(|j| !j.state.is_terminal())
    }

    /// Notes what a job is expected to cost.
    pub fn set_estimate(&mut self, id: JobId, usd: Option<f64>) {
        if let Some(j) = self.job_mut(id) {
            j.estimate_usd = usd;
        }
    }

    /// What the jobs still queued or running are expected to cost, in words.
    pub fn active_cost_words(&self) -> String {
        let active = self.jobs.iter().filter(|j| !j.state.is_terminal());
        let (mut usd, mut unknown, mut sandbox) = (0.0, false, true);
        for job in active {
            sandbox &= job.sandbox;
            match job.estimate_usd {
                Some(v) => usd += v,
                None => unknown = true,
            }
        }
        if sandbox {
            "sandbox, free".to_owned()
        } else if unknown && usd == 0.0 {
            "cost unknown".to_owned()
        } else {
            format!("about ${usd:.2}{}", if unknown { " and more" } else { "" })
        }
    }

    fn job_mut(&mut self, id: JobId) -> Option<&mut JobView> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }

    /// Adds a job found interrupted at start-up, so it can be retried.
    pub fn add_interrupted(&mut self, id: JobId, prompt: String, model: String, message: String) {
        if self.job_mut(id).is_some() {
            return;
        }
        self.jobs.push(JobView {
            id,
            prompt,
            recipe: None,
            model,
            state: JobState::Interrupted,
            sandbox: false,
            started: Instant::now(),
            ended_after_secs: Some(0),
            ended_at: None,
            progress: None,
            error: Some((ErrorKind::Interrupted, message)),
            estimate_usd: None,
        });
    }

    /// Follows the engine's job events.
    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::JobCreated {
                job,
                recipe,
                sandbox,
                ..
            } => {
                self.jobs.insert(
                    0,
                    JobView {
                        id: *job,
                        prompt: recipe.prompt_preview(),
                        recipe: Some(recipe.clone()),
                        model: recipe.model.clone(),
                        state: JobState::Created,
                        sandbox: *sandbox,
                        started: Instant::now(),
                        ended_after_secs: None,
                        ended_at: None,
                        progress: None,
                        error: None,
                        estimate_usd: None,
                    },
                );
                self.jobs.truncate(30);
            }
            Event::JobState { job, state } => {
                if let Some(j) = self.job_mut(*job) {
                    j.state = *state;
                    if *state == JobState::Running {
                        j.started = Instant::now();
                    }
                }
            }
            Event::JobProgress { job, message } => {
                if let Some(j) = self.job_mut(*job) {
                    j.progress = Some(message.clone());
                }
            }
            Event::JobSucceeded { generation, .. } => {
                if let Some(j) = self.job_mut(generation.job.id) {
                    j.state = JobState::Succeeded;
                    j.ended_after_secs = Some(j.elapsed_secs());
                    j.ended_at = Some(Instant::now());
                    j.progress = None;
                }
            }
            Event::JobFailed { job, kind, message } => {
                if let Some(j) = self.job_mut(*job) {
                    j.state = if *kind == ErrorKind::Cancelled {
                        JobState::Cancelled
                    } else {
                        JobState::Failed
                    };
                    j.ended_after_secs = Some(j.elapsed_secs());
                    j.ended_at = Some(Instant::now());
                    j.error = Some((*kind, message.clone()));
                    j.progress = None;
                }
            }
            _ => {}
        }
    }

    /// Draws the list; returns what the user asked. The catalog names a shut-down
    /// model's successor, to run a failed recipe on.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        catalog: &crate::recipe::Catalog,
        thinking: &super::thinking::ThinkingView,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let mut dismiss = Vec::new();
        let active = self.jobs.iter().filter(|j| !j.state.is_terminal()).count();
        let failed = self
            .jobs
            .iter()
            .filter(|j| matches!(j.state, JobState::Failed | JobState::Interrupted))
            .count();
        ui.horizontal(|ui| {
            ui.strong("Jobs");
            if self.jobs.is_empty() {
                ui.weak("None running. Write a prompt and press Generate (Ctrl+Enter).");
                return;
            }
            let mut counts = vec![format!("{active} running")];
            if failed > 0 {
                counts.push(format!("{failed} failed"));
            }
            ui.weak(counts.join(" · "));
            if self.jobs.len() > active {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .small_button("Dismiss all")
                        .on_hover_text("Clear every finished job from this list")
                        .clicked()
                    {
                        dismiss.extend(
                            self.jobs
                                .iter()
                                .filter(|j| j.state.is_terminal())
                                .map(|j| j.id),
                        );
                    }
                });
            }
        });
        if !self.jobs.is_empty() {
            let line = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
            egui::ScrollArea::vertical()
                .id_salt("jobs-scroll")
                .max_height(line * MAX_LINES)
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    for job in &self.jobs {
                        let open = self.expanded.contains(&job.id);
                        let successor = job
                            .recipe
                            .as_ref()
                            .filter(|_| matches!(job.error, Some((ErrorKind::ModelNotFound, _))))
                            .and_then(|r| catalog.model(r.provider, &r.model))
                            .and_then(|m| catalog.successor(m))
                            .map(|m| m.brand.clone());
                        let thought = thinking.heading(job.id);
                        if job_row(
                            ui,
                            job,
                            open,
                            successor.as_deref(),
                            thought.as_deref(),
                            &mut commands,
                            &mut dismiss,
                        ) && !self.expanded.remove(&job.id)
                        {
                            self.expanded.insert(job.id);
                        }
                    }
                });
        }
        self.jobs.retain(|j| !dismiss.contains(&j.id));
        self.expanded.retain(|id| !dismiss.contains(id));
        if self.any_active() || self.jobs.iter().any(|j| !retry_armed(j)) {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(250));
        }
        commands
    }
}

fn retry_armed(job: &JobView) -> bool {
    job.ended_at
        .is_none_or(|at| at.elapsed() >= RETRY_ARMS_AFTER)
}

fn state_words(state: JobState) -> &'static str {
    match state {
        JobState::Created => "Queued",
        JobState::Running => "Running",
        JobState::Storing => "Saving",
        JobState::Succeeded => "Done",
        JobState::Failed => "Failed",
        JobState::Cancelled => "Cancelled",
        JobState::Interrupted => "Interrupted",
    }
}

/// One job on one line, and its whole message below when `open`; returns whether
/// Details was clicked.
fn job_row(
    ui: &mut egui::Ui,
    job: &JobView,
    open: bool,
    successor: Option<&str>,
    thought: Option<&str>,
    commands: &mut Vec<Command>,
    dismiss: &mut Vec<JobId>,
) -> bool {
    let mut toggle = false;
    let failure = job
        .error
        .as_ref()
        .filter(|_| job.state != JobState::Cancelled);
    ui.horizontal(|ui| {
        let (icon, color) = match job.state {
            JobState::Failed | JobState::Interrupted => {
                (super::icons::WARNING, ui.visuals().error_fg_color)
            }
            JobState::Succeeded => (super::icons::DONE, super::theme::SUCCESS),
            JobState::Cancelled => (super::icons::CLOSE, ui.visuals().weak_text_color()),
            _ => (super::icons::GENERATE, ui.visuals().text_color()),
        };
        ui.colored_label(color, icon);
        ui.colored_label(
            color,
            RichText::new(format!("#{} {}", job.id, state_words(job.state))).strong(),
        );
        ui.weak(format!("{} s", job.elapsed_secs()));
        if job.sandbox {
            ui.weak("sandbox");
        }
        // Buttons from the right edge: Cancel while it runs; once ended, Dismiss there
        // and Retry left of it, so Retry never appears under a click meant for Cancel.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if job.state.is_terminal() {
                let close = ui.small_button(super::icons::CLOSE);
                super::icons::named(&close, "Dismiss");
                if close.on_hover_text("Dismiss").clicked() {
                    dismiss.push(job.id);
                }
            } else if ui.small_button("Cancel").clicked() {
                commands.push(Command::Cancel(job.id));
            }
            if let Some(brand) = successor {
                // The model has shut down: the same recipe on the one that replaced it.
                let label = format!("Run on {brand}");
                if ui
                    .small_button(&label)
                    .on_hover_text("The same recipe on the model that took this one's place")
                    .clicked()
                {
                    commands.push(Command::RunOnSuccessor(job.id));
                }
            } else if matches!(failure, Some((ErrorKind::Refused, _))) {
                // Sending the same blocked request again would be refused again.
                let edit = ui.small_button(format!("{} Edit the prompt", super::icons::EDIT));
                super::icons::named(&edit, "Edit the prompt");
                if edit
                    .on_hover_text("Put this recipe back in the prompt panel to change it")
                    .clicked()
                {
                    commands.push(match &job.recipe {
                        Some(recipe) => Command::RestoreRecipe(recipe.as_ref().clone()),
                        None => Command::UseSettings(job.id),
                    });
                }
            } else if matches!(
                job.state,
                JobState::Failed | JobState::Cancelled | JobState::Interrupted
            ) && ui
                .add_enabled(retry_armed(job), egui::Button::new("Retry").small())
                .on_hover_text("Run the same recipe again")
                .clicked()
            {
                commands.push(Command::Retry(job.id));
            }
            if failure.is_some()
                && ui
                    .small_button(if open { "Less" } else { "Details" })
                    .on_hover_text("The whole message")
                    .clicked()
            {
                toggle = true;
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                let line = match failure {
                    Some((_, message)) => RichText::new(message).color(ui.visuals().error_fg_color),
                    None => RichText::new(match (&job.progress, thought) {
                        (Some(progress), _) => format!("{} · {progress}", job.prompt),
                        (None, Some(thought)) => format!("{} · thinking: {thought}", job.prompt),
                        (None, None) => format!("{} · {}", job.prompt, job.model),
                    }),
                };
                ui.add(egui::Label::new(line).truncate());
            });
        });
    });
    if open && let Some((_, message)) = failure {
        ui.indent(("job-details", job.id), |ui| {
            ui.label(RichText::new(format!("{} · {}", job.prompt, job.model)).weak());
            ui.colored_label(ui.visuals().error_fg_color, message);
        });
    }
    toggle
}
