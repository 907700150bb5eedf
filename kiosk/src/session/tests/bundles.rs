//! Bundles (一件事一次办): offered on home and theme screens, filed as one
//! journey (one guide, one consent, one card, one form asking each field
//! once, one submission naming the parts, one receipt), progress per part.

use super::*;

const UNEMPLOYMENT: &str = "620000YJS004";
const PARTS: [&str; 3] = ["620000RS0013", "620000RS0016", "620000RS0019"];

#[test]
fn home_offers_the_bundles_and_theme_screens_list_theirs_first() {
    let mut s = session(Capabilities::default());
    s.handle(Event::StartBundles);
    let v = s.view();
    assert_eq!(v.screen, Screen::Services);
    assert!(v.themes.iter().any(|t| t.selected && t.name == "一件事一次办"), "{:?}", v.themes);
    let names: Vec<&str> = v.services.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["我要办理社会保障卡", "新生儿出生一件事", "我要退休（领取养老金）", "我要领取失业保险金", "身后一件事"]);
    assert_eq!(v.services[4].department, "4 件事，一次办好");

    // The 就业 theme: its bundle first, then its items.
    s.handle(Event::ChooseTheme("employment".into()));
    let v = s.view();
    assert_eq!(v.services[0].code, UNEMPLOYMENT);
    assert!(v.services[1..].iter().all(|t| !t.code.contains("YJS")));
}

#[test]
fn a_bundle_is_one_journey_one_submission_and_one_receipt() {
    let mut s = session(Capabilities::default());
    s.handle(Event::StartBundles);
    s.handle(Event::ChooseService(UNEMPLOYMENT.into()));
    assert_eq!(s.screen(), Screen::Guide);
    let v = s.view();
    let (_, parts) = v.guide_rows.iter().find(|(k, _)| k == "一次办好这几件事").expect("the guide lists the parts");
    for name in ["失业登记", "失业保险金申领", "求职登记和职业介绍"] {
        assert!(parts.contains(name), "{parts}");
    }
    s.handle(Event::StartFiling);
    assert!(matches!(s.handle(Event::Agree).as_slice(), [Effect::ReadCard]));
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    assert_eq!(s.screen(), Screen::Form);
    // Each field once, though two or three parts ask it.
    let keys: Vec<String> = s.view().form_rows.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys, ["name", "id_number", "phone", "wish", "skills"]);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Form, "求职意向 is required");
    s.handle(Event::FieldEdited { key: "wish".into(), value: "local".into() });
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Review);
    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("one submission, got {fx:?}") };
    assert_eq!(sub.item_code.as_str(), UNEMPLOYMENT);
    assert_eq!(sub.bundle_code.as_ref().map(ImplementCode::as_str), Some(UNEMPLOYMENT));
    assert_eq!(sub.parts.iter().map(ImplementCode::as_str).collect::<Vec<_>>(), PARTS);
    assert_eq!(sub.form.get("wish").map(String::as_str), Some("local"));
    let id = sub.id;
    s.handle(Event::Saved { id });
    s.handle(Event::Sent { id, case_number: CaseNumber::parse("622026112100000001").unwrap() });
    let fx = s.handle(Event::PrintReceipt);
    let [Effect::Print(receipt)] = fx.as_slice() else { panic!("one receipt, got {fx:?}") };
    assert!(receipt.item_name.starts_with("我要领取失业保险金（失业登记、失业保险金申领、求职登记和职业介绍）"), "{}", receipt.item_name);
}

#[test]
fn progress_shows_each_part_of_a_bundle() {
    let mut s = session(Capabilities::default());
    s.handle(Event::QueryProgress);
    s.handle(Event::CodeEntered("622026112100000001".into()));
    let filing = |parts: Vec<PartStatus>| FilingStatus {
        reference: SubmissionId::new(),
        item_code: ImplementCode::parse(UNEMPLOYMENT).unwrap(),
        created_at: datetime!(2026-11-21 10:00 +8),
        case_number: Some(CaseNumber::parse("622026112100000001").unwrap()),
        stage: FilingStage::Delivered,
        result_available: false,
        known: Known::Here,
        parts,
    };
    // Before the hub has said: each part, at the bundle's stage.
    s.handle(Event::LookedUp(vec![filing(Vec::new())]));
    let rows = s.view().lookup_rows;
    assert_eq!(rows.len(), 1, "one filing");
    assert_eq!(rows[0].parts.len(), 3);
    assert_eq!(rows[0].parts[0].item, "失业登记");
    assert!(rows[0].parts.iter().all(|r| r.tone == ui::ProgressTone::Working && r.number.is_empty()));

    // As the hub reported them: each its own case and status.
    s.handle(Event::Retry);
    s.handle(Event::CodeEntered("622026112100000001".into()));
    let part = |i: usize, stage| PartStatus {
        item_code: ImplementCode::parse(PARTS[i]).unwrap(),
        case_number: CaseNumber::parse(&format!("622026112100000001P{}", i + 1)).unwrap(),
        stage,
        reason: (stage == FilingStage::Problem).then(|| "缺少离职证明".to_owned()),
    };
    s.handle(Event::LookedUp(vec![filing(vec![part(0, FilingStage::Done), part(1, FilingStage::Delivered), part(2, FilingStage::Problem)])]));
    let row = &s.view().lookup_rows[0];
    assert_eq!((row.item.as_str(), row.number.as_str(), row.tone), ("我要领取失业保险金", "622026112100000001", ui::ProgressTone::Working));
    let got: Vec<(&str, &str, ui::ProgressTone)> = row.parts.iter().map(|r| (r.item.as_str(), r.number.as_str(), r.tone)).collect();
    assert_eq!(
        got,
        [
            ("失业登记", "622026112100000001P1", ui::ProgressTone::Done),
            ("失业保险金申领", "622026112100000001P2", ui::ProgressTone::Working),
            ("求职登记和职业介绍", "622026112100000001P3", ui::ProgressTone::Problem),
        ]
    );
    // The rejected part says so and gives the back office's reason, in
    // every language (the reason stays in the back office's words), not the
    // words for a filing that could not be sent.
    for (lang, rejected, said) in [
        (Lang::ZhCn, "不予受理", "不予受理。原因：缺少离职证明"),
        (Lang::Bo, "དང་ལེན་མ་བྱས།", "རྒྱུ་མཚན། 缺少离职证明"),
        (Lang::Kk, "قابىلدانبادى", "سەبەبى: 缺少离职证明"),
        (Lang::En, "Not accepted", "Not accepted. Reason: 缺少离职证明"),
    ] {
        s.handle(Event::SetLanguage(lang));
        let status = s.view().lookup_rows[0].parts[2].status.clone();
        assert!(status.contains(rejected) && status.contains(said), "{lang:?}: {status}");
        assert!(!status.contains(&ui::i18n::tr(lang.code(), "发送遇到问题，请找村代办员")), "{lang:?}: {status}");
    }
}

/// 身后一件事 closes the deceased's pension record: inside this bundle the
/// reason is the death, so the family is not asked 注销原因 and the
/// pension part is filed with it (the bundle's `fixed_fields`).
#[test]
fn after_a_death_the_pension_part_is_filed_with_the_death_as_its_reason_without_asking() {
    let mut s = session(Capabilities::default());
    s.handle(Event::StartBundles);
    s.handle(Event::ChooseService("620000YJS005".into()));
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    assert_eq!(s.screen(), Screen::Form);
    let keys: Vec<String> = s.view().form_rows.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys, ["name", "id_number", "phone", "deceased_name", "deceased_id", "death_date", "relation"]);
    for (key, value) in
        [("phone", "13912345678"), ("deceased_name", "马福祥"), ("deceased_id", "622926194005060013"), ("death_date", "2026-11-10"), ("relation", "child")]
    {
        s.handle(Event::FieldEdited { key: key.into(), value: value.into() });
    }
    // Even a value slipped in for the key cannot change what the bundle says.
    s.handle(Event::FieldEdited { key: "reason".into(), value: "abroad".into() });
    s.handle(Event::SubmitForm);
    for _ in 0..20 {
        if s.screen() != Screen::Materials {
            break;
        }
        s.handle(Event::NextMaterial);
    }
    assert_eq!(s.screen(), Screen::Review);
    assert!(!s.view().review_rows.iter().any(|(k, _)| k.contains("注销原因")), "{:?}", s.view().review_rows);
    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("one submission, got {fx:?}") };
    assert_eq!(sub.form.get("reason").map(String::as_str), Some("death"), "{:?}", sub.form.keys().collect::<Vec<_>>());
    // The pension part's own check passes on what was filed.
    let catalog = Catalog::starter();
    let pension = catalog.item("620000RS0007").unwrap();
    let faults = pension.validate_form(&sub.form);
    assert!(faults.is_empty(), "{faults:?}");
}
