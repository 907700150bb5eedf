//! kioskctl: what a technician runs on a terminal. Exit code 0 = fine,
//! 1 = the check found a problem, 2 = bad usage or unreadable input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use drivers::idcard::frame::Decoder;
use drivers::idcard::status::SamError;
use drivers::idcard::text::{split_read_data, CardText};
use offline_cache::Outbox;
use serde_json::json;

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
    /// ID card reader tools.
    Idcard {
        #[command(subcommand)]
        command: IdcardCommand,
    },
}

#[derive(Subcommand)]
enum IdcardCommand {
    /// Decode one SAM response frame (hex, spaces allowed), personal data masked.
    Decode {
        #[arg(long)]
        hex: String,
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
        Command::Idcard { command: IdcardCommand::Decode { hex } } => decode(hex, cli.json),
    }
}

fn status(data_dir: &std::path::Path, as_json: bool) -> Result<ExitCode> {
    let path = data_dir.join("outbox.db");
    if !path.exists() {
        bail!("no outbox at {} (is --data-dir right?)", path.display());
    }
    let outbox = Outbox::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let counts = outbox.counts()?;
    let settings = outbox.settings()?;
    let healthy = settings.journal_mode == "wal" && settings.synchronous == 2;
    if as_json {
        let v = json!({
            "outbox": path,
            "queued": counts.queued,
            "sending": counts.sending,
            "acknowledged": counts.acknowledged,
            "journal_mode": settings.journal_mode,
            "synchronous_full": settings.synchronous == 2,
            "schema_version": settings.schema_version,
            "healthy": healthy,
        });
        println!("{v:#}");
    } else {
        println!("outbox         {}", path.display());
        println!("waiting        {} queued, {} sending", counts.queued, counts.sending);
        println!("acknowledged   {}", counts.acknowledged);
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

fn decode(hex_text: &str, as_json: bool) -> Result<ExitCode> {
    let cleaned: String = hex_text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = hex::decode(&cleaned).context("--hex is not hexadecimal")?;
    let mut decoder = Decoder::new();
    decoder.push(&bytes);
    let frame = match decoder.next_frame() {
        Some(Ok(f)) => f,
        Some(Err(e)) => bail!("not a valid SAM frame: {e}"),
        None => bail!("no complete SAM frame (preamble AA AA AA 96 69, length, body, checksum) in the input"),
    };
    let resp = frame.into_response().context("not a SAM response")?;
    let status = match SamError::from_status(resp.sw1, resp.sw2, resp.sw3) {
        None => "success".to_owned(),
        Some(e) => e.to_string(),
    };
    let mut out = json!({
        "status": format!("{:02X} {:02X} {:02X}", resp.sw1, resp.sw2, resp.sw3),
        "meaning": status,
        "data_len": resp.data.len(),
    });
    // A text+photo answer: show the card, masked.
    if let Ok((text, photo)) = split_read_data(&resp.data) {
        match CardText::decode(text).and_then(|t| t.to_identity(photo.to_vec())) {
            Ok(id) => {
                out["card"] = json!({
                    "name": id.masked_name(),
                    "id_number": id.id_number.masked(),
                    "card_type": format!("{:?}", id.card_type),
                    "gender": id.gender.label_zh(),
                    "valid_until": format!("{:?}", id.valid_until),
                    "county_known": id.id_number.county_known(),
                    "photo_bytes": id.photo_wlt.len(),
                });
            }
            Err(e) => out["card_error"] = json!(e.to_string()),
        }
    }
    if as_json {
        println!("{out:#}");
    } else {
        println!("status   {} ({})", out["status"].as_str().unwrap_or(""), status);
        println!("data     {} bytes", resp.data.len());
        if let Some(card) = out.get("card") {
            for (k, v) in card.as_object().into_iter().flatten() {
                println!("{k:<12} {}", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
            }
        }
        if let Some(e) = out.get("card_error") {
            println!("card     unusable: {}", e.as_str().unwrap_or(""));
        }
    }
    Ok(ExitCode::SUCCESS)
}
