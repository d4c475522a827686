//! The Gemini API: `generateContent` with `imageConfig`, and `models.list`.
//!
//! Request mapping, response mapping and error mapping, in that order.

use std::time::Duration;

use base64::Engine as _;
use futures::future::{BoxFuture, join_all};
use serde_json::{Map, Value, json};

use super::error::ProviderError;
use super::gemini_stream::{Assembler, SseSplitter};
use super::http::{self, RetryPolicy};
use super::lift::Lifted;
use super::{
    CallContext, GenerateOutput, GenerateRequest, InputBytes, OutputImage, Progress, Provider,
    TurnPart,
};
use banana_core::Secret;
use banana_core::recipe::{AspectRatio, Grounding, LiveModel, ProviderId, Source, Usage};
use banana_core::turn_parts::{self, Spelling, decode_exact};

/// The public base URL.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The largest JSON answer we read (a 4K image is ~8 MB of base64; several may come).
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// The largest model list we read.
const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Talks to the Gemini API (or anything that speaks it, such as the sandbox fake).
pub struct GeminiProvider {
    client: reqwest::Client,
    base_url: String,
    key: Secret,
    policy: RetryPolicy,
}

impl GeminiProvider {
    /// A provider at `base_url` (which may carry a path prefix) with `key`.
    pub fn new(base_url: impl Into<String>, key: Secret, policy: RetryPolicy) -> Self {
        Self {
            client: http::client(),
            base_url: base_url.into(),
            key,
            policy,
        }
    }

    /// One request; `stream` reads it as server-sent events, telling the model's
    /// thoughts to the context as they come (request number `index` of the job).
    async fn generate_one(
        &self,
        model_id: &str,
        body: &Value,
        ctx: &CallContext,
        stream: Option<usize>,
    ) -> Result<SingleAnswer, ProviderError> {
        let method = match stream {
            Some(_) => "streamGenerateContent?alt=sse",
            None => "generateContent",
        };
        let url = http::join_url(
            &self.base_url,
            &format!("v1beta/models/{model_id}:{method}"),
        );
        let body_bytes = serde_json::to_vec(body).map_err(|e| ProviderError::InvalidInput {
            message: format!("could not build the request: {e}"),
        })?;
        let progress = ctx.progress.clone();
        let on_retry = move |n| progress(Progress::Retrying(n));
        let policy = self.policy.for_call(ctx);
        let timeout_secs = policy.attempt_timeout.as_secs();
        let answer = http::with_retries(&policy, &ctx.cancel, &on_retry, |_| {
            let request = self
                .client
                .post(&url)
                .header("x-goog-api-key", self.key.expose())
                .header("content-type", "application/json")
                .body(body_bytes.clone());
            async move {
                if let Some(index) = stream {
                    let root = read_stream(request, index, ctx, model_id, timeout_secs).await?;
                    return answer_from(root, &mut Lifted::default());
                }
                // The pictures are decoded as the body arrives (see `lift`).
                let answer = http::send_lifting(request, MAX_BODY_BYTES, timeout_secs).await?;
                if answer.status == 200 {
                    parse_answer_lifted(answer.body)
                } else {
                    Err(map_error(
                        answer.status,
                        &answer.headers,
                        &answer.body.json,
                        model_id,
                    ))
                }
            }
        })
        .await?;
        for image in &answer.images {
            ctx.arrived(image);
        }
        Ok(answer)
    }
}

/// Reads a streamed answer, telling its thoughts as they come; the chunks put together.
async fn read_stream(
    request: reqwest::RequestBuilder,
    index: usize,
    ctx: &CallContext,
    model_id: &str,
    timeout_secs: u64,
) -> Result<Value, ProviderError> {
    let response = http::start(request, timeout_secs).await?;
    let status = response.status().as_u16();
    if status != 200 {
        let headers = response.headers().clone();
        let body = http::read_body(response, MAX_LIST_BYTES, timeout_secs).await?;
        return Err(map_error(status, &headers, &body, model_id));
    }
    let tell = |thought| {
        if let Some(on_thought) = &ctx.on_thought {
            on_thought(thought);
        }
    };
    let mut splitter = SseSplitter::default();
    let mut assembler = Assembler::default();
    let mut failed = None;
    let mut on_data = |data: String| {
        if failed.is_none()
            && let Err(e) = assembler.push(&data, index, &tell)
        {
            failed = Some(e);
        }
    };
    http::read_chunks(response, MAX_BODY_BYTES, timeout_secs, |chunk| {
        splitter.push(chunk, &mut on_data)
    })
    .await?;
    splitter.finish(&mut on_data);
    if let Some(e) = failed {
        return Err(e);
    }
    assembler.finish()
}

impl Provider for GeminiProvider {
    fn id(&self) -> ProviderId {
        ProviderId::Gemini
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<GenerateOutput, ProviderError>> {
        Box::pin(async move {
            let count = request.recipe.count.max(1);
            let model_id = request
                .model
                .request_id(request.recipe.is_edit())
                .to_owned();
            // With someone to tell, a thinking model's answer streams, thoughts first.
            let stream = ctx.on_thought.is_some() && request.model.thinks();
            // Image models reject candidateCount > 1: N images are N requests.
            let bodies: Vec<Value> = (0..count)
                .map(|i| {
                    let mut body = request_body(request, u64::from(i));
                    if stream {
                        include_thoughts(&mut body);
                    }
                    body
                })
                .collect();
            let answers = join_all(
                bodies
                    .iter()
                    .enumerate()
                    .map(|(i, body)| self.generate_one(&model_id, body, ctx, stream.then_some(i))),
            )
            .await;
            merge_answers(answers)
        })
    }

    fn list_models<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<Vec<LiveModel>, ProviderError>> {
        Box::pin(async move {
            let mut models = Vec::new();
            let mut page_token: Option<String> = None;
            let policy = self.policy.for_call(ctx);
            let timeout_secs = policy.attempt_timeout.as_secs();
            loop {
                let mut url = http::join_url(&self.base_url, "v1beta/models?pageSize=1000");
                if let Some(token) = &page_token {
                    url.push_str(&format!("&pageToken={token}"));
                }
                let page: Value = http::with_retries(&policy, &ctx.cancel, &|_| {}, |_| {
                    let request = self
                        .client
                        .get(&url)
                        .header("x-goog-api-key", self.key.expose());
                    async move {
                        let answer = http::send(request, MAX_LIST_BYTES, timeout_secs).await?;
                        if answer.status != 200 {
                            return Err(map_error(
                                answer.status,
                                &answer.headers,
                                &answer.body,
                                "models.list",
                            ));
                        }
                        serde_json::from_slice(&answer.body).map_err(|e| {
                            ProviderError::BadResponse {
                                message: format!("the model list is not valid JSON ({e})"),
                            }
                        })
                    }
                })
                .await?;
                for m in page["models"].as_array().into_iter().flatten() {
                    let name = m["name"].as_str().unwrap_or_default();
                    let methods = m["supportedGenerationMethods"].as_array();
                    models.push(LiveModel {
                        id: name.strip_prefix("models/").unwrap_or(name).to_owned(),
                        display_name: m["displayName"].as_str().unwrap_or(name).to_owned(),
                        generates: methods
                            .is_some_and(|ms| ms.iter().any(|x| x == "generateContent")),
                    });
                }
                match page["nextPageToken"].as_str() {
                    Some(token) if !token.is_empty() => page_token = Some(token.to_owned()),
                    _ => break,
                }
            }
            Ok(models)
        })
    }
}

// ---- Request mapping. ----

/// Asks for the model's thoughts in the answer (`thinkingConfig.includeThoughts`).
pub fn include_thoughts(body: &mut Value) {
    let config = &mut body["generationConfig"];
    if !config["thinkingConfig"].is_object() {
        config["thinkingConfig"] = json!({});
    }
    config["thinkingConfig"]["includeThoughts"] = json!(true);
}

fn user_content(prompt: &str, inputs: &[InputBytes]) -> Value {
    let mut parts = vec![json!({ "text": prompt })];
    for input in inputs {
        parts.push(json!({
            "inlineData": { "mimeType": input.mime, "data": base64::engine::general_purpose::STANDARD.encode(input.bytes.as_slice()) }
        }));
    }
    json!({ "role": "user", "parts": parts })
}

/// The JSON body of request number `index` of a batch of `count`.
pub fn request_body(request: &GenerateRequest, index: u64) -> Value {
    let recipe = &request.recipe;
    let model = &request.model;
    let mut contents = Vec::with_capacity(request.history.len() * 2 + 1);
    for turn in &request.history {
        contents.push(user_content(&turn.prompt, &turn.inputs));
        // Sent back exactly as received: every thoughtSignature byte for byte.
        contents.push(turn.model_turn.clone());
    }
    contents.push(user_content(&recipe.prompt, &request.inputs));

    let mut image_config = Map::new();
    if let AspectRatio::Ratio(..) = recipe.aspect {
        image_config.insert("aspectRatio".into(), json!(recipe.aspect.to_string()));
    }
    if !model.sizes.is_empty()
        && let Some(size) = recipe.size.or(model.default_size)
    {
        // Uppercase only: the service rejects "2k".
        image_config.insert("imageSize".into(), json!(size.as_str()));
    }
    let mut config = Map::new();
    config.insert("responseModalities".into(), json!(["TEXT", "IMAGE"]));
    if !image_config.is_empty() {
        config.insert("imageConfig".into(), Value::Object(image_config));
    }
    if model.seed
        && let Some(seed) = recipe.seed
    {
        // Each parallel request gets its own seed so the images differ.
        config.insert("seed".into(), json!(seed.wrapping_add(index) & 0x7fff_ffff));
    }
    if let Some(level) = recipe.thinking
        && model.thinking_levels.contains(&level)
    {
        // Only a level the model takes: one without levels rejects the object.
        config.insert(
            "thinkingConfig".into(),
            json!({ "thinkingLevel": level.wire() }),
        );
    }
    let mut body = json!({ "contents": contents, "generationConfig": config });
    if let Some(search) = recipe.search {
        let mut types = Map::new();
        for kind in search.kinds() {
            let key = if *kind == "image" {
                "imageSearch"
            } else {
                "webSearch"
            };
            types.insert(key.into(), json!({}));
        }
        body["tools"] = json!([{ "googleSearch": { "searchTypes": types } }]);
    }
    body
}

// ---- Response mapping. ----

/// One request's images, text and model turn.
#[derive(Debug)]
struct SingleAnswer {
    images: Vec<OutputImage>,
    text: Option<String>,
    model_turn: Value,
    /// The pictures lifted out of `model_turn`, by placeholder index.
    parts: Vec<TurnPart>,
    /// What the call used, as `usageMetadata` says.
    usage: Option<Usage>,
    /// What it looked up, when it was grounded.
    grounding: Option<Grounding>,
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
fn parse_answer_lifted(mut body: Lifted) -> Result<SingleAnswer, ProviderError> {
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

fn answer_from(mut root: Value, pictures: &mut Lifted) -> Result<SingleAnswer, ProviderError> {
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
            images.push(OutputImage::new(mime, bytes));
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

fn merge_answers(
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

// ---- Error mapping. ----

/// Maps a non-200 answer to a typed error, in the service's own words.
pub fn map_error(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    model: &str,
) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let grpc_status = error
        .and_then(|e| e.get("status"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let details: Vec<&Value> = error
        .and_then(|e| e.get("details"))
        .and_then(Value::as_array)
        .map(|d| d.iter().collect())
        .unwrap_or_default();
    let detail_of = |suffix: &str| {
        details.iter().copied().find(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with(suffix))
        })
    };
    let reason = detail_of("google.rpc.ErrorInfo")
        .and_then(|d| d.get("reason"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let fallback = || {
        if message.is_empty() {
            format!("HTTP {status}")
        } else {
            message.clone()
        }
    };

    if reason == "API_KEY_INVALID" || status == 401 || grpc_status == "UNAUTHENTICATED" {
        return ProviderError::Auth {
            message: format!(
                "the Gemini API key was rejected ({}); check GEMINI_API_KEY",
                fallback()
            ),
        };
    }
    match status {
        403 => ProviderError::Auth {
            message: format!("the key may not use this model or API ({})", fallback()),
        },
        404 => ProviderError::ModelNotFound {
            model: model.to_owned(),
            message: format!(
                "the model {model} is not available (retired, or not enabled for this key); \
                 pick another from the live model list"
            ),
        },
        429 => {
            let retry_info = detail_of("google.rpc.RetryInfo")
                .and_then(|d| d.get("retryDelay"))
                .and_then(Value::as_str)
                .and_then(http::parse_proto_duration);
            let quota = detail_of("google.rpc.QuotaFailure")
                .and_then(|d| d.get("violations"))
                .and_then(Value::as_array)
                .and_then(|v| v.first())
                .and_then(|v| {
                    v.get("quotaId")
                        .or_else(|| v.get("quotaMetric"))
                        .or_else(|| v.get("description"))
                })
                .and_then(Value::as_str)
                .map(str::to_owned);
            ProviderError::RateLimited {
                retry_after: retry_info.or_else(|| http::retry_after_header(headers)),
                quota,
                message,
            }
        }
        400 => ProviderError::InvalidInput {
            message: format!("the service rejected the request: {}", fallback()),
        },
        _ if status >= 500 => ProviderError::Server {
            status,
            message: fallback(),
        },
        _ => ProviderError::InvalidInput {
            message: format!(
                "the service rejected the request (HTTP {status}): {}",
                fallback()
            ),
        },
    }
}

/// How long a Gemini call may take before we give up on an attempt.
pub fn default_timeout() -> Duration {
    Duration::from_secs(240)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn quota_error_names_the_limit_and_the_wait() {
        let body = json!({"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED",
            "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure",
              "violations":[{"quotaId":"GenerateRequestsPerMinute"}]},
            {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}});
        let e = map_error(429, &Default::default(), body.to_string().as_bytes(), "m");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(17)));
        assert!(e.to_string().contains("requests per minute"), "{e}");
    }
}
