//! `banana-studio generate PROMPT [opts]`.

use super::out;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args as ClapArgs;
use serde_json::json;

use super::{Args, JsonFlag, start_engine};
use crate::engine::{Engine, Event, InputSource};
use crate::library::export::free_path;
use crate::library::{BatchState, Generation, ImageRecord, JobId};
use crate::providers::ErrorKind;
use crate::recipe::{AspectRatio, ImageSize, OutputFormat, ProviderId, Recipe};

/// Options of `generate`.
#[derive(Debug, ClapArgs)]
pub struct GenerateArgs {
    /// What to draw (with --template: words added after the filled template).
    #[arg(required_unless_present = "template")]
    pub prompt: Option<String>,
    #[command(flatten)]
    pub opts: RecipeOpts,
}

/// The recipe and output options shared by `generate`, `refine` and `batch`.
#[derive(Clone, Debug, ClapArgs)]
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
    /// minimal, low, medium or high: how long the model thinks, where it lets you choose.
    #[arg(long, value_name = "LEVEL")]
    pub thinking: Option<crate::recipe::ThinkingLevel>,
    /// web, image or web+image: Google Search grounding, where the model has it.
    #[arg(long, value_name = "KIND")]
    pub search: Option<crate::recipe::Search>,
    /// Input image to edit (repeatable).
    #[arg(long = "input", value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// Copy the images into this folder too.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A prompt template by name (see `templates`); fill its [SLOTS] with --var.
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// A template slot's value, as SLOT=VALUE (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
    /// A style by name, said after the prompt (repeatable, in order; see `styles`).
    #[arg(long = "style", value_name = "NAME")]
    pub styles: Vec<String>,
    /// A brand kit by name: its prefix, suffix and reference images (see `brands`).
    #[arg(long, value_name = "NAME")]
    pub brand: Option<String>,
    /// A masked edit of the first --input: white = change, black = keep (scaled to the
    /// input when its size differs); the result is the input at its own size with only
    /// the white region changed.
    #[arg(long, value_name = "FILE")]
    pub mask: Option<PathBuf>,
    /// How many pixels a masked edit blends into what is kept.
    #[arg(long, value_name = "PX", default_value_t = 8.0, requires = "mask")]
    pub feather: f32,
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
            composition: None,
            mask: None,
            markup: None,
            final_of: None,
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
    if opts.thinking.is_some() {
        recipe.thinking = opts.thinking;
    }
    if opts.search.is_some() {
        recipe.search = opts.search;
    }
    if let Some(mask) = &opts.mask {
        recipe.mask = Some(
            store_mask(
                engine,
                mask,
                opts.inputs.first().map(PathBuf::as_path),
                opts.feather,
            )
            .map_err(|message| fail(json, None, ErrorKind::InvalidInput, &message))?,
        );
    }
    apply_prompt_library(engine, &mut recipe, prompt, opts)
        .map_err(|message| fail(json, None, ErrorKind::InvalidInput, &message))?;
    Ok(recipe)
}

/// Checks the --mask file against the first input and keeps both: the photo losslessly
/// at its own size (the answer is put back into it) and the mask at that size, as PNGs.
fn store_mask(
    engine: &Engine,
    path: &Path,
    photo: Option<&Path>,
    feather: f32,
) -> Result<crate::recipe::MaskSpec, String> {
    let photo =
        photo.ok_or("--mask edits the first --input: give the photo to edit with --input")?;
    if !(0.0..=256.0).contains(&feather) {
        return Err("--feather: give 0 to 256 pixels".into());
    }
    let photo_bytes = std::fs::read(photo)
        .map_err(|e| format!("--input: could not read {}: {e}", photo.display()))?;
    let original = crate::imaging::decode(&photo_bytes).map_err(|e| format!("--input: {e}"))?;
    let (ow, oh) = (original.width(), original.height());
    let original_png = crate::imaging::encode(
        &image::DynamicImage::ImageRgba8(original.to_rgba8()),
        crate::recipe::OutputFormat::Png,
    )
    .map_err(|e| format!("--input: {e}"))?;
    let bytes = std::fs::read(path)
        .map_err(|e| format!("--mask: could not read {}: {e}", path.display()))?;
    let mask =
        crate::imaging::mask::load_mask(&bytes, ow, oh).map_err(|e| format!("--mask: {e}"))?;
    let png = crate::imaging::encode(
        &image::DynamicImage::ImageLuma8(mask),
        crate::recipe::OutputFormat::Png,
    )
    .map_err(|e| format!("--mask: {e}"))?;
    let library = engine.library();
    let sha256 = library
        .put_input_file(&png, "image/png")
        .map_err(|e| format!("--mask: {e}"))?;
    let original_sha = library
        .put_input_file(&original_png, "image/png")
        .map_err(|e| format!("--input: {e}"))?;
    let png_image = |sha256: String| crate::recipe::InputImage {
        sha256,
        mime: "image/png".to_owned(),
        width: ow,
        height: oh,
    };
    Ok(crate::recipe::MaskSpec {
        image: png_image(sha256),
        original: png_image(original_sha),
        feather_px: feather,
        drawing: None,
    })
}

/// The prompt-library item `--{flag} name` names, or words listing the ones there are.
fn find_item<T: crate::library::prompts::PromptItem>(
    library: &crate::library::Library,
    flag: &str,
    name: &str,
) -> Result<T, String> {
    let all = library.prompt_items::<T>().map_err(|e| e.to_string())?;
    let known: Vec<String> = all.iter().map(|(t, _)| format!("{:?}", t.name())).collect();
    all.into_iter()
        .map(|(item, _)| item)
        .find(|item| item.name().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            format!(
                "--{flag}: there is no {flag} named {name:?}; the {flag}s are {}",
                if known.is_empty() {
                    "none yet".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
}

/// Puts the prompt together from --template/--var, --style and --brand (the one rule,
/// `compose`), records how, and adds the styles' and kit's reference images the model
/// has room for (saying which are left out). Bad input is named; nothing is stored.
fn apply_prompt_library(
    engine: &Engine,
    recipe: &mut Recipe,
    typed: &str,
    opts: &RecipeOpts,
) -> Result<(), String> {
    use crate::recipe::compose::{BrandKit, Style, Template, assemble, compose};
    if opts.template.is_none() && opts.styles.is_empty() && opts.brand.is_none() {
        if !opts.vars.is_empty() {
            return Err("--var fills a template's slots: name the template with --template".into());
        }
        return Ok(());
    }
    let library = engine.library();
    let template = opts
        .template
        .as_deref()
        .map(|name| find_item::<Template>(library, "template", name))
        .transpose()?;
    if template.is_none() && !opts.vars.is_empty() {
        return Err("--var fills a template's slots: name the template with --template".into());
    }
    let mut values = std::collections::BTreeMap::new();
    for var in &opts.vars {
        let (key, value) = var
            .split_once('=')
            .ok_or_else(|| format!("--var {var:?}: write it as SLOT=VALUE"))?;
        values.insert(key.to_owned(), value.to_owned());
    }
    let styles = opts
        .styles
        .iter()
        .map(|name| find_item::<Style>(library, "style", name))
        .collect::<Result<Vec<_>, _>>()?;
    let brand = opts
        .brand
        .as_deref()
        .map(|name| find_item::<BrandKit>(library, "brand", name))
        .transpose()?;
    let style_refs: Vec<&Style> = styles.iter().collect();
    let (composition, mut references) = assemble(
        template.as_ref(),
        &values,
        typed,
        &style_refs,
        brand.as_ref(),
    );
    recipe.prompt = compose(&composition).map_err(|e| {
        let flag = if composition.template.is_some() {
            "--template"
        } else {
            "prompt"
        };
        format!("{flag}: {e}")
    })?;
    recipe.composition = Some(composition);
    // Reference images after the user's own inputs, as many as the model takes.
    let catalog = engine.catalog();
    let room = catalog
        .model(recipe.provider, &recipe.model)
        .map_or(usize::MAX, |m| m.max_inputs as usize)
        .saturating_sub(recipe.inputs.len());
    references.retain(|r| !recipe.inputs.contains(r));
    if references.len() > room {
        let left_out: Vec<String> = references[room..]
            .iter()
            .map(|r| r.sha256.chars().take(12).collect())
            .collect();
        eprintln!(
            "warning: the model takes {room} more input image{}; left out the reference image{} {}",
            if room == 1 { "" } else { "s" },
            if left_out.len() == 1 { "" } else { "s" },
            left_out.join(", ")
        );
        references.truncate(room);
    }
    if !references.is_empty() && recipe.inputs.is_empty() && opts.aspect.is_none() {
        // References are not the picture being edited: keep the square default.
        recipe.aspect = AspectRatio::Ratio(1, 1);
    }
    recipe.inputs.extend(references);
    Ok(())
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
    let recipe = match build_recipe(&engine, g.prompt.as_deref().unwrap_or(""), &g.opts, None) {
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
    wait_jobs(engine, g, 1)
        .first()
        .map_or(0, |ended| ended.code)
}

/// How one job of this run ended.
pub(super) struct Ended {
    /// The exit code it asks for (0 when it succeeded).
    pub code: i32,
    /// What it cost, when it succeeded.
    pub cost_usd: Option<f64>,
}

/// Follows `count` jobs this process submitted to their ends, printing each one's events
/// as `generate` does; returns how each ended, in the order they ended.
pub(super) fn wait_jobs(engine: &Engine, g: &RecipeOpts, count: usize) -> Vec<Ended> {
    let json = g.output.json;
    let mut ours: std::collections::HashSet<JobId> = std::collections::HashSet::new();
    let mut ended = Vec::with_capacity(count);
    let mut last: Option<JobId> = None;
    let (settings, _) = crate::settings::Settings::load(engine.library().root());
    while ended.len() < count {
        let Some(event) = engine.next_event(Duration::from_secs(3600)) else {
            let code = fail(json, last, ErrorKind::Timeout, "no answer from the engine");
            ended.push(Ended {
                code,
                cost_usd: None,
            });
            continue;
        };
        match event {
            Event::JobCreated {
                job: id, sandbox, ..
            } => {
                ours.insert(id);
                last = Some(id);
                if json {
                    print_json(
                        json!({"event": "state", "job": id, "state": "created", "sandbox": sandbox}),
                    );
                }
            }
            Event::JobState { job: id, state } if ours.contains(&id) => {
                if json {
                    print_json(json!({"event": "state", "job": id, "state": state.as_str()}));
                } else {
                    eprintln!("job {id}: {}", state.as_str());
                }
            }
            Event::JobProgress { job: id, message } if ours.contains(&id) => {
                if json {
                    print_json(json!({"event": "progress", "job": id, "message": message}));
                } else {
                    eprintln!("job {id}: {message}");
                }
            }
            Event::JobSucceeded {
                generation,
                warnings,
            } if ours.contains(&generation.job.id) => {
                for w in &warnings {
                    eprintln!("warning: {w}");
                }
                // `--out` names files by the template Settings keep for every export.
                let code = done(&generation, g, &settings.filename_template);
                ended.push(Ended {
                    code,
                    cost_usd: generation.job.cost_usd,
                });
            }
            Event::JobFailed {
                job: id,
                kind,
                message,
            } if ours.contains(&id) => {
                let code = fail(json, Some(id), kind, &message);
                ended.push(Ended {
                    code,
                    cost_usd: None,
                });
            }
            Event::SubmitFailed { message } => {
                let code = fail(json, last, ErrorKind::Storage, &message);
                ended.push(Ended {
                    code,
                    cost_usd: None,
                });
            }
            // The runner's last word (the batch is no longer running, and nothing of it
            // runs): every job it sent has told its end before this. A batch that stopped
            // short (cancelled, or a job that could not be written) sends no more, and
            // the jobs it never sent do not end.
            Event::BatchProgress { summary, .. }
                if summary.running() == 0 && summary.state != BatchState::Running =>
            {
                break;
            }
            _ => {}
        }
    }
    ended
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
        let mut done = json!({"event": "done", "job": generation.job.id, "images": list,
            "text": generation.job.text, "cost_usd": generation.job.cost_usd, "sandbox": generation.job.sandbox});
        // What the service reported using, when it did (the contract's `usage`).
        if let Some(usage) = &generation.job.usage {
            done["usage"] = json!(usage);
        }
        // The pages a grounded answer drew on (the contract's `sources`).
        if let Some(grounding) = &generation.job.grounding {
            done["sources"] = json!(grounding.sources);
        }
        print_json(done);
    } else {
        for (_, path) in &images {
            out!("{}", path.display());
        }
        if let Some(grounding) = &generation.job.grounding {
            for source in &grounding.sources {
                eprintln!("source: {} <{}>", source.title, source.uri);
            }
        }
        if let Some(text) = &generation.job.text {
            eprintln!("model: {text}");
        }
    }
    0
}
