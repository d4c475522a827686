//! Model turns without pixels: the stored turn holds references, each picture is one
//! file (a hard link to the image when the bytes are the same), a refine sends the exact
//! bytes back, and a library written by the previous version is converted losslessly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig, Event};
use banana_studio::fake::Sandbox;
use banana_studio::keys::NoKeys;
use banana_studio::library::{Generation, Library};
use banana_studio::providers::ErrorKind;
use banana_studio::recipe::{Catalog, OutputFormat, ProviderId, Recipe};
use serde_json::Value;

const PRO: &str = "gemini-3-pro-image";

fn engine(dir: &Path) -> (Engine, Arc<Sandbox>) {
    let sandbox = Sandbox::standard();
    let mut config = EngineConfig::new(dir, Arc::new(NoKeys));
    config.force_sandbox = true;
    config.sandbox = Some(sandbox.clone());
    (Engine::start(config).unwrap(), sandbox)
}

fn pro(prompt: &str) -> Recipe {
    let mut recipe = Recipe::new(prompt, ProviderId::Gemini, &Catalog::bundled());
    recipe.model = PRO.into();
    recipe
}

fn wait_end(engine: &Engine) -> Result<Generation, (ErrorKind, String)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match engine.next_event(Duration::from_millis(50)) {
            Some(Event::JobSucceeded { generation, .. }) => return Ok(*generation),
            Some(Event::JobFailed { kind, message, .. }) => return Err((kind, message)),
            Some(Event::SubmitFailed { message }) => {
                return Err((ErrorKind::InvalidInput, message));
            }
            _ => {}
        }
    }
    panic!("no end");
}

/// A job's stored turns, wherever they are: in `job_turns`, or still in the job row
/// of a library an earlier version wrote.
fn stored_turns(dir: &Path, job: i64) -> String {
    let db = rusqlite::Connection::open(dir.join("library.sqlite3")).unwrap();
    let sql = if turns_apart(&db) {
        "SELECT COALESCE((SELECT turns_json FROM job_turns WHERE job_id = ?1),
                         (SELECT model_turns_json FROM jobs WHERE id = ?1))"
    } else {
        "SELECT model_turns_json FROM jobs WHERE id = ?1"
    };
    db.query_row(sql, [job], |r| r.get(0)).unwrap()
}

/// Whether the database has the table turns are kept apart in (schema 17 on).
fn turns_apart(db: &rusqlite::Connection) -> bool {
    db.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'job_turns')",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// How many job rows still hold their turns, and how many turns are kept apart.
fn where_turns_are(dir: &Path) -> (i64, i64) {
    let db = rusqlite::Connection::open(dir.join("library.sqlite3")).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get(0)).unwrap();
    let apart = if turns_apart(&db) {
        count("SELECT COUNT(*) FROM job_turns")
    } else {
        0
    };
    (
        count("SELECT COUNT(*) FROM jobs WHERE model_turns_json IS NOT NULL"),
        apart,
    )
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for file in files_under(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

/// A library written by the previous version (schema 7): a Pro image and a refinement
/// of it, saved as JPEG, whose turns hold their pictures (an interim thought image and
/// the PNG the service sent) as base64.
fn previous_version_library() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/library-v7");
    copy_tree(&fixture, dir.path());
    dir
}

#[cfg(unix)]
fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (std::fs::metadata(a).unwrap(), std::fs::metadata(b).unwrap());
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[test]
fn a_stored_turn_holds_references_and_each_picture_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = engine(dir.path());
    // Pro sends JPEG: saved as JPEG, the image file is the bytes as sent.
    let mut recipe = pro("a red chair");
    recipe.format = OutputFormat::Jpeg;
    engine.submit(recipe).unwrap();
    let a = wait_end(&engine).unwrap();

    assert_eq!(
        where_turns_are(dir.path()),
        (0, 1),
        "the turns are kept apart from the job row a history page reads"
    );
    let json = stored_turns(dir.path(), a.job.id);
    let image_bytes = a.images[0].size_bytes;
    assert!(
        (json.len() as u64) * 20 < image_bytes,
        "the turn ({} bytes) must be a small fraction of the image ({image_bytes} bytes)",
        json.len()
    );
    let turns: Vec<Value> = serde_json::from_str(&json).unwrap();
    let parts = turns[0]["parts"].as_array().unwrap();
    let shas: Vec<&str> = parts
        .iter()
        .filter_map(|p| p["inlineData"]["bananaSha256"].as_str())
        .collect();
    assert_eq!(shas.len(), 2, "the interim thought image and the result");
    assert!(parts.iter().all(|p| p["inlineData"].get("data").is_none()));
    assert!(
        parts[3]["thoughtSignature"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "signatures stay in the turn"
    );

    // The result's part is the image file itself, not a second copy.
    let stored = files_under(&dir.path().join("parts"));
    assert_eq!(stored.len(), 2, "{stored:?}");
    let result_part = stored
        .iter()
        .find(|p| p.to_string_lossy().contains(shas[1]))
        .unwrap();
    assert_eq!(shas[1], a.images[0].sha256, "the JPEG was kept as sent");
    #[cfg(unix)]
    assert!(same_inode(result_part, &a.images[0].path));

    // Refining sends the exact bytes back: the fake's signatures cover them.
    let fake = sandbox.gemini().unwrap();
    engine.refine(a.images[0].id, pro("make it blue")).unwrap();
    wait_end(&engine).unwrap();
    assert_eq!(fake.returned_signatures(), 2);
}

#[test]
fn a_converted_image_keeps_the_sent_bytes_and_its_purge_frees_them() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, sandbox) = engine(dir.path());
    // Pro sends JPEG; the recipe asks for PNG, so the image file is a conversion.
    let mut recipe = pro("a red chair");
    recipe.format = OutputFormat::Png;
    engine.submit(recipe).unwrap();
    let a = wait_end(&engine).unwrap();
    engine.refine(a.images[0].id, pro("make it blue")).unwrap();
    let b = wait_end(&engine).unwrap();

    // The PNG is what the user keeps; the turn's JPEG is its own file.
    let json = stored_turns(dir.path(), a.job.id);
    assert!(!json.contains(&a.images[0].sha256));
    assert_eq!(files_under(&dir.path().join("parts")).len(), 4);

    // The first image goes to the trash: its pictures stay, for Undo. Purged, no
    // refinement can reach its turn any more (its child's link to it is gone), so
    // they go too, and its child still refines.
    let library = engine.library();
    library.trash(&[a.images[0].id]).unwrap();
    library.collect_orphans_older_than(Duration::ZERO).unwrap();
    assert_eq!(files_under(&dir.path().join("parts")).len(), 4);
    library.empty_trash().unwrap();
    assert!(!a.images[0].path.exists());
    library.collect_orphans_older_than(Duration::ZERO).unwrap();
    assert_eq!(files_under(&dir.path().join("parts")).len(), 2);

    let fake = sandbox.gemini().unwrap();
    engine.refine(b.images[0].id, pro("add a lamp")).unwrap();
    wait_end(&engine).unwrap();
    assert_eq!(
        fake.returned_signatures(),
        2 + 2,
        "the second step came back intact"
    );
}

#[test]
fn a_missing_picture_refuses_the_refine_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _sandbox) = engine(dir.path());
    engine.submit(pro("a red chair")).unwrap();
    let a = wait_end(&engine).unwrap();
    let parts = files_under(&dir.path().join("parts"));
    let thought = parts
        .iter()
        .find(|p| !p.to_string_lossy().contains(&a.images[0].sha256))
        .unwrap();
    std::fs::remove_file(thought).unwrap();

    engine.refine(a.images[0].id, pro("make it blue")).unwrap();
    let (_, message) = wait_end(&engine).unwrap_err();
    assert!(
        message.contains("cannot be continued") && message.contains("start a new edit"),
        "{message}"
    );
}

#[test]
fn a_library_of_the_previous_version_is_converted_without_loss() {
    let dir = previous_version_library();
    let before: Vec<Value> = [1, 2]
        .map(|job| serde_json::from_str(&stored_turns(dir.path(), job)).unwrap())
        .into();
    let db = dir.path().join("library.sqlite3");
    let size_before = std::fs::metadata(&db).unwrap().len();

    let library = Library::open(dir.path()).unwrap();
    assert_eq!(library.schema_version().unwrap(), 17);
    assert_eq!(where_turns_are(dir.path()), (2, 0), "opening moves nothing");
    assert!(library.has_turns_to_lift().unwrap());
    let report = library.lift_stored_turns().unwrap();
    assert_eq!((report.jobs, report.pictures, report.moved), (2, 4, 2));
    assert!(report.compacted);
    assert!(!library.has_turns_to_lift().unwrap());
    assert_eq!(
        where_turns_are(dir.path()),
        (0, 2),
        "the turns left the job rows"
    );

    // Every turn, its pictures put back, is exactly what was stored.
    for (job, original) in [1, 2].into_iter().zip(&before) {
        let json = stored_turns(dir.path(), job);
        assert!(!json.contains("\"data\""), "job {job} still holds base64");
        let mut turns: Vec<Value> = serde_json::from_str(&json).unwrap();
        for turn in &mut turns {
            library.put_back_turn_pictures(turn).unwrap();
        }
        assert_eq!(&Value::from(turns), original, "job {job}");
    }
    // The pictures' base64 was most of the file; what stays is pages of rows and
    // indexes (a few more with each migration that adds an index).
    let size_after = std::fs::metadata(&db).unwrap().len();
    assert!(
        size_after * 5 < size_before * 2,
        "compacted: {size_before} -> {size_after} bytes"
    );

    // Running again is a no-op, and the collector keeps every part.
    assert_eq!(
        library.lift_stored_turns().unwrap(),
        Default::default(),
        "nothing left to do"
    );
    library.collect_orphans_older_than(Duration::ZERO).unwrap();
    assert_eq!(files_under(&dir.path().join("parts")).len(), 4);
    drop(library);

    // And the old conversation goes on.
    refines_the_fixture_with_both_signatures(dir.path());
}

/// Refines the image of job 2 of a fixture (the refinement of job 1's image): both
/// stored steps go back with their signatures.
fn refines_the_fixture_with_both_signatures(dir: &Path) {
    let (engine, sandbox) = engine(dir);
    let image = engine
        .library()
        .generation(2)
        .unwrap()
        .expect("the refinement of the fixture")
        .images[0]
        .id;
    engine.refine(image, pro("make the kite yellow")).unwrap();
    let c = wait_end(&engine).unwrap();
    assert_eq!(c.job.parent_image_id, Some(image));
    assert_eq!(
        sandbox.gemini().unwrap().returned_signatures(),
        4,
        "both stored steps went back with their signatures"
    );
}

#[test]
fn an_old_library_refines_while_its_conversion_runs() {
    // The engine converts in the background; a refine at once reads whichever form the
    // turn is in at that moment.
    let dir = previous_version_library();
    let (engine, sandbox) = engine(dir.path());
    let image = engine.library().generation(2).unwrap().unwrap().images[0].id;
    engine.refine(image, pro("make the kite yellow")).unwrap();
    wait_end(&engine).unwrap();
    assert_eq!(sandbox.gemini().unwrap().returned_signatures(), 4);
    let deadline = Instant::now() + Duration::from_secs(30);
    while engine.library().has_turns_to_lift().unwrap() {
        assert!(Instant::now() < deadline, "the conversion never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!stored_turns(dir.path(), 1).contains("\"data\""));
}

/// A library written by the version before turns had a table of their own (schema 16):
/// a Pro image and a refinement of it, saved as JPEG, whose turns (without pixels) are in
/// the job rows.
fn schema_16_library() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/library-v16");
    copy_tree(&fixture, dir.path());
    dir
}

#[test]
fn a_library_of_schema_16_moves_its_turns_and_refines_from_them() {
    let dir = schema_16_library();
    let before: Vec<String> = [1, 2].map(|job| stored_turns(dir.path(), job)).into();
    assert_eq!(
        where_turns_are(dir.path()),
        (2, 0),
        "as the fixture was written"
    );

    let library = Library::open(dir.path()).unwrap();
    assert_eq!(library.schema_version().unwrap(), 17);
    let report = library.lift_stored_turns().unwrap();
    assert_eq!((report.jobs, report.pictures, report.moved), (0, 0, 2));
    assert_eq!(where_turns_are(dir.path()), (0, 2));
    let after: Vec<String> = [1, 2].map(|job| stored_turns(dir.path(), job)).into();
    assert_eq!(after, before, "every turn moved as it was, byte for byte");
    drop(library);

    refines_the_fixture_with_both_signatures(dir.path());
}
