//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use banana_studio::fake::FakeGemini;
use banana_studio::keys::Secret;
use banana_studio::providers::gemini::GeminiProvider;
use banana_studio::providers::{CallContext, GenerateRequest, Progress, RetryPolicy};
use banana_studio::recipe::{Catalog, ProviderId, Recipe};

/// The key the test fakes accept.
pub const KEY: &str = "test-key-0123456789";

/// A retry policy with short waits, so fault tests run fast.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(80),
        max_server_wait: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(30),
    }
}

/// A fake and a provider pointed at it.
pub fn gemini(policy: RetryPolicy) -> (FakeGemini, GeminiProvider) {
    let fake = FakeGemini::start(&tokio::runtime::Handle::current(), KEY).unwrap();
    let provider = GeminiProvider::new(fake.base_url(), Secret::new(KEY), policy);
    (fake, provider)
}

/// A request for a recipe on a Gemini model.
pub fn request(prompt: &str, model: &str, edit: impl FnOnce(&mut Recipe)) -> GenerateRequest {
    request_on(ProviderId::Gemini, prompt, model, edit)
}

/// A request for a recipe on a provider's model.
pub fn request_on(
    provider: ProviderId,
    prompt: &str,
    model: &str,
    edit: impl FnOnce(&mut Recipe),
) -> GenerateRequest {
    let catalog = Catalog::bundled();
    let mut recipe = Recipe::new(prompt, provider, &catalog);
    recipe.model = model.to_owned();
    let info = catalog.model(provider, model).unwrap().clone();
    recipe.size = info.default_size;
    edit(&mut recipe);
    GenerateRequest {
        recipe,
        model: info,
        inputs: Vec::new(),
        history: Vec::new(),
    }
}

/// A call context that records progress.
pub fn recording_ctx() -> (CallContext, Arc<Mutex<Vec<Progress>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let mut ctx = CallContext::detached();
    ctx.progress = Arc::new(move |p| sink.lock().unwrap().push(p));
    (ctx, seen)
}

/// A plain PNG of this size.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 120, 40]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Makes a request an edit of one local input with these bytes.
pub fn with_input(req: &mut GenerateRequest, mime: &str, bytes: Vec<u8>) {
    req.recipe.inputs = vec![banana_studio::recipe::InputImage {
        sha256: "a".repeat(64),
        mime: mime.into(),
        width: 40,
        height: 30,
    }];
    req.inputs = vec![banana_studio::providers::InputBytes {
        mime: mime.into(),
        bytes: Arc::new(bytes),
    }];
}

/// The notes a recorded context received.
pub fn notes(seen: &Mutex<Vec<Progress>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|p| match p {
            Progress::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Cancels `ctx` once the service has been polled (it has the job in hand), so the cancel
/// comes at the moment a test means however loaded the machine; returns the polls seen
/// then. Run it beside the call with `tokio::join!`.
pub async fn cancel_once_polled(ctx: &CallContext, polls: impl Fn() -> u64) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let seen = polls();
        if seen > 0 {
            ctx.cancel.cancel();
            return seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service was never polled"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A poll schedule with short waits, for contract tests.
pub fn quick_poll() -> banana_studio::providers::poll::PollPolicy {
    banana_studio::providers::poll::PollPolicy {
        first: Duration::from_millis(5),
        max: Duration::from_millis(20),
        total: Duration::from_secs(20),
    }
}

/// A poll schedule that gives up after 200 ms, for slow-result tests.
pub fn short_poll_limit() -> banana_studio::providers::poll::PollPolicy {
    banana_studio::providers::poll::PollPolicy {
        first: Duration::from_millis(5),
        max: Duration::from_millis(10),
        total: Duration::from_millis(200),
    }
}

/// Polling ended with the cancel: the provider polls inside its own call, so once the
/// call has returned at most the one poll already on the wire when the cancel came may
/// have been added.
pub fn assert_polling_stopped(at_cancel: u64, now: u64) {
    assert!(
        now <= at_cancel + 1,
        "polling went on after cancel: {at_cancel} polls at cancel, {now} after the call"
    );
}

/// A PNG of this size whose left half is black and right half white: an edit of it
/// shows whether the service really drew from the input (see [`assert_edit_of_two_tone`]).
pub fn two_tone_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            image::Rgb([0, 0, 0])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Makes a request an edit of one two-tone input of this size (PNG).
pub fn with_two_tone_input(req: &mut GenerateRequest, w: u32, h: u32) {
    with_input(req, "image/png", two_tone_png(w, h));
    req.recipe.inputs[0].width = w;
    req.recipe.inputs[0].height = h;
}

/// The image decodes to exactly `size`, and it was drawn from a two-tone input: its
/// right half is far brighter than its left (a picture drawn without the input is not).
pub fn assert_edit_of_two_tone(bytes: &[u8], size: (u32, u32), what: &str) {
    let img = image::load_from_memory(bytes)
        .unwrap_or_else(|e| panic!("{what}: does not decode: {e}"))
        .to_luma8();
    assert_eq!(img.dimensions(), size, "{what}: decoded size");
    let (w, h) = img.dimensions();
    // The sandbox's hazard stripe runs along the bottom: judge the rows above it.
    let rows = h * 9 / 10;
    let mean = |xs: std::ops::Range<u32>| {
        let n = f64::from(xs.len() as u32 * rows);
        let sum: u64 = xs
            .flat_map(|x| (0..rows).map(move |y| (x, y)))
            .map(|(x, y)| u64::from(img.get_pixel(x, y).0[0]))
            .sum();
        sum as f64 / n
    };
    let (left, right) = (mean(0..w / 3), mean(w - w / 3..w));
    assert!(
        right - left > 60.0,
        "{what}: not drawn from the input (left {left:.0}, right {right:.0})"
    );
}

/// The image decodes to exactly `size`.
pub fn assert_decodes_to(bytes: &[u8], size: (u32, u32), what: &str) {
    let (w, h) = image::load_from_memory(bytes)
        .map(|i| (i.width(), i.height()))
        .unwrap_or_else(|e| panic!("{what}: does not decode: {e}"));
    assert_eq!((w, h), size, "{what}: decoded size");
}

/// The waits announced before each retry, in order.
pub fn retry_waits(seen: &Mutex<Vec<Progress>>) -> Vec<Duration> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|p| match p {
            Progress::Retrying(n) => Some(n.wait),
            _ => None,
        })
        .collect()
}
