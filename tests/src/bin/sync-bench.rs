//! `sync-bench`: the sync budgets of DESIGN §10, measured.
//!
//! ```text
//! cargo run --release -p tests --bin sync-bench -- throughput [--filings 40] [--size 5000000]
//! cargo run --release -p tests --bin sync-bench -- heartbeats [--terminals 50] [--requests 40000] [--concurrency 32]
//! ```
//!
//! `throughput`: a terminal syncs N filings (one attachment each) to a hub on
//! loopback (holding the platform key, so it opens every manifest), timed
//! from the first request to the last acknowledgement; then the same sealed
//! bytes, each read from a file, go one PUT each to a plain HTTP server that
//! writes and fsyncs each body to a file. Prints both rates and their ratio
//! (budget ≥ 0.8).
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
use clap::{Parser, Subcommand};
use hub::{Hub, HubOptions, NewTerminal};
use model::auth::{RequestToSign, SigningKey, HEADER_CONTENT_SHA256, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP};
use model::protocol::{Heartbeat, QueueSnapshot};
use model::submission::sha256_hex;
use offline_cache::{DeviceIdentity, Outbox, OutboxConfig, SyncClient, SyncConfig};
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
        #[arg(long, default_value_t = 3)]
        rounds: u32,
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
        What::Throughput { filings, size, rounds } => {
            let mut ratios = Vec::new();
            for round in 1..=rounds {
                let (sync_mbps, plain_mbps) = rt.block_on(throughput(filings, size))?;
                let ratio = sync_mbps / plain_mbps;
                println!("round {round}: sync {sync_mbps:.1} MB/s, plain HTTP upload {plain_mbps:.1} MB/s, ratio {ratio:.2}");
                ratios.push(ratio);
            }
            ratios.sort_by(f64::total_cmp);
            println!("sync/plain throughput ratio: median {:.2} (min {:.2}, max {:.2}); budget >= 0.80", ratios[ratios.len() / 2], ratios[0], ratios[ratios.len() - 1]);
            Ok(())
        }
        What::Heartbeats { terminals, requests, concurrency } => rt.block_on(heartbeats(terminals, requests, concurrency)),
    }
}

/// MB/s of the sync and of plain uploads of the same bytes.
async fn throughput(filings: u64, size: usize) -> Result<(f64, f64)> {
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
    std::fs::create_dir_all(&files)?;
    for (i, p) in payloads.iter().enumerate() {
        std::fs::write(files.join(i.to_string()), p)?;
    }
    // Both timed phases start with no dirty pages waiting for the disk: the
    // setup above wrote hundreds of megabytes.
    flush_dirty();

    let hub = Hub::spawn_with(
        "127.0.0.1:0".parse()?,
        &dir.path().join("hub.db"),
        HubOptions { platform_key: Some(platform.clone()), ..HubOptions::default() },
    )
    .await?;
    let identity = DeviceIdentity::generate("GS-BENCH-0001")?;
    hub.register_terminal(NewTerminal { id: "GS-BENCH-0001".into(), public_key: identity.public_key(), village_code: None, label: None }).await?;
    let client = SyncClient::with_config(&hub.base_url(), identity, SyncConfig { batch_size: 1000, ..SyncConfig::default() })?;
    let t = Instant::now();
    let mut acked = 0;
    while acked < ids.len() {
        let r = client.sync_once(&outbox).await;
        if let Some(stop) = r.stopped {
            bail!("sync stopped: {stop}");
        }
        acked += r.acknowledged.len();
    }
    let sync_secs = t.elapsed().as_secs_f64();
    hub.shutdown().await?;

    // The same bytes, one plain PUT each, to a server that keeps them durably.
    let store = dir.path().join("plain");
    std::fs::create_dir_all(&store)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route(
            "/upload/{name}",
            axum::routing::put(move |axum::extract::Path(name): axum::extract::Path<String>, body: axum::body::Bytes| {
                let path = store.join(name);
                async move {
                    let ok = tokio::task::spawn_blocking(move || {
                        use std::io::Write;
                        let mut f = std::fs::File::create(path)?;
                        f.write_all(&body)?;
                        f.sync_all()
                    })
                    .await;
                    match ok {
                        Ok(Ok(())) => axum::http::StatusCode::CREATED,
                        _ => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
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
    let t = Instant::now();
    for i in 0..payloads.len() {
        let path = files.join(i.to_string());
        let body = tokio::task::spawn_blocking(move || std::fs::read(path)).await??;
        let resp = http.put(format!("http://{addr}/upload/{i}")).body(body).send().await?;
        if !resp.status().is_success() {
            bail!("plain upload answered {}", resp.status());
        }
    }
    let plain_secs = t.elapsed().as_secs_f64();
    server.abort();
    let mb = total as f64 / 1e6;
    Ok((mb / sync_secs, mb / plain_secs))
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
    let keys: Vec<(String, SigningKey)> = (0..terminals)
        .map(|i| {
            let mut seed = [0u8; 32];
            Rng::new(i as u64 + 1).fill(&mut seed);
            (format!("GS-HB-{i:04}"), SigningKey::from_seed(&seed))
        })
        .collect();
    let mut cmd = Command::new(hub_binary()?);
    cmd.args(["--listen", "127.0.0.1:0", "--db"]).arg(dir.path().join("hub.db"));
    for (id, key) in &keys {
        cmd.arg("--trust-terminal").arg(format!("{id}:{}", key.public_key()));
    }
    let mut child = cmd.env("RUST_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("hub stdout")?).read_line(&mut line)?;
    let addr = line.trim().strip_prefix("listening on ").context("hub did not announce")?.to_owned();

    // Prepared before the clock starts: the hub is measured, not the signing.
    let now = time::OffsetDateTime::now_utc();
    type Prepared = (String, Vec<(&'static str, String)>, Vec<u8>);
    let prepared: Vec<Prepared> = (0..requests)
        .map(|i| {
            let (id, key) = &keys[i % terminals];
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
