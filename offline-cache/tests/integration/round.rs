//! A full sync round (`sync_all`) against the real hub: case status back to
//! the terminal (→ processed → purged), evaluations out, heartbeats, and the
//! signed catalog and terminal config in.

use crate::common;

use crate::common::{quick, submission, with_scan, Rig};
use hub::backoffice::{decide, Decision};
use hub::{Hub, HubDb};
use model::auth::{SignedCatalog, SigningKey};
use model::evaluation::{Evaluation, Rating};
use model::protocol::{DeviceHealth, DeviceState, TerminalConfig};
use model::{CaseStatus, Catalog};
use offline_cache::{OutboxState, SyncConfig};
use time::OffsetDateTime;

async fn hub(dir: &std::path::Path) -> Hub {
    Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap()
}

fn catalog_key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

/// The starter catalog under another version number.
fn catalog_json(version: u64) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(Catalog::starter_json()).unwrap();
    v["version"] = version.into();
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn decisions_reach_the_terminal_and_finished_cases_are_purged_after_retention() {
    let Rig { dir: _dir, outbox, hub, client, .. } = Rig::start().await;
    let (sub, atts) = with_scan(b"%PDF-1.4 scan");
    let other = submission(vec![]);
    outbox.enqueue(&sub, &atts).unwrap();
    outbox.enqueue(&other, &[]).unwrap();

    let r = client.sync_all(&outbox).await;
    assert_eq!(r.stopped, None);
    assert_eq!(r.acknowledged.len(), 2);
    // Received is what commit said; nothing new yet.
    client.heartbeat_soon();
    let r = client.sync_all(&outbox).await;
    assert!(r.case_updates.iter().all(|(_, s)| *s == CaseStatus::Received), "{:?}", r.case_updates);
    let case = outbox.entry(sub.id).unwrap().unwrap().case_number.unwrap();
    let other_case = outbox.entry(other.id).unwrap().unwrap().case_number.unwrap();

    let store = hub.store();
    decide(store.clone(), case.as_str(), Decision::Accept, "clerk").await.unwrap();
    decide(store.clone(), other_case.as_str(), Decision::Reject { reason: "材料不全".into() }, "clerk").await.unwrap();
    // Not before the next heartbeat: status is pulled at its cadence.
    assert!(client.sync_all(&outbox).await.case_updates.is_empty());
    client.heartbeat_soon();
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.stopped, None);
    assert!(r.case_updates.contains(&(sub.id, CaseStatus::Accepted)), "{:?}", r.case_updates);
    assert!(r.case_updates.contains(&(other.id, CaseStatus::Rejected)));
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap().state, OutboxState::Acknowledged);
    let rejected = outbox.entry(other.id).unwrap().unwrap();
    assert_eq!(rejected.state, OutboxState::Processed, "a rejected case is finished for the terminal");
    assert_eq!(outbox.case_status(other.id).unwrap().unwrap().reason.as_deref(), Some("材料不全"));

    let pdf = b"%PDF-1.7 result".to_vec();
    decide(store.clone(), case.as_str(), Decision::Complete { result_pdf: Some(pdf) }, "clerk").await.unwrap();
    client.heartbeat_soon();
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.case_updates, vec![(sub.id, CaseStatus::Done)]);
    let done = outbox.entry(sub.id).unwrap().unwrap();
    assert_eq!(done.state, OutboxState::Processed);
    assert!(outbox.case_status(sub.id).unwrap().unwrap().result_available);
    // Nothing acknowledged is left to ask about.
    assert!(outbox.awaiting_status(10).unwrap().is_empty());

    // After the retention window the sealed payloads go; the index rows stay.
    let later = OffsetDateTime::now_utc() + time::Duration::days(31);
    let purged = outbox.purge_expired(later).unwrap();
    assert_eq!(purged.purged.len(), 2);
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap().state, OutboxState::Purged);
    assert!(outbox.sealed_copy(sub.id).unwrap().is_none());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn evaluations_go_out_once_and_leave_nothing_behind() {
    let Rig { dir, outbox, hub, client, .. } = Rig::start().await;
    // The hub takes a rating only for a case this terminal filed.
    let filed = common::submission(vec![]);
    outbox.enqueue(&filed, &[]).unwrap();
    let (_, case) = client.sync_once(&outbox).await.acknowledged.pop().expect("the filing is acknowledged");
    outbox.enqueue_evaluation(&Evaluation { case_number: case.clone(), rating: Rating::Dissatisfied, reasons: vec!["等待太久".into()], text: String::new() }).unwrap();
    assert_eq!(outbox.evaluations_unsent().unwrap(), 1);
    let r = client.sync_all(&outbox).await;
    assert_eq!((r.stopped.clone(), r.evaluations_sent), (None, 1));
    assert_eq!(outbox.evaluations_unsent().unwrap(), 0);
    assert_eq!(client.sync_all(&outbox).await.evaluations_sent, 0);
    let held = HubDb::open(&dir.path().join("hub.db")).unwrap().evaluations().unwrap();
    assert_eq!(held, vec![(case.to_string(), "dissatisfied".to_owned())]);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn heartbeats_tell_the_hub_how_the_terminal_is_doing() {
    let Rig { dir: _dir, outbox, hub, client, .. } = Rig::start().await;
    client.report_device(DeviceHealth { device: "id_card".into(), state: DeviceState::Ok, detail: None });
    client.report_device(DeviceHealth { device: "receipt_printer".into(), state: DeviceState::Degraded, detail: Some("打印机没有回应".into()) });
    // One filing the hub will refuse (quarantined), nothing else waiting.
    let r = client.sync_all(&outbox).await;
    assert!(r.heartbeat_sent);
    assert!(!client.sync_all(&outbox).await.heartbeat_sent, "not due again yet");

    let terminals = hub.store().terminals().unwrap();
    let (at, hb) = terminals[0].last_heartbeat.clone().expect("heartbeat stored");
    assert!((OffsetDateTime::now_utc() - at).whole_seconds() < 10);
    assert_eq!(hb.queue.unsent, 0);
    assert_eq!(hb.devices.len(), 2);
    assert!(hb.devices.iter().any(|d| d.device == "receipt_printer" && d.state == DeviceState::Degraded));
    assert!(hb.free_disk_bytes.is_some());

    // Queued while the hub is away: the next heartbeat carries the depth and age.
    outbox.enqueue(&submission(vec![]), &[]).unwrap();
    let hb = client.heartbeat(&outbox).await.unwrap();
    assert_eq!(hb.queue.unsent, 1);
    assert!(hb.queue.oldest_unsent_secs.is_some());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_newer_signed_catalog_is_taken_and_a_badly_signed_one_refused() {
    let key = catalog_key(1);
    let Rig { dir, outbox, hub, client, .. } = Rig::with_sync(SyncConfig { catalog_key: Some(key.public_key()), ..quick() }).await;
    let base = Catalog::starter().version;

    hub.publish_catalog(SignedCatalog::sign(&key, &catalog_json(base + 1)).unwrap()).await.unwrap();
    let r = client.sync_all(&outbox).await;
    assert_eq!((r.stopped.clone(), r.catalog_updated, r.catalog_refused.clone()), (None, Some(base + 1), None));
    assert_eq!(outbox.cached_catalog(&key.public_key()).unwrap().unwrap().version, base + 1);

    // Signed with a key the terminal does not trust: refused, the old one stays.
    hub.publish_catalog(SignedCatalog::sign(&catalog_key(2), &catalog_json(base + 2)).unwrap()).await.unwrap();
    client.heartbeat_soon();
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.catalog_updated, None);
    assert!(r.catalog_refused.as_deref().is_some_and(|m| m.contains("signature")), "{:?}", r.catalog_refused);
    assert_eq!(outbox.catalog_version().unwrap(), Some(base + 1));
    assert_eq!(outbox.cached_catalog(&key.public_key()).unwrap().unwrap().version, base + 1);
    // And the terminal says so in its next heartbeat.
    assert!(client.heartbeat(&outbox).await.unwrap().alerts.contains(&"catalog_refused".to_owned()));

    // A stored catalog that no longer verifies is not served.
    rusqlite::Connection::open(dir.path().join("outbox.db"))
        .unwrap()
        .execute("UPDATE pulled SET body = replace(body, 'version', 'versiom') WHERE kind = 'catalog'", [])
        .unwrap();
    assert_eq!(outbox.cached_catalog(&key.public_key()).unwrap(), None);
    hub.shutdown().await.unwrap();
}

/// The starter with one more item, as version `version`.
fn with_new_item(version: u64, code: &str) -> Catalog {
    let mut c = Catalog::starter();
    c.version = version;
    let mut item = c.items[0].clone();
    item.implement_code = model::ImplementCode::parse(code).unwrap();
    item.name = model::LocalizedText::new("社会保障卡密码重置");
    c.items.push(item);
    c
}

#[tokio::test]
async fn a_one_item_change_arrives_as_a_signed_delta_and_a_badly_signed_delta_is_refused() {
    let key = catalog_key(1);
    let Rig { dir: _dir, outbox, hub, client, .. } = Rig::with_sync(SyncConfig { catalog_key: Some(key.public_key()), ..quick() }).await;
    let base = Catalog::starter().version;

    // First a full copy (the terminal holds nothing yet).
    let p = hub::catalog::prepare(&key, &catalog_json(base + 1), None).unwrap();
    assert!(p.delta.is_none());
    hub.publish_catalog_with_delta(p).await.unwrap();
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.catalog_updated, Some(base + 1));
    assert_eq!(outbox.catalog_deltas_held().unwrap(), 0);

    // Then one item more: a delta, applied on top, verified again on load.
    let v2 = with_new_item(base + 2, "620000RS0099");
    let previous = hub.latest_catalog().await.unwrap();
    let p = hub::catalog::prepare(&key, serde_json::to_string(&v2).unwrap().as_bytes(), previous.as_ref()).unwrap();
    let delta = p.delta.clone().expect("a delta from the previous version");
    assert!(delta.body.len() * 20 < p.full.body.len(), "delta {} vs full {}", delta.body.len(), p.full.body.len());
    hub.publish_catalog_with_delta(p).await.unwrap();
    client.heartbeat_soon();
    let r = client.sync_all(&outbox).await;
    assert_eq!((r.catalog_updated, r.catalog_refused.clone()), (Some(base + 2), None));
    assert_eq!(outbox.catalog_deltas_held().unwrap(), 1);
    assert_eq!(outbox.cached_catalog(&key.public_key()).unwrap().unwrap(), v2);

    // A delta signed with another key: refused whole, version 2 stays.
    let v3 = with_new_item(base + 3, "620000RS0098");
    let mut v3 = v3;
    v3.items.insert(v3.items.len() - 1, v2.items.last().unwrap().clone());
    let bad_key = catalog_key(9);
    let forged = model::auth::SignedCatalogDelta::sign(&bad_key, &v2.diff(&v3)).unwrap();
    let full_v3 = SignedCatalog::sign(&key, serde_json::to_string(&v3).unwrap().as_bytes()).unwrap();
    hub.publish_catalog_with_delta(hub::catalog::Publication { full: full_v3, delta: Some(forged) }).await.unwrap();
    client.heartbeat_soon();
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.catalog_updated, None);
    assert!(r.catalog_refused.as_deref().is_some_and(|m| m.contains("delta") && m.contains("signature")), "{:?}", r.catalog_refused);
    assert_eq!(outbox.cached_catalog(&key.public_key()).unwrap().unwrap(), v2);

    // A terminal with nothing gets the full copy, not the chain.
    let dir2 = tempfile::tempdir().unwrap();
    let (fresh, _) = common::open(dir2.path());
    client.heartbeat_soon();
    let r = client.sync_all(&fresh).await;
    assert_eq!(r.catalog_updated, Some(base + 3));
    assert_eq!(fresh.catalog_deltas_held().unwrap(), 0);
    assert_eq!(fresh.cached_catalog(&key.public_key()).unwrap().unwrap(), v3);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_terminal_takes_the_config_the_hub_sets_for_it() {
    let Rig { dir: _dir, outbox, hub, client, .. } = Rig::start().await;
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.config_updated, Some(0), "the hub's defaults, version 0");
    assert_eq!(outbox.terminal_config().unwrap(), Some(TerminalConfig::default()));

    let config = TerminalConfig { version: 3, sync_interval_secs: 60, heartbeat_interval_secs: 600, notice: Some("周五停机维护".into()), ..TerminalConfig::default() };
    hub.store().set_terminal_config(Some(client.terminal_id()), &config).unwrap();
    client.heartbeat_soon();
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.config_updated, Some(3));
    assert_eq!(outbox.terminal_config().unwrap(), Some(config));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_config_not_signed_by_the_pinned_hub_key_is_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = common::open(dir.path());
    let hub = hub(dir.path()).await;
    let other = model::auth::SigningKey::from_seed(&[43; 32]).public_key();
    let client = common::client(&hub, offline_cache::SyncConfig { hub_key: Some(other), ..quick() }).await;
    let config = TerminalConfig { version: 3, sync_interval_secs: 5, heartbeat_interval_secs: 10, notice: Some("请把读卡器交给来人".into()), ..TerminalConfig::default() };
    hub.store().set_terminal_config(Some(client.terminal_id()), &config).unwrap();
    let r = client.sync_all(&outbox).await;
    assert!(r.heartbeat_sent);
    assert_eq!(r.config_updated, None);
    assert_eq!(outbox.terminal_config().unwrap(), None, "nothing the hub's key did not sign is kept");
    hub.shutdown().await.unwrap();
}
