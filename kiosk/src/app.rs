//! Composition: one [`Session`] driven by UI events, with its effects carried
//! out on the tokio runtime by the device and storage workers.
//!
//! The UI thread only calls [`App::dispatch`], which never blocks on a device,
//! the disk or the network. Views go out through the `on_view` callback.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use model::protocol::{DeviceHealth, DeviceState};
use model::Submission;
use offline_cache::{Backoff, Outbox, SyncClient};
use tokio::runtime::Handle;
use tokio::sync::{watch, Notify};
use tracing::{debug, info, warn};

pub use crate::ports::{CardSource, LinkStatus, ReceiptSink};
use crate::ports::{DiagnosticsParts, Dispatch, DocumentPrinter};
use crate::session::{Effect, Event, Screen, Session, View};
use ui::i18n::n_;


/// How long the villager waits for an immediate send before being told the
/// filing will go later.
const SEND_NOW_TIMEOUT: Duration = Duration::from_secs(8);
const CARD_POLL_INTERVAL: Duration = Duration::from_millis(300);
/// After a failed sync round: first retry within seconds, then doubling up to ten minutes.
const BACKOFF_BASE: Duration = Duration::from_secs(5);
const BACKOFF_CAP: Duration = Duration::from_secs(600);

/// Told each new view; called on whichever thread changed it, not necessarily the UI thread.
pub type ViewListener = Box<dyn Fn(View) + Send + Sync>;

struct Inner {
    session: Mutex<Session>,
    /// A screen that takes a code (a receipt's or an item's) is showing:
    /// the camera reads QR codes only then (codes.rs).
    code_wanted: Arc<std::sync::atomic::AtomicBool>,
    outbox: Arc<Outbox>,
    sync: Arc<SyncClient>,
    card: Arc<Mutex<Box<dyn CardSource>>>,
    printer: Arc<Mutex<Box<dyn ReceiptSink>>>,
    reading: watch::Sender<bool>,
    /// One sync at a time: the immediate send and the background worker share it.
    sync_lock: tokio::sync::Mutex<()>,
    wake_sync: Notify,
    rt: Handle,
    on_view: ViewListener,
    on_status: StatusListener,
    last_activity: Mutex<Instant>,
    /// Reading aloud, lookups, ratings: see `visit.rs`.
    visit: Arc<crate::visit::VisitServices>,
    /// The document scanner and camera for materials (none until set).
    material_devices: Arc<Mutex<Box<dyn crate::capture::MaterialDevices>>>,
    /// The A4 printer for result documents (none until set).
    a4: Arc<Mutex<Option<Box<dyn DocumentPrinter>>>>,
    /// Assisted mode (vans): takes the journey's events while it runs (see `assisted_app.rs`).
    divert: Mutex<Option<Divert>>,
    /// Told after each background sync round (assisted mode: progress, revocation).
    on_synced: Mutex<Option<SyncListener>>,
    /// Held during a visit so an update waits for its end (visit_lock.rs).
    visit_lock: std::sync::OnceLock<crate::visit_lock::VisitLock>,
}

/// Gets each event first; returns it to let the villager session have it,
/// or None when it took the event.
pub type Divert = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;
/// The report of a sync round and how many filings still wait.
pub type SyncListener = Arc<dyn Fn(&offline_cache::SyncReport, u64) + Send + Sync>;


/// Told how the link and the queue stand after each sync (for the footer).
pub type StatusListener = Box<dyn Fn(LinkStatus) + Send + Sync>;

/// Everything [`App::start`] needs.
pub struct Parts {
    /// The villager's visit state machine.
    pub session: Session,
    /// Where filings are queued, sealed, until the hub has them.
    pub outbox: Arc<Outbox>,
    /// Talks to the hub: sends the outbox, pulls case status.
    pub sync: SyncClient,
    /// The ID card reader.
    pub card: Box<dyn CardSource>,
    /// The receipt printer.
    pub printer: Box<dyn ReceiptSink>,
    /// Time between background sync rounds while something waits to be sent.
    pub sync_interval: Duration,
    /// Time without a touch after which a visit is ended.
    pub idle_timeout: Duration,
}

/// The running kiosk: feeds events to the session and runs its effects on tokio. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

impl Dispatch for App {
    fn dispatch(&self, event: Event) {
        App::dispatch(self, event)
    }
}

/// A poisoned lock means a worker panicked; the data behind it (a session,
/// a device handle) is still the best we have, so carry on with it.
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    /// Builds the app and starts its workers on `rt`.
    pub fn start(parts: Parts, rt: Handle, on_view: ViewListener, on_status: StatusListener) -> App {
        let (reading, _) = watch::channel(false);
        let app = App {
            inner: Arc::new(Inner {
                session: Mutex::new(parts.session),
                outbox: parts.outbox,
                sync: Arc::new(parts.sync),
                card: Arc::new(Mutex::new(parts.card)),
                printer: Arc::new(Mutex::new(parts.printer)),
                reading,
                sync_lock: tokio::sync::Mutex::new(()),
                wake_sync: Notify::new(),
                code_wanted: Arc::new(std::sync::atomic::AtomicBool::new(false)),
                rt,
                on_view,
                on_status,
                last_activity: Mutex::new(Instant::now()),
                visit: Arc::default(),
                material_devices: Arc::new(Mutex::new(Box::new(crate::capture::NoDevices))),
                a4: Arc::new(Mutex::new(None)),
                divert: Mutex::new(None),
                on_synced: Mutex::new(None),
                visit_lock: std::sync::OnceLock::new(),
            }),
        };
        app.inner.rt.spawn(app.clone().card_worker());
        app.inner.rt.spawn(app.clone().sync_worker(parts.sync_interval));
        app.inner.rt.spawn(app.clone().idle_worker(parts.idle_timeout));
        app.publish();
        app
    }

    /// Feeds one event to the session and carries out what it asks for.
    pub fn dispatch(&self, event: Event) {
        if !matches!(event, Event::IdleTimeout | Event::IdleWarning { .. } | Event::LinkChanged { .. }) {
            *lock(&self.inner.last_activity) = Instant::now();
        }
        let divert = lock(&self.inner.divert).clone();
        let event = match divert {
            Some(divert) => match divert(event) {
                Some(event) => event,
                None => return,
            },
            None => event,
        };
        let effects = lock(&self.inner.session).handle(event);
        self.publish();
        for effect in effects {
            self.run(effect);
        }
    }

    /// Routes events (UI, card reader, printer, voice) through `divert` first.
    pub fn set_divert(&self, divert: Option<Divert>) {
        *lock(&self.inner.divert) = divert;
    }

    /// Holds `lock` whenever a visit is in progress (set once, at start).
    pub fn set_visit_lock(&self, lock: crate::visit_lock::VisitLock) {
        let _ = self.inner.visit_lock.set(lock);
        self.publish();
    }

    /// Holds (`on`) or lets go of the visit lock for `who` besides the
    /// villager's own visit: an assistant's session on a van
    /// (assisted_app.rs), so an update waits for its logout.
    pub fn hold_visit_lock(&self, who: crate::visit_lock::Holder, on: bool) {
        if let Some(visit) = self.inner.visit_lock.get() {
            visit.hold(who, on);
        }
    }

    /// Called after each background sync round.
    pub fn set_on_synced(&self, listener: Option<SyncListener>) {
        *lock(&self.inner.on_synced) = listener;
    }

    /// Carries out a journey effect (card reader, printer, voice) for a
    /// journey other than the villager's own (assisted filing); its answers
    /// come back through `dispatch`.
    pub fn run_effect(&self, effect: Effect) {
        self.run(effect);
    }

    /// Set while a screen that takes a code shows (for the camera's QR reader).
    pub fn code_wanted(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.inner.code_wanted.clone()
    }

    /// The session's current view.
    pub fn view(&self) -> View {
        lock(&self.inner.session).view()
    }

    /// What the technician's diagnostics screen reads and tests (diagnostics.rs).
    pub fn diagnostics_parts(&self) -> DiagnosticsParts {
        DiagnosticsParts {
            outbox: self.inner.outbox.clone(),
            sync: self.inner.sync.clone(),
            card: self.inner.card.clone(),
            printer: self.inner.printer.clone(),
            rt: self.inner.rt.clone(),
        }
    }

    /// Asks the background worker to sync now (e.g. the link came back).
    pub fn sync_soon(&self) {
        self.inner.wake_sync.notify_one();
    }

    fn publish(&self) {
        let view = self.view();
        let wants = matches!(view.screen, Screen::Home | Screen::Services | Screen::Search | Screen::Progress | Screen::Result | Screen::Rate);
        self.inner.code_wanted.store(wants, std::sync::atomic::Ordering::Relaxed);
        if let Some(visit) = self.inner.visit_lock.get() {
            visit.visit(view.screen != Screen::Home);
        }
        (self.inner.on_view)(view);
    }

    /// Who reads prompts aloud (silent until set); tells the session which
    /// languages have a voice.
    pub fn set_speaker(&self, speaker: Arc<dyn crate::voice::Speaker>) {
        let languages = speaker.languages();
        let recorded = speaker.recorded();
        self.inner.visit.set_speaker(speaker);
        self.dispatch(Event::VoicesAvailable(languages));
        self.dispatch(Event::RecordingsAvailable(recorded));
    }

    /// The scanner and camera materials are captured with; the session is
    /// told which of them there are.
    pub fn set_material_devices(&self, devices: Box<dyn crate::capture::MaterialDevices>) {
        let caps = crate::session::Capabilities { scanner: devices.can_scan(), camera: devices.can_photo() };
        *lock(&self.inner.material_devices) = devices;
        lock(&self.inner.session).set_capabilities(caps);
        self.publish();
    }

    /// The A4 printer result documents are printed on (打印结果).
    pub fn set_a4_printer(&self, printer: Box<dyn DocumentPrinter>) {
        *lock(&self.inner.a4) = Some(printer);
    }

    /// Keeps ratings of filings without a case number in `path` (and takes
    /// back those a previous run left), so a restart loses none.
    pub fn keep_ratings_in(&self, path: std::path::PathBuf) -> std::io::Result<()> {
        self.inner.visit.keep_ratings_in(path)
    }

    /// Ratings still waiting for their filing's case number.
    pub fn waiting_ratings(&self) -> usize {
        self.inner.visit.waiting_ratings()
    }

    /// Tells the session and the footer how the link stands.
    fn link_status(&self, status: LinkStatus) {
        if let Some(online) = status.online {
            let changed = {
                let mut s = lock(&self.inner.session);
                let before = s.online();
                s.handle(Event::LinkChanged { online });
                before != online
            };
            if changed {
                self.publish();
            }
        }
        (self.inner.on_status)(status);
    }

    fn run(&self, effect: Effect) {
        match effect {
            // The journeys beside filing: visit.rs.
            effect @ (Effect::Speak { .. } | Effect::LookUp(_) | Effect::StoreRating(_) | Effect::LookUpELicense { .. }) => {
                crate::visit::run(self, &self.inner.visit, &self.inner.outbox, &self.inner.sync, &self.inner.rt, effect)
            }
            Effect::ReadCard => {
                self.inner.reading.send_replace(true);
            }
            Effect::StopCardReader => {
                self.inner.reading.send_replace(false);
            }
            Effect::Submit(sub, files) => {
                let app = self.clone();
                self.inner.rt.spawn(async move { app.submit(sub, files).await });
            }
            Effect::PrintResult(case_number, proof) => {
                let app = self.clone();
                self.inner.rt.spawn(async move {
                    let outcome = app.print_result(case_number, proof).await;
                    match outcome {
                        Ok(()) => app.dispatch(Event::ResultPrinted),
                        Err(msg) => app.dispatch(Event::ResultPrintFailed(msg.into())),
                    }
                });
            }
            Effect::CaptureMaterial { material, kind } => {
                let app = self.clone();
                let devices = self.inner.material_devices.clone();
                self.inner.rt.spawn(async move {
                    let result = tokio::task::spawn_blocking(move || lock(&devices).capture(kind)).await;
                    let device = match kind {
                        crate::materials::CaptureKind::Scan => "document_scanner",
                        crate::materials::CaptureKind::Photo => "camera",
                    };
                    match result {
                        Ok(Ok(capture)) => {
                            app.device_health(device, DeviceState::Ok, None);
                            app.dispatch(Event::MaterialCaptured { material, capture: Box::new(capture) });
                        }
                        Ok(Err(msg)) => {
                            app.device_health(device, DeviceState::Degraded, Some(msg.clone()));
                            app.dispatch(Event::MaterialFailed(msg));
                        }
                        Err(e) => {
                            warn!(error = %e, "capture task failed");
                            app.dispatch(Event::MaterialFailed(n_("扫描没有成功，请再试一次，或请村代办员帮忙。").into()));
                        }
                    }
                });
            }
            Effect::Print(receipt) => {
                let app = self.clone();
                let printer = self.inner.printer.clone();
                self.inner.rt.spawn(async move {
                    let result = tokio::task::spawn_blocking(move || lock(&printer).print(&receipt)).await;
                    match result {
                        Ok(Ok(())) => {
                            app.device_health("receipt_printer", DeviceState::Ok, None);
                            app.dispatch(Event::Printed)
                        }
                        Ok(Err(msg)) => {
                            warn!(problem = %msg, "receipt printing failed");
                            app.device_health("receipt_printer", DeviceState::Degraded, Some(msg.clone()));
                            app.dispatch(Event::PrintFailed(msg))
                        }
                        Err(e) => {
                            warn!(error = %e, "receipt printing task failed");
                            app.dispatch(Event::PrintFailed(n_("打印机出现故障").into()))
                        }
                    }
                });
            }
        }
    }

    /// Fetches a case's result document from the hub and prints it on the
    /// A4 printer. Errors are sentences for the villager.
    /// `proof`: the card number that showed another terminal's case is the
    /// villager's (progress at any terminal); the hub asks for it again.
    async fn print_result(&self, case_number: model::CaseNumber, proof: Option<model::IdNumber>) -> Result<(), String> {
        if lock(&self.inner.a4).is_none() {
            return Err(n_("这台机器没有连接A4打印机").into());
        }
        let fetch = async {
            match proof {
                Some(id_number) => {
                    let query = model::protocol::ProgressQuery { receipt: case_number.to_string(), id_number };
                    self.inner.sync.progress_result(&query).await
                }
                None => self.inner.sync.fetch_result(&case_number).await,
            }
        };
        let fetched = tokio::time::timeout(Duration::from_secs(30), fetch).await;
        let (media_type, pdf) = match fetched {
            Ok(Ok(Some(doc))) => doc,
            Ok(Ok(None)) => return Err(n_("政务服务平台上还没有这件事的结果文件").into()),
            Ok(Err(stop)) => {
                warn!(reason = ?stop, "result document not fetched");
                return Err(n_("现在连不上政务服务平台").into());
            }
            Err(_) => return Err(n_("现在连不上政务服务平台").into()),
        };
        if media_type != "application/pdf" || !pdf.starts_with(b"%PDF-") {
            warn!(media_type = %media_type, "the result document is not a PDF");
            return Err(n_("结果文件的格式不对，请找村代办员").into());
        }
        let a4 = self.inner.a4.clone();
        let title = format!("result {}", case_number.as_str());
        let printed = tokio::task::spawn_blocking(move || match lock(&a4).as_mut() {
            Some(p) => p.print_pdf(pdf, &title),
            None => Err(n_("这台机器没有连接A4打印机").into()),
        })
        .await;
        match printed {
            Ok(Ok(())) => {
                self.device_health("a4_printer", DeviceState::Ok, None);
                Ok(())
            }
            Ok(Err(msg)) => {
                self.device_health("a4_printer", DeviceState::Degraded, Some(msg.clone()));
                Err(msg)
            }
            Err(e) => {
                warn!(error = %e, "A4 printing task failed");
                Err(n_("打印机出现故障").into())
            }
        }
    }

    /// Device health for the next heartbeat (reasons are technician
    /// sentences, never personal data).
    fn device_health(&self, device: &str, state: DeviceState, detail: Option<String>) {
        self.inner.sync.report_device(DeviceHealth { device: device.to_owned(), state, detail });
    }

    async fn submit(self, sub: Box<Submission>, files: Vec<(model::submission::AttachmentRef, zeroize::Zeroizing<Vec<u8>>)>) {
        let id = sub.id;
        let outbox = self.inner.outbox.clone();
        let saved = tokio::task::spawn_blocking(move || {
            // The outbox seals the bytes at once; the plain copies go when this returns.
            let plain: Vec<_> = files.iter().map(|(r, b)| (r.clone(), b.to_vec())).collect();
            let result = outbox.enqueue(&sub, &plain);
            for (_, mut b) in plain {
                zeroize::Zeroize::zeroize(&mut b);
            }
            result
        })
        .await;
        match saved {
            Ok(Ok(_)) => {
                info!(submission = %id, "submission saved in the outbox");
                self.dispatch(Event::Saved { id });
            }
            Ok(Err(e)) => {
                warn!(submission = %id, error = %e, "submission not saved");
                // Nothing was written; say why in the villager's terms.
                let msg = if e.is_disk_space() {
                    n_("本机存储空间不足，暂时不能受理新的申请，请联系工作人员")
                } else if matches!(e, offline_cache::StoreError::AttachmentTooLarge { .. }) {
                    n_("材料文件太大，请重新扫描或拍照")
                } else {
                    n_("本机无法保存")
                };
                self.dispatch(Event::SaveFailed(msg.into()));
                return;
            }
            Err(e) => {
                warn!(submission = %id, error = %e, "saving task failed");
                self.dispatch(Event::SaveFailed(n_("本机无法保存").into()));
                return;
            }
        }
        let sent = tokio::time::timeout(SEND_NOW_TIMEOUT, self.sync_now()).await;
        let case = match sent {
            Ok(report) => report.acknowledged.into_iter().find(|(sid, _)| *sid == id).map(|(_, c)| c),
            Err(_) => None,
        };
        match case {
            Some(case_number) => self.dispatch(Event::Sent { id, case_number }),
            None => {
                info!(submission = %id, "hub not reached; the submission waits in the outbox");
                self.dispatch(Event::Deferred { id });
            }
        }
    }

    async fn sync_now(&self) -> offline_cache::SyncReport {
        let _one = self.inner.sync_lock.lock().await;
        let report = self.inner.sync.sync_once(&self.inner.outbox).await;
        let outbox = self.inner.outbox.clone();
        let unsent = tokio::task::spawn_blocking(move || outbox.counts())
            .await
            .ok()
            .and_then(Result::ok)
            .map(|c| c.unsent())
            .unwrap_or(0);
        self.link_status(LinkStatus { online: Some(report.stopped.is_none()), unsent });
        report
    }

    /// Ends a visit nobody is attending: its personal data leaves memory and
    /// screen. (The spoken, visible countdown comes with the full UI.)
    async fn idle_worker(self, timeout: Duration) {
        // A spoken, visible countdown first (idle.rs), then the visit ends.
        let policy = crate::idle::IdlePolicy::for_timeout(timeout);
        loop {
            tokio::time::sleep(policy.tick()).await;
            let idle = lock(&self.inner.last_activity).elapsed();
            let away = lock(&self.inner.session).screen() != crate::session::Screen::Home;
            match policy.check(idle) {
                Some(event) if away => {
                    if matches!(event, Event::IdleTimeout) {
                        info!("visit ended after inactivity");
                    }
                    self.dispatch(event);
                }
                _ => {}
            }
        }
    }

    /// Purges sealed payloads past their retention and logs new alerts
    /// (stale queue, low disk, quarantined records) for technicians.
    async fn housekeeping(&self, seen: &mut Vec<String>) {
        let outbox = self.inner.outbox.clone();
        let result = tokio::task::spawn_blocking(move || {
            let now = time::OffsetDateTime::now_utc();
            outbox.purge_expired(now)?;
            outbox.alerts(now)
        })
        .await;
        match result {
            Ok(Ok(alerts)) => {
                let now: Vec<String> = alerts.iter().map(ToString::to_string).collect();
                for a in now.iter().filter(|a| !seen.contains(a)) {
                    warn!(alert = %a, "outbox alert");
                }
                *seen = now;
            }
            Ok(Err(e)) => warn!(error = %e, "outbox housekeeping failed"),
            Err(e) => warn!(error = %e, "outbox housekeeping task failed"),
        }
    }

    /// One full round with the hub (submissions, evaluations, case status,
    /// heartbeat, catalog and config), every `interval` (or the hub's
    /// configured interval) or when woken; after a failure, backs off.
    async fn sync_worker(self, interval: Duration) {
        let mut alerts_seen = Vec::new();
        let mut backoff = Backoff::new(BACKOFF_BASE, BACKOFF_CAP);
        loop {
            self.housekeeping(&mut alerts_seen).await;
            let report = {
                let _one = self.inner.sync_lock.lock().await;
                self.inner.sync.sync_all(&self.inner.outbox).await
            };
            let outbox = self.inner.outbox.clone();
            let (unsent, configured) = tokio::task::spawn_blocking(move || (outbox.counts(), outbox.terminal_config()))
                .await
                .map(|(c, cfg)| (c.map(|c| c.unsent()).unwrap_or(0), cfg.ok().flatten()))
                .unwrap_or((0, None));
            // Promise only what the hub says exists (SMS, e-license library, mail).
            if let Some(paths) = configured.as_ref().map(|c| c.paths) {
                let changed = {
                    let mut s = lock(&self.inner.session);
                    let before = s.paths();
                    s.set_paths(paths);
                    before != paths
                };
                if changed {
                    self.publish();
                }
            }
            self.link_status(LinkStatus { online: Some(report.stopped.is_none()), unsent });
            let synced = lock(&self.inner.on_synced).clone();
            if let Some(synced) = synced {
                synced(&report, unsent);
            }
            if !report.acknowledged.is_empty() {
                info!(count = report.acknowledged.len(), "waiting submissions delivered");
            }
            if report.catalog_updated.is_some() {
                self.take_pulled_catalog().await;
            }
            let outbox = self.inner.outbox.clone();
            if let Ok(Ok(filed)) = tokio::task::spawn_blocking(move || outbox.filed_counts()).await {
                lock(&self.inner.session).set_filed_counts(filed);
            }
            // Filings that got their case number: their ratings can go now.
            if self.inner.visit.waiting_ratings() > 0 {
                let (visit, outbox) = (self.inner.visit.clone(), self.inner.outbox.clone());
                if let Err(e) = tokio::task::spawn_blocking(move || visit.retry_waiting(&outbox)).await {
                    warn!(error = %e, "storing waiting ratings failed");
                }
            }
            // Version 0 is the hub's built-in default: the local config stands until the hub sets one.
            let interval = configured.filter(|c| c.version > 0).map_or(interval, |c| Duration::from_secs(c.sync_interval_secs.clamp(5, 3600)));
            let wait = match backoff.after(&report) {
                Some(wait) => {
                    debug!(reason = ?report.stopped, wait_secs = wait.as_secs(), "sync stopped; backing off");
                    wait
                }
                None => interval,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.inner.wake_sync.notified() => {}
            }
        }
    }

    /// Serves the catalog a sync just stored (verified again on load) from
    /// the next visit on, without a restart; a visit in progress finishes
    /// on its version (see `Session::set_catalog`).
    async fn take_pulled_catalog(&self) {
        let Some(key) = self.inner.sync.catalog_key() else { return };
        let outbox = self.inner.outbox.clone();
        match tokio::task::spawn_blocking(move || outbox.cached_catalog(&key)).await {
            Ok(Ok(Some(catalog))) => {
                let version = catalog.version;
                let newer = version > lock(&self.inner.session).catalog_version();
                if newer {
                    lock(&self.inner.session).set_catalog(Arc::new(catalog));
                    info!(version, "catalog updated live; the next visit uses it");
                    self.publish();
                }
            }
            Ok(Ok(None)) => warn!("the pulled catalog does not verify; the one in use is kept"),
            Ok(Err(e)) => warn!(error = %e, "cannot read the pulled catalog; the one in use is kept"),
            Err(e) => warn!(error = %e, "reading the pulled catalog failed"),
        }
    }

    /// Polls the reader while the session wants a card. Reports each card
    /// once until it is taken away, so a refused (expired) card doesn't flood.
    async fn card_worker(self) {
        let mut want = self.inner.reading.subscribe();
        let mut last_problem: Option<String> = None;
        let mut card_reported = false;
        loop {
            if !*want.borrow_and_update() {
                card_reported = false;
                last_problem = None;
                if want.changed().await.is_err() {
                    return;
                }
                if *want.borrow() {
                    let card = self.inner.card.clone();
                    if let Err(e) = tokio::task::spawn_blocking(move || lock(&card).restart()).await {
                        warn!(error = %e, "restarting the card reader failed");
                    }
                }
                continue;
            }
            let card = self.inner.card.clone();
            let polled = tokio::task::spawn_blocking(move || lock(&card).poll()).await;
            match &polled {
                // Sentences about the reader itself name it (devices::card_problem);
                // the others are about the card on it, and the reader works.
                Ok(Err(msg)) if msg.contains("读卡器") => self.device_health("id_card", DeviceState::Degraded, Some(msg.clone())),
                Ok(_) => self.device_health("id_card", DeviceState::Ok, None),
                Err(_) => {}
            }
            match polled {
                Ok(Ok(Some(identity))) => {
                    if !card_reported {
                        card_reported = true;
                        last_problem = None;
                        self.dispatch(Event::CardRead(Box::new(identity)));
                    }
                }
                Ok(Ok(None)) => {
                    card_reported = false;
                }
                Ok(Err(msg)) => {
                    if last_problem.as_deref() != Some(msg.as_str()) {
                        warn!(problem = %msg, "ID card reader problem");
                        last_problem = Some(msg.clone());
                        self.dispatch(Event::CardProblem(msg));
                    }
                }
                Err(e) => warn!(error = %e, "card polling task failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(CARD_POLL_INTERVAL) => {}
                _ = want.changed() => {}
            }
        }
    }
}
