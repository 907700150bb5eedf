//! Staged rollouts (issue 19), the hub's side: three terminals heartbeat
//! (signed, as terminals do) and report installs; the hub offers a version
//! to the pilot first, opens the next stage when the open ones are healthy,
//! and halts a rollout by itself when a pilot reports a failed health check,
//! after which no one is offered that version. (The terminal's side, which
//! fetches, verifies and installs, is not built yet: see the hub README.)

use crate::common::Api;

use hub::rollout::{Rollout, RolloutState, Stage};
use hub::{Hub, NewTerminal};
use model::protocol::{Heartbeat, HeartbeatAck, QueueSnapshot};
use model::update::{UpdateOutcome, UpdateReport};
use model::VillageCode;
use reqwest::Method;
use time::OffsetDateTime;

async fn terminal(hub: &Hub, id: &str, village: &str) -> Api {
    let api = Api::new(hub, id);
    hub.register_terminal(NewTerminal { id: id.into(), public_key: api.key.public_key(), village_code: VillageCode::parse(village).ok(), label: None })
        .await
        .unwrap();
    api
}

/// One heartbeat, with the terminal's last install; the version it is offered.
async fn beat(api: &Api, report: Option<(&str, UpdateOutcome)>) -> Option<String> {
    let hb = Heartbeat {
        sent_at: OffsetDateTime::now_utc(),
        app_version: "kiosk/0.1.0".into(),
        catalog_version: None,
        config_version: None,
        queue: QueueSnapshot { unsent: 0, quarantined: 0, acknowledged: 0, oldest_unsent_secs: None, evaluations_unsent: 0 },
        free_disk_bytes: None,
        devices: vec![],
        alerts: vec![],
        clock_offset_secs: 0,
        audit: None,
        update: report.map(|(version, outcome)| UpdateReport { version: version.into(), outcome, detail: None }),
    };
    let resp = api.send(Method::POST, "/v1/heartbeat", serde_json::to_vec(&hb).unwrap()).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let ack: HeartbeatAck = resp.json().await.unwrap();
    ack.update.map(|t| t.version)
}

fn rollout(version: &str, stages: &[&str]) -> Rollout {
    Rollout { version: version.into(), stages: stages.iter().map(|s| Stage::parse(s).unwrap()).collect(), open: 0, state: RolloutState::Running, max_failures: 1 }
}

#[tokio::test]
async fn the_pilot_goes_first_the_next_stage_follows_and_a_failed_pilot_halts_the_rollout() {
    let dir = tempfile::tempdir().unwrap();
    let hub = super::common::spawn_hub(dir.path(), hub::HubOptions::default()).await;
    let pilot = terminal(&hub, "GS-PILOT", "622926100202").await;
    let dongxiang = terminal(&hub, "GS-0002", "622926100201").await;
    let lanzhou = terminal(&hub, "GS-0003", "620102001001").await;
    let store = hub.store();
    let now = OffsetDateTime::now_utc();
    store.publish_update("0.2.0", &"a".repeat(64), 1000, "ops", now).unwrap();
    assert!(store.publish_update("0.2.0", &"b".repeat(64), 1000, "ops", now).is_err(), "a version is published once");
    assert!(store.start_rollout(&rollout("0.9.0", &["pilot:GS-PILOT"]), "ops", now).is_err(), "only a published version rolls out");
    store.start_rollout(&rollout("0.2.0", &["pilot:GS-PILOT", "county:622926", "percent:100"]), "ops", now).unwrap();

    assert_eq!(beat(&pilot, None).await.as_deref(), Some("0.2.0"));
    assert_eq!(beat(&dongxiang, None).await, None, "the county waits for the pilot");
    assert_eq!(beat(&lanzhou, None).await, None);
    // Paused: nothing offered, not even to the pilot; resumed: as before.
    store.set_rollout_state("0.2.0", RolloutState::Paused, "ops", now).unwrap();
    assert_eq!(beat(&pilot, None).await, None);
    store.set_rollout_state("0.2.0", RolloutState::Running, "ops", now).unwrap();

    assert_eq!(beat(&pilot, Some(("0.2.0", UpdateOutcome::Installed))).await.as_deref(), Some("0.2.0"));
    assert_eq!(beat(&dongxiang, None).await.as_deref(), Some("0.2.0"), "the pilot is healthy: its county follows");
    assert_eq!(beat(&lanzhou, None).await, None, "another county waits for the county stage");
    beat(&dongxiang, Some(("0.2.0", UpdateOutcome::Installed))).await;
    assert_eq!(beat(&lanzhou, None).await.as_deref(), Some("0.2.0"));
    beat(&lanzhou, Some(("0.2.0", UpdateOutcome::Installed))).await;
    assert_eq!(store.rollouts().unwrap()[0].state, RolloutState::Done);

    // A second bundle fails its health check on the pilot.
    store.publish_update("0.3.0", &"c".repeat(64), 1000, "ops", now).unwrap();
    store.start_rollout(&rollout("0.3.0", &["pilot:GS-PILOT", "percent:100"]), "ops", now).unwrap();
    assert_eq!(beat(&pilot, None).await.as_deref(), Some("0.3.0"));
    assert_eq!(beat(&pilot, Some(("0.3.0", UpdateOutcome::Failed))).await, None, "a failed version is not offered again");
    let r = store.rollouts().unwrap().into_iter().find(|r| r.version == "0.3.0").unwrap();
    assert!(matches!(r.state, RolloutState::Halted(_)), "{r:?}");
    for t in [&dongxiang, &lanzhou, &pilot] {
        assert_eq!(beat(t, None).await, None, "{} is never offered the halted version", t.terminal_id);
    }
    assert!(store.set_rollout_state("0.3.0", RolloutState::Running, "ops", now).is_err(), "a halt is final");
    let audit = store.hub_audit_tail(50).unwrap();
    assert!(audit.iter().any(|e| e.action == "rollout" && e.subject.as_deref() == Some("0.3.0") && e.outcome.starts_with("halted")), "{audit:?}");
    assert!(audit.iter().any(|e| e.action == "rollout" && e.outcome == "stage 2 opened"), "{audit:?}");
    hub.shutdown().await.unwrap();
}
