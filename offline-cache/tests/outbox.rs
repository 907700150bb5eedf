//! The outbox as the kiosk's UI session uses it: durable, atomic, idempotent.

mod common;

use common::{submission, with_scan};
use model::submission::AttachmentRef;
use offline_cache::{Outbox, OutboxState, QueueCounts, StoreError};

#[test]
fn outbox_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Outbox>();
}

#[test]
fn connection_is_wal_with_full_sync_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.db")).unwrap();
    let s = outbox.settings().unwrap();
    assert_eq!(s.journal_mode, "wal");
    assert_eq!(s.synchronous, 2, "synchronous=FULL");
    assert!(s.foreign_keys);
    assert_eq!(s.schema_version, 1);
}

#[test]
fn enqueued_submission_and_attachments_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let (sub, atts) = with_scan(b"%PDF scan");
    {
        let outbox = Outbox::open(&path).unwrap();
        outbox.enqueue(&sub, &atts).unwrap();
    }
    let outbox = Outbox::open(&path).unwrap();
    let e = outbox.entry(sub.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Queued);
    assert_eq!(e.item_code, sub.item_code);
    assert_eq!((e.attempts, e.case_number, e.last_error), (0, None, None));
    assert_eq!(outbox.counts().unwrap(), QueueCounts { queued: 1, sending: 0, acknowledged: 0 });
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM attachments", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    let payload: Vec<u8> = conn.query_row("SELECT payload FROM submissions", [], |r| r.get(0)).unwrap();
    assert_eq!(payload, sub.canonical_bytes());
}

#[test]
fn a_bad_attachment_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let outbox = Outbox::open(&path).unwrap();
    let good = b"scan one".to_vec();
    let second = b"scan two".to_vec();
    let good_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &good);
    let second_ref = AttachmentRef::for_bytes("photo", "image/jpeg", &second);
    let sub = submission(vec![good_ref.clone(), second_ref.clone()]);

    // Bytes that don't hash to the reference.
    let err = outbox.enqueue(&sub, &[(good_ref.clone(), good.clone()), (second_ref.clone(), b"tampered".to_vec())]).unwrap_err();
    assert!(matches!(err, StoreError::AttachmentMismatch { ref sha256, .. } if *sha256 == second_ref.sha256), "{err}");
    // A referenced attachment with no bytes.
    let err = outbox.enqueue(&sub, &[(good_ref.clone(), good.clone())]).unwrap_err();
    assert!(matches!(err, StoreError::MissingAttachment { ref sha256, .. } if *sha256 == second_ref.sha256), "{err}");
    // Bytes the submission doesn't reference.
    let stray = b"stray".to_vec();
    let stray_ref = AttachmentRef::for_bytes("x", "image/png", &stray);
    let err = outbox
        .enqueue(&sub, &[(good_ref.clone(), good.clone()), (second_ref.clone(), second.clone()), (stray_ref, stray)])
        .unwrap_err();
    assert!(matches!(err, StoreError::UnreferencedAttachment { .. }), "{err}");

    assert_eq!(outbox.entry(sub.id).unwrap(), None);
    assert_eq!(outbox.counts().unwrap(), QueueCounts::default());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM attachments", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);

    // The same filing with the right bytes then goes in whole.
    outbox.enqueue(&sub, &[(good_ref, good), (second_ref, second)]).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM attachments", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
}

#[test]
fn error_messages_carry_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.db")).unwrap();
    let (sub, _) = with_scan(b"scan");
    let err = outbox.enqueue(&sub, &[]).unwrap_err().to_string();
    assert!(err.contains(&sub.id.to_string()));
    assert!(!err.contains("张三") && !err.contains("19900307"), "{err}");
}

#[test]
fn enqueueing_again_is_idempotent_and_a_changed_body_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.db")).unwrap();
    let (sub, atts) = with_scan(b"scan");
    outbox.enqueue(&sub, &atts).unwrap();
    let before = outbox.entry(sub.id).unwrap().unwrap();
    outbox.enqueue(&sub, &atts).unwrap();
    assert_eq!(outbox.counts().unwrap().queued, 1);
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap(), before);

    let mut changed = sub.clone();
    changed.form.insert("phone".into(), "13900000000".into());
    let err = outbox.enqueue(&changed, &atts).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(id) if id == sub.id), "{err}");
    assert_eq!(outbox.counts().unwrap().queued, 1);
}

#[test]
fn pending_lists_oldest_first_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.db")).unwrap();
    let subs: Vec<_> = (0..5).map(|_| submission(vec![])).collect();
    for s in &subs {
        outbox.enqueue(s, &[]).unwrap();
    }
    let pending: Vec<_> = outbox.pending(3).unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(pending, subs[..3].iter().map(|s| s.id).collect::<Vec<_>>());
    assert_eq!(outbox.pending(100).unwrap().len(), 5);
}

#[test]
fn a_clone_used_from_another_thread_sees_the_same_queue() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.db")).unwrap();
    let worker = outbox.clone();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let ob = worker.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    ob.enqueue(&submission(vec![]), &[]).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(outbox.counts().unwrap().queued, 20);
}
