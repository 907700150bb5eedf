//! The Debian package (issue 8): built with cargo-deb from kiosk/Cargo.toml's
//! `[package.metadata.deb]`, unpacked into a scratch root (dpkg-deb -x: a
//! `dpkg --root` install would run the maintainer scripts inside that root,
//! which has no shell), checked file by file, and its unit verified with
//! `systemd-analyze verify`.
//!
//! The package is made of the debug binaries this test run built
//! (`--profile dev --no-build`), so it costs seconds, not a release build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

#[test]
fn the_package_installs_the_binaries_units_and_rules() {
    let profile_dir = PathBuf::from(env!("CARGO_BIN_EXE_kioskctl")).parent().unwrap().to_owned();
    let target_dir = profile_dir.parent().unwrap().to_owned();
    if !profile_dir.join("kiosk").exists() {
        // `cargo test` builds kioskctl for this test but not the kiosk binary.
        eprintln!("SKIP: {} is missing; build it first: cargo build -p kiosk --bin kiosk (./dev test does)", profile_dir.join("kiosk").display());
        return;
    }
    let (has_deb, _) = run(Command::new("cargo").args(["deb", "--version"]));
    assert!(has_deb, "cargo-deb is missing: ./dev test installs it (cargo install cargo-deb --locked --version 3.8.0)");

    let out = tempfile::tempdir().unwrap();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let (ok, log) = run(Command::new("cargo")
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args(["deb", "-p", "kiosk", "--no-build", "--profile", "dev", "--fast", "--no-strip", "-o"])
        .arg(out.path()));
    assert!(ok, "cargo deb failed:\n{log}");
    let deb = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "deb")).expect("a .deb");
    assert!(deb.file_name().unwrap().to_string_lossy().starts_with("cunban-kiosk_"), "{}", deb.display());

    // Control: name and the runtime the kiosk needs.
    let (ok, control) = run(Command::new("dpkg-deb").args(["-f"]).arg(&deb));
    assert!(ok, "{control}");
    assert!(control.contains("Package: cunban-kiosk"), "{control}");
    let depends = control.lines().find(|l| l.starts_with("Depends:")).expect("Depends").to_owned();
    for dep in ["cage", "cups", "sane-utils", "espeak-ng", "fonts-noto-cjk", "fonts-noto-core", "fonts-ddc-uchen", "libc6"] {
        assert!(depends.split([' ', ',']).any(|d| d == dep), "{dep} missing from {depends}");
    }

    // Unpack into a scratch root and look at what landed.
    let root = tempfile::tempdir().unwrap();
    let (ok, log) = run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root.path()));
    assert!(ok, "{log}");
    let r = root.path();
    for (file, want) in [
        ("usr/bin/kiosk", 0o755),
        ("usr/bin/kioskctl", 0o755),
        ("usr/lib/systemd/system/cunban-kiosk.service", 0o644),
        ("usr/lib/udev/rules.d/70-cunban.rules", 0o644),
        ("usr/lib/systemd/journald.conf.d/90-cunban.conf", 0o644),
        ("usr/lib/sysctl.d/90-cunban.conf", 0o644),
        ("usr/lib/systemd/system.conf.d/90-cunban.conf", 0o644),
        ("usr/share/doc/cunban-kiosk/README.md", 0o644),
    ] {
        assert_eq!(mode(&r.join(file)), want, "{file}");
    }
    // The packaged kioskctl runs.
    let (ok, version) = run(&mut Command::new(r.join("usr/bin/kioskctl")).arg("--version"));
    assert!(ok && version.starts_with("kioskctl "), "{version}");

    let unit = std::fs::read_to_string(r.join("usr/lib/systemd/system/cunban-kiosk.service")).unwrap();
    let has = |line: &str| unit.lines().any(|l| l.trim() == line);
    for line in ["Type=notify", "NotifyAccess=all", "Restart=always", "WatchdogSec=30s", "RequiresMountsFor=/var/lib/cunban", "User=cunban", "EnvironmentFile=-/etc/cunban/enroll.env"] {
        assert!(has(line), "{line} missing from the unit:\n{unit}");
    }
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).expect("ExecStart");
    assert!(exec.starts_with("ExecStart=/usr/bin/cage ") && exec.contains("-- /usr/bin/kiosk --config /etc/cunban/kiosk.toml"), "{exec}");
    assert!(!exec.split_whitespace().any(|a| a == "-s"), "VT switching must stay off: {exec}");
    assert!(std::fs::read_to_string(r.join("usr/lib/sysctl.d/90-cunban.conf")).unwrap().contains("kernel.sysrq = 0"));
    assert!(std::fs::read_to_string(r.join("usr/lib/systemd/system.conf.d/90-cunban.conf")).unwrap().contains("CtrlAltDelBurstAction=none"));
    let journald = std::fs::read_to_string(r.join("usr/lib/systemd/journald.conf.d/90-cunban.conf")).unwrap();
    assert!(journald.contains("SystemMaxUse=") && journald.contains("Storage=persistent"), "{journald}");
    let rules = std::fs::read_to_string(r.join("usr/lib/udev/rules.d/70-cunban.rules")).unwrap();
    assert!(rules.contains("SYMLINK+=\"cunban-idcard\"") && rules.contains("SYMLINK+=\"cunban-receipt\""), "{rules}");
    for line in rules.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        // Every rule is KEY op "value" pairs separated by ", ".
        assert!(line.split(", ").all(|kv| kv.contains("==\"") || kv.contains("+=\"") || kv.contains("=\"")), "malformed rule: {line}");
    }

    // Maintainer scripts: shell that parses, and that mask ctrl-alt-del.
    let ctl = tempfile::tempdir().unwrap();
    let (ok, log) = run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(ctl.path()));
    assert!(ok, "{log}");
    let postinst = std::fs::read_to_string(ctl.path().join("postinst")).unwrap();
    assert!(postinst.contains("systemctl mask ctrl-alt-del.target") && postinst.contains("install -d -o cunban -g cunban -m 0700 /var/lib/cunban"));
    for script in ["postinst", "prerm"] {
        let (ok, log) = run(Command::new("sh").arg("-n").arg(ctl.path().join(script)));
        assert!(ok, "{script}: {log}");
    }

    // systemd's own check of the unit (it needs the ExecStart binary, cage, on this machine).
    let (has_analyze, _) = run(Command::new("systemd-analyze").arg("--version"));
    assert!(has_analyze, "systemd-analyze is missing: ./dev test installs the systemd package");
    assert!(Path::new("/usr/bin/cage").exists(), "cage is missing: ./dev test installs it (TEST_PACKAGES)");
    let (ok, log) = run(Command::new("systemd-analyze").arg("verify").arg(r.join("usr/lib/systemd/system/cunban-kiosk.service")));
    assert!(ok, "systemd-analyze verify:\n{log}");
}
