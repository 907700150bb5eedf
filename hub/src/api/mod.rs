//! HTTP endpoints, exactly as `model::protocol` describes them (and
//! `/v1/openapi.json` publishes). Submission bodies are sealed envelopes
//! (`model::seal`); attachments are sealed bytes, uploaded resumably.
//!
//! Error messages go back to terminals and into their logs: they name ids,
//! hashes and positions, never a value from the body.
//!
//! Here: the routes. `state` and `error` are the leaves every handler
//! uses; `submissions` and `terminal` hold the handlers.

mod audit_ack;
pub(crate) mod error;
pub(crate) mod state;
mod diagnostics;
mod progress;
mod submissions;
mod rollouts;
mod terminal;
mod updates;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{middleware, Json, Router};
use model::protocol::{
    ErrorCode, Health, SERVICE_NAME,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::{self};
use crate::connector::BackOffice;
use crate::store::Store;

use error::{blocking, ApiError};
pub use state::{Clock, HubOptions, SweepPolicy, BODY_LIMIT, DEFAULT_E_LICENSE_PEOPLE_PER_DAY, DEFAULT_STALE_AFTER, HEARTBEAT_LIMIT, MANIFEST_LIMIT, SMALL_BODY_LIMIT};
use state::AppState;

/// The hub's routes over `store`, without the platform key.
pub fn router(store: Arc<dyn Store>) -> Router {
    router_with(store, HubOptions::default())
}

/// The hub's routes over `store`.
pub fn router_with(store: Arc<dyn Store>, options: HubOptions) -> Router {
    // Mail is offered only where the hub can read the choice and the platform takes it.
    let result_mail = options.result_mail.clone().filter(|_| options.platform_key.is_some());
    let state = AppState {
        store,
        platform_key: options.platform_key,
        connector: options.connector.unwrap_or_else(|| Arc::new(BackOffice)),
        stale_after: options.stale_after.unwrap_or(DEFAULT_STALE_AFTER),
        clock: options.clock.unwrap_or_else(|| Arc::new(OffsetDateTime::now_utc)),
        enroll_limit: Arc::new(crate::rate_limit::RateLimiter::new(options.enroll_rate.map_or(10, |r| r.0), options.enroll_rate.map_or(30, |r| r.1))),
        trusted_proxies: options.trusted_proxies.into(),
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
        sms_gateway: options.sms_gateway,
        result_mail,
        progress_misses_per_day: options.progress_misses_per_day.unwrap_or(crate::progress::DEFAULT_PROGRESS_MISSES_PER_DAY),
        keys: Arc::default(),
        terminal_rate: {
            let (per_sec, burst) = options.terminal_rate.unwrap_or(crate::terminal_rate::DEFAULT_RATE);
            Arc::new(crate::terminal_rate::TerminalRate::new(per_sec, burst))
        },
    };
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/catalog", get(catalog_handler))
        .route("/v1/terminal/config", get(terminal::terminal_config))
        .route("/v1/enroll", post(crate::enroll::enroll))
        .route("/v1/submissions/{id}", put(submissions::put_submission))
        .route("/v1/submissions/{id}/attachments/{sha256}", get(submissions::upload_status).put(submissions::put_attachment))
        .route("/v1/submissions/{id}/commit", post(submissions::commit))
        .route("/v1/case-status", post(terminal::case_status))
        .route("/v1/cases/{case_number}", get(terminal::get_case))
        .route("/v1/cases/{case_number}/result", get(terminal::get_result))
        .route("/v1/evaluations/{id}", put(terminal::put_evaluation))
        .route("/v1/heartbeat", post(terminal::heartbeat))
        .route("/v1/operators", get(terminal::operators))
        .route("/v1/e-license/lookup", post(terminal::e_license))
        .route("/v1/progress", post(progress::progress))
        .route("/v1/progress/result", post(progress::result))
        .route("/v1/diagnostics/{id}", post(diagnostics::announce))
        .route("/v1/diagnostics/{id}/bundle/{sha256}", get(submissions::upload_status).put(submissions::put_attachment))
        .route("/v1/updates/{version}/bundle", get(updates::bundle))
        .route("/fleet/terminals/{id}/diagnostics", post(diagnostics::request))
        .route("/fleet/diagnostics/{id}", get(diagnostics::download))
        .route("/fleet/rollouts/{version}/{action}", post(rollouts::control))
        .route("/fleet/terminals/{id}/audit-breaks", post(audit_ack::acknowledge))
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

async fn health() -> Json<Health> {
    Json(Health { service: SERVICE_NAME.to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::document().to_string()).into_response()
}

#[derive(Debug, Deserialize)]
struct SinceQuery {
    since: Option<u64>,
    /// 1: answer with a [`model::protocol::CatalogUpdate`] (deltas when possible).
    deltas: Option<u8>,
}

async fn catalog_handler(State(st): State<AppState>, query: Result<Query<SinceQuery>, axum::extract::rejection::QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::invalid("since must be a catalog version number"))?;
    let store = st.store.clone();
    if q.deltas == Some(1) {
        let since = q.since.unwrap_or(0);
        let store = st.store.clone();
        let has_any = blocking(move || store.latest_catalog_version()).await?.is_some();
        let store = st.store.clone();
        return match blocking(move || store.catalog_update(since)).await? {
            Some(update) => Ok(Json(update).into_response()),
            None if has_any => Ok(StatusCode::NO_CONTENT.into_response()),
            None => Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotAvailable, "this hub publishes no signed catalog")),
        };
    }
    match blocking(move || store.latest_catalog()).await? {
        None => Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotAvailable, "this hub publishes no signed catalog")),
        Some(c) if q.since.is_some_and(|s| c.version <= s) => Ok(StatusCode::NO_CONTENT.into_response()),
        Some(c) => Ok(Json(c).into_response()),
    }
}

/// The fleet page: staff only (HTTP Basic, a name and token from `hub staff
/// add`), and reading it writes nothing (no flush of the heartbeats written
/// behind: they show a moment later).
async fn fleet(State(st): State<AppState>, headers: HeaderMap, query: Result<Query<FleetParams>, axum::extract::rejection::QueryRejection>) -> Result<Response, ApiError> {
    if let Some(refused) = crate::auth::require_staff(&st, &headers).await {
        return Ok(refused);
    }
    let Query(q) = query.map_err(|_| ApiError::invalid("page must be a number"))?;
    // A division code prefix: county (6), township (9) or village (12 digits).
    let place = q.place.filter(|p| !p.is_empty());
    if place.as_deref().is_some_and(|p| !(2..=12).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ApiError::invalid("place must be 2 to 12 digits of a division code"));
    }
    let page_no = q.page.unwrap_or(1).max(1);
    let now = st.now();
    let stale_before = now - time::Duration::try_from(st.stale_after).unwrap_or(time::Duration::MAX);
    let query = crate::store::FleetQuery { place: place.clone(), stale_before, offset: (page_no - 1).saturating_mul(crate::fleet::PAGE_SIZE), limit: crate::fleet::PAGE_SIZE };
    let store = st.store.clone();
    let (page, diagnostics, rollouts, backlog) =
        blocking(move || Ok((store.fleet_page(&query)?, store.diagnostics_requests()?, store.rollouts()?, store.platform_backlog(now)?))).await?;
    let paging = crate::fleet::Paging { page: page_no, place: place.as_deref(), total: page.total, broken: page.broken, stale: page.stale };
    let mut html = crate::fleet::render_page(&page, &paging, &diagnostics, now, st.stale_after);
    // The rollout section goes last, after the terminals staff look at first.
    if let Some(end) = html.rfind("</body>") {
        html.insert_str(end, &format!("{}{}", crate::fleet_rollouts::section(&rollouts), crate::fleet_outboxes::section(&backlog, now)));
    }
    Ok(Html(html).into_response())
}

#[derive(Debug, Deserialize)]
struct FleetParams {
    place: Option<String>,
    page: Option<u64>,
}
