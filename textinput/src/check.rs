//! Whether each engine and its data load and answer: for `kioskctl
//! selftest` and the kiosk's start. The probes are fixed strokes and letters,
//! never anything a villager typed.

use std::path::{Path, PathBuf};

use crate::engine::{Handwriting, Pinyin, Point};
use crate::error::Error;
use crate::rime::RimeShared;
use crate::zinnia::Zinnia;

/// One engine's answer.
#[derive(Debug)]
pub struct EngineCheck {
    /// `handwriting` or `pinyin`.
    pub engine: &'static str,
    /// The data it uses (model file or data directory).
    pub data: PathBuf,
    /// What the probe produced, or why the engine is unusable.
    pub result: Result<String, Error>,
}

/// Loads zinnia's model and writes 十 (two strokes) on it.
pub fn check_handwriting(model: &Path) -> EngineCheck {
    let result = Zinnia::open(model).and_then(|z| {
        let across = (40..=260).step_by(20).map(|x| Point { x, y: 150 }).collect();
        let down = (40..=260).step_by(20).map(|y| Point { x: 150, y }).collect();
        let top = z.recognise(&[across, down], 300, 300, 5);
        if top.iter().any(|c| c == "十") {
            Ok(format!("{} loaded; 十 recognised", model.display()))
        } else {
            Err(Error::HandwritingModel { path: model.to_owned(), reason: format!("a written 十 was read as {top:?}") })
        }
    });
    EngineCheck { engine: "handwriting", data: model.to_owned(), result }
}

/// Prepares librime's staging directory, opens a visit and types `zhang`.
/// Fails with [`Error::Busy`] while a visit is open in this process.
pub fn check_pinyin(shared_data: &Path, staging: &Path) -> EngineCheck {
    let result = RimeShared::prepare(shared_data, staging).and_then(|shared| {
        let mut p = shared.open_visit()?;
        let mut last = p.composition();
        for ch in "zhang".chars() {
            last = p.push(ch)?;
        }
        if last.candidates.iter().any(|c| c == "张") {
            Ok(format!("{} loaded; zhang → 张", shared_data.display()))
        } else {
            Err(Error::PinyinData { path: shared_data.to_owned() })
        }
    });
    EngineCheck { engine: "pinyin", data: shared_data.to_owned(), result }
}
