//! The catalog's unit tests: the starter content, refusals, field rules.

use super::*;
use crate::text::{Lang, LocalizedText};

#[test]
fn starter_catalog_holds_the_village_services() {
    let c = Catalog::starter();
    let names: Vec<&str> = c.items.iter().map(|i| i.name.get(Lang::ZhCn)).collect();
    for expected in [
        "社会保障卡申领",
        "城乡居民基本养老保险参保登记",
        "养老金领取资格认证",
        "城乡居民医保参保登记",
        "高龄津贴申请",
        "残疾人两项补贴申请",
        "农村最低生活保障申请",
        "临时救助申请",
        "出生登记",
    ] {
        assert!(names.contains(&expected), "missing {expected}");
    }
    for item in &c.items {
        assert!(!item.name.get(Lang::En).is_empty());
        assert_ne!(item.name.get(Lang::En), item.name.get(Lang::ZhCn), "{} lacks English", item.implement_code);
    }
    assert!(c.bundles.len() >= 2);
    let cert = c.items.iter().find(|i| i.name.get(Lang::ZhCn) == "养老金领取资格认证").unwrap();
    assert!(cert.needs(MaterialSource::FacePhoto));
}

#[test]
fn corrupt_catalogs_are_refused_with_a_reason() {
    assert!(matches!(Catalog::from_json("{\"version\": 1, \"items\": ["), Err(CatalogError::Parse(_))));
    let mut c = Catalog::starter();
    c.items.push(c.items[0].clone());
    let json = serde_json::to_string(&c).unwrap();
    assert!(matches!(Catalog::from_json(&json), Err(CatalogError::DuplicateItem(_))));
    let mut c = Catalog::starter();
    c.bundles[0].items.push(ImplementCode::parse("NOSUCHITEM").unwrap());
    let json = serde_json::to_string(&c).unwrap();
    assert!(matches!(Catalog::from_json(&json), Err(CatalogError::UnknownBundleItem { .. })));
    let too_long = serde_json::to_string(&Catalog::starter()).unwrap().replacen(
        c.items[0].implement_code.as_str(),
        "1234567890123456789012345",
        1,
    );
    assert!(Catalog::from_json(&too_long).is_err());
}

#[test]
fn fields_validate() {
    let f = |kind| FormField { key: "k".into(), label: LocalizedText::new("k"), kind, required: true, prefill: None };
    assert_eq!(f(FieldKind::Phone).validate("13912345678"), Ok(()));
    assert_eq!(f(FieldKind::Phone).validate("2391234567"), Err(FieldError::Phone));
    assert_eq!(f(FieldKind::Phone).validate(""), Err(FieldError::Missing));
    assert_eq!(f(FieldKind::Digits { min_len: 1, max_len: 3 }).validate("12a"), Err(FieldError::NotDigits));
    assert_eq!(f(FieldKind::Date).validate("2026-02-30"), Err(FieldError::Date));
    assert_eq!(f(FieldKind::Date).validate("2026-02-28"), Ok(()));
    let choice = f(FieldKind::Choice { options: vec![ChoiceOption { value: "a".into(), label: LocalizedText::new("甲") }] });
    assert_eq!(choice.validate("b"), Err(FieldError::NotAnOption));
    let place = f(FieldKind::Place { max_len: 4 });
    assert_eq!(place.validate("622926100202|3组"), Ok(()));
    assert_eq!(place.validate("622926100202|"), Ok(()), "the detail may be empty");
    assert_eq!(place.validate("622926100202|3组12号5"), Err(FieldError::TooLong(4)));
    assert_eq!(place.validate("甘肃省兰州市城关区"), Err(FieldError::Place), "free text is not a place");
    assert_eq!(place.validate("622926100|3组"), Err(FieldError::Place), "a township is not a village");
}

fn without(field: &str, code: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(Catalog::starter_json()).unwrap();
    let items = v["items"].as_array_mut().unwrap();
    let item = items.iter_mut().find(|i| i["implement_code"] == code).unwrap();
    item.as_object_mut().unwrap().remove(field);
    v.to_string()
}

#[test]
fn a_missing_field_is_named_with_its_item() {
    for field in ITEM_FIELDS.iter().filter(|f| **f != "implement_code") {
        let err = Catalog::from_json(&without(field, "620000MZ0003")).unwrap_err();
        assert_eq!(err.to_string(), format!("item 620000MZ0003: missing field {field}"));
    }
    let mut v: serde_json::Value = serde_json::from_str(Catalog::starter_json()).unwrap();
    v["items"][0]["materials"][1].as_object_mut().unwrap().remove("copies");
    let code = v["items"][0]["implement_code"].as_str().unwrap().to_owned();
    let err = Catalog::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err.to_string(), format!("item {code} materials[1]: missing field copies"));
    // A field of the wrong type names the item too.
    let mut v: serde_json::Value = serde_json::from_str(Catalog::starter_json()).unwrap();
    v["items"][2]["fee"] = serde_json::json!("free");
    let err = Catalog::from_json(&v.to_string()).unwrap_err();
    assert!(matches!(&err, CatalogError::BadItem { item, .. } if item == "item 620000RS0003"), "{err}");
}

#[test]
fn a_missing_chinese_text_is_named_with_its_path() {
    let mut v: serde_json::Value = serde_json::from_str(Catalog::starter_json()).unwrap();
    v["items"][0]["materials"][1]["name"].as_object_mut().unwrap().remove("zh-CN");
    let err = Catalog::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err.to_string(), "item 620000RS0001: materials[1].name has no zh-CN text");
    let mut v: serde_json::Value = serde_json::from_str(Catalog::starter_json()).unwrap();
    v["items"][0]["form"][3]["options"][0]["label"]["zh-CN"] = serde_json::json!(" ");
    let err = Catalog::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err.to_string(), "item 620000RS0001: form.bank.options.abc has no zh-CN text");
    let mut v: serde_json::Value = serde_json::from_str(Catalog::starter_json()).unwrap();
    v["themes"][3]["name"] = serde_json::json!({"en": "Birth"});
    let err = Catalog::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err.to_string(), "theme birth: name has no zh-CN text");
}

#[test]
fn the_starter_is_a_real_catalog() {
    let c = Catalog::starter();
    assert!(c.items.len() >= 100, "{} items", c.items.len());
    for theme in ["birth", "school", "employment", "marriage", "elderly", "medical", "disability", "assistance", "agriculture", "death"] {
        assert!(c.items_in_theme(theme).count() >= 3, "theme {theme} is nearly empty");
    }
    for b in ["我要办理社会保障卡", "我要退休（领取养老金）", "我要领取失业保险金", "新生儿出生一件事", "身后一件事"] {
        assert!(c.bundles.iter().any(|x| x.name.get(Lang::ZhCn) == b), "no bundle {b}");
    }
    assert!(c.items.iter().all(|i| !i.source.checked), "an item claims a check nobody made");
    assert!(c.departments().len() >= 10);
    assert!(c.missing_translations()[&Lang::ZhCn].is_empty());
    // Every self-service item can be filed at a kiosk: it has a form.
    assert!(c.items.iter().all(|i| !i.form.is_empty() && !i.materials.is_empty()));
}

#[test]
fn shared_fields_must_mean_the_same_in_every_part() {
    let mut c = Catalog::starter();
    let i = c.items.iter().position(|i| i.implement_code.as_str() == "620000RS0019").unwrap();
    let f = c.items[i].form.iter_mut().find(|f| f.key == "wish").unwrap();
    f.kind = FieldKind::Text { max_len: 5 };
    let err = Catalog::from_json(&serde_json::to_string(&c).unwrap()).unwrap_err();
    assert_eq!(err.to_string(), "bundle 620000YJS004: shared field wish is defined differently by its items");
}

#[test]
fn a_key_two_parts_ask_must_be_declared_shared() {
    let mut c = Catalog::starter();
    let b = c.bundles.iter_mut().find(|b| b.code.as_str() == "620000YJS005").unwrap();
    b.shared_fields.retain(|k| k != "death_date");
    let err = Catalog::from_json(&serde_json::to_string(&c).unwrap()).unwrap_err();
    assert_eq!(err.to_string(), "bundle 620000YJS005: shared field death_date is asked by several of its items but not listed as shared");
}

#[test]
fn a_bundle_files_as_one_item_asking_each_field_and_material_once() {
    let c = Catalog::starter();
    let b = c.bundle("620000YJS005").unwrap();
    let item = c.bundle_as_item(b).unwrap();
    assert_eq!(item.implement_code, b.code);
    assert_eq!(item.name.get(Lang::ZhCn), "身后一件事");
    let keys: Vec<&str> = item.form.iter().map(|f| f.key.as_str()).collect();
    // Not 注销原因 (the pension part's `reason`): the bundle fixes it to the death.
    assert_eq!(keys, ["name", "id_number", "phone", "deceased_name", "deceased_id", "death_date", "relation"]);
    let mats: Vec<(&str, bool)> = item.materials.iter().map(|m| (m.code.as_str(), m.required)).collect();
    // 户口簿 is optional for the pension part but required for 户口注销: required once;
    // 火化证明 only where there is one (burial areas have none).
    assert_eq!(
        mats,
        [("idcard", true), ("death_cert", true), ("hukou", true), ("deceased_idcard", false), ("bankbook", true), ("cremation", false), ("disability_cert", false)]
    );
    // Each part's conditions, under its name.
    let conditions = item.conditions.get(Lang::ZhCn);
    for part in c.bundle_parts(b).unwrap() {
        assert!(conditions.contains(part.name.get(Lang::ZhCn)), "{conditions}");
    }
    // Every bundle builds, and its form validates like an item's.
    for b in &c.bundles {
        let item = c.bundle_as_item(b).unwrap();
        assert!(!item.validate_form(&Default::default()).is_empty(), "{} asks nothing", b.code);
        assert!(c.bundle_parts(b).unwrap().iter().any(|p| p.promised_time_limit == item.promised_time_limit));
    }
}

/// The mistake found in 新生儿出生一件事 (issue 15): its 社会保障卡申领 part
/// was the adult's own item, so the card would have been made out to the
/// parent with the parent's photo. A bundle about someone else names them
/// (`subject_fields`); each class of the mistake is refused, with words.
#[test]
fn a_bundle_part_bound_to_the_wrong_person_is_refused() {
    let starter = Catalog::starter();
    let newborn = starter.bundles.iter().position(|b| b.code.as_str() == "620000YJS002").unwrap();
    let death = starter.bundles.iter().position(|b| b.code.as_str() == "620000YJS005").unwrap();
    assert_eq!(starter.bundles[newborn].subject_fields, ["baby_name", "baby_gender", "baby_birth_date"]);
    let refused = |c: &Catalog| Catalog::from_json(&serde_json::to_string(c).unwrap()).unwrap_err().to_string();

    // The adult's card item as the newborn's part: filed for the applicant.
    let mut c = starter.clone();
    let part = c.bundles[newborn].items.iter().position(|i| i.as_str() == "620000RS0028").expect("the newborn's card item");
    c.bundles[newborn].items[part] = ImplementCode::parse("620000RS0001").unwrap();
    assert_eq!(
        refused(&c),
        "bundle 620000YJS002, item 620000RS0001: the bundle is about someone other than the applicant, but this item's form does not ask baby_name: it would be filed for the applicant"
    );
    // Asking for the baby does not make the kiosk's photo the baby's.
    let newborn_fields: Vec<_> = starter.item("620000RS0028").unwrap().form.iter().filter(|f| f.key.starts_with("baby_")).cloned().collect();
    let adult = c.items.iter_mut().find(|i| i.implement_code.as_str() == "620000RS0001").unwrap();
    adult.form.extend(newborn_fields);
    assert_eq!(
        refused(&c),
        "bundle 620000YJS002, item 620000RS0001: material photo is a photo taken at the kiosk, which would be the applicant's, in a bundle about someone else"
    );

    // The deceased's disability certificate looked up by the applicant's number.
    let mut c = starter.clone();
    let cancel = c.items.iter_mut().find(|i| i.implement_code.as_str() == "620000CL0006").unwrap();
    let cert = cancel.materials.iter_mut().find(|m| m.code == "disability_cert").unwrap();
    assert_eq!((cert.holder, cert.source), (Holder::Subject, MaterialSource::Scan));
    cert.source = MaterialSource::ELicense;
    assert!(refused(&c).starts_with("item 620000CL0006: material disability_cert is another person's but not scanned"), "{}", refused(&c));

    // One capture for the bundle, so its parts must agree whose it is.
    let mut c = starter.clone();
    let subsidy = c.items.iter_mut().find(|i| i.implement_code.as_str() == "620000MZ0012").unwrap();
    subsidy.materials.iter_mut().find(|m| m.code == "death_cert").unwrap().holder = Holder::Applicant;
    assert!(refused(&c).contains("material death_cert is captured once for the bundle but its items disagree"), "{}", refused(&c));

    // The person the bundle is about is asked once, for every part.
    let mut c = starter.clone();
    c.bundles[death].subject_fields.push("cause_of_death".into());
    assert!(refused(&c).contains("shared field cause_of_death is naming the bundle's subject but not listed as shared"), "{}", refused(&c));
}

/// 身后一件事 answers its pension part's 注销原因 itself (`fixed_fields`):
/// the bundle's form does not ask it, and a fixed value must be one the
/// part accepts, for a key some part asks and that is not also asked.
#[test]
fn a_bundle_answers_the_fields_it_fixes_and_a_value_its_part_would_refuse_is_refused() {
    let starter = Catalog::starter();
    let death = starter.bundles.iter().position(|b| b.code.as_str() == "620000YJS005").unwrap();
    let b = &starter.bundles[death];
    assert_eq!(b.fixed_fields.get("reason").map(String::as_str), Some("death"));
    assert!(starter.item("620000RS0007").unwrap().form.iter().any(|f| f.key == "reason"), "the pension part itself asks it");
    let item = starter.bundle_as_item(b).unwrap();
    assert!(!item.form.iter().any(|f| f.key == "reason"), "the family is not asked 注销原因");
    let refused = |c: &Catalog| Catalog::from_json(&serde_json::to_string(c).unwrap()).unwrap_err().to_string();

    let mut c = starter.clone();
    c.bundles[death].fixed_fields.insert("reason".into(), "buried".into());
    assert_eq!(refused(&c), "bundle 620000YJS005: fixed field reason = \"buried\" is refused by item 620000RS0007: 请从选项中选择");
    let mut c = starter.clone();
    c.bundles[death].fixed_fields.insert("cause_of_death".into(), "illness".into());
    assert_eq!(refused(&c), "bundle 620000YJS005: fixed field cause_of_death is asked by none of its items");
    let mut c = starter.clone();
    c.bundles[death].fixed_fields.insert("death_date".into(), "2026-11-10".into());
    assert_eq!(refused(&c), "bundle 620000YJS005: fixed field death_date is also listed as shared: it would be both asked and fixed");
}
