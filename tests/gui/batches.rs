//! Prompt batches in the window: the Batch dialog reads a pasted list and says what it
//! makes before anything is sent; the batch's line shows its progress; Show lists its
//! results in the history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui_support;

use std::time::Duration;

use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::{app, shows, step_until, type_into};

#[test]
fn a_pasted_list_runs_as_one_batch_and_show_lists_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.run_steps(3);
    harness.get_by_label("Batch…").click();
    // A window sizes itself unseen on its first frame.
    harness.run_steps(4);
    assert!(shows(&harness, "Paste or load a list"));
    // The list has the keyboard as the dialog opens: a paste goes straight in.
    harness.event(egui::Event::Paste(
        "a red kite\n# not this one\na blue kite\na green kite".into(),
    ));
    harness.run_steps(2);
    assert!(
        shows(&harness, "3 requests · 3 images · sandbox: free"),
        "the dialog says what the list makes before anything is sent"
    );
    type_into(&mut harness, "Batch name", "Kites");
    harness.get_by_label("Start batch").click();
    step_until(
        &mut harness,
        Duration::from_secs(60),
        "the batch to end",
        |h| shows(h, "Batch progress: 3 of 3 done"),
    );
    assert!(shows(&harness, "Batch “Kites”"));
    assert!(
        harness.query_by_label("Pause").is_none(),
        "nothing left to pause"
    );
    // Another job outside the batch, then Show: only the batch is listed.
    harness.get_by_label("Show").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the batch's results",
        |h| h.state().gallery().generations().len() == 3,
    );
    let mut prompts: Vec<String> = harness
        .state()
        .gallery()
        .generations()
        .iter()
        .map(|g| g.job.recipe.prompt.clone())
        .collect();
    prompts.sort();
    assert_eq!(prompts, vec!["a blue kite", "a green kite", "a red kite"]);
    assert!(shows(&harness, "Batch “Kites”"));
}

#[test]
fn a_wrong_line_is_named_and_nothing_can_be_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    harness.run_steps(3);
    harness.get_by_label("Batch…").click();
    // A window sizes itself unseen on its first frame.
    harness.run_steps(4);
    type_into(
        &mut harness,
        "Batch list",
        "{\"prompt\": \"a kite\"}\n{\"prompt\": \"a kite\", \"count\": 9}",
    );
    harness.run_steps(2);
    assert!(shows(&harness, "line 2: count"), "{:#?}", harness.root());
    assert!(
        harness
            .get_by_label("Start batch")
            .accesskit_node()
            .is_disabled()
    );
}

/// Pastes a list into the Batch dialog, names it and sends it deferred.
fn send_deferred(
    harness: &mut egui_kittest::Harness<'static, banana_studio::gui::BananaApp>,
    list: &str,
    name: &str,
) {
    harness.run_steps(3);
    harness.get_by_label("Batch…").click();
    harness.run_steps(4);
    harness.event(egui::Event::Paste(list.into()));
    harness.run_steps(2);
    type_into(harness, "Batch name", name);
    harness.get_by_label("Deferred").click();
    harness.run_steps(1);
    harness.get_by_label("Start batch").click();
}

#[test]
fn a_deferred_batch_waits_at_half_price_and_lands_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    send_deferred(&mut harness, "a red kite\na blue kite", "Later kites");
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the batch waiting at Google",
        |h| shows(h, "Batch “Later kites” (deferred)") && shows(h, "at half price"),
    );
    assert!(
        harness.query_by_label("Pause").is_none(),
        "a batch on Google's side cannot be paused, only cancelled"
    );
    step_until(&mut harness, Duration::from_secs(60), "its results", |h| {
        shows(h, "Batch progress: 2 of 2 done")
    });
    harness.get_by_label("Show").click();
    step_until(
        &mut harness,
        Duration::from_secs(10),
        "the batch's results",
        |h| h.state().gallery().generations().len() == 2,
    );
    let sandbox = gui_support::sandbox();
    assert_eq!(sandbox.gemini().unwrap().batches_made(), 1);
}

#[test]
fn an_expired_deferred_batch_says_so_and_goes_again_in_one_click() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(dir.path());
    // The sandbox lets a batch whose name asks for it run out of time.
    send_deferred(&mut harness, "a red kite", "expire");
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the batch to expire",
        |h| shows(h, "expired: not done within 24 hours"),
    );
    harness.get_by_label("Again, deferred").click();
    // The new batch's line shows as it is recorded, before it reaches Google: wait for
    // Google to have it, then make sure the one click sent it once.
    let sandbox = gui_support::sandbox();
    step_until(
        &mut harness,
        Duration::from_secs(30),
        "the new batch at Google",
        |h| shows(h, "Batch “expire (again)”") && sandbox.gemini().unwrap().batches_made() >= 2,
    );
    harness.run_steps(10);
    assert_eq!(sandbox.gemini().unwrap().batches_made(), 2);
}
