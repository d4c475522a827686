//! The mask painter: paint the region of a photo to change, over the photo itself.
//! Brush and eraser (with a size), rectangle, invert, a feather radius, undo and redo,
//! clear. The region shows tinted magenta, as the model will see it; what is not
//! painted stays pixel-identical in the result. The drawing is kept as shapes (see
//! `recipe::drawing`), so "Edit mask" opens it again as it was.

use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, TextureHandle, Vec2};

use super::Command;
use crate::engine::{MAX_FEATHER_PX, PixelsAnswer};
use crate::recipe::InputImage;
use crate::recipe::drawing::{MaskDrawing, Shape};

/// The longest side of the tinted preview of the mask (the stored mask is made at the
/// photo's own size by the engine).
const PREVIEW_SIDE: u32 = 720;

/// The tint of the region, as the model sees it.
const TINT: Color32 = super::theme::MASK_TINT;

/// What a drag does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Brush,
    Eraser,
    Rectangle,
}

/// An open painter.
struct Session {
    photo: InputImage,
    pixels: Option<PixelsAnswer>,
    texture: Option<TextureHandle>,
    problem: Option<String>,
    drawing: MaskDrawing,
    redo: Vec<Shape>,
    tool: Tool,
    /// Brush width as a share of the photo's longer side.
    brush: f32,
    feather_px: f32,
    /// The shape being drawn, in photo fractions.
    current: Option<Shape>,
    /// The tinted preview, and the drawing it shows.
    preview: Option<(TextureHandle, MaskDrawing)>,
}

/// The painter's state: closed, or open on one photo.
#[derive(Default)]
pub struct MaskPainter {
    session: Option<Session>,
}

impl MaskPainter {
    /// Opens on `photo`, with a drawing to go on with (an "Edit mask").
    pub fn open(
        &mut self,
        photo: InputImage,
        pixels: PixelsAnswer,
        drawing: Option<MaskDrawing>,
        feather_px: f32,
    ) {
        self.session = Some(Session {
            photo,
            pixels: Some(pixels),
            texture: None,
            problem: None,
            drawing: drawing.unwrap_or_default(),
            redo: Vec::new(),
            tool: Tool::Brush,
            brush: 0.05,
            feather_px,
            current: None,
            preview: None,
        });
    }

    /// Whether it is open (the keyboard is then its own).
    pub fn is_open(&self) -> bool {
        self.session.is_some()
    }

    /// Draws the painter when open; returns what the user asked.
    pub fn ui(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut commands = Vec::new();
        let Some(s) = self.session.as_mut() else {
            return commands;
        };
        s.poll(ctx);
        let mut open = true;
        let mut close = false;
        let screen = ctx.content_rect();
        egui::Window::new("Paint the region to change")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .fixed_size(screen.size() * Vec2::new(0.86, 0.78))
            .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 40.0))
            .show(ctx, |ui| {
                s.toolbar(ui);
                ui.add_space(super::theme::space::S);
                let foot = 64.0;
                let canvas = egui::vec2(ui.available_width(), ui.available_height() - foot);
                s.canvas(ui, canvas);
                ui.add_space(super::theme::space::S);
                ui.weak(
                    "Tinted = what the model may change. Everything else comes back \
                     pixel-identical, at the photo's own size.",
                );
                ui.horizontal(|ui| {
                    let ready = s.drawing.marks_anything();
                    let use_it =
                        ui.add_enabled(ready, super::theme::primary_button("Use this mask", ""));
                    super::icons::named(&use_it, "Use this mask");
                    if use_it
                        .on_disabled_hover_text("Paint the region to change first")
                        .clicked()
                    {
                        commands.push(Command::UseMask {
                            photo: s.photo.clone(),
                            drawing: s.drawing.clone(),
                            feather_px: s.feather_px,
                        });
                        close = true;
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        // Escape is Cancel, once no stroke is being drawn.
        if ctx.input(|i| i.key_pressed(egui::Key::Escape)) && s.current.is_none() {
            close = true;
        }
        if !open || close {
            self.session = None;
        }
        commands
    }
}

impl Session {
    fn poll(&mut self, ctx: &egui::Context) {
        let Some(answer) = self.pixels.as_mut() else {
            return;
        };
        match answer.take() {
            Some(Ok(rgba)) => {
                let image = egui::ColorImage::from_rgba_unmultiplied(
                    [rgba.width as usize, rgba.height as usize],
                    &rgba.pixels,
                );
                self.texture =
                    Some(ctx.load_texture("mask-photo", image, egui::TextureOptions::LINEAR));
                self.pixels = None;
            }
            Some(Err(e)) => {
                self.problem = Some(format!("The photo could not be shown: {e}"));
                self.pixels = None;
            }
            None => ctx.request_repaint_after(std::time::Duration::from_millis(50)),
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            for (tool, name, hint) in [
                (Tool::Brush, "Brush", "Paint the region to change (B)"),
                (Tool::Eraser, "Eraser", "Take painting away (E)"),
                (Tool::Rectangle, "Rectangle", "Drag a box to change (R)"),
            ] {
                ui.selectable_value(&mut self.tool, tool, name)
                    .on_hover_text(hint);
            }
            let keys = ui.input(|i| {
                [
                    (egui::Key::B, Tool::Brush),
                    (egui::Key::E, Tool::Eraser),
                    (egui::Key::R, Tool::Rectangle),
                ]
                .into_iter()
                .find(|(k, _)| i.key_pressed(*k))
            });
            if let Some((_, tool)) = keys {
                self.tool = tool;
            }
            ui.separator();
            let label = ui.label("Size");
            let mut percent = self.brush * 100.0;
            ui.add(
                egui::Slider::new(&mut percent, 0.5..=25.0)
                    .suffix(" %")
                    .logarithmic(true),
            )
            .labelled_by(label.id)
            .on_hover_text("Brush width, as a share of the photo's longer side");
            self.brush = percent / 100.0;
            ui.separator();
            let label = ui.label("Feather");
            ui.add(
                egui::Slider::new(&mut self.feather_px, 0.0..=64.0_f32.min(MAX_FEATHER_PX))
                    .suffix(" px"),
            )
            .labelled_by(label.id)
            .on_hover_text("How far the edit blends into what is kept");
            ui.separator();
            ui.checkbox(&mut self.drawing.inverted, "Invert")
                .on_hover_text("Change everything except what is painted");
            let undo = ui.input_mut(|i| i.consume_shortcut(&UNDO));
            let redo = ui.input_mut(|i| i.consume_shortcut(&REDO));
            let undo = ui
                .add_enabled(!self.drawing.shapes.is_empty(), egui::Button::new("Undo"))
                .on_hover_text("Ctrl+Z")
                .clicked()
                || undo;
            if undo && let Some(shape) = self.drawing.shapes.pop() {
                self.redo.push(shape);
            }
            let redo = ui
                .add_enabled(!self.redo.is_empty(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Shift+Z")
                .clicked()
                || redo;
            if redo && let Some(shape) = self.redo.pop() {
                self.drawing.shapes.push(shape);
            }
            if ui
                .add_enabled(!self.drawing.shapes.is_empty(), egui::Button::new("Clear"))
                .clicked()
            {
                self.drawing.shapes.clear();
                self.redo.clear();
            }
        });
    }

    fn canvas(&mut self, ui: &mut egui::Ui, space: Vec2) {
        let (outer, _) = ui.allocate_exact_size(space, Sense::hover());
        ui.painter()
            .rect_filled(outer, 0.0, super::theme::canvas(ui.visuals().dark_mode));
        let Some(texture) = &self.texture else {
            let text = self.problem.as_deref().unwrap_or("Loading the photo…");
            ui.painter().text(
                outer.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::proportional(14.0),
                ui.visuals().text_color(),
            );
            return;
        };
        let size = texture.size_vec2();
        let scale = (outer.width() / size.x).min(outer.height() / size.y);
        let shown = Rect::from_center_size(outer.center(), size * scale);
        let response = ui.interact(
            shown,
            ui.scope_id().with("mask-canvas"),
            Sense::click_and_drag(),
        );
        super::icons::named(&response, "Mask canvas");
        ui.painter().image(
            texture.id(),
            shown,
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );
        // Pointer to photo fractions.
        let to_photo = |p: Pos2| -> [f32; 2] {
            [
                ((p.x - shown.min.x) / shown.width()).clamp(0.0, 1.0),
                ((p.y - shown.min.y) / shown.height()).clamp(0.0, 1.0),
            ]
        };
        let to_screen = |f: [f32; 2]| {
            Pos2::new(
                shown.min.x + f[0] * shown.width(),
                shown.min.y + f[1] * shown.height(),
            )
        };
        if let Some(pos) = response.interact_pointer_pos() {
            let at = to_photo(pos);
            if response.drag_started() || (response.dragged() && self.current.is_none()) {
                self.current = Some(match self.tool {
                    Tool::Rectangle => Shape::Rect {
                        from: at,
                        to: at,
                        erase: false,
                    },
                    tool => Shape::Stroke {
                        points: vec![at],
                        width: self.brush,
                        erase: tool == Tool::Eraser,
                    },
                });
            }
            match &mut self.current {
                Some(Shape::Stroke { points, .. }) if points.last() != Some(&at) => {
                    points.push(at);
                }
                Some(Shape::Rect { to, .. }) => *to = at,
                _ => {}
            }
        }
        if response.clicked() && self.tool != Tool::Rectangle {
            // A click is a dot.
            if let Some(pos) = response.interact_pointer_pos() {
                self.current = Some(Shape::Stroke {
                    points: vec![to_photo(pos)],
                    width: self.brush,
                    erase: self.tool == Tool::Eraser,
                });
            }
        }
        if (response.drag_stopped() || response.clicked())
            && let Some(shape) = self.current.take()
        {
            self.drawing.shapes.push(shape);
            self.redo.clear();
        }
        // The region so far, tinted as the model will see it.
        self.refresh_preview(ui.ctx(), size);
        if let Some((tint, _)) = &self.preview {
            ui.painter().image(
                tint.id(),
                shown,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        // The shape being drawn, outlined.
        let long = shown.width().max(shown.height());
        match &self.current {
            Some(Shape::Stroke {
                points,
                width,
                erase,
            }) => {
                let colour = if *erase { Color32::WHITE } else { TINT };
                let line: Vec<Pos2> = points.iter().map(|p| to_screen(*p)).collect();
                let stroke = Stroke::new(width * long, colour);
                if let [only] = line.as_slice() {
                    ui.painter()
                        .circle_filled(*only, width * long / 2.0, colour);
                } else {
                    ui.painter().add(egui::Shape::line(line, stroke));
                }
            }
            Some(Shape::Rect { from, to, .. }) => {
                ui.painter().rect_stroke(
                    Rect::from_two_pos(to_screen(*from), to_screen(*to)),
                    0.0,
                    Stroke::new(2.0, super::theme::MASK_EDGE),
                    egui::StrokeKind::Middle,
                );
            }
            None => {}
        }
        // The brush, under the pointer.
        if let Some(hover) = response.hover_pos()
            && self.tool != Tool::Rectangle
        {
            ui.painter().circle_stroke(
                hover,
                self.brush * long / 2.0,
                Stroke::new(1.5, ui.visuals().strong_text_color()),
            );
        }
    }

    /// Makes the tinted preview again when the drawing changed.
    fn refresh_preview(&mut self, ctx: &egui::Context, photo: Vec2) {
        if self
            .preview
            .as_ref()
            .is_some_and(|(_, drawn)| *drawn == self.drawing)
        {
            return;
        }
        let scale = (PREVIEW_SIDE as f32 / photo.x.max(photo.y)).min(1.0);
        let (w, h) = (
            ((photo.x * scale).round() as u32).max(1),
            ((photo.y * scale).round() as u32).max(1),
        );
        let mask = crate::imaging::drawing::rasterize_mask(&self.drawing, w, h);
        let pixels: Vec<Color32> = mask
            .pixels()
            .map(|p| {
                let a = f32::from(p.0[0]) / 255.0;
                Color32::from_rgba_premultiplied(
                    (f32::from(TINT.r()) * a) as u8,
                    0,
                    (f32::from(TINT.b()) * a) as u8,
                    (f32::from(TINT.a()) * a) as u8,
                )
            })
            .collect();
        let image = egui::ColorImage {
            size: [w as usize, h as usize],
            source_size: Vec2::new(w as f32, h as f32),
            pixels,
        };
        let texture = ctx.load_texture("mask-tint", image, egui::TextureOptions::LINEAR);
        self.preview = Some((texture, self.drawing.clone()));
    }
}

/// Ctrl+Z undoes a shape in the painter.
const UNDO: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Z);

/// Ctrl+Shift+Z redoes it.
const REDO: egui::KeyboardShortcut = egui::KeyboardShortcut::new(
    egui::Modifiers::COMMAND.plus(egui::Modifiers::SHIFT),
    egui::Key::Z,
);

/// "Masked edit: only the painted region changes", with Edit and Remove, under the
/// inputs; or "Paint a region…" when there is a photo to edit.
pub fn mask_row(ui: &mut egui::Ui, state: &mut super::state::UiState) -> Vec<Command> {
    let mut commands = Vec::new();
    let Some(first) = state.draft.inputs.first().cloned() else {
        // No photo, no mask.
        state.draft.mask = None;
        state.mask_for = None;
        return commands;
    };
    if state.draft.mask.is_some() && state.mask_for.as_ref() != Some(&first.sha256) {
        // The first input is another photo now: the mask was painted for the old one.
        state.draft.mask = None;
    }
    ui.horizontal_wrapped(|ui| match &state.draft.mask {
        Some(mask) => {
            ui.label(RichText::new("Masked edit").strong())
                .on_hover_text(
                    "Only the painted region of the first input changes; the rest comes back \
                 pixel-identical",
                );
            ui.weak(format!("feather {:.0} px", mask.feather_px));
            if ui.small_button("Edit mask…").clicked() {
                commands.push(Command::PaintMask(first.clone()));
            }
            if ui.small_button("Remove mask").clicked() {
                state.draft.mask = None;
            }
        }
        None => {
            if ui
                .small_button("Paint a region…")
                .on_hover_text(
                    "Change only part of the first input: paint where, and the rest stays \
                     pixel-identical",
                )
                .clicked()
            {
                commands.push(Command::PaintMask(first.clone()));
            }
        }
    });
    commands
}
