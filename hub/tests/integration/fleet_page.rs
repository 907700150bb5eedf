//! The fleet page: every terminal's village, last contact, queue and
//! devices, stale ones first and marked in words and colour. Rendered by
//! headless Chromium (Debian package `chromium`) to check what people see.

use crate::common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::common::{start, Api};
use hub::NewTerminal;
use model::audit_chain::{AuditHead, AuditProof};
use model::protocol::{DeviceHealth, DeviceState, Heartbeat, QueueSnapshot};
use model::VillageCode;
use time::OffsetDateTime;

fn heartbeat(unsent: u64, oldest_secs: Option<u64>, devices: Vec<DeviceHealth>, quarantined: u64) -> Heartbeat {
    Heartbeat {
        sent_at: OffsetDateTime::now_utc(),
        app_version: "kiosk/0.1.0".into(),
        catalog_version: Some(1),
        config_version: Some(0),
        queue: QueueSnapshot { unsent, quarantined, acknowledged: 0, oldest_unsent_secs: oldest_secs, evaluations_unsent: 0 },
        free_disk_bytes: Some(20 << 30),
        devices,
        alerts: vec![],
        clock_offset_secs: 0,
        audit: None,
        update: None,
    }
}

fn ok(device: &str) -> DeviceHealth {
    DeviceHealth { device: device.into(), state: DeviceState::Ok, detail: None }
}

/// Four terminals: in touch, stale for two hours, in touch with trouble, never seen.
async fn fleet(dir: &std::path::Path) -> (hub::Hub, Api) {
    let (hub, api) = start(dir).await; // GS-0001 at 巴牙村
    let store = hub.store();
    let now = OffsetDateTime::now_utc();
    for (id, village) in [("GS-0002", "622926100201"), ("GS-0003", "622926100203"), ("GS-0004", "622926100204")] {
        let t = NewTerminal { id: id.into(), public_key: common::random_key().public_key(), village_code: VillageCode::parse(village).ok(), label: None };
        store.add_terminal(&t, now).unwrap();
    }
    store.record_heartbeat("GS-0001", &heartbeat(0, None, vec![ok("id_card"), ok("receipt_printer")], 0), now).unwrap();
    store.record_heartbeat("GS-0002", &heartbeat(7, Some(3 * 86_400), vec![ok("id_card")], 0), now - time::Duration::hours(2)).unwrap();
    let printer_down = DeviceHealth { device: "receipt_printer".into(), state: DeviceState::Degraded, detail: Some("打印机没有回应".into()) };
    store.record_heartbeat("GS-0003", &heartbeat(1, Some(600), vec![ok("id_card"), printer_down], 1), now).unwrap();
    // Heartbeats are written behind and the page reads without waiting for
    // them: let them land first (on a loaded machine the page came too early).
    store.terminals().unwrap();
    (hub, api)
}

#[tokio::test]
async fn stale_terminals_come_first_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, _api) = fleet(dir.path()).await;
    let (name, token) = common::staff(&hub);
    let html = common::http().get(format!("{}/fleet", hub.base_url())).basic_auth(name, Some(token)).send().await.unwrap().text().await.unwrap();
    let pos = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} not on the page"));
    // Stale first (GS-0002 two hours, GS-0004 never), then attention, then fine.
    assert!(pos("<td>GS-0002") < pos("<td>GS-0003") && pos("<td>GS-0004") < pos("<td>GS-0003") && pos("<td>GS-0003") < pos("<td>GS-0001"));
    assert!(html.contains("失联 2 · stale 2"), "summary counts the stale ones");
    assert_eq!(html.matches("⚠ 失联 STALE").count(), 2);
    assert!(html.contains("2 小时前 · 2 h ago"));
    assert!(html.contains("从未联系 · never"));
    assert!(html.contains("7 件 unsent") && html.contains("3 天 · 3 days"), "queue depth and oldest unsent");
    assert!(html.contains("receipt_printer: 异常 degraded (打印机没有回应)"));
    assert!(html.contains("隔离 1 quarantined"));
    assert!(html.contains("东乡族自治县") && html.contains("巴牙村"), "village by name");
    hub.shutdown().await.unwrap();
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        std::env::var_os("PATH")?.to_str()?.split(':').map(|d| PathBuf::from(d).join(name)).find(|p| p.is_file())
    })
}

/// Share of pixels close to `rgb`.
fn share_of(png_path: &std::path::Path, rgb: [u8; 3]) -> (f64, u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let close = px.chunks(channels).filter(|p| p[..3].iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 12)).count();
    (close as f64 / (px.len() / channels) as f64, info.width, info.height)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_shows_stale_terminals_in_red() {
    let Some(browser) = chromium() else {
        panic!("no chromium (Debian package `chromium`; ./dev test installs it)");
    };
    let dir = tempfile::tempdir().unwrap();
    let (hub, _api) = fleet(dir.path()).await;
    // Issue 19: GS-0003's audit chain went back (flagged first, in purple),
    // and staff asked GS-0001 for a diagnostics bundle.
    let now = OffsetDateTime::now_utc();
    let head = |seq| AuditProof { head: AuditHead { seq, hash: format!("{seq:064x}") }, since: vec![] };
    hub.store().anchor_audit("GS-0003", &head(12), now).unwrap();
    assert!(hub.store().anchor_audit("GS-0003", &head(9), now).unwrap().0.is_break());
    hub.store().request_diagnostics("GS-0001", "ops", now).unwrap();
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fleet.png");
    let _ = std::fs::remove_file(&shot);
    let profile = dir.path().join("chromium-profile");
    let (name, token) = common::staff(&hub);
    let url = format!("http://{name}:{token}@{}/fleet", hub.addr());
    let args: Vec<String> = vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", profile.display()),
        // Tall enough for all four terminals under the filter, paging and
        // acknowledgement controls.
        "--window-size=1400,1400".into(),
        format!("--screenshot={}", shot.display()),
        url,
    ];
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(browser).args(&args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        // Chromium exits after the screenshot; a hang must not hang the suite.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .unwrap();
    assert!(out.success(), "chromium exited with {out:?}");
    assert!(shot.is_file(), "no screenshot at {}", shot.display());

    let (red, w, h) = share_of(&shot, [0xb3, 0x26, 0x1e]);
    let (pink, _, _) = share_of(&shot, [0xfd, 0xe0, 0xdc]);
    let (green, _, _) = share_of(&shot, [0x1e, 0x6b, 0x30]);
    let (purple, _, _) = share_of(&shot, [0x6a, 0x1b, 0x7a]);
    assert!(purple > 0.0005, "a broken audit chain's badge is purple: {purple}");
    assert_eq!((w, h), (1400, 1400));
    assert!(red > 0.002, "stale badges are red: {red}");
    assert!(pink > 0.02, "stale rows are tinted: {pink}");
    assert!(green > 0.0005, "a healthy terminal's badge is green: {green}");
    eprintln!("fleet page screenshot: {} (red {red:.4}, tint {pink:.4}, green {green:.4})", shot.display());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_fleet_page_refuses_anonymous_readers() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = fleet(dir.path()).await;
    let (name, token) = common::staff(&hub);
    let url = format!("{}/fleet", hub.base_url());
    let http = common::http();
    let anonymous = http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"), "a browser asks for the credentials");
    let page = anonymous.text().await.unwrap();
    assert!(!page.contains("GS-0001") && !page.contains("巴牙村"), "nothing of the fleet: {page}");
    let guessed = http.get(&url).basic_auth(&name, Some("0".repeat(64))).send().await.unwrap();
    assert_eq!(guessed.status(), reqwest::StatusCode::UNAUTHORIZED);
    // A terminal's device key is no staff credential either.
    assert_eq!(api.get("/fleet").await.status(), reqwest::StatusCode::UNAUTHORIZED);

    // Staff read it, and reading writes nothing to the database.
    let db = hub::HubDb::open(&dir.path().join("hub.db")).unwrap();
    hub.store().terminals().unwrap(); // heartbeats written behind have landed
    let before = db.data_version().unwrap();
    for _ in 0..3 {
        let resp = http.get(&url).basic_auth(&name, Some(&token)).send().await.unwrap();
        assert_eq!(resp.status(), reqwest::StatusCode::OK);
        assert!(resp.text().await.unwrap().contains("GS-0001"));
    }
    assert_eq!(db.data_version().unwrap(), before, "no commit by anyone while staff read the page");
    hub.shutdown().await.unwrap();
}
