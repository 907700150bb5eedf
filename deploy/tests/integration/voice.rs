//! Voice packs end to end on the terminal side: a sample pack made by
//! deploy/voice/make_sample_pack.sh (espeak-ng's Chinese voice, signed by
//! `kioskctl voice pack`), refused when tampered with or older, installed
//! with `kioskctl voice install`, and `kioskctl voice missing` before and
//! after. Fails without espeak-ng. (The kiosk playing an installed pack:
//! kiosk's voicepack tests, on the same model::voicepack format.)

use std::path::Path;
use std::process::Command;

use model::auth::SigningKey;

use crate::common::kioskctl;

fn sample_pack(key_file: &Path, out: &Path, version: u32) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("voice/make_sample_pack.sh");
    let out = Command::new(script)
        .arg(key_file)
        .arg(out)
        .env("KIOSKCTL", env!("CARGO_BIN_EXE_kioskctl"))
        .env("VERSION", version.to_string())
        .output()
        .expect("run make_sample_pack.sh");
    assert!(out.status.success(), "make_sample_pack.sh: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_sample_pack_is_made_signed_installed_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed(&[41; 32]);
    let key_file = tmp.path().join("catalog.key");
    std::fs::write(&key_file, key.to_text().as_bytes()).unwrap();
    let data = tmp.path().join("data");
    let config = tmp.path().join("kiosk.toml");
    std::fs::write(&config, format!("data_dir = {:?}\ncatalog_public_key = \"{}\"\n", data.display().to_string(), key.public_key())).unwrap();
    let config = config.to_str().unwrap();
    let prompts = model::voicepack::spoken_prompts().len();
    assert!(prompts >= 20, "{prompts} spoken prompts");

    let (code, out, err) = kioskctl(&["voice", "missing", "--lang", "zh-CN", "--config", config]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with(&format!("no zh-CN voice pack installed: {prompts} of {prompts} prompts")), "{out}");

    let pack = tmp.path().join("zh.tar");
    sample_pack(&key_file, &pack, 2);

    // Another key's pack, and the same pack with one recording altered: refused.
    let other = tmp.path().join("other.key");
    std::fs::write(&other, SigningKey::from_seed(&[42; 32]).to_text().as_bytes()).unwrap();
    let foreign = tmp.path().join("foreign.tar");
    sample_pack(&other, &foreign, 2);
    let (code, _, err) = kioskctl(&["voice", "install", foreign.to_str().unwrap(), "--config", config]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("signature"), "{err}");
    let mut bytes = std::fs::read(&pack).unwrap();
    let at = bytes.windows(4).rposition(|w| w == b"data").expect("a WAV data chunk") + 64;
    bytes[at] ^= 0x55;
    let tampered = tmp.path().join("tampered.tar");
    std::fs::write(&tampered, &bytes).unwrap();
    let (code, _, err) = kioskctl(&["voice", "install", tampered.to_str().unwrap(), "--config", config]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not match the signed manifest"), "{err}");
    assert!(!data.join("voice/zh-CN").exists(), "nothing installed");

    let (code, out, err) = kioskctl(&["voice", "install", pack.to_str().unwrap(), "--config", config]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("installed the zh-CN voice pack v2 ({prompts} recorded prompts")), "{out}");
    assert!(data.join("voice/zh-CN/voicepack.json").exists());
    let (code, out, _) = kioskctl(&["voice", "missing", "--lang", "zh-CN", "--config", config]);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("0 of {prompts} prompts have no recording")), "{out}");
    // Tibetan: no pack, every prompt listed, for the people who will record them.
    let (code, out, _) = kioskctl(&["voice", "missing", "--lang", "bo", "--config", config]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), prompts + 1, "{out}");
    eprintln!("kioskctl voice missing --lang bo:\n{out}");

    // The same version again, or an older one: refused, the installed pack stays.
    let older = tmp.path().join("older.tar");
    sample_pack(&key_file, &older, 1);
    let (code, _, err) = kioskctl(&["voice", "install", older.to_str().unwrap(), "--config", config]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not newer"), "{err}");
}
