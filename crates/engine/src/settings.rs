//! Settings people choose in the Settings dialog, kept as `settings.json` in the data
//! folder (written atomically). Never a key: keys live in the keychain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use banana_core::recipe::ProviderId;
use banana_library::export::DEFAULT_TEMPLATE;

/// The file name in the data folder.
pub const FILE: &str = "settings.json";

/// Dark, light, or as the system says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Dark.
    Dark,
    /// Light.
    Light,
    /// Follow the system.
    #[default]
    System,
}

impl Theme {
    /// Every choice.
    pub const ALL: [Theme; 3] = [Theme::Dark, Theme::Light, Theme::System];

    /// Words for a menu.
    pub fn label(self) -> &'static str {
        match self {
            Theme::Dark => "Dark",
            Theme::Light => "Light",
            Theme::System => "Follow the system",
        }
    }
}

/// Everything the Settings dialog edits except keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Base URL per provider, instead of the service's own.
    pub base_urls: BTreeMap<ProviderId, String>,
    /// Jobs at once per provider.
    pub concurrency: BTreeMap<ProviderId, usize>,
    /// The provider a new draft starts with.
    pub default_provider: ProviderId,
    /// The model a new draft starts with (None: the provider's default).
    pub default_model: Option<String>,
    /// Where Save as… and Save selected to folder… start.
    pub save_folder: Option<PathBuf>,
    /// The export file-name template.
    pub filename_template: String,
    /// Whether exports carry the recipe.
    pub embed_metadata: bool,
    /// The look.
    pub theme: Theme,
    /// Whether the first-start welcome was seen.
    pub welcomed: bool,
    /// How long one attempt may wait for an answer, in seconds; 0: what fits the
    /// model and size (a 1K Flash image about 50 s, a 4K Pro one about 170 s).
    pub attempt_timeout_secs: u64,
    /// The model "Render final" uses, by brand (None: Nano Banana Pro).
    pub final_brand: Option<String>,
    /// The size "Render final" asks for.
    pub final_size: banana_core::recipe::ImageSize,
    /// The most to spend in a day, in dollars (None: no cap).
    pub budget_daily_usd: Option<f64>,
    /// The most to spend in a calendar month, in dollars (None: no cap).
    pub budget_monthly_usd: Option<f64>,
    /// Whether a thinking model's thoughts show while it works.
    pub show_thinking: bool,
}

/// The brand "Render final" picks when Settings name none.
pub const DEFAULT_FINAL_BRAND: &str = "Nano Banana Pro";

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_urls: BTreeMap::new(),
            concurrency: BTreeMap::new(),
            default_provider: ProviderId::Gemini,
            default_model: None,
            save_folder: None,
            filename_template: DEFAULT_TEMPLATE.to_owned(),
            embed_metadata: true,
            theme: Theme::System,
            welcomed: false,
            attempt_timeout_secs: 0,
            final_brand: None,
            final_size: banana_core::recipe::ImageSize::K4,
            budget_daily_usd: None,
            budget_monthly_usd: None,
            show_thinking: true,
        }
    }
}

/// Jobs at once when not set.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl Settings {
    /// The spending caps Settings ask for.
    pub fn budget(&self) -> crate::budget::Budget {
        crate::budget::Budget {
            daily_usd: self.budget_daily_usd.filter(|v| *v > 0.0),
            monthly_usd: self.budget_monthly_usd.filter(|v| *v > 0.0),
        }
    }

    /// Reads the settings of a data folder; defaults when missing, and when damaged
    /// (with the reason, so the caller can say so).
    pub fn load(data_dir: &Path) -> (Self, Option<String>) {
        let path = data_dir.join(FILE);
        match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Self::default(), None),
            Err(e) => (
                Self::default(),
                Some(format!("could not read {}: {e}", path.display())),
            ),
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(s) => (s, None),
                Err(e) => (
                    Self::default(),
                    Some(format!(
                        "{} is damaged ({e}); defaults are used",
                        path.display()
                    )),
                ),
            },
        }
    }

    /// Writes the settings (temp file, sync, rename).
    pub fn save(&self, data_dir: &Path) -> Result<(), SettingsError> {
        let json = serde_json::to_vec_pretty(self).map_err(SettingsError::Encode)?;
        let path = data_dir.join(FILE);
        banana_library::store::write_atomic(&path, &json)
            .map_err(|source| SettingsError::Write { path, source })
    }

    /// A provider's base URL override, if any.
    pub fn base_url(&self, provider: ProviderId) -> Option<String> {
        self.base_urls
            .get(&provider)
            .map(|s| s.trim().trim_end_matches('/').to_owned())
            .filter(|s| !s.is_empty())
    }

    /// The per-attempt deadline Settings ask for, if any (at most an hour).
    pub fn attempt_timeout(&self) -> Option<std::time::Duration> {
        (self.attempt_timeout_secs > 0)
            .then(|| std::time::Duration::from_secs(self.attempt_timeout_secs.min(3600)))
    }

    /// A provider's concurrency.
    pub fn concurrency(&self, provider: ProviderId) -> usize {
        self.concurrency
            .get(&provider)
            .copied()
            .unwrap_or(DEFAULT_CONCURRENCY)
            .clamp(1, 16)
    }

    /// Checks what the dialog would apply; the message names the field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        for (provider, url) in &self.base_urls {
            if url.trim().is_empty() {
                continue;
            }
            banana_providers::origin::check_base_url(
                &format!("{} base URL", provider.label()),
                url,
            )?;
        }
        if self.filename_template.trim().is_empty() {
            return Err(SettingsError::EmptyTemplate);
        }
        Ok(())
    }
}

/// Settings that cannot be applied or kept.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A base URL field is wrong.
    #[error(transparent)]
    BaseUrl(#[from] banana_providers::origin::BaseUrlError),
    /// The file-name template is empty.
    #[error("File names: the template is empty; the default is {{date}}_{{prompt}}_{{n}}.{{ext}}")]
    EmptyTemplate,
    /// The settings could not be encoded.
    #[error("could not save the settings: {0}")]
    Encode(serde_json::Error),
    /// The settings file could not be written.
    #[error("could not save the settings to {}: {source}; check that the folder is writable", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_damage_falls_back_to_defaults() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut s = Settings::default();
        s.base_urls
            .insert(ProviderId::Gemini, "https://proxy.example/ ".into());
        s.concurrency.insert(ProviderId::Gemini, 99);
        s.theme = Theme::Light;
        s.save(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let (back, problem) = Settings::load(dir.path());
        assert_eq!((back.clone(), problem), (s, None));
        assert_eq!(
            back.base_url(ProviderId::Gemini).as_deref(),
            Some("https://proxy.example")
        );
        assert_eq!(back.concurrency(ProviderId::Gemini), 16);
        assert_eq!(back.concurrency(ProviderId::Fal), DEFAULT_CONCURRENCY);
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap_or_else(|e| panic!("{e}"));
        let (back, problem) = Settings::load(dir.path());
        assert_eq!(back, Settings::default());
        assert!(problem.unwrap_or_default().contains("damaged"));
    }

    #[test]
    fn plain_http_is_only_for_this_machine() {
        let mut s = Settings::default();
        s.base_urls
            .insert(ProviderId::Gemini, "http://proxy.example".into());
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("Gemini API base URL")
        );
        s.base_urls
            .insert(ProviderId::Gemini, "http://127.0.0.1:9000".into());
        assert!(s.validate().is_ok());
        s.base_urls
            .insert(ProviderId::Gemini, "http://127.0.0.1.evil.com".into());
        assert!(
            matches!(s.validate(), Err(SettingsError::BaseUrl(e)) if e.to_string().contains("clear text"))
        );
    }
}
