//! The one Slint test harness (feature `testing`, for dev-dependencies): Slint's
//! testing backend with the software renderer on the test thread, finding
//! controls by accessible label, taps, mock time, waiting for workers, and
//! PNG snapshots. Used by ui's screen tests, the kiosk's and the end-to-end
//! window tests alike, so they find and tap things the same way.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use i_slint_backend_testing::{self as backend, AccessibleRole, ElementHandle, ElementQuery};
use slint::platform::PointerEventButton;
use slint::{ComponentHandle, Rgba8Pixel, SharedPixelBuffer};

use crate::{Frame, KioskWindow};

/// Slint's testing backend (mock time, the software renderer, so snapshots
/// draw real glyphs from the installed fonts) for this test thread. Each test
/// thread has its own Slint context; where the platform is already set (one
/// test thread) this does nothing.
pub fn testing_backend() {
    // Err only means "already set on this thread", which is what we want.
    let _ = slint::platform::set_platform(Box::new(backend::TestingBackend::new(backend::TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })));
}

/// Lets mock time pass so timers fire and newly shown elements exist.
pub fn settle() {
    backend::mock_elapsed_time(Duration::from_millis(400));
}

/// Lets this much mock time pass.
pub fn elapse(time: Duration) {
    backend::mock_elapsed_time(time);
}

/// Every element (text or control) with this accessible label.
pub fn find(w: &impl ComponentHandle, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(w, label).filter(|e| e.is_valid()).collect()
}

/// The controls with this label. Slint's Text elements expose their text as
/// accessible label too, so a button's caption is also found as a Text; those
/// are skipped.
pub fn controls(w: &impl ComponentHandle, label: &str) -> Vec<ElementHandle> {
    find(w, label).into_iter().filter(|e| e.accessible_role() != Some(AccessibleRole::Text)).collect()
}

/// The one control with this label; the message says which screen was shown
/// and what was found.
pub fn control(w: &KioskWindow, label: &str) -> ElementHandle {
    let mut found = controls(w, label);
    assert_eq!(
        found.len(),
        1,
        "expected one control labelled {label:?} on {:?}: {:?}",
        w.global::<Frame>().get_screen(),
        found.iter().map(|e| (e.type_name(), e.accessible_role(), e.absolute_position())).collect::<Vec<_>>()
    );
    found.remove(0)
}

/// Clicks the one control with this label (no mock time passes).
pub fn click(w: &KioskWindow, label: &str) {
    control(w, label).mock_single_click(PointerEventButton::Left);
}

/// Clicks the one control with this label and lets the screen settle.
pub fn tap(w: &KioskWindow, label: &str) {
    click(w, label);
    settle();
}

/// Whether some element on screen shows these words (in its label or value).
pub fn shows(w: &impl ComponentHandle, words: &str) -> bool {
    ElementQuery::from_root(w).match_descendants().find_all().iter().any(|e| {
        e.accessible_label().is_some_and(|l| l.contains(words)) || e.accessible_value().is_some_and(|v| v.contains(words))
    })
}

/// Pumps (applies what the workers delivered) until `done`, for at most
/// `limit`; `state` says where the window was when it never happened.
pub fn wait_until<W>(
    w: &W,
    limit: Duration,
    pump: impl Fn(),
    what: &str,
    state: impl Fn(&W) -> String,
    done: impl Fn(&W) -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done(w) {
        assert!(Instant::now() < deadline, "never: {what}; {}", state(w));
        std::thread::sleep(Duration::from_millis(20));
        pump();
    }
}

/// Writes an RGBA snapshot as a PNG file.
pub fn write_png(path: &Path, buffer: &SharedPixelBuffer<Rgba8Pixel>) -> std::io::Result<()> {
    let out = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(out), buffer.width(), buffer.height());
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().and_then(|mut w| w.write_image_data(buffer.as_bytes())).map_err(std::io::Error::other)
}

/// PNG snapshots of one test's window in a directory of their own.
pub struct Shots {
    dir: PathBuf,
    step: usize,
}

impl Shots {
    /// Snapshots go to `dir` (created).
    pub fn in_dir(dir: PathBuf) -> Shots {
        std::fs::create_dir_all(&dir).expect("create the snapshot directory");
        Shots { dir, step: 0 }
    }

    /// Where the snapshots go.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `NN-name.png`, numbered in the order taken.
    pub fn numbered(&mut self, w: &impl ComponentHandle, name: &str) {
        self.step += 1;
        let file = format!("{:02}-{name}.png", self.step);
        self.named(w, &file);
    }

    /// `file` as it is named.
    pub fn named(&self, w: &impl ComponentHandle, file: &str) {
        self.save(file, &w.window().take_snapshot().expect("snapshot"));
    }

    /// A snapshot already taken, as `file`.
    pub fn save(&self, file: &str, buffer: &SharedPixelBuffer<Rgba8Pixel>) {
        write_png(&self.dir.join(file), buffer).expect("write the snapshot");
    }
}

/// A kiosk window driven by a test: the app's workers publish views, and
/// `pump` applies them on the test thread (which is the UI thread). The
/// provided methods are a journey's verbs, the same for every window test.
pub trait Driven {
    /// The window under test.
    fn window(&self) -> &KioskWindow;
    /// Applies what the workers published and lets a little mock time pass.
    fn pump(&self);
    /// Where this test's numbered snapshots go.
    fn shots(&mut self) -> &mut Shots;

    /// Pumps until `done`, for at most 30 s; the failure names the screen.
    fn wait_until(&self, what: &str, done: impl Fn(&KioskWindow) -> bool) {
        let on = |w: &KioskWindow| format!("on {:?}", w.global::<Frame>().get_screen());
        wait_until(self.window(), Duration::from_secs(30), || self.pump(), what, on, done);
        self.pump();
    }

    /// Pumps until the window shows `screen`.
    fn wait_screen(&self, screen: crate::Screen) {
        self.wait_until(&format!("screen {screen:?}"), |w| w.global::<Frame>().get_screen() == screen);
    }

    /// The controls (not caption texts) with this label.
    fn controls(&self, label: &str) -> Vec<ElementHandle> {
        controls(self.window(), label)
    }

    /// The one control with this label.
    fn control(&self, label: &str) -> ElementHandle {
        control(self.window(), label)
    }

    /// Taps the one control with this label, then pumps.
    fn tap(&self, label: &str) {
        click(self.window(), label);
        self.pump();
    }

    /// Taps the control with this label on a paged list (the services
    /// screen): 下一页 until it shows, at most ten pages.
    fn tap_paged(&self, label: &str) {
        for _ in 0..10 {
            if !controls(self.window(), label).is_empty() {
                break;
            }
            self.tap("下一页");
        }
        self.tap(label);
    }

    /// From home to an item's guide: 我要办事, the theme chip, the item (paged).
    fn open_item(&self, theme: &str, item: &str) {
        self.tap("我要办事");
        self.wait_screen(crate::Screen::Services);
        self.tap(theme);
        self.tap_paged(item);
        self.wait_screen(crate::Screen::Guide);
    }

    /// From a guide to the card prompt: 开始办理, then consent.
    fn start_filing(&self) {
        self.tap("开始办理");
        self.wait_screen(crate::Screen::Consent);
        self.tap("同意，继续");
        self.wait_screen(crate::Screen::IdPrompt);
    }

    /// From a guide to the form with the demo card: consent, then the
    /// simulated card (the demo kiosk's 模拟放置身份证).
    fn start_filing_with_demo_card(&self) {
        self.start_filing();
        self.tap("模拟放置身份证");
        self.wait_screen(crate::Screen::Form);
    }

    /// Types digits on the on-screen keypad and presses 完成.
    fn keypad(&self, digits: &str) {
        for d in digits.chars() {
            self.tap(&d.to_string());
        }
        self.tap("完成");
    }

    /// Whether some element on screen shows these words.
    fn shows(&self, words: &str) -> bool {
        shows(self.window(), words)
    }

    /// A numbered snapshot of the window.
    fn shot(&mut self, name: &str) {
        let window = self.window().clone_strong();
        self.shots().numbered(&window, name);
    }
}

/// The service tiles of a village kiosk in 东乡族自治县, as the screen tests
/// and the preview example show them: enabled, in the catalog's order.
pub fn sample_services() -> Vec<crate::ServiceTile> {
    [
        ("620000-RS-0001", "城乡居民基本养老保险参保登记", "县人力资源和社会保障局", "承诺 即时办结"),
        ("620000-YB-0002", "城乡居民医疗保险参保登记", "县医疗保障局", "承诺 1 个工作日"),
        ("620000-MZ-0003", "高龄津贴申领", "县民政局", "承诺 10 个工作日"),
        ("620000-MZ-0004", "最低生活保障申请", "县民政局", "承诺 20 个工作日"),
        ("620000-CL-0005", "残疾人两项补贴申请", "县残疾人联合会", "承诺 15 个工作日"),
        ("620000-WJ-0007", "生育登记", "县卫生健康局", "承诺 即时办结"),
    ]
    .into_iter()
    .map(|(code, name, department, time_limit)| crate::ServiceTile {
        code: code.into(),
        name: name.into(),
        department: department.into(),
        time_limit: time_limit.into(),
        enabled: true,
        note: "".into(),
    })
    .collect()
}
