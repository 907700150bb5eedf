//! A catalog that arrives during a visit: the visit finishes on the version
//! it started with (form, materials, recorded version); the next visit
//! sees the new one. No restart.

use super::*;

/// The starter, one version on: 社会保障卡申领 loses its bank field and a new
/// item is added.
fn newer() -> Catalog {
    let mut c = Catalog::starter();
    c.version += 1;
    let card = c.items.iter_mut().find(|i| i.implement_code.as_str() == SOCIAL_CARD).unwrap();
    card.form.retain(|f| f.key != "bank");
    let mut added = c.items[0].clone();
    added.implement_code = ImplementCode::parse("620000RS0099").unwrap();
    added.name = model::LocalizedText::new("社会保障卡密码重置");
    c.items.push(added);
    c
}

#[test]
fn a_visit_in_progress_finishes_on_its_version_and_the_next_visit_sees_the_new_one() {
    let mut s = session(Capabilities::default());
    let old = s.catalog_version();
    to_form(&mut s);
    s.set_catalog(Arc::new(newer()));
    // Still the old form: the bank field is asked and required.
    assert!(s.view().form_rows.iter().any(|r| r.key == "bank"));
    assert_eq!(s.catalog_version(), old);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
    s.handle(Event::SubmitForm);
    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("expected one submit, got {fx:?}") };
    assert_eq!(sub.catalog_version, Some(old));
    assert_eq!(sub.form.get("bank").map(String::as_str), Some("rcc"));
    let id = sub.id;
    s.handle(Event::Saved { id });
    s.handle(Event::Deferred { id });
    // The new item is not offered until the visit ends.
    s.handle(Event::Finish);
    assert_eq!(s.screen(), Screen::Goodbye);
    assert_eq!(s.catalog_version(), old);
    s.handle(Event::Finish);
    assert_eq!(s.screen(), Screen::Home);
    assert_eq!(s.catalog_version(), old + 1);

    // Next visit: the new item is there, the card form has no bank field,
    // and the filing records the new version.
    s.handle(Event::Start);
    assert!(s.view().services.iter().any(|t| t.code == "620000RS0099"));
    s.handle(Event::ChooseService(SOCIAL_CARD.into()));
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    assert!(!s.view().form_rows.iter().any(|r| r.key == "bank"));
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::SubmitForm);
    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("expected one submit, got {fx:?}") };
    assert_eq!(sub.catalog_version, Some(old + 1));
}

#[test]
fn between_visits_a_new_catalog_applies_at_once() {
    let mut s = session(Capabilities::default());
    s.set_catalog(Arc::new(newer()));
    assert_eq!(s.catalog_version(), Catalog::starter().version + 1);
    s.handle(Event::Start);
    assert!(s.view().services.iter().any(|t| t.code == "620000RS0099"));
}

#[test]
fn the_frequent_chip_lists_what_this_village_files_most() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Start);
    assert!(!s.view().themes.iter().any(|t| t.id == "frequent"), "no chip before anything was filed");
    s.set_filed_counts([("620000NY0001".to_owned(), 9), ("620000RS0003".to_owned(), 4), ("620000MZ0001".to_owned(), 6)].into());
    let v = s.view();
    assert_eq!(v.themes[1].name, "常办");
    s.handle(Event::ChooseTheme("frequent".into()));
    let codes: Vec<String> = s.view().services.iter().map(|t| t.code.clone()).collect();
    assert_eq!(codes, ["620000NY0001", "620000MZ0001", "620000RS0003"]);
    s.handle(Event::SetLanguage(Lang::En));
    assert_eq!(s.view().themes[1].name, "Frequent");
}
