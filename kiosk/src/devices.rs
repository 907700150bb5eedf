//! Adapters from the drivers to what the session needs, and the plain
//! sentences a villager sees when a device misbehaves.

use drivers::idcard::{Card, CardDataError, ReaderEvent, ReaderSupervisor, SamError};
use drivers::receipt::SubmitState;
use drivers::{FileDriver, IdCardError, PrinterError, Receipt, SerialDriver};
use model::Identity;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use tracing::warn;

pub use crate::ports::DocumentPrinter;
use crate::ports::{CardSource, ReceiptSink};
use crate::config::PrinterConfig;
use crate::session::ReceiptData;
use ui::i18n::n_;

/// The ID card reader through the drivers' [`ReaderSupervisor`]: reopened
/// after an unplug (with backoff), each card reported once while it lies
/// there, all card types read: resident ID, 'J' residence permits and
/// foreign permanent resident cards ('I' 2017, 'Y' 2023; their numbers are
/// `IdNumber`s of their own kind).
pub struct Reader {
    supervisor: ReaderSupervisor,
}

impl Reader {
    /// A supervised reader on the serial device `path`; nothing is opened until the first poll.
    pub fn new(path: impl Into<String>) -> Reader {
        Reader { supervisor: ReaderSupervisor::new(path) }
    }
}

impl CardSource for Reader {
    fn poll(&mut self) -> Result<Option<Identity>, String> {
        match self.supervisor.poll() {
            Ok(ReaderEvent::Presented(card)) => match *card {
                Card::Citizen { identity, .. } => Ok(Some(identity)),
                Card::Foreign(foreign) => match foreign.to_identity() {
                    Ok(identity) => Ok(Some(identity)),
                    Err(e) => {
                        warn!(card_type = ?foreign.card_type, error = %e, "a foreign permanent resident card cannot file");
                        Err(FOREIGN_CARD.into())
                    }
                },
            },
            Ok(ReaderEvent::Removed | ReaderEvent::Unchanged) => Ok(None),
            Err(e) => {
                warn!(error = %e, "ID card read failed");
                Err(card_problem(&e))
            }
        }
    }

    fn restart(&mut self) {
        self.supervisor.forget_card();
    }
}

const FOREIGN_CARD: &str = n_("本机暂时不能用外国人永久居留身份证办理，请村代办员帮忙，或到乡镇便民服务中心办理。");

/// What to tell the villager about a reader error.
pub fn card_problem(e: &IdCardError) -> String {
    match e {
        IdCardError::Card(CardDataError::IdNumber(_)) => {
            n_("这张证件的号码校验不通过，无法使用。请换一张证件，或请村代办员帮忙。").into()
        }
        IdCardError::Card(CardDataError::UnsupportedCardLayout(_) | CardDataError::UnknownCardType(_)) => {
            n_("本机暂时不能读取这种证件，请使用居民身份证，或请村代办员帮忙。").into()
        }
        IdCardError::Card(_) | IdCardError::Sam(SamError::SelectFailed | SamError::ReadFailed) => {
            n_("没有读清楚，请把身份证拿起来，再平放到读卡器上。").into()
        }
        e if e.is_device_missing() => n_("读卡器没有连接好，请联系村代办员。").into(),
        IdCardError::Timeout => n_("读卡器没有回应，请稍等，或联系村代办员。").into(),
        _ => n_("读卡器出了点问题，请稍后再试，或联系村代办员。").into(),
    }
}

/// The receipt printer described by the configuration.
pub struct Printer {
    config: PrinterConfig,
}

impl Printer {
    /// A printer as `config` describes it.
    pub fn new(config: PrinterConfig) -> Printer {
        Printer { config }
    }
}

/// Beijing time: receipts show the villager's clock, whatever the system zone.
const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The receipt as the printer driver takes it: times in China time (UTC+8), the village by name where known.
pub fn to_driver_receipt(r: &ReceiptData) -> Receipt {
    let local: OffsetDateTime = r.time.to_offset(CHINA);
    let village = model::VillageCode::parse(&r.village_code).ok().and_then(|v| v.name());
    Receipt {
        item_name: r.item_name.clone(),
        applicant_masked: r.applicant_masked.clone(),
        id_number_masked: r.id_number_masked.clone(),
        time: PrimitiveDateTime::new(local.date(), local.time()),
        terminal_id: r.terminal_id.clone(),
        village_name: village.unwrap_or(&r.village_code).to_owned(),
        state: if r.case_number.is_some() { SubmitState::Sent } else { SubmitState::Queued },
        case_number: r.case_number.as_ref().map(|c| c.to_string()),
        local_reference: r.reference.clone(),
    }
}

impl ReceiptSink for Printer {
    fn print(&mut self, r: &ReceiptData) -> Result<(), String> {
        let receipt = to_driver_receipt(r);
        let result = match &self.config {
            PrinterConfig::File { path } => FileDriver::open(path)
                .map_err(PrinterError::Io)
                .and_then(|d| drivers::print_receipt(&d, &receipt)),
            PrinterConfig::Serial { path, baud } => {
                SerialDriver::open(&path.to_string_lossy(), *baud).and_then(|d| drivers::print_receipt(&d, &receipt))
            }
            PrinterConfig::Network { addr } => {
                drivers::receipt::NetworkDriver::connect(addr).and_then(|d| drivers::print_receipt(&d, &receipt))
            }
        };
        result.map_err(|e| {
            warn!(error = %e, "receipt printer failed");
            match e {
                PrinterError::Open { .. } | PrinterError::Disconnected => n_("打印机没有连接好").to_owned(),
                PrinterError::Timeout => n_("打印机没有回应").to_owned(),
                _ => n_("打印机出现故障").to_owned(),
            }
        })
    }
}


/// A CUPS queue (`[devices.a4_printer] kind = "cups"`).
pub struct A4Printer {
    server: String,
    queue: String,
    /// How long a job may take before the villager is told it did not print.
    timeout: std::time::Duration,
}

impl A4Printer {
    /// The CUPS queue `config` names, with a three-minute print timeout.
    pub fn new(config: &drivers::config::A4PrinterConfig) -> A4Printer {
        let drivers::config::A4PrinterConfig::Cups { queue, server } = config;
        A4Printer { server: server.clone(), queue: queue.clone(), timeout: std::time::Duration::from_secs(180) }
    }
}

impl DocumentPrinter for A4Printer {
    fn print_pdf(&mut self, pdf: Vec<u8>, title: &str) -> Result<(), String> {
        use drivers::a4::{A4Error, CupsPrinter};
        let result = CupsPrinter::new(&self.server, &self.queue).and_then(|p| p.print_and_wait(pdf, title, self.timeout));
        result.map(|_| ()).map_err(|e| {
            warn!(error = %e, "A4 printing failed");
            match e {
                A4Error::Unreachable { .. } | A4Error::NoSuchQueue(_) => n_("打印机没有连接好").to_owned(),
                A4Error::PrinterStopped(_) | A4Error::NotAccepting(_) => n_("打印机停了，可能缺纸或卡纸").to_owned(),
                A4Error::Timeout { .. } => n_("打印机没有回应").to_owned(),
                _ => n_("打印机出现故障").to_owned(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drivers::{SamSimulator, SimCard};
    use std::time::{Duration, Instant};

    /// Polls until something other than "no news" comes, or `wait` passes.
    fn next(reader: &mut Reader, wait: Duration) -> Result<Option<Identity>, String> {
        let deadline = Instant::now() + wait;
        loop {
            let got = reader.poll();
            if !matches!(got, Ok(None)) || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn reads_each_card_once_recovers_after_an_unplug_and_reads_every_card_type() {
        let sim = SamSimulator::start().unwrap();
        let mut reader = Reader::new(sim.path().to_string_lossy().into_owned());
        assert_eq!(reader.poll(), Ok(None), "no card");
        sim.present(SimCard::sample());
        let card = next(&mut reader, Duration::from_secs(5)).unwrap().expect("the card");
        assert_eq!(card.name, "张桂兰");
        // Lying there: not read again, until the next step asks for a card.
        assert_eq!(reader.poll(), Ok(None));
        reader.restart();
        assert!(reader.poll().unwrap().is_some(), "re-presented after restart");

        // Unplugged: a plain sentence about the reader; plugged back: it reads again.
        sim.unplug();
        let err = next(&mut reader, Duration::from_secs(5)).unwrap_err();
        assert!(err.contains("读卡器"), "{err}");
        sim.replug().unwrap();
        sim.present(SimCard::hmt_permit());
        let deadline = Instant::now() + Duration::from_secs(15);
        let permit = loop {
            if let Ok(Some(id)) = reader.poll() {
                break id;
            }
            assert!(Instant::now() < deadline, "the reader never came back");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(permit.card_type, model::identity::CardType::HmtResidencePermit);

        for card in [SimCard::foreign_2023(), SimCard::foreign_2017()] {
            sim.present(card);
            let foreign = next(&mut reader, Duration::from_secs(5)).unwrap().expect("a foreign card files too");
            assert!(matches!(
                foreign.card_type,
                model::identity::CardType::ForeignPermanentResident | model::identity::CardType::ForeignPermanentResident2023
            ));
            assert_ne!(foreign.id_number.kind(), model::identity::IdNumberKind::Citizen);
            assert!(foreign.address.is_empty());
        }
    }
}
