//! `POST /v1/progress` and `POST /v1/progress/result`: progress and result
//! documents at any terminal, for a receipt together with the card of the
//! person who filed it (issue 16; the store compares keyed hashes).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use model::protocol::{ErrorCode, ProgressAnswer, ProgressCase, ProgressQuery};

use crate::auth::Authed;
use crate::progress::{ProgressLookup, Receipt};

use super::error::*;
use super::state::*;

/// The same answer for "no such receipt" and "not this card's": a
/// terminal must not learn which receipts exist.
fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no filing with this receipt and this ID number")
}

/// Looks the receipt up for the card; audits misses (terminal, time,
/// masked receipt; never the number) and answers 404 for them.
async fn look_up(st: &AppState, auth: &Authed, body: &Bytes) -> Result<Vec<ProgressCase>, ApiError> {
    let q: ProgressQuery = parse_json(body, "progress query")?;
    let Some(receipt) = Receipt::parse(&q.receipt) else {
        return Err(ApiError::invalid("the receipt is neither a case number nor a submission id"));
    };
    let masked = receipt.masked();
    let (store, terminal, max, now) = (st.store.clone(), auth.terminal_id.clone(), st.progress_misses_per_day, st.now());
    let id_number = q.id_number.clone();
    let found = blocking(move || {
        let lookup = ProgressLookup { terminal: &terminal, receipt: &receipt, id_number: &id_number, max_misses_per_day: max };
        store.progress(&lookup, now)
    })
    .await
    .inspect_err(|e| tracing::warn!(terminal = %auth.terminal_id, code = ?e.code(), "progress lookup refused"))?;
    match found {
        Some(cases) => {
            tracing::info!(terminal = %auth.terminal_id, cases = cases.len(), "progress lookup");
            Ok(cases)
        }
        None => {
            tracing::info!(terminal = %auth.terminal_id, receipt = %masked, "progress lookup found nothing");
            let (store, terminal) = (st.store.clone(), auth.terminal_id.clone());
            if let Err(e) = blocking(move || store.hub_audit(&terminal, "progress lookup", Some(&masked), "not_found", now)).await {
                tracing::warn!(code = ?e.code(), "progress miss not audited");
            }
            Err(not_found())
        }
    }
}

pub(super) async fn progress(State(st): State<AppState>, Extension(auth): Extension<Authed>, body: Bytes) -> Result<Json<ProgressAnswer>, ApiError> {
    let cases = look_up(&st, &auth, &body).await?;
    Ok(Json(ProgressAnswer { cases }))
}

/// The result document of the case the receipt names (the newest with one),
/// for printing at the asking terminal.
pub(super) async fn result(State(st): State<AppState>, Extension(auth): Extension<Authed>, body: Bytes) -> Result<Response, ApiError> {
    let cases = look_up(&st, &auth, &body).await?;
    let Some(case) = cases.into_iter().find(|c| c.result_available) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotAvailable, "this case has no result document"));
    };
    let store = st.store.clone();
    let number = case.case_number.as_str().to_owned();
    let doc = blocking(move || store.any_case_result(&number)).await?;
    match doc {
        Some((media_type, bytes)) => {
            tracing::info!(terminal = %auth.terminal_id, case = %case.case_number, "result document for a progress lookup");
            Ok(([(header::CONTENT_TYPE, media_type)], bytes).into_response())
        }
        None => Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotAvailable, "this case has no result document")),
    }
}
