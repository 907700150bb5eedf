//! Progress at any terminal (issue 16): a receipt together with the card of
//! the person who filed it, asked from another terminal; the hub answers
//! only on a match, says the same for every miss, and caps misses.

use std::sync::Arc;

use hub::backoffice::{decide, Decision};
use hub::HubOptions;
use model::evaluation::{Evaluation, Rating};
use model::fixtures::{id_number, id_number_string, SAMPLE_ID_FIRST17, VILLAGER_ID_FIRST17};
use model::protocol::{EvaluationUpload, ProgressAnswer};
use model::CaseStatus;
use reqwest::{Method, StatusCode};
use time::OffsetDateTime;

use crate::common::{error_code, platform_key, seal, submission, Api};

/// A hub holding the platform key, with the van that filed and a village
/// kiosk enrolled separately.
async fn two_terminals(dir: &std::path::Path, misses: Option<u64>) -> (hub::Hub, Api, Api, Arc<model::seal::PlatformSecretKey>) {
    let key = Arc::new(platform_key());
    let options = HubOptions {
        platform_key: Some(key.clone()),
        progress_misses_per_day: misses,
        ..HubOptions::default()
    };
    let hub = crate::common::spawn_hub(dir, options).await;
    let van = Api::new(&hub, "GS-VAN-0007");
    van.register(&hub).await;
    let kiosk = Api::new(&hub, "GS-KIOSK-0100");
    kiosk.register(&hub).await;
    (hub, van, kiosk, key)
}

async fn file(api: &Api, key: &model::seal::PlatformSecretKey) -> (model::SubmissionId, model::CaseNumber) {
    let sub = submission(vec![]);
    let sealed = seal(key, &sub, &[]);
    assert_eq!(api.put_manifest(sub.id, sealed.envelope.to_bytes()).await.status(), StatusCode::CREATED);
    let commit: model::protocol::CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    (sub.id, commit.case_number)
}

async fn ask(api: &Api, receipt: &str, first17: &str) -> reqwest::Response {
    let body = serde_json::json!({ "receipt": receipt, "id_number": id_number_string(first17) });
    api.send(Method::POST, "/v1/progress", serde_json::to_vec(&body).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_terminal_sees_progress_only_with_the_filers_card() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, van, kiosk, key) = two_terminals(dir.path(), None).await;
    let (sid, case) = file(&van, &key).await;
    decide(hub.store(), case.as_str(), Decision::Accept, "王科员").await.unwrap();

    // The card that filed it, by case number and by the receipt's submission id.
    for receipt in [case.to_string(), sid.to_string()] {
        let resp = ask(&kiosk, &receipt, SAMPLE_ID_FIRST17).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let answer: ProgressAnswer = resp.json().await.unwrap();
        assert_eq!(answer.cases.len(), 1);
        let c = &answer.cases[0];
        assert_eq!((&c.case_number, c.submission_id, c.status, c.filed_here), (&case, sid, CaseStatus::Accepted, false));
        assert_eq!(c.history.iter().map(|s| s.status).collect::<Vec<_>>(), [CaseStatus::Received, CaseStatus::Accepted]);
        assert_eq!(c.item_code, "620000RS0001");
        assert!(!c.result_available && c.followup_reply.is_none());
    }
    // The van itself is told the case is its own.
    let own: ProgressAnswer = ask(&van, case.as_str(), SAMPLE_ID_FIRST17).await.json().await.unwrap();
    assert!(own.cases[0].filed_here);

    // Another card, and a receipt that does not exist: the same answer, word for word.
    let wrong_card = error_code(ask(&kiosk, case.as_str(), VILLAGER_ID_FIRST17).await).await;
    let no_receipt = error_code(ask(&kiosk, "62202612059999999", SAMPLE_ID_FIRST17).await).await;
    assert_eq!(wrong_card, no_receipt);
    assert_eq!(wrong_card.code, model::protocol::ErrorCode::NotFound);
    // Misses are audited with the receipt masked and never the number.
    let audit = hub.store().hub_audit_tail(20).unwrap();
    let misses: Vec<_> = audit.iter().filter(|e| e.action == "progress lookup").collect();
    assert_eq!(misses.len(), 2, "{audit:?}");
    assert!(misses.iter().all(|e| e.actor == "GS-KIOSK-0100" && e.outcome == "not_found"));
    let text = format!("{audit:?}");
    assert!(!text.contains(&id_number_string(VILLAGER_ID_FIRST17)) && !text.contains(case.as_str()), "{text}");

    // Not a receipt at all: refused before any lookup.
    assert_eq!(ask(&kiosk, "hello", SAMPLE_ID_FIRST17).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A bad rating from the van, answered by the back office: the kiosk shows the answer.
    let ev = EvaluationUpload {
        id: uuid::Uuid::now_v7(),
        evaluation: Evaluation { case_number: case.clone(), rating: Rating::Dissatisfied, reasons: vec!["等的时间太长".into()], text: String::new() },
        rated_at: OffsetDateTime::now_utc(),
    };
    assert!(van.send(Method::PUT, &format!("/v1/evaluations/{}", ev.id), serde_json::to_vec(&ev).unwrap()).await.status().is_success());
    hub.store().reply_followup(ev.id, "已加派人手，下次不用久等。", "李主任", OffsetDateTime::now_utc()).unwrap();
    // Done, with the result document: printable at the kiosk with the card.
    decide(hub.store(), case.as_str(), Decision::Complete { result_pdf: Some(b"%PDF-1.4 result".to_vec()) }, "王科员").await.unwrap();
    let answer: ProgressAnswer = ask(&kiosk, case.as_str(), SAMPLE_ID_FIRST17).await.json().await.unwrap();
    let c = &answer.cases[0];
    assert_eq!(c.followup_reply.as_deref(), Some("已加派人手，下次不用久等。"));
    assert_eq!((c.status, c.result_available), (CaseStatus::Done, true));
    assert_eq!(c.history.last().map(|s| s.status), Some(CaseStatus::Done));
    let body = serde_json::json!({ "receipt": case.as_str(), "id_number": id_number_string(SAMPLE_ID_FIRST17) });
    let doc = kiosk.send(Method::POST, "/v1/progress/result", serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(doc.status(), StatusCode::OK);
    assert_eq!(doc.bytes().await.unwrap().as_ref(), b"%PDF-1.4 result");
    let body = serde_json::json!({ "receipt": case.as_str(), "id_number": id_number_string(VILLAGER_ID_FIRST17) });
    assert_eq!(kiosk.send(Method::POST, "/v1/progress/result", serde_json::to_vec(&body).unwrap()).await.status(), StatusCode::NOT_FOUND);
    // The old per-terminal result route still refuses the kiosk.
    assert_eq!(kiosk.get(&format!("/v1/cases/{case}/result")).await.status(), StatusCode::NOT_FOUND);
    drop(id_number(SAMPLE_ID_FIRST17));
    hub.shutdown().await.unwrap();
}

/// A rogue terminal walking ID numbers for a receipt it saw is stopped after
/// a few misses a day, even when it then tries the right number; the other
/// terminals keep their own allowance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_walking_numbers_is_stopped_after_its_misses() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, van, rogue, key) = two_terminals(dir.path(), Some(3)).await;
    let (_, case) = file(&van, &key).await;
    let guesses = ["62292619520307001", "62292619520307003", "62292619520307004"];
    for g in guesses {
        assert_eq!(ask(&rogue, case.as_str(), g).await.status(), StatusCode::NOT_FOUND);
    }
    let refused = ask(&rogue, case.as_str(), SAMPLE_ID_FIRST17).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().get("retry-after").is_some());
    assert_eq!(error_code(refused).await.code, model::protocol::ErrorCode::QuotaExceeded);
    assert_eq!(ask(&van, case.as_str(), SAMPLE_ID_FIRST17).await.status(), StatusCode::OK, "the van's allowance is its own");
    hub.shutdown().await.unwrap();
}

/// A hub that cannot open filings (no platform key) keeps no applicant tag:
/// no other terminal can be shown the case, whatever it sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_platform_key_no_other_terminal_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let hub = crate::common::spawn_hub(dir.path(), HubOptions::default()).await;
    let (van, kiosk) = (Api::new(&hub, "GS-VAN-0007"), Api::new(&hub, "GS-KIOSK-0100"));
    van.register(&hub).await;
    kiosk.register(&hub).await;
    let (_, case) = file(&van, &platform_key()).await;
    assert_eq!(ask(&kiosk, case.as_str(), SAMPLE_ID_FIRST17).await.status(), StatusCode::NOT_FOUND);
    hub.shutdown().await.unwrap();
}

/// A bundle filed at the van, asked at the kiosk with the filer's card: the
/// answer lists each part with its own case, status and, for the part the
/// back office rejected, its reason (both store backends: `progress::`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundles_progress_lists_each_part_with_the_back_offices_reason() {
    const PARTS: [&str; 3] = ["620000RS0013", "620000RS0016", "620000RS0019"];
    let dir = tempfile::tempdir().unwrap();
    let (hub, van, kiosk, key) = two_terminals(dir.path(), None).await;
    let mut sub = submission(vec![]);
    sub.item_code = model::ImplementCode::parse("620000YJS004").unwrap();
    sub.bundle_code = Some(sub.item_code.clone());
    sub.parts = PARTS.iter().map(|c| model::ImplementCode::parse(c).unwrap()).collect();
    let sealed = seal(&key, &sub, &[]);
    assert_eq!(van.put_manifest(sub.id, sealed.envelope.to_bytes()).await.status(), StatusCode::CREATED);
    let case = van.commit(sub.id).await.json::<model::protocol::CommitResponse>().await.unwrap().case_number;
    let part = |n: usize| format!("{case}P{n}");
    hub::backoffice::decide_part(hub.store(), &part(1), Decision::Accept, "王科员").await.unwrap();
    hub::backoffice::decide_part(hub.store(), &part(3), Decision::Reject { reason: "请先到乡镇就业服务站登记技能".into() }, "李科员").await.unwrap();

    for receipt in [case.to_string(), sub.id.to_string()] {
        let answer: ProgressAnswer = ask(&kiosk, &receipt, SAMPLE_ID_FIRST17).await.json().await.unwrap();
        let c = &answer.cases[0];
        assert_eq!((c.item_code.as_str(), c.status), ("620000YJS004", CaseStatus::Received));
        let got: Vec<(&str, String, CaseStatus, Option<&str>)> =
            c.parts.iter().map(|p| (p.item_code.as_str(), p.case_number.to_string(), p.status, p.reason.as_deref())).collect();
        assert_eq!(
            got,
            [
                (PARTS[0], part(1), CaseStatus::Accepted, None),
                (PARTS[1], part(2), CaseStatus::Received, None),
                (PARTS[2], part(3), CaseStatus::Rejected, Some("请先到乡镇就业服务站登记技能")),
            ]
        );
    }
    // A single item's answer carries no parts (and none on the wire).
    let (_, single) = file(&van, &key).await;
    let raw: serde_json::Value = ask(&kiosk, single.as_str(), SAMPLE_ID_FIRST17).await.json().await.unwrap();
    assert!(raw["cases"][0].get("parts").is_none(), "{raw}");
    hub.shutdown().await.unwrap();
}
