//! A fake fal.ai: the queue (submit, status with queue position and logs, response,
//! cancel), storage uploads (initiate, PUT, file URL) and the CDN serving results, as
//! strict as the real one. Status, response and cancel URLs drop the `/edit` subpath like
//! the real ones, so a client that rebuilds them gets 404. Edits must use URLs this
//! storage issued and received bytes for. Paths: `/queue/...`, `/rest/...`, `/files/...`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

mod faults;

pub use faults::FalFault;
use faults::fault_answer;

use super::FakeServer;
use super::common::{self, Files, Script};
use banana_core::recipe::{AspectRatio, Catalog, ImageSize, OutputFormat, ProviderId};
use banana_imaging as imaging;

#[derive(Clone)]
struct Job {
    endpoint: String,
    input: Value,
    /// Polls left in the queue, then in progress, then done.
    queue_left: u32,
    running_left: u32,
    cancelled: bool,
    /// The run ends in failure (a scripted `Failed`).
    failed: bool,
}

/// The words of a failed run, in the status and the response.
const FAILED_RUN: &str = "The content could not be processed because it contained material flagged by a content checker.";

struct Shared {
    key: String,
    catalog: Catalog,
    base: String,
    script: Script<FalFault>,
    jobs: Mutex<HashMap<String, Job>>,
    /// Upload token -> the content type it was initiated with.
    uploads: Mutex<HashMap<String, String>>,
    files: Arc<Files>,
    counter: AtomicU64,
    submits: AtomicU64,
    status_polls: AtomicU64,
    cancels: AtomicU64,
    bodies: common::Recorded,
    queue_polls: u32,
}

/// A running fake fal.ai.
pub struct FakeFal {
    server: FakeServer,
    /// What the handlers share; read here only by the accessors tests use.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    shared: Arc<Shared>,
}

pub(super) fn answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn detail(status: StatusCode, text: &str) -> Response {
    answer(status, json!({"detail": text}))
}

/// The real 422 shape: a list of `{loc, msg, type}`.
fn unprocessable(loc: &[&str], msg: &str, kind: &str) -> Response {
    answer(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"detail": [{"loc": loc, "msg": msg, "type": kind}]}),
    )
}

impl FakeFal {
    /// Starts the fake; requests must carry `Authorization: Key {key}`. Each request
    /// waits `queue_polls` status polls in the queue, then one in progress.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        key: &str,
        queue_polls: u32,
    ) -> std::io::Result<Self> {
        let bound = FakeServer::bind()?;
        let base = bound.base_url();
        let files = Arc::new(Files::new(&base));
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            catalog: Catalog::bundled(),
            base,
            script: Script::default(),
            jobs: Mutex::new(HashMap::new()),
            uploads: Mutex::new(HashMap::new()),
            files: files.clone(),
            counter: AtomicU64::new(1),
            submits: AtomicU64::new(0),
            status_polls: AtomicU64::new(0),
            cancels: AtomicU64::new(0),
            bodies: common::Recorded::default(),
            queue_polls,
        });
        let router = Router::new()
            .route("/queue/{owner}/{app}", post(submit))
            .route("/queue/{owner}/{app}/edit", post(submit_edit))
            .route("/queue/{owner}/{app}/requests/{id}/status", get(status))
            .route("/queue/{owner}/{app}/requests/{id}", get(response))
            .route("/queue/{owner}/{app}/requests/{id}/cancel", put(cancel))
            .route("/rest/storage/upload/initiate", post(initiate))
            .route("/upload/{token}", put(upload))
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone())
            .merge(files.router());
        let server = bound.serve(runtime, router)?;
        Ok(Self { server, shared })
    }

    /// The queue base to give the provider.
    pub fn queue_base(&self) -> String {
        format!("{}/queue", self.server.base_url())
    }

    /// The REST base (storage) to give the provider.
    pub fn rest_base(&self) -> String {
        format!("{}/rest", self.server.base_url())
    }

    #[cfg(feature = "testing")]
    /// Queues faults for the next submits, one each.
    pub fn script(&self, faults: impl IntoIterator<Item = FalFault>) {
        self.shared.script.push(faults);
    }

    #[cfg(feature = "testing")]
    /// Submits that arrived.
    pub fn submits(&self) -> u64 {
        self.shared.submits.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// Status polls that arrived.
    pub fn status_polls(&self) -> u64 {
        self.shared.status_polls.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// Cancel requests that arrived.
    pub fn cancels(&self) -> u64 {
        self.shared.cancels.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// The inputs submitted so far.
    pub fn request_bodies(&self) -> Vec<Value> {
        self.shared.bodies.all()
    }
}

fn authorised(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match given.strip_prefix("Key ") {
        Some(k) if k == shared.key => None,
        Some(_) => Some(detail(StatusCode::UNAUTHORIZED, "Invalid API key")),
        None => Some(detail(
            StatusCode::UNAUTHORIZED,
            "No API key provided: use the Authorization header with `Key YOUR_KEY`",
        )),
    }
}

fn next_id(shared: &Shared) -> String {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    format!("{n:08x}-7a1e-4c2b-9f00-{:012x}", n * 7919)
}

async fn submit(
    state: State<Arc<Shared>>,
    Path((owner, app)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    submit_to(state, format!("{owner}/{app}"), headers, body).await
}

async fn submit_edit(
    state: State<Arc<Shared>>,
    Path((owner, app)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    submit_to(state, format!("{owner}/{app}/edit"), headers, body).await
}

/// fal's spelling of a size ("0.5K" for 512).
fn fal_resolution(size: ImageSize) -> &'static str {
    match size {
        ImageSize::S512 => "0.5K",
        other => other.as_str(),
    }
}

/// Checks an input the way fal's validation does; the 422 names the field.
fn check_input(shared: &Shared, endpoint: &str, input: &Value) -> Option<Response> {
    let base = endpoint.trim_end_matches("/edit");
    let Some(model) = shared
        .catalog
        .models_of(ProviderId::Fal)
        .find(|m| m.id == base)
    else {
        return Some(detail(
            StatusCode::NOT_FOUND,
            &format!("Application '{endpoint}' not found"),
        ));
    };
    let edit = endpoint.ends_with("/edit");
    let prompt = input["prompt"].as_str().unwrap_or("");
    let chars = prompt.chars().count();
    if !(3..=50_000).contains(&chars) {
        return Some(unprocessable(
            &["body", "prompt"],
            "String should have between 3 and 50000 characters",
            "string_too_short",
        ));
    }
    if let Some(n) = input.get("num_images")
        && !n.as_u64().is_some_and(|n| (1..=4).contains(&n))
    {
        return Some(unprocessable(
            &["body", "num_images"],
            "Input should be between 1 and 4",
            "less_than_equal",
        ));
    }
    if let Some(ratio) = input.get("aspect_ratio") {
        let text = ratio.as_str().unwrap_or("");
        let ok = (edit && text == "auto")
            || text
                .parse::<AspectRatio>()
                .ok()
                .is_some_and(|r| model.takes_ratio(r) && r != AspectRatio::Auto);
        if !ok {
            return Some(unprocessable(
                &["body", "aspect_ratio"],
                "Input should be one of the listed ratios",
                "literal_error",
            ));
        }
    }
    if let Some(format) = input.get("output_format")
        && !matches!(format.as_str(), Some("jpeg" | "png" | "webp"))
    {
        return Some(unprocessable(
            &["body", "output_format"],
            "Input should be 'jpeg', 'png' or 'webp'",
            "literal_error",
        ));
    }
    if let Some(resolution) = input.get("resolution")
        && !model.sizes.is_empty()
    {
        let taken: Vec<&str> = model.sizes.iter().map(|s| fal_resolution(*s)).collect();
        if !resolution.as_str().is_some_and(|r| taken.contains(&r)) {
            let listed: Vec<String> = taken.iter().map(|t| format!("'{t}'")).collect();
            return Some(unprocessable(
                &["body", "resolution"],
                &format!("Input should be {}", listed.join(" or ")),
                "literal_error",
            ));
        }
    }
    if let Some(level) = input.get("thinking_level")
        && !model.thinking_levels.is_empty()
        && !level
            .as_str()
            .is_some_and(|l| model.thinking_levels.iter().any(|t| t.as_str() == l))
    {
        return Some(unprocessable(
            &["body", "thinking_level"],
            "Input should be 'minimal' or 'high'",
            "literal_error",
        ));
    }
    if let Some(search) = input.get("enable_web_search")
        && !model.grounding.is_empty()
        && !search.is_boolean()
    {
        return Some(unprocessable(
            &["body", "enable_web_search"],
            "Input should be a valid boolean",
            "bool_type",
        ));
    }
    if edit {
        let Some(urls) = input["image_urls"].as_array().filter(|u| !u.is_empty()) else {
            return Some(unprocessable(
                &["body", "image_urls"],
                "Field required",
                "missing",
            ));
        };
        if urls.len() > model.max_inputs as usize {
            return Some(unprocessable(
                &["body", "image_urls"],
                &format!("List should have at most {} items", model.max_inputs),
                "too_long",
            ));
        }
        for (i, url) in urls.iter().enumerate() {
            if !url.as_str().is_some_and(|u| shared.files.holds_url(u)) {
                return Some(answer(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"detail": [{"loc": ["body", "image_urls", i], "msg": "Failed to download the file. Please check if the URL is accessible.", "type": "file_download_error"}]}),
                ));
            }
        }
    }
    None
}

async fn submit_to(
    State(shared): State<Arc<Shared>>,
    endpoint: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    shared.submits.fetch_add(1, Ordering::SeqCst);
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable(&["body"], "JSON decode error", "json_invalid");
    };
    shared
        .bodies
        .push(json!({"endpoint": endpoint, "input": input}));
    let prompt = input["prompt"].as_str().unwrap_or("").to_owned();
    let fault = shared.script.next(&prompt);
    if let Some(fault) = &fault
        && let Some(response) = fault_answer(fault)
    {
        return response;
    }
    if let Some(rejected) = check_input(&shared, &endpoint, &input) {
        return rejected;
    }
    let id = next_id(&shared);
    let extra = match fault {
        Some(FalFault::Slow(n)) => n,
        _ => 0,
    };
    let job = Job {
        endpoint: endpoint.clone(),
        input,
        queue_left: shared.queue_polls,
        running_left: 1 + extra,
        cancelled: false,
        failed: fault == Some(FalFault::Failed),
    };
    if let Ok(mut jobs) = shared.jobs.lock() {
        jobs.insert(id.clone(), job);
    }
    // The returned URLs drop the /edit subpath, as the real ones do.
    let app = endpoint.trim_end_matches("/edit");
    let request = format!("{}/queue/{app}/requests/{id}", shared.base);
    answer(
        StatusCode::OK,
        json!({"status": "IN_QUEUE", "request_id": id, "response_url": request,
               "status_url": format!("{request}/status"), "cancel_url": format!("{request}/cancel"),
               "queue_position": shared.queue_polls}),
    )
}

/// Works on a job by id under the app its URLs name; a rebuilt URL that keeps `/edit`
/// names another app, so it is not found (None), as on fal.
fn with_job<T>(
    shared: &Shared,
    app: &str,
    id: &str,
    work: impl FnOnce(&mut Job) -> T,
) -> Option<T> {
    let mut jobs = shared.jobs.lock().ok()?;
    jobs.get_mut(id)
        .filter(|job| job.endpoint.trim_end_matches("/edit") == app)
        .map(work)
}

fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Request not found")
}

async fn status(
    State(shared): State<Arc<Shared>>,
    Path((owner, app, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    shared.status_polls.fetch_add(1, Ordering::SeqCst);
    let logs = json!([{"message": "Generating image", "level": "INFO", "timestamp": "2026-11-21T10:00:00Z"}]);
    with_job(&shared, &format!("{owner}/{app}"), &id, |job| {
        if job.queue_left > 0 {
            job.queue_left -= 1;
            answer(
                StatusCode::OK,
                json!({"status": "IN_QUEUE", "queue_position": job.queue_left}),
            )
        } else if job.running_left > 0 {
            job.running_left -= 1;
            answer(
                StatusCode::OK,
                json!({"status": "IN_PROGRESS", "logs": logs}),
            )
        } else if job.failed {
            answer(
                StatusCode::OK,
                json!({"status": "COMPLETED", "logs": logs, "metrics": {},
                       "error": FAILED_RUN, "error_type": "content_policy_violation"}),
            )
        } else {
            answer(
                StatusCode::OK,
                json!({"status": "COMPLETED", "logs": logs, "metrics": {"inference_time": 1.2}}),
            )
        }
    })
    .unwrap_or_else(not_found)
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path((owner, app, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    let Some(job) = with_job(&shared, &format!("{owner}/{app}"), &id, |job| job.clone()) else {
        return not_found();
    };
    if job.cancelled {
        return detail(StatusCode::BAD_REQUEST, "Request was cancelled");
    }
    if job.queue_left > 0 || job.running_left > 0 {
        return detail(StatusCode::BAD_REQUEST, "Request is still in progress");
    }
    if job.failed {
        return unprocessable(&["body"], FAILED_RUN, "content_policy_violation");
    }
    match make_images(&shared, &job) {
        Ok(output) => answer(StatusCode::OK, output),
        Err(message) => detail(StatusCode::INTERNAL_SERVER_ERROR, &message),
    }
}

/// Renders the job's images at the catalog's pixel size and serves them from /files. An
/// edit draws from its first input, and `auto` follows that input's shape. Only `url` is
/// guaranteed: the first image carries every optional field, the others none.
fn make_images(shared: &Shared, job: &Job) -> Result<Value, String> {
    let input = &job.input;
    let base_id = job.endpoint.trim_end_matches("/edit");
    let model = shared
        .catalog
        .models_of(ProviderId::Fal)
        .find(|m| m.id == base_id)
        .ok_or("unknown model")?;
    let ratio = input["aspect_ratio"]
        .as_str()
        .and_then(|t| t.parse::<AspectRatio>().ok());
    let size = input["resolution"].as_str().and_then(|t| {
        model
            .sizes
            .iter()
            .copied()
            .find(|s| fal_resolution(*s) == t)
    });
    let format = match input["output_format"].as_str() {
        Some("jpeg") => OutputFormat::Jpeg,
        Some("webp") => OutputFormat::Webp,
        _ => OutputFormat::Png,
    };
    let source = match input["image_urls"][0].as_str() {
        Some(url) => Some(
            common::read_input(url, &shared.files)
                .ok_or("Failed to download the file. Please check if the URL is accessible.")?,
        ),
        None => None,
    };
    let prompt = input["prompt"].as_str().unwrap_or("");
    let seed = input["seed"].as_u64().unwrap_or(0);
    let n = input["num_images"].as_u64().unwrap_or(1);
    let mut images = Vec::new();
    for i in 0..n {
        let made = common::render_result(
            model,
            prompt,
            seed.wrapping_add(i),
            ratio,
            size,
            format,
            source.as_ref(),
        )?;
        let file_size = made.bytes.len();
        let name = shared
            .files
            .put(format.mime(), made.bytes, format.extension());
        images.push(if i == 0 {
            json!({"url": shared.files.url(&name), "content_type": format.mime(),
                   "file_name": name, "file_size": file_size,
                   "width": made.width, "height": made.height})
        } else {
            json!({"url": shared.files.url(&name)})
        });
    }
    Ok(json!({"images": images, "description": ""}))
}

async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path((owner, app, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    shared.cancels.fetch_add(1, Ordering::SeqCst);
    with_job(&shared, &format!("{owner}/{app}"), &id, |job| {
        if job.queue_left == 0 && job.running_left == 0 {
            answer(
                StatusCode::BAD_REQUEST,
                json!({"status": "ALREADY_COMPLETED"}),
            )
        } else {
            job.cancelled = true;
            answer(
                StatusCode::ACCEPTED,
                json!({"status": "CANCELLATION_REQUESTED"}),
            )
        }
    })
    .unwrap_or_else(|| answer(StatusCode::NOT_FOUND, json!({"status": "NOT_FOUND"})))
}

async fn initiate(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable(&["body"], "JSON decode error", "json_invalid");
    };
    let Some(content_type) = request["content_type"]
        .as_str()
        .filter(|c| c.starts_with("image/"))
    else {
        return unprocessable(&["body", "content_type"], "Field required", "missing");
    };
    let file_name = request["file_name"].as_str().unwrap_or("upload.bin");
    let token = next_id(&shared);
    if let Ok(mut uploads) = shared.uploads.lock() {
        uploads.insert(token.clone(), content_type.to_owned());
    }
    let name = format!("{token}-{}", file_name.replace('/', "_"));
    answer(
        StatusCode::OK,
        json!({"upload_url": format!("{}/upload/{token}?name={name}", shared.base), "file_url": shared.files.url(&name)}),
    )
}

async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(uploads) = shared.uploads.lock() else {
        return detail(StatusCode::INTERNAL_SERVER_ERROR, "lock");
    };
    let Some(content_type) = uploads.get(&token) else {
        return detail(StatusCode::FORBIDDEN, "Signature does not match");
    };
    let sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent != content_type.as_str() {
        return detail(
            StatusCode::FORBIDDEN,
            "Signature does not match (content type)",
        );
    }
    if body.is_empty() || imaging::sniff_mime(&body).is_none() {
        return detail(StatusCode::BAD_REQUEST, "The upload is not an image");
    }
    let name = query.get("name").cloned().unwrap_or_default();
    shared.files.insert(&name, content_type, body.to_vec());
    StatusCode::OK.into_response()
}

/// How long the sandbox's fal requests wait in the queue (polls).
pub const SANDBOX_QUEUE_POLLS: u32 = 2;

/// A short pause used by the sandbox so queue progress is visible.
pub const SANDBOX_POLL: Duration = Duration::from_millis(300);
