//! What protects a filing on a terminal that gets stolen, fills its disk,
//! or has its database damaged or tampered with.

use crate::common;

use crate::common::{contains, open, raw_files, submission, unseal};
use model::submission::AttachmentRef;
use offline_cache::{Alert, LinkProblem, Outbox, StoreError};

const SCAN_MARKER: &[u8] = b"HOUSEHOLD-REGISTER-PAGE-1 of family Zhang";

#[test]
fn a_stolen_database_file_yields_no_readable_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, key) = open(dir.path());
    let scan = SCAN_MARKER.repeat(20);
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let sub = submission(vec![scan_ref.clone()]);
    let id_number = sub.applicant.id_number.expose().to_owned();
    outbox.enqueue(&sub, &[(scan_ref, scan)]).unwrap();
    for _ in 0..3 {
        outbox.enqueue(&submission(vec![]), &[]).unwrap();
    }

    // The thief's view: the files themselves, WAL included, while the kiosk runs and after.
    let check = |bytes: &[u8]| {
        assert!(!bytes.is_empty());
        for needle in [
            "张三".as_bytes(),
            id_number.as_bytes(),
            &id_number.as_bytes()[6..14], // the birth date alone
            b"13800000000",
            "甘肃省兰州市城关区".as_bytes(),
            SCAN_MARKER,
        ] {
            assert!(!contains(bytes, needle), "found {:?} in the database files", String::from_utf8_lossy(needle));
        }
    };
    check(&raw_files(dir.path()));
    let masked = outbox.entry(sub.id).unwrap().unwrap().masked_name;
    drop(outbox);
    check(&raw_files(dir.path()));
    // What the index keeps is the masked name.
    assert!(contains(&raw_files(dir.path()), masked.as_bytes()));

    // Only the platform key opens it; a reopened terminal still can't.
    let outbox = Outbox::open(&dir.path().join("outbox.db"), common::config(&key)).unwrap();
    assert_eq!(unseal(&outbox, &key, sub.id), sub);
    let copy = outbox.sealed_copy(sub.id).unwrap().unwrap();
    let env = model::seal::SealedEnvelope::from_bytes(&copy.envelope).unwrap();
    assert!(model::seal::open_envelope(&common::platform_key(), &env).is_err());
}

#[test]
fn below_the_disk_reserve_a_filing_is_refused_whole_with_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let key = common::platform_key();
    let mut config = common::config(&key);
    // More than any test disk has free: the same as a nearly full data partition.
    config.disk_reserve_bytes = u64::MAX / 4;
    let outbox = Outbox::open(&path, config).unwrap();
    let (sub, atts) = common::with_scan(b"%PDF scan");

    assert!(outbox.check_capacity(0).is_err(), "the kiosk can ask before the villager starts");
    let err = outbox.enqueue(&sub, &atts).unwrap_err();
    assert!(matches!(err, StoreError::DiskReserve { .. }), "{err}");
    assert!(err.is_disk_space());
    assert!(err.to_string().contains("reserve"), "{err}");

    // Nothing half-written: no index row, no sealed bytes.
    assert_eq!(outbox.entry(sub.id).unwrap(), None);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for table in ["outbox", "sealed_payloads", "sealed_attachments"] {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{table}");
    }
    // A technician sees why, now and in the audit log.
    let alerts = outbox.alerts(time::OffsetDateTime::now_utc()).unwrap();
    assert!(alerts.iter().any(|a| matches!(a, Alert::DiskLow { .. })), "{alerts:?}");
    let last = outbox.audit_tail(1).unwrap().pop().unwrap();
    assert_eq!(last.subject, Some(sub.id.to_string()));
    assert!(last.outcome.starts_with("refused"), "{}", last.outcome);
    drop(outbox);

    // With space freed (here: a sane reserve), the same filing goes in whole.
    let outbox = Outbox::open(&path, common::config(&key)).unwrap();
    outbox.enqueue(&sub, &atts).unwrap();
    assert_eq!(unseal(&outbox, &key, sub.id), sub);
}

#[test]
fn a_corrupt_database_is_moved_aside_reported_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let garbage: Vec<u8> = (0..64 * 1024u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();

    // A tool reports it and leaves it where it is.
    let err = Outbox::inspect(&path).unwrap_err();
    assert!(matches!(err, StoreError::CorruptDatabase(_)), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);

    // The kiosk moves it aside, byte for byte, and starts a fresh outbox.
    let (outbox, _) = open(dir.path());
    let moved = outbox.open_report().moved_aside.clone().expect("moved aside");
    assert_eq!(std::fs::read(&moved.moved_to).unwrap(), garbage, "never dropped or overwritten");
    assert!(moved.moved_to.file_name().unwrap().to_string_lossy().starts_with("outbox.db.corrupt-"));
    outbox.enqueue(&submission(vec![]), &[]).unwrap();

    let alerts = outbox.alerts(time::OffsetDateTime::now_utc()).unwrap();
    let reported = alerts.iter().find_map(|a| match a {
        Alert::DatabaseMovedAside { moved_to, .. } => Some(moved_to.clone()),
        _ => None,
    });
    assert_eq!(reported.as_deref(), Some(moved.moved_to.to_string_lossy().as_ref()));
    assert!(outbox.audit_tail(10).unwrap().iter().any(|e| e.action == "integrity check at start"));
    drop(outbox);

    // The alert outlives a restart; the moved file is still there.
    let (outbox, _) = open(dir.path());
    assert!(outbox.open_report().moved_aside.is_none());
    assert!(outbox.alerts(time::OffsetDateTime::now_utc()).unwrap().iter().any(|a| a.code() == "database_moved_aside"));
    assert!(moved.moved_to.exists());
}

#[test]
fn a_damaged_page_inside_a_valid_database_is_caught_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    {
        let (outbox, _) = open(dir.path());
        for _ in 0..40 {
            let (sub, atts) = common::with_scan(&[9u8; 3000]);
            outbox.enqueue(&sub, &atts).unwrap();
        }
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 10 * page);
    // Scribble over the b-tree header of a page in the middle.
    let at = 5 * page;
    bytes[at..at + 16].copy_from_slice(&[0xEE; 16]);
    std::fs::write(&path, &bytes).unwrap();

    let (outbox, _) = open(dir.path());
    let moved = outbox.open_report().moved_aside.clone().expect("the damage is found at start");
    assert!(!moved.problem.is_empty());
    assert_eq!(std::fs::read(&moved.moved_to).unwrap(), bytes);
    assert_eq!(outbox.counts().unwrap().queued, 0, "a fresh outbox");
}

#[test]
fn a_plain_outbox_of_the_previous_version_is_sealed_on_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let scan = SCAN_MARKER.to_vec();
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let queued = submission(vec![scan_ref.clone()]);
    let acked = submission(vec![]);
    {
        // Schema v1 exactly as the walking skeleton wrote it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE submissions (id TEXT PRIMARY KEY, item_code TEXT NOT NULL, payload BLOB NOT NULL,
                payload_sha256 TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sending', 'acknowledged')), case_number TEXT,
                attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
             CREATE INDEX submissions_pending ON submissions (state, created_at, id);
             CREATE TABLE attachments (submission_id TEXT NOT NULL REFERENCES submissions(id), sha256 TEXT NOT NULL,
                media_type TEXT NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (submission_id, sha256)) WITHOUT ROWID;
             PRAGMA user_version = 1;",
        )
        .unwrap();
        for (sub, state, case) in [(&queued, "sending", None), (&acked, "acknowledged", Some("62202601010000001"))] {
            conn.execute(
                "INSERT INTO submissions VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, NULL, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
                rusqlite::params![sub.id.to_string(), sub.item_code.as_str(), sub.canonical_bytes(), sub.digest(), state, case],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO attachments VALUES (?1, ?2, 'application/pdf', ?3)",
            rusqlite::params![queued.id.to_string(), scan_ref.sha256, scan],
        )
        .unwrap();
        assert!(contains(&raw_files(dir.path()), "张三".as_bytes()), "the old file is plain");
    }
    assert!(matches!(Outbox::inspect(&path), Err(StoreError::SchemaOutdated { found: 1, current: 5 })));

    let key = common::platform_key();
    let outbox = Outbox::open(&path, common::config(&key)).unwrap();
    assert!(outbox.open_report().sealed_legacy);
    let q = outbox.entry(queued.id).unwrap().unwrap();
    assert_eq!((q.state, q.masked_name.as_str()), (offline_cache::OutboxState::Queued, "张*"));
    let a = outbox.entry(acked.id).unwrap().unwrap();
    assert_eq!(a.state, offline_cache::OutboxState::Acknowledged);
    assert_eq!(a.case_number.unwrap().as_str(), "62202601010000001");
    assert_eq!(unseal(&outbox, &key, queued.id), queued);
    assert_eq!(outbox.find_by_id_number(&queued.applicant.id_number).unwrap().len(), 2);

    // The plain bytes are gone from the file, free pages and WAL included.
    let files = raw_files(dir.path());
    assert!(!contains(&files, "张三".as_bytes()));
    assert!(!contains(&files, SCAN_MARKER));
    assert!(outbox.verify_audit().unwrap().intact());
}

#[test]
fn editing_one_audit_entry_is_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let (outbox, _) = open(dir.path());
    let subs: Vec<_> = (0..4).map(|_| submission(vec![])).collect();
    for s in &subs {
        outbox.enqueue(s, &[]).unwrap();
    }
    let report = outbox.verify_audit().unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!(report.entries, 5, "the key pin and four filings");

    let conn = rusqlite::Connection::open(&path).unwrap();
    // Who, what, when, outcome; never the person.
    let all: String = conn.query_row("SELECT group_concat(terminal || action || subject || outcome, '|') FROM audit", [], |r| r.get(0)).unwrap();
    assert!(!all.contains("张") && !all.contains("19900307"), "{all}");

    // The triggers refuse a plain edit or delete.
    let err = conn.execute("UPDATE audit SET outcome = 'refused' WHERE seq = 2", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(conn.execute("DELETE FROM audit WHERE seq = 2", []).is_err());

    // Someone with the file drops them and edits entry #2: the verifier names it.
    conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
    conn.execute("UPDATE audit SET outcome = 'refused' WHERE seq = 2", []).unwrap();
    let report = outbox.verify_audit().unwrap();
    let broken = report.first_broken.clone().expect("tampering found");
    assert_eq!((broken.seq, broken.problem.clone()), (2, LinkProblem::Altered));
    assert_eq!(broken.to_string(), "entry #2 was altered (its content no longer matches its hash)");

    // Re-hashing the edited entry moves the break to the next link, which still names where.
    let (at, terminal, action, subject, prev): (String, String, String, String, String) = conn
        .query_row("SELECT at, terminal, action, subject, prev_hash FROM audit WHERE seq = 2", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    let fields = serde_json::json!([2, at, terminal, None::<String>, action, subject, "refused", prev]);
    conn.execute("UPDATE audit SET hash = ?1 WHERE seq = 2", [model::submission::sha256_hex(fields.to_string().as_bytes())]).unwrap();
    let broken = outbox.verify_audit().unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.problem), (3, LinkProblem::NotChained));

    // A removed entry is named too.
    conn.execute("DELETE FROM audit WHERE seq = 1", []).unwrap();
    let broken = outbox.verify_audit().unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.problem), (2, LinkProblem::Missing { expected: 1 }));
}

#[test]
fn a_changed_platform_key_is_not_sealed_to_until_a_technician_confirms_it() {
    // Someone swaps the key in the kiosk's configuration (or a re-enrollment
    // brings a new one): filings must not silently go to a key the province
    // never announced.
    let dir = tempfile::tempdir().unwrap();
    let (outbox, first) = open(dir.path());
    outbox.enqueue(&submission(vec![]), &[]).unwrap();
    drop(outbox);

    let swapped = common::platform_key();
    let outbox = Outbox::open(&dir.path().join("outbox.db"), common::config(&swapped)).unwrap();
    let state = outbox.platform_key_state().unwrap();
    assert!(state.changed());
    assert_eq!(state.pinned.as_deref(), Some(first.public_key().fingerprint().as_str()));
    let sub = submission(vec![]);
    match outbox.enqueue(&sub, &[]) {
        Err(StoreError::PlatformKeyChanged { pinned, configured }) => {
            assert_eq!(pinned, first.public_key().fingerprint());
            assert_eq!(configured, swapped.public_key().fingerprint());
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(outbox.entry(sub.id).unwrap().is_none(), "nothing written");
    assert!(outbox.alerts(time::OffsetDateTime::now_utc()).unwrap().iter().any(|a| a.code() == "platform_key_changed"));

    // A tool (kioskctl) confirms; a mistyped fingerprint changes nothing.
    let tool = Outbox::inspect(&dir.path().join("outbox.db")).unwrap();
    assert!(matches!(tool.confirm_platform_key("sha256:0000"), Err(StoreError::PlatformKeyFingerprintMismatch { .. })));
    assert!(outbox.enqueue(&sub, &[]).is_err());
    tool.confirm_platform_key(&swapped.public_key().fingerprint()).unwrap();
    outbox.enqueue(&sub, &[]).unwrap();
    assert_eq!(unseal(&outbox, &swapped, sub.id).id, sub.id, "sealed to the confirmed key");
    assert!(outbox.audit_tail(5).unwrap().iter().any(|e| e.action == "platform key" && e.outcome.contains("technician confirmed")));
    assert!(outbox.verify_audit().unwrap().intact());
}
