//! The eframe::App: drains engine events, lays out the panels, runs their commands.

use std::sync::Arc;

mod answers;
mod closing;
mod commands;
mod drops;
mod events;
mod keys;
mod settings;

use egui::{RichText, TextureHandle};

use super::export_dialog::ExportDialog;
use super::gallery::{self, Gallery};
use super::history_panel::{HistoryPanel, Tab};
use super::input_tray::InputTray;
use super::jobs_strip::JobsStrip;
use super::lineage_view::LineageView;
use super::save_dialog::SaveDialog;
use super::settings_dialog::SettingsDialog;
use super::state::{STORAGE_KEY, UiState};
use super::thumbs::ThumbCache;
use super::toasts::{Level, Toasts};
use super::viewer::Viewer;
use super::{Command, prompt_panel};
use crate::engine::Engine;
use crate::recipe::{Catalog, ProviderId};

/// The Banana Studio window.
pub struct BananaApp {
    engine: Engine,
    state: UiState,
    /// Templates, styles, kits and saved prompts, as the library last said.
    prompt_library: crate::engine::PromptLibrary,
    catalog: Catalog,
    jobs: JobsStrip,
    /// A thinking model's notes and drafts while it works.
    thinking: super::thinking::ThinkingView,
    batches: super::batch_bar::BatchBar,
    batch_dialog: super::batch_dialog::BatchDialog,
    mask_painter: super::mask_painter::MaskPainter,
    markup_painter: super::markup_painter::MarkupPainter,
    /// A painter to open on the result being added as an input.
    draw_on_added: Option<super::DrawKind>,
    library_dialog: super::library_dialog::LibraryDialog,
    gallery: Gallery,
    history: HistoryPanel,
    lineage: LineageView,
    thumbs: ThumbCache<TextureHandle>,
    viewer: Viewer,
    save: SaveDialog,
    export: ExportDialog,
    shortcut_help: super::shortcuts::ShortcutHelp,
    close_guard: super::close_guard::CloseGuard,
    tray: InputTray,
    toasts: Toasts,
    settings: crate::settings::Settings,
    settings_dialog: SettingsDialog,
    welcome: bool,
    theme_set: bool,
    ctx: egui::Context,
    /// Requests whose answers the app waits for.
    answers: answers::Answers,
}

/// Ctrl+, (Cmd+,) opens Settings.
const SETTINGS_SHORTCUT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Comma);

/// Ctrl+S (Cmd+S) saves the selected images to a folder.
const SAVE_SHORTCUT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::S);

/// Ctrl+[ shows or hides the prompt panel.
const PROMPT_PANEL_SHORTCUT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::OpenBracket);

/// Ctrl+] shows or hides the history panel.
const HISTORY_PANEL_SHORTCUT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::CloseBracket);

/// Ctrl+O (Cmd+O) opens input images.
const OPEN_SHORTCUT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::O);

impl BananaApp {
    /// Lists a recipe's runs on every provider together in the gallery.
    fn show_same_recipe(&mut self, origin: crate::library::JobId) {
        self.history.filters.same_recipe = Some(origin);
        self.history.tab = super::history_panel::Tab::Timeline;
        self.reload_history();
    }

    /// Lists one prompt batch's results in the gallery.
    fn show_batch(&mut self, batch: crate::library::BatchId) {
        self.history.filters.batch = Some(batch);
        self.history.tab = super::history_panel::Tab::Timeline;
        self.state.gallery_panel_open = true;
        self.reload_history();
    }

    /// Builds the app around a started engine, restoring the saved UI state.
    pub fn new(cc: &eframe::CreationContext<'_>, engine: Engine) -> Self {
        let loaded = crate::settings::Settings::load(engine.library().root());
        Self::with_settings(cc, engine, loaded)
    }

    /// Builds the app with settings already read (and what was wrong with them, if anything).
    pub fn with_settings(
        cc: &eframe::CreationContext<'_>,
        engine: Engine,
        (settings, settings_problem): (crate::settings::Settings, Option<String>),
    ) -> Self {
        let state: UiState = cc
            .storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_else(|| UiState::starting_with(&settings, &engine.catalog()));
        let welcome = !settings.welcomed
            && engine.status(settings.default_provider).key_origin
                == crate::keys::KeyOrigin::NotSet;
        let ctx = cc.egui_ctx.clone();
        engine.set_repaint(Arc::new(move || ctx.request_repaint()));
        // The window's settings decide, whoever started the engine.
        engine.set_show_thinking(settings.show_thinking);
        let catalog = engine.catalog();
        let mut toasts = Toasts::default();
        if let Some(problem) = settings_problem {
            toasts.add(Level::Error, format!("Settings: {problem}"));
        }
        if let Some(notice) = engine.keys().notice() {
            tracing::warn!("{notice}");
        }
        let mut app = Self {
            engine,
            state,
            prompt_library: Default::default(),
            catalog,
            jobs: JobsStrip::default(),
            thinking: Default::default(),
            batches: Default::default(),
            batch_dialog: Default::default(),
            mask_painter: Default::default(),
            markup_painter: Default::default(),
            draw_on_added: None,
            library_dialog: Default::default(),
            gallery: Gallery::default(),
            history: HistoryPanel::with_budget(settings.budget()),
            lineage: LineageView::default(),
            thumbs: ThumbCache::default(),
            viewer: Viewer::default(),
            save: SaveDialog::default(),
            export: ExportDialog::default(),
            shortcut_help: Default::default(),
            close_guard: Default::default(),
            tray: InputTray::default(),
            toasts,
            settings,
            settings_dialog: SettingsDialog::default(),
            welcome,
            theme_set: false,
            ctx: cc.egui_ctx.clone(),
            answers: Default::default(),
        };
        app.start_reading();
        app
    }

    /// Asks the engine for what the window shows, the gallery's first page first: for the
    /// session the library opened with, not a frame after the list of sessions is read
    /// (that list comes with the same current session and asks for nothing more).
    fn start_reading(&mut self) {
        self.history.current = Some(self.engine.library().current_session());
        self.reload_history();
        let engine = &self.engine;
        engine.load_sessions();
        engine.load_prompt_library();
        // Batches a closed window cut short wait in the jobs strip to be resumed.
        engine.load_batches();
        // Deferred batches run on Google's side: follow them, and store what came.
        engine.follow_deferred();
        engine.load_spend();
        // Generations a CLI run or another window adds show up here too.
        engine.watch_library();
        for provider in ProviderId::ALL {
            if engine.status(provider).available {
                engine.refresh_models(provider);
            }
        }
    }

    /// Shows the notices that arrive in `notices` too: the window started by `gui::run`
    /// listens to the log's notice lines (`crate::notify`).
    pub fn with_notices(mut self, notices: crate::notify::Notices) -> Self {
        self.toasts.listen_to(notices);
        self
    }

    #[cfg(feature = "testing")]
    /// The engine, for tests.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    #[cfg(feature = "testing")]
    /// The gallery, for tests.
    pub fn gallery(&self) -> &Gallery {
        &self.gallery
    }

    #[cfg(feature = "testing")]
    /// Thumbnail textures held now, for tests and the benchmark.
    pub fn thumbnail_textures(&self) -> usize {
        self.thumbs.texture_count()
    }

    #[cfg(feature = "testing")]
    /// Thumbnail textures made since start, freed ones included.
    pub fn thumbnails_loaded(&self) -> usize {
        self.thumbs.loaded_total()
    }

    /// Reads the first page of history again, as the history panel asks.
    fn reload_history(&mut self) {
        let query = self.history.query(crate::library::now_ms(), gallery::PAGE);
        let answer = self.engine.load_history(query.clone());
        self.gallery.expect(query, answer);
    }

    #[cfg(feature = "testing")]
    /// Shows an image in the viewer as a click on it would, for tests and the benchmark.
    pub fn view(&mut self, image: crate::library::ImageId) {
        self.run(Command::Select(image));
    }

    #[cfg(feature = "testing")]
    /// Whether the viewer shows the pixels of the image it shows (at any detail).
    pub fn viewer_ready(&self) -> bool {
        self.viewer.shown_texture_size().is_some()
    }

    #[cfg(feature = "testing")]
    /// The size of the texture the viewer draws the shown image from.
    pub fn viewer_texture_size(&self) -> Option<[usize; 2]> {
        self.viewer.shown_texture_size()
    }

    #[cfg(feature = "testing")]
    /// The inputs of the draft recipe, for tests.
    pub fn draft_inputs(&self) -> &[crate::recipe::InputImage] {
        &self.state.draft.inputs
    }

    #[cfg(feature = "testing")]
    /// The jobs strip, for tests.
    pub fn jobs(&self) -> &JobsStrip {
        &self.jobs
    }

    #[cfg(feature = "testing")]
    /// What the window remembers between runs, for tests.
    pub fn ui_state(&self) -> &UiState {
        &self.state
    }

    #[cfg(feature = "testing")]
    /// The prompt being composed, for tests.
    pub fn ui_state_draft_prompt(&self) -> &str {
        &self.state.draft.prompt
    }

    #[cfg(feature = "testing")]
    /// The names of every prompt-library item, for tests.
    pub fn prompt_library_names(&self) -> Vec<String> {
        let l = &self.prompt_library;
        l.templates
            .iter()
            .map(|(t, _)| t.name.clone())
            .chain(l.styles.iter().map(|(t, _)| t.name.clone()))
            .chain(l.brands.iter().map(|(t, _)| t.name.clone()))
            .chain(l.sets.iter().map(|(t, _)| t.name.clone()))
            .chain(l.saved.iter().map(|(t, _)| t.name.clone()))
            .collect()
    }

    #[cfg(feature = "testing")]
    /// The prompt Generate would send now, or why there is none, for tests.
    pub fn composed_prompt(&self) -> Result<String, String> {
        let model = self
            .catalog
            .model(self.state.draft.provider, &self.state.draft.model);
        super::prompt_library::recipe(&self.state, &self.prompt_library, model)
            .map(|(r, _)| r.prompt)
    }

    /// The sandbox notice in the top bar: one line, the rest on hover, a way to a key.
    fn sandbox_notice(&mut self, ui: &mut egui::Ui) {
        let status = self.engine.status(self.state.draft.provider);
        if !status.sandbox {
            return;
        }
        let provider = self.state.draft.provider;
        let badge = egui::Button::new(
            RichText::new(format!("SANDBOX MODE: no {} key is set", provider.label()))
                .color(egui::Color32::BLACK)
                .strong(),
        )
        .fill(super::theme::SANDBOX);
        let hover = format!(
            "Images come from an offline fake, not the model, and cost nothing. Paste a key \
             in Settings… (Ctrl+,) or set {} to use the real service.",
            crate::keys::env_vars(provider)[0]
        );
        if ui.add(badge).on_hover_text(hover).clicked() {
            self.settings_dialog.open(&self.settings);
        }
    }

    /// The top bar: the panels' switches, the sandbox notice, shortcuts and settings.
    fn top_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("menu-bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                let prompt = ui
                    .selectable_label(
                        self.state.prompt_panel_open,
                        format!("{} Prompt", super::icons::PANEL),
                    )
                    .on_hover_text("Show or hide the prompt panel (Ctrl+[)");
                if prompt.clicked() {
                    self.state.prompt_panel_open ^= true;
                }
                ui.strong("Banana Studio");
                self.sandbox_notice(ui);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let history = ui
                        .selectable_label(
                            self.state.gallery_panel_open,
                            format!("History {}", super::icons::PANEL),
                        )
                        .on_hover_text("Show or hide the history panel (Ctrl+])");
                    if history.clicked() {
                        self.state.gallery_panel_open ^= true;
                    }
                    ui.separator();
                    let settings = ui.button(format!("{} Settings…", super::icons::SETTINGS));
                    super::icons::named(&settings, "Settings…");
                    if settings
                        .on_hover_text("Keys, connections, defaults, theme (Ctrl+,)")
                        .clicked()
                    {
                        self.settings_dialog.open(&self.settings);
                    }
                    let shortcuts = ui.button(format!("{} Shortcuts", super::icons::HELP));
                    super::icons::named(&shortcuts, "Shortcuts");
                    if shortcuts
                        .on_hover_text("Every keyboard shortcut (?)")
                        .clicked()
                    {
                        self.shortcut_help.open = true;
                    }
                });
            });
        });
    }
}

impl eframe::App for BananaApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if !self.theme_set {
            // On the first frame rather than when built: whoever set up the context after
            // the app was built (a test harness does) does not get to pick the look.
            super::theme::apply(ctx, self.settings.theme);
            self.theme_set = true;
        }
        // A view chosen after the last frame was drawn (or in a frame not drawn).
        self.load_due_view();
        // Every waiting event, every frame.
        while let Some(event) = self.engine.try_event() {
            self.on_event(ctx, event);
        }
        self.toasts.receive();
        self.guard_close(ctx);
        self.poll_answers(ctx);
        if let Some((image, path)) = self.save.poll(ctx) {
            self.run(Command::Export(image, path));
        }
        if let Some(sources) = self.tray.poll(ctx) {
            self.run(Command::AddInputs(sources));
        }
        let sources = drops::incoming_inputs(ctx);
        if !sources.is_empty() {
            self.run(Command::AddInputs(sources));
        }
        if ctx.input_mut(|i| i.consume_shortcut(&OPEN_SHORTCUT)) {
            self.run(Command::OpenInputs);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&PROMPT_PANEL_SHORTCUT)) {
            self.state.prompt_panel_open ^= true;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&HISTORY_PANEL_SHORTCUT)) {
            self.state.gallery_panel_open ^= true;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&SETTINGS_SHORTCUT)) {
            self.settings_dialog.open(&self.settings);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&SAVE_SHORTCUT)) {
            if self.gallery.targets().is_empty() {
                self.toasts.add(
                    Level::Info,
                    "Select images first (click, Ctrl+click), then Ctrl+S saves them",
                );
            } else {
                self.run(Command::SaveSelected);
            }
        }
        if !self.export.is_open() && !self.settings_dialog.is_open() {
            self.shortcut_help.ui(ctx);
        }
        if !self.export.is_open() && !self.settings_dialog.is_open() {
            self.culling_keys(ctx);
            self.arrow_keys(ctx);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut commands = Vec::new();
        self.top_bar(ui);
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
        egui::Panel::bottom("status-bar").show(ui, |ui| {
            commands.extend(self.toasts.status_bar(ui));
        });
        // The jobs list takes the lines it needs, at most a few; it never pushes the
        // viewer around by more.
        egui::Panel::bottom("jobs-strip")
            .resizable(false)
            .show(ui, |ui| {
                commands.extend(self.batches.ui(ui));
                commands.extend(self.jobs.ui(ui, &self.catalog, &self.thinking));
            });
        self.state.show_thinking = self.settings.show_thinking;
        let mut prompt_open = self.state.prompt_panel_open;
        egui::Panel::left("prompt-panel")
            .resizable(true)
            .default_size(280.0)
            .size_range(250.0..=480.0)
            .show_collapsible(ui, &mut prompt_open, |ui| {
                egui::Panel::bottom("prompt-actions").show(ui, |ui| {
                    ui.add_space(super::theme::space::S);
                    commands.extend(prompt_panel::actions(
                        ui,
                        &mut self.state,
                        &self.catalog,
                        &status_of,
                        &self.prompt_library,
                    ));
                });
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
                            &self.prompt_library,
                        ));
                    });
            });
        self.state.prompt_panel_open = prompt_open;
        self.thumbs.begin_frame();
        let mut gallery_open = self.state.gallery_panel_open;
        egui::Panel::right("gallery")
            .resizable(true)
            .default_size(290.0)
            .size_range(250.0..=900.0)
            .show_collapsible(ui, &mut gallery_open, |ui| {
                commands.extend(
                    self.history
                        .ui(ui, &self.catalog, &mut self.state.thumb_size),
                );
                match self.history.tab {
                    Tab::Timeline => {
                        let thumb = self.state.thumb_size;
                        let empty = self.history.empty_message();
                        commands.extend(self.gallery.ui(ui, thumb, &mut self.thumbs, empty));
                    }
                    Tab::Lineage => {
                        let selected = self.gallery.selected;
                        commands.extend(self.lineage.ui(ui, selected, &mut self.thumbs));
                    }
                }
            });
        self.state.gallery_panel_open = gallery_open;
        egui::CentralPanel::default().show(ui, |ui| {
            self.thinking.ui(ui);
            commands.extend(self.viewer.ui(ui, &self.gallery, &self.catalog));
        });
        if let Some((image, path)) = self.save.ui(ui.ctx()) {
            self.run(Command::Export(image, path));
        }
        if let Some(request) = self.export.ui(ui.ctx(), &self.gallery) {
            // The folder, template and metadata choice are remembered for next time.
            let mut settings = self.settings.clone();
            settings.save_folder = Some(request.dir.clone());
            settings.filename_template = request.options.template.clone();
            settings.embed_metadata = request.options.embed_metadata;
            self.apply_settings(settings);
            let answer = self
                .engine
                .export_images(request.images, request.dir, request.options);
            self.answers.batch_exports.push(answer);
        }
        let sandbox = self.engine.status(self.state.draft.provider).sandbox;
        commands.extend(self.batch_dialog.ui(
            ui.ctx(),
            &self.state,
            &self.prompt_library,
            &self.catalog,
            sandbox,
        ));
        commands.extend(self.mask_painter.ui(ui.ctx()));
        commands.extend(self.markup_painter.ui(ui.ctx()));
        commands.extend(self.library_dialog.ui(
            ui.ctx(),
            &self.prompt_library,
            &self.state.draft.inputs,
        ));
        self.settings_ui(ui.ctx());
        drops::drop_highlight(ui.ctx());
        commands.extend(self.toasts.ui(ui.ctx()));
        for command in commands {
            self.run(command);
        }
        // What this frame chose to show is asked for once it is drawn.
        self.load_due_view();
        for image in self.thumbs.take_requests() {
            let answer = self.engine.load_thumbnail(image);
            self.answers.thumbs.push((image, answer));
        }
        self.thumbs.evict();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.state);
    }
}
