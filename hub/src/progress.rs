//! Progress at any terminal (issue 16): what a lookup brings and how the
//! applicant's ID number is compared without being kept.
//!
//! The hub keeps, per filing, `HMAC-SHA256(secret, number)` under a secret of
//! its own (`hub_secrets.applicant_tag`), taken from the filing it opened
//! with the platform key. A terminal asking about a receipt sends the number
//! it read from the card; the hub computes the same tag and answers only on
//! a match. Misses are counted per terminal and day and refused past a cap,
//! so neither a receipt nor a terminal walking numbers learns anything. The
//! argument is in SECURITY.md ("A rogue enrolled terminal").

use model::{CaseNumber, IdNumber, SubmissionId};
use sha2::{Digest, Sha256};

/// Misses (no case for the receipt with that number) a terminal may make in
/// a day before the hub refuses its lookups until the next. A kiosk's
/// villagers mistype a receipt now and then; forty a day is a busy market
/// day of typos, and against a 17-digit space of numbers it is nothing.
pub const DEFAULT_PROGRESS_MISSES_PER_DAY: u64 = 40;

/// What the receipt names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// A 办件编号.
    Case(CaseNumber),
    /// A submission id (the receipt of a filing that waited for the network).
    Submission(SubmissionId),
}

impl Receipt {
    /// A receipt code as the terminal read it, or None.
    pub fn parse(code: &str) -> Option<Receipt> {
        let code = code.trim();
        if let Some(id) = SubmissionId::parse(code) {
            return Some(Receipt::Submission(id));
        }
        CaseNumber::parse(code).ok().map(Receipt::Case)
    }

    /// For logs and the audit: the first six characters (the date part of
    /// a case number, a UUIDv7's time), enough to tell a pattern of misses.
    pub fn masked(&self) -> String {
        let text = match self {
            Receipt::Case(c) => c.as_str().to_owned(),
            Receipt::Submission(id) => id.to_string(),
        };
        format!("{}…", text.chars().take(6).collect::<String>())
    }
}

/// One progress lookup, as the store checks it.
#[derive(Debug)]
pub struct ProgressLookup<'a> {
    /// The asking terminal.
    pub terminal: &'a str,
    pub receipt: &'a Receipt,
    /// The number read from the card at the asking terminal.
    pub id_number: &'a IdNumber,
    /// Misses allowed to this terminal today.
    pub max_misses_per_day: u64,
}

/// HMAC-SHA256 (RFC 2104) of the ID number under `secret`, hex. A plain
/// hash would let anyone with the table try the few tens of millions of
/// plausible numbers; without the secret they cannot.
pub fn applicant_tag(secret: &[u8], id_number: &IdNumber) -> String {
    hex::encode(hmac_sha256(secret, &[b"cunban-progress-applicant\n", id_number.expose().as_bytes()]))
}

fn hmac_sha256(secret: &[u8], message: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut key = [0u8; BLOCK];
    if secret.len() > BLOCK {
        key[..32].copy_from_slice(&Sha256::digest(secret));
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let mut inner = Sha256::new();
    inner.update(key.map(|b| b ^ 0x36));
    for part in message {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(key.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_and_the_tag_depends_on_the_secret() {
        // RFC 4231, test cases 2 and 6 (a key longer than the block).
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(&[0xaa; 131], &[b"Test Using Larger Than Block-Size Key - Hash Key First"])),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let n = model::fixtures::id_number(model::fixtures::SAMPLE_ID_FIRST17);
        let a = applicant_tag(&[1; 32], &n);
        assert_eq!(a, applicant_tag(&[1; 32], &n));
        assert_ne!(a, applicant_tag(&[2; 32], &n));
        assert!(!a.contains(n.expose()));
    }
}
