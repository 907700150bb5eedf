//! Any card the reader can read: the text block's layout follows the type
//! flag at byte 248.

use model::{CardType, Identity};

use super::foreign::{ForeignCardText, ForeignResident};
use super::text::{CardDataError, CardText, CARD_TYPE_OFFSET, TEXT_LEN};

/// A text block split by its layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardBlock {
    /// Resident ID card (flag blank) or HK/Macau/Taiwan residence permit (`J`).
    Citizen(CardText),
    /// Foreign permanent resident card (`I` 2017, `Y` 2023).
    Foreign(ForeignCardText),
}

/// Extra fields of a HK/Macau/Taiwan residence permit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidencePermit {
    /// 通行证号码: personal data, show masked.
    pub pass_number: String,
    /// 签发次数.
    pub issue_count: String,
}

/// A validated card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Card {
    /// Holders with a GB 11643 number. `permit` is set for `J` cards.
    Citizen {
        /// The holder as read, validated.
        identity: Identity,
        /// The permit's extra fields, for `J` cards only.
        permit: Option<ResidencePermit>,
    },
    /// A foreign permanent resident card (`I` or `Y`).
    Foreign(ForeignResident),
}

impl CardBlock {
    /// Splits a 256-byte text block by its type flag; errors if the fields are
    /// not valid UCS-2 text.
    pub fn decode(block: &[u8; TEXT_LEN]) -> Result<CardBlock, CardDataError> {
        let flag = u16::from_le_bytes([block[CARD_TYPE_OFFSET], block[CARD_TYPE_OFFSET + 1]]);
        if flag == u16::from(b'I') || flag == u16::from(b'Y') {
            ForeignCardText::decode(block).map(CardBlock::Foreign)
        } else {
            CardText::decode(block).map(CardBlock::Citizen)
        }
    }

    /// The 256-byte block again, for the simulator; errors if a field does not
    /// fit.
    pub fn encode(&self) -> Result<zeroize::Zeroizing<[u8; TEXT_LEN]>, CardDataError> {
        match self {
            CardBlock::Citizen(t) => t.encode(),
            CardBlock::Foreign(t) => t.encode(),
        }
    }

    /// Validates the text and joins it with the raw WLT photo; errors name the
    /// field that is refused.
    pub fn to_card(&self, photo_wlt: Vec<u8>) -> Result<Card, CardDataError> {
        match self {
            CardBlock::Citizen(text) => {
                let identity = text.to_identity(photo_wlt)?;
                let permit = (identity.card_type == CardType::HmtResidencePermit).then(|| ResidencePermit {
                    pass_number: text.pass_number.clone(),
                    issue_count: text.issue_count.clone(),
                });
                Ok(Card::Citizen { identity, permit })
            }
            CardBlock::Foreign(text) => text.to_resident(photo_wlt).map(Card::Foreign),
        }
    }
}

impl Card {
    /// The card's type, from its flag.
    pub fn card_type(&self) -> CardType {
        match self {
            Card::Citizen { identity, .. } => identity.card_type,
            Card::Foreign(r) => r.card_type,
        }
    }

    /// The holder's name, masked for screens and logs.
    pub fn masked_name(&self) -> String {
        match self {
            Card::Citizen { identity, .. } => identity.masked_name(),
            Card::Foreign(r) => r.masked_name(),
        }
    }

    /// The card's number, masked for screens and logs.
    pub fn masked_number(&self) -> String {
        match self {
            Card::Citizen { identity, .. } => identity.id_number.masked(),
            Card::Foreign(r) => r.number.masked(),
        }
    }

    /// The raw WLT photo (1024 bytes on a good card).
    pub fn photo_wlt(&self) -> &[u8] {
        match self {
            Card::Citizen { identity, .. } => &identity.photo_wlt,
            Card::Foreign(r) => &r.photo_wlt,
        }
    }

    /// The citizen identity, for callers that handle only GB 11643 holders.
    pub fn into_identity(self) -> Result<Identity, CardDataError> {
        match self {
            Card::Citizen { identity, .. } => Ok(identity),
            Card::Foreign(r) => Err(CardDataError::UnsupportedCardLayout(r.card_type)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any 256 bytes a reader might return decode to a card or a typed
        /// error, whatever the flag says.
        #[test]
        fn any_text_block_decodes_or_fails_cleanly(
            mut block in proptest::collection::vec(any::<u8>(), TEXT_LEN),
            flag in prop::sample::select(vec![b' ', b'J', b'I', b'Y', b'Q', 0]),
        ) {
            block[CARD_TYPE_OFFSET] = flag;
            block[CARD_TYPE_OFFSET + 1] = 0;
            let block: [u8; TEXT_LEN] = block.try_into().unwrap();
            if let Ok(b) = CardBlock::decode(&block) {
                let _ = b.to_card(vec![]);
            }
        }

        /// Foreign cards survive the wire with any English name that fits.
        #[test]
        fn foreign_names_roundtrip(name in "[A-Z][A-Z ]{0,44}[A-Z]", flag in prop::sample::select(vec!['I', 'Y'])) {
            let mut text = crate::idcard::foreign::tests::sample(flag);
            text.name_en = name.clone();
            let back = CardBlock::decode(&text.encode().unwrap()).unwrap();
            match back.to_card(vec![]).unwrap() {
                Card::Foreign(r) => prop_assert_eq!(r.name_en.as_str(), name.as_str()),
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}
