//! Engine tests on temp dirs against the sandbox fake: concurrency, cancel, interruption.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig, Event};
use banana_studio::fake::{Fault, Sandbox};
use banana_studio::keys::NoKeys;
use banana_studio::library::{JobState, Library};
use banana_studio::providers::ErrorKind;
use banana_studio::recipe::{Catalog, ProviderId, Recipe};

fn sandbox_engine(dir: &std::path::Path) -> Engine {
    sandboxed_engine(dir).0
}

/// A sandbox engine and its sandbox, whose stand-ins a test scripts.
fn sandboxed_engine(dir: &std::path::Path) -> (Engine, Arc<Sandbox>) {
    let sandbox = Sandbox::standard();
    let mut config = EngineConfig::new(dir, Arc::new(NoKeys));
    config.force_sandbox = true;
    config.sandbox = Some(sandbox.clone());
    (Engine::start(config).unwrap(), sandbox)
}

fn recipe(prompt: &str) -> Recipe {
    Recipe::new(prompt, ProviderId::Gemini, &Catalog::bundled())
}

/// Waits for events until `done` says stop; fails after `timeout`.
fn events_until(
    engine: &Engine,
    timeout: Duration,
    mut done: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(event) = engine.next_event(Duration::from_millis(50)) {
            let stop = done(&event);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }
    panic!("timed out; events so far: {seen:#?}");
}

#[test]
fn a_job_runs_end_to_end_and_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let engine = sandbox_engine(dir.path());
    assert!(engine.status(ProviderId::Gemini).sandbox);
    engine.submit(recipe("a glass banana")).unwrap();
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. })
    });
    let states: Vec<JobState> = events
        .iter()
        .filter_map(|e| match e {
            Event::JobState { state, .. } => Some(*state),
            _ => None,
        })
        .collect();
    assert_eq!(states, vec![JobState::Running, JobState::Storing]);
    let Some(Event::JobSucceeded { generation, .. }) = events.last() else {
        unreachable!()
    };
    assert_eq!(generation.job.state, JobState::Succeeded);
    assert!(generation.job.sandbox);
    let image = &generation.images[0];
    assert!(image.path.exists());
    assert_eq!((image.width, image.height), (1024, 1024));
    // Its thumbnail is made just after the job is recorded; asked for at once, it is
    // waited for, and kept.
    let thumb = engine
        .load_thumbnail(image.id)
        .wait(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    let side = banana_studio::imaging::THUMB_SIDE_PX;
    assert_eq!((thumb.width, thumb.height), (side, side));
    assert!(image.thumb_path.exists());
    // The picture was written into the library as it arrived and then adopted: the
    // file holds what its name says, and nothing is left waiting.
    let bytes = std::fs::read(&image.path).unwrap();
    let name = image.path.file_stem().unwrap().to_str().unwrap();
    assert_eq!(name, banana_studio::library::store::sha256_hex(&bytes));
    let incoming = dir.path().join("images").join("incoming");
    assert!(incoming.is_dir(), "the picture was written as it arrived");
    assert_eq!(std::fs::read_dir(&incoming).unwrap().count(), 0);
}

#[test]
fn a_picture_that_cannot_be_written_as_it_arrives_is_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the folder for arriving pictures would go.
    std::fs::create_dir_all(dir.path().join("images")).unwrap();
    std::fs::write(dir.path().join("images").join("incoming"), b"in the way").unwrap();
    let engine = sandbox_engine(dir.path());
    engine.submit(recipe("a glass banana")).unwrap();
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. } | Event::JobFailed { .. })
    });
    let Some(Event::JobSucceeded { generation, .. }) = events.last() else {
        panic!("the job failed: {events:#?}")
    };
    let image = &generation.images[0];
    let bytes = std::fs::read(&image.path).unwrap();
    let name = image.path.file_stem().unwrap().to_str().unwrap();
    assert_eq!(name, banana_studio::library::store::sha256_hex(&bytes));
    assert_eq!((image.width, image.height), (1024, 1024));
}

#[test]
fn concurrency_limit_holds_under_twenty_queued_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = sandboxed_engine(dir.path());
    let fake = sandbox.gemini().unwrap();
    fake.script(vec![Fault::Slow(Duration::from_millis(250)); 20]);
    for i in 0..20 {
        engine.submit(recipe(&format!("job {i}"))).unwrap();
    }
    // A job asks the provider from Running until Storing: saving frees its slot.
    let mut asking = std::collections::HashSet::new();
    let mut max_asking = 0;
    let mut finished = 0;
    events_until(&engine, Duration::from_secs(120), |e| {
        match e {
            Event::JobState {
                job,
                state: JobState::Running,
            } => {
                asking.insert(*job);
            }
            Event::JobState {
                job,
                state: JobState::Storing,
            }
            | Event::JobFailed { job, .. } => {
                asking.remove(job);
                finished += usize::from(matches!(e, Event::JobFailed { .. }));
            }
            Event::JobSucceeded { .. } => finished += 1,
            _ => {}
        }
        max_asking = max_asking.max(asking.len());
        finished == 20
    });
    assert_eq!(
        max_asking, 4,
        "the engine asks at most 4 jobs of a provider at once"
    );
    assert!(
        fake.max_in_flight() <= 4,
        "the server saw {} at once",
        fake.max_in_flight()
    );
    assert_eq!(fake.request_count(), 20);
}

#[test]
fn cancel_stops_a_slow_job() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = sandboxed_engine(dir.path());
    sandbox
        .gemini()
        .unwrap()
        .script([Fault::Slow(Duration::from_secs(60))]);
    engine.submit(recipe("slow one")).unwrap();
    let mut job = None;
    let events = events_until(&engine, Duration::from_secs(30), |e| match e {
        Event::JobState {
            job: id,
            state: JobState::Running,
        } => {
            job = Some(*id);
            engine.cancel(*id);
            false
        }
        Event::JobFailed { .. } => true,
        _ => false,
    });
    let Some(Event::JobFailed { kind, .. }) = events.last() else {
        unreachable!()
    };
    assert_eq!(*kind, ErrorKind::Cancelled);
    let record = engine.library().job(job.unwrap()).unwrap().unwrap();
    assert_eq!(record.state, JobState::Cancelled);
}

#[test]
fn a_job_left_running_becomes_interrupted_and_can_be_retried() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let library = Library::open(dir.path()).unwrap();
        let id = library
            .create_job(&recipe("killed mid-way"), true, None)
            .unwrap();
        library.set_state(id, JobState::Running).unwrap();
        id
    };
    let engine = sandbox_engine(dir.path());
    let events = events_until(&engine, Duration::from_secs(5), |e| {
        matches!(e, Event::Interrupted { .. })
    });
    let Some(Event::Interrupted { jobs }) = events.last() else {
        unreachable!()
    };
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    let record = engine.library().job(id).unwrap().unwrap();
    assert_eq!(record.state, JobState::Interrupted);
    assert!(record.error_message.unwrap().contains("Retry"));

    engine.retry(id);
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. })
    });
    let retry_of = events.iter().find_map(|e| match e {
        Event::JobCreated { retry_of, .. } => *retry_of,
        _ => None,
    });
    assert_eq!(retry_of, Some(id));
}

#[test]
fn a_refusal_fails_the_job_with_its_words_and_keeps_history() {
    let dir = tempfile::tempdir().unwrap();
    let engine = sandbox_engine(dir.path());
    engine
        .submit(recipe("[fake:blocked-image] a crowd"))
        .unwrap();
    let events = events_until(&engine, Duration::from_secs(30), |e| {
        matches!(e, Event::JobFailed { .. })
    });
    let Some(Event::JobFailed { job, kind, message }) = events.last() else {
        unreachable!()
    };
    assert_eq!(*kind, ErrorKind::Refused);
    assert!(message.contains("safety filter"), "{message}");
    let record = engine.library().job(*job).unwrap().unwrap();
    assert_eq!(record.state, JobState::Failed);
    assert_eq!(record.error_kind, Some(ErrorKind::Refused));
    assert_eq!(
        record.recipe.prompt, "[fake:blocked-image] a crowd",
        "the prompt is never lost"
    );
}

#[test]
fn format_is_honoured_by_converting_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let engine = sandbox_engine(dir.path());
    let mut r = recipe("webp please");
    r.format = banana_studio::recipe::OutputFormat::Webp;
    engine.submit(r).unwrap();
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. })
    });
    let Some(Event::JobSucceeded { generation, .. }) = events.last() else {
        unreachable!()
    };
    let image = &generation.images[0];
    assert_eq!(image.mime, "image/webp");
    let bytes = std::fs::read(&image.path).unwrap();
    assert_eq!(
        banana_studio::imaging::sniff_mime(&bytes),
        Some("image/webp")
    );
}

#[test]
fn regenerate_draws_a_new_seed_and_variations_ask_for_more() {
    let dir = tempfile::tempdir().unwrap();
    let engine = sandbox_engine(dir.path());
    let mut r = recipe("a bowl of lemons");
    r.seed = Some(5);
    engine.submit(r).unwrap();
    let done = |e: &Event| matches!(e, Event::JobSucceeded { .. });
    let events = events_until(&engine, Duration::from_secs(60), done);
    let Some(Event::JobSucceeded {
        generation: first, ..
    }) = events.last()
    else {
        unreachable!()
    };

    engine.regenerate(first.job.id, None);
    let events = events_until(&engine, Duration::from_secs(60), done);
    let Some(Event::JobSucceeded {
        generation: again, ..
    }) = events.last()
    else {
        unreachable!()
    };
    assert_ne!(again.job.recipe.seed, Some(5), "a new seed");
    assert!(again.job.recipe.seed.is_some());
    assert_eq!(again.job.recipe.prompt, "a bowl of lemons");
    assert_ne!(
        std::fs::read(&again.images[0].path).unwrap(),
        std::fs::read(&first.images[0].path).unwrap()
    );

    engine.regenerate(first.job.id, Some(4));
    let events = events_until(&engine, Duration::from_secs(60), done);
    let Some(Event::JobSucceeded {
        generation: variations,
        ..
    }) = events.last()
    else {
        unreachable!()
    };
    assert_eq!(variations.images.len(), 4);
}

#[test]
fn eachlabs_never_has_more_than_ten_predictions_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::standard();
    let mut config = EngineConfig::new(dir.path(), Arc::new(NoKeys));
    config.force_sandbox = true;
    config.sandbox = Some(sandbox.clone());
    // Settings ask for more than Eachlabs allows per key; the engine holds to 10.
    config.connections.insert(
        ProviderId::Eachlabs,
        banana_studio::engine::Connection::with_concurrency(16),
    );
    let engine = Engine::start(config).unwrap();
    let catalog = Catalog::bundled();
    for n in 0..12 {
        let mut r = Recipe::new(
            format!("banana {n} [fake:slow]"),
            ProviderId::Eachlabs,
            &catalog,
        );
        r.count = 1;
        engine.submit(r).unwrap();
    }
    let mut done = 0;
    events_until(&engine, Duration::from_secs(120), |e| {
        if matches!(e, Event::JobSucceeded { .. } | Event::JobFailed { .. }) {
            done += 1;
        }
        done == 12
    });
    let fake = sandbox.eachlabs().unwrap();
    assert_eq!(fake.creates(), 12, "every job ran, none refused with a 429");
    assert_eq!(fake.max_in_flight(), 10);
    let listed = Library::open(dir.path())
        .unwrap()
        .generations(&banana_studio::library::HistoryQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap()
        .len();
    assert_eq!(listed, 12);
    let failed = Library::open(dir.path())
        .unwrap()
        .generations(&banana_studio::library::HistoryQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap()
        .iter()
        .filter(|g| g.job.state != JobState::Succeeded)
        .count();
    assert_eq!(failed, 0);
}

#[test]
fn settings_saved_just_before_closing_are_kept_and_the_newest_wins() {
    let dir = tempfile::tempdir().unwrap();
    let engine = sandbox_engine(dir.path());
    for n in 0..20 {
        engine.save_settings(banana_studio::settings::Settings {
            filename_template: format!("{{prompt}}_{n}.{{ext}}"),
            ..Default::default()
        });
    }
    // Closed at once: whatever is still waiting is written on the way out.
    drop(engine);
    let (saved, _) = banana_studio::settings::Settings::load(dir.path());
    assert_eq!(saved.filename_template, "{prompt}_19.{ext}");
}

/// A job on a keyed service records what the service billed (Eachlabs' `metrics.cost`),
/// not the catalog's estimate; the fake bills a figure no catalog price matches.
#[test]
fn a_job_records_what_the_service_billed_not_the_estimate() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = banana_studio::fake::eachlabs::FakeEachlabs::start(runtime.handle(), "each-key", 0)
        .unwrap();
    fake.set_billed_per_image(0.0731);
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(banana_studio::keys::StaticKeys(vec![(
        ProviderId::Eachlabs,
        banana_studio::keys::Secret::new("each-key"),
    )]));
    let mut config = EngineConfig::new(dir.path(), keys);
    config.set_base_url(ProviderId::Eachlabs, fake.base_url());
    let engine = Engine::start(config).unwrap();
    let catalog = Catalog::bundled();
    let mut recipe = Recipe::new("a billed banana", ProviderId::Eachlabs, &catalog);
    recipe.count = 2;
    let estimate = recipe.estimate_cost(&catalog).usd;
    engine.submit(recipe).unwrap();
    let mut job = None;
    events_until(&engine, Duration::from_secs(60), |e| match e {
        Event::JobSucceeded { generation, .. } => {
            job = Some(generation.job.clone());
            true
        }
        Event::JobFailed { message, .. } => panic!("the job failed: {message}"),
        _ => false,
    });
    let job = job.unwrap();
    assert!(!job.sandbox);
    let billed = job.cost_usd.unwrap();
    assert!((billed - 0.1462).abs() < 1e-9, "recorded {billed}");
    assert_ne!(Some(billed), estimate, "not the catalog's estimate");
}

/// Issue 15: a process whose providers all have keys opens no loopback port; a provider
/// without a key starts its own stand-in and no other.
#[test]
fn a_gemini_job_costs_what_its_reported_usage_costs_at_the_models_rates() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = banana_studio::fake::gemini::FakeGemini::start(runtime.handle(), "g-key").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(banana_studio::keys::StaticKeys(vec![(
        ProviderId::Gemini,
        banana_studio::keys::Secret::new("g-key"),
    )]));
    let mut config = EngineConfig::new(dir.path(), keys);
    config.set_base_url(ProviderId::Gemini, fake.base_url());
    let engine = Engine::start(config).unwrap();
    let catalog = Catalog::bundled();
    let mut recipe = Recipe::new("a banana by the token", ProviderId::Gemini, &catalog);
    recipe.model = "gemini-nano-banana-2.1".into();
    recipe.size = Some(banana_studio::recipe::ImageSize::K2);
    recipe.thinking = Some(banana_studio::recipe::ThinkingLevel::High);
    recipe.count = 2;
    engine.submit(recipe).unwrap();
    let mut job = None;
    events_until(&engine, Duration::from_secs(60), |e| match e {
        Event::JobSucceeded { generation, .. } => {
            job = Some(generation.job.clone());
            true
        }
        Event::JobFailed { message, .. } => panic!("the job failed: {message}"),
        _ => false,
    });
    let job = job.unwrap();
    let usage = job.usage.expect("the usage the service reported");
    assert_eq!(
        usage.image_tokens,
        2 * 1680,
        "1680 tokens a 2K image, two images"
    );
    assert_eq!(
        usage.thought_tokens,
        2 * 1540,
        "thinking high, two requests"
    );
    assert!(usage.prompt_tokens > 0 && usage.text_tokens > 0);
    let rates = catalog
        .model(ProviderId::Gemini, "gemini-nano-banana-2.1")
        .unwrap()
        .rates
        .unwrap();
    let want = usage.image_tokens as f64 * 30.0 / 1e6
        + (usage.text_tokens + usage.thought_tokens) as f64 * 7.5 / 1e6
        + usage.prompt_tokens as f64 * 1.5 / 1e6;
    let cost = job.cost_usd.unwrap();
    assert!((cost - want).abs() < 1e-12, "{cost} vs {want}");
    assert!((usage.cost_usd(&rates) - want).abs() < 1e-12);
    // Kept: the history reads it back.
    let stored = engine.library().job(job.id).unwrap().unwrap();
    assert_eq!(stored.usage, Some(usage));
}

#[test]
fn a_job_that_would_pass_the_budget_is_refused_before_it_is_sent() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = banana_studio::fake::eachlabs::FakeEachlabs::start(runtime.handle(), "each-key", 0)
        .unwrap();
    fake.set_billed_per_image(0.0731);
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(banana_studio::keys::StaticKeys(vec![(
        ProviderId::Eachlabs,
        banana_studio::keys::Secret::new("each-key"),
    )]));
    let mut config = EngineConfig::new(dir.path(), keys);
    config.set_base_url(ProviderId::Eachlabs, fake.base_url());
    config.budget = banana_studio::engine::budget::Budget {
        daily_usd: Some(0.10),
        monthly_usd: None,
    };
    let engine = Engine::start(config).unwrap();
    let catalog = Catalog::bundled();
    let recipe = Recipe::new("a frugal banana", ProviderId::Eachlabs, &catalog);
    engine.submit(recipe.clone()).unwrap();
    events_until(&engine, Duration::from_secs(60), |e| match e {
        Event::JobSucceeded { .. } => true,
        Event::JobFailed { message, .. } => panic!("the job failed: {message}"),
        _ => false,
    });
    let sent = fake.creates();
    // $0.07 spent of $0.10: the next one (about $0.04) would pass the cap.
    let refused = engine.submit(recipe.clone()).unwrap_err();
    assert_eq!(refused.field, "budget");
    assert!(
        refused.message.contains("$0.07 is spent, $0.03 is left")
            && refused.message.contains("Raise the budget in Settings"),
        "{}",
        refused.message
    );
    let batch = engine
        .start_batch("Too much".into(), vec![recipe.clone(); 3])
        .unwrap_err();
    assert!(
        batch
            .message
            .starts_with("the batch: this would cost about $0.12"),
        "{}",
        batch.message
    );
    // Raised, it goes.
    engine.set_budget(banana_studio::engine::budget::Budget {
        daily_usd: Some(1.0),
        monthly_usd: Some(1.0),
    });
    engine.submit(recipe).unwrap();
    events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. })
    });
    assert_eq!(fake.creates(), sent + 1, "the refused ones never went out");
    let spend = {
        engine.load_spend();
        let events = events_until(&engine, Duration::from_secs(10), |e| {
            matches!(e, Event::Spend(_))
        });
        match events.last() {
            Some(Event::Spend(s)) => *s,
            _ => unreachable!(),
        }
    };
    assert!((spend.day_usd - 0.1462).abs() < 1e-9, "{spend:?}");
    assert!((spend.session_usd - 0.1462).abs() < 1e-9, "{spend:?}");
}

#[test]
fn a_recipe_on_a_shut_down_model_runs_again_on_its_successor() {
    let dir = tempfile::tempdir().unwrap();
    let old = {
        let library = Library::open(dir.path()).unwrap();
        let mut recipe = recipe("a lamp from last summer");
        recipe.model = "gemini-3.1-flash-image".into();
        recipe.size = Some(banana_studio::recipe::ImageSize::S512);
        let id = library.create_job(&recipe, true, None).unwrap();
        library
            .fail_job(id, ErrorKind::ModelNotFound, "the model is gone")
            .unwrap();
        id
    };
    let engine = sandbox_engine(dir.path());
    engine.rerun_on_successor(old);
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. } | Event::SubmitFailed { .. })
    });
    let Some(Event::JobSucceeded { generation, .. }) = events.last() else {
        panic!("{events:#?}")
    };
    let recipe = &generation.job.recipe;
    assert_eq!(recipe.model, "gemini-nano-banana-2.1");
    assert_eq!(
        recipe.size,
        Some(banana_studio::recipe::ImageSize::K1),
        "512 is not taken: the successor's own size"
    );
    assert_eq!(generation.job.retry_of, Some(old));
}

#[test]
fn stand_ins_start_only_for_providers_without_a_key() {
    let all = ProviderId::ALL;
    for missing in [None, Some(ProviderId::Oxen)] {
        let dir = tempfile::tempdir().unwrap();
        let keyed = all
            .iter()
            .filter(|p| Some(**p) != missing)
            .map(|p| (*p, banana_studio::keys::Secret::new("a-key")))
            .collect();
        let sandbox = Sandbox::standard();
        let mut config =
            EngineConfig::new(dir.path(), Arc::new(banana_studio::keys::StaticKeys(keyed)));
        config.sandbox = Some(sandbox.clone());
        for provider in all {
            // Nothing listens there: no request may leave the machine.
            config.set_base_url(provider, "http://127.0.0.1:9".to_owned());
        }
        let engine = Engine::start(config).unwrap();
        assert_eq!(sandbox.running(), missing.into_iter().collect::<Vec<_>>());
        for provider in all {
            assert_eq!(engine.status(provider).sandbox, Some(provider) == missing);
        }
    }
}

#[test]
fn render_final_runs_the_drafts_recipe_on_the_final_model_with_the_draft_attached() {
    let dir = tempfile::tempdir().unwrap();
    let engine = sandbox_engine(dir.path());
    let mut draft = recipe("a teapot, draft");
    draft.model = "gemini-2.5-flash-image".into();
    draft.size = None;
    engine.submit(draft).unwrap();
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. })
    });
    let Some(Event::JobSucceeded { generation, .. }) = events.last() else {
        unreachable!()
    };
    let draft_image = generation.images[0].id;
    engine.render_final(
        draft_image,
        "gemini-3-pro-image".into(),
        Some(banana_studio::recipe::ImageSize::K1),
    );
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(
            e,
            Event::JobSucceeded { .. } | Event::JobFailed { .. } | Event::SubmitFailed { .. }
        )
    });
    let Some(Event::JobSucceeded { generation, .. }) = events.last() else {
        panic!("the final failed: {events:#?}")
    };
    let job = &generation.job;
    assert_eq!(job.recipe.model, "gemini-3-pro-image");
    assert_eq!(job.recipe.prompt, "a teapot, draft", "the draft's recipe");
    assert_eq!(job.recipe.final_of, Some(draft_image));
    assert_eq!(
        job.parent_image_id,
        Some(draft_image),
        "lineage links it to the draft"
    );
    assert_eq!(
        job.recipe.inputs.len(),
        1,
        "the draft went along as a reference"
    );
}

#[test]
fn the_lineage_marks_a_final_as_its_drafts() {
    let dir = tempfile::tempdir().unwrap();
    let engine = sandbox_engine(dir.path());
    engine.submit(recipe("a vase, draft")).unwrap();
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. })
    });
    let Some(Event::JobSucceeded { generation, .. }) = events.last() else {
        unreachable!()
    };
    let draft = generation.images[0].id;
    engine.render_final(draft, "gemini-3-pro-image".into(), None);
    let events = events_until(&engine, Duration::from_secs(60), |e| {
        matches!(e, Event::JobSucceeded { .. } | Event::SubmitFailed { .. })
    });
    let Some(Event::JobSucceeded { generation, .. }) = events.last() else {
        panic!("{events:#?}")
    };
    let library = Library::open(dir.path()).unwrap();
    let tree = library.lineage(generation.images[0].id).unwrap();
    let marks: Vec<(i64, bool)> = tree
        .nodes
        .iter()
        .map(|n| (n.image.id, n.is_final))
        .collect();
    assert_eq!(marks, vec![(draft, false), (generation.images[0].id, true)]);
}
