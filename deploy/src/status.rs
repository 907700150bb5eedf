//! `kioskctl status`: who this terminal is, what runs, what waits, what is
//! attached, when it last synced, and how much disk is left. Read only and
//! safe beside a running kiosk.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use offline_cache::{EnrolledTerminal, Outbox};
use serde_json::{json, Value};

use crate::audit;

fn stamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::macros::offset!(+8));
    format!("{:04}-{:02}-{:02} {:02}:{:02} CST", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// The device paths kiosk.toml names, and whether they are there now.
fn devices(config: &Path) -> Vec<(String, String, bool)> {
    let Ok(text) = std::fs::read_to_string(config) else { return Vec::new() };
    let Ok(table) = toml::from_str::<toml::Table>(&text) else { return Vec::new() };
    let mut out = Vec::new();
    if let Some(devs) = table.get("devices").and_then(|d| d.as_table()) {
        for (name, dev) in devs {
            let kind = dev.get("kind").and_then(|k| k.as_str()).unwrap_or("?").to_owned();
            match dev.get("path").and_then(|p| p.as_str()) {
                Some(p) => out.push((name.clone(), format!("{kind} {p}"), Path::new(p).exists())),
                // A simulator needs nothing attached.
                None => out.push((name.clone(), kind, true)),
            }
        }
    }
    out
}

/// The installed package's version, if dpkg knows it.
fn package_version() -> Option<String> {
    let out = std::process::Command::new("dpkg-query").args(["-W", "-f=${Version}", "cunban-kiosk"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|v| !v.is_empty())
}

fn disk(dir: &Path) -> Option<(u64, u64)> {
    let free = offline_cache::free_bytes(dir).ok()?;
    let st = total_bytes(dir)?;
    Some((free, st))
}

fn total_bytes(dir: &Path) -> Option<u64> {
    // `df` has the total; statvfs through offline-cache gives the free part.
    let out = std::process::Command::new("df").args(["--output=size", "-B1"]).arg(dir).output().ok()?;
    String::from_utf8_lossy(&out.stdout).lines().nth(1)?.trim().parse().ok()
}

pub fn run(data_dir: &Path, config: &Path, as_json: bool) -> Result<ExitCode> {
    let path = data_dir.join("outbox.db");
    if !path.exists() {
        bail!("no outbox at {} (is --data-dir right?)", path.display());
    }
    let outbox = Outbox::inspect(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let counts = outbox.counts()?;
    let settings = outbox.settings()?;
    let alerts = audit::alerts(&outbox)?;
    let healthy = settings.journal_mode == "wal" && settings.synchronous == 2 && alerts.is_empty();
    let enrolled = EnrolledTerminal::load(data_dir).unwrap_or_else(|e| {
        eprintln!("kioskctl: {e}");
        None
    });
    let last_ack = outbox.last_acknowledged_at()?;
    let oldest_unsent = outbox.oldest_unsent_at()?;
    let catalog_version = outbox.catalog_version()?;
    let config_version = outbox.terminal_config()?.map(|c| c.version);
    let devs = devices(config);
    let disk = disk(data_dir);
    let package = package_version();

    if as_json {
        let identity = match &enrolled {
            Some(e) => json!({
                "enrolled": true, "terminal_id": e.enrollment.terminal_id, "serial": e.serial,
                "key_fingerprint": e.public_key_fingerprint, "village_code": e.enrollment.village_code,
                "village": model::VillageCode::parse(&e.enrollment.village_code).ok().and_then(|v| v.name().map(str::to_owned)),
                "profile": e.enrollment.profile, "hub": e.hub_url, "enrolled_at": e.enrolled_at.unix_timestamp(),
            }),
            None => json!({ "enrolled": false }),
        };
        let v = json!({
            "outbox": path,
            "queued": counts.queued,
            "sending": counts.sending,
            "acknowledged": counts.acknowledged,
            "quarantined": counts.quarantined,
            "journal_mode": settings.journal_mode,
            "synchronous_full": settings.synchronous == 2,
            "schema_version": settings.schema_version,
            "alerts": audit::alerts_json(&alerts),
            "healthy": healthy,
            "identity": identity,
            "versions": { "kioskctl": env!("CARGO_PKG_VERSION"), "package": package, "catalog": catalog_version, "config": config_version },
            "devices": devs.iter().map(|(n, what, present)| json!({ "name": n, "device": what, "present": present })).collect::<Value>(),
            "last_sync": last_ack.map(|t| t.unix_timestamp()),
            "oldest_unsent": oldest_unsent.map(|t| t.unix_timestamp()),
            "disk": disk.map(|(free, total)| json!({ "free_bytes": free, "total_bytes": total })),
        });
        println!("{v:#}");
    } else {
        match &enrolled {
            Some(e) => {
                let name = model::VillageCode::parse(&e.enrollment.village_code).ok().and_then(|v| v.name().map(str::to_owned)).unwrap_or_default();
                println!("terminal       {} ({}), serial {}, key {}", e.enrollment.terminal_id, e.enrollment.profile.as_str(), e.serial, e.public_key_fingerprint);
                println!("village        {} {}", e.enrollment.village_code, name);
                println!("hub            {} (enrolled {})", e.hub_url, stamp(e.enrolled_at));
            }
            None => println!("terminal       not enrolled (kioskctl enroll)"),
        }
        println!(
            "versions       kioskctl {}, package {}, catalog {}, config {}",
            env!("CARGO_PKG_VERSION"),
            package.as_deref().unwrap_or("not installed"),
            catalog_version.map_or("built-in".into(), |v| v.to_string()),
            config_version.map_or("none pulled".into(), |v| v.to_string())
        );
        println!("outbox         {}", path.display());
        println!("waiting        {} queued, {} sending", counts.queued, counts.sending);
        println!("acknowledged   {}", counts.acknowledged);
        println!("quarantined    {}", counts.quarantined);
        println!("last sync      {}", last_ack.map_or("never".into(), stamp));
        if let Some(t) = oldest_unsent {
            println!("oldest unsent  {}", stamp(t));
        }
        for (name, what, present) in &devs {
            println!("device         {name:<16} {what:<32} {}", if *present { "present" } else { "ABSENT" });
        }
        if let Some((free, total)) = disk {
            println!("disk           {} MiB free of {} MiB", free >> 20, total >> 20);
        }
        for a in &alerts {
            println!("ALERT          {a}");
        }
        println!(
            "storage        journal={} synchronous={} schema=v{}{}",
            settings.journal_mode,
            if settings.synchronous == 2 { "FULL" } else { "NOT FULL" },
            settings.schema_version,
            if healthy { "" } else { "  <- not safe for filings" }
        );
    }
    Ok(if healthy { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
