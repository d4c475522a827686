//! Spending caps: a job (or a batch) that would take what was spent in the last 24
//! hours, or the last 30 days, past the cap Settings name is refused before anything is
//! sent, saying how much is left. Sandbox jobs are free and never count.

use std::sync::Arc;

use super::{Engine, Event, Inner};
use banana_core::now_ms;
use banana_core::recipe::{Catalog, Recipe, ValidationError};
use banana_library::{Library, LibraryError};

/// A day and a month, as the caps count them: rolling, so no time zone decides.
const DAY_MS: i64 = 24 * 3600 * 1000;
const MONTH_MS: i64 = 30 * DAY_MS;

/// The caps, in dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budget {
    /// In any 24 hours.
    pub daily_usd: Option<f64>,
    /// In any 30 days.
    pub monthly_usd: Option<f64>,
}

/// What was spent, for the history panel.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spend {
    /// In the last 24 hours.
    pub day_usd: f64,
    /// In the last 30 days.
    pub month_usd: f64,
    /// In the current session.
    pub session_usd: f64,
}

/// What was spent since `since_ms` on real (not sandbox) jobs.
fn spent(library: &Library, since_ms: i64) -> Result<f64, LibraryError> {
    library.spent_since(since_ms)
}

/// The reason `usd` more would pass a cap, in words with what is left; None when it fits.
pub fn over_budget(
    library: &Library,
    budget: Budget,
    usd: f64,
) -> Result<Option<String>, LibraryError> {
    if usd <= 0.0 {
        return Ok(None);
    }
    let now = now_ms();
    for (cap, since, span) in [
        (budget.daily_usd, now - DAY_MS, "24 hours"),
        (budget.monthly_usd, now - MONTH_MS, "30 days"),
    ] {
        let Some(cap) = cap else { continue };
        let so_far = spent(library, since)?;
        if so_far + usd > cap + 1e-9 {
            let left = (cap - so_far).max(0.0);
            return Ok(Some(format!(
                "this would cost about ${usd:.2} and pass the budget of ${cap:.2} for any \
                 {span}: ${so_far:.2} is spent, ${left:.2} is left. Raise the budget in \
                 Settings, or make fewer or smaller images"
            )));
        }
    }
    Ok(None)
}

impl Inner {
    /// Why recipes may not be sent for the caps, in words; None when they fit.
    pub(crate) fn budget_refusal(&self, recipes: &[Recipe], catalog: &Catalog) -> Option<String> {
        let budget = self.budget.lock().map(|b| *b).unwrap_or_default();
        if budget == Budget::default() {
            return None;
        }
        let usd = expected_usd(self, recipes, catalog);
        match over_budget(&self.library, budget, usd) {
            Ok(refusal) => refusal,
            // A cap that cannot be checked does not let money through.
            Err(e) => Some(format!(
                "the spending so far could not be read ({e}), so nothing was sent"
            )),
        }
    }
}

/// The expected cost of recipes on the providers that are not in the sandbox.
pub(crate) fn expected_usd(inner: &Inner, recipes: &[Recipe], catalog: &Catalog) -> f64 {
    recipes
        .iter()
        .filter(|r| inner.slot(r.provider).is_some_and(|s| !s.sandbox))
        .filter_map(|r| r.estimate_cost(catalog).usd)
        .sum()
}

impl Engine {
    /// Sets the spending caps (from Settings).
    pub fn set_budget(&self, budget: Budget) {
        if let Ok(mut b) = self.inner.budget.lock() {
            *b = budget;
        }
    }

    /// Refuses recipes whose expected cost would pass a cap.
    pub(crate) fn check_budget(&self, recipes: &[Recipe]) -> Result<(), ValidationError> {
        match self.inner.budget_refusal(recipes, &self.catalog()) {
            None => Ok(()),
            Some(message) => Err(ValidationError::new("budget", message)),
        }
    }

    /// What was spent in the last 24 hours, 30 days and this session;
    /// `Event::Spend` follows.
    pub fn load_spend(&self) {
        let inner: Arc<Inner> = self.inner.clone();
        self.spawn(async move {
            let read = inner
                .blocking(|lib| {
                    let now = now_ms();
                    let l = &lib.library;
                    Ok(Spend {
                        day_usd: l.spent_since(now - DAY_MS).map_err(|e| e.to_string())?,
                        month_usd: l.spent_since(now - MONTH_MS).map_err(|e| e.to_string())?,
                        session_usd: l.spent_in_session().map_err(|e| e.to_string())?,
                    })
                })
                .await;
            if let Ok(spend) = read {
                inner.emit(Event::Spend(spend));
            }
        });
    }
}
