//! `sync-faults`: every filing reaches the hub exactly once, byte-identical,
//! through a link that cuts, stalls and errs, while the terminal process is
//! killed and restarted.
//!
//! ```text
//! cargo run --release -p tests --bin sync-faults -- --submissions 500 --fault-rate 0.3
//! ```
//!
//! The parent runs the hub (with the platform key) and a fault-injecting
//! proxy on loopback, and starts a terminal child (this binary with
//! `--child`) that files the submissions into its outbox (with attachments
//! of mixed sizes up to 5 MB) while syncing through the proxy with backoff.
//! The parent SIGKILLs the child a few times at random moments and starts it
//! again; the child re-files from the start (replays are recognised) and
//! exits when everything is filed and acknowledged. Then the parent checks
//! the hub's database with the platform key against the filings rebuilt
//! from the seed. Last line:
//! `submitted=N at_hub=N lost=0 duplicated=0 corrupt=0`.
//!
//! `--province` (issue 17) puts the hub at province scale instead of one
//! in-process SQLite hub: PostgreSQL, Garage as S3 object storage, two hub
//! instances (processes of this binary, `--hub-child`) behind nginx, and
//! the first instance SIGKILLed and restarted every `--hub-kill-every-ms`
//! while the terminal syncs. See `tests::province`.
//!
//! `--netns` (root; `ip`, `tc`, and `nft` where the kernel lacks netem) runs
//! the terminal in its own network namespace behind a veth pair with
//! `--loss-percent` random packet loss each way and a `--rate-mbit` cap
//! (default 1 %, 50 Mbit/s); the proxy's faults still apply on top unless
//! `--fault-rate 0`. See `tests::netns`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use hub::{Hub, HubDb, HubOptions, NewTerminal};
use model::seal::PlatformSecretKey;
use offline_cache::{Backoff, DeviceIdentity, Outbox, OutboxConfig, SyncClient, SyncConfig};
use tests::netns::{LossyLink, HOST_ADDR};
use tests::sync_fixtures::{fault_proxy_on, filing, FaultPlan, Rng};

const TERMINAL: &str = "GS-FAULT-0001";

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 500)]
    submissions: u64,
    /// Share of requests that meet a fault (cut, stall, or 500/503/429).
    #[arg(long, default_value_t = 0.3)]
    fault_rate: f64,
    /// Times the terminal process is SIGKILLed and restarted.
    #[arg(long, default_value_t = 4)]
    kills: u32,
    #[arg(long, default_value_t = 20260101)]
    seed: u64,
    /// Largest attachment, bytes.
    #[arg(long, default_value_t = 5_000_000)]
    max_attachment: u64,
    /// Working directory (kept); a temporary one otherwise.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 1800)]
    timeout_secs: u64,
    /// Run the terminal in a network namespace behind a lossy, capped veth link.
    #[arg(long)]
    netns: bool,
    /// With --netns: packets dropped at random, each direction, percent.
    #[arg(long, default_value_t = 1.0)]
    loss_percent: f64,
    /// With --netns: the link's rate cap.
    #[arg(long, default_value_t = 50)]
    rate_mbit: u32,
    /// Two hub instances on PostgreSQL + S3 (Garage) behind nginx, one killed again and again.
    #[arg(long, conflicts_with = "netns")]
    province: bool,
    /// With --province: how often the first instance is SIGKILLed (and restarted).
    #[arg(long, default_value_t = 4000)]
    hub_kill_every_ms: u64,
    // ---- child modes ----
    #[arg(long, hide = true)]
    child: bool,
    #[arg(long, hide = true)]
    hub_child: bool,
    #[arg(long, hide = true)]
    hub_db: Option<String>,
    #[arg(long, hide = true)]
    hub_objects: Option<String>,
    #[arg(long, hide = true)]
    hub_port: Option<u16>,
    #[arg(long, hide = true)]
    hub_url: Option<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.child {
        return child(&args);
    }
    if args.hub_child {
        let (db, objects, port) = (args.hub_db.as_deref().context("--hub-db")?, args.hub_objects.as_deref().context("--hub-objects")?, args.hub_port.context("--hub-port")?);
        return tests::province::serve_hub_child(db, objects, &args.dir.clone().context("--dir")?, port);
    }
    let tmp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_owned()
        }
    };
    parent(&args, &dir)
}

fn outbox_config(platform: &model::seal::PlatformPublicKey) -> OutboxConfig {
    let mut c = OutboxConfig::new(platform.clone(), TERMINAL);
    // The run writes about half a gigabyte; the reserve is for real kiosks.
    c.disk_reserve_bytes = 0;
    c
}

/// The terminal: files everything (replays after a restart are cheap) and
/// syncs through the proxy until all is acknowledged.
fn child(args: &Args) -> Result<()> {
    let dir = args.dir.clone().context("--dir")?;
    let url = args.hub_url.clone().context("--hub-url")?;
    let platform = PlatformSecretKey::parse(&std::fs::read_to_string(dir.join("platform.key"))?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let outbox = Outbox::open(&dir.join("outbox.db"), outbox_config(&platform.public_key()))?;
    let (identity, _) = DeviceIdentity::load_or_create(&dir.join("device.key"), TERMINAL)?;
    let config = SyncConfig {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(4),
        request_timeout: Duration::from_secs(60),
        batch_size: 20,
        // --netns puts the terminal behind a veth pair: the hub is at a
        // private address there, with no TLS on this test rig.
        allow_plain_http: true,
        ..SyncConfig::default()
    };
    let client = SyncClient::with_config(&url, identity, config)?;

    let filer = {
        let outbox = outbox.clone();
        let (n, seed, max) = (args.submissions, args.seed, args.max_attachment);
        std::thread::spawn(move || -> Result<()> {
            for i in 0..n {
                let (sub, atts) = filing(seed, i, max);
                if outbox.entry(sub.id)?.is_none() {
                    outbox.enqueue(&sub, &atts)?;
                }
                println!("filed {i}");
            }
            Ok(())
        })
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        // Scaled down from the kiosk's 5 s .. 10 min so the run takes minutes.
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        loop {
            let report = client.sync_all(&outbox).await;
            if !report.acknowledged.is_empty() {
                println!("acked {}", report.acknowledged.len());
            }
            for (id, reason) in &report.quarantined {
                println!("quarantined {id} {reason}");
            }
            if let (Some(stop), true) = (&report.stopped, std::env::var_os("SYNC_FAULTS_VERBOSE").is_some()) {
                eprintln!("{:?} stop: {stop}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() % 100_000);
            }
            let unsent = outbox.counts()?.unsent();
            if filer.is_finished() && unsent == 0 {
                return Ok::<_, anyhow::Error>(());
            }
            let wait = backoff.after(&report).unwrap_or(Duration::from_millis(20));
            tokio::time::sleep(wait).await;
        }
    })?;
    match filer.join() {
        Ok(r) => r?,
        Err(_) => bail!("the filing thread panicked"),
    }
    println!("done");
    Ok(())
}

fn spawn_child(args: &Args, dir: &Path, url: &str, link: Option<&LossyLink>) -> Result<Child> {
    // A copy of this binary: a rebuild of it during a long run (another
    // cargo in the same target directory) must not break the restarts.
    let exe = dir.join("terminal-exe");
    if !exe.is_file() {
        std::fs::copy(std::env::current_exe()?, &exe).context("copying the terminal binary")?;
    }
    // In a namespace: `ip netns exec` execs the terminal in place, so the
    // pid is the terminal's and SIGKILL reaches it.
    let mut command = match link {
        Some(link) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &link.namespace]).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    command
        .arg("--child")
        .arg("--dir")
        .arg(dir)
        .arg("--hub-url")
        .arg(url)
        .args(["--submissions", &args.submissions.to_string(), "--seed", &args.seed.to_string()])
        .args(["--max-attachment", &args.max_attachment.to_string()])
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting the terminal process {}", exe.display()))
}

fn parent(args: &Args, dir: &Path) -> Result<()> {
    let started = Instant::now();
    let platform = offline_cache::generate_platform_key();
    std::fs::write(dir.join("platform.key"), platform.to_text().as_bytes())?;
    let (identity, _) = DeviceIdentity::load_or_create(&dir.join("device.key"), TERMINAL)?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let platform = Arc::new(platform);
    let link = if args.netns {
        let link = LossyLink::create(args.loss_percent, args.rate_mbit).context("--netns")?;
        eprintln!("terminal in namespace {} ({:?}: {} % loss each way, {} Mbit/s)", link.namespace, link.shaping, args.loss_percent, args.rate_mbit);
        Some(link)
    } else {
        None
    };
    let host: std::net::IpAddr = if link.is_some() { HOST_ADDR.into() } else { [127, 0, 0, 1].into() };
    let province = if args.province { Some(ProvinceRun::start(args, dir, &identity)?) } else { None };
    let (hub, proxy, counts, proxy_task) = rt.block_on(async {
        let (hub, upstream) = match &province {
            Some(p) => (None, std::net::SocketAddr::from(([127, 0, 0, 1], p.nginx.port))),
            None => {
                let hub = Hub::spawn_with(
                    (host, 0).into(),
                    &dir.join("hub.db"),
                    HubOptions { platform_key: Some(platform.clone()), ..HubOptions::default() },
                )
                .await?;
                hub.register_terminal(NewTerminal { id: TERMINAL.into(), public_key: identity.public_key(), village_code: None, label: None }).await?;
                let addr = hub.addr();
                (Some(hub), addr)
            }
        };
        let (proxy, counts, task) = fault_proxy_on((host, 0).into(), upstream, FaultPlan { rate: args.fault_rate, seed: args.seed }).await?;
        Ok::<_, anyhow::Error>((hub, proxy, counts, task))
    })?;
    let url = format!("http://{proxy}");
    let shown = hub.as_ref().map_or_else(|| "two instances on PostgreSQL + S3 behind nginx".to_owned(), |h| h.base_url());
    eprintln!("hub {shown} behind fault proxy {url} (fault rate {}), dir {}", args.fault_rate, dir.display());

    let mut rng = Rng::new(args.seed ^ 0x5EED);
    let mut kills_left = args.kills;
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let mut runs = 0;
    let mut quarantined_lines = Vec::new();
    let (mut acked, mut last_progress) = (0u64, Instant::now());
    loop {
        runs += 1;
        let mut child = spawn_child(args, dir, &url, link.as_ref())?;
        let stdout = child.stdout.take().context("child stdout")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill at a random moment while it works: the first while it files,
        // later ones while it syncs.
        let kill_at = (kills_left > 0).then(|| {
            let ms = if runs == 1 { rng.range(1_500, 9_000) } else { rng.range(5_000, 60_000) };
            Instant::now() + Duration::from_millis(ms)
        });
        let status = loop {
            while let Ok(line) = rx.try_recv() {
                if let Some(n) = line.strip_prefix("acked ").and_then(|n| n.parse::<u64>().ok()) {
                    acked += n;
                }
                if line.starts_with("quarantined") {
                    quarantined_lines.push(line);
                }
            }
            if last_progress.elapsed() > Duration::from_secs(60) {
                last_progress = Instant::now();
                eprintln!("{:.0} s: {acked} acknowledgements so far", started.elapsed().as_secs_f64());
            }
            if let Some(s) = child.try_wait()? {
                break Some(s);
            }
            if kill_at.is_some_and(|t| Instant::now() >= t) {
                child.kill()?; // SIGKILL
                child.wait()?;
                kills_left -= 1;
                eprintln!("run {runs}: terminal killed (SIGKILL) at {:.1} s", started.elapsed().as_secs_f64());
                break None;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("gave up after {} s", args.timeout_secs);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        match status {
            None => continue,
            Some(s) if s.success() => break,
            Some(s) => bail!("the terminal process failed: {s}"),
        }
    }
    let synced = started.elapsed();
    if let Some(dropped) = link.as_ref().and_then(LossyLink::dropped_packets) {
        eprintln!("lossy link: {dropped} packets dropped at random");
    }
    rt.block_on(async {
        proxy_task.abort();
        if let Some(hub) = hub {
            let _ = hub.shutdown().await;
        }
    });

    // Check the hub against the filings rebuilt from the seed.
    // The servers stay up (held in `province`) until the check is done.
    let mut province = province;
    let db = match province.as_mut() {
        Some(p) => {
            let (kills, db) = p.stop()?;
            eprintln!("hub instance killed {kills} times (SIGKILL, restarted each time)");
            db
        }
        None => HubDb::open(&dir.join("hub.db"))?,
    };
    let (mut at_hub, mut corrupt, mut lost) = (0u64, 0u64, 0u64);
    let mut expected = std::collections::HashSet::new();
    for i in 0..args.submissions {
        let (sub, atts) = filing(args.seed, i, args.max_attachment);
        expected.insert(sub.id);
        if db.submission_count(sub.id)? != 1 || db.case_for(sub.id)?.is_none() {
            lost += 1;
            continue;
        }
        at_hub += 1;
        let ok = match db.open_submission(sub.id, &platform) {
            Ok(Some(opened)) => {
                opened.submission == sub
                    && opened.attachments.len() == atts.len()
                    && opened.attachments.iter().zip(&atts).all(|((r, bytes), (er, ebytes))| r == er && bytes.as_slice() == ebytes.as_slice())
            }
            _ => false,
        };
        if !ok {
            corrupt += 1;
        }
    }
    // A filing stored twice would be under another id (the id is the
    // primary key and each case is unique per submission): count those.
    let duplicated = db.submission_ids()?.iter().filter(|id| !expected.contains(id)).count() as u64
        + db.case_count()?.saturating_sub(at_hub);
    let outbox = Outbox::inspect(&dir.join("outbox.db"))?;
    let counts_local = outbox.counts()?;
    let submitted = counts_local.queued + counts_local.sending + counts_local.acknowledged + counts_local.processed + counts_local.quarantined;
    eprintln!(
        "{runs} terminal runs, {} kills, {:.1} s; proxy: {} requests, {} cut, {} errors, {} stalls; outbox: {} acknowledged, {} quarantined",
        args.kills - kills_left,
        synced.as_secs_f64(),
        counts.requests.load(Ordering::Relaxed),
        counts.cuts.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed),
        counts.delays.load(Ordering::Relaxed),
        counts_local.acknowledged + counts_local.processed,
        counts_local.quarantined,
    );
    for q in &quarantined_lines {
        eprintln!("{q}");
    }
    println!("submitted={submitted} at_hub={at_hub} lost={lost} duplicated={duplicated} corrupt={corrupt}");
    if submitted != args.submissions || at_hub != args.submissions || lost + duplicated + corrupt > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// `--province`: the servers, the steady instance, and the thread that
/// kills and restarts the other one.
struct ProvinceRun {
    _pg: tests::province::Postgres,
    garage: tests::province::Garage,
    nginx: tests::province::Nginx,
    db_url: String,
    steady: Child,
    stop: Arc<std::sync::atomic::AtomicBool>,
    killer: Option<std::thread::JoinHandle<Result<u32>>>,
}

impl ProvinceRun {
    fn start(args: &Args, dir: &Path, identity: &DeviceIdentity) -> Result<ProvinceRun> {
        use tests::province::{free_port, spawn_hub_child, Garage, Nginx, Postgres};
        let pg = Postgres::start(&dir.join("pg"))?;
        let garage = Garage::start(&dir.join("garage"))?;
        let db_url = pg.url();
        // Created once here: both instances then read the same key.
        hub::signing::load_or_create(&dir.join("signing.key"))?;
        let store = hub::open_store_blocking(Path::new(&db_url), Some(Path::new(&garage.objects)))?;
        let t = NewTerminal { id: TERMINAL.into(), public_key: identity.public_key(), village_code: None, label: None };
        store.add_terminal(&t, time::OffsetDateTime::now_utc())?;
        drop(store);
        let exe = std::env::current_exe()?;
        let ports = [free_port()?, free_port()?];
        let steady = spawn_hub_child(&exe, &db_url, &garage.objects, dir, ports[1])?;
        let mut victim = spawn_hub_child(&exe, &db_url, &garage.objects, dir, ports[0])?;
        let nginx = Nginx::start(&dir.join("nginx"), &ports)?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (stop2, every, objects, db2, dir2) = (stop.clone(), Duration::from_millis(args.hub_kill_every_ms), garage.objects.clone(), db_url.clone(), dir.to_owned());
        let killer = std::thread::spawn(move || -> Result<u32> {
            let mut kills = 0;
            loop {
                let t = Instant::now();
                while t.elapsed() < every {
                    if stop2.load(Ordering::Relaxed) {
                        let _ = victim.kill();
                        let _ = victim.wait();
                        return Ok(kills);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                victim.kill()?; // SIGKILL, mid-request as likely as not
                victim.wait()?;
                kills += 1;
                std::thread::sleep(Duration::from_millis(200));
                victim = spawn_hub_child(&exe, &db2, &objects, &dir2, ports[0])?;
            }
        });
        eprintln!("province: PostgreSQL {db_url}, objects in Garage, two hub instances behind nginx on port {}", nginx.port);
        Ok(ProvinceRun { _pg: pg, garage, nginx, db_url, steady, stop, killer: Some(killer) })
    }

    /// Stops the instances; how many times one was killed, and the hub's data to check.
    fn stop(&mut self) -> Result<(u32, HubDb)> {
        self.stop.store(true, Ordering::Relaxed);
        let kills = match self.killer.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r?,
            Some(Err(_)) => bail!("the thread killing hub instances panicked"),
            None => 0,
        };
        let _ = self.steady.kill();
        let _ = self.steady.wait();
        let db = HubDb::open_any(Path::new(&self.db_url), Some(Path::new(&self.garage.objects)))?;
        Ok((kills, db))
    }
}
