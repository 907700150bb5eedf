//! kioskctl: what a technician runs on a terminal. Exit code 0 = fine,
//! 1 = the check found a problem, 2 = bad usage or unreadable input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod audit;
mod enroll;
mod export;
mod idcard;
mod kiosk_toml;
mod logs;
mod platform_key;
mod selftest;
mod status;
mod update_cmd;
mod voice_cmd;

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
        /// The kiosk configuration (its devices are listed).
        #[arg(long, default_value = "/etc/cunban/kiosk.toml")]
        config: PathBuf,
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
    /// Enroll this terminal: make its key, show QR and code, wait for the hub, write the config.
    Enroll {
        /// The hub, e.g. https://hub.example.gov.cn
        #[arg(long)]
        hub: String,
        #[arg(long, default_value = "/var/lib/cunban")]
        data_dir: PathBuf,
        /// The hardware serial; read from the firmware (DMI) when not given.
        #[arg(long)]
        serial: Option<String>,
        /// kiosk.toml to write (updated in place if it exists).
        #[arg(long, default_value = "/etc/cunban/kiosk.toml")]
        config: PathBuf,
        /// Minutes to wait for the technician.
        #[arg(long, default_value_t = 30)]
        timeout_mins: u64,
        /// Run as root, the files in the data directory are given to this
        /// user (the kiosk's), so the kiosk can read its key and enrollment.
        #[arg(long, default_value = "cunban")]
        kiosk_user: String,
    },
    /// Show or change kiosk.toml, with every value checked.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The kiosk's log, ID and phone numbers masked.
    Logs {
        #[arg(long, short = 'n', default_value_t = 200)]
        lines: u32,
        #[arg(long, default_value = "cunban-kiosk.service")]
        unit: String,
        /// Read a log file instead of the journal.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// The platform key filings are sealed to: show the pinned and configured
    /// keys, or confirm a changed one.
    PlatformKey {
        #[command(subcommand)]
        command: PlatformKeyCommand,
        #[arg(long, default_value = "/var/lib/cunban", global = true)]
        data_dir: PathBuf,
    },
    /// Signed update bundles: install (verify, apply, health check, roll back), sign, keygen.
    Update {
        #[command(subcommand)]
        command: update_cmd::UpdateCommand,
    },
    /// Recorded voice packs: install (verify with the catalog key), missing (prompts to record), pack (build and sign).
    Voice {
        #[command(subcommand)]
        command: voice_cmd::VoiceCommand,
    },
}

#[derive(Subcommand)]
enum PlatformKeyCommand {
    /// Pinned and configured fingerprints; exit 1 when they differ.
    Show,
    /// Seal to the configured key from now on. FINGERPRINT is typed from the
    /// province's announcement of the new key.
    Confirm { fingerprint: String },
}

#[derive(Subcommand)]
enum ConfigCommand {
    Show {
        #[arg(long, default_value = "/etc/cunban/kiosk.toml")]
        config: PathBuf,
    },
    /// Set one key (e.g. hub.sync_interval_secs 30); refused values change nothing.
    /// `technician_pin` takes no value here: it is read from stdin.
    Set {
        key: String,
        value: Option<String>,
        #[arg(long, default_value = "/etc/cunban/kiosk.toml")]
        config: PathBuf,
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
        Command::Status { data_dir, config } => status::run(data_dir, config, cli.json),
        Command::Audit { command: AuditCommand::Verify { data_dir } } => audit::verify(data_dir, cli.json),
        // JSON either way: `--json` is accepted for symmetry.
        Command::Idcard { command: IdcardCommand::Decode { hex, reveal } } => idcard::decode(hex, *reveal),
        Command::Selftest { config, simulated } => selftest::run(config, *simulated, cli.json),
        Command::Enroll { hub, data_dir, serial, config, timeout_mins, kiosk_user } => enroll::run(
            hub,
            data_dir,
            serial.as_deref(),
            Some(config),
            std::time::Duration::from_secs(timeout_mins * 60),
            kiosk_user,
            cli.json,
        ),
        Command::Config { command: ConfigCommand::Show { config } } => kiosk_toml::show(config, cli.json).map(|()| ExitCode::SUCCESS),
        Command::Config { command: ConfigCommand::Set { key, value, config } } => {
            kiosk_toml::set(config, key, value.as_deref())?;
            println!("{key} set in {}; restart the kiosk to apply: systemctl restart cunban-kiosk", config.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Logs { lines, unit, file } => logs::run(unit, *lines, file.as_deref()),
        Command::Update { command } => update_cmd::run(command, cli.json),
        Command::Voice { command } => voice_cmd::run(command, cli.json),
        Command::Export { data_dir, to } => export::run(data_dir, to, cli.json),
        Command::PlatformKey { command: PlatformKeyCommand::Show, data_dir } => platform_key::show(data_dir, cli.json),
        Command::PlatformKey { command: PlatformKeyCommand::Confirm { fingerprint }, data_dir } => platform_key::confirm(data_dir, fingerprint, cli.json),
    }
}
