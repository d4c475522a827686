//! The faults the fake fal.ai can be told to produce, and the answers they give.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{answer, detail};
use crate::common;

/// A fault the fake fal can be told to produce.
#[derive(Clone, Debug, PartialEq)]
pub enum FalFault {
    /// 429 with `Retry-After`.
    RateLimited {
        /// Seconds in the header.
        retry_after_secs: u64,
    },
    /// A 5xx with `X-Fal-Retryable` (true: worth retrying).
    ServerError {
        /// The status.
        status: u16,
        /// The header's value.
        retryable: bool,
    },
    /// 504 `{"detail":"Request timed out","error_type":"request_timeout"}`.
    RequestTimeout,
    /// 422 with `detail` as a plain string.
    DetailString,
    /// The request stays in progress this many extra polls.
    Slow(u32),
    /// 422 whose `detail` list names an input with `type: image_too_large`.
    ImageTooLarge,
    /// The run fails: its status is COMPLETED with `error` and `error_type`, and the
    /// response URL answers 422 (a content-policy refusal).
    Failed,
    /// 200 with cut-off JSON.
    MalformedJson,
    /// A body the connection drops half-way.
    TruncatedBody,
}

pub(super) fn fault_answer(fault: &FalFault) -> Option<Response> {
    match fault {
        FalFault::RateLimited { retry_after_secs } => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                    (header::RETRY_AFTER, retry_after_secs.to_string()),
                ],
                json!({"detail": "Rate limit exceeded"}).to_string(),
            )
                .into_response(),
        ),
        FalFault::ServerError { status, retryable } => Some(
            (
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                [
                    (header::CONTENT_TYPE.as_str(), "application/json".to_owned()),
                    ("x-fal-retryable", retryable.to_string()),
                    ("x-fal-error-type", "internal_server_error".to_owned()),
                ],
                json!({"detail": "Internal server error"}).to_string(),
            )
                .into_response(),
        ),
        FalFault::RequestTimeout => Some(answer(
            StatusCode::GATEWAY_TIMEOUT,
            json!({"detail": "Request timed out", "error_type": "request_timeout"}),
        )),
        FalFault::DetailString => Some(detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable request: the prompt was flagged",
        )),
        FalFault::MalformedJson => Some(common::cut_json("{\"status\":\"IN_QU")),
        FalFault::TruncatedBody => Some(common::dropped_after(b"{\"request_id\":\"")),
        FalFault::ImageTooLarge => Some(answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": [{"loc": ["body", "image_urls", 0],
                "msg": "Image too large: the image is 9000x9000 pixels; the maximum is 4096x4096.",
                "type": "image_too_large",
                "ctx": {"max_height": 4096, "max_width": 4096},
                "input": "https://v3.fal.media/files/input.png"}]}),
        )),
        FalFault::Slow(_) | FalFault::Failed => None,
    }
}

impl crate::common::Tagged for FalFault {
    fn from_prompt(prompt: &str) -> Option<Self> {
        tag_fault(prompt)
    }
}

/// `[fake:...]` tags in a sandbox prompt.
fn tag_fault(prompt: &str) -> Option<FalFault> {
    let tag = prompt.split("[fake:").nth(1)?.split(']').next()?;
    Some(match tag.trim() {
        "429" => FalFault::RateLimited {
            retry_after_secs: 1,
        },
        "500" => FalFault::ServerError {
            status: 500,
            retryable: true,
        },
        "503" => FalFault::ServerError {
            status: 503,
            retryable: true,
        },
        "timeout" => FalFault::RequestTimeout,
        "failed" => FalFault::Failed,
        "too-large" => FalFault::ImageTooLarge,
        "slow" => FalFault::Slow(20),
        "malformed" => FalFault::MalformedJson,
        "truncated" => FalFault::TruncatedBody,
        _ => return None,
    })
}
