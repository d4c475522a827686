//! The same recipe on another provider: the model with the same brand there (else its
//! default), the size, seed and ratio carried over where the model takes them.

use super::{AspectRatio, Catalog, ProviderId, Recipe, ValidationError, ratio_reason};

impl Recipe {
    /// This recipe as `provider` would run it, or why it cannot (a ratio or an input
    /// count that provider's models lack, named with what to change).
    pub fn on_provider(
        &self,
        provider: ProviderId,
        catalog: &Catalog,
    ) -> Result<Recipe, ValidationError> {
        let brand = catalog
            .model(self.provider, &self.model)
            .map(|m| m.brand.clone())
            .unwrap_or_default();
        let usable = |m: &&super::ModelInfo| m.status != super::ModelStatus::Retired;
        let model = catalog
            .models_of(provider)
            .filter(usable)
            .find(|m| m.brand == brand)
            .or_else(|| catalog.default_model(provider))
            .ok_or_else(|| {
                ValidationError::new("model", format!("{} has no models", provider.label()))
            })?;
        let mut recipe = self.clone();
        recipe.provider = provider;
        recipe.model = model.id.clone();
        recipe.size = match self.size {
            Some(size) if model.sizes.contains(&size) => Some(size),
            _ => model.default_size,
        };
        if !model.seed {
            recipe.seed = None;
        }
        if self.aspect != AspectRatio::Auto && !model.takes_ratio(self.aspect) {
            return Err(ValidationError::new(
                "aspect",
                ratio_reason(catalog, model, self.aspect),
            ));
        }
        recipe.validate(catalog)?;
        Ok(recipe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::ImageSize;

    #[test]
    fn the_same_brand_is_picked_and_options_follow_the_model() {
        let catalog = Catalog::bundled();
        let mut pro = Recipe::new("a cat", ProviderId::Gemini, &catalog);
        pro.model = "gemini-3-pro-image".into();
        pro.size = Some(ImageSize::K2);
        pro.seed = Some(7);
        let fal = pro.on_provider(ProviderId::Fal, &catalog).unwrap();
        assert_eq!(fal.model, "fal-ai/nano-banana-pro");
        assert_eq!(fal.size, Some(ImageSize::K2));
        assert_eq!(fal.seed, Some(7));
        // Oxen has Pro too (reported): the same brand and size, and no seed (Oxen
        // takes none).
        let oxen = pro.on_provider(ProviderId::Oxen, &catalog).unwrap();
        assert_eq!(
            (oxen.model.as_str(), oxen.size, oxen.seed),
            ("google-nano-banana-pro", Some(ImageSize::K2), None)
        );
        // Vydra has only Nano Banana: its default, no size, no seed.
        let vydra = pro.on_provider(ProviderId::Vydra, &catalog).unwrap();
        assert_eq!((vydra.size, vydra.seed), (None, None));
    }

    #[test]
    fn what_the_other_provider_lacks_is_named() {
        let catalog = Catalog::bundled();
        let mut wide = Recipe::new("a wide cat", ProviderId::Fal, &catalog);
        wide.aspect = AspectRatio::Ratio(21, 9);
        let e = wide.on_provider(ProviderId::Oxen, &catalog).unwrap_err();
        assert_eq!(e.field, "aspect");
        let mut two_inputs = Recipe::new("merge", ProviderId::Fal, &catalog);
        two_inputs.inputs = vec![
            crate::recipe::InputImage {
                sha256: "a".repeat(64),
                mime: "image/png".into(),
                width: 4,
                height: 4,
            };
            2
        ];
        let e = two_inputs
            .on_provider(ProviderId::Vydra, &catalog)
            .unwrap_err();
        assert_eq!(e.field, "inputs");
        assert!(e.message.contains("at most 1"), "{}", e.message);
    }
}
