//! The viewer: the chosen image with fit, zoom and pan, and the model's words.

use egui::{
    Key, KeyboardShortcut, Modifiers, Rect, RichText, Sense, TextureHandle, Vec2, pos2, vec2,
};

use super::compare::CompareState;
use super::gallery::{Gallery, texture};
use super::{Command, icons};
use crate::engine::PixelsAnswer;
use crate::library::ImageId;

/// The long side, in pixels, an image is first decoded to for the viewer: a screen's
/// worth (a 4K image at Fit needs no more), so opening it costs no 67 MB of pixels.
/// Zooming in past it and the loupe load as much as the graphics card takes.
pub const VIEW_SIDE_PX: u32 = 2560;

/// The viewer's state.
pub struct Viewer {
    shown: Option<ImageId>,
    /// The shown image's texture, and whether it has all the detail a texture can hold.
    texture: Option<(ImageId, TextureHandle, bool)>,
    error: Option<String>,
    /// The decode asked for the shown image and the long side it was asked at;
    /// switching image drops it.
    loading: Option<(ImageId, u32, PixelsAnswer)>,
    /// None fits the image to the view; Some is a scale (1.0 = 100%).
    zoom: Option<f32>,
    pan: Vec2,
    /// The view's size in points at the last frame, so the detail a newly shown image
    /// needs is known before it is drawn.
    view_size: Vec2,
    /// The longest texture side the graphics card takes.
    max_side: u32,
    /// Before/after, side by side, difference.
    pub compare: CompareState,
}

impl Default for Viewer {
    fn default() -> Self {
        Self {
            shown: None,
            texture: None,
            error: None,
            loading: None,
            zoom: None,
            pan: Vec2::ZERO,
            view_size: Vec2::ZERO,
            max_side: 2048,
            compare: CompareState::default(),
        }
    }
}

impl Viewer {
    /// Switches to an image; its pixels are asked for once the frame is drawn (see
    /// [`Viewer::pixels_wanted`]).
    pub fn show(&mut self, image: ImageId) {
        if self.shown == Some(image) {
            return;
        }
        // Zoom and pan stay: stepping through variants at 100% compares their details.
        self.shown = Some(image);
        self.error = None;
    }

    /// The shown image, when its pixels are to be asked for: it has no texture, no
    /// decode under way and no error.
    pub fn pixels_wanted(&self) -> Option<ImageId> {
        let shown = self.shown?;
        let here = matches!(&self.texture, Some((id, ..)) if *id == shown);
        let coming = matches!(&self.loading, Some((id, ..)) if *id == shown);
        (!here && !coming && self.error.is_none()).then_some(shown)
    }

    /// Shows nothing: the image shown is no longer listed.
    pub fn clear(&mut self) {
        self.shown = None;
        self.loading = None;
        self.error = None;
    }

    /// The image shown (or loading).
    pub fn shown(&self) -> Option<ImageId> {
        self.shown
    }

    /// The size of the shown image's texture, once it has one.
    #[cfg(any(test, feature = "testing"))]
    pub fn shown_texture_size(&self) -> Option<[usize; 2]> {
        match &self.texture {
            Some((id, tex, _)) if Some(*id) == self.shown => Some(tex.size()),
            _ => None,
        }
    }

    /// The long side to decode an image `width`x`height` at for the view's zoom and
    /// size: a screen's worth, or all the card takes when zoomed in past that.
    pub fn side_for(&self, width: u32, height: u32, pixels_per_point: f32) -> u32 {
        let screen = VIEW_SIDE_PX.min(self.max_side);
        let long = width.max(height) as f32;
        // Image pixels a point, then screen pixels an image pixel.
        let fit = (self.view_size.x / width as f32)
            .min(self.view_size.y / height as f32)
            .min(1.0);
        let scale = self.zoom.unwrap_or(fit) * pixels_per_point;
        if long > screen as f32 && long * scale > screen as f32 * 1.05 {
            self.max_side
        } else {
            screen
        }
    }

    /// The long side of the most detailed texture the graphics card takes.
    pub fn full_side(&self) -> u32 {
        self.max_side
    }

    /// Waits for the pixels of `image` decoded at most `side` long, asked for after
    /// `show` (or the view) said so.
    pub fn expect(&mut self, image: ImageId, side: u32, answer: PixelsAnswer) {
        self.loading = Some((image, side, answer));
    }

    /// Whether all the detail a texture can hold of `image` is asked for or here.
    fn full_coming(&self, image: ImageId) -> bool {
        matches!(&self.loading, Some((id, side, _)) if *id == image && *side >= self.max_side)
            || matches!(&self.texture, Some((id, _, true)) if *id == image)
    }

    /// Takes decoded pixels and comparisons once they have come.
    pub fn poll(&mut self, ctx: &egui::Context) {
        self.compare.poll(ctx);
        self.max_side = ctx.input(|i| i.max_texture_side).max(1) as u32;
        let Some((image, side, answer)) = &mut self.loading else {
            return;
        };
        let (image, side) = (*image, *side);
        let Some(result) = answer.take() else {
            return;
        };
        self.loading = None;
        if Some(image) != self.shown {
            return;
        }
        match result {
            Ok(pixels) => {
                let long = pixels.width.max(pixels.height);
                if long > self.max_side {
                    self.error = Some(format!(
                        "This image is {}×{} pixels; the graphics card shows at most {} a side",
                        pixels.width, pixels.height, self.max_side
                    ));
                    return;
                }
                // Smaller than asked: that is the whole image.
                let complete = side >= self.max_side || long < side;
                let tex = texture(ctx, format!("view-{image}"), &pixels);
                self.texture = Some((image, tex, complete));
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
        self.zoom_keys(ui);
        let record = gallery.image(shown);
        // One row at any width from 1024 px: the primary actions, the rest in the
        // overflow menu (and the image's right-click menu). Narrow, the labels go and
        // the icons stay, each with its name on hover.
        let compact = ui.available_width() < 440.0;
        ui.horizontal(|ui| {
            // Refine keeps its name at any width: it is what a designer does most.
            if action(ui, icons::REFINE, "Refine", false)
                .on_hover_text("Refine: change this image step by step, keeping the conversation")
                .clicked()
            {
                commands.push(Command::StartRefine(shown));
            }
            if let Some((g, _)) = record
                && action(ui, icons::VARIATIONS, "Variations", compact)
                    .on_hover_text("Variations: four more of the same recipe")
                    .clicked()
            {
                commands.push(Command::Regenerate(g.job.id, Some(4)));
            }
            if action(ui, icons::SAVE, "Save as…", compact)
                .on_hover_text("Save as…: write this image to a file")
                .clicked()
            {
                commands.push(Command::SaveAs(shown));
            }
            self.compare.menu(ui, compact);
            let more = ui.menu_button(icons::MORE, |ui| {
                self.actions_menu(
                    ui,
                    shown,
                    record.map(|(g, _)| &g.job),
                    catalog,
                    &mut commands,
                );
            });
            icons::named(&more.response, "More actions");
            more.response
                .on_hover_text("More: copy, reveal, reuse the recipe, zoom");
        });
        // The image's facts, and the zoom.
        ui.horizontal(|ui| {
            if let Some((g, image)) = record {
                let kind = image
                    .mime
                    .strip_prefix("image/")
                    .unwrap_or(&image.mime)
                    .to_uppercase();
                ui.weak(format!("{}×{} {kind}", image.width, image.height));
                if g.job.sandbox {
                    ui.colored_label(super::theme::SANDBOX_LABEL, "SANDBOX IMAGE");
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .selectable_label(self.zoom == Some(1.0), "100%")
                    .on_hover_text("Actual pixels (Ctrl+1)")
                    .clicked()
                {
                    self.zoom = Some(1.0);
                    self.pan = Vec2::ZERO;
                }
                if ui
                    .selectable_label(self.zoom.is_none(), "Fit")
                    .on_hover_text("Fit the image to the view (Ctrl+0, or double-click it)")
                    .clicked()
                {
                    self.zoom = None;
                    self.pan = Vec2::ZERO;
                }
                if let Some(z) = self.zoom {
                    ui.weak(format!("{:.0}%", z * 100.0));
                }
            });
        });
        if self.compare.status_ui(ui, shown) {
            commands.push(Command::LoadComparison(shown));
        }
        let grounded = record
            .and_then(|(g, _)| g.job.grounding.as_ref())
            .is_some_and(|g| !g.sources.is_empty() || !g.queries.is_empty());
        let text_height = match (
            record.and_then(|(g, _)| g.job.text.as_ref()).is_some(),
            grounded,
        ) {
            (_, true) => 72.0,
            (true, false) => 48.0,
            (false, false) => 0.0,
        };
        let size = ui.available_size() - vec2(0.0, text_height);
        let (rect, response) =
            ui.allocate_exact_size(size.max(vec2(32.0, 32.0)), Sense::click_and_drag());
        let dark = ui.visuals().dark_mode;
        ui.painter_at(rect)
            .rect_filled(rect, 0.0, super::theme::canvas(dark));
        let ppp = ui.ctx().pixels_per_point();
        self.view_size = rect.size();
        match (&self.texture, &self.error) {
            (Some((id, tex, complete)), _) if *id == shown => {
                // Drawn at the image's own size whatever the texture's detail.
                let image_size = record.map_or(tex.size_vec2(), |(_, i)| {
                    vec2(i.width as f32, i.height as f32)
                });
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
                if !self.compare.paint(ui, rect, &response, drawn, tex, shown) {
                    painter.image(tex.id(), drawn, FULL_UV, egui::Color32::WHITE);
                }
                let looking_closer = loupe(ui, &painter, &response, drawn, tex);
                // Zoomed past the screen's worth, or under the loupe: every pixel.
                if !*complete
                    && !self.full_coming(shown)
                    && (looking_closer
                        || image_size.x.max(image_size.y) * scale * ppp
                            > tex.size_vec2().max_elem() * 1.05)
                {
                    commands.push(Command::LoadFullImage(shown));
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
                    egui::Color32::WHITE,
                );
            }
        }
        response.context_menu(|ui| {
            self.actions_menu(
                ui,
                shown,
                record.map(|(g, _)| &g.job),
                catalog,
                &mut commands,
            );
            ui.separator();
            ui.label(RichText::new("Compare").weak());
            self.compare.mode_items(ui);
        });
        if text_height > 0.0
            && let Some((g, _)) = record
        {
            egui::ScrollArea::vertical()
                .id_salt("model-text")
                .max_height(text_height)
                .show(ui, |ui| {
                    if let Some(text) = &g.job.text {
                        ui.label(RichText::new(format!("Model: {text}")).italics());
                    }
                    if let Some(grounding) = &g.job.grounding {
                        sources_ui(ui, grounding);
                    }
                });
        }
        commands
    }

    /// Ctrl+0 fits the image, Ctrl+1 shows it at 100%.
    fn zoom_keys(&mut self, ui: &egui::Ui) {
        let fit = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num0);
        let actual = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num1);
        if ui.input_mut(|i| i.consume_shortcut(&fit)) {
            self.zoom = None;
            self.pan = Vec2::ZERO;
        }
        if ui.input_mut(|i| i.consume_shortcut(&actual)) {
            self.zoom = Some(1.0);
            self.pan = Vec2::ZERO;
        }
    }

    /// Every action on the shown image: the toolbar's overflow and the right-click menu.
    fn actions_menu(
        &mut self,
        ui: &mut egui::Ui,
        shown: ImageId,
        job: Option<&crate::library::JobRecord>,
        catalog: &crate::recipe::Catalog,
        commands: &mut Vec<Command>,
    ) {
        super::image_menu::items(ui, shown, job.map(|j| j.id), true, commands);
        if let Some(job) = job {
            ui.separator();
            same_recipe_menu(ui, job, catalog, commands);
        }
        ui.separator();
        if ui.button("Zoom in").clicked() {
            self.zoom = Some((self.zoom.unwrap_or(0.5) * 1.25).min(16.0));
        }
        if ui.button("Zoom out").clicked() {
            self.zoom = Some((self.zoom.unwrap_or(0.5) / 1.25).max(0.05));
        }
    }
}

/// A toolbar button: its icon and name, or the icon alone when `compact`; its name is
/// what hover and screen readers say either way.
fn action(ui: &mut egui::Ui, icon: &str, name: &str, compact: bool) -> egui::Response {
    let text = if compact {
        icon.to_owned()
    } else {
        format!("{icon} {name}")
    };
    let response = ui.button(text);
    icons::named(&response, name);
    response
}

/// The whole texture.
const FULL_UV: Rect = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));

/// While Z is held over the image (outside a text field): the pixels under the pointer
/// at 2x the view's scale, 4x with Shift, in a square beside it. Says whether it shows.
fn loupe(
    ui: &egui::Ui,
    painter: &egui::Painter,
    response: &egui::Response,
    drawn: Rect,
    tex: &TextureHandle,
) -> bool {
    let typing = ui.ctx().memory(|m| m.focused().is_some());
    let (held, shift) = ui.input(|i| (i.key_down(Key::Z), i.modifiers.shift));
    let Some(pointer) = response.hover_pos() else {
        return false;
    };
    if typing || !held || !drawn.contains(pointer) {
        return false;
    }
    let factor = if shift { 4.0 } else { 2.0 };
    let side = 220.0;
    // The part of the image under the pointer that fills the loupe, in UV.
    let uv_center = (pointer - drawn.min) / drawn.size();
    let uv_half = vec2(side, side) / (drawn.size() * factor) / 2.0;
    let uv = Rect::from_min_max(
        pos2(uv_center.x - uv_half.x, uv_center.y - uv_half.y),
        pos2(uv_center.x + uv_half.x, uv_center.y + uv_half.y),
    );
    let area = Rect::from_center_size(pointer, vec2(side, side));
    painter.rect_filled(area, 0.0, super::theme::canvas(ui.visuals().dark_mode));
    painter.image(tex.id(), area, uv, egui::Color32::WHITE);
    painter.rect_stroke(
        area,
        0.0,
        egui::Stroke::new(2.0, egui::Color32::WHITE),
        egui::StrokeKind::Outside,
    );
    ui.ctx().request_repaint();
    true
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

/// The pages a grounded answer drew on, as links, and Google's search suggestions as
/// the searches it ran (each opens in the browser), as Google asks grounded apps to show.
fn sources_ui(ui: &mut egui::Ui, grounding: &crate::recipe::Grounding) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Sources:").strong());
        for source in &grounding.sources {
            let title = if source.title.is_empty() {
                source.uri.as_str()
            } else {
                source.title.as_str()
            };
            ui.hyperlink_to(title, &source.uri)
                .on_hover_text(&source.uri);
        }
    });
    if !grounding.queries.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Google Search suggestions:").weak());
            for query in &grounding.queries {
                let url = format!(
                    "https://www.google.com/search?q={}",
                    query.split_whitespace().collect::<Vec<_>>().join("+")
                );
                ui.hyperlink_to(query, url);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(max_side: u32, zoom: Option<f32>) -> Viewer {
        Viewer {
            view_size: vec2(1000.0, 700.0),
            max_side,
            zoom,
            ..Viewer::default()
        }
    }

    #[test]
    fn a_screens_worth_until_zoomed_past_it() {
        let fit = viewer(8192, None);
        assert_eq!(fit.side_for(5504, 3072, 1.0), VIEW_SIDE_PX);
        // A 2x screen at Fit shows some 2000 px across: still a screen's worth.
        assert_eq!(fit.side_for(5504, 3072, 2.0), VIEW_SIDE_PX);
        let actual = viewer(8192, Some(1.0));
        assert_eq!(
            actual.side_for(5504, 3072, 1.0),
            8192,
            "100% needs every pixel"
        );
        assert_eq!(
            actual.side_for(2048, 2048, 1.0),
            VIEW_SIDE_PX,
            "a small image is whole at a screen's worth"
        );
        let small_card = viewer(2048, Some(1.0));
        assert_eq!(small_card.side_for(1024, 1024, 1.0), 2048);
        assert_eq!(
            small_card.side_for(5504, 3072, 1.0),
            2048,
            "never past the card"
        );
    }
}
