//! `sync-bench`: the sync budgets of DESIGN §10, measured.
//!
//! ```text
//! cargo run --release -p tests --bin sync-bench -- throughput [--backend all|sqlite|postgres|postgres+s3|both] [--rounds 7] [--filings 40] [--size 5000000]
//! cargo run --release -p tests --bin sync-bench -- heartbeats [--terminals 50] [--requests 40000] [--concurrency 32]
//! ```
//!
//! `throughput`: a terminal syncs N filings (one attachment each) to a hub on
//! loopback (holding the platform key, so it opens every manifest), timed
//! from the first request to the last acknowledgement; then the same sealed
//! bytes, each read from a file, go one plain PUT each to an HTTP server
//! that keeps each body where that hub keeps attachments: a file written
//! and fsynced (SQLite, PostgreSQL), or an object in the same S3 bucket,
//! one S3 PUT each (PostgreSQL + S3; also printed: the same PUTs straight
//! from the bench, no server between). Prints both rates and their ratio
//! (budget ≥ 0.9), per round and backend (SQLite; PostgreSQL started by the
//! bench from Debian's package, durable settings; PostgreSQL + S3 with
//! Garage on loopback, started by the bench as the tests start it), the
//! median and range per backend, and the load average before and after.
//! Each S3 phase sends bytes of its own (Garage stores a block once by its
//! hash). `--count-s3` counts every S3 request through a proxy
//! (`tests::s3_count`) and prints them per filing and phase.
//!
//! `heartbeats`: the `hub` binary (release, next to this one) with T
//! registered terminals; signed heartbeats are prepared first, then sent
//! by C concurrent keep-alive connections. Prints req/s and latency
//! percentiles (budget ≥ 5,000 req/s, p99 < 20 ms). Load generator and hub
//! share the machine's cores.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use hub::{Hub, HubOptions, NewTerminal};
use model::seal::PlatformSecretKey;
use model::auth::{RequestToSign, HEADER_CONTENT_SHA256, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP};
use model::protocol::{Heartbeat, QueueSnapshot};
use model::submission::sha256_hex;
use offline_cache::{DeviceIdentity, Outbox, OutboxConfig, SyncClient, SyncConfig};
use testkit::garage::Garage;
use testkit::pg::PgServer;
use tests::s3_count::S3Counter;
use tests::sync_fixtures::Rng;

#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    Throughput {
        #[arg(long, default_value_t = 40)]
        filings: u64,
        #[arg(long, default_value_t = 5_000_000)]
        size: usize,
        #[arg(long, default_value_t = 7)]
        rounds: u32,
        /// The hub's store: SQLite, PostgreSQL, PostgreSQL with objects in
        /// S3 (Garage), or several in one run (`all`: the three).
        #[arg(long, value_enum, default_value_t = BackendArg::All)]
        backend: BackendArg,
        /// The loopback port of a PostgreSQL server already running (user
        /// `postgres`, trusted) instead of one the bench starts: to profile
        /// with pg_stat_statements, which must be preloaded. A database is
        /// created in it per round.
        #[arg(long)]
        postgres_port: Option<u16>,
        /// Beside a bucket: route the hub's and the baseline's S3 requests
        /// through a counting proxy (`tests::s3_count`) and print, per
        /// round, each kind of request per filing and its time. For
        /// profiling: the extra hop slows both phases.
        #[arg(long)]
        count_s3: bool,
    },
    Heartbeats {
        #[arg(long, default_value_t = 50)]
        terminals: usize,
        #[arg(long, default_value_t = 40_000)]
        requests: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

fn main() -> Result<()> {
    offline_cache::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    match Args::parse().what {
        What::Throughput { filings, size, rounds, backend, postgres_port, count_s3 } => {
            let backends: &[Backend] = match backend {
                BackendArg::Sqlite => &[Backend::Sqlite],
                BackendArg::Postgres => &[Backend::Postgres],
                BackendArg::PostgresS3 => &[Backend::PostgresS3],
                BackendArg::Both => &[Backend::Sqlite, Backend::Postgres],
                BackendArg::All => &[Backend::Sqlite, Backend::Postgres, Backend::PostgresS3],
            };
            // One server of each kind for the run; a fresh database and
            // bucket prefix per round (the filings are the same each round).
            let mut servers = Servers::start(backends, postgres_port)?;
            if count_s3 {
                let upstream = servers.garage.as_ref().context("--count-s3 needs a bucket: --backend postgres+s3 or all")?.endpoint();
                servers.counter = Some(S3Counter::start(&upstream)?);
            }
            println!("load average before: {}", load_average());
            let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
            // Rounds alternate backends, so both meet the same machine.
            for round in 1..=rounds {
                for (b, backend) in backends.iter().enumerate() {
                    let t = rt.block_on(throughput(*backend, &servers, round, filings, size))?;
                    let ratio = t.sync_mbps / t.plain_mbps;
                    let direct = t.direct_mbps.map(|d| format!("; direct S3 PUT {d:.1} MB/s, ratio {:.2}", t.sync_mbps / d)).unwrap_or_default();
                    println!(
                        "round {round} {}: sync {:.1} MB/s, {} {:.1} MB/s, ratio {ratio:.2} (CPU of this process: sync {:.2} s, plain {:.2} s){direct}",
                        backend.name(),
                        t.sync_mbps,
                        backend.plain_name(),
                        t.plain_mbps,
                        t.sync_cpu,
                        t.plain_cpu
                    );
                    ratios[b].push(ratio);
                }
            }
            println!("load average after: {}", load_average());
            for (backend, r) in backends.iter().zip(&mut ratios) {
                r.sort_by(f64::total_cmp);
                println!(
                    "{}: sync/plain throughput ratio median {:.2} (min {:.2}, max {:.2}) over {rounds} rounds; budget >= 0.90",
                    backend.name(),
                    r[r.len() / 2],
                    r[0],
                    r[r.len() - 1]
                );
            }
            Ok(())
        }
        What::Heartbeats { terminals, requests, concurrency } => rt.block_on(heartbeats(terminals, requests, concurrency)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    #[value(name = "postgres+s3")]
    PostgresS3,
    /// SQLite and PostgreSQL.
    Both,
    /// SQLite, PostgreSQL and PostgreSQL + S3.
    All,
}

/// Where the bench's hub keeps its rows and its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// SQLite, attachments in the folder beside it.
    Sqlite,
    /// PostgreSQL, attachments in a folder.
    Postgres,
    /// PostgreSQL, attachments in an S3 bucket (Garage on loopback).
    PostgresS3,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::PostgresS3 => "PostgreSQL + S3",
        }
    }

    /// What its baseline is.
    fn plain_name(self) -> &'static str {
        match self {
            Backend::Sqlite | Backend::Postgres => "plain HTTP upload",
            Backend::PostgresS3 => "plain HTTP upload to S3",
        }
    }
}

/// The servers a run needs, started once and stopped on drop.
struct Servers {
    pg: Option<PgServer>,
    /// `--postgres-port`, used instead of `pg` when given.
    pg_port: Option<u16>,
    /// Garage (`testkit`'s, as the tests and `sync-faults --province` start it).
    garage: Option<Garage>,
    /// `--count-s3`: the proxy every S3 request goes through.
    counter: Option<S3Counter>,
}

impl Servers {
    fn start(backends: &[Backend], pg_port: Option<u16>) -> Result<Servers> {
        let pg = (pg_port.is_none() && backends.iter().any(|b| *b != Backend::Sqlite)).then(PgServer::start).transpose()?;
        let garage = backends.contains(&Backend::PostgresS3).then(Garage::start).transpose()?;
        Ok(Servers { pg, pg_port, garage, counter: None })
    }

    /// A fresh database: its URL.
    fn database(&self) -> Result<String> {
        match (self.pg_port, &self.pg) {
            (Some(port), _) => Ok(testkit::pg::create_database(&format!("host=127.0.0.1 port={port} user=postgres"))?),
            (None, Some(pg)) => Ok(pg.create_database()?),
            (None, None) => bail!("no PostgreSQL server started"),
        }
    }

    /// The bucket's `s3://` URL with objects under `prefix`.
    fn bucket(&self, prefix: &str) -> Result<String> {
        let garage = self.garage.as_ref().context("no Garage started")?;
        let url = garage.url(prefix);
        Ok(match &self.counter {
            Some(c) => url.replace(&garage.endpoint(), &c.endpoint()),
            None => url,
        })
    }

    /// `--count-s3`: what the proxy saw since the last call, per filing
    /// (printed for a backend with a bucket).
    fn s3_counted(&self, backend: Backend, phase: &str, filings: u64) {
        if let Some(c) = self.counter.as_ref().filter(|_| backend == Backend::PostgresS3) {
            println!("  S3 requests, {phase}:");
            for line in S3Counter::summary(&c.take(), filings) {
                println!("    {line}");
            }
        }
    }
}

/// `/proc/loadavg`'s 1, 5 and 15 minute figures (other work on the machine).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A hub on loopback over `backend` (PostgreSQL: a fresh database; S3: the
/// bucket under a prefix of this round's), with its files under `dir`,
/// holding `platform` to open manifests.
async fn start_hub(backend: Backend, servers: &Servers, round: u32, dir: &std::path::Path, platform: Arc<PlatformSecretKey>) -> Result<Hub> {
    let addr = "127.0.0.1:0".parse()?;
    let options = HubOptions { platform_key: Some(platform), ..HubOptions::default() };
    match backend {
        Backend::Sqlite => Ok(Hub::spawn_with(addr, &dir.join("hub.db"), options).await?),
        Backend::Postgres | Backend::PostgresS3 => {
            let url = servers.database()?;
            let objects = match backend {
                Backend::PostgresS3 => PathBuf::from(servers.bucket(&format!("hub-{round}"))?),
                _ => dir.join("hub-blobs"),
            };
            let store = tokio::task::spawn_blocking(move || hub::PgStore::open(&url, &objects)).await??;
            let options = HubOptions { signing_key: Some(Arc::new(hub::signing::generate()?)), ..options };
            Ok(Hub::spawn_store(addr, Arc::new(store), options).await?)
        }
    }
}

/// One round's figures.
struct Round {
    sync_mbps: f64,
    plain_mbps: f64,
    /// Beside a bucket: plain S3 PUTs from this process, no server between.
    direct_mbps: Option<f64>,
    /// CPU seconds this process (terminal and hub; not PostgreSQL's own
    /// processes) used in each timed phase.
    sync_cpu: f64,
    plain_cpu: f64,
}

/// CPU seconds this process has used (user + system, from /proc/self/stat).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
    // Clock ticks of 1/100 s: the Linux USER_HZ on every architecture we build for.
    f.iter().sum::<f64>() / 100.0
}

/// MB/s of the sync and of plain uploads of the same bytes.
async fn throughput(backend: Backend, servers: &Servers, round: u32, filings: u64, size: usize) -> Result<Round> {
    let dir = tempfile::tempdir()?;
    let platform = Arc::new(offline_cache::generate_platform_key());
    let mut config = OutboxConfig::new(platform.public_key(), "GS-BENCH-0001");
    config.disk_reserve_bytes = 0;
    let outbox = Outbox::open(&dir.path().join("outbox.db"), config)?;
    let mut rng = Rng::new(7);
    let mut ids = Vec::new();
    for i in 0..filings {
        let (mut sub, _) = tests::sync_fixtures::filing(99, i, 1);
        let mut bytes = vec![0u8; size];
        rng.fill(&mut bytes);
        let r = model::submission::AttachmentRef::for_bytes("scan0", "application/pdf", &bytes);
        sub.attachments = vec![r.clone()];
        outbox.enqueue(&sub, &[(r, bytes)])?;
        ids.push(sub.id);
    }
    let mut payloads = Vec::new();
    for id in &ids {
        let copy = outbox.sealed_copy(*id)?.context("sealed copy")?;
        payloads.push(copy.envelope);
        payloads.extend(copy.attachments.into_iter().map(|a| a.bytes));
    }
    let total: usize = payloads.iter().map(Vec::len).sum();
    // Like `curl -T file`: the plain upload reads each payload from a file, as
    // the terminal reads its own from the outbox.
    let files = dir.path().join("payloads");
    write_payloads(&files, &payloads, 0)?;
    // Both timed phases start with no dirty pages waiting for the disk: the
    // setup above wrote hundreds of megabytes.
    flush_dirty();

    let hub = start_hub(backend, servers, round, dir.path(), platform.clone()).await?;
    servers.s3_counted(backend, "hub start", filings);
    let identity = DeviceIdentity::generate("GS-BENCH-0001")?;
    hub.register_terminal(NewTerminal { id: "GS-BENCH-0001".into(), public_key: identity.public_key(), village_code: None, label: None }).await?;
    let client = SyncClient::with_config(&hub.base_url(), identity, SyncConfig { batch_size: 1000, ..SyncConfig::default() })?;
    mark("sync begins");
    let (t, cpu) = (Instant::now(), cpu_secs());
    let mut acked = 0;
    while acked < ids.len() {
        let r = client.sync_once(&outbox).await;
        if let Some(stop) = r.stopped {
            bail!("sync stopped: {stop}");
        }
        acked += r.acknowledged.len();
    }
    let sync_secs = t.elapsed().as_secs_f64();
    let sync_cpu = cpu_secs() - cpu;
    mark("sync ends");
    hub.shutdown().await?;
    servers.s3_counted(backend, "sync", filings);

    let mb = total as f64 / 1e6;
    let (sink, direct_mbps) = match backend {
        Backend::Sqlite | Backend::Postgres => {
            let folder = dir.path().join("plain");
            std::fs::create_dir_all(&folder)?;
            (Sink::Folder(folder), None)
        }
        Backend::PostgresS3 => {
            // Garage keeps each 1 MiB block once, by its hash: bytes the
            // sync stored already would cost the baseline no block writes
            // (nor compression). Each phase sends bytes of its own.
            write_payloads(&files, &payloads, 1)?;
            let direct = direct_s3(&servers.bucket(&format!("direct-{round}"))?, &files, payloads.len()).await?;
            servers.s3_counted(backend, "direct S3 PUTs", filings);
            write_payloads(&files, &payloads, 2)?;
            let (s3, prefix) = bucket_client(&servers.bucket(&format!("plain-{round}"))?)?;
            (Sink::Bucket(s3, prefix), Some(mb / direct))
        }
    };
    let (plain_secs, plain_cpu) = plain_upload(sink, &files, payloads.len()).await?;
    servers.s3_counted(backend, "plain upload", filings);
    Ok(Round { sync_mbps: mb / sync_secs, plain_mbps: mb / plain_secs, direct_mbps, sync_cpu, plain_cpu })
}

/// Writes each payload to `dir/<i>`; with a nonzero `tag`, every 4096th
/// byte XORed with it: the same sizes and work, but no block (of any size
/// from 4 KiB) that an object store deduplicating by hash already holds.
fn write_payloads(dir: &std::path::Path, payloads: &[Vec<u8>], tag: u8) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for (i, p) in payloads.iter().enumerate() {
        let mut p = p.clone();
        if tag != 0 {
            p.iter_mut().step_by(4096).for_each(|b| *b ^= tag);
        }
        std::fs::write(dir.join(i.to_string()), p)?;
    }
    Ok(())
}

/// Where the plain upload's server keeps each body.
#[derive(Clone)]
enum Sink {
    /// A file per body, written and fsynced.
    Folder(PathBuf),
    /// An object per body under a prefix, one S3 PUT each.
    Bucket(Arc<dyn object_store::ObjectStore>, String),
}

impl Sink {
    async fn keep(&self, name: String, body: axum::body::Bytes) -> Result<()> {
        use object_store::ObjectStoreExt as _;
        match self {
            Sink::Folder(dir) => {
                let path = dir.join(name);
                tokio::task::spawn_blocking(move || {
                    use std::io::Write;
                    let mut f = std::fs::File::create(path)?;
                    f.write_all(&body)?;
                    f.sync_all()
                })
                .await??;
            }
            Sink::Bucket(s3, prefix) => {
                s3.put(&object_store::path::Path::from(format!("{prefix}/{name}")), body.into()).await?;
            }
        }
        Ok(())
    }
}

/// The baseline: each payload file read and sent as one plain PUT to an
/// HTTP server on the same stack as the hub that keeps the body where the
/// hub keeps attachments (`sink`). Seconds and CPU seconds.
async fn plain_upload(sink: Sink, files: &std::path::Path, count: usize) -> Result<(f64, f64)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route(
            "/upload/{name}",
            axum::routing::put(move |axum::extract::Path(name): axum::extract::Path<String>, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    match sink.keep(name, body).await {
                        Ok(()) => axum::http::StatusCode::CREATED,
                        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    }
                }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    flush_dirty();
    let http = reqwest::Client::new();
    let (t, cpu) = (Instant::now(), cpu_secs());
    for i in 0..count {
        let path = files.join(i.to_string());
        let body = tokio::task::spawn_blocking(move || std::fs::read(path)).await??;
        let resp = http.put(format!("http://{addr}/upload/{i}")).body(body).send().await?;
        if !resp.status().is_success() {
            bail!("plain upload answered {}", resp.status());
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu;
    server.abort();
    Ok((secs, cpu))
}

/// The bucket of `url` (an `s3://` URL as the hub takes it) through
/// object_store, the client the hub uses, and its prefix.
fn bucket_client(url: &str) -> Result<(Arc<dyn object_store::ObjectStore>, String)> {
    let loc = hub::objects::S3Location::parse(url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let creds = std::fs::read_to_string(loc.credentials_file.as_ref().context("no credentials file")?)?;
    let field = |name: &str| {
        creds
            .lines()
            .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == name).map(|(_, v)| v.trim().to_owned()))
            .with_context(|| format!("no {name} in the credentials file"))
    };
    let endpoint = loc.endpoint.clone().context("no endpoint")?;
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(&loc.bucket)
        .with_endpoint(&endpoint)
        .with_allow_http(endpoint.starts_with("http://"))
        .with_region(loc.region.clone().unwrap_or_default())
        .with_access_key_id(field("access_key_id")?)
        .with_secret_access_key(field("secret_access_key")?)
        .build()?;
    Ok((Arc::new(s3), loc.prefix))
}

/// For reference beside a bucket: each payload stored by one S3 PUT
/// straight from this process, as `aws s3 cp` would (no server in
/// between, which a terminal never has: it holds no bucket credentials).
async fn direct_s3(url: &str, files: &std::path::Path, count: usize) -> Result<f64> {
    use object_store::ObjectStoreExt as _;
    let (s3, prefix) = bucket_client(url)?;
    flush_dirty();
    let t = Instant::now();
    for i in 0..count {
        let path = files.join(i.to_string());
        let body = tokio::task::spawn_blocking(move || std::fs::read(path)).await??;
        s3.put(&object_store::path::Path::from(format!("{prefix}/{i}")), body.into()).await?;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// With SYNC_BENCH_MARK set, says on stderr where a phase begins and
/// ends: a write(2) that `strace -f -ttt` shows between the phase's own
/// system calls, to count them per phase.
fn mark(what: &str) {
    if std::env::var_os("SYNC_BENCH_MARK").is_some() {
        eprintln!("sync-bench: {what}");
    }
}

/// Writes back every dirty page (`sync(2)`), so one phase's writes are not
/// paid for by the next.
fn flush_dirty() {
    let _ = Command::new("sync").status();
}

fn hub_binary() -> Result<PathBuf> {
    let me = std::env::current_exe()?;
    let dir = me.parent().context("executable has no directory")?;
    let hub = dir.join("hub");
    if !hub.is_file() {
        bail!("no hub binary at {}; build it with `cargo build --release -p hub`", hub.display());
    }
    Ok(hub)
}

async fn heartbeats(terminals: usize, requests: usize, concurrency: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    // Registered straight into the database the hub then opens.
    let db = dir.path().join("hub.db");
    let keys = hub::simulated::simulated_terminals(terminals, 1, "GS-HB-", &[]);
    hub::simulated::register_simulated(hub::open_store_blocking(&db, None)?.as_ref(), &keys, Some("sync-bench"), time::OffsetDateTime::now_utc())?;
    let mut cmd = Command::new(hub_binary()?);
    cmd.args(["--listen", "127.0.0.1:0", "--db"]).arg(&db);
    let mut child = cmd.env("RUST_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("hub stdout")?).read_line(&mut line)?;
    let addr = line.trim().strip_prefix("listening on ").context("hub did not announce")?.to_owned();

    // Prepared before the clock starts: the hub is measured, not the signing.
    let now = time::OffsetDateTime::now_utc();
    type Prepared = (String, Vec<(&'static str, String)>, Vec<u8>);
    let prepared: Vec<Prepared> = (0..requests)
        .map(|i| {
            let hub::simulated::SimulatedTerminal { id, key, .. } = &keys[i % terminals];
            let hb = Heartbeat {
                sent_at: now,
                app_version: "kiosk/0.1.0".into(),
                catalog_version: Some(1),
                config_version: Some(0),
                queue: QueueSnapshot { unsent: (i % 7) as u64, quarantined: 0, acknowledged: 3, oldest_unsent_secs: Some(60), evaluations_unsent: 0 },
                free_disk_bytes: Some(10 << 30),
                devices: vec![],
                alerts: vec![],
                clock_offset_secs: 0,
                audit: None,
                update: None,
            };
            let body = serde_json::to_vec(&hb).expect("heartbeat serialises");
            let sha = sha256_hex(&body);
            let nonce = format!("{i:032x}");
            let ts = now.unix_timestamp();
            let sig = RequestToSign { method: "POST", path_and_query: "/v1/heartbeat", content_range: "", body_sha256: &sha, timestamp: ts, nonce: &nonce, terminal_id: id }
                .sign(key)
                .expect("valid fields");
            let headers = vec![
                (HEADER_TERMINAL, id.clone()),
                (HEADER_TIMESTAMP, ts.to_string()),
                (HEADER_NONCE, nonce),
                (HEADER_CONTENT_SHA256, sha),
                (HEADER_SIGNATURE, sig),
                ("content-type", "application/json".into()),
            ];
            (id.clone(), headers, body)
        })
        .collect();
    let prepared = Arc::new(prepared);
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("http://{addr}/v1/heartbeat");
    // Warm up connections and the database.
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let t = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, prepared, next, url) = (http.clone(), prepared.clone(), next.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, headers, body)) = prepared.get(i) else { break };
                let mut req = http.post(&url).body(body.clone());
                for (k, v) in headers {
                    req = req.header(*k, v);
                }
                let start = Instant::now();
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(start.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await?;
        lat.extend(l);
        errors += e;
    }
    let secs = t.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or_default();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "heartbeats: {} ok, {errors} failed, {:.0} req/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({terminals} terminals, {concurrency} connections); budget >= 5000 req/s, p99 < 20 ms",
        lat.len(),
        lat.len() as f64 / secs,
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(lat.last().copied().unwrap_or_default())
    );
    if errors > 0 {
        bail!("{errors} heartbeats failed");
    }
    Ok(())
}
