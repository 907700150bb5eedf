//! `kioskctl update follow` (issue 19): installs what the kiosk downloaded
//! for the hub's rollout, only in the quiet hours and when no visit holds
//! the visit lock; verifies exactly as `update install` (the same
//! `Updater`), reports the outcome for the next heartbeat, and does not try
//! a failed version again.

use std::os::unix::io::AsRawFd as _;
use std::path::Path;

use deploy::update::build_bundle;
use model::auth::SigningKey;
use model::submission::sha256_hex;
use model::update::{UpdateOutcome, UpdateReport, UpdateTarget};

use crate::common::kioskctl;

/// A bundle whose payload `app` says `text`, offered as the hub's target
/// and downloaded where the kiosk's sync round leaves it.
fn offer(dir: &Path, key: &SigningKey, version: &str, text: &str) {
    let src = dir.join(format!("src-{version}"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("app"), text).unwrap();
    let bundle = dir.join(format!("bundle-{version}.tar"));
    build_bundle(&bundle, key, "cunban-kiosk", version, &[src.join("app")]).unwrap();
    let bytes = std::fs::read(&bundle).unwrap();
    let updates = dir.join("data/updates");
    std::fs::create_dir_all(&updates).unwrap();
    let target = UpdateTarget { version: version.into(), sha256: sha256_hex(&bytes), size: bytes.len() as u64 };
    std::fs::write(updates.join("target.json"), serde_json::to_vec(&target).unwrap()).unwrap();
    std::fs::write(updates.join(format!("{version}.tar")), bytes).unwrap();
}

fn report(dir: &Path) -> UpdateReport {
    serde_json::from_slice(&std::fs::read(dir.join("data/updates/report.json")).unwrap()).unwrap()
}

#[test]
fn follow_installs_only_in_the_quiet_hours_with_no_visit_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key = SigningKey::from_seed(&[9; 32]);
    let pubkey = key.public_key().to_string();
    let installed = dir.join("installed-app");
    let apply = format!("cp {{dir}}/app '{}'", installed.display());
    let health = format!("grep -q healthy '{}'", installed.display());
    let (data, state) = (dir.join("data"), dir.join("state"));
    let run = |hours: &str| {
        kioskctl(&[
            "update", "follow", "--data-dir", data.to_str().unwrap(), "--state-dir", state.to_str().unwrap(), "--key", &pubkey,
            "--apply-cmd", &apply, "--health-cmd", &health, "--quiet-hours", hours,
        ])
    };
    offer(dir, &key, "0.2.0", "kiosk 0.2.0 healthy");

    // Outside the quiet hours (two hours from now: the test cannot reach them).
    let start = (deploy::follow::china_hour_now() + 2) % 24;
    let (code, out, err) = run(&format!("{start}-{}", start + 1));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("waits for the quiet hours"), "{out}");
    assert!(!state.join("current").exists() && !installed.exists(), "nothing installed outside the quiet hours");

    // A visit in progress: the kiosk holds the lock shared.
    let lock = std::fs::File::create(data.join("visit.lock")).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_SH) }, 0);
    let (code, out, err) = run("0-24");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("a visit is in progress"), "{out}");
    assert!(!installed.exists(), "nothing installed during a visit");
    drop(lock);

    let (code, out, err) = run("0-24");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("installed 0.2.0"), "{out}");
    assert_eq!(std::fs::read_to_string(state.join("current")).unwrap().trim(), "0.2.0");
    assert_eq!(report(dir), UpdateReport { version: "0.2.0".into(), outcome: UpdateOutcome::Installed, detail: None });
    assert!(!data.join("updates/0.2.0.tar").exists(), "the kiosk's copy is dropped once installed");
    let (_, out, _) = run("0-24");
    assert!(out.contains("0.2.0 runs already"), "{out}");

    // A version whose health check fails: rolled back, reported, not tried again.
    offer(dir, &key, "0.3.0", "kiosk 0.3.0 crashes");
    let (code, out, err) = run("0-24");
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("0.3.0 failed") && out.contains("rolled back to 0.2.0"), "{out}");
    assert_eq!(std::fs::read_to_string(state.join("current")).unwrap().trim(), "0.2.0");
    assert_eq!(std::fs::read_to_string(&installed).unwrap(), "kiosk 0.2.0 healthy");
    let r = report(dir);
    assert_eq!((r.version.as_str(), r.outcome), ("0.3.0", UpdateOutcome::Failed));
    offer(dir, &key, "0.3.0", "kiosk 0.3.0 crashes");
    let (code, out, _) = run("0-24");
    assert_eq!(code, 0);
    assert!(out.contains("failed here before"), "{out}");

    // Bytes that are not what the hub published (the kiosk user swapped
    // them, signed or not): refused before the updater sees them.
    offer(dir, &key, "0.4.0", "kiosk 0.4.0 healthy");
    let other = dir.join("other.tar");
    build_bundle(&other, &key, "cunban-kiosk", "0.4.0", &[dir.join("src-0.2.0/app")]).unwrap();
    std::fs::copy(&other, data.join("updates/0.4.0.tar")).unwrap();
    let (code, out, _) = run("0-24");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not the bundle the hub published"), "{out}");
    assert_eq!(std::fs::read_to_string(state.join("current")).unwrap().trim(), "0.2.0");
}

#[test]
fn follow_does_not_follow_a_symlink_the_kiosk_user_planted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key = SigningKey::from_seed(&[9; 32]);
    offer(dir, &key, "0.2.0", "kiosk 0.2.0 healthy");
    let bundle = dir.join("data/updates/0.2.0.tar");
    std::fs::rename(&bundle, dir.join("elsewhere.tar")).unwrap();
    std::os::unix::fs::symlink(dir.join("elsewhere.tar"), &bundle).unwrap();
    let (code, out, err) = kioskctl(&[
        "update", "follow", "--data-dir", dir.join("data").to_str().unwrap(), "--state-dir", dir.join("state").to_str().unwrap(),
        "--key", &key.public_key().to_string(), "--apply-cmd", "true", "--health-cmd", "true", "--quiet-hours", "0-24",
    ]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("0.2.0.tar"), "{err}");
    assert!(!dir.join("state/current").exists());
}
