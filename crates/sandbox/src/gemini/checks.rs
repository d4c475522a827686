//! The request checks of the fake Gemini: what the real service rejects, it rejects.

use std::sync::atomic::Ordering;

use axum::response::Response;
use base64::Engine as _;
use image::DynamicImage;
use serde_json::Value;

use super::{Shared, field, invalid};
use banana_core::recipe::{AspectRatio, ImageSize, ModelInfo};
use banana_imaging as imaging;

fn reject(message: &str) -> Box<Response> {
    Box::new(invalid(message))
}

/// A check's result: the value, or the error answer to send (boxed: responses are large).
pub(super) type Checked<T> = Result<T, Box<Response>>;

pub(super) fn check_config(
    model: &ModelInfo,
    request: &Value,
) -> Checked<(Option<AspectRatio>, Option<ImageSize>)> {
    let config = field(request, "generationConfig", "generation_config");
    let candidates = config
        .and_then(|c| field(c, "candidateCount", "candidate_count"))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    if candidates > 1 {
        return Err(reject(&format!(
            "Multiple candidates is not enabled for models/{}",
            model.id
        )));
    }
    let image_config = config.and_then(|c| field(c, "imageConfig", "image_config"));
    let aspect = match image_config.and_then(|c| field(c, "aspectRatio", "aspect_ratio")) {
        None => None,
        Some(v) => {
            let text = v.as_str().unwrap_or_default();
            match text.parse::<AspectRatio>() {
                Ok(a @ AspectRatio::Ratio(..)) if model.ratios.contains(&a) => Some(a),
                _ => {
                    return Err(reject(&format!(
                        "* GenerateContentRequest.generation_config.image_config.aspect_ratio: \
                         unsupported aspect ratio \"{text}\""
                    )));
                }
            }
        }
    };
    let size = match image_config.and_then(|c| field(c, "imageSize", "image_size")) {
        None => None,
        Some(_) if model.sizes.is_empty() => {
            return Err(reject(&format!(
                "* GenerateContentRequest.generation_config.image_config.image_size: \
                 image_size is not supported for models/{}",
                model.id
            )));
        }
        Some(v) => {
            let text = v.as_str().unwrap_or_default();
            // Case matters: "2k" is rejected, only "2K" is taken.
            match model.sizes.iter().find(|s| s.as_str() == text) {
                Some(s) => Some(*s),
                None => {
                    let allowed: Vec<&str> = model.sizes.iter().map(|s| s.as_str()).collect();
                    return Err(reject(&format!(
                        "* GenerateContentRequest.generation_config.image_config.image_size: \
                         unsupported image size \"{text}\"; supported values are {}",
                        allowed.join(", ")
                    )));
                }
            }
        }
    };
    if let Some(thinking) = config.and_then(|c| field(c, "thinkingConfig", "thinking_config")) {
        if !model.thinks() {
            return Err(reject(&format!(
                "* GenerateContentRequest.generation_config.thinking_config: thinking is not \
                 supported by models/{}",
                model.id
            )));
        }
        let include = field(thinking, "includeThoughts", "include_thoughts");
        if include.is_some_and(|v| !v.is_boolean()) {
            return Err(reject(
                "Invalid value at 'generation_config.thinking_config.include_thoughts' (TYPE_BOOL)",
            ));
        }
        let level = field(thinking, "thinkingLevel", "thinking_level");
        if level.is_some() && model.thinking_levels.is_empty() {
            return Err(reject(&format!(
                "* GenerateContentRequest.generation_config.thinking_config: thinking level is \
                 not supported by models/{}",
                model.id
            )));
        }
        if let Some(level) = level {
            let text = level.as_str().unwrap_or_default();
            // Enum names as the service spells them: "HIGH", not "high".
            let taken = model.thinking_levels.iter().any(|l| l.wire() == text);
            if !taken {
                return Err(reject(&format!(
                    "* GenerateContentRequest.generation_config.thinking_config.thinking_level: \
                     unsupported thinking level \"{text}\" for models/{}",
                    model.id
                )));
            }
        }
    }
    Ok((aspect, size.or(model.default_size)))
}

/// The Google Search kinds a request asks for ("web", "image"), refused where the model
/// has none, as the service refuses them.
pub(super) fn check_tools(model: &ModelInfo, request: &Value) -> Checked<Vec<&'static str>> {
    let mut kinds = Vec::new();
    let tools = request.get("tools").and_then(Value::as_array);
    for (i, tool) in tools.into_iter().flatten().enumerate() {
        let Some(search) = field(tool, "googleSearch", "google_search") else {
            continue;
        };
        if model.grounding.is_empty() {
            return Err(reject(&format!(
                "* GenerateContentRequest.tools[{i}].google_search: Search Grounding is not \
                 supported for models/{}",
                model.id
            )));
        }
        let types = field(search, "searchTypes", "search_types");
        let asked: Vec<&'static str> = match types {
            None => vec!["web"],
            Some(t) => [
                ("webSearch", "web_search", "web"),
                ("imageSearch", "image_search", "image"),
            ]
            .into_iter()
            .filter(|(camel, snake, _)| field(t, camel, snake).is_some())
            .map(|(_, _, kind)| kind)
            .collect(),
        };
        for kind in asked {
            if !model.grounding.iter().any(|g| g == kind) {
                return Err(reject(&format!(
                    "* GenerateContentRequest.tools[{i}].google_search.search_types: {kind} \
                     search is not supported for models/{}",
                    model.id
                )));
            }
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

pub(super) fn check_contents(
    shared: &Shared,
    model: &ModelInfo,
    request: &Value,
) -> Checked<Vec<DynamicImage>> {
    let Some(contents) = request
        .get("contents")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    else {
        return Err(reject(
            "* GenerateContentRequest.contents: contents is not specified",
        ));
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut last_inputs = Vec::new();
    let mut last_model_image: Option<DynamicImage> = None;
    for (i, content) in contents.iter().enumerate() {
        let role = content
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        let parts = content
            .get("parts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if parts.is_empty() {
            return Err(reject(&format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            )));
        }
        match role {
            "model" => {
                // The model's last image is what the next user turn talks about.
                last_model_image = last_image_of(&parts);
                if !model.thinks() {
                    continue;
                }
                for (j, part) in parts.iter().enumerate() {
                    if part.get("thought").and_then(Value::as_bool) == Some(true) {
                        continue;
                    }
                    let signature = field(part, "thoughtSignature", "thought_signature")
                        .and_then(Value::as_str);
                    let is_image = field(part, "inlineData", "inline_data").is_some();
                    match signature {
                        Some(sig) => {
                            // A signature holds for the part it came with, where it came:
                            // parts moved, changed or dropped around it break it.
                            if !super::signature_is_valid(sig, j, &signed_content(part)) {
                                return Err(reject("Corrupted thought signature."));
                            }
                            shared.returned_signatures.fetch_add(1, Ordering::SeqCst);
                        }
                        None if is_image || j == 0 => {
                            let kind = if is_image { "Image" } else { "Text" };
                            return Err(reject(&format!(
                                "{kind} part is missing a thought_signature in content position {}, part position {}",
                                i + 1,
                                j + 1
                            )));
                        }
                        None => {}
                    }
                }
            }
            "user" => {
                let mut inputs = Vec::new();
                for part in &parts {
                    if let Some(file) = field(part, "fileData", "file_data") {
                        inputs.push(file_input(shared, file)?);
                        continue;
                    }
                    let Some(inline) = field(part, "inlineData", "inline_data") else {
                        continue;
                    };
                    let mime = field(inline, "mimeType", "mime_type")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if !matches!(
                        mime,
                        "image/png" | "image/jpeg" | "image/webp" | "image/heic" | "image/heif"
                    ) {
                        return Err(reject(&format!("Unsupported MIME type: {mime}")));
                    }
                    let data = inline.get("data").and_then(Value::as_str).unwrap_or("");
                    let Ok(bytes) = b64.decode(data) else {
                        return Err(reject("Base64 decoding failed for inline_data.data."));
                    };
                    match imaging::decode(&bytes) {
                        Ok(img) => inputs.push(img),
                        Err(_) => {
                            return Err(reject(
                                "Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
                            ));
                        }
                    }
                }
                if inputs.len() > model.max_inputs as usize {
                    return Err(reject(&format!(
                        "* GenerateContentRequest.contents[{i}].parts: too many images: {} were \
                         sent, models/{} takes at most {}.",
                        inputs.len(),
                        model.id,
                        model.max_inputs
                    )));
                }
                last_inputs = inputs;
            }
            other => {
                return Err(reject(&format!(
                    "Please use a valid role: user, model. Got \"{other}\"."
                )));
            }
        }
    }
    let last_role = contents
        .last()
        .and_then(|c| c.get("role"))
        .and_then(Value::as_str)
        .unwrap_or("user");
    if last_role != "user" {
        return Err(reject(
            "Please ensure that multiturn requests end with a user role or a function response.",
        ));
    }
    // A follow-up without new inputs edits the model's previous image, as the real one does.
    if last_inputs.is_empty()
        && let Some(previous) = last_model_image
    {
        last_inputs.push(previous);
    }
    Ok(last_inputs)
}

/// An input the request names by `fileData.fileUri`: an uploaded file of this key,
/// alive, of an image type.
fn file_input(shared: &Shared, file: &Value) -> Checked<DynamicImage> {
    let uri = field(file, "fileUri", "file_uri")
        .and_then(Value::as_str)
        .unwrap_or("");
    if uri.is_empty() {
        return Err(reject(
            "* GenerateContentRequest.contents.parts.file_data.file_uri: file_uri is required.",
        ));
    }
    let stored = super::files::resolve(shared, uri)?;
    let mime = field(file, "mimeType", "mime_type")
        .and_then(Value::as_str)
        .unwrap_or(&stored.mime);
    if !matches!(
        mime,
        "image/png" | "image/jpeg" | "image/webp" | "image/heic" | "image/heif"
    ) {
        return Err(reject(&format!("Unsupported MIME type: {mime}")));
    }
    imaging::decode(&stored.bytes).map_err(|_| {
        reject("Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
    })
}

/// The last non-thought image of a model turn, decoded.
fn last_image_of(parts: &[Value]) -> Option<DynamicImage> {
    let b64 = base64::engine::general_purpose::STANDARD;
    parts
        .iter()
        .rev()
        .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
        .find_map(|p| field(p, "inlineData", "inline_data"))
        .and_then(|inline| inline.get("data").and_then(Value::as_str))
        .and_then(|data| b64.decode(data).ok())
        .and_then(|bytes| imaging::decode(&bytes).ok())
}

/// What a part's signature covers: its text, or its image data as sent.
pub(super) fn signed_content(part: &Value) -> String {
    if let Some(text) = part.get("text").and_then(Value::as_str) {
        return text.to_owned();
    }
    field(part, "inlineData", "inline_data")
        .and_then(|inline| inline.get("data"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
