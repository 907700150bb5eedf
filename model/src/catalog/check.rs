//! Reading and checking a catalog: every field a kiosk shows or sends must
//! be there, every villager-visible text must have its Chinese source, and
//! every reference (theme, bundle item, shared field) must resolve. Errors
//! name the item and the field.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::error::CatalogError;
use super::types::{Bundle, Catalog, FieldKind, FormField, Holder, MaterialSource, ServiceItem};
use crate::text::{Lang, LocalizedText};

/// The GB/T 39046 fields every item must carry (`also_in` is optional).
pub const ITEM_FIELDS: [&str; 17] = [
    "implement_code",
    "name",
    "department",
    "theme",
    "item_type",
    "legal_basis",
    "location",
    "phone",
    "conditions",
    "materials",
    "form",
    "legal_time_limit",
    "promised_time_limit",
    "result_type",
    "fee",
    "availability",
    "source",
];
const MATERIAL_FIELDS: [&str; 6] = ["code", "name", "originals", "copies", "required", "source"];
const FORM_FIELDS: [&str; 4] = ["key", "label", "type", "required"];

fn item_label(i: usize, v: &Value) -> String {
    match v.get("implement_code").and_then(Value::as_str) {
        Some(code) => format!("item {code}"),
        None => format!("item #{}", i + 1),
    }
}

/// Checks that each item (and each of its materials and form fields) has
/// every field, before the typed parse whose messages would not say which
/// item is at fault.
fn check_shape(root: &Value) -> Result<(), CatalogError> {
    let Some(items) = root.get("items").and_then(Value::as_array) else {
        return Err(CatalogError::Parse("the catalog has no \"items\" list".into()));
    };
    for (i, v) in items.iter().enumerate() {
        let item = item_label(i, v);
        for field in ITEM_FIELDS {
            if v.get(field).is_none_or(Value::is_null) {
                return Err(CatalogError::MissingField { item, field });
            }
        }
        for (list, fields) in [("materials", &MATERIAL_FIELDS[..]), ("form", &FORM_FIELDS[..])] {
            for (j, m) in v[list].as_array().into_iter().flatten().enumerate() {
                for field in fields {
                    if m.get(field).is_none_or(Value::is_null) {
                        return Err(CatalogError::MissingField { item: format!("{item} {list}[{j}]"), field });
                    }
                }
            }
        }
    }
    Ok(())
}

/// A value the bundle fixes (`fixed_fields`) answers a question some part
/// asks, is not asked as well, and is one every part having the key accepts
/// (an option of its choice, within its length).
fn check_fixed_fields(b: &Bundle, parts: &[&ServiceItem]) -> Result<(), CatalogError> {
    for (key, value) in &b.fixed_fields {
        let bad = |problem: String| CatalogError::BadFixedField { bundle: b.code.to_string(), field: key.clone(), problem };
        if b.shared_fields.contains(key) {
            return Err(bad("is also listed as shared: it would be both asked and fixed".into()));
        }
        let defs: Vec<(&ServiceItem, &FormField)> = parts.iter().filter_map(|p| Some((*p, p.form.iter().find(|f| &f.key == key)?))).collect();
        if defs.is_empty() {
            return Err(bad("is asked by none of its items".into()));
        }
        for (p, f) in defs {
            if value.trim().is_empty() {
                return Err(bad("is empty".into()));
            }
            if let Err(e) = f.validate(value) {
                return Err(bad(format!("= {value:?} is refused by item {}: {e}", p.implement_code)));
            }
        }
    }
    Ok(())
}

/// A bundle about someone else (`subject_fields`) files every part for that
/// person, so each part's form names them, and no part takes a photo: the
/// kiosk's camera would take the applicant's, as it did for the newborn's
/// social security card of 新生儿出生一件事 (issue 15). A material captured
/// once for several parts must be the same thing in each.
fn check_bundle_person(b: &Bundle, parts: &[&ServiceItem]) -> Result<(), CatalogError> {
    let bad = |item: &ServiceItem, problem: String| CatalogError::BadBundlePart { bundle: b.code.to_string(), item: item.implement_code.to_string(), problem };
    if let Some(key) = b.subject_fields.iter().find(|k| !b.shared_fields.contains(k)) {
        return Err(CatalogError::BadSharedField { bundle: b.code.to_string(), field: key.clone(), problem: "naming the bundle's subject but not listed as shared" });
    }
    for p in parts {
        if let Some(key) = b.subject_fields.iter().find(|k| !p.form.iter().any(|f| &f.key == *k)) {
            return Err(bad(p, format!("the bundle is about someone other than the applicant, but this item's form does not ask {key}: it would be filed for the applicant")));
        }
        if !b.subject_fields.is_empty() {
            if let Some(m) = p.materials.iter().find(|m| matches!(m.source, MaterialSource::Photo | MaterialSource::FacePhoto)) {
                return Err(bad(p, format!("material {} is a photo taken at the kiosk, which would be the applicant's, in a bundle about someone else", m.code)));
            }
        }
        for m in &p.materials {
            let other = parts.iter().flat_map(|q| &q.materials).find(|n| n.code == m.code && (n.source != m.source || n.holder != m.holder));
            if let Some(n) = other {
                return Err(bad(p, format!("material {} is captured once for the bundle but its items disagree on its source or whose it is ({:?}/{:?} and {:?}/{:?})", m.code, m.source, m.holder, n.source, n.holder)));
            }
        }
    }
    Ok(())
}

impl Catalog {
    /// Parses and checks a catalog.
    pub fn from_json(s: &str) -> Result<Catalog, CatalogError> {
        let root: Value = serde_json::from_str(s)?;
        check_shape(&root)?;
        if let Some(items) = root.get("items").and_then(Value::as_array) {
            for (i, v) in items.iter().enumerate() {
                if let Err(e) = ServiceItem::deserialize_item(v) {
                    return Err(CatalogError::BadItem { item: item_label(i, v), reason: e.to_string() });
                }
            }
        }
        let c: Catalog = serde_json::from_value(root)?;
        c.check()?;
        Ok(c)
    }

    pub(super) fn check(&self) -> Result<(), CatalogError> {
        if self.items.is_empty() {
            return Err(CatalogError::Empty);
        }
        let mut themes = HashSet::new();
        for t in &self.themes {
            if !themes.insert(t.id.as_str()) {
                return Err(CatalogError::DuplicateTheme(t.id.clone()));
            }
        }
        let mut seen = HashSet::new();
        for item in &self.items {
            let code = item.implement_code.as_str();
            if !seen.insert(code) {
                return Err(CatalogError::DuplicateItem(code.to_owned()));
            }
            if !item.name.has_source() {
                return Err(CatalogError::MissingName(code.to_owned()));
            }
            for theme in std::iter::once(&item.theme).chain(&item.also_in) {
                if !themes.contains(theme.as_str()) {
                    return Err(CatalogError::UnknownTheme { item: code.to_owned(), theme: theme.clone() });
                }
            }
            if item.phone.trim().is_empty() {
                return Err(CatalogError::MissingField { item: format!("item {code}"), field: "phone" });
            }
            if item.source.guide.trim().is_empty() {
                return Err(CatalogError::MissingField { item: format!("item {code}"), field: "source.guide" });
            }
            for m in item.materials.iter().filter(|m| m.holder == Holder::Subject && m.source != MaterialSource::Scan) {
                return Err(CatalogError::BadMaterialHolder {
                    item: code.to_owned(),
                    material: m.code.clone(),
                    problem: "another person's but not scanned: the card reader, camera, signature pad and e-license lookup get the applicant's",
                });
            }
            let mut keys = HashSet::new();
            for f in &item.form {
                if !keys.insert(f.key.as_str()) {
                    return Err(CatalogError::DuplicateField { item: code.to_owned(), field: f.key.clone() });
                }
                if let FieldKind::Choice { options } = &f.kind {
                    if options.is_empty() {
                        return Err(CatalogError::EmptyChoice { item: code.to_owned(), field: f.key.clone() });
                    }
                }
            }
        }
        for b in &self.bundles {
            let mut parts = Vec::new();
            for i in &b.items {
                match self.item(i.as_str()) {
                    Some(item) => parts.push(item),
                    None => return Err(CatalogError::UnknownBundleItem { bundle: b.code.to_string(), item: i.to_string() }),
                }
            }
            for theme in &b.themes {
                if !themes.contains(theme.as_str()) {
                    return Err(CatalogError::UnknownTheme { item: b.code.to_string(), theme: theme.clone() });
                }
            }
            // A key two parts ask is asked once in the bundle's form, so it
            // must be declared shared (and so checked below), or fixed.
            if let Some(key) = super::bundle::keys_in_several_parts(&parts)
                .into_iter()
                .find(|k| !b.shared_fields.iter().any(|s| s == k) && !b.fixed_fields.contains_key(*k))
            {
                return Err(CatalogError::BadSharedField {
                    bundle: b.code.to_string(),
                    field: key.to_owned(),
                    problem: "asked by several of its items but not listed as shared",
                });
            }
            check_bundle_person(b, &parts)?;
            check_fixed_fields(b, &parts)?;
            // A shared field is asked once, so every part that has it must
            // mean the same thing by it, and at least two parts must have it.
            for key in &b.shared_fields {
                let defs: Vec<_> = parts.iter().filter_map(|p| p.form.iter().find(|f| &f.key == key)).collect();
                let bad = |problem| CatalogError::BadSharedField { bundle: b.code.to_string(), field: key.clone(), problem };
                if defs.len() < 2 {
                    return Err(bad("in fewer than two of its items"));
                }
                if defs.iter().any(|d| d.kind != defs[0].kind || d.prefill != defs[0].prefill) {
                    return Err(bad("defined differently by its items"));
                }
            }
        }
        for (owner, path, text) in self.texts() {
            if !text.has_source() {
                return Err(CatalogError::MissingText { owner, path });
            }
        }
        Ok(())
    }

    /// Every villager-visible text, with who owns it and where it sits.
    pub fn texts(&self) -> Vec<(String, String, &LocalizedText)> {
        let mut out = Vec::new();
        for t in &self.themes {
            out.push((format!("theme {}", t.id), "name".to_owned(), &t.name));
        }
        for item in &self.items {
            let owner = format!("item {}", item.implement_code);
            for (path, text) in [
                ("name", &item.name),
                ("department", &item.department),
                ("legal_basis", &item.legal_basis),
                ("location", &item.location),
                ("conditions", &item.conditions),
            ] {
                out.push((owner.clone(), path.to_owned(), text));
            }
            for (j, m) in item.materials.iter().enumerate() {
                out.push((owner.clone(), format!("materials[{j}].name"), &m.name));
            }
            for f in &item.form {
                out.push((owner.clone(), format!("form.{}.label", f.key), &f.label));
                if let FieldKind::Choice { options } = &f.kind {
                    for o in options {
                        out.push((owner.clone(), format!("form.{}.options.{}", f.key, o.value), &o.label));
                    }
                }
            }
        }
        for b in &self.bundles {
            out.push((format!("bundle {}", b.code), "name".to_owned(), &b.name));
        }
        out
    }

    /// Texts without their own translation, per language other than
    /// Chinese (they show in Chinese): `(owner, path)` pairs.
    pub fn missing_translations(&self) -> BTreeMap<Lang, Vec<(String, String)>> {
        let texts = self.texts();
        Lang::ALL
            .into_iter()
            .map(|lang| {
                let missing = texts.iter().filter(|(_, _, t)| !t.has(lang)).map(|(o, p, _)| (o.clone(), p.clone())).collect();
                (lang, missing)
            })
            .collect()
    }
}

impl ServiceItem {
    fn deserialize_item(v: &Value) -> Result<ServiceItem, serde_json::Error> {
        serde::Deserialize::deserialize(v)
    }
}
