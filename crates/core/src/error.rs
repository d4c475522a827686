//! The kinds of failure a user can act on, shared by every layer.

use serde::{Deserialize, Serialize};

/// What went wrong, as something a user can act on. Stored with failed jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request was wrong: change the recipe.
    InvalidInput,
    /// The key is missing, wrong or lacks permission.
    Auth,
    /// Rate limit or quota hit, still after retries.
    RateLimited,
    /// The provider declined to make the image (safety, text only).
    Refused,
    /// The model does not exist (any more) for this key.
    ModelNotFound,
    /// The network failed.
    Network,
    /// The provider failed on its side.
    Server,
    /// No answer in time.
    Timeout,
    /// The provider answered something we cannot read.
    BadResponse,
    /// Saving the result failed on this machine.
    Storage,
    /// The user cancelled.
    Cancelled,
    /// The app was closed while the job ran.
    Interrupted,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::InvalidInput,
        ErrorKind::Auth,
        ErrorKind::RateLimited,
        ErrorKind::Refused,
        ErrorKind::ModelNotFound,
        ErrorKind::Network,
        ErrorKind::Server,
        ErrorKind::Timeout,
        ErrorKind::BadResponse,
        ErrorKind::Storage,
        ErrorKind::Cancelled,
        ErrorKind::Interrupted,
    ];

    /// The stable name used in storage and `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Refused => "refused",
            ErrorKind::ModelNotFound => "model_not_found",
            ErrorKind::Network => "network",
            ErrorKind::Server => "server",
            ErrorKind::Timeout => "timeout",
            ErrorKind::BadResponse => "bad_response",
            ErrorKind::Storage => "storage",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Interrupted => "interrupted",
        }
    }

    /// Parses [`Self::as_str`]; unknown names read as `Server`.
    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(ErrorKind::Server)
    }

    /// The CLI exit code of the contract in ARCHITECTURE.md.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::InvalidInput | ErrorKind::ModelNotFound => 2,
            ErrorKind::Refused => 3,
            ErrorKind::Auth => 4,
            ErrorKind::RateLimited => 5,
            ErrorKind::Network
            | ErrorKind::Server
            | ErrorKind::Timeout
            | ErrorKind::BadResponse
            | ErrorKind::Storage
            | ErrorKind::Interrupted => 6,
            ErrorKind::Cancelled => 130,
        }
    }
}
