//! Issue 17's "must show": `sync-faults --province` — the terminal's real
//! outbox syncing 500 filings through the fault proxy to two hub instances
//! behind nginx on PostgreSQL + S3 (Garage), the first instance SIGKILLed
//! and restarted every few seconds, the terminal killed too. Fails when
//! PostgreSQL, nginx or Garage is missing (`./dev test` installs them).
//! Smaller attachments than the release run of tests/README.md (a debug
//! build seals and hashes every byte), same count and checks.

use std::process::Command;

#[test]
fn sync_faults_through_two_hub_instances_behind_nginx_on_postgresql_and_s3_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sync-faults"))
        .args(["--province", "--submissions", "500", "--fault-rate", "0.1", "--max-attachment", "300000", "--kills", "2"])
        .args(["--hub-kill-every-ms", "3000", "--timeout-secs", "1500", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stderr}");
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    println!("{last}");
    assert!(out.status.success(), "sync-faults --province failed: {last}");
    assert_eq!(last, "submitted=500 at_hub=500 lost=0 duplicated=0 corrupt=0");
    let kills = stderr.lines().find_map(|l| l.strip_prefix("hub instance killed ")).and_then(|r| r.split(' ').next()).and_then(|n| n.parse::<u32>().ok());
    assert!(kills.is_some_and(|k| k >= 3), "the hub instance was killed {kills:?} times: {stderr}");
}
