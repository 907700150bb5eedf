//! A villager files an application end to end: the real SAM driver talks to
//! the simulator over a pty, the outbox is SQLite on disk, the hub runs on
//! loopback, and the receipt is real ESC/POS bytes.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::escpos_inspect::{qr_payloads, text_gb18030};
use drivers::{SamSimulator, SimCard};
use hub::HubDb;
use hub::{Hub, HubOptions};
use kiosk::app::App;
use kiosk::session::{Capabilities, Event, Screen, Session, Terminal, View};
use model::seal::PlatformSecretKey;
use model::submission::Channel;
use model::{Catalog, IdNumber, SubmissionId, VillageCode};
use offline_cache::{DeviceIdentity, OutboxConfig, OutboxState, Outbox, SyncClient};

const SOCIAL_CARD: &str = "620000RS0001";

struct Kiosk {
    app: App,
    sim: SamSimulator,
    outbox: Arc<Outbox>,
    receipts: std::path::PathBuf,
    /// The platform's private key: the kiosk seals to its public half.
    platform: Arc<PlatformSecretKey>,
    /// The terminal's device key, which the hub must trust.
    device: model::auth::PublicKey,
}

/// A hub that holds the platform key, so it checks every sealed filing opens.
async fn spawn_hub(addr: SocketAddr, db: &Path, platform: &Arc<PlatformSecretKey>) -> Hub {
    Hub::spawn_with(addr, db, HubOptions { platform_key: Some(platform.clone()), ..HubOptions::default() }).await.expect("hub")
}

/// Trusts the kiosk's device key on `hub`, as a technician's registration would.
async fn trust(hub: &Hub, k: &Kiosk) {
    hub.register_terminal(hub::NewTerminal { id: "GS-TEST-0001".into(), public_key: k.device, village_code: None, label: None })
        .await
        .expect("register terminal");
}

fn start_kiosk(rt: &tokio::runtime::Runtime, dir: &Path, hub_url: &str, platform: Arc<PlatformSecretKey>) -> Kiosk {
    let sim = SamSimulator::start().expect("card simulator");
    let outbox = Arc::new(
        Outbox::open(&dir.join("outbox.db"), OutboxConfig::new(platform.public_key(), "GS-TEST-0001")).expect("outbox"),
    );
    let receipts = dir.join("receipts.escpos");
    let (identity, _) = DeviceIdentity::load_or_create(&dir.join("device.key"), "GS-TEST-0001").expect("device key");
    let device = identity.public_key();
    let session = Session::new(
        Arc::new(Catalog::starter()),
        Terminal {
            terminal_id: "GS-TEST-0001".into(),
            village_code: VillageCode::parse("622926100202").unwrap(),
            channel: Channel::SelfServiceTerminal,
        },
        Capabilities::default(),
        Box::new(time::OffsetDateTime::now_utc),
    );
    let sync = SyncClient::new(hub_url, identity).expect("sync client");
    // No idle wipe within a test (10 minutes).
    let app = super::harness::launch(rt, session, outbox.clone(), sync, &sim, &receipts, Duration::from_secs(600)).app;
    Kiosk { app, sim, outbox, receipts, platform, device }
}

fn wait_for(app: &App, what: &str, pred: impl Fn(&View) -> bool) -> View {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = app.view();
        if pred(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; screen is {:?}: {v:?}", v.screen);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Taps through the journey up to the saved screen.
fn file_social_security_card(k: &Kiosk) -> View {
    let app = &k.app;
    app.dispatch(Event::Start);
    assert_eq!(app.view().screen, Screen::Services);
    app.dispatch(Event::ChooseService(SOCIAL_CARD.into()));
    // The guide and the consent come before anything is asked.
    app.dispatch(Event::StartFiling);
    app.dispatch(Event::Agree);
    assert_eq!(app.view().screen, Screen::IdPrompt);
    k.sim.present(SimCard::sample());
    let form = wait_for(app, "the form prefilled from the card", |v| v.screen == Screen::Form);
    let name = form.form_rows.iter().find(|r| r.key == "name").expect("name row");
    assert!(name.readonly && !name.value.is_empty());
    let id = form.form_rows.iter().find(|r| r.key == "id_number").expect("id row");
    assert!(id.value.contains("**********"), "ID number must be masked on screen");
    k.sim.remove();
    app.dispatch(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    app.dispatch(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
    app.dispatch(Event::SubmitForm);
    assert_eq!(app.view().screen, Screen::Review);
    app.dispatch(Event::Confirm);
    wait_for(app, "the saved screen", |v| v.screen == Screen::Saved)
}

fn print_receipt(k: &Kiosk) -> Vec<u8> {
    k.app.dispatch(Event::PrintReceipt);
    let v = wait_for(&k.app, "the receipt", |v| v.screen == Screen::Receipt && !v.receipt_message.starts_with("正在"));
    assert_eq!(v.receipt_message, "回执已打印，请从出纸口取走");
    std::fs::read(&k.receipts).expect("receipt bytes")
}

#[test]
fn files_online_and_the_receipt_carries_the_case_number() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hub_db = dir.path().join("hub.db");
    let platform = Arc::new(offline_cache::generate_platform_key());
    let hub = rt.block_on(spawn_hub("127.0.0.1:0".parse().unwrap(), &hub_db, &platform));
    let k = start_kiosk(&rt, dir.path(), &hub.base_url(), platform);
    rt.block_on(trust(&hub, &k));

    let saved = file_social_security_card(&k);
    assert!(saved.saved_sent, "hub is up: {saved:?}");
    assert_eq!(saved.saved_title, "已提交");
    let case_number = saved.case_number.clone();
    assert!(!case_number.is_empty());

    let bytes = print_receipt(&k);
    assert_eq!(qr_payloads(&bytes), vec![case_number.as_bytes().to_vec()]);
    let text = text_gb18030(&bytes);
    assert!(text.contains("社会保障卡申领"), "{text}");
    assert!(text.contains(&case_number));
    let sample = SimCard::sample();
    assert!(!text.contains(sample.text.id_number.as_str()), "receipt must not carry the full ID number");
    assert!(!text.contains(sample.text.name.as_str()), "receipt must not carry the full name");

    let db = HubDb::open(&hub_db).unwrap();
    assert_eq!(db.total_submissions().unwrap(), 1);
    assert_eq!(db.case_count().unwrap(), 1);
    let counts = k.outbox.counts().unwrap();
    assert_eq!((counts.queued, counts.sending, counts.acknowledged), (0, 0, 1));
    // The card holder finds the filing again by ID card; the platform, and only it, opens it.
    let mine = k.outbox.find_by_id_number(&IdNumber::parse(sample.text.id_number.as_str()).unwrap()).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].case_number.as_ref().map(|c| c.as_str()), Some(case_number.as_str()));
    let filed = db.open_submission(mine[0].id, &k.platform).unwrap().expect("on the hub");
    assert_eq!(filed.submission.applicant.name, sample.text.name);
    let stored = db.submission_body(mine[0].id).unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(sample.text.name.as_str()), "it travels and is stored sealed");

    k.app.dispatch(Event::Finish);
    assert_eq!(k.app.view().screen, Screen::Goodbye, "a finished visit says goodbye, then returns home");
    rt.block_on(hub.shutdown()).unwrap();
}

#[test]
fn files_offline_then_reaches_the_hub_exactly_once_when_it_returns() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hub_db = dir.path().join("hub.db");
    // A port nobody listens on yet: the hub is "down".
    let addr: SocketAddr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let platform = Arc::new(offline_cache::generate_platform_key());
    let k = start_kiosk(&rt, dir.path(), &format!("http://{addr}"), platform.clone());

    let saved = file_social_security_card(&k);
    assert!(!saved.saved_sent);
    assert_eq!(saved.saved_title, "已保存，网络恢复后自动发送");
    let id = SubmissionId::parse(&saved.case_number).expect("offline receipt shows the local reference");
    let entry = k.outbox.entry(id).unwrap().expect("in the outbox");
    assert_eq!(entry.state, OutboxState::Queued);

    let bytes = print_receipt(&k);
    assert_eq!(qr_payloads(&bytes), vec![id.to_string().into_bytes()]);
    k.app.dispatch(Event::Finish);

    // The link comes back.
    let hub = rt.block_on(spawn_hub(addr, &hub_db, &platform));
    rt.block_on(trust(&hub, &k));
    k.app.sync_soon();
    let deadline = Instant::now() + Duration::from_secs(30);
    let entry = loop {
        let e = k.outbox.entry(id).unwrap().unwrap();
        if e.state == OutboxState::Acknowledged {
            break e;
        }
        assert!(Instant::now() < deadline, "never acknowledged: {e:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let case_number = entry.case_number.expect("case number after acknowledgement");

    // Further syncs send nothing again.
    k.app.sync_soon();
    std::thread::sleep(Duration::from_millis(500));
    let db = HubDb::open(&hub_db).unwrap();
    assert_eq!(db.submission_count(id).unwrap(), 1);
    assert_eq!(db.total_submissions().unwrap(), 1);
    assert_eq!(db.case_for(id).unwrap(), Some(case_number));
    rt.block_on(hub.shutdown()).unwrap();
}

#[test]
fn bad_cards_get_plain_sentences_and_a_good_card_then_goes_on() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let k = start_kiosk(&rt, dir.path(), "http://127.0.0.1:9", Arc::new(offline_cache::generate_platform_key()));
    k.app.dispatch(Event::Start);
    k.app.dispatch(Event::ChooseService(SOCIAL_CARD.into()));
    k.app.dispatch(Event::StartFiling);
    k.app.dispatch(Event::Agree);

    k.sim.present(SimCard::bad_check_digit());
    let v = wait_for(&k.app, "the check-digit message", |v| v.id_error);
    assert_eq!(v.screen, Screen::IdPrompt);
    assert!(v.id_message.contains("校验不通过"), "{}", v.id_message);
    let bad = SimCard::bad_check_digit();
    assert!(!v.id_message.contains(bad.text.id_number.as_str()));

    k.sim.remove();
    std::thread::sleep(Duration::from_millis(700));
    k.sim.present(SimCard::expired());
    let v = wait_for(&k.app, "the expiry message", |v| v.id_message.contains("已过期"));
    assert_eq!(v.screen, Screen::IdPrompt);

    k.sim.remove();
    std::thread::sleep(Duration::from_millis(700));
    k.sim.present(SimCard::sample());
    wait_for(&k.app, "the form", |v| v.screen == Screen::Form);
}
