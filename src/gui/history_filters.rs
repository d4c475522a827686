//! The history panel's filters (favourite, rating, pick/reject, provider, model, date,
//! batch) and the spending line above them.

use crate::library::{BatchSummary, FlagFilter};
use crate::recipe::{Catalog, ProviderId};

/// How far back the history goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateRange {
    /// No limit.
    #[default]
    Any,
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
    /// The last 365 days.
    Year,
}

impl DateRange {
    const ALL: [DateRange; 5] = [
        DateRange::Any,
        DateRange::Day,
        DateRange::Week,
        DateRange::Month,
        DateRange::Year,
    ];

    fn label(self) -> &'static str {
        match self {
            DateRange::Any => "Any time",
            DateRange::Day => "Last 24 hours",
            DateRange::Week => "Last 7 days",
            DateRange::Month => "Last 30 days",
            DateRange::Year => "Last 12 months",
        }
    }

    pub(super) fn days(self) -> Option<i64> {
        match self {
            DateRange::Any => None,
            DateRange::Day => Some(1),
            DateRange::Week => Some(7),
            DateRange::Month => Some(30),
            DateRange::Year => Some(365),
        }
    }
}

/// The filters of the history panel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// Favourites only.
    pub favourites_only: bool,
    /// At least this many stars.
    pub min_rating: u8,
    /// Picks and rejects.
    pub flag: FlagFilter,
    /// One provider.
    pub provider: Option<ProviderId>,
    /// One model.
    pub model: Option<String>,
    /// How far back.
    pub date: DateRange,
    /// One recipe as run on several providers: this job and its re-runs.
    pub same_recipe: Option<crate::library::JobId>,
    /// One prompt batch's results.
    pub batch: Option<crate::library::BatchId>,
}

impl Filters {
    /// How many filters are set.
    pub fn active(&self) -> usize {
        [
            self.favourites_only,
            self.min_rating > 0,
            self.flag != FlagFilter::Any,
            self.provider.is_some(),
            self.model.is_some(),
            self.date != DateRange::Any,
            self.same_recipe.is_some(),
            self.batch.is_some(),
        ]
        .into_iter()
        .filter(|on| *on)
        .count()
    }
}

impl Filters {
    /// Draws the filters; the batches are those the Batch filter offers.
    pub fn ui(&mut self, ui: &mut egui::Ui, catalog: &Catalog, batches: &[BatchSummary]) {
        let f = self;
        ui.checkbox(&mut f.favourites_only, "Favourites only");
        egui::Grid::new("history-filter-grid")
            .num_columns(2)
            .show(ui, |ui| {
                let label = ui.label("Rating");
                egui::ComboBox::from_id_salt("filter-rating")
                    .selected_text(stars(f.min_rating))
                    .show_ui(ui, |ui| {
                        for n in 0..=5 {
                            ui.selectable_value(&mut f.min_rating, n, stars(n));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Flags");
                egui::ComboBox::from_id_salt("filter-flag")
                    .selected_text(f.flag.label())
                    .show_ui(ui, |ui| {
                        for flag in FlagFilter::ALL {
                            ui.selectable_value(&mut f.flag, flag, flag.label());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Provider");
                egui::ComboBox::from_id_salt("filter-provider")
                    .selected_text(f.provider.map_or("Any provider", |p| p.label()))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut f.provider, None, "Any provider");
                        for p in ProviderId::ALL {
                            ui.selectable_value(&mut f.provider, Some(p), p.label());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Model");
                let mut models: Vec<(String, String)> = catalog
                    .models()
                    .iter()
                    .filter(|m| f.provider.is_none_or(|p| p == m.provider))
                    .map(|m| (m.id.clone(), format!("{} ({})", m.brand, m.id)))
                    .collect();
                models.sort();
                models.dedup_by(|a, b| a.0 == b.0);
                egui::ComboBox::from_id_salt("filter-model")
                    .selected_text(f.model.as_deref().unwrap_or("Any model"))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut f.model, None, "Any model");
                        for (id, label) in models {
                            ui.selectable_value(&mut f.model, Some(id), label);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Date");
                egui::ComboBox::from_id_salt("filter-date")
                    .selected_text(f.date.label())
                    .show_ui(ui, |ui| {
                        for d in DateRange::ALL {
                            ui.selectable_value(&mut f.date, d, d.label());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                if !batches.is_empty() {
                    let label = ui.label("Batch");
                    let shown = f
                        .batch
                        .and_then(|id| batches.iter().find(|b| b.id == id))
                        .map_or_else(|| "Any batch or none".to_owned(), |b| b.name.clone());
                    egui::ComboBox::from_id_salt("filter-batch")
                        .selected_text(super::history_panel::short_session_name(&shown, 24))
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut f.batch, None, "Any batch or none");
                            for b in batches {
                                let text = format!(
                                    "{} ({} image{})",
                                    b.name,
                                    b.images,
                                    if b.images == 1 { "" } else { "s" }
                                );
                                ui.selectable_value(&mut f.batch, Some(b.id), text);
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    ui.end_row();
                }
            });
        if f.active() > 0 && ui.small_button("Clear filters").clicked() {
            *f = Filters::default();
        }
    }
}

/// "Spent $1.23 in 24 h (of $5.00) · $14.50 in 30 days · $3.10 this session".
pub(super) fn spend_line(
    ui: &mut egui::Ui,
    spend: crate::engine::budget::Spend,
    budget: crate::engine::budget::Budget,
) {
    let of = |cap: Option<f64>| cap.map_or(String::new(), |c| format!(" (of ${c:.2})"));
    let words = format!(
        "Spent ${:.2} in 24 h{} · ${:.2} in 30 days{} · ${:.2} this session",
        spend.day_usd,
        of(budget.daily_usd),
        spend.month_usd,
        of(budget.monthly_usd),
        spend.session_usd
    );
    let near = [
        (spend.day_usd, budget.daily_usd),
        (spend.month_usd, budget.monthly_usd),
    ]
    .iter()
    .any(|(spent, cap)| cap.is_some_and(|c| *spent >= 0.8 * c));
    let text = egui::RichText::new(words).small();
    if near {
        ui.colored_label(ui.visuals().warn_fg_color, text)
            .on_hover_text("Close to a budget set in Settings");
    } else {
        ui.label(text.weak())
            .on_hover_text("What real jobs cost (sandbox jobs are free); budgets are in Settings");
    }
}

fn stars(n: u8) -> String {
    match n {
        0 => "Any rating".to_owned(),
        5 => "5 stars".to_owned(),
        n => format!("{n}+ stars"),
    }
}
