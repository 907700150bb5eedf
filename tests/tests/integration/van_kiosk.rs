//! Assisted mode in the running kiosk (issue 7): the app booted in the real
//! Slint window (testing backend) as a service van, with the hub on
//! loopback. The assistant finds the staff entry on the home screen, logs in
//! on the keypad by accessible label, picks a village and starts a filing
//! under the on-behalf banner; the session ends when the hub revokes the
//! account (at the next sync) and after the operator idle timeout. On a
//! self-service kiosk the entry does not exist. Steps are rendered to
//! `<target>/journey/<test>/NN-step.png`.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hub::Hub;
use i_slint_backend_testing as testing;
use kiosk::app::App;
use kiosk::assisted_app::{self, AssistedApp};
use kiosk::session::{Capabilities, Session, Terminal, View};
use kiosk::ui_glue;
use model::submission::Channel;
use model::{Catalog, VillageCode};
use offline_cache::{Outbox, SyncClient, SyncConfig};
use ui::slint::ComponentHandle;
use ui::KioskWindow;

use super::harness::{self, Driven, PIN};

const TERMINAL: &str = "GS-VAN-0007";
const STAFF: &str = "620042";
const VILLAGES: [&str; 2] = ["622926100202", "622926100203"];

struct Van {
    window: KioskWindow,
    views: mpsc::Receiver<View>,
    changes: mpsc::Receiver<AssistedApp>,
    app: App,
    assisted: Option<AssistedApp>,
    outbox: Arc<Outbox>,
    hub: Hub,
    rt: tokio::runtime::Runtime,
    shots: harness::Shots,
    _sim: Arc<drivers::SamSimulator>,
    _dir: tempfile::TempDir,
}

impl Van {
    fn start(name: &str, channel: Channel, operator_timeout: Duration) -> Van {
        harness::testing_backend();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let identity = offline_cache::DeviceIdentity::generate(TERMINAL).unwrap();
        let hub = rt.block_on(Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db"))).expect("hub");
        rt.block_on(harness::register(&hub, &identity, Some("van")));
        let villages: Vec<VillageCode> = VILLAGES.iter().map(|v| VillageCode::parse(v).unwrap()).collect();
        harness::add_assistant(&hub, STAFF, TERMINAL, &villages);
        let sim = Arc::new(drivers::SamSimulator::start().expect("card simulator"));
        let platform = offline_cache::generate_platform_key();
        let mut cfg = offline_cache::OutboxConfig::new(platform.public_key(), TERMINAL);
        cfg.disk_reserve_bytes = 0;
        let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.db"), cfg).unwrap());
        let terminal = Terminal { terminal_id: TERMINAL.into(), village_code: villages[0].clone(), channel };
        let catalog = Arc::new(Catalog::starter());

        let session = Session::new(catalog.clone(), terminal.clone(), Capabilities::default(), Box::new(time::OffsetDateTime::now_utc));
        // Accounts are pulled on the heartbeat's cadence: every round here.
        let config = SyncConfig { heartbeat_interval: Duration::ZERO, hub_key: Some(hub.signing_public_key()), ..SyncConfig::default() };
        let sync = SyncClient::with_config(&hub.base_url(), identity, config).unwrap();
        let receipts = dir.path().join("receipts.escpos");
        let harness::Launched { app, views, .. } = harness::launch(&rt, session, outbox.clone(), sync, &sim, &receipts, Duration::from_secs(600));
        let window = KioskWindow::new().unwrap();
        ui_glue::wire(&window, &app, Some(sim.clone()));
        let (ctx, changes) = mpsc::channel();
        // The same call main.rs makes; only the listener differs (the test thread is the UI thread).
        let assisted = assisted_app::start_if_van(
            &terminal,
            catalog,
            Capabilities::default(),
            outbox.clone(),
            operator_timeout,
            &app,
            rt.handle(),
            &window,
            Box::new(move |a| {
                let _ = ctx.send(a);
            }),
        );
        window.show().unwrap();
        let shots = harness::shots(name);
        let v = Van { window, views, changes, app, assisted, outbox, hub, rt, shots, _sim: sim, _dir: dir };
        // The first background sync pulls the operator accounts.
        let deadline = Instant::now() + Duration::from_secs(30);
        while v.outbox.operators_synced_at().unwrap().is_none() {
            assert!(Instant::now() < deadline, "operators never pulled");
            std::thread::sleep(Duration::from_millis(50));
        }
        v.pump();
        assert_eq!(v.window.global::<ui::Frame>().get_screen(), ui::Screen::Home);
        v
    }

    /// Home → staff entry → staff number and PIN on the keypad → trip screen.
    fn log_in(&mut self, pin: &str) {
        self.shot("home");
        self.tap("工作人员登录");
        self.wait_screen(ui::Screen::OperatorLogin);
        self.keypad(STAFF);
        self.keypad(pin);
        self.pump();
    }

    fn audited(&self, action: &str, outcome: &str) -> bool {
        self.outbox.audit_tail(200).unwrap().iter().any(|e| e.action == action && e.outcome.contains(outcome))
    }

    fn finish(self) {
        drop(self.assisted);
        drop(self.app);
        self.rt.block_on(self.hub.shutdown()).unwrap();
    }
}

impl harness::Driven for Van {
    fn window(&self) -> &KioskWindow {
        &self.window
    }

    /// Applies what the app and assisted mode published.
    fn pump(&self) {
        while let Ok(view) = self.views.try_recv() {
            ui_glue::apply(&self.window, &view);
        }
        let mut changed = None;
        while let Ok(a) = self.changes.try_recv() {
            changed = Some(a);
        }
        if let Some(a) = changed {
            a.apply(&self.window);
        }
        testing::mock_elapsed_time(Duration::from_millis(300));
    }

    fn shots(&mut self) -> &mut harness::Shots {
        &mut self.shots
    }
}

#[test]
fn a_van_logs_in_from_home_reaches_the_trip_and_is_logged_out_when_revoked() {
    let mut v = Van::start("van-login", Channel::ServiceVan, Duration::from_secs(600));
    assert!(v.window.global::<ui::Assisted>().get_van_profile());

    // A wrong PIN is refused with a sentence, against the synced hash.
    v.log_in("730518294617");
    v.wait_until("wrong PIN refused", |w| w.global::<ui::Assisted>().get_login_problem().contains("工号或密码不对"));
    v.shot("login-refused");
    assert_eq!(v.window.global::<ui::Assisted>().get_login_pin(), "", "the PIN leaves the window");
    v.tap("返回");
    v.wait_screen(ui::Screen::Home);

    v.log_in(PIN);
    v.wait_screen(ui::Screen::Trip);
    v.shot("trip");
    assert_eq!(v.window.global::<ui::Assisted>().get_operator_staff(), STAFF);
    // The trip screen names villages as assisted_ui does: by name, else by code.
    let village = VillageCode::parse(VILLAGES[1]).unwrap();
    let name = village.name().map_or_else(|| VILLAGES[1].to_owned(), str::to_owned);
    v.tap(&name);
    v.wait_screen(ui::Screen::TripSummary);
    v.shot("trip-summary");
    assert!(v.shows(&name));

    // A filing runs the villager screens under the on-behalf banner.
    v.tap("新办件");
    v.wait_screen(ui::Screen::Services);
    assert!(v.window.global::<ui::Assisted>().get_assisted(), "the on-behalf banner shows");
    v.shot("filing-services");
    v.tap("社会保障卡申领");
    v.wait_screen(ui::Screen::Guide);
    // 回首页 in the header ends this filing, not the operator's session.
    v.tap("回首页");
    v.wait_screen(ui::Screen::TripSummary);
    assert!(!v.window.global::<ui::Assisted>().get_assisted());

    // The hub revokes the account; the next sync (with a heartbeat) pulls the list and the session ends.
    v.hub.store().revoke_operator(STAFF, time::OffsetDateTime::now_utc()).unwrap();
    v.app.sync_soon();
    v.wait_screen(ui::Screen::Home);
    v.shot("after-revocation");
    assert_eq!(v.window.global::<ui::Assisted>().get_operator_staff(), "", "nothing of the operator stays on screen");
    assert!(v.audited("operator session ended", "revoked"));
    assert!(v.audited("trip start", VILLAGES[1]));
    v.finish();
}

#[test]
fn the_operator_session_ends_after_the_idle_timeout() {
    let mut v = Van::start("van-timeout", Channel::ServiceVan, Duration::from_secs(3));
    v.log_in(PIN);
    v.wait_screen(ui::Screen::Trip);
    let started = Instant::now();
    v.wait_screen(ui::Screen::Home);
    assert!(started.elapsed() >= Duration::from_secs(2), "not before the timeout");
    v.shot("timed-out");
    assert!(v.audited("operator session ended", "timeout"));
    v.finish();
}

#[test]
fn a_self_service_kiosk_has_no_staff_entry() {
    let mut v = Van::start("kiosk-no-entry", Channel::SelfServiceTerminal, Duration::from_secs(600));
    assert!(v.assisted.is_none());
    assert!(!v.window.global::<ui::Assisted>().get_van_profile());
    assert!(v.controls("工作人员登录").is_empty(), "no operator entry on a self-service kiosk");
    v.shot("home");
    // The operator callbacks lead nowhere: the villager's home stays.
    v.window.global::<ui::Assisted>().invoke_open_operator_login();
    v.pump();
    assert_eq!(v.window.global::<ui::Frame>().get_screen(), ui::Screen::Home);
    v.finish();
}
