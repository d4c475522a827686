//! The Prompt library dialog: the templates, styles, brand kits, reference sets and
//! saved prompts, each listed (built-in ones marked) and edited in place: a template's
//! words and the slots they make, a style's words and pictures, a kit's prefix, suffix,
//! palette, constraints, logo and references, a set's note and pictures. Import… and
//! Export… move the whole library (pictures inside) between machines and colleagues.

use std::path::PathBuf;

use egui::RichText;

use super::Command;
use super::file_dialog::{Answer, DialogThread};
use crate::engine::PromptLibrary;
use crate::library::prompts::{Origin, PromptKind};
use crate::recipe::InputImage;
use crate::recipe::compose::{BrandKit, ReferenceSet, SavedPrompt, Style, Template, slots};

/// One item being edited, of any kind.
#[derive(Clone, Debug, PartialEq)]
pub enum PromptEdit {
    /// A template.
    Template(Template),
    /// A style.
    Style(Style),
    /// A brand kit.
    Brand(BrandKit),
    /// A reference set.
    Set(ReferenceSet),
    /// A saved prompt.
    Saved(SavedPrompt),
}

impl PromptEdit {
    fn name(&self) -> &str {
        match self {
            PromptEdit::Template(t) => &t.name,
            PromptEdit::Style(s) => &s.name,
            PromptEdit::Brand(b) => &b.name,
            PromptEdit::Set(s) => &s.name,
            PromptEdit::Saved(p) => &p.name,
        }
    }

    fn kind(&self) -> PromptKind {
        match self {
            PromptEdit::Template(_) => PromptKind::Template,
            PromptEdit::Style(_) => PromptKind::Style,
            PromptEdit::Brand(_) => PromptKind::Brand,
            PromptEdit::Set(_) => PromptKind::RefSet,
            PromptEdit::Saved(_) => PromptKind::Saved,
        }
    }

    /// What is wrong with it before it can be kept, in words.
    fn problem(&self) -> Option<String> {
        if self.name().trim().is_empty() {
            return Some("Give it a name".to_owned());
        }
        match self {
            PromptEdit::Template(t) if slots(&t.text).is_empty() => Some(
                "A template needs at least one [SLOT] in capitals, such as [PRODUCT]".to_owned(),
            ),
            PromptEdit::Saved(p) if p.text.trim().is_empty() => Some("Write its words".to_owned()),
            PromptEdit::Style(s) if s.text.trim().is_empty() && s.references.is_empty() => {
                Some("Give it words or pictures".to_owned())
            }
            PromptEdit::Set(s) if s.references.is_empty() => {
                Some("Add pictures: put them in the inputs, then Use the inputs".to_owned())
            }
            _ => None,
        }
    }
}

/// The tabs, in order, with their words.
const TABS: [(PromptKind, &str); 5] = [
    (PromptKind::Template, "Templates"),
    (PromptKind::Style, "Styles"),
    (PromptKind::Brand, "Brand kits"),
    (PromptKind::RefSet, "Reference sets"),
    (PromptKind::Saved, "Saved prompts"),
];

/// The dialog's state.
pub struct LibraryDialog {
    open: bool,
    tab: PromptKind,
    /// The item in the editor, and the name it had when opened (None: new).
    editing: Option<(PromptEdit, Option<String>)>,
    file: Option<(bool, DialogThread<PathBuf>)>,
    /// A path typed in, when no file dialog can open (and whether to import).
    path_field: Option<(bool, String)>,
}

impl Default for LibraryDialog {
    fn default() -> Self {
        Self {
            open: false,
            tab: PromptKind::Template,
            editing: None,
            file: None,
            path_field: None,
        }
    }
}

impl LibraryDialog {
    /// Opens on a tab.
    pub fn open(&mut self, tab: PromptKind) {
        self.open = true;
        self.tab = tab;
    }

    /// Opens on a new reference set holding `inputs`.
    pub fn new_set_from(&mut self, inputs: Vec<InputImage>) {
        self.open(PromptKind::RefSet);
        self.editing = Some((
            PromptEdit::Set(ReferenceSet {
                name: String::new(),
                note: String::new(),
                references: inputs,
            }),
            None,
        ));
    }

    /// Whether it is open (the keyboard is then its own).
    pub fn is_open(&self) -> bool {
        self.open
    }

    fn ask_file(&mut self, import: bool) {
        let spawned = DialogThread::spawn("banana-library-file", move || {
            let dialog = rfd::FileDialog::new()
                .set_directory(super::save_dialog::default_folder())
                .add_filter("Prompt library", &["json"]);
            if import {
                dialog.set_title("Import a prompt library").pick_file()
            } else {
                dialog
                    .set_title("Export the prompt library")
                    .set_file_name("prompt-library.json")
                    .save_file()
            }
        });
        match spawned {
            Ok(dialog) => self.file = Some((import, dialog)),
            Err(_) => self.path_field = Some((import, String::new())),
        }
    }

    fn poll_file(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some((import, dialog)) = &self.file else {
            return;
        };
        let import = *import;
        let answer = dialog.poll(ctx);
        if matches!(answer, Answer::Waiting) {
            return;
        }
        self.file = None;
        match answer {
            Answer::Chosen(path) => commands.push(if import {
                Command::ImportPromptLibrary(path)
            } else {
                Command::ExportPromptLibrary(path)
            }),
            Answer::Unavailable => self.path_field = Some((import, String::new())),
            Answer::Waiting | Answer::Cancelled => {}
        }
    }

    /// Draws the dialog when open; `inputs` are the draft's (for "Use the inputs").
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        library: &PromptLibrary,
        inputs: &[InputImage],
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        if !self.open {
            return commands;
        }
        self.poll_file(ctx, &mut commands);
        let mut open = true;
        let screen = ctx.content_rect();
        egui::Window::new("Prompt library")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .fixed_size(egui::vec2(
                (screen.width() * 0.8).clamp(600.0, 980.0),
                (screen.height() * 0.72).clamp(400.0, 720.0),
            ))
            .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 48.0))
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    for (kind, words) in TABS {
                        if ui.selectable_label(self.tab == kind, words).clicked() && self.tab != kind {
                            self.tab = kind;
                            self.editing = None;
                        }
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui
                            .button("Export…")
                            .on_hover_text("Save your items, pictures included, to a JSON file to share")
                            .clicked()
                        {
                            self.ask_file(false);
                        }
                        if ui
                            .button("Import…")
                            .on_hover_text("Bring in a prompt library file; items of the same name are replaced")
                            .clicked()
                        {
                            self.ask_file(true);
                        }
                    });
                });
                self.path_field_ui(ui, &mut commands);
                ui.separator();
                let height = ui.available_height();
                ui.horizontal_top(|ui| {
                    ui.allocate_ui_with_layout(
                        egui::vec2(220.0, height),
                        egui::Layout::top_down_justified(egui::Align::Min),
                        |ui| self.list_ui(ui, library),
                    );
                    ui.separator();
                    ui.vertical(|ui| self.editor_ui(ui, inputs, &mut commands));
                });
            });
        if !open {
            self.open = false;
            self.editing = None;
        }
        commands
    }

    fn path_field_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let Some((import, text)) = self.path_field.as_mut() else {
            return;
        };
        let import = *import;
        let mut close = false;
        ui.horizontal(|ui| {
            ui.label(if import {
                "No file dialog can open here. File to import:"
            } else {
                "No file dialog can open here. File to write:"
            });
            ui.add(egui::TextEdit::singleline(text).desired_width(260.0));
            if ui
                .add_enabled(!text.trim().is_empty(), egui::Button::new("OK"))
                .clicked()
            {
                let path = PathBuf::from(text.trim());
                commands.push(if import {
                    Command::ImportPromptLibrary(path)
                } else {
                    Command::ExportPromptLibrary(path)
                });
                close = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
        if close {
            self.path_field = None;
        }
    }

    fn list_ui(&mut self, ui: &mut egui::Ui, library: &PromptLibrary) {
        let items: Vec<(PromptEdit, Origin)> = match self.tab {
            PromptKind::Template => library
                .templates
                .iter()
                .map(|(t, o)| (PromptEdit::Template(t.clone()), *o))
                .collect(),
            PromptKind::Style => library
                .styles
                .iter()
                .map(|(t, o)| (PromptEdit::Style(t.clone()), *o))
                .collect(),
            PromptKind::Brand => library
                .brands
                .iter()
                .map(|(t, o)| (PromptEdit::Brand(t.clone()), *o))
                .collect(),
            PromptKind::RefSet => library
                .sets
                .iter()
                .map(|(t, o)| (PromptEdit::Set(t.clone()), *o))
                .collect(),
            PromptKind::Saved => library
                .saved
                .iter()
                .map(|(t, o)| (PromptEdit::Saved(t.clone()), *o))
                .collect(),
        };
        if ui.button("New").clicked() {
            self.editing = Some((blank(self.tab), None));
        }
        egui::ScrollArea::vertical()
            .id_salt("library-list")
            .show(ui, |ui| {
                if items.is_empty() {
                    ui.weak("None yet: New makes one.");
                }
                for (item, origin) in items {
                    let on = self
                        .editing
                        .as_ref()
                        .is_some_and(|(_, was)| was.as_deref() == Some(item.name()));
                    let mut text = RichText::new(item.name());
                    if origin == Origin::Bundled {
                        text = text.italics();
                    }
                    let row = ui.selectable_label(on, text);
                    let row = if origin == Origin::Bundled {
                        row.on_hover_text("Built in: saving it keeps your own version")
                    } else {
                        row
                    };
                    if row.clicked() {
                        let name = item.name().to_owned();
                        self.editing = Some((item, Some(name)));
                    }
                }
            });
    }

    fn editor_ui(&mut self, ui: &mut egui::Ui, inputs: &[InputImage], commands: &mut Vec<Command>) {
        let Some((item, was)) = self.editing.as_mut() else {
            ui.weak("Pick an item to edit it, or New.");
            return;
        };
        let field = |ui: &mut egui::Ui, label: &str, text: &mut String, rows: usize| {
            let label = ui.label(label);
            let edit = if rows > 1 {
                egui::TextEdit::multiline(text).desired_rows(rows)
            } else {
                egui::TextEdit::singleline(text)
            };
            // Clear of the scroll bar.
            ui.add(edit.desired_width(ui.available_width() - 14.0))
                .labelled_by(label.id);
        };
        egui::ScrollArea::vertical()
            .id_salt("library-editor")
            .max_height(ui.available_height() - 48.0)
            .show(ui, |ui| match item {
                PromptEdit::Template(t) => {
                    field(ui, "Name", &mut t.name, 1);
                    field(ui, "Words, with [SLOTS] in capitals", &mut t.text, 5);
                    let found = slots(&t.text);
                    ui.weak(if found.is_empty() {
                        "No slots yet.".to_owned()
                    } else {
                        format!("Slots (fields in the prompt panel): {}", found.join(", "))
                    });
                }
                PromptEdit::Style(s) => {
                    field(ui, "Name", &mut s.name, 1);
                    field(ui, "Words said after the prompt", &mut s.text, 3);
                    pictures_ui(ui, &mut s.references, inputs, "Pictures sent with it");
                }
                PromptEdit::Brand(k) => {
                    field(ui, "Name", &mut k.name, 1);
                    field(ui, "Said before everything (prefix)", &mut k.prefix, 2);
                    field(ui, "Said after everything (suffix)", &mut k.suffix, 2);
                    let mut palette = k.palette.join(", ");
                    field(ui, "Palette (#rrggbb, comma-separated)", &mut palette, 1);
                    k.palette = palette
                        .split(',')
                        .map(|c| c.trim().to_owned())
                        .filter(|c| !c.is_empty())
                        .collect();
                    ui.horizontal_wrapped(|ui| {
                        for swatch in &k.palette {
                            match egui::Color32::from_hex(swatch) {
                                Ok(colour) => {
                                    let (rect, _) = ui.allocate_exact_size(
                                        egui::vec2(18.0, 18.0),
                                        egui::Sense::hover(),
                                    );
                                    ui.painter().rect_filled(rect, 3.0, colour);
                                }
                                Err(_) => {
                                    ui.colored_label(
                                        ui.visuals().error_fg_color,
                                        format!("{swatch}: not #rrggbb"),
                                    );
                                }
                            }
                        }
                    });
                    field(
                        ui,
                        "Constraints a structured prompt starts with",
                        &mut k.constraints,
                        2,
                    );
                    pictures_ui(ui, &mut k.references, inputs, "Logo and reference pictures");
                }
                PromptEdit::Set(s) => {
                    field(ui, "Name", &mut s.name, 1);
                    field(ui, "What it shows", &mut s.note, 2);
                    pictures_ui(ui, &mut s.references, inputs, "Pictures");
                }
                PromptEdit::Saved(p) => {
                    field(ui, "Name", &mut p.name, 1);
                    field(ui, "Words", &mut p.text, 5);
                }
            });
        ui.separator();
        let problem = item.problem().or_else(|| item.palette_problem());
        let mut close = false;
        ui.horizontal(|ui| {
            let save = ui.add_enabled(
                problem.is_none(),
                super::theme::primary_button("Save", "", problem.is_none()),
            );
            super::icons::named(&save, "Save item");
            if save.clicked() {
                if let Some(old) = was.as_ref().filter(|old| old.trim() != item.name().trim()) {
                    // Renamed: the old name goes.
                    commands.push(Command::DeletePromptItem(item.kind(), old.clone()));
                }
                commands.push(Command::SavePromptItem(Box::new(item.clone())));
                *was = Some(item.name().trim().to_owned());
            }
            if let Some(name) = was.clone()
                && ui
                    .button("Delete")
                    .on_hover_text("Forget your version (a built-in one comes back as it was)")
                    .clicked()
            {
                commands.push(Command::DeletePromptItem(item.kind(), name));
                close = true;
            }
            if let Some(p) = &problem {
                ui.colored_label(ui.visuals().warn_fg_color, p);
            }
        });
        if close {
            self.editing = None;
        }
    }
}

impl PromptEdit {
    fn palette_problem(&self) -> Option<String> {
        match self {
            PromptEdit::Brand(k) => k
                .palette
                .iter()
                .find(|c| egui::Color32::from_hex(c).is_err())
                .map(|c| format!("{c} is not a colour: write it as #rrggbb")),
            _ => None,
        }
    }
}

/// A new item of a kind.
fn blank(kind: PromptKind) -> PromptEdit {
    match kind {
        PromptKind::Template => PromptEdit::Template(Template {
            name: String::new(),
            text: String::new(),
        }),
        PromptKind::Style => PromptEdit::Style(Style::default()),
        PromptKind::Brand => PromptEdit::Brand(BrandKit::default()),
        PromptKind::RefSet => PromptEdit::Set(ReferenceSet::default()),
        PromptKind::Saved => PromptEdit::Saved(SavedPrompt {
            name: String::new(),
            text: String::new(),
        }),
    }
}

/// An item's pictures: how many, and taken from the prompt panel's inputs.
fn pictures_ui(
    ui: &mut egui::Ui,
    pictures: &mut Vec<InputImage>,
    inputs: &[InputImage],
    what: &str,
) {
    ui.label(what);
    ui.horizontal_wrapped(|ui| {
        ui.weak(match pictures.len() {
            0 => "none".to_owned(),
            1 => "1 picture".to_owned(),
            n => format!("{n} pictures"),
        })
        .on_hover_text(
            pictures
                .iter()
                .map(|p| format!("{}x{} {}", p.width, p.height, p.mime))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        if ui
            .add_enabled(
                !inputs.is_empty(),
                egui::Button::new("Use the inputs").small(),
            )
            .on_hover_text("Take the pictures now in the prompt panel's inputs")
            .on_disabled_hover_text("Drop, paste or open the pictures as inputs first")
            .clicked()
        {
            *pictures = inputs.to_vec();
        }
        if !pictures.is_empty() && ui.small_button("Clear").clicked() {
            pictures.clear();
        }
    });
}
