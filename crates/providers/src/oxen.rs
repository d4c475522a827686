//! Oxen.ai: one image through the synchronous `/api/ai/images/edit` with
//! `response_format: b64_json` (no second download); several through the queue
//! (`num_generations`, each generation polled on `/api/ai/queue/{id}`). Local inputs go
//! inline as data URIs. A queued generation that ends `failed` brings its
//! `error_message` to the user; others that succeeded are kept.

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::http::{Answer, RetryPolicy, retry_after_header};
use super::poll::{PollPolicy, Poller};
use super::rest::{self, Rest};
use super::{
    CallContext, GenerateOutput, GenerateRequest, OutputImage, Progress, Provider, ProviderError,
    classify_failure, download,
};
use banana_core::Secret;
use banana_core::recipe::{AspectRatio, LiveModel, ProviderId};

/// The service's own host.
pub const BASE: &str = "https://hub.oxen.ai";

/// Inline base64 images make big answers: a 4K PNG is ~30 MB as base64.
const MAX_SYNC_BODY: usize = 96 * 1024 * 1024;

/// The Oxen.ai provider.
pub struct OxenProvider {
    rest: Rest,
    base: String,
    poll: PollPolicy,
}

/// An Oxen error answer as a provider error. The envelope is `{status, status_message}`
/// on the hub; `error`, `message` or plain text are read too.
pub fn map_error(answer: &Answer) -> ProviderError {
    let body = rest::error_body(answer);
    let mut words = rest::first_text(&body, &["status_message", "error", "message", "detail"]);
    if words.is_empty() && body.is_null() {
        words = String::from_utf8_lossy(&answer.body)
            .trim()
            .chars()
            .take(200)
            .collect();
    }
    let said = |prefix: &str| {
        if words.is_empty() {
            format!("{prefix} (HTTP {})", answer.status)
        } else {
            format!("{prefix}: {words}")
        }
    };
    if let Some(name) = words.strip_prefix("Model not found: ") {
        return ProviderError::ModelNotFound {
            model: name.to_owned(),
            message: format!("Oxen.ai has no model {name}; pick another model"),
        };
    }
    match answer.status {
        401 => ProviderError::Auth {
            message: said("Oxen.ai rejected the key (check OXEN_API_KEY or the key in Settings)"),
        },
        403 => ProviderError::Auth {
            message: said("Oxen.ai says this key may not do that"),
        },
        402 => ProviderError::OutOfCredits {
            message: said("Oxen.ai says the account has no credit left; top up at oxen.ai"),
        },
        404 => ProviderError::ModelNotFound {
            model: String::new(),
            message: said("Oxen.ai found no such model"),
        },
        400 | 422 => ProviderError::InvalidInput {
            message: said("Oxen.ai refused the request"),
        },
        429 => ProviderError::RateLimited {
            retry_after: retry_after_header(&answer.headers),
            quota: None,
            message: words,
        },
        status if status >= 500 => ProviderError::Server {
            status,
            message: words,
        },
        status => ProviderError::BadResponse {
            message: format!("Oxen.ai answered HTTP {status}: {words}"),
        },
    }
}

/// The JSON body of a sync call (`count` 1) or a queue submission.
pub fn request_body(request: &GenerateRequest) -> Value {
    let recipe = &request.recipe;
    let mut body = json!({
        "model": request.model.request_id(recipe.is_edit()),
        "prompt": recipe.prompt,
    });
    if recipe.aspect != AspectRatio::Auto {
        body["aspect_ratio"] = json!(recipe.aspect.to_string());
    }
    if !request.model.sizes.is_empty()
        && let Some(size) = recipe.size.or(request.model.default_size)
    {
        body["resolution"] = json!(size.as_str());
    }
    if recipe.search.is_some() && request.model.grounding.iter().any(|g| g == "web") {
        body["enable_web_search"] = json!(true);
    }
    if !request.inputs.is_empty() {
        body["input_image"] = json!(
            request
                .inputs
                .iter()
                .map(|i| i.data_uri())
                .collect::<Vec<_>>()
        );
    }
    if recipe.count > 1 {
        // Sent as asked: a count Oxen lacks must fail in words, not shrink silently
        // (the recipe's own check stops it first).
        body["num_generations"] = json!(recipe.count);
    } else {
        body["response_format"] = json!("b64_json");
    }
    body
}

/// One generation of a queue submission, while it is followed.
struct Followed {
    id: String,
    outcome: Option<Result<String, String>>,
}

impl OxenProvider {
    /// A provider on `base` with `key`.
    pub fn new(base: impl Into<String>, key: Secret, policy: RetryPolicy) -> Self {
        let base: String = base.into();
        Self {
            rest: Rest::new(
                "Oxen.ai",
                "authorization",
                format!("Bearer {}", key.expose()),
                policy,
                map_error,
            )
            .with_max_body(MAX_SYNC_BODY)
            .with_key_origins(&[&base]),
            base,
            poll: PollPolicy::default(),
        }
    }

    /// The same provider polling on another schedule (sandbox, tests).
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    fn url(&self, path: &str) -> String {
        super::http::join_url(&self.base, path)
    }

    /// One image, synchronously.
    async fn one(&self, body: &Value, ctx: &CallContext) -> Result<GenerateOutput, ProviderError> {
        (ctx.progress)(Progress::Note("Running on Oxen.ai".into()));
        let answer = self
            .rest
            .json(
                reqwest::Method::POST,
                &self.url("api/ai/images/edit"),
                Some(body),
                ctx,
            )
            .await?;
        let mut images = Vec::new();
        let mut urls = Vec::new();
        let Some(items) = answer["images"].as_array() else {
            return Err(ProviderError::BadResponse {
                message: "Oxen.ai's answer has no images list".into(),
            });
        };
        for item in items {
            if let Some(b64) = item["b64_json"].as_str() {
                let bytes = super::b64::decode(b64).map_err(|_| ProviderError::BadResponse {
                    message: "Oxen.ai sent an image that is not valid base64".into(),
                })?;
                let mime = banana_core::media::sniff_mime(&bytes).ok_or_else(|| {
                    ProviderError::BadResponse {
                        message: "Oxen.ai sent base64 that is not an image".into(),
                    }
                })?;
                let image = OutputImage::new(mime, bytes);
                ctx.arrived(&image);
                images.push(image);
            } else if let Some(url) = item["url"].as_str() {
                urls.push(url.to_owned());
            }
        }
        let mut partial_failures = Vec::new();
        if !urls.is_empty() {
            let (fetched, failed) =
                download::all(&self.rest.downloads, &urls, &self.rest.policy, ctx).await?;
            images.extend(fetched);
            partial_failures = failed;
        }
        if images.is_empty() {
            return Err(ProviderError::Refused {
                reason: "Oxen.ai returned no image".into(),
                text: None,
            });
        }
        Ok(GenerateOutput {
            images,
            partial_failures,
            ..GenerateOutput::default()
        })
    }

    /// Several images through the queue.
    async fn queued(
        &self,
        body: &Value,
        ctx: &CallContext,
    ) -> Result<GenerateOutput, ProviderError> {
        let answer = self
            .rest
            .json(
                reqwest::Method::POST,
                &self.url("api/ai/queue"),
                Some(body),
                ctx,
            )
            .await?;
        let mut followed: Vec<Followed> = answer["generations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["generation_id"].as_str())
            .map(|id| Followed {
                id: id.to_owned(),
                outcome: None,
            })
            .collect();
        if followed.is_empty() {
            return Err(ProviderError::BadResponse {
                message: "Oxen.ai queued no generation".into(),
            });
        }
        let mut poller = Poller::new(&self.poll);
        loop {
            let mut queued = 0;
            let mut running = 0;
            for generation in followed.iter_mut().filter(|g| g.outcome.is_none()) {
                let url = self.url(&format!("api/ai/queue/{}", generation.id));
                let status = self
                    .rest
                    .json(reqwest::Method::GET, &url, None, ctx)
                    .await?;
                match status["status"].as_str().unwrap_or("") {
                    "succeeded" | "completed" => {
                        generation.outcome = Some(
                            status["result_url"]
                                .as_str()
                                .map(str::to_owned)
                                .ok_or_else(|| "Oxen.ai finished without a result URL".to_owned()),
                        );
                    }
                    "failed" => {
                        let words = rest::first_text(&status, &["error_message", "error"]);
                        generation.outcome = Some(Err(words));
                    }
                    "cancelled" => {
                        generation.outcome =
                            Some(Err("Oxen.ai cancelled the generation on its side".into()));
                    }
                    "queued" => queued += 1,
                    "processing" => running += 1,
                    other => {
                        return Err(ProviderError::BadResponse {
                            message: format!("Oxen.ai said the generation is \"{other}\""),
                        });
                    }
                }
            }
            if queued + running == 0 {
                break;
            }
            let done = followed.len() - queued - running;
            (ctx.progress)(Progress::Note(format!(
                "Oxen.ai: {done} of {} done, {running} running, {queued} queued",
                followed.len()
            )));
            // Oxen.ai has no documented cancel call: the generations end on their own.
            poller.pause(ctx).await?;
        }
        let mut urls = Vec::new();
        let mut failures = Vec::new();
        for outcome in followed.into_iter().filter_map(|g| g.outcome) {
            match outcome {
                Ok(url) => urls.push(url),
                Err(words) => failures.push(words),
            }
        }
        if urls.is_empty() {
            return Err(classify_failure("Oxen.ai", &failures.join("; ")));
        }
        let (images, mut partial_failures) =
            download::all(&self.rest.downloads, &urls, &self.rest.policy, ctx).await?;
        partial_failures.extend(
            failures
                .into_iter()
                .map(|w| classify_failure("Oxen.ai", &w).to_string()),
        );
        Ok(GenerateOutput {
            images,
            partial_failures,
            ..GenerateOutput::default()
        })
    }
}

impl Provider for OxenProvider {
    fn id(&self) -> ProviderId {
        ProviderId::Oxen
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<GenerateOutput, ProviderError>> {
        Box::pin(async move {
            let body = request_body(request);
            if request.recipe.count > 1 {
                self.queued(&body, ctx).await
            } else {
                self.one(&body, ctx).await
            }
        })
    }

    fn list_models<'a>(
        &'a self,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<Vec<LiveModel>, ProviderError>> {
        Box::pin(async move {
            // The cheapest call that needs the key: a generation that does not exist.
            let url = self.url("api/ai/queue/gen_000000000000");
            rest::check_status(self.rest.once(reqwest::Method::GET, &url).await, "Oxen.ai")?;
            Ok(rest::bundled_models(ProviderId::Oxen))
        })
    }
}
