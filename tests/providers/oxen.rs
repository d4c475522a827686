//! Oxen.ai contract tests against its fake: one image synchronously as base64, several
//! through the queue, local inputs inline, only Oxen's ratios, `failed` generations with
//! their `error_message`, cancel while queued, every error class mapped to its kind and exit
//! code, polling that stops on each terminal state, and slow results that hit the timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use banana_studio::fake::common::FakeFault;
use banana_studio::fake::oxen::FakeOxen;
use banana_studio::keys::Secret;
use banana_studio::providers::oxen::OxenProvider;
use banana_studio::providers::{CallContext, ErrorKind, GenerateRequest, Provider, RetryPolicy};
use banana_studio::recipe::{AspectRatio, ProviderId, Recipe};
use common::{
    assert_decodes_to, assert_edit_of_two_tone, assert_polling_stopped, cancel_once_polled,
    fast_policy, notes, quick_poll, recording_ctx, request_on, short_poll_limit, with_input,
    with_two_tone_input,
};

const KEY: &str = "oxen-test-key-1";

fn oxen_with(queued_polls: u32, key: &str, policy: RetryPolicy) -> (FakeOxen, OxenProvider) {
    let fake = FakeOxen::start(&tokio::runtime::Handle::current(), KEY, queued_polls).unwrap();
    let provider =
        OxenProvider::new(fake.base_url(), Secret::new(key), policy).with_poll(quick_poll());
    (fake, provider)
}

fn oxen(queued_polls: u32, key: &str) -> (FakeOxen, OxenProvider) {
    oxen_with(queued_polls, key, fast_policy())
}

fn request(prompt: &str, edit: impl FnOnce(&mut Recipe)) -> GenerateRequest {
    request_on(ProviderId::Oxen, prompt, "nano-banana", edit)
}

#[tokio::test]
async fn one_image_is_synchronous_with_base64() {
    let (fake, provider) = oxen(0, KEY);
    let req = request("a banana rocket", |r| r.aspect = AspectRatio::Ratio(3, 2));
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    let decoded = image::load_from_memory(&out.images[0].bytes).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (1248, 832),
        "3:2 from the catalog"
    );
    assert_eq!((fake.sync_calls(), fake.queue_calls()), (1, 0));
    let body = &fake.request_bodies()[0];
    assert_eq!(body["response_format"], "b64_json");
    assert_eq!(body["aspect_ratio"], "3:2");
    assert!(body.get("num_generations").is_none());
}

#[tokio::test]
async fn several_images_go_through_the_queue() {
    let (fake, provider) = oxen(2, KEY);
    let req = request("three bananas", |r| {
        r.count = 3;
        r.aspect = AspectRatio::Ratio(16, 9);
    });
    let (ctx, seen) = recording_ctx();
    let out = provider.generate(&req, &ctx).await.unwrap();
    assert_eq!(out.images.len(), 3);
    for (n, image) in out.images.iter().enumerate() {
        assert_decodes_to(
            &image.bytes,
            (1344, 768),
            &format!("queued image {}", n + 1),
        );
    }
    assert_eq!((fake.sync_calls(), fake.queue_calls()), (0, 1));
    assert_eq!(fake.request_bodies()[0]["num_generations"], 3);
    let notes = notes(&seen);
    assert!(notes.iter().any(|n| n.contains("3 queued")), "{notes:?}");
    // Each of 3 generations: 2 polls queued, 1 processing, 1 succeeded.
    assert_eq!(fake.polls(), 12);
}

#[tokio::test]
async fn an_edit_sends_local_inputs_inline() {
    let (fake, provider) = oxen(0, KEY);
    let mut req = request("make it blue", |r| r.aspect = AspectRatio::Auto);
    // A tall input: the edit follows it to the nearest ratio Oxen takes, 9:16.
    with_two_tone_input(&mut req, 200, 400);
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_edit_of_two_tone(&out.images[0].bytes, (768, 1344), "the edit");
    // Several through the queue: each generation downloads the input too.
    let mut queued = req.clone();
    queued.recipe.count = 2;
    let out = provider
        .generate(&queued, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 2);
    for (n, image) in out.images.iter().enumerate() {
        assert_edit_of_two_tone(&image.bytes, (768, 1344), &format!("queued edit {}", n + 1));
    }
    let body = &fake.request_bodies()[0];
    assert!(body.get("aspect_ratio").is_none());
    assert!(
        body["input_image"][0]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    let mut bad = request("make it blue", |_| {});
    with_input(&mut bad, "image/png", b"GIF89a not really".to_vec());
    let e = provider
        .generate(&bad, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

#[tokio::test]
async fn a_ratio_oxen_lacks_is_refused_sync_and_fails_when_queued() {
    let (_fake, provider) = oxen(0, KEY);
    let e = provider
        .generate(
            &request("wide", |r| r.aspect = AspectRatio::Ratio(21, 9)),
            &CallContext::detached(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::InvalidInput, 2)
    );
    assert!(e.to_string().contains("aspect_ratio"), "{e}");
    // The queue takes the job and fails it when it runs: the error_message reaches the user.
    let e = provider
        .generate(
            &request("wide", |r| {
                r.aspect = AspectRatio::Ratio(21, 9);
                r.count = 2;
            }),
            &CallContext::detached(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string()
            .starts_with("Oxen.ai could not make the image: Invalid aspect_ratio"),
        "{e}"
    );
}

#[tokio::test]
async fn a_failed_generation_among_several_is_a_partial_failure() {
    let (fake, provider) = oxen(0, KEY);
    fake.script([FakeFault::Own("failed")]);
    let out = provider
        .generate(&request("two", |r| r.count = 2), &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    assert_eq!(out.partial_failures.len(), 1);
    assert!(
        out.partial_failures[0].contains("upstream model returned no image"),
        "{:?}",
        out.partial_failures
    );
}

#[tokio::test]
async fn cancel_while_queued_stops_polling() {
    let (fake, provider) = oxen(100_000, KEY);
    let ctx = CallContext::detached();
    let req = request("wait", |r| r.count = 2);
    let (result, at_cancel) = tokio::join!(
        provider.generate(&req, &ctx),
        cancel_once_polled(&ctx, || fake.polls())
    );
    let e = result.unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::Cancelled, 130)
    );
    assert_polling_stopped(at_cancel, fake.polls());
}

#[tokio::test]
async fn polling_stops_on_every_terminal_state() {
    for (fault, images) in [
        (None, 2),
        (Some(FakeFault::Own("failed")), 1),
        (Some(FakeFault::Own("cancelled")), 1),
    ] {
        let (fake, provider) = oxen(1, KEY);
        fake.script(fault.clone());
        let out = provider
            .generate(&request("two", |r| r.count = 2), &CallContext::detached())
            .await
            .unwrap();
        assert_eq!(out.images.len(), images);
        // 3 polls per generation and none after: polling runs inside the call.
        assert_eq!(fake.polls(), 6, "{fault:?}: 3 polls per generation");
    }
}

#[tokio::test]
async fn each_error_class_maps_to_its_kind() {
    let req = request("a cat", |_| {});
    let run = |faults: Vec<FakeFault>, key: &'static str| {
        let req = req.clone();
        async move {
            let (fake, provider) = oxen(0, key);
            fake.script(faults);
            let result = provider.generate(&req, &CallContext::detached()).await;
            (result.map(|o| o.images.len()), fake.sync_calls())
        }
    };
    let (r, _) = run(vec![], "wrong-key").await;
    let e = r.unwrap_err();
    assert_eq!((e.kind(), e.kind().exit_code()), (ErrorKind::Auth, 4));
    assert!(e.to_string().contains("OXEN_API_KEY"), "{e}");
    let (r, _) = run(vec![FakeFault::Own("forbidden")], KEY).await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Auth);

    let rate = FakeFault::RateLimited {
        retry_after_secs: 0,
    };
    let (r, calls) = run(vec![rate.clone()], KEY).await;
    assert_eq!((r.unwrap(), calls), (1, 2), "a 429 is retried");
    let (r, _) = run(vec![rate; 4], KEY).await;
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::RateLimited, 5)
    );
    let (r, calls) = run(vec![FakeFault::ServerError { status: 503 }; 2], KEY).await;
    assert_eq!((r.unwrap(), calls), (1, 3), "a 5xx burst is retried");
    let (r, _) = run(vec![FakeFault::ServerError { status: 500 }; 4], KEY).await;
    let e = r.unwrap_err();
    assert_eq!((e.kind(), e.kind().exit_code()), (ErrorKind::Server, 6));
    // Errors come as bare words, or (unverified) as JSON: both are read.
    let (r, calls) = run(vec![FakeFault::Own("json-error")], KEY).await;
    let e = r.unwrap_err();
    assert_eq!((e.kind(), calls), (ErrorKind::InvalidInput, 1), "{e}");
    assert!(
        e.to_string().contains("flagged by the content filter"),
        "{e}"
    );
    let (r, _) = run(vec![FakeFault::Malformed], KEY).await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::BadResponse);
    let (r, calls) = run(vec![FakeFault::Truncated], KEY).await;
    assert_eq!(
        (r.unwrap(), calls),
        (1, 2),
        "a dropped connection is retried"
    );

    let (_fake, provider) = oxen(0, KEY);
    let mut unknown = req.clone();
    unknown.model.id = "nano-bananna".into();
    let e = provider
        .generate(&unknown, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::ModelNotFound, 2)
    );
    assert!(e.to_string().contains("nano-bananna"), "{e}");
}

#[tokio::test]
async fn slow_results_hit_the_timeout() {
    // Synchronous: the attempt timeout.
    let policy = RetryPolicy {
        max_attempts: 1,
        attempt_timeout: Duration::from_millis(300),
        ..fast_policy()
    };
    let (fake, provider) = oxen_with(0, KEY, policy);
    fake.script([FakeFault::Slow(50)]);
    let e = provider
        .generate(&request("slow", |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::Timeout, 6),
        "{e}"
    );
    // Queued: the poll limit.
    let (fake, provider) = oxen(0, KEY);
    let provider = provider.with_poll(short_poll_limit());
    fake.script([FakeFault::Slow(100_000)]);
    let e = provider
        .generate(&request("slow", |r| r.count = 2), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}

#[tokio::test]
async fn the_key_test_is_an_authenticated_call() {
    let (fake, good) = oxen(0, KEY);
    let models = good.list_models(&CallContext::detached()).await.unwrap();
    assert!(models.iter().all(|m| m.generates), "{models:?}");
    assert_eq!(
        fake.polls(),
        1,
        "the key was tried on an authenticated Oxen call"
    );
    let (_fake, bad) = oxen(0, "nope");
    assert_eq!(
        bad.list_models(&CallContext::detached())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Auth
    );
}

#[tokio::test]
async fn the_queue_judges_num_generations_when_it_runs() {
    let (fake, provider) = oxen(0, KEY);
    let client = reqwest::Client::new();
    let post = |n: serde_json::Value| {
        client
            .post(format!("{}/api/ai/queue", fake.base_url()))
            .bearer_auth(KEY)
            .json(
                &serde_json::json!({"model": "nano-banana", "prompt": "six", "num_generations": n}),
            )
            .send()
    };
    // Not clamped to four: one generation is queued, and it fails when it runs.
    let queued: serde_json::Value = post(serde_json::json!(6))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = queued["generations"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{queued}");
    let id = listed[0]["generation_id"].as_str().unwrap();
    let mut status = serde_json::Value::Null;
    for _ in 0..10 {
        status = client
            .get(format!("{}/api/ai/queue/{id}", fake.base_url()))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !matches!(status["status"].as_str(), Some("queued" | "processing")) {
            break;
        }
    }
    assert_eq!(status["status"], "failed", "{status}");
    assert!(
        status["error_message"]
            .as_str()
            .unwrap()
            .contains("num_generations"),
        "{status}"
    );
    // The provider sends the count as asked, never a smaller one it was not asked for:
    // five fails in Oxen's words.
    let e = provider
        .generate(&request("five", |r| r.count = 5), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("num_generations"), "{e}");
    assert_eq!(fake.request_bodies()[1]["num_generations"], 5);
}

#[tokio::test]
async fn the_newer_models_take_resolution_and_web_search() {
    let (fake, provider) = oxen(0, KEY);
    let req = request_on(ProviderId::Oxen, "a lamp", "nano-banana-2", |r| {
        r.size = Some(banana_studio::recipe::ImageSize::K2);
        r.aspect = AspectRatio::Ratio(16, 9);
        r.search = Some(banana_studio::recipe::Search::Web);
    });
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    let decoded = image::load_from_memory(&out.images[0].bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (2752, 1536), "2K 16:9");
    let body = &fake.request_bodies()[0];
    assert_eq!(body["resolution"], "2K");
    assert_eq!(body["enable_web_search"], true);
    // The classic model takes neither: never sent, and refused by the fake if it were.
    let plain = request("a lamp", |_| {});
    provider
        .generate(&plain, &CallContext::detached())
        .await
        .unwrap();
    let body = &fake.request_bodies()[1];
    assert!(body.get("resolution").is_none() && body.get("enable_web_search").is_none());
}
