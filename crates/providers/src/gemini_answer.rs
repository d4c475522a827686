//! Reading a Gemini answer: images, words, the model turn kept without its pictures,
//! usage and grounding; refusals in plain words; a job's answers merged.

use serde_json::Value;

use super::error::ProviderError;
use super::lift::Lifted;
use super::{GenerateOutput, OutputImage, TurnPart};
use banana_core::recipe::{Grounding, Source, Usage};
use banana_core::turn_parts::{self, Spelling, decode_exact};

/// One request's images, text and model turn.
#[derive(Debug)]
pub(super) struct SingleAnswer {
    pub(super) images: Vec<OutputImage>,
    pub(super) text: Option<String>,
    pub(super) model_turn: Value,
    /// The pictures lifted out of `model_turn`, by placeholder index.
    pub(super) parts: Vec<TurnPart>,
    /// What the call used, as `usageMetadata` says.
    pub(super) usage: Option<Usage>,
    /// What it looked up, when it was grounded.
    pub(super) grounding: Option<Grounding>,
}

/// The candidate's `groundingMetadata`: the pages, the searches, the suggestions.
fn grounding_of(candidate: &Value) -> Option<Grounding> {
    let meta = field(candidate, "groundingMetadata", "grounding_metadata")?;
    let sources = field(meta, "groundingChunks", "grounding_chunks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|chunk| {
            let web = chunk.get("web").or_else(|| chunk.get("image"))?;
            Some(Source {
                uri: web.get("uri")?.as_str()?.to_owned(),
                title: web
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .collect();
    let queries = field(meta, "webSearchQueries", "web_search_queries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|q| q.as_str().map(str::to_owned))
        .collect();
    let suggestions_html = field(meta, "searchEntryPoint", "search_entry_point")
        .and_then(|e| field(e, "renderedContent", "rendered_content"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(Grounding {
        sources,
        queries,
        suggestions_html,
    })
}

/// `usageMetadata`: prompt tokens, output tokens by modality, thought tokens.
fn usage_of(root: &Value) -> Option<Usage> {
    let meta = field(root, "usageMetadata", "usage_metadata")?;
    let count = |camel: &str, snake: &str| {
        field(meta, camel, snake)
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let details = field(meta, "candidatesTokensDetails", "candidates_tokens_details")
        .and_then(Value::as_array);
    let by_modality = |modality: &str| -> Option<u64> {
        details.map(|d| {
            d.iter()
                .filter(|m| m["modality"].as_str() == Some(modality))
                .filter_map(|m| field(m, "tokenCount", "token_count").and_then(Value::as_u64))
                .sum()
        })
    };
    let candidates = count("candidatesTokenCount", "candidates_token_count");
    let image_tokens = by_modality("IMAGE").unwrap_or(0);
    // Without a breakdown the candidates are text; with one, what is not image is text.
    let text_tokens = by_modality("TEXT").unwrap_or(candidates.saturating_sub(image_tokens));
    Some(Usage {
        prompt_tokens: count("promptTokenCount", "prompt_token_count"),
        image_tokens,
        text_tokens,
        thought_tokens: count("thoughtsTokenCount", "thoughts_token_count"),
    })
}

fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel)
        .or_else(|| v.get(snake))
        .filter(|x| !x.is_null())
}

fn parse_json(bytes: &[u8]) -> Result<Value, ProviderError> {
    serde_json::from_slice(bytes).map_err(|e| ProviderError::BadResponse {
        message: format!("the answer is not valid JSON ({e})"),
    })
}

/// Reads an answer whose pictures were lifted out as it arrived.
pub(super) fn parse_answer_lifted(mut body: Lifted) -> Result<SingleAnswer, ProviderError> {
    let root = parse_json(&body.json)?;
    answer_from(root, &mut body)
}

#[cfg(test)]
fn parse_answer(bytes: &[u8]) -> Result<SingleAnswer, ProviderError> {
    answer_from(parse_json(bytes)?, &mut Lifted::default())
}

/// A picture's bytes, and its spelling, when the base64 `data` is exact: lifted as it
/// arrived, or decoded here.
fn exact_picture(data: &str, lifted: &mut Lifted) -> Option<(Spelling, Vec<u8>)> {
    match lifted.take(data) {
        Some(bytes) => Some((Spelling::Standard, bytes)),
        None => decode_exact(data),
    }
}

pub(super) fn answer_from(
    mut root: Value,
    pictures: &mut Lifted,
) -> Result<SingleAnswer, ProviderError> {
    let usage = usage_of(&root);
    let grounding = field(&root, "candidates", "candidates")
        .and_then(|c| c.get(0))
        .and_then(grounding_of);
    let candidates = field(&root, "candidates", "candidates")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty());
    let Some(candidate) = candidates.and_then(|c| c.first()) else {
        let feedback = field(&root, "promptFeedback", "prompt_feedback");
        let reason = feedback
            .and_then(|f| field(f, "blockReason", "block_reason"))
            .and_then(Value::as_str);
        let text = feedback
            .and_then(|f| field(f, "blockReasonMessage", "block_reason_message"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Err(match reason {
            Some(reason) => ProviderError::Refused {
                reason: format!("The prompt was blocked: {}", block_reason_words(reason)),
                text,
            },
            None => ProviderError::BadResponse {
                message: "the answer has no candidates".to_owned(),
            },
        });
    };
    let finish = field(candidate, "finishReason", "finish_reason")
        .and_then(Value::as_str)
        .unwrap_or("");
    let finish_message = field(candidate, "finishMessage", "finish_message")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let content = field(candidate, "content", "content");
    let raw_parts = content
        .and_then(|c| c.get("parts"))
        .filter(|p| !p.is_null());
    // A blocked answer has no parts and says why; parts of the wrong shape, or none
    // with no reason, are an answer this app cannot read.
    let misshapen = raw_parts.is_some_and(|p| !p.is_array())
        || (raw_parts.is_none() && (finish.is_empty() || finish == "STOP"));
    if misshapen {
        return Err(ProviderError::BadResponse {
            message: "the answer's candidate has no list of parts".to_owned(),
        });
    }
    let parts = raw_parts.and_then(Value::as_array);
    let Some(parts) = parts.filter(|p| !p.is_empty()) else {
        return Err(ProviderError::Refused {
            reason: format!("No image: {}", finish_reason_words(finish)),
            text: finish_message,
        });
    };

    let mut images = Vec::new();
    let mut texts = Vec::new();
    // The pictures leave the turn as they are read: each becomes a placeholder, so the
    // kept turn holds no second copy of megabytes of base64.
    let mut lifted = Vec::new();
    for (position, part) in parts.iter().enumerate() {
        let thought = part.get("thought").and_then(Value::as_bool) == Some(true);
        let inline = field(part, "inlineData", "inline_data");
        let data = inline
            .and_then(|i| i.get("data"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if thought {
            // Thinking text and interim images are not results, but an interim image
            // goes back to the model with its signature on a refine.
            if let Some((spelling, bytes)) = inline
                .and_then(|_| exact_picture(data, pictures))
                .filter(|_| !data.is_empty())
            {
                lifted.push((position, spelling, TurnPart::Other(bytes)));
            }
            continue;
        }
        if let Some(t) = part.get("text").and_then(Value::as_str) {
            texts.push(t.to_owned());
        }
        if let Some(inline) = inline {
            // What the call's spool made of the picture, if it was lifted.
            let spooled = pictures.take_spooled(data);
            let exact = exact_picture(data, pictures);
            let bytes = match &exact {
                Some(_) => None,
                None => Some(
                    super::b64::decode(data).map_err(|e| ProviderError::BadResponse {
                        message: format!("an image in the answer is not valid base64 ({e})"),
                    })?,
                ),
            };
            let mime = field(inline, "mimeType", "mime_type")
                .and_then(Value::as_str)
                .unwrap_or("image/png")
                .to_owned();
            let bytes = match exact {
                Some((spelling, bytes)) => {
                    lifted.push((position, spelling, TurnPart::Image(images.len())));
                    bytes
                }
                None => bytes.unwrap_or_default(),
            };
            images.push(OutputImage::new(mime, bytes).with_spooled(spooled));
        }
    }
    let text = (!texts.is_empty()).then(|| texts.join("\n"));
    if images.is_empty() {
        let reason = if finish.is_empty() || finish == "STOP" {
            "The model answered with text only and made no image; rephrase the prompt or try again"
                .to_owned()
        } else {
            format!("No image: {}", finish_reason_words(finish))
        };
        return Err(ProviderError::Refused {
            reason,
            text: text.or(finish_message),
        });
    }
    let mut model_turn = root
        .get_mut("candidates")
        .and_then(|c| c.get_mut(0))
        .and_then(|c| c.get_mut("content"))
        .map(Value::take)
        .unwrap_or(Value::Null);
    // A picture the reading above did not take goes on in the turn as it came.
    pictures.restore(&mut model_turn);
    let mut parts_out = Vec::with_capacity(lifted.len());
    let kept = model_turn.get_mut("parts").and_then(Value::as_array_mut);
    let kept = kept.map(|p| p.as_mut_slice()).unwrap_or_default();
    for (index, (position, spelling, part)) in lifted.into_iter().enumerate() {
        if let Some(inline) = kept
            .get_mut(position)
            .and_then(turn_parts::inline_object_mut)
        {
            turn_parts::set_placeholder(inline, index, spelling);
        }
        parts_out.push(part);
    }
    Ok(SingleAnswer {
        images,
        text,
        model_turn,
        parts: parts_out,
        usage,
        grounding,
    })
}

fn finish_reason_words(reason: &str) -> String {
    match reason {
        "IMAGE_SAFETY" | "SAFETY" => "the image was blocked by the safety filter".into(),
        "IMAGE_PROHIBITED_CONTENT" | "PROHIBITED_CONTENT" => {
            "the image was blocked as prohibited content".into()
        }
        "IMAGE_RECITATION" | "RECITATION" => {
            "the image was blocked for resembling existing material too closely".into()
        }
        "NO_IMAGE" => "the model did not produce an image".into(),
        "SPII" => "the output was blocked because it may reveal personal information".into(),
        "BLOCKLIST" => "the output contains blocked terms".into(),
        "IMAGE_OTHER" | "OTHER" => "the output was blocked for an unstated reason".into(),
        "MAX_TOKENS" => "the model ran out of output tokens".into(),
        "" => "the model returned nothing".into(),
        other => format!("the model stopped ({other})"),
    }
}

fn block_reason_words(reason: &str) -> String {
    match reason {
        "SAFETY" | "IMAGE_SAFETY" => "it trips the safety filter".into(),
        "BLOCKLIST" => "it contains blocked terms".into(),
        "PROHIBITED_CONTENT" => "it asks for prohibited content".into(),
        "OTHER" => "for an unstated reason".into(),
        other => format!("reason {other}"),
    }
}

pub(super) fn merge_answers(
    answers: Vec<Result<SingleAnswer, ProviderError>>,
) -> Result<GenerateOutput, ProviderError> {
    let mut out = GenerateOutput::default();
    let mut texts = Vec::new();
    let mut errors = Vec::new();
    for answer in answers {
        match answer {
            Ok(a) => {
                let turn = out.model_turns.len();
                out.image_turns
                    .extend(std::iter::repeat_n(turn, a.images.len()));
                let first_image = out.images.len();
                out.images.extend(a.images);
                texts.extend(a.text);
                out.model_turns.push(a.model_turn);
                out.turn_parts
                    .push(a.parts.into_iter().map(|p| p.offset(first_image)).collect());
                if let Some(g) = a.grounding {
                    let all = out.grounding.get_or_insert_with(Grounding::default);
                    for source in g.sources {
                        if !all.sources.contains(&source) {
                            all.sources.push(source);
                        }
                    }
                    for query in g.queries {
                        if !all.queries.contains(&query) {
                            all.queries.push(query);
                        }
                    }
                    all.suggestions_html = all.suggestions_html.take().or(g.suggestions_html);
                }
                if let Some(u) = a.usage {
                    out.charged.usage.get_or_insert_with(Usage::default).add(&u);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if out.images.is_empty() {
        // Prefer the most telling error: a cancel, then a refusal, then the first.
        let pick = errors
            .iter()
            .position(|e| matches!(e, ProviderError::Cancelled))
            .or_else(|| {
                errors
                    .iter()
                    .position(|e| matches!(e, ProviderError::Refused { .. }))
            })
            .unwrap_or(0);
        return Err(errors
            .into_iter()
            .nth(pick)
            .unwrap_or(ProviderError::BadResponse {
                message: "no answer".into(),
            }));
    }
    out.partial_failures = errors.iter().map(ToString::to_string).collect();
    texts.dedup();
    out.text = (!texts.is_empty()).then(|| texts.join("\n"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thought_parts_are_skipped_and_the_turn_is_kept() {
        let body = json!({"candidates":[{"content":{"role":"model","parts":[
            {"text":"**Composing**","thought":true},
            {"inlineData":{"mimeType":"image/png","data":"AAAA"},"thought":true},
            {"text":"Here it is","thoughtSignature":"Sig_A"},
            {"inlineData":{"mimeType":"image/jpeg","data":"/9j/"},"thoughtSignature":"Sig_B"}]},
            "finishReason":"STOP"}]});
        let a = parse_answer(body.to_string().as_bytes()).unwrap();
        assert_eq!(a.images.len(), 1);
        assert_eq!(a.images[0].mime, "image/jpeg");
        assert_eq!(a.text.as_deref(), Some("Here it is"));
        assert_eq!(a.model_turn["parts"][3]["thoughtSignature"], "Sig_B");
    }

    #[test]
    fn snake_case_answers_are_read_too() {
        let body = json!({"candidates":[{"content":{"parts":[
            {"inline_data":{"mime_type":"image/png","data":"AAAA"}}]}}]});
        assert_eq!(
            parse_answer(body.to_string().as_bytes())
                .unwrap()
                .images
                .len(),
            1
        );
    }
}
