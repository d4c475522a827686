//! What the app remembers between runs: UI choices and the draft, never secrets.

use serde::{Deserialize, Serialize};

use crate::library::ImageId;
use crate::recipe::{Catalog, ProviderId, Recipe};

/// The template, styles and brand kit picked in the prompt panel, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LibraryChoice {
    /// The template, if one is used.
    pub template: Option<String>,
    /// The value of each of its slots.
    pub values: std::collections::BTreeMap<String, String>,
    /// The styles, in the order they are said.
    pub styles: Vec<String>,
    /// The active brand kit.
    pub brand: Option<String>,
    /// The structured prompt's sections, when it is used instead of a template.
    pub structured: Option<crate::recipe::compose::Structured>,
}

/// The eframe storage key.
pub const STORAGE_KEY: &str = "banana-studio-ui";

/// Saved UI state: the draft recipe (so a prompt is never lost) and control choices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    /// The recipe being composed in the prompt panel.
    pub draft: Recipe,
    /// Whether the seed is fixed.
    pub seed_fixed: bool,
    /// Thumbnail edge in the gallery, in points.
    pub thumb_size: f32,
    /// The image the next generation refines, if any.
    pub refine_from: Option<ImageId>,
    /// The size the user last picked: a model that cannot make it lowers the size, and
    /// the next model that can gets it back.
    pub wanted_size: Option<crate::recipe::ImageSize>,
    /// The aspect ratio the user last picked, kept the same way.
    pub wanted_aspect: Option<crate::recipe::AspectRatio>,
    /// What a model switch changed in the recipe, in words, until the next change.
    #[serde(skip)]
    pub adjusted: Option<String>,
    /// The name being typed for the prompt to save, while its field is open.
    #[serde(skip)]
    pub naming_prompt: Option<String>,
    /// Words to find a saved prompt by (name or text), while its menu is open.
    #[serde(skip)]
    pub saved_search: String,
    /// What the prompt library adds to the typed prompt.
    pub library: LibraryChoice,
    /// The input (by hash) the draft's mask was painted on: a mask goes with its photo.
    pub mask_for: Option<String>,
    /// Whether thoughts show while a thinking model works (Settings hold it; copied
    /// here for the prompt panel each frame).
    #[serde(skip)]
    pub show_thinking: bool,
    /// Whether the prompt panel is shown.
    pub prompt_panel_open: bool,
    /// Whether the history panel is shown.
    pub gallery_panel_open: bool,
}

impl UiState {
    /// The first state: a draft on the settings' default provider and model.
    pub fn starting_with(settings: &crate::settings::Settings, catalog: &Catalog) -> Self {
        let mut state = Self {
            draft: Recipe::new("", settings.default_provider, catalog),
            ..Self::default()
        };
        if let Some(model) = &settings.default_model
            && catalog.model(settings.default_provider, model).is_some()
        {
            state.draft.model = model.clone();
        }
        state
    }
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            draft: Recipe::new("", ProviderId::Gemini, &Catalog::bundled()),
            seed_fixed: false,
            thumb_size: 128.0,
            refine_from: None,
            wanted_size: None,
            wanted_aspect: None,
            adjusted: None,
            naming_prompt: None,
            saved_search: String::new(),
            mask_for: None,
            show_thinking: true,
            library: LibraryChoice::default(),
            prompt_panel_open: true,
            gallery_panel_open: true,
        }
    }
}
