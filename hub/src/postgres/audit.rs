//! Audit anchors, the hub's audit, the e-license lookup audit and
//! diagnostics requests on PostgreSQL.

use model::audit_chain::{check_extends, AnchorCheck, AuditHead, AuditProof};
use model::submission::sha256_hex;
use time::OffsetDateTime;
use tokio_postgres::GenericClient;

use crate::store::{AuditStore, DiagnosticsRecord, DiagnosticsStore, HubAuditEntry, LookupAudit, StoreError};

use super::rows::*;
use super::PgStore;

/// Appends to the hub's audit inside the caller's transaction.
pub(super) async fn append_hub_audit(
    c: &impl GenericClient,
    at: OffsetDateTime,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    outcome: &str,
) -> Result<(), StoreError> {
    c.execute("INSERT INTO hub_audit (at, actor, action, subject, outcome) VALUES ($1, $2, $3, $4, $5)", &[&at, &actor, &action, &subject, &outcome]).await?;
    Ok(())
}

async fn anchor_of(c: &impl GenericClient, terminal: &str) -> Result<Option<AuditHead>, StoreError> {
    let row = c.query_opt("SELECT seq, hash FROM audit_anchors WHERE terminal_id = $1", &[&terminal]).await?;
    row.map(|r| Ok(AuditHead { seq: u64_of(r.try_get(0)?), hash: r.try_get(1)? })).transpose()
}

fn uuid_of(id: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(id).map_err(|_| StoreError::Corrupt("a diagnostics request id is not a UUID".into()))
}

impl AuditStore for PgStore {
    fn anchor_audit(&self, terminal: &str, proof: &AuditProof, at: OffsetDateTime) -> Result<(AnchorCheck, AuditHead), StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            // Most heartbeats repeat the anchored head: answered from a read.
            if let Some(anchor) = anchor_of(&*client, terminal).await? {
                let check = check_extends(Some(&anchor), proof);
                if matches!(check, AnchorCheck::Same | AnchorCheck::Unproven) {
                    return Ok((check, anchor));
                }
            }
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&format!("audit {terminal}")]).await?;
            // Again under the lock: another instance may have moved it.
            let anchor = anchor_of(&tx, terminal).await?;
            let check = check_extends(anchor.as_ref(), proof);
            let held = match &check {
                AnchorCheck::Same | AnchorCheck::Unproven => anchor.clone().unwrap_or_else(|| proof.head.clone()),
                AnchorCheck::Extends { verified } => verified.clone(),
                AnchorCheck::First => proof.head.clone(),
                AnchorCheck::WentBack { anchored, reported } | AnchorCheck::Rewritten { anchored, reported, .. } => {
                    let from_seq = match &check {
                        AnchorCheck::Rewritten { seq, .. } => Some(i64_of(*seq)),
                        _ => None,
                    };
                    tx.execute(
                        "INSERT INTO audit_breaks (terminal_id, at, kind, from_seq, anchored_seq, anchored_hash, reported_seq, reported_hash)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        &[&terminal, &at, &check.code(), &from_seq, &i64_of(anchored.seq), &anchored.hash, &i64_of(reported.seq), &reported.hash],
                    )
                    .await?;
                    let outcome = match from_seq {
                        Some(s) => format!("{}: hub held #{}, terminal reports #{}, differs from #{s}", check.code(), anchored.seq, reported.seq),
                        None => format!("{}: hub held #{}, terminal reports #{}", check.code(), anchored.seq, reported.seq),
                    };
                    append_hub_audit(&tx, at, terminal, "terminal audit chain broken", Some(terminal), &outcome).await?;
                    // Re-anchor at what the terminal has now, so a second break is a second flag.
                    proof.head.clone()
                }
            };
            if matches!(check, AnchorCheck::First) {
                append_hub_audit(&tx, at, terminal, "terminal audit anchored", Some(terminal), &format!("first head #{}", held.seq)).await?;
            }
            if anchor.as_ref() != Some(&held) {
                tx.execute(
                    "INSERT INTO audit_anchors (terminal_id, seq, hash, anchored_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (terminal_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, anchored_at = excluded.anchored_at",
                    &[&terminal, &i64_of(held.seq), &held.hash, &at],
                )
                .await?;
            }
            tx.commit().await?;
            Ok((check, held))
        })
    }

    fn acknowledge_audit_breaks(&self, terminal: &str, staff: &str, why: &str, at: OffsetDateTime) -> Result<usize, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            let n = tx
                .execute(
                    "UPDATE audit_breaks SET acknowledged_by = $2, acknowledged_at = $3, acknowledged_why = $4 WHERE terminal_id = $1 AND acknowledged_at IS NULL",
                    &[&terminal, &staff, &at, &why],
                )
                .await?;
            if n > 0 {
                append_hub_audit(&tx, at, staff, "audit break acknowledged", Some(terminal), &format!("{n} break(s): {why}")).await?;
            }
            tx.commit().await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    fn hub_audit(&self, actor: &str, action: &str, subject: Option<&str>, outcome: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let client = self.pool.get()?;
        self.pool.wait(append_hub_audit(&*client, at, actor, action, subject, outcome))
    }

    fn hub_audit_tail(&self, limit: usize) -> Result<Vec<HubAuditEntry>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            "SELECT seq, at, actor, action, subject, outcome FROM (SELECT * FROM hub_audit ORDER BY seq DESC LIMIT $1) t ORDER BY seq",
            &[&i64_of(limit as u64)],
        ))?;
        rows.iter()
            .map(|r| Ok(HubAuditEntry { seq: r.try_get(0)?, at: r.try_get(1)?, actor: r.try_get(2)?, action: r.try_get(3)?, subject: r.try_get(4)?, outcome: r.try_get(5)? }))
            .collect()
    }

    fn audit_e_license(&self, l: &LookupAudit<'_>, max_people: u64, at: OffsetDateTime) -> Result<i64, StoreError> {
        let mut client = self.pool.get()?;
        let (seq, allowed) = self.pool.wait(async {
            let tx = client.transaction().await?;
            // The allowance is counted per terminal and day: its lookups take turns.
            tx.execute(LOCK_SQL, &[&format!("e-license {}", l.terminal)]).await?;
            let secret: Vec<u8> = tx.query_one("SELECT value FROM hub_secrets WHERE name = 'lookup_tag'", &[]).await?.try_get(0)?;
            let mut keyed = secret;
            keyed.extend_from_slice(b"\ncunban-e-license-person\n");
            keyed.extend_from_slice(l.id_number.as_bytes());
            let tag = sha256_hex(&keyed)[..32].to_owned();
            let day = at.date().to_string();
            let r = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM e_license_lookups WHERE terminal_id = $1 AND day = $2 AND id_tag = $3 AND outcome <> 'refused'),
                            (SELECT COUNT(DISTINCT id_tag) FROM e_license_lookups WHERE terminal_id = $1 AND day = $2 AND outcome <> 'refused')",
                    &[&l.terminal, &day, &tag],
                )
                .await?;
            let (seen, people): (bool, i64) = (r.try_get(0)?, r.try_get(1)?);
            let allowed = seen || u64_of(people) < max_people;
            let seq: i64 = tx
                .query_one(
                    "INSERT INTO e_license_lookups (terminal_id, at, day, material_code, id_masked, id_tag, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
                    &[&l.terminal, &at, &day, &l.material_code, &l.id_masked, &tag, &if allowed { "asked" } else { "refused" }],
                )
                .await?
                .try_get(0)?;
            tx.commit().await?;
            Ok::<_, StoreError>((seq, allowed))
        })?;
        if !allowed {
            return Err(StoreError::QuotaExceeded { terminal: l.terminal.to_owned(), what: format!("{max_people} people looked up a day") });
        }
        Ok(seq)
    }

    fn audit_e_license_outcome(&self, seq: i64, outcome: &str) -> Result<(), StoreError> {
        let client = self.pool.get()?;
        self.pool.wait(client.execute("UPDATE e_license_lookups SET outcome = $2 WHERE seq = $1", &[&seq, &outcome]))?;
        Ok(())
    }
}

impl DiagnosticsStore for PgStore {
    fn request_diagnostics(&self, terminal: &str, staff: &str, at: OffsetDateTime) -> Result<uuid::Uuid, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            if tx.query_opt("SELECT 1 FROM terminals WHERE id = $1", &[&terminal]).await?.is_none() {
                return Err(StoreError::UnknownTerminal(terminal.to_owned()));
            }
            let id = uuid::Uuid::now_v7();
            tx.execute(
                "INSERT INTO diagnostics_requests (id, terminal_id, requested_by, requested_at) VALUES ($1, $2, $3, $4)",
                &[&id.to_string(), &terminal, &staff, &at],
            )
            .await?;
            append_hub_audit(&tx, at, staff, "diagnostics requested", Some(terminal), &format!("request {id}")).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    fn pending_diagnostics(&self, terminal: &str) -> Result<Option<uuid::Uuid>, StoreError> {
        let client = self.pool.get()?;
        // Asked on every heartbeat: typed, one round trip.
        let rows = self.pool.wait(client.query_typed(
            "SELECT id, sha256 FROM diagnostics_requests WHERE terminal_id = $1 ORDER BY requested_at, id",
            &[(&terminal, tokio_postgres::types::Type::TEXT)],
        ))?;
        for r in rows {
            let done = match r.try_get::<_, Option<&str>>(1)? {
                Some(sha) => self.blobs.exists(sha)?,
                None => false,
            };
            if !done {
                return uuid_of(r.try_get(0)?).map(Some);
            }
        }
        Ok(None)
    }

    fn announce_diagnostics(&self, terminal: &str, id: uuid::Uuid, sha256: &str, size: u64, at: OffsetDateTime) -> Result<(), StoreError> {
        let client = self.pool.get()?;
        let held = self.pool.wait(client.query_opt("SELECT sha256 FROM diagnostics_requests WHERE terminal_id = $1 AND id = $2", &[&terminal, &id.to_string()]))?;
        let Some(held) = held else { return Err(StoreError::UnknownDiagnostics(id)) };
        if let Some(old) = held.try_get::<_, Option<String>>(0)?.filter(|h| h != sha256) {
            // A complete bundle stays; an unfinished one is replaced.
            if self.blobs.exists(&old)? {
                return Err(StoreError::UnknownDiagnostics(id));
            }
            self.blobs.remove(&old)?;
        }
        self.pool.wait(client.execute(
            "UPDATE diagnostics_requests SET sha256 = $3, size = $4, announced_at = $5 WHERE terminal_id = $1 AND id = $2",
            &[&terminal, &id.to_string(), &sha256, &i64_of(size), &at],
        ))?;
        Ok(())
    }

    fn diagnostics_requests(&self) -> Result<Vec<DiagnosticsRecord>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query("SELECT id, terminal_id, requested_by, requested_at, sha256, size FROM diagnostics_requests ORDER BY requested_at DESC, id DESC", &[]))?;
        let mut out = Vec::new();
        for r in rows {
            let sha: Option<String> = r.try_get(4)?;
            let size: Option<i64> = r.try_get(5)?;
            let complete = match &sha {
                Some(s) => self.blobs.exists(s)?,
                None => false,
            };
            out.push(DiagnosticsRecord {
                id: uuid_of(r.try_get(0)?)?,
                terminal_id: r.try_get(1)?,
                requested_by: r.try_get(2)?,
                requested_at: r.try_get(3)?,
                announced: sha.zip(size.map(u64_of)),
                complete,
            });
        }
        Ok(out)
    }

    fn download_diagnostics(&self, id: uuid::Uuid, staff: &str, at: OffsetDateTime) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt("SELECT terminal_id, sha256 FROM diagnostics_requests WHERE id = $1", &[&id.to_string()]))?;
        let Some(row) = row else { return Err(StoreError::UnknownDiagnostics(id)) };
        let (terminal, sha): (String, Option<String>) = (row.try_get(0)?, row.try_get(1)?);
        let Some(bytes) = sha.map(|s| self.blobs.read(&s)).transpose()?.flatten() else { return Ok(None) };
        self.pool.wait(append_hub_audit(&*client, at, staff, "diagnostics downloaded", Some(&terminal), &format!("request {id}, {} bytes", bytes.len())))?;
        Ok(Some((terminal, bytes)))
    }
}
