//! The egui app: `app.rs` is the eframe::App; one file per panel.

mod app;
mod batch_bar;
mod batch_dialog;
mod batch_plan;
mod close_guard;
mod compare;
mod desktop;
mod export_dialog;
mod file_dialog;
mod gallery;
mod gallery_layout;
mod gallery_text;
mod history_filters;
mod history_panel;
mod icons;
mod image_menu;
mod input_tray;
mod jobs_strip;
mod library_dialog;
mod lineage_view;
mod markup_painter;
mod mask_painter;
mod paint_canvas;
mod prompt_library;
mod prompt_panel;
mod save_dialog;
mod settings_dialog;
mod shortcuts;
mod state;
mod theme;
mod thinking;
mod thumbs;
mod toasts;
mod viewer;

pub use app::BananaApp;
pub use history_panel::short_session_name;
pub use state::UiState;

use crate::engine::{Engine, EngineConfig, InputSource};
use crate::library::{HistoryQuery, ImageId, JobId, SessionId};
use crate::recipe::{InputImage, Recipe};

/// The app id; matches the desktop file's name (Wayland needs them equal).
pub const APP_ID: &str = "studio.banana.BananaStudio";

/// What a panel (or dialog, or notice) asks the app to do: the one way panels talk to
/// the app, which carries it out after drawing. Panels never call the engine.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Show a thinking model's thoughts while it works (or stop).
    ShowThinking(bool),
    /// Queue a recipe.
    Submit(Recipe),
    /// Cancel a job.
    Cancel(JobId),
    /// Run a job's recipe again.
    Retry(JobId),
    /// Show an image in the viewer.
    Select(ImageId),
    /// Ask where to save an image.
    SaveAs(ImageId),
    /// Read another page of history.
    LoadPage(HistoryQuery),
    /// Read history again with the history panel's search and filters.
    ReloadHistory,
    /// Make a session current and list it.
    SetSession(SessionId),
    /// Start a named session.
    NewSession(String),
    /// Rename a session.
    RenameSession(SessionId, String),
    /// Read the lineage tree of an image.
    LoadLineage(ImageId),
    /// Ask where to save the selected images.
    SaveSelected,
    /// Move the selected images to the trash.
    TrashSelected,
    /// Prepare images as inputs.
    AddInputs(Vec<InputSource>),
    /// Show the Open… dialog for inputs.
    OpenInputs,
    /// Load the preview of a stored input.
    LoadInputPreview(InputImage),
    /// Use a stored result as an input.
    UseAsInput(ImageId),
    /// Make the next generation refine this image.
    StartRefine(ImageId),
    /// Continue from an image with a recipe.
    Refine(ImageId, Recipe),
    /// Repeat a job's recipe with a new seed (Some(n): n variations).
    Regenerate(JobId, Option<u8>),
    /// Run a job's recipe on another provider, to compare side by side.
    SameRecipeOn(JobId, crate::recipe::ProviderId),
    /// List a recipe's runs on every provider side by side (the family's first job).
    ShowSameRecipe(JobId),
    /// Put a recipe read from an exported file in the prompt panel.
    RestoreRecipe(Recipe),
    /// Put a past job's recipe (inputs included) back in the prompt panel.
    UseSettings(JobId),
    /// Copy the shown image to the clipboard.
    CopyImage,
    /// Show an image's file in the file manager.
    Reveal(ImageId),
    /// Put an image file's address on the clipboard, for file managers and browsers.
    CopyFile(ImageId),
    /// Mark one image (rating, flag, favourite), undoable like the culling keys.
    Mark(ImageId, crate::library::Mark),
    /// Move one image to the trash.
    TrashImage(ImageId),
    /// Render a draft's final on the final model and size of Settings.
    RenderFinal(ImageId),
    /// Keep a prompt under a name in the prompt library.
    SavePrompt(crate::recipe::compose::SavedPrompt),
    /// Bring back the last deleted images.
    UndoDelete,
    /// Delete the trash for good.
    EmptyTrash,
    /// Compare an image with what it came from.
    LoadComparison(ImageId),
    /// Decode every pixel of the shown image (the view zoomed past a screen's worth).
    LoadFullImage(ImageId),
    /// Save an image to a file the user chose (Save as…).
    Export(ImageId, std::path::PathBuf),
    /// Open a folder in the file manager (a notice's "Show folder").
    ShowFolder(std::path::PathBuf),
    /// Keep these settings: written to disk, theme set, changed providers reconnected.
    ApplySettings(Box<crate::settings::Settings>),
    /// Keep a provider's key (keychain, else this run) and reconnect it.
    SaveKey(crate::recipe::ProviderId, crate::keys::Secret),
    /// Forget a provider's stored key and reconnect it.
    RemoveKey(crate::recipe::ProviderId),
    /// Test the typed key (or the stored one) through the typed base URL (or the
    /// configured one); the answer shows in the key's row and a toast.
    TestKey {
        /// Which provider.
        provider: crate::recipe::ProviderId,
        /// The key typed, if any.
        key: Option<crate::keys::Secret>,
        /// The base URL typed, if any (checked as Apply would).
        base_url: Option<String>,
    },
    /// Check the whole library (Settings, "Check the library"); progress and the
    /// finding show in the dialog.
    CheckLibrary,
    /// Show the Batch dialog.
    OpenBatch,
    /// Send a prompt batch under a name.
    StartBatch(String, Vec<Recipe>, bool),
    /// Send a batch's requests that made nothing again, as a new batch (deferred or not).
    RerunBatch(crate::library::BatchId, bool),
    /// Send no more of a batch; its running jobs finish.
    PauseBatch(crate::library::BatchId),
    /// Go on sending a paused batch.
    ResumeBatch(crate::library::BatchId),
    /// Send none of the rest of a batch and cancel its running jobs.
    CancelBatch(crate::library::BatchId),
    /// List a batch's results in the history.
    ShowBatch(crate::library::BatchId),
    /// Ask where to save every image of a batch.
    SaveBatch(crate::library::BatchId),
    /// Open the Prompt library dialog on a tab.
    OpenLibrary(crate::library::prompts::PromptKind),
    /// Keep an item of the prompt library (replacing one of its kind and name).
    SavePromptItem(Box<library_dialog::PromptEdit>),
    /// Forget the user's item of a kind and name.
    DeletePromptItem(crate::library::prompts::PromptKind, String),
    /// Read a prompt-library file into the library.
    ImportPromptLibrary(std::path::PathBuf),
    /// Write the prompt library to a file.
    ExportPromptLibrary(std::path::PathBuf),
    /// Make the draft's inputs a new reference set (the dialog asks its name).
    SaveInputsAsSet,
    /// Add a reference set's pictures to the draft's inputs.
    AddReferenceSet(String),
    /// Run a failed job's recipe on the successor of its shut-down model.
    RunOnSuccessor(JobId),
    /// Make a result the first input and open a painter on it.
    DrawOn(ImageId, DrawKind),
    /// Open the mark-up painter on a photo (the first input), with the draft's marks.
    MarkUp(InputImage),
    /// Make the marks the draft's mark-up.
    UseMarkup {
        /// The photo they were drawn on.
        photo: InputImage,
        /// The marks.
        marks: Vec<crate::recipe::drawing::Mark>,
    },
    /// Open the mask painter on a photo (the first input), with the draft's mask.
    PaintMask(InputImage),
    /// Make the painted mask the draft's masked edit.
    UseMask {
        /// The photo it was painted on.
        photo: InputImage,
        /// What was painted.
        drawing: crate::recipe::drawing::MaskDrawing,
        /// How far the edit blends in.
        feather_px: f32,
    },
}

/// Which painter a drawing on a result opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawKind {
    /// The mask painter (masked edit).
    Mask,
    /// The mark-up painter.
    Markup,
}

impl From<crate::notify::Action> for Command {
    fn from(action: crate::notify::Action) -> Self {
        match action {
            crate::notify::Action::Retry(job) => Command::Retry(job),
            crate::notify::Action::ShowFolder(folder) => Command::ShowFolder(folder),
        }
    }
}

/// The window icon: the app icon at 256 px (`assets/icons`, rendered from its SVG).
pub fn app_icon() -> egui::IconData {
    let bytes = include_bytes!("../../assets/icons/banana-studio-256.png");
    match image::load_from_memory(bytes) {
        Ok(decoded) => {
            let rgba = decoded.to_rgba8();
            egui::IconData {
                width: rgba.width(),
                height: rgba.height(),
                rgba: rgba.into_raw(),
            }
        }
        Err(e) => {
            tracing::warn!("the app icon could not be read: {e}");
            egui::IconData::default()
        }
    }
}

/// Where eframe keeps the UI state (layout, draft): `app.ron` in the data folder when one
/// other than the default was given, so two libraries never share a draft; else None,
/// eframe's own place.
pub fn ui_state_file(
    data_dir: &std::path::Path,
    default_dir: &std::path::Path,
) -> Option<std::path::PathBuf> {
    (data_dir != default_dir).then(|| data_dir.join("app.ron"))
}

/// Opens the window; returns the process exit code.
pub fn run(config: EngineConfig) -> i32 {
    // The connections of Settings and the environment are in `config` (cli::Args::engine_config).
    let loaded = crate::settings::Settings::load(&config.data_dir);
    // A library of its own keeps its own draft and layout: eframe's app.ron goes with
    // it when a data folder is given (two libraries never share one draft).
    let persistence_path = ui_state_file(&config.data_dir, &crate::library::default_data_dir());
    let engine = match Engine::start(config) {
        Ok(engine) => engine,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            return 1;
        }
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Banana Studio")
            .with_app_id(APP_ID)
            .with_inner_size([1360.0, 860.0])
            .with_min_inner_size([1024.0, 640.0])
            .with_icon(std::sync::Arc::new(app_icon())),
        persistence_path,
        ..Default::default()
    };
    let result = eframe::run_native(
        "Banana Studio",
        options,
        Box::new(move |cc| {
            let app = BananaApp::with_settings(cc, engine, loaded)
                .with_notices(crate::notify::Notices::global());
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("the window could not open: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_given_data_folder_keeps_its_own_ui_state() {
        let default = std::path::Path::new("/home/u/.local/share/bananastudio");
        let other = std::path::Path::new("/tmp/client-library");
        assert_eq!(
            super::ui_state_file(other, default),
            Some(other.join("app.ron"))
        );
        assert_eq!(super::ui_state_file(default, default), None);
    }

    #[test]
    fn the_window_icon_is_the_256_px_app_icon() {
        let icon = super::app_icon();
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
        // Opaque banana yellow somewhere, transparent corners.
        assert_eq!(icon.rgba[3], 0, "the corner is transparent");
    }

    #[test]
    fn the_desktop_file_matches_the_app_id() {
        // Wayland matches the window to its desktop file by this id.
        let desktop = include_str!("../../packaging/linux/studio.banana.BananaStudio.desktop");
        assert!(desktop.contains(&format!("Icon={}\n", super::APP_ID)));
        assert!(desktop.contains(&format!("StartupWMClass={}\n", super::APP_ID)));
        assert!(desktop.contains("Exec=banana-studio\n"));
    }

    #[test]
    fn the_macos_bundle_and_windows_resources_match_the_app() {
        let plist = include_str!("../../packaging/macos/Info.plist");
        let value = |key: &str| {
            let at = plist
                .find(&format!("<key>{key}</key>"))
                .unwrap_or_else(|| panic!("{key}"));
            let rest = &plist[at..];
            let start = rest.find("<string>").unwrap() + "<string>".len();
            let end = rest.find("</string>").unwrap();
            rest[start..end].to_owned()
        };
        assert_eq!(value("CFBundleIdentifier"), super::APP_ID);
        assert_eq!(value("CFBundleExecutable"), "banana-studio");
        assert_eq!(
            value("CFBundleShortVersionString"),
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(value("CFBundleVersion"), env!("CARGO_PKG_VERSION"));
        let icon = format!("../../packaging/macos/{}.icns", value("CFBundleIconFile"));
        let icns = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/gui")
            .join(icon);
        let bytes = std::fs::read(&icns).unwrap();
        assert_eq!(&bytes[..4], b"icns", "{} is an icon set", icns.display());
        let rc = include_str!("../../packaging/windows/banana-studio.rc");
        assert!(rc.contains("1 ICON \"assets/icons/banana-studio.ico\""));
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/icons/banana-studio.ico")
                .is_file()
        );
    }
}
