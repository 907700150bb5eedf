//! The outbox: sealed submissions a villager was told are saved, and the
//! minimal index the terminal keeps about them (masked name, keyed hash of
//! the ID number, item, case number, status).
//!
//! The plain submission exists only in memory, for the time it takes to
//! seal it; what reaches the file is the sealed envelope and sealed
//! attachments, which only the platform's private key opens.
//!
//! Here: opening and enqueueing. `queries` reads the index, `states` moves
//! a record along its way (sending, acknowledged, processed, purged);
//! `types` and `rows` are the leaves both use.

mod queries;
mod rows;
mod states;
mod types;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use model::seal::distinct_attachments;
use model::submission::{sha256_hex, AttachmentRef};
use model::{Submission, SubmissionId};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

pub use types::{Alert, Enqueued, OpenReport, OutboxConfig, OutboxEntry, OutboxState, PurgeReport, QueueCounts, SealedCopy, StoreSettings};
pub(crate) use types::SendItem;
use types::Thresholds;
use rows::read_thresholds;

use crate::audit;
use crate::clock::{format_ts, now};
use crate::error::StoreError;
use crate::index::IndexKey;
use crate::schema::{self, MigrationCtx};
use crate::sealed_row::{insert_sealed, seal_with_os_rng, NewRow};
use crate::disk;

struct Inner {
    conn: Mutex<Connection>,
    dir: PathBuf,
    /// None for [`Outbox::inspect`] handles.
    config: Option<OutboxConfig>,
    thresholds: Thresholds,
    index_key: IndexKey,
    report: OpenReport,
}

/// The durable outbox. Cheap to clone; clones share one connection, so the
/// UI session and the sync worker can each hold one.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

impl Outbox {
    /// Opens the kiosk's outbox at `path`, creating it if needed. The file is
    /// integrity-checked first; a damaged one is moved aside (see
    /// [`Outbox::open_report`] and [`Alert::DatabaseMovedAside`]) and a fresh
    /// one started. Then migrations run; unsealed rows of an older version
    /// are sealed to `config.platform_key`.
    pub fn open(path: &Path, config: OutboxConfig) -> Result<Outbox, StoreError> {
        let (mut conn, moved_aside) = schema::open_checked(path)?;
        let ctx = MigrationCtx { platform_key: Some(&config.platform_key), terminal_id: &config.terminal_id };
        let sealed_legacy = schema::migrate(&mut conn, &ctx)?;
        if sealed_legacy {
            schema::scrub(&conn)?;
            tracing::info!("unsealed filings of the previous version sealed; free pages and WAL scrubbed");
        }
        let index_key = IndexKey::load(&conn)?;
        let thresholds = Thresholds { stale_after: config.stale_after, disk_reserve_bytes: config.disk_reserve_bytes };
        {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Tools (kioskctl) read these back to judge alerts as the kiosk does.
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('stale_after_secs', ?1), ('disk_reserve_bytes', ?2), ('terminal_id', ?3)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![
                    i64::try_from(config.stale_after.as_secs()).unwrap_or(i64::MAX),
                    i64::try_from(config.disk_reserve_bytes).unwrap_or(i64::MAX),
                    config.terminal_id
                ],
            )?;
            crate::platform_key::record_at_open(&tx, &config.platform_key, &config.terminal_id)?;
            if let Some(m) = &moved_aside {
                let detail = serde_json::json!({ "moved_to": m.moved_to.display().to_string(), "problem": m.problem }).to_string();
                tx.execute("INSERT INTO alerts (at, kind, detail) VALUES (?1, 'database_moved_aside', ?2)", params![format_ts(m.at), detail])?;
                let file = m.moved_to.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                audit::append(
                    &tx,
                    m.at,
                    &audit::Record {
                        terminal: &config.terminal_id,
                        operator: None,
                        action: "integrity check at start",
                        subject: None,
                        outcome: &format!("failed; damaged database moved aside to {file}"),
                    },
                )?;
            }
            tx.commit()?;
        }
        let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_owned);
        tracing::info!(platform_key = %config.platform_key.fingerprint(), "outbox open");
        Ok(Outbox {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                dir,
                config: Some(config),
                thresholds,
                index_key,
                report: OpenReport { moved_aside, sealed_legacy },
            }),
        })
    }

    /// Opens an existing outbox for a technician's tool: reads only, never
    /// migrates, never moves a damaged file (it reports it), can't enqueue.
    pub fn inspect(path: &Path) -> Result<Outbox, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Io {
                what: "no outbox at",
                path: path.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let corrupt = |e: StoreError| match &e {
            StoreError::Sqlite(inner)
                if matches!(
                    inner.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase)
                ) =>
            {
                StoreError::CorruptDatabase(inner.to_string())
            }
            _ => e,
        };
        let conn = schema::open_connection(path, false).map_err(corrupt)?;
        let version = schema::schema_version(&conn).map_err(corrupt)?;
        if version > schema::CURRENT {
            return Err(StoreError::SchemaTooNew { found: version, known: schema::CURRENT });
        }
        if version < schema::CURRENT {
            return Err(StoreError::SchemaOutdated { found: version, current: schema::CURRENT });
        }
        let index_key = IndexKey::load(&conn).map_err(corrupt)?;
        let thresholds = read_thresholds(&conn).map_err(corrupt)?;
        let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_owned);
        Ok(Outbox {
            inner: Arc::new(Inner { conn: Mutex::new(conn), dir, config: None, thresholds, index_key, report: OpenReport::default() }),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolled that transaction back while unwinding;
        // the connection itself is still sound.
        self.inner.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn config(&self) -> Result<&OutboxConfig, StoreError> {
        self.inner.config.as_ref().ok_or(StoreError::InspectOnly)
    }

    /// The directory holding the database (free space is measured there).
    pub(crate) fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// What happened at open: a damaged file moved aside, legacy rows sealed.
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.report
    }

    /// Refuses early when an attachment of `size` bytes could not be queued,
    /// so the kiosk can say so before the villager scans more pages.
    pub fn check_attachment_size(&self, id: SubmissionId, material_code: &str, size: u64) -> Result<(), StoreError> {
        let limit = self.config()?.max_attachment_bytes;
        if size > limit {
            return Err(StoreError::AttachmentTooLarge { id, material_code: material_code.to_owned(), size, limit });
        }
        Ok(())
    }

    /// Whether a filing of about `bytes` could be accepted now; the kiosk
    /// asks before the villager starts one. [`Outbox::enqueue`] asks again.
    pub fn check_capacity(&self, bytes: u64) -> Result<(), StoreError> {
        let reserve = self.inner.thresholds.disk_reserve_bytes;
        let free = match disk::free_bytes(&self.inner.dir) {
            Ok(f) => f,
            Err(e) => {
                // Unknowable free space shouldn't stop filings; SQLite still
                // refuses atomically if the disk really is full.
                tracing::warn!(error = %e, "cannot read free disk space");
                return Ok(());
            }
        };
        // WAL and database each hold the bytes until a checkpoint.
        let needed = bytes.saturating_mul(2).saturating_add(64 * 1024);
        if free < reserve.saturating_add(needed) {
            return Err(StoreError::DiskReserve { free_bytes: free, reserve_bytes: reserve });
        }
        Ok(())
    }

    /// Durably queues `sub`, sealed, with the bytes of every attachment it
    /// references, in one transaction: when this returns Ok, the villager
    /// may be told it is saved. Queueing the same submission again is Ok
    /// (`replayed`) and writes nothing; the same id with other content is
    /// [`StoreError::Conflict`]. Refused, with nothing written, when an
    /// attachment is over the limit or free space is below the reserve.
    pub fn enqueue(&self, sub: &Submission, attachments: &[(AttachmentRef, Vec<u8>)]) -> Result<Enqueued, StoreError> {
        let cfg = self.config()?;
        let id = sub.id;
        self.check_platform_key(&cfg.platform_key)?;
        // Size first: cheap, and the answer to a huge scan shouldn't wait on hashing it.
        for (r, bytes) in attachments {
            self.check_attachment_size(id, &r.material_code, r.size.max(bytes.len() as u64))?;
        }
        for r in &sub.attachments {
            self.check_attachment_size(id, &r.material_code, r.size)?;
        }
        let mut given: HashMap<&str, &[u8]> = HashMap::new();
        let referenced: HashSet<&str> = sub.attachments.iter().map(|a| a.sha256.as_str()).collect();
        for (r, bytes) in attachments {
            if bytes.len() as u64 != r.size || sha256_hex(bytes) != r.sha256 {
                return Err(StoreError::AttachmentMismatch { id, sha256: r.sha256.clone() });
            }
            if !referenced.contains(r.sha256.as_str()) {
                return Err(StoreError::UnreferencedAttachment { id, sha256: r.sha256.clone() });
            }
            given.insert(r.sha256.as_str(), bytes.as_slice());
        }
        // The submission's own references decide what is sealed, in envelope order.
        let mut ordered: Vec<&[u8]> = Vec::new();
        for r in distinct_attachments(sub) {
            match given.get(r.sha256.as_str()) {
                Some(bytes) if bytes.len() as u64 == r.size => ordered.push(bytes),
                Some(_) => return Err(StoreError::AttachmentMismatch { id, sha256: r.sha256.clone() }),
                None => return Err(StoreError::MissingAttachment { id, sha256: r.sha256.clone() }),
            }
        }
        let key = &self.inner.index_key;
        let content_mac = key.content_mac(&sub.canonical_bytes_zeroizing());
        // A replay is answered without sealing again.
        if let Some(answer) = self.replay_answer(id, &content_mac)? {
            return answer;
        }

        let sealed = seal_with_os_rng(&cfg.platform_key, sub, &ordered)?;
        let size = sealed.envelope.manifest.len() as u64 + sealed.attachments.iter().map(|a| a.bytes.len() as u64).sum::<u64>();
        let operator = sub.agent().map(|a| a.staff_number.as_str());
        if let Err(e) = self.check_capacity(size) {
            tracing::warn!(%id, error = %e, "filing refused: disk below reserve");
            self.audit_best_effort("file submission", Some(id), operator, "refused: free disk below the reserve");
            return Err(e);
        }
        let row = NewRow {
            sub,
            sealed: &sealed,
            content_mac,
            id_number_hash: key.id_number_hash(&sub.applicant.id_number),
            created_at: now(),
            state: "queued",
            case_number: None,
            attempts: 0,
            last_error: None,
        };

        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(sealed_sha256) = insert_sealed(&tx, &row)? else {
            // Queued by another caller between the replay check and now.
            drop(tx);
            drop(conn);
            return self.replay_answer(id, &row.content_mac)?.unwrap_or(Err(StoreError::UnknownSubmission(id)));
        };
        // Beside the row (not in insert_sealed, which the v2 migration also runs).
        tx.execute(
            "UPDATE outbox SET village_code = ?2, trip_id = ?3 WHERE id = ?1",
            params![id.to_string(), sub.village_code.as_str(), sub.filed_by.on_behalf().map(|o| o.trip_id.to_string())],
        )?;
        audit::append(
            &tx,
            row.created_at,
            &audit::Record { terminal: &cfg.terminal_id, operator, action: "file submission", subject: Some(id), outcome: "saved" },
        )?;
        tx.commit()?;
        tracing::info!(%id, item = %sub.item_code, attachments = ordered.len(), "queued, sealed");
        Ok(Enqueued { id, sealed_sha256, replayed: false })
    }

    /// For an id already present: Ok(replayed) if the content is the same, Conflict if not.
    fn replay_answer(&self, id: SubmissionId, content_mac: &str) -> Result<Option<Result<Enqueued, StoreError>>, StoreError> {
        let conn = self.lock();
        let stored: Option<(String, String)> = conn
            .query_row("SELECT content_mac, sealed_sha256 FROM outbox WHERE id = ?1", [id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(stored.map(|(mac, sealed_sha256)| {
            if mac == content_mac {
                Ok(Enqueued { id, sealed_sha256, replayed: true })
            } else {
                Err(StoreError::Conflict(id))
            }
        }))
    }

    fn audit_best_effort(&self, action: &str, subject: Option<SubmissionId>, operator: Option<&str>, outcome: &str) {
        let Some(cfg) = self.inner.config.as_ref() else { return };
        let mut conn = self.lock();
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            audit::append(&tx, now(), &audit::Record { terminal: &cfg.terminal_id, operator, action, subject, outcome })?;
            tx.commit()?;
            Ok::<_, StoreError>(())
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot write the audit entry");
        }
    }

}

#[cfg(test)]
mod case_number_tests {
    use super::*;
    use model::catalog::ImplementCode;
    use model::{CaseNumber, IdNumber};
    use time::OffsetDateTime;
    use model::identity::check_char;
    use model::submission::{Applicant, Consent};
    use model::{CardType, Gender, VillageCode};

    fn submission() -> Submission {
        let first17 = *b"62010219900307123";
        Submission {
            id: SubmissionId::new(),
            item_code: ImplementCode::parse("620000RS0001").unwrap(),
            bundle_code: None,
            parts: Vec::new(),
            catalog_version: None,
            applicant: Applicant {
                name: "张三".into(),
                id_number: IdNumber::parse(&format!("62010219900307123{}", check_char(&first17))).unwrap(),
                card_type: CardType::ResidentId,
                gender: Gender::Male,
                nation_code: "01".into(),
                birth_date: time::macros::date!(1990 - 03 - 07),
                address: "甘肃省兰州市城关区".into(),
            },
            form: Default::default(),
            attachments: vec![],
            e_licenses: vec![],
            consent: Consent { text_version: "v1".into(), given_at: OffsetDateTime::now_utc() },
            filed_by: model::submission::FiledBy::SelfServiceTerminal,
            village_code: VillageCode::parse("620102001001").unwrap(),
            created_at: OffsetDateTime::now_utc(),
            terminal_id: "T-0001".into(),
        }
    }

    #[test]
    fn filed_counts_are_per_item_code_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::generate_platform_key();
        let mut config = OutboxConfig::new(key.public_key(), "T-0001");
        config.disk_reserve_bytes = 0;
        let outbox = Outbox::open(&dir.path().join("outbox.db"), config).unwrap();
        assert!(outbox.filed_counts().unwrap().is_empty());
        let mut other = submission();
        other.item_code = ImplementCode::parse("620000NY0001").unwrap();
        for s in [submission(), submission(), other] {
            outbox.enqueue(&s, &[]).unwrap();
        }
        let counts = outbox.filed_counts().unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!((counts["620000RS0001"], counts["620000NY0001"]), (2, 1));
    }

    #[test]
    fn finds_a_filing_by_its_case_number_even_once_finished() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::generate_platform_key();
        let mut config = OutboxConfig::new(key.public_key(), "T-0001");
        config.disk_reserve_bytes = 0;
        let outbox = Outbox::open(&dir.path().join("outbox.db"), config).unwrap();
        let (done, waiting) = (submission(), submission());
        outbox.enqueue(&done, &[]).unwrap();
        outbox.enqueue(&waiting, &[]).unwrap();
        let case = CaseNumber::parse("62292620261121000123").unwrap();
        outbox.mark_acknowledged(done.id, &case).unwrap();
        outbox.mark_processed(done.id, OffsetDateTime::now_utc()).unwrap();

        let found = outbox.find_by_case_number(&case).unwrap();
        assert_eq!(found.iter().map(|e| (e.id, e.state)).collect::<Vec<_>>(), [(done.id, OutboxState::Processed)]);
        assert!(outbox.find_by_case_number(&CaseNumber::parse("62292620261121000999").unwrap()).unwrap().is_empty());
    }
}
