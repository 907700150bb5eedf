//! Operator accounts (帮办员) for assisted mode in service vans.
//!
//! The hub keeps the accounts; terminals pull the ones assigned to them
//! (`GET /v1/operators` → [`OperatorList`]) and log assistants in offline
//! against the synced PIN hashes. A PIN is only ever stored as an Argon2id
//! PHC string (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`): the parameters
//! travel with the hash, so the hub can make hashes stronger without
//! touching terminals. Pure: the caller draws the salt.
//!
//! A van's disk can be stolen with the van, so the hashes must hold on
//! their own: a PIN is [`MIN_PIN_DIGITS`]..[`MAX_PIN_DIGITS`] digits with no
//! obvious pattern (issue 12 item 8). Measured on the 2-core build machine
//! (2026-12-04, `cargo run --release -p model --example pin_cost`, five
//! runs on a quiet machine): median 12.6 ms per Argon2id guess with
//! [`PinParams::STRONG`] (range 12.2–12.9); on 16 such cores six digits fall
//! in about 6 minutes on average, 12 digits take 12.5 years on average (25
//! for the whole space), so more than a year even for hardware 10x faster.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

use crate::mask::mask_name;
use crate::submission::VillageCode;

/// Why a staff number, PIN or PIN hash was refused. Never names the PIN itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OperatorError {
    /// A staff number is not 3..16 ASCII letters or digits.
    #[error("a staff number is 3..16 letters or digits")]
    BadStaffNumber,
    /// A PIN is not 12 to 16 digits.
    #[error("an operator PIN is 12 to 16 digits")]
    BadPin,
    /// Never names the PIN, only what is wrong with it.
    #[error("this PIN is too easy to guess ({0}): choose 12 to 16 digits without repeats, runs or few distinct digits")]
    WeakPin(&'static str),
    /// Argon2 refused the cost parameters.
    #[error("Argon2 parameters out of range: {0}")]
    BadParams(String),
    /// A stored hash does not parse as Argon2id.
    #[error("the stored PIN hash is not an Argon2id PHC string")]
    BadHash,
}

/// 工号: what an assistant keys in at the login screen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StaffNumber(String);

impl StaffNumber {
    /// Trims and checks: 3..16 ASCII letters or digits.
    pub fn parse(s: &str) -> Result<StaffNumber, OperatorError> {
        let s = s.trim();
        if (3..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(StaffNumber(s.to_ascii_uppercase()))
        } else {
            Err(OperatorError::BadStaffNumber)
        }
    }

    /// The number as text.
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

/// Fewest digits in an operator PIN: the space (10^12) must outlast a year
/// of guessing on 16 cores (see the module doc and examples/pin_cost.rs).
pub const MIN_PIN_DIGITS: usize = 12;
/// Most digits the login keypad takes (ui/ui/screens/operator-login.slint).
pub const MAX_PIN_DIGITS: usize = 16;

/// A PIN as typed: 12..16 digits. Checked before any hashing.
pub fn valid_pin(pin: &str) -> bool {
    (MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a new PIN is long enough and has no pattern a guesser tries
/// first: fewer than 5 distinct digits, a repeated block (123456123456),
/// a constant step (123456789012, 975319753197), or a run of 6 or more
/// digits each one up, one down or equal to the one before. The hub calls
/// this (through [`hash_pin`]) before it stores a PIN.
pub fn check_new_pin(pin: &str) -> Result<(), OperatorError> {
    if !valid_pin(pin) {
        return Err(OperatorError::BadPin);
    }
    let d: Vec<i8> = pin.bytes().map(|b| (b - b'0') as i8).collect();
    let mut distinct = d.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Err(OperatorError::WeakPin("fewer than 5 different digits"));
    }
    if (1..=d.len() / 2).any(|p| d.iter().zip(&d[p..]).all(|(a, b)| a == b)) {
        return Err(OperatorError::WeakPin("a repeated block"));
    }
    let steps: Vec<i8> = d.windows(2).map(|w| (w[1] - w[0]).rem_euclid(10)).collect();
    if steps.iter().all(|s| *s == steps[0]) {
        return Err(OperatorError::WeakPin("a constant step"));
    }
    let mut run = 1;
    for s in &steps {
        run = if matches!(s, 0 | 1 | 9) { run + 1 } else { 1 };
        if run >= 6 {
            return Err(OperatorError::WeakPin("a run of neighbouring digits"));
        }
    }
    Ok(())
}

/// Argon2id cost. [`PinParams::STRONG`] is what the hub uses unless told
/// otherwise (OWASP's minimum for Argon2id, m=19 MiB, t=2, p=1, about 50 ms
/// on a kiosk board); tests pass [`PinParams::FAST_FOR_TESTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinParams {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl PinParams {
    /// What the hub uses: m=19 MiB, t=2, p=1.
    pub const STRONG: PinParams = PinParams { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
    /// Far too weak for real PINs; only so tests run fast.
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

/// Hashes a new PIN with a 16-byte salt the caller drew from a CSPRNG.
/// A PIN that fails [`check_new_pin`] is refused: no weak hash is made.
pub fn hash_pin(pin: &str, salt: &[u8; 16], params: PinParams) -> Result<String, OperatorError> {
    check_new_pin(pin)?;
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
    /// The assistant's login.
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
    /// When the hub made the list.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// Every account assigned to the terminal, revoked ones flagged.
    pub operators: Vec<OperatorAccount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_PIN: &str = "480217593062";

    #[test]
    fn a_pin_verifies_only_as_typed() {
        let h = hash_pin(GOOD_PIN, &[7; 16], PinParams::FAST_FOR_TESTS).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert!(verify_pin(GOOD_PIN, &h).unwrap());
        assert!(!verify_pin("730518294617", &h).unwrap());
        assert!(!verify_pin(&GOOD_PIN[..11], &h).unwrap());
        // Another salt, another hash.
        assert_ne!(h, hash_pin(GOOD_PIN, &[8; 16], PinParams::FAST_FOR_TESTS).unwrap());
        assert_eq!(hash_pin("7305182946ab", &[7; 16], PinParams::FAST_FOR_TESTS), Err(OperatorError::BadPin));
    }

    /// Issue 12 item 8: six digits fell in minutes to a disk thief; the hub
    /// now refuses short PINs and ones with a pattern guessers try first.
    #[test]
    fn a_weak_operator_secret_is_refused() {
        for weak in ["246810", "12345678901", "111111111111", "123456123456", "121212121212", "123456789012", "975319753197", "000000123456", "098765432198", "112233445566"] {
            let r = hash_pin(weak, &[7; 16], PinParams::FAST_FOR_TESTS);
            assert!(matches!(r, Err(OperatorError::BadPin | OperatorError::WeakPin(_))), "{weak} accepted");
            if let Err(e) = r {
                assert!(!e.to_string().contains(weak), "the error names the PIN");
            }
        }
        for strong in [GOOD_PIN, "730518294617", "4071958236514702"] {
            assert!(check_new_pin(strong).is_ok(), "{strong} refused");
        }
        // A terminal does not even try a six-digit PIN against a hash.
        assert!(!valid_pin("246810"));
    }

    #[test]
    fn weaker_algorithms_and_junk_are_refused() {
        let h = hash_pin(GOOD_PIN, &[7; 16], PinParams::FAST_FOR_TESTS).unwrap();
        let argon2i = h.replacen("argon2id", "argon2i", 1);
        assert_eq!(verify_pin(GOOD_PIN, &argon2i), Err(OperatorError::BadHash));
        assert_eq!(verify_pin(GOOD_PIN, "plain"), Err(OperatorError::BadHash));
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
            pin_hash: hash_pin(GOOD_PIN, &[7; 16], PinParams::FAST_FOR_TESTS).unwrap(),
            villages: vec![],
            revoked: false,
            valid_until: None,
        };
        let d = format!("{a:?}");
        assert!(!d.contains("小兰") && !d.contains("argon2"), "{d}");
    }
}
