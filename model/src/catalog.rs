//! The service catalog (事项目录): items a villager can file and bundles of them.
//!
//! The catalog is data: the starter catalog ships in `model/data/catalog.json`;
//! deployments receive versioned catalogs from the hub. [`Catalog::from_json`]
//! checks everything a kiosk relies on, so a corrupt file is refused whole.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::text::LocalizedText;

const STARTER: &str = include_str!("../data/catalog.json");

/// 实施编码: the code of an item as implemented by one department, an..24.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImplementCode(String);

impl ImplementCode {
    pub fn parse(s: &str) -> Result<Self, CatalogError> {
        if s.is_empty() || s.len() > 24 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CatalogError::BadCode(s.chars().take(40).collect()));
        }
        Ok(ImplementCode(s.to_owned()))
    }

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

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("the catalog is not valid JSON of the expected shape: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("implementation code {0:?} is not 1..24 letters or digits")]
    BadCode(String),
    #[error("item {0} appears twice")]
    DuplicateItem(String),
    #[error("item {0} has no Chinese name")]
    MissingName(String),
    #[error("item {item} names theme {theme}, which the catalog does not define")]
    UnknownTheme { item: String, theme: String },
    #[error("item {item} has two form fields named {field}")]
    DuplicateField { item: String, field: String },
    #[error("item {item}: choice field {field} has no options")]
    EmptyChoice { item: String, field: String },
    #[error("bundle {bundle} names item {item}, which the catalog does not hold")]
    UnknownBundleItem { bundle: String, item: String },
    #[error("the catalog holds no items")]
    Empty,
}

/// 主题分类: how items are grouped on the browse screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    pub id: String,
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
    pub amount: u32,
    pub unit: TimeUnit,
}

impl TimeLimit {
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
    Free,
    /// Amount in fen (分).
    Charged { fen: u64 },
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
    IdCard,
    Scan,
    Photo,
    /// A live face photo (养老金领取资格认证).
    FacePhoto,
    /// 电子证照: fetched from the e-license library when online.
    ELicense,
    Signature,
}

/// 申请材料.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub code: String,
    /// 材料名称
    pub name: LocalizedText,
    /// 原件份数
    pub originals: u8,
    /// 复印件份数
    pub copies: u8,
    /// 是否必要
    pub required: bool,
    pub source: MaterialSource,
}

/// Which card value prefills a form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    Name,
    IdNumber,
    Gender,
    BirthDate,
    Address,
    Nation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub value: String,
    pub label: LocalizedText,
}

/// Type and rule of a form field. Choices are preferred to typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum FieldKind {
    Text { max_len: usize },
    /// Digits only, entered on the numeric keypad.
    Digits { min_len: usize, max_len: usize },
    /// Mainland mobile number, 11 digits starting with 1.
    Phone,
    Choice { options: Vec<ChoiceOption> },
    /// `YYYY-MM-DD`.
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub key: String,
    pub label: LocalizedText,
    #[serde(flatten)]
    pub kind: FieldKind,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
}

/// Why a field value was refused; safe to show to the villager.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldError {
    #[error("请填写此项")]
    Missing,
    #[error("最多{0}个字")]
    TooLong(usize),
    #[error("只能填数字")]
    NotDigits,
    #[error("应为{min}到{max}位数字")]
    DigitCount { min: usize, max: usize },
    #[error("手机号应为1开头的11位数字")]
    Phone,
    #[error("请从选项中选择")]
    NotAnOption,
    #[error("日期格式应为 年-月-日")]
    Date,
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
    /// 主题分类
    pub theme: String,
    /// 事项类型
    pub item_type: ItemType,
    /// 受理条件
    pub conditions: LocalizedText,
    /// 申请材料
    pub materials: Vec<Material>,
    pub form: Vec<FormField>,
    /// 法定办结时限
    pub legal_time_limit: TimeLimit,
    /// 承诺办结时限
    pub promised_time_limit: TimeLimit,
    /// 办件结果类型
    pub result_type: ResultType,
    /// 收费
    pub fee: Fee,
    pub availability: Availability,
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
    pub code: ImplementCode,
    pub name: LocalizedText,
    pub items: Vec<ImplementCode>,
    /// Form keys entered once and used by every item of the bundle.
    pub shared_fields: Vec<String>,
}

/// A versioned catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Increases with every publication; terminals keep the newest they accepted.
    pub version: u64,
    pub themes: Vec<Theme>,
    pub items: Vec<ServiceItem>,
    pub bundles: Vec<Bundle>,
}

impl Catalog {
    /// Parses and checks a catalog.
    pub fn from_json(s: &str) -> Result<Catalog, CatalogError> {
        let c: Catalog = serde_json::from_str(s)?;
        c.check()?;
        Ok(c)
    }

    /// The starter catalog compiled into this build.
    pub fn starter() -> Catalog {
        // The starter is checked by this crate's tests, so failure here is a
        // build defect, not bad input.
        Catalog::from_json(STARTER).expect("the compiled-in starter catalog is valid")
    }

    pub fn starter_json() -> &'static str {
        STARTER
    }

    fn check(&self) -> Result<(), CatalogError> {
        if self.items.is_empty() {
            return Err(CatalogError::Empty);
        }
        let themes: HashSet<&str> = self.themes.iter().map(|t| t.id.as_str()).collect();
        let mut seen = HashSet::new();
        for item in &self.items {
            let code = item.implement_code.as_str();
            if !seen.insert(code) {
                return Err(CatalogError::DuplicateItem(code.to_owned()));
            }
            if !item.name.has_source() {
                return Err(CatalogError::MissingName(code.to_owned()));
            }
            if !themes.contains(item.theme.as_str()) {
                return Err(CatalogError::UnknownTheme { item: code.to_owned(), theme: item.theme.clone() });
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
            for i in &b.items {
                if !seen.contains(i.as_str()) {
                    return Err(CatalogError::UnknownBundleItem { bundle: b.code.to_string(), item: i.to_string() });
                }
            }
        }
        Ok(())
    }

    pub fn item(&self, code: &str) -> Option<&ServiceItem> {
        self.items.iter().find(|i| i.implement_code.as_str() == code)
    }

    pub fn items_in_theme<'a>(&'a self, theme: &'a str) -> impl Iterator<Item = &'a ServiceItem> + 'a {
        self.items.iter().filter(move |i| i.theme == theme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Lang;

    #[test]
    fn starter_catalog_holds_the_village_services() {
        let c = Catalog::starter();
        let names: Vec<&str> = c.items.iter().map(|i| i.name.get(Lang::ZhCn)).collect();
        for expected in [
            "社会保障卡申领",
            "城乡居民基本养老保险参保登记",
            "养老金领取资格认证",
            "城乡居民医保参保登记",
            "高龄津贴申请",
            "残疾人两项补贴申请",
            "农村最低生活保障申请",
            "临时救助申请",
            "出生登记",
        ] {
            assert!(names.contains(&expected), "missing {expected}");
        }
        for item in &c.items {
            assert!(!item.name.get(Lang::En).is_empty());
            assert_ne!(item.name.get(Lang::En), item.name.get(Lang::ZhCn), "{} lacks English", item.implement_code);
        }
        assert!(c.bundles.len() >= 2);
        let cert = c.items.iter().find(|i| i.name.get(Lang::ZhCn) == "养老金领取资格认证").unwrap();
        assert!(cert.needs(MaterialSource::FacePhoto));
    }

    #[test]
    fn corrupt_catalogs_are_refused_with_a_reason() {
        assert!(matches!(Catalog::from_json("{\"version\": 1, \"items\": ["), Err(CatalogError::Parse(_))));
        let mut c = Catalog::starter();
        c.items.push(c.items[0].clone());
        let json = serde_json::to_string(&c).unwrap();
        assert!(matches!(Catalog::from_json(&json), Err(CatalogError::DuplicateItem(_))));
        let mut c = Catalog::starter();
        c.bundles[0].items.push(ImplementCode::parse("NOSUCHITEM").unwrap());
        let json = serde_json::to_string(&c).unwrap();
        assert!(matches!(Catalog::from_json(&json), Err(CatalogError::UnknownBundleItem { .. })));
        let too_long = serde_json::to_string(&Catalog::starter()).unwrap().replacen(
            c.items[0].implement_code.as_str(),
            "1234567890123456789012345",
            1,
        );
        assert!(Catalog::from_json(&too_long).is_err());
    }

    #[test]
    fn fields_validate() {
        let f = |kind| FormField { key: "k".into(), label: LocalizedText::new("k"), kind, required: true, prefill: None };
        assert_eq!(f(FieldKind::Phone).validate("13912345678"), Ok(()));
        assert_eq!(f(FieldKind::Phone).validate("2391234567"), Err(FieldError::Phone));
        assert_eq!(f(FieldKind::Phone).validate(""), Err(FieldError::Missing));
        assert_eq!(f(FieldKind::Digits { min_len: 1, max_len: 3 }).validate("12a"), Err(FieldError::NotDigits));
        assert_eq!(f(FieldKind::Date).validate("2026-02-30"), Err(FieldError::Date));
        assert_eq!(f(FieldKind::Date).validate("2026-02-28"), Ok(()));
        let choice = f(FieldKind::Choice { options: vec![ChoiceOption { value: "a".into(), label: LocalizedText::new("甲") }] });
        assert_eq!(choice.validate("b"), Err(FieldError::NotAnOption));
    }
}
