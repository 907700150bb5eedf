//! `POST /v1/enroll`: the one terminal route without device authentication
//! (the terminal has no registered key yet). What protects it: the presenter
//! signs with the key it presents; codes are single-use, hashed, and expire;
//! and each client address gets a small token bucket, so neither polling
//! terminals nor someone guessing can load the hub or walk the code space.
//! The bucket is kept in the store, shared by every hub instance (an
//! in-memory one in front only spares the store a flood); behind a load
//! balancer the client address is the one the trusted proxy forwards.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use model::auth::MAX_CLOCK_SKEW_SECS;
use model::enroll::{code_hash, normalize_code, valid_serial, EnrollAnswer, EnrollRequest, Enrollment};
use model::protocol::ErrorCode;

use crate::api::error::{blocking, parse_json, ApiError};
use crate::api::state::{AppState, SMALL_BODY_LIMIT};
use crate::store::{unix_f64, EnrollPresentation, EnrollState};

/// The client's address: the peer's, or, when the peer is a proxy this hub
/// trusts, the last address that proxy appended to `X-Forwarded-For`
/// (earlier ones are whatever the client claimed).
pub(crate) fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).last();
    Some(forwarded.and_then(|a| a.trim().parse().ok()).unwrap_or(peer))
}

pub(crate) async fn enroll(State(st): State<AppState>, peer: Option<Extension<ConnectInfo<SocketAddr>>>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let addr = client_addr(peer.map(|Extension(ConnectInfo(a))| a.ip()), &headers, &st.trusted_proxies);
    let now = st.now();
    // This process's bucket first (no database write for a flood), then the shared one.
    let allowed = st.enroll_limit.allow(addr, unix_f64(now)) && {
        let (store, limit) = (st.store.clone(), st.enroll_limit.limit());
        let key = format!("enroll:{}", addr.map_or_else(|| "-".to_owned(), |a| a.to_string()));
        blocking(move || store.take_token(&key, limit, now)).await?
    };
    if !allowed {
        let mut resp = ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited, "too many enrollment requests; wait a little").into_response();
        if let Ok(v) = HeaderValue::from_str(&st.enroll_limit.retry_after().as_secs().to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    // The body is read only now, after the rate limit, and only a small one.
    let body = axum::body::to_bytes(body, SMALL_BODY_LIMIT).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge, format!("an enrollment request is under {SMALL_BODY_LIMIT} bytes"))
    })?;
    let req: EnrollRequest = parse_json(&body, "enrollment request")?;
    if !valid_serial(&req.serial) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, "the serial must be 1..64 letters, digits, '-', '_' or '.'"));
    }
    let Some(code) = normalize_code(&req.code).filter(|c| *c == req.code) else {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, "the code is not a normalized enrollment code"));
    };
    if (now.unix_timestamp() - req.timestamp).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::ClockSkew,
            format!("the request time is {} s from the hub's", req.timestamp - now.unix_timestamp()),
        ));
    }
    if req.verify().is_err() {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, "the signature does not verify with the presented key"));
    }
    let store = st.store.clone();
    let (hash, serial, key) = (code_hash(&code), req.serial.clone(), req.public_key);
    let state = blocking(move || {
        let state = store.present_enrollment(&EnrollPresentation { code_hash: &hash, serial: &serial, public_key: &key }, now)?;
        let config = match &state {
            EnrollState::Bound { terminal_id, .. } => Some(store.terminal_config(terminal_id)?),
            EnrollState::Pending { .. } => None,
        };
        Ok((state, config))
    })
    .await
    .inspect_err(|e| tracing::info!(serial = %req.serial, key = %req.public_key.fingerprint(), code = ?e.code(), "enrollment refused"))?;
    let answer = match state {
        (EnrollState::Pending { expires_at }, _) => EnrollAnswer::Pending { expires_at: expires_at.unix_timestamp() },
        (EnrollState::Bound { terminal_id, village_code, profile }, config) => {
            tracing::info!(terminal = %terminal_id, village = %village_code.as_str(), key = %req.public_key.fingerprint(), "enrollment delivered");
            EnrollAnswer::Enrolled(Enrollment {
                terminal_id,
                village_code: village_code.as_str().to_owned(),
                profile,
                config: config.unwrap_or_default(),
                platform_public_key: st.platform_key.as_ref().map(|k| k.public_key().to_string()),
                catalog_public_key: st.catalog_public_key.map(|k| k.to_string()),
                hub_public_key: Some(st.signing_key.public_key().to_string()),
            })
        }
    };
    Ok((StatusCode::OK, Json(answer)).into_response())
}
