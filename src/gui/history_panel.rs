//! The history panel's controls: the session (named project) and New session, prompt
//! search, filters (favourite, rating, pick/reject, provider, model, date), and the
//! Timeline / Lineage switch. It builds the library query; the gallery draws the result.

use super::Command;
pub use super::history_filters::Filters;
use crate::library::{HistoryQuery, Session, SessionId};
use crate::recipe::Catalog;

/// The thumbnail sizes the gallery offers, in points.
pub const THUMB_RANGE: std::ops::RangeInclusive<f32> = 72.0..=320.0;

/// Which view the panel shows under its controls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    /// Every generation, newest first.
    #[default]
    Timeline,
    /// The family of the selected image.
    Lineage,
}

/// The panel's state.
#[derive(Default)]
pub struct HistoryPanel {
    /// Every prompt batch, newest first, for the batch filter.
    pub batches: Vec<crate::library::BatchSummary>,
    /// What was spent, as the engine last said.
    pub spend: Option<crate::engine::budget::Spend>,
    /// The caps Settings name.
    pub budget: crate::engine::budget::Budget,
    /// Prompt words to search for.
    pub search: String,
    /// The filters.
    pub filters: Filters,
    /// Every session, most recently used first.
    pub sessions: Vec<Session>,
    /// The session new jobs go into.
    pub current: Option<SessionId>,
    /// List every session rather than the current one.
    pub all_sessions: bool,
    /// Timeline or lineage.
    pub tab: Tab,
    new_session: Option<String>,
    renaming: Option<String>,
    /// The name field opened this frame and takes the keyboard.
    focus_name: bool,
}

impl HistoryPanel {
    /// A panel that shows spending against these caps.
    pub fn with_budget(budget: crate::engine::budget::Budget) -> Self {
        Self {
            budget,
            ..Self::default()
        }
    }

    /// The library query for the first page of what the panel asks for.
    pub fn query(&self, now_ms: i64, limit: u32) -> HistoryQuery {
        let f = &self.filters;
        let search = self.search.trim();
        HistoryQuery {
            limit,
            after: None,
            search: (!search.is_empty()).then(|| search.to_owned()),
            succeeded_only: true,
            session: if self.all_sessions || f.same_recipe.is_some() || f.batch.is_some() {
                None
            } else {
                self.current
            },
            provider: f.provider,
            model: f.model.clone(),
            since_ms: f.date.days().map(|d| now_ms - d * 86_400_000),
            until_ms: None,
            favourites_only: f.favourites_only,
            min_rating: f.min_rating,
            flag: f.flag,
            same_recipe: f.same_recipe,
            batch: f.batch,
        }
    }

    /// What the gallery says when nothing is listed.
    pub fn empty_message(&self) -> &'static str {
        if self.filters.active() > 0 || !self.search.trim().is_empty() {
            "Nothing matches the search and filters."
        } else if self.all_sessions {
            "No images yet."
        } else {
            "No images in this session yet."
        }
    }

    fn current_session(&self) -> Option<&Session> {
        self.sessions.iter().find(|s| Some(s.id) == self.current)
    }

    /// Draws the controls; returns what the user asked.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        catalog: &Catalog,
        thumb_size: &mut f32,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        self.sessions_row(ui, &mut commands);
        let search = ui
            .horizontal(|ui| {
                let label = ui.label("Search prompts");
                ui.add(
                    egui::TextEdit::singleline(&mut self.search)
                        .hint_text(egui::RichText::new("words in the prompt").italics())
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id)
            })
            .inner;
        if search.changed() {
            commands.push(Command::ReloadHistory);
        }
        let before = self.filters.clone();
        let n = self.filters.active();
        let title = if n == 0 {
            "Filters".to_owned()
        } else {
            format!("Filters ({n} on)")
        };
        if let Some(job) = self.filters.same_recipe {
            ui.horizontal(|ui| {
                ui.label(format!(
                    "Job {job}'s recipe on every provider, side by side"
                ));
                if ui.small_button("Show all").clicked() {
                    self.filters.same_recipe = None;
                }
            });
        }
        if let Some(batch) = self.filters.batch {
            let name = self
                .batches
                .iter()
                .find(|b| b.id == batch)
                .map_or_else(|| format!("batch {batch}"), |b| format!("“{}”", b.name));
            ui.horizontal(|ui| {
                ui.add(egui::Label::new(format!("Batch {name}")).truncate());
                if ui.small_button("Show all").clicked() {
                    self.filters.batch = None;
                }
                if ui
                    .small_button("Save all…")
                    .on_hover_text("Save every image of this batch to a folder")
                    .clicked()
                {
                    commands.push(Command::SaveBatch(batch));
                }
            });
        }
        // Spending shows once there is any, or a budget to keep (sandbox jobs are free).
        if let Some(spend) = self.spend
            && (spend.month_usd > 0.0 || self.budget != Default::default())
        {
            super::history_filters::spend_line(ui, spend, self.budget);
        }
        egui::CollapsingHeader::new(title)
            .id_salt("history-filters")
            .show(ui, |ui| self.filters.ui(ui, catalog, &self.batches));
        ui.horizontal(|ui| {
            let label = ui.label("Thumbnails");
            ui.spacing_mut().slider_width = (ui.available_width() - 16.0).clamp(60.0, 220.0);
            ui.add(
                egui::Slider::new(thumb_size, THUMB_RANGE)
                    .show_value(false)
                    .step_by(8.0),
            )
            .labelled_by(label.id)
            .on_hover_text("Thumbnail size: more columns, or bigger ones");
        });
        if self.filters != before {
            commands.push(Command::ReloadHistory);
        }
        ui.separator();
        commands
    }

    fn sessions_row(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let shown = if self.all_sessions {
            "All sessions".to_owned()
        } else {
            self.current_session()
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "…".to_owned())
        };
        ui.horizontal(|ui| {
            ui.heading("History");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.selectable_value(&mut self.tab, Tab::Lineage, "Lineage")
                    .on_hover_text("Parent, siblings and children of the selected image");
                ui.selectable_value(&mut self.tab, Tab::Timeline, "Timeline")
                    .on_hover_text("Every generation, newest first");
            });
        });
        ui.horizontal(|ui| {
            let label = ui.label("Session");
            let full = shown.clone();
            // The session's own actions, in a menu at the row's end.
            let menu_width = 32.0;
            let width = (ui.available_width() - menu_width - ui.spacing().item_spacing.x).max(80.0);
            egui::ComboBox::from_id_salt("session-picker")
                .selected_text(short_session_name(&shown, 28))
                .width(width - ui.spacing().icon_width - 8.0)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(self.all_sessions, "All sessions")
                        .clicked()
                    {
                        self.all_sessions = true;
                        commands.push(Command::ReloadHistory);
                    }
                    for s in &self.sessions {
                        let text = format!(
                            "{} ({} image{})",
                            s.name,
                            s.images,
                            if s.images == 1 { "" } else { "s" }
                        );
                        let on = !self.all_sessions && Some(s.id) == self.current;
                        if ui.selectable_label(on, text).clicked() {
                            self.all_sessions = false;
                            commands.push(Command::SetSession(s.id));
                        }
                    }
                })
                .response
                .labelled_by(label.id)
                .on_hover_text(full);
            let menu = ui.menu_button(super::icons::SESSION, |ui| {
                if ui
                    .button("New session")
                    .on_hover_text("Start a named project; new generations go into it")
                    .clicked()
                {
                    self.new_session = Some(String::new());
                    self.renaming = None;
                    self.focus_name = true;
                    ui.close();
                }
                if self.current.is_some() && ui.button("Rename session").clicked() {
                    self.renaming = self.current_session().map(|s| s.name.clone());
                    self.new_session = None;
                    self.focus_name = true;
                    ui.close();
                }
                ui.separator();
                if ui
                    .button("Empty trash")
                    .on_hover_text("Delete trashed images for good")
                    .clicked()
                {
                    commands.push(Command::EmptyTrash);
                    ui.close();
                }
            });
            super::icons::named(&menu.response, "Session menu");
            menu.response
                .on_hover_text("Session: new, rename; empty the trash");
        });
        if let Some(name) = self.new_session.as_mut() {
            let focus = std::mem::take(&mut self.focus_name);
            match name_field(ui, name, "Name of the new session", "Create", focus) {
                Some(true) => {
                    commands.push(Command::NewSession(name.clone()));
                    self.all_sessions = false;
                    self.new_session = None;
                }
                Some(false) => self.new_session = None,
                None => {}
            }
        }
        if let (Some(name), Some(id)) = (self.renaming.as_mut(), self.current) {
            let focus = std::mem::take(&mut self.focus_name);
            match name_field(ui, name, "New name of the session", "Rename", focus) {
                Some(true) => {
                    commands.push(Command::RenameSession(id, name.clone()));
                    self.renaming = None;
                }
                Some(false) => self.renaming = None,
                None => {}
            }
        }
    }
}

impl HistoryPanel {
    /// Whether a session's name field is open (typing there must not reach the gallery).
    pub fn editing_name(&self) -> bool {
        self.new_session.is_some() || self.renaming.is_some()
    }
}

/// A session name as the picker shows it: whole when it fits, else cut after a word
/// with an ellipsis (the full name is in the tooltip).
pub fn short_session_name(name: &str, max_chars: usize) -> String {
    if name.chars().count() <= max_chars {
        return name.to_owned();
    }
    let cut: String = name.chars().take(max_chars.saturating_sub(1)).collect();
    let at_word = match cut.rfind(' ') {
        Some(space) if space >= cut.len() / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end())
}

/// A one-line name field with its confirm and Cancel buttons: Some(true) on confirm,
/// Some(false) on cancel (button or Esc). `focus` gives it the keyboard, with the
/// current name selected, the frame it opens.
fn name_field(
    ui: &mut egui::Ui,
    name: &mut String,
    label: &str,
    confirm: &str,
    focus: bool,
) -> Option<bool> {
    let mut answer = None;
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let mut output = egui::TextEdit::singleline(name)
            .desired_width(150.0)
            .char_limit(crate::library::MAX_SESSION_NAME)
            .show(ui);
        let r = (*output.response).clone().labelled_by(l.id);
        if focus {
            r.request_focus();
            let all = egui::text::CCursorRange::two(
                egui::text::CCursor::new(0),
                egui::text::CCursor::new(name.chars().count()),
            );
            output.state.cursor.set_char_range(Some(all));
            output.state.store(ui.ctx(), r.id);
        }
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.small_button(confirm).clicked() || enter {
            answer = Some(true);
        }
        if ui.small_button("Cancel").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            answer = Some(false);
        }
    });
    answer
}

#[cfg(test)]
mod tests {
    use super::super::history_filters::DateRange;
    use super::*;
    use crate::library::FlagFilter;
    use crate::recipe::ProviderId;

    #[test]
    fn the_query_follows_the_controls() {
        let mut panel = HistoryPanel {
            current: Some(3),
            ..HistoryPanel::default()
        };
        let q = panel.query(1_000_000_000, 100);
        assert_eq!((q.session, q.limit, q.succeeded_only), (Some(3), 100, true));
        assert_eq!(q.search, None);
        panel.all_sessions = true;
        panel.search = "  fox ".into();
        panel.filters = Filters {
            favourites_only: true,
            min_rating: 3,
            flag: FlagFilter::NotRejected,
            provider: Some(ProviderId::Fal),
            model: Some("nano-banana".into()),
            date: DateRange::Week,
            same_recipe: None,
            batch: None,
        };
        let q = panel.query(1_000_000_000, 100);
        assert_eq!(q.session, None);
        assert_eq!(q.search.as_deref(), Some("fox"));
        assert_eq!(q.since_ms, Some(1_000_000_000 - 7 * 86_400_000));
        assert!(q.favourites_only && q.min_rating == 3);
        assert_eq!(panel.filters.active(), 6);
        assert_eq!(
            panel.empty_message(),
            "Nothing matches the search and filters."
        );
    }
}
