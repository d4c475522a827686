//! The app's side of Settings and the first-start welcome: applying a settings copy
//! (saved, theme set, providers reconnected) and the answers about keys.

use super::super::settings_dialog::welcome;
use super::super::toasts::Level;
use super::BananaApp;
use crate::engine::Connection;
use crate::gui::Command;
use crate::keys::{KeyError, KeyOrigin};
use crate::recipe::ProviderId;
use crate::settings::Settings;

impl BananaApp {
    /// Carries out a Settings command.
    pub(super) fn run_settings(&mut self, command: Command) {
        match command {
            Command::ApplySettings(settings) => {
                self.apply_settings(*settings);
                self.toasts.add(Level::Info, "Settings saved");
            }
            Command::SaveKey(provider, key) => {
                let connection = Self::connection(&self.settings, provider);
                let answer = self.engine.save_key(provider, key, connection);
                self.answers.key_saves.push((provider, answer));
            }
            Command::RemoveKey(provider) => {
                let connection = Self::connection(&self.settings, provider);
                let answer = self.engine.remove_key(provider, connection);
                self.answers.key_removals.push((provider, answer));
            }
            Command::TestKey {
                provider,
                key,
                base_url,
            } => {
                // The base URL typed in the dialog, checked as Apply would.
                let mut connection = Self::connection(&self.settings, provider);
                if let Some(url) = base_url {
                    let field = format!("{} base URL", provider.label());
                    match crate::providers::origin::check_base_url(&field, &url) {
                        Ok(url) => connection.base_url = Some(url),
                        Err(e) => {
                            self.toasts.add(Level::Error, e.to_string());
                            return;
                        }
                    }
                }
                let answer = self.engine.test_key(provider, key, connection);
                self.answers.key_tests.push((provider, answer));
            }
            Command::CheckLibrary => {
                let check = self.engine.check_library();
                self.settings_dialog.checking(check);
            }
            _ => {}
        }
    }

    /// A provider's connection under these settings, with this run's environment
    /// overrides (checked when the app started, so a failure here keeps the service's
    /// own hosts and is logged).
    fn connection(settings: &Settings, provider: ProviderId) -> Connection {
        let env = |name: &str| std::env::var(name).ok();
        crate::engine::connection(provider, settings, &env).unwrap_or_else(|e| {
            tracing::warn!("{e}");
            Connection::with_concurrency(settings.concurrency(provider))
        })
    }

    /// Keeps new settings: on disk, the theme, and providers whose connection changed.
    pub(super) fn apply_settings(&mut self, settings: Settings) {
        if settings == self.settings {
            return;
        }
        for provider in ProviderId::ALL {
            let before = Self::connection(&self.settings, provider);
            let after = Self::connection(&settings, provider);
            if before != after {
                self.engine.reconnect(provider, after);
            }
        }
        if settings.attempt_timeout() != self.settings.attempt_timeout() {
            self.engine.set_attempt_timeout(settings.attempt_timeout());
        }
        if settings.show_thinking != self.settings.show_thinking {
            self.engine.set_show_thinking(settings.show_thinking);
        }
        if settings.budget() != self.settings.budget() {
            self.engine.set_budget(settings.budget());
            self.history.budget = settings.budget();
        }
        if settings.theme != self.settings.theme {
            super::super::theme::apply(&self.ctx, settings.theme);
        }
        // Written on a background thread; a failure comes back as an event.
        self.engine.save_settings(settings.clone());
        self.settings = settings;
    }

    /// Draws the welcome and the Settings dialog and carries out what they ask.
    pub(super) fn settings_ui(&mut self, ctx: &egui::Context) {
        if self.welcome
            && let Some(open_settings) = welcome(ctx)
        {
            self.welcome = false;
            let mut settings = self.settings.clone();
            settings.welcomed = true;
            self.apply_settings(settings);
            if open_settings {
                self.settings_dialog.open(&self.settings);
            }
        }
        let engine = &self.engine;
        let status = |p: ProviderId| engine.status(p);
        let notice = engine.keys().notice();
        let commands = self
            .settings_dialog
            .ui(ctx, &self.catalog, &status, notice.as_deref());
        for command in commands {
            self.run(command);
        }
    }

    /// When the providers change (a key saved or removed), the live model lists of
    /// those with a real key are read again.
    pub(super) fn on_providers_changed(&mut self) {
        for provider in ProviderId::ALL {
            let status = self.engine.status(provider);
            if status.available && !status.sandbox {
                self.engine.refresh_models(provider);
            }
        }
    }

    /// A key saved, or not: in its row in Settings and in a toast.
    pub(super) fn key_saved(&mut self, provider: ProviderId, result: Result<KeyOrigin, KeyError>) {
        let (ok, message) = match result {
            Ok(KeyOrigin::ThisRun) => (
                true,
                "Key kept for this run only: no secure key store answers".to_owned(),
            ),
            Ok(origin) => (true, format!("Key saved ({origin})")),
            Err(e) => (false, format!("Key not saved: {e}")),
        };
        self.key_answer(provider, ok, message, ok);
    }

    /// A key removed, or not: in its row in Settings and in a toast.
    pub(super) fn key_removed(&mut self, provider: ProviderId, result: Result<(), KeyError>) {
        let (ok, message) = match result {
            Ok(()) => (true, "Key removed".to_owned()),
            Err(e) => (false, format!("Key not removed: {e}")),
        };
        self.key_answer(provider, ok, message, false);
    }

    /// An answer about a key: in its row in Settings and in a toast.
    pub(super) fn key_answer(
        &mut self,
        provider: ProviderId,
        ok: bool,
        message: String,
        saved: bool,
    ) {
        let level = if ok { Level::Info } else { Level::Error };
        self.toasts
            .add(level, format!("{}: {message}", provider.label()));
        self.settings_dialog
            .key_answer(provider, ok, message, saved);
    }
}
