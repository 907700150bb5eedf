//! The platform backlog on PostgreSQL (see `store/backlog.rs`).

use time::OffsetDateTime;

use crate::store::{Backlog, BacklogStore, StoreError};

use super::PgStore;

impl BacklogStore for PgStore {
    fn platform_backlog(&self, now: OffsetDateTime) -> Result<Vec<Backlog>, StoreError> {
        let client = self.pool.get()?;
        let since = now - time::Duration::days(30);
        let rows = self.pool.wait(client.query(
            "SELECT 'sms', COUNT(*) FILTER (WHERE state = 'pending'), MIN(created_at) FILTER (WHERE state = 'pending'),
                    COUNT(*) FILTER (WHERE state IN ('failed', 'expired') AND updated_at >= $1) FROM sms_outbox
             UNION ALL
             SELECT 'ratings', COUNT(*) FILTER (WHERE state = 'pending'), MIN(created_at) FILTER (WHERE state = 'pending'),
                    COUNT(*) FILTER (WHERE state = 'refused' AND updated_at >= $1) FROM rating_forwards
             UNION ALL
             SELECT 'mail', COUNT(*) FILTER (WHERE state = 'pending'), MIN(case_created_at) FILTER (WHERE state = 'pending'),
                    COUNT(*) FILTER (WHERE state = 'refused' AND updated_at >= $1) FROM mail_orders",
            &[&since],
        ))?;
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
