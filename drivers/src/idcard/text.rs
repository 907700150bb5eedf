//! The card's 256-byte text block (UCS-2LE, space padded) and the
//! `30 01` read payload that carries it with the WLT photo.

use std::fmt;

use model::identity::parse_yyyymmdd;
use model::mask::{mask_name, mask_number};
use model::{CardType, Gender, IdNumber, IdNumberError, Identity, Validity};
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Size of the text block.
pub const TEXT_LEN: usize = 256;
/// Size of the WLT photo.
pub const PHOTO_LEN: usize = 1024;
/// Byte offset of the card type flag inside the text block.
pub const CARD_TYPE_OFFSET: usize = 248;
/// What the validity end field holds on cards that never expire.
pub const LONG_TERM: &str = "长期";

pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) offset: usize,
    pub(crate) len: usize,
}

const NAME: Field = Field { name: "name", offset: 0, len: 30 };
const GENDER: Field = Field { name: "gender", offset: 30, len: 2 };
const NATION: Field = Field { name: "nation", offset: 32, len: 4 };
const BIRTH: Field = Field { name: "birth", offset: 36, len: 16 };
const ADDRESS: Field = Field { name: "address", offset: 52, len: 70 };
const ID_NUMBER: Field = Field { name: "id_number", offset: 122, len: 36 };
const AUTHORITY: Field = Field { name: "authority", offset: 158, len: 30 };
const VALID_FROM: Field = Field { name: "valid_from", offset: 188, len: 16 };
const VALID_UNTIL: Field = Field { name: "valid_until", offset: 204, len: 16 };
// Residence permits ('J') only; reserved (blank) on resident cards.
const PASS_NUMBER: Field = Field { name: "pass_number", offset: 220, len: 18 };
const ISSUE_COUNT: Field = Field { name: "issue_count", offset: 238, len: 4 };
pub(crate) const CARD_TYPE: Field = Field { name: "card_type", offset: CARD_TYPE_OFFSET, len: 2 };

/// Why card data could not become an [`Identity`]. Names a field, never
/// carries its value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardDataError {
    /// A field is not valid UCS-2 text.
    #[error("card field `{0}` is not valid UCS-2 text")]
    BadText(&'static str),
    /// A date field is not a valid YYYYMMDD date.
    #[error("card field `{0}` is not a valid date")]
    BadDate(&'static str),
    /// The citizen ID number is refused (format, check character).
    #[error("the card's ID number is refused: {0}")]
    IdNumber(IdNumberError),
    /// A foreign permanent resident card where a citizen card was asked for
    /// (`read_card`); [`super::card::CardBlock`] decodes it and
    /// `ForeignResident::to_identity` makes the [`model::Identity`].
    #[error("a {0:?} card has no citizen identity number; read it as a foreign resident card")]
    UnsupportedCardLayout(CardType),
    /// A permit or foreign card number is refused; the text says why.
    #[error("the card's document number is refused: {0}")]
    DocumentNumber(&'static str),
    /// The type flag at byte 248 is not a layout we know.
    #[error("unknown card type flag U+{0:04X}")]
    UnknownCardType(u16),
    /// The `30 01` payload is not text block plus photo.
    #[error("read payload malformed: {0}")]
    Payload(&'static str),
    /// Encoding: a value does not fit its field (simulator and tests).
    #[error("field `{field}` has {chars} UCS-2 units, room for {max}")]
    FieldTooLong {
        /// The field's name.
        field: &'static str,
        /// UCS-2 units in the value.
        chars: usize,
        /// Units the field holds.
        max: usize,
    },
    /// Encoding: a value has a character outside UCS-2.
    #[error("field `{0}` has a character outside UCS-2")]
    NotUcs2(&'static str),
}

/// The text block's fields as raw strings, trimmed of padding.
///
/// Raw so the simulator can put deliberately invalid values on a card;
/// [`CardText::to_identity`] is where validation happens.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct CardText {
    /// 姓名, as printed on the card.
    pub name: String,
    /// GB/T 2261.1 code: "1" male, "2" female.
    pub gender: String,
    /// GB/T 3304 two-digit nation code; blank on residence permits.
    pub nation: String,
    /// YYYYMMDD.
    pub birth: String,
    /// 住址, as printed on the card.
    pub address: String,
    /// 18-character citizen ID number.
    pub id_number: String,
    /// 签发机关, the issuing police office.
    pub authority: String,
    /// YYYYMMDD.
    pub valid_from: String,
    /// YYYYMMDD or 长期.
    pub valid_until: String,
    /// 通行证号码 (HK/Macau/Taiwan travel permit number), residence permits only.
    pub pass_number: String,
    /// 签发次数, residence permits only.
    pub issue_count: String,
    /// ' ' resident ID card, 'J' HK/Macau/Taiwan residence permit,
    /// 'I' / 'Y' foreign permanent resident card (2017 / 2023 layouts).
    #[zeroize(skip)]
    pub card_type: char,
}

impl fmt::Debug for CardText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardText")
            .field("name", &mask_name(&self.name))
            .field("id_number", &mask_number(&self.id_number))
            .field("card_type", &self.card_type)
            .finish_non_exhaustive()
    }
}

/// A field's text exactly as stored, padding included.
pub(crate) fn decode_raw(block: &[u8; TEXT_LEN], field: &Field) -> Result<String, CardDataError> {
    let units = block[field.offset..field.offset + field.len]
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]));
    char::decode_utf16(units).collect::<Result<String, _>>().map_err(|_| CardDataError::BadText(field.name))
}

/// Cards pad with spaces; some readers leave NULs in unused space.
pub(crate) fn is_padding(c: char) -> bool {
    c == ' ' || c == '\0'
}

pub(crate) fn decode_field(block: &[u8; TEXT_LEN], field: &Field) -> Result<String, CardDataError> {
    Ok(decode_raw(block, field)?.trim_matches(is_padding).to_owned())
}

pub(crate) fn encode_field(block: &mut [u8; TEXT_LEN], field: &Field, value: &str) -> Result<(), CardDataError> {
    let mut units = Vec::with_capacity(field.len / 2);
    for c in value.chars() {
        let mut pair = [0u16; 2];
        let encoded = c.encode_utf16(&mut pair);
        if encoded.len() != 1 {
            return Err(CardDataError::NotUcs2(field.name));
        }
        units.push(encoded[0]);
    }
    if units.len() * 2 > field.len {
        return Err(CardDataError::FieldTooLong { field: field.name, chars: units.len(), max: field.len / 2 });
    }
    for (i, u) in units.iter().enumerate() {
        let at = field.offset + 2 * i;
        block[at..at + 2].copy_from_slice(&u.to_le_bytes());
    }
    Ok(())
}

/// A text block of UCS-2 spaces, the padding cards use.
pub(crate) fn blank_block() -> Zeroizing<[u8; TEXT_LEN]> {
    let mut block = Zeroizing::new([0u8; TEXT_LEN]);
    for pair in block.chunks_exact_mut(2) {
        pair.copy_from_slice(&[0x20, 0x00]);
    }
    block
}

pub(crate) fn parse_date(field: &Field, s: &str) -> Result<time::Date, CardDataError> {
    parse_yyyymmdd(s).ok_or(CardDataError::BadDate(field.name))
}

impl CardText {
    /// Splits a text block into its fields.
    pub fn decode(block: &[u8; TEXT_LEN]) -> Result<CardText, CardDataError> {
        let flag = u16::from_le_bytes([block[CARD_TYPE_OFFSET], block[CARD_TYPE_OFFSET + 1]]);
        // A lone surrogate is no card type; report the raw unit.
        let card_type = char::from_u32(u32::from(flag)).ok_or(CardDataError::UnknownCardType(flag))?;
        Ok(CardText {
            name: decode_field(block, &NAME)?,
            gender: decode_field(block, &GENDER)?,
            nation: decode_field(block, &NATION)?,
            birth: decode_field(block, &BIRTH)?,
            address: decode_field(block, &ADDRESS)?,
            id_number: decode_field(block, &ID_NUMBER)?,
            authority: decode_field(block, &AUTHORITY)?,
            valid_from: decode_field(block, &VALID_FROM)?,
            valid_until: decode_field(block, &VALID_UNTIL)?,
            pass_number: decode_field(block, &PASS_NUMBER)?,
            issue_count: decode_field(block, &ISSUE_COUNT)?,
            card_type,
        })
    }

    /// Lays the fields out as a card would, padding with spaces.
    pub fn encode(&self) -> Result<Zeroizing<[u8; TEXT_LEN]>, CardDataError> {
        let mut block = blank_block();
        encode_field(&mut block, &NAME, &self.name)?;
        encode_field(&mut block, &GENDER, &self.gender)?;
        encode_field(&mut block, &NATION, &self.nation)?;
        encode_field(&mut block, &BIRTH, &self.birth)?;
        encode_field(&mut block, &ADDRESS, &self.address)?;
        encode_field(&mut block, &ID_NUMBER, &self.id_number)?;
        encode_field(&mut block, &AUTHORITY, &self.authority)?;
        encode_field(&mut block, &VALID_FROM, &self.valid_from)?;
        encode_field(&mut block, &VALID_UNTIL, &self.valid_until)?;
        encode_field(&mut block, &PASS_NUMBER, &self.pass_number)?;
        encode_field(&mut block, &ISSUE_COUNT, &self.issue_count)?;
        encode_field(&mut block, &CARD_TYPE, &self.card_type.to_string())?;
        Ok(block)
    }

    /// The card type named by the flag.
    pub fn card_type(&self) -> Result<CardType, CardDataError> {
        match self.card_type {
            // Older resident cards may leave the reserved area as NULs.
            ' ' | '\0' => Ok(CardType::ResidentId),
            'J' => Ok(CardType::HmtResidencePermit),
            'I' => Ok(CardType::ForeignPermanentResident),
            'Y' => Ok(CardType::ForeignPermanentResident2023),
            // Any BMP char fits in u16: it came from one UCS-2 unit.
            other => Err(CardDataError::UnknownCardType(u32::from(other) as u16)),
        }
    }

    /// Validates the fields into an [`Identity`]. Expiry is deliberately not
    /// checked: an expired card still identifies its holder, and refusing it
    /// is the kiosk's decision ([`Identity::check_valid_on`]).
    pub fn to_identity(&self, photo_wlt: Vec<u8>) -> Result<Identity, CardDataError> {
        let card_type = self.card_type()?;
        match card_type {
            CardType::ResidentId | CardType::HmtResidencePermit => {}
            // Their fields sit elsewhere (English name, nationality, ...).
            CardType::ForeignPermanentResident | CardType::ForeignPermanentResident2023 => {
                return Err(CardDataError::UnsupportedCardLayout(card_type));
            }
        }
        let id_number = IdNumber::parse(&self.id_number).map_err(CardDataError::IdNumber)?;
        let valid_until = if self.valid_until == LONG_TERM {
            Validity::LongTerm
        } else {
            Validity::Until(parse_date(&VALID_UNTIL, &self.valid_until)?)
        };
        Ok(Identity {
            name: self.name.clone(),
            gender: Gender::from_code(&self.gender),
            nation_code: self.nation.clone(),
            birth_date: parse_date(&BIRTH, &self.birth)?,
            address: self.address.clone(),
            id_number,
            authority: self.authority.clone(),
            valid_from: parse_date(&VALID_FROM, &self.valid_from)?,
            valid_until,
            card_type,
            photo_wlt,
        })
    }
}

/// Builds the data of a `30 01` response: text length, photo length (both
/// big-endian u16), text, photo.
pub fn encode_read_data(text: &[u8; TEXT_LEN], photo: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardDataError> {
    let photo_len = u16::try_from(photo.len()).map_err(|_| CardDataError::Payload("photo too large"))?;
    let mut out = Zeroizing::new(Vec::with_capacity(4 + TEXT_LEN + photo.len()));
    out.extend_from_slice(&(TEXT_LEN as u16).to_be_bytes());
    out.extend_from_slice(&photo_len.to_be_bytes());
    out.extend_from_slice(text);
    out.extend_from_slice(photo);
    Ok(out)
}

/// Splits `30 01` response data into the text block and the photo.
pub fn split_read_data(data: &[u8]) -> Result<(&[u8; TEXT_LEN], &[u8]), CardDataError> {
    if data.len() < 4 {
        return Err(CardDataError::Payload("shorter than its length header"));
    }
    let text_len = usize::from(u16::from_be_bytes([data[0], data[1]]));
    let photo_len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    if text_len != TEXT_LEN {
        return Err(CardDataError::Payload("text length is not 256"));
    }
    if data.len() != 4 + text_len + photo_len {
        return Err(CardDataError::Payload("lengths do not add up to the data received"));
    }
    let text: &[u8; TEXT_LEN] = data[4..4 + TEXT_LEN]
        .try_into()
        .map_err(|_| CardDataError::Payload("text block"))?;
    Ok((text, &data[4 + TEXT_LEN..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CardText {
        CardText {
            name: "马福祥".into(),
            gender: "1".into(),
            nation: "03".into(),
            birth: "19800215".into(),
            address: "甘肃省临夏回族自治州临夏市八坊街道".into(),
            id_number: "11010519491231002X".into(),
            authority: "临夏市公安局".into(),
            valid_from: "20200101".into(),
            valid_until: "20400101".into(),
            pass_number: String::new(),
            issue_count: String::new(),
            card_type: ' ',
        }
    }

    #[test]
    fn fields_sit_at_their_documented_offsets() {
        let block = sample().encode().unwrap();
        // 马 = U+9A6C little-endian at 0; gender '1' at 30; birth '1' at 36;
        // id number starts at 122; padding is 20 00.
        assert_eq!(&block[0..2], &[0x6C, 0x9A]);
        assert_eq!(&block[6..8], &[0x20, 0x00]);
        assert_eq!(&block[30..32], &[b'1', 0]);
        assert_eq!(&block[32..36], &[b'0', 0, b'3', 0]);
        assert_eq!(&block[36..38], &[b'1', 0]);
        assert_eq!(&block[122..124], &[b'1', 0]);
        assert_eq!(&block[156..158], &[b'X', 0]);
        assert_eq!(&block[204..206], &[b'2', 0]);
        assert_eq!(&block[CARD_TYPE_OFFSET..CARD_TYPE_OFFSET + 2], &[0x20, 0x00]);
        assert_eq!(&block[254..256], &[0x20, 0x00]);
    }

    #[test]
    fn decode_inverts_encode_and_builds_an_identity() {
        let text = sample();
        let back = CardText::decode(&text.encode().unwrap()).unwrap();
        assert_eq!(back, text);
        let id = back.to_identity(vec![1, 2, 3]).unwrap();
        assert_eq!(id.name, "马福祥");
        assert_eq!(id.gender, Gender::Male);
        assert_eq!(id.nation_code, "03");
        assert_eq!(id.birth_date, parse_yyyymmdd("19800215").unwrap());
        assert_eq!(id.valid_until, Validity::Until(parse_yyyymmdd("20400101").unwrap()));
        assert_eq!(id.card_type, CardType::ResidentId);
        assert_eq!(id.photo_wlt, [1, 2, 3]);
    }

    #[test]
    fn long_term_validity_and_residence_permits() {
        let mut text = sample();
        text.valid_until = LONG_TERM.into();
        text.card_type = 'J';
        text.nation = String::new();
        let id = CardText::decode(&text.encode().unwrap()).unwrap().to_identity(vec![]).unwrap();
        assert_eq!(id.valid_until, Validity::LongTerm);
        assert_eq!(id.card_type, CardType::HmtResidencePermit);
        assert_eq!(id.nation_code, "");
    }

    #[test]
    fn foreign_layouts_and_unknown_flags_are_typed_errors() {
        for (flag, ty) in [('I', CardType::ForeignPermanentResident), ('Y', CardType::ForeignPermanentResident2023)] {
            let mut text = sample();
            text.card_type = flag;
            assert_eq!(text.to_identity(vec![]), Err(CardDataError::UnsupportedCardLayout(ty)));
        }
        let mut text = sample();
        text.card_type = 'Q';
        assert_eq!(text.to_identity(vec![]), Err(CardDataError::UnknownCardType(u16::from(b'Q'))));
    }

    #[test]
    fn bad_values_name_the_field_not_the_value() {
        let mut text = sample();
        text.birth = "19800230".into();
        assert_eq!(text.to_identity(vec![]), Err(CardDataError::BadDate("birth")));
        let mut text = sample();
        text.valid_until = "2040".into();
        assert_eq!(text.to_identity(vec![]), Err(CardDataError::BadDate("valid_until")));
        let mut text = sample();
        text.id_number = "110105194912310021".into();
        let err = text.to_identity(vec![]).unwrap_err();
        assert_eq!(err, CardDataError::IdNumber(IdNumberError::CheckDigit));
        assert!(!err.to_string().contains("19491231"));
        assert!(!format!("{text:?}").contains("马福祥"));
    }

    #[test]
    fn a_lone_surrogate_is_a_text_error() {
        let mut block = sample().encode().unwrap();
        block[0..2].copy_from_slice(&0xD800u16.to_le_bytes());
        assert_eq!(CardText::decode(&block), Err(CardDataError::BadText("name")));
    }

    #[test]
    fn overlong_and_non_bmp_values_cannot_be_encoded() {
        let mut text = sample();
        text.name = "阿".repeat(16);
        assert_eq!(text.encode().err(), Some(CardDataError::FieldTooLong { field: "name", chars: 16, max: 15 }));
        let mut text = sample();
        text.name = "𠮷".into();
        assert_eq!(text.encode().err(), Some(CardDataError::NotUcs2("name")));
    }

    #[test]
    fn read_payload_roundtrip_and_length_checks() {
        let block = sample().encode().unwrap();
        let photo = vec![0x57; PHOTO_LEN];
        let data = encode_read_data(&block, &photo).unwrap();
        assert_eq!(&data[..4], &[0x01, 0x00, 0x04, 0x00]);
        let (t, p) = split_read_data(&data).unwrap();
        assert_eq!(t, &*block);
        assert_eq!(p, &photo[..]);
        assert!(split_read_data(&data[..data.len() - 1]).is_err());
        assert!(split_read_data(&data[..3]).is_err());
    }
}
