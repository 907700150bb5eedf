//! A token bucket per client address in this process's memory, for the
//! unauthenticated enrollment route: checked before its body is read.
//!
//! The limit that counts is the shared one in the store
//! ([`crate::store::RateLimitStore`]), which every instance spends from;
//! this one only turns a flood from one address away before it costs a
//! database write. It refuses nothing the shared bucket would allow: an
//! address over the limit at one instance is over it in total.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use crate::store::BucketLimit;

/// A token bucket per client address.
pub(crate) struct RateLimiter {
    limit: BucketLimit,
    burst: f64,
    per_sec: f64,
    /// Per address: tokens, and when (seconds on the hub's clock) they were counted.
    buckets: Mutex<HashMap<Option<IpAddr>, (f64, f64)>>,
}

/// Addresses remembered at most; past it, full buckets are forgotten.
const MAX_TRACKED: usize = 10_000;

impl RateLimiter {
    /// `burst` requests at once, refilled at `per_minute`.
    pub(crate) fn new(burst: u32, per_minute: u32) -> RateLimiter {
        let limit = BucketLimit { burst, per_minute };
        RateLimiter { limit, burst: limit.capacity(), per_sec: limit.per_sec(), buckets: Mutex::new(HashMap::new()) }
    }

    /// The shape of the bucket, for the shared one in the store.
    pub(crate) fn limit(&self) -> BucketLimit {
        self.limit
    }

    /// True if `addr` may make a request at `now` (seconds on the hub's clock).
    pub(crate) fn allow(&self, addr: Option<IpAddr>, now: f64) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (burst, rate) = (self.burst, self.per_sec);
            buckets.retain(|_, (tokens, at)| *tokens + (now - *at).max(0.0) * rate < burst);
        }
        let (tokens, at) = buckets.entry(addr).or_insert((self.burst, now));
        *tokens = (*tokens + (now - *at).max(0.0) * self.per_sec).min(self.burst);
        *at = at.max(now);
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Seconds until one token is back.
    pub(crate) fn retry_after(&self) -> Duration {
        Duration::from_secs_f64((1.0 / self.per_sec).ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_then_its_rate() {
        let limiter = RateLimiter::new(3, 60);
        let t0 = 1_000.0;
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        assert!((0..3).all(|_| limiter.allow(a, t0)));
        assert!(!limiter.allow(a, t0), "burst spent");
        assert!(limiter.allow(Some(IpAddr::from([10, 0, 0, 2])), t0), "another address has its own bucket");
        assert!(limiter.allow(a, t0 + 1.1), "one token back after a second at 60/min");
        assert!(!limiter.allow(a, t0 + 1.2));
    }
}

