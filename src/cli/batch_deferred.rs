//! `batch FILE --deferred [--wait]`, `batch status ID`, `batch fetch ID`: prompt batches
//! through the Gemini Batch API, at half price, done within 24 hours.
//!
//! `--deferred` prints `{"event":"batch_submitted","batch":"batches/…","requests":N}`
//! once the service has the batch; with `--wait` the jobs' `done`/`failed` events and
//! `batch_done` follow as `batch` prints them. `status` asks the service once (storing
//! the results if they are there) and prints `batch_status`; `fetch` does the same and,
//! when the batch is over, prints `batch_done`.

use std::time::{Duration, Instant};

use serde_json::json;

use super::batch::BatchArgs;
use super::generate::{fail, wait_jobs};
use super::{Args, out, start_engine};
use crate::engine::{Engine, Event};
use crate::library::BatchSummary;
use crate::providers::ErrorKind;
use crate::recipe::Recipe;

/// How long sending a batch may take before the CLI gives up waiting to hear.
const SUBMIT_WAIT: Duration = Duration::from_secs(900);

/// Sends the batch; with `--wait`, stays for its results.
pub(super) fn submit(engine: &Engine, b: &BatchArgs, name: String, recipes: Vec<Recipe>) -> i32 {
    let json = b.opts.output.json;
    let requests: usize = recipes.iter().map(|r| usize::from(r.count.max(1))).sum();
    if let Err(e) = engine.submit_deferred(name, recipes) {
        return fail(json, None, ErrorKind::InvalidInput, &e.to_string());
    }
    let deadline = Instant::now() + SUBMIT_WAIT;
    let remote = loop {
        if Instant::now() > deadline {
            return fail(
                json,
                None,
                ErrorKind::Timeout,
                "batch: the service did not answer",
            );
        }
        match engine.next_event(Duration::from_millis(200)) {
            Some(Event::DeferredSubmitted { remote, .. }) => break remote,
            Some(Event::SubmitFailed { message }) => {
                return fail(
                    json,
                    None,
                    ErrorKind::InvalidInput,
                    &format!("batch: {message}"),
                );
            }
            _ => {}
        }
    };
    if json {
        out!(
            "{}",
            json!({"event": "batch_submitted", "batch": remote, "requests": requests})
        );
    } else {
        eprintln!(
            "batch: sent as {remote}, {requests} request{} at half price; results within 24 hours \
             (`batch status {remote}`, `batch fetch {remote}`)",
            if requests == 1 { "" } else { "s" }
        );
    }
    if !b.wait {
        return 0;
    }
    let ended = wait_jobs(engine, &b.opts, requests);
    let summary = engine
        .library()
        .batch_by_remote(&remote)
        .ok()
        .flatten()
        .and_then(|id| engine.library().batch(id).ok().flatten());
    done(
        json,
        summary.as_ref(),
        ended.iter().map(|e| e.code).find(|c| *c != 0),
    )
}

/// Asks the service about a batch once (storing its results if they are there).
pub(super) fn status(args: &Args, b: &BatchArgs, remote: &str, fetch: bool) -> i32 {
    let json = b.opts.output.json;
    let engine = match start_engine(args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let batch = match engine.library().batch_by_remote(remote) {
        Ok(Some(id)) => id,
        Ok(None) => {
            let message = format!("batch: no deferred batch {remote} in this library");
            return fail(json, None, ErrorKind::InvalidInput, &message);
        }
        Err(e) => return fail(json, None, ErrorKind::Storage, &e.to_string()),
    };
    let over = engine.poll_deferred(batch).wait(Duration::from_secs(3600));
    let Ok(Some(summary)) = engine.library().batch(batch) else {
        return fail(
            json,
            None,
            ErrorKind::Storage,
            "batch: it is no longer in the library",
        );
    };
    if fetch && over == Some(true) {
        return done(json, Some(&summary), None);
    }
    let state = summary.remote_state.clone().unwrap_or_default();
    if json {
        out!(
            "{}",
            json!({"event": "batch_status", "batch": remote, "state": state,
                   "requests": summary.requests, "succeeded": summary.succeeded,
                   "failed": summary.failed, "note": summary.remote_note})
        );
    } else {
        eprintln!("batch {remote}: {}", summary.in_words());
    }
    0
}

fn done(json: bool, summary: Option<&BatchSummary>, first_failure: Option<i32>) -> i32 {
    let Some(s) = summary else {
        return first_failure.unwrap_or(0);
    };
    let unfinished = s.requests.saturating_sub(s.succeeded + s.failed);
    if json {
        out!(
            "{}",
            json!({"event": "batch_done", "jobs": s.requests, "succeeded": s.succeeded,
                   "failed": s.failed + unfinished, "cost_usd": s.cost_usd})
        );
    } else {
        eprintln!(
            "batch: {} of {} succeeded, {} failed, ${:.2} at the batch rate{}",
            s.succeeded,
            s.requests,
            s.failed + unfinished,
            s.cost_usd,
            s.remote_note
                .as_ref()
                .map_or(String::new(), |n| format!(" ({n})"))
        );
    }
    match first_failure {
        Some(code) => code,
        None if s.failed + unfinished > 0 => ErrorKind::Refused.exit_code(),
        None => 0,
    }
}
