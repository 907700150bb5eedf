//! QR codes in camera frames: item codes, receipt lookup, 甘快办 codes.
//!
//! Codes made by Chinese systems often carry GBK bytes in byte mode without
//! an ECI marker, so payloads are taken as raw bytes (`decode_to`) and read
//! as UTF-8 first, GBK (as GB18030, its superset) second.

use image::GrayImage;
use thiserror::Error;

use crate::camera::Frame;

/// How a payload's bytes were read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// Valid UTF-8.
    Utf8,
    /// Not UTF-8, read as GBK (GB18030).
    Gbk,
}

/// One decoded code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    /// The payload as text.
    pub text: String,
    /// How the bytes were read.
    pub encoding: TextEncoding,
    /// The payload exactly as encoded.
    pub bytes: Vec<u8>,
}

/// A code that was seen but not read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QrError {
    /// The decoder found a code but could not read it; the text says why.
    #[error("a QR code was seen but could not be read: {0}")]
    Decode(String),
    /// The payload is neither UTF-8 nor GBK text.
    #[error("the QR code's payload is neither UTF-8 nor GBK text")]
    NotText,
}

/// What one frame held.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct QrScan {
    /// Codes read and decoded as text.
    pub codes: Vec<QrCode>,
    /// Codes found but unreadable (blurred, cut off, damaged), with why.
    pub failures: Vec<QrError>,
}

/// Reads payload bytes as text: UTF-8, else GBK.
pub fn payload_text(bytes: &[u8]) -> Result<(String, TextEncoding), QrError> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((s.to_owned(), TextEncoding::Utf8));
    }
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| (s.into_owned(), TextEncoding::Gbk))
        .ok_or(QrError::NotText)
}

/// Finds and decodes every QR code in a greyscale picture.
pub fn scan_luma(image: &GrayImage) -> QrScan {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let raw = image.as_raw();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| raw[y * w + x]);
    let mut scan = QrScan::default();
    for grid in prepared.detect_grids() {
        let mut bytes = Vec::new();
        match grid.decode_to(&mut bytes) {
            Ok(_meta) => match payload_text(&bytes) {
                Ok((text, encoding)) => scan.codes.push(QrCode { text, encoding, bytes }),
                Err(e) => scan.failures.push(e),
            },
            Err(e) => scan.failures.push(QrError::Decode(e.to_string())),
        }
    }
    scan
}

/// Finds and decodes every QR code in a camera frame: first at half the
/// resolution (a quarter of the pixels for rqrr's thresholding and region
/// search, which is where the time goes), then, when that read nothing, at
/// full resolution for small or distant codes.
pub fn scan_frame(frame: &Frame) -> QrScan {
    let half = scan_luma(&frame.to_luma_half());
    if !half.codes.is_empty() {
        return half;
    }
    let mut full = scan_full_resolution(frame);
    if full.codes.is_empty() && full.failures.is_empty() {
        full.failures = half.failures;
    }
    full
}

/// Finds and decodes every QR code in a camera frame at its full
/// resolution (the fallback of [`scan_frame`], and the benchmark's baseline).
pub fn scan_full_resolution(frame: &Frame) -> QrScan {
    scan_luma(&frame.to_luma())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::{FrameSource, SyntheticSource};

    fn frame_with(payload: &[u8], w: u32, h: u32) -> Frame {
        let mut src = SyntheticSource::new(w, h);
        src.show_qr(payload, 4).unwrap();
        src.next_frame().unwrap()
    }

    #[test]
    fn reads_a_utf8_item_code() {
        let payload = "GSKB:620000-000-123456789-01 城乡居民养老保险待遇申领".as_bytes();
        let scan = scan_frame(&frame_with(payload, 640, 480));
        assert_eq!(scan.failures, []);
        assert_eq!(scan.codes.len(), 1);
        assert_eq!(scan.codes[0].text, "GSKB:620000-000-123456789-01 城乡居民养老保险待遇申领");
        assert_eq!(scan.codes[0].encoding, TextEncoding::Utf8);
    }

    #[test]
    fn reads_a_gbk_payload_through_the_fallback() {
        let (gbk, _, unmappable) = encoding_rs::GBK.encode("受理编号：临夏东乡2026第00731号");
        assert!(!unmappable);
        assert!(std::str::from_utf8(&gbk).is_err(), "the test payload must not be valid UTF-8");
        let scan = scan_frame(&frame_with(&gbk, 640, 480));
        assert_eq!(scan.codes.len(), 1, "{scan:?}");
        assert_eq!(scan.codes[0].text, "受理编号：临夏东乡2026第00731号");
        assert_eq!(scan.codes[0].encoding, TextEncoding::Gbk);
        assert_eq!(scan.codes[0].bytes, gbk.into_owned());
    }

    #[test]
    fn a_frame_without_a_code_yields_nothing() {
        let mut src = SyntheticSource::new(640, 480);
        let scan = scan_frame(&src.next_frame().unwrap());
        assert_eq!(scan, QrScan::default());
    }

    #[test]
    fn small_codes_are_read_at_full_resolution() {
        // Two pixels a module: too fine for the half-resolution pass.
        let scan = scan_frame(&frame_with(b"62202611210000001", 640, 480));
        assert_eq!(scan.codes.len(), 1);
        let mut src = SyntheticSource::new(640, 480);
        src.show_qr(b"62202611210000001", 2).unwrap();
        let frame = src.next_frame().unwrap();
        assert!(scan_luma(&frame.to_luma_half()).codes.is_empty(), "the half-resolution pass alone misses it");
        assert_eq!(scan_frame(&frame).codes.len(), 1, "{:?}", scan_frame(&frame));
    }

    #[test]
    fn the_half_resolution_grey_is_the_mean_of_each_block() {
        let mut image = image::RgbImage::new(4, 2);
        for (x, y, p) in image.enumerate_pixels_mut() {
            *p = image::Rgb(if (x + y) % 2 == 0 { [255; 3] } else { [0; 3] });
        }
        image.put_pixel(2, 0, image::Rgb([0; 3]));
        let half = Frame { image }.to_luma_half();
        assert_eq!(half.dimensions(), (2, 1));
        assert_eq!(half.as_raw(), &[127, 63]);
    }

    #[test]
    fn binary_payloads_are_refused_as_not_text() {
        assert_eq!(payload_text(&[0xFF, 0xFF, 0x00, 0x80]), Err(QrError::NotText));
    }
}
