//! The whole window at the sizes designers work at (1024x700, 1366x768, 1920x1080), in
//! both looks: a snapshot of each, and a check over the accessibility tree that no
//! control is cut off by the window or overlaps another.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;
use std::time::Duration;

use banana_studio::gui::BananaApp;
use banana_studio::notify::Notices;
use banana_studio::settings::Theme;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::{app_custom, generate_in_app, leave_text_fields, step_until};

/// The roles a user clicks, types into or drags.
fn is_control(role: egui::accesskit::Role) -> bool {
    use egui::accesskit::Role;
    matches!(
        role,
        Role::Button
            | Role::CheckBox
            | Role::RadioButton
            | Role::ComboBox
            | Role::TextInput
            | Role::MultilineTextInput
            | Role::SpinButton
            | Role::Slider
            | Role::Link
    )
}

/// Every control in the tree with its name and rectangle.
fn controls(harness: &Harness<'static, BananaApp>) -> Vec<(String, egui::Rect)> {
    harness
        .root()
        .children_recursive()
        .filter(|n| is_control(n.accesskit_node().role()))
        .map(|n| {
            let name = n
                .accesskit_node()
                .label()
                .or_else(|| n.accesskit_node().value())
                .unwrap_or_default();
            (name, n.rect())
        })
        .collect()
}

/// No control reaches past the window's edge, and no two controls overlap.
fn assert_layout_holds(harness: &Harness<'static, BananaApp>, what: &str) {
    let screen = harness.ctx.content_rect();
    let controls = controls(harness);
    assert!(
        controls.len() > 20,
        "{what}: only {} controls",
        controls.len()
    );
    // A control wholly outside the window is scrolled out of a panel's view; one that
    // straddles the window's edge is cut off by it.
    let controls: Vec<(String, egui::Rect)> = controls
        .into_iter()
        .filter(|(_, r)| r.intersects(screen))
        .collect();
    // The prompt form scrolls above the Generate bar: a control half under the bar's
    // top edge is clipped by the form's scroll area (accesskit gives unclipped rects),
    // however far below it reaches. The bar starts with the cost line.
    let bar_top = harness.get_by_label_contains("Sandbox: free").rect().top() - 2.0;
    let panel_right = harness.get_by_label("Generate").rect().right() + 8.0;
    let controls: Vec<(String, egui::Rect)> = controls
        .into_iter()
        .filter(|(name, r)| name == "Generate" || !(r.left() < panel_right && r.bottom() > bar_top))
        .collect();
    for (name, rect) in &controls {
        assert!(
            screen.expand(0.5).contains_rect(*rect),
            "{what}: {name:?} at {rect:?} is cut off by the window {screen:?}"
        );
    }
    for (i, (a, ra)) in controls.iter().enumerate() {
        for (b, rb) in &controls[i + 1..] {
            let overlap = ra.intersect(*rb);
            // Touching edges are fine; a shared area of more than a pixel is not.
            if overlap.width() > 1.0 && overlap.height() > 1.0 {
                panic!("{what}: {a:?} at {ra:?} overlaps {b:?} at {rb:?}");
            }
        }
    }
}

/// The app in the sandbox at `size`, in `theme`.
fn app_at(dir: &std::path::Path, size: [f32; 2], theme: Theme) -> Harness<'static, BananaApp> {
    app_custom(
        dir,
        |s| s.theme = theme,
        |b| b.with_size(size),
        Notices::default(),
    )
}

/// The window at `size` in `theme` with one result in the viewer and the gallery,
/// checked and snapshotted.
fn window_at(size: [f32; 2], theme: Theme) {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_at(dir.path(), size, theme);
    harness.step();
    generate_in_app(&mut harness, "a lemon on a plate");
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the full image",
        |h| h.state().viewer_ready() && h.state().thumbnail_textures() > 0,
    );
    // The finished job and its notice go, as a designer clears them.
    harness.get_by_label("Dismiss all").click();
    harness.run_steps(2);
    while harness.query_all_by_label("Dismiss").next().is_some() {
        harness
            .query_all_by_label("Dismiss")
            .next()
            .unwrap()
            .click();
        harness.run_steps(2);
    }
    leave_text_fields(&mut harness);
    harness.run_steps(4);
    let name = format!(
        "window_{}x{}_{}",
        size[0],
        size[1],
        if theme == Theme::Dark {
            "dark"
        } else {
            "light"
        }
    );
    assert_layout_holds(&harness, &name);
    let screen = harness.ctx.content_rect();
    // The result's date and time taken, and the status bar's "n s ago", change.
    let details = harness.get_by_label_contains(" · took ").rect();
    harness.mask(details);
    harness.mask(egui::Rect::from_min_max(
        egui::pos2(0.0, screen.bottom() - 32.0),
        screen.max,
    ));
    let options = egui_kittest::SnapshotOptions::new().max_failed_pixels(300);
    harness.snapshot_options(&name, &options);
}

#[test]
fn at_1024x700_in_the_dark_look() {
    window_at([1024.0, 700.0], Theme::Dark);
}

#[test]
fn at_1024x700_in_the_light_look() {
    window_at([1024.0, 700.0], Theme::Light);
}

#[test]
fn at_1366x768_in_the_dark_look() {
    window_at([1366.0, 768.0], Theme::Dark);
}

#[test]
fn at_1366x768_in_the_light_look() {
    window_at([1366.0, 768.0], Theme::Light);
}

#[test]
fn at_1920x1080_in_the_dark_look() {
    window_at([1920.0, 1080.0], Theme::Dark);
}

#[test]
fn at_1920x1080_in_the_light_look() {
    window_at([1920.0, 1080.0], Theme::Light);
}

#[test]
fn at_1366x768_the_viewer_keeps_most_of_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_at(dir.path(), [1366.0, 768.0], Theme::System);
    harness.step();
    generate_in_app(&mut harness, "a lemon on a plate");
    harness.run_steps(2);
    // The viewer's canvas: from the left of Refine to the right of 100%, from the top of
    // the toolbar to the bottom of the central panel.
    let refine = harness.get_by_label("Refine").rect();
    let actual = harness.get_by_label("100%").rect();
    let width = actual.right() - refine.left();
    assert!(
        width >= 0.55 * 1366.0 - 24.0,
        "the viewer is {width} px of 1366 wide"
    );
    let jobs = harness.get_by_label("Jobs").rect();
    let height = jobs.top() - refine.top();
    assert!(
        height >= 0.6 * 768.0,
        "the viewer is {height} px of 768 high"
    );
    // Hiding the side panels gives the viewer the whole width.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::OpenBracket);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::CloseBracket);
    harness.run_steps(20);
    let wide =
        harness.get_by_label("100%").rect().right() - harness.get_by_label("Refine").rect().left();
    assert!(
        wide > 1300.0,
        "with both panels hidden the viewer is {wide} px wide"
    );
    assert!(!harness.state().ui_state().prompt_panel_open);
}

#[test]
fn the_side_panels_keep_their_width_while_work_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_at(dir.path(), [1366.0, 768.0], Theme::System);
    harness.step();
    harness.run_steps(4);
    let edges = |h: &Harness<'static, BananaApp>| {
        (
            h.get_by_label("Generate").rect().right().round(),
            h.get_by_label("Filters").rect().left().round(),
        )
    };
    let at_start = edges(&harness);
    // Long prompts, results, a failure with its long message, the selection bar.
    generate_in_app(
        &mut harness,
        "a very long prompt about a lighthouse at dusk with waves, gulls, a red boat, fog \
         rolling in over the cliffs and a warm light in every window of the keeper's house",
    );
    generate_in_app(&mut harness, "a second, shorter one");
    gui_support::type_prompt(&mut harness, "[fake:precondition] a failing one");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(30), "the failure", |h| {
        gui_support::shows(h, "#3 Failed")
    });
    leave_text_fields(&mut harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(4);
    assert!(
        gui_support::shows(&harness, "2 selected"),
        "the selection bar is up"
    );
    assert_eq!(edges(&harness), at_start, "the panels' edges moved");
}
