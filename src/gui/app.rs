//! The eframe::App: drains engine events, lays out the panels, runs their commands.

use std::sync::Arc;

use egui::RichText;

use super::gallery::Gallery;
use super::input_tray::InputTray;
use super::jobs_strip::JobsStrip;
use super::save_dialog::{SaveDialog, default_folder};
use super::state::{STORAGE_KEY, UiState};
use super::toasts::{Level, Toasts};
use super::viewer::Viewer;
use super::{Command, prompt_panel};
use crate::engine::{Engine, Event, InputSource};
use crate::imaging::Rgba;
use crate::library::{HistoryQuery, JobId, Mark};
use crate::providers::ErrorKind;
use crate::recipe::{AspectRatio, Catalog, InputImage, ProviderId};

/// How many generations the gallery loads at start.
const HISTORY_PAGE: u32 = 200;

/// The Banana Studio window.
pub struct BananaApp {
    engine: Engine,
    state: UiState,
    catalog: Catalog,
    jobs: JobsStrip,
    gallery: Gallery,
    viewer: Viewer,
    save: SaveDialog,
    tray: InputTray,
    toasts: Toasts,
    interrupted: Vec<JobId>,
    ctx: egui::Context,
}

/// Ctrl+O (Cmd+O) opens input images.
const OPEN_SHORTCUT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::O);

impl BananaApp {
    /// Builds the app around a started engine, restoring the saved UI state.
    pub fn new(cc: &eframe::CreationContext<'_>, engine: Engine) -> Self {
        let state: UiState = cc
            .storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        let ctx = cc.egui_ctx.clone();
        engine.set_repaint(Arc::new(move || ctx.request_repaint()));
        engine.load_history(HistoryQuery {
            limit: HISTORY_PAGE,
            ..HistoryQuery::default()
        });
        for provider in ProviderId::ALL {
            if engine.status(provider).available {
                engine.refresh_models(provider);
            }
        }
        let catalog = engine.catalog();
        Self {
            engine,
            state,
            catalog,
            jobs: JobsStrip::default(),
            gallery: Gallery::default(),
            viewer: Viewer::default(),
            save: SaveDialog::default(),
            tray: InputTray::default(),
            toasts: Toasts::default(),
            interrupted: Vec::new(),
            ctx: cc.egui_ctx.clone(),
        }
    }

    /// The gallery, for tests.
    pub fn gallery(&self) -> &Gallery {
        &self.gallery
    }

    /// The inputs of the draft recipe, for tests.
    pub fn draft_inputs(&self) -> &[InputImage] {
        &self.state.draft.inputs
    }

    /// The jobs strip, for tests.
    pub fn jobs(&self) -> &JobsStrip {
        &self.jobs
    }

    /// The prompt being composed, for tests.
    pub fn ui_state_draft_prompt(&self) -> &str {
        &self.state.draft.prompt
    }

    fn on_event(&mut self, ctx: &egui::Context, event: Event) {
        self.jobs.on_event(&event);
        self.gallery.on_event(ctx, &event);
        self.viewer.on_event(ctx, &event);
        let model = self
            .catalog
            .model(self.state.draft.provider, &self.state.draft.model);
        let had_inputs = !self.state.draft.inputs.is_empty();
        self.tray
            .on_event(ctx, &event, &mut self.state.draft.inputs, model);
        if !had_inputs
            && !self.state.draft.inputs.is_empty()
            && self.state.draft.aspect == AspectRatio::Ratio(1, 1)
        {
            // An edit keeps its photo's shape unless the user picked one.
            self.state.draft.aspect = AspectRatio::Auto;
        }
        match event {
            Event::Interrupted { jobs } => self.interrupted = jobs,
            Event::History { generations, .. } => {
                // Open on the newest result, so the viewer is never empty without reason.
                if self.gallery.selected.is_none()
                    && let Some(newest) = self
                        .gallery
                        .generations()
                        .first()
                        .and_then(|g| g.images.first())
                {
                    let id = newest.id;
                    self.run(Command::Select(id));
                }
                for g in generations
                    .iter()
                    .filter(|g| self.interrupted.contains(&g.job.id))
                {
                    let message = g.job.error_message.clone().unwrap_or_default();
                    self.jobs.add_interrupted(
                        g.job.id,
                        g.job.recipe.prompt_preview(),
                        g.job.recipe.model.clone(),
                        message,
                    );
                }
            }
            Event::JobSucceeded {
                generation,
                warnings,
            } => {
                let n = generation.images.len();
                let plural = if n == 1 { "image" } else { "images" };
                self.toasts.add(
                    Level::Info,
                    format!("Job #{} done: {n} {plural}", generation.job.id),
                );
                for w in warnings {
                    self.toasts.add(
                        Level::Error,
                        format!("Job #{}: part of the batch failed: {w}", generation.job.id),
                    );
                }
                if let Some(first) = generation.images.first() {
                    // Refining again and again follows the newest step.
                    if self.state.refine_from.is_some()
                        && generation.job.parent_image_id == self.state.refine_from
                    {
                        self.state.refine_from = Some(first.id);
                    }
                    self.run(Command::Select(first.id));
                }
            }
            Event::JobFailed { job, kind, message } if kind != ErrorKind::Cancelled => {
                self.toasts
                    .add(Level::Error, format!("Job #{job} failed: {message}"));
            }
            Event::SubmitFailed { message } | Event::HistoryFailed { message } => {
                self.toasts.add(Level::Error, message);
            }
            Event::Exported { path, .. } => {
                self.toasts
                    .add(Level::Info, format!("Saved {}", path.display()));
            }
            Event::ExportFailed { message, .. } => {
                self.toasts
                    .add(Level::Error, format!("Could not save: {message}"));
            }
            Event::Models { catalog, .. } => self.catalog = catalog,
            Event::LibraryChanged { message, reload } => {
                if let Some(message) = message {
                    self.toasts.add(Level::Info, message);
                }
                if reload {
                    self.reload_history();
                }
            }
            Event::LibraryFailed { message } => {
                self.toasts.add(
                    Level::Error,
                    format!("The library could not be changed: {message}"),
                );
                self.reload_history();
            }
            Event::ModelsFailed { provider, message } => {
                self.toasts.add(
                    Level::Error,
                    format!("Could not list {} models: {message}", provider.label()),
                );
            }
            _ => {}
        }
    }

    /// Reads the first page of history again, with the gallery's search.
    fn reload_history(&self) {
        let search = self.gallery.search.trim();
        self.engine.load_history(HistoryQuery {
            limit: HISTORY_PAGE,
            search: (!search.is_empty()).then(|| search.to_owned()),
            ..HistoryQuery::default()
        });
    }

    /// Culling keys on the selected image: 1-5 rate (0 clears), P pick, X reject,
    /// U unflag, F favourite, Delete to trash, Ctrl+Z undo the delete.
    fn culling_keys(&mut self, ctx: &egui::Context) {
        use egui::{Key, Modifiers};
        if ctx.memory(|m| m.focused().is_some()) {
            return;
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Z)) {
            self.run(Command::UndoDelete);
        }
        let Some(image) = self.gallery.selected else {
            return;
        };
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
                marks.push(Mark::Flag(1));
            }
            if i.consume_key(Modifiers::NONE, Key::X) {
                marks.push(Mark::Flag(-1));
            }
            if i.consume_key(Modifiers::NONE, Key::U) {
                marks.push(Mark::Flag(0));
            }
        });
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::F)) {
            let favourite = self.gallery.image(image).is_some_and(|(_, i)| i.favourite);
            marks.push(Mark::Favourite(!favourite));
        }
        for mark in marks {
            self.gallery.apply_mark(image, mark);
            self.engine.mark(image, mark);
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Delete)) {
            let next = self
                .gallery
                .neighbour(image, 1)
                .or_else(|| self.gallery.neighbour(image, -1));
            self.gallery.remove(&[image]);
            self.gallery.last_deleted = vec![image];
            self.engine.trash(vec![image]);
            if let Some(next) = next {
                self.run(Command::Select(next));
            }
        }
    }

    fn run(&mut self, command: Command) {
        match command {
            Command::Submit(recipe) => {
                if let Err(e) = self.engine.submit(recipe) {
                    self.toasts.add(Level::Error, e.to_string());
                }
            }
            Command::Cancel(job) => self.engine.cancel(job),
            Command::Retry(job) => self.engine.retry(job),
            Command::Select(image) => {
                self.gallery.selected = Some(image);
                if self.viewer.show(image) {
                    self.engine.load_image(image);
                }
            }
            Command::SaveAs(image) => {
                let name = match self.gallery.image(image) {
                    Some((g, i)) => {
                        let ext = i.path.extension().and_then(|e| e.to_str()).unwrap_or("png");
                        format!("banana-{}-{}.{ext}", g.job.id, i.index + 1)
                    }
                    None => format!("banana-image-{image}.png"),
                };
                self.save.open(image, default_folder().join(name));
            }
            Command::LoadThumbnail(image) => self.engine.load_thumbnail(image),
            Command::AddInputs(sources) => self.engine.add_inputs(sources),
            Command::OpenInputs => self.tray.open_dialog(),
            Command::LoadInputPreview(input) => self.engine.load_input_preview(input),
            Command::UseAsInput(image) => self.engine.add_inputs(vec![InputSource::Stored(image)]),
            Command::StartRefine(image) => {
                if let Some((g, _)) = self.gallery.image(image) {
                    // A conversation continues on the model that began it.
                    let parent = &g.job.recipe;
                    let draft = &mut self.state.draft;
                    draft.provider = parent.provider;
                    draft.model = parent.model.clone();
                    draft.size = parent.size;
                    draft.aspect = parent.aspect;
                    draft.inputs.clear();
                    draft.prompt.clear();
                }
                self.state.refine_from = Some(image);
            }
            Command::LoadComparison(image) => self.engine.load_comparison(image),
            Command::Regenerate(job, count) => self.engine.regenerate(job, count),
            Command::Search(_) => self.reload_history(),
            Command::RestoreRecipe(recipe) => {
                self.state.seed_fixed = recipe.seed.is_some();
                self.state.draft = recipe;
                self.state.refine_from = None;
            }
            Command::UseSettings(job) => {
                if let Some(g) = self.gallery.generations().iter().find(|g| g.job.id == job) {
                    self.state.draft = g.job.recipe.clone();
                    self.state.seed_fixed = g.job.recipe.seed.is_some();
                    self.state.refine_from = None;
                }
            }
            Command::CopyImage => match self.viewer.shown_pixels() {
                Some(p) => {
                    let image = egui::ColorImage::from_rgba_unmultiplied(
                        [p.width as usize, p.height as usize],
                        &p.pixels,
                    );
                    self.ctx.copy_image(image);
                    self.toasts
                        .add(Level::Info, "Copied the image to the clipboard");
                }
                None => self.toasts.add(
                    Level::Error,
                    "The image is still loading; copy it in a moment",
                ),
            },
            Command::Reveal(image) => {
                if let Some((_, record)) = self.gallery.image(image)
                    && let Err(message) = super::desktop::reveal(&record.path)
                {
                    self.toasts.add(Level::Error, message);
                }
            }
            Command::UndoDelete => {
                let images = std::mem::take(&mut self.gallery.last_deleted);
                if !images.is_empty() {
                    self.engine.restore(images);
                }
            }
            Command::EmptyTrash => {
                self.gallery.last_deleted.clear();
                self.engine.empty_trash();
            }
            Command::Refine(parent, recipe) => {
                if let Err(e) = self.engine.refine(parent, recipe) {
                    self.toasts.add(Level::Error, e.to_string());
                }
            }
        }
    }

    fn sandbox_banner(&self, ui: &mut egui::Ui) {
        let status = self.engine.status(self.state.draft.provider);
        if !status.sandbox {
            return;
        }
        egui::Panel::top("sandbox-banner").show(ui, |ui| {
            egui::Frame::new().fill(egui::Color32::from_rgb(250, 205, 40)).inner_margin(6.0).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.colored_label(
                    egui::Color32::BLACK,
                    RichText::new(format!(
                        "SANDBOX MODE: no {} key is set (or --sandbox), so images come from an offline fake, \
                         not the model. Set GEMINI_API_KEY and restart to use the real service.",
                        self.state.draft.provider.label()
                    ))
                    .strong(),
                );
            });
        });
    }
}

impl eframe::App for BananaApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // Every waiting event, every frame.
        while let Some(event) = self.engine.try_event() {
            self.on_event(ctx, event);
        }
        if let Some((image, path)) = self.save.poll(ctx) {
            self.engine.export_image(image, path);
        }
        if let Some(sources) = self.tray.poll(ctx) {
            self.run(Command::AddInputs(sources));
        }
        let sources = incoming_inputs(ctx);
        if !sources.is_empty() {
            self.run(Command::AddInputs(sources));
        }
        if ctx.input_mut(|i| i.consume_shortcut(&OPEN_SHORTCUT)) {
            self.run(Command::OpenInputs);
        }
        self.culling_keys(ctx);
        // Arrow keys move between images unless a text field has the keyboard.
        if ctx.memory(|m| m.focused().is_none())
            && let Some(current) = self.gallery.selected
        {
            let step = ctx.input_mut(|i| {
                if i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowRight) {
                    1
                } else if i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowLeft) {
                    -1
                } else {
                    0
                }
            });
            if step != 0
                && let Some(next) = self.gallery.neighbour(current, step)
            {
                self.run(Command::Select(next));
            }
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut commands = Vec::new();
        self.sandbox_banner(ui);
        let engine = &self.engine;
        let status_of = |p: ProviderId| engine.status(p);
        let refine_label = self
            .state
            .refine_from
            .map(|id| match self.gallery.image(id) {
                Some((g, i)) => format!(
                    "image {} of job {}: {}",
                    i.index + 1,
                    g.job.id,
                    g.job.recipe.prompt_preview()
                ),
                None => format!("image {id}"),
            });
        egui::Panel::bottom("jobs-strip")
            .resizable(true)
            .default_size(170.0)
            .min_size(140.0)
            .max_size(360.0)
            .show(ui, |ui| {
                commands.extend(self.jobs.ui(ui));
            });
        egui::Panel::left("prompt-panel")
            .resizable(true)
            .default_size(340.0)
            .min_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("prompt-scroll")
                    .show(ui, |ui| {
                        commands.extend(prompt_panel::ui(
                            ui,
                            &mut self.state,
                            &self.catalog,
                            &status_of,
                            &mut self.tray,
                            refine_label.as_deref(),
                        ));
                    });
            });
        egui::Panel::right("gallery")
            .resizable(true)
            .default_size(380.0)
            .min_size(320.0)
            .show(ui, |ui| {
                let thumb = self.state.thumb_size;
                commands.extend(self.gallery.ui(ui, thumb));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            commands.extend(self.viewer.ui(ui, &self.gallery));
        });
        if let Some((image, path)) = self.save.ui(ui.ctx()) {
            self.engine.export_image(image, path);
        }
        drop_highlight(ui.ctx());
        self.toasts.ui(ui.ctx());
        for command in commands {
            self.run(command);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.state);
    }
}

/// Files dropped on the window, images pasted, and pasted paths of image files
/// (when no text field has focus, so a pasted path in the prompt stays text).
fn incoming_inputs(ctx: &egui::Context) -> Vec<InputSource> {
    let dropped = ctx.input_mut(|i| std::mem::take(&mut i.raw.dropped_files));
    let mut sources: Vec<InputSource> = dropped
        .iter()
        .map(|f| InputSource::File(f.path().to_path_buf()))
        .collect();
    let typing = ctx.memory(|m| m.focused().is_some());
    ctx.input(|i| {
        for event in &i.events {
            match event {
                egui::Event::PasteImage(image) => {
                    let [w, h] = image.size;
                    let pixels = image.as_raw().to_vec();
                    sources.push(InputSource::Pixels {
                        name: "pasted image".into(),
                        pixels: Arc::new(Rgba {
                            width: w as u32,
                            height: h as u32,
                            pixels,
                        }),
                    });
                }
                egui::Event::Paste(text) if !typing => {
                    let path = std::path::PathBuf::from(text.trim().trim_matches('"'));
                    if path.is_file() {
                        sources.push(InputSource::File(path));
                    }
                }
                _ => {}
            }
        }
    });
    sources
}

/// A highlight over the window while files hover, saying what a drop does.
fn drop_highlight(ctx: &egui::Context) {
    let hovering = ctx.input(|i| i.raw.hovered_files.len());
    if hovering == 0 {
        return;
    }
    let screen = ctx.content_rect();
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop-highlight"),
    ));
    painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(170));
    painter.rect_stroke(
        screen.shrink(6.0),
        8.0,
        egui::Stroke::new(3.0, egui::Color32::from_rgb(250, 205, 40)),
        egui::StrokeKind::Inside,
    );
    let plural = if hovering == 1 { "image" } else { "images" };
    painter.text(
        screen.center(),
        egui::Align2::CENTER_CENTER,
        format!("Drop to add {hovering} {plural} as input"),
        egui::FontId::proportional(28.0),
        egui::Color32::WHITE,
    );
}
