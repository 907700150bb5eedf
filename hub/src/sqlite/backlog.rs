//! The platform backlog on SQLite (see `store/backlog.rs`).

use rusqlite::params;
use time::OffsetDateTime;

use crate::store::{Backlog, BacklogStore, StoreError};

use super::rows::*;
use super::SqliteStore;

/// (outbox, table, when-made column, pending states, given-up states).
const OUTBOXES: [(&str, &str, &str, &str, &str); 3] = [
    ("sms", "sms_outbox", "created_at", "'pending'", "'failed', 'expired'"),
    ("ratings", "rating_forwards", "created_at", "'pending'", "'refused'"),
    ("mail", "mail_orders", "case_created_at", "'pending'", "'refused'"),
];

impl BacklogStore for SqliteStore {
    fn platform_backlog(&self, now: OffsetDateTime) -> Result<Vec<Backlog>, StoreError> {
        let conn = self.pool.get()?;
        let since = ts(now - time::Duration::days(30));
        OUTBOXES
            .iter()
            .map(|(outbox, table, made, pending, given_up)| {
                let sql = format!(
                    "SELECT (SELECT COUNT(*) FROM {table} WHERE state IN ({pending})),
                            (SELECT {made} FROM {table} WHERE state IN ({pending}) ORDER BY julianday({made}) LIMIT 1),
                            (SELECT COUNT(*) FROM {table} WHERE state IN ({given_up}) AND julianday(updated_at) >= julianday(?1))"
                );
                let (n, oldest, gone): (i64, Option<String>, i64) = conn.prepare_cached(&sql)?.query_row(params![since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(Backlog { outbox, pending: u64::try_from(n).unwrap_or(0), oldest_pending: oldest.as_deref().map(parse_ts).transpose()?, given_up: u64::try_from(gone).unwrap_or(0) })
            })
            .collect()
    }
}
