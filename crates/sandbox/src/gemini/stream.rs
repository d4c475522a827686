//! The streamed answer (`streamGenerateContent`): as the service sends it, a chunk per
//! part, a moment apart, each chunk with the usage counted so far, the finish reason,
//! the grounding and the whole usage on the last. With `alt=sse` the chunks are
//! server-sent events; without, one JSON array.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The time between chunks: thoughts arrive one after another, as a model thinks.
const PACE: Duration = Duration::from_millis(150);

/// The largest refusal body read back to be re-sent as a chunk.
const MAX_REFUSAL_BYTES: usize = 1024 * 1024;

/// The whole answer `body`, sent a part at a time.
pub(super) fn chunked(body: Value, sse: bool) -> Response {
    let chunks = split(&body);
    if !sse {
        let array = Value::Array(chunks).to_string();
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            array,
        )
            .into_response();
    }
    let events: Vec<Bytes> = chunks
        .iter()
        .map(|c| Bytes::from(format!("data: {c}\r\n\r\n")))
        .collect();
    let paced = futures::stream::unfold(
        (events.into_iter(), true),
        |(mut events, first)| async move {
            let event = events.next()?;
            if !first {
                tokio::time::sleep(PACE).await;
            }
            Some((Ok::<_, std::io::Error>(event), (events, false)))
        },
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(paced))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A 200 answer that is not an image (a blocked prompt, text only) as the stream's one
/// chunk, as the service streams it.
pub(super) async fn single(response: Response, sse: bool) -> Response {
    let body = axum::body::to_bytes(response.into_body(), MAX_REFUSAL_BYTES)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let (content_type, body) = if sse {
        ("text/event-stream", format!("data: {text}\r\n\r\n"))
    } else {
        ("application/json", format!("[{text}]"))
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The chunks of an answer: one a part, the candidate's closing fields and the whole
/// usage on the last, the prompt's tokens on every one.
fn split(body: &Value) -> Vec<Value> {
    let candidate = &body["candidates"][0];
    let parts = candidate["content"]["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let usage = &body["usageMetadata"];
    let prompt_tokens = usage["promptTokenCount"].clone();
    let so_far = json!({"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens});
    let count = parts.len().max(1);
    let mut chunks = Vec::with_capacity(count);
    for i in 0..count {
        let last = i + 1 == count;
        let mut c = json!({"content": {"role": "model", "parts": parts.get(i).map(|p| vec![p.clone()]).unwrap_or_default()}, "index": 0});
        if last {
            for key in ["finishReason", "finishMessage", "groundingMetadata"] {
                if let Some(v) = candidate.get(key) {
                    c[key] = v.clone();
                }
            }
        }
        chunks.push(json!({
            "candidates": [c],
            "usageMetadata": if last { usage.clone() } else { so_far.clone() },
            "modelVersion": body["modelVersion"],
            "responseId": body["responseId"],
        }));
    }
    chunks
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parts_go_one_a_chunk_and_the_last_closes() {
        let body = json!({"candidates":[{"content":{"role":"model","parts":[
            {"text":"**A**","thought":true},{"text":"hi","thoughtSignature":"s"}]},
            "finishReason":"STOP","groundingMetadata":{"webSearchQueries":["q"]}}],
            "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"totalTokenCount":14},
            "modelVersion":"m","responseId":"r"});
        let chunks = split(&body);
        assert_eq!(chunks.len(), 2);
        assert!(chunks[0]["candidates"][0].get("finishReason").is_none());
        assert_eq!(chunks[0]["usageMetadata"]["totalTokenCount"], 5);
        assert_eq!(chunks[1]["candidates"][0]["finishReason"], "STOP");
        assert_eq!(chunks[1]["usageMetadata"]["totalTokenCount"], 14);
        assert_eq!(
            chunks[1]["candidates"][0]["content"]["parts"][0]["thoughtSignature"],
            "s"
        );
    }
}
