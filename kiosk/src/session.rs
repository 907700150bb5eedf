//! One villager's visit as a plain state machine: events in, effects and a
//! view out. No Slint, no devices, no storage here, so every rule of the
//! journey is unit-tested on its own.
//!
//! Personal data lives only in the current state; leaving a visit (finish,
//! cancel, idle timeout) drops it, and `Identity`/`Submission` zeroise on drop.

use std::collections::BTreeMap;
use std::sync::Arc;

use model::catalog::{Availability, FieldError, FieldKind, MaterialSource, Prefill};
use model::identity::{nation_name_zh, IdentityError};
use model::submission::{Applicant, Channel, Consent};
use model::{CaseNumber, Catalog, Identity, ImplementCode, Lang, ServiceItem, Submission, SubmissionId, VillageCode};
use time::OffsetDateTime;

/// Version of the consent text shown on the review screen.
pub const CONSENT_VERSION: &str = "consent-2026-11-v1";

/// Where this session runs: fixed for the life of the kiosk process.
#[derive(Debug, Clone)]
pub struct Terminal {
    pub terminal_id: String,
    pub village_code: VillageCode,
    pub channel: Channel,
}

/// Which optional devices are present, so tiles can say what is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    pub camera: bool,
    pub scanner: bool,
}

/// Something that happened: a tap, a device, a worker.
#[derive(Debug)]
pub enum Event {
    Start,
    ChooseService(String),
    Back,
    Cancel,
    CardRead(Box<Identity>),
    /// The reader failed; the text is a plain sentence for the villager.
    CardProblem(String),
    FieldEdited { key: String, value: String },
    SubmitForm,
    Confirm,
    /// The submission is durably in the outbox.
    Saved { id: SubmissionId },
    /// The outbox refused it; nothing was saved.
    SaveFailed(String),
    /// The hub acknowledged it right away.
    Sent { id: SubmissionId, case_number: CaseNumber },
    /// The hub could not be reached; the sync worker sends it later.
    Deferred { id: SubmissionId },
    PrintReceipt,
    Printed,
    PrintFailed(String),
    Finish,
    IdleTimeout,
}

/// What the kiosk must do for the session.
#[derive(Debug)]
pub enum Effect {
    /// Start polling the ID card reader.
    ReadCard,
    StopCardReader,
    /// Durably enqueue, then try to send at once; answer with `Saved` (or
    /// `SaveFailed`) and then `Sent` or `Deferred`.
    Submit(Box<Submission>),
    Print(ReceiptData),
}

/// What a receipt shows. Only masked personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptData {
    pub item_name: String,
    pub applicant_masked: String,
    pub id_number_masked: String,
    pub time: OffsetDateTime,
    pub terminal_id: String,
    pub village_code: String,
    pub status_line: String,
    /// Case number when the platform assigned one.
    pub case_number: Option<CaseNumber>,
    /// The local reference otherwise (the submission id), which the kiosk can
    /// look up once the case number arrives.
    pub reference: String,
}

impl ReceiptData {
    /// What the QR code on the receipt carries.
    pub fn qr_payload(&self) -> &str {
        self.case_number.as_ref().map(CaseNumber::as_str).unwrap_or(&self.reference)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Home,
    Services,
    IdPrompt,
    Form,
    Review,
    Submitting,
    Saved,
    Receipt,
    Error,
}

impl Screen {
    pub fn name(self) -> &'static str {
        match self {
            Screen::Home => "home",
            Screen::Services => "services",
            Screen::IdPrompt => "id-prompt",
            Screen::Form => "form",
            Screen::Review => "review",
            Screen::Submitting => "submitting",
            Screen::Saved => "saved",
            Screen::Receipt => "receipt",
            Screen::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileView {
    pub code: String,
    pub name: String,
    pub department: String,
    pub time_limit: String,
    pub enabled: bool,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceView {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowView {
    pub key: String,
    pub label: String,
    /// As displayed: the ID number is masked even on the villager's own screen.
    pub value: String,
    pub kind: &'static str,
    pub readonly: bool,
    pub error: String,
    pub options: Vec<ChoiceView>,
}

/// Everything a screen shows. Plain data; `ui` glue copies it into Slint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub screen: Screen,
    pub services: Vec<TileView>,
    pub item_name: String,
    pub id_message: String,
    pub id_error: bool,
    pub form_rows: Vec<RowView>,
    pub review_rows: Vec<(String, String)>,
    pub busy_message: String,
    pub saved_sent: bool,
    pub saved_title: String,
    pub saved_detail: String,
    pub case_number: String,
    pub receipt_message: String,
    pub error_message: String,
}

impl View {
    fn on(screen: Screen) -> View {
        View {
            screen,
            services: Vec::new(),
            item_name: String::new(),
            id_message: String::new(),
            id_error: false,
            form_rows: Vec::new(),
            review_rows: Vec::new(),
            busy_message: String::new(),
            saved_sent: false,
            saved_title: String::new(),
            saved_detail: String::new(),
            case_number: String::new(),
            receipt_message: String::new(),
            error_message: String::new(),
        }
    }
}

/// A form being filled for one item by one card holder.
struct Draft {
    item: ImplementCode,
    identity: Box<Identity>,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, FieldError>,
}

impl Drop for Draft {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in self.values.values_mut() {
            v.zeroize();
        }
    }
}

/// How the saved submission stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Delivery {
    Sent(CaseNumber),
    Waiting,
}

enum State {
    Home,
    Services,
    IdPrompt { item: ImplementCode, problem: Option<String> },
    Form(Draft),
    Review(Draft),
    Submitting { draft: Draft, id: SubmissionId, saved: bool },
    Saved { receipt: ReceiptData, delivery: Delivery },
    Receipt { receipt: ReceiptData, delivery: Delivery, outcome: PrintOutcome },
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PrintOutcome {
    Printing,
    Printed,
    Failed(String),
}

pub type Clock = Box<dyn Fn() -> OffsetDateTime + Send>;

pub struct Session {
    catalog: Arc<Catalog>,
    terminal: Terminal,
    caps: Capabilities,
    lang: Lang,
    clock: Clock,
    state: State,
}

impl Session {
    pub fn new(catalog: Arc<Catalog>, terminal: Terminal, caps: Capabilities, clock: Clock) -> Session {
        Session { catalog, terminal, caps, lang: Lang::ZhCn, clock, state: State::Home }
    }

    pub fn screen(&self) -> Screen {
        match &self.state {
            State::Home => Screen::Home,
            State::Services => Screen::Services,
            State::IdPrompt { .. } => Screen::IdPrompt,
            State::Form(_) => Screen::Form,
            State::Review(_) => Screen::Review,
            State::Submitting { .. } => Screen::Submitting,
            State::Saved { .. } => Screen::Saved,
            State::Receipt { .. } => Screen::Receipt,
            State::Error(_) => Screen::Error,
        }
    }

    /// Whether personal data of a villager is held right now.
    pub fn holds_personal_data(&self) -> bool {
        matches!(self.state, State::Form(_) | State::Review(_) | State::Submitting { .. })
    }

    /// Replaces the catalog (e.g. after a sync); takes effect on the next visit.
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.catalog = catalog;
    }

    pub fn set_capabilities(&mut self, caps: Capabilities) {
        self.caps = caps;
    }

    /// Applies one event; returns what the kiosk must do.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let state = std::mem::replace(&mut self.state, State::Home);
        let (next, effects) = self.step(state, event);
        self.state = next;
        effects
    }

    fn step(&self, state: State, event: Event) -> (State, Vec<Effect>) {
        use Event as E;
        match (state, event) {
            // Leaving the visit from anywhere drops every trace of it.
            (s, E::Cancel | E::IdleTimeout) => {
                let stop = matches!(s, State::IdPrompt { .. });
                drop(s);
                (State::Home, if stop { vec![Effect::StopCardReader] } else { vec![] })
            }
            (State::Home, E::Start) => (State::Services, vec![]),
            (State::Services, E::Back) => (State::Home, vec![]),
            (State::Services, E::ChooseService(code)) => match self.catalog.item(&code) {
                Some(item) if self.tile_problem(item).is_none() => (
                    State::IdPrompt { item: item.implement_code.clone(), problem: None },
                    vec![Effect::ReadCard],
                ),
                // A disabled or unknown tile: stay on the list.
                _ => (State::Services, vec![]),
            },
            (State::IdPrompt { .. }, E::Back) => (State::Services, vec![Effect::StopCardReader]),
            (State::IdPrompt { item, .. }, E::CardProblem(msg)) => {
                (State::IdPrompt { item, problem: Some(msg) }, vec![])
            }
            (State::IdPrompt { item, .. }, E::CardRead(identity)) => {
                let today = (self.clock)().date();
                match identity.check_valid_on(today) {
                    Err(e) => {
                        let msg = match e {
                            IdentityError::Expired(d) => format!("这张身份证已过期（{d}），请换一张有效证件，或到乡镇办理。"),
                            IdentityError::NotYetValid(d) => format!("这张身份证 {d} 才生效，请换一张有效证件。"),
                        };
                        // Keep reading: the villager may put another card down.
                        (State::IdPrompt { item, problem: Some(msg) }, vec![])
                    }
                    Ok(()) => {
                        let values = self.prefill(&item, &identity);
                        let draft = Draft { item, identity, values, errors: BTreeMap::new() };
                        (State::Form(draft), vec![Effect::StopCardReader])
                    }
                }
            }
            (State::Form(mut d), E::FieldEdited { key, value }) => {
                if let Some(field) = self.item_of(&d).form.iter().find(|f| f.key == key) {
                    // Card values can't be edited: they are what the card says.
                    if field.prefill.is_none() {
                        d.errors.remove(&key);
                        d.values.insert(key, value);
                    }
                }
                (State::Form(d), vec![])
            }
            (State::Form(mut d), E::SubmitForm) => {
                d.errors = self.item_of(&d).validate_form(&d.values).into_iter().collect();
                if d.errors.is_empty() {
                    (State::Review(d), vec![])
                } else {
                    (State::Form(d), vec![])
                }
            }
            (State::Form(_), E::Back) => (State::Services, vec![]),
            (State::Review(d), E::Back) => (State::Form(d), vec![]),
            (State::Review(d), E::Confirm) => {
                let sub = self.build_submission(&d);
                let id = sub.id;
                (State::Submitting { draft: d, id, saved: false }, vec![Effect::Submit(Box::new(sub))])
            }
            (State::Submitting { draft, id, .. }, E::Saved { id: got }) if got == id => {
                (State::Submitting { draft, id, saved: true }, vec![])
            }
            (State::Submitting { draft, id, saved: false }, E::SaveFailed(msg)) => {
                drop(draft);
                let _ = id;
                (State::Error(format!("没有保存成功：{msg}。您的信息没有留在本机，请稍后再试或联系村代办员。")), vec![])
            }
            (State::Submitting { draft, id, saved: true }, E::Sent { id: got, case_number }) if got == id => {
                let receipt = self.receipt(&draft, id, Some(case_number.clone()), "已提交到政务服务平台");
                (State::Saved { receipt, delivery: Delivery::Sent(case_number) }, vec![])
            }
            (State::Submitting { draft, id, saved: true }, E::Deferred { id: got }) if got == id => {
                let receipt = self.receipt(&draft, id, None, "已保存在本机，网络恢复后自动发送");
                (State::Saved { receipt, delivery: Delivery::Waiting }, vec![])
            }
            (State::Saved { receipt, delivery }, E::PrintReceipt) => {
                let effect = Effect::Print(receipt.clone());
                (State::Receipt { receipt, delivery, outcome: PrintOutcome::Printing }, vec![effect])
            }
            (State::Receipt { receipt, delivery, .. }, E::Printed) => {
                (State::Receipt { receipt, delivery, outcome: PrintOutcome::Printed }, vec![])
            }
            (State::Receipt { receipt, delivery, .. }, E::PrintFailed(msg)) => {
                (State::Receipt { receipt, delivery, outcome: PrintOutcome::Failed(msg) }, vec![])
            }
            (State::Saved { .. } | State::Receipt { .. } | State::Error(_), E::Finish) => (State::Home, vec![]),
            // Anything else (a late device event, a double tap) changes nothing.
            (s, _) => (s, vec![]),
        }
    }

    fn item_of(&self, d: &Draft) -> &ServiceItem {
        // A draft is only made for an item of the catalog it was chosen from;
        // a catalog swap mid-visit keeps the old `Arc` alive in `self.catalog`
        // only for new visits, so fall back to the first item defensively.
        self.catalog.item(d.item.as_str()).unwrap_or(&self.catalog.items[0])
    }

    /// Why a tile is disabled, in plain words, or None when it can be used.
    fn tile_problem(&self, item: &ServiceItem) -> Option<String> {
        if item.availability == Availability::AssistedOnly && self.terminal.channel == Channel::SelfServiceTerminal {
            return Some("需由工作人员帮办，请联系村代办员".to_owned());
        }
        if item.needs(MaterialSource::FacePhoto) && !self.caps.camera {
            return Some("需要拍照，本机摄像头暂不可用".to_owned());
        }
        None
    }

    fn prefill(&self, item: &ImplementCode, id: &Identity) -> BTreeMap<String, String> {
        let Some(item) = self.catalog.item(item.as_str()) else { return BTreeMap::new() };
        item.form
            .iter()
            .filter_map(|f| {
                let v = match f.prefill? {
                    Prefill::Name => id.name.clone(),
                    Prefill::IdNumber => id.id_number.expose().to_owned(),
                    Prefill::Gender => id.gender.code().to_owned(),
                    Prefill::BirthDate => id.birth_date.to_string(),
                    Prefill::Address => id.address.clone(),
                    Prefill::Nation => id.nation_code.clone(),
                };
                Some((f.key.clone(), v))
            })
            .collect()
    }

    fn build_submission(&self, d: &Draft) -> Submission {
        let now = (self.clock)();
        Submission {
            id: SubmissionId::new(),
            item_code: d.item.clone(),
            bundle_code: None,
            applicant: Applicant::from(&*d.identity),
            agent: None,
            form: d.values.clone(),
            attachments: Vec::new(),
            consent: Consent { text_version: CONSENT_VERSION.to_owned(), given_at: now },
            channel: self.terminal.channel,
            village_code: self.terminal.village_code.clone(),
            created_at: now,
            terminal_id: self.terminal.terminal_id.clone(),
        }
    }

    fn receipt(&self, d: &Draft, id: SubmissionId, case_number: Option<CaseNumber>, status: &str) -> ReceiptData {
        ReceiptData {
            item_name: self.item_of(d).name.get(self.lang).to_owned(),
            applicant_masked: d.identity.masked_name(),
            id_number_masked: d.identity.id_number.masked(),
            time: (self.clock)(),
            terminal_id: self.terminal.terminal_id.clone(),
            village_code: self.terminal.village_code.as_str().to_owned(),
            status_line: status.to_owned(),
            case_number,
            reference: id.to_string(),
        }
    }

    /// What the screen shows now.
    pub fn view(&self) -> View {
        let lang = self.lang;
        let mut v = View::on(self.screen());
        match &self.state {
            State::Home | State::Error(_) => {
                if let State::Error(msg) = &self.state {
                    v.error_message = msg.clone();
                }
            }
            State::Services => {
                v.services = self
                    .catalog
                    .items
                    .iter()
                    .map(|item| {
                        let problem = self.tile_problem(item);
                        TileView {
                            code: item.implement_code.to_string(),
                            name: item.name.get(lang).to_owned(),
                            department: item.department.get(lang).to_owned(),
                            time_limit: format!("承诺{}办结", item.promised_time_limit.label_zh()),
                            enabled: problem.is_none(),
                            note: problem.unwrap_or_default(),
                        }
                    })
                    .collect();
            }
            State::IdPrompt { item, problem } => {
                v.item_name = self.item_name(item);
                match problem {
                    Some(p) => {
                        v.id_message = p.clone();
                        v.id_error = true;
                    }
                    None => v.id_message = "请把身份证放在读卡器上，不要拿开".to_owned(),
                }
            }
            State::Form(d) => {
                v.item_name = self.item_name(&d.item);
                v.form_rows = self.rows(d);
            }
            State::Review(d) => {
                v.item_name = self.item_name(&d.item);
                v.review_rows = self
                    .rows(d)
                    .into_iter()
                    .map(|r| {
                        // Show the chosen option's words, not its code.
                        let shown = r.options.iter().find(|o| o.value == r.value).map(|o| o.label.clone());
                        (r.label, shown.unwrap_or(r.value))
                    })
                    .collect();
                let item = self.item_of(d);
                let materials: Vec<&str> = item
                    .materials
                    .iter()
                    .filter(|m| m.required && m.source != MaterialSource::IdCard)
                    .map(|m| m.name.get(lang))
                    .collect();
                if !materials.is_empty() {
                    v.review_rows.push(("还需提交的材料".to_owned(), materials.join("、")));
                }
                v.review_rows.push((
                    "您的同意".to_owned(),
                    "提交即表示同意本机保存以上信息并发送到政务服务平台，仅用于办理本事项".to_owned(),
                ));
            }
            State::Submitting { draft, saved, .. } => {
                v.item_name = self.item_name(&draft.item);
                v.busy_message = if *saved {
                    "已保存在本机，正在发送到政务服务平台…".to_owned()
                } else {
                    "正在保存您的申请，请稍候…".to_owned()
                };
            }
            State::Saved { receipt, delivery } | State::Receipt { receipt, delivery, .. } => {
                v.item_name = receipt.item_name.clone();
                match delivery {
                    Delivery::Sent(case) => {
                        v.saved_sent = true;
                        v.saved_title = "已提交".to_owned();
                        v.saved_detail = "您的申请已送到政务服务平台。请记好办件编号，可凭回执查询进度。".to_owned();
                        v.case_number = case.to_string();
                    }
                    Delivery::Waiting => {
                        v.saved_sent = false;
                        v.saved_title = "已保存，网络恢复后自动发送".to_owned();
                        v.saved_detail =
                            "现在没有网络。您的申请已安全保存在本机，网络恢复后会自动发送，不用再跑一趟。".to_owned();
                        v.case_number = receipt.reference.clone();
                    }
                }
                if let State::Receipt { outcome, .. } = &self.state {
                    v.receipt_message = match outcome {
                        PrintOutcome::Printing => "正在打印回执…".to_owned(),
                        PrintOutcome::Printed => "回执已打印，请从出纸口取走".to_owned(),
                        PrintOutcome::Failed(msg) => format!("回执没有打印出来：{msg}。请记下上面的编号。"),
                    };
                }
            }
        }
        v
    }

    fn item_name(&self, code: &ImplementCode) -> String {
        self.catalog.item(code.as_str()).map(|i| i.name.get(self.lang).to_owned()).unwrap_or_default()
    }

    fn rows(&self, d: &Draft) -> Vec<RowView> {
        let lang = self.lang;
        self.item_of(d)
            .form
            .iter()
            .map(|f| {
                let raw = d.values.get(&f.key).cloned().unwrap_or_default();
                let (kind, options) = match &f.kind {
                    FieldKind::Text { .. } => ("text", vec![]),
                    FieldKind::Digits { .. } => ("digits", vec![]),
                    FieldKind::Phone => ("phone", vec![]),
                    FieldKind::Date => ("date", vec![]),
                    FieldKind::Choice { options } => (
                        "choice",
                        options
                            .iter()
                            .map(|o| ChoiceView { value: o.value.clone(), label: o.label.get(lang).to_owned() })
                            .collect(),
                    ),
                };
                let value = match f.prefill {
                    Some(Prefill::IdNumber) => d.identity.id_number.masked(),
                    Some(Prefill::Nation) => nation_name_zh(&raw).map(str::to_owned).unwrap_or(raw),
                    _ => raw,
                };
                RowView {
                    key: f.key.clone(),
                    label: f.label.get(lang).to_owned(),
                    value,
                    kind,
                    readonly: f.prefill.is_some(),
                    error: d.errors.get(&f.key).map(|e| e.to_string()).unwrap_or_default(),
                    options,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::identity::{check_char, parse_yyyymmdd, CardType, Gender, IdNumber, Validity};
    use time::macros::datetime;

    fn identity(valid_until: Validity) -> Box<Identity> {
        let first17 = *b"62292619520307002";
        let number = format!("{}{}", std::str::from_utf8(&first17).unwrap(), check_char(&first17));
        Box::new(Identity {
            name: "张桂兰".into(),
            gender: Gender::Female,
            nation_code: "01".into(),
            birth_date: parse_yyyymmdd("19520307").unwrap(),
            address: "甘肃省临夏回族自治州东乡族自治县锁南镇".into(),
            id_number: IdNumber::parse(&number).unwrap(),
            authority: "东乡族自治县公安局".into(),
            valid_from: parse_yyyymmdd("20160307").unwrap(),
            valid_until,
            card_type: CardType::ResidentId,
            photo_wlt: vec![0; 1024],
        })
    }

    fn session(caps: Capabilities) -> Session {
        Session::new(
            Arc::new(Catalog::starter()),
            Terminal {
                terminal_id: "GS-TEST-0001".into(),
                village_code: VillageCode::parse("622926100202").unwrap(),
                channel: Channel::SelfServiceTerminal,
            },
            caps,
            Box::new(|| datetime!(2026-11-21 10:00 +8)),
        )
    }

    const SOCIAL_CARD: &str = "620000RS0001";

    fn to_form(s: &mut Session) {
        s.handle(Event::Start);
        let fx = s.handle(Event::ChooseService(SOCIAL_CARD.into()));
        assert!(matches!(fx.as_slice(), [Effect::ReadCard]));
        assert_eq!(s.screen(), Screen::IdPrompt);
        let fx = s.handle(Event::CardRead(identity(Validity::LongTerm)));
        assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
        assert_eq!(s.screen(), Screen::Form);
    }

    #[test]
    fn whole_journey_reaches_saved_and_receipt_with_case_number() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        let v = s.view();
        let name = v.form_rows.iter().find(|r| r.key == "name").unwrap();
        assert_eq!(name.value, "张桂兰");
        assert!(name.readonly);
        let id = v.form_rows.iter().find(|r| r.key == "id_number").unwrap();
        assert_eq!(id.value, "6229**********0029");

        // Missing phone and bank: stays on the form with reasons.
        s.handle(Event::SubmitForm);
        assert_eq!(s.screen(), Screen::Form);
        let v = s.view();
        assert_eq!(v.form_rows.iter().find(|r| r.key == "phone").unwrap().error, "请填写此项");

        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
        // A card value cannot be overwritten from the form.
        s.handle(Event::FieldEdited { key: "name".into(), value: "李四".into() });
        s.handle(Event::SubmitForm);
        assert_eq!(s.screen(), Screen::Review);
        let v = s.view();
        assert!(v.review_rows.contains(&("发卡银行".to_owned(), "甘肃农村信用社".to_owned())));
        assert!(v.review_rows.contains(&("姓名".to_owned(), "张桂兰".to_owned())));

        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub)] = fx.as_slice() else { panic!("expected one submit, got {fx:?}") };
        assert_eq!(sub.item_code.as_str(), SOCIAL_CARD);
        assert_eq!(sub.form.get("phone").map(String::as_str), Some("13912345678"));
        assert_eq!(sub.applicant.name, "张桂兰");
        assert_eq!(sub.consent.text_version, CONSENT_VERSION);
        let id = sub.id;
        assert_eq!(s.screen(), Screen::Submitting);

        s.handle(Event::Saved { id });
        assert!(s.view().busy_message.contains("已保存"));
        let case = CaseNumber::parse("62202611210000001").unwrap();
        s.handle(Event::Sent { id, case_number: case.clone() });
        assert_eq!(s.screen(), Screen::Saved);
        let v = s.view();
        assert!(v.saved_sent);
        assert_eq!(v.case_number, case.as_str());
        assert!(!s.holds_personal_data());

        let fx = s.handle(Event::PrintReceipt);
        let [Effect::Print(r)] = fx.as_slice() else { panic!("expected print") };
        assert_eq!(r.qr_payload(), case.as_str());
        assert_eq!(r.applicant_masked, "张**");
        s.handle(Event::Printed);
        assert_eq!(s.view().receipt_message, "回执已打印，请从出纸口取走");
        s.handle(Event::Finish);
        assert_eq!(s.screen(), Screen::Home);
    }

    #[test]
    fn offline_save_says_so_and_receipt_carries_the_local_reference() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "abc".into() });
        s.handle(Event::SubmitForm);
        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub)] = fx.as_slice() else { panic!() };
        let id = sub.id;
        s.handle(Event::Saved { id });
        s.handle(Event::Deferred { id });
        let v = s.view();
        assert!(!v.saved_sent);
        assert_eq!(v.saved_title, "已保存，网络恢复后自动发送");
        let fx = s.handle(Event::PrintReceipt);
        let [Effect::Print(r)] = fx.as_slice() else { panic!() };
        assert_eq!(r.qr_payload(), id.to_string());
    }

    #[test]
    fn save_failure_is_said_plainly_and_nothing_is_kept() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "abc".into() });
        s.handle(Event::SubmitForm);
        s.handle(Event::Confirm);
        s.handle(Event::SaveFailed("本机存储空间不足".into()));
        assert_eq!(s.screen(), Screen::Error);
        assert!(s.view().error_message.contains("本机存储空间不足"));
        assert!(!s.holds_personal_data());
    }

    #[test]
    fn expired_card_is_refused_with_a_clear_sentence() {
        let mut s = session(Capabilities::default());
        s.handle(Event::Start);
        s.handle(Event::ChooseService(SOCIAL_CARD.into()));
        s.handle(Event::CardRead(identity(Validity::Until(parse_yyyymmdd("20200101").unwrap()))));
        assert_eq!(s.screen(), Screen::IdPrompt);
        let v = s.view();
        assert!(v.id_error);
        assert!(v.id_message.contains("已过期"), "{}", v.id_message);
        // A valid card afterwards goes on.
        s.handle(Event::CardRead(identity(Validity::LongTerm)));
        assert_eq!(s.screen(), Screen::Form);
    }

    #[test]
    fn tiles_say_why_they_are_unavailable() {
        let s = {
            let mut s = session(Capabilities { camera: false, scanner: false });
            s.handle(Event::Start);
            s
        };
        let v = s.view();
        let cert = v.services.iter().find(|t| t.name == "养老金领取资格认证").unwrap();
        assert!(!cert.enabled);
        assert!(cert.note.contains("摄像头"));
        let dibao = v.services.iter().find(|t| t.name == "农村最低生活保障申请").unwrap();
        assert!(!dibao.enabled);
        let mut s = s;
        s.handle(Event::ChooseService(cert.code.clone()));
        assert_eq!(s.screen(), Screen::Services);
        let with_camera = {
            let mut s = session(Capabilities { camera: true, scanner: false });
            s.handle(Event::Start);
            s.view()
        };
        assert!(with_camera.services.iter().find(|t| t.name == "养老金领取资格认证").unwrap().enabled);
    }

    #[test]
    fn idle_timeout_wipes_the_visit() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        assert!(s.holds_personal_data());
        s.handle(Event::IdleTimeout);
        assert_eq!(s.screen(), Screen::Home);
        assert!(!s.holds_personal_data());
        let v = s.view();
        assert!(v.form_rows.is_empty() && v.review_rows.is_empty());
    }

    #[test]
    fn late_events_from_another_submission_are_ignored() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "abc".into() });
        s.handle(Event::SubmitForm);
        s.handle(Event::Confirm);
        s.handle(Event::Saved { id: SubmissionId::new() });
        s.handle(Event::Deferred { id: SubmissionId::new() });
        assert_eq!(s.screen(), Screen::Submitting);
    }
}
