//! `batch FILE --deferred [--wait]`, `batch status ID`, `batch fetch ID` per the contract:
//! half price through the Gemini Batch API, followed across separate runs of the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::cli_support;

use banana_studio::fake::FakeGemini;
use cli_support::{KEY, cli, cli_against, ok_lines};

fn list(dir: &std::path::Path) -> std::path::PathBuf {
    let list = dir.join("kites.txt");
    std::fs::write(&list, "a red kite\na blue kite\n").unwrap();
    list
}

#[test]
fn deferred_with_wait_prints_the_submission_the_jobs_and_the_sum() {
    let dir = tempfile::tempdir().unwrap();
    let lines = ok_lines(
        cli(dir.path())
            .args(["--sandbox", "batch"])
            .arg(list(dir.path()))
            .args(["--deferred", "--wait", "--json"]),
    );
    let submitted = lines
        .iter()
        .find(|l| l["event"] == "batch_submitted")
        .expect("batch_submitted");
    assert!(submitted["batch"].as_str().unwrap().starts_with("batches/"));
    assert_eq!(submitted["requests"], 2);
    assert_eq!(lines.iter().filter(|l| l["event"] == "done").count(), 2);
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "batch_done");
    assert_eq!((&last["jobs"], &last["succeeded"]), (&2.into(), &2.into()));
}

#[test]
fn a_batch_sent_by_one_run_is_followed_and_fetched_by_later_ones() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeGemini::start(runtime.handle(), KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| ok_lines(cli_against(&fake, dir.path(), KEY).args(args));
    let list = list(dir.path());
    let sent = run(&["batch", list.to_str().unwrap(), "--deferred", "--json"]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let id = sent[0]["batch"].as_str().unwrap().to_owned();

    let status = run(&["batch", "status", &id, "--json"]);
    assert_eq!(status[0]["event"], "batch_status");
    assert_eq!(status[0]["state"], "pending");
    let early = run(&["batch", "fetch", &id, "--json"]);
    assert_eq!(early[0]["state"], "running", "not there yet: its state");
    let fetched = run(&["batch", "fetch", &id, "--json"]);
    let done = fetched.last().unwrap();
    assert_eq!(done["event"], "batch_done");
    assert_eq!((&done["jobs"], &done["succeeded"]), (&2.into(), &2.into()));
    let cost = done["cost_usd"].as_f64().unwrap();
    assert!(cost > 0.0, "charged at the batch rate: {cost}");

    // Fetched again: the same two, stored once.
    let again = run(&["batch", "fetch", &id, "--json"]);
    assert_eq!(again.last().unwrap()["succeeded"], 2);
    let history = run(&["history", "--json"]);
    assert_eq!(history.len(), 2);
    assert_eq!(fake.batches_made(), 1);

    let unknown = cli(dir.path())
        .args(["batch", "status", "batches/nope", "--json"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn in_the_sandbox_a_deferred_batch_outlives_the_run_that_sent_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| ok_lines(cli(dir.path()).arg("--sandbox").args(args));
    let list = list(dir.path());
    let sent = run(&["batch", list.to_str().unwrap(), "--deferred", "--json"]);
    let id = sent[0]["batch"].as_str().unwrap().to_owned();
    // Each later run is a new process with a new stand-in, as after a restart.
    let mut last = serde_json::Value::Null;
    for _ in 0..4 {
        last = run(&["batch", "fetch", &id, "--json"]).pop().unwrap();
        if last["event"] == "batch_done" {
            break;
        }
    }
    assert_eq!(last["event"], "batch_done", "{last}");
    assert_eq!(last["succeeded"], 2);
}
