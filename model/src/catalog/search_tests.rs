//! The search table: what a villager types, and what must come first.

use std::collections::HashMap;

use super::*;
use crate::text::Lang;

fn filed(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
    pairs.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect()
}

#[test]
fn search_table() {
    let c = Catalog::starter();
    let index = SearchIndex::new(&c);
    let none = filed(&[]);
    // This village files pension certification and the residents' pension most.
    let village = filed(&[("620000RS0003", 40), ("620000RS0002", 12), ("620000YB0001", 9), ("620000NY0001", 30)]);
    let name = |hit: &SearchHit| match hit {
        SearchHit::Item(code) => c.item(code.as_str()).map(|i| i.name.get(Lang::ZhCn).to_owned()).unwrap_or_default(),
        SearchHit::Bundle(code) => c.bundle(code.as_str()).map(|b| b.name.get(Lang::ZhCn).to_owned()).unwrap_or_default(),
    };
    let table: &[(&str, &HashMap<String, u32>, &str)] = &[
        // Pinyin initials, full pinyin and a mix; with no filings, catalog order.
        ("ylbx", &none, "城乡居民基本养老保险参保登记"),
        ("yanglaobaoxian", &none, "城乡居民基本养老保险参保登记"),
        ("ylbaoxian", &none, "城乡居民基本养老保险参保登记"),
        ("YLBX", &none, "城乡居民基本养老保险参保登记"),
        ("ydjy", &none, "异地就医备案"),
        ("yidijiuyi", &none, "异地就医备案"),
        ("csdj", &none, "出生登记"),
        ("cjrz", &none, "残疾人证新办"),
        ("gaoling", &none, "高龄津贴申请"),
        ("siwang", &none, "死亡户口注销"),
        ("jiehun", &none, "结婚登记预约"),
        ("nongji", &none, "农机购置与应用补贴申请"),
        // A polyphonic character: 还 is read huan here.
        ("tuigenghuanlin", &none, "退耕还林补助资金申领"),
        ("tghl", &none, "退耕还林补助资金申领"),
        // Bundles come before their items when nothing is filed yet.
        ("xinshenger", &none, "新生儿出生一件事"),
        ("woyao", &none, "我要办理社会保障卡"),
        ("shbzk", &none, "社会保障卡申领"),
        // What villagers call things (keywords).
        ("社保卡", &none, "社会保障卡申领"),
        ("dibao", &none, "农村最低生活保障申请"),
        ("zhongliang", &none, "耕地地力保护补贴申报"),
        ("低保", &none, "农村最低生活保障申请"),
        // Characters.
        ("养老保险", &none, "城乡居民基本养老保险参保登记"),
        ("出生登记", &none, "出生登记"),
        ("出生", &none, "出生医学证明补发换发"),
        // Codes, whole (any case) or a prefix of four characters or more.
        ("620000RS0001", &none, "社会保障卡申领"),
        ("620000rs0016", &none, "失业保险金申领"),
        ("620000YJS005", &none, "身后一件事"),
        ("620000NY000", &none, "耕地地力保护补贴申报"),
        // English, for the English screens.
        ("unemployment", &none, "我要领取失业保险金"),
        ("birth registration", &none, "出生登记"),
        // Ranked by this village's filings.
        ("ylbx", &village, "城乡居民基本养老保险参保登记"),
        ("yl", &village, "养老金领取资格认证"),
        ("养老", &village, "养老金领取资格认证"),
        ("bu", &village, "耕地地力保护补贴申报"),
        ("yibao", &village, "城乡居民医保参保登记"),
        // An exact code beats any count.
        ("620000RS0004", &village, "城乡居民基本养老保险待遇申领"),
    ];
    let mut wrong = Vec::new();
    for (query, counts, expected) in table {
        let hits = index.search(query, counts, 5);
        let first = hits.first().map(&name).unwrap_or_default();
        if first != *expected {
            wrong.push(format!("{query:?}: expected {expected}, got {first} ({:?})", hits.iter().map(&name).collect::<Vec<_>>()));
        }
    }
    assert!(table.len() >= 20, "the table needs at least 20 queries");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn nothing_matches_nonsense_and_empty_queries_find_nothing() {
    let c = Catalog::starter();
    let index = SearchIndex::new(&c);
    assert!(index.search("", &HashMap::new(), 5).is_empty());
    assert!(index.search("   ", &HashMap::new(), 5).is_empty());
    assert!(index.search("qqqqzz", &HashMap::new(), 5).is_empty());
    assert!(index.search("620000XX9999", &HashMap::new(), 5).is_empty());
    // The limit holds.
    assert_eq!(index.search("b", &HashMap::new(), 3).len(), 3);
}

#[test]
fn frequent_items_are_counted_locally() {
    let c = Catalog::starter();
    let filed = filed(&[("620000RS0003", 3), ("620000NY0001", 7), ("620000MZ0001", 0), ("NOSUCH", 9)]);
    let top: Vec<&str> = c.frequent(&filed, 5).iter().map(|i| i.implement_code.as_str()).collect();
    assert_eq!(top, ["620000NY0001", "620000RS0003"]);
}

#[test]
fn tibetan_and_kazakh_names_are_found_as_typed_on_their_keyboards() {
    let c = Catalog::starter();
    let index = SearchIndex::new(&c);
    let card = c.item("620000RS0001").unwrap();
    for lang in [Lang::Bo, Lang::Kk] {
        let name = card.name.get(lang);
        assert_ne!(name, card.name.get(Lang::ZhCn), "{lang:?} has its own name");
        let hits = index.search(name, &HashMap::new(), 5);
        assert_eq!(hits.first().map(|h| h.code().as_str()), Some("620000RS0001"), "{lang:?}: {name}");
        // The start of the name finds it too, among others.
        let start: String = name.chars().take(6).collect();
        assert!(index.search(&start, &HashMap::new(), 30).iter().any(|h| h.code().as_str() == "620000RS0001"), "{lang:?}: {start}");
    }
}
