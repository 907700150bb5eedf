//! 好差评 that reach someone: a bad rating opens a follow-up with a
//! deadline, the back office answers it, the report counts per village and item.

use std::process::Command;

use hub::FOLLOW_UP_WITHIN;
use model::evaluation::{Evaluation, Rating};
use model::protocol::EvaluationUpload;
use reqwest::{Method, StatusCode};
use time::OffsetDateTime;

use crate::common::{file_case, rate, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rating_opens_a_follow_up_the_back_office_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let store = hub.store();
    let (_, good) = file_case(&api).await;
    let (_, bad) = file_case(&api).await;
    let (_, worse) = file_case(&api).await;
    let before = OffsetDateTime::now_utc();
    rate(&api, &good, Rating::Satisfied, &[]).await;
    let bad_id = rate(&api, &bad, Rating::Dissatisfied, &["等的时间太长"]).await;
    rate(&api, &worse, Rating::VeryDissatisfied, &["机器不好用"]).await;

    // Each 不满意/非常不满意 is a follow-up with its deadline; 满意 is none.
    let open = store.followups(true).unwrap();
    assert_eq!(open.len(), 2, "{open:?}");
    let f = open.iter().find(|f| f.evaluation_id == bad_id).unwrap();
    assert_eq!((f.case_number.as_str(), f.rating, f.terminal_id.as_str()), (bad.as_str(), Rating::Dissatisfied, "GS-0001"));
    assert_eq!(f.reasons, ["等的时间太长"]);
    assert_eq!(f.item_code, "620000RS0001");
    assert!(f.due_at >= before + FOLLOW_UP_WITHIN - time::Duration::minutes(1) && f.due_at <= OffsetDateTime::now_utc() + FOLLOW_UP_WITHIN);
    assert!(store.followups_of_case(good.as_str()).unwrap().is_empty());

    // The back office answers through the CLI; once.
    let db = super::common::cli_db(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_hub")).args(&db).args(["followup", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && listed.contains(&bad_id.to_string()) && listed.contains("不满意") && listed.contains("open"), "{listed}");
    let reply = "已加派人手，下次不用久等。给您添麻烦了。";
    let out = Command::new(env!("CARGO_BIN_EXE_hub")).args(&db).args(["followup", "reply", "--id", &bad_id.to_string(), "--text", reply]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = Command::new(env!("CARGO_BIN_EXE_hub")).args(&db).args(["followup", "reply", "--id", &bad_id.to_string(), "--text", "x"]).output().unwrap();
    assert!(!again.status.success(), "a follow-up is answered once");
    let answered = store.followups_of_case(bad.as_str()).unwrap();
    assert_eq!(answered[0].reply.as_ref().map(|r| r.0.as_str()), Some(reply));
    assert_eq!(store.followups(true).unwrap().len(), 1, "one left open");

    // The report: per village and item, each grade, open follow-ups.
    let report = store.ratings_report().unwrap();
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].item_code, "620000RS0001");
    assert_eq!(report[0].counts, [0, 1, 0, 1, 1]);
    assert_eq!(report[0].open_followups, 1);
    let out = Command::new(env!("CARGO_BIN_EXE_hub")).args(&db).args(["ratings", "report"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().nth(1).is_some_and(|l| l.ends_with("620000RS0001\t0\t1\t0\t1\t1\t1")), "{text}");
    // A rating twice is refused (once per case), and opens nothing more.
    let id = uuid::Uuid::now_v7();
    let ev = EvaluationUpload { id, evaluation: Evaluation { case_number: bad.clone(), rating: Rating::VeryDissatisfied, reasons: vec![], text: String::new() }, rated_at: OffsetDateTime::now_utc() };
    assert_eq!(api.send(Method::PUT, &format!("/v1/evaluations/{id}"), serde_json::to_vec(&ev).unwrap()).await.status(), StatusCode::CONFLICT);
    assert_eq!(store.followups(false).unwrap().len(), 2);
    hub.shutdown().await.unwrap();
}

/// Bad ratings kept before follow-ups existed get one when the hub migrates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ratings_from_before_the_migration_get_a_follow_up() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let (_, bad) = file_case(&api).await;
    let id = rate(&api, &bad, Rating::VeryDissatisfied, &[]).await;
    hub.shutdown().await.unwrap();
    // Back to the schema before this step, the rating kept.
    let db = dir.path().join("hub.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    // The catalog-delta step (issue 15), the audit-break acknowledgements
    // (issue 19), the progress step (issue 16) and the bundle-part step
    // (issue 15), the shared rate limits (issue 17), the mail outbox and the
    // backlog indexes (dropped with their tables) came after this one: undone first.
    conn.execute_batch(&format!(
        "DROP TABLE mail_orders; DROP INDEX cases_by_created; DROP TABLE rate_limits; DROP TABLE case_parts; DROP TABLE rating_forwards; DROP INDEX submissions_by_applicant; ALTER TABLE submissions DROP COLUMN applicant_tag; DROP TABLE progress_misses;
         DELETE FROM hub_secrets WHERE name = 'applicant_tag';
         DROP TRIGGER audit_breaks_acknowledged_once; ALTER TABLE audit_breaks DROP COLUMN acknowledged_by;
         ALTER TABLE audit_breaks DROP COLUMN acknowledged_at; ALTER TABLE audit_breaks DROP COLUMN acknowledged_why;
         ALTER TABLE catalogs DROP COLUMN delta; DROP TABLE rating_followups; DROP TABLE sms_outbox; PRAGMA user_version = {};",
        version - 8
    ))
    .unwrap();
    drop(conn);
    let hub = hub::Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &db, hub::HubOptions::default()).await.unwrap();
    let f = hub.store().followups(true).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].evaluation_id, f[0].rating), (id, Rating::VeryDissatisfied));
    assert!((f[0].due_at - f[0].opened_at - FOLLOW_UP_WITHIN).abs() < time::Duration::seconds(1), "{f:?}");
    hub.shutdown().await.unwrap();
}
