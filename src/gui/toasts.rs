//! Notices: toasts in the corner for things that finish or fail out of sight, and the same
//! notices in the status bar's history. A notice the window makes is logged as it is shown;
//! one logged elsewhere with the notice target (`crate::notify`) arrives through the log
//! bridge's queue. A notice may carry one action (Retry, Show folder) the app carries out.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use crate::notify::Notices;
pub use crate::notify::{Action, Level, Notice};

use super::Command;

/// How long a toast stays: failures longer, and none goes while the pointer is on it.
fn lifetime(level: Level) -> Duration {
    match level {
        Level::Info => Duration::from_secs(6),
        Level::Error => Duration::from_secs(15),
    }
}

/// Toasts on screen at once.
const ON_SCREEN: usize = 5;
/// Notices kept in the status bar's history.
const HISTORY: usize = 200;

struct Toast {
    id: u64,
    notice: Notice,
    shown_at: Instant,
}

/// The notices: on screen, and the history behind the status bar. By default the window's
/// own, not bridged to any log (see [`Toasts::listen_to`]).
#[derive(Default)]
pub struct Toasts {
    showing: Vec<Toast>,
    history: VecDeque<Notice>,
    next_id: u64,
    bridge: Notices,
    history_open: bool,
    /// Failures since the history was last opened.
    unseen_errors: usize,
}

impl Toasts {
    /// Also shows what arrives in `bridge` from now on.
    pub fn listen_to(&mut self, bridge: Notices) {
        self.bridge = bridge;
    }

    /// Takes the notices the log bridge brought (already logged: they came from there).
    /// Once a frame, before drawing.
    pub fn receive(&mut self) {
        for notice in self.bridge.drain() {
            self.show(notice);
        }
    }

    /// Shows a notice and logs it.
    pub fn add(&mut self, level: Level, text: impl Into<String>) {
        self.push(Notice::new(level, text));
    }

    /// Shows a notice with its action, and logs it.
    pub fn push(&mut self, notice: Notice) {
        match notice.level {
            Level::Info => tracing::info!("{}", notice.text),
            Level::Error => tracing::warn!("{}", notice.text),
        }
        self.show(notice);
    }

    fn show(&mut self, notice: Notice) {
        if notice.level == Level::Error && !self.history_open {
            self.unseen_errors += 1;
        }
        self.history.push_back(notice.clone());
        if self.history.len() > HISTORY {
            self.history.pop_front();
        }
        self.showing.push(Toast {
            id: self.next_id,
            notice,
            shown_at: Instant::now(),
        });
        self.next_id += 1;
        if self.showing.len() > ON_SCREEN {
            self.showing.remove(0);
        }
    }

    /// Draws the toasts in the bottom-right corner, drops old ones, and returns the commands
    /// of the actions clicked.
    pub fn ui(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut actions = Vec::new();
        self.showing
            .retain(|t| t.shown_at.elapsed() < lifetime(t.notice.level));
        if self.showing.is_empty() {
            return actions;
        }
        let mut dismissed = Vec::new();
        let mut hovered = Vec::new();
        // Over the foot of the viewer, above the jobs list: never over the thumbnails,
        // and under any dialog (a dialog is in the foreground).
        egui::Area::new(egui::Id::unique("toasts"))
            .anchor(egui::Align2::CENTER_BOTTOM, egui::vec2(0.0, -96.0))
            .order(egui::Order::Middle)
            .show(ctx, |ui| {
                for toast in &self.showing {
                    let (fill, text_color) = colours(ui, toast.notice.level);
                    let frame = egui::Frame::popup(ui.style()).fill(fill).show(ui, |ui| {
                        ui.set_max_width(380.0);
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::Label::new(
                                    egui::RichText::new(&toast.notice.text).color(text_color),
                                )
                                .wrap(),
                            );
                        });
                        ui.horizontal(|ui| {
                            if let Some(action) = &toast.notice.action
                                && ui.small_button(action.label()).clicked()
                            {
                                actions.push(action.clone().into());
                                dismissed.push(toast.id);
                            }
                            if ui
                                .small_button("Dismiss")
                                .on_hover_text("Hide this notice; the status bar keeps it")
                                .clicked()
                            {
                                dismissed.push(toast.id);
                            }
                        });
                    });
                    if frame.response.contains_pointer() {
                        hovered.push(toast.id);
                    }
                }
            });
        self.showing.retain(|t| !dismissed.contains(&t.id));
        for toast in &mut self.showing {
            if hovered.contains(&toast.id) {
                toast.shown_at = Instant::now();
            }
        }
        ctx.request_repaint_after(Duration::from_millis(500));
        actions
    }

    /// The status bar: the newest notice, and a button that opens every notice of the
    /// session. Returns the actions clicked in the history.
    pub fn status_bar(&mut self, ui: &mut egui::Ui) -> Vec<Command> {
        let mut actions = Vec::new();
        ui.horizontal(|ui| {
            let label = if self.unseen_errors > 0 {
                format!(
                    "Notices ({}, {} failed)",
                    self.history.len(),
                    self.unseen_errors
                )
            } else {
                format!("Notices ({})", self.history.len())
            };
            if ui
                .selectable_label(self.history_open, label)
                .on_hover_text("Every notice of this session, newest first")
                .clicked()
            {
                self.history_open = !self.history_open;
                self.unseen_errors = 0;
            }
            match self.history.back() {
                Some(last) => {
                    let colour = match last.level {
                        Level::Error => ui.visuals().error_fg_color,
                        Level::Info => ui.visuals().text_color(),
                    };
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(format!("{} · {}", ago(last.at), last.text))
                                .color(colour),
                        )
                        .truncate(),
                    );
                }
                None => {
                    ui.weak("Ready");
                }
            }
        });
        if self.history_open {
            let mut open = true;
            egui::Window::new("Notices")
                .open(&mut open)
                .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -36.0))
                .default_width(460.0)
                .resizable(true)
                .collapsible(false)
                .show(ui.ctx(), |ui| {
                    if self.history.is_empty() {
                        ui.weak("Nothing yet: finished jobs, failures and saves are listed here.");
                    }
                    if !self.history.is_empty() && ui.button("Clear").clicked() {
                        self.history.clear();
                    }
                    egui::ScrollArea::vertical()
                        .max_height(320.0)
                        .show(ui, |ui| {
                            for notice in self.history.iter().rev() {
                                ui.horizontal_wrapped(|ui| {
                                    ui.weak(ago(notice.at));
                                    if notice.level == Level::Error {
                                        ui.colored_label(ui.visuals().error_fg_color, &notice.text);
                                    } else {
                                        ui.label(&notice.text);
                                    }
                                    if let Some(action) = &notice.action
                                        && ui.small_button(action.label()).clicked()
                                    {
                                        actions.push(action.clone().into());
                                    }
                                });
                            }
                        });
                });
            if !open {
                self.history_open = false;
            }
        }
        actions
    }
}

fn colours(ui: &egui::Ui, level: Level) -> (egui::Color32, egui::Color32) {
    match level {
        Level::Info => (ui.visuals().extreme_bg_color, ui.visuals().text_color()),
        Level::Error => (super::theme::ERROR_FILL, egui::Color32::WHITE),
    }
}

/// How long ago, in a word or two.
fn ago(at: SystemTime) -> String {
    let secs = at.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    match secs {
        0..10 => "just now".to_owned(),
        10..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_words() {
        let now = SystemTime::now();
        assert_eq!(ago(now), "just now");
        assert_eq!(ago(now - Duration::from_secs(42)), "42 s ago");
        assert_eq!(ago(now - Duration::from_secs(600)), "10 min ago");
        assert_eq!(ago(now - Duration::from_secs(7300)), "2 h ago");
    }

    #[test]
    fn the_history_keeps_what_toasts_drop_and_counts_unseen_failures() {
        let mut toasts = Toasts::default();
        for n in 0..8 {
            toasts.add(Level::Info, format!("n{n}"));
        }
        toasts.push(Notice::new(Level::Error, "boom").with_action(Action::Retry(3)));
        assert_eq!(toasts.showing.len(), ON_SCREEN);
        assert_eq!(toasts.history.len(), 9);
        assert_eq!(toasts.unseen_errors, 1);
    }
}
