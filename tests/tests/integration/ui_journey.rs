//! The villager journeys through the real Slint window, as a villager taps
//! them: elements found by accessible label, real pointer clicks, the real
//! SAM driver against the pty simulator, the outbox on disk and the hub on
//! loopback. One test per journey (file, progress, result, rate) and one for
//! the idle timeout. Each step is rendered to `<target>/journey/<test>/NN-step.png`.

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::SamSimulator;
use hub::{Hub, HubDb};
use i_slint_backend_testing::{self as testing, AccessibleRole};
use kiosk::app::App;
use kiosk::session::View;
use kiosk::ui_glue;
use kiosk::voice::Recording;
use model::evaluation::Rating;
use model::Lang;
use offline_cache::{Outbox, SyncClient};
use ui::slint::ComponentHandle;
use ui::KioskWindow;

use super::harness::{self, Driven};

const TERMINAL: &str = "GS-TEST-0001";

/// A kiosk with its window, devices, outbox and (when online) a hub.
pub(super) struct Kiosk {
    pub(super) window: KioskWindow,
    views: mpsc::Receiver<View>,
    pub(super) app: App,
    pub(super) outbox: Arc<Outbox>,
    pub(super) receipts: PathBuf,
    speaker: Arc<Recording>,
    shots: harness::Shots,
    pub(super) hub: Option<Hub>,
    /// Opens what the hub received (materials test).
    pub(super) platform: model::seal::PlatformSecretKey,
    pub(super) rt: tokio::runtime::Runtime,
    /// The terminal's key, for a second sync client of the same terminal.
    pub(super) identity: offline_cache::DeviceIdentity,
    pub(super) _sim: Arc<SamSimulator>,
    pub(super) _dir: tempfile::TempDir,
}

impl Kiosk {
    /// Materials scanned by SANE's test backend (Debian sane-utils), no camera.
    pub fn with_test_scanner(&mut self) {
        use drivers::docscan::test_backend::SaneTestEnv;
        let sane = SaneTestEnv::new().expect("SANE's test backend (Debian sane-utils; ./dev test installs it)");
        self.app.set_material_devices(Box::new(kiosk::capture::Capturers::new(Some(sane.scanner()), None)));
        std::mem::forget(sane); // the scanner's config dir lives as long as the test process
        self.pump();
    }

    /// `online`: a hub on loopback answers; otherwise the link is down.
    pub(super) fn start(name: &str, online: bool, idle_timeout: Duration) -> Kiosk {
        Kiosk::start_with(name, online, idle_timeout, None)
    }

    /// With a catalog key: signed catalogs the hub publishes are pulled, at
    /// every round (the heartbeat they ride on is always due).
    pub(super) fn start_with(name: &str, online: bool, idle_timeout: Duration, catalog_key: Option<model::auth::PublicKey>) -> Kiosk {
        // Each test thread has its own Slint context.
        harness::testing_backend();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let identity = offline_cache::DeviceIdentity::generate(TERMINAL).unwrap();
        let (hub, url) = if online {
            let hub = rt.block_on(Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db"))).expect("hub");
            rt.block_on(harness::register(&hub, &identity, None));
            let url = hub.base_url();
            (Some(hub), url)
        } else {
            // A port nobody listens on: the network is down.
            let port = testkit::ports::free_port().unwrap();
            (None, format!("http://127.0.0.1:{port}"))
        };
        let sim = Arc::new(SamSimulator::start().expect("card simulator"));
        let platform = offline_cache::generate_platform_key();
        let outbox = Arc::new(
            Outbox::open(&dir.path().join("outbox.db"), offline_cache::OutboxConfig::new(platform.public_key(), TERMINAL))
                .unwrap(),
        );
        let receipts = dir.path().join("receipts.escpos");

        let sync = match catalog_key {
            None => SyncClient::new(&url, identity.clone()).unwrap(),
            Some(key) => {
                let config = offline_cache::SyncConfig { catalog_key: Some(key), heartbeat_interval: Duration::ZERO, ..Default::default() };
                SyncClient::with_config(&url, identity.clone(), config).unwrap()
            }
        };
        let session = harness::self_service(TERMINAL, "622926100202");
        let harness::Launched { app, views, .. } = harness::launch(&rt, session, outbox.clone(), sync, &sim, &receipts, idle_timeout);
        // espeak-ng's voices, recorded instead of spoken.
        let speaker = Arc::new(Recording::new(vec![Lang::ZhCn, Lang::En]));
        app.set_speaker(speaker.clone());

        let window = KioskWindow::new().unwrap();
        window.global::<ui::Frame>().set_terminal_label("东乡族自治县 巴牙村委会 · 终端 GS-TEST-0001".into());
        ui_glue::wire(&window, &app, Some(sim.clone()));
        // The on-screen keyboard with Debian's engines, as main.rs wires it.
        kiosk::keyboard_glue::wire(&window, kiosk::keyboard_glue::Engines::load(dir.path()), Some(speaker.clone()));
        kiosk::place_glue::wire(&window, Some("622926100202"));
        window.show().unwrap();
        let shots = harness::shots(name);
        let k = Kiosk {
            window,
            views,
            app,
            outbox,
            receipts,
            speaker,
            shots,
            hub,
            platform,
            rt,
            identity,
            _sim: sim,
            _dir: dir,
        };
        k.pump();
        assert_eq!(k.window.global::<ui::Frame>().get_screen(), ui::Screen::Home);
        k
    }

    /// From home to the form of 社会保障卡申领 with the sample card read.
    fn open_social_card_form(&mut self) {
        self.tap("我要办事");
        self.wait_screen(ui::Screen::Services);
        self.shot("services");
        self.tap("社会保障卡申领");
        self.wait_screen(ui::Screen::Guide);
        self.shot("guide");
        assert!(self.shows("要带的材料"), "the guide says what to bring");
        self.tap("开始办理");
        self.wait_screen(ui::Screen::Consent);
        self.shot("consent");
        assert!(self.shows("保存多久"), "consent says for how long");
        self.tap("同意，继续");
        self.wait_screen(ui::Screen::IdPrompt);
        self.shot("id-prompt");
        // The demo button puts the sample card on the simulated reader; the
        // real driver reads it over the pty.
        self.tap("模拟放置身份证");
        self.wait_screen(ui::Screen::Form);
        self.shot("form");
    }

    /// The whole filing of 社会保障卡申领, up to the saved screen.
    fn file_social_card(&mut self) {
        self.open_social_card_form();
        self.tap("联系电话");
        self.keypad("13912345678");
        // The bank choice is below the fold: scroll with the big button, no swipe.
        self.tap("向下");
        self.tap("甘肃农村信用社");
        harness::review_and_submit(self);
    }

    /// The simulated card lies on the reader for a moment after 模拟放置身份证;
    /// waits until it is taken away, so the next lookup starts without it.
    pub(super) fn card_taken_away(&self) {
        std::thread::sleep(kiosk::demo::CARD_ON_READER + Duration::from_millis(500));
    }

    pub(super) fn finish(self) {
        if let Some(hub) = self.hub {
            self.rt.block_on(hub.shutdown()).unwrap();
        }
    }
}

impl harness::Driven for Kiosk {
    fn window(&self) -> &KioskWindow {
        &self.window
    }

    /// Applies views the app published (the test thread is the UI thread).
    fn pump(&self) {
        while let Ok(v) = self.views.try_recv() {
            ui_glue::apply(&self.window, &v);
            kiosk::keyboard_glue::follow(&self.window, &v);
            if v.screen != kiosk::session::Screen::Form {
                kiosk::place_glue::close(&self.window);
            }
        }
        testing::mock_elapsed_time(Duration::from_millis(300));
    }

    fn shots(&mut self) -> &mut harness::Shots {
        &mut self.shots
    }
}

/// 自助申报: guide, consent, ID card, form (keypad, choices), a language
/// switch that keeps what was typed, review, sent at once, receipt, goodbye.
#[test]
fn files_an_application() {
    let mut k = Kiosk::start("file", true, Duration::from_secs(600));
    k.shot("home");
    k.open_social_card_form();

    // Phone number on the on-screen keypad.
    k.tap("联系电话");
    for d in "13912345678".chars() {
        k.tap(&d.to_string());
    }
    k.shot("keypad");
    k.tap("完成");

    // Reading aloud, and a switch to English and back: what was typed stays.
    k.tap("朗读");
    k.wait_until("reading aloud", |w| w.global::<ui::Frame>().get_voice_on());
    k.tap("English");
    k.wait_until("English", |w| w.global::<ui::Theme>().get_lang() == "en");
    k.shot("form-en");
    assert!(k.shows("Apply for a social security card"));
    assert_eq!(k.control("Phone").accessible_value().as_deref(), Some("13912345678"));
    k.tap("中文");
    k.wait_until("Chinese", |w| w.global::<ui::Theme>().get_lang() == "zh-CN");
    assert_eq!(k.control("联系电话").accessible_value().as_deref(), Some("13912345678"));
    let said = k.speaker.said();
    assert!(said.iter().any(|(l, t)| *l == Lang::En && t.contains("Next")), "read in English: {said:?}");
    assert!(said.iter().any(|(l, t)| *l == Lang::ZhCn && t.contains("下一步")), "read in Chinese: {said:?}");
    k.tap("朗读");

    k.tap("向下");
    k.tap("甘肃农村信用社");
    k.shot("form-filled");
    harness::review_and_submit(&mut k);
    let case_number = harness::sent_at_once(&k);
    let receipts = k.receipts.clone();
    harness::print_receipt(&mut k, &receipts, &case_number);

    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.shot("goodbye");
    assert!(k.shows("请带好您的身份证和回执"));
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    let db = HubDb::open(&k._dir.path().join("hub.db")).unwrap();
    assert_eq!(db.total_submissions().unwrap(), 1);
    assert_eq!(db.case_count().unwrap(), 1);
    assert_eq!(k.outbox.counts().unwrap().acknowledged, 1);
    k.finish();
}

/// 提交材料: after the form, each material is scanned (SANE's test backend)
/// or photographed (a synthetic camera), previewed, retaken, and reaches the
/// hub sealed with the filing.
#[test]
fn files_with_scanned_and_photographed_materials() {
    use drivers::docscan::test_backend::SaneTestEnv;
    if !SaneTestEnv::available() {
        panic!("scanimage or SANE's test backend is not installed (apt-get install sane-utils libsane1, or run ./dev test)");
    }
    let mut k = Kiosk::start("materials", true, Duration::from_secs(600));
    let sane = SaneTestEnv::new().unwrap();
    k.app.set_material_devices(Box::new(kiosk::capture::Capturers::new(
        Some(sane.scanner()),
        Some(Box::new(drivers::camera::SyntheticSource::new(640, 480))),
    )));
    k.pump();

    // 高龄津贴申请: 户口簿 and the bank card or passbook.
    k.tap("我要办事");
    k.wait_screen(ui::Screen::Services);
    k.tap("养老");
    // The theme holds more items than a page: page on until it shows.
    k.tap_paged("高龄津贴申请");
    k.wait_screen(ui::Screen::Guide);
    assert!(k.shows("在这台机器上扫描或拍照"), "the guide says materials are scanned here");
    k.start_filing_with_demo_card();
    k.tap("联系电话");
    k.keypad("13912345678");
    k.tap("向下");
    k.tap("银行账号");
    k.keypad("6228480012345678901");
    k.tap("下一步");
    k.wait_screen(ui::Screen::Materials);
    k.shot("materials");
    assert_eq!(k.window.global::<ui::Visit>().get_material().name, "户口簿");
    assert!(k.controls("下一步").is_empty(), "a required material must be captured first");

    // Scan, look at it, scan again.
    k.tap("扫描");
    k.wait_until("the scan", |w| w.global::<ui::Visit>().get_material().captured.contains("已扫描"));
    k.shot("scanned");
    assert!(k.window.global::<ui::Visit>().get_material().has_preview);
    assert_eq!(k.control("扫描或拍照的结果").accessible_role(), Some(AccessibleRole::Image));
    k.tap("重新扫描");
    k.wait_until("the second scan", |w| w.global::<ui::Visit>().get_material().captured.contains("已扫描") && !w.global::<ui::Visit>().get_material().busy);
    k.tap("下一步");
    k.wait_until("the next material", |w| w.global::<ui::Visit>().get_material().name == "本人银行卡或存折");

    // The bank card is photographed instead.
    k.tap("拍照");
    k.wait_until("the photo", |w| w.global::<ui::Visit>().get_material().captured == "已拍照");
    k.shot("photographed");
    k.tap("下一步");
    k.wait_screen(ui::Screen::Review);
    k.shot("review");
    assert!(k.shows("已扫描 1 页") && k.shows("已拍照"), "the review lists the materials");
    k.tap("确认提交");
    k.wait_screen(ui::Screen::Saved);
    assert!(k.window.global::<ui::Visit>().get_saved_sent());

    // The hub got the filing with both files, sealed, and they open.
    let db = HubDb::open(&k._dir.path().join("hub.db")).unwrap();
    let ids = db.submission_ids().unwrap();
    assert_eq!(ids.len(), 1);
    let filing = db.open_submission(ids[0], &k.platform).unwrap().expect("stored");
    let codes: Vec<&str> = filing.attachments.iter().map(|(r, _)| r.material_code.as_str()).collect();
    assert_eq!(codes, ["hukou", "bankbook"]);
    for (r, bytes) in &filing.attachments {
        assert_eq!(r.media_type, "image/jpeg");
        assert!(bytes.starts_with(&[0xFF, 0xD8]), "a JPEG");
        assert_eq!(r.size, bytes.len() as u64);
    }
    k.finish();
}

/// A USB keyboard-wedge QR scanner "types" an item's code on the home screen:
/// its guide opens. Typed slowly (a person at a keyboard), nothing happens.
#[test]
fn a_wedge_scanner_code_opens_the_item_guide() {
    use ui::slint::platform::WindowEvent;
    let k = Kiosk::start("wedge", false, Duration::from_secs(600));
    let type_keys = |text: &str, gap: Duration| {
        for c in text.chars() {
            let text: ui::slint::SharedString = c.to_string().into();
            k.window.window().dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
            k.window.window().dispatch_event(WindowEvent::KeyReleased { text });
            std::thread::sleep(gap);
        }
    };
    type_keys("620000MZ0001\n", Duration::from_millis(60));
    k.pump();
    assert_eq!(k.window.global::<ui::Frame>().get_screen(), ui::Screen::Home, "typing by hand is no scan");
    type_keys("620000MZ0001\n", Duration::ZERO);
    k.wait_screen(ui::Screen::Guide);
    assert!(k.shows("高龄津贴申请"));
    k.finish();
}

/// 进度查询: by the number on the receipt, typed on the keypad, and by the
/// ID card; each says plainly where the filing stands.
#[test]
fn checks_progress_by_receipt_number_and_by_id_card() {
    let mut k = Kiosk::start("progress", true, Duration::from_secs(600));
    k.file_social_card();
    let case_number = k.window.global::<ui::Visit>().get_case_number().to_string();
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    k.card_taken_away();
    k.tap("查进度");
    k.wait_screen(ui::Screen::Progress);
    k.shot("progress");
    k.tap("输入号码");
    k.keypad(&case_number);
    k.wait_until("the lookup answered", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Found || w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Nothing);
    k.shot("progress-by-number");
    assert_eq!(k.window.global::<ui::Visit>().get_lookup_phase(), ui::LookupPhase::Found, "{}", k.window.global::<ui::Visit>().get_lookup_message());
    assert!(k.shows("社会保障卡申领"));
    assert!(k.shows("已交到政务服务平台，正在办理"));
    assert!(k.shows(&case_number));

    k.tap("再查一次");
    k.wait_until("asking again", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Ask);
    k.tap("模拟放置身份证");
    k.wait_until("the lookup by card answered", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Found);
    k.card_taken_away();
    k.shot("progress-by-card");
    assert!(k.shows("已交到政务服务平台，正在办理"));

    // A number this terminal never gave out.
    k.tap("再查一次");
    k.wait_until("asking again", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Ask);
    k.tap("输入号码");
    k.keypad("620000000000000000");
    // Not this terminal's: the card must show it is the villager's, then the platform is asked.
    k.wait_until("the card is asked for", |w| w.global::<ui::Visit>().get_lookup_card_only());
    k.shot("progress-needs-card");
    k.tap("模拟放置身份证");
    k.wait_until("nothing found", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Nothing);
    k.card_taken_away();
    k.shot("progress-none");
    assert!(k.shows("政务服务平台上没有查到"));
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.finish();
}

/// 结果打印: nothing to print while the case is being handled; once the
/// platform has finished it, the screen says where to collect the result.
#[test]
fn result_printing_says_what_there_is() {
    let mut k = Kiosk::start("result", true, Duration::from_secs(600));
    k.file_social_card();
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    k.card_taken_away();
    k.tap("打印结果");
    k.wait_screen(ui::Screen::Result);
    k.tap("模拟放置身份证");
    k.wait_until("the lookup answered", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Found);
    k.shot("result-not-yet");
    assert!(k.shows("还没有可以打印的结果"));
    assert!(k.shows("已交到政务服务平台，正在办理"));

    // The platform reports the case done (as the case-status pull records it).
    let filed = k.outbox.awaiting_status(10).unwrap();
    assert_eq!(filed.len(), 1);
    k.outbox
        .record_case_status(filed[0], model::CaseStatus::Done, None, false, time::OffsetDateTime::now_utc())
        .unwrap();
    k.card_taken_away();
    k.tap("再查一次");
    k.wait_until("asking again", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Ask);
    k.tap("模拟放置身份证");
    k.wait_until("the second lookup answered", |w| {
        w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Found && w.global::<ui::Visit>().get_lookup_message().contains("有办结的事")
    });
    k.shot("result-done");
    assert!(k.shows("已经办结"));
    assert!(k.controls("打印结果文件").is_empty(), "no document on the hub: nothing to print");
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    // The back office finishes the case with a result PDF; the terminal's
    // A4 printer is a CUPS queue of a private cupsd.
    use drivers::a4::private_cups::PrivateCups;
    if !PrivateCups::available() {
        panic!("cupsd is not installed (apt-get install cups-daemon cups-client, or run ./dev test)");
    }
    let cups = PrivateCups::start("A4").expect("private cupsd");
    k.app.set_a4_printer(Box::new(kiosk::devices::A4Printer::new(&drivers::config::A4PrinterConfig::Cups {
        queue: cups.queue().to_owned(),
        server: cups.server(),
    })));
    let case_number = k.outbox.entry(filed[0]).unwrap().unwrap().case_number.unwrap();
    let pdf = {
        let receipt = drivers::Receipt {
            item_name: "社会保障卡申领".into(),
            applicant_masked: "张*兰".into(),
            id_number_masked: "6229**********0029".into(),
            time: time::macros::datetime!(2026-11-21 10:00),
            terminal_id: TERMINAL.into(),
            village_name: "巴牙村委会".into(),
            state: drivers::SubmitState::Sent,
            case_number: Some(case_number.to_string()),
            local_reference: filed[0].to_string(),
        };
        drivers::a4::receipt_pdf::acknowledgement_pdf(&receipt, &drivers::a4::receipt_pdf::CjkFont::system_default().unwrap()).unwrap()
    };
    let hub = k.hub.as_ref().unwrap();
    for decision in [hub::backoffice::Decision::Accept, hub::backoffice::Decision::Complete { result_pdf: Some(pdf.clone()) }] {
        k.rt.block_on(hub::backoffice::decide(hub.store(), case_number.as_str(), decision, "测试办理员")).unwrap();
    }
    // What the case-status pull records once the platform has a document.
    k.outbox.record_case_status(filed[0], model::CaseStatus::Done, None, true, time::OffsetDateTime::now_utc()).unwrap();
    k.card_taken_away();
    k.tap("打印结果");
    k.wait_screen(ui::Screen::Result);
    k.tap("模拟放置身份证");
    k.wait_until("a printable result", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Found && w.global::<ui::Visit>().get_result_printable());
    k.shot("result-printable");
    k.tap("打印结果文件");
    k.wait_until("the result printed", |w| w.global::<ui::Visit>().get_lookup_message().contains("已打印"));
    k.shot("result-printed");
    // What reached the printer is the hub's document, byte for byte.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = std::fs::read(cups.output()).unwrap_or_default();
        if out.windows(pdf.len()).any(|w| w == pdf.as_slice()) {
            break;
        }
        assert!(Instant::now() < deadline, "the PDF never reached the queue's backend ({} bytes there)", out.len());
        std::thread::sleep(Duration::from_millis(200));
    }
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.finish();
}

/// 好差评: five faces with words; a bad rating offers reasons; the rating is
/// queued for the platform with the case number.
#[test]
fn rates_the_service() {
    let mut k = Kiosk::start("rate", true, Duration::from_secs(600));
    k.file_social_card();
    let case_number = k.window.global::<ui::Visit>().get_case_number().to_string();
    k.tap("评价");
    k.wait_screen(ui::Screen::Rate);
    k.shot("rate");
    for face in ["非常满意", "满意", "基本满意", "不满意", "非常不满意"] {
        k.control(face);
    }
    k.tap("不满意");
    k.wait_until("reasons offered", |w| w.global::<ui::Visit>().get_rating() == ui::Rating::Dissatisfied);
    k.tap("等的时间太长");
    k.wait_until("reason chosen", |_| true);
    k.shot("rate-reasons");
    assert_eq!(k.control("等的时间太长").accessible_checked(), Some(true));
    k.tap("提交评价");
    k.wait_screen(ui::Screen::Goodbye);
    k.shot("rated");
    assert!(k.shows("谢谢您的评价"));

    let deadline = Instant::now() + Duration::from_secs(10);
    let pending = loop {
        let pending = k.outbox.pending_evaluations(10).unwrap();
        if !pending.is_empty() || Instant::now() > deadline {
            break pending;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(pending.len(), 1, "the rating is queued for the platform");
    let evaluation = &pending[0].upload.evaluation;
    assert_eq!(evaluation.case_number.as_str(), case_number);
    assert_eq!(evaluation.rating, Rating::Dissatisfied);
    assert_eq!(evaluation.reasons, ["等的时间太长"]);
    k.finish();
}

/// After a while with no touch: a spoken, visible countdown with a big 继续;
/// 继续 keeps the visit; letting it run out wipes it from screen and memory.
#[test]
fn idle_timeout_warns_then_wipes_the_visit() {
    // 3 s: the countdown shows for the last second (a third of the timeout).
    let mut k = Kiosk::start("idle", false, Duration::from_secs(3));
    k.tap("大字");
    k.open_social_card_form();
    k.tap("联系电话");
    k.keypad("13912345678");
    assert!(k.shows("张桂兰"), "the card holder's name is on screen");

    k.wait_until("the idle warning", |w| w.global::<ui::Frame>().get_idle_seconds() > 0);
    k.shot("idle-warning");
    assert!(k.shows("您还在吗"));
    let go_on = k.control("继续");
    assert!(go_on.size().height >= 110.0, "继续 is big: {:?}", go_on.size());
    assert!(
        k.speaker.said().iter().any(|(_, t)| t.contains("您还在吗")),
        "the warning is said aloud even with reading off"
    );
    k.tap("继续");
    k.wait_until("the warning gone", |w| w.global::<ui::Frame>().get_idle_seconds() == 0);
    assert_eq!(k.window.global::<ui::Frame>().get_screen(), ui::Screen::Form);
    assert_eq!(k.control("联系电话").accessible_value().as_deref(), Some("13912345678"), "继续 keeps the visit");

    // Nobody comes back this time.
    k.wait_until("the idle warning again", |w| w.global::<ui::Frame>().get_idle_seconds() > 0);
    k.wait_screen(ui::Screen::Home);
    k.shot("wiped");
    assert_eq!(k.window.global::<ui::Frame>().get_idle_seconds(), 0);
    assert_eq!(k.window.global::<ui::Visit>().get_form_rows().row_count(), 0, "no form data left in the window");
    assert!(!k.shows("张桂兰") && !k.shows("13912345678"), "nothing personal on screen");
    let view = k.app.view();
    assert!(view.form_rows.is_empty() && view.review_rows.is_empty());
    assert!(!view.large_text, "the next villager starts with the default settings");
    assert!(!k.window.global::<ui::Theme>().get_large_text());
    k.finish();
}

use ui::slint::Model;
