//! The fake's Files API, as google-genai's `files.py` drives the real one: a resumable
//! upload (`start`, then `upload` chunks of the granularity, the last with `finalize`),
//! `files.get`, and files a request names by `fileData.fileUri`. Files belong to the key
//! that uploaded them and live 48 hours.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Shared, check_key, error, invalid};

/// Chunks other than the last must be a multiple of this, as the service says in
/// `x-goog-upload-chunk-granularity`.
pub const GRANULARITY: usize = 8 * 1024 * 1024;

/// The largest file the service takes (2 GB).
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// How long a file lives.
const LIFETIME_MS: i64 = 48 * 3600 * 1000;

/// An upload begun and not yet finalized.
pub(super) struct Pending {
    mime: String,
    declared: u64,
    display_name: Option<String>,
    received: Vec<u8>,
}

/// A file the fake holds.
#[derive(Clone)]
pub(super) struct Stored {
    pub mime: String,
    pub bytes: Arc<Vec<u8>>,
    created_ms: i64,
    display_name: Option<String>,
}

/// Uploads under way and files kept.
#[derive(Default)]
pub(super) struct Files {
    pub pending: HashMap<String, Pending>,
    pub stored: HashMap<String, Stored>,
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn rfc3339(ms: i64) -> String {
    banana_core::dates::rfc3339(ms)
}

fn file_json(id: &str, file: &Stored, base: &str) -> Value {
    let mut out = json!({
        "name": format!("files/{id}"),
        "mimeType": file.mime,
        // int64 as proto3 JSON writes it: a string.
        "sizeBytes": file.bytes.len().to_string(),
        "createTime": rfc3339(file.created_ms),
        "updateTime": rfc3339(file.created_ms),
        "expirationTime": rfc3339(file.created_ms + LIFETIME_MS),
        "uri": format!("{base}/v1beta/files/{id}"),
        "state": "ACTIVE",
        "source": "UPLOADED",
    });
    if let Some(name) = &file.display_name {
        out["displayName"] = json!(name);
    }
    out
}

fn base_of(headers: &HeaderMap) -> String {
    format!(
        "http://{}",
        header_str(headers, "host").unwrap_or("127.0.0.1")
    )
}

/// `POST /upload/v1beta/files`: `start` (no `upload_id`), or a chunk of an upload.
pub(super) async fn upload(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    let upload_id = query
        .0
        .iter()
        .find(|(k, _)| k == "upload_id")
        .map(|(_, v)| v.clone());
    if let Some(id) = upload_id {
        return chunk(&shared, &headers, &id, &body);
    }
    if let Some(denied) = check_key(&shared, &headers, &query) {
        return denied;
    }
    if header_str(&headers, "x-goog-upload-protocol") != Some("resumable")
        || header_str(&headers, "x-goog-upload-command") != Some("start")
    {
        return invalid("Upload requests must use the resumable protocol with a start command.");
    }
    let declared = header_str(&headers, "x-goog-upload-header-content-length")
        .and_then(|v| v.parse::<u64>().ok());
    let Some(declared) = declared.filter(|n| *n > 0) else {
        return invalid("X-Goog-Upload-Header-Content-Length is required.");
    };
    if declared > MAX_FILE_BYTES {
        return invalid("File size exceeds the 2 GB limit.");
    }
    let mime = header_str(&headers, "x-goog-upload-header-content-type")
        .unwrap_or("")
        .to_owned();
    if mime.is_empty() {
        return invalid("X-Goog-Upload-Header-Content-Type is required.");
    }
    let meta: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let display_name = meta
        .get("file")
        .and_then(|f| f.get("displayName").or_else(|| f.get("display_name")))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let id = format!(
        "up{}",
        shared.uploads_started.fetch_add(1, Ordering::SeqCst) + 1
    );
    if let Ok(mut files) = shared.files.lock() {
        files.pending.insert(
            id.clone(),
            Pending {
                mime,
                declared,
                display_name,
                received: Vec::new(),
            },
        );
    }
    let url = format!(
        "{}/upload/v1beta/files?upload_id={id}&upload_protocol=resumable",
        base_of(&headers)
    );
    (
        StatusCode::OK,
        [
            ("x-goog-upload-url", url),
            ("x-goog-upload-status", "active".to_owned()),
            ("x-goog-upload-chunk-granularity", GRANULARITY.to_string()),
        ],
    )
        .into_response()
}

/// A chunk of an upload: at the offset received so far; the last one finalizes.
fn chunk(shared: &Shared, headers: &HeaderMap, id: &str, body: &[u8]) -> Response {
    let command = header_str(headers, "x-goog-upload-command").unwrap_or("");
    let finalize = command.split(',').any(|c| c.trim() == "finalize");
    if !command.split(',').any(|c| c.trim() == "upload") {
        return invalid("X-Goog-Upload-Command must be upload or upload, finalize.");
    }
    let offset = header_str(headers, "x-goog-upload-offset").and_then(|v| v.parse::<u64>().ok());
    let Ok(mut files) = shared.files.lock() else {
        return invalid("busy");
    };
    let Some(pending) = files.pending.get_mut(id) else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The upload session was not found or has ended.",
            Value::Null,
        );
    };
    if offset != Some(pending.received.len() as u64) {
        return invalid(&format!(
            "X-Goog-Upload-Offset {} does not match the {} bytes received.",
            offset.map_or("missing".to_owned(), |o| o.to_string()),
            pending.received.len()
        ));
    }
    if !finalize && !body.len().is_multiple_of(GRANULARITY) {
        return invalid("A chunk that does not finalize must be a multiple of the granularity.");
    }
    pending.received.extend_from_slice(body);
    if pending.received.len() as u64 > pending.declared {
        files.pending.remove(id);
        return invalid("More bytes were uploaded than declared.");
    }
    if !finalize {
        return (StatusCode::OK, [("x-goog-upload-status", "active")]).into_response();
    }
    let Some(done) = files.pending.remove(id) else {
        return invalid("busy");
    };
    if done.received.len() as u64 != done.declared {
        return invalid(&format!(
            "The upload was finalized with {} of the {} bytes declared.",
            done.received.len(),
            done.declared
        ));
    }
    let file_id = format!(
        "f{:x}",
        super::render::stable_hash(id, done.received.len() as u64)
    );
    let stored = Stored {
        mime: done.mime,
        bytes: Arc::new(done.received),
        created_ms: banana_core::now_ms(),
        display_name: done.display_name,
    };
    let body = json!({ "file": file_json(&file_id, &stored, &base_of(headers)) });
    files.stored.insert(file_id, stored);
    shared.uploads_finished.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE.as_str(), "application/json"),
            ("x-goog-upload-status", "final"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The service's refusal of a file that is not the caller's (or no longer exists).
pub(super) fn not_yours(id: &str) -> Response {
    error(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        &format!("You do not have permission to access the File {id} or it may not exist."),
        Value::Null,
    )
}

/// `GET /v1beta/files/{id}`.
pub(super) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
) -> Response {
    if let Some(denied) = check_key(&shared, &headers, &query) {
        return denied;
    }
    match lookup(&shared, &id) {
        Some(file) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            file_json(&id, &file, &base_of(&headers)).to_string(),
        )
            .into_response(),
        None => not_yours(&id),
    }
}

/// Keeps bytes the service made (a batch's responses) as a file; its id.
pub(super) fn keep(shared: &Shared, name: &str, mime: &str, bytes: Vec<u8>) -> String {
    let id = format!(
        "f{:x}",
        super::render::stable_hash(name, bytes.len() as u64)
    );
    if let Ok(mut files) = shared.files.lock() {
        files.stored.insert(
            id.clone(),
            Stored {
                mime: mime.to_owned(),
                bytes: Arc::new(bytes),
                created_ms: banana_core::now_ms(),
                display_name: Some(name.to_owned()),
            },
        );
    }
    id
}

/// A live file by id; one past its 48 hours is gone.
pub(super) fn lookup(shared: &Shared, id: &str) -> Option<Stored> {
    let mut files = shared.files.lock().ok()?;
    let alive = files
        .stored
        .get(id)
        .is_some_and(|f| banana_core::now_ms() - f.created_ms < LIFETIME_MS);
    if !alive {
        files.stored.remove(id);
        return None;
    }
    files.stored.get(id).cloned()
}

/// The file a `fileData.fileUri` names, or the service's refusal.
pub(super) fn resolve(shared: &Shared, uri: &str) -> Result<Stored, Box<Response>> {
    let id = uri
        .split_once("/files/")
        .map(|(_, id)| id)
        .or_else(|| uri.strip_prefix("files/"))
        .unwrap_or(uri);
    lookup(shared, id).ok_or_else(|| Box::new(not_yours(id)))
}

/// Ages every file past its lifetime (tests of expiry).
#[cfg(feature = "testing")]
pub(super) fn expire_all(shared: &Shared) {
    if let Ok(mut files) = shared.files.lock() {
        for file in files.stored.values_mut() {
            file.created_ms -= LIFETIME_MS;
        }
    }
}
