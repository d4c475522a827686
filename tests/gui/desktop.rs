//! GUI tests of the app as a desktop app: notices (toasts with their action, the status-bar
//! history, notices logged away from the window), the dark and light looks and following
//! the system's, 200% scale, every control named for assistive technology, and the
//! shortcuts not covered elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;

use std::time::Duration;

use banana_studio::gui::BananaApp;
use banana_studio::library::Flag;
use banana_studio::notify::{NoticeLayer, Notices, TARGET};
use banana_studio::settings::Theme;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::{
    app, app_custom, click_empty_viewer, generate_in_app, leave_text_fields, shows, step_until,
    type_prompt,
};
use tracing_subscriber::layer::SubscriberExt;

/// Text anti-aliasing may move a few pixels between runs; a broken view moves thousands.
fn snapshot_options() -> egui_kittest::SnapshotOptions {
    egui_kittest::SnapshotOptions::new().max_failed_pixels(300)
}

fn themed(dir: &std::path::Path, theme: Theme, system: egui::Theme) -> Harness<'static, BananaApp> {
    let mut harness = app_custom(
        dir,
        |s| s.theme = theme,
        |b| b.with_theme(system),
        Notices::default(),
    );
    harness.input_mut().system_theme = Some(system);
    harness
}

/// Steps until the empty window has settled (models listed, status bar drawn).
fn settle(harness: &mut Harness<'static, BananaApp>) {
    step_until(harness, Duration::from_secs(10), "the window", |h| {
        h.query_by_label("Ready").is_some()
            && h.query_by_label("No images in this session yet.").is_some()
    });
    harness.run_steps(4);
}

fn dark_mode(harness: &Harness<'static, BananaApp>) -> bool {
    harness.ctx.global_style().visuals.dark_mode
}

#[test]
fn a_failed_job_says_why_with_retry_and_the_status_bar_keeps_every_notice() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    type_prompt(&mut harness, "[fake:blocked-prompt] a cat");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(30), "the failure", |h| {
        h.query_by_label("Retry job #1").is_some()
    });
    // The toast's own Retry runs the recipe again (a new job, failing the same way).
    harness.get_by_label("Retry job #1").click();
    step_until(&mut harness, Duration::from_secs(30), "the retry", |h| {
        h.query_by_label("Retry job #2").is_some()
    });
    assert!(
        harness
            .query_all_by_label_contains("Job #2 failed:")
            .count()
            >= 1
    );
    // The status bar shows the newest and counts the failures not yet looked at.
    assert!(
        harness
            .query_by_label_contains("Notices (2, 2 failed)")
            .is_some()
    );
    harness
        .get_by_label_contains("Notices (2, 2 failed)")
        .click();
    step_until(&mut harness, Duration::from_secs(5), "the history", |h| {
        h.query_by_label("Clear").is_some()
    });
    // Job 1's toast went with its Retry click; the history keeps it, Retry included.
    // Job 2's failure is in its toast and in the history.
    assert!(harness.query_by_label_contains("Job #1 failed:").is_some());
    assert!(harness.query_by_label("Retry job #1").is_some());
    assert!(harness.query_all_by_label("Retry job #2").count() >= 2);
    harness.check_accessibility();
    harness.get_by_label("Clear").click();
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("Notices (0)").is_some());
}

#[test]
fn a_finished_job_is_announced_and_dismissing_keeps_it_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a lemon on a plate");
    step_until(&mut harness, Duration::from_secs(5), "the toast", |h| {
        h.query_by_label("Job #1 done: 1 image").is_some()
    });
    while harness.query_all_by_label("Dismiss").next().is_some() {
        harness
            .query_all_by_label("Dismiss")
            .next()
            .unwrap()
            .click();
        harness.run_steps(2);
    }
    // Gone from the corner, still the newest in the status bar.
    assert!(
        harness
            .query_by_label_contains("Job #1 done: 1 image")
            .is_some()
    );
    assert!(harness.query_by_label_contains("Notices (").is_some());
}

#[test]
fn notices_logged_away_from_the_window_reach_it() {
    let dir = tempfile::tempdir().unwrap();
    let notices = Notices::default();
    let mut harness = app_custom(dir.path(), |_| {}, |b| b, notices.clone());
    harness.step();
    // What the engine's threads or the key store log with the notice target.
    let subscriber = tracing_subscriber::registry().with(NoticeLayer::new(notices));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("an ordinary line stays in the log");
        tracing::error!(
            target: TARGET,
            retry_job = 41,
            "Job #41: the history could not record its failure (disk full)"
        );
    });
    step_until(&mut harness, Duration::from_secs(5), "the notice", |h| {
        h.query_by_label("Job #41: the history could not record its failure (disk full)")
            .is_some()
    });
    assert!(harness.query_by_label("Retry job #41").is_some());
    assert!(
        harness
            .query_by_label_contains("an ordinary line")
            .is_none()
    );
    assert!(
        harness
            .query_by_label_contains("Notices (1, 1 failed)")
            .is_some()
    );
}

#[test]
fn the_main_window_in_the_dark_look() {
    let dir = tempfile::tempdir().unwrap();
    // The system says light; the setting says dark and wins.
    let mut harness = themed(dir.path(), Theme::Dark, egui::Theme::Light);
    settle(&mut harness);
    assert!(dark_mode(&harness));
    harness.check_accessibility();
    harness.snapshot_options("main_window_dark", &snapshot_options());
}

#[test]
fn the_main_window_in_the_light_look() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = themed(dir.path(), Theme::Light, egui::Theme::Dark);
    settle(&mut harness);
    assert!(!dark_mode(&harness));
    harness.check_accessibility();
    harness.snapshot_options("main_window_light", &snapshot_options());
}

#[test]
fn follow_the_system_takes_the_systems_look_and_settings_switch_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = themed(dir.path(), Theme::System, egui::Theme::Light);
    settle(&mut harness);
    assert!(!dark_mode(&harness), "the system is light");
    harness.input_mut().system_theme = Some(egui::Theme::Dark);
    harness.run_steps(3);
    assert!(dark_mode(&harness), "the system turned dark");
    // Settings: Theme → Light, Apply.
    harness.get_by_label("Settings…").click();
    step_until(&mut harness, Duration::from_secs(5), "settings", |h| {
        h.query_by_label("Theme").is_some()
    });
    harness.get_by_label("Theme").click();
    harness.run_steps(3);
    harness.get_by_label("Light").click();
    harness.run_steps(2);
    harness.get_by_label("Apply").click();
    harness.run_steps(3);
    assert!(!dark_mode(&harness), "the setting wins over the system");
}

#[test]
fn at_200_percent_the_window_is_whole_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_custom(
        dir.path(),
        |s| s.theme = Theme::Dark,
        // A 2720x1720 screen at 200%: the same room, in points, as 1360x860 at 100%.
        |b| b.with_pixels_per_point(2.0),
        Notices::default(),
    );
    settle(&mut harness);
    let screen = harness.ctx.content_rect();
    for label in [
        "Generate",
        "Settings…",
        "Shortcuts",
        "Search prompts",
        "Ready",
    ] {
        let rect = harness.get_by_label(label).rect();
        assert!(
            screen.contains_rect(rect),
            "{label} at {rect:?} is on screen {screen:?}"
        );
    }
    harness.snapshot_options("main_window_200pct", &snapshot_options());
}

#[test]
fn every_control_has_a_name_in_every_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    harness.check_accessibility();
    generate_in_app(&mut harness, "a pear");
    harness.get_by_label("Refine").click();
    harness.run_steps(2);
    generate_in_app(&mut harness, "now make it blue");
    harness.check_accessibility();
    // Each dialog and view, opened in turn.
    let views: [(&str, &str); 7] = [
        ("Settings…", "Gemini API key"),
        ("Shortcuts", "Keyboard shortcuts"),
        ("Compare", "Before/after"),
        ("Compare", "Difference"),
        ("Filters", "Favourites only"),
        ("Save selected to folder…", "File names"),
        ("Lineage", "Parent #"),
    ];
    for (open, shown) in views {
        harness.get_by_label(open).click();
        step_until(&mut harness, Duration::from_secs(10), shown, |h| {
            h.query_by_label_contains(shown).is_some()
        });
        harness.check_accessibility();
        if harness.query_by_label("Cancel").is_some() {
            harness.get_by_label("Cancel").click();
        } else {
            harness.key_press(egui::Key::Escape);
        }
        harness.run_steps(3);
    }
    harness.get_by_label_contains("Notices (").click();
    harness.run_steps(3);
    harness.check_accessibility();
}

#[test]
fn ctrl_o_opens_the_file_dialog_or_says_none_can_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    // Test machines have no desktop portal and no zenity: the app must say so.
    step_until(&mut harness, Duration::from_secs(20), "the answer", |h| {
        h.query_by_label_contains("No file dialog can open")
            .is_some()
    });
    // Then a path typed in adds the image.
    let photo = dir.path().join("photo.png");
    image::RgbImage::from_pixel(60, 40, image::Rgb([10, 100, 200]))
        .save(&photo)
        .unwrap();
    gui_support::type_into(
        &mut harness,
        "Image file path (several: one per line)",
        &photo.display().to_string(),
    );
    harness.get_by_label("Add").click();
    step_until(&mut harness, Duration::from_secs(20), "the input", |h| {
        h.state().ui_state().draft.inputs.len() == 1
    });
}

#[test]
fn arrow_keys_walk_images_and_generations() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "first");
    generate_in_app(&mut harness, "second");
    let gens = harness.state().gallery().generations().to_vec();
    // Newest first: "second" is shown.
    let (newest, older) = (gens[0].images[0].id, gens[1].images[0].id);
    assert_eq!(harness.state().gallery().selected, Some(newest));
    leave_text_fields(&mut harness);
    harness.key_press(egui::Key::ArrowDown);
    harness.run_steps(2);
    assert_eq!(
        harness.state().gallery().selected,
        Some(older),
        "Down: older"
    );
    harness.key_press(egui::Key::ArrowUp);
    harness.run_steps(2);
    assert_eq!(
        harness.state().gallery().selected,
        Some(newest),
        "Up: newer"
    );
    harness.key_press(egui::Key::ArrowRight);
    harness.run_steps(2);
    assert_eq!(
        harness.state().gallery().selected,
        Some(older),
        "Right: next"
    );
    harness.key_press(egui::Key::ArrowLeft);
    harness.run_steps(2);
    assert_eq!(
        harness.state().gallery().selected,
        Some(newest),
        "Left: back"
    );
}

#[test]
fn every_culling_key_marks_the_selection() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "cull me");
    leave_text_fields(&mut harness);
    let id = harness.state().gallery().selected.unwrap();
    let image = |h: &Harness<'static, BananaApp>| h.state().gallery().image(id).unwrap().1.clone();
    let ratings = [
        (egui::Key::Num1, 1),
        (egui::Key::Num2, 2),
        (egui::Key::Num3, 3),
        (egui::Key::Num4, 4),
        (egui::Key::Num5, 5),
        (egui::Key::Num0, 0),
    ];
    for (key, stars) in ratings {
        harness.key_press(key);
        harness.run_steps(2);
        assert_eq!(image(&harness).rating, stars, "{key:?}");
    }
    for (key, flag) in [
        (egui::Key::P, Flag::Pick),
        (egui::Key::X, Flag::Reject),
        (egui::Key::U, Flag::Unflagged),
    ] {
        harness.key_press(key);
        harness.run_steps(2);
        assert_eq!(image(&harness).flag, flag, "{key:?}");
    }
    harness.key_press(egui::Key::F);
    harness.run_steps(2);
    assert!(image(&harness).favourite);
    harness.key_press(egui::Key::F);
    harness.run_steps(2);
    assert!(!image(&harness).favourite, "F again takes it back");
}

#[test]
fn ctrl_v_with_an_image_files_path_adds_it_as_an_input_but_in_the_prompt_it_is_text() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.png");
    image::RgbImage::from_pixel(64, 48, image::Rgb([200, 120, 40]))
        .save(&photo)
        .unwrap();
    let mut harness = app(dir.path());
    harness.step();
    // In the prompt, a pasted path is just text.
    harness
        .get_by_label("Describe the image, or what to change")
        .click();
    harness.run_steps(2);
    harness.event(egui::Event::Paste(photo.display().to_string()));
    harness.run_steps(3);
    assert_eq!(
        harness.state().ui_state_draft_prompt(),
        photo.display().to_string()
    );
    assert!(harness.state().draft_inputs().is_empty());
    // Outside text fields (as a file manager's Copy gives it, quoted), it is an input.
    click_empty_viewer(&mut harness);
    harness.event(egui::Event::Paste(format!("\"{}\"", photo.display())));
    step_until(&mut harness, Duration::from_secs(20), "the input", |h| {
        h.state().draft_inputs().len() == 1
    });
    assert_eq!(
        (
            harness.state().draft_inputs()[0].width,
            harness.state().draft_inputs()[0].height
        ),
        (64, 48)
    );
}

#[test]
fn a_job_ending_while_the_window_is_in_the_background_asks_for_attention() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    let asked = |h: &Harness<'static, BananaApp>| {
        h.output()
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .is_some_and(|v| {
                v.commands
                    .iter()
                    .any(|c| matches!(c, egui::ViewportCommand::RequestUserAttention(_)))
            })
    };
    // In front: a finished job does not call for attention.
    generate_in_app(&mut harness, "in front");
    assert!(!asked(&harness));
    type_prompt(&mut harness, "behind");
    harness.get_by_label("Generate").click();
    harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .focused = Some(false);
    step_until(&mut harness, Duration::from_secs(30), "the request", asked);
}

/// Asks the window to close, as the window manager's close button does.
fn request_close(harness: &mut Harness<'static, BananaApp>) {
    harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
}

fn sent(harness: &Harness<'static, BananaApp>, wanted: &egui::ViewportCommand) -> bool {
    harness
        .output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .is_some_and(|v| v.commands.iter().any(|c| c == wanted))
}

/// Types a prompt the sandbox answers slowly, generates, and waits until it runs.
fn start_slow_job(harness: &mut Harness<'static, BananaApp>, prompt: &str) {
    type_prompt(harness, prompt);
    harness.get_by_label("Generate").click();
    step_until(harness, Duration::from_secs(20), "the job to run", |h| {
        h.state()
            .jobs()
            .jobs()
            .first()
            .is_some_and(|j| j.state == banana_studio::library::JobState::Running)
    });
}

#[test]
fn closing_with_a_job_running_asks_and_never_cancels_in_silence() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    start_slow_job(&mut harness, "a slow lighthouse [fake:slow]");

    // The close is held and the question shown.
    request_close(&mut harness);
    harness.step();
    assert!(sent(&harness, &egui::ViewportCommand::CancelClose));
    harness.run_steps(2);
    assert!(shows(&harness, "1 job is still running (sandbox, free)"));
    // Back: nothing changes, the job goes on.
    harness.get_by_label("Back").click();
    harness.run_steps(2);
    assert!(!harness.state().is_asking_to_close());
    assert!(harness.state().jobs().any_active());

    // Cancel them and quit: the job ends Cancelled, then the window closes.
    request_close(&mut harness);
    harness.run_steps(3);
    harness.get_by_label("Cancel them and quit").click();
    step_until(&mut harness, Duration::from_secs(20), "the close", |h| {
        sent(h, &egui::ViewportCommand::Close)
    });
    assert_eq!(
        harness.state().jobs().jobs()[0].state,
        banana_studio::library::JobState::Cancelled
    );
}

#[test]
fn wait_and_close_when_done_closes_after_the_job_and_a_forced_exit_leaves_it_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut harness = app(dir.path());
        harness.step();
        start_slow_job(&mut harness, "a slow one [fake:slow]");
        request_close(&mut harness);
        harness.run_steps(3);
        harness.get_by_label("Wait and close when done").click();
        harness.run_steps(2);
        assert!(shows(&harness, "Closing when the jobs are done"));
        assert!(!sent(&harness, &egui::ViewportCommand::Close));
        step_until(&mut harness, Duration::from_secs(30), "the close", |h| {
            sent(h, &egui::ViewportCommand::Close)
        });
        assert_eq!(
            harness.state().jobs().jobs()[0].state,
            banana_studio::library::JobState::Succeeded
        );
    }
    // A job still running when the process goes away anyway (the window dropped without
    // asking) is not cancelled: the next start shows it Interrupted, with Retry.
    {
        let mut harness = app(dir.path());
        harness.step();
        start_slow_job(&mut harness, "cut off [fake:slow]");
    }
    let mut harness = app(dir.path());
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the interrupted job",
        |h| {
            h.state()
                .jobs()
                .jobs()
                .iter()
                .any(|j| j.state == banana_studio::library::JobState::Interrupted)
        },
    );
    assert!(shows(&harness, "Retry"));
}
