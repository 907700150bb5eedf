//! The fleet page at province scale (issue 17): N terminals (default
//! 20,000; a third never heard from), then the time to build one page of
//! `/fleet` through `TerminalStore::fleet_page` (first page, a county, the
//! last page) against the baseline measured in the same run: what the page
//! did before paging (read every terminal, render them all).
//!
//! cargo run --release -p hub --example fleet_at_scale -- [--terminals 20000] [--postgres URL --blob-dir DIR]

use std::time::{Duration, Instant};

use hub::{FleetQuery, Store};
use model::protocol::{Heartbeat, QueueSnapshot};
use model::VillageCode;
use time::OffsetDateTime;

const VILLAGES: [&str; 4] = ["622926100201", "622926100202", "622926101202", "620102001001"];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_it(runs: usize, mut f: impl FnMut()) -> Duration {
    median((0..runs).map(|_| {
        let t = Instant::now();
        f();
        t.elapsed()
    }).collect())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let n: usize = arg("--terminals").map(|s| s.parse()).transpose()?.unwrap_or(20_000);
    let dir = tempfile::tempdir()?;
    let (store, backend): (std::sync::Arc<dyn Store>, &str) = match arg("--postgres") {
        Some(url) => {
            let blobs = arg("--blob-dir").map(std::path::PathBuf::from).unwrap_or_else(|| dir.path().join("blobs"));
            (hub::open_store_blocking(std::path::Path::new(&url), Some(&blobs))?, "PostgreSQL")
        }
        None => (hub::open_store_blocking(&dir.path().join("hub.db"), None)?, "SQLite"),
    };
    let now = OffsetDateTime::now_utc();
    let t = Instant::now();
    let villages = VILLAGES.iter().map(|v| VillageCode::parse(v)).collect::<Result<Vec<_>, _>>()?;
    let terminals = hub::simulated::simulated_terminals(n, 1, "GS-", &villages);
    hub::simulated::register_simulated(store.as_ref(), &terminals, None, now)?;
    for (i, terminal) in terminals.iter().enumerate() {
        let id = &terminal.id;
        if i % 3 != 0 {
            let hb = Heartbeat {
                sent_at: now,
                app_version: "kiosk/0.1.0".into(),
                catalog_version: Some(1),
                config_version: Some(0),
                queue: QueueSnapshot { unsent: (i % 5) as u64, quarantined: 0, acknowledged: 3, oldest_unsent_secs: Some(60), evaluations_unsent: 0 },
                free_disk_bytes: Some(10 << 30),
                devices: vec![],
                alerts: vec![],
                clock_offset_secs: 0,
                audit: None,
                update: None,
            };
            store.record_heartbeat(id, &hb, now)?;
        }
    }
    store.terminals()?; // heartbeats written behind have landed
    println!("{backend}: {n} terminals registered in {:.1} s", t.elapsed().as_secs_f64());

    let stale_after = Duration::from_secs(1800);
    let q = FleetQuery { place: None, stale_before: now - time::Duration::minutes(30), offset: 0, limit: hub::fleet::PAGE_SIZE };
    let diagnostics = store.diagnostics_requests()?;
    let page = |q: &FleetQuery| {
        let p = store.fleet_page(q).expect("page");
        let paging = hub::fleet::Paging { page: 1, place: q.place.as_deref(), total: p.total, broken: p.broken, stale: p.stale };
        let html = hub::fleet::render_page(&p, &paging, &diagnostics, now, stale_after);
        assert!(html.len() > 1000);
    };
    let runs = 15;
    let first = time_it(runs, || page(&q));
    let county = time_it(runs, || page(&FleetQuery { place: Some("620102".into()), ..q.clone() }));
    let last = time_it(runs, || page(&FleetQuery { offset: (n as u64 / hub::fleet::PAGE_SIZE) * hub::fleet::PAGE_SIZE, ..q.clone() }));
    let baseline = time_it(5, || {
        let all = store.terminals_read_only().expect("terminals");
        let html = hub::fleet::render_with(&all, &diagnostics, now, stale_after);
        assert!(html.len() > 1000);
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("{backend}, {n} terminals, median of {runs}: first page {:.1} ms, county 620102 {:.1} ms, last page {:.1} ms", ms(first), ms(county), ms(last));
    println!("{backend}: baseline (every terminal read and rendered, as before paging) {:.1} ms; first page / baseline = {:.3}", ms(baseline), ms(first) / ms(baseline));
    Ok(())
}
