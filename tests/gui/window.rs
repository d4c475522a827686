//! GUI tests with egui_kittest: the app in sandbox mode, driven by label and role.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;

use std::sync::Arc;
use std::time::Duration;

use banana_studio::recipe::ImageSize;

use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::{app, generate_in_app, leave_text_fields, shows, step_until, type_prompt};

#[test]
fn typing_a_prompt_and_clicking_generate_shows_a_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    assert!(
        harness.query_by_label_contains("SANDBOX MODE").is_some(),
        "the sandbox is announced"
    );
    type_prompt(&mut harness, "a teapot shaped like a banana");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "a thumbnail", |h| {
        h.query_by_label_contains("Image 1 of job 1: a teapot shaped like a banana")
            .is_some()
    });
    assert_eq!(harness.state().gallery().generations().len(), 1);
    assert!(harness.query_by_label_contains("Done").is_some());
    // The result is labelled as a stand-in in the viewer and in the gallery.
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the viewer's label",
        |h| h.query_by_label("SANDBOX IMAGE").is_some(),
    );
    assert!(
        harness
            .query_by_label_contains("SANDBOX (not model output)")
            .is_some(),
        "the gallery says the image is not model output"
    );
}

#[test]
fn ctrl_enter_generates_from_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    type_prompt(&mut harness, "keyboard only");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    step_until(&mut harness, Duration::from_secs(60), "the job", |h| {
        !h.state().jobs().jobs().is_empty()
    });
    assert_eq!(harness.state().jobs().jobs()[0].prompt, "keyboard only");
}

#[test]
fn a_disabled_size_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    harness.get_by_label("Model").click();
    harness.run_steps(3);
    harness
        .get_by_label_contains("Nano Banana (gemini-2.5-flash-image)")
        .click();
    harness.step();
    harness.step();
    let size = harness.get_by_label("Size");
    assert!(size.accesskit_node().is_disabled(), "Flash takes no size");
    size.hover();
    step_until(&mut harness, Duration::from_secs(5), "the tooltip", |h| {
        h.query_by_label_contains("Nano Banana does not take a size; pick Nano Banana 2.1")
            .is_some()
    });
}

#[test]
fn a_failed_job_shows_its_message_and_retry() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    type_prompt(&mut harness, "[fake:precondition] a crowd");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "the failure", |h| {
        shows(h, "#1 Failed")
    });
    // Retry takes no click in the moment the job ends: a double-click meant for
    // Cancel never sends a paid job twice.
    assert!(
        harness
            .query_by_label("Retry")
            .is_some_and(|n| egui_kittest::kittest::NodeT::accesskit_node(&n).is_disabled()),
        "Retry waits a moment"
    );
    gui_support::click_when_enabled(&mut harness, "Retry");
    step_until(
        &mut harness,
        Duration::from_secs(60),
        "the retried job",
        |h| h.state().jobs().jobs().len() == 2,
    );
    assert_eq!(
        harness.state().ui_state_draft_prompt(),
        "[fake:precondition] a crowd",
        "the prompt stays in the panel"
    );
}

#[test]
fn a_blocked_image_offers_to_edit_the_prompt_not_to_send_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    type_prompt(&mut harness, "[fake:blocked-image] a crowd");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "the failure", |h| {
        shows(h, "No image: the image was blocked by the safety filter")
    });
    assert!(
        harness.query_by_label("Retry").is_none(),
        "the same request would be refused again"
    );
    type_prompt(&mut harness, "something else");
    harness.get_by_label("Edit the prompt").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().ui_state_draft_prompt(),
        "[fake:blocked-image] a crowd",
        "the refused recipe is back in the panel to change"
    );
}

#[test]
fn history_is_reloaded_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut harness = app(dir.path());
        harness.step();
        type_prompt(&mut harness, "remember me");
        harness.get_by_label("Generate").click();
        step_until(&mut harness, Duration::from_secs(60), "the result", |h| {
            h.state().gallery().generations().len() == 1
        });
    }
    let mut harness = app(dir.path());
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the old thumbnail",
        |h| {
            h.query_by_label_contains("Image 1 of job 1: remember me")
                .is_some()
        },
    );
}

#[test]
fn save_as_without_a_file_dialog_offers_a_path_field() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("exported").join("chosen.jpg");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "save me");
    harness.get_by_label("Save as…").click();
    // Test machines have no desktop portal and no zenity: the app must say so.
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the path field",
        |h| {
            h.query_by_label_contains("No file dialog can open")
                .is_some()
        },
    );
    let field = harness.get_by_label_contains("Type the file path");
    field.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness
        .get_by_label_contains("Type the file path")
        .type_text(target.to_str().unwrap());
    harness.step();
    harness.get_by_label("Save").click();
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the saved file",
        |_| target.exists(),
    );
    let bytes = std::fs::read(&target).unwrap();
    assert_eq!(
        banana_studio::imaging::sniff_mime(&bytes),
        Some("image/jpeg"),
        "the extension picks the format"
    );
    step_until(&mut harness, Duration::from_secs(5), "the toast", |h| {
        shows(h, "Saved ")
    });
}

#[derive(Debug)]
pub(crate) struct DroppedPath(pub(crate) std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn refine_from_a_result_makes_a_child_with_its_parent_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a red chair");
    let parent = harness.state().gallery().generations()[0].images[0].id;
    harness.get_by_label("Refine").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("Refining image 1 of job 1")
            .is_some()
    );
    generate_in_app(&mut harness, "make it blue");
    let child = &harness.state().gallery().generations()[0];
    assert_eq!(child.job.parent_image_id, Some(parent));
    assert_eq!(child.job.recipe.prompt, "make it blue");
}

#[test]
fn compare_shows_the_change_against_the_parent_and_arrows_move_between_images() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a red chair");
    harness.get_by_label("Refine").click();
    harness.run_steps(2);
    generate_in_app(&mut harness, "make it blue");
    let child = harness.state().gallery().generations()[0].images[0].id;
    let parent = harness.state().gallery().generations()[1].images[0].id;
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the child in the viewer",
        |h| h.state().gallery().selected == Some(child),
    );

    gui_support::choose(&mut harness, "Compare", "Before/after");
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the comparison",
        |h| h.query_by_label_contains("vs its parent:").is_some(),
    );
    gui_support::choose(&mut harness, "Compare", "Difference");
    gui_support::choose(&mut harness, "Compare", "Before/after");
    // Dates, elapsed seconds and toasts change from run to run: keep them out.
    harness.mask(egui::Rect::from_min_max(
        egui::pos2(1040.0, 30.0),
        egui::pos2(1400.0, 900.0),
    ));
    harness.mask(egui::Rect::from_min_max(
        egui::pos2(0.0, 720.0),
        egui::pos2(1400.0, 900.0),
    ));
    // Text anti-aliasing may move a few pixels between runs; a broken view moves thousands.
    let options = egui_kittest::SnapshotOptions::new().max_failed_pixels(200);
    harness.snapshot_options("compare_slider", &options);

    // Arrow keys move to the next image once no text field has the keyboard.
    gui_support::choose(&mut harness, "Compare", "Before/after");
    harness.key_press(egui::Key::ArrowRight);
    harness.run_steps(2);
    assert_eq!(harness.state().gallery().selected, Some(parent));
}

#[test]
fn search_narrows_the_gallery() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a red fox in the snow");
    generate_in_app(&mut harness, "a blue whale at dawn");
    harness.get_by_label("Search prompts").click();
    harness.step();
    harness.get_by_label("Search prompts").type_text("whale");
    step_until(&mut harness, Duration::from_secs(10), "one result", |h| {
        h.state().gallery().generations().len() == 1
    });
    assert_eq!(
        harness.state().gallery().generations()[0].job.recipe.prompt,
        "a blue whale at dawn"
    );
}

#[test]
fn keyboard_rating_persists_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut harness = app(dir.path());
        harness.step();
        generate_in_app(&mut harness, "rate me");
        leave_text_fields(&mut harness);
        harness.key_press(egui::Key::Num4);
        harness.key_press(egui::Key::P);
        harness.key_press(egui::Key::F);
        step_until(&mut harness, Duration::from_secs(10), "the marks", |h| {
            h.query_by_label_contains("rate me (rated 4, picked, favourite)")
                .is_some()
        });
        // The app goes away at once: marks asked for must not be lost on quit.
    }
    let mut harness = app(dir.path());
    step_until(
        &mut harness,
        Duration::from_secs(20),
        "the stored marks",
        |h| {
            h.query_by_label_contains("rate me (rated 4, picked, favourite)")
                .is_some()
        },
    );
}

#[test]
fn delete_then_undo_restores_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "keep me");
    let path = harness.state().gallery().generations()[0].images[0]
        .path
        .clone();
    leave_text_fields(&mut harness);
    harness.key_press(egui::Key::Delete);
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the empty gallery",
        |h| h.state().gallery().generations().is_empty() && h.query_by_label("Undo").is_some(),
    );
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the file in the trash",
        |_| !path.exists(),
    );
    harness.get_by_label("Undo").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the image back",
        |h| h.state().gallery().generations().len() == 1,
    );
    assert!(path.exists(), "the file is back in the library");
}

#[test]
fn copy_puts_the_shown_image_on_the_clipboard() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "copy me");
    // Asked for at once, even while the image is still loading: it goes when it can.
    harness.get_by_label("More actions").click();
    harness.run_steps(2);
    harness.get_by_label("Copy").click();
    step_until(&mut harness, Duration::from_secs(10), "the copy", |h| {
        h.output().platform_output.commands.iter().any(
            |c| matches!(c, egui::OutputCommand::CopyImage(image) if image.size == [1024, 1024]),
        )
    });
    step_until(&mut harness, Duration::from_secs(5), "the notice", |h| {
        h.query_by_label("Copied the image to the clipboard")
            .is_some()
    });
}

#[test]
fn a_large_image_opens_at_a_screens_worth_and_zooming_in_loads_every_pixel() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    // A graphics card that takes 8K textures, as most do.
    harness.input_mut().max_texture_side = Some(8192);
    harness.step();
    harness.get_by_label("Aspect ratio").click();
    harness.run_steps(3);
    // 16:9 is down the list, which scrolls: chosen the way a screen reader would.
    harness.get_by_label("16:9").click_accesskit();
    harness.run_steps(2);
    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    gui_support::choose(&mut harness, "Size", "2K");
    let draft = &harness.state().ui_state().draft;
    assert_eq!(
        (draft.aspect.to_string(), draft.size),
        ("16:9".to_owned(), Some(ImageSize::K2))
    );
    generate_in_app(&mut harness, "a wide valley");
    let (width, height) = {
        let g = &harness.state().gallery().generations()[0];
        (g.images[0].width as usize, g.images[0].height as usize)
    };
    assert!(
        width > 2560,
        "wider than a screen's worth: {width}x{height}"
    );
    step_until(&mut harness, Duration::from_secs(20), "the image", |h| {
        h.state().viewer_ready()
    });
    let fitted = [2560, (height * 2560 + width / 2) / width];
    assert_eq!(harness.state().viewer_texture_size(), Some(fitted));
    harness.run_steps(3);
    assert_eq!(
        harness.state().viewer_texture_size(),
        Some(fitted),
        "at Fit a screen's worth is all it needs"
    );
    // Actual pixels: the view asks for all of them, and keeps the image shown meanwhile.
    leave_text_fields(&mut harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num1);
    harness.step();
    assert!(harness.state().viewer_ready());
    step_until(&mut harness, Duration::from_secs(20), "every pixel", |h| {
        h.state().viewer_texture_size() == Some([width, height])
    });
    // Copying takes every pixel too.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    harness.get_by_label("More actions").click();
    harness.run_steps(2);
    harness.get_by_label("Copy").click();
    step_until(&mut harness, Duration::from_secs(20), "the copy", |h| {
        h.output().platform_output.commands.iter().any(
            |c| matches!(c, egui::OutputCommand::CopyImage(image) if image.size == [width, height]),
        )
    });
}

#[test]
fn use_these_settings_puts_the_recipe_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "alpha recipe");
    type_prompt(&mut harness, "something else entirely");
    gui_support::choose(&mut harness, "More actions", "Use these settings");
    assert_eq!(harness.state().ui_state_draft_prompt(), "alpha recipe");
}

#[test]
fn dropping_an_exported_file_offers_its_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "recipe to restore");
    let image = harness.state().gallery().generations()[0].images[0].id;
    let library = banana_studio::library::Library::open(dir.path()).unwrap();
    let exported = banana_studio::library::export::export_image(
        &library,
        image,
        &dir.path().join("out"),
        &banana_studio::library::export::ExportOptions::default(),
    )
    .unwrap();
    type_prompt(&mut harness, "something else");
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(exported)));
    step_until(&mut harness, Duration::from_secs(20), "the offer", |h| {
        h.query_by_label("Restore its recipe").is_some()
    });
    harness.get_by_label("Restore its recipe").click();
    harness.run_steps(2);
    assert_eq!(harness.state().ui_state_draft_prompt(), "recipe to restore");
}

#[test]
fn switching_to_fal_generates_through_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    harness.get_by_label("Provider").click();
    harness.run_steps(2);
    harness.get_by_label("fal.ai (sandbox)").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("SANDBOX MODE: no fal.ai key is set")
            .is_some()
    );
    type_prompt(&mut harness, "a fal banana");
    harness.get_by_label("Generate").click();
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the fal result",
        |h| {
            h.state().gallery().generations().len() == 1
                && h.query_by_label_contains("Image 1 of job 1: a fal banana")
                    .is_some()
        },
    );
    let g = &harness.state().gallery().generations()[0];
    assert_eq!(
        g.job.recipe.provider,
        banana_studio::recipe::ProviderId::Fal
    );
    assert!(gui_support::sandbox().fal().unwrap().submits() >= 1);
}

#[test]
fn a_size_the_new_model_cannot_make_is_said_and_comes_back_with_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    // The count takes the first click.
    harness.get_by_label("Count 3").click();
    harness.run_steps(2);
    assert_eq!(harness.state().ui_state().draft.count, 3);
    // Pro at 2K.
    harness.get_by_label("Size").click();
    harness.run_steps(3);
    harness.get_by_label("2K").click();
    harness.run_steps(2);
    assert_eq!(harness.state().ui_state().draft.size, Some(ImageSize::K2));
    // Nano Banana takes no size: the size goes, in words.
    harness.get_by_label("Model").click();
    harness.run_steps(3);
    harness
        .get_by_label_contains("Nano Banana (gemini-2.5-flash-image)")
        .click();
    harness.run_steps(2);
    assert_eq!(harness.state().ui_state().draft.size, None);
    assert!(shows(&harness, "2K comes back with a model that makes it"));
    // Back on Pro, 2K is back.
    harness.get_by_label("Model").click();
    harness.run_steps(3);
    harness
        .get_by_label_contains("Nano Banana Pro (gemini-3-pro-image)")
        .click();
    harness.run_steps(2);
    assert_eq!(harness.state().ui_state().draft.size, Some(ImageSize::K2));
}

#[test]
fn a_search_that_lists_nothing_leaves_nothing_selected_or_shown() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a teapot");
    assert!(shows(&harness, "1 selected"));
    gui_support::type_into(&mut harness, "Search prompts", "zebra");
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the empty list",
        |h| {
            h.query_by_label("Nothing matches the search and filters.")
                .is_some()
        },
    );
    harness.run_steps(2);
    assert!(!shows(&harness, "1 selected"), "nothing listed is selected");
    assert!(harness.state().gallery().selected.is_none());
    assert!(
        shows(&harness, "Generated images appear here"),
        "the viewer shows no image the list does not"
    );
}

#[test]
fn copy_file_puts_the_files_address_on_the_clipboard() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "a file to share");
    harness.get_by_label("More actions").click();
    harness.run_steps(2);
    harness.get_by_label("Copy file").click();
    harness.step();
    let copied = harness
        .output()
        .platform_output
        .commands
        .iter()
        .find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
        .expect("an address on the clipboard");
    let image = &harness.state().gallery().generations()[0].images[0];
    assert!(copied.starts_with("file:///"), "{copied}");
    assert!(
        copied.ends_with(
            &image
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        ),
        "{copied} names {:?}",
        image.path
    );
}

#[test]
fn holding_z_shows_a_loupe_under_the_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    generate_in_app(&mut harness, "fine detail");
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the full image",
        |h| h.state().viewer_ready(),
    );
    leave_text_fields(&mut harness);
    // A point on the image: below the zoom buttons, in the canvas.
    let at = harness.get_by_label("Fit").rect().center() + egui::vec2(-150.0, 250.0);
    harness.event(egui::Event::PointerMoved(at));
    harness.run_steps(2);
    let before = harness.render().expect("renders");
    let z = |pressed| egui::Event::Key {
        key: egui::Key::Z,
        physical_key: None,
        pressed,
        repeat: false,
        modifiers: egui::Modifiers::NONE,
    };
    harness.event(z(true));
    harness.run_steps(2);
    let with_loupe = harness.render().expect("renders");
    harness.event(z(false));
    harness.run_steps(2);
    let after = harness.render().expect("renders");
    let changed = |a: &image::RgbaImage, b: &image::RgbaImage| {
        a.pixels().zip(b.pixels()).filter(|(x, y)| x != y).count()
    };
    assert!(
        changed(&before, &with_loupe) > 10_000,
        "the loupe draws a magnified square"
    );
    assert!(
        changed(&before, &after) < 2_000,
        "letting go of Z takes it away"
    );
}

#[test]
fn a_template_fills_its_slots_shows_what_is_sent_and_comes_back_with_use_these_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the templates",
        |h| h.query_by_label("Template").is_some(),
    );
    harness.get_by_label("Template").click();
    harness.run_steps(3);
    harness.get_by_label("Studio product shot").click();
    harness.run_steps(2);
    // An empty slot is named and stops Generate.
    assert!(shows(&harness, "slot [PRODUCT] is empty"));
    gui_support::type_into(&mut harness, "Product", "a ceramic mug");
    gui_support::type_into(
        &mut harness,
        "Your words, added after the template",
        "with steam",
    );
    harness
        .get_by_label_contains("What will be sent")
        .scroll_to_me();
    harness.run_steps(3);
    harness.get_by_label_contains("What will be sent").click();
    harness.run_steps(2);
    // What opened below it is scrolled into view, as a person would.
    let over = harness
        .get_by_label_contains("What will be sent")
        .rect()
        .center();
    harness.event(egui::Event::PointerMoved(over));
    for _ in 0..4 {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -200.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run_steps(2);
    }
    let sent = "Professional studio photo of a ceramic mug, centered on a clean white background, \
                softbox lighting, crisp reflections, premium commercial look, high detail, no \
                text, no watermark. with steam";
    assert!(shows(&harness, sent), "the composed prompt is shown");
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "the result", |h| {
        h.state().gallery().generations().len() == 1
    });
    let job = &harness.state().gallery().generations()[0].job;
    assert_eq!(job.recipe.prompt, sent);
    // Away and back: the template, its value and the typed words return, not the sum.
    harness.get_by_label("Template").scroll_to_me();
    harness.run_steps(3);
    harness.get_by_label("Template").click();
    harness.run_steps(3);
    harness.get_by_label("None: type the whole prompt").click();
    harness.run_steps(2);
    type_prompt(&mut harness, "something else");
    gui_support::choose(&mut harness, "More actions", "Use these settings");
    let state = harness.state().ui_state();
    assert_eq!(
        state.library.template.as_deref(),
        Some("Studio product shot")
    );
    assert_eq!(state.library.values["PRODUCT"], "a ceramic mug");
    assert_eq!(state.draft.prompt, "with steam");
}

#[test]
fn a_structured_prompt_writes_its_sections_with_no_text_on_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.step();
    harness.get_by_label("Template").click();
    harness.run_steps(3);
    harness.get_by_label("Structured prompt").click();
    harness.run_steps(2);
    gui_support::type_into(&mut harness, "Goal", "hero image for the shop");
    gui_support::type_into(&mut harness, "Subject", "a ceramic mug");
    harness
        .get_by_label_contains("What will be sent")
        .scroll_to_me();
    harness.run_steps(3);
    harness.get_by_label_contains("What will be sent").click();
    harness.run_steps(2);
    assert!(shows(
        &harness,
        "Goal: hero image for the shop. Subject: a ceramic mug. Constraints: No text unless requested."
    ));
    harness.get_by_label("Generate").click();
    step_until(&mut harness, Duration::from_secs(60), "the result", |h| {
        h.state().gallery().generations().len() == 1
    });
    let job = &harness.state().gallery().generations()[0].job;
    assert!(
        job.recipe
            .prompt
            .starts_with("Goal: hero image for the shop.")
    );
    let structured = job
        .recipe
        .composition
        .as_ref()
        .unwrap()
        .structured
        .as_ref()
        .unwrap();
    assert!(structured.no_text);
}

#[test]
fn a_grounded_result_lists_its_sources_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.run_steps(2);
    harness.get_by_label("Search").click();
    harness.run_steps(3);
    harness.get_by_label("the web").click();
    harness.run_steps(2);
    generate_in_app(&mut harness, "the Eiffel tower at dusk");
    let job = harness.state().gallery().generations()[0].job.clone();
    assert_eq!(job.recipe.search, Some(banana_studio::recipe::Search::Web));
    let grounding = job.grounding.expect("the sources");
    step_until(&mut harness, Duration::from_secs(5), "the sources", |h| {
        shows(h, "Sources:") && shows(h, &grounding.sources[0].title)
    });
    assert!(shows(&harness, "Google Search suggestions:"));
}

#[test]
fn a_recipe_on_a_shut_down_model_offers_its_successor() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = gui_support::app_custom(
        dir.path(),
        |s| s.default_model = Some("gemini-3.1-flash-image".into()),
        |b| b,
        banana_studio::notify::Notices::default(),
    );
    harness.run_steps(2);
    type_prompt(&mut harness, "a lamp from last summer");
    harness.run_steps(2);
    assert!(shows(&harness, "gemini-3.1-flash-image is retired"));
    harness.get_by_label("Use Nano Banana 2.1").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().ui_state().draft.model,
        "gemini-nano-banana-2.1"
    );
    assert!(
        !harness
            .get_by_label("Generate")
            .accesskit_node()
            .is_disabled()
    );
}
