//! A fake Gemini API: `generateContent` and `models.list`, as strict as the real one.

mod batch;
mod checks;
mod faults;
mod files;
mod schema;
mod stream;

pub use faults::Fault;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use image::DynamicImage;
use serde_json::{Value, json};

use self::checks::{check_config, check_contents};
use self::faults::fault_response;
use super::FakeServer;
use super::common::nearest_ratio;
use super::render;
use banana_core::recipe::{Catalog, ModelInfo, ModelStatus, OutputFormat, ProviderId};
use banana_imaging as imaging;

/// The real inline request limit.
const MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;

pub(super) struct Shared {
    key: String,
    catalog: Catalog,
    script: Mutex<VecDeque<Fault>>,
    signatures_issued: AtomicU64,
    returned_signatures: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    bodies: Mutex<Vec<Value>>,
    files: Mutex<files::Files>,
    batches: Mutex<batch::Batches>,
    batches_made: AtomicU64,
    /// Where deferred batches are kept so they outlive the process (the sandbox).
    state_dir: Option<std::path::PathBuf>,
    uploads_started: AtomicU64,
    uploads_finished: AtomicU64,
}

/// Counts a request as in flight until dropped.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running fake Gemini server.
pub struct FakeGemini {
    server: FakeServer,
    /// What the handlers share; read here only by the accessors tests use.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    shared: Arc<Shared>,
}

impl FakeGemini {
    /// Starts the fake on loopback; requests must carry `key`.
    pub fn start(runtime: &tokio::runtime::Handle, key: &str) -> std::io::Result<Self> {
        Self::start_with_state(runtime, key, None)
    }

    /// Starts the fake keeping its deferred batches in `state_dir` (when given), so a
    /// batch sent before a restart is still there after it, as on the service.
    pub fn start_with_state(
        runtime: &tokio::runtime::Handle,
        key: &str,
        state_dir: Option<std::path::PathBuf>,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            catalog: Catalog::bundled(),
            script: Mutex::new(VecDeque::new()),
            signatures_issued: AtomicU64::new(0),
            returned_signatures: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            bodies: Mutex::new(Vec::new()),
            files: Mutex::default(),
            batches: Mutex::default(),
            batches_made: AtomicU64::new(0),
            state_dir,
            uploads_started: AtomicU64::new(0),
            uploads_finished: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/v1beta/models", get(list_models))
            .route("/v1beta/models/{*action}", post(generate))
            .route("/upload/v1beta/files", post(files::upload))
            .route("/v1beta/files/{id}", get(files::get))
            .route("/v1beta/batches/{id}", get(batch::get).post(batch::action))
            .route("/download/v1beta/files/{file}", get(batch::download))
            .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES + 1024 * 1024))
            .with_state(shared.clone());
        Ok(Self {
            server: FakeServer::start(runtime, router)?,
            shared,
        })
    }

    /// The base URL to give the provider.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    #[cfg(feature = "testing")]
    /// Queues faults for the next requests, one each, before normal answers resume.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        if let Ok(mut script) = self.shared.script.lock() {
            script.extend(faults);
        }
    }

    #[cfg(feature = "testing")]
    /// How many generate requests arrived.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// The most generate requests that were in flight at once.
    pub fn max_in_flight(&self) -> u64 {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// How many issued signatures came back intact in later requests.
    pub fn returned_signatures(&self) -> u64 {
        self.shared.returned_signatures.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// How many batches were made through the Batch API.
    pub fn batches_made(&self) -> u64 {
        self.shared.batches_made.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// How many uploads through the Files API were finished.
    pub fn uploads_finished(&self) -> u64 {
        self.shared.uploads_finished.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// Ages every uploaded file past its 48 hours, as if two days went by.
    pub fn expire_files(&self) {
        files::expire_all(&self.shared);
    }

    #[cfg(feature = "testing")]
    /// The JSON bodies of generate requests so far (with image data elided).
    pub fn request_bodies(&self) -> Vec<Value> {
        self.shared
            .bodies
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default()
    }
}

pub(super) fn error(status: StatusCode, grpc: &str, message: &str, details: Value) -> Response {
    let mut err = json!({"error": {"code": status.as_u16(), "message": message, "status": grpc}});
    if details.is_array() {
        err["error"]["details"] = details;
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        err.to_string(),
    )
        .into_response()
}

pub(super) fn invalid(message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        message,
        Value::Null,
    )
}

fn check_key(
    shared: &Shared,
    headers: &HeaderMap,
    query: &Query<Vec<(String, String)>>,
) -> Option<Response> {
    let given = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            query
                .0
                .iter()
                .find(|(k, _)| k == "key")
                .map(|(_, v)| v.clone())
        });
    match given {
        None => Some(error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API.",
            Value::Null,
        )),
        Some(k) if k != shared.key => Some(error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]),
        )),
        Some(_) => None,
    }
}

async fn list_models(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
) -> Response {
    if let Some(denied) = check_key(&shared, &headers, &query) {
        return denied;
    }
    let mut models: Vec<Value> = shared
        .catalog
        .models_of(ProviderId::Gemini)
        .filter(|m| m.status != ModelStatus::Retired)
        .map(|m| {
            json!({"name": format!("models/{}", m.id), "displayName": m.brand,
                   "supportedGenerationMethods": ["generateContent", "countTokens"]})
        })
        .collect();
    models.push(
        json!({"name": "models/text-embedding-004", "displayName": "Text Embedding 004",
                       "supportedGenerationMethods": ["embedContent"]}),
    );
    // The real list is paged; serve it in two pages so clients must follow the token.
    let second_page = query
        .0
        .iter()
        .any(|(k, v)| k == "pageToken" && v == "page-2");
    let half = models.len() / 2;
    let body = if second_page {
        json!({"models": models.split_off(half)})
    } else {
        models.truncate(half);
        json!({"models": models, "nextPageToken": "page-2"})
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel)
        .or_else(|| v.get(snake))
        .filter(|x| !x.is_null())
}

async fn generate(
    State(shared): State<Arc<Shared>>,
    Path(action): Path<String>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    if let Some(denied) = check_key(&shared, &headers, &query) {
        return denied;
    }
    let Some((model_id, method)) = action.split_once(':') else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Method not found.",
            Value::Null,
        );
    };
    let model = shared
        .catalog
        .model(ProviderId::Gemini, model_id)
        .filter(|m| m.status != ModelStatus::Retired && m.id == model_id);
    let Some(model) = model.cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!(
                "models/{model_id} is not found for API version v1beta, or is not supported for \
                 generateContent. Call ListModels to see the list of available models and their \
                 supported methods."
            ),
            Value::Null,
        );
    };
    if method == "batchGenerateContent" {
        return batch::create(&shared, &model, &body);
    }
    let stream = match method {
        "generateContent" => None,
        // Without `alt=sse` the service streams one JSON array instead.
        "streamGenerateContent" => Some(query.0.iter().any(|(k, v)| k == "alt" && v == "sse")),
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Method not found.",
                Value::Null,
            );
        }
    };
    let request_number = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let _in_flight = InFlight::enter(&shared);
    if body.len() > MAX_REQUEST_BYTES {
        return invalid("Request payload size exceeds the limit: 104857600 bytes.");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Invalid JSON payload received. Unexpected token.");
    };
    if let Ok(mut bodies) = shared.bodies.lock() {
        bodies.push(elide_data(&request));
    }
    let prompt = last_user_prompt(&request);
    let scripted = shared.script.lock().ok().and_then(|mut s| s.pop_front());
    let fault = scripted.or_else(|| Fault::from_prompt(&prompt));
    if let Some(Fault::Slow(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    let shared2 = shared.clone();
    let streamed = stream.is_some();
    let answer = tokio::task::spawn_blocking(move || {
        answer(&shared2, &model, &request, fault, request_number, streamed)
    })
    .await;
    let answer = answer.unwrap_or_else(|_| {
        Err(Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "An internal error has occurred.",
            Value::Null,
        )))
    });
    match (answer, stream) {
        (Ok(body), None) => json_response(&body),
        (Ok(body), Some(sse)) => stream::chunked(body, sse),
        // A refusal the service answers with 200 comes as the stream's one chunk.
        (Err(response), Some(sse)) if response.status() == StatusCode::OK => {
            stream::single(*response, sse).await
        }
        (Err(response), _) => *response,
    }
}

fn json_response(body: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn elide_data(request: &Value) -> Value {
    let mut copy = request.clone();
    if let Some(contents) = copy.get_mut("contents").and_then(Value::as_array_mut) {
        for content in contents {
            for part in content
                .get_mut("parts")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                for key in ["inlineData", "inline_data"] {
                    if let Some(data) = part.get_mut(key).and_then(|d| d.get_mut("data")) {
                        let len = data.as_str().map_or(0, str::len);
                        *data = json!(format!("<{len} base64 chars>"));
                    }
                }
            }
        }
    }
    copy
}

fn last_user_prompt(request: &Value) -> String {
    let contents = request.get("contents").and_then(Value::as_array);
    let last = contents.and_then(|c| c.last());
    let parts = last.and_then(|c| c.get("parts")).and_then(Value::as_array);
    parts
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a grounded answer reports looking up: pages about the prompt's words, the
/// searches, and the suggestions chip Google asks grounded apps to show.
fn grounding(prompt: &str, kinds: &[&str]) -> Value {
    let words: Vec<&str> = prompt.split_whitespace().take(4).collect();
    let slug = words.join("-").to_lowercase();
    let query = words.join(" ");
    let mut chunks = vec![
        json!({"web": {"uri": format!("https://example.org/guide/{slug}"), "title": format!("A guide to {query}")}}),
        json!({"web": {"uri": format!("https://example.net/{slug}/photos"), "title": format!("{query}: reference photos")}}),
    ];
    if kinds.contains(&"image") {
        chunks.push(json!({"web": {"uri": format!("https://images.example.com/{slug}.jpg"), "title": format!("{query} (image)")}}));
    }
    json!({
        "groundingChunks": chunks,
        "webSearchQueries": [query],
        "searchEntryPoint": {"renderedContent": format!(
            "<div class=\"container\"><a class=\"chip\" href=\"https://www.google.com/search?q={}\">{query}</a></div>",
            words.join("+")
        )},
        "groundingSupports": [],
    })
}

/// What the service reports a call used: the model's image tokens per image at its
/// size, about a token per four characters of text, 560 per input image, and thought
/// tokens for a thinking model by its level. Thoughts are counted apart from the
/// candidates, as the service counts them.
fn usage(
    model: &ModelInfo,
    size: Option<banana_core::recipe::ImageSize>,
    prompt: &str,
    inputs: usize,
    caption: &str,
    images: u64,
    request: &Value,
) -> Value {
    let key = size.map_or("base", |s| s.as_str());
    let per_image = model
        .image_tokens
        .get(key)
        .or_else(|| model.image_tokens.get("base"))
        .copied()
        .unwrap_or(1290);
    let image_tokens = u64::from(per_image) * images;
    let text_tokens = (caption.len() as u64).div_ceil(4);
    let prompt_tokens = (prompt.len() as u64).div_ceil(4) + 560 * inputs as u64;
    let level = field(request, "generationConfig", "generation_config")
        .and_then(|c| field(c, "thinkingConfig", "thinking_config"))
        .and_then(|t| field(t, "thinkingLevel", "thinking_level"))
        .and_then(Value::as_str)
        .unwrap_or("MEDIUM");
    let thoughts: u64 = match (model.thinks(), level) {
        (false, _) => 0,
        (true, "MINIMAL") => 96,
        (true, "LOW") => 320,
        (true, "HIGH") => 1540,
        (true, _) => 748,
    };
    let mut usage = json!({
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": image_tokens + text_tokens,
        "totalTokenCount": prompt_tokens + image_tokens + text_tokens + thoughts,
        "candidatesTokensDetails": [
            {"modality": "IMAGE", "tokenCount": image_tokens},
            {"modality": "TEXT", "tokenCount": text_tokens}],
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    });
    if thoughts > 0 {
        usage["thoughtsTokenCount"] = json!(thoughts);
    }
    usage
}

/// The answer's body, or the error (or refusal) to send instead.
fn answer(
    shared: &Shared,
    model: &ModelInfo,
    request: &Value,
    fault: Option<Fault>,
    request_number: u64,
    streamed: bool,
) -> checks::Checked<Value> {
    if let Some(response) = fault.as_ref().and_then(fault_response) {
        return Err(Box::new(response));
    }
    schema::check_known_fields(request)?;
    let (aspect, size) = check_config(model, request)?;
    let searched = checks::check_tools(model, request)?;
    let inputs = check_contents(shared, model, request)?;
    let prompt = last_user_prompt(request);
    let seed = field(request, "generationConfig", "generation_config")
        .and_then(|c| c.get("seed"))
        .and_then(Value::as_u64)
        // Without a seed the real service draws something new each time.
        .unwrap_or(1_000_000 + request_number);
    let aspect = match aspect {
        Some(a) => a,
        None => nearest_ratio(model, inputs.first()),
    };
    let Some((width, height)) = model.pixel_size(aspect, size) else {
        return Err(Box::new(invalid(&format!(
            "Unsupported aspect ratio {aspect} for this model."
        ))));
    };
    // Flash answers PNG; the thinking models answer JPEG, whatever was asked.
    let format = if model.thinking {
        OutputFormat::Jpeg
    } else {
        OutputFormat::Png
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    // Some answers hold several images (a `SeveralImages` fault): each is a result.
    let count = match fault {
        Some(Fault::SeveralImages(n)) => u64::from(n.max(1)),
        _ => 1,
    };
    let mut images = Vec::new();
    for k in 0..count {
        let seed = seed.wrapping_add(k * 7_919);
        let picture = match inputs.first() {
            Some(input) => render::render_edit(input, &prompt, seed, width, height),
            None => render::render(&prompt, seed, width, height),
        };
        let Ok(encoded) = imaging::encode(&DynamicImage::ImageRgb8(picture), format) else {
            return Err(Box::new(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "An internal error has occurred.",
                Value::Null,
            )));
        };
        images.push(b64.encode(&encoded));
    }
    let caption = format!(
        "Here is your image: {}",
        banana_core::recipe::preview(&prompt, 60)
    );
    let mut parts = Vec::new();
    if model.thinks() {
        let interim =
            DynamicImage::ImageRgb8(render::render(&format!("draft {prompt}"), seed, 64, 64));
        let interim = imaging::encode(&interim, OutputFormat::Png).unwrap_or_default();
        let heading = "**Composing the scene**\n\n";
        let body = "I'm laying out the main shapes first.";
        if streamed {
            // A stream cuts a thought wherever the model is: the pieces come apart.
            parts.push(json!({"text": heading, "thought": true}));
            parts.push(json!({"text": body, "thought": true}));
        } else {
            parts.push(json!({"text": format!("{heading}{body}"), "thought": true}));
        }
        parts.push(json!({"inlineData": {"mimeType": "image/png", "data": b64.encode(interim)}, "thought": true}));
        if streamed {
            parts.push(json!({"text": "**Refining the details**\n\nSharpening edges and the light.", "thought": true}));
        }
    }
    parts.push(json!({"text": caption}));
    for data in images {
        parts.push(json!({"inlineData": {"mimeType": format.mime(), "data": data}}));
    }
    if model.thinks() {
        // Every non-thought part is signed, bound to its place and content.
        for (position, part) in parts.iter_mut().enumerate() {
            if part.get("thought").is_none() {
                let content = checks::signed_content(part);
                part["thoughtSignature"] = json!(issue_signature(shared, position, &content));
            }
        }
    }
    let usage = usage(model, size, &prompt, inputs.len(), &caption, count, request);
    let mut candidate =
        json!({"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0});
    if !searched.is_empty() {
        candidate["groundingMetadata"] = grounding(&prompt, &searched);
    }
    Ok(json!({
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model.id,
        "responseId": format!("fake-{request_number}"),
    }))
}

/// The key the fake signs its thought signatures with. Like the real service's, they
/// verify without any server memory, so they stay valid across runs of the app.
const SIGNING_KEY: u64 = 0x5eed_ba7a_7a5e_ed00;

fn signature_digest(payload: &str) -> u64 {
    render::stable_hash(payload, SIGNING_KEY)
}

/// A new signature for the part at `position` holding `content`: a unique payload that
/// names both, and its keyed digest, base64-encoded.
fn issue_signature(shared: &Shared, position: usize, content: &str) -> String {
    let n = shared.signatures_issued.fetch_add(1, Ordering::SeqCst);
    let payload = signature_payload(
        &format!("{}/{n}/{}", std::process::id(), banana_core::now_ms()),
        position,
        content,
    );
    let raw = format!("{payload}#{:016x}", signature_digest(&payload));
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn signature_payload(unique: &str, position: usize, content: &str) -> String {
    let content = render::stable_hash(content, 0);
    format!("fake-thought/{unique}/p{position}/{content:016x}")
}

/// Whether a signature is one the fake issued, unchanged byte for byte, and sent back on
/// the part it came with (same place in the turn, same content).
pub(super) fn signature_is_valid(signature: &str, position: usize, content: &str) -> bool {
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(signature) else {
        return false;
    };
    let Ok(raw) = String::from_utf8(raw) else {
        return false;
    };
    let Some((payload, digest)) = raw.rsplit_once('#') else {
        return false;
    };
    let Some((unique, _)) = payload
        .strip_prefix("fake-thought/")
        .and_then(|rest| rest.rsplit_once("/p"))
    else {
        return false;
    };
    format!("{:016x}", signature_digest(payload)) == digest
        && signature_payload(unique, position, content) == payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_when_unchanged_and_in_place() {
        let sign = |position, content| {
            let payload = signature_payload("1/0/0", position, content);
            let raw = format!("{payload}#{:016x}", signature_digest(&payload));
            base64::engine::general_purpose::STANDARD.encode(raw)
        };
        let sig = sign(3, "iVBORw0");
        assert!(signature_is_valid(&sig, 3, "iVBORw0"));
        assert!(!signature_is_valid(&sig, 1, "iVBORw0"), "moved");
        assert!(!signature_is_valid(&sig, 3, "iVBORw1"), "on other content");
        let mut tampered = sig.into_bytes();
        tampered[3] ^= 1;
        assert!(!signature_is_valid(
            &String::from_utf8_lossy(&tampered),
            3,
            "iVBORw0"
        ));
        assert!(!signature_is_valid("not base64!", 3, "iVBORw0"));
    }
}
