//! `banana-studio refine IMAGE_ID PROMPT [opts]`: continue from a stored image.

use clap::Args as ClapArgs;

use super::generate::{RecipeOpts, announce_sandbox, build_recipe, fail, wait};
use super::{Args, start_engine};
use crate::library::ImageId;
use crate::providers::ErrorKind;

/// Options of `refine`.
#[derive(Debug, ClapArgs)]
pub struct RefineArgs {
    /// The stored image to continue from (an id from `history` or `generate --json`).
    pub image: ImageId,
    /// What to change.
    pub prompt: String,
    #[command(flatten)]
    pub opts: RecipeOpts,
}

/// Runs `refine`; returns the exit code.
pub fn run(args: &Args, r: &RefineArgs) -> i32 {
    let json = r.opts.output.json;
    let engine = match start_engine(args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    engine.cancel_all_on_ctrl_c();
    let parent = engine
        .library()
        .image(r.image)
        .ok()
        .flatten()
        .and_then(|image| engine.library().job(image.job_id).ok().flatten());
    let Some(parent) = parent else {
        let message = format!(
            "image {} is not in the history; see `banana-studio history`",
            r.image
        );
        return fail(json, None, ErrorKind::InvalidInput, &message);
    };
    let recipe = match build_recipe(&engine, &r.prompt, &r.opts, Some(&parent.recipe)) {
        Ok(recipe) => recipe,
        Err(code) => return code,
    };
    announce_sandbox(&engine, &recipe, json);
    if let Err(e) = engine.refine(r.image, recipe) {
        return fail(json, None, ErrorKind::InvalidInput, &e.to_string());
    }
    wait(&engine, &r.opts)
}
