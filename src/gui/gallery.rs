//! The gallery: thumbnails newest first, grouped by generation, with prompt and model.

use std::collections::HashMap;

use egui::{RichText, TextureHandle};

use super::Command;
use crate::engine::Event;
use crate::imaging::Rgba;
use crate::library::{Generation, ImageId, ImageRecord};

enum Thumb {
    Loading,
    Ready(TextureHandle),
    Failed(String),
}

/// The gallery's state.
#[derive(Default)]
pub struct Gallery {
    generations: Vec<Generation>,
    thumbs: HashMap<ImageId, Thumb>,
    /// The image shown in the viewer.
    pub selected: Option<ImageId>,
    /// The prompt search typed in the gallery.
    pub search: String,
    /// The images of the last delete, for Undo (this session only).
    pub last_deleted: Vec<ImageId>,
    history_loaded: bool,
}

/// A texture from decoded pixels.
pub fn texture(ctx: &egui::Context, name: String, pixels: &Rgba) -> TextureHandle {
    let image = egui::ColorImage::from_rgba_unmultiplied(
        [pixels.width as usize, pixels.height as usize],
        &pixels.pixels,
    );
    ctx.load_texture(name, image, egui::TextureOptions::LINEAR)
}

fn format_time(ms: i64) -> String {
    let (y, m, d, h, mi, _) = crate::library::dates::utc_parts(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02} UTC")
}

/// An image's marks, each as words and as a short badge.
fn marks(image: &ImageRecord) -> Vec<(String, String)> {
    let mut marks = Vec::new();
    if image.rating > 0 {
        marks.push((
            format!("rated {}", image.rating),
            format!("{}/5", image.rating),
        ));
    }
    match image.flag {
        1 => marks.push(("picked".to_owned(), "PICK".to_owned())),
        -1 => marks.push(("rejected".to_owned(), "REJECT".to_owned())),
        _ => {}
    }
    if image.favourite {
        marks.push(("favourite".to_owned(), "FAV".to_owned()));
    }
    marks
}

/// " (rated 4, picked, favourite)" for an image's marks, or "".
fn marks_text(image: &ImageRecord) -> String {
    let words: Vec<String> = marks(image).into_iter().map(|(w, _)| w).collect();
    if words.is_empty() {
        String::new()
    } else {
        format!(" ({})", words.join(", "))
    }
}

/// A short badge for a thumbnail: "4/5 PICK FAV".
fn marks_badge(image: &ImageRecord) -> String {
    let badges: Vec<String> = marks(image).into_iter().map(|(_, b)| b).collect();
    badges.join(" ")
}

impl Gallery {
    /// Applies a mark to the shown record at once (the engine stores it).
    pub fn apply_mark(&mut self, id: ImageId, mark: crate::library::Mark) {
        use crate::library::Mark;
        for image in self
            .generations
            .iter_mut()
            .flat_map(|g| g.images.iter_mut())
            .filter(|i| i.id == id)
        {
            match mark {
                Mark::Rating(r) => image.rating = r,
                Mark::Flag(f) => image.flag = f,
                Mark::Favourite(f) => image.favourite = f,
            }
        }
    }

    /// Removes images from view at once (the engine moves them to the trash).
    pub fn remove(&mut self, ids: &[ImageId]) {
        for g in &mut self.generations {
            g.images.retain(|i| !ids.contains(&i.id));
        }
        self.generations.retain(|g| !g.images.is_empty());
        if self.selected.is_some_and(|s| ids.contains(&s)) {
            self.selected = None;
        }
    }

    /// Every generation shown, newest first.
    pub fn generations(&self) -> &[Generation] {
        &self.generations
    }

    /// Whether the first page of history has arrived.
    pub fn history_loaded(&self) -> bool {
        self.history_loaded
    }

    /// Finds an image record.
    pub fn image(&self, id: ImageId) -> Option<(&Generation, &ImageRecord)> {
        self.generations
            .iter()
            .find_map(|g| g.images.iter().find(|i| i.id == id).map(|i| (g, i)))
    }

    /// The image `step` places after `current` in gallery order (siblings first).
    pub fn neighbour(&self, current: ImageId, step: i64) -> Option<ImageId> {
        let ids: Vec<ImageId> = self
            .generations
            .iter()
            .flat_map(|g| g.images.iter().map(|i| i.id))
            .collect();
        let at = ids.iter().position(|id| *id == current)? as i64;
        let next = at + step;
        (0..ids.len() as i64)
            .contains(&next)
            .then(|| ids[next as usize])
    }

    /// Follows history, results and decoded thumbnails.
    pub fn on_event(&mut self, ctx: &egui::Context, event: &Event) {
        match event {
            Event::History { generations, query } => {
                // A first page replaces the list: it is the whole truth after marks,
                // deletions or a new search.
                if query.offset == 0 {
                    self.generations.clear();
                }
                for g in generations {
                    if !g.images.is_empty()
                        && !self.generations.iter().any(|x| x.job.id == g.job.id)
                    {
                        self.generations.push(g.clone());
                    }
                }
                self.generations.sort_by(|a, b| {
                    b.job
                        .created_at_ms
                        .cmp(&a.job.created_at_ms)
                        .then(b.job.id.cmp(&a.job.id))
                });
                self.history_loaded = true;
            }
            Event::JobSucceeded { generation, .. } => {
                if !self
                    .generations
                    .iter()
                    .any(|x| x.job.id == generation.job.id)
                {
                    self.generations.insert(0, (**generation).clone());
                }
                if let Some(first) = generation.images.first() {
                    self.selected = Some(first.id);
                }
            }
            Event::Thumbnail { image, pixels } => {
                let tex = texture(ctx, format!("thumb-{image}"), pixels);
                self.thumbs.insert(*image, Thumb::Ready(tex));
            }
            Event::ImageFailed { image, message } => {
                if matches!(self.thumbs.get(image), Some(Thumb::Loading)) {
                    self.thumbs.insert(*image, Thumb::Failed(message.clone()));
                }
            }
            _ => {}
        }
    }

    /// Draws the gallery; returns what the user asked.
    pub fn ui(&mut self, ui: &mut egui::Ui, thumb_size: f32) -> Vec<Command> {
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            ui.heading("Gallery");
            if ui
                .small_button("Empty trash")
                .on_hover_text("Delete trashed images for good")
                .clicked()
            {
                commands.push(Command::EmptyTrash);
            }
        });
        let label = ui.label("Search prompts");
        let search = ui
            .add(egui::TextEdit::singleline(&mut self.search).hint_text("words in the prompt"))
            .labelled_by(label.id);
        if search.changed() {
            commands.push(Command::Search(self.search.clone()));
        }
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
        if self.generations.is_empty() {
            ui.weak(if self.history_loaded {
                "No images yet."
            } else {
                "Loading history…"
            });
            return commands;
        }
        egui::ScrollArea::vertical()
            .id_salt("gallery-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for generation in &self.generations {
                    let job = &generation.job;
                    ui.add_space(6.0);
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(job.recipe.prompt_preview()).strong());
                    });
                    let mut meta = format!(
                        "{} · {} · {}",
                        job.recipe.model,
                        job.recipe.aspect,
                        format_time(job.created_at_ms)
                    );
                    if let Some(size) = job.recipe.size {
                        meta.push_str(&format!(" · {size}"));
                    }
                    if job.sandbox {
                        meta.push_str(" · SANDBOX (not model output)");
                    } else if let Some(cost) = job.cost_usd {
                        meta.push_str(&format!(" · ${cost:.3}"));
                    }
                    ui.weak(RichText::new(meta).small());
                    ui.horizontal_wrapped(|ui| {
                        for image in &generation.images {
                            let selected = self.selected == Some(image.id);
                            let alt = format!(
                                "Image {} of job {}: {}{}",
                                image.index + 1,
                                job.id,
                                job.recipe.prompt_preview(),
                                marks_text(image)
                            );
                            match self.thumbs.get(&image.id) {
                                Some(Thumb::Ready(tex)) => {
                                    let img = egui::Image::new(tex)
                                        .max_size(egui::vec2(thumb_size, thumb_size))
                                        .alt_text(alt);
                                    let r = ui.add(egui::Button::image(img).selected(selected));
                                    let badge = marks_badge(image);
                                    if !badge.is_empty() {
                                        let at = r.rect.left_bottom() + egui::vec2(6.0, -6.0);
                                        let galley = ui.painter().layout_no_wrap(
                                            badge,
                                            egui::FontId::proportional(11.0),
                                            egui::Color32::WHITE,
                                        );
                                        let back = egui::Rect::from_min_size(
                                            at - egui::vec2(2.0, galley.size().y + 1.0),
                                            galley.size() + egui::vec2(4.0, 2.0),
                                        );
                                        ui.painter().rect_filled(
                                            back,
                                            2.0,
                                            egui::Color32::from_black_alpha(180),
                                        );
                                        ui.painter().galley(
                                            at - egui::vec2(0.0, galley.size().y),
                                            galley,
                                            egui::Color32::WHITE,
                                        );
                                    }
                                    if r.clicked() {
                                        commands.push(Command::Select(image.id));
                                    }
                                }
                                Some(Thumb::Failed(message)) => {
                                    ui.add_sized([thumb_size, thumb_size], egui::Label::new("!"))
                                        .on_hover_text(message);
                                }
                                other => {
                                    if other.is_none() {
                                        commands.push(Command::LoadThumbnail(image.id));
                                    }
                                    ui.add_sized([thumb_size, thumb_size], egui::Label::new("…"));
                                }
                            }
                        }
                    });
                    ui.separator();
                }
            });
        for c in &commands {
            if let Command::LoadThumbnail(id) = c {
                self.thumbs.insert(*id, Thumb::Loading);
            }
        }
        commands
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_calendar_dates() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            super::format_time(1_795_651_200_000),
            "2026-11-26 00:00 UTC"
        );
    }
}
