//! The faults the fake Gemini can be told to produce, and the answers they give.

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error;

/// A fault the fake can be told to produce, like the real service does at times.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 200 with a candidate whose image was blocked (IMAGE_SAFETY, no parts).
    BlockedImage,
    /// 200 with no candidates and `promptFeedback.blockReason`.
    BlockedPrompt,
    /// 200 with text and no image.
    TextOnly,
    /// 429 RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo.
    RateLimited {
        /// The RetryInfo delay.
        retry_after_secs: f32,
    },
    /// 429 RESOURCE_EXHAUSTED without RetryInfo: the wait is only in `Retry-After`.
    RateLimitedHeaderOnly {
        /// The header's seconds.
        retry_after_secs: u64,
    },
    /// 200 with a candidate that holds no image: `content.parts` null (or `content`
    /// absent), the finish reason named, and a `finishMessage`.
    NoImage {
        /// IMAGE_SAFETY, IMAGE_PROHIBITED_CONTENT, RECITATION, NO_IMAGE, SPII, OTHER...
        finish_reason: &'static str,
        /// `content: {"parts": null}` when true; no `content` at all when false.
        parts_null: bool,
    },
    /// 400 FAILED_PRECONDITION (the API is not offered where the caller is).
    FailedPrecondition,
    /// 403 PERMISSION_DENIED (the key's project may not use the model).
    PermissionDenied,
    /// An answer holding this many result images (each a result).
    SeveralImages(u8),
    /// A 5xx with the real error envelope (500 INTERNAL, 503 UNAVAILABLE or 504
    /// DEADLINE_EXCEEDED).
    ServerError(u16),
    /// Waits this long, then answers normally.
    Slow(Duration),
    /// 200 whose body is cut-off JSON.
    MalformedJson,
    /// A body the connection drops half-way.
    TruncatedBody,
}

impl Fault {
    /// The fault a `[fake:...]` tag in a sandbox prompt asks for.
    pub fn from_prompt(prompt: &str) -> Option<Fault> {
        let tag = prompt.split("[fake:").nth(1)?.split(']').next()?;
        Some(match tag.trim() {
            "blocked-image" => Fault::BlockedImage,
            "blocked-prompt" => Fault::BlockedPrompt,
            "text-only" => Fault::TextOnly,
            "429" => Fault::RateLimited {
                retry_after_secs: 1.0,
            },
            "429-header" => Fault::RateLimitedHeaderOnly {
                retry_after_secs: 1,
            },
            "no-image" => Fault::NoImage {
                finish_reason: "NO_IMAGE",
                parts_null: true,
            },
            "precondition" => Fault::FailedPrecondition,
            "403" => Fault::PermissionDenied,
            "two-images" => Fault::SeveralImages(2),
            "504" => Fault::ServerError(504),
            "500" => Fault::ServerError(500),
            "503" => Fault::ServerError(503),
            "slow" => Fault::Slow(Duration::from_secs(8)),
            "malformed" => Fault::MalformedJson,
            "truncated" => Fault::TruncatedBody,
            _ => return None,
        })
    }
}

pub(super) fn fault_response(fault: &Fault) -> Option<Response> {
    let ok = |body: Value| {
        Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response(),
        )
    };
    match fault {
        Fault::BlockedImage => ok(
            json!({"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0,
            "finishMessage": "Unable to show the generated image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy."}],
            "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12}}),
        ),
        Fault::BlockedPrompt => ok(
            json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12}}),
        ),
        Fault::TextOnly => ok(
            json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "I'd love to help! Could you tell me more about the style you have in mind?"}]},
            "finishReason": "STOP", "index": 0}]}),
        ),
        Fault::RateLimited { retry_after_secs } => Some(error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            json!([
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                    {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                     "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{retry_after_secs}s")}
            ]),
        )),
        Fault::RateLimitedHeaderOnly { retry_after_secs } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
                Value::Null,
            );
            if let Ok(value) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Some(response)
        }
        Fault::NoImage {
            finish_reason,
            parts_null,
        } => {
            let mut candidate = json!({"finishReason": finish_reason, "index": 0,
                "finishMessage": "The model could not make an image for this request."});
            if *parts_null {
                candidate["content"] = json!({"role": "model", "parts": null});
            }
            ok(json!({"candidates": [candidate],
                "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12}}))
        }
        Fault::FailedPrecondition => Some(error(
            StatusCode::BAD_REQUEST,
            "FAILED_PRECONDITION",
            "User location is not supported for the API use.",
            Value::Null,
        )),
        Fault::PermissionDenied => Some(error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Permission denied: the caller does not have permission to use this model.",
            Value::Null,
        )),
        Fault::SeveralImages(_) => None,
        Fault::ServerError(504) => Some(error(
            StatusCode::GATEWAY_TIMEOUT,
            "DEADLINE_EXCEEDED",
            "Deadline expired before operation could complete.",
            Value::Null,
        )),
        Fault::ServerError(503) => Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
            Value::Null,
        )),
        Fault::ServerError(status) => Some(error(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            Value::Null,
        )),
        Fault::Slow(_) => None,
        Fault::MalformedJson => Some(crate::common::cut_json(
            "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Here",
        )),
        // The headers and a first chunk go out; then the connection drops.
        Fault::TruncatedBody => Some(crate::common::dropped_after(
            b"{\"candidates\": [{\"content\": {\"parts\": [{\"inlineData\": {\"data\": \"iVBOR",
        )),
    }
}
