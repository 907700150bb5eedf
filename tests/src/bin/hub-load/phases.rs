//! The three loads: steady heartbeats (time compressed), a boot storm, and
//! heartbeats at full speed over a fixed number of keep-alive connections.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::Method;
use tokio::sync::Semaphore;

use crate::stats::Tally;
use crate::terminals::{heartbeat_body, send, Fleet};

/// Requests in flight at most from the load generator (a terminal waiting
/// here has not sent yet; its wait counts in the boot time, not the request's).
const MAX_IN_FLIGHT: usize = 1024;

/// A client that opens a fresh connection per request: terminals 300 s
/// apart keep no connection open to the hub.
fn fresh_connections() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(30)).build()?)
}

/// What a steady run reached.
pub struct Steady {
    pub tally: Tally,
    /// How far behind its schedule the last heartbeat went out.
    pub behind: Duration,
}

/// Every terminal sends a heartbeat every `period / compress`, spread
/// evenly, for `duration`.
pub async fn steady(fleet: Arc<Fleet>, base: &str, period: Duration, compress: f64, duration: Duration, catalog_version: u64) -> Result<Steady> {
    let http = fresh_connections()?;
    let n = fleet.terminals.len();
    let gap = period.div_f64(compress).div_f64(n as f64);
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    let mut behind = Duration::ZERO;
    let url = format!("{base}/v1/heartbeat");
    for k in 0.. {
        let due = gap.mul_f64(k as f64);
        if due >= duration {
            break;
        }
        tokio::time::sleep_until(start + due).await;
        let permit = slots.clone().acquire_owned().await?;
        behind = behind.max(start.elapsed().saturating_sub(due));
        let (fleet, http, url) = (fleet.clone(), http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let i = k % n;
            let body = heartbeat_body(i, catalog_version);
            let headers = fleet.sign(i, "POST", "/v1/heartbeat", &body);
            let r = send(&http, url, Method::POST, headers, body).await;
            drop(permit);
            r
        }));
    }
    let mut tally = Tally::default();
    for t in tasks {
        let (status, took) = t.await?;
        tally.record(status, took);
    }
    Ok(Steady { tally, behind })
}

/// What a boot storm reached.
pub struct Boot {
    /// Every request of every boot.
    pub tally: Tally,
    /// From a terminal's start to its last answer.
    pub boots: Vec<Duration>,
}

/// Every terminal starts once, at a random moment within `window`, and
/// does what a booting kiosk does, one request after another: a
/// heartbeat, its signed config, the catalog since its version (one in a
/// hundred has none and takes the whole signed catalog), its operator list,
/// and the status of its recent filings.
pub async fn boot_storm(fleet: Arc<Fleet>, base: &str, window: Duration, catalog_version: u64, seed: u64) -> Result<Boot> {
    let http = fresh_connections()?;
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut rng = tests::sync_fixtures::Rng::new(seed);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..fleet.terminals.len() {
        let at = window.mul_f64(rng.range(0, 1_000_000) as f64 / 1e6);
        let (fleet, http, base, slots) = (fleet.clone(), http.clone(), base.to_owned(), slots.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start + at).await;
            let began = Instant::now();
            let mut tally = Tally::default();
            let since = if i % 100 == 99 { 0 } else { catalog_version };
            let ids: Vec<String> = (0..3).map(|_| format!("\"{}\"", uuid::Uuid::now_v7())).collect();
            let steps: [(Method, String, Vec<u8>, bool); 5] = [
                (Method::POST, "/v1/heartbeat".into(), heartbeat_body(i, catalog_version), true),
                (Method::GET, "/v1/terminal/config".into(), Vec::new(), true),
                (Method::GET, format!("/v1/catalog?since={since}&deltas=1"), Vec::new(), false),
                (Method::GET, "/v1/operators".into(), Vec::new(), true),
                (Method::POST, "/v1/case-status".into(), format!("{{\"submission_ids\":[{}]}}", ids.join(",")).into_bytes(), true),
            ];
            for (method, path, body, signed) in steps {
                let Ok(permit) = slots.acquire().await else { break };
                let headers = if signed { fleet.sign(i, method.as_str(), &path, &body) } else { Vec::new() };
                let (status, took) = send(&http, format!("{base}{path}"), method, headers, body).await;
                drop(permit);
                tally.record(status, took);
            }
            (tally, began.elapsed())
        }));
    }
    let mut out = Boot { tally: Tally::default(), boots: Vec::new() };
    for t in tasks {
        let (tally, took) = t.await?;
        out.tally.merge(tally);
        out.boots.push(took);
    }
    Ok(out)
}

/// A signed request's headers and body.
pub type Prepared = (Vec<(&'static str, String)>, Vec<u8>);

/// `requests` heartbeats, signed beforehand (the hub is measured, not the
/// signing): terminal `k % n` sends the `k`th.
pub fn signed_heartbeats(fleet: &Fleet, requests: usize, catalog_version: u64) -> Arc<Vec<Prepared>> {
    let n = fleet.terminals.len();
    Arc::new(
        (0..requests)
            .map(|k| {
                let body = heartbeat_body(k % n, catalog_version);
                (fleet.sign(k % n, "POST", "/v1/heartbeat", &body), body)
            })
            .collect(),
    )
}

/// `prepared` heartbeats sent as fast as `connections` keep-alive connections allow.
/// Sends the signed heartbeats over `connections` keep-alive connections.
/// `rate` None: each connection sends its next one as soon as it is
/// answered (closed loop: the most the hub makes, and p99 at saturation).
/// `rate` Some(r): heartbeat k is due at k / r s (open loop, the offered
/// rate a fleet makes), and its latency counts from when it was due, so a
/// hub that falls behind shows it (no coordinated omission).
pub async fn throughput(prepared: Arc<Vec<Prepared>>, base: &str, connections: usize, rate: Option<f64>) -> Result<(Tally, Duration)> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(connections).timeout(Duration::from_secs(30)).build()?;
    let url = format!("{base}/v1/heartbeat");
    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (http, prepared, next, url) = (http.clone(), prepared.clone(), next.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some((headers, body)) = prepared.get(k) else { break };
                let due = rate.map(|r| t + Duration::from_secs_f64(k as f64 / r));
                if let Some(due) = due {
                    tokio::time::sleep_until(due.into()).await;
                }
                let (status, took) = send(&http, url.clone(), Method::POST, headers.clone(), body.clone()).await;
                tally.record(status, due.map_or(took, |due| due.elapsed()));
            }
            tally
        }));
    }
    let mut tally = Tally::default();
    for w in workers {
        tally.merge(w.await?);
    }
    Ok((tally, t.elapsed()))
}
