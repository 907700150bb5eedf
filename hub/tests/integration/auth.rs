//! Device authentication: the hub answers only registered, active terminals
//! whose signed requests are fresh and new.

use crate::common;

use crate::common::{error_code, start, Api, Tamper};
use hub::NewTerminal;
use model::auth::MAX_CLOCK_SKEW_SECS;
use model::protocol::ErrorCode;
use reqwest::{Method, StatusCode};
use time::OffsetDateTime;

async fn code_of(resp: reqwest::Response) -> (StatusCode, ErrorCode) {
    let status = resp.status();
    (status, error_code(resp).await.code)
}

/// `GET /v1/terminal/config`, signed by `api` with the fields `t` overrides.
async fn get_config(api: &Api, t: &Tamper) -> reqwest::Response {
    api.build(Method::GET, "/v1/terminal/config", None, Vec::new(), t).send().await.unwrap()
}

/// Presents `code` for enrollment as the terminal `serial` holding `key`, now.
async fn present(hub: &hub::Hub, key: &model::auth::SigningKey, serial: &str, code: &str) -> reqwest::Response {
    let req = model::enroll::EnrollRequest::sign(key, serial, code, OffsetDateTime::now_utc().unix_timestamp());
    common::http().post(format!("{}/v1/enroll", hub.base_url())).json(&req).send().await.unwrap()
}

/// What a technician types to bind a code to a kiosk in the test village.
fn kiosk_binding(fingerprint: Option<String>) -> hub::EnrollBinding {
    hub::EnrollBinding {
        terminal_id: None,
        village_code: model::VillageCode::parse("622926100202").unwrap(),
        profile: model::enroll::Profile::Kiosk,
        expected_fingerprint: fingerprint,
        actor: "technician".into(),
    }
}

#[tokio::test]
async fn a_registered_terminal_gets_in_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    assert_eq!(api.get("/v1/terminal/config").await.status(), StatusCode::OK);

    // Unknown terminal id.
    let stranger = Api::new(&hub, "GS-9999");
    assert_eq!(code_of(stranger.get("/v1/terminal/config").await).await, (StatusCode::UNAUTHORIZED, ErrorCode::UnknownTerminal));

    // A known id, signed with another key (a cloned id on a foreign device).
    let impostor = Api { terminal_id: api.terminal_id.clone(), ..Api::new(&hub, "GS-0001") };
    assert_eq!(code_of(impostor.get("/v1/terminal/config").await).await, (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated));

    // No headers at all.
    let resp = common::http().get(format!("{}/v1/terminal/config", hub.base_url())).send().await.unwrap();
    assert_eq!(code_of(resp).await, (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated));

    // The same id cannot be registered again with another key.
    let other = common::random_key();
    let again = hub
        .register_terminal(NewTerminal { id: api.terminal_id.clone(), public_key: other.public_key(), village_code: None, label: None })
        .await;
    assert!(again.is_err());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_revoked_terminal_is_refused_from_its_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    assert_eq!(api.get("/v1/terminal/config").await.status(), StatusCode::OK);
    hub.revoke_terminal(&api.terminal_id).await.unwrap();
    assert_eq!(code_of(api.get("/v1/terminal/config").await).await, (StatusCode::FORBIDDEN, ErrorCode::Revoked));
    // Registering the same key again does not bring it back.
    assert!(hub
        .register_terminal(NewTerminal { id: api.terminal_id.clone(), public_key: api.key.public_key(), village_code: None, label: None })
        .await
        .is_err());
    assert_eq!(api.get("/v1/terminal/config").await.status(), StatusCode::FORBIDDEN);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused_as_clock_skew() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for ts in [now - MAX_CLOCK_SKEW_SECS - 30, now + MAX_CLOCK_SKEW_SECS + 30] {
        let t = Tamper { timestamp: Some(ts), ..Tamper::default() };
        let resp = get_config(&api, &t).await;
        assert!(resp.headers().contains_key("date"), "the hub's time travels back for the terminal to adjust");
        assert_eq!(code_of(resp).await, (StatusCode::UNAUTHORIZED, ErrorCode::ClockSkew));
    }
    // Inside the window is fine.
    let t = Tamper { timestamp: Some(now - MAX_CLOCK_SKEW_SECS + 30), ..Tamper::default() };
    assert_eq!(get_config(&api, &t).await.status(), StatusCode::OK);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_replayed_request_is_refused_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut api) = start(dir.path()).await;
    let t = Tamper { nonce: Some("replayed-nonce-0000000001".into()), ..Tamper::default() };
    let first = get_config(&api, &t).await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = get_config(&api, &t).await;
    assert_eq!(code_of(again).await, (StatusCode::UNAUTHORIZED, ErrorCode::Replayed));

    // Nonces are kept in the database, not in memory.
    hub.shutdown().await.unwrap();
    let hub = super::common::spawn_hub(dir.path(), hub::HubOptions::default()).await;
    api.base = hub.base_url();
    let after = get_config(&api, &t).await;
    assert_eq!(code_of(after).await, (StatusCode::UNAUTHORIZED, ErrorCode::Replayed));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_body_must_be_the_one_signed() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let sub = common::submission(vec![]);
    let body = common::seal(&common::platform_key(), &sub, &[]).envelope.to_bytes();
    // Signed over one body, sent with another (a tampering middlebox).
    let t = Tamper { signed_sha256: Some(model::submission::sha256_hex(b"something else")), ..Tamper::default() };
    let resp = api.build(Method::PUT, &format!("/v1/submissions/{}", sub.id), None, body.clone(), &t).send().await.unwrap();
    assert_eq!(code_of(resp).await, (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated));
    assert_eq!(super::common::db(dir.path()).submission_count(sub.id).unwrap(), 0);

    // A path other than the one signed.
    let req = api.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &Tamper::default());
    let mut req = req.build().unwrap();
    req.url_mut().set_path("/v1/cases/62202601010000001");
    let resp = api.http.execute(req).await.unwrap();
    assert_eq!(code_of(resp).await, (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn public_routes_need_no_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, _api) = start(dir.path()).await;
    let http = common::http();
    for path in ["/v1/health", "/v1/openapi.json"] {
        let resp = http.get(format!("{}{path}", hub.base_url())).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    // The fleet page needs no device signature, but staff credentials.
    let (name, token) = common::staff(&hub);
    let resp = http.get(format!("{}/fleet", hub.base_url())).basic_auth(name, Some(token)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_onlooker_cannot_bind_a_code_read_off_the_screen() {
    // The terminal shows its code; its own first request failed (the link
    // was down), and someone who read the code presents it with their key.
    let dir = tempfile::tempdir().unwrap();
    let (hub, _api) = start(dir.path()).await;
    let onlooker = common::random_key();
    let terminal = common::random_key();
    assert_eq!(present(&hub, &onlooker, "SN-FAKE", "ABCDEFGH").await.status(), StatusCode::OK, "pending, for now");
    let resp = present(&hub, &terminal, "SN-REAL", "ABCDEFGH").await;
    assert_eq!(code_of(resp).await, (StatusCode::GONE, ErrorCode::EnrollCodeUsed));

    // A technician who types only the code binds nothing: the fingerprint is required...
    let err = hub.bind_enrollment("ABCD-EFGH", kiosk_binding(None)).await.unwrap_err().to_string();
    assert!(err.contains(&onlooker.public_key().fingerprint()) || err.contains("more than one key"), "{err}");
    // ...and with the terminal's fingerprint the code is refused too: two keys presented it.
    let err = hub.bind_enrollment("ABCD-EFGH", kiosk_binding(Some(terminal.public_key().fingerprint()))).await.unwrap_err().to_string();
    assert!(err.contains("more than one key"), "{err}");
    // Even the onlooker's own fingerprint does not bind it.
    assert!(hub.bind_enrollment("ABCD-EFGH", kiosk_binding(Some(onlooker.public_key().fingerprint()))).await.is_err());
    // The technician's list flags it.
    let listed = hub.store().pending_enrollments(time::OffsetDateTime::now_utc()).unwrap();
    assert_eq!(listed.iter().map(|e| e.status.as_str()).collect::<Vec<_>>(), vec!["contested"]);
    // The onlooker's polls never get an enrollment; no terminal was registered.
    let answer: serde_json::Value = present(&hub, &onlooker, "SN-FAKE", "ABCDEFGH").await.json().await.unwrap();
    assert_eq!(answer["status"], "pending");
    assert_eq!(hub.store().terminals().unwrap().len(), 1, "only the harness's terminal");
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_code_needs_the_fingerprint_the_terminal_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, _api) = start(dir.path()).await;
    let terminal = common::random_key();
    assert_eq!(present(&hub, &terminal, "SN-1", "JKMNPQRS").await.status(), StatusCode::OK);
    let err = hub.bind_enrollment("JKMN-PQRS", kiosk_binding(None)).await.unwrap_err().to_string();
    assert!(err.contains("fingerprint") && err.contains(&terminal.public_key().fingerprint()), "shows the presenter's: {err}");
    let bound = hub.bind_enrollment("JKMN-PQRS", kiosk_binding(Some(terminal.public_key().fingerprint()))).await.unwrap();
    assert_eq!(bound.terminal_id.as_deref(), Some("T-SN-1"));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn enrollment_reads_no_large_body() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, _api) = start(dir.path()).await;
    let resp = common::http().post(format!("{}/v1/enroll", hub.base_url())).body(vec![b' '; hub::SMALL_BODY_LIMIT + 1]).send().await.unwrap();
    assert_eq!(code_of(resp).await, (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge));
    hub.shutdown().await.unwrap();
}

/// A taken-over kiosk holds its device key and can sign as fast as it
/// likes: past its burst it gets 429 with a short Retry-After, other
/// terminals are served as before, and requests that only name a terminal
/// (signed with another key) cannot use up that terminal's allowance.
#[tokio::test]
async fn a_flooding_terminal_is_slowed_alone_and_no_one_can_spend_its_allowance() {
    let dir = tempfile::tempdir().unwrap();
    let options = hub::HubOptions { terminal_rate: Some((1.0, 5.0)), ..hub::HubOptions::default() };
    let (hub, flood) = common::start_with(dir.path(), options).await;
    let other = Api::new(&hub, "GS-0002");
    other.register(&hub).await;
    // Impostors naming GS-0002 many times over: refused, and GS-0002's allowance untouched.
    let impostor = Api { terminal_id: other.terminal_id.clone(), ..Api::new(&hub, "GS-0002") };
    for _ in 0..20 {
        assert_eq!(code_of(impostor.get("/v1/terminal/config").await).await, (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated));
    }
    for i in 0..5 {
        assert_eq!(flood.get("/v1/terminal/config").await.status(), StatusCode::OK, "request {i} is within the burst");
    }
    let over = flood.get("/v1/terminal/config").await;
    let retry: u64 = over.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After");
    assert_eq!(code_of(over).await, (StatusCode::TOO_MANY_REQUESTS, ErrorCode::QuotaExceeded));
    assert!((1..=2).contains(&retry), "a short wait, not the 10 minutes of a full quota: {retry}");
    for i in 0..5 {
        assert_eq!(other.get("/v1/terminal/config").await.status(), StatusCode::OK, "another terminal is served ({i})");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(flood.get("/v1/terminal/config").await.status(), StatusCode::OK, "after the wait, served again");
    hub.shutdown().await.unwrap();
}
