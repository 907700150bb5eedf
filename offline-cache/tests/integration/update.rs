//! Updates from the hub (issue 19), the terminal's download: the offered
//! bundle is fetched in pieces from where the partial file ends, checked
//! against the published hash, and dropped when the hub stops offering it;
//! the installer's report rides on the heartbeat.

use hub::rollout::{Rollout, RolloutState, Stage};
use hub::Hub;
use model::auth::SigningKey;
use model::update::{UpdateOutcome, UpdateReport};

use crate::common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_download_resumes_from_where_the_file_ends() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db")).await.unwrap();
    let updates = dir.path().join("data/updates");
    let client = common::client(&hub, offline_cache::SyncConfig { updates_dir: Some(updates.clone()), ..common::quick() }).await;
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let (outbox, _) = common::open(&dir.path().join("data"));

    let release = SigningKey::from_seed(&[5; 32]);
    let payload: Vec<u8> = (0..(5u32 << 19)).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let bundle = dir.path().join("b.tar");
    let mut bytes = Vec::new();
    model::bundle::write_bundle(&mut bytes, &release, "cunban-kiosk", "0.2.0", &[("kiosk.deb", &payload)]).unwrap();
    std::fs::write(&bundle, &bytes).unwrap();
    let store = hub.store();
    let now = time::OffsetDateTime::now_utc();
    hub::updates::publish_bundle(store.as_ref(), &bundle, &release.public_key(), "ops", now).unwrap();
    let rollout = Rollout { version: "0.2.0".into(), stages: vec![Stage::Pilot(vec![client.terminal_id().into()])], open: 0, state: RolloutState::Running, max_failures: 1 };
    store.start_rollout(&rollout, "ops", now).unwrap();

    // A link that dropped after 1.5 MB left this much.
    std::fs::create_dir_all(&updates).unwrap();
    std::fs::write(updates.join("0.2.0.tar.part"), &bytes[..1_500_000]).unwrap();
    client.heartbeat_soon();
    let report = client.sync_all(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.update_fetched.as_deref(), Some("0.2.0"));
    // Had it started again from 0 (appending), the file would be too long and not hash.
    assert!(std::fs::read(updates.join("0.2.0.tar")).unwrap() == bytes, "the rest was appended from 1.5 MB on");
    assert!(!updates.join("0.2.0.tar.part").exists());
    let target: model::update::UpdateTarget = serde_json::from_slice(&std::fs::read(updates.join("target.json")).unwrap()).unwrap();
    assert_eq!((target.version.as_str(), target.size), ("0.2.0", bytes.len() as u64));

    // Bytes that are not the published ones are dropped and fetched again.
    std::fs::remove_file(updates.join("0.2.0.tar")).unwrap();
    let mut wrong = bytes[..1_000_000].to_vec();
    wrong[10] ^= 0xff;
    std::fs::write(updates.join("0.2.0.tar.part"), &wrong).unwrap();
    client.heartbeat_soon();
    assert_eq!(client.sync_all(&outbox).await.update_fetched, None, "a wrong prefix does not add up");
    assert!(!updates.join("0.2.0.tar.part").exists() && !updates.join("0.2.0.tar").exists());
    client.heartbeat_soon();
    assert_eq!(client.sync_all(&outbox).await.update_fetched.as_deref(), Some("0.2.0"));
    assert!(std::fs::read(updates.join("0.2.0.tar")).unwrap() == bytes);

    // The installer's report goes up with the heartbeat.
    let installed = UpdateReport { version: "0.2.0".into(), outcome: UpdateOutcome::Installed, detail: None };
    std::fs::write(updates.join("report.json"), serde_json::to_vec(&installed).unwrap()).unwrap();
    client.heartbeat_soon();
    client.sync_all(&outbox).await;
    let audit = store.hub_audit_tail(50).unwrap();
    assert!(audit.iter().any(|e| e.actor == client.terminal_id() && e.action == "update reported" && e.outcome == "installed"), "{audit:?}");

    // Halted: nothing offered, nothing kept to install.
    let r = Rollout { version: "0.3.0".into(), ..rollout };
    std::fs::write(&bundle, {
        let mut b = Vec::new();
        model::bundle::write_bundle(&mut b, &release, "cunban-kiosk", "0.3.0", &[("kiosk.deb", b"small")]).unwrap();
        b
    })
    .unwrap();
    hub::updates::publish_bundle(store.as_ref(), &bundle, &release.public_key(), "ops", now).unwrap();
    store.start_rollout(&r, "ops", now).unwrap();
    client.heartbeat_soon();
    assert_eq!(client.sync_all(&outbox).await.update_fetched.as_deref(), Some("0.3.0"));
    store.set_rollout_state("0.3.0", RolloutState::Halted("test".into()), "ops", now).unwrap();
    client.heartbeat_soon();
    client.sync_all(&outbox).await;
    assert!(!updates.join("target.json").exists() && !updates.join("0.3.0.tar").exists(), "a halted rollout leaves nothing to install");
    hub.shutdown().await.unwrap();
}
