//! Rate limits live in the store, not in one process (issue 17): two hub
//! instances over one database spend one enrollment bucket per client, and
//! behind a trusted proxy each forwarded client has its own. Runs on
//! SQLite and, through `postgres.rs`, on PostgreSQL.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use hub::HubOptions;
use reqwest::StatusCode;
use time::OffsetDateTime;

use super::common::{http, spawn_hub};

/// An enrollment attempt (an empty body: refused after the limit, 422).
async fn attempt(base: &str, forwarded: Option<&str>) -> StatusCode {
    let mut req = http().post(format!("{base}/v1/enroll"));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap().status()
}

/// A clock the test moves, shared by both instances.
fn moving_clock() -> (Arc<AtomicI64>, hub::Clock) {
    let offset = Arc::new(AtomicI64::new(0));
    let (o, start) = (offset.clone(), OffsetDateTime::now_utc());
    (offset, Arc::new(move || start + time::Duration::seconds(o.load(Ordering::SeqCst))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_enrollment_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (offset, clock) = moving_clock();
    let options = || HubOptions { enroll_rate: Some((4, 1)), clock: Some(clock.clone()), ..HubOptions::default() };
    // The same directory twice: one database, two stores, two listeners.
    let hubs = [spawn_hub(dir.path(), options()).await, spawn_hub(dir.path(), options()).await];
    let mut answers = Vec::new();
    for i in 0..10 {
        answers.push(attempt(&hubs[i % 2].base_url(), None).await);
    }
    let allowed = answers.iter().filter(|s| **s != StatusCode::TOO_MANY_REQUESTS).count();
    // Each instance alone would allow 4 (8 in all); shared, 4.
    assert_eq!(allowed, 4, "{answers:?}");
    assert!(answers[..4].iter().all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY || *s == StatusCode::BAD_REQUEST), "{answers:?}");
    assert!(answers[4..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{answers:?}");
    // A minute later (1 a minute) one more, at either instance, then none.
    offset.store(61, Ordering::SeqCst);
    assert_ne!(attempt(&hubs[1].base_url(), None).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt(&hubs[0].base_url(), None).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt(&hubs[1].base_url(), None).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let loopback: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let options = HubOptions { enroll_rate: Some((2, 1)), trusted_proxies: vec![loopback], ..HubOptions::default() };
    let hub = spawn_hub(dir.path(), options).await;
    let base = hub.base_url();
    // The proxy appends the address it saw; what comes before is the client's claim.
    let limited = |who: &'static str| {
        let base = base.clone();
        async move {
            let mut out = Vec::new();
            for _ in 0..3 {
                out.push(attempt(&base, Some(who)).await == StatusCode::TOO_MANY_REQUESTS);
            }
            out
        }
    };
    assert_eq!(limited("10.0.0.1").await, [false, false, true]);
    assert_eq!(limited("10.0.0.2").await, [false, false, true], "another client, another bucket");
    // A client claiming another address gets the bucket of the one the proxy saw.
    assert_eq!(limited("10.0.0.9, 10.0.0.1").await, [true, true, true]);

    // Not trusted: the header is the client's claim, and changes nothing.
    let dir = tempfile::tempdir().unwrap();
    let hub = spawn_hub(dir.path(), HubOptions { enroll_rate: Some((2, 1)), ..HubOptions::default() }).await;
    let answers: Vec<bool> =
        [attempt(&hub.base_url(), Some("10.0.0.1")).await, attempt(&hub.base_url(), Some("10.0.0.2")).await, attempt(&hub.base_url(), Some("10.0.0.3")).await]
            .iter()
            .map(|s| *s == StatusCode::TOO_MANY_REQUESTS)
            .collect();
    assert_eq!(answers, [false, false, true]);
}
