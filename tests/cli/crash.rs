//! Crash safety: a CLI killed with SIGKILL at random moments while it stores results,
//! twenty times; afterwards the database is sound, every row's file is there, no partial
//! file is visible, and the cut-off job comes back as Interrupted and can be retried.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig, Event};
use banana_studio::keys::NoKeys;
use banana_studio::library::{HistoryQuery, JobState, Library};

fn files_named(root: &Path, keep: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if keep(&entry.file_name().to_string_lossy()) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// Jobs in the history so far (0 while the database is not there yet).
fn jobs_in(dir: &Path) -> usize {
    rusqlite::Connection::open_with_flags(
        dir.join("library.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .and_then(|c| c.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get::<_, i64>(0)))
    .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

#[test]
fn twenty_kills_while_storing_lose_at_most_the_job_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    // A small deterministic sequence of kill moments, 0 to 800 ms after the job is written.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let wait = Duration::from_millis(state % 800);
        let mut child = Command::new(env!("CARGO_BIN_EXE_banana-studio"))
            .env("BANANA_STUDIO_KEYSTORE", "memory")
            .arg("--data-dir")
            .arg(dir.path())
            .args([
                "--sandbox",
                "generate",
                &format!("crash round {round}"),
                "--count",
                "3",
                "--size",
                "2K",
            ])
            .env_remove("GEMINI_API_KEY")
            .env_remove("GOOGLE_API_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Once its job is in the history (however slow the machine is to start a
        // process), kill it at a random moment of the call and the storing.
        let started = Instant::now();
        while jobs_in(dir.path()) <= round && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(wait);
        child.kill().unwrap(); // SIGKILL on Unix.
        child.wait().unwrap();
    }

    // The database is sound and every row's file exists.
    let library = Library::open(dir.path()).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("library.sqlite3")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let all = library
        .generations(&HistoryQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 20, "no job is lost to a kill");
    // A kill just after a job is recorded can leave an image without its thumbnail
    // (made just after); such a tile's thumbnail is made when it is shown.
    let mut thumbless = Vec::new();
    for g in &all {
        for image in &g.images {
            assert!(
                image.path.exists(),
                "row {} points at a missing file",
                image.id
            );
            if !image.thumb_path.exists() {
                thumbless.push(image.clone());
            }
        }
    }
    let unfinished: Vec<i64> = all
        .iter()
        .filter(|g| !g.job.state.is_terminal())
        .map(|g| g.job.id)
        .collect();
    assert!(
        !unfinished.is_empty(),
        "some kills must land mid-job for this test to mean anything"
    );
    drop(library);

    // The next start marks them Interrupted, collects partial files, and can retry them.
    let mut config = EngineConfig::new(dir.path(), Arc::new(NoKeys));
    config.force_sandbox = true;
    config.sandbox = Some(banana_studio::fake::Sandbox::standard());
    let engine = Engine::start(config).unwrap();
    for id in &unfinished {
        assert_eq!(
            engine.library().job(*id).unwrap().unwrap().state,
            JobState::Interrupted
        );
    }
    engine
        .library()
        .collect_orphans_older_than(Duration::ZERO)
        .unwrap();
    let partial = files_named(dir.path(), &|name| name.ends_with(".tmp"));
    assert!(partial.is_empty(), "partial files left: {partial:?}");
    for image in &thumbless {
        let shown = engine
            .load_thumbnail(image.id)
            .wait(Duration::from_secs(10));
        assert!(
            matches!(shown, Some(Ok(_))),
            "row {}'s thumbnail: {shown:?}",
            image.id
        );
        assert!(image.thumb_path.exists(), "and kept");
    }

    engine.retry(unfinished[0]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "the retry did not finish");
        match engine.next_event(Duration::from_millis(50)) {
            Some(Event::JobSucceeded { generation, .. }) => {
                assert_eq!(generation.job.retry_of, Some(unfinished[0]));
                break;
            }
            Some(Event::JobFailed { message, .. }) => panic!("retry failed: {message}"),
            _ => {}
        }
    }
}

#[test]
fn a_damaged_database_is_kept_as_a_backup_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("library.sqlite3"),
        b"this is not a database at all, just text",
    )
    .unwrap();
    let (library, notice) = Library::open_checked(dir.path()).unwrap();
    let notice = notice.expect("the damage is reported");
    assert!(
        notice.contains("was damaged") && notice.contains(".bak"),
        "{notice}"
    );
    assert!(
        library
            .generations(&HistoryQuery {
                limit: 1,
                ..Default::default()
            })
            .unwrap()
            .is_empty()
    );
    let backups = files_named(dir.path(), &|name| {
        name.contains(".corrupt-") && name.ends_with(".bak")
    });
    assert_eq!(backups.len(), 1);
    assert_eq!(
        std::fs::read(&backups[0]).unwrap(),
        b"this is not a database at all, just text"
    );
}

/// A library whose database has one page overwritten, closed cleanly beforehand, so the
/// header and schema still read but the table's pages do not.
fn library_with_a_damaged_page(dir: &Path) {
    drop(Library::open(dir).unwrap());
    let db = dir.join("library.sqlite3");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE filler (x BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
             INSERT INTO filler SELECT randomblob(900) FROM n;
             PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .unwrap();
    }
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    assert!(bytes.len() > page * 40, "the filler spans many pages");
    let start = bytes.len() - page * 20;
    bytes[start..start + page].fill(0xA5);
    std::fs::write(&db, bytes).unwrap();
}

/// After a clean close the next open reads no more than the header: a damaged page
/// goes unread, and the library opens without a word.
#[test]
fn a_clean_close_skips_the_check_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    library_with_a_damaged_page(dir.path());
    let (library, notice) = Library::open_checked(dir.path()).unwrap();
    assert!(!library.opened_after_unclean_close());
    assert_eq!(notice, None);
}

/// A process that ended without closing (its owner lock left behind, as after SIGKILL)
/// leaves the open as fast as ever; the quick check made in the background finds the
/// damage and notes it, and the next open keeps the database aside and starts anew.
#[test]
fn an_unclean_close_leads_to_a_check_that_sets_damage_aside_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    library_with_a_damaged_page(dir.path());
    // A lock file nobody holds: what a killed process leaves.
    std::fs::write(dir.path().join("owners").join("4242-dead.lock"), b"").unwrap();
    let (library, notice) = Library::open_checked(dir.path()).unwrap();
    assert!(library.opened_after_unclean_close());
    assert_eq!(notice, None, "the open itself reads no pages");
    let problem = library.quick_check().unwrap().expect("the damage is found");
    assert!(!problem.is_empty());
    drop(library);
    let (again, notice) = Library::open_checked(dir.path()).unwrap();
    let notice = notice.expect("the noted damage is dealt with before use");
    assert!(notice.contains("was damaged"), "{notice}");
    assert!(
        !again.opened_after_unclean_close(),
        "the stale lock was swept"
    );
    assert_eq!(again.quick_check().unwrap(), None, "a new history");
    drop(again);
    let (_third, notice) = Library::open_checked(dir.path()).unwrap();
    assert_eq!(notice, None);
}

/// The engine makes that check itself, in the background, and says what it found.
#[test]
fn the_engine_checks_after_an_unclean_close_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    library_with_a_damaged_page(dir.path());
    std::fs::write(dir.path().join("owners").join("4242-dead.lock"), b"").unwrap();
    let engine = Engine::start(EngineConfig::new(dir.path(), Arc::new(NoKeys))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let message = loop {
        assert!(Instant::now() < deadline, "no word of the damage");
        if let Some(Event::LibraryFailed { message }) =
            engine.next_event(Duration::from_millis(200))
        {
            break message;
        }
    };
    assert!(message.contains("Restart the app"), "{message}");
}

/// A sound database after an unclean close opens normally and checks out.
#[test]
fn a_sound_database_after_an_unclean_close_opens_quietly() {
    let dir = tempfile::tempdir().unwrap();
    drop(Library::open(dir.path()).unwrap());
    std::fs::write(dir.path().join("owners").join("4242-dead.lock"), b"").unwrap();
    let (library, notice) = Library::open_checked(dir.path()).unwrap();
    assert!(library.opened_after_unclean_close());
    assert_eq!(notice, None);
    assert_eq!(library.quick_check().unwrap(), None);
}
