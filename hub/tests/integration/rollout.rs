//! Staged rollouts (issue 19), the hub's side: three terminals heartbeat
//! (signed, as terminals do) and report installs; the hub offers a version
//! to the pilot first, opens the next stage when the open ones are healthy,
//! and halts a rollout by itself when a pilot reports a failed health check,
//! after which no one is offered that version. `cli`: staff publish (only
//! bundles that verify) and steer rollouts with `hub update`, terminals
//! download in pieces. The terminals' side end to end: `tests`
//! `rollout::a_staged_rollout_reaches_the_pilot_first_and_a_failing_bundle_halts_at_the_pilot`.

use crate::common::Api;

use hub::rollout::{Rollout, RolloutState, Stage};
use hub::{Hub, NewTerminal};
use model::protocol::{Heartbeat, HeartbeatAck};
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
        update: report.map(|(version, outcome)| UpdateReport { version: version.into(), outcome, detail: None }),
        ..crate::common::heartbeat(OffsetDateTime::now_utc())
    };
    let resp = api.send(Method::POST, "/v1/heartbeat", serde_json::to_vec(&hb).unwrap()).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let ack: HeartbeatAck = resp.json().await.unwrap();
    ack.update.map(|t| t.version)
}

/// A hub with a pilot terminal, another in the pilot's county (东乡) and
/// one in Lanzhou.
async fn pilot_and_two_counties(dir: &std::path::Path) -> (Hub, [Api; 3]) {
    let hub = super::common::spawn_hub(dir, hub::HubOptions::default()).await;
    let pilot = terminal(&hub, "GS-PILOT", "622926100202").await;
    let dongxiang = terminal(&hub, "GS-0002", "622926100201").await;
    let lanzhou = terminal(&hub, "GS-0003", "620102001001").await;
    (hub, [pilot, dongxiang, lanzhou])
}

fn rollout(version: &str, stages: &[&str]) -> Rollout {
    Rollout { version: version.into(), stages: stages.iter().map(|s| Stage::parse(s).unwrap()).collect(), open: 0, state: RolloutState::Running, max_failures: 1 }
}

#[tokio::test]
async fn the_pilot_goes_first_the_next_stage_follows_and_a_failed_pilot_halts_the_rollout() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, [pilot, dongxiang, lanzhou]) = pilot_and_two_counties(dir.path()).await;
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

/// Terminals of later stages may have installed already (a technician's
/// USB stick, a reinstall): when the pilot then reports, several stages
/// open at once, and the hub's audit records each of them, in order, not
/// only the last.
#[tokio::test]
async fn stages_that_open_at_once_are_each_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, [pilot, dongxiang, lanzhou]) = pilot_and_two_counties(dir.path()).await;
    let other = terminal(&hub, "GS-0004", "620502001001").await;
    let store = hub.store();
    let now = OffsetDateTime::now_utc();
    store.publish_update("0.4.0", &"d".repeat(64), 1000, "ops", now).unwrap();
    store.start_rollout(&rollout("0.4.0", &["pilot:GS-PILOT", "county:622926", "county:620102", "percent:100"]), "ops", now).unwrap();
    beat(&other, None).await;
    beat(&dongxiang, Some(("0.4.0", UpdateOutcome::Installed))).await;
    beat(&lanzhou, Some(("0.4.0", UpdateOutcome::Installed))).await;
    assert_eq!(store.rollouts().unwrap()[0].open, 0, "the pilot is waited for");

    beat(&pilot, Some(("0.4.0", UpdateOutcome::Installed))).await;
    let r = store.rollouts().unwrap().into_iter().find(|r| r.version == "0.4.0").unwrap();
    assert_eq!((r.open, &r.state), (3, &RolloutState::Running), "GS-0004 has not installed: not done");
    let mut audit: Vec<_> = store.hub_audit_tail(50).unwrap().into_iter().filter(|e| e.action == "rollout" && e.subject.as_deref() == Some("0.4.0")).collect();
    audit.sort_by_key(|e| e.seq);
    let said: Vec<&str> = audit.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(said, ["stage 2 opened", "stage 3 opened", "stage 4 opened"], "{audit:?}");
    assert_eq!(beat(&other, None).await.as_deref(), Some("0.4.0"), "the last stage is open");
    hub.shutdown().await.unwrap();
}

/// At province scale some kiosks are always off: one that went offline
/// mid-rollout must not hold every stage after it. The hub's hourly
/// housekeeping opens the next stage once it has not been heard from for a
/// day; it is still offered the version when it comes back, and the
/// rollout is done only when it has installed too.
#[tokio::test]
async fn a_terminal_offline_for_a_day_does_not_hold_the_next_stage_and_catches_up_when_back() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    // The hub's clock runs ahead by `ahead` seconds once the terminal is gone.
    let ahead = Arc::new(AtomicI64::new(0));
    let a = ahead.clone();
    let clock: hub::Clock = Arc::new(move || OffsetDateTime::now_utc() + time::Duration::seconds(a.load(Ordering::SeqCst)));
    let sweep = hub::SweepPolicy { every: Duration::from_millis(200), ..hub::SweepPolicy::default() };
    let hub = super::common::spawn_hub(dir.path(), hub::HubOptions { clock: Some(clock), sweep: Some(sweep), ..hub::HubOptions::default() }).await;
    let pilot = terminal(&hub, "GS-PILOT", "622926100202").await;
    let gone = terminal(&hub, "GS-GONE", "622926100203").await;
    let lanzhou = terminal(&hub, "GS-0003", "620102001001").await;
    // Registered, never heard from: just enrolled, not offline, for a day.
    let _boxed = terminal(&hub, "GS-NEW", "622926100204").await;
    let store = hub.store();
    let now = OffsetDateTime::now_utc();
    store.publish_update("0.2.0", &"a".repeat(64), 1000, "ops", now).unwrap();
    store.start_rollout(&rollout("0.2.0", &["pilot:GS-PILOT,GS-GONE,GS-NEW", "percent:100"]), "ops", now).unwrap();

    assert_eq!(beat(&gone, None).await.as_deref(), Some("0.2.0"), "offered; then its power goes");
    assert_eq!(beat(&pilot, Some(("0.2.0", UpdateOutcome::Installed))).await.as_deref(), Some("0.2.0"));
    assert_eq!(beat(&lanzhou, None).await, None, "the pilot stage waits for GS-GONE, heard from a moment ago");
    assert!(store.advance_rollouts(OffsetDateTime::now_utc() + time::Duration::hours(23)).unwrap().is_empty(), "23 hours: both still waited for");
    assert_eq!(store.rollouts().unwrap()[0].open, 0);

    // A day and more passes without a word from GS-GONE; the pilot's
    // report stands. The housekeeping tick moves the rollout.
    ahead.store(25 * 3600, Ordering::SeqCst);
    let mut opened = false;
    for _ in 0..100 {
        if store.rollouts().unwrap()[0].open == 1 {
            opened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(opened, "the hub's housekeeping opened stage 2 past the offline pilot terminal");
    let audit = store.hub_audit_tail(50).unwrap();
    assert!(
        audit.iter().any(|e| e.action == "rollout" && e.outcome == "stage 2 opened (2 terminal(s) offline for a day or more not waited for)"),
        "{audit:?}"
    );
    ahead.store(0, Ordering::SeqCst);
    assert_eq!(beat(&lanzhou, None).await.as_deref(), Some("0.2.0"), "the next stage is offered");
    beat(&lanzhou, Some(("0.2.0", UpdateOutcome::Installed))).await;
    assert_eq!(store.rollouts().unwrap()[0].state, RolloutState::Running, "not done while GS-GONE has not installed");
    assert_eq!(beat(&gone, None).await.as_deref(), Some("0.2.0"), "back online: offered the version still");
    beat(&gone, Some(("0.2.0", UpdateOutcome::Installed))).await;
    assert_eq!(store.rollouts().unwrap()[0].state, RolloutState::Running, "GS-NEW has not installed yet");
    beat(&_boxed, Some(("0.2.0", UpdateOutcome::Installed))).await;
    assert_eq!(store.rollouts().unwrap()[0].state, RolloutState::Done);
    hub.shutdown().await.unwrap();
}

mod cli {
    //! `hub update publish|rollout|pause|resume|halt|list` against a serving
    //! hub's database, and terminals downloading the bundle in pieces.

    use std::path::Path;
    use std::process::Command;

    use hub::{Hub, NewTerminal};
    use model::auth::SigningKey;
    use model::VillageCode;

    use crate::common::Api;

    fn hub(db: &Path, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_hub")).arg("--db").arg(db).args(args).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    fn bundle(path: &Path, key: &SigningKey, package: &str, version: &str, payload: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        model::bundle::write_bundle(&mut bytes, key, package, version, &[("cunban-kiosk.deb", payload)]).unwrap();
        std::fs::write(path, &bytes).unwrap();
        bytes
    }

    /// Downloads `version` as a terminal does: piece by piece from the offset it holds.
    async fn download(api: &Api, version: &str) -> Result<Vec<u8>, u16> {
        let mut got = Vec::new();
        loop {
            let resp = api.get(&format!("/v1/updates/{version}/bundle?offset={}", got.len())).await;
            if resp.status().as_u16() != 206 {
                return Err(resp.status().as_u16());
            }
            let range = resp.headers()["content-range"].to_str().unwrap().to_owned();
            let total: usize = range.rsplit('/').next().unwrap().parse().unwrap();
            assert!(range.starts_with(&format!("bytes {}-", got.len())), "{range}");
            let piece = resp.bytes().await.unwrap();
            assert!(piece.len() as u64 <= 1 << 20, "one piece is at most 1 MiB");
            got.extend_from_slice(&piece);
            if got.len() == total {
                return Ok(got);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn staff_publish_only_verified_bundles_and_steer_the_rollout_and_each_step_is_audited() {
        let tmp = tempfile::tempdir().unwrap();
        let (dir, db) = (tmp.path(), tmp.path().join("hub.db"));
        let served = Hub::spawn("127.0.0.1:0".parse().unwrap(), &db).await.unwrap();
        let (pilot, other) = (Api::new(&served, "GS-T1"), Api::new(&served, "GS-T2"));
        for (api, village) in [(&pilot, "622926100202"), (&other, "620102001001")] {
            served
                .register_terminal(NewTerminal { id: api.terminal_id.clone(), public_key: api.key.public_key(), village_code: VillageCode::parse(village).ok(), label: None })
                .await
                .unwrap();
        }
        let release = SigningKey::from_seed(&[3; 32]);
        let key = release.public_key().to_string();
        let mut payload = b"PAYLOAD-START".to_vec();
        payload.extend((0..(5u32 << 19)).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));

        // Refused: another signer, another package, a payload changed after signing.
        let forged = dir.join("forged.tar");
        bundle(&forged, &SigningKey::from_seed(&[4; 32]), "cunban-kiosk", "0.2.0", &payload);
        let other_pkg = dir.join("other.tar");
        bundle(&other_pkg, &release, "cunban-hub", "0.2.0", &payload);
        let tampered = dir.join("tampered.tar");
        let mut bytes = bundle(&tampered, &release, "cunban-kiosk", "0.2.0", &payload);
        let at = bytes.windows(13).position(|w| w == b"PAYLOAD-START").unwrap();
        bytes[at + 20] ^= 1;
        std::fs::write(&tampered, &bytes).unwrap();
        for (file, why) in [(&forged, "signature"), (&other_pkg, "cunban-hub"), (&tampered, "does not match the signed manifest")] {
            let (ok, out, err) = hub(&db, &["update", "publish", file.to_str().unwrap(), "--update-key", &key, "--by", "ops-li"]);
            assert!(!ok && err.contains(why), "{file:?}: {out}{err}");
        }
        let (ok, _, err) = hub(&db, &["update", "rollout", "0.2.0", "--stage", "pilot:GS-T1", "--by", "ops-li"]);
        assert!(!ok && err.contains("not published"), "nothing refused was kept: {err}");

        let good = dir.join("good.tar");
        let good_bytes = bundle(&good, &release, "cunban-kiosk", "0.2.0", &payload);
        let (ok, out, err) = hub(&db, &["update", "publish", good.to_str().unwrap(), "--update-key", &key, "--by", "ops-li"]);
        assert!(ok && out.contains("published cunban-kiosk 0.2.0"), "{out}{err}");
        assert_eq!(download(&pilot, "0.2.0").await, Err(404), "published, not rolling out: offered to no one");
        let (ok, out, err) = hub(&db, &["update", "rollout", "0.2.0", "--stage", "pilot:GS-T1", "--stage", "percent:100", "--max-failures", "2", "--by", "ops-li"]);
        assert!(ok, "{out}{err}");
        assert!(download(&pilot, "0.2.0").await.unwrap() == good_bytes, "the pilot gets exactly the published bytes, in pieces");
        assert_eq!(download(&other, "0.2.0").await, Err(404), "the next stage waits for the pilot");
        assert_eq!(pilot.get("/v1/updates/0.2.0/bundle?offset=99999999").await.status().as_u16(), 416);

        let (ok, out, _) = hub(&db, &["update", "pause", "0.2.0", "--by", "ops-li"]);
        assert!(ok && out.contains("paused"), "{out}");
        assert_eq!(download(&pilot, "0.2.0").await, Err(404), "paused: no downloads");
        let (ok, out, _) = hub(&db, &["update", "resume", "0.2.0", "--by", "ops-li"]);
        assert!(ok && out.contains("running"), "{out}");
        assert!(download(&pilot, "0.2.0").await.is_ok());
        let (ok, out, _) = hub(&db, &["update", "halt", "0.2.0", "--by", "ops-li", "--reason", "printer driver regression"]);
        assert!(ok && out.contains("halted"), "{out}");
        assert_eq!(download(&pilot, "0.2.0").await, Err(404), "halted: no downloads");
        let (ok, _, err) = hub(&db, &["update", "resume", "0.2.0", "--by", "ops-li"]);
        assert!(!ok && err.contains("cannot become"), "a halt is final: {err}");
        let (_, out, _) = hub(&db, &["update", "list"]);
        assert!(out.contains("0.2.0") && out.contains("halted (by ops-li: printer driver regression)"), "{out}");

        let audit = served.store().hub_audit_tail(100).unwrap();
        for (action, outcome) in [("update published", "sha256"), ("rollout started", "2 stage(s), halts at 2"), ("rollout state", "Paused"), ("rollout state", "Running"), ("rollout state", "Halted")] {
            assert!(
                audit.iter().any(|e| e.actor == "ops-li" && e.action == action && e.subject.as_deref() == Some("0.2.0") && e.outcome.contains(outcome)),
                "{action} {outcome} by ops-li: {audit:?}"
            );
        }
        served.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn staff_pause_resume_and_halt_from_the_fleet_page_and_each_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db")).await.unwrap();
    let (name, token) = crate::common::staff(&hub);
    let store = hub.store();
    let now = OffsetDateTime::now_utc();
    store.publish_update("0.2.0", &"a".repeat(64), 1000, "ops", now).unwrap();
    store.start_rollout(&rollout("0.2.0", &["pilot:GS-PILOT", "county:622926"]), "ops", now).unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = hub.base_url();
    let page = http.get(format!("{base}/fleet")).basic_auth(&name, Some(&token)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("更新推送 · Update rollouts") && page.contains("推送中 RUNNING") && page.contains("action=\"/fleet/rollouts/0.2.0/pause\""), "{page}");
    assert!(page.contains("县 county 622926 东乡族自治县"), "stages in words: {page}");

    let post = |action: &str| http.post(format!("{base}/fleet/rollouts/0.2.0/{action}"));
    assert_eq!(post("pause").send().await.unwrap().status(), 401, "staff only");
    let cross = post("pause").basic_auth(&name, Some(&token)).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(cross.status(), 403, "not from another site's form");
    assert_eq!(store.rollouts().unwrap()[0].state, RolloutState::Running);

    assert_eq!(post("pause").basic_auth(&name, Some(&token)).send().await.unwrap().status(), 303);
    assert_eq!(store.rollouts().unwrap()[0].state, RolloutState::Paused);
    let page = http.get(format!("{base}/fleet")).basic_auth(&name, Some(&token)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已暂停 PAUSED") && page.contains("/fleet/rollouts/0.2.0/resume"), "{page}");
    assert_eq!(post("resume").basic_auth(&name, Some(&token)).send().await.unwrap().status(), 303);
    assert_eq!(store.rollouts().unwrap()[0].state, RolloutState::Running);
    let no_reason = post("halt").basic_auth(&name, Some(&token)).header("content-type", "application/x-www-form-urlencoded").body("reason=++").send().await.unwrap();
    assert_eq!(no_reason.status(), 422, "a halt says why");
    let halted = post("halt").basic_auth(&name, Some(&token)).header("content-type", "application/x-www-form-urlencoded").body("reason=receipts+print+blank").send().await.unwrap();
    assert_eq!(halted.status(), 303);
    assert_eq!(store.rollouts().unwrap()[0].state, RolloutState::Halted("by ops: receipts print blank".into()));
    assert_eq!(post("resume").basic_auth(&name, Some(&token)).send().await.unwrap().status(), 409, "a halt is final");
    let page = http.get(format!("{base}/fleet")).basic_auth(&name, Some(&token)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已终止 HALTED: by ops: receipts print blank") && !page.contains("/fleet/rollouts/0.2.0/resume"), "{page}");

    let audit = store.hub_audit_tail(50).unwrap();
    let by_staff: Vec<&str> = audit.iter().filter(|e| e.actor == "ops" && e.action == "rollout state").map(|e| e.outcome.as_str()).collect();
    assert_eq!(by_staff.len(), 3, "{audit:?}");
    assert!(by_staff.iter().any(|o| o.contains("Paused")) && by_staff.iter().any(|o| o.contains("Running")) && by_staff.iter().any(|o| o.contains("receipts print blank")), "{by_staff:?}");
    hub.shutdown().await.unwrap();
}
