//! A fake Oxen.ai: the synchronous `/api/ai/images/edit` (URLs or `b64_json`), and the
//! queue (`/api/ai/queue` with `num_generations`, one generation id each, polled through
//! queued → processing → succeeded / failed). As strict as the real one: a Bearer key,
//! model `nano-banana` only ("Model not found: NAME"), the seven ratios Oxen takes,
//! `input_image` as URLs or data URIs that must hold images (the first is downloaded and
//! edited). Its awkward shape: queue parameters, `num_generations` included, are checked
//! only when the job runs, so a bad one ends `failed` with an `error_message`, not a 400.
//!
//! Errors are the bare words the docs quote ("Model not found: NAME"); the JSON envelope
//! is unverified, so the `json-error` fault answers `{"error": ...}` to cover that reading.
//!
//! Own faults: `failed` (the first generation fails), `cancelled` (the first generation
//! is cancelled on Oxen's side), `forbidden` (403), `json-error` (400 as JSON).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

use super::FakeServer;
use super::common::{self, FakeFault, Files, Script};
use banana_core::recipe::{AspectRatio, Catalog, ModelInfo, OutputFormat, ProviderId};

#[derive(Clone)]
struct Generation {
    input: Value,
    index: u64,
    polls: u32,
    queued_polls: u32,
    processing_polls: u32,
    fail: bool,
    cancelled: bool,
}

struct Shared {
    key: String,
    catalog: Catalog,
    script: Script,
    files: Arc<Files>,
    generations: Mutex<HashMap<String, Generation>>,
    counter: AtomicU64,
    sync_calls: AtomicU64,
    queue_calls: AtomicU64,
    polls: AtomicU64,
    bodies: common::Recorded,
    queued_polls: u32,
}

/// A running fake Oxen.ai.
pub struct FakeOxen {
    server: FakeServer,
    /// What the handlers share; read here only by the accessors tests use.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    shared: Arc<Shared>,
}

impl FakeOxen {
    /// Starts the fake; each queued generation waits `queued_polls` polls before it runs.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        key: &str,
        queued_polls: u32,
    ) -> std::io::Result<Self> {
        let bound = FakeServer::bind()?;
        let files = Arc::new(Files::new(&bound.base_url()));
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            catalog: Catalog::bundled(),
            script: Script::default(),
            files: files.clone(),
            generations: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(1),
            sync_calls: AtomicU64::new(0),
            queue_calls: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            bodies: common::Recorded::default(),
            queued_polls,
        });
        let router = Router::new()
            .route("/api/ai/images/edit", post(sync))
            .route("/api/ai/queue", post(enqueue))
            .route("/api/ai/queue/{id}", get(poll))
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone())
            .merge(files.router());
        let server = bound.serve(runtime, router)?;
        Ok(Self { server, shared })
    }

    /// The base URL to give the provider.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    #[cfg(feature = "testing")]
    /// Queues faults for the next sync or queue calls, one each.
    pub fn script(&self, faults: impl IntoIterator<Item = FakeFault>) {
        self.shared.script.push(faults);
    }

    #[cfg(feature = "testing")]
    /// Synchronous calls that arrived.
    pub fn sync_calls(&self) -> u64 {
        self.shared.sync_calls.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// Queue submissions that arrived.
    pub fn queue_calls(&self) -> u64 {
        self.shared.queue_calls.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// Generation polls that arrived.
    pub fn polls(&self) -> u64 {
        self.shared.polls.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// The bodies received so far (sync and queue).
    pub fn request_bodies(&self) -> Vec<Value> {
        self.shared.bodies.all()
    }
}

/// An error as the docs quote it: the bare words ("Model not found: NAME"). Oxen's JSON
/// envelope is unverified, so the `json-error` fault answers `{"error": ...}` instead.
fn error(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response()
}

fn authorised(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    match common::bearer(headers) {
        Some(k) if k == shared.key => None,
        _ => Some(error(StatusCode::UNAUTHORIZED, "Unauthorized")),
    }
}

fn model(shared: &Shared, id: &str) -> Result<ModelInfo, (StatusCode, String)> {
    shared
        .catalog
        .models_of(ProviderId::Oxen)
        .find(|m| m.id == id)
        .cloned()
        .ok_or((StatusCode::NOT_FOUND, format!("Model not found: {id}")))
}

/// The checks Oxen makes of an input; the words name the field.
fn check(model: &ModelInfo, input: &Value) -> Result<(), String> {
    let prompt = input["prompt"].as_str().unwrap_or("");
    if prompt.trim().is_empty() {
        return Err("prompt is required".into());
    }
    if prompt.chars().count() > model.max_prompt_chars {
        return Err(format!(
            "prompt must be at most {} characters",
            model.max_prompt_chars
        ));
    }
    if let Some(n) = input.get("num_generations")
        && !n.as_u64().is_some_and(|n| (1..=4).contains(&n))
    {
        return Err(format!("num_generations must be between 1 and 4, not {n}"));
    }
    if let Some(ratio) = input.get("aspect_ratio") {
        let ok = ratio
            .as_str()
            .and_then(|t| t.parse::<AspectRatio>().ok())
            .is_some_and(|r| r != AspectRatio::Auto && model.takes_ratio(r));
        if !ok {
            return Err(format!(
                "Invalid aspect_ratio {ratio}; supported: 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3"
            ));
        }
    }
    if let Some(resolution) = input.get("resolution") {
        let taken: Vec<&str> = model.sizes.iter().map(|s| s.as_str()).collect();
        if taken.is_empty() {
            return Err(format!("resolution is not supported by {}", model.id));
        }
        if !resolution.as_str().is_some_and(|r| taken.contains(&r)) {
            return Err(format!(
                "Invalid resolution {resolution}; supported: {}",
                taken.join(", ")
            ));
        }
    }
    if let Some(search) = input.get("enable_web_search") {
        if model.grounding.is_empty() {
            return Err(format!(
                "enable_web_search is not supported by {}",
                model.id
            ));
        }
        if !search.is_boolean() {
            return Err("enable_web_search must be true or false".into());
        }
    }
    if let Some(images) = input.get("input_image") {
        let Some(list) = images.as_array() else {
            return Err("input_image must be a list of image URLs".into());
        };
        if list.len() > model.max_inputs as usize {
            return Err(format!(
                "input_image takes at most {} images",
                model.max_inputs
            ));
        }
        for image in list {
            let text = image.as_str().unwrap_or("");
            let ok = if text.starts_with("data:") {
                common::data_uri_image(text).is_some()
            } else {
                text.starts_with("https://") || text.starts_with("http://")
            };
            if !ok {
                return Err("input_image holds something that is not an image".into());
            }
        }
    }
    Ok(())
}

/// The answers for the generic faults and Oxen's own; None to go on.
fn fault_answer(fault: Option<&FakeFault>) -> Option<Response> {
    match fault? {
        FakeFault::RateLimited { retry_after_secs } => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
                    (header::RETRY_AFTER, retry_after_secs.to_string()),
                ],
                "Too many requests".to_owned(),
            )
                .into_response(),
        ),
        FakeFault::ServerError { status } => Some(error(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Internal server error",
        )),
        FakeFault::Own("forbidden") => Some(error(
            StatusCode::FORBIDDEN,
            "This key may not run inference",
        )),
        FakeFault::Own("json-error") => Some(common::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "The prompt was flagged by the content filter"}),
        )),
        other => common::generic_fault(other),
    }
}

/// What both generation calls do first: check the key, count the call, read and record
/// the JSON body, and answer a scripted fault. The body and the fault (Slow goes on).
fn accept(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
    calls: &AtomicU64,
) -> Result<(Value, Option<FakeFault>), Box<Response>> {
    if let Some(denied) = authorised(shared, headers) {
        return Err(Box::new(denied));
    }
    calls.fetch_add(1, Ordering::SeqCst);
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return Err(Box::new(error(StatusCode::BAD_REQUEST, "Invalid JSON")));
    };
    shared.bodies.push(input.clone());
    let fault = shared.script.next(input["prompt"].as_str().unwrap_or(""));
    match fault_answer(fault.as_ref()) {
        Some(answer) => Err(Box::new(answer)),
        None => Ok((input, fault)),
    }
}

/// Renders one image for an input; the URL it is served at and its bytes.
fn render(
    shared: &Shared,
    model: &ModelInfo,
    input: &Value,
    index: u64,
) -> Result<(String, Vec<u8>), String> {
    let ratio = input["aspect_ratio"]
        .as_str()
        .and_then(|t| t.parse::<AspectRatio>().ok());
    let prompt = input["prompt"].as_str().unwrap_or("");
    // The service downloads the first input and edits it, following its shape.
    let source = match input["input_image"][0].as_str() {
        Some(url) => Some(
            common::read_input(url, &shared.files).ok_or("Could not download input_image[0]")?,
        ),
        None => None,
    };
    let made = common::render_result(
        model,
        prompt,
        index,
        ratio,
        input["resolution"]
            .as_str()
            .and_then(|r| model.sizes.iter().copied().find(|s| s.as_str() == r)),
        OutputFormat::Png,
        source.as_ref(),
    )?;
    let name = shared.files.put("image/png", made.bytes.clone(), "png");
    Ok((shared.files.url(&name), made.bytes))
}

async fn sync(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let (input, fault) = match accept(&shared, &headers, &body, &shared.sync_calls) {
        Ok(accepted) => accepted,
        Err(answer) => return *answer,
    };
    if let Some(FakeFault::Slow(tenths)) = fault {
        tokio::time::sleep(Duration::from_millis(100 * u64::from(tenths))).await;
    }
    let model = match model(&shared, input["model"].as_str().unwrap_or("")) {
        Ok(model) => model,
        Err((status, text)) => return error(status, &text),
    };
    if let Err(text) = check(&model, &input) {
        return error(StatusCode::BAD_REQUEST, &text);
    }
    let (url, bytes) = match render(&shared, &model, &input, 0) {
        Ok(done) => done,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let image = match input["response_format"].as_str() {
        Some("b64_json") => {
            json!({"b64_json": base64::engine::general_purpose::STANDARD.encode(&bytes)})
        }
        Some("url") | None => json!({"url": url}),
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("response_format must be url or b64_json, not {other}"),
            );
        }
    };
    common::json(
        StatusCode::OK,
        json!({"model": model.id, "created": 1_775_090_400, "images": [image]}),
    )
}

async fn enqueue(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let (input, fault) = match accept(&shared, &headers, &body, &shared.queue_calls) {
        Ok(accepted) => accepted,
        Err(answer) => return *answer,
    };
    if let Err((status, text)) = model(&shared, input["model"].as_str().unwrap_or("")) {
        return error(status, &text);
    }
    // Like every queue parameter, num_generations is judged only when the job runs: a
    // bad one gives one generation that ends failed.
    let n = match input.get("num_generations") {
        None => 1,
        Some(n) => n.as_u64().filter(|n| (1..=4).contains(n)).unwrap_or(1),
    };
    let extra = match fault {
        Some(FakeFault::Slow(n)) => n,
        _ => 0,
    };
    let Ok(mut generations) = shared.generations.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "lock");
    };
    let mut listed = Vec::new();
    for index in 0..n {
        let k = shared.counter.fetch_add(1, Ordering::SeqCst);
        let id = format!("gen_{k:06}{:010x}", k * 65_537);
        generations.insert(
            id.clone(),
            Generation {
                input: input.clone(),
                index,
                polls: 0,
                queued_polls: shared.queued_polls,
                processing_polls: 1 + extra,
                fail: index == 0 && fault == Some(FakeFault::Own("failed")),
                cancelled: index == 0 && fault == Some(FakeFault::Own("cancelled")),
            },
        );
        listed.push(json!({"generation_id": id, "status": "queued"}));
    }
    common::json(StatusCode::OK, json!({"generations": listed}))
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
    let generation = {
        let Ok(mut generations) = shared.generations.lock() else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "lock");
        };
        let Some(g) = generations.get_mut(&id) else {
            return error(StatusCode::NOT_FOUND, "Generation not found");
        };
        g.polls += 1;
        g.clone()
    };
    let base = json!({"generation_id": id, "model": generation.input["model"], "result_url": null, "error_message": null});
    let with = |status: &str, extra: Value| {
        let mut body = base.clone();
        body["status"] = json!(status);
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        common::json(StatusCode::OK, body)
    };
    if generation.polls <= generation.queued_polls {
        return with("queued", json!({}));
    }
    if generation.polls <= generation.queued_polls + generation.processing_polls {
        return with("processing", json!({}));
    }
    if generation.cancelled {
        return with("cancelled", json!({}));
    }
    if generation.fail {
        return with(
            "failed",
            json!({"error_message": "Generation failed: the upstream model returned no image"}),
        );
    }
    // Parameters are only checked now that the job runs.
    let model = match model(&shared, generation.input["model"].as_str().unwrap_or("")) {
        Ok(model) => model,
        Err((_, text)) => return with("failed", json!({"error_message": text})),
    };
    if let Err(text) = check(&model, &generation.input) {
        return with("failed", json!({"error_message": text}));
    }
    match render(&shared, &model, &generation.input, generation.index) {
        Ok((url, _)) => with("succeeded", json!({"result_url": url})),
        Err(e) => with("failed", json!({"error_message": e})),
    }
}

/// How long the sandbox's queued generations wait (polls).
pub const SANDBOX_QUEUED_POLLS: u32 = 2;
