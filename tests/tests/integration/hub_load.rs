//! `hub-load` at small scale, so the load tool cannot rot (issue 17): 200
//! terminals, a few seconds of each phase, on SQLite, PostgreSQL and two
//! instances behind nginx. It asserts that every request was answered 2xx
//! and every setup ran, never a timing (the figures are in tests/README.md).

use std::path::Path;
use std::process::Command;

#[test]
fn hub_load_runs_every_phase_on_every_setup_without_an_error() {
    let load = Path::new(env!("CARGO_BIN_EXE_hub-load"));
    // The hub binary of the same build; `cargo test --workspace` (and ./dev test) builds it.
    let hub = load.with_file_name("hub");
    assert!(hub.is_file(), "no hub binary at {}: build it with `cargo build -p hub` (./dev test does)", hub.display());
    let stdout = run(load, &hub, &["--terminals", "200", "--setups", "sqlite,pg,pg2", "--steady-secs", "2", "--compress", "100", "--boot-window-secs", "2", "--requests", "400"]);
    let summary = stdout.split("summary").nth(1).expect("a summary");
    for setup in ["sqlite", "pg", "pg2"] {
        for phase in ["steady", "boot", "throughput"] {
            let row = summary.lines().find(|l| l.split_whitespace().take(2).eq([setup, phase])).unwrap_or_else(|| panic!("no {setup} {phase} row"));
            for clean in ["non-2xx   0", "5xx   0", "no answer   0"] {
                assert!(row.contains(clean), "{setup} {phase}: {row}");
            }
            assert!(!row.contains("2xx       0 "), "{setup} {phase} sent nothing: {row}");
        }
    }
    assert!(stdout.contains("registered 200 terminals"), "{stdout}");

    // The open-loop throughput phase (`--rate`): every heartbeat sent and answered.
    let stdout = run(load, &hub, &["--terminals", "200", "--setups", "sqlite", "--phases", "throughput", "--requests", "400", "--rate", "2000"]);
    assert!(stdout.contains("offered at 2000/s (open loop"), "{stdout}");
    let row = stdout.split("summary").nth(1).and_then(|s| s.lines().find(|l| l.starts_with("sqlite  throughput"))).unwrap_or_else(|| panic!("no throughput row: {stdout}"));
    for clean in ["sent     400  2xx     400", "non-2xx   0", "5xx   0", "no answer   0"] {
        assert!(row.contains(clean), "sqlite throughput --rate: {row}");
    }
}

/// `hub-load ARGS --hub-bin HUB`, which must succeed; answers its stdout.
fn run(load: &Path, hub: &Path, args: &[&str]) -> String {
    let out = Command::new(load).args(args).arg("--hub-bin").arg(hub).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "hub-load {args:?} failed (PostgreSQL and nginx are Debian's `postgresql` and `nginx-light`)");
    stdout
}
