//! zinnia with Debian's Simplified Chinese model on finger-drawn characters.

use std::path::Path;

use model::fixtures::{handwritten_characters, HANDWRITING_PAD};
use textinput::{Handwriting, Point, Stroke, Zinnia, DEBIAN_MODEL};

fn strokes(raw: &[Vec<(i32, i32)>]) -> Vec<Stroke> {
    raw.iter().map(|s| s.iter().map(|&(x, y)| Point { x, y }).collect()).collect()
}

/// Characters Debian's Tegaki model does not put in the top 5 when drawn
/// from Make Me a Hanzi's medians, even without jitter for the first four
/// (ranks measured with jitter: 伟 15, 刘 29, 建 99, 张 21, 王 10, 生 not in
/// 300). Kept in the data so a better model shows up here; the pinyin
/// keyboard covers them meanwhile.
const KNOWN_MISSES: &str = "伟刘建张王生";

#[test]
fn characters_common_in_names_are_recognised_within_the_top_five() {
    let zinnia = Zinnia::open(Path::new(DEBIAN_MODEL)).expect("install tegaki-zinnia-simplified-chinese");
    let written = handwritten_characters();
    let mut recognised = Vec::new();
    let mut missed = Vec::new();
    for c in &written {
        let top = zinnia.recognise(&strokes(&c.strokes), HANDWRITING_PAD, HANDWRITING_PAD, 5);
        assert!(top.len() <= 5);
        if top.iter().any(|t| t.chars().eq([c.character])) {
            recognised.push(c.character);
        } else {
            missed.push(c.character);
        }
    }
    assert!(recognised.len() >= 20, "recognised only {recognised:?}");
    // Exactly the known misses: a regression or an improvement both show.
    assert_eq!(missed.iter().collect::<String>(), written.iter().map(|c| c.character).filter(|c| KNOWN_MISSES.contains(*c)).collect::<String>());
}

#[test]
fn an_empty_pad_gives_no_candidates_and_a_missing_model_a_clear_error() {
    let zinnia = Zinnia::open(Path::new(DEBIAN_MODEL)).expect("install tegaki-zinnia-simplified-chinese");
    assert!(zinnia.recognise(&[], 300, 300, 5).is_empty());
    assert!(zinnia.recognise(&[vec![]], 300, 300, 5).is_empty());
    let err = Zinnia::open(Path::new("/nonexistent/handwriting.model")).err().expect("no such model");
    assert!(err.to_string().contains("/nonexistent/handwriting.model"), "{err}");
}
