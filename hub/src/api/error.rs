//! How handlers fail: `ApiError` (an `ErrorBody` with its status), store
//! errors mapped to statuses, and the small helpers every handler uses.


use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::protocol::{
    ErrorBody, ErrorCode, PutOutcome,
};

use crate::store::StoreError;


/// Told to a terminal over its quota: come back after a while.
pub(crate) const QUOTA_RETRY_AFTER_SECS: u64 = 600;

#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// Seconds for `Retry-After` other than the code's usual.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status, body: ErrorBody { code, message: message.into() }, retry_after: None }
    }

    /// Answers with `Retry-After: secs` instead of the code's usual wait.
    pub(crate) fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }

    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, message)
    }

    pub(crate) fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal error")
    }

    pub fn code(&self) -> ErrorCode {
        self.body.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match self.body.code {
            _ if self.retry_after.is_some() => HeaderValue::from_str(&self.retry_after.unwrap_or_default().to_string()).ok(),
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
            e @ StoreError::Update(_) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, e.to_string()),
            e @ StoreError::UnknownDiagnostics(_) => ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, e.to_string()),
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
            | StoreError::NoSuchFollowUp(_)
            | StoreError::OperatorRevoked(_)
            | StoreError::WrongCaseStatus { .. }) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, e.to_string())
            }
            e @ (StoreError::Corrupt(_) | StoreError::SchemaTooNew { .. } | StoreError::Sqlite(_) | StoreError::Postgres(_) | StoreError::Unsupported(_) | StoreError::Blob(_) | StoreError::Batch(_) | StoreError::Unseal { .. }) => {
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

pub(crate) fn put_status(outcome: PutOutcome) -> StatusCode {
    match outcome {
        PutOutcome::Stored => StatusCode::CREATED,
        PutOutcome::Replayed => StatusCode::OK,
    }
}
