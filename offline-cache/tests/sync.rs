//! Syncing the outbox to the real hub on loopback, and to things that aren't it.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::Router;
use common::{submission, unseal, with_scan};
use hub::{Hub, HubDb, HubOptions};
use model::protocol::CommitResponse;
use offline_cache::{Outbox, OutboxState, StopReason, SyncClient, SyncConfig};

async fn start_hub(dir: &Path) -> Hub {
    Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap()
}

/// A hub that holds the platform key and so checks every envelope opens.
async fn start_hub_with_key(dir: &Path, key: &model::seal::PlatformSecretKey) -> Hub {
    let key = model::seal::PlatformSecretKey::parse(&key.to_text()).unwrap();
    Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db"), HubOptions { platform_key: Some(std::sync::Arc::new(key)) })
        .await
        .unwrap()
}

fn hub_db(dir: &Path) -> HubDb {
    HubDb::open(&dir.join("hub.db")).unwrap()
}

fn outbox(dir: &Path) -> Outbox {
    common::open(dir).0
}

/// Short timeouts: tests should fail fast, not wait on a 4G budget.
fn quick() -> SyncConfig {
    SyncConfig {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(5),
        ..SyncConfig::default()
    }
}

/// A stand-in server on loopback, stopped when the returned handle is aborted.
async fn serve_app(app: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}

#[tokio::test]
async fn sync_delivers_a_sealed_submission_with_attachments_once() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, key) = common::open(dir.path());
    let hub = start_hub_with_key(dir.path(), &key).await;
    let (sub, atts) = with_scan(b"%PDF household register");
    outbox.enqueue(&sub, &atts).unwrap();

    let client = SyncClient::with_config(&hub.base_url(), quick()).unwrap();
    assert!(client.hub_reachable().await);
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert!(report.quarantined.is_empty());
    assert_eq!(report.acknowledged.len(), 1);
    let (id, case_number) = report.acknowledged[0].clone();
    assert_eq!(id, sub.id);

    let entry = outbox.entry(sub.id).unwrap().unwrap();
    assert_eq!(entry.state, OutboxState::Acknowledged);
    assert_eq!(entry.case_number.as_ref(), Some(&case_number));
    assert_eq!(entry.last_error, None);

    let db = hub_db(dir.path());
    assert_eq!(db.submission_count(sub.id).unwrap(), 1);
    assert_eq!(db.case_for(sub.id).unwrap(), Some(case_number));
    // The hub got exactly the sealed bytes the outbox stored, and the platform opens them.
    let copy = outbox.sealed_copy(sub.id).unwrap().unwrap();
    assert_eq!(db.submission_body(sub.id).unwrap(), Some(copy.envelope.clone()));
    assert!(db.has_attachment(&copy.attachments[0].sha256).unwrap());
    assert!(!db.has_attachment(&atts[0].0.sha256).unwrap(), "no plain attachment travels");
    let opened = db.open_submission(sub.id, &key).unwrap().unwrap();
    assert_eq!(opened.submission, sub);
    assert_eq!(opened.attachments[0].1.as_slice(), atts[0].1.as_slice());
    assert_eq!(unseal(&outbox, &key, sub.id), sub);

    // Nothing pending: another sync contacts nobody, even with the hub gone.
    hub.shutdown().await.unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report, Default::default());
    assert_eq!(outbox.counts().unwrap().acknowledged, 1);
}

#[tokio::test]
async fn hub_down_stops_the_batch_and_the_next_sync_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    let first = submission(vec![]);
    let second = submission(vec![]);
    outbox.enqueue(&first, &[]).unwrap();
    outbox.enqueue(&second, &[]).unwrap();

    // A port with nothing listening: what a terminal sees with the hub down.
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let client = SyncClient::with_config(&format!("http://{addr}"), quick()).unwrap();
    assert!(!client.hub_reachable().await);
    let report = client.sync_once(&outbox).await;
    assert!(matches!(report.stopped, Some(StopReason::LinkDown(_))), "{:?}", report.stopped);
    assert!(report.acknowledged.is_empty() && report.quarantined.is_empty());
    let e = outbox.entry(first.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Queued);
    assert_eq!(e.attempts, 1);
    assert!(e.last_error.as_deref().is_some_and(|m| m.starts_with("link down")), "{:?}", e.last_error);
    assert_eq!(outbox.counts().unwrap().queued, 2);

    // The hub comes up on that address; the same client now delivers both, in order.
    let hub = Hub::spawn(addr, &dir.path().join("hub.db")).await.unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    let ids: Vec<_> = report.acknowledged.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, vec![first.id, second.id]);
    let e = outbox.entry(first.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Acknowledged);
    assert_eq!(e.attempts, 2);
    assert_eq!(e.last_error, None);
    assert_eq!(hub_db(dir.path()).total_submissions().unwrap(), 2);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_send_interrupted_by_a_crash_is_retried_and_lands_once() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path()).await;
    let path = dir.path().join("outbox.db");
    let (outbox, _) = common::open(dir.path());
    let (sub, atts) = with_scan(b"scan");
    outbox.enqueue(&sub, &atts).unwrap();
    let copy = outbox.sealed_copy(sub.id).unwrap().unwrap();

    // The previous run got as far as the hub's commit, then died before
    // recording the answer: the hub holds the case, the row says 'sending'.
    let http = reqwest::Client::new();
    let base = hub.base_url();
    http.put(format!("{base}/v1/submissions/{}", sub.id)).body(copy.envelope.clone()).send().await.unwrap();
    http.put(format!("{base}/v1/submissions/{}/attachments/{}", sub.id, copy.attachments[0].sha256))
        .body(copy.attachments[0].bytes.clone())
        .send()
        .await
        .unwrap();
    let committed: CommitResponse =
        http.post(format!("{base}/v1/submissions/{}/commit", sub.id)).send().await.unwrap().json().await.unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE outbox SET state = 'sending', attempts = 1 WHERE id = ?1", [sub.id.to_string()])
        .unwrap();
    assert_eq!(outbox.counts().unwrap().sending, 1);

    let client = SyncClient::with_config(&base, quick()).unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.acknowledged, vec![(sub.id, committed.case_number.clone())]);
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap().case_number, Some(committed.case_number));
    let db = hub_db(dir.path());
    assert_eq!(db.submission_count(sub.id).unwrap(), 1);
    assert_eq!(db.case_count().unwrap(), 1);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_rejected_record_at_the_head_is_quarantined_and_never_blocks_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path()).await;
    let (outbox, key) = common::open(dir.path());
    let clashing = submission(vec![]);
    let fine = submission(vec![]);
    outbox.enqueue(&clashing, &[]).unwrap();
    outbox.enqueue(&fine, &[]).unwrap();
    // The hub already holds a different body under the first id.
    let other = model::seal::seal_submission(&key.public_key(), &clashing, &[], &mut rand_core::UnwrapErr(getrandom::SysRng)).unwrap();
    reqwest::Client::new()
        .put(format!("{}/v1/submissions/{}", hub.base_url(), clashing.id))
        .body(other.envelope.to_bytes())
        .send()
        .await
        .unwrap();

    let client = SyncClient::with_config(&hub.base_url(), quick()).unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].0, clashing.id);
    assert!(report.quarantined[0].1.contains("409"), "{}", report.quarantined[0].1);
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![fine.id]);

    let e = outbox.entry(clashing.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Quarantined);
    let reason = e.quarantine_reason.unwrap_or_default();
    assert!(reason.contains("Conflict"), "{reason}");
    assert!(!reason.contains("张三"));
    assert_eq!(outbox.counts().unwrap().quarantined, 1);
    assert!(outbox.alerts(time::OffsetDateTime::now_utc()).unwrap().iter().any(|a| a.code() == "quarantined"));

    // Later filings go out; the quarantined head is not tried again.
    let later = submission(vec![]);
    outbox.enqueue(&later, &[]).unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![later.id]);
    assert!(report.quarantined.is_empty());
    assert_eq!(outbox.entry(clashing.id).unwrap().unwrap().attempts, 1);
    assert!(outbox.pending(10).unwrap().is_empty());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_damaged_local_copy_is_quarantined_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path()).await;
    let (outbox, _) = common::open(dir.path());
    let damaged = submission(vec![]);
    let fine = submission(vec![]);
    outbox.enqueue(&damaged, &[]).unwrap();
    outbox.enqueue(&fine, &[]).unwrap();
    // A flipped bit in the stored envelope (bad sector, bad RAM).
    rusqlite::Connection::open(dir.path().join("outbox.db"))
        .unwrap()
        .execute(
            "UPDATE sealed_payloads SET envelope = CAST(replace(CAST(envelope AS TEXT), '\"v\":1', '\"v\":2') AS BLOB) WHERE submission_id = ?1",
            [damaged.id.to_string()],
        )
        .unwrap();

    let client = SyncClient::with_config(&hub.base_url(), quick()).unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.quarantined.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![damaged.id]);
    assert!(report.quarantined[0].1.contains("damaged"), "{}", report.quarantined[0].1);
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![fine.id]);
    assert_eq!(hub_db(dir.path()).submission_count(damaged.id).unwrap(), 0, "a damaged copy is never sent");
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_captive_portal_page_stops_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    let sub = submission(vec![]);
    outbox.enqueue(&sub, &[]).unwrap();

    let portal = Router::new().fallback(|| async { Html("<html><body>请先登录 WiFi</body></html>") });
    let (addr, task) = serve_app(portal).await;
    let client = SyncClient::with_config(&format!("http://{addr}"), quick()).unwrap();
    assert!(!client.hub_reachable().await);
    let report = client.sync_once(&outbox).await;
    assert!(matches!(report.stopped, Some(StopReason::CaptivePortal(_))), "{:?}", report.stopped);
    let e = outbox.entry(sub.id).unwrap().unwrap();
    assert_eq!((e.state, e.attempts), (OutboxState::Queued, 1));
    task.abort();

    // A portal that redirects to its login page is caught the same way.
    let redirecting = Router::new().fallback(|| async { Redirect::temporary("http://portal.invalid/login") });
    let (addr, task) = serve_app(redirecting).await;
    let client = SyncClient::with_config(&format!("http://{addr}"), quick()).unwrap();
    let report = client.sync_once(&outbox).await;
    assert!(matches!(report.stopped, Some(StopReason::CaptivePortal(_))), "{:?}", report.stopped);
    task.abort();
}

#[tokio::test]
async fn a_busy_hub_stops_the_batch_with_the_record_queued() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    let sub = submission(vec![]);
    outbox.enqueue(&sub, &[]).unwrap();

    // Healthy by its health check, overloaded on every upload.
    let app = Router::new()
        .route(
            "/v1/health",
            axum::routing::get(|| async {
                axum::Json(model::protocol::Health { service: model::protocol::SERVICE_NAME.into(), version: "test".into() })
            }),
        )
        .fallback(|| async { StatusCode::SERVICE_UNAVAILABLE.into_response() });
    let (addr, task) = serve_app(app).await;
    let client = SyncClient::with_config(&format!("http://{addr}"), quick()).unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, Some(StopReason::ServerBusy { status: 503 }));
    let e = outbox.entry(sub.id).unwrap().unwrap();
    assert_eq!((e.state, e.attempts), (OutboxState::Queued, 1));
    assert_eq!(e.last_error.as_deref(), Some("hub busy (HTTP 503)"));
    task.abort();
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    outbox.enqueue(&submission(vec![]), &[]).unwrap();

    // Accepts connections and never answers, like a stalled 4G link.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let client = SyncClient::with_config(&format!("http://{addr}"), quick()).unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, Some(StopReason::Timeout));
    task.abort();
}

#[test]
fn only_http_urls_are_accepted() {
    assert!(SyncClient::new("http://127.0.0.1:8700").is_ok());
    assert!(SyncClient::new("https://hub.example/").is_ok());
    assert!(SyncClient::new("ftp://hub.example").is_err());
    assert!(SyncClient::new("not a url").is_err());
}
