//! Rating after a filing and from home.

use super::*;

#[test]
fn rating_after_filing_records_an_evaluation() {
    let mut s = session(Capabilities::default());
    to_saved(&mut s, true);
    assert!(s.view().can_rate);
    s.handle(Event::RateNow);
    let v = s.view();
    assert_eq!(v.screen, Screen::Rate);
    assert_eq!(v.item_name, "社会保障卡申领");
    assert!(v.reasons.is_empty(), "reasons come after a face is chosen");
    // Nothing to send without a face.
    assert!(s.handle(Event::SubmitRating).is_empty());
    s.handle(Event::ChooseRating(Rating::Dissatisfied));
    s.handle(Event::ToggleReason("slow".into()));
    s.handle(Event::ToggleReason("machine".into()));
    s.handle(Event::ToggleReason("machine".into()));
    s.handle(Event::ToggleReason("fast".into())); // not a complaint: ignored
    let v = s.view();
    assert_eq!(v.rating, Some(Rating::Dissatisfied));
    assert!(v.reasons.iter().any(|r| r.value == "slow" && r.selected));
    assert!(v.reasons.iter().all(|r| r.value != "machine" || !r.selected));
    let fx = s.handle(Event::SubmitRating);
    let [Effect::StoreRating(record)] = fx.as_slice() else { panic!("{fx:?}") };
    let evaluation = record.evaluation().expect("sent filings have a case number");
    assert_eq!(evaluation.case_number.as_str(), "62202611210000001");
    assert_eq!(evaluation.rating, Rating::Dissatisfied);
    assert_eq!(evaluation.reasons, ["等的时间太长"]);
    assert_eq!(s.screen(), Screen::Goodbye);
    assert!(s.view().goodbye_message.contains("谢谢您的评价"));
}

#[test]
fn rating_a_waiting_filing_names_its_reference_and_back_returns() {
    let mut s = session(Capabilities::default());
    let id = to_saved(&mut s, false);
    s.handle(Event::RateNow);
    s.handle(Event::Back);
    assert_eq!(s.screen(), Screen::Saved, "不评了 goes back where it came from");
    s.handle(Event::RateNow);
    s.handle(Event::ChooseRating(Rating::VerySatisfied));
    let fx = s.handle(Event::SubmitRating);
    let [Effect::StoreRating(record)] = fx.as_slice() else { panic!("{fx:?}") };
    assert_eq!(record.target, RatingTarget::Submission(id));
    assert!(record.evaluation().is_none(), "the app links it once the case number arrives");
}

#[test]
fn rating_from_home_by_receipt_number_or_card() {
    let mut s = session(Capabilities::default());
    s.handle(Event::RateService);
    assert_eq!(s.screen(), Screen::Progress);
    let fx = s.handle(Event::CodeEntered("62202611210000001".into()));
    assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
    assert_eq!(s.screen(), Screen::Rate);
    assert_eq!(s.view().item_name, "办件编号 62202611210000001");
    s.handle(Event::Back);
    assert_eq!(s.screen(), Screen::Home);

    s.handle(Event::RateService);
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    let newest = FilingStatus {
        reference: SubmissionId::new(),
        item_code: ImplementCode::parse("620000GA0001").unwrap(),
        created_at: datetime!(2026-11-21 09:00 +8),
        case_number: None,
        stage: FilingStage::Waiting,
        result_available: false,
        known: Known::Here,
        parts: Vec::new(),
    };
    s.handle(Event::LookedUp(vec![newest.clone()]));
    let v = s.view();
    assert_eq!(v.screen, Screen::Rate);
    assert_eq!(v.item_name, "出生登记");
}
