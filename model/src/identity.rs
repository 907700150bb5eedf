//! Identity as read from an ID card, with GB 11643 number validation.
//!
//! Everything here is personal data: `Debug` output is masked, there is no
//! `Display`, and values are zeroised when dropped.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::Date;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::divisions;
use crate::mask::{mask_name, mask_number};
use crate::text::n_;

/// Kind of card, from the card type flag of the reader's text block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardType {
    /// 居民身份证.
    ResidentId,
    /// 港澳台居民居住证 (flag `J`).
    HmtResidencePermit,
    /// 外国人永久居留身份证, 2017 layout (flag `I`).
    ForeignPermanentResident,
    /// 外国人永久居留身份证, 2023 layout (flag `Y`).
    ForeignPermanentResident2023,
}

/// 性别 as the card records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// Code "1".
    Male,
    /// Code "2".
    Female,
    /// Any other code (未说明); never guessed.
    Unknown,
}

impl Gender {
    /// GB/T 2261.1 code as stored on the card.
    pub fn from_code(code: &str) -> Gender {
        match code.trim() {
            "1" => Gender::Male,
            "2" => Gender::Female,
            _ => Gender::Unknown,
        }
    }

    /// The GB/T 2261.1 code ("1", "2", or "0" for unknown) for platform fields.
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "1",
            Gender::Female => "2",
            Gender::Unknown => "0",
        }
    }

    /// The label shown to villagers.
    pub fn label_zh(self) -> &'static str {
        match self {
            Gender::Male => n_("男"),
            Gender::Female => n_("女"),
            Gender::Unknown => n_("未说明"),
        }
    }
}

/// Why an ID number was refused. Carries no digits of the number itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdNumberError {
    /// The number has the wrong count of characters (the count is given).
    #[error("an ID number has 18 characters, this one has {0}")]
    Length(usize),
    /// The character at this position (from 0) is not a digit.
    #[error("character {0} of the ID number is not a digit")]
    NotDigit(usize),
    /// The check character does not match the first 17 digits.
    #[error("the ID number's check digit does not match (mistyped or forged)")]
    CheckDigit,
    /// Digits 7..14 are no real date.
    #[error("the ID number's birth date is not a real date")]
    BirthDate,
    /// The province digits name no province.
    #[error("the ID number's region prefix {0} is no province")]
    Province(String),
}

/// Which kind of number an [`IdNumber`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberKind {
    /// 公民身份号码 (GB 11643-1999), also on HK/Macau/Taiwan residence
    /// permits (prefixes 81, 82, 83).
    Citizen,
    /// 外国人永久居留身份证号码, 2023: 18 characters like GB 11643 (MOD 11-2
    /// check, birth date at 7..14) but starting with 9 and then the province
    /// of the issuing office.
    ForeignPermanent2023,
    /// 外国人永久居留身份证号码, 2017: 3 letters (nationality) and 12 digits,
    /// birth date as YYMMDD at 8..13. Its check digit is not verified here
    /// (no official text confirms the algorithm; see drivers' `ForeignNumber`).
    ForeignPermanent2017,
}

/// A validated identity number: a citizen's 18-character number (GB
/// 11643-1999), or a foreign permanent resident card's number, so holders of
/// every card the reader takes can file (see [`IdNumberKind`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Check character for the first 17 digits of an ID number.
pub fn check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl IdNumber {
    /// Validates length, digits, check character (`x` accepted as `X`), birth
    /// date and province prefix. An unknown county is allowed: old cards carry
    /// retired codes (see [`IdNumber::county_known`]). Foreign permanent
    /// resident numbers (2017 and 2023) are accepted by their own rules.
    pub fn parse(s: &str) -> Result<IdNumber, IdNumberError> {
        let t = s.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        if b.len() == 15 && b[..3].iter().all(u8::is_ascii_uppercase) {
            return Self::parse_foreign_2017(t);
        }
        if b.len() == 18 && b[0] == b'9' {
            return Self::parse_foreign_2023(t);
        }
        Self::parse_citizen(s)
    }

    fn parse_foreign_2017(s: String) -> Result<IdNumber, IdNumberError> {
        let b = s.as_bytes();
        if let Some(i) = b[3..].iter().position(|c| !c.is_ascii_digit()) {
            return Err(IdNumberError::NotDigit(i + 4));
        }
        // YYMMDD: a real date in one of the two centuries.
        let (yy, mmdd) = (&s[7..9], &s[9..13]);
        if parse_yyyymmdd(&format!("19{yy}{mmdd}")).is_none() && parse_yyyymmdd(&format!("20{yy}{mmdd}")).is_none() {
            return Err(IdNumberError::BirthDate);
        }
        Ok(IdNumber(s))
    }

    fn parse_foreign_2023(s: String) -> Result<IdNumber, IdNumberError> {
        let b = s.as_bytes();
        if let Some(i) = b[..17].iter().position(|c| !c.is_ascii_digit()) {
            return Err(IdNumberError::NotDigit(i + 1));
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&b[..17]);
        if check_char(&first17) != b[17] as char {
            return Err(IdNumberError::CheckDigit);
        }
        // After the 9: the province of the issuing office.
        let province = &s[1..3];
        if divisions::province_name(province).is_none() {
            return Err(IdNumberError::Province(province.to_owned()));
        }
        let id = IdNumber(s);
        id.birth_date().ok_or(IdNumberError::BirthDate)?;
        Ok(id)
    }

    fn parse_citizen(s: &str) -> Result<IdNumber, IdNumberError> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if s.chars().count() != 18 || b.len() != 18 {
            return Err(IdNumberError::Length(s.chars().count()));
        }
        if let Some(i) = b[..17].iter().position(|c| !c.is_ascii_digit()) {
            return Err(IdNumberError::NotDigit(i + 1));
        }
        if !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdNumberError::NotDigit(18));
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&b[..17]);
        if check_char(&first17) != b[17] as char {
            return Err(IdNumberError::CheckDigit);
        }
        let province = &s[..2];
        if divisions::province_name(province).is_none() {
            return Err(IdNumberError::Province(province.to_owned()));
        }
        let id = IdNumber(s);
        id.birth_date().ok_or(IdNumberError::BirthDate)?;
        Ok(id)
    }

    /// Which kind of card issued the number, from its length and first digit.
    pub fn kind(&self) -> IdNumberKind {
        match (self.0.len(), self.0.as_bytes().first()) {
            (15, _) => IdNumberKind::ForeignPermanent2017,
            (_, Some(b'9')) => IdNumberKind::ForeignPermanent2023,
            _ => IdNumberKind::Citizen,
        }
    }

    /// Birth date encoded in characters 7..14 (`None` for 2017 foreign
    /// numbers, which carry only YYMMDD: the card's own date is the one).
    pub fn birth_date(&self) -> Option<Date> {
        match self.kind() {
            IdNumberKind::ForeignPermanent2017 => None,
            _ => parse_yyyymmdd(&self.0[6..14]),
        }
    }

    /// Six-digit region code of first issue ("" for foreign numbers).
    pub fn region_code(&self) -> &str {
        match self.kind() {
            IdNumberKind::Citizen => &self.0[..6],
            _ => "",
        }
    }

    /// Whether the county is in the current division list. `false` is a note
    /// for a human, never a reason to refuse: retired codes are still valid.
    pub fn county_known(&self) -> bool {
        divisions::county_name(self.region_code()).is_some()
    }

    /// Gender from the sequence digit (odd = male); unknown for 2017 foreign numbers.
    pub fn gender(&self) -> Gender {
        if self.kind() == IdNumberKind::ForeignPermanent2017 {
            return Gender::Unknown;
        }
        match self.0.as_bytes()[16] - b'0' {
            d if d % 2 == 1 => Gender::Male,
            _ => Gender::Female,
        }
    }

    /// The number with all but the first four and last four characters hidden,
    /// for screens, receipts and logs.
    pub fn masked(&self) -> String {
        mask_number(&self.0)
    }

    /// The full number, for sealing into a submission. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IdNumber::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(id: IdNumber) -> String {
        id.0.clone()
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// Parses `YYYYMMDD`.
pub fn parse_yyyymmdd(s: &str) -> Option<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = s[..4].parse().ok()?;
    let m: u8 = s[4..6].parse().ok()?;
    let d: u8 = s[6..8].parse().ok()?;
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

/// End of a card's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// Valid until the end of this day.
    Until(Date),
    /// 长期: cards issued to people over 46 never expire.
    LongTerm,
}

/// Why a card cannot be used for a filing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentityError {
    /// The last valid day is past.
    #[error("the ID card expired on {0}")]
    Expired(Date),
    /// The first valid day is still to come.
    #[error("the ID card is not valid before {0}")]
    NotYetValid(Date),
}

/// The holder of an ID card as read from it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Identity {
    /// 姓名.
    pub name: String,
    /// 性别.
    #[zeroize(skip)]
    pub gender: Gender,
    /// 民族, GB/T 3304 two-digit code ("01" = 汉).
    pub nation_code: String,
    /// 出生日期.
    #[zeroize(skip)]
    pub birth_date: Date,
    /// 住址.
    pub address: String,
    /// 公民身份号码.
    pub id_number: IdNumber,
    /// 签发机关.
    pub authority: String,
    /// First valid day.
    #[zeroize(skip)]
    pub valid_from: Date,
    /// Last valid day, or 长期.
    #[zeroize(skip)]
    pub valid_until: Validity,
    /// Resident ID card, residence permit or foreign resident card.
    #[zeroize(skip)]
    pub card_type: CardType,
    /// Raw WLT photo as read (1024 bytes); the decoder is proprietary.
    pub photo_wlt: Vec<u8>,
}

impl Identity {
    /// Refuses a card that is expired or not yet valid on `today`.
    pub fn check_valid_on(&self, today: Date) -> Result<(), IdentityError> {
        if today < self.valid_from {
            return Err(IdentityError::NotYetValid(self.valid_from));
        }
        match self.valid_until {
            Validity::Until(end) if today > end => Err(IdentityError::Expired(end)),
            _ => Ok(()),
        }
    }

    /// The name masked for screens and receipts (first character kept).
    pub fn masked_name(&self) -> String {
        mask_name(&self.name)
    }

    /// Age in whole years on `today`.
    pub fn age_on(&self, today: Date) -> i32 {
        let mut age = today.year() - self.birth_date.year();
        if (today.month() as u8, today.day()) < (self.birth_date.month() as u8, self.birth_date.day()) {
            age -= 1;
        }
        age
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("name", &self.masked_name())
            .field("id_number", &self.id_number)
            .field("card_type", &self.card_type)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

/// GB/T 3304 nation names for the codes most common in Gansu; others show their code.
pub fn nation_name_zh(code: &str) -> Option<&'static str> {
    Some(match code {
        "01" => n_("汉"),
        "02" => n_("蒙古"),
        "03" => n_("回"),
        "04" => n_("藏"),
        "05" => n_("维吾尔"),
        "12" => n_("土家"),
        "17" => n_("哈萨克"),
        "28" => n_("东乡"),
        "30" => n_("土"),
        "33" => n_("撒拉"),
        "34" => n_("保安"),
        "41" => n_("裕固"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn foreign_permanent_resident_numbers_are_numbers_too() {
        use super::*;
        // 2023: 9, MOD 11-2, birth date at 7..14.
        let first17 = *b"93315619850417001";
        let y = format!("93315619850417001{}", check_char(&first17));
        let n = IdNumber::parse(&y).unwrap();
        assert_eq!(n.kind(), IdNumberKind::ForeignPermanent2023);
        assert_eq!(n.birth_date(), parse_yyyymmdd("19850417"));
        assert_eq!(n.region_code(), "");
        let wrong = if y.ends_with('1') { '2' } else { '1' };
        assert!(matches!(IdNumber::parse(&format!("{}{wrong}", &y[..17])), Err(IdNumberError::CheckDigit)));
        // 2017: 3 letters, 12 digits, YYMMDD at 8..13.
        let n = IdNumber::parse("CAN310085041712").unwrap();
        assert_eq!(n.kind(), IdNumberKind::ForeignPermanent2017);
        assert_eq!((n.birth_date(), n.gender()), (None, Gender::Unknown));
        assert_eq!(n.masked().len(), 15);
        assert!(matches!(IdNumber::parse("CAN3100850A1712"), Err(IdNumberError::NotDigit(11))));
        assert!(matches!(IdNumber::parse("CAN310085139912"), Err(IdNumberError::BirthDate)));
        // Through serde too (the hub reads submissions with them).
        let json = serde_json::to_string(&IdNumber::parse("CAN310085041712").unwrap()).unwrap();
        assert_eq!(serde_json::from_str::<IdNumber>(&json).unwrap().expose(), "CAN310085041712");
        // A citizen number still needs its province.
        // After the 9, a province (of the issuing office).
        let first17 = *b"99292619520307002";
        assert_eq!(IdNumber::parse(&format!("99292619520307002{}", check_char(&first17))), Err(IdNumberError::Province("92".into())));
    }

    use super::*;

    /// Builds a valid number for a region, birth date and sequence.
    fn make(prefix17: &str) -> String {
        let mut b = [0u8; 17];
        b.copy_from_slice(prefix17.as_bytes());
        format!("{prefix17}{}", check_char(&b))
    }

    #[test]
    fn accepts_a_valid_number_and_derives_fields() {
        let s = make("62010219900307123");
        let id = IdNumber::parse(&s).expect("valid");
        assert_eq!(id.birth_date(), parse_yyyymmdd("19900307"));
        assert_eq!(id.gender(), Gender::Male);
        assert!(id.county_known());
        assert_eq!(id.masked(), format!("6201**********{}", &s[14..]));
    }

    #[test]
    fn known_x_check_digit_accepted_in_either_case() {
        // 11010519491231002X is the standard's own example.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        assert_eq!(IdNumber::parse("110105194912310021"), Err(IdNumberError::CheckDigit));
    }

    #[test]
    fn refuses_bad_numbers_with_reasons() {
        assert_eq!(IdNumber::parse("1234"), Err(IdNumberError::Length(4)));
        assert_eq!(IdNumber::parse("62010219900A071234"), Err(IdNumberError::NotDigit(12)));
        assert_eq!(IdNumber::parse(&make("62010219900230123")), Err(IdNumberError::BirthDate));
        assert_eq!(
            IdNumber::parse(&make("99010219900307123")),
            Err(IdNumberError::Province("90".into())),
            "9 starts a foreign number, whose province comes next"
        );
        assert_eq!(IdNumber::parse(&make("00010219900307123")), Err(IdNumberError::Province("00".into())));
    }

    #[test]
    fn unknown_county_is_only_a_note() {
        let id = IdNumber::parse(&make("62999919900307123")).expect("province is valid");
        assert!(!id.county_known());
    }

    #[test]
    fn error_messages_and_debug_never_carry_the_number() {
        let s = make("62010219900307123");
        let id = IdNumber::parse(&s).unwrap();
        assert!(!format!("{id:?}").contains(&s[6..14]));
        let mut wrong = s.clone();
        wrong.replace_range(17..18, if &s[17..] == "0" { "1" } else { "0" });
        let err = IdNumber::parse(&wrong).unwrap_err().to_string();
        assert!(!err.contains(&s[..6]));
    }

    #[test]
    fn expiry_is_checked() {
        let id = Identity {
            name: "张三".into(),
            gender: Gender::Male,
            nation_code: "01".into(),
            birth_date: parse_yyyymmdd("19900307").unwrap(),
            address: "甘肃省兰州市".into(),
            id_number: IdNumber::parse(&make("62010219900307123")).unwrap(),
            authority: "兰州市公安局城关分局".into(),
            valid_from: parse_yyyymmdd("20100101").unwrap(),
            valid_until: Validity::Until(parse_yyyymmdd("20200101").unwrap()),
            card_type: CardType::ResidentId,
            photo_wlt: vec![],
        };
        let today = parse_yyyymmdd("20261121").unwrap();
        assert_eq!(id.check_valid_on(today), Err(IdentityError::Expired(parse_yyyymmdd("20200101").unwrap())));
        assert_eq!(id.age_on(today), 36);
        assert!(!format!("{id:?}").contains("张三"));
    }
}
