//! Terminal configuration (`kiosk.toml`). Every value is checked at load, so a
//! bad file stops the kiosk with a sentence a technician can act on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use model::submission::Channel;
use model::VillageCode;
use serde::Deserialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("village_code {0:?} is not a 12-digit division code of a known province")]
    VillageCode(String),
    #[error("terminal_id must be 1..32 letters, digits or '-', got {0:?}")]
    TerminalId(String),
    #[error("hub.url {0:?} must start with http:// or https://")]
    HubUrl(String),
    #[error("idle_timeout_secs must be between 30 and 600, got {0}")]
    IdleTimeout(u64),
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
    devices: DevicesConfig,
}

fn default_channel() -> Channel {
    Channel::SelfServiceTerminal
}

fn default_idle() -> u64 {
    120
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    pub url: String,
    /// Seconds between sync attempts while something waits to be sent.
    #[serde(default = "default_sync_interval")]
    pub sync_interval_secs: u64,
}

fn default_sync_interval() -> u64 {
    15
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesConfig {
    pub id_card: IdCardConfig,
    pub receipt_printer: PrinterConfig,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum IdCardConfig {
    /// A SAM module on a serial port, e.g. `/dev/ttyUSB0`.
    Sam { path: PathBuf },
    /// The built-in simulator on a pty, serving a sample card (demo, tests).
    Simulator,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrinterConfig {
    /// ESC/POS over a serial port.
    Serial { path: PathBuf, baud: u32 },
    /// ESC/POS bytes appended to a file (a USB `lp` device node, or a file in the demo).
    File { path: PathBuf },
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub terminal_id: String,
    pub village_code: VillageCode,
    pub channel: Channel,
    pub data_dir: PathBuf,
    pub catalog: Option<PathBuf>,
    pub hub: HubConfig,
    pub idle_timeout: Duration,
    pub devices: DevicesConfig,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Config::parse(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse { path: path.into(), source },
            other => other,
        })
    }

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
        if !(raw.hub.url.starts_with("http://") || raw.hub.url.starts_with("https://")) {
            return Err(ConfigError::HubUrl(raw.hub.url));
        }
        if !(30..=600).contains(&raw.idle_timeout_secs) {
            return Err(ConfigError::IdleTimeout(raw.idle_timeout_secs));
        }
        Ok(Config {
            terminal_id: raw.terminal_id,
            village_code,
            channel: raw.channel,
            data_dir: raw.data_dir,
            catalog: raw.catalog,
            hub: raw.hub,
            idle_timeout: Duration::from_secs(raw.idle_timeout_secs),
            devices: raw.devices,
        })
    }

    /// The configuration `--demo` runs with: simulated reader, receipt to a
    /// file, hub at `hub_url`, data under `data_dir`.
    pub fn demo(data_dir: &Path, hub_url: &str) -> Config {
        Config {
            terminal_id: "GS-DEMO-0001".into(),
            // 东乡族自治县锁南镇巴牙村: a real village code, for a realistic demo.
            village_code: VillageCode::parse("622926100202").expect("demo village code is valid"),
            channel: Channel::SelfServiceTerminal,
            data_dir: data_dir.to_owned(),
            catalog: None,
            hub: HubConfig { url: hub_url.to_owned(), sync_interval_secs: 5 },
            idle_timeout: Duration::from_secs(120),
            devices: DevicesConfig {
                id_card: IdCardConfig::Simulator,
                receipt_printer: PrinterConfig::File { path: data_dir.join("receipts.escpos") },
            },
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
        assert_eq!(c.devices.id_card, IdCardConfig::Sam { path: "/dev/ttyUSB0".into() });
        assert_eq!(c.idle_timeout, Duration::from_secs(120));
        assert_eq!(c.channel, Channel::SelfServiceTerminal);
    }

    #[test]
    fn refuses_bad_values_with_clear_messages() {
        let bad_village = GOOD.replace("622926100202", "12345");
        assert!(Config::parse(&bad_village).unwrap_err().to_string().contains("village_code"));
        let typo = GOOD.replace("data_dir", "datadir");
        assert!(matches!(Config::parse(&typo), Err(ConfigError::Parse { .. })));
        let bad_url = GOOD.replace("https://hub", "ftp://hub");
        assert!(matches!(Config::parse(&bad_url), Err(ConfigError::HubUrl(_))));
        let unknown_device = GOOD.replace("kind = \"sam\"", "kind = \"magic\"");
        assert!(Config::parse(&unknown_device).is_err());
    }
}
