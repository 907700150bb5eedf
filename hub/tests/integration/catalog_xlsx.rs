//! `hub catalog import FILE.xlsx`: the same export as a workbook, through
//! the same validation; every fault reported by sheet, Excel row, column
//! and cell, and nothing published while any is left. The workbooks are
//! written here (rust_xlsxwriter) from the JSON export they mirror.

use std::path::Path;
use std::process::Command;

use hub::catalog_xlsx::{convert, ITEM_COLUMNS, MATERIAL_COLUMNS};
use model::Catalog;
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use serde_json::{json, Value};

use crate::catalog_import::row;

fn sheet<'a>(wb: &'a mut Workbook, name: &str, header: &[&str]) -> &'a mut Worksheet {
    let ws = wb.add_worksheet();
    ws.set_name(name).unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws
}

fn cell(ws: &mut Worksheet, r: u32, c: usize, v: &Value) {
    match v {
        Value::Number(n) => ws.write_number(r, c as u16, n.as_f64().unwrap()).unwrap(),
        Value::String(s) => ws.write_string(r, c as u16, s).unwrap(),
        Value::Null => ws,
        other => ws.write_string(r, c as u16, other.to_string()).unwrap(),
    };
}

/// The workbook holding the JSON export `export`, row for row.
fn workbook(export: &Value) -> Workbook {
    workbook_with_blank_row(export, None)
}

/// The same with a blank row on the 事项 sheet before item `blank` (0-based).
fn workbook_with_blank_row(export: &Value, blank: Option<usize>) -> Workbook {
    let mut wb = Workbook::new();
    let ws = sheet(&mut wb, "版本", &["version"]);
    cell(ws, 1, 0, &export["version"]);
    let items = export["事项"].as_array().unwrap();
    let ws = sheet(&mut wb, "事项", &ITEM_COLUMNS);
    for (k, item) in items.iter().enumerate() {
        let r = k as u32 + 1 + u32::from(blank.is_some_and(|b| k >= b));
        for (c, col) in ITEM_COLUMNS.iter().enumerate() {
            cell(ws, r, c, &item[*col]);
        }
    }
    let ws = sheet(&mut wb, "申请材料", &MATERIAL_COLUMNS);
    let mut r = 1;
    for item in items {
        for m in item["申请材料"].as_array().unwrap() {
            cell(ws, r, 0, &item["实施编码"]);
            for (c, col) in MATERIAL_COLUMNS.iter().enumerate().skip(1) {
                cell(ws, r, c, &m[*col]);
            }
            r += 1;
        }
    }
    wb
}

/// Every starter item as the platform exports it, plus one new item whose
/// kiosk form comes in the export (a JSON text cell in the workbook).
fn full_export(starter: &Catalog) -> Value {
    let mut rows: Vec<Value> = starter.items.iter().map(|i| row(starter, i.implement_code.as_str())).collect();
    let mut new_item = row(starter, "620000YB0001");
    new_item["实施编码"] = json!("620000YB0999");
    new_item["事项名称"] = json!("城乡居民医疗保险参保登记（新）");
    new_item["表单"] = serde_json::to_value(&starter.item("620000YB0001").unwrap().form).unwrap();
    rows.push(new_item);
    json!({"version": starter.version + 1, "事项": rows})
}

fn hub(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hub"));
    c.arg("--db").arg(db);
    c
}

fn run(cmd: &mut Command, ok: bool) -> (String, String) {
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert_eq!(out.status.success(), ok, "stdout: {stdout}\nstderr: {stderr}");
    (stdout, stderr)
}

/// A hub database holding the starter catalog, and the key that signed it.
fn hub_with_starter(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (db, key) = (dir.join(format!("{name}.db")), dir.join(format!("{name}.key")));
    run(Command::new(env!("CARGO_BIN_EXE_hub")).arg("--generate-catalog-key").arg(&key), true);
    let starter = dir.join(format!("{name}-starter.json"));
    std::fs::write(&starter, Catalog::starter_json()).unwrap();
    run(hub(&db).args(["catalog", "publish", "--file"]).arg(&starter).arg("--catalog-key-file").arg(&key), true);
    (db, key)
}

#[test]
fn a_workbook_publishes_the_same_catalog_as_the_equivalent_json() {
    let starter = Catalog::starter();
    let export = full_export(&starter);
    let bytes = workbook(&export).save_to_buffer().unwrap();
    let from_json = hub::catalog_import::convert(&export.to_string(), Some(&starter)).unwrap();
    let from_xlsx = convert(&bytes, Some(&starter)).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(from_xlsx, from_json);
    assert_eq!(from_xlsx.items.len(), starter.items.len() + 1);
    assert!(from_xlsx.item("620000YB0999").is_some_and(|i| !i.form.is_empty()), "the new item's form came from its 表单 cell");

    // Through the command line: two hubs with the same starter, one imports
    // the JSON and one the workbook; both publish the same catalog.
    let dir = tempfile::tempdir().unwrap();
    let (db_json, key_json) = hub_with_starter(dir.path(), "json");
    let (db_xlsx, key_xlsx) = hub_with_starter(dir.path(), "xlsx");
    let (json_file, xlsx_file) = (dir.path().join("export.json"), dir.path().join("事项清单.xlsx"));
    std::fs::write(&json_file, export.to_string()).unwrap();
    std::fs::write(&xlsx_file, &bytes).unwrap();
    let (out_json, out_xlsx) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let (said, _) = run(hub(&db_xlsx).args(["catalog", "import"]).arg(&xlsx_file).arg("--catalog-key-file").arg(&key_xlsx).arg("--out").arg(&out_xlsx), true);
    assert!(said.contains(&format!("{} items imported; catalog version {} published", starter.items.len() + 1, starter.version + 1)), "{said}");
    run(hub(&db_json).args(["catalog", "import"]).arg(&json_file).arg("--catalog-key-file").arg(&key_json).arg("--out").arg(&out_json), true);
    assert_eq!(std::fs::read(&out_xlsx).unwrap(), std::fs::read(&out_json).unwrap());
}

#[test]
fn every_fault_in_a_workbook_is_reported_where_staff_find_it_and_nothing_is_published() {
    let starter = Catalog::starter();
    let mut export = full_export(&starter);
    let items = export["事项"].as_array_mut().unwrap();
    // Excel rows: item k is on row k + 2 (row 1 is the header) up to the blank row.
    items[2]["实施编码"] = json!("6200-RS0001"); // row 4: bad code
    items[3]["法定办结时限"] = json!("很快"); // row 5: bad time limit
    items[4]["事项名称"] = Value::Null; // row 6: empty required cell
    items[5]["咨询电话"] = json!(9318123456_u64); // row 7: a phone stored as a number
    items[6]["收费"] = json!(0); // row 8: a number where 否 belongs
    items[8]["实施编码"] = items[7]["实施编码"].clone(); // row 10: the code of row 9 again
    items[0]["申请材料"][0]["材料来源"] = json!("传真"); // 申请材料 row 2: unknown source
    // A blank row before item 9: it moves from row 11 to row 12.
    let mut wb = workbook_with_blank_row(&export, Some(9));
    // The header of 受理条件 (column I) misspelt: every row's value is unread.
    let cond = ITEM_COLUMNS.iter().position(|c| *c == "受理条件").unwrap() as u16;
    wb.worksheet_from_name("事项").unwrap().write_string(0, cond, "受理条件说明").unwrap();
    // 申请材料: the code merged over the second item's two material rows.
    let mats = wb.worksheet_from_name("申请材料").unwrap();
    let first_len = export["事项"][0]["申请材料"].as_array().unwrap().len() as u32;
    let code1 = export["事项"][1]["实施编码"].as_str().unwrap().to_owned();
    mats.merge_range(first_len + 1, 0, first_len + 2, 0, &code1, &Format::new()).unwrap();
    let bytes = wb.save_to_buffer().unwrap();

    let errors = convert(&bytes, Some(&starter)).unwrap_err();
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let code = |k: usize| export["事项"][k]["实施编码"].as_str().unwrap().to_owned();
    let merged = format!("A{}:A{}", first_len + 2, first_len + 3);
    let expected = [
        "sheet 事项, row 1, column 受理条件: this column is missing from the header row".to_owned(),
        "sheet 事项, row 11: blank row between rows: delete it (a blank row is not read as an item)".to_owned(),
        format!("sheet 申请材料, row {}, column 实施编码 [A{}]: cells {merged} are merged: every row needs its own value (unmerge them and fill each row)", first_len + 2, first_len + 2),
        "sheet 事项, row 4 (6200-RS0001), column 实施编码 [A4]: not 1..24 letters or digits".to_owned(),
        format!("sheet 事项, row 5 ({}), column 法定办结时限 [J5]: \"很快\" is not 即办, N个工作日 or N天", code(3)),
        format!("sheet 事项, row 6 ({}), column 事项名称 [B6]: missing or empty", code(4)),
        format!("sheet 事项, row 7 ({}), column 咨询电话 [H7]: stored as a number (9318123456), text expected: a number loses leading zeros (0931…) and long codes; format the column as text and type the value again", code(5)),
        format!("sheet 事项, row 8 ({}), column 收费 [M8]: stored as a number (0), text expected: a number loses leading zeros (0931…) and long codes; format the column as text and type the value again", code(6)),
        format!("sheet 申请材料, row 2 ({}), column 材料来源 [G2]: \"传真\" is not one of 身份证、扫描、拍照、人脸、电子证照、签名", code(0)),
        format!("sheet 事项, row 10 ({}), column 实施编码 [A10]: the same 实施编码 as row 9: one row per item", code(7)),
    ];
    for e in &expected {
        assert!(lines.iter().any(|l| l == e), "missing {e:?} in {lines:#?}");
    }
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");

    // The command line prints each and publishes nothing.
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = hub_with_starter(dir.path(), "hub");
    let file = dir.path().join("bad.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let (_, stderr) = run(hub(&db).args(["catalog", "import"]).arg(&file).arg("--catalog-key-file").arg(&key), false);
    for e in &expected {
        assert!(stderr.contains(e.as_str()), "{e:?} not printed: {stderr}");
    }
    assert!(stderr.contains(&format!("{} problem(s)", expected.len())) && stderr.contains("nothing was published"), "{stderr}");
    let store = hub::SqliteStore::open(&db).unwrap();
    let latest = hub::CatalogStore::latest_catalog(&store).unwrap().unwrap();
    assert_eq!(latest.version, starter.version, "the starter is still the newest");
}
