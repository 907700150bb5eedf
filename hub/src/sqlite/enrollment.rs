//! Enrollment codes and operator accounts.

use model::auth::PublicKey;
use model::operator::{OperatorAccount, StaffNumber};
use model::VillageCode;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use crate::store::{terminal_id_for_serial, EnrollBinding, EnrollPresentation, EnrollRecord, EnrollState, NewOperator, StoreError};
use model::enroll::{Profile, ENROLL_CODE_TTL_SECS};

use super::rows::*;
use super::SqliteStore;

impl SqliteStore {
    pub(super) fn do_present_enrollment(&self, p: &EnrollPresentation<'_>, at: OffsetDateTime) -> Result<EnrollState, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let key = p.public_key.to_string();
        let registered: Option<(String, String)> =
            tx.query_row("SELECT id, status FROM terminals WHERE public_key = ?1", [&key], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((id, status)) = &registered {
            if status == "revoked" {
                return Err(StoreError::TerminalRevoked(id.clone()));
            }
        }
        type Row = (String, i64, String, Option<String>, Option<String>, Option<String>);
        let row: Option<Row> = tx
            .query_row(
                "SELECT public_key, expires_at, status, terminal_id, village_code, profile FROM enrollments WHERE code_hash = ?1",
                [p.code_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let now = at.unix_timestamp();
        let state = match row {
            None => {
                let expires = now + ENROLL_CODE_TTL_SECS;
                tx.execute(
                    "INSERT INTO enrollments (code_hash, serial, public_key, presented_at, expires_at, status) VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
                    params![p.code_hash, p.serial, key, ts(at), expires],
                )?;
                EnrollState::Pending { expires_at: unix(expires) }
            }
            // Another key presenting a known code: someone read it off the
            // screen. Refused, and a pending code is marked so that it can
            // no longer be bound to either key (whichever came first).
            Some((k, _, status, ..)) if k != key => {
                if status == "pending" {
                    tx.execute("UPDATE enrollments SET contested_at = COALESCE(contested_at, ?2) WHERE code_hash = ?1", params![p.code_hash, ts(at)])?;
                    tx.commit()?;
                    tracing::warn!(presenter = %p.public_key.fingerprint(), "an enrollment code was presented by a second key; it can no longer be bound");
                }
                return Err(StoreError::EnrollCodeUsed);
            }
            Some((_, expires, status, ..)) if status == "pending" => {
                if now > expires {
                    return Err(StoreError::EnrollCodeExpired);
                }
                EnrollState::Pending { expires_at: unix(expires) }
            }
            Some((_, _, status, Some(terminal_id), Some(village), Some(profile))) if status == "bound" => {
                tx.execute("UPDATE enrollments SET status = 'delivered', delivered_at = ?2 WHERE code_hash = ?1", params![p.code_hash, ts(at)])?;
                EnrollState::Bound {
                    terminal_id,
                    village_code: VillageCode::parse(&village).map_err(|_| StoreError::Corrupt("enrollment village code".into()))?,
                    profile: Profile::parse(&profile).ok_or_else(|| StoreError::Corrupt("enrollment profile".into()))?,
                }
            }
            Some(_) => return Err(StoreError::EnrollCodeUsed),
        };
        // Expired pending codes are of no use to anyone: forget them now and then.
        tx.execute("DELETE FROM enrollments WHERE status = 'pending' AND expires_at < ?1", [now - 86_400])?;
        tx.commit()?;
        Ok(state)
    }

    pub(super) fn do_bind_enrollment(&self, code_hash: &str, b: &EnrollBinding, at: OffsetDateTime) -> Result<EnrollRecord, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, i64, String, Option<String>)> = tx
            .query_row("SELECT serial, public_key, expires_at, status, contested_at FROM enrollments WHERE code_hash = ?1", [code_hash], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some((serial, key_text, expires, status, contested)) = row else { return Err(StoreError::UnknownEnrollCode) };
        if status != "pending" {
            return Err(StoreError::EnrollCodeUsed);
        }
        if at.unix_timestamp() > expires {
            return Err(StoreError::EnrollCodeExpired);
        }
        if contested.is_some() {
            return Err(StoreError::EnrollCodeContested);
        }
        let key = PublicKey::parse(&key_text).map_err(|_| StoreError::Corrupt("enrollment key".into()))?;
        // The code alone proves nothing (anyone near the screen can read
        // it): the technician confirms the key the terminal shows.
        let Some(expected) = b.expected_fingerprint.as_deref().map(str::trim).filter(|f| !f.is_empty()) else {
            return Err(StoreError::EnrollFingerprintRequired { found: key.fingerprint() });
        };
        if !expected.eq_ignore_ascii_case(&key.fingerprint()) {
            return Err(StoreError::EnrollFingerprintMismatch { expected: expected.to_owned(), found: key.fingerprint() });
        }
        let id = b.terminal_id.clone().unwrap_or_else(|| terminal_id_for_serial(&serial));
        if !model::auth::valid_terminal_id(&id) {
            return Err(StoreError::TerminalConflict(format!("{id} (not a valid terminal id)")));
        }
        let by_key: Option<(String, String)> =
            tx.query_row("SELECT id, status FROM terminals WHERE public_key = ?1", [&key_text], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match by_key {
            Some((existing, status)) if status == "revoked" => return Err(StoreError::TerminalRevoked(existing)),
            Some((existing, _)) if existing != id => return Err(StoreError::TerminalConflict(existing)),
            Some(_) => {
                tx.execute("UPDATE terminals SET village_code = ?2 WHERE id = ?1", params![id, b.village_code.as_str()])?;
            }
            None => {
                let inserted = tx.execute(
                    "INSERT INTO terminals (id, public_key, status, village_code, label, added_at) VALUES (?1, ?2, 'active', ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![id, key_text, b.village_code.as_str(), format!("{} {serial}", b.profile.as_str()), ts(at)],
                )?;
                if inserted == 0 {
                    return Err(StoreError::TerminalConflict(id));
                }
            }
        }
        tx.execute(
            "UPDATE enrollments SET status = 'bound', terminal_id = ?2, village_code = ?3, profile = ?4, bound_at = ?5, bound_by = ?6
             WHERE code_hash = ?1 AND status = 'pending'",
            params![code_hash, id, b.village_code.as_str(), b.profile.as_str(), ts(at), b.actor],
        )?;
        let presented_at: String = tx.query_row("SELECT presented_at FROM enrollments WHERE code_hash = ?1", [code_hash], |r| r.get(0))?;
        tx.commit()?;
        Ok(EnrollRecord {
            serial,
            public_key: key,
            presented_at: parse_ts(&presented_at)?,
            expires_at: unix(expires),
            status: "bound".into(),
            terminal_id: Some(id),
            village_code: Some(b.village_code.as_str().to_owned()),
            profile: Some(b.profile),
        })
    }

    pub(super) fn do_pending_enrollments(&self, at: OffsetDateTime) -> Result<Vec<EnrollRecord>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare(
            "SELECT serial, public_key, presented_at, expires_at,
                    CASE WHEN status = 'pending' AND contested_at IS NOT NULL THEN 'contested' ELSE status END,
                    terminal_id, village_code, profile FROM enrollments
             WHERE status = 'bound' OR (status = 'pending' AND expires_at >= ?1) ORDER BY presented_at DESC",
        )?;
        let rows = stmt.query_map([at.unix_timestamp()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (serial, key, presented, expires, status, terminal_id, village_code, profile) = row?;
            out.push(EnrollRecord {
                serial,
                public_key: PublicKey::parse(&key).map_err(|_| StoreError::Corrupt("enrollment key".into()))?,
                presented_at: parse_ts(&presented)?,
                expires_at: unix(expires),
                status,
                terminal_id,
                village_code,
                profile: profile.as_deref().and_then(Profile::parse),
            });
        }
        Ok(out)
    }

    pub(super) fn do_add_operator(&self, op: &NewOperator, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let staff = op.staff_number.as_str();
        let status: Option<String> =
            tx.query_row("SELECT status FROM operators WHERE staff_number = ?1", [staff], |r| r.get(0)).optional()?;
        if status.as_deref() == Some("revoked") {
            // A revoked account is not brought back by accident: a new staff number is.
            return Err(StoreError::OperatorRevoked(staff.to_owned()));
        }
        let villages = serde_json::to_string(&op.villages).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.execute(
            "INSERT INTO operators (staff_number, name, pin_hash, villages, valid_until, status, added_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?6)
             ON CONFLICT(staff_number) DO UPDATE SET name = excluded.name, pin_hash = excluded.pin_hash,
                 villages = excluded.villages, valid_until = excluded.valid_until, updated_at = excluded.updated_at",
            params![staff, op.name, op.pin_hash, villages, op.valid_until.map(ts), ts(at)],
        )?;
        tx.execute("DELETE FROM operator_terminals WHERE staff_number = ?1", [staff])?;
        for t in &op.terminals {
            tx.execute("INSERT INTO operator_terminals (staff_number, terminal_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![staff, t])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(super) fn do_revoke_operator(&self, staff_number: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        let changed = conn.execute(
            "UPDATE operators SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?2), updated_at = ?2 WHERE staff_number = ?1",
            params![staff_number, ts(at)],
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownOperator(staff_number.to_owned()));
        }
        Ok(())
    }

    pub(super) fn do_operators_for(&self, terminal: &str) -> Result<Vec<OperatorAccount>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT o.staff_number, o.name, o.pin_hash, o.villages, o.valid_until, o.status
             FROM operators o JOIN operator_terminals t ON t.staff_number = o.staff_number
             WHERE t.terminal_id = ?1 ORDER BY o.staff_number",
        )?;
        let rows = stmt.query_map([terminal], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (staff, name, pin_hash, villages, valid_until, status) = row?;
            out.push(OperatorAccount {
                staff_number: StaffNumber::parse(&staff).map_err(|_| StoreError::Corrupt("a stored staff number is malformed".into()))?,
                name,
                pin_hash,
                villages: serde_json::from_str(&villages).map_err(|_| StoreError::Corrupt(format!("villages of operator {staff} are malformed")))?,
                revoked: status == "revoked",
                valid_until: valid_until.as_deref().map(parse_ts).transpose()?,
            });
        }
        Ok(out)
    }
}
