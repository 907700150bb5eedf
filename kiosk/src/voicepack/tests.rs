use std::collections::BTreeMap;

use model::auth::SigningKey;
use model::voicepack::{Recording as Rec, SignedVoicePack, VoicePack};

use super::*;
use crate::voice::Recording;

const HOME: &str = "您好！要办事，请点「我要办事」。查进度、打印结果和评价，也在这一页。";
const WAIT: &str = "正在查询，请稍等。";

fn key() -> SigningKey {
    SigningKey::from_seed(&[21; 32])
}

/// Writes a signed pack for `lang` with a recording of HOME into `root/<dir>`.
fn install(root: &Path, dir: &str, lang: Lang, key: &SigningKey) -> PathBuf {
    let d = root.join(dir);
    std::fs::create_dir_all(&d).unwrap();
    let audio = b"RIFF....WAVEfake audio".to_vec();
    std::fs::write(d.join("p000.wav"), &audio).unwrap();
    let mut prompts = BTreeMap::new();
    prompts.insert(
        HOME.to_owned(),
        Rec { file: "p000.wav".into(), bytes: audio.len() as u64, sha256: model::submission::sha256_hex(&audio) },
    );
    let signed = SignedVoicePack::sign(key, &VoicePack { lang, version: 1, speaker: "test".into(), prompts }).unwrap();
    std::fs::write(d.join(SIGNED_MANIFEST), serde_json::to_vec(&signed).unwrap()).unwrap();
    d
}

fn ids(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

#[test]
fn recording_then_engine_then_nothing_never_another_language() {
    let root = tempfile::tempdir().unwrap();
    let dir = install(root.path(), "zh-CN", Lang::ZhCn, &key());
    let (packs, problems) = load_installed(root.path(), &key().public_key());
    assert!(problems.is_empty(), "{problems:?}");
    let engine = [Lang::ZhCn, Lang::Kk, Lang::En];
    assert_eq!(plan(&packs, &engine, Lang::ZhCn, &ids(&[HOME])), Plan::Recordings(vec![dir.join("p000.wav")]));
    // Not recorded, or only part of it recorded: the engine says all of it.
    assert_eq!(plan(&packs, &engine, Lang::ZhCn, &ids(&[WAIT])), Plan::Engine);
    assert_eq!(plan(&packs, &engine, Lang::ZhCn, &ids(&[HOME, WAIT])), Plan::Engine);
    assert_eq!(plan(&packs, &engine, Lang::ZhCn, &[]), Plan::Engine);
    // The Chinese recording of HOME is never played for Kazakh or Tibetan.
    assert_eq!(plan(&packs, &engine, Lang::Kk, &ids(&[HOME])), Plan::Engine);
    assert_eq!(plan(&packs, &engine, Lang::Bo, &ids(&[HOME])), Plan::Nothing);
}

#[test]
fn a_pack_that_is_moved_altered_or_foreign_is_refused() {
    let root = tempfile::tempdir().unwrap();
    // Signed for Chinese, copied into the Tibetan place.
    install(root.path(), "bo", Lang::ZhCn, &key());
    // Signed by someone else.
    install(root.path(), "kk", Lang::Kk, &SigningKey::from_seed(&[9; 32]));
    // An audio file changed after signing.
    let en = install(root.path(), "en", Lang::En, &key());
    std::fs::write(en.join("p000.wav"), b"RIFF....WAVEother audio!").unwrap();
    // A staging copy of kioskctl is not a pack.
    install(root.path(), ".zh-CN.new", Lang::ZhCn, &key());
    let (packs, problems) = load_installed(root.path(), &key().public_key());
    assert!(packs.is_empty());
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("signed for zh-CN but installed as bo")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("does not match the signed manifest")), "{problems:?}");
}

#[test]
fn the_speaker_plays_recordings_and_falls_back_to_the_engine() {
    let root = tempfile::tempdir().unwrap();
    let dir = install(root.path(), "zh-CN", Lang::ZhCn, &key());
    let (packs, _) = load_installed(root.path(), &key().public_key());
    // A stand-in for aplay that notes its arguments.
    let log = root.path().join("played.txt");
    let player = root.path().join("player.sh");
    std::fs::write(&player, format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&player, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let engine = Arc::new(Recording::new(vec![Lang::ZhCn]));
    let speaker = PackSpeaker::new(packs, Some(engine.clone()), &player);
    assert_eq!(speaker.languages(), [Lang::ZhCn]);
    assert_eq!(speaker.recorded()[&Lang::ZhCn].iter().collect::<Vec<_>>(), [HOME]);

    speaker.speak_prompt(Lang::ZhCn, HOME, &ids(&[HOME]));
    let mut played = String::new();
    for _ in 0..250 {
        played = std::fs::read_to_string(&log).unwrap_or_default();
        if played.ends_with('\n') {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(played.trim(), format!("-q {}", dir.join("p000.wav").display()));
    assert!(engine.said().is_empty(), "the engine did not read a recorded prompt");
    speaker.speak_prompt(Lang::ZhCn, WAIT, &ids(&[WAIT]));
    speaker.speak_prompt(Lang::Bo, HOME, &ids(&[HOME]));
    assert_eq!(engine.said(), [(Lang::ZhCn, WAIT.to_owned())], "nothing in Tibetan, not even Chinese");
}
