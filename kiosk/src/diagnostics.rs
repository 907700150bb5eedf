//! The technician's diagnostics on the kiosk itself: opened by holding the
//! terminal label for 3 s and the technician PIN (`model::pin`), closed by
//! 关闭 or when a villager's visit needs the screen. Shows the device table
//! (health the workers reported), network, queue and versions; prints a
//! test page; reads a card once (shown masked, then dropped).
//!
//! Five wrong PINs lock the pad for five minutes: a short PIN must not be
//! guessable at the screen. The count and the lockout are kept in the data
//! directory (`technician-lockout.json`), so restarting the kiosk (pulling
//! the plug, or crashing it) does not give a guesser fresh tries.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use model::protocol::DeviceState;
use slint::{ComponentHandle, ModelRc, VecModel};
use ui::{KioskWindow, ReviewRow};

use crate::app::App;
pub use crate::ports::DiagnosticsParts as Parts;
use crate::session::ReceiptData;

const MAX_TRIES: u32 = 5;
const LOCKOUT: Duration = Duration::from_secs(300);
/// How long the reader test waits for a card.
const READ_TEST_FOR: Duration = Duration::from_secs(10);


/// What the terminal is, for the info table.
#[derive(Debug, Clone)]
pub struct TerminalInfo {
    /// This terminal's id.
    pub terminal_id: String,
    /// The village it serves: code and name, as shown in the table.
    pub village: String,
    /// The hub it syncs with.
    pub hub_url: String,
    /// The technician PIN's hash from the config; None: no PIN set, the screen stays closed. Never shown or logged.
    pub pin_hash: Option<String>,
}

/// The PIN pad's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinVerdict {
    /// Right PIN: the screen opens and the failure count resets.
    Open,
    /// Wrong PIN; after the last try the pad locks.
    Wrong {
        /// Tries left before the lockout.
        tries_left: u32,
    },
    /// Too many wrong PINs: locked for a while (kept across restarts).
    Locked {
        /// Seconds until the pad opens again (at least 1).
        secs: u64,
    },
    /// No technician PIN is configured, so diagnostics cannot open.
    NotSet,
}

/// The file in the data directory that keeps the count across restarts.
pub const LOCKOUT_FILE: &str = "technician-lockout.json";

/// Counts failures and locks the pad after [`MAX_TRIES`]; with a file,
/// the count and lockout survive a restart.
#[derive(Debug, Default)]
pub struct PinGate {
    failures: u32,
    locked_until: Option<SystemTime>,
    file: Option<PathBuf>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SavedGate {
    failures: u32,
    /// Seconds since the Unix epoch.
    locked_until: Option<u64>,
}

impl PinGate {
    /// A gate kept in `file`. A damaged file counts as a lockout (fail
    /// closed: a guesser must not reset the count by corrupting it).
    pub fn persisted(file: PathBuf, now: SystemTime) -> PinGate {
        let mut gate = PinGate { file: Some(file.clone()), ..PinGate::default() };
        match std::fs::read(&file) {
            Ok(bytes) => match serde_json::from_slice::<SavedGate>(&bytes) {
                Ok(s) => {
                    gate.failures = s.failures.min(MAX_TRIES);
                    gate.locked_until = s.locked_until.map(|t| SystemTime::UNIX_EPOCH + Duration::from_secs(t));
                }
                Err(_) => {
                    tracing::warn!(file = %file.display(), "technician lockout file damaged: locking the PIN pad");
                    gate.failures = MAX_TRIES;
                    gate.locked_until = Some(now + LOCKOUT);
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "cannot read the technician lockout: locking the PIN pad");
                gate.failures = MAX_TRIES;
                gate.locked_until = Some(now + LOCKOUT);
            }
        }
        gate
    }

    /// Writes the count whole (temp file, fsync, rename, directory fsync).
    fn save(&self) {
        let Some(file) = &self.file else { return };
        let saved = SavedGate {
            failures: self.failures,
            locked_until: self.locked_until.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map(|d| d.as_secs()),
        };
        if let Err(e) = write_whole(file, &serde_json::to_vec(&saved).unwrap_or_default()) {
            tracing::warn!(file = %file.display(), error = %e, "cannot keep the technician lockout");
        }
    }

    /// Checks `pin` against `stored` at `now`, counting failures and keeping the lockout on disk.
    pub fn check(&mut self, stored: Option<&str>, pin: &str, now: SystemTime) -> PinVerdict {
        let Some(stored) = stored else { return PinVerdict::NotSet };
        if let Some(until) = self.locked_until {
            // A clock set back does not lengthen the lockout past LOCKOUT.
            let until = until.min(now + LOCKOUT);
            if let Ok(left) = until.duration_since(now) {
                if !left.is_zero() {
                    return PinVerdict::Locked { secs: left.as_secs().max(1) };
                }
            }
            self.locked_until = None;
            self.failures = 0;
            self.save();
        }
        if model::pin::verify_pin(stored, pin) {
            if self.failures != 0 {
                self.failures = 0;
                self.save();
            }
            return PinVerdict::Open;
        }
        self.failures += 1;
        tracing::warn!(failures = self.failures, "wrong technician PIN");
        if self.failures >= MAX_TRIES {
            self.locked_until = Some(now + LOCKOUT);
            self.save();
            return PinVerdict::Locked { secs: LOCKOUT.as_secs() };
        }
        self.save();
        PinVerdict::Wrong { tries_left: MAX_TRIES - self.failures }
    }
}

fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{LOCKOUT_FILE}.{}.tmp", uuid::Uuid::now_v7().simple()));
    let mut opts = std::fs::OpenOptions::new();
    // create_new: never through a file or symlink already at that name.
    opts.write(true).create_new(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all()).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    std::fs::File::open(dir)?.sync_all()
}

fn row(label: &str, value: impl Into<String>) -> ReviewRow {
    ReviewRow { label: label.into(), value: value.into().into() }
}

fn stamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::macros::offset!(+8));
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// The device table and the info table, as rows.
pub fn tables(parts: &Parts, info: &TerminalInfo, online: Option<bool>) -> (Vec<ReviewRow>, Vec<ReviewRow>) {
    let mut devices: Vec<ReviewRow> = parts
        .sync
        .devices()
        .into_iter()
        .map(|d| {
            let state = match d.state {
                DeviceState::Ok => "正常 ok",
                DeviceState::Degraded => "有故障 degraded",
                DeviceState::Absent => "没有 absent",
            };
            row(&d.device, format!("{state}{}", d.detail.map(|r| format!(" · {r}")).unwrap_or_default()))
        })
        .collect();
    if devices.is_empty() {
        devices.push(row("—", "还没有设备报告状态 (no device has reported yet)"));
    }
    let mut rows = vec![
        row("终端 terminal", info.terminal_id.clone()),
        row("村 village", info.village.clone()),
        row("平台 hub", info.hub_url.clone()),
        row(
            "网络 network",
            match online {
                Some(true) => "平台可达 reachable",
                Some(false) => "平台不可达 unreachable",
                None => "未检查 not checked",
            },
        ),
    ];
    match parts.outbox.counts() {
        Ok(c) => rows.push(row("队列 queue", format!("待发送 {} · 已确认 {} · 隔离 {}", c.unsent(), c.acknowledged, c.quarantined))),
        Err(e) => rows.push(row("队列 queue", format!("读不到 {e}"))),
    }
    let last = parts.outbox.last_acknowledged_at().ok().flatten().map(stamp).unwrap_or_else(|| "从未 never".into());
    rows.push(row("上次同步 last sync", last));
    let catalog = parts.outbox.catalog_version().ok().flatten().map_or("内置 built-in".into(), |v| v.to_string());
    let config = parts.outbox.terminal_config().ok().flatten().map_or("—".into(), |c| c.version.to_string());
    rows.push(row("版本 versions", format!("kiosk {} · 目录 catalog {catalog} · 配置 config {config}", env!("CARGO_PKG_VERSION"))));
    (devices, rows)
}

/// A receipt that says it is a test, on the real printer path.
fn test_page(terminal_id: &str, village: &str) -> ReceiptData {
    ReceiptData {
        item_name: "打印测试页 PRINTER TEST".into(),
        // Masked-looking placeholders: the driver refuses unmasked fields.
        applicant_masked: "测试**".into(),
        id_number_masked: "0000**********0000".into(),
        time: time::OffsetDateTime::now_utc(),
        terminal_id: terminal_id.into(),
        village_code: village.into(),
        status_line: "打印机正常 printer ok".into(),
        case_number: None,
        reference: format!("TEST-{}", time::OffsetDateTime::now_utc().unix_timestamp()),
    }
}

/// Fresh tables and a message for the open diagnostics screen.
pub struct DiagUpdate {
    /// The devices table: each device and how it stands.
    pub devices: Vec<ReviewRow>,
    /// The info table: terminal, hub, queue, versions.
    pub info: Vec<ReviewRow>,
    /// A sentence for the technician about the last action ("" for none).
    pub message: String,
}

/// Shows an update (on the UI thread); ignored when diagnostics were closed meanwhile.
pub fn apply(w: &KioskWindow, u: DiagUpdate) {
    if w.global::<ui::Diagnostics>().get_state() != ui::DiagState::Open {
        return;
    }
    w.global::<ui::Diagnostics>().set_devices(ModelRc::new(VecModel::from(u.devices)));
    w.global::<ui::Diagnostics>().set_info(ModelRc::new(VecModel::from(u.info)));
    w.global::<ui::Diagnostics>().set_message(u.message.into());
}

/// Hands an update from a worker to the UI thread: `upgrade_in_event_loop`
/// in the kiosk, a channel the test pumps in headless tests.
pub type Deliver = Arc<dyn Fn(DiagUpdate) + Send + Sync>;

/// The kiosk's [`Deliver`]: through the Slint event loop.
pub fn deliver_to(window: &KioskWindow) -> Deliver {
    let weak = window.as_weak();
    Arc::new(move |u| {
        let _ = weak.upgrade_in_event_loop(move |w| apply(&w, u));
    })
}

/// Connects the diagnostics callbacks of `window`; the PIN lockout lasts
/// as long as the process ([`wire_with_lockout_in`] keeps it on disk).
pub fn wire(window: &KioskWindow, app: &App, info: TerminalInfo, deliver: Deliver) {
    wire_gate(window, app, info, deliver, PinGate::default());
}

/// [`wire`], with the PIN lockout kept in `data_dir` across restarts.
pub fn wire_with_lockout_in(window: &KioskWindow, app: &App, info: TerminalInfo, deliver: Deliver, data_dir: &Path) {
    wire_gate(window, app, info, deliver, PinGate::persisted(data_dir.join(LOCKOUT_FILE), SystemTime::now()));
}

fn wire_gate(window: &KioskWindow, app: &App, info: TerminalInfo, deliver: Deliver, gate: PinGate) {
    let parts = Arc::new(app.diagnostics_parts());
    let gate = Arc::new(Mutex::new(gate));
    let info = Arc::new(info);

    let show = {
        let (parts, info) = (parts.clone(), info.clone());
        move |message: String| {
            let (parts, info, deliver) = (parts.clone(), info.clone(), deliver.clone());
            parts.rt.clone().spawn(async move {
                let online = Some(parts.sync.hub_reachable().await);
                let (p, i) = (parts.clone(), info.clone());
                let tables = tokio::task::spawn_blocking(move || tables(&p, &i, online)).await;
                let Ok((devices, info)) = tables else { return };
                deliver(DiagUpdate { devices, info, message });
            });
        }
    };

    let weak = window.as_weak();
    window.global::<ui::Diagnostics>().on_open(move || {
        if let Some(w) = weak.upgrade() {
            w.global::<ui::Diagnostics>().set_message("".into());
            w.global::<ui::Diagnostics>().set_state(ui::DiagState::Pin);
        }
    });

    let (weak, g, i, s) = (window.as_weak(), gate.clone(), info.clone(), show.clone());
    window.global::<ui::Diagnostics>().on_pin(move |pin| {
        let Some(w) = weak.upgrade() else { return };
        let verdict = match g.lock() {
            Ok(mut gate) => gate.check(i.pin_hash.as_deref(), pin.as_str(), SystemTime::now()),
            Err(_) => PinVerdict::Locked { secs: LOCKOUT.as_secs() },
        };
        match verdict {
            PinVerdict::Open => {
                tracing::info!("technician diagnostics opened");
                w.global::<ui::Diagnostics>().set_state(ui::DiagState::Open);
                s("".into());
            }
            PinVerdict::Wrong { tries_left } => w.global::<ui::Diagnostics>().set_message(format!("密码不对，还可以试 {tries_left} 次").into()),
            PinVerdict::Locked { secs } => w.global::<ui::Diagnostics>().set_message(format!("试错太多次，请 {} 分钟后再试", secs.div_ceil(60)).into()),
            PinVerdict::NotSet => w.global::<ui::Diagnostics>().set_message("本机没有设置技术人员密码 (kioskctl config set technician_pin)".into()),
        }
    });

    let s = show.clone();
    window.global::<ui::Diagnostics>().on_refresh(move || s("".into()));

    let weak = window.as_weak();
    window.global::<ui::Diagnostics>().on_close(move || {
        if let Some(w) = weak.upgrade() {
            w.global::<ui::Diagnostics>().set_state(ui::DiagState::Closed);
            w.global::<ui::Diagnostics>().set_message("".into());
            // Nothing read in a test stays on screen.
            w.global::<ui::Diagnostics>().set_devices(ModelRc::default());
            w.global::<ui::Diagnostics>().set_info(ModelRc::default());
        }
    });

    let (p, i, s) = (parts.clone(), info.clone(), show.clone());
    window.global::<ui::Diagnostics>().on_print_test(move || {
        let (printer, page, s, sync) = (p.printer.clone(), test_page(&i.terminal_id, &i.village), s.clone(), p.sync.clone());
        p.rt.spawn(async move {
            let r = tokio::task::spawn_blocking(move || printer.lock().map_err(|_| "printer busy".to_owned())?.print(&page)).await;
            // What the test found goes into the device table and the next heartbeat.
            let (state, detail) = match &r {
                Ok(Ok(())) => (DeviceState::Ok, None),
                Ok(Err(e)) => (DeviceState::Degraded, Some(e.clone())),
                Err(_) => (DeviceState::Degraded, None),
            };
            sync.report_device(model::protocol::DeviceHealth { device: "receipt_printer".into(), state, detail });
            s(match r {
                Ok(Ok(())) => "测试页已打印 test page printed".to_owned(),
                Ok(Err(e)) => format!("打印失败 print failed: {e}"),
                Err(_) => "打印任务出错 print task failed".to_owned(),
            });
        });
    });

    let (p, s) = (parts.clone(), show.clone());
    window.global::<ui::Diagnostics>().on_read_test(move || {
        let (card, s, sync) = (p.card.clone(), s.clone(), p.sync.clone());
        p.rt.spawn(async move {
            let r = tokio::task::spawn_blocking(move || -> Result<Option<String>, String> {
                let until = Instant::now() + READ_TEST_FOR;
                let mut reader = card.lock().map_err(|_| "reader busy".to_owned())?;
                while Instant::now() < until {
                    if let Some(identity) = reader.poll()? {
                        // Masked on the way out; the identity is dropped (and zeroized) here.
                        return Ok(Some(format!(
                            "读卡成功 card read: {} {}",
                            identity.masked_name(),
                            identity.id_number.masked()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                Ok(None)
            })
            .await;
            let (state, detail) = match &r {
                Ok(Ok(_)) => (DeviceState::Ok, None),
                Ok(Err(e)) => (DeviceState::Degraded, Some(e.clone())),
                Err(_) => (DeviceState::Degraded, None),
            };
            sync.report_device(model::protocol::DeviceHealth { device: "id_card".into(), state, detail });
            s(match r {
                Ok(Ok(Some(m))) => m,
                Ok(Ok(None)) => "10 秒内没有读到卡 no card within 10 s".to_owned(),
                Ok(Err(e)) => format!("读卡器故障 reader problem: {e}"),
                Err(_) => "读卡任务出错 read task failed".to_owned(),
            });
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_pad_locks_after_five_wrong_tries() {
        let stored = model::pin::hash_pin("2468", [1; 16]);
        let mut gate = PinGate::default();
        let t0 = SystemTime::now();
        assert_eq!(gate.check(None, "2468", t0), PinVerdict::NotSet);
        assert_eq!(gate.check(Some(&stored), "1111", t0), PinVerdict::Wrong { tries_left: 4 });
        assert_eq!(gate.check(Some(&stored), "2468", t0), PinVerdict::Open, "a right PIN resets the count");
        for left in (1..5).rev() {
            assert_eq!(gate.check(Some(&stored), "0000", t0), PinVerdict::Wrong { tries_left: left });
        }
        assert!(matches!(gate.check(Some(&stored), "0000", t0), PinVerdict::Locked { .. }));
        assert!(matches!(gate.check(Some(&stored), "2468", t0), PinVerdict::Locked { .. }), "even the right PIN waits");
        assert_eq!(gate.check(Some(&stored), "2468", t0 + LOCKOUT + Duration::from_secs(1)), PinVerdict::Open);
    }

    /// Issue 12 item 9: pulling the plug (or crashing the kiosk) used to give
    /// a guesser five fresh tries.
    #[test]
    fn the_technician_lockout_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(LOCKOUT_FILE);
        let stored = model::pin::hash_pin("2468", [1; 16]);
        let t0 = SystemTime::now();
        let mut gate = PinGate::persisted(file.clone(), t0);
        assert_eq!(gate.check(Some(&stored), "0000", t0), PinVerdict::Wrong { tries_left: 4 });
        drop(gate);
        // Restarted: the count goes on.
        let mut gate = PinGate::persisted(file.clone(), t0);
        for left in (1..4).rev() {
            assert_eq!(gate.check(Some(&stored), "0000", t0), PinVerdict::Wrong { tries_left: left });
        }
        assert!(matches!(gate.check(Some(&stored), "0000", t0), PinVerdict::Locked { .. }));
        drop(gate);
        // Restarted while locked: still locked, even for the right PIN.
        let mut gate = PinGate::persisted(file.clone(), t0 + Duration::from_secs(10));
        assert!(matches!(gate.check(Some(&stored), "2468", t0 + Duration::from_secs(10)), PinVerdict::Locked { .. }));
        // A damaged file locks too, it does not reset the count.
        std::fs::write(&file, "{not json").unwrap();
        let mut gate = PinGate::persisted(file.clone(), t0);
        assert!(matches!(gate.check(Some(&stored), "2468", t0), PinVerdict::Locked { .. }));
        // After the lockout the right PIN opens, and the file says so.
        let later = t0 + LOCKOUT + Duration::from_secs(1);
        assert_eq!(gate.check(Some(&stored), "2468", later), PinVerdict::Open);
        let mut gate = PinGate::persisted(file, later);
        assert_eq!(gate.check(Some(&stored), "0000", later), PinVerdict::Wrong { tries_left: 4 });
    }
}
