//! Filing an application: services → guide → consent → ID card → form →
//! materials → review → saved → receipt.

use std::collections::{BTreeMap, BTreeSet};

use model::catalog::{Availability, FieldKind, MaterialSource, Prefill};
use model::identity::IdentityError;
use model::submission::{Channel, ELicenseRef};
use model::{Identity, ImplementCode, ServiceItem};

use super::events::{Effect, Event};
use super::lookup::parse_receipt_code;
use super::state::{Delivery, Draft, Filed, LookupPhase, PrintOutcome, Problem, Purpose, RateState, State, Stepped};
use super::render::BUNDLES;
use super::Session;
use crate::materials::{self, CaptureKind, ELicenseLookup, Outcome};
use ui::i18n::n_;

impl Session {
    /// The filing journey's rules (and the ends of every journey).
    pub(super) fn step_filing(&self, state: State, event: Event) -> Stepped {
        use Event as E;
        Ok(match (state, event) {
            (State::Home, E::Start) => (State::Services { theme: String::new() }, vec![]),
            (State::Home, E::StartBundles) => (State::Services { theme: BUNDLES.to_owned() }, vec![]),
            (State::Services { .. }, E::Back) => (State::Home, vec![]),
            (State::Services { .. }, E::ChooseTheme(theme)) => (State::Services { theme }, vec![]),
            // A code held to a scanner on the home screen: an item's QR code
            // opens its guide, a receipt's looks up where the filing stands.
            (State::Home, E::CodeEntered(code)) => match self.item_in_code(&code) {
                Some(item) if self.tile_problem(item).is_none() => {
                    (State::Guide { item: item.implement_code.clone(), theme: String::new() }, vec![])
                }
                Some(_) => (State::Services { theme: String::new() }, vec![]),
                None => match parse_receipt_code(&code) {
                    Some(query) => (
                        State::Lookup { purpose: Purpose::Progress, phase: LookupPhase::LookingCode(code.trim().to_owned()) },
                        vec![Effect::LookUp(query)],
                    ),
                    None => (State::Home, vec![]),
                },
            },
            (State::Services { theme }, E::ChooseService(code)) => match self.item_by_code(code.trim()) {
                Some(item) if self.tile_problem(item).is_none() => {
                    (State::Guide { item: item.implement_code.clone(), theme }, vec![])
                }
                _ => (State::Services { theme }, vec![]),
            },
            (State::Services { theme }, E::CodeEntered(code)) => {
                match self.item_in_code(&code) {
                    Some(item) if self.tile_problem(item).is_none() => {
                        (State::Guide { item: item.implement_code.clone(), theme }, vec![])
                    }
                    // A disabled or unknown tile or code: stay on the list.
                    _ => (State::Services { theme }, vec![]),
                }
            }
            (State::Guide { theme, .. }, E::Back) => (State::Services { theme }, vec![]),
            (State::Guide { item, theme }, E::StartFiling) => (State::Consent { item, theme }, vec![]),
            (State::Consent { item, theme }, E::Back) => (State::Guide { item, theme }, vec![]),
            (State::Consent { item, .. }, E::Agree) => {
                let consent_at = (self.clock)();
                (State::IdPrompt { item, consent_at, problem: None }, vec![Effect::ReadCard])
            }
            (State::IdPrompt { item, .. }, E::Back) => {
                (State::Guide { item, theme: String::new() }, vec![Effect::StopCardReader])
            }
            (State::IdPrompt { item, consent_at, .. }, E::CardProblem(msg)) => {
                (State::IdPrompt { item, consent_at, problem: Some(Problem::Said(msg)) }, vec![])
            }
            (State::IdPrompt { item, consent_at, .. }, E::CardRead(identity)) => {
                match self.check_card(&identity) {
                    Some(problem) => {
                        // Keep reading: the villager may put another card down.
                        (State::IdPrompt { item, consent_at, problem: Some(problem) }, vec![])
                    }
                    None => {
                        let values = self.prefill(&item, &identity);
                        let draft = Draft {
                            item,
                            identity,
                            consent_at,
                            values,
                            errors: BTreeMap::new(),
                            materials: BTreeMap::new(),
                            e_licenses: BTreeMap::new(),
                        };
                        (State::Form(draft), vec![Effect::StopCardReader])
                    }
                }
            }
            (State::Form(mut d), E::FieldEdited { key, value }) => {
                // Card values can't be edited: they are what the card says.
                // What the card lacks (a foreign card has no address) is typed.
                let editable = self
                    .form_fields(&d)
                    .iter()
                    .find(|f| f.key == key)
                    .is_some_and(|field| field.prefill.is_none() || !self.from_card(&d, &key));
                if editable {
                    d.errors.remove(&key);
                    d.values.insert(key.clone(), value);
                    self.after_edit(&mut d, &key);
                }
                (State::Form(d), vec![])
            }
            (State::Form(mut d), E::SubmitForm) => {
                d.errors = self.validate_draft(&d);
                if d.errors.is_empty() {
                    self.enter_materials(d, 0)
                } else {
                    (State::Form(d), vec![])
                }
            }
            (State::Form(d), E::Back) => (State::Guide { item: d.item.clone(), theme: String::new() }, vec![]),
            (State::Review(d), E::Back) => match self.screen_materials(&d).len() {
                0 => (State::Form(d), vec![]),
                n => (State::Materials { draft: d, index: n - 1, busy: None, problem: None }, vec![]),
            },
            (State::Materials { draft, index, busy: None, .. }, E::CaptureMaterial(kind)) => {
                let material = self.screen_materials(&draft).get(index).map(|m| (m.code.clone(), materials::fits(m)));
                let usable = |(scan, photo): (bool, bool)| match kind {
                    CaptureKind::Scan => scan && self.caps.scanner,
                    CaptureKind::Photo => photo && self.caps.camera,
                };
                match material {
                    Some((code, fits)) if usable(fits) => (
                        State::Materials { draft, index, busy: Some(kind), problem: None },
                        vec![Effect::CaptureMaterial { material: code, kind }],
                    ),
                    _ => (State::Materials { draft, index, busy: None, problem: None }, vec![]),
                }
            }
            (State::Materials { mut draft, index, busy: Some(_), .. }, E::MaterialCaptured { material, capture }) => {
                let current = self.screen_materials(&draft).get(index).map(|m| m.code.clone());
                if current.as_deref() == Some(material.as_str()) {
                    draft.materials.insert(material, Outcome::Captured(*capture));
                }
                (State::Materials { draft, index, busy: None, problem: None }, vec![])
            }
            (State::Materials { draft, index, busy: Some(_), .. }, E::MaterialFailed(msg)) => {
                (State::Materials { draft, index, busy: None, problem: Some(Problem::Said(msg)) }, vec![])
            }
            (State::Materials { mut draft, index, busy: None, problem }, E::NextMaterial) => {
                let Some(m) = self.screen_materials(&draft).get(index).copied() else {
                    return Ok((State::Review(draft), vec![]));
                };
                let done = matches!(draft.materials.get(&m.code), Some(Outcome::Captured(_) | Outcome::ELicense(_)));
                let asking = draft.e_licenses.get(&m.code) == Some(&ELicenseLookup::Asking);
                let outcome = if done {
                    None
                } else if asking {
                    // The library is being asked: wait for its answer.
                    return Ok((State::Materials { draft, index, busy: None, problem }, vec![]));
                } else if !self.can_capture(m) {
                    Some(Outcome::Paper)
                } else {
                    // Needed, and it can be captured here: scan or photograph it first.
                    return Ok((State::Materials { draft, index, busy: None, problem }, vec![]));
                };
                if let Some(o) = outcome {
                    draft.materials.insert(m.code.clone(), o);
                }
                self.enter_materials(draft, index + 1)
            }
            (State::Materials { mut draft, index, busy, problem }, E::ELicenseLooked { material, found, miss }) => {
                // Only the answer to a question still open counts (a late one
                // after the villager moved on is asked again on return).
                if draft.e_licenses.get(&material) == Some(&ELicenseLookup::Asking) {
                    match found {
                        Some(doc) => {
                            let doc = *doc;
                            let reference = ELicenseRef {
                                material_code: material.clone(),
                                kind: doc.name.clone(),
                                number: doc.license_id.clone(),
                                issuer: doc.issuer.clone(),
                                issued_on: doc.issued_on.clone(),
                            };
                            draft.materials.insert(material.clone(), Outcome::ELicense(reference));
                            draft.e_licenses.insert(material, ELicenseLookup::Found);
                        }
                        None => {
                            draft.e_licenses.insert(material, miss);
                        }
                    }
                }
                (State::Materials { draft, index, busy, problem }, vec![])
            }
            (State::Materials { mut draft, index, busy: None, problem }, E::SkipMaterial) => {
                match self.screen_materials(&draft).get(index).copied() {
                    Some(m) if !m.required => {
                        // Skipping drops a capture made before: what is kept is what the review shows.
                        draft.materials.insert(m.code.clone(), Outcome::Skipped);
                        self.enter_materials(draft, index + 1)
                    }
                    _ => (State::Materials { draft, index, busy: None, problem }, vec![]),
                }
            }
            (State::Materials { draft, index, busy: None, .. }, E::Back) => match index {
                0 => (State::Form(draft), vec![]),
                i => (State::Materials { draft, index: i - 1, busy: None, problem: None }, vec![]),
            },
            (State::Review(d), E::Confirm) => {
                let (sub, files) = self.build_submission(&d);
                let id = sub.id;
                (State::Submitting { draft: d, id, saved: false }, vec![Effect::Submit(Box::new(sub), files)])
            }
            (State::Submitting { draft, id, .. }, E::Saved { id: got }) if got == id => {
                (State::Submitting { draft, id, saved: true }, vec![])
            }
            (State::Submitting { draft, saved: false, .. }, E::SaveFailed(msg)) => {
                drop(draft);
                (State::Error(Problem::Said(msg)), vec![])
            }
            (State::Submitting { draft, id, saved: true }, E::Sent { id: got, case_number }) if got == id => {
                let receipt = self.receipt(&draft, id, Some(case_number.clone()), "已提交到政务服务平台");
                let item = draft.item.clone();
                (State::Saved(Filed { item, receipt, delivery: Delivery::Sent(case_number) }), vec![])
            }
            (State::Submitting { draft, id, saved: true }, E::Deferred { id: got }) if got == id => {
                let receipt = self.receipt(&draft, id, None, "已保存在本机，网络恢复后自动发送");
                let item = draft.item.clone();
                (State::Saved(Filed { item, receipt, delivery: Delivery::Waiting(id) }), vec![])
            }
            (State::Saved(filed), E::PrintReceipt) => {
                let effect = Effect::Print(filed.receipt.clone());
                (State::Receipt(filed, PrintOutcome::Printing), vec![effect])
            }
            (State::Receipt(filed, _), E::Printed) => (State::Receipt(filed, PrintOutcome::Printed), vec![]),
            (State::Receipt(filed, _), E::PrintFailed(msg)) => {
                (State::Receipt(filed, PrintOutcome::Failed(msg)), vec![])
            }
            (s @ (State::Saved(_) | State::Receipt(..)), E::RateNow) => {
                let (State::Saved(filed) | State::Receipt(filed, _)) = &s else { unreachable!("matched above") };
                let (target, item) = (filed.rating_target(), Some(filed.item.clone()));
                let rate = RateState { target, item, rating: None, reasons: BTreeSet::new(), back: Box::new(s) };
                (State::Rate(rate), vec![])
            }
            (State::Saved(_) | State::Receipt(..), E::Finish) => (State::Goodbye { rated: false }, vec![]),
            (State::Error(_) | State::Goodbye { .. }, E::Finish) => (State::Home, vec![]),
            (s, e) => return Err((s, e)),
        })
    }

    /// The catalog item a scanned code names: the implementation code
    /// itself, or a link that carries it (item QR codes on posters are often
    /// URLs of the provincial portal with the code as a path segment or
    /// query value).
    fn item_in_code(&self, code: &str) -> Option<&ServiceItem> {
        let code = code.trim();
        self.item_by_code(code).or_else(|| {
            code.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).find_map(|t| self.item_by_code(t))
        })
    }

    fn check_card(&self, identity: &Identity) -> Option<Problem> {
        let today = (self.clock)().date();
        match identity.check_valid_on(today) {
            Ok(()) => None,
            Err(IdentityError::Expired(d)) => Some(Problem::Expired(d)),
            Err(IdentityError::NotYetValid(d)) => Some(Problem::NotYetValid(d)),
        }
    }

    pub(super) fn item_of(&self, d: &Draft) -> &ServiceItem {
        // A draft is only made for an item of the catalog it was chosen from;
        // a catalog swap mid-visit keeps the old `Arc` alive in `self.catalog`
        // only for new visits, so fall back to the first item defensively.
        self.item_by_code(d.item.as_str()).unwrap_or(&self.catalog.items[0])
    }

    /// Why a tile is disabled, in plain words (a message id), or None when it can be used.
    pub(super) fn tile_problem(&self, item: &ServiceItem) -> Option<&'static str> {
        if item.availability == Availability::AssistedOnly && self.terminal.channel == Channel::SelfServiceTerminal {
            return Some(n_("需由工作人员帮办，请联系村代办员"));
        }
        if item.needs(MaterialSource::FacePhoto) && !self.caps.camera {
            return Some(n_("需要拍照，本机摄像头暂不可用"));
        }
        None
    }

    /// Whether the card gave this field its value (then it is read-only).
    pub(super) fn from_card(&self, d: &Draft, key: &str) -> bool {
        self.item_of(d).form.iter().any(|f| f.key == key && f.prefill.is_some())
            && !self.prefill(&d.item, &d.identity).get(key).is_none_or(String::is_empty)
    }

    fn prefill(&self, item: &ImplementCode, id: &Identity) -> BTreeMap<String, String> {
        let Some(item) = self.item_by_code(item.as_str()) else { return BTreeMap::new() };
        item.form
            .iter()
            .filter_map(|f| {
                let v = match f.prefill? {
                    Prefill::Name => id.name.clone(),
                    Prefill::IdNumber => id.id_number.expose().to_owned(),
                    Prefill::Gender => id.gender.code().to_owned(),
                    Prefill::BirthDate => id.birth_date.to_string(),
                    // A place field takes the card's address only when it names a village.
                    Prefill::Address if matches!(f.kind, FieldKind::Place { .. }) => {
                        super::place::prefilled_place(&id.address).unwrap_or_default()
                    }
                    Prefill::Address => id.address.clone(),
                    Prefill::Nation => id.nation_code.clone(),
                };
                // A card without it (foreign cards have no address or 民族): typed instead.
                (!v.is_empty()).then(|| (f.key.clone(), v))
            })
            .collect()
    }

    /// The item's materials shown on the materials screen, in catalog order:
    /// those this terminal has a device for. The others go to the village
    /// assistant on paper (the guide and the review say so); a screen of
    /// things the terminal cannot do would only be one more tap.
    pub(super) fn screen_materials<'a>(&'a self, d: &Draft) -> Vec<&'a model::catalog::Material> {
        self.item_of(d)
            .materials
            .iter()
            .filter(|m| materials::on_materials_screen(m) && self.can_capture(m))
            .collect()
    }

    /// Whether this terminal has a device for a material.
    fn can_capture(&self, m: &model::catalog::Material) -> bool {
        let (scan, photo) = materials::fits(m);
        (scan && self.caps.scanner) || (photo && self.caps.camera)
    }

    /// The materials screen at `index`, or the review once all are done.
    /// A material the catalog marks as held in the e-license library is
    /// asked of it first, when this terminal has one and is online.
    fn enter_materials(&self, mut d: Draft, index: usize) -> (State, Vec<Effect>) {
        let Some(m) = self.screen_materials(&d).get(index).copied() else { return (State::Review(d), vec![]) };
        let mut effects = vec![];
        let settled = matches!(d.materials.get(&m.code), Some(Outcome::Captured(_) | Outcome::ELicense(_)))
            || matches!(d.e_licenses.get(&m.code), Some(ELicenseLookup::NotFound | ELicenseLookup::Found));
        if m.source == MaterialSource::ELicense && self.paths.e_license && !settled {
            let code = m.code.clone();
            if self.online {
                effects.push(Effect::LookUpELicense { material: code.clone(), id_number: d.identity.id_number.clone() });
                d.e_licenses.insert(code, ELicenseLookup::Asking);
            } else {
                d.e_licenses.insert(code, ELicenseLookup::NoNetwork);
            }
        }
        (State::Materials { draft: d, index, busy: None, problem: None }, effects)
    }
}
