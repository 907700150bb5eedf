//! Every villager- and staff-visible string goes through the translation
//! files (issue 18): extracted by `ui/translations/extract.sh` (Slint's
//! extractor, xgettext on marked Rust calls, msgmerge), present and
//! translated in every language, and no Chinese text on a screen escapes
//! the extraction. Needs slint-tr-extractor 1.18.1 (./dev installs it;
//! or SLINT_TR_EXTRACTOR) and gettext; fails without them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The extractor: $SLINT_TR_EXTRACTOR, else PATH, else cargo's bin directory.
fn extractor() -> String {
    if let Ok(p) = std::env::var("SLINT_TR_EXTRACTOR") {
        return p;
    }
    let cargo_home = std::env::var("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
    });
    let in_cargo = cargo_home.join("bin/slint-tr-extractor");
    if Command::new("slint-tr-extractor").arg("--version").output().is_ok() || !in_cargo.exists() {
        "slint-tr-extractor".into()
    } else {
        in_cargo.to_string_lossy().into_owned()
    }
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// The message ids of a .po/.pot file (single-line and continued strings).
fn msgids(po: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut current: Option<String> = None;
    for line in po.lines() {
        if let Some(rest) = line.strip_prefix("msgid ") {
            current = Some(unquote(rest));
        } else if line.starts_with('"') {
            if let Some(c) = current.as_mut() {
                c.push_str(&unquote(line));
            }
        } else if let Some(id) = current.take() {
            if !id.is_empty() {
                ids.insert(id);
            }
        }
    }
    ids
}

fn unquote(s: &str) -> String {
    let inner = s.trim().trim_start_matches('"').trim_end_matches('"');
    inner.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\")
}

/// String literals with Chinese in them, outside `#[cfg(test)]` modules
/// and comments, with their line numbers.
fn chinese_literals(code: &str) -> Vec<(usize, String)> {
    let code = &code[..code.find("#[cfg(test)]").unwrap_or(code.len())];
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let line = match line.find("//") {
            // A `//` inside a string (a URL) is not a comment; good enough here.
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        for (i, part) in line.split('"').enumerate() {
            if i % 2 == 1 && part.chars().any(is_cjk) {
                out.push((n + 1, unquote(part)));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source dir").flatten() {
        let p = entry.path();
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if p.is_dir() {
            if name != "tests" {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.push(p);
        }
    }
}

#[test]
fn the_translation_files_are_up_to_date_with_the_source() {
    let out = Command::new(root().join("ui/translations/extract.sh"))
        .arg("--check")
        .env("SLINT_TR_EXTRACTOR", extractor())
        .output()
        .expect("run ui/translations/extract.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stderr: Vec<&str> = stderr.lines().filter(|l| !l.contains("unterminated")).collect();
    assert!(
        out.status.success(),
        "ui/translations/extract.sh --check failed (exit {:?}): run it without --check and translate the new entries.\n{}",
        out.status.code(),
        stderr.join("\n")
    );
    // The counts it prints, for the log.
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn every_extracted_message_is_translated_in_every_language() {
    let pot = std::fs::read_to_string(root().join("ui/translations/ui.pot")).expect("ui.pot");
    let ids = msgids(&pot);
    assert!(ids.len() > 250, "ui.pot has {} messages", ids.len());
    for lang in ["bo", "kk", "en"] {
        let missing: Vec<_> = ids.iter().filter(|id| ui::i18n::lookup(lang, id).is_none()).collect();
        assert!(missing.is_empty(), "{lang}: {} messages without a translation: {missing:#?}", missing.len());
    }
}

/// Chinese text written straight into a screen or a Rust sentence without
/// `@tr` / a marker would never be translated: every such literal must be
/// a message of ui.pot. The few that are Chinese on purpose are named here.
#[test]
fn no_chinese_text_escapes_the_extraction() {
    let pot = msgids(&std::fs::read_to_string(root().join("ui/translations/ui.pot")).expect("ui.pot"));
    // Not shown translated, by design.
    const CHINESE_ON_PURPOSE: [&str; 7] = [
        // The language switch names each language in itself.
        "中文",
        // Sample screens (assisted_ui::sample_*): an operator's name, and a
        // refusal as assisted_app words it (shown through tr_with_number).
        "马小兰",
        "工号或密码不对，还可以试 4 次",
        // Printed on the receipt, which stays Chinese (GB18030 printer).
        "已提交到政务服务平台",
        "已保存在本机，网络恢复后自动发送",
        // Matched in a driver's error text, never shown.
        "读卡器",
        // kiosk --help, for technicians.
        "Cunban (村办) village government-service kiosk",
    ];
    // Whole files: sample data, and the technician's bilingual diagnostics page.
    const FILES_ON_PURPOSE: [&str; 3] = ["samples.rs", "screenshots.rs", "diagnostics.rs"];
    let mut escaped = Vec::new();
    let mut files = Vec::new();
    rust_files(&root().join("kiosk/src"), &mut files);
    files.sort();
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if FILES_ON_PURPOSE.contains(&name.as_str()) {
            continue;
        }
        let code = std::fs::read_to_string(&f).expect("read source");
        for (line, s) in chinese_literals(&code) {
            if !pot.contains(&s) && !CHINESE_ON_PURPOSE.contains(&s.as_str()) {
                escaped.push(format!("{}:{line}: {s:?}", f.strip_prefix(root()).unwrap_or(&f).display()));
            }
        }
    }
    let mut slint = Vec::new();
    let mut stack = vec![root().join("ui/ui")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read ui/ui").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "slint") {
                slint.push(p);
            }
        }
    }
    slint.sort();
    for f in slint {
        let code = std::fs::read_to_string(&f).expect("read .slint");
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or("");
            let parts: Vec<&str> = line.split('"').collect();
            for i in (1..parts.len()).step_by(2) {
                let on_purpose = CHINESE_ON_PURPOSE.contains(&parts[i]);
                if parts[i].chars().any(is_cjk) && !on_purpose && !parts[i - 1].trim_end().ends_with("@tr(") {
                    escaped.push(format!("{}:{}: {:?} (not in @tr)", f.strip_prefix(root()).unwrap_or(&f).display(), n + 1, parts[i]));
                }
            }
        }
    }
    assert!(
        escaped.is_empty(),
        "Chinese text that no translation file holds (mark it: @tr in .slint; t/tf/say or ui::i18n::n_ in Rust; then run ui/translations/extract.sh):\n{}",
        escaped.join("\n")
    );
}
