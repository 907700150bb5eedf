//! The audit chain anchored at the hub (issue 19): each heartbeat carries
//! the head and the entries since the head the hub acknowledged; deleting
//! the last entries, or putting an older copy of the database back, is
//! flagged by the hub at the next heartbeat (its registry, its own audit,
//! the fleet page).

use crate::common;

use std::path::Path;

use hub::Hub;
use offline_cache::{Outbox, SyncClient};
use rusqlite::Connection;

use crate::common::submission;

/// One round that sends a heartbeat now, and the hub's view after it.
async fn heartbeat(client: &SyncClient, outbox: &Outbox, hub: &Hub) -> hub::TerminalRecord {
    client.heartbeat_soon();
    let report = client.sync_all(outbox).await;
    assert_eq!(report.stopped, None);
    assert!(report.heartbeat_sent);
    hub.store().terminals().unwrap().into_iter().find(|t| t.id == client.terminal_id()).unwrap()
}

fn file(outbox: &Outbox, n: usize) {
    for _ in 0..n {
        outbox.enqueue(&submission(vec![]), &[]).unwrap();
    }
}

/// What someone with the disk does: drop the trigger that refuses deletes,
/// delete the newest `n` entries.
fn delete_last_entries(db: &Path, n: i64) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_delete").unwrap();
    conn.execute("DELETE FROM audit WHERE seq > (SELECT MAX(seq) FROM audit) - ?1", [n]).unwrap();
}

async fn setup(dir: &Path) -> (Hub, SyncClient, Outbox, model::seal::PlatformSecretKey) {
    let (outbox, key) = common::open(dir);
    let hub = Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap();
    let client = common::client(&hub, common::quick()).await;
    (hub, client, outbox, key)
}

#[tokio::test]
async fn the_hub_anchors_the_head_and_follows_it_as_the_chain_grows() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, client, outbox, _) = setup(dir.path()).await;
    file(&outbox, 2);
    let t = heartbeat(&client, &outbox, &hub).await;
    let head = outbox.audit_head().unwrap();
    assert!(head.seq >= 2);
    assert_eq!(t.audit_anchor.as_ref().map(|a| &a.0), Some(&head), "the first head is anchored as it is");
    file(&outbox, 3);
    let t = heartbeat(&client, &outbox, &hub).await;
    let head2 = outbox.audit_head().unwrap();
    assert!(head2.seq > head.seq);
    assert_eq!(t.audit_anchor.as_ref().map(|a| &a.0), Some(&head2), "the entries since the anchor were checked and the anchor moved");
    assert!(t.audit_breaks.is_empty());
    let page = hub::fleet::render(&[t], time::OffsetDateTime::now_utc(), std::time::Duration::from_secs(1800));
    assert!(!page.contains("审计链断裂 AUDIT BROKEN"));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn deleting_the_last_audit_entries_is_flagged_at_the_next_heartbeat() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, client, outbox, _) = setup(dir.path()).await;
    file(&outbox, 3);
    let anchored = heartbeat(&client, &outbox, &hub).await.audit_anchor.unwrap().0;

    delete_last_entries(&dir.path().join("outbox.db"), 2);
    assert!(outbox.verify_audit().unwrap().intact(), "the terminal alone cannot tell: what is left is a valid chain");
    let t = heartbeat(&client, &outbox, &hub).await;
    assert_eq!(t.audit_breaks.len(), 1, "{:?}", t.audit_breaks);
    let b = &t.audit_breaks[0];
    assert_eq!(b.kind, "went_back");
    // The round itself may add an entry (a filing acknowledged) before its heartbeat.
    assert_eq!(b.anchored, anchored);
    assert!(b.reported.seq < anchored.seq, "{b:?}");
    let audit = hub.store().hub_audit_tail(20).unwrap();
    assert!(
        audit.iter().any(|e| e.action == "terminal audit chain broken" && e.subject.as_deref() == Some(client.terminal_id()) && e.outcome.starts_with("went_back")),
        "{audit:?}"
    );
    let page = hub::fleet::render(&[t], time::OffsetDateTime::now_utc(), std::time::Duration::from_secs(1800));
    assert!(page.contains("审计链断裂 AUDIT BROKEN") && page.contains("entries deleted or an older disk restored"), "{page}");

    // Flagged once: the hub re-anchors, so the chain from here is followed again.
    file(&outbox, 1);
    let t = heartbeat(&client, &outbox, &hub).await;
    assert_eq!(t.audit_breaks.len(), 1);
    assert_eq!(t.audit_anchor.unwrap().0, outbox.audit_head().unwrap());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_older_copy_of_the_database_put_back_is_flagged_at_the_next_heartbeat() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.db");
    let saved = dir.path().join("saved.db");
    let (hub, client, outbox, key) = setup(dir.path()).await;
    file(&outbox, 2);
    heartbeat(&client, &outbox, &hub).await;
    // A copy of the disk as it was after that heartbeat.
    Connection::open(&db).unwrap().execute("VACUUM INTO ?1", [saved.to_str().unwrap()]).unwrap();
    file(&outbox, 3);
    let anchored = heartbeat(&client, &outbox, &hub).await.audit_anchor.unwrap().0;
    drop(outbox);

    // The old copy goes back, and the kiosk runs on it long enough to have
    // more entries than the hub anchored: its number alone looks fine.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(&saved, &db).unwrap();
    let outbox = Outbox::open(&db, common::config(&key)).unwrap();
    while outbox.audit_head().unwrap().seq <= anchored.seq {
        file(&outbox, 1);
    }
    assert!(outbox.verify_audit().unwrap().intact());
    let t = heartbeat(&client, &outbox, &hub).await;
    assert_eq!(t.audit_breaks.len(), 1, "{:?}", t.audit_breaks);
    let b = &t.audit_breaks[0];
    assert_eq!(b.kind, "rewritten");
    assert_eq!(b.anchored, anchored);
    assert!(b.from_seq.is_some_and(|s| s <= anchored.seq), "{b:?}");
    let audit = hub.store().hub_audit_tail(20).unwrap();
    assert!(audit.iter().any(|e| e.action == "terminal audit chain broken" && e.outcome.starts_with("rewritten")), "{audit:?}");
    hub.shutdown().await.unwrap();
}
