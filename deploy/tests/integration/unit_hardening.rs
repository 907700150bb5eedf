//! The kiosk unit's confinement (issue 19): systemd's own exposure score,
//! and the lines that keep cage working (its DRM and input devices, tty1,
//! the Wayland socket) while the root file system is read-only. That the
//! kiosk files with only its data directory writable is shown end to end
//! in `tests` (`read_only_root`).

use std::path::Path;
use std::process::Command;

fn unit_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/cunban-kiosk.service")
}

/// "→ Overall exposure level for cunban-kiosk.service: 2.0 OK 🙂" → 2.0
fn exposure(report: &str) -> Option<f64> {
    let line = report.lines().find(|l| l.contains("Overall exposure level"))?;
    line.rsplit_once(": ")?.1.split_whitespace().next()?.parse().ok()
}

#[test]
fn the_kiosk_unit_is_hardened_below_exposure_6() {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(unit_path())
        .output()
        .expect("systemd-analyze is missing: ./dev test installs the systemd package (TEST_PACKAGES)");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let figure = exposure(&report).unwrap_or_else(|| panic!("no exposure figure in:\n{report}"));
    // The figure, for the record (8.7 EXPOSED with the unit before issue 19).
    println!("systemd-analyze security --offline=true cunban-kiosk.service: {figure:.1} (before issue 19: 8.7 EXPOSED)");
    assert!(figure < 6.0, "exposure {figure}:\n{report}");
}

#[test]
fn the_read_only_unit_still_gives_cage_its_devices() {
    let unit = std::fs::read_to_string(unit_path()).unwrap();
    let lines: Vec<&str> = unit.lines().map(str::trim).filter(|l| !l.starts_with('#')).collect();
    let has = |l: &str| lines.contains(&l);
    assert!(has("ProtectSystem=strict"), "{unit}");
    let writable: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix("ReadWritePaths=")).collect();
    // The data partition, and the login's runtime directory for cage's Wayland socket.
    assert_eq!(writable, ["/var/lib/cunban", "-/run/user"], "{unit}");
    // PrivateDevices would hide /dev/dri, /dev/input and tty1 from cage.
    assert!(!lines.iter().any(|l| l.starts_with("PrivateDevices=") && !l.ends_with("no")), "{unit}");
    for dev in ["DeviceAllow=/dev/tty1 rw", "DeviceAllow=char-drm rw", "DeviceAllow=char-input rw", "DeviceAllow=char-ttyUSB rw", "DeviceAllow=char-usb rw"] {
        assert!(has(dev), "{dev} missing:\n{unit}");
    }
    let groups = lines.iter().find_map(|l| l.strip_prefix("SupplementaryGroups=")).expect("SupplementaryGroups");
    for g in ["video", "dialout", "lp"] {
        assert!(groups.split_whitespace().any(|x| x == g), "{g} missing from {groups}");
    }
    assert!(has("PAMName=login") && has("TTYPath=/dev/tty1"), "cage needs a logind session on tty1:\n{unit}");

    let out = Command::new("systemd-analyze").arg("verify").arg(unit_path()).output().expect("systemd-analyze is missing (TEST_PACKAGES: systemd)");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !log.contains("Unknown key"), "systemd-analyze verify:\n{log}");
}
