//! A camera made of arithmetic: a textured background (so nothing looks like
//! a flat, covered lens) with, optionally, a QR code held up to it.

use image::{Rgb, RgbImage};
use qrcode::{EcLevel, QrCode};

use super::frame::{CameraError, Frame, FrameSource};

/// A [`FrameSource`] that draws its frames, for tests, the demo and `selftest
/// --simulated`: a moving texture, optionally with a QR code held up to it.
pub struct SyntheticSource {
    width: u32,
    height: u32,
    frame_no: u32,
    flat: Option<u8>,
    /// Modules of the code shown, and its side in modules.
    code: Option<(Vec<bool>, usize)>,
    /// Pixels per module.
    scale: u32,
}

impl SyntheticSource {
    /// A source of `width` × `height` frames showing no code.
    pub fn new(width: u32, height: u32) -> SyntheticSource {
        SyntheticSource { width, height, frame_no: 0, flat: None, code: None, scale: 4 }
    }

    /// Every frame one grey level (a covered lens), or back to texture.
    pub fn set_flat(&mut self, level: Option<u8>) {
        self.flat = level;
    }

    /// Shows a QR code of these bytes (any bytes: UTF-8 text, GBK text...),
    /// `scale` pixels per module, centred.
    pub fn show_qr(&mut self, payload: &[u8], scale: u32) -> Result<(), CameraError> {
        let code = QrCode::with_error_correction_level(payload, EcLevel::M)
            .map_err(|e| CameraError::Capture(format!("cannot make a QR code of the payload: {e}")))?;
        let side = code.width();
        let needed = (side as u32 + 8) * scale;
        if needed > self.width.min(self.height) {
            return Err(CameraError::Capture(format!(
                "a {side}-module code at {scale} px per module does not fit {}x{}",
                self.width, self.height
            )));
        }
        self.code = Some((code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect(), side));
        self.scale = scale;
        Ok(())
    }

    /// Takes the QR code away again: later frames show the background only.
    pub fn hide_qr(&mut self) {
        self.code = None;
    }
}

impl FrameSource for SyntheticSource {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        self.frame_no = self.frame_no.wrapping_add(1);
        let (w, h, t) = (self.width, self.height, self.frame_no);
        let mut image = match self.flat {
            Some(level) => RgbImage::from_pixel(w, h, Rgb([level; 3])),
            // A soft diagonal gradient with a little moving texture: mid
            // greys, never a pattern a QR detector would take for a finder.
            None => RgbImage::from_fn(w, h, |x, y| {
                let g = 90 + ((x + y + t) % 64) as u8 + ((x * 7 + y * 13) % 5) as u8;
                Rgb([g, g.saturating_add(10), g.saturating_sub(10)])
            }),
        };
        if let Some((modules, side)) = &self.code {
            let s = self.scale;
            // White quiet zone of 4 modules around the code, as printed.
            let total = (*side as u32 + 8) * s;
            let (x0, y0) = ((w - total) / 2, (h - total) / 2);
            for y in 0..total {
                for x in 0..total {
                    let (mx, my) = ((x / s) as i64 - 4, (y / s) as i64 - 4);
                    let inside = mx >= 0 && my >= 0 && (mx as usize) < *side && (my as usize) < *side;
                    let dark = inside && modules[my as usize * side + mx as usize];
                    image.put_pixel(x0 + x, y0 + y, if dark { Rgb([20, 20, 20]) } else { Rgb([235, 235, 235]) });
                }
            }
        }
        Ok(Frame { image })
    }

    fn describe(&self) -> String {
        format!("synthetic {}x{}", self.width, self.height)
    }
}
