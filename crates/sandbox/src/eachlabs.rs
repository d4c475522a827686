//! A fake Eachlabs: create a prediction, poll it through created → processing →
//! success, results served from `/files`. As strict as the real one: `X-API-Key` or
//! `Authorization: Bearer`, the four Nano Banana models only, `num_images` as a number or
//! a string 1..4, jpeg/png only, `image_urls` required for edits, and at most 10
//! predictions in flight per key (a 429 with `details` past that). Its awkward shapes:
//! `output` is a string for one image and an array for several; a failure comes as
//! `error` with `message`, or as `failed` with an `output` holding `error_code` and
//! `error_message`.
//!
//! Own faults: `failed`, `failed_output`, `cancelled`, `datauri` (the prediction fails
//! because it cannot read data URIs), `credits` (402).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::FakeServer;
use super::common::{self, FakeFault, Files, Script};
use banana_core::recipe::{AspectRatio, Catalog, ImageSize, ModelInfo, OutputFormat, ProviderId};

/// The most predictions one key may have in flight.
pub const MAX_IN_FLIGHT: usize = 10;

/// A prediction counts as in flight this long at most when nobody polls it to its end.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Prediction {
    model: ModelInfo,
    input: Value,
    polls: u32,
    /// Polls it spends "created", then "processing", then it ends.
    created_polls: u32,
    processing_polls: u32,
    end: End,
    started: Instant,
    done: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum End {
    Success,
    Error,
    FailedOutput,
    Cancelled,
    DataUri,
}

struct Shared {
    key: String,
    catalog: Catalog,
    script: Script,
    files: Arc<Files>,
    predictions: Mutex<HashMap<String, Prediction>>,
    counter: AtomicU64,
    creates: AtomicU64,
    polls: AtomicU64,
    max_in_flight: AtomicUsize,
    bodies: common::Recorded,
    created_polls: u32,
    /// What the service bills per image, in micro-dollars: its own figure, not the
    /// catalog's quote (the app must record what was billed, not what it estimated).
    billed_micros: AtomicU64,
    /// Model pages read.
    schema_reads: AtomicU64,
}

/// What the fake bills per image by default: the figure of the docs' example answer
/// (`"metrics":{"cost":0.05}`), unlike any catalog price.
pub const BILLED_PER_IMAGE_USD: f64 = 0.05;

/// A running fake Eachlabs.
pub struct FakeEachlabs {
    server: FakeServer,
    /// What the handlers share; read here only by the accessors tests use.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    shared: Arc<Shared>,
}

impl FakeEachlabs {
    /// Starts the fake; each prediction stays `created` for `created_polls` polls.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        key: &str,
        created_polls: u32,
    ) -> std::io::Result<Self> {
        let bound = FakeServer::bind()?;
        let files = Arc::new(Files::new(&bound.base_url()));
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            catalog: Catalog::bundled(),
            script: Script::default(),
            files: files.clone(),
            predictions: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(1),
            creates: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            max_in_flight: AtomicUsize::new(0),
            bodies: common::Recorded::default(),
            created_polls,
            billed_micros: AtomicU64::new((BILLED_PER_IMAGE_USD * 1e6) as u64),
            schema_reads: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/v1/prediction/", post(create))
            .route("/v1/prediction/{id}", get(poll))
            .route("/v1/model", get(model_page))
            .with_state(shared.clone())
            .merge(files.router());
        let server = bound.serve(runtime, router)?;
        Ok(Self { server, shared })
    }

    #[cfg(feature = "testing")]
    /// How many model pages (request schemas) were read.
    pub fn schema_reads(&self) -> u64 {
        self.shared.schema_reads.load(Ordering::SeqCst)
    }

    /// The base URL to give the provider.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    #[cfg(feature = "testing")]
    /// Queues faults for the next creates, one each.
    pub fn script(&self, faults: impl IntoIterator<Item = FakeFault>) {
        self.shared.script.push(faults);
    }

    #[cfg(feature = "testing")]
    /// Sets what the service bills per image, in US dollars.
    pub fn set_billed_per_image(&self, usd: f64) {
        self.shared
            .billed_micros
            .store((usd * 1e6).round() as u64, Ordering::SeqCst);
    }

    #[cfg(feature = "testing")]
    /// Create calls that arrived.
    pub fn creates(&self) -> u64 {
        self.shared.creates.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// Poll calls that arrived.
    pub fn polls(&self) -> u64 {
        self.shared.polls.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// The most predictions that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// The create bodies received so far.
    pub fn request_bodies(&self) -> Vec<Value> {
        self.shared.bodies.all()
    }
}

fn error(status: StatusCode, text: &str) -> Response {
    common::json(status, json!({"error": text}))
}

fn authorised(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| common::bearer(headers));
    match given {
        Some(k) if k == shared.key => None,
        Some(_) => Some(error(StatusCode::UNAUTHORIZED, "Invalid API key")),
        None => Some(error(StatusCode::UNAUTHORIZED, "API key is required")),
    }
}

/// Checks an input the way Eachlabs does; the error names the field.
fn check(
    shared: &Shared,
    model_id: &str,
    input: &Value,
) -> Result<ModelInfo, (StatusCode, String)> {
    let bad = |text: String| Err((StatusCode::BAD_REQUEST, text));
    let Some(model) = model_of(shared, model_id) else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("Model not found: {model_id}"),
        ));
    };
    let edit = model.edit_id.as_deref() == Some(model_id);
    let schema = super::eachlabs_schema::request_schema(&model, model_id);
    if let Some(words) = super::eachlabs_schema::unknown_field(&schema, input, model_id) {
        return bad(words);
    }
    let prompt = input["prompt"].as_str().unwrap_or("");
    if prompt.trim().is_empty() {
        return bad("input.prompt is required".into());
    }
    if prompt.chars().count() > model.max_prompt_chars {
        return bad(format!(
            "input.prompt must be at most {} characters",
            model.max_prompt_chars
        ));
    }
    let n = match &input["num_images"] {
        Value::Null => Some(1),
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if !n.is_some_and(|n| (1..=4).contains(&n)) {
        return bad("input.num_images must be between 1 and 4".into());
    }
    if let Some(ratio) = input.get("aspect_ratio") {
        let ok = ratio
            .as_str()
            .and_then(|t| t.parse::<AspectRatio>().ok())
            .is_some_and(|r| r != AspectRatio::Auto && model.takes_ratio(r));
        if !ok {
            return bad(format!("input.aspect_ratio {ratio} is not supported"));
        }
    }
    if let Some(format) = input.get("output_format")
        && !matches!(format.as_str(), Some("jpeg" | "png"))
    {
        return bad("input.output_format must be one of: jpeg, png".into());
    }
    if let Some(resolution) = input.get("resolution")
        && (model.sizes.is_empty() || !matches!(resolution.as_str(), Some("1K" | "2K" | "4K")))
    {
        return bad("input.resolution must be one of: 1K, 2K, 4K".into());
    }
    if edit {
        let Some(urls) = input["image_urls"].as_array().filter(|u| !u.is_empty()) else {
            return bad("input.image_urls is required".into());
        };
        if urls.len() > model.max_inputs as usize {
            return bad(format!(
                "input.image_urls must have at most {} items",
                model.max_inputs
            ));
        }
        for url in urls {
            let text = url.as_str().unwrap_or("");
            let readable = if text.starts_with("data:") {
                common::data_uri_image(text).is_some()
            } else {
                text.starts_with("https://") || text.starts_with("http://")
            };
            if !readable {
                return bad("input.image_urls must be URLs of images".into());
            }
        }
    } else if input.get("image_urls").is_some() {
        return bad(format!("input.image_urls is not an input of {model_id}"));
    }
    Ok(model)
}

/// The model a slug names, generating or editing.
fn model_of(shared: &Shared, slug: &str) -> Option<ModelInfo> {
    shared
        .catalog
        .models_of(ProviderId::Eachlabs)
        .find(|m| m.id == slug || m.edit_id.as_deref() == Some(slug))
        .cloned()
}

/// `GET /v1/model?slug=`: the model's page with its request schema.
async fn model_page(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    shared.schema_reads.fetch_add(1, Ordering::SeqCst);
    let slug = query.get("slug").map(String::as_str).unwrap_or("");
    match model_of(&shared, slug) {
        Some(model) => common::json(
            StatusCode::OK,
            super::eachlabs_schema::model_page(&model, slug),
        ),
        None => error(StatusCode::NOT_FOUND, &format!("Model not found: {slug}")),
    }
}

fn in_flight(predictions: &HashMap<String, Prediction>) -> usize {
    predictions
        .values()
        .filter(|p| !p.done && p.started.elapsed() < ABANDONED_AFTER)
        .count()
}

async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    shared.creates.fetch_add(1, Ordering::SeqCst);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON body");
    };
    shared.bodies.push(request.clone());
    let input = request["input"].clone();
    let fault = shared.script.next(input["prompt"].as_str().unwrap_or(""));
    match &fault {
        Some(FakeFault::RateLimited { retry_after_secs }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                    (header::RETRY_AFTER, retry_after_secs.to_string()),
                ],
                json!({"status": 429, "error": "too many requests",
                       "details": "Rate limit exceeded: 100 requests per minute per API key"})
                .to_string(),
            )
                .into_response();
        }
        Some(FakeFault::ServerError { status }) => {
            return error(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "internal server error",
            );
        }
        Some(FakeFault::Own("credits")) => {
            return error(
                StatusCode::PAYMENT_REQUIRED,
                "Insufficient balance. Please top up your account.",
            );
        }
        Some(f) => {
            if let Some(response) = common::generic_fault(f) {
                return response;
            }
        }
        None => {}
    }
    // `version` is deprecated: taken and ignored.
    let model_id = request["model"].as_str().unwrap_or("");
    let model = match check(&shared, model_id, &input) {
        Ok(model) => model,
        Err((status, text)) => return error(status, &text),
    };
    let Ok(mut predictions) = shared.predictions.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "lock");
    };
    if in_flight(&predictions) >= MAX_IN_FLIGHT {
        return common::json(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"status": 429, "error": "too many requests",
                   "details": format!("Maximum {MAX_IN_FLIGHT} concurrent predictions per API key")}),
        );
    }
    let end = match fault {
        Some(FakeFault::Own("failed")) => End::Error,
        Some(FakeFault::Own("failed_output")) => End::FailedOutput,
        Some(FakeFault::Own("cancelled")) => End::Cancelled,
        Some(FakeFault::Own("datauri"))
            if input["image_urls"].as_array().is_some_and(|u| {
                u.iter()
                    .any(|u| u.as_str().is_some_and(|u| u.starts_with("data:")))
            }) =>
        {
            End::DataUri
        }
        _ => End::Success,
    };
    let extra = match fault {
        Some(FakeFault::Slow(n)) => n,
        _ => 0,
    };
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let id = format!("{n:08x}-eac4-41ab-8d3e-{:012x}", n * 104_729);
    predictions.insert(
        id.clone(),
        Prediction {
            model,
            input,
            polls: 0,
            created_polls: shared.created_polls,
            processing_polls: 1 + extra,
            end,
            started: Instant::now(),
            done: false,
        },
    );
    let now = in_flight(&predictions);
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    common::json(
        StatusCode::OK,
        json!({"status": "success", "message": "Prediction created successfully", "predictionID": id}),
    )
}

async fn poll(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    shared.polls.fetch_add(1, Ordering::SeqCst);
    let prediction = {
        let Ok(mut predictions) = shared.predictions.lock() else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "lock");
        };
        let Some(p) = predictions.get_mut(&id) else {
            return error(StatusCode::NOT_FOUND, "Prediction not found");
        };
        p.polls += 1;
        if p.polls > p.created_polls + p.processing_polls {
            p.done = true;
        }
        p.clone()
    };
    if prediction.polls <= prediction.created_polls {
        return common::json(
            StatusCode::OK,
            json!({"id": id, "status": "created", "output": null, "logs": null}),
        );
    }
    if !prediction.done {
        return common::json(
            StatusCode::OK,
            json!({"id": id, "status": "processing", "output": null, "logs": "Generating..."}),
        );
    }
    match prediction.end {
        End::Success => finish(&shared, &id, &prediction),
        End::Error => common::json(
            StatusCode::OK,
            json!({"id": id, "status": "error", "output": null,
                   "message": "Prediction failed", "details": "GPU worker ran out of memory"}),
        ),
        End::FailedOutput => common::json(
            StatusCode::OK,
            json!({"id": id, "status": "failed",
                   "output": {"error_code": "content_policy_violation",
                              "error_message": "The request was blocked by the safety filter"}}),
        ),
        End::Cancelled => common::json(
            StatusCode::OK,
            json!({"id": id, "status": "cancelled", "output": null}),
        ),
        End::DataUri => common::json(
            StatusCode::OK,
            json!({"id": id, "status": "error", "output": null,
                   "message": "Failed to download image from image_urls[0]: unsupported URL scheme 'data'"}),
        ),
    }
}

/// Renders a successful prediction's images and answers with them.
fn finish(shared: &Shared, id: &str, p: &Prediction) -> Response {
    let input = &p.input;
    let ratio = input["aspect_ratio"]
        .as_str()
        .and_then(|t| t.parse::<AspectRatio>().ok());
    let size = input["resolution"]
        .as_str()
        .and_then(|t| t.parse::<ImageSize>().ok());
    let format = match input["output_format"].as_str() {
        Some("jpeg") => OutputFormat::Jpeg,
        _ => OutputFormat::Png,
    };
    let n = match &input["num_images"] {
        Value::String(s) => s.parse().unwrap_or(1),
        v => v.as_u64().unwrap_or(1),
    };
    let prompt = input["prompt"].as_str().unwrap_or("");
    // The service downloads the first input and edits it (following its shape).
    let source = match input["image_urls"][0].as_str() {
        Some(url) => match common::read_input(url, &shared.files) {
            Some(image) => Some(image),
            None => {
                return common::json(
                    StatusCode::OK,
                    json!({"id": id, "status": "error", "output": null,
                           "message": "Failed to download image from image_urls[0]"}),
                );
            }
        },
        None => None,
    };
    let mut urls = Vec::new();
    for i in 0..n {
        match common::render_result(&p.model, prompt, i, ratio, size, format, source.as_ref()) {
            Ok(made) => {
                let name = shared
                    .files
                    .put(format.mime(), made.bytes, format.extension());
                urls.push(shared.files.url(&name));
            }
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
        }
    }
    // One image comes as a plain string, several as an array: parse both.
    let output = if urls.len() == 1 {
        json!(urls[0])
    } else {
        json!(urls)
    };
    let per_image = shared.billed_micros.load(Ordering::SeqCst) as f64 / 1e6;
    let price = per_image * n as f64;
    common::json(
        StatusCode::OK,
        json!({"id": id, "status": "success", "output": output,
               "metrics": {"predict_time": 2.5, "cost": price}, "logs": null}),
    )
}

/// How long the sandbox's predictions stay "created" (polls).
pub const SANDBOX_CREATED_POLLS: u32 = 2;
