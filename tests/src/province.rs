//! A province hub on loopback for `sync-faults --province` (issue 17):
//! PostgreSQL (Debian's `postgresql`: initdb and pg_ctl in a temporary
//! directory), Garage as the S3-compatible object store (installed by
//! `./dev test` into `~/.cache/cunban-tools`), two hub instances sharing
//! both, and nginx (Debian `nginx-light`) in front of them. Every server
//! is stopped on drop. Each part fails with a message naming what to
//! install when it is missing.
//!
//! The hub instances are processes of the calling binary (`--hub-child`,
//! see `serve_hub_child`), so a SIGKILL kills a real instance mid-request.
//! The same servers are started by the hub's own tests
//! (hub/tests/integration/{pg,garage,nginx}.rs); those are test modules
//! of another crate, so this is their counterpart for the binaries here.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The Garage release `./dev` installs.
pub const GARAGE_VERSION: &str = "2.5.0";

/// A free loopback port.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

fn run(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!("{what} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A throwaway PostgreSQL cluster with one database, `cunban`.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// Its loopback port.
    pub port: u16,
}

impl Postgres {
    fn pg(&self, tool: &str) -> Command {
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        }
    }

    /// initdb and pg_ctl in `dir` (as the `postgres` user when root).
    pub fn start(dir: &Path) -> Result<Postgres> {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|b| b.join("initdb").exists()).collect())
            .unwrap_or_default();
        found.sort();
        let bin = found.pop().context("initdb not found under /usr/lib/postgresql/*/bin: install the Debian package `postgresql` (./dev test does)")?;
        std::fs::create_dir_all(dir)?;
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir), "chown")?;
        }
        let pg = Postgres { dir: dir.to_owned(), bin, port: free_port()? };
        let data = dir.join("data");
        run(pg.pg("initdb").arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "-N"]), "initdb")?;
        let opts = format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200", pg.port, dir.display());
        run(pg.pg("pg_ctl").arg("-D").arg(&data).arg("-l").arg(dir.join("server.log")).args(["-o", &opts, "-w", "-t", "60", "start"]), "pg_ctl start")?;
        run(
            Command::new(pg.bin.join("psql")).args(["-h", "127.0.0.1", "-p", &pg.port.to_string(), "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE cunban"]),
            "CREATE DATABASE",
        )?;
        Ok(pg)
    }

    /// The `postgres://` URL of its `cunban` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/cunban", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.pg("pg_ctl").arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "-w", "stop"]).output();
    }
}

/// A single-node Garage with one key and one bucket, `cunban`.
pub struct Garage {
    child: Child,
    /// The bucket's `s3://` URL for `--objects`.
    pub objects: String,
}

/// The Garage binary: `CUNBAN_GARAGE`, else where `./dev` installs it.
pub fn garage_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CUNBAN_GARAGE") {
        return Ok(p.into());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"));
    let bin = home.join(format!(".cache/cunban-tools/garage-{GARAGE_VERSION}/bin/garage"));
    if !bin.is_file() {
        bail!("Garage {GARAGE_VERSION} is not installed at {}: run ./dev test (it installs it) or set CUNBAN_GARAGE", bin.display());
    }
    Ok(bin)
}

impl Garage {
    /// Its files in `dir`, on free loopback ports.
    pub fn start(dir: &Path) -> Result<Garage> {
        let bin = garage_binary()?;
        std::fs::create_dir_all(dir)?;
        let (rpc, s3) = (free_port()?, free_port()?);
        let secret = format!("{}{}", uuid::Uuid::now_v7().simple(), uuid::Uuid::now_v7().simple());
        let conf = dir.join("garage.toml");
        std::fs::write(
            &conf,
            format!(
                "metadata_dir = \"{d}/meta\"\ndata_dir = \"{d}/data\"\ndb_engine = \"lmdb\"\nreplication_factor = 1\n\
                 rpc_bind_addr = \"127.0.0.1:{rpc}\"\nrpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{secret}\"\n\
                 [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{s3}\"\nroot_domain = \".s3.garage.localhost\"\n",
                d = dir.display()
            ),
        )?;
        let log = std::fs::File::create(dir.join("garage.log"))?;
        let child = Command::new(&bin).arg("-c").arg(&conf).arg("server").env("RUST_LOG", "warn").stdout(log.try_clone()?).stderr(log).spawn()?;
        let mut garage = Garage { child, objects: String::new() };
        let cli = |args: &[&str]| {
            let mut c = Command::new(&bin);
            c.arg("-c").arg(&conf).args(args).env("RUST_LOG", "warn").stdin(Stdio::null());
            c
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            if let Ok(out) = run(&mut cli(&["node", "id", "-q"]), "garage node id") {
                break out.trim().split('@').next().unwrap_or_default().to_owned();
            }
            if Instant::now() > deadline {
                bail!("Garage did not start; see {}", dir.join("garage.log").display());
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        // A node that has just answered may still refuse the next step for a moment.
        let retry = |args: &[&str], what: &str| {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match run(&mut cli(args), what) {
                    Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(250)),
                    r => return r,
                }
            }
        };
        retry(&["layout", "assign", "-z", "dc1", "-c", "1G", &id], "garage layout assign")?;
        retry(&["layout", "apply", "--version", "1"], "garage layout apply")?;
        let key = retry(&["key", "create", "cunban"], "garage key create")?;
        let field = |name: &str| key.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned())).with_context(|| format!("no {name} in garage's answer"));
        let creds = dir.join("s3-credentials");
        std::fs::write(&creds, format!("access_key_id = {}\nsecret_access_key = {}\n", field("Key ID:")?, field("Secret key:")?))?;
        retry(&["bucket", "create", "cunban"], "garage bucket create")?;
        retry(&["bucket", "allow", "--read", "--write", "--owner", "cunban", "--key", "cunban"], "garage bucket allow")?;
        garage.objects = format!("s3://cunban/hub?endpoint=http://127.0.0.1:{s3}&region=garage&credentials_file={}", creds.display());
        Ok(garage)
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx in front of hub instances.
pub struct Nginx {
    child: Child,
    /// Where it listens (loopback).
    pub port: u16,
}

impl Nginx {
    /// nginx on a free port in front of `upstreams`, retrying a request on
    /// the other instance only when nothing reached a dead one or it
    /// answered 502/503 (as hub/README.md describes for a province).
    pub fn start(dir: &Path, upstreams: &[u16]) -> Result<Nginx> {
        let exe = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().find(|p| Path::new(p).exists());
        let exe = exe.context("nginx not found: install the Debian package `nginx-light` (./dev test does)")?;
        std::fs::create_dir_all(dir)?;
        let port = free_port()?;
        let d = dir.display();
        let servers: String = upstreams.iter().map(|p| format!("server 127.0.0.1:{p} max_fails=0;\n")).collect();
        let conf = format!(
            "daemon off; master_process off; user root; worker_processes 1; pid {d}/nginx.pid; error_log {d}/nginx-error.log;
events {{ worker_connections 512; }}
http {{
  access_log off; client_max_body_size 20m;
  client_body_temp_path {d}/nx-body; proxy_temp_path {d}/nx-proxy; fastcgi_temp_path {d}/nx-fcgi; uwsgi_temp_path {d}/nx-uwsgi; scgi_temp_path {d}/nx-scgi;
  upstream hubs {{ {servers} }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://hubs; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_next_upstream error timeout http_502 http_503; proxy_connect_timeout 2s; proxy_read_timeout 60s; }}
  }}
}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf)?;
        let child = Command::new(exe).arg("-c").arg(&path).arg("-p").arg(dir).arg("-e").arg(dir.join("nginx-start.log")).stderr(Stdio::null()).spawn()?;
        let nginx = Nginx { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(nginx);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("nginx did not listen; see {}", dir.join("nginx-error.log").display())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `exe --hub-child …` (see `serve_hub_child`) on `port`; returns
/// once it accepts connections.
pub fn spawn_hub_child(exe: &Path, db: &str, objects: &str, dir: &Path, port: u16) -> Result<Child> {
    let mut child = Command::new(exe)
        .args(["--hub-child", "--hub-db", db, "--hub-objects", objects, "--hub-port", &port.to_string()])
        .arg("--dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a hub instance")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("hub stdout")?).read_line(&mut line)?;
    if !line.starts_with("listening on") {
        let _ = child.kill();
        bail!("the hub instance said {line:?}");
    }
    Ok(child)
}

/// The body of `--hub-child`: one hub instance over `db` and `objects`
/// with the platform key and signing key of `dir`, until killed.
pub fn serve_hub_child(db: &str, objects: &str, dir: &Path, port: u16) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let platform = model::seal::PlatformSecretKey::parse(&std::fs::read_to_string(dir.join("platform.key"))?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let signing = hub::signing::load_or_create(&dir.join("signing.key"))?;
    rt.block_on(async {
        let (d, o) = (db.to_owned(), PathBuf::from(objects));
        let store = tokio::task::spawn_blocking(move || hub::open_store_blocking(Path::new(&d), Some(&o))).await??;
        let options = hub::HubOptions { platform_key: Some(std::sync::Arc::new(platform)), signing_key: Some(std::sync::Arc::new(signing)), ..hub::HubOptions::default() };
        let hub = hub::Hub::spawn_store(([127, 0, 0, 1], port).into(), store, options).await?;
        println!("listening on {}", hub.base_url());
        std::future::pending::<()>().await;
        Ok::<_, anyhow::Error>(())
    })
}
