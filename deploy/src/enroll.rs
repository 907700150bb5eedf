//! `kioskctl enroll`: make the device key, show the QR and code, wait for
//! the technician to bind it on the hub, keep the enrollment and write
//! kiosk.toml.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use model::enroll::display_code;
use offline_cache::{EnrollError, Enroller, EnrolledTerminal};
use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;
use serde_json::json;

/// The terminal's serial: the board's, else derived from the machine id.
pub fn detect_serial() -> String {
    let clean = |s: &str| -> Option<String> {
        let s: String = s.trim().chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect();
        let junk = s.is_empty() || s.chars().all(|c| c == '0' || c == '-') || s.to_ascii_lowercase().contains("filled");
        (!junk && model::enroll::valid_serial(&s)).then_some(s)
    };
    for f in ["/sys/class/dmi/id/product_serial", "/sys/class/dmi/id/board_serial"] {
        if let Some(s) = std::fs::read_to_string(f).ok().as_deref().and_then(clean) {
            return s;
        }
    }
    match std::fs::read_to_string("/etc/machine-id") {
        Ok(id) if id.trim().len() >= 12 => format!("MID-{}", &id.trim()[..12]),
        _ => "UNKNOWN".into(),
    }
}

/// The QR as text for a terminal (two rows of modules per line).
pub fn qr_text(payload: &str) -> Result<String> {
    let code = QrCode::new(payload.as_bytes()).context("cannot make a QR code of the enrollment data")?;
    Ok(code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build())
}

/// Gives the files enrollment made in `data_dir` (and the directory) to
/// the kiosk user, never following a symlink: run as root, `kioskctl
/// enroll` would otherwise leave a key the kiosk cannot read.
fn hand_to_kiosk_user(data_dir: &Path, owner: deploy::safe_fs::Owner) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let names = [offline_cache::enroll::DEVICE_KEY_FILE, offline_cache::enroll::ENROLLMENT_FILE, crate::kiosk_toml::ENROLLED_FILE];
    for p in std::iter::once(data_dir.to_owned()).chain(names.iter().map(|n| data_dir.join(n))) {
        let f = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", p.display())),
        };
        std::os::unix::fs::fchown(&f, Some(owner.uid), Some(owner.gid)).with_context(|| format!("cannot give {} to the kiosk user", p.display()))?;
    }
    Ok(())
}

pub fn run(hub: &str, data_dir: &Path, serial: Option<&str>, config: Option<&Path>, timeout: Duration, kiosk_user: &str, as_json: bool) -> Result<ExitCode> {
    if let Some(done) = EnrolledTerminal::load(data_dir)? {
        eprintln!(
            "kioskctl: {} is already enrolled as {} (village {}); to enroll again, revoke it on the hub and move {} away",
            data_dir.display(),
            done.enrollment.terminal_id,
            done.enrollment.village_code,
            data_dir.join(offline_cache::enroll::ENROLLMENT_FILE).display()
        );
        return Ok(ExitCode::from(1));
    }
    let serial = serial.map(str::to_owned).unwrap_or_else(detect_serial);
    let enroller = Enroller::new(hub, data_dir, &serial)?;
    let code = display_code(enroller.code());
    if as_json {
        println!("{}", json!({ "event": "waiting", "serial": serial, "fingerprint": enroller.fingerprint(), "code": code, "qr": enroller.qr_payload() }));
    } else {
        println!("{}", qr_text(&enroller.qr_payload())?);
        println!("serial        {serial}");
        println!("key           {}", enroller.fingerprint());
        println!("code          {code}");
        println!();
        println!("On the hub:   hub enroll --code {code} --village <12-digit code> --profile kiosk --fingerprint {}", enroller.fingerprint());
        println!("Waiting for the technician (up to {} min)...", timeout.as_secs() / 60);
    }
    // TPM 2.0 would hold the key where present; this build keeps it in a 0600 file.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let mut warned = false;
    let result = rt.block_on(enroller.wait(data_dir, Duration::from_secs(3), timeout, |w| {
        if let Err(e) = w {
            if !warned {
                eprintln!("kioskctl: {e}; still trying");
                warned = true;
            }
        }
    }));
    let enrolled = match result {
        Ok(e) => e,
        Err(e @ (EnrollError::Refused { .. } | EnrollError::TimedOut)) => {
            eprintln!("kioskctl: {e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    let owner = crate::kiosk_toml::data_owner(kiosk_user);
    let mut warnings = Vec::new();
    if let Some(path) = config {
        warnings = crate::kiosk_toml::apply_enrollment(path, &enrolled, data_dir, owner)?;
    }
    if let Some(owner) = owner {
        hand_to_kiosk_user(data_dir, owner)?;
    }
    let e = &enrolled.enrollment;
    if as_json {
        println!(
            "{}",
            json!({ "event": "enrolled", "terminal_id": e.terminal_id, "village_code": e.village_code, "profile": e.profile,
                    "config_version": e.config.version, "config_file": config,
                    "enrolled_file": data_dir.join(crate::kiosk_toml::ENROLLED_FILE), "warnings": warnings })
        );
    } else {
        let village = model::VillageCode::parse(&e.village_code).ok().and_then(|v| v.name().map(str::to_owned)).unwrap_or_default();
        println!("enrolled as {} for {} {} ({})", e.terminal_id, e.village_code, village, e.profile.as_str());
        if let Some(path) = config {
            println!(
                "wrote {} (kiosk.toml {}); start the kiosk: systemctl restart cunban-kiosk",
                data_dir.join(crate::kiosk_toml::ENROLLED_FILE).display(),
                path.display()
            );
        }
        for w in &warnings {
            println!("WARNING: {w}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
