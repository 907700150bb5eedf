//! The hidden technician diagnostics on the kiosk (issue 8): hold the
//! terminal label for 3 s, enter the technician PIN, see the device table,
//! network, queue and versions; print a test page on the real printer path;
//! read the simulated card (shown masked); a wrong PIN is refused.

use std::sync::Arc;
use std::time::Duration;

use drivers::SamSimulator;
use i_slint_backend_testing::{self as testing, ElementQuery};
use kiosk::session::{Capabilities, Session, Terminal};
use model::submission::Channel;
use model::{Catalog, VillageCode};
use offline_cache::{Outbox, SyncClient};
use ui::slint::platform::{PointerEventButton, WindowEvent};
use ui::slint::{ComponentHandle, LogicalPosition};
use ui::KioskWindow;

use super::harness::{self, shows};

fn tap(w: &KioskWindow, label: &str) {
    harness::click(w, label);
    testing::mock_elapsed_time(Duration::from_millis(100));
}

type Updates = std::sync::mpsc::Receiver<kiosk::diagnostics::DiagUpdate>;

/// Applies what the workers delivered (the test thread is the UI thread).
fn wait(w: &KioskWindow, updates: &Updates, what: &str, done: impl Fn(&KioskWindow) -> bool) {
    let apply = || {
        while let Ok(u) = updates.try_recv() {
            kiosk::diagnostics::apply(w, u);
        }
    };
    apply();
    let pump = || {
        testing::mock_elapsed_time(Duration::from_millis(50));
        apply();
    };
    let message = |w: &KioskWindow| format!("message {:?}", w.global::<ui::Diagnostics>().get_message());
    harness::wait_until(w, Duration::from_secs(20), pump, what, message, done);
}

fn shot(w: &KioskWindow, name: &str) {
    harness::shots("diagnostics").named(w, &format!("{name}.png"));
}

/// Holds a finger on the end of the terminal label (bottom right) for `hold`.
fn hold_corner(w: &KioskWindow, hold: Duration) {
    let position = LogicalPosition::new(1220.0, 770.0);
    w.window().dispatch_event(WindowEvent::PointerPressed { position, button: PointerEventButton::Left });
    testing::mock_elapsed_time(hold);
    w.window().dispatch_event(WindowEvent::PointerReleased { position, button: PointerEventButton::Left });
    testing::mock_elapsed_time(Duration::from_millis(50));
}

#[test]
fn hold_pin_and_diagnose() {
    harness::testing_backend();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sim = Arc::new(SamSimulator::start().expect("card simulator"));
    let platform = offline_cache::generate_platform_key();
    let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.db"), offline_cache::OutboxConfig::new(platform.public_key(), "GS-DIAG-1")).unwrap());
    let receipts = dir.path().join("receipts.escpos");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hub_url = format!("http://127.0.0.1:{port}");
    let session = Session::new(
        Arc::new(Catalog::starter()),
        Terminal { terminal_id: "GS-DIAG-1".into(), village_code: VillageCode::parse("622926100202").unwrap(), channel: Channel::SelfServiceTerminal },
        Capabilities::default(),
        Box::new(time::OffsetDateTime::now_utc),
    );
    let sync = SyncClient::new(&hub_url, offline_cache::DeviceIdentity::generate("GS-DIAG-1").unwrap()).unwrap();
    let app = harness::launch(&rt, session, outbox, sync, &sim, &receipts, Duration::from_secs(600)).app;
    let (tx, updates) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let w = KioskWindow::new().unwrap();
    w.global::<ui::Frame>().set_terminal_label("东乡族自治县 巴牙村委会 · 终端 GS-DIAG-1".into());
    kiosk::ui_glue::wire(&w, &app, Some(sim.clone()));
    kiosk::diagnostics::wire(
        &w,
        &app,
        kiosk::diagnostics::TerminalInfo {
            terminal_id: "GS-DIAG-1".into(),
            village: "622926100202 巴牙村委会".into(),
            hub_url: hub_url.clone(),
            pin_hash: Some(model::pin::hash_pin("2468", [7; 16])),
        },
        Arc::new(move |u| {
            let _ = tx.lock().unwrap().send(u);
        }),
    );
    w.show().unwrap();
    testing::mock_elapsed_time(Duration::from_millis(100));

    // A short touch there does nothing; holding 3 s opens the PIN pad.
    hold_corner(&w, Duration::from_millis(800));
    assert_eq!(w.global::<ui::Diagnostics>().get_state(), ui::DiagState::Closed);
    hold_corner(&w, Duration::from_millis(3200));
    assert_eq!(w.global::<ui::Diagnostics>().get_state(), ui::DiagState::Pin, "the PIN pad is open");
    for d in "1111".chars() {
        tap(&w, &d.to_string());
    }
    tap(&w, "完成");
    assert_eq!(w.global::<ui::Diagnostics>().get_state(), ui::DiagState::Pin);
    assert!(w.global::<ui::Diagnostics>().get_message().contains("还可以试 4 次"), "{}", w.global::<ui::Diagnostics>().get_message());
    assert!(!shows(&w, "1111"), "a PIN is never shown, and a wrong one is cleared");
    shot(&w, "pin-wrong");
    tap(&w, "取消");
    assert_eq!(w.global::<ui::Diagnostics>().get_state(), ui::DiagState::Closed);

    hold_corner(&w, Duration::from_millis(3200));
    for d in "2468".chars() {
        tap(&w, &d.to_string());
    }
    tap(&w, "完成");
    assert_eq!(w.global::<ui::Diagnostics>().get_state(), ui::DiagState::Open, "the right PIN opens diagnostics");
    wait(&w, &updates, "the info table", |w| shows(w, "平台不可达"));
    assert!(shows(&w, "GS-DIAG-1") && shows(&w, "待发送 0"), "terminal and queue rows");

    tap(&w, "打印测试页");
    wait(&w, &updates, "the test page", |w| w.global::<ui::Diagnostics>().get_message().contains("测试页已打印"));
    let printed = std::fs::read(&receipts).unwrap();
    let text = drivers::escpos_inspect::text_gb18030(&printed);
    assert!(text.contains("打印测试页"), "{text}");
    // The printer reported itself healthy: it is in the device table now.
    wait(&w, &updates, "printer row", |w| shows(w, "receipt_printer"));

    let sample = drivers::SimCard::sample();
    sim.present(sample.clone());
    tap(&w, "读卡测试");
    wait(&w, &updates, "the read test", |w| w.global::<ui::Diagnostics>().get_message().contains("读卡成功"));
    let msg = w.global::<ui::Diagnostics>().get_message().to_string();
    assert!(!msg.contains(sample.text.id_number.as_str()) && !msg.contains(sample.text.name.as_str()), "masked: {msg}");
    assert!(msg.contains("**"), "{msg}");
    shot(&w, "diagnostics");

    tap(&w, "关闭");
    assert_eq!(w.global::<ui::Diagnostics>().get_state(), ui::DiagState::Closed);
    assert!(!shows(&w, "读卡成功"), "nothing of the test stays on screen");
    assert_eq!(w.global::<ui::Frame>().get_screen(), ui::Screen::Home);
}

/// What an unenrolled terminal shows on first start: the QR, the code, the
/// serial and the key fingerprint, waiting.
#[test]
fn the_enrollment_screen_shows_qr_and_code() {
    harness::testing_backend();
    let w = ui::EnrollWindow::new().unwrap();
    w.set_qr(kiosk::enroll_screen::qr_image("CUNBAN-ENROLL:1:SN-A-0001:0123456789abcdef:7K2M-9QXD").unwrap());
    w.set_code("7K2M-9QXD".into());
    w.set_serial("SN-A-0001".into());
    w.set_fingerprint("0123456789abcdef".into());
    w.show().unwrap();
    testing::mock_elapsed_time(Duration::from_millis(100));
    let found = |words: &str| {
        ElementQuery::from_root(&w).match_descendants().find_all().iter().any(|e| e.accessible_label().is_some_and(|l| l.contains(words)))
    };
    assert!(found("7K2M-9QXD") && found("SN-A-0001") && found("0123456789abcdef") && found("正在等待平台确认"));
    let shot = w.window().take_snapshot().unwrap();
    harness::shots("diagnostics").save("enroll.png", &shot);
    // The QR is drawn: dark modules in the left half.
    let dark = (100..560).step_by(7).flat_map(|y| (80..560).step_by(7).map(move |x| (x, y))).filter(|&(x, y)| {
        let p = shot.as_slice()[y * shot.width() as usize + x];
        p.r < 60 && p.g < 60 && p.b < 60
    });
    assert!(dark.count() > 200, "the QR code is on screen");
    w.set_state(2);
    w.set_detail("this enrollment code has expired".into());
    testing::mock_elapsed_time(Duration::from_millis(100));
    assert!(found("登记没有成功"));
}
