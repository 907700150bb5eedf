//! `kioskctl platform-key show|confirm`: the platform key the outbox seals
//! to is pinned (offline-cache `pinning`). When the kiosk was started with a
//! different one, new filings are refused until a technician confirms the
//! new key by typing its fingerprint as the province published it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use offline_cache::Outbox;
use serde_json::json;

fn open(data_dir: &Path) -> Result<Outbox> {
    let path = data_dir.join("outbox.db");
    if !path.exists() {
        bail!("no outbox at {} (is --data-dir right?)", path.display());
    }
    Outbox::inspect(&path).with_context(|| format!("cannot open {}", path.display()))
}

/// Prints the pinned and configured keys; exit 1 when they differ.
pub fn show(data_dir: &Path, as_json: bool) -> Result<ExitCode> {
    let state = open(data_dir)?.platform_key_state()?;
    if as_json {
        println!("{:#}", json!({ "pinned": state.pinned, "configured": state.configured, "changed": state.changed() }));
    } else {
        println!("pinned:     {}", state.pinned.as_deref().unwrap_or("(none yet)"));
        println!("configured: {}", state.configured.as_deref().unwrap_or("(the kiosk has not started yet)"));
        if state.changed() {
            println!("CHANGED: new filings are refused. If the province announced the configured key, run:");
            println!("  kioskctl platform-key confirm FINGERPRINT   (typed from the announcement, not copied from here)");
        }
    }
    Ok(if state.changed() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Pins the configured key if `fingerprint` is its fingerprint.
pub fn confirm(data_dir: &Path, fingerprint: &str, as_json: bool) -> Result<ExitCode> {
    let state = open(data_dir)?.confirm_platform_key(fingerprint)?;
    if as_json {
        println!("{:#}", json!({ "pinned": state.pinned, "configured": state.configured, "changed": false }));
    } else {
        println!("platform key {} confirmed: filings are sealed to it from now on", state.pinned.as_deref().unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}
