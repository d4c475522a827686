//! The mask painter: paint the region of a photo to change, over the photo itself.
//! Brush and eraser (with a size), rectangle, invert, a feather radius, undo and redo,
//! clear. The region shows tinted magenta, as the model will see it; what is not
//! painted stays pixel-identical in the result. The drawing is kept as shapes (see
//! `recipe::drawing`), so "Edit mask" opens it again as it was.

use egui::{Color32, RichText, Stroke, TextureHandle, Vec2};

use super::Command;
use super::paint_canvas::{FULL_UV, History, Photo};
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
    canvas: Photo,
    shapes: History<Shape>,
    inverted: bool,
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
        let drawing = drawing.unwrap_or_default();
        self.session = Some(Session {
            photo,
            canvas: Photo::loading(pixels),
            shapes: History::from(drawing.shapes),
            inverted: drawing.inverted,
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
        s.canvas.poll(ctx);
        let close = super::paint_canvas::window(ctx, "Paint the region to change", |ui| {
            s.toolbar(ui);
            ui.add_space(super::theme::space::S);
            let canvas = egui::vec2(ui.available_width(), ui.available_height() - 64.0);
            s.canvas_ui(ui, canvas);
            ui.add_space(super::theme::space::S);
            ui.weak(
                "Tinted = what the model may change. Everything else comes back \
                 pixel-identical, at the photo's own size.",
            );
            let mut close = false;
            ui.horizontal(|ui| {
                let drawing = s.drawing();
                let use_it = ui.add_enabled(
                    drawing.marks_anything(),
                    super::theme::primary_button("Use this mask", "", drawing.marks_anything()),
                );
                super::icons::named(&use_it, "Use this mask");
                if use_it
                    .on_disabled_hover_text("Paint the region to change first")
                    .clicked()
                {
                    commands.push(Command::UseMask {
                        photo: s.photo.clone(),
                        drawing,
                        feather_px: s.feather_px,
                    });
                    close = true;
                }
                close |= ui.button("Cancel").clicked();
            });
            close
        });
        // Escape is Cancel, once no stroke is being drawn.
        let escape = ctx.input(|i| i.key_pressed(egui::Key::Escape)) && s.current.is_none();
        if close || escape {
            self.session = None;
        }
        commands
    }
}

impl Session {
    fn drawing(&self) -> MaskDrawing {
        MaskDrawing {
            shapes: self.shapes.items.clone(),
            inverted: self.inverted,
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            for (tool, name, hint, key) in [
                (
                    Tool::Brush,
                    "Brush",
                    "Paint the region to change (B)",
                    egui::Key::B,
                ),
                (
                    Tool::Eraser,
                    "Eraser",
                    "Take painting away (E)",
                    egui::Key::E,
                ),
                (
                    Tool::Rectangle,
                    "Rectangle",
                    "Drag a box to change (R)",
                    egui::Key::R,
                ),
            ] {
                ui.selectable_value(&mut self.tool, tool, name)
                    .on_hover_text(hint);
                if ui.input(|i| i.key_pressed(key)) {
                    self.tool = tool;
                }
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
            ui.checkbox(&mut self.inverted, "Invert")
                .on_hover_text("Change everything except what is painted");
            self.shapes.buttons(ui);
        });
    }

    fn canvas_ui(&mut self, ui: &mut egui::Ui, space: Vec2) {
        let Some((fit, response)) = self.canvas.show(ui, space, "Mask canvas") else {
            return;
        };
        if let Some(pos) = response.interact_pointer_pos() {
            let at = fit.to_photo(pos);
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
            if response.clicked() && self.tool != Tool::Rectangle {
                // A click is a dot.
                self.current = Some(Shape::Stroke {
                    points: vec![at],
                    width: self.brush,
                    erase: self.tool == Tool::Eraser,
                });
            }
        }
        if (response.drag_stopped() || response.clicked())
            && let Some(shape) = self.current.take()
        {
            self.shapes.push(shape);
        }
        // The region so far, tinted as the model will see it.
        self.refresh_preview(ui.ctx(), fit.photo);
        if let Some((tint, _)) = &self.preview {
            ui.painter()
                .image(tint.id(), fit.shown, FULL_UV, Color32::WHITE);
        }
        // The shape being drawn, outlined.
        let long = fit.long();
        match &self.current {
            Some(Shape::Stroke {
                points,
                width,
                erase,
            }) => {
                let colour = if *erase { Color32::WHITE } else { TINT };
                let line: Vec<egui::Pos2> = points.iter().map(|p| fit.to_screen(*p)).collect();
                if let [only] = line.as_slice() {
                    ui.painter()
                        .circle_filled(*only, width * long / 2.0, colour);
                } else {
                    ui.painter()
                        .add(egui::Shape::line(line, Stroke::new(width * long, colour)));
                }
            }
            Some(Shape::Rect { from, to, .. }) => {
                ui.painter().rect_stroke(
                    egui::Rect::from_two_pos(fit.to_screen(*from), fit.to_screen(*to)),
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
        let drawing = self.drawing();
        if self
            .preview
            .as_ref()
            .is_some_and(|(_, drawn)| *drawn == drawing)
        {
            return;
        }
        let scale = (PREVIEW_SIDE as f32 / photo.x.max(photo.y)).min(1.0);
        let (w, h) = (
            ((photo.x * scale).round() as u32).max(1),
            ((photo.y * scale).round() as u32).max(1),
        );
        let mask = crate::imaging::drawing::rasterize_mask(&drawing, w, h);
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
        self.preview = Some((texture, drawing));
    }
}

/// "Masked edit", with Edit and Remove, in the row under the inputs; or "Paint a
/// region…" when there is a photo to edit.
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
    match &state.draft.mask {
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
        None if state.draft.markup.is_some() => {}
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
    }
    commands
}
