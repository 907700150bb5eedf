//! Device authentication: every terminal request is signed with its device
//! key (`model::auth`). This layer checks, in order: the headers are there and
//! well-formed; the timestamp is within [`MAX_CLOCK_SKEW_SECS`] of our clock;
//! the terminal is registered and not revoked; the signature verifies over
//! method, path, Content-Range, declared body hash, timestamp, nonce and
//! terminal id; the nonce is new. Then the body must hash to what was
//! signed: buffered bodies are checked here, streamed attachment uploads by
//! their handler (which keeps what arrived of a broken upload: those bytes
//! are checked again by the attachment's content hash when complete).
//!
//! A key this instance verified a signature under before is remembered
//! (`key_cache.rs`): the signature is checked against it first, and the
//! database checks the terminal is still active with that key as it spends
//! the nonce, in one round trip; a heartbeat's nonce is spent in the
//! heartbeat's own round trip ([`HeartbeatAuth`]).

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

use crate::api::error::{blocking, ApiError};
use crate::api::state::{body_limit, AppState, BODY_LIMIT};
use crate::store::{NonceSpend, TerminalStatus};

/// Who sent an authenticated request, and the body hash it signed.
#[derive(Debug, Clone)]
pub struct Authed {
    pub terminal_id: String,
    pub body_sha256: String,
}

/// A heartbeat's authentication (the heartbeat route gets this, never a
/// bare [`Authed`]): spent here, or signed under the key this instance
/// remembers with the nonce left for the heartbeat's own round trip, where
/// the store spends it only if the terminal is active and holds `key`.
#[derive(Debug, Clone)]
pub enum HeartbeatAuth {
    Spent(Authed),
    Unspent { authed: Authed, key: model::auth::PublicKey, nonce: String, now_unix: i64, forget_before: i64 },
}

/// Routes without a device signature: enrollment, the health check
/// (terminals tell their hub from a captive portal with it), the API
/// description, the catalog (it carries its own signature), and the fleet
/// page, which checks staff credentials itself ([`require_staff`]).
fn is_public(method: &Method, path: &str) -> bool {
    // Enrollment: the terminal has no registered key yet (see enroll.rs).
    if method == Method::POST && path == "/v1/enroll" {
        return true;
    }
    // Staff pages under /fleet/ (diagnostics) check staff credentials themselves.
    if (method == Method::GET || method == Method::POST) && path.starts_with("/fleet/") {
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
    // Diagnostics bundles (issue 19) use the same resumable upload.
    matches!(parts.as_slice(), ["", "v1", "submissions", _, "attachments", _] | ["", "v1", "diagnostics", _, "bundle", _])
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
    let forget_before = now - 2 * MAX_CLOCK_SKEW_SECS;
    let heartbeat = req.method() == Method::POST && path == "/v1/heartbeat";
    let to_sign = RequestToSign {
        method: &method,
        path_and_query: &path_and_query,
        content_range: &content_range,
        body_sha256: &body_sha256,
        timestamp,
        nonce: &nonce,
        terminal_id: &terminal_id,
    };
    // A key this instance remembers: the signature is checked here, and the
    // database checks the key again as it spends the nonce (key_cache.rs).
    // A heartbeat's nonce is spent in the heartbeat's own round trip.
    let mut unspent = None;
    let verified = st.keys.get(&terminal_id).filter(|key| to_sign.verify(key, &signature).is_ok());
    if verified.is_some() {
        // Before the nonce is written: a flood writes nothing.
        over_rate(st, &terminal_id)?;
    }
    let verdict = match verified {
        Some(key) if heartbeat => {
            unspent = Some(key);
            NonceSpend::Fresh
        }
        Some(key) => {
            // On PostgreSQL awaited here on a shared connection, like the heartbeat's round.
            let spent = match st.store.spend_nonce_async(&terminal_id, &key, &nonce, now, forget_before) {
                Some(spend) => Some(spend.await?),
                None => None,
            };
            match spent {
                Some(verdict) => verdict,
                None => {
                    let (store, id, n) = (st.store.clone(), terminal_id.clone(), nonce.clone());
                    blocking(move || store.spend_nonce(&id, &key, &n, now, forget_before)).await?
                }
            }
        }
        None => {
            // Key lookup, signature and nonce in one trip to the blocking
            // pool (a heartbeat's nonce goes with the heartbeat, as above).
            let store = st.store.clone();
            let (id, sig, n, sha, range) = (terminal_id.clone(), signature.clone(), nonce.clone(), body_sha256.clone(), content_range.clone());
            let (verdict, key) = blocking(move || {
                let Some((key, status)) = store.terminal_key(&id)? else { return Ok((NonceSpend::Unknown, None)) };
                if status == TerminalStatus::Revoked {
                    return Ok((NonceSpend::Revoked, None));
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
                    return Ok((NonceSpend::OtherKey, None));
                }
                if heartbeat {
                    return Ok((NonceSpend::Fresh, Some(key)));
                }
                // After the signature: only the terminal itself can spend its nonces.
                Ok((store.spend_nonce(&id, &key, &n, now, forget_before)?, Some(key)))
            })
            .await?;
            if let Some(key) = key {
                // First request of this terminal to this instance: its nonce
                // went with the key lookup; the allowance counts it all the same.
                over_rate(st, &terminal_id)?;
                st.keys.put(&terminal_id, key);
                if heartbeat {
                    unspent = Some(key);
                }
            }
            verdict
        }
    };
    if let Some(refused) = refusal(st, verdict, &terminal_id, path) {
        return Err(refused);
    }

    let authed = Authed { terminal_id, body_sha256 };
    let streamed = is_streamed(req.method(), path);
    let req_method = req.method().clone();
    let (mut parts, body) = req.into_parts();
    let body = if streamed {
        body
    } else {
        // Read only now, after the signature: an unknown sender gets nothing
        // buffered, and each route takes what it needs, no more.
        let limit = body_limit(&req_method, path).min(BODY_LIMIT);
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge, format!("the body is over {limit} bytes for this endpoint, or broke off"))
        })?;
        if sha256_hex(&bytes) != authed.body_sha256 {
            return Err(unauthenticated("the body does not hash to the signed value"));
        }
        Body::from(bytes)
    };
    // A heartbeat whose nonce is not spent yet carries no `Authed`: no
    // other handler can take it for a checked request.
    match unspent {
        Some(key) => {
            parts.extensions.insert(HeartbeatAuth::Unspent { authed, key, nonce, now_unix: now, forget_before });
        }
        None if heartbeat => {
            parts.extensions.insert(HeartbeatAuth::Spent(authed));
        }
        None => {
            parts.extensions.insert(authed);
        }
    }
    Ok(Request::from_parts(parts, body))
}

/// 429 `quota_exceeded` with `Retry-After` when `terminal` (its signature
/// checked) is over its request rate (`terminal_rate.rs`).
fn over_rate(st: &AppState, terminal: &str) -> Result<(), ApiError> {
    let Err(wait) = st.terminal_rate.take(terminal, std::time::Instant::now()) else { return Ok(()) };
    tracing::warn!(terminal = %terminal, "request refused: over the terminal's request rate");
    Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::QuotaExceeded, "too many requests from this terminal; wait and send again")
        .retry_after(wait.as_secs().max(1)))
}

/// The error for a nonce not spent, logged; None for a fresh one. Forgets
/// the remembered key of a terminal that is unknown, revoked or re-keyed.
pub(crate) fn refusal(st: &AppState, verdict: NonceSpend, terminal_id: &str, path: &str) -> Option<ApiError> {
    if matches!(verdict, NonceSpend::Unknown | NonceSpend::Revoked | NonceSpend::OtherKey) {
        st.keys.forget(terminal_id);
    }
    match verdict {
        NonceSpend::Fresh => None,
        NonceSpend::Unknown => {
            tracing::info!(terminal = %terminal_id, "request refused: unknown terminal");
            Some(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::UnknownTerminal, format!("terminal {terminal_id} is not registered")))
        }
        NonceSpend::Revoked => {
            tracing::warn!(terminal = %terminal_id, "request refused: revoked terminal");
            Some(ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Revoked, format!("terminal {terminal_id} was revoked")))
        }
        NonceSpend::OtherKey => {
            tracing::info!(terminal = %terminal_id, path, "request refused: bad signature");
            Some(unauthenticated("the signature does not verify"))
        }
        NonceSpend::Replayed => {
            tracing::warn!(terminal = %terminal_id, "request refused: replayed nonce");
            Some(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Replayed, "this request was seen before"))
        }
    }
}

/// The stored form of a staff token: tokens are 256 random bits, so a plain
/// SHA-256 is as good as a slow hash and costs nothing per page view.
pub fn staff_token_hash(token: &str) -> String {
    sha256_hex(format!("cunban-staff-token-v1\n{token}").as_bytes())
}

/// A fresh staff token: 32 random bytes, hex (safe in a URL's user-info).
pub fn new_staff_token() -> Result<String, std::io::Error> {
    let mut b = [0u8; 32];
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(hex::encode(b))
}

/// Name and password of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let v = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, password) = text.split_once(':')?;
    (!name.is_empty() && name.len() <= 64 && password.len() <= 256).then(|| (name.to_owned(), password.to_owned()))
}

/// Staff pages (the fleet page): None if the request carries a staff
/// member's name and token, else the 401 to send (browsers then ask for them).
/// Checking reads the staff table only.
pub(crate) async fn require_staff(st: &AppState, headers: &HeaderMap) -> Option<Response> {
    staff_name(st, headers).await.err()
}

/// [`require_staff`], answering the staff member's name (for the hub's audit).
pub(crate) async fn staff_name(st: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    let refused = |message: &str| {
        let mut resp = ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, message).into_response();
        resp.headers_mut()
            .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Basic realm=\"cunban-hub staff\", charset=\"UTF-8\""));
        resp
    };
    let Some((name, password)) = basic_credentials(headers) else {
        return Err(refused("staff only: give a staff name and token (hub staff add)"));
    };
    let store = st.store.clone();
    let who = name.clone();
    match blocking(move || store.check_staff(&who, &password)).await {
        Ok(true) => Ok(name),
        Ok(false) => {
            tracing::warn!(staff = %name, "fleet page refused: wrong staff name or token");
            Err(refused("wrong staff name or token"))
        }
        Err(e) => Err(e.into_response()),
    }
}
