//! Secrets: API keys and where they come from: an environment variable the user set,
//! then the OS keychain, then (where no secure store answers) memory for this run only.

mod keyring;
mod platform;

pub use keyring::{EnvLookup, Keyring, SERVICE, SecureStore};

use std::fmt;

use banana_core::recipe::ProviderId;

pub use banana_core::Secret;

/// Why a key could not be kept or forgotten. Never carries the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// An empty key was offered.
    #[error("the key is empty")]
    Empty,
    /// This source only reads keys (the environment, tests).
    #[error("keys cannot be {0} here")]
    ReadOnly(&'static str),
    /// The secure store refused, in its words.
    #[error("{store} could not remove the key: {reason}")]
    Store {
        /// The store's name in words.
        store: String,
        /// What it said.
        reason: String,
    },
}

/// Where a key was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// An environment variable, by name.
    Env(&'static str),
    /// The OS keychain, by the store's name in words.
    Keychain(String),
    /// Memory, for this run only (no secure store answered).
    ThisRun,
    /// Not set anywhere.
    NotSet,
}

impl KeyOrigin {
    /// A short stable name for `--json`: env, keychain, this-run, not-set.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyOrigin::Env(_) => "env",
            KeyOrigin::Keychain(_) => "keychain",
            KeyOrigin::ThisRun => "this-run",
            KeyOrigin::NotSet => "not-set",
        }
    }
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Env(name) => write!(f, "env var {name}"),
            KeyOrigin::Keychain(store) => write!(f, "keychain: {store}"),
            KeyOrigin::ThisRun => f.write_str("this run only"),
            KeyOrigin::NotSet => f.write_str("not set"),
        }
    }
}

/// The environment variables that may hold a provider's key, in order of preference.
pub fn env_vars(provider: ProviderId) -> &'static [&'static str] {
    match provider {
        ProviderId::Gemini => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        ProviderId::Fal => &["FAL_KEY"],
        ProviderId::Eachlabs => &["EACHLABS_API_KEY"],
        ProviderId::Oxen => &["OXEN_API_KEY"],
        ProviderId::Vydra => &["VYDRA_API_KEY"],
    }
}

/// Finds and keeps API keys. Injected, so tests never read a real keychain or
/// environment.
pub trait KeySource: Send + Sync {
    /// The key for a provider and where it came from.
    fn key(&self, provider: ProviderId) -> (Option<Secret>, KeyOrigin);

    /// Keeps a key: in the keychain, or for this run only where none answers. Returns
    /// where it went.
    fn save(&self, _provider: ProviderId, _key: &Secret) -> Result<KeyOrigin, KeyError> {
        Err(KeyError::ReadOnly("saved"))
    }

    /// Forgets a stored key (an environment variable stays: the user set it).
    fn remove(&self, _provider: ProviderId) -> Result<(), KeyError> {
        Err(KeyError::ReadOnly("removed"))
    }

    /// A warning for the user about where keys can be kept, if any.
    fn notice(&self) -> Option<String> {
        None
    }
}

/// Keys from the process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct EnvKeys;

impl KeySource for EnvKeys {
    fn key(&self, provider: ProviderId) -> (Option<Secret>, KeyOrigin) {
        for name in env_vars(provider) {
            if let Ok(value) = std::env::var(name)
                && !value.trim().is_empty()
            {
                return (Some(Secret::new(value)), KeyOrigin::Env(name));
            }
        }
        (None, KeyOrigin::NotSet)
    }
}

/// No keys at all: everything runs in the sandbox.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoKeys;

impl KeySource for NoKeys {
    fn key(&self, _provider: ProviderId) -> (Option<Secret>, KeyOrigin) {
        (None, KeyOrigin::NotSet)
    }
}

/// Fixed keys, for tests.
#[derive(Clone, Debug, Default)]
pub struct StaticKeys(pub Vec<(ProviderId, Secret)>);

impl KeySource for StaticKeys {
    fn key(&self, provider: ProviderId) -> (Option<Secret>, KeyOrigin) {
        match self.0.iter().find(|(p, _)| *p == provider) {
            Some((_, key)) => (Some(key.clone()), KeyOrigin::Env("test")),
            None => (None, KeyOrigin::NotSet),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let key = Secret::new(" AIzaSecret123\n");
        assert_eq!(format!("{key:?} {key}"), "*** ***");
        assert_eq!(key.expose(), "AIzaSecret123");
    }
}
