//! 出生登记 by taps only, in the real window (issue 14): the baby's name
//! written on the handwriting pad with recorded finger strokes (and, in a
//! second run, typed as pinyin and picked from the candidates), the birth
//! date set with the date picker, and the hub receiving those characters.

use std::time::Duration;

use i_slint_backend_testing::ElementHandle;
use ui::slint::platform::{PointerEventButton, WindowEvent};
use ui::slint::{ComponentHandle, LogicalPosition, Model};

use super::harness::{self, Driven};
use super::ui_journey::Kiosk;

/// Home → 出生 (life-event theme) → 出生登记 → consent → the sample card → the form, then
/// the phone number on the keypad and 男.
fn open_birth_registration(k: &mut Kiosk) {
    k.with_test_scanner();
    k.open_item("出生", "出生登记");
    k.start_filing_with_demo_card();
    k.tap("联系电话");
    k.keypad("13912345678");
}

/// The birth date one year back from today with the picker, then the rest
/// of the filing up to the saved screen. Returns the date set.
fn pick_date_and_file(k: &mut Kiosk) -> String {
    // Gender and date are below the fold: the big 向下 button, no swipe.
    while k.controls("出生日期").is_empty() || k.controls("男").is_empty() {
        k.tap("向下");
    }
    k.tap("男");
    k.tap("出生日期");
    assert_eq!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Date);
    k.shot("date-picker");
    k.tap("年 减一");
    let kb = k.window.global::<ui::Keyboard>();
    let date = format!("{:04}-{:02}-{:02}", kb.get_year(), kb.get_month(), kb.get_day());
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(kb.get_year(), today.year() - 1);
    k.tap("完成");
    assert_eq!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Closed);
    assert_eq!(k.control("出生日期").accessible_value().as_deref(), Some(date.as_str()));
    k.shot("form-filled");
    k.tap("下一步");
    k.wait_screen(ui::Screen::Materials);
    // Each paper material is scanned (出生医学证明 too, while the link to the
    // electronic licence library is not confirmed), then 下一步.
    harness::through_materials(k);
    harness::confirm(k);
    harness::sent_at_once(k);
    date
}

/// What the hub received in the one filing.
fn hub_form(k: &Kiosk) -> std::collections::BTreeMap<String, String> {
    let db = hub::HubDb::open(&k._dir.path().join("hub.db")).unwrap();
    let ids = db.submission_ids().unwrap();
    assert_eq!(ids.len(), 1);
    let filing = db.open_submission(ids[0], &k.platform).unwrap().expect("stored");
    assert_eq!(filing.submission.item_code.as_str(), "620000GA0001");
    filing.submission.form.clone()
}

/// Draws one recorded character on the writing pad with pointer events, as
/// a finger would: press, move through the points, release, per stroke.
fn write(k: &Kiosk, pad: &ElementHandle, strokes: &[Vec<(i32, i32)>]) {
    let (origin, size) = (pad.absolute_position(), pad.size());
    let at = |(x, y): (i32, i32)| LogicalPosition::new(origin.x + x as f32 / 300.0 * size.width, origin.y + y as f32 / 300.0 * size.height);
    for stroke in strokes {
        let Some(first) = stroke.first() else { continue };
        let window = k.window.window();
        window.dispatch_event(WindowEvent::PointerMoved { position: at(*first) });
        window.dispatch_event(WindowEvent::PointerPressed { position: at(*first), button: PointerEventButton::Left });
        for p in &stroke[1..] {
            window.dispatch_event(WindowEvent::PointerMoved { position: at(*p) });
        }
        let last = stroke.last().unwrap_or(first);
        window.dispatch_event(WindowEvent::PointerReleased { position: at(*last), button: PointerEventButton::Left });
        k.pump();
    }
}

#[test]
fn files_a_birth_registration_with_the_name_written_by_hand() {
    let mut k = Kiosk::start("birth-handwriting", true, Duration::from_secs(600));
    open_birth_registration(&mut k);
    k.tap("婴儿姓名");
    // Chinese starts on the handwriting pad.
    assert_eq!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Handwriting);
    let written = model::fixtures::handwritten_characters();
    for ch in ['杨', '明'] {
        let c = written.iter().find(|c| c.character == ch).expect("recorded strokes");
        let pad = k.control("写字格");
        write(&k, &pad, &c.strokes);
        k.shot(&format!("written-{ch}"));
        let path = k.window.global::<ui::Keyboard>().get_pad_strokes();
        assert_eq!(path.matches('M').count(), c.strokes.len(), "one path per stroke");
        let points: usize = c.strokes.iter().map(Vec::len).sum();
        assert!(path.matches('L').count() + c.strokes.len() >= points, "every point drawn: {} of {points}", path.matches('L').count() + c.strokes.len());
        let candidates: Vec<String> = k.window.global::<ui::Keyboard>().get_candidates().iter().map(|s| s.to_string()).collect();
        assert!(candidates.iter().take(5).any(|c| c.chars().eq([ch])), "{ch} not in the top 5: {candidates:?}");
        k.tap(&ch.to_string());
        assert_eq!(k.window.global::<ui::Keyboard>().get_pad_strokes(), "", "the pad is clear for the next character");
    }
    assert_eq!(k.window.global::<ui::Keyboard>().get_text(), "杨明");
    k.tap("完成");
    assert_eq!(k.control("婴儿姓名").accessible_value().as_deref(), Some("杨明"));
    let date = pick_date_and_file(&mut k);
    let form = hub_form(&k);
    assert_eq!(form.get("baby_name").map(String::as_str), Some("杨明"));
    assert_eq!(form.get("baby_birth_date"), Some(&date));
    assert_eq!(form.get("baby_gender").map(String::as_str), Some("1"));
    k.finish();
}

#[test]
fn files_a_birth_registration_with_the_name_typed_as_pinyin() {
    let mut k = Kiosk::start("birth-pinyin", true, Duration::from_secs(600));
    open_birth_registration(&mut k);
    k.tap("婴儿姓名");
    k.tap("拼音");
    assert_eq!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Pinyin);
    for (letters, pick) in [("zhang", "张"), ("xiaoming", "小明")] {
        for l in letters.chars() {
            k.tap(&l.to_string());
        }
        k.shot(&format!("typed-{letters}"));
        assert!(k.window.global::<ui::Keyboard>().get_preedit().len() >= letters.len(), "the letters show above the keys");
        k.tap(pick);
    }
    assert_eq!(k.window.global::<ui::Keyboard>().get_text(), "张小明");
    // A slip: one character too many, taken back with 删除.
    k.tap("m");
    k.tap("删除");
    assert_eq!(k.window.global::<ui::Keyboard>().get_preedit(), "");
    k.tap("完成");
    assert_eq!(k.control("婴儿姓名").accessible_value().as_deref(), Some("张小明"));
    let date = pick_date_and_file(&mut k);
    let form = hub_form(&k);
    assert_eq!(form.get("baby_name").map(String::as_str), Some("张小明"));
    assert_eq!(form.get("baby_birth_date"), Some(&date));
    k.finish();
}
