//! A service van's day with no network (issue 7, the must-show): the
//! assistant logs in offline against the synced account, files 50
//! applications across 3 villages through the kiosk's assisted state
//! machine (the villager journey, scanned materials, finger signatures),
//! while the hub is unreachable; the sealed queue goes out on "removable
//! media" (`export_queue`, the code behind `kioskctl export`), the hub
//! imports it (the code behind `hub import`) and holds all 50 exactly once
//! and byte-identical when opened with the platform key; a second import
//! changes nothing; then the van's next sync learns the acknowledgements
//! without sending the queue again.

use std::collections::BTreeMap;
use std::sync::Arc;

use hub::import::{import, ImportError, RecordOutcome};
use hub::{Hub, HubDb, HubOptions, NewTerminal, SqliteStore};
use kiosk::assisted::{AssistEffect, AssistEvent, AssistScreen, AssistedSession};
use kiosk::session::{Capabilities, Event, Screen, Terminal};
use model::export::ExportFile;
use model::identity::Gender;
use model::submission::{AgentRelation, Channel};
use model::{Catalog, Identity, Submission, SubmissionId, VillageCode};
use offline_cache::{write_export_file, DeviceIdentity, LoginError, LoginPolicy, Outbox, OutboxConfig, OutboxState, SyncClient, SyncConfig};
use zeroize::Zeroizing;

use super::harness::{self, PIN};

const VAN: &str = "GS-VAN-01";
const VILLAGES: [&str; 3] = ["622926100202", "622926100203", "622926100204"];

/// Villager `n` of the round: 张桂兰's card (`model::fixtures`) with a name
/// and number of their own.
fn villager(n: usize) -> Box<Identity> {
    let mut card = model::fixtures::sample_identity();
    card.name = format!("村民{n}");
    card.gender = if n % 2 == 0 { Gender::Female } else { Gender::Male };
    card.id_number = model::fixtures::id_number(&format!("62292619520307{n:03}"));
    Box::new(card)
}

fn quick() -> SyncConfig {
    SyncConfig {
        connect_timeout: std::time::Duration::from_millis(500),
        read_timeout: std::time::Duration::from_millis(500),
        request_timeout: std::time::Duration::from_secs(5),
        ..SyncConfig::default()
    }
}

/// Runs the app's side of each effect (the hub is unreachable all day:
/// each filing waits), keeping what was filed.
fn apply(outbox: &Outbox, a: &mut AssistedSession, fx: Vec<AssistEffect>, filed: &mut BTreeMap<SubmissionId, (Submission, Vec<Vec<u8>>)>) {
    harness::run_assisted(outbox, a, fx, |sub, attachments| {
        filed.insert(sub.id, (sub.clone(), attachments.iter().map(|(_, b)| b.clone()).collect()));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_filings_offline_exported_imported_once_and_acknowledged_at_the_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(offline_cache::generate_platform_key());
    let hub_db = dir.path().join("hub.db");
    let options = || HubOptions { platform_key: Some(platform.clone()), ..HubOptions::default() };
    let hub = Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &hub_db, options()).await.unwrap();

    // The van: its outbox, its device key registered on the hub, an assistant assigned to it.
    let data = dir.path().join("van");
    std::fs::create_dir_all(&data).unwrap();
    let mut cfg = OutboxConfig::new(platform.public_key(), VAN);
    cfg.disk_reserve_bytes = 0;
    let outbox = Outbox::open(&data.join("outbox.db"), cfg).unwrap();
    let (identity, _) = DeviceIdentity::load_or_create(&data.join("device.key"), VAN).unwrap();
    harness::register(&hub, &identity, Some("van")).await;
    let villages: Vec<VillageCode> = VILLAGES.iter().map(|v| VillageCode::parse(v).unwrap()).collect();
    harness::add_assistant(&hub, "GS0042", VAN, &villages);

    // A new terminal cannot log anyone in before it has been online once.
    assert!(matches!(outbox.operator_login("GS0042", PIN, time::OffsetDateTime::now_utc(), &LoginPolicy::default()), Err(LoginError::NeedsNetwork)));
    let client = SyncClient::with_config(&hub.base_url(), identity.clone(), SyncConfig { hub_key: Some(hub.signing_public_key()), ..quick() }).unwrap();
    assert_eq!(client.pull_operators(&outbox).await.unwrap(), (1, 0));

    // The van drives out of coverage: the hub is unreachable from here on.
    hub.shutdown().await.unwrap();
    assert!(!client.hub_reachable().await);

    let van = Terminal { terminal_id: VAN.into(), village_code: villages[0].clone(), channel: Channel::ServiceVan };
    let mut a = AssistedSession::new(Arc::new(Catalog::starter()), &van, Capabilities::default(), Arc::new(time::OffsetDateTime::now_utc)).unwrap();
    let mut filed = BTreeMap::new();

    // Wrong PIN once, then the right one: offline, against the synced hash.
    a.handle(AssistEvent::OpenLogin);
    let fx = a.handle(AssistEvent::SubmitLogin { staff: "GS0042".into(), pin: Zeroizing::new("135790".into()) });
    apply(&outbox, &mut a, fx, &mut filed);
    assert_eq!(a.screen(), AssistScreen::Login);
    assert!(a.login_problem().unwrap().contains("wrong staff number or PIN"));
    let fx = a.handle(AssistEvent::SubmitLogin { staff: "GS0042".into(), pin: Zeroizing::new(PIN.into()) });
    apply(&outbox, &mut a, fx, &mut filed);
    assert_eq!(a.screen(), AssistScreen::Trip);

    let mut trips = Vec::new();
    let mut n = 0usize;
    for (v, village) in villages.iter().enumerate() {
        let fx = a.handle(AssistEvent::StartTrip(village.clone()));
        apply(&outbox, &mut a, fx, &mut filed);
        let trip_id = a.trip().unwrap().id;
        trips.push(trip_id);
        let count = if v == 2 { 16 } else { 17 };
        for _ in 0..count {
            n += 1;
            let fx = a.handle(AssistEvent::NewFiling);
            apply(&outbox, &mut a, fx, &mut filed);
            for ev in [Event::ChooseService("620000RS0001".into()), Event::StartFiling, Event::Agree, Event::CardRead(villager(n))] {
                let fx = a.handle(AssistEvent::Villager(ev));
                apply(&outbox, &mut a, fx, &mut filed);
            }
            assert_eq!(a.screen(), AssistScreen::Filing(Screen::Form));
            // Two materials: a household register page unique to the villager, and a shared blank form.
            let page = format!("\u{89}PNG household register page of villager {n}").into_bytes();
            a.handle(AssistEvent::MaterialScanned { material_code: "hukou".into(), media_type: "image/png".into(), bytes: page });
            a.handle(AssistEvent::MaterialScanned { material_code: "form".into(), media_type: "application/pdf".into(), bytes: b"%PDF blank form".to_vec() });
            for ev in [
                Event::FieldEdited { key: "phone".into(), value: format!("139{n:08}") },
                Event::FieldEdited { key: "bank".into(), value: "rcc".into() },
                Event::SubmitForm,
                Event::Confirm,
            ] {
                let fx = a.handle(AssistEvent::Villager(ev));
                apply(&outbox, &mut a, fx, &mut filed);
            }
            assert_eq!(a.screen(), AssistScreen::Signature);
            let x = (n as u16 * 7) % 500;
            a.handle(AssistEvent::Stroke(vec![[x, 20], [x + 30, 80], [x + 60, 40]]));
            a.handle(AssistEvent::Stroke(vec![[x + 10, 100], [x + 90, 100]]));
            if n % 10 == 0 {
                a.handle(AssistEvent::ChooseRelation(AgentRelation::Relative));
            }
            let fx = a.handle(AssistEvent::AcceptSignature);
            apply(&outbox, &mut a, fx, &mut filed);
            assert_eq!(a.screen(), AssistScreen::Filing(Screen::Saved), "filing {n}");
            // The sync worker keeps trying in the background; nothing answers.
            if n % 17 == 0 {
                let r = client.sync_once(&outbox).await;
                assert!(r.stopped.is_some() && r.acknowledged.is_empty(), "{r:?}");
            }
            for ev in [Event::Finish, Event::Finish] {
                let fx = a.handle(AssistEvent::Villager(ev));
                apply(&outbox, &mut a, fx, &mut filed);
            }
            assert_eq!(a.screen(), AssistScreen::TripSummary);
        }
        // The trip summary for this village.
        let summary = &a.trip().unwrap().summary;
        assert_eq!(summary.len(), 1);
        assert_eq!((summary[0].village_code.as_str(), summary[0].filed, summary[0].waiting), (VILLAGES[v], count as u64, count as u64));
        let fx = a.handle(AssistEvent::EndTrip);
        apply(&outbox, &mut a, fx, &mut filed);
    }
    let fx = a.handle(AssistEvent::Logout);
    apply(&outbox, &mut a, fx, &mut filed);
    assert_eq!(filed.len(), 50);
    assert_eq!(outbox.counts().unwrap().queued, 50);

    // Every operator action is in the audit chain, under the staff number.
    let audit = outbox.verify_audit().unwrap();
    assert!(audit.intact());
    let tail = outbox.audit_tail(1000).unwrap();
    let by_op = |action: &str| tail.iter().filter(|e| e.action == action && e.operator.as_deref() == Some("GS0042")).count();
    assert_eq!(by_op("file submission"), 50);
    assert_eq!(by_op("filing confirmed"), 50);
    assert_eq!(by_op("trip start"), 3);
    assert_eq!(by_op("operator session ended"), 1);
    assert!(tail.iter().any(|e| e.action == "operator login" && e.outcome.starts_with("refused: wrong PIN")));

    // ---- Export to removable media ----
    let stick = dir.path().join("usb");
    std::fs::create_dir_all(&stick).unwrap();
    let file_path = stick.join("GS-VAN-01.cunban-export");
    let (file, summary) = outbox.export_queue(&identity, time::OffsetDateTime::now_utc()).unwrap();
    assert_eq!((summary.records, summary.attachments, summary.damaged.len()), (50, 100, 0));
    write_export_file(&file_path, &file).unwrap();
    // What is on the stick is sealed: no villager's name, number or phone in it.
    let raw = std::fs::read(&file_path).unwrap();
    for needle in ["村民1".as_bytes(), b"13900000001", b"household register", "马小兰".as_bytes()] {
        assert!(!raw.windows(needle.len()).any(|w| w == needle), "{:?} found in the export", String::from_utf8_lossy(needle));
    }
    // The van is still offline: the records stay queued until the hub says so.
    assert_eq!(outbox.counts().unwrap().queued, 50);

    // ---- Import at the hub (which is not serving: an office PC with the database) ----
    let store = SqliteStore::open(&hub_db).unwrap();
    let export = ExportFile::from_bytes(&std::fs::read(&file_path).unwrap()).unwrap();
    // A file whose records were changed after signing is refused whole.
    let mut forged = export.clone();
    forged.records.pop();
    assert!(matches!(import(&store, &forged, Some(&platform)), Err(ImportError::Export(_))));
    assert_eq!(HubDb::open(&hub_db).unwrap().total_submissions().unwrap(), 0);

    let report = import(&store, &export, Some(&platform)).unwrap();
    assert_eq!((report.stored(), report.already_held(), report.refused()), (50, 0, 0));
    let db = HubDb::open(&hub_db).unwrap();
    assert_eq!(db.total_submissions().unwrap(), 50);
    assert_eq!(db.case_count().unwrap(), 50);
    let mut per_village = BTreeMap::new();
    for (id, (expected, bytes)) in &filed {
        assert_eq!(db.submission_count(*id).unwrap(), 1);
        let opened = db.open_submission(*id, &platform).unwrap().unwrap();
        assert_eq!(&opened.submission, expected, "the hub opens exactly what was filed");
        let got: Vec<Vec<u8>> = opened.attachments.iter().map(|(_, b)| b.to_vec()).collect();
        assert_eq!(&got, bytes);
        let o = opened.submission.filed_by.on_behalf().expect("an on-behalf filing");
        assert_eq!((o.agent.staff_number.as_str(), o.agent.name.as_str()), ("GS0042", "马小兰"));
        assert_eq!(o.signature.strokes().len(), 2);
        assert!(trips.contains(&o.trip_id));
        *per_village.entry(opened.submission.village_code.as_str().to_owned()).or_insert(0) += 1;
    }
    assert_eq!(per_village.values().copied().collect::<Vec<_>>(), vec![17, 17, 16]);

    // The same stick imported again: nothing changes.
    let again = import(&store, &export, Some(&platform)).unwrap();
    assert_eq!((again.stored(), again.already_held(), again.refused()), (0, 50, 0));
    assert!(report.records.iter().zip(&again.records).all(|((_, a), (_, b))| match (a, b) {
        (RecordOutcome::Stored(x), RecordOutcome::AlreadyHeld(y)) => x == y,
        _ => false,
    }));
    assert_eq!(db.total_submissions().unwrap(), 50);
    assert_eq!(db.case_count().unwrap(), 50);
    drop(store);

    // ---- Back in coverage: the next sync learns of the acknowledgements ----
    let hub = Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &hub_db, options()).await.unwrap();
    let client = SyncClient::with_config(&hub.base_url(), identity.clone(), SyncConfig { batch_size: 100, ..quick() }).unwrap();
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.stopped, None);
    assert_eq!(r.acknowledged_from_import, 50);
    assert_eq!(r.acknowledged.len(), 50);
    assert_eq!(r.bytes_sent, 0, "nothing crossed the link again");
    let counts = outbox.counts().unwrap();
    assert_eq!((counts.queued, counts.sending, counts.acknowledged), (0, 0, 50));
    for (id, _) in &filed {
        let e = outbox.entry(*id).unwrap().unwrap();
        assert_eq!(e.state, OutboxState::Acknowledged);
        assert_eq!(e.case_number, db.case_for(*id).unwrap());
    }
    for trip in &trips {
        let t = outbox.trip_summary(*trip).unwrap();
        assert_eq!((t[0].waiting, t[0].delivered), (0, t[0].filed));
    }
    assert_eq!(db.total_submissions().unwrap(), 50);
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_from_an_unknown_or_revoked_terminal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("hub.db")).unwrap();
    let identity = DeviceIdentity::generate(VAN).unwrap();
    let mut cfg = OutboxConfig::new(offline_cache::generate_platform_key().public_key(), VAN);
    cfg.disk_reserve_bytes = 0;
    let outbox = Outbox::open(&dir.path().join("outbox.db"), cfg).unwrap();
    let (file, _) = outbox.export_queue(&identity, time::OffsetDateTime::now_utc()).unwrap();
    assert!(matches!(import(&store, &file, None), Err(ImportError::UnknownTerminal(_))));
    use hub::TerminalStore as _;
    store.add_terminal(&NewTerminal { id: VAN.into(), public_key: identity.public_key(), village_code: None, label: None }, time::OffsetDateTime::now_utc()).unwrap();
    assert_eq!(import(&store, &file, None).unwrap().records.len(), 0);
    store.revoke_terminal(VAN, time::OffsetDateTime::now_utc()).unwrap();
    assert!(matches!(import(&store, &file, None), Err(ImportError::Revoked(_))));
}
