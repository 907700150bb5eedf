//! Recorded voice packs: human (or any) recordings of the kiosk's spoken
//! prompts for one language, keyed by message id (the Chinese source text,
//! as in the `.po` files), for languages no speech engine reads well
//! (Tibetan) or where the province prefers human voices.
//!
//! A pack is signed like the catalog, with the catalog key (the province's
//! content key, `catalog_public_key` on the terminal): the signature covers
//! the pack's language and version and the SHA-256 of its manifest, and the
//! manifest names every audio file with its size and SHA-256. So a pack can
//! neither be altered nor be installed as another language's: a prompt is
//! never played in the wrong language.
//!
//! File layout of a pack (a tar, see `kioskctl voice`): `voicepack.json`
//! (a [`SignedVoicePack`]) and the audio files the manifest names.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::auth::{AuthError, PublicKey, SigningKey};
use crate::submission::sha256_hex;
use crate::Lang;

/// The name of the signed manifest inside a pack.
pub const SIGNED_MANIFEST: &str = "voicepack.json";

/// Why a pack is refused. Never carries audio.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VoicePackError {
    #[error("the voice pack's signature does not verify with the catalog key: {0}")]
    Signature(AuthError),
    #[error("the voice pack is malformed: {0}")]
    Malformed(String),
    #[error("the voice pack's signed language or version ({signed}) differs from its manifest's ({body})")]
    Mismatch { signed: String, body: String },
}

/// One recorded prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// File name inside the pack: `[a-z0-9_-]+.wav`, no directories.
    pub file: String,
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
}

/// What a pack holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoicePack {
    pub lang: Lang,
    /// Higher replaces lower for the same language.
    pub version: u64,
    /// Who or what speaks, for the technician (e.g. "espeak-ng cmn-latn-pinyin (sample)").
    pub speaker: String,
    /// Message id → recording.
    pub prompts: BTreeMap<String, Recording>,
}

/// Whether `name` is an acceptable audio file name (no paths, no surprises).
pub fn valid_file_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".wav") else { return false };
    !stem.is_empty() && stem.len() <= 64 && stem.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl VoicePack {
    /// Checks what the signature cannot: names and hashes are well-formed.
    pub fn check(&self) -> Result<(), VoicePackError> {
        for (id, r) in &self.prompts {
            if id.is_empty() || !valid_file_name(&r.file) || r.sha256.len() != 64 || !r.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(VoicePackError::Malformed(format!("recording {:?} for {id:?}", r.file)));
            }
        }
        Ok(())
    }
}

/// A pack's manifest with the catalog key's Ed25519 signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedVoicePack {
    pub lang: Lang,
    pub version: u64,
    /// Base64 of the [`VoicePack`] JSON.
    pub body: String,
    /// Base64 Ed25519 signature over [`SignedVoicePack::message`].
    pub signature: String,
    pub key_fingerprint: String,
}

impl SignedVoicePack {
    fn message(lang: Lang, version: u64, body: &[u8]) -> Vec<u8> {
        format!("cunban-voicepack-v1\n{}\n{version}\n{}", lang.code(), sha256_hex(body)).into_bytes()
    }

    pub fn sign(key: &SigningKey, pack: &VoicePack) -> Result<SignedVoicePack, VoicePackError> {
        pack.check()?;
        let body = serde_json::to_vec(pack).map_err(|e| VoicePackError::Malformed(e.to_string()))?;
        Ok(SignedVoicePack {
            lang: pack.lang,
            version: pack.version,
            signature: B64.encode(key.sign(&Self::message(pack.lang, pack.version, &body))),
            body: B64.encode(body),
            key_fingerprint: key.public_key().fingerprint(),
        })
    }

    /// The pack, if signed by `key` and consistent.
    pub fn verify(&self, key: &PublicKey) -> Result<VoicePack, VoicePackError> {
        let body = B64.decode(&self.body).map_err(|_| VoicePackError::Malformed("body is not base64".into()))?;
        key.verify_b64(&Self::message(self.lang, self.version, &body), &self.signature).map_err(VoicePackError::Signature)?;
        let pack: VoicePack = serde_json::from_slice(&body).map_err(|e| VoicePackError::Malformed(e.to_string()))?;
        if pack.lang != self.lang || pack.version != self.version {
            return Err(VoicePackError::Mismatch {
                signed: format!("{} v{}", self.lang.code(), self.version),
                body: format!("{} v{}", pack.lang.code(), pack.version),
            });
        }
        pack.check()?;
        Ok(pack)
    }

    pub fn from_json(text: &[u8]) -> Result<SignedVoicePack, VoicePackError> {
        serde_json::from_slice(text).map_err(|e| VoicePackError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(lang: Lang) -> VoicePack {
        let mut prompts = BTreeMap::new();
        prompts.insert("正在查询，请稍等。".to_owned(), Recording { file: "p001.wav".into(), bytes: 10, sha256: "ab".repeat(32) });
        VoicePack { lang, version: 3, speaker: "test".into(), prompts }
    }

    #[test]
    fn a_pack_verifies_only_untouched_under_its_key_and_for_its_language() {
        let key = SigningKey::from_seed(&[7; 32]);
        let signed = SignedVoicePack::sign(&key, &pack(Lang::Bo)).unwrap();
        assert_eq!(signed.verify(&key.public_key()).unwrap(), pack(Lang::Bo));
        let other = SigningKey::from_seed(&[8; 32]).public_key();
        assert!(matches!(signed.verify(&other), Err(VoicePackError::Signature(_))));
        // Relabelled as Kazakh: the signature covers the language.
        let mut relabelled = signed.clone();
        relabelled.lang = Lang::Kk;
        assert!(matches!(relabelled.verify(&key.public_key()), Err(VoicePackError::Signature(_))));
        // A body for another language under a correct signature for it is
        // impossible to make without the key; a mismatched body is refused.
        let mut swapped = SignedVoicePack::sign(&key, &pack(Lang::ZhCn)).unwrap();
        swapped.body = signed.body.clone();
        assert!(swapped.verify(&key.public_key()).is_err());
    }

    #[test]
    fn file_names_are_plain() {
        assert!(valid_file_name("p001.wav"));
        for bad in ["../x.wav", "a/b.wav", ".wav", "x.mp3", "X.wav", ""] {
            assert!(!valid_file_name(bad), "{bad}");
        }
        let mut p = pack(Lang::Bo);
        p.prompts.values_mut().for_each(|r| r.file = "../../etc/passwd.wav".into());
        assert!(SignedVoicePack::sign(&SigningKey::from_seed(&[7; 32]), &p).is_err());
    }
}
