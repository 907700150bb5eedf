//! What an offline guesser pays per operator PIN guess (issue 12 item 8).
//!
//! `cargo run --release -p model --example pin_cost` hashes with the hub's
//! default Argon2id parameters ([`PinParams::STRONG`]) for a few seconds on
//! one core, prints the measured cost per guess, and the time to search the
//! PIN spaces on 16 such cores: the whole space and the expected half.
//! Nothing here is asserted: timings belong in reports, not tests.

use std::time::{Duration, Instant};

use model::operator::{hash_pin, PinParams, MIN_PIN_DIGITS};

const YEAR_SECS: f64 = 365.25 * 86_400.0;
const CORES: f64 = 16.0;

fn main() {
    let params = PinParams::STRONG;
    let pin = "480217593062";
    // Warm up (page in the 19 MiB), then measure for at least 3 s.
    let _ = hash_pin(pin, &[1; 16], params);
    let started = Instant::now();
    let mut n = 0u32;
    while started.elapsed() < Duration::from_secs(3) || n < 20 {
        let salt = [(n % 251) as u8; 16];
        if hash_pin(pin, &salt, params).is_err() {
            eprintln!("hashing failed");
            std::process::exit(1);
        }
        n += 1;
    }
    let per_guess = started.elapsed().as_secs_f64() / f64::from(n);
    println!(
        "Argon2id m={} KiB, t={}, p={}: {:.1} ms per guess on one core ({n} hashes)",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        per_guess * 1000.0
    );
    println!("{:>7}  {:>16}  {:>22}  {:>22}", "digits", "space", "all of it, 16 cores", "expected (half), 16 cores");
    for digits in [6u32, 8, 10, 11, 12, 14, 16] {
        let space = 10f64.powi(digits as i32);
        let all = space * per_guess / CORES;
        let marker = if digits as usize == MIN_PIN_DIGITS { "  <- minimum the hub accepts" } else { "" };
        println!("{digits:>7}  {space:>16.0e}  {:>22}  {:>22}{marker}", human(all), human(all / 2.0));
    }
}

fn human(secs: f64) -> String {
    if secs < 3600.0 {
        format!("{:.1} min", secs / 60.0)
    } else if secs < 86_400.0 * 2.0 {
        format!("{:.1} h", secs / 3600.0)
    } else if secs < YEAR_SECS {
        format!("{:.1} days", secs / 86_400.0)
    } else {
        format!("{:.1} years", secs / YEAR_SECS)
    }
}
