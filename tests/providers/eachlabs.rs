//! Eachlabs contract tests against its fake: a prediction polled to its end, one image as a
//! string and several as an array, local inputs as data URIs (and a clear message when
//! they are refused), cancel while waiting, every error class mapped to its kind and exit
//! code, polling that stops on each terminal state, and a slow result that hits the timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use banana_studio::fake::common::FakeFault;
use banana_studio::fake::eachlabs::FakeEachlabs;
use banana_studio::keys::Secret;
use banana_studio::providers::eachlabs::EachlabsProvider;
use banana_studio::providers::{CallContext, ErrorKind, GenerateRequest, Provider};
use banana_studio::recipe::{AspectRatio, ImageSize, OutputFormat, ProviderId, Recipe};
use common::{
    assert_decodes_to, assert_edit_of_two_tone, assert_polling_stopped, cancel_once_polled,
    fast_policy, notes, quick_poll, recording_ctx, request_on, short_poll_limit, with_input,
    with_two_tone_input,
};

const KEY: &str = "eachlabs-test-key-1";

fn eachlabs(created_polls: u32, key: &str) -> (FakeEachlabs, EachlabsProvider) {
    let fake = FakeEachlabs::start(&tokio::runtime::Handle::current(), KEY, created_polls).unwrap();
    let provider = EachlabsProvider::new(fake.base_url(), Secret::new(key), fast_policy())
        .with_poll(quick_poll());
    (fake, provider)
}

fn request(prompt: &str, model: &str, edit: impl FnOnce(&mut Recipe)) -> GenerateRequest {
    request_on(ProviderId::Eachlabs, prompt, model, edit)
}

#[tokio::test]
async fn generate_polls_the_prediction_and_reports_its_cost() {
    let (fake, provider) = eachlabs(2, KEY);
    // What the service billed, unlike the catalog's quote ($0.15), so the figure can
    // only have come from the answer.
    fake.set_billed_per_image(0.0731);
    let req = request("a banana rocket", "nano-banana-pro", |r| {
        r.aspect = AspectRatio::Ratio(16, 9);
        r.size = Some(ImageSize::K2);
        r.format = OutputFormat::Jpeg;
    });
    let (ctx, seen) = recording_ctx();
    let out = provider.generate(&req, &ctx).await.unwrap();
    assert_eq!(out.images.len(), 1, "one image comes as a plain string");
    let decoded = image::load_from_memory(&out.images[0].bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (2752, 1536));
    assert_eq!(out.images[0].mime, "image/jpeg");
    assert_eq!(out.charged.usd, Some(0.0731), "metrics.cost is recorded");
    let body = &fake.request_bodies()[0];
    assert_eq!(body["model"], "nano-banana-pro");
    assert!(body.get("version").is_none(), "deprecated, not sent");
    assert_eq!(body["input"]["resolution"], "2K");
    assert_eq!(body["input"]["aspect_ratio"], "16:9");
    let notes = notes(&seen);
    assert!(
        notes.iter().any(|n| n == "Waiting on Eachlabs to start"),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n == "Running on Eachlabs"),
        "{notes:?}"
    );
    // Two polls created, one processing, one success: then no more.
    assert_eq!(fake.polls(), 4);
}

#[tokio::test]
async fn several_images_come_as_an_array() {
    let (fake, provider) = eachlabs(0, KEY);
    let req = request("four bananas", "nano-banana", |r| {
        r.count = 3;
        r.aspect = AspectRatio::Ratio(9, 16);
    });
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 3);
    for (n, image) in out.images.iter().enumerate() {
        assert_decodes_to(&image.bytes, (768, 1344), &format!("image {}", n + 1));
    }
    assert_eq!(fake.creates(), 1, "num_images in one prediction");
    assert_eq!(fake.request_bodies()[0]["input"]["num_images"], 3);
}

#[tokio::test]
async fn an_edit_sends_local_inputs_as_data_uris_to_the_edit_model() {
    let (fake, provider) = eachlabs(0, KEY);
    let mut req = request("make it blue", "nano-banana", |r| {
        r.aspect = AspectRatio::Auto
    });
    with_two_tone_input(&mut req, 400, 200);
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    // The service read the input: the edit derives from it and follows its 2:1 shape
    // to the nearest ratio it takes, 16:9.
    assert_edit_of_two_tone(&out.images[0].bytes, (1344, 768), "the edit");
    let body = &fake.request_bodies()[0];
    assert_eq!(body["model"], "nano-banana-edit");
    assert!(
        body["input"].get("aspect_ratio").is_none(),
        "auto follows the input"
    );
    let url = body["input"]["image_urls"][0].as_str().unwrap();
    assert!(url.starts_with("data:image/png;base64,"), "{}", &url[..30]);

    // An input that is not the image it claims is refused by the fake's check.
    let mut bad = request("make it blue", "nano-banana", |_| {});
    with_input(&mut bad, "image/png", b"not a png".to_vec());
    let e = provider
        .generate(&bad, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

    // When the service cannot read data URIs, the user is told to use another provider.
    fake.script([FakeFault::Own("datauri")]);
    let e = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::InvalidInput, 2)
    );
    assert!(e.to_string().contains("data URIs"), "{e}");
    assert!(e.to_string().contains("fal.ai, Vydra or Gemini"), "{e}");
}

#[tokio::test]
async fn cancel_while_waiting_stops_polling() {
    let (fake, provider) = eachlabs(100_000, KEY);
    let ctx = CallContext::detached();
    let req = request("wait", "nano-banana", |_| {});
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
    for (fault, kind) in [
        (None, None),
        (Some("failed"), Some(ErrorKind::Server)),
        (Some("failed_output"), Some(ErrorKind::Refused)),
        (Some("cancelled"), Some(ErrorKind::Server)),
    ] {
        let (fake, provider) = eachlabs(1, KEY);
        if let Some(name) = fault {
            fake.script([FakeFault::Own(name)]);
        }
        let result = provider
            .generate(
                &request("a cat", "nano-banana", |_| {}),
                &CallContext::detached(),
            )
            .await;
        assert_eq!(
            result.as_ref().err().map(|e| e.kind()),
            kind,
            "{fault:?}: {result:?}"
        );
        // One poll created, one processing, one terminal, and none after: polling runs
        // inside the call, which has returned.
        assert_eq!(fake.polls(), 3, "{fault:?}");
        if fault == Some("failed") {
            let e = result.unwrap_err();
            assert_eq!(e.kind().exit_code(), 6);
            assert!(
                e.to_string().contains("GPU worker ran out of memory"),
                "{e}"
            );
        }
    }
}

#[tokio::test]
async fn each_error_class_maps_to_its_kind() {
    let req = request("a cat", "nano-banana", |_| {});
    let run = |faults: Vec<FakeFault>, key: &'static str| {
        let req = req.clone();
        async move {
            let (fake, provider) = eachlabs(0, key);
            fake.script(faults);
            let result = provider.generate(&req, &CallContext::detached()).await;
            (result.map(|o| o.images.len()), fake.creates())
        }
    };
    let (r, _) = run(vec![], "wrong-key").await;
    let e = r.unwrap_err();
    assert_eq!((e.kind(), e.kind().exit_code()), (ErrorKind::Auth, 4));
    assert!(e.to_string().contains("EACHLABS_API_KEY"), "{e}");

    let rate = FakeFault::RateLimited {
        retry_after_secs: 0,
    };
    let (r, creates) = run(vec![rate.clone()], KEY).await;
    assert_eq!((r.unwrap(), creates), (1, 2), "a 429 is retried");
    let (r, _) = run(vec![rate; 4], KEY).await;
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::RateLimited, 5)
    );
    assert!(
        e.to_string().contains("100 requests per minute"),
        "the 429 details are shown: {e}"
    );

    let (r, creates) = run(vec![FakeFault::ServerError { status: 503 }; 2], KEY).await;
    assert_eq!((r.unwrap(), creates), (1, 3), "a 5xx burst is retried");
    let (r, creates) = run(vec![FakeFault::ServerError { status: 500 }; 4], KEY).await;
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code(), creates),
        (ErrorKind::Server, 6, 4)
    );

    let (r, creates) = run(vec![FakeFault::Own("credits")], KEY).await;
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code(), creates),
        (ErrorKind::RateLimited, 5, 1)
    );
    assert!(e.to_string().contains("top up"), "{e}");

    let (r, _) = run(vec![FakeFault::Malformed], KEY).await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::BadResponse);
    let (r, creates) = run(vec![FakeFault::Truncated], KEY).await;
    assert_eq!(
        (r.unwrap(), creates),
        (1, 2),
        "a dropped connection is retried"
    );

    // Validation: webp is not an Eachlabs format; an unknown model is model-not-found.
    let (_fake, provider) = eachlabs(0, KEY);
    let mut webp = req.clone();
    webp.recipe.format = OutputFormat::Webp;
    assert!(
        provider
            .generate(&webp, &CallContext::detached())
            .await
            .is_ok(),
        "webp is sent as png"
    );
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
    let mut too_many = req.clone();
    too_many.recipe.count = 4;
    too_many.recipe.prompt = "x".repeat(50_001);
    let e = provider
        .generate(&too_many, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::InvalidInput, 2)
    );
    // Caught against the model's schema before anything is sent.
    assert!(
        e.to_string()
            .contains("prompt is 50001 characters; it takes at most 50000"),
        "{e}"
    );
}

#[tokio::test]
async fn a_slow_result_hits_the_timeout() {
    let (fake, provider) = eachlabs(0, KEY);
    let provider = provider.with_poll(short_poll_limit());
    fake.script([FakeFault::Slow(100_000)]);
    let e = provider
        .generate(
            &request("slow", "nano-banana", |_| {}),
            &CallContext::detached(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::Timeout, 6),
        "{e}"
    );
}

#[tokio::test]
async fn the_fake_refuses_an_eleventh_prediction_in_flight() {
    let (fake, provider) = eachlabs(100_000, KEY);
    for _ in 0..10 {
        let body = serde_json::json!({"model": "nano-banana", "version": "0.0.1", "input": {"prompt": "a"}});
        let r = reqwest::Client::new()
            .post(format!("{}/v1/prediction/", fake.base_url()))
            .header("Authorization", format!("Bearer {KEY}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "Bearer is taken as well as X-API-Key");
    }
    assert_eq!(fake.max_in_flight(), 10);
    let e = provider
        .generate(
            &request("one more", "nano-banana", |_| {}),
            &CallContext::detached(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert!(e.to_string().contains("10 concurrent predictions"), "{e}");
}

#[tokio::test]
async fn the_key_test_is_an_authenticated_call() {
    let (fake, good) = eachlabs(0, KEY);
    let models = good.list_models(&CallContext::detached()).await.unwrap();
    assert!(models.iter().all(|m| m.generates), "{models:?}");
    assert_eq!(
        fake.polls(),
        1,
        "the key was tried on an authenticated Eachlabs call"
    );
    let (_fake, bad) = eachlabs(0, "nope");
    let e = bad.list_models(&CallContext::detached()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
}
