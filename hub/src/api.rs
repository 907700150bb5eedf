//! HTTP endpoints, exactly as `model::protocol` describes them (and
//! `/v1/openapi.json` publishes). Submission bodies are sealed envelopes
//! (`model::seal`); attachments are sealed bytes, uploaded resumably.
//!
//! Error messages go back to terminals and into their logs: they name ids,
//! hashes and positions, never a value from the body.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{middleware, Extension, Json, Router};
use http_body_util::BodyExt as _;
use model::protocol::{
    CaseStatusList, CaseStatusQuery, CommitResponse, ELicenseQuery, ErrorBody, ErrorCode, EvaluationAck, EvaluationUpload, Health,
    Heartbeat, HeartbeatAck, PutOutcome, PutResponse, UploadStatus, SERVICE_NAME,
};
use model::document::{DocumentKind, SignedDocument};
use model::operator::OperatorList;
use model::seal::{open_envelope, PlatformSecretKey, SealedEnvelope};
use model::submission::sha256_hex;
use model::SubmissionId;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::auth::{self, Authed};
use crate::connector::{BackOffice, CaseOpened, PlatformConnector};
use crate::store::{LookupAudit, NewSubmission, OpenQuota, Store, StoreError};

/// Largest request body accepted: room for a multi-page scan at kiosk resolution.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// A sealed manifest: the filing's fields and the list of its attachments
/// (the scans themselves are uploaded separately).
pub const MANIFEST_LIMIT: usize = 2 * 1024 * 1024;

/// A heartbeat: counters, a few device lines and alerts. It is kept and
/// shown on the fleet page, so it is kept small.
pub const HEARTBEAT_LIMIT: usize = 16 * 1024;

/// Every other buffered body (case-status queries, evaluations, lookups,
/// enrollment): small JSON.
pub const SMALL_BODY_LIMIT: usize = 64 * 1024;

/// What a terminal's request body may weigh on this route (attachment
/// uploads are streamed and bounded by the envelope's sizes instead).
pub(crate) fn body_limit(method: &axum::http::Method, path: &str) -> usize {
    if method == axum::http::Method::PUT && path.starts_with("/v1/submissions/") && path.matches('/').count() == 3 {
        MANIFEST_LIMIT
    } else if path == "/v1/heartbeat" {
        HEARTBEAT_LIMIT
    } else {
        SMALL_BODY_LIMIT
    }
}

/// Told to a terminal over its quota: come back after a while.
const QUOTA_RETRY_AFTER_SECS: u64 = 600;

/// Bytes of an upload gathered before they are written: large enough that a
/// 5 MB scan is two writes, and a cut loses nothing either way (what is
/// gathered is written when the connection breaks).
const UPLOAD_CHUNK: usize = 4 * 1024 * 1024;

/// Longest silence inside an upload body before the hub keeps what it has
/// and lets the connection go: a stalled 4G link must not hold a task forever.
const UPLOAD_IDLE: Duration = Duration::from_secs(60);

/// Fleet page: a terminal not heard from for this long stands out.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30 * 60);

pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<dyn Store>,
    pub platform_key: Option<Arc<PlatformSecretKey>>,
    pub connector: Arc<dyn PlatformConnector>,
    pub stale_after: Duration,
    pub clock: Clock,
    /// Enrollment (issue 8): per-address limit and the catalog key handed out.
    pub enroll_limit: Arc<crate::enroll::RateLimiter>,
    pub catalog_public_key: Option<model::auth::PublicKey>,
    /// Signs operator lists and terminal configs; terminals pin its public half.
    pub signing_key: Arc<model::auth::SigningKey>,
    /// What one terminal may hold uncommitted.
    pub quota: OpenQuota,
    /// Distinct people one terminal may look up in the e-license library a day.
    pub e_license_people_per_day: u64,
}

impl AppState {
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }
}

/// How a hub runs beyond its store.
#[derive(Clone, Default)]
pub struct HubOptions {
    /// With the platform's private key, the hub checks that each sealed
    /// manifest opens before storing it, so a terminal sealing to the wrong
    /// key learns it at once (422, quarantined there) instead of after a
    /// case number was given out. Without it the hub stores envelopes it
    /// cannot read, as a relay would.
    pub platform_key: Option<Arc<PlatformSecretKey>>,
    /// Where cases go and e-licenses come from; [`BackOffice`] when None.
    pub connector: Option<Arc<dyn PlatformConnector>>,
    /// Fleet page staleness; [`DEFAULT_STALE_AFTER`] when None.
    pub stale_after: Option<Duration>,
    /// The hub's clock (tests move it); the system clock when None.
    pub clock: Option<Clock>,
    /// Handed to terminals at enrollment, so they check pulled catalogs.
    pub catalog_public_key: Option<model::auth::PublicKey>,
    /// `POST /v1/enroll` per client address: (burst, per minute); (10, 30) when None.
    pub enroll_rate: Option<(u32, u32)>,
    /// The hub's signing key (see `signing.rs`). [`crate::Hub::spawn_with`]
    /// and `hub` keep one beside the database; a bare [`router_with`]
    /// without one signs with a key drawn for this process only.
    pub signing_key: Option<Arc<model::auth::SigningKey>>,
    /// Per-terminal limits on uncommitted submissions and their bytes;
    /// [`OpenQuota::default`] when None.
    pub quota: Option<OpenQuota>,
    /// Distinct ID numbers one terminal may look up a day;
    /// [`DEFAULT_E_LICENSE_PEOPLE_PER_DAY`] when None.
    pub e_license_people_per_day: Option<u64>,
    /// Clean-up of abandoned uploads; [`SweepPolicy::default`] when None.
    pub sweep: Option<SweepPolicy>,
}

/// A village kiosk serves a few dozen people a day; a terminal asking about
/// more is being used to query the library, not to file.
pub const DEFAULT_E_LICENSE_PEOPLE_PER_DAY: u64 = 60;

/// When the hub drops what terminals started and never finished.
#[derive(Debug, Clone, Copy)]
pub struct SweepPolicy {
    /// How often the clean-up runs (first at start).
    pub every: Duration,
    /// Uncommitted submissions older than this are dropped (the terminal,
    /// if it still has the filing, sends it again from the start).
    pub uncommitted_after: Duration,
    /// Partial uploads not written to for this long are dropped.
    pub partial_after: Duration,
}

impl Default for SweepPolicy {
    fn default() -> Self {
        SweepPolicy {
            every: Duration::from_secs(3600),
            uncommitted_after: Duration::from_secs(14 * 86_400),
            partial_after: Duration::from_secs(3 * 86_400),
        }
    }
}

impl std::fmt::Debug for HubOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubOptions")
            .field("platform_key", &self.platform_key)
            .field("connector", &self.connector.as_ref().map(|c| c.name()))
            .field("stale_after", &self.stale_after)
            .finish_non_exhaustive()
    }
}

/// The hub's routes over `store`, without the platform key.
pub fn router(store: Arc<dyn Store>) -> Router {
    router_with(store, HubOptions::default())
}

/// The hub's routes over `store`.
pub fn router_with(store: Arc<dyn Store>, options: HubOptions) -> Router {
    let state = AppState {
        store,
        platform_key: options.platform_key,
        connector: options.connector.unwrap_or_else(|| Arc::new(BackOffice)),
        stale_after: options.stale_after.unwrap_or(DEFAULT_STALE_AFTER),
        clock: options.clock.unwrap_or_else(|| Arc::new(OffsetDateTime::now_utc)),
        enroll_limit: Arc::new(crate::enroll::RateLimiter::new(options.enroll_rate.map_or(10, |r| r.0), options.enroll_rate.map_or(30, |r| r.1))),
        catalog_public_key: options.catalog_public_key,
        signing_key: match options.signing_key {
            Some(k) => k,
            None => {
                tracing::warn!("no hub signing key given: operator lists and configs are signed with a key for this process only");
                // The OS always has entropy for a server that is starting; one without it cannot run.
                #[allow(clippy::expect_used)]
                Arc::new(crate::signing::generate().expect("no entropy from the OS for the hub signing key"))
            }
        },
        quota: options.quota.unwrap_or_default(),
        e_license_people_per_day: options.e_license_people_per_day.unwrap_or(DEFAULT_E_LICENSE_PEOPLE_PER_DAY),
    };
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/catalog", get(catalog_handler))
        .route("/v1/terminal/config", get(terminal_config))
        .route("/v1/enroll", post(crate::enroll::enroll))
        .route("/v1/submissions/{id}", put(put_submission))
        .route("/v1/submissions/{id}/attachments/{sha256}", get(upload_status).put(put_attachment))
        .route("/v1/submissions/{id}/commit", post(commit))
        .route("/v1/case-status", post(case_status))
        .route("/v1/cases/{case_number}", get(get_case))
        .route("/v1/cases/{case_number}/result", get(get_result))
        .route("/v1/evaluations/{id}", put(put_evaluation))
        .route("/v1/heartbeat", post(heartbeat))
        .route("/v1/operators", get(operators))
        .route("/v1/e-license/lookup", post(e_license))
        .route("/fleet", get(fleet))
        .route("/", get(|| async { Redirect::temporary("/fleet") }))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::NotFound, "this endpoint does not take that method")
        })
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status, body: ErrorBody { code, message: message.into() } }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, message)
    }

    fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal error")
    }

    pub fn code(&self) -> ErrorCode {
        self.body.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match self.body.code {
            ErrorCode::Busy => Some(HeaderValue::from_static("5")),
            ErrorCode::QuotaExceeded => HeaderValue::from_str(&QUOTA_RETRY_AFTER_SECS.to_string()).ok(),
            _ => None,
        };
        let mut resp = (self.status, Json(self.body)).into_response();
        if let Some(v) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(id) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::DifferentBody,
                format!("this terminal already stored a different body under submission {id}"),
            ),
            StoreError::QuotaExceeded { terminal, what } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::QuotaExceeded,
                format!("terminal {terminal} is over its quota of {what}; send again later"),
            ),
            StoreError::NotYourCase(case) => ApiError::invalid(format!("no case {case} was filed by this terminal")),
            StoreError::AlreadyRated(case) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, format!("case {case} was rated already")),
            StoreError::EvaluationConflict(id) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, format!("evaluation {id} already holds a different body"))
            }
            StoreError::UnknownSubmission(id) => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("submission {id} is not on the hub"))
            }
            StoreError::UnknownCase(_) => ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such case"),
            StoreError::NotReferenced { id, sha256 } => {
                ApiError::invalid(format!("submission {id} does not reference attachment {sha256}"))
            }
            StoreError::MissingAttachments { id, missing } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::MissingAttachments,
                format!("submission {id} is missing attachment(s) {}", missing.join(", ")),
            ),
            e @ StoreError::RangeMismatch { .. } => ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, ErrorCode::RangeMismatch, e.to_string()),
            e @ StoreError::HashMismatch { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::HashMismatch, e.to_string()),
            e @ StoreError::TooLong { .. } => ApiError::invalid(e.to_string()),
            StoreError::EnrollCodeUsed => ApiError::new(StatusCode::GONE, ErrorCode::EnrollCodeUsed, "this enrollment code was already used"),
            StoreError::EnrollCodeExpired => ApiError::new(
                StatusCode::GONE,
                ErrorCode::EnrollCodeExpired,
                "this enrollment code has expired; start enrollment again for a new one",
            ),
            StoreError::TerminalRevoked(id) => ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Revoked, format!("terminal {id} was revoked")),
            e @ (StoreError::UnknownEnrollCode
            | StoreError::EnrollFingerprintMismatch { .. }
            | StoreError::EnrollFingerprintRequired { .. }
            | StoreError::EnrollCodeContested) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, e.to_string())
            }
            StoreError::Busy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, "the hub is busy, try again later"),
            e @ (StoreError::TerminalConflict(_)
            | StoreError::UnknownTerminal(_)
            | StoreError::UnknownOperator(_)
            | StoreError::OperatorRevoked(_)
            | StoreError::WrongCaseStatus { .. }) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, e.to_string())
            }
            e @ (StoreError::Corrupt(_) | StoreError::SchemaTooNew { .. } | StoreError::Sqlite(_) | StoreError::Blob(_) | StoreError::Batch(_) | StoreError::Unseal { .. }) => {
                tracing::error!(error = %e, "store failure");
                ApiError::internal()
            }
        }
    }
}

/// Runs a store call on the blocking pool: SQLite waits on locks and fsync.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "store task failed");
            Err(ApiError::internal())
        }
    }
}

/// A JSON body, or 422 saying where it is wrong (serde's message could quote a value).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("the body is not a {what} ({:?} error at line {} column {})", e.classify(), e.line(), e.column())))
}

fn parse_path_id(s: &str) -> Result<SubmissionId, ApiError> {
    SubmissionId::parse(s).ok_or_else(|| ApiError::invalid("the submission id in the path is not a UUID"))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn put_status(outcome: PutOutcome) -> StatusCode {
    match outcome {
        PutOutcome::Stored => StatusCode::CREATED,
        PutOutcome::Replayed => StatusCode::OK,
    }
}

async fn health() -> Json<Health> {
    Json(Health { service: SERVICE_NAME.to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::document().to_string()).into_response()
}

#[derive(Debug, Deserialize)]
struct SinceQuery {
    since: Option<u64>,
}

async fn catalog_handler(State(st): State<AppState>, query: Result<Query<SinceQuery>, axum::extract::rejection::QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::invalid("since must be a catalog version number"))?;
    let store = st.store.clone();
    match blocking(move || store.latest_catalog()).await? {
        None => Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotAvailable, "this hub publishes no signed catalog")),
        Some(c) if q.since.is_some_and(|s| c.version <= s) => Ok(StatusCode::NO_CONTENT.into_response()),
        Some(c) => Ok(Json(c).into_response()),
    }
}

/// Signs `value` for the calling terminal with the hub's key.
fn signed<T: serde::Serialize>(st: &AppState, kind: DocumentKind, terminal: &str, value: &T) -> Result<Json<SignedDocument>, ApiError> {
    SignedDocument::sign(&st.signing_key, kind, terminal, st.now().unix_timestamp(), value).map(Json).map_err(|e| {
        tracing::error!(error = %e, "cannot sign a document");
        ApiError::internal()
    })
}

async fn terminal_config(State(st): State<AppState>, Extension(auth): Extension<Authed>) -> Result<Json<SignedDocument>, ApiError> {
    let store = st.store.clone();
    let terminal = auth.terminal_id.clone();
    let config = blocking(move || store.terminal_config(&terminal)).await?;
    signed(&st, DocumentKind::TerminalConfig, &auth.terminal_id, &config)
}

async fn put_submission(
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
    if let Some(key) = &st.platform_key {
        let (key, env) = (key.clone(), envelope.clone());
        // Opening costs an X25519 operation and a decryption: off the async threads.
        let opened = tokio::task::spawn_blocking(move || open_envelope(&key, &env).map(drop)).await;
        match opened {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::info!(%id, error = %e, "sealed manifest does not open with the platform key");
                return Err(ApiError::invalid(format!("the sealed submission does not open with the platform key: {e}")));
            }
            Err(e) => {
                tracing::error!(error = %e, "unsealing task failed");
                return Err(ApiError::internal());
            }
        }
    }
    let item_code = envelope.item_code.as_str().to_owned();
    let parts: Vec<(String, u64)> = envelope.attachments.iter().map(|a| (a.sha256.clone(), a.size)).collect();
    drop(envelope);
    let body_sha256 = sha256_hex(&body);

    let store = st.store.clone();
    let item = item_code.clone();
    let terminal = auth.terminal_id.clone();
    let quota = st.quota;
    let outcome = blocking(move || {
        store.put_submission(&NewSubmission {
            id,
            terminal_id: &terminal,
            item_code: &item,
            body: &body,
            body_sha256: &body_sha256,
            attachments: parts.iter().map(|(h, s)| (h.as_str(), *s)).collect(),
            quota: Some(quota),
        })
    })
    .await
    .inspect_err(|e| tracing::info!(%id, terminal = %auth.terminal_id, code = ?e.body.code, "manifest refused"))?;
    tracing::info!(%id, item = %item_code, terminal = %auth.terminal_id, ?outcome, "manifest");
    Ok((put_status(outcome), Json(PutResponse { id, outcome })))
}

fn parse_attachment_path(id: &str, sha256: &str) -> Result<SubmissionId, ApiError> {
    let id = parse_path_id(id)?;
    if !is_sha256_hex(sha256) {
        return Err(ApiError::invalid("the attachment hash in the path is not lowercase hex SHA-256"));
    }
    Ok(id)
}

async fn upload_status(
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
fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b, total) = (a.parse().ok()?, b.parse().ok()?, total.parse().ok()?);
    (a <= b && b < total).then_some((a, b, total))
}

/// Writes gathered bytes at `offset`; returns the bytes held after.
async fn flush(st: &AppState, terminal: &str, id: SubmissionId, sha256: &str, offset: u64, buf: &mut Vec<u8>) -> Result<u64, ApiError> {
    let bytes = std::mem::take(buf);
    let (store, t, s) = (st.store.clone(), terminal.to_owned(), sha256.to_owned());
    blocking(move || store.append_upload(&t, id, &s, offset, &bytes)).await
}

/// A resumable upload: the bytes are written to the store as they arrive,
/// and what arrived stays when the connection breaks, so the terminal
/// resumes from there (see `model::protocol`).
async fn put_attachment(
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
    let mut body = body;
    let mut hasher = (!whole).then(Sha256::new);
    let mut buf: Vec<u8> = Vec::with_capacity(UPLOAD_CHUNK.min(usize::try_from(expected_len).unwrap_or(UPLOAD_CHUNK)));
    let mut written = start; // where `buf` goes
    let mut held = status.received; // bytes the store holds, as its last answer said
    let mut seen: u64 = 0;
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
                    return Err(ApiError::invalid(format!("the body is longer than the range of {expected_len} bytes")));
                }
                if let Some(h) = hasher.as_mut() {
                    h.update(&data);
                }
                buf.extend_from_slice(&data);
                if buf.len() >= UPLOAD_CHUNK {
                    let n = buf.len() as u64;
                    held = flush(&st, &auth.terminal_id, id, &sha256, written, &mut buf).await?;
                    written += n;
                }
            }
        }
    };
    if !buf.is_empty() {
        let n = buf.len() as u64;
        held = flush(&st, &auth.terminal_id, id, &sha256, written, &mut buf).await?;
        written += n;
    }
    if let Some(e) = broke {
        // What arrived is kept; the terminal resumes from it.
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
    if held < status.size {
        // Short of the end (a partial range, or another request is writing): say where it stands.
        let (store, t, s) = (st.store.clone(), auth.terminal_id.clone(), sha256.clone());
        let now = blocking(move || store.upload_status(&t, id, &s)).await?;
        if now.received < now.size || now.complete {
            let code = if now.complete { StatusCode::OK } else { StatusCode::ACCEPTED };
            return Ok((code, Json(now)).into_response());
        }
    }
    let (store, s) = (st.store.clone(), sha256.clone());
    let outcome = blocking(move || store.finish_upload(&s)).await.inspect_err(|e| {
        tracing::warn!(%id, sha256 = %sha256, code = ?e.code(), "upload complete but refused");
    })?;
    tracing::info!(%id, %sha256, ?outcome, "attachment");
    let done = UploadStatus { received: status.size, complete: true, ..status };
    Ok((put_status(outcome), Json(done)).into_response())
}

async fn commit(State(st): State<AppState>, Extension(auth): Extension<Authed>, Path(id): Path<String>) -> Result<Json<CommitResponse>, ApiError> {
    let id = parse_path_id(&id)?;
    let store = st.store.clone();
    let terminal = auth.terminal_id.clone();
    let (case_number, opened) = blocking(move || store.commit(&terminal, id))
        .await
        .inspect_err(|e| tracing::info!(%id, code = ?e.body.code, "commit refused"))?;
    tracing::info!(%id, %case_number, "committed");
    if opened {
        let store = st.store.clone();
        let connector = st.connector.clone();
        let cn = case_number.clone();
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

async fn case_status(State(st): State<AppState>, Extension(auth): Extension<Authed>, body: Bytes) -> Result<Json<CaseStatusList>, ApiError> {
    let q: CaseStatusQuery = parse_json(&body, "case status query")?;
    if q.submission_ids.len() > CaseStatusQuery::MAX {
        return Err(ApiError::invalid(format!("at most {} ids per query", CaseStatusQuery::MAX)));
    }
    let store = st.store.clone();
    let cases = blocking(move || store.case_statuses(&auth.terminal_id, &q.submission_ids)).await?;
    Ok(Json(CaseStatusList { cases }))
}

async fn get_case(State(st): State<AppState>, Extension(auth): Extension<Authed>, Path(case_number): Path<String>) -> Result<Response, ApiError> {
    let store = st.store.clone();
    let cn = case_number.clone();
    let summary = blocking(move || store.case_summary(&cn)).await?;
    // Another terminal's case is "not found" here: case numbers are guessable.
    match summary {
        Some(s) if s.terminal_id.as_deref() == Some(auth.terminal_id.as_str()) => {
            let store = st.store.clone();
            let view = blocking(move || store.case(&case_number)).await?;
            view.map(|v| Json(v).into_response()).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such case"))
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such case")),
    }
}

async fn get_result(State(st): State<AppState>, Extension(auth): Extension<Authed>, Path(case_number): Path<String>) -> Result<Response, ApiError> {
    let store = st.store.clone();
    let result = blocking(move || store.case_result(&auth.terminal_id, &case_number)).await?;
    let Some((media_type, bytes)) = result else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotAvailable, "no result document for this case"));
    };
    let ct = HeaderValue::from_str(&media_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, ct)], bytes).into_response())
}

async fn put_evaluation(
    State(st): State<AppState>,
    Extension(auth): Extension<Authed>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<EvaluationAck>), ApiError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::invalid("the evaluation id in the path is not a UUID"))?;
    let ev: EvaluationUpload = parse_json(&body, "evaluation")?;
    if ev.id != id {
        return Err(ApiError::invalid("the body's id is not the path's id"));
    }
    if ev.evaluation.text.chars().count() > 500 || ev.evaluation.reasons.len() > 20 {
        return Err(ApiError::invalid("an evaluation has at most 500 characters of text and 20 reasons"));
    }
    let store = st.store.clone();
    let now = st.now();
    let terminal = auth.terminal_id.clone();
    let outcome = blocking(move || store.put_evaluation(&terminal, &ev, now)).await?;
    tracing::info!(evaluation = %id, terminal = %auth.terminal_id, ?outcome, "evaluation");
    Ok((put_status(outcome), Json(EvaluationAck { id, outcome })))
}

async fn heartbeat(State(st): State<AppState>, Extension(auth): Extension<Authed>, body: Bytes) -> Result<Json<HeartbeatAck>, ApiError> {
    let hb: Heartbeat = parse_json(&body, "heartbeat")?;
    let store = st.store.clone();
    let now = st.now();
    let ack = blocking(move || {
        store.record_heartbeat(&auth.terminal_id, &hb, now)?;
        let config_version = store.terminal_config(&auth.terminal_id)?.version;
        let catalog_version = store.latest_catalog_version()?;
        Ok(HeartbeatAck { server_time: now, catalog_version, config_version })
    })
    .await?;
    Ok(Json(ack))
}

/// The assistants who may log in on the calling terminal (assisted mode).
/// Over the signed channel: only the terminal itself gets its list.
async fn operators(State(st): State<AppState>, Extension(auth): Extension<Authed>) -> Result<Json<SignedDocument>, ApiError> {
    let store = st.store.clone();
    let terminal = auth.terminal_id.clone();
    let operators = blocking(move || store.operators_for(&terminal)).await?;
    tracing::info!(terminal = %auth.terminal_id, count = operators.len(), "operator list");
    signed(&st, DocumentKind::Operators, &auth.terminal_id, &OperatorList { generated_at: st.now(), operators })
}

/// An e-license lookup on behalf of the villager at the terminal. The hub
/// cannot see who stands there, so what it enforces is: only enrolled,
/// active terminals ask; each is allowed the distinct people a village
/// kiosk serves in a day; and every lookup, allowed or not, is audited
/// (terminal, time, material, ID number masked) so the province can check
/// lookups against the filings that followed.
async fn e_license(State(st): State<AppState>, Extension(auth): Extension<Authed>, body: Bytes) -> Result<Response, ApiError> {
    let q: ELicenseQuery = parse_json(&body, "e-license query")?;
    if q.material_code.is_empty() || q.material_code.chars().count() > 64 || q.material_code.chars().any(char::is_control) {
        return Err(ApiError::invalid("the material code must be 1..64 printable characters"));
    }
    let masked = q.id_number.masked();
    let id_number = zeroize::Zeroizing::new(q.id_number.expose().to_owned());
    let (store, terminal, material, id_masked) = (st.store.clone(), auth.terminal_id.clone(), q.material_code.clone(), masked.clone());
    let (max, now) = (st.e_license_people_per_day, st.now());
    let seq = blocking(move || {
        let lookup = LookupAudit { terminal: &terminal, material_code: &material, id_masked: &id_masked, id_number: &id_number };
        store.audit_e_license(&lookup, max, now)
    })
    .await
    .inspect_err(|e| tracing::warn!(terminal = %auth.terminal_id, material = %q.material_code, id = %masked, code = ?e.body.code, "e-license lookup refused"))?;
    let answer = st.connector.lookup_e_license(&q).await;
    let outcome = match &answer {
        Ok(a) if a.available => "found",
        Ok(_) => "not_found",
        Err(_) => "unavailable",
    };
    tracing::info!(terminal = %auth.terminal_id, material = %q.material_code, id = %masked, outcome, "e-license lookup");
    let store = st.store.clone();
    if let Err(e) = blocking(move || store.audit_e_license_outcome(seq, outcome)).await {
        tracing::warn!(code = ?e.body.code, "e-license audit outcome not recorded");
    }
    match answer {
        Ok(answer) => Ok(Json(answer).into_response()),
        Err(e) => {
            tracing::warn!(connector = st.connector.name(), error = %e, "e-license lookup failed");
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, "the e-license library is not reachable now"))
        }
    }
}

/// The fleet page: staff only (HTTP Basic, a name and token from `hub staff
/// add`), and reading it writes nothing (no flush of the heartbeats written
/// behind: they show a moment later).
async fn fleet(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(refused) = crate::auth::require_staff(&st, &headers).await {
        return Ok(refused);
    }
    let store = st.store.clone();
    let terminals = blocking(move || store.terminals_read_only()).await?;
    Ok(Html(crate::fleet::render(&terminals, st.now(), st.stale_after)).into_response())
}
