//! Vydra contract tests against its fake: generate, edit with a local input uploaded
//! through `/upload`, count N as N calls, credits charged and left, 402 with the credits
//! needed and left, 429 honouring `retryAfter`, codes (and their absence) mapped to kinds
//! and exit codes, cancel, and a slow result that hits the timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use banana_studio::fake::common::FakeFault;
use banana_studio::fake::vydra::{FakeVydra, START_CREDITS};
use banana_studio::keys::Secret;
use banana_studio::providers::vydra::VydraProvider;
use banana_studio::providers::{CallContext, ErrorKind, GenerateRequest, Provider, RetryPolicy};
use banana_studio::recipe::{AspectRatio, ProviderId, Recipe};
use common::{
    assert_edit_of_two_tone, cancel_once_polled, fast_policy, notes, recording_ctx, request_on,
    retry_waits, with_input, with_two_tone_input,
};

const KEY: &str = "vydra-test-key-1";

fn vydra_with(key: &str, policy: RetryPolicy) -> (FakeVydra, VydraProvider) {
    let fake = FakeVydra::start(&tokio::runtime::Handle::current(), KEY).unwrap();
    let provider = VydraProvider::new(fake.base_url(), Secret::new(key), policy);
    (fake, provider)
}

fn vydra(key: &str) -> (FakeVydra, VydraProvider) {
    vydra_with(key, fast_policy())
}

fn request(prompt: &str, edit: impl FnOnce(&mut Recipe)) -> GenerateRequest {
    request_on(ProviderId::Vydra, prompt, "nano-banana", edit)
}

#[tokio::test]
async fn generate_charges_credits_and_reads_what_is_left() {
    let (fake, provider) = vydra(KEY);
    // The service's charge, unlike the catalog's 8, so the figure can only have come
    // from the answer.
    fake.set_charge(11);
    let (ctx, seen) = recording_ctx();
    let out = provider
        .generate(
            &request("a banana rocket", |r| r.aspect = AspectRatio::Ratio(9, 16)),
            &ctx,
        )
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    let decoded = image::load_from_memory(&out.images[0].bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (768, 1344));
    assert_eq!(out.charged.credits, Some(11));
    assert_eq!(out.charged.credits_left, Some(START_CREDITS - 11));
    let body = &fake.request_bodies()[0];
    assert_eq!(body["aspectRatio"], "9:16");
    assert!(body.get("imageUrl").is_none(), "no imageUrl = generate");
    assert!(
        notes(&seen)
            .iter()
            .any(|n| n == "Vydra: 11 credits charged, 989 left"),
        "{:?}",
        notes(&seen)
    );
}

#[tokio::test]
async fn count_n_is_n_calls() {
    let (fake, provider) = vydra(KEY);
    fake.set_charge(7);
    let out = provider
        .generate(
            &request("three bananas", |r| r.count = 3),
            &CallContext::detached(),
        )
        .await
        .unwrap();
    assert_eq!(out.images.len(), 3);
    assert_eq!(fake.calls(), 3);
    assert_ne!(
        out.images[0].bytes, out.images[1].bytes,
        "three calls, three pictures"
    );
    assert_eq!(out.charged.credits, Some(21));
    assert_eq!(fake.credits(), START_CREDITS - 21);
}

#[tokio::test]
async fn an_edit_uploads_the_local_input_first() {
    let (fake, provider) = vydra(KEY);
    let mut req = request("make it blue", |r| r.aspect = AspectRatio::Auto);
    with_two_tone_input(&mut req, 400, 200);
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(fake.uploads(), 1);
    // Vydra fetched the upload and edited it, following its 2:1 shape to 16:9.
    assert_edit_of_two_tone(&out.images[0].bytes, (1344, 768), "the edit");
    let mut two = req.clone();
    two.recipe.count = 2;
    let out = provider
        .generate(&two, &CallContext::detached())
        .await
        .unwrap();
    for (n, image) in out.images.iter().enumerate() {
        assert_edit_of_two_tone(&image.bytes, (1344, 768), &format!("edit {}", n + 1));
    }
    assert_eq!(out.images.len(), 2);
    let url = fake.request_bodies()[0]["imageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.contains("/files/"), "the URL /upload gave: {url}");
    let uploads_before = fake.uploads();
    // A file that is not the image it claims: /upload refuses it by code.
    let mut bad = request("make it blue", |_| {});
    with_input(&mut bad, "image/png", b"%PDF-1.7 not an image".to_vec());
    let e = provider
        .generate(&bad, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::InvalidInput, 2)
    );
    assert!(e.to_string().contains("JPEG, PNG, WebP or GIF"), "{e}");
    assert_eq!(
        fake.uploads(),
        uploads_before,
        "the refused file was not stored"
    );
}

#[tokio::test]
async fn out_of_credits_says_how_many_are_needed_and_left() {
    let (fake, provider) = vydra(KEY);
    fake.set_credits(3);
    fake.set_charge(9);
    let e = provider
        .generate(&request("a cat", |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::RateLimited, 5)
    );
    assert_eq!(
        e.to_string(),
        "Vydra needs 9 credits for this image and 3 are left; top up at vydra.app"
    );
    assert_eq!(fake.calls(), 1, "402 is not retried");
}

#[tokio::test]
async fn a_429_waits_the_retry_after_it_names() {
    let (fake, provider) = vydra(KEY);
    fake.script([FakeFault::RateLimited {
        retry_after_secs: 1,
    }]);
    let (ctx, seen) = recording_ctx();
    let out = provider
        .generate(&request("a cat", |_| {}), &ctx)
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    let retries = retry_waits(&seen);
    assert_eq!(retries, vec![Duration::from_secs(1)]);
    // The wait may come in `details` instead of at the top: it is honoured there too.
    fake.script([FakeFault::Own("ratelimit-details")]);
    let (ctx, seen) = recording_ctx();
    provider
        .generate(&request("a cat", |_| {}), &ctx)
        .await
        .unwrap();
    let waits = retry_waits(&seen);
    assert_eq!(
        waits,
        vec![Duration::from_secs(
            banana_studio::fake::vydra::RETRY_AFTER_IN_DETAILS_SECS
        )]
    );
}

#[tokio::test]
async fn each_error_class_maps_to_its_kind() {
    let req = request("a cat", |_| {});
    let run = |faults: Vec<FakeFault>, key: &'static str| {
        let req = req.clone();
        async move {
            let (fake, provider) = vydra(key);
            fake.script(faults);
            let result = provider.generate(&req, &CallContext::detached()).await;
            (result.map(|o| o.images.len()), fake.calls())
        }
    };
    let (r, _) = run(vec![], "wrong-key").await;
    let e = r.unwrap_err();
    assert_eq!((e.kind(), e.kind().exit_code()), (ErrorKind::Auth, 4));
    assert!(e.to_string().contains("does not know this key"), "{e}");
    let (r, _) = run(vec![FakeFault::Own("revoked")], KEY).await;
    assert!(r.unwrap_err().to_string().contains("revoked"));
    let (r, _) = run(vec![FakeFault::Own("nocode")], KEY).await;
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::InvalidInput, 2)
    );
    assert!(e.to_string().contains("content policy"), "{e}");
    let (r, _) = run(vec![FakeFault::Own("credits")], KEY).await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::RateLimited);

    let (r, _) = run(
        vec![
            FakeFault::RateLimited {
                retry_after_secs: 0
            };
            4
        ],
        KEY,
    )
    .await;
    assert_eq!(r.unwrap_err().kind().exit_code(), 5);
    let (r, calls) = run(vec![FakeFault::ServerError { status: 503 }; 2], KEY).await;
    assert_eq!((r.unwrap(), calls), (1, 3), "a 5xx burst is retried");
    let (r, _) = run(vec![FakeFault::ServerError { status: 500 }; 4], KEY).await;
    assert_eq!(r.unwrap_err().kind().exit_code(), 6);
    let (r, _) = run(vec![FakeFault::Malformed], KEY).await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::BadResponse);
    let (r, calls) = run(vec![FakeFault::Truncated], KEY).await;
    assert_eq!(
        (r.unwrap(), calls),
        (1, 2),
        "a dropped connection is retried"
    );

    let (_fake, provider) = vydra(KEY);
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
}

#[tokio::test]
async fn a_failed_call_among_several_is_a_partial_failure() {
    let (fake, provider) = vydra(KEY);
    fake.script([FakeFault::Own("nocode")]);
    let out = provider
        .generate(&request("two", |r| r.count = 2), &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    assert_eq!(
        out.charged.credits,
        Some(8),
        "only the image made is charged"
    );
    assert!(
        out.partial_failures[0].contains("content policy"),
        "{:?}",
        out.partial_failures
    );
}

#[tokio::test]
async fn cancel_and_slow_results() {
    let (fake, provider) = vydra(KEY);
    fake.script([FakeFault::Slow(100)]);
    let ctx = CallContext::detached();
    let req = request("wait", |_| {});
    let (result, _) = tokio::join!(
        provider.generate(&req, &ctx),
        cancel_once_polled(&ctx, || fake.calls())
    );
    let e = result.unwrap_err();
    assert_eq!(
        (e.kind(), e.kind().exit_code()),
        (ErrorKind::Cancelled, 130)
    );

    let policy = RetryPolicy {
        max_attempts: 1,
        attempt_timeout: Duration::from_millis(300),
        ..fast_policy()
    };
    let (fake, provider) = vydra_with(KEY, policy);
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
}

#[tokio::test]
async fn the_key_test_reads_the_credits() {
    let (_fake, good) = vydra(KEY);
    assert_eq!(
        good.check_key(&CallContext::detached()).await.unwrap(),
        "1000 credits left"
    );
    let (_fake, bad) = vydra("nope");
    assert_eq!(
        bad.check_key(&CallContext::detached())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Auth
    );
}
