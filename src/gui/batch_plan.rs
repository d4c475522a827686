//! What a batch list makes: each line on top of the prompt panel's recipe (model, size,
//! ratio, count, template, styles, brand kit), checked as Generate checks it, with the
//! images and the cost it adds up to, in words for the Batch dialog.

use super::state::UiState;
use crate::engine::PromptLibrary;
use crate::recipe::batch_list::{self, BatchLine, ListKind};
use crate::recipe::{Catalog, Recipe};

/// What a list makes with the panel's recipe.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// One recipe a request, in the list's order.
    pub recipes: Vec<Recipe>,
    /// Images asked for in all.
    pub images: u32,
    /// Expected cost in dollars, of the requests whose price is known.
    pub usd: f64,
    /// Whether some request's price is unknown.
    pub unknown_cost: bool,
}

/// Each line of `text` on top of the panel's recipe, checked as Generate checks it; Err
/// names the first line that is wrong and what to change.
pub fn plan(
    text: &str,
    kind: ListKind,
    state: &UiState,
    library: &PromptLibrary,
    catalog: &Catalog,
) -> Result<Plan, String> {
    let uses_template = state.library.template.is_some();
    let lines = batch_list::read(text, kind, uses_template)?;
    let mut recipes = Vec::with_capacity(lines.len());
    for line in &lines {
        let at = |e: String| format!("line {}: {e}", line.number);
        let state = line_state(state, line, catalog).map_err(at)?;
        let model = catalog.model(state.draft.provider, &state.draft.model);
        let (recipe, _) = super::prompt_library::recipe(&state, library, model).map_err(at)?;
        recipe.validate(catalog).map_err(|e| at(e.to_string()))?;
        recipes.push(recipe);
    }
    let (mut usd, mut unknown_cost) = (0.0, false);
    for recipe in &recipes {
        match recipe.estimate_cost(catalog).usd {
            Some(v) => usd += v,
            None => unknown_cost = true,
        }
    }
    Ok(Plan {
        images: recipes.iter().map(|r| u32::from(r.count)).sum(),
        recipes,
        usd,
        unknown_cost,
    })
}

/// The panel's state with one line's prompt, slot values and own options on top.
fn line_state(base: &UiState, line: &BatchLine, catalog: &Catalog) -> Result<UiState, String> {
    let mut state = base.clone();
    state.draft.prompt.clone_from(&line.prompt);
    for (slot, value) in &line.vars {
        state.library.values.insert(slot.clone(), value.clone());
    }
    if line.own.is_none() {
        return Ok(state);
    }
    if let Some(template) = line.text("template") {
        state.library.template = Some(template);
        state.library.structured = None;
    }
    if let Some(brand) = line.text("brand") {
        state.library.brand = Some(brand);
    }
    if let Some(styles) = line.styles() {
        state.library.styles = styles;
    }
    let parse = |key: &str| line.value(key).cloned();
    if let Some(v) = parse("provider") {
        let provider = serde_json::from_value(v).map_err(|e| format!("provider: {e}"))?;
        if provider != state.draft.provider {
            state.draft.provider = provider;
            state.draft.model = catalog
                .default_model(provider)
                .map(|m| m.id.clone())
                .unwrap_or_default();
        }
    }
    if let Some(model) = line.text("model") {
        state.draft.model = model;
    }
    if base.draft.provider != state.draft.provider || base.draft.model != state.draft.model {
        // The panel's size and seed, where the line's model takes them; its own default
        // size where it takes sizes but not the panel's.
        if let Some(model) = catalog.model(state.draft.provider, &state.draft.model) {
            if !state.draft.size.is_some_and(|s| model.sizes.contains(&s)) {
                state.draft.size = model.default_size;
            }
            if !model.seed {
                state.draft.seed = None;
                state.seed_fixed = false;
            }
        }
    }
    if let Some(v) = parse("aspect") {
        state.draft.aspect = serde_json::from_value(v).map_err(|e| format!("aspect: {e}"))?;
    }
    if let Some(v) = parse("size") {
        state.draft.size = Some(serde_json::from_value(v).map_err(|e| format!("size: {e}"))?);
    }
    if let Some(v) = parse("count") {
        state.draft.count = v
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or("count: a number from 1 to 4")?;
    }
    if let Some(v) = parse("seed") {
        state.draft.seed = Some(v.as_u64().ok_or("seed: a whole number")?);
        state.seed_fixed = true;
    }
    Ok(state)
}

/// "12 requests · 48 images · estimated $1.92".
pub fn plan_words(plan: &Plan, sandbox: bool) -> String {
    let n = plan.recipes.len();
    let cost = if plan.unknown_cost && plan.usd == 0.0 {
        "price unknown".to_owned()
    } else {
        format!(
            "${:.2}{}",
            plan.usd,
            if plan.unknown_cost { " and more" } else { "" }
        )
    };
    let cost = if sandbox {
        format!("sandbox: free (the real service would charge {cost})")
    } else {
        format!("estimated {cost}")
    };
    format!(
        "{n} request{} · {} image{} · {cost}",
        if n == 1 { "" } else { "s" },
        plan.images,
        if plan.images == 1 { "" } else { "s" }
    )
}

/// A name from the first prompt, when none is typed.
pub(super) fn default_name(recipes: &[Recipe]) -> String {
    let first = recipes
        .first()
        .map(|r| r.prompt_preview())
        .unwrap_or_default();
    let short: String = first.chars().take(32).collect();
    let n = recipes.len();
    format!("{short}… ({n} request{})", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::recipe::ProviderId;
    use crate::recipe::compose::bundled_templates;

    fn library() -> PromptLibrary {
        PromptLibrary {
            templates: bundled_templates()
                .into_iter()
                .map(|t| (t, crate::library::prompts::Origin::Bundled))
                .collect(),
            ..PromptLibrary::default()
        }
    }

    fn state() -> UiState {
        let catalog = Catalog::bundled();
        UiState::starting_with(&crate::settings::Settings::default(), &catalog)
    }

    #[test]
    fn each_line_takes_the_panels_recipe_and_the_plan_counts_images_and_cost() {
        let catalog = Catalog::bundled();
        let mut state = state();
        state.draft.count = 2;
        let plan = plan(
            "a red mug\n\na blue mug\n",
            ListKind::Lines,
            &state,
            &library(),
            &catalog,
        )
        .unwrap();
        assert_eq!(plan.recipes.len(), 2);
        assert_eq!(plan.recipes[1].prompt, "a blue mug");
        assert_eq!(plan.recipes[1].model, state.draft.model);
        assert_eq!(plan.images, 4);
        let each = plan.recipes[0].estimate_cost(&catalog).usd.unwrap();
        assert!((plan.usd - 2.0 * each).abs() < 1e-9);
        assert!(plan_words(&plan, false).starts_with("2 requests · 4 images · estimated $"));
    }

    #[test]
    fn a_template_times_csv_rows_fills_the_slots_and_an_empty_slot_is_named() {
        let catalog = Catalog::bundled();
        let mut state = state();
        state.library.template = Some("Studio product shot".into());
        let planned = plan(
            "PRODUCT\na teapot\na lamp\n",
            ListKind::Csv,
            &state,
            &library(),
            &catalog,
        )
        .unwrap();
        let first = &planned.recipes[0].prompt;
        assert!(first.contains("studio photo of a teapot"), "{first}");
        assert!(planned.recipes[1].prompt.contains("of a lamp"));
        let e = plan(
            "PRODUCT\na teapot\n\"\"\n",
            ListKind::Csv,
            &state,
            &library(),
            &catalog,
        )
        .unwrap_err();
        assert!(e.starts_with("line 3:") && e.contains("[PRODUCT]"), "{e}");
    }

    #[test]
    fn a_json_line_sets_its_own_options_and_a_wrong_one_is_named() {
        let catalog = Catalog::bundled();
        let state = state();
        let text = "{\"prompt\":\"a fox\",\"provider\":\"fal\",\"count\":3,\"seed\":7}\n";
        let planned = plan(text, ListKind::JsonLines, &state, &library(), &catalog).unwrap();
        let r = &planned.recipes[0];
        assert_eq!((r.provider, r.count, r.seed), (ProviderId::Fal, 3, Some(7)));
        assert_eq!(
            Some(r.model.as_str()),
            catalog
                .default_model(ProviderId::Fal)
                .map(|m| m.id.as_str())
        );
        let e = plan(
            "{\"prompt\":\"a\",\"count\":9}\n",
            ListKind::JsonLines,
            &state,
            &library(),
            &catalog,
        )
        .unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
        let e = plan(
            "{\"prompt\":\"a\",\"size\":\"8K\"}\n",
            ListKind::JsonLines,
            &state,
            &library(),
            &catalog,
        )
        .unwrap_err();
        assert!(e.starts_with("line 1: size"), "{e}");
    }
}
