//! Update bundles for terminals (issue 19): `GET
//! /v1/updates/{version}/bundle?offset=N` answers 206 with up to
//! [`BUNDLE_CHUNK`] bytes from N and `Content-Range: bytes N-END/SIZE`. The
//! offset is in the signed query, so a terminal resumes a dropped download
//! where its file ends, like an attachment upload the other way. Only the
//! version the terminal's rollout stage offers it now is served (404
//! otherwise: a halted rollout stops half-done downloads too).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use model::protocol::ErrorCode;
use serde::Deserialize;

use crate::auth::Authed;

use super::error::*;
use super::state::*;

/// Largest piece of a bundle one request gets: a slow link finishes a
/// request in minutes, and a broken one loses at most this much.
pub const BUNDLE_CHUNK: u64 = 1 << 20;

#[derive(Debug, Deserialize)]
pub(super) struct OffsetQuery {
    offset: Option<u64>,
}

pub(super) async fn bundle(
    State(st): State<AppState>,
    Extension(auth): Extension<Authed>,
    Path(version): Path<String>,
    query: Result<Query<OffsetQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::invalid("offset must be a byte count"))?;
    if !model::bundle::valid_version(&version) {
        return Err(ApiError::invalid("the version in the path is not a package version"));
    }
    let offset = q.offset.unwrap_or(0);
    let store = st.store.clone();
    let terminal = auth.terminal_id.clone();
    let v = version.clone();
    let Some((bytes, size)) = blocking(move || store.update_bundle_range(&terminal, &v, offset, BUNDLE_CHUNK)).await? else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("update {version} is not offered to this terminal")));
    };
    let end = (offset + bytes.len() as u64).saturating_sub(1);
    let range = HeaderValue::from_str(&format!("bytes {offset}-{end}/{size}")).map_err(|_| ApiError::invalid("bad range"))?;
    Ok((StatusCode::PARTIAL_CONTENT, [(header::CONTENT_TYPE, HeaderValue::from_static("application/x-tar")), (header::CONTENT_RANGE, range)], bytes).into_response())
}
