//! The viewer: the chosen image with fit, zoom and pan, and the model's words.

use std::sync::Arc;

use egui::{Rect, RichText, Sense, TextureHandle, Vec2, pos2, vec2};

use super::Command;
use super::compare::CompareState;
use super::gallery::{Gallery, texture};
use crate::engine::PixelsAnswer;
use crate::imaging::Rgba;
use crate::library::ImageId;

/// The viewer's state.
#[derive(Default)]
pub struct Viewer {
    shown: Option<ImageId>,
    texture: Option<(ImageId, TextureHandle)>,
    pixels: Option<(ImageId, Arc<Rgba>)>,
    error: Option<String>,
    /// The decode asked for the shown image; switching image drops it.
    loading: Option<(ImageId, PixelsAnswer)>,
    /// None fits the image to the view; Some is a scale (1.0 = 100%).
    zoom: Option<f32>,
    pan: Vec2,
    /// Before/after, side by side, difference.
    pub compare: CompareState,
}

impl Viewer {
    /// Switches to an image; returns true when its pixels must be loaded.
    pub fn show(&mut self, image: ImageId) -> bool {
        if self.shown == Some(image) {
            return false;
        }
        self.shown = Some(image);
        self.error = None;
        self.zoom = None;
        self.pan = Vec2::ZERO;
        !matches!(&self.texture, Some((id, _)) if *id == image)
    }

    /// The shown image's pixels, once decoded.
    pub fn shown_pixels(&self) -> Option<&Rgba> {
        match &self.pixels {
            Some((id, p)) if Some(*id) == self.shown => Some(p),
            _ => None,
        }
    }

    /// Waits for the pixels of `image`, asked for after `show` said so.
    pub fn expect(&mut self, image: ImageId, answer: PixelsAnswer) {
        self.loading = Some((image, answer));
    }

    /// Takes decoded pixels and comparisons once they have come.
    pub fn poll(&mut self, ctx: &egui::Context) {
        self.compare.poll(ctx);
        let Some((image, answer)) = &mut self.loading else {
            return;
        };
        let image = *image;
        let Some(result) = answer.take() else {
            return;
        };
        self.loading = None;
        if Some(image) != self.shown {
            return;
        }
        match result {
            Ok(pixels) => {
                self.texture = Some((image, texture(ctx, format!("full-{image}"), &pixels)));
                self.pixels = Some((image, pixels));
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// Draws the viewer; returns what the user asked.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        gallery: &Gallery,
        catalog: &crate::recipe::Catalog,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let Some(shown) = self.shown else {
            ui.centered_and_justified(|ui| {
                ui.weak("Generated images appear here. Pick one in the gallery to look closer.");
            });
            return commands;
        };
        let record = gallery.image(shown);
        // Wraps rather than widening the panel, which would push the image off centre.
        ui.horizontal_wrapped(|ui| {
            if ui.selectable_label(self.zoom.is_none(), "Fit").clicked() {
                self.zoom = None;
                self.pan = Vec2::ZERO;
            }
            if ui
                .selectable_label(self.zoom == Some(1.0), "100%")
                .clicked()
            {
                self.zoom = Some(1.0);
                self.pan = Vec2::ZERO;
            }
            if ui.button("Zoom out").clicked() {
                self.zoom = Some((self.zoom.unwrap_or(0.5) / 1.25).max(0.05));
            }
            if ui.button("Zoom in").clicked() {
                self.zoom = Some((self.zoom.unwrap_or(0.5) * 1.25).min(16.0));
            }
            if let Some(z) = self.zoom {
                ui.weak(format!("{:.0}%", z * 100.0));
            }
            ui.separator();
            if ui.button("Save as…").clicked() {
                commands.push(Command::SaveAs(shown));
            }
            if ui
                .button("Copy")
                .on_hover_text("Copy the image to the clipboard")
                .clicked()
            {
                commands.push(Command::CopyImage);
            }
            if ui
                .button("Reveal")
                .on_hover_text("Show the file in the file manager")
                .clicked()
            {
                commands.push(Command::Reveal(shown));
            }
            if let Some((g, _)) = record {
                if ui
                    .button("Use these settings")
                    .on_hover_text("Put this recipe back in the prompt panel")
                    .clicked()
                {
                    commands.push(Command::UseSettings(g.job.id));
                }
                if ui
                    .button("Regenerate")
                    .on_hover_text("The same recipe with a new seed")
                    .clicked()
                {
                    commands.push(Command::Regenerate(g.job.id, None));
                }
                if ui
                    .button("Variations")
                    .on_hover_text("Four more of the same")
                    .clicked()
                {
                    commands.push(Command::Regenerate(g.job.id, Some(4)));
                }
                same_recipe_menu(ui, &g.job, catalog, &mut commands);
            }
            if ui
                .button("Refine")
                .on_hover_text("Change this image step by step, keeping the conversation")
                .clicked()
            {
                commands.push(Command::StartRefine(shown));
            }
            if ui
                .button("Use as input")
                .on_hover_text("Edit this image next")
                .clicked()
            {
                commands.push(Command::UseAsInput(shown));
            }
            if let Some((g, image)) = record {
                ui.weak(format!(
                    "{}×{} {} · job {}",
                    image.width, image.height, image.mime, g.job.id
                ));
                if g.job.sandbox {
                    ui.colored_label(super::theme::SANDBOX_LABEL, "SANDBOX IMAGE");
                }
            }
        });
        if self.compare.mode_ui(ui, shown) {
            commands.push(Command::LoadComparison(shown));
        }
        let text_height = if record.and_then(|(g, _)| g.job.text.as_ref()).is_some() {
            64.0
        } else {
            0.0
        };
        let size = ui.available_size() - vec2(0.0, text_height);
        let (rect, response) =
            ui.allocate_exact_size(size.max(vec2(32.0, 32.0)), Sense::click_and_drag());
        match (&self.texture, &self.error) {
            (Some((id, tex)), _) if *id == shown => {
                let image_size = tex.size_vec2();
                let fit = (rect.width() / image_size.x)
                    .min(rect.height() / image_size.y)
                    .min(1.0);
                let mut scale = self.zoom.unwrap_or(fit);
                if response.hovered() {
                    let scroll = ui.input(|i| i.smooth_scroll_delta.y);
                    if scroll != 0.0 {
                        scale = (scale * (1.0 + scroll * 0.002)).clamp(0.05, 16.0);
                        self.zoom = Some(scale);
                    }
                }
                if response.dragged() && !self.compare.drags_split() {
                    self.pan += response.drag_delta();
                    self.zoom.get_or_insert(scale);
                }
                if response.double_clicked() {
                    self.zoom = None;
                    self.pan = Vec2::ZERO;
                }
                let drawn = Rect::from_center_size(rect.center() + self.pan, image_size * scale);
                let painter = ui.painter_at(rect);
                painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
                if !self.compare.paint(ui, rect, &response, drawn, tex, shown) {
                    painter.image(
                        tex.id(),
                        drawn,
                        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                        egui::Color32::WHITE,
                    );
                }
            }
            (_, Some(error)) => {
                ui.painter_at(rect).text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    error,
                    egui::FontId::proportional(14.0),
                    ui.visuals().error_fg_color,
                );
            }
            _ => {
                ui.painter_at(rect).text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    "Loading…",
                    egui::FontId::proportional(14.0),
                    ui.visuals().weak_text_color(),
                );
            }
        }
        if let Some(text) = record.and_then(|(g, _)| g.job.text.as_ref()) {
            egui::ScrollArea::vertical()
                .id_salt("model-text")
                .max_height(text_height)
                .show(ui, |ui| {
                    ui.label(RichText::new(format!("Model: {text}")).italics());
                });
        }
        commands
    }
}

/// "Same recipe on…": the other providers, each disabled with the reason when it cannot
/// run this recipe; and the family's runs side by side.
fn same_recipe_menu(
    ui: &mut egui::Ui,
    job: &crate::library::JobRecord,
    catalog: &crate::recipe::Catalog,
    commands: &mut Vec<Command>,
) {
    ui.menu_button("Same recipe on…", |ui| {
        for provider in crate::recipe::ProviderId::ALL {
            if provider == job.recipe.provider {
                continue;
            }
            let check = job.recipe.on_provider(provider, catalog);
            let response = ui
                .add_enabled(check.is_ok(), egui::Button::new(provider.label()))
                .on_hover_text("Run this recipe there; the results are listed side by side");
            let response = match &check {
                Err(e) => response.on_disabled_hover_text(e.to_string()),
                Ok(_) => response,
            };
            if response.clicked() {
                commands.push(Command::SameRecipeOn(job.id, provider));
                ui.close();
            }
        }
    });
    if ui
        .button("All providers")
        .on_hover_text("List this recipe's runs on every provider side by side")
        .clicked()
    {
        commands.push(Command::ShowSameRecipe(
            job.same_recipe_of.unwrap_or(job.id),
        ));
    }
}
