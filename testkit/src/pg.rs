//! A throwaway PostgreSQL from Debian's `postgresql` package: `initdb` in
//! a directory of its own, `pg_ctl` on a free loopback port (its socket in
//! the same directory), stopped (`-m immediate`) on drop.
//!
//! By default the server keeps PostgreSQL's durable settings (benchmarks
//! compare against fsynced uploads); [`PgBuilder::no_fsync`] turns fsync
//! off for tests, where only speed matters. PostgreSQL refuses to run as
//! root: as root, its commands run as the package's `postgres` user
//! (util-linux `runuser`), which owns the directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{io, Error, Result};
use crate::process::{is_root, reap_stale, run, tail, Dir};

/// Where Debian installs PostgreSQL's versions.
const ROOT: &str = "/usr/lib/postgresql";

/// How its temporary directories are named.
const PREFIX: &str = "cunban-pg";

/// A running server; stopped when dropped.
#[derive(Debug)]
pub struct PgServer {
    dir: Dir,
    bin: PathBuf,
    port: u16,
}

/// How to start a [`PgServer`].
#[derive(Debug, Clone)]
pub struct PgBuilder {
    fsync: bool,
    dir: Option<PathBuf>,
    max_connections: u32,
    statements: bool,
}

/// `/usr/lib/postgresql/<newest>/bin`, where Debian keeps initdb and pg_ctl.
pub fn bin_dir() -> Result<PathBuf> {
    bin_dir_in(Path::new(ROOT))
}

/// The newest `<root>/<version>/bin` holding `initdb`.
pub fn bin_dir_in(root: &Path) -> Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().join("bin/initdb").is_file())
                .map(|e| (e.file_name().to_str().and_then(|v| v.parse().ok()).unwrap_or(0), e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().map(|(_, b)| b).ok_or_else(|| Error::Missing {
        tool: "PostgreSQL",
        hint: format!("no initdb under {}/*/bin: install the Debian package `postgresql` (./dev test does)", root.display()),
    })
}

/// A client tool of the server's version (`psql`, `pg_dump`, `pg_restore`).
pub fn tool(name: &str) -> Result<PathBuf> {
    Ok(bin_dir()?.join(name))
}

/// A fresh, empty database on the server that the key=value settings
/// `base` ([`PgServer::base`]) name: its `postgres://` URL. For a child
/// process that was handed only the settings.
pub fn create_database(base: &str) -> Result<String> {
    let port = base
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("port="))
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| Error::Failed { what: "reading the connection settings".into(), output: format!("no port in {base:?}") })?;
    create_on(&bin_dir()?, port, &unique_name())
}

fn create_on(bin: &Path, port: u16, name: &str) -> Result<String> {
    run(
        Command::new(bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!("CREATE DATABASE \"{name}\"")),
        &format!("CREATE DATABASE {name}"),
    )?;
    Ok(format!("postgres://postgres@127.0.0.1:{port}/{name}"))
}

/// Unique on this machine while the server lives: process id, a counter, the time.
fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("t_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

impl Default for PgBuilder {
    fn default() -> Self {
        PgBuilder { fsync: true, dir: None, max_connections: 200, statements: false }
    }
}

impl PgBuilder {
    /// fsync off: faster, and a crash of the machine loses the data (tests).
    pub fn no_fsync(mut self) -> Self {
        self.fsync = false;
        self
    }

    /// The cluster in `dir` (kept after the server stops) instead of a temporary directory.
    pub fn dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_owned());
        self
    }

    /// `max_connections` (default 200: two hub instances' pools and a load tool).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// With `on`, pg_stat_statements is loaded and counts every statement
    /// (hub-load --pg-statements; `CREATE EXTENSION` in the database to read it).
    pub fn statements(mut self, on: bool) -> Self {
        self.statements = on;
        self
    }

    /// initdb and start; an error (never a skip) when PostgreSQL is not installed.
    pub fn start(self) -> Result<PgServer> {
        let bin = bin_dir()?;
        reap_stale(PREFIX, "data/postmaster.pid", rustix::process::Signal::QUIT);
        let dir = Dir::new(self.dir.as_deref(), PREFIX)?;
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()), "chown to the postgres user")?;
        }
        let port = crate::ports::free_port()?;
        let server = PgServer { dir, bin, port };
        let data = server.data();
        // -N: initdb's own files unsynced; the running server's durability is the fsync setting.
        server.pg_run(Command::new("initdb").arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "-N"]), "initdb")?;
        let mut opts = format!("-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections={}", server.dir().display(), self.max_connections);
        if !self.fsync {
            opts.push_str(" -c fsync=off");
        }
        if self.statements {
            opts.push_str(" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_utility=on");
        }
        let started = server.pg_run(Command::new("pg_ctl").arg("-D").arg(&data).arg("-l").arg(server.log()).args(["-o", &opts, "-w", "-t", "60", "start"]), "pg_ctl start");
        if let Err(e) = started {
            return Err(Error::NotStarted { what: "PostgreSQL", detail: format!("{e}; {}", tail(&server.log(), 2000)) });
        }
        Ok(server)
    }
}

impl PgServer {
    /// How to start one (durable, temporary directory, 200 connections).
    pub fn builder() -> PgBuilder {
        PgBuilder::default()
    }

    /// A durable server in a temporary directory.
    pub fn start() -> Result<PgServer> {
        PgBuilder::default().start()
    }

    /// Runs a server tool (as the `postgres` user when root). `cmd` names the tool.
    fn pg_run(&self, cmd: &mut Command, what: &str) -> Result<String> {
        let exe = self.bin.join(cmd.get_program());
        let mut real = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        real.args(cmd.get_args());
        run(&mut real, what)
    }

    fn data(&self) -> PathBuf {
        self.dir().join("data")
    }

    /// Its loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Key=value connection settings for the superuser, no database named.
    pub fn base(&self) -> String {
        format!("host=127.0.0.1 port={} user=postgres", self.port)
    }

    /// Its directory (cluster, socket, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log file.
    pub fn log(&self) -> PathBuf {
        self.dir().join("server.log")
    }

    /// A fresh, empty database with a unique name: its `postgres://` URL.
    pub fn create_database(&self) -> Result<String> {
        create_on(&self.bin, self.port, &unique_name())
    }

    /// The database `name`, created empty: its `postgres://` URL.
    pub fn database(&self, name: &str) -> Result<String> {
        create_on(&self.bin, self.port, name)
    }

    /// Runs `sql` in database `db` with psql: its unaligned, tuples-only output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        run(
            Command::new(self.bin.join("psql"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-A", "-t", "-c"])
                .arg(sql),
            &format!("psql {sql:?}"),
        )
    }

    /// The postmaster's process id (its children are the backends).
    pub fn pid(&self) -> Result<u32> {
        let path = self.data().join("postmaster.pid");
        let text = std::fs::read_to_string(&path).map_err(io(format!("reading {}", path.display())))?;
        text.lines().next().and_then(|l| l.trim().parse().ok()).ok_or_else(|| Error::Failed { what: "reading postmaster.pid".into(), output: text.clone() })
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.pg_run(Command::new("pg_ctl").arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]), "pg_ctl stop");
    }
}
