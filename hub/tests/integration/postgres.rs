//! The hub's store-exercising tests again, on PostgreSQL: this test starts
//! a server (`pg.rs`) and runs this very test binary once more with
//! `CUNBAN_TEST_PG` set, which makes `common::spawn_hub` serve each test
//! from a fresh database on it. One suite, both backends; it fails (not
//! skips) when PostgreSQL is not installed.

use std::process::Command;

use super::pg::{PgServer, ENV};

/// The modules whose tests run on PostgreSQL too.
const MODULES: &[&str] = &["api::", "auth::", "uploads::", "terminal_api::", "ratings::", "rollout::"];

/// Tests of SQLite's own schema history (rows as an older hub left them).
const SQLITE_ONLY: &[&str] =
    &["api::a_filing_from_before_terminal_ids", "api::an_existing_hub_database_keeps_its_cases", "ratings::bad_ratings_from_before_the_migration"];

/// Fewer passing than this means the filters stopped matching.
const AT_LEAST: usize = 43;

#[test]
fn the_store_tests_pass_on_postgresql() {
    if std::env::var(ENV).is_ok() {
        return; // the child run itself
    }
    let server = PgServer::start();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(MODULES).args(["--skip", "postgres::"]).env(ENV, server.base()).env("RUST_TEST_THREADS", "2");
    for t in SQLITE_ONLY {
        cmd.args(["--skip", t]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the suite failed on PostgreSQL (server log: {})", server.dir().join("server.log").display());
    let passed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("test result: ok. ").and_then(|r| r.split(' ').next()).and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(0);
    println!("on PostgreSQL: {passed} tests passed");
    assert!(passed >= AT_LEAST, "only {passed} tests ran on PostgreSQL");
}
