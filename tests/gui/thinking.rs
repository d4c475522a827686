//! Live thoughts: a thinking model's notes and drafts show above the viewer while the
//! job runs, and in its line in the jobs list; they go when the job ends; the switch in
//! the prompt panel turns them off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use gui_support::{app, step_until, type_prompt};

#[test]
fn thoughts_show_while_the_model_works_and_go_with_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.run_steps(2);
    assert!(
        harness.query_by_label("Show thinking").is_some(),
        "the switch sits under the thinking level of a thinking model"
    );
    type_prompt(&mut harness, "a lighthouse at dusk");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(30), "the thoughts", |h| {
        h.query_by_label("Composing the scene").is_some()
            && h.query_by_label_contains("not a result, not kept")
                .is_some()
    });
    step_until(&mut harness, Duration::from_secs(30), "a draft", |h| {
        h.query_by_label_contains("1 draft").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("a lighthouse at dusk · thinking: ")
            .is_some(),
        "the job's line says what it is thinking about"
    );
    step_until(&mut harness, Duration::from_secs(30), "the result", |h| {
        h.state().gallery().generations().len() == 1 && h.query_by_label("Refine").is_some()
    });
    assert!(
        harness.query_by_label("Composing the scene").is_none(),
        "the thoughts go when the job ends"
    );
    assert_eq!(
        harness.state().gallery().generations()[0].images.len(),
        1,
        "a draft is never a result"
    );

    // Off: the next job runs without streaming.
    harness.get_by_label("Show thinking").click();
    harness.run_steps(2);
    type_prompt(&mut harness, "a lighthouse at dawn");
    harness.get_by_label("Generate").click();
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the second result",
        |h| {
            assert!(h.query_by_label("Composing the scene").is_none());
            h.state().gallery().generations().len() == 2
        },
    );
    let sandbox = gui_support::sandbox();
    let bodies = sandbox.gemini().unwrap().request_bodies();
    assert_eq!(
        bodies[0]["generationConfig"]["thinkingConfig"]["includeThoughts"],
        true
    );
    assert!(
        bodies[1]["generationConfig"]
            .get("thinkingConfig")
            .is_none_or(|t| t.get("includeThoughts").is_none())
    );
    let (settings, _) = banana_studio::settings::Settings::load(dir.path());
    assert!(!settings.show_thinking, "the choice is kept");
}
