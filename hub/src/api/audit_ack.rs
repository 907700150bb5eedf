//! Staff acknowledge a terminal's audit-chain breaks from the fleet page
//! (issue 19): `POST /fleet/terminals/{id}/audit-breaks` with a form field
//! `reason`; staff credentials and the same-origin check of the other fleet
//! buttons; the store keeps who, when and why and writes it to the hub's
//! audit. The breaks themselves are never removed.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use model::protocol::ErrorCode;
use serde::Deserialize;

use super::diagnostics::same_origin;
use super::error::*;
use super::state::*;

#[derive(Debug, Deserialize)]
pub(super) struct AckForm {
    reason: Option<String>,
}

pub(super) async fn acknowledge(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(terminal): Path<String>,
    form: Result<Form<AckForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let staff = match crate::auth::staff_name(&st, &headers).await {
        Ok(name) => name,
        Err(refused) => return Ok(refused),
    };
    if !same_origin(&headers) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Unauthenticated, "an acknowledgement must come from the fleet page"));
    }
    let why = form.ok().and_then(|Form(f)| f.reason).map(|r| r.trim().chars().filter(|c| !c.is_control()).take(200).collect::<String>()).unwrap_or_default();
    if why.is_empty() {
        return Err(ApiError::invalid("an acknowledgement says why"));
    }
    let (store, now, t) = (st.store.clone(), st.now(), terminal.clone());
    let n = blocking(move || store.acknowledge_audit_breaks(&t, &staff, &why, now)).await?;
    if n == 0 {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "this terminal has no unacknowledged audit break"));
    }
    Ok(Redirect::to(&format!("/fleet#{terminal}")).into_response())
}
