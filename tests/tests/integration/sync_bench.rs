//! `sync-bench throughput` at small scale, so the benchmark cannot rot
//! (issue 17): one round of a few filings on every backend of `--backend
//! all` — SQLite, PostgreSQL, and PostgreSQL with objects in S3 (Garage on
//! loopback, started and stopped by the bench). It asserts that each ran
//! and printed its ratio against its own baseline, never a timing (the
//! figures are in tests/README.md). Fails when PostgreSQL or Garage is
//! missing (`./dev test` installs both). With `--count-s3`: the S3
//! requests are counted, and a synced attachment is one S3 PUT, as it is
//! for the plain upload (which also PUTs each envelope).

use std::process::Command;

#[test]
fn sync_bench_throughput_prints_a_ratio_for_sqlite_postgresql_and_postgresql_with_s3() {
    let out = Command::new(env!("CARGO_BIN_EXE_sync-bench"))
        .args(["throughput", "--rounds", "1", "--filings", "3", "--size", "300000", "--count-s3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "sync-bench failed (PostgreSQL is Debian's `postgresql`, Garage is installed by ./dev test)");
    for (backend, plain) in [("SQLite", "plain HTTP upload"), ("PostgreSQL", "plain HTTP upload"), ("PostgreSQL + S3", "plain HTTP upload to S3")] {
        let round = stdout.lines().find(|l| l.starts_with(&format!("round 1 {backend}: "))).unwrap_or_else(|| panic!("no round of {backend}: {stdout}"));
        assert!(round.contains(&format!(", {plain} ")), "{backend} measured against another baseline: {round}");
        assert_eq!(round.contains("direct S3 PUT"), backend.ends_with("S3"), "{round}");
        let summary = format!("{backend}: sync/plain throughput ratio median ");
        let ratio = stdout.lines().find_map(|l| l.strip_prefix(&summary)).unwrap_or_else(|| panic!("no ratio for {backend}: {stdout}"));
        let median: f64 = ratio.split_whitespace().next().and_then(|r| r.parse().ok()).unwrap_or_else(|| panic!("{backend}: {ratio}"));
        assert!(median > 0.0, "{backend}: {ratio}");
    }
    // Per phase, the kinds of S3 request the proxy saw (counts, not times).
    let phase = |name: &str| -> Vec<&str> {
        let head = format!("  S3 requests, {name}:");
        stdout.lines().skip_while(|l| *l != head).skip(1).take_while(|l| l.starts_with("    ")).map(str::trim).collect()
    };
    let sync = phase("sync");
    assert!(sync.iter().any(|l| l.starts_with("PUT object    1.00 per filing")), "one PUT per synced attachment: {sync:?}");
    assert!(!sync.iter().any(|l| l.contains("partial") && !l.starts_with("LIST")), "no partial chunk written or read: {sync:?}");
    let plain = phase("plain upload");
    assert!(plain.iter().any(|l| l.starts_with("PUT object    2.00 per filing")), "the baseline PUTs envelope and attachment: {plain:?}");
}
