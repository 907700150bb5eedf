//! The crash-torture binary, briefly: CI can't spend 200 kills, but it can
//! check a handful of SIGKILLs mid-filing lose, damage and double nothing.

use std::process::Command;

#[test]
fn five_sigkills_mid_filing_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_crash-torture"))
        .args(["--kills", "5", "--min-life-ms", "40", "--max-life-ms", "120", "--dir"])
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let fields: Vec<(&str, u64)> = last
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("last line {last:?}"));
            (k, v.parse().unwrap_or_else(|_| panic!("last line {last:?}")))
        })
        .collect();
    let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["kills", "saved", "lost", "corrupt", "duplicated"], "{last}");
    assert_eq!(fields[0].1, 5);
    assert!(fields[1].1 > 0, "some filings must have been saved between kills: {last}");
    assert_eq!((fields[2].1, fields[3].1, fields[4].1), (0, 0, 0), "{stdout}");
}
