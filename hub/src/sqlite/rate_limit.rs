//! Shared token buckets on SQLite (see `store/rate_limit.rs`): one upsert
//! refills and spends, so every process on the file shares the bucket.

use rusqlite::{params, TransactionBehavior};
use time::OffsetDateTime;

use crate::store::{unix_f64, BucketLimit, StoreError};

use super::SqliteStore;

/// Refill, then spend one token if there is one; an unchanged row (the
/// WHERE refused) is a refusal. `at` never goes back (another process's
/// clock a little behind refills nothing).
pub(super) const TAKE_SQL: &str = "INSERT INTO rate_limits (key, tokens, at, idle_after) VALUES (?1, ?2 - 1, ?3, ?3 + ?5)
     ON CONFLICT (key) DO UPDATE SET tokens = MIN(?2, tokens + MAX(0, ?3 - at) * ?4) - 1, at = MAX(at, ?3), idle_after = MAX(at, ?3) + ?5
     WHERE MIN(?2, tokens + MAX(0, ?3 - at) * ?4) >= 1";

impl SqliteStore {
    pub(super) fn do_take_token(&self, key: &str, limit: BucketLimit, at: OffsetDateTime) -> Result<bool, StoreError> {
        let now = unix_f64(at);
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let taken = tx.prepare_cached(TAKE_SQL)?.execute(params![key, limit.capacity(), now, limit.per_sec(), limit.refill_secs()])? == 1;
        // Full buckets need no row; forgetting them keeps the table small.
        tx.prepare_cached("DELETE FROM rate_limits WHERE idle_after < ?1")?.execute([now])?;
        tx.commit()?;
        Ok(taken)
    }
}
