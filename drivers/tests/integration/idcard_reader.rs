//! The real reader against the simulated SAM over a pty.

use std::time::{Duration, Instant};

use drivers::health::{DeviceHealth, Health};
use drivers::idcard::reader::{FIND_CARD, READ_TEXT_PHOTO, SELECT_CARD};
use drivers::idcard::{CardDataError, IdCardError, SamError, SamReader, SamSimulator, SimCard};
use model::identity::parse_yyyymmdd;
use model::mask::mask_number;
use model::{CardType, Gender, IdNumberError, IdentityError, Validity};

fn setup() -> (SamSimulator, SamReader) {
    let sim = SamSimulator::start().expect("pty");
    let path = sim.path();
    let reader = SamReader::open(path.to_str().expect("utf-8 pty path")).expect("open reader");
    (sim, reader)
}

#[test]
fn no_card_reads_as_none_without_selecting() {
    let (sim, mut reader) = setup();
    assert!(reader.read_card().unwrap().is_none());
    assert_eq!(sim.requests(), [FIND_CARD]);
}

#[test]
fn a_present_card_decodes_into_an_identity() {
    let (sim, mut reader) = setup();
    let card = SimCard::sample();
    sim.present(card.clone());
    let id = reader.read_card().unwrap().expect("card present");
    assert_eq!(sim.requests(), [FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO]);
    assert_eq!(id.masked_name(), "张**");
    assert_eq!(id.name, card.text.name);
    assert_eq!(id.gender, Gender::Female);
    assert_eq!(id.nation_code, "01");
    assert_eq!(id.birth_date, parse_yyyymmdd("19520307").unwrap());
    assert!(id.address.starts_with("甘肃省临夏回族自治州东乡族自治县锁南镇"));
    assert_eq!(id.id_number.masked(), mask_number(&card.text.id_number));
    assert_eq!(id.id_number.region_code(), "622926");
    assert!(id.id_number.county_known());
    assert_eq!(id.authority, "东乡族自治县公安局");
    assert_eq!(id.valid_from, parse_yyyymmdd("20160307").unwrap());
    assert_eq!(id.valid_until, Validity::LongTerm);
    assert_eq!(id.card_type, CardType::ResidentId);
    // The sample photo holds every byte value: nothing was lost or translated.
    assert_eq!(id.photo_wlt, card.photo_wlt);
    assert_eq!(id.photo_wlt.len(), 1024);
}

#[test]
fn remove_and_present_another_card() {
    let (sim, mut reader) = setup();
    sim.present(SimCard::sample());
    assert_eq!(reader.read_card().unwrap().unwrap().masked_name(), "张**");
    sim.remove();
    assert!(reader.read_card().unwrap().is_none());
    sim.present(SimCard::expired());
    assert_eq!(reader.read_card().unwrap().unwrap().masked_name(), "马**");
}

#[test]
fn the_same_card_reads_again_while_it_stays_on_the_reader() {
    let (sim, mut reader) = setup();
    sim.present(SimCard::sample());
    let first = reader.read_card().unwrap().unwrap();
    let second = reader.read_card().unwrap().unwrap();
    assert_eq!(first, second);
}

#[test]
fn an_expired_card_still_decodes_and_the_kiosk_can_refuse_it() {
    let (sim, mut reader) = setup();
    sim.present(SimCard::expired());
    let id = reader.read_card().unwrap().unwrap();
    let end = parse_yyyymmdd("20200512").unwrap();
    assert_eq!(id.valid_until, Validity::Until(end));
    assert_eq!(id.gender, Gender::Male);
    assert_eq!(id.nation_code, "28");
    assert_eq!(id.check_valid_on(parse_yyyymmdd("20261121").unwrap()), Err(IdentityError::Expired(end)));
}

#[test]
fn a_bad_check_digit_is_a_typed_error_without_the_number() {
    let (sim, mut reader) = setup();
    let card = SimCard::bad_check_digit();
    sim.present(card.clone());
    let err = reader.read_card().unwrap_err();
    assert!(
        matches!(err, IdCardError::Card(CardDataError::IdNumber(IdNumberError::CheckDigit))),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(&card.text.id_number[..17]), "{shown}");
    assert!(!shown.contains(&card.text.name), "{shown}");
}

#[test]
fn a_corrupted_answer_is_a_checksum_error_and_the_next_read_works() {
    let (sim, mut reader) = setup();
    sim.present(SimCard::sample());
    sim.corrupt_next_response();
    let err = reader.read_card().unwrap_err();
    assert!(matches!(err, IdCardError::Frame(drivers::idcard::frame::FrameError::Checksum { .. })), "{err:?}");
    assert_eq!(reader.read_card().unwrap().unwrap().masked_name(), "张**");
}

#[test]
fn garbage_on_the_line_before_an_answer_is_skipped() {
    let (sim, mut reader) = setup();
    sim.present(SimCard::sample());
    sim.inject_garbage(&[0x00, 0xAA, 0xAA, 0x96, 0xFF, 0x0D, 0x0A, 0xAA]);
    assert!(reader.read_card().unwrap().is_some());
}

#[test]
fn a_slow_module_times_out_and_a_later_read_recovers() {
    let (sim, mut reader) = setup();
    sim.present(SimCard::sample());
    reader.set_timeout(Duration::from_millis(300));
    sim.set_delay(Duration::from_millis(1200));
    let started = Instant::now();
    let err = reader.read_card().unwrap_err();
    assert!(matches!(err, IdCardError::Timeout), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1100), "timeout not honoured: {:?}", started.elapsed());
    sim.set_delay(Duration::ZERO);
    // Let the late answer land; the next exchange must discard it.
    std::thread::sleep(Duration::from_millis(1300));
    reader.set_timeout(SamReader::DEFAULT_TIMEOUT);
    assert_eq!(reader.read_card().unwrap().unwrap().masked_name(), "张**");
}

#[test]
fn sam_id_reads_in_vendor_format_and_reports_health() {
    let (_sim, mut reader) = setup();
    assert_eq!(reader.sam_id().unwrap(), "05.01-20261121-0000012345-0000067890");
    assert_eq!(reader.health(), Health::Ok);
}

#[test]
fn module_statuses_reach_the_caller_as_typed_errors() {
    let (sim, mut reader) = setup();
    sim.fail_next(SamError::SamSelfCheck);
    let err = reader.sam_id().unwrap_err();
    assert!(matches!(err, IdCardError::Sam(SamError::SamSelfCheck)), "{err:?}");
    sim.fail_next(SamError::SamNotAuthorised);
    assert!(matches!(reader.health(), Health::Absent(_)));
    sim.present(SimCard::sample());
    sim.fail_next(SamError::CardAuthentication);
    let err = reader.read_card().unwrap_err();
    assert!(matches!(err, IdCardError::Sam(SamError::CardAuthentication)), "{err:?}");
    assert_eq!(reader.health(), Health::Ok);
}

#[test]
fn a_citizen_block_flagged_as_a_2023_foreign_card_is_refused_with_a_reason() {
    // The flag decides the layout: a resident card's fields read through the
    // 2023 layout make no valid foreign card, and say so without panicking.
    let (sim, mut reader) = setup();
    let mut card = SimCard::sample();
    card.text.card_type = 'Y';
    sim.present(card);
    let err = reader.read_any_card().unwrap_err();
    assert!(matches!(err, IdCardError::Card(CardDataError::BadDate(_) | CardDataError::DocumentNumber(_))), "{err:?}");
}

#[test]
fn residence_permits_decode() {
    let (sim, mut reader) = setup();
    let mut card = SimCard::sample();
    card.text.card_type = 'J';
    card.text.nation.clear();
    sim.present(card);
    let id = reader.read_card().unwrap().unwrap();
    assert_eq!(id.card_type, CardType::HmtResidencePermit);
    assert_eq!(id.nation_code, "");
}

#[test]
fn the_port_can_be_closed_and_reopened() {
    let (sim, reader) = setup();
    sim.present(SimCard::sample());
    drop(reader);
    let mut reader = SamReader::open(sim.path().to_str().unwrap()).expect("reopen");
    assert!(reader.read_card().unwrap().is_some());
}

#[test]
fn an_unplugged_reader_is_reported_as_disconnected() {
    let (sim, mut reader) = setup();
    reader.set_timeout(Duration::from_secs(1));
    drop(sim);
    let err = reader.read_card().unwrap_err();
    assert!(matches!(err, IdCardError::Disconnected), "{err:?}");
    assert!(err.is_device_missing());
    assert!(matches!(reader.health(), Health::Absent(_)));
}

#[test]
fn a_missing_port_fails_to_open_as_absent() {
    let err = SamReader::open("/dev/cunban-no-such-reader").err().expect("no such port");
    assert!(matches!(err, IdCardError::Open { .. }), "{err:?}");
    assert!(err.is_device_missing());
    assert!(matches!(Health::from(&err), Health::Absent(_)));
}

#[test]
fn foreign_resident_cards_of_both_layouts_decode_over_the_wire() {
    use drivers::idcard::Card;
    let (sim, mut reader) = setup();
    for (card, ty) in [
        (SimCard::foreign_2017(), CardType::ForeignPermanentResident),
        (SimCard::foreign_2023(), CardType::ForeignPermanentResident2023),
    ] {
        let f = card.foreign.clone().unwrap();
        sim.present(card.clone());
        let Some(Card::Foreign(r)) = reader.read_any_card().unwrap() else { panic!("not a foreign card") };
        assert_eq!(r.card_type, ty);
        assert_eq!(r.name_en, "MUELLER ANNA MARIA");
        assert_eq!(r.name_zh, "穆安娜");
        assert_eq!(r.gender, Gender::Female);
        assert_eq!(r.nationality, "DEU");
        assert_eq!(r.birth_date, parse_yyyymmdd("19750821").unwrap());
        assert_eq!(r.number.expose(), f.number);
        assert!(r.number.check_digit_ok());
        assert_eq!(r.photo_wlt, card.photo_wlt);
        // A caller that needs a citizen identity gets a typed refusal.
        sim.present(card);
        let err = reader.read_card().unwrap_err();
        assert!(matches!(err, IdCardError::Card(CardDataError::UnsupportedCardLayout(t)) if t == ty), "{err:?}");
    }
}

#[test]
fn a_residence_permit_carries_its_pass_number() {
    use drivers::idcard::Card;
    let (sim, mut reader) = setup();
    sim.present(SimCard::hmt_permit());
    let Some(Card::Citizen { identity, permit }) = reader.read_any_card().unwrap() else { panic!("citizen card") };
    assert_eq!(identity.card_type, CardType::HmtResidencePermit);
    assert_eq!(identity.id_number.region_code(), "830000");
    let permit = permit.expect("J cards have permit fields");
    assert_eq!(permit.pass_number, "01234567");
    assert_eq!(permit.issue_count, "02");
}

#[test]
fn malformed_frames_from_the_module_are_typed_errors_and_the_reader_recovers() {
    use drivers::idcard::frame::{FrameError, PREAMBLE};
    let (sim, mut reader) = setup();
    reader.set_timeout(Duration::from_millis(400));
    sim.present(SimCard::sample());
    // An impossible length field.
    let mut bad = PREAMBLE.to_vec();
    bad.extend([0xFF, 0xFF, 0x00]);
    sim.replace_next_response(&bad);
    let err = reader.read_card().unwrap_err();
    assert!(matches!(err, IdCardError::Frame(FrameError::Length(0xFFFF))), "{err:?}");
    // A truncated frame: the reader waits out its timeout, no hang, no panic.
    let full = drivers::idcard::frame::encode_response(0x9F, &[0; 4]).unwrap();
    sim.replace_next_response(&full[..full.len() - 3]);
    assert!(matches!(reader.read_card().unwrap_err(), IdCardError::Timeout));
    // A well-formed answer of the wrong size for the command.
    sim.replace_next_response(&drivers::idcard::frame::encode_response(0x9F, &[0; 2]).unwrap());
    assert!(matches!(reader.read_card().unwrap_err(), IdCardError::UnexpectedResponse { command: "find card" }));
    reader.set_timeout(SamReader::DEFAULT_TIMEOUT);
    assert_eq!(reader.read_card().unwrap().unwrap().masked_name(), "张**");
}

#[test]
fn every_status_the_module_sends_is_a_typed_error() {
    let (sim, mut reader) = setup();
    sim.present(SimCard::sample());
    for e in [
        SamError::SelectFailed,
        SamError::ReadFailed,
        SamError::RequestChecksum,
        SamError::RequestLength,
        SamError::UnknownCommand,
        SamError::NotAuthorised,
        SamError::Unrecognised,
        SamError::CardAuthentication,
        SamError::InfoChecksum,
        SamError::InfoLength,
        SamError::CardOperation,
        SamError::NoContent,
        SamError::SamSelfCheck,
        SamError::SamNotAuthorised,
    ] {
        sim.fail_next(e);
        let err = reader.read_card().unwrap_err();
        assert!(matches!(err, IdCardError::Sam(got) if got == e), "{e:?}: {err:?}");
    }
    assert!(reader.read_card().unwrap().is_some());
}
