//! Terminal configuration (`kiosk.toml`). Every value is checked at load, so a
//! bad file stops the kiosk with a sentence a technician can act on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use model::seal::PlatformPublicKey;
use model::submission::Channel;
use model::VillageCode;
use offline_cache::OutboxConfig;
use serde::Deserialize;
use thiserror::Error;

/// Why kiosk.toml (or enrolled.toml) was refused: a sentence a technician can act on.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The file is not TOML of the expected shape (unknown keys included).
    #[error("config file {path} is not valid: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// TOML's message, with the line.
        source: toml::de::Error,
    },
    /// `village_code` is not a 12-digit code of a known province.
    #[error("village_code {0:?} is not a 12-digit division code of a known province")]
    VillageCode(String),
    /// `terminal_id` is not 1..32 ASCII letters, digits or `-`.
    #[error("terminal_id must be 1..32 letters, digits or '-', got {0:?}")]
    TerminalId(String),
    /// `hub.url` is not https (http only to this machine), or not a URL.
    #[error("hub.url: {0}")]
    HubUrl(String),
    /// `hub_public_key` is not an `ed25519:<base64>` key.
    #[error("hub_public_key is not usable: {0}")]
    HubKey(String),
    /// `idle_timeout_secs` is outside 30..=600.
    #[error("idle_timeout_secs must be between 30 and 600, got {0}")]
    IdleTimeout(u64),
    /// `operator_timeout_secs` is outside 60..=3600.
    #[error("operator_timeout_secs must be between 60 and 3600, got {0}")]
    OperatorTimeout(u64),
    /// The platform's public key: submissions are sealed to it.
    #[error("platform_public_key is not usable: {0}")]
    PlatformKey(String),
    /// An `[outbox]` value is out of range; the message names it.
    #[error("[outbox] {0}")]
    Outbox(String),
    /// `catalog_public_key` is not an `ed25519:<base64>` key.
    #[error("catalog_public_key is not usable: {0}")]
    CatalogKey(String),
    /// `technician_pin_hash` is not a PIN hash.
    #[error("technician_pin_hash is not a PIN hash (set it with kioskctl config set technician_pin NNNN)")]
    PinHash,
    /// A kiosk cannot serve villagers without it.
    #[error("[devices.{0}] is missing: a kiosk needs an ID card reader and a receipt printer")]
    MissingDevice(&'static str),
    /// enrolled.toml holds only what enrollment sets ([`ENROLLED_KEYS`]).
    #[error("{path} may set only what enrollment sets, not {key:?} (that belongs in kiosk.toml)")]
    EnrolledKey {
        /// The enrolled.toml file.
        path: PathBuf,
        /// The key it may not set.
        key: String,
    },
}

/// What `kioskctl enroll` writes in the data directory (deploy/src/kiosk_toml.rs):
/// the kiosk may write it (its enrollment screen runs as `cunban`), root
/// tools never trust it, and it is read on top of kiosk.toml.
pub const ENROLLED_FILE: &str = "enrolled.toml";
/// The keys enrolled.toml may hold; `hub` only its `url` and `sync_interval_secs`.
pub const ENROLLED_KEYS: [&str; 7] = ["terminal_id", "village_code", "channel", "platform_public_key", "catalog_public_key", "hub_public_key", "hub"];
/// The data directory when kiosk.toml names none.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/cunban";

/// kiosk.toml's `data_dir`, or the default.
fn data_dir_in(table: &toml::Table) -> PathBuf {
    table.get("data_dir").and_then(|v| v.as_str()).map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), PathBuf::from)
}

/// Whether this terminal was enrolled: kiosk.toml names it (the layout
/// before issue 12), or the data directory holds enrolled.toml.
pub fn is_enrolled(config: &Path, default_data_dir: &Path) -> bool {
    let table = std::fs::read_to_string(config).ok().and_then(|t| t.parse::<toml::Table>().ok());
    match table {
        Some(t) if t.contains_key("terminal_id") => true,
        Some(t) => data_dir_in(&t).join(ENROLLED_FILE).exists(),
        None => default_data_dir.join(ENROLLED_FILE).exists(),
    }
}

/// The data directory kiosk.toml names, if it can be read.
pub fn data_dir_of(config: &Path) -> Option<PathBuf> {
    let t = std::fs::read_to_string(config).ok()?.parse::<toml::Table>().ok()?;
    Some(data_dir_in(&t))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    terminal_id: String,
    village_code: String,
    #[serde(default = "default_channel")]
    channel: Channel,
    data_dir: PathBuf,
    #[serde(default)]
    catalog: Option<PathBuf>,
    hub: HubConfig,
    #[serde(default = "default_idle")]
    idle_timeout_secs: u64,
    /// Service vans: an assistant's session ends after this long without a touch.
    #[serde(default = "default_operator_timeout")]
    operator_timeout_secs: u64,
    devices: drivers::config::DevicesConfig,
    /// `<suite>:<base64>`, as `hub --generate-platform-key` prints it.
    platform_public_key: String,
    /// `ed25519:<base64>`, as `hub --generate-catalog-key` prints it. Without
    /// it the terminal pulls no catalog and serves its own.
    #[serde(default)]
    catalog_public_key: Option<String>,
    /// `ed25519:<base64>`: the hub's own key, handed out at enrollment
    /// (`hub --print-signing-key`). Operator lists and configs pulled from
    /// the hub must be signed with it; without it neither is applied.
    #[serde(default)]
    hub_public_key: Option<String>,
    #[serde(default)]
    outbox: OutboxSection,
    /// `kioskctl config set technician_pin NNNN` writes it; without it the
    /// diagnostics screen stays closed.
    #[serde(default)]
    technician_pin_hash: Option<String>,
}

/// `[outbox]`: how long sealed filings are kept and when to raise alerts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct OutboxSection {
    /// Days a sealed filing is kept after the platform reports it processed.
    retention_days: u64,
    /// Hours a filing may wait unsent before technicians are alerted.
    stale_after_hours: u64,
    /// Free space kept back for filings already accepted; below it new filings are refused.
    disk_reserve_mb: u64,
    /// Largest attachment (one scan or photo) accepted.
    max_attachment_mb: u64,
}

impl Default for OutboxSection {
    fn default() -> Self {
        OutboxSection {
            retention_days: OutboxConfig::DEFAULT_RETENTION.as_secs() / 86_400,
            stale_after_hours: OutboxConfig::DEFAULT_STALE_AFTER.as_secs() / 3600,
            disk_reserve_mb: OutboxConfig::DEFAULT_DISK_RESERVE >> 20,
            max_attachment_mb: OutboxConfig::DEFAULT_MAX_ATTACHMENT >> 20,
        }
    }
}

/// Checked `[outbox]` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxSettings {
    /// How long a filing is kept after the platform reports it processed.
    pub retention: Duration,
    /// How long a filing may wait unsent before technicians are alerted.
    pub stale_after: Duration,
    /// Free space kept back for filings already accepted, in bytes.
    pub disk_reserve_bytes: u64,
    /// Largest attachment (one scan or photo) accepted, in bytes.
    pub max_attachment_bytes: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            retention: OutboxConfig::DEFAULT_RETENTION,
            stale_after: OutboxConfig::DEFAULT_STALE_AFTER,
            disk_reserve_bytes: OutboxConfig::DEFAULT_DISK_RESERVE,
            max_attachment_bytes: OutboxConfig::DEFAULT_MAX_ATTACHMENT,
        }
    }
}

impl OutboxSection {
    fn check(&self) -> Result<OutboxSettings, ConfigError> {
        if !(1..=3650).contains(&self.retention_days) {
            return Err(ConfigError::Outbox(format!("retention_days must be 1..3650, got {}", self.retention_days)));
        }
        if !(1..=24 * 90).contains(&self.stale_after_hours) {
            return Err(ConfigError::Outbox(format!("stale_after_hours must be 1..2160, got {}", self.stale_after_hours)));
        }
        if self.disk_reserve_mb > 1 << 20 {
            return Err(ConfigError::Outbox(format!("disk_reserve_mb {} is more than a terabyte", self.disk_reserve_mb)));
        }
        // The hub accepts bodies up to 16 MiB; a sealed attachment is a few bytes longer than the plain one.
        if !(1..=15).contains(&self.max_attachment_mb) {
            return Err(ConfigError::Outbox(format!("max_attachment_mb must be 1..15, got {}", self.max_attachment_mb)));
        }
        Ok(OutboxSettings {
            retention: Duration::from_secs(self.retention_days * 86_400),
            stale_after: Duration::from_secs(self.stale_after_hours * 3600),
            disk_reserve_bytes: self.disk_reserve_mb << 20,
            max_attachment_bytes: self.max_attachment_mb << 20,
        })
    }
}

fn default_channel() -> Channel {
    Channel::SelfServiceTerminal
}

fn default_idle() -> u64 {
    120
}

fn default_operator_timeout() -> u64 {
    600
}

/// `[hub]`: where the terminal syncs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// The hub's base URL: https, or http to this machine only (the demo's local hub).
    pub url: String,
    /// Seconds between sync attempts while something waits to be sent.
    #[serde(default = "default_sync_interval")]
    pub sync_interval_secs: u64,
}

fn default_sync_interval() -> u64 {
    15
}

pub use drivers::config::{
    A4PrinterConfig, BarcodeScannerConfig, CameraConfig, DocumentScannerConfig, IdCardConfig,
    ReceiptPrinterConfig as PrinterConfig,
};

/// `[devices]`: the drivers' table (`drivers::config::DevicesConfig`, the
/// same one `kioskctl selftest` reads from this file), with the two devices
/// no kiosk works without checked present at load.
#[derive(Debug, Clone)]
pub struct DevicesConfig {
    /// `[devices.id_card]`: the ID card reader (required).
    pub id_card: IdCardConfig,
    /// `[devices.receipt_printer]`: the receipt printer (required).
    pub receipt_printer: PrinterConfig,
    /// `[devices.a4_printer]`: the CUPS queue for result documents; None: no A4 printing.
    pub a4_printer: Option<A4PrinterConfig>,
    /// `[devices.document_scanner]`: the SANE scanner for materials; None: no scanning.
    pub document_scanner: Option<DocumentScannerConfig>,
    /// `[devices.camera]`: for photos of materials and QR codes; None: no camera.
    pub camera: Option<CameraConfig>,
    /// `[devices.barcode_scanner]`: a QR/barcode reader for receipt codes; None: none.
    pub barcode_scanner: Option<BarcodeScannerConfig>,
}

impl DevicesConfig {
    fn check(t: drivers::config::DevicesConfig) -> Result<DevicesConfig, ConfigError> {
        Ok(DevicesConfig {
            id_card: t.id_card.ok_or(ConfigError::MissingDevice("id_card"))?.device,
            receipt_printer: t.receipt_printer.ok_or(ConfigError::MissingDevice("receipt_printer"))?.device,
            a4_printer: t.a4_printer.map(|s| s.device),
            document_scanner: t.document_scanner.map(|s| s.device),
            camera: t.camera.map(|s| s.device),
            barcode_scanner: t.barcode_scanner.map(|s| s.device),
        })
    }
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// This terminal's id (1..32 ASCII letters, digits or `-`).
    pub terminal_id: String,
    /// The village this terminal serves.
    pub village_code: VillageCode,
    /// Self-service terminal (default) or service van.
    pub channel: Channel,
    /// Where the outbox and the kiosk's state live (default `/var/lib/cunban`).
    pub data_dir: PathBuf,
    /// A catalog file to serve instead of the built-in one; None: built-in (or pulled, with `catalog_key`).
    pub catalog: Option<PathBuf>,
    /// `[hub]`: where and how often to sync.
    pub hub: HubConfig,
    /// Time without a touch after which a visit is ended (30..=600 s).
    pub idle_timeout: Duration,
    /// Service vans: idle time that ends the assistant's session.
    pub operator_timeout: Duration,
    /// The devices, with the ID card reader and receipt printer present.
    pub devices: DevicesConfig,
    /// Submissions are sealed to this key; only the platform can open them.
    pub platform_key: PlatformPublicKey,
    /// Catalogs pulled from the hub must be signed with this key.
    pub catalog_key: Option<model::auth::PublicKey>,
    /// Operator lists and configs pulled from the hub must be signed with this key.
    pub hub_key: Option<model::auth::PublicKey>,
    /// Checked `[outbox]` values, or the outbox's defaults.
    pub outbox: OutboxSettings,
    /// Opens the technician diagnostics (model::pin); None keeps them closed.
    pub technician_pin_hash: Option<String>,
}

impl Config {
    /// What the outbox needs from this configuration.
    pub fn outbox_config(&self) -> OutboxConfig {
        let mut c = OutboxConfig::new(self.platform_key.clone(), self.terminal_id.clone());
        c.retention = self.outbox.retention;
        c.stale_after = self.outbox.stale_after;
        c.disk_reserve_bytes = self.outbox.disk_reserve_bytes;
        c.max_attachment_bytes = self.outbox.max_attachment_bytes;
        c
    }

    /// Loads kiosk.toml and, on top of it, `<data_dir>/enrolled.toml` when
    /// there is one (only [`ENROLLED_KEYS`] are taken from it).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let parse_err = |p: &Path| {
            let p = p.to_owned();
            move |source| ConfigError::Parse { path: p, source }
        };
        let mut table: toml::Table = toml::from_str(&text).map_err(parse_err(path))?;
        let data_dir = data_dir_in(&table);
        table.entry("data_dir").or_insert_with(|| toml::Value::String(data_dir.to_string_lossy().into_owned()));
        let enrolled_path = data_dir.join(ENROLLED_FILE);
        match std::fs::read_to_string(&enrolled_path) {
            Ok(t) => {
                let enrolled: toml::Table = toml::from_str(&t).map_err(parse_err(&enrolled_path))?;
                for (key, value) in enrolled {
                    if !ENROLLED_KEYS.contains(&key.as_str()) {
                        return Err(ConfigError::EnrolledKey { path: enrolled_path, key });
                    }
                    match (table.get_mut(&key), value) {
                        (Some(toml::Value::Table(base)), toml::Value::Table(over)) => base.extend(over),
                        (_, value) => {
                            table.insert(key, value);
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ConfigError::Read { path: enrolled_path, source }),
        }
        let merged = toml::to_string(&table).map_err(|e| ConfigError::Outbox(format!("cannot merge {}: {e}", enrolled_path.display())))?;
        Config::parse(&merged).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse { path: path.into(), source },
            other => other,
        })
    }

    /// Parses and checks kiosk.toml text alone (no enrolled.toml); parse errors name the path `<text>`.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|source| ConfigError::Parse { path: PathBuf::from("<text>"), source })?;
        let village_code =
            VillageCode::parse(&raw.village_code).map_err(|_| ConfigError::VillageCode(raw.village_code.clone()))?;
        let id_ok = (1..=32).contains(&raw.terminal_id.len())
            && raw.terminal_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !id_ok {
            return Err(ConfigError::TerminalId(raw.terminal_id));
        }
        // https, or http to this machine only (the demo's local hub).
        offline_cache::check_hub_url(&raw.hub.url, false).map_err(|e| ConfigError::HubUrl(e.to_string()))?;
        if !(30..=600).contains(&raw.idle_timeout_secs) {
            return Err(ConfigError::IdleTimeout(raw.idle_timeout_secs));
        }
        if !(60..=3600).contains(&raw.operator_timeout_secs) {
            return Err(ConfigError::OperatorTimeout(raw.operator_timeout_secs));
        }
        let platform_key = PlatformPublicKey::parse(&raw.platform_public_key).map_err(|e| ConfigError::PlatformKey(e.to_string()))?;
        let outbox = raw.outbox.check()?;
        let devices = DevicesConfig::check(raw.devices)?;
        let catalog_key = raw
            .catalog_public_key
            .as_deref()
            .map(model::auth::PublicKey::parse)
            .transpose()
            .map_err(|e| ConfigError::CatalogKey(e.to_string()))?;
        let hub_key = raw
            .hub_public_key
            .as_deref()
            .map(model::auth::PublicKey::parse)
            .transpose()
            .map_err(|e| ConfigError::HubKey(e.to_string()))?;
        if raw.technician_pin_hash.as_deref().is_some_and(|h| !model::pin::valid_hash(h)) {
            return Err(ConfigError::PinHash);
        }
        Ok(Config {
            technician_pin_hash: raw.technician_pin_hash,
            terminal_id: raw.terminal_id,
            village_code,
            channel: raw.channel,
            data_dir: raw.data_dir,
            catalog: raw.catalog,
            hub: raw.hub,
            idle_timeout: Duration::from_secs(raw.idle_timeout_secs),
            operator_timeout: Duration::from_secs(raw.operator_timeout_secs),
            devices,
            platform_key,
            catalog_key,
            hub_key,
            outbox,
        })
    }

    /// The terminal's device key file (made on first start).
    pub fn device_key_path(&self) -> PathBuf {
        self.data_dir.join("device.key")
    }

    /// The configuration `--demo` runs with: simulated reader, receipt to a
    /// file, a synthetic camera (the scanner, SANE's test backend, is added
    /// by `main` when sane-utils is installed), hub at `hub_url`, data under
    /// `data_dir`, sealing to `platform_key`.
    pub fn demo(data_dir: &Path, hub_url: &str, platform_key: PlatformPublicKey) -> Config {
        Config {
            terminal_id: "GS-DEMO-0001".into(),
            // 东乡族自治县锁南镇巴牙村: a real village code, for a realistic demo.
            village_code: VillageCode::parse("622926100202").expect("demo village code is valid"),
            channel: Channel::SelfServiceTerminal,
            data_dir: data_dir.to_owned(),
            catalog: None,
            hub: HubConfig { url: hub_url.to_owned(), sync_interval_secs: 5 },
            idle_timeout: Duration::from_secs(120),
            operator_timeout: Duration::from_secs(default_operator_timeout()),
            devices: DevicesConfig {
                id_card: IdCardConfig::Simulator,
                receipt_printer: PrinterConfig::File { path: data_dir.join("receipts.escpos") },
                a4_printer: None,
                document_scanner: None,
                camera: Some(CameraConfig::Synthetic { width: 1280, height: 720 }),
                barcode_scanner: None,
            },
            platform_key,
            catalog_key: None,
            hub_key: None,
            outbox: OutboxSettings::default(),
            // The demo's technician PIN is 0000.
            technician_pin_hash: Some(model::pin::hash_pin("0000", [0x5a; 16])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
terminal_id = "GS-0001"
village_code = "622926100202"
data_dir = "/var/lib/cunban"
platform_public_key = "hpke-x25519-sha256-chacha20poly1305:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
[hub]
url = "https://hub.example.gov.cn"
[devices.id_card]
kind = "sam"
path = "/dev/ttyUSB0"
[devices.receipt_printer]
kind = "serial"
path = "/dev/ttyS1"
baud = 9600
"#;

    #[test]
    fn parses_a_full_config() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.village_code.name(), Some("巴牙村委会"));
        assert_eq!(c.devices.id_card, IdCardConfig::Sam { path: "/dev/ttyUSB0".into(), photo_decoder: Default::default() });
        assert_eq!(c.devices.camera, None);
        assert_eq!(c.idle_timeout, Duration::from_secs(120));
        assert_eq!(c.channel, Channel::SelfServiceTerminal);
        assert_eq!(c.operator_timeout, Duration::from_secs(600));
        let van = format!("channel = \"service_van\"\noperator_timeout_secs = 300\n{GOOD}");
        let v = Config::parse(&van).unwrap();
        assert_eq!((v.channel, v.operator_timeout), (Channel::ServiceVan, Duration::from_secs(300)));
        assert_eq!(c.platform_key.to_string(), "hpke-x25519-sha256-chacha20poly1305:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
        assert_eq!(c.outbox, OutboxSettings::default());
        let with_outbox = format!("{GOOD}[outbox]\nretention_days = 7\ndisk_reserve_mb = 64\n");
        let c = Config::parse(&with_outbox).unwrap();
        assert_eq!(c.outbox_config().retention, Duration::from_secs(7 * 86_400));
        assert_eq!(c.outbox_config().disk_reserve_bytes, 64 << 20);
        assert_eq!(c.outbox_config().terminal_id, "GS-0001");
    }

    /// What `kioskctl enroll` writes on a fresh terminal starts the kiosk:
    /// kiosk.toml from the package's template (deploy/conf/kiosk.toml, read
    /// here as it ships) with its data_dir, and in that directory
    /// enrolled.toml with what the hub assigned (deploy/src/kiosk_toml.rs,
    /// `apply_enrollment`; deploy cannot depend on kiosk, so its shape is
    /// repeated here: change both together).
    #[test]
    fn loads_the_file_kioskctl_enroll_writes() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let template = include_str!("../../deploy/conf/kiosk.toml").replace("/var/lib/cunban", data.to_str().unwrap());
        let config = dir.path().join("kiosk.toml");
        std::fs::write(&config, template).unwrap();
        assert!(!is_enrolled(&config, &data));
        let enrolled = r#"# Written by `kioskctl enroll` on 2026-11-22: what the hub assigned.
terminal_id = "T-MID-0001"
village_code = "622926100202"
channel = "service_van"
platform_public_key = "hpke-x25519-sha256-chacha20poly1305:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

[hub]
url = "https://hub.example"
sync_interval_secs = 300
"#;
        std::fs::write(data.join(ENROLLED_FILE), enrolled).unwrap();
        assert!(is_enrolled(&config, &data));
        let c = Config::load(&config).unwrap();
        assert_eq!(c.channel, Channel::ServiceVan);
        assert_eq!(c.terminal_id, "T-MID-0001");
        assert_eq!(c.data_dir, data);
        assert_eq!(c.hub.sync_interval_secs, 300);
        assert_eq!(c.devices.id_card, IdCardConfig::Sam { path: "/dev/cunban-idcard".into(), photo_decoder: Default::default() });

        // The kiosk may write enrolled.toml, so it cannot carry what only
        // root sets: devices (a decoder library), the PIN hash, the data dir.
        for extra in ["technician_pin_hash = \"x\"\n", "data_dir = \"/tmp\"\n", "[devices.id_card]\nkind = \"simulator\"\n"] {
            std::fs::write(data.join(ENROLLED_FILE), format!("{extra}{enrolled}")).unwrap();
            assert!(matches!(Config::load(&config), Err(ConfigError::EnrolledKey { .. })), "{extra}");
        }
    }

    #[test]
    fn takes_every_device_section_of_the_drivers_table() {
        let full = format!(
            "{GOOD}{}",
            r#"
[devices.a4_printer]
kind = "cups"
queue = "A4"
[devices.document_scanner]
kind = "sane"
device = "fujitsu:fi-7030:1234"
[devices.camera]
kind = "synthetic"
[devices.barcode_scanner]
kind = "serial"
path = "/dev/ttyACM0"
required = false
"#
        );
        let c = Config::parse(&full).unwrap();
        assert_eq!(c.devices.a4_printer, Some(A4PrinterConfig::Cups { queue: "A4".into(), server: "127.0.0.1:631".into() }));
        assert!(matches!(c.devices.document_scanner, Some(DocumentScannerConfig::Sane { .. })));
        assert_eq!(c.devices.camera, Some(CameraConfig::Synthetic { width: 1280, height: 720 }));
        assert_eq!(c.devices.barcode_scanner, Some(BarcodeScannerConfig::Serial { path: "/dev/ttyACM0".into(), baud: 9600 }));
        // A section the drivers do not know is still refused.
        assert!(Config::parse(&format!("{GOOD}[devices.fax]\nkind = \"g3\"\n")).is_err());
    }

    #[test]
    fn refuses_bad_values_with_clear_messages() {
        let bad_village = GOOD.replace("622926100202", "12345");
        assert!(Config::parse(&bad_village).unwrap_err().to_string().contains("village_code"));
        let typo = GOOD.replace("data_dir", "datadir");
        assert!(matches!(Config::parse(&typo), Err(ConfigError::Parse { .. })));
        let bad_url = GOOD.replace("https://hub", "ftp://hub");
        assert!(matches!(Config::parse(&bad_url), Err(ConfigError::HubUrl(_))));
        // A network attacker answers plain http: only a hub on this machine may use it.
        let plain = GOOD.replace("https://hub", "http://hub");
        assert!(Config::parse(&plain).unwrap_err().to_string().contains("use https"));
        let local: String = GOOD.lines().map(|l| if l.starts_with("url = ") { "url = \"http://127.0.0.1:8700\"\n".to_owned() } else { format!("{l}\n") }).collect();
        assert!(Config::parse(&local).is_ok(), "the demo's hub on this machine");
        let bad_hub_key = format!("hub_public_key = \"ed25519:short\"\n{GOOD}");
        assert!(matches!(Config::parse(&bad_hub_key), Err(ConfigError::HubKey(_))));
        let unknown_device = GOOD.replace("kind = \"sam\"", "kind = \"magic\"");
        assert!(Config::parse(&unknown_device).is_err());
        let bad_key = GOOD.replace("AQIDBAUG", "not-base64!");
        assert!(matches!(Config::parse(&bad_key), Err(ConfigError::PlatformKey(_))));
        let no_key = GOOD.lines().filter(|l| !l.starts_with("platform_public_key")).collect::<Vec<_>>().join("\n");
        assert!(matches!(Config::parse(&no_key), Err(ConfigError::Parse { .. })));
        let no_printer = GOOD.split("[devices.receipt_printer]").next().unwrap();
        assert!(matches!(Config::parse(no_printer), Err(ConfigError::MissingDevice("receipt_printer"))));
        let hasty = format!("operator_timeout_secs = 5\n{GOOD}");
        assert!(matches!(Config::parse(&hasty), Err(ConfigError::OperatorTimeout(5))));
        let big = format!("{GOOD}[outbox]\nmax_attachment_mb = 64\n");
        assert!(Config::parse(&big).unwrap_err().to_string().contains("max_attachment_mb"));
    }
}
