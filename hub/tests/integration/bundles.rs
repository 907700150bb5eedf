//! Bundle filings (一件事一次办): one sealed submission naming its parts,
//! one case for the receipt, a case per part opened at commit (also by a
//! hub without the platform key: the parts are in the envelope's clear
//! header), each decided on its own, reported to the terminal.

use std::process::Command;

use crate::common::{self, platform_key, seal, submission};
use hub::backoffice::{decide_part, BackOfficeError, Decision};
use model::protocol::{CaseStatusList, CaseStatusQuery, CaseView, CommitResponse};
use model::{CaseStatus, ImplementCode};
use reqwest::{Method, StatusCode};

const PARTS: [&str; 3] = ["620000RS0013", "620000RS0016", "620000RS0019"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_is_split_into_a_case_per_part_decided_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = common::start(dir.path()).await;
    let mut sub = submission(vec![]);
    sub.item_code = ImplementCode::parse("620000YJS004").unwrap();
    sub.bundle_code = Some(sub.item_code.clone());
    sub.parts = PARTS.iter().map(|c| ImplementCode::parse(c).unwrap()).collect();
    let sealed = seal(&platform_key(), &sub, &[]);
    assert_eq!(api.put_manifest(sub.id, sealed.envelope.to_bytes()).await.status(), StatusCode::CREATED);
    let commit: CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    // A replayed commit opens nothing twice.
    let again: CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    assert_eq!(again.case_number, commit.case_number);
    let case = commit.case_number.to_string();

    let view: CaseView = api.get(&format!("/v1/cases/{case}")).await.json().await.unwrap();
    assert_eq!(view.item_code, "620000YJS004");
    let parts: Vec<(&str, String, CaseStatus)> = view.parts.iter().map(|p| (p.item_code.as_str(), p.case_number.to_string(), p.status)).collect();
    let expected: Vec<(&str, String, CaseStatus)> =
        PARTS.iter().enumerate().map(|(i, c)| (*c, format!("{case}P{}", i + 1), CaseStatus::Received)).collect();
    assert_eq!(parts, expected);

    // Each part by its own rules: no skipping from received to done, a
    // rejection needs words, a result document belongs to the bundle's case.
    let store = hub.store();
    let part = |n: usize| format!("{case}P{n}");
    assert!(decide_part(store.clone(), &part(1), Decision::Complete { result_pdf: None }, "t").await.is_err());
    assert!(matches!(decide_part(store.clone(), &part(2), Decision::Reject { reason: " ".into() }, "t").await, Err(BackOfficeError::ReasonNeeded)));
    let pdf = Decision::Complete { result_pdf: Some(b"%PDF-1.4".to_vec()) };
    assert!(matches!(decide_part(store.clone(), &part(1), pdf, "t").await, Err(BackOfficeError::ResultOnPart)));
    assert!(decide_part(store.clone(), &format!("{case}P9"), Decision::Accept, "t").await.is_err(), "no such part");
    decide_part(store.clone(), &part(2), Decision::Reject { reason: "缺少离职证明".into() }, "t").await.unwrap();

    // The CLI decides a part by its number and says whose part it is (on
    // the SQLite run; the PostgreSQL run decides through the store).
    if super::common::child_run() {
        decide_part(store.clone(), &part(1), Decision::Accept, "t").await.unwrap();
    } else {
        cli_accept(dir.path(), &case, &part(1));
    }

    // The terminal's status pull carries the parts; the bundle's case is untouched.
    let body = serde_json::to_vec(&CaseStatusQuery { submission_ids: vec![sub.id] }).unwrap();
    let list: CaseStatusList = api.send(Method::POST, "/v1/case-status", body).await.json().await.unwrap();
    let entry = &list.cases[0];
    assert_eq!(entry.status, CaseStatus::Received);
    let got: Vec<(CaseStatus, Option<&str>)> = entry.parts.iter().map(|p| (p.status, p.reason.as_deref())).collect();
    assert_eq!(got, [(CaseStatus::Accepted, None), (CaseStatus::Rejected, Some("缺少离职证明")), (CaseStatus::Received, None)]);
    hub.shutdown().await.unwrap();
}

/// `hub case accept <part>` against the SQLite database.
fn cli_accept(dir: &std::path::Path, case: &str, part: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_hub")).arg("--db").arg(dir.join("hub.db")).args(["case", "accept", part]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), format!("case {part} (part of {case}, item {}) is now accepted", PARTS[0]));
}
