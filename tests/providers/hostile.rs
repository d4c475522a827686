//! Hostile servers on loopback, for every provider: a redirect to another host
//! (127.0.0.2 counts as another host), a server that never answers, a connection reset
//! mid-body, truncated and wrong-shape JSON, a huge body; and random mutations of real
//! answers fed to each provider's parsing (no panic in 10,000 cases each). Each case
//! checks the error class and its words, and that the key never reached another host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::hostile_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use banana_studio::keys::Secret;
use banana_studio::providers::eachlabs::EachlabsProvider;
use banana_studio::providers::fal::FalProvider;
use banana_studio::providers::gemini::GeminiProvider;
use banana_studio::providers::oxen::OxenProvider;
use banana_studio::providers::vydra::VydraProvider;
use banana_studio::providers::{CallContext, ErrorKind, Provider, ProviderError, RetryPolicy};
use banana_studio::recipe::ProviderId;
use common::{KEY, fast_policy, png, quick_poll, request_on};
use hostile_support::{Hostile, Reply, good_answer, http, json, redirect_away};
use rand::{Rng, SeedableRng};

/// Short waits and a short per-attempt deadline, so the never-answering case ends fast.
fn policy() -> RetryPolicy {
    RetryPolicy {
        attempt_timeout: Duration::from_millis(400),
        ..fast_policy()
    }
}

/// A provider of each kind pointed at `base`.
fn provider(id: ProviderId, base: &str) -> Arc<dyn Provider> {
    let key = Secret::new(KEY);
    match id {
        ProviderId::Gemini => Arc::new(GeminiProvider::new(base, key, policy())),
        ProviderId::Fal => {
            Arc::new(FalProvider::new(base, base, key, policy()).with_poll(quick_poll()))
        }
        ProviderId::Eachlabs => {
            Arc::new(EachlabsProvider::new(base, key, policy()).with_poll(quick_poll()))
        }
        ProviderId::Oxen => {
            Arc::new(OxenProvider::new(base, key, policy()).with_poll(quick_poll()))
        }
        ProviderId::Vydra => Arc::new(VydraProvider::new(base, key, policy())),
    }
}

fn model_of(id: ProviderId) -> &'static str {
    match id {
        ProviderId::Gemini => "gemini-3-pro-image",
        ProviderId::Fal => "fal-ai/nano-banana",
        _ => "nano-banana",
    }
}

async fn generate(id: ProviderId, base: &str) -> Result<usize, ProviderError> {
    let request = request_on(id, "a lighthouse", model_of(id), |_| {});
    provider(id, base)
        .generate(&request, &CallContext::detached())
        .await
        .map(|out| out.images.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_not_followed_and_the_key_stays_home() {
    for id in ProviderId::ALL {
        let (home, other) = redirect_away().await;
        let err = generate(id, &home.base()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{id}: {err}");
        assert_eq!(err.kind().exit_code(), 6);
        let words = err.to_string();
        assert!(words.contains("127.0.0.2"), "{id}: names the host: {words}");
        assert!(words.contains("not followed"), "{id}: {words}");
        assert!(!words.contains(KEY));
        assert_eq!(home.requests(), 1, "{id}: a redirect is not retried");
        assert_eq!(other.requests(), 0, "{id}: nothing reached the other host");
        assert!(!other.saw(KEY));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_ends_the_job_after_two_attempts() {
    for id in ProviderId::ALL {
        let server = Hostile::start("127.0.0.1", Arc::new(|_, _| Reply::Hang)).await;
        let err = generate(id, &server.base()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{id}: {err}");
        assert_eq!(err.kind().exit_code(), 6);
        assert!(err.to_string().starts_with("no answer after"), "{err}");
        assert_eq!(
            server.requests(),
            2,
            "{id}: one more attempt after a timeout"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_body_is_retried_then_named_a_network_failure() {
    for id in ProviderId::ALL {
        let server = Hostile::start(
            "127.0.0.1",
            Arc::new(|_, _| {
                // Promises 5000 bytes, sends a few, closes.
                let mut bytes = http(200, "", "application/json", b"");
                let head = String::from_utf8(bytes.clone())
                    .unwrap()
                    .replace("content-length: 0", "content-length: 5000");
                bytes = head.into_bytes();
                bytes.extend_from_slice(b"{\"candidates\":[{\"con");
                Reply::Raw(bytes)
            }),
        )
        .await;
        let err = generate(id, &server.base()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{id}: {err}");
        assert!(err.to_string().contains("broke"), "{id}: {err}");
        assert_eq!(server.requests(), 4, "{id}: retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_wrong_shape_and_huge_answers_are_bad_responses() {
    for id in ProviderId::ALL {
        for (what, body) in [
            (
                "truncated",
                "{\"candidates\":[{\"content\":{\"parts\":[{\"te",
            ),
            (
                "wrong shape",
                "{\"status\":\"ok\",\"images\":\"none\",\"candidates\":{},\"output\":7,\"imageUrl\":5}",
            ),
        ] {
            let body = body.to_owned();
            let server = Hostile::start("127.0.0.1", Arc::new(move |_, _| json(200, &body))).await;
            let err = generate(id, &server.base()).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadResponse, "{id} {what}: {err}");
            assert_eq!(err.kind().exit_code(), 6);
            assert!(
                err.to_string().contains("cannot read"),
                "{id} {what}: {err}"
            );
        }
        // A body larger than any answer may be: refused by its length, unread.
        let server = Hostile::start(
            "127.0.0.1",
            Arc::new(|_, _| {
                Reply::Raw(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 900000000\r\nconnection: close\r\n\r\n{"
                        .to_vec(),
                )
            }),
        )
        .await;
        let err = generate(id, &server.base()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadResponse, "{id} huge: {err}");
        assert!(err.to_string().contains("limit"), "{id} huge: {err}");
    }
}

/// One random change to a JSON text: a byte flipped, cut, a value swapped for another
/// kind, a field dropped or duplicated.
fn mutate(rng: &mut rand::rngs::StdRng, body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    if out.is_empty() {
        return out;
    }
    match rng.random_range(0..6) {
        0 => {
            let at = rng.random_range(0..out.len());
            out[at] = rng.random();
        }
        1 => out.truncate(rng.random_range(0..out.len())),
        2 => {
            let at = rng.random_range(0..out.len());
            let junk: &[u8] = [
                &b"null"[..],
                b"[]",
                b"{}",
                b"-1e999",
                b"\"\"",
                b"true",
                b"\"\\u0000\"",
            ][rng.random_range(0..7)];
            out.splice(at..at, junk.iter().copied());
        }
        3 => {
            // Replace a JSON value after a colon with another kind.
            let colons: Vec<usize> = out
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b':')
                .map(|(i, _)| i)
                .collect();
            if let Some(&at) = colons.get(rng.random_range(0..colons.len().max(1))) {
                let end = out[at + 1..]
                    .iter()
                    .position(|b| *b == b',' || *b == b'}')
                    .map_or(out.len(), |p| at + 1 + p);
                let value: &[u8] = [
                    &b"null"[..],
                    b"[1,2]",
                    b"{\"a\":{}}",
                    b"12345678901234567890",
                    b"\"x\"",
                ][rng.random_range(0..5)];
                out.splice(at + 1..end, value.iter().copied());
            }
        }
        4 => {
            let at = rng.random_range(0..out.len());
            let len = rng.random_range(0..(out.len() - at).min(40) + 1);
            out.drain(at..at + len);
        }
        _ => {
            let at = rng.random_range(0..out.len());
            let from = rng.random_range(0..out.len());
            let piece: Vec<u8> = out[from..(from + 30).min(out.len())].to_vec();
            out.splice(at..at, piece);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_mutations_of_real_answers_never_panic() {
    const CASES: usize = 10_000;
    for id in ProviderId::ALL {
        let case = Arc::new(Mutex::new((
            rand::rngs::StdRng::seed_from_u64(id as u64 + 7),
            0usize,
        )));
        let base = Arc::new(Mutex::new(String::new()));
        let (c, b) = (case.clone(), base.clone());
        let server = Hostile::start(
            "127.0.0.1",
            Arc::new(move |method, path| {
                let base = b.lock().unwrap().clone();
                let (status, content_type, body) = good_answer(id, &base, method, path);
                let mut guard = c.lock().unwrap();
                let (rng, _) = &mut *guard;
                // Every answer of a case has one chance in two of being mutated.
                let body = if !path.ends_with("/img.png") && rng.random_bool(0.5) {
                    mutate(rng, &body)
                } else {
                    body
                };
                Reply::Raw(http(status, "", &content_type, &body))
            }),
        )
        .await;
        *base.lock().unwrap() = server.base();
        let provider = provider(id, &server.base());
        let request = request_on(id, "a lighthouse", model_of(id), |_| {});
        let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
        for n in 0..CASES {
            case.lock().unwrap().1 = n;
            let result = tokio::time::timeout(
                Duration::from_secs(10),
                provider.generate(&request, &CallContext::detached()),
            )
            .await
            .unwrap_or_else(|_| panic!("{id}: case {n} hung"));
            *outcomes
                .entry(match result {
                    Ok(_) => "ok",
                    Err(e) => e.kind().as_str(),
                })
                .or_default() += 1;
        }
        // Both readable and unreadable answers were met.
        assert!(
            outcomes.get("ok").copied().unwrap_or(0) > 0,
            "{id}: {outcomes:?}"
        );
        assert!(outcomes.len() > 1, "{id}: {outcomes:?}");
        eprintln!("{id}: {outcomes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_download_hop_is_checked_and_carries_no_referer() {
    use banana_studio::providers::download;
    use banana_studio::providers::http::download_client;
    let ctx = CallContext::detached();
    // A hop to plain http on another machine is refused before anything is sent there.
    let to_http = Hostile::start(
        "127.0.0.1",
        Arc::new(|_, _| {
            let location = "location: http://cdn.example.invalid/x.png?X-Amz-Signature=s3cr3t\r\n";
            Reply::Raw(http(302, location, "text/plain", b""))
        }),
    )
    .await;
    let url = format!("{}/files/signed.png?token=abc", to_http.base());
    let err = download::image(&download_client(), &url, &policy(), &ctx)
        .await
        .unwrap_err();
    let words = err.to_string();
    assert!(words.contains("cdn.example.invalid"), "{words}");
    assert!(words.contains("not https"), "{words}");
    assert!(!words.contains("s3cr3t"), "{words}");

    // A hop to an allowed host is followed, without a Referer carrying the signed URL.
    let image_host = Hostile::start(
        "127.0.0.2",
        Arc::new(|_, _| Reply::Raw(http(200, "", "image/png", &png(4, 4)))),
    )
    .await;
    let target = image_host.base();
    let hop = Hostile::start(
        "127.0.0.1",
        Arc::new(move |_, _| {
            let location = format!("location: {target}/x.png\r\n");
            Reply::Raw(http(302, &location, "text/plain", b""))
        }),
    )
    .await;
    let url = format!("{}/files/signed.png?token=abc", hop.base());
    let image = download::image(&download_client(), &url, &policy(), &ctx)
        .await
        .unwrap();
    assert_eq!(image.mime, "image/png");
    let heads = image_host.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1);
    assert!(
        !heads[0].to_ascii_lowercase().contains("referer"),
        "{}",
        heads[0]
    );

    // Too many hops end in words.
    let looping: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
    let l = looping.clone();
    let server = Hostile::start(
        "127.0.0.1",
        Arc::new(move |_, _| {
            let location = format!("location: {}/again\r\n", l.lock().unwrap());
            Reply::Raw(http(302, &location, "text/plain", b""))
        }),
    )
    .await;
    *looping.lock().unwrap() = server.base();
    let err = download::image(
        &download_client(),
        &format!("{}/a", server.base()),
        &policy(),
        &ctx,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("more than 5 times"), "{err}");
}
