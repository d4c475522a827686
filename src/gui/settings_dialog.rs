//! Settings (modal, Ctrl+,): per provider where the key comes from, a masked entry with
//! Show, Save key, Remove key and Test; base URL and jobs at once; defaults for new
//! drafts and exports; the theme; "Check the library" with its progress. Keys are saved
//! at once (to the keychain); everything else edits a copy that Apply keeps and Cancel
//! drops.

use std::collections::BTreeMap;

use super::Command;
use crate::engine::{LibraryCheck, ProviderStatus};
use crate::keys::{KeyOrigin, Secret};
use crate::recipe::{Catalog, ProviderId};
use crate::settings::{Settings, Theme};

/// Where people get a key, per provider.
pub fn key_page(provider: ProviderId) -> &'static str {
    match provider {
        ProviderId::Gemini => "https://aistudio.google.com/apikey",
        ProviderId::Fal => "https://fal.ai/dashboard/keys",
        ProviderId::Eachlabs => "https://console.eachlabs.ai",
        ProviderId::Oxen => "https://www.oxen.ai/settings/profile",
        ProviderId::Vydra => "https://vydra.ai",
    }
}

#[derive(Default)]
struct KeyRow {
    typed: String,
    show: bool,
    /// The last answer (saved, removed, tested), and whether it was good news.
    answer: Option<(bool, String)>,
}

/// The dialog's state: the copy being edited and the key rows.
#[derive(Default)]
pub struct SettingsDialog {
    draft: Option<Settings>,
    keys: BTreeMap<ProviderId, KeyRow>,
    error: Option<String>,
    /// The library check under way, or its last finding (kept while the app runs).
    check: Option<LibraryCheck>,
    /// The last check's finding in words, and whether the library was sound.
    check_finding: Option<(bool, String)>,
}

impl SettingsDialog {
    /// Opens on a copy of the settings.
    pub fn open(&mut self, settings: &Settings) {
        self.draft = Some(settings.clone());
        self.keys.clear();
        self.error = None;
    }

    /// Whether it is showing.
    pub fn is_open(&self) -> bool {
        self.draft.is_some()
    }

    /// An answer about a key, shown in its row; `saved` clears the typed key.
    pub fn key_answer(&mut self, provider: ProviderId, ok: bool, message: String, saved: bool) {
        let row = self.keys.entry(provider).or_default();
        if saved {
            // A saved key leaves the field: it now lives in the keychain only.
            row.typed.clear();
        }
        row.answer = Some((ok, message));
    }

    /// Follows a library check the user started.
    pub fn checking(&mut self, check: LibraryCheck) {
        self.check = Some(check);
        self.check_finding = None;
    }

    /// Takes the check's finding once it has come.
    fn poll_check(&mut self) {
        let Some(check) = &mut self.check else {
            return;
        };
        if let Some(result) = check.answer.take() {
            self.check_finding = Some(match result {
                Ok(report) => (report.is_sound(), report.summary()),
                Err(e) => (false, format!("The library could not be checked: {e}")),
            });
            self.check = None;
        }
    }

    /// Draws the dialog; returns what to do.
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        catalog: &Catalog,
        status: &dyn Fn(ProviderId) -> ProviderStatus,
        notice: Option<&str>,
    ) -> Vec<Command> {
        let mut actions = Vec::new();
        self.poll_check();
        let mut close = false;
        let Some(draft) = self.draft.as_mut() else {
            return actions;
        };
        egui::Modal::new(egui::Id::unique("settings-dialog")).show(ctx, |ui| {
            ui.set_width(640.0);
            ui.heading("Settings");
            if let Some(notice) = notice {
                ui.colored_label(ui.visuals().warn_fg_color, notice);
            }
            // A fixed height: opening a section scrolls inside instead of growing the
            // dialog, which would re-centre it under the pointer.
            let height = (ctx.content_rect().height() * 0.7).max(200.0);
            egui::ScrollArea::vertical()
                .max_height(height)
                .min_scrolled_height(height)
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    for provider in ProviderId::ALL {
                        let row = self.keys.entry(provider).or_default();
                        provider_section(ui, provider, draft, row, &status(provider), &mut actions);
                    }
                    ui.separator();
                    general(ui, draft, catalog);
                    ui.separator();
                    library_ui(
                        ui,
                        self.check.as_ref(),
                        self.check_finding.as_ref(),
                        &mut actions,
                    );
                });
            if let Some(error) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            ui.separator();
            ui.horizontal(|ui| {
                if ui.button("Apply").clicked() {
                    draft.base_urls.retain(|_, url| !url.trim().is_empty());
                    match draft.validate() {
                        Ok(()) => {
                            actions.push(Command::ApplySettings(Box::new(draft.clone())));
                            close = true;
                        }
                        Err(e) => self.error = Some(e.to_string()),
                    }
                }
                if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    close = true;
                }
            });
        });
        if close {
            self.draft = None;
            self.keys.clear();
        }
        actions
    }
}

/// The Library section: the check's button, progress and finding.
fn library_ui(
    ui: &mut egui::Ui,
    check: Option<&LibraryCheck>,
    finding: Option<&(bool, String)>,
    actions: &mut Vec<Command>,
) {
    ui.strong("Library");
    ui.horizontal(|ui| {
        let running = check.is_some();
        let button = ui
            .add_enabled(!running, egui::Button::new("Check the library"))
            .on_hover_text(
                "Reads the whole history database and every image file; missing \
                 thumbnails are made again. The app stays usable meanwhile.",
            );
        if button.clicked() {
            actions.push(Command::CheckLibrary);
        }
        if let Some(check) = check {
            let (done, total) = check.progress.get();
            let fraction = if total == 0 {
                0.0
            } else {
                done as f32 / total as f32
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(240.0)
                    .text(format!("Checked {done} of {total}")),
            );
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    });
    if let Some((sound, finding)) = finding {
        let colour = if *sound {
            ui.visuals().text_color()
        } else {
            ui.visuals().warn_fg_color
        };
        ui.colored_label(colour, finding);
    }
}

fn source_words(origin: &KeyOrigin) -> String {
    match origin {
        KeyOrigin::Env(name) => format!("from the environment variable {name} (used first)"),
        KeyOrigin::Keychain(store) => format!("in {store}"),
        KeyOrigin::ThisRun => "kept for this run only (no secure store)".to_owned(),
        KeyOrigin::NotSet => "not set: this provider runs in the sandbox".to_owned(),
    }
}

fn provider_section(
    ui: &mut egui::Ui,
    provider: ProviderId,
    draft: &mut Settings,
    row: &mut KeyRow,
    status: &ProviderStatus,
    actions: &mut Vec<Command>,
) {
    let name = provider.label();
    egui::CollapsingHeader::new(name)
        .id_salt(("settings-provider", provider.as_str()))
        .default_open(provider == ProviderId::Gemini)
        .show(ui, |ui| {
            if !status.available {
                ui.weak(format!(
                    "{name} is not supported in this version yet; its key can be kept already."
                ));
            }
            ui.label(format!("Key: {}", source_words(&status.key_origin)));
            ui.horizontal(|ui| {
                let label = ui.label(format!("{name} key"));
                ui.add(
                    egui::TextEdit::singleline(&mut row.typed)
                        .password(!row.show)
                        .hint_text("paste the key")
                        .desired_width(300.0),
                )
                .labelled_by(label.id);
                ui.checkbox(&mut row.show, "Show");
            });
            ui.horizontal(|ui| {
                let typed = Secret::new(&row.typed);
                let has_typed = !typed.expose().is_empty();
                if ui
                    .add_enabled(has_typed, egui::Button::new("Save key"))
                    .on_hover_text("Keep it in the OS keychain")
                    .clicked()
                {
                    actions.push(Command::SaveKey(provider, typed.clone()));
                }
                let stored = matches!(
                    status.key_origin,
                    KeyOrigin::Keychain(_) | KeyOrigin::ThisRun
                );
                if ui
                    .add_enabled(stored, egui::Button::new("Remove key"))
                    .clicked()
                {
                    actions.push(Command::RemoveKey(provider));
                }
                if ui
                    .button("Test")
                    .on_hover_text("The cheapest call that needs the key")
                    .clicked()
                {
                    let key = has_typed.then_some(typed);
                    actions.push(Command::TestKey {
                        provider,
                        key,
                        base_url: draft.base_url(provider),
                    });
                    row.answer = Some((true, "Testing…".to_owned()));
                }
                ui.hyperlink_to("Get a key", key_page(provider));
            });
            if let Some((ok, message)) = &row.answer {
                let color = if *ok {
                    ui.visuals().text_color()
                } else {
                    ui.visuals().error_fg_color
                };
                ui.colored_label(color, message);
            }
            egui::Grid::new(("settings-connection", provider.as_str()))
                .num_columns(2)
                .show(ui, |ui| {
                    let label = ui.label(format!("{name} base URL"));
                    let url = draft.base_urls.entry(provider).or_default();
                    ui.add(
                        egui::TextEdit::singleline(url)
                            .hint_text("the service's own")
                            .desired_width(300.0),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label(format!("{name} jobs at once"));
                    let mut n = draft.concurrency(provider);
                    if ui
                        .add(egui::DragValue::new(&mut n).range(1..=16))
                        .labelled_by(label.id)
                        .changed()
                    {
                        draft.concurrency.insert(provider, n);
                    }
                    ui.end_row();
                });
        });
}

fn general(ui: &mut egui::Ui, draft: &mut Settings, catalog: &Catalog) {
    egui::Grid::new("settings-general")
        .num_columns(2)
        .show(ui, |ui| {
            let label = ui.label("Default provider");
            egui::ComboBox::from_id_salt("settings-default-provider")
                .selected_text(draft.default_provider.label())
                .show_ui(ui, |ui| {
                    for p in ProviderId::ALL {
                        if ui
                            .selectable_value(&mut draft.default_provider, p, p.label())
                            .clicked()
                        {
                            draft.default_model = None;
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Default model");
            let provider = draft.default_provider;
            egui::ComboBox::from_id_salt("settings-default-model")
                .selected_text(
                    draft
                        .default_model
                        .as_deref()
                        .unwrap_or("The provider's default"),
                )
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut draft.default_model, None, "The provider's default");
                    for m in catalog.models_of(provider) {
                        ui.selectable_value(
                            &mut draft.default_model,
                            Some(m.id.clone()),
                            format!("{} ({})", m.brand, m.id),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Default save folder");
            let mut folder = draft
                .save_folder
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            if ui
                .add(
                    egui::TextEdit::singleline(&mut folder)
                        .hint_text("your Pictures folder")
                        .desired_width(300.0),
                )
                .labelled_by(label.id)
                .changed()
            {
                draft.save_folder = (!folder.trim().is_empty()).then(|| folder.trim().into());
            }
            ui.end_row();
            let label = ui.label("File names");
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut draft.filename_template).desired_width(300.0),
                )
                .labelled_by(label.id);
                if let Some(words) =
                    crate::library::export::unknown_tokens_words(&draft.filename_template)
                {
                    ui.colored_label(ui.visuals().warn_fg_color, words);
                }
            });
            ui.end_row();
            let label = ui.label("Wait per attempt");
            ui.add(
                egui::DragValue::new(&mut draft.attempt_timeout_secs)
                    .range(0..=3600)
                    .speed(5)
                    .custom_formatter(|n, _| {
                        if n < 1.0 {
                            "by model".to_owned()
                        } else {
                            format!("{n:.0} s")
                        }
                    }),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "How long one attempt may wait for the service's answer. \"by model\" fits the \
                 model and size (about 50 s for a 1K Flash image, 170 s for 4K Pro); raise it for \
                 a slow proxy. After a full wait, one more attempt is made.",
            );
            ui.end_row();
            for (words, cap, span) in [
                ("Budget a day", &mut draft.budget_daily_usd, "any 24 hours"),
                (
                    "Budget a month",
                    &mut draft.budget_monthly_usd,
                    "any 30 days",
                ),
            ] {
                let label = ui.label(words);
                let mut usd = cap.unwrap_or(0.0);
                ui.add(
                    egui::DragValue::new(&mut usd)
                        .range(0.0..=100_000.0)
                        .speed(0.5)
                        .max_decimals(2)
                        .custom_formatter(|n, _| {
                            if n <= 0.0 {
                                "no cap".to_owned()
                            } else {
                                format!("${n:.2}")
                            }
                        }),
                )
                .labelled_by(label.id)
                .on_hover_text(format!(
                    "The most real jobs may cost in {span}; a job (or batch) that would pass it \
                     is refused before anything is sent, saying how much is left. Sandbox jobs \
                     are free."
                ));
                *cap = (usd > 0.0).then_some(usd);
                ui.end_row();
            }
            let label = ui.label("Render final");
            ui.horizontal(|ui| {
                let brands: Vec<String> = {
                    let mut b: Vec<String> = catalog
                        .models_of(draft.default_provider)
                        .filter(|m| m.status != crate::recipe::ModelStatus::Retired)
                        .map(|m| m.brand.clone())
                        .collect();
                    b.dedup();
                    b
                };
                let shown = draft
                    .final_brand
                    .clone()
                    .unwrap_or_else(|| crate::settings::DEFAULT_FINAL_BRAND.to_owned());
                egui::ComboBox::from_id_salt("final-brand")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        for brand in brands {
                            let on = draft
                                .final_brand
                                .as_deref()
                                .unwrap_or(crate::settings::DEFAULT_FINAL_BRAND)
                                == brand;
                            if ui.selectable_label(on, &brand).clicked() {
                                draft.final_brand = Some(brand);
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id)
                    .on_hover_text("The model a draft's final is rendered on");
                egui::ComboBox::from_id_salt("final-size")
                    .selected_text(draft.final_size.as_str())
                    .show_ui(ui, |ui| {
                        for size in crate::recipe::ImageSize::ALL {
                            ui.selectable_value(&mut draft.final_size, size, size.as_str());
                        }
                    })
                    .response
                    .on_hover_text("The size a draft's final is rendered at");
            });
            ui.end_row();
            ui.label("");
            ui.checkbox(
                &mut draft.embed_metadata,
                "Embed the recipe in saved images",
            );
            ui.end_row();
            let label = ui.label("Theme");
            egui::ComboBox::from_id_salt("settings-theme")
                .selected_text(draft.theme.label())
                .show_ui(ui, |ui| {
                    for t in Theme::ALL {
                        ui.selectable_value(&mut draft.theme, t, t.label());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
        });
}

/// The first-start welcome: sandbox mode in a few words and where keys come from.
/// Returns Some(true) for "Open Settings", Some(false) for "Start in the sandbox".
pub fn welcome(ctx: &egui::Context) -> Option<bool> {
    let mut answer = None;
    egui::Modal::new(egui::Id::unique("welcome")).show(ctx, |ui| {
        ui.set_width(520.0);
        ui.heading("Welcome to Banana Studio");
        ui.label(
            "No API key is set, so the app starts in sandbox mode: everything works (prompts, \
             edits, refining, history, export), but images come from an offline fake marked \
             with a hazard stripe, not from the model, and nothing is charged.",
        );
        ui.label(
            "To make real images, paste a key in Settings (kept in your OS keychain) or set \
             GEMINI_API_KEY before starting the app.",
        );
        ui.hyperlink_to("Get a Gemini API key", key_page(ProviderId::Gemini));
        ui.horizontal(|ui| {
            if ui.button("Open Settings").clicked() {
                answer = Some(true);
            }
            if ui.button("Start in the sandbox").clicked()
                || ui.input(|i| i.key_pressed(egui::Key::Escape))
            {
                answer = Some(false);
            }
        });
    });
    answer
}
