//! Keyboard culling and navigation in the gallery and viewer.

use super::BananaApp;
use crate::gui::Command;
use crate::gui::gallery::UndoStep;
use crate::library::{Flag, ImageId, Mark};

impl BananaApp {
    /// Whether the keyboard belongs to text: a field has focus, or a name field is open
    /// (it takes focus as it appears; keys typed meanwhile are words, not culling), or
    /// a dialog of its own (Batch, the painters, the Prompt
    /// library) is open over the window.
    fn typing(&self, ctx: &egui::Context) -> bool {
        ctx.memory(|m| m.focused().is_some())
            || self.history.editing_name()
            || self.batch_dialog.is_open()
            || self.mask_painter.is_open()
            || self.markup_painter.is_open()
            || self.library_dialog.is_open()
    }

    /// Culling keys on the selected images: 1-5 rate (0 clears), P pick, X reject,
    /// U unflag, F favourite, Delete to trash, Ctrl+Z undo the delete, Ctrl+A select all.
    pub(super) fn culling_keys(&mut self, ctx: &egui::Context) {
        use egui::{Key, Modifiers};
        if self.typing(ctx) {
            return;
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Z)) {
            self.undo();
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::A)) {
            self.gallery.pick_all();
        }
        let targets = self.gallery.targets();
        if targets.is_empty() {
            return;
        }
        let ratings = [
            (Key::Num0, 0),
            (Key::Num1, 1),
            (Key::Num2, 2),
            (Key::Num3, 3),
            (Key::Num4, 4),
            (Key::Num5, 5),
        ];
        let mut marks = Vec::new();
        ctx.input_mut(|i| {
            for (key, stars) in ratings {
                if i.consume_key(Modifiers::NONE, key) {
                    marks.push(Mark::Rating(stars));
                }
            }
            if i.consume_key(Modifiers::NONE, Key::P) {
                marks.push(Mark::Flag(Flag::Pick));
            }
            if i.consume_key(Modifiers::NONE, Key::X) {
                marks.push(Mark::Flag(Flag::Reject));
            }
            if i.consume_key(Modifiers::NONE, Key::U) {
                marks.push(Mark::Flag(Flag::Unflagged));
            }
        });
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::F)) {
            // One press makes them all favourites, unless all already are.
            let all = targets
                .iter()
                .all(|id| self.gallery.image(*id).is_some_and(|(_, i)| i.favourite));
            marks.push(Mark::Favourite(!all));
        }
        self.apply_marks(&targets, &marks);
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Delete)) {
            self.run(Command::TrashSelected);
        }
    }

    /// Arrow keys move between images (Left, Right) and generations (Up, Down) unless a
    /// text field has the keyboard.
    pub(super) fn arrow_keys(&mut self, ctx: &egui::Context) {
        if self.typing(ctx) {
            return;
        }
        let Some(current) = self.gallery.selected else {
            return;
        };
        use egui::{Key, Modifiers};
        let (image_step, row_step) = ctx.input_mut(|i| {
            if i.consume_key(Modifiers::NONE, Key::ArrowRight) {
                (1, 0)
            } else if i.consume_key(Modifiers::NONE, Key::ArrowLeft) {
                (-1, 0)
            } else if i.consume_key(Modifiers::NONE, Key::ArrowDown) {
                (0, 1)
            } else if i.consume_key(Modifiers::NONE, Key::ArrowUp) {
                (0, -1)
            } else {
                (0, 0)
            }
        });
        let next = if image_step != 0 {
            self.gallery.neighbour(current, image_step)
        } else if row_step != 0 {
            // The timeline is newest first: Down goes to the older generation.
            self.gallery.neighbour_generation(current, row_step)
        } else {
            None
        };
        if let Some(next) = next {
            self.run(Command::Select(next));
        }
    }

    /// Takes back the newest delete or change of marks.
    fn undo(&mut self) {
        match self.gallery.undo.pop() {
            Some(UndoStep::Marked(before)) => {
                for (image, rating, flag, favourite) in before {
                    for mark in [
                        Mark::Rating(rating),
                        Mark::Flag(flag),
                        Mark::Favourite(favourite),
                    ] {
                        self.gallery.apply_mark(image, mark);
                        self.engine.mark(image, mark);
                    }
                }
            }
            Some(UndoStep::Trashed) | None => self.run(Command::UndoDelete),
        }
    }

    /// Moves the selected images to the trash and shows the next one.
    /// Marks `targets`, undoable with Ctrl+Z.
    pub(super) fn apply_marks(&mut self, targets: &[ImageId], marks: &[Mark]) {
        if marks.is_empty() {
            return;
        }
        // What they were, for Ctrl+Z.
        let before = targets
            .iter()
            .filter_map(|id| self.gallery.image(*id))
            .map(|(_, i)| (i.id, i.rating, i.flag, i.favourite))
            .collect();
        self.gallery.undo.push(UndoStep::Marked(before));
        for mark in marks {
            for image in targets {
                self.gallery.apply_mark(*image, *mark);
                self.engine.mark(*image, *mark);
            }
        }
    }

    pub(super) fn trash_selected(&mut self) {
        let targets = self.gallery.targets();
        self.trash(targets);
    }

    /// Moves `targets` to the trash (undoable) and shows the next image.
    pub(super) fn trash(&mut self, targets: Vec<ImageId>) {
        let Some(&last) = targets.last() else {
            return;
        };
        let first = targets[0];
        let next = self
            .gallery
            .neighbour(last, 1)
            .filter(|n| !targets.contains(n))
            .or_else(|| self.gallery.neighbour(first, -1));
        self.gallery.remove(&targets);
        for image in &targets {
            self.thumbs.forget(*image);
        }
        self.gallery.last_deleted = targets.clone();
        self.gallery.undo.push(UndoStep::Trashed);
        self.engine.trash(targets);
        if let Some(next) = next {
            self.run(Command::Select(next));
        }
    }
}
