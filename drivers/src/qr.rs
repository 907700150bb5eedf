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

/// Finds and decodes every QR code in a camera frame. A cheap look for
/// finder patterns comes first (`qr_finder.rs`): a frame without three is
/// skipped, and rqrr reads only the region they span, at full resolution
/// (small and distant codes too). When that region reads nothing, the whole
/// frame is tried, as before.
pub fn scan_frame(frame: &Frame) -> QrScan {
    scan_luma_gated(&frame.to_luma())
}

/// [`scan_luma`], asked only where finder patterns are.
pub fn scan_luma_gated(luma: &GrayImage) -> QrScan {
    let (w, h) = luma.dimensions();
    let mut scratch = crate::qr_finder::FinderScratch::default();
    let Some(r) = crate::qr_finder::find_region(luma.as_raw(), w as usize, h as usize, &mut scratch) else {
        return QrScan::default();
    };
    let region = image::imageops::crop_imm(luma, r.x0, r.y0, r.width(), r.height()).to_image();
    let scan = scan_luma(&region);
    if !scan.codes.is_empty() {
        return scan;
    }
    let mut full = scan_luma(luma);
    if full.codes.is_empty() && full.failures.is_empty() {
        full.failures = scan.failures;
    }
    full
}

/// Finds and decodes every QR code in a camera frame at its full
/// resolution, without the finder look (the benchmark's baseline).
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
    fn a_code_is_read_in_the_region_its_finder_patterns_span() {
        use crate::qr_finder::{find_region, FinderScratch};
        for scale in [2, 4, 7] {
            let mut src = SyntheticSource::new(640, 480);
            src.show_qr(b"62202611210000001", scale).unwrap();
            let luma = src.next_frame().unwrap().to_luma();
            let r = find_region(luma.as_raw(), 640, 480, &mut FinderScratch::default()).expect("three finder patterns");
            // The code (version 1, 21 modules, centred) lies inside; the region is a fraction of the frame.
            let (code, total) = (21 * scale, 29 * scale);
            let (cx0, cy0) = ((640 - total) / 2 + 4 * scale, (480 - total) / 2 + 4 * scale);
            assert!(r.x0 <= cx0 && r.y0 <= cy0 && r.x1 >= cx0 + code && r.y1 >= cy0 + code, "scale {scale}: {r:?}");
            assert!(r.width() * r.height() < 640 * 480 / 2, "scale {scale}: {r:?}");
            let region = image::imageops::crop_imm(&luma, r.x0, r.y0, r.width(), r.height()).to_image();
            assert_eq!(scan_luma(&region).codes.len(), 1, "scale {scale}: read in the region alone");
        }
    }

    #[test]
    fn pictures_without_three_finder_patterns_are_not_searched() {
        use crate::qr_finder::{find_region, FinderScratch};
        let mut scratch = FinderScratch::default();
        // The synthetic camera's gradient, a flat grey, and stripes of every width.
        let mut src = SyntheticSource::new(640, 480);
        let gradient = src.next_frame().unwrap().to_luma();
        assert_eq!(find_region(gradient.as_raw(), 640, 480, &mut scratch), None);
        src.set_flat(Some(128));
        let flat = src.next_frame().unwrap().to_luma();
        assert_eq!(find_region(flat.as_raw(), 640, 480, &mut scratch), None);
        let stripes = GrayImage::from_fn(640, 480, |x, _| image::Luma([if (x / (1 + x / 64)) % 2 == 0 { 30 } else { 220 }]));
        assert_eq!(find_region(stripes.as_raw(), 640, 480, &mut scratch), None);
        assert_eq!(scan_luma_gated(&stripes), QrScan::default());
    }

    #[test]
    fn binary_payloads_are_refused_as_not_text() {
        assert_eq!(payload_text(&[0xFF, 0xFF, 0x00, 0x80]), Err(QrError::NotText));
    }
}
