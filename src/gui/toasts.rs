//! Short notices in the corner, for things that finish or fail out of sight.

use std::time::{Duration, Instant};

/// How bad a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something finished.
    Info,
    /// Something failed.
    Error,
}

struct Toast {
    level: Level,
    text: String,
    shown_at: Instant,
}

/// The notices on screen.
#[derive(Default)]
pub struct Toasts {
    items: Vec<Toast>,
}

const LIFETIME: Duration = Duration::from_secs(6);

impl Toasts {
    /// Adds a notice (also logged).
    pub fn add(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        match level {
            Level::Info => tracing::info!("{text}"),
            Level::Error => tracing::warn!("{text}"),
        }
        self.items.push(Toast {
            level,
            text,
            shown_at: Instant::now(),
        });
        if self.items.len() > 5 {
            self.items.remove(0);
        }
    }

    /// Draws the notices in the bottom-right corner and drops old ones.
    pub fn ui(&mut self, ctx: &egui::Context) {
        self.items.retain(|t| t.shown_at.elapsed() < LIFETIME);
        if self.items.is_empty() {
            return;
        }
        egui::Area::new(egui::Id::unique("toasts"))
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -150.0))
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                for toast in &self.items {
                    let (fill, text_color) = match toast.level {
                        Level::Info => (ui.visuals().extreme_bg_color, ui.visuals().text_color()),
                        Level::Error => {
                            (egui::Color32::from_rgb(120, 24, 24), egui::Color32::WHITE)
                        }
                    };
                    egui::Frame::popup(ui.style()).fill(fill).show(ui, |ui| {
                        ui.set_max_width(360.0);
                        ui.colored_label(text_color, &toast.text);
                    });
                }
            });
        ctx.request_repaint_after(Duration::from_millis(500));
    }
}
