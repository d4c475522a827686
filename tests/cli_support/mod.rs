//! Helpers for tests that run the CLI binary: a command on a data folder that never
//! touches the machine's keychain or inherits its overrides, and its JSON lines.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use banana_studio::fake::{FakeGemini, Fault};
use serde_json::Value;

/// The key the CLI tests' fakes take.
pub const KEY: &str = "cli-test-key-42";

/// The CLI on `data_dir`, with no key or override from the environment.
pub fn cli(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_banana-studio"));
    // Never the machine's keychain in tests.
    cmd.arg("--data-dir")
        .arg(data_dir)
        .env("BANANA_STUDIO_KEYSTORE", "memory");
    for var in [
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "BANANA_STUDIO_GEMINI_BASE_URL",
        "BANANA_STUDIO_FAL_BASE_URL",
        "BANANA_STUDIO_FAL_QUEUE_URL",
        "BANANA_STUDIO_FAL_STORAGE_URL",
        "BANANA_STUDIO_EACHLABS_BASE_URL",
        "BANANA_STUDIO_OXEN_BASE_URL",
        "BANANA_STUDIO_VYDRA_BASE_URL",
        "BANANA_STUDIO_LOG",
        "BANANA_STUDIO_DATA_DIR",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A CLI pointed at a fake in this process, with `key`.
pub fn cli_against(fake: &FakeGemini, data_dir: &Path, key: &str) -> Command {
    let mut cmd = cli(data_dir);
    cmd.env("GEMINI_API_KEY", key)
        .env("BANANA_STUDIO_GEMINI_BASE_URL", fake.base_url());
    cmd
}

/// Stdout's lines, each parsed as JSON.
pub fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Runs `command`, which must exit 0 (else its stderr is shown), and its JSON lines.
pub fn ok_lines(command: &mut Command) -> Vec<Value> {
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    json_lines(&output)
}

/// The last line, which must be a `failed` event.
pub fn last_failed(output: &Output) -> Value {
    let lines = json_lines(output);
    let last = lines.last().cloned().unwrap();
    assert_eq!(last["event"], "failed", "{lines:?}");
    last
}

/// A fake Gemini that answers HTTP 500 to the next four requests.
pub fn failing_fake(rt: &tokio::runtime::Runtime) -> FakeGemini {
    let fake = FakeGemini::start(rt.handle(), KEY).unwrap();
    fake.script(vec![Fault::ServerError(500); 4]);
    fake
}

/// Files under a folder, counted through its subfolders.
pub fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    files_under(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}
