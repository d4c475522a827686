//! The fake Eachlabs' model pages: `GET /v1/model?slug=` answers each model's request
//! schema (a JSON schema of its `input`), as the service publishes it, and predictions
//! are checked against the same schema: a field the model does not take is refused.

use serde_json::{Value, json};

use banana_core::recipe::{AspectRatio, ModelInfo};

/// The request schema of a slug (`nano-banana-pro-edit`) of `model`.
pub fn request_schema(model: &ModelInfo, slug: &str) -> Value {
    let edit = model.edit_id.as_deref() == Some(slug);
    let ratios: Vec<String> = model
        .ratios
        .iter()
        .filter(|r| **r != AspectRatio::Auto)
        .map(ToString::to_string)
        .collect();
    let mut properties = json!({
        "prompt": {"type": "string", "title": "Prompt", "maxLength": model.max_prompt_chars},
        // The docs' examples send "1"; the schema says integer, and the service takes both.
        "num_images": {"type": "integer", "minimum": 1, "maximum": 4, "default": 1},
        "aspect_ratio": {"type": "string", "enum": ratios},
        "output_format": {"type": "string", "enum": ["jpeg", "png"], "default": "png"},
        "sync_mode": {"type": "boolean", "default": false},
        "limit_generations": {"type": "boolean", "default": false},
    });
    if !model.sizes.is_empty() {
        let sizes: Vec<&str> = model.sizes.iter().map(|s| s.as_str()).collect();
        properties["resolution"] = json!({"type": "string", "enum": sizes, "default": "1K"});
    }
    let mut required = vec!["prompt"];
    if edit {
        properties["image_urls"] = json!({
            "type": "array", "items": {"type": "string", "format": "uri"},
            "minItems": 1, "maxItems": model.max_inputs,
        });
        required.push("image_urls");
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The model page: title, slug, the deprecated version, and the schema.
pub fn model_page(model: &ModelInfo, slug: &str) -> Value {
    json!({
        "title": if model.edit_id.as_deref() == Some(slug) && model.id != slug {
            format!("{} Edit", model.brand)
        } else {
            model.brand.clone()
        },
        "slug": slug,
        "version": "0.0.1",
        "output_type": "array",
        "request_schema": request_schema(model, slug),
    })
}

/// The first field of `input` the schema does not take, in the service's words.
pub fn unknown_field(schema: &Value, input: &Value, slug: &str) -> Option<String> {
    let properties = schema["properties"].as_object()?;
    input
        .as_object()?
        .keys()
        .find(|k| !properties.contains_key(*k))
        .map(|k| format!("input.{k} is not an input of {slug}"))
}
