//! `POST /v1/enroll`: the one terminal route without device authentication
//! (the terminal has no registered key yet). What protects it: the presenter
//! signs with the key it presents; codes are single-use, hashed, and expire;
//! and each client address gets a small token bucket, so neither polling
//! terminals nor someone guessing can load the hub or walk the code space.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use model::auth::MAX_CLOCK_SKEW_SECS;
use model::enroll::{code_hash, normalize_code, valid_serial, EnrollAnswer, EnrollRequest, Enrollment};
use model::protocol::ErrorCode;

use crate::api::{blocking, parse_json, ApiError, AppState, SMALL_BODY_LIMIT};
use crate::store::{EnrollPresentation, EnrollState};

/// A token bucket per client address.
pub(crate) struct RateLimiter {
    burst: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<Option<IpAddr>, (f64, Instant)>>,
}

/// Addresses remembered at most; past it, full buckets are forgotten.
const MAX_TRACKED: usize = 10_000;

impl RateLimiter {
    /// `burst` requests at once, refilled at `per_minute`.
    pub(crate) fn new(burst: u32, per_minute: u32) -> RateLimiter {
        RateLimiter { burst: f64::from(burst.max(1)), per_sec: f64::from(per_minute.max(1)) / 60.0, buckets: Mutex::new(HashMap::new()) }
    }

    /// True if `addr` may make a request now.
    pub(crate) fn allow(&self, addr: Option<IpAddr>, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (burst, rate) = (self.burst, self.per_sec);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(addr).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_sec).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Seconds until one token is back.
    fn retry_after(&self) -> Duration {
        Duration::from_secs_f64((1.0 / self.per_sec).ceil())
    }
}

pub(crate) async fn enroll(State(st): State<AppState>, peer: Option<Extension<ConnectInfo<SocketAddr>>>, body: Body) -> Result<Response, ApiError> {
    let addr = peer.map(|Extension(ConnectInfo(a))| a.ip());
    if !st.enroll_limit.allow(addr, Instant::now()) {
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
    let now = st.now();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_then_its_rate() {
        let limiter = RateLimiter::new(3, 60);
        let t0 = Instant::now();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        assert!((0..3).all(|_| limiter.allow(a, t0)));
        assert!(!limiter.allow(a, t0), "burst spent");
        assert!(limiter.allow(Some(IpAddr::from([10, 0, 0, 2])), t0), "another address has its own bucket");
        assert!(limiter.allow(a, t0 + Duration::from_millis(1100)), "one token back after a second at 60/min");
        assert!(!limiter.allow(a, t0 + Duration::from_millis(1200)));
    }
}
