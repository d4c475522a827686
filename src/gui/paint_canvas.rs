//! What the mask painter and the mark-up painter share: the photo drawn to fit, with
//! pointer positions as fractions of it; the drawn items with undo and redo.

use egui::{Color32, Pos2, Rect, Response, Sense, TextureHandle, Vec2};

use crate::engine::PixelsAnswer;

/// The photo being drawn on, as it loads.
pub struct Photo {
    pixels: Option<PixelsAnswer>,
    texture: Option<TextureHandle>,
    problem: Option<String>,
}

impl Photo {
    /// Waits on `pixels`.
    pub fn loading(pixels: PixelsAnswer) -> Self {
        Self {
            pixels: Some(pixels),
            texture: None,
            problem: None,
        }
    }

    /// Takes the pixels once they come.
    pub fn poll(&mut self, ctx: &egui::Context) {
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
                    Some(ctx.load_texture("paint-photo", image, egui::TextureOptions::LINEAR));
                self.pixels = None;
            }
            Some(Err(e)) => {
                self.problem = Some(format!("The photo could not be shown: {e}"));
                self.pixels = None;
            }
            None => ctx.request_repaint_after(std::time::Duration::from_millis(50)),
        }
    }

    /// Draws the photo to fit `space` on the canvas grey; None (with words in its place)
    /// until it is loaded. The canvas is named `name` for screen readers and tests.
    pub fn show(&self, ui: &mut egui::Ui, space: Vec2, name: &str) -> Option<(Fit, Response)> {
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
            return None;
        };
        let size = texture.size_vec2();
        let scale = (outer.width() / size.x).min(outer.height() / size.y);
        let shown = Rect::from_center_size(outer.center(), size * scale);
        let response = ui.interact(shown, ui.scope_id().with(name), Sense::click_and_drag());
        super::icons::named(&response, name);
        ui.painter()
            .image(texture.id(), shown, FULL_UV, Color32::WHITE);
        Some((Fit { shown, photo: size }, response))
    }
}

/// The whole of a texture.
pub const FULL_UV: Rect = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));

/// Where the photo is on screen.
#[derive(Clone, Copy, Debug)]
pub struct Fit {
    /// The photo's rectangle on screen.
    pub shown: Rect,
    /// The photo's size in pixels (as loaded).
    pub photo: Vec2,
}

impl Fit {
    /// A screen position as fractions of the photo (clamped to it).
    pub fn to_photo(self, p: Pos2) -> [f32; 2] {
        [
            ((p.x - self.shown.min.x) / self.shown.width()).clamp(0.0, 1.0),
            ((p.y - self.shown.min.y) / self.shown.height()).clamp(0.0, 1.0),
        ]
    }

    /// Fractions of the photo as a screen position.
    pub fn to_screen(self, f: [f32; 2]) -> Pos2 {
        Pos2::new(
            self.shown.min.x + f[0] * self.shown.width(),
            self.shown.min.y + f[1] * self.shown.height(),
        )
    }

    /// The photo's longer side on screen, which widths are shares of.
    pub fn long(self) -> f32 {
        self.shown.width().max(self.shown.height())
    }
}

/// Items drawn, in order, with undo and redo.
#[derive(Clone, Debug, PartialEq)]
pub struct History<T> {
    /// What is drawn.
    pub items: Vec<T>,
    undone: Vec<T>,
}

impl<T> Default for History<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            undone: Vec::new(),
        }
    }
}

impl<T: Clone> History<T> {
    /// Starts from items drawn before.
    pub fn from(items: Vec<T>) -> Self {
        Self {
            items,
            undone: Vec::new(),
        }
    }

    /// Adds an item (what was undone cannot be redone after).
    pub fn push(&mut self, item: T) {
        self.items.push(item);
        self.undone.clear();
    }

    /// Undo, Redo and Clear buttons, and Ctrl+Z / Ctrl+Shift+Z.
    pub fn buttons(&mut self, ui: &mut egui::Ui) {
        let undo_key = ui.input_mut(|i| i.consume_shortcut(&UNDO));
        let redo_key = ui.input_mut(|i| i.consume_shortcut(&REDO));
        let undo = ui
            .add_enabled(!self.items.is_empty(), egui::Button::new("Undo"))
            .on_hover_text("Ctrl+Z")
            .clicked()
            || undo_key;
        if undo && let Some(item) = self.items.pop() {
            self.undone.push(item);
        }
        let redo = ui
            .add_enabled(!self.undone.is_empty(), egui::Button::new("Redo"))
            .on_hover_text("Ctrl+Shift+Z")
            .clicked()
            || redo_key;
        if redo && let Some(item) = self.undone.pop() {
            self.items.push(item);
        }
        if ui
            .add_enabled(!self.items.is_empty(), egui::Button::new("Clear"))
            .clicked()
        {
            self.items.clear();
            self.undone.clear();
        }
    }
}

/// Ctrl+Z undoes the last item.
const UNDO: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Z);

/// Ctrl+Shift+Z redoes it.
const REDO: egui::KeyboardShortcut = egui::KeyboardShortcut::new(
    egui::Modifiers::COMMAND.plus(egui::Modifiers::SHIFT),
    egui::Key::Z,
);

/// The painter window's frame: the title, a fixed size from the screen, anchored by its
/// top; `body` draws inside and says whether to close.
pub fn window(ctx: &egui::Context, title: &str, body: impl FnOnce(&mut egui::Ui) -> bool) -> bool {
    let mut open = true;
    let screen = ctx.content_rect();
    let close = egui::Window::new(title)
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .fixed_size(screen.size() * Vec2::new(0.86, 0.78))
        .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 40.0))
        .show(ctx, body)
        .and_then(|r| r.inner)
        .unwrap_or(false);
    close || !open
}
