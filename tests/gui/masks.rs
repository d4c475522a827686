//! The mask painter: paint a region of the first input, use it, generate; the result is
//! the photo at its own size with only the painted region changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;
use crate::window::DroppedPath;

use std::sync::Arc;
use std::time::Duration;

use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::{app, shows, step_until, type_prompt};

/// A photo whose left and right halves differ, so a change shows where it is.
fn photo(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("photo.png");
    image::RgbImage::from_fn(320, 200, |x, y| {
        image::Rgb([
            (x % 256) as u8,
            (y % 256) as u8,
            if x < 160 { 40 } else { 220 },
        ])
    })
    .save(&path)
    .unwrap();
    path
}

/// Drags across the mask canvas from one share of it to another.
fn drag(
    harness: &mut egui_kittest::Harness<'static, banana_studio::gui::BananaApp>,
    from: (f32, f32),
    to: (f32, f32),
) {
    drag_on(harness, "Mask canvas", from, to);
}

/// Drags across the canvas named `canvas` from one share of it to another.
fn drag_on(
    harness: &mut egui_kittest::Harness<'static, banana_studio::gui::BananaApp>,
    canvas: &str,
    from: (f32, f32),
    to: (f32, f32),
) {
    let rect = harness.get_by_label(canvas).rect();
    let at = |(x, y): (f32, f32)| {
        egui::pos2(
            rect.min.x + x * rect.width(),
            rect.min.y + y * rect.height(),
        )
    };
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    harness.event(egui::Event::PointerMoved(at(from)));
    harness.step();
    harness.event(button(at(from), true));
    harness.step();
    for i in 1..=8 {
        let t = i as f32 / 8.0;
        harness.event(egui::Event::PointerMoved(at((
            from.0 + (to.0 - from.0) * t,
            from.1 + (to.1 - from.1) * t,
        ))));
        harness.step();
    }
    harness.event(button(at(to), false));
    harness.run_steps(2);
}

#[test]
fn a_painted_region_is_the_only_change_and_the_mask_can_be_edited_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let original = image::open(&path).unwrap().to_rgb8();
    let mut harness = app(dir.path());
    harness.step();
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path)));
    step_until(&mut harness, Duration::from_secs(20), "the input", |h| {
        h.state().draft_inputs().len() == 1
    });
    harness.get_by_label("Paint a region…").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the photo to paint on",
        |h| h.query_by_label("Mask canvas").is_some(),
    );
    assert!(
        harness
            .get_by_label("Use this mask")
            .accesskit_node()
            .is_disabled(),
        "nothing painted yet"
    );
    // A box over the right half, then a brush stroke erased across its middle.
    harness.get_by_label("Rectangle").click();
    harness.step();
    drag(&mut harness, (0.6, 0.1), (0.95, 0.9));
    harness.get_by_label("Undo").click();
    harness.step();
    harness.get_by_label("Redo").click();
    harness.step();
    harness.get_by_label("Use this mask").click();
    step_until(&mut harness, Duration::from_secs(10), "the mask", |h| {
        shows(h, "Masked edit")
    });
    let mask = harness.state().ui_state().draft.mask.clone().unwrap();
    assert_eq!((mask.original.width, mask.original.height), (320, 200));
    assert_eq!(mask.drawing.as_ref().unwrap().shapes.len(), 1);
    type_prompt(&mut harness, "make it glow");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "the result", |h| {
        h.state().gallery().generations().len() == 1
    });
    let generation = harness.state().gallery().generations()[0].clone();
    let result = image::open(&generation.images[0].path).unwrap().to_rgb8();
    assert_eq!(result.dimensions(), (320, 200), "the photo's own size");
    // Left of the box (and its feather) every pixel is the photo's; inside it changed.
    for y in 0..200 {
        for x in 0..170 {
            assert_eq!(
                result.get_pixel(x, y),
                original.get_pixel(x, y),
                "at {x},{y}"
            );
        }
    }
    let changed = (200..300)
        .flat_map(|x| (40..160).map(move |y| (x, y)))
        .filter(|&(x, y)| result.get_pixel(x, y) != original.get_pixel(x, y))
        .count();
    assert!(
        changed > 10_000,
        "the painted region changed ({changed} pixels)"
    );
    // Edit mask opens the drawing again.
    harness.get_by_label("Edit mask…").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the painter again",
        |h| h.query_by_label("Mask canvas").is_some(),
    );
    assert!(
        !harness
            .get_by_label("Use this mask")
            .accesskit_node()
            .is_disabled()
    );
    harness.get_by_label("Remove mask").click();
    harness.run_steps(2);
}

#[test]
fn marks_drawn_on_the_photo_go_with_it_and_can_be_edited_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let mut harness = app(dir.path());
    harness.step();
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path)));
    step_until(&mut harness, Duration::from_secs(20), "the input", |h| {
        h.state().draft_inputs().len() == 1
    });
    harness.get_by_label("Mark up…").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the photo to mark",
        |h| h.query_by_label("Mark-up canvas").is_some(),
    );
    // An arrow, then a label.
    drag_on(&mut harness, "Mark-up canvas", (0.2, 0.8), (0.6, 0.4));
    harness.get_by_label("Text").click();
    harness.step();
    drag_on(&mut harness, "Mark-up canvas", (0.1, 0.1), (0.1, 0.1));
    step_until(
        &mut harness,
        Duration::from_secs(5),
        "the label field",
        |h| h.query_by_label("Label words").is_some(),
    );
    harness.get_by_label("Label words").type_text("brass lamp");
    harness.step();
    harness.get_by_label("Add").click();
    harness.run_steps(2);
    harness.get_by_label("Use these marks").click();
    step_until(&mut harness, Duration::from_secs(10), "the marks", |h| {
        shows(h, "Marked up")
    });
    let markup = harness.state().ui_state().draft.markup.clone().unwrap();
    assert_eq!(markup.marks.len(), 2);
    assert_eq!((markup.guide.width, markup.guide.height), (320, 200));
    type_prompt(&mut harness, "make the marked lamp brass");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "the result", |h| {
        h.state().gallery().generations().len() == 1
    });
    // The service got the clean photo, then the marked-up copy, and words saying so.
    let body = gui_support::sandbox().gemini().unwrap().request_bodies()[0].clone();
    let parts = body["contents"][0]["parts"].as_array().unwrap();
    let images = parts.iter().filter(|p| !p["inlineData"].is_null()).count();
    assert_eq!(images, 2, "{body}");
    let text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
    assert!(
        text.contains("make the marked lamp brass") && text.contains("marks drawn"),
        "{text}"
    );
    // Edit marks opens them again.
    harness.get_by_label("Edit marks…").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the painter again",
        |h| h.query_by_label("Mark-up canvas").is_some(),
    );
    assert!(
        !harness
            .get_by_label("Use these marks")
            .accesskit_node()
            .is_disabled()
    );
}

#[test]
fn a_result_can_be_marked_up_from_its_menu() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    gui_support::generate_in_app(&mut harness, "a desk lamp");
    gui_support::choose(&mut harness, "More actions", "Mark up…");
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the painter on the result",
        |h| h.query_by_label("Mark-up canvas").is_some(),
    );
    let inputs = harness.state().draft_inputs().to_vec();
    assert_eq!(inputs.len(), 1, "the result is the photo to mark");
    let result = harness.state().gallery().generations()[0].images[0].clone();
    assert_eq!(
        (inputs[0].width, inputs[0].height),
        (result.width, result.height)
    );
    drag_on(&mut harness, "Mark-up canvas", (0.2, 0.2), (0.5, 0.5));
    harness.get_by_label("Use these marks").click();
    step_until(&mut harness, Duration::from_secs(10), "the marks", |h| {
        shows(h, "Marked up")
    });
    type_prompt(&mut harness, "make the marked corner gold");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "the edit", |h| {
        h.state().gallery().generations().len() == 2
    });
    // The edit is the result's child in the lineage, and no continuation of its
    // conversation: one turn went out.
    let edit = harness.state().gallery().generations()[0].job.clone();
    assert_eq!(edit.parent_image_id, Some(result.id));
    let bodies = gui_support::sandbox().gemini().unwrap().request_bodies();
    let last = bodies.last().unwrap();
    assert_eq!(last["contents"].as_array().unwrap().len(), 1, "{last}");
}
