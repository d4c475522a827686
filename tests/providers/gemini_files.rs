//! Large inputs through the Files API: uploaded once in chunks, named by URI, reused
//! while they live, uploaded again when the service no longer has them; the model's
//! own images stay inline; an upload URL on another host is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use crate::common;
use crate::hostile_support::{Hostile, Reply, http, json};

use banana_studio::keys::Secret;
use banana_studio::providers::gemini::GeminiProvider;
use banana_studio::providers::{CallContext, ErrorKind, Provider, Turn};
use common::{KEY, fast_policy, request, with_input};
use serde_json::{Value, json};

const PRO: &str = "gemini-3-pro-image";

/// A PNG of noise: it does not compress, so its size is about 3 bytes a pixel.
fn noise_png(w: u32, h: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let b = state.to_le_bytes();
        image::Rgb([b[0], b[1], b[2]])
    });
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    );
    image::DynamicImage::ImageRgb8(img)
        .write_with_encoder(encoder)
        .unwrap();
    out
}

fn user_parts(body: &Value) -> Vec<Value> {
    let contents = body["contents"].as_array().unwrap();
    contents
        .iter()
        .filter(|c| c["role"] == "user")
        .flat_map(|c| c["parts"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_input_past_the_inline_limit_goes_up_once_in_chunks_and_is_reused() {
    let fake =
        banana_studio::fake::FakeGemini::start(&tokio::runtime::Handle::current(), KEY).unwrap();
    let provider = GeminiProvider::new(fake.base_url(), Secret::new(KEY), fast_policy())
        .with_inline_limit(4 * 1024 * 1024);
    // Over 8 MiB: two chunks, the second finalizing.
    let big = noise_png(1800, 1700);
    assert!(big.len() > 8 * 1024 * 1024, "{}", big.len());
    let mut req = request("make it warmer", PRO, |_| {});
    with_input(&mut req, "image/png", big.clone());
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    assert_eq!(fake.uploads_finished(), 1);
    let parts = user_parts(&fake.request_bodies()[0]);
    let file = parts
        .iter()
        .find_map(|p| p.get("fileData"))
        .expect("the input named by its upload");
    assert_eq!(file["mimeType"], "image/png");
    assert!(
        file["fileUri"].as_str().unwrap().contains("/v1beta/files/"),
        "{file}"
    );
    assert!(parts.iter().all(|p| p.get("inlineData").is_none()));

    // The same picture again (a variation, a refine): no second upload.
    let mut again = request("make it cooler", PRO, |_| {});
    with_input(&mut again, "image/png", big.clone());
    again.history = vec![Turn {
        prompt: "make it warmer".into(),
        inputs: req.inputs.clone(),
        model_turn: out.turn_with_pictures(0),
    }];
    provider
        .generate(&again, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(fake.uploads_finished(), 1, "the upload is reused");
    assert_eq!(
        fake.returned_signatures(),
        2,
        "the model's turn went back as it came"
    );
    let body = &fake.request_bodies()[1];
    let model_turn = &body["contents"][1];
    assert!(
        model_turn["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.get("inlineData").is_some()),
        "the model's own image stays inline"
    );

    // Two days later the file is gone: it goes up again and the job still succeeds.
    fake.expire_files();
    provider
        .generate(&again, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(fake.uploads_finished(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn small_inputs_stay_inline() {
    let (fake, provider) = common::gemini(fast_policy());
    let mut req = request("make it warmer", PRO, |_| {});
    with_input(&mut req, "image/png", noise_png(200, 200));
    provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(fake.uploads_finished(), 0);
    assert!(
        user_parts(&fake.request_bodies()[0])
            .iter()
            .any(|p| p.get("inlineData").is_some())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fake_files_api_refuses_what_the_service_refuses() {
    let (fake, _) = common::gemini(fast_policy());
    let client = reqwest::Client::new();
    let base = fake.base_url();
    let start = |protocol: &'static str| {
        client
            .post(format!("{base}/upload/v1beta/files"))
            .header("x-goog-api-key", KEY)
            .header("x-goog-upload-protocol", protocol)
            .header("x-goog-upload-command", "start")
            .header("x-goog-upload-header-content-length", "10")
            .header("x-goog-upload-header-content-type", "image/png")
            .body("{}")
    };
    assert_eq!(start("multipart").send().await.unwrap().status(), 400);
    let started = start("resumable").send().await.unwrap();
    assert_eq!(started.status(), 200);
    let url = started.headers()["x-goog-upload-url"]
        .to_str()
        .unwrap()
        .to_owned();
    let wrong_offset = client
        .post(&url)
        .header("x-goog-upload-command", "upload, finalize")
        .header("x-goog-upload-offset", "4")
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_offset.status(), 400);
    let short = client
        .post(&url)
        .header("x-goog-upload-command", "upload, finalize")
        .header("x-goog-upload-offset", "0")
        .body(vec![0u8; 6])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 400, "finalized short of what was declared");

    // A file nobody uploaded (or another key's) is not the caller's to use.
    let body = json!({"contents": [{"role": "user", "parts": [
        {"text": "edit this"},
        {"fileData": {"mimeType": "image/png", "fileUri": format!("{base}/v1beta/files/nope")}}]}]});
    let answer = client
        .post(format!("{base}/v1beta/models/{PRO}:generateContent"))
        .header("x-goog-api-key", KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["error"]["status"], "PERMISSION_DENIED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_url_on_another_host_is_refused_and_the_key_stays_home() {
    let other = Hostile::start("127.0.0.2", Arc::new(|_, _| json(200, "{}"))).await;
    let target = other.base();
    let home = Hostile::start(
        "127.0.0.1",
        Arc::new(move |_, _| {
            let header = format!(
                "x-goog-upload-url: {target}/upload/v1beta/files?upload_id=1\r\nx-goog-upload-status: active\r\n"
            );
            Reply::Raw(http(200, &header, "application/json", b"{}"))
        }),
    )
    .await;
    let provider =
        GeminiProvider::new(home.base(), Secret::new(KEY), fast_policy()).with_inline_limit(1024);
    let mut req = request("make it warmer", PRO, |_| {});
    with_input(&mut req, "image/png", noise_png(64, 64));
    let err = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert!(err.to_string().contains("another host"), "{err}");
    assert_eq!(other.requests(), 0, "nothing reached the other host");
    assert!(!other.saw(KEY));
}
