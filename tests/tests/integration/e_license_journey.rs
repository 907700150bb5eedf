//! E-licenses at the kiosk (issue 16, the must-show journey): a kiosk whose
//! hub has an e-license library (a library peer on loopback speaking the
//! contract, hub/README.md "E-license library") files 社会保障卡启用; the
//! social security card is found in the library for the card holder, the
//! villager sees which license was used, and the hub gets the filing with
//! the license recorded and nothing scanned. With the library down, the
//! same material asks for a scan and says the library is not answering;
//! with the hub gone, it says there is no network. Screens go to
//! `<target>/journey/e-license/`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use hub::e_license::{ELicenseLibrary, LibraryConnector};
use hub::{Hub, HubDb, HubOptions};
use offline_cache::SyncConfig;
use serde_json::{json, Value};
use ui::slint::ComponentHandle;

use super::harness::{self, Driven, WindowKiosk};

const KIOSK: &str = "GS-KIOSK-0161";
const VILLAGE: &str = "622926100202";
const LICENSE_NUMBER: &str = "SS6229260042";

/// The library: the social security card is held for everyone asked; the
/// ID numbers it was asked for are kept.
async fn lookup(State(asked): State<Arc<Mutex<Vec<String>>>>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    asked.lock().unwrap().push(body["id_number"].as_str().unwrap_or_default().to_owned());
    if body["material_code"] == "sscard" {
        let license = json!({ "type": "社会保障卡", "number": LICENSE_NUMBER, "issuer": "甘肃省人力资源和社会保障厅", "issued_on": "2021-04-12" });
        (StatusCode::OK, Json(json!({ "found": true, "license": license })))
    } else {
        (StatusCode::OK, Json(json!({ "found": false })))
    }
}

/// The e-license kiosk: the window kiosk with SANE's test backend as its
/// scanner, once its first sync round brought the hub's signed config
/// (it has an e-license library).
fn start_kiosk(rt: &tokio::runtime::Runtime, hub: &Hub, platform: &model::seal::PlatformSecretKey, dir: &std::path::Path) -> WindowKiosk {
    let sync = SyncConfig { hub_key: Some(hub.signing_public_key()), ..harness::quick_sync() };
    let k = WindowKiosk::start(rt, hub, platform, dir, (KIOSK, VILLAGE), sync, "e-license");
    // Materials scanned by SANE's test backend (Debian sane-utils), no camera.
    let sane = drivers::docscan::test_backend::SaneTestEnv::new().expect("SANE's test backend (Debian sane-utils; ./dev test installs it)");
    k.app.set_material_devices(Box::new(kiosk::capture::Capturers::new(Some(sane.scanner()), None)));
    std::mem::forget(sane); // the scanner's config dir lives as long as the test process
    let online = k.status.recv_timeout(Duration::from_secs(30)).expect("a first sync round");
    assert_eq!(online.online, Some(true), "the hub answered the first round");
    k.pump();
    k
}

/// 社会保障卡启用 with the simulated card, to its materials screen.
fn to_materials(k: &mut WindowKiosk, step: &str) {
    k.open_item("社会保障", "社会保障卡启用");
    k.start_filing_with_demo_card();
    k.tap("联系电话");
    k.keypad("13912345678");
    k.tap("下一步");
    k.wait_screen(ui::Screen::Materials);
    assert_eq!(material(k).name, "社会保障卡");
    k.wait_until("the library answered", |w| !w.global::<ui::Visit>().get_material().busy);
    k.shot(step);
    // The simulated card lies on the reader a moment; let it go.
    std::thread::sleep(kiosk::demo::CARD_ON_READER + Duration::from_millis(300));
}

fn material(k: &WindowKiosk) -> ui::MaterialStep {
    k.window.global::<ui::Visit>().get_material()
}

/// Cancels the filing on the materials screen and goes home.
fn give_up(k: &mut WindowKiosk) {
    k.app.dispatch(kiosk::session::Event::Cancel);
    k.wait_screen(ui::Screen::Home);
}

#[test]
fn an_e_license_found_online_is_recorded_not_scanned_and_without_the_library_a_scan_is_asked_for() {
    use drivers::docscan::test_backend::SaneTestEnv;
    assert!(SaneTestEnv::available(), "scanimage or SANE's test backend is not installed (apt-get install sane-utils libsane1, or run ./dev test)");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let library_url = format!("http://{}", listener.local_addr().unwrap());
    let routes = Router::new().route("/v1/licenses/lookup", post(lookup)).with_state(asked.clone());
    let library = rt.spawn(async move { axum::serve(listener, routes).await.unwrap() });

    let platform = Arc::new(offline_cache::generate_platform_key());
    let connector = LibraryConnector { library: ELicenseLibrary::new(&library_url, "l1brary", Duration::from_secs(5)).unwrap() };
    let options = HubOptions { platform_key: Some(platform.clone()), connector: Some(Arc::new(connector)), ..HubOptions::default() };
    let hub_db = dir.path().join("hub.db");
    let hub = rt.block_on(Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &hub_db, options)).unwrap();
    let mut k = start_kiosk(&rt, &hub, &platform, dir.path());

    // Found: which license, in plain words, its number masked; no scan offered.
    to_materials(&mut k, "found");
    let m = material(&k);
    assert_eq!(m.captured.as_str(), "已从电子证照库调取，不用扫描");
    assert_eq!(m.hint.as_str(), "用的是电子证照「社会保障卡」，编号 SS62****0042，甘肃省人力资源和社会保障厅 2021-04-12 发");
    assert!(!m.can_scan && m.can_next && !k.shows(LICENSE_NUMBER));
    assert_eq!(*asked.lock().unwrap(), [model::fixtures::sample_identity().id_number.expose().to_owned()], "the library was asked once, for the card holder");
    k.tap("下一步");
    k.wait_screen(ui::Screen::Review);
    k.shot("review");
    assert!(k.shows("用的是电子证照「社会保障卡」，编号 SS62****0042"), "the summary names the license");
    k.tap("确认提交");
    k.wait_screen(ui::Screen::Saved);
    k.shot("saved");
    assert!(k.window.global::<ui::Visit>().get_saved_sent(), "sent at once");

    // At the hub: the license recorded with the case, sealed, and nothing scanned.
    let db = HubDb::open(&hub_db).unwrap();
    let ids = db.submission_ids().unwrap();
    assert_eq!(ids.len(), 1);
    let filing = db.open_submission(ids[0], &platform).unwrap().expect("stored");
    assert!(filing.attachments.is_empty() && filing.submission.attachments.is_empty(), "nothing scanned");
    let r = &filing.submission.e_licenses;
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].material_code.as_str(), r[0].kind.as_str(), r[0].number.as_str(), r[0].issuer.as_str(), r[0].issued_on.as_deref()),
        ("sscard", "社会保障卡", LICENSE_NUMBER, "甘肃省人力资源和社会保障厅", Some("2021-04-12"))
    );
    // The back office shows it with the case.
    let cases = hub::backoffice::list_cases(hub.store().as_ref(), None, 10).unwrap();
    let (_, opened) = hub::backoffice::open_case(&db, hub.store().as_ref(), cases[0].case_number.as_str(), &platform).unwrap();
    assert_eq!(
        hub::backoffice::e_license_lines(&opened.submission),
        [format!("e-license for sscard: 社会保障卡 no. {LICENSE_NUMBER} issued by 甘肃省人力资源和社会保障厅 on 2021-04-12 (from the e-license library, not scanned)")]
    );
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    // The library is down (the hub answers): scan, because the library does not answer.
    library.abort();
    to_materials(&mut k, "library-down");
    let m = material(&k);
    assert_eq!(m.reason.as_str(), "电子证照库没有回应，要扫描");
    assert!(k.shows("电子证照库没有回应，要扫描") && m.can_scan && !m.can_next && m.captured.is_empty());
    k.tap("扫描");
    k.wait_until("the scan", |w| w.global::<ui::Visit>().get_material().captured.contains("已扫描"));
    k.tap("下一步");
    k.wait_screen(ui::Screen::Review);
    k.tap("确认提交");
    k.wait_screen(ui::Screen::Saved);
    let ids = db.submission_ids().unwrap();
    assert_eq!(ids.len(), 2);
    let scanned = ids.iter().map(|id| db.open_submission(*id, &platform).unwrap().expect("stored")).find(|f| f.submission.e_licenses.is_empty()).expect("the scanned filing");
    assert_eq!(scanned.submission.attachments.iter().map(|a| a.material_code.as_str()).collect::<Vec<_>>(), ["sscard"]);
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    // The hub is gone: scan, because there is no network.
    rt.block_on(hub.shutdown()).unwrap();
    to_materials(&mut k, "offline");
    let m = material(&k);
    assert_eq!(m.reason.as_str(), "没有网络，不能调取电子证照，要扫描");
    assert!(k.shows("没有网络，不能调取电子证照，要扫描") && m.can_scan && !m.can_next);
    give_up(&mut k);
}
