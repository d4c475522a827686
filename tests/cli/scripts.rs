//! The CLI in scripts and against hostile servers: pipes and stderr, every base URL
//! override and Settings, inputs refused before storing, bomb images on every provider,
//! silent servers and redirects away.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::cli_support;
use crate::hostile_support;

use std::path::Path;
use std::sync::{Arc, Mutex};

use banana_studio::fake::FakeGemini;
use banana_studio::recipe::ProviderId;
use base64::Engine as _;
use cli_support::{KEY, cli, cli_against, failing_fake, files_under};
use hostile_support::{
    Hostile, Reply, answer_with_image, bomb_png, http, inflate_damaged_png, json, redirect_away,
};

#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let made = cli(dir.path())
        .args(["--sandbox", "generate", "a paper boat", "--count", "2"])
        .output()
        .unwrap();
    assert_eq!(made.status.code(), Some(0));
    // The reader is gone before the first line is written (`history --json | head -c 0`).
    let mut child = cli(dir.path())
        .args(["history", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn a_failure_is_told_once_and_log_lines_carry_no_colour_into_a_file() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = failing_fake(&rt);
    let dir = tempfile::tempdir().unwrap();
    let output = cli_against(&fake, dir.path(), KEY)
        .args(["generate", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );
    // Progress lines ("job 1: attempt 1 failed ...") aside, the failure is told once.
    let told = stderr
        .lines()
        .filter(|l| l.contains("HTTP 500") && !l.starts_with("job "))
        .count();
    assert_eq!(told, 1, "the error once: {stderr}");
    assert!(stderr.lines().any(|l| l.starts_with("error: ")), "{stderr}");
    // With more logging asked for, still no colour when stderr is not a terminal.
    let output = cli_against(&fake, dir.path(), KEY)
        .env("BANANA_STUDIO_LOG", "debug")
        .args(["history"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DEBUG") || stderr.contains("INFO"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn a_clear_text_override_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for var in [
        "BANANA_STUDIO_GEMINI_BASE_URL",
        "BANANA_STUDIO_FAL_BASE_URL",
        "BANANA_STUDIO_FAL_QUEUE_URL",
        "BANANA_STUDIO_FAL_STORAGE_URL",
        "BANANA_STUDIO_EACHLABS_BASE_URL",
        "BANANA_STUDIO_OXEN_BASE_URL",
        "BANANA_STUDIO_VYDRA_BASE_URL",
    ] {
        let output = cli(dir.path())
            .env("GEMINI_API_KEY", KEY)
            .env(var, "http://127.0.0.1.evil.com:8080")
            .args(["generate", "x"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{var}: {stderr}");
        assert!(stderr.contains(var), "{stderr}");
        assert!(stderr.contains("https://"), "{stderr}");
        assert!(!stderr.contains(KEY));
    }
}

#[test]
fn the_cli_honours_the_base_url_of_settings() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeGemini::start(rt.handle(), KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = serde_json::json!({
        "base_urls": {"gemini": fake.base_url()},
        "concurrency": {"gemini": 1},
    });
    std::fs::write(dir.path().join("settings.json"), settings.to_string()).unwrap();
    let output = cli(dir.path())
        .env("GEMINI_API_KEY", KEY)
        .args(["generate", "a kite", "--count", "3", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(fake.request_count(), 3, "the job went to the Settings host");
}

/// A noisy JPEG (so its scan is long), whole.
fn noisy_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut state = 11u32;
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

#[test]
fn damaged_or_too_many_inputs_are_refused_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let whole = noisy_jpeg(300, 200);
    let good = dir.path().join("good.jpg");
    std::fs::write(&good, &whole).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &whole[..whole.len() / 3]).unwrap();
    let data = dir.path().join("lib");

    // A good input first, then the cut one: exit 2 naming the file, nothing stored.
    let output = cli(&data)
        .args(["--sandbox", "generate", "make it night", "--input"])
        .arg(&good)
        .arg("--input")
        .arg(&cut)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cut.jpg"), "{stderr}");
    assert_eq!(files_under(&data.join("inputs")), 0, "nothing written");

    // More inputs than Nano Banana takes (3): refused before any is read.
    let mut cmd = cli(&data);
    cmd.args([
        "--sandbox",
        "generate",
        "x",
        "--model",
        "gemini-2.5-flash-image",
    ]);
    for _ in 0..4 {
        cmd.arg("--input").arg(&good);
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at most 3"), "{stderr}");
    assert_eq!(files_under(&data.join("inputs")), 0, "nothing written");
}

/// The CLI against a hostile Gemini stand-in, in a fresh data folder.
fn cli_at(data: &Path, base: &str) -> std::process::Command {
    let mut cmd = cli(data);
    cmd.env("GEMINI_API_KEY", KEY)
        .env("BANANA_STUDIO_GEMINI_BASE_URL", base);
    cmd
}

/// A Gemini answer holding one PNG given as base64.
fn answer_holding(b64: &str) -> String {
    format!(
        r#"{{"candidates":[{{"content":{{"parts":[{{"inlineData":{{"mimeType":"image/png","data":"{b64}"}}}}]}},"finishReason":"STOP"}}]}}"#
    )
}

fn stored_images(data: &Path) -> usize {
    files_under(&data.join("images"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_through_the_cli_names_a_bomb_image_a_bad_answer_and_stores_nothing() {
    for id in ProviderId::ALL {
        let base = Arc::new(Mutex::new(String::new()));
        let b = base.clone();
        let server = Hostile::start(
            "127.0.0.1",
            Arc::new(move |method, path| {
                let base = b.lock().unwrap().clone();
                let (status, content_type, body) =
                    answer_with_image(id, &base, method, path, &bomb_png());
                Reply::Raw(http(status, "", &content_type, &body))
            }),
        )
        .await;
        *base.lock().unwrap() = server.base();
        let data = tempfile::tempdir().unwrap();
        let mut cmd = cli(data.path());
        let (key_var, url_vars): (&str, &[&str]) = match id {
            ProviderId::Gemini => ("GEMINI_API_KEY", &["BANANA_STUDIO_GEMINI_BASE_URL"]),
            ProviderId::Fal => (
                "FAL_KEY",
                &[
                    "BANANA_STUDIO_FAL_QUEUE_URL",
                    "BANANA_STUDIO_FAL_STORAGE_URL",
                ],
            ),
            ProviderId::Eachlabs => ("EACHLABS_API_KEY", &["BANANA_STUDIO_EACHLABS_BASE_URL"]),
            ProviderId::Oxen => ("OXEN_API_KEY", &["BANANA_STUDIO_OXEN_BASE_URL"]),
            ProviderId::Vydra => ("VYDRA_API_KEY", &["BANANA_STUDIO_VYDRA_BASE_URL"]),
        };
        cmd.env(key_var, KEY);
        for var in url_vars {
            cmd.env(var, server.base());
        }
        let output = cmd
            .args([
                "generate",
                "a lighthouse",
                "--provider",
                id.as_str(),
                "--json",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(6), "{id}: {stdout} {stderr}");
        assert!(
            stdout.contains(r#""kind":"bad_response""#),
            "{id}: {stdout}"
        );
        assert!(stdout.contains("60000x60000"), "{id}: {stdout}");
        assert_eq!(stored_images(data.path()), 0, "{id}");
        assert!(server.saw(KEY), "{id}: the key went to its own host");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_names_a_bomb_image_a_bad_answer_and_stores_nothing() {
    // As base64 in the URL-safe alphabet without padding (a Python SDK gateway's way).
    let bomb = bomb_png();
    let body = answer_holding(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bomb));
    let server = Hostile::start("127.0.0.1", Arc::new(move |_, _| json(200, &body))).await;
    let data = tempfile::tempdir().unwrap();
    let output = cli_at(data.path(), &server.base())
        .args(["generate", "x", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(6), "{stdout}");
    assert!(stdout.contains(r#""kind":"bad_response""#), "{stdout}");
    assert!(stdout.contains("cannot read"), "{stdout}");
    assert!(stdout.contains("60000x60000"), "{stdout}");
    assert_eq!(stored_images(data.path()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_damaged_inside_whole_chunks_is_kept_and_named_with_a_way_forward() {
    // Whole by its structure, so the job is recorded at once; its thumbnail, made just
    // after, finds the damage, and the user is told before the CLI ends.
    let body =
        answer_holding(&base64::engine::general_purpose::STANDARD.encode(inflate_damaged_png()));
    let server = Hostile::start("127.0.0.1", Arc::new(move |_, _| json(200, &body))).await;
    let data = tempfile::tempdir().unwrap();
    let output = cli_at(data.path(), &server.base())
        .args(["generate", "x", "--json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(stored_images(data.path()), 1, "the paid image is kept");
    assert!(
        stderr.contains("image 1 came damaged from the service")
            && stderr.contains("Retry runs the job again"),
        "{stderr}"
    );
    assert_eq!(files_under(&data.path().join("thumbs")), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_gives_up_on_a_silent_server_after_the_deadline_settings_ask() {
    let server = Hostile::start("127.0.0.1", Arc::new(|_, _| Reply::Hang)).await;
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("settings.json"),
        r#"{"attempt_timeout_secs": 1}"#,
    )
    .unwrap();
    let output = cli_at(data.path(), &server.base())
        .args(["generate", "x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("no answer after 1 s"), "{stderr}");
    assert_eq!(server.requests(), 2);
    assert_eq!(stored_images(data.path()), 0);
    assert!(!stderr.contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_a_redirect_away_and_says_where() {
    let (home, other) = redirect_away().await;
    let data = tempfile::tempdir().unwrap();
    let output = cli_at(data.path(), &home.base())
        .args(["generate", "x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("127.0.0.2"), "{stderr}");
    assert_eq!(other.requests(), 0);
    assert_eq!(stored_images(data.path()), 0);
}
