//! Renders every screen headless with sample data, writes PNGs to
//! `<target>/screens/<screen>.png`, and checks each screen's elements and
//! callbacks the way a villager would use them (by accessible label and taps).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use i_slint_backend_testing::{self as testing, ElementHandle};
use ui::testing::{control, controls, find, settle, tap, testing_backend, write_png};
use slint::platform::PointerEventButton;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use ui::{ChoiceItem, FieldKind, FormRow, KioskWindow, LookupPhase, MaterialStep, ProgressRow, ProgressTone, Rating, ReasonItem, ReviewRow, Screen, ServiceTile, ThemeChip};

#[path = "screens/keyboards.rs"]
mod keyboards;
#[path = "screens/places.rs"]
mod places;

// ---------------------------------------------------------------- setup ----


type Log = Rc<RefCell<Vec<String>>>;

fn s(text: &str) -> SharedString {
    text.into()
}

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

fn tile(code: &str, name: &str, department: &str, time_limit: &str) -> ServiceTile {
    ServiceTile {
        code: s(code),
        name: s(name),
        department: s(department),
        time_limit: s(time_limit),
        enabled: true,
        note: s(""),
    }
}

fn row(key: &str, label: &str, value: &str, kind: FieldKind, readonly: bool) -> FormRow {
    FormRow {
        key: s(key),
        label: s(label),
        value: s(value),
        kind,
        readonly,
        error: s(""),
        options: model(vec![]),
    }
}

fn choice(value: &str, label: &str) -> ChoiceItem {
    ChoiceItem {
        value: s(value),
        label: s(label),
    }
}

/// A window filled with realistic data for a visit in 东乡族自治县, with every
/// callback recorded into the returned log.
fn sample_window() -> (KioskWindow, Log) {
    testing_backend();
    let ui = KioskWindow::new().expect("window");
    ui.window().set_size(slint::PhysicalSize::new(1280, 800));

    ui.global::<ui::Frame>().set_terminal_label(s("东乡族自治县锁南镇 红星村 · 终端 GS-0001"));
    ui.global::<ui::Frame>().set_network_label(s("网络正常"));

    let mut disabled = tile(
        "620000-XZ-0006",
        "农村宅基地和建房（规划许可）申请",
        "锁南镇人民政府",
        "承诺 20 个工作日",
    );
    disabled.enabled = false;
    disabled.note = s("要扫描材料，本机扫描仪坏了");
    // The sample village's services, with the homestead item off (its scanner is broken).
    let mut services = ui::testing::sample_services();
    services.insert(5, disabled);
    ui.global::<ui::Visit>().set_services(model(services));

    ui.global::<ui::Visit>().set_item_name(s("高龄津贴申领"));
    ui.global::<ui::Visit>().set_id_message(s("请把身份证放在读卡器上"));

    let mut phone = row("phone", "联系电话", "1389", FieldKind::Phone, false);
    phone.error = s("手机号要 11 位数字，现在只有 4 位");
    let mut payout = row("payout", "领取方式", "card", FieldKind::Choice, false);
    payout.options = model(vec![
        choice("card", "社保卡"),
        choice("bank", "银行卡"),
        choice("cash", "代领"),
    ]);
    ui.global::<ui::Visit>().set_form_rows(model(vec![
        row("name", "姓名", "马玉梅", FieldKind::Text, true),
        row("gender", "性别", "女", FieldKind::Text, true),
        row("nation", "民族", "东乡族", FieldKind::Text, true),
        row(
            "id_number",
            "公民身份号码",
            "6229**********0026",
            FieldKind::Text,
            true,
        ),
        row(
            "address",
            "住址",
            "甘肃省临夏回族自治州东乡族自治县锁南镇红星村12号",
            FieldKind::Text,
            true,
        ),
        phone,
        payout,
        row("household", "家庭人口", "4", FieldKind::Digits, false),
        row("bank", "开户银行", "甘肃省农村信用社", FieldKind::Text, false),
        row("since", "在本村居住起始日期", "", FieldKind::Date, false),
    ]));

    ui.global::<ui::Visit>().set_review_rows(model(vec![
        ReviewRow {
            label: s("办理事项"),
            value: s("高龄津贴申领"),
        },
        ReviewRow {
            label: s("姓名"),
            value: s("马玉梅"),
        },
        ReviewRow {
            label: s("公民身份号码"),
            value: s("6229**********0026"),
        },
        ReviewRow {
            label: s("联系电话"),
            value: s("138****5678"),
        },
        ReviewRow {
            label: s("领取方式"),
            value: s("社保卡"),
        },
        ReviewRow {
            label: s("家庭人口"),
            value: s("4 人"),
        },
        ReviewRow {
            label: s("住址"),
            value: s("甘肃省临夏回族自治州东乡族自治县锁南镇红星村12号"),
        },
    ]));

    ui.global::<ui::Visit>().set_themes(model(vec![
        ThemeChip { id: s(""), name: s("全部"), selected: true },
        ThemeChip { id: s("social_security"), name: s("社会保障"), selected: false },
        ThemeChip { id: s("elderly"), name: s("养老服务"), selected: false },
    ]));
    let pair = |label: &str, value: &str| ReviewRow { label: s(label), value: s(value) };
    ui.global::<ui::Visit>().set_guide_rows(model(vec![
        pair("谁可以办", "具有本地户籍、年满80周岁的老年人。"),
        pair("要带的材料", "居民身份证、户口簿、本人银行卡或存折"),
        pair("多久办好", "承诺15个工作日办结"),
        pair("收费", "不收费"),
        pair("办理部门", "县民政局"),
    ]));
    ui.global::<ui::Visit>().set_consent_rows(model(vec![
        pair("要用哪些信息", "身份证上的姓名、号码、住址，和您在这里填写的内容。身份证照片不保存。"),
        pair("用来做什么", "只用来办理「高龄津贴申领」，交给县民政局。"),
        pair("保存多久", "在这台机器上加密保存，办结后 30 天删除。"),
        pair("谁能看到", "只有办理这件事的政府工作人员。"),
    ]));
    ui.global::<ui::Visit>().set_reasons(model(vec![
        ReasonItem { value: s("slow"), label: s("等的时间太长"), selected: true },
        ReasonItem { value: s("complex"), label: s("手续太麻烦"), selected: false },
    ]));
    ui.global::<ui::Visit>().set_lookup_rows(model(vec![
        ProgressRow {
            item: s("高龄津贴申领"),
            date: s("2026-11-21"),
            status: s("已保存在本机，等网络好了就发送"),
            number: s(""),
            tone: ProgressTone::Waiting,
            history: s(""),
            reply: s(""),
            parts: Default::default(),
        },
        ProgressRow {
            item: s("城乡居民医疗保险参保登记"),
            date: s("2026-10-12"),
            status: s("已经办结"),
            number: s("62292620261012000007"),
            tone: ProgressTone::Done,
            history: s("已接收 10-12 → 已受理 10-13 → 已办结 10-20"),
            reply: s("对您评价的答复：已加派人手，下次不用久等。"),
            parts: Default::default(),
        },
    ]));
    ui.global::<ui::Visit>().set_goodbye_message(s("请带好您的身份证和回执。"));
    ui.global::<ui::Frame>().set_voice_available(true);
    ui.global::<ui::Visit>().set_busy_message(s("正在保存您的申请"));
    ui.global::<ui::Visit>().set_saved_sent(true);
    ui.global::<ui::Visit>().set_saved_title(s("申请已经交上去了"));
    ui.global::<ui::Visit>().set_saved_detail(s("县民政局会在 10 个工作日内办理，结果会发短信告诉您。"));
    ui.global::<ui::Visit>().set_case_number(s("620326250114000123"));
    ui.global::<ui::Visit>().set_receipt_message(s("回执已打印，请从下面的出口取走"));
    ui.global::<ui::Visit>().set_error_message(s("保存申请时出错了，这次没有保存成功。"));
    ui.global::<ui::Visit>().set_material(MaterialStep {
        name: s("户口簿"),
        step: s("第 1 项，共 2 项"),
        hint: s("请把材料打开，面朝下放在扫描仪玻璃上，盖好盖子，再点「扫描」。"),
        required: true,
        can_scan: true,
        can_photo: true,
        ..Default::default()
    });

    let log: Log = Default::default();
    let l = log.clone();
    ui.global::<ui::Visit>().on_start(move || l.borrow_mut().push("start".into()));
    let l = log.clone();
    ui.global::<ui::Visit>().on_choose_service(move |code| l.borrow_mut().push(format!("choose-service:{code}")));
    let l = log.clone();
    ui.global::<ui::Visit>().on_back(move || l.borrow_mut().push("back".into()));
    let l = log.clone();
    ui.global::<ui::Visit>().on_cancel(move || l.borrow_mut().push("cancel".into()));
    let l = log.clone();
    ui.global::<ui::Visit>().on_field_edited(move |key, value| {
        l.borrow_mut().push(format!("field-edited:{key}={value}"))
    });
    let l = log.clone();
    ui.global::<ui::Visit>().on_submit_form(move || l.borrow_mut().push("submit-form".into()));
    let l = log.clone();
    ui.global::<ui::Visit>().on_confirm(move || l.borrow_mut().push("confirm".into()));
    let l = log.clone();
    ui.global::<ui::Visit>().on_print_receipt(move || l.borrow_mut().push("print-receipt".into()));
    let l = log.clone();
    ui.global::<ui::Visit>().on_finish(move || l.borrow_mut().push("finish".into()));
    let l = log.clone();
    ui.global::<ui::Visit>().on_demo_place_card(move || l.borrow_mut().push("demo-place-card".into()));
    macro_rules! record {
        ($($global:ident.$setter:ident => $name:literal),* $(,)?) => {$(
            let l = log.clone();
            ui.global::<ui::$global>().$setter(move || l.borrow_mut().push($name.into()));
        )*};
    }
    record!(
        Visit.on_progress => "progress", Visit.on_result => "result", Visit.on_rate => "rate",
        Visit.on_search => "search", Visit.on_start_bundles => "start-bundles",
        Visit.on_start_filing => "start-filing", Visit.on_agree => "agree", Visit.on_rate_now => "rate-now",
        Visit.on_submit_rating => "submit-rating", Visit.on_retry => "retry",
        Frame.on_toggle_large_text => "toggle-large-text", Frame.on_toggle_high_contrast => "toggle-high-contrast",
        Frame.on_toggle_voice => "toggle-voice", Frame.on_still_here => "still-here",
        Visit.on_skip_material => "skip-material", Visit.on_next_material => "next-material",
    );
    // Strings are logged as they are, enums by name (`Rating::Neutral` → `Neutral`).
    macro_rules! record_arg {
        ($($global:ident.$setter:ident => $name:literal $fmt:literal),* $(,)?) => {$(
            let l = log.clone();
            ui.global::<ui::$global>().$setter(move |arg| l.borrow_mut().push(format!($fmt, $name, arg)));
        )*};
    }
    record_arg!(
        Visit.on_choose_theme => "choose-theme" "{}:{}", Visit.on_choose_rating => "choose-rating" "{}:{:?}",
        Visit.on_toggle_reason => "toggle-reason" "{}:{}", Visit.on_lookup_code => "lookup-code" "{}:{}",
        Visit.on_search_keyboard => "search-keyboard" "{}:{}",
        Frame.on_set_language => "set-language" "{}:{}", Visit.on_capture_material => "capture-material" "{}:{:?}",
    );

    ui.show().expect("show");
    (ui, log)
}

/// Switch screen and let Slint instantiate the new screen's elements.
fn go(ui: &KioskWindow, screen: Screen) {
    ui.global::<ui::Frame>().set_screen(screen);
    settle();
}





/// Some element (text or control) shows this label; returns the first, preferring
/// elements that carry a value (label + value pairs).
fn shows(ui: &KioskWindow, label: &str) -> ElementHandle {
    let mut found: Vec<_> = find(ui, label)
        .into_iter()
        .filter(|e| e.is_valid())
        .collect();
    assert!(!found.is_empty(), "nothing on screen says {label:?}");
    found.sort_by_key(|e| {
        e.accessible_value()
            .map_or(1, |v| if v.is_empty() { 1 } else { 0 })
    });
    found.remove(0)
}


fn take_log(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.borrow_mut())
}

// ------------------------------------------------------------- snapshots ----

fn screens_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; the pictures go next to it.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Shot {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

impl Shot {
    fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        self.rgba[i..i + 4].try_into().unwrap()
    }

    /// Near-black neutral pixels (body text is #1B1B1B) in a band of rows:
    /// if the CJK font were missing, text would be invisible and this ~0.
    fn ink_pixels(&self, y0: u32, y1: u32) -> usize {
        let mut n = 0;
        for y in y0..y1.min(self.height) {
            for x in 0..self.width {
                let [r, g, b, _] = self.pixel(x, y);
                let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
                if hi < 70 && hi - lo < 20 {
                    n += 1;
                }
            }
        }
        n
    }

    /// How many pixels are close to the given colour.
    fn count_colour(&self, rgb: [u8; 3]) -> usize {
        self.rgba
            .chunks_exact(4)
            .filter(|p| (0..3).all(|c| (p[c] as i32 - rgb[c] as i32).abs() <= 6))
            .count()
    }
}

/// Render the window into pixels.
fn render(ui: &KioskWindow, name: &str) -> Shot {
    settle();
    let buffer = ui.window().take_snapshot().expect("snapshot");
    let (width, height) = (buffer.width(), buffer.height());
    assert_eq!((width, height), (1280, 800), "{name}: window size");
    let shot = Shot {
        width,
        height,
        rgba: buffer.as_bytes().to_vec(),
    };
    // Header/footer excluded: the text of the screen itself must be visible.
    let ink = shot.ink_pixels(100, 745);
    assert!(
        ink > 1500,
        "{name}: only {ink} text-coloured pixels, is the CJK font missing?"
    );
    shot
}

/// Render the window, write `<target>/screens/<name>.png`, return the pixels.
fn snapshot(ui: &KioskWindow, name: &str) -> Shot {
    let shot = render(ui, name);
    let path = screens_dir().join(format!("{name}.png"));
    let buffer = slint::SharedPixelBuffer::<slint::Rgba8Pixel>::clone_from_slice(&shot.rgba, shot.width, shot.height);
    write_png(&path, &buffer).unwrap();
    shot
}

// ----------------------------------------------------------------- tests ----

#[test]
fn home() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Home);
    snapshot(&ui, "home");

    shows(&ui, "村办 · 政务服务");
    assert_eq!(ui.global::<ui::Theme>().get_font_family(), ui::FONT_FAMILY);
    let start = control(&ui, "我要办事");
    assert_eq!(start.accessible_role(), Some(testing::AccessibleRole::Button));
    // Still the biggest by far with 一件事一次办 and 搜索 under it.
    assert!(start.size().width >= 600.0 && start.size().height >= 240.0, "我要办事 is huge: {:?}", start.size());
    // 搜索: big, with its icon and word, under 一件事一次办.
    for tile in ["搜索", "一件事一次办"] {
        assert!(control(&ui, tile).size().width >= 600.0, "{tile} is wide");
    }
    for tile in ["查进度", "打印结果", "评价"] {
        assert!(control(&ui, tile).size().height >= 100.0, "{tile} is big");
    }
    for (tile, event) in [("搜索", "search"), ("一件事一次办", "start-bundles"), ("查进度", "progress"), ("打印结果", "result"), ("评价", "rate")] {
        let t = control(&ui, tile);
        assert!(t.size().height >= 72.0, "{tile} is big: {:?}", t.size());
        tap(&ui, tile);
        assert_eq!(take_log(&log), [event]);
    }
    assert_eq!(controls(&ui, "回首页").len(), 0, "no 回首页 on home");

    tap(&ui, "我要办事");
    assert_eq!(take_log(&log), ["start"]);
}

/// Language, large text, high contrast and reading aloud are one tap away on
/// every screen, each a big button that says whether it is on.
#[test]
fn settings_bar_on_every_screen() {
    let (ui, log) = sample_window();
    for screen in ui::VISIT_SCREENS {
        go(&ui, screen);
        for label in ["中文", "བོད་ཡིག", "قازاقشا", "English", "大字", "高对比", "朗读"] {
            let b = control(&ui, label);
            assert!(b.size().width >= 60.0 && b.size().height >= 60.0, "{screen:?}: {label} {:?}", b.size());
        }
    }
    go(&ui, Screen::Home);
    assert_eq!(control(&ui, "中文").accessible_checked(), Some(true));
    assert_eq!(control(&ui, "English").accessible_checked(), Some(false));
    assert_eq!(control(&ui, "中文").accessible_role(), Some(testing::AccessibleRole::RadioButton));
    for label in ["བོད་ཡིག", "قازاقشا", "大字", "高对比", "朗读"] {
        tap(&ui, label);
    }
    assert_eq!(
        take_log(&log),
        ["set-language:bo", "set-language:kk", "toggle-large-text", "toggle-high-contrast", "toggle-voice"]
    );

    // On: filled, ✓ and announced as checked.
    ui.global::<ui::Theme>().set_large_text(true);
    ui.global::<ui::Frame>().set_voice_on(true);
    settle();
    assert_eq!(control(&ui, "大字").accessible_checked(), Some(true));
    assert_eq!(control(&ui, "朗读").accessible_checked(), Some(true));
    assert_eq!(control(&ui, "高对比").accessible_checked(), Some(false));

    // No voice for the language: the button says so.
    ui.global::<ui::Frame>().set_voice_available(false);
    settle();
    assert_eq!(controls(&ui, "朗读").len(), 0);
    assert_eq!(control(&ui, "这种语言没有语音").accessible_checked(), Some(false));
}

/// Large text makes the words bigger; high contrast turns the page black
/// with white words. Both re-lay the screen, nothing else changes.
#[test]
fn large_text_and_high_contrast() {
    let (ui, _log) = sample_window();
    go(&ui, Screen::Home);
    let normal = control(&ui, "查进度").size();
    let theme = ui.global::<ui::Theme>();
    assert_eq!(theme.get_font_body(), 24.0);
    theme.set_large_text(true);
    settle();
    assert_eq!(theme.get_font_body(), 30.0);
    snapshot(&ui, "home-large");
    let large = control(&ui, "查进度").size();
    assert!((large.height - normal.height).abs() < 20.0, "tiles stay big and in place: {normal:?} {large:?}");

    theme.set_large_text(false);
    theme.set_high_contrast(true);
    settle();
    let shot = snapshot(&ui, "home-contrast");
    assert_eq!(shot.pixel(300, 380)[..3], [0xFF, 0xE1, 0x4D], "the big tile is yellow");
    assert_eq!(shot.pixel(5, 150)[..3], [0, 0, 0], "the page is black");
}

/// Switching language re-words every @tr text at once, from the bundled .po
/// files, and picks the script's font; Kazakh also mirrors the layout.
#[test]
fn languages_switch_live_and_kazakh_is_mirrored() {
    let (ui, _log) = sample_window();
    go(&ui, Screen::Review);
    let back = control(&ui, "返回修改").absolute_position().x;
    let next = control(&ui, "确认提交").absolute_position().x;
    assert!(back < next, "返回修改 is left of 确认提交 in Chinese");

    ui::set_language(&ui, "en");
    settle();
    snapshot(&ui, "review-en");
    assert_eq!(controls(&ui, "确认提交").len(), 0);
    control(&ui, "Confirm and submit");
    control(&ui, "Home");

    ui::set_language(&ui, "bo");
    settle();
    snapshot(&ui, "review-bo");
    assert_eq!(ui.global::<ui::Theme>().get_font_family(), "DDC Uchen");
    control(&ui, &ui::i18n::tr("bo", "确认提交"));

    ui::set_language(&ui, "kk");
    settle();
    snapshot(&ui, "review-kk");
    assert!(ui.global::<ui::Theme>().get_rtl());
    let back = control(&ui, &ui::i18n::tr("kk", "返回修改")).absolute_position().x;
    let next = control(&ui, &ui::i18n::tr("kk", "确认提交")).absolute_position().x;
    assert!(back > next, "right to left: the way back is on the right");

    ui::set_language(&ui, "zh-CN");
    settle();
    control(&ui, "确认提交");
    assert!(!ui.global::<ui::Theme>().get_rtl());
}

/// Every @tr text of the screens has a translation in every language (the
/// drafts may be wrong, but a screen never falls back to Chinese unnoticed).
#[test]
fn every_screen_text_is_translated() {
    let mut missing = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut files = vec![];
    for entry in std::fs::read_dir(&dir).unwrap().chain(std::fs::read_dir(dir.join("screens")).unwrap()) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "slint") {
            files.push(path);
        }
    }
    assert!(files.len() > 15);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for piece in text.split("@tr(\"").skip(1) {
            let id = &piece[..piece.find('"').unwrap()];
            for lang in ["bo", "kk", "en"] {
                if ui::i18n::lookup(lang, id).is_none() {
                    missing.push(format!("{lang}: {id}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "untranslated: {missing:#?}");
}

#[test]
fn home_with_banner_and_offline() {
    let (ui, _log) = sample_window();
    ui.global::<ui::Frame>().set_banner(s(
        "事项目录三天没有更新了，部分事项可能有变化，请向工作人员确认",
    ));
    ui.global::<ui::Frame>().set_network_label(s("离线：申请会先保存在本机"));
    go(&ui, Screen::Home);
    let shot = snapshot(&ui, "home-banner-offline");
    shows(
        &ui,
        "事项目录三天没有更新了，部分事项可能有变化，请向工作人员确认",
    );
    shows(
        &ui,
        "东乡族自治县锁南镇 红星村 · 终端 GS-0001，离线：申请会先保存在本机",
    );
    // The banner is the warm notice colour across the top.
    assert_eq!(shot.pixel(640, 4)[..3], [0xFF, 0xF1, 0xD6]);
}

#[test]
fn services() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Services);
    snapshot(&ui, "services");

    shows(&ui, "请选择要办的事");
    let tile = control(&ui, "高龄津贴申领");
    assert_eq!(tile.accessible_enabled(), Some(true));
    assert_eq!(
        tile.accessible_description().as_deref(),
        Some("县民政局，承诺 10 个工作日")
    );
    assert!(
        tile.size().height >= 96.0,
        "tiles are big: {:?}",
        tile.size()
    );

    tap(&ui, "高龄津贴申领");
    assert_eq!(take_log(&log), ["choose-service:620000-MZ-0003"]);

    // Seven services: four to a page (two lines of name fit every tile), so
    // two pages, turned with big buttons.
    assert_eq!(control(&ui, "上一页").accessible_enabled(), Some(false));
    tap(&ui, "下一页");
    snapshot(&ui, "services-page-2");
    assert_eq!(control(&ui, "下一页").accessible_enabled(), Some(false));
    shows(&ui, "第 2 页，共 2 页");

    let closed = control(&ui, "农村宅基地和建房（规划许可）申请");
    assert_eq!(closed.accessible_enabled(), Some(false));
    assert_eq!(
        closed.accessible_description().as_deref(),
        Some("要扫描材料，本机扫描仪坏了")
    );
    closed.mock_single_click(PointerEventButton::Left);
    assert!(take_log(&log).is_empty(), "a disabled tile does nothing");

    tap(&ui, "生育登记");
    assert_eq!(take_log(&log), ["choose-service:620000-WJ-0007"]);

    tap(&ui, "返回");
    tap(&ui, "回首页");
    assert_eq!(take_log(&log), ["back", "cancel"]);

    // Themes filter the list; the chosen one is filled and checked.
    assert_eq!(control(&ui, "全部").accessible_checked(), Some(true));
    tap(&ui, "养老服务");
    assert_eq!(take_log(&log), ["choose-theme:elderly"]);
}

#[test]
fn id_prompt() {
    let (ui, log) = sample_window();
    ui.global::<ui::Visit>().set_demo_mode(true);
    go(&ui, Screen::IdPrompt);
    snapshot(&ui, "id-prompt");

    shows(&ui, "高龄津贴申领");
    shows(&ui, "请放身份证：请把身份证放在读卡器上");
    control(&ui, "把身份证放在读卡器上的示意图");
    tap(&ui, "模拟放置身份证");
    tap(&ui, "返回");
    tap(&ui, "回首页");
    assert_eq!(take_log(&log), ["demo-place-card", "back", "cancel"]);

    // Not in demo mode: no simulate button.
    ui.global::<ui::Visit>().set_demo_mode(false);
    settle();
    assert_eq!(controls(&ui, "模拟放置身份证").len(), 0);

    // An error is said in words with a warning icon, not only in red.
    ui.global::<ui::Visit>().set_id_error(true);
    ui.global::<ui::Visit>().set_id_message(s("这张身份证已过期（2020-01-01），请换一张有效证件"));
    settle();
    let shot = snapshot(&ui, "id-prompt-error");
    shows(
        &ui,
        "出错了：这张身份证已过期（2020-01-01），请换一张有效证件",
    );
    assert!(
        shot.count_colour([0xA8, 0x20, 0x1A]) > 500,
        "error outline and icon are drawn"
    );
}

#[test]
fn form() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Form);
    snapshot(&ui, "form");

    // Read-only values from the ID card.
    let name = shows(&ui, "姓名");
    assert_eq!(name.accessible_value().as_deref(), Some("马玉梅"));
    assert_eq!(name.accessible_read_only(), Some(true));
    shows(&ui, "来自身份证");

    // The fields to fill in are further down: Slint only builds what has
    // been on screen, so scroll with the big button first.
    tap(&ui, "向下");
    tap(&ui, "向下");
    snapshot(&ui, "form-fill");
    // The row problem is written out.
    shows(&ui, "手机号要 11 位数字，现在只有 4 位");

    // Numbers are typed on the big keypad.
    let phone = control(&ui, "联系电话");
    assert_eq!(
        phone.accessible_role(),
        Some(testing::AccessibleRole::Button)
    );
    assert_eq!(phone.accessible_value().as_deref(), Some("1389"));
    tap(&ui, "联系电话");
    for key in ["2", "7", "删除", "5", "6"] {
        tap(&ui, key);
    }
    let keypad_shot = snapshot(&ui, "form-keypad");
    assert!(
        keypad_shot.count_colour([0x1B, 0x6B, 0x35]) > 2000,
        "the green 完成 key is drawn"
    );
    for key in [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "删除", "完成",
    ] {
        let k = control(&ui, key);
        assert!(
            k.size().width >= 60.0 && k.size().height >= 60.0,
            "key {key} is big: {:?}",
            k.size()
        );
    }
    assert!(take_log(&log).is_empty(), "nothing is sent before 完成");
    tap(&ui, "完成");
    assert_eq!(take_log(&log), ["field-edited:phone=1389256"]);
    assert_eq!(controls(&ui, "完成").len(), 0, "keypad closed");

    // 删除 on a value that was already there clears it.
    tap(&ui, "联系电话");
    tap(&ui, "删除");
    tap(&ui, "9");
    tap(&ui, "完成");
    assert_eq!(take_log(&log), ["field-edited:phone=9"]);

    snapshot(&ui, "form-choices");
    // Choices are toggle buttons; the current one is checked.
    assert_eq!(control(&ui, "社保卡").accessible_checked(), Some(true));
    assert_eq!(control(&ui, "银行卡").accessible_checked(), Some(false));
    tap(&ui, "银行卡");
    assert_eq!(take_log(&log), ["field-edited:payout=bank"]);

    tap(&ui, "下一步");
    tap(&ui, "返回");
    assert_eq!(take_log(&log), ["submit-form", "back"]);
}

#[test]
fn form_scrolls_with_buttons() {
    let (ui, _log) = sample_window();
    go(&ui, Screen::Form);
    let down = control(&ui, "向下");
    assert_eq!(control(&ui, "向上").accessible_enabled(), Some(false));
    assert_eq!(down.accessible_enabled(), Some(true));
    for _ in 0..10 {
        tap(&ui, "向下");
    }
    snapshot(&ui, "form-scrolled");
    assert_eq!(
        control(&ui, "向下").accessible_enabled(),
        Some(false),
        "reached the end"
    );
    assert_eq!(control(&ui, "向上").accessible_enabled(), Some(true));
    shows(&ui, "在本村居住起始日期");
}

#[test]
fn review() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Review);
    snapshot(&ui, "review");

    assert_eq!(
        shows(&ui, "联系电话").accessible_value().as_deref(),
        Some("138****5678")
    );
    tap(&ui, "返回修改");
    tap(&ui, "确认提交");
    assert_eq!(take_log(&log), ["back", "confirm"]);
}

#[test]
fn submitting() {
    let (ui, _log) = sample_window();
    go(&ui, Screen::Submitting);
    snapshot(&ui, "submitting");

    shows(&ui, "正在保存您的申请");
    assert_eq!(
        control(&ui, "正在处理").accessible_role(),
        Some(testing::AccessibleRole::ProgressIndicator)
    );
    assert_eq!(controls(&ui, "回首页").len(), 0, "no way out while saving");
}

#[test]
fn saved_sent_and_waiting() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Saved);
    let sent = snapshot(&ui, "saved");
    shows(&ui, "已发送");
    assert_eq!(
        shows(&ui, "办件编号（请记下或打印回执）")
            .accessible_value()
            .as_deref(),
        Some("620326250114000123")
    );
    assert!(
        sent.count_colour([0x1B, 0x6B, 0x35]) > 3000,
        "green ✓ badge"
    );

    tap(&ui, "打印回执");
    tap(&ui, "完成");
    assert_eq!(take_log(&log), ["print-receipt", "finish"]);

    ui.global::<ui::Visit>().set_saved_sent(false);
    ui.global::<ui::Visit>().set_saved_title(s("申请已经保存在这台机器上"));
    ui.global::<ui::Visit>().set_saved_detail(s("现在没有网络。网络恢复后会自动交上去，您不用再来。"));
    ui.global::<ui::Visit>().set_case_number(s("GS0001-7KQ4-2M9X"));
    ui.global::<ui::Frame>().set_network_label(s("离线：申请会先保存在本机"));
    settle();
    let waiting = snapshot(&ui, "saved-offline");
    shows(&ui, "已保存，等待发送");
    assert_eq!(
        shows(&ui, "查询码（请记下或打印回执）")
            .accessible_value()
            .as_deref(),
        Some("GS0001-7KQ4-2M9X")
    );
    assert!(
        waiting.count_colour([0x1B, 0x6B, 0x35]) < 100,
        "no green ✓ when not sent"
    );
    assert!(
        waiting.count_colour([0x9A, 0x5B, 0x00]) > 3000,
        "clock badge instead"
    );
}

#[test]
fn receipt() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Receipt);
    snapshot(&ui, "receipt");
    shows(&ui, "回执已打印，请从下面的出口取走");
    assert_eq!(
        shows(&ui, "您的号码").accessible_value().as_deref(),
        Some("620326250114000123")
    );
    tap(&ui, "完成");
    assert_eq!(take_log(&log), ["finish"]);
}

#[test]
fn error() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Error);
    snapshot(&ui, "error");
    shows(&ui, "出了点问题");
    tap(&ui, "回首页");
    assert_eq!(take_log(&log), ["finish"]);
}

#[test]
fn every_screen_renders() {
    let (ui, _log) = sample_window();
    for screen in ui::VISIT_SCREENS {
        go(&ui, screen);
        let shot = render(&ui, &ui::screen_name(screen));
        // The footer with the terminal's place is on every screen.
        shows(&ui, "东乡族自治县锁南镇 红星村 · 终端 GS-0001，网络正常");
        assert_eq!(
            shot.pixel(2, 798)[..3],
            [0x1F, 0x2C, 0x3A],
            "{screen:?}: footer"
        );
        let home_buttons = controls(&ui, "回首页").len();
        let expected = usize::from(!matches!(screen, Screen::Home | Screen::Submitting));
        assert_eq!(home_buttons, expected, "{screen:?}: 回首页 buttons");
    }
}

/// Long names and sentences wrap inside their boxes instead of running off.
#[test]
fn long_texts() {
    let (ui, _log) = sample_window();
    ui.global::<ui::Frame>().set_banner(s("事项目录已经十五天没有更新了，部分事项的办理条件可能已经变化，提交前请向村里的代办员或者乡镇便民服务中心的工作人员确认"));
    let mut closed = tile(
        "X-2",
        "残疾人两项补贴（困难残疾人生活补贴和重度残疾人护理补贴）申请",
        "县残疾人联合会",
        "承诺 15 个工作日",
    );
    closed.enabled = false;
    closed.note = s("这个事项需要拍照上传残疾证，本机的摄像头现在不能用，请到乡镇便民服务中心办理");
    ui.global::<ui::Visit>().set_services(model(vec![
        tile(
            "X-1",
            "城乡居民基本养老保险待遇领取资格认证及暂停恢复发放申请",
            "县人力资源和社会保障局城乡居民养老保险经办中心",
            "法定 20 个工作日，承诺 5 个工作日",
        ),
        closed,
        tile("X-3", "低保", "县民政局", "承诺 20 个工作日"),
    ]));
    go(&ui, Screen::Services);
    snapshot(&ui, "long-services");

    ui.global::<ui::Visit>().set_saved_sent(false);
    ui.global::<ui::Visit>().set_saved_title(s("申请已经保存在这台机器上，网络恢复后会自动交上去"));
    ui.global::<ui::Visit>().set_saved_detail(s("现在没有网络。网络恢复后会自动交上去，您不用再来。县民政局收到后会在 10 个工作日内办理，结果会发短信告诉您，也可以拿回执到村委会查询。"));
    go(&ui, Screen::Saved);
    snapshot(&ui, "long-saved");
    control(&ui, "打印回执");
}

#[test]
fn guide_then_consent() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Guide);
    snapshot(&ui, "guide");
    shows(&ui, "高龄津贴申领");
    assert_eq!(shows(&ui, "要带的材料").accessible_value().as_deref(), Some("居民身份证、户口簿、本人银行卡或存折"));
    assert_eq!(shows(&ui, "收费").accessible_value().as_deref(), Some("不收费"));
    tap(&ui, "返回");
    tap(&ui, "开始办理");
    assert_eq!(take_log(&log), ["back", "start-filing"]);

    go(&ui, Screen::Consent);
    snapshot(&ui, "consent");
    for label in ["要用哪些信息", "用来做什么", "保存多久", "谁能看到"] {
        assert!(!shows(&ui, label).accessible_value().unwrap_or_default().is_empty(), "{label}");
    }
    tap(&ui, "不同意");
    tap(&ui, "同意，继续");
    assert_eq!(take_log(&log), ["cancel", "agree"]);
}

/// Materials: scan or photograph, a preview once captured, retake, 跳过 only
/// for optional ones, 下一步 only when done; buttons wait while the scanner works.
#[test]
fn materials_scan_preview_retake_and_skip() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Materials);
    snapshot(&ui, "materials");
    shows(&ui, "户口簿");
    assert_eq!(controls(&ui, "下一步").len(), 0, "nothing captured yet");
    assert_eq!(controls(&ui, "跳过").len(), 0, "a required material");
    tap(&ui, "扫描");
    tap(&ui, "拍照");
    assert_eq!(take_log(&log), ["capture-material:Scan", "capture-material:Photo"]);

    // While scanning the buttons wait.
    let mut m = ui.global::<ui::Visit>().get_material();
    m.busy = true;
    m.busy_message = s("正在扫描，请不要打开盖子…");
    ui.global::<ui::Visit>().set_material(m.clone());
    settle();
    tap(&ui, "扫描");
    assert!(take_log(&log).is_empty(), "no second scan while one runs");

    // Captured: a preview, 重新扫描, 下一步.
    let page = slint::SharedPixelBuffer::<slint::Rgba8Pixel>::new(300, 400);
    m.busy = false;
    m.has_preview = true;
    m.preview = slint::Image::from_rgba8(page);
    m.captured = s("已扫描 1 页");
    m.captured_by_scan = true;
    m.can_next = true;
    ui.global::<ui::Visit>().set_material(m.clone());
    settle();
    snapshot(&ui, "materials-scanned");
    assert_eq!(find(&ui, "扫描或拍照的结果").len(), 1, "the preview is shown");
    tap(&ui, "重新扫描");
    tap(&ui, "下一步");
    assert_eq!(take_log(&log), ["capture-material:Scan", "next-material"]);

    // Optional and not captured: 跳过.
    m = MaterialStep {
        name: s("医疗费用票据"),
        step: s("第 2 项，共 2 项"),
        required: false,
        can_skip: true,
        can_scan: true,
        ..Default::default()
    };
    ui.global::<ui::Visit>().set_material(m);
    settle();
    shows(&ui, "第 2 项，共 2 项 · 没有也可以");
    tap(&ui, "跳过");
    tap(&ui, "返回");
    assert_eq!(take_log(&log), ["skip-material", "back"]);
}

#[test]
fn rating_faces_words_and_reasons() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Rate);
    // Nothing chosen yet: no reasons, and 提交评价 waits for a face.
    assert_eq!(control(&ui, "提交评价").accessible_enabled(), Some(false));
    assert_eq!(controls(&ui, "等的时间太长").len(), 0);
    for (face, level) in [
        ("非常满意", Rating::VerySatisfied),
        ("满意", Rating::Satisfied),
        ("基本满意", Rating::Neutral),
        ("不满意", Rating::Dissatisfied),
        ("非常不满意", Rating::VeryDissatisfied),
    ] {
        let f = control(&ui, face);
        assert!(f.size().width >= 150.0 && f.size().height >= 150.0, "{face} is a big face: {:?}", f.size());
        tap(&ui, face);
        assert_eq!(take_log(&log), [format!("choose-rating:{level:?}")]);
    }
    ui.global::<ui::Visit>().set_rating(Rating::Dissatisfied);
    settle();
    let shot = snapshot(&ui, "rate");
    assert_eq!(control(&ui, "不满意").accessible_checked(), Some(true));
    assert_eq!(control(&ui, "满意").accessible_checked(), Some(false));
    assert!(shot.count_colour([0xA8, 0x20, 0x1A]) > 5000, "the chosen bad face is filled");
    assert_eq!(control(&ui, "等的时间太长").accessible_checked(), Some(true));
    tap(&ui, "手续太麻烦");
    tap(&ui, "提交评价");
    tap(&ui, "不评了");
    assert_eq!(take_log(&log), ["toggle-reason:complex", "submit-rating", "back"]);
}

#[test]
fn progress_lookup_asks_waits_and_shows() {
    let (ui, log) = sample_window();
    ui.global::<ui::Visit>().set_demo_mode(true);
    go(&ui, Screen::Progress);
    snapshot(&ui, "progress");
    shows(&ui, "扫回执上的二维码");
    shows(&ui, "放身份证");
    tap(&ui, "模拟放置身份证");
    assert_eq!(take_log(&log), ["demo-place-card"]);
    // The receipt number on the keypad.
    tap(&ui, "输入号码");
    for d in "6229".chars() {
        tap(&ui, &d.to_string());
    }
    tap(&ui, "完成");
    assert_eq!(take_log(&log), ["lookup-code:6229"]);

    ui.global::<ui::Visit>().set_lookup_phase(LookupPhase::Looking);
    settle();
    snapshot(&ui, "progress-looking");
    shows(&ui, "正在查询，请稍等…");
    assert_eq!(control(&ui, "正在处理").accessible_role(), Some(testing::AccessibleRole::ProgressIndicator));

    ui.global::<ui::Visit>().set_lookup_phase(LookupPhase::Found);
    ui.global::<ui::Visit>().set_lookup_message(s("查到 2 件："));
    settle();
    snapshot(&ui, "progress-found");
    assert_eq!(shows(&ui, "城乡居民医疗保险参保登记").accessible_value().as_deref(), Some("已经办结"));
    tap(&ui, "再查一次");
    tap(&ui, "完成");
    assert_eq!(take_log(&log), ["retry", "finish"]);
}

#[test]
fn goodbye_goes_home_by_itself() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Goodbye);
    snapshot(&ui, "goodbye");
    shows(&ui, "请带好您的身份证和回执。");
    assert!(take_log(&log).is_empty());
    testing::mock_elapsed_time(Duration::from_secs(21));
    assert_eq!(take_log(&log), ["finish"], "after a while it goes home by itself");
    tap(&ui, "回首页");
    assert_eq!(take_log(&log), ["finish"]);
}

#[test]
fn idle_warning_covers_the_screen_with_a_big_continue() {
    let (ui, log) = sample_window();
    go(&ui, Screen::Form);
    ui.global::<ui::Frame>().set_idle_seconds(17);
    settle();
    let shot = snapshot(&ui, "idle-warning");
    shows(&ui, "您还在吗？");
    assert_eq!(shows(&ui, "剩余秒数").accessible_value().as_deref(), Some("17"));
    let go_on = control(&ui, "继续");
    assert!(go_on.size().width >= 400.0 && go_on.size().height >= 110.0, "继续 is huge: {:?}", go_on.size());
    assert!(shot.count_colour([0x1B, 0x6B, 0x35]) > 20_000, "the green 继续");
    // Taps elsewhere do not reach the form under the warning.
    control(&ui, "下一步").mock_single_click(PointerEventButton::Left);
    settle();
    assert!(take_log(&log).is_empty());
    tap(&ui, "继续");
    assert_eq!(take_log(&log), ["still-here"]);
}

/// Separation (issue 7): no villager screen offers a way into assisted mode
/// (no login field, no operator button, no signature pad), while the
/// assisted screens carry exactly those controls.
#[test]
fn villager_screens_have_no_way_into_assisted_mode() {
    let (ui, log) = sample_window();
    let operator_labels = ["帮办员登录", "工号", "密码", "登录", "签名框", "新办件", "退出登录", "换村"];
    for screen in ui::VISIT_SCREENS {
        go(&ui, screen);
        for label in operator_labels {
            assert!(find(&ui, label).into_iter().all(|e| !e.is_valid()), "{screen:?} shows {label:?}");
        }
    }
    go(&ui, Screen::OperatorLogin);
    snapshot(&ui, "operator-login");
    for label in ["工号", "密码", "登录"] {
        control(&ui, label);
    }
    // 登录 stays off until a staff number and six digits are typed.
    tap(&ui, "7");
    assert_eq!(ui.global::<ui::Assisted>().get_login_staff(), "7");
    tap(&ui, "密码");
    for d in ["1", "2", "3", "4", "5", "6"] {
        tap(&ui, d);
    }
    assert_eq!(ui.global::<ui::Assisted>().get_login_pin(), "123456");
    assert!(take_log(&log).is_empty(), "typing reaches nothing outside the screen");
    go(&ui, Screen::Signature);
    snapshot(&ui, "signature");
    control(&ui, "签名框");
    control(&ui, "确认签名并提交");
    go(&ui, Screen::TripSummary);
    control(&ui, "新办件");
    control(&ui, "退出登录");
    go(&ui, Screen::Trip);
    control(&ui, "退出登录");
}

/// Kazakh runs right to left, where Slint 1.18 does not elide: a service
/// tile's office line too long for the tile must still end in "…" at its
/// reading end (the left) and stay in its column, at normal and large
/// text. The strip between the column and the chevron is bare tile along
/// the office line (it used to carry the spilled line, cut at the tile's
/// edge with no "…"); `<target>/screens/services-kk*.png` to look at.
#[test]
fn kazakh_office_lines_end_in_an_ellipsis_at_the_reading_end() {
    let (ui, _log) = sample_window();
    ui::set_language(&ui, "kk");
    let office = "اۋداندىق ادام رەسۋرستارى جانە الەۋمەتتىك قامسىزداندىرۋ مەكەمەسى";
    let short = "اۋداندىق مەكەمە";
    ui.global::<ui::Visit>().set_services(model(vec![
        tile("1", "زەينەتاقى الۋ قۇقىعىن راستاۋ", office, "10 جۇمىس كۇنى ىشىندە بىتەدى"),
        tile("2", "تۋۋ تىركەۋ", short, ""),
    ]));
    go(&ui, Screen::Services);
    for large in [false, true] {
        ui.global::<ui::Theme>().set_large_text(large);
        let name = if large { "services-kk-large" } else { "services-kk" };
        let shot = snapshot(&ui, name);
        let at = |e: &ElementHandle| (e.absolute_position(), e.size());
        let (tile_at, tile_size) = at(&control(&ui, "زەينەتاقى الۋ قۇقىعىن راستاۋ"));
        let in_tile = |e: &ElementHandle| {
            let (p, _) = at(e);
            p.x >= tile_at.x - 0.5 && p.x <= tile_at.x + tile_size.width && p.y >= tile_at.y - 0.5 && p.y <= tile_at.y + tile_size.height
        };
        let texts = |label: &str| find(&ui, label).into_iter().filter(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Text) && in_tile(e)).collect::<Vec<_>>();
        let (name_at, _) = at(&texts("زەينەتاقى الۋ قۇقىعىن راستاۋ")[0]);
        let line = texts(&format!("{office}  ·  10 جۇمىس كۇنى ىشىندە بىتەدى"));
        assert_eq!(line.len(), 1, "{name}: the office line");
        let (line_at, line_size) = at(&line[0]);
        assert_eq!(line[0].accessible_description().as_deref(), Some("text-elided"), "{name}");
        let dots = texts("…");
        assert_eq!(dots.len(), 1, "{name}: one \"…\" in the tile");
        let (dots_at, dots_size) = at(&dots[0]);
        assert!(dots_at.x + dots_size.width <= line_at.x + 1.0 && dots_at.x >= name_at.x - 1.0, "{name}: \"…\" at the column's left end: {dots_at:?} {line_at:?} {name_at:?}");
        let bare = shot.pixel((name_at.x - 7.0) as u32, (tile_at.y + 6.0) as u32);
        for x in (name_at.x - 13.0) as u32..(name_at.x - 1.0) as u32 {
            for y in (line_at.y + 1.0) as u32..(line_at.y + line_size.height - 1.0) as u32 {
                let p = shot.pixel(x, y);
                let off: i32 = (0..3).map(|c| (p[c] as i32 - bare[c] as i32).abs()).sum();
                assert!(off <= 24, "{name}: the office line is drawn outside its column at {x},{y}");
            }
        }
        // A line that fits has no "…".
        let short_line = find(&ui, short).into_iter().find(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Text)).expect("the short office line");
        assert_ne!(short_line.accessible_description().as_deref(), Some("text-elided"), "{name}");
    }
    ui.global::<ui::Theme>().set_large_text(false);
    ui::set_language(&ui, "zh-CN");
}
