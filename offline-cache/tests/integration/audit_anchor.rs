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
    conn.execute_batch("DROP TRIGGER IF EXISTS audit_no_delete").unwrap();
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

#[tokio::test]
async fn staff_acknowledge_a_break_on_the_fleet_page_with_who_when_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, client, outbox, _) = setup(dir.path()).await;
    file(&outbox, 3);
    heartbeat(&client, &outbox, &hub).await;
    delete_last_entries(&dir.path().join("outbox.db"), 2);
    let t = heartbeat(&client, &outbox, &hub).await;
    assert_eq!(t.audit_breaks.len(), 1);
    let token = hub::new_staff_token().unwrap();
    hub.store().set_staff("ops-zhao", &hub::staff_token_hash(&token), time::OffsetDateTime::now_utc()).unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = hub.base_url();
    let terminal = client.terminal_id().to_owned();
    let page = http.get(format!("{base}/fleet")).basic_auth("ops-zhao", Some(&token)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("审计链断裂 AUDIT BROKEN") && page.contains(&format!("action=\"/fleet/terminals/{terminal}/audit-breaks\"")), "{page}");

    let ack = |body: &'static str| {
        http.post(format!("{base}/fleet/terminals/{terminal}/audit-breaks"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    assert_eq!(ack("reason=x").send().await.unwrap().status(), 401, "staff only");
    assert_eq!(ack("reason=+").basic_auth("ops-zhao", Some(&token)).send().await.unwrap().status(), 422, "it says why");
    let cross = ack("reason=x").basic_auth("ops-zhao", Some(&token)).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(cross.status(), 403);
    let done = ack("reason=disk+replaced+by+technician+on+12-03").basic_auth("ops-zhao", Some(&token)).send().await.unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(ack("reason=again").basic_auth("ops-zhao", Some(&token)).send().await.unwrap().status(), 404, "nothing left to acknowledge");

    let t = hub.store().terminals().unwrap().into_iter().find(|t| t.id == terminal).unwrap();
    let a = t.audit_breaks[0].acknowledged.clone().expect("acknowledged");
    assert_eq!((a.by.as_str(), a.why.as_str()), ("ops-zhao", "disk replaced by technician on 12-03"));
    let page = http.get(format!("{base}/fleet")).basic_auth("ops-zhao", Some(&token)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("审计链断裂 AUDIT BROKEN") && page.contains("已确认 acknowledged: ops-zhao") && page.contains("disk replaced by technician"), "{page}");
    let audit = hub.store().hub_audit_tail(30).unwrap();
    assert!(audit.iter().any(|e| e.actor == "ops-zhao" && e.action == "audit break acknowledged" && e.subject.as_deref() == Some(terminal.as_str())), "{audit:?}");

    // A later break is flagged again, whatever was acknowledged before.
    file(&outbox, 2);
    heartbeat(&client, &outbox, &hub).await;
    delete_last_entries(&dir.path().join("outbox.db"), 1);
    let t = heartbeat(&client, &outbox, &hub).await;
    assert_eq!(t.audit_breaks.iter().filter(|b| b.acknowledged.is_none()).count(), 1);
    assert_eq!(hub::fleet::condition(&t, time::OffsetDateTime::now_utc(), std::time::Duration::from_secs(1800)), hub::fleet::Condition::AuditBroken);
    hub.shutdown().await.unwrap();
}
