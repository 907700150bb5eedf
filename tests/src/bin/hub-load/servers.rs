//! The servers under load, each a child process on loopback stopped on
//! drop: `hub` instances (the release binary beside this one), a
//! throwaway PostgreSQL from Debian's `postgresql` (initdb in a temporary
//! directory, as the hub's tests start it) and nginx (Debian's
//! `nginx-light`) in front of two instances.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// A `hub` process; killed on drop.
pub struct HubProcess {
    child: Child,
    pub addr: String,
}

impl HubProcess {
    /// Starts `hub` with `args` and waits for its "listening on" line.
    /// Its log (warnings and worse) goes to `log`.
    pub fn start(exe: &Path, args: &[std::ffi::OsString], log: &Path) -> Result<HubProcess> {
        let mut child = Command::new(exe)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("hub stdout")?).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            bail!("the hub did not start (it said {line:?}); see {}", log.display());
        };
        Ok(HubProcess { addr: addr.to_owned(), child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running (a crash under load is a failure).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `hub` binary: `--hub-bin`, else the one beside this executable
/// (`cargo build --release -p hub -p tests` puts them together).
pub fn hub_binary(given: Option<PathBuf>) -> Result<PathBuf> {
    let exe = match given {
        Some(p) => p,
        None => std::env::current_exe()?.parent().context("executable has no directory")?.join("hub"),
    };
    if !exe.is_file() {
        bail!("no hub binary at {}; build it (`cargo build --release -p hub`) or give --hub-bin", exe.display());
    }
    Ok(exe)
}

/// A throwaway PostgreSQL cluster on a loopback port; stopped on drop.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

/// `/usr/lib/postgresql/<newest>/bin`, where Debian keeps initdb and pg_ctl.
fn pg_bin_dir() -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|b| b.join("initdb").exists()).collect())
        .unwrap_or_default();
    found.sort_by_key(|p| p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0));
    found.pop().context("initdb not found under /usr/lib/postgresql/*/bin: install the Debian package `postgresql`")
}

impl PgServer {
    /// initdb and start, with fsync on (the figures are for a real setup);
    /// with `statements`, pg_stat_statements counts what the hubs run.
    pub fn start(statements: bool) -> Result<PgServer> {
        let bin = pg_bin_dir()?;
        let dir = tempfile::Builder::new().prefix("cunban-load-pg").tempdir()?;
        if is_root() {
            let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status()?.success();
            if !ok {
                bail!("cannot give {} to the postgres user", dir.path().display());
            }
        }
        let server = PgServer { port: free_port()?, dir, bin };
        let data = server.data();
        server.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "-N"])?;
        let mut opts = format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200", server.port, server.dir.path().display());
        if statements {
            opts.push_str(" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_utility=on");
        }
        let log = server.dir.path().join("server.log");
        server.run("pg_ctl", &["-D", &data, "-l", log.to_str().unwrap_or_default(), "-o", &opts, "-w", "-t", "60", "start"])?;
        Ok(server)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<()> {
        let exe = self.bin.join(tool);
        let out = if is_root() { Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output() } else { Command::new(&exe).args(args).output() }
            .with_context(|| format!("running {} (as root it runs through util-linux's runuser)", exe.display()))?;
        if !out.status.success() {
            bail!("{tool} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// A URL of the database `name`, created empty.
    pub fn database(&self, name: &str) -> Result<String> {
        self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(format!("postgres://postgres@127.0.0.1:{}/{name}", self.port))
    }

    /// Runs `sql` in database `db`; its output, unaligned with `|` between fields.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-A", "-t", "-c"])
            .arg(sql)
            .output()?;
        if !out.status.success() {
            bail!("psql failed on {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The postmaster's pid (its children are the backends).
    pub fn pid(&self) -> Result<u32> {
        let text = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid"))?;
        text.lines().next().and_then(|l| l.trim().parse().ok()).context("postmaster.pid has no pid")
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}

/// nginx in front of hub instances; killed on drop.
pub struct Nginx {
    child: Child,
    pub addr: String,
}

impl Nginx {
    /// One worker (as on a small province VM), keep-alive to the upstreams,
    /// and the client's address forwarded (the hubs trust loopback).
    pub fn start(dir: &Path, upstreams: &[String]) -> Result<Nginx> {
        let exe = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().find(|p| Path::new(p).exists());
        let exe = exe.context("nginx not found: install the Debian package `nginx-light`")?;
        let port = free_port()?;
        let d = dir.display();
        let servers: String = upstreams.iter().map(|a| format!("server {a} max_fails=0;\n")).collect();
        let conf = format!(
            "daemon off; master_process off; user root; worker_processes 1; worker_rlimit_nofile 20000; pid {d}/nginx.pid; error_log {d}/nginx-error.log;
events {{ worker_connections 8192; }}
http {{
  access_log off; client_max_body_size 20m;
  client_body_temp_path {d}/nx-body; proxy_temp_path {d}/nx-proxy; fastcgi_temp_path {d}/nx-fcgi; uwsgi_temp_path {d}/nx-uwsgi; scgi_temp_path {d}/nx-scgi;
  upstream hubs {{ {servers} keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{ proxy_pass http://hubs; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_next_upstream error timeout http_502 http_503; proxy_connect_timeout 2s; }}
  }}
}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf)?;
        let child = Command::new(exe).arg("-c").arg(&path).arg("-p").arg(dir).arg("-e").arg(dir.join("nginx-start.log")).stderr(Stdio::null()).spawn()?;
        let nginx = Nginx { child, addr: format!("127.0.0.1:{port}") };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(nginx);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("nginx did not listen; see {}", dir.join("nginx-error.log").display())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
