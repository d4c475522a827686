//! Eachlabs: create a prediction, poll it with backoff (1 s rising to 5 s) until it ends,
//! download its output (a URL string or an array of them). Local inputs travel inline as
//! data URIs; if the service cannot read them the user is told so in words. The engine
//! keeps at most 10 predictions in flight per key, Eachlabs' own limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::http::{Answer, RetryPolicy, retry_after_header};
use super::poll::{PollPolicy, Poller};
use super::rest::{self, Rest};
use super::schema_check;
use super::{
    CallContext, Charge, ErrorKind, GenerateOutput, GenerateRequest, Progress, Provider,
    ProviderError, classify_failure, download,
};
use banana_core::Secret;
use banana_core::recipe::{AspectRatio, LiveModel, OutputFormat, ProviderId};

/// The service's own host.
pub const BASE: &str = "https://api.eachlabs.ai";

/// Eachlabs' limit of predictions in flight per key; the engine never runs more.
pub const MAX_IN_FLIGHT: usize = 10;

/// The Eachlabs provider.
pub struct EachlabsProvider {
    rest: Rest,
    base: String,
    poll: PollPolicy,
    /// Request schemas read from the model pages, by slug.
    schemas: Mutex<HashMap<String, Arc<Value>>>,
}

/// An Eachlabs error answer as a provider error.
pub fn map_error(answer: &Answer) -> ProviderError {
    let body = rest::error_body(answer);
    let error = rest::first_text(&body, &["error", "message"]);
    let details = rest::first_text(&body, &["details"]);
    let words = match (error.is_empty(), details.is_empty()) {
        (false, false) => format!("{error}: {details}"),
        (false, true) => error.clone(),
        (true, _) => details.clone(),
    };
    match answer.status {
        401 | 403 => ProviderError::Auth {
            message: format!(
                "Eachlabs rejected the key (check EACHLABS_API_KEY or the key in Settings){}",
                if words.is_empty() {
                    String::new()
                } else {
                    format!(": {words}")
                }
            ),
        },
        402 => ProviderError::OutOfCredits {
            message: format!(
                "Eachlabs says the account's balance is too low ({}); top up at console.eachlabs.ai",
                if words.is_empty() { "HTTP 402" } else { &words }
            ),
        },
        404 if error.to_ascii_lowercase().contains("prediction") => ProviderError::BadResponse {
            message: format!("Eachlabs no longer knows the prediction ({words})"),
        },
        404 => ProviderError::ModelNotFound {
            model: error.rsplit(": ").next().unwrap_or_default().to_owned(),
            message: format!("Eachlabs has no such model ({words}); pick another model"),
        },
        400 | 422 => ProviderError::InvalidInput {
            message: if words.is_empty() {
                format!("Eachlabs refused the request (HTTP {})", answer.status)
            } else {
                format!("Eachlabs refused the request: {words}")
            },
        },
        429 => ProviderError::RateLimited {
            retry_after: retry_after_header(&answer.headers),
            quota: Some("Eachlabs: 100 requests a minute, 10 predictions at once per key".into()),
            message: if details.is_empty() { error } else { details },
        },
        status if status >= 500 => ProviderError::Server {
            status,
            message: words,
        },
        status => ProviderError::BadResponse {
            message: format!("Eachlabs answered HTTP {status}: {words}"),
        },
    }
}

/// The JSON body of a prediction.
pub fn request_body(request: &GenerateRequest, image_urls: &[String]) -> Value {
    let recipe = &request.recipe;
    let mut input = json!({
        "prompt": recipe.prompt,
        // As asked: a count the service lacks fails in its words, never shrinks.
        "num_images": recipe.count,
        "output_format": match recipe.format {
            OutputFormat::Jpeg => "jpeg",
            _ => "png",
        },
    });
    if recipe.aspect != AspectRatio::Auto {
        input["aspect_ratio"] = json!(recipe.aspect.to_string());
    }
    if !request.model.sizes.is_empty()
        && let Some(size) = recipe.size.or(request.model.default_size)
    {
        input["resolution"] = json!(size.as_str());
    }
    if recipe.is_edit() {
        input["image_urls"] = json!(image_urls);
    }
    // No `version`: deprecated, and ignored by the service.
    json!({
        "model": request.model.request_id(recipe.is_edit()),
        "input": input,
        "webhook_url": "",
    })
}

/// A prediction's `output`: one URL, an array of URLs (or of `{url}`), or nothing.
pub fn output_urls(output: &Value) -> Vec<String> {
    match output {
        Value::String(url) => vec![url.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|item| {
                item.as_str()
                    .or_else(|| item["url"].as_str())
                    .map(str::to_owned)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Why a prediction failed, from whichever shape it came in.
fn failure_words(status: &Value) -> String {
    let output = &status["output"];
    let from_output = rest::first_text(output, &["error_message", "error", "message"]);
    if !from_output.is_empty() {
        let code = rest::first_text(output, &["error_code"]);
        return if code.is_empty() {
            from_output
        } else {
            format!("{from_output} ({code})")
        };
    }
    let message = rest::first_text(status, &["message", "error"]);
    let details = rest::first_text(status, &["details"]);
    match (message.is_empty(), details.is_empty()) {
        (false, false) => format!("{message}: {details}"),
        (false, true) => message,
        _ => details,
    }
}

impl EachlabsProvider {
    /// A provider on `base` with `key`.
    pub fn new(base: impl Into<String>, key: Secret, policy: RetryPolicy) -> Self {
        let base: String = base.into();
        Self {
            rest: Rest::new(
                "Eachlabs",
                "x-api-key",
                key.expose().to_owned(),
                policy,
                map_error,
            )
            .with_key_origins(&[&base]),
            base,
            poll: PollPolicy::eachlabs(),
            schemas: Mutex::default(),
        }
    }

    /// The same provider polling on another schedule (sandbox, tests).
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// The request schema the service publishes for `slug` (its model page), read once;
    /// None when the page has none or could not be read (then the service judges).
    async fn schema(
        &self,
        slug: &str,
        ctx: &CallContext,
    ) -> Result<Option<Arc<Value>>, ProviderError> {
        if let Some(known) = self.schemas.lock().ok().and_then(|s| s.get(slug).cloned()) {
            return Ok(Some(known));
        }
        let url = self.url(&format!("v1/model?slug={slug}"));
        match self.rest.json(reqwest::Method::GET, &url, None, ctx).await {
            Ok(page) => {
                let schema = page
                    .get("request_schema")
                    .or_else(|| page.get("input_schema"))
                    .filter(|s| s.is_object())
                    .cloned()
                    .map(Arc::new);
                if let (Some(schema), Ok(mut schemas)) = (&schema, self.schemas.lock()) {
                    schemas.insert(slug.to_owned(), schema.clone());
                }
                Ok(schema)
            }
            // A page that answers badly leaves the judging to the service; a service
            // that cannot be reached, refuses the key or lacks the model fails the job
            // here, as the prediction would.
            Err(e) if matches!(e.kind(), ErrorKind::Server | ErrorKind::BadResponse) => {
                tracing::warn!(
                    "the Eachlabs model page of {slug} could not be read ({e}); sending unchecked"
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn url(&self, path: &str) -> String {
        super::http::join_url(&self.base, path)
    }

    /// Polls until the prediction ends; its final status on success.
    async fn wait(
        &self,
        id: &str,
        sent_inline: bool,
        ctx: &CallContext,
    ) -> Result<Value, ProviderError> {
        let url = self.url(&format!("v1/prediction/{id}"));
        let mut poller = Poller::new(&self.poll);
        loop {
            let status = self
                .rest
                .json(reqwest::Method::GET, &url, None, ctx)
                .await?;
            match status["status"].as_str().unwrap_or("") {
                "success" => return Ok(status),
                "error" | "failed" => {
                    let words = failure_words(&status);
                    let lower = words.to_ascii_lowercase();
                    if sent_inline && (lower.contains("data") || lower.contains("image_urls")) {
                        return Err(ProviderError::InvalidInput {
                            message: format!(
                                "Eachlabs could not read the input images, which it gets inline \
                                 as data URIs ({words}). Edit this image with fal.ai, Vydra or \
                                 Gemini, which take local files"
                            ),
                        });
                    }
                    return Err(classify_failure("Eachlabs", &words));
                }
                "cancelled" | "canceled" => {
                    return Err(ProviderError::Failed {
                        message: "Eachlabs cancelled the prediction on its side; try again".into(),
                    });
                }
                "created" | "starting" | "queued" => {
                    (ctx.progress)(Progress::Note("Waiting on Eachlabs to start".into()));
                }
                "processing" | "running" => {
                    (ctx.progress)(Progress::Note("Running on Eachlabs".into()));
                }
                other => {
                    return Err(ProviderError::BadResponse {
                        message: format!("Eachlabs said the prediction is \"{other}\""),
                    });
                }
            }
            // Eachlabs has no cancel call: the prediction is left to end on its own.
            poller.pause(ctx).await?;
        }
    }
}

impl Provider for EachlabsProvider {
    fn id(&self) -> ProviderId {
        ProviderId::Eachlabs
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<GenerateOutput, ProviderError>> {
        Box::pin(async move {
            let image_urls: Vec<String> = request.inputs.iter().map(|i| i.data_uri()).collect();
            let mut body = request_body(request, &image_urls);
            let slug = request.model.request_id(request.recipe.is_edit());
            if let Some(schema) = self.schema(slug, ctx).await? {
                schema_check::conform(&mut body["input"], &schema).map_err(|words| {
                    ProviderError::InvalidInput {
                        message: format!(
                            "Eachlabs' {} ({slug}) does not take this recipe: {words}",
                            request.model.brand
                        ),
                    }
                })?;
            }
            let created = self
                .rest
                .json(
                    reqwest::Method::POST,
                    &self.url("v1/prediction/"),
                    Some(&body),
                    ctx,
                )
                .await?;
            let Some(id) = created["predictionID"].as_str().filter(|id| !id.is_empty()) else {
                return Err(ProviderError::BadResponse {
                    message: "Eachlabs created no prediction id".into(),
                });
            };
            let status = self.wait(id, !image_urls.is_empty(), ctx).await?;
            if !matches!(status["output"], Value::String(_) | Value::Array(_)) {
                return Err(ProviderError::BadResponse {
                    message: "Eachlabs' finished prediction has no output URL".into(),
                });
            }
            let urls = output_urls(&status["output"]);
            if urls.is_empty() {
                return Err(ProviderError::Refused {
                    reason: "Eachlabs returned no image".into(),
                    text: None,
                });
            }
            let (images, partial_failures) =
                download::all(&self.rest.downloads, &urls, &self.rest.policy, ctx).await?;
            Ok(GenerateOutput {
                images,
                partial_failures,
                charged: Charge {
                    usd: status["metrics"]["cost"].as_f64(),
                    ..Charge::default()
                },
                ..GenerateOutput::default()
            })
        })
    }

    fn list_models<'a>(
        &'a self,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<Vec<LiveModel>, ProviderError>> {
        Box::pin(async move {
            // The cheapest call that needs the key: a prediction that does not exist
            // (404 with a good key, 401 with a bad one).
            let url = self.url("v1/prediction/00000000-0000-0000-0000-000000000000");
            rest::check_status(self.rest.once(reqwest::Method::GET, &url).await, "Eachlabs")?;
            Ok(rest::bundled_models(ProviderId::Eachlabs))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_a_string_or_an_array() {
        assert_eq!(
            output_urls(&json!("https://x/a.png")),
            vec!["https://x/a.png"]
        );
        assert_eq!(
            output_urls(&json!(["https://x/a.png", {"url": "https://x/b.png"}])),
            vec!["https://x/a.png", "https://x/b.png"]
        );
        assert!(output_urls(&Value::Null).is_empty());
    }

    #[test]
    fn failures_read_from_either_shape() {
        let nested = json!({"status": "failed", "output": {"error_code": "E1", "error_message": "bad seed"}});
        assert_eq!(failure_words(&nested), "bad seed (E1)");
        let flat = json!({"status": "error", "message": "Prediction failed", "details": "OOM"});
        assert_eq!(failure_words(&flat), "Prediction failed: OOM");
    }
}
