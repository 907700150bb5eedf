//! Submissions: the sealed manifest, resumable attachment uploads, commit.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http_body_util::BodyExt as _;
use model::protocol::{
    CommitResponse, ErrorCode, PutResponse, UploadStatus,
};
use model::seal::{open_envelope, SealedEnvelope};
use model::SubmissionId;
use sha2::{Digest as _, Sha256};
use tokio::task::JoinHandle;

use crate::auth::Authed;
use crate::connector::CaseOpened;
use crate::store::{NewSubmission, StoreError};

use super::error::*;
use super::state::*;

/// Bytes of an upload gathered before they are written. Each chunk is
/// written (and hashed) on the blocking pool while the next one arrives
/// (its size is the one looked up once per request), and under load every
/// hand-over to the pool waits for a core: 1 MB chunks measured slower
/// than 4 MB ones, with which a 5 MB scan is two writes. A cut loses nothing either way (what is gathered is
/// written when the connection breaks).
pub(super) const UPLOAD_CHUNK: usize = 4 * 1024 * 1024;

/// Longest silence inside an upload body before the hub keeps what it has
/// and lets the connection go: a stalled 4G link must not hold a task forever.
pub(super) const UPLOAD_IDLE: Duration = Duration::from_secs(60);

/// While an attachment is gathered whole for an object store, what arrived
/// is written as a partial this often (see `put_attachment`).
pub(super) const UPLOAD_CHECKPOINT: Duration = Duration::from_secs(2);

pub(super) fn parse_path_id(s: &str) -> Result<SubmissionId, ApiError> {
    SubmissionId::parse(s).ok_or_else(|| ApiError::invalid("the submission id in the path is not a UUID"))
}

pub(super) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(super) async fn put_submission(
    State(st): State<AppState>,
    Extension(auth): Extension<Authed>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<PutResponse>), ApiError> {
    let id = parse_path_id(&id)?;
    // The body is sealed: what can be checked without the key is its shape
    // and clear header. Messages say where, never what (SealError is careful).
    let envelope = SealedEnvelope::from_bytes(&body).map_err(|e| ApiError::invalid(e.to_string()))?;
    envelope.check_shape().map_err(|e| ApiError::invalid(e.to_string()))?;
    if envelope.id != id {
        return Err(ApiError::invalid(format!("the body's id is not the path's id {id}")));
    }
    // Uploads are streamed to disk up to the sizes listed here: cap them.
    if let Some((i, a)) = envelope.attachments.iter().enumerate().find(|(_, a)| a.size > BODY_LIMIT as u64) {
        return Err(ApiError::invalid(format!("attachment {i} is {} bytes, over the limit of {BODY_LIMIT}", a.size)));
    }
    let item_code = envelope.item_code.as_str().to_owned();
    let parts: Vec<(String, u64)> = envelope.attachments.iter().map(|a| (a.sha256.clone(), a.size)).collect();
    // The auth layer checked this buffered body against the signed hash.
    let body_sha256 = auth.body_sha256.clone();

    // Opening and storing (with the applicant's tag) in one trip to the
    // blocking pool: under load each trip waits for a core.
    let (store, key, item, terminal, quota) = (st.store.clone(), st.platform_key.clone(), item_code.clone(), auth.terminal_id.clone(), st.quota);
    let stored = tokio::task::spawn_blocking(move || {
        // The applicant's number, from the opened filing: only its keyed
        // hash is kept (progress at any terminal, issue 16). Opening costs
        // an X25519 operation and a decryption: off the async threads.
        let applicant = match &key {
            Some(key) => match open_envelope(key, &envelope) {
                Ok(opened) => Some(opened.submission.applicant.id_number.clone()),
                Err(e) => return Err(e.to_string()),
            },
            None => None,
        };
        drop(envelope);
        // The applicant's tag is written with the manifest, in its transaction.
        let outcome = store.put_submission(&NewSubmission {
            id,
            terminal_id: &terminal,
            item_code: &item,
            body: &body,
            body_sha256: &body_sha256,
            attachments: parts.iter().map(|(h, s)| (h.as_str(), *s)).collect(),
            quota: Some(quota),
            applicant: applicant.as_ref(),
        });
        Ok(outcome)
    })
    .await;
    let outcome = match stored {
        Ok(Ok(outcome)) => outcome
            .map_err(ApiError::from)
            .inspect_err(|e| tracing::info!(%id, terminal = %auth.terminal_id, code = ?e.code(), "manifest refused"))?,
        Ok(Err(e)) => {
            tracing::info!(%id, error = %e, "sealed manifest does not open with the platform key");
            return Err(ApiError::invalid(format!("the sealed submission does not open with the platform key: {e}")));
        }
        Err(e) => {
            tracing::error!(error = %e, "manifest task failed");
            return Err(ApiError::internal());
        }
    };
    tracing::info!(%id, item = %item_code, terminal = %auth.terminal_id, ?outcome, "manifest");
    Ok((put_status(outcome), Json(PutResponse { id, outcome })))
}

pub(super) fn parse_attachment_path(id: &str, sha256: &str) -> Result<SubmissionId, ApiError> {
    let id = parse_path_id(id)?;
    if !is_sha256_hex(sha256) {
        return Err(ApiError::invalid("the attachment hash in the path is not lowercase hex SHA-256"));
    }
    Ok(id)
}

pub(super) async fn upload_status(
    State(st): State<AppState>,
    Extension(auth): Extension<Authed>,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<Json<UploadStatus>, ApiError> {
    let id = parse_attachment_path(&id, &sha256)?;
    let store = st.store.clone();
    let status = blocking(move || store.upload_status(&auth.terminal_id, id, &sha256)).await?;
    Ok(Json(status))
}

/// `Content-Range: bytes START-END/SIZE` → (START, END inclusive, SIZE).
pub(super) fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b, total) = (a.parse().ok()?, b.parse().ok()?, total.parse().ok()?);
    (a <= b && b < total).then_some((a, b, total))
}

/// Starts writing gathered bytes at `offset` of an upload of `size` bytes
/// on the blocking pool (now, not when awaited); [`landed`] answers the
/// bytes held after.
pub(super) fn start_flush(st: &AppState, sha256: &str, size: u64, offset: u64, bytes: Vec<u8>) -> JoinHandle<Result<u64, StoreError>> {
    let (store, s) = (st.store.clone(), sha256.to_owned());
    tokio::task::spawn_blocking(move || store.append_upload(&s, size, offset, &bytes))
}

/// The answer of a store task ([`start_flush`]: the bytes held after).
pub(super) async fn landed(write: JoinHandle<Result<u64, StoreError>>) -> Result<u64, ApiError> {
    match write.await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "store task failed");
            Err(ApiError::internal())
        }
    }
}

/// Writes gathered bytes at `offset`; returns the bytes held after.
pub(super) async fn flush(st: &AppState, sha256: &str, size: u64, offset: u64, buf: &mut Vec<u8>) -> Result<u64, ApiError> {
    landed(start_flush(st, sha256, size, offset, std::mem::take(buf))).await
}

/// A resumable upload: the bytes are written to the store as they arrive,
/// and what arrived stays when the connection breaks, so the terminal
/// resumes from there (see `model::protocol`).
pub(super) async fn put_attachment(
    State(st): State<AppState>,
    Extension(auth): Extension<Authed>,
    Path((id, sha256)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = parse_attachment_path(&id, &sha256)?;
    let range = match headers.get(header::CONTENT_RANGE) {
        None => None,
        Some(v) => Some(v.to_str().ok().and_then(parse_content_range).ok_or_else(|| ApiError::invalid("Content-Range must be `bytes START-END/SIZE`"))?),
    };
    // All of an attachment from 0 whose signed body hash is its name, for a
    // store that takes such a one best in one write (an object store).
    let whole_size = match range {
        Some((0, end, size)) if end + 1 == size => Some(size),
        Some(_) => None,
        // No range: the body is all of it, as long as it says.
        None => headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok()).filter(|n| *n > 0),
    };
    if let Some(size) = whole_size.filter(|n| *n <= st.store.whole_upload_limit() && auth.body_sha256 == sha256) {
        return put_whole(st, auth, id, sha256, size, body).await;
    }
    let (store, t, s) = (st.store.clone(), auth.terminal_id.clone(), sha256.clone());
    let status = blocking(move || store.upload_status(&t, id, &s)).await?;
    if status.complete {
        return Ok((StatusCode::OK, Json(status)).into_response());
    }
    if status.received == status.size && status.size > 0 {
        // Every byte arrived but the request that brought the last ones
        // ended before checking them (its connection dropped): check now.
        // Whatever this request carries is not needed.
        let (store, s) = (st.store.clone(), sha256.clone());
        let outcome = blocking(move || store.finish_upload(&s)).await?;
        tracing::info!(%id, %sha256, ?outcome, "attachment completed from held bytes");
        let done = UploadStatus { complete: true, ..status };
        return Ok((put_status(outcome), Json(done)).into_response());
    }
    let (start, end_incl) = match range {
        None => (0, status.size.saturating_sub(1)),
        Some((a, b, total)) => {
            if total != status.size {
                return Err(ApiError::invalid(format!("attachment {sha256} has {} bytes, not {total}", status.size)));
            }
            (a, b)
        }
    };
    if start > status.received {
        return Err(StoreError::RangeMismatch { sha256, offset: start, received: status.received }.into());
    }
    let expected_len = if status.size == 0 { 0 } else { end_incl - start + 1 };
    let size = status.size;

    // Sent whole, the signed body hash is the attachment's own name, and the
    // completed file is checked against exactly that: hashing the stream
    // as well would only do the same work twice (a mismatch is then
    // `hash_mismatch`, and the bytes are dropped all the same).
    let whole = start == 0 && expected_len == size && auth.body_sha256 == sha256;
    let mut body = body;
    let mut hasher = (!whole).then(Sha256::new);
    let capacity = UPLOAD_CHUNK.min(usize::try_from(expected_len).unwrap_or(UPLOAD_CHUNK));
    // The bytes not yet handed to the store.
    let mut buf: Vec<u8> = Vec::with_capacity(capacity);
    let mut written = start; // where `buf` goes
    let mut held = status.received; // bytes the store holds, as its last answer said
    let mut seen: u64 = 0;
    // At most one write in flight, while the next chunk arrives: appends
    // land in order, and each waits for the one before it.
    let mut in_flight: Option<JoinHandle<Result<u64, StoreError>>> = None;
    let broke = loop {
        match tokio::time::timeout(UPLOAD_IDLE, body.frame()).await {
            Err(_) => break Some(ApiError::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::Busy, "the upload stalled")),
            Ok(None) => break None,
            Ok(Some(Err(_))) => break Some(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "the upload broke off")),
            Ok(Some(Ok(frame))) => {
                let Ok(data) = frame.into_data() else { continue };
                seen += data.len() as u64;
                if seen > expected_len {
                    buf.clear();
                    if let Some(write) = in_flight.take() {
                        // Bytes within the range: kept, as a cut would keep them.
                        let _ = landed(write).await;
                    }
                    return Err(ApiError::invalid(format!("the body is longer than the range of {expected_len} bytes")));
                }
                if let Some(h) = hasher.as_mut() {
                    h.update(&data);
                }
                buf.extend_from_slice(&data);
                if buf.len() >= UPLOAD_CHUNK {
                    if let Some(write) = in_flight.take() {
                        held = landed(write).await?;
                    }
                    let n = buf.len() as u64;
                    let chunk = std::mem::replace(&mut buf, Vec::with_capacity(capacity));
                    in_flight = Some(start_flush(&st, &sha256, size, written, chunk));
                    written += n;
                }
            }
        }
    };
    if let Some(write) = in_flight.take() {
        held = landed(write).await?;
    }
    if let Some(e) = broke {
        // What arrived is kept; the terminal resumes from it.
        if !buf.is_empty() {
            let n = buf.len() as u64;
            flush(&st, &sha256, size, written, &mut buf).await?;
            written += n;
        }
        tracing::info!(%id, %sha256, kept_to = written, "upload broke off");
        return Err(e);
    }
    if seen != expected_len {
        // A body that ended cleanly but short is malformed, not broken: keep nothing of it.
        let (store, s) = (st.store.clone(), sha256.clone());
        blocking(move || store.truncate_upload(&s, start)).await?;
        return Err(ApiError::invalid(format!("the body has {seen} bytes, the range {expected_len}")));
    }
    if hasher.is_some_and(|h| hex::encode(h.finalize()) != auth.body_sha256) {
        // Not what the terminal signed: drop what this request added.
        let (store, s) = (st.store.clone(), sha256.clone());
        blocking(move || store.truncate_upload(&s, start)).await?;
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, "the body does not hash to the signed value"));
    }
    // The last bytes, and the check of the whole once every byte is held,
    // in one trip to the blocking pool (each trip waits for a core under load).
    let (store, s, last) = (st.store.clone(), sha256.clone(), std::mem::take(&mut buf));
    let finished = blocking(move || {
        let held = if last.is_empty() { held } else { store.append_upload(&s, size, written, &last)? };
        Ok((held >= size).then(|| store.finish_upload(&s)))
    })
    .await?;
    let finished = match finished {
        Some(outcome) => outcome.map_err(ApiError::from),
        None => {
            // Short of the end (a partial range, or another request is writing): say where it stands.
            let (store, t, s) = (st.store.clone(), auth.terminal_id.clone(), sha256.clone());
            let now = blocking(move || store.upload_status(&t, id, &s)).await?;
            if now.received < now.size || now.complete {
                let code = if now.complete { StatusCode::OK } else { StatusCode::ACCEPTED };
                return Ok((code, Json(now)).into_response());
            }
            let (store, s) = (st.store.clone(), sha256.clone());
            blocking(move || store.finish_upload(&s)).await
        }
    };
    let outcome = finished.inspect_err(|e| {
        tracing::warn!(%id, sha256 = %sha256, code = ?e.code(), "upload complete but refused");
    })?;
    tracing::info!(%id, %sha256, ?outcome, "attachment");
    let done = UploadStatus { received: size, complete: true, ..status };
    Ok((put_status(outcome), Json(done)).into_response())
}

/// The bytes a checkpoint or a cut must still write (from `written` on).
fn unwritten(buf: &[u8], written: u64) -> &[u8] {
    &buf[usize::try_from(written).unwrap_or(usize::MAX).min(buf.len())..]
}

/// The look-up `put_whole` starts: the upload's size, and whether it is complete.
type Lookup = JoinHandle<Result<(u64, bool), StoreError>>;

/// Awaits the look-up `put_whole` started (once; later calls answer what
/// it said): the upload must be the terminal's to make, at the size its
/// range says, before any byte is written. True when it is complete already.
/// An error ends the request (every caller returns it).
async fn checked(lookup: &mut Result<Lookup, bool>, sha256: &str, size: u64) -> Result<bool, ApiError> {
    let job = match std::mem::replace(lookup, Err(false)) {
        Err(complete) => {
            *lookup = Err(complete);
            return Ok(complete);
        }
        Ok(job) => job,
    };
    let (known, complete) = match job.await {
        Ok(r) => r.map_err(ApiError::from)?,
        Err(e) => {
            tracing::error!(error = %e, "store task failed");
            return Err(ApiError::internal());
        }
    };
    if known != size {
        return Err(ApiError::invalid(format!("attachment {sha256} has {known} bytes, not {size}")));
    }
    *lookup = Err(complete);
    Ok(complete)
}

/// A whole attachment (from 0, its signed body hash its name) for a store
/// that takes one best in one write, an object store: gathered in memory
/// and handed over complete, hashed and then stored with one PUT, instead
/// of chunk objects written, read back and written again. The look-up (is
/// it the terminal's to send, at this size, and complete already?) runs
/// while the bytes arrive; chunks a broken earlier try left are not looked
/// for (a terminal resumes such a one from its status, never whole from
/// 0; the sweep drops what nobody finished). What arrived is still written as a
/// partial every UPLOAD_CHECKPOINT (and when the connection breaks), so an
/// instance dying mid-way loses at most that much of the transfer
/// (streaming in 4 MiB chunks loses up to 8 MiB: on a slow link, minutes),
/// and the upload resumes on any instance.
async fn put_whole(st: AppState, auth: Authed, id: SubmissionId, sha256: String, size: u64, mut body: Body) -> Result<Response, ApiError> {
    let (store, t, s) = (st.store.clone(), auth.terminal_id.clone(), sha256.clone());
    let mut lookup: Result<Lookup, bool> = Ok(tokio::task::spawn_blocking(move || store.upload_target(&t, id, &s)));
    let len = usize::try_from(size).map_err(|_| ApiError::invalid("the attachment is too large"))?;
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    let mut written: u64 = 0; // what checkpoints wrote: buf[..written]
    let mut in_flight: Option<JoinHandle<Result<u64, StoreError>>> = None;
    let mut last_frame = Instant::now();
    let mut checkpoint = last_frame + UPLOAD_CHECKPOINT;
    let broke = loop {
        let now = Instant::now();
        if now >= checkpoint {
            checkpoint = now + UPLOAD_CHECKPOINT;
            if !unwritten(&buf, written).is_empty() && !checked(&mut lookup, &sha256, size).await? {
                if let Some(write) = in_flight.take() {
                    landed(write).await?;
                }
                in_flight = Some(start_flush(&st, &sha256, size, written, unwritten(&buf, written).to_vec()));
                written = buf.len() as u64;
            }
        }
        let wait = UPLOAD_IDLE.saturating_sub(now - last_frame).min(checkpoint - now);
        match tokio::time::timeout(wait, body.frame()).await {
            Err(_) if Instant::now() - last_frame < UPLOAD_IDLE => continue, // a checkpoint is due
            Err(_) => break Some(ApiError::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::Busy, "the upload stalled")),
            Ok(None) => break None,
            Ok(Some(Err(_))) => break Some(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "the upload broke off")),
            Ok(Some(Ok(frame))) => {
                last_frame = Instant::now();
                let Ok(data) = frame.into_data() else { continue };
                if buf.len() + data.len() > len {
                    if let Some(write) = in_flight.take() {
                        // Bytes within the range: kept, as a cut would keep them.
                        let _ = landed(write).await;
                    }
                    return Err(ApiError::invalid(format!("the body is longer than the range of {size} bytes")));
                }
                buf.extend_from_slice(&data);
            }
        }
    };
    if let Some(write) = in_flight.take() {
        landed(write).await?;
    }
    if let Some(e) = broke {
        // What arrived is kept (once it is known to be the terminal's); the terminal resumes from it.
        if !unwritten(&buf, written).is_empty() && !checked(&mut lookup, &sha256, size).await? {
            let mut rest = unwritten(&buf, written).to_vec();
            flush(&st, &sha256, size, written, &mut rest).await?;
            written = buf.len() as u64;
        }
        tracing::info!(%id, %sha256, kept_to = written, "upload broke off");
        return Err(e);
    }
    let complete = checked(&mut lookup, &sha256, size).await?;
    let checkpointed = written > 0;
    if buf.len() != len {
        // A body that ended cleanly but short is malformed, not broken: keep nothing of it.
        if checkpointed {
            let (store, s) = (st.store.clone(), sha256.clone());
            blocking(move || store.truncate_upload(&s, 0)).await?;
        }
        return Err(ApiError::invalid(format!("the body has {} bytes, the range {size}", buf.len())));
    }
    let done = UploadStatus { sha256: sha256.clone(), size, received: size, complete: true };
    if complete {
        // Held already: a replay, nothing to store.
        return Ok((StatusCode::OK, Json(done)).into_response());
    }
    let (store, s) = (st.store.clone(), sha256.clone());
    let outcome = blocking(move || {
        let outcome = store.put_whole_upload(&s, buf);
        if checkpointed && matches!(outcome, Ok(_) | Err(StoreError::HashMismatch { .. })) {
            // The partial written on the way is not needed (or is wrong) now.
            store.truncate_upload(&s, 0)?;
        }
        outcome
    })
    .await
    .inspect_err(|e| {
        tracing::warn!(%id, sha256 = %sha256, code = ?e.code(), "upload complete but refused");
    })?;
    tracing::info!(%id, %sha256, ?outcome, "attachment");
    Ok((put_status(outcome), Json(done)).into_response())
}

pub(super) async fn commit(State(st): State<AppState>, Extension(auth): Extension<Authed>, Path(id): Path<String>) -> Result<Json<CommitResponse>, ApiError> {
    let id = parse_path_id(&id)?;
    let store = st.store.clone();
    let terminal = auth.terminal_id.clone();
    let (case_number, opened) = blocking(move || store.commit(&terminal, id))
        .await
        .inspect_err(|e| tracing::info!(%id, code = ?e.code(), "commit refused"))?;
    tracing::info!(%id, %case_number, "committed");
    if let Some(item_code) = opened {
        let connector = st.connector.clone();
        // The villager may have chosen to have the result mailed: the mail
        // outbox's task reads the choice and orders it (durably).
        if let (Some(platform), Some(_)) = (&st.result_mail, &st.platform_key) {
            platform.nudge();
        }
        // Forwarding must not hold the terminal's answer; a failure leaves
        // the case in the back office, where it is not lost. The item code
        // came with the commit: nothing is read back.
        let case = CaseOpened { case_number: case_number.clone(), submission_id: id, item_code, terminal_id: auth.terminal_id };
        tokio::spawn(async move {
            if let Err(e) = connector.case_opened(&case).await {
                tracing::warn!(case = %case.case_number, connector = connector.name(), error = %e, "forwarding failed; the case stays in the back office");
            }
        });
    }
    Ok(Json(CommitResponse { id, case_number }))
}
