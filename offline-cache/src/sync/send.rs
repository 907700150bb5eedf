//! Sending the queue: one submission at a time, its sealed attachments
//! resumably, then the commit; exported filings reconciled first.

use model::protocol::{CaseStatusList, CaseStatusQuery, CommitResponse, ErrorCode, PutResponse, UploadStatus};
use bytes::Bytes;
use model::{CaseNumber, SubmissionId};
use reqwest::{Method, StatusCode};

use crate::error::StoreError;
use crate::outbox::{Outbox, SendItem};
use crate::sealed_row::check_attachment;

use super::outcome::*;
use super::{blocking, SyncClient};

impl SyncClient {
    /// One sealed attachment, resumably: ask how much the hub holds, send
    /// the rest with a Content-Range. A broken upload leaves what arrived on
    /// the hub, and the next attempt starts there.
    /// `idx` is its place in the record, for the local check.
    pub(super) async fn upload_attachment(&self, id: SubmissionId, idx: u32, sha256: &str, bytes: Bytes, first_try: bool, report: &mut SyncReport) -> Result<(), Failure> {
        self.upload_resumable(&format!("/v1/submissions/{id}/attachments/{sha256}"), sha256, bytes, first_try, Some((id, idx)), report).await
    }

    /// The resumable transfer behind attachments and diagnostics bundles:
    /// `path` answers `UploadStatus` to GET and takes the bytes by PUT.
    /// `record` (a submission's attachment): when the hub finds the bytes
    /// do not hash to their name, the local copy is checked, and a damaged
    /// one fails as the record's own damage (quarantined) instead of being
    /// sent again.
    pub(super) async fn upload_resumable(
        &self,
        path: &str,
        sha256: &str,
        bytes: Bytes,
        first_try: bool,
        record: Option<(SubmissionId, u32)>,
        report: &mut SyncReport,
    ) -> Result<(), Failure> {
        let path = path.to_owned();
        let size = bytes.len() as u64;
        let mut restarted = false;
        // On a record's first attempt the hub cannot hold any of it: send
        // without asking first (one round trip less per attachment).
        let mut known = first_try.then(|| UploadStatus { sha256: sha256.to_owned(), size, received: 0, complete: false });
        for _ in 0..6 {
            let status = match known.take() {
                Some(s) => s,
                None => self.call_json(Method::GET, &path, None, "upload status").await?,
            };
            if status.size != size {
                return Err(Failure::Reject(format!("the hub expects {} bytes for attachment {sha256}, the local copy has {size}", status.size)));
            }
            if status.complete {
                report.bytes_resumed += size;
                return Ok(());
            }
            let from = status.received.min(size);
            if from > 0 {
                tracing::info!(%path, from, size, "resuming an upload");
                report.bytes_resumed += from;
            }
            // All held but not yet checked (the last request broke off after
            // its last byte): an empty PUT without a range asks the hub to finish.
            let range = (from < size).then(|| format!("bytes {from}-{}/{size}", size - 1));
            let chunk = bytes.slice(usize::try_from(from).unwrap_or(bytes.len()).min(bytes.len())..);
            let sent = chunk.len() as u64;
            // Sent whole, the body is the attachment itself: its name is its hash.
            let known_sha = (from == 0).then_some(sha256);
            let resp = self.request_bytes(Method::PUT, &path, range.as_deref(), Some((chunk, "application/octet-stream")), known_sha).await?;
            report.bytes_sent += sent;
            match resp.status {
                StatusCode::OK | StatusCode::CREATED => {
                    self.mark_ok();
                    return Ok(());
                }
                // Partial (should not happen: we send to the end) or the hub
                // holds other bytes than we thought: ask again.
                StatusCode::ACCEPTED | StatusCode::RANGE_NOT_SATISFIABLE => continue,
                StatusCode::UNPROCESSABLE_ENTITY if error_code(&resp.body) == Some(ErrorCode::HashMismatch) && !restarted => {
                    // The hub dropped bytes that did not add up: damaged here
                    // (then the record is ours to quarantine) or in transit
                    // (then send it once more from 0). Checked only now: the
                    // hub hashes every upload anyway, so an intact copy is
                    // hashed once, there.
                    if let Some((id, idx)) = record {
                        let (b, s) = (bytes.clone(), sha256.to_owned());
                        match tokio::task::spawn_blocking(move || check_attachment(id, idx, &s, &b)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(damaged)) => return Err(Failure::from(damaged)),
                            Err(e) => return Err(Failure::from(StoreError::TaskFailed(e.to_string()))),
                        }
                    }
                    tracing::warn!(%path, "the hub's copy did not hash right; sending it again");
                    restarted = true;
                    report.bytes_resumed = report.bytes_resumed.saturating_sub(from);
                }
                _ => return Err(self.failure(&resp)),
            }
        }
        Err(Failure::Stop(StopReason::UnexpectedStatus { status: StatusCode::RANGE_NOT_SATISFIABLE.as_u16() }))
    }

    /// Envelope, attachments, commit. Every step is idempotent on the hub, so
    /// a record interrupted anywhere is simply sent again.
    /// `first` is the first attachment's (hash, bytes) as read with the
    /// item, if it was; the others are read as they are sent.
    pub(super) async fn send_one(
        &self,
        outbox: &Outbox,
        item: SendItem,
        mut first: Option<(String, Vec<u8>)>,
        first_try: bool,
        report: &mut SyncReport,
    ) -> Result<CaseNumber, Failure> {
        let id = item.id;
        let put: PutResponse = self.call_json(Method::PUT, &format!("/v1/submissions/{id}"), Some(item.envelope), "manifest upload").await?;
        tracing::debug!(%id, outcome = ?put.outcome, "sealed manifest sent");

        for (idx, sha256) in &item.attachments {
            let ob = outbox.clone();
            let idx = *idx;
            let (stored_sha, bytes) = match first.take() {
                Some(read) => read,
                None => blocking(move || ob.attachment_unchecked(id, idx)).await.map_err(Failure::from)?,
            };
            if &stored_sha != sha256 {
                return Err(Failure::from(StoreError::RecordDamaged { id, what: format!("sealed attachment {idx} changed while it was sent") }));
            }
            // The local copy is checked only if the hub finds it does not
            // hash right (`upload_resumable`): a damaged copy can't be stored
            // either way, the hub naming a blob only by the hash its bytes
            // have, and an intact one is not hashed twice.
            self.upload_attachment(id, idx, sha256, Bytes::from(bytes), first_try, report).await?;
            tracing::debug!(%id, %sha256, "attachment sent");
        }

        let commit: CommitResponse = self.call_json(Method::POST, &format!("/v1/submissions/{id}/commit"), None, "commit").await?;
        if commit.id != id {
            return Err(Failure::Stop(StopReason::CaptivePortal("commit answered for another submission".into())));
        }
        Ok(commit.case_number)
    }

    /// After a stop that may mean another link (or a portal in front of
    /// it), the next round checks the hub's health again.
    pub(super) fn after_stop(&self, report: &SyncReport) {
        if matches!(report.stopped, Some(StopReason::LinkDown(_) | StopReason::Timeout | StopReason::CaptivePortal(_))) {
            *self.last_ok.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Sends what is pending, oldest first, up to the batch size. Contacts
    /// nothing when the queue is empty.
    pub async fn sync_once(&self, outbox: &Outbox) -> SyncReport {
        let report = self.sync_once_inner(outbox).await;
        self.after_stop(&report);
        report
    }

    /// The next batch to send, oldest first; a local store failure stops the round.
    pub(super) async fn pending_batch(&self, outbox: &Outbox, report: &mut SyncReport) -> Option<Vec<crate::OutboxEntry>> {
        let ob = outbox.clone();
        let limit = self.config.batch_size;
        match blocking(move || ob.pending(limit)).await {
            Ok(p) => Some(p),
            Err(e) => {
                report.stopped = Some(StopReason::LocalStore(e.to_string()));
                None
            }
        }
    }

    pub(super) async fn sync_once_inner(&self, outbox: &Outbox) -> SyncReport {
        let mut report = SyncReport::default();
        let Some(pending) = self.pending_batch(outbox, &mut report).await else { return report };
        let Some(head) = pending.first() else {
            return report;
        };
        if let Err(stop) = self.check_health_if_stale().await {
            self.unreachable(outbox, head.id, &stop, pending.len()).await;
            report.stopped = Some(stop);
            return report;
        }
        let Some(pending) = self.reconcile_then_pending(outbox, pending, &mut report).await else { return report };
        self.send_batch(outbox, pending, &mut report).await;
        report
    }

    /// Asks the hub about exported records first (they may have arrived by
    /// `hub import`); those it holds are acknowledged without resending.
    /// Returns what is still pending, or None when the round must stop.
    pub(super) async fn reconcile_then_pending(
        &self,
        outbox: &Outbox,
        pending: Vec<crate::OutboxEntry>,
        report: &mut SyncReport,
    ) -> Option<Vec<crate::OutboxEntry>> {
        match self.reconcile_exported(outbox, report).await {
            Ok(0) => Some(pending),
            Ok(_) => {
                let (ob, limit) = (outbox.clone(), self.config.batch_size);
                match blocking(move || ob.pending(limit)).await {
                    Ok(p) => Some(p),
                    Err(e) => {
                        report.stopped = Some(StopReason::LocalStore(e.to_string()));
                        None
                    }
                }
            }
            Err(Failure::Stop(s)) => {
                report.stopped = Some(s);
                None
            }
            // A hub without the endpoint, or one refusing the query: send as usual.
            Err(Failure::Reject(reason) | Failure::Defer(reason)) => {
                tracing::info!(%reason, "case status of exported records not available; sending them");
                Some(pending)
            }
        }
    }

    pub(super) async fn reconcile_exported(&self, outbox: &Outbox, report: &mut SyncReport) -> Result<usize, Failure> {
        let ob = outbox.clone();
        let ids = blocking(move || ob.exported_unacknowledged(CaseStatusQuery::MAX)).await.map_err(Failure::from)?;
        if ids.is_empty() {
            return Ok(0);
        }
        let body = serde_json::to_vec(&CaseStatusQuery { submission_ids: ids }).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
        let list: CaseStatusList = self.call_json(Method::POST, "/v1/case-status", Some(body), "case status of exported records").await?;
        let mut n = 0;
        for c in list.cases {
            let ob = outbox.clone();
            let (id, cn, status, reason, result, at, parts) =
                (c.submission_id, c.case_number.clone(), c.status, c.reason, c.result_available, c.updated_at, c.parts);
            blocking(move || {
                ob.mark_acknowledged(id, &cn)?;
                ob.record_case_status(id, status, reason.as_deref(), result, at)?;
                ob.record_case_parts(id, &parts)
            })
            .await
            .map_err(Failure::from)?;
            tracing::info!(%id, case = %c.case_number, "acknowledged: the hub holds it from an imported export");
            report.acknowledged.push((id, c.case_number));
            n += 1;
        }
        report.acknowledged_from_import += n;
        Ok(n)
    }

    pub(super) async fn unreachable(&self, outbox: &Outbox, head: SubmissionId, stop: &StopReason, queued: usize) {
        tracing::info!(reason = %stop, queued, "hub not usable, sync stopped");
        let (ob, reason) = (outbox.clone(), stop.to_string());
        if let Err(e) = blocking(move || ob.record_unreachable(head, &reason)).await {
            tracing::warn!(error = %e, "cannot record the failed attempt");
        }
    }

    /// Sends `pending` in order, [`IN_FLIGHT`] records at a time: the next
    /// record's bytes go out while the hub commits the one before (its
    /// fsyncs, its case number). Each record is still sent, answered and
    /// recorded on its own, and answers are recorded in the queue's order.
    /// After a stop no record is started; those already under way finish
    /// and are recorded.
    pub(super) async fn send_batch(&self, outbox: &Outbox, pending: Vec<crate::OutboxEntry>, report: &mut SyncReport) {
        let mut pending = pending.into_iter();
        let mut in_flight = std::collections::VecDeque::new();
        loop {
            while report.stopped.is_none() && in_flight.len() < IN_FLIGHT {
                let Some(entry) = pending.next() else { break };
                let task = self.start_one(outbox, &entry);
                in_flight.push_back((entry, task));
            }
            let Some((entry, task)) = in_flight.pop_front() else { break };
            let (result, sent) = match task.await {
                Ok(done) => done,
                Err(e) => (Err(Failure::Stop(StopReason::LocalStore(format!("a send task failed: {e}")))), SyncReport::default()),
            };
            report.bytes_sent += sent.bytes_sent;
            report.bytes_resumed += sent.bytes_resumed;
            self.record_answer(outbox, &entry, result, report).await;
        }
    }

    /// Marks `entry` as being sent and sends it on a task of its own; the
    /// task answers the outcome and the bytes it sent.
    fn start_one(&self, outbox: &Outbox, entry: &crate::OutboxEntry) -> tokio::task::JoinHandle<(Result<CaseNumber, Failure>, SyncReport)> {
        let (me, outbox, id, first_try) = (self.clone(), outbox.clone(), entry.id, entry.attempts == 0);
        tokio::spawn(async move {
            let mut sent = SyncReport::default();
            let ob = outbox.clone();
            // The first attachment is read in the same trip to the blocking
            // pool (under load every trip waits for a core).
            let item = blocking(move || {
                ob.mark_sending(id)?;
                let item = ob.load_for_send(id)?;
                let first = item.attachments.first().map(|(idx, _)| ob.attachment_unchecked(id, *idx)).transpose()?;
                Ok((item, first))
            })
            .await;
            let result = match item {
                Ok((item, first)) => me.send_one(&outbox, item, first, first_try, &mut sent).await,
                Err(e) => Err(Failure::from(e)),
            };
            (result, sent)
        })
    }

    /// Records the hub's answer for one record in the outbox and the report.
    /// A local store failure, or a stop, sets `report.stopped` (the first stop is kept).
    async fn record_answer(&self, outbox: &Outbox, entry: &crate::OutboxEntry, result: Result<CaseNumber, Failure>, report: &mut SyncReport) {
        let id = entry.id;
        let ob = outbox.clone();
        let mut stop = |reason: StopReason| {
            report.stopped.get_or_insert(reason);
        };
        match result {
            Ok(case_number) => {
                let cn = case_number.clone();
                if let Err(e) = blocking(move || ob.mark_acknowledged(id, &cn)).await {
                    // The hub has it; the row stays 'sending' and the next
                    // sync's replay gets the same case number back.
                    stop(StopReason::LocalStore(e.to_string()));
                    return;
                }
                tracing::info!(%id, item = %entry.item_code, %case_number, "acknowledged");
                report.acknowledged.push((id, case_number));
            }
            Err(Failure::Reject(reason)) => {
                tracing::warn!(%id, item = %entry.item_code, %reason, "refused; quarantined");
                let r = reason.clone();
                if let Err(e) = blocking(move || ob.mark_quarantined(id, &r)).await {
                    stop(StopReason::LocalStore(e.to_string()));
                    return;
                }
                report.quarantined.push((id, reason));
            }
            Err(Failure::Defer(reason)) => {
                // Kept: a later round tries again; the queue's age alert flags it meanwhile.
                tracing::warn!(%id, item = %entry.item_code, %reason, "refused for a reason that may not be ours; kept queued");
                let r = reason.clone();
                if let Err(e) = blocking(move || ob.mark_failed(id, &r)).await {
                    stop(StopReason::LocalStore(e.to_string()));
                    return;
                }
                report.deferred.push((id, reason));
            }
            Err(Failure::Stop(reason)) => {
                tracing::info!(%id, %reason, "sync stopped");
                let r = reason.to_string();
                if let Err(e) = blocking(move || ob.mark_failed(id, &r)).await {
                    tracing::warn!(error = %e, "cannot record the failed attempt");
                }
                stop(reason);
            }
        }
    }
}

/// Records under way at once in [`SyncClient::send_batch`]: two, so one
/// record's transfer overlaps the previous one's commit. More would only
/// split a thin link between uploads and hold more scans in memory.
const IN_FLIGHT: usize = 2;
