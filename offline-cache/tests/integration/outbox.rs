//! The outbox as the kiosk's UI session uses it: durable, atomic, idempotent, sealed.

use crate::common;

use crate::common::{open, submission, unseal, with_scan};
use model::submission::AttachmentRef;
use offline_cache::{Outbox, OutboxState, QueueCounts, StoreError};

#[test]
fn outbox_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Outbox>();
}

#[test]
fn connection_is_wal_with_full_sync_foreign_keys_and_secure_delete() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = open(dir.path());
    let s = outbox.settings().unwrap();
    assert_eq!(s.journal_mode, "wal");
    assert_eq!(s.synchronous, 2, "synchronous=FULL");
    assert!(s.foreign_keys);
    assert!(s.secure_delete, "purged payloads must be overwritten");
    assert_eq!(s.schema_version, 5);
    assert_eq!(outbox.integrity_check().unwrap(), vec!["ok".to_owned()]);
}

#[test]
fn an_enqueued_submission_survives_reopening_and_the_platform_can_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let key = common::platform_key();
    let (sub, atts) = with_scan(b"%PDF scan");
    let saved = {
        let outbox = Outbox::open(&path, common::config(&key)).unwrap();
        outbox.enqueue(&sub, &atts).unwrap()
    };
    assert!(!saved.replayed);
    let outbox = Outbox::open(&path, common::config(&key)).unwrap();
    let e = outbox.entry(sub.id).unwrap().unwrap();
    assert_eq!(e.state, OutboxState::Queued);
    assert_eq!(e.item_code, sub.item_code);
    assert_eq!(e.masked_name, "张*");
    assert_eq!((e.attempts, e.case_number, e.last_error), (0, None, None));
    assert_eq!(outbox.counts().unwrap(), QueueCounts { queued: 1, ..QueueCounts::default() });

    let copy = outbox.sealed_copy(sub.id).unwrap().unwrap();
    assert_eq!(model::submission::sha256_hex(&copy.envelope), saved.sealed_sha256);
    let env = model::seal::SealedEnvelope::from_bytes(&copy.envelope).unwrap();
    let opened = model::seal::open_envelope(&key, &env).unwrap();
    assert_eq!(opened.submission, sub);
    let (r, bytes) = opened.open_attachment(0, &copy.attachments[0].bytes).unwrap();
    assert_eq!((r, bytes.to_vec()), atts[0].clone());
}

#[test]
fn a_progress_query_by_id_number_finds_the_filings_without_storing_the_number() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = open(dir.path());
    let first = submission(vec![]);
    let second = submission(vec![]);
    outbox.enqueue(&first, &[]).unwrap();
    outbox.enqueue(&second, &[]).unwrap();
    let found: Vec<_> = outbox.find_by_id_number(&first.applicant.id_number).unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(found, vec![second.id, first.id], "newest first");

    let other = model::IdNumber::parse(&{
        let first17 = *b"62010219850101456";
        format!("62010219850101456{}", model::identity::check_char(&first17))
    })
    .unwrap();
    assert!(outbox.find_by_id_number(&other).unwrap().is_empty());
}

#[test]
fn a_bad_attachment_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let (outbox, _) = open(dir.path());
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
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM sealed_attachments", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);

    // The same filing with the right bytes then goes in whole.
    outbox.enqueue(&sub, &[(good_ref, good), (second_ref, second)]).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM sealed_attachments", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
}

#[test]
fn an_oversized_attachment_is_refused_with_its_material_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::platform_key();
    let mut config = common::config(&key);
    config.max_attachment_bytes = 1000;
    let outbox = Outbox::open(&dir.path().join("outbox.db"), config).unwrap();
    let (sub, atts) = with_scan(&[7u8; 1001]);
    let err = outbox.enqueue(&sub, &atts).unwrap_err();
    assert!(matches!(err, StoreError::AttachmentTooLarge { size: 1001, limit: 1000, .. }), "{err}");
    assert!(err.to_string().contains("hukou"), "names the material: {err}");
    assert_eq!(outbox.entry(sub.id).unwrap(), None);
    // The kiosk can ask before the villager scans.
    assert!(outbox.check_attachment_size(sub.id, "hukou", 1000).is_ok());
    assert!(outbox.check_attachment_size(sub.id, "hukou", 1001).is_err());
    let (small, atts) = with_scan(&[7u8; 1000]);
    outbox.enqueue(&small, &atts).unwrap();
}

#[test]
fn error_messages_carry_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = open(dir.path());
    let (sub, _) = with_scan(b"scan");
    let err = outbox.enqueue(&sub, &[]).unwrap_err().to_string();
    assert!(err.contains(&sub.id.to_string()));
    assert!(!err.contains("张三") && !err.contains("19900307"), "{err}");
}

#[test]
fn enqueueing_again_is_idempotent_and_a_changed_body_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, key) = open(dir.path());
    let (sub, atts) = with_scan(b"scan");
    let first = outbox.enqueue(&sub, &atts).unwrap();
    let before = outbox.entry(sub.id).unwrap().unwrap();
    let again = outbox.enqueue(&sub, &atts).unwrap();
    assert!(again.replayed);
    assert_eq!(again.sealed_sha256, first.sealed_sha256, "the stored sealed copy is not replaced");
    assert_eq!(outbox.counts().unwrap().queued, 1);
    assert_eq!(outbox.entry(sub.id).unwrap().unwrap(), before);

    let mut changed = sub.clone();
    changed.form.insert("phone".into(), "13900000000".into());
    let err = outbox.enqueue(&changed, &atts).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(id) if id == sub.id), "{err}");
    assert_eq!(outbox.counts().unwrap().queued, 1);
    assert_eq!(unseal(&outbox, &key, sub.id), sub, "the first body is kept");
}

#[test]
fn pending_lists_oldest_first_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = open(dir.path());
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
    let (outbox, _) = open(dir.path());
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

#[test]
fn an_inspect_handle_reads_but_never_writes_or_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    assert!(Outbox::inspect(&path).is_err(), "no file, no outbox");
    let (outbox, _) = open(dir.path());
    let sub = submission(vec![]);
    outbox.enqueue(&sub, &[]).unwrap();
    let tool = Outbox::inspect(&path).unwrap();
    assert_eq!(tool.counts().unwrap().queued, 1);
    assert!(matches!(tool.enqueue(&submission(vec![]), &[]), Err(StoreError::InspectOnly)));
    assert!(matches!(tool.mark_processed(sub.id, time::OffsetDateTime::now_utc()), Err(StoreError::InspectOnly)));
}
