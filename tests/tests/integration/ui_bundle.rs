//! 一件事一次办 through the real window (testing backend), the real SAM
//! driver on the pty simulator, the outbox on disk and the hub on loopback:
//! the villager picks 我要领取失业保险金 from the home screen, is asked each
//! field once, consents once, gets one receipt; the hub opens a case per
//! item; staff decide each on its own; the kiosk's sync pulls them and the
//! progress lookup by the receipt's number shows every part.

use std::time::Duration;

use hub::backoffice::Decision;
use hub::HubDb;
use ui::slint::ComponentHandle;

use super::harness::{self, Driven};
use super::ui_journey::Kiosk;

const PARTS: [&str; 3] = ["620000RS0013", "620000RS0016", "620000RS0019"];

#[test]
fn files_a_bundle_as_one_journey_and_shows_each_part() {
    let mut k = Kiosk::start("bundle", true, Duration::from_secs(600));
    k.tap("一件事一次办");
    k.wait_screen(ui::Screen::Services);
    k.shot("bundles");
    k.tap_paged("我要领取失业保险金");
    k.wait_screen(ui::Screen::Guide);
    k.shot("guide");
    assert!(k.shows("一次办好这几件事"));
    assert!(k.shows("求职登记和职业介绍"));
    k.start_filing_with_demo_card();
    k.shot("form");
    // 求职意向 is asked by two of the three items: once here.
    assert_eq!(k.controls("本地就业").len(), 1);
    k.tap("联系电话");
    k.keypad("13912345678");
    k.tap("本地就业");
    k.shot("form-filled");
    harness::review_and_submit(&mut k);
    let case_number = harness::sent_at_once(&k);

    // One receipt, one number, naming every part.
    let receipts = k.receipts.clone();
    harness::print_receipt(&mut k, &receipts, &case_number);
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    // The hub: one submission, one case, split into a case per item.
    let db = HubDb::open(&k._dir.path().join("hub.db")).unwrap();
    assert_eq!((db.total_submissions().unwrap(), db.case_count().unwrap()), (1, 1));
    let hub = k.hub.as_ref().unwrap();
    let view = hub.store().case(&case_number).unwrap().expect("the bundle's case");
    assert_eq!(view.item_code, "620000YJS004");
    let parts: Vec<(String, String)> = view.parts.iter().map(|p| (p.item_code.clone(), p.case_number.to_string())).collect();
    let expected: Vec<(String, String)> = PARTS.iter().enumerate().map(|(i, c)| (c.to_string(), format!("{case_number}P{}", i + 1))).collect();
    assert_eq!(parts, expected);
    assert!(view.parts.iter().all(|p| p.status == model::CaseStatus::Received));

    // Each department decides its part on its own.
    let decide = |part: usize, d: Decision| {
        k.rt.block_on(hub::backoffice::decide_part(hub.store(), &format!("{case_number}P{part}"), d, "测试办理员")).unwrap()
    };
    decide(1, Decision::Accept);
    decide(1, Decision::Complete { result_pdf: None });
    decide(2, Decision::Accept);
    decide(3, Decision::Reject { reason: "请先到乡镇就业服务站登记技能".into() });
    // A result document belongs to the bundle's case, not a part.
    let pdf = Decision::Complete { result_pdf: Some(b"%PDF-1.4".to_vec()) };
    assert!(k.rt.block_on(hub::backoffice::decide_part(hub.store(), &format!("{case_number}P2"), pdf, "x")).is_err());

    // A sync round of this terminal whose heartbeat is due pulls the
    // parts (case status rides on the heartbeat's cadence).
    let config = offline_cache::SyncConfig { heartbeat_interval: Duration::ZERO, allow_plain_http: true, ..Default::default() };
    let client = offline_cache::SyncClient::with_config(&hub.base_url(), k.identity.clone(), config).unwrap();
    let report = k.rt.block_on(client.sync_all(&k.outbox));
    assert_eq!(report.case_updates.len(), 1, "{report:?}");
    let id = report.case_updates[0].0;
    let parts = k.outbox.case_status(id).unwrap().expect("the bundle's status").parts;
    let got: Vec<(&str, model::CaseStatus)> = parts.iter().map(|p| (p.item_code.as_str(), p.status)).collect();
    use model::CaseStatus::*;
    assert_eq!(got, [(PARTS[0], Done), (PARTS[1], Accepted), (PARTS[2], Rejected)]);

    // Progress by the receipt's number: the bundle, then each part.
    k.card_taken_away();
    k.tap("查进度");
    k.wait_screen(ui::Screen::Progress);
    k.tap("输入号码");
    k.keypad(&case_number);
    k.wait_until("the lookup answered", |w| w.global::<ui::Visit>().get_lookup_phase() == ui::LookupPhase::Found);
    k.shot("progress");
    // Each part is one line inside the bundle's row: its name and its words.
    let part = |label: &str| {
        let found = ui::testing::find(&k.window, label);
        found.iter().filter_map(|e| e.accessible_value()).map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")
    };
    assert!(part("失业登记").contains("已经办结"));
    assert!(part("失业保险金申领").contains("正在办理"));
    // The rejected part gives the back office's reason, not "ask the assistant".
    let rejected = part("求职登记和职业介绍");
    assert!(rejected.contains("不予受理") && rejected.contains("原因：请先到乡镇就业服务站登记技能"), "{rejected}");
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.finish();
}
