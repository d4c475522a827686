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
use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args as ClapArgs;
use serde_json::{Value, json};

use super::generate::{RecipeOpts, announce_sandbox, build_recipe, fail, wait_jobs};
use super::{Args, start_engine};
use crate::providers::ErrorKind;
use crate::recipe::Recipe;

/// Options of `batch`.
#[derive(Debug, ClapArgs)]
pub struct BatchArgs {
    /// The list: .txt, .csv or .jsonl.
    pub file: PathBuf,
    #[command(flatten)]
    pub opts: RecipeOpts,
}

/// One line of the file: the prompt, slot values, and options it sets itself.
#[derive(Debug, Default, PartialEq)]
struct Line {
    /// Where it is in the file (1-based), for messages.
    number: usize,
    prompt: String,
    vars: BTreeMap<String, String>,
    /// A `.jsonl` recipe's own options.
    own: Option<Value>,
}

/// Reads the file into lines, or says what is wrong with it.
fn read_lines(path: &std::path::Path, opts: &RecipeOpts) -> Result<Vec<Line>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: could not read it ({e})", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let lines = match ext.as_str() {
        "txt" => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|(i, l)| Line {
                number: i + 1,
                prompt: l.trim().to_owned(),
                ..Line::default()
            })
            .collect(),
        "csv" => csv_lines(&text, opts)?,
        "jsonl" => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let value: Value = serde_json::from_str(l)
                    .map_err(|e| format!("line {}: not a JSON object ({e})", i + 1))?;
                if !value.is_object() {
                    return Err(format!("line {}: not a JSON object", i + 1));
                }
                let vars = value["vars"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Line {
                    number: i + 1,
                    prompt: value["prompt"].as_str().unwrap_or_default().to_owned(),
                    vars,
                    own: Some(value),
                })
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "{}: a batch is a .txt, .csv or .jsonl file, not .{other}",
                path.display()
            ));
        }
    };
    if lines.is_empty() {
        return Err(format!(
            "{}: there is nothing in it to make",
            path.display()
        ));
    }
    Ok(lines)
}

/// A CSV with a header: `prompt` and/or slot names. Quoted fields may hold commas and
/// doubled quotes.
fn csv_lines(text: &str, opts: &RecipeOpts) -> Result<Vec<Line>, String> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = rows.next() else {
        return Ok(Vec::new());
    };
    let columns: Vec<String> = csv_fields(header)
        .into_iter()
        .map(|c| c.trim().to_owned())
        .collect();
    let has_prompt = columns.iter().any(|c| c.eq_ignore_ascii_case("prompt"));
    let slots: Vec<&String> = columns
        .iter()
        .filter(|c| !c.eq_ignore_ascii_case("prompt"))
        .collect();
    if !has_prompt && slots.is_empty() {
        return Err(
            "the CSV header names no `prompt` column and no template slot: name the columns \
             `prompt` or the slots of --template"
                .to_owned(),
        );
    }
    if !slots.is_empty() && opts.template.is_none() {
        return Err(format!(
            "the CSV header names {}: these fill a template's slots, so give --template",
            slots
                .iter()
                .map(|s| format!("[{s}]"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    rows.map(|(i, row)| {
        let fields = csv_fields(row);
        if fields.len() != columns.len() {
            return Err(format!(
                "line {}: {} fields where the header has {}",
                i + 1,
                fields.len(),
                columns.len()
            ));
        }
        let mut line = Line {
            number: i + 1,
            ..Line::default()
        };
        for (column, value) in columns.iter().zip(fields) {
            if column.eq_ignore_ascii_case("prompt") {
                line.prompt = value;
            } else {
                line.vars.insert(column.clone(), value);
            }
        }
        Ok(line)
    })
    .collect()
}

fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The options a line asks for: the command's, with the line's slot values and (for
/// `.jsonl`) its own settings on top.
fn line_opts(base: &RecipeOpts, line: &Line) -> Result<RecipeOpts, String> {
    let mut opts = base.clone();
    for (k, v) in &line.vars {
        opts.vars.push(format!("{k}={v}"));
    }
    if let Some(own) = &line.own {
        let text = |key: &str| own[key].as_str().map(str::to_owned);
        let parse = |key: &str| -> Result<Option<Value>, String> {
            Ok((!own[key].is_null()).then(|| own[key].clone()))
        };
        if let Some(t) = text("template") {
            opts.template = Some(t);
        }
        if let Some(b) = text("brand") {
            opts.brand = Some(b);
        }
        if let Some(styles) = own["styles"].as_array() {
            opts.styles = styles
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
        }
        if let Some(m) = text("model") {
            opts.model = Some(m);
        }
        let bad = |key: &str, e: String| format!("line {}: {key}: {e}", line.number);
        if let Some(v) = parse("provider")? {
            opts.provider =
                Some(serde_json::from_value(v).map_err(|e| bad("provider", e.to_string()))?);
        }
        if let Some(v) = parse("aspect")? {
            opts.aspect =
                Some(serde_json::from_value(v).map_err(|e| bad("aspect", e.to_string()))?);
        }
        if let Some(v) = parse("size")? {
            opts.size = Some(serde_json::from_value(v).map_err(|e| bad("size", e.to_string()))?);
        }
        if let Some(n) = own["count"].as_u64() {
            opts.count = u8::try_from(n).map_err(|_| bad("count", "1 to 4".into()))?;
        }
        if let Some(n) = own["seed"].as_u64() {
            opts.seed = Some(n);
        }
    }
    Ok(opts)
}

/// Runs `batch`; returns 0 when every job succeeded, else the exit code of the first
/// that did not (2 when the file or a line is wrong, and then nothing was sent).
pub fn run(args: &Args, b: &BatchArgs) -> i32 {
    let json = b.opts.output.json;
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
    let mut submitted = 0;
    for recipe in recipes {
        match engine.submit(recipe) {
            Ok(_) => submitted += 1,
            Err(e) => {
                // Jobs already queued run on; this one and the rest are not sent.
                let _ = fail(json, None, ErrorKind::InvalidInput, &e.to_string());
                break;
            }
        }
    }
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
        .unwrap_or(if submitted < jobs { 2 } else { 0 })
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_take_quotes_and_commas() {
        assert_eq!(
            super::csv_fields(r#"a mug,"red, glazed",  x"#),
            vec!["a mug", "red, glazed", "  x"]
        );
        assert_eq!(
            super::csv_fields(r#""say ""hi""",b"#),
            vec![r#"say "hi""#, "b"]
        );
    }
}
