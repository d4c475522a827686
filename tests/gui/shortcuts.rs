//! GUI tests of keyboard shortcuts: `?` lists them all, Ctrl+S saves the selection (or says
//! how to select first), Ctrl+, opens Settings, Ctrl+O is taken by the app.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use gui_support::{app, click_empty_viewer, generate_in_app, leave_text_fields, shows, step_until};

#[test]
fn question_mark_lists_every_shortcut_and_esc_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    click_empty_viewer(&mut harness);
    harness.event(egui::Event::Text("?".into()));
    step_until(&mut harness, Duration::from_secs(5), "the list", |h| {
        h.query_by_label("Keyboard shortcuts").is_some()
    });
    for keys in [
        "Ctrl+Enter",
        "Ctrl+V",
        "Ctrl+O",
        "Ctrl+S",
        "Ctrl+,",
        "Esc",
        "1 to 5, 0",
        "?",
    ] {
        assert!(harness.query_by_label(keys).is_some(), "{keys} is listed");
    }
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(harness.query_by_label("Keyboard shortcuts").is_none());
    // The top bar opens it too.
    harness.get_by_label("Shortcuts").click();
    step_until(
        &mut harness,
        Duration::from_secs(5),
        "the list again",
        |h| h.query_by_label("Keyboard shortcuts").is_some(),
    );
}

#[test]
fn typing_a_question_mark_in_the_prompt_is_just_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    harness
        .get_by_label("Describe the image, or what to change")
        .click();
    harness.run_steps(2);
    harness.event(egui::Event::Text("?".into()));
    harness.run_steps(3);
    assert!(harness.query_by_label("Keyboard shortcuts").is_none());
    assert_eq!(harness.state().ui_state_draft_prompt(), "?");
}

#[test]
fn ctrl_s_saves_the_selection_or_says_how_to_select() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    click_empty_viewer(&mut harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    step_until(&mut harness, Duration::from_secs(5), "the hint", |h| {
        shows(h, "Select images first")
    });
    generate_in_app(&mut harness, "a banana to save");
    leave_text_fields(&mut harness);
    harness
        .get_by_label_contains("Image 1 of job 1: a banana to save")
        .click();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    step_until(&mut harness, Duration::from_secs(5), "the dialog", |h| {
        h.query_by_label("Save 1 image to a folder").is_some()
    });
}

#[test]
fn ctrl_comma_opens_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    step_until(&mut harness, Duration::from_secs(5), "settings", |h| {
        h.query_by_label("Gemini API key").is_some()
    });
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(
        harness.query_by_label("Gemini API key").is_none(),
        "Esc closes"
    );
}
