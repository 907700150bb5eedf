//! `catalog-check [FILE] [--list LANG | --missing LANG]`: checks a catalog
//! (the compiled-in starter when no FILE is given) and prints what it holds:
//! items, themes, bundles, departments, items whose source was not checked,
//! and per language the texts without their own translation. `--list` names
//! where each untranslated text sits; `--missing` prints each untranslated
//! Chinese text once, with how often it occurs: a translator's worklist
//! (catalog_src/drafts.py takes one entry per line). Exits 1 when the
//! catalog is refused (the message names the item and field), 2 on usage.

use std::process::ExitCode;

use model::{Catalog, Lang};

fn main() -> ExitCode {
    let mut file = None;
    let mut list = None;
    let mut worklist = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--list" => match args.next().as_deref().and_then(Lang::from_code) {
                Some(l) => list = Some(l),
                None => return usage(),
            },
            "--missing" => match args.next().as_deref().and_then(Lang::from_code) {
                Some(l) => worklist = Some(l),
                None => return usage(),
            },
            "-h" | "--help" => return usage(),
            _ if file.is_none() => file = Some(a),
            _ => return usage(),
        }
    }
    let text = match &file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                return ExitCode::from(1);
            }
        },
        None => Catalog::starter_json().to_owned(),
    };
    let c = match Catalog::from_json(&text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("catalog refused: {e}");
            return ExitCode::from(1);
        }
    };
    println!("catalog {} ({})", c.version, file.as_deref().unwrap_or("built-in starter"));
    if !c.source_note.is_empty() {
        println!("source: {}", c.source_note);
    }
    let self_service = c.items.iter().filter(|i| i.availability == model::catalog::Availability::SelfService).count();
    println!("items: {} ({self_service} self-service, {} assisted only)", c.items.len(), c.items.len() - self_service);
    println!("themes: {}", c.themes.len());
    for t in &c.themes {
        println!("  {:<16} {:<8} {:>3} items, {} bundles", t.id, t.name.get(Lang::ZhCn), c.items_in_theme(&t.id).count(), c.bundles_in_theme(&t.id).count());
    }
    println!("bundles: {}", c.bundles.len());
    for b in &c.bundles {
        let about = if b.subject_fields.is_empty() { String::new() } else { format!("; about another person: {}", b.subject_fields.join(", ")) };
        println!("  {} {} ({} items, shared: {}{about})", b.code, b.name.get(Lang::ZhCn), b.items.len(), b.shared_fields.join(", "));
    }
    let depts = c.departments();
    println!("departments: {}", depts.len());
    for (d, items) in &depts {
        println!("  {:>3}  {}", items.len(), d.get(Lang::ZhCn));
    }
    let unchecked = c.items.iter().filter(|i| !i.source.checked).count();
    println!("sources not yet checked against the live guide: {unchecked} of {} items", c.items.len());
    println!("missing fields: 0 (the catalog would be refused otherwise)");
    let total = c.texts().len();
    let missing = c.missing_translations();
    println!("villager-visible texts: {total}; without their own translation (shown in Chinese):");
    for lang in Lang::ALL {
        let status = match c.translation_status.get(lang.code()) {
            Some(model::catalog::TranslationStatus::Reviewed) => "reviewed",
            Some(model::catalog::TranslationStatus::Draft) => "draft",
            None if lang == Lang::ZhCn => "source",
            None => "no status",
        };
        println!("  {:<6} {:>5} missing ({status})", lang.code(), missing[&lang].len());
    }
    if let Some(lang) = list {
        for (owner, path) in &missing[&lang] {
            println!("{} {owner}: {path}", lang.code());
        }
    }
    if let Some(lang) = worklist {
        // First occurrence order, so a translator meets an item's texts together.
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (_, _, text) in c.texts().iter().filter(|(_, _, t)| !t.has(lang)) {
            let zh = text.get(Lang::ZhCn);
            match seen.iter_mut().find(|(z, _)| *z == zh) {
                Some((_, n)) => *n += 1,
                None => seen.push((zh, 1)),
            }
        }
        println!("{} distinct Chinese texts without {}:", seen.len(), lang.code());
        for (zh, n) in seen {
            println!("{n:>4}  {zh}");
        }
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: catalog-check [FILE] [--list LANG] [--missing LANG]  (LANG: zh-CN, bo, kk, en)");
    ExitCode::from(2)
}
