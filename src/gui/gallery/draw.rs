//! Drawing the gallery: the selection bar, the virtualised timeline of generations and
//! each generation's header and thumbnails. The state it draws is in the parent module.

use egui::{RichText, TextureHandle, UiBuilder, vec2};

use super::super::gallery_layout::{Layout, Metrics};
use super::super::gallery_text::{details, marks_text};
use super::super::thumbs::{Thumb, ThumbCache};
use super::super::{Command, icons};
use super::Gallery;
use crate::library::ImageId;

/// What the user asked of the thumbnails drawn this frame.
#[derive(Default)]
struct Asked {
    /// Thumbnails clicked, in order.
    clicks: Vec<ImageId>,
    /// Actions chosen in a thumbnail's menu.
    commands: Vec<Command>,
}

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
        ui.horizontal(|ui| {
            ui.label(format!("{n} selected"));
            // Icons with their names for hover and for screen readers: one line at any
            // panel width.
            let icon_button = |ui: &mut egui::Ui, icon: &str, name: &str, hover: &str| {
                let response = ui.small_button(icon);
                icons::named(&response, name);
                response.on_hover_text(format!("{name}: {hover}"))
            };
            if icon_button(
                ui,
                icons::SAVE,
                "Save selected to folder…",
                "export with the recipe embedded, named by a template (Ctrl+S)",
            )
            .clicked()
            {
                commands.push(Command::SaveSelected);
            }
            if icon_button(
                ui,
                icons::TRASH,
                "Move to trash",
                "delete (Delete; Ctrl+Z brings back)",
            )
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
        let mut asked = Asked::default();
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
                    self.draw_generation(ui, index, top, &metrics, thumbs, &mut asked);
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
        for id in asked.clicks {
            self.click(id, modifiers);
            commands.push(Command::Select(id));
        }
        commands.extend(asked.commands);
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
        asked: &mut Asked,
    ) {
        let generation = &self.generations[index];
        let job = &generation.job;
        let header = egui::Rect::from_min_size(top, vec2(m.width, m.header));
        ui.scope_builder(UiBuilder::new().max_rect(header), |ui| {
            ui.add_space(4.0);
            ui.add(
                egui::Label::new(RichText::new(job.recipe.prompt_preview()).strong()).truncate(),
            );
            let line = details(generation);
            ui.add(egui::Label::new(RichText::new(&line).small().weak()).truncate())
                .on_hover_text(line);
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
            if image.flag == crate::library::Flag::Reject {
                // A reject stays findable but reads as set aside.
                let fill = ui.visuals().panel_fill.gamma_multiply(0.6);
                ui.painter()
                    .rect_filled(response.rect.shrink(2.0), 4.0, fill);
            }
            paint_marks(ui, response.rect, image);
            let response = response.on_hover_ui(|ui| {
                ui.set_max_width(320.0);
                ui.label(RichText::new(&job.recipe.prompt).strong());
                ui.label(recipe_words(job, image));
            });
            response.context_menu(|ui| thumb_menu(ui, job, image, &mut asked.commands));
            if response.clicked() {
                asked.clicks.push(image.id);
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

/// The recipe of a thumbnail's image, in words, for its hover.
fn recipe_words(job: &crate::library::JobRecord, image: &crate::library::ImageRecord) -> String {
    let r = &job.recipe;
    let mut words = vec![
        format!("{} · {}", r.provider.label(), r.model),
        format!("{} · {}×{}", r.aspect, image.width, image.height),
    ];
    if let Some(seed) = r.seed {
        words.push(format!("seed {seed}"));
    }
    if !r.inputs.is_empty() {
        words.push(format!(
            "{} input image{}",
            r.inputs.len(),
            if r.inputs.len() == 1 { "" } else { "s" }
        ));
    }
    words.join("\n")
}

/// Stars, flag and heart on a thumbnail, in colour, on a dark pill that reads on any
/// picture.
fn paint_marks(ui: &egui::Ui, cell: egui::Rect, image: &crate::library::ImageRecord) {
    use crate::library::Flag;
    let mut parts: Vec<(String, egui::Color32)> = Vec::new();
    let gold = super::super::theme::star(true);
    if image.rating > 0 {
        parts.push((icons::STAR.repeat(usize::from(image.rating)), gold));
    }
    match image.flag {
        Flag::Pick => parts.push((icons::FLAG.to_owned(), super::super::theme::SUCCESS)),
        Flag::Reject => parts.push((icons::REJECT.to_owned(), super::super::theme::REJECT)),
        Flag::Unflagged => {}
    }
    if image.favourite {
        parts.push((icons::HEART.to_owned(), super::super::theme::HEART));
    }
    if parts.is_empty() {
        return;
    }
    let mut job = egui::text::LayoutJob::default();
    for (i, (text, color)) in parts.into_iter().enumerate() {
        let text = if i == 0 { text } else { format!(" {text}") };
        job.append(
            &text,
            0.0,
            egui::TextFormat::simple(egui::FontId::proportional(12.0), color),
        );
    }
    let galley = ui.painter().layout_job(job);
    let at = cell.left_bottom() + vec2(6.0, -6.0 - galley.size().y);
    let back = egui::Rect::from_min_size(at - vec2(3.0, 1.0), galley.size() + vec2(6.0, 2.0));
    ui.painter()
        .rect_filled(back, 3.0, egui::Color32::from_black_alpha(190));
    ui.painter().galley(at, galley, egui::Color32::WHITE);
}

/// Every action on one thumbnail's image.
fn thumb_menu(
    ui: &mut egui::Ui,
    job: &crate::library::JobRecord,
    image: &crate::library::ImageRecord,
    asked: &mut Vec<Command>,
) {
    use crate::library::{Flag, Mark};
    if ui.button("Open in the viewer").clicked() {
        asked.push(Command::Select(image.id));
        ui.close();
    }
    super::super::image_menu::items(ui, image.id, Some(job.id), false, asked);
    ui.separator();
    ui.horizontal(|ui| {
        for stars in 0..=5u8 {
            let text = if stars == 0 {
                "0".to_owned()
            } else {
                format!("{stars}{}", icons::STAR)
            };
            if ui
                .selectable_label(image.rating == stars, text)
                .on_hover_text(if stars == 0 {
                    "Clear the rating".to_owned()
                } else {
                    format!("Rate {stars}")
                })
                .clicked()
            {
                asked.push(Command::Mark(image.id, Mark::Rating(stars)));
                ui.close();
            }
        }
    });
    let mut item = |ui: &mut egui::Ui, text: &str, command: Command| {
        if ui.button(text).clicked() {
            asked.push(command);
            ui.close();
        }
    };
    item(
        ui,
        "Pick (P)",
        Command::Mark(image.id, Mark::Flag(Flag::Pick)),
    );
    item(
        ui,
        "Reject (X)",
        Command::Mark(image.id, Mark::Flag(Flag::Reject)),
    );
    item(
        ui,
        "Unflag (U)",
        Command::Mark(image.id, Mark::Flag(Flag::Unflagged)),
    );
    item(
        ui,
        if image.favourite {
            "Not a favourite (F)"
        } else {
            "Favourite (F)"
        },
        Command::Mark(image.id, Mark::Favourite(!image.favourite)),
    );
    ui.separator();
    item(ui, "Move to trash", Command::TrashImage(image.id));
}
