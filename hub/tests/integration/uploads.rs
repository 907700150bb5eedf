//! Resumable attachment uploads: what arrives is kept, even when the
//! connection breaks, and checked by its hash when complete.

use crate::common;

use std::io::{Read, Write};

use crate::common::{error_code, platform_key, seal, start, Api, Tamper};
use model::protocol::{ErrorCode, UploadStatus};
use model::submission::AttachmentRef;
use reqwest::{Method, StatusCode};

/// A submission with one attachment of `len` bytes, its manifest on the hub.
async fn manifest_with_attachment(api: &Api, len: usize) -> (model::SubmissionId, model::seal::SealedAttachment) {
    let scan: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let sub = common::submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let sealed = seal(&platform_key(), &sub, &[&scan]);
    assert_eq!(api.put_manifest(sub.id, sealed.envelope.to_bytes()).await.status(), StatusCode::CREATED);
    (sub.id, sealed.attachments[0].clone())
}

async fn status(api: &Api, id: model::SubmissionId, sha: &str) -> UploadStatus {
    api.get(&format!("/v1/submissions/{id}/attachments/{sha}")).await.json().await.unwrap()
}

#[tokio::test]
async fn an_upload_in_ranges_completes_and_overlaps_are_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let (id, part) = manifest_with_attachment(&api, 300_000).await;
    let size = part.bytes.len();
    assert_eq!(status(&api, id, &part.sha256).await, UploadStatus { sha256: part.sha256.clone(), size: size as u64, received: 0, complete: false });

    let half = size / 2;
    let resp = api.put_range(id, &part.sha256, &format!("bytes 0-{}/{size}", half - 1), part.bytes[..half].to_vec()).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(resp.json::<UploadStatus>().await.unwrap().received, half as u64);

    // Past what is held: refused, the terminal asks again.
    let resp = api.put_range(id, &part.sha256, &format!("bytes {}-{}/{size}", half + 10, size - 1), part.bytes[half + 10..].to_vec()).await;
    assert_eq!((resp.status(), error_code(resp).await.code), (StatusCode::RANGE_NOT_SATISFIABLE, ErrorCode::RangeMismatch));
    // A wrong total.
    let resp = api.put_range(id, &part.sha256, &format!("bytes {half}-{}/{}", size - 1, size + 1), part.bytes[half..].to_vec()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Overlapping what is held (a resend after a lost answer), to the end.
    let from = half - 1000;
    let resp = api.put_range(id, &part.sha256, &format!("bytes {from}-{}/{size}", size - 1), part.bytes[from..].to_vec()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(resp.json::<UploadStatus>().await.unwrap().complete);
    assert!(super::common::db(dir.path()).has_attachment(&part.sha256).unwrap());
    // Again: already complete.
    assert_eq!(api.put_attachment(id, &part.sha256, part.bytes.clone()).await.status(), StatusCode::OK);
    assert_eq!(api.commit(id).await.status(), StatusCode::OK);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn bytes_that_do_not_hash_to_the_name_are_dropped_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let (id, part) = manifest_with_attachment(&api, 50_000).await;
    let size = part.bytes.len();
    let half = size / 2;
    assert_eq!(api.put_range(id, &part.sha256, &format!("bytes 0-{}/{size}", half - 1), part.bytes[..half].to_vec()).await.status(), StatusCode::ACCEPTED);
    let mut bad = part.bytes[half..].to_vec();
    bad[10] ^= 0xFF;
    let resp = api.put_range(id, &part.sha256, &format!("bytes {half}-{}/{size}", size - 1), bad).await;
    assert_eq!((resp.status(), error_code(resp).await.code), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::HashMismatch));
    assert_eq!(status(&api, id, &part.sha256).await.received, 0, "starts over");
    hub.shutdown().await.unwrap();
}

/// A terminal whose stored copy was damaged sends it whole under its name
/// (it signs the name as the body's hash and checks its copy beside the
/// upload): the hub checks the bytes before they get the name, answers
/// `hash_mismatch` and holds nothing, then takes the right bytes whole.
/// On every store; with objects in S3 this is the gathered one-PUT path.
#[tokio::test]
async fn a_damaged_copy_sent_whole_under_its_name_is_refused_and_nothing_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let (id, part) = manifest_with_attachment(&api, 50_000).await;
    let mut bad = part.bytes.clone();
    bad[100] ^= 0xFF;
    let t = Tamper { signed_sha256: Some(part.sha256.clone()), ..Tamper::default() };
    let resp = api.build(Method::PUT, &format!("/v1/submissions/{id}/attachments/{}", part.sha256), None, bad, &t).send().await.unwrap();
    assert_eq!((resp.status(), error_code(resp).await.code), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::HashMismatch));
    let held = status(&api, id, &part.sha256).await;
    assert_eq!((held.received, held.complete), (0, false), "nothing held, nothing named");
    assert_eq!(api.put_attachment(id, &part.sha256, part.bytes.clone()).await.status(), StatusCode::CREATED);
    assert!(status(&api, id, &part.sha256).await.complete);
    assert_eq!(api.commit(id).await.status(), StatusCode::OK);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_range_whose_body_differs_from_the_signed_hash_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let (id, part) = manifest_with_attachment(&api, 50_000).await;
    let size = part.bytes.len();
    let t = Tamper { signed_sha256: Some(model::submission::sha256_hex(b"other")), ..Tamper::default() };
    let range = format!("bytes 0-{}/{size}", size / 2 - 1);
    let resp = api
        .build(Method::PUT, &format!("/v1/submissions/{id}/attachments/{}", part.sha256), Some(&range), part.bytes[..size / 2].to_vec(), &t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(status(&api, id, &part.sha256).await.received, 0);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connection_cut_mid_body_keeps_what_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let (id, part) = manifest_with_attachment(&api, 2_000_000).await;
    let size = part.bytes.len();

    // A signed, full-length PUT, written by hand so the test can stop at 60%.
    let path = format!("/v1/submissions/{id}/attachments/{}", part.sha256);
    let req = api.build(Method::PUT, &path, None, part.bytes.clone(), &Tamper::default()).build().unwrap();
    let mut head = format!("PUT {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {size}\r\n", hub.addr());
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str("\r\n");
    let cut = size * 6 / 10;
    let mut sock = std::net::TcpStream::connect(hub.addr()).unwrap();
    sock.write_all(head.as_bytes()).unwrap();
    sock.write_all(&part.bytes[..cut]).unwrap();
    sock.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    sock.shutdown(std::net::Shutdown::Both).unwrap();
    let mut rest = Vec::new();
    let _ = sock.read_to_end(&mut rest);

    // The hub writes what it had when the body broke off.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let held = loop {
        let s = status(&api, id, &part.sha256).await;
        if s.received as usize == cut || std::time::Instant::now() > deadline {
            break s.received as usize;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(held, cut, "every byte that arrived is kept");

    // The rest completes it.
    let resp = api.put_range(id, &part.sha256, &format!("bytes {held}-{}/{size}", size - 1), part.bytes[held..].to_vec()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(api.commit(id).await.status(), StatusCode::OK);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn another_terminal_cannot_touch_my_submission() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let other = Api::new(&hub, "GS-0002");
    other.register(&hub).await;
    let (id, part) = manifest_with_attachment(&api, 1000).await;
    let path = format!("/v1/submissions/{id}/attachments/{}", part.sha256);
    assert_eq!(other.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.put_attachment(id, &part.sha256, part.bytes.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.commit(id).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.put_attachment(id, &part.sha256, part.bytes.clone()).await.status(), StatusCode::CREATED);
    let resp = api.commit(id).await;
    let case: model::protocol::CommitResponse = resp.json().await.unwrap();
    assert_eq!(other.get(&format!("/v1/cases/{}", case.case_number)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.get(&format!("/v1/cases/{}", case.case_number)).await.status(), StatusCode::OK);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn bytes_all_held_but_unchecked_are_finished_by_the_next_put() {
    // The request that brought the last bytes ended before checking them
    // (its connection dropped just then).
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let (id, part) = manifest_with_attachment(&api, 20_000).await;
    hub.store().append_upload(&part.sha256, part.bytes.len() as u64, 0, &part.bytes).unwrap();
    let s = status(&api, id, &part.sha256).await;
    assert_eq!((s.received, s.complete), (part.bytes.len() as u64, false));
    let resp = api.put_attachment(id, &part.sha256, Vec::new()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(status(&api, id, &part.sha256).await.complete);
    assert_eq!(api.commit(id).await.status(), StatusCode::OK);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_envelope_announcing_a_huge_attachment_is_refused() {
    // Uploads stream to disk up to the size the envelope lists: a terminal
    // must not be able to announce gigabytes.
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let scan = vec![1u8; 100];
    let sub = common::submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let sealed = seal(&platform_key(), &sub, &[&scan]);
    let mut json: serde_json::Value = serde_json::from_slice(&sealed.envelope.to_bytes()).unwrap();
    json["attachments"][0]["size"] = serde_json::json!(5u64 << 30);
    let resp = api.put_manifest(sub.id, serde_json::to_vec(&json).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_code(resp).await.message.contains("over the limit"));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_terminal_over_its_quota_is_refused_and_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let quota = hub::OpenQuota { max_open: 2, max_bytes: 1 << 20 };
    let (hub, api) = common::start_with(dir.path(), hub::HubOptions { quota: Some(quota), ..hub::HubOptions::default() }).await;
    let other = Api::new(&hub, "GS-0002");
    other.register(&hub).await;
    // Two filings started and never finished: the third is refused, told to come back.
    let (first, part) = manifest_with_attachment(&api, 1000).await;
    manifest_with_attachment(&api, 1000).await;
    let scan = vec![3u8; 100];
    let third = common::submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let sealed = seal(&platform_key(), &third, &[&scan]).envelope.to_bytes();
    let resp = api.put_manifest(third.id, sealed.clone()).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(error_code(resp).await.code, ErrorCode::QuotaExceeded);
    assert_eq!(super::common::db(dir.path()).submission_count(third.id).unwrap(), 0, "nothing kept");
    // Another terminal is not held back by it.
    manifest_with_attachment(&other, 1000).await;
    // Bytes in flight count too.
    let big = vec![4u8; (1 << 20) + 1];
    let huge = common::submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &big)]);
    let resp = other.put_manifest(huge.id, seal(&platform_key(), &huge, &[&big]).envelope.to_bytes()).await;
    assert_eq!((resp.status(), error_code(resp).await.code), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::QuotaExceeded));
    // Finishing one makes room.
    assert_eq!(api.put_attachment(first, &part.sha256, part.bytes.clone()).await.status(), StatusCode::CREATED);
    assert_eq!(api.commit(first).await.status(), StatusCode::OK);
    assert_eq!(api.put_manifest(third.id, sealed).await.status(), StatusCode::CREATED);
    // A heartbeat is small: a 16 MiB one is not stored and shown.
    let mut hb = serde_json::json!({ "sent_at": "2026-01-01T00:00:00Z", "app_version": "x", "queue": { "unsent": 0, "quarantined": 0, "acknowledged": 0 } });
    hb["alerts"] = serde_json::json!(vec!["a".repeat(1000); 40]);
    let resp = api.send(Method::POST, "/v1/heartbeat", serde_json::to_vec(&hb).unwrap()).await;
    assert_eq!((resp.status(), error_code(resp).await.code), (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge));
    assert!(hub.store().terminals().unwrap().iter().all(|t| t.last_heartbeat.is_none()));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn abandoned_uploads_do_not_stay_on_the_hub_forever() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = common::start(dir.path()).await;
    let (id, part) = manifest_with_attachment(&api, 10_000).await;
    assert_eq!(api.put_range(id, &part.sha256, &format!("bytes 0-4999/{}", part.bytes.len()), part.bytes[..5000].to_vec()).await.status(), StatusCode::ACCEPTED);
    let (done, done_part) = manifest_with_attachment(&api, 1000).await;
    api.put_attachment(done, &done_part.sha256, done_part.bytes.clone()).await;
    assert_eq!(api.commit(done).await.status(), StatusCode::OK);

    // Nothing is young enough to keep at a clean-up a month on.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    let swept = hub.store().sweep(later, later).unwrap();
    assert_eq!((swept.submissions, swept.partials), (1, 1));
    let db = super::common::db(dir.path());
    assert_eq!(db.submission_count(id).unwrap(), 0);
    assert_eq!(db.partial_len(&part.sha256).unwrap(), 0);
    assert!(db.case_for(done).unwrap().is_some() && db.has_attachment(&done_part.sha256).unwrap(), "committed filings stay");
    // The terminal that comes back starts the filing again.
    assert_eq!(api.commit(id).await.status(), StatusCode::NOT_FOUND);
    hub.shutdown().await.unwrap();
}
