//! The fleet page's order and counts, computed in SQLite (issue 17: the
//! page must stay fast at 20,000 terminals, so only one page is read).

use rusqlite::{params, Connection};

use crate::store::{FleetQuery, StoreError};

use super::rows::*;

/// 0 audit broken, 1 stale, 2 in touch, 3 revoked: the page's order.
/// Times are RFC 3339 text: compared through julianday(), not as strings.
const RANK: &str = "CASE WHEN t.status = 'revoked' THEN 3
     WHEN EXISTS (SELECT 1 FROM audit_breaks b WHERE b.terminal_id = t.id) THEN 0
     WHEN MAX(COALESCE(julianday(h.received_at), 0), COALESCE(julianday(t.last_seen_at), 0)) < julianday(?2) THEN 1
     ELSE 2 END";

/// The ids of one page, in order, and (total, audit broken, stale) over all matching.
pub(super) fn page_ids(conn: &Connection, q: &FleetQuery) -> Result<(Vec<String>, u64, u64, u64), StoreError> {
    let place = q.place.as_deref().map(|p| format!("{p}%"));
    let from = "FROM terminals t LEFT JOIN heartbeats h ON h.terminal_id = t.id WHERE (?1 IS NULL OR t.village_code LIKE ?1)";
    let (total, broken, stale): (i64, i64, i64) = conn.query_row(
        &format!("SELECT COUNT(*), COALESCE(SUM(r = 0), 0), COALESCE(SUM(r = 1), 0) FROM (SELECT {RANK} AS r {from})"),
        params![place, ts(q.stale_before)],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut stmt = conn.prepare(&format!("SELECT t.id {from} ORDER BY {RANK}, t.id LIMIT ?3 OFFSET ?4"))?;
    let ids = stmt
        .query_map(params![place, ts(q.stale_before), i64_of(q.limit), i64_of(q.offset)], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ids, total as u64, broken as u64, stale as u64))
}
