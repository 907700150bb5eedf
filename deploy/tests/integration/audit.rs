//! `kioskctl audit verify` and the outbox alerts in `status`, as a technician runs them.

use std::path::Path;
use crate::common::kioskctl;

/// An outbox with three filings (four audit entries: the key pin, three filings).
fn outbox_with_filings(dir: &Path) {
    let key = offline_cache::generate_platform_key();
    let outbox = offline_cache::Outbox::open(&dir.join("outbox.db"), offline_cache::OutboxConfig::new(key.public_key(), "GS-0001")).unwrap();
    for _ in 0..3 {
        let mut sub = model::fixtures::sample_submission(vec![]);
        sub.terminal_id = "GS-0001".into();
        outbox.enqueue(&sub, &[]).unwrap();
    }
}

#[test]
fn audit_verify_passes_an_intact_chain_and_names_the_edited_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let (code, _, err) = kioskctl(&["audit", "verify", "--data-dir", data_dir]);
    assert_eq!(code, 2);
    assert!(err.contains("no outbox"), "{err}");

    outbox_with_filings(dir.path());
    let (code, out, err) = kioskctl(&["audit", "verify", "--data-dir", data_dir]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("chain          intact"), "{out}");
    assert!(out.contains("entries        4"), "{out}");

    // Someone edits entry #2 behind the triggers' back.
    let conn = rusqlite::Connection::open(dir.path().join("outbox.db")).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET outcome = 'refused' WHERE seq = 2;").unwrap();
    let (code, out, _) = kioskctl(&["audit", "verify", "--data-dir", data_dir]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at entry #2"), "{out}");
    let (code, out, _) = kioskctl(&["--json", "audit", "verify", "--data-dir", data_dir]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["intact"], false);
    assert_eq!(v["first_broken"]["entry"], 2);
    assert_eq!(v["entries_verified"], 1);
}

#[test]
fn a_swapped_platform_key_waits_for_a_technician_to_type_its_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    outbox_with_filings(dir.path());
    let (code, out, _) = kioskctl(&["platform-key", "show", "--data-dir", data_dir]);
    assert_eq!(code, 0, "{out}");

    // The kiosk starts with another key (its config was changed).
    let swapped = offline_cache::generate_platform_key();
    let fingerprint = swapped.public_key().fingerprint();
    drop(offline_cache::Outbox::open(&dir.path().join("outbox.db"), offline_cache::OutboxConfig::new(swapped.public_key(), "GS-0001")).unwrap());
    let (code, out, _) = kioskctl(&["platform-key", "show", "--data-dir", data_dir]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CHANGED") && out.contains(&fingerprint), "{out}");
    let (code, out, _) = kioskctl(&["status", "--data-dir", data_dir, "--config", "/nonexistent"]);
    assert_eq!(code, 1);
    assert!(out.contains("platform key changed"), "{out}");

    let (code, _, err) = kioskctl(&["platform-key", "confirm", "sha256:not-it", "--data-dir", data_dir]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing changed"), "{err}");
    let (code, out, err) = kioskctl(&["platform-key", "confirm", &fingerprint, "--data-dir", data_dir]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = kioskctl(&["--json", "platform-key", "show", "--data-dir", data_dir]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["pinned"].as_str(), v["changed"].as_bool()), (Some(fingerprint.as_str()), Some(false)));
}

#[test]
fn status_shows_outbox_alerts_and_fails_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    outbox_with_filings(dir.path());
    let (code, out, err) = kioskctl(&["--json", "status", "--data-dir", data_dir]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["queued"], 3);
    assert_eq!(v["alerts"], serde_json::json!([]));

    // The kiosk ran with a staleness limit of one hour; the filings are older than that now.
    let conn = rusqlite::Connection::open(dir.path().join("outbox.db")).unwrap();
    conn.execute("UPDATE meta SET value = 3600 WHERE key = 'stale_after_secs'", []).unwrap();
    conn.execute("UPDATE outbox SET created_at = '2026-01-01T00:00:00.000000Z'", []).unwrap();
    let (code, out, _) = kioskctl(&["status", "--data-dir", data_dir]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ALERT") && out.contains("3 submission(s) unsent"), "{out}");
    assert!(!out.contains("张三"), "{out}");
}
