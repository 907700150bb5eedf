//! How a document result reaches the villager (issue 16): collected at the
//! village point or mailed to a place picked down to the village, offered
//! only where the terminal's config has the mail path, and carried in the
//! submission (sealed with the rest of it by the outbox).

use model::protocol::Paths;

use super::*;

fn rows(s: &Session) -> Vec<String> {
    s.view().form_rows.into_iter().map(|r| r.key).collect()
}

fn filled_social_card(paths: Paths) -> Session {
    let mut s = session(Capabilities::default());
    s.set_paths(paths);
    to_form(&mut s);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
    s
}

fn submitted(s: &mut Session) -> Box<model::Submission> {
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Review, "{:?}", s.view().form_rows);
    let mut fx = s.handle(Event::Confirm);
    match fx.pop() {
        Some(Effect::Submit(sub, _)) => sub,
        other => panic!("{other:?}"),
    }
}

#[test]
fn with_the_mail_path_a_document_result_can_be_mailed_to_a_picked_place() {
    let mut s = filled_social_card(Paths { mail: true, ..Paths::default() });
    assert!(rows(&s).contains(&"result_delivery".to_owned()));
    assert!(!rows(&s).contains(&"mail_address".to_owned()), "no address until mail is chosen");
    // The choice is required.
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Form);
    s.handle(Event::FieldEdited { key: "result_delivery".into(), value: "mail".into() });
    let address = s.view().form_rows.into_iter().find(|r| r.key == "mail_address").expect("the mail address row");
    assert_eq!((address.kind, address.value.as_str()), (ui::FieldKind::Place, ""));
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Form, "mail needs an address");
    s.handle(Event::FieldEdited { key: "mail_address".into(), value: "622926100202|5社8号".into() });
    let review = {
        s.handle(Event::SubmitForm);
        s.view().review_rows
    };
    assert!(review.iter().any(|(_, v)| v == "邮寄到家（结果物流快递）"), "{review:?}");
    assert!(review.iter().any(|(_, v)| v == "甘肃省临夏回族自治州东乡族自治县锁南镇巴牙村委会 5社8号"), "{review:?}");
    s.handle(Event::Back);
    let sub = submitted(&mut s);
    assert_eq!(sub.form["result_delivery"], "mail");
    assert_eq!(sub.form["mail_address"], "甘肃省临夏回族自治州东乡族自治县锁南镇巴牙村委会 5社8号");
    assert_eq!(sub.form["mail_address_division_code"], "622926100202");
}

#[test]
fn collecting_drops_an_address_picked_before() {
    let mut s = filled_social_card(Paths { mail: true, ..Paths::default() });
    s.handle(Event::FieldEdited { key: "result_delivery".into(), value: "mail".into() });
    s.handle(Event::FieldEdited { key: "mail_address".into(), value: "622926100202|".into() });
    s.handle(Event::FieldEdited { key: "result_delivery".into(), value: "collect".into() });
    assert!(!rows(&s).contains(&"mail_address".to_owned()));
    let sub = submitted(&mut s);
    assert_eq!(sub.form["result_delivery"], "collect");
    assert!(!sub.form.contains_key("mail_address"), "only what the villager was shown travels");
}

#[test]
fn without_the_path_or_a_document_nothing_about_mail_is_asked_or_recorded() {
    let mut s = filled_social_card(Paths::default());
    assert!(!rows(&s).contains(&"result_delivery".to_owned()));
    // A stray event for a field not shown changes nothing.
    s.handle(Event::FieldEdited { key: "result_delivery".into(), value: "mail".into() });
    let sub = submitted(&mut s);
    assert!(!sub.form.contains_key("result_delivery") && !sub.form.contains_key("mail_address"), "{:?}", sub.form.keys());

    // 医保参保登记's result is a registration, not a document to send.
    let mut s = session(Capabilities::default());
    s.set_paths(Paths { mail: true, ..Paths::default() });
    s.handle(Event::Start);
    s.handle(Event::ChooseService("620000YB0001".into()));
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    assert_eq!(s.screen(), Screen::Form);
    assert!(!rows(&s).contains(&"result_delivery".to_owned()));
}

#[test]
fn a_card_address_naming_a_village_fills_the_place_and_else_the_villager_picks() {
    let open = |address: &str| {
        let mut s = session(Capabilities::default());
        s.handle(Event::Start);
        s.handle(Event::ChooseService("620000YB0001".into()));
        s.handle(Event::StartFiling);
        s.handle(Event::Agree);
        let mut card = identity(Validity::LongTerm);
        card.address = address.into();
        s.handle(Event::CardRead(card));
        s.view().form_rows.into_iter().find(|r| r.key == "address").unwrap()
    };
    let row = open("甘肃省临夏回族自治州东乡族自治县锁南镇巴牙村5社8号");
    assert!(row.readonly, "{row:?}");
    assert_eq!(row.value, "甘肃省临夏回族自治州东乡族自治县锁南镇巴牙村委会 5社8号");
    // 张桂兰's card names only the township: she picks her village.
    let row = open("甘肃省临夏回族自治州东乡族自治县锁南镇");
    assert!(!row.readonly && row.value.is_empty() && row.kind == ui::FieldKind::Place, "{row:?}");
}
