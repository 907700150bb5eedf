//! `kioskctl selftest`: every configured device's self-test, as a table or
//! JSON. Exit 1 when a required device is absent.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use drivers::config::DevicesConfig;
use drivers::selftest::{self, DeviceReport, Simulation};
use serde_json::json;

/// Reads the `[devices]` table of the terminal configuration; the rest of
/// the file is the kiosk's business.
pub fn load_devices(config: &Path) -> Result<DevicesConfig> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {} (give --config, or --simulated)", config.display()))?;
    let mut doc: toml::Table = toml::from_str(&text).with_context(|| format!("{} is not valid TOML", config.display()))?;
    let devices = doc.remove("devices").unwrap_or_else(|| toml::Value::Table(Default::default()));
    devices.try_into().with_context(|| format!("[devices] in {} is not valid", config.display()))
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
