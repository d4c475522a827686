//! A designer's day at full speed (issue 15). The engine and the CLI run against a
//! stand-in of the Gemini API in this file that serves a realistic 4K PNG (5504x3072,
//! gradient with grain, ~21 MB, ~29 MB as base64, each answer's bytes made distinct by a
//! counter chunk so nothing is deduplicated), with zero and 1 s of latency. The floor,
//! decoding the same base64 and writing (and syncing) the same bytes in plain Rust, is
//! measured in the same run, and every row is printed as a ratio of two figures from
//! this run, since these machines are noisy:
//!
//! `cargo bench --bench day_at_speed` (about 5 minutes on 2 cores after the build).
//!
//! Peak memory is read from `/proc/<pid>/status` (`VmHWM`) of child processes: the CLI,
//! and this benchmark re-run as the floor or as the app viewing images.
//! `DAY_BENCH_ONLY=storing,latency,rss,open,paging,viewer,sandbox` runs some rows only;
//! `DAY_BENCH_CHILD=steps` prints where one 4K image's time goes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use banana_studio::engine::{Engine, EngineConfig, Event};
use banana_studio::gui::BananaApp;
use banana_studio::keys::{NoKeys, Secret, StaticKeys};
use banana_studio::library::{HistoryQuery, JobState, Library, PageKey, SampleSpec};
use banana_studio::recipe::{AspectRatio, Catalog, ImageSize, ProviderId, Recipe};
use base64::Engine as _;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

const MODEL: &str = "gemini-3-pro-image";
/// The child modes: this benchmark re-run to measure a process of its own.
const CHILD: &str = "DAY_BENCH_CHILD";

fn main() {
    match std::env::var(CHILD).as_deref() {
        Ok("floor") => return floor_child(),
        Ok("viewer") => return viewer_child(),
        Ok("steps") => return steps_child(),
        _ => {}
    }
    let mut table = Table::default();
    let started = Instant::now();
    // DAY_BENCH_ONLY=storing,latency,rss,open,paging,viewer,sandbox runs some rows only.
    let only = std::env::var("DAY_BENCH_ONLY").ok();
    let runs = |row: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|r| r == row))
    };
    if runs("storing") || runs("latency") || runs("rss") {
        eprintln!("making the 4K picture the stand-in serves…");
        let picture = Picture::noise(5504, 3072);
        eprintln!(
            "4K picture: {:.1} MB as PNG, {:.1} MB as base64",
            picture.png_len() as f64 / 1e6,
            picture.b64_len() as f64 / 1e6
        );
        let stand_in = StandIn::start(picture.clone());
        if runs("storing") {
            storing_rows(&mut table, &stand_in, &picture);
        }
        if runs("latency") {
            latency_row(&mut table, &stand_in);
        }
        if runs("rss") {
            rss_row(&mut table, &stand_in, &picture);
        }
    }
    if runs("open") {
        open_rows(&mut table);
    }
    if runs("paging") {
        paging_rows(&mut table);
    }
    if runs("viewer") {
        viewer_row(&mut table);
    }
    if runs("sandbox") {
        sandbox_row(&mut table);
    }

    println!();
    println!(
        "A designer's day at full speed ({:.0?} in all; every figure a ratio of two measured in this run)",
        started.elapsed()
    );
    table.print();
}

/// The printed result.
#[derive(Default)]
struct Table {
    rows: Vec<(String, String, String, String)>,
}

impl Table {
    fn ratio(&mut self, what: &str, value: f64, target: f64, detail: String) {
        let verdict = if value <= target { "holds" } else { "MISSED" };
        eprintln!("  {what}: {value:.2} (target <= {target}: {verdict}); {detail}");
        self.rows.push((
            what.to_owned(),
            format!("{value:.2}"),
            format!("<= {target} {verdict}"),
            detail,
        ));
    }

    /// A figure with no target of its own, printed to explain another.
    fn context(&mut self, what: &str, value: f64, detail: String) {
        eprintln!("  {what}: {value:.2} (context); {detail}");
        self.rows.push((
            what.to_owned(),
            format!("{value:.2}"),
            "(context)".to_owned(),
            detail,
        ));
    }

    fn count(&mut self, what: &str, value: usize, target: usize, detail: String) {
        let verdict = if value <= target { "holds" } else { "MISSED" };
        eprintln!("  {what}: {value} (target {target}: {verdict}); {detail}");
        self.rows.push((
            what.to_owned(),
            value.to_string(),
            format!("{target} {verdict}"),
            detail,
        ));
    }

    fn print(&self) {
        println!("| measure | ratio | target | measured |");
        println!("|---|---|---|---|");
        for (what, value, target, detail) in &self.rows {
            println!("| {what} | {value} | {target} | {detail} |");
        }
    }
}

// ---- The picture and the stand-in ----

/// A PNG whose every copy can be made distinct cheaply: the bytes before `IEND` are a
/// multiple of three long, so their base64 is computed once and a copy appends only the
/// base64 of a small counter chunk and `IEND`.
#[derive(Clone)]
struct Picture {
    /// The PNG up to (not including) its IEND chunk.
    head: Arc<Vec<u8>>,
    head_b64: Bytes,
}

impl Picture {
    /// A gradient with per-pixel grain, like a photo's noise: about 21 MB at 4K.
    fn noise(width: u32, height: u32) -> Self {
        Self::drawn(width, height, 6)
    }

    /// The same size in one smooth gradient: compresses to little, decodes as fast as
    /// PNG allows (for building libraries whose rows are 4K without 21 GB of files).
    fn smooth(width: u32, height: u32) -> Self {
        Self::drawn(width, height, 0)
    }

    fn drawn(width: u32, height: u32, grain: u64) -> Self {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            let r = next();
            let grain = |shift: u32| {
                if grain == 0 {
                    0
                } else {
                    ((r >> shift) % grain) as u8
                }
            };
            image::Rgb([
                ((x * 200 / width) as u8).wrapping_add(grain(0)),
                ((y * 200 / height) as u8).wrapping_add(grain(8)),
                (((x + y) * 160 / (width + height)) as u8 + 40).wrapping_add(grain(16)),
            ])
        });
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        // Drop IEND (the last 12 bytes), then pad with a text chunk so what is left is a
        // multiple of three bytes long.
        png.truncate(png.len() - 12);
        let pad = (3 - (png.len() + 16) % 3) % 3;
        png.extend(chunk(b"tEXt", &b"pad\0xx"[..4 + pad]));
        assert_eq!(png.len() % 3, 0);
        let head_b64 = base64::engine::general_purpose::STANDARD.encode(&png);
        Self {
            head: Arc::new(png),
            head_b64: Bytes::from(head_b64),
        }
    }

    fn png_len(&self) -> usize {
        self.head.len() + 40
    }

    fn b64_len(&self) -> usize {
        self.head_b64.len() + 52
    }

    /// The base64 of copy `n`: the same pixels, distinct bytes.
    fn b64_copy(&self, n: u64) -> String {
        let mut out = String::with_capacity(self.head_b64.len() + 128);
        out.push_str(std::str::from_utf8(&self.head_b64).unwrap());
        out.push_str(&Self::b64_tail(n));
        out
    }

    /// The base64 of copy `n` after the shared head: a counter chunk and the end chunk.
    fn b64_tail(n: u64) -> String {
        let mut tail = chunk(b"tEXt", format!("copy\0{n:020}").as_bytes());
        tail.extend(chunk(b"IEND", b""));
        base64::engine::general_purpose::STANDARD.encode(&tail)
    }
}

/// A PNG chunk.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    banana_studio::imaging::metadata::png_push_chunk(&mut out, kind, data);
    out
}

/// A thought signature of the size Gemini sends (several KB of base64).
fn signature(seed: u64) -> String {
    let bytes: Vec<u8> = (0..3_000u64)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 7) as u8)
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A `generateContent` answer as Gemini 3 Pro Image sends it: a thought, text and the
/// picture, with signatures, and usage.
fn answer(picture_b64: &str, n: u64) -> Vec<u8> {
    let (head, tail) = answer_around(n);
    let mut out = Vec::with_capacity(head.len() + picture_b64.len() + tail.len());
    out.extend(head.as_bytes());
    out.extend(picture_b64.as_bytes());
    out.extend(tail.as_bytes());
    out
}

/// The JSON of answer `n` before and after the picture's base64.
fn answer_around(n: u64) -> (String, String) {
    let head = format!(
        r#"{{"candidates":[{{"content":{{"role":"model","parts":[{{"text":"**Composing the scene**\nI will place the lighthouse on the left third.","thought":true}},{{"text":"Here is the lighthouse at dusk.","thoughtSignature":"{}"}},{{"inlineData":{{"mimeType":"image/png","data":""#,
        signature(n)
    );
    let tail = format!(
        r#""}},"thoughtSignature":"{}"}}]}},"finishReason":"STOP","index":0}}],"usageMetadata":{{"promptTokenCount":14,"candidatesTokenCount":2010,"thoughtsTokenCount":212,"totalTokenCount":2236}},"modelVersion":"{MODEL}","responseId":"bench-{n}"}}"#,
        signature(n + 1)
    );
    (head, tail)
}

/// The Gemini API on loopback, answering every `generateContent` with a distinct copy of
/// the picture after `latency`.
struct StandIn {
    url: String,
    latency_ms: Arc<AtomicU64>,
    /// Serves until dropped.
    _runtime: tokio::runtime::Runtime,
}

impl StandIn {
    fn start(picture: Picture) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("stand-in")
            .enable_all()
            .build()
            .unwrap();
        let latency_ms = Arc::new(AtomicU64::new(0));
        let served = Arc::new(AtomicU64::new(0));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let latency = latency_ms.clone();
        let app = axum::Router::new().fallback(move || {
            let (latency, picture, served) = (latency.clone(), picture.clone(), served.clone());
            async move {
                let ms = latency.load(Ordering::Relaxed);
                if ms > 0 {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let n = served.fetch_add(1, Ordering::Relaxed);
                // The picture's shared head goes out as it is: a real service's work is
                // not done on this machine's cores, so the stand-in copies no picture.
                let (head, tail) = answer_around(n);
                let parts = [
                    Bytes::from(head),
                    picture.head_b64.clone(),
                    Bytes::from(Picture::b64_tail(n) + &tail),
                ];
                let body = futures::stream::iter(parts.map(Ok::<_, std::convert::Infallible>));
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    axum::body::Body::from_stream(body),
                )
            }
        });
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            latency_ms,
            _runtime: runtime,
        }
    }

    fn set_latency(&self, latency: Duration) {
        self.latency_ms
            .store(latency.as_millis() as u64, Ordering::Relaxed);
    }
}

// ---- Jobs through the engine ----

fn engine_at(dir: &Path, url: &str, jobs_at_once: usize) -> Engine {
    let keys = StaticKeys(vec![(ProviderId::Gemini, Secret::new("bench-key"))]);
    let mut config = EngineConfig::new(dir, Arc::new(keys));
    config.concurrency = jobs_at_once;
    config.set_base_url(ProviderId::Gemini, url.to_owned());
    Engine::start(config).unwrap()
}

fn recipe(count: u8, size: ImageSize) -> Recipe {
    let catalog = Catalog::bundled();
    let mut recipe = Recipe::new("a lighthouse at dusk", ProviderId::Gemini, &catalog);
    recipe.model = MODEL.to_owned();
    recipe.size = Some(size);
    recipe.aspect = AspectRatio::Ratio(16, 9);
    recipe.count = count;
    recipe
}

/// What a run of jobs took.
struct Run {
    /// From the first submit to the last job's end.
    total: Duration,
    /// Each job's saving: from `Storing` to done.
    storing: Vec<Duration>,
}

fn run_jobs(engine: &Engine, recipes: Vec<Recipe>) -> Run {
    let started = Instant::now();
    let jobs = recipes.len();
    for recipe in recipes {
        engine.submit(recipe).unwrap();
    }
    let mut storing_since = std::collections::HashMap::new();
    let mut storing = Vec::new();
    let mut ended = 0;
    while ended < jobs {
        let event = engine
            .next_event(Duration::from_secs(120))
            .expect("the jobs stalled");
        match event {
            Event::JobState {
                job,
                state: JobState::Storing,
            } => {
                storing_since.insert(job, Instant::now());
            }
            Event::JobSucceeded { generation, .. } => {
                ended += 1;
                if let Some(since) = storing_since.remove(&generation.job.id) {
                    storing.push(since.elapsed());
                }
            }
            Event::JobFailed { message, .. } | Event::SubmitFailed { message } => {
                panic!("a benchmark job failed: {message}")
            }
            _ => {}
        }
    }
    Run {
        total: started.elapsed(),
        storing,
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// The floor: each answer's base64 decoded and its bytes written and synced, one after
/// another, in plain Rust.
fn floor(answers: &[Vec<u8>], dir: &Path) -> Duration {
    let started = Instant::now();
    for (i, body) in answers.iter().enumerate() {
        floor_one(body, &dir.join(format!("floor-{i}.png")));
    }
    started.elapsed()
}

fn floor_one(body: &[u8], path: &Path) {
    let marker = br#""data":""#;
    let start = body
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap()
        + marker.len();
    let end = start + body[start..].iter().position(|b| *b == b'"').unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&body[start..end])
        .unwrap();
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(&bytes).unwrap();
    file.sync_all().unwrap();
}

/// `n` copies of the picture decoded whole and thumbnailed as the app does after a job,
/// spread over every core.
fn checks_alone(picture: &Picture, n: usize) -> Duration {
    let mut png = picture.head.as_ref().clone();
    png.extend(chunk(b"IEND", b""));
    let cores = cores();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..cores.min(n) {
            scope.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    banana_studio::imaging::inspect(&png).unwrap();
                }
            });
        }
    });
    started.elapsed()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |c| c.get())
}

fn dir_bytes(dir: &Path, only_unshared: bool) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                dir_bytes(&e.path(), only_unshared)
            } else if only_unshared && meta.nlink() > 1 {
                0
            } else {
                meta.len()
            }
        })
        .sum()
}

fn storing_rows(table: &mut Table, stand_in: &StandIn, picture: &Picture) {
    eprintln!("storing: one 4-image 4K job and one 1-image job, five times each (medians)…");
    let (mut whole4, mut store4, mut store1, mut floors) = (vec![], vec![], vec![], vec![]);
    let mut with_thumbs = vec![];
    let (mut checks, mut check1, mut check_per_core) = (vec![], vec![], vec![]);
    let mut size_ratio = None;
    for round in 0..5u64 {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine_at(dir.path(), &stand_in.url, 4);
        let four = run_jobs(&engine, vec![recipe(4, ImageSize::K4)]);
        whole4.push(four.total);
        store4.extend(four.storing);
        // Stopping the engine waits for the thumbnails made after the job.
        let stopping = Instant::now();
        drop(engine);
        with_thumbs.push(four.total + stopping.elapsed());
        if size_ratio.is_none() {
            let root = dir.path();
            let db: u64 = ["", "-wal"]
                .iter()
                .map(|s| {
                    std::fs::metadata(root.join(format!("library.sqlite3{s}")))
                        .map_or(0, |m| m.len())
                })
                .sum();
            // Turn pictures hard-linked to the image file are not a second copy.
            let copies = dir_bytes(&root.join("parts"), true);
            let images = dir_bytes(&root.join("images"), false);
            size_ratio = Some(((db + copies) as f64 / images as f64, db, copies, images));
        }
        let dir = tempfile::tempdir().unwrap();
        let engine = engine_at(dir.path(), &stand_in.url, 4);
        store1.extend(run_jobs(&engine, vec![recipe(1, ImageSize::K4)]).storing);
        drop(engine);
        let answers: Vec<Vec<u8>> = (0..4)
            .map(|i| answer(&picture.b64_copy(1_000_000 + round * 4 + i), i))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        floors.push(floor(&answers, dir.path()));
        checks.push(checks_alone(picture, 4));
        check1.push(checks_alone(picture, 1));
        check_per_core.push(checks_alone(picture, cores()));
    }
    let (ratio, db, copies, images) = size_ratio.unwrap();
    table.ratio(
        "history database bytes / image file bytes",
        ratio,
        0.05,
        format!(
            "database {:.2} MB + unshared turn copies {:.2} MB over images {:.1} MB (one 4-image 4K job)",
            db as f64 / 1e6,
            copies as f64 / 1e6,
            images as f64 / 1e6
        ),
    );
    let (s4, s1) = (median(store4), median(store1));
    table.ratio(
        "store 4 4K images / store 1",
        s4.as_secs_f64() / s1.as_secs_f64(),
        2.0,
        format!(
            "{s4:.0?} / {s1:.0?} on {} cores",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
    );
    let (w, f) = (median(whole4), median(floors));
    let c = median(checks);
    let (c1, cn) = (median(check1), median(check_per_core));
    table.context(
        "this machine's parallel speed-up: a check on every core / one check",
        cores() as f64 * c1.as_secs_f64() / cn.as_secs_f64(),
        format!(
            "{} checks at once took {cn:.0?}, one took {c1:.0?}; {} cores would make it {}",
            cores(),
            cores(),
            cores()
        ),
    );
    table.context(
        "4 images' thumbnails alone, on every core / decode+write floor",
        c.as_secs_f64() / f.as_secs_f64(),
        format!("{c:.2?} / {f:.2?} (inflate, unfilter, average: made after the job is recorded)"),
    );
    table.ratio(
        "whole 4-image 4K job / decode+write floor",
        w.as_secs_f64() / f.as_secs_f64(),
        1.5,
        format!("{w:.2?} / {f:.2?} (floor: base64 decode, write, sync, one by one)"),
    );
    let t = median(with_thumbs);
    table.context(
        "the same job until its last thumbnail is made / decode+write floor",
        t.as_secs_f64() / f.as_secs_f64(),
        format!("{t:.2?} / {f:.2?} (thumbnails are made just after the job is recorded)"),
    );
}

fn latency_row(table: &mut Table, stand_in: &StandIn) {
    eprintln!("40 4K images at 1 s latency, 10 jobs at once…");
    stand_in.set_latency(Duration::from_secs(1));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_at(dir.path(), &stand_in.url, 10);
    let run = run_jobs(&engine, (0..40).map(|_| recipe(1, ImageSize::K4)).collect());
    let stopping = Instant::now();
    drop(engine);
    let with_thumbs = run.total + stopping.elapsed();
    stand_in.set_latency(Duration::ZERO);
    let ideal = Duration::from_secs(4);
    table.ratio(
        "40 4K images at 1 s latency, 10 jobs at once / ideal",
        run.total.as_secs_f64() / ideal.as_secs_f64(),
        1.3,
        format!(
            "{:.2?} / {ideal:.0?} (4 rounds of 10 jobs, each waiting 1 s)",
            run.total
        ),
    );
    table.context(
        "the same until the last thumbnail is made / ideal",
        with_thumbs.as_secs_f64() / ideal.as_secs_f64(),
        format!("{with_thumbs:.2?} / {ideal:.0?}"),
    );
}

// ---- Peak memory of child processes ----

/// Runs `command`, polling its peak resident size until it ends; the peak in bytes.
fn peak_rss(mut command: Command) -> u64 {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            peak = peak.max(status_kb(&status, "VmHWM:") * 1024);
        }
        if let Some(status) = child.try_wait().unwrap() {
            if !status.success() {
                let mut err = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                panic!("{command:?} failed: {err}");
            }
            return peak;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn status_kb(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn cli(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_banana-studio"));
    command
        .env("BANANA_STUDIO_KEYSTORE", "memory")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .arg("--data-dir")
        .arg(data_dir);
    command
}

fn rss_row(table: &mut Table, stand_in: &StandIn, picture: &Picture) {
    eprintln!("peak memory of a 4-image 4K job in the CLI, and of the floor…");
    let mut peaks = vec![];
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let mut command = cli(dir.path());
        command
            .env("GEMINI_API_KEY", "bench-key")
            .env("BANANA_STUDIO_GEMINI_BASE_URL", &stand_in.url)
            .args(["generate", "a lighthouse at dusk", "--model", MODEL])
            .args(["--size", "4K", "--aspect", "16:9", "--count", "4", "--json"]);
        peaks.push(peak_rss(command));
    }
    let job = *peaks.iter().min().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4u64 {
        let body = answer(&picture.b64_copy(2_000_000 + i), i);
        std::fs::write(dir.path().join(format!("answer-{i}.json")), body).unwrap();
    }
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.env(CHILD, "floor").arg(dir.path());
    let floor = peak_rss(command);
    table.ratio(
        "peak RSS of a 4-image 4K job (CLI) / floor",
        job as f64 / floor as f64,
        2.0,
        format!(
            "{:.0} MiB / {:.0} MiB (floor: read each answer, decode, write, one by one)",
            job as f64 / 1048576.0,
            floor as f64 / 1048576.0
        ),
    );
}

/// The floor as a process of its own: each answer read, decoded and written in turn.
fn floor_child() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap());
    for i in 0..4 {
        let body = std::fs::read(dir.join(format!("answer-{i}.json"))).unwrap();
        floor_one(&body, &dir.join(format!("floor-{i}.png")));
    }
}

// ---- Opening a big library ----

/// A library of `images` 4K images written by the engine as jobs of 4: its rows are what
/// 4K jobs write (sizes, turns with signatures, parts); the pixels are a smooth picture
/// so the files take little room.
fn build_4k_library(images: usize) -> tempfile::TempDir {
    let started = Instant::now();
    let stand_in = StandIn::start(Picture::smooth(5504, 3072));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_at(dir.path(), &stand_in.url, 10);
    run_jobs(
        &engine,
        (0..images / 4).map(|_| recipe(4, ImageSize::K4)).collect(),
    );
    drop(engine);
    eprintln!(
        "built a library of {images} 4K images in {:.0?}",
        started.elapsed()
    );
    dir
}

fn time_cli_history(dir: &Path) -> Duration {
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let out = cli(dir).args(["history", "--limit", "1"]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        times.push(started.elapsed());
    }
    median(times)
}

/// The app, timed from before its engine started: when its first frame was drawn, when
/// the first frame that drew the history's first page was, and how many frames that took.
struct TimedApp {
    app: BananaApp,
    started: Instant,
    frames: usize,
    first: Option<Duration>,
    shown: Option<Duration>,
}

impl eframe::App for TimedApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.app.logic(ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        // The events of this frame are in: this frame draws the history when it is loaded.
        let drawing_history = self.app.gallery().history_loaded();
        self.app.ui(ui, frame);
        let now = self.started.elapsed();
        self.frames += 1;
        self.first.get_or_insert(now);
        if drawing_history && self.shown.is_none() {
            self.shown = Some(now);
        }
    }
}

/// What one start of the app took.
struct Start {
    /// To the end of the window's first frame.
    first: Duration,
    /// To the end of the first frame that drew the first page of history.
    shown: Duration,
    /// To the window settling: the harness runs frames until none is asked for.
    settled: Duration,
}

/// The app: engine started, window built and its first frame drawn; on to the frame that
/// draws the first page of history, and to the window settling. One start; the caller
/// takes medians.
fn time_first_frame(dir: &Path) -> Start {
    let started = Instant::now();
    let config = EngineConfig::new(dir, Arc::new(NoKeys));
    let engine = Engine::start(config).unwrap();
    let engine_started = started.elapsed();
    let mut harness = Harness::builder()
        .with_size([1366.0, 768.0])
        .build_eframe(move |cc| TimedApp {
            app: BananaApp::new(cc, engine),
            started,
            frames: 0,
            first: None,
            shown: None,
        });
    let settled = started.elapsed();
    while harness.state().shown.is_none() {
        harness.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    let state = harness.state();
    let start = Start {
        first: state.first.unwrap(),
        shown: state.shown.unwrap(),
        settled,
    };
    eprintln!(
        "    {}: engine started {engine_started:.1?}, first frame {:.1?}, history drawn {:.1?}, settled {settled:.1?} after {} frames",
        dir.display(),
        start.first,
        start.shown,
        state.frames
    );
    drop(harness);
    // The thumbnails the window asked for are still being read: let them finish so they
    // do not weigh on the next start.
    std::thread::sleep(Duration::from_millis(500));
    start
}

/// Starts of the app on `big` and `empty` in turn, so drift on the machine weighs on
/// both alike: medians of fifteen each (a start takes some 20 ms, and one start in a few
/// is slowed by the machine), (first frame, history drawn, settled) for each.
fn time_first_frames(big: &Path, empty: &Path) -> [[Duration; 3]; 2] {
    let mut times: [[Vec<Duration>; 3]; 2] = Default::default();
    for _ in 0..15 {
        for (i, dir) in [big, empty].into_iter().enumerate() {
            let start = time_first_frame(dir);
            times[i][0].push(start.first);
            times[i][1].push(start.shown);
            times[i][2].push(start.settled);
        }
    }
    times.map(|row| row.map(median))
}

fn open_rows(table: &mut Table) {
    eprintln!("opening a library of 1,000 4K images and an empty one…");
    let big = build_4k_library(1_000);
    let empty = tempfile::tempdir().unwrap();
    Library::open(empty.path()).unwrap();
    let (cli_big, cli_empty) = (time_cli_history(big.path()), time_cli_history(empty.path()));
    table.ratio(
        "open 1,000 4K images / empty: CLI `history --limit 1`",
        cli_big.as_secs_f64() / cli_empty.as_secs_f64(),
        1.5,
        format!("{cli_big:.0?} / {cli_empty:.0?}"),
    );
    let [
        [first_big, shown_big, settled_big],
        [first_empty, shown_empty, settled_empty],
    ] = time_first_frames(big.path(), empty.path());
    table.ratio(
        "open 1,000 4K images / empty: app's first frame",
        first_big.as_secs_f64() / first_empty.as_secs_f64(),
        1.5,
        format!(
            "{first_big:.1?} / {first_empty:.1?} (engine started, window built, its first frame drawn)"
        ),
    );
    table.ratio(
        "open 1,000 4K images / empty: first page of history drawn",
        shown_big.as_secs_f64() / shown_empty.as_secs_f64(),
        1.5,
        format!(
            "{shown_big:.1?} / {shown_empty:.1?} (to the end of the frame that drew 100 generations, against none)"
        ),
    );
    table.context(
        "open 1,000 4K images / empty: window settled",
        settled_big.as_secs_f64() / settled_empty.as_secs_f64(),
        format!(
            "{settled_big:.1?} / {settled_empty:.1?} (the test harness runs frames until none is asked for: thumbnails and the newest image arrive)"
        ),
    );
}

// ---- History pages and scrolling at 10,000 images ----

fn paging_rows(table: &mut Table) {
    eprintln!("a history of 10,000 images and one of 100: pages and scrolling…");
    let big = sample_library(2_500);
    let small = sample_library(25);
    let library = Library::open(big.path()).unwrap();
    let first = HistoryQuery {
        limit: 100,
        succeeded_only: true,
        ..Default::default()
    };
    let before_last = HistoryQuery {
        limit: 2_400,
        ..first.clone()
    };
    let last = HistoryQuery {
        after: library
            .generations(&before_last)
            .unwrap()
            .last()
            .map(PageKey::of),
        ..first.clone()
    };
    let time = |q: &HistoryQuery| {
        median(
            (0..31)
                .map(|_| {
                    let started = Instant::now();
                    assert!(!library.generations(q).unwrap().is_empty());
                    started.elapsed()
                })
                .collect(),
        )
    };
    let (t_last, t_first) = (time(&last), time(&first));
    table.ratio(
        "last page / first page of a 10,000-image history",
        t_last.as_secs_f64() / t_first.as_secs_f64(),
        2.0,
        format!("{t_last:.2?} / {t_first:.2?} (100 generations a page)"),
    );
    drop(library);
    let (big_frames, big_rows) = scroll_frames(big.path());
    let (small_frames, _) = scroll_frames(small.path());
    let (b, s) = (median(big_frames.clone()), median(small_frames));
    let worst = big_frames.iter().max().copied().unwrap_or_default();
    table.ratio(
        "frame while scrolling the whole 10,000-image history / the 100-image one (median)",
        b.as_secs_f64() / s.as_secs_f64(),
        1.5,
        format!(
            "{b:.2?} / {s:.2?}; {} frames to reach all {big_rows} generations, slowest {worst:.1?}",
            big_frames.len()
        ),
    );
}

fn sample_library(jobs: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Library::open(dir.path())
        .unwrap()
        .fill_sample(SampleSpec {
            jobs,
            images_per_job: 4,
            edge: 64,
        })
        .unwrap();
    dir
}

/// Scrolls the gallery from the newest generation to the oldest, thumbnails loading as
/// it goes; each frame's time, and how many generations were listed at the end.
fn scroll_frames(dir: &Path) -> (Vec<Duration>, usize) {
    let config = EngineConfig::new(dir, Arc::new(NoKeys));
    let engine = Engine::start(config).unwrap();
    let total = engine
        .library()
        .generations(&HistoryQuery {
            limit: u32::MAX,
            succeeded_only: true,
            ..Default::default()
        })
        .unwrap()
        .len();
    let mut harness = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| BananaApp::new(cc, engine));
    while !harness.state().gallery().history_loaded() {
        harness.step();
    }
    start_in_the_sandbox(&mut harness);
    harness.event(egui::Event::PointerMoved(egui::pos2(1200.0, 600.0)));
    if let Ok(path) = std::env::var("DAY_BENCH_SHOT") {
        harness.step();
        harness.render().unwrap().save(path).unwrap();
    }
    let mut frames = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let gallery = harness.state().gallery();
        if gallery.generations().len() >= total && gallery.drawn().end >= total {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "scrolling never reached the end: {} of {total} generations listed, {:?} drawn",
            gallery.generations().len(),
            gallery.drawn()
        );
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -1200.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: egui::Modifiers::NONE,
        });
        let started = Instant::now();
        harness.step();
        frames.push(started.elapsed());
    }
    let listed = harness.state().gallery().generations().len();
    (frames, listed)
}

/// Closes the first start's welcome, as a new user would.
fn start_in_the_sandbox(harness: &mut Harness<'static, BananaApp>) {
    harness.step();
    if let Some(button) = harness.query_by_label("Start in the sandbox") {
        button.click();
        harness.step();
    }
}

// ---- Viewer memory ----

fn viewer_row(table: &mut Table) {
    eprintln!("viewing 50 2K images one by one in the app…");
    let stand_in = StandIn::start(Picture::noise(2048, 2048));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_at(dir.path(), &stand_in.url, 10);
    run_jobs(&engine, (0..50).map(|_| recipe(1, ImageSize::K2)).collect());
    drop(engine);
    drop(stand_in);
    // The app pins the allocator's mmap threshold for itself at start; so does its
    // stand-in here.
    let out = Command::new(std::env::current_exe().unwrap())
        .env("GLIBC_TUNABLES", banana_studio::allocator::GLIBC_TUNABLES)
        .env(CHILD, "viewer")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    let (after_one, after_all, renderer) = (
        numbers.next().unwrap(),
        numbers.next().unwrap(),
        numbers.next().unwrap(),
    );
    table.ratio(
        "RSS after viewing 50 2K images one by one / after viewing 1",
        after_all as f64 / after_one as f64,
        1.3,
        format!(
            "{:.0} MiB / {:.0} MiB ({})",
            after_all as f64 / 1048576.0,
            after_one as f64 / 1048576.0,
            if renderer == 1 {
                "textures uploaded to wgpu on the CPU"
            } else {
                "no renderer: textures held by egui only"
            }
        ),
    );
}

/// The app as a process of its own: views every image of the library in turn and
/// prints its resident size after the first and after the last, and whether a renderer
/// took the textures.
fn viewer_child() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap());
    let engine = Engine::start(EngineConfig::new(&dir, Arc::new(NoKeys))).unwrap();
    let mut harness = Harness::builder()
        .with_size([1366.0, 768.0])
        .build_eframe(move |cc| BananaApp::new(cc, engine));
    // Textures go to the GPU (lavapipe on the CPU here) as in the app, and are freed there.
    let renderer = harness.render().is_ok();
    while !harness.state().gallery().history_loaded() {
        harness.step();
    }
    start_in_the_sandbox(&mut harness);
    let images: Vec<_> = harness
        .state()
        .gallery()
        .generations()
        .iter()
        .flat_map(|g| g.images.iter().map(|i| i.id))
        .collect();
    assert_eq!(images.len(), 50);
    let rss = || {
        status_kb(
            &std::fs::read_to_string("/proc/self/status").unwrap(),
            "VmRSS:",
        ) * 1024
    };
    let mut after_one = 0;
    for (n, id) in images.iter().enumerate() {
        harness.state_mut().view(*id);
        while !harness.state().viewer_ready() {
            harness.step();
            std::thread::sleep(Duration::from_millis(1));
        }
        for _ in 0..3 {
            harness.step();
        }
        if renderer {
            let _ = harness.render();
        }
        if n == 0 {
            after_one = rss();
        }
    }
    println!("{after_one} {} {}", rss(), u8::from(renderer));
}

// ---- Stand-ins where no provider is in the sandbox ----

fn listening_sockets() -> usize {
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| {
            t.lines()
                .skip(1)
                .filter(|l| l.split_whitespace().nth(3) == Some("0A"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .count()
}

fn sandbox_row(table: &mut Table) {
    let all = ProviderId::ALL;
    let mut opened = Vec::new();
    for keyed in [all.len(), all.len() - 1] {
        let dir = tempfile::tempdir().unwrap();
        let keys = StaticKeys(
            all[..keyed]
                .iter()
                .map(|p| (*p, Secret::new("a-key")))
                .collect(),
        );
        let mut config = EngineConfig::new(dir.path(), Arc::new(keys));
        config.sandbox = Some(banana_studio::fake::Sandbox::standard());
        let before = listening_sockets();
        let engine = Engine::start(config).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        opened.push(listening_sockets().saturating_sub(before));
        drop(engine);
    }
    table.count(
        "loopback servers in a process that uses no sandbox",
        opened[0],
        0,
        format!(
            "{} listening sockets opened with all five keys; {} with Vydra's key missing",
            opened[0], opened[1]
        ),
    );
}

/// Where one 4K image's time goes, step by step (`DAY_BENCH_CHILD=steps`).
fn steps_child() {
    let picture = Picture::noise(5504, 3072);
    let body = answer(&picture.b64_copy(7), 7);
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let t = Instant::now();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let parse = t.elapsed();
        drop(value);
        let t = Instant::now();
        let b64 = &picture.b64_copy(7);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let b64_time = t.elapsed();
        let t = Instant::now();
        let img = banana_studio::imaging::decode(&bytes).unwrap();
        let decode = t.elapsed();
        let t = Instant::now();
        let thumb = banana_studio::imaging::thumbnail_png(&img).unwrap();
        let thumb_time = t.elapsed();
        let t = Instant::now();
        let inspected = banana_studio::imaging::inspect(&bytes).unwrap();
        let inspect_time = t.elapsed();
        assert_eq!(inspected.width, 5504);
        let t = Instant::now();
        let sha = banana_studio::library::store::sha256_hex(&bytes);
        let sha_time = t.elapsed();
        let t = Instant::now();
        let mut file = std::fs::File::create(dir.path().join(&sha)).unwrap();
        file.write_all(&bytes).unwrap();
        file.sync_all().unwrap();
        let write = t.elapsed();
        eprintln!(
            "json {parse:.0?} base64 {b64_time:.0?} decode {decode:.0?} thumbnail {thumb_time:.0?} ({} bytes) one-pass check and thumbnail {inspect_time:.0?} sha256 {sha_time:.0?} write+sync {write:.0?}",
            thumb.len()
        );
    }
}
