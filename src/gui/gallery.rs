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
    let (y, m, d, h, mi, _) = crate::library::export::utc_parts(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02} UTC")
}

impl Gallery {
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
            Event::History { generations, .. } => {
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
        ui.heading("Gallery");
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
                                "Image {} of job {}: {}",
                                image.index + 1,
                                job.id,
                                job.recipe.prompt_preview()
                            );
                            match self.thumbs.get(&image.id) {
                                Some(Thumb::Ready(tex)) => {
                                    let img = egui::Image::new(tex)
                                        .max_size(egui::vec2(thumb_size, thumb_size))
                                        .alt_text(alt);
                                    let r = ui.add(egui::Button::image(img).selected(selected));
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
