//! Syncing the outbox to the real hub on loopback, and to things that aren't it.

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::Router;
use crate::common::{quick, submission, unseal, with_scan, Rig};
use hub::{Hub, HubDb, HubOptions};
use offline_cache::{Outbox, OutboxState, StopReason, SyncClient};

async fn start_hub(dir: &Path) -> Hub {
    Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap()
}

/// A hub that holds the platform key and so checks every envelope opens.
async fn start_hub_with_key(dir: &Path, key: &model::seal::PlatformSecretKey) -> Hub {
    let key = model::seal::PlatformSecretKey::parse(&key.to_text()).unwrap();
    Hub::spawn_with(
        "127.0.0.1:0".parse().unwrap(),
        &dir.join("hub.db"),
        HubOptions { platform_key: Some(std::sync::Arc::new(key)), ..HubOptions::default() },
    )
        .await
        .unwrap()
}

/// A stand-in that passes the health check; each test adds what it answers.
fn healthy() -> Router {
    Router::new().route(
        "/v1/health",
        axum::routing::get(|| async { axum::Json(model::protocol::Health { service: model::protocol::SERVICE_NAME.into(), version: "test".into() }) }),
    )
}

fn hub_db(dir: &Path) -> HubDb {
    HubDb::open(&dir.join("hub.db")).unwrap()
}

fn outbox(dir: &Path) -> Outbox {
    common::open(dir).0
}

/// A client for an unregistered terminal (for stand-ins that aren't the hub).
fn stranger(url: &str) -> SyncClient {
    SyncClient::with_config(url, common::identity(), quick()).unwrap()
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

    let client = common::client(&hub, quick()).await;
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
    let identity = common::identity();
    let client = SyncClient::with_config(&format!("http://{addr}"), identity.clone(), quick()).unwrap();
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
    common::register(&hub, &identity).await;
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
    let Rig { dir, outbox, hub, client, .. } = Rig::start().await;
    let path = dir.path().join("outbox.db");
    let (sub, atts) = with_scan(b"scan");
    outbox.enqueue(&sub, &atts).unwrap();

    // The previous run got as far as the hub's commit, then died before
    // recording the answer: the hub holds the case, the row says 'sending'.
    let committed = client.sync_once(&outbox).await.acknowledged[0].1.clone();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE outbox SET state = 'sending', attempts = 1, case_number = NULL, acknowledged_at = NULL WHERE id = ?1",
            [sub.id.to_string()],
        )
        .unwrap();
    assert_eq!(outbox.counts().unwrap().sending, 1);

    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.acknowledged, vec![(sub.id, committed.clone())]);
    assert_eq!(report.bytes_sent, 0, "the hub held the attachment: nothing sent again");
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap().case_number, Some(committed));
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
    // The hub already holds a different body under the first id: the same
    // filing sealed again (a fresh data key) by another copy of the outbox.
    let identity = common::identity();
    common::register(&hub, &identity).await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = Outbox::open(&other_dir.path().join("outbox.db"), common::config(&key)).unwrap();
    other.enqueue(&clashing, &[]).unwrap();
    let client = SyncClient::with_config(&hub.base_url(), identity, quick()).unwrap();
    assert_eq!(client.sync_once(&other).await.acknowledged.len(), 1);

    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].0, clashing.id);
    assert!(report.quarantined[0].1.contains("409"), "{}", report.quarantined[0].1);
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![fine.id]);

    let e = outbox.entry(clashing.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Quarantined);
    let reason = e.quarantine_reason.unwrap_or_default();
    assert!(reason.contains("DifferentBody"), "{reason}");
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
    let Rig { dir, outbox, hub, client, .. } = Rig::start().await;
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

    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.quarantined.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![damaged.id]);
    assert!(report.quarantined[0].1.contains("damaged"), "{}", report.quarantined[0].1);
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![fine.id]);
    assert_eq!(hub_db(dir.path()).submission_count(damaged.id).unwrap(), 0, "a damaged copy is never sent");
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_damaged_attachment_is_quarantined_not_stored_and_the_batch_goes_on() {
    let Rig { dir, outbox, hub, client, .. } = Rig::start().await;
    let (damaged, damaged_atts) = with_scan(&vec![7u8; 300_000]);
    let (fine, fine_atts) = with_scan(&vec![9u8; 300_000]);
    outbox.enqueue(&damaged, &damaged_atts).unwrap();
    outbox.enqueue(&fine, &fine_atts).unwrap();
    let sha = outbox.sealed_copy(damaged.id).unwrap().unwrap().attachments[0].sha256.clone();
    // A flipped byte in the stored sealed scan: the hash check runs while it is sent.
    let conn = rusqlite::Connection::open(dir.path().join("outbox.db")).unwrap();
    let sql = "SELECT bytes FROM sealed_attachments WHERE submission_id = ?1";
    let mut bytes: Vec<u8> = conn.query_row(sql, [damaged.id.to_string()], |r| r.get(0)).unwrap();
    bytes[1000] ^= 0x40;
    conn.execute("UPDATE sealed_attachments SET bytes = ?2 WHERE submission_id = ?1", rusqlite::params![damaged.id.to_string(), bytes]).unwrap();
    drop(conn);

    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.quarantined.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![damaged.id]);
    assert!(report.quarantined[0].1.contains("damaged"), "{}", report.quarantined[0].1);
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![fine.id]);
    let db = hub_db(dir.path());
    assert!(!db.has_attachment(&sha).unwrap(), "damaged bytes never get the attachment's name");
    assert_eq!(db.case_for(damaged.id).unwrap(), None);
    assert_eq!(outbox.entry(damaged.id).unwrap().unwrap().state, OutboxState::Quarantined);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_batch_sent_two_at_a_time_is_acknowledged_in_queue_order_once() {
    let Rig { dir, outbox, hub, client, .. } = Rig::start().await;
    let mut ids = Vec::new();
    for i in 0..7u8 {
        // Sizes vary so that a later record could finish before an earlier one.
        let (sub, atts) = with_scan(&vec![i; if i % 2 == 0 { 900_000 } else { 1_000 }]);
        outbox.enqueue(&sub, &atts).unwrap();
        ids.push(sub.id);
    }
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids);
    let db = hub_db(dir.path());
    assert_eq!(db.total_submissions().unwrap(), 7);
    assert_eq!(db.case_count().unwrap(), 7);
    for id in &ids {
        let e = outbox.entry(*id).unwrap().unwrap();
        assert_eq!((e.state, e.attempts), (OutboxState::Acknowledged, 1));
        assert_eq!(e.case_number, db.case_for(*id).unwrap());
    }
    assert_eq!(report.bytes_sent, ids.iter().map(|id| outbox.sealed_copy(*id).unwrap().unwrap().attachments[0].bytes.len() as u64).sum::<u64>());
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
    let client = stranger(&format!("http://{addr}"));
    assert!(!client.hub_reachable().await);
    let report = client.sync_once(&outbox).await;
    assert!(matches!(report.stopped, Some(StopReason::CaptivePortal(_))), "{:?}", report.stopped);
    let e = outbox.entry(sub.id).unwrap().unwrap();
    assert_eq!((e.state, e.attempts), (OutboxState::Queued, 1));
    task.abort();

    // A portal that redirects to its login page is caught the same way.
    let redirecting = Router::new().fallback(|| async { Redirect::temporary("http://portal.invalid/login") });
    let (addr, task) = serve_app(redirecting).await;
    let client = stranger(&format!("http://{addr}"));
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
    let app = healthy()
        .fallback(|| async { StatusCode::SERVICE_UNAVAILABLE.into_response() });
    let (addr, task) = serve_app(app).await;
    let client = stranger(&format!("http://{addr}"));
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, Some(StopReason::ServerBusy { status: 503, retry_after: None }));
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
    let client = stranger(&format!("http://{addr}"));
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, Some(StopReason::Timeout));
    task.abort();
}

#[test]
fn only_http_urls_are_accepted() {
    assert!(SyncClient::new("http://127.0.0.1:8700", common::identity()).is_ok());
    assert!(SyncClient::new("https://hub.example/", common::identity()).is_ok());
    assert!(SyncClient::new("ftp://hub.example", common::identity()).is_err());
    assert!(SyncClient::new("not a url", common::identity()).is_err());
}

/// A loopback proxy that understands just enough HTTP/1.1 to find the body
/// of the first attachment upload and cut the connection when `cut_fraction`
/// of it has gone through. Counts attachment body bytes it forwards.
struct CuttingProxy {
    addr: SocketAddr,
    attachment_bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

async fn cutting_proxy(upstream: SocketAddr, cut_fraction: f64) -> CuttingProxy {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counted = Arc::new(AtomicU64::new(0));
    let cut_done = Arc::new(AtomicBool::new(false));
    let attachment_bytes = counted.clone();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (counted, cut_done) = (counted.clone(), cut_done.clone());
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else { return };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let down = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                });
                let mut buf: Vec<u8> = Vec::new();
                let mut chunk = vec![0u8; 64 * 1024];
                'requests: loop {
                    // Headers.
                    let end = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        match cr.read(&mut chunk).await {
                            Ok(0) | Err(_) => break 'requests,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                        .unwrap_or(0);
                    let is_attachment = head.starts_with("PUT ") && head.lines().next().is_some_and(|l| l.contains("/attachments/"));
                    let cut = (is_attachment && !cut_done.swap(true, Ordering::SeqCst)).then_some((len as f64 * cut_fraction) as usize);
                    if sw.write_all(&buf[..end]).await.is_err() {
                        break;
                    }
                    buf.drain(..end);
                    let mut left = len;
                    while left > 0 {
                        if buf.is_empty() {
                            match cr.read(&mut chunk).await {
                                Ok(0) | Err(_) => break 'requests,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let mut take = buf.len().min(left);
                        if let Some(cut) = cut {
                            let sent = len - left;
                            take = take.min(cut - sent);
                            if take == 0 {
                                // The link drops: both ends see the connection go.
                                let _ = sw.shutdown().await;
                                down.abort();
                                return;
                            }
                        }
                        if sw.write_all(&buf[..take]).await.is_err() {
                            break 'requests;
                        }
                        if is_attachment {
                            counted.fetch_add(take as u64, Ordering::SeqCst);
                        }
                        buf.drain(..take);
                        left -= take;
                    }
                }
                let _ = sw.shutdown().await;
                let _ = down.await;
            });
        }
    });
    CuttingProxy { addr, attachment_bytes, task }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5mb_upload_cut_at_60_percent_resumes_from_there() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let (outbox, key) = common::open(dir.path());
    let hub = start_hub_with_key(dir.path(), &key).await;
    let scan: Vec<u8> = (0..5_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let (sub, atts) = with_scan(&scan);
    outbox.enqueue(&sub, &atts).unwrap();
    let sealed_size = outbox.sealed_copy(sub.id).unwrap().unwrap().attachments[0].bytes.len() as u64;

    let proxy = cutting_proxy(hub.addr(), 0.6).await;
    let identity = common::identity();
    common::register(&hub, &identity).await;
    let client = SyncClient::with_config(&format!("http://{}", proxy.addr), identity, quick()).unwrap();

    let first = client.sync_once(&outbox).await;
    assert!(matches!(first.stopped, Some(StopReason::LinkDown(_))), "{:?}", first.stopped);
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap().state, OutboxState::Queued);
    let before = proxy.attachment_bytes.load(Ordering::SeqCst);
    assert_eq!(before, sealed_size * 6 / 10);

    let second = client.sync_once(&outbox).await;
    assert_eq!(second.stopped, None);
    assert_eq!(second.acknowledged.len(), 1);
    let resent = proxy.attachment_bytes.load(Ordering::SeqCst) - before;
    assert!(second.bytes_resumed >= sealed_size * 6 / 10, "resumed from {} of {sealed_size}", second.bytes_resumed);
    assert_eq!(second.bytes_resumed, before, "every byte that crossed before the cut was kept");
    assert_eq!(resent, sealed_size - second.bytes_resumed, "only the rest went over the wire");
    assert!(resent * 10 <= sealed_size * 4 + 10);

    // Byte-identical at the platform.
    let opened = hub_db(dir.path()).open_submission(sub.id, &key).unwrap().unwrap();
    assert_eq!(opened.attachments[0].1.as_slice(), scan.as_slice());
    proxy.task.abort();
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_terminal_clock_an_hour_off_stops_once_then_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = common::open(dir.path());
    let hub = start_hub(dir.path()).await;
    let sub = submission(vec![]);
    outbox.enqueue(&sub, &[]).unwrap();
    let identity = common::identity();
    common::register(&hub, &identity).await;
    let client = SyncClient::with_config(&hub.base_url(), identity, quick())
        .unwrap()
        .with_clock(|| time::OffsetDateTime::now_utc() - time::Duration::hours(1));

    let first = client.sync_once(&outbox).await;
    let Some(StopReason::ClockSkew { offset_secs }) = first.stopped else { panic!("{:?}", first.stopped) };
    assert!((3590..=3610).contains(&offset_secs), "{offset_secs}");
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap().state, OutboxState::Queued);

    // Signed with the hub's time now: it goes through.
    let second = client.sync_once(&outbox).await;
    assert_eq!(second.stopped, None);
    assert_eq!(second.acknowledged.len(), 1);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_hub_asking_for_patience_is_given_it() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    outbox.enqueue(&submission(vec![]), &[]).unwrap();
    let app = healthy()
        .fallback(|| async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "120")], "slow down").into_response() });
    let (addr, task) = serve_app(app).await;
    let report = stranger(&format!("http://{addr}")).sync_once(&outbox).await;
    assert_eq!(report.stopped, Some(StopReason::ServerBusy { status: 429, retry_after: Some(Duration::from_secs(120)) }));
    let mut backoff = offline_cache::Backoff::with_seed(Duration::from_secs(1), Duration::from_secs(60), 3);
    assert!(backoff.after(&report).unwrap() >= Duration::from_secs(120));
    task.abort();
}

#[tokio::test]
async fn an_unregistered_or_revoked_terminal_stops_and_keeps_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = common::open(dir.path());
    let hub = start_hub(dir.path()).await;
    let sub = submission(vec![]);
    outbox.enqueue(&sub, &[]).unwrap();

    let identity = common::identity();
    let client = SyncClient::with_config(&hub.base_url(), identity.clone(), quick()).unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, Some(StopReason::AuthRejected { status: 401, code: "unknown_terminal".into() }));
    let e = outbox.entry(sub.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Queued, "not the record's fault: not quarantined");

    common::register(&hub, &identity).await;
    hub.revoke_terminal(identity.terminal_id()).await.unwrap();
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.stopped, Some(StopReason::AuthRejected { status: 403, code: "revoked".into() }));
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap().state, OutboxState::Queued);
    assert_eq!(hub_db(dir.path()).total_submissions().unwrap(), 0);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_upload_whose_last_bytes_arrived_unchecked_is_finished_not_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, key) = common::open(dir.path());
    let hub = start_hub_with_key(dir.path(), &key).await;
    let (sub, atts) = with_scan(&[7u8; 50_000]);
    outbox.enqueue(&sub, &atts).unwrap();
    let copy = outbox.sealed_copy(sub.id).unwrap().unwrap();
    let identity = common::identity();
    common::register(&hub, &identity).await;
    let client = SyncClient::with_config(&hub.base_url(), identity.clone(), quick()).unwrap();
    // The manifest went, then every attachment byte, but the check never ran.
    let env = model::seal::SealedEnvelope::from_bytes(&copy.envelope).unwrap();
    let parts: Vec<(&str, u64)> = env.attachments.iter().map(|a| (a.sha256.as_str(), a.size)).collect();
    let body_sha = model::submission::sha256_hex(&copy.envelope);
    hub.store()
        .put_submission(&hub::NewSubmission { id: sub.id, terminal_id: "T-0001", item_code: "620000RS0001", body: &copy.envelope, body_sha256: &body_sha, attachments: parts, quota: None, applicant: None })
        .unwrap();
    let bytes = &copy.attachments[0].bytes;
    hub.store().append_upload(&copy.attachments[0].sha256, bytes.len() as u64, 0, bytes).unwrap();
    // That was an earlier attempt of this terminal, which then died.
    rusqlite::Connection::open(dir.path().join("outbox.db"))
        .unwrap()
        .execute("UPDATE outbox SET state = 'sending', attempts = 1 WHERE id = ?1", [sub.id.to_string()])
        .unwrap();

    let report = client.sync_once(&outbox).await;
    assert_eq!((report.stopped, report.quarantined.len(), report.acknowledged.len()), (None, 0, 1));
    assert_eq!(report.bytes_sent, 0);
    let opened = hub_db(dir.path()).open_submission(sub.id, &key).unwrap().unwrap();
    assert_eq!(opened.attachments[0].1.as_slice(), &[7u8; 50_000][..]);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_squatted_submission_id_does_not_block_the_owners_sync() {
    // Another enrolled terminal read the id off the villager's receipt QR
    // and sent junk under it while the filing waited offline.
    let dir = tempfile::tempdir().unwrap();
    let (outbox, key) = common::open(dir.path());
    let hub = start_hub_with_key(dir.path(), &key).await;
    let filing = submission(vec![]);
    outbox.enqueue(&filing, &[]).unwrap();

    let squatter_id = offline_cache::DeviceIdentity::generate("T-SQUAT").unwrap();
    common::register(&hub, &squatter_id).await;
    let squatter_dir = tempfile::tempdir().unwrap();
    let squatter_outbox = Outbox::open(&squatter_dir.path().join("outbox.db"), common::config(&key)).unwrap();
    squatter_outbox.enqueue(&filing, &[]).unwrap();
    let squatter = SyncClient::with_config(&hub.base_url(), squatter_id, quick()).unwrap();
    assert_eq!(squatter.sync_once(&squatter_outbox).await.acknowledged.len(), 1);

    let owner = common::client(&hub, quick()).await;
    let report = owner.sync_once(&outbox).await;
    assert_eq!((report.stopped.clone(), report.quarantined.len()), (None, 0), "{report:?}");
    assert_eq!(report.acknowledged.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![filing.id]);
    assert_eq!(outbox.entry(filing.id).unwrap().unwrap().state, OutboxState::Acknowledged);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_conflict_the_terminal_did_not_cause_keeps_the_filing_queued() {
    // A hub from before ids were per terminal says 409 `conflict` when
    // another terminal took the id first: that proves nothing against ours.
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    let taken = submission(vec![]);
    outbox.enqueue(&taken, &[]).unwrap();
    let app = healthy()
        .fallback(|| async {
            let body = model::protocol::ErrorBody { code: model::protocol::ErrorCode::Conflict, message: "already holds a different body".into() };
            (StatusCode::CONFLICT, axum::Json(body)).into_response()
        });
    let (addr, task) = serve_app(app).await;
    let client = stranger(&format!("http://{addr}"));
    let report = client.sync_once(&outbox).await;
    assert!(report.quarantined.is_empty(), "{report:?}");
    assert_eq!(report.deferred.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![taken.id]);
    let e = outbox.entry(taken.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Queued, "kept, to be sent again");
    assert!(e.last_error.unwrap_or_default().contains("409"), "flagged with the reason");
    assert_eq!(outbox.pending(10).unwrap().len(), 1);
    task.abort();
}

#[tokio::test]
async fn a_terminal_over_its_hub_quota_backs_off_and_keeps_its_filings() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = common::open(dir.path());
    let quota = hub::OpenQuota { max_open: 0, max_bytes: 0 };
    let hub = Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db"), HubOptions { quota: Some(quota), ..HubOptions::default() })
        .await
        .unwrap();
    let sub = submission(vec![]);
    outbox.enqueue(&sub, &[]).unwrap();
    let client = common::client(&hub, quick()).await;
    let report = client.sync_once(&outbox).await;
    assert!(report.quarantined.is_empty(), "{report:?}");
    assert_eq!(report.stopped.as_ref().and_then(|s| s.retry_after()), Some(Duration::from_secs(600)), "{report:?}");
    assert!(matches!(report.stopped, Some(StopReason::ServerBusy { status: 429, .. })));
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap().state, OutboxState::Queued);
    hub.shutdown().await.unwrap();
}
