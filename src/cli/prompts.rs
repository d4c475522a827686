//! `templates`, `styles`, `brands [--json]` and `brands add NAME [--prefix T] [--suffix T]
//! [--reference FILE]...`: the prompt library, bundled items and the user's.

use super::out;
use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use serde_json::json;

use super::{Args, JsonFlag, open_library, start_engine};
use crate::engine::InputSource;
use crate::library::prompts::{Origin, PromptItem};
use crate::recipe::compose::{BrandKit, Style, Template};

/// Options of `templates` and `styles`.
#[derive(Debug, ClapArgs)]
pub struct ListArgs {
    #[command(flatten)]
    pub output: JsonFlag,
}

/// `brands`: list the kits, or add one.
#[derive(Debug, ClapArgs)]
pub struct BrandsArgs {
    #[command(subcommand)]
    pub command: Option<BrandsCommand>,
    #[command(flatten)]
    pub output: JsonFlag,
}

/// What `brands` can do besides listing.
#[derive(Debug, Subcommand)]
pub enum BrandsCommand {
    /// Add a brand kit (or replace the one of that name).
    Add(BrandAddArgs),
}

/// Options of `brands add`.
#[derive(Debug, ClapArgs)]
pub struct BrandAddArgs {
    /// The kit's name.
    pub name: String,
    /// Words said before every prompt under this kit.
    #[arg(long, value_name = "T", default_value = "")]
    pub prefix: String,
    /// Words said after every prompt under this kit.
    #[arg(long, value_name = "T", default_value = "")]
    pub suffix: String,
    /// A logo or reference image sent with every prompt (repeatable).
    #[arg(long = "reference", value_name = "FILE")]
    pub references: Vec<PathBuf>,
    #[command(flatten)]
    pub output: JsonFlag,
}

fn origin_word(origin: Origin) -> &'static str {
    match origin {
        Origin::Bundled => "bundled",
        Origin::User => "yours",
    }
}

fn list<T: PromptItem>(
    args: &Args,
    json: bool,
    describe: impl Fn(&T) -> (serde_json::Value, String),
) -> i32 {
    let library = match open_library(args) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let items = match library.prompt_items::<T>() {
        Ok(items) => items,
        Err(e) => {
            eprintln!("error: {e}");
            return 6;
        }
    };
    for (item, origin) in items {
        let (mut value, line) = describe(&item);
        if json {
            value["origin"] = json!(origin);
            out!("{value}");
        } else {
            out!("{} ({}): {line}", item.name(), origin_word(origin));
        }
    }
    0
}

/// Runs `templates`.
pub fn run_templates(args: &Args, l: &ListArgs) -> i32 {
    list::<Template>(args, l.output.json, |t| {
        let slots = t.slots();
        (
            json!({"name": t.name, "text": t.text, "slots": slots}),
            t.text.clone(),
        )
    })
}

/// Runs `styles`.
pub fn run_styles(args: &Args, l: &ListArgs) -> i32 {
    list::<Style>(args, l.output.json, |s| {
        let refs: Vec<&str> = s.references.iter().map(|r| r.sha256.as_str()).collect();
        (
            json!({"name": s.name, "text": s.text, "references": refs}),
            s.text.clone(),
        )
    })
}

/// Runs `brands` and `brands add`.
pub fn run_brands(args: &Args, b: &BrandsArgs) -> i32 {
    match &b.command {
        None => list::<BrandKit>(args, b.output.json, |k| {
            let refs: Vec<&str> = k.references.iter().map(|r| r.sha256.as_str()).collect();
            let line = format!(
                "prefix {:?}, suffix {:?}, {} reference image{}",
                k.prefix,
                k.suffix,
                refs.len(),
                if refs.len() == 1 { "" } else { "s" }
            );
            (
                json!({"name": k.name, "prefix": k.prefix, "suffix": k.suffix,
                       "palette": k.palette, "references": refs}),
                line,
            )
        }),
        Some(BrandsCommand::Add(add)) => add_brand(args, add),
    }
}

fn add_brand(args: &Args, add: &BrandAddArgs) -> i32 {
    let name = add.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        eprintln!("error: brands add: the kit needs a name");
        return 2;
    }
    let engine = match start_engine(args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    // Every reference is checked and stored, or none is: nothing half-stored.
    let references = if add.references.is_empty() {
        Vec::new()
    } else {
        let sources: Vec<InputSource> = add
            .references
            .iter()
            .cloned()
            .map(InputSource::File)
            .collect();
        match engine.add_inputs_blocking(&sources) {
            Ok(added) => added.into_iter().map(|a| a.input).collect(),
            Err(errors) => {
                eprintln!("error: --reference: {}", errors.join("; "));
                return 2;
            }
        }
    };
    let kit = BrandKit {
        name,
        prefix: add.prefix.trim().to_owned(),
        suffix: add.suffix.trim().to_owned(),
        references,
        ..BrandKit::default()
    };
    if let Err(e) = engine.library().save_prompt_item(&kit) {
        eprintln!("error: {e}");
        return 6;
    }
    if add.output.json {
        let refs: Vec<&str> = kit.references.iter().map(|r| r.sha256.as_str()).collect();
        out!(
            "{}",
            json!({"event": "brand_added", "name": kit.name, "prefix": kit.prefix,
                   "suffix": kit.suffix, "references": refs})
        );
    } else {
        out!("brand kit {:?} saved", kit.name);
    }
    0
}
