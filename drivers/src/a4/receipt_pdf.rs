//! The 受理回执 (application acknowledgement) as an A4 PDF, text set in a
//! subset of Noto Sans CJK SC so any PDF viewer or printer shows the Hanzi
//! and the text stays searchable. Personal fields must arrive masked, as on
//! the paper receipt.

use std::path::{Path, PathBuf};

use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use thiserror::Error;

use crate::receipt::Receipt;

/// Debian fonts-noto-cjk.
pub const DEFAULT_CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
/// Face of the collection with Simplified Chinese glyph forms (JP, KR, SC, TC, HK).
pub const NOTO_CJK_SC_INDEX: u32 = 2;

/// A4 in PDF points.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 64.0;

/// Why the acknowledgement PDF could not be made.
#[derive(Debug, Error)]
pub enum PdfError {
    /// The font file does not exist at the configured path.
    #[error("the CJK font {0} is missing (Debian package fonts-noto-cjk)")]
    FontMissing(PathBuf),
    /// The font file exists but cannot be read.
    #[error("cannot read the CJK font {path}: {source}")]
    FontRead {
        /// The font file.
        path: PathBuf,
        /// The read error.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no usable face at this index.
    #[error("{path} face {index} is not a usable font")]
    FontInvalid {
        /// The font file.
        path: PathBuf,
        /// The face index within the collection.
        index: u32,
    },
    /// A personal field (named here) arrived unmasked; nothing is printed.
    #[error("receipt field `{0}` is not masked; refusing to print personal data")]
    Unmasked(&'static str),
    /// krilla could not serialise the document.
    #[error("cannot write the PDF: {0}")]
    Write(String),
}

/// A loaded CJK font (load once, reuse: the collection is ~20 MB).
#[derive(Clone)]
pub struct CjkFont {
    font: Font,
}

impl CjkFont {
    /// Loads face `index` of the font (collection) at `path`, once per process;
    /// errors if the file is missing, unreadable or not a font.
    pub fn load(path: &Path, index: u32) -> Result<CjkFont, PdfError> {
        if !path.exists() {
            return Err(PdfError::FontMissing(path.to_owned()));
        }
        let data = std::fs::read(path).map_err(|source| PdfError::FontRead { path: path.to_owned(), source })?;
        let font = Font::new(data.into(), index).ok_or(PdfError::FontInvalid { path: path.to_owned(), index })?;
        Ok(CjkFont { font })
    }

    /// Noto Sans CJK SC from fonts-noto-cjk.
    pub fn system_default() -> Result<CjkFont, PdfError> {
        CjkFont::load(Path::new(DEFAULT_CJK_FONT), NOTO_CJK_SC_INDEX)
    }
}

/// Lays out one A4 page: title, the filing's facts, and a QR code of the
/// case number (or the local reference while it waits for the network).
pub fn acknowledgement_pdf(r: &Receipt, font: &CjkFont) -> Result<Vec<u8>, PdfError> {
    if !r.applicant_masked.contains('*') {
        return Err(PdfError::Unmasked("applicant_masked"));
    }
    if !r.id_number_masked.contains('*') {
        return Err(PdfError::Unmasked("id_number_masked"));
    }
    let reference = r.case_number.clone().unwrap_or_else(|| r.local_reference.clone());
    let t = r.time;
    let time = format!(
        "{:04}年{:02}月{:02}日 {:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute()
    );
    let rows: Vec<(&str, String)> = vec![
        ("办理事项", r.item_name.clone()),
        ("申请人", r.applicant_masked.clone()),
        ("证件号码", r.id_number_masked.clone()),
        ("受理时间", time),
        ("受理地点", r.village_name.clone()),
        ("终端编号", r.terminal_id.clone()),
        ("办件状态", r.state.label_zh().to_owned()),
        (if r.case_number.is_some() { "办件编号" } else { "本地编号" }, reference.clone()),
    ];

    let mut doc = Document::new();
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError::Write("page size".into()))?;
    let mut page = doc.start_page_with(settings);
    let mut s = page.surface();
    let f = font.font.clone();
    let text = |s: &mut krilla::surface::Surface, x: f32, y: f32, size: f32, t: &str| {
        s.draw_text(Point::from_xy(x, y), f.clone(), size, t, false, TextDirection::Auto);
    };
    text(&mut s, MARGIN + 150.0, MARGIN + 40.0, 30.0, "受 理 回 执");
    text(&mut s, MARGIN, MARGIN + 80.0, 12.0, "村办 · 甘肃省政务服务村级代办点自助终端");
    let mut y = MARGIN + 130.0;
    for (label, value) in &rows {
        text(&mut s, MARGIN, y, 15.0, label);
        text(&mut s, MARGIN + 100.0, y, 15.0, value);
        y += 30.0;
    }
    // QR code of the reference, for progress lookup at any terminal.
    if let Ok(code) = qrcode::QrCode::new(reference.as_bytes()) {
        let n = code.width();
        let module = 4.0f32;
        let (x0, y0) = (PAGE_W - MARGIN - module * n as f32, y + 10.0);
        let mut pb = PathBuilder::new();
        for (i, c) in code.to_colors().into_iter().enumerate() {
            if c == qrcode::Color::Dark {
                let (mx, my) = ((i % n) as f32, (i / n) as f32);
                if let Some(rect) = Rect::from_xywh(x0 + mx * module, y0 + my * module, module, module) {
                    pb.push_rect(rect);
                }
            }
        }
        if let Some(path) = pb.finish() {
            s.draw_path(&path);
        }
        text(&mut s, MARGIN, y0 + 20.0, 13.0, "凭此回执可在村办终端扫码查询办理进度，");
        text(&mut s, MARGIN, y0 + 42.0, 13.0, "或登录甘肃政务服务网、甘快办查询。");
    }
    text(&mut s, MARGIN, PAGE_H - MARGIN, 11.0, "本回执仅证明申请已受理，不作为办理结果。请妥善保管。");
    s.finish();
    page.finish();
    doc.finish().map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::SubmitState;
    use time::macros::datetime;

    fn receipt() -> Receipt {
        Receipt {
            item_name: "城乡居民基本养老保险待遇申领".into(),
            applicant_masked: "张**".into(),
            id_number_masked: "6229**********0021".into(),
            time: datetime!(2026-11-21 10:32),
            terminal_id: "GS-DEMO-0001".into(),
            village_name: "巴牙村委会".into(),
            state: SubmitState::Sent,
            case_number: Some("LX2026-00731".into()),
            local_reference: "R-0001".into(),
        }
    }

    #[test]
    fn refuses_unmasked_fields_and_a_missing_font() {
        let mut r = receipt();
        r.applicant_masked = "张桂兰".into();
        let font = match CjkFont::system_default() {
            Ok(f) => f,
            Err(PdfError::FontMissing(_)) => {
                panic!("fonts-noto-cjk is not installed (apt-get install fonts-noto-cjk, or run ./dev test)");
            }
            Err(e) => panic!("{e}"),
        };
        assert!(matches!(acknowledgement_pdf(&r, &font), Err(PdfError::Unmasked("applicant_masked"))));
        assert!(matches!(CjkFont::load(Path::new("/no/such/font.ttc"), 0), Err(PdfError::FontMissing(_))));
    }

    #[test]
    fn the_pdf_embeds_a_font_subset_and_maps_glyphs_back_to_text() {
        let Ok(font) = CjkFont::system_default() else {
            panic!("fonts-noto-cjk is not installed (apt-get install fonts-noto-cjk, or run ./dev test)");
        };
        let pdf = acknowledgement_pdf(&receipt(), &font).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        // A subset font (tag prefix "ABCDEF+") and a ToUnicode map: searchable.
        assert!(text.contains("NotoSansCJK"), "font not embedded");
        assert!(text.contains("/ToUnicode"), "no ToUnicode map");
        // Subset: far smaller than the 20 MB collection.
        assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
    }
}
