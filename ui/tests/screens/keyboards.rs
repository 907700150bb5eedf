//! The on-screen keyboards and the date picker in every language, normal and
//! large text: PNGs `keyboard-<lang>-<mode>-<size>.png`, key sizes, the
//! field kept in view, Kazakh mirrored, the candidate bar and page arrows.

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use textinput::layout::{layout, Kind};
use ui::{KeyCap, Keyboard, KeyboardMode, KioskWindow, Screen};

use ui::testing::{control as one, settle, tap};

use super::{go, sample_window, snapshot};

/// The keys of `kind` as key caps (`ui::key_caps`, as the kiosk lays them out).
fn caps(kind: Kind) -> (Vec<KeyCap>, i32) {
    let named: Vec<Vec<(&str, &str)>> =
        layout(kind).rows.iter().map(|row| row.iter().map(|k| (k.label, k.spoken.unwrap_or(k.label))).collect()).collect();
    let (caps, columns) = ui::key_caps(&named);
    (caps, columns as i32)
}

fn show(ui: &KioskWindow, mode: KeyboardMode) {
    let kb = ui.global::<Keyboard>();
    let kind = match mode {
        KeyboardMode::Pinyin => Some(Kind::Pinyin),
        KeyboardMode::Tibetan => Some(Kind::Tibetan),
        KeyboardMode::Kazakh => Some(Kind::Kazakh),
        KeyboardMode::English => Some(Kind::English),
        KeyboardMode::Digits => Some(Kind::Digits),
        _ => None,
    };
    let (keys, columns) = kind.map(caps).unwrap_or_default();
    kb.set_keys(ModelRc::new(VecModel::from(keys)));
    kb.set_columns(columns.max(1));
    let (label, text, preedit, candidates): (&str, &str, &str, &[&str]) = match mode {
        KeyboardMode::Pinyin => ("婴儿姓名", "张", "xiao ming", &["小明", "晓明", "小", "晓", "笑", "校", "效", "肖"]),
        KeyboardMode::Handwriting => ("婴儿姓名", "张", "", &["桂", "挂", "佳", "硅", "娃", "掛", "柱", "住"]),
        KeyboardMode::Tibetan => ("ཞུ་གཏུག་པའི་མིང་།", "བཀྲ་ཤིས་", "", &[]),
        KeyboardMode::Kazakh => ("اتى-ءجونى", "قازاق", "", &[]),
        KeyboardMode::English => ("Name", "Wang", "", &[]),
        KeyboardMode::Digits => ("门牌号", "12", "", &[]),
        _ => ("出生日期", "", "", &[]),
    };
    kb.set_field_label(label.into());
    kb.set_text(text.into());
    kb.set_preedit(preedit.into());
    let candidates: Vec<SharedString> = candidates.iter().map(|c| (*c).into()).collect();
    kb.set_candidates(ModelRc::new(VecModel::from(candidates)));
    kb.set_can_page_back(false);
    kb.set_can_page_forward(true);
    // 桂's first strokes, as a finger left them.
    kb.set_pad_strokes(if mode == KeyboardMode::Handwriting { "M 40 90 L 120 88 M 80 40 L 82 260 M 78 120 L 30 200 M 86 130 L 120 170".into() } else { SharedString::new() });
    kb.set_year(2026);
    kb.set_month(3);
    kb.set_day(8);
    kb.set_mode(mode);
    settle();
}

const MODES: [(KeyboardMode, &str); 7] = [
    (KeyboardMode::Handwriting, "handwriting"),
    (KeyboardMode::Pinyin, "pinyin"),
    (KeyboardMode::Tibetan, "tibetan"),
    (KeyboardMode::Kazakh, "kazakh"),
    (KeyboardMode::English, "english"),
    (KeyboardMode::Digits, "digits"),
    (KeyboardMode::Date, "date"),
];

#[test]
fn every_keyboard_in_every_language_normal_and_large() {
    let (ui, _log) = sample_window();
    go(&ui, Screen::Form);
    let theme = ui.global::<ui::Theme>();
    for lang in ["zh-CN", "bo", "kk", "en"] {
        ui::set_language(&ui, lang);
        for large in [false, true] {
            theme.set_large_text(large);
            for (mode, name) in MODES {
                show(&ui, mode);
                snapshot(&ui, &format!("keyboard-{lang}-{name}-{}", if large { "large" } else { "normal" }));
                // 完成 and 删除 are big; every key is at least 60 x 60.
                let done = one(&ui, &ui::i18n::tr(lang, "完成")).size();
                assert!(done.width >= 150.0 && done.height >= 80.0, "{lang} {name}: 完成 {done:?}");
                if let Some(kind) = match mode {
                    KeyboardMode::Tibetan => Some(Kind::Tibetan),
                    KeyboardMode::Kazakh => Some(Kind::Kazakh),
                    KeyboardMode::English => Some(Kind::English),
                    KeyboardMode::Pinyin => Some(Kind::Pinyin),
                    KeyboardMode::Digits => Some(Kind::Digits),
                    _ => None,
                } {
                    let field = field_bottom(&ui);
                    for key in layout(kind).rows.iter().flatten() {
                        let e = one(&ui, key.spoken.unwrap_or(key.label));
                        let (size, pos) = (e.size(), e.absolute_position());
                        let min = if large { 80.0 } else { 60.0 };
                        assert!(size.width >= 60.0 && size.height >= min, "{lang} {name}: key {} is {size:?}", key.label);
                        assert!(pos.y >= field, "{lang} {name}: key {} covers the field", key.label);
                    }
                }
            }
        }
    }
    theme.set_large_text(false);
    ui::set_language(&ui, "zh-CN");
}

/// The bottom edge of the field being typed, shown above the keys.
fn field_bottom(ui: &KioskWindow) -> f32 {
    let label = ui.global::<Keyboard>().get_field_label();
    let field = i_slint_backend_testing::ElementHandle::find_by_accessible_label(ui, &label)
        .find(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::TextInput))
        .expect("the field being typed is on screen");
    field.absolute_position().y + field.size().height
}

#[test]
fn kazakh_is_mirrored_and_candidates_page() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Form);
    show(&ui, KeyboardMode::Kazakh);
    // The first key of the top row (ق) is at the right end, as Kazakh reads.
    let first = one(&ui, "қ").absolute_position().x;
    let last = one(&ui, "п").absolute_position().x;
    assert!(first > last, "ق at {first}, پ at {last}");

    show(&ui, KeyboardMode::English);
    let first = one(&ui, "q").absolute_position().x;
    let last = one(&ui, "p").absolute_position().x;
    assert!(first < last);

    let l = log.clone();
    ui.global::<Keyboard>().on_pick(move |i| l.borrow_mut().push(format!("pick:{i}")));
    let l = log.clone();
    ui.global::<Keyboard>().on_page(move |f| l.borrow_mut().push(format!("page:{f}")));
    show(&ui, KeyboardMode::Pinyin);
    tap(&ui, "晓明");
    tap(&ui, "下一页");
    // No previous page: the arrow is dimmed and does nothing.
    tap(&ui, "上一页");
    assert_eq!(super::take_log(&log), ["pick:1", "page:true"]);
}
