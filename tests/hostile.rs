//! Hostile servers on loopback, for every provider: a redirect to another host
//! (127.0.0.2 counts as another host), a server that never answers, a connection reset
//! mid-body, truncated and wrong-shape JSON, a huge body; and random mutations of real
//! answers fed to each provider's parsing (no panic in 10,000 cases each). Each case
//! checks the error class and its words, and that the key never reached another host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use banana_studio::keys::Secret;
use banana_studio::providers::eachlabs::EachlabsProvider;
use banana_studio::providers::fal::FalProvider;
use banana_studio::providers::gemini::GeminiProvider;
use banana_studio::providers::oxen::OxenProvider;
use banana_studio::providers::vydra::VydraProvider;
use banana_studio::providers::{CallContext, ErrorKind, Provider, ProviderError, RetryPolicy};
use banana_studio::recipe::ProviderId;
use base64::Engine as _;
use common::{KEY, fast_policy, png, quick_poll, request_on};
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the server does with one request.
enum Reply {
    /// These bytes, then close.
    Raw(Vec<u8>),
    /// Read the request and never answer.
    Hang,
}

type Respond = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

/// A raw HTTP/1.1 server: every request's head is kept; each answer closes the connection.
struct Hostile {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    async fn start(ip: &str, respond: Respond) -> Self {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let respond = respond.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let Some(head) = read_request(&mut stream).await else {
                        return;
                    };
                    seen.lock().unwrap().push(head.clone());
                    let mut first = head.lines().next().unwrap_or("").split(' ');
                    let method = first.next().unwrap_or("").to_owned();
                    let path = first.next().unwrap_or("").to_owned();
                    match respond(&method, &path) {
                        Reply::Raw(bytes) => {
                            let _ = stream.write_all(&bytes).await;
                            let _ = stream.shutdown().await;
                        }
                        Reply::Hang => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                    }
                });
            }
        });
        Self { addr, heads }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> usize {
        self.heads.lock().unwrap().len()
    }

    fn saw_key(&self) -> bool {
        self.heads.lock().unwrap().iter().any(|h| h.contains(KEY))
    }
}

/// Reads a request head and its body (by Content-Length); the head as text.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

fn http(status: u16, extra: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn json(status: u16, body: &str) -> Reply {
    Reply::Raw(http(status, "", "application/json", body.as_bytes()))
}

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
        let other = Hostile::start("127.0.0.2", Arc::new(|_, _| json(200, "{}"))).await;
        let target = other.base();
        let home = Hostile::start(
            "127.0.0.1",
            Arc::new(move |_, path| {
                let location = format!("location: {target}{path}\r\n");
                Reply::Raw(http(307, &location, "text/plain", b""))
            }),
        )
        .await;
        let err = generate(id, &home.base()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{id}: {err}");
        assert_eq!(err.kind().exit_code(), 6);
        let words = err.to_string();
        assert!(words.contains("127.0.0.2"), "{id}: names the host: {words}");
        assert!(words.contains("not followed"), "{id}: {words}");
        assert!(!words.contains(KEY));
        assert_eq!(home.requests(), 1, "{id}: a redirect is not retried");
        assert_eq!(other.requests(), 0, "{id}: nothing reached the other host");
        assert!(!other.saw_key());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_ends_the_job_after_two_attempts() {
    for id in ProviderId::ALL {
        let server = Hostile::start("127.0.0.1", Arc::new(|_, _| Reply::Hang)).await;
        let started = Instant::now();
        let err = generate(id, &server.base()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{id}: {err}");
        assert_eq!(err.kind().exit_code(), 6);
        assert!(err.to_string().starts_with("no answer after"), "{err}");
        assert_eq!(
            server.requests(),
            2,
            "{id}: one more attempt after a timeout"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{id}");
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

/// The answers a well-behaved service of each kind gives, by method and path, with
/// result URLs on `base`.
fn good_answer(id: ProviderId, base: &str, method: &str, path: &str) -> (u16, String, Vec<u8>) {
    answer_with_image(id, base, method, path, &png(8, 6))
}

/// [`good_answer`] with these bytes as the result image.
fn answer_with_image(
    id: ProviderId,
    base: &str,
    method: &str,
    path: &str,
    image: &[u8],
) -> (u16, String, Vec<u8>) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(image);
    if path.ends_with("/img.png") {
        return (200, "image/png".into(), image.to_vec());
    }
    let body = match id {
        ProviderId::Gemini => format!(
            r#"{{"candidates":[{{"content":{{"role":"model","parts":[{{"text":"Here","thoughtSignature":"c2ln"}},{{"inlineData":{{"mimeType":"image/png","data":"{b64}"}}}}]}},"finishReason":"STOP"}}],"usageMetadata":{{"promptTokenCount":3}}}}"#
        ),
        ProviderId::Fal if method == "POST" => format!(
            r#"{{"status":"IN_QUEUE","request_id":"r1","status_url":"{base}/fal-ai/nano-banana/requests/r1/status","response_url":"{base}/fal-ai/nano-banana/requests/r1","cancel_url":"{base}/fal-ai/nano-banana/requests/r1/cancel","queue_position":0}}"#
        ),
        ProviderId::Fal if path.contains("/status") => {
            r#"{"status":"COMPLETED","logs":[{"message":"done"}]}"#.to_owned()
        }
        ProviderId::Fal => format!(r#"{{"images":[{{"url":"{base}/img.png"}}],"description":"x"}}"#),
        ProviderId::Eachlabs if method == "POST" => {
            r#"{"status":"success","message":"Prediction created successfully","predictionID":"p1"}"#
                .to_owned()
        }
        ProviderId::Eachlabs => format!(
            r#"{{"id":"p1","status":"success","output":"{base}/img.png","metrics":{{"cost":0.04}}}}"#
        ),
        ProviderId::Oxen => format!(r#"{{"model":"nano-banana","created":1,"images":[{{"b64_json":"{b64}"}}]}}"#),
        ProviderId::Vydra if path.contains("organization") => {
            r#"{"creditsRemaining":90}"#.to_owned()
        }
        ProviderId::Vydra => format!(
            r#"{{"imageUrl":"{base}/img.png","mimeType":"image/png","mode":"generate","creditsCharged":8}}"#
        ),
    };
    (200, "application/json".into(), body.into_bytes())
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

/// The CLI against a hostile Gemini stand-in, in a fresh data folder.
fn cli(data: &std::path::Path, base: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_banana-studio"));
    cmd.arg("--data-dir")
        .arg(data)
        .env("BANANA_STUDIO_KEYSTORE", "memory")
        .env("GEMINI_API_KEY", KEY)
        .env("BANANA_STUDIO_GEMINI_BASE_URL", base)
        .env_remove("BANANA_STUDIO_LOG");
    cmd
}

fn stored_images(data: &std::path::Path) -> usize {
    std::fs::read_dir(data.join("images"))
        .map(|d| d.flatten().count())
        .unwrap_or(0)
}

/// A PNG whose header claims 60000 x 60000 pixels.
fn bomb_png() -> Vec<u8> {
    let mut bomb = png(8, 8);
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    bomb
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
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_banana-studio"));
        cmd.arg("--data-dir")
            .arg(data.path())
            .env("BANANA_STUDIO_KEYSTORE", "memory")
            .env_remove("BANANA_STUDIO_LOG");
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
        assert!(server.saw_key(), "{id}: the key went to its own host");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_names_a_bomb_image_a_bad_answer_and_stores_nothing() {
    // As base64 in the URL-safe alphabet without padding (a Python SDK gateway's way).
    let bomb = bomb_png();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bomb);
    let body = format!(
        r#"{{"candidates":[{{"content":{{"parts":[{{"inlineData":{{"mimeType":"image/png","data":"{b64}"}}}}]}},"finishReason":"STOP"}}]}}"#
    );
    let server = Hostile::start("127.0.0.1", Arc::new(move |_, _| json(200, &body))).await;
    let data = tempfile::tempdir().unwrap();
    let output = cli(data.path(), &server.base())
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
async fn the_cli_gives_up_on_a_silent_server_after_the_deadline_settings_ask() {
    let server = Hostile::start("127.0.0.1", Arc::new(|_, _| Reply::Hang)).await;
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("settings.json"),
        r#"{"attempt_timeout_secs": 1}"#,
    )
    .unwrap();
    let started = Instant::now();
    let output = cli(data.path(), &server.base())
        .args(["generate", "x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("no answer after 1 s"), "{stderr}");
    assert_eq!(server.requests(), 2);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(stored_images(data.path()), 0);
    assert!(!stderr.contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_a_redirect_away_and_says_where() {
    let other = Hostile::start("127.0.0.2", Arc::new(|_, _| json(200, "{}"))).await;
    let target = other.base();
    let home = Hostile::start(
        "127.0.0.1",
        Arc::new(move |_, path| {
            let location = format!("location: {target}{path}\r\n");
            Reply::Raw(http(307, &location, "text/plain", b""))
        }),
    )
    .await;
    let data = tempfile::tempdir().unwrap();
    let output = cli(data.path(), &home.base())
        .args(["generate", "x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("127.0.0.2"), "{stderr}");
    assert_eq!(other.requests(), 0);
    assert_eq!(stored_images(data.path()), 0);
}
