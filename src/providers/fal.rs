//! fal.ai through its queue: upload local inputs to fal storage, submit, follow the
//! returned `status_url` (queue position and log lines go to the jobs strip), fetch the
//! `response_url`, download the images. The returned URLs are followed as given: they
//! drop the `/edit` subpath, so rebuilding them would break edits. Cancel uses `cancel_url`.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::http::{self, RetryPolicy};
use super::{
    CallContext, GenerateOutput, GenerateRequest, InputBytes, Progress, Provider, ProviderError,
    download,
};
use crate::keys::Secret;
use crate::recipe::{AspectRatio, LiveModel, ProviderId};

/// The queue host.
pub const QUEUE_BASE: &str = "https://queue.fal.run";
/// The REST host (storage uploads).
pub const REST_BASE: &str = "https://rest.fal.ai";

/// Largest JSON answer read.
const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

pub use super::poll::PollPolicy;

/// The fal.ai provider.
pub struct FalProvider {
    client: reqwest::Client,
    queue_base: String,
    rest_base: String,
    key: Secret,
    policy: RetryPolicy,
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

/// A fal error answer as a provider error.
pub fn map_error(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    endpoint: &str,
) -> ProviderError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
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
            model: endpoint.to_owned(),
            message: format!("fal.ai has no endpoint {endpoint}; pick another model"),
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

fn parse_json(bytes: &[u8], what: &str) -> Result<Value, ProviderError> {
    serde_json::from_slice(bytes).map_err(|e| ProviderError::BadResponse {
        message: format!("fal.ai's {what} is not valid JSON ({e})"),
    })
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
        "num_images": recipe.count.clamp(1, 4),
        "output_format": match recipe.format {
            crate::recipe::OutputFormat::Jpeg => "jpeg",
            crate::recipe::OutputFormat::Webp => "webp",
            crate::recipe::OutputFormat::Png => "png",
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
        body["resolution"] = json!(size.as_str());
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
        Self {
            client: http::client(),
            queue_base: queue_base.into(),
            rest_base: rest_base.into(),
            key,
            policy,
            poll: PollPolicy::default(),
        }
    }

    /// The same provider polling on another schedule (tests, slow-result timeouts).
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    fn auth(&self) -> String {
        format!("Key {}", self.key.expose())
    }

    /// A JSON call with the shared retries; the answer body on 2xx.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        what: &str,
        ctx: &CallContext,
    ) -> Result<Value, ProviderError> {
        let progress = ctx.progress.clone();
        let on_retry = move |n| progress(Progress::Retrying(n));
        let timeout_secs = self.policy.attempt_timeout.as_secs();
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        http::with_retries(&self.policy, &ctx.cancel, &on_retry, |_| {
            let mut request = self
                .client
                .request(method.clone(), url)
                .header("authorization", self.auth());
            if let Some(bytes) = &bytes {
                request = request
                    .header("content-type", "application/json")
                    .body(bytes.clone());
            }
            async move {
                let answer = http::send(request, MAX_JSON_BYTES, timeout_secs).await?;
                if (200..300).contains(&answer.status) {
                    parse_json(&answer.body, what)
                } else {
                    Err(map_error(
                        answer.status,
                        &answer.headers,
                        &answer.body,
                        what,
                    ))
                }
            }
        })
        .await
    }

    /// Uploads a local input to fal storage; returns the file URL to send.
    async fn upload(
        &self,
        input: &InputBytes,
        n: usize,
        ctx: &CallContext,
    ) -> Result<String, ProviderError> {
        let ext = crate::library::extension_for(&input.mime);
        let initiate = http::join_url(
            &self.rest_base,
            "storage/upload/initiate?storage_type=fal-cdn-v3",
        );
        let answer = self
            .call(
                reqwest::Method::POST,
                &initiate,
                Some(&json!({"content_type": input.mime, "file_name": format!("input-{}.{ext}", n + 1)})),
                "storage upload",
                ctx,
            )
            .await?;
        let upload_url = url_field(&answer, "upload_url")?;
        let file_url = url_field(&answer, "file_url")?;
        let timeout_secs = self.policy.attempt_timeout.as_secs();
        http::with_retries(&self.policy, &ctx.cancel, &|_| {}, |_| {
            // The upload URL is signed; it takes the bytes without the key.
            let request = self
                .client
                .put(&upload_url)
                .header("content-type", input.mime.clone())
                .body(input.bytes.as_ref().clone());
            async move {
                let answer = http::send(request, MAX_JSON_BYTES, timeout_secs).await?;
                if (200..300).contains(&answer.status) {
                    Ok(())
                } else {
                    Err(map_error(
                        answer.status,
                        &answer.headers,
                        &answer.body,
                        "storage upload",
                    ))
                }
            }
        })
        .await?;
        Ok(file_url)
    }

    /// Polls until the request completes; cancels it on the user's cancel or the timeout.
    async fn wait(
        &self,
        submitted: &Submitted,
        endpoint: &str,
        ctx: &CallContext,
    ) -> Result<(), ProviderError> {
        let started = Instant::now();
        let mut wait = self.poll.first;
        let mut logs_seen = 0;
        let status_url = if submitted.status_url.contains('?') {
            format!("{}&logs=1", submitted.status_url)
        } else {
            format!("{}?logs=1", submitted.status_url)
        };
        loop {
            let status = self
                .call(reqwest::Method::GET, &status_url, None, endpoint, ctx)
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
                        return Err(ProviderError::InvalidInput {
                            message: format!("fal.ai could not make the image: {error}"),
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
            if started.elapsed() >= self.poll.total {
                self.cancel(&submitted.cancel_url).await;
                return Err(ProviderError::Timeout {
                    secs: self.poll.total.as_secs(),
                });
            }
            tokio::select! {
                biased;
                () = ctx.cancel.cancelled() => {
                    self.cancel(&submitted.cancel_url).await;
                    return Err(ProviderError::Cancelled);
                }
                () = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 3 / 2).min(self.poll.max);
        }
    }

    /// Asks fal to drop a request; best effort (the job is cancelled either way).
    async fn cancel(&self, cancel_url: &str) {
        let request = self
            .client
            .put(cancel_url)
            .header("authorization", self.auth())
            .timeout(Duration::from_secs(10));
        match http::send(request, MAX_JSON_BYTES, 10).await {
            Ok(answer) => tracing::info!(status = answer.status, "asked fal.ai to cancel"),
            Err(e) => tracing::warn!("could not cancel on fal.ai: {e}"),
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
            let endpoint = request
                .model
                .request_id(request.recipe.is_edit())
                .to_owned();
            let mut image_urls = Vec::with_capacity(request.inputs.len());
            for (n, input) in request.inputs.iter().enumerate() {
                (ctx.progress)(Progress::Note(format!(
                    "Uploading input {} to fal.ai",
                    n + 1
                )));
                image_urls.push(self.upload(input, n, ctx).await?);
            }
            let body = request_body(request, &image_urls);
            let url = http::join_url(&self.queue_base, &endpoint);
            let answer = self
                .call(reqwest::Method::POST, &url, Some(&body), &endpoint, ctx)
                .await?;
            let submitted = Submitted {
                status_url: url_field(&answer, "status_url")?,
                response_url: url_field(&answer, "response_url")?,
                cancel_url: url_field(&answer, "cancel_url")?,
            };
            self.wait(&submitted, &endpoint, ctx).await?;
            let output = self
                .call(
                    reqwest::Method::GET,
                    &submitted.response_url,
                    None,
                    &endpoint,
                    ctx,
                )
                .await?;
            let urls: Vec<String> = output["images"]
                .as_array()
                .into_iter()
                .flatten()
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
                download::all(&self.client, &urls, &self.policy, ctx).await?;
            let out = GenerateOutput {
                text,
                image_turns: vec![0; images.len()],
                images,
                partial_failures,
                ..GenerateOutput::default()
            };
            Ok(out)
        })
    }

    fn list_models<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<Vec<LiveModel>, ProviderError>> {
        Box::pin(async move {
            // fal has no model list; the cheapest call that needs the key is the status
            // of a request that does not exist: 404 with a good key, 401 with a bad one.
            let endpoint = "fal-ai/nano-banana";
            let url = http::join_url(
                &self.queue_base,
                &format!("{endpoint}/requests/00000000-0000-0000-0000-000000000000/status"),
            );
            match self
                .call(reqwest::Method::GET, &url, None, endpoint, ctx)
                .await
            {
                Ok(_) | Err(ProviderError::ModelNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            Ok(super::rest::bundled_models(ProviderId::Fal))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_comes_as_a_list_or_a_string() {
        let list = json!({"detail": [{"loc": ["body", "image_urls", 0], "msg": "Image too large", "type": "image_too_large"}]});
        assert_eq!(detail_words(&list), "image_urls.0: Image too large");
        assert_eq!(
            detail_words(&json!({"detail": "Request timed out"})),
            "Request timed out"
        );
        let headers = reqwest::header::HeaderMap::new();
        let e = map_error(
            422,
            &headers,
            list.to_string().as_bytes(),
            "fal-ai/nano-banana/edit",
        );
        assert_eq!(e.kind(), crate::providers::ErrorKind::InvalidInput);
        let e = map_error(
            504,
            &headers,
            br#"{"detail":"Request timed out","error_type":"request_timeout"}"#,
            "x",
        );
        assert!(e.is_retryable());
    }

    #[test]
    fn retryable_header_decides_for_server_errors() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-fal-retryable",
            "false".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert!(!map_error(500, &headers, b"{}", "x").is_retryable());
        headers.insert(
            "x-fal-retryable",
            "true".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert!(map_error(502, &headers, b"{}", "x").is_retryable());
        assert_eq!(
            map_error(401, &reqwest::header::HeaderMap::new(), b"{}", "x").kind(),
            crate::providers::ErrorKind::Auth
        );
    }
}
