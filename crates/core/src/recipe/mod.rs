//! What to make: the recipe, its option types, the model catalog, validation and cost.
//!
//! Pure: no IO and no async. Everything else in the crate builds on these types.

pub mod batch_list;
mod catalog;
pub mod compose;
pub mod drawing;
mod translate;
mod types;
mod validate;

pub use catalog::{Catalog, CatalogError, LiveModel, ModelInfo, ModelStatus, TokenRates, Usage};
pub use types::{
    AspectRatio, Grounding, ImageSize, InputImage, OutputFormat, ParseError, ProviderId, Search,
    Source, ThinkingLevel,
};
pub use validate::{CostEstimate, ValidationError, no_size_reason, ratio_reason};

use serde::{Deserialize, Serialize};

/// The longest side a prompt preview is cut to in lists and file names.
pub const PROMPT_PREVIEW_CHARS: usize = 80;

/// Everything needed to ask a provider for images, and to ask again later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// What to draw or change, in the user's words.
    pub prompt: String,
    /// Which service to ask.
    pub provider: ProviderId,
    /// The provider's own model id (the plain one; edit variants are picked when sending).
    pub model: String,
    /// Shape of the output; `Auto` follows the first input, or 1:1.
    pub aspect: AspectRatio,
    /// File format the images are saved in.
    pub format: OutputFormat,
    /// How many images, 1 to 4.
    pub count: u8,
    /// Output size for models that take one.
    pub size: Option<ImageSize>,
    /// Seed for models that honour one.
    pub seed: Option<u64>,
    /// How long the model thinks, where it lets you choose (None: its own default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingLevel>,
    /// Google Search grounding, where the model has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<Search>,
    /// Input images (edits), by content hash in the library.
    #[serde(default)]
    pub inputs: Vec<InputImage>,
    /// How the prompt was put together from the prompt library, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composition: Option<compose::Composition>,
    /// A masked edit of the first input: only the mask's white region changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskSpec>,
    /// Marks drawn on the first input to show where and what to change: the marked-up
    /// copy goes with the photo as a guide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markup: Option<drawing::MarkupSpec>,
    /// The draft image this recipe renders the final of ("Render final").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_of: Option<i64>,
}

/// The mask of a masked edit: white = change, black = keep, at the first input's size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaskSpec {
    /// The mask as a stored image (a grey PNG, by content hash), at the original's size.
    pub image: InputImage,
    /// The photo as it came, kept losslessly (a PNG): what the answer is put back into.
    /// The first input is the copy prepared for sending, which may be smaller or lossy.
    pub original: InputImage,
    /// How many pixels the edit blends into what is kept around it.
    pub feather_px: f32,
    /// The painted shapes the mask was made from, when it was painted in the app: kept
    /// so the mask can be edited and sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawing: Option<drawing::MaskDrawing>,
}

impl Recipe {
    /// A recipe with the provider's default model and the usual options.
    pub fn new(prompt: impl Into<String>, provider: ProviderId, catalog: &Catalog) -> Self {
        let model = catalog
            .default_model(provider)
            .map(|m| m.id.clone())
            .unwrap_or_default();
        let size = catalog.model(provider, &model).and_then(|m| m.default_size);
        Self {
            prompt: prompt.into(),
            provider,
            model,
            aspect: AspectRatio::Ratio(1, 1),
            format: OutputFormat::Png,
            count: 1,
            size,
            seed: None,
            inputs: Vec::new(),
            composition: None,
            mask: None,
            markup: None,
            thinking: None,
            search: None,
            final_of: None,
        }
    }

    /// True when the recipe changes input images rather than drawing from nothing.
    pub fn is_edit(&self) -> bool {
        !self.inputs.is_empty()
    }

    /// The size actually asked for: the recipe's, else the model's default.
    pub fn effective_size(&self, catalog: &Catalog) -> Option<ImageSize> {
        let model = catalog.model(self.provider, &self.model)?;
        if model.sizes.is_empty() {
            None
        } else {
            self.size.or(model.default_size)
        }
    }

    /// A one-line preview of the prompt for lists.
    pub fn prompt_preview(&self) -> String {
        preview(&self.prompt, PROMPT_PREVIEW_CHARS)
    }
}

/// Cuts `text` to at most `max_chars` characters on one line, adding an ellipsis.
pub fn preview(text: &str, max_chars: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max_chars {
        one_line
    } else {
        let cut: String = one_line.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
