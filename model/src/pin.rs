//! The technician PIN that opens the kiosk's diagnostics. Stored in
//! kiosk.toml only as `sha256i:<iterations>:<salt hex>:<hash hex>`: salted and
//! iterated, so the file does not give the PIN away at a glance. A short
//! PIN cannot resist a patient offline search; what protects it is the
//! file's permissions and the kiosk's lockout after failed tries.

use sha2::{Digest, Sha256};

/// Rounds of SHA-256: tens of milliseconds per check.
pub const ITERATIONS: u32 = 100_000;

/// A PIN is 4..12 digits.
pub fn valid_pin(pin: &str) -> bool {
    (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

fn derive(pin: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut h: [u8; 32] = Sha256::new().chain_update(salt).chain_update(pin.as_bytes()).finalize().into();
    for _ in 1..iterations {
        h = Sha256::new().chain_update(salt).chain_update(h).finalize().into();
    }
    h
}

/// The stored form of `pin` with `salt` (the caller brings 16 random bytes).
pub fn hash_pin(pin: &str, salt: [u8; 16]) -> String {
    format!("sha256i:{ITERATIONS}:{}:{}", hex::encode(salt), hex::encode(derive(pin, &salt, ITERATIONS)))
}

/// Whether `stored` is a PIN hash this code can check.
pub fn valid_hash(stored: &str) -> bool {
    parse(stored).is_some()
}

fn parse(stored: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    let mut parts = stored.split(':');
    if parts.next()? != "sha256i" {
        return None;
    }
    let iterations: u32 = parts.next()?.parse().ok().filter(|n| (1..=10_000_000).contains(n))?;
    let salt = hex::decode(parts.next()?).ok()?;
    let hash = hex::decode(parts.next()?).ok().filter(|h| h.len() == 32)?;
    parts.next().is_none().then_some((iterations, salt, hash))
}

/// Checks `pin` against `stored`, in time independent of where they differ.
pub fn verify_pin(stored: &str, pin: &str) -> bool {
    let Some((iterations, salt, hash)) = parse(stored) else { return false };
    let got = derive(pin, &salt, iterations);
    got.iter().zip(&hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_verifies_only_itself() {
        let stored = hash_pin("246810", [3; 16]);
        assert!(valid_hash(&stored));
        assert!(verify_pin(&stored, "246810"));
        assert!(!verify_pin(&stored, "246811"));
        assert!(!stored.contains("246810"));
        assert!(!verify_pin("sha256i:1:zz:00", "246810"));
        assert!(valid_pin("1234") && !valid_pin("123") && !valid_pin("12a4"));
    }
}
