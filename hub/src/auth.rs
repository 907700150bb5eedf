//! Device authentication: every terminal request is signed with its device
//! key (`model::auth`). This layer checks, in order: the headers are there and
//! well-formed; the timestamp is within [`MAX_CLOCK_SKEW_SECS`] of our clock;
//! the terminal is registered and not revoked; the signature verifies over
//! method, path, Content-Range, declared body hash, timestamp, nonce and
//! terminal id; the nonce is new. Then the body must hash to what was
//! signed: buffered bodies are checked here, streamed attachment uploads by
//! their handler (which keeps what arrived of a broken upload: those bytes
//! are checked again by the attachment's content hash when complete).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use model::auth::{
    valid_nonce, valid_terminal_id, RequestToSign, HEADER_CONTENT_SHA256, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL,
    HEADER_TIMESTAMP, MAX_CLOCK_SKEW_SECS,
};
use model::protocol::ErrorCode;
use model::submission::sha256_hex;

use crate::api::{blocking, ApiError, AppState, BODY_LIMIT};
use crate::store::TerminalStatus;

enum Verdict {
    Fresh,
    Unknown,
    Revoked,
    BadSignature,
    Replayed,
}

/// Who sent an authenticated request, and the body hash it signed.
#[derive(Debug, Clone)]
pub struct Authed {
    pub terminal_id: String,
    pub body_sha256: String,
}

/// Routes anyone may call: enrollment, the health check (terminals tell their hub from
/// a captive portal with it), the API description, the catalog (it carries
/// its own signature) and the fleet page.
fn is_public(method: &Method, path: &str) -> bool {
    // Enrollment: the terminal has no registered key yet (see enroll.rs).
    if method == Method::POST && path == "/v1/enroll" {
        return true;
    }
    method == Method::GET && matches!(path, "/v1/health" | "/v1/openapi.json" | "/v1/catalog" | "/fleet" | "/")
}

/// Attachment uploads are streamed to the store as they arrive, not buffered.
pub(crate) fn is_streamed(method: &Method, path: &str) -> bool {
    if method != Method::PUT {
        return false;
    }
    let parts: Vec<&str> = path.split('/').collect();
    matches!(parts.as_slice(), ["", "v1", "submissions", _, "attachments", _])
}

fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, message)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .ok_or_else(|| unauthenticated(format!("the {name} header is missing")))?
        .to_str()
        .map_err(|_| unauthenticated(format!("the {name} header is not text")))
}

pub(crate) async fn authenticate(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if is_public(req.method(), &path) {
        return next.run(req).await;
    }
    match check(&st, req, &path).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn check(st: &AppState, req: Request, path: &str) -> Result<Request, ApiError> {
    let headers = req.headers();
    let terminal_id = header(headers, HEADER_TERMINAL)?.to_owned();
    if !valid_terminal_id(&terminal_id) {
        return Err(unauthenticated("the terminal id is malformed"));
    }
    let timestamp: i64 = header(headers, HEADER_TIMESTAMP)?.parse().map_err(|_| unauthenticated("the timestamp is not unix seconds"))?;
    let nonce = header(headers, HEADER_NONCE)?.to_owned();
    if !valid_nonce(&nonce) {
        return Err(unauthenticated("the nonce is malformed"));
    }
    let body_sha256 = header(headers, HEADER_CONTENT_SHA256)?.to_owned();
    let signature = header(headers, HEADER_SIGNATURE)?.to_owned();
    let content_range = match headers.get(axum::http::header::CONTENT_RANGE) {
        Some(v) => v.to_str().map_err(|_| unauthenticated("Content-Range is not text"))?.to_owned(),
        None => String::new(),
    };

    let now = st.now().unix_timestamp();
    if (now - timestamp).abs() > MAX_CLOCK_SKEW_SECS {
        tracing::info!(terminal = %terminal_id, skew_secs = timestamp - now, "request refused: clock skew");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::ClockSkew,
            format!("the request time is {} s from the hub's; the hub's time is in the Date header", timestamp - now),
        ));
    }

    let method = req.method().as_str().to_owned();
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| path.to_owned());
    // Key lookup, signature and nonce in one trip to the blocking pool.
    let store = st.store.clone();
    let (id, sig, n, sha, range) = (terminal_id.clone(), signature, nonce, body_sha256.clone(), content_range);
    let verdict = blocking(move || {
        let Some((key, status)) = store.terminal_key(&id)? else { return Ok(Verdict::Unknown) };
        if status == TerminalStatus::Revoked {
            return Ok(Verdict::Revoked);
        }
        let to_sign = RequestToSign {
            method: &method,
            path_and_query: &path_and_query,
            content_range: &range,
            body_sha256: &sha,
            timestamp,
            nonce: &n,
            terminal_id: &id,
        };
        if to_sign.verify(&key, &sig).is_err() {
            return Ok(Verdict::BadSignature);
        }
        // After the signature: only the terminal itself can spend its nonces.
        Ok(if store.remember_nonce(&id, &n, now, now - 2 * MAX_CLOCK_SKEW_SECS)? { Verdict::Fresh } else { Verdict::Replayed })
    })
    .await?;
    match verdict {
        Verdict::Fresh => {}
        Verdict::Unknown => {
            tracing::info!(terminal = %terminal_id, "request refused: unknown terminal");
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::UnknownTerminal, format!("terminal {terminal_id} is not registered")));
        }
        Verdict::Revoked => {
            tracing::warn!(terminal = %terminal_id, "request refused: revoked terminal");
            return Err(ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Revoked, format!("terminal {terminal_id} was revoked")));
        }
        Verdict::BadSignature => {
            tracing::info!(terminal = %terminal_id, path, "request refused: bad signature");
            return Err(unauthenticated("the signature does not verify"));
        }
        Verdict::Replayed => {
            tracing::warn!(terminal = %terminal_id, "request refused: replayed nonce");
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Replayed, "this request was seen before"));
        }
    }

    let authed = Authed { terminal_id, body_sha256 };
    let streamed = is_streamed(req.method(), path);
    let (mut parts, body) = req.into_parts();
    let body = if streamed {
        body
    } else {
        let bytes = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::Invalid, "the body is too large or broke off"))?;
        if sha256_hex(&bytes) != authed.body_sha256 {
            return Err(unauthenticated("the body does not hash to the signed value"));
        }
        Body::from(bytes)
    };
    parts.extensions.insert(authed);
    Ok(Request::from_parts(parts, body))
}
