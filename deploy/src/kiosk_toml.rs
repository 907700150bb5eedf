//! `kioskctl config show|set` and what enrollment writes.
//!
//! Two files make the kiosk's configuration (issue 12 item 1):
//! - `/etc/cunban/kiosk.toml`, root:cunban 0640: devices, limits, the
//!   technician PIN hash, `data_dir`. Only root writes it; root tools act on it.
//! - `<data_dir>/enrolled.toml`, cunban 0640: what enrollment brought
//!   ([`ENROLLED_KEYS`]: identity, hub, keys). The kiosk may write it (its
//!   touch-screen enrollment runs `kioskctl enroll` as `cunban`), so root
//!   tools never trust it; the kiosk reads it on top of kiosk.toml and
//!   accepts only those keys from it.
//!
//! Edits go through toml_edit so a technician's comments survive, and each
//! file is replaced whole (`safe_fs::write_atomically`: random exclusive
//! no-follow temp file, fsync, rename, directory fsync). The limits below
//! are the kiosk's own (kiosk/src/config.rs checks them again at start).

use std::path::{Path, PathBuf};

use deploy::safe_fs::{self, Owner};

use anyhow::{anyhow, bail, Context, Result};
use offline_cache::EnrolledTerminal;
use toml_edit::{value, DocumentMut, Item};

/// A key `config set` accepts, and how its value is checked.
struct Key {
    path: &'static str,
    kind: Kind,
    help: &'static str,
}

enum Kind {
    Int(u64, u64),
    Text(fn(&str) -> Result<(), String>),
}

fn terminal_id(s: &str) -> Result<(), String> {
    model::auth::valid_terminal_id(s).then_some(()).ok_or_else(|| "1..32 letters, digits or '-'".into())
}
fn village(s: &str) -> Result<(), String> {
    model::VillageCode::parse(s).map(drop).map_err(|_| "a 12-digit division code of a known province".into())
}
fn channel(s: &str) -> Result<(), String> {
    matches!(s, "self_service_terminal" | "service_van").then_some(()).ok_or_else(|| "self_service_terminal or service_van".into())
}
fn url(s: &str) -> Result<(), String> {
    // The kiosk checks the same way at start: https, or http to this machine only.
    offline_cache::check_hub_url(s, false).map(drop).map_err(|e| e.to_string())
}
fn abs_path(s: &str) -> Result<(), String> {
    Path::new(s).is_absolute().then_some(()).ok_or_else(|| "an absolute path".into())
}
fn platform_key(s: &str) -> Result<(), String> {
    model::seal::PlatformPublicKey::parse(s).map(drop).map_err(|e| e.to_string())
}
fn catalog_key(s: &str) -> Result<(), String> {
    model::auth::PublicKey::parse(s).map(drop).map_err(|e| e.to_string())
}

const KEYS: &[Key] = &[
    Key { path: "terminal_id", kind: Kind::Text(terminal_id), help: "the id the hub knows this terminal by" },
    Key { path: "village_code", kind: Kind::Text(village), help: "12-digit village code (行政区划)" },
    Key { path: "channel", kind: Kind::Text(channel), help: "self_service_terminal (kiosk) or service_van" },
    Key { path: "data_dir", kind: Kind::Text(abs_path), help: "where the outbox and device key live" },
    Key { path: "idle_timeout_secs", kind: Kind::Int(30, 600), help: "seconds before an idle visit is wiped" },
    Key { path: "operator_timeout_secs", kind: Kind::Int(60, 3600), help: "service vans: seconds without a touch before an assistant is logged out" },
    Key { path: "platform_public_key", kind: Kind::Text(platform_key), help: "key filings are sealed to" },
    Key { path: "catalog_public_key", kind: Kind::Text(catalog_key), help: "key pulled catalogs must be signed with" },
    Key { path: "hub_public_key", kind: Kind::Text(catalog_key), help: "the hub's key: operator lists and configs must be signed with it" },
    Key { path: "hub.url", kind: Kind::Text(url), help: "the hub" },
    Key { path: "hub.sync_interval_secs", kind: Kind::Int(5, 86_400), help: "seconds between sync attempts" },
    Key { path: "outbox.retention_days", kind: Kind::Int(1, 3650), help: "days sealed filings are kept after processing" },
    Key { path: "outbox.stale_after_hours", kind: Kind::Int(1, 2160), help: "hours unsent before an alert" },
    Key { path: "outbox.disk_reserve_mb", kind: Kind::Int(0, 1 << 20), help: "free space kept for accepted filings" },
    Key { path: "outbox.max_attachment_mb", kind: Kind::Int(1, 15), help: "largest scan or photo" },
    Key { path: "devices.id_card.path", kind: Kind::Text(abs_path), help: "serial port of the SAM reader" },
    Key { path: "devices.receipt_printer.path", kind: Kind::Text(abs_path), help: "receipt printer device" },
    // Listed for the help text; `set` reads it from stdin and hashes it (never stored as typed).
    Key { path: "technician_pin", kind: Kind::Text(|_| Ok(())), help: "4..12 digits opening the kiosk's diagnostics, typed on stdin, never an argument (stored hashed)" },
];

/// The enrolled-settings file in the data directory.
pub const ENROLLED_FILE: &str = "enrolled.toml";
/// The keys enrollment sets and `enrolled.toml` may hold (the kiosk refuses others there).
pub const ENROLLED_KEYS: &[&str] =
    &["terminal_id", "village_code", "channel", "platform_public_key", "catalog_public_key", "hub_public_key", "hub.url", "hub.sync_interval_secs"];
/// The data directory when kiosk.toml names none.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/cunban";
/// The user the kiosk runs as (deploy/systemd/cunban-kiosk.service).
pub const KIOSK_USER: &str = "cunban";
/// The kiosk.toml the package installs and enrollment starts from.
pub const TEMPLATE: &str = include_str!("../conf/kiosk.toml");

/// Where `enrolled.toml` is for the kiosk.toml at `config` (its `data_dir`).
pub fn enrolled_path(config: &Path) -> PathBuf {
    let dir = std::fs::read_to_string(config)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("data_dir").and_then(|v| v.as_str()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    dir.join(ENROLLED_FILE)
}

/// Owner for kiosk.toml: root:cunban when root writes it and the kiosk
/// user exists (the kiosk reads it through its group), else left as made.
fn config_owner() -> Option<Owner> {
    let root = safe_fs::current_uid().ok()? == safe_fs::ROOT;
    root.then(|| safe_fs::system_user(KIOSK_USER)).flatten().map(|u| Owner { uid: safe_fs::ROOT, gid: u.gid })
}

/// Owner for files in the data directory: the kiosk user when root writes them.
pub fn data_owner(kiosk_user: &str) -> Option<Owner> {
    let root = safe_fs::current_uid().ok()? == safe_fs::ROOT;
    root.then(|| safe_fs::system_user(kiosk_user)).flatten()
}

/// kiosk.toml, 0640: not for everyone's eyes (it holds the PIN hash).
fn write_config(path: &Path, text: &str) -> Result<()> {
    safe_fs::write_atomically(path, text.as_bytes(), 0o640, config_owner()).map_err(Into::into)
}

/// Every settable key with its help, for `config set --help`-like errors.
fn key_list() -> String {
    KEYS.iter().map(|k| format!("  {:<30} {}", k.path, k.help)).collect::<Vec<_>>().join("\n")
}

/// Checks `raw` for `key`; the TOML item to store.
pub fn checked_value(key: &str, raw: &str) -> Result<Item> {
    let k = KEYS.iter().find(|k| k.path == key).ok_or_else(|| anyhow!("unknown key {key:?}; settable keys:\n{}", key_list()))?;
    match &k.kind {
        Kind::Int(lo, hi) => {
            let n: u64 = raw.trim().parse().map_err(|_| anyhow!("{key} takes a whole number, got {raw:?}"))?;
            if !(*lo..=*hi).contains(&n) {
                bail!("{key} must be between {lo} and {hi}, got {n}");
            }
            Ok(value(i64::try_from(n).map_err(|_| anyhow!("{key}: {n} is too large"))?))
        }
        Kind::Text(check) => {
            check(raw.trim()).map_err(|why| anyhow!("{key} {raw:?} is not valid: {why}"))?;
            Ok(value(raw.trim()))
        }
    }
}

pub fn read(path: &Path) -> Result<DocumentMut> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.parse::<DocumentMut>().with_context(|| format!("{} is not valid TOML", path.display()))
}

fn set_path(doc: &mut DocumentMut, key: &str, item: Item) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut table = doc.as_table_mut();
    for p in parts {
        if !table.contains_key(p) {
            table.insert(p, Item::Table(toml_edit::Table::new()));
        }
        table = match table.get_mut(p).and_then(Item::as_table_mut) {
            Some(t) => t,
            None => return,
        };
    }
    table.insert(last, item);
}

/// Reads a PIN from `input` (the first line): what `config set
/// technician_pin` takes instead of an argument. On a terminal the typing
/// is not echoed.
pub fn read_secret(input: &mut dyn std::io::BufRead) -> Result<zeroize::Zeroizing<String>> {
    let mut line = zeroize::Zeroizing::new(String::new());
    input.read_line(&mut line).context("cannot read the PIN from stdin")?;
    Ok(zeroize::Zeroizing::new(line.trim().to_owned()))
}

/// Turns terminal echo off while the PIN is typed (restored on drop).
struct NoEcho(Option<libc::termios>);

impl NoEcho {
    fn new() -> NoEcho {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios we own.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::isatty(0) == 1 && libc::tcgetattr(0, &mut t) == 0 {
                let old = t;
                t.c_lflag &= !libc::ECHO;
                if libc::tcsetattr(0, libc::TCSANOW, &t) == 0 {
                    return NoEcho(Some(old));
                }
            }
        }
        NoEcho(None)
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        if let Some(old) = self.0 {
            // SAFETY: restores the settings read in `new`.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &old) };
            eprintln!();
        }
    }
}

/// `config set KEY [VALUE]`. `technician_pin` takes no VALUE (a PIN on a
/// command line is seen by `ps` and kept in shell history): it is read
/// from stdin and stored only as its salted hash (`technician_pin_hash`,
/// see model::pin). An enrolled key is set in `enrolled.toml` when the
/// terminal has one (it is read on top of kiosk.toml).
pub fn set(path: &Path, key: &str, raw: Option<&str>) -> Result<()> {
    if key == "technician_pin" {
        if raw.is_some() {
            bail!("refused: a PIN is never given on the command line (ps and shell history would keep it); run `kioskctl config set technician_pin` and type it, or pipe it on stdin");
        }
        let pin = {
            let _quiet = NoEcho::new();
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!("technician PIN (4 to 12 digits): ");
            }
            read_secret(&mut std::io::stdin().lock())?
        };
        if !model::pin::valid_pin(&pin) {
            bail!("technician_pin must be 4 to 12 digits");
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| anyhow!("no entropy: {e}"))?;
        let mut doc = read(path)?;
        set_path(&mut doc, "technician_pin_hash", value(model::pin::hash_pin(&pin, salt)));
        return write_config(path, &doc.to_string());
    }
    let raw = raw.ok_or_else(|| anyhow!("{key} needs a value: kioskctl config set {key} VALUE"))?;
    let item = checked_value(key, raw)?;
    let enrolled = enrolled_path(path);
    if ENROLLED_KEYS.contains(&key) && enrolled.exists() {
        let mut doc = read(&enrolled)?;
        set_path(&mut doc, key, item);
        return safe_fs::write_atomically(&enrolled, doc.to_string().as_bytes(), 0o640, data_owner(KIOSK_USER)).map_err(Into::into);
    }
    let mut doc = read(path)?;
    set_path(&mut doc, key, item);
    write_config(path, &doc.to_string())
}

/// kiosk.toml with enrolled.toml's keys on top, as the kiosk reads them.
pub fn merged(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut base: toml::Table = toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    let enrolled = enrolled_path(path);
    if let Ok(t) = std::fs::read_to_string(&enrolled) {
        let over: toml::Table = toml::from_str(&t).with_context(|| format!("{} is not valid TOML", enrolled.display()))?;
        for (k, v) in over {
            match (base.get_mut(&k), v) {
                (Some(toml::Value::Table(b)), toml::Value::Table(o)) => b.extend(o),
                (_, v) => {
                    base.insert(k, v);
                }
            }
        }
    }
    Ok(base)
}

/// `config show`: the configuration as the kiosk sees it (kiosk.toml and
/// enrolled.toml on top) as JSON, or both files as they are.
pub fn show(path: &Path, as_json: bool) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(&merged(path)?)?);
        return Ok(());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    print!("{text}");
    let enrolled = enrolled_path(path);
    if let Ok(t) = std::fs::read_to_string(&enrolled) {
        println!("\n# --- {} (enrollment; read on top of the above) ---", enrolled.display());
        print!("{t}");
    }
    Ok(())
}

/// Keeps what enrollment brought in `<data_dir>/enrolled.toml` (0640,
/// given to `owner` when root enrolls), and writes kiosk.toml from the
/// package's template ([`TEMPLATE`], the udev names of reader and printer)
/// when there is none and this user may create it (root). An existing
/// kiosk.toml is not touched: its devices and PIN hash stay.
pub fn apply_enrollment(path: &Path, enrolled: &EnrolledTerminal, data_dir: &Path, owner: Option<Owner>) -> Result<Vec<String>> {
    let e = &enrolled.enrollment;
    let mut warnings = Vec::new();
    let now = time::OffsetDateTime::now_utc();
    let head = format!(
        "# Written by `kioskctl enroll` on {:04}-{:02}-{:02}: what the hub assigned. The kiosk reads it\n\
         # on top of kiosk.toml; change values with `kioskctl config set KEY VALUE`.\n",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let mut doc = head.parse::<DocumentMut>().context("enrolled.toml header")?;
    let data_dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let mut pairs: Vec<(&str, String)> = vec![
        ("terminal_id", e.terminal_id.clone()),
        ("village_code", e.village_code.clone()),
        ("channel", if e.profile == model::enroll::Profile::Van { "service_van".into() } else { "self_service_terminal".into() }),
        ("hub.url", enrolled.hub_url.clone()),
        ("hub.sync_interval_secs", e.config.sync_interval_secs.clamp(5, 86_400).to_string()),
    ];
    match &e.platform_public_key {
        Some(k) => pairs.push(("platform_public_key", k.clone())),
        None => warnings.push("the hub gave no platform key: set it with `kioskctl config set platform_public_key SUITE:KEY`".to_owned()),
    }
    if let Some(k) = &e.catalog_public_key {
        pairs.push(("catalog_public_key", k.clone()));
    }
    match &e.hub_public_key {
        Some(k) => pairs.push(("hub_public_key", k.clone())),
        None => warnings.push("the hub gave no signing key: operator lists and configs will not be applied until `kioskctl config set hub_public_key ed25519:KEY` (from `hub --print-signing-key`)".to_owned()),
    }
    for (key, raw) in pairs {
        let item = checked_value(key, &raw).with_context(|| format!("the hub sent a bad {key}"))?;
        set_path(&mut doc, key, item);
    }
    safe_fs::write_atomically(&data_dir.join(ENROLLED_FILE), doc.to_string().as_bytes(), 0o640, owner)?;
    if !path.exists() {
        let mut t = TEMPLATE.parse::<DocumentMut>().context("built-in kiosk.toml template")?;
        set_path(&mut t, "data_dir", checked_value("data_dir", &data_dir.to_string_lossy())?);
        let written = std::fs::create_dir_all(safe_fs::parent_dir(path)).map_err(anyhow::Error::from).and_then(|()| write_config(path, &t.to_string()));
        if let Err(err) = written {
            warnings.push(format!("{} not written ({err:#}); the package installs it, or run `kioskctl enroll` as root", path.display()));
        }
    } else if read(path).ok().and_then(|d| d.get("data_dir").and_then(|v| v.as_str()).map(PathBuf::from)).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
        != data_dir
    {
        warnings.push(format!("{} names another data_dir: the kiosk will not find this enrollment until it names {}", path.display(), data_dir.display()));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_before_anything_is_written() {
        assert!(checked_value("idle_timeout_secs", "60").is_ok());
        assert!(checked_value("idle_timeout_secs", "5").unwrap_err().to_string().contains("between 30 and 600"));
        assert!(checked_value("village_code", "12345").is_err());
        assert!(checked_value("hub.url", "ftp://x").is_err());
        assert!(checked_value("no.such", "1").unwrap_err().to_string().contains("settable keys"));
    }

    #[test]
    fn set_keeps_comments_and_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kiosk.toml");
        std::fs::write(&p, "# the technician's note\nterminal_id = \"GS-1\"\n[hub]\nurl = \"https://hub\"\n").unwrap();
        set(&p, "hub.sync_interval_secs", Some("60")).unwrap();
        set(&p, "outbox.retention_days", Some("30")).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("# the technician's note"), "{text}");
        assert!(text.contains("sync_interval_secs = 60") && text.contains("retention_days = 30"), "{text}");
        assert!(set(&p, "outbox.retention_days", Some("0")).is_err());
        assert!(std::fs::read_to_string(&p).unwrap().contains("retention_days = 30"), "a refused value changes nothing");
        assert_eq!(std::os::unix::fs::MetadataExt::mode(&std::fs::metadata(&p).unwrap()) & 0o777, 0o640, "not world-readable");
    }
}
