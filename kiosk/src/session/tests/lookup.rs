//! Progress and result lookups, result printing.

use super::*;

#[test]
fn progress_by_card_and_by_receipt_code() {
    let mut s = session(Capabilities::default());
    let fx = s.handle(Event::QueryProgress);
    assert!(matches!(fx.as_slice(), [Effect::ReadCard]));
    assert_eq!(s.view().screen, Screen::Progress);
    assert_eq!(s.view().lookup_phase, ui::LookupPhase::Ask);

    // By card: only the number leaves the session.
    let fx = s.handle(Event::CardRead(identity(Validity::Until(parse_yyyymmdd("20200101").unwrap()))));
    let [Effect::StopCardReader, Effect::LookUp(Lookup::IdNumber(n))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(n.masked(), "6229**********0029");
    assert_eq!(s.view().lookup_phase, ui::LookupPhase::Looking);
    let id = SubmissionId::new();
    s.handle(Event::LookedUp(vec![FilingStatus {
        reference: id,
        item_code: ImplementCode::parse(SOCIAL_CARD).unwrap(),
        created_at: datetime!(2026-11-20 18:00 UTC),
        case_number: None,
        stage: FilingStage::Waiting,
        result_available: false,
        known: Known::Here,
        parts: Vec::new(),
    }]));
    let v = s.view();
    assert_eq!(v.lookup_phase, ui::LookupPhase::Found);
    assert_eq!(v.lookup_rows.len(), 1);
    assert_eq!(v.lookup_rows[0].item, "社会保障卡申领");
    assert_eq!(v.lookup_rows[0].date, "2026-11-21", "dates are Beijing dates");
    assert_eq!(v.lookup_rows[0].tone, ui::ProgressTone::Waiting);
    assert!(v.lookup_rows[0].status.contains("等网络"));

    // Again, by the number on the receipt.
    let fx = s.handle(Event::Retry);
    assert!(matches!(fx.as_slice(), [Effect::ReadCard]));
    let fx = s.handle(Event::CodeEntered("62202611210000001".into()));
    assert!(matches!(fx.as_slice(), [Effect::StopCardReader, Effect::LookUp(Lookup::Case(_))]));
    // This terminal does not know it: the card must show it is the villager's.
    let fx = s.handle(Event::LookedUp(vec![]));
    assert!(matches!(fx.as_slice(), [Effect::ReadCard]), "{fx:?}");
    let v = s.view();
    assert_eq!(v.lookup_phase, ui::LookupPhase::Ask);
    assert!(v.lookup_card_only && v.lookup_message.contains("身份证"), "{}", v.lookup_message);
    let fx = s.handle(Event::CardRead(identity(Validity::LongTerm)));
    let [Effect::StopCardReader, Effect::LookUp(Lookup::Proven { receipt, id_number })] = fx.as_slice() else { panic!("{fx:?}") };
    assert_eq!((receipt.as_str(), id_number.masked().as_str()), ("62202611210000001", "6229**********0029"));
    s.handle(Event::NothingOnPlatform);
    let v = s.view();
    assert_eq!(v.lookup_phase, ui::LookupPhase::Nothing);
    assert!(v.lookup_message.contains("政务服务平台上没有查到"), "{}", v.lookup_message);
    s.handle(Event::Finish);
    assert_eq!(s.screen(), Screen::Goodbye);

    // A code that cannot be a receipt is refused on the spot.
    s.handle(Event::Finish);
    s.handle(Event::QueryProgress);
    let fx = s.handle(Event::CodeEntered("12".into()));
    assert!(fx.is_empty());
    let v = s.view();
    assert!(v.lookup_error && v.lookup_message.contains("查不到"));
    // Leaving stops the reader.
    let fx = s.handle(Event::Back);
    assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
}

#[test]
fn result_printing_says_no_result_yet_from_local_status() {
    let mut s = session(Capabilities::default());
    s.handle(Event::QueryResult);
    assert_eq!(s.screen(), Screen::Result);
    s.handle(Event::CodeEntered(SubmissionId::new().to_string()));
    s.handle(Event::LookedUp(vec![FilingStatus {
        reference: SubmissionId::new(),
        item_code: ImplementCode::parse(SOCIAL_CARD).unwrap(),
        created_at: datetime!(2026-11-20 10:00 +8),
        case_number: Some(CaseNumber::parse("62202611210000001").unwrap()),
        stage: FilingStage::Delivered,
        result_available: false,
        known: Known::Here,
        parts: Vec::new(),
    }]));
    let v = s.view();
    assert_eq!(v.lookup_phase, ui::LookupPhase::Found);
    assert!(v.lookup_message.contains("还没有可以打印的结果"));
    assert_eq!(v.lookup_rows[0].number, "62202611210000001");
}

#[test]
fn a_finished_case_with_a_document_is_printed_on_request() {
    let mut s = session(Capabilities::default());
    s.handle(Event::QueryResult);
    s.handle(Event::CodeEntered("62202611210000001".into()));
    let case = CaseNumber::parse("62202611210000001").unwrap();
    let done = |result_available| FilingStatus {
        reference: SubmissionId::new(),
        item_code: ImplementCode::parse(SOCIAL_CARD).unwrap(),
        created_at: datetime!(2026-11-01 10:00 +8),
        case_number: Some(case.clone()),
        stage: FilingStage::Done,
        result_available,
        known: Known::Here,
        parts: Vec::new(),
    };
    // Finished, but the platform has no document: nothing to print here.
    s.handle(Event::LookedUp(vec![done(false)]));
    assert!(!s.view().result_printable && s.view().lookup_message.contains("乡镇便民服务中心"));
    assert!(s.handle(Event::PrintResult).is_empty());
    s.handle(Event::Retry);
    s.handle(Event::CodeEntered(case.to_string()));
    s.handle(Event::LookedUp(vec![done(true)]));
    assert!(s.view().result_printable);
    let fx = s.handle(Event::PrintResult);
    assert!(matches!(fx.as_slice(), [Effect::PrintResult(c, None)] if *c == case), "{fx:?}");
    assert!(s.view().result_busy);
    // A second tap while printing does nothing.
    assert!(s.handle(Event::PrintResult).is_empty());
    s.handle(Event::ResultPrintFailed("打印机没有连接好".into()));
    let v = s.view();
    assert!(v.lookup_error && v.lookup_message.contains("打印机没有连接好") && !v.result_busy);
    // Try again: printed.
    assert_eq!(s.handle(Event::PrintResult).len(), 1);
    s.handle(Event::ResultPrinted);
    assert!(s.view().lookup_message.contains("已打印"));
    s.handle(Event::Finish);
    assert_eq!(s.screen(), Screen::Goodbye);
}

/// Progress at any terminal: the platform's answer shows the history and the
/// reply to a bad rating; a result of another terminal's case is fetched
/// with the card that proved it; offline, what this terminal knows, said so.
#[test]
fn a_receipt_from_elsewhere_is_asked_of_the_platform_with_the_card() {
    let mut s = session(Capabilities::default());
    s.handle(Event::QueryResult);
    s.handle(Event::CodeEntered("62202611210000001".into()));
    s.handle(Event::LookedUp(vec![]));
    let card = identity(Validity::LongTerm);
    let number = card.id_number.clone();
    s.handle(Event::CardRead(card));
    let case = CaseNumber::parse("62202611210000001").unwrap();
    let news = PlatformNews {
        history: vec![
            (model::CaseStatus::Received, datetime!(2026-11-21 02:00 UTC)),
            (model::CaseStatus::Accepted, datetime!(2026-11-22 02:00 UTC)),
            (model::CaseStatus::Done, datetime!(2026-11-25 02:00 UTC)),
        ],
        reason: None,
        reply: Some("已加派人手，下次不用久等。".into()),
        filed_here: false,
        proof: number.clone(),
    };
    s.handle(Event::LookedUp(vec![FilingStatus {
        reference: SubmissionId::new(),
        item_code: ImplementCode::parse(SOCIAL_CARD).unwrap(),
        created_at: datetime!(2026-11-21 02:00 UTC),
        case_number: Some(case.clone()),
        stage: FilingStage::Done,
        result_available: true,
        known: Known::Platform(Box::new(news)),
        parts: Vec::new(),
    }]));
    let v = s.view();
    assert_eq!(v.lookup_phase, ui::LookupPhase::Found);
    assert_eq!(v.lookup_rows[0].history, "已接收 11-21 → 已受理 11-22 → 已办结 11-25");
    assert_eq!(v.lookup_rows[0].reply, "对您评价的答复：已加派人手，下次不用久等。");
    assert!(v.result_printable);
    let fx = s.handle(Event::PrintResult);
    assert!(matches!(fx.as_slice(), [Effect::PrintResult(c, Some(p))] if *c == case && *p == number), "{fx:?}");

    // Offline: what this terminal knows of the card, and the screen says so.
    let mut s = session(Capabilities::default());
    s.handle(Event::QueryProgress);
    s.handle(Event::CodeEntered("62202611210000001".into()));
    s.handle(Event::LookedUp(vec![]));
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    s.handle(Event::LookedUp(vec![FilingStatus {
        reference: SubmissionId::new(),
        item_code: ImplementCode::parse(SOCIAL_CARD).unwrap(),
        created_at: datetime!(2026-11-21 02:00 UTC),
        case_number: None,
        stage: FilingStage::Waiting,
        result_available: false,
        known: Known::HereOffline,
        parts: Vec::new(),
    }]));
    let v = s.view();
    assert!(v.lookup_message.contains("连不上政务服务平台") && v.lookup_message.contains("这台机器知道"), "{}", v.lookup_message);
    assert_eq!(v.lookup_rows[0].history, "");
    // Nothing here either.
    s.handle(Event::Retry);
    s.handle(Event::CodeEntered("62202611210000001".into()));
    s.handle(Event::LookedUp(vec![]));
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    s.handle(Event::NothingKnownOffline);
    let v = s.view();
    assert_eq!(v.lookup_phase, ui::LookupPhase::Nothing);
    assert!(v.lookup_message.contains("连不上政务服务平台"), "{}", v.lookup_message);
}
