//! Thumbnails made after their job is recorded. A PNG kept as the service sent it is
//! checked by its structure while the job is stored (every chunk's CRC, the header, the
//! end), which takes milliseconds; inflating a 4K image for its thumbnail takes a
//! hundred, so that comes after: the job ends, its images open in the viewer at once, and
//! the gallery's tiles fill in moments later. A tile asked for meanwhile waits for its
//! thumbnail instead of making it a second time. Stopping the engine waits for them
//! (they are counted as pending writes); one still missing after a crash is made again
//! when it is first shown.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::Inner;
use banana_imaging as imaging;
use banana_library::{Generation, ImageId};

/// Thumbnails to be made, by image: each a receiver that turns true when it is made
/// (or given up on).
#[derive(Default)]
pub(super) struct Due(Mutex<HashMap<ImageId, watch::Receiver<bool>>>);

impl Due {
    /// A receiver for `image`'s thumbnail when it is still being made.
    pub(super) fn waiter(&self, image: ImageId) -> Option<watch::Receiver<bool>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&image)
            .cloned()
    }

    fn add(&self, image: ImageId) -> watch::Sender<bool> {
        let (tx, rx) = watch::channel(false);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(image, rx);
        tx
    }

    fn remove(&self, image: ImageId) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&image);
    }
}

/// Work that goes before thumbnails: results being checked, written and recorded. A
/// thumbnail starts only when none is under way, so a job's end is never held up by
/// the thumbnails of the jobs before it.
#[derive(Default)]
pub(super) struct Ahead {
    count: AtomicUsize,
    clear: Notify,
}

/// The longest a thumbnail being made waits, in all, for work ahead of it: results may
/// stream in for a long while, and the gallery needs its thumbnails too.
const MAX_STEP_ASIDE: Duration = Duration::from_millis(500);

/// The longest a thumbnail waits to start for work ahead of it.
const MAX_WAIT_TO_START: Duration = Duration::from_secs(1);

/// How often a thumbnail stepping aside looks whether it may go on.
const QUIET_POLL: Duration = Duration::from_millis(2);

/// One piece of work ahead of thumbnails, under way until dropped.
pub(super) struct AheadOf(Arc<Ahead>);

impl Ahead {
    /// Counts work from now until the returned guard is dropped.
    pub(super) fn begin(self: &Arc<Self>) -> AheadOf {
        self.count.fetch_add(1, Ordering::SeqCst);
        AheadOf(self.clone())
    }

    /// Blocks the calling (thumbnail) thread while such work is under way, for at most
    /// `limit`; how long it waited.
    fn wait_quiet(&self, limit: Duration) -> Duration {
        let started = std::time::Instant::now();
        while self.count.load(Ordering::SeqCst) > 0 && started.elapsed() < limit {
            std::thread::sleep(QUIET_POLL);
        }
        started.elapsed()
    }

    /// Waits until no such work is under way, or `limit` has passed: a picture arriving
    /// over a slow connection may take half a minute, and the thumbnails of the jobs
    /// before it are not held back that long.
    async fn cleared_or_after(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.cleared()).await;
    }

    /// Waits until no such work is under way.
    async fn cleared(&self) {
        loop {
            let cleared = self.clear.notified();
            tokio::pin!(cleared);
            cleared.as_mut().enable();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            cleared.await;
        }
    }
}

impl Drop for AheadOf {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.clear.notify_waiters();
        }
    }
}

/// Waits until `image`'s thumbnail is no longer being made (at once when it is not).
pub(super) async fn wait_for(inner: &Inner, image: ImageId) {
    if let Some(mut made) = inner.thumbs_due.waiter(image) {
        // A dropped sender (the engine stopping) ends the wait too.
        let _ = made.wait_for(|made| *made).await;
    }
}

/// Makes, after the job, the thumbnails of `generation` it has none for yet. Call it
/// from the runtime before the job's end is told, so a tile asked for at once waits.
pub(super) fn make_missing(inner: &Arc<Inner>, generation: &Generation) {
    for record in &generation.images {
        if record.thumb_path.exists() {
            continue;
        }
        let made = inner.thumbs_due.add(record.id);
        let write = inner.pending.begin();
        let inner = inner.clone();
        let (id, job, index) = (record.id, record.job_id, record.index);
        tokio::spawn(async move {
            let _write = write;
            inner
                .ahead_of_thumbs
                .cleared_or_after(MAX_WAIT_TO_START)
                .await;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let worker = inner.clone();
            inner.thumb_makers.run(Box::new(move || {
                let _ = tx.send(make(&worker, id));
            }));
            match rx.await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(damage))) => tracing::error!(
                    target: crate::notify::TARGET,
                    retry_job = job,
                    "Job #{job}: image {} came damaged from the service and cannot be shown \
                     ({damage}); its file is kept as it came. Retry runs the job again (at \
                     its price again); the service may refund the damaged one.",
                    index + 1
                ),
                Ok(Err(e)) => tracing::warn!(
                    job,
                    "the thumbnail of image {} of job {job} was not made ({e}); it is made \
                     when first shown",
                    index + 1
                ),
                Err(_) => tracing::warn!(job, "a thumbnail maker stopped; it is made when shown"),
            }
            inner.thumbs_due.remove(id);
            let _ = made.send(true);
        });
    }
}

/// Work for a maker thread.
type Work = Box<dyn FnOnce() + Send>;

/// The threads that make thumbnails after jobs: one a core, started when first needed,
/// at the lowest priority the system gives, so that receiving and storing results and
/// drawing the window always go first, and thumbnails take what the cores have left
/// (nearly all of it, most of the time).
#[derive(Default)]
pub(super) struct Makers(Mutex<Option<std::sync::mpsc::Sender<Work>>>);

impl Makers {
    fn run(&self, work: Work) {
        let mut queue = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let sender = queue.get_or_insert_with(start_makers);
        if let Err(refused) = sender.send(work) {
            // No maker left (one panicked past its catch): a new set takes it.
            let sender = queue.insert(start_makers());
            let _ = sender.send(refused.0);
        }
    }
}

fn start_makers() -> std::sync::mpsc::Sender<Work> {
    // Unbounded: it is fed from the runtime, which must never wait, one piece of work
    // per image stored, so it is no longer than the images of the jobs just done.
    #[allow(clippy::disallowed_methods)]
    let (tx, rx) = std::sync::mpsc::channel::<Work>();
    let rx = Arc::new(Mutex::new(rx));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for n in 0..cores {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("thumbnails-{n}"))
            .spawn(move || {
                lowest_priority();
                loop {
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(work) = next else { break };
                    // A panic is the asker's to see (its answer is dropped); the thread
                    // goes on.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("a thumbnail thread could not start: {e}");
        }
    }
    tx
}

/// Puts the calling thread at the lowest priority (Linux: its own nice value, 19).
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19) {
        tracing::debug!("thumbnail thread priority unchanged: {e}");
    }
}

/// Reads the image's file, checks it decodes whole and keeps its thumbnail: `Ok(Err)`
/// when the image is damaged, `Err` for a failure on this machine. An image trashed
/// meanwhile is left alone (its thumbnail is made when it is restored and shown).
fn make(inner: &Inner, image: ImageId) -> Result<Result<(), String>, String> {
    let record = match inner.library.image(image) {
        Ok(Some(record)) if record.deleted_at_ms.is_none() => record,
        Ok(_) => return Ok(Ok(())),
        Err(e) => return Err(e.to_string()),
    };
    let bytes = std::fs::read(&record.path)
        .map_err(|e| format!("its file {} cannot be read: {e}", record.path.display()))?;
    // Mid-image, a thumbnail steps aside for results arriving or being stored (a 4K
    // decode takes a core for a tenth of a second), but never for long in all.
    let mut left = MAX_STEP_ASIDE;
    let mut step_aside = || {
        if !left.is_zero() {
            left = left.saturating_sub(inner.ahead_of_thumbs.wait_quiet(left));
        }
    };
    match inner
        .library
        .make_thumbnail_yielding(&record.sha256, &bytes, &mut step_aside)
    {
        Ok(Ok(_)) => Ok(Ok(())),
        Ok(Err(imaging::ImagingError::Encode(e))) => Err(e),
        Ok(Err(damage)) => Ok(Err(damage.to_string())),
        Err(e) => Err(format!("it cannot be kept: {e}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_thumbnail_steps_aside_while_work_is_ahead_and_never_beyond_its_limit() {
        let ahead = Arc::new(Ahead::default());
        let long = Duration::from_secs(10);
        assert!(
            ahead.wait_quiet(long) < Duration::from_secs(1),
            "nothing ahead"
        );

        let guard = ahead.begin();
        let waited = ahead.wait_quiet(Duration::from_millis(50));
        assert!(waited >= Duration::from_millis(50), "held for {waited:?}");
        assert!(waited < long);

        let releaser = std::thread::Builder::new()
            .name("ahead".into())
            .spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                drop(guard);
            })
            .unwrap();
        let waited = ahead.wait_quiet(long);
        releaser.join().unwrap();
        assert!(
            waited >= Duration::from_millis(20),
            "went on early: {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(5),
            "went on once clear: {waited:?}"
        );
    }

    #[test]
    fn a_thumbnail_waits_to_start_while_work_is_ahead_but_not_for_ever() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let ahead = Arc::new(Ahead::default());
        let long = Duration::from_secs(10);
        runtime.block_on(async {
            let started = std::time::Instant::now();
            ahead.cleared_or_after(long).await;
            assert!(started.elapsed() < Duration::from_secs(1), "nothing ahead");

            let guard = ahead.begin();
            let started = std::time::Instant::now();
            ahead.cleared_or_after(Duration::from_millis(50)).await;
            assert!(started.elapsed() >= Duration::from_millis(50));

            let started = std::time::Instant::now();
            let release = async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                drop(guard);
            };
            tokio::join!(ahead.cleared_or_after(long), release);
            let waited = started.elapsed();
            assert!(waited >= Duration::from_millis(20), "{waited:?}");
            assert!(
                waited < Duration::from_secs(5),
                "went on once clear: {waited:?}"
            );
        });
    }

    #[test]
    fn makers_run_work_in_the_background_at_the_lowest_priority() {
        let makers = Makers::default();
        let (tx, rx) = std::sync::mpsc::sync_channel(8);
        for n in 0..4 {
            let tx = tx.clone();
            makers.run(Box::new(move || {
                // The nice value: field 19 of the thread's stat, after the name.
                let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
                let nice = stat
                    .rsplit_once(") ")
                    .and_then(|(_, rest)| rest.split(' ').nth(16).map(str::to_owned));
                let name = std::thread::current().name().map(str::to_owned);
                tx.send((n, name, nice)).unwrap();
            }));
        }
        // A panic in one piece of work leaves the threads working.
        makers.run(Box::new(|| panic!("a damaged decoder")));
        let tx2 = tx.clone();
        makers.run(Box::new(move || tx2.send((9, None, None)).unwrap()));
        let mut seen: Vec<_> = (0..5)
            .map(|_| rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap())
            .collect();
        seen.sort();
        assert_eq!(
            seen.iter().map(|s| s.0).collect::<Vec<_>>(),
            [0, 1, 2, 3, 9]
        );
        for (_, name, nice) in &seen[..4] {
            assert!(name.as_deref().unwrap().starts_with("thumbnails-"));
            if cfg!(target_os = "linux") {
                assert_eq!(nice.as_deref(), Some("19"));
            }
        }
    }
}
