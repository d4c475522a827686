//! Contract tests of the Gemini provider against its fake: every behaviour of the
//! provider and every fault scenario of the fake, asserting the user-facing kind and words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use banana_studio::fake::Fault;
use banana_studio::imaging;
use banana_studio::keys::Secret;
use banana_studio::providers::gemini::GeminiProvider;
use banana_studio::providers::{CallContext, ErrorKind, Progress, Provider, ProviderError, Turn};
use banana_studio::recipe::{AspectRatio, Catalog, ImageSize, ProviderId, Search, ThinkingLevel};
use common::{KEY, cancel_once_polled, fast_policy, gemini, recording_ctx, request};
use serde_json::{Value, json};

const PRO: &str = "gemini-3-pro-image";
const FLASH: &str = "gemini-2.5-flash-image";

#[tokio::test(flavor = "multi_thread")]
async fn pro_answer_skips_thoughts_and_keeps_the_signed_turn() {
    let (_fake, provider) = gemini(fast_policy());
    let req = request("a lighthouse at dusk", PRO, |_| {});
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(
        out.images.len(),
        1,
        "the interim thought image must not be a result"
    );
    let (w, h) = imaging::dimensions(&out.images[0].bytes).unwrap();
    assert_eq!((w, h), (1024, 1024));
    assert_eq!(
        out.text.as_deref(),
        Some("Here is your image: a lighthouse at dusk")
    );
    let parts = out.model_turns[0]["parts"].as_array().unwrap();
    assert_eq!(
        parts.len(),
        4,
        "the model turn is kept exactly, thoughts included"
    );
    assert!(
        parts[3]["thoughtSignature"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn decoded_pixel_size_matches_ratio_and_size() {
    let (_fake, provider) = gemini(fast_policy());
    let cases = [
        (
            PRO,
            AspectRatio::Ratio(16, 9),
            Some(ImageSize::K2),
            (2752, 1536),
        ),
        (
            PRO,
            AspectRatio::Ratio(21, 9),
            Some(ImageSize::K1),
            (1584, 672),
        ),
        (FLASH, AspectRatio::Ratio(21, 9), None, (1536, 672)),
        (FLASH, AspectRatio::Ratio(9, 16), None, (768, 1344)),
        (
            PRO,
            AspectRatio::Ratio(16, 9),
            Some(ImageSize::K4),
            (5504, 3072),
        ),
    ];
    for (model, aspect, size, expected) in cases {
        let req = request("size check", model, |r| {
            r.aspect = aspect;
            r.size = size;
        });
        let out = provider
            .generate(&req, &CallContext::detached())
            .await
            .unwrap();
        let decoded = imaging::decode(&out.images[0].bytes).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            expected,
            "{model} {aspect} {size:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn count_n_is_n_parallel_requests_without_candidate_count() {
    let (fake, provider) = gemini(fast_policy());
    let req = request("three pears", PRO, |r| {
        r.count = 3;
        r.seed = Some(7);
    });
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 3);
    assert_eq!(fake.request_count(), 3);
    let bodies = fake.request_bodies();
    let mut seeds: Vec<u64> = bodies
        .iter()
        .map(|b| b["generationConfig"]["seed"].as_u64().unwrap())
        .collect();
    seeds.sort_unstable();
    assert_eq!(seeds, vec![7, 8, 9], "each request gets its own seed");
    assert!(
        bodies
            .iter()
            .all(|b| b["generationConfig"].get("candidateCount").is_none())
    );
    assert_ne!(out.images[0].bytes, out.images[1].bytes);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_image_is_told_of_as_it_arrives_with_the_bytes_it_ends_with() {
    let (_fake, provider) = gemini(fast_policy());
    let req = request("three pears", PRO, |r| r.count = 3);
    let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut ctx = CallContext::detached();
    let sink = told.clone();
    ctx.on_image = Some(std::sync::Arc::new(move |image| {
        sink.lock().unwrap().push(image.bytes.clone());
    }));
    let out = provider.generate(&req, &ctx).await.unwrap();
    let told = told.lock().unwrap();
    assert_eq!(told.len(), 3, "once per image");
    for image in &out.images {
        // The very bytes, shared rather than copied, so early work is matched to them.
        assert!(told.iter().any(|t| std::sync::Arc::ptr_eq(t, &image.bytes)));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn image_size_is_uppercase_for_pro_and_never_sent_to_flash() {
    let (fake, provider) = gemini(fast_policy());
    let pro = request("x", PRO, |r| r.size = Some(ImageSize::K2));
    provider
        .generate(&pro, &CallContext::detached())
        .await
        .unwrap();
    let flash = request("x", FLASH, |r| r.aspect = AspectRatio::Ratio(3, 2));
    provider
        .generate(&flash, &CallContext::detached())
        .await
        .unwrap();
    let bodies = fake.request_bodies();
    assert_eq!(
        bodies[0]["generationConfig"]["imageConfig"]["imageSize"],
        "2K"
    );
    assert!(
        bodies[1]["generationConfig"]["imageConfig"]
            .get("imageSize")
            .is_none()
    );
    assert_eq!(
        bodies[1]["generationConfig"]["imageConfig"]["aspectRatio"],
        "3:2"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thinking_level_goes_as_the_service_spells_it_and_only_where_taken() {
    let (fake, provider) = gemini(fast_policy());
    let level = request("x", "gemini-nano-banana-2.1", |r| {
        r.thinking = Some(ThinkingLevel::High);
    });
    provider
        .generate(&level, &CallContext::detached())
        .await
        .unwrap();
    // A level the model lacks never goes out (validation refuses it before sending).
    let pro = request("x", PRO, |r| r.thinking = Some(ThinkingLevel::High));
    provider
        .generate(&pro, &CallContext::detached())
        .await
        .unwrap();
    let bodies = fake.request_bodies();
    assert_eq!(
        bodies[0]["generationConfig"]["thinkingConfig"],
        json!({"thinkingLevel": "HIGH"})
    );
    assert!(
        bodies[1]["generationConfig"]
            .get("thinkingConfig")
            .is_none()
    );
    // The fake refuses what the service refuses: a level the model lacks, and any
    // thinking level for a model that takes none.
    let base = fake.base_url();
    let contents = json!([{"role": "user", "parts": [{"text": "a cat"}]}]);
    for (model, level, words) in [
        (
            "gemini-3.1-flash-lite-image",
            "MEDIUM",
            "unsupported thinking level \"MEDIUM\"",
        ),
        (
            PRO,
            "HIGH",
            "thinking level is not supported by models/gemini-3-pro-image",
        ),
        (
            FLASH,
            "LOW",
            "not supported by models/gemini-2.5-flash-image",
        ),
    ] {
        let (status, body) = raw_post(
            &base,
            model,
            json!({"contents": contents,
                   "generationConfig": {"thinkingConfig": {"thinkingLevel": level}}}),
        )
        .await;
        assert_eq!(status, 400, "{model} {level}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn search_grounding_goes_as_a_tool_and_its_sources_come_back() {
    let (fake, provider) = gemini(fast_policy());
    let req = request("the Eiffel tower at dusk", "gemini-nano-banana-2.1", |r| {
        r.search = Some(Search::WebAndImage);
    });
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    let body = &fake.request_bodies()[0];
    assert_eq!(
        body["tools"],
        json!([{"googleSearch": {"searchTypes": {"webSearch": {}, "imageSearch": {}}}}])
    );
    let grounding = out.grounding.expect("a grounded answer's sources");
    assert_eq!(grounding.sources.len(), 3);
    assert!(grounding.sources[0].uri.starts_with("https://"));
    assert_eq!(grounding.queries, vec!["the Eiffel tower at"]);
    assert!(
        grounding
            .suggestions_html
            .unwrap()
            .contains("google.com/search")
    );
    // Ungrounded answers carry none.
    let plain = request("a cat", "gemini-nano-banana-2.1", |_| {});
    let out = provider
        .generate(&plain, &CallContext::detached())
        .await
        .unwrap();
    assert!(out.grounding.is_none());
    assert!(fake.request_bodies()[1].get("tools").is_none());
    // The fake refuses grounding the model lacks, as the service does.
    let base = fake.base_url();
    let contents = json!([{"role": "user", "parts": [{"text": "a cat"}]}]);
    for (model, types, words) in [
        (
            PRO,
            json!({"imageSearch": {}}),
            "image search is not supported",
        ),
        (
            "gemini-3.1-flash-lite-image",
            json!({"webSearch": {}}),
            "Search Grounding is not supported",
        ),
    ] {
        let (status, body) = raw_post(
            &base,
            model,
            json!({"contents": contents, "tools": [{"googleSearch": {"searchTypes": types}}]}),
        )
        .await;
        assert_eq!(status, 400, "{model}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }
}

async fn raw_post(base: &str, model: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/v1beta/models/{model}:generateContent"))
        .header("x-goog-api-key", KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_rejects_what_the_real_service_rejects() {
    let (fake, _provider) = gemini(fast_policy());
    let base = fake.base_url();
    let contents = json!([{"role": "user", "parts": [{"text": "a cat"}]}]);
    let (status, body) = raw_post(
        &base,
        PRO,
        json!({"contents": contents,
        "generationConfig": {"imageConfig": {"imageSize": "2k"}}}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unsupported image size \"2k\"")
    );
    let (status, body) = raw_post(
        &base,
        FLASH,
        json!({"contents": contents,
        "generationConfig": {"imageConfig": {"imageSize": "1K"}}}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("image_size is not supported")
    );
    let (status, body) = raw_post(
        &base,
        PRO,
        json!({"contents": contents,
        "generationConfig": {"candidateCount": 2}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    // Snake case is accepted, as by the real service.
    let (status, _) = raw_post(
        &base,
        PRO,
        json!({"contents": contents,
        "generation_config": {"image_config": {"aspect_ratio": "4:3", "image_size": "1K"}}}),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_argument_is_not_retried_and_keeps_the_service_words() {
    let (fake, provider) = gemini(fast_policy());
    // A ratio the catalog lacks for the model reaches the fake only by bypassing validation.
    let req = request("x", PRO, |r| r.aspect = AspectRatio::Ratio(1, 8));
    let err = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("unsupported aspect ratio \"1:8\""),
        "{err}"
    );
    assert_eq!(fake.request_count(), 1, "400 is never retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_or_missing_key_is_an_auth_error() {
    let (fake, _) = gemini(fast_policy());
    let wrong = GeminiProvider::new(fake.base_url(), Secret::new("AIza-wrong"), fast_policy());
    let err = wrong
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("API key not valid"), "{err}");
    assert!(
        !err.to_string().contains("AIza-wrong"),
        "the key never appears in an error"
    );
    assert_eq!(err.kind().exit_code(), 4);
    let missing = GeminiProvider::new(fake.base_url(), Secret::new(""), fast_policy());
    let err = missing
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_or_retired_model_is_model_not_found() {
    let (_fake, provider) = gemini(fast_policy());
    let req = request("x", "gemini-3-pro-image-preview", |_| {});
    let err = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelNotFound);
    assert!(
        err.to_string()
            .contains("gemini-3-pro-image-preview is not available"),
        "{err}"
    );
    assert!(err.to_string().contains("live model list"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn blocked_image_is_refused_with_the_reason_and_the_message() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::BlockedImage]);
    let err = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    match &err {
        ProviderError::Refused { reason, text } => {
            assert_eq!(
                reason,
                "No image: the image was blocked by the safety filter"
            );
            assert!(text.as_deref().unwrap().contains("Prohibited Use policy"));
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    assert_eq!(err.kind().exit_code(), 3);
    assert_eq!(fake.request_count(), 1, "a refusal is not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn blocked_prompt_is_refused_in_plain_words() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::BlockedPrompt]);
    let err = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert_eq!(
        err.to_string(),
        "The prompt was blocked: it asks for prohibited content"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn text_only_answer_is_refused_with_the_model_text() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::TextOnly]);
    let err = provider
        .generate(&request("x", FLASH, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert!(
        err.to_string()
            .starts_with("The model answered with text only"),
        "{err}"
    );
    assert!(err.to_string().contains("Could you tell me more"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_honours_retry_info_then_succeeds() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::RateLimited {
        retry_after_secs: 0.3,
    }]);
    let (ctx, seen) = recording_ctx();
    let out = provider
        .generate(&request("x", PRO, |_| {}), &ctx)
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    assert_eq!(fake.request_count(), 2);
    let seen = seen.lock().unwrap();
    match seen.first() {
        Some(Progress::Retrying(n)) => {
            assert_eq!(n.wait, Duration::from_millis(300));
            assert!(
                n.reason
                    .contains("requests per minute for this model on the free tier"),
                "{}",
                n.reason
            );
            assert!(
                !n.reason.contains("PerMinute"),
                "no raw quota id: {}",
                n.reason
            );
        }
        other => panic!("expected a retry notice, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_still_hit_after_four_attempts_names_the_quota() {
    let (fake, provider) = gemini(fast_policy());
    fake.script(vec![
        Fault::RateLimited {
            retry_after_secs: 0.05
        };
        4
    ]);
    let err = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.kind().exit_code(), 5);
    assert!(
        err.to_string()
            .contains("limit of requests per minute for this model on the free tier"),
        "{err}"
    );
    assert!(
        err.to_string().contains("enable billing"),
        "a way forward: {err}"
    );
    assert_eq!(fake.request_count(), 4, "at most 4 attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_500s_is_retried_with_backoff() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([
        Fault::ServerError(500),
        Fault::ServerError(503),
        Fault::ServerError(500),
    ]);
    let out = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    assert_eq!(fake.request_count(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_past_four_attempts_are_a_server_failure() {
    let (fake, provider) = gemini(fast_policy());
    fake.script(vec![Fault::ServerError(503); 5]);
    let err = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(
        err.to_string(),
        "the service failed (HTTP 503): The model is overloaded. Please try again later."
    );
    assert_eq!(err.kind().exit_code(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_reply_times_out_each_attempt() {
    let mut policy = fast_policy();
    policy.attempt_timeout = Duration::from_millis(300);
    policy.max_attempts = 2;
    let (fake, provider) = gemini(policy);
    fake.script(vec![Fault::Slow(Duration::from_secs(5)); 2]);
    let err = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(fake.request_count(), 2, "timeouts are retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_a_bad_response_and_not_retried() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::MalformedJson]);
    let err = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse);
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_body_is_a_network_error_and_retried() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::TruncatedBody]);
    let out = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    assert_eq!(fake.request_count(), 2);
    fake.script(vec![Fault::TruncatedBody; 4]);
    let err = provider
        .generate(&request("x", PRO, |_| {}), &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.to_string().contains("connection broke"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_aborts_the_request_in_flight() {
    let (fake, provider) = gemini(fast_policy());
    fake.script([Fault::Slow(Duration::from_secs(30))]);
    let ctx = CallContext::detached();
    // The answer would take 30 s and then succeed: only a cancel that aborts the request
    // on the wire ends the call with Cancelled.
    let req = request("x", PRO, |_| {});
    let (result, _) = tokio::join!(
        provider.generate(&req, &ctx),
        cancel_once_polled(&ctx, || fake.request_count())
    );
    let err = result.unwrap_err();
    assert_eq!(err, ProviderError::Cancelled);
    assert_eq!(err.kind().exit_code(), 130);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_model_list_is_paged_and_merged() {
    let (_fake, provider) = gemini(fast_policy());
    let live = provider
        .list_models(&CallContext::detached())
        .await
        .unwrap();
    assert!(live.iter().any(|m| m.id == PRO && m.generates));
    assert!(
        live.iter()
            .any(|m| m.id == "text-embedding-004" && !m.generates),
        "both pages read"
    );
    let mut catalog = Catalog::bundled();
    catalog.merge_live(ProviderId::Gemini, &live);
    assert_eq!(
        catalog.model(ProviderId::Gemini, PRO).unwrap().live,
        Some(true)
    );
    let retired = catalog
        .model(ProviderId::Gemini, "gemini-3-pro-image-preview")
        .unwrap();
    assert_eq!(retired.live, Some(false));
}

#[tokio::test(flavor = "multi_thread")]
async fn multi_turn_pro_needs_every_signature_back() {
    let (fake, provider) = gemini(fast_policy());
    let first = request("a red chair", PRO, |_| {});
    let out = provider
        .generate(&first, &CallContext::detached())
        .await
        .unwrap();
    let turn = Turn {
        prompt: "a red chair".into(),
        inputs: Vec::new(),
        model_turn: out.turn_with_pictures(0),
    };
    let mut second = request("make it blue", PRO, |_| {});
    second.history = vec![turn.clone()];
    provider
        .generate(&second, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(
        fake.returned_signatures(),
        2,
        "text and image signatures came back"
    );

    let mut stripped = turn;
    stripped.model_turn["parts"][3]
        .as_object_mut()
        .unwrap()
        .remove("thoughtSignature");
    let mut third = request("make it green", PRO, |_| {});
    third.history = vec![stripped];
    let err = provider
        .generate(&third, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains(
            "Image part is missing a thought_signature in content position 2, part position 4"
        ),
        "{err}"
    );
}
