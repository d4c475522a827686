//! The mark-up painter: draw on the first input to show the model where and what to
//! change: pen, arrow, box, ellipse and text label, in a colour, with undo and redo.
//! The marked-up copy goes with the clean photo as a guide; the marks are kept in the
//! recipe, so "Edit marks…" opens them again to change and send once more.

use egui::{Color32, Pos2, Rect, RichText, Stroke, Vec2};

use super::Command;
use super::paint_canvas::{Fit, History, Photo};
use crate::engine::PixelsAnswer;
use crate::recipe::InputImage;
use crate::recipe::drawing::{Colour, Mark};

/// What a drag (or click) makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Pen,
    Arrow,
    Box,
    Ellipse,
    Label,
}

/// The colours offered first.
const SWATCHES: [(Colour, &str); 6] = super::theme::MARK_COLOURS;

/// An open painter.
struct Session {
    photo: InputImage,
    canvas: Photo,
    marks: History<Mark>,
    tool: Tool,
    colour: Colour,
    /// Line width as a share of the photo's longer side.
    width: f32,
    /// Label height as a share of the photo's longer side.
    text_size: f32,
    /// The mark being drawn.
    current: Option<Mark>,
    /// A label being written: where, and its words so far.
    writing: Option<([f32; 2], String)>,
}

/// The painter's state: closed, or open on one photo.
#[derive(Default)]
pub struct MarkupPainter {
    session: Option<Session>,
}

impl MarkupPainter {
    /// Opens on `photo` with marks drawn before (an "Edit marks").
    pub fn open(&mut self, photo: InputImage, pixels: PixelsAnswer, marks: Vec<Mark>) {
        self.session = Some(Session {
            photo,
            canvas: Photo::loading(pixels),
            marks: History::from(marks),
            tool: Tool::Arrow,
            colour: SWATCHES[0].0,
            width: 0.008,
            text_size: 0.045,
            current: None,
            writing: None,
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
        let close = super::paint_canvas::window(ctx, "Mark up the photo", |ui| {
            s.toolbar(ui);
            ui.add_space(super::theme::space::S);
            let canvas = egui::vec2(ui.available_width(), ui.available_height() - 64.0);
            s.canvas_ui(ui, canvas);
            ui.add_space(super::theme::space::S);
            ui.weak(
                "The marked-up copy goes with the clean photo; say in the prompt what the \
                 marks mean (\"make the circled lamp brass\").",
            );
            let mut close = false;
            ui.horizontal(|ui| {
                let ready = !s.marks.items.is_empty() && s.writing.is_none();
                let use_it = ui.add_enabled(
                    ready,
                    super::theme::primary_button("Use these marks", "", ready),
                );
                super::icons::named(&use_it, "Use these marks");
                if use_it
                    .on_disabled_hover_text("Draw where and what to change first")
                    .clicked()
                {
                    commands.push(Command::UseMarkup {
                        photo: s.photo.clone(),
                        marks: s.marks.items.clone(),
                    });
                    close = true;
                }
                close |= ui.button("Cancel").clicked();
            });
            close
        });
        let escape = ctx.input(|i| i.key_pressed(egui::Key::Escape))
            && s.current.is_none()
            && s.writing.is_none();
        if close || escape {
            self.session = None;
        }
        commands
    }
}

impl Session {
    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            for (tool, name, hint) in [
                (Tool::Pen, "Pen", "Draw freehand"),
                (Tool::Arrow, "Arrow", "Drag from where to where"),
                (Tool::Box, "Box", "Drag a box around something"),
                (Tool::Ellipse, "Ellipse", "Drag a circle around something"),
                (Tool::Label, "Text", "Click where words go"),
            ] {
                ui.selectable_value(&mut self.tool, tool, name)
                    .on_hover_text(hint);
            }
            ui.separator();
            for (colour, name) in SWATCHES {
                let fill = super::theme::chosen(colour);
                let chosen = self.colour == colour;
                let (rect, response) =
                    ui.allocate_exact_size(Vec2::splat(20.0), egui::Sense::click());
                ui.painter().rect_filled(rect, 4.0, fill);
                if chosen {
                    ui.painter().rect_stroke(
                        rect.expand(2.0),
                        5.0,
                        Stroke::new(2.0, ui.visuals().strong_text_color()),
                        egui::StrokeKind::Outside,
                    );
                }
                super::icons::named(&response, name);
                if response.on_hover_text(name).clicked() {
                    self.colour = colour;
                }
            }
            ui.color_edit_button_srgb(&mut self.colour)
                .on_hover_text("Another colour");
            ui.separator();
            let label = ui.label("Line");
            let mut percent = self.width * 100.0;
            ui.add(egui::Slider::new(&mut percent, 0.2..=4.0).suffix(" %"))
                .labelled_by(label.id)
                .on_hover_text("Line width, as a share of the photo's longer side");
            self.width = percent / 100.0;
            ui.separator();
            self.marks.buttons(ui);
        });
    }

    fn canvas_ui(&mut self, ui: &mut egui::Ui, space: Vec2) {
        let Some((fit, response)) = self.canvas.show(ui, space, "Mark-up canvas") else {
            return;
        };
        if let Some(pos) = response.interact_pointer_pos()
            && self.writing.is_none()
        {
            let at = fit.to_photo(pos);
            let (width, colour) = (self.width, self.colour);
            if self.tool == Tool::Label {
                if response.clicked() || response.drag_started() {
                    self.writing = Some((at, String::new()));
                }
            } else if response.drag_started() || (response.dragged() && self.current.is_none()) {
                self.current = Some(match self.tool {
                    Tool::Pen | Tool::Label => Mark::Pen {
                        points: vec![at],
                        width,
                        colour,
                    },
                    Tool::Arrow => Mark::Arrow {
                        from: at,
                        to: at,
                        width,
                        colour,
                    },
                    Tool::Box => Mark::Box {
                        from: at,
                        to: at,
                        width,
                        colour,
                    },
                    Tool::Ellipse => Mark::Ellipse {
                        from: at,
                        to: at,
                        width,
                        colour,
                    },
                });
            }
            match &mut self.current {
                Some(Mark::Pen { points, .. }) if points.last() != Some(&at) => points.push(at),
                Some(Mark::Arrow { to, .. } | Mark::Box { to, .. } | Mark::Ellipse { to, .. }) => {
                    *to = at;
                }
                _ => {}
            }
        }
        if response.drag_stopped()
            && let Some(mark) = self.current.take()
        {
            self.marks.push(mark);
        }
        for mark in self.marks.items.iter().chain(&self.current) {
            paint(ui.painter(), &fit, mark);
        }
        self.label_field(ui, &fit);
    }

    /// The words of a label being placed, written in a field where it goes.
    fn label_field(&mut self, ui: &mut egui::Ui, fit: &Fit) {
        let Some((at, text)) = self.writing.as_mut() else {
            return;
        };
        let at = *at;
        let corner = fit.to_screen(at);
        let mut done = None;
        egui::Area::new(ui.scope_id().with("label-field"))
            .fixed_pos(corner)
            .order(egui::Order::Foreground)
            .show(ui.ctx(), |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.horizontal(|ui| {
                        let field = ui.add(
                            egui::TextEdit::singleline(text)
                                .hint_text(RichText::new("Words on the photo").italics())
                                .desired_width(180.0),
                        );
                        super::icons::named(&field, "Label words");
                        field.request_focus();
                        let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
                        if (ui.small_button("Add").clicked() || enter) && !text.trim().is_empty() {
                            done = Some(true);
                        }
                        if ui.small_button("Cancel").clicked()
                            || ui.input(|i| i.key_pressed(egui::Key::Escape))
                        {
                            done = Some(false);
                        }
                    });
                });
            });
        match done {
            Some(true) => {
                let mark = Mark::Label {
                    at,
                    text: text.trim().to_owned(),
                    size: self.text_size,
                    colour: self.colour,
                };
                self.marks.push(mark);
                self.writing = None;
            }
            Some(false) => self.writing = None,
            None => {}
        }
    }
}

/// One mark on screen, as it will be drawn on the photo.
fn paint(painter: &egui::Painter, fit: &Fit, mark: &Mark) {
    let long = fit.long();
    let rgb = |c: &Colour| super::theme::chosen(*c);
    match mark {
        Mark::Pen {
            points,
            width,
            colour,
        } => {
            let line: Vec<Pos2> = points.iter().map(|p| fit.to_screen(*p)).collect();
            let w = (width * long).max(1.5);
            if let [only] = line.as_slice() {
                painter.circle_filled(*only, w / 2.0, rgb(colour));
            } else {
                painter.add(egui::Shape::line(line, Stroke::new(w, rgb(colour))));
            }
        }
        Mark::Arrow {
            from,
            to,
            width,
            colour,
        } => {
            let (a, b) = (fit.to_screen(*from), fit.to_screen(*to));
            let w = (width * long).max(1.5);
            let stroke = Stroke::new(w, rgb(colour));
            painter.line_segment([a, b], stroke);
            let back = a - b;
            let len = back.length().max(1e-3);
            let head = (w * 3.0).max(len * 0.2).min(len);
            for turn in [0.5_f32, -0.5] {
                let rot = egui::emath::Rot2::from_angle(turn);
                painter.line_segment([b, b + rot * (back / len * head)], stroke);
            }
        }
        Mark::Box {
            from,
            to,
            width,
            colour,
        } => {
            painter.rect_stroke(
                Rect::from_two_pos(fit.to_screen(*from), fit.to_screen(*to)),
                0.0,
                Stroke::new((width * long).max(1.5), rgb(colour)),
                egui::StrokeKind::Middle,
            );
        }
        Mark::Ellipse {
            from,
            to,
            width,
            colour,
        } => {
            let r = Rect::from_two_pos(fit.to_screen(*from), fit.to_screen(*to));
            painter.add(egui::Shape::ellipse_stroke(
                r.center(),
                r.size() / 2.0,
                Stroke::new((width * long).max(1.5), rgb(colour)),
            ));
        }
        Mark::Label {
            at,
            text,
            size,
            colour,
        } => {
            let corner = fit.to_screen(*at);
            let font = egui::FontId::proportional((size * long).max(8.0));
            let galley = painter.layout_no_wrap(text.clone(), font, rgb(colour));
            let bright = crate::recipe::drawing::wants_dark_box(*colour);
            let backdrop = if bright {
                Color32::from_black_alpha(184)
            } else {
                Color32::from_white_alpha(184)
            };
            let pad = galley.size().y * 0.25;
            painter.rect_filled(
                Rect::from_min_size(corner, galley.size()).expand(pad),
                0.0,
                backdrop,
            );
            painter.galley(corner, galley, rgb(colour));
        }
    }
}

/// "Marked up", with Edit and Remove, in the row under the inputs; or "Mark up…" when
/// there is a photo to mark.
pub fn markup_row(ui: &mut egui::Ui, state: &mut super::state::UiState) -> Vec<Command> {
    let mut commands = Vec::new();
    let Some(first) = state.draft.inputs.first().cloned() else {
        state.draft.markup = None;
        return commands;
    };
    if state
        .draft
        .markup
        .as_ref()
        .is_some_and(|m| m.photo != first.sha256)
    {
        // The first input is another photo now: the marks were drawn on the old one.
        state.draft.markup = None;
    }
    match &state.draft.markup {
        Some(markup) => {
            let n = markup.marks.len();
            ui.label(RichText::new("Marked up").strong())
                .on_hover_text("The first input goes with a copy showing the marks");
            ui.weak(format!("{n} mark{}", if n == 1 { "" } else { "s" }));
            if ui.small_button("Edit marks…").clicked() {
                commands.push(Command::MarkUp(first.clone()));
            }
            if ui.small_button("Remove marks").clicked() {
                state.draft.markup = None;
            }
        }
        None => {
            if state.draft.mask.is_none()
                && ui
                    .small_button("Mark up…")
                    .on_hover_text(
                        "Draw arrows, boxes, circles and words on the first input to show \
                         where and what to change",
                    )
                    .clicked()
            {
                commands.push(Command::MarkUp(first.clone()));
            }
        }
    }
    commands
}
