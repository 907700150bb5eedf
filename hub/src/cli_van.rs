//! `hub operator add|revoke` and `hub import FILE` (issue 7: service vans).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use hub::import::{import, RecordOutcome};
use hub::{NewOperator, Store};
use model::export::ExportFile;
use model::operator::{check_new_pin, hash_pin, valid_pin, PinParams, StaffNumber, MAX_PIN_DIGITS, MIN_PIN_DIGITS};
use model::seal::PlatformSecretKey;
use model::VillageCode;
use zeroize::Zeroizing;

#[derive(Debug, Subcommand)]
pub enum OperatorCmd {
    /// Add an assistant, or change an active one's name, PIN, vans or villages.
    /// The PIN (12..16 digits, no repeats or runs) is read from the first
    /// line of stdin, never argv; a weak one is refused.
    Add {
        #[arg(long)]
        staff: String,
        #[arg(long)]
        name: String,
        /// Terminal (van) the assistant may log in on; repeat for several.
        #[arg(long = "terminal", required = true)]
        terminals: Vec<String>,
        /// 12-digit code of a village the van visits; repeat for several.
        #[arg(long = "village")]
        villages: Vec<String>,
        /// Last day the account logs in (YYYY-MM-DD, China time).
        #[arg(long)]
        valid_until: Option<String>,
        /// Argon2id memory in KiB (default 19456, OWASP's minimum).
        #[arg(long, default_value_t = PinParams::STRONG.memory_kib)]
        argon2_memory_kib: u32,
        #[arg(long, default_value_t = PinParams::STRONG.iterations)]
        argon2_iterations: u32,
    },
    /// Revoke an account; terminals drop it at their next sync.
    Revoke { staff: String },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export file (`kioskctl export --to FILE`).
    pub file: PathBuf,
    /// With the platform key, records that don't open are refused, as online.
    #[arg(long)]
    pub platform_key_file: Option<PathBuf>,
}

fn read_pin() -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).context("reading the PIN from stdin")?;
    let pin = Zeroizing::new(line.trim().to_owned());
    if !valid_pin(&pin) {
        bail!("the PIN must be {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits (given on the first line of stdin)");
    }
    // Long and patternless: a van's disk may be stolen with the van (model::operator).
    check_new_pin(&pin)?;
    Ok(pin)
}

fn valid_until(s: &str) -> anyhow::Result<time::OffsetDateTime> {
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| anyhow!("--valid-until {s:?} is not YYYY-MM-DD"))?;
    // The end of that day in China time.
    Ok(d.with_hms(23, 59, 59).map_err(|e| anyhow!("{e}"))?.assume_offset(time::macros::offset!(+8)))
}

pub fn operator_cmd(store: &dyn Store, cmd: OperatorCmd) -> anyhow::Result<()> {
    match cmd {
        OperatorCmd::Add { staff, name, terminals, villages, valid_until: until, argon2_memory_kib, argon2_iterations } => {
            let staff_number = StaffNumber::parse(&staff).map_err(|e| anyhow!("--staff: {e}"))?;
            if let Some(t) = terminals.iter().find(|t| !model::auth::valid_terminal_id(t)) {
                bail!("terminal id {t:?} must be 1..32 letters, digits or '-'");
            }
            let villages = villages
                .iter()
                .map(|v| VillageCode::parse(v).map_err(|_| anyhow!("village {v:?} is not a 12-digit division code")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let pin = read_pin()?;
            let mut salt = [0u8; 16];
            rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut salt).map_err(|e| anyhow!("no entropy from the OS: {e}"))?;
            let params = PinParams { memory_kib: argon2_memory_kib, iterations: argon2_iterations, parallelism: 1 };
            let pin_hash = hash_pin(&pin, &salt, params)?;
            let op = NewOperator {
                staff_number: staff_number.clone(),
                name: name.trim().to_owned(),
                pin_hash,
                terminals,
                villages,
                valid_until: until.as_deref().map(valid_until).transpose()?,
            };
            store.add_operator(&op, time::OffsetDateTime::now_utc())?;
            println!("operator {staff_number} saved for {}; terminals get it at their next sync", op.terminals.join(", "));
        }
        OperatorCmd::Revoke { staff } => {
            let staff_number = StaffNumber::parse(&staff).map_err(|e| anyhow!("{e}"))?;
            store.revoke_operator(staff_number.as_str(), time::OffsetDateTime::now_utc())?;
            println!("operator {staff_number} revoked; terminals drop the login at their next sync");
        }
    }
    Ok(())
}

pub fn import_cmd(store: &dyn Store, file: &Path, key: Option<&PlatformSecretKey>) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let export = ExportFile::from_bytes(&bytes).with_context(|| file.display().to_string())?;
    let report = import(store, &export, key)?;
    for (id, outcome) in &report.records {
        match outcome {
            RecordOutcome::Stored(c) => println!("{id}\tstored\tcase {c}"),
            RecordOutcome::AlreadyHeld(c) => println!("{id}\talready held\tcase {c}"),
            RecordOutcome::Refused(why) => println!("{id}\trefused\t{why}"),
        }
    }
    println!(
        "terminal {}: {} stored, {} already held, {} refused",
        report.terminal_id,
        report.stored(),
        report.already_held(),
        report.refused()
    );
    if report.refused() > 0 {
        bail!("{} record(s) refused", report.refused());
    }
    Ok(())
}
