//! The Slint UI test harness the window tests share: Slint's testing
//! backend on the test thread, finding controls by accessible label, taps,
//! waiting for the workers, and numbered screenshots under
//! `<target>/journey/<test>/`. Each test's own `pump` (what its workers
//! delivered) is passed in.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use i_slint_backend_testing::{self as testing, AccessibleRole, ElementHandle, ElementQuery};
use ui::slint::platform::PointerEventButton;
use ui::slint::ComponentHandle;
use ui::KioskWindow;

/// Slint's testing backend (mock time, software renderer) for this test
/// thread: each test thread has its own Slint context.
pub fn testing_backend() -> Result<(), ui::slint::PlatformError> {
    ui::slint::platform::set_platform(Box::new(testing::TestingBackend::new(testing::TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .map_err(|e| ui::slint::PlatformError::Other(format!("{e:?}")))
}

/// The controls (not their caption texts) with this accessible label.
pub fn controls(w: &KioskWindow, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(w, label)
        .filter(|e| e.is_valid() && e.accessible_role() != Some(AccessibleRole::Text))
        .collect()
}

/// The one control with this label; the message lists what was found.
pub fn control(w: &KioskWindow, label: &str) -> ElementHandle {
    let found = controls(w, label);
    assert_eq!(
        found.len(),
        1,
        "expected one control labelled {label:?} on {:?}: {:?}",
        w.global::<ui::Frame>().get_screen(),
        found.iter().map(|e| (e.type_name(), e.accessible_role(), e.absolute_position())).collect::<Vec<_>>()
    );
    found.into_iter().next().unwrap()
}

/// Clicks the one control with this label.
pub fn click(w: &KioskWindow, label: &str) {
    control(w, label).mock_single_click(PointerEventButton::Left);
}

/// Whether some element on screen shows these words (as label or value).
pub fn shows(w: &KioskWindow, words: &str) -> bool {
    ElementQuery::from_root(w).match_descendants().find_all().iter().any(|e| {
        e.accessible_label().is_some_and(|l| l.contains(words)) || e.accessible_value().is_some_and(|v| v.contains(words))
    })
}

/// Pumps (applies what the workers delivered) until `done`, for at most
/// `limit`; `state` says where the window was when it never happened.
pub fn wait_until(
    w: &KioskWindow,
    limit: Duration,
    pump: impl Fn(),
    what: &str,
    state: impl Fn(&KioskWindow) -> String,
    done: impl Fn(&KioskWindow) -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done(w) {
        assert!(Instant::now() < deadline, "never: {what}; {}", state(w));
        std::thread::sleep(Duration::from_millis(20));
        pump();
    }
}

/// PNG snapshots of one test's window: `<target>/journey/<name>/`.
pub struct Shots {
    dir: PathBuf,
    step: usize,
}

impl Shots {
    pub fn new(name: &str) -> Shots {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("journey").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Shots { dir, step: 0 }
    }

    /// `NN-name.png`, numbered in the order taken.
    pub fn numbered(&mut self, w: &KioskWindow, name: &str) {
        self.step += 1;
        let file = format!("{:02}-{name}.png", self.step);
        self.named(w, &file);
    }

    /// `file` as it is named.
    pub fn named(&self, w: &impl ComponentHandle, file: &str) {
        self.save(file, &w.window().take_snapshot().expect("snapshot"));
    }

    /// A snapshot already taken, as `file`.
    pub fn save(&self, file: &str, buffer: &ui::slint::SharedPixelBuffer<ui::slint::Rgba8Pixel>) {
        let out = std::fs::File::create(self.dir.join(file)).unwrap();
        let mut enc = png::Encoder::new(std::io::BufWriter::new(out), buffer.width(), buffer.height());
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().unwrap().write_image_data(buffer.as_bytes()).unwrap();
    }
}
