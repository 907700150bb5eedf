//! `kioskctl audit verify`: walks the outbox's hash-chained audit log and
//! names the first broken link. Also the alert lines `status` shows.
//!
//! Opens the outbox with `Outbox::inspect`: read only, never migrating and
//! never moving a damaged file, so it is safe beside a running kiosk.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use offline_cache::{Alert, Outbox};
use serde_json::json;

pub fn verify(data_dir: &Path, as_json: bool) -> Result<ExitCode> {
    let path = data_dir.join("outbox.db");
    if !path.exists() {
        bail!("no outbox at {} (is --data-dir right?)", path.display());
    }
    let outbox = Outbox::inspect(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let report = outbox.verify_audit().context("cannot read the audit log")?;
    if as_json {
        let broken = report.first_broken.as_ref().map(|b| json!({ "entry": b.seq, "problem": b.to_string() }));
        let v = json!({
            "outbox": path,
            "entries_verified": report.entries,
            "head": report.head,
            "intact": report.intact(),
            "first_broken": broken,
        });
        println!("{v:#}");
    } else {
        println!("audit log      {}", path.display());
        match &report.first_broken {
            None => {
                println!("entries        {}", report.entries);
                println!("head           {}", report.head);
                println!("chain          intact");
            }
            Some(b) => {
                println!("entries        {} verified before the break", report.entries);
                println!("chain          BROKEN at entry #{}: {b}", b.seq);
                println!("last good head {}", report.head);
            }
        }
    }
    Ok(if report.intact() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The outbox's current alerts, for `status`: text lines and JSON values.
pub fn alerts(outbox: &Outbox) -> Result<Vec<Alert>> {
    Ok(outbox.alerts(time::OffsetDateTime::now_utc())?)
}

pub fn alerts_json(alerts: &[Alert]) -> serde_json::Value {
    alerts.iter().map(|a| json!({ "code": a.code(), "message": a.to_string() })).collect()
}
