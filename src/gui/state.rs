//! What the app remembers between runs: UI choices and the draft, never secrets.

use serde::{Deserialize, Serialize};

use std::path::PathBuf;

use crate::library::ImageId;
use crate::library::export::DEFAULT_TEMPLATE;
use crate::recipe::{Catalog, ProviderId, Recipe};

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
    /// The folder "Save selected to folder…" used last.
    pub export_folder: Option<PathBuf>,
    /// The file-name template used last.
    pub export_template: String,
    /// Whether exports carry the recipe.
    pub embed_metadata: bool,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            draft: Recipe::new("", ProviderId::Gemini, &Catalog::bundled()),
            seed_fixed: false,
            thumb_size: 128.0,
            refine_from: None,
            export_folder: None,
            export_template: DEFAULT_TEMPLATE.to_owned(),
            embed_metadata: true,
        }
    }
}
