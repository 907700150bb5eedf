//! Result mailing (issue 16) against a platform peer on loopback that speaks
//! the contract (hub/README.md, "Result mailing") and records each order: a
//! filing that chose mail reaches it with its case (once taken, through an
//! outage of the peer), one that collects does not, and a hub without the
//! option (or without the platform key to read the choice) neither offers
//! mailing to terminals nor orders it. The order is durable: it outlasts an
//! outage of many tries and a hub restart, and a refusal is final.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use hub::result_mail::ResultMailPlatform;
use hub::HubOptions;
use model::document::{DocumentKind, SignedDocument};
use model::protocol::{CommitResponse, TerminalConfig};
use model::seal::PlatformSecretKey;
use serde_json::Value;

use crate::common::{platform_key, seal, start_with, submission, Api};

#[derive(Default)]
struct Peer {
    /// (case in the path, Idempotency-Key, body) of every order taken.
    orders: Vec<(String, String, Value)>,
    /// Answers 503 this many times first (an outage).
    down_for: usize,
    /// Answers 422 (the platform cannot mail there): a refusal.
    refuse: bool,
    tries: usize,
}

type Shared = Arc<Mutex<Peer>>;

async fn delivery(State(peer): State<Shared>, Path(case): Path<String>, headers: HeaderMap, Json(body): Json<Value>) -> StatusCode {
    let mut p = peer.lock().unwrap();
    p.tries += 1;
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer m4il") {
        return StatusCode::UNAUTHORIZED;
    }
    if p.down_for > 0 {
        p.down_for -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if p.refuse {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    p.orders.push((case, key, body));
    StatusCode::CREATED
}

/// The peer on loopback and the hub's client of it (retries from 50 ms
/// apart, the outbox looked at every 100 ms).
async fn peer(down_for: usize) -> (Shared, Arc<ResultMailPlatform>) {
    let peer: Shared = Arc::new(Mutex::new(Peer { down_for, ..Peer::default() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/v1/cases/{case}/delivery", post(delivery)).with_state(peer.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut platform = ResultMailPlatform::new(&url, "m4il", Duration::from_secs(5)).unwrap();
    platform.retry_after = Duration::from_millis(50);
    platform.every = Duration::from_millis(100);
    (peer, Arc::new(platform))
}

fn key_copy(key: &PlatformSecretKey) -> Arc<PlatformSecretKey> {
    Arc::new(PlatformSecretKey::parse(&key.to_text()).unwrap())
}

async fn mail_offered(hub: &hub::Hub, api: &Api) -> bool {
    let doc: SignedDocument = api.get("/v1/terminal/config").await.json().await.unwrap();
    let config: TerminalConfig = doc.open(&hub.signing_public_key(), DocumentKind::TerminalConfig, "GS-0001", None).unwrap();
    config.paths.mail
}

/// Files a submission whose form chose `delivery`: its case number.
async fn file(api: &Api, key: &PlatformSecretKey, delivery: &str) -> (model::Submission, String) {
    let mut sub = submission(vec![]);
    sub.form.insert("result_delivery".into(), delivery.into());
    if delivery == "mail" {
        sub.form.insert("mail_address".into(), "622926100202|5社8号".into());
    }
    assert_eq!(api.put_manifest(sub.id, seal(key, &sub, &[]).envelope.to_bytes()).await.status(), reqwest::StatusCode::CREATED);
    let commit: CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    (sub, commit.case_number.as_str().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_choice_reaches_the_platform_with_its_case_once() {
    let (peer, platform) = peer(1).await;
    let dir = tempfile::tempdir().unwrap();
    let key = platform_key();
    let options = HubOptions { platform_key: Some(key_copy(&key)), result_mail: Some(platform), ..HubOptions::default() };
    let (hub, api) = start_with(dir.path(), options).await;
    assert!(mail_offered(&hub, &api).await, "terminals may offer mailing");

    let (sub, case) = file(&api, &key, "mail").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while peer.lock().unwrap().orders.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    {
        let p = peer.lock().unwrap();
        assert_eq!(p.orders.len(), 1, "the order arrived once");
        assert_eq!(p.tries, 2, "after the peer's outage, tried again");
        let (path_case, idempotency, body) = &p.orders[0];
        assert_eq!((path_case, idempotency), (&case, &case));
        assert_eq!(body["case_number"], case.as_str());
        assert_eq!(body["item_code"], sub.item_code.as_str());
        assert_eq!(body["method"], "mail");
        assert_eq!(body["village_code"], "622926100202");
        assert_eq!(body["detail"], "5社8号");
        assert_eq!(body["recipient"], sub.applicant.name.as_str());
    }

    // Collecting at the village point: nothing to order.
    file(&api, &key, "collect").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(peer.lock().unwrap().orders.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_option_or_the_key_mailing_is_neither_offered_nor_ordered() {
    let (peer, platform) = peer(0).await;
    let key = platform_key();
    // The hub cannot read the choice without the platform key: no mail either.
    for options in [
        HubOptions { platform_key: Some(key_copy(&key)), ..HubOptions::default() },
        HubOptions { result_mail: Some(platform.clone()), ..HubOptions::default() },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (hub, api) = start_with(dir.path(), options).await;
        assert!(!mail_offered(&hub, &api).await, "no terminal offers mailing");
        file(&api, &key, "mail").await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(peer.lock().unwrap().tries, 0, "nothing reached the platform");
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The villager was promised the post: an outage longer than any fixed
/// number of tries, and the hub stopping in the middle of it, must not
/// lose the order. A refusal is kept and not tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_order_outlasts_a_long_outage_and_a_hub_restart_and_a_refusal_is_final() {
    let (peer, platform) = peer(8).await;
    let dir = tempfile::tempdir().unwrap();
    let key = platform_key();
    let options = || HubOptions { platform_key: Some(key_copy(&key)), result_mail: Some(platform.clone()), ..HubOptions::default() };
    let (hub, api) = start_with(dir.path(), options()).await;
    let (_, case) = file(&api, &key, "mail").await;
    until("three failed tries", || peer.lock().unwrap().tries >= 3).await;
    let (state, tries, error) = hub.store().mail_state(&case).unwrap().expect("the case has a row in the mail outbox");
    assert_eq!(state, "pending");
    assert!(tries >= 3, "{tries}");
    assert!(error.is_some_and(|e| e.contains("503")), "the last error is kept");
    // Staff see it waiting on the fleet page.
    let mail = hub.store().platform_backlog(time::OffsetDateTime::now_utc()).unwrap().into_iter().find(|b| b.outbox == "mail").unwrap();
    assert_eq!((mail.pending, mail.given_up), (1, 0));
    let (name, token) = crate::common::staff(&hub);
    let page = crate::common::http().get(format!("{}/fleet", hub.base_url())).basic_auth(&name, Some(&token)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<td>邮寄 result mail orders</td><td class=\"cond\">1</td>"), "{page}");
    hub.shutdown().await.unwrap();

    // The hub is down a while; the platform's outage goes on, then ends.
    let tried_before_restart = peer.lock().unwrap().tries;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(peer.lock().unwrap().tries, tried_before_restart, "a stopped hub sends nothing");
    let hub = crate::common::spawn_hub(dir.path(), options()).await;
    until("the order taken after the restart", || !peer.lock().unwrap().orders.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    {
        let p = peer.lock().unwrap();
        assert_eq!(p.orders.len(), 1, "taken once");
        assert_eq!(p.orders[0].0, case);
        assert_eq!(p.tries, 9, "eight 503s, then taken; nothing after");
    }
    assert_eq!(hub.store().mail_state(&case).unwrap().map(|(s, t, _)| (s, t)), Some(("sent".to_owned(), 9)));

    // The platform cannot mail this one: refused, kept, not tried again.
    peer.lock().unwrap().refuse = true;
    let api = Api { base: hub.base_url(), ..api };
    let (_, refused) = file(&api, &key, "mail").await;
    until("the refusal", || hub.store().mail_state(&refused).unwrap().is_some_and(|(s, _, _)| s == "refused")).await;
    let tries = peer.lock().unwrap().tries;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(peer.lock().unwrap().tries, tries, "a refusal is not tried again");
    let (_, _, why) = hub.store().mail_state(&refused).unwrap().unwrap();
    assert!(why.is_some_and(|w| w.contains("422")), "the refusal's status is kept for the back office");
    let mail = hub.store().platform_backlog(time::OffsetDateTime::now_utc()).unwrap().into_iter().find(|b| b.outbox == "mail").unwrap();
    assert_eq!((mail.pending, mail.oldest_pending, mail.given_up), (0, None, 1), "a refusal needs a person: counted apart");

    // Collecting at the point: looked at once, nothing ordered.
    let (_, collect) = file(&api, &key, "collect").await;
    until("the collect case looked at", || hub.store().mail_state(&collect).unwrap().is_some()).await;
    assert_eq!(hub.store().mail_state(&collect).unwrap().map(|(s, t, _)| (s, t)), Some(("not_mail".to_owned(), 0)));
    hub.shutdown().await.unwrap();
}
