//! The platform backlog on PostgreSQL (see `store/backlog.rs`).

use time::OffsetDateTime;

use crate::store::{Backlog, BacklogStore, StoreError};

use super::PgStore;

/// Each count its own subquery with the state in its WHERE, so each reads
/// the table's index by state and time (schema v7) rather than filtering
/// every row of the table (as `COUNT(*) FILTER` over the whole table did).
const SQL: &str = "
    SELECT 'sms', (SELECT COUNT(*) FROM sms_outbox WHERE state = 'pending'),
           (SELECT MIN(created_at) FROM sms_outbox WHERE state = 'pending'),
           (SELECT COUNT(*) FROM sms_outbox WHERE state IN ('failed', 'expired') AND updated_at >= $1)
    UNION ALL
    SELECT 'ratings', (SELECT COUNT(*) FROM rating_forwards WHERE state = 'pending'),
           (SELECT MIN(created_at) FROM rating_forwards WHERE state = 'pending'),
           (SELECT COUNT(*) FROM rating_forwards WHERE state = 'refused' AND updated_at >= $1)
    UNION ALL
    SELECT 'mail', (SELECT COUNT(*) FROM mail_orders WHERE state = 'pending'),
           (SELECT MIN(case_created_at) FROM mail_orders WHERE state = 'pending'),
           (SELECT COUNT(*) FROM mail_orders WHERE state = 'refused' AND updated_at >= $1)";

impl BacklogStore for PgStore {
    fn platform_backlog(&self, now: OffsetDateTime) -> Result<Vec<Backlog>, StoreError> {
        let client = self.pool.get()?;
        let since = now - time::Duration::days(30);
        let rows = self.pool.wait(client.query(SQL, &[&since]))?;
        rows.iter()
            .map(|r| {
                let outbox = match r.try_get::<_, &str>(0)? {
                    "sms" => "sms",
                    "ratings" => "ratings",
                    _ => "mail",
                };
                Ok(Backlog {
                    outbox,
                    pending: u64::try_from(r.try_get::<_, i64>(1)?).unwrap_or(0),
                    oldest_pending: r.try_get(2)?,
                    given_up: u64::try_from(r.try_get::<_, i64>(3)?).unwrap_or(0),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan PostgreSQL makes for the counts: every read of an outbox
    /// is an index (or index-only, or bitmap) scan bounded by the state, none
    /// a sequential or whole-index scan.
    /// The test tables are tiny, where a sequential scan is cheaper, so
    /// sequential scans are priced out for this session: with no index to
    /// use, the planner would still have to choose one, and the test fails.
    #[test]
    fn the_backlog_counts_read_indexes_and_scan_no_outbox() {
        let pg = testkit::pg::PgServer::builder().no_fsync().start().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = PgStore::open(&pg.create_database().unwrap(), dir.path()).unwrap();
        let client = store.pool.get().unwrap();
        let since = OffsetDateTime::now_utc();
        let plan = store.pool.wait(async {
            client.batch_execute("SET enable_seqscan = off").await?;
            let rows = client.query(&format!("EXPLAIN {SQL}"), &[&since]).await?;
            client.batch_execute("RESET enable_seqscan").await?;
            rows.iter().map(|r| r.try_get::<_, String>(0)).collect::<Result<Vec<_>, _>>()
        });
        let plan = plan.unwrap();
        println!("{}", plan.join("\n"));
        assert!(!plan.iter().any(|l| l.contains("Seq Scan")), "a sequential scan: {plan:#?}");
        for table in ["sms_outbox", "rating_forwards", "mail_orders"] {
            // The reads of the table itself (not " on {table}_pending", an index's name),
            // each bounded by a condition on the index (a whole-index scan would have none).
            let reads: Vec<usize> = plan.iter().enumerate().filter(|(_, l)| l.contains(&format!(" on {table} "))).map(|(i, _)| i).collect();
            assert_eq!(reads.len(), 3, "{table}: {plan:#?}");
            for i in reads {
                assert!(plan.get(i + 1).is_some_and(|l| l.contains("Index Cond:") || l.contains("Recheck Cond:")), "{table} read whole: {plan:#?}");
            }
        }
    }
}
