//! Submissions, resumable uploads, commit and clean-up on PostgreSQL.

use std::time::Duration;

use model::protocol::{PutOutcome, UploadStatus};
use model::{CaseNumber, CaseStatus, SubmissionId};
use time::OffsetDateTime;
use tokio_postgres::GenericClient;

use crate::progress::applicant_tag;
use crate::store::{NewSubmission, StoreError, SubmissionStore, SweepReport};

use super::rows::*;
use super::PgStore;

/// The key of applicants' tags (`crate::progress::applicant_tag`).
pub(super) const APPLICANT_SECRET_SQL: &str = "SELECT value FROM hub_secrets WHERE name = 'applicant_tag'";

/// The lookup [`upload_size`] makes first (one round trip, not two).
pub(super) const UPLOAD_SIZE_SQL: &str = "SELECT EXISTS (SELECT 1 FROM submissions WHERE terminal_id = $1 AND id = $2),
        (SELECT size FROM submission_attachments WHERE terminal_id = $1 AND submission_id = $2 AND sha256 = $3)";

/// Size of the upload `(terminal, id, sha256)` may make: a submission's
/// referenced attachment, or an announced diagnostics bundle. `lookup` is
/// [`UPLOAD_SIZE_SQL`], prepared (the upload path asks per chunk).
pub(super) async fn upload_size<S>(c: &impl GenericClient, lookup: &S, terminal: &str, id: SubmissionId, sha256: &str) -> Result<u64, StoreError>
where
    S: tokio_postgres::ToStatement + ?Sized + Sync + Send,
{
    let sid = id.to_string();
    if !terminal.is_empty() {
        let row = c
            .query_one(lookup, &[&terminal, &sid, &sha256])
            .await?;
        if row.try_get::<_, bool>(0)? {
            return match row.try_get::<_, Option<i64>>(1)? {
                Some(size) => Ok(u64_of(size)),
                None => Err(StoreError::NotReferenced { id, sha256: sha256.to_owned() }),
            };
        }
    }
    let size = c.query_opt("SELECT size FROM diagnostics_requests WHERE terminal_id = $1 AND id = $2 AND sha256 = $3", &[&terminal, &sid, &sha256]).await?;
    match size.map(|r| r.try_get::<_, Option<i64>>(0)).transpose()?.flatten() {
        Some(n) => Ok(u64_of(n)),
        None => Err(StoreError::UnknownSubmission(id)),
    }
}

impl PgStore {
    /// [`upload_size`] on a pooled connection, its statement prepared.
    fn size_of_upload(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<u64, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let lookup = client.prepared(UPLOAD_SIZE_SQL).await?;
            upload_size(&*client, &lookup, terminal, id, sha256).await
        })
    }
}

impl SubmissionStore for PgStore {
    fn put_submission(&self, sub: &NewSubmission<'_>) -> Result<PutOutcome, StoreError> {
        if sub.terminal_id.is_empty() {
            return Err(StoreError::UnknownTerminal(String::new()));
        }
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let [insert_submission, stored_hash, insert_attachment, open_quota, lock, secret, tag_applicant] = client.prepared_all([
                "INSERT INTO submissions (terminal_id, id, body, body_sha256, item_code, received_at)
                     VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (terminal_id, id) DO NOTHING",
                "SELECT body_sha256 FROM submissions WHERE terminal_id = $1 AND id = $2",
                // Every attachment in one statement.
                "INSERT INTO submission_attachments (terminal_id, submission_id, sha256, size)
                     SELECT $1, $2, sha, size FROM UNNEST($3::TEXT[], $4::BIGINT[]) AS a (sha, size) ON CONFLICT DO NOTHING",
                "SELECT COUNT(*), COALESCE(SUM((SELECT COALESCE(SUM(a.size), 0) FROM submission_attachments a
                                                         WHERE a.terminal_id = s.terminal_id AND a.submission_id = s.id)), 0)::BIGINT
                         FROM submissions s WHERE s.terminal_id = $1 AND NOT s.committed",
                LOCK_SQL,
                APPLICANT_SECRET_SQL,
                "UPDATE submissions SET applicant_tag = $3 WHERE terminal_id = $1 AND id = $2 AND applicant_tag IS NULL",
            ])
            .await?;
            let tx = client.transaction().await?;
            let id = sub.id.to_string();
            // Statements whose answers nothing sent with them waits for go
            // out together (tokio-postgres pipelines futures polled at
            // once): one round trip each group, not one each statement.
            // They run in order; after a failure the rest fail too, and
            // the first error is the one returned.
            let (locked, inserted, key) = tokio::join!(
                // The quota is counted per terminal: its puts take turns.
                async { tx.execute(&lock, &[&sub.terminal_id]).await },
                async { tx.execute(&insert_submission, &[&sub.terminal_id, &id, &sub.body, &sub.body_sha256, &sub.item_code]).await },
                async {
                    match sub.applicant {
                        Some(_) => tx.query_one(&secret, &[]).await.map(Some),
                        None => Ok(None),
                    }
                },
            );
            locked?;
            let inserted = inserted?;
            // The applicant's keyed tag goes in this transaction: no commit
            // (and WAL flush) of its own.
            let tag = match (key?, sub.applicant) {
                (Some(row), Some(number)) => Some(applicant_tag(&row.try_get::<_, Vec<u8>>(0)?, number)),
                _ => None,
            };
            if inserted == 0 {
                let stored: String = tx.query_one(&stored_hash, &[&sub.terminal_id, &id]).await?.try_get(0)?;
                if stored != sub.body_sha256 {
                    return Err(StoreError::Conflict(sub.id));
                }
                if let Some(tag) = &tag {
                    // A replay tags a row an older hub left untagged.
                    tx.execute(&tag_applicant, &[&sub.terminal_id, &id, tag]).await?;
                    tx.commit().await?;
                }
                return Ok(PutOutcome::Replayed);
            }
            let shas: Vec<&str> = sub.attachments.iter().map(|(sha, _)| *sha).collect();
            let sizes: Vec<i64> = sub.attachments.iter().map(|(_, size)| i64_of(*size)).collect();
            let attachments = async {
                match shas.is_empty() {
                    false => tx.execute(&insert_attachment, &[&sub.terminal_id, &id, &shas, &sizes]).await.map(drop),
                    true => Ok(()),
                }
            };
            let tagged = async {
                match &tag {
                    Some(tag) => tx.execute(&tag_applicant, &[&sub.terminal_id, &id, tag]).await.map(drop),
                    None => Ok(()),
                }
            };
            let counted = async {
                match sub.quota {
                    Some(_) => tx.query_one(&open_quota, &[&sub.terminal_id]).await.map(Some),
                    None => Ok(None),
                }
            };
            let (attached, tagged, counted) = tokio::join!(attachments, tagged, counted);
            attached?;
            tagged?;
            if let (Some(quota), Some(row)) = (sub.quota, counted?) {
                let (open, bytes): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
                let what = if u64_of(open) > quota.max_open {
                    Some(format!("{} uncommitted submissions", quota.max_open))
                } else if u64_of(bytes) > quota.max_bytes {
                    Some(format!("{} attachment bytes in flight", quota.max_bytes))
                } else {
                    None
                };
                if let Some(what) = what {
                    // Dropping the transaction keeps nothing of it.
                    return Err(StoreError::QuotaExceeded { terminal: sub.terminal_id.to_owned(), what });
                }
            }
            tx.commit().await?;
            Ok(PutOutcome::Stored)
        })
    }

    fn submission_body(&self, terminal: &str, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.pool.get()?;
        let sid = id.to_string();
        let row = self.pool.wait(async { client.query_opt("SELECT body FROM submissions WHERE terminal_id = $1 AND id = $2", &[&terminal, &sid]).await })?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    fn upload_status(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<UploadStatus, StoreError> {
        let (size, complete) = self.upload_target(terminal, id, sha256)?;
        let received = if complete { size } else { self.blobs.partial_len(sha256)?.min(size) };
        Ok(UploadStatus { sha256: sha256.to_owned(), size, received, complete })
    }

    fn upload_target(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<(u64, bool), StoreError> {
        let size = self.size_of_upload(terminal, id, sha256)?;
        Ok((size, self.blobs.exists(sha256)?))
    }

    fn append_upload(&self, sha256: &str, size: u64, offset: u64, bytes: &[u8]) -> Result<u64, StoreError> {
        if self.blobs.exists(sha256)? {
            return Ok(size);
        }
        self.blobs.append(sha256, offset, bytes, size)
    }

    fn truncate_upload(&self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        self.blobs.truncate(sha256, offset)
    }

    fn whole_upload_limit(&self) -> u64 {
        self.blobs.whole_limit()
    }

    fn put_whole_upload(&self, sha256: &str, bytes: Vec<u8>) -> Result<PutOutcome, StoreError> {
        // Hashed, then one PUT (a bucket) or one write and rename (a folder).
        self.blobs.put_whole(sha256, bytes)
    }

    fn finish_upload(&self, sha256: &str) -> Result<PutOutcome, StoreError> {
        self.blobs.finish(sha256)
    }

    fn commit(&self, terminal: &str, id: SubmissionId) -> Result<(CaseNumber, Option<String>), StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let [owned, referenced, drawn, draw, open_case, case_event, mark_committed, envelope_of, insert_part, case_of] = client.prepared_all([
                "SELECT 1 FROM submissions WHERE terminal_id = $1 AND id = $2",
                "SELECT sha256 FROM submission_attachments WHERE terminal_id = $1 AND submission_id = $2 ORDER BY sha256",
                "SELECT seq, day FROM case_numbers WHERE terminal_id = $1 AND submission_id = $2",
                "INSERT INTO case_numbers (terminal_id, submission_id, day) VALUES ($1, $2, $3) ON CONFLICT (terminal_id, submission_id) DO NOTHING",
                "INSERT INTO cases (case_number, terminal_id, submission_id, status, created_at, updated_at) VALUES ($1, $2, $3, $4, now(), now())
                     ON CONFLICT (terminal_id, submission_id) DO NOTHING",
                "INSERT INTO case_events (case_number, status, actor, at) VALUES ($1, 'received', $2, now())",
                "UPDATE submissions SET committed = TRUE WHERE terminal_id = $1 AND id = $2",
                "SELECT body, item_code FROM submissions WHERE terminal_id = $1 AND id = $2",
                "INSERT INTO case_parts (case_number, bundle_case, position, item_code, status, updated_at) VALUES ($1, $2, $3, $4, 'received', now())
                         ON CONFLICT (case_number) DO NOTHING",
                "SELECT case_number FROM cases WHERE terminal_id = $1 AND submission_id = $2",
            ])
            .await?;
            let tx = client.transaction().await?;
            let sid = id.to_string();
            if terminal.is_empty() {
                return Err(StoreError::UnknownSubmission(id));
            }
            // Pipelined in groups (see put_submission): what is asked
            // together is sent together.
            let (is_owned, refs, held) = tokio::join!(
                async { tx.query_opt(&owned, &[&terminal, &sid]).await },
                async { tx.query(&referenced, &[&terminal, &sid]).await },
                async { tx.query_opt(&drawn, &[&terminal, &sid]).await },
            );
            if is_owned?.is_none() {
                return Err(StoreError::UnknownSubmission(id));
            }
            let mut missing = Vec::new();
            for r in refs? {
                let sha: String = r.try_get(0)?;
                if !self.blobs.exists(&sha)? {
                    missing.push(sha);
                }
            }
            if !missing.is_empty() {
                return Err(StoreError::MissingAttachments { id, missing });
            }
            // UNIQUE (terminal_id, submission_id) decides: a racing commit on
            // another instance waits on this row and then reads it back. The
            // SELECT first spares the sequence a number per replay.
            let row = match held? {
                Some(row) => row,
                None => {
                    let day = today_cst();
                    let (drew, row) = tokio::join!(
                        async { tx.execute(&draw, &[&terminal, &sid, &day]).await },
                        async { tx.query_one(&drawn, &[&terminal, &sid]).await },
                    );
                    drew?;
                    row?
                }
            };
            let fresh = case_number_for(&row.try_get::<_, String>(1)?, row.try_get(0)?)?;
            let by = format!("terminal {terminal}");
            let (opened, body, stored) = tokio::join!(
                async { tx.execute(&open_case, &[&fresh.as_str(), &terminal, &sid, &CaseStatus::Received.name()]).await },
                async { tx.query_one(&envelope_of, &[&terminal, &sid]).await },
                async { tx.query_one(&case_of, &[&terminal, &sid]).await },
            );
            let (opened, stored): (u64, String) = (opened?, stored?.try_get(0)?);
            let mut item_code = None;
            if opened == 1 {
                // A bundle filing: a case per part, from the envelope's clear header.
                let body = body?;
                item_code = Some(body.try_get::<_, String>(1)?);
                let body: Vec<u8> = body.try_get(0)?;
                let env = model::seal::SealedEnvelope::from_bytes(&body)
                    .map_err(|_| StoreError::Corrupt(format!("the envelope of case {fresh} no longer parses")))?;
                let parts: Vec<(String, i32, &str)> = env
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
                        (format!("{fresh}P{position}"), position, item.as_str())
                    })
                    .collect();
                let (event, marked, parted) = tokio::join!(
                    async { tx.execute(&case_event, &[&fresh.as_str(), &by]).await },
                    async { tx.execute(&mark_committed, &[&terminal, &sid]).await },
                    async {
                        for (number, position, item) in &parts {
                            tx.execute(&insert_part, &[number, &fresh.as_str(), position, item]).await?;
                        }
                        Ok::<_, tokio_postgres::Error>(())
                    },
                );
                event?;
                marked?;
                parted?;
            }
            tx.commit().await?;
            Ok((parse_case_number(&stored)?, item_code))
        })
    }

    fn sweep(&self, uncommitted_before: OffsetDateTime, partial_before: OffsetDateTime) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        let mut client = self.pool.get()?;
        let orphans = self.pool.wait(async {
            let tx = client.transaction().await?;
            // One sweeper at a time across instances.
            tx.execute(LOCK_SQL, &[&"cunban-sweep"]).await?;
            // Uncommitted and old, and no case number drawn for it.
            const STALE: &str = "NOT s.committed AND s.received_at < $1
                AND NOT EXISTS (SELECT 1 FROM case_numbers n WHERE n.terminal_id = s.terminal_id AND n.submission_id = s.id)";
            let mut shas = std::collections::BTreeSet::new();
            let refs = tx
                .query(
                    &format!("DELETE FROM submission_attachments a USING submissions s
                              WHERE a.terminal_id = s.terminal_id AND a.submission_id = s.id AND {STALE} RETURNING a.sha256"),
                    &[&uncommitted_before],
                )
                .await?;
            for r in refs {
                shas.insert(r.try_get::<_, String>(0)?);
            }
            report.submissions += tx.execute(&format!("DELETE FROM submissions s WHERE {STALE}"), &[&uncommitted_before]).await?;
            let mut orphans = Vec::new();
            for sha in shas {
                // A result document in the object store may share the name (same bytes).
                let held = "SELECT 1 FROM submission_attachments WHERE sha256 = $1 UNION ALL SELECT 1 FROM case_results WHERE sha256 = $1 LIMIT 1";
                if tx.query_opt(held, &[&sha]).await?.is_none() {
                    orphans.push(sha);
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(orphans)
        })?;
        for sha in orphans {
            if self.blobs.exists(&sha)? {
                report.attachments += 1;
            } else if self.blobs.partial_len(&sha)? > 0 {
                report.partials += 1;
            }
            self.blobs.remove(&sha)?;
        }
        let before = std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(partial_before.unix_timestamp()).unwrap_or(0));
        for sha in self.blobs.partials()? {
            if self.blobs.drop_stale_partial(&sha, before)? {
                report.partials += 1;
            }
        }
        if report != SweepReport::default() {
            tracing::info!(?report, "clean-up dropped abandoned uploads");
        }
        Ok(report)
    }
}
