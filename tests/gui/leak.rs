//! The leak test: a whole session with a recognisable key (CLI generate, refine, export
//! and keys status against a fake that demands that key; the app generating, refining,
//! saving the key in Settings, saving settings and exporting), then every file under the
//! data folder, the eframe storage file, the log files and the exported images is searched
//! for the key's bytes. None may hold them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use banana_studio::engine::{Engine, EngineConfig};
use banana_studio::fake::FakeGemini;
use banana_studio::gui::BananaApp;
use banana_studio::keys::{EnvLookup, Keyring, SecureStore};
use banana_studio::settings::Settings;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::{generate_in_app, step_until, type_into, type_prompt};

const CANARY: &str = "AIzaLEAKCANARY-7f3a9c2e-do-not-log";

/// eframe storage written to a file, as the app's `app.ron` would be.
struct FileStorage(
    std::path::PathBuf,
    std::collections::BTreeMap<String, String>,
);

impl eframe::Storage for FileStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.1.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.1.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.1.remove(key);
    }
    fn flush(&mut self) {
        std::fs::write(&self.0, format!("{:?}", self.1)).unwrap();
    }
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn cli(data: &Path, fake: &FakeGemini) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_banana-studio"));
    cmd.arg("--data-dir")
        .arg(data)
        .env("GEMINI_API_KEY", CANARY)
        .env("BANANA_STUDIO_GEMINI_BASE_URL", fake.base_url())
        .env("BANANA_STUDIO_KEYSTORE", "memory")
        .env("BANANA_STUDIO_LOG", "debug");
    cmd
}

#[test]
fn no_file_the_app_writes_holds_the_key() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeGemini::start(runtime.handle(), CANARY).unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();

    // The CLI, with the key in its environment, at debug log level.
    let made = cli(data.path(), &fake)
        .args(["generate", "a lighthouse", "--json"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let refined = cli(data.path(), &fake)
        .args(["refine", "1", "at night", "--json"])
        .output()
        .unwrap();
    assert!(
        refined.status.success(),
        "{}",
        String::from_utf8_lossy(&refined.stderr)
    );
    let exported = cli(data.path(), &fake)
        .args(["export", "1", "2", "--to"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(exported.status.success());
    let status = cli(data.path(), &fake)
        .args(["keys", "status", "--json"])
        .output()
        .unwrap();
    for output in [&made, &refined, &exported, &status] {
        let all = [output.stdout.clone(), output.stderr.clone()].concat();
        assert!(
            !String::from_utf8_lossy(&all).contains(CANARY),
            "the CLI printed the key"
        );
    }

    // The app, with the key in a (mock) keychain, talking to the same fake.
    // The file log is what is checked; the terminal stays quiet, since this binary's
    // other tests log through the same global subscriber.
    let guard = banana_studio::logs::init(data.path(), tracing_subscriber::EnvFilter::new("off"));
    let secure = SecureStore {
        store: keyring_core::mock::Store::new().unwrap(),
        name: "the mock store".to_owned(),
    };
    let no_env: EnvLookup = Arc::new(|_| None);
    let keys = Arc::new(Keyring::new(Some(secure), None, no_env));
    let settings = Settings {
        welcomed: true,
        ..Settings::default()
    };
    settings.save(data.path()).unwrap();
    let mut config = EngineConfig::new(data.path(), keys);
    config.set_base_url(banana_studio::recipe::ProviderId::Gemini, fake.base_url());
    let engine = Engine::start(config).unwrap();
    let mut harness = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| BananaApp::new(cc, engine));
    harness.step();
    // Save the key in Settings (and some settings with it).
    harness.get_by_label("Settings…").click();
    step_until(&mut harness, Duration::from_secs(5), "Settings", |h| {
        h.query_by_label("Gemini API key").is_some()
    });
    // The modal centres itself as it learns its height over its first frames.
    harness.run_steps(3);
    type_into(&mut harness, "Gemini API key", CANARY);
    harness.get_by_label("Show").click();
    harness.step();
    harness.get_by_label("Save key").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the saved key",
        |h| h.query_all_by_label_contains("Key saved").next().is_some(),
    );
    // The answer's line made the modal taller; it recentres over a few frames.
    harness.run_steps(3);
    type_into(&mut harness, "Gemini API base URL", &fake.base_url());
    harness.get_by_label("Apply").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the real provider",
        |h| {
            !h.state()
                .engine()
                .status(banana_studio::recipe::ProviderId::Gemini)
                .sandbox
        },
    );
    generate_in_app(&mut harness, "a harbour at dawn");
    harness.get_by_label("Refine").click();
    harness.run_steps(2);
    type_prompt(&mut harness, "with fog");
    harness.get_by_label("Generate").click();
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the refinement",
        |h| h.state().gallery().generations().len() == 4,
    );
    harness.get_by_label("Save selected to folder…").click();
    step_until(
        &mut harness,
        Duration::from_secs(5),
        "the export dialog",
        |h| h.query_by_label("Folder").is_some(),
    );
    type_into(&mut harness, "Folder", &out.path().display().to_string());
    harness.get_by_label("Save").click();
    step_until(&mut harness, Duration::from_secs(10), "the export", |h| {
        h.query_all_by_label_contains("Saved 1 image to")
            .next()
            .is_some()
    });
    let mut storage = FileStorage(data.path().join("app.ron"), Default::default());
    eframe::App::save(harness.state_mut(), &mut storage);
    eframe::Storage::flush(&mut storage);
    drop(harness);
    drop(guard);

    let mut files = Vec::new();
    files_under(data.path(), &mut files);
    files_under(out.path(), &mut files);
    let logs: Vec<_> = files
        .iter()
        .filter(|p| p.to_string_lossy().contains("/logs/"))
        .collect();
    assert!(!logs.is_empty(), "the logs were written");
    let logged: String = logs
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    assert!(
        logged.contains("generateContent") || logged.contains("streamGenerateContent"),
        "requests were logged"
    );
    assert!(files.iter().any(|p| p.ends_with("app.ron")));
    assert!(files.iter().any(|p| p.ends_with("settings.json")));
    assert!(files.iter().filter(|p| p.starts_with(out.path())).count() >= 3);
    let needle = CANARY.as_bytes();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} holds the key",
            path.display()
        );
    }
}
