//! `kioskctl selftest`: every configured device's self-test, as a table or
//! JSON. Exit 1 when a required device is absent.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use drivers::config::DevicesConfig;
use drivers::selftest::{self, DeviceReport, Simulation};
use serde_json::json;

/// Reads the `[devices]` table of the terminal configuration; the rest of
/// the file is the kiosk's business. Run as root this opens devices and
/// may load a vendor library, so the file must be one the kiosk user
/// cannot have written (`safe_fs::check_trusted`), and so must a
/// configured photo decoder library: it is loaded (dlopen) by this process.
pub fn load_devices(config: &Path) -> Result<DevicesConfig> {
    if !config.exists() {
        anyhow::bail!("cannot read {} (give --config, or --simulated)", config.display());
    }
    let me = deploy::safe_fs::current_uid()?;
    let bytes = deploy::safe_fs::read_trusted(config, me, 1 << 20).with_context(|| format!("{} is not trusted", config.display()))?;
    let text = String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", config.display()))?;
    let mut doc: toml::Table = toml::from_str(&text).with_context(|| format!("{} is not valid TOML", config.display()))?;
    let devices = doc.remove("devices").unwrap_or_else(|| toml::Value::Table(Default::default()));
    let devices: DevicesConfig = devices.try_into().with_context(|| format!("[devices] in {} is not valid", config.display()))?;
    if let Some(slot) = &devices.id_card {
        if let drivers::config::IdCardConfig::Sam { photo_decoder, .. } = &slot.device {
            if let Some(lib) = photo_decoder.library.as_deref() {
                // A missing library: nobody else may be able to put one there either.
                let checked = if lib.exists() { lib } else { deploy::safe_fs::parent_dir(lib) };
                deploy::safe_fs::check_trusted(checked, me).with_context(|| format!("the photo decoder library {} is not loaded", lib.display()))?;
            }
        }
    }
    Ok(devices)
}

pub fn run(config: &Path, simulated: bool, as_json: bool) -> Result<ExitCode> {
    let (reports, simulation) = if simulated {
        let (sim, devices) = Simulation::start().context("cannot start the device simulators")?;
        let mut reports = selftest::run(&devices);
        sim.explain(&mut reports);
        (reports, Some(sim))
    } else {
        (selftest::run(&load_devices(config)?), None)
    };
    let mut reports = reports;
    reports.extend(font_reports(&installed_families()));
    reports.extend(engine_reports());
    let ok = selftest::all_required_usable(&reports);
    if as_json {
        let devices: Vec<_> = reports
            .iter()
            .map(|r| {
                json!({
                    "device": r.slot,
                    "what": r.what,
                    "required": r.required,
                    "state": r.state(),
                    "reason": r.reason(),
                })
            })
            .collect();
        println!("{:#}", json!({ "simulated": simulated, "ok": ok, "devices": devices }));
    } else {
        print_table(&reports);
        println!();
        println!(
            "{}",
            if ok { "all required devices usable" } else { "a required device is absent: this terminal cannot serve villagers" }
        );
    }
    // Simulators stop only after the tests and the output are done.
    drop(simulation);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The font families the kiosk's screens need, with their Debian packages:
/// the one list `ui` uses too.
pub use model::fonts::FONT_FAMILIES;

/// Every family fontconfig knows (`fc-list : family`); empty without fontconfig.
fn installed_families() -> Vec<String> {
    let Ok(out) = std::process::Command::new("fc-list").args([":", "family"]).output() else { return Vec::new() };
    String::from_utf8_lossy(&out.stdout).lines().flat_map(|l| l.split(',')).map(|f| f.trim().to_owned()).collect()
}

/// One row per UI font: without it a language's screens show no text, so
/// each is required.
fn font_reports(installed: &[String]) -> Vec<DeviceReport> {
    FONT_FAMILIES
        .iter()
        .map(|(family, package)| {
            let found = installed.iter().any(|f| f == family);
            DeviceReport {
                slot: "font",
                what: (*family).to_owned(),
                required: true,
                health: if found {
                    drivers::Health::Ok
                } else {
                    drivers::Health::Absent(format!("not installed (Debian package {package}); screens in its script show no text"))
                },
                detail: if found { format!("installed ({package})") } else { String::new() },
            }
        })
        .collect()
}

/// One row per on-screen keyboard engine: each must load its Debian data
/// and answer a fixed probe. Without them a villager cannot type a name, so
/// both are required. librime's staging copy goes to a scratch directory
/// here, never the kiosk's own.
fn engine_reports() -> Vec<DeviceReport> {
    let staging = tempfile::Builder::new().prefix("kioskctl-rime-").tempdir();
    let checks = [
        textinput::check::check_handwriting(std::path::Path::new(textinput::DEBIAN_MODEL)),
        match &staging {
            Ok(dir) => textinput::check::check_pinyin(std::path::Path::new(textinput::DEBIAN_RIME_DATA), dir.path()),
            Err(e) => textinput::check::EngineCheck {
                engine: "pinyin",
                data: textinput::DEBIAN_RIME_DATA.into(),
                result: Err(textinput::Error::Scratch(std::io::Error::new(e.kind(), e.to_string()))),
            },
        },
    ];
    checks.into_iter().map(engine_report).collect()
}

fn engine_report(check: textinput::check::EngineCheck) -> DeviceReport {
    let (health, detail) = match check.result {
        Ok(detail) => (drivers::Health::Ok, detail),
        Err(e) => (drivers::Health::Absent(e.to_string()), String::new()),
    };
    DeviceReport { slot: "keyboard", what: check.engine.to_owned(), required: true, health, detail }
}

fn print_table(reports: &[DeviceReport]) {
    let rows: Vec<[String; 5]> = reports
        .iter()
        .map(|r| {
            [
                r.slot.to_owned(),
                r.what.clone(),
                if r.required { "yes".into() } else { "no".into() },
                r.state().to_owned(),
                r.reason().to_owned(),
            ]
        })
        .collect();
    let header = ["DEVICE", "WHAT", "REQUIRED", "STATE", "REASON"];
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..4).map(width).collect();
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate().take(4) {
            s.push_str(c);
            s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
        }
        s.push_str(cells[4]);
        s
    };
    println!("{}", line(header));
    for r in &rows {
        println!("{}", line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_font_is_a_required_absence() {
        let reports = font_reports(&["Noto Sans CJK SC".to_owned(), "DejaVu Sans".to_owned()]);
        assert_eq!(reports.len(), 3);
        assert_eq!(reports[0].state(), "ok");
        assert!(reports[1].required && reports[1].reason().contains("fonts-ddc-uchen"), "{:?}", reports[1]);
        assert!(!selftest::all_required_usable(&reports));
    }

    #[test]
    fn a_keyboard_engine_without_its_data_is_a_required_absence() {
        let staging = tempfile::tempdir().expect("tempdir");
        let broken = engine_report(textinput::check::check_pinyin(Path::new("/nonexistent/rime-data"), staging.path()));
        assert_eq!((broken.slot, broken.required, broken.state()), ("keyboard", true, "absent"));
        assert!(broken.reason().contains("rime-data-luna-pinyin"), "{broken:?}");
        let reports = engine_reports();
        assert_eq!(reports.iter().map(|r| (r.what.as_str(), r.state())).collect::<Vec<_>>(), [("handwriting", "ok"), ("pinyin", "ok")]);
    }
}
