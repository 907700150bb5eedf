//! Renders every screen headless with sample data, writes PNGs to
//! `<target>/screens/<screen>.png`, and checks each screen's elements and
//! callbacks the way a villager would use them (by accessible label and taps).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use i_slint_backend_testing::{self as testing, ElementHandle};
use slint::platform::PointerEventButton;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use ui::{ChoiceItem, FormRow, KioskWindow, ReviewRow, ServiceTile};

// ---------------------------------------------------------------- setup ----

/// The testing backend with a real (software) rasterizer, so `take_snapshot`
/// draws actual glyphs from the system's Noto Sans CJK. Each test thread has
/// its own Slint context; with `--test-threads=1` the platform is already set.
fn init() {
    let _ = slint::platform::set_platform(Box::new(testing::TestingBackend::new(
        testing::TestingBackendOptions {
            mock_time: true,
            threading: false,
            renderer_name: Some("software".into()),
        },
    )));
}

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

fn row(key: &str, label: &str, value: &str, kind: &str, readonly: bool) -> FormRow {
    FormRow {
        key: s(key),
        label: s(label),
        value: s(value),
        kind: s(kind),
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
    init();
    let ui = KioskWindow::new().expect("window");
    ui.window().set_size(slint::PhysicalSize::new(1280, 800));

    ui.set_terminal_label(s("东乡族自治县锁南镇 红星村 · 终端 GS-0001"));
    ui.set_network_label(s("网络正常"));

    let mut disabled = tile(
        "620000-XZ-0006",
        "农村宅基地和建房（规划许可）申请",
        "锁南镇人民政府",
        "承诺 20 个工作日",
    );
    disabled.enabled = false;
    disabled.note = s("要扫描材料，本机扫描仪坏了");
    ui.set_services(model(vec![
        tile(
            "620000-RS-0001",
            "城乡居民基本养老保险参保登记",
            "县人力资源和社会保障局",
            "承诺 即时办结",
        ),
        tile(
            "620000-YB-0002",
            "城乡居民医疗保险参保登记",
            "县医疗保障局",
            "承诺 1 个工作日",
        ),
        tile(
            "620000-MZ-0003",
            "高龄津贴申领",
            "县民政局",
            "承诺 10 个工作日",
        ),
        tile(
            "620000-MZ-0004",
            "最低生活保障申请",
            "县民政局",
            "承诺 20 个工作日",
        ),
        tile(
            "620000-CL-0005",
            "残疾人两项补贴申请",
            "县残疾人联合会",
            "承诺 15 个工作日",
        ),
        disabled,
        tile(
            "620000-WJ-0007",
            "生育登记",
            "县卫生健康局",
            "承诺 即时办结",
        ),
    ]));

    ui.set_item_name(s("高龄津贴申领"));
    ui.set_id_message(s("请把身份证放在读卡器上"));

    let mut phone = row("phone", "联系电话", "1389", "phone", false);
    phone.error = s("手机号要 11 位数字，现在只有 4 位");
    let mut payout = row("payout", "领取方式", "card", "choice", false);
    payout.options = model(vec![
        choice("card", "社保卡"),
        choice("bank", "银行卡"),
        choice("cash", "代领"),
    ]);
    ui.set_form_rows(model(vec![
        row("name", "姓名", "马玉梅", "text", true),
        row("gender", "性别", "女", "text", true),
        row("nation", "民族", "东乡族", "text", true),
        row(
            "id_number",
            "公民身份号码",
            "6229**********0026",
            "text",
            true,
        ),
        row(
            "address",
            "住址",
            "甘肃省临夏回族自治州东乡族自治县锁南镇红星村12号",
            "text",
            true,
        ),
        phone,
        payout,
        row("household", "家庭人口", "4", "digits", false),
        row("bank", "开户银行", "甘肃省农村信用社", "text", false),
        row("since", "在本村居住起始日期", "", "date", false),
    ]));

    ui.set_review_rows(model(vec![
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

    ui.set_busy_message(s("正在保存您的申请"));
    ui.set_saved_sent(true);
    ui.set_saved_title(s("申请已经交上去了"));
    ui.set_saved_detail(s("县民政局会在 10 个工作日内办理，结果会发短信告诉您。"));
    ui.set_case_number(s("620326250114000123"));
    ui.set_receipt_message(s("回执已打印，请从下面的出口取走"));
    ui.set_error_message(s("保存申请时出错了，这次没有保存成功。"));

    let log: Log = Default::default();
    let l = log.clone();
    ui.on_start(move || l.borrow_mut().push("start".into()));
    let l = log.clone();
    ui.on_choose_service(move |code| l.borrow_mut().push(format!("choose-service:{code}")));
    let l = log.clone();
    ui.on_back(move || l.borrow_mut().push("back".into()));
    let l = log.clone();
    ui.on_cancel(move || l.borrow_mut().push("cancel".into()));
    let l = log.clone();
    ui.on_field_edited(move |key, value| {
        l.borrow_mut().push(format!("field-edited:{key}={value}"))
    });
    let l = log.clone();
    ui.on_submit_form(move || l.borrow_mut().push("submit-form".into()));
    let l = log.clone();
    ui.on_confirm(move || l.borrow_mut().push("confirm".into()));
    let l = log.clone();
    ui.on_print_receipt(move || l.borrow_mut().push("print-receipt".into()));
    let l = log.clone();
    ui.on_finish(move || l.borrow_mut().push("finish".into()));
    let l = log.clone();
    ui.on_demo_place_card(move || l.borrow_mut().push("demo-place-card".into()));

    ui.show().expect("show");
    (ui, log)
}

/// Switch screen and let Slint instantiate the new screen's elements.
fn go(ui: &KioskWindow, screen: &str) {
    ui.set_screen(s(screen));
    settle();
}

fn settle() {
    testing::mock_elapsed_time(Duration::from_millis(400));
}

fn find(ui: &KioskWindow, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(ui, label).collect()
}

/// The one control (anything but plain text) with this label. Slint's Text
/// elements expose their text as accessible label too, so a button's caption
/// is also found as a Text; those are skipped here.
fn one(ui: &KioskWindow, label: &str) -> ElementHandle {
    let mut found: Vec<_> = find(ui, label)
        .into_iter()
        .filter(|e| e.is_valid() && e.accessible_role() != Some(testing::AccessibleRole::Text))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one control labelled {label:?}, found {}",
        found.len()
    );
    found.remove(0)
}

/// Controls with this label that are on screen now.
fn controls(ui: &KioskWindow, label: &str) -> usize {
    find(ui, label)
        .into_iter()
        .filter(|e| e.is_valid() && e.accessible_role() != Some(testing::AccessibleRole::Text))
        .count()
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

fn tap(ui: &KioskWindow, label: &str) {
    one(ui, label).mock_single_click(PointerEventButton::Left);
    settle();
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
    let (width, height, rgba) = (shot.width, shot.height, &shot.rgba);
    let path = screens_dir().join(format!("{name}.png"));
    let file = std::fs::File::create(&path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(rgba)
        .unwrap();
    shot
}

// ----------------------------------------------------------------- tests ----

#[test]
fn home() {
    let (ui, log) = sample_window();
    go(&ui, "home");
    snapshot(&ui, "home");

    shows(&ui, "村办 · 政务服务");
    assert_eq!(ui.global::<ui::Theme>().get_font_family(), ui::FONT_FAMILY);
    let start = one(&ui, "我要办事");
    assert_eq!(
        start.accessible_role(),
        Some(testing::AccessibleRole::Button)
    );
    assert!(
        start.size().width >= 400.0 && start.size().height >= 300.0,
        "我要办事 is huge"
    );
    for soon in ["查进度", "打印结果", "评价"] {
        let tile = one(&ui, soon);
        assert_eq!(
            tile.accessible_enabled(),
            Some(false),
            "{soon} is not open yet"
        );
        assert_eq!(tile.accessible_description().as_deref(), Some("即将开放"));
        tile.mock_single_click(PointerEventButton::Left);
    }
    assert_eq!(controls(&ui, "回首页"), 0, "no 回首页 on home");
    assert!(take_log(&log).is_empty(), "disabled tiles do nothing");

    tap(&ui, "我要办事");
    assert_eq!(take_log(&log), ["start"]);
}

#[test]
fn home_with_banner_and_offline() {
    let (ui, _log) = sample_window();
    ui.set_banner(s(
        "事项目录三天没有更新了，部分事项可能有变化，请向工作人员确认",
    ));
    ui.set_network_label(s("离线：申请会先保存在本机"));
    go(&ui, "home");
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
    go(&ui, "services");
    snapshot(&ui, "services");

    shows(&ui, "请选择要办的事");
    let tile = one(&ui, "高龄津贴申领");
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

    let closed = one(&ui, "农村宅基地和建房（规划许可）申请");
    assert_eq!(closed.accessible_enabled(), Some(false));
    assert_eq!(
        closed.accessible_description().as_deref(),
        Some("要扫描材料，本机扫描仪坏了")
    );
    closed.mock_single_click(PointerEventButton::Left);
    assert!(take_log(&log).is_empty(), "a disabled tile does nothing");

    tap(&ui, "高龄津贴申领");
    assert_eq!(take_log(&log), ["choose-service:620000-MZ-0003"]);

    // Seven services: six on page one, the seventh behind 下一页.
    assert_eq!(one(&ui, "上一页").accessible_enabled(), Some(false));
    tap(&ui, "下一页");
    snapshot(&ui, "services-page-2");
    assert_eq!(one(&ui, "下一页").accessible_enabled(), Some(false));
    tap(&ui, "生育登记");
    assert_eq!(take_log(&log), ["choose-service:620000-WJ-0007"]);

    tap(&ui, "返回");
    tap(&ui, "回首页");
    assert_eq!(take_log(&log), ["back", "cancel"]);
}

#[test]
fn id_prompt() {
    let (ui, log) = sample_window();
    ui.set_demo_mode(true);
    go(&ui, "id-prompt");
    snapshot(&ui, "id-prompt");

    shows(&ui, "高龄津贴申领");
    shows(&ui, "请放身份证：请把身份证放在读卡器上");
    one(&ui, "把身份证放在读卡器上的示意图");
    tap(&ui, "模拟放置身份证");
    tap(&ui, "返回");
    tap(&ui, "回首页");
    assert_eq!(take_log(&log), ["demo-place-card", "back", "cancel"]);

    // Not in demo mode: no simulate button.
    ui.set_demo_mode(false);
    settle();
    assert_eq!(controls(&ui, "模拟放置身份证"), 0);

    // An error is said in words with a warning icon, not only in red.
    ui.set_id_error(true);
    ui.set_id_message(s("这张身份证已过期（2020-01-01），请换一张有效证件"));
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
    go(&ui, "form");
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
    let phone = one(&ui, "联系电话");
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
        let k = one(&ui, key);
        assert!(
            k.size().width >= 60.0 && k.size().height >= 60.0,
            "key {key} is big: {:?}",
            k.size()
        );
    }
    assert!(take_log(&log).is_empty(), "nothing is sent before 完成");
    tap(&ui, "完成");
    assert_eq!(take_log(&log), ["field-edited:phone=1389256"]);
    assert_eq!(controls(&ui, "完成"), 0, "keypad closed");

    // 删除 on a value that was already there clears it.
    tap(&ui, "联系电话");
    tap(&ui, "删除");
    tap(&ui, "9");
    tap(&ui, "完成");
    assert_eq!(take_log(&log), ["field-edited:phone=9"]);

    tap(&ui, "向下");
    snapshot(&ui, "form-choices");
    // Choices are toggle buttons; the current one is checked.
    assert_eq!(one(&ui, "社保卡").accessible_checked(), Some(true));
    assert_eq!(one(&ui, "银行卡").accessible_checked(), Some(false));
    tap(&ui, "银行卡");
    assert_eq!(take_log(&log), ["field-edited:payout=bank"]);

    tap(&ui, "下一步");
    tap(&ui, "返回");
    assert_eq!(take_log(&log), ["submit-form", "back"]);
}

#[test]
fn form_scrolls_with_buttons() {
    let (ui, _log) = sample_window();
    go(&ui, "form");
    let down = one(&ui, "向下");
    assert_eq!(one(&ui, "向上").accessible_enabled(), Some(false));
    assert_eq!(down.accessible_enabled(), Some(true));
    for _ in 0..10 {
        tap(&ui, "向下");
    }
    snapshot(&ui, "form-scrolled");
    assert_eq!(
        one(&ui, "向下").accessible_enabled(),
        Some(false),
        "reached the end"
    );
    assert_eq!(one(&ui, "向上").accessible_enabled(), Some(true));
    shows(&ui, "在本村居住起始日期");
}

#[test]
fn review() {
    let (ui, log) = sample_window();
    go(&ui, "review");
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
    go(&ui, "submitting");
    snapshot(&ui, "submitting");

    shows(&ui, "正在保存您的申请");
    assert_eq!(
        one(&ui, "正在处理").accessible_role(),
        Some(testing::AccessibleRole::ProgressIndicator)
    );
    assert_eq!(controls(&ui, "回首页"), 0, "no way out while saving");
}

#[test]
fn saved_sent_and_waiting() {
    let (ui, log) = sample_window();
    go(&ui, "saved");
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

    ui.set_saved_sent(false);
    ui.set_saved_title(s("申请已经保存在这台机器上"));
    ui.set_saved_detail(s("现在没有网络。网络恢复后会自动交上去，您不用再来。"));
    ui.set_case_number(s("GS0001-7KQ4-2M9X"));
    ui.set_network_label(s("离线：申请会先保存在本机"));
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
    go(&ui, "receipt");
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
    go(&ui, "error");
    snapshot(&ui, "error");
    shows(&ui, "出了点问题");
    tap(&ui, "回首页");
    assert_eq!(take_log(&log), ["finish"]);
}

#[test]
fn every_screen_renders() {
    let (ui, _log) = sample_window();
    for screen in ui::screen::ALL {
        go(&ui, screen);
        let shot = render(&ui, screen);
        // The footer with the terminal's place is on every screen.
        shows(&ui, "东乡族自治县锁南镇 红星村 · 终端 GS-0001，网络正常");
        assert_eq!(
            shot.pixel(2, 798)[..3],
            [0x1F, 0x2C, 0x3A],
            "{screen}: footer"
        );
        let home_buttons = controls(&ui, "回首页");
        let expected = usize::from(!matches!(screen, "home" | "submitting"));
        assert_eq!(home_buttons, expected, "{screen}: 回首页 buttons");
    }
}

/// Long names and sentences wrap inside their boxes instead of running off.
#[test]
fn long_texts() {
    let (ui, _log) = sample_window();
    ui.set_banner(s("事项目录已经十五天没有更新了，部分事项的办理条件可能已经变化，提交前请向村里的代办员或者乡镇便民服务中心的工作人员确认"));
    let mut closed = tile(
        "X-2",
        "残疾人两项补贴（困难残疾人生活补贴和重度残疾人护理补贴）申请",
        "县残疾人联合会",
        "承诺 15 个工作日",
    );
    closed.enabled = false;
    closed.note = s("这个事项需要拍照上传残疾证，本机的摄像头现在不能用，请到乡镇便民服务中心办理");
    ui.set_services(model(vec![
        tile(
            "X-1",
            "城乡居民基本养老保险待遇领取资格认证及暂停恢复发放申请",
            "县人力资源和社会保障局城乡居民养老保险经办中心",
            "法定 20 个工作日，承诺 5 个工作日",
        ),
        closed,
        tile("X-3", "低保", "县民政局", "承诺 20 个工作日"),
    ]));
    go(&ui, "services");
    snapshot(&ui, "long-services");

    ui.set_saved_sent(false);
    ui.set_saved_title(s("申请已经保存在这台机器上，网络恢复后会自动交上去"));
    ui.set_saved_detail(s("现在没有网络。网络恢复后会自动交上去，您不用再来。县民政局收到后会在 10 个工作日内办理，结果会发短信告诉您，也可以拿回执到村委会查询。"));
    go(&ui, "saved");
    snapshot(&ui, "long-saved");
    one(&ui, "打印回执");
}
