//! Syncing the outbox to the real hub on loopback, and to things that aren't it.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::Router;
use common::{submission, with_scan};
use hub::{Hub, HubDb};
use model::protocol::CommitResponse;
use offline_cache::{Outbox, OutboxState, StopReason, SyncClient, SyncConfig};

async fn start_hub(dir: &Path) -> Hub {
    Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap()
}

fn hub_db(dir: &Path) -> HubDb {
    HubDb::open(&dir.join("hub.db")).unwrap()
}

fn outbox(dir: &Path) -> Outbox {
    Outbox::open(&dir.join("outbox.db")).unwrap()
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
async fn sync_delivers_a_submission_with_attachments_once() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path()).await;
    let outbox = outbox(dir.path());
    let (sub, atts) = with_scan(b"%PDF household register");
    outbox.enqueue(&sub, &atts).unwrap();

    let client = SyncClient::with_config(&hub.base_url(), quick()).unwrap();
    assert!(client.hub_reachable().await);
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert!(report.rejected.is_empty());
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
    assert_eq!(db.submission_body(sub.id).unwrap(), Some(sub.canonical_bytes()));
    assert!(db.has_attachment(&atts[0].0.sha256).unwrap());

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
    assert!(report.acknowledged.is_empty() && report.rejected.is_empty());
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
    let outbox = Outbox::open(&path).unwrap();
    let (sub, atts) = with_scan(b"scan");
    outbox.enqueue(&sub, &atts).unwrap();

    // The previous run got as far as the hub's commit, then died before
    // recording the answer: the hub holds the case, the row says 'sending'.
    let http = reqwest::Client::new();
    let base = hub.base_url();
    http.put(format!("{base}/v1/submissions/{}", sub.id)).body(sub.canonical_bytes()).send().await.unwrap();
    http.put(format!("{base}/v1/submissions/{}/attachments/{}", sub.id, atts[0].0.sha256))
        .body(atts[0].1.clone())
        .send()
        .await
        .unwrap();
    let committed: CommitResponse =
        http.post(format!("{base}/v1/submissions/{}/commit", sub.id)).send().await.unwrap().json().await.unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE submissions SET state = 'sending', attempts = 1 WHERE id = ?1", [sub.id.to_string()])
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
async fn a_rejected_record_is_skipped_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path()).await;
    let outbox = outbox(dir.path());
    let clashing = submission(vec![]);
    let fine = submission(vec![]);
    outbox.enqueue(&clashing, &[]).unwrap();
    outbox.enqueue(&fine, &[]).unwrap();
    // The hub already holds a different body under the first id.
    let mut other = clashing.clone();
    other.form.insert("phone".into(), "13900000000".into());
    reqwest::Client::new()
        .put(format!("{}/v1/submissions/{}", hub.base_url(), clashing.id))
        .body(other.canonical_bytes())
        .send()
        .await
        .unwrap();

    let client = SyncClient::with_config(&hub.base_url(), quick()).unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].0, clashing.id);
    assert!(report.rejected[0].1.contains("409"), "{}", report.rejected[0].1);
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![fine.id]);

    let e = outbox.entry(clashing.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Queued);
    assert!(e.last_error.as_deref().is_some_and(|m| m.contains("Conflict")), "{:?}", e.last_error);
    assert!(!e.last_error.unwrap_or_default().contains("张三"));
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
