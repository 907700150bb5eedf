//! Operator accounts on the terminal (assisted mode): the list pulled from
//! the hub, offline login against its Argon2id PIN hashes, and a lockout
//! that survives restarts. Every attempt, success or not, is an audit entry.
//!
//! The slow hash is computed without the database lock held, so the sync
//! worker and the villager-facing parts are not held up by a login.

use std::time::Duration;

use model::operator::{verify_pin, OperatorAccount, OperatorList, StaffNumber};
use model::{SubmissionId, VillageCode};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use thiserror::Error;
use time::OffsetDateTime;

use crate::audit;
use crate::clock::{format_ts, now, parse_ts};
use crate::error::StoreError;
use crate::outbox::Outbox;

/// How many wrong PINs lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    pub max_failures: u32,
    pub lockout: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy { max_failures: 5, lockout: Duration::from_secs(15 * 60) }
    }
}

/// Why a login was refused. Messages carry no PIN and no name.
#[derive(Debug, Error)]
pub enum LoginError {
    /// No account list was ever pulled on this terminal: the first login
    /// needs the network.
    #[error("no operator accounts on this terminal yet: connect to the network once so they can be fetched")]
    NeedsNetwork,
    /// Unknown staff number or wrong PIN: the same answer for both.
    #[error("wrong staff number or PIN ({remaining} attempt(s) left before a lockout)")]
    WrongCredentials { remaining: u32 },
    #[error("too many wrong PINs: locked until {until}")]
    LockedOut { until: OffsetDateTime },
    #[error("this account was revoked")]
    Revoked,
    #[error("this account expired on {0}")]
    Expired(OffsetDateTime),
    #[error("a staff number is 3..16 letters or digits")]
    BadStaffNumber,
    #[error("the stored PIN hash of this account is unreadable; sync again")]
    BadStoredHash,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A logged-in operator, as the kiosk's assisted session holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub staff_number: StaffNumber,
    pub name: String,
    pub villages: Vec<VillageCode>,
}

/// Filings per village of one trip (the trip summary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VillageTally {
    pub village_code: String,
    /// Everything filed (saved on the terminal).
    pub filed: u64,
    /// Saved, not yet acknowledged by the hub.
    pub waiting: u64,
    /// Acknowledged (or further).
    pub delivered: u64,
    /// The hub refused them (quarantined): they need the assistant's attention.
    pub failed_validation: u64,
}

impl Outbox {
    fn terminal_for_audit(&self) -> Result<String, StoreError> {
        Ok(self.config()?.terminal_id.clone())
    }

    /// Replaces the operator list with one the hub signed at `issued_at`
    /// (one transaction): an account missing from it can no longer log in
    /// here, a revoked one is kept as revoked. `issued_at` is recorded in the
    /// same transaction, so an older signed list (a replay that would bring
    /// back a revoked account) is refused. Returns (accounts, revoked).
    pub(crate) fn apply_operators(&self, list: &OperatorList, issued_at: i64) -> Result<(usize, usize), StoreError> {
        let terminal = self.terminal_for_audit()?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        crate::pulled::set_document_applied_at(&tx, model::document::DocumentKind::Operators, issued_at)?;
        tx.execute("DELETE FROM operators", [])?;
        let at = format_ts(now());
        for op in &list.operators {
            let villages = serde_json::to_string(&op.villages).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tx.execute(
                "INSERT INTO operators (staff_number, name, pin_hash, villages, revoked, valid_until, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![op.staff_number.as_str(), op.name, op.pin_hash, villages, op.revoked, op.valid_until.map(format_ts), at],
            )?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('operators_synced_at', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [&at],
        )?;
        let revoked = list.operators.iter().filter(|o| o.revoked).count();
        let outcome = format!("{} account(s), {revoked} revoked", list.operators.len());
        audit::append(&tx, now(), &audit::Record { terminal: &terminal, operator: None, action: "operator accounts synced", subject: None, outcome: &outcome })?;
        tx.commit()?;
        Ok((list.operators.len(), revoked))
    }

    /// When the operator list was last pulled; None: never (first login needs the network).
    pub fn operators_synced_at(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        let v: Option<String> =
            self.lock().query_row("SELECT CAST(value AS TEXT) FROM meta WHERE key = 'operators_synced_at'", [], |r| r.get(0)).optional()?;
        v.as_deref().map(parse_ts).transpose()
    }

    fn operator(&self, staff: &StaffNumber) -> Result<Option<(OperatorAccount, u32, Option<OffsetDateTime>)>, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT o.name, o.pin_hash, o.villages, o.revoked, o.valid_until, COALESCE(l.failures, 0), l.locked_until
                 FROM operators o LEFT JOIN operator_lockouts l ON l.staff_number = o.staff_number
                 WHERE o.staff_number = ?1",
                [staff.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, bool>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((name, pin_hash, villages, revoked, valid_until, failures, locked_until)) = row else { return Ok(None) };
        let account = OperatorAccount {
            staff_number: staff.clone(),
            name,
            pin_hash,
            villages: serde_json::from_str(&villages).map_err(|_| StoreError::Corrupt("stored operator villages are malformed".into()))?,
            revoked,
            valid_until: valid_until.as_deref().map(parse_ts).transpose()?,
        };
        Ok(Some((account, u32::try_from(failures).unwrap_or(u32::MAX), locked_until.as_deref().map(parse_ts).transpose()?)))
    }

    /// Logs an assistant in offline against the synced hash. Wrong PINs
    /// count towards a lockout (persisted); a correct PIN clears the count.
    /// Refusals are audited with the reason; the PIN never is.
    pub fn operator_login(&self, staff: &str, pin: &str, at: OffsetDateTime, policy: &LoginPolicy) -> Result<LoggedIn, LoginError> {
        let terminal = self.terminal_for_audit()?;
        let audit = |operator: Option<&str>, outcome: &str| self.audit_operator_at(&terminal, operator, "operator login", outcome, at);
        if self.operators_synced_at()?.is_none() {
            audit(None, "refused: no accounts synced yet (needs the network)")?;
            return Err(LoginError::NeedsNetwork);
        }
        let Ok(staff) = StaffNumber::parse(staff) else {
            audit(None, "refused: malformed staff number")?;
            return Err(LoginError::BadStaffNumber);
        };
        let Some((account, failures, locked_until)) = self.operator(&staff)? else {
            audit(None, "refused: unknown staff number")?;
            return Err(LoginError::WrongCredentials { remaining: policy.max_failures });
        };
        let who = Some(staff.as_str());
        if let Some(until) = locked_until.filter(|u| *u > at) {
            audit(who, "refused: locked out")?;
            return Err(LoginError::LockedOut { until });
        }
        // A lockout that ran out starts a fresh count.
        let failures = if locked_until.is_some() { 0 } else { failures };
        // The slow part, with no lock held.
        let ok = verify_pin(pin, &account.pin_hash).map_err(|_| LoginError::BadStoredHash)?;
        if !ok {
            let failures = failures.saturating_add(1);
            let locked = (failures >= policy.max_failures).then(|| at + time::Duration::try_from(policy.lockout).unwrap_or(time::Duration::HOUR));
            {
                let conn = self.lock();
                conn.execute(
                    "INSERT INTO operator_lockouts (staff_number, failures, locked_until, last_failure_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(staff_number) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
                         last_failure_at = excluded.last_failure_at",
                    params![staff.as_str(), failures, locked.map(format_ts), format_ts(at)],
                )
                .map_err(StoreError::from)?;
            }
            if let Some(until) = locked {
                audit(who, &format!("refused: wrong PIN, locked out after {failures} failures"))?;
                return Err(LoginError::LockedOut { until });
            }
            audit(who, &format!("refused: wrong PIN ({failures} of {})", policy.max_failures))?;
            return Err(LoginError::WrongCredentials { remaining: policy.max_failures - failures });
        }
        if account.revoked {
            audit(who, "refused: account revoked")?;
            return Err(LoginError::Revoked);
        }
        if let Some(until) = account.valid_until.filter(|u| *u <= at) {
            audit(who, "refused: account expired")?;
            return Err(LoginError::Expired(until));
        }
        self.lock().execute("DELETE FROM operator_lockouts WHERE staff_number = ?1", [staff.as_str()]).map_err(StoreError::from)?;
        audit(who, "logged in")?;
        Ok(LoggedIn { staff_number: account.staff_number, name: account.name, villages: account.villages })
    }

    /// Whether `staff` may still act (not revoked, not expired, still on
    /// the list): the kiosk asks after each sync and ends a session that may not.
    pub fn operator_still_valid(&self, staff: &StaffNumber, at: OffsetDateTime) -> Result<bool, StoreError> {
        Ok(self.operator(staff)?.is_some_and(|(a, _, _)| !a.revoked && a.valid_until.is_none_or(|u| u > at)))
    }

    /// Records something an operator did (trip started, logout, session
    /// timed out, ...) in the audit chain. Never personal data in `outcome`.
    pub fn audit_operator(&self, staff: &StaffNumber, action: &str, subject: Option<SubmissionId>, outcome: &str) -> Result<(), StoreError> {
        let terminal = self.terminal_for_audit()?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(&tx, now(), &audit::Record { terminal: &terminal, operator: Some(staff.as_str()), action, subject, outcome })?;
        tx.commit()?;
        Ok(())
    }

    fn audit_operator_at(&self, terminal: &str, operator: Option<&str>, action: &str, outcome: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(&tx, at, &audit::Record { terminal, operator, action, subject: None, outcome })?;
        tx.commit()?;
        Ok(())
    }

    /// The trip summary: per village of `trip_id`, filed / waiting /
    /// delivered / failed validation, in village order.
    pub fn trip_summary(&self, trip_id: uuid::Uuid) -> Result<Vec<VillageTally>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT village_code,
                    COUNT(*),
                    SUM(state IN ('queued', 'sending')),
                    SUM(state IN ('acknowledged', 'processed', 'purged')),
                    SUM(state = 'quarantined')
             FROM outbox WHERE trip_id = ?1 GROUP BY village_code ORDER BY village_code",
        )?;
        let rows = stmt.query_map([trip_id.to_string()], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?))
        })?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        let mut out = Vec::new();
        for row in rows {
            let (village, filed, waiting, delivered, failed) = row?;
            out.push(VillageTally {
                village_code: village.unwrap_or_default(),
                filed: n(filed),
                waiting: n(waiting),
                delivered: n(delivered),
                failed_validation: n(failed),
            });
        }
        Ok(out)
    }
}
