//! Library tests on temp dirs: migrations from empty, round trip of a generation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use banana_studio::library::{HistoryQuery, JobState, Library, Mark, NewImage};
use banana_studio::providers::ErrorKind;
use banana_studio::recipe::{AspectRatio, Catalog, ImageSize, ProviderId, Recipe};

#[test]
fn migrations_run_from_an_empty_database_and_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    assert_eq!(library.schema_version().unwrap(), 17);
    drop(library);
    let again = Library::open(dir.path()).unwrap();
    assert_eq!(again.schema_version().unwrap(), 17);
    assert!(
        again
            .generations(&HistoryQuery {
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_generation_round_trips_with_its_images() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    let mut recipe = Recipe::new(
        "a café in Zürich, 東京 style",
        ProviderId::Gemini,
        &Catalog::bundled(),
    );
    recipe.aspect = AspectRatio::Ratio(16, 9);
    recipe.size = Some(ImageSize::K2);
    recipe.seed = Some(42);
    let id = library.create_job(&recipe, false, None).unwrap();
    assert_eq!(library.job(id).unwrap().unwrap().state, JobState::Created);

    let png = b"\x89PNG\r\n\x1a\nnot really".to_vec();
    let (sha, path) = library.put_image_file(&png, "image/png").unwrap();
    library.put_thumbnail(&sha, b"thumb").unwrap();
    let images = vec![NewImage {
        sha256: sha.clone(),
        mime: "image/png".into(),
        width: 2752,
        height: 1536,
        size_bytes: png.len() as u64,
        turn_index: 0,
    }];
    let ids = library
        .complete_job(
            id,
            &images,
            Some("Here you go"),
            Some("[{\"role\":\"model\"}]"),
            &[],
            Some(0.134),
        )
        .unwrap();

    let reopened = Library::open(dir.path()).unwrap();
    let generation = reopened.generation(id).unwrap().unwrap();
    assert_eq!(generation.job.recipe, recipe);
    assert_eq!(generation.job.state, JobState::Succeeded);
    assert_eq!(generation.job.text.as_deref(), Some("Here you go"));
    assert_eq!(generation.job.cost_usd, Some(0.134));
    assert_eq!(generation.images.len(), 1);
    assert_eq!(generation.images[0].id, ids[0]);
    assert_eq!(generation.images[0].path, path);
    assert_eq!(std::fs::read(&generation.images[0].path).unwrap(), png);
    assert!(generation.images[0].thumb_path.exists());

    let found = reopened
        .generations(&HistoryQuery {
            limit: 10,
            search: Some("zürich".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1, "search ignores ASCII case");
    let none = reopened
        .generations(&HistoryQuery {
            limit: 10,
            search: Some("100%_".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(none.is_empty(), "wildcards in the search are literal");
}

#[test]
fn failures_and_interruptions_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    let recipe = Recipe::new("x", ProviderId::Gemini, &Catalog::bundled());
    let failed = library.create_job(&recipe, true, None).unwrap();
    library
        .fail_job(failed, ErrorKind::Refused, "blocked")
        .unwrap();
    let cancelled = library.create_job(&recipe, true, None).unwrap();
    library
        .fail_job(cancelled, ErrorKind::Cancelled, "cancelled")
        .unwrap();
    let running = library.create_job(&recipe, true, None).unwrap();
    library.set_state(running, JobState::Storing).unwrap();
    // The process that ran it ends; the next start finds it unfinished.
    drop(library);
    let library = Library::open(dir.path()).unwrap();
    assert_eq!(library.interrupt_unfinished().unwrap(), vec![running]);
    assert_eq!(
        library.job(failed).unwrap().unwrap().state,
        JobState::Failed
    );
    assert_eq!(
        library.job(cancelled).unwrap().unwrap().state,
        JobState::Cancelled
    );
    assert_eq!(
        library.job(running).unwrap().unwrap().state,
        JobState::Interrupted
    );
}

fn job_with_image(library: &Library, prompt: &str, content: &[u8]) -> (i64, i64) {
    let recipe = Recipe::new(prompt, ProviderId::Gemini, &Catalog::bundled());
    let job = library.create_job(&recipe, true, None).unwrap();
    let (sha, _) = library.put_image_file(content, "image/png").unwrap();
    library.put_thumbnail(&sha, b"thumb").unwrap();
    let image = NewImage {
        sha256: sha,
        mime: "image/png".into(),
        width: 1,
        height: 1,
        size_bytes: content.len() as u64,
        turn_index: 0,
    };
    let ids = library
        .complete_job(job, &[image], None, None, &[], None)
        .unwrap();
    (job, ids[0])
}

fn prompts(library: &Library, search: &str) -> Vec<String> {
    let query = HistoryQuery {
        limit: 50,
        search: Some(search.into()),
        ..Default::default()
    };
    library
        .generations(&query)
        .unwrap()
        .into_iter()
        .map(|g| g.job.recipe.prompt)
        .collect()
}

#[test]
fn full_text_search_finds_words_and_prefixes_and_takes_odd_input_literally() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    job_with_image(&library, "a red fox in the snow", b"1");
    job_with_image(&library, "a blue whale at dawn", b"2");
    job_with_image(&library, "Fox-hunt poster, 100% \"vintage\"", b"3");
    assert_eq!(prompts(&library, "whale"), vec!["a blue whale at dawn"]);
    assert_eq!(prompts(&library, "FOX").len(), 2, "case-insensitive");
    assert_eq!(
        prompts(&library, "fo snow"),
        vec!["a red fox in the snow"],
        "prefixes, all words"
    );
    assert_eq!(
        prompts(&library, "\"vintage"),
        vec!["Fox-hunt poster, 100% \"vintage\""]
    );
    assert!(
        prompts(&library, "AND OR NOT (").is_empty(),
        "syntax is literal, never an error"
    );
    assert_eq!(prompts(&library, "   ").len(), 3, "blank search lists all");
}

#[test]
fn trash_moves_files_undo_brings_them_back_and_empty_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    let (job, image) = job_with_image(&library, "x", b"content");
    let path = library.image(image).unwrap().unwrap().path;
    library.mark(image, Mark::Rating(4)).unwrap();
    library.trash(&[image]).unwrap();
    assert!(!path.exists());
    assert!(library.generation(job).unwrap().unwrap().images.is_empty());
    let trashed = library.image(image).unwrap().unwrap();
    assert!(trashed.path.exists() && trashed.path.to_str().unwrap().contains("trash"));
    library.restore(&[image]).unwrap();
    assert!(path.exists());
    let back = library.image(image).unwrap().unwrap();
    assert_eq!((back.rating, back.deleted_at_ms), (4, None));
    library.trash(&[image]).unwrap();
    assert_eq!(library.empty_trash().unwrap(), 1);
    assert!(library.image(image).unwrap().is_none());
    assert!(!trashed.path.exists());
}

#[test]
fn a_second_process_leaves_the_first_ones_running_jobs_alone() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = Recipe::new("a live paid job", ProviderId::Gemini, &Catalog::bundled());
    let first = Library::open(dir.path()).unwrap();
    let live = first.create_job(&recipe, false, None).unwrap();
    first.set_state(live, JobState::Running).unwrap();

    // Another process (here: another open library) starts while the job runs.
    let second = Library::open(dir.path()).unwrap();
    assert_eq!(second.interrupt_unfinished().unwrap(), Vec::<i64>::new());
    assert_eq!(second.job(live).unwrap().unwrap().state, JobState::Running);

    // Its owner goes away without finishing it: the next start marks it Interrupted.
    drop(first);
    assert_eq!(second.interrupt_unfinished().unwrap(), vec![live]);
    assert_eq!(
        second.job(live).unwrap().unwrap().state,
        JobState::Interrupted
    );
}

#[test]
fn writes_by_another_process_are_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let watcher = Library::open(dir.path()).unwrap();
    let other = Library::open(dir.path()).unwrap();
    let mut seen = None;
    assert!(!watcher.changed_elsewhere(&mut seen).unwrap(), "first look");
    // Its own writes are not news.
    let recipe = Recipe::new("mine", ProviderId::Gemini, &Catalog::bundled());
    watcher.create_job(&recipe, false, None).unwrap();
    assert!(!watcher.changed_elsewhere(&mut seen).unwrap());
    other.create_job(&recipe, false, None).unwrap();
    assert!(watcher.changed_elsewhere(&mut seen).unwrap());
    assert!(!watcher.changed_elsewhere(&mut seen).unwrap());
}

/// "Check the library": every file read against its hash, with progress; a missing
/// file and a changed one are named, a lost thumbnail is made again, and the summary
/// says what to do.
#[test]
fn the_full_check_finds_missing_and_changed_files_and_remakes_thumbnails() {
    use banana_studio::library::{CheckProgress, SampleSpec};
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    library
        .fill_sample(SampleSpec {
            jobs: 4,
            images_per_job: 2,
            edge: 32,
        })
        .unwrap();
    let progress = CheckProgress::default();
    let sound = library.check(&progress).unwrap();
    assert!(sound.is_sound(), "{sound:?}");
    assert_eq!(sound.images_checked, 8);
    assert_eq!(progress.get(), (9, 9), "the database and each image");
    assert!(sound.summary().contains("sound"), "{}", sound.summary());

    let ids: Vec<_> = library
        .generations(&HistoryQuery {
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .iter()
        .flat_map(|g| {
            g.images
                .iter()
                .map(|i| (i.id, i.path.clone(), i.thumb_path.clone()))
        })
        .collect();
    let (gone, changed, thumbless) = (&ids[0], &ids[3], &ids[5]);
    std::fs::remove_file(&gone.1).unwrap();
    std::fs::write(&changed.1, b"not the stored bytes").unwrap();
    std::fs::remove_file(&thumbless.2).unwrap();

    let report = library.check(&progress).unwrap();
    assert!(!report.is_sound());
    assert_eq!(report.missing, vec![gone.0]);
    assert_eq!(report.damaged, vec![changed.0]);
    assert_eq!(report.thumbnails_rebuilt, 1);
    assert!(thumbless.2.exists(), "the thumbnail is back");
    let summary = report.summary();
    assert!(summary.contains(&format!("#{}", gone.0)), "{summary}");
    assert!(summary.contains("Restore them from a backup"), "{summary}");
    assert_eq!(library.check(&progress).unwrap().thumbnails_rebuilt, 0);
}

/// A sandbox engine on a library filled with `jobs` sample jobs of `images_per_job`
/// images, `edge` pixels square.
fn engine_on_sample(
    dir: &std::path::Path,
    jobs: usize,
    images_per_job: usize,
    edge: u32,
) -> banana_studio::engine::Engine {
    use banana_studio::engine::{Engine, EngineConfig};
    Library::open(dir)
        .unwrap()
        .fill_sample(banana_studio::library::SampleSpec {
            jobs,
            images_per_job,
            edge,
        })
        .unwrap();
    let mut config = EngineConfig::new(dir, std::sync::Arc::new(banana_studio::keys::NoKeys));
    config.force_sandbox = true;
    Engine::start(config).unwrap()
}

#[test]
fn a_lost_or_emptied_thumbnail_is_made_again_when_shown() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_on_sample(dir.path(), 2, 1, 300);
    let images: Vec<_> = engine
        .library()
        .generations(&HistoryQuery {
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .flat_map(|g| g.images)
        .collect();
    let (lost, emptied) = (&images[0], &images[1]);
    std::fs::remove_file(&lost.thumb_path).unwrap();
    // What a power cut can leave of a thumbnail written without waiting for the disk.
    std::fs::write(&emptied.thumb_path, b"").unwrap();
    for image in [lost, emptied] {
        let remade = engine
            .load_thumbnail(image.id)
            .wait(Duration::from_secs(10))
            .unwrap()
            .unwrap();
        let side = banana_studio::imaging::THUMB_SIDE_PX;
        assert_eq!(
            (remade.width, remade.height),
            (side, side),
            "a square's thumbnail"
        );
        let kept = std::fs::read(&image.thumb_path).unwrap();
        assert!(
            banana_studio::imaging::decode(&kept).is_ok(),
            "the thumbnail is kept again"
        );
    }
    // An image whose file is gone too says so.
    std::fs::remove_file(&lost.thumb_path).unwrap();
    std::fs::remove_file(&lost.path).unwrap();
    let err = engine
        .load_thumbnail(lost.id)
        .wait(Duration::from_secs(10))
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("could not read"), "{err}");
}

#[test]
fn trash_then_undo_at_once_and_quick_ratings_end_as_asked() {
    use banana_studio::engine::{Engine, Event};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_on_sample(dir.path(), 6, 2, 64);
    let live = |engine: &Engine| -> Vec<i64> {
        engine
            .library()
            .generations(&HistoryQuery {
                limit: 50,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .flat_map(|g| g.images.into_iter().map(|i| i.id))
            .collect()
    };
    let images = live(&engine);
    assert_eq!(images.len(), 12);
    // Delete and Undo pressed faster than either can run, over and over; then a rating
    // changed five times in a row.
    let mut asked = 0;
    for _ in 0..5 {
        engine.trash(images.clone());
        engine.restore(images.clone());
        asked += 2;
    }
    for stars in 1..=5 {
        engine.mark(images[0], Mark::Rating(stars));
        asked += 1;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = 0;
    while done < asked && Instant::now() < deadline {
        match engine.next_event(Duration::from_millis(100)) {
            Some(Event::LibraryChanged { .. }) => done += 1,
            Some(Event::LibraryFailed { message }) => panic!("a change failed: {message}"),
            _ => {}
        }
    }
    assert_eq!(done, asked, "every change answered");
    let mut back = live(&engine);
    back.sort_unstable();
    let mut expected = images.clone();
    expected.sort_unstable();
    assert_eq!(back, expected, "the last Undo brought every image back");
    for id in &images {
        let image = engine.library().image(*id).unwrap().unwrap();
        assert!(
            image.path.exists() && image.thumb_path.exists(),
            "image {id}'s files are where its record says"
        );
    }
    let rated = engine.library().image(images[0]).unwrap().unwrap();
    assert_eq!(rated.rating, 5, "the last rating given stands");
}
