//! The input tray: the images an edit starts from, with remove, reorder and the
//! model's limit; fed by drops, pastes, Open… and "Use as input".

use std::collections::HashMap;
use std::path::PathBuf;

use egui::{RichText, Role, TextureHandle, WidgetInfo};

use super::Command;
use super::file_dialog::{Answer, DialogThread};
use super::gallery::texture;
use crate::engine::{Event, InputSource, PixelsAnswer};
use crate::recipe::{InputImage, ModelInfo, Recipe};

enum Preview {
    Loading,
    Ready(TextureHandle),
    Failed(String),
}

/// The tray's live state (the inputs themselves live in the draft recipe).
#[derive(Default)]
pub struct InputTray {
    previews: HashMap<String, Preview>,
    /// The last problem, in words (refused files, the model's limit).
    pub message: Option<String>,
    open_dialog: Option<DialogThread<Vec<PathBuf>>>,
    /// A dropped export whose recipe can be restored: its name and recipe.
    restorable: Option<(String, Recipe)>,
    /// Sources refused for the model's limit before they were sent, in words; shown
    /// with the answer about the rest.
    refused_early: Option<String>,
    /// Previews of stored inputs asked for and not yet answered.
    pending_previews: Vec<(String, PixelsAnswer)>,
    /// A path typed in, shown when no file dialog can open.
    path_field: Option<String>,
}

impl InputTray {
    /// The sources that fit the model's limit after the `have` inputs already in the
    /// tray; the rest are refused here, in words, before anything is read or stored.
    pub fn within_limit(
        &mut self,
        mut sources: Vec<InputSource>,
        have: usize,
        model: Option<&ModelInfo>,
    ) -> Vec<InputSource> {
        let Some(m) = model else { return sources };
        let room = (m.max_inputs as usize).saturating_sub(have);
        if sources.len() <= room {
            return sources;
        }
        let left_out: Vec<String> = sources
            .split_off(room)
            .iter()
            .map(|s| match s {
                InputSource::File(path) => path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into(),
                ),
                InputSource::Pixels { name, .. } => name.clone(),
                InputSource::Stored(id) => format!("image {id}"),
            })
            .collect();
        let words = format!(
            "{} takes at most {} input images; not added: {}",
            m.brand,
            m.max_inputs,
            left_out.join(", ")
        );
        self.message = Some(words.clone());
        if !sources.is_empty() {
            // The answer about the rest must not wipe this out.
            self.refused_early = Some(words);
        }
        sources
    }

    /// Follows prepared inputs; adds what fits the model's limit.
    pub fn on_event(
        &mut self,
        ctx: &egui::Context,
        event: &Event,
        inputs: &mut Vec<InputImage>,
        model: Option<&ModelInfo>,
    ) {
        if let Event::InputsAdded { added, errors } = event {
            self.restorable = added
                .iter()
                .find_map(|a| a.recipe.clone().map(|r| (a.name.clone(), r)));
            let mut problems = errors.clone();
            problems.extend(self.refused_early.take());
            let limit = model.map_or(usize::MAX, |m| m.max_inputs as usize);
            let mut left_out = Vec::new();
            for a in added {
                if inputs.iter().any(|i| i.sha256 == a.input.sha256) {
                    continue;
                }
                if inputs.len() >= limit {
                    left_out.push(a.name.clone());
                    continue;
                }
                self.previews.insert(
                    a.input.sha256.clone(),
                    Preview::Ready(texture(
                        ctx,
                        format!("input-{}", a.input.sha256),
                        &a.preview,
                    )),
                );
                inputs.push(a.input.clone());
            }
            if let (false, Some(m)) = (left_out.is_empty(), model) {
                problems.push(format!(
                    "{} takes at most {} input images; not added: {}",
                    m.brand,
                    m.max_inputs,
                    left_out.join(", ")
                ));
            }
            self.message = (!problems.is_empty()).then(|| problems.join("\n"));
        }
    }

    /// Waits for the preview of a stored input, asked for by `ui`.
    pub fn expect_preview(&mut self, sha256: String, answer: PixelsAnswer) {
        self.pending_previews.push((sha256, answer));
    }

    /// Takes previews once they have come.
    pub fn poll_previews(&mut self, ctx: &egui::Context) {
        let mut done = Vec::new();
        self.pending_previews
            .retain_mut(|(sha256, answer)| match answer.take() {
                Some(pixels) => {
                    done.push((sha256.clone(), pixels));
                    false
                }
                None => !answer.is_gone(),
            });
        for (sha256, pixels) in done {
            let preview = match pixels {
                Ok(p) => Preview::Ready(texture(ctx, format!("input-{sha256}"), &p)),
                Err(e) => Preview::Failed(e.to_string()),
            };
            self.previews.insert(sha256, preview);
        }
    }

    /// Opens the system dialog for several images, on its own thread.
    pub fn open_dialog(&mut self) {
        let spawned = DialogThread::spawn("banana-open-dialog", || {
            rfd::FileDialog::new()
                .set_title("Open input images")
                .set_directory(super::save_dialog::default_folder())
                .add_filter("Images", &["png", "jpg", "jpeg", "webp", "gif"])
                .pick_files()
        });
        match spawned {
            Ok(dialog) => self.open_dialog = Some(dialog),
            Err(e) => {
                self.message = Some(format!(
                    "The file dialog could not start ({e}); drop or paste images instead."
                ));
            }
        }
    }

    /// Checks the Open… dialog; returns the chosen files as sources.
    pub fn poll(&mut self, ctx: &egui::Context) -> Option<Vec<InputSource>> {
        let answer = self.open_dialog.as_ref()?.poll(ctx);
        if matches!(answer, Answer::Waiting) {
            return None;
        }
        self.open_dialog = None;
        match answer {
            Answer::Chosen(files) => Some(files.into_iter().map(InputSource::File).collect()),
            Answer::Unavailable => {
                self.message = Some(
                    "No file dialog can open on this system (no desktop portal or zenity): \
                     type the image's path below, drop images on the window, or paste one."
                        .into(),
                );
                self.path_field.get_or_insert_with(String::new);
                None
            }
            Answer::Waiting | Answer::Cancelled => None,
        }
    }

    /// Draws the tray; returns what the user asked.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        inputs: &mut Vec<InputImage>,
        model: Option<&ModelInfo>,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            let limit = model.map_or(String::new(), |m| format!(" of {}", m.max_inputs));
            ui.label(format!("Inputs: {}{limit}", inputs.len()));
            if ui.small_button("Open…").on_hover_text("Ctrl+O").clicked() {
                commands.push(Command::OpenInputs);
            }
            if !inputs.is_empty() && ui.small_button("Clear").clicked() {
                inputs.clear();
                self.message = None;
            }
        });
        if inputs.is_empty() {
            ui.weak(RichText::new("Drop, paste or open images to edit them.").small());
        }
        let mut action: Option<(usize, i32)> = None;
        ui.horizontal_wrapped(|ui| {
            for (i, input) in inputs.iter().enumerate() {
                let n = i + 1;
                ui.vertical(|ui| {
                    match self.previews.get(&input.sha256) {
                        Some(Preview::Ready(tex)) => {
                            ui.add(
                                egui::Image::new(tex)
                                    .max_size(egui::vec2(64.0, 64.0))
                                    .alt_text(format!(
                                        "Input {n}, {}x{}",
                                        input.width, input.height
                                    )),
                            );
                        }
                        Some(Preview::Failed(e)) => {
                            ui.colored_label(ui.visuals().error_fg_color, "missing")
                                .on_hover_text(e);
                        }
                        other => {
                            if other.is_none() {
                                commands.push(Command::LoadInputPreview(input.clone()));
                            }
                            ui.add_sized([64.0, 64.0], egui::Label::new("…"));
                        }
                    }
                    ui.horizontal(|ui| {
                        for (text, label, step) in [
                            ("<", "Move input {n} earlier", -1),
                            (">", "Move input {n} later", 1),
                            ("×", "Remove input {n}", 0),
                        ] {
                            let label = label.replace("{n}", &n.to_string());
                            let r = ui.small_button(text).on_hover_text(&label);
                            r.widget_info(|| WidgetInfo::labeled(Role::Button, true, &label));
                            if r.clicked() {
                                action = Some((i, step));
                            }
                        }
                    });
                });
            }
        });
        for c in &commands {
            if let Command::LoadInputPreview(input) = c {
                self.previews.insert(input.sha256.clone(), Preview::Loading);
            }
        }
        match action {
            Some((i, 0)) => {
                inputs.remove(i);
                self.message = None;
            }
            Some((i, step)) => {
                let j = i as i64 + i64::from(step);
                if j >= 0 && (j as usize) < inputs.len() {
                    inputs.swap(i, j as usize);
                }
            }
            None => {}
        }
        if let Some(message) = &self.message {
            ui.colored_label(ui.visuals().warn_fg_color, message);
        }
        if let Some(text) = self.path_field.as_mut() {
            let mut close = false;
            let label = ui.label("Image file path (several: one per line)");
            let field = ui
                .add(
                    egui::TextEdit::multiline(text)
                        .desired_rows(2)
                        .desired_width(f32::INFINITY)
                        .hint_text(
                            egui::RichText::new(format!(
                                "{}/photo.jpg",
                                super::save_dialog::default_folder().display()
                            ))
                            .italics(),
                        ),
                )
                .labelled_by(label.id);
            ui.horizontal(|ui| {
                let paths: Vec<PathBuf> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(PathBuf::from)
                    .collect();
                if ui
                    .add_enabled(!paths.is_empty(), egui::Button::new("Add"))
                    .clicked()
                {
                    commands.push(Command::AddInputs(
                        paths.into_iter().map(InputSource::File).collect(),
                    ));
                    close = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
            let _ = field;
            if close {
                self.path_field = None;
                self.message = None;
            }
        }
        if let Some((name, recipe)) = &self.restorable {
            let mut close = false;
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("{name} carries the recipe it was made with."));
                if ui.small_button("Restore its recipe").clicked() {
                    commands.push(Command::RestoreRecipe(recipe.clone()));
                    close = true;
                }
                if ui.small_button("Keep as input").clicked() {
                    close = true;
                }
            });
            if close {
                self.restorable = None;
            }
        }
        commands
    }
}
