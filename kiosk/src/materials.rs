//! Materials (申请材料) handed in at the terminal after the form: scanned on
//! the document scanner or photographed with the camera, shown as a preview,
//! retaken if need be, and attached to the submission.
//!
//! Plain data only (no devices: those are in `capture.rs`), so the session
//! can hold it and tests can make it. Captured bytes are personal data: they
//! are zeroised when dropped.

use std::fmt;
use std::sync::Arc;

use model::catalog::{Material, MaterialSource};
use model::submission::AttachmentRef;
use zeroize::Zeroizing;

/// How a material is captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    /// The document scanner (SANE).
    Scan,
    /// The camera.
    Photo,
}

/// A small picture of a capture for the screen, RGBA8, at most
/// [`PREVIEW_MAX`] on its longer side. A picture of a personal document:
/// zeroised when the last view holding it goes (the copy Slint makes for the
/// screen is Slint's).
#[derive(Clone, PartialEq, Eq)]
pub struct Preview {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixels, RGBA8 row by row; zeroised when the last holder drops it.
    pub rgba: Arc<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Preview({}x{})", self.width, self.height)
    }
}

/// Longest side of a preview, in pixels: big enough to see that the right
/// page was scanned, small enough to copy into the UI at once.
pub const PREVIEW_MAX: u32 = 420;

/// One file of a capture (a scanned page or a photo).
pub struct CapturedFile {
    /// MIME type; `image/jpeg` for scans and photos.
    pub media_type: &'static str,
    /// The file's bytes; a personal document, zeroised on drop.
    pub bytes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for CapturedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CapturedFile({}, {} bytes)", self.media_type, self.bytes.len())
    }
}

/// What a scan or a photo gave.
#[derive(Debug)]
pub struct Capture {
    /// Scanned or photographed.
    pub kind: CaptureKind,
    /// One per page; a photo is one file.
    pub files: Vec<CapturedFile>,
    /// A small picture of it for the screen.
    pub preview: Preview,
}

/// How one material stands in the draft.
#[derive(Debug)]
pub enum Outcome {
    /// Scanned or photographed: the files to attach.
    Captured(Capture),
    /// The e-license library (电子证照库) holds it for this applicant: the
    /// license is recorded with the filing and the platform fetches it;
    /// nothing is scanned.
    ELicense(model::submission::ELicenseRef),
    /// Optional, and the villager skipped it.
    Skipped,
    /// No device here can capture it: the paper goes to the village assistant.
    Paper,
}

/// How asking the e-license library for one material stands (the kiosk
/// asks the hub while the villager waits on that material).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ELicenseLookup {
    /// Asked; no answer yet.
    Asking,
    /// The library holds it: the draft's outcome is [`Outcome::ELicense`].
    Found,
    /// The library answered that it holds none for this applicant.
    NotFound,
    /// The hub was not reached (no network): scan.
    NoNetwork,
    /// The hub was reached but the library did not answer: scan.
    NotAnswering,
}

/// Whether a material is captured on the materials screen. The ID card is
/// read by the reader; signatures are the assistant's (assisted mode).
pub fn on_materials_screen(m: &Material) -> bool {
    matches!(m.source, MaterialSource::Scan | MaterialSource::Photo | MaterialSource::FacePhoto | MaterialSource::ELicense)
}

/// Which devices fit a material: (scan, photo). A paper document can be
/// scanned or, without a scanner, photographed; a photo of a person only
/// photographed.
pub fn fits(m: &Material) -> (bool, bool) {
    match m.source {
        MaterialSource::Scan | MaterialSource::ELicense => (true, true),
        MaterialSource::Photo | MaterialSource::FacePhoto => (false, true),
        MaterialSource::IdCard | MaterialSource::Signature => (false, false),
    }
}

/// The attachments of a draft's captures, in catalog order: references for
/// the submission and the bytes for the outbox.
pub fn attachments<'a>(captured: impl Iterator<Item = (&'a str, &'a Capture)>) -> Vec<(AttachmentRef, Zeroizing<Vec<u8>>)> {
    captured
        .flat_map(|(code, c)| {
            c.files.iter().map(move |f| (AttachmentRef::for_bytes(code, f.media_type, &f.bytes), f.bytes.clone()))
        })
        .collect()
}

/// A preview of an RGB picture (`rgb` is width × height × 3 bytes).
pub fn preview_of(image: &image::RgbImage) -> Preview {
    let (w, h) = image.dimensions();
    let scale = (PREVIEW_MAX as f32 / w.max(h).max(1) as f32).min(1.0);
    let (pw, ph) = (((w as f32 * scale) as u32).max(1), ((h as f32 * scale) as u32).max(1));
    let small = image::imageops::thumbnail(image, pw, ph);
    let mut rgba = Vec::with_capacity((pw * ph * 4) as usize);
    for p in small.pixels() {
        rgba.extend_from_slice(&[p.0[0], p.0[1], p.0[2], 255]);
    }
    Preview { width: pw, height: ph, rgba: Arc::new(Zeroizing::new(rgba)) }
}

/// JPEG quality of stored scans and photos: text stays sharp at a fraction
/// of the PNG's size (an A4 page at 150 dpi is ~200 KB instead of ~2 MB).
pub const JPEG_QUALITY: u8 = 85;

/// Makes a capture of decoded pages (scans) or one frame (photo): JPEG files
/// and a preview of the first.
pub fn capture_of(kind: CaptureKind, pages: &[image::RgbImage]) -> Result<Capture, image::ImageError> {
    let mut files = Vec::with_capacity(pages.len());
    for page in pages {
        let mut out = std::io::Cursor::new(Vec::new());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(page)?;
        files.push(CapturedFile { media_type: "image/jpeg", bytes: Zeroizing::new(out.into_inner()) });
    }
    let preview = pages.first().map(preview_of).unwrap_or(Preview { width: 1, height: 1, rgba: Arc::new(Zeroizing::new(vec![0; 4])) });
    Ok(Capture { kind, files, preview })
}

/// A page for screenshots, tests and the demo: a household-register-like
/// sheet (ruled lines on off-white), `w`×`h`.
#[cfg(any(test, feature = "samples"))]
pub fn sample_page(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let border = x < 12 || y < 12 || x + 12 >= w || y + 12 >= h;
        let ruled = y > h / 6 && (y % 38 == 0) && x > 30 && x + 30 < w;
        let title = y > 24 && y < 56 && x > w / 3 && x < 2 * w / 3 && (x / 6 + y / 6) % 2 == 0;
        if border || ruled || title {
            image::Rgb([70, 60, 120])
        } else {
            image::Rgb([248, 244, 232])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_become_jpeg_attachments_with_a_small_preview() {
        let pages = [sample_page(1240, 1754), sample_page(1240, 1754)];
        let c = capture_of(CaptureKind::Scan, &pages).unwrap();
        assert_eq!(c.files.len(), 2);
        assert!(c.files.iter().all(|f| f.bytes.starts_with(&[0xFF, 0xD8]) && f.media_type == "image/jpeg"));
        // The longer side fits, the aspect ratio is kept.
        assert_eq!(c.preview.height, PREVIEW_MAX);
        assert_eq!(c.preview.width, 1240 * PREVIEW_MAX / 1754);
        assert_eq!(c.preview.rgba.len(), (c.preview.width * c.preview.height * 4) as usize);
        let atts = attachments([("hukou", &c)].into_iter());
        assert_eq!(atts.len(), 2);
        assert!(atts.iter().all(|(r, b)| r.material_code == "hukou" && r.size == b.len() as u64));
        // Different pages, different hashes: the outbox stores both.
        assert_eq!(atts[0].0.sha256, model::submission::sha256_hex(&c.files[0].bytes));
    }
}
