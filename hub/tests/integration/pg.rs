//! A throwaway PostgreSQL for the tests, from Debian's `postgresql`
//! package: `initdb` in a temporary directory, `pg_ctl` on a free loopback
//! port, stopped (immediately) on drop. The one place the tests start
//! PostgreSQL; it panics, failing the test, when the package is missing.
//!
//! PostgreSQL refuses to run as root: as root, its commands run as the
//! package's `postgres` user (util-linux `runuser`), owning the directory.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the test suite's child run finds the server (see `postgres.rs`).
pub const ENV: &str = "CUNBAN_TEST_PG";

pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

/// `/usr/lib/postgresql/<newest>/bin`, where Debian keeps initdb and pg_ctl.
fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|b| b.join("initdb").exists()).collect())
        .unwrap_or_default();
    found.sort_by_key(|p| p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0));
    found.pop().unwrap_or_else(|| panic!("initdb not found under /usr/lib/postgresql/*/bin: install the Debian package `postgresql` (./dev test does)"))
}

/// A client tool of the same version (psql, pg_dump, pg_restore).
pub fn tool(name: &str) -> PathBuf {
    bin_dir().join(name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

impl PgServer {
    pub fn start() -> PgServer {
        let bin = bin_dir();
        let dir = tempfile::Builder::new().prefix("cunban-pg").tempdir().unwrap();
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().expect("chown");
            assert!(status.success(), "cannot give {} to the postgres user", dir.path().display());
        }
        let data = dir.path().join("data");
        let server = PgServer { dir, bin, port: free_port() };
        server.run("initdb", &["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "-N"]);
        let opts = format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200", server.port, server.dir.path().display());
        let log = server.dir.path().join("server.log");
        server.run("pg_ctl", &["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &opts, "-w", "-t", "60", "start"]);
        server
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let out = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        }
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (runuser is in util-linux)", exe.display()));
        assert!(out.status.success(), "{tool} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }

    /// Key=value connection settings for the superuser, without a database.
    pub fn base(&self) -> String {
        format!("host=127.0.0.1 port={} user=postgres", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A fresh database on the server `base` names: its `postgres://` URL.
pub fn create_database(base: &str) -> String {
    let bin = bin_dir();
    let port = base.split_whitespace().find_map(|kv| kv.strip_prefix("port=")).expect("port in the connection settings");
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let out = Command::new(bin.join("psql"))
        .args(["-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("psql");
    assert!(out.status.success(), "CREATE DATABASE failed: {}", String::from_utf8_lossy(&out.stderr));
    format!("postgres://postgres@127.0.0.1:{port}/{name}")
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "-w", "stop"];
        let _ = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}
