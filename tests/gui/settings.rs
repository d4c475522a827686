//! GUI tests of Settings and the welcome, with keys in keyring-core's mock store (never a
//! real keychain): a key saved from the dialog lands in the store, Test reports success
//! against the fake and failure for a bad key, Cancel discards edits, Apply keeps them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;

use std::sync::Arc;
use std::time::Duration;

use banana_studio::keys::{EnvLookup, KeyOrigin, KeySource, Keyring, SecureStore};
use banana_studio::recipe::ProviderId;
use banana_studio::settings::Settings;
use egui_kittest::kittest::Queryable;
use gui_support::{app_with_keys, step_until, type_into};

fn mock_keyring() -> Arc<Keyring> {
    let secure = SecureStore {
        store: keyring_core::mock::Store::new().unwrap(),
        name: "the mock store".to_owned(),
    };
    let no_env: EnvLookup = Arc::new(|_| None);
    Arc::new(Keyring::new(Some(secure), None, no_env))
}

/// Whether some node's label contains `text` (a row and its toast may both say it).
fn shows(h: &egui_kittest::Harness<'static, banana_studio::gui::BananaApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// Clicks the button labelled `button`, then steps until `done` holds (10 s at most).
fn press_until(
    h: &mut egui_kittest::Harness<'static, banana_studio::gui::BananaApp>,
    button: &str,
    what: &str,
    done: impl Fn(&egui_kittest::Harness<'static, banana_studio::gui::BananaApp>) -> bool,
) {
    h.get_by_label(button).click();
    step_until(h, Duration::from_secs(10), what, done);
}

#[test]
fn settings_save_a_key_test_it_and_cancel_discards_edits() {
    let dir = tempfile::tempdir().unwrap();
    let keys = mock_keyring();
    let mut harness = app_with_keys(dir.path(), keys.clone(), true);
    harness.step();
    // The sandbox's own fake accepts its key, so Test can be pointed at it.
    let fake_url = gui_support::sandbox().gemini().unwrap().base_url();
    harness.get_by_label("Settings…").click();
    step_until(&mut harness, Duration::from_secs(5), "the dialog", |h| {
        h.query_by_label("Gemini API key").is_some()
    });
    type_into(&mut harness, "Gemini API key", "sandbox-key");
    press_until(&mut harness, "Save key", "the saved key", |h| {
        shows(h, "Key saved (keychain: the mock store)")
    });
    assert_eq!(
        keys.key(ProviderId::Gemini).1,
        KeyOrigin::Keychain("the mock store".into())
    );
    assert_eq!(
        keys.key(ProviderId::Gemini).0.unwrap().expose(),
        "sandbox-key"
    );
    // Removed, and saved again: each answer reaches the row and the store.
    press_until(&mut harness, "Remove key", "the removed key", |h| {
        shows(h, "Key removed")
    });
    assert!(
        keys.key(ProviderId::Gemini).0.is_none(),
        "gone from the store"
    );
    type_into(&mut harness, "Gemini API key", "sandbox-key");
    press_until(&mut harness, "Save key", "the key saved again", |h| {
        keys.key(ProviderId::Gemini).0.is_some() && shows(h, "Key saved")
    });

    type_into(&mut harness, "Gemini API base URL", &fake_url);
    harness.get_by_label("Test").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "a working key",
        |h| shows(h, "Key works: ") && shows(h, "image models available"),
    );
    type_into(&mut harness, "Gemini API key", "not-the-key");
    harness.get_by_label("Test").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "a rejected key",
        |h| shows(h, "Key rejected"),
    );

    // Cancel drops the base URL edit and the template edit.
    type_into(&mut harness, "File names", "{prompt}.{ext}");
    harness.get_by_label("Cancel").click();
    harness.run_steps(3);
    assert!(harness.query_by_label("Gemini API key").is_none(), "closed");
    let (saved, _) = Settings::load(dir.path());
    assert_eq!(
        saved.filename_template,
        Settings::default().filename_template
    );
    assert_eq!(saved.base_url(ProviderId::Gemini), None);

    harness.get_by_label("Settings…").click();
    step_until(
        &mut harness,
        Duration::from_secs(5),
        "the dialog again",
        |h| h.query_by_label("File names").is_some(),
    );
    let template = harness
        .get_by_label("File names")
        .value()
        .unwrap_or_default();
    assert_eq!(
        template,
        Settings::default().filename_template,
        "the edit was dropped"
    );
    type_into(&mut harness, "File names", "{prompt}_{n}.{ext}");
    harness.get_by_label("Apply").click();
    step_until(
        &mut harness,
        Duration::from_secs(5),
        "saved settings",
        |_| Settings::load(dir.path()).0.filename_template == "{prompt}_{n}.{ext}",
    );

    // Remove takes it out of the store again.
    harness.get_by_label("Settings…").click();
    step_until(&mut harness, Duration::from_secs(5), "the dialog", |h| {
        h.query_by_label("Remove key").is_some()
    });
    harness.get_by_label("Remove key").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the removed key",
        |_| keys.key(ProviderId::Gemini).1 == KeyOrigin::NotSet,
    );
}

#[test]
fn first_start_without_a_key_explains_the_sandbox_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_with_keys(dir.path(), mock_keyring(), false);
    step_until(&mut harness, Duration::from_secs(5), "the welcome", |h| {
        h.query_by_label("Welcome to Banana Studio").is_some()
    });
    assert!(harness.query_by_label_contains("sandbox mode").is_some());
    harness.get_by_label("Start in the sandbox").click();
    harness.run_steps(3);
    assert!(harness.query_by_label("Welcome to Banana Studio").is_none());
    drop(harness);
    let mut again = app_with_keys(dir.path(), mock_keyring(), false);
    again.run_steps(5);
    assert!(
        again.query_by_label("Welcome to Banana Studio").is_none(),
        "shown once"
    );
}

#[test]
fn the_key_test_works_for_eachlabs_oxen_and_vydra() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app_with_keys(dir.path(), mock_keyring(), true);
    harness.step();
    let (urls, key) = {
        let sandbox = gui_support::sandbox();
        (
            [
                (
                    ProviderId::Eachlabs,
                    sandbox.eachlabs().unwrap().base_url(),
                    "image models available",
                ),
                (
                    ProviderId::Oxen,
                    sandbox.oxen().unwrap().base_url(),
                    "3 image models available",
                ),
                (
                    ProviderId::Vydra,
                    sandbox.vydra().unwrap().base_url(),
                    "1000 credits left",
                ),
            ],
            "sandbox-key",
        )
    };
    harness.get_by_label("Settings…").click();
    step_until(&mut harness, Duration::from_secs(5), "the dialog", |h| {
        h.query_by_label("Gemini API key").is_some()
    });
    // Only one provider open at a time, so one Test button is in view.
    harness.get_by_label("Gemini API").click();
    harness.run_steps(3);
    for (provider, url, found) in urls {
        let name = provider.label();
        harness.get_by_label(name).click();
        step_until(&mut harness, Duration::from_secs(5), "the section", |h| {
            h.query_by_label(&format!("{name} key")).is_some()
        });
        type_into(&mut harness, &format!("{name} key"), key);
        type_into(&mut harness, &format!("{name} base URL"), &url);
        harness.get_by_label("Test").click();
        step_until(&mut harness, Duration::from_secs(10), found, |h| {
            shows(h, "Key works: ") && shows(h, found)
        });
        type_into(&mut harness, &format!("{name} key"), "not-the-key");
        harness.get_by_label("Test").click();
        step_until(
            &mut harness,
            Duration::from_secs(10),
            "a rejected key",
            |h| shows(h, &format!("Key rejected: {name}")),
        );
        harness.get_by_label(name).click();
        harness.run_steps(3);
    }
}

/// Settings, "Check the library": the check runs with progress and reports its finding
/// in the dialog; a file removed behind the app's back is named.
#[test]
fn settings_check_the_library_reports_what_it_found() {
    let dir = tempfile::tempdir().unwrap();
    let library = banana_studio::library::Library::open(dir.path()).unwrap();
    library
        .fill_sample(banana_studio::library::SampleSpec {
            jobs: 3,
            images_per_job: 2,
            edge: 32,
        })
        .unwrap();
    drop(library);
    let mut harness = gui_support::app(dir.path());
    harness.step();
    harness.get_by_label("Settings…").click();
    step_until(&mut harness, Duration::from_secs(5), "the dialog", |h| {
        h.query_by_label("Check the library").is_some()
    });
    // The form scrolls: folding the open provider brings the library part into view,
    // as a person would.
    harness.get_by_label("Gemini API").click();
    harness.run_steps(3);
    press_until(&mut harness, "Check the library", "the finding", |h| {
        shows(h, "The library is sound")
    });
    assert!(shows(&harness, "all 6 image files check out"));

    let gone = std::fs::read_dir(dir.path().join("images"))
        .unwrap()
        .flatten()
        .flat_map(|fan| std::fs::read_dir(fan.path()).unwrap().flatten())
        .next()
        .unwrap()
        .path();
    std::fs::remove_file(gone).unwrap();
    press_until(&mut harness, "Check the library", "the missing file", |h| {
        shows(h, "1 of 6 image files are missing")
    });
}
