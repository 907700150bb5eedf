//! Signed update bundles (issue 8): a good bundle installs; a bad signature
//! or a tampered payload is refused before anything is installed; a version
//! that fails its health check is rolled back to the previous one. Through
//! the library and through `kioskctl update`.

use std::path::{Path, PathBuf};

use deploy::update::{build_bundle, System, UpdateError, Updater};
use model::auth::SigningKey;
use crate::common::kioskctl;

/// A stand-in machine: "installing" copies the payload's `app` file into
/// place; the health check fails when the installed app says it crashes.
struct Machine {
    installed: PathBuf,
    applied: Vec<String>,
}

impl System for Machine {
    fn apply(&mut self, version: &str, payload: &Path) -> Result<(), String> {
        std::fs::copy(payload.join("app"), &self.installed).map_err(|e| e.to_string())?;
        self.applied.push(version.to_owned());
        Ok(())
    }
    fn health(&mut self, _version: &str) -> Result<(), String> {
        let app = std::fs::read_to_string(&self.installed).map_err(|e| e.to_string())?;
        if app.contains("crash") { Err("the kiosk did not report ready".into()) } else { Ok(()) }
    }
}

fn bundle(dir: &Path, key: &SigningKey, version: &str, app: &str) -> PathBuf {
    let src = dir.join(format!("src-{version}"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("app"), app).unwrap();
    let out = dir.join(format!("cunban-update-{version}.tar"));
    build_bundle(&out, key, "cunban-kiosk", version, &[src.join("app")]).unwrap();
    out
}

#[test]
fn good_bad_signature_tampered_and_unhealthy_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed(&[1; 32]);
    let stranger = SigningKey::from_seed(&[2; 32]);
    let updater = Updater::new(&dir.path().join("state"));
    let mut m = Machine { installed: dir.path().join("installed-app"), applied: Vec::new() };

    let v1 = bundle(dir.path(), &key, "0.1.0", "kiosk 0.1.0");
    assert_eq!(updater.install(&v1, &key.public_key(), &mut m, false).unwrap().version, "0.1.0");
    let v2 = bundle(dir.path(), &key, "0.2.0", "kiosk 0.2.0");
    let done = updater.install(&v2, &key.public_key(), &mut m, false).unwrap();
    assert_eq!((done.version.as_str(), done.previous.as_deref()), ("0.2.0", Some("0.1.0")));
    assert_eq!(std::fs::read_to_string(&m.installed).unwrap(), "kiosk 0.2.0");

    // Signed by someone else: refused, nothing applied.
    let forged = bundle(dir.path(), &stranger, "0.3.0", "kiosk 0.3.0 (not ours)");
    assert!(matches!(updater.install(&forged, &key.public_key(), &mut m, false), Err(UpdateError::BadSignature)));
    // Signed, then the payload swapped: refused, nothing applied.
    let tampered = bundle(dir.path(), &key, "0.3.1", "kiosk 0.3.1");
    let bytes = std::fs::read(&tampered).unwrap();
    let at = bytes.windows(11).position(|w| w == b"kiosk 0.3.1").unwrap();
    let mut evil = bytes.clone();
    evil[at..at + 11].copy_from_slice(b"evil! 0.3.1");
    std::fs::write(&tampered, evil).unwrap();
    assert!(matches!(updater.install(&tampered, &key.public_key(), &mut m, false), Err(UpdateError::PayloadMismatch { .. })));
    assert_eq!(m.applied, ["0.1.0", "0.2.0"], "refused bundles were never applied");

    // Installs, fails its health check, and 0.2.0 is put back.
    let bad = bundle(dir.path(), &key, "0.4.0", "kiosk 0.4.0 crash on start");
    let err = updater.install(&bad, &key.public_key(), &mut m, false).unwrap_err();
    assert!(matches!(&err, UpdateError::HealthFailed { previous: Some(p), .. } if p == "0.2.0"), "{err}");
    assert_eq!(std::fs::read_to_string(&m.installed).unwrap(), "kiosk 0.2.0");
    assert_eq!(updater.current().unwrap().as_deref(), Some("0.2.0"));
    assert_eq!(m.applied, ["0.1.0", "0.2.0", "0.4.0", "0.2.0"]);

    // No going back by accident.
    assert!(matches!(updater.install(&v1, &key.public_key(), &mut m, false), Err(UpdateError::Downgrade { .. })));
    let history = std::fs::read_to_string(dir.path().join("state/history.log")).unwrap();
    assert!(history.contains("0.4.0 failed") && history.contains("rolled back to 0.2.0"), "{history}");
}

#[test]
fn kioskctl_update_signs_installs_and_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_string_lossy().into_owned();
    let (code, public, err) = kioskctl(&["update", "keygen", &d("update.key")]);
    assert_eq!(code, 0, "{err}");
    let public = public.trim().to_owned();
    for (v, app) in [("1.0.0", "good"), ("1.1.0", "crash")] {
        std::fs::create_dir_all(d(v)).unwrap();
        std::fs::write(dir.path().join(v).join("app"), app).unwrap();
        let (code, _, err) = kioskctl(&["update", "sign", "--key", &d("update.key"), "--version", v, "--out", &d(&format!("{v}.tar")), &format!("{}/app", d(v))]);
        assert_eq!(code, 0, "{err}");
    }
    let installed = d("installed");
    let apply = format!("cp {{dir}}/app {installed}");
    let health = format!("! grep -q crash {installed}");
    let install = |bundle: &str| kioskctl(&["update", "install", bundle, "--key", &public, "--state-dir", &d("state"), "--apply-cmd", &apply, "--health-cmd", &health]);
    let (code, out, err) = install(&d("1.0.0.tar"));
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = install(&d("1.1.0.tar"));
    assert_eq!(code, 1);
    assert!(err.contains("failed its health check") && err.contains("rolled back to 1.0.0"), "{err}");
    assert_eq!(std::fs::read_to_string(&installed).unwrap(), "good");
    let (code, _, err) = kioskctl(&["update", "install", &d("1.1.0.tar"), "--key", "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "--state-dir", &d("state")]);
    assert_eq!(code, 2, "{err}");
}

/// A bundle whose signed manifest is exactly `manifest` (built by hand:
/// `build_bundle` would refuse these), with one payload file `app`.
fn hand_made_bundle(dir: &Path, key: &SigningKey, name: &str, package: &str, version: &str) -> PathBuf {
    use base64::Engine as _;
    use sha2::Digest as _;
    let app = b"kiosk from somewhere else";
    let manifest = serde_json::json!({
        "format": 1, "package": package, "version": version,
        "files": [{ "path": "app", "sha256": hex::encode(sha2::Sha256::digest(app)), "size": app.len() }],
    });
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let sig = base64::engine::general_purpose::STANDARD.encode(key.sign(&bytes));
    let out = dir.join(name);
    let mut tar = tar::Builder::new(std::fs::File::create(&out).unwrap());
    for (n, data) in [("manifest.json", &bytes[..]), ("manifest.sig", sig.as_bytes()), ("app", &app[..])] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, n, data).unwrap();
    }
    tar.finish().unwrap();
    out
}

/// Issue 12 item 9: the update key may sign more than this package; a
/// bundle signed for another one is not installed here.
#[test]
fn an_update_manifest_for_another_package_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed(&[1; 32]);
    let updater = Updater::new(&dir.path().join("state"));
    let mut m = Machine { installed: dir.path().join("installed-app"), applied: Vec::new() };
    let other = hand_made_bundle(dir.path(), &key, "other.tar", "cunban-hub", "9.0.0");
    let err = updater.install(&other, &key.public_key(), &mut m, false).unwrap_err();
    assert!(err.to_string().contains("cunban-hub"), "{err}");
    assert!(m.applied.is_empty(), "nothing applied");
    let ours = hand_made_bundle(dir.path(), &key, "ours.tar", "cunban-kiosk", "9.0.0");
    assert_eq!(updater.install(&ours, &key.public_key(), &mut m, false).unwrap().version, "9.0.0");
}

/// Issue 12 item 9: the version names a directory under `versions/`; `..`
/// would make it the state directory itself (removed, then replaced by the
/// payload), `.` the versions directory.
#[test]
fn a_manifest_version_dotdot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed(&[1; 32]);
    let state = dir.path().join("state");
    let updater = Updater::new(&state);
    let mut m = Machine { installed: dir.path().join("installed-app"), applied: Vec::new() };
    let v1 = bundle(dir.path(), &key, "0.1.0", "kiosk 0.1.0");
    updater.install(&v1, &key.public_key(), &mut m, false).unwrap();
    for (i, version) in ["..", ".", "../0.2.0", "0.2.0/..", ".0.2"].into_iter().enumerate() {
        let b = hand_made_bundle(dir.path(), &key, &format!("dot{i}.tar"), "cunban-kiosk", version);
        let r = updater.install(&b, &key.public_key(), &mut m, true);
        assert!(matches!(r, Err(UpdateError::NotABundle(_))), "{version:?}: {r:?}");
    }
    assert_eq!(m.applied, ["0.1.0"], "nothing else applied");
    assert_eq!(updater.current().unwrap().as_deref(), Some("0.1.0"));
    assert!(state.join("versions/0.1.0/app").exists(), "the kept version is still there");
}

/// Issue 12 item 1/9: `current` was written through a fixed temp name; a
/// symlink planted there made the updater (root) overwrite its target.
#[test]
fn a_symlink_at_the_current_temp_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed(&[1; 32]);
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, state.join(".current.tmp")).unwrap();
    let updater = Updater::new(&state);
    let mut m = Machine { installed: dir.path().join("installed-app"), applied: Vec::new() };
    let v1 = bundle(dir.path(), &key, "0.1.0", "kiosk 0.1.0");
    updater.install(&v1, &key.public_key(), &mut m, false).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!std::fs::symlink_metadata(state.join("current")).unwrap().file_type().is_symlink());
    assert_eq!(updater.current().unwrap().as_deref(), Some("0.1.0"));
}
