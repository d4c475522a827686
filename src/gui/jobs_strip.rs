//! The jobs strip: every job of this session with its state, elapsed time, Cancel,
//! and on failure the error in words with Retry.

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
    /// Model brand or id.
    pub model: String,
    /// Current state.
    pub state: JobState,
    /// Whether it runs against the sandbox.
    pub sandbox: bool,
    started: Instant,
    ended_after_secs: Option<u64>,
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
}

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
            model,
            state: JobState::Interrupted,
            sandbox: false,
            started: Instant::now(),
            ended_after_secs: Some(0),
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
                        model: recipe.model.clone(),
                        state: JobState::Created,
                        sandbox: *sandbox,
                        started: Instant::now(),
                        ended_after_secs: None,
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
                    j.error = Some((*kind, message.clone()));
                    j.progress = None;
                }
            }
            _ => {}
        }
    }

    /// Draws the strip; returns what the user asked.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Vec<Command> {
        let mut commands = Vec::new();
        let mut dismiss = None;
        ui.horizontal(|ui| {
            ui.strong("Jobs");
            if self.jobs.is_empty() {
                ui.weak("Nothing yet. Write a prompt and press Generate.");
            }
        });
        egui::ScrollArea::horizontal()
            .id_salt("jobs-scroll")
            .show(ui, |ui| {
                ui.horizontal_top(|ui| {
                    for job in &self.jobs {
                        egui::Frame::group(ui.style()).show(ui, |ui| {
                            ui.set_width(280.0);
                            ui.vertical(|ui| {
                                job_card(ui, job, &mut commands, &mut dismiss);
                            });
                        });
                    }
                });
            });
        if let Some(id) = dismiss {
            self.jobs.retain(|j| j.id != id);
        }
        if self.any_active() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(500));
        }
        commands
    }
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

fn job_card(
    ui: &mut egui::Ui,
    job: &JobView,
    commands: &mut Vec<Command>,
    dismiss: &mut Option<JobId>,
) {
    ui.horizontal(|ui| {
        let state = state_words(job.state);
        let color = match job.state {
            JobState::Failed | JobState::Interrupted => ui.visuals().error_fg_color,
            JobState::Succeeded => super::theme::SUCCESS,
            _ => ui.visuals().text_color(),
        };
        ui.colored_label(
            color,
            RichText::new(format!("#{} {state}", job.id)).strong(),
        );
        ui.weak(format!("{} s", job.elapsed_secs()));
        if job.sandbox {
            ui.weak("sandbox");
        }
    });
    // Buttons come right after the title so they stay visible however long the error is.
    ui.horizontal(|ui| {
        if !job.state.is_terminal() && ui.small_button("Cancel").clicked() {
            commands.push(Command::Cancel(job.id));
        }
        if matches!(
            job.state,
            JobState::Failed | JobState::Cancelled | JobState::Interrupted
        ) && ui.small_button("Retry").clicked()
        {
            commands.push(Command::Retry(job.id));
        }
        if job.state.is_terminal() && ui.small_button("Dismiss").clicked() {
            *dismiss = Some(job.id);
        }
    });
    ui.label(RichText::new(&job.prompt).small());
    ui.weak(RichText::new(&job.model).small());
    if let Some(progress) = &job.progress {
        ui.label(RichText::new(progress).small().italics());
    }
    if let Some((_, message)) = &job.error
        && job.state != JobState::Cancelled
    {
        ui.colored_label(ui.visuals().error_fg_color, message);
    }
}
