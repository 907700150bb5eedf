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

/// One outbox's counts. Each part searches the table's index by state and
/// time (schema v17), so a page load reads the pending and recently given-up
/// rows only, not the history of everything taken.
fn sql(table: &str, made: &str, pending: &str, given_up: &str) -> String {
    format!(
        "SELECT (SELECT COUNT(*) FROM {table} WHERE state IN ({pending})),
                (SELECT {made} FROM {table} WHERE state IN ({pending}) ORDER BY julianday({made}) LIMIT 1),
                (SELECT COUNT(*) FROM {table} WHERE state IN ({given_up}) AND julianday(updated_at) >= julianday(?1))"
    )
}

impl BacklogStore for SqliteStore {
    fn platform_backlog(&self, now: OffsetDateTime) -> Result<Vec<Backlog>, StoreError> {
        let conn = self.pool.get()?;
        let since = ts(now - time::Duration::days(30));
        OUTBOXES
            .iter()
            .map(|(outbox, table, made, pending, given_up)| {
                let (n, oldest, gone): (i64, Option<String>, i64) =
                    conn.prepare_cached(&sql(table, made, pending, given_up))?.query_row(params![since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(Backlog { outbox, pending: u64::try_from(n).unwrap_or(0), oldest_pending: oldest.as_deref().map(parse_ts).transpose()?, given_up: u64::try_from(gone).unwrap_or(0) })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan SQLite makes for each outbox's counts: every read of an
    /// outbox table is a search of an index, none a scan of the table.
    #[test]
    fn the_backlog_counts_search_indexes_and_scan_no_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("hub.db")).unwrap();
        let conn = store.pool.get().unwrap();
        for (_, table, made, pending, given_up) in OUTBOXES {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", sql(table, made, pending, given_up))).unwrap();
            let plan: Vec<String> = stmt.query_map(params!["2026-01-01T00:00:00Z"], |r| r.get::<_, String>(3)).unwrap().collect::<Result<_, _>>().unwrap();
            println!("{table}:\n  {}", plan.join("\n  "));
            let reads: Vec<&String> = plan.iter().filter(|l| l.contains(table)).collect();
            assert_eq!(reads.len(), 3, "{table}: {plan:?}");
            for l in reads {
                assert!(l.starts_with("SEARCH") && l.contains("INDEX"), "{table} is scanned: {plan:?}");
            }
        }
    }
}
