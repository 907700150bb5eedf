//! The supervised reader: card events, and recovery from an unplugged reader.

use std::time::{Duration, Instant};

use drivers::health::Health;
use drivers::idcard::reader::{FIND_CARD, READ_TEXT_PHOTO, SELECT_CARD};
use drivers::idcard::{Card, IdCardError, ReaderEvent, ReaderSupervisor, SamError, SamSimulator, SimCard};

fn setup() -> (SamSimulator, ReaderSupervisor) {
    let sim = SamSimulator::start().expect("pty");
    let sup = ReaderSupervisor::new(sim.path().to_string_lossy().into_owned());
    (sim, sup)
}

fn presented_name(event: ReaderEvent) -> String {
    match event {
        ReaderEvent::Presented(card) => card.masked_name(),
        other => panic!("expected a card, got {other:?}"),
    }
}

/// Polls until `done` accepts an outcome or `within` passes.
fn poll_until(
    sup: &mut ReaderSupervisor,
    within: Duration,
    mut done: impl FnMut(&Result<ReaderEvent, IdCardError>) -> bool,
) -> Result<ReaderEvent, IdCardError> {
    let until = Instant::now() + within;
    loop {
        let r = sup.poll();
        if done(&r) || Instant::now() > until {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_card_is_read_once_when_put_on_and_reported_when_taken_off() {
    let (sim, mut sup) = setup();
    assert!(matches!(sup.poll().unwrap(), ReaderEvent::Unchanged));
    assert_eq!(sup.health(), Health::Ok);
    sim.present(SimCard::sample());
    assert_eq!(presented_name(sup.poll().unwrap()), "张**");
    let reads = |sim: &SamSimulator| sim.requests().iter().filter(|r| **r == READ_TEXT_PHOTO).count();
    assert_eq!(reads(&sim), 1);
    // Lying on the reader: recognised by its serial, not read again.
    for _ in 0..3 {
        assert!(matches!(sup.poll().unwrap(), ReaderEvent::Unchanged));
    }
    assert_eq!(reads(&sim), 1);
    assert!(sup.card_present());
    sim.remove();
    assert!(matches!(sup.poll().unwrap(), ReaderEvent::Removed));
    assert!(matches!(sup.poll().unwrap(), ReaderEvent::Unchanged));
    // The same card put back is news again.
    sim.present(SimCard::sample());
    assert_eq!(presented_name(sup.poll().unwrap()), "张**");
    // Swapped for another card without a poll in between.
    sim.present(SimCard::foreign_2023());
    assert_eq!(presented_name(sup.poll().unwrap()), "穆**");
}

#[test]
fn a_card_slid_on_mid_poll_is_read_on_the_next_poll() {
    let (sim, mut sup) = setup();
    sim.present(SimCard::sample());
    sim.fail_next_command(SELECT_CARD, SamError::SelectFailed);
    // Found but not yet selectable: no error for the villager, no event.
    assert!(matches!(sup.poll().unwrap(), ReaderEvent::Unchanged));
    assert!(!sup.card_present());
    assert_eq!(presented_name(sup.poll().unwrap()), "张**");
    // A read that fails is an error once, then the card is read.
    sim.remove();
    assert!(matches!(sup.poll().unwrap(), ReaderEvent::Removed));
    sim.present(SimCard::sample());
    sim.fail_next_command(READ_TEXT_PHOTO, SamError::ReadFailed);
    assert!(matches!(sup.poll(), Err(IdCardError::Sam(SamError::ReadFailed))));
    assert_eq!(presented_name(sup.poll().unwrap()), "张**");
}

#[test]
fn a_failed_read_is_retried_on_the_next_poll() {
    let (sim, mut sup) = setup();
    sim.present(SimCard::sample());
    sim.corrupt_next_response(); // the find answer
    assert!(matches!(sup.poll(), Err(IdCardError::Frame(_))));
    assert!(matches!(sup.health(), Health::Degraded(_)));
    assert_eq!(presented_name(sup.poll().unwrap()), "张**");
    assert_eq!(sup.health(), Health::Ok);
    let req = sim.requests();
    assert_eq!(&req[req.len() - 3..], [FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO]);
}

#[test]
fn an_unplugged_reader_recovers_on_its_own_when_plugged_back_in() {
    let (sim, mut sup) = setup();
    sup.set_timeout(Duration::from_millis(500));
    sim.present(SimCard::sample());
    assert_eq!(presented_name(sup.poll().unwrap()), "张**");

    sim.unplug();
    let err = sup.poll().unwrap_err();
    assert!(err.is_device_missing(), "{err:?}");
    assert!(matches!(sup.health(), Health::Absent(_)));
    // Still gone: polls fail fast and keep saying so.
    let started = Instant::now();
    for _ in 0..3 {
        assert!(sup.poll().unwrap_err().is_device_missing());
    }
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());

    sim.replug().expect("replug");
    // The card still lies there: after the reopen it is presented again.
    let r = poll_until(&mut sup, Duration::from_secs(8), |r| r.is_ok());
    assert_eq!(presented_name(r.unwrap()), "张**");
    assert_eq!(sup.health(), Health::Ok);
    sim.remove();
    assert!(matches!(sup.poll().unwrap(), ReaderEvent::Removed));
}

#[test]
fn a_reader_absent_at_start_is_picked_up_when_it_appears() {
    let sim = SamSimulator::start().expect("pty");
    sim.unplug();
    let mut sup = ReaderSupervisor::new(sim.path().to_string_lossy().into_owned());
    let err = sup.poll().unwrap_err();
    assert!(matches!(err, IdCardError::Open { .. }), "{err:?}");
    assert!(matches!(sup.health(), Health::Absent(_)));
    sim.replug().unwrap();
    sim.present(SimCard::hmt_permit());
    let r = poll_until(&mut sup, Duration::from_secs(8), |r| r.is_ok());
    match r.unwrap() {
        ReaderEvent::Presented(card) => assert!(matches!(*card, Card::Citizen { permit: Some(_), .. })),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_hung_module_is_reported_absent_and_reopened() {
    let (sim, mut sup) = setup();
    sup.set_timeout(Duration::from_millis(150));
    // Longer than three timeouts: no late answer lands during them.
    sim.set_delay(Duration::from_millis(1000));
    for _ in 0..3 {
        assert!(matches!(sup.poll(), Err(IdCardError::Timeout)));
    }
    assert!(matches!(sup.health(), Health::Absent(_)));
    sim.set_delay(Duration::ZERO);
    let r = poll_until(&mut sup, Duration::from_secs(5), |r| r.is_ok());
    assert!(matches!(r, Ok(ReaderEvent::Unchanged)), "{r:?}");
}
