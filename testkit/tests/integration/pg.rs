use std::process::Command;

use testkit::pg::PgServer;

use super::{after_panic, alive, listening};

fn query(url: &str, sql: &str) -> String {
    let out = Command::new(testkit::pg::tool("psql").unwrap()).args(["-At", "-v", "ON_ERROR_STOP=1", "-c", sql]).arg(url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Fresh databases on a fast server, one from the settings alone (as a
/// child process gets them); stopped on drop.
#[test]
fn a_server_gives_fresh_databases_and_stops_on_drop() {
    let server = PgServer::builder().no_fsync().start().unwrap();
    let (port, pid) = (server.port(), server.pid().unwrap());
    assert!(listening(port) && alive(pid));
    let a = server.create_database().unwrap();
    let b = testkit::pg::create_database(&server.base()).unwrap();
    assert_ne!(a, b);
    query(&a, "CREATE TABLE t (x int); INSERT INTO t VALUES (41)");
    assert_eq!(query(&a, "SELECT x + 1 FROM t"), "42");
    assert_eq!(query(&b, "SELECT count(*) FROM pg_tables WHERE tablename = 't'"), "0", "a fresh database");
    assert_eq!(query(&a, "SHOW fsync"), "off");
    let named = server.database("load").unwrap();
    assert!(named.ends_with(&format!(":{port}/load")), "{named}");
    assert!(server.database("load").is_err(), "the name is taken");
    drop(server);
    assert!(!listening(port), "stopped");
    assert!(!alive(pid), "postmaster {pid} gone");
}

/// Durable by default (benchmarks), in a directory the caller keeps.
#[test]
fn a_durable_server_in_a_given_directory_stops_when_its_test_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pg");
    let p = path.clone();
    let (port, pid) = after_panic(move || {
        let server = PgServer::builder().dir(&p).start().unwrap();
        let url = server.create_database().unwrap();
        assert_eq!(query(&url, "SHOW fsync"), "on");
        (server.port(), server.pid().unwrap())
    });
    // The panic unwound past the server: it is gone, its directory kept.
    assert!(!listening(port));
    assert!(!alive(pid));
    assert!(path.join("server.log").is_file());
}

/// A server whose test process died without dropping it (SIGKILL, a CI
/// timeout) is stopped, its directory removed, by the next start.
#[test]
fn a_server_left_by_a_dead_test_process_is_stopped_by_the_next_start() {
    let left = PgServer::builder().no_fsync().start().unwrap();
    let (pid, port, dir) = (left.pid().unwrap(), left.port(), left.dir().to_owned());
    super::orphan(&dir);
    std::mem::forget(left); // as if the process had been killed: no drop
    let next = PgServer::builder().no_fsync().start().unwrap();
    assert!(super::exits(pid), "the left postmaster {pid} still runs");
    assert!(!listening(port));
    assert!(!dir.exists(), "{} removed", dir.display());
    assert!(listening(next.port()));
}
