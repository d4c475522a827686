//! Waiting on a provider's queue: the schedule (first wait, longest wait, overall limit)
//! and a pause the user's cancel cuts short.

use std::time::{Duration, Instant};

use super::{CallContext, ProviderError};

/// How a queue is polled: the first wait, the longest, and how long in all.
#[derive(Clone, Debug)]
pub struct PollPolicy {
    /// The first wait between polls.
    pub first: Duration,
    /// The longest wait between polls.
    pub max: Duration,
    /// Give up (and cancel) after this long.
    pub total: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(500),
            max: Duration::from_secs(2),
            total: Duration::from_secs(600),
        }
    }
}

impl PollPolicy {
    /// Eachlabs' documented schedule: 1 s rising to 5 s.
    pub fn eachlabs() -> Self {
        Self {
            first: Duration::from_secs(1),
            max: Duration::from_secs(5),
            ..Self::default()
        }
    }

    /// The same waits, all of them `wait` long (the sandbox paces its fakes with this).
    pub fn steady(wait: Duration) -> Self {
        Self {
            first: wait,
            max: wait,
            ..Self::default()
        }
    }
}

/// A poll schedule in progress.
pub struct Poller {
    policy: PollPolicy,
    started: Instant,
    wait: Duration,
}

impl Poller {
    /// Starts the clock.
    pub fn new(policy: &PollPolicy) -> Self {
        Self {
            policy: policy.clone(),
            started: Instant::now(),
            wait: policy.first,
        }
    }

    /// Waits before the next poll, rising by half each time up to the longest wait.
    /// Stops early with `Cancelled` on the user's cancel, or `Timeout` once the overall
    /// limit has passed.
    pub async fn pause(&mut self, ctx: &CallContext) -> Result<(), ProviderError> {
        if self.started.elapsed() >= self.policy.total {
            return Err(ProviderError::Timeout {
                secs: self.policy.total.as_secs(),
            });
        }
        tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => return Err(ProviderError::Cancelled),
            () = tokio::time::sleep(self.wait) => {}
        }
        self.wait = (self.wait * 3 / 2).min(self.policy.max);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn waits_rise_to_the_longest_and_stop_at_the_limit() {
        let policy = PollPolicy {
            first: Duration::from_millis(2),
            max: Duration::from_millis(4),
            total: Duration::from_millis(30),
        };
        let mut poller = Poller::new(&policy);
        let ctx = CallContext::detached();
        assert!(poller.pause(&ctx).await.is_ok());
        assert_eq!(poller.wait, Duration::from_millis(3));
        assert!(poller.pause(&ctx).await.is_ok());
        assert_eq!(poller.wait, Duration::from_millis(4));
        let mut n = 0;
        while poller.pause(&ctx).await.is_ok() {
            n += 1;
            assert!(n < 100, "the limit stops polling");
        }
        ctx.cancel.cancel();
        let mut poller = Poller::new(&policy);
        assert_eq!(poller.pause(&ctx).await, Err(ProviderError::Cancelled));
    }
}
