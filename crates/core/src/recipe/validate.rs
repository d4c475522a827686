//! Checks a recipe against its model's capabilities, and estimates its cost.

use super::Recipe;
use super::catalog::{Catalog, ModelInfo, ModelStatus};
use super::types::{AspectRatio, ImageSize};

/// Why a recipe cannot be sent, naming the field to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The recipe field at fault ("prompt", "model", "aspect", "size", "count", "inputs").
    pub field: &'static str,
    /// What is wrong and what to do instead, in plain words.
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// What a recipe will cost, before sending.
#[derive(Clone, Debug, PartialEq)]
pub struct CostEstimate {
    /// US dollars, when the price is known.
    pub usd: Option<f64>,
    /// Credits, for credit-priced providers.
    pub credits: Option<u32>,
}

impl CostEstimate {
    /// "$0.27" or "16 credits" or "price unknown".
    pub fn label(&self) -> String {
        match (self.usd, self.credits) {
            (_, Some(c)) => format!("{c} credits"),
            (Some(usd), None) => format!("${usd:.3}"),
            (None, None) => "price unknown".to_owned(),
        }
    }
}

/// The brands of a provider's usable models that satisfy `keep`, joined with "or".
fn brands_where(catalog: &Catalog, model: &ModelInfo, keep: impl Fn(&ModelInfo) -> bool) -> String {
    let names: Vec<String> = catalog
        .models_of(model.provider)
        .filter(|m| m.status != ModelStatus::Retired && keep(m))
        .map(|m| m.brand.clone())
        .collect();
    names.join(" or ")
}

/// Why `model` takes no size, naming the models of its provider that take `size`.
pub fn no_size_reason(catalog: &Catalog, model: &ModelInfo, size: ImageSize) -> String {
    let others = brands_where(catalog, model, |m| m.sizes.contains(&size));
    if others.is_empty() {
        format!("{} does not take a size; leave the size empty", model.brand)
    } else {
        format!(
            "{} does not take a size; pick {others} for {size}",
            model.brand
        )
    }
}

/// Why `model` does not take `aspect`, naming the models of its provider that do.
pub fn ratio_reason(catalog: &Catalog, model: &ModelInfo, aspect: AspectRatio) -> String {
    let others = brands_where(catalog, model, |m| m.takes_ratio(aspect));
    if others.is_empty() {
        let takes: Vec<String> = model.ratios.iter().map(ToString::to_string).collect();
        format!(
            "{} does not take {aspect}; pick one of {}",
            model.brand,
            takes.join(", ")
        )
    } else {
        format!("{} does not take {aspect}; {others} does", model.brand)
    }
}

fn list_sizes(sizes: &[ImageSize]) -> String {
    let names: Vec<&str> = sizes.iter().map(|s| s.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

impl Recipe {
    /// Checks every field against the model; the first problem names its field.
    pub fn validate(&self, catalog: &Catalog) -> Result<(), ValidationError> {
        let Some(model) = catalog.model(self.provider, &self.model) else {
            let known: Vec<&str> = catalog
                .models_of(self.provider)
                .filter(|m| m.status != ModelStatus::Retired)
                .map(|m| m.id.as_str())
                .collect();
            return Err(ValidationError::new(
                "model",
                format!(
                    "{} has no model '{}'; pick one of {}",
                    self.provider.label(),
                    self.model,
                    known.join(", ")
                ),
            ));
        };
        if model.status == ModelStatus::Retired {
            // One hint: the successor the note names ("...; use Nano Banana 2.1") when the
            // catalog has it, else the provider's default.
            let (when, named) = match model.status_note.split_once("; use ") {
                Some((when, named)) => (when, Some(named.trim())),
                None => (model.status_note.as_str(), None),
            };
            let replacement = catalog
                .successor(model)
                .or_else(|| {
                    named.and_then(|n| {
                        catalog.models_of(self.provider).find(|m| {
                            m.status != ModelStatus::Retired && (m.brand == n || m.id == n)
                        })
                    })
                })
                .or_else(|| catalog.default_model(self.provider));
            let pick =
                replacement.map_or_else(String::new, |r| format!("; use {} ({})", r.id, r.brand));
            return Err(ValidationError::new(
                "model",
                format!("{} is retired ({when}){pick}", model.id),
            ));
        }
        let prompt = self.prompt.trim();
        if prompt.is_empty() {
            return Err(ValidationError::new(
                "prompt",
                "the prompt is empty; describe the image you want",
            ));
        }
        let chars = self.prompt.chars().count();
        if chars > model.max_prompt_chars {
            return Err(ValidationError::new(
                "prompt",
                format!(
                    "the prompt is {chars} characters; {} takes at most {}, so shorten it by {}",
                    model.brand,
                    model.max_prompt_chars,
                    chars - model.max_prompt_chars
                ),
            ));
        }
        if !(1..=4).contains(&self.count) {
            return Err(ValidationError::new(
                "count",
                format!("{} images asked; pick 1 to 4", self.count),
            ));
        }
        if !model.takes_ratio(self.aspect) {
            return Err(ValidationError::new(
                "aspect",
                ratio_reason(catalog, model, self.aspect),
            ));
        }
        if let Some(size) = self.size {
            if model.sizes.is_empty() {
                return Err(ValidationError::new(
                    "size",
                    no_size_reason(catalog, model, size),
                ));
            }
            if !model.sizes.contains(&size) {
                return Err(ValidationError::new(
                    "size",
                    format!(
                        "{} does not take {size}; pick {}",
                        model.brand,
                        list_sizes(&model.sizes)
                    ),
                ));
            }
        }
        if model.edit_only && self.inputs.is_empty() {
            return Err(ValidationError::new(
                "inputs",
                format!(
                    "{} on {} only edits photos: add an input image, or pick another model",
                    model.brand,
                    model.provider.label()
                ),
            ));
        }
        let max_inputs = model.max_inputs as usize;
        if self.inputs.len() > max_inputs {
            return Err(ValidationError::new(
                "inputs",
                format!(
                    "{} takes at most {max_inputs} input images; remove {}",
                    model.brand,
                    self.inputs.len() - max_inputs
                ),
            ));
        }
        if let Some(level) = self.thinking
            && !model.thinking_levels.contains(&level)
        {
            let message = if model.thinking_levels.is_empty() && model.thinking {
                format!(
                    "{} always thinks and takes no thinking level; leave it at the model's own",
                    model.brand
                )
            } else if model.thinking_levels.is_empty() {
                format!(
                    "{} takes no thinking level; leave it at the model's own",
                    model.brand
                )
            } else {
                let levels: Vec<&str> = model.thinking_levels.iter().map(|l| l.as_str()).collect();
                format!(
                    "{} does not take thinking {level}; pick {}",
                    model.brand,
                    levels.join(", ")
                )
            };
            return Err(ValidationError::new("thinking", message));
        }
        if let Some(search) = self.search
            && let Some(kind) = search
                .kinds()
                .iter()
                .find(|k| !model.grounding.iter().any(|g| g == *k))
        {
            let message = if model.grounding.is_empty() {
                format!(
                    "{} cannot search; pick Nano Banana 2.1 or Pro to ground on Google Search",
                    model.brand
                )
            } else {
                format!(
                    "{} has no {kind} search; it searches {}",
                    model.brand,
                    model.grounding.join(" and ")
                )
            };
            return Err(ValidationError::new("search", message));
        }
        if self.mask.is_some() && self.markup.is_some() {
            return Err(ValidationError::new(
                "inputs",
                "a masked edit and mark-up cannot go together; remove the mask or the marks",
            ));
        }
        if let Some(markup) = &self.markup {
            if self.inputs.first().map(|i| &i.sha256) != Some(&markup.photo) {
                return Err(ValidationError::new(
                    "inputs",
                    "the marks were drawn on another photo; draw them again on the first input",
                ));
            }
            if max_inputs == 0 {
                return Err(ValidationError::new(
                    "inputs",
                    format!("{} takes no input images, so no marks", model.brand),
                ));
            }
        }
        Ok(())
    }

    /// The expected cost of sending this recipe.
    pub fn estimate_cost(&self, catalog: &Catalog) -> CostEstimate {
        let Some(model) = catalog.model(self.provider, &self.model) else {
            return CostEstimate {
                usd: None,
                credits: None,
            };
        };
        let count = f64::from(self.count);
        let size = self.effective_size(catalog);
        let usd = model.price_per_image(size).map(|per_image| {
            // Each parallel request carries the inputs again.
            let inputs = model.input_price_usd * self.inputs.len() as f64;
            (per_image + inputs) * count
        });
        CostEstimate {
            usd,
            credits: model.credits.map(|c| c * u32::from(self.count)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::{AspectRatio, InputImage, ProviderId};

    fn recipe(model: &str) -> Recipe {
        let catalog = Catalog::bundled();
        let mut r = Recipe::new("a banana on the moon", ProviderId::Gemini, &catalog);
        r.model = model.to_owned();
        r.size = None;
        r
    }

    #[test]
    fn flash_with_a_size_names_the_field_and_suggests_pro() {
        let mut r = recipe("gemini-2.5-flash-image");
        r.size = Some(ImageSize::K2);
        let err = r.validate(&Catalog::bundled()).unwrap_err();
        assert_eq!(err.field, "size");
        assert!(
            err.message
                .starts_with("Nano Banana does not take a size; pick Nano Banana 2.1"),
            "{}",
            err.message
        );
        assert!(err.message.ends_with("for 2K"), "{}", err.message);
    }

    #[test]
    fn wrong_size_lists_the_sizes_the_model_takes() {
        let mut r = recipe("gemini-nano-banana-2.1");
        r.size = Some(ImageSize::S512);
        let err = r.validate(&Catalog::bundled()).unwrap_err();
        assert_eq!(
            err.message,
            "Nano Banana 2.1 does not take 512; pick 1K, 2K or 4K"
        );
    }

    #[test]
    fn extra_ratio_only_on_models_that_declare_it() {
        let mut r = recipe("gemini-3-pro-image");
        r.aspect = AspectRatio::Ratio(1, 4);
        let err = r.validate(&Catalog::bundled()).unwrap_err();
        assert_eq!(err.field, "aspect");
        assert!(
            err.message
                .contains("Nano Banana 2.1 or Nano Banana 2 Lite does"),
            "{}",
            err.message
        );
        r.model = "gemini-nano-banana-2.1".into();
        assert_eq!(r.validate(&Catalog::bundled()), Ok(()));
    }

    #[test]
    fn retired_unknown_empty_long_and_count_are_refused() {
        let catalog = Catalog::bundled();
        let err = recipe("gemini-3-pro-image-preview")
            .validate(&catalog)
            .unwrap_err();
        assert!(err.message.contains("retired") && err.message.contains("gemini-3-pro-image"));
        let err = recipe("dall-e").validate(&catalog).unwrap_err();
        assert_eq!(err.field, "model");
        let mut r = recipe("gemini-3-pro-image");
        r.prompt = "   ".into();
        assert_eq!(r.validate(&catalog).unwrap_err().field, "prompt");
        r.prompt = "x".repeat(60_001);
        assert!(
            r.validate(&catalog)
                .unwrap_err()
                .message
                .contains("60001 characters")
        );
        r.prompt = "ok".into();
        r.count = 5;
        assert_eq!(r.validate(&catalog).unwrap_err().field, "count");
        r.count = 0;
        assert_eq!(r.validate(&catalog).unwrap_err().field, "count");
    }

    #[test]
    fn a_thinking_level_the_model_lacks_is_refused_naming_the_model() {
        let catalog = Catalog::bundled();
        let mut r = recipe("gemini-nano-banana-2.1");
        r.thinking = Some(crate::recipe::ThinkingLevel::High);
        assert_eq!(r.validate(&catalog), Ok(()));
        r.thinking = Some(crate::recipe::ThinkingLevel::Low);
        let err = r.validate(&catalog).unwrap_err();
        assert_eq!(
            (err.field, err.message.as_str()),
            (
                "thinking",
                "Nano Banana 2.1 does not take thinking low; pick minimal, medium, high"
            )
        );
        r.model = "gemini-3-pro-image".into();
        r.thinking = Some(crate::recipe::ThinkingLevel::High);
        assert!(
            r.validate(&catalog)
                .unwrap_err()
                .message
                .contains("always thinks")
        );
        r.model = "gemini-2.5-flash-image".into();
        assert!(
            r.validate(&catalog)
                .unwrap_err()
                .message
                .contains("takes no thinking level")
        );
    }

    #[test]
    fn search_the_model_lacks_is_refused_naming_the_model() {
        let catalog = Catalog::bundled();
        let mut r = recipe("gemini-nano-banana-2.1");
        r.search = Some(crate::recipe::Search::WebAndImage);
        assert_eq!(r.validate(&catalog), Ok(()));
        r.model = "gemini-3-pro-image".into();
        let err = r.validate(&catalog).unwrap_err();
        assert_eq!(
            (err.field, err.message.as_str()),
            (
                "search",
                "Nano Banana Pro has no image search; it searches web"
            )
        );
        r.model = "gemini-3.1-flash-lite-image".into();
        assert!(
            r.validate(&catalog)
                .unwrap_err()
                .message
                .contains("cannot search")
        );
    }

    #[test]
    fn a_shut_down_model_names_its_successor() {
        let err = recipe("gemini-3.1-flash-image")
            .validate(&Catalog::bundled())
            .unwrap_err();
        assert!(
            err.message
                .ends_with("use gemini-nano-banana-2.1 (Nano Banana 2.1)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn too_many_inputs_for_flash() {
        let mut r = recipe("gemini-2.5-flash-image");
        let input = InputImage {
            sha256: "ab".into(),
            mime: "image/png".into(),
            width: 1,
            height: 1,
        };
        r.inputs = vec![input; 4];
        let err = r.validate(&Catalog::bundled()).unwrap_err();
        assert_eq!(
            err.message,
            "Nano Banana takes at most 3 input images; remove 1"
        );
    }

    #[test]
    fn cost_follows_size_count_and_inputs() {
        let catalog = Catalog::bundled();
        let mut r = recipe("gemini-3-pro-image");
        r.size = Some(ImageSize::K4);
        r.count = 2;
        let usd = r.estimate_cost(&catalog).usd.unwrap();
        assert!((usd - 0.48).abs() < 1e-9, "{usd}");
        r.size = None; // Default size 1K.
        r.count = 1;
        assert!((r.estimate_cost(&catalog).usd.unwrap() - 0.1344).abs() < 1e-9);
        let flash = recipe("gemini-2.5-flash-image");
        assert_eq!(flash.estimate_cost(&catalog).label(), "$0.039");
    }
}
