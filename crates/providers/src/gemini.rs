//! The Gemini API: `generateContent` with `imageConfig`, and `models.list`.
//!
//! Request mapping, response mapping and error mapping, in that order.

use std::time::Duration;

use base64::Engine as _;
use futures::future::{BoxFuture, join_all};
use serde_json::{Map, Value, json};

use super::error::ProviderError;
use super::gemini_answer::{SingleAnswer, answer_from, merge_answers, parse_answer_lifted};
use super::gemini_files::{
    FilesApi, INLINE_LIMIT_BYTES, InputFiles, Uploads, file_gone, input_key,
};
use super::gemini_stream::{Assembler, SseSplitter};
use super::http::{self, RetryPolicy};
use super::lift::Lifted;
use super::{CallContext, GenerateOutput, GenerateRequest, InputBytes, Progress, Provider};
use banana_core::Secret;
use banana_core::recipe::{AspectRatio, LiveModel, ProviderId};

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
    /// Inputs this key uploaded through the Files API, reused while they live.
    uploads: Uploads,
    /// Past this many bytes of inline pictures, inputs go through the Files API.
    inline_limit: usize,
}

impl GeminiProvider {
    /// A provider at `base_url` (which may carry a path prefix) with `key`.
    pub fn new(base_url: impl Into<String>, key: Secret, policy: RetryPolicy) -> Self {
        Self {
            client: http::client(),
            base_url: base_url.into(),
            key,
            policy,
            uploads: Uploads::default(),
            inline_limit: INLINE_LIMIT_BYTES,
        }
    }

    /// The same provider with another inline limit (tests send small inputs as files).
    pub fn with_inline_limit(mut self, bytes: usize) -> Self {
        self.inline_limit = bytes;
        self
    }

    fn files_api(&self) -> FilesApi<'_> {
        self.files_api_with_limit(self.inline_limit)
    }

    /// The Files API of this key, uploading inputs past `inline_limit` bytes.
    pub(crate) fn files_api_with_limit(&self, inline_limit: usize) -> FilesApi<'_> {
        FilesApi {
            client: &self.client,
            base_url: &self.base_url,
            key: &self.key,
            policy: &self.policy,
            uploads: &self.uploads,
            inline_limit,
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(crate) fn key(&self) -> &Secret {
        &self.key
    }

    /// Sends the job's requests with these inputs as files.
    async fn send_all(
        &self,
        request: &GenerateRequest,
        ctx: &CallContext,
        files: &InputFiles,
    ) -> Result<GenerateOutput, ProviderError> {
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
                let mut body = request_body(request, u64::from(i), files);
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
                let answer =
                    http::send_lifting(request, MAX_BODY_BYTES, timeout_secs, ctx.spool.clone())
                        .await?;
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
    let event_stream = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"));
    let tell = |thought| {
        if let Some(on_thought) = &ctx.on_thought {
            on_thought(thought);
        }
    };
    let mut assembler = Assembler::default();
    if !event_stream {
        // A gateway that does not stream answers whole: one answer, or the chunks as
        // one JSON array.
        let body = http::read_body(response, MAX_BODY_BYTES, timeout_secs).await?;
        let whole: Value =
            serde_json::from_slice(&body).map_err(|e| ProviderError::BadResponse {
                message: format!("the answer is not valid JSON ({e})"),
            })?;
        match whole {
            Value::Array(chunks) => {
                for chunk in chunks {
                    assembler.push_value(chunk, index, &tell)?;
                }
            }
            one => assembler.push_value(one, index, &tell)?,
        }
        return assembler.finish();
    }
    let mut splitter = SseSplitter::default();
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

    fn as_gemini(&self) -> Option<&GeminiProvider> {
        Some(self)
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<GenerateOutput, ProviderError>> {
        Box::pin(async move {
            let files = self.files_api().place(request, ctx).await?;
            let out = self.send_all(request, ctx, &files).await;
            match out {
                // A file the service no longer has (its 48 hours ended): upload again.
                Err(e) if !files.is_empty() && file_gone(&e) => {
                    tracing::info!("an uploaded input is gone; uploading it again");
                    self.uploads.forget_all();
                    let files = self.files_api().place(request, ctx).await?;
                    self.send_all(request, ctx, &files).await
                }
                out => out,
            }
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

fn user_content(prompt: &str, inputs: &[InputBytes], files: &InputFiles) -> Value {
    let mut parts = vec![json!({ "text": prompt })];
    for input in inputs {
        parts.push(match files.get(&input_key(input)) {
            Some(file) => json!({
                "fileData": { "mimeType": file.mime, "fileUri": file.uri }
            }),
            None => json!({
                "inlineData": { "mimeType": input.mime, "data": base64::engine::general_purpose::STANDARD.encode(input.bytes.as_slice()) }
            }),
        });
    }
    json!({ "role": "user", "parts": parts })
}

/// The JSON body of request number `index` of a batch of `count`, the inputs in
/// `files` named by their uploads.
pub fn request_body(request: &GenerateRequest, index: u64, files: &InputFiles) -> Value {
    let recipe = &request.recipe;
    let model = &request.model;
    let mut contents = Vec::with_capacity(request.history.len() * 2 + 1);
    for turn in &request.history {
        contents.push(user_content(&turn.prompt, &turn.inputs, files));
        // Sent back exactly as received: every thoughtSignature byte for byte.
        contents.push(turn.model_turn.clone());
    }
    contents.push(user_content(&recipe.prompt, &request.inputs, files));

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

/// The answer when it is a 200, else its error in the service's words.
pub fn ok_or_error(answer: http::Answer, what: &str) -> Result<http::Answer, ProviderError> {
    if answer.status == 200 {
        Ok(answer)
    } else {
        Err(map_error(
            answer.status,
            &answer.headers,
            &answer.body,
            what,
        ))
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
