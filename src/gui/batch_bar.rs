//! Prompt batches above the jobs list: one line a batch with its progress bar, what is
//! done, failed and left, about how long the rest takes, and Pause / Resume, Cancel,
//! Show (its results in the history) and Save all. A batch a closed window cut short
//! shows here paused at the next start, to go on when the user says so.

use std::collections::HashSet;

use egui::RichText;

use super::Command;
use crate::engine::Event;
use crate::library::{BatchId, BatchState, BatchSummary};

/// One batch as the bar shows it.
#[derive(Clone, Debug)]
struct Shown {
    summary: BatchSummary,
    seconds_left: Option<u64>,
}

/// The bar's state.
#[derive(Default)]
pub struct BatchBar {
    /// Newest first.
    shown: Vec<Shown>,
    dismissed: HashSet<BatchId>,
    /// Every batch, newest first, for the history's filter.
    all: Vec<BatchSummary>,
    /// Jobs that are batch requests: they neither toast nor take the viewer one by one.
    jobs: HashSet<crate::library::JobId>,
}

impl BatchBar {
    /// Every batch known, newest first.
    pub fn all(&self) -> &[BatchSummary] {
        &self.all
    }

    /// Whether any batch is still sending or running jobs.
    pub fn any_active(&self) -> bool {
        self.shown
            .iter()
            .any(|b| b.summary.state == BatchState::Running || b.summary.running() > 0)
    }

    /// Whether a job is a request of a batch.
    pub fn is_batch_job(&self, job: crate::library::JobId) -> bool {
        self.jobs.contains(&job)
    }

    /// Follows the engine's batch news; returns, in words, a batch that just ended.
    pub fn on_event(&mut self, event: &Event) -> Option<String> {
        let mut ended = None;
        match event {
            Event::JobCreated {
                job,
                batch: Some(_),
                ..
            } => {
                self.jobs.insert(*job);
            }
            Event::BatchProgress {
                summary,
                seconds_left,
            } => {
                self.remember(summary);
                let shown = Shown {
                    summary: summary.as_ref().clone(),
                    seconds_left: *seconds_left,
                };
                match self.shown.iter_mut().find(|b| b.summary.id == summary.id) {
                    Some(b) => {
                        // Told once, on the runner's last word (its last job can be
                        // counted while it still reads the batch as running).
                        let over = |s: &BatchSummary| s.is_over() && s.state != BatchState::Running;
                        if over(summary) && !over(&b.summary) {
                            ended = Some(format!(
                                "Batch “{}”: {}, {} image{}",
                                summary.name,
                                summary.in_words(),
                                summary.images,
                                if summary.images == 1 { "" } else { "s" }
                            ));
                        }
                        *b = shown;
                    }
                    None => {
                        self.dismissed.remove(&summary.id);
                        self.shown.insert(0, shown);
                        self.shown.sort_by_key(|b| std::cmp::Reverse(b.summary.id));
                    }
                }
            }
            Event::Batches(list) => {
                self.all.clone_from(list);
                // Batches left waiting (paused, or cut short by a closed window) show.
                for summary in list {
                    let waiting = !summary.is_over() && !self.dismissed.contains(&summary.id);
                    if waiting && !self.shown.iter().any(|b| b.summary.id == summary.id) {
                        self.shown.push(Shown {
                            summary: summary.clone(),
                            seconds_left: None,
                        });
                    }
                }
                self.shown.sort_by_key(|b| std::cmp::Reverse(b.summary.id));
            }
            _ => {}
        }
        ended
    }

    fn remember(&mut self, summary: &BatchSummary) {
        match self.all.iter_mut().find(|b| b.id == summary.id) {
            Some(b) => *b = summary.clone(),
            None => {
                self.all.insert(0, summary.clone());
                self.all.sort_by_key(|b| std::cmp::Reverse(b.id));
            }
        }
    }

    /// Draws a line per batch; returns what the user asked.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Vec<Command> {
        let mut commands = Vec::new();
        let mut dismiss = Vec::new();
        for batch in &self.shown {
            batch_row(ui, batch, &mut commands, &mut dismiss);
        }
        for id in dismiss {
            self.dismissed.insert(id);
            self.shown.retain(|b| b.summary.id != id);
        }
        if self.any_active() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(500));
        }
        commands
    }
}

/// "about 3 min left", "about 40 s left".
fn time_words(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("about {seconds} s left"),
        60..=5_399 => format!("about {} min left", seconds.div_ceil(60)),
        _ => format!("about {:.1} h left", seconds as f64 / 3600.0),
    }
}

fn batch_row(
    ui: &mut egui::Ui,
    batch: &Shown,
    commands: &mut Vec<Command>,
    dismiss: &mut Vec<BatchId>,
) {
    let s = &batch.summary;
    let id = s.id;
    ui.horizontal(|ui| {
        let (icon, color) = if s.failed > 0 {
            (super::icons::WARNING, ui.visuals().error_fg_color)
        } else if s.is_over() && s.state != BatchState::Cancelled {
            (super::icons::DONE, super::theme::SUCCESS)
        } else {
            (super::icons::GENERATE, ui.visuals().text_color())
        };
        ui.colored_label(color, icon);
        let title = match s.state {
            _ if s.deferred && !s.is_over() => format!("Batch “{}” (deferred)", s.name),
            BatchState::Paused => format!("Batch “{}” (paused)", s.name),
            BatchState::Cancelled => format!("Batch “{}” (cancelled)", s.name),
            _ => format!("Batch “{}”", s.name),
        };
        ui.add(egui::Label::new(RichText::new(title).strong()).truncate())
            .on_hover_text(s.in_words());
        let ended = s.succeeded + s.failed;
        let fraction = if s.requests == 0 {
            1.0
        } else {
            ended as f32 / s.requests as f32
        };
        let bar = ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(110.0)
                .text(format!("{ended} / {}", s.requests)),
        );
        bar.widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::Role::ProgressIndicator,
                true,
                format!("Batch progress: {}", s.in_words()),
            )
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if s.is_over() {
                let close = ui.small_button(super::icons::CLOSE);
                super::icons::named(&close, "Dismiss batch");
                if close.on_hover_text("Dismiss").clicked() {
                    dismiss.push(id);
                }
                let unmade = s.requests.saturating_sub(s.succeeded);
                if unmade > 0 {
                    if s.deferred
                        && ui
                            .small_button("Again, deferred")
                            .on_hover_text(format!(
                                "Send the {unmade} request{} that made nothing as a new batch, \
                                 deferred at half price",
                                if unmade == 1 { "" } else { "s" }
                            ))
                            .clicked()
                    {
                        commands.push(Command::RerunBatch(id, true));
                    }
                    if ui
                        .small_button("Again now")
                        .on_hover_text(format!(
                            "Send the {unmade} request{} that made nothing as a new batch, now",
                            if unmade == 1 { "" } else { "s" }
                        ))
                        .clicked()
                    {
                        commands.push(Command::RerunBatch(id, false));
                    }
                }
                if s.images > 0
                    && ui
                        .small_button("Save all…")
                        .on_hover_text("Save every image of this batch to a folder")
                        .clicked()
                {
                    commands.push(Command::SaveBatch(id));
                }
            } else if s.deferred {
                if ui
                    .small_button("Cancel")
                    .on_hover_text("Ask Google to stop it; what it made so far is still kept")
                    .clicked()
                {
                    commands.push(Command::CancelBatch(id));
                }
            } else {
                if ui
                    .small_button("Cancel")
                    .on_hover_text("Send none of the rest and cancel the running jobs")
                    .clicked()
                {
                    commands.push(Command::CancelBatch(id));
                }
                match s.state {
                    BatchState::Running => {
                        if ui
                            .small_button("Pause")
                            .on_hover_text("Send no more; the running jobs finish")
                            .clicked()
                        {
                            commands.push(Command::PauseBatch(id));
                        }
                    }
                    _ => {
                        if s.unsent() > 0
                            && ui
                                .small_button("Resume")
                                .on_hover_text("Go on sending the rest")
                                .clicked()
                        {
                            commands.push(Command::ResumeBatch(id));
                        }
                    }
                }
            }
            if ui
                .small_button("Show")
                .on_hover_text("List this batch's results in the history")
                .clicked()
            {
                commands.push(Command::ShowBatch(id));
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                let mut words = s.in_words();
                if s.deferred && !s.is_over() {
                    let waited = (crate::library::now_ms() - s.created_at_ms).max(0) / 1000;
                    words.push_str(&format!(" · waiting {}", waited_words(waited as u64)));
                }
                if let Some(left) = batch
                    .seconds_left
                    .filter(|_| s.state == BatchState::Running && !s.is_over())
                {
                    words.push_str(&format!(" · {}", time_words(left)));
                }
                if s.cost_usd > 0.0 {
                    words.push_str(&format!(" · ${:.2} so far", s.cost_usd));
                }
                ui.add(egui::Label::new(RichText::new(words).weak()).truncate());
            });
        });
    });
}

/// How long a deferred batch has waited, in words.
fn waited_words(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3_600 => format!("{} min", secs / 60),
        _ => format!("{:.1} h", secs as f64 / 3_600.0),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_left_reads_as_words() {
        assert_eq!(super::time_words(40), "about 40 s left");
        assert_eq!(super::time_words(61), "about 2 min left");
        assert_eq!(super::time_words(7_200), "about 2.0 h left");
    }
}
