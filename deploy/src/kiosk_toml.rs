//! `kioskctl config show|set` and the kiosk.toml that enrollment writes.
//!
//! Edits go through toml_edit so a technician's comments survive, and the
//! file is replaced whole (temp file, fsync, rename): a power cut leaves the
//! old or the new file, never half of one. The limits below are the kiosk's
//! own (kiosk/src/config.rs checks them again at start).

use std::io::Write as _;
use std::path::Path;

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
    // Listed for the help text; `set` hashes it (never stored as typed).
    Key { path: "technician_pin", kind: Kind::Text(|_| Ok(())), help: "4..12 digits opening the kiosk's diagnostics (stored hashed)" },
];

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

/// Writes `text` to `path` whole or not at all.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("kiosk.toml")));
    let mut f = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `config set KEY VALUE`. `technician_pin` is stored only as its salted
/// hash (`technician_pin_hash`, see model::pin).
pub fn set(path: &Path, key: &str, raw: &str) -> Result<()> {
    if key == "technician_pin" {
        if !model::pin::valid_pin(raw.trim()) {
            bail!("technician_pin must be 4 to 12 digits");
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| anyhow!("no entropy: {e}"))?;
        let mut doc = read(path)?;
        set_path(&mut doc, "technician_pin_hash", value(model::pin::hash_pin(raw.trim(), salt)));
        return write_atomically(path, &doc.to_string());
    }
    let item = checked_value(key, raw)?;
    let mut doc = read(path)?;
    set_path(&mut doc, key, item);
    write_atomically(path, &doc.to_string())
}

/// `config show`: the file as JSON, or as it is.
pub fn show(path: &Path, as_json: bool) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if as_json {
        let v: toml::Table = toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{text}");
    }
    Ok(())
}

/// Writes what enrollment brought into kiosk.toml: updated in place when it
/// exists (device settings kept), else a new file with the udev names of
/// the reader and printer (deploy/udev/).
pub fn apply_enrollment(path: &Path, enrolled: &EnrolledTerminal, data_dir: &Path) -> Result<Vec<String>> {
    let e = &enrolled.enrollment;
    let mut warnings = Vec::new();
    let mut doc = if path.exists() {
        read(path)?
    } else {
        let now = time::OffsetDateTime::now_utc();
        let head = format!(
            "# Written by `kioskctl enroll` on {:04}-{:02}-{:02}. Change values with `kioskctl config set KEY VALUE`.\n\
             idle_timeout_secs = 120\n\n\
             [devices.id_card]\nkind = \"sam\"\npath = \"/dev/cunban-idcard\"\n\n\
             [devices.receipt_printer]\nkind = \"file\"\npath = \"/dev/cunban-receipt\"\n",
            now.year(),
            u8::from(now.month()),
            now.day()
        );
        head.parse::<DocumentMut>().context("built-in kiosk.toml template")?
    };
    let data_dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let mut pairs: Vec<(&str, String)> = vec![
        ("terminal_id", e.terminal_id.clone()),
        ("village_code", e.village_code.clone()),
        ("channel", if e.profile == model::enroll::Profile::Van { "service_van".into() } else { "self_service_terminal".into() }),
        ("data_dir", data_dir.to_string_lossy().into_owned()),
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
    write_atomically(path, &doc.to_string())?;
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
        set(&p, "hub.sync_interval_secs", "60").unwrap();
        set(&p, "outbox.retention_days", "30").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("# the technician's note"), "{text}");
        assert!(text.contains("sync_interval_secs = 60") && text.contains("retention_days = 30"), "{text}");
        assert!(set(&p, "outbox.retention_days", "0").is_err());
        assert!(std::fs::read_to_string(&p).unwrap().contains("retention_days = 30"), "a refused value changes nothing");
        set(&p, "technician_pin", "246810").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("246810"), "{text}");
        let doc: toml::Table = toml::from_str(&text).unwrap();
        assert!(model::pin::verify_pin(doc["technician_pin_hash"].as_str().unwrap(), "246810"));
        assert!(set(&p, "technician_pin", "12").is_err());
    }
}
