//! 好差评 forwarded to the platform (issue 16): a platform peer on loopback
//! that speaks the contract (hub/README.md, "Ratings to the platform") and
//! records what it receives; each rating arrives exactly once through an
//! outage and a lost answer, with the GB/T 39734 terms.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hub::rating_forward::{forward_ratings, spawn_loop, ForwardReport, HttpRatingSink, PlatformRating};
use model::evaluation::Rating;
use time::OffsetDateTime;

use crate::common::{file_case, rate, start};

#[derive(Default)]
struct Platform {
    /// One per distinct rating recorded, in arrival order.
    recorded: Vec<PlatformRating>,
    /// Every POST by Idempotency-Key (tries included).
    posts: HashMap<String, usize>,
    /// Record the next N, then answer 503 as if the answer was lost.
    lose_answers: usize,
    bad_token: usize,
}

type Shared = Arc<Mutex<Platform>>;

async fn post_evaluation(State(p): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let mut p = p.lock().unwrap();
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer pl4tform") {
        p.bad_token += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return StatusCode::BAD_REQUEST;
    };
    // The contract's body, strictly: anything else is refused.
    let Ok(rating) = serde_json::from_slice::<PlatformRating>(&body) else { return StatusCode::UNPROCESSABLE_ENTITY };
    if rating.evaluation_id != key {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    *p.posts.entry(key.clone()).or_default() += 1;
    if p.recorded.iter().any(|r| r.evaluation_id == key) {
        return StatusCode::OK;
    }
    p.recorded.push(rating);
    if p.lose_answers > 0 {
        p.lose_answers -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::CREATED
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rating_reaches_the_platform_exactly_once_through_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let store = hub.store();
    let (_, good_case) = file_case(&api).await;
    let (_, bad_case) = file_case(&api).await;
    let good_id = rate(&api, &good_case, Rating::VerySatisfied, &[]).await;
    let bad_id = rate(&api, &bad_case, Rating::VeryDissatisfied, &["等的时间太长"]).await;

    // The platform is down: nothing is lost, both wait.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sink = HttpRatingSink::new(&format!("http://127.0.0.1:{port}"), "pl4tform", Duration::from_secs(5)).unwrap();
    let report = forward_ratings(store.as_ref(), &sink, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, ForwardReport { deferred: 2, ..Default::default() });
    assert_eq!(store.ratings_to_forward(10).unwrap().len(), 2);

    // It comes back and loses its first answer: the next run sends that one again, same key.
    let platform: Shared = Arc::new(Mutex::new(Platform { lose_answers: 1, ..Platform::default() }));
    let app = Router::new().route("/v1/evaluations", post(post_evaluation)).with_state(platform.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let report = forward_ratings(store.as_ref(), &sink, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, ForwardReport { deferred: 2, ..Default::default() }, "the lost answer stops the run");
    let report = forward_ratings(store.as_ref(), &sink, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, ForwardReport { sent: 2, ..Default::default() });
    let report = forward_ratings(store.as_ref(), &sink, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, ForwardReport::default(), "nothing left to send");

    let p = platform.lock().unwrap();
    assert_eq!(p.bad_token, 0);
    assert_eq!(p.recorded.len(), 2, "exactly once each: {:?}", p.recorded);
    let first = &p.recorded[0];
    assert_eq!(p.posts.get(&first.evaluation_id), Some(&2), "the lost answer was retried under the same key");
    let bad = p.recorded.iter().find(|r| r.evaluation_id == bad_id.to_string()).unwrap();
    // The GB/T 39734 terms: channel, grade (name, label, score), 差评 content, time, what it is of.
    assert_eq!((bad.channel.as_str(), bad.grade.as_str(), bad.grade_label.as_str(), bad.score), ("onsite_terminal", "very_dissatisfied", "非常不满意", 1));
    assert_eq!(bad.reasons, ["等的时间太长"]);
    assert_eq!((bad.case_number.as_str(), bad.item_code.as_str(), bad.division_code.as_str(), bad.terminal_id.as_str()), (bad_case.as_str(), "620000RS0001", "622926100202", "GS-0001"));
    let good = p.recorded.iter().find(|r| r.evaluation_id == good_id.to_string()).unwrap();
    assert_eq!((good.score, good.grade_label.as_str()), (5, "非常满意"));
    drop(p);

    // What the timer runs: `hub ratings forward`, the token from a root-only file.
    let (_, third) = file_case(&api).await;
    rate(&api, &third, Rating::Satisfied, &[]).await;
    let token = dir.path().join("platform.token");
    std::fs::write(&token, "pl4tform\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(crate::common::cli_db(dir.path()))
        .args(["ratings", "forward", "--platform-url", &format!("http://127.0.0.1:{port}"), "--token-file"])
        .arg(&token)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "forwarded 1, refused 0, waiting 0");
    assert_eq!(platform.lock().unwrap().recorded.len(), 3);
    hub.shutdown().await.unwrap();
}

/// The serving hub forwards by itself (`hub --ratings-platform-url`, the
/// outbox loop of `hub::outbox`): a rating stored while the platform is
/// down reaches it once when it returns, without a nudge or a restart;
/// after the loop is stopped nothing more is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serving_hub_forwards_ratings_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sink = HttpRatingSink::new(&format!("http://127.0.0.1:{port}"), "pl4tform", Duration::from_secs(5)).unwrap();
    let forwarding = spawn_loop(hub.store(), sink, Duration::from_millis(100));
    let (_, case) = file_case(&api).await;
    let id = rate(&api, &case, Rating::Dissatisfied, &["态度不好"]).await;
    let store = hub.store();
    crate::common::until("a try while the platform is down", || store.ratings_to_forward(10).unwrap().first().is_some_and(|r| r.attempts >= 1)).await;

    let platform: Shared = Arc::new(Mutex::new(Platform::default()));
    let app = Router::new().route("/v1/evaluations", post(post_evaluation)).with_state(platform.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    crate::common::until("the rating at the platform", || !platform.lock().unwrap().recorded.is_empty()).await;
    // Several more turns: still once.
    tokio::time::sleep(Duration::from_millis(400)).await;
    forwarding.stop().await;
    {
        let p = platform.lock().unwrap();
        assert_eq!(p.recorded.len(), 1, "{:?}", p.recorded);
        assert_eq!(p.recorded[0].evaluation_id, id.to_string());
    }
    assert!(hub.store().ratings_to_forward(10).unwrap().is_empty());

    // Stopped: a new rating waits (for `hub ratings forward` or the next start).
    let (_, case) = file_case(&api).await;
    rate(&api, &case, Rating::Satisfied, &[]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(platform.lock().unwrap().recorded.len(), 1, "nothing is sent after the loop stopped");
    assert_eq!(hub.store().ratings_to_forward(10).unwrap().len(), 1);
    hub.shutdown().await.unwrap();
}
