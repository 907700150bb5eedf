//! Shared token buckets on PostgreSQL (see `store/rate_limit.rs`): the
//! upsert takes the row's lock, so instances racing on one key spend its
//! tokens one after another and never more than it holds.

use time::OffsetDateTime;

use crate::store::{unix_f64, BucketLimit, RateLimitStore, StoreError};

use super::PgStore;

/// As SQLite's (typed: PostgreSQL would take `$2 - 1` for an integer): refill, spend one token if there is one; no row back is a refusal.
const TAKE_SQL: &str = "INSERT INTO rate_limits (key, tokens, at, idle_after) VALUES ($1::text, $2::float8 - 1, $3::float8, $3::float8 + $5::float8)
     ON CONFLICT (key) DO UPDATE SET tokens = LEAST($2::float8, rate_limits.tokens + GREATEST(0, $3::float8 - rate_limits.at) * $4::float8) - 1,
         at = GREATEST(rate_limits.at, $3::float8), idle_after = GREATEST(rate_limits.at, $3::float8) + $5::float8
     WHERE LEAST($2::float8, rate_limits.tokens + GREATEST(0, $3::float8 - rate_limits.at) * $4::float8) >= 1
     RETURNING 1";

impl RateLimitStore for PgStore {
    fn take_token(&self, key: &str, limit: BucketLimit, at: OffsetDateTime) -> Result<bool, StoreError> {
        let now = unix_f64(at);
        let client = self.pool.get()?;
        let (cap, rate, refill) = (limit.capacity(), limit.per_sec(), limit.refill_secs());
        self.pool.wait(async {
            let taken = client.query_opt(TAKE_SQL, &[&key, &cap, &now, &rate, &refill]).await?.is_some();
            // Full buckets need no row; forgetting them keeps the table small.
            client.execute("DELETE FROM rate_limits WHERE idle_after < $1", &[&now]).await?;
            Ok(taken)
        })
    }
}
