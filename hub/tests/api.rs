//! The hub's wire contract, over real HTTP on loopback.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use hub::{Hub, HubDb, HubOptions};
use model::catalog::ImplementCode;
use model::identity::check_char;
use model::protocol::{CaseView, CommitResponse, ErrorBody, ErrorCode, Health, PutOutcome, PutResponse, SERVICE_NAME};
use model::seal::{default_suite, seal_submission, PlatformSecretKey, Sealed};
use model::submission::{Applicant, AttachmentRef, Channel, Consent};
use model::{CardType, CaseStatus, Catalog, Gender, IdNumber, Submission, SubmissionId, VillageCode};
use reqwest::StatusCode;
use time::macros::date;
use time::OffsetDateTime;

fn submission(attachments: Vec<AttachmentRef>) -> Submission {
    let first17 = *b"62010219900307123";
    let id_number = format!("62010219900307123{}", check_char(&first17));
    Submission {
        id: SubmissionId::new(),
        item_code: ImplementCode::parse("620000RS0001").unwrap(),
        bundle_code: None,
        applicant: Applicant {
            name: "张三".into(),
            id_number: IdNumber::parse(&id_number).unwrap(),
            card_type: CardType::ResidentId,
            gender: Gender::Male,
            nation_code: "01".into(),
            birth_date: date!(1990 - 03 - 07),
            address: "甘肃省兰州市城关区".into(),
        },
        agent: None,
        form: BTreeMap::from([("phone".to_owned(), "13800000000".to_owned())]),
        attachments,
        consent: Consent { text_version: "v1".into(), given_at: OffsetDateTime::now_utc() },
        channel: Channel::SelfServiceTerminal,
        village_code: VillageCode::parse("620102001001").unwrap(),
        created_at: OffsetDateTime::now_utc(),
        terminal_id: "T-0001".into(),
    }
}

fn platform_key() -> PlatformSecretKey {
    PlatformSecretKey::generate(default_suite(), &mut rand_core::UnwrapErr(getrandom::SysRng))
}

/// Seals `sub` (with the plain bytes of its distinct attachments, in order)
/// as a terminal would.
fn seal(key: &PlatformSecretKey, sub: &Submission, attachments: &[&[u8]]) -> Sealed {
    seal_submission(&key.public_key(), sub, attachments, &mut rand_core::UnwrapErr(getrandom::SysRng)).unwrap()
}

/// A plain-HTTP client. Installs ring as rustls's provider first: when this
/// crate is built beside offline-cache, reqwest's rustls has none by default.
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn start(dir: &Path) -> Hub {
    Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap()
}

async fn put_manifest(http: &reqwest::Client, hub: &Hub, id: SubmissionId, body: Vec<u8>) -> reqwest::Response {
    http.put(format!("{}/v1/submissions/{id}", hub.base_url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn put_attachment(http: &reqwest::Client, hub: &Hub, id: SubmissionId, sha256: &str, bytes: Vec<u8>) -> reqwest::Response {
    http.put(format!("{}/v1/submissions/{id}/attachments/{sha256}", hub.base_url())).body(bytes).send().await.unwrap()
}

async fn commit(http: &reqwest::Client, hub: &Hub, id: SubmissionId) -> reqwest::Response {
    http.post(format!("{}/v1/submissions/{id}/commit", hub.base_url())).send().await.unwrap()
}

async fn error_code(resp: reqwest::Response) -> ErrorBody {
    resp.json::<ErrorBody>().await.unwrap()
}

#[tokio::test]
async fn health_names_the_service_and_catalog_is_the_starter() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let health: Health = http.get(format!("{}/v1/health", hub.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(health.service, SERVICE_NAME);
    let catalog: Catalog = http.get(format!("{}/v1/catalog", hub.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(catalog, Catalog::starter());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn identical_replay_is_200_and_stores_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let sub = submission(vec![]);
    let body = seal(&platform_key(), &sub, &[]).envelope.to_bytes();

    let first = put_manifest(&http, &hub, sub.id, body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(first.json::<PutResponse>().await.unwrap().outcome, PutOutcome::Stored);
    let again = put_manifest(&http, &hub, sub.id, body.clone()).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<PutResponse>().await.unwrap().outcome, PutOutcome::Replayed);

    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
    assert_eq!(db.submission_count(sub.id).unwrap(), 1);
    assert_eq!(db.submission_body(sub.id).unwrap(), Some(body));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn different_body_under_the_same_id_is_409_and_the_first_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let key = platform_key();
    let sub = submission(vec![]);
    let first = seal(&key, &sub, &[]).envelope.to_bytes();
    // Sealing again draws a new data key: other bytes under the same id.
    let second = seal(&key, &sub, &[]).envelope.to_bytes();
    assert_ne!(first, second);

    assert_eq!(put_manifest(&http, &hub, sub.id, first.clone()).await.status(), StatusCode::CREATED);
    let resp = put_manifest(&http, &hub, sub.id, second).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(resp).await.code, ErrorCode::Conflict);

    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
    assert_eq!(db.submission_body(sub.id).unwrap(), Some(first));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_envelopes_are_422_without_echoing_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let sub = submission(vec![]);

    // A plain submission is no longer accepted: it must come sealed.
    let resp = put_manifest(&http, &hub, sub.id, sub.canonical_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_code(resp).await;
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(!err.message.contains("张三"), "message echoes personal data: {}", err.message);

    // A clear field with a bad value: serde's own message would quote it.
    let sealed = seal(&platform_key(), &sub, &[]);
    let mut json: serde_json::Value = serde_json::from_slice(&sealed.envelope.to_bytes()).unwrap();
    json["item_code"] = serde_json::Value::String("张三的身份证号码".into());
    let resp = put_manifest(&http, &hub, sub.id, serde_json::to_vec(&json).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_code(resp).await;
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(!err.message.contains("张三"), "message echoes personal data: {}", err.message);

    // A truncated wrapped key: the shape check catches it without the platform key.
    let mut env = sealed.envelope.clone();
    env.wrapped_key.truncate(10);
    let resp = put_manifest(&http, &hub, sub.id, env.to_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_code(resp).await.message.contains("wrapped_key"));

    // A valid envelope under another id's path.
    let resp = put_manifest(&http, &hub, SubmissionId::new(), sealed.envelope.to_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(resp).await.code, ErrorCode::Invalid);

    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
    assert_eq!(db.total_submissions().unwrap(), 0);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_hub_with_the_platform_key_refuses_what_it_cannot_open_and_unseals_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let key = std::sync::Arc::new(platform_key());
    let hub = Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db"), HubOptions { platform_key: Some(key.clone()) })
        .await
        .unwrap();
    let http = client();

    // Sealed to a key the platform doesn't hold (a terminal configured wrongly).
    let stray = submission(vec![]);
    let resp = put_manifest(&http, &hub, stray.id, seal(&platform_key(), &stray, &[]).envelope.to_bytes()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_code(resp).await;
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("platform key"), "{}", err.message);

    // Sealed to the platform: stored, then opened whole, attachment included.
    let scan = b"%PDF household register".to_vec();
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let sub = submission(vec![scan_ref.clone()]);
    let sealed = seal(&key, &sub, &[&scan]);
    assert_eq!(put_manifest(&http, &hub, sub.id, sealed.envelope.to_bytes()).await.status(), StatusCode::CREATED);
    let part = &sealed.attachments[0];
    assert_eq!(put_attachment(&http, &hub, sub.id, &part.sha256, part.bytes.clone()).await.status(), StatusCode::CREATED);
    assert_eq!(commit(&http, &hub, sub.id).await.status(), StatusCode::OK);

    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
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
    let hub = start(dir.path()).await;
    let http = client();
    let sub = submission(vec![]);
    put_manifest(&http, &hub, sub.id, seal(&platform_key(), &sub, &[]).envelope.to_bytes()).await;

    let first = commit(&http, &hub, sub.id).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: CommitResponse = first.json().await.unwrap();
    let second: CommitResponse = commit(&http, &hub, sub.id).await.json().await.unwrap();
    assert_eq!(first.case_number, second.case_number);
    let n = first.case_number.as_str();
    assert!(n.len() >= 17 && n.starts_with("62") && n.bytes().all(|b| b.is_ascii_digit()), "case number {n}");

    let view: CaseView = http.get(format!("{}/v1/cases/{n}", hub.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(view.submission_id, sub.id);
    assert_eq!(view.item_code, "620000RS0001");
    assert_eq!(view.status, CaseStatus::Received);

    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
    assert_eq!(db.case_count().unwrap(), 1);
    assert_eq!(db.case_for(sub.id).unwrap(), Some(first.case_number));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn commit_of_an_unknown_submission_or_case_is_404() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let resp = commit(&http, &hub, SubmissionId::new()).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(resp).await.code, ErrorCode::NotFound);
    let resp = http.get(format!("{}/v1/cases/62202601010000001", hub.base_url())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn commit_waits_for_every_attachment() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let scan = b"%PDF-1.7 household register".to_vec();
    let photo = vec![0xFFu8, 0xD8, 0xFF, 0xE0, 1, 2, 3];
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let photo_ref = AttachmentRef::for_bytes("photo", "image/jpeg", &photo);
    let sub = submission(vec![scan_ref, photo_ref]);
    let sealed = seal(&platform_key(), &sub, &[&scan, &photo]);
    let (sealed_scan, sealed_photo) = (&sealed.attachments[0], &sealed.attachments[1]);
    put_manifest(&http, &hub, sub.id, sealed.envelope.to_bytes()).await;

    let resp = put_attachment(&http, &hub, sub.id, &sealed_scan.sha256, sealed_scan.bytes.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = commit(&http, &hub, sub.id).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_code(resp).await;
    assert_eq!(err.code, ErrorCode::MissingAttachments);
    assert!(err.message.contains(&sealed_photo.sha256));
    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
    assert_eq!(db.case_for(sub.id).unwrap(), None);

    // Re-sending bytes already held is a replay.
    assert_eq!(put_attachment(&http, &hub, sub.id, &sealed_scan.sha256, sealed_scan.bytes.clone()).await.status(), StatusCode::OK);
    assert_eq!(put_attachment(&http, &hub, sub.id, &sealed_photo.sha256, sealed_photo.bytes.clone()).await.status(), StatusCode::CREATED);
    assert_eq!(commit(&http, &hub, sub.id).await.status(), StatusCode::OK);
    assert!(db.case_for(sub.id).unwrap().is_some());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn attachment_bytes_must_match_the_hash_and_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let scan = b"scan bytes".to_vec();
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let sub = submission(vec![scan_ref.clone()]);
    let sealed = seal(&platform_key(), &sub, &[&scan]);
    let part = &sealed.attachments[0];
    put_manifest(&http, &hub, sub.id, sealed.envelope.to_bytes()).await;

    let resp = put_attachment(&http, &hub, sub.id, &part.sha256, b"other bytes".to_vec()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(resp).await.code, ErrorCode::HashMismatch);
    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
    assert!(!db.has_attachment(&part.sha256).unwrap());

    // The plain bytes under their plain hash: not what the envelope lists.
    let resp = put_attachment(&http, &hub, sub.id, &scan_ref.sha256, scan.clone()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(resp).await.code, ErrorCode::Invalid);
    assert!(!db.has_attachment(&scan_ref.sha256).unwrap());
    // For a submission the hub doesn't hold.
    let resp = put_attachment(&http, &hub, SubmissionId::new(), &part.sha256, part.bytes.clone()).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(!db.has_attachment(&part.sha256).unwrap());
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_of_one_id_store_one_row_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let sub = submission(vec![]);
    let body = seal(&platform_key(), &sub, &[]).envelope.to_bytes();

    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (http, url, body) = (http.clone(), format!("{}/v1/submissions/{}", hub.base_url(), sub.id), body.clone());
        tasks.push(tokio::spawn(async move { http.put(url).body(body).send().await.unwrap().status() }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::OK), "{statuses:?}");

    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
    assert_eq!(db.submission_count(sub.id).unwrap(), 1);
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_give_one_case_per_submission_and_distinct_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let key = platform_key();
    let subs: Vec<Submission> = (0..8).map(|_| submission(vec![])).collect();
    for s in &subs {
        put_manifest(&http, &hub, s.id, seal(&key, s, &[]).envelope.to_bytes()).await;
    }
    let mut tasks = Vec::new();
    for s in &subs {
        for _ in 0..4 {
            let (http, url) = (http.clone(), format!("{}/v1/submissions/{}/commit", hub.base_url(), s.id));
            tasks.push(tokio::spawn(async move {
                let resp = http.post(url).send().await.unwrap();
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
    let db = HubDb::open(&dir.path().join("hub.db")).unwrap();
    assert_eq!(db.case_count().unwrap(), subs.len() as u64);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_body_is_refused_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path()).await;
    let http = client();
    let big = vec![0u8; hub::BODY_LIMIT + 1];
    let sha = model::submission::sha256_hex(&big);
    let resp = put_attachment(&http, &hub, SubmissionId::new(), &sha, big).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let sub = submission(vec![]);
    let body = seal(&platform_key(), &sub, &[]).envelope.to_bytes();
    let hub = start(dir.path()).await;
    put_manifest(&http, &hub, sub.id, body.clone()).await;
    let before: CommitResponse = commit(&http, &hub, sub.id).await.json().await.unwrap();
    hub.shutdown().await.unwrap();

    let hub = start(dir.path()).await;
    assert_eq!(put_manifest(&http, &hub, sub.id, body).await.status(), StatusCode::OK);
    let after: CommitResponse = commit(&http, &hub, sub.id).await.json().await.unwrap();
    assert_eq!(before.case_number, after.case_number);
    hub.shutdown().await.unwrap();
}
