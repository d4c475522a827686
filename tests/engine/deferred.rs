//! Deferred batches through the Gemini Batch API: recorded before sending, polled,
//! stored as ordinary jobs of the batch at half the usage cost; a restart mid-batch
//! loses nothing and sends nothing twice; an expired batch says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig, Event};
use banana_studio::fake::gemini::FakeGemini;
use banana_studio::keys::{Secret, StaticKeys};
use banana_studio::library::{BatchState, JobState};
use banana_studio::recipe::{Catalog, ProviderId, Recipe};

const MODEL: &str = "gemini-nano-banana-2.1";

fn engine(dir: &std::path::Path, fake: &FakeGemini) -> Engine {
    let keys = Arc::new(StaticKeys(vec![(ProviderId::Gemini, Secret::new("g-key"))]));
    let mut config = EngineConfig::new(dir, keys);
    config.set_base_url(ProviderId::Gemini, fake.base_url());
    config.deferred_first_poll = Duration::from_millis(30);
    Engine::start(config).unwrap()
}

fn recipe(prompt: &str) -> Recipe {
    let mut r = Recipe::new(prompt, ProviderId::Gemini, &Catalog::bundled());
    r.model = MODEL.into();
    r
}

/// Events until `stop` says so; fails after a minute.
fn until(engine: &Engine, mut stop: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(event) = engine.next_event(Duration::from_millis(50)) {
            let done = stop(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }
    panic!("timed out; events: {seen:#?}");
}

#[test]
fn a_deferred_batch_survives_a_restart_and_lands_at_half_price_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeGemini::start(runtime.handle(), "g-key").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut two = recipe("two red kites");
    two.count = 2;
    let batch = {
        let first = engine(dir.path(), &fake);
        first
            .submit_deferred("kites".into(), vec![recipe("a blue kite"), two])
            .unwrap();
        let mut batch = None;
        until(&first, |e| match e {
            Event::DeferredSubmitted {
                batch: b, requests, ..
            } => {
                assert_eq!(*requests, 3, "a recipe of two images is two requests");
                batch = Some(*b);
                true
            }
            Event::SubmitFailed { message } => panic!("{message}"),
            _ => false,
        });
        // Closed at once: before any poll has seen it done.
        batch.unwrap()
    };
    assert_eq!(fake.batches_made(), 1);

    let second = engine(dir.path(), &fake);
    second.follow_deferred();
    let events = until(
        &second,
        |e| matches!(e, Event::BatchProgress { summary, .. } if summary.id == batch && summary.state != BatchState::Running),
    );
    let stored: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::JobSucceeded { generation, .. } => Some(generation.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(stored.len(), 3);
    let catalog = Catalog::bundled();
    let rates = catalog
        .model(ProviderId::Gemini, MODEL)
        .unwrap()
        .rates
        .unwrap();
    for generation in &stored {
        let job = &generation.job;
        assert_eq!(job.state, JobState::Succeeded);
        let usage = job.usage.expect("usage from the batch's result");
        let full = usage.cost_usd(&rates);
        let cost = job.cost_usd.unwrap();
        assert!((cost - full / 2.0).abs() < 1e-9, "{cost} is half of {full}");
    }
    let summary = second.library().batch(batch).unwrap().unwrap();
    assert_eq!((summary.succeeded, summary.requests), (3, 3));
    assert_eq!(summary.remote_state.as_deref(), Some("succeeded"));
    let full: f64 = [recipe("a"), recipe("b"), recipe("c")]
        .iter()
        .filter_map(|r| r.estimate_cost(&catalog).usd)
        .sum();
    let expected = summary.estimate_usd.expect("an estimate at the batch rate");
    assert!((expected - full / 2.0).abs() < 1e-9, "{expected} / {full}");
    assert_eq!(fake.batches_made(), 1, "never sent twice");

    // A third start finds nothing left to follow and stores nothing again.
    drop(second);
    let third = engine(dir.path(), &fake);
    third.follow_deferred();
    std::thread::sleep(Duration::from_millis(300));
    let summary = third.library().batch(batch).unwrap().unwrap();
    assert_eq!(summary.succeeded, 3);
    assert_eq!(summary.images, 3);
}

#[test]
fn an_expired_batch_says_what_happened_and_what_to_do() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeGemini::start(runtime.handle(), "g-key").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &fake);
    // The fake lets a batch whose name asks for it run out of time.
    engine
        .submit_deferred("expire me".into(), vec![recipe("a kite")])
        .unwrap();
    let events = until(
        &engine,
        |e| matches!(e, Event::BatchProgress { summary, .. } if summary.state != BatchState::Running),
    );
    let Some(Event::BatchProgress { summary, .. }) = events.last() else {
        unreachable!()
    };
    assert_eq!(summary.remote_state.as_deref(), Some("expired"));
    assert!(
        summary.in_words().contains("send its requests again"),
        "{}",
        summary.in_words()
    );
    // What it never made can go again, as a new batch.
    let (name, again) = engine
        .failed_requests(summary.id)
        .wait(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert_eq!(name, "expire me");
    let prompts: Vec<&str> = again.iter().map(|r| r.prompt.as_str()).collect();
    assert_eq!(prompts, ["a kite"]);
    engine.submit_deferred("once more".into(), again).unwrap();
    until(
        &engine,
        |e| matches!(e, Event::BatchProgress { summary, .. } if summary.name == "once more" && summary.state != BatchState::Running),
    );
    assert_eq!(fake.batches_made(), 2);
}

#[test]
fn only_gemini_recipes_without_masks_can_be_deferred() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeGemini::start(runtime.handle(), "g-key").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &fake);
    let fal = Recipe::new("a kite", ProviderId::Fal, &Catalog::bundled());
    let err = engine
        .submit_deferred("mixed".into(), vec![recipe("a kite"), fal])
        .unwrap_err();
    assert!(err.to_string().contains("request 2"), "{err}");
    assert!(err.to_string().contains("Gemini Batch API"), "{err}");
    assert_eq!(fake.batches_made(), 0);
}
