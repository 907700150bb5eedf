//! Staff steer rollouts from the fleet page (issue 19): `POST
//! /fleet/rollouts/{version}/{pause|resume|halt}` (halt with a form field
//! `reason`), staff credentials, the same-origin check of the diagnostics
//! button; audited with the staff name by the store.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use model::protocol::ErrorCode;
use serde::Deserialize;

use crate::rollout::RolloutState;

use super::diagnostics::same_origin;
use super::error::*;
use super::state::*;

#[derive(Debug, Default, Deserialize)]
pub(super) struct HaltForm {
    reason: Option<String>,
}

pub(super) async fn control(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((version, action)): Path<(String, String)>,
    form: Result<Form<HaltForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let staff = match crate::auth::staff_name(&st, &headers).await {
        Ok(name) => name,
        Err(refused) => return Ok(refused),
    };
    if !same_origin(&headers) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Unauthenticated, "a rollout change must come from the fleet page"));
    }
    let state = match action.as_str() {
        "pause" => RolloutState::Paused,
        "resume" => RolloutState::Running,
        "halt" => {
            let reason = form.ok().and_then(|Form(f)| f.reason).map(|r| r.trim().chars().filter(|c| !c.is_control()).take(200).collect::<String>()).unwrap_or_default();
            if reason.is_empty() {
                return Err(ApiError::invalid("a halt needs a reason"));
            }
            RolloutState::Halted(format!("by {staff}: {reason}"))
        }
        _ => return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "the action is pause, resume or halt")),
    };
    let (store, now, v) = (st.store.clone(), st.now(), version.clone());
    blocking(move || store.set_rollout_state(&v, state, &staff, now)).await?;
    Ok(Redirect::to(&format!("/fleet#rollout-{version}")).into_response())
}
