//! Keys in the OS keychain (through keyring-core), behind an environment variable the
//! user set, and in memory for this run only when no secure store answers. Never a file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry, Error};

use super::{KeyError, KeyOrigin, KeySource, Secret, env_vars};
use banana_core::recipe::ProviderId;

/// The keychain service name entries are stored under.
pub const SERVICE: &str = "studio.banana.BananaStudio";

/// Reads an environment variable (injected so tests control it).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The keychain account name of a provider's key.
fn account(provider: ProviderId) -> String {
    format!("{}-api-key", provider.as_str())
}

/// A secure store and its name in words ("Secret Service", "macOS Keychain").
#[derive(Clone)]
pub struct SecureStore {
    /// The store.
    pub store: Arc<CredentialStore>,
    /// What to call it.
    pub name: String,
}

/// Keys from the environment, then the keychain, then this run's memory.
pub struct Keyring {
    secure: Option<SecureStore>,
    /// Why there is no secure store, in words.
    unavailable: Option<String>,
    memory: Mutex<HashMap<ProviderId, Secret>>,
    env: EnvLookup,
}

/// Words for a store error, never carrying a secret (keyring errors hold none, but the
/// bad-encoding variants carry bytes: those are not printed).
fn describe(e: &Error) -> String {
    match e {
        Error::BadEncoding(_) => "the stored key is not text".to_owned(),
        Error::BadDataFormat(_, _) => "the stored key is damaged".to_owned(),
        Error::NoStorageAccess(p) => format!("the key store refused access ({p})"),
        Error::PlatformFailure(p) => format!("the key store failed ({p})"),
        other => other.to_string(),
    }
}

impl Keyring {
    /// A keyring over `secure` (None: no secure store, with `unavailable` saying why).
    pub fn new(secure: Option<SecureStore>, unavailable: Option<String>, env: EnvLookup) -> Self {
        Self {
            secure,
            unavailable,
            memory: Mutex::new(HashMap::new()),
            env,
        }
    }

    /// The platform's store (Keychain, Credential Manager, Secret Service, else keyutils)
    /// and the process environment.
    pub fn platform() -> Self {
        let env: EnvLookup = Arc::new(|name| std::env::var(name).ok());
        match super::platform::secure_store() {
            Ok(secure) => Self::new(Some(secure), None, env),
            Err(why) => {
                tracing::warn!("no secure key store: {why}");
                Self::new(None, Some(why), env)
            }
        }
    }

    fn entry(&self, provider: ProviderId) -> Option<Result<Entry, Error>> {
        let secure = self.secure.as_ref()?;
        Some(secure.store.build(SERVICE, &account(provider), None))
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<ProviderId, Secret>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn env_key(&self, provider: ProviderId) -> Option<(Secret, &'static str)> {
        env_vars(provider).iter().find_map(|name| {
            (self.env)(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (Secret::new(v), *name))
        })
    }
}

impl KeySource for Keyring {
    fn key(&self, provider: ProviderId) -> (Option<Secret>, KeyOrigin) {
        if let Some((key, name)) = self.env_key(provider) {
            return (Some(key), KeyOrigin::Env(name));
        }
        if let Some(key) = self.memory().get(&provider) {
            return (Some(key.clone()), KeyOrigin::ThisRun);
        }
        if let (Some(entry), Some(secure)) = (self.entry(provider), &self.secure) {
            match entry.and_then(|e| e.get_password()) {
                Ok(key) if !key.trim().is_empty() => {
                    return (
                        Some(Secret::new(key)),
                        KeyOrigin::Keychain(secure.name.clone()),
                    );
                }
                Ok(_) | Err(Error::NoEntry) => {}
                Err(e) => {
                    tracing::warn!(
                        target: banana_core::NOTICE_TARGET,
                        %provider,
                        "{}: the key store could not be read ({}); save the key again in Settings \
                         or set {}",
                        provider.label(),
                        describe(&e),
                        super::env_vars(provider).first().copied().unwrap_or("its environment variable")
                    )
                }
            }
        }
        (None, KeyOrigin::NotSet)
    }

    fn save(&self, provider: ProviderId, key: &Secret) -> Result<KeyOrigin, KeyError> {
        if key.expose().is_empty() {
            return Err(KeyError::Empty);
        }
        let stored = match (self.entry(provider), &self.secure) {
            (Some(entry), Some(secure)) => match entry.and_then(|e| e.set_password(key.expose())) {
                Ok(()) => Ok(KeyOrigin::Keychain(secure.name.clone())),
                Err(e) => Err(format!(
                    "{} could not keep it: {}",
                    secure.name,
                    describe(&e)
                )),
            },
            _ => Err(self
                .unavailable
                .clone()
                .unwrap_or_else(|| "there is no secure key store".to_owned())),
        };
        match stored {
            Ok(origin) => {
                self.memory().remove(&provider);
                Ok(origin)
            }
            Err(why) => {
                tracing::warn!(%provider, "key kept for this run only: {why}");
                self.memory().insert(provider, key.clone());
                Ok(KeyOrigin::ThisRun)
            }
        }
    }

    fn remove(&self, provider: ProviderId) -> Result<(), KeyError> {
        self.memory().remove(&provider);
        match (self.entry(provider), &self.secure) {
            (Some(entry), Some(secure)) => match entry.and_then(|e| e.delete_credential()) {
                Ok(()) | Err(Error::NoEntry) => Ok(()),
                Err(e) => Err(KeyError::Store {
                    store: secure.name.clone(),
                    reason: describe(&e),
                }),
            },
            _ => Ok(()),
        }
    }

    fn notice(&self) -> Option<String> {
        self.unavailable.as_ref().map(|why| {
            format!(
                "No secure key store answers on this system ({why}). Keys you enter are kept \
                 in memory for this run only and never written to a file; set an environment \
                 variable to keep one."
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock_store() -> SecureStore {
        SecureStore {
            store: keyring_core::mock::Store::new().unwrap_or_else(|e| panic!("{e}")),
            name: "Mock store".to_owned(),
        }
    }

    fn env_of(pairs: &[(&'static str, &'static str)]) -> EnvLookup {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        Arc::new(move |name| map.get(name).map(|v| (*v).to_owned()))
    }

    #[test]
    fn env_beats_the_keychain_and_the_keychain_is_used_when_env_is_unset() {
        let store = mock_store();
        let keys = Keyring::new(
            Some(store.clone()),
            None,
            env_of(&[("GEMINI_API_KEY", "from-env")]),
        );
        assert_eq!(
            keys.save(ProviderId::Gemini, &Secret::new("from-keychain")),
            Ok(KeyOrigin::Keychain("Mock store".into()))
        );
        let (key, origin) = keys.key(ProviderId::Gemini);
        assert_eq!(
            (key.unwrap().expose(), origin),
            ("from-env", KeyOrigin::Env("GEMINI_API_KEY"))
        );

        let no_env = Keyring::new(Some(store), None, env_of(&[]));
        let (key, origin) = no_env.key(ProviderId::Gemini);
        assert_eq!(key.unwrap().expose(), "from-keychain");
        assert_eq!(origin, KeyOrigin::Keychain("Mock store".into()));
        assert_eq!(no_env.key(ProviderId::Fal), (None, KeyOrigin::NotSet));
        no_env.remove(ProviderId::Gemini).unwrap();
        assert_eq!(no_env.key(ProviderId::Gemini), (None, KeyOrigin::NotSet));
        no_env.remove(ProviderId::Gemini).unwrap();
    }

    #[test]
    fn a_failing_store_falls_back_to_this_run_only_with_a_notice() {
        let store = mock_store();
        let keys = Keyring::new(Some(store.clone()), None, env_of(&[]));
        // The mock fails the next call on this credential.
        let entry = store
            .store
            .build(SERVICE, &account(ProviderId::Fal), None)
            .unwrap();
        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(Error::NoStorageAccess(Box::new(std::io::Error::other(
            "locked",
        ))));
        assert_eq!(
            keys.save(ProviderId::Fal, &Secret::new("fal-key")),
            Ok(KeyOrigin::ThisRun)
        );
        let (key, origin) = keys.key(ProviderId::Fal);
        assert_eq!(
            (key.unwrap().expose(), origin),
            ("fal-key", KeyOrigin::ThisRun)
        );

        let none = Keyring::new(None, Some("no D-Bus session".into()), env_of(&[]));
        assert_eq!(
            none.save(ProviderId::Gemini, &Secret::new("k")),
            Ok(KeyOrigin::ThisRun)
        );
        assert_eq!(none.key(ProviderId::Gemini).1, KeyOrigin::ThisRun);
        let notice = none.notice().unwrap();
        assert!(
            notice.contains("no D-Bus session") && notice.contains("this run only"),
            "{notice}"
        );
        assert!(keys.notice().is_none());
        assert!(none.save(ProviderId::Gemini, &Secret::new("  ")).is_err());
    }
}
