//! The heartbeat's round (issue 17): the nonce is spent in the same trip to
//! the store as the heartbeat, under the key the hub instance remembers
//! and the database checks again. Replays, revoked terminals and audit
//! anchoring keep their guarantees; on both backends.

use std::sync::Arc;

use crate::common::{error_code, start, Api, Tamper};
use model::audit_chain::{entry_hash, AuditHead, AuditLink, AuditProof, GENESIS};
use model::protocol::{ErrorCode, Heartbeat, HeartbeatAck, QueueSnapshot};
use reqwest::{Method, StatusCode};
use time::OffsetDateTime;

fn heartbeat(unsent: u64, audit: Option<AuditProof>) -> Heartbeat {
    Heartbeat {
        sent_at: OffsetDateTime::now_utc(),
        app_version: "kiosk/0.1.0".into(),
        catalog_version: None,
        config_version: Some(0),
        queue: QueueSnapshot { unsent, quarantined: 0, acknowledged: 0, oldest_unsent_secs: None, evaluations_unsent: 0 },
        free_disk_bytes: None,
        devices: vec![],
        alerts: vec![],
        clock_offset_secs: 0,
        audit,
        update: None,
    }
}

/// A heartbeat request, signed with the nonce `t` gives (a replay sends it again).
fn beat(api: &Api, hb: &Heartbeat, t: &Tamper) -> reqwest::RequestBuilder {
    api.build(Method::POST, "/v1/heartbeat", None, serde_json::to_vec(hb).unwrap(), t)
}

async fn status_and_code(resp: reqwest::Response) -> (StatusCode, ErrorCode) {
    let status = resp.status();
    (status, error_code(resp).await.code)
}

/// The unsent count of the heartbeat the hub keeps for the only terminal.
fn kept_unsent(hub: &hub::Hub) -> u64 {
    hub.store().terminals().unwrap()[0].last_heartbeat.as_ref().unwrap().1.queue.unsent
}

/// A terminal's audit chain of `n` entries.
fn chain(terminal: &str, n: u64) -> Vec<AuditLink> {
    let mut prev = GENESIS.to_owned();
    (1..=n)
        .map(|seq| {
            let at = format!("2026-12-05T08:00:{:02}Z", seq % 60);
            let hash = entry_hash(seq, &at, terminal, None, "visit", None, "ok", &prev);
            let link = AuditLink { seq, at, terminal: terminal.into(), operator: None, action: "visit".into(), subject: None, outcome: "ok".into(), prev_hash: prev.clone(), hash: hash.clone() };
            prev = hash;
            link
        })
        .collect()
}

/// The proof a terminal at entry `head` sends when the hub acknowledged `acked`.
fn proof(links: &[AuditLink], acked: u64, head: u64) -> AuditProof {
    let h = &links[head as usize - 1];
    AuditProof { head: AuditHead { seq: h.seq, hash: h.hash.clone() }, since: links[acked as usize..head as usize].to_vec() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_terminal_is_refused_at_once_by_every_instance_that_remembers_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (a, api) = start(dir.path()).await;
    // A second instance over the same store, with its own memory of keys.
    let signing = Arc::new(hub::signing::load_or_create(&dir.path().join("b.signing.key")).unwrap());
    let options = hub::HubOptions { signing_key: Some(signing), ..hub::HubOptions::default() };
    let b = hub::Hub::spawn_store("127.0.0.1:0".parse().unwrap(), a.store(), options).await.unwrap();
    let at_b = Api { key: api.key.clone(), ..Api::new(&b, &api.terminal_id) };
    // The first request looks the key up; the later ones verify under the remembered key.
    for (k, who) in [&api, &at_b, &api, &at_b].into_iter().enumerate() {
        let resp = beat(who, &heartbeat(k as u64, None), &Tamper::default()).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "heartbeat {k}");
    }
    assert_eq!(at_b.get("/v1/terminal/config").await.status(), StatusCode::OK);
    assert_eq!(kept_unsent(&a), 3);

    a.revoke_terminal(&api.terminal_id).await.unwrap();
    for who in [&at_b, &api] {
        let resp = beat(who, &heartbeat(99, None), &Tamper::default()).send().await.unwrap();
        assert_eq!(status_and_code(resp).await, (StatusCode::FORBIDDEN, ErrorCode::Revoked));
        assert_eq!(status_and_code(who.get("/v1/terminal/config").await).await, (StatusCode::FORBIDDEN, ErrorCode::Revoked));
    }
    assert_eq!(kept_unsent(&a), 3, "a revoked terminal's heartbeat is not kept");
    b.shutdown().await.unwrap();
    a.shutdown().await.unwrap();
}

/// PostgreSQL's heartbeat does not write `last_seen_at` (its own row's
/// time says it): the terminal list still shows the last heartbeat's time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_heard_only_by_heartbeats_was_last_seen_at_its_last_heartbeat() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    // The first looks the key up, the second verifies under the remembered one: both spend their nonce in the round.
    assert_eq!(beat(&api, &heartbeat(1, None), &Tamper::default()).send().await.unwrap().status(), StatusCode::OK);
    let first = hub.store().terminals().unwrap()[0].last_seen_at.expect("seen at the first heartbeat");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let before = OffsetDateTime::now_utc().replace_millisecond(0).unwrap();
    assert_eq!(beat(&api, &heartbeat(2, None), &Tamper::default()).send().await.unwrap().status(), StatusCode::OK);
    let t = &hub.store().terminals().unwrap()[0];
    assert_eq!(t.last_heartbeat.as_ref().unwrap().1.queue.unsent, 2);
    let seen = t.last_seen_at.expect("seen");
    assert!(seen >= before && seen > first, "last seen {seen}, the second heartbeat went at {before} or later, the first at {first}");
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_heartbeat_is_refused_before_anything_in_it_is_kept_or_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let links = chain(&api.terminal_id, 5);

    // Entry 2 is anchored first; the request is kept to be replayed.
    let old = Tamper { nonce: Some("heartbeat-nonce-000000001".into()), ..Tamper::default() };
    let old_hb = heartbeat(1, Some(proof(&links, 0, 2)));
    let ack: HeartbeatAck = beat(&api, &old_hb, &old).send().await.unwrap().json().await.unwrap();
    assert_eq!(ack.audit_anchor.unwrap().seq, 2);
    // The chain moves on to entry 5, proven by the entries after 2.
    let ack: HeartbeatAck = beat(&api, &heartbeat(2, Some(proof(&links, 2, 5))), &Tamper::default()).send().await.unwrap().json().await.unwrap();
    assert_eq!(ack.audit_anchor.unwrap(), AuditHead { seq: 5, hash: links[4].hash.clone() });

    // Replayed, the old heartbeat would say the chain went back to 2.
    let resp = beat(&api, &old_hb, &old).send().await.unwrap();
    assert_eq!(status_and_code(resp).await, (StatusCode::UNAUTHORIZED, ErrorCode::Replayed));
    let t = &hub.store().terminals().unwrap()[0];
    assert!(t.audit_breaks.is_empty(), "a replay wrote a break: {:?}", t.audit_breaks);
    assert_eq!(t.audit_anchor.as_ref().unwrap().0.seq, 5);
    assert_eq!(kept_unsent(&hub), 2);

    // A plain heartbeat replayed on the remembered key's path: refused, not kept again.
    let plain = Tamper { nonce: Some("heartbeat-nonce-000000002".into()), ..Tamper::default() };
    let plain_hb = heartbeat(7, None);
    assert_eq!(beat(&api, &plain_hb, &plain).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(beat(&api, &heartbeat(8, None), &Tamper::default()).send().await.unwrap().status(), StatusCode::OK);
    let resp = beat(&api, &plain_hb, &plain).send().await.unwrap();
    assert_eq!(status_and_code(resp).await, (StatusCode::UNAUTHORIZED, ErrorCode::Replayed));
    assert_eq!(kept_unsent(&hub), 8);
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_anchor_the_audit_chain_and_a_chain_that_went_back_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let links = chain(&api.terminal_id, 6);
    let send = |hb: Heartbeat| {
        let req = beat(&api, &hb, &Tamper::default());
        async move { req.send().await.unwrap().json::<HeartbeatAck>().await.unwrap() }
    };
    let head = |seq: u64| AuditHead { seq, hash: links[seq as usize - 1].hash.clone() };

    assert_eq!(send(heartbeat(0, Some(proof(&links, 0, 3)))).await.audit_anchor, Some(head(3)), "first");
    assert_eq!(send(heartbeat(0, Some(proof(&links, 3, 3)))).await.audit_anchor, Some(head(3)), "same");
    // Further on without the entries that show it: the hub keeps its anchor.
    let unproven = AuditProof { head: head(6), since: vec![] };
    assert_eq!(send(heartbeat(0, Some(unproven))).await.audit_anchor, Some(head(3)), "unproven");
    assert_eq!(send(heartbeat(0, Some(proof(&links, 3, 6)))).await.audit_anchor, Some(head(6)), "extends");
    assert!(hub.store().terminals().unwrap()[0].audit_breaks.is_empty());
    // An older copy of the terminal's database put back: flagged, re-anchored there.
    assert_eq!(send(heartbeat(0, Some(proof(&links, 0, 4)))).await.audit_anchor, Some(head(4)), "went back");
    let t = &hub.store().terminals().unwrap()[0];
    assert_eq!(t.audit_breaks.len(), 1);
    assert_eq!((t.audit_breaks[0].kind.as_str(), t.audit_breaks[0].anchored.seq, t.audit_breaks[0].reported.seq), ("went_back", 6, 4));
    // The fleet page keeps the head, not the entries sent to prove it.
    assert!(t.last_heartbeat.as_ref().unwrap().1.audit.as_ref().unwrap().since.is_empty());
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diagnostics_request_is_answered_until_its_bundle_is_all_on_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let ask = |hb: Heartbeat| {
        let req = beat(&api, &hb, &Tamper::default());
        async move { req.send().await.unwrap().json::<HeartbeatAck>().await.unwrap().diagnostics.map(|d| d.id) }
    };
    assert_eq!(ask(heartbeat(0, None)).await, None);
    let id = hub.store().request_diagnostics(&api.terminal_id, "ops-wang", OffsetDateTime::now_utc()).unwrap();
    assert_eq!(ask(heartbeat(0, None)).await, Some(id), "asked");
    // Announced, half uploaded: still asked (the object store is looked at).
    let bundle = vec![5u8; 4096];
    let sha = model::submission::sha256_hex(&bundle);
    let announce = serde_json::to_vec(&serde_json::json!({ "sha256": sha, "size": bundle.len() })).unwrap();
    assert_eq!(api.send(Method::POST, &format!("/v1/diagnostics/{id}"), announce).await.status(), StatusCode::NO_CONTENT);
    let path = format!("/v1/diagnostics/{id}/bundle/{sha}");
    let half = api.build(Method::PUT, &path, Some(&format!("bytes 0-2047/{}", bundle.len())), bundle[..2048].to_vec(), &Tamper::default());
    assert_eq!(half.send().await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(ask(heartbeat(0, None)).await, Some(id), "announced, not all here");
    let rest = api.build(Method::PUT, &path, Some(&format!("bytes 2048-4095/{}", bundle.len())), bundle[2048..].to_vec(), &Tamper::default());
    assert_eq!(rest.send().await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(ask(heartbeat(0, None)).await, None, "the bundle is all here");
    hub.shutdown().await.unwrap();
}
