//! 搜索 and 按部门 (issue 15): results follow what is typed, ranked by the
//! search model and this village's filings; a result opens its guide and
//! 返回 comes back to the results; nothing found offers browsing; the query
//! goes with the visit; departments list their items.

use super::*;

fn names(s: &Session) -> Vec<String> {
    s.view().services.iter().map(|t| t.name.clone()).collect()
}

#[test]
fn results_follow_each_key_and_a_result_opens_its_guide() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Search);
    assert_eq!(s.screen(), Screen::Search);
    let v = s.view();
    assert!(v.search_typing, "the keyboard is up at once");
    assert!(v.services.is_empty() && !v.search_nothing);
    assert!(v.search_message.contains("ylbx"), "says what can be typed: {}", v.search_message);
    for (typed, first) in [("y", None), ("yl", None), ("ylb", None), ("ylbx", Some("城乡居民基本养老保险参保登记"))] {
        s.handle(Event::SearchTyped(typed.into()));
        let v = s.view();
        assert!(!v.services.is_empty(), "{typed}: something is found at every key");
        if let Some(first) = first {
            assert_eq!(v.services[0].name, first);
            assert_eq!(v.search_message, format!("找到 {} 项", v.services.len()));
        }
    }
    // 看全部: the keyboard goes, the results stay.
    s.handle(Event::SearchKeyboard(false));
    let v = s.view();
    assert!(!v.search_typing);
    assert_eq!((v.search_query.as_str(), v.services[0].name.as_str()), ("ylbx", "城乡居民基本养老保险参保登记"));
    let code = v.services[0].code.clone();
    s.handle(Event::ChooseService(code));
    assert_eq!(s.screen(), Screen::Guide);
    assert_eq!(s.view().item_name, "城乡居民基本养老保险参保登记");
    // 返回: the same results, without the keyboard.
    s.handle(Event::Back);
    assert_eq!(s.screen(), Screen::Search);
    let v = s.view();
    assert_eq!((v.search_query.as_str(), v.search_typing), ("ylbx", false));
    assert_eq!(v.services[0].name, "城乡居民基本养老保险参保登记");
    // 改一改 brings the keyboard back.
    s.handle(Event::SearchKeyboard(true));
    assert!(s.view().search_typing);
}

#[test]
fn results_are_ranked_by_what_this_village_files() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Search);
    s.handle(Event::SearchTyped("yl".into()));
    let before: Vec<String> = s.view().services.iter().map(|t| t.code.clone()).collect();
    assert!(before.len() >= 3, "{before:?}");
    // The village files the last and the second-last result most.
    let (last, second_last) = (before[before.len() - 1].clone(), before[before.len() - 2].clone());
    s.set_filed_counts([(last.clone(), 40), (second_last.clone(), 12), ("620000MZ0001".to_owned(), 90)].into());
    let after: Vec<String> = s.view().services.iter().map(|t| t.code.clone()).collect();
    assert_eq!(&after[..2], &[last, second_last], "the most filed first");
    assert_eq!(after.len(), before.len(), "counts rank, they do not add results");
}

#[test]
fn item_codes_bundles_and_characters_are_found() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Search);
    s.handle(Event::SearchTyped("620000RS0001".into()));
    assert_eq!(names(&s)[0], "社会保障卡申领");
    s.handle(Event::SearchTyped("xinshenger".into()));
    let v = s.view();
    assert_eq!(v.services[0].name, "新生儿出生一件事");
    assert!(v.services[0].department.contains("一次办好"), "a bundle says it is several: {}", v.services[0].department);
    s.handle(Event::SearchTyped("低保".into()));
    assert_eq!(names(&s)[0], "农村最低生活保障申请");
    // A code held to the scanner on the search screen opens the item too.
    s.handle(Event::CodeEntered("620000RS0001".into()));
    assert_eq!(s.screen(), Screen::Guide);
    assert_eq!(s.view().item_name, "社会保障卡申领");
}

#[test]
fn nothing_found_says_so_and_offers_browsing() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Search);
    s.handle(Event::SearchTyped("qqqqzz".into()));
    let v = s.view();
    assert!(v.services.is_empty() && v.search_nothing);
    assert_eq!(v.search_message, "没有找到「qqqqzz」");
    assert!(v.prompt.contains("按部门"), "read aloud: {}", v.prompt);
    // 按类别找 and 按部门找.
    s.handle(Event::Start);
    assert_eq!(s.screen(), Screen::Services);
    s.handle(Event::Cancel);
    s.handle(Event::Search);
    s.handle(Event::ChooseTheme("departments".into()));
    assert_eq!(s.screen(), Screen::Services);
    assert!(s.view().themes.iter().any(|t| t.selected && t.name == "按部门"));
}

#[test]
fn the_query_goes_with_the_visit_and_is_in_the_villagers_language() {
    let mut s = session(Capabilities::default());
    s.handle(Event::Search);
    s.handle(Event::SearchTyped("shbzk".into()));
    s.handle(Event::Cancel);
    s.handle(Event::Search);
    assert_eq!(s.view().search_query, "", "a new visit starts empty");
    s.handle(Event::SearchTyped("shbzk".into()));
    s.handle(Event::IdleTimeout);
    assert_eq!(s.screen(), Screen::Home);
    s.handle(Event::Search);
    assert_eq!(s.view().search_query, "");
    // Typed elsewhere than the search screen: ignored.
    s.handle(Event::Cancel);
    s.handle(Event::SearchTyped("shbzk".into()));
    s.handle(Event::Search);
    assert_eq!(s.view().search_query, "");
    // Kazakh: the results in Kazakh, found by pinyin all the same.
    s.handle(Event::SetLanguage(Lang::Kk));
    s.handle(Event::SearchTyped("shbzk".into()));
    let v = s.view();
    assert_eq!(v.services[0].code, "620000RS0001");
    assert_eq!(v.services[0].name, Catalog::starter().item("620000RS0001").unwrap().name.get(Lang::Kk));
    // And on the Kazakh keyboard: a word of the Kazakh name (Arabic script).
    let kk_name = Catalog::starter().item("620000RS0001").unwrap().name.get(Lang::Kk).to_owned();
    let word = kk_name.split(' ').max_by_key(|w| w.chars().count()).unwrap().to_owned();
    s.handle(Event::SearchTyped(word.clone()));
    assert!(s.view().services.iter().any(|t| t.code == "620000RS0001"), "{word} finds {kk_name}");
    // Tibetan, the same.
    s.handle(Event::SetLanguage(Lang::Bo));
    let bo_name = Catalog::starter().item("620000RS0001").unwrap().name.get(Lang::Bo).to_owned();
    s.handle(Event::SearchTyped(bo_name.clone()));
    assert_eq!(s.view().services[0].code, "620000RS0001", "{bo_name}");
}

#[test]
fn departments_list_their_items_in_the_villagers_language() {
    let mut s = session(Capabilities::default());
    let catalog = Catalog::starter();
    let departments = catalog.departments();
    s.handle(Event::Start);
    s.handle(Event::ChooseTheme("departments".into()));
    let v = s.view();
    assert_eq!(v.services.len(), departments.len());
    assert_eq!(v.services_heading, "请选择办事的部门");
    assert!(v.themes.iter().any(|t| t.id == "departments" && t.selected));
    let (name, items) = &departments[1];
    let tile = &v.services[1];
    assert_eq!((tile.name.as_str(), tile.department.clone()), (name.get(Lang::ZhCn), format!("{} 项事项", items.len())));
    s.handle(Event::ChooseService(tile.code.clone()));
    assert_eq!(s.screen(), Screen::Services);
    let v = s.view();
    assert_eq!(v.services_heading, name.get(Lang::ZhCn));
    let codes: Vec<&str> = v.services.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(codes, items.iter().map(|i| i.implement_code.as_str()).collect::<Vec<_>>());
    assert!(v.themes.iter().any(|t| t.id == "departments" && t.selected), "still under 按部门");
    // An item, then 返回 twice: the department, then the departments.
    s.handle(Event::ChooseService(codes[0].into()));
    assert_eq!(s.screen(), Screen::Guide);
    s.handle(Event::Back);
    assert_eq!(s.view().services_heading, name.get(Lang::ZhCn));
    s.handle(Event::Back);
    assert_eq!(s.view().services_heading, "请选择办事的部门");
    // Tibetan: the catalog's own translation of the names.
    s.handle(Event::SetLanguage(Lang::Bo));
    assert_eq!(s.view().services[1].name, name.get(Lang::Bo));
    assert_ne!(name.get(Lang::Bo), name.get(Lang::ZhCn));
    s.handle(Event::Back);
    assert_eq!(s.screen(), Screen::Home);
}
