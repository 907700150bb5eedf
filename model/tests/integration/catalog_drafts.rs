//! The catalog's Tibetan and Kazakh drafts (model/data/catalog_src/drafts.py)
//! against what reached catalog.json. The generator is Python and converts
//! Kazakh Cyrillic to töte jazu with its own copy of the letter table; the
//! kiosk and its tests trust `model::kazakh`. This fails when the two
//! converters disagree on any word a translator wrote, when a draft did not
//! reach the catalog (catalog.json not regenerated, or the Chinese source
//! changed under it), and on slips a reviewer should not have to catch:
//! Latin look-alike letters in Kazakh, Chinese left in a translation, a tsheg
//! before a shad other than after ང.

use std::collections::BTreeMap;

use model::kazakh::cyrillic_to_arabic;
use model::Catalog;
use serde_json::Value;

/// `zh → (bo, kk Cyrillic)`, read from drafts.py's one-entry-per-line format.
fn drafts() -> BTreeMap<String, (String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog_src/drafts.py");
    let text = std::fs::read_to_string(path).expect("drafts.py");
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let Some(entry) = line.strip_prefix("    \"") else { continue };
        let parsed = entry.split_once("\": (\"").and_then(|(zh, rest)| {
            let (bo, kk) = rest.strip_suffix("\"),")?.split_once("\", \"")?;
            Some((zh, bo, kk))
        });
        let (zh, bo, kk) = parsed.unwrap_or_else(|| panic!("drafts.py:{}: not `\"zh\": (\"bo\", \"kk\"),`: {line}", n + 1));
        assert!(!line.contains('\\'), "drafts.py:{}: no escapes, write the character", n + 1);
        assert!(out.insert(zh.to_owned(), (bo.to_owned(), kk.to_owned())).is_none(), "drafts.py:{}: {zh} twice", n + 1);
    }
    out
}

/// Every localized text in the catalog (objects with a `zh-CN` key).
fn texts(v: &Value, out: &mut Vec<BTreeMap<String, String>>) {
    match v {
        Value::Object(m) if m.contains_key("zh-CN") => {
            out.push(m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect());
        }
        Value::Object(m) => m.values().for_each(|v| texts(v, out)),
        Value::Array(a) => a.iter().for_each(|v| texts(v, out)),
        _ => {}
    }
}

#[test]
fn every_draft_reached_the_catalog_as_kazakh_rs_converts_it() {
    let drafts = drafts();
    assert!(drafts.len() > 500, "drafts.py read as {} entries; the format changed?", drafts.len());
    let catalog: Value = serde_json::from_str(Catalog::starter_json()).unwrap();
    let mut all = Vec::new();
    texts(&catalog, &mut all);
    let mut used = std::collections::BTreeSet::new();
    let mut wrong = Vec::new();
    for t in &all {
        let zh = &t["zh-CN"];
        // A legal basis citing several laws is drafted per law and joined
        // (common.basis), "；" between them.
        let parts: Vec<&str> = if drafts.contains_key(zh) { vec![zh] } else { zh.split('；').collect() };
        if !parts.iter().all(|p| drafts.contains_key(*p)) {
            continue;
        }
        used.extend(parts.iter().map(|p| p.to_string()));
        let bo = parts.iter().map(|p| drafts[*p].0.as_str()).collect::<Vec<_>>().join("། ");
        let kk = cyrillic_to_arabic(&parts.iter().map(|p| drafts[*p].1.as_str()).collect::<Vec<_>>().join("; "));
        if t.get("bo") != Some(&bo) {
            wrong.push(format!("{zh}: bo {:?}, drafts.py {bo:?}", t.get("bo")));
        }
        if t.get("kk") != Some(&kk) {
            wrong.push(format!("{zh}: kk {:?}, kazakh.rs makes {kk:?}", t.get("kk")));
        }
    }
    let unused: Vec<_> = drafts.keys().filter(|k| !used.contains(*k)).collect();
    assert!(unused.is_empty(), "drafts for no catalog text (source changed? regenerate catalog.json): {unused:?}");
    assert!(wrong.is_empty(), "catalog.json differs from drafts.py (run make_catalog.py; if it still differs, fix kk_arabic in common.py to match kazakh.rs):\n{}", wrong.join("\n"));
}

#[test]
fn drafts_are_written_in_their_own_script() {
    let mut wrong = Vec::new();
    for (zh, (bo, kk)) in drafts() {
        // Tibetan block, spaces, ASCII digits, brackets and quotes only.
        if let Some(c) = bo.chars().find(|c| !matches!(c, '\u{0F00}'..='\u{0FFF}' | ' ' | '0'..='9' | '(' | ')' | '《' | '》' | '“' | '”')) {
            wrong.push(format!("{zh}: bo has {c:?}"));
        }
        // A tsheg before a shad only after ང (ང་།), where it keeps the
        // syllable apart from the shad.
        let b: Vec<char> = bo.chars().collect();
        for w in b.windows(3) {
            if w[1] == '་' && w[2] == '།' && w[0] != 'ང' {
                wrong.push(format!("{zh}: bo has ་། after {}", w[0]));
            }
        }
        if bo.contains("་་") || bo.contains("།།") && !bo.ends_with("།།") {
            wrong.push(format!("{zh}: bo doubles a tsheg or shad"));
        }
        // Kazakh Cyrillic: a Latin look-alike (a, e, o, c, p, x) is the usual
        // slip; it would pass through the converter as a Latin letter.
        if let Some(c) = kk.chars().find(|c| c.is_alphabetic() && !matches!(c, '\u{0400}'..='\u{04FF}')) {
            wrong.push(format!("{zh}: kk has {c:?}"));
        }
        if cyrillic_to_arabic(&kk).chars().any(|c| matches!(c, '\u{0400}'..='\u{04FF}')) {
            wrong.push(format!("{zh}: kk keeps Cyrillic after conversion"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
