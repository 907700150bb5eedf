//! A province hub on loopback for `sync-faults --province` (issue 17):
//! PostgreSQL with one database, `cunban`; Garage with the hub's objects
//! under `hub/` in its bucket; two hub instances sharing both; nginx in
//! front of them. The servers are `testkit`'s (each stopped on drop, each
//! failing with a message naming what to install); this module puts them
//! together as a province runs them, under one directory kept for reading.
//!
//! The hub instances are processes of the calling binary (`--hub-child`,
//! see `serve_hub_child`), so a SIGKILL kills a real instance mid-request.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};

pub use testkit::garage::{binary as garage_binary, VERSION as GARAGE_VERSION};
pub use testkit::ports::free_port;

/// PostgreSQL (durable) with one database, `cunban`.
pub struct Postgres {
    server: testkit::pg::PgServer,
    url: String,
    /// Its loopback port.
    pub port: u16,
}

impl Postgres {
    /// initdb and pg_ctl in `dir` (as the `postgres` user when root).
    pub fn start(dir: &Path) -> Result<Postgres> {
        let server = testkit::pg::PgServer::builder().dir(dir).start()?;
        let url = server.database("cunban")?;
        Ok(Postgres { port: server.port(), url, server })
    }

    /// The `postgres://` URL of its `cunban` database.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The server itself.
    pub fn server(&self) -> &testkit::pg::PgServer {
        &self.server
    }
}

/// A single-node Garage with its bucket.
pub struct Garage {
    server: testkit::garage::Garage,
    /// The hub's `--objects`: the bucket's `s3://` URL, prefix `hub`.
    pub objects: String,
}

impl Garage {
    /// Its files in `dir`, on free loopback ports.
    pub fn start(dir: &Path) -> Result<Garage> {
        let server = testkit::garage::Garage::start_in(dir)?;
        Ok(Garage { objects: server.url("hub"), server })
    }

    /// The node itself.
    pub fn server(&self) -> &testkit::garage::Garage {
        &self.server
    }
}

/// nginx in front of hub instances on loopback.
pub struct Nginx {
    _server: testkit::nginx::Nginx,
    /// Where it listens (loopback).
    pub port: u16,
}

impl Nginx {
    /// nginx on a free port in front of the instances on `upstreams`,
    /// its configuration and logs in `dir`.
    pub fn start(dir: &Path, upstreams: &[u16]) -> Result<Nginx> {
        let addrs: Vec<std::net::SocketAddr> = upstreams.iter().map(|&p| ([127, 0, 0, 1], p).into()).collect();
        let server = testkit::nginx::Nginx::start_in(dir, &addrs)?;
        Ok(Nginx { port: server.port(), _server: server })
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
