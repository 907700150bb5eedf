//! Reading prompts aloud. The session decides what to say and when
//! (`Effect::Speak`); a [`Speaker`] says it. On a terminal that is espeak-ng
//! as a subprocess (DESIGN §7); tests use [`Recording`].
//!
//! Voices, checked on Debian 12 (espeak-ng 1.51):
//! - Chinese: `cmn-latn-pinyin`. Plain `cmn` reads any Latin text (pinyin,
//!   case numbers with letters) as English.
//! - English: `en-us`.
//! - Tibetan: espeak-ng has no Tibetan voice.
//! - Kazakh: espeak-ng's `kk` reads Cyrillic only; given Arabic script it
//!   says nothing. So Kazakh, as written on this kiosk, has no voice either.
//!
//! The settings bar says "no voice for this language" for those two.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use model::Lang;
use tracing::warn;

/// Something that can read a sentence aloud.
pub trait Speaker: Send + Sync + 'static {
    /// The languages it can read.
    fn languages(&self) -> Vec<Lang>;
    /// Starts reading `text`, cutting off whatever is being read. Never blocks.
    fn speak(&self, lang: Lang, text: &str);
}

/// No voice at all (no espeak-ng installed, or headless runs).
pub struct Silent;

impl Speaker for Silent {
    fn languages(&self) -> Vec<Lang> {
        Vec::new()
    }
    fn speak(&self, _lang: Lang, _text: &str) {}
}

/// Remembers what it was asked to say, for tests.
#[derive(Default)]
pub struct Recording {
    languages: Vec<Lang>,
    said: Mutex<Vec<(Lang, String)>>,
}

impl Recording {
    pub fn new(languages: Vec<Lang>) -> Recording {
        Recording { languages, said: Mutex::new(Vec::new()) }
    }

    /// Everything said so far, oldest first.
    pub fn said(&self) -> Vec<(Lang, String)> {
        self.said.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Speaker for Recording {
    fn languages(&self) -> Vec<Lang> {
        self.languages.clone()
    }
    fn speak(&self, lang: Lang, text: &str) {
        self.said.lock().unwrap_or_else(|e| e.into_inner()).push((lang, text.to_owned()));
    }
}

/// espeak-ng as a subprocess, one at a time.
pub struct Espeak {
    program: PathBuf,
    voices: Vec<(Lang, &'static str)>,
    current: Mutex<Option<Child>>,
}

/// The espeak-ng voice for each language that has one (see the module doc).
pub fn voice_for(lang: Lang) -> Option<&'static str> {
    match lang {
        Lang::ZhCn => Some("cmn-latn-pinyin"),
        Lang::En => Some("en-us"),
        Lang::Bo | Lang::Kk => None,
    }
}

impl Espeak {
    /// espeak-ng from `PATH`, with the voices it actually has. `None` when
    /// it is not installed.
    pub fn detect() -> Option<Espeak> {
        Espeak::with_program("espeak-ng")
    }

    pub fn with_program(program: impl Into<PathBuf>) -> Option<Espeak> {
        let program = program.into();
        let listed = Command::new(&program).arg("--voices").stderr(Stdio::null()).output().ok()?;
        if !listed.status.success() {
            return None;
        }
        let listed = String::from_utf8_lossy(&listed.stdout);
        let has = |voice: &str| listed.lines().any(|l| l.split_whitespace().nth(1) == Some(voice));
        let voices = Lang::ALL.into_iter().filter_map(|l| voice_for(l).filter(|v| has(v)).map(|v| (l, v))).collect();
        Some(Espeak { program, voices, current: Mutex::new(None) })
    }

    fn command(&self, voice: &str, text: &str, options: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        // A little slower than the default 175 words a minute: the listeners are old.
        cmd.args(["-v", voice, "-s", "140"]).args(options).arg("--").arg(text);
        cmd
    }

    /// The sentence as WAV bytes instead of sound (for checks and tests).
    pub fn synthesize(&self, lang: Lang, text: &str) -> Option<Vec<u8>> {
        let voice = self.voices.iter().find(|(l, _)| *l == lang)?.1;
        let out = self.command(voice, text, &["--stdout"]).stderr(Stdio::null()).output().ok()?;
        out.status.success().then_some(out.stdout)
    }
}

impl Speaker for Espeak {
    fn languages(&self) -> Vec<Lang> {
        self.voices.iter().map(|(l, _)| *l).collect()
    }

    fn speak(&self, lang: Lang, text: &str) {
        let Some(voice) = self.voices.iter().find(|(l, _)| *l == lang).map(|(_, v)| *v) else { return };
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut old) = current.take() {
            // Cut off the previous prompt: the screen has moved on.
            let _ = old.kill();
            let _ = old.wait();
        }
        match self.command(voice, text, &[]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
            Ok(child) => *current = Some(child),
            // The text is never logged: it may name the villager's business.
            Err(e) => warn!(error = %e, "cannot start espeak-ng"),
        }
    }
}

impl Drop for Espeak {
    fn drop(&mut self) {
        if let Some(mut child) = self.current.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_speaker_keeps_what_it_was_asked() {
        let r = Recording::new(vec![Lang::ZhCn]);
        r.speak(Lang::ZhCn, "您好");
        assert_eq!(r.said(), [(Lang::ZhCn, "您好".to_owned())]);
        assert_eq!(r.languages(), [Lang::ZhCn]);
    }

    #[test]
    fn tibetan_and_arabic_script_kazakh_have_no_voice() {
        assert_eq!(voice_for(Lang::Bo), None);
        assert_eq!(voice_for(Lang::Kk), None);
        assert_eq!(voice_for(Lang::ZhCn), Some("cmn-latn-pinyin"));
    }

    /// With espeak-ng installed (./dev installs it), Chinese and English are
    /// found and Chinese actually produces sound.
    #[test]
    fn espeak_reads_chinese_with_the_pinyin_voice() {
        let Some(espeak) = Espeak::detect() else {
            eprintln!("SKIPPED: espeak-ng is not installed");
            return;
        };
        assert_eq!(espeak.languages(), [Lang::ZhCn, Lang::En]);
        let wav = espeak.synthesize(Lang::ZhCn, "请把身份证放在读卡器上").expect("speech");
        assert!(wav.starts_with(b"RIFF") && wav.len() > 20_000, "{} bytes", wav.len());
        assert!(espeak.synthesize(Lang::Bo, "བོད་ཡིག").is_none());
    }
}
