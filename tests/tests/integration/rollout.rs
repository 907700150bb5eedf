//! Issue 19, must show: a hub and three terminal processes. A staged
//! rollout (pilot, then the pilot's county, then everyone): the pilot
//! installs and reports healthy, the next stage follows. A second bundle
//! whose health check fails on the pilot is rolled back there and halts
//! the rollout; the other two never install it.
//!
//! Real: the hub (in this process, on loopback; the bundle published and
//! verified by `hub::updates::publish_bundle`, what `hub update publish`
//! runs), three `rollout-terminal` processes (each the sync round with its
//! heartbeat and resumable download, then `deploy::follow` with the shell
//! updater `kioskctl update follow` uses; terminal 2 talks to the hub through
//! a proxy that cuts, stalls and fails half its requests), signed bundles
//! carrying real .deb files (`dpkg-deb --build`), installed by `dpkg-deb -x`
//! into a per-terminal root, and a health check that runs the installed
//! `usr/bin/kiosk`. Simulated: `dpkg -i` into `/` and the health check's
//! `systemctl restart cunban-kiosk` (no root, no systemd here), and the split
//! into two processes per terminal (the kiosk as `cunban`, kioskctl as root:
//! here one process does both in turn). The quiet hours are 0-24 here;
//! `deploy`'s `update::follow_*` tests show the hour and a visit holding
//! an install back.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hub::rollout::{Rollout, RolloutState, Stage};
use hub::{Hub, NewTerminal, Store};
use model::auth::SigningKey;
use model::VillageCode;
use offline_cache::DeviceIdentity;
use tests::sync_fixtures::{fault_proxy, FaultPlan};

const TERMINALS: [(&str, &str); 3] = [("GS-PILOT-01", "622926100202"), ("GS-0002", "622926100201"), ("GS-0003", "620102001001")];

struct Terminal {
    id: &'static str,
    data: PathBuf,
    state: PathBuf,
    root: PathBuf,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Terminal {
    fn current(&self) -> Option<String> {
        std::fs::read_to_string(self.state.join("current")).ok().map(|s| s.trim().to_owned())
    }
    fn history(&self) -> String {
        std::fs::read_to_string(self.state.join("history.log")).unwrap_or_default()
    }
    /// What the installed binary says when run.
    fn runs(&self) -> String {
        match Command::new(self.root.join("usr/bin/kiosk")).arg("--self-check").output() {
            Ok(o) => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            Err(e) => format!("cannot run: {e}"),
        }
    }
}

fn need(tool: &str) {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is missing: apt-get install dpkg (./dev test installs it)");
}

/// A .deb of `cunban-kiosk` `version` whose `usr/bin/kiosk` answers
/// `--self-check` with its version, or (`broken`) an executable cut short
/// as a bad build would be, and 2.5 MiB of data so the download takes
/// several pieces.
fn payload(dir: &Path, version: &str, broken: bool) -> PathBuf {
    let stage = dir.join(format!("deb-{version}"));
    std::fs::create_dir_all(stage.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(stage.join("usr/bin")).unwrap();
    std::fs::create_dir_all(stage.join("usr/share/cunban-kiosk")).unwrap();
    std::fs::write(
        stage.join("DEBIAN/control"),
        format!("Package: cunban-kiosk\nVersion: {version}\nArchitecture: all\nMaintainer: Cunban tests <tests@cunban.invalid>\nDescription: rollout test payload\n"),
    )
    .unwrap();
    let kiosk = stage.join("usr/bin/kiosk");
    if broken {
        let elf = std::fs::read(env!("CARGO_BIN_EXE_rollout-terminal")).unwrap();
        std::fs::write(&kiosk, &elf[..4096]).unwrap();
    } else {
        std::fs::write(&kiosk, format!("#!/bin/sh\n[ \"$1\" = --self-check ] && echo \"kiosk {version}\"\n")).unwrap();
    }
    std::fs::set_permissions(&kiosk, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ version.len() as u64;
    let noise: Vec<u8> = (0..(5 << 19))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(stage.join("usr/share/cunban-kiosk/data.bin"), noise).unwrap();
    let deb = dir.join(format!("cunban-kiosk_{version}_all.deb"));
    let out = Command::new("dpkg-deb").args(["-Znone", "--root-owner-group", "--build"]).arg(&stage).arg(&deb).output().unwrap();
    assert!(out.status.success(), "dpkg-deb --build: {}", String::from_utf8_lossy(&out.stderr));
    deb
}

fn spawn_terminal(dir: &Path, id: &'static str, hub_url: &str, platform: &str, update_key: &str) -> Terminal {
    let (data, state, root) = (dir.join(id).join("data"), dir.join(id).join("update-state"), dir.join(id).join("root"));
    for d in [&data, &state, &root] {
        std::fs::create_dir_all(d).unwrap();
    }
    let q = |p: &Path| format!("'{}'", p.display());
    let apply = format!("dpkg-deb -x {{dir}}/*.deb {}", q(&root));
    let health = format!("test \"$({}/usr/bin/kiosk --self-check)\" = \"kiosk \"{{version}}", q(&root));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollout-terminal"))
        .args(["--hub-url", hub_url, "--terminal-id", id, "--platform-key", platform, "--update-key", update_key])
        .arg("--data-dir")
        .arg(&data)
        .arg("--state-dir")
        .arg(&state)
        .args(["--apply-cmd", &apply, "--health-cmd", &health])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (out, l) = (child.stdout.take().unwrap(), lines.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            l.lock().unwrap().push(line);
        }
    });
    Terminal { id, data, state, root, child, lines }
}

fn show(ts: &[Terminal]) -> String {
    ts.iter().map(|t| format!("{}: {:?}\n{}", t.id, t.lines.lock().unwrap(), t.history())).collect::<Vec<_>>().join("\n")
}

async fn wait_for(what: &str, ts: &[Terminal], mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}\n{}", show(ts));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn state_of(store: &dyn Store, version: &str) -> RolloutState {
    store.rollouts().unwrap().into_iter().find(|r| r.version == version).map(|r| r.state).unwrap()
}

/// Sequence numbers in the hub's audit of the entries matching.
fn seq_of(store: &dyn Store, actor: &str, action: &str, subject: &str, outcome: &str) -> Option<i64> {
    store
        .hub_audit_tail(1000)
        .unwrap()
        .into_iter()
        .find(|e| e.actor == actor && e.action == action && e.subject.as_deref() == Some(subject) && e.outcome.contains(outcome))
        .map(|e| e.seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_rollout_reaches_the_pilot_first_and_a_failing_bundle_halts_at_the_pilot() {
    need("dpkg-deb");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let hub = Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap();
    let store = hub.store();
    let platform = offline_cache::generate_platform_key().public_key().to_string();
    let release = SigningKey::from_seed(&[7u8; 32]);
    let update_key = release.public_key().to_string();
    for (id, village) in TERMINALS {
        std::fs::create_dir_all(dir.join(id).join("data")).unwrap();
        let (identity, _) = DeviceIdentity::load_or_create(&dir.join(id).join("data/device.key"), id).unwrap();
        hub.register_terminal(NewTerminal { id: id.into(), public_key: identity.public_key(), village_code: VillageCode::parse(village).ok(), label: None })
            .await
            .unwrap();
    }

    // 0.2.0: pilot, then its county (Dongxiang, 622926), then everyone.
    let good = dir.join("cunban-update-0.2.0.tar");
    deploy::update::build_bundle(&good, &release, "cunban-kiosk", "0.2.0", &[payload(dir, "0.2.0", false)]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let p = hub::updates::publish_bundle(store.as_ref(), &good, &release.public_key(), "ops-wang", now).unwrap();
    assert!(p.size > 2 << 20, "the bundle takes several download pieces: {} bytes", p.size);
    let stages = |v: &str, s: &[&str]| Rollout { version: v.into(), stages: s.iter().map(|x| Stage::parse(x).unwrap()).collect(), open: 0, state: RolloutState::Running, max_failures: 1 };
    store.start_rollout(&stages("0.2.0", &["pilot:GS-PILOT-01", "county:622926", "percent:100"]), "ops-wang", now).unwrap();

    let (proxy, faults, _proxy_task) = fault_proxy(hub.addr(), FaultPlan { rate: 0.5, seed: 19 }).await.unwrap();
    let direct = hub.base_url();
    let flaky = format!("http://{proxy}");
    let ts: Vec<Terminal> = TERMINALS
        .iter()
        .map(|(id, _)| spawn_terminal(dir, id, if *id == "GS-0002" { &flaky } else { &direct }, &platform, &update_key))
        .collect();

    wait_for("0.2.0 on every terminal and the rollout done", &ts, || state_of(store.as_ref(), "0.2.0") == RolloutState::Done).await;
    let s = store.as_ref();
    let pilot_ok = seq_of(s, "GS-PILOT-01", "update reported", "0.2.0", "installed").unwrap();
    let stage2 = seq_of(s, "hub", "rollout", "0.2.0", "stage 2 opened").unwrap();
    let county_ok = seq_of(s, "GS-0002", "update reported", "0.2.0", "installed").unwrap();
    let stage3 = seq_of(s, "hub", "rollout", "0.2.0", "stage 3 opened").unwrap();
    let last_ok = seq_of(s, "GS-0003", "update reported", "0.2.0", "installed").unwrap();
    assert!(pilot_ok < stage2 && stage2 < county_ok && county_ok < stage3 && stage3 < last_ok, "order in the hub's audit: {pilot_ok} {stage2} {county_ok} {stage3} {last_ok}\n{}", show(&ts));
    for t in &ts {
        assert_eq!(t.current().as_deref(), Some("0.2.0"), "{}", show(&ts));
        assert_eq!(t.runs(), "kiosk 0.2.0", "{}: the installed binary", t.id);
        assert!(t.lines.lock().unwrap().iter().any(|l| l == "fetched 0.2.0"), "{}", show(&ts));
    }
    let seen = faults.requests.load(std::sync::atomic::Ordering::Relaxed);
    let broken = faults.cuts.load(std::sync::atomic::Ordering::Relaxed) + faults.errors.load(std::sync::atomic::Ordering::Relaxed);
    println!("GS-0002 through the faulty link: {seen} requests, {broken} cut or failed by the proxy");
    assert!(broken > 0, "the proxy faulted none of {seen} requests");

    // 0.3.0 passes every check of the bundle but its binary does not run.
    let bad = dir.join("cunban-update-0.3.0.tar");
    deploy::update::build_bundle(&bad, &release, "cunban-kiosk", "0.3.0", &[payload(dir, "0.3.0", true)]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    hub::updates::publish_bundle(s, &bad, &release.public_key(), "ops-wang", now).unwrap();
    s.start_rollout(&stages("0.3.0", &["pilot:GS-PILOT-01", "percent:100"]), "ops-wang", now).unwrap();
    wait_for("the pilot's failure to halt 0.3.0", &ts, || matches!(state_of(s, "0.3.0"), RolloutState::Halted(_))).await;
    assert!(seq_of(s, "GS-PILOT-01", "update reported", "0.3.0", "failed").is_some());
    assert!(seq_of(s, "hub", "rollout", "0.3.0", "halted").is_some());
    // Give the others many rounds in which they could have been offered it.
    let halted_at = Instant::now();
    while halted_at.elapsed() < Duration::from_secs(4) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pilot = &ts[0];
    assert_eq!(pilot.current().as_deref(), Some("0.2.0"), "the pilot rolled back\n{}", show(&ts));
    assert_eq!(pilot.runs(), "kiosk 0.2.0", "the pilot runs the previous version again");
    assert!(pilot.history().contains("0.3.0 failed") && pilot.history().contains("rolled back to 0.2.0"), "{}", pilot.history());
    for t in &ts[1..] {
        assert_eq!(t.current().as_deref(), Some("0.2.0"), "{}", show(&ts));
        assert_eq!(t.runs(), "kiosk 0.2.0");
        assert!(!t.history().contains("0.3.0"), "{} tried 0.3.0:\n{}", t.id, t.history());
        let fetched: Vec<String> = std::fs::read_dir(t.data.join("updates")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        assert!(!fetched.iter().any(|n| n.starts_with("0.3.0")), "{} downloaded 0.3.0: {fetched:?}", t.id);
        assert!(!t.lines.lock().unwrap().iter().any(|l| l.contains("0.3.0")), "{}", show(&ts));
    }
    println!("{}", show(&ts));
}
