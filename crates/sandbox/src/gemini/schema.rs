//! The fields a `generateContent` request may hold. Like the real service (proto3 JSON),
//! the fake answers 400 for a name it does not know, in camelCase or snake_case, with the
//! path of the object that holds it; a client that misspells a field learns it here, not
//! from an image of the wrong shape.

use serde_json::Value;

use super::checks::Checked;

/// The kinds of object the checker descends into.
#[derive(Clone, Copy)]
enum Kind {
    Request,
    GenerationConfig,
    ImageConfig,
    ThinkingConfig,
    Content,
    Part,
    Blob,
    FileData,
    Tool,
}

/// A field's camelCase name and, when the checker descends into it, its kind (and
/// whether it is a list of them).
type Field = (&'static str, Option<(Kind, bool)>);

fn fields(kind: Kind) -> &'static [Field] {
    use Kind::*;
    match kind {
        Request => &[
            ("model", None),
            ("contents", Some((Content, true))),
            ("generationConfig", Some((GenerationConfig, false))),
            ("safetySettings", None),
            ("systemInstruction", Some((Content, false))),
            ("tools", Some((Tool, true))),
            ("toolConfig", None),
            ("cachedContent", None),
        ],
        GenerationConfig => &[
            ("stopSequences", None),
            ("responseMimeType", None),
            ("responseSchema", None),
            ("responseJsonSchema", None),
            ("responseModalities", None),
            ("candidateCount", None),
            ("maxOutputTokens", None),
            ("temperature", None),
            ("topP", None),
            ("topK", None),
            ("seed", None),
            ("presencePenalty", None),
            ("frequencyPenalty", None),
            ("responseLogprobs", None),
            ("logprobs", None),
            ("enableEnhancedCivicAnswers", None),
            ("speechConfig", None),
            ("thinkingConfig", Some((ThinkingConfig, false))),
            ("imageConfig", Some((ImageConfig, false))),
            ("mediaResolution", None),
        ],
        ImageConfig => &[("aspectRatio", None), ("imageSize", None)],
        ThinkingConfig => &[
            ("includeThoughts", None),
            ("thinkingBudget", None),
            ("thinkingLevel", None),
        ],
        Content => &[("role", None), ("parts", Some((Part, true)))],
        Part => &[
            ("text", None),
            ("inlineData", Some((Blob, false))),
            ("fileData", Some((FileData, false))),
            ("functionCall", None),
            ("functionResponse", None),
            ("executableCode", None),
            ("codeExecutionResult", None),
            ("videoMetadata", None),
            ("thought", None),
            ("thoughtSignature", None),
            ("partMetadata", None),
        ],
        Blob => &[("mimeType", None), ("data", None)],
        FileData => &[("mimeType", None), ("fileUri", None)],
        Tool => &[
            ("functionDeclarations", None),
            ("googleSearchRetrieval", None),
            ("codeExecution", None),
            ("googleSearch", None),
            ("urlContext", None),
            ("computerUse", None),
            ("fileSearch", None),
            ("googleMaps", None),
        ],
    }
}

/// `generationConfig` → `generation_config`: the name the service's messages use.
fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Rejects the first unknown field, as the real service does:
/// `Invalid JSON payload received. Unknown name "x" at 'generation_config': Cannot find field.`
pub(super) fn check_known_fields(request: &Value) -> Checked<()> {
    walk(request, Kind::Request, "")
}

fn walk(value: &Value, kind: Kind, path: &str) -> Checked<()> {
    let Some(object) = value.as_object() else {
        return Ok(());
    };
    let known = fields(kind);
    for (name, child) in object {
        let Some((camel, descend)) = known
            .iter()
            .find(|(camel, _)| *camel == name || snake(camel) == *name)
        else {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" at '{path}'")
            };
            return Err(Box::new(super::invalid(&format!(
                "Invalid JSON payload received. Unknown name \"{name}\"{at}: Cannot find field."
            ))));
        };
        let Some((kind, list)) = descend else {
            continue;
        };
        let here = if path.is_empty() {
            snake(camel)
        } else {
            format!("{path}.{}", snake(camel))
        };
        if *list {
            for (i, item) in child.as_array().into_iter().flatten().enumerate() {
                walk(item, *kind, &format!("{here}[{i}]"))?;
            }
        } else {
            walk(child, *kind, &here)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(request: &Value) -> Option<String> {
        check_known_fields(request).err().map(|response| {
            let (_, body) = (*response).into_parts();
            let bytes = futures::executor::block_on(axum::body::to_bytes(body, 1 << 20));
            String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned()
        })
    }

    #[test]
    fn known_fields_pass_in_either_case() {
        let request = json!({
            "contents": [{"role": "user", "parts": [{"text": "hi"},
                {"inline_data": {"mime_type": "image/png", "data": "AA=="}}]}],
            "generation_config": {"responseModalities": ["TEXT", "IMAGE"],
                "imageConfig": {"aspect_ratio": "16:9", "imageSize": "2K"}, "seed": 4,
                "thinkingConfig": {"thinkingLevel": "HIGH", "includeThoughts": true}},
            "tools": [{"googleSearch": {}}]
        });
        assert_eq!(message(&request), None);
    }

    #[test]
    fn an_unknown_field_is_named_with_where_it_sits() {
        let top = message(&json!({"contents": [], "generationConfg": {}})).unwrap();
        assert!(
            top.contains("Unknown name \\\"generationConfg\\\": Cannot find field."),
            "{top}"
        );
        let nested =
            message(&json!({"generationConfig": {"imageConfig": {"ratio": "1:1"}}})).unwrap();
        assert!(
            nested.contains("at 'generation_config.image_config'"),
            "{nested}"
        );
        let part =
            message(&json!({"contents": [{"parts": [{"text": "a"}, {"image": {}}]}]})).unwrap();
        assert!(part.contains("at 'contents[0].parts[1]'"), "{part}");
    }
}
