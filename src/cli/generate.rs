//! `banana-studio generate PROMPT [opts]`.

use super::out;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args as ClapArgs;
use serde_json::json;

use super::{Args, JsonFlag, start_engine};
use crate::engine::{Engine, Event, InputSource};
use crate::library::export::free_path;
use crate::library::{Generation, ImageRecord, JobId};
use crate::providers::ErrorKind;
use crate::recipe::{AspectRatio, ImageSize, OutputFormat, ProviderId, Recipe};

/// Options of `generate`.
#[derive(Debug, ClapArgs)]
pub struct GenerateArgs {
    /// What to draw.
    pub prompt: String,
    #[command(flatten)]
    pub opts: RecipeOpts,
}

/// The recipe and output options shared by `generate` and `refine`.
#[derive(Debug, ClapArgs)]
pub struct RecipeOpts {
    /// gemini, fal, eachlabs, oxen or vydra (default: gemini, or the parent's for refine).
    #[arg(long)]
    pub provider: Option<ProviderId>,
    /// The provider's model id; the provider's default (or the parent's) when absent.
    #[arg(long)]
    pub model: Option<String>,
    /// Aspect ratio such as 16:9, or auto (the default with --input: keep its shape; else 1:1).
    #[arg(long)]
    pub aspect: Option<AspectRatio>,
    /// png, jpeg or webp (default png).
    #[arg(long)]
    pub format: Option<OutputFormat>,
    /// How many images, 1 to 4.
    #[arg(long, default_value_t = 1)]
    pub count: u8,
    /// 512, 1K, 2K or 4K, for models that take a size.
    #[arg(long)]
    pub size: Option<ImageSize>,
    /// Seed, for models that honour one.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Input image to edit (repeatable).
    #[arg(long = "input", value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// Copy the images into this folder too.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: JsonFlag,
}

fn print_json(value: serde_json::Value) {
    out!("{value}");
}

pub(super) fn fail(json: bool, job: Option<JobId>, kind: ErrorKind, message: &str) -> i32 {
    if json {
        print_json(
            json!({"event": "failed", "job": job, "kind": kind.as_str(), "message": message}),
        );
    } else {
        eprintln!("error: {message}");
    }
    kind.exit_code()
}

/// Builds the recipe the options ask for, on top of `base` (the parent's, for refine).
/// Returns the exit code on bad input.
pub(super) fn build_recipe(
    engine: &Engine,
    prompt: &str,
    opts: &RecipeOpts,
    base: Option<&Recipe>,
) -> Result<Recipe, i32> {
    let json = opts.output.json;
    let catalog = engine.catalog();
    let provider = opts
        .provider
        .or(base.map(|b| b.provider))
        .unwrap_or(ProviderId::Gemini);
    let mut recipe = match base {
        Some(b) if b.provider == provider => Recipe {
            prompt: prompt.to_owned(),
            inputs: Vec::new(),
            seed: None,
            ..b.clone()
        },
        _ => Recipe::new(prompt, provider, &catalog),
    };
    if let Some(model) = &opts.model {
        recipe.model = model.clone();
        recipe.size = catalog.model(provider, model).and_then(|m| m.default_size);
    }
    // The model's input limit is checked before any file is read or stored.
    if let Some(model) = catalog.model(provider, &recipe.model)
        && opts.inputs.len() > model.max_inputs as usize
    {
        let message = format!(
            "--input: {} takes at most {} input image{}; {} were given",
            model.brand,
            model.max_inputs,
            if model.max_inputs == 1 { "" } else { "s" },
            opts.inputs.len()
        );
        return Err(fail(json, None, ErrorKind::InvalidInput, &message));
    }
    if !opts.inputs.is_empty() {
        let sources: Vec<InputSource> =
            opts.inputs.iter().cloned().map(InputSource::File).collect();
        match engine.add_inputs_blocking(&sources) {
            Ok(added) => recipe.inputs = added.into_iter().map(|a| a.input).collect(),
            Err(errors) => {
                let message = format!("--input: {}", errors.join("; "));
                return Err(fail(json, None, ErrorKind::InvalidInput, &message));
            }
        }
    }
    recipe.aspect = match (opts.aspect, base) {
        (Some(a), _) => a,
        (None, Some(b)) => b.aspect,
        (None, None) if recipe.inputs.is_empty() => AspectRatio::Ratio(1, 1),
        (None, None) => AspectRatio::Auto,
    };
    if let Some(format) = opts.format {
        recipe.format = format;
    }
    recipe.count = opts.count;
    if opts.size.is_some() {
        recipe.size = opts.size;
    }
    recipe.seed = opts.seed;
    Ok(recipe)
}

/// Says so on stderr when the provider runs in the sandbox.
pub(super) fn announce_sandbox(engine: &Engine, recipe: &Recipe, json: bool) {
    if engine.status(recipe.provider).sandbox && !json {
        eprintln!(
            "sandbox: no key for {} (or --sandbox); images come from the offline fake",
            recipe.provider.label()
        );
    }
}

/// Runs `generate`; returns the exit code.
pub fn run(args: &Args, g: &GenerateArgs) -> i32 {
    let json = g.opts.output.json;
    let engine = match start_engine(args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    engine.cancel_all_on_ctrl_c();
    let recipe = match build_recipe(&engine, &g.prompt, &g.opts, None) {
        Ok(r) => r,
        Err(code) => return code,
    };
    announce_sandbox(&engine, &recipe, json);
    if let Err(e) = engine.submit(recipe) {
        return fail(json, None, ErrorKind::InvalidInput, &e.to_string());
    }
    wait(&engine, &g.opts)
}

pub(super) fn wait(engine: &Engine, g: &RecipeOpts) -> i32 {
    let json = g.output.json;
    let mut job: Option<JobId> = None;
    loop {
        let Some(event) = engine.next_event(Duration::from_secs(3600)) else {
            return fail(json, job, ErrorKind::Timeout, "no answer from the engine");
        };
        match event {
            Event::JobCreated {
                job: id, sandbox, ..
            } => {
                job = Some(id);
                if json {
                    print_json(
                        json!({"event": "state", "job": id, "state": "created", "sandbox": sandbox}),
                    );
                }
            }
            Event::JobState { job: id, state } if Some(id) == job => {
                if json {
                    print_json(json!({"event": "state", "job": id, "state": state.as_str()}));
                } else {
                    eprintln!("job {id}: {}", state.as_str());
                }
            }
            Event::JobProgress { job: id, message } if Some(id) == job => {
                if json {
                    print_json(json!({"event": "progress", "job": id, "message": message}));
                } else {
                    eprintln!("job {id}: {message}");
                }
            }
            Event::JobSucceeded {
                generation,
                warnings,
            } if Some(generation.job.id) == job => {
                for w in &warnings {
                    eprintln!("warning: {w}");
                }
                // `--out` names files by the template Settings keep for every export.
                let (settings, _) = crate::settings::Settings::load(engine.library().root());
                return done(&generation, g, &settings.filename_template);
            }
            Event::JobFailed {
                job: id,
                kind,
                message,
            } if Some(id) == job => {
                return fail(json, Some(id), kind, &message);
            }
            Event::SubmitFailed { message } => {
                return fail(json, job, ErrorKind::Storage, &message);
            }
            _ => {}
        }
    }
}

/// An image as the `--json` contract shows it.
pub(super) fn image_json(image: &ImageRecord, path: &Path) -> serde_json::Value {
    json!({"id": image.id, "path": path, "width": image.width, "height": image.height, "mime": image.mime})
}

fn done(generation: &Generation, g: &RecipeOpts, template: &str) -> i32 {
    let json = g.output.json;
    let mut images = Vec::new();
    for image in &generation.images {
        let mut path = image.path.clone();
        if let Some(dir) = &g.out {
            let name = crate::library::export::file_name(template, &generation.job, image);
            let target = free_path(dir, &name);
            let copied =
                std::fs::create_dir_all(dir).and_then(|()| std::fs::copy(&image.path, &target));
            if let Err(e) = copied {
                let message = format!("--out: could not write {}: {e}", target.display());
                return fail(json, Some(generation.job.id), ErrorKind::Storage, &message);
            }
            path = target;
        }
        images.push((image, path));
    }
    if json {
        let list: Vec<_> = images.iter().map(|(i, path)| image_json(i, path)).collect();
        print_json(
            json!({"event": "done", "job": generation.job.id, "images": list,
            "text": generation.job.text, "cost_usd": generation.job.cost_usd, "sandbox": generation.job.sandbox}),
        );
    } else {
        for (_, path) in &images {
            out!("{}", path.display());
        }
        if let Some(text) = &generation.job.text {
            eprintln!("model: {text}");
        }
    }
    0
}
