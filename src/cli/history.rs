//! `banana-studio history [--json] [--limit N] [--search TEXT]`.

use clap::Args as ClapArgs;
use serde_json::json;

use super::generate::image_json;
use super::{Args, JsonFlag, open_library};
use crate::library::HistoryQuery;

/// Options of `history`.
#[derive(Debug, ClapArgs)]
pub struct HistoryArgs {
    /// Most generations to list.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Only prompts containing this text.
    #[arg(long)]
    pub search: Option<String>,
    #[command(flatten)]
    pub output: JsonFlag,
}

/// Runs `history`; returns the exit code.
pub fn run(args: &Args, h: &HistoryArgs) -> i32 {
    let library = match open_library(args) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let query = HistoryQuery {
        limit: h.limit,
        offset: 0,
        search: h.search.clone().filter(|s| !s.is_empty()),
        succeeded_only: false,
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
            println!(
                "{}",
                json!({"job": job.id, "created_at_ms": job.created_at_ms, "state": job.state.as_str(),
                    "provider": job.recipe.provider, "model": job.recipe.model, "prompt": job.recipe.prompt,
                    "aspect": job.recipe.aspect, "size": job.recipe.size, "count": job.recipe.count,
                    "sandbox": job.sandbox, "images": images, "text": job.text, "cost_usd": job.cost_usd,
                    "error_kind": job.error_kind, "error_message": job.error_message,
                    "parent_image_id": job.parent_image_id, "retry_of": job.retry_of})
            );
        } else {
            let ids: Vec<String> = g.images.iter().map(|i| i.id.to_string()).collect();
            println!(
                "job {:>5}  {:<11} {:<26} images [{}]  {}",
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
