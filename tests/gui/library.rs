//! The Prompt library dialog: a brand kit made in the app applies to what is sent; a
//! reference set kept from the inputs comes back in one click.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;
use crate::window::DroppedPath;

use std::sync::Arc;
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use gui_support::{app, shows, step_until, type_into, type_prompt};

#[test]
fn a_brand_kit_made_in_the_app_is_said_before_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.run_steps(3);
    harness.get_by_label("Library…").click();
    harness.run_steps(4);
    harness.get_by_label("Brand kits").click();
    harness.run_steps(2);
    harness.get_by_label("New").click();
    harness.run_steps(2);
    assert!(shows(&harness, "Give it a name"));
    type_into(&mut harness, "Name", "Acme");
    type_into(
        &mut harness,
        "Said before everything (prefix)",
        "Acme house style:",
    );
    type_into(
        &mut harness,
        "Palette (#rrggbb, comma-separated)",
        "#ff0000, red",
    );
    assert!(
        shows(&harness, "red is not a colour"),
        "a bad swatch is named"
    );
    type_into(
        &mut harness,
        "Palette (#rrggbb, comma-separated)",
        "#ff0000, #00aa00",
    );
    harness.get_by_label("Save item").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the kit listed",
        |h| {
            h.state()
                .prompt_library_names()
                .contains(&"Acme".to_owned())
        },
    );
    harness.get_by_label("Close window").click();
    harness.run_steps(3);
    harness.get_by_label("Brand kit").click();
    harness.run_steps(3);
    harness.get_by_label("Acme").click();
    harness.run_steps(2);
    type_prompt(&mut harness, "a mug");
    harness.run_steps(2);
    let sent = harness.state().composed_prompt().unwrap();
    assert_eq!(sent, "Acme house style: a mug");
}

#[test]
fn a_reference_set_kept_from_the_inputs_comes_back_in_one_click() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mara.png");
    image::RgbImage::from_pixel(40, 40, image::Rgb([10, 200, 30]))
        .save(&path)
        .unwrap();
    let mut harness = app(dir.path());
    harness.step();
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path)));
    step_until(&mut harness, Duration::from_secs(20), "the input", |h| {
        h.state().draft_inputs().len() == 1
    });
    let input = harness.state().draft_inputs()[0].clone();
    gui_support::choose(&mut harness, "Reference sets…", "Keep the inputs as a set…");
    harness.run_steps(4);
    type_into(&mut harness, "Name", "Mara");
    harness.get_by_label("Save item").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the set listed",
        |h| {
            h.state()
                .prompt_library_names()
                .contains(&"Mara".to_owned())
        },
    );
    harness.get_by_label("Close window").click();
    harness.run_steps(3);
    harness.get_by_label("Remove input 1").click();
    harness.run_steps(2);
    assert!(harness.state().draft_inputs().is_empty());
    gui_support::choose(&mut harness, "Reference sets…", "Mara · 1 picture");
    harness.run_steps(2);
    assert_eq!(harness.state().draft_inputs(), &[input]);
    assert!(shows(&harness, "“Mara”: 1 picture added (1 of 14 inputs)"));
}

/// Saves the prompt now in the panel under `name`.
fn save_prompt_as(
    harness: &mut egui_kittest::Harness<'static, banana_studio::gui::BananaApp>,
    prompt: &str,
    name: &str,
) {
    type_prompt(harness, prompt);
    harness.get_by_label("Save this prompt").click();
    harness.run_steps(2);
    type_into(harness, "Name", name);
    harness.get_by_label("Save").click();
    step_until(harness, Duration::from_secs(10), "the saved prompt", |h| {
        h.state().prompt_library_names().contains(&name.to_owned())
    });
}

#[test]
fn saved_prompts_are_found_by_their_words_and_load_in_one_click() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.run_steps(3);
    save_prompt_as(&mut harness, "a red kite over the sea", "Kite");
    save_prompt_as(&mut harness, "a blue mug on oak", "Mug");
    type_prompt(&mut harness, "something else");
    harness.get_by_label("Saved prompts…").click();
    harness.run_steps(3);
    type_into(&mut harness, "Find a saved prompt", "sea");
    harness.run_steps(2);
    assert!(harness.query_by_label("Kite").is_some());
    assert!(harness.query_by_label("Mug").is_none(), "not its words");
    harness.get_by_label("Kite").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().ui_state_draft_prompt(),
        "a red kite over the sea"
    );
}
