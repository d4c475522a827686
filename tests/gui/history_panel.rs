//! GUI tests of the history panel: multi-select and Save selected to folder, sessions,
//! filters, the lineage tree, and a large history that scrolls with bounded textures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::cli_support;
use crate::gui_support;

use std::time::Duration;

use banana_studio::library::{Flag, Library, SampleSpec};
use egui_kittest::kittest::Queryable;
use gui_support::{
    app, generate_in_app, leave_text_fields, shows, step_until, type_into, type_prompt,
};

#[test]
fn ctrl_click_selects_several_and_saves_them_to_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "first banana");
    generate_in_app(&mut harness, "second banana");
    harness
        .get_by_label_contains("Image 1 of job 2: second banana")
        .click();
    harness.run_steps(2);
    assert!(harness.query_by_label("1 selected").is_some());
    harness
        .get_by_label_contains("Image 1 of job 1: first banana")
        .click_modifiers(egui::Modifiers::COMMAND);
    harness.run_steps(2);
    assert!(harness.query_by_label("2 selected").is_some());

    harness.get_by_label("Save selected to folder…").click();
    step_until(&mut harness, Duration::from_secs(5), "the dialog", |h| {
        h.query_by_label("Save 2 images to a folder").is_some()
    });
    assert!(
        harness.query_by_label_contains("For example: ").is_some(),
        "the template shows an example name"
    );
    type_into(&mut harness, "Folder", &out.path().display().to_string());
    harness.get_by_label("Save").click();
    step_until(&mut harness, Duration::from_secs(20), "the files", |h| {
        shows(h, "Saved 2 images to")
    });
    assert!(harness.query_all_by_label("Show folder").next().is_some());
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].contains("first-banana") && names[0].ends_with(".png"),
        "{names:?}"
    );
    assert!(names[1].contains("second-banana"), "{names:?}");
}

#[test]
fn shift_click_selects_a_range_that_delete_trashes_and_undo_restores() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    for p in ["one", "two", "three"] {
        generate_in_app(&mut harness, p);
    }
    harness
        .get_by_label_contains("Image 1 of job 3: three")
        .click();
    harness.run_steps(2);
    harness
        .get_by_label_contains("Image 1 of job 1: one")
        .click_modifiers(egui::Modifiers::SHIFT);
    harness.run_steps(2);
    assert!(harness.query_by_label("3 selected").is_some());
    leave_text_fields(&mut harness);
    harness.key_press(egui::Key::Delete);
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "an empty gallery",
        |h| {
            h.state().gallery().generations().is_empty()
                && h.query_by_label("Moved 3 images to the trash.").is_some()
        },
    );
    harness.get_by_label("Undo").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "all three back",
        |h| h.state().gallery().generations().len() == 3,
    );
}

#[test]
fn a_new_session_starts_empty_and_all_sessions_lists_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut harness = app(dir.path());
        harness.step();
        generate_in_app(&mut harness, "old work");
        gui_support::choose(&mut harness, "Session menu", "New session");
        harness.run_steps(2);
        harness
            .get_by_label("Name of the new session")
            .type_text("Spring campaign");
        harness.step();
        harness.get_by_label("Create").click();
        step_until(
            &mut harness,
            Duration::from_secs(10),
            "an empty session",
            |h| h.query_by_label("No images in this session yet.").is_some(),
        );
        generate_in_app(&mut harness, "new work");
        assert_eq!(harness.state().gallery().generations().len(), 1);
        assert_eq!(
            harness.state().gallery().generations()[0].job.recipe.prompt,
            "new work"
        );
        harness.get_by_label("Session").click();
        harness.run_steps(2);
        harness.get_by_label("All sessions").click();
        step_until(
            &mut harness,
            Duration::from_secs(10),
            "both sessions",
            |h| h.state().gallery().generations().len() == 2,
        );
    }
    // The next start continues in the session used last.
    let mut harness = app(dir.path());
    step_until(&mut harness, Duration::from_secs(20), "the session", |h| {
        h.state().gallery().generations().len() == 1
            && h.root()
                .query_all_by(|n| n.value().as_deref() == Some("Spring campaign"))
                .next()
                .is_some()
    });
    assert_eq!(
        harness.state().gallery().generations()[0].job.recipe.prompt,
        "new work"
    );
}

#[test]
fn the_favourites_filter_narrows_the_gallery() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "plain one");
    generate_in_app(&mut harness, "loved one");
    leave_text_fields(&mut harness);
    harness.key_press(egui::Key::F);
    step_until(&mut harness, Duration::from_secs(10), "the mark", |h| {
        h.query_by_label_contains("loved one (favourite)").is_some()
    });
    harness.get_by_label("Filters").click();
    harness.run_steps(2);
    harness.get_by_label("Favourites only").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "one favourite",
        |h| {
            h.state().gallery().generations().len() == 1
                && h.query_by_label("Filters (1 on)").is_some()
        },
    );
    assert_eq!(
        harness.state().gallery().generations()[0].job.recipe.prompt,
        "loved one"
    );
    harness.get_by_label("Clear filters").click();
    step_until(&mut harness, Duration::from_secs(10), "both again", |h| {
        h.state().gallery().generations().len() == 2
    });
}

#[test]
fn the_lineage_tab_shows_the_family_of_the_selected_image() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "root of the line");
    harness.get_by_label("Refine").click();
    harness.run_steps(2);
    type_prompt(&mut harness, "a child of it");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "the child", |h| {
        h.state().gallery().generations().len() == 2
    });
    harness.get_by_label("Lineage").click();
    step_until(&mut harness, Duration::from_secs(10), "the tree", |h| {
        h.query_by_label_contains("Parent #1 · 0 siblings · 0 children")
            .is_some()
    });
    assert!(
        harness
            .query_by_label_contains("#1 root of the line")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("#2 a child of it")
            .is_some()
    );
    harness.get_by_label_contains("#1 root of the line").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the root's view",
        |h| {
            h.query_by_label_contains("No parent (the line starts here) · 0 siblings · 1 child")
                .is_some()
        },
    );
    assert_eq!(harness.state().gallery().selected, Some(1));
}

#[test]
fn a_large_history_draws_a_screenful_pages_in_and_frees_textures() {
    let dir = tempfile::tempdir().unwrap();
    Library::open(dir.path())
        .unwrap()
        .fill_sample(SampleSpec {
            jobs: 500,
            images_per_job: 4,
            edge: 32,
        })
        .unwrap();
    let mut harness = app(dir.path());
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the first page",
        |h| !h.state().gallery().generations().is_empty(),
    );
    let gallery = harness.state().gallery();
    assert_eq!(
        gallery.generations().len(),
        100,
        "one page is read, not 500"
    );
    assert!(gallery.drawn().len() < 10, "drawn: {:?}", gallery.drawn());
    let on_screen = harness
        .root()
        .query_all_by(|n| n.label().is_some_and(|l| l.starts_with("Image ")))
        .count();
    assert!(on_screen < 40, "{on_screen} thumbnails in the tree");

    let over_gallery = harness.get_by_label("Timeline").rect().center() + egui::vec2(0.0, 300.0);
    harness.event(egui::Event::PointerMoved(over_gallery));
    let mut most = 0;
    for _ in 0..2_000 {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -600.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: egui::Modifiers::NONE,
        });
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
        let app = harness.state();
        most = most.max(app.thumbnail_textures());
        if app.gallery().generations().len() == 500 && app.gallery().drawn().end == 500 {
            break;
        }
    }
    let app = harness.state();
    assert_eq!(app.gallery().generations().len(), 500, "every page came in");
    assert_eq!(app.gallery().drawn().end, 500, "scrolled to the end");
    assert!(
        app.thumbnails_loaded() > 600,
        "loaded {} thumbnails on the way",
        app.thumbnails_loaded()
    );
    assert!(most <= 600, "at most the budget held at once, saw {most}");
}

#[test]
fn a_new_result_matching_the_search_joins_the_filtered_gallery() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a red fox");
    type_into(&mut harness, "Search prompts", "whale");
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "an empty search",
        |h| h.state().gallery().generations().is_empty(),
    );
    type_prompt(&mut harness, "a blue whale");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(30), "the whale", |h| {
        let g = h.state().gallery().generations();
        g.len() == 1 && g[0].job.recipe.prompt == "a blue whale"
    });
}

/// Every shown image's marks: (rating, flag, favourite).
fn marks(
    harness: &egui_kittest::Harness<'static, banana_studio::gui::BananaApp>,
) -> Vec<(u8, Flag, bool)> {
    harness
        .state()
        .gallery()
        .generations()
        .iter()
        .flat_map(|g| g.images.iter())
        .map(|i| (i.rating, i.flag, i.favourite))
        .collect()
}

#[test]
fn typing_a_session_name_never_changes_images_and_marks_undo_with_ctrl_z() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a fox");
    leave_text_fields(&mut harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(2);
    let before = marks(&harness);
    assert_eq!(before, vec![(0, Flag::Unflagged, false)]);

    // Rename: the field takes the keyboard at once; the words go into it.
    gui_support::choose(&mut harness, "Session menu", "Rename session");
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    for key in [egui::Key::F, egui::Key::P, egui::Key::Num5, egui::Key::X] {
        harness.key_press(key);
    }
    harness.event(egui::Event::Text(
        "fp5x Client shoot, autumn campaign".into(),
    ));
    harness.run_steps(2);
    assert_eq!(marks(&harness), before, "typing changed images");
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, Duration::from_secs(10), "the new name", |h| {
        h.query_by_value("fp5x Client shoot, autumn…").is_some()
    });
    assert_eq!(marks(&harness), before);

    // Outside text fields the keys mark the selection, and Ctrl+Z takes each back.
    leave_text_fields(&mut harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.key_press(egui::Key::Num4);
    harness.run_steps(2);
    harness.key_press(egui::Key::F);
    harness.run_steps(2);
    assert_eq!(marks(&harness), vec![(4, Flag::Unflagged, true)]);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    assert_eq!(marks(&harness), vec![(4, Flag::Unflagged, false)]);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    assert_eq!(marks(&harness), before);
}

#[test]
fn a_long_session_name_is_cut_after_a_word_and_shown_whole_on_hover() {
    assert_eq!(
        banana_studio::gui::short_session_name("Client shoot autumn campaign 2026", 22),
        "Client shoot autumn…"
    );
    assert_eq!(banana_studio::gui::short_session_name("Short", 22), "Short");
}

#[test]
fn generations_a_cli_run_adds_show_up_in_the_open_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "made in the app");
    // Another process on the same library while the app is open.
    let output = cli_support::cli(dir.path())
        .args(["--sandbox", "generate", "made by a script"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The app looks about once a second; well within a few seconds it is listed.
    step_until(
        &mut harness,
        Duration::from_secs(5),
        "the CLI's image",
        |h| {
            h.state()
                .gallery()
                .generations()
                .iter()
                .any(|g| g.job.recipe.prompt == "made by a script")
        },
    );
    // And the app's own job was not marked Interrupted by the CLI starting.
    assert!(
        harness
            .state()
            .jobs()
            .jobs()
            .iter()
            .all(|j| j.state != banana_studio::library::JobState::Interrupted)
    );
}
