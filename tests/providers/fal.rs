//! fal.ai contract tests against its fake: the queue flow with the returned URLs, uploads
//! of local inputs, several images in one request, cancel while queued, every error class
//! mapped to its kind, polling that stops on terminal states, and a slow result that hits
//! the timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::Arc;

use banana_studio::fake::fal::{FakeFal, FalFault};
use banana_studio::keys::Secret;
use banana_studio::providers::fal::FalProvider;
use banana_studio::providers::{
    CallContext, ErrorKind, GenerateRequest, InputBytes, Progress, Provider,
};
use banana_studio::recipe::{AspectRatio, ImageSize, OutputFormat, ProviderId, Recipe};
use common::{
    assert_edit_of_two_tone, assert_polling_stopped, cancel_once_polled, fast_policy, quick_poll,
    recording_ctx, request_on, short_poll_limit, with_two_tone_input,
};

const KEY: &str = "fal-test-key-1234";

fn fal(queue_polls: u32, key: &str) -> (FakeFal, FalProvider) {
    let fake = FakeFal::start(&tokio::runtime::Handle::current(), KEY, queue_polls).unwrap();
    let provider = FalProvider::new(
        fake.queue_base(),
        fake.rest_base(),
        Secret::new(key),
        fast_policy(),
    )
    .with_poll(quick_poll());
    (fake, provider)
}

fn request(prompt: &str, model: &str, edit: impl FnOnce(&mut Recipe)) -> GenerateRequest {
    request_on(ProviderId::Fal, prompt, model, edit)
}

#[tokio::test]
async fn generate_follows_the_queue_and_returns_every_image() {
    let (fake, provider) = fal(2, KEY);
    let req = request("a banana rocket", "fal-ai/nano-banana-pro", |r| {
        r.count = 2;
        r.aspect = AspectRatio::Ratio(16, 9);
        r.size = Some(ImageSize::K2);
        r.format = OutputFormat::Jpeg;
    });
    let (ctx, seen) = recording_ctx();
    let out = provider.generate(&req, &ctx).await.unwrap();
    assert_eq!(out.images.len(), 2, "num_images 2 in one request");
    assert_eq!(fake.submits(), 1);
    for image in &out.images {
        assert_eq!(image.mime, "image/jpeg");
        let decoded = image::load_from_memory(&image.bytes).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (2752, 1536),
            "2K 16:9 from the catalog"
        );
    }
    let body = &fake.request_bodies()[0];
    assert_eq!(body["endpoint"], "fal-ai/nano-banana-pro");
    assert_eq!(body["input"]["resolution"], "2K");
    assert_eq!(body["input"]["aspect_ratio"], "16:9");
    assert_eq!(body["input"]["num_images"], 2);
    let notes: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|p| match p {
            Progress::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("queue, position 1")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n == "fal: Generating image"),
        "{notes:?}"
    );
    // Two polls in the queue, one in progress, one completed: then no more.
    assert_eq!(fake.status_polls(), 4);
}

#[tokio::test]
async fn an_edit_uploads_local_inputs_and_follows_urls_without_the_edit_subpath() {
    let (fake, provider) = fal(1, KEY);
    let mut req = request("make it blue", "fal-ai/nano-banana", |r| {
        r.aspect = AspectRatio::Auto;
        r.count = 2;
    });
    with_two_tone_input(&mut req, 400, 200);
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 2);
    // `auto` follows the 2:1 input: the nearest ratio fal takes is 16:9. The second
    // image comes with only its url (the optional fields are not guaranteed).
    for (n, image) in out.images.iter().enumerate() {
        assert_edit_of_two_tone(&image.bytes, (1344, 768), &format!("image {}", n + 1));
        assert_eq!(
            image.mime,
            "image/png",
            "image {}: sniffed, not told",
            n + 1
        );
    }
    let body = &fake.request_bodies()[0];
    assert_eq!(body["endpoint"], "fal-ai/nano-banana/edit");
    assert_eq!(body["input"]["aspect_ratio"], "auto");
    let url = body["input"]["image_urls"][0].as_str().unwrap();
    assert!(url.contains("/files/"), "a storage file URL: {url}");
}

#[tokio::test]
async fn an_input_fal_storage_refuses_is_invalid_input() {
    let (_fake, provider) = fal(0, KEY);
    let mut req = request("make it blue", "fal-ai/nano-banana", |r| {
        r.inputs = vec![banana_studio::recipe::InputImage {
            sha256: "y".repeat(64),
            mime: "image/png".into(),
            width: 4,
            height: 4,
        }];
    });
    // An input whose bytes are not an image: the fake's storage refuses the upload.
    req.inputs = vec![InputBytes {
        mime: "image/png".into(),
        bytes: Arc::new(b"not an image".to_vec()),
    }];
    let err = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[tokio::test]
async fn cancel_while_queued_calls_the_cancel_url_and_stops_polling() {
    let (fake, provider) = fal(10_000, KEY);
    let req = request("wait in line", "fal-ai/nano-banana", |_| {});
    let ctx = CallContext::detached();
    let (result, at_cancel) = tokio::join!(
        provider.generate(&req, &ctx),
        cancel_once_polled(&ctx, || fake.status_polls())
    );
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(fake.cancels(), 1);
    assert_polling_stopped(at_cancel, fake.status_polls());
}

#[tokio::test]
async fn a_slow_result_hits_the_timeout_and_is_cancelled() {
    let (fake, provider) = fal(0, KEY);
    let provider = provider.with_poll(short_poll_limit());
    fake.script([FalFault::Slow(100_000)]);
    let err = provider
        .generate(
            &request("slow one", "fal-ai/nano-banana", |_| {}),
            &CallContext::detached(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(fake.cancels(), 1, "the request is cancelled on fal too");
}

#[tokio::test]
async fn each_error_class_maps_to_its_kind() {
    let req = request("a cat", "fal-ai/nano-banana", |_| {});
    let run = |fault: Option<FalFault>, key: &'static str| {
        let req = req.clone();
        async move {
            let (fake, provider) = fal(0, key);
            if let Some(f) = fault {
                fake.script([f]);
            }
            let result = provider.generate(&req, &CallContext::detached()).await;
            (result.map(|o| o.images.len()), fake.submits())
        }
    };
    let (r, _) = run(None, "wrong-key").await;
    let e = r.unwrap_err();
    assert_eq!((e.kind(), e.kind().exit_code()), (ErrorKind::Auth, 4));
    assert!(e.to_string().contains("FAL_KEY"), "{e}");

    let (r, submits) = run(
        Some(FalFault::RateLimited {
            retry_after_secs: 0,
        }),
        KEY,
    )
    .await;
    assert_eq!((r.unwrap(), submits), (1, 2), "a 429 is retried");
    let (r, submits) = run(
        Some(FalFault::ServerError {
            status: 500,
            retryable: true,
        }),
        KEY,
    )
    .await;
    assert_eq!((r.unwrap(), submits), (1, 2), "a retryable 500 is retried");
    let (r, submits) = run(
        Some(FalFault::ServerError {
            status: 500,
            retryable: false,
        }),
        KEY,
    )
    .await;
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code(), submits),
        (ErrorKind::Server, 6, 1),
        "X-Fal-Retryable: false is final"
    );
    let (r, submits) = run(Some(FalFault::RequestTimeout), KEY).await;
    assert_eq!(
        (r.unwrap(), submits),
        (1, 2),
        "a request timeout is retried"
    );
    let (r, _) = run(Some(FalFault::DetailString), KEY).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("the prompt was flagged"), "{e}");
    let (r, submits) = run(Some(FalFault::ImageTooLarge), KEY).await;
    let e = r.unwrap_err();
    assert_eq!((e.kind(), submits), (ErrorKind::InvalidInput, 1), "{e}");
    assert!(
        e.to_string().starts_with("image_urls.0: Image too large"),
        "names the input and the limit: {e}"
    );
    // A failed run: COMPLETED with `error` and `error_type`; the response URL says 422.
    let (r, submits) = run(Some(FalFault::Failed), KEY).await;
    let e = r.unwrap_err();
    assert_eq!((e.kind(), submits), (ErrorKind::Refused, 1), "{e}");
    assert!(
        e.to_string().contains("flagged by a content checker"),
        "{e}"
    );
    let (r, _) = run(Some(FalFault::MalformedJson), KEY).await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::BadResponse);
    let (r, submits) = run(Some(FalFault::TruncatedBody), KEY).await;
    assert_eq!(
        (r.unwrap(), submits),
        (1, 2),
        "a dropped connection is retried"
    );

    // Validation: a prompt too short is a 422 list naming the field.
    let (_fake, provider) = fal(0, KEY);
    let e = provider
        .generate(
            &request("ab", "fal-ai/nano-banana", |_| {}),
            &CallContext::detached(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().starts_with("prompt: "), "{e}");
    // A 429 that never clears is a rate limit, exit 5.
    let (fake, provider) = fal(0, KEY);
    fake.script(std::iter::repeat_n(
        FalFault::RateLimited {
            retry_after_secs: 0,
        },
        4,
    ));
    let e = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::RateLimited, 5)
    );
}

#[tokio::test]
async fn the_key_test_is_an_authenticated_status_call() {
    let (fake, good) = fal(0, KEY);
    let models = good.list_models(&CallContext::detached()).await.unwrap();
    // fal has no model list: the key is tried on a status call, and the known models
    // are offered (each one fal serves).
    assert_eq!(fake.status_polls(), 1, "the key was tried on fal");
    assert!(
        models
            .iter()
            .all(|m| m.generates && m.id.contains("nano-banana")),
        "{models:?}"
    );
    let (_fake, bad) = fal(0, "nope");
    let e = bad.list_models(&CallContext::detached()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn the_newer_endpoints_take_resolution_thinking_and_web_search() {
    let (fake, provider) = fal(1, KEY);
    let req = request("a banana rocket", "google/nano-banana-2.1", |r| {
        r.size = Some(ImageSize::K2);
        r.thinking = Some(banana_studio::recipe::ThinkingLevel::High);
        r.search = Some(banana_studio::recipe::Search::Web);
    });
    provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    let small = request("a small rocket", "fal-ai/nano-banana-2", |r| {
        r.size = Some(ImageSize::S512);
        r.aspect = AspectRatio::Ratio(1, 1);
    });
    let out = provider
        .generate(&small, &CallContext::detached())
        .await
        .unwrap();
    let decoded = image::load_from_memory(&out.images[0].bytes).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (512, 512),
        "0.5K is half of 1K"
    );
    let bodies: Vec<serde_json::Value> = fake
        .request_bodies()
        .into_iter()
        .map(|b| b["input"].clone())
        .collect();
    assert_eq!(bodies[0]["resolution"], "2K");
    assert_eq!(bodies[0]["thinking_level"], "high");
    assert_eq!(bodies[0]["enable_web_search"], true);
    assert_eq!(bodies[1]["resolution"], "0.5K", "fal's spelling of 512");
    assert!(bodies[1].get("enable_web_search").is_none());
    // The fake refuses what fal's validation refuses, naming the field.
    let bad = request("a rocket", "fal-ai/nano-banana-pro", |r| {
        r.size = Some(ImageSize::S512);
    });
    let err = provider
        .generate(&bad, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("resolution"), "{err}");
}
