//! Secrets: API keys and where they come from.
//!
//! For now keys come from environment variables the user set; the OS keychain joins
//! in its own issue behind the same [`KeySource`] seam.

use std::fmt;
use std::sync::Arc;

use crate::recipe::ProviderId;

/// An API key. Debug and Display print `***`, so it cannot leak into logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a key; surrounding whitespace (a pasted newline) is dropped.
    pub fn new(key: impl AsRef<str>) -> Self {
        Secret(Arc::from(key.as_ref().trim()))
    }

    /// The key itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a key was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// An environment variable, by name.
    Env(&'static str),
    /// Not set anywhere.
    NotSet,
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Env(name) => write!(f, "env var {name}"),
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

/// Finds API keys. Injected, so tests never read a real keychain or environment.
pub trait KeySource: Send + Sync {
    /// The key for a provider and where it came from.
    fn key(&self, provider: ProviderId) -> (Option<Secret>, KeyOrigin);
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
