//! The house rules that a reviewer would otherwise check by hand.

use std::path::Path;
use std::process::Command;

/// DESIGN §2 inside each crate: no two source files import each other,
/// directly or in a loop (scripts/import_cycles.py says how it reads imports).
#[test]
fn no_two_source_files_import_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("python3")
        .arg(root.join("scripts/import_cycles.py"))
        .current_dir(&root)
        .output()
        .expect("python3 runs scripts/import_cycles.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "import circles found:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("kiosk:") && text.contains("hub:"), "the checker read no crates:\n{text}");
}

/// No source file outside tests and data holds more than one concern's
/// worth of code (issue 13: 800 lines).
#[test]
fn no_source_file_is_over_800_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut long = Vec::new();
    for krate in ["model", "textinput", "drivers", "offline-cache", "ui", "kiosk", "hub", "deploy", "tests", "testkit"] {
        let mut stack = vec![root.join(krate).join("src")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    // Unit tests split into their own files are tests, not code.
                    if p.file_name().is_some_and(|n| n != "tests") {
                        stack.push(p);
                    }
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let lines = std::fs::read_to_string(&p).map(|t| t.lines().count()).unwrap_or(0);
                    if lines > 800 {
                        long.push(format!("{} ({lines} lines)", p.display()));
                    }
                }
            }
        }
    }
    assert!(long.is_empty(), "files over 800 lines: {long:?}");
}
