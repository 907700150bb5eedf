//! Issue 12 item 1: the kiosk user must not become root through files root
//! tools trust. Each test plays the compromised kiosk process (user
//! `cunban`), whose one lever on the old layout was a directory it could
//! write (`/etc/cunban`, root:cunban 0775): it is played here by a
//! directory made group-writable, or a file given to another owner. The
//! tests run as whoever runs `cargo test`; kioskctl trusts files owned by
//! root or by the user running it, so they hold as root and as not.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Command;

use model::auth::SigningKey;
use crate::common::{kioskctl, kioskctl_with_stdin};

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// A signed bundle whose "install" leaves a marker, so a test can tell
/// whether anything was installed.
fn signed_bundle(dir: &Path, key: &SigningKey) -> std::path::PathBuf {
    let src = dir.join("payload");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("app"), "an update the kiosk user signed itself").unwrap();
    let out = dir.join("evil.tar");
    deploy::update::build_bundle(&out, key, "cunban-kiosk", "99.0.0", &[src.join("app")]).unwrap();
    out
}

#[test]
fn a_kiosk_user_swapped_update_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    // The old /etc/cunban: root:cunban 0775, so the kiosk user put its own key there.
    let etc = dir.path().join("etc-cunban");
    std::fs::create_dir(&etc).unwrap();
    chmod(&etc, 0o775);
    let attacker = SigningKey::from_seed(&[66; 32]);
    let key_file = etc.join("update-key.pub");
    std::fs::write(&key_file, attacker.public_key().to_string()).unwrap();
    chmod(&key_file, 0o644);
    let bundle = signed_bundle(dir.path(), &attacker);
    let marker = dir.path().join("installed");
    let apply = format!("touch {}", marker.display());
    let state = dir.path().join("state");
    let install = || {
        kioskctl(&[
            "update", "install", bundle.to_str().unwrap(),
            "--key", key_file.to_str().unwrap(),
            "--state-dir", state.to_str().unwrap(),
            "--apply-cmd", &apply, "--health-cmd", "true",
        ])
    };
    let (code, out, err) = install();
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("not trusted") && err.contains("writable by its group"), "{err}");
    assert!(err.contains(&etc.display().to_string()), "the error names the directory: {err}");
    assert!(!marker.exists(), "the kiosk user's update was installed");

    // The same key in a directory only its owner writes is accepted...
    chmod(&etc, 0o755);
    // ...unless the file itself belongs to someone else (as root we can make it so).
    if is_root() {
        std::os::unix::fs::chown(&key_file, Some(4242), None).unwrap();
        let (code, _, err) = install();
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("owned by uid 4242"), "{err}");
        assert!(!marker.exists());
        std::os::unix::fs::chown(&key_file, Some(0), None).unwrap();
    }
    let (code, out, err) = install();
    assert_eq!(code, 0, "a trusted key works: {out}{err}");
    assert!(marker.exists());
}

#[test]
fn a_symlink_at_the_temp_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(&config, "# note\nidle_timeout_secs = 120\n").unwrap();
    // The old code wrote through `.kiosk.toml.tmp`, following a symlink.
    let victim = dir.path().join("shadow");
    std::fs::write(&victim, "root:secret\n").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join(".kiosk.toml.tmp")).unwrap();
    let (code, _, err) = kioskctl(&["config", "set", "idle_timeout_secs", "90", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root:secret\n", "written through the symlink");
    let meta = std::fs::symlink_metadata(&config).unwrap();
    assert!(meta.file_type().is_file(), "kiosk.toml became a symlink");
    assert!(std::fs::read_to_string(&config).unwrap().contains("idle_timeout_secs = 90"));
    let temps: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") && n != ".kiosk.toml.tmp")
        .collect();
    assert!(temps.is_empty(), "temp files left: {temps:?}");
}

#[test]
fn kiosk_toml_is_not_world_readable() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(&config, "idle_timeout_secs = 120\n").unwrap();
    chmod(&config, 0o644);
    let (code, _, err) = kioskctl(&["config", "set", "idle_timeout_secs", "90", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::metadata(&config).unwrap().mode() & 0o777, 0o640);
}

#[test]
fn a_pin_on_the_command_line_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(&config, "idle_timeout_secs = 120\n").unwrap();
    let cfg = config.to_str().unwrap();
    let (code, out, err) = kioskctl(&["config", "set", "technician_pin", "246810", "--config", cfg]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("never given on the command line"), "{err}");
    assert!(!err.contains("246810") && !out.contains("246810"));
    assert!(!std::fs::read_to_string(&config).unwrap().contains("technician_pin_hash"), "nothing set");
    // Typed (here: piped) on stdin instead, it is taken and stored hashed.
    let (code, out, err) = kioskctl_with_stdin(&["config", "set", "technician_pin", "--config", cfg], "246810\n");
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("246810"), "{text}");
    let doc: toml::Table = toml::from_str(&text).unwrap();
    assert!(model::pin::verify_pin(doc["technician_pin_hash"].as_str().unwrap(), "246810"));
    let (code, _, err) = kioskctl_with_stdin(&["config", "set", "technician_pin", "--config", cfg], "12\n");
    assert_eq!(code, 2, "{err}");
}

const CONSTRUCTOR: &str = r#"
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void owned(void) {
    const char *m = getenv("CUNBAN_TEST_MARKER");
    if (m) { FILE *f = fopen(m, "w"); if (f) { fputs("ran as root's library\n", f); fclose(f); } }
}
int unpack(char *wlt, char *bmp, int with_header) { (void)wlt; (void)bmp; (void)with_header; return 0; }
"#;

#[test]
fn a_photo_decoder_the_kiosk_user_could_write_is_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    // The library sits where the kiosk user may write (its data directory, or the old /etc/cunban).
    let writable = dir.path().join("var-lib-cunban");
    std::fs::create_dir(&writable).unwrap();
    let lib = writable.join("libwlt.so");
    let src = dir.path().join("evil.c");
    std::fs::write(&src, CONSTRUCTOR).unwrap();
    match Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&src).status() {
        Ok(s) if s.success() => {}
        _ => {
            panic!("no C compiler (cc) to build the test library; the machine needs gcc");
        }
    }
    chmod(&writable, 0o775);
    // A SAM that answers (the simulator on a pty): selftest then goes on to load the decoder.
    let sam = drivers::SamSimulator::start().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "[devices.id_card]\nkind = \"sam\"\npath = \"{}\"\nphoto_decoder = {{ library = \"{}\" }}\n[devices.receipt_printer]\nkind = \"file\"\npath = \"{}\"\n",
            sam.path().display(),
            lib.display(),
            dir.path().join("receipt").display()
        ),
    )
    .unwrap();
    chmod(&config, 0o640);
    let marker = dir.path().join("marker");
    let out = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["selftest", "--config", config.to_str().unwrap()])
        .env("CUNBAN_TEST_MARKER", &marker)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!marker.exists(), "kioskctl selftest loaded a library the kiosk user could have written");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("photo decoder library") && err.contains("writable by its group"), "{err}");

    // A kiosk.toml the kiosk user could write is refused the same way.
    let etc = dir.path().join("etc-cunban");
    std::fs::create_dir(&etc).unwrap();
    chmod(&etc, 0o775);
    let swapped = etc.join("kiosk.toml");
    std::fs::copy(&config, &swapped).unwrap();
    let (code, _, err) = kioskctl(&["selftest", "--config", swapped.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not trusted") && err.contains("writable by its group"), "{err}");
}
