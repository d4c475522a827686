//! What the fakes of Eachlabs, Oxen.ai and Vydra share: JSON answers, a store of served
//! files, rendering result images, and the fault script (429 with its hint, 5xx, slow,
//! malformed, truncated, and each service's own error shapes by name).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt as _;
use serde_json::Value;

use super::render;
use banana_core::recipe::{AspectRatio, ImageSize, ModelInfo, OutputFormat};
use banana_imaging as imaging;

/// A fault a fake can be told to produce on its next create/generate call.
#[derive(Clone, Debug, PartialEq)]
pub enum FakeFault {
    /// 429 in the service's own shape, with its wait hint in seconds.
    RateLimited {
        /// The hint the service gives.
        retry_after_secs: u64,
    },
    /// A 5xx answer (script several for a burst).
    ServerError {
        /// The status.
        status: u16,
    },
    /// The job runs long: this many extra polls, or for synchronous calls this many
    /// tenths of a second before answering.
    Slow(u32),
    /// 200 with cut-off JSON.
    Malformed,
    /// A body the connection drops half-way.
    Truncated,
    /// One of the service's own error shapes, by name (see each fake).
    Own(&'static str),
}

/// A JSON answer.
pub fn json(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// 200 with JSON cut off after `start` (a body that does not parse).
pub fn cut_json(start: &'static str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        start,
    )
        .into_response()
}

/// 200 whose body sends `start`, then the connection drops.
pub fn dropped_after(start: &'static [u8]) -> Response {
    let first: Result<Bytes, std::io::Error> = Ok(Bytes::from_static(start));
    let broken = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset",
        ))
    };
    let stream = futures::stream::iter(vec![first]).chain(futures::stream::once(broken));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// The answers every fake gives for the generic faults; None for the others.
pub fn generic_fault(fault: &FakeFault) -> Option<Response> {
    match fault {
        FakeFault::Malformed => Some(cut_json("{\"status\":\"succ")),
        FakeFault::Truncated => Some(dropped_after(b"{\"id\":\"")),
        _ => None,
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// The request bodies a fake received, for tests to inspect.
#[derive(Default)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub struct Recorded(Mutex<Vec<Value>>);

impl Recorded {
    /// Keeps one body (only where tests read them: the sandbox of the app keeps none).
    pub fn push(&self, body: Value) {
        #[cfg(feature = "testing")]
        if let Ok(mut bodies) = self.0.lock() {
            bodies.push(body);
        }
        #[cfg(not(feature = "testing"))]
        drop(body);
    }

    #[cfg(feature = "testing")]
    /// Every body so far, oldest first.
    pub fn all(&self) -> Vec<Value> {
        self.0.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// A fault a sandbox prompt can ask for with a `[fake:...]` tag.
pub trait Tagged: Sized {
    /// The fault the prompt's tag names, if any.
    fn from_prompt(prompt: &str) -> Option<Self>;
}

impl Tagged for FakeFault {
    fn from_prompt(prompt: &str) -> Option<Self> {
        tag(prompt)
    }
}

/// Faults queued by tests, then `[fake:...]` tags in sandbox prompts.
pub struct Script<F = FakeFault> {
    queue: Mutex<VecDeque<F>>,
}

impl<F> Default for Script<F> {
    fn default() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
        }
    }
}

impl<F: Tagged> Script<F> {
    /// Queues faults, one per call.
    #[cfg(feature = "testing")]
    pub fn push(&self, faults: impl IntoIterator<Item = F>) {
        if let Ok(mut q) = self.queue.lock() {
            q.extend(faults);
        }
    }

    /// The fault for this call: the next scripted one, else the prompt's tag.
    pub fn next(&self, prompt: &str) -> Option<F> {
        self.queue
            .lock()
            .ok()
            .and_then(|mut q| q.pop_front())
            .or_else(|| F::from_prompt(prompt))
    }
}

/// `[fake:429]`, `[fake:500]`, `[fake:503]`, `[fake:slow]`, `[fake:malformed]`,
/// `[fake:truncated]`, or `[fake:NAME]` for a service's own error shape.
pub fn tag(prompt: &str) -> Option<FakeFault> {
    let tag = prompt.split("[fake:").nth(1)?.split(']').next()?.trim();
    Some(match tag {
        "429" => FakeFault::RateLimited {
            retry_after_secs: 1,
        },
        "500" => FakeFault::ServerError { status: 500 },
        "503" => FakeFault::ServerError { status: 503 },
        "slow" => FakeFault::Slow(30),
        "malformed" => FakeFault::Malformed,
        "truncated" => FakeFault::Truncated,
        "failed" => FakeFault::Own("failed"),
        "credits" => FakeFault::Own("credits"),
        "revoked" => FakeFault::Own("revoked"),
        "nocode" => FakeFault::Own("nocode"),
        "datauri" => FakeFault::Own("datauri"),
        "cancelled" => FakeFault::Own("cancelled"),
        "ratelimit-details" => FakeFault::Own("ratelimit-details"),
        "forbidden" => FakeFault::Own("forbidden"),
        "json-error" => FakeFault::Own("json-error"),
        _ => return None,
    })
}

/// Files a fake serves at `{base}/files/{name}` (results and uploads).
pub struct Files {
    base: String,
    files: Mutex<HashMap<String, (String, Vec<u8>)>>,
    counter: AtomicU64,
}

impl Files {
    /// An empty store served by the fake at `base`.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            files: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
        }
    }

    /// Stores a file under a fresh name; returns the name.
    pub fn put(&self, mime: &str, bytes: Vec<u8>, ext: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let name = format!("f{n:06}-{:08x}.{ext}", render::stable_hash(mime, n) as u32);
        self.insert(&name, mime, bytes);
        name
    }

    /// Stores a file under `name` (replacing one of that name).
    pub fn insert(&self, name: &str, mime: &str, bytes: Vec<u8>) {
        if let Ok(mut files) = self.files.lock() {
            files.insert(name.to_owned(), (mime.to_owned(), bytes));
        }
    }

    /// The URL a stored file is served at.
    pub fn url(&self, name: &str) -> String {
        format!("{}/files/{name}", self.base)
    }

    /// A stored file.
    pub fn get(&self, name: &str) -> Option<(String, Vec<u8>)> {
        self.files.lock().ok()?.get(name).cloned()
    }

    /// Whether a URL names a file stored here (without copying it).
    pub fn holds_url(&self, url: &str) -> bool {
        url.strip_prefix(&format!("{}/files/", self.base))
            .is_some_and(|name| self.files.lock().is_ok_and(|f| f.contains_key(name)))
    }

    /// A router serving the files.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/files/{name}", get(serve))
            .with_state(self.clone())
    }
}

async fn serve(State(files): State<Arc<Files>>, Path(name): Path<String>) -> Response {
    match files.get(&name) {
        Some((mime, bytes)) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, mime)], bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

/// One rendered result: the encoded bytes and the pixel size they hold.
pub struct Rendered {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

/// The ratio a service picks when none is asked for (or `auto`): the model's ratio
/// nearest the input's shape, or square without an input. Every Nano Banana service
/// follows the input this way.
pub fn nearest_ratio(model: &ModelInfo, input: Option<&image::DynamicImage>) -> AspectRatio {
    let square = AspectRatio::Ratio(1, 1);
    let Some(input) = input else { return square };
    let want = (input.width().max(1) as f32 / input.height().max(1) as f32).ln();
    model
        .ratios
        .iter()
        .copied()
        .filter(|r| model.pixels.iter().any(|(a, _)| a == r))
        .min_by(|a, b| {
            let da = (a.value().unwrap_or(1.0).ln() - want).abs();
            let db = (b.value().unwrap_or(1.0).ln() - want).abs();
            da.total_cmp(&db)
        })
        .unwrap_or(square)
}

/// One result image for a prompt at the model's catalog size, encoded. With an input it
/// is an edit of that input (which visibly derives from it), and a missing or `auto`
/// ratio follows the input's shape, as the services do.
pub fn render_result(
    model: &ModelInfo,
    prompt: &str,
    seed: u64,
    ratio: Option<AspectRatio>,
    size: Option<ImageSize>,
    format: OutputFormat,
    input: Option<&image::DynamicImage>,
) -> Result<Rendered, String> {
    let ratio = ratio
        .filter(|r| *r != AspectRatio::Auto)
        .unwrap_or_else(|| nearest_ratio(model, input));
    let (width, height) = model.pixel_size(ratio, size).unwrap_or((1024, 1024));
    // Each service's fake draws its own picture for the same prompt, so a recipe compared
    // across providers in the sandbox shows which run is which.
    let seed = seed ^ render::stable_hash(model.provider.as_str(), 0);
    let picture = match input {
        Some(input) => render::render_edit(input, prompt, seed, width, height),
        None => render::render(prompt, seed, width, height),
    };
    let bytes = imaging::encode(&image::DynamicImage::ImageRgb8(picture), format)
        .map_err(|e| e.to_string())?;
    Ok(Rendered {
        bytes,
        width,
        height,
    })
}

/// What a service downloads from an input URL: a `data:` URI's image, or a file this
/// fake serves (the loopback fakes can reach nothing else). None when neither decodes.
pub fn read_input(url: &str, files: &Files) -> Option<image::DynamicImage> {
    let bytes = if url.starts_with("data:") {
        data_uri_image(url)?.1
    } else {
        let name = url.split("/files/").nth(1)?;
        if !files.holds_url(url) {
            return None;
        }
        files.get(name)?.1
    };
    imaging::decode(&bytes).ok()
}

/// Decodes a `data:` URI to its MIME type and bytes, when it holds an image.
pub fn data_uri_image(uri: &str) -> Option<(String, Vec<u8>)> {
    use base64::Engine as _;
    let (meta, payload) = uri.strip_prefix("data:")?.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    (imaging::sniff_mime(&bytes) == Some(mime)).then(|| (mime.to_owned(), bytes))
}
