//! A place by taps only (issue 14): 城乡居民医保参保登记 asks for the
//! address; a foreign permanent resident's card (穆安娜, 2023 card) carries
//! none, so she picks her community with the place picker, in the real
//! window (testing backend): it opens at the villages of the terminal's
//! township (锁南镇), she lives in 兰州, so she goes back along the
//! breadcrumbs to the province and down county → street → community, types
//! the house number on the on-screen keyboard, and the hub receives the
//! division code and the names.

use std::time::Duration;

use ui::slint::{ComponentHandle, Model};

use super::harness::{self, Driven};
use super::ui_journey::Kiosk;

fn step(k: &Kiosk) -> ui::PlaceStep {
    k.window.global::<ui::PlacePicker>().get_step()
}

/// A card whose address names a village fills the place, read-only: 张桂兰's
/// (锁南镇白家村37号) becomes the village's code and names.
#[test]
fn a_card_naming_a_village_fills_the_address() {
    let mut k = Kiosk::start("place-from-card", true, Duration::from_secs(600));
    k.open_item("就医", "城乡居民医保参保登记");
    k.start_filing_with_demo_card();
    k.tap("向下");
    k.shot("form");
    let row = k.window.global::<ui::Visit>().get_form_rows().iter().find(|r| r.key == "address").expect("the address row");
    assert!(row.readonly);
    assert_eq!(row.value, "甘肃省临夏回族自治州东乡族自治县锁南镇白家村委会 37号");
    k.finish();
}

#[test]
fn picks_a_village_by_taps_and_the_hub_gets_its_code_and_names() {
    let mut k = Kiosk::start("place-picker", true, Duration::from_secs(600));
    k.with_test_scanner();
    k.open_item("就医", "城乡居民医保参保登记");
    k.start_filing();
    k._sim.present(drivers::idcard::simulator::SimCard::foreign_2023());
    k.wait_screen(ui::Screen::Form);
    k._sim.remove();
    k.tap("联系电话");
    k.keypad("13912345678");
    // The address is below the fold: the big 向下 button, no swipe.
    for _ in 0..5 {
        if !k.controls("住址").is_empty() {
            break;
        }
        k.tap("向下");
    }
    assert_eq!(k.control("住址").accessible_value().as_deref(), Some(""), "the card has no address");

    // The picker opens at the villages of this service point's township.
    k.tap("住址");
    assert_eq!(step(&k), ui::PlaceStep::Village);
    k.shot("picker-home-township");
    // Back along the breadcrumbs to the province, and down again.
    k.tap("回到 甘肃省");
    assert_eq!(step(&k), ui::PlaceStep::County);
    k.shot("picker-counties");
    k.tap_paged("城关区");
    assert_eq!(step(&k), ui::PlaceStep::Township);
    k.tap_paged("东岗西路街道");
    assert_eq!(step(&k), ui::PlaceStep::Village);
    k.tap_paged("天水路社区");
    assert_eq!(step(&k), ui::PlaceStep::Detail);
    assert!(k.shows("甘肃省兰州市城关区东岗西路街道天水路社区居委会"), "the whole path is shown");
    // 上一级 goes back one step, and the community is picked again.
    k.tap("上一级");
    assert_eq!(step(&k), ui::PlaceStep::Village);
    k.tap_paged("天水路社区");
    // The house number on the on-screen keyboard, over the picker.
    k.tap("组、门牌号");
    assert_ne!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Closed);
    k.tap("123");
    k.tap("5");
    k.tap("完成");
    assert_eq!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Closed);
    assert_eq!(k.window.global::<ui::PlacePicker>().get_detail(), "5");
    k.shot("picker-detail");
    k.tap("确定");
    assert_eq!(step(&k), ui::PlaceStep::Closed);
    let address = "甘肃省兰州市城关区东岗西路街道天水路社区居委会 5";
    assert_eq!(k.control("住址").accessible_value().as_deref(), Some(address));
    k.shot("form-with-place");

    k.tap("下一步");
    harness::through_materials(&mut k);
    k.wait_screen(ui::Screen::Review);
    assert!(k.shows(address), "the review shows the names");
    harness::confirm(&mut k);
    harness::sent_at_once(&k);

    let db = hub::HubDb::open(&k._dir.path().join("hub.db")).unwrap();
    let ids = db.submission_ids().unwrap();
    assert_eq!(ids.len(), 1);
    let filing = db.open_submission(ids[0], &k.platform).unwrap().expect("stored");
    assert_eq!(filing.submission.item_code.as_str(), "620000YB0001");
    assert_eq!(filing.submission.form.get("address").map(String::as_str), Some(address));
    assert_eq!(filing.submission.form.get("address_division_code").map(String::as_str), Some("620102017003"));
    k.finish();
}
