//! History at scale: builds a 10,000-image library (2,500 generations of 4) and, as the
//! baseline measured in the same run, a 100-image one; reports the time to open the
//! library, to query it (first page, a deep page, a search, filters) and the frame time
//! of the app while scrolling its gallery. Compare the two sizes as ratios:
//! `cargo bench --bench history_scale`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig};
use banana_studio::gui::BananaApp;
use banana_studio::keys::NoKeys;
use banana_studio::library::{HistoryQuery, Library, PageKey, SampleSpec};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;

const SIZES: [(usize, &str); 2] = [(25, "100 images"), (2_500, "10,000 images")];

fn build(jobs: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let library = Library::open(dir.path()).unwrap();
    library
        .fill_sample(SampleSpec {
            jobs,
            images_per_job: 4,
            edge: 64,
        })
        .unwrap();
    eprintln!(
        "built a library of {} images in {:.1?}",
        jobs * 4,
        started.elapsed()
    );
    dir
}

fn library_benches(c: &mut Criterion) {
    let dirs: Vec<_> = SIZES.iter().map(|(jobs, _)| build(*jobs)).collect();
    let mut open = c.benchmark_group("open");
    for ((_, name), dir) in SIZES.iter().zip(&dirs) {
        open.bench_with_input(BenchmarkId::from_parameter(name), dir, |b, dir| {
            b.iter(|| Library::open(dir.path()).unwrap());
        });
    }
    open.finish();

    let queries: [(&str, HistoryQuery); 4] = [
        (
            "first page",
            HistoryQuery {
                limit: 100,
                succeeded_only: true,
                ..Default::default()
            },
        ),
        (
            "last page",
            HistoryQuery {
                limit: 100,
                // Set below to the key of the page before the last.
                after: Some(PageKey {
                    created_at_ms: i64::MAX,
                    id: i64::MAX,
                }),
                succeeded_only: true,
                ..Default::default()
            },
        ),
        (
            "search",
            HistoryQuery {
                limit: 100,
                search: Some("rocket ban".into()),
                ..Default::default()
            },
        ),
        (
            "favourites rated 3+",
            HistoryQuery {
                limit: 100,
                favourites_only: true,
                min_rating: 3,
                ..Default::default()
            },
        ),
    ];
    let mut group = c.benchmark_group("query");
    for (what, query) in queries {
        for ((jobs, name), dir) in SIZES.iter().zip(&dirs) {
            let library = Library::open(dir.path()).unwrap();
            let mut query = query.clone();
            if query.after.is_some() {
                // Keyset paging: the last page starts after the job before it.
                let before = HistoryQuery {
                    limit: (*jobs as u32).saturating_sub(100).max(1),
                    after: None,
                    ..query.clone()
                };
                query.after = library
                    .generations(&before)
                    .unwrap()
                    .last()
                    .map(PageKey::of);
            }
            group.bench_with_input(BenchmarkId::new(what, name), &query, |b, q| {
                b.iter(|| library.generations(q).unwrap());
            });
        }
    }
    group.finish();
}

fn frame_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame while scrolling");
    group
        .sample_size(60)
        .measurement_time(Duration::from_secs(8));
    for (jobs, name) in SIZES {
        let dir = build(jobs);
        let mut config = EngineConfig::new(dir.path(), Arc::new(NoKeys));
        config.force_sandbox = true;
        config.sandbox = Some(banana_studio::fake::Sandbox::standard());
        let engine = Engine::start(config).unwrap();
        let mut harness = Harness::builder()
            .with_size([1400.0, 900.0])
            .build_eframe(move |cc| BananaApp::new(cc, engine));
        let deadline = Instant::now() + Duration::from_secs(30);
        while harness.state().gallery().generations().is_empty() && Instant::now() < deadline {
            harness.step();
            std::thread::sleep(Duration::from_millis(10));
        }
        let over_gallery = egui::pos2(1200.0, 600.0);
        harness.event(egui::Event::PointerMoved(over_gallery));
        let mut frame = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                // Down for a while, then back up: rows come and go, pages load.
                let down = (frame / 200).is_multiple_of(2);
                frame += 1;
                harness.event(egui::Event::MouseWheel {
                    unit: egui::MouseWheelUnit::Point,
                    delta: egui::vec2(0.0, if down { -400.0 } else { 400.0 }),
                    phase: egui::TouchPhase::Move,
                    source: egui::MouseWheelSource::Wheel,
                    modifiers: egui::Modifiers::NONE,
                });
                harness.step();
            });
        });
        let app = harness.state();
        eprintln!(
            "{name}: {} generations loaded, {} drawn in the last frame, {} thumbnail textures held",
            app.gallery().generations().len(),
            app.gallery().drawn().len(),
            app.thumbnail_textures()
        );
    }
    group.finish();
}

criterion_group!(benches, library_benches, frame_benches);
criterion_main!(benches);
