//! Receipts through the real drivers: a file, and a serial printer simulated on a pty.

use std::time::{Duration, Instant};

use drivers::escpos_inspect::{qr_payloads, text_gb18030};
use drivers::health::{DeviceHealth, Health};
use drivers::receipt::{
    print_receipt, receipt_bytes, FileDriver, PaperStatus, PrinterSimulator, Receipt, SerialDriver, SubmitState,
};
use model::mask::{mask_name, mask_number};
use time::macros::datetime;

fn receipt() -> Receipt {
    Receipt {
        item_name: "残疾人两项补贴申请".into(),
        applicant_masked: mask_name("张桂兰"),
        id_number_masked: mask_number("622926195203070021"),
        time: datetime!(2026-11-21 09:30),
        terminal_id: "T-622926-0007".into(),
        village_name: "白家村".into(),
        state: SubmitState::Sent,
        case_number: Some("62202611210000001".into()),
        local_reference: "Q7K2M9".into(),
    }
}

#[test]
fn file_driver_appends_each_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipts.bin");
    let mut driver = FileDriver::open(&path).unwrap();
    assert_eq!(driver.health(), Health::Ok);
    print_receipt(&driver, &receipt()).unwrap();
    let mut second = receipt();
    second.case_number = Some("62202611210000002".into());
    print_receipt(&driver, &second).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(qr_payloads(&bytes), [b"62202611210000001".to_vec(), b"62202611210000002".to_vec()]);
    assert!(text_gb18030(&bytes).contains("残疾人两项补贴申请"));
    assert_eq!(bytes.len(), 2 * receipt_bytes(&receipt()).unwrap().len());

    drop(dir);
    assert!(matches!(driver.health(), Health::Absent(_)));
}

fn wait_for_bytes(sim: &PrinterSimulator, n: usize) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = sim.received();
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serial_printer_receives_the_receipt_byte_for_byte() {
    let sim = PrinterSimulator::start().unwrap();
    let driver = SerialDriver::open(sim.path().to_str().unwrap(), 9600).unwrap();
    print_receipt(&driver, &receipt()).unwrap();
    let expected = receipt_bytes(&receipt()).unwrap();
    assert_eq!(wait_for_bytes(&sim, expected.len()), expected);
    assert_eq!(sim.qr_payloads(), [b"62202611210000001".to_vec()]);
    assert!(sim.text().contains("办件编号：62202611210000001"));
}

#[test]
fn serial_printer_health_follows_the_paper_sensor() {
    let sim = PrinterSimulator::start().unwrap();
    let mut driver = SerialDriver::open(sim.path().to_str().unwrap(), 9600).unwrap();
    assert_eq!(driver.health(), Health::Ok);
    sim.set_paper(PaperStatus::NearEnd);
    assert!(matches!(driver.health(), Health::Degraded(_)));
    sim.set_paper(PaperStatus::Out);
    assert!(matches!(driver.health(), Health::Absent(_)));
    sim.set_mute(true);
    assert!(matches!(driver.health(), Health::Degraded(_)));
    sim.set_mute(false);
    sim.set_paper(PaperStatus::Ok);
    assert_eq!(driver.health(), Health::Ok);
}

#[test]
fn an_unplugged_serial_printer_is_absent() {
    let sim = PrinterSimulator::start().unwrap();
    let mut driver = SerialDriver::open(sim.path().to_str().unwrap(), 9600).unwrap();
    drop(sim);
    assert!(matches!(driver.health(), Health::Absent(_)), "{:?}", driver.health());
    assert!(print_receipt(&driver, &receipt()).is_err());
}

#[test]
fn network_printer_receives_the_receipt_and_answers_status() {
    use drivers::receipt::{NetworkDriver, NetworkPrinterSimulator, PrinterError};
    let sim = NetworkPrinterSimulator::start().unwrap();
    let mut driver = NetworkDriver::connect(&sim.addr()).unwrap();
    assert_eq!(driver.health(), Health::Ok);
    print_receipt(&driver, &receipt()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while sim.qr_payloads().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sim.qr_payloads(), [b"62202611210000001".to_vec()]);
    assert!(sim.text().contains("残疾人两项补贴申请"));
    sim.set_paper(PaperStatus::Out);
    assert_eq!(driver.paper_status(Duration::from_secs(1)).unwrap(), PaperStatus::Out);
    assert!(matches!(driver.health(), Health::Absent(_)));
    // Printer switched off: the connection drops.
    let addr = sim.addr();
    drop(sim);
    assert!(matches!(NetworkDriver::connect(&addr), Err(PrinterError::Connect { .. })));
}
