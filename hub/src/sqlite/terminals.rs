//! Terminals: registry, nonces, staff tokens, heartbeats, configs, e-license audit, catalogs.

use model::auth::{PublicKey, SignedCatalog, SignedCatalogDelta};
use model::protocol::CatalogUpdate;
use model::protocol::{Heartbeat, TerminalConfig};
use model::submission::sha256_hex;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use crate::store::{LookupAudit, NewTerminal, StoreError, TerminalRecord, TerminalStatus};

use super::rows::*;
use super::SqliteStore;

impl SqliteStore {
    pub(super) fn do_add_terminal(&self, t: &NewTerminal, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_add_terminals(std::slice::from_ref(t), at).map(drop)
    }

    pub(super) fn do_add_terminals(&self, terminals: &[NewTerminal], at: OffsetDateTime) -> Result<usize, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stamp = ts(at);
        for t in terminals {
            let key = t.public_key.to_string();
            let existing: Option<(String, String)> = tx
                .prepare_cached("SELECT public_key, status FROM terminals WHERE id = ?1")?
                .query_row([&t.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match existing {
                Some((k, status)) if k == key && status == "active" => {
                    tx.prepare_cached("UPDATE terminals SET village_code = COALESCE(?2, village_code), label = COALESCE(?3, label) WHERE id = ?1")?
                        .execute(params![t.id, t.village_code.as_ref().map(|v| v.as_str()), t.label])?;
                }
                // A revoked terminal stays revoked: a new key needs a new enrollment.
                Some(_) => return Err(StoreError::TerminalConflict(t.id.clone())),
                None => {
                    let inserted = tx
                        .prepare_cached(
                            "INSERT INTO terminals (id, public_key, status, village_code, label, added_at) VALUES (?1, ?2, 'active', ?3, ?4, ?5)
                             ON CONFLICT DO NOTHING",
                        )?
                        .execute(params![t.id, key, t.village_code.as_ref().map(|v| v.as_str()), t.label, stamp])?;
                    if inserted == 0 {
                        return Err(StoreError::TerminalConflict(t.id.clone()));
                    }
                }
            }
        }
        tx.commit()?;
        Ok(terminals.len())
    }

    pub(super) fn do_revoke_terminal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        let changed = conn.execute(
            "UPDATE terminals SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![id, ts(at)],
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownTerminal(id.to_owned()));
        }
        Ok(())
    }

    pub(super) fn do_terminal_key(&self, id: &str) -> Result<Option<(PublicKey, TerminalStatus)>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached("SELECT public_key, status FROM terminals WHERE id = ?1")?;
        let row: Option<(String, String)> = stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        let Some((key, status)) = row else { return Ok(None) };
        let key = PublicKey::parse(&key).map_err(|_| StoreError::Corrupt(format!("terminal {id} has a malformed key")))?;
        let status = if status == "active" { TerminalStatus::Active } else { TerminalStatus::Revoked };
        Ok(Some((key, status)))
    }

    pub(super) fn do_remember_nonce(&self, terminal: &str, nonce: &str, now_unix: i64, forget_before: i64) -> Result<bool, StoreError> {
        let seen_at = ts(OffsetDateTime::from_unix_timestamp(now_unix).unwrap_or(OffsetDateTime::UNIX_EPOCH));
        self.group.nonce(terminal, nonce, now_unix, seen_at, forget_before)
    }

    pub(super) fn do_terminals(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        // Heartbeats are written behind: read them after they landed.
        self.group.flush()?;
        self.read_terminals()
    }

    pub(super) fn do_terminals_read_only(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        self.read_terminals()
    }

    pub(super) fn do_check_staff(&self, name: &str, password: &str) -> Result<bool, StoreError> {
        let conn = self.pool.get()?;
        let stored: Option<String> =
            conn.prepare_cached("SELECT password_hash FROM staff WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()?;
        let Some(stored) = stored else { return Ok(false) };
        let given = crate::auth::staff_token_hash(password);
        // Compare without an early exit: the timing says nothing of the hash.
        Ok(stored.len() == given.len() && stored.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
    }

    pub(super) fn do_set_staff(&self, name: &str, password_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        conn.execute(
            "INSERT INTO staff (name, password_hash, added_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
            params![name, password_hash, ts(at)],
        )?;
        Ok(())
    }

    pub(super) fn do_audit_e_license(&self, l: &LookupAudit<'_>, max_people: u64, at: OffsetDateTime) -> Result<i64, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let secret: Vec<u8> = tx.query_row("SELECT value FROM hub_secrets WHERE name = 'lookup_tag'", [], |r| r.get(0))?;
        let mut keyed = secret;
        keyed.extend_from_slice(b"\ncunban-e-license-person\n");
        keyed.extend_from_slice(l.id_number.as_bytes());
        let tag = sha256_hex(&keyed)[..32].to_owned();
        let day = at.date().to_string();
        let (seen, people): (bool, i64) = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM e_license_lookups WHERE terminal_id = ?1 AND day = ?2 AND id_tag = ?3 AND outcome <> 'refused'),
                    (SELECT COUNT(DISTINCT id_tag) FROM e_license_lookups WHERE terminal_id = ?1 AND day = ?2 AND outcome <> 'refused')",
            params![l.terminal, day, tag],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let allowed = seen || u64::try_from(people).unwrap_or(0) < max_people;
        tx.execute(
            "INSERT INTO e_license_lookups (terminal_id, at, day, material_code, id_masked, id_tag, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![l.terminal, ts(at), day, l.material_code, l.id_masked, tag, if allowed { "asked" } else { "refused" }],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        if !allowed {
            return Err(StoreError::QuotaExceeded { terminal: l.terminal.to_owned(), what: format!("{max_people} people looked up a day") });
        }
        Ok(seq)
    }

    pub(super) fn do_audit_e_license_outcome(&self, seq: i64, outcome: &str) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        conn.execute("UPDATE e_license_lookups SET outcome = ?2 WHERE seq = ?1", params![seq, outcome])?;
        Ok(())
    }

    pub(super) fn do_record_heartbeat(&self, terminal: &str, hb: &Heartbeat, at: OffsetDateTime) -> Result<(), StoreError> {
        let body = serde_json::to_string(hb).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.group.heartbeat(terminal, ts(at), body)
    }

    pub(super) fn do_terminal_config(&self, terminal: &str) -> Result<TerminalConfig, StoreError> {
        let conn = self.pool.get()?;
        let body: Option<String> = conn
            .query_row(
                "SELECT body FROM terminal_configs WHERE terminal_id IN (?1, '*') ORDER BY terminal_id = '*' LIMIT 1",
                [terminal],
                |r| r.get(0),
            )
            .optional()?;
        match body {
            Some(b) => serde_json::from_str(&b).map_err(|_| StoreError::Corrupt(format!("the config of terminal {terminal} is malformed"))),
            None => Ok(TerminalConfig::default()),
        }
    }

    pub(super) fn do_set_terminal_config(&self, terminal: Option<&str>, config: &TerminalConfig) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let body = serde_json::to_string(config).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let conn = self.pool.get()?;
        conn.execute(
            "INSERT INTO terminal_configs (terminal_id, body) VALUES (?1, ?2)
             ON CONFLICT(terminal_id) DO UPDATE SET body = excluded.body",
            params![terminal.unwrap_or("*"), body],
        )?;
        Ok(())
    }

    pub(super) fn do_publish_catalog(&self, signed: &SignedCatalog, delta: Option<&SignedCatalogDelta>, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let body = serde_json::to_string(signed).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let delta = delta.map(serde_json::to_string).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let conn = self.pool.get()?;
        conn.execute(
            "INSERT INTO catalogs (version, signed, published_at, delta) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(version) DO UPDATE SET signed = excluded.signed, published_at = excluded.published_at, delta = excluded.delta",
            params![i64_of(signed.version), body, ts(at), delta],
        )?;
        Ok(())
    }

    pub(super) fn do_catalog_update(&self, since: u64) -> Result<Option<CatalogUpdate>, StoreError> {
        let conn = self.pool.get()?;
        let newer: Vec<(String, Option<String>)> = conn
            .prepare_cached("SELECT signed, delta FROM catalogs WHERE version > ?1 ORDER BY version")?
            .query_map([i64_of(since)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let Some((full, _)) = newer.last() else { return Ok(None) };
        let corrupt = |_| StoreError::Corrupt("a stored catalog is malformed".into());
        let full: SignedCatalog = serde_json::from_str(full).map_err(corrupt)?;
        // Deltas only along an unbroken chain starting at the terminal's version.
        let mut chain = Vec::new();
        let mut bytes = 0;
        let mut at = since;
        for (_, delta) in &newer {
            let Some(text) = delta else { break };
            let d: SignedCatalogDelta = serde_json::from_str(text).map_err(corrupt)?;
            if d.from_version != at {
                break;
            }
            at = d.to_version;
            bytes += text.len();
            chain.push(d);
        }
        let whole = at == full.version && chain.len() <= crate::store::MAX_DELTA_CHAIN && bytes < full.body.len();
        Ok(Some(if since > 0 && whole { CatalogUpdate::Deltas { deltas: chain } } else { CatalogUpdate::Full { catalog: full } }))
    }

    pub(super) fn do_latest_catalog_version(&self) -> Result<Option<u64>, StoreError> {
        let conn = self.pool.get()?;
        let v: Option<i64> = conn.prepare_cached("SELECT MAX(version) FROM catalogs")?.query_row([], |r| r.get(0))?;
        Ok(v.and_then(|v| u64::try_from(v).ok()))
    }

    pub(super) fn do_latest_catalog(&self) -> Result<Option<SignedCatalog>, StoreError> {
        let conn = self.pool.get()?;
        let body: Option<String> =
            conn.query_row("SELECT signed FROM catalogs ORDER BY version DESC LIMIT 1", [], |r| r.get(0)).optional()?;
        body.map(|b| serde_json::from_str(&b).map_err(|_| StoreError::Corrupt("a stored catalog is malformed".into()))).transpose()
    }
}
