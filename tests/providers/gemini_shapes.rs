//! The Gemini fake as strict and as awkward as the docs say the service is, and the
//! provider meeting each shape: unknown fields, too many inputs, signatures bound to their
//! parts, a 429 with only `Retry-After`, candidates without parts and their finish
//! reasons, FAILED_PRECONDITION, 403, 504, and several images in one answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use banana_studio::fake::Fault;
use banana_studio::providers::{CallContext, ErrorKind, Provider, Turn};
use common::{
    KEY, assert_decodes_to, assert_edit_of_two_tone, fast_policy, gemini, png, recording_ctx,
    request, retry_waits, with_two_tone_input,
};
use serde_json::{Value, json};

const PRO: &str = "gemini-3-pro-image";
const FLASH: &str = "gemini-2.5-flash-image";

async fn post(base: &str, model: &str, body: Value) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}/v1beta/models/{model}:generateContent"))
        .header("x-goog-api-key", KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_fields_and_too_many_inputs_are_refused() {
    let (fake, _) = gemini(fast_policy());
    let base = fake.base_url();
    let text = json!([{"role": "user", "parts": [{"text": "a cat"}]}]);
    let (status, body) = post(
        &base,
        PRO,
        json!({"contents": text, "generationConfig": {"imageConfig": {"aspect": "1:1"}}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Unknown name \\\"aspect\\\" at 'generation_config.image_config'"),
        "{body}"
    );
    let (status, body) = post(&base, PRO, json!({"contents": text, "numberOfImages": 2})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Cannot find field"), "{body}");

    // Pro takes 14 inputs in a turn; the 15th is refused.
    let b64 = base64_of(&png(8, 8));
    let mut parts = vec![json!({"text": "combine them"})];
    parts.extend(
        (0..15).map(|_| json!({"inlineData": {"mimeType": "image/png", "data": b64.clone()}})),
    );
    let (status, body) = post(
        &base,
        PRO,
        json!({"contents": [{"role": "user", "parts": parts.clone()}]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("too many images: 15 were sent") && body.contains("at most 14"),
        "{body}"
    );
    parts.pop();
    let (status, body) = post(
        &base,
        PRO,
        json!({"contents": [{"role": "user", "parts": parts}]}),
    )
    .await;
    assert_eq!(
        status,
        200,
        "14 are taken: {}",
        &body[..body.len().min(300)]
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_holds_only_on_its_own_part_in_its_place() {
    let (_fake, provider) = gemini(fast_policy());
    let out = provider
        .generate(
            &request("a red chair", PRO, |_| {}),
            &CallContext::detached(),
        )
        .await
        .unwrap();
    let turn = Turn {
        prompt: "a red chair".into(),
        inputs: Vec::new(),
        model_turn: out.turn_with_pictures(0),
    };
    let refine = |turn: Turn| {
        let mut next = request("make it blue", PRO, |_| {});
        next.history = vec![turn];
        next
    };
    // Sent back exactly as received: taken.
    provider
        .generate(&refine(turn.clone()), &CallContext::detached())
        .await
        .unwrap();
    // The thought parts dropped: the signed parts move, so their signatures break.
    let mut dropped = turn.clone();
    let parts = dropped.model_turn["parts"].as_array_mut().unwrap();
    parts.retain(|p| p.get("thought").is_none());
    assert_eq!(parts.len(), 2);
    // Two signed parts swapped: each signature sits on another part.
    let mut swapped = turn.clone();
    swapped.model_turn["parts"]
        .as_array_mut()
        .unwrap()
        .swap(2, 3);
    // The caption edited: its signature no longer covers it.
    let mut edited = turn;
    edited.model_turn["parts"][2]["text"] = json!("Here is your image: a blue chair");
    for (what, changed) in [
        ("dropped", dropped),
        ("swapped", swapped),
        ("edited", edited),
    ] {
        let err = provider
            .generate(&refine(changed), &CallContext::detached())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err}");
        assert!(
            err.to_string().contains("Corrupted thought signature"),
            "{what}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_only_retry_after_waits_what_the_header_says() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::RateLimitedHeaderOnly {
        retry_after_secs: 1,
    }]);
    let (ctx, seen) = recording_ctx();
    let out = provider
        .generate(&request("a cat", FLASH, |_| {}), &ctx)
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    let waits = retry_waits(&seen);
    assert_eq!(
        waits,
        vec![Duration::from_secs(1)],
        "no RetryInfo: the header"
    );
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_candidate_without_parts_says_why_in_plain_words() {
    for (reason, parts_null, words) in [
        ("IMAGE_SAFETY", true, "safety filter"),
        ("IMAGE_PROHIBITED_CONTENT", false, "prohibited"),
        ("IMAGE_RECITATION", true, "existing material"),
        ("NO_IMAGE", true, "did not produce an image"),
        ("SPII", false, "personal information"),
        ("BLOCKLIST", true, "blocked terms"),
        ("OTHER", false, "unstated reason"),
    ] {
        let (fake, provider) = gemini(fast_policy());
        fake.script([Fault::NoImage {
            finish_reason: reason,
            parts_null,
        }]);
        let err = provider
            .generate(&request("a cat", FLASH, |_| {}), &CallContext::detached())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused, "{reason}: {err}");
        let said = err.to_string();
        assert!(said.contains(words), "{reason}: {said}");
        assert!(
            !said.contains(reason),
            "{reason} in words, not code: {said}"
        );
        assert!(
            said.contains("could not make an image"),
            "the model's message: {said}"
        );
        assert_eq!(
            fake.request_count(),
            1,
            "{reason}: a refusal is not retried"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn precondition_and_permission_are_final_and_504_is_retried() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::FailedPrecondition]);
    let err = provider
        .generate(&request("a cat", FLASH, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(
        err.to_string().contains("User location is not supported"),
        "{err}"
    );
    assert_eq!(fake.request_count(), 1, "400 is never retried");

    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::PermissionDenied]);
    let err = provider
        .generate(&request("a cat", FLASH, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(fake.request_count(), 1, "403 is never retried");

    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::ServerError(504)]);
    let out = provider
        .generate(&request("a cat", FLASH, |_| {}), &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(
        (out.images.len(), fake.request_count()),
        (1, 2),
        "504 is retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn several_images_in_one_answer_are_all_results() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::SeveralImages(2)]);
    let mut req = request("make it blue", PRO, |r| {
        r.aspect = banana_studio::recipe::AspectRatio::Auto;
    });
    // A 2:1 input: without a ratio the answer follows it to 16:9 (1376x768 on Pro).
    with_two_tone_input(&mut req, 400, 200);
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 2, "both images of the one answer");
    for (n, image) in out.images.iter().enumerate() {
        assert_edit_of_two_tone(&image.bytes, (1376, 768), &format!("image {}", n + 1));
    }
    assert_ne!(
        out.images[0].bytes, out.images[1].bytes,
        "two pictures, not one twice"
    );
    assert_eq!(fake.request_count(), 1);
    // A plain batch of three on Flash: three requests, every image the asked size.
    let (_fake, provider) = gemini(fast_policy());
    let req = request("three", FLASH, |r| {
        r.count = 3;
        r.aspect = banana_studio::recipe::AspectRatio::Ratio(21, 9);
    });
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 3);
    for (n, image) in out.images.iter().enumerate() {
        assert_decodes_to(&image.bytes, (1536, 672), &format!("batch image {}", n + 1));
    }
}
