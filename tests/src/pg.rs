//! A throwaway PostgreSQL for the benchmark binaries (`sync-bench
//! throughput --backend postgres`), from Debian's `postgresql` package:
//! `initdb` in a temporary directory, `pg_ctl` on a free loopback port,
//! stopped (immediately) on drop. Unlike the hub's test server
//! (hub/tests/integration/pg.rs, `fsync=off` for speed), this one keeps
//! PostgreSQL's durable defaults: a bench compares against uploads that
//! are fsynced, so the hub's database must be too.
//!
//! PostgreSQL refuses to run as root: as root, its commands run as the
//! package's `postgres` user (util-linux `runuser`), owning the directory.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// A running server; stopped when dropped.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    databases: std::sync::atomic::AtomicU32,
}

/// `/usr/lib/postgresql/<newest>/bin`, where Debian keeps initdb and pg_ctl.
fn bin_dir() -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|b| b.join("initdb").exists()).collect())
        .unwrap_or_default();
    found.sort_by_key(|p| p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0));
    found.pop().context("initdb not found under /usr/lib/postgresql/*/bin: install the Debian package `postgresql` (./dev test does)")
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

impl PgServer {
    /// initdb and start; fails (never skips) when PostgreSQL is not installed.
    pub fn start() -> Result<PgServer> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new().prefix("cunban-bench-pg").tempdir()?;
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().context("chown")?;
            if !status.success() {
                bail!("cannot give {} to the postgres user", dir.path().display());
            }
        }
        let data = dir.path().join("data");
        let server = PgServer { bin, port: free_port()?, dir, databases: 0.into() };
        let data_s = data.to_str().context("temporary path is not UTF-8")?;
        server.run("initdb", &["-D", data_s, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"])?;
        let opts = format!("-c listen_addresses=127.0.0.1 -p {} -k {}", server.port, server.dir.path().display());
        let log = server.dir.path().join("server.log");
        let log_s = log.to_str().context("temporary path is not UTF-8")?;
        server.run("pg_ctl", &["-D", data_s, "-l", log_s, "-o", &opts, "-w", "-t", "60", "start"])?;
        Ok(server)
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<()> {
        let exe = self.bin.join(tool);
        let out = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        }
        .with_context(|| format!("cannot run {} (runuser is in util-linux)", exe.display()))?;
        if !out.status.success() {
            bail!("{tool} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// A fresh, empty database: its `postgres://` URL.
    pub fn create_database(&self) -> Result<String> {
        let n = self.databases.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("bench_{}_{n}", std::process::id());
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .context("psql")?;
        if !out.status.success() {
            bail!("CREATE DATABASE failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(format!("postgres://postgres@127.0.0.1:{}/{name}", self.port))
    }
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
