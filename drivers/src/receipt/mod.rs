//! Receipt printer: ESC/POS via the `escpos` crate, Chinese text as GB18030
//! in the printer's Chinese mode, and a QR code for progress lookup.

mod driver;
mod error;
mod network;
pub mod simulator;
mod status;

use encoding_rs::GB18030;
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
use time::PrimitiveDateTime;

pub use driver::{FileDriver, MemoryDriver, SerialDriver};
pub use error::PrinterError;
pub use network::NetworkDriver;
pub use simulator::{NetworkPrinterSimulator, PrinterSimulator};
pub use status::PaperStatus;

/// Heading of every receipt.
pub const TITLE: &str = "村办 · 办件回执";
/// Printed under the QR code.
pub const SCAN_HINT: &str = "请在村办终端扫描此码查询办理进度";

/// `FS &`: Chinese character mode on, so the printer reads two- and
/// four-byte GB18030 sequences as Hanzi.
pub const FS_CHINESE_ON: [u8; 2] = [0x1C, 0x26];

/// Characters per line on 58 mm paper in the default font.
const LINE_WIDTH: usize = 32;

/// Whether the filing reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitState {
    /// The platform acknowledged it.
    Sent,
    /// Saved on the terminal, waiting for the network.
    Queued,
}

impl SubmitState {
    /// What the receipt prints for the state.
    pub fn label_zh(self) -> &'static str {
        match self {
            SubmitState::Sent => "已提交",
            SubmitState::Queued => "已保存，网络恢复后自动发送",
        }
    }
}

/// What a receipt says. Personal fields arrive already masked
/// (`model::mask`); printing refuses a value with no mask in it, because a
/// receipt left at the kiosk is readable by the next villager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// 事项名称.
    pub item_name: String,
    /// Masked, e.g. `张**`.
    pub applicant_masked: String,
    /// Masked, e.g. `6229**********0021`.
    pub id_number_masked: String,
    /// Local time of the filing.
    pub time: PrimitiveDateTime,
    /// The terminal's id, printed for the service desk.
    pub terminal_id: String,
    /// The village the terminal serves.
    pub village_name: String,
    /// Whether the filing reached the platform.
    pub state: SubmitState,
    /// 办件编号, once the platform assigned one.
    pub case_number: Option<String>,
    /// 查询码: the terminal's own reference while there is no case number.
    pub local_reference: String,
}

impl Receipt {
    /// What the QR code holds: the case number when there is one.
    pub fn qr_payload(&self) -> &str {
        self.case_number.as_deref().filter(|c| !c.is_empty()).unwrap_or(&self.local_reference)
    }

    fn check(&self) -> Result<(), PrinterError> {
        if !self.applicant_masked.contains('*') {
            return Err(PrinterError::Unmasked("applicant_masked"));
        }
        if !self.id_number_masked.contains('*') {
            return Err(PrinterError::Unmasked("id_number_masked"));
        }
        if self.qr_payload().is_empty() {
            return Err(PrinterError::NoReference);
        }
        Ok(())
    }
}

/// Text in GB18030 as raw bytes: escpos's page codes have no Chinese table.
fn text<D: Driver>(p: &mut Printer<D>, s: &str) -> Result<(), PrinterError> {
    // GB18030 encodes all of Unicode, so there is nothing to replace.
    let (bytes, _, _) = GB18030.encode(s);
    p.custom(&bytes)?.feed()?;
    Ok(())
}

fn format_time(t: PrimitiveDateTime) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// Prints a receipt and cuts the paper. The driver is cloned into the
/// printer (escpos drivers share their handle), so the caller keeps it.
pub fn print_receipt<D: Driver + Clone>(driver: &D, receipt: &Receipt) -> Result<(), PrinterError> {
    receipt.check()?;
    let mut p = Printer::new(driver.clone(), Protocol::default(), None);
    p.init()?.custom(&FS_CHINESE_ON)?;

    p.justify(JustifyMode::CENTER)?.bold(true)?.size(2, 2)?;
    text(&mut p, TITLE)?;
    p.reset_size()?.bold(false)?.justify(JustifyMode::LEFT)?;
    text(&mut p, &"-".repeat(LINE_WIDTH))?;
    text(&mut p, &format!("事项：{}", receipt.item_name))?;
    text(&mut p, &format!("申请人：{}", receipt.applicant_masked))?;
    text(&mut p, &format!("证件号码：{}", receipt.id_number_masked))?;
    text(&mut p, &format!("时间：{}", format_time(receipt.time)))?;
    text(&mut p, &format!("村：{}", receipt.village_name))?;
    text(&mut p, &format!("终端：{}", receipt.terminal_id))?;
    text(&mut p, &format!("状态：{}", receipt.state.label_zh()))?;
    match receipt.case_number.as_deref().filter(|c| !c.is_empty()) {
        Some(case) => text(&mut p, &format!("办件编号：{case}"))?,
        None => text(&mut p, &format!("查询码：{}", receipt.local_reference))?,
    }
    text(&mut p, &"-".repeat(LINE_WIDTH))?;

    p.justify(JustifyMode::CENTER)?;
    // Model 2 at M: readable by phone and kiosk cameras, tolerant of a smudge.
    p.qrcode_option(receipt.qr_payload(), QRCodeOption::new(QRCodeModel::Model2, 6, QRCodeCorrectionLevel::M))?;
    text(&mut p, SCAN_HINT)?;
    p.justify(JustifyMode::LEFT)?.feeds(3)?.cut()?.print()?;
    Ok(())
}

/// The bytes [`print_receipt`] would send.
pub fn receipt_bytes(receipt: &Receipt) -> Result<Vec<u8>, PrinterError> {
    let driver = MemoryDriver::new();
    print_receipt(&driver, receipt)?;
    Ok(driver.bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos_inspect::{qr_payloads, text_gb18030};
    use model::mask::{mask_name, mask_number};
    use time::macros::datetime;

    const ID: &str = "622926195203070021";

    fn receipt(case: Option<&str>) -> Receipt {
        Receipt {
            item_name: "城乡居民基本养老保险待遇申领".into(),
            applicant_masked: mask_name("张桂兰"),
            id_number_masked: mask_number(ID),
            time: datetime!(2026-11-21 10:05),
            terminal_id: "T-622926-0007".into(),
            village_name: "白家村".into(),
            state: if case.is_some() { SubmitState::Sent } else { SubmitState::Queued },
            case_number: case.map(str::to_owned),
            local_reference: "Q7K2M9".into(),
        }
    }

    #[test]
    fn case_number_is_the_one_qr_payload_and_personal_data_stays_masked() {
        let bytes = receipt_bytes(&receipt(Some("62202611210000001"))).unwrap();
        assert_eq!(qr_payloads(&bytes), [b"62202611210000001".to_vec()]);
        let text = text_gb18030(&bytes);
        assert!(text.contains(TITLE), "{text}");
        assert!(text.contains("城乡居民基本养老保险待遇申领"), "{text}");
        assert!(text.contains("办件编号：62202611210000001"), "{text}");
        assert!(text.contains("时间：2026-11-21 10:05"), "{text}");
        assert!(text.contains("状态：已提交"), "{text}");
        assert!(text.contains(SCAN_HINT), "{text}");
        assert!(text.contains("张**"), "{text}");
        assert!(!text.contains("张桂兰"), "{text}");
        assert!(!text.contains(ID), "{text}");
        assert!(!text.contains(&ID[6..14]), "birth date leaked: {text}");
    }

    #[test]
    fn queued_filing_encodes_the_local_reference() {
        let bytes = receipt_bytes(&receipt(None)).unwrap();
        assert_eq!(qr_payloads(&bytes), [b"Q7K2M9".to_vec()]);
        let text = text_gb18030(&bytes);
        assert!(text.contains("查询码：Q7K2M9"), "{text}");
        assert!(text.contains("已保存，网络恢复后自动发送"), "{text}");
        assert!(!text.contains("办件编号"), "{text}");
    }

    #[test]
    fn stream_starts_in_chinese_mode_with_gb18030_and_ends_with_a_cut() {
        let bytes = receipt_bytes(&receipt(None)).unwrap();
        assert_eq!(&bytes[..4], &[0x1B, 0x40, 0x1C, 0x26], "ESC @ then FS &");
        let (title, _, _) = GB18030.encode(TITLE);
        assert!(bytes.windows(title.len()).any(|w| w == &title[..]));
        assert!(bytes.ends_with(&[0x1D, 0x56, 0x41, 0x00]), "full cut last");
        // UTF-8 would print as mojibake on a GB18030 printer.
        assert!(!bytes.windows(TITLE.len()).any(|w| w == TITLE.as_bytes()));
    }

    #[test]
    fn unmasked_personal_data_is_refused() {
        let mut r = receipt(None);
        r.applicant_masked = "张桂兰".into();
        assert!(matches!(receipt_bytes(&r), Err(PrinterError::Unmasked("applicant_masked"))));
        let mut r = receipt(None);
        r.id_number_masked = ID.into();
        assert!(matches!(receipt_bytes(&r), Err(PrinterError::Unmasked("id_number_masked"))));
        let mut r = receipt(None);
        r.local_reference.clear();
        assert!(matches!(receipt_bytes(&r), Err(PrinterError::NoReference)));
    }
}
