//! Foreign permanent resident cards (外国人永久居留身份证) in the reader's
//! 256-byte text block: the 2017 layout (flag `I`) and the 2023 layout
//! (flag `Y`, in issue since 2023-12-01).
//!
//! Offsets (bytes into the UCS-2LE block), from the National Immigration
//! Administration's machine-readable item tables as reader vendors publish
//! them, checked against two independent vendor SDKs:
//!
//! | 2017 `I`                     | at  | len | 2023 `Y`                        | at  | len |
//! |------------------------------|-----|-----|---------------------------------|-----|-----|
//! | English name                 | 0   | 120 | Chinese name                    | 0   | 30  |
//! | gender (GB/T 2261.1)         | 120 | 2   | gender                          | 30  | 2   |
//! | number (15 chars)            | 122 | 30  | renewal count (换证次数)         | 32  | 4   |
//! | nationality (GB/T 2659, α-3) | 152 | 6   | birth date                      | 36  | 16  |
//! | Chinese name                 | 158 | 30  | English name, chars 1-35        | 52  | 70  |
//! | valid from                   | 188 | 16  | number (18 chars)               | 122 | 36  |
//! | valid until                  | 204 | 16  | reserved                        | 158 | 30  |
//! | birth date                   | 220 | 16  | valid from / until              | 188 | 16+16 |
//! | card version                 | 236 | 4   | English name, chars 36-46       | 220 | 22  |
//! | issuing office code          | 240 | 8   | nationality (α-3)               | 242 | 6   |
//! | type flag `I`                | 248 | 2   | type flag `Y`                   | 248 | 2   |
//! | reserved                     | 250 | 6   | link to the 2017 number (关联项) | 250 | 6   |
//!
//! Numbers: 2017 cards carry 3 letters (nationality) + 12 digits, the
//! holder's birth date as YYMMDD at characters 8-13. 2023 cards carry 18
//! characters: `9`, 2-digit region, 3-digit country, YYYYMMDD, 3-digit
//! sequence and an ISO 7064 MOD 11-2 check character, as on citizen cards.

use std::fmt;

use model::identity::check_char;
use model::mask::{mask_name, mask_number};
use model::{CardType, Gender, Validity};
use time::Date;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::text::{
    blank_block, decode_field, decode_raw, encode_field, is_padding, parse_date, CardDataError, Field, CARD_TYPE,
    LONG_TERM, TEXT_LEN,
};

mod v2017 {
    use super::Field;
    pub const NAME_EN: Field = Field { name: "english_name", offset: 0, len: 120 };
    pub const GENDER: Field = Field { name: "gender", offset: 120, len: 2 };
    pub const NUMBER: Field = Field { name: "number", offset: 122, len: 30 };
    pub const NATIONALITY: Field = Field { name: "nationality", offset: 152, len: 6 };
    pub const NAME_ZH: Field = Field { name: "chinese_name", offset: 158, len: 30 };
    pub const VALID_FROM: Field = Field { name: "valid_from", offset: 188, len: 16 };
    pub const VALID_UNTIL: Field = Field { name: "valid_until", offset: 204, len: 16 };
    pub const BIRTH: Field = Field { name: "birth", offset: 220, len: 16 };
    pub const VERSION: Field = Field { name: "card_version", offset: 236, len: 4 };
    pub const OFFICE: Field = Field { name: "issuing_office", offset: 240, len: 8 };
}

mod v2023 {
    use super::Field;
    pub const NAME_ZH: Field = Field { name: "chinese_name", offset: 0, len: 30 };
    pub const GENDER: Field = Field { name: "gender", offset: 30, len: 2 };
    pub const RENEWALS: Field = Field { name: "renewal_count", offset: 32, len: 4 };
    pub const BIRTH: Field = Field { name: "birth", offset: 36, len: 16 };
    pub const NAME_EN_1: Field = Field { name: "english_name", offset: 52, len: 70 };
    pub const NUMBER: Field = Field { name: "number", offset: 122, len: 36 };
    pub const VALID_FROM: Field = Field { name: "valid_from", offset: 188, len: 16 };
    pub const VALID_UNTIL: Field = Field { name: "valid_until", offset: 204, len: 16 };
    pub const NAME_EN_2: Field = Field { name: "english_name", offset: 220, len: 22 };
    pub const NATIONALITY: Field = Field { name: "nationality", offset: 242, len: 6 };
    pub const PREVIOUS_LINK: Field = Field { name: "previous_number_link", offset: 250, len: 6 };
}

/// The text block of a foreign permanent resident card as raw strings
/// (like [`super::CardText`]: raw so a simulator can carry bad values).
/// Fields a layout lacks are empty.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ForeignCardText {
    /// `I` (2017) or `Y` (2023).
    #[zeroize(skip)]
    pub card_type: char,
    /// Upper-case Latin letters, surname first; up to 60 (2017) or 46 (2023).
    pub name_en: String,
    /// May be blank: not every holder has a Chinese name.
    pub name_zh: String,
    /// GB/T 2261.1 code: "1" male, "2" female.
    pub gender: String,
    /// The card number: 3 letters and 12 digits (`I`) or 18 characters (`Y`).
    pub number: String,
    /// GB/T 2659 three-letter code.
    pub nationality: String,
    /// YYYYMMDD.
    pub birth: String,
    /// YYYYMMDD.
    pub valid_from: String,
    /// YYYYMMDD (no 长期 on these cards, but accepted if present).
    pub valid_until: String,
    /// 2017 only: 证件版本号.
    pub card_version: String,
    /// 2017 only: 当次申请受理机关代码.
    pub issuing_office: String,
    /// 2023 only: 换证次数.
    pub renewal_count: String,
    /// 2023 only: 既往版本证件号码关联项 (3 characters linking to the 2017 number).
    pub previous_number_link: String,
}

impl fmt::Debug for ForeignCardText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignCardText")
            .field("card_type", &self.card_type)
            .field("name_en", &mask_name(&self.name_en))
            .field("number", &mask_number(&self.number))
            .finish_non_exhaustive()
    }
}

/// Chars 1-35 of a 2023 English name go in one field, 36-46 in another.
const NAME_EN_SPLIT: usize = 35;

impl ForeignCardText {
    /// Splits a text block whose flag is `I` or `Y` into its fields.
    pub fn decode(block: &[u8; TEXT_LEN]) -> Result<ForeignCardText, CardDataError> {
        let flag = decode_field(block, &CARD_TYPE)?;
        match flag.as_str() {
            "I" => Ok(ForeignCardText {
                card_type: 'I',
                name_en: decode_field(block, &v2017::NAME_EN)?,
                name_zh: decode_field(block, &v2017::NAME_ZH)?,
                gender: decode_field(block, &v2017::GENDER)?,
                number: decode_field(block, &v2017::NUMBER)?,
                nationality: decode_field(block, &v2017::NATIONALITY)?,
                birth: decode_field(block, &v2017::BIRTH)?,
                valid_from: decode_field(block, &v2017::VALID_FROM)?,
                valid_until: decode_field(block, &v2017::VALID_UNTIL)?,
                card_version: decode_field(block, &v2017::VERSION)?,
                issuing_office: decode_field(block, &v2017::OFFICE)?,
                renewal_count: String::new(),
                previous_number_link: String::new(),
            }),
            "Y" => {
                // A name of exactly 35 characters fills the first part; a
                // space at character 36 would be a word break, so join the
                // raw parts before trimming.
                let mut name_en = Zeroizing::new(decode_raw(block, &v2023::NAME_EN_1)?);
                name_en.push_str(&decode_raw(block, &v2023::NAME_EN_2)?);
                Ok(ForeignCardText {
                    card_type: 'Y',
                    name_en: name_en.trim_matches(is_padding).to_owned(),
                    name_zh: decode_field(block, &v2023::NAME_ZH)?,
                    gender: decode_field(block, &v2023::GENDER)?,
                    number: decode_field(block, &v2023::NUMBER)?,
                    nationality: decode_field(block, &v2023::NATIONALITY)?,
                    birth: decode_field(block, &v2023::BIRTH)?,
                    valid_from: decode_field(block, &v2023::VALID_FROM)?,
                    valid_until: decode_field(block, &v2023::VALID_UNTIL)?,
                    card_version: String::new(),
                    issuing_office: String::new(),
                    renewal_count: decode_field(block, &v2023::RENEWALS)?,
                    previous_number_link: decode_field(block, &v2023::PREVIOUS_LINK)?,
                })
            }
            _ => {
                let unit = u16::from_le_bytes([block[CARD_TYPE.offset], block[CARD_TYPE.offset + 1]]);
                Err(CardDataError::UnknownCardType(unit))
            }
        }
    }

    /// Lays the fields out as the card would (for the simulator and tests).
    pub fn encode(&self) -> Result<Zeroizing<[u8; TEXT_LEN]>, CardDataError> {
        let mut block = blank_block();
        let b = &mut block;
        match self.card_type {
            'I' => {
                encode_field(b, &v2017::NAME_EN, &self.name_en)?;
                encode_field(b, &v2017::GENDER, &self.gender)?;
                encode_field(b, &v2017::NUMBER, &self.number)?;
                encode_field(b, &v2017::NATIONALITY, &self.nationality)?;
                encode_field(b, &v2017::NAME_ZH, &self.name_zh)?;
                encode_field(b, &v2017::VALID_FROM, &self.valid_from)?;
                encode_field(b, &v2017::VALID_UNTIL, &self.valid_until)?;
                encode_field(b, &v2017::BIRTH, &self.birth)?;
                encode_field(b, &v2017::VERSION, &self.card_version)?;
                encode_field(b, &v2017::OFFICE, &self.issuing_office)?;
            }
            'Y' => {
                let chars: Vec<char> = self.name_en.chars().collect();
                let max = NAME_EN_SPLIT + v2023::NAME_EN_2.len / 2;
                if chars.len() > max {
                    return Err(CardDataError::FieldTooLong { field: "english_name", chars: chars.len(), max });
                }
                let cut = chars.len().min(NAME_EN_SPLIT);
                let first: String = chars[..cut].iter().collect();
                let second: String = chars[cut..].iter().collect();
                encode_field(b, &v2023::NAME_ZH, &self.name_zh)?;
                encode_field(b, &v2023::GENDER, &self.gender)?;
                encode_field(b, &v2023::RENEWALS, &self.renewal_count)?;
                encode_field(b, &v2023::BIRTH, &self.birth)?;
                encode_field(b, &v2023::NAME_EN_1, &first)?;
                encode_field(b, &v2023::NUMBER, &self.number)?;
                encode_field(b, &v2023::VALID_FROM, &self.valid_from)?;
                encode_field(b, &v2023::VALID_UNTIL, &self.valid_until)?;
                encode_field(b, &v2023::NAME_EN_2, &second)?;
                encode_field(b, &v2023::NATIONALITY, &self.nationality)?;
                encode_field(b, &v2023::PREVIOUS_LINK, &self.previous_number_link)?;
            }
            other => return Err(CardDataError::UnknownCardType(u32::from(other) as u16)),
        }
        encode_field(b, &CARD_TYPE, &self.card_type.to_string())?;
        Ok(block)
    }

    /// The card type its flag names; errors on a flag other than `I` or `Y`.
    pub fn card_type(&self) -> Result<CardType, CardDataError> {
        match self.card_type {
            'I' => Ok(CardType::ForeignPermanentResident),
            'Y' => Ok(CardType::ForeignPermanentResident2023),
            other => Err(CardDataError::UnknownCardType(u32::from(other) as u16)),
        }
    }

    /// Validates the fields into a [`ForeignResident`]. Like citizen cards,
    /// expiry is the caller's decision.
    pub fn to_resident(&self, photo_wlt: Vec<u8>) -> Result<ForeignResident, CardDataError> {
        let card_type = self.card_type()?;
        let birth_date = parse_date(&v2017::BIRTH, &self.birth)?;
        let number = ForeignNumber::parse(card_type, &self.number, birth_date)?;
        let nationality = self.nationality.trim().to_owned();
        // 2017 cards carry GB/T 2659 letters (they begin the number too).
        // Vendor code shows letters on 2023 cards as well, but their number
        // uses the numeric code: accept either there rather than refuse a
        // real card on an unconfirmed guess.
        let code_ok = match card_type {
            CardType::ForeignPermanentResident => nationality.bytes().all(|c| c.is_ascii_uppercase()),
            _ => nationality.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        };
        if nationality.len() != 3 || !code_ok {
            return Err(CardDataError::DocumentNumber("the nationality is not a three-character GB/T 2659 code"));
        }
        let valid_until = if self.valid_until == LONG_TERM {
            Validity::LongTerm
        } else {
            Validity::Until(parse_date(&v2017::VALID_UNTIL, &self.valid_until)?)
        };
        let present = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Ok(ForeignResident {
            card_type,
            name_en: self.name_en.clone(),
            name_zh: self.name_zh.clone(),
            gender: Gender::from_code(&self.gender),
            nationality,
            birth_date,
            number,
            valid_from: parse_date(&v2017::VALID_FROM, &self.valid_from)?,
            valid_until,
            card_version: present(&self.card_version),
            issuing_office: present(&self.issuing_office),
            renewal_count: present(&self.renewal_count),
            previous_number_link: present(&self.previous_number_link),
            photo_wlt,
        })
    }
}

/// A checked foreign permanent resident card number.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ForeignNumber {
    number: String,
    /// 2017 numbers end in a check digit computed like ICAO 9303's (weights
    /// 7-3-1, letters A=10, mod 10), as reader vendors derive it; no
    /// official text confirms it, so a mismatch is a note, not a refusal.
    #[zeroize(skip)]
    check_digit_ok: bool,
}

impl ForeignNumber {
    /// Checks a number against the card type's format and the holder's birth
    /// date; errors if it does not fit. A wrong 2017 check digit is only noted
    /// (see [`ForeignNumber::check_digit_ok`]).
    pub fn parse(card_type: CardType, s: &str, birth: Date) -> Result<ForeignNumber, CardDataError> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        match card_type {
            CardType::ForeignPermanentResident => {
                if b.len() != 15 || !b[..3].iter().all(u8::is_ascii_uppercase) || !b[3..].iter().all(u8::is_ascii_digit)
                {
                    return Err(CardDataError::DocumentNumber("a 2017 card number is 3 letters and 12 digits"));
                }
                let yymmdd = format!("{:02}{:02}{:02}", birth.year() % 100, birth.month() as u8, birth.day());
                if s[7..13] != yymmdd {
                    return Err(CardDataError::DocumentNumber("the number's birth date differs from the card's"));
                }
                let check_digit_ok = icao_check_digit(&b[..14]) == Some(b[14]);
                Ok(ForeignNumber { number: s, check_digit_ok })
            }
            CardType::ForeignPermanentResident2023 => {
                if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X')
                {
                    return Err(CardDataError::DocumentNumber("a 2023 card number is 17 digits and a check character"));
                }
                if b[0] != b'9' {
                    return Err(CardDataError::DocumentNumber("a 2023 card number starts with 9"));
                }
                let mut first17 = [0u8; 17];
                first17.copy_from_slice(&b[..17]);
                if check_char(&first17) != char::from(b[17]) {
                    return Err(CardDataError::DocumentNumber("the number's check character does not match"));
                }
                let yyyymmdd = format!("{:04}{:02}{:02}", birth.year(), birth.month() as u8, birth.day());
                if s[6..14] != yyyymmdd {
                    return Err(CardDataError::DocumentNumber("the number's birth date differs from the card's"));
                }
                Ok(ForeignNumber { number: s, check_digit_ok: true })
            }
            _ => Err(CardDataError::DocumentNumber("not a foreign resident card")),
        }
    }

    /// Whether the number's check character verified (always true for 2023
    /// numbers, which are refused otherwise).
    pub fn check_digit_ok(&self) -> bool {
        self.check_digit_ok
    }

    /// The number with all but its first and last four characters hidden, for
    /// screens and logs.
    pub fn masked(&self) -> String {
        mask_number(&self.number)
    }

    /// The full number, for sealing into a submission. Never log it.
    pub fn expose(&self) -> &str {
        &self.number
    }
}

impl fmt::Debug for ForeignNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ForeignNumber({})", self.masked())
    }
}

/// ICAO 9303 check digit over `chars`: weights 7, 3, 1 repeating; digits
/// count as themselves, A..Z as 10..35, `<` as 0.
pub fn icao_check_digit(chars: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &c) in chars.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Some(b'0' + (sum % 10) as u8)
}

/// The holder of a foreign permanent resident card.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ForeignResident {
    /// `I` (2017) or `Y` (2023) layout.
    #[zeroize(skip)]
    pub card_type: CardType,
    /// 英文姓名.
    pub name_en: String,
    /// 中文姓名, may be empty.
    pub name_zh: String,
    /// As printed on the card.
    #[zeroize(skip)]
    pub gender: Gender,
    /// 国籍 (GB/T 2659 alpha-3).
    pub nationality: String,
    /// As printed on the card.
    #[zeroize(skip)]
    pub birth_date: Date,
    /// 永久居留证号码, checked.
    pub number: ForeignNumber,
    /// First day of validity.
    #[zeroize(skip)]
    pub valid_from: Date,
    /// Last day of validity.
    #[zeroize(skip)]
    pub valid_until: Validity,
    /// 2017 only: 证件版本号.
    pub card_version: Option<String>,
    /// 2017 only: 当次申请受理机关代码.
    pub issuing_office: Option<String>,
    /// 2023 only: 换证次数.
    pub renewal_count: Option<String>,
    /// 2023 only: 既往版本证件号码关联项.
    pub previous_number_link: Option<String>,
    /// Raw WLT photo, as on citizen cards.
    pub photo_wlt: Vec<u8>,
}

impl ForeignResident {
    /// The card holder as the filing journey needs them
    /// ([`model::Identity`], whose `IdNumber` takes foreign permanent
    /// resident numbers). The Chinese name when the card has one, else the
    /// English; no address and no 民族 (the card has neither: the form asks
    /// for what it needs); the issuing office as the authority.
    pub fn to_identity(&self) -> Result<model::Identity, CardDataError> {
        let id_number = model::IdNumber::parse(self.number.expose()).map_err(CardDataError::IdNumber)?;
        Ok(model::Identity {
            name: if self.name_zh.is_empty() { self.name_en.clone() } else { self.name_zh.clone() },
            gender: self.gender,
            nation_code: String::new(),
            birth_date: self.birth_date,
            address: String::new(),
            id_number,
            authority: self.issuing_office.clone().unwrap_or_else(|| "国家移民管理局".to_owned()),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            card_type: self.card_type,
            photo_wlt: self.photo_wlt.clone(),
        })
    }

    /// The name to show masked: the Chinese one when the card has it.
    pub fn masked_name(&self) -> String {
        if self.name_zh.is_empty() {
            mask_name(&self.name_en)
        } else {
            mask_name(&self.name_zh)
        }
    }
}

impl fmt::Debug for ForeignResident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignResident")
            .field("card_type", &self.card_type)
            .field("name", &self.masked_name())
            .field("number", &self.number)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use model::identity::parse_yyyymmdd;

    /// A 2017 number: USA, region 62 (甘肃), link 00, born 1975-08-21, seq 1.
    pub(crate) fn number_2017() -> String {
        let first14 = "USA6200750821" .to_owned() + "1";
        let check = icao_check_digit(first14.as_bytes()).unwrap() as char;
        format!("{first14}{check}")
    }

    /// A 2023 number: 9, region 62, country 840, born 1975-08-21, seq 001.
    pub(crate) fn number_2023() -> String {
        let first17 = "96284019750821001";
        let mut d = [0u8; 17];
        d.copy_from_slice(first17.as_bytes());
        format!("{first17}{}", check_char(&d))
    }

    pub(crate) fn sample(flag: char) -> ForeignCardText {
        ForeignCardText {
            card_type: flag,
            name_en: "SMITH JOHN WILLIAM".into(),
            name_zh: "史密斯".into(),
            gender: "1".into(),
            number: if flag == 'I' { number_2017() } else { number_2023() },
            nationality: "USA".into(),
            birth: "19750821".into(),
            valid_from: "20200101".into(),
            valid_until: "20300101".into(),
            card_version: if flag == 'I' { "01".into() } else { String::new() },
            issuing_office: if flag == 'I' { "6200".into() } else { String::new() },
            renewal_count: if flag == 'Y' { "01".into() } else { String::new() },
            previous_number_link: if flag == 'Y' { "001".into() } else { String::new() },
        }
    }

    #[test]
    fn fields_sit_at_their_documented_offsets() {
        let b = sample('I').encode().unwrap();
        assert_eq!(&b[0..2], &[b'S', 0]);
        assert_eq!(&b[120..122], &[b'1', 0]);
        assert_eq!(&b[122..124], &[b'U', 0]);
        assert_eq!(&b[152..158], &[b'U', 0, b'S', 0, b'A', 0]);
        assert_eq!(&b[158..160], &0x53F2u16.to_le_bytes()); // 史
        assert_eq!(&b[220..222], &[b'1', 0]);
        assert_eq!(&b[240..248], &[b'6', 0, b'2', 0, b'0', 0, b'0', 0]);
        assert_eq!(&b[248..250], &[b'I', 0]);

        let b = sample('Y').encode().unwrap();
        assert_eq!(&b[0..2], &0x53F2u16.to_le_bytes());
        assert_eq!(&b[30..32], &[b'1', 0]);
        assert_eq!(&b[32..36], &[b'0', 0, b'1', 0]);
        assert_eq!(&b[36..38], &[b'1', 0]);
        assert_eq!(&b[52..54], &[b'S', 0]);
        assert_eq!(&b[122..124], &[b'9', 0]);
        assert_eq!(&b[242..248], &[b'U', 0, b'S', 0, b'A', 0]);
        assert_eq!(&b[248..250], &[b'Y', 0]);
        assert_eq!(&b[250..256], &[b'0', 0, b'0', 0, b'1', 0]);
    }

    #[test]
    fn both_layouts_roundtrip_into_a_resident() {
        for flag in ['I', 'Y'] {
            let text = sample(flag);
            let back = ForeignCardText::decode(&text.encode().unwrap()).unwrap();
            assert_eq!(back, text);
            let r = back.to_resident(vec![7; 4]).unwrap();
            assert_eq!(r.name_en, "SMITH JOHN WILLIAM");
            assert_eq!(r.name_zh, "史密斯");
            assert_eq!(r.nationality, "USA");
            assert_eq!(r.gender, Gender::Male);
            assert_eq!(r.birth_date, parse_yyyymmdd("19750821").unwrap());
            assert_eq!(r.valid_until, Validity::Until(parse_yyyymmdd("20300101").unwrap()));
            assert!(r.number.check_digit_ok());
            assert_eq!(r.masked_name(), "史**");
            assert!(!format!("{r:?}").contains(r.number.expose()));
        }
    }

    #[test]
    fn a_46_character_2023_name_spans_both_fields() {
        let mut text = sample('Y');
        // 35 characters ending in a letter, then a word break at character 36.
        text.name_en = format!("{} {}", "A".repeat(35), "B".repeat(10));
        assert_eq!(text.name_en.chars().count(), 46);
        let block = text.encode().unwrap();
        assert_eq!(&block[220..222], &[b' ', 0]);
        assert_eq!(ForeignCardText::decode(&block).unwrap().name_en, text.name_en);
        text.name_en.push('C');
        assert!(matches!(text.encode(), Err(CardDataError::FieldTooLong { max: 46, .. })));
    }

    #[test]
    fn bad_numbers_are_refused_with_reasons() {
        let mut t = sample('Y');
        t.number.replace_range(17..18, if t.number.ends_with('0') { "1" } else { "0" });
        assert!(matches!(t.to_resident(vec![]), Err(CardDataError::DocumentNumber(m)) if m.contains("check")));
        let mut t = sample('Y');
        t.birth = "19750822".into();
        assert!(matches!(t.to_resident(vec![]), Err(CardDataError::DocumentNumber(m)) if m.contains("birth")));
        let mut t = sample('I');
        t.number = "US16200750821" .into();
        assert!(matches!(t.to_resident(vec![]), Err(CardDataError::DocumentNumber(_))));
        let mut t = sample('I');
        t.nationality = "840".into();
        assert!(matches!(t.to_resident(vec![]), Err(CardDataError::DocumentNumber(_))));
        let mut t = sample('Y');
        t.nationality = "840".into();
        assert_eq!(t.to_resident(vec![]).unwrap().nationality, "840");
        t.nationality = "U$".into();
        assert!(matches!(t.to_resident(vec![]), Err(CardDataError::DocumentNumber(_))));
    }

    #[test]
    fn a_2017_check_digit_mismatch_is_only_a_note() {
        let mut t = sample('I');
        let last = t.number.pop().unwrap();
        t.number.push(if last == '0' { '1' } else { '0' });
        let r = t.to_resident(vec![]).unwrap();
        assert!(!r.number.check_digit_ok());
    }

    #[test]
    fn icao_check_digit_matches_a_published_example() {
        // ICAO 9303 part 3 example: document number L898902C3 → check digit 6.
        assert_eq!(icao_check_digit(b"L898902C3"), Some(b'6'));
        assert_eq!(icao_check_digit(b"740812"), Some(b'2'));
    }
}
