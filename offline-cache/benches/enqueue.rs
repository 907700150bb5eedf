//! Durable enqueue latency against the disk's raw write+fsync, in one run.
//!
//! ```text
//! cargo bench -p offline-cache
//! CUNBAN_BENCH_N=1000 CUNBAN_BENCH_DIR=/var/lib/cunban cargo bench -p offline-cache
//! ```
//!
//! Budget (DESIGN §10): enqueue without attachments p99 < 10 ms and within
//! 2x of the disk's raw fsync. Three things are timed per round, one after
//! the other, so all see the same disk weather: a 4 KiB append + fdatasync
//! on a plain file, an enqueue without attachments, and an enqueue with a
//! 200 KB attachment (each outbox in its own file, so checkpoints caused by
//! the large one don't land on the small one). Sealing is included: it is
//! part of what the villager waits for.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use model::fixtures::sample_submission;
use model::submission::AttachmentRef;
use model::Submission;
use offline_cache::{Outbox, OutboxConfig};

/// The fixtures' sample filing, with a second form field, from the bench.
fn submission(attachments: Vec<AttachmentRef>) -> Submission {
    let mut sub = sample_submission(attachments);
    sub.form.insert("bank".to_owned(), "rcc".to_owned());
    sub.terminal_id = "BENCH".into();
    sub
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Stats {
    p50: Duration,
    p99: Duration,
    max: Duration,
    mean: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let mean = v.iter().sum::<Duration>() / v.len().max(1) as u32;
    Stats { p50: percentile(&v, 0.50), p99: percentile(&v, 0.99), max: v[v.len() - 1], mean }
}

fn ms(d: Duration) -> String {
    format!("{:8.3}", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    let n: usize = std::env::var("CUNBAN_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let warmup = 20usize;
    let dir: PathBuf = std::env::var_os("CUNBAN_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")))
        .join(format!("enqueue-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench directory");

    let key = offline_cache::generate_platform_key();
    let config = || {
        let mut c = OutboxConfig::new(key.public_key(), "BENCH");
        c.disk_reserve_bytes = 64 * 1024 * 1024;
        c
    };
    let small = Outbox::open(&dir.join("small.db"), config()).expect("outbox");
    let large = Outbox::open(&dir.join("large.db"), config()).expect("outbox");
    let mut raw = OpenOptions::new().create(true).append(true).open(dir.join("raw.bin")).expect("raw file");
    let block = vec![0x5Au8; 4096];
    let scan: Vec<u8> = (0..200 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();

    let (mut t_raw, mut t_small, mut t_large) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for round in 0..warmup + n {
        let t = Instant::now();
        raw.write_all(&block).expect("write");
        raw.sync_data().expect("fdatasync");
        let raw_d = t.elapsed();

        let sub = submission(vec![]);
        let t = Instant::now();
        small.enqueue(&sub, &[]).expect("enqueue");
        let small_d = t.elapsed();

        let r = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
        let sub = submission(vec![r.clone()]);
        let atts = [(r, scan.clone())];
        let t = Instant::now();
        large.enqueue(&sub, &atts).expect("enqueue with attachment");
        let large_d = t.elapsed();

        if round >= warmup {
            t_raw.push(raw_d);
            t_small.push(small_d);
            t_large.push(large_d);
        }
    }
    let (raw_s, small_s, large_s) = (stats(t_raw), stats(t_small), stats(t_large));

    println!("durable enqueue, {n} rounds after {warmup} warm-up, in {}", dir.display());
    println!("{:<44} {:>8} {:>8} {:>8} {:>8}  (ms)", "", "p50", "p99", "max", "mean");
    for (name, s) in [
        ("raw 4 KiB write + fdatasync", &raw_s),
        ("enqueue, no attachment", &small_s),
        ("enqueue, 200 KB attachment", &large_s),
    ] {
        println!("{name:<44} {} {} {} {}", ms(s.p50), ms(s.p99), ms(s.max), ms(s.mean));
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "ratio to raw fsync, no attachment:   p50 {:.2}x  p99 {:.2}x",
        ratio(small_s.p50, raw_s.p50),
        ratio(small_s.p99, raw_s.p99)
    );
    println!(
        "ratio to raw fsync, 200 KB attached: p50 {:.2}x  p99 {:.2}x",
        ratio(large_s.p50, raw_s.p50),
        ratio(large_s.p99, raw_s.p99)
    );
    let p99_ok = small_s.p99 < Duration::from_millis(10);
    let ratio_ok = ratio(small_s.p99, raw_s.p99) <= 2.0 && ratio(small_s.p50, raw_s.p50) <= 2.0;
    println!(
        "budget (no attachment): p99 < 10 ms {}; within 2x of raw fsync {}",
        if p99_ok { "met" } else { "MISSED" },
        if ratio_ok { "met" } else { "MISSED" }
    );
    drop((small, large, raw));
    let _ = std::fs::remove_dir_all(&dir);
}
