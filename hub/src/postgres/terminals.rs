//! The terminal registry, nonces, heartbeats, configs, operators, staff
//! and the catalog on PostgreSQL.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use model::audit_chain::AuditHead;
use model::auth::{PublicKey, SignedCatalog, SignedCatalogDelta};
use model::operator::{OperatorAccount, StaffNumber};
use model::protocol::{CatalogUpdate, Heartbeat, TerminalConfig};
use model::VillageCode;
use time::OffsetDateTime;
use tokio_postgres::types::Type;
use tokio_postgres::GenericClient;

use crate::store::{Acknowledgement, AuditBreak, CatalogStore, FleetPage, FleetQuery, NewOperator, NewTerminal, OperatorStore, StoreError, TerminalRecord, TerminalStatus, TerminalStore, MAX_DELTA_CHAIN};

use super::rows::*;
use super::PgStore;

// The per-request statements (key, nonce, heartbeat, config, catalog
// version) go with their parameter types (`query_typed`): one round trip
// each instead of prepare, execute and close.

/// Old nonces are forgotten once every this many requests (per instance).
pub(super) const NONCE_SWEEP_EVERY: u64 = 1024;

/// Runs one of the per-request telemetry writes (a nonce with the last-seen
/// time, a heartbeat) in its own transaction without waiting for the WAL
/// flush (`synchronous_commit = off`), as SQLite writes them with
/// `synchronous=NORMAL`: promised to no one, a database crash may lose the
/// last fraction of a second of them, and nothing else waits on a disk
/// flush per heartbeat. BEGIN, the statement and COMMIT are pipelined: one
/// round trip. Filings, cases and everything acknowledged stay synchronous.
async fn telemetry(client: &tokio_postgres::Client, sql: &str, params: &[(&(dyn tokio_postgres::types::ToSql + Sync), Type)]) -> Result<Vec<tokio_postgres::Row>, StoreError> {
    let (begin, rows, commit) =
        tokio::join!(client.batch_execute("BEGIN; SET LOCAL synchronous_commit = off"), client.query_typed(sql, params), client.batch_execute("COMMIT"));
    begin?;
    // A failed statement leaves the transaction aborted; COMMIT then rolls it back.
    let rows = rows?;
    commit?;
    Ok(rows)
}

fn status_of(s: &str) -> TerminalStatus {
    if s == "active" {
        TerminalStatus::Active
    } else {
        TerminalStatus::Revoked
    }
}

fn key_of(id: &str, key: &str) -> Result<PublicKey, StoreError> {
    PublicKey::parse(key).map_err(|_| StoreError::Corrupt(format!("terminal {id} has a malformed key")))
}

/// The registry (of only `ids`, when given) with last heartbeats and audit state.
async fn read_terminals(c: &impl GenericClient, ids: Option<&[String]>) -> Result<Vec<TerminalRecord>, StoreError> {
    let mut anchors = HashMap::new();
    for r in c.query("SELECT terminal_id, seq, hash, anchored_at FROM audit_anchors WHERE $1::TEXT[] IS NULL OR terminal_id = ANY($1)", &[&ids]).await? {
        anchors.insert(r.try_get::<_, String>(0)?, (AuditHead { seq: u64_of(r.try_get(1)?), hash: r.try_get(2)? }, r.try_get(3)?));
    }
    let mut breaks: HashMap<String, Vec<AuditBreak>> = HashMap::new();
    for r in c
        .query(
            "SELECT terminal_id, at, kind, from_seq, anchored_seq, anchored_hash, reported_seq, reported_hash,
                    acknowledged_by, acknowledged_at, acknowledged_why FROM audit_breaks
             WHERE $1::TEXT[] IS NULL OR terminal_id = ANY($1) ORDER BY id DESC",
            &[&ids],
        )
        .await?
    {
        breaks.entry(r.try_get(0)?).or_default().push(AuditBreak {
            at: r.try_get(1)?,
            kind: r.try_get(2)?,
            from_seq: r.try_get::<_, Option<i64>>(3)?.map(u64_of),
            anchored: AuditHead { seq: u64_of(r.try_get(4)?), hash: r.try_get(5)? },
            reported: AuditHead { seq: u64_of(r.try_get(6)?), hash: r.try_get(7)? },
            acknowledged: match (r.try_get::<_, Option<String>>(8)?, r.try_get::<_, Option<OffsetDateTime>>(9)?, r.try_get::<_, Option<String>>(10)?) {
                (Some(by), Some(at), why) => Some(Acknowledgement { by, at, why: why.unwrap_or_default() }),
                _ => None,
            },
        });
    }
    let rows = c
        .query(
            "SELECT t.id, t.public_key, t.status, t.village_code, t.label, t.added_at, GREATEST(t.last_seen_at, h.received_at), h.received_at, h.body
             FROM terminals t LEFT JOIN heartbeats h ON h.terminal_id = t.id WHERE $1::TEXT[] IS NULL OR t.id = ANY($1) ORDER BY t.id",
            &[&ids],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get(0)?;
        let hb_at: Option<OffsetDateTime> = r.try_get(7)?;
        let hb_body: Option<String> = r.try_get(8)?;
        let last_heartbeat = match (hb_at, hb_body) {
            (Some(at), Some(body)) => serde_json::from_str::<Heartbeat>(&body).ok().map(|hb| (at, hb)),
            _ => None,
        };
        out.push(TerminalRecord {
            public_key: key_of(&id, r.try_get(1)?)?,
            status: status_of(r.try_get(2)?),
            village_code: r.try_get::<_, Option<String>>(3)?.and_then(|v| VillageCode::parse(&v).ok()),
            label: r.try_get(4)?,
            added_at: r.try_get(5)?,
            last_seen_at: r.try_get(6)?,
            last_heartbeat,
            audit_anchor: anchors.remove(&id),
            audit_breaks: breaks.remove(&id).unwrap_or_default(),
            id,
        });
    }
    Ok(out)
}

/// 0 audit broken, 1 stale, 2 in touch, 3 revoked: the fleet page's order.
const RANK: &str = "CASE WHEN t.status = 'revoked' THEN 3
     WHEN EXISTS (SELECT 1 FROM audit_breaks b WHERE b.terminal_id = t.id) THEN 0
     WHEN GREATEST(h.received_at, t.last_seen_at) IS NULL OR GREATEST(h.received_at, t.last_seen_at) < $2 THEN 1
     ELSE 2 END";

impl TerminalStore for PgStore {
    fn fleet_page(&self, q: &FleetQuery) -> Result<FleetPage, StoreError> {
        let client = self.pool.get()?;
        self.pool.wait(async {
            let place = q.place.as_deref().map(|p| format!("{p}%"));
            let from = "FROM terminals t LEFT JOIN heartbeats h ON h.terminal_id = t.id WHERE ($1::TEXT IS NULL OR t.village_code LIKE $1)";
            let counts = client
                .query_one(
                    &format!("SELECT COUNT(*), COUNT(*) FILTER (WHERE r = 0), COUNT(*) FILTER (WHERE r = 1) FROM (SELECT {RANK} AS r {from}) x"),
                    &[&place, &q.stale_before],
                )
                .await?;
            let rows = client
                .query(&format!("SELECT t.id {from} ORDER BY {RANK}, t.id LIMIT $3 OFFSET $4"), &[&place, &q.stale_before, &i64_of(q.limit), &i64_of(q.offset)])
                .await?;
            let ids: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
            let mut found: HashMap<String, TerminalRecord> = read_terminals(&*client, Some(&ids)).await?.into_iter().map(|t| (t.id.clone(), t)).collect();
            Ok(FleetPage {
                terminals: ids.iter().filter_map(|id| found.remove(id)).collect(),
                total: u64_of(counts.try_get(0)?),
                broken: u64_of(counts.try_get(1)?),
                stale: u64_of(counts.try_get(2)?),
            })
        })
    }

    fn add_terminal(&self, t: &NewTerminal, at: OffsetDateTime) -> Result<(), StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&t.id]).await?;
            let key = t.public_key.to_string();
            let village = t.village_code.as_ref().map(|v| v.as_str());
            let existing = tx.query_opt("SELECT public_key, status FROM terminals WHERE id = $1", &[&t.id]).await?;
            match existing {
                Some(r) if r.try_get::<_, &str>(0)? == key && r.try_get::<_, &str>(1)? == "active" => {
                    tx.execute(
                        "UPDATE terminals SET village_code = COALESCE($2, village_code), label = COALESCE($3, label) WHERE id = $1",
                        &[&t.id, &village, &t.label],
                    )
                    .await?;
                }
                // A revoked terminal stays revoked: a new key needs a new enrollment.
                Some(_) => return Err(StoreError::TerminalConflict(t.id.clone())),
                None => {
                    let inserted = tx
                        .execute(
                            "INSERT INTO terminals (id, public_key, status, village_code, label, added_at) VALUES ($1, $2, 'active', $3, $4, $5)
                             ON CONFLICT DO NOTHING",
                            &[&t.id, &key, &village, &t.label, &at],
                        )
                        .await?;
                    if inserted == 0 {
                        return Err(StoreError::TerminalConflict(t.id.clone()));
                    }
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn add_terminals(&self, terminals: &[NewTerminal], at: OffsetDateTime) -> Result<usize, StoreError> {
        let ids: Vec<&str> = terminals.iter().map(|t| t.id.as_str()).collect();
        let keys: Vec<String> = terminals.iter().map(|t| t.public_key.to_string()).collect();
        let villages: Vec<Option<&str>> = terminals.iter().map(|t| t.village_code.as_ref().map(|v| v.as_str())).collect();
        let labels: Vec<Option<&str>> = terminals.iter().map(|t| t.label.as_deref()).collect();
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            // add_terminal's rule, for all at once: a known id keeps its key
            // and must be active; a key belongs to one id.
            let conflict = tx
                .query_opt(
                    "SELECT n.id FROM UNNEST($1::text[], $2::text[]) AS n(id, key) JOIN terminals t ON t.id = n.id OR t.public_key = n.key
                     WHERE t.id <> n.id OR t.public_key <> n.key OR t.status <> 'active' LIMIT 1",
                    &[&ids, &keys],
                )
                .await?;
            if let Some(r) = conflict {
                return Err(StoreError::TerminalConflict(r.try_get(0)?));
            }
            tx.execute(
                "INSERT INTO terminals (id, public_key, status, village_code, label, added_at)
                 SELECT id, key, 'active', village, label, $5 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS n(id, key, village, label)
                 ON CONFLICT (id) DO UPDATE SET village_code = COALESCE(excluded.village_code, terminals.village_code), label = COALESCE(excluded.label, terminals.label)",
                &[&ids, &keys, &villages, &labels, &at],
            )
            .await?;
            tx.commit().await?;
            Ok(terminals.len())
        })
    }

    fn revoke_terminal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let client = self.pool.get()?;
        let changed = self.pool.wait(client.execute("UPDATE terminals SET status = 'revoked', revoked_at = COALESCE(revoked_at, $2) WHERE id = $1", &[&id, &at]))?;
        if changed == 0 {
            return Err(StoreError::UnknownTerminal(id.to_owned()));
        }
        Ok(())
    }

    fn terminal_key(&self, id: &str) -> Result<Option<(PublicKey, TerminalStatus)>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_typed_opt("SELECT public_key, status FROM terminals WHERE id = $1", &[(&id, Type::TEXT)]))?;
        row.map(|r| Ok((key_of(id, r.try_get(0)?)?, status_of(r.try_get(1)?)))).transpose()
    }

    fn remember_nonce(&self, terminal: &str, nonce: &str, now_unix: i64, forget_before: i64) -> Result<bool, StoreError> {
        let client = self.pool.get()?;
        let seen_at = unix(now_unix);
        // One statement, one round trip: the primary key decides whether
        // the nonce is new, across every instance.
        let fresh: bool = self
            .pool
            .wait(telemetry(
                &client,
                "WITH ins AS (INSERT INTO seen_nonces (terminal_id, nonce, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1),
                      seen AS (UPDATE terminals SET last_seen_at = $4 WHERE id = $1 AND EXISTS (SELECT 1 FROM ins) RETURNING 1)
                 SELECT EXISTS (SELECT 1 FROM ins)",
                &[(&terminal, Type::TEXT), (&nonce, Type::TEXT), (&now_unix, Type::INT8), (&seen_at, Type::TIMESTAMPTZ)],
            ))?
            .first()
            .ok_or_else(|| StoreError::Corrupt("the nonce statement answered no row".into()))?
            .try_get(0)?;
        if self.nonce_sweep.fetch_add(1, Ordering::Relaxed) % NONCE_SWEEP_EVERY == 0 {
            self.pool.wait(client.execute("DELETE FROM seen_nonces WHERE at < $1", &[&forget_before]))?;
        }
        Ok(fresh)
    }

    fn terminals(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        // Heartbeats are written before they are answered here: nothing to flush.
        let client = self.pool.get()?;
        self.pool.wait(read_terminals(&*client, None))
    }

    fn terminals_read_only(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        self.terminals()
    }

    fn record_heartbeat(&self, terminal: &str, hb: &Heartbeat, at: OffsetDateTime) -> Result<(), StoreError> {
        let body = serde_json::to_string(hb).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let client = self.pool.get()?;
        self.pool.wait(telemetry(
            &client,
            "INSERT INTO heartbeats (terminal_id, received_at, body) VALUES ($1, $2, $3)
             ON CONFLICT (terminal_id) DO UPDATE SET received_at = excluded.received_at, body = excluded.body",
            &[(&terminal, Type::TEXT), (&at, Type::TIMESTAMPTZ), (&body, Type::TEXT)],
        ))?;
        Ok(())
    }

    fn terminal_config(&self, terminal: &str) -> Result<TerminalConfig, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_typed_opt(
            "SELECT body FROM terminal_configs WHERE terminal_id IN ($1, '*') ORDER BY terminal_id = '*' LIMIT 1",
            &[(&terminal, Type::TEXT)],
        ))?;
        match row {
            Some(r) => serde_json::from_str(r.try_get(0)?).map_err(|_| StoreError::Corrupt(format!("the config of terminal {terminal} is malformed"))),
            None => Ok(TerminalConfig::default()),
        }
    }

    fn set_terminal_config(&self, terminal: Option<&str>, config: &TerminalConfig) -> Result<(), StoreError> {
        let body = serde_json::to_string(config).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let client = self.pool.get()?;
        self.pool.wait(client.execute(
            "INSERT INTO terminal_configs (terminal_id, body) VALUES ($1, $2) ON CONFLICT (terminal_id) DO UPDATE SET body = excluded.body",
            &[&terminal.unwrap_or("*"), &body],
        ))?;
        Ok(())
    }
}

impl OperatorStore for PgStore {
    fn add_operator(&self, op: &NewOperator, at: OffsetDateTime) -> Result<(), StoreError> {
        let villages = serde_json::to_string(&op.villages).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            let staff = op.staff_number.as_str();
            let status = tx.query_opt("SELECT status FROM operators WHERE staff_number = $1 FOR UPDATE", &[&staff]).await?;
            if let Some(r) = status {
                if r.try_get::<_, &str>(0)? == "revoked" {
                    // A revoked account is not brought back by accident: a new staff number is.
                    return Err(StoreError::OperatorRevoked(staff.to_owned()));
                }
            }
            tx.execute(
                "INSERT INTO operators (staff_number, name, pin_hash, villages, valid_until, status, added_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)
                 ON CONFLICT (staff_number) DO UPDATE SET name = excluded.name, pin_hash = excluded.pin_hash,
                     villages = excluded.villages, valid_until = excluded.valid_until, updated_at = excluded.updated_at
                 WHERE operators.status = 'active'",
                &[&staff, &op.name, &op.pin_hash, &villages, &op.valid_until, &at],
            )
            .await?;
            tx.execute("DELETE FROM operator_terminals WHERE staff_number = $1", &[&staff]).await?;
            for t in &op.terminals {
                tx.execute("INSERT INTO operator_terminals (staff_number, terminal_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[&staff, t]).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn revoke_operator(&self, staff_number: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let client = self.pool.get()?;
        let changed = self.pool.wait(client.execute(
            "UPDATE operators SET status = 'revoked', revoked_at = COALESCE(revoked_at, $2), updated_at = $2 WHERE staff_number = $1",
            &[&staff_number, &at],
        ))?;
        if changed == 0 {
            return Err(StoreError::UnknownOperator(staff_number.to_owned()));
        }
        Ok(())
    }

    fn operators_for(&self, terminal: &str) -> Result<Vec<OperatorAccount>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            "SELECT o.staff_number, o.name, o.pin_hash, o.villages, o.valid_until, o.status
             FROM operators o JOIN operator_terminals t ON t.staff_number = o.staff_number
             WHERE t.terminal_id = $1 ORDER BY o.staff_number",
            &[&terminal],
        ))?;
        let mut out = Vec::new();
        for r in rows {
            let staff: String = r.try_get(0)?;
            let villages: String = r.try_get(3)?;
            out.push(OperatorAccount {
                staff_number: StaffNumber::parse(&staff).map_err(|_| StoreError::Corrupt("a stored staff number is malformed".into()))?,
                name: r.try_get(1)?,
                pin_hash: r.try_get(2)?,
                villages: serde_json::from_str(&villages).map_err(|_| StoreError::Corrupt(format!("villages of operator {staff} are malformed")))?,
                revoked: r.try_get::<_, &str>(5)? == "revoked",
                valid_until: r.try_get(4)?,
            });
        }
        Ok(out)
    }

    fn check_staff(&self, name: &str, password: &str) -> Result<bool, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt("SELECT password_hash FROM staff WHERE name = $1", &[&name]))?;
        let Some(row) = row else { return Ok(false) };
        let stored: String = row.try_get(0)?;
        let given = crate::auth::staff_token_hash(password);
        // Compare without an early exit: the timing says nothing of the hash.
        Ok(stored.len() == given.len() && stored.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
    }

    fn set_staff(&self, name: &str, password_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let client = self.pool.get()?;
        self.pool.wait(client.execute(
            "INSERT INTO staff (name, password_hash, added_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash",
            &[&name, &password_hash, &at],
        ))?;
        Ok(())
    }
}

impl CatalogStore for PgStore {
    fn publish_catalog(&self, signed: &SignedCatalog, delta: Option<&SignedCatalogDelta>, at: OffsetDateTime) -> Result<(), StoreError> {
        let body = serde_json::to_string(signed).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let delta = delta.map(serde_json::to_string).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let client = self.pool.get()?;
        self.pool.wait(client.execute(
            "INSERT INTO catalogs (version, signed, published_at, delta) VALUES ($1, $2, $3, $4)
             ON CONFLICT (version) DO UPDATE SET signed = excluded.signed, published_at = excluded.published_at, delta = excluded.delta",
            &[&i64_of(signed.version), &body, &at, &delta],
        ))?;
        Ok(())
    }

    fn catalog_update(&self, since: u64) -> Result<Option<CatalogUpdate>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query("SELECT signed, delta FROM catalogs WHERE version > $1 ORDER BY version", &[&i64_of(since)]))?;
        let Some(last) = rows.last() else { return Ok(None) };
        let corrupt = |_| StoreError::Corrupt("a stored catalog is malformed".into());
        let full: SignedCatalog = serde_json::from_str(last.try_get(0)?).map_err(corrupt)?;
        // Deltas only along an unbroken chain starting at the terminal's version.
        let (mut chain, mut bytes, mut at) = (Vec::new(), 0, since);
        for r in &rows {
            let Some(text) = r.try_get::<_, Option<&str>>(1)? else { break };
            let d: SignedCatalogDelta = serde_json::from_str(text).map_err(corrupt)?;
            if d.from_version != at {
                break;
            }
            at = d.to_version;
            bytes += text.len();
            chain.push(d);
        }
        let whole = at == full.version && chain.len() <= MAX_DELTA_CHAIN && bytes < full.body.len();
        Ok(Some(if since > 0 && whole { CatalogUpdate::Deltas { deltas: chain } } else { CatalogUpdate::Full { catalog: full } }))
    }

    fn latest_catalog(&self) -> Result<Option<SignedCatalog>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt("SELECT signed FROM catalogs ORDER BY version DESC LIMIT 1", &[]))?;
        row.map(|r| serde_json::from_str(r.try_get(0)?).map_err(|_| StoreError::Corrupt("a stored catalog is malformed".into()))).transpose()
    }

    fn latest_catalog_version(&self) -> Result<Option<u64>, StoreError> {
        let client = self.pool.get()?;
        let v: Option<i64> = self.pool.wait(client.query_typed_one("SELECT MAX(version) FROM catalogs", &[]))?.try_get(0)?;
        Ok(v.map(u64_of))
    }
}
