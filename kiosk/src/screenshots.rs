//! `kiosk --screenshots DIR`: every screen of the villager journeys, in every
//! language, in normal, large-text and high-contrast mode, rendered with the
//! software renderer into `DIR/<lang>/<screen>.png` (`<screen>-large.png`,
//! `<screen>-contrast.png`). No display is needed: a minimal Slint platform
//! draws into memory.
//!
//! The screens are not staged by hand: [`journeys`] walks the real
//! [`Session`] through each journey with sample data and takes its views, so
//! what is drawn is what a villager would see, wording included.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use model::evaluation::Rating;
use model::submission::Channel;
use model::{CaseNumber, Catalog, ImplementCode, Lang, SubmissionId, VillageCode};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::Rgb8Pixel;
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize};
use time::macros::datetime;

use crate::materials::CaptureKind;
use crate::samples::{sample_capture, sample_identity};
use crate::session::{Capabilities, Effect, Event, FilingStage, FilingStatus, Known, Session, Terminal, View};
use crate::ui_glue;

/// Width of the screenshots, in pixels (the kiosk's 1280×800 screen).
pub const WIDTH: u32 = 1280;
/// Height of the screenshots, in pixels.
pub const HEIGHT: u32 = 800;

/// The footer of the sample terminal: its place and id (the UI adds the
/// word 终端 in the villager's language). `TERMINAL_LABEL` is the whole line in Chinese.
pub const TERMINAL_PLACE: &str = "东乡族自治县 巴牙村委会";
/// The sample terminal's id.
pub const TERMINAL_ID: &str = "GS-0001";
/// The sample footer as one Chinese line: place, 终端 and id.
pub const TERMINAL_LABEL: &str = "东乡族自治县 巴牙村委会 · 终端 GS-0001";

fn sample_session() -> Session {
    let mut s = Session::new(
        Arc::new(Catalog::starter()),
        Terminal {
            terminal_id: "GS-0001".into(),
            village_code: VillageCode::parse("622926100202").expect("a Gansu village"),
            channel: Channel::SelfServiceTerminal,
        },
        // A terminal with a document scanner and a camera.
        Capabilities { camera: true, scanner: true },
        Box::new(|| datetime!(2026-11-21 10:00 +8)),
    );
    // The voices of a Debian terminal with espeak-ng (Kazakh read via Cyrillic).
    s.handle(Event::VoicesAvailable(vec![Lang::ZhCn, Lang::Kk, Lang::En]));
    s
}

/// Scans or photographs the material on screen with the sample capture.
fn capture(s: &mut Session, kind: CaptureKind) {
    let material = s
        .handle(Event::CaptureMaterial(kind))
        .into_iter()
        .find_map(|e| match e {
            Effect::CaptureMaterial { material, .. } => Some(material),
            _ => None,
        })
        .expect("the materials screen asks for a capture");
    s.handle(Event::MaterialCaptured { material, capture: sample_capture(kind) });
}

fn submitted(effects: &[Effect]) -> SubmissionId {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Submit(sub, _) => Some(sub.id),
            _ => None,
        })
        .expect("confirm submits")
}

/// Every screen of the villager journeys as the session shows it, in `lang`,
/// with the given settings: (name, view), in journey order.
pub fn journeys(lang: Lang, large_text: bool, high_contrast: bool) -> Vec<(&'static str, View)> {
    let mut shots = Vec::new();
    let mut s = sample_session();
    s.handle(Event::SetLanguage(lang));
    if large_text {
        s.handle(Event::ToggleLargeText);
    }
    if high_contrast {
        s.handle(Event::ToggleHighContrast);
    }
    let mut take = |name: &'static str, s: &Session| shots.push((name, s.view()));

    // Filing, sent at once, receipt, rating.
    take("home", &s);
    s.handle(Event::Start);
    take("services", &s);
    s.handle(Event::ChooseTheme("social_security".into()));
    take("services-theme", &s);
    s.handle(Event::ChooseService("620000RS0001".into()));
    take("guide", &s);
    s.handle(Event::StartFiling);
    take("consent", &s);
    s.handle(Event::Agree);
    take("id-prompt", &s);
    s.handle(Event::CardProblem("没有读清楚，请把身份证拿起来，再平放到读卡器上。".into()));
    take("id-problem", &s);
    s.handle(Event::CardRead(sample_identity()));
    take("form", &s);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "1391234".into() });
    s.handle(Event::SubmitForm);
    take("form-problems", &s);
    s.handle(Event::IdleWarning { seconds_left: 17 });
    take("idle-warning", &s);
    s.handle(Event::StillHere);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
    s.handle(Event::SubmitForm);
    take("materials-photo", &s);
    capture(&mut s, CaptureKind::Photo);
    take("materials-photo-taken", &s);
    s.handle(Event::NextMaterial);
    take("review", &s);
    // Reading on: the bar offers 读整页 where the engine has a voice.
    s.handle(Event::ToggleVoice);
    take("review-voice", &s);
    s.handle(Event::ToggleVoice);
    let id = submitted(&s.handle(Event::Confirm));
    take("submitting", &s);
    s.handle(Event::Saved { id });
    s.handle(Event::Sent { id, case_number: CaseNumber::parse("62292620261121000123").expect("a case number") });
    take("saved", &s);
    s.handle(Event::PrintReceipt);
    take("receipt-printing", &s);
    s.handle(Event::Printed);
    take("receipt", &s);
    s.handle(Event::RateNow);
    take("rate", &s);
    s.handle(Event::ChooseRating(Rating::Dissatisfied));
    s.handle(Event::ToggleReason("slow".into()));
    take("rate-reasons", &s);
    s.handle(Event::SubmitRating);
    take("goodbye", &s);
    s.handle(Event::Finish);

    // Filing while the network is down; the receipt printer fails.
    s.handle(Event::Start);
    s.handle(Event::ChooseService("620000MZ0001".into()));
    take("guide-materials", &s);
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(sample_identity()));
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank_account".into(), value: "6228480012345678901".into() });
    s.handle(Event::SubmitForm);
    take("materials", &s);
    s.handle(Event::CaptureMaterial(CaptureKind::Scan));
    take("materials-scanning", &s);
    s.handle(Event::MaterialFailed("扫描仪的盖子没有盖好，请盖好再点「扫描」。".into()));
    take("materials-problem", &s);
    capture(&mut s, CaptureKind::Scan);
    take("materials-scanned", &s);
    s.handle(Event::NextMaterial);
    capture(&mut s, CaptureKind::Scan);
    s.handle(Event::NextMaterial);
    take("review-materials", &s);
    let id = submitted(&s.handle(Event::Confirm));
    s.handle(Event::Saved { id });
    s.handle(Event::Deferred { id });
    take("saved-waiting", &s);
    s.handle(Event::PrintReceipt);
    s.handle(Event::PrintFailed("打印机没有连接好".into()));
    take("receipt-failed", &s);
    s.handle(Event::Cancel);

    // Progress by ID card, then by a receipt number nobody knows.
    s.handle(Event::QueryProgress);
    take("progress", &s);
    s.handle(Event::CardRead(sample_identity()));
    take("progress-looking", &s);
    let filing = |code: &str, days_ago: i64, case: Option<&str>, stage| FilingStatus {
        reference: SubmissionId::new(),
        item_code: ImplementCode::parse(code).expect("a code"),
        created_at: datetime!(2026-11-21 10:00 +8) - time::Duration::days(days_ago),
        case_number: case.map(|c| CaseNumber::parse(c).expect("a case number")),
        stage,
        result_available: stage == FilingStage::Done && case.is_some(),
        known: Known::Here,
        parts: Vec::new(),
    };
    s.handle(Event::LookedUp(vec![
        filing("620000MZ0001", 0, None, FilingStage::Waiting),
        filing("620000RS0001", 3, Some("62292620261118000045"), FilingStage::Delivered),
        filing("620000YB0001", 40, Some("62292620261012000007"), FilingStage::Done),
    ]));
    take("progress-found", &s);
    s.handle(Event::Retry);
    s.handle(Event::CodeEntered("62292620261121999999".into()));
    s.handle(Event::LookedUp(vec![]));
    take("progress-none", &s);
    s.handle(Event::Cancel);

    // Result printing: nothing to print yet.
    s.handle(Event::QueryResult);
    take("result", &s);
    s.handle(Event::CodeEntered("62292620261118000045".into()));
    s.handle(Event::LookedUp(vec![filing("620000RS0001", 3, Some("62292620261118000045"), FilingStage::Delivered)]));
    take("result-found", &s);
    s.handle(Event::Cancel);

    // Result printing: a finished case with a document, printed on the A4 printer.
    s.handle(Event::QueryResult);
    s.handle(Event::CodeEntered("62292620261012000007".into()));
    s.handle(Event::LookedUp(vec![filing("620000YB0001", 40, Some("62292620261012000007"), FilingStage::Done)]));
    take("result-printable", &s);
    s.handle(Event::PrintResult);
    take("result-printing", &s);
    s.handle(Event::ResultPrinted);
    take("result-printed", &s);
    s.handle(Event::Cancel);

    // Temporary assistance: an optional material.
    s.handle(Event::Start);
    s.handle(Event::ChooseService("620000MZ0003".into()));
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(sample_identity()));
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "cause".into(), value: "illness".into() });
    s.handle(Event::SubmitForm);
    capture(&mut s, CaptureKind::Scan);
    s.handle(Event::NextMaterial);
    take("materials-optional", &s);
    s.handle(Event::Cancel);

    // 一件事一次办: from the home tile, 身后一件事 as one filing, then its progress per part.
    s.handle(Event::StartBundles);
    take("bundles", &s);
    s.handle(Event::ChooseService("620000YJS005".into()));
    take("bundle-guide", &s);
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(sample_identity()));
    for (key, value) in [
        ("phone", "13912345678"),
        ("deceased_name", "马福祥"),
        ("deceased_id", "622926194005060013"),
        ("death_date", "2026-11-10"),
        ("relation", "child"),
    ] {
        s.handle(Event::FieldEdited { key: key.into(), value: value.into() });
    }
    take("bundle-form", &s);
    s.handle(Event::SubmitForm);
    take("bundle-materials", &s);
    while s.screen() == crate::session::Screen::Materials {
        capture(&mut s, CaptureKind::Scan);
        s.handle(Event::NextMaterial);
        if s.screen() == crate::session::Screen::Materials {
            // An optional material this terminal could take: skipped, as many will.
            s.handle(Event::SkipMaterial);
        }
    }
    take("bundle-review", &s);
    let id = submitted(&s.handle(Event::Confirm));
    s.handle(Event::Saved { id });
    s.handle(Event::Sent { id, case_number: CaseNumber::parse("62292620261121000124").expect("a case number") });
    take("bundle-saved", &s);
    s.handle(Event::Cancel);
    s.handle(Event::QueryProgress);
    s.handle(Event::CodeEntered("62292620261121000124".into()));
    let part = |i: usize, code: &str, stage| crate::session::PartStatus {
        item_code: ImplementCode::parse(code).expect("a code"),
        case_number: CaseNumber::parse(&format!("62292620261121000124P{i}")).expect("a case number"),
        stage,
        // The back office's words for the part it rejected.
        reason: (stage == FilingStage::Problem).then(|| "请补交残疾人证原件".to_owned()),
    };
    s.handle(Event::LookedUp(vec![FilingStatus {
        parts: vec![
            part(1, "620000GA0002", FilingStage::Done),
            part(2, "620000RS0007", FilingStage::Delivered),
            part(3, "620000MZ0012", FilingStage::Delivered),
            part(4, "620000CL0006", FilingStage::Problem),
        ],
        ..filing("620000YJS005", 0, Some("62292620261121000124"), FilingStage::Delivered)
    }]));
    take("bundle-progress", &s);
    s.handle(Event::Cancel);

    // 按部门: the departments, then one department's items.
    s.handle(Event::Start);
    s.handle(Event::ChooseTheme("departments".into()));
    take("departments", &s);
    let first = s.view().services.first().map(|t| t.code.clone()).expect("a department");
    s.handle(Event::ChooseService(first));
    take("department", &s);
    s.handle(Event::Cancel);

    // 搜索: the keyboard up, initials typed, every result, a code, nothing found.
    s.handle(Event::Search);
    take("search", &s);
    s.handle(Event::SearchTyped("ylbx".into()));
    take("search-typing", &s);
    s.handle(Event::SearchKeyboard(false));
    take("search-results", &s);
    s.handle(Event::SearchKeyboard(true));
    s.handle(Event::SearchTyped("620000RS00".into()));
    take("search-code", &s);
    s.handle(Event::SearchTyped("qqzz".into()));
    take("search-nothing", &s);
    s.handle(Event::Cancel);

    // The e-license library (the hub has one): asked online, found; then a
    // save that failed. Then not found, not answering, and offline: a scan, and why.
    s.set_paths(model::protocol::Paths { e_license: true, ..Default::default() });
    s.handle(Event::LinkChanged { online: true });
    s.handle(Event::Start);
    s.handle(Event::ChooseService("620000GA0001".into()));
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(sample_identity()));
    take("form-birth", &s);
    let asked = to_birth_materials(&mut s);
    take("materials-elicense-asking", &s);
    answer_e_license(&mut s, asked, crate::materials::ELicenseLookup::Found);
    take("materials-elicense", &s);
    s.handle(Event::NextMaterial);
    capture(&mut s, CaptureKind::Scan);
    s.handle(Event::NextMaterial);
    take("review-elicense", &s);
    s.handle(Event::Confirm);
    s.handle(Event::SaveFailed("本机存储空间不足，暂时不能受理新的申请，请联系工作人员".into()));
    take("error", &s);
    s.handle(Event::Finish);
    for (miss, name) in [
        (crate::materials::ELicenseLookup::NotFound, "materials-elicense-notfound"),
        (crate::materials::ELicenseLookup::NotAnswering, "materials-elicense-down"),
        (crate::materials::ELicenseLookup::NoNetwork, "materials-elicense-offline"),
    ] {
        if miss == crate::materials::ELicenseLookup::NoNetwork {
            s.handle(Event::LinkChanged { online: false });
        }
        s.handle(Event::Start);
        s.handle(Event::ChooseService("620000GA0001".into()));
        s.handle(Event::StartFiling);
        s.handle(Event::Agree);
        s.handle(Event::CardRead(sample_identity()));
        let asked = to_birth_materials(&mut s);
        answer_e_license(&mut s, asked, miss);
        take(name, &s);
        s.handle(Event::Cancel);
    }
    shots
}

/// Shows `view` in the window as the kiosk would: the view, and on the
/// search screen the keyboard the glue would have up (the language's own
/// while nothing is typed, letters for pinyin, digits for a code) with
/// what was typed. Everywhere else the keyboard is closed.
pub fn stage(w: &ui::KioskWindow, view: &View) {
    use textinput::layout::Kind;
    use ui::KeyboardMode;
    ui_glue::apply(w, view);
    let kb = w.global::<ui::Keyboard>();
    if view.screen != crate::session::Screen::Search || !view.search_typing {
        kb.set_mode(KeyboardMode::Closed);
        return;
    }
    let query = view.search_query.as_str();
    let (mode, kind) = if query.chars().any(|c| c.is_ascii_digit()) {
        (KeyboardMode::Digits, Some(Kind::Digits))
    } else if !query.is_empty() {
        (KeyboardMode::English, Some(Kind::English))
    } else {
        match view.lang {
            Lang::ZhCn => (KeyboardMode::Handwriting, None),
            Lang::Bo => (KeyboardMode::Tibetan, Some(Kind::Tibetan)),
            Lang::Kk => (KeyboardMode::Kazakh, Some(Kind::Kazakh)),
            Lang::En => (KeyboardMode::English, Some(Kind::English)),
        }
    };
    let (caps, columns, _) = kind.map(crate::keyboard_glue::key_caps).unwrap_or_default();
    kb.set_rows(caps.iter().map(|c| c.row + 1).max().unwrap_or(1));
    kb.set_columns(columns.max(1) as i32);
    kb.set_keys(slint::ModelRc::new(slint::VecModel::from(caps)));
    kb.set_text(query.into());
    kb.set_mode(mode);
}

/// The birth registration's form filled and sent on: the materials screen
/// opens on the birth certificate (an e-license material). Its effects.
fn to_birth_materials(s: &mut Session) -> Vec<Effect> {
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "baby_name".into(), value: "马小花".into() });
    s.handle(Event::FieldEdited { key: "baby_gender".into(), value: "2".into() });
    s.handle(Event::FieldEdited { key: "baby_birth_date".into(), value: "2026-11-02".into() });
    s.handle(Event::SubmitForm)
}

/// Answers the e-license lookup among `effects` (if one was asked) as the
/// library would: the sample license, or none and why.
fn answer_e_license(s: &mut Session, effects: Vec<Effect>, miss: crate::materials::ELicenseLookup) {
    for e in effects {
        if let Effect::LookUpELicense { material, .. } = e {
            let found = (miss == crate::materials::ELicenseLookup::Found).then(|| {
                Box::new(model::protocol::ELicenseDocument {
                    name: "出生医学证明".into(),
                    issuer: "东乡族自治县人民医院".into(),
                    license_id: "Q622926261102".into(),
                    issued_on: Some("2026-11-03".into()),
                })
            });
            s.handle(Event::ELicenseLooked { material, found, miss });
        }
    }
}

/// A Slint platform that draws into memory: no display, no GPU.
struct Headless {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
    // Animations stand still: the same input draws the same picture.
    fn duration_since_start(&self) -> std::time::Duration {
        std::time::Duration::from_millis(300)
    }
}

/// Draws the window as it is now.
fn draw(window: &MinimalSoftwareWindow) -> Vec<Rgb8Pixel> {
    let mut pixels = vec![Rgb8Pixel::default(); (WIDTH * HEIGHT) as usize];
    // Twice: the first pass instantiates and lays out what the new view shows.
    for _ in 0..2 {
        slint::platform::update_timers_and_animations();
        window.request_redraw();
        window.draw_if_needed(|renderer| {
            renderer.render(&mut pixels, WIDTH as usize);
        });
    }
    pixels
}

fn write_png(path: &Path, pixels: &[Rgb8Pixel]) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
    encoder.write_header()?.write_image_data(&bytes)?;
    Ok(())
}

/// Renders every journey screen into `dir`; returns the files written.
/// Must run on the main thread before any other Slint window exists.
pub fn render_all(dir: &Path) -> Result<Vec<PathBuf>> {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(Headless { window: window.clone() }))
        .map_err(|e| anyhow!("a Slint platform is already set: {e}"))?;
    window.set_size(PhysicalSize::new(WIDTH, HEIGHT));
    let ui = ui::KioskWindow::new().context("cannot create the kiosk window")?;
    ui.global::<ui::Frame>().set_terminal_label(TERMINAL_PLACE.into());
    ui.global::<ui::Frame>().set_terminal_id(TERMINAL_ID.into());
    ui_glue::set_link_status(&ui, crate::app::LinkStatus { online: Some(true), unsent: 0 });
    ui.show().context("cannot show the kiosk window")?;

    let mut written = Vec::new();
    for lang in Lang::ALL {
        let lang_dir = dir.join(lang.code());
        std::fs::create_dir_all(&lang_dir).with_context(|| format!("cannot create {}", lang_dir.display()))?;
        for (suffix, large, contrast) in [("", false, false), ("-large", true, false), ("-contrast", false, true)] {
            for (name, view) in journeys(lang, large, contrast) {
                // The waiting filing is easier to read with the network down.
                let offline = name == "saved-waiting";
                ui_glue::set_link_status(&ui, crate::app::LinkStatus { online: Some(!offline), unsent: offline as u64 });
                stage(&ui, &view);
                let path = lang_dir.join(format!("{name}{suffix}.png"));
                write_png(&path, &draw(&window))?;
                written.push(path);
            }
        }
        // Assisted mode (service vans), normal mode only: the assistant's screens.
        crate::assisted_ui::walk_for_screenshots(&ui, lang, &mut |name| {
            let path = lang_dir.join(format!("{name}.png"));
            write_png(&path, &draw(&window))?;
            written.push(path);
            Ok(())
        })?;
    }
    ui.hide().ok();
    Ok(written)
}

/// What `kiosk --bench` measures (DESIGN §10 budgets: < 500 ms, < 100 MB).
#[derive(Debug, Clone, Copy)]
pub struct BenchReport {
    /// From the start of the process (as the kernel recorded it) to the first
    /// frame of the home screen drawn in memory.
    pub first_frame: std::time::Duration,
    /// Resident memory after idling on the home screen.
    pub idle_rss_bytes: u64,
}

/// How long the process has been running, from /proc (10 ms resolution).
fn since_process_start() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 22 (starttime, clock ticks since boot) comes after the ")" that ends the command name.
    let after = &stat[stat.rfind(')')? + 2..];
    let start_ticks: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()?;
    // Linux reports these in USER_HZ, 100 on every platform the kiosk runs on.
    Some(std::time::Duration::from_secs_f64((uptime - start_ticks / 100.0).max(0.0)))
}

/// A private scratch directory for librime's prepared schema during the bench.
fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("cunban-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    Ok(dir)
}

fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Cold start to the first frame of the home screen (the software renderer
/// the kiosk uses, drawing into memory so no display is needed), then idle
/// resident memory after `idle`. Must run before any other Slint window.
pub fn bench(idle: std::time::Duration) -> Result<BenchReport> {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(Headless { window: window.clone() }))
        .map_err(|e| anyhow!("a Slint platform is already set: {e}"))?;
    window.set_size(PhysicalSize::new(WIDTH, HEIGHT));
    let ui = ui::KioskWindow::new().context("cannot create the kiosk window")?;
    ui.global::<ui::Frame>().set_terminal_label(TERMINAL_PLACE.into());
    ui.global::<ui::Frame>().set_terminal_id(TERMINAL_ID.into());
    ui.show().context("cannot show the kiosk window")?;
    ui_glue::apply(&ui, &sample_session().view());
    let pixels = draw(&window);
    let first_frame = since_process_start().ok_or_else(|| anyhow!("cannot read /proc"))?;
    // Something was drawn: not all pixels are the page colour.
    if pixels.iter().all(|p| *p == pixels[0]) {
        anyhow::bail!("the first frame is blank");
    }
    // The keyboard engines as the kiosk loads them at start (zinnia's model
    // mapped, librime's schema prepared), and one use of each, so their
    // memory counts in the idle figure.
    let scratch = tempfile_dir()?;
    let engines = crate::keyboard_glue::Engines::load(&scratch);
    if let Some(z) = &engines.handwriting {
        use textinput::Handwriting as _;
        let stroke = (40..=260).step_by(20).map(|x| textinput::Point { x, y: 150 }).collect();
        std::hint::black_box(z.recognise(&[stroke], 300, 300, 10));
    }
    let pinyin = engines.pinyin.as_ref().and_then(|p| p.open_visit().ok());
    if let Some(mut p) = pinyin {
        use textinput::Pinyin as _;
        for ch in "zhang".chars() {
            let _ = p.push(ch);
        }
        // Kept open while idling: the worst case, a keyboard left up.
        std::mem::forget(p);
    }
    let end = std::time::Instant::now() + idle;
    while std::time::Instant::now() < end {
        slint::platform::update_timers_and_animations();
        window.draw_if_needed(|renderer| {
            let mut buffer = vec![Rgb8Pixel::default(); (WIDTH * HEIGHT) as usize];
            renderer.render(&mut buffer, WIDTH as usize);
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let idle_rss_bytes = resident_bytes().ok_or_else(|| anyhow!("cannot read /proc/self/status"))?;
    drop(pixels);
    drop(engines);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(BenchReport { first_frame, idle_rss_bytes })
}
