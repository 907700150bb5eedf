//! `kioskctl logs`: the kiosk's journal (or a log file), with anything that
//! looks like an ID number or a phone number masked. The kiosk never logs
//! those on purpose; this is the second line, for logs pasted into tickets.

use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result};
use model::mask::{mask_number, mask_phone};

/// Masks ID numbers (18 characters, 17 digits and a digit or X; and the old
/// 15-digit ones) and mainland mobile numbers (11 digits from 13..19) in `line`.
pub fn mask_line(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_alphanumeric()) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        // An ID number may end in X.
        if j - i == 17 && j < chars.len() && matches!(chars[j], 'X' | 'x') {
            j += 1;
        }
        let run: String = chars[i..j].iter().collect();
        let bounded = j == chars.len() || !chars[j].is_ascii_alphanumeric();
        let masked = match run.len() {
            18 if bounded && looks_like_case_number(&run) => run,
            18 | 15 if bounded => mask_number(&run),
            11 if bounded && run.starts_with('1') && matches!(chars[i + 1], '3'..='9') => mask_phone(&run),
            _ => run,
        };
        out.push_str(&masked);
        i = j;
    }
    out
}

/// The hub's case numbers are 18 digits too: `62`, the date, a sequence.
/// One is left readable (technicians look cases up by it) unless it is also
/// a valid ID number.
fn looks_like_case_number(run: &str) -> bool {
    let date_ok = |s: &str| {
        let (y, m, d) = (&s[0..4], &s[4..6], &s[6..8]);
        y.starts_with("20") && ("01"..="12").contains(&m) && ("01"..="31").contains(&d)
    };
    run.starts_with("62") && run.is_ascii() && date_ok(&run[2..10]) && model::IdNumber::parse(run).is_err()
}

pub fn run(unit: &str, lines: u32, file: Option<&Path>) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    if let Some(path) = file {
        let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let all: Vec<String> = BufReader::new(f).lines().collect::<Result<_, _>>().with_context(|| format!("cannot read {}", path.display()))?;
        for line in &all[all.len().saturating_sub(lines as usize)..] {
            writeln!(stdout, "{}", mask_line(line))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut child = Command::new("journalctl")
        .args(["--unit", unit, "--lines", &lines.to_string(), "--no-pager", "--output", "short-iso"])
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run journalctl (is this a systemd machine? use --file for a log file)")?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.context("reading journalctl")?;
            writeln!(stdout, "{}", mask_line(&line))?;
        }
    }
    let status = child.wait().context("journalctl")?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_id_and_phone_numbers_and_leaves_the_rest() {
        let line = "filed 62292619800101123X by 13912345678 at 2026-01-01 case 622026010100000001 id=620102199003071234.";
        let m = mask_line(line);
        assert!(!m.contains("62292619800101123X") && m.contains("6229**********123X"), "{m}");
        assert!(!m.contains("13912345678") && m.contains("139******78"), "{m}");
        assert!(m.contains("6201**********1234"), "{m}");
        assert!(m.contains("2026-01-01"), "{m}");
        assert!(m.contains("622026010100000001"), "a case number is not personal: {m}");
        assert_eq!(mask_line("uuid 0192f3a4-13912345678"), "uuid 0192f3a4-139******78");
    }
}
