//! queued → sending → acknowledged → processed → purged, staleness, and the audit trail of it.

use crate::common;

use std::path::Path;
use std::time::Duration;

use crate::common::{contains, raw_files, submission};
use hub::Hub;
use offline_cache::{Alert, Outbox, OutboxState, StoreError};
use time::OffsetDateTime;

async fn acknowledged(dir: &Path, outbox: &Outbox) {
    let hub = Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap();
    let report = common::client(&hub, common::quick()).await.sync_once(outbox).await;
    assert_eq!(report.stopped, None);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn sealed_payloads_are_purged_only_after_processed_and_the_retention_window() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::platform_key();
    let mut config = common::config(&key);
    config.retention = Duration::from_secs(7 * 24 * 3600);
    let outbox = Outbox::open(&dir.path().join("outbox.db"), config).unwrap();
    let processed = submission(vec![]);
    let only_acked = submission(vec![]);
    outbox.enqueue(&processed, &[]).unwrap();
    outbox.enqueue(&only_acked, &[]).unwrap();
    acknowledged(dir.path(), &outbox).await;
    let waiting = submission(vec![]);
    outbox.enqueue(&waiting, &[]).unwrap();

    // Processed status comes from the platform; only an acknowledged record can take it.
    assert!(matches!(outbox.mark_processed(waiting.id, OffsetDateTime::now_utc()), Err(StoreError::WrongState { .. })));
    let t0 = OffsetDateTime::now_utc();
    outbox.mark_processed(processed.id, t0).unwrap();
    outbox.mark_processed(processed.id, t0).unwrap(); // reported twice: fine
    let e = outbox.entry(processed.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Processed);
    let envelope = outbox.sealed_copy(processed.id).unwrap().unwrap().envelope;
    let needle = &envelope[envelope.len() - 64..];
    assert!(contains(&raw_files(dir.path()), needle), "the sealed bytes are on disk before the purge");

    let week = time::Duration::days(7);
    let report = outbox.purge_expired(t0 + week - time::Duration::seconds(1)).unwrap();
    assert!(report.purged.is_empty(), "one second early: nothing purged");
    assert!(outbox.sealed_copy(processed.id).unwrap().is_some());

    let report = outbox.purge_expired(t0 + week).unwrap();
    assert_eq!(report.purged, vec![processed.id]);
    let e = outbox.entry(processed.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Purged);
    assert!(e.case_number.is_some(), "the index row stays for progress queries");
    assert!(outbox.sealed_copy(processed.id).unwrap().is_none());

    // Never purged: acknowledged but not processed, or not sent at all, however old.
    let report = outbox.purge_expired(t0 + time::Duration::days(3650)).unwrap();
    assert!(report.purged.is_empty());
    assert!(outbox.sealed_copy(only_acked.id).unwrap().is_some());
    assert!(outbox.sealed_copy(waiting.id).unwrap().is_some());

    // The purged bytes are overwritten on disk, not just unlinked.
    drop(outbox);
    assert!(!contains(&raw_files(dir.path()), needle));
}

#[test]
fn a_submission_unsent_past_the_limit_raises_a_staleness_alert() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::platform_key();
    let mut config = common::config(&key);
    config.stale_after = Duration::from_secs(3600);
    let path = dir.path().join("outbox.db");
    let outbox = Outbox::open(&path, config).unwrap();
    outbox.enqueue(&submission(vec![]), &[]).unwrap();
    outbox.enqueue(&submission(vec![]), &[]).unwrap();
    let now = OffsetDateTime::now_utc();
    assert!(outbox.alerts(now).unwrap().is_empty());
    let later = now + time::Duration::minutes(61);
    let alerts = outbox.alerts(later).unwrap();
    assert!(matches!(alerts.as_slice(), [Alert::Stale { count: 2, .. }]), "{alerts:?}");
    assert!(alerts[0].to_string().contains("2 submission(s) unsent"));

    // A technician's tool judges by the kiosk's configured limit.
    let tool = Outbox::inspect(&path).unwrap();
    assert!(matches!(tool.alerts(later).unwrap().as_slice(), [Alert::Stale { count: 2, .. }]));
}

#[tokio::test]
async fn every_step_leaves_an_intact_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = common::open(dir.path());
    let sub = submission(vec![]);
    outbox.enqueue(&sub, &[]).unwrap();
    acknowledged(dir.path(), &outbox).await;
    let t0 = OffsetDateTime::now_utc();
    outbox.mark_processed(sub.id, t0).unwrap();
    outbox.purge_expired(t0 + time::Duration::days(31)).unwrap();

    let actions: Vec<String> = outbox.audit_tail(10).unwrap().into_iter().map(|e| e.action).collect();
    // The first open pins the platform key.
    assert_eq!(actions, ["platform key", "file submission", "hub acknowledged", "platform processed", "purge sealed payload"]);
    let report = outbox.verify_audit().unwrap();
    assert!(report.intact() && report.entries == 5, "{report:?}");
}
