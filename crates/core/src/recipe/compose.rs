//! The prompt library's pieces and the one rule that puts them together.
//!
//! A template has `[SLOTS]` the user fills; a style is words said after the prompt; a
//! brand kit says words before and after everything else. [`compose`] is the only place
//! they are joined, and the prompt panel shows its result as "What will be sent":
//!
//! brand prefix, then the filled template (or the typed prompt), then the typed words
//! when a template is used, then each style in order, then the brand suffix, joined by
//! single spaces.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::InputImage;

/// A prompt with `[SLOTS]` to fill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Its name, unique among templates.
    pub name: String,
    /// The words, with slots such as `[PRODUCT]` or `[TIME OF DAY]`.
    pub text: String,
}

impl Template {
    /// The slots of the text, each once, in the order they first appear.
    pub fn slots(&self) -> Vec<String> {
        slots(&self.text)
    }
}

/// Words said after the prompt, and images sent with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Style {
    /// Its name, unique among styles.
    pub name: String,
    /// The words appended.
    pub text: String,
    /// Reference images added to the recipe's inputs.
    #[serde(default)]
    pub references: Vec<InputImage>,
}

/// A brand's constant words and pictures: one kit is active at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandKit {
    /// Its name, unique among kits.
    pub name: String,
    /// Said before everything.
    #[serde(default)]
    pub prefix: String,
    /// Said after everything.
    #[serde(default)]
    pub suffix: String,
    /// Colour swatches, as `#rrggbb`.
    #[serde(default)]
    pub palette: Vec<String>,
    /// The constraints a structured prompt starts with under this kit.
    #[serde(default)]
    pub constraints: String,
    /// Logo and reference images added to the recipe's inputs.
    #[serde(default)]
    pub references: Vec<InputImage>,
}

/// A named set of images (a character, a product) added to a recipe's inputs in one
/// click.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceSet {
    /// Its name, unique among sets.
    pub name: String,
    /// What it shows, in the user's words.
    #[serde(default)]
    pub note: String,
    /// The images, in the order they are added.
    #[serde(default)]
    pub references: Vec<InputImage>,
}

/// A prompt kept under a name, one click from the prompt panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPrompt {
    /// Its name, unique among saved prompts.
    pub name: String,
    /// The words.
    pub text: String,
}

/// How a recipe's prompt was put together, recorded with it so that "Use these
/// settings", "Same recipe on…" and exported files carry the parts, not only the sum.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Composition {
    /// The template's name, when one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The template's text as it was used (a template edited later does not change
    /// what this recipe says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_text: Option<String>,
    /// The value of each slot.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// What the user typed: the prompt, or the words after a template.
    #[serde(default)]
    pub typed: String,
    /// The styles' names and words, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub styles: Vec<(String, String)>,
    /// The brand kit's name, prefix and suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<(String, String, String)>,
    /// A structured prompt's sections (Goal, Subject, ...), written in place of a
    /// template when there is no template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured: Option<Structured>,
}

/// A structured prompt: each section's words, and whether "No text unless requested"
/// is on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Structured {
    /// The words of each section, by its name in [`SECTIONS`].
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
    /// Adds [`NO_TEXT`] to the constraints.
    #[serde(default)]
    pub no_text: bool,
}

impl Composition {
    /// Whether anything but typed words went into the prompt.
    pub fn uses_library(&self) -> bool {
        self.template.is_some()
            || self.structured.is_some()
            || !self.styles.is_empty()
            || self.brand.is_some()
    }
}

/// Why a prompt cannot be put together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// A slot of the template has no value.
    #[error("the template's slot [{0}] is empty; fill it in")]
    EmptySlot(String),
    /// A value names no slot of the template.
    #[error("the template has no slot [{slot}]; its slots are {known}")]
    UnknownSlot {
        /// The name given.
        slot: String,
        /// The slots it has.
        known: String,
    },
    /// Nothing at all to send.
    #[error("the prompt is empty; describe the image you want")]
    Empty,
}

/// The parts a user picked, gathered into the record a recipe keeps, with the
/// reference images the styles and the kit bring (styles' first, in order, then the
/// kit's; each once).
pub fn assemble(
    template: Option<&Template>,
    values: &BTreeMap<String, String>,
    typed: &str,
    styles: &[&Style],
    brand: Option<&BrandKit>,
) -> (Composition, Vec<InputImage>) {
    let composition = Composition {
        template: template.map(|t| t.name.clone()),
        template_text: template.map(|t| t.text.clone()),
        values: if template.is_some() {
            values
                .iter()
                .map(|(k, v)| (k.trim().to_uppercase(), v.clone()))
                .collect()
        } else {
            BTreeMap::new()
        },
        typed: typed.trim().to_owned(),
        styles: styles
            .iter()
            .map(|s| (s.name.clone(), s.text.clone()))
            .collect(),
        brand: brand.map(|k| (k.name.clone(), k.prefix.clone(), k.suffix.clone())),
        structured: None,
    };
    let mut references: Vec<InputImage> = Vec::new();
    for image in styles
        .iter()
        .flat_map(|s| s.references.iter())
        .chain(brand.iter().flat_map(|k| k.references.iter()))
    {
        if !references.contains(image) {
            references.push(image.clone());
        }
    }
    (composition, references)
}

/// The `[SLOTS]` of a text, each once, in order: brackets around capital letters,
/// digits, spaces, `_` or `-`.
pub fn slots(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let inside = &after[..close];
        let is_slot = !inside.trim().is_empty()
            && inside.chars().any(|c| c.is_ascii_uppercase())
            && inside
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || " _-".contains(c));
        if is_slot && !found.iter().any(|s| s == inside) {
            found.push(inside.to_owned());
        }
        rest = if is_slot { &after[close + 1..] } else { after };
    }
    found
}

/// The template's text with every slot replaced by its value (trimmed); an empty or
/// missing value, or a value for a slot it lacks, is an error naming the slot.
pub fn fill(text: &str, values: &BTreeMap<String, String>) -> Result<String, ComposeError> {
    let slots = slots(text);
    for name in values.keys() {
        if !slots.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return Err(ComposeError::UnknownSlot {
                slot: name.clone(),
                known: slots
                    .iter()
                    .map(|s| format!("[{s}]"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let mut filled = text.to_owned();
    for slot in &slots {
        let value = values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(slot))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ComposeError::EmptySlot(slot.clone()))?;
        filled = filled.replace(&format!("[{slot}]"), value);
    }
    Ok(filled)
}

/// The prompt that is sent: brand prefix, the filled template (or the typed prompt),
/// the typed words when a template is used, each style in order, the brand suffix;
/// every part trimmed, empty parts left out, joined by single spaces.
pub fn compose(c: &Composition) -> Result<String, ComposeError> {
    let mut parts: Vec<String> = Vec::new();
    if let Some((_, prefix, _)) = &c.brand {
        parts.push(prefix.clone());
    }
    if let Some(text) = &c.template_text {
        parts.push(fill(text, &c.values)?);
    } else if let Some(s) = &c.structured {
        parts.push(structured(&s.sections, s.no_text));
    }
    parts.push(c.typed.clone());
    parts.extend(c.styles.iter().map(|(_, text)| text.clone()));
    if let Some((_, _, suffix)) = &c.brand {
        parts.push(suffix.clone());
    }
    let joined = parts
        .iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if joined.is_empty() {
        Err(ComposeError::Empty)
    } else {
        Ok(joined)
    }
}

/// The templates every library starts with: the brief's three, worded as it gives them.
pub fn bundled_templates() -> Vec<Template> {
    let t = |name: &str, text: &str| Template {
        name: name.to_owned(),
        text: text.to_owned(),
    };
    vec![
        t(
            "Studio product shot",
            "Professional studio photo of [PRODUCT], centered on a clean white background, \
             softbox lighting, crisp reflections, premium commercial look, high detail, no text, \
             no watermark.",
        ),
        t(
            "App icon / sticker",
            "A cute [SUBJECT] icon on a white background, colorful tactile 3D style, clean \
             outline, high contrast, no text.",
        ),
        t(
            "Cinematic scene",
            "Cinematic photo of [SUBJECT] in [LOCATION] at [TIME OF DAY], shallow depth of \
             field, subtle film grain, realistic lighting, natural composition, no text overlays.",
        ),
    ]
}

/// Styles every library starts with.
pub fn bundled_styles() -> Vec<Style> {
    let s = |name: &str, text: &str| Style {
        name: name.to_owned(),
        text: text.to_owned(),
        references: Vec::new(),
    };
    vec![
        s(
            "Editorial",
            "Editorial magazine look, natural skin tones, soft directional light.",
        ),
        s(
            "Flat vector",
            "Flat vector illustration, bold shapes, limited palette, no gradients.",
        ),
        s(
            "Film grain",
            "Shot on 35 mm film, subtle grain, gentle halation, muted colours.",
        ),
    ]
}

/// The structured prompt's sections, in the order they are written.
pub const SECTIONS: [&str; 6] = [
    "Goal",
    "Subject",
    "Scene",
    "Camera & lighting",
    "Style",
    "Constraints",
];

/// The words "No text unless requested" adds to the constraints.
pub const NO_TEXT: &str = "No text unless requested.";

/// A structured prompt: each section that has words becomes "Section: words.", in the
/// order of [`SECTIONS`]; `no_text` adds [`NO_TEXT`] to the constraints.
pub fn structured(sections: &BTreeMap<String, String>, no_text: bool) -> String {
    let mut out = Vec::new();
    for name in SECTIONS {
        let mut words = sections
            .get(name)
            .map(|w| w.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        if name == "Constraints" && no_text {
            words = if words.is_empty() {
                NO_TEXT.to_owned()
            } else {
                format!("{} {NO_TEXT}", words.trim_end_matches('.').to_owned() + ".")
            };
        }
        if words.is_empty() {
            continue;
        }
        let end = if words.ends_with(['.', '!', '?']) {
            ""
        } else {
            "."
        };
        out.push(format!("{name}: {words}{end}"));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn slots_are_found_once_in_order() {
        let cinematic = &bundled_templates()[2];
        assert_eq!(cinematic.slots(), ["SUBJECT", "LOCATION", "TIME OF DAY"]);
        assert_eq!(slots("[A] and [a] and [A] and [] and [X Y]"), ["A", "X Y"]);
        assert!(slots("no slots [here], nor [in brackets!]").is_empty());
    }

    #[test]
    fn filling_names_the_empty_or_unknown_slot() {
        let text = "Photo of [SUBJECT] in [LOCATION].";
        assert_eq!(
            fill(
                text,
                &values(&[("SUBJECT", " a fox "), ("location", "snow")])
            ),
            Ok("Photo of a fox in snow.".to_owned())
        );
        assert_eq!(
            fill(text, &values(&[("SUBJECT", "a fox"), ("LOCATION", "  ")])),
            Err(ComposeError::EmptySlot("LOCATION".into()))
        );
        let unknown = fill(
            text,
            &values(&[("SUBJECT", "a"), ("LOCATION", "b"), ("MOOD", "c")]),
        );
        assert_eq!(
            unknown.unwrap_err().to_string(),
            "the template has no slot [MOOD]; its slots are [SUBJECT], [LOCATION]"
        );
    }

    #[test]
    fn the_rule_puts_brand_template_words_styles_brand_in_order() {
        let c = Composition {
            template: Some("Studio product shot".into()),
            template_text: Some(bundled_templates()[0].text.clone()),
            values: values(&[("PRODUCT", "a ceramic mug")]),
            typed: "  with steam  rising ".into(),
            styles: vec![
                ("Editorial".into(), "Editorial look.".into()),
                ("Grain".into(), "Subtle grain.".into()),
            ],
            brand: Some((
                "Acme".into(),
                "Acme brand:".into(),
                "Acme blue #1a4cff.".into(),
            )),
            structured: None,
        };
        assert_eq!(
            compose(&c).unwrap(),
            "Acme brand: Professional studio photo of a ceramic mug, centered on a clean white \
             background, softbox lighting, crisp reflections, premium commercial look, high \
             detail, no text, no watermark. with steam rising Editorial look. Subtle grain. \
             Acme blue #1a4cff."
        );
    }

    #[test]
    fn without_a_template_the_typed_prompt_is_the_middle_and_empties_drop_out() {
        let c = Composition {
            typed: "a red kite".into(),
            styles: vec![("Empty".into(), "   ".into())],
            brand: Some(("Kit".into(), String::new(), "Brand suffix.".into())),
            ..Composition::default()
        };
        assert_eq!(compose(&c).unwrap(), "a red kite Brand suffix.");
        assert_eq!(compose(&Composition::default()), Err(ComposeError::Empty));
        let missing = Composition {
            template_text: Some("[A] thing".into()),
            ..Composition::default()
        };
        assert_eq!(compose(&missing), Err(ComposeError::EmptySlot("A".into())));
    }

    #[test]
    fn a_structured_prompt_takes_the_templates_place_in_the_rule() {
        let c = Composition {
            typed: "and a saucer".into(),
            structured: Some(Structured {
                sections: values(&[("Subject", "a ceramic mug")]),
                no_text: true,
            }),
            brand: Some(("Kit".into(), "Kit:".into(), String::new())),
            ..Composition::default()
        };
        assert_eq!(
            compose(&c).unwrap(),
            "Kit: Subject: a ceramic mug. Constraints: No text unless requested. and a saucer"
        );
    }

    #[test]
    fn a_structured_prompt_writes_its_sections_in_order() {
        let sections = values(&[
            ("Subject", "a ceramic mug"),
            ("Goal", "hero image for the shop"),
            ("Constraints", "square crop"),
        ]);
        assert_eq!(
            structured(&sections, true),
            "Goal: hero image for the shop. Subject: a ceramic mug. Constraints: square crop. \
             No text unless requested."
        );
        assert_eq!(
            structured(&BTreeMap::new(), true),
            "Constraints: No text unless requested."
        );
        assert_eq!(structured(&BTreeMap::new(), false), "");
    }
}
