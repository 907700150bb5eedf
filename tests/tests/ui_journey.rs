//! The whole villager journey through the real Slint window, as a villager
//! taps it: elements found by accessible label, real pointer clicks, the
//! real SAM driver against the pty simulator, the outbox on disk and the hub
//! on loopback. Each step is rendered to `<target>/journey/NN-step.png`.

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::escpos_inspect::qr_payloads;
use drivers::SamSimulator;
use hub::{Hub, HubDb};
use i_slint_backend_testing::{self as testing, AccessibleRole, ElementHandle};
use kiosk::app::{App, Parts};
use kiosk::config::PrinterConfig;
use kiosk::devices::{Printer, Reader};
use kiosk::session::{Capabilities, Session, Terminal, View};
use kiosk::ui_glue;
use model::submission::Channel;
use model::{Catalog, VillageCode};
use offline_cache::{Outbox, SyncClient};
use ui::slint::platform::PointerEventButton;
use ui::slint::ComponentHandle;
use ui::KioskWindow;

struct Journey {
    window: KioskWindow,
    views: mpsc::Receiver<View>,
    shots: PathBuf,
    step: usize,
}

impl Journey {
    /// Applies views the app published (the test thread is the UI thread).
    fn pump(&self) {
        while let Ok(v) = self.views.try_recv() {
            ui_glue::apply(&self.window, &v);
        }
        testing::mock_elapsed_time(Duration::from_millis(300));
    }

    fn wait_screen(&self, screen: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.window.get_screen() != screen {
            assert!(Instant::now() < deadline, "never reached {screen}; on {}", self.window.get_screen());
            std::thread::sleep(Duration::from_millis(20));
            self.pump();
        }
        self.pump();
    }

    /// The one control (not its caption text) with this label.
    fn control(&self, label: &str) -> ElementHandle {
        let found: Vec<_> = ElementHandle::find_by_accessible_label(&self.window, label)
            .filter(|e| e.is_valid() && e.accessible_role() != Some(AccessibleRole::Text))
            .collect();
        assert_eq!(found.len(), 1, "expected one control labelled {label:?} on {}", self.window.get_screen());
        found.into_iter().next().unwrap()
    }

    fn tap(&self, label: &str) {
        self.control(label).mock_single_click(PointerEventButton::Left);
        self.pump();
    }

    fn shot(&mut self, name: &str) {
        self.step += 1;
        let buffer = self.window.window().take_snapshot().expect("snapshot");
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        let file = std::fs::File::create(&path).unwrap();
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), buffer.width(), buffer.height());
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().unwrap().write_image_data(buffer.as_bytes()).unwrap();
    }
}

#[test]
fn a_villager_taps_through_the_whole_journey() {
    ui::slint::platform::set_platform(Box::new(testing::TestingBackend::new(testing::TestingBackendOptions {
        mock_time: true,
        threading: true,
        renderer_name: Some("software".into()),
    })))
    .expect("testing backend");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hub_db = dir.path().join("hub.db");
    let hub = rt.block_on(Hub::spawn("127.0.0.1:0".parse().unwrap(), &hub_db)).expect("hub");
    let sim = Arc::new(SamSimulator::start().expect("card simulator"));
    let platform = offline_cache::generate_platform_key();
    let outbox =
        Arc::new(Outbox::open(&dir.path().join("outbox.db"), offline_cache::OutboxConfig::new(platform.public_key(), "GS-TEST-0001")).unwrap());
    let receipts = dir.path().join("receipts.escpos");

    let (tx, views) = mpsc::channel();
    let app = App::start(
        Parts {
            session: Session::new(
                Arc::new(Catalog::starter()),
                Terminal {
                    terminal_id: "GS-TEST-0001".into(),
                    village_code: VillageCode::parse("622926100202").unwrap(),
                    channel: Channel::SelfServiceTerminal,
                },
                Capabilities::default(),
                Box::new(time::OffsetDateTime::now_utc),
            ),
            outbox: outbox.clone(),
            sync: SyncClient::new(&hub.base_url()).unwrap(),
            card: Box::new(Reader::new(sim.path().to_string_lossy().into_owned())),
            printer: Box::new(Printer::new(PrinterConfig::File { path: receipts.clone() })),
            sync_interval: Duration::from_secs(3600),
            idle_timeout: Duration::from_secs(600),
        },
        rt.handle().clone(),
        Box::new(move |v| {
            let _ = tx.send(v);
        }),
        Box::new(|_| {}),
    );

    let window = KioskWindow::new().unwrap();
    window.set_terminal_label("东乡族自治县 巴牙村委会 · 终端 GS-TEST-0001".into());
    ui_glue::wire(&window, &app, Some(sim.clone()));
    window.show().unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("journey");
    std::fs::create_dir_all(&shots).unwrap();
    let mut j = Journey { window, views, shots, step: 0 };
    j.pump();
    assert_eq!(j.window.get_screen(), "home");
    j.shot("home");

    j.tap("我要办事");
    j.wait_screen("services");
    j.shot("services");
    j.tap("社会保障卡申领");
    j.wait_screen("id-prompt");
    j.shot("id-prompt");

    // The demo button puts the sample card on the simulated reader; the real
    // driver reads it over the pty.
    j.tap("模拟放置身份证");
    j.wait_screen("form");
    j.shot("form");

    // Phone number on the on-screen keypad.
    j.tap("联系电话");
    for d in "13912345678".chars() {
        j.tap(&d.to_string());
    }
    j.shot("keypad");
    j.tap("完成");
    // The bank choice is below the fold: scroll with the big button, no swipe.
    j.tap("向下");
    j.tap("甘肃农村信用社");
    j.shot("form-filled");
    j.tap("下一步");
    j.wait_screen("review");
    j.shot("review");
    j.tap("确认提交");
    j.wait_screen("saved");
    j.shot("saved");
    assert!(j.window.get_saved_sent(), "hub is up, so the filing is sent now");
    let case_number = j.window.get_case_number().to_string();

    j.tap("打印回执");
    j.wait_screen("receipt");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !j.window.get_receipt_message().contains("已打印") {
        assert!(Instant::now() < deadline, "receipt never printed: {}", j.window.get_receipt_message());
        std::thread::sleep(Duration::from_millis(20));
        j.pump();
    }
    j.shot("receipt");
    let bytes = std::fs::read(&receipts).unwrap();
    assert_eq!(qr_payloads(&bytes), vec![case_number.clone().into_bytes()]);

    j.tap("完成");
    j.wait_screen("home");

    let db = HubDb::open(&hub_db).unwrap();
    assert_eq!(db.total_submissions().unwrap(), 1);
    assert_eq!(db.case_count().unwrap(), 1);
    assert_eq!(outbox.counts().unwrap().acknowledged, 1);
    rt.block_on(hub.shutdown()).unwrap();
}
