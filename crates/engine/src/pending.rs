//! Library writes the user asked for and the engine has not finished: counted so that
//! stopping the engine waits for them instead of dropping them with the runtime.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How many writes are under way.
#[derive(Default)]
pub(crate) struct Pending {
    count: Mutex<usize>,
    done: Condvar,
}

/// One write under way; finished when dropped (also when its task panics).
pub(crate) struct Write(Arc<Pending>);

impl Pending {
    /// Counts a write from now; call it before handing the work to the runtime.
    pub(crate) fn begin(self: &Arc<Self>) -> Write {
        if let Ok(mut count) = self.count.lock() {
            *count += 1;
        }
        Write(self.clone())
    }

    /// Waits until no write is under way, or `timeout` passed; says how many were left.
    pub(crate) fn wait(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let Ok(mut count) = self.count.lock() else {
            return 0;
        };
        while *count > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.done.wait_timeout(count, left) {
                Ok((next, _)) => count = next,
                Err(_) => return 0,
            }
        }
        *count
    }
}

impl Drop for Write {
    fn drop(&mut self) {
        if let Ok(mut count) = self.0.count.lock() {
            *count = count.saturating_sub(1);
            self.0.done.notify_all();
        }
    }
}

/// Library changes the user makes one after another (trash then Undo, a rating then
/// another) done in the order asked, each after the one before has ended: run side by
/// side, an Undo could run before the trash it undoes, or interleave with it image by
/// image and leave a record listed whose file sits in the trash.
#[derive(Default)]
pub(crate) struct Lane {
    last: Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
}

/// A place in a [`Lane`]: [`Turn::wait`] returns once every change asked for before it
/// has ended; the next one's turn comes when this is dropped (also when its task panics).
pub(crate) struct Turn {
    before: Option<tokio::sync::oneshot::Receiver<()>>,
    _done: tokio::sync::oneshot::Sender<()>,
}

impl Lane {
    /// Takes the next place; call it where the change is asked for, so the order is the
    /// order of asking.
    pub(crate) fn join(&self) -> Turn {
        let (done, after) = tokio::sync::oneshot::channel();
        let before = self
            .last
            .lock()
            .map(|mut last| last.replace(after))
            .unwrap_or_default();
        Turn {
            before,
            _done: done,
        }
    }
}

impl Turn {
    /// Waits for the changes asked for before this one.
    pub(crate) async fn wait(&mut self) {
        if let Some(before) = self.before.take() {
            // Ended or dropped alike: either way the one before is over.
            let _ = before.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_in_a_lane_end_in_the_order_asked() {
        let lane = Lane::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..20u64 {
            let mut turn = lane.join();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                // Earlier changes take longer: unordered, they would end last.
                tokio::time::sleep(Duration::from_millis(40 - 2 * i)).await;
                turn.wait().await;
                if let Ok(mut order) = order.lock() {
                    order.push(i);
                }
            }));
        }
        for task in tasks {
            assert!(task.await.is_ok());
        }
        let order = order.lock().map(|o| o.clone()).unwrap_or_default();
        assert_eq!(order, (0..20).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_dropped_turn_lets_the_next_go() {
        let lane = Lane::default();
        let first = lane.join();
        let mut second = lane.join();
        let waiting = tokio::time::timeout(Duration::from_millis(50), second.wait()).await;
        assert!(waiting.is_err(), "the first is still under way");
        let mut third = lane.join();
        drop(first);
        drop(second);
        let waited = tokio::time::timeout(Duration::from_secs(10), third.wait()).await;
        assert!(waited.is_ok(), "a dropped turn must not hold the lane");
    }

    #[test]
    fn waiting_ends_when_the_last_write_does() {
        let pending = Arc::new(Pending::default());
        let first = pending.begin();
        let second = pending.begin();
        assert_eq!(pending.wait(Duration::ZERO), 2);
        let worker = std::thread::Builder::new()
            .name("writes".into())
            .spawn(move || {
                drop(first);
                drop(second);
            });
        assert_eq!(pending.wait(Duration::from_secs(30)), 0);
        assert!(worker.is_ok_and(|w| w.join().is_ok()));
    }
}
