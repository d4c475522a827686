//! Comparing a result with what it came from: before/after slider, side by side, and a
//! difference heatmap that shows unasked-for changes.

use egui::{Color32, Rect, Response, TextureHandle, pos2};

use super::gallery::texture;

use crate::engine::{ComparisonAnswer, TaskError};
use crate::library::ImageId;

/// How the viewer shows the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewMode {
    /// The image alone.
    Single,
    /// Before on the left of a movable split, after on the right.
    Slider,
    /// Before and after next to each other.
    SideBySide,
    /// The difference heatmap.
    Difference,
}

struct Loaded {
    against: String,
    before: TextureHandle,
    heatmap: TextureHandle,
    changed_fraction: f32,
}

/// The comparison state of the viewer.
pub struct CompareState {
    /// The current mode.
    pub mode: ViewMode,
    /// Where the before/after split is, 0 (all after) to 1 (all before).
    pub split: f32,
    loaded: Option<(ImageId, Result<Loaded, String>)>,
    /// The comparison asked for and not yet answered; a newer request replaces it, so
    /// an older answer is never shown.
    pending: Option<(ImageId, Option<ComparisonAnswer>)>,
}

impl Default for CompareState {
    fn default() -> Self {
        Self {
            mode: ViewMode::Single,
            split: 0.5,
            loaded: None,
            pending: None,
        }
    }
}

const FULL_UV: Rect = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));

impl CompareState {
    /// Waits for the comparison of `image`, asked for by the last `mode_ui`.
    pub fn expect(&mut self, image: ImageId, answer: ComparisonAnswer) {
        self.pending = Some((image, Some(answer)));
    }

    /// Takes the comparison once it has come.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let Some((image, Some(answer))) = &mut self.pending else {
            return;
        };
        let image = *image;
        let result = match answer.take() {
            Some(result) => result,
            None if answer.is_gone() => Err(TaskError::Worker("the app is closing".into())),
            None => return,
        };
        self.pending = None;
        let loaded = result.map_err(|e| e.to_string()).map(|c| Loaded {
            against: c.against.clone(),
            before: texture(ctx, format!("before-{image}"), &c.comparison.before),
            heatmap: texture(ctx, format!("heatmap-{image}"), &c.comparison.heatmap),
            changed_fraction: c.comparison.changed_fraction,
        });
        self.loaded = Some((image, loaded));
    }

    /// The mode buttons; returns true when the comparison for `shown` must be loaded.
    pub fn mode_ui(&mut self, ui: &mut egui::Ui, shown: ImageId) -> bool {
        ui.horizontal_wrapped(|ui| {
            ui.label("Compare:");
            for (mode, label) in [
                (ViewMode::Single, "Off"),
                (ViewMode::Slider, "Before/after"),
                (ViewMode::SideBySide, "Side by side"),
                (ViewMode::Difference, "Difference"),
            ] {
                if ui.selectable_label(self.mode == mode, label).clicked() {
                    self.mode = mode;
                }
            }
            if self.mode == ViewMode::Slider {
                ui.add(
                    egui::Slider::new(&mut self.split, 0.0..=1.0)
                        .show_value(false)
                        .text("Before/after split"),
                );
            }
            if self.mode != ViewMode::Single {
                match self.current(shown) {
                    Some(Ok(l)) => {
                        ui.weak(format!(
                            "vs {}: {:.1}% of pixels changed noticeably",
                            l.against,
                            l.changed_fraction * 100.0
                        ));
                    }
                    Some(Err(reason)) => {
                        ui.weak(reason.as_str());
                    }
                    None => {
                        ui.weak("comparing…");
                    }
                }
            }
        });
        let needed = self.mode != ViewMode::Single
            && !matches!(&self.pending, Some((id, _)) if *id == shown)
            && !matches!(&self.loaded, Some((id, _)) if *id == shown);
        if needed {
            self.pending = Some((shown, None));
        }
        needed
    }

    fn current(&self, shown: ImageId) -> Option<Result<&Loaded, &String>> {
        match &self.loaded {
            Some((id, result)) if *id == shown => Some(result.as_ref()),
            _ => None,
        }
    }

    /// Whether dragging should move the split instead of panning.
    pub fn drags_split(&self) -> bool {
        self.mode == ViewMode::Slider
    }

    /// Paints the compare mode into `rect` (the after image fills `drawn`).
    /// Returns false when the plain image should be painted instead.
    pub fn paint(
        &mut self,
        ui: &egui::Ui,
        rect: Rect,
        response: &Response,
        drawn: Rect,
        after: &TextureHandle,
        shown: ImageId,
    ) -> bool {
        if self.mode == ViewMode::Single {
            return false;
        }
        if self.mode == ViewMode::Slider
            && (response.dragged() || response.clicked())
            && let Some(pointer) = response.interact_pointer_pos()
        {
            self.split = ((pointer.x - drawn.left()) / drawn.width()).clamp(0.0, 1.0);
        }
        let Some(Ok(loaded)) = self.current(shown) else {
            return false;
        };
        let painter = ui.painter_at(rect);
        match self.mode {
            ViewMode::Single => return false,
            ViewMode::Slider => {
                let split_x = drawn.left() + drawn.width() * self.split;
                painter.image(after.id(), drawn, FULL_UV, Color32::WHITE);
                let left = Rect::from_min_max(drawn.min, pos2(split_x, drawn.max.y));
                ui.painter_at(left.intersect(rect)).image(
                    loaded.before.id(),
                    drawn,
                    FULL_UV,
                    Color32::WHITE,
                );
                painter.line_segment(
                    [pos2(split_x, drawn.top()), pos2(split_x, drawn.bottom())],
                    egui::Stroke::new(2.0, super::theme::SELECTED),
                );
                let label_pos = pos2(split_x, drawn.top() + 12.0);
                painter.text(
                    label_pos - egui::vec2(8.0, 0.0),
                    egui::Align2::RIGHT_TOP,
                    "before",
                    egui::FontId::proportional(13.0),
                    Color32::WHITE,
                );
                painter.text(
                    label_pos + egui::vec2(8.0, 0.0),
                    egui::Align2::LEFT_TOP,
                    "after",
                    egui::FontId::proportional(13.0),
                    Color32::WHITE,
                );
            }
            ViewMode::SideBySide => {
                let half = rect.width() / 2.0;
                for (i, tex) in [&loaded.before, after].into_iter().enumerate() {
                    let cell = Rect::from_min_size(
                        pos2(rect.left() + half * i as f32, rect.top()),
                        egui::vec2(half, rect.height()),
                    )
                    .shrink(4.0);
                    let size = tex.size_vec2();
                    let scale = (cell.width() / size.x).min(cell.height() / size.y);
                    painter.image(
                        tex.id(),
                        Rect::from_center_size(cell.center(), size * scale),
                        FULL_UV,
                        Color32::WHITE,
                    );
                }
            }
            ViewMode::Difference => {
                painter.image(loaded.heatmap.id(), drawn, FULL_UV, Color32::WHITE);
            }
        }
        true
    }
}
