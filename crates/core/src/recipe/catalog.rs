//! The model catalog: `assets/models.toml`, merged with what a provider lists live.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::types::{AspectRatio, ImageSize, ProviderId, ThinkingLevel};

/// The catalog as shipped with the app.
const BUNDLED: &str = include_str!("../../assets/models.toml");

/// A catalog file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The TOML did not parse.
    #[error("the model catalog is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// A field held a value we do not know.
    #[error("the model catalog entry {model} is invalid: {reason}")]
    Invalid {
        /// Which model.
        model: String,
        /// What is wrong.
        reason: String,
    },
}

/// Where a model is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelStatus {
    /// Generally available.
    Ga,
    /// Preview: may change or go away.
    Preview,
    /// Still answering, but a shutdown is announced.
    Deprecated,
    /// Gone: requests answer 404.
    Retired,
}

impl ModelStatus {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "ga" => Some(ModelStatus::Ga),
            "preview" => Some(ModelStatus::Preview),
            "deprecated" => Some(ModelStatus::Deprecated),
            "retired" => Some(ModelStatus::Retired),
            _ => None,
        }
    }

    /// A short word for lists.
    pub fn label(self) -> &'static str {
        match self {
            ModelStatus::Ga => "",
            ModelStatus::Preview => "preview",
            ModelStatus::Deprecated => "deprecated",
            ModelStatus::Retired => "retired",
        }
    }
}

/// What one model can do and what it costs.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// Who serves it.
    pub provider: ProviderId,
    /// The provider's own id.
    pub id: String,
    /// The variant used for edits, when the provider has a separate one.
    pub edit_id: Option<String>,
    /// The name people know ("Nano Banana Pro").
    pub brand: String,
    /// Life-cycle status.
    pub status: ModelStatus,
    /// A note shown next to the model.
    pub status_note: String,
    /// The provider's default model.
    pub is_default: bool,
    /// Aspect ratios besides auto.
    pub ratios: Vec<AspectRatio>,
    /// Sizes; empty when the model takes none.
    pub sizes: Vec<ImageSize>,
    /// The size used when a recipe names none.
    pub default_size: Option<ImageSize>,
    /// Input images per request.
    pub max_inputs: u32,
    /// Whether it only edits: a recipe without an input image is refused.
    pub edit_only: bool,
    /// Whether a seed is honoured.
    pub seed: bool,
    /// Whether the model thinks and signs its turns (signatures must come back).
    pub thinking: bool,
    /// The thinking levels it lets you choose (empty: none, or always on when it thinks).
    pub thinking_levels: Vec<ThinkingLevel>,
    /// The kinds of Google Search grounding it takes ("web", "image").
    pub grounding: Vec<String>,
    /// The model that takes its place when it shuts down (its id, same provider).
    pub successor: Option<String>,
    /// Output tokens per image, by size ("base" when the model has no sizes).
    pub image_tokens: BTreeMap<String, u32>,
    /// Dollars per million tokens, when the service bills by token.
    pub rates: Option<TokenRates>,
    /// Longest prompt accepted, in characters.
    pub max_prompt_chars: usize,
    /// Price per output image by size ("base" when the model has no sizes).
    pub price_usd: BTreeMap<String, f64>,
    /// Price per input image.
    pub input_price_usd: f64,
    /// Credits per image, for credit-priced providers.
    pub credits: Option<u32>,
    /// Output pixel size per ratio at 1K (or the only size).
    pub pixels: Vec<(AspectRatio, (u32, u32))>,
    /// Whether the provider's live list has it: `None` until asked.
    pub live: Option<bool>,
}

impl ModelInfo {
    /// Whether it thinks before it draws (always, or at a level one picks), so that
    /// its thoughts can be shown.
    pub fn thinks(&self) -> bool {
        self.thinking || !self.thinking_levels.is_empty()
    }

    /// How long one attempt at an image of this model and size may take before we give
    /// up on it: a 1K Flash image comes in seconds, a 4K Pro one can take minutes. Two
    /// attempts at most follow a timeout, so a silent service ends a 1K Flash job in
    /// under 2 minutes and a 4K Pro job in under 6.
    pub fn attempt_deadline(&self, size: Option<ImageSize>) -> std::time::Duration {
        let pro = self.brand.contains("Pro");
        let secs = match (pro, size) {
            (true, Some(ImageSize::K4)) => 170,
            (true, Some(ImageSize::K2)) => 120,
            (true, _) => 90,
            (false, Some(ImageSize::K4)) => 100,
            (false, Some(ImageSize::K2)) => 70,
            (false, _) => 50,
        };
        std::time::Duration::from_secs(secs)
    }

    /// Whether the model takes this aspect ratio (auto is always taken).
    pub fn takes_ratio(&self, aspect: AspectRatio) -> bool {
        aspect == AspectRatio::Auto || self.ratios.contains(&aspect)
    }

    /// The output pixel size for a ratio and size, from the model's table.
    pub fn pixel_size(&self, aspect: AspectRatio, size: Option<ImageSize>) -> Option<(u32, u32)> {
        let (_, (w, h)) = *self.pixels.iter().find(|(a, _)| *a == aspect)?;
        let (num, den) = size.map_or((1, 1), ImageSize::scale);
        Some((w * num / den, h * num / den))
    }

    /// The price of one output image at a size.
    pub fn price_per_image(&self, size: Option<ImageSize>) -> Option<f64> {
        let key = size.map_or("base", ImageSize::as_str);
        self.price_usd
            .get(key)
            .or_else(|| self.price_usd.get("base"))
            .copied()
    }

    /// The id to send: the edit variant when there are inputs and the provider has one.
    pub fn request_id(&self, is_edit: bool) -> &str {
        match (&self.edit_id, is_edit) {
            (Some(edit), true) => edit,
            _ => &self.id,
        }
    }

    /// "Nano Banana Pro (gemini-3-pro-image)".
    pub fn display_name(&self) -> String {
        format!("{} ({})", self.brand, self.id)
    }
}

/// What a model's tokens cost, in dollars per million.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct TokenRates {
    /// Output image tokens.
    pub image: f64,
    /// Prompt tokens (text and input images).
    pub text_in: f64,
    /// Output text and thought tokens.
    pub text_out: f64,
}

/// What a call used, as the service reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Prompt tokens (text and input images).
    pub prompt_tokens: u64,
    /// Output image tokens.
    pub image_tokens: u64,
    /// Output text tokens.
    pub text_tokens: u64,
    /// Thought tokens.
    pub thought_tokens: u64,
}

impl Usage {
    /// Adds another call's usage.
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.image_tokens += other.image_tokens;
        self.text_tokens += other.text_tokens;
        self.thought_tokens += other.thought_tokens;
    }

    /// What it cost at these rates: image tokens at the image rate, text and thought
    /// tokens at the output rate, prompt tokens at the input rate.
    pub fn cost_usd(&self, rates: &TokenRates) -> f64 {
        let m = 1_000_000.0;
        self.image_tokens as f64 * rates.image / m
            + (self.text_tokens + self.thought_tokens) as f64 * rates.text_out / m
            + self.prompt_tokens as f64 * rates.text_in / m
    }
}

/// A model as a provider lists it live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveModel {
    /// The model id without any `models/` prefix.
    pub id: String,
    /// The provider's display name.
    pub display_name: String,
    /// Whether it can be called with the method we use.
    pub generates: bool,
}

/// Every known model of every provider.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    models: Vec<ModelInfo>,
}

#[derive(Deserialize)]
struct RawCatalog {
    model: Vec<RawModel>,
}

#[derive(Deserialize)]
struct RawModel {
    provider: ProviderId,
    id: String,
    edit_id: Option<String>,
    brand: String,
    status: String,
    #[serde(default)]
    status_note: String,
    #[serde(default)]
    default: bool,
    ratios: Option<Vec<String>>,
    #[serde(default)]
    sizes: Vec<String>,
    default_size: Option<String>,
    max_inputs: u32,
    #[serde(default)]
    edit_only: bool,
    #[serde(default)]
    seed: bool,
    #[serde(default)]
    thinking: bool,
    #[serde(default)]
    thinking_levels: Vec<String>,
    #[serde(default)]
    grounding: Vec<String>,
    successor: Option<String>,
    #[serde(default)]
    image_tokens: BTreeMap<String, u32>,
    rates: Option<TokenRates>,
    max_prompt_chars: usize,
    #[serde(default)]
    price_usd: BTreeMap<String, f64>,
    #[serde(default)]
    input_price_usd: f64,
    credits: Option<u32>,
    #[serde(default)]
    pixels: BTreeMap<String, [u32; 2]>,
}

impl RawModel {
    fn into_info(self) -> Result<ModelInfo, CatalogError> {
        let invalid = |reason: String| CatalogError::Invalid {
            model: self.id.clone(),
            reason,
        };
        let status = ModelStatus::parse(&self.status)
            .ok_or_else(|| invalid(format!("unknown status {}", self.status)))?;
        let ratios = match &self.ratios {
            None => AspectRatio::CLASSIC.to_vec(),
            Some(list) => list
                .iter()
                .map(|r| r.parse().map_err(|e| invalid(format!("{e}"))))
                .collect::<Result<_, _>>()?,
        };
        let sizes = self
            .sizes
            .iter()
            .map(|s| s.parse().map_err(|e| invalid(format!("{e}"))))
            .collect::<Result<Vec<ImageSize>, _>>()?;
        let default_size = match &self.default_size {
            Some(s) => Some(s.parse().map_err(|e| invalid(format!("{e}")))?),
            None => None,
        };
        let thinking_levels = self
            .thinking_levels
            .iter()
            .map(|l| l.parse().map_err(|e| invalid(format!("{e}"))))
            .collect::<Result<Vec<ThinkingLevel>, _>>()?;
        if let Some(kind) = self
            .grounding
            .iter()
            .find(|g| !["web", "image"].contains(&g.as_str()))
        {
            return Err(invalid(format!("unknown grounding kind {kind}")));
        }
        let pixels = self
            .pixels
            .iter()
            .map(|(r, [w, h])| {
                r.parse()
                    .map(|a| (a, (*w, *h)))
                    .map_err(|e| invalid(format!("{e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(ModelInfo {
            provider: self.provider,
            id: self.id,
            edit_id: self.edit_id,
            brand: self.brand,
            status,
            status_note: self.status_note,
            is_default: self.default,
            ratios,
            sizes,
            default_size,
            max_inputs: self.max_inputs,
            edit_only: self.edit_only,
            seed: self.seed,
            thinking: self.thinking,
            thinking_levels,
            grounding: self.grounding,
            successor: self.successor,
            image_tokens: self.image_tokens,
            rates: self.rates,
            max_prompt_chars: self.max_prompt_chars,
            price_usd: self.price_usd,
            input_price_usd: self.input_price_usd,
            credits: self.credits,
            pixels,
            live: None,
        })
    }
}

impl Catalog {
    /// The catalog shipped in `assets/models.toml`.
    pub fn bundled() -> Self {
        // Parsed once per process. The bundled file is checked by a unit test, so this
        // cannot fail in a release.
        static BUNDLED_CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        BUNDLED_CATALOG
            .get_or_init(|| {
                Self::from_toml(BUNDLED).unwrap_or_else(|_| Catalog { models: Vec::new() })
            })
            .clone()
    }

    /// Parses a catalog file.
    pub fn from_toml(text: &str) -> Result<Self, CatalogError> {
        let raw: RawCatalog = toml::from_str(text)?;
        let models = raw
            .model
            .into_iter()
            .map(RawModel::into_info)
            .collect::<Result<_, _>>()?;
        Ok(Catalog { models })
    }

    /// Every model.
    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    /// The models of one provider.
    pub fn models_of(&self, provider: ProviderId) -> impl Iterator<Item = &ModelInfo> {
        self.models.iter().filter(move |m| m.provider == provider)
    }

    /// One model by provider and id (the edit variant's id also finds it).
    pub fn model(&self, provider: ProviderId, id: &str) -> Option<&ModelInfo> {
        self.models_of(provider)
            .find(|m| m.id == id || m.edit_id.as_deref() == Some(id))
    }

    /// The model that takes `model`'s place: its successor, followed while that one is
    /// retired too.
    pub fn successor(&self, model: &ModelInfo) -> Option<&ModelInfo> {
        let mut next = self.model(model.provider, model.successor.as_deref()?)?;
        for _ in 0..8 {
            if next.status != ModelStatus::Retired {
                return Some(next);
            }
            next = self.model(next.provider, next.successor.as_deref()?)?;
        }
        None
    }

    /// The provider's default model.
    pub fn default_model(&self, provider: ProviderId) -> Option<&ModelInfo> {
        self.models_of(provider)
            .find(|m| m.is_default)
            .or_else(|| self.models_of(provider).next())
    }

    /// Merges a provider's live list: marks which catalog models it has, and adds
    /// image models the catalog does not know (with cautious capabilities).
    pub fn merge_live(&mut self, provider: ProviderId, live: &[LiveModel]) {
        for model in self.models.iter_mut().filter(|m| m.provider == provider) {
            model.live = Some(live.iter().any(|l| l.id == model.id && l.generates));
        }
        for l in live {
            let is_image_model = l.generates && l.id.contains("image");
            if is_image_model && self.model(provider, &l.id).is_none() {
                self.models.push(ModelInfo {
                    provider,
                    id: l.id.clone(),
                    edit_id: None,
                    brand: l.display_name.clone(),
                    status: ModelStatus::Preview,
                    status_note:
                        "listed by the service; not in our catalog, so options are cautious"
                            .to_owned(),
                    is_default: false,
                    ratios: AspectRatio::CLASSIC.to_vec(),
                    sizes: Vec::new(),
                    default_size: None,
                    max_inputs: 3,
                    edit_only: false,
                    seed: false,
                    thinking: false,
                    thinking_levels: Vec::new(),
                    grounding: Vec::new(),
                    successor: None,
                    image_tokens: BTreeMap::new(),
                    rates: None,
                    max_prompt_chars: 30_000,
                    price_usd: BTreeMap::new(),
                    input_price_usd: 0.0,
                    credits: None,
                    pixels: Vec::new(),
                    live: Some(true),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalog_parses_and_lists_every_table_model() {
        let catalog = Catalog::from_toml(BUNDLED).unwrap();
        for id in [
            "gemini-2.5-flash-image",
            "gemini-3-pro-image",
            "gemini-3-pro-image-preview",
            "gemini-3.1-flash-image-preview",
            "gemini-nano-banana-2.1",
            "gemini-3.1-flash-lite-image",
        ] {
            assert!(
                catalog.model(ProviderId::Gemini, id).is_some(),
                "{id} missing"
            );
        }
        for p in ProviderId::ALL {
            assert!(catalog.default_model(p).is_some(), "{p} has no default");
        }
    }

    #[test]
    fn pixel_table_scales_with_size() {
        let catalog = Catalog::bundled();
        let pro = catalog
            .model(ProviderId::Gemini, "gemini-3-pro-image")
            .unwrap();
        let wide = AspectRatio::Ratio(16, 9);
        assert_eq!(pro.pixel_size(wide, Some(ImageSize::K1)), Some((1376, 768)));
        assert_eq!(
            pro.pixel_size(wide, Some(ImageSize::K2)),
            Some((2752, 1536))
        );
        assert_eq!(
            pro.pixel_size(wide, Some(ImageSize::K4)),
            Some((5504, 3072))
        );
        let flash = catalog
            .model(ProviderId::Gemini, "gemini-2.5-flash-image")
            .unwrap();
        assert_eq!(
            flash.pixel_size(AspectRatio::Ratio(21, 9), None),
            Some((1536, 672))
        );
    }

    #[test]
    fn live_list_marks_and_adds_models() {
        let mut catalog = Catalog::bundled();
        catalog.merge_live(
            ProviderId::Gemini,
            &[
                LiveModel {
                    id: "gemini-3-pro-image".into(),
                    display_name: "Nano Banana Pro".into(),
                    generates: true,
                },
                LiveModel {
                    id: "gemini-9-image".into(),
                    display_name: "Future".into(),
                    generates: true,
                },
                LiveModel {
                    id: "text-embedding-004".into(),
                    display_name: "Embedding".into(),
                    generates: false,
                },
            ],
        );
        let pro = catalog
            .model(ProviderId::Gemini, "gemini-3-pro-image")
            .unwrap();
        assert_eq!(pro.live, Some(true));
        let flash = catalog
            .model(ProviderId::Gemini, "gemini-2.5-flash-image")
            .unwrap();
        assert_eq!(flash.live, Some(false));
        assert!(
            catalog
                .model(ProviderId::Gemini, "gemini-9-image")
                .is_some()
        );
        assert!(
            catalog
                .model(ProviderId::Gemini, "text-embedding-004")
                .is_none()
        );
    }
}

#[cfg(test)]
mod deadline_tests {
    use super::*;

    #[test]
    fn deadlines_fit_the_model_and_size() {
        let catalog = Catalog::bundled();
        let pro = catalog
            .model(ProviderId::Gemini, "gemini-3-pro-image")
            .unwrap_or_else(|| panic!("no Pro"));
        let flash = catalog
            .model(ProviderId::Gemini, "gemini-2.5-flash-image")
            .unwrap_or_else(|| panic!("no Flash"));
        // Two attempts and the backoff between them stay inside the bounds.
        assert!(flash.attempt_deadline(None).as_secs() * 2 + 5 <= 120);
        assert!(pro.attempt_deadline(Some(ImageSize::K4)).as_secs() * 2 + 5 <= 360);
        assert!(
            pro.attempt_deadline(Some(ImageSize::K4)) > pro.attempt_deadline(Some(ImageSize::K1))
        );
        assert!(pro.attempt_deadline(Some(ImageSize::K1)) > flash.attempt_deadline(None));
    }
}
