//! Save as…: the system file dialog on its own thread, or a path field when no
//! dialog can open (no desktop portal and no zenity).

use std::path::PathBuf;

use super::file_dialog::{Answer, DialogThread};
use crate::library::ImageId;

struct Pending {
    image: ImageId,
    suggested: PathBuf,
    dialog: DialogThread<PathBuf>,
}

struct PathField {
    image: ImageId,
    text: String,
    reason: String,
}

/// The Save as… flow.
#[derive(Default)]
pub struct SaveDialog {
    pending: Option<Pending>,
    field: Option<PathField>,
}

/// Where a new file is suggested: the user's Pictures folder, else home.
pub fn default_folder() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|u| {
            u.picture_dir()
                .map(PathBuf::from)
                .or_else(|| Some(u.home_dir().to_path_buf()))
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

impl SaveDialog {
    /// Opens the system dialog for an image, suggesting `suggested`.
    pub fn open(&mut self, image: ImageId, suggested: PathBuf) {
        let dir = suggested.parent().map(PathBuf::from).unwrap_or_default();
        let name = suggested
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let spawned = DialogThread::spawn("banana-save-dialog", move || {
            rfd::FileDialog::new()
                .set_title("Save image as")
                .set_directory(dir)
                .set_file_name(name)
                .add_filter("PNG", &["png"])
                .add_filter("JPEG", &["jpg", "jpeg"])
                .add_filter("WebP", &["webp"])
                .save_file()
        });
        match spawned {
            Ok(dialog) => {
                self.pending = Some(Pending {
                    image,
                    suggested,
                    dialog,
                })
            }
            Err(e) => self.open_field(
                image,
                suggested,
                format!("The file dialog could not start ({e})."),
            ),
        }
    }

    fn open_field(&mut self, image: ImageId, suggested: PathBuf, reason: String) {
        self.field = Some(PathField {
            image,
            text: suggested.display().to_string(),
            reason,
        });
    }

    /// Checks the dialog; returns the chosen path when there is one.
    pub fn poll(&mut self, ctx: &egui::Context) -> Option<(ImageId, PathBuf)> {
        let pending = self.pending.as_ref()?;
        let answer = pending.dialog.poll(ctx);
        if matches!(answer, Answer::Waiting) {
            return None;
        }
        let pending = self.pending.take()?;
        match answer {
            Answer::Chosen(path) => Some((pending.image, path)),
            Answer::Unavailable => {
                self.open_field(
                    pending.image,
                    pending.suggested,
                    "No file dialog can open on this system (no desktop portal or zenity).".into(),
                );
                None
            }
            Answer::Waiting | Answer::Cancelled => None,
        }
    }

    /// Draws the path field when needed; returns the typed path on Save.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<(ImageId, PathBuf)> {
        let field = self.field.as_mut()?;
        let mut result = None;
        let mut close = false;
        egui::Modal::new(egui::Id::unique("save-path-field")).show(ctx, |ui| {
            ui.set_width(520.0);
            ui.heading("Save image as");
            ui.label(&field.reason);
            let label = ui.label("Type the file path (the extension picks PNG, JPEG or WebP):");
            let r = ui
                .add(egui::TextEdit::singleline(&mut field.text).desired_width(f32::INFINITY))
                .labelled_by(label.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                if (ui.button("Save").clicked() || enter) && !field.text.trim().is_empty() {
                    result = Some((field.image, PathBuf::from(field.text.trim())));
                    close = true;
                }
                if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    close = true;
                }
            });
        });
        if close {
            self.field = None;
        }
        result
    }
}
