//! `banana-studio history [--json] [--limit N] [--search TEXT]`, plus the history
//! panel's filters: `--session NAME`, `--provider`, `--model`, `--since`/`--until`
//! (YYYY-MM-DD, UTC), `--favourites`, `--min-rating N`, `--flag picked|hide-rejects|rejected`.

use super::out;
use clap::Args as ClapArgs;
use serde_json::json;

use super::generate::image_json;
use super::{Args, JsonFlag, open_library};
use crate::library::dates::parse_date;
use crate::library::{FlagFilter, HistoryQuery, Library};
use crate::recipe::ProviderId;

/// Options of `history`.
#[derive(Debug, ClapArgs)]
pub struct HistoryArgs {
    /// Most generations to list.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Only prompts containing this text.
    #[arg(long)]
    pub search: Option<String>,
    /// Only this session (by name).
    #[arg(long)]
    pub session: Option<String>,
    /// Only this provider.
    #[arg(long)]
    pub provider: Option<ProviderId>,
    /// Only this model id.
    #[arg(long)]
    pub model: Option<String>,
    /// Only jobs from this day on (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// Only jobs before this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub until: Option<String>,
    /// Only favourite images.
    #[arg(long)]
    pub favourites: bool,
    /// Only images rated at least N stars.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=5))]
    pub min_rating: u8,
    /// Only picks, everything but rejects, or only rejects.
    #[arg(long, value_parser = ["picked", "hide-rejects", "rejected"])]
    pub flag: Option<String>,
    #[command(flatten)]
    pub output: JsonFlag,
}

/// Runs `history`; returns the exit code.
pub fn run(args: &Args, h: &HistoryArgs) -> i32 {
    let library = match open_library(args) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let query = match query_from(&library, h) {
        Ok(q) => q,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let generations = match library.generations(&query) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return 6;
        }
    };
    for g in &generations {
        let job = &g.job;
        if h.output.json {
            let images: Vec<_> = g.images.iter().map(|i| image_json(i, &i.path)).collect();
            out!(
                "{}",
                json!({"job": job.id, "created_at_ms": job.created_at_ms, "state": job.state.as_str(),
                    "provider": job.recipe.provider, "model": job.recipe.model, "prompt": job.recipe.prompt,
                    "aspect": job.recipe.aspect, "size": job.recipe.size, "count": job.recipe.count,
                    "sandbox": job.sandbox, "images": images, "text": job.text, "cost_usd": job.cost_usd,
                    "error_kind": job.error_kind, "error_message": job.error_message,
                    "parent_image_id": job.parent_image_id, "retry_of": job.retry_of,
                    "session_id": job.session_id})
            );
        } else {
            let ids: Vec<String> = g.images.iter().map(|i| i.id.to_string()).collect();
            // Sandbox results say so, so a listing is never mistaken for model output.
            let sandbox = if job.sandbox {
                "  (sandbox, not model output)"
            } else {
                ""
            };
            out!(
                "job {:>5}  {:<11} {:<26} images [{}]  {}{sandbox}",
                job.id,
                job.state.as_str(),
                job.recipe.model,
                ids.join(","),
                job.recipe.prompt_preview()
            );
        }
    }
    0
}

/// The library query the options ask for; a bad date or unknown session is named.
fn query_from(library: &Library, h: &HistoryArgs) -> Result<HistoryQuery, String> {
    let date = |flag: &str, text: &Option<String>| -> Result<Option<i64>, String> {
        text.as_deref()
            .map(|t| {
                parse_date(t).ok_or_else(|| {
                    format!("--{flag} {t:?}: {}", crate::library::dates::date_problem(t))
                })
            })
            .transpose()
    };
    let session = match &h.session {
        None => None,
        Some(name) => Some(
            library
                .session_named(name)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("--session {name:?}: there is no session with that name"))?
                .id,
        ),
    };
    Ok(HistoryQuery {
        same_recipe: None,
        batch: None,
        limit: h.limit,
        after: None,
        search: h.search.clone().filter(|s| !s.is_empty()),
        succeeded_only: false,
        session,
        provider: h.provider,
        model: h.model.clone(),
        since_ms: date("since", &h.since)?,
        until_ms: date("until", &h.until)?,
        favourites_only: h.favourites,
        min_rating: h.min_rating,
        flag: match h.flag.as_deref() {
            Some("picked") => FlagFilter::Picked,
            Some("hide-rejects") => FlagFilter::NotRejected,
            Some("rejected") => FlagFilter::Rejected,
            _ => FlagFilter::Any,
        },
    })
}
