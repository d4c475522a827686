//! The Batch dialog: many requests from a list, each line on top of the prompt panel's
//! recipe (model, size, ratio, count, template, styles, brand kit). A list is pasted or
//! loaded from a `.txt`, `.csv` or `.jsonl` file and read as the CLI's `batch` reads
//! it; before anything is sent the dialog shows how many requests and images it makes
//! and what they are expected to cost, or the first line that is wrong and why.

use std::path::PathBuf;

use egui::RichText;

use super::Command;
use super::batch_plan::{Plan, default_name, plan, plan_words};
use super::file_dialog::{Answer, DialogThread};
use super::state::UiState;
use crate::engine::PromptLibrary;
use crate::recipe::Catalog;
use crate::recipe::batch_list::ListKind;

/// The largest list file the dialog reads (a few hundred thousand prompts).
const MAX_LIST_BYTES: u64 = 8 * 1024 * 1024;

/// How many of the planned prompts the dialog lists.
const SHOWN: usize = 6;

/// The dialog's state.
#[derive(Default)]
pub struct BatchDialog {
    open: bool,
    name: String,
    text: String,
    kind: ListKind,
    /// Whether the user picked the kind (else it follows what the text looks like).
    kind_chosen: bool,
    file_dialog: Option<DialogThread<(PathBuf, Result<String, String>)>>,
    /// A problem with loading a file, in words.
    load_error: Option<String>,
    /// The plan for the text, kind and panel it was made from.
    planned: Option<(String, ListKind, UiState, Result<Plan, String>)>,
    /// The list takes the keyboard on the next frame (the dialog just opened).
    focus_list: bool,
    /// Through the Gemini Batch API: half price, within 24 hours.
    deferred: bool,
}

impl BatchDialog {
    /// Opens the dialog (keeping a list typed before).
    pub fn open(&mut self) {
        self.open = true;
        self.focus_list = true;
    }

    /// Whether it is open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    fn load_file(&mut self) {
        let spawned = DialogThread::spawn("banana-batch-dialog", || {
            let path = rfd::FileDialog::new()
                .set_title("Load a list of prompts")
                .set_directory(super::save_dialog::default_folder())
                .add_filter("Lists", &["txt", "csv", "jsonl"])
                .pick_file()?;
            let text = read_list(&path);
            Some((path, text))
        });
        match spawned {
            Ok(dialog) => self.file_dialog = Some(dialog),
            Err(e) => {
                self.load_error = Some(format!(
                    "The file dialog could not start ({e}); paste the list instead."
                ));
            }
        }
    }

    fn poll_file(&mut self, ctx: &egui::Context) {
        let Some(dialog) = &self.file_dialog else {
            return;
        };
        let answer = dialog.poll(ctx);
        if matches!(answer, Answer::Waiting) {
            return;
        }
        self.file_dialog = None;
        match answer {
            Answer::Chosen((path, Ok(text))) => {
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("txt");
                match ListKind::from_extension(ext) {
                    Ok(kind) => {
                        self.kind = kind;
                        self.kind_chosen = true;
                        self.text = text;
                        self.load_error = None;
                        if let Some(stem) = path.file_stem() {
                            self.name = stem.to_string_lossy().into_owned();
                        }
                    }
                    Err(e) => self.load_error = Some(format!("{}: {e}", path.display())),
                }
            }
            Answer::Chosen((path, Err(e))) => {
                self.load_error = Some(format!("{}: {e}", path.display()));
            }
            Answer::Unavailable => {
                self.load_error = Some(
                    "No file dialog can open on this system: paste the list below instead.".into(),
                );
            }
            Answer::Waiting | Answer::Cancelled => {}
        }
    }

    /// The plan for what the dialog shows now, made again only when the list, its kind
    /// or the prompt panel changed.
    fn current_plan(
        &mut self,
        state: &UiState,
        library: &PromptLibrary,
        catalog: &Catalog,
    ) -> &Result<Plan, String> {
        let fresh = self.planned.as_ref().is_some_and(|(text, kind, s, _)| {
            text == &self.text && *kind == self.kind && s == state
        });
        if !fresh {
            let plan = plan(&self.text, self.kind, state, library, catalog);
            self.planned = Some((self.text.clone(), self.kind, state.clone(), plan));
        }
        match &self.planned {
            Some((_, _, _, plan)) => plan,
            None => unreachable!("planned just above"),
        }
    }

    /// Draws the dialog when open; returns what the user asked.
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        state: &UiState,
        library: &PromptLibrary,
        catalog: &Catalog,
        sandbox: bool,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        if !self.open {
            return commands;
        }
        self.poll_file(ctx);
        if !self.kind_chosen {
            let slots = template_slots(state, library);
            self.kind = ListKind::guess(&self.text, &slots);
        }
        let mut open = true;
        let mut close = false;
        let max_height = (ctx.content_rect().height() - 80.0).max(300.0);
        egui::Window::new("Batch")
            .open(&mut open)
            .collapsible(false)
            .resizable(true)
            .default_width(560.0)
            .max_height(max_height)
            // Anchored by its top, and the plan below the list keeps one height, so the
            // fields never move under a click while the list is typed.
            .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 56.0))
            .show(ctx, |ui| {
                ui.label(
                    "Many requests at once: one a line, each with the prompt panel's model, \
                     size, ratio, count, template, styles and brand kit.",
                );
                ui.add_space(super::theme::space::M);
                ui.horizontal(|ui| {
                    ui.label("Name");
                    let field = ui.add(
                        egui::TextEdit::singleline(&mut self.name)
                            .hint_text(RichText::new("For example: Spring mugs").italics())
                            .desired_width(240.0),
                    );
                    super::icons::named(&field, "Batch name");
                });
                ui.horizontal(|ui| {
                    let label = ui.label("The list is");
                    egui::ComboBox::from_id_salt("batch-kind")
                        .selected_text(self.kind.label())
                        .show_ui(ui, |ui| {
                            for kind in ListKind::ALL {
                                if ui
                                    .selectable_value(&mut self.kind, kind, kind.label())
                                    .clicked()
                                {
                                    self.kind_chosen = true;
                                }
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    if ui
                        .button("Load file…")
                        .on_hover_text("A .txt (one prompt a line), .csv or .jsonl file")
                        .clicked()
                    {
                        self.load_file();
                    }
                });
                let slots = template_slots(state, library);
                if !slots.is_empty() {
                    ui.weak(format!(
                        "With the template, a CSV header naming its slots fills them a row at a \
                         time: {}",
                        slots.join(", ")
                    ));
                }
                if let Some(e) = &self.load_error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                let list_height = (ui.available_height() - 150.0).clamp(90.0, 320.0);
                egui::ScrollArea::vertical()
                    .id_salt("batch-list")
                    .max_height(list_height)
                    .show(ui, |ui| {
                        let field = ui.add(
                            egui::TextEdit::multiline(&mut self.text)
                                .code_editor()
                                .desired_rows(8)
                                .desired_width(f32::INFINITY)
                                .hint_text(
                                    RichText::new(
                                        "For example:\na red mug on a wooden table\na blue mug \
                                         in fresh snow\na green mug by a window at dawn",
                                    )
                                    .italics(),
                                ),
                        );
                        super::icons::named(&field, "Batch list");
                        if std::mem::take(&mut self.focus_list) {
                            // Opened to paste a list: the list takes the keyboard.
                            field.request_focus();
                        }
                    });
                ui.add_space(super::theme::space::M);
                let plan = self.current_plan(state, library, catalog).clone();
                let line =
                    ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y;
                let ready = ui
                    .allocate_ui_with_layout(
                        egui::vec2(ui.available_width(), line * (SHOWN as f32 + 2.2)),
                        egui::Layout::top_down(egui::Align::Min),
                        |ui| {
                            ui.set_min_height(line * (SHOWN as f32 + 2.2));
                            plan_ui(ui, &plan, self.text.trim().is_empty(), sandbox)
                        },
                    )
                    .inner;
                ui.add_space(super::theme::space::M);
                ui.horizontal(|ui| {
                    let gemini = state.draft.provider == crate::recipe::ProviderId::Gemini;
                    self.deferred &= gemini;
                    ui.add_enabled(gemini, egui::Checkbox::new(&mut self.deferred, "Deferred"))
                        .on_hover_text(
                            "Through the Gemini Batch API: half price, results within 24 hours, \
                             kept even if the app closes",
                        )
                        .on_disabled_hover_text("Only the Gemini API has a batch service");
                    let start = ui.add_enabled(
                        ready.is_some(),
                        super::theme::primary_button("Start batch", "", ready.is_some()),
                    );
                    super::icons::named(&start, "Start batch");
                    let start = start
                        .on_hover_text("Send the requests, as many at once as the provider allows")
                        .on_disabled_hover_text("The list makes nothing yet; see above");
                    if start.clicked()
                        && let Some(plan) = ready
                    {
                        let name = match self.name.trim() {
                            "" => default_name(&plan.recipes),
                            name => name.to_owned(),
                        };
                        commands.push(Command::StartBatch(
                            name,
                            plan.recipes.clone(),
                            self.deferred,
                        ));
                        close = true;
                    }
                    if ui.button("Close").clicked() {
                        close = true;
                    }
                });
            });
        if !open || close {
            self.open = false;
            if close && !commands.is_empty() {
                // Sent: the next batch starts from a clean list.
                self.text.clear();
                self.name.clear();
                self.kind_chosen = false;
                self.planned = None;
            }
        }
        commands
    }
}

/// What the list makes (its first prompts), or what is wrong with it; the plan when it
/// can be sent.
fn plan_ui<'a>(
    ui: &mut egui::Ui,
    plan: &'a Result<Plan, String>,
    empty: bool,
    sandbox: bool,
) -> Option<&'a Plan> {
    match plan {
        Ok(plan) => {
            ui.strong(plan_words(plan, sandbox));
            for recipe in plan.recipes.iter().take(SHOWN) {
                ui.add(egui::Label::new(RichText::new(recipe.prompt_preview()).weak()).truncate());
            }
            if plan.recipes.len() > SHOWN {
                ui.weak(format!("… and {} more", plan.recipes.len() - SHOWN));
            }
            Some(plan)
        }
        Err(_) if empty => {
            ui.weak("Paste or load a list to see what it makes.");
            None
        }
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
            None
        }
    }
}

/// The slots of the template chosen in the panel, if any.
fn template_slots(state: &UiState, library: &PromptLibrary) -> Vec<String> {
    state
        .library
        .template
        .as_ref()
        .and_then(|name| library.templates.iter().find(|(t, _)| &t.name == name))
        .map(|(t, _)| t.slots())
        .unwrap_or_default()
}

/// A list file's text, or what is wrong with it.
fn read_list(path: &std::path::Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("could not read it ({e})"))?
        .len();
    if size > MAX_LIST_BYTES {
        return Err(format!(
            "it is {} MB; a list is at most {} MB, so split it",
            size / (1024 * 1024),
            MAX_LIST_BYTES / (1024 * 1024)
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("could not read it as text ({e})"))
}
