//! The Cunban kiosk binary.
//!
//! `kiosk --config /etc/cunban/kiosk.toml` on a terminal;
//! `kiosk --demo` with simulated devices and a local hub (see README.md).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use drivers::SamSimulator;
use kiosk::app::{App, LinkStatus, Parts};
use kiosk::config::{Config, IdCardConfig};
use kiosk::demo::LocalHub;
use kiosk::devices::{Printer, Reader};
use kiosk::session::{Capabilities, Session, Terminal};
use kiosk::{catalog, ui_glue};
use offline_cache::{DeviceIdentity, Outbox, SyncClient, SyncConfig};
use slint::ComponentHandle;
use tracing::{info, warn};
use ui::i18n::n_;

#[derive(Parser, Debug)]
#[command(version, about = "Cunban (村办) village government-service kiosk")]
struct Args {
    /// Terminal configuration file (TOML).
    #[arg(long, required_unless_present_any = ["demo", "screenshots", "bench"], conflicts_with = "demo")]
    config: Option<PathBuf>,
    /// Run with simulated devices and a local hub: no hardware needed.
    #[arg(long)]
    demo: bool,
    /// Where the demo keeps its outbox, hub database and printed receipts.
    #[arg(long, default_value = "target/demo", requires = "demo")]
    data_dir: PathBuf,
    /// Use this hub instead of starting a local one (demo only).
    #[arg(long, requires = "demo")]
    hub_url: Option<String>,
    /// Render every villager screen, in every language and mode, to
    /// DIR/<lang>/<screen>.png and exit. Needs no display.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "demo"])]
    screenshots: Option<PathBuf>,
    /// An unenrolled terminal (no --config file yet) shows the enrollment
    /// screen for this hub, then exits for systemd to start it enrolled.
    #[arg(long, env = "CUNBAN_ENROLL_HUB", value_name = "URL")]
    enroll_hub: Option<String>,
    /// Where an enrolling terminal keeps its key and outbox.
    #[arg(long, default_value = "/var/lib/cunban")]
    enroll_data_dir: PathBuf,
    /// Print cold start to first frame and idle resident memory, and exit.
    #[arg(long, conflicts_with_all = ["config", "demo", "screenshots"])]
    bench: bool,
}

fn main() -> Result<()> {
    // The journal, and a ring of the last lines for remote diagnostics (issue 19).
    let log_ring = kiosk::log_ring::LogRing::default();
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
            .with(tracing_subscriber::fmt::layer())
            .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(log_ring.clone()))
            .init();
    }
    let args = Args::parse();
    if let Some(dir) = &args.screenshots {
        return screenshots(dir);
    }
    if args.bench {
        return bench();
    }
    for (family, package) in ui_glue::missing_fonts() {
        warn!(family, package, "font missing: some screens will show no text (install the Debian package)");
    }

    // Held for the life of the process: the demo's hub and card simulator.
    let mut _local_hub = None;
    let config = match &args.config {
        // First start: not enrolled yet (issue 8). Enrollment is kept in the
        // data directory (enrolled.toml); kiosk.toml is root's (issue 12).
        Some(path) if args.enroll_hub.is_some() && !kiosk::config::is_enrolled(path, &args.enroll_data_dir) => {
            let hub = args.enroll_hub.as_deref().unwrap_or_default();
            info!(hub, "not enrolled yet: showing the enrollment screen");
            let data_dir = kiosk::config::data_dir_of(path).unwrap_or_else(|| args.enroll_data_dir.clone());
            kiosk::enroll_screen::run(hub, &data_dir, path)?;
            info!("enrolled; exiting so systemd starts the kiosk with its configuration");
            return Ok(());
        }
        Some(path) => Config::load(path)?,
        None => {
            std::fs::create_dir_all(&args.data_dir)
                .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
            // An external --hub-url must be started with this same key file.
            let key_file = args.data_dir.join("platform-demo.key");
            let platform_key = kiosk::demo::platform_key(&key_file)?;
            let demo = Config::demo(&args.data_dir, "http://127.0.0.1:1", platform_key);
            let (url, hub_key) = match &args.hub_url {
                Some(url) => (url.clone(), None),
                None => {
                    // The demo registers its own terminal, as a technician would.
                    let (identity, _) = DeviceIdentity::load_or_create(&demo.device_key_path(), &demo.terminal_id)
                        .context("cannot load the device key")?;
                    let hub = LocalHub::start(&args.data_dir, &key_file, (&demo.terminal_id, &identity.public_key()))?;
                    let (url, key) = (hub.url.clone(), hub.hub_key);
                    _local_hub = Some(hub);
                    (url, Some(key))
                }
            };
            Config { hub: kiosk::config::HubConfig { url, ..demo.hub.clone() }, hub_key, ..demo }
        }
    };
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;

    let simulator = match &config.devices.id_card {
        IdCardConfig::Simulator => Some(Arc::new(SamSimulator::start().context("cannot start the card simulator")?)),
        IdCardConfig::Sam { .. } => None,
    };
    let reader_path = match (&config.devices.id_card, &simulator) {
        (IdCardConfig::Sam { path, .. }, _) => path.to_string_lossy().into_owned(),
        (IdCardConfig::Simulator, Some(sim)) => sim.path().to_string_lossy().into_owned(),
        (IdCardConfig::Simulator, None) => unreachable!("simulator started above"),
    };

    let outbox = Arc::new(
        Outbox::open(&config.data_dir.join("outbox.db"), config.outbox_config()).context("cannot open the outbox database")?,
    );
    let mut loaded = catalog::load(config.catalog.as_deref());
    // A catalog pulled from the hub (signature checked again) beats the built-in one.
    if let (None, Some(key)) = (&config.catalog, &config.catalog_key) {
        match outbox.cached_catalog(key) {
            Ok(Some(pulled)) if pulled.version > loaded.catalog.version => {
                info!(version = pulled.version, "serving the catalog pulled from the hub");
                loaded.catalog = pulled;
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "cannot read the pulled catalog"),
        }
    }
    let mut banner = loaded.problem.clone().unwrap_or_default();
    // Filings are refused while the platform key differs from the pinned one:
    // say so before a villager fills a form (kioskctl platform-key confirm).
    match outbox.platform_key_state() {
        Ok(keys) if keys.changed() => {
            warn!(pinned = ?keys.pinned, configured = ?keys.configured, "platform key changed: filings refused until a technician confirms it");
            banner = n_("本机需要技术员检查，暂时不能受理新的申请。请联系技术员。").to_owned();
        }
        Ok(_) => {}
        Err(e) => warn!(error = %e, "cannot read the pinned platform key"),
    }
    let (identity, made) =
        DeviceIdentity::load_or_create(&config.device_key_path(), &config.terminal_id).context("cannot load the device key")?;
    if made {
        info!(
            "new device key; register it on the hub: hub terminal add --id {} --public-key {}",
            config.terminal_id,
            identity.public_key()
        );
    }
    let sync_config = SyncConfig {
        catalog_key: config.catalog_key,
        hub_key: config.hub_key,
        app_version: concat!("kiosk/", env!("CARGO_PKG_VERSION")).to_owned(),
        // The sync loop fetches what the hub's rollout offers; root's
        // `kioskctl update follow` installs it (deploy/README.md, Updates).
        updates_dir: Some(config.data_dir.join("updates")),
        ..SyncConfig::default()
    };
    let sync = SyncClient::with_config(&config.hub.url, identity, sync_config).context("bad hub URL")?;
    sync.set_diagnostics_source(Arc::new(log_ring));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let window = ui::KioskWindow::new().context("cannot create the kiosk window")?;
    let village = config.village_code.name().unwrap_or(config.village_code.as_str()).to_owned();
    let county = model::divisions::county_name(&config.village_code.as_str()[..6]).unwrap_or_default();
    // Place names stay Chinese (proper nouns); the UI words "终端" per language.
    window.global::<ui::Frame>().set_terminal_label(format!("{county} {village}").into());
    window.global::<ui::Frame>().set_terminal_id(config.terminal_id.as_str().into());
    ui_glue::set_link_status(&window, LinkStatus { online: None, unsent: 0 });

    let catalog = Arc::new(loaded.catalog);
    let mut session = Session::new(
        catalog.clone(),
        Terminal {
            terminal_id: config.terminal_id.clone(),
            village_code: config.village_code.clone(),
            channel: config.channel,
        },
        // Set with the material devices below.
        Capabilities::default(),
        Box::new(time::OffsetDateTime::now_utc),
    );
    // A message id: the session words it in the villager's language.
    session.set_banner(banner);
    // The consent screen states the retention the outbox really applies.
    session.set_retention_days(config.outbox.retention.as_secs() / 86_400);
    // Promise a text, an e-license or mailing only when the hub's last signed
    // config says it exists (none before the first config arrives).
    if let Ok(Some(c)) = outbox.terminal_config() {
        session.set_paths(c.paths);
    }
    let weak = window.as_weak();
    let weak_status = window.as_weak();
    let app = App::start(
        Parts {
            session,
            outbox: outbox.clone(),
            sync,
            card: Box::new(Reader::new(reader_path)),
            printer: Box::new(Printer::new(config.devices.receipt_printer.clone())),
            sync_interval: std::time::Duration::from_secs(config.hub.sync_interval_secs),
            idle_timeout: config.idle_timeout,
        },
        rt.handle().clone(),
        Box::new(move |view| {
            let _ = weak.upgrade_in_event_loop(move |w| {
                ui_glue::apply(&w, &view);
                // Leaving the form or the search (cancel, idle timeout) drops anything typed.
                kiosk::keyboard_glue::follow(&w, &view);
                if view.screen != kiosk::session::Screen::Form {
                    kiosk::place_glue::close(&w);
                }
            });
        }),
        Box::new(move |status| {
            let _ = weak_status.upgrade_in_event_loop(move |w| ui_glue::set_link_status(&w, status));
        }),
    );

    // kioskctl update follow waits for a visit to end before installing.
    app.set_visit_lock(kiosk::visit_lock::VisitLock::new(config.data_dir.join("visit.lock")));
    ui_glue::wire(&window, &app, simulator.clone());
    kiosk::diagnostics::wire_with_lockout_in(
        &window,
        &app,
        kiosk::diagnostics::TerminalInfo {
            terminal_id: config.terminal_id.clone(),
            village: format!("{} {village}", config.village_code.as_str()),
            hub_url: config.hub.url.clone(),
            pin_hash: config.technician_pin_hash.clone(),
        },
        kiosk::diagnostics::deliver_to(&window),
        &config.data_dir,
    );
    if let Err(e) = app.keep_ratings_in(config.data_dir.join("ratings-waiting.json")) {
        warn!(error = %e, "cannot read the ratings kept from the last run; they stay in the file");
    }

    // Materials: the configured scanner and camera. The demo scans on SANE's
    // `test` backend (a private config dir, kept for the life of the process).
    let mut _sane_test = None;
    let mut scanner_config = config.devices.document_scanner.clone();
    if args.demo && scanner_config.is_none() && drivers::docscan::test_backend::SaneTestEnv::available() {
        match drivers::docscan::test_backend::SaneTestEnv::new() {
            Ok(env) => {
                scanner_config = Some(drivers::config::DocumentScannerConfig::Sane {
                    device: "test:0".into(),
                    config_dir: Some(env.config_dir().to_owned()),
                });
                _sane_test = Some(env);
            }
            Err(e) => warn!(error = %e, "cannot set up the simulated scanner"),
        }
    }
    let mut capturers = kiosk::capture::Capturers::from_config(scanner_config.as_ref(), config.devices.camera.as_ref());
    // No barcode scanner: the camera reads receipts' and items' QR codes.
    let code_camera = if config.devices.barcode_scanner.is_none() { capturers.share_camera() } else { None };
    // An assistant's filings capture materials on the same devices.
    let material_caps = {
        use kiosk::capture::MaterialDevices as _;
        Capabilities { scanner: capturers.can_scan(), camera: capturers.can_photo() }
    };
    app.set_material_devices(Box::new(capturers));
    // Service vans only: assisted mode and its entry on the home screen (assisted_app.rs).
    let _assisted = kiosk::assisted_app::start_if_van(
        &Terminal { terminal_id: config.terminal_id.clone(), village_code: config.village_code.clone(), channel: config.channel },
        catalog,
        material_caps,
        outbox,
        config.operator_timeout,
        &app,
        rt.handle(),
        &window,
        kiosk::assisted_app::window_listener(&window),
    );
    if _assisted.is_some() {
        info!("service van: assisted mode available from the home screen");
    }
    // Recorded voice packs (kioskctl voice install) first, espeak-ng second.
    let engine: Option<Arc<dyn kiosk::voice::Speaker>> = match kiosk::voice::Espeak::detect() {
        Some(espeak) => Some(Arc::new(espeak)),
        None => {
            warn!("espeak-ng not found: prompts cannot be read aloud by the engine (Debian package espeak-ng)");
            None
        }
    };
    let packs = match &config.catalog_key {
        Some(key) => {
            let (packs, problems) = kiosk::voicepack::load_installed(&config.data_dir.join("voice"), key);
            problems.iter().for_each(|p| warn!("{p}"));
            packs
        }
        // Packs are signed with the catalog key; without it none is trusted.
        None => Default::default(),
    };
    app.set_speaker(Arc::new(kiosk::voicepack::PackSpeaker::new(packs, engine.clone(), "aplay")));
    // The on-screen keyboard and date picker; librime's prepared schema
    // (the "deploy", done at first start) goes under the data directory.
    // Key names are read by the engine (espeak-ng).
    kiosk::keyboard_glue::wire(&window, kiosk::keyboard_glue::Engines::load(&config.data_dir), engine);
    // The place picker starts at the villages of this service point's township.
    kiosk::place_glue::wire(&window, Some(config.village_code.as_str()));

    // The A4 printer for result documents (打印结果).
    if let Some(a4) = &config.devices.a4_printer {
        app.set_a4_printer(Box::new(kiosk::devices::A4Printer::new(a4)));
    }

    // A serial QR/barcode scanner: item codes and receipt numbers.
    let _barcode = match &config.devices.barcode_scanner {
        Some(drivers::config::BarcodeScannerConfig::Serial { path, baud }) => {
            let a = app.clone();
            let handle = kiosk::codes::watch_serial_scanner(path.to_string_lossy().into_owned(), *baud, move |code| {
                a.dispatch(kiosk::session::Event::CodeEntered(code))
            })
            .context("cannot start the barcode scanner thread")?;
            Some(handle)
        }
        None => None,
    };
    let _camera_codes = match code_camera {
        Some(camera) => {
            let a = app.clone();
            info!("no barcode scanner: QR codes are read from the camera");
            let every = std::time::Duration::from_millis(150);
            let handle = kiosk::codes::watch_camera_codes(camera, app.code_wanted(), every, move |code| {
                a.dispatch(kiosk::session::Event::CodeEntered(code))
            })
            .context("cannot start the camera code reader")?;
            Some(handle)
        }
        None => None,
    };

    info!(terminal = %config.terminal_id, village = %config.village_code.as_str(), "kiosk ready");
    // READY=1 and watchdog pings come from the event loop itself (systemd unit: Type=notify).
    let _watchdog = kiosk::watchdog::start();
    let result = window.run();
    if let Err(e) = &result {
        warn!(error = %e, "event loop ended with an error");
    }
    drop(app);
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    result.context("the kiosk window failed")
}

/// `--bench`: cold start to first frame and idle memory, headless.
#[cfg(feature = "samples")]
fn bench() -> Result<()> {
    let report = kiosk::screenshots::bench(std::time::Duration::from_secs(3))?;
    println!("cold start to first frame: {} ms (budget 500 ms)", report.first_frame.as_millis());
    println!("idle resident memory, keyboard engines loaded: {:.1} MB (budget 100 MB)", report.idle_rss_bytes as f64 / 1e6);
    Ok(())
}

/// The sample screens are not in this build (the release package).
#[cfg(not(feature = "samples"))]
fn bench() -> Result<()> {
    anyhow::bail!("this kiosk is built without the sample screens (cargo feature `samples`)")
}

/// The sample screens are not in this build (the release package).
#[cfg(not(feature = "samples"))]
fn screenshots(_dir: &std::path::Path) -> Result<()> {
    bench()
}

/// `--screenshots DIR`: every villager screen to PNG, headless.
#[cfg(feature = "samples")]
fn screenshots(dir: &std::path::Path) -> Result<()> {
    let missing = ui_glue::missing_fonts();
    if !missing.is_empty() {
        anyhow::bail!("fonts missing, the pictures would lack text: {missing:?}");
    }
    let started = std::time::Instant::now();
    let written = kiosk::screenshots::render_all(dir)?;
    println!("{} screens written to {} in {:.1} s", written.len(), dir.display(), started.elapsed().as_secs_f32());
    Ok(())
}
