//! fal.ai through its queue: upload local inputs to fal storage, submit, follow the
//! returned `status_url` (queue position and log lines go to the jobs strip), fetch the
//! `response_url`, download the images. The returned URLs are followed as given: they
//! drop the `/edit` subpath, so rebuilding them would break edits. Cancel uses `cancel_url`.

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::http::{self, Answer, RetryPolicy};
use super::poll::Poller;
use super::rest::Rest;
use super::{
    CallContext, GenerateOutput, GenerateRequest, InputBytes, Progress, Provider, ProviderError,
    download,
};
use banana_core::Secret;
use banana_core::recipe::{AspectRatio, LiveModel, ProviderId};

/// The queue host.
pub const QUEUE_BASE: &str = "https://queue.fal.run";
/// The synchronous host (not used for jobs, which go through the queue; a key may go
/// there, so an override of it counts as the key's origin).
pub const RUN_BASE: &str = "https://fal.run";
/// The REST host (storage uploads).
pub const REST_BASE: &str = "https://rest.fal.ai";

pub use super::poll::PollPolicy;

/// The fal.ai provider.
pub struct FalProvider {
    rest: Rest,
    queue_base: String,
    rest_base: String,
    poll: PollPolicy,
}

/// What the queue answered on submit.
struct Submitted {
    status_url: String,
    response_url: String,
    cancel_url: String,
}

/// fal's `detail`: a string, or a list of `{loc, msg, type}`.
fn detail_words(body: &Value) -> String {
    match &body["detail"] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let field = item["loc"]
                    .as_array()
                    .map(|loc| {
                        loc.iter()
                            .filter(|p| p.as_str() != Some("body"))
                            .map(|p| match p {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .unwrap_or_default();
                let msg = item["msg"].as_str().unwrap_or("invalid");
                if field.is_empty() {
                    msg.to_owned()
                } else {
                    format!("{field}: {msg}")
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => body["error"]
            .as_str()
            .or_else(|| body["message"].as_str())
            .unwrap_or("")
            .to_owned(),
    }
}

/// A fal error answer as a provider error. A 404 names no endpoint here; the submit
/// names it (see [`FalProvider::submit`]).
pub fn map_error(answer: &Answer) -> ProviderError {
    let (status, headers) = (answer.status, &answer.headers);
    let parsed = super::rest::error_body(answer);
    let words = detail_words(&parsed);
    let error_type = parsed["error_type"]
        .as_str()
        .or_else(|| {
            headers
                .get("x-fal-error-type")
                .and_then(|v| v.to_str().ok())
        })
        .unwrap_or("");
    let retryable = headers
        .get("x-fal-retryable")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.eq_ignore_ascii_case("true"));
    if error_type == "request_timeout" {
        return ProviderError::Server {
            status: 504,
            message: if words.is_empty() {
                "Request timed out".into()
            } else {
                words
            },
        };
    }
    match status {
        401 | 403 => ProviderError::Auth {
            message: format!(
                "fal.ai rejected the key (check FAL_KEY or the key in Settings){}",
                if words.is_empty() {
                    String::new()
                } else {
                    format!(": {words}")
                }
            ),
        },
        404 => ProviderError::ModelNotFound {
            model: String::new(),
            message: format!("fal.ai found no such endpoint or request ({words})"),
        },
        400 | 422 => ProviderError::InvalidInput {
            message: if words.is_empty() {
                format!("fal.ai refused the request (HTTP {status})")
            } else {
                words
            },
        },
        429 => ProviderError::RateLimited {
            retry_after: http::retry_after_header(headers),
            quota: None,
            message: words,
        },
        _ if status >= 500 && retryable == Some(false) => ProviderError::ServerFinal {
            status,
            message: words,
        },
        _ if status >= 500 => ProviderError::Server {
            // fal says when a retry may help; 502 is retried like 503 when it says so.
            status: if retryable == Some(true) && !matches!(status, 500 | 503 | 504) {
                503
            } else {
                status
            },
            message: words,
        },
        _ => ProviderError::BadResponse {
            message: format!("fal.ai answered HTTP {status}: {words}"),
        },
    }
}

fn url_field(v: &Value, name: &str) -> Result<String, ProviderError> {
    v[name]
        .as_str()
        .filter(|u| download::allowed(u))
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::BadResponse {
            message: format!("fal.ai's queue answer has no usable {name}"),
        })
}

/// The JSON input of a fal request.
pub fn request_body(request: &GenerateRequest, image_urls: &[String]) -> Value {
    let recipe = &request.recipe;
    let mut body = json!({
        "prompt": recipe.prompt,
        // As asked: a count the service lacks fails in its words, never shrinks.
        "num_images": recipe.count,
        "output_format": match recipe.format {
            banana_core::recipe::OutputFormat::Jpeg => "jpeg",
            banana_core::recipe::OutputFormat::Webp => "webp",
            banana_core::recipe::OutputFormat::Png => "png",
        },
    });
    match recipe.aspect {
        AspectRatio::Auto if recipe.is_edit() => body["aspect_ratio"] = json!("auto"),
        AspectRatio::Auto => {}
        ratio => body["aspect_ratio"] = json!(ratio.to_string()),
    }
    if let Some(seed) = recipe.seed {
        body["seed"] = json!(seed);
    }
    if !request.model.sizes.is_empty()
        && let Some(size) = recipe.size.or(request.model.default_size)
    {
        // fal spells the smallest size "0.5K".
        body["resolution"] = json!(match size {
            banana_core::recipe::ImageSize::S512 => "0.5K",
            other => other.as_str(),
        });
    }
    if let Some(level) = recipe.thinking
        && request.model.thinking_levels.contains(&level)
    {
        body["thinking_level"] = json!(level.as_str());
    }
    if recipe.search.is_some() && request.model.grounding.iter().any(|g| g == "web") {
        body["enable_web_search"] = json!(true);
    }
    if recipe.is_edit() {
        body["image_urls"] = json!(image_urls);
    }
    body
}

impl FalProvider {
    /// A provider on these hosts with `key`.
    pub fn new(
        queue_base: impl Into<String>,
        rest_base: impl Into<String>,
        key: Secret,
        policy: RetryPolicy,
    ) -> Self {
        let (queue_base, rest_base): (String, String) = (queue_base.into(), rest_base.into());
        Self {
            rest: Rest::new(
                "fal.ai",
                "authorization",
                format!("Key {}", key.expose()),
                policy,
                map_error,
            )
            .with_key_origins(&[&queue_base, &rest_base]),
            queue_base,
            rest_base,
            poll: PollPolicy::default(),
        }
    }

    /// The same provider with the synchronous host elsewhere (a proxy).
    pub fn with_run_base(mut self, run_base: impl Into<String>) -> Self {
        let run_base: String = run_base.into();
        self.rest = self
            .rest
            .with_key_origins(&[&self.queue_base, &self.rest_base, &run_base]);
        self
    }

    /// The same provider polling on another schedule (tests, slow-result timeouts).
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Uploads a local input to fal storage; returns the file URL to send.
    async fn upload(
        &self,
        input: &InputBytes,
        n: usize,
        ctx: &CallContext,
    ) -> Result<String, ProviderError> {
        let ext = banana_core::media::extension_for(&input.mime);
        let initiate = http::join_url(
            &self.rest_base,
            "storage/upload/initiate?storage_type=fal-cdn-v3",
        );
        let body =
            json!({"content_type": input.mime, "file_name": format!("input-{}.{ext}", n + 1)});
        let answer = self
            .rest
            .json(reqwest::Method::POST, &initiate, Some(&body), ctx)
            .await?;
        let upload_url = url_field(&answer, "upload_url")?;
        let file_url = url_field(&answer, "file_url")?;
        // The upload URL is signed; it takes the bytes without the key.
        self.rest
            .send_signed(ctx, |client| {
                client
                    .put(&upload_url)
                    .header("content-type", input.mime.clone())
                    .body(input.bytes.as_ref().clone())
            })
            .await?;
        Ok(file_url)
    }

    /// Submits to the queue; a 404 names the endpoint that does not exist.
    async fn submit(
        &self,
        endpoint: &str,
        body: &Value,
        ctx: &CallContext,
    ) -> Result<Submitted, ProviderError> {
        let url = http::join_url(&self.queue_base, endpoint);
        let answer = self
            .rest
            .json(reqwest::Method::POST, &url, Some(body), ctx)
            .await
            .map_err(|e| match e {
                ProviderError::ModelNotFound { .. } => ProviderError::ModelNotFound {
                    model: endpoint.to_owned(),
                    message: format!("fal.ai has no endpoint {endpoint}; pick another model"),
                },
                other => other,
            })?;
        let field = |name| url_field(&answer, name).map(|u| self.on_queue_base(&u));
        Ok(Submitted {
            status_url: field("status_url")?,
            response_url: field("response_url")?,
            cancel_url: field("cancel_url")?,
        })
    }

    /// A URL fal's queue handed back, on the queue base we were given: through a proxy
    /// the service still names its own host, and the key must go only to the proxy. A
    /// URL on any other host is kept as it is, and the key-origin check refuses it.
    fn on_queue_base(&self, url: &str) -> String {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return url.to_owned();
        };
        let Ok(own) = reqwest::Url::parse(QUEUE_BASE) else {
            return url.to_owned();
        };
        if parsed.origin() != own.origin() || self.queue_base == QUEUE_BASE {
            return url.to_owned();
        }
        let mut rebased = http::join_url(&self.queue_base, parsed.path());
        if let Some(query) = parsed.query() {
            rebased.push('?');
            rebased.push_str(query);
        }
        rebased
    }

    /// Polls until the request completes; cancels it on the user's cancel or the timeout.
    async fn wait(&self, submitted: &Submitted, ctx: &CallContext) -> Result<(), ProviderError> {
        let mut poller = Poller::new(&self.poll);
        let mut logs_seen = 0;
        let status_url = if submitted.status_url.contains('?') {
            format!("{}&logs=1", submitted.status_url)
        } else {
            format!("{}?logs=1", submitted.status_url)
        };
        loop {
            let status = self
                .rest
                .json(reqwest::Method::GET, &status_url, None, ctx)
                .await?;
            let logs = status["logs"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            for line in logs.iter().skip(logs_seen) {
                if let Some(message) = line["message"].as_str() {
                    (ctx.progress)(Progress::Note(format!("fal: {message}")));
                }
            }
            logs_seen = logs_seen.max(logs.len());
            match status["status"].as_str().unwrap_or("") {
                "COMPLETED" => {
                    if let Some(error) = status["error"].as_str() {
                        // A failed run (its shape is unverified: the status may carry
                        // the error, or only the response URL says so).
                        return Err(if status["error_type"] == "content_policy_violation" {
                            ProviderError::Refused {
                                reason: format!("fal.ai refused to make the image: {error}"),
                                text: None,
                            }
                        } else {
                            ProviderError::InvalidInput {
                                message: format!("fal.ai could not make the image: {error}"),
                            }
                        });
                    }
                    return Ok(());
                }
                "IN_QUEUE" => {
                    let position = status["queue_position"].as_u64().unwrap_or(0);
                    (ctx.progress)(Progress::Note(format!(
                        "In the fal.ai queue, position {position}"
                    )));
                }
                "IN_PROGRESS" => (ctx.progress)(Progress::Note("Running on fal.ai".into())),
                other => {
                    return Err(ProviderError::BadResponse {
                        message: format!("fal.ai's queue said \"{other}\""),
                    });
                }
            }
            if let Err(stopped) = poller.pause(ctx).await {
                // Cancelled or out of time: fal is asked to drop the request too.
                self.cancel(&submitted.cancel_url).await;
                return Err(stopped);
            }
        }
    }

    /// Asks fal to drop a request; best effort (the job is cancelled either way).
    async fn cancel(&self, cancel_url: &str) {
        if let Some(status) = self.rest.once(reqwest::Method::PUT, cancel_url).await {
            tracing::info!(status, "asked fal.ai to cancel");
        }
    }
}

impl Provider for FalProvider {
    fn id(&self) -> ProviderId {
        ProviderId::Fal
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<GenerateOutput, ProviderError>> {
        Box::pin(async move {
            let endpoint = request.model.request_id(request.recipe.is_edit());
            let mut image_urls = Vec::with_capacity(request.inputs.len());
            for (n, input) in request.inputs.iter().enumerate() {
                (ctx.progress)(Progress::Note(format!(
                    "Uploading input {} to fal.ai",
                    n + 1
                )));
                image_urls.push(self.upload(input, n, ctx).await?);
            }
            let body = request_body(request, &image_urls);
            let submitted = self.submit(endpoint, &body, ctx).await?;
            self.wait(&submitted, ctx).await?;
            let output = self
                .rest
                .json(reqwest::Method::GET, &submitted.response_url, None, ctx)
                .await?;
            let Some(listed) = output["images"].as_array() else {
                return Err(ProviderError::BadResponse {
                    message: "fal.ai's result has no images list".into(),
                });
            };
            let urls: Vec<String> = listed
                .iter()
                .filter_map(|i| i["url"].as_str().map(str::to_owned))
                .collect();
            let text = output["description"]
                .as_str()
                .filter(|d| !d.trim().is_empty())
                .map(str::to_owned);
            if urls.is_empty() {
                return Err(ProviderError::Refused {
                    reason: "fal.ai returned no image".into(),
                    text,
                });
            }
            let (images, partial_failures) =
                download::all(&self.rest.downloads, &urls, &self.rest.policy, ctx).await?;
            Ok(GenerateOutput {
                text,
                images,
                partial_failures,
                ..GenerateOutput::default()
            })
        })
    }

    fn list_models<'a>(
        &'a self,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<Vec<LiveModel>, ProviderError>> {
        Box::pin(async move {
            // fal has no model list; the cheapest call that needs the key is the status
            // of a request that does not exist: 404 with a good key, 401 with a bad one.
            let url = http::join_url(
                &self.queue_base,
                "fal-ai/nano-banana/requests/00000000-0000-0000-0000-000000000000/status",
            );
            super::rest::check_status(self.rest.once(reqwest::Method::GET, &url).await, "fal.ai")?;
            Ok(super::rest::bundled_models(ProviderId::Fal))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> Answer {
        Answer {
            status,
            headers: headers.clone(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn detail_comes_as_a_list_or_a_string() {
        let list = json!({"detail": [{"loc": ["body", "image_urls", 0], "msg": "Image too large", "type": "image_too_large"}]});
        assert_eq!(detail_words(&list), "image_urls.0: Image too large");
        assert_eq!(
            detail_words(&json!({"detail": "Request timed out"})),
            "Request timed out"
        );
        let headers = reqwest::header::HeaderMap::new();
        let e = map_error(&answer(422, &headers, list.to_string().as_bytes()));
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let e = map_error(&answer(
            504,
            &headers,
            br#"{"detail":"Request timed out","error_type":"request_timeout"}"#,
        ));
        assert!(e.is_retryable());
    }

    #[test]
    fn retryable_header_decides_for_server_errors() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-fal-retryable",
            "false".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert!(!map_error(&answer(500, &headers, b"{}")).is_retryable());
        headers.insert(
            "x-fal-retryable",
            "true".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert!(map_error(&answer(502, &headers, b"{}")).is_retryable());
        assert_eq!(
            map_error(&answer(401, &reqwest::header::HeaderMap::new(), b"{}")).kind(),
            crate::ErrorKind::Auth
        );
    }
}
