//! GUI tests per provider: switch to it in the app and generate through its fake; the
//! gallery shows provider, time and cost; Vydra's credits left are shown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;

use std::time::Duration;

use banana_studio::gui::BananaApp;
use banana_studio::recipe::ProviderId;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::{app, step_until, type_prompt};

/// Picks a provider in the sandbox, generates `prompt`, waits for the result.
fn switch_and_generate(
    harness: &mut Harness<'static, BananaApp>,
    provider: ProviderId,
    prompt: &str,
) {
    harness.step();
    harness.get_by_label("Provider").click();
    harness.run_steps(2);
    harness
        .get_by_label(&format!("{} (sandbox)", provider.label()))
        .click();
    harness.run_steps(2);
    let banner = format!("SANDBOX MODE: no {} key is set", provider.label());
    assert!(
        harness.query_by_label_contains(&banner).is_some(),
        "{banner}"
    );
    type_prompt(harness, prompt);
    harness.get_by_label("Generate").click();
    let label = format!("Image 1 of job 1: {prompt}");
    step_until(harness, Duration::from_secs(30), "the result", |h| {
        h.state().gallery().generations().len() == 1 && h.query_by_label_contains(&label).is_some()
    });
    let g = &harness.state().gallery().generations()[0];
    assert_eq!(g.job.recipe.provider, provider);
    let meta = format!("{} · ", provider.label());
    assert!(
        harness.query_by_label_contains(&meta).is_some(),
        "the gallery names the provider"
    );
    assert!(
        harness.query_by_label_contains(" · took ").is_some(),
        "and the time"
    );
}

#[test]
fn switching_to_eachlabs_generates_through_a_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    switch_and_generate(&mut harness, ProviderId::Eachlabs, "an eachlabs banana");
    let sandbox = gui_support::sandbox();
    let fake = sandbox.eachlabs().unwrap();
    assert_eq!(fake.creates(), 1);
    assert!(fake.polls() >= 3, "polled through created and processing");
}

#[test]
fn switching_to_oxen_generates_synchronously() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    switch_and_generate(&mut harness, ProviderId::Oxen, "an oxen banana");
    let sandbox = gui_support::sandbox();
    let fake = sandbox.oxen().unwrap();
    assert_eq!((fake.sync_calls(), fake.queue_calls()), (1, 0));
}

#[test]
fn switching_to_vydra_generates_and_shows_credits() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    switch_and_generate(&mut harness, ProviderId::Vydra, "a vydra banana");
    assert_eq!(gui_support::sandbox().vydra().unwrap().calls(), 1);
    step_until(&mut harness, Duration::from_secs(10), "credits left", |h| {
        h.query_by_label_contains("Vydra: 992 credits left")
            .is_some()
    });
    assert!(harness.query_by_label_contains(" · 8 credits").is_some());
}

#[test]
fn the_same_recipe_on_another_provider_sits_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    gui_support::generate_in_app(&mut harness, "a recipe to compare");
    gui_support::leave_text_fields(&mut harness);
    harness.get_by_label("More actions").click();
    harness.run_steps(2);
    harness.get_by_label("Same recipe on…").click();
    step_until(&mut harness, Duration::from_secs(5), "the menu", |h| {
        h.query_by_label("Vydra").is_some()
    });
    harness.get_by_label("Vydra").click();
    step_until(&mut harness, Duration::from_secs(30), "both runs", |h| {
        h.state().gallery().generations().len() == 2
            && h.state()
                .gallery()
                .generations()
                .iter()
                .all(|g| !g.images.is_empty())
    });
    assert!(
        harness
            .query_by_label_contains("Job 1's recipe on every provider, side by side")
            .is_some()
    );
    let gens = harness.state().gallery().generations();
    let providers: Vec<_> = gens.iter().map(|g| g.job.recipe.provider).collect();
    assert_eq!(providers, vec![ProviderId::Vydra, ProviderId::Gemini]);
    assert_eq!(gens[0].job.same_recipe_of, Some(gens[1].job.id));
    assert_eq!(gens[0].job.recipe.prompt, "a recipe to compare");
    // A third provider later joins the same family, and Show all lists everything.
    let vydra_job = gens[0].job.id;
    harness
        .state_mut()
        .engine()
        .rerun_on(vydra_job, ProviderId::Oxen);
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the third run",
        |h| h.state().gallery().generations().len() == 3,
    );
    assert_eq!(
        harness.state().gallery().generations()[0]
            .job
            .same_recipe_of,
        Some(1),
        "linked to the family's first job"
    );
    harness.get_by_label("Show all").click();
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label_contains("recipe on every provider")
            .is_none()
    );
}
