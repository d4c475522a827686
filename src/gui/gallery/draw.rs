//! Drawing the gallery: the selection bar, the virtualised timeline of generations and
//! each generation's header and thumbnails. The state it draws is in the parent module.

use egui::{RichText, TextureHandle, UiBuilder, vec2};

use super::super::Command;
use super::super::gallery_layout::{Layout, Metrics};
use super::super::gallery_text::{details, marks_badge, marks_text};
use super::super::thumbs::{Thumb, ThumbCache};
use super::Gallery;
use crate::library::ImageId;

impl Gallery {
    fn metrics(ui: &egui::Ui, thumb_size: f32) -> Metrics {
        let body = ui.text_style_height(&egui::TextStyle::Body);
        let small = ui.text_style_height(&egui::TextStyle::Small);
        Metrics {
            width: ui.available_width() - 4.0,
            cell: thumb_size,
            gap: ui.spacing().item_spacing.x.max(4.0),
            header: body + small + 3.0 * ui.spacing().item_spacing.y + 6.0,
            after: 10.0,
        }
    }

    /// The selection bar: how many are selected and what can be done with them.
    fn selection_bar(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let n = self.targets().len();
        if n == 0 {
            return;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{n} selected"));
            if ui
                .small_button("Save selected to folder…")
                .on_hover_text("Export with the recipe embedded, named by a template")
                .clicked()
            {
                commands.push(Command::SaveSelected);
            }
            if ui
                .small_button("Move to trash")
                .on_hover_text("Delete")
                .clicked()
            {
                commands.push(Command::TrashSelected);
            }
            if n > 1 && ui.small_button("Clear selection").clicked() {
                self.picked = self.selected.into_iter().collect();
            }
        });
    }

    /// Draws the gallery; returns what the user asked.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        thumb_size: f32,
        thumbs: &mut ThumbCache<TextureHandle>,
        empty: &str,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        if !self.last_deleted.is_empty() {
            ui.horizontal(|ui| {
                let n = self.last_deleted.len();
                ui.label(format!(
                    "Moved {n} image{} to the trash.",
                    if n == 1 { "" } else { "s" }
                ));
                if ui.small_button("Undo").on_hover_text("Ctrl+Z").clicked() {
                    commands.push(Command::UndoDelete);
                }
            });
        }
        self.selection_bar(ui, &mut commands);
        if self.generations.is_empty() {
            ui.weak(if self.history_loaded {
                empty
            } else {
                "Loading history…"
            });
            return commands;
        }
        let metrics = Self::metrics(ui, thumb_size);
        let key = (self.revision, metrics.width.to_bits(), thumb_size.to_bits());
        // Rebuilt when the list, the width or the thumbnail size changes.
        if self.layout_key != Some(key) {
            self.layout = Layout::new(&metrics, self.generations.iter().map(|g| g.images.len()));
            self.layout_key = Some(key);
        }
        let scroll_target = self
            .scroll_to_selected
            .then_some(self.selected)
            .flatten()
            .and_then(|id| {
                let block = self
                    .generations
                    .iter()
                    .position(|g| g.images.iter().any(|i| i.id == id))?;
                let index = self.generations[block]
                    .images
                    .iter()
                    .position(|i| i.id == id)?;
                let (dx, dy) = metrics.cell_offset(index);
                Some((self.layout.top(block) + dy, dx))
            });
        self.scroll_to_selected = false;
        let mut clicks = Vec::new();
        egui::ScrollArea::vertical()
            .id_salt("gallery-scroll")
            .auto_shrink([false, false])
            .show_viewport(ui, |ui, viewport| {
                ui.set_height(self.layout.height());
                let origin = ui.min_rect().min;
                if let Some((y, x)) = scroll_target {
                    let rect = egui::Rect::from_min_size(
                        origin + vec2(x, y),
                        vec2(metrics.cell, metrics.cell),
                    );
                    ui.scroll_to_rect(rect, None);
                }
                let visible = self.layout.visible(viewport.min.y, viewport.max.y);
                self.drawn = visible.clone();
                for index in visible {
                    let top = origin + vec2(0.0, self.layout.top(index));
                    self.draw_generation(ui, index, top, &metrics, thumbs, &mut clicks);
                }
            });
        // The modifiers held at the click itself (the release event carries them).
        let modifiers = ui.input(|i| {
            i.events
                .iter()
                .rev()
                .find_map(|e| match e {
                    egui::Event::PointerButton {
                        pressed: false,
                        modifiers,
                        ..
                    } => Some(*modifiers),
                    _ => None,
                })
                .unwrap_or(i.modifiers)
        });
        for id in clicks {
            self.click(id, modifiers);
            commands.push(Command::Select(id));
        }
        if let Some(query) = self.next_page() {
            commands.push(Command::LoadPage(query));
        }
        commands
    }

    fn draw_generation(
        &self,
        ui: &mut egui::Ui,
        index: usize,
        top: egui::Pos2,
        m: &Metrics,
        thumbs: &mut ThumbCache<TextureHandle>,
        clicks: &mut Vec<ImageId>,
    ) {
        let generation = &self.generations[index];
        let job = &generation.job;
        let header = egui::Rect::from_min_size(top, vec2(m.width, m.header));
        ui.scope_builder(UiBuilder::new().max_rect(header), |ui| {
            ui.add_space(4.0);
            ui.add(
                egui::Label::new(RichText::new(job.recipe.prompt_preview()).strong()).truncate(),
            );
            ui.add(egui::Label::new(RichText::new(details(generation)).small().weak()).truncate());
        });
        for (i, image) in generation.images.iter().enumerate() {
            let (dx, dy) = m.cell_offset(i);
            let cell = egui::Rect::from_min_size(top + vec2(dx, dy), vec2(m.cell, m.cell));
            let selected = self.selected == Some(image.id) || self.picked.contains(&image.id);
            let alt = format!(
                "Image {} of job {}: {}{}",
                image.index + 1,
                job.id,
                job.recipe.prompt_preview(),
                marks_text(image)
            );
            let response = match thumbs.get(image.id) {
                Thumb::Ready(tex) => {
                    let img = egui::Image::new(tex)
                        .max_size(vec2(m.cell - 8.0, m.cell - 8.0))
                        .alt_text(alt);
                    ui.put(cell, egui::Button::image(img).selected(selected))
                }
                Thumb::Failed(message) => {
                    let r = ui.put(cell, egui::Button::new("!").selected(selected));
                    r.on_hover_text(format!("{alt}: the thumbnail could not be read: {message}"))
                }
                Thumb::Loading => {
                    let r = ui.put(cell, egui::Button::new("…").selected(selected));
                    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &alt));
                    r
                }
            };
            let badge = marks_badge(image);
            if !badge.is_empty() {
                let at = response.rect.left_bottom() + vec2(6.0, -6.0);
                let galley = ui.painter().layout_no_wrap(
                    badge,
                    egui::FontId::proportional(11.0),
                    egui::Color32::WHITE,
                );
                let back = egui::Rect::from_min_size(
                    at - vec2(2.0, galley.size().y + 1.0),
                    galley.size() + vec2(4.0, 2.0),
                );
                ui.painter()
                    .rect_filled(back, 2.0, egui::Color32::from_black_alpha(180));
                ui.painter().galley(
                    at - vec2(0.0, galley.size().y),
                    galley,
                    egui::Color32::WHITE,
                );
            }
            if response.clicked() {
                clicks.push(image.id);
            }
        }
        let bottom = top.y + m.block_height(generation.images.len()) - m.after / 2.0;
        ui.painter().hline(
            top.x..=top.x + m.width,
            bottom,
            ui.visuals().widgets.noninteractive.bg_stroke,
        );
    }
}
