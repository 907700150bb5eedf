//! Enrollment: how a new terminal becomes one the hub trusts (DESIGN §8).
//!
//! The terminal makes its device key, picks a one-time code and shows a QR
//! (serial, key fingerprint, code). It presents serial, public key and code
//! to `POST /v1/enroll` (the one terminal route without device
//! authentication; rate limited), signed with the new key so the hub knows
//! the presenter holds it. A technician binds the code on the hub to a
//! village and a profile; the terminal's next presentation (it polls)
//! receives its [`Enrollment`]. A code is single-use and expires
//! [`ENROLL_CODE_TTL_SECS`] after it was first presented.

use serde::{Deserialize, Serialize};

use crate::auth::{AuthError, PublicKey, SigningKey};
use crate::protocol::TerminalConfig;
use crate::submission::{sha256_hex, Channel};

/// A code is good for this long after the terminal first presents it.
pub const ENROLL_CODE_TTL_SECS: i64 = 30 * 60;

/// Characters of a one-time code: Crockford's base32 (no I, L, O, U), so a
/// technician reading it off a screen cannot confuse 0/O or 1/I/L.
pub const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 8 characters, 40 bits: guessing is hopeless within the code's life at
/// the enrollment route's rate limit.
pub const CODE_LEN: usize = 8;

/// A one-time code from 5 random bytes (the caller brings the entropy).
pub fn code_from_bytes(bytes: [u8; 5]) -> String {
    let mut n = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut out = [0u8; CODE_LEN];
    for slot in out.iter_mut().rev() {
        *slot = CODE_ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical form of a code as typed: case, dashes and spaces ignored,
/// O read as 0 and I/L as 1. `None` if it cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in typed.chars().filter(|c| !matches!(c, '-' | ' ')) {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CODE_ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// `ABCD-EFGH`: how a code is shown.
pub fn display_code(code: &str) -> String {
    if code.len() == CODE_LEN {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

/// What the hub stores instead of a code (a leaked table yields no live code
/// to present; codes live 30 minutes and are single-use besides).
pub fn code_hash(normalized: &str) -> String {
    sha256_hex(format!("cunban-enroll-code:v1:{normalized}").as_bytes())
}

/// A hardware serial: 1..64 of letters, digits, `-`, `_`, `.`.
pub fn valid_serial(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The text a QR code on the enrollment screen carries.
pub fn qr_payload(serial: &str, key: &PublicKey, code: &str) -> String {
    format!("CUNBAN-ENROLL:1:{serial}:{}:{}", key.fingerprint(), display_code(code))
}

/// Kiosk (self-service in a village) or service van (assisted filing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// A fixed self-service kiosk in a village.
    Kiosk,
    /// A service van's terminal, used by staff on visits.
    Van,
}

impl Profile {
    /// The profile's name in configuration and on the hub.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Kiosk => "kiosk",
            Profile::Van => "van",
        }
    }

    /// The inverse of [`Profile::as_str`]; `None` for an unknown name.
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "kiosk" => Some(Profile::Kiosk),
            "van" => Some(Profile::Van),
            _ => None,
        }
    }

    /// The 申请渠道 filings from such a terminal carry.
    pub fn channel(self) -> Channel {
        match self {
            Profile::Kiosk => Channel::SelfServiceTerminal,
            Profile::Van => Channel::ServiceVan,
        }
    }
}

/// `POST /v1/enroll` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The terminal's hardware serial, as shown in its QR.
    pub serial: String,
    /// The device key the terminal made; the hub registers it.
    pub public_key: PublicKey,
    /// The one-time code, normalized (see [`normalize_code`]).
    pub code: String,
    /// Unix seconds; the hub allows the usual clock skew.
    pub timestamp: i64,
    /// Base64 Ed25519 signature by `public_key` over [`EnrollRequest::message`].
    pub signature: String,
}

impl EnrollRequest {
    fn message(serial: &str, key: &PublicKey, code: &str, timestamp: i64) -> Vec<u8> {
        format!("cunban-enroll:v1\n{serial}\n{key}\n{}\n{timestamp}", code_hash(code)).into_bytes()
    }

    /// A request signed by `key`.
    pub fn sign(key: &SigningKey, serial: &str, code: &str, timestamp: i64) -> EnrollRequest {
        use base64::Engine as _;
        let public_key = key.public_key();
        let sig = key.sign(&Self::message(serial, &public_key, code, timestamp));
        EnrollRequest {
            serial: serial.to_owned(),
            public_key,
            code: code.to_owned(),
            timestamp,
            signature: base64::engine::general_purpose::STANDARD.encode(sig),
        }
    }

    /// Checks the presenter holds the key it presents.
    pub fn verify(&self) -> Result<(), AuthError> {
        self.public_key.verify_b64(&Self::message(&self.serial, &self.public_key, &self.code, self.timestamp), &self.signature)
    }
}

/// What a terminal receives once bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    /// The id the hub gave the terminal.
    pub terminal_id: String,
    /// 12-digit 行政区划 code of the village it serves.
    pub village_code: String,
    /// Kiosk or van.
    pub profile: Profile,
    /// The terminal's first configuration.
    pub config: TerminalConfig,
    /// The platform's sealing key (`suite:base64`), when the hub knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_public_key: Option<String>,
    /// The key catalogs are signed with, when the hub publishes catalogs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_public_key: Option<String>,
    /// The hub's own key (`ed25519:BASE64`): operator lists and terminal
    /// configs it sends are signed with it ([`crate::document`]). The
    /// terminal pins it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_public_key: Option<String>,
}

/// `POST /v1/enroll` answer (200): still waiting for the technician, or done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EnrollAnswer {
    /// The technician has not bound the code yet; poll again.
    Pending {
        /// Unix seconds after which the code is dead.
        expires_at: i64,
    },
    /// Bound: the terminal's identity and configuration.
    Enrolled(Enrollment),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_what_a_technician_types() {
        let code = code_from_bytes([0xde, 0xad, 0xbe, 0xef, 0x01]);
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(normalize_code(&display_code(&code).to_lowercase()), Some(code.clone()));
        assert_eq!(normalize_code("0O1I-L2 3"), None, "seven characters");
        assert_eq!(normalize_code("oo11-l234"), Some("00111234".into()));
        assert_eq!(normalize_code("ABCD-EFGU"), None, "U is not in the alphabet");
        assert_ne!(code_hash("00111234"), code_hash("00111235"));
    }

    #[test]
    fn a_request_verifies_only_with_its_own_key_and_fields() {
        let key = SigningKey::from_seed(&[7; 32]);
        let req = EnrollRequest::sign(&key, "SN-1", "ABCDEFGH", 1_700_000_000);
        req.verify().unwrap();
        let mut other = req.clone();
        other.code = "ABCDEFGJ".into();
        assert!(other.verify().is_err());
        let mut swapped = req.clone();
        swapped.public_key = SigningKey::from_seed(&[8; 32]).public_key();
        assert!(swapped.verify().is_err());
        let json = serde_json::to_string(&EnrollAnswer::Pending { expires_at: 5 }).unwrap();
        assert_eq!(json, r#"{"status":"pending","expires_at":5}"#);
    }
}
