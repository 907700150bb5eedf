//! The one retry loop behind the hub's outboxes to the provincial platform:
//! result mail orders (`result_mail`), ratings (`rating_forward`) and
//! progress texts (`sms`). Each is an [`OutboxJob`], one pass over what is
//! due; the rows, their keys and their per-item retry times live in the
//! store, so any instance may run a pass and a restart loses nothing.
//!
//! [`OutboxLoop`] runs a pass at start (catching up after a restart), when
//! nudged, and every `every`. After a pass in which the far side did not
//! take something (or the store could not be read) it waits
//! `retry.after(n)`: the first wait, doubling with each such pass in a row,
//! capped; a clean pass goes back to `every`, a full batch goes again at
//! once. [`OutboxLoop::stop`] ends it between passes; a pass under way gets
//! a grace period, then is cut (every send carries an idempotency key, so a
//! cut-off send is safe to repeat).

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::connector::BoxFuture;
use crate::store::StoreError;

/// Doubling waits: `first`, `2 × first`, `4 × first`… never above `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after the `failures`-th failure in a row (1 → `first`; 0 too).
    pub fn after(&self, failures: u32) -> Duration {
        self.first.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(30))).min(self.max)
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Items settled or rescheduled.
    pub handled: usize,
    /// Items the far side did not take this time (tried again later).
    pub deferred: usize,
    /// The batch was full: more may be due at once.
    pub more: bool,
}

/// One outbox: a pass over what is due, as of `now`.
pub trait OutboxJob: Send + Sync + 'static {
    /// For the logs: `mail`, `ratings`, `sms`.
    fn name(&self) -> &'static str;
    fn pass(&self, now: OffsetDateTime) -> BoxFuture<'_, Result<Pass, StoreError>>;
}

/// When a loop looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Between clean passes.
    pub every: Duration,
    /// After passes that left something untaken.
    pub retry: Backoff,
}

impl Schedule {
    /// Every `every`; after a failed pass `first_retry`, doubling up to `every`
    /// (a short outage is caught soon, a long one is not looked at more
    /// often than a quiet outbox).
    pub fn every(every: Duration, first_retry: Duration) -> Schedule {
        Schedule { every, retry: Backoff { first: first_retry.min(every), max: every } }
    }
}

/// Wakes a loop before its wait is over (a commit made work). Clones wake
/// the same loop.
#[derive(Debug, Clone, Default)]
pub struct Nudge(Arc<Notify>);

impl Nudge {
    pub fn nudge(&self) {
        self.0.notify_one();
    }
}

/// How long [`OutboxLoop::stop`] lets a pass under way finish.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running outbox loop. Dropping it cuts the loop off; [`Self::stop`] ends it in order.
pub struct OutboxLoop {
    nudge: Nudge,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// The clock a loop reads `now` from (tests move it); the system's when `None`.
pub type LoopClock = Option<Arc<dyn Fn() -> OffsetDateTime + Send + Sync>>;

impl OutboxLoop {
    /// Starts `job` on the current tokio runtime; `nudge` wakes it.
    pub fn spawn(job: impl OutboxJob, schedule: Schedule, nudge: Nudge, clock: LoopClock) -> OutboxLoop {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(job, schedule, nudge.clone(), clock, stopped));
        OutboxLoop { nudge, stop, task: Some(task) }
    }

    /// Looks at the outbox now rather than at the end of the wait.
    pub fn nudge(&self) {
        self.nudge.nudge();
    }

    /// Ends the loop: at once when it waits, after the pass under way
    /// otherwise (cut after a grace period). Nothing is sent after it returns.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
                let _ = task.await;
            }
        }
    }
}

impl Drop for OutboxLoop {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn run(job: impl OutboxJob, schedule: Schedule, nudge: Nudge, clock: LoopClock, mut stopped: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        if *stopped.borrow() {
            return;
        }
        let now = clock.as_ref().map_or_else(OffsetDateTime::now_utc, |c| c());
        let wait = match job.pass(now).await {
            Ok(p) => {
                if p.handled > 0 || p.deferred > 0 {
                    tracing::info!(outbox = job.name(), handled = p.handled, waiting = p.deferred, "outbox pass");
                }
                if p.deferred > 0 {
                    failures = failures.saturating_add(1);
                    schedule.retry.after(failures)
                } else if p.more {
                    failures = 0;
                    continue;
                } else {
                    failures = 0;
                    schedule.every
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(outbox = job.name(), error = %e, "the outbox could not be worked through; tried again later");
                schedule.retry.after(failures)
            }
        };
        tokio::select! {
            _ = nudge.0.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            // A stop, or the handle gone: either way, end.
            _ = stopped.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_first_up_to_the_cap() {
        let b = Backoff { first: Duration::from_secs(5), max: Duration::from_secs(60) };
        let waits: Vec<u64> = (0..7).map(|n| b.after(n).as_secs()).collect();
        assert_eq!(waits, [5, 5, 10, 20, 40, 60, 60]);
        assert_eq!(b.after(u32::MAX), Duration::from_secs(60), "no overflow");
        let s = Schedule::every(Duration::from_secs(60), Duration::from_secs(90));
        assert_eq!(s.retry.first, Duration::from_secs(60), "a retry never waits longer than a quiet pass");
    }
}
