//! `hub operator add|revoke` and `hub import FILE` as the back office runs them (issue 7).

use crate::common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use hub::{OperatorStore, SqliteStore};
use model::export::{ExportFile, ExportRecord};

fn hub(db: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Issue 12 item 8: six digits fall to a disk thief in minutes; the hub
/// refuses short PINs and patterned ones, and stores nothing for them.
fn a_weak_operator_secret_is_refused_by_the_hub(db: &std::path::Path, add: &[&str]) {
    for weak in ["246810", "123456789012", "111111111111", "123456123456"] {
        let (code, out, err) = hub(db, add, &format!("{weak}\n"));
        assert_eq!(code, 1, "{weak} accepted: {out}");
        assert!(err.contains("PIN") && !err.contains(weak) && !out.contains(weak), "{err}");
    }
    assert!(SqliteStore::open(db).unwrap().operators_for("GS-VAN-01").unwrap().is_empty());
}

#[test]
fn operators_are_added_with_a_hashed_pin_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let add = ["operator", "add", "--staff", "620042", "--name", "马小兰", "--terminal", "GS-VAN-01", "--village", "622926100202",
        "--argon2-memory-kib", "64", "--argon2-iterations", "1"];
    let (code, _, err) = hub(&db, &add, "12ab\n");
    assert_eq!(code, 1, "a PIN of letters is refused: {err}");
    a_weak_operator_secret_is_refused_by_the_hub(&db, &add);
    let (code, out, err) = hub(&db, &add, "480217593062\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("operator 620042 saved for GS-VAN-01"), "{out}");
    assert!(!out.contains("480217593062") && !err.contains("480217593062"));

    let store = SqliteStore::open(&db).unwrap();
    let ops = store.operators_for("GS-VAN-01").unwrap();
    assert_eq!(ops.len(), 1);
    assert!(model::operator::verify_pin("480217593062", &ops[0].pin_hash).unwrap());
    assert!(!ops[0].pin_hash.contains("480217593062"));
    assert!(store.operators_for("GS-VAN-02").unwrap().is_empty());
    drop(store);

    let (code, out, _) = hub(&db, &["operator", "revoke", "620042"], "");
    assert_eq!(code, 0);
    assert!(out.contains("revoked"));
    assert!(SqliteStore::open(&db).unwrap().operators_for("GS-VAN-01").unwrap()[0].revoked);
}

#[test]
fn an_export_is_imported_once_from_a_registered_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let platform = common::platform_key();
    let key_file = dir.path().join("platform.key");
    std::fs::write(&key_file, platform.to_text().as_bytes()).unwrap();
    let device = common::random_key();

    let scan = b"household register page".to_vec();
    let r = model::submission::AttachmentRef::for_bytes("hukou", "image/png", &scan);
    let sub = common::submission(vec![r]);
    let sealed = common::seal(&platform, &sub, &[&scan]);
    let record = ExportRecord { id: sub.id, envelope: sealed.envelope.to_bytes(), attachments: vec![sealed.attachments[0].bytes.clone()] };
    let file = ExportFile::sign(&device, "GS-VAN-01", time::OffsetDateTime::now_utc(), vec![record]);
    let path = dir.path().join("van.cunban-export");
    std::fs::write(&path, file.to_bytes()).unwrap();
    let path_s = path.to_str().unwrap();
    let key_s = key_file.to_str().unwrap();

    let (code, _, err) = hub(&db, &["import", path_s, "--platform-key-file", key_s], "");
    assert_eq!(code, 1);
    assert!(err.contains("not registered"), "{err}");

    let public = device.public_key().to_string();
    let (code, _, err) = hub(&db, &["terminal", "add", "--id", "GS-VAN-01", "--public-key", &public], "");
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = hub(&db, &["import", path_s, "--platform-key-file", key_s], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 stored, 0 already held, 0 refused"), "{out}");
    let (code, out, err) = hub(&db, &["import", path_s, "--platform-key-file", key_s], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 stored, 1 already held, 0 refused"), "{out}");

    let db_view = hub::HubDb::open(&db).unwrap();
    assert_eq!(db_view.total_submissions().unwrap(), 1);
    let opened = db_view.open_submission(sub.id, &platform).unwrap().unwrap();
    assert_eq!(opened.submission, sub);
    assert_eq!(opened.attachments[0].1.to_vec(), scan);
}
