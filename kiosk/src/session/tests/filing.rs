//! Filing: guide, consent, card, form, review, saved, receipt.

use super::*;

#[test]
fn whole_journey_reaches_saved_and_receipt_with_case_number() {
    let mut s = session(Capabilities::default());
    to_form(&mut s);
    let v = s.view();
    let name = v.form_rows.iter().find(|r| r.key == "name").unwrap();
    assert_eq!(name.value, "张桂兰");
    assert!(name.readonly);
    let id = v.form_rows.iter().find(|r| r.key == "id_number").unwrap();
    assert_eq!(id.value, "6229**********0029");

    // Missing phone and bank: stays on the form with reasons.
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Form);
    let v = s.view();
    assert_eq!(v.form_rows.iter().find(|r| r.key == "phone").unwrap().error, "请填写此项");

    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
    // A card value cannot be overwritten from the form.
    s.handle(Event::FieldEdited { key: "name".into(), value: "李四".into() });
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Review);
    let v = s.view();
    assert!(v.review_rows.contains(&("发卡银行".to_owned(), "甘肃农村信用社".to_owned())));
    assert!(v.review_rows.contains(&("姓名".to_owned(), "张桂兰".to_owned())));

    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("expected one submit, got {fx:?}") };
    assert_eq!(sub.item_code.as_str(), SOCIAL_CARD);
    assert_eq!(sub.form.get("phone").map(String::as_str), Some("13912345678"));
    assert_eq!(sub.applicant.name, "张桂兰");
    assert_eq!(sub.consent.text_version, CONSENT_VERSION);
    assert_eq!(sub.consent.given_at, datetime!(2026-11-21 10:00 +8));
    let id = sub.id;
    assert_eq!(s.screen(), Screen::Submitting);

    s.handle(Event::Saved { id });
    assert!(s.view().busy_message.contains("已保存"));
    let case = CaseNumber::parse("62202611210000001").unwrap();
    s.handle(Event::Sent { id, case_number: case.clone() });
    assert_eq!(s.screen(), Screen::Saved);
    let v = s.view();
    assert!(v.saved_sent);
    assert_eq!(v.case_number, case.as_str());
    assert!(!s.holds_personal_data());

    let fx = s.handle(Event::PrintReceipt);
    let [Effect::Print(r)] = fx.as_slice() else { panic!("expected print") };
    assert_eq!(r.qr_payload(), case.as_str());
    assert_eq!(r.applicant_masked, "张**");
    assert!(s.view().receipt_busy, "printing is a wait, and the screen says so");
    s.handle(Event::Printed);
    assert_eq!(s.view().receipt_message, "回执已打印，请从出纸口取走");
    s.handle(Event::Finish);
    assert_eq!(s.screen(), Screen::Goodbye);
    assert!(s.view().goodbye_message.contains("身份证"));
    s.handle(Event::Finish);
    assert_eq!(s.screen(), Screen::Home);
}

#[test]
fn the_guide_comes_before_anything_is_asked_and_says_what_to_bring() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Start);
    s.handle(Event::ChooseService("620000MZ0001".into()));
    let v = s.view();
    assert_eq!(v.screen, Screen::Guide);
    assert_eq!(v.item_name, "高龄津贴申请");
    let row = |label: &str| v.guide_rows.iter().find(|(l, _)| l == label).map(|(_, v)| v.clone()).unwrap();
    assert!(row("谁可以办").contains("80周岁"));
    assert!(row("要带的材料").contains("户口簿"));
    assert_eq!(row("多久办好"), "承诺15个工作日办结");
    assert_eq!(row("收费"), "不收费");
    assert!(row("请注意").contains("不能扫描"), "paper materials: what to do with them");
    // Nothing read yet, nothing held.
    assert!(!s.holds_personal_data());
    s.handle(Event::Back);
    assert_eq!(s.screen(), Screen::Services);
}

#[test]
fn tibetan_materials_are_listed_with_one_shad_between_them() {
    let mut s = session(Capabilities::default());
    s.handle(Event::SetLanguage(Lang::Bo));
    s.handle(Event::Start);
    s.handle(Event::ChooseService("620000MZ0001".into()));
    let v = s.view();
    // Rows in order: who may apply, then what to bring.
    let materials = &v.guide_rows[1].1;
    // 居民身份证, 户口簿 as the catalog drafts them, each with its own shad.
    assert!(materials.starts_with("ཐོབ་ཐང་ལག་ཁྱེར། ཐེམ་ཐོ་དེབ། "), "{materials}");
    assert!(!materials.contains("།།"), "{materials}");
}

#[test]
fn consent_says_what_why_how_long_and_who_and_refusing_keeps_nothing() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Start);
    s.handle(Event::ChooseService(SOCIAL_CARD.into()));
    s.handle(Event::StartFiling);
    let v = s.view();
    assert_eq!(v.screen, Screen::Consent);
    let labels: Vec<&str> = v.consent_rows.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["要用哪些信息", "用来做什么", "保存多久", "谁能看到"]);
    assert!(v.consent_rows[1].1.contains("社会保障卡申领"));
    assert!(v.consent_rows[2].1.contains("30 天"));
    // 不同意 is Cancel: home, and the reader was never started.
    assert!(s.handle(Event::Cancel).is_empty());
    assert_eq!(s.screen(), Screen::Home);
}

#[test]
fn offline_save_says_so_and_receipt_carries_the_local_reference() {
    let mut s = session(Capabilities::default());
    let id = to_saved(&mut s, false);
    let v = s.view();
    assert!(!v.saved_sent);
    assert_eq!(v.saved_title, "已保存，网络恢复后自动发送");
    let fx = s.handle(Event::PrintReceipt);
    let [Effect::Print(r)] = fx.as_slice() else { panic!() };
    assert_eq!(r.qr_payload(), id.to_string());
}

#[test]
fn a_failed_print_says_why_and_what_to_do() {
    let mut s = session(Capabilities::default());
    to_saved(&mut s, true);
    s.handle(Event::PrintReceipt);
    s.handle(Event::PrintFailed("打印机没有连接好".into()));
    let v = s.view();
    assert!(v.receipt_failed && !v.receipt_busy);
    assert_eq!(v.receipt_message, "回执没有打印出来：打印机没有连接好。请记下上面的编号。");
}

#[test]
fn save_failure_is_said_plainly_and_nothing_is_kept() {
    let mut s = session(Capabilities::default());
    to_form(&mut s);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "abc".into() });
    s.handle(Event::SubmitForm);
    s.handle(Event::Confirm);
    s.handle(Event::SaveFailed("本机存储空间不足".into()));
    assert_eq!(s.screen(), Screen::Error);
    assert!(s.view().error_message.contains("本机存储空间不足"));
    assert!(!s.holds_personal_data());
}

#[test]
fn expired_card_is_refused_with_a_clear_sentence() {
    let mut s = session(Capabilities::default());
    to_id_prompt(&mut s);
    s.handle(Event::CardRead(identity(Validity::Until(parse_yyyymmdd("20200101").unwrap()))));
    assert_eq!(s.screen(), Screen::IdPrompt);
    let v = s.view();
    assert!(v.id_error);
    assert!(v.id_message.contains("已过期"), "{}", v.id_message);
    // A valid card afterwards goes on.
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    assert_eq!(s.screen(), Screen::Form);
}

#[test]
fn tiles_say_why_they_are_unavailable_and_themes_filter_them() {
    let s = {
        let mut s = session(Capabilities { camera: false, scanner: false });
        s.handle(Event::Start);
        s
    };
    let v = s.view();
    let cert = v.services.iter().find(|t| t.name == "养老金领取资格认证").unwrap();
    assert!(!cert.enabled);
    assert!(cert.note.contains("摄像头"));
    let dibao = v.services.iter().find(|t| t.name == "农村最低生活保障申请").unwrap();
    assert!(!dibao.enabled);
    assert_eq!(v.themes[0].name, "全部");
    assert!(v.themes[0].selected);
    let mut s = s;
    s.handle(Event::ChooseService(cert.code.clone()));
    assert_eq!(s.screen(), Screen::Services);
    s.handle(Event::ChooseTheme("medical".into()));
    let v = s.view();
    // The theme lists what the catalog lists under it (first or as well).
    let medical: Vec<String> = s.catalog.items_in_theme("medical").map(|i| i.name.get(Lang::ZhCn).to_owned()).collect();
    assert!(medical.len() > 5);
    assert_eq!(v.services.iter().map(|t| t.name.clone()).collect::<Vec<_>>(), medical);
    assert!(medical.iter().any(|n| n == "城乡居民医保参保登记"));
    assert!(!medical.iter().any(|n| n == "高龄津贴申请"));
    assert!(v.themes.iter().any(|t| t.id == "medical" && t.selected));
    // An item QR held to the scanner opens its guide.
    s.handle(Event::CodeEntered(" 620000GA0001 ".into()));
    assert_eq!(s.screen(), Screen::Guide);
    let with_camera = {
        let mut s = session(Capabilities { camera: true, scanner: false });
        s.handle(Event::Start);
        s.view()
    };
    assert!(with_camera.services.iter().find(|t| t.name == "养老金领取资格认证").unwrap().enabled);
}

#[test]
fn late_events_from_another_submission_are_ignored() {
    let mut s = session(Capabilities::default());
    to_form(&mut s);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "abc".into() });
    s.handle(Event::SubmitForm);
    s.handle(Event::Confirm);
    s.handle(Event::Saved { id: SubmissionId::new() });
    s.handle(Event::Deferred { id: SubmissionId::new() });
    assert_eq!(s.screen(), Screen::Submitting);
}

#[test]
fn a_foreign_permanent_resident_files_and_types_what_the_card_lacks() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Start);
    s.handle(Event::ChooseService("620000YB0001".into())); // asks for the address
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    let mut card = identity(Validity::LongTerm);
    card.name = "MARIA SANTOS".into();
    card.id_number = IdNumber::parse("CAN310085041712").unwrap();
    card.address = String::new();
    card.nation_code = String::new();
    card.card_type = CardType::ForeignPermanentResident;
    s.handle(Event::CardRead(card));
    assert_eq!(s.screen(), Screen::Form);
    let rows = s.view().form_rows;
    let address = rows.iter().find(|r| r.key == "address").unwrap();
    assert!(!address.readonly && address.value.is_empty(), "{address:?}");
    assert!(rows.iter().find(|r| r.key == "name").unwrap().readonly);
    s.handle(Event::FieldEdited { key: "name".into(), value: "someone else".into() });
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Form, "the address is required");
    // Typed text is not a place: the picker gives the village code.
    s.handle(Event::FieldEdited { key: "address".into(), value: "甘肃省兰州市城关区".into() });
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Form, "an address must be a village picked");
    let error = s.view().form_rows.into_iter().find(|r| r.key == "address").unwrap().error;
    assert_eq!(error, "请选到村（社区）");
    s.handle(Event::FieldEdited { key: "address".into(), value: "620102001001|3号楼2单元".into() });
    let shown = s.view().form_rows.into_iter().find(|r| r.key == "address").unwrap().value;
    assert_eq!(shown, "甘肃省兰州市城关区酒泉路街道畅家巷社区居委会 3号楼2单元", "the names are shown, not the code");
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Review);
    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("{fx:?}") };
    assert_eq!(sub.applicant.id_number.expose(), "CAN310085041712");
    assert_eq!(sub.applicant.card_type, CardType::ForeignPermanentResident);
    assert_eq!(sub.form["name"], "MARIA SANTOS", "card values stay what the card says");
    // The submission carries the names and the division code.
    assert_eq!(sub.form["address"], "甘肃省兰州市城关区酒泉路街道畅家巷社区居委会 3号楼2单元");
    assert_eq!(sub.form["address_division_code"], "620102001001");
}

#[test]
fn consent_states_the_configured_retention() {
    let mut s = session(Capabilities::default());
    s.set_retention_days(7);
    s.handle(Event::Start);
    s.handle(Event::ChooseService(SOCIAL_CARD.into()));
    s.handle(Event::StartFiling);
    let rows = s.view().consent_rows;
    let (_, kept) = rows.iter().find(|(l, _)| l == "保存多久").unwrap();
    assert!(kept.contains(" 7 天"), "{kept}");
}

#[test]
fn codes_scanned_at_home_open_items_or_look_up_receipts() {
    let mut s = session(Capabilities::default());
    // An item's code, bare or inside a portal link.
    s.handle(Event::CodeEntered("620000MZ0001".into()));
    assert_eq!((s.screen(), s.view().item_name.as_str()), (Screen::Guide, "高龄津贴申请"));
    s.handle(Event::Cancel);
    s.handle(Event::CodeEntered("https://zwfw.gansu.gov.cn/guide?itemCode=620000GA0001&from=qr".into()));
    assert_eq!((s.screen(), s.view().item_name.as_str()), (Screen::Guide, "出生登记"));
    s.handle(Event::Cancel);
    // An item this terminal cannot do: the list, where the tile says why.
    s.handle(Event::CodeEntered("620000MZ0002".into()));
    assert_eq!(s.screen(), Screen::Services);
    s.handle(Event::Cancel);
    // A receipt's number: where that filing stands.
    let fx = s.handle(Event::CodeEntered("62202611210000001".into()));
    assert_eq!(s.screen(), Screen::Progress);
    assert!(matches!(fx.as_slice(), [Effect::LookUp(Lookup::Case(_))]), "{fx:?}");
    s.handle(Event::Cancel);
    // Anything else changes nothing.
    assert!(s.handle(Event::CodeEntered("hello".into())).is_empty());
    assert_eq!(s.screen(), Screen::Home);
}
