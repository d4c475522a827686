//! `banana-studio export IMAGE_ID... --to DIR`: files named by a template, the recipe
//! embedded unless `--clean`.

use super::out;
use std::path::PathBuf;

use clap::Args as ClapArgs;
use serde_json::json;

use super::{Args, JsonFlag, open_library};
use crate::library::ImageId;
use crate::library::export::{DEFAULT_TEMPLATE, ExportOptions, export_image};

/// Options of `export`.
#[derive(Debug, ClapArgs)]
pub struct ExportArgs {
    /// The images to export (ids from `history` or `generate --json`).
    #[arg(required = true)]
    pub images: Vec<ImageId>,
    /// The folder to write to.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// File name template. Its tokens, each written in braces: date, time, prompt, n (the
    /// image's number in its job), job, id, model, provider, seed, ext.
    #[arg(long, default_value = DEFAULT_TEMPLATE)]
    pub template: String,
    /// Write the files without any metadata.
    #[arg(long)]
    pub clean: bool,
    #[command(flatten)]
    pub output: JsonFlag,
}

/// Runs `export`; returns the exit code (2 when an image is unknown, 6 on a write error).
pub fn run(args: &Args, e: &ExportArgs) -> i32 {
    let library = match open_library(args) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if let Some(words) = crate::library::export::unknown_tokens_words(&e.template) {
        eprintln!("warning: {words}");
    }
    let options = ExportOptions {
        template: e.template.clone(),
        embed_metadata: !e.clean,
    };
    let mut exit = 0;
    for image in &e.images {
        match export_image(&library, *image, &e.to, &options) {
            Ok(path) => {
                if e.output.json {
                    out!(
                        "{}",
                        json!({"event": "exported", "image": image, "path": path})
                    );
                } else {
                    out!("{}", path.display());
                }
            }
            Err(error) => {
                exit = exit.max(error.kind().exit_code());
                let message = error.to_string();
                if e.output.json {
                    out!(
                        "{}",
                        json!({"event": "failed", "image": image, "message": message})
                    );
                } else {
                    eprintln!("error: {message}");
                }
            }
        }
    }
    exit
}
