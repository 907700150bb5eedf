//! First start of an unenrolled terminal: instead of the villager home, the
//! enrollment window (ui `EnrollWindow`) with the QR, the code, the serial
//! and the key fingerprint. The work is `kioskctl --json enroll` (one
//! implementation of key, code, polling and kiosk.toml, in deploy/), run as
//! a child; its JSON lines drive the window. kioskctl, running as the
//! kiosk user, keeps what the hub assigned in `DATA_DIR/enrolled.toml`
//! (the kiosk cannot write /etc/cunban, issue 12). When it has enrolled, the
//! kiosk exits 0 and systemd starts it again, now with its configuration;
//! when it fails, the window says why and the kiosk exits 1 a minute later
//! (systemd restarts it, and it shows a fresh code).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use qrcode::{Color, QrCode};
use slint::{ComponentHandle, Image, Rgb8Pixel, SharedPixelBuffer};
use thiserror::Error;
use ui::EnrollWindow;

/// Why the enrollment screen could not enroll this terminal.
#[derive(Debug, Error)]
pub enum EnrollScreenError {
    /// The enrollment payload does not fit a QR code.
    #[error("cannot make the QR code: {0}")]
    Qr(String),
    /// `kioskctl enroll` could not be started.
    #[error("cannot start {path}: {source}")]
    Spawn {
        /// The kioskctl program.
        path: PathBuf,
        /// Why it would not start.
        source: std::io::Error,
    },
    /// The Slint window could not be made or run.
    #[error("the enrollment window failed: {0}")]
    Ui(String),
    /// `kioskctl enroll` failed (its message), or the window closed first.
    #[error("enrollment did not finish: {0}")]
    Failed(String),
}

/// The QR of `payload` as an image, 8 pixels per module, with a quiet zone.
pub fn qr_image(payload: &str) -> Result<Image, EnrollScreenError> {
    let code = QrCode::new(payload.as_bytes()).map_err(|e| EnrollScreenError::Qr(e.to_string()))?;
    let (modules, colors) = (code.width(), code.to_colors());
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let side = (modules + 2 * QUIET) * SCALE;
    let mut buf = SharedPixelBuffer::<Rgb8Pixel>::new(side as u32, side as u32);
    let pixels = buf.make_mut_slice();
    for (i, px) in pixels.iter_mut().enumerate() {
        let (x, y) = ((i % side) / SCALE, (i / side) / SCALE);
        let dark = x >= QUIET
            && y >= QUIET
            && x < QUIET + modules
            && y < QUIET + modules
            && colors[(y - QUIET) * modules + (x - QUIET)] == Color::Dark;
        let v = if dark { 0 } else { 255 };
        *px = Rgb8Pixel { r: v, g: v, b: v };
    }
    Ok(Image::from_rgb8(buf))
}

/// kioskctl beside this binary (the package installs both in /usr/bin), else from PATH.
fn kioskctl() -> PathBuf {
    std::env::current_exe()
        .ok()
        .map(|p| p.with_file_name("kioskctl"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("kioskctl"))
}

/// One line kioskctl printed, applied to the window.
fn apply(w: &EnrollWindow, line: &serde_json::Value) {
    match line["event"].as_str() {
        Some("waiting") => {
            let text = |k: &str| line[k].as_str().unwrap_or_default().to_owned();
            match qr_image(&text("qr")) {
                Ok(img) => w.set_qr(img),
                Err(e) => tracing::warn!(error = %e, "no QR on the enrollment screen"),
            }
            w.set_code(text("code").into());
            w.set_serial(text("serial").into());
            w.set_fingerprint(text("fingerprint").into());
            w.set_state(0);
        }
        Some("enrolled") => w.set_state(1),
        _ => {}
    }
}

/// Shows the enrollment window until kioskctl has enrolled (Ok) or failed.
pub fn run(hub: &str, data_dir: &Path, config: &Path) -> Result<(), EnrollScreenError> {
    let window = EnrollWindow::new().map_err(|e| EnrollScreenError::Ui(e.to_string()))?;
    let path = kioskctl();
    let mut child = Command::new(&path)
        .args(["--json", "enroll", "--hub", hub, "--timeout-mins", "30"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| EnrollScreenError::Spawn { path: path.clone(), source })?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let weak = window.as_weak();
    let outcome = std::sync::Arc::new(std::sync::Mutex::new(None::<Result<(), String>>));
    let result = outcome.clone();
    std::thread::spawn(move || {
        if let Some(out) = stdout {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    let _ = weak.upgrade_in_event_loop(move |w| apply(&w, &v));
                }
            }
        }
        let why = stderr
            .map(|e| BufReader::new(e).lines().map_while(Result::ok).last().unwrap_or_default())
            .unwrap_or_default()
            .trim_start_matches("kioskctl: ")
            .to_owned();
        let ok = matches!(child.wait(), Ok(s) if s.success());
        if let Ok(mut r) = result.lock() {
            *r = Some(if ok { Ok(()) } else { Err(why.clone()) });
        }
        let _ = weak.upgrade_in_event_loop(move |w| {
            if ok {
                w.set_state(1);
            } else {
                w.set_state(2);
                w.set_detail(why.into());
            }
        });
        // Long enough to read what happened, then let systemd start us again.
        std::thread::sleep(if ok { Duration::from_secs(2) } else { Duration::from_secs(60) });
        let _ = slint::quit_event_loop();
    });
    let _watchdog = crate::watchdog::start();
    window.run().map_err(|e| EnrollScreenError::Ui(e.to_string()))?;
    let done = outcome.lock().map(|r| r.clone()).unwrap_or(None);
    match done {
        Some(Ok(())) => Ok(()),
        Some(Err(why)) => Err(EnrollScreenError::Failed(why)),
        None => Err(EnrollScreenError::Failed("the window was closed".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_image_is_square_with_dark_modules_and_a_white_border() {
        let img = qr_image("CUNBAN-ENROLL:1:SN-1:0123456789abcdef:ABCD-EFGH").unwrap();
        let size = img.size();
        assert_eq!(size.width, size.height);
        assert_eq!(size.width % 8, 0);
        let px = img.to_rgb8().unwrap();
        let s = px.as_slice();
        assert_eq!(s[0], Rgb8Pixel { r: 255, g: 255, b: 255 }, "quiet zone");
        // The finder pattern's top-left module sits just inside the quiet zone.
        let w = size.width as usize;
        assert_eq!(s[(4 * 8 + 1) * w + 4 * 8 + 1], Rgb8Pixel { r: 0, g: 0, b: 0 });
    }
}
