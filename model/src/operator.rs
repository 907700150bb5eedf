//! Operator accounts (帮办员) for assisted mode in service vans.
//!
//! The hub keeps the accounts; terminals pull the ones assigned to them
//! (`GET /v1/operators` → [`OperatorList`]) and log assistants in offline
//! against the synced PIN hashes. A PIN is only ever stored as an Argon2id
//! PHC string (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`): the parameters
//! travel with the hash, so the hub can make hashes stronger without
//! touching terminals. Pure: the caller draws the salt.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

use crate::mask::mask_name;
use crate::submission::VillageCode;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OperatorError {
    #[error("a staff number is 3..16 letters or digits")]
    BadStaffNumber,
    #[error("a PIN is 6 digits")]
    BadPin,
    #[error("Argon2 parameters out of range: {0}")]
    BadParams(String),
    #[error("the stored PIN hash is not an Argon2id PHC string")]
    BadHash,
}

/// 工号: what an assistant keys in at the login screen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StaffNumber(String);

impl StaffNumber {
    pub fn parse(s: &str) -> Result<StaffNumber, OperatorError> {
        let s = s.trim();
        if (3..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(StaffNumber(s.to_ascii_uppercase()))
        } else {
            Err(OperatorError::BadStaffNumber)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StaffNumber {
    type Error = OperatorError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        StaffNumber::parse(&s)
    }
}

impl From<StaffNumber> for String {
    fn from(s: StaffNumber) -> String {
        s.0
    }
}

impl fmt::Display for StaffNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A PIN as typed: six digits. Checked before any hashing.
pub fn valid_pin(pin: &str) -> bool {
    pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Argon2id cost. [`PinParams::STRONG`] is what the hub uses unless told
/// otherwise (OWASP's minimum for Argon2id, m=19 MiB, t=2, p=1, about 50 ms
/// on a kiosk board); tests pass [`PinParams::FAST_FOR_TESTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl PinParams {
    pub const STRONG: PinParams = PinParams { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
    pub const FAST_FOR_TESTS: PinParams = PinParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn argon2(&self) -> Result<Argon2<'static>, OperatorError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| OperatorError::BadParams(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for PinParams {
    fn default() -> Self {
        PinParams::STRONG
    }
}

/// Hashes a PIN with a 16-byte salt the caller drew from a CSPRNG.
pub fn hash_pin(pin: &str, salt: &[u8; 16], params: PinParams) -> Result<String, OperatorError> {
    if !valid_pin(pin) {
        return Err(OperatorError::BadPin);
    }
    let salt = SaltString::encode_b64(salt).map_err(|_| OperatorError::BadHash)?;
    let hash = params.argon2()?.hash_password(pin.as_bytes(), &salt).map_err(|e| OperatorError::BadParams(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `pin` matches the PHC string (parameters are read from it).
/// Only Argon2id hashes are accepted: a synced list cannot downgrade a
/// terminal to a weaker algorithm.
pub fn verify_pin(pin: &str, phc: &str) -> Result<bool, OperatorError> {
    let parsed = PasswordHash::new(phc).map_err(|_| OperatorError::BadHash)?;
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return Err(OperatorError::BadHash);
    }
    if !valid_pin(pin) {
        return Ok(false);
    }
    Ok(Argon2::default().verify_password(pin.as_bytes(), &parsed).is_ok())
}

/// One assistant's account as a terminal receives it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAccount {
    pub staff_number: StaffNumber,
    /// Printed on receipts and sealed into filings as the 代办人.
    pub name: String,
    /// Argon2id PHC string of the PIN.
    pub pin_hash: String,
    /// Villages this assistant's van visits: the trip screen offers these.
    pub villages: Vec<VillageCode>,
    /// Revoked accounts are sent too, so a terminal drops the login at once.
    pub revoked: bool,
    /// After this the account no longer logs in (contract end).
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<OffsetDateTime>,
}

impl fmt::Debug for OperatorAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorAccount")
            .field("staff_number", &self.staff_number)
            .field("name", &mask_name(&self.name))
            .field("villages", &self.villages.len())
            .field("revoked", &self.revoked)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

/// `GET /v1/operators`: every account assigned to the calling terminal.
/// A terminal replaces its list with this one as a whole, so an account
/// that disappears from it can no longer log in there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorList {
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub operators: Vec<OperatorAccount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_verifies_only_as_typed() {
        let h = hash_pin("246810", &[7; 16], PinParams::FAST_FOR_TESTS).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert!(verify_pin("246810", &h).unwrap());
        assert!(!verify_pin("246811", &h).unwrap());
        assert!(!verify_pin("24681", &h).unwrap());
        // Another salt, another hash.
        assert_ne!(h, hash_pin("246810", &[8; 16], PinParams::FAST_FOR_TESTS).unwrap());
        assert_eq!(hash_pin("12ab56", &[7; 16], PinParams::FAST_FOR_TESTS), Err(OperatorError::BadPin));
    }

    #[test]
    fn weaker_algorithms_and_junk_are_refused() {
        let h = hash_pin("246810", &[7; 16], PinParams::FAST_FOR_TESTS).unwrap();
        let argon2i = h.replacen("argon2id", "argon2i", 1);
        assert_eq!(verify_pin("246810", &argon2i), Err(OperatorError::BadHash));
        assert_eq!(verify_pin("246810", "plain"), Err(OperatorError::BadHash));
    }

    #[test]
    fn staff_numbers_are_normalised_and_checked() {
        assert_eq!(StaffNumber::parse(" gs0042 ").unwrap().as_str(), "GS0042");
        assert!(StaffNumber::parse("a").is_err());
        assert!(StaffNumber::parse("GS 42").is_err());
    }

    #[test]
    fn debug_masks_the_name_and_hides_the_hash() {
        let a = OperatorAccount {
            staff_number: StaffNumber::parse("GS0042").unwrap(),
            name: "马小兰".into(),
            pin_hash: hash_pin("246810", &[7; 16], PinParams::FAST_FOR_TESTS).unwrap(),
            villages: vec![],
            revoked: false,
            valid_until: None,
        };
        let d = format!("{a:?}");
        assert!(!d.contains("小兰") && !d.contains("argon2"), "{d}");
    }
}
