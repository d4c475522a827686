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

    /// The modes' names, as the menu lists them.
    const MODES: [(ViewMode, &'static str); 4] = [
        (ViewMode::Single, "Off"),
        (ViewMode::Slider, "Before/after"),
        (ViewMode::SideBySide, "Side by side"),
        (ViewMode::Difference, "Difference"),
    ];

    /// The Compare menu for the toolbar.
    pub fn menu(&mut self, ui: &mut egui::Ui, compact: bool) {
        let name = Self::MODES
            .iter()
            .find(|(m, _)| *m == self.mode)
            .map_or("Off", |(_, n)| n);
        let label = if compact {
            super::icons::COMPARE.to_owned()
        } else if self.mode == ViewMode::Single {
            format!("{} Compare", super::icons::COMPARE)
        } else {
            format!("{} {name}", super::icons::COMPARE)
        };
        let menu = ui.menu_button(label, |ui| self.mode_items(ui));
        super::icons::named(&menu.response, "Compare");
        menu.response
            .on_hover_text("Compare with what it came from: its parent, or the input");
    }

    /// The modes as selectable items (the toolbar's menu and the image's own menu).
    pub fn mode_items(&mut self, ui: &mut egui::Ui) {
        for (mode, label) in Self::MODES {
            if ui.selectable_label(self.mode == mode, label).clicked() {
                self.mode = mode;
                ui.close();
            }
        }
    }

    /// The comparison's line under the toolbar while a mode is on; returns true when
    /// the comparison for `shown` must be loaded.
    pub fn status_ui(&mut self, ui: &mut egui::Ui, shown: ImageId) -> bool {
        if self.mode != ViewMode::Single {
            ui.horizontal(|ui| {
                if ui
                    .small_button("Off")
                    .on_hover_text("Stop comparing")
                    .clicked()
                {
                    self.mode = ViewMode::Single;
                }
                if self.mode == ViewMode::Slider {
                    ui.add(
                        egui::Slider::new(&mut self.split, 0.0..=1.0)
                            .show_value(false)
                            .text("Before/after split"),
                    );
                }
                let words = match self.current(shown) {
                    Some(Ok(l)) => format!(
                        "vs {}: {:.1}% of pixels changed noticeably",
                        l.against,
                        l.changed_fraction * 100.0
                    ),
                    Some(Err(reason)) => reason.clone(),
                    None => "comparing…".to_owned(),
                };
                ui.add(egui::Label::new(egui::RichText::new(words).weak()).truncate());
            });
        }
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
                let before = tag_size(&painter, "Before");
                tag(
                    &painter,
                    label_pos - egui::vec2(8.0 + before.x / 2.0, 0.0),
                    "Before",
                );
                let after_size = tag_size(&painter, "After");
                tag(
                    &painter,
                    label_pos + egui::vec2(8.0 + after_size.x / 2.0, 0.0),
                    "After",
                );
            }
            ViewMode::SideBySide => {
                let half = rect.width() / 2.0;
                let before = format!("Before: {}", loaded.against);
                for (i, (tex, label)) in [(&loaded.before, before.as_str()), (after, "After")]
                    .into_iter()
                    .enumerate()
                {
                    let cell = Rect::from_min_size(
                        pos2(rect.left() + half * i as f32, rect.top()),
                        egui::vec2(half, rect.height()),
                    )
                    .shrink(4.0);
                    let label_height = 24.0;
                    let room = cell.with_min_y(cell.top() + label_height);
                    let size = tex.size_vec2();
                    let scale = (room.width() / size.x).min(room.height() / size.y);
                    painter.image(
                        tex.id(),
                        Rect::from_center_size(room.center(), size * scale),
                        FULL_UV,
                        Color32::WHITE,
                    );
                    tag(&painter, pos2(cell.center().x, cell.top() + 2.0), label);
                }
            }
            ViewMode::Difference => {
                painter.image(loaded.heatmap.id(), drawn, FULL_UV, Color32::WHITE);
                legend(&painter, rect);
            }
        }
        true
    }
}

const TAG_FONT: f32 = 13.0;

fn tag_size(painter: &egui::Painter, text: &str) -> egui::Vec2 {
    let galley = painter.layout_no_wrap(
        text.to_owned(),
        egui::FontId::proportional(TAG_FONT),
        Color32::WHITE,
    );
    galley.size() + egui::vec2(12.0, 6.0)
}

/// A label on the image: white on a dark pill, readable on any picture; `top` is the
/// middle of its top edge.
fn tag(painter: &egui::Painter, top: egui::Pos2, text: &str) {
    let size = tag_size(painter, text);
    let rect = Rect::from_min_size(pos2(top.x - size.x / 2.0, top.y), size);
    painter.rect_filled(rect, 4.0, Color32::from_black_alpha(170));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(TAG_FONT),
        Color32::WHITE,
    );
}

/// The difference view's key: the heatmap's colours from unchanged to most changed.
fn legend(painter: &egui::Painter, rect: Rect) {
    let bar = Rect::from_min_size(
        pos2(rect.left() + 12.0, rect.bottom() - 40.0),
        egui::vec2(160.0, 10.0),
    );
    let back = bar
        .expand2(egui::vec2(8.0, 22.0))
        .translate(egui::vec2(0.0, -8.0));
    painter.rect_filled(back, 4.0, Color32::from_black_alpha(170));
    let steps = 32;
    for i in 0..steps {
        let d = (i * 255 / (steps - 1)) as u8;
        let x0 = bar.left() + bar.width() * i as f32 / steps as f32;
        let x1 = bar.left() + bar.width() * (i + 1) as f32 / steps as f32;
        painter.rect_filled(
            Rect::from_min_max(pos2(x0, bar.top()), pos2(x1, bar.bottom())),
            0.0,
            super::theme::heat(d),
        );
    }
    let font = egui::FontId::proportional(12.0);
    painter.text(
        pos2(bar.left(), bar.top() - 4.0),
        egui::Align2::LEFT_BOTTOM,
        "unchanged",
        font.clone(),
        Color32::WHITE,
    );
    painter.text(
        pos2(bar.right(), bar.top() - 4.0),
        egui::Align2::RIGHT_BOTTOM,
        "most changed",
        font,
        Color32::WHITE,
    );
}
