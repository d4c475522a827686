//! `banana-studio batch FILE [generate opts] [--json]`: many jobs from one file.
//!
//! FILE is `.txt` (one prompt a line; blank lines and `#` comments skipped), `.csv` (a
//! header naming `prompt` and/or the template's slots; with `--template` each row fills
//! the slots) or `.jsonl` (one recipe a line: `prompt`, and optionally `template`,
//! `vars`, `style`s, `brand`, `model`, `provider`, `aspect`, `size`, `count`, `seed`).
//! Every line is checked before anything is sent; then the jobs run (the provider's jobs
//! at once respected), each printing its events as `generate` does, and a `batch_done`
//! line sums them up.

use super::out;
use std::path::PathBuf;

use clap::Args as ClapArgs;
use serde_json::json;

use super::generate::{RecipeOpts, announce_sandbox, build_recipe, fail, wait_jobs};
use super::{Args, start_engine};
use crate::providers::ErrorKind;
use crate::recipe::Recipe;
use crate::recipe::batch_list::{self, BatchLine, ListKind};

/// Options of `batch`.
#[derive(Debug, ClapArgs)]
pub struct BatchArgs {
    /// The list: .txt, .csv or .jsonl (or `status` / `fetch` followed by a batch's id).
    pub file: PathBuf,
    /// With `status` or `fetch`: the deferred batch (`batches/…`).
    pub id: Option<String>,
    /// Through the Gemini Batch API: half price, done within 24 hours.
    #[arg(long)]
    pub deferred: bool,
    /// With --deferred: wait for the results and store them.
    #[arg(long, requires = "deferred")]
    pub wait: bool,
    #[command(flatten)]
    pub opts: RecipeOpts,
}

/// Reads the file into lines, or says what is wrong with it.
fn read_lines(path: &std::path::Path, opts: &RecipeOpts) -> Result<Vec<BatchLine>, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let kind = ListKind::from_extension(ext).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: could not read it ({e})", path.display()))?;
    batch_list::read(&text, kind, opts.template.is_some()).map_err(|e| {
        // The app says "choose a template"; here it is an option.
        let e = e.replace("so choose a template", "so give --template");
        if e.starts_with("line ") {
            e
        } else {
            format!("{}: {e}", path.display())
        }
    })
}

/// The options a line asks for: the command's, with the line's slot values and (for
/// `.jsonl`) its own settings on top.
fn line_opts(base: &RecipeOpts, line: &BatchLine) -> Result<RecipeOpts, String> {
    let mut opts = base.clone();
    for (k, v) in &line.vars {
        opts.vars.push(format!("{k}={v}"));
    }
    if line.own.is_none() {
        return Ok(opts);
    }
    if let Some(t) = line.text("template") {
        opts.template = Some(t);
    }
    if let Some(b) = line.text("brand") {
        opts.brand = Some(b);
    }
    if let Some(styles) = line.styles() {
        opts.styles = styles;
    }
    if let Some(m) = line.text("model") {
        opts.model = Some(m);
    }
    let bad = |key: &str, e: String| format!("line {}: {key}: {e}", line.number);
    if let Some(v) = line.value("provider") {
        opts.provider =
            Some(serde_json::from_value(v.clone()).map_err(|e| bad("provider", e.to_string()))?);
    }
    if let Some(v) = line.value("aspect") {
        opts.aspect =
            Some(serde_json::from_value(v.clone()).map_err(|e| bad("aspect", e.to_string()))?);
    }
    if let Some(v) = line.value("size") {
        opts.size =
            Some(serde_json::from_value(v.clone()).map_err(|e| bad("size", e.to_string()))?);
    }
    if let Some(n) = line.value("count").and_then(serde_json::Value::as_u64) {
        opts.count = u8::try_from(n).map_err(|_| bad("count", "1 to 4".into()))?;
    }
    if let Some(n) = line.value("seed").and_then(serde_json::Value::as_u64) {
        opts.seed = Some(n);
    }
    Ok(opts)
}

/// Runs `batch`; returns 0 when every job succeeded, else the exit code of the first
/// that did not (2 when the file or a line is wrong, and then nothing was sent).
pub fn run(args: &Args, b: &BatchArgs) -> i32 {
    let json = b.opts.output.json;
    match (b.file.to_str(), &b.id) {
        (Some("status"), Some(id)) => return super::batch_deferred::status(args, b, id, false),
        (Some("fetch"), Some(id)) => return super::batch_deferred::status(args, b, id, true),
        (Some("status" | "fetch"), None) => {
            let message =
                "batch: give the batch's id (batches/…), as `batch --deferred` printed it";
            return fail(json, None, ErrorKind::InvalidInput, message);
        }
        (_, Some(extra)) => {
            let message = format!("batch: unexpected \"{extra}\" after the file");
            return fail(json, None, ErrorKind::InvalidInput, &message);
        }
        _ => {}
    }
    let lines = match read_lines(&b.file, &b.opts) {
        Ok(lines) => lines,
        Err(message) => {
            return fail(
                json,
                None,
                ErrorKind::InvalidInput,
                &format!("batch: {message}"),
            );
        }
    };
    let engine = match start_engine(args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    engine.cancel_all_on_ctrl_c();
    // Every line checked first: a bad one stops the batch before anything is sent.
    let mut recipes: Vec<Recipe> = Vec::with_capacity(lines.len());
    for line in &lines {
        let opts = match line_opts(&b.opts, line) {
            Ok(o) => o,
            Err(message) => {
                return fail(
                    json,
                    None,
                    ErrorKind::InvalidInput,
                    &format!("batch: {message}"),
                );
            }
        };
        match build_recipe(&engine, &line.prompt, &opts, None) {
            Ok(recipe) => {
                if let Err(e) = recipe.validate(&engine.catalog()) {
                    let message = format!("batch: line {}: {e}", line.number);
                    return fail(json, None, ErrorKind::InvalidInput, &message);
                }
                recipes.push(recipe);
            }
            Err(code) => {
                eprintln!(
                    "batch: the error above is on line {} of {}",
                    line.number,
                    b.file.display()
                );
                return code;
            }
        }
    }
    let catalog = engine.catalog();
    let images: u32 = recipes.iter().map(|r| u32::from(r.count)).sum();
    let usd: f64 = recipes
        .iter()
        .filter_map(|r| r.estimate_cost(&catalog).usd)
        .sum();
    if let Some(first) = recipes.first() {
        announce_sandbox(&engine, first, json);
    }
    if !json {
        eprintln!(
            "batch: {} job{}, {images} image{}, estimated ${usd:.2}",
            recipes.len(),
            if recipes.len() == 1 { "" } else { "s" },
            if images == 1 { "" } else { "s" }
        );
    }
    let jobs = recipes.len();
    // One batch in the history, named after its file; sent as jobs at once allow.
    let name = b
        .file
        .file_name()
        .map_or_else(|| "batch".to_owned(), |n| n.to_string_lossy().into_owned());
    if b.deferred {
        return super::batch_deferred::submit(&engine, b, name, recipes);
    }
    let submitted = match engine.start_batch(name, recipes) {
        Ok(()) => jobs,
        Err(e) => return fail(json, None, ErrorKind::InvalidInput, &e.to_string()),
    };
    let ended = wait_jobs(&engine, &b.opts, submitted);
    let succeeded = ended.iter().filter(|e| e.code == 0).count();
    let cost: f64 = ended.iter().filter_map(|e| e.cost_usd).sum();
    let failed = jobs - succeeded;
    if json {
        out!(
            "{}",
            json!({"event": "batch_done", "jobs": jobs, "succeeded": succeeded,
                   "failed": failed, "cost_usd": cost})
        );
    } else {
        eprintln!("batch: {succeeded} of {jobs} succeeded, {failed} failed, ${cost:.2}");
    }
    ended
        .iter()
        .map(|e| e.code)
        .find(|c| *c != 0)
        // Requests never sent (the batch stopped short) count as cancelled.
        .unwrap_or(if ended.len() < jobs {
            ErrorKind::Cancelled.exit_code()
        } else {
            0
        })
}
