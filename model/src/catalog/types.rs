//! The catalog's types, with GB/T 39046 names in doc comments. A leaf: the
//! checks, search and deltas live beside it and import it, never the reverse.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::error::CatalogError;
use crate::text::LocalizedText;

/// 实施编码: the code of an item as implemented by one department, an..24.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImplementCode(String);

impl ImplementCode {
    /// Accepts 1 to 24 ASCII letters and digits; anything else is [`CatalogError::BadCode`].
    pub fn parse(s: &str) -> Result<Self, CatalogError> {
        if s.is_empty() || s.len() > 24 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CatalogError::BadCode(s.chars().take(40).collect()));
        }
        Ok(ImplementCode(s.to_owned()))
    }

    /// The code as written in the catalog.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ImplementCode {
    type Error = CatalogError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ImplementCode::parse(&s)
    }
}

impl From<ImplementCode> for String {
    fn from(c: ImplementCode) -> String {
        c.0
    }
}

impl fmt::Display for ImplementCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 主题分类: how items are grouped on the browse screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    /// Stable id items and bundles refer to (e.g. `birth`, `agriculture`).
    pub id: String,
    /// Name on the theme's tile.
    pub name: LocalizedText,
}

/// 事项类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// 行政许可
    AdministrativeLicense,
    /// 行政给付
    AdministrativePayment,
    /// 行政确认
    AdministrativeConfirmation,
    /// 公共服务
    PublicService,
    /// 其他行政权力
    Other,
}

/// 时限单位.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// 工作日
    WorkingDays,
    /// 自然日
    NaturalDays,
    /// 即办
    Immediate,
}

/// 法定办结时限 / 承诺办结时限.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    /// How many units; ignored for [`TimeUnit::Immediate`].
    pub amount: u32,
    /// Working days, calendar days or immediate.
    pub unit: TimeUnit,
}

impl TimeLimit {
    /// The limit as shown in Chinese: `即办`, `N个工作日` or `N天`.
    pub fn label_zh(&self) -> String {
        match self.unit {
            TimeUnit::Immediate => "即办".to_owned(),
            TimeUnit::WorkingDays => format!("{}个工作日", self.amount),
            TimeUnit::NaturalDays => format!("{}天", self.amount),
        }
    }
}

/// 办件结果类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultType {
    /// 证照 (e.g. the social security card)
    Certificate,
    /// 批文 / 决定书
    Decision,
    /// 待遇发放 (a payment starts)
    Payment,
    /// 登记备案
    Registration,
}

/// 收费.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fee {
    /// 免费.
    Free,
    /// Amount in fen (分).
    Charged {
        /// The fee in fen (分), 100 to the yuan.
        fen: u64,
    },
}

/// Where a filing may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// A villager may file alone at a kiosk.
    SelfService,
    /// Only an assistant (van or service point staff) may file it.
    AssistedOnly,
}

/// 材料来源: how a material is obtained at the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialSource {
    /// Read from the villager's ID card by the card reader.
    IdCard,
    /// A paper document on the document scanner.
    Scan,
    /// A photo of a document taken with the camera.
    Photo,
    /// A live face photo (养老金领取资格认证).
    FacePhoto,
    /// 电子证照: fetched from the e-license library when online.
    ELicense,
    /// The villager's signature on the signature pad.
    Signature,
}

/// 申请材料.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    /// The material's code; attachments name it ([`crate::submission::AttachmentRef::material_code`]).
    pub code: String,
    /// 材料名称
    pub name: LocalizedText,
    /// 原件份数
    pub originals: u8,
    /// 复印件份数
    pub copies: u8,
    /// 是否必要
    pub required: bool,
    /// How the kiosk obtains it.
    pub source: MaterialSource,
    /// Whose document it is (the applicant's unless said).
    #[serde(default, skip_serializing_if = "Holder::is_applicant")]
    pub holder: Holder,
}

/// Whose a material is. The card reader, the camera, the signature pad and
/// an e-license lookup (by the card's number) all get the applicant's; a
/// document of the person a filing is about (a newborn, the deceased) can
/// only come on paper.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// The applicant's own, or issued to them about another (a birth
    /// certificate names the parents).
    #[default]
    Applicant,
    /// The own document of the person the filing is about, not the applicant.
    Subject,
}

impl Holder {
    /// The default, left out of the JSON.
    pub fn is_applicant(&self) -> bool {
        *self == Holder::Applicant
    }
}

/// Which card value prefills a form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    /// 姓名.
    Name,
    /// 公民身份号码.
    IdNumber,
    /// 性别.
    Gender,
    /// 出生日期, as `YYYY-MM-DD`.
    BirthDate,
    /// 住址.
    Address,
    /// 民族.
    Nation,
}

/// One choice of a [`FieldKind::Choice`] field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// What is stored in the form when chosen.
    pub value: String,
    /// What the villager sees.
    pub label: LocalizedText,
}

/// Type and rule of a form field. Choices are preferred to typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum FieldKind {
    /// Free text, typed on the on-screen keyboard.
    Text {
        /// Most characters (not bytes) accepted.
        max_len: usize,
    },
    /// Digits only, entered on the numeric keypad.
    Digits {
        /// Fewest digits accepted.
        min_len: usize,
        /// Most digits accepted.
        max_len: usize,
    },
    /// Mainland mobile number, 11 digits starting with 1.
    Phone,
    /// One of a fixed list; the stored value must be one of the options' values.
    Choice {
        /// The choices, in screen order.
        options: Vec<ChoiceOption>,
    },
    /// `YYYY-MM-DD`.
    Date,
    /// A Gansu village picked county → township → village, and the rest of
    /// the address typed (at most `max_len` characters): `crate::place`.
    Place {
        /// Longest typed detail (group, house number), in characters.
        max_len: usize,
    },
}

/// One field of an item's form (表单项).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// Key of the value in [`crate::submission::Submission::form`]; bundles share fields by key.
    pub key: String,
    /// The field's label on screen.
    pub label: LocalizedText,
    /// Type and rule of the value.
    #[serde(flatten)]
    pub kind: FieldKind,
    /// Whether an empty value is refused.
    pub required: bool,
    /// Which card value fills the field in; None: nothing is prefilled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
}

/// Why a field value was refused; safe to show to the villager.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldError {
    /// A required field is empty.
    #[error("请填写此项")]
    Missing,
    /// Text longer than this many characters.
    #[error("最多{0}个字")]
    TooLong(usize),
    /// A digits field holds something other than ASCII digits.
    #[error("只能填数字")]
    NotDigits,
    /// A digits field has too few or too many digits.
    #[error("应为{min}到{max}位数字")]
    DigitCount {
        /// Fewest digits accepted.
        min: usize,
        /// Most digits accepted.
        max: usize,
    },
    /// Not a mainland mobile number (11 digits starting with 1).
    #[error("手机号应为1开头的11位数字")]
    Phone,
    /// A choice field's value is none of its options.
    #[error("请从选项中选择")]
    NotAnOption,
    /// Not a valid `YYYY-MM-DD` date.
    #[error("日期格式应为 年-月-日")]
    Date,
    /// Not a village picked from the divisions (with its detail).
    #[error("请选到村（社区）")]
    Place,
}

impl FormField {
    /// Checks one value. Empty optional fields are fine.
    pub fn validate(&self, value: &str) -> Result<(), FieldError> {
        let v = value.trim();
        if v.is_empty() {
            return if self.required { Err(FieldError::Missing) } else { Ok(()) };
        }
        match &self.kind {
            FieldKind::Text { max_len } => {
                if v.chars().count() > *max_len {
                    return Err(FieldError::TooLong(*max_len));
                }
            }
            FieldKind::Digits { min_len, max_len } => {
                if !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(FieldError::NotDigits);
                }
                if v.len() < *min_len || v.len() > *max_len {
                    return Err(FieldError::DigitCount { min: *min_len, max: *max_len });
                }
            }
            FieldKind::Phone => {
                if v.len() != 11 || !v.starts_with('1') || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(FieldError::Phone);
                }
            }
            FieldKind::Choice { options } => {
                if !options.iter().any(|o| o.value == v) {
                    return Err(FieldError::NotAnOption);
                }
            }
            FieldKind::Date => {
                let compact: String = v.chars().filter(|c| *c != '-').collect();
                if v.len() != 10 || crate::identity::parse_yyyymmdd(&compact).is_none() {
                    return Err(FieldError::Date);
                }
            }
            FieldKind::Place { max_len } => {
                let place = crate::place::Place::parse(v).ok_or(FieldError::Place)?;
                if place.detail.chars().count() > *max_len {
                    return Err(FieldError::TooLong(*max_len));
                }
            }
        }
        Ok(())
    }
}

/// 事项: one service a villager can file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceItem {
    /// 实施编码
    pub implement_code: ImplementCode,
    /// 事项名称
    pub name: LocalizedText,
    /// 实施主体名称
    pub department: LocalizedText,
    /// 主题分类: the life event the item is listed under first.
    pub theme: String,
    /// What villagers call the item (社保卡, 低保, 种粮补贴): found by search,
    /// never shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Other life events the item is listed under as well.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<String>,
    /// 事项类型
    pub item_type: ItemType,
    /// 设定依据 (legal basis)
    pub legal_basis: LocalizedText,
    /// 办理地点 (where the application is handled)
    pub location: LocalizedText,
    /// 咨询电话
    pub phone: String,
    /// 受理条件
    pub conditions: LocalizedText,
    /// 申请材料
    pub materials: Vec<Material>,
    /// The fields the villager fills in, in screen order.
    pub form: Vec<FormField>,
    /// 法定办结时限
    pub legal_time_limit: TimeLimit,
    /// 承诺办结时限
    pub promised_time_limit: TimeLimit,
    /// 办件结果类型
    pub result_type: ResultType,
    /// 收费
    pub fee: Fee,
    /// Whether a villager may file it alone or only with an assistant.
    pub availability: Availability,
    /// Where the item's text comes from, and whether it was checked.
    pub source: ItemSource,
}

/// Provenance of an item: which public guide it was written from and
/// whether someone compared it with the live guide. Unchecked items are
/// listed by `catalog-check` so none reaches production unnoticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSource {
    /// The public guide (办事指南) the text was written from.
    pub guide: String,
    /// Whether someone compared the item with the live guide; false items are listed by `catalog-check`.
    pub checked: bool,
}

impl ServiceItem {
    /// Whether the item needs a material of this source (e.g. a face photo,
    /// so a kiosk without a camera can say so on the tile).
    pub fn needs(&self, source: MaterialSource) -> bool {
        self.materials.iter().any(|m| m.required && m.source == source)
    }

    /// Checks all form values; returns the first error per field.
    pub fn validate_form(&self, values: &BTreeMap<String, String>) -> Vec<(String, FieldError)> {
        self.form
            .iter()
            .filter_map(|f| {
                let v = values.get(&f.key).map(String::as_str).unwrap_or("");
                f.validate(v).err().map(|e| (f.key.clone(), e))
            })
            .collect()
    }
}

/// 一件事一次办: items filed together with shared fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// The bundle's code (an implementation code of its own).
    pub code: ImplementCode,
    /// Name on the bundle's tile.
    pub name: LocalizedText,
    /// The items filed together.
    pub items: Vec<ImplementCode>,
    /// Form keys entered once and used by every item of the bundle that has them.
    pub shared_fields: Vec<String>,
    /// When the bundle is about someone other than the applicant (a
    /// newborn, the deceased): the shared form keys naming that person.
    /// Every part must ask them (it is filed for that person) and none may
    /// take a photo (the kiosk's camera sees the applicant).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_fields: Vec<String>,
    /// Form keys the bundle answers itself, with their stored value: not
    /// asked, and filed with this value for every part that has the key
    /// (身后一件事: a pension record is closed because of the death, so its
    /// 注销原因 is `death`, not a question for the family).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fixed_fields: BTreeMap<String, String>,
    /// Themes whose screen offers the bundle (it is on the home screen too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<String>,
}

/// Whether the non-Chinese texts of a language were reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TranslationStatus {
    /// Written by an engineer, not yet read by a native speaker.
    Draft,
    /// Read by a native speaker.
    Reviewed,
}

/// A versioned catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Increases with every publication; terminals keep the newest they accepted.
    pub version: u64,
    /// Where the catalog's content comes from (shown by `catalog-check`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_note: String,
    /// Per language code other than zh-CN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translation_status: BTreeMap<String, TranslationStatus>,
    /// Life-event themes, in home-screen order.
    pub themes: Vec<Theme>,
    /// Every service item, in catalog order.
    pub items: Vec<ServiceItem>,
    /// Every bundle.
    pub bundles: Vec<Bundle>,
}

impl Catalog {
    /// The item with this 实施编码, if the catalog has it.
    pub fn item(&self, code: &str) -> Option<&ServiceItem> {
        self.items.iter().find(|i| i.implement_code.as_str() == code)
    }

    /// Items listed under a theme: those it is the first theme of, then
    /// those listed there as well, each in catalog order.
    pub fn items_in_theme<'a>(&'a self, theme: &'a str) -> impl Iterator<Item = &'a ServiceItem> + 'a {
        let first = self.items.iter().filter(move |i| i.theme == theme);
        first.chain(self.items.iter().filter(move |i| i.theme != theme && i.also_in.iter().any(|t| t == theme)))
    }

    /// The bundle with this code, if the catalog has it.
    pub fn bundle(&self, code: &str) -> Option<&Bundle> {
        self.bundles.iter().find(|b| b.code.as_str() == code)
    }

    /// Bundles offered on a theme's screen.
    pub fn bundles_in_theme<'a>(&'a self, theme: &'a str) -> impl Iterator<Item = &'a Bundle> + 'a {
        self.bundles.iter().filter(move |b| b.themes.iter().any(|t| t == theme))
    }

    /// Departments (实施主体) in first-appearance order, with their items:
    /// browsing by department.
    pub fn departments(&self) -> Vec<(&LocalizedText, Vec<&ServiceItem>)> {
        let mut out: Vec<(&LocalizedText, Vec<&ServiceItem>)> = Vec::new();
        for item in &self.items {
            let zh = item.department.get(crate::text::Lang::ZhCn);
            match out.iter_mut().find(|(d, _)| d.get(crate::text::Lang::ZhCn) == zh) {
                Some((_, items)) => items.push(item),
                None => out.push((&item.department, vec![item])),
            }
        }
        out
    }
}

