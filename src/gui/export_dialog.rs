//! "Save selected to folder…": a folder (chosen with the system dialog, or typed where
//! none can open), a file-name template with a live example, and the embed-metadata
//! choice. The engine writes the files; names never overwrite.

use std::path::PathBuf;

use super::file_dialog::{Answer, DialogThread};
use super::gallery::Gallery;
use crate::library::ImageId;
use crate::library::export::{DEFAULT_TEMPLATE, ExportOptions, file_name};

/// What the user confirmed.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRequest {
    /// The images, in gallery order.
    pub images: Vec<ImageId>,
    /// The folder.
    pub dir: PathBuf,
    /// Template and metadata choice.
    pub options: ExportOptions,
}

struct Open {
    images: Vec<ImageId>,
    folder: String,
    template: String,
    embed: bool,
    picking: Option<DialogThread<PathBuf>>,
    note: Option<String>,
}

/// The dialog's state.
#[derive(Default)]
pub struct ExportDialog {
    open: Option<Open>,
}

impl ExportDialog {
    /// Opens the dialog for `images` with the last folder and template.
    pub fn open(&mut self, images: Vec<ImageId>, folder: PathBuf, template: &str, embed: bool) {
        self.open = Some(Open {
            images,
            folder: folder.display().to_string(),
            template: if template.trim().is_empty() {
                DEFAULT_TEMPLATE.to_owned()
            } else {
                template.to_owned()
            },
            embed,
            picking: None,
            note: None,
        });
    }

    /// Whether it is showing.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Draws the dialog; returns the request on Save.
    pub fn ui(&mut self, ctx: &egui::Context, gallery: &Gallery) -> Option<ExportRequest> {
        let open = self.open.as_mut()?;
        if let Some(dialog) = &open.picking {
            match dialog.poll(ctx) {
                Answer::Waiting => {}
                Answer::Chosen(dir) => {
                    open.folder = dir.display().to_string();
                    open.picking = None;
                }
                Answer::Cancelled => open.picking = None,
                Answer::Unavailable => {
                    open.picking = None;
                    open.note = Some(
                        "No folder dialog can open on this system (no desktop portal or \
                         zenity); type the folder instead."
                            .to_owned(),
                    );
                }
            }
        }
        let mut result = None;
        let mut close = false;
        let n = open.images.len();
        egui::Modal::new(egui::Id::unique("export-dialog")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading(format!(
                "Save {n} image{} to a folder",
                if n == 1 { "" } else { "s" }
            ));
            let label = ui.label("Folder");
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut open.folder).desired_width(430.0))
                    .labelled_by(label.id);
                if ui.button("Choose…").clicked() && open.picking.is_none() {
                    let start = PathBuf::from(open.folder.trim());
                    match DialogThread::spawn("banana-folder-dialog", move || {
                        rfd::FileDialog::new()
                            .set_title("Save images to folder")
                            .set_directory(start)
                            .pick_folder()
                    }) {
                        Ok(d) => open.picking = Some(d),
                        Err(e) => {
                            open.note = Some(format!("The folder dialog could not start ({e})."))
                        }
                    }
                }
            });
            if let Some(note) = &open.note {
                ui.colored_label(ui.visuals().warn_fg_color, note);
            }
            let label = ui.label("File names");
            ui.add(egui::TextEdit::singleline(&mut open.template).desired_width(f32::INFINITY))
                .labelled_by(label.id);
            ui.weak(
                "Tokens: {date} {time} {prompt} {n} {job} {id} {model} {provider} {seed} {ext}",
            );
            if let Some(words) = crate::library::export::unknown_tokens_words(&open.template) {
                ui.colored_label(ui.visuals().warn_fg_color, words);
            }
            if let Some((g, image)) = open.images.first().and_then(|id| gallery.image(*id)) {
                ui.label(format!(
                    "For example: {}",
                    file_name(&open.template, &g.job, image)
                ));
            }
            ui.checkbox(
                &mut open.embed,
                "Embed the recipe (prompt, model, settings) in each file",
            )
            .on_hover_text("Off: a clean export with no metadata at all");
            ui.weak("Existing files are never overwritten: a number is added instead.");
            ui.horizontal(|ui| {
                let folder = open.folder.trim();
                let ready = !folder.is_empty() && !open.template.trim().is_empty();
                if ui.add_enabled(ready, egui::Button::new("Save")).clicked() {
                    result = Some(ExportRequest {
                        images: open.images.clone(),
                        dir: PathBuf::from(folder),
                        options: ExportOptions {
                            template: open.template.trim().to_owned(),
                            embed_metadata: open.embed,
                        },
                    });
                    close = true;
                }
                if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    close = true;
                }
            });
        });
        if close {
            self.open = None;
        }
        result
    }
}
