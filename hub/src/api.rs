//! HTTP endpoints, exactly as `model::protocol` describes them. Submission
//! bodies are sealed envelopes (`model::seal`); attachments are sealed bytes.
//!
//! Error messages go back to terminals and into their logs: they name ids,
//! hashes and positions, never a value from the body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use model::protocol::{CommitResponse, ErrorBody, ErrorCode, Health, PutOutcome, PutResponse, SERVICE_NAME};
use model::seal::{open_envelope, PlatformSecretKey, SealedEnvelope};
use model::submission::sha256_hex;
use model::{Catalog, SubmissionId};

use crate::store::{NewSubmission, Store, StoreError};

/// Largest request body accepted: room for a multi-page scan at kiosk resolution.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone)]
struct AppState {
    store: Arc<dyn Store>,
    /// Serialised once: the starter catalog doesn't change while the hub runs.
    catalog: Bytes,
    platform_key: Option<Arc<PlatformSecretKey>>,
}

/// How a hub runs beyond its store.
#[derive(Debug, Clone, Default)]
pub struct HubOptions {
    /// With the platform's private key, the hub checks that each sealed
    /// manifest opens before storing it, so a terminal sealing to the wrong
    /// key learns it at once (422, quarantined there) instead of after a
    /// case number was given out. Without it the hub stores envelopes it
    /// cannot read, as a relay would.
    pub platform_key: Option<Arc<PlatformSecretKey>>,
}

/// The hub's routes over `store`, without the platform key.
pub fn router(store: Arc<dyn Store>) -> Router {
    router_with(store, HubOptions::default())
}

/// The hub's routes over `store`.
pub fn router_with(store: Arc<dyn Store>, options: HubOptions) -> Router {
    let catalog = match serde_json::to_vec(&Catalog::starter()) {
        Ok(v) => Bytes::from(v),
        // Plain data always serialises; fall back to the compiled-in text all the same.
        Err(_) => Bytes::from_static(Catalog::starter_json().as_bytes()),
    };
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/catalog", get(catalog_handler))
        .route("/v1/submissions/{id}", put(put_submission))
        .route("/v1/submissions/{id}/attachments/{sha256}", put(put_attachment))
        .route("/v1/submissions/{id}/commit", post(commit))
        .route("/v1/cases/{case_number}", get(get_case))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such endpoint") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(AppState { store, catalog, platform_key: options.platform_key })
}

#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status, body: ErrorBody { code, message: message.into() } }
    }

    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, message)
    }

    fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let busy = self.body.code == ErrorCode::Busy;
        let mut resp = (self.status, Json(self.body)).into_response();
        if busy {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(id) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, format!("submission {id} already holds a different body"))
            }
            StoreError::UnknownSubmission(id) => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("submission {id} is not on the hub"))
            }
            StoreError::NotReferenced { id, sha256 } => {
                ApiError::invalid(format!("submission {id} does not reference attachment {sha256}"))
            }
            StoreError::MissingAttachments { id, missing } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::MissingAttachments,
                format!("submission {id} is missing attachment(s) {}", missing.join(", ")),
            ),
            StoreError::Busy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, "the hub is busy, try again later"),
            e @ (StoreError::Corrupt(_) | StoreError::SchemaTooNew { .. } | StoreError::Sqlite(_) | StoreError::Unseal { .. }) => {
                tracing::error!(error = %e, "store failure");
                ApiError::internal()
            }
        }
    }
}

/// Runs a store call on the blocking pool: SQLite waits on locks and fsync.
async fn blocking<T, F>(f: F) -> Result<T, ApiError>
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

async fn catalog_handler(State(st): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], st.catalog).into_response()
}

async fn put_submission(
    State(st): State<AppState>,
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
    let hashes: Vec<String> = envelope.attachments.iter().map(|a| a.sha256.clone()).collect();
    drop(envelope);
    let body_sha256 = sha256_hex(&body);

    let store = st.store.clone();
    let item = item_code.clone();
    let outcome = blocking(move || {
        store.put_submission(&NewSubmission {
            id,
            item_code: &item,
            body: &body,
            body_sha256: &body_sha256,
            attachment_hashes: hashes.iter().map(String::as_str).collect(),
        })
    })
    .await
    .inspect_err(|e| tracing::info!(%id, code = ?e.body.code, "manifest refused"))?;
    tracing::info!(%id, item = %item_code, ?outcome, "manifest");
    Ok((put_status(outcome), Json(PutResponse { id, outcome })))
}

async fn put_attachment(
    State(st): State<AppState>,
    Path((id, sha256)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<PutResponse>), ApiError> {
    let id = parse_path_id(&id)?;
    if !is_sha256_hex(&sha256) {
        return Err(ApiError::invalid("the attachment hash in the path is not lowercase hex SHA-256"));
    }
    let actual = sha256_hex(&body);
    if actual != sha256 {
        tracing::info!(%id, expected = %sha256, %actual, "attachment hash mismatch");
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::HashMismatch,
            format!("the bytes hash to {actual}, not {sha256}"),
        ));
    }
    let store = st.store.clone();
    let sha = sha256.clone();
    let outcome = blocking(move || store.put_attachment(id, &sha, &body)).await?;
    tracing::info!(%id, %sha256, ?outcome, "attachment");
    Ok((put_status(outcome), Json(PutResponse { id, outcome })))
}

async fn commit(State(st): State<AppState>, Path(id): Path<String>) -> Result<Json<CommitResponse>, ApiError> {
    let id = parse_path_id(&id)?;
    let store = st.store.clone();
    let case_number = blocking(move || store.commit(id))
        .await
        .inspect_err(|e| tracing::info!(%id, code = ?e.body.code, "commit refused"))?;
    tracing::info!(%id, %case_number, "committed");
    Ok(Json(CommitResponse { id, case_number }))
}

async fn get_case(State(st): State<AppState>, Path(case_number): Path<String>) -> Result<Response, ApiError> {
    let store = st.store.clone();
    let view = blocking(move || store.case(&case_number)).await?;
    match view {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such case")),
    }
}
