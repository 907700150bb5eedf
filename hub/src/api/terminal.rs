//! What a terminal asks besides submitting: its signed config and operator
//! list, case status and results, ratings, heartbeats, e-license lookups.


use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use model::protocol::{
    CaseStatusList, CaseStatusQuery, ELicenseQuery, ErrorCode, EvaluationAck, EvaluationUpload,
    Heartbeat, HeartbeatAck,
};
use model::document::{DocumentKind, SignedDocument};
use model::operator::OperatorList;

use crate::auth::{Authed, HeartbeatAuth};
use crate::store::{LookupAudit, SpendNonce};

use super::error::*;
use super::state::*;

/// Signs `value` for the calling terminal with the hub's key.
pub(super) fn signed<T: serde::Serialize>(st: &AppState, kind: DocumentKind, terminal: &str, value: &T) -> Result<Json<SignedDocument>, ApiError> {
    SignedDocument::sign(&st.signing_key, kind, terminal, st.now().unix_timestamp(), value).map(Json).map_err(|e| {
        tracing::error!(error = %e, "cannot sign a document");
        ApiError::internal()
    })
}

pub(super) async fn terminal_config(State(st): State<AppState>, Extension(auth): Extension<Authed>) -> Result<Json<SignedDocument>, ApiError> {
    let store = st.store.clone();
    let terminal = auth.terminal_id.clone();
    let mut config = blocking(move || store.terminal_config(&terminal)).await?;
    // The promise-bearing paths are what this hub has, whatever was stored.
    let mail = st.result_mail.is_some();
    config.paths = model::protocol::Paths { sms: st.sms_gateway, e_license: st.connector.has_e_license_library(), mail };
    signed(&st, DocumentKind::TerminalConfig, &auth.terminal_id, &config)
}

pub(super) async fn case_status(State(st): State<AppState>, Extension(auth): Extension<Authed>, body: Bytes) -> Result<Json<CaseStatusList>, ApiError> {
    let q: CaseStatusQuery = parse_json(&body, "case status query")?;
    if q.submission_ids.len() > CaseStatusQuery::MAX {
        return Err(ApiError::invalid(format!("at most {} ids per query", CaseStatusQuery::MAX)));
    }
    let store = st.store.clone();
    let cases = blocking(move || store.case_statuses(&auth.terminal_id, &q.submission_ids)).await?;
    Ok(Json(CaseStatusList { cases }))
}

pub(super) async fn get_case(State(st): State<AppState>, Extension(auth): Extension<Authed>, Path(case_number): Path<String>) -> Result<Response, ApiError> {
    let store = st.store.clone();
    let cn = case_number.clone();
    let summary = blocking(move || store.case_summary(&cn)).await?;
    // Another terminal's case is "not found" here: case numbers are guessable.
    match summary {
        Some(s) if s.terminal_id.as_deref() == Some(auth.terminal_id.as_str()) => {
            let store = st.store.clone();
            let view = blocking(move || store.case(&case_number)).await?;
            view.map(|v| Json(v).into_response()).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such case"))
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such case")),
    }
}

pub(super) async fn get_result(State(st): State<AppState>, Extension(auth): Extension<Authed>, Path(case_number): Path<String>) -> Result<Response, ApiError> {
    let store = st.store.clone();
    let result = blocking(move || store.case_result(&auth.terminal_id, &case_number)).await?;
    let Some((media_type, bytes)) = result else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotAvailable, "no result document for this case"));
    };
    let ct = HeaderValue::from_str(&media_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, ct)], bytes).into_response())
}

pub(super) async fn put_evaluation(
    State(st): State<AppState>,
    Extension(auth): Extension<Authed>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<EvaluationAck>), ApiError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::invalid("the evaluation id in the path is not a UUID"))?;
    let ev: EvaluationUpload = parse_json(&body, "evaluation")?;
    if ev.id != id {
        return Err(ApiError::invalid("the body's id is not the path's id"));
    }
    if ev.evaluation.text.chars().count() > 500 || ev.evaluation.reasons.len() > 20 {
        return Err(ApiError::invalid("an evaluation has at most 500 characters of text and 20 reasons"));
    }
    let store = st.store.clone();
    let now = st.now();
    let terminal = auth.terminal_id.clone();
    let outcome = blocking(move || store.put_evaluation(&terminal, &ev, now)).await?;
    tracing::info!(evaluation = %id, terminal = %auth.terminal_id, ?outcome, "evaluation");
    Ok((put_status(outcome), Json(EvaluationAck { id, outcome })))
}

pub(super) async fn heartbeat(State(st): State<AppState>, Extension(auth): Extension<HeartbeatAuth>, body: Bytes) -> Result<Json<HeartbeatAck>, ApiError> {
    let hb: Heartbeat = parse_json(&body, "heartbeat")?;
    if hb.update.as_ref().is_some_and(|u| u.version.is_empty() || u.version.len() > 64 || u.version.chars().any(char::is_control)) {
        return Err(ApiError::invalid("update.version must be 1..64 printable characters"));
    }
    let (authed, unspent) = match auth {
        HeartbeatAuth::Spent(authed) => (authed, None),
        HeartbeatAuth::Unspent { authed, key, nonce, now_unix, forget_before } => (authed, Some((key, nonce, now_unix, forget_before))),
    };
    let store = st.store.clone();
    let now = st.now();
    let terminal = authed.terminal_id.clone();
    // Nonce, audit anchor, update report, the heartbeat and what the answer
    // needs: one round trip on PostgreSQL for the usual heartbeat, awaited
    // here on a shared connection; what its read leaves unsettled, and
    // SQLite's whole round, on the blocking pool.
    let spend = unspent.as_ref().map(|(key, nonce, now_unix, forget_before)| SpendNonce { key, nonce, now_unix: *now_unix, forget_before: *forget_before });
    let read = match store.read_round_async(&terminal, spend, &hb, now) {
        Some(read) => Some(read.await?),
        None => None,
    };
    let round = match read {
        Some(read) => {
            if read.unsettled.any() {
                blocking(move || store.settle(&terminal, &hb, now, read)).await?
            } else {
                read.round
            }
        }
        None => {
            blocking(move || {
                let spend = unspent.as_ref().map(|(key, nonce, now_unix, forget_before)| SpendNonce { key, nonce, now_unix: *now_unix, forget_before: *forget_before });
                store.heartbeat_round(&terminal, spend, &hb, now)
            })
            .await?
        }
    };
    if let Some(refused) = crate::auth::refusal(&st, round.spend, &authed.terminal_id, "/v1/heartbeat") {
        return Err(refused);
    }
    let audit_anchor = round.audit.map(|(check, held)| {
        if check.is_break() {
            tracing::warn!(terminal = %authed.terminal_id, check = check.code(), "a terminal's audit chain does not extend what the hub anchored");
        }
        held
    });
    let diagnostics = round.diagnostics.map(|id| model::diagnostics::DiagnosticsRequest { id });
    Ok(Json(HeartbeatAck { server_time: now, catalog_version: round.catalog_version, config_version: round.config_version, audit_anchor, diagnostics, update: round.update }))
}

/// The assistants who may log in on the calling terminal (assisted mode).
/// Over the signed channel: only the terminal itself gets its list.
pub(super) async fn operators(State(st): State<AppState>, Extension(auth): Extension<Authed>) -> Result<Json<SignedDocument>, ApiError> {
    let store = st.store.clone();
    let terminal = auth.terminal_id.clone();
    let operators = blocking(move || store.operators_for(&terminal)).await?;
    tracing::info!(terminal = %auth.terminal_id, count = operators.len(), "operator list");
    signed(&st, DocumentKind::Operators, &auth.terminal_id, &OperatorList { generated_at: st.now(), operators })
}

/// An e-license lookup on behalf of the villager at the terminal. The hub
/// cannot see who stands there, so what it enforces is: only enrolled,
/// active terminals ask; each is allowed the distinct people a village
/// kiosk serves in a day; and every lookup, allowed or not, is audited
/// (terminal, time, material, ID number masked) so the province can check
/// lookups against the filings that followed.
pub(super) async fn e_license(State(st): State<AppState>, Extension(auth): Extension<Authed>, body: Bytes) -> Result<Response, ApiError> {
    let q: ELicenseQuery = parse_json(&body, "e-license query")?;
    if q.material_code.is_empty() || q.material_code.chars().count() > 64 || q.material_code.chars().any(char::is_control) {
        return Err(ApiError::invalid("the material code must be 1..64 printable characters"));
    }
    let masked = q.id_number.masked();
    let id_number = zeroize::Zeroizing::new(q.id_number.expose().to_owned());
    let (store, terminal, material, id_masked) = (st.store.clone(), auth.terminal_id.clone(), q.material_code.clone(), masked.clone());
    let (max, now) = (st.e_license_people_per_day, st.now());
    let seq = blocking(move || {
        let lookup = LookupAudit { terminal: &terminal, material_code: &material, id_masked: &id_masked, id_number: &id_number };
        store.audit_e_license(&lookup, max, now)
    })
    .await
    .inspect_err(|e| tracing::warn!(terminal = %auth.terminal_id, material = %q.material_code, id = %masked, code = ?e.code(), "e-license lookup refused"))?;
    let answer = st.connector.lookup_e_license(&q).await;
    let outcome = match &answer {
        Ok(a) if a.available => "found",
        Ok(_) => "not_found",
        Err(_) => "unavailable",
    };
    tracing::info!(terminal = %auth.terminal_id, material = %q.material_code, id = %masked, outcome, "e-license lookup");
    let store = st.store.clone();
    if let Err(e) = blocking(move || store.audit_e_license_outcome(seq, outcome)).await {
        tracing::warn!(code = ?e.code(), "e-license audit outcome not recorded");
    }
    match answer {
        Ok(answer) => Ok(Json(answer).into_response()),
        Err(e) => {
            tracing::warn!(connector = st.connector.name(), error = %e, "e-license lookup failed");
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, "the e-license library is not reachable now"))
        }
    }
}
