//! When to try again after a sync stopped: exponential, with jitter, capped,
//! and never sooner than the hub asked (Retry-After).
//!
//! Jitter matters at fleet scale: when a county's link comes back, thousands
//! of terminals would otherwise retry in the same second. "Equal jitter"
//! (half the ceiling fixed, half random) keeps both a spread and a floor.

use std::time::Duration;

use crate::sync::outcome::SyncReport;

/// Longest Retry-After honoured: a misconfigured hub must not silence a terminal for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
    /// xorshift64* state; never zero.
    rng: u64,
}

impl Backoff {
    /// Delays start near `base` and double per failure up to `cap`.
    /// Seeded from the OS, so terminals do not move in step.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        let mut seed = [0u8; 8];
        // Without OS entropy the jitter is merely less spread: use the clock.
        if rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut seed).is_err() {
            seed = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos() as u64).to_le_bytes();
        }
        Backoff::with_seed(base, cap, u64::from_le_bytes(seed))
    }

    /// A reproducible sequence, for tests and simulations.
    pub fn with_seed(base: Duration, cap: Duration, seed: u64) -> Backoff {
        Backoff { base, cap: cap.max(base), failures: 0, rng: seed | 1 }
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The link works again: the next failure starts from `base`.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The ceiling for the current failure count: base · 2^failures, capped.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.base.checked_mul(factor).map_or(self.cap, |d| d.min(self.cap))
    }

    /// Records a failure and returns how long to wait: uniformly in
    /// [ceiling/2, ceiling], and at least `retry_after` (itself at most [`MAX_RETRY_AFTER`]).
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let half = ceiling / 2;
        let span = (ceiling - half).as_millis() as u64;
        let jitter = if span == 0 { 0 } else { self.next_random() % (span + 1) };
        let delay = half + Duration::from_millis(jitter);
        match retry_after {
            Some(hint) => delay.max(hint.min(MAX_RETRY_AFTER)),
            None => delay,
        }
    }

    /// After a sync: None when it went through (and the backoff resets), else the wait.
    /// A round that stopped after getting something through (a filing
    /// acknowledged, bytes uploaded) shows the link works, if flakily: the
    /// wait starts again from `base` rather than growing.
    pub fn after(&mut self, report: &SyncReport) -> Option<Duration> {
        match &report.stopped {
            None => {
                self.reset();
                None
            }
            Some(stop) => {
                if !report.acknowledged.is_empty() || report.bytes_sent > 0 {
                    self.reset();
                }
                Some(self.next_delay(stop.retry_after()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::outcome::StopReason;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn delays_double_within_jitter_and_stop_at_the_cap() {
        let mut b = Backoff::with_seed(2 * S, 60 * S, 42);
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            let ceiling = b.ceiling();
            let d = b.next_delay(None);
            assert!(d >= ceiling / 2 && d <= ceiling, "{d:?} outside [{:?}, {ceiling:?}]", ceiling / 2);
            ceilings.push(ceiling.as_secs());
        }
        assert_eq!(ceilings, vec![2, 4, 8, 16, 32, 60, 60, 60, 60, 60]);
        // Far past any sane count, still capped and no overflow.
        for _ in 0..100 {
            assert!(b.next_delay(None) <= 60 * S);
        }
    }

    #[test]
    fn success_resets_to_the_base() {
        let mut b = Backoff::with_seed(S, 600 * S, 7);
        for _ in 0..6 {
            b.next_delay(None);
        }
        assert_eq!(b.ceiling(), 64 * S);
        assert_eq!(b.after(&SyncReport::default()), None);
        assert_eq!(b.failures(), 0);
        assert!(b.next_delay(None) <= S);
    }

    #[test]
    fn a_stop_after_progress_starts_again_from_the_base() {
        let mut b = Backoff::with_seed(S, 600 * S, 5);
        let down = SyncReport { stopped: Some(StopReason::Timeout), ..Default::default() };
        for _ in 0..5 {
            b.after(&down);
        }
        assert_eq!(b.ceiling(), 32 * S);
        let flaky = SyncReport { stopped: Some(StopReason::Timeout), bytes_sent: 1000, ..Default::default() };
        assert!(b.after(&flaky).unwrap() <= S);
        assert_eq!(b.failures(), 1);
    }

    #[test]
    fn retry_after_is_a_floor_but_bounded() {
        let mut b = Backoff::with_seed(S, 10 * S, 1);
        assert!(b.next_delay(Some(120 * S)) >= 120 * S);
        assert_eq!(b.next_delay(Some(Duration::from_secs(86_400 * 3))), MAX_RETRY_AFTER);
        let busy = SyncReport { stopped: Some(StopReason::ServerBusy { status: 503, retry_after: Some(30 * S) }), ..Default::default() };
        assert!(b.after(&busy).unwrap() >= 30 * S);
        let down = SyncReport { stopped: Some(StopReason::Timeout), ..Default::default() };
        assert!(b.after(&down).unwrap() <= 10 * S);
    }

    #[test]
    fn terminals_spread_out() {
        // Eight terminals failing at the same moment do not retry in step.
        let delays: std::collections::HashSet<u128> = (0..8u64)
            .map(|seed| {
                let mut b = Backoff::with_seed(S, 600 * S, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                b.next_delay(None);
                b.next_delay(None);
                b.next_delay(None).as_millis()
            })
            .collect();
        assert!(delays.len() >= 6, "{delays:?}");
        let mut a = Backoff::new(S, 600 * S);
        let mut b = Backoff::new(S, 600 * S);
        let (x, y): (Vec<_>, Vec<_>) = (0..5).map(|_| (a.next_delay(None), b.next_delay(None))).unzip();
        assert_ne!(x, y, "OS-seeded instances differ");
    }
}
