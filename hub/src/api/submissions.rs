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
/// written (and hashed) on the blocking pool while the next one arrives.
/// Every write also looks the upload up in the store (a round trip to
/// PostgreSQL), and under load every hand-over to the pool waits for a
/// core: 1 MB chunks measured slower than 4 MB ones, with which a 5 MB scan
/// is two writes. A cut loses nothing either way (what is gathered is
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

/// Starts writing gathered bytes at `offset` on the blocking pool (now, not
/// when awaited); [`landed`] answers the bytes held after.
pub(super) fn start_flush(st: &AppState, terminal: &str, id: SubmissionId, sha256: &str, offset: u64, bytes: Vec<u8>) -> JoinHandle<Result<u64, StoreError>> {
    let (store, t, s) = (st.store.clone(), terminal.to_owned(), sha256.to_owned());
    tokio::task::spawn_blocking(move || store.append_upload(&t, id, &s, offset, &bytes))
}

/// The bytes held after a write [`start_flush`] started.
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
pub(super) async fn flush(st: &AppState, terminal: &str, id: SubmissionId, sha256: &str, offset: u64, buf: &mut Vec<u8>) -> Result<u64, ApiError> {
    landed(start_flush(st, terminal, id, sha256, offset, std::mem::take(buf))).await
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
    let (start, end_incl) = match headers.get(header::CONTENT_RANGE) {
        None => (0, status.size.saturating_sub(1)),
        Some(v) => {
            let (a, b, total) = v
                .to_str()
                .ok()
                .and_then(parse_content_range)
                .ok_or_else(|| ApiError::invalid("Content-Range must be `bytes START-END/SIZE`"))?;
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

    // Sent whole, the signed body hash is the attachment's own name, and the
    // completed file is checked against exactly that: hashing the stream
    // as well would only do the same work twice (a mismatch is then
    // `hash_mismatch`, and the bytes are dropped all the same).
    let whole = start == 0 && expected_len == status.size && auth.body_sha256 == sha256;
    // An object store takes a whole attachment best in one write: gathered
    // here and handed over once complete and checked, instead of chunk
    // objects written, read back and written again. What arrived is still
    // written as a partial every UPLOAD_CHECKPOINT (and when the connection
    // breaks), so an instance dying mid-way loses at most that much of the
    // transfer (streaming in 4 MiB chunks loses up to 8 MiB: on a slow link,
    // minutes), and the upload resumes on any instance.
    let gather = whole && status.received == 0 && status.size <= st.store.whole_upload_limit();
    let mut body = body;
    let mut hasher = (!whole).then(Sha256::new);
    let len = usize::try_from(expected_len).unwrap_or(UPLOAD_CHUNK);
    let capacity = if gather { len } else { UPLOAD_CHUNK.min(len) };
    // Streaming: the bytes not yet handed to the store. Gathering: all of them.
    let mut buf: Vec<u8> = Vec::with_capacity(capacity);
    let mut written = start; // where `buf` (streaming), or its unwritten tail (gathering), goes
    let mut held = status.received; // bytes the store holds, as its last answer said
    let mut seen: u64 = 0;
    // At most one write in flight, while the next chunk arrives: appends
    // land in order, and each waits for the one before it.
    let mut in_flight: Option<JoinHandle<Result<u64, StoreError>>> = None;
    let mut last_frame = Instant::now();
    let mut checkpoint = last_frame + UPLOAD_CHECKPOINT;
    let broke = loop {
        let now = Instant::now();
        if gather && now >= checkpoint {
            checkpoint = now + UPLOAD_CHECKPOINT;
            let from = usize::try_from(written - start).unwrap_or(usize::MAX).min(buf.len());
            if from < buf.len() {
                if let Some(write) = in_flight.take() {
                    held = landed(write).await?;
                }
                in_flight = Some(start_flush(&st, &auth.terminal_id, id, &sha256, written, buf[from..].to_vec()));
                written = start + buf.len() as u64;
            }
        }
        let wait = UPLOAD_IDLE.saturating_sub(now - last_frame);
        let wait = if gather { wait.min(checkpoint - now) } else { wait };
        match tokio::time::timeout(wait, body.frame()).await {
            Err(_) if Instant::now() - last_frame < UPLOAD_IDLE => continue, // a checkpoint is due
            Err(_) => break Some(ApiError::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::Busy, "the upload stalled")),
            Ok(None) => break None,
            Ok(Some(Err(_))) => break Some(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "the upload broke off")),
            Ok(Some(Ok(frame))) => {
                last_frame = Instant::now();
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
                if buf.len() >= UPLOAD_CHUNK && !gather {
                    if let Some(write) = in_flight.take() {
                        held = landed(write).await?;
                    }
                    let n = buf.len() as u64;
                    let chunk = std::mem::replace(&mut buf, Vec::with_capacity(capacity));
                    in_flight = Some(start_flush(&st, &auth.terminal_id, id, &sha256, written, chunk));
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
        let mut unwritten = if gather { buf.split_off(usize::try_from(written - start).unwrap_or(usize::MAX).min(buf.len())) } else { buf };
        if !unwritten.is_empty() {
            let n = unwritten.len() as u64;
            flush(&st, &auth.terminal_id, id, &sha256, written, &mut unwritten).await?;
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
    if gather {
        let (store, t, s, all, checkpointed) = (st.store.clone(), auth.terminal_id.clone(), sha256.clone(), std::mem::take(&mut buf), written > start);
        let outcome = blocking(move || {
            let outcome = store.put_whole_upload(&t, id, &s, all);
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
        let done = UploadStatus { received: status.size, complete: true, ..status };
        return Ok((put_status(outcome), Json(done)).into_response());
    }
    // The last bytes, and the check of the whole once every byte is held,
    // in one trip to the blocking pool (each trip waits for a core under load).
    let (store, t, s, last, size) = (st.store.clone(), auth.terminal_id.clone(), sha256.clone(), std::mem::take(&mut buf), status.size);
    let finished = blocking(move || {
        let held = if last.is_empty() { held } else { store.append_upload(&t, id, &s, written, &last)? };
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
    let done = UploadStatus { received: status.size, complete: true, ..status };
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
    if opened {
        let store = st.store.clone();
        let connector = st.connector.clone();
        let cn = case_number.clone();
        // The villager may have chosen to have the result mailed: the mail
        // outbox's task reads the choice and orders it (durably).
        if let (Some(platform), Some(_)) = (&st.result_mail, &st.platform_key) {
            platform.nudge();
        }
        // Forwarding must not hold the terminal's answer; a failure leaves
        // the case in the back office, where it is not lost.
        tokio::spawn(async move {
            let lookup = cn.clone();
            let item_code = match tokio::task::spawn_blocking(move || store.case(lookup.as_str())).await {
                Ok(Ok(Some(view))) => view.item_code,
                _ => String::new(),
            };
            let case = CaseOpened { case_number: cn, submission_id: id, item_code, terminal_id: auth.terminal_id };
            if let Err(e) = connector.case_opened(&case).await {
                tracing::warn!(case = %case.case_number, connector = connector.name(), error = %e, "forwarding failed; the case stays in the back office");
            }
        });
    }
    Ok(Json(CommitResponse { id, case_number }))
}
