//! A frame, the trait of everything that delivers frames, and what goes
//! wrong with a camera.

use std::io::Cursor;
use std::path::PathBuf;

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageError, Luma, RgbImage};
use thiserror::Error;

/// One picture from a camera, 8-bit RGB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The pixels, row-major, top-left first.
    pub image: RgbImage,
}

impl Frame {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.image.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.image.height()
    }

    /// Brightness only (ITU-R BT.601 weights), what QR detection needs.
    pub fn to_luma(&self) -> GrayImage {
        let (w, h) = self.image.dimensions();
        let mut out = GrayImage::new(w, h);
        for (dst, src) in out.pixels_mut().zip(self.image.pixels()) {
            *dst = Luma([luma(src.0)]);
        }
        out
    }

    /// Brightness at half the resolution in each direction, each pixel the
    /// mean of a 2×2 block, in one pass over the RGB bytes (no full-size
    /// grey copy). A code held before the lens keeps ≥ 2 pixels a module.
    pub fn to_luma_half(&self) -> GrayImage {
        let (w, h) = self.image.dimensions();
        let (hw, hh) = (w / 2, h / 2);
        let raw = self.image.as_raw();
        let stride = w as usize * 3;
        let mut out = Vec::with_capacity(hw as usize * hh as usize);
        for y in 0..hh as usize {
            let top = &raw[2 * y * stride..][..stride];
            let bottom = &raw[(2 * y + 1) * stride..][..stride];
            for (t, b) in top.chunks_exact(6).zip(bottom.chunks_exact(6)) {
                let sum = u16::from(luma([t[0], t[1], t[2]]))
                    + u16::from(luma([t[3], t[4], t[5]]))
                    + u16::from(luma([b[0], b[1], b[2]]))
                    + u16::from(luma([b[3], b[4], b[5]]));
                out.push((sum / 4) as u8);
            }
        }
        // The buffer has exactly hw × hh bytes, as built above.
        GrayImage::from_raw(hw, hh, out).unwrap_or_else(|| GrayImage::new(hw, hh))
    }

    /// Encodes the frame as JPEG (materials, face photos). `quality` 1..=100.
    pub fn to_jpeg(&self, quality: u8) -> Result<Vec<u8>, CameraError> {
        let mut out = Cursor::new(Vec::new());
        JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
            .encode_image(&self.image)
            .map_err(CameraError::Encode)?;
        Ok(out.into_inner())
    }
}

/// Integer weights 77/150/29 (sum 256) ≈ 0.299/0.587/0.114.
#[inline]
fn luma([r, g, b]: [u8; 3]) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8) as u8
}

/// What goes wrong with a camera. Reasons are for technicians; no variant
/// carries image data.
#[derive(Debug, Error)]
pub enum CameraError {
    /// No device at the path (unplugged, or the index is wrong).
    #[error("no camera at {0}")]
    NotFound(String),
    /// The device exists but would not open or accept our format.
    #[error("cannot open the camera {device}: {reason}")]
    Open {
        /// The device, e.g. `/dev/video0`.
        device: String,
        /// The driver's explanation.
        reason: String,
    },
    /// The stream broke after it had started.
    #[error("the camera stopped delivering frames: {0}")]
    Capture(String),
    /// No frame arrived within this long.
    #[error("the camera gave no frame within {0:?}")]
    Timeout(std::time::Duration),
    /// An image file of a file source could not be read or decoded.
    #[error("cannot read image file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: ImageError,
    },
    /// A file source has no frames left: an empty directory, or the end of one
    /// not looped.
    #[error("no frames left in {0}")]
    EndOfStream(String),
    /// A frame could not be encoded as JPEG for the photo.
    #[error("cannot encode the photo: {0}")]
    Encode(#[source] ImageError),
}

/// Anything that delivers frames. Blocks until the next frame.
pub trait FrameSource: Send {
    /// The next frame, blocking until there is one; errors as [`CameraError`]
    /// describes.
    fn next_frame(&mut self) -> Result<Frame, CameraError>;
    /// For logs and the self-test table, e.g. `v4l /dev/video0 1280x720`.
    fn describe(&self) -> String;
}
