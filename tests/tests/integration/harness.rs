//! What the end-to-end tests share. The window tests' harness is ui's
//! (`ui::testing`, one for every crate); this adds where this crate's
//! snapshots go (`<target>/journey/<test>/`), the kiosk app started as
//! the journeys start it, a window kiosk registered on a hub, the van's
//! assistant, and the assisted session's effects run as the app runs them.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use drivers::SamSimulator;
use hub::{Hub, NewOperator, NewTerminal};
use kiosk::app::{App, LinkStatus, Parts};
use kiosk::assisted::{AssistEffect, AssistEvent, AssistedSession};
use kiosk::config::PrinterConfig;
use kiosk::devices::{Printer, Reader};
use kiosk::session::{Capabilities, Event, Session, Terminal, View};
use kiosk::ui_glue;
use model::operator::{hash_pin, PinParams, StaffNumber};
use model::submission::{AttachmentRef, Channel};
use model::{Catalog, Submission, VillageCode};
use offline_cache::{DeviceIdentity, LoginPolicy, Outbox, OutboxConfig, SyncClient, SyncConfig};
use ui::slint::ComponentHandle;
use ui::KioskWindow;

pub use ui::testing::*;

/// The van assistant's PIN in the journeys (`add_assistant`).
pub const PIN: &str = "480217593062";

/// Numbered snapshots of one test's window under `<target>/journey/<name>/`.
pub fn shots(name: &str) -> Shots {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    Shots::in_dir(target.parent().map_or_else(|| target.clone(), PathBuf::from).join("journey").join(name))
}

/// A started kiosk app and what it publishes: views for the window, the
/// link status after each sync round.
pub struct Launched {
    pub app: App,
    pub views: mpsc::Receiver<View>,
    pub status: mpsc::Receiver<LinkStatus>,
}

/// Starts the kiosk app on `rt` as the end-to-end tests run it: cards from
/// `sim` through the real reader driver, receipts appended to `receipts`,
/// background sync only hourly (a test syncs when it decides to).
pub fn launch(
    rt: &tokio::runtime::Runtime,
    session: Session,
    outbox: Arc<Outbox>,
    sync: SyncClient,
    sim: &SamSimulator,
    receipts: &Path,
    idle_timeout: Duration,
) -> Launched {
    let (views_tx, views) = mpsc::channel();
    let (status_tx, status) = mpsc::channel();
    let app = App::start(
        Parts {
            session,
            outbox,
            sync,
            card: Box::new(Reader::new(sim.path().to_string_lossy().into_owned())),
            printer: Box::new(Printer::new(PrinterConfig::File { path: receipts.to_owned() })),
            sync_interval: Duration::from_secs(3600),
            idle_timeout,
        },
        rt.handle().clone(),
        Box::new(move |v| {
            let _ = views_tx.send(v);
        }),
        Box::new(move |s| {
            let _ = status_tx.send(s);
        }),
    );
    Launched { app, views, status }
}

/// A visit at the self-service terminal `id` in `village`, with the starter catalog.
pub fn self_service(id: &str, village: &str) -> Session {
    let terminal = Terminal { terminal_id: id.into(), village_code: VillageCode::parse(village).unwrap(), channel: Channel::SelfServiceTerminal };
    Session::new(Arc::new(Catalog::starter()), terminal, Capabilities::default(), Box::new(time::OffsetDateTime::now_utc))
}

/// Sync timeouts short enough that a test sees a gone hub at once.
pub fn quick_sync() -> SyncConfig {
    SyncConfig {
        connect_timeout: Duration::from_millis(500),
        read_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(3),
        ..SyncConfig::default()
    }
}

/// Registers the terminal whose key is `identity` on `hub`.
pub async fn register(hub: &Hub, identity: &DeviceIdentity, label: Option<&str>) {
    let t = NewTerminal { id: identity.terminal_id().into(), public_key: identity.public_key(), village_code: None, label: label.map(Into::into) };
    hub.register_terminal(t).await.unwrap();
}

/// The van's assistant 马小兰 (`staff`, PIN `PIN`) on `hub`, assigned to `terminal` and `villages`.
pub fn add_assistant(hub: &Hub, staff: &str, terminal: &str, villages: &[VillageCode]) {
    let op = NewOperator {
        staff_number: StaffNumber::parse(staff).unwrap(),
        name: "马小兰".into(),
        pin_hash: hash_pin(PIN, &[9; 16], PinParams::FAST_FOR_TESTS).unwrap(),
        terminals: vec![terminal.into()],
        villages: villages.to_vec(),
        valid_until: None,
    };
    hub.store().add_operator(&op, time::OffsetDateTime::now_utc()).unwrap();
}

/// What `kiosk::assisted_app` does with the assisted session's effects,
/// the filing then waiting for a sync round (`Deferred`); `filed` sees
/// each filing enqueued, with its attachments.
pub fn run_assisted(outbox: &Outbox, a: &mut AssistedSession, fx: Vec<AssistEffect>, mut filed: impl FnMut(&Submission, &[(AttachmentRef, Vec<u8>)])) {
    let mut queue = fx;
    while !queue.is_empty() {
        let mut next = Vec::new();
        for e in queue {
            match e {
                AssistEffect::Audit { staff, action, subject, outcome } => outbox.audit_operator(&staff, action, subject, &outcome).unwrap(),
                AssistEffect::CheckLogin { staff, pin } => {
                    let answer = match outbox.operator_login(&staff, &pin, time::OffsetDateTime::now_utc(), &LoginPolicy::default()) {
                        Ok(op) => AssistEvent::LoginAccepted(op),
                        Err(e) => AssistEvent::LoginRefused(e.to_string()),
                    };
                    next.extend(a.handle(answer));
                }
                AssistEffect::Submit { submission, attachments } => {
                    let id = submission.id;
                    outbox.enqueue(&submission, &attachments).unwrap();
                    filed(&submission, &attachments);
                    next.extend(a.handle(AssistEvent::Villager(Event::Saved { id })));
                    next.extend(a.handle(AssistEvent::Villager(Event::Deferred { id })));
                }
                AssistEffect::RefreshTrip { trip_id } => next.extend(a.handle(AssistEvent::TripSummary(outbox.trip_summary(trip_id).unwrap()))),
                AssistEffect::Villager(_) => {}
            }
        }
        queue = next;
    }
}

/// Applies the views the app published (the test thread is the UI
/// thread) and lets the window's animations run on.
pub fn apply_views(window: &KioskWindow, views: &mpsc::Receiver<View>) {
    while let Ok(v) = views.try_recv() {
        ui_glue::apply(window, &v);
    }
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(300));
}

/// A self-service kiosk in the window on the testing backend, registered
/// on `hub` with a device key and an outbox of its own (`dir/kiosk-outbox.db`),
/// the real card driver over the simulator's pty, receipts to
/// `dir/receipts.escpos`, the window wired as main.rs wires it.
pub struct WindowKiosk {
    pub window: KioskWindow,
    pub app: App,
    /// The link status after each sync round.
    pub status: mpsc::Receiver<LinkStatus>,
    views: mpsc::Receiver<View>,
    shots: Shots,
    _sim: Arc<SamSimulator>,
}

impl WindowKiosk {
    /// Terminal `id` in `village`, syncing with `sync`, snapshots under `<target>/journey/<shots>/`.
    pub fn start(
        rt: &tokio::runtime::Runtime,
        hub: &Hub,
        platform: &model::seal::PlatformSecretKey,
        dir: &Path,
        (id, village): (&str, &str),
        sync: SyncConfig,
        shots_name: &str,
    ) -> WindowKiosk {
        testing_backend();
        let identity = DeviceIdentity::generate(id).unwrap();
        rt.block_on(register(hub, &identity, None));
        let sim = Arc::new(SamSimulator::start().expect("card simulator"));
        let outbox = Arc::new(Outbox::open(&dir.join("kiosk-outbox.db"), OutboxConfig::new(platform.public_key(), id)).unwrap());
        let sync = SyncClient::with_config(&hub.base_url(), identity, sync).unwrap();
        let Launched { app, views, status } = launch(rt, self_service(id, village), outbox, sync, &sim, &dir.join("receipts.escpos"), Duration::from_secs(600));
        let window = KioskWindow::new().unwrap();
        ui_glue::wire(&window, &app, Some(sim.clone()));
        window.show().unwrap();
        let k = WindowKiosk { window, app, status, views, shots: shots(shots_name), _sim: sim };
        k.pump();
        k
    }
}

impl Driven for WindowKiosk {
    fn window(&self) -> &KioskWindow {
        &self.window
    }

    fn pump(&self) {
        apply_views(&self.window, &self.views);
    }

    fn shots(&mut self) -> &mut Shots {
        &mut self.shots
    }
}

/// On the form: 下一步 → review → 确认提交 → saved, a snapshot of each.
pub fn review_and_submit(k: &mut impl Driven) {
    k.tap("下一步");
    confirm(k);
}

/// On (or on the way to) the review: 确认提交 → saved, a snapshot of each.
pub fn confirm(k: &mut impl Driven) {
    k.wait_screen(ui::Screen::Review);
    k.shot("review");
    k.tap("确认提交");
    k.wait_screen(ui::Screen::Saved);
    k.shot("saved");
}

/// After the form's 下一步: each paper material the item asks for is
/// scanned (SANE's test backend) when it must be, then 下一步, until the
/// review (at most four materials).
pub fn through_materials(k: &mut impl Driven) {
    for _ in 0..4 {
        if k.window().global::<ui::Frame>().get_screen() != ui::Screen::Materials {
            break;
        }
        let name = k.window().global::<ui::Visit>().get_material().name;
        if k.controls("下一步").is_empty() {
            k.tap("扫描");
            k.wait_until("the scan", |w| w.global::<ui::Visit>().get_material().captured.contains("已扫描"));
        }
        k.shot("material");
        k.tap("下一步");
        k.wait_until("the next step", |w| {
            w.global::<ui::Frame>().get_screen() != ui::Screen::Materials || w.global::<ui::Visit>().get_material().name != name
        });
    }
}

/// On the saved screen with the hub up: the filing was sent at once; its case number.
pub fn sent_at_once(k: &impl Driven) -> String {
    let visit = k.window().global::<ui::Visit>();
    assert!(visit.get_saved_sent(), "the hub is up: sent at once");
    visit.get_case_number().to_string()
}

/// On the saved screen: 打印回执, and the receipt in `receipts` carries
/// exactly one QR code, the case number.
pub fn print_receipt(k: &mut impl Driven, receipts: &Path, case_number: &str) {
    k.tap("打印回执");
    k.wait_screen(ui::Screen::Receipt);
    k.wait_until("the receipt printed", |w| w.global::<ui::Visit>().get_receipt_message().contains("已打印"));
    k.shot("receipt");
    let bytes = std::fs::read(receipts).unwrap();
    assert_eq!(drivers::escpos_inspect::qr_payloads(&bytes), vec![case_number.as_bytes().to_vec()]);
}
