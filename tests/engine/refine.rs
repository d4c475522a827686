//! Refinement: a conversation continued step by step, lineage recorded, every
//! signature sent back unchanged; a lost signature fails in the service's words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig, Event};
use banana_studio::fake::Sandbox;
use banana_studio::keys::NoKeys;
use banana_studio::library::{Generation, ImageId};
use banana_studio::providers::ErrorKind;
use banana_studio::recipe::{Catalog, ProviderId, Recipe};

fn engine(dir: &std::path::Path) -> (Engine, Arc<Sandbox>) {
    let sandbox = Sandbox::standard();
    let mut config = EngineConfig::new(dir, Arc::new(NoKeys));
    config.force_sandbox = true;
    config.sandbox = Some(sandbox.clone());
    (Engine::start(config).unwrap(), sandbox)
}

fn pro(prompt: &str) -> Recipe {
    Recipe::new(prompt, ProviderId::Gemini, &Catalog::bundled())
}

fn wait_end(engine: &Engine) -> Result<Generation, (ErrorKind, String)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match engine.next_event(Duration::from_millis(50)) {
            Some(Event::JobSucceeded { generation, .. }) => return Ok(*generation),
            Some(Event::JobFailed { kind, message, .. }) => return Err((kind, message)),
            Some(Event::SubmitFailed { message }) => panic!("{message}"),
            _ => {}
        }
    }
    panic!("no end");
}

fn first_image(g: &Generation) -> ImageId {
    g.images[0].id
}

#[test]
fn a_three_step_refine_chain_sends_every_signature_back() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = engine(dir.path());
    let fake = sandbox.gemini().unwrap();

    engine.submit(pro("a red chair")).unwrap();
    let a = wait_end(&engine).unwrap();
    engine.refine(first_image(&a), pro("make it blue")).unwrap();
    let b = wait_end(&engine).unwrap();
    assert_eq!(
        fake.returned_signatures(),
        2,
        "step 1's text and image signatures came back"
    );
    engine
        .refine(first_image(&b), pro("add a lamp beside it"))
        .unwrap();
    let c = wait_end(&engine).unwrap();
    assert_eq!(
        fake.returned_signatures(),
        2 + 4,
        "steps 1 and 2 came back intact"
    );

    let last = fake.request_bodies().pop().unwrap();
    let roles: Vec<&str> = last["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, vec!["user", "model", "user", "model", "user"]);
    assert_eq!(last["contents"][0]["parts"][0]["text"], "a red chair");
    assert_eq!(
        last["contents"][4]["parts"][0]["text"],
        "add a lamp beside it"
    );

    assert_eq!(b.job.parent_image_id, Some(first_image(&a)));
    assert_eq!(c.job.parent_image_id, Some(first_image(&b)));
    assert_eq!(a.job.parent_image_id, None);
}

#[test]
fn a_lost_signature_fails_with_the_service_message() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _sandbox) = engine(dir.path());
    engine.submit(pro("a red chair")).unwrap();
    let a = wait_end(&engine).unwrap();
    // Damage the stored turn the way a careless proxy would: drop the image's signature.
    let db = rusqlite::Connection::open(dir.path().join("library.sqlite3")).unwrap();
    let turns: String = db
        .query_row(
            "SELECT turns_json FROM job_turns WHERE job_id = ?1",
            [a.job.id],
            |r| r.get(0),
        )
        .unwrap();
    let mut turns: serde_json::Value = serde_json::from_str(&turns).unwrap();
    turns[0]["parts"][3]
        .as_object_mut()
        .unwrap()
        .remove("thoughtSignature");
    db.execute(
        "UPDATE job_turns SET turns_json = ?2 WHERE job_id = ?1",
        rusqlite::params![a.job.id, turns.to_string()],
    )
    .unwrap();

    engine.refine(first_image(&a), pro("make it blue")).unwrap();
    let (kind, message) = wait_end(&engine).unwrap_err();
    assert_eq!(kind, ErrorKind::InvalidInput);
    assert!(
        message.contains(
            "Image part is missing a thought_signature in content position 2, part position 4"
        ),
        "{message}"
    );
}

#[test]
fn refining_on_another_model_uses_the_image_as_input() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = engine(dir.path());
    let fake = sandbox.gemini().unwrap();
    engine.submit(pro("a red chair")).unwrap();
    let a = wait_end(&engine).unwrap();
    let mut flash = pro("make it blue");
    flash.model = "gemini-2.5-flash-image".into();
    flash.size = None;
    engine.refine(first_image(&a), flash).unwrap();
    let b = wait_end(&engine).unwrap();
    assert_eq!(b.job.recipe.inputs.len(), 1, "the parent became the input");
    assert_eq!(b.job.parent_image_id, Some(first_image(&a)));
    let last = fake.request_bodies().pop().unwrap();
    assert_eq!(
        last["contents"].as_array().unwrap().len(),
        1,
        "no conversation across models"
    );
    assert!(last["contents"][0]["parts"][1].get("inlineData").is_some());
}

#[test]
fn thoughts_show_while_a_job_runs_are_never_kept_and_a_streamed_answer_refines() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::standard();
    let mut config = EngineConfig::new(dir.path(), Arc::new(NoKeys));
    config.force_sandbox = true;
    config.sandbox = Some(sandbox.clone());
    config.show_thinking = true;
    let engine = Engine::start(config).unwrap();
    let fake = sandbox.gemini().unwrap();

    engine.submit(pro("a red chair")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut texts, mut pictures) = (Vec::new(), Vec::new());
    let generation = loop {
        assert!(Instant::now() < deadline, "no end");
        match engine.next_event(Duration::from_millis(50)) {
            Some(Event::JobThought { text, picture, .. }) => {
                texts.extend(text);
                pictures.extend(picture);
            }
            Some(Event::JobSucceeded { generation, .. }) => break *generation,
            Some(Event::JobFailed { message, .. }) => panic!("{message}"),
            _ => {}
        }
    };
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(texts[0].contains("Composing the scene"));
    assert_eq!(pictures.len(), 1);
    assert!(pictures[0].width <= 512 && pictures[0].height <= 512);
    assert_eq!(generation.images.len(), 1, "a draft is never a result");

    engine
        .refine(first_image(&generation), pro("make it blue"))
        .unwrap();
    wait_end(&engine).unwrap();
    assert_eq!(fake.returned_signatures(), 2);

    // Switched off, the next job does not stream.
    engine.set_show_thinking(false);
    engine.submit(pro("a green chair")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no end");
        match engine.next_event(Duration::from_millis(50)) {
            Some(Event::JobThought { .. }) => panic!("thoughts after switching them off"),
            Some(Event::JobSucceeded { .. }) => break,
            Some(Event::JobFailed { message, .. }) => panic!("{message}"),
            _ => {}
        }
    }
}
