//! Finding an item or bundle by what a villager (or the assistant beside
//! them) types: Chinese characters, full pinyin (`yanglao`), pinyin
//! initials (`ylbx` finds 养老保险 items), a mix (`ylbaoxian`), an item code
//! or English words. Results are ranked by how often this terminal's
//! village files them (counted locally from the outbox: codes and counts,
//! nothing personal), then by how well the text matched.
//!
//! Readings come from the `pinyin` crate with every reading of a
//! polyphonic character (还 in 退耕还林 is huan, not hai), so no guessed
//! reading hides an item.

use std::collections::HashMap;

use pinyin::ToPinyinMulti;

use super::types::{Catalog, ImplementCode};
use crate::text::Lang;

/// What a search found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SearchHit {
    /// A single service item (事项), by its 实施编码.
    Item(ImplementCode),
    /// A bundle (一件事一次办), by its code.
    Bundle(ImplementCode),
}

impl SearchHit {
    /// The item's or bundle's code.
    pub fn code(&self) -> &ImplementCode {
        match self {
            SearchHit::Item(c) | SearchHit::Bundle(c) => c,
        }
    }
}

/// One searchable unit of a name: a Han character with its readings, or
/// one letter or digit.
struct Unit {
    ch: char,
    readings: Vec<&'static str>,
}

struct Entry {
    hit: SearchHit,
    code_lower: String,
    name: String,
    units: Vec<Unit>,
    /// Keywords: their text and units.
    keywords: Vec<(String, Vec<Unit>)>,
    english: String,
    /// The Tibetan and Kazakh names, typed on those keyboards.
    others: Vec<String>,
}

/// A prepared index over one catalog version. Build it once per catalog
/// (about a millisecond for 120 items) and query it per keystroke.
pub struct SearchIndex {
    entries: Vec<Entry>,
}

/// How well a query matched one entry; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Quality {
    /// The whole code, or the whole name.
    Exact,
    /// From the start of the name (or code).
    Prefix,
    /// Somewhere inside.
    Inside,
}

fn units(name: &str) -> Vec<Unit> {
    name.chars()
        .filter_map(|ch| {
            if let Some(multi) = ch.to_pinyin_multi() {
                let mut readings: Vec<&'static str> = multi.into_iter().map(|p| p.plain()).collect();
                readings.dedup();
                Some(Unit { ch, readings })
            } else if ch.is_ascii_alphanumeric() {
                Some(Unit { ch: ch.to_ascii_lowercase(), readings: Vec::new() })
            } else {
                // Punctuation and brackets are not typed.
                None
            }
        })
        .collect()
}

/// Whether `q` (lowercase letters and digits) can be spelled by the units
/// from `i` on: each Han character by one of its full readings or by its
/// first letter, the last one possibly by a prefix of a reading (the
/// villager is still typing); letters and digits by themselves.
fn spells(units: &[Unit], i: usize, q: &[u8]) -> bool {
    if q.is_empty() {
        return true;
    }
    let Some(u) = units.get(i) else { return false };
    if u.readings.is_empty() {
        return u.ch as u32 == q[0] as u32 && spells(units, i + 1, &q[1..]);
    }
    u.readings.iter().any(|r| {
        let r = r.as_bytes();
        (q.len() <= r.len() && r.starts_with(q))
            || (q.len() > r.len() && q.starts_with(r) && spells(units, i + 1, &q[r.len()..]))
            || (r.first() == q.first() && spells(units, i + 1, &q[1..]))
    })
}

fn pinyin_match(units: &[Unit], q: &str) -> Option<Quality> {
    let q = q.as_bytes();
    (0..units.len()).find(|&i| spells(units, i, q)).map(|i| if i == 0 { Quality::Prefix } else { Quality::Inside })
}

impl SearchIndex {
    /// Indexes every item and bundle of `catalog` (names in zh-CN, keywords, codes, English).
    pub fn new(catalog: &Catalog) -> SearchIndex {
        let item_entries = catalog.items.iter().map(|i| (SearchHit::Item(i.implement_code.clone()), &i.name, &i.keywords[..]));
        let bundle_entries = catalog.bundles.iter().map(|b| (SearchHit::Bundle(b.code.clone()), &b.name, &[][..]));
        let entries = bundle_entries
            .chain(item_entries)
            .map(|(hit, name, keywords)| {
                let zh = name.get(Lang::ZhCn);
                Entry {
                    code_lower: hit.code().as_str().to_ascii_lowercase(),
                    name: zh.to_owned(),
                    units: units(zh),
                    keywords: keywords.iter().map(|k| (k.clone(), units(k))).collect(),
                    english: if name.has(Lang::En) { name.get(Lang::En).to_lowercase() } else { String::new() },
                    others: [Lang::Bo, Lang::Kk].into_iter().filter(|l| name.has(*l)).map(|l| name.get(l).to_owned()).collect(),
                    hit,
                }
            })
            .collect();
        SearchIndex { entries }
    }

    fn quality(e: &Entry, query: &str, q_lower: &str) -> Option<Quality> {
        if q_lower == e.code_lower || query == e.name {
            return Some(Quality::Exact);
        }
        if q_lower.len() >= 4 && e.code_lower.starts_with(q_lower) {
            return Some(Quality::Prefix);
        }
        if !query.is_ascii() {
            // Characters typed (or pasted): a plain substring of the name.
            return match e.name.find(query) {
                Some(0) => Some(Quality::Prefix),
                Some(_) => Some(Quality::Inside),
                // A keyword is another name: starting it is as good as starting the name.
                None => e
                    .keywords
                    .iter()
                    .map(|(k, _)| k)
                    // Typed on the Tibetan or Kazakh keyboard: the name in that language.
                    .chain(&e.others)
                    .filter(|k| k.contains(query))
                    .map(|k| if k.starts_with(query) { Quality::Prefix } else { Quality::Inside })
                    .min(),
            };
        }
        let compact: String = q_lower.chars().filter(|c| !c.is_whitespace() && *c != '\'').collect();
        if compact.is_empty() {
            return None;
        }
        if let Some(found) = pinyin_match(&e.units, &compact) {
            return Some(found);
        }
        if let Some(found) = e.keywords.iter().filter_map(|(_, units)| pinyin_match(units, &compact)).min() {
            return Some(found);
        }
        // English: the name's start, or each typed word a prefix of some word of the name.
        if !e.english.is_empty() && e.english.starts_with(q_lower) {
            return Some(Quality::Prefix);
        }
        if !e.english.is_empty() && q_lower.split_whitespace().all(|w| e.english.split(|c: char| !c.is_alphanumeric()).any(|n| n.starts_with(w))) {
            return Some(Quality::Inside);
        }
        None
    }

    /// The best `limit` hits for `query`. `filed` counts this village's
    /// filings per implementation (or bundle) code. Ranked: exact matches
    /// first, then most filed, then prefix before inside, then catalog
    /// order (bundles before items; the catalog lists the common items of
    /// a department first). Where in the name the match sits does not
    /// count: 城乡居民基本养老保险 is no worse a match for `ylbx` than 基本医疗保险.
    pub fn search(&self, query: &str, filed: &HashMap<String, u32>, limit: usize) -> Vec<SearchHit> {
        let query = query.trim();
        if query.is_empty() {
            return Vec::new();
        }
        let q_lower = query.to_lowercase();
        let mut found: Vec<(bool, std::cmp::Reverse<u32>, Quality, usize, &Entry)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(order, e)| {
                let quality = Self::quality(e, query, &q_lower)?;
                let count = filed.get(e.hit.code().as_str()).copied().unwrap_or(0);
                Some((quality != Quality::Exact, std::cmp::Reverse(count), quality, order, e))
            })
            .collect();
        found.sort_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)));
        found.into_iter().take(limit).map(|f| f.4.hit.clone()).collect()
    }
}

impl Catalog {
    /// 常办: the items this village files most, most first; only items
    /// filed at least once. `filed` as for [`SearchIndex::search`].
    pub fn frequent(&self, filed: &HashMap<String, u32>, limit: usize) -> Vec<&super::types::ServiceItem> {
        let mut items: Vec<(u32, usize, &super::types::ServiceItem)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(order, i)| filed.get(i.implement_code.as_str()).filter(|n| **n > 0).map(|n| (*n, order, i)))
            .collect();
        items.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        items.into_iter().take(limit).map(|(_, _, i)| i).collect()
    }
}
