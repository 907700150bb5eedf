//! The embedded-SQLite [`Store`]: the default for one hub on one machine.
//!
//! Here: the store and its trait implementation, each method handing over
//! to a role module (`submissions`, `cases`, `terminals`, `enrollment`);
//! `schema`, `pool`, `rows` are the leaves; `hubdb` reads for tools.

mod bundles;
mod backlog;
mod cases;
mod diagnostics;
mod enrollment;
mod fleet_audit;
mod fleet_page;
mod hubdb;
mod mail_orders;
mod pool;
mod progress;
mod rate_limit;
mod rating_forward;
mod rollouts;
mod rows;
mod ratings;
mod schema;
mod sms;
mod submissions;
mod terminals;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use model::audit_chain::{AnchorCheck, AuditHead, AuditProof};
use model::auth::{PublicKey, SignedCatalog, SignedCatalogDelta};
use model::protocol::{CasePart, CaseStatusEntry, CaseView, EvaluationUpload, Heartbeat, PutOutcome, TerminalConfig, UploadStatus};
use model::operator::OperatorAccount;
use model::{CaseNumber, CaseStatus, SubmissionId, VillageCode};
use rusqlite::{Connection, TransactionBehavior};
use time::OffsetDateTime;

use crate::objects::Objects;
use crate::group::GroupWriter;
use crate::store::{
    AuditStore, CaseStore, CatalogStore, DiagnosticsStore, EnrollmentStore, OperatorStore, ProgressStore, RatingForwardStore, RatingStore, RatingToForward, RolloutStore, SmsStore, SubmissionStore, TerminalStore,
    CaseSummary, DiagnosticsRecord, FleetPage, FleetQuery, EnrollBinding, EnrollPresentation, EnrollRecord, EnrollState, FollowUp, HubAuditEntry, LookupAudit, NewOperator, NewSubmission, RatingTally, SmsRow, SmsUpdate,
    BucketLimit, NewTerminal, RateLimitStore, StatusChange, StoreError, SweepReport, TerminalRecord, TerminalStatus,
};

pub use hubdb::{HubDb, OpenedFiling};
use pool::*;
use rows::*;
use schema::{migrate, MIGRATIONS};

pub struct SqliteStore {
    pool: Pool,
    blobs: Objects,
    /// Published update bundles, `<sha256>.tar` (`<db>.updates/`, rollouts.rs).
    updates: crate::bundle_files::BundleFiles,
    /// Taken by every in-process writer, before its pool connection (see group.rs).
    gate: Arc<Mutex<()>>,
    group: GroupWriter,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`;
    /// attachment bytes go in `<path>.blobs/`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = open_connection(path)?;
        migrate(&mut conn)?;
        let pool = Pool::new(path.to_owned(), conn);
        let gate = Arc::new(Mutex::new(()));
        let group = GroupWriter::start(path, gate.clone(), open_connection)?;
        let mut updates = path.as_os_str().to_owned();
        updates.push(".updates");
        Ok(SqliteStore { pool, blobs: Objects::beside(path)?, updates: crate::bundle_files::BundleFiles::new(updates.into()), gate, group })
    }

    /// Creates a database at an old schema version (tests of migrations:
    /// rows as an older hub left them). Not for serving.
    #[doc(hidden)]
    pub fn create_at_version(path: &Path, version: usize) -> Result<(), StoreError> {
        let mut conn = open_connection(path)?;
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        for (v, sql) in MIGRATIONS.iter().enumerate().take(version) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", v as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Serialises this process's writers (taken before a pool connection,
    /// so a writer waiting here holds no connection).
    fn write_gate(&self) -> MutexGuard<'_, ()> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The registry and last heartbeats as committed (no flush: writes nothing).
    fn read_terminals(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        self.read_terminals_among(None)
    }

    /// [`Self::read_terminals`] of only `ids` (a JSON array), when given.
    fn read_terminals_among(&self, ids: Option<&str>) -> Result<Vec<TerminalRecord>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare(
            "SELECT t.id, t.public_key, t.status, t.village_code, t.label, t.added_at, t.last_seen_at, h.received_at, h.body
             FROM terminals t LEFT JOIN heartbeats h ON h.terminal_id = t.id
             WHERE ?1 IS NULL OR t.id IN (SELECT value FROM json_each(?1)) ORDER BY t.id",
        )?;
        let mut rows = stmt.query([ids])?;
        let (mut anchors, mut breaks) = Self::audit_state(&conn)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let key: String = r.get(1)?;
            let status: String = r.get(2)?;
            let village: Option<String> = r.get(3)?;
            let added: String = r.get(5)?;
            let seen: Option<String> = r.get(6)?;
            let hb_at: Option<String> = r.get(7)?;
            let hb_body: Option<String> = r.get(8)?;
            let last_heartbeat = match (hb_at, hb_body) {
                (Some(at), Some(body)) => match serde_json::from_str::<Heartbeat>(&body) {
                    Ok(hb) => Some((parse_ts(&at)?, hb)),
                    Err(_) => None,
                },
                _ => None,
            };
            out.push(TerminalRecord {
                public_key: PublicKey::parse(&key).map_err(|_| StoreError::Corrupt(format!("terminal {id} has a malformed key")))?,
                status: if status == "active" { TerminalStatus::Active } else { TerminalStatus::Revoked },
                village_code: village.and_then(|v| VillageCode::parse(&v).ok()),
                label: r.get(4)?,
                added_at: parse_ts(&added)?,
                last_seen_at: seen.as_deref().map(parse_ts).transpose()?,
                last_heartbeat,
                audit_anchor: anchors.remove(&id),
                audit_breaks: breaks.remove(&id).unwrap_or_default(),
                id,
            });
        }
        Ok(out)
    }

    /// Complete: a verified blob file, or a row from before blobs were files.
    fn kept(&self, conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.blobs.exists(sha256)? || legacy_attachment(conn, sha256)?)
    }
}

impl SubmissionStore for SqliteStore {
    fn put_submission(&self, sub: &NewSubmission<'_>) -> Result<PutOutcome, StoreError> {
        self.do_put_submission(sub)
    }

    fn upload_status(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<UploadStatus, StoreError> {
        self.do_upload_status(terminal, id, sha256)
    }

    fn upload_target(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<(u64, bool), StoreError> {
        self.do_upload_target(terminal, id, sha256)
    }

    fn append_upload(&self, sha256: &str, size: u64, offset: u64, bytes: &[u8]) -> Result<u64, StoreError> {
        self.do_append_upload(sha256, size, offset, bytes)
    }

    fn truncate_upload(&self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        self.do_truncate_upload(sha256, offset)
    }

    fn finish_upload(&self, sha256: &str) -> Result<PutOutcome, StoreError> {
        self.do_finish_upload(sha256)
    }

    fn commit(&self, terminal: &str, id: SubmissionId) -> Result<(CaseNumber, Option<String>), StoreError> {
        self.do_commit(terminal, id)
    }

    fn sweep(&self, uncommitted_before: OffsetDateTime, partial_before: OffsetDateTime) -> Result<SweepReport, StoreError> {
        self.do_sweep(uncommitted_before, partial_before)
    }

    fn submission_body(&self, terminal: &str, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        use rusqlite::OptionalExtension as _;
        let conn = self.pool.get()?;
        let body = conn
            .query_row("SELECT body FROM submissions WHERE terminal_id = ?1 AND id = ?2", rusqlite::params![terminal, id.to_string()], |r| r.get(0))
            .optional()?;
        Ok(body)
    }
}

impl CaseStore for SqliteStore {
    fn case(&self, case_number: &str) -> Result<Option<CaseView>, StoreError> {
        self.do_case(case_number)
    }

    fn case_statuses(&self, terminal: &str, ids: &[SubmissionId]) -> Result<Vec<CaseStatusEntry>, StoreError> {
        self.do_case_statuses(terminal, ids)
    }

    fn list_cases(&self, status: Option<CaseStatus>, limit: usize) -> Result<Vec<CaseSummary>, StoreError> {
        self.do_list_cases(status, limit)
    }

    fn case_summary(&self, case_number: &str) -> Result<Option<CaseSummary>, StoreError> {
        self.do_case_summary(case_number)
    }

    fn set_case_status(&self, case_number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CaseSummary, StoreError> {
        self.do_set_case_status(case_number, change, at)
    }

    fn case_part(&self, number: &str) -> Result<Option<(String, CasePart)>, StoreError> {
        self.do_case_part(number)
    }

    fn set_part_status(&self, number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CasePart, StoreError> {
        self.do_set_part_status(number, change, at)
    }

    fn case_result(&self, terminal: &str, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.do_case_result(terminal, case_number)
    }
}

impl TerminalStore for SqliteStore {
    fn fleet_page(&self, q: &FleetQuery) -> Result<FleetPage, StoreError> {
        let (ids, total, broken, stale) = fleet_page::page_ids(&*self.pool.get()?, q)?;
        let json = serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut found: std::collections::HashMap<String, TerminalRecord> = self.read_terminals_among(Some(&json))?.into_iter().map(|t| (t.id.clone(), t)).collect();
        let terminals = ids.iter().filter_map(|id| found.remove(id)).collect();
        Ok(FleetPage { terminals, total, broken, stale })
    }

    fn add_terminal(&self, t: &NewTerminal, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_add_terminal(t, at)
    }

    fn add_terminals(&self, terminals: &[NewTerminal], at: OffsetDateTime) -> Result<usize, StoreError> {
        self.do_add_terminals(terminals, at)
    }

    fn revoke_terminal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_revoke_terminal(id, at)
    }

    fn terminal_key(&self, id: &str) -> Result<Option<(PublicKey, TerminalStatus)>, StoreError> {
        self.do_terminal_key(id)
    }

    fn remember_nonce(&self, terminal: &str, nonce: &str, now_unix: i64, forget_before: i64) -> Result<bool, StoreError> {
        self.do_remember_nonce(terminal, nonce, now_unix, forget_before)
    }

    fn terminals(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        self.do_terminals()
    }

    fn terminals_read_only(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        self.do_terminals_read_only()
    }

    fn record_heartbeat(&self, terminal: &str, hb: &Heartbeat, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_record_heartbeat(terminal, hb, at)
    }

    fn terminal_config(&self, terminal: &str) -> Result<TerminalConfig, StoreError> {
        self.do_terminal_config(terminal)
    }

    fn set_terminal_config(&self, terminal: Option<&str>, config: &TerminalConfig) -> Result<(), StoreError> {
        self.do_set_terminal_config(terminal, config)
    }
}

impl OperatorStore for SqliteStore {
    fn add_operator(&self, op: &NewOperator, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_add_operator(op, at)
    }

    fn revoke_operator(&self, staff_number: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_revoke_operator(staff_number, at)
    }

    fn operators_for(&self, terminal: &str) -> Result<Vec<OperatorAccount>, StoreError> {
        self.do_operators_for(terminal)
    }

    fn check_staff(&self, name: &str, password: &str) -> Result<bool, StoreError> {
        self.do_check_staff(name, password)
    }

    fn set_staff(&self, name: &str, password_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_set_staff(name, password_hash, at)
    }
}

impl EnrollmentStore for SqliteStore {
    fn present_enrollment(&self, p: &EnrollPresentation<'_>, at: OffsetDateTime) -> Result<EnrollState, StoreError> {
        self.do_present_enrollment(p, at)
    }

    fn bind_enrollment(&self, code_hash: &str, b: &EnrollBinding, at: OffsetDateTime) -> Result<EnrollRecord, StoreError> {
        self.do_bind_enrollment(code_hash, b, at)
    }

    fn pending_enrollments(&self, at: OffsetDateTime) -> Result<Vec<EnrollRecord>, StoreError> {
        self.do_pending_enrollments(at)
    }
}

impl CatalogStore for SqliteStore {
    fn publish_catalog(&self, signed: &SignedCatalog, delta: Option<&SignedCatalogDelta>, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_publish_catalog(signed, delta, at)
    }

    fn catalog_update(&self, since: u64) -> Result<Option<model::protocol::CatalogUpdate>, StoreError> {
        self.do_catalog_update(since)
    }

    fn latest_catalog_version(&self) -> Result<Option<u64>, StoreError> {
        self.do_latest_catalog_version()
    }

    fn latest_catalog(&self) -> Result<Option<SignedCatalog>, StoreError> {
        self.do_latest_catalog()
    }
}

impl RatingStore for SqliteStore {
    fn put_evaluation(&self, terminal: &str, ev: &EvaluationUpload, at: OffsetDateTime) -> Result<PutOutcome, StoreError> {
        self.do_put_evaluation(terminal, ev, at)
    }

    fn followups(&self, open_only: bool) -> Result<Vec<FollowUp>, StoreError> {
        self.do_followups(open_only, None)
    }

    fn followups_of_case(&self, case_number: &str) -> Result<Vec<FollowUp>, StoreError> {
        self.do_followups(false, Some(case_number))
    }

    fn reply_followup(&self, evaluation_id: uuid::Uuid, reply: &str, actor: &str, at: OffsetDateTime) -> Result<FollowUp, StoreError> {
        self.do_reply_followup(evaluation_id, reply, actor, at)
    }

    fn ratings_report(&self) -> Result<Vec<RatingTally>, StoreError> {
        self.do_ratings_report()
    }
}

impl crate::store::MailOrderStore for SqliteStore {
    fn mail_cases_due(&self, since: OffsetDateTime, now: OffsetDateTime, limit: usize) -> Result<Vec<crate::store::MailCase>, StoreError> {
        self.do_mail_cases_due(since, now, limit)
    }

    fn mail_case_done(&self, case: &crate::store::MailCase, outcome: &crate::store::MailOutcome, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_mail_case_done(case, outcome, at)
    }

    fn mail_state(&self, case_number: &str) -> Result<Option<(String, u32, Option<String>)>, StoreError> {
        self.do_mail_state(case_number)
    }
}

impl RatingForwardStore for SqliteStore {
    fn ratings_to_forward(&self, limit: usize) -> Result<Vec<RatingToForward>, StoreError> {
        self.do_ratings_to_forward(limit)
    }

    fn rating_forwarded(&self, evaluation_id: uuid::Uuid, outcome: Result<(), &str>, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_rating_forwarded(evaluation_id, outcome, at)
    }

    fn rating_forward_failed(&self, evaluation_id: uuid::Uuid, why: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_rating_forward_failed(evaluation_id, why, at)
    }
}

impl ProgressStore for SqliteStore {
    fn tag_applicant(&self, terminal: &str, id: SubmissionId, id_number: &model::IdNumber) -> Result<(), StoreError> {
        self.do_tag_applicant(terminal, id, id_number)
    }

    fn progress(&self, lookup: &crate::progress::ProgressLookup<'_>, at: OffsetDateTime) -> Result<Option<Vec<model::protocol::ProgressCase>>, StoreError> {
        self.do_progress(lookup, at)
    }

    fn any_case_result(&self, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.do_any_case_result(case_number)
    }
}

impl SmsStore for SqliteStore {
    fn sms_due(&self, limit: usize) -> Result<Vec<SmsRow>, StoreError> {
        self.do_sms_due(limit)
    }

    fn sms_record(&self, key: &str, update: &SmsUpdate<'_>, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_sms_record(key, update, at)
    }

    fn sms_of_case(&self, case_number: &str) -> Result<Vec<SmsRow>, StoreError> {
        self.do_sms_of_case(case_number)
    }
}

impl AuditStore for SqliteStore {
    fn acknowledge_audit_breaks(&self, terminal: &str, staff: &str, why: &str, at: OffsetDateTime) -> Result<usize, StoreError> {
        self.do_acknowledge_audit_breaks(terminal, staff, why, at)
    }

    fn anchor_audit(&self, terminal: &str, proof: &AuditProof, at: OffsetDateTime) -> Result<(AnchorCheck, AuditHead), StoreError> {
        self.do_anchor_audit(terminal, proof, at)
    }

    fn hub_audit(&self, actor: &str, action: &str, subject: Option<&str>, outcome: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_hub_audit(actor, action, subject, outcome, at)
    }

    fn hub_audit_tail(&self, limit: usize) -> Result<Vec<HubAuditEntry>, StoreError> {
        self.do_hub_audit_tail(limit)
    }

    fn audit_e_license(&self, l: &LookupAudit<'_>, max_people: u64, at: OffsetDateTime) -> Result<i64, StoreError> {
        self.do_audit_e_license(l, max_people, at)
    }

    fn audit_e_license_outcome(&self, seq: i64, outcome: &str) -> Result<(), StoreError> {
        self.do_audit_e_license_outcome(seq, outcome)
    }
}

impl DiagnosticsStore for SqliteStore {
    fn request_diagnostics(&self, terminal: &str, staff: &str, at: OffsetDateTime) -> Result<uuid::Uuid, StoreError> {
        self.do_request_diagnostics(terminal, staff, at)
    }

    fn pending_diagnostics(&self, terminal: &str) -> Result<Option<uuid::Uuid>, StoreError> {
        self.do_pending_diagnostics(terminal)
    }

    fn announce_diagnostics(&self, terminal: &str, id: uuid::Uuid, sha256: &str, size: u64, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_announce_diagnostics(terminal, id, sha256, size, at)
    }

    fn diagnostics_requests(&self) -> Result<Vec<DiagnosticsRecord>, StoreError> {
        self.do_diagnostics_requests()
    }

    fn download_diagnostics(&self, id: uuid::Uuid, staff: &str, at: OffsetDateTime) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.do_download_diagnostics(id, staff, at)
    }
}

impl RolloutStore for SqliteStore {
    fn publish_update(&self, version: &str, sha256: &str, size: u64, by: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_publish_update(version, sha256, size, by, at)
    }

    fn keep_update_bundle(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.do_keep_update_bundle(sha256, bytes)
    }

    fn update_bundle_range(&self, terminal: &str, version: &str, offset: u64, max: u64) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        self.do_update_bundle_range(terminal, version, offset, max)
    }

    fn start_rollout(&self, rollout: &crate::rollout::Rollout, by: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.do_start_rollout(rollout, by, at)
    }

    fn set_rollout_state(&self, version: &str, state: crate::rollout::RolloutState, by: &str, at: OffsetDateTime) -> Result<crate::rollout::Rollout, StoreError> {
        self.do_set_rollout_state(version, state, by, at)
    }

    fn rollouts(&self) -> Result<Vec<crate::rollout::Rollout>, StoreError> {
        self.do_rollouts()
    }

    fn update_target(&self, terminal: &str) -> Result<Option<model::update::UpdateTarget>, StoreError> {
        self.do_update_target(terminal)
    }

    fn record_update_report(&self, terminal: &str, report: &model::update::UpdateReport, at: OffsetDateTime) -> Result<crate::rollout::Change, StoreError> {
        self.do_record_update_report(terminal, report, at)
    }

    fn advance_rollouts(&self, now: OffsetDateTime) -> Result<Vec<(String, crate::rollout::Change)>, StoreError> {
        self.do_advance_rollouts(now)
    }
}

impl RateLimitStore for SqliteStore {
    fn take_token(&self, key: &str, limit: BucketLimit, at: OffsetDateTime) -> Result<bool, StoreError> {
        self.do_take_token(key, limit, at)
    }
}

/// The heartbeat's round as the trait's defaults: each step is a call
/// into this process, none a round trip worth folding.
impl crate::store::HeartbeatStore for SqliteStore {}
