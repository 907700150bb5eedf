//! `hub-load`: the hub under the load of a province's terminals (issue 17).
//!
//! ```text
//! cargo build --release -p hub -p tests
//! target/release/hub-load [--terminals 20000] [--setups sqlite,pg,pg2] [--phases steady,boot,throughput]
//!     [--compress 30] [--steady-secs 60] [--boot-window-secs 60] [--requests 40000] [--connections 64] [--rate R]
//!     [--pg-statements]
//! ```
//!
//! N terminals with real Ed25519 device keys, registered in one bulk insert
//! (`TerminalStore::add_terminals`), against the release `hub` binary on
//! loopback in three setups: SQLite, one instance; PostgreSQL, one
//! instance; PostgreSQL, two instances behind nginx. Phases: `steady`
//! (every terminal's heartbeat every 300 s, time compressed: x30 sends them
//! every 10 s, and the CPU used is divided by 30 for the real rate), `boot`
//! (every terminal boots once within the window: heartbeat, config, catalog,
//! operators, case status), `throughput` (pre-signed heartbeats over 64
//! keep-alive connections, as fast as answered, or offered at `--rate`). Each prints req/s, p50/p99, answers by class
//! and the CPU the hub processes, PostgreSQL, nginx and this tool used (from /proc; per request for the hub and PostgreSQL),
//! with the load average (the machine is shared); with `--pg-statements`,
//! what PostgreSQL ran per request (pg_stat_statements). Exits non-zero if any
//! request was not answered 2xx or a hub died; it asserts no timing.

mod phases;
mod servers;
mod stats;
mod terminals;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};

use servers::HubProcess;
use testkit::{nginx::Nginx, pg::PgServer};
use stats::{Procs, Tally};
use terminals::Fleet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Setup {
    /// SQLite, one hub instance.
    Sqlite,
    /// PostgreSQL, one hub instance.
    Pg,
    /// PostgreSQL, two hub instances behind nginx.
    Pg2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    Steady,
    Boot,
    Throughput,
}

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 20_000)]
    terminals: usize,
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sqlite,pg,pg2")]
    setups: Vec<Setup>,
    #[arg(long, value_enum, value_delimiter = ',', default_value = "steady,boot,throughput")]
    phases: Vec<Phase>,
    /// A terminal's heartbeat period, in seconds.
    #[arg(long, default_value_t = 300.0)]
    period_secs: f64,
    /// Time compression of the steady phase.
    #[arg(long, default_value_t = 30.0)]
    compress: f64,
    #[arg(long, default_value_t = 60.0)]
    steady_secs: f64,
    /// Every terminal boots within this window.
    #[arg(long, default_value_t = 60.0)]
    boot_window_secs: f64,
    /// Heartbeats of the throughput phase.
    #[arg(long, default_value_t = 40_000)]
    requests: usize,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Throughput phase at this offered rate (heartbeats/s, open loop,
    /// latency from when each was due) instead of as fast as answered.
    #[arg(long)]
    rate: Option<f64>,
    /// The hub binary; by default the one beside this executable.
    #[arg(long)]
    hub_bin: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// PostgreSQL setups: count the statements the hubs run in each phase
    /// (pg_stat_statements) and print them per request.
    #[arg(long)]
    pg_statements: bool,
}

/// A setup running: servers, their CPU groups, the base URL terminals use.
struct Running {
    base: String,
    hubs: Vec<HubProcess>,
    hub_procs: Procs,
    db_procs: Procs,
    proxy_procs: Procs,
    _nginx: Option<Nginx>,
    pg: Option<PgServer>,
    _dir: tempfile::TempDir,
}

/// One printed result.
struct Row {
    setup: Setup,
    phase: Phase,
    secs: f64,
    tally: Tally,
    /// CPU share of the whole machine (%): hubs, PostgreSQL, nginx, and
    /// this load tool (it shares the cores with them).
    cpu: [f64; 4],
    load: String,
    extra: String,
}

fn start(setup: Setup, fleet: &Fleet, hub_bin: &std::path::Path, pg_statements: bool) -> Result<(Running, u64)> {
    let dir = tempfile::Builder::new().prefix("cunban-hub-load").tempdir()?;
    let pg = match setup {
        Setup::Sqlite => None,
        Setup::Pg | Setup::Pg2 => Some(PgServer::builder().statements(pg_statements).start()?),
    };
    let (db, blobs) = match &pg {
        None => (dir.path().join("hub.db").to_string_lossy().into_owned(), None),
        Some(pg) => {
            let url = pg.database("load")?;
            if pg_statements {
                pg.psql("load", "CREATE EXTENSION pg_stat_statements")?;
            }
            (url, Some(dir.path().join("blobs")))
        }
    };
    // Terminals and a signed catalog, straight into the store.
    let store = hub::open_store_blocking(std::path::Path::new(&db), blobs.as_deref()).context("opening the store")?;
    let took = fleet.register(store.as_ref())?;
    println!("{setup:?}: registered {} terminals in {:.2} s (one bulk insert)", fleet.terminals.len(), took.as_secs_f64());
    let catalog_key = model::auth::SigningKey::from_seed(&[7u8; 32]);
    let signed = model::auth::SignedCatalog::sign(&catalog_key, model::Catalog::starter_json().as_bytes())?;
    store.publish_catalog(&signed, None, time::OffsetDateTime::now_utc())?;
    drop(store);

    let mut args: Vec<std::ffi::OsString> = vec!["--db".into(), db.into()];
    if let Some(b) = blobs {
        args.extend(["--blob-dir".into(), b.into(), "--signing-key-file".into(), dir.path().join("signing.key").into()]);
    }
    let instances = if setup == Setup::Pg2 { 2 } else { 1 };
    if instances > 1 {
        args.extend(["--trusted-proxy".into(), "127.0.0.1".into()]);
    }
    let hubs: Vec<HubProcess> = (0..instances).map(|k| HubProcess::start(hub_bin, &args, &dir.path().join(format!("hub-{k}.log")))).collect::<Result<_>>()?;
    let nginx = if instances > 1 {
        let upstreams = hubs.iter().map(|h| h.addr.parse()).collect::<Result<Vec<std::net::SocketAddr>, _>>().context("a hub's address")?;
        Some(Nginx::start_in(dir.path(), &upstreams)?)
    } else {
        None
    };
    let base = nginx.as_ref().map_or_else(|| format!("http://{}", hubs[0].addr), Nginx::url);
    let running = Running {
        base,
        hub_procs: Procs { pids: hubs.iter().map(HubProcess::pid).collect(), trees: vec![] },
        db_procs: Procs { pids: vec![], trees: pg.as_ref().map(PgServer::pid).transpose()?.into_iter().collect() },
        proxy_procs: Procs { pids: nginx.as_ref().map(Nginx::pid).into_iter().collect(), trees: vec![] },
        hubs,
        _nginx: nginx,
        pg,
        _dir: dir,
    };
    Ok((running, signed.version))
}

/// Runs `work`, measuring the wall time and the CPU of each group.
fn measure<T>(rt: &tokio::runtime::Runtime, run: &Running, work: impl std::future::Future<Output = Result<T>>) -> Result<(T, f64, [f64; 4])> {
    let me = Procs { pids: vec![std::process::id()], trees: vec![] };
    let groups = [&run.hub_procs, &run.db_procs, &run.proxy_procs, &me];
    let before: Vec<u64> = groups.iter().map(|g| g.ticks()).collect();
    let t = std::time::Instant::now();
    let out = rt.block_on(work)?;
    let secs = t.elapsed().as_secs_f64();
    let tck = stats::clk_tck();
    let cpu = std::array::from_fn(|k| if groups[k].is_empty() { 0.0 } else { (groups[k].ticks() - before[k]) as f64 / tck / secs / stats::cores() * 100.0 });
    Ok((out, secs, cpu))
}

fn print_row(r: &mut Row) {
    let (p50, p99) = (r.tally.pct_ms(0.50), r.tally.pct_ms(0.99));
    // CPU time per request sent, from the shares: share x cores x wall time / requests.
    let per_req = |share: f64| share / 100.0 * stats::cores() * r.secs / r.tally.sent().max(1) as f64 * 1e6;
    println!(
        "{:<7} {:<10} {:>8.0} req/s  sent {:>7}  2xx {:>7}  non-2xx {:>3}  5xx {:>3}  no answer {:>3}  p50 {:>7.2} ms  p99 {:>8.2} ms  CPU of {} cores: hub {:>5.1}%  db {:>5.1}%  nginx {:>5.1}%  load tool {:>5.1}%  per request: hub {:.0} µs  db {:.0} µs  load avg {}{}",
        format!("{:?}", r.setup).to_lowercase(),
        format!("{:?}", r.phase).to_lowercase(),
        r.tally.sent() as f64 / r.secs,
        r.tally.sent(),
        r.tally.ok,
        r.tally.non_2xx,
        r.tally.server_err,
        r.tally.transport,
        p50,
        p99,
        stats::cores(),
        r.cpu[0],
        r.cpu[1],
        r.cpu[2],
        r.cpu[3],
        per_req(r.cpu[0]),
        per_req(r.cpu[1]),
        r.load,
        r.extra
    );
}

/// What PostgreSQL ran during a phase, per request sent: calls, rows and
/// the server's time, most called first.
fn print_statements(pg: &PgServer, requests: u64) -> Result<()> {
    let out = pg.psql(
        "load",
        "SELECT calls, rows, round(total_exec_time::numeric, 1), regexp_replace(left(query, 110), '\\s+', ' ', 'g')
         FROM pg_stat_statements JOIN pg_database d ON d.oid = dbid WHERE d.datname = 'load' AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 20",
    )?;
    let per = |n: f64| n / requests.max(1) as f64;
    let (mut calls, mut ms) = (0.0, 0.0);
    println!("        statements per request (pg_stat_statements; calls, rows, server ms):");
    for line in out.lines() {
        let f: Vec<&str> = line.splitn(4, '|').collect();
        let [c, r, t, q] = f.as_slice() else { continue };
        let (c, r, t): (f64, f64, f64) = (c.parse().unwrap_or(0.0), r.parse().unwrap_or(0.0), t.parse().unwrap_or(0.0));
        calls += c;
        ms += t;
        println!("          {:>6.2} calls {:>6.2} rows {:>7.3} ms  {q}", per(c), per(r), per(t));
    }
    println!("          {:>6.2} calls in all, {:.3} ms of server time per request", per(calls), per(ms));
    Ok(())
}

fn run_setup(rt: &tokio::runtime::Runtime, args: &Args, setup: Setup, fleet: &Arc<Fleet>, hub_bin: &std::path::Path) -> Result<Vec<Row>> {
    let (mut run, catalog_version) = start(setup, fleet, hub_bin, args.pg_statements)?;
    let mut rows = Vec::new();
    for phase in &args.phases {
        let counting = run.pg.as_ref().filter(|_| args.pg_statements);
        if let Some(pg) = counting {
            pg.psql("load", "SELECT pg_stat_statements_reset()")?;
        }
        let row = match phase {
            Phase::Steady => {
                let period = Duration::from_secs_f64(args.period_secs);
                let work = phases::steady(fleet.clone(), &run.base, period, args.compress, Duration::from_secs_f64(args.steady_secs), catalog_version);
                let (s, secs, cpu) = measure(rt, &run, work)?;
                let real: f64 = cpu[..3].iter().sum::<f64>() / args.compress;
                let extra = format!(
                    "\n        steady x{}: at the real rate ({} terminals every {} s) hub + db + nginx use {:.2}% of the machine (budget < 10%); last heartbeat {:.0} ms behind schedule",
                    args.compress,
                    fleet.terminals.len(),
                    args.period_secs,
                    real,
                    s.behind.as_secs_f64() * 1000.0
                );
                Row { setup, phase: *phase, secs, tally: s.tally, cpu, load: stats::load_avg(), extra }
            }
            Phase::Boot => {
                let work = phases::boot_storm(fleet.clone(), &run.base, Duration::from_secs_f64(args.boot_window_secs), catalog_version, args.seed);
                let (mut b, secs, cpu) = measure(rt, &run, work)?;
                let extra = format!(
                    "\n        boot storm: {} terminals within {} s, 5 requests each; a whole boot p50 {:.0} ms, p99 {:.0} ms (budget: no 5xx, request p99 < 1000 ms)",
                    fleet.terminals.len(),
                    args.boot_window_secs,
                    stats::pct_ms(&mut b.boots, 0.50),
                    stats::pct_ms(&mut b.boots, 0.99)
                );
                Row { setup, phase: *phase, secs, tally: b.tally, cpu, load: stats::load_avg(), extra }
            }
            Phase::Throughput => {
                // Signed before the clock and the CPU counters start.
                let prepared = phases::signed_heartbeats(fleet, args.requests, catalog_version);
                let work = phases::throughput(prepared, &run.base, args.connections, args.rate);
                let ((tally, sending), _, cpu) = measure(rt, &run, work)?;
                let offered = match args.rate {
                    Some(r) => format!("offered at {r:.0}/s (open loop, latency from when each was due)"),
                    None => "each connection sending as soon as answered (closed loop)".to_owned(),
                };
                let extra = format!("\n        heartbeats at {} connections, {offered} (budget >= 5000 req/s, p99 < 20 ms on one instance)", args.connections);
                Row { setup, phase: *phase, secs: sending.as_secs_f64(), tally, cpu, load: stats::load_avg(), extra }
            }
        };
        let mut row = row;
        print_row(&mut row);
        if let Some(pg) = counting {
            print_statements(pg, row.tally.sent())?;
        }
        rows.push(row);
        for (k, h) in run.hubs.iter_mut().enumerate() {
            if !h.alive() {
                bail!("{setup:?}: hub instance {k} died during {phase:?}");
            }
        }
    }
    Ok(rows)
}

fn main() -> Result<()> {
    offline_cache::install_crypto_provider();
    let args = Args::parse();
    let hub_bin = servers::hub_binary(args.hub_bin.clone())?;
    let t = std::time::Instant::now();
    let fleet = Arc::new(Fleet::new(args.terminals, args.seed));
    println!("{} device keys in {:.2} s; hub {}", args.terminals, t.elapsed().as_secs_f64(), hub_bin.display());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mut rows = Vec::new();
    for setup in &args.setups {
        rows.extend(run_setup(&rt, &args, *setup, &fleet, &hub_bin)?);
    }
    println!("\nsummary ({} terminals; load generator on the same machine):", args.terminals);
    for r in &mut rows {
        r.extra.clear();
        print_row(r);
    }
    let failed: u64 = rows.iter().map(|r| r.tally.failures()).sum();
    if failed > 0 {
        bail!("{failed} requests were not answered 2xx");
    }
    Ok(())
}
