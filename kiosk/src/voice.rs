//! Reading prompts aloud. The session decides what to say and when
//! (`Effect::Speak`); a [`Speaker`] says it. On a terminal that is espeak-ng
//! as a subprocess (DESIGN §7); tests use [`Recording`].
//!
//! Voices, checked on Debian 12 (espeak-ng 1.51):
//! - Chinese: `cmn-latn-pinyin`. Plain `cmn` reads any Latin text (pinyin,
//!   case numbers with letters) as English.
//! - English: `en-us`.
//! - Tibetan: espeak-ng has no Tibetan voice.
//! - Kazakh: espeak-ng's `kk` reads Cyrillic only (given Arabic script it
//!   says nothing), so the kiosk's Arabic-script Kazakh is converted first
//!   ([`model::kazakh::arabic_to_cyrillic`]).
//!
//! The settings bar says "no voice for this language" for Tibetan.

use std::collections::{BTreeMap, BTreeSet};
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
    /// Stops whatever is being said.
    fn stop(&self) {}
    /// Message ids with a recording, per language (voice packs).
    fn recorded(&self) -> BTreeMap<Lang, BTreeSet<String>> {
        BTreeMap::new()
    }
    /// Says a prompt made of the messages `ids` (empty: not only messages);
    /// a speaker with recordings plays them, others read `text`.
    fn speak_prompt(&self, lang: Lang, text: &str, _ids: &[String]) {
        self.speak(lang, text)
    }
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
    /// A speaker that claims `languages` and records what it is asked to say.
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

/// The text as the engine's voice for `lang` reads it: Kazakh in Cyrillic;
/// Chinese characters (a name, a catalog text without a translation) left
/// out of other languages' voices, which would say "Chinese letter" for
/// each, in English: a pause instead, the screen shows them.
pub fn spoken_text(lang: Lang, text: &str) -> std::borrow::Cow<'_, str> {
    let is_cjk = |c: char| ('\u{3400}'..='\u{9fff}').contains(&c);
    let text: std::borrow::Cow<'_, str> = if lang != Lang::ZhCn && text.chars().any(is_cjk) {
        let mut out = String::with_capacity(text.len());
        let mut in_run = false;
        for c in text.chars() {
            if is_cjk(c) {
                if !in_run {
                    out.push_str(" … ");
                }
                in_run = true;
            } else {
                out.push(c);
                in_run = false;
            }
        }
        out.into()
    } else {
        text.into()
    };
    match lang {
        Lang::Kk => model::kazakh::arabic_to_cyrillic(&text).into(),
        _ => text,
    }
}

/// The espeak-ng voice for each language that has one (see the module doc).
pub fn voice_for(lang: Lang) -> Option<&'static str> {
    match lang {
        Lang::ZhCn => Some("cmn-latn-pinyin"),
        Lang::En => Some("en-us"),
        Lang::Kk => Some("kk"),
        Lang::Bo => None,
    }
}

impl Espeak {
    /// espeak-ng from `PATH`, with the voices it actually has. `None` when
    /// it is not installed.
    pub fn detect() -> Option<Espeak> {
        Espeak::with_program("espeak-ng")
    }

    /// espeak-ng at `program`, with the voices it actually has; None when it cannot be run.
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

    fn command(&self, lang: Lang, voice: &str, text: &str, options: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        let text = spoken_text(lang, text);
        // A little slower than the default 175 words a minute: the listeners are old.
        cmd.args(["-v", voice, "-s", "140"]).args(options).arg("--").arg(text.as_ref());
        cmd
    }

    /// The sentence as WAV bytes instead of sound (for checks and tests).
    pub fn synthesize(&self, lang: Lang, text: &str) -> Option<Vec<u8>> {
        let voice = self.voices.iter().find(|(l, _)| *l == lang)?.1;
        let out = self.command(lang, voice, text, &["--stdout"]).stderr(Stdio::null()).output().ok()?;
        out.status.success().then_some(out.stdout)
    }
}

impl Speaker for Espeak {
    fn languages(&self) -> Vec<Lang> {
        self.voices.iter().map(|(l, _)| *l).collect()
    }

    fn stop(&self) {
        if let Some(mut old) = self.current.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = old.kill();
            let _ = old.wait();
        }
    }

    fn speak(&self, lang: Lang, text: &str) {
        let Some(voice) = self.voices.iter().find(|(l, _)| *l == lang).map(|(_, v)| *v) else { return };
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut old) = current.take() {
            // Cut off the previous prompt: the screen has moved on.
            let _ = old.kill();
            let _ = old.wait();
        }
        match self.command(lang, voice, text, &[]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
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
    fn tibetan_has_no_voice_and_kazakh_is_read_in_cyrillic() {
        assert_eq!(voice_for(Lang::Bo), None);
        assert_eq!(voice_for(Lang::Kk), Some("kk"));
        assert_eq!(spoken_text(Lang::Kk, "باستى بەت"), "басты бет");
        assert_eq!(spoken_text(Lang::ZhCn, "回首页"), "回首页");
        // Chinese inside another language is not spelled out as "Chinese letter".
        assert_eq!(spoken_text(Lang::En, "Name: 张桂兰."), "Name:  … .");
        assert_eq!(spoken_text(Lang::Kk, "اتى-ٴجونى: 张桂兰"), "аты-жөні:  … ");
        assert_eq!(voice_for(Lang::ZhCn), Some("cmn-latn-pinyin"));
    }

    /// Chinese, English and Kazakh (via Cyrillic) are found, each says one
    /// prompt, and sox measures the recording: long enough, mostly sound, and
    /// not the letter-by-letter spelling espeak-ng gives text it cannot read
    /// (Arabic-script Kazakh unconverted: ~1 s per letter). The WAVs stay in
    /// `<target>/voice-samples/` for ears. Fails without espeak-ng or sox
    /// (Debian packages, installed by ./dev).
    #[test]
    fn each_voice_says_a_prompt_measured_by_sox() {
        let espeak = Espeak::detect().expect("espeak-ng is not installed (Debian package espeak-ng)");
        assert_eq!(espeak.languages(), [Lang::ZhCn, Lang::Kk, Lang::En]);
        assert!(espeak.synthesize(Lang::Bo, "བོད་ཡིག").is_none(), "no engine voice for Tibetan");
        let dir = samples_dir();
        let prompts = [
            (Lang::ZhCn, "请把身份证放在读卡器上"),
            (Lang::En, "Please place your ID card on the reader"),
            (Lang::Kk, "باستى بەت"),
            (Lang::Kk, "سالەمەتسىز بە، ٴوتىنىش بەرۋ ٴۇشىن ٴبىر رەت باسىڭىز"),
        ];
        for (n, (lang, text)) in prompts.into_iter().enumerate() {
            let wav = espeak.synthesize(lang, text).expect("speech");
            let path = dir.join(format!("{n}-{}.wav", lang.code()));
            std::fs::write(&path, &wav).expect("write wav");
            let (length, voiced) = sox_measure(&path);
            // A Chinese character is a syllable; elsewhere count letters.
            let cjk = |c: &char| ('\u{4e00}'..='\u{9fff}').contains(c);
            let letters = text.chars().filter(|c| c.is_alphanumeric()).map(|c| if cjk(&c) { 2.0 } else { 1.0 }).sum::<f64>();
            eprintln!("{}: {length:.2} s, {voiced:.2} s voiced, {letters} letters: {text}", path.display());
            assert!(length > 0.5, "{}: {length} s is too short to be speech", path.display());
            assert!(voiced / length > 0.4, "{}: only {voiced} of {length} s is sound", path.display());
            assert!(length < 0.3 * letters + 1.0, "{}: {length} s for {letters} letters: spelled out?", path.display());
        }
    }

    fn samples_dir() -> PathBuf {
        // <target>/debug/deps/<test binary> → <target>/voice-samples
        let exe = std::env::current_exe().expect("test binary path");
        let target = exe.ancestors().nth(3).expect("target dir").to_path_buf();
        let dir = target.join("voice-samples");
        std::fs::create_dir_all(&dir).expect("create voice-samples");
        dir
    }

    /// Length of the WAV and of what is left once every pause under 1% of
    /// full scale is cut out, both in seconds, by sox.
    fn sox_measure(path: &std::path::Path) -> (f64, f64) {
        let seconds = |effects: &[&str]| -> f64 {
            let out = Command::new("sox")
                .arg(path)
                .args(["-n"])
                .args(effects)
                .arg("stat")
                .output()
                .expect("sox is not installed (Debian package sox)");
            assert!(out.status.success(), "sox failed: {}", String::from_utf8_lossy(&out.stderr));
            let report = String::from_utf8_lossy(&out.stderr);
            report
                .lines()
                .find_map(|l| l.strip_prefix("Length (seconds):"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("no length in sox's report: {report}"))
        };
        (seconds(&[]), seconds(&["silence", "1", "0.02", "1%", "-1", "0.02", "1%"]))
    }
}
