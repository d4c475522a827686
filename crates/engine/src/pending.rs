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

#[cfg(test)]
mod tests {
    use super::*;

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
