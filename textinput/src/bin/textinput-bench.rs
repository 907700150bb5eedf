//! Latency of the two engines and the memory they add, on this machine:
//! key press → pinyin candidates and pen-up → handwriting candidates, p50 and
//! p99 (budgets p99 < 50 ms and < 100 ms), and resident memory before and
//! after loading both engines. Run with `cargo run --release -p textinput
//! --bin textinput-bench`. Inputs: the handwriting test strokes (rebuilt here
//! from their file so the binary does not need the test-only fixtures) and
//! the pinyin test table's letters.

use std::path::Path;
use std::time::{Duration, Instant};

use textinput::{Handwriting, Pinyin, Point, RimeShared, Stroke, Zinnia, DEBIAN_MODEL};

const STROKES: &str = include_str!("../../../model/data/handwriting/strokes.json");
const LETTERS: &[&str] = &[
    "zhang", "wang", "li", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "ma", "ming", "hua", "xiuying",
    "guilan", "jianguo", "zhangsan", "xiaoming", "lanzhou", "gansu", "chusheng", "dengji", "cunweihui", "xm", "bj",
];
const ROUNDS: usize = 20;

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64, usize) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.99), samples.len())
}

/// The strokes.json characters as lists of strokes. A tiny reader for the
/// file's fixed shape (`"字":[[[x,y],…],…]`), so no JSON crate ships.
fn characters() -> Vec<Vec<Stroke>> {
    let body = &STROKES[STROKES.find("\"characters\":{").map_or(0, |i| i + 14)..];
    body.split("]]],")
        .filter_map(|entry| {
            let strokes_text = &entry[entry.find(":[")? + 2..];
            let strokes: Vec<Stroke> = strokes_text
                .split("]],[")
                .map(|s| {
                    s.split("],[")
                        .filter_map(|p| {
                            let mut xy = p.trim_matches(|c: char| !c.is_ascii_digit() && c != ',' && c != '-').split(',');
                            Some(Point { x: xy.next()?.parse().ok()?, y: xy.next()?.parse().ok()? })
                        })
                        .collect()
                })
                .collect();
            (!strokes.is_empty()).then_some(strokes)
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let before = resident_mb();
    let zinnia = Zinnia::open(Path::new(DEBIAN_MODEL))?;
    let shared = RimeShared::debian_default()?;
    let mut pinyin = shared.open_visit()?;
    // One warm-up pass each: librime loads its dictionary on first use.
    for l in LETTERS {
        for ch in l.chars() {
            pinyin.push(ch)?;
        }
        pinyin.clear();
    }
    let chars = characters();
    let loaded = resident_mb();

    let mut keys = Vec::new();
    for _ in 0..ROUNDS {
        for l in LETTERS {
            for ch in l.chars() {
                let t = Instant::now();
                let c = pinyin.push(ch)?;
                keys.push(t.elapsed());
                std::hint::black_box(c);
            }
            pinyin.clear();
        }
    }
    // Pen-up after every stroke: the pad asks for candidates with the strokes so far.
    let mut pen = Vec::new();
    for _ in 0..ROUNDS / 4 {
        for strokes in &chars {
            for n in 1..=strokes.len() {
                let t = Instant::now();
                let c = zinnia.recognise(&strokes[..n], 300, 300, 10);
                pen.push(t.elapsed());
                std::hint::black_box(c);
            }
        }
    }
    let after = resident_mb();
    let (k50, k99, kn) = percentiles(keys);
    let (p50, p99, pn) = percentiles(pen);
    println!("key press → pinyin candidates: p50 {k50:.2} ms, p99 {k99:.2} ms over {kn} presses (budget p99 < 50 ms)");
    println!("pen-up → handwriting candidates: p50 {p50:.2} ms, p99 {p99:.2} ms over {pn} pen-ups, {} characters (budget p99 < 100 ms)", chars.len());
    println!("resident memory: {before:.1} MB before the engines, {loaded:.1} MB loaded, {after:.1} MB after the runs (+{:.1} MB for the engines)", after - before);
    Ok(())
}
