//! Progress at any terminal (issue 16, the must-show journeys): a villager
//! files in the service van (assisted mode, the van online); the case is
//! accepted and the van's 差评 of it opens a follow-up the back office
//! answers; at the village kiosk, a second terminal registered on its own,
//! the villager types the receipt's number, places the same ID card, and
//! sees the platform's history and the reply. With the hub gone, the same
//! steps say the platform cannot be asked and show what the kiosk knows.
//! A bundle filed in the van shows each part, and a rejected part its
//! reason, at the kiosk the same way. Screens go to `<target>/journey/progress-anywhere/`.

use std::sync::Arc;
use std::time::Duration;

use hub::backoffice::{decide, Decision};
use hub::{Hub, HubOptions};
use kiosk::assisted::{AssistEvent, AssistScreen, AssistedSession};
use kiosk::session::{Capabilities, Event, RatingRecord, RatingTarget, Screen, Terminal};
use model::evaluation::Rating;
use model::submission::Channel;
use model::{Catalog, VillageCode};
use offline_cache::{DeviceIdentity, Outbox, OutboxConfig, SyncClient, SyncConfig};
use ui::slint::ComponentHandle;
use zeroize::Zeroizing;

use super::harness::{self, Driven, WindowKiosk};

const VAN: &str = "GS-VAN-0016";
const KIOSK: &str = "GS-KIOSK-0016";
const VILLAGE: &str = "622926100202";
const REPLY: &str = "已加派人手，下次不用久等。给您添麻烦了。";

/// The van's filing of 社会保障卡申领 for the simulator's card holder
/// (张桂兰), through the assisted state machine, sent at once: its case number.
async fn file_in_the_van(hub: &Hub, platform: &model::seal::PlatformSecretKey, dir: &std::path::Path) -> (model::CaseNumber, Outbox, SyncClient) {
    let mut cfg = OutboxConfig::new(platform.public_key(), VAN);
    cfg.disk_reserve_bytes = 0;
    let outbox = Outbox::open(&dir.join("van-outbox.db"), cfg).unwrap();
    let (identity, _) = DeviceIdentity::load_or_create(&dir.join("van-device.key"), VAN).unwrap();
    harness::register(hub, &identity, Some("van")).await;
    harness::add_assistant(hub, "GS0042", VAN, &[VillageCode::parse(VILLAGE).unwrap()]);
    let client = SyncClient::with_config(&hub.base_url(), identity, SyncConfig { hub_key: Some(hub.signing_public_key()), ..SyncConfig::default() }).unwrap();
    client.pull_operators(&outbox).await.unwrap();

    let van = Terminal { terminal_id: VAN.into(), village_code: VillageCode::parse(VILLAGE).unwrap(), channel: Channel::ServiceVan };
    let mut a = AssistedSession::new(Arc::new(Catalog::starter()), &van, Capabilities::default(), Arc::new(time::OffsetDateTime::now_utc)).unwrap();
    let mut fx = vec![];
    fx.extend(a.handle(AssistEvent::OpenLogin));
    fx.extend(a.handle(AssistEvent::SubmitLogin { staff: "GS0042".into(), pin: Zeroizing::new(harness::PIN.into()) }));
    harness::run_assisted(&outbox, &mut a, fx, |_, _| {});
    assert_eq!(a.screen(), AssistScreen::Trip);
    let fx = a.handle(AssistEvent::StartTrip(VillageCode::parse(VILLAGE).unwrap()));
    harness::run_assisted(&outbox, &mut a, fx, |_, _| {});
    let fx = a.handle(AssistEvent::NewFiling);
    harness::run_assisted(&outbox, &mut a, fx, |_, _| {});
    // The same card the village kiosk's simulated reader holds.
    let card = Box::new(model::fixtures::sample_identity());
    for ev in [Event::ChooseService("620000RS0001".into()), Event::StartFiling, Event::Agree, Event::CardRead(card)] {
        let fx = a.handle(AssistEvent::Villager(ev));
        harness::run_assisted(&outbox, &mut a, fx, |_, _| {});
    }
    a.handle(AssistEvent::MaterialScanned { material_code: "hukou".into(), media_type: "image/png".into(), bytes: b"\x89PNG household register".to_vec() });
    a.handle(AssistEvent::MaterialScanned { material_code: "form".into(), media_type: "application/pdf".into(), bytes: b"%PDF blank form".to_vec() });
    for ev in [
        Event::FieldEdited { key: "phone".into(), value: "13912345678".into() },
        Event::FieldEdited { key: "bank".into(), value: "rcc".into() },
        Event::SubmitForm,
        Event::Confirm,
    ] {
        let fx = a.handle(AssistEvent::Villager(ev));
        harness::run_assisted(&outbox, &mut a, fx, |_, _| {});
    }
    a.handle(AssistEvent::Stroke(vec![[10, 20], [40, 80], [70, 40]]));
    let fx = a.handle(AssistEvent::AcceptSignature);
    harness::run_assisted(&outbox, &mut a, fx, |_, _| {});
    assert_eq!(a.screen(), AssistScreen::Filing(Screen::Saved));
    let report = client.sync_once(&outbox).await;
    assert_eq!(report.acknowledged.len(), 1, "{report:?}");
    (report.acknowledged[0].1.clone(), outbox, client)
}

/// The village kiosk: a second terminal, registered on its own.
fn village_kiosk(rt: &tokio::runtime::Runtime, hub: &Hub, platform: &model::seal::PlatformSecretKey, dir: &std::path::Path) -> WindowKiosk {
    WindowKiosk::start(rt, hub, platform, dir, (KIOSK, VILLAGE), harness::quick_sync(), "progress-anywhere")
}

/// 查进度 → 输入号码 → the receipt's number → the card.
fn check_progress(k: &mut WindowKiosk, receipt: &str, step: &str) {
    k.tap("查进度");
    k.wait_screen(ui::Screen::Progress);
    k.tap("输入号码");
    k.keypad(receipt);
    // This kiosk never saw the receipt: only the card is asked for now.
    k.wait_until("the card is asked for", |w| {
        let v = w.global::<ui::Visit>();
        v.get_lookup_phase() == ui::LookupPhase::Ask && v.get_lookup_card_only()
    });
    k.shot(&format!("{step}-card"));
    assert!(k.shows("这台机器上没有这张回执"));
    k.tap("模拟放置身份证");
    k.wait_until("the lookup answered", |w| {
        matches!(w.global::<ui::Visit>().get_lookup_phase(), ui::LookupPhase::Found | ui::LookupPhase::Nothing)
    });
    k.shot(step);
    // The simulated card lies on the reader a moment; let it go.
    std::thread::sleep(kiosk::demo::CARD_ON_READER + Duration::from_millis(300));
}

#[test]
fn filed_in_the_van_checked_at_the_village_kiosk_with_the_card() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(offline_cache::generate_platform_key());
    let options = HubOptions { platform_key: Some(platform.clone()), ..HubOptions::default() };
    let hub = rt.block_on(Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db"), options)).unwrap();

    let (case, van_outbox, van_sync) = rt.block_on(file_in_the_van(&hub, &platform, dir.path()));
    rt.block_on(decide(hub.store(), case.as_str(), Decision::Accept, "王科员")).unwrap();
    // The villager rates the van's service 不满意: a follow-up opens, the back office answers.
    let record = RatingRecord { target: RatingTarget::Case(case.clone()), rating: Rating::Dissatisfied, reasons: vec!["等的时间太长".into()], at: time::OffsetDateTime::now_utc() };
    assert!(kiosk::visit::store_rating(&van_outbox, &record).unwrap());
    let report = rt.block_on(van_sync.sync_all(&van_outbox));
    assert_eq!(report.evaluations_sent, 1, "{report:?}");
    let open = hub.store().followups(true).unwrap();
    assert_eq!(open.len(), 1, "a 差评 opens a follow-up: {open:?}");
    hub.store().reply_followup(open[0].evaluation_id, REPLY, "李主任", time::OffsetDateTime::now_utc()).unwrap();

    // At the village kiosk, with the same card: history and the reply.
    let mut k = village_kiosk(&rt, &hub, &platform, dir.path());
    check_progress(&mut k, case.as_str(), "found");
    let v = k.window.global::<ui::Visit>();
    assert_eq!(v.get_lookup_phase(), ui::LookupPhase::Found, "{}", v.get_lookup_message());
    assert!(k.shows("在政务服务平台上查到 1 件："));
    assert!(k.shows("社会保障卡申领"));
    assert!(k.shows("已交到政务服务平台，正在办理"));
    let rows: Vec<ui::ProgressRow> = ui::slint::Model::iter(&v.get_lookup_rows()).collect();
    assert!(rows[0].history.starts_with("已接收 ") && rows[0].history.contains("→ 已受理 "), "{}", rows[0].history);
    assert_eq!(rows[0].reply.as_str(), format!("对您评价的答复：{REPLY}"));
    assert!(k.shows(&format!("对您评价的答复：{REPLY}")));
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    // The hub is gone: the kiosk says so and shows what it knows (nothing).
    rt.block_on(hub.shutdown()).unwrap();
    check_progress(&mut k, case.as_str(), "offline");
    assert_eq!(k.window.global::<ui::Visit>().get_lookup_phase(), ui::LookupPhase::Nothing);
    assert!(k.shows("现在连不上政务服务平台"), "{}", k.window.global::<ui::Visit>().get_lookup_message());
    assert!(!k.shows("社会保障卡申领"));
}

/// A bundle (我要领取失业保险金) filed in the van for the card holder; one
/// department accepts its part, another rejects its part with words. At the
/// village kiosk, with the same card, the platform's answer lists each
/// part, and the rejected one reads 不予受理 with the back office's reason
/// (the connector path: hub `POST /v1/progress`, `SyncClient::progress`,
/// the kiosk's `from_platform`, the window).
#[test]
fn a_bundles_parts_and_a_rejection_reason_reach_another_kiosk_with_the_card() {
    const PARTS: [&str; 3] = ["620000RS0013", "620000RS0016", "620000RS0019"];
    const REASON: &str = "请先到乡镇就业服务站登记技能";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(offline_cache::generate_platform_key());
    let options = HubOptions { platform_key: Some(platform.clone()), ..HubOptions::default() };
    let hub = rt.block_on(Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db"), options)).unwrap();

    let (identity, _) = DeviceIdentity::load_or_create(&dir.path().join("van-device.key"), VAN).unwrap();
    rt.block_on(harness::register(&hub, &identity, None));
    let mut cfg = OutboxConfig::new(platform.public_key(), VAN);
    cfg.disk_reserve_bytes = 0;
    let outbox = Outbox::open(&dir.path().join("van-outbox.db"), cfg).unwrap();
    // The submission the bundle journey builds (session::tests::bundles), for the simulator's card holder.
    let mut sub = model::fixtures::sample_submission(vec![]);
    sub.applicant = model::submission::Applicant::from(&model::fixtures::sample_identity());
    sub.item_code = model::ImplementCode::parse("620000YJS004").unwrap();
    sub.bundle_code = Some(sub.item_code.clone());
    sub.parts = PARTS.iter().map(|c| model::ImplementCode::parse(c).unwrap()).collect();
    sub.form.insert("wish".into(), "local".into());
    sub.terminal_id = VAN.into();
    outbox.enqueue(&sub, &[]).unwrap();
    let client = SyncClient::with_config(&hub.base_url(), identity, SyncConfig::default()).unwrap();
    let report = rt.block_on(client.sync_once(&outbox));
    assert_eq!(report.acknowledged.len(), 1, "{report:?}");
    let case = report.acknowledged[0].1.clone();
    rt.block_on(hub::backoffice::decide_part(hub.store(), &format!("{case}P1"), Decision::Accept, "王科员")).unwrap();
    rt.block_on(hub::backoffice::decide_part(hub.store(), &format!("{case}P3"), Decision::Reject { reason: REASON.into() }, "李科员"))
        .unwrap();

    let mut k = village_kiosk(&rt, &hub, &platform, dir.path());
    check_progress(&mut k, case.as_str(), "bundle-found");
    let v = k.window.global::<ui::Visit>();
    assert_eq!(v.get_lookup_phase(), ui::LookupPhase::Found, "{}", v.get_lookup_message());
    assert!(k.shows("在政务服务平台上查到 1 件："));
    let rows: Vec<ui::ProgressRow> = ui::slint::Model::iter(&v.get_lookup_rows()).collect();
    assert_eq!(rows[0].item.as_str(), "我要领取失业保险金");
    let parts: Vec<(String, String, String)> =
        ui::slint::Model::iter(&rows[0].parts).map(|p| (p.item.to_string(), p.number.to_string(), p.status.to_string())).collect();
    assert_eq!(
        parts,
        [
            ("失业登记".to_owned(), format!("{case}P1"), "已交到政务服务平台，正在办理".to_owned()),
            ("失业保险金申领".to_owned(), format!("{case}P2"), "已交到政务服务平台，正在办理".to_owned()),
            ("求职登记和职业介绍".to_owned(), format!("{case}P3"), format!("不予受理。原因：{REASON}")),
        ]
    );
    assert_eq!(ui::slint::Model::iter(&rows[0].parts).last().map(|p| p.tone), Some(ui::ProgressTone::Problem));
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    rt.block_on(hub.shutdown()).unwrap();
}
