//! A bundle (一件事一次办) filed as one item: one guide, one consent, one
//! form with every shared field asked once, every material captured once,
//! one receipt. The kiosk runs its ordinary filing journey over the item
//! built here; the submission names the bundle and its parts, and the hub
//! opens a case per part.

use std::collections::BTreeMap;

use super::types::{
    Availability, Bundle, Catalog, Fee, FormField, ItemSource, ItemType, Material, ResultType, ServiceItem, TimeLimit,
    TimeUnit,
};
use crate::text::{Lang, LocalizedText};

impl Catalog {
    /// The bundle's parts, in the bundle's order (None if one is missing,
    /// which a checked catalog never has).
    pub fn bundle_parts(&self, b: &Bundle) -> Option<Vec<&ServiceItem>> {
        b.items.iter().map(|code| self.item(code.as_str())).collect()
    }

    /// The bundle as one item to file. Form: each key once, in the order
    /// the parts first ask it (a key asked by two parts is a shared field:
    /// the catalog check makes sure of it), except the keys the bundle
    /// fixes (`fixed_fields`: filed with their value, never asked). Materials: each code once,
    /// required when any part requires it. Time limit: the longest part's.
    /// Fee: free only when every part is. Assisted only when any part is.
    /// Texts: each part's, one line per part, under the part's name.
    pub fn bundle_as_item(&self, b: &Bundle) -> Option<ServiceItem> {
        let parts = self.bundle_parts(b)?;
        let first = *parts.first()?;
        let mut form = Vec::new();
        // A key the bundle fixes is not asked (the submission carries its value).
        for f in parts.iter().flat_map(|p| &p.form).filter(|f| !b.fixed_fields.contains_key(&f.key)) {
            if !form.iter().any(|g: &FormField| g.key == f.key) {
                form.push(f.clone());
            }
        }
        let mut materials: Vec<Material> = Vec::new();
        for m in parts.iter().flat_map(|p| &p.materials) {
            match materials.iter_mut().find(|n| n.code == m.code) {
                Some(n) => {
                    n.required |= m.required;
                    n.originals = n.originals.max(m.originals);
                    n.copies = n.copies.max(m.copies);
                }
                None => materials.push(m.clone()),
            }
        }
        let longest = |pick: fn(&ServiceItem) -> TimeLimit| {
            parts.iter().map(|p| pick(p)).max_by_key(natural_days).unwrap_or(pick(first))
        };
        let fee = parts.iter().fold(Fee::Free, |acc, p| match (acc, p.fee) {
            (Fee::Free, f) | (f, Fee::Free) => f,
            (Fee::Charged { fen: a }, Fee::Charged { fen: b }) => Fee::Charged { fen: a + b },
        });
        let availability = if parts.iter().any(|p| p.availability == Availability::AssistedOnly) {
            Availability::AssistedOnly
        } else {
            Availability::SelfService
        };
        let per_part = |text: fn(&ServiceItem) -> &LocalizedText| joined(&parts, text);
        let mut departments: Vec<&LocalizedText> = Vec::new();
        for p in &parts {
            if !departments.iter().any(|d| d.get(Lang::ZhCn) == p.department.get(Lang::ZhCn)) {
                departments.push(&p.department);
            }
        }
        Some(ServiceItem {
            implement_code: b.code.clone(),
            name: b.name.clone(),
            department: join_texts(&departments, "、", ", "),
            theme: b.themes.first().cloned().unwrap_or_else(|| first.theme.clone()),
            keywords: Vec::new(),
            also_in: b.themes.iter().skip(1).cloned().collect(),
            item_type: ItemType::PublicService,
            legal_basis: per_part(|p| &p.legal_basis),
            location: first.location.clone(),
            phone: first.phone.clone(),
            conditions: per_part(|p| &p.conditions),
            materials,
            form,
            legal_time_limit: longest(|p| p.legal_time_limit),
            promised_time_limit: longest(|p| p.promised_time_limit),
            result_type: if parts.iter().all(|p| p.result_type == first.result_type) { first.result_type } else { ResultType::Registration },
            fee,
            availability,
            source: ItemSource { guide: format!("bundle of {}", parts.len()), checked: parts.iter().all(|p| p.source.checked) },
        })
    }
}

/// For comparing time limits of different units: a working week is 7 days.
fn natural_days(t: &TimeLimit) -> u32 {
    match t.unit {
        TimeUnit::Immediate => 0,
        TimeUnit::WorkingDays => t.amount.saturating_mul(7).div_ceil(5),
        TimeUnit::NaturalDays => t.amount,
    }
}

/// "Part name: its text", one line per part, per language; a language is
/// filled only when every part has it (else Chinese shows, as for any
/// untranslated text).
fn joined(parts: &[&ServiceItem], text: fn(&ServiceItem) -> &LocalizedText) -> LocalizedText {
    let line = |lang: Lang, p: &ServiceItem| {
        let sep = if lang == Lang::ZhCn { "：" } else { ": " };
        format!("{}{sep}{}", p.name.get(lang), text(p).get(lang))
    };
    let mut out = LocalizedText::new(parts.iter().map(|p| line(Lang::ZhCn, p)).collect::<Vec<_>>().join("\n"));
    for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::ZhCn) {
        if parts.iter().all(|p| p.name.has(lang) && text(p).has(lang)) {
            out = out.with(lang, parts.iter().map(|p| line(lang, p)).collect::<Vec<_>>().join("\n"));
        }
    }
    out
}

fn join_texts(texts: &[&LocalizedText], zh_sep: &str, sep: &str) -> LocalizedText {
    let zh: Vec<&str> = texts.iter().map(|t| t.get(Lang::ZhCn)).collect();
    let mut out = LocalizedText::new(zh.join(zh_sep));
    for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::ZhCn) {
        if texts.iter().all(|t| t.has(lang)) {
            out = out.with(lang, texts.iter().map(|t| t.get(lang)).collect::<Vec<_>>().join(sep));
        }
    }
    out
}

/// Form keys each part of a bundle asks, for the check that a key asked by
/// two parts is a shared field (asked once, it must mean one thing).
pub(super) fn keys_in_several_parts<'a>(parts: &[&'a ServiceItem]) -> Vec<&'a str> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for f in parts.iter().flat_map(|p| &p.form) {
        *count.entry(f.key.as_str()).or_default() += 1;
    }
    count.into_iter().filter(|(_, n)| *n > 1).map(|(k, _)| k).collect()
}
