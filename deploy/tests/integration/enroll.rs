//! `kioskctl enroll`, `status`, `config` and `logs` as a technician runs them,
//! against a hub on loopback.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use hub::{EnrollBinding, Hub, HubOptions};
use model::enroll::Profile;
use crate::common::kioskctl;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kioskctl_enrolls_writes_kiosk_toml_and_reports_status() {
    let dir = tempfile::tempdir().unwrap();
    let platform = std::sync::Arc::new(offline_cache::generate_platform_key());
    let hub = Hub::spawn_with(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &dir.path().join("hub.db"),
        HubOptions { platform_key: Some(platform.clone()), ..HubOptions::default() },
    )
    .await
    .unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("etc/kiosk.toml");
    // Run as root, enrollment hands its files to the kiosk user; `nobody` stands in for cunban.
    let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["--json", "enroll", "--hub", &hub.base_url(), "--serial", "SN-KCTL-1", "--timeout-mins", "1", "--kiosk-user", "nobody"])
        .arg("--data-dir")
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let waiting: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(waiting["event"], "waiting");
    let code = waiting["code"].as_str().unwrap().to_owned();
    let fingerprint = waiting["fingerprint"].as_str().unwrap().to_owned();
    assert!(waiting["qr"].as_str().unwrap().contains(&fingerprint));
    // The terminal presents its code within a poll or two; bind it then.
    let mut bound = None;
    for _ in 0..100 {
        let b = EnrollBinding {
            terminal_id: Some("GS-KCTL-0001".into()),
            village_code: model::VillageCode::parse("622926100202").unwrap(),
            profile: Profile::Van,
            expected_fingerprint: Some(fingerprint.clone()),
            actor: "test".into(),
        };
        match hub.bind_enrollment(&code, b).await {
            Ok(r) => {
                bound = Some(r);
                break;
            }
            Err(hub::HubError::Store(hub::StoreError::UnknownEnrollCode)) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(bound.is_some(), "the terminal never presented its code");
    let done: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(done["event"], "enrolled");
    assert!(child.wait().unwrap().success());

    // Issue 12 item 1: what enrollment brought lives in the data directory
    // (the kiosk's own enrollment screen cannot write /etc/cunban); kiosk.toml
    // comes from the package's template and holds devices and data_dir.
    let template: toml::Table = toml::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert!(template.get("terminal_id").is_none(), "{template:?}");
    assert_eq!(template["data_dir"].as_str(), Some(data.to_str().unwrap()));
    let mode = |p: &std::path::Path| std::os::unix::fs::MetadataExt::mode(&std::fs::metadata(p).unwrap()) & 0o777;
    assert_eq!(mode(&config), 0o640, "kiosk.toml is not world-readable");
    let enrolled = data.join("enrolled.toml");
    assert_eq!(mode(&enrolled), 0o640);
    assert_eq!(mode(&data.join("device.key")), 0o600);
    if root {
        // Issue 12 item 9: `kioskctl enroll` as root leaves files the kiosk user can read.
        let nobody = std::fs::read_to_string("/etc/passwd").unwrap().lines().find(|l| l.starts_with("nobody:")).map(|l| l.split(':').nth(2).unwrap().parse::<u32>().unwrap());
        if let Some(uid) = nobody {
            for f in ["device.key", "enrollment.json", "enrolled.toml", ""] {
                assert_eq!(std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(data.join(f)).unwrap()), uid, "{f} not given to the kiosk user");
            }
        }
    }
    let (_, shown, err) = kioskctl(&["--json", "config", "show", "--config", config.to_str().unwrap()]);
    let c: toml::Table = serde_json::from_str(&shown).unwrap_or_else(|e| panic!("{e}: {shown}{err}"));
    assert_eq!(c["terminal_id"].as_str(), Some("GS-KCTL-0001"));
    assert_eq!(c["village_code"].as_str(), Some("622926100202"));
    assert_eq!(c["channel"].as_str(), Some("service_van"));
    assert_eq!(c["platform_public_key"].as_str(), Some(platform.public_key().to_string().as_str()));
    assert_eq!(c["hub"]["url"].as_str(), Some(hub.base_url().as_str()));
    assert_eq!(c["devices"]["id_card"]["path"].as_str(), Some("/dev/cunban-idcard"));

    // Enrolling twice is refused without touching anything.
    let (code2, _, err) = kioskctl(&["enroll", "--hub", &hub.base_url(), "--data-dir", data.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    assert_eq!(code2, 1, "{err}");
    assert!(err.contains("already enrolled as GS-KCTL-0001"), "{err}");

    // status shows who it is.
    let key = model::seal::PlatformPublicKey::parse(c["platform_public_key"].as_str().unwrap()).unwrap();
    offline_cache::Outbox::open(&data.join("outbox.db"), offline_cache::OutboxConfig::new(key, "GS-KCTL-0001")).unwrap();
    let (st, out, err) = kioskctl(&["--json", "status", "--data-dir", data.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    assert_eq!(st, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["identity"]["terminal_id"], "GS-KCTL-0001");
    assert_eq!(v["identity"]["key_fingerprint"], fingerprint.as_str());
    assert_eq!(v["identity"]["village"], "巴牙村委会");
    assert_eq!(v["last_sync"], serde_json::Value::Null);
    assert!(v["disk"]["free_bytes"].as_u64().unwrap() > 0);
    let devices = v["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().all(|d| d["present"] == false), "no reader on a build machine: {devices:?}");
    let (_, text, _) = kioskctl(&["status", "--data-dir", data.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    assert!(text.contains("GS-KCTL-0001 (van)") && text.contains("ABSENT"), "{text}");

    // config set: checked, and applied only when good.
    let cfg = config.to_str().unwrap();
    let (st, _, err) = kioskctl(&["config", "set", "idle_timeout_secs", "5", "--config", cfg]);
    assert_eq!(st, 2);
    assert!(err.contains("between 30 and 600"), "{err}");
    let (st, _, err) = kioskctl(&["config", "set", "hub.sync_interval_secs", "60", "--config", cfg]);
    assert_eq!(st, 0, "{err}");
    assert!(std::fs::read_to_string(&enrolled).unwrap().contains("sync_interval_secs = 60"), "an enrolled key is set where the kiosk reads it");
    let (_, shown, _) = kioskctl(&["--json", "config", "show", "--config", cfg]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["hub"]["sync_interval_secs"], 60);
    assert_eq!(shown["terminal_id"], "GS-KCTL-0001");
    hub.shutdown().await.unwrap();
}

#[test]
fn logs_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kiosk.log");
    std::fs::write(&log, "line one\nfiled for 62292619800101123X phone 13912345678\nlast\n").unwrap();
    let (code, out, err) = kioskctl(&["logs", "--file", log.to_str().unwrap(), "-n", "2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "filed for 6229**********123X phone 139******78\nlast\n");
}
