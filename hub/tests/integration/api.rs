//! The hub's wire contract, over real HTTP on loopback, as a registered terminal.

use crate::common;

use std::collections::{BTreeMap, HashSet};

use crate::common::{error_code, platform_key, seal, start, start_with, submission};
use hub::{HubDb, HubOptions};
use model::auth::SignedCatalog;
use model::protocol::{CaseView, CommitResponse, ErrorCode, Health, PutOutcome, PutResponse, SERVICE_NAME};
use model::submission::AttachmentRef;
use model::{CaseStatus, Catalog, Submission, SubmissionId};
use reqwest::StatusCode;

#[tokio::test]
async fn health_names_the_service_and_the_catalog_comes_signed_by_version() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    // Anyone may ask: it is how a terminal tells its hub from a captive portal.
    let http = common::http();
    let health: Health = http.get(format!("{}/v1/health", hub.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(health.service, SERVICE_NAME);

    // No catalog published: nothing to pull.
    let resp = api.get("/v1/catalog").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(resp).await.code, ErrorCode::NotAvailable);

    let catalog_key = common::random_key();
    let signed = SignedCatalog::sign(&catalog_key, Catalog::starter_json().as_bytes()).unwrap();
    hub.publish_catalog(signed.clone()).await.unwrap();
    let got: SignedCatalog = http.get(format!("{}/v1/catalog", hub.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(got, signed);
    assert_eq!(got.verify(&catalog_key.public_key()).unwrap().0, Catalog::starter());
    let v = signed.version;
    assert_eq!(api.get(&format!("/v1/catalog?since={v}")).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.get(&format!("/v1/catalog?since={}", v - 1)).await.status(), StatusCode::OK);
    assert_eq!(api.get("/v1/catalog?since=soon").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn identical_replay_is_200_and_stores_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let sub = submission(vec![]);
    let body = seal(&platform_key(), &sub, &[]).envelope.to_bytes();

    let first = api.put_manifest(sub.id, body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(first.json::<PutResponse>().await.unwrap().outcome, PutOutcome::Stored);
    let again = api.put_manifest(sub.id, body.clone()).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<PutResponse>().await.unwrap().outcome, PutOutcome::Replayed);

    let db = super::common::db(dir.path());
    assert_eq!(db.submission_count(sub.id).unwrap(), 1);
    assert_eq!(db.submission_body(sub.id).unwrap(), Some(body));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn different_body_under_the_same_id_is_409_and_the_first_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let key = platform_key();
    let sub = submission(vec![]);
    let first = seal(&key, &sub, &[]).envelope.to_bytes();
    // Sealing again draws a new data key: other bytes under the same id.
    let second = seal(&key, &sub, &[]).envelope.to_bytes();
    assert_ne!(first, second);

    assert_eq!(api.put_manifest(sub.id, first.clone()).await.status(), StatusCode::CREATED);
    let resp = api.put_manifest(sub.id, second).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(resp).await.code, ErrorCode::DifferentBody, "the terminal's own doing, and it says so");

    let db = super::common::db(dir.path());
    assert_eq!(db.submission_body(sub.id).unwrap(), Some(first));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_envelopes_are_422_without_echoing_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let sub = submission(vec![]);

    // A plain submission is no longer accepted: it must come sealed.
    let resp = api.put_manifest(sub.id, sub.canonical_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_code(resp).await;
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(!err.message.contains("张三"), "message echoes personal data: {}", err.message);

    // A clear field with a bad value: serde's own message would quote it.
    let sealed = seal(&platform_key(), &sub, &[]);
    let mut json: serde_json::Value = serde_json::from_slice(&sealed.envelope.to_bytes()).unwrap();
    json["item_code"] = serde_json::Value::String("张三的身份证号码".into());
    let resp = api.put_manifest(sub.id, serde_json::to_vec(&json).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_code(resp).await;
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(!err.message.contains("张三"), "message echoes personal data: {}", err.message);

    // A truncated wrapped key: the shape check catches it without the platform key.
    let mut env = sealed.envelope.clone();
    env.wrapped_key.truncate(10);
    let resp = api.put_manifest(sub.id, env.to_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_code(resp).await.message.contains("wrapped_key"));

    // A valid envelope under another id's path.
    let resp = api.put_manifest(SubmissionId::new(), sealed.envelope.to_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(resp).await.code, ErrorCode::Invalid);

    let db = super::common::db(dir.path());
    assert_eq!(db.total_submissions().unwrap(), 0);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_hub_with_the_platform_key_refuses_what_it_cannot_open_and_unseals_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let key = std::sync::Arc::new(platform_key());
    let (hub, api) = start_with(dir.path(), HubOptions { platform_key: Some(key.clone()), ..HubOptions::default() }).await;

    // Sealed to a key the platform doesn't hold (a terminal configured wrongly).
    let stray = submission(vec![]);
    let resp = api.put_manifest(stray.id, seal(&platform_key(), &stray, &[]).envelope.to_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_code(resp).await;
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("platform key"), "{}", err.message);

    // Sealed to the platform: stored, then opened whole, attachment included.
    let scan = b"%PDF household register".to_vec();
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let sub = submission(vec![scan_ref.clone()]);
    super::common::file_sealed(&api, &key, &sub, &scan).await;

    let db = super::common::db(dir.path());
    let stored = db.submission_body(sub.id).unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("张三"), "the hub stores the envelope, sealed");
    assert!(!db.has_attachment(&scan_ref.sha256).unwrap(), "attachments are stored sealed, by their sealed hash");
    let opened = db.open_submission(sub.id, &key).unwrap().expect("stored");
    assert_eq!(opened.submission, sub);
    assert_eq!(opened.attachments.len(), 1);
    assert_eq!(opened.attachments[0].0, scan_ref);
    assert_eq!(opened.attachments[0].1.as_slice(), scan.as_slice());
    // The wrong key opens nothing.
    assert!(matches!(db.open_submission(sub.id, &platform_key()), Err(hub::StoreError::Unseal { .. })));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn commit_twice_gives_the_same_case_number() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let sub = submission(vec![]);
    api.put_manifest(sub.id, seal(&platform_key(), &sub, &[]).envelope.to_bytes()).await;

    let first = api.commit(sub.id).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: CommitResponse = first.json().await.unwrap();
    let second: CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    assert_eq!(first.case_number, second.case_number);
    let n = first.case_number.as_str();
    assert!(n.len() >= 17 && n.starts_with("62") && n.bytes().all(|b| b.is_ascii_digit()), "case number {n}");

    let view: CaseView = api.get(&format!("/v1/cases/{n}")).await.json().await.unwrap();
    assert_eq!(view.submission_id, sub.id);
    assert_eq!(view.item_code, "620000RS0001");
    assert_eq!(view.status, CaseStatus::Received);

    let db = super::common::db(dir.path());
    assert_eq!(db.case_count().unwrap(), 1);
    assert_eq!(db.case_for(sub.id).unwrap(), Some(first.case_number));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn commit_of_an_unknown_submission_or_case_is_404() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let resp = api.commit(SubmissionId::new()).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(resp).await.code, ErrorCode::NotFound);
    let resp = api.get("/v1/cases/62202601010000001").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn commit_waits_for_every_attachment() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let scan = b"%PDF-1.7 household register".to_vec();
    let photo = vec![0xFFu8, 0xD8, 0xFF, 0xE0, 1, 2, 3];
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let photo_ref = AttachmentRef::for_bytes("photo", "image/jpeg", &photo);
    let sub = submission(vec![scan_ref, photo_ref]);
    let sealed = seal(&platform_key(), &sub, &[&scan, &photo]);
    let (sealed_scan, sealed_photo) = (&sealed.attachments[0], &sealed.attachments[1]);
    api.put_manifest(sub.id, sealed.envelope.to_bytes()).await;

    let resp = api.put_attachment(sub.id, &sealed_scan.sha256, sealed_scan.bytes.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = api.commit(sub.id).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_code(resp).await;
    assert_eq!(err.code, ErrorCode::MissingAttachments);
    assert!(err.message.contains(&sealed_photo.sha256));
    let db = super::common::db(dir.path());
    assert_eq!(db.case_for(sub.id).unwrap(), None);

    // Re-sending bytes already held is a replay.
    assert_eq!(api.put_attachment(sub.id, &sealed_scan.sha256, sealed_scan.bytes.clone()).await.status(), StatusCode::OK);
    assert_eq!(api.put_attachment(sub.id, &sealed_photo.sha256, sealed_photo.bytes.clone()).await.status(), StatusCode::CREATED);
    assert_eq!(api.commit(sub.id).await.status(), StatusCode::OK);
    assert!(db.case_for(sub.id).unwrap().is_some());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn attachment_bytes_must_match_the_hash_and_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let scan = b"scan bytes".to_vec();
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let sub = submission(vec![scan_ref.clone()]);
    let sealed = seal(&platform_key(), &sub, &[&scan]);
    let part = &sealed.attachments[0];
    api.put_manifest(sub.id, sealed.envelope.to_bytes()).await;

    let resp = api.put_attachment(sub.id, &part.sha256, vec![0u8; part.bytes.len()]).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(resp).await.code, ErrorCode::HashMismatch);
    let db = super::common::db(dir.path());
    assert!(!db.has_attachment(&part.sha256).unwrap());
    // A body shorter than the attachment, ending cleanly: malformed, nothing kept.
    let resp = api.put_attachment(sub.id, &part.sha256, b"short".to_vec()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let status: model::protocol::UploadStatus = api.get(&format!("/v1/submissions/{}/attachments/{}", sub.id, part.sha256)).await.json().await.unwrap();
    assert_eq!((status.received, status.complete), (0, false));

    // The plain bytes under their plain hash: not what the envelope lists.
    let resp = api.put_attachment(sub.id, &scan_ref.sha256, scan.clone()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(resp).await.code, ErrorCode::Invalid);
    assert!(!db.has_attachment(&scan_ref.sha256).unwrap());
    // For a submission the hub doesn't hold.
    let resp = api.put_attachment(SubmissionId::new(), &part.sha256, part.bytes.clone()).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(!db.has_attachment(&part.sha256).unwrap());
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_of_one_id_store_one_row_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let sub = submission(vec![]);
    let body = seal(&platform_key(), &sub, &[]).envelope.to_bytes();
    let api = std::sync::Arc::new(api);

    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (api, id, body) = (api.clone(), sub.id, body.clone());
        tasks.push(tokio::spawn(async move { api.put_manifest(id, body).await.status() }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::OK), "{statuses:?}");

    let db = super::common::db(dir.path());
    assert_eq!(db.submission_count(sub.id).unwrap(), 1);
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_give_one_case_per_submission_and_distinct_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let key = platform_key();
    let subs: Vec<Submission> = (0..8).map(|_| submission(vec![])).collect();
    for s in &subs {
        api.put_manifest(s.id, seal(&key, s, &[]).envelope.to_bytes()).await;
    }
    let api = std::sync::Arc::new(api);
    let mut tasks = Vec::new();
    for s in &subs {
        for _ in 0..4 {
            let (api, id) = (api.clone(), s.id);
            tasks.push(tokio::spawn(async move {
                let resp = api.commit(id).await;
                assert_eq!(resp.status(), StatusCode::OK);
                resp.json::<CommitResponse>().await.unwrap()
            }));
        }
    }
    let mut by_id: BTreeMap<SubmissionId, HashSet<String>> = BTreeMap::new();
    for t in tasks {
        let c = t.await.unwrap();
        by_id.entry(c.id).or_default().insert(c.case_number.to_string());
    }
    assert!(by_id.values().all(|numbers| numbers.len() == 1), "{by_id:?}");
    let distinct: HashSet<&String> = by_id.values().flatten().collect();
    assert_eq!(distinct.len(), subs.len());
    let db = super::common::db(dir.path());
    assert_eq!(db.case_count().unwrap(), subs.len() as u64);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_body_is_refused_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let big = vec![b' '; hub::BODY_LIMIT + 1];
    let id = SubmissionId::new();
    let resp = api.put_manifest(id, big).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(super::common::db(dir.path()).submission_count(id).unwrap(), 0);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sub = submission(vec![]);
    let body = seal(&platform_key(), &sub, &[]).envelope.to_bytes();
    let (hub, mut api) = start(dir.path()).await;
    api.put_manifest(sub.id, body.clone()).await;
    let before: CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    hub.shutdown().await.unwrap();

    // Same database, new port: the terminal's registration is still there.
    let hub = super::common::spawn_hub(dir.path(), hub::HubOptions::default()).await;
    api.base = hub.base_url();
    assert_eq!(api.put_manifest(sub.id, body).await.status(), StatusCode::OK);
    let after: CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    assert_eq!(before.case_number, after.case_number);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_squatted_submission_id_does_not_block_the_owner() {
    // The receipt QR shows the id while the filing waits offline; another
    // enrolled terminal reads it and PUTs junk under it first.
    let dir = tempfile::tempdir().unwrap();
    let (hub, owner) = start(dir.path()).await;
    let squatter = common::Api::new(&hub, "GS-0002");
    squatter.register(&hub).await;
    let key = platform_key();
    let filing = submission(vec![]);
    let junk = seal(&key, &filing, &[]).envelope.to_bytes();
    assert_eq!(squatter.put_manifest(filing.id, junk).await.status(), StatusCode::CREATED);
    let squatted: model::protocol::CommitResponse = squatter.commit(filing.id).await.json().await.unwrap();

    // The owner's filing goes through as if nothing happened.
    let real = seal(&key, &filing, &[]).envelope.to_bytes();
    assert_eq!(owner.put_manifest(filing.id, real.clone()).await.status(), StatusCode::CREATED);
    let resp = owner.commit(filing.id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let case: model::protocol::CommitResponse = resp.json().await.unwrap();
    assert_ne!(case.case_number, squatted.case_number, "two submissions, two cases");
    let db = super::common::db(dir.path());
    assert_eq!(db.submission_body_of("GS-0001", filing.id).unwrap(), Some(real));
    assert_eq!(db.case_of("GS-0001", filing.id).unwrap(), Some(case.case_number.clone()));

    // Each sees only its own case under the id.
    let query = serde_json::to_vec(&model::protocol::CaseStatusQuery { submission_ids: vec![filing.id] }).unwrap();
    let mine: model::protocol::CaseStatusList = owner.send(reqwest::Method::POST, "/v1/case-status", query.clone()).await.json().await.unwrap();
    assert_eq!(mine.cases.iter().map(|c| c.case_number.clone()).collect::<Vec<_>>(), vec![case.case_number.clone()]);
    let theirs: model::protocol::CaseStatusList = squatter.send(reqwest::Method::POST, "/v1/case-status", query).await.json().await.unwrap();
    assert_eq!(theirs.cases.iter().map(|c| c.case_number.clone()).collect::<Vec<_>>(), vec![squatted.case_number]);
    assert_eq!(squatter.get(&format!("/v1/cases/{}", case.case_number)).await.status(), StatusCode::NOT_FOUND);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_filing_from_before_terminal_ids_is_no_terminals_to_read_or_commit() {
    // A database from before device authentication: a submission with no
    // terminal recorded, which the old hub let any terminal continue.
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("hub.db");
    hub::SqliteStore::create_at_version(&db_path, 5).unwrap();
    let legacy = submission(vec![]);
    let body = seal(&platform_key(), &legacy, &[]).envelope.to_bytes();
    {
        let conn = rusqlite::Connection::open(&db_path).unwrap();
        conn.execute(
            "INSERT INTO submissions (id, body, body_sha256, item_code, received_at, terminal_id) VALUES (?1, ?2, ?3, '620000RS0001', ?4, NULL)",
            // Received just now: the hub's clean-up of long-abandoned filings leaves it alone.
            rusqlite::params![legacy.id.to_string(), body, model::submission::sha256_hex(&body), time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap()],
        )
        .unwrap();
    }
    let (hub, api) = start(dir.path()).await; // migrates to the current schema
    assert_eq!(api.commit(legacy.id).await.status(), StatusCode::NOT_FOUND);
    let query = serde_json::to_vec(&model::protocol::CaseStatusQuery { submission_ids: vec![legacy.id] }).unwrap();
    let list: model::protocol::CaseStatusList = api.send(reqwest::Method::POST, "/v1/case-status", query).await.json().await.unwrap();
    assert!(list.cases.is_empty());
    // Still there for the back office, under no terminal.
    let db = HubDb::open(&db_path).unwrap();
    assert_eq!(db.submission_body_of("", legacy.id).unwrap(), Some(body));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_existing_hub_database_keeps_its_cases_and_case_numbers_across_the_v6_migration() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("hub.db");
    hub::SqliteStore::create_at_version(&db_path, 5).unwrap();
    let filed = submission(vec![]);
    let body = seal(&platform_key(), &filed, &[]).envelope.to_bytes();
    {
        // As the v5 hub left a committed filing of GS-0001: case number 41 of the sequence.
        let conn = rusqlite::Connection::open(&db_path).unwrap();
        let id = filed.id.to_string();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        conn.execute(
            "INSERT INTO submissions (id, body, body_sha256, item_code, received_at, terminal_id) VALUES (?1, ?2, ?3, '620000RS0001', '2026-01-01T00:00:00Z', 'GS-0001')",
            rusqlite::params![id, body, model::submission::sha256_hex(&body)],
        )
        .unwrap();
        conn.execute("INSERT INTO case_numbers (seq, submission_id, day) VALUES (41, ?1, '20260101')", [&id]).unwrap();
        conn.execute(
            "INSERT INTO cases (case_number, submission_id, status, created_at, updated_at) VALUES ('622026010100000041', ?1, 'accepted', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')",
            [&id],
        )
        .unwrap();
        conn.execute("INSERT INTO case_events (case_number, status, actor, at) VALUES ('622026010100000041', 'accepted', 'clerk', '2026-01-02T00:00:00Z')", []).unwrap();
    }
    let (hub, api) = start(dir.path()).await;
    // The owner still has its case: a replayed commit answers the same number, status as decided.
    let again: model::protocol::CommitResponse = api.commit(filed.id).await.json().await.unwrap();
    assert_eq!(again.case_number.as_str(), "622026010100000041");
    let query = serde_json::to_vec(&model::protocol::CaseStatusQuery { submission_ids: vec![filed.id] }).unwrap();
    let list: model::protocol::CaseStatusList = api.send(reqwest::Method::POST, "/v1/case-status", query).await.json().await.unwrap();
    assert_eq!(list.cases.len(), 1);
    assert_eq!(list.cases[0].status, model::CaseStatus::Accepted);
    // New cases continue the sequence; numbers are never reused.
    let (_, next) = common::file_case(&api).await;
    let seq: u64 = next.as_str()[10..].parse().unwrap();
    assert!(seq > 41, "{next}");
    hub.shutdown().await.unwrap();
}
