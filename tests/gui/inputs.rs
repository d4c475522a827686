//! GUI tests of the input tray: pasted, dropped and stored inputs, the model's limit, and
//! "Use as input". Each checks what will be sent (the stored pixels), not only a label.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;
use crate::window::DroppedPath;

use std::sync::Arc;
use std::time::Duration;

use banana_studio::gui::BananaApp;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::{app, generate_in_app, mean_difference, step_until, stored_input, type_prompt};

fn photo(dir: &std::path::Path, name: &str, shade: u8) -> std::path::PathBuf {
    let path = dir.join(name);
    image::RgbImage::from_pixel(60, 40, image::Rgb([shade, 100, 200]))
        .save(&path)
        .unwrap();
    path
}

fn pick_flash(harness: &mut Harness<'static, BananaApp>) {
    harness.get_by_label("Model").click();
    harness.run_steps(3);
    harness
        .get_by_label_contains("Nano Banana (gemini-2.5-flash-image)")
        .click();
    harness.run_steps(2);
}

#[test]
fn a_pasted_image_becomes_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    let image = egui::ColorImage::new([40, 30], vec![egui::Color32::DARK_RED; 40 * 30]);
    harness.event(egui::Event::PasteImage(Arc::new(image)));
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the pasted input",
        |h| h.state().draft_inputs().len() == 1,
    );
    assert_eq!(
        (
            harness.state().draft_inputs()[0].width,
            harness.state().draft_inputs()[0].height
        ),
        (40, 30)
    );
    step_until(&mut harness, Duration::from_secs(5), "its preview", |h| {
        h.query_by_label("Input 1, 40x30").is_some()
    });
    assert!(harness.query_by_label("Inputs: 1 of 14").is_some());
    // What will be sent is the pasted picture.
    let stored = stored_input(dir.path(), &harness.state().draft_inputs()[0]);
    let pasted = image::RgbImage::from_pixel(40, 30, image::Rgb([0x8b, 0, 0]));
    assert!(mean_difference(&stored, &pasted) < 3.0, "the pasted pixels");
}

/// An input stored by an earlier run is read back for its preview when a recipe puts it
/// in the tray again (the preview answer of a fresh window).
#[test]
fn a_stored_input_shows_its_preview_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut harness = app(dir.path());
        harness.step();
        let image = egui::ColorImage::new([40, 30], vec![egui::Color32::DARK_RED; 40 * 30]);
        harness.event(egui::Event::PasteImage(Arc::new(image)));
        step_until(&mut harness, Duration::from_secs(20), "the input", |h| {
            h.state().draft_inputs().len() == 1
        });
        type_prompt(&mut harness, "make it blue");
        harness.get_by_label("Generate").click();
        step_until(&mut harness, Duration::from_secs(60), "the edit", |h| {
            h.state().gallery().generations().len() == 1
        });
    }
    let mut harness = app(dir.path());
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the old result",
        |h| h.query_by_label("More actions").is_some(),
    );
    gui_support::choose(&mut harness, "More actions", "Use these settings");
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the stored input's preview",
        |h| h.query_by_label("Input 1, 40x30").is_some(),
    );
    assert_eq!(harness.state().draft_inputs().len(), 1);
}

#[test]
fn a_dropped_file_becomes_an_input_and_can_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path(), "dropped.png", 10);
    let mut harness = app(dir.path());
    harness.step();
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path)));
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the dropped input",
        |h| h.state().draft_inputs().len() == 1,
    );
    let stored = stored_input(dir.path(), &harness.state().draft_inputs()[0]);
    let dropped = image::open(dir.path().join("dropped.png"))
        .unwrap()
        .to_rgb8();
    assert!(
        mean_difference(&stored, &dropped) < 3.0,
        "the dropped file's pixels"
    );
    harness.get_by_label("Remove input 1").click();
    harness.run_steps(2);
    assert!(harness.state().draft_inputs().is_empty());
}

#[test]
fn flash_fourth_input_is_refused_with_the_limit_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    pick_flash(&mut harness);
    for (i, name) in ["a.png", "b.png", "c.png", "d.png"].into_iter().enumerate() {
        let path = photo(dir.path(), name, 40 * i as u8);
        harness
            .input_mut()
            .dropped_files
            .push(Arc::new(DroppedPath(path)));
    }
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the limit message",
        |h| {
            // The fourth is refused before it is read; the message stays when the rest arrive.
            h.query_by_label_contains("Nano Banana takes at most 3 input images; not added: d.png")
                .is_some()
                && h.state().draft_inputs().len() == 3
        },
    );
    assert_eq!(
        harness.state().draft_inputs().len(),
        3,
        "the first three stay"
    );
    assert!(harness.query_by_label("Inputs: 3 of 3").is_some());
    // The refused fourth was never stored.
    fn files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |d| {
            d.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    // Three inputs as sent and the three files they came from (kept for masked edits).
    assert_eq!(files(&dir.path().join("inputs")), 6);
}

#[test]
fn use_as_input_takes_the_viewed_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a base picture");
    let viewed = harness
        .state()
        .gallery()
        .selected
        .expect("a result is viewed");
    let record = harness.state().gallery().generations()[0]
        .images
        .iter()
        .find(|i| i.id == viewed)
        .unwrap()
        .clone();
    gui_support::choose(&mut harness, "More actions", "Use as input");
    step_until(&mut harness, Duration::from_secs(20), "the input", |h| {
        h.state().draft_inputs().len() == 1
    });
    // The input is the viewed picture itself, not merely an input.
    let input = &harness.state().draft_inputs()[0];
    assert_eq!((input.width, input.height), (record.width, record.height));
    let stored = stored_input(dir.path(), input);
    let shown = image::open(&record.path).unwrap().to_rgb8();
    assert!(
        mean_difference(&stored, &shown) < 3.0,
        "the viewed image's pixels"
    );
    let other =
        image::RgbImage::from_pixel(record.width, record.height, image::Rgb([128, 128, 128]));
    assert!(
        mean_difference(&stored, &other) > 10.0,
        "the check can tell pictures apart"
    );
}
