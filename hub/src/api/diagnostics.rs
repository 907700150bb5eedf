//! Remote diagnostics (issue 19). Terminals: `POST /v1/diagnostics/{id}`
//! announces the bundle, which then travels like an attachment
//! (`/v1/diagnostics/{id}/bundle/{sha256}`, the handlers of `submissions`).
//! Staff: `POST /fleet/terminals/{id}/diagnostics` asks a terminal for one
//! (the button on the fleet page), `GET /fleet/diagnostics/{id}` downloads
//! it. Both staff actions are written to the hub's audit.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use model::diagnostics::{DiagnosticsAnnounce, BUNDLE_LIMIT};
use model::protocol::ErrorCode;

use crate::auth::Authed;

use super::error::*;
use super::state::*;

pub(super) async fn announce(
    State(st): State<AppState>,
    Extension(auth): Extension<Authed>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::invalid("the diagnostics id in the path is not a UUID"))?;
    let a: DiagnosticsAnnounce = parse_json(&body, "diagnostics announcement")?;
    if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(ApiError::invalid("sha256 must be lowercase hex SHA-256"));
    }
    if a.size == 0 || a.size > BUNDLE_LIMIT {
        return Err(ApiError::invalid(format!("a diagnostics bundle has 1..{BUNDLE_LIMIT} bytes")));
    }
    let (store, now) = (st.store.clone(), st.now());
    blocking(move || store.announce_diagnostics(&auth.terminal_id, id, &a.sha256, a.size, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A form posted from another site with the browser's cached staff
/// credentials must not ask terminals for anything: when the browser names
/// the page's origin, it must be this hub.
pub(super) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.split_once("://").is_some_and(|(_, h)| !host.is_empty() && h == host)
}

pub(super) async fn request(State(st): State<AppState>, headers: HeaderMap, Path(terminal): Path<String>) -> Result<Response, ApiError> {
    let staff = match crate::auth::staff_name(&st, &headers).await {
        Ok(name) => name,
        Err(refused) => return Ok(refused),
    };
    if !same_origin(&headers) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Unauthenticated, "a diagnostics request must come from the fleet page"));
    }
    let (store, now, t) = (st.store.clone(), st.now(), terminal.clone());
    let asked = blocking(move || match store.request_diagnostics(&t, &staff, now) {
        Ok(id) => Ok(Some(id)),
        Err(crate::store::StoreError::UnknownTerminal(_)) => Ok(None),
        Err(e) => Err(e),
    })
    .await?;
    let Some(id) = asked else { return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such terminal")) };
    tracing::info!(%terminal, request = %id, "diagnostics requested");
    Ok(Redirect::to(&format!("/fleet#{terminal}")).into_response())
}

pub(super) async fn download(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ApiError> {
    let staff = match crate::auth::staff_name(&st, &headers).await {
        Ok(name) => name,
        Err(refused) => return Ok(refused),
    };
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::invalid("the diagnostics id is not a UUID"))?;
    let (store, now) = (st.store.clone(), st.now());
    match blocking(move || store.download_diagnostics(id, &staff, now)).await? {
        Some((terminal, bytes)) => {
            let name = format!("attachment; filename=\"diagnostics-{terminal}-{id}.json\"");
            let disposition = HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment"));
            Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json")), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
        }
        None => Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotAvailable, "the terminal has not uploaded this bundle yet")),
    }
}
