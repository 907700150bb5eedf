//! kioskctl: what a technician runs on a terminal. Exit code 0 = fine,
//! 1 = the check found a problem, 2 = bad usage or unreadable input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use offline_cache::Outbox;
use serde_json::json;

mod audit;
mod export;
mod idcard;
mod selftest;

#[derive(Parser)]
#[command(name = "kioskctl", version, about = "Technician tools for a Cunban terminal")]
struct Cli {
    /// Print JSON for scripts instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The outbox: how many submissions wait, and the storage settings in force.
    Status {
        /// The terminal's data directory (holds outbox.db).
        #[arg(long, default_value = "/var/lib/cunban")]
        data_dir: PathBuf,
    },
    /// The outbox's append-only audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// ID card reader tools.
    Idcard {
        #[command(subcommand)]
        command: IdcardCommand,
    },
    /// Write the sealed queue (everything not yet acknowledged) to removable
    /// media for `hub import`: signed with the device key, encrypted as stored.
    Export {
        /// The terminal's data directory (holds outbox.db and device.key).
        #[arg(long, default_value = "/var/lib/cunban")]
        data_dir: PathBuf,
        /// The file to write (never overwritten), e.g. /media/usb/GS-VAN-01.cunban-export
        #[arg(long)]
        to: PathBuf,
    },
    /// Self-test of every configured device; exit 1 if a required one is absent.
    Selftest {
        /// The terminal configuration (its [devices] table is used).
        #[arg(long, default_value = "/etc/cunban/kiosk.toml")]
        config: PathBuf,
        /// Test against simulators and test backends instead of the configured devices.
        #[arg(long)]
        simulated: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit 1 and name the first broken link if it was tampered with.
    Verify {
        /// The terminal's data directory (holds outbox.db).
        #[arg(long, default_value = "/var/lib/cunban")]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum IdcardCommand {
    /// Decode one SAM response frame (hex, spaces allowed) to JSON, personal data masked.
    Decode {
        #[arg(long)]
        hex: String,
        /// Show personal data unmasked (technicians only, never in tickets).
        #[arg(long)]
        reveal: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kioskctl: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Status { data_dir } => status(data_dir, cli.json),
        Command::Audit { command: AuditCommand::Verify { data_dir } } => audit::verify(data_dir, cli.json),
        // JSON either way: `--json` is accepted for symmetry.
        Command::Idcard { command: IdcardCommand::Decode { hex, reveal } } => idcard::decode(hex, *reveal),
        Command::Selftest { config, simulated } => selftest::run(config, *simulated, cli.json),
        Command::Export { data_dir, to } => export::run(data_dir, to, cli.json),
    }
}

fn status(data_dir: &std::path::Path, as_json: bool) -> Result<ExitCode> {
    let path = data_dir.join("outbox.db");
    if !path.exists() {
        bail!("no outbox at {} (is --data-dir right?)", path.display());
    }
    let outbox = Outbox::inspect(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let counts = outbox.counts()?;
    let settings = outbox.settings()?;
    let alerts = audit::alerts(&outbox)?;
    let healthy = settings.journal_mode == "wal" && settings.synchronous == 2 && alerts.is_empty();
    if as_json {
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
        });
        println!("{v:#}");
    } else {
        println!("outbox         {}", path.display());
        println!("waiting        {} queued, {} sending", counts.queued, counts.sending);
        println!("acknowledged   {}", counts.acknowledged);
        println!("quarantined    {}", counts.quarantined);
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
