//! `kioskctl export`: the sealed queue to removable media (issue 7).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use offline_cache::{write_export_file, DeviceIdentity, Outbox};
use serde_json::json;

pub fn run(data_dir: &Path, to: &Path, as_json: bool) -> Result<ExitCode> {
    let path = data_dir.join("outbox.db");
    if !path.exists() {
        bail!("no outbox at {} (is --data-dir right?)", path.display());
    }
    let outbox = Outbox::inspect(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let Some(terminal_id) = outbox.recorded_terminal_id()? else {
        bail!("{} does not record its terminal id yet: start the kiosk once", path.display());
    };
    let key_path = data_dir.join("device.key");
    let identity = DeviceIdentity::load(&key_path, &terminal_id).with_context(|| format!("cannot load {}", key_path.display()))?;
    let (file, summary) = outbox.export_queue(&identity, time::OffsetDateTime::now_utc())?;
    let written = write_export_file(to, &file).with_context(|| format!("cannot write {}", to.display()))?;
    if as_json {
        let v = json!({
            "file": to,
            "terminal_id": summary.terminal_id,
            "records": summary.records,
            "attachments": summary.attachments,
            "bytes_written": written,
            "damaged_left_out": summary.damaged.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        });
        println!("{v:#}");
    } else {
        println!(
            "{} record(s) with {} attachment(s) from terminal {} written to {} ({written} bytes, sealed, signed with key {})",
            summary.records,
            summary.attachments,
            summary.terminal_id,
            to.display(),
            identity.public_key().fingerprint()
        );
        for id in &summary.damaged {
            println!("LEFT OUT      {id}: its stored copy is damaged (see kioskctl status)");
        }
        println!("import it on the hub with: hub import {}", to.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default());
    }
    // Damaged records need a technician: say so in the exit code.
    Ok(if summary.damaged.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
