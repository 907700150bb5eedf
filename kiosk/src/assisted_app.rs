//! Assisted mode in the running kiosk (service vans): one [`AssistedSession`]
//! beside the villager's [`App`], with its effects carried out here.
//!
//! While assisted mode is open it takes every journey event the app sees
//! (window callbacks, card reader, printer, voice) through [`App::set_divert`],
//! so the filing on behalf runs the villager screens while the villager's own
//! session waits on its home screen. Storage work (login against the synced
//! accounts, audit entries, filings into the outbox, trip summaries) runs in
//! order on one worker, off the UI thread. The operator idle timer and the
//! check after each sync (revoked or expired account) end the session.
//! From login to the session's end it holds the visit lock, so an update
//! does not restart the van in the middle of a filing on behalf.
//!
//! Only built on a terminal configured as a service van: [`AssistedSession::new`]
//! refuses any other, and [`wire`] is what makes the home screen's entry exist.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use model::operator::StaffNumber;
use model::VillageCode;
use offline_cache::{LoginError, LoginPolicy, Outbox};
use slint::{ComponentHandle, SharedString};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tracing::{info, warn};
use ui::KioskWindow;
use zeroize::Zeroizing;

use crate::app::App;
use crate::assisted::{AssistEffect, AssistEvent, AssistScreen, AssistedSession, PAD_HEIGHT, PAD_WIDTH};
use crate::session::{Capabilities, Event, Terminal};
use crate::visit_lock::Holder;
use ui::i18n::n_;

/// Told (off the UI thread) whenever the assisted screens changed.
pub type ChangeListener = Box<dyn Fn(AssistedApp) + Send + Sync>;

/// Everything [`AssistedApp::start`] needs.
pub struct AssistedParts {
    /// The assisted-mode state machine (built only on a van).
    pub session: AssistedSession,
    /// Where on-behalf filings and audit entries are written.
    pub outbox: Arc<Outbox>,
    /// No touch for this long ends the operator's session.
    pub operator_timeout: Duration,
    /// How many wrong PINs lock an account at login, and for how long.
    pub login_policy: LoginPolicy,
}

/// Storage work, done in order (an audit entry never overtakes the filing it names).
enum Job {
    Login { staff: String, pin: Zeroizing<String> },
    Audit { staff: StaffNumber, action: &'static str, subject: Option<model::SubmissionId>, outcome: String },
    Submit { submission: Box<model::Submission>, attachments: Vec<(model::submission::AttachmentRef, Vec<u8>)> },
    Trip { trip_id: uuid::Uuid },
    StillValid { staff: StaffNumber },
}

struct Inner {
    session: Mutex<AssistedSession>,
    app: App,
    outbox: Arc<Outbox>,
    jobs: mpsc::UnboundedSender<Job>,
    on_change: ChangeListener,
    last_activity: Mutex<Instant>,
    /// The finger stroke being drawn on the signature pad.
    stroke: Mutex<Vec<[u16; 2]>>,
    policy: LoginPolicy,
}

impl Drop for Inner {
    /// Assisted mode going away (the kiosk shutting down) ends its hold.
    fn drop(&mut self) {
        self.app.hold_visit_lock(Holder::Assisted, false);
    }
}

/// Assisted mode running on a van: the [`AssistedSession`] with its storage and idle workers, beside the villager [`App`]. Cheap to clone.
#[derive(Clone)]
pub struct AssistedApp {
    inner: Arc<Inner>,
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The assistant's sentence for a refused login (no PIN, no name).
fn refusal(e: &LoginError, now: time::OffsetDateTime) -> String {
    match e {
        LoginError::NeedsNetwork => n_("本机还没有工作人员账号，请先联网同步一次").into(),
        // Worded in Chinese with the number in place; the screen translates
        // it (ui::i18n::tr_with_number), the message id keeps the {}.
        LoginError::WrongCredentials { remaining } => ui::i18n::tr_args("zh-CN", "工号或密码不对，还可以试 {} 次", &[remaining]),
        LoginError::LockedOut { until } => {
            let minutes = (*until - now).whole_minutes().max(0) + 1;
            ui::i18n::tr_args("zh-CN", "密码错误次数太多，账号已锁定，请 {} 分钟后再试", &[&minutes])
        }
        LoginError::Revoked => n_("该账号已停用").into(),
        LoginError::Expired(_) => n_("该账号已过期").into(),
        LoginError::BadStaffNumber => n_("工号格式不对").into(),
        LoginError::BadStoredHash => n_("账号数据有误，请联网同步后再试").into(),
        LoginError::Store(_) => n_("本机暂时无法核对账号").into(),
    }
}

impl AssistedApp {
    /// Starts assisted mode beside `app` (its workers on `rt`). Closed until
    /// the home screen's entry is used.
    pub fn start(parts: AssistedParts, app: &App, rt: &Handle, on_change: ChangeListener) -> AssistedApp {
        let (jobs, rx) = mpsc::unbounded_channel();
        let me = AssistedApp {
            inner: Arc::new(Inner {
                session: Mutex::new(parts.session),
                app: app.clone(),
                outbox: parts.outbox,
                jobs,
                on_change,
                last_activity: Mutex::new(Instant::now()),
                stroke: Mutex::new(Vec::new()),
                policy: parts.login_policy,
            }),
        };
        // Weak references: the app holds these hooks, and they must not keep us alive in a cycle.
        let weak = Arc::downgrade(&me.inner);
        app.set_divert(Some(Arc::new(move |event: Event| {
            let Some(inner) = weak.upgrade() else { return Some(event) };
            let me = AssistedApp { inner };
            if !me.is_open() {
                return Some(event);
            }
            // The villager session waits on its home screen: its idle timer has nothing to end.
            if !matches!(event, Event::IdleWarning { .. } | Event::IdleTimeout) {
                me.dispatch(AssistEvent::Villager(event));
            }
            None
        })));
        let weak = Arc::downgrade(&me.inner);
        app.set_on_synced(Some(Arc::new(move |report: &offline_cache::SyncReport, unsent: u64| {
            if let Some(inner) = weak.upgrade() {
                AssistedApp { inner }.synced(report.acknowledged.len() as u64, unsent);
            }
        })));
        rt.spawn(storage_worker(Arc::downgrade(&me.inner), rx));
        rt.spawn(idle_worker(Arc::downgrade(&me.inner), parts.operator_timeout));
        me
    }

    /// Which assisted screen shows.
    pub fn screen(&self) -> AssistScreen {
        lock(&self.inner.session).screen()
    }

    /// Whether assisted mode holds the screen (login open or an operator logged in).
    pub fn is_open(&self) -> bool {
        self.screen() != AssistScreen::Closed
    }

    /// An operator's action: counts as activity for the idle timer.
    pub fn dispatch(&self, event: AssistEvent) {
        *lock(&self.inner.last_activity) = Instant::now();
        self.handle(event);
    }

    /// Feeds one event and carries out what it asks for.
    fn handle(&self, event: AssistEvent) {
        let effects = lock(&self.inner.session).handle(event);
        // Login to logout, timeout or revocation: every way the session
        // ends passes here, and an update waits meanwhile (visit_lock.rs).
        let logged_in = lock(&self.inner.session).operator().is_some();
        self.inner.app.hold_visit_lock(Holder::Assisted, logged_in);
        (self.inner.on_change)(self.clone());
        for effect in effects {
            let job = match effect {
                AssistEffect::Villager(effect) => {
                    self.inner.app.run_effect(effect);
                    continue;
                }
                AssistEffect::CheckLogin { staff, pin } => Job::Login { staff, pin },
                AssistEffect::Audit { staff, action, subject, outcome } => Job::Audit { staff, action, subject, outcome },
                AssistEffect::Submit { submission, attachments } => Job::Submit { submission, attachments },
                AssistEffect::RefreshTrip { trip_id } => Job::Trip { trip_id },
            };
            if self.inner.jobs.send(job).is_err() {
                warn!("assisted storage worker gone; effect dropped");
            }
        }
    }

    /// After a background sync round: progress to the trip summary, fresh
    /// tallies, and whether the operator may still act.
    fn synced(&self, sent: u64, waiting: u64) {
        let (staff, trip) = {
            let s = lock(&self.inner.session);
            (s.operator().map(|o| o.staff_number.clone()), s.trip().map(|t| t.id))
        };
        let Some(staff) = staff else { return };
        if let Some(trip_id) = trip {
            self.handle(AssistEvent::SyncProgress { sent, waiting });
            let _ = self.inner.jobs.send(Job::Trip { trip_id });
        }
        let _ = self.inner.jobs.send(Job::StillValid { staff });
    }

    /// Shows assisted mode on the window, or the villager's view when it is closed.
    pub fn apply(&self, w: &KioskWindow) {
        let shown = crate::assisted_ui::apply(w, &lock(&self.inner.session), false);
        if !shown {
            // The next login starts from empty fields (assisted_ui clears the PIN).
            w.global::<ui::Assisted>().set_login_staff(SharedString::new());
            w.global::<ui::Assisted>().set_login_problem(SharedString::new());
            crate::ui_glue::apply(w, &self.inner.app.view());
        }
    }

    async fn run_job(&self, job: Job) {
        let outbox = self.inner.outbox.clone();
        let policy = self.inner.policy;
        let answers = tokio::task::spawn_blocking(move || -> Vec<AssistEvent> {
            match job {
                Job::Login { staff, pin } => {
                    let now = time::OffsetDateTime::now_utc();
                    match outbox.operator_login(&staff, &pin, now, &policy) {
                        Ok(op) => vec![AssistEvent::LoginAccepted(op)],
                        Err(e) => {
                            if let LoginError::Store(e) = &e {
                                warn!(error = %e, "operator login: cannot read the accounts");
                            }
                            vec![AssistEvent::LoginRefused(refusal(&e, now))]
                        }
                    }
                }
                Job::Audit { staff, action, subject, outcome } => {
                    if let Err(e) = outbox.audit_operator(&staff, action, subject, &outcome) {
                        warn!(error = %e, action, "operator audit entry not written");
                    }
                    vec![]
                }
                Job::Submit { submission, attachments } => {
                    let id = submission.id;
                    match outbox.enqueue(&submission, &attachments) {
                        Ok(_) => {
                            info!(submission = %id, "on-behalf filing saved in the outbox");
                            // A van is mostly offline: the background sync sends it.
                            vec![AssistEvent::Villager(Event::Saved { id }), AssistEvent::Villager(Event::Deferred { id })]
                        }
                        Err(e) => {
                            warn!(submission = %id, error = %e, "on-behalf filing not saved");
                            let msg = if e.is_disk_space() { n_("本机存储空间不足，暂时不能受理新的申请") } else { n_("本机无法保存") };
                            vec![AssistEvent::Villager(Event::SaveFailed(msg.into()))]
                        }
                    }
                }
                Job::Trip { trip_id } => match outbox.trip_summary(trip_id) {
                    Ok(summary) => vec![AssistEvent::TripSummary(summary)],
                    Err(e) => {
                        warn!(error = %e, "trip summary unreadable");
                        vec![]
                    }
                },
                Job::StillValid { staff } => match outbox.operator_still_valid(&staff, time::OffsetDateTime::now_utc()) {
                    Ok(true) => vec![],
                    Ok(false) => {
                        info!("operator account revoked or expired: session ended");
                        vec![AssistEvent::OperatorInvalid]
                    }
                    Err(e) => {
                        warn!(error = %e, "cannot check the operator account");
                        vec![]
                    }
                },
            }
        })
        .await;
        match answers {
            Ok(answers) => {
                let saved = answers.iter().any(|a| matches!(a, AssistEvent::Villager(Event::Saved { .. })));
                for answer in answers {
                    self.handle(answer);
                }
                if saved {
                    self.inner.app.sync_soon();
                }
            }
            Err(e) => warn!(error = %e, "assisted storage task failed"),
        }
    }
}

async fn storage_worker(weak: Weak<Inner>, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = rx.recv().await {
        let Some(inner) = weak.upgrade() else { return };
        AssistedApp { inner }.run_job(job).await;
    }
}

/// Ends the operator's session (or closes an unattended login screen)
/// after `timeout` without a touch.
async fn idle_worker(weak: Weak<Inner>, timeout: Duration) {
    let tick = (timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let Some(inner) = weak.upgrade() else { return };
        let me = AssistedApp { inner };
        if me.is_open() && lock(&me.inner.last_activity).elapsed() >= timeout {
            info!("operator session ended after inactivity");
            me.handle(AssistEvent::IdleTimeout);
        }
    }
}

/// Connects the window's assisted callbacks and creates the home screen's
/// operator entry. Only called on a van.
pub fn wire(w: &KioskWindow, a: &AssistedApp) {
    let assisted = w.global::<ui::Assisted>();
    assisted.set_van_profile(true);
    let on = |event: fn() -> AssistEvent| {
        let a = a.clone();
        move || a.dispatch(event())
    };
    assisted.on_open_operator_login(on(|| AssistEvent::OpenLogin));
    assisted.on_operator_back(on(|| AssistEvent::Logout));
    assisted.on_operator_logout(on(|| AssistEvent::Logout));
    assisted.on_new_filing(on(|| AssistEvent::NewFiling));
    assisted.on_change_village(on(|| AssistEvent::EndTrip));
    assisted.on_clear_signature(on(|| AssistEvent::ClearSignature));
    assisted.on_accept_signature(on(|| AssistEvent::AcceptSignature));
    assisted.on_signature_back(on(|| AssistEvent::BackToReview));

    let (aa, weak) = (a.clone(), w.as_weak());
    assisted.on_operator_login(move |staff, pin| {
        // The PIN leaves the window as soon as it is handed over.
        if let Some(w) = weak.upgrade() {
            w.global::<ui::Assisted>().set_login_pin(SharedString::new());
        }
        aa.dispatch(AssistEvent::SubmitLogin { staff: staff.trim().to_owned(), pin: Zeroizing::new(pin.as_str().to_owned()) });
    });
    let aa = a.clone();
    assisted.on_start_trip(move |code| match VillageCode::parse(&code) {
        Ok(village) => aa.dispatch(AssistEvent::StartTrip(village)),
        Err(_) => warn!("trip screen offered a malformed village code"),
    });
    let aa = a.clone();
    assisted.on_choose_relation(move |name| {
        if let Some(r) = crate::assisted_ui::relation_from(&name) {
            aa.dispatch(AssistEvent::ChooseRelation(r));
        }
    });
    // Typing the staff number and PIN is activity: the login screen must not
    // close under a slow typist.
    let aa = a.clone();
    assisted.on_operator_typing(move || *lock(&aa.inner.last_activity) = Instant::now());
    let aa = a.clone();
    assisted.on_stroke_point(move |x, y| {
        *lock(&aa.inner.last_activity) = Instant::now();
        let clamp = |v: i32, max: u16| u16::try_from(v.max(0)).unwrap_or(max).min(max - 1);
        lock(&aa.inner.stroke).push([clamp(x, PAD_WIDTH), clamp(y, PAD_HEIGHT)]);
    });
    let aa = a.clone();
    assisted.on_stroke_end(move || {
        let points = std::mem::take(&mut *lock(&aa.inner.stroke));
        if !points.is_empty() {
            aa.dispatch(AssistEvent::Stroke(points));
        }
    });
}

/// Assisted mode for `terminal` if it is a service van: started beside
/// `app` and wired to the window (the home screen's entry appears). None on
/// a self-service kiosk: no session, no entry, no callbacks.
#[allow(clippy::too_many_arguments)] // each is a distinct part main already holds
pub fn start_if_van(
    terminal: &Terminal,
    catalog: Arc<model::Catalog>,
    caps: Capabilities,
    outbox: Arc<Outbox>,
    operator_timeout: Duration,
    app: &App,
    rt: &Handle,
    w: &KioskWindow,
    on_change: ChangeListener,
) -> Option<AssistedApp> {
    let session = AssistedSession::new(catalog, terminal, caps, Arc::new(time::OffsetDateTime::now_utc)).ok()?;
    let parts = AssistedParts { session, outbox, operator_timeout, login_policy: LoginPolicy::default() };
    let assisted = AssistedApp::start(parts, app, rt, on_change);
    wire(w, &assisted);
    Some(assisted)
}

/// The window's change listener for [`AssistedApp::start`]: redraws on the UI thread.
pub fn window_listener(w: &KioskWindow) -> ChangeListener {
    let weak = w.as_weak();
    Box::new(move |a: AssistedApp| {
        let _ = weak.upgrade_in_event_loop(move |w| a.apply(&w));
    })
}
