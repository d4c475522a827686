//! The fake's Batch API, as google-genai's `batches.py` reads the real one: a batch made
//! from inline requests (a body under 20 MB) or a JSONL file uploaded through the Files
//! API, answered as an operation whose `metadata.state` moves from
//! `BATCH_STATE_PENDING` through `BATCH_STATE_RUNNING` to `BATCH_STATE_SUCCEEDED` over a
//! few polls; results inline for inline input, a responses file for file input; each
//! request judged as `generateContent` judges it (its refusal or error is its own
//! result); cancel; and expiry for a batch whose name asks for it ("expire").

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Fault, Shared, check_key, error, invalid, last_user_prompt};
use banana_core::recipe::ModelInfo;

/// The inline limit of a batch's body.
const MAX_INLINE_BYTES: usize = 20 * 1024 * 1024;

/// A batch the fake holds.
pub(super) struct FakeBatch {
    model: ModelInfo,
    display: String,
    requests: Vec<(String, Option<Value>)>,
    from_file: bool,
    polls: u32,
    cancelled: bool,
    created_ms: i64,
    /// The results, once made.
    output: Option<Value>,
}

/// Every batch, by id.
pub(super) type Batches = HashMap<String, FakeBatch>;

/// A batch as kept on disk (the sandbox's batches outlive the process, as the
/// service's do); its results are made again when it is next asked after.
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    model: String,
    display: String,
    requests: Vec<(String, Option<Value>)>,
    from_file: bool,
    polls: u32,
    cancelled: bool,
    created_ms: i64,
}

fn kept_path(shared: &Shared, id: &str) -> Option<std::path::PathBuf> {
    let safe = id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let dir = shared.state_dir.as_ref()?.join("batches");
    safe.then(|| dir.join(format!("{id}.json")))
}

/// Writes a batch down (when the fake keeps state), so a restart finds it.
fn keep(shared: &Shared, id: &str, batch: &FakeBatch) {
    let Some(path) = kept_path(shared, id) else {
        return;
    };
    let kept = Kept {
        model: batch.model.id.clone(),
        display: batch.display.clone(),
        requests: batch.requests.clone(),
        from_file: batch.from_file,
        polls: batch.polls,
        cancelled: batch.cancelled,
        created_ms: batch.created_ms,
    };
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            let bytes = serde_json::to_vec(&kept).map_err(std::io::Error::other)?;
            std::fs::write(&path, bytes)
        });
    if let Err(e) = written {
        tracing::warn!("the sandbox could not keep batch {id}: {e}");
    }
}

/// A batch written down by an earlier run.
fn kept(shared: &Shared, id: &str) -> Option<FakeBatch> {
    let bytes = std::fs::read(kept_path(shared, id)?).ok()?;
    let kept: Kept = serde_json::from_slice(&bytes).ok()?;
    let model = shared
        .catalog
        .model(banana_core::recipe::ProviderId::Gemini, &kept.model)?
        .clone();
    Some(FakeBatch {
        model,
        display: kept.display,
        requests: kept.requests,
        from_file: kept.from_file,
        polls: kept.polls,
        cancelled: kept.cancelled,
        created_ms: kept.created_ms,
        output: None,
    })
}

fn json_ok(body: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `models/{m}:batchGenerateContent`.
pub(super) fn create(shared: &Shared, model: &ModelInfo, body: &[u8]) -> Response {
    if body.len() > MAX_INLINE_BYTES {
        return invalid("Request payload size exceeds the limit: 20971520 bytes.");
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return invalid("Invalid JSON payload received. Unexpected token.");
    };
    let batch = &request["batch"];
    let input = &batch["inputConfig"];
    let display = batch["displayName"].as_str().unwrap_or("").to_owned();
    let (requests, from_file) = match (input.get("requests"), input.get("fileName")) {
        (Some(inline), None) => {
            let Some(items) = inline["requests"].as_array() else {
                return invalid(
                    "* BatchGenerateContentRequest.batch.input_config.requests.requests: must be a list",
                );
            };
            let requests = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let key = item["metadata"]["key"]
                        .as_str()
                        .map_or_else(|| i.to_string(), str::to_owned);
                    (key, item.get("request").filter(|r| r.is_object()).cloned())
                })
                .collect::<Vec<_>>();
            (requests, false)
        }
        (None, Some(file)) => {
            let id = file.as_str().unwrap_or("").trim_start_matches("files/");
            let Some(stored) = super::files::lookup(shared, id) else {
                return super::files::not_yours(id);
            };
            let requests = stored
                .bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .enumerate()
                .map(|(i, line)| {
                    let item: Value = serde_json::from_slice(line).unwrap_or(Value::Null);
                    let key = item["key"]
                        .as_str()
                        .map_or_else(|| i.to_string(), str::to_owned);
                    (key, item.get("request").filter(|r| r.is_object()).cloned())
                })
                .collect::<Vec<_>>();
            (requests, true)
        }
        _ => {
            return invalid(
                "* BatchGenerateContentRequest.batch.input_config: exactly one of requests or \
                 file_name must be set",
            );
        }
    };
    if requests.is_empty() {
        return invalid(
            "* BatchGenerateContentRequest.batch.input_config: the batch has no requests",
        );
    }
    // Unique across runs too: kept batches of earlier runs keep their names.
    let id = format!(
        "fake{}-{}",
        banana_core::now_ms(),
        shared.batches_made.fetch_add(1, Ordering::SeqCst) + 1
    );
    let made = FakeBatch {
        model: model.clone(),
        display,
        requests,
        from_file,
        polls: 0,
        cancelled: false,
        created_ms: banana_core::now_ms(),
        output: None,
    };
    let answer = operation(&id, &made, "BATCH_STATE_PENDING");
    keep(shared, &id, &made);
    if let Ok(mut batches) = shared.batches.lock() {
        batches.insert(id, made);
    }
    json_ok(&answer)
}

fn operation(id: &str, batch: &FakeBatch, state: &str) -> Value {
    let time = banana_core::dates::rfc3339(batch.created_ms);
    let mut meta = json!({
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
        "model": format!("models/{}", batch.model.id),
        "displayName": batch.display,
        "createTime": time,
        "updateTime": time,
        "batchStats": {"requestCount": batch.requests.len().to_string()},
        "state": state,
        "name": format!("batches/{id}"),
    });
    if let Some(output) = &batch.output {
        meta["output"] = output.clone();
        meta["endTime"] = json!(banana_core::dates::rfc3339(banana_core::now_ms()));
    }
    json!({"name": format!("batches/{id}"), "metadata": meta, "done": state != "BATCH_STATE_PENDING" && state != "BATCH_STATE_RUNNING"})
}

/// `GET batches/{id}`: one poll further along.
pub(super) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
) -> Response {
    if let Some(denied) = check_key(&shared, &headers, &query) {
        return denied;
    }
    let step = {
        let Ok(mut batches) = shared.batches.lock() else {
            return invalid("busy");
        };
        if !batches.contains_key(&id)
            && let Some(found) = kept(&shared, &id)
        {
            batches.insert(id.clone(), found);
        }
        let Some(batch) = batches.get_mut(&id) else {
            return not_found(&id);
        };
        batch.polls += 1;
        keep(&shared, &id, batch);
        if batch.cancelled {
            return json_ok(&operation(&id, batch, "BATCH_STATE_CANCELLED"));
        }
        if batch.display.contains("expire") && batch.polls >= 2 {
            return json_ok(&operation(&id, batch, "BATCH_STATE_EXPIRED"));
        }
        match batch.polls {
            1 => return json_ok(&operation(&id, batch, "BATCH_STATE_PENDING")),
            2 => return json_ok(&operation(&id, batch, "BATCH_STATE_RUNNING")),
            _ if batch.output.is_some() => {
                return json_ok(&operation(&id, batch, "BATCH_STATE_SUCCEEDED"));
            }
            _ => (batch.model.clone(), batch.requests.clone(), batch.from_file),
        }
    };
    let (model, requests, from_file) = step;
    let output = run(&shared, &model, requests, from_file, &id).await;
    let Ok(mut batches) = shared.batches.lock() else {
        return invalid("busy");
    };
    let Some(batch) = batches.get_mut(&id) else {
        return not_found(&id);
    };
    batch.output.get_or_insert(output);
    json_ok(&operation(&id, batch, "BATCH_STATE_SUCCEEDED"))
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("Requested entity was not found. (batches/{id})"),
        Value::Null,
    )
}

/// Each request judged as `generateContent` judges it; the results inline, or as a
/// responses file.
async fn run(
    shared: &Arc<Shared>,
    model: &ModelInfo,
    requests: Vec<(String, Option<Value>)>,
    from_file: bool,
    id: &str,
) -> Value {
    let mut results = Vec::with_capacity(requests.len());
    for (key, request) in requests {
        let Some(request) = request else {
            results.push(
                json!({"key": key, "error": {"code": 400, "status": "INVALID_ARGUMENT",
                "message": "The request could not be read."}}),
            );
            continue;
        };
        let fault = Fault::from_prompt(&last_user_prompt(&request));
        let n = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let (s, m) = (shared.clone(), model.clone());
        let answered =
            tokio::task::spawn_blocking(move || super::answer(&s, &m, &request, fault, n, false))
                .await;
        let item = match answered {
            Ok(Ok(body)) => json!({"key": key, "response": body}),
            Ok(Err(response)) => {
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), 1024 * 1024)
                    .await
                    .unwrap_or_default();
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if status == StatusCode::OK {
                    json!({"key": key, "response": body})
                } else {
                    json!({"key": key, "error": body["error"]})
                }
            }
            Err(_) => json!({"key": key, "error": {"code": 500, "status": "INTERNAL",
                "message": "An internal error has occurred."}}),
        };
        results.push(item);
    }
    if from_file {
        let mut jsonl = Vec::new();
        for item in &results {
            let _ = serde_json::to_writer(&mut jsonl, item);
            jsonl.push(b'\n');
        }
        let file = super::files::keep(shared, &format!("batch-{id}-responses"), "jsonl", jsonl);
        json!({"responsesFile": format!("files/{file}")})
    } else {
        let inline: Vec<Value> = results
            .into_iter()
            .map(|mut item| {
                let key = item["key"].take();
                if let Some(object) = item.as_object_mut() {
                    object.remove("key");
                }
                item["metadata"] = json!({"key": key});
                item
            })
            .collect();
        json!({"inlinedResponses": {"inlinedResponses": inline}})
    }
}

/// `POST batches/{id}:cancel` (and `DELETE batches/{id}`).
pub(super) async fn action(
    State(shared): State<Arc<Shared>>,
    Path(action): Path<String>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
    _body: Bytes,
) -> Response {
    if let Some(denied) = check_key(&shared, &headers, &query) {
        return denied;
    }
    let Some(id) = action.strip_suffix(":cancel") else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Method not found.",
            Value::Null,
        );
    };
    let Ok(mut batches) = shared.batches.lock() else {
        return invalid("busy");
    };
    if !batches.contains_key(id)
        && let Some(found) = kept(&shared, id)
    {
        batches.insert(id.to_owned(), found);
    }
    let Some(batch) = batches.get_mut(id) else {
        return not_found(id);
    };
    if batch.output.is_none() {
        batch.cancelled = true;
        keep(&shared, id, batch);
    }
    json_ok(&json!({}))
}

/// `GET /download/v1beta/files/{id}:download?alt=media`: a file's bytes.
pub(super) async fn download(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
) -> Response {
    if let Some(denied) = check_key(&shared, &headers, &query) {
        return denied;
    }
    if !query.0.iter().any(|(k, v)| k == "alt" && v == "media") {
        return invalid("Download requests must ask for alt=media.");
    }
    let id = file.strip_suffix(":download").unwrap_or(&file);
    match super::files::lookup(&shared, id) {
        Some(stored) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            stored.bytes.to_vec(),
        )
            .into_response(),
        None => super::files::not_yours(id),
    }
}
