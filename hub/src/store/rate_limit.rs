//! Rate limits every hub instance shares: a token bucket per key, kept as
//! one row in the store and refilled and spent in one atomic statement, so
//! N requests spread over several instances are limited as N on one.

use time::OffsetDateTime;

use super::error::StoreError;

/// A bucket's shape: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketLimit {
    pub burst: u32,
    pub per_minute: u32,
}

impl BucketLimit {
    /// Tokens per second (at least one a minute).
    pub fn per_sec(&self) -> f64 {
        f64::from(self.per_minute.max(1)) / 60.0
    }

    /// Tokens a full bucket holds (at least one).
    pub fn capacity(&self) -> f64 {
        f64::from(self.burst.max(1))
    }

    /// Seconds after which an untouched bucket is full again: its row can go.
    pub fn refill_secs(&self) -> f64 {
        self.capacity() / self.per_sec()
    }
}

/// Unix time with sub-second precision (a bucket refills in fractions).
pub fn unix_f64(at: OffsetDateTime) -> f64 {
    at.unix_timestamp_nanos() as f64 / 1e9
}

/// Shared token buckets.
pub trait RateLimitStore: Send + Sync {
    /// Takes one token from `key`'s bucket (full when first seen): true if
    /// there was one, false if the request must wait. Atomic across every
    /// instance on the store; a clock behind the bucket's last use refills
    /// nothing (never a negative refill).
    fn take_token(&self, key: &str, limit: BucketLimit, at: OffsetDateTime) -> Result<bool, StoreError>;
}
