//! The A4 printer against a private cupsd on loopback (a real CUPS with a
//! file-writing backend), including its faults.

use std::time::Duration;

use drivers::a4::private_cups::PrivateCups;
use drivers::a4::{A4Error, CupsPrinter};
use drivers::health::Health;

/// A one-page PDF with no fonts: enough for a raw queue.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

fn cups() -> Option<PrivateCups> {
    if !PrivateCups::available() {
        // A missing tool fails the test rather than skipping it; ./dev test installs it.
        panic!("cupsd is not installed (apt-get install cups-daemon cups-client, or run ./dev test)");
    }
    Some(PrivateCups::start("A4").expect("private cupsd"))
}

#[test]
fn a_pdf_is_printed_and_followed_to_completion() {
    let Some(cups) = cups() else { return };
    let printer = CupsPrinter::new(&cups.server(), cups.queue()).unwrap();
    assert_eq!(printer.health(), Health::Ok, "{}", cups.log());
    let job = printer.print_and_wait(PDF.to_vec(), "受理回执 LX2026-00731", Duration::from_secs(20));
    let job = job.unwrap_or_else(|e| panic!("{e}\n{}", cups.log()));
    assert!(job > 0);
    assert_eq!(std::fs::read(cups.output()).unwrap(), PDF);
}

#[test]
fn printer_faults_are_typed_errors() {
    let Some(cups) = cups() else { return };
    let printer = CupsPrinter::new(&cups.server(), cups.queue()).unwrap();
    // The backend fails the job (a jam, a printer that went offline).
    cups.set_backend_fault(Some(1)).unwrap();
    let err = printer.print_and_wait(PDF.to_vec(), "jam", Duration::from_secs(20)).unwrap_err();
    assert!(matches!(err, A4Error::JobAborted { .. }), "{err:?}\n{}", cups.log());
    // The backend stops the printer: the waiting job is reported at once.
    cups.set_backend_fault(Some(4)).unwrap();
    let err = printer.print_and_wait(PDF.to_vec(), "stop", Duration::from_secs(20)).unwrap_err();
    assert!(matches!(err, A4Error::PrinterStopped(_)), "{err:?}\n{}", cups.log());
    assert!(matches!(printer.health(), Health::Absent(_)));
    // Fixed and re-enabled by a technician: printing works again.
    cups.set_backend_fault(None).unwrap();
    cups.set_queue_enabled(true).unwrap();
    printer.print_and_wait(PDF.to_vec(), "again", Duration::from_secs(20)).unwrap();
}

#[test]
fn a_missing_queue_and_a_dead_server_are_told_apart() {
    let Some(cups) = cups() else { return };
    let wrong = CupsPrinter::new(&cups.server(), "NoSuchQueue").unwrap();
    assert!(matches!(wrong.queue_report(), Err(A4Error::NoSuchQueue(_))));
    assert!(matches!(wrong.health(), Health::Absent(_)));
    let server = cups.server();
    drop(cups);
    let gone = CupsPrinter::new(&server, "A4").unwrap();
    assert!(matches!(gone.print_pdf(PDF.to_vec(), "x"), Err(A4Error::Unreachable { .. })));
}

#[test]
fn the_acknowledgement_pdf_prints_through_cups() {
    use drivers::a4::receipt_pdf::{acknowledgement_pdf, CjkFont};
    use drivers::receipt::{Receipt, SubmitState};
    let Some(cups) = cups() else { return };
    // fonts-noto-cjk is a build package (./dev): its absence is a failure.
    let font = CjkFont::system_default().expect("Noto Sans CJK (fonts-noto-cjk)");
    let receipt = Receipt {
        item_name: "城乡居民基本养老保险待遇申领".into(),
        applicant_masked: "张**".into(),
        id_number_masked: "6229**********0021".into(),
        time: time::macros::datetime!(2026-11-21 10:32),
        terminal_id: "GS-DEMO-0001".into(),
        village_name: "巴牙村委会".into(),
        state: SubmitState::Queued,
        case_number: None,
        local_reference: "R-20261121-0007".into(),
    };
    let pdf = acknowledgement_pdf(&receipt, &font).unwrap();
    let printer = CupsPrinter::new(&cups.server(), cups.queue()).unwrap();
    printer.print_and_wait(pdf.clone(), "受理回执", Duration::from_secs(20)).unwrap();
    assert_eq!(std::fs::read(cups.output()).unwrap(), pdf);
}
