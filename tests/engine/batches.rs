//! Prompt batches against the sandbox fake: order and jobs at once, a failure in the
//! middle, pause and resume, cancel, and a batch cut short by a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig, Event};
use banana_studio::fake::{Fault, Sandbox};
use banana_studio::keys::NoKeys;
use banana_studio::library::{BatchState, BatchSummary, HistoryQuery, JobState, Library};
use banana_studio::recipe::{Catalog, ProviderId, Recipe};

fn engine(dir: &std::path::Path) -> (Engine, Arc<Sandbox>) {
    let sandbox = Sandbox::standard();
    let mut config = EngineConfig::new(dir, Arc::new(NoKeys));
    config.force_sandbox = true;
    config.sandbox = Some(sandbox.clone());
    (Engine::start(config).unwrap(), sandbox)
}

fn recipes(prompts: &[&str]) -> Vec<Recipe> {
    prompts
        .iter()
        .map(|p| Recipe::new(*p, ProviderId::Gemini, &Catalog::bundled()))
        .collect()
}

/// Whether a batch has ended and its runner has said how (its last job can be counted
/// while the runner still reads it as running).
fn ended(s: &BatchSummary) -> bool {
    s.is_over() && s.state != BatchState::Running
}

/// Follows a batch's progress until `done` says stop; returns every summary seen and
/// the other events.
fn progress_until(
    engine: &Engine,
    mut done: impl FnMut(&BatchSummary) -> bool,
) -> (Vec<BatchSummary>, Vec<Event>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut summaries, mut others) = (Vec::new(), Vec::new());
    while Instant::now() < deadline {
        match engine.next_event(Duration::from_millis(50)) {
            Some(Event::BatchProgress { summary, .. }) => {
                let stop = done(&summary);
                summaries.push(*summary);
                if stop {
                    return (summaries, others);
                }
            }
            Some(other) => others.push(other),
            None => {}
        }
    }
    panic!("timed out; progress so far: {summaries:#?}");
}

#[test]
fn a_batch_runs_in_order_within_jobs_at_once_and_counts_a_failure_in_the_middle() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = engine(dir.path());
    let fake = sandbox.gemini().unwrap();
    // The fourth request to arrive is refused: a failure in the middle.
    let mut faults = vec![Fault::Slow(Duration::from_millis(150)); 8];
    faults[3] = Fault::BlockedImage;
    fake.script(faults);
    let prompts = ["a", "b", "c", "d", "e", "f", "g", "h"];
    engine
        .start_batch("Mugs".into(), recipes(&prompts))
        .unwrap();
    let (summaries, events) = progress_until(&engine, ended);
    let last = summaries.last().unwrap();
    assert_eq!(last.state, BatchState::Finished);
    assert_eq!(
        (last.requests, last.sent, last.succeeded, last.failed),
        (8, 8, 7, 1)
    );
    assert_eq!(last.in_words(), "8 of 8 done, 1 failed");
    assert!(
        summaries.iter().all(|s| s.running() <= 4),
        "never more than the provider's jobs at once"
    );
    assert!(fake.max_in_flight() <= 4);
    // Sent in the list's order.
    let sent: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::JobCreated { recipe, .. } => Some(recipe.prompt.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, prompts);
    // Grouped in the history, and the images are there to save.
    let listed = engine
        .library()
        .generations(&HistoryQuery {
            limit: 20,
            batch: Some(last.id),
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 8);
    let images = engine
        .batch_images(last.id)
        .wait(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert_eq!(images.len(), 7);
}

#[test]
fn a_paused_batch_sends_nothing_more_until_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = engine(dir.path());
    let fake = sandbox.gemini().unwrap();
    fake.script(vec![Fault::Slow(Duration::from_millis(300)); 12]);
    engine
        .start_batch("Slow".into(), recipes(&["a"; 12]))
        .unwrap();
    let mut id = None;
    let (_, _) = progress_until(&engine, |s| {
        id = Some(s.id);
        s.sent > 0
    });
    let id = id.unwrap();
    engine.pause_batch(id);
    let (summaries, _) = progress_until(&engine, |s| {
        s.state == BatchState::Paused && s.running() == 0
    });
    let paused = summaries.last().unwrap();
    assert!(paused.unsent() > 0, "{paused:?}");
    let sent = paused.sent;
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(engine.library().batch(id).unwrap().unwrap().sent, sent);
    assert_eq!(fake.request_count() as u32, sent);
    engine.resume_batch(id);
    let (summaries, _) = progress_until(&engine, ended);
    let last = summaries.last().unwrap();
    assert_eq!((last.state, last.succeeded), (BatchState::Finished, 12));
    assert_eq!(fake.request_count(), 12, "no request sent twice");
}

#[test]
fn cancelling_a_batch_cancels_its_running_jobs_and_sends_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = engine(dir.path());
    sandbox
        .gemini()
        .unwrap()
        .script(vec![Fault::Slow(Duration::from_secs(30)); 10]);
    engine
        .start_batch("Stop".into(), recipes(&["a"; 10]))
        .unwrap();
    let (summaries, _) = progress_until(&engine, |s| s.running() > 0);
    let id = summaries.last().unwrap().id;
    engine.cancel_batch(id);
    let (summaries, _) = progress_until(&engine, ended);
    let last = summaries.last().unwrap();
    assert_eq!(last.state, BatchState::Cancelled);
    assert_eq!(last.succeeded, 0);
    assert_eq!(last.failed, last.sent);
    assert!(last.unsent() > 0);
    assert!(
        last.in_words().contains("not sent (cancelled)"),
        "{}",
        last.in_words()
    );
    for job in engine
        .library()
        .generations(&HistoryQuery {
            limit: 20,
            batch: Some(id),
            ..HistoryQuery::default()
        })
        .unwrap()
    {
        assert_eq!(job.job.state, JobState::Cancelled);
    }
}

#[test]
fn a_batch_cut_short_by_a_restart_waits_and_then_goes_on_without_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let library = Library::open(dir.path()).unwrap();
        let id = library
            .create_batch("Left", &recipes(&["a", "b", "c"]))
            .unwrap();
        let (position, recipe) = library.next_unsent(id).unwrap().unwrap();
        let job = library
            .create_batch_job(id, position, &recipe, true)
            .unwrap();
        library.set_state(job, JobState::Running).unwrap();
        id
    };
    let (engine, sandbox) = engine(dir.path());
    let summary = engine.library().batch(id).unwrap().unwrap();
    assert_eq!(
        summary.state,
        BatchState::Paused,
        "nothing is sent on its own"
    );
    assert_eq!(
        (summary.sent, summary.failed),
        (1, 1),
        "the cut-off job is interrupted"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sandbox.gemini().unwrap().request_count(), 0);
    engine.resume_batch(id);
    let (summaries, _) = progress_until(&engine, ended);
    let last = summaries.last().unwrap();
    assert_eq!(
        (last.state, last.sent, last.succeeded, last.failed),
        (BatchState::Finished, 3, 2, 1)
    );
    assert_eq!(sandbox.gemini().unwrap().request_count(), 2);
}
