//! A fake Vydra: uploads (`POST /upload`, multipart field `file`), generation and edit in
//! one call per image (`POST /models/nano-banana/edit`), credits (`GET /organization`).
//! As strict as the real one: a Bearer key (MISSING_AUTH, KEY_NOT_FOUND), jpeg/png/webp/gif
//! uploads of at most 20 MB, `imageUrl` must be a file it can fetch (its own uploads),
//! the ten ratios, 8 credits per image and 402 with `creditsRequired`/`creditsRemaining`
//! when they run out. Its awkward shapes: `code` is sometimes absent, and a 429's wait is
//! `retryAfter` in the body (at the top or in `details`), not a header.
//!
//! Own faults: `credits` (402), `revoked` (401 KEY_REVOKED), `nocode` (400 without a code),
//! `ratelimit-details` (429 whose `retryAfter` is in `details`, not at the top).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::FakeServer;
use super::common::{self, FakeFault, Files, Script};
use banana_core::recipe::{AspectRatio, Catalog, OutputFormat, ProviderId};
use banana_imaging as imaging;

/// Vydra's upload limit.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// The wait the `ratelimit-details` fault names in `details.retryAfter`.
pub const RETRY_AFTER_IN_DETAILS_SECS: u64 = 2;

/// Credits a new fake account starts with.
pub const START_CREDITS: u64 = 1000;

/// Credits charged per image by default, as the docs say.
pub const CREDITS_PER_IMAGE: u64 = 8;

struct Shared {
    key: String,
    catalog: Catalog,
    script: Script,
    files: Arc<Files>,
    credits: AtomicU64,
    /// Credits charged per image: the service's figure, not the catalog's quote.
    charge: AtomicU64,
    uploads: AtomicU64,
    calls: AtomicU64,
    bodies: common::Recorded,
}

/// A running fake Vydra.
pub struct FakeVydra {
    server: FakeServer,
    /// What the handlers share; read here only by the accessors tests use.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    shared: Arc<Shared>,
}

impl FakeVydra {
    /// Starts the fake with [`START_CREDITS`].
    pub fn start(runtime: &tokio::runtime::Handle, key: &str) -> std::io::Result<Self> {
        let bound = FakeServer::bind()?;
        let files = Arc::new(Files::new(&bound.base_url()));
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            catalog: Catalog::bundled(),
            script: Script::default(),
            files: files.clone(),
            credits: AtomicU64::new(START_CREDITS),
            charge: AtomicU64::new(CREDITS_PER_IMAGE),
            uploads: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            bodies: common::Recorded::default(),
        });
        let router = Router::new()
            .route("/api/v1/upload", post(upload))
            .route("/api/v1/models/{model}/edit", post(edit))
            .route("/api/v1/organization", get(organization))
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone())
            .merge(files.router());
        let server = bound.serve(runtime, router)?;
        Ok(Self { server, shared })
    }

    /// The base URL to give the provider (with Vydra's `/api/v1` prefix).
    pub fn base_url(&self) -> String {
        format!("{}/api/v1", self.server.base_url())
    }

    #[cfg(feature = "testing")]
    /// Queues faults for the next generation calls, one each.
    pub fn script(&self, faults: impl IntoIterator<Item = FakeFault>) {
        self.shared.script.push(faults);
    }

    #[cfg(feature = "testing")]
    /// Sets the credits left on the account.
    pub fn set_credits(&self, credits: u64) {
        self.shared.credits.store(credits, Ordering::SeqCst);
    }

    #[cfg(feature = "testing")]
    /// Sets the credits the service charges per image.
    pub fn set_charge(&self, credits: u64) {
        self.shared.charge.store(credits, Ordering::SeqCst);
    }

    #[cfg(feature = "testing")]
    /// Credits left on the account.
    pub fn credits(&self) -> u64 {
        self.shared.credits.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// Uploads that were stored.
    pub fn uploads(&self) -> u64 {
        self.shared.uploads.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// Generation calls that arrived.
    pub fn calls(&self) -> u64 {
        self.shared.calls.load(Ordering::SeqCst)
    }

    #[cfg(feature = "testing")]
    /// The generation bodies received so far.
    pub fn request_bodies(&self) -> Vec<Value> {
        self.shared.bodies.all()
    }
}

fn error(status: StatusCode, text: &str, code: Option<&str>, details: Value) -> Response {
    let mut body = json!({"error": text, "details": details});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    common::json(status, body)
}

fn bad(code: &str, text: &str) -> Response {
    error(StatusCode::BAD_REQUEST, text, Some(code), json!({}))
}

fn authorised(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let unauthorised =
        |text, code| Some(error(StatusCode::UNAUTHORIZED, text, Some(code), json!({})));
    match common::bearer(headers) {
        None => unauthorised("Missing or malformed Authorization header", "MISSING_AUTH"),
        Some(k) if k == shared.key => None,
        Some(_) => unauthorised("API key not found", "KEY_NOT_FOUND"),
    }
}

/// The one part named `file` of a multipart body: its content type and bytes.
fn file_part(headers: &HeaderMap, body: &[u8]) -> Option<(String, Vec<u8>)> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !content_type.starts_with("multipart/form-data") {
        return None;
    }
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, delimiter.as_bytes())?;
        parts.push(&rest[..end]);
    }
    for part in parts {
        let split = find(part, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let mut data = &part[split + 4..];
        if data.ends_with(b"\r\n") {
            data = &data[..data.len() - 2];
        }
        if !head.contains("name=\"file\"") {
            continue;
        }
        let mime = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_owned())
            })
            .unwrap_or_default();
        return Some((mime, data.to_vec()));
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn upload(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    let Some((mime, bytes)) = file_part(&headers, &body) else {
        return bad(
            "INVALID_INPUT",
            "No file provided: send multipart/form-data with a field named file",
        );
    };
    if bytes.len() > MAX_UPLOAD_BYTES {
        return bad("FILE_TOO_LARGE", "File too large. Maximum size is 20MB");
    }
    let allowed = ["image/jpeg", "image/png", "image/webp", "image/gif"];
    if !allowed.contains(&mime.as_str()) || imaging::sniff_mime(&bytes) != Some(mime.as_str()) {
        return bad(
            "INVALID_FILE_TYPE",
            "Invalid file type. Allowed: jpeg, png, webp, gif",
        );
    }
    let ext = mime.trim_start_matches("image/").replace("jpeg", "jpg");
    let size = bytes.len();
    let name = shared.files.put(&mime, bytes, &ext);
    shared.uploads.fetch_add(1, Ordering::SeqCst);
    common::json(
        StatusCode::OK,
        json!({"url": shared.files.url(&name), "filename": name, "size": size,
               "type": mime, "key": format!("uploads/{name}")}),
    )
}

async fn edit(
    State(shared): State<Arc<Shared>>,
    Path(model_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = {
        let prompt = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|b| b["prompt"].as_str().map(str::to_owned))
            .unwrap_or_default();
        shared.script.next(&prompt)
    };
    if fault == Some(FakeFault::Own("revoked")) {
        return error(
            StatusCode::UNAUTHORIZED,
            "API key has been revoked",
            Some("KEY_REVOKED"),
            json!({}),
        );
    }
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    // Each call draws its own picture, even when several arrive at once.
    let seed = shared.calls.fetch_add(1, Ordering::SeqCst);
    match &fault {
        // Where the wait goes is unverified: at the top of the body (here), or in
        // `details` (the `ratelimit-details` fault).
        Some(FakeFault::RateLimited { retry_after_secs }) => {
            return common::json(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED",
                       "retryAfter": retry_after_secs, "details": {}}),
            );
        }
        Some(FakeFault::Own("ratelimit-details")) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded",
                Some("RATE_LIMIT_EXCEEDED"),
                json!({"retryAfter": RETRY_AFTER_IN_DETAILS_SECS}),
            );
        }
        // Vydra's 500s come without a code.
        Some(FakeFault::ServerError { status }) => {
            return error(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "Internal server error",
                None,
                json!({}),
            );
        }
        Some(FakeFault::Own("nocode")) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Prompt violates the content policy",
                None,
                json!({}),
            );
        }
        Some(FakeFault::Own("credits")) => shared.credits.store(3, Ordering::SeqCst),
        Some(FakeFault::Slow(tenths)) => {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(*tenths))).await;
        }
        Some(other) => {
            if let Some(response) = common::generic_fault(other) {
                return response;
            }
        }
        None => {}
    }
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return bad("INVALID_INPUT", "Invalid JSON body");
    };
    shared.bodies.push(input.clone());
    let Some(model) = shared
        .catalog
        .models_of(ProviderId::Vydra)
        .find(|m| m.id == model_id)
        .cloned()
    else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("Model '{model_id}' not found"),
            Some("MODEL_NOT_FOUND"),
            json!({}),
        );
    };
    let prompt = input["prompt"].as_str().unwrap_or("");
    if prompt.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "prompt is required",
            Some("INVALID_INPUT"),
            json!({"field": "prompt"}),
        );
    }
    let ratio = match input.get("aspectRatio") {
        None => None,
        Some(r) => match r.as_str().and_then(|t| t.parse::<AspectRatio>().ok()) {
            Some(r) if r != AspectRatio::Auto && model.takes_ratio(r) => Some(r),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Invalid aspectRatio",
                    Some("INVALID_INPUT"),
                    json!({"field": "aspectRatio"}),
                );
            }
        },
    };
    // An edit downloads its one input and follows its shape when no ratio is asked.
    let (mode, source) = match input.get("imageUrl") {
        None => ("generate", None),
        Some(url) => match url
            .as_str()
            .filter(|u| !u.starts_with("data:"))
            .and_then(|u| common::read_input(u, &shared.files))
        {
            Some(image) => ("edit", Some(image)),
            None => return bad("INVALID_URL", "Could not fetch imageUrl"),
        },
    };
    let required = shared.charge.load(Ordering::SeqCst);
    let left = shared.credits.load(Ordering::SeqCst);
    if left < required {
        return error(
            StatusCode::PAYMENT_REQUIRED,
            "Insufficient credits",
            Some("INSUFFICIENT_CREDITS"),
            json!({"creditsRequired": required, "creditsRemaining": left}),
        );
    }
    let made = common::render_result(
        &model,
        prompt,
        seed,
        ratio,
        None,
        OutputFormat::Png,
        source.as_ref(),
    );
    let bytes = match made {
        Ok(made) => made.bytes,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e, None, json!({})),
    };
    shared.credits.fetch_sub(required, Ordering::SeqCst);
    let name = shared.files.put("image/png", bytes, "png");
    common::json(
        StatusCode::OK,
        json!({"imageUrl": shared.files.url(&name), "mimeType": "image/png", "mode": mode,
               "creditsCharged": required, "durationMs": 6240}),
    )
}

async fn organization(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(denied) = authorised(&shared, &headers) {
        return denied;
    }
    common::json(
        StatusCode::OK,
        json!({"id": "org_sandbox", "name": "Sandbox", "creditsRemaining": shared.credits.load(Ordering::SeqCst)}),
    )
}
