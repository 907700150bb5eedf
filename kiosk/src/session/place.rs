//! Places on the form (issue 14) and how a document result reaches the
//! villager (issue 16, 结果物流快递).
//!
//! A place field's draft value is `model::place::Place`'s form value
//! (`<village code>|<detail>`); the screen shows the names, and the
//! submission carries both the names (`<key>`) and the code
//! (`<key>_division_code`), so the platform reads the address as written and
//! can route by code.
//!
//! Delivery: for an item whose result is a document (证照, 批文), and only
//! when the terminal's signed config has `paths.mail`, the form asks whether
//! to collect it at the village point or have it mailed, and for mail an
//! address picked with the place picker. Without the path nothing about
//! mail is shown or recorded: the screen never promises a post it lacks.

use std::borrow::Cow;
use std::collections::BTreeMap;

use model::catalog::{ChoiceOption, FieldError, FieldKind, FormField, ResultType};
use model::place::Place;
use model::LocalizedText;
use ui::i18n::n_;

use super::state::Draft;
use super::Session;

/// The delivery choice's key in the form and the submission.
pub(super) const DELIVERY: &str = "result_delivery";
/// The mail address's key (a place).
pub(super) const MAIL_ADDRESS: &str = "mail_address";
const COLLECT: &str = "collect";
const MAIL: &str = "mail";

/// Longest group/house-number text after a picked village.
const DETAIL_MAX: usize = 40;

/// Suffix of the division code's key in the submission.
pub(super) const CODE_SUFFIX: &str = "_division_code";

fn delivery_field() -> FormField {
    let option = |value: &str, zh: &'static str| ChoiceOption { value: value.into(), label: LocalizedText::new(zh) };
    FormField {
        key: DELIVERY.into(),
        label: LocalizedText::new(n_("办好的结果怎么拿")),
        kind: FieldKind::Choice {
            options: vec![option(COLLECT, n_("到村代办点来拿")), option(MAIL, n_("邮寄到家（结果物流快递）"))],
        },
        required: true,
        prefill: None,
    }
}

fn mail_field() -> FormField {
    FormField {
        key: MAIL_ADDRESS.into(),
        label: LocalizedText::new(n_("邮寄地址")),
        kind: FieldKind::Place { max_len: DETAIL_MAX },
        required: true,
        prefill: None,
    }
}

/// Whether a field is the session's own (worded through the `.po` files),
/// not the catalog's (worded in the catalog's languages).
pub(super) fn is_own(key: &str) -> bool {
    key == DELIVERY || key == MAIL_ADDRESS
}

/// How a place value is shown: its names and detail; anything else as is.
pub(super) fn shown(value: &str) -> String {
    Place::parse(value).map(|p| p.full_text()).unwrap_or_else(|| value.to_owned())
}

/// A card's address for a place field: a place when it names a village,
/// else nothing (the villager picks).
pub(super) fn prefilled_place(card_address: &str) -> Option<String> {
    Place::from_address_text(card_address).map(|p| p.encode())
}

impl Session {
    /// Whether this draft's item offers mailing its result here.
    fn offers_mail(&self, d: &Draft) -> bool {
        self.paths.mail && matches!(self.item_of(d).result_type, ResultType::Certificate | ResultType::Decision)
    }

    /// The form as this villager sees it: the item's fields, then the
    /// delivery choice and (for mail) the address, when offered.
    pub(super) fn form_fields(&self, d: &Draft) -> Vec<Cow<'_, FormField>> {
        let mut out: Vec<Cow<'_, FormField>> = self.item_of(d).form.iter().map(Cow::Borrowed).collect();
        if self.offers_mail(d) {
            out.push(Cow::Owned(delivery_field()));
            if d.values.get(DELIVERY).map(String::as_str) == Some(MAIL) {
                out.push(Cow::Owned(mail_field()));
            }
        }
        out
    }

    /// Every field's first problem.
    pub(super) fn validate_draft(&self, d: &Draft) -> BTreeMap<String, FieldError> {
        self.form_fields(d)
            .iter()
            .filter_map(|f| {
                let v = d.values.get(&f.key).map(String::as_str).unwrap_or("");
                f.validate(v).err().map(|e| (f.key.clone(), e))
            })
            .collect()
    }

    /// After a field changed: choosing mail starts the mail address from
    /// the villager's own address when that is a place (one tap less).
    pub(super) fn after_edit(&self, d: &mut Draft, key: &str) {
        if key == DELIVERY && d.values.get(DELIVERY).map(String::as_str) == Some(MAIL) {
            let own = self
                .item_of(d)
                .form
                .iter()
                .find(|f| matches!(f.kind, FieldKind::Place { .. }))
                .and_then(|f| d.values.get(&f.key))
                .filter(|v| Place::parse(v).is_some())
                .cloned();
            if let (Some(own), None) = (own, d.values.get(MAIL_ADDRESS)) {
                d.values.insert(MAIL_ADDRESS.into(), own);
            }
        }
    }

    /// The form as the submission carries it: only fields this villager
    /// was shown, plus what a bundle fixes; places as names plus their
    /// division code.
    pub(super) fn submission_form(&self, d: &Draft) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for f in self.form_fields(d) {
            let Some(v) = d.values.get(&f.key) else { continue };
            match (&f.kind, Place::parse(v)) {
                (FieldKind::Place { .. }, Some(place)) => {
                    out.insert(f.key.clone(), place.full_text());
                    out.insert(format!("{}{CODE_SUFFIX}", f.key), place.code);
                }
                _ => {
                    out.insert(f.key.clone(), v.clone());
                }
            }
        }
        // What a bundle answers itself for its parts (never asked: the
        // 身后一件事 pension part's 注销原因 is the death).
        if let Some(b) = self.bundle_of(d.item.as_str()) {
            out.extend(b.fixed_fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        out
    }
}
