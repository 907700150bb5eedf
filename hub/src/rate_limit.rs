//! A token bucket per client address, for the unauthenticated enrollment
//! route: checked before its body is read.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket per client address.
pub(crate) struct RateLimiter {
    burst: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<Option<IpAddr>, (f64, Instant)>>,
}

/// Addresses remembered at most; past it, full buckets are forgotten.
const MAX_TRACKED: usize = 10_000;

impl RateLimiter {
    /// `burst` requests at once, refilled at `per_minute`.
    pub(crate) fn new(burst: u32, per_minute: u32) -> RateLimiter {
        RateLimiter { burst: f64::from(burst.max(1)), per_sec: f64::from(per_minute.max(1)) / 60.0, buckets: Mutex::new(HashMap::new()) }
    }

    /// True if `addr` may make a request now.
    pub(crate) fn allow(&self, addr: Option<IpAddr>, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (burst, rate) = (self.burst, self.per_sec);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(addr).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_sec).min(self.burst);
        *at = now;
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
        let t0 = Instant::now();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        assert!((0..3).all(|_| limiter.allow(a, t0)));
        assert!(!limiter.allow(a, t0), "burst spent");
        assert!(limiter.allow(Some(IpAddr::from([10, 0, 0, 2])), t0), "another address has its own bucket");
        assert!(limiter.allow(a, t0 + Duration::from_millis(1100)), "one token back after a second at 60/min");
        assert!(!limiter.allow(a, t0 + Duration::from_millis(1200)));
    }
}

