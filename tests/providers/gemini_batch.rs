//! The Gemini Batch API against its fake: inline and file input, results inline and as a
//! downloaded responses file, a request's own failure among successes, cancel, expiry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use banana_studio::providers::gemini_batch::RemoteState;
use banana_studio::providers::{CallContext, ErrorKind, GenerateRequest};
use common::{fast_policy, gemini, request, with_input};

const MODEL: &str = "gemini-nano-banana-2.1";

fn keyed(prompts: &[&str]) -> Vec<(String, GenerateRequest)> {
    prompts
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("r{i}"), request(p, MODEL, |_| {})))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inline_batch_moves_through_its_states_and_each_result_keeps_its_key() {
    let (fake, provider) = gemini(fast_policy());
    let ctx = CallContext::detached();
    let requests = keyed(&["a red kite", "a kite [fake:blocked-prompt]", "a blue kite"]);
    let name = provider
        .submit_batch(MODEL, "banana studio batch 1", &requests, &ctx)
        .await
        .unwrap();
    assert!(name.starts_with("batches/"), "{name}");
    assert_eq!(fake.request_count(), 0, "nothing is made at once");
    let states: Vec<RemoteState> = {
        let mut seen = Vec::new();
        for _ in 0..3 {
            seen.push(provider.batch_status(&name, &ctx).await.unwrap().state);
        }
        seen
    };
    assert_eq!(
        states,
        [
            RemoteState::Pending,
            RemoteState::Running,
            RemoteState::Succeeded
        ]
    );
    let done = provider.batch_status(&name, &ctx).await.unwrap();
    assert_eq!(done.results.len(), 3);
    let by_key = |k: &str| done.results.iter().find(|r| r.key == k).unwrap();
    assert_eq!(by_key("r0").outcome.as_ref().unwrap().images.len(), 1);
    assert_eq!(by_key("r2").outcome.as_ref().unwrap().images.len(), 1);
    let refused = by_key("r1").outcome.as_ref().unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Refused, "{refused}");
    assert!(
        by_key("r0")
            .outcome
            .as_ref()
            .unwrap()
            .charged
            .usage
            .is_some(),
        "usage comes with each result"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_batch_goes_as_a_file_with_each_image_uploaded_once() {
    let (fake, provider) = gemini(fast_policy());
    let ctx = CallContext::detached();
    // Noise does not compress: three requests sharing one ~8 MB photo pass 20 MB inline.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let photo = image::RgbImage::from_fn(1700, 1600, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let b = state.to_le_bytes();
        image::Rgb([b[0], b[1], b[2]])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(photo)
        .write_with_encoder(image::codecs::png::PngEncoder::new_with_quality(
            &mut png,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::NoFilter,
        ))
        .unwrap();
    let mut first = request("make it dusk", MODEL, |_| {});
    with_input(&mut first, "image/png", png);
    let requests: Vec<(String, GenerateRequest)> = ["dusk", "dawn", "noon"]
        .iter()
        .map(|k| {
            let mut r = first.clone();
            r.recipe.prompt = format!("make it {k}");
            (k.to_string(), r)
        })
        .collect();
    let name = provider
        .submit_batch(MODEL, "big", &requests, &ctx)
        .await
        .unwrap();
    assert_eq!(fake.uploads_finished(), 2, "the photo once, then the JSONL");
    let mut done = provider.batch_status(&name, &ctx).await.unwrap();
    while !done.state.is_over() {
        done = provider.batch_status(&name, &ctx).await.unwrap();
    }
    assert_eq!(done.state, RemoteState::Succeeded);
    let keys: Vec<&str> = done.results.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["dusk", "dawn", "noon"]);
    assert!(done.results.iter().all(|r| r.outcome.is_ok()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_or_expired_batch_says_so() {
    let (_fake, provider) = gemini(fast_policy());
    let ctx = CallContext::detached();
    let name = provider
        .submit_batch(MODEL, "to cancel", &keyed(&["a kite"]), &ctx)
        .await
        .unwrap();
    provider.cancel_batch(&name, &ctx).await.unwrap();
    let status = provider.batch_status(&name, &ctx).await.unwrap();
    assert_eq!(status.state, RemoteState::Cancelled);
    assert!(status.results.is_empty());

    let name = provider
        .submit_batch(MODEL, "expire", &keyed(&["a kite"]), &ctx)
        .await
        .unwrap();
    provider.batch_status(&name, &ctx).await.unwrap();
    let status = provider.batch_status(&name, &ctx).await.unwrap();
    assert_eq!(status.state, RemoteState::Expired);

    let err = provider
        .batch_status("batches/nope", &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelNotFound, "{err}");
}
