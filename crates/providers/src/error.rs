//! Typed provider errors: one kind a user can act on, a message in words, an exit code.

use std::time::Duration;

pub use banana_core::ErrorKind;

/// A failed provider call.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The service rejected the request's content.
    #[error("{message}")]
    InvalidInput {
        /// The service's own words.
        message: String,
    },
    /// The key was missing, rejected or lacks permission.
    #[error("{message}")]
    Auth {
        /// What the service said, in words.
        message: String,
    },
    /// Rate limit or quota.
    #[error("{}", rate_limited_message(.quota.as_deref(), *.retry_after, .message))]
    RateLimited {
        /// How long the service asked us to wait.
        retry_after: Option<Duration>,
        /// Which quota, when the service says.
        quota: Option<String>,
        /// The service's words.
        message: String,
    },
    /// No image: blocked by safety, or text only.
    #[error("{}", refused_message(.reason, .text.as_deref()))]
    Refused {
        /// Why, in plain words.
        reason: String,
        /// What the model said, if anything.
        text: Option<String>,
    },
    /// The model is unknown or retired.
    #[error("{message}")]
    ModelNotFound {
        /// Which model.
        model: String,
        /// Words for the user, naming what to do.
        message: String,
    },
    /// The connection failed.
    #[error("network problem: {message}")]
    Network {
        /// What failed, without URLs or keys.
        message: String,
    },
    /// The service failed.
    #[error("the service failed (HTTP {status}): {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The service's words.
        message: String,
    },
    /// The service failed and says trying again will not help (fal's `X-Fal-Retryable: false`).
    #[error("the service failed (HTTP {status}) and says retrying will not help: {message}")]
    ServerFinal {
        /// HTTP status.
        status: u16,
        /// The service's words.
        message: String,
    },
    /// The service took the job but could not make the image (a failed prediction or
    /// generation); trying the same job again will not help by itself.
    #[error("{message}")]
    Failed {
        /// The service's words, prefixed with who said them.
        message: String,
    },
    /// The account has no credits or balance left for this job (HTTP 402).
    #[error("{message}")]
    OutOfCredits {
        /// How much is needed and left, when the service says, and where to top up.
        message: String,
    },
    /// No answer in time.
    #[error("no answer after {secs} s; the service may be busy, try again")]
    Timeout {
        /// How long we waited.
        secs: u64,
    },
    /// An answer we could not read.
    #[error("the service sent an answer this app cannot read: {message}")]
    BadResponse {
        /// What was wrong with it.
        message: String,
    },
    /// A redirect that was not followed (to another host, or to plain http); never
    /// retried, since the same answer would come again.
    #[error("{message}")]
    Redirect {
        /// Which host redirected where, without the URL.
        message: String,
    },
    /// Cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

fn rate_limited_message(
    quota: Option<&str>,
    retry_after: Option<Duration>,
    message: &str,
) -> String {
    let mut out = match quota.map(quota_words) {
        Some(words) => format!("the limit of {words} is reached"),
        None => "rate limit or quota reached".to_owned(),
    };
    match retry_after {
        Some(wait) => out.push_str(&format!("; wait {} s and retry", wait.as_secs().max(1))),
        None => out.push_str("; wait a minute and retry"),
    }
    if quota.is_some_and(|q| q.contains("FreeTier")) {
        out.push_str(", or enable billing on the key's project for higher limits");
    }
    if !message.is_empty() {
        out.push_str(&format!(" (the service said: {message})"));
    }
    out
}

/// A quota id such as `GenerateRequestsPerMinutePerProjectPerModel-FreeTier` in words:
/// "requests per minute for this model on the free tier". An id it cannot read is
/// given as it is.
pub fn quota_words(id: &str) -> String {
    let (name, tier) = id.split_once('-').unwrap_or((id, ""));
    let what = if name.contains("Token") {
        "tokens"
    } else if name.contains("Image") {
        "images"
    } else if name.contains("Request") {
        "requests"
    } else {
        return id.to_owned();
    };
    let per = if name.contains("PerMinute") {
        " per minute"
    } else if name.contains("PerDay") {
        " per day"
    } else if name.contains("PerHour") {
        " per hour"
    } else {
        ""
    };
    let scope = if name.contains("PerModel") {
        " for this model"
    } else {
        ""
    };
    let tier = if tier.contains("FreeTier") {
        " on the free tier"
    } else {
        ""
    };
    format!("{what}{per}{scope}{tier}")
}

fn refused_message(reason: &str, text: Option<&str>) -> String {
    match text {
        Some(t) if !t.trim().is_empty() => format!("{reason}. The model said: \"{}\"", t.trim()),
        _ => reason.to_owned(),
    }
}

impl ProviderError {
    /// The kind a user can act on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProviderError::InvalidInput { .. } => ErrorKind::InvalidInput,
            ProviderError::Auth { .. } => ErrorKind::Auth,
            ProviderError::RateLimited { .. } | ProviderError::OutOfCredits { .. } => {
                ErrorKind::RateLimited
            }
            ProviderError::Failed { .. } => ErrorKind::Server,
            ProviderError::Refused { .. } => ErrorKind::Refused,
            ProviderError::ModelNotFound { .. } => ErrorKind::ModelNotFound,
            ProviderError::Network { .. } | ProviderError::Redirect { .. } => ErrorKind::Network,
            ProviderError::Server { .. } | ProviderError::ServerFinal { .. } => ErrorKind::Server,
            ProviderError::Timeout { .. } => ErrorKind::Timeout,
            ProviderError::BadResponse { .. } => ErrorKind::BadResponse,
            ProviderError::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// Whether trying again may help: 429, 500, 503, 504, timeouts and dropped connections.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::RateLimited { .. }
            | ProviderError::Network { .. }
            | ProviderError::Timeout { .. } => true,
            ProviderError::Server { status, .. } => matches!(status, 500 | 503 | 504),
            _ => false,
        }
    }

    /// The wait the service asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A job the service ran and reported failed, sorted by its words: content blocked is a
/// refusal, a bad parameter is invalid input, anything else a failure on the service.
pub fn classify_failure(provider: &str, words: &str) -> ProviderError {
    let lower = words.to_ascii_lowercase();
    let said = if words.trim().is_empty() {
        format!("{provider} could not make the image and gave no reason")
    } else {
        format!("{provider} could not make the image: {}", words.trim())
    };
    let any = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if any(&[
        "safety",
        "nsfw",
        "blocked",
        "content policy",
        "moderation",
        "flagged",
    ]) {
        ProviderError::Refused {
            reason: said,
            text: None,
        }
    } else if any(&[
        "invalid",
        "must be",
        "not supported",
        "unsupported",
        "too large",
        "too long",
        "required",
        "data uri",
        "could not download",
        "failed to download",
    ]) {
        ProviderError::InvalidInput { message: said }
    } else {
        ProviderError::Failed { message: said }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_their_words() {
        assert_eq!(
            classify_failure("Oxen.ai", "Invalid aspect ratio: 21:9").kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            classify_failure("Eachlabs", "Output blocked by safety filter").kind(),
            ErrorKind::Refused
        );
        let e = classify_failure("Eachlabs", "GPU worker crashed");
        assert_eq!(e.kind(), ErrorKind::Server);
        assert!(!e.is_retryable());
        assert_eq!(
            e.to_string(),
            "Eachlabs could not make the image: GPU worker crashed"
        );
    }

    #[test]
    fn messages_are_plain_words() {
        let e = ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(17)),
            quota: Some("GenerateRequestsPerMinutePerProjectPerModel".into()),
            message: "Quota exceeded".into(),
        };
        assert_eq!(
            e.to_string(),
            "the limit of requests per minute for this model is reached; wait 17 s and \
             retry (the service said: Quota exceeded)"
        );
        let e = ProviderError::RateLimited {
            retry_after: None,
            quota: Some("GenerateRequestsPerMinutePerProjectPerModel-FreeTier".into()),
            message: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "the limit of requests per minute for this model on the free tier is reached; \
             wait a minute and retry, or enable billing on the key's project for higher limits"
        );
        assert_eq!(super::quota_words("SomethingNew"), "SomethingNew");
        assert_eq!(
            super::quota_words("GenerateContentInputTokensPerModelPerDay"),
            "tokens per day for this model"
        );
        let e = ProviderError::Refused {
            reason: "The image was blocked by the safety filter".into(),
            text: Some("I can't draw that.".into()),
        };
        assert!(
            e.to_string()
                .ends_with("The model said: \"I can't draw that.\"")
        );
        assert_eq!(e.kind().exit_code(), 3);
    }

    #[test]
    fn only_transient_failures_retry() {
        let server = |status| ProviderError::Server {
            status,
            message: String::new(),
        };
        assert!(server(503).is_retryable());
        assert!(!server(501).is_retryable());
        assert!(
            !ProviderError::InvalidInput {
                message: "x".into()
            }
            .is_retryable()
        );
        assert_eq!(ErrorKind::parse("rate_limited"), ErrorKind::RateLimited);
        assert_eq!(ErrorKind::RateLimited.exit_code(), 5);
    }
}
