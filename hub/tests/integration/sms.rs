//! Progress texts through the province's SMS gateway: a gateway on loopback
//! that speaks the contract (hub/README.md) and records what it receives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use hub::backoffice::{self, Decision};
use hub::sms::{dispatch, progress_text, DispatchReport, PhoneOf};
use hub::{HttpSmsConfig, HttpSmsGateway, HubOptions, SmsState, Store};
use model::document::{DocumentKind, SignedDocument};
use model::protocol::TerminalConfig;
use model::seal::PlatformSecretKey;
use model::CaseStatus;
use serde_json::{json, Value};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::common::{platform_key, seal, start_with, submission};

/// What the gateway received: one entry per distinct message it accepted.
#[derive(Debug, Clone)]
struct Received {
    key: String,
    to: String,
    text: String,
    id: String,
}

#[derive(Default)]
struct Gateway {
    messages: Vec<Received>,
    /// Every POST, by idempotency key (tries included).
    posts: HashMap<String, usize>,
    /// Accept the next N messages, then answer 503 as if the answer was lost.
    lose_answers: usize,
    bad_token: usize,
}

type Shared = Arc<Mutex<Gateway>>;

async fn post_message(State(gw): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let mut g = gw.lock().unwrap();
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t0ken") {
        g.bad_token += 1;
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "token" })));
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "Idempotency-Key is required" })));
    };
    *g.posts.entry(key.clone()).or_default() += 1;
    let (to, text) = (body["to"].as_str().unwrap_or_default().to_owned(), body["text"].as_str().unwrap_or_default().to_owned());
    if let Some(m) = g.messages.iter().find(|m| m.key == key) {
        if m.to != to || m.text != text {
            return (StatusCode::CONFLICT, Json(json!({ "error": "key reused with another body" })));
        }
        return (StatusCode::OK, Json(json!({ "id": m.id, "status": "accepted" })));
    }
    let id = format!("gw-{}", g.messages.len() + 1);
    g.messages.push(Received { key, to, text, id: id.clone() });
    if g.lose_answers > 0 {
        g.lose_answers -= 1;
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "busy" })));
    }
    (StatusCode::ACCEPTED, Json(json!({ "id": id, "status": "accepted" })))
}

async fn get_message(State(gw): State<Shared>, Path(id): Path<String>) -> (StatusCode, Json<Value>) {
    let g = gw.lock().unwrap();
    match g.messages.iter().find(|m| m.id == id) {
        Some(m) => (StatusCode::OK, Json(json!({ "id": m.id, "status": "delivered" }))),
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": "no such message" }))),
    }
}

async fn serve_gateway(listener: tokio::net::TcpListener, gw: Shared) {
    let app = Router::new().route("/v1/messages", post(post_message)).route("/v1/messages/{id}", get(get_message)).with_state(gw);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

fn client(port: u16) -> HttpSmsGateway {
    let mut c = HttpSmsConfig::new(&format!("http://127.0.0.1:{port}/"), "t0ken");
    c.attempts = 3;
    c.backoff = Duration::from_millis(20);
    c.timeout = Duration::from_secs(5);
    HttpSmsGateway::new(c).unwrap()
}

/// The villager's number as the serving hub reads it, on whichever backend the hub in `dir` runs.
fn phones<'a>(dir: &'a std::path::Path, store: &'a dyn Store, key: &'a PlatformSecretKey) -> Box<PhoneOf<'a>> {
    Box::new(move |case| {
        let hubdb = crate::common::db(dir);
        let (_, filing) = backoffice::open_case(&hubdb, store, case.as_str(), key).map_err(|e| e.to_string())?;
        Ok(backoffice::notification_phone(&filing.submission).map(Zeroizing::new))
    })
}

/// A hub holding the platform key with an SMS gateway configured: the
/// hub, its terminal, the key (to seal filings with).
async fn start_texting(dir: &std::path::Path) -> (hub::Hub, crate::common::Api, PlatformSecretKey) {
    let key = platform_key();
    let options = HubOptions { platform_key: Some(Arc::new(PlatformSecretKey::parse(&key.to_text()).unwrap())), sms_gateway: true, ..HubOptions::default() };
    let (hub, api) = start_with(dir, options).await;
    (hub, api, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_reaches_the_gateway_exactly_once_through_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api, key) = start_texting(dir.path()).await;
    let db = dir.path();
    let store = hub.store();

    // The terminal was told a gateway exists, so it may promise a text.
    let doc: SignedDocument = api.get("/v1/terminal/config").await.json().await.unwrap();
    let config: TerminalConfig = doc.open(&hub.signing_public_key(), DocumentKind::TerminalConfig, "GS-0001", None).unwrap();
    assert!(config.paths.sms && !config.paths.e_license && !config.paths.mail, "{:?}", config.paths);

    // A filing with a mobile number on its form, sealed to the platform.
    let sub = submission(vec![]);
    let phone = sub.form.get("phone").cloned().unwrap();
    assert_eq!(api.put_manifest(sub.id, seal(&key, &sub, &[]).envelope.to_bytes()).await.status(), reqwest::StatusCode::CREATED);
    let commit: model::protocol::CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    let case = commit.case_number.as_str().to_owned();

    // The gateway is down (nothing listens on its port) when the clerk accepts.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let gateway = client(port);
    backoffice::decide(store.clone(), &case, Decision::Accept, "clerk").await.unwrap();
    let report = dispatch(store.as_ref(), &gateway, &mut *phones(&db, store.as_ref(), &key), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DispatchReport { deferred: 1, ..Default::default() });
    let rows = store.sms_of_case(&case).unwrap();
    assert_eq!((rows.len(), rows[0].state, rows[0].attempts), (1, SmsState::Pending, 1), "{rows:?}");
    assert!(rows[0].last_error.as_deref().is_some_and(|e| !e.contains(&phone)), "{rows:?}");

    // It comes back, and loses its first answer: the hub tries again with the same key.
    let gw: Shared = Arc::new(Mutex::new(Gateway { lose_answers: 1, ..Gateway::default() }));
    serve_gateway(tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap(), gw.clone()).await;
    let report = dispatch(store.as_ref(), &gateway, &mut *phones(&db, store.as_ref(), &key), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DispatchReport { sent: 1, ..Default::default() });
    // Asking after it: delivered. Then nothing is due.
    let report = dispatch(store.as_ref(), &gateway, &mut *phones(&db, store.as_ref(), &key), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DispatchReport { delivered: 1, ..Default::default() });
    let report = dispatch(store.as_ref(), &gateway, &mut *phones(&db, store.as_ref(), &key), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DispatchReport::default());

    {
        let g = gw.lock().unwrap();
        assert_eq!(g.messages.len(), 1, "exactly once: {:?}", g.messages);
        let m = &g.messages[0];
        assert_eq!(g.posts.get(&m.key), Some(&2), "the lost answer was retried under the same key");
        assert_eq!(m.to, phone, "the number from the sealed filing");
        assert_eq!(m.text, progress_text(&case, CaseStatus::Accepted, None));
        assert_eq!(g.bad_token, 0);
    }
    let rows = store.sms_of_case(&case).unwrap();
    assert_eq!((rows[0].state, rows[0].gateway_id.as_deref()), (SmsState::Delivered, Some("gw-1")));

    // The next change is its own text; a change the villager is not told of (办理中) is none.
    backoffice::decide(store.clone(), &case, Decision::Process, "clerk").await.unwrap();
    backoffice::decide(store.clone(), &case, Decision::Reject { reason: "材料不清晰".into() }, "clerk").await.unwrap();
    let report = dispatch(store.as_ref(), &gateway, &mut *phones(&db, store.as_ref(), &key), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.sent, 1);
    let g = gw.lock().unwrap();
    assert_eq!(g.messages.len(), 2);
    assert_eq!(g.messages[1].text, progress_text(&case, CaseStatus::Rejected, Some("材料不清晰")));
    assert_ne!(g.messages[0].key, g.messages[1].key);
    drop(g);
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_text_is_failed_not_retried_and_old_news_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let key = platform_key();
    let options = HubOptions { platform_key: Some(Arc::new(PlatformSecretKey::parse(&key.to_text()).unwrap())), ..HubOptions::default() };
    let (hub, api) = start_with(dir.path(), options).await;
    let (db, store) = (dir.path(), hub.store());
    // Without a gateway the terminal is told to promise no text.
    let doc: SignedDocument = api.get("/v1/terminal/config").await.json().await.unwrap();
    let config: TerminalConfig = doc.open(&hub.signing_public_key(), DocumentKind::TerminalConfig, "GS-0001", None).unwrap();
    assert!(!config.paths.sms);

    let mut cases = Vec::new();
    for _ in 0..2 {
        let sub = submission(vec![]);
        assert_eq!(api.put_manifest(sub.id, seal(&key, &sub, &[]).envelope.to_bytes()).await.status(), reqwest::StatusCode::CREATED);
        let commit: model::protocol::CommitResponse = api.commit(sub.id).await.json().await.unwrap();
        backoffice::decide(store.clone(), commit.case_number.as_str(), Decision::Accept, "clerk").await.unwrap();
        cases.push(commit.case_number.as_str().to_owned());
    }
    let gw: Shared = Arc::new(Mutex::new(Gateway::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    serve_gateway(listener, gw.clone()).await;
    // A wrong token: refused (401), a person must look; not hammered.
    let mut c = HttpSmsConfig::new(&format!("http://127.0.0.1:{port}"), "wrong");
    c.backoff = Duration::from_millis(1);
    let wrong = HttpSmsGateway::new(c).unwrap();
    // Four days later, nothing is sent: old news.
    let later = OffsetDateTime::now_utc() + Duration::from_secs(4 * 86_400);
    let report = dispatch(store.as_ref(), &wrong, &mut *phones(&db, store.as_ref(), &key), later).await.unwrap();
    assert_eq!(report, DispatchReport { expired: 2, ..Default::default() });
    assert_eq!(gw.lock().unwrap().bad_token, 0);

    backoffice::decide(store.clone(), &cases[0], Decision::Complete { result_pdf: None }, "clerk").await.unwrap();
    let report = dispatch(store.as_ref(), &wrong, &mut *phones(&db, store.as_ref(), &key), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DispatchReport { failed: 1, ..Default::default() });
    assert_eq!(gw.lock().unwrap().bad_token, 1, "a refusal is not retried");
    assert!(gw.lock().unwrap().messages.is_empty());
    let rows = store.sms_of_case(&cases[0]).unwrap();
    assert_eq!(rows.iter().map(|r| r.state).collect::<Vec<_>>(), vec![SmsState::Expired, SmsState::Failed]);
    hub.shutdown().await.unwrap();
}

/// 差评整改 reaches the villager by text too: the back office's answer to a
/// bad rating is one message at the gateway, sent once, naming the case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_to_a_bad_rating_is_texted_once() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api, key) = start_texting(dir.path()).await;
    let db = dir.path();
    let store = hub.store();
    let sub = submission(vec![]);
    let phone = sub.form.get("phone").cloned().unwrap();
    assert_eq!(api.put_manifest(sub.id, seal(&key, &sub, &[]).envelope.to_bytes()).await.status(), reqwest::StatusCode::CREATED);
    let commit: model::protocol::CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    let case = commit.case_number.as_str().to_owned();
    let ev = model::protocol::EvaluationUpload {
        id: uuid::Uuid::now_v7(),
        evaluation: model::evaluation::Evaluation {
            case_number: commit.case_number.clone(),
            rating: model::evaluation::Rating::Dissatisfied,
            reasons: vec!["等的时间太长".into()],
            text: String::new(),
        },
        rated_at: OffsetDateTime::now_utc(),
    };
    assert!(api.send(reqwest::Method::PUT, &format!("/v1/evaluations/{}", ev.id), serde_json::to_vec(&ev).unwrap()).await.status().is_success());
    let reply = "已加派人手，下次不用久等。";
    store.reply_followup(ev.id, reply, "李主任", OffsetDateTime::now_utc()).unwrap();

    let gw: Shared = Arc::new(Mutex::new(Gateway::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    serve_gateway(listener, gw.clone()).await;
    let gateway = client(port);
    let report = dispatch(store.as_ref(), &gateway, &mut *phones(&db, store.as_ref(), &key), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let report = dispatch(store.as_ref(), &gateway, &mut *phones(&db, store.as_ref(), &key), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.sent, 0, "once");
    let g = gw.lock().unwrap();
    assert_eq!(g.messages.len(), 1, "{:?}", g.messages);
    assert_eq!((g.messages[0].to.as_str(), g.messages[0].text.as_str()), (phone.as_str(), hub::sms::reply_text(&case, reply).as_str()));
    assert!(g.messages[0].text.contains(reply) && g.messages[0].text.contains(&case));
    drop(g);
    hub.shutdown().await.unwrap();
}

/// The serving hub's own loop (`hub::sms::spawn_loop`, the outbox loop of
/// `hub::outbox`): a text held up by a gateway outage goes out by itself
/// when the gateway returns, once; after the loop is stopped nothing more
/// is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serving_hub_texts_by_itself_through_an_outage_and_stops_with_its_loop() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api, key) = start_texting(dir.path()).await;
    let store = hub.store();
    let sub = submission(vec![]);
    assert_eq!(api.put_manifest(sub.id, seal(&key, &sub, &[]).envelope.to_bytes()).await.status(), reqwest::StatusCode::CREATED);
    let commit: model::protocol::CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    let case = commit.case_number.as_str().to_owned();
    backoffice::decide(store.clone(), &case, Decision::Accept, "clerk").await.unwrap();

    // The gateway is down when the loop starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = HttpSmsConfig::new(&format!("http://127.0.0.1:{port}/"), "t0ken");
    (c.attempts, c.timeout) = (1, Duration::from_secs(5));
    let (db, blobs) = crate::common::db_location(dir.path());
    let key_arc = Arc::new(PlatformSecretKey::parse(&key.to_text()).unwrap());
    let texting = hub::sms::spawn_loop(db, blobs, store.clone(), HttpSmsGateway::new(c).unwrap(), key_arc, Duration::from_millis(200));
    crate::common::until("the first try", || store.sms_of_case(&case).unwrap().first().is_some_and(|r| r.attempts >= 1)).await;
    assert_eq!(store.sms_of_case(&case).unwrap()[0].state, SmsState::Pending);

    let gw: Shared = Arc::new(Mutex::new(Gateway::default()));
    serve_gateway(tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap(), gw.clone()).await;
    crate::common::until("the text at the gateway", || !gw.lock().unwrap().messages.is_empty()).await;
    crate::common::until("delivered", || store.sms_of_case(&case).unwrap()[0].state == SmsState::Delivered).await;
    assert_eq!(gw.lock().unwrap().messages.len(), 1, "once");

    // Stopped: the next change waits for the next loop (or `hub sms send`).
    texting.stop().await;
    backoffice::decide(store.clone(), &case, Decision::Complete { result_pdf: None }, "clerk").await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(gw.lock().unwrap().messages.len(), 1, "nothing is sent after the loop stopped");
    assert_eq!(store.sms_of_case(&case).unwrap().iter().filter(|r| r.state == SmsState::Pending).count(), 1);
    hub.shutdown().await.unwrap();
}
