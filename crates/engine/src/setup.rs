//! One configuration: Settings plus the environment become how each provider is
//! reached. The app and the CLI both start from here, so both reach the same hosts; an
//! environment override wins for one run.

use std::collections::HashMap;

use super::{Connection, EngineConfig};
use crate::settings::Settings;
use banana_core::recipe::ProviderId;
use banana_providers::origin::{BaseUrlError, check_base_url};

/// Reads an environment variable (injected, so tests need not touch the process's).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The environment variable that replaces a provider's main base URL.
pub fn base_url_var(provider: ProviderId) -> &'static str {
    match provider {
        ProviderId::Gemini => "BANANA_STUDIO_GEMINI_BASE_URL",
        // fal's main base in Settings is its queue host: every job goes through the queue.
        ProviderId::Fal => "BANANA_STUDIO_FAL_QUEUE_URL",
        ProviderId::Eachlabs => "BANANA_STUDIO_EACHLABS_BASE_URL",
        ProviderId::Oxen => "BANANA_STUDIO_OXEN_BASE_URL",
        ProviderId::Vydra => "BANANA_STUDIO_VYDRA_BASE_URL",
    }
}

/// fal's synchronous host (`https://fal.run`).
pub const FAL_RUN_VAR: &str = "BANANA_STUDIO_FAL_BASE_URL";
/// fal's storage host (`https://rest.fal.ai`), where inputs are uploaded.
pub const FAL_STORAGE_VAR: &str = "BANANA_STUDIO_FAL_STORAGE_URL";

/// A checked override from the environment, if set.
fn from_env(env: Env, var: &str) -> Result<Option<String>, BaseUrlError> {
    match env(var).filter(|v| !v.trim().is_empty()) {
        Some(value) => check_base_url(var, &value).map(Some),
        None => Ok(None),
    }
}

/// How one provider is reached: the environment's override, else Settings' base URL,
/// else the service's own; Settings' jobs at once. The message names the variable or
/// the Settings field that is wrong.
pub fn connection(
    provider: ProviderId,
    settings: &Settings,
    env: Env,
) -> Result<Connection, BaseUrlError> {
    let from_settings = match settings.base_url(provider) {
        Some(url) => Some(check_base_url(
            &format!("Settings, {} base URL", provider.label()),
            &url,
        )?),
        None => None,
    };
    let base_url = from_env(env, base_url_var(provider))?.or(from_settings);
    let (fal_run_url, fal_storage_url) = if provider == ProviderId::Fal {
        (from_env(env, FAL_RUN_VAR)?, from_env(env, FAL_STORAGE_VAR)?)
    } else {
        (None, None)
    };
    Ok(Connection {
        base_url,
        fal_run_url,
        fal_storage_url,
        concurrency: settings.concurrency(provider),
    })
}

/// Every provider's connection.
pub fn connections(
    settings: &Settings,
    env: Env,
) -> Result<HashMap<ProviderId, Connection>, BaseUrlError> {
    ProviderId::ALL
        .into_iter()
        .map(|p| connection(p, settings, env).map(|c| (p, c)))
        .collect()
}

impl EngineConfig {
    /// The configuration of a data folder as Settings and the environment ask for it.
    pub fn configured(mut self, settings: &Settings, env: Env) -> Result<Self, BaseUrlError> {
        self.connections = connections(settings, env)?;
        self.attempt_timeout = settings.attempt_timeout();
        self.budget = settings.budget();
        self.show_thinking = settings.show_thinking;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_environment_wins_and_every_override_is_read() {
        let mut settings = Settings::default();
        settings
            .base_urls
            .insert(ProviderId::Gemini, "https://settings.example".into());
        settings
            .base_urls
            .insert(ProviderId::Oxen, "https://oxen-proxy.example".into());
        settings.concurrency.insert(ProviderId::Oxen, 7);
        let env = env_of(&[
            ("BANANA_STUDIO_GEMINI_BASE_URL", "http://127.0.0.1:9/g"),
            ("BANANA_STUDIO_FAL_QUEUE_URL", "http://127.0.0.1:9/q"),
            ("BANANA_STUDIO_FAL_BASE_URL", "http://127.0.0.1:9/run"),
            ("BANANA_STUDIO_FAL_STORAGE_URL", "http://127.0.0.1:9/s"),
            ("BANANA_STUDIO_EACHLABS_BASE_URL", "http://127.0.0.1:9/e"),
            ("BANANA_STUDIO_VYDRA_BASE_URL", "http://localhost:9/v/"),
        ]);
        let all = connections(&settings, &env).unwrap_or_else(|e| panic!("{e}"));
        let base = |p| all[&p].base_url.clone().unwrap_or_default();
        assert_eq!(base(ProviderId::Gemini), "http://127.0.0.1:9/g");
        assert_eq!(base(ProviderId::Fal), "http://127.0.0.1:9/q");
        assert_eq!(base(ProviderId::Eachlabs), "http://127.0.0.1:9/e");
        assert_eq!(base(ProviderId::Oxen), "https://oxen-proxy.example");
        assert_eq!(base(ProviderId::Vydra), "http://localhost:9/v");
        let fal = &all[&ProviderId::Fal];
        assert_eq!(fal.fal_run_url.as_deref(), Some("http://127.0.0.1:9/run"));
        assert_eq!(fal.fal_storage_url.as_deref(), Some("http://127.0.0.1:9/s"));
        assert_eq!(all[&ProviderId::Oxen].concurrency, 7);
    }

    #[test]
    fn a_clear_text_override_is_refused_by_name() {
        let env = env_of(&[("BANANA_STUDIO_EACHLABS_BASE_URL", "http://some-host")]);
        let e = connections(&Settings::default(), &env).unwrap_err();
        assert!(e.field == "BANANA_STUDIO_EACHLABS_BASE_URL", "{e}");
        let mut settings = Settings::default();
        settings
            .base_urls
            .insert(ProviderId::Vydra, "http://127.0.0.1.evil.com".into());
        let e = connections(&settings, &env_of(&[])).unwrap_err();
        assert!(e.field == "Settings, Vydra base URL", "{e}");
    }
}
