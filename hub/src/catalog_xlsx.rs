//! `hub catalog import FILE.xlsx`: the platform's item export as a
//! workbook (provincial staff keep their lists in spreadsheets). The sheets
//! are read into the JSON export's shape and go through the same
//! validation (`catalog_import::convert_value`); its problems are then put
//! back where staff see them: sheet, row number as Excel shows it, column
//! header and cell. What only a spreadsheet can get wrong (a missing
//! column, merged cells, blank rows between items, a phone number stored
//! as a number, a date or formula error where text belongs) is reported
//! here. Layout in the hub README.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::{json, Map, Value};

use crate::catalog_import::{convert_value, RowError};
use model::Catalog;

pub const VERSION_SHEET: &str = "版本";
pub const ITEMS_SHEET: &str = "事项";
pub const MATERIALS_SHEET: &str = "申请材料";

/// The 事项 sheet's columns; all but 表单 must be in the header row.
pub const ITEM_COLUMNS: [&str; 15] = [
    "实施编码", "事项名称", "实施主体名称", "主题分类", "事项类型", "设定依据", "办理地点", "咨询电话", "受理条件",
    "法定办结时限", "承诺办结时限", "办件结果类型", "收费", "办理形式", "表单",
];
const ITEM_REQUIRED: usize = 14;
/// The 申请材料 sheet's columns; all but 材料编码 must be in the header row.
pub const MATERIAL_COLUMNS: [&str; 7] = ["实施编码", "材料编码", "材料名称", "原件份数", "复印件份数", "是否必要", "材料来源"];
/// Columns that hold counts: numbers are expected there, text elsewhere.
const COUNT_COLUMNS: [&str; 2] = ["原件份数", "复印件份数"];

/// One problem, where staff find it in the workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub sheet: String,
    /// As Excel numbers rows (1 = the header); 0 when the problem is not one row's.
    pub row: u32,
    /// The column's header, when the problem is one column's.
    pub column: Option<String>,
    /// `G5`, when the problem is one cell's (or `C5:C7` for a merge).
    pub cell: Option<String>,
    /// The row's 实施编码, when readable.
    pub code: Option<String>,
    pub problem: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sheet {}", self.sheet)?;
        if self.row > 0 {
            write!(f, ", row {}", self.row)?;
        }
        if let Some(c) = &self.code {
            write!(f, " ({c})")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        if let Some(c) = &self.cell {
            write!(f, " [{c}]")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// `0` → `A`, `27` → `AB`.
fn col_letters(mut col: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", col_letters(col), row + 1)
}

/// One sheet as rows of named cells, with where each came from.
struct Sheet {
    name: &'static str,
    /// Header → column index (0-based, absolute).
    columns: HashMap<String, u32>,
    /// Header row (0-based, absolute).
    header_row: u32,
    /// Data rows: (0-based absolute row, column index → value).
    rows: Vec<(u32, BTreeMap<u32, Data>)>,
}

impl Sheet {
    fn value<'r>(&self, row: &'r BTreeMap<u32, Data>, column: &str) -> Option<&'r Data> {
        self.columns.get(column).and_then(|c| row.get(c)).filter(|d| !is_blank(d))
    }
}

fn is_blank(d: &Data) -> bool {
    match d {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Problems collected while reading, one per cell at most.
#[derive(Default)]
struct Report {
    errors: Vec<CellError>,
    /// (sheet, 0-based row, column) already reported: later problems on the
    /// same cell would only repeat it.
    cells: HashSet<(&'static str, u32, u32)>,
}

impl Report {
    fn at(&mut self, sheet: &Sheet, row: u32, col: Option<u32>, code: Option<&str>, problem: String) {
        if let Some(c) = col {
            if !self.cells.insert((sheet.name, row, c)) {
                return;
            }
        }
        let column = col.and_then(|c| sheet.columns.iter().find(|(_, i)| **i == c).map(|(h, _)| h.clone()));
        self.errors.push(CellError {
            sheet: sheet.name.into(),
            row: row + 1,
            column,
            cell: col.map(|c| cell_name(row, c)),
            code: code.map(str::to_owned),
            problem,
        });
    }

    fn sheet(&mut self, sheet: &str, row: u32, column: Option<&str>, problem: String) {
        self.errors.push(CellError { sheet: sheet.into(), row, column: column.map(str::to_owned), cell: None, code: None, problem });
    }
}

/// Reads one sheet: the first filled row is the header; merged cells and
/// blank rows between data rows are reported.
fn read_sheet(book: &mut Xlsx<Cursor<&[u8]>>, name: &'static str, report: &mut Report) -> Option<Sheet> {
    if !book.sheet_names().iter().any(|n| n == name) {
        let have = book.sheet_names().join("、");
        report.sheet(name, 0, None, format!("the workbook has no sheet named {name} (it has: {have})"));
        return None;
    }
    let range = match book.worksheet_range(name) {
        Ok(r) => r,
        Err(e) => {
            report.sheet(name, 0, None, format!("cannot be read: {e}"));
            return None;
        }
    };
    let Some((top, left)) = range.start() else {
        report.sheet(name, 1, None, "the sheet is empty: the first row must name the columns".into());
        return None;
    };
    let mut cells: BTreeMap<u32, BTreeMap<u32, Data>> = BTreeMap::new();
    for (r, row) in range.rows().enumerate() {
        for (c, d) in row.iter().enumerate() {
            if !is_blank(d) {
                cells.entry(top + r as u32).or_default().insert(left + c as u32, d.clone());
            }
        }
    }
    let Some((&header_row, header)) = cells.iter().next() else {
        report.sheet(name, 1, None, "the sheet is empty: the first row must name the columns".into());
        return None;
    };
    let mut sheet = Sheet { name, columns: HashMap::new(), header_row, rows: Vec::new() };
    for (&c, d) in header {
        let h = match d {
            Data::String(s) => s.trim().to_owned(),
            other => other.to_string(),
        };
        if sheet.columns.insert(h.clone(), c).is_some() {
            report.at(&sheet, header_row, Some(c), None, format!("the header {h} is in two columns"));
        }
    }
    // A header staff misspelt shows as a missing column; an extra column
    // (a note) is left alone.
    let merged = book.merge_cells_by_sheet_name(name).unwrap_or_default();
    let mut covered = HashSet::new();
    for m in &merged {
        if m.start.0 == m.end.0 || m.start.0 <= header_row {
            continue; // Merged across columns of one row, or in the header: harmless.
        }
        let (r0, c0) = m.start;
        let span = format!("{}:{}", cell_name(r0, c0), cell_name(m.end.0, m.end.1));
        for r in r0..=m.end.0 {
            for c in c0..=m.end.1 {
                if (r, c) != (r0, c0) {
                    covered.insert((r, c));
                    report.cells.insert((name, r, c));
                }
            }
        }
        report.at(&sheet, r0, Some(c0), None, format!("cells {span} are merged: every row needs its own value (unmerge them and fill each row)"));
    }
    let last = cells.keys().next_back().copied().unwrap_or(header_row);
    for r in header_row + 1..=last {
        match cells.remove(&r) {
            Some(row) => sheet.rows.push((r, row)),
            // Only cells of a merge above: said with the merge.
            None if covered.iter().any(|(cr, _)| *cr == r) => sheet.rows.push((r, BTreeMap::new())),
            None => report.sheet(name, r + 1, None, "blank row between rows: delete it (a blank row is not read as an item)".into()),
        }
    }
    Some(sheet)
}

/// A cell as the JSON export would hold it, or why it cannot be.
fn to_json(d: &Data, column: &str) -> Result<Value, String> {
    let whole = |f: f64| (f.fract() == 0.0 && f.abs() < 1e15).then_some(f as i64);
    let counts = COUNT_COLUMNS.contains(&column) || column == "version";
    match d {
        Data::String(s) if counts => Ok(s.trim().parse::<i64>().map_or_else(|_| json!(s.trim()), |n| json!(n))),
        Data::String(s) => Ok(json!(s.trim())),
        Data::Int(n) if counts => Ok(json!(n)),
        Data::Float(f) if counts => Ok(whole(*f).map_or_else(|| json!(f), |n| json!(n))),
        Data::Int(_) | Data::Float(_) => {
            let shown = match d {
                Data::Float(f) => whole(*f).map_or_else(|| f.to_string(), |n| n.to_string()),
                other => other.to_string(),
            };
            Err(format!(
                "stored as a number ({shown}), text expected: a number loses leading zeros (0931…) and long codes; format the column as text and type the value again"
            ))
        }
        Data::Bool(b) => Err(format!("a TRUE/FALSE value ({b}), text expected")),
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => Err("a date or time, text expected (format the column as text)".into()),
        Data::Error(e) => Err(format!("a formula error ({e})")),
        Data::Empty => Ok(Value::Null),
    }
}

/// Reads the workbook into the JSON export's shape, recording where each
/// item and material came from.
struct Layout {
    export: Value,
    items: Sheet,
    materials: Option<Sheet>,
    /// For item n (0-based): its 申请材料 rows in order (0-based absolute).
    material_rows: Vec<Vec<u32>>,
    missing: HashSet<(&'static str, String)>,
}

fn read(bytes: &[u8], report: &mut Report) -> Option<Layout> {
    let mut book = match Xlsx::new(Cursor::new(bytes)) {
        Ok(b) => b,
        Err(e) => {
            report.sheet("(workbook)", 0, None, format!("not an XLSX workbook: {e}"));
            return None;
        }
    };
    let version_sheet = read_sheet(&mut book, VERSION_SHEET, report);
    let items = read_sheet(&mut book, ITEMS_SHEET, report);
    let materials = read_sheet(&mut book, MATERIALS_SHEET, report);
    let mut root = Map::new();
    if let Some(v) = &version_sheet {
        match (v.columns.get("version"), v.rows.first()) {
            (Some(&c), Some((r, row))) => match row.get(&c).map(|d| to_json(d, "version")) {
                Some(Ok(n)) if n.is_u64() => {
                    root.insert("version".into(), n);
                }
                _ => report.at(v, *r, Some(c), None, "the catalog version must be a positive whole number".into()),
            },
            _ => report.sheet(VERSION_SHEET, 0, Some("version"), "the sheet needs a header row naming column version and the version under it".into()),
        }
    }
    let items = items?;
    let mut missing = HashSet::new();
    for col in ITEM_COLUMNS.iter().take(ITEM_REQUIRED).filter(|c| !items.columns.contains_key(**c)) {
        report.sheet(ITEMS_SHEET, items.header_row + 1, Some(col), "this column is missing from the header row".into());
        missing.insert((ITEMS_SHEET, (*col).to_owned()));
    }
    let mut rows = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for (r, row) in &items.rows {
        let code = items.value(row, "实施编码").map(|d| d.to_string().trim().to_owned());
        let mut obj = Map::new();
        for col in &ITEM_COLUMNS {
            let Some(d) = items.value(row, col) else { continue };
            let c = items.columns[*col];
            match to_json(d, col) {
                Ok(v) if *col == "表单" => match v.as_str().map(serde_json::from_str::<Value>) {
                    Some(Ok(form)) => {
                        obj.insert((*col).into(), form);
                    }
                    _ => report.at(&items, *r, Some(c), code.as_deref(), "not the kiosk form as JSON (a list of form fields)".into()),
                },
                Ok(v) => {
                    obj.insert((*col).into(), v);
                }
                Err(problem) => {
                    // Carried as text so the rest of the row is still checked; reported here.
                    obj.insert((*col).into(), json!(d.to_string()));
                    report.at(&items, *r, Some(c), code.as_deref(), problem);
                }
            }
        }
        obj.insert("申请材料".into(), json!([]));
        if let Some(code) = &code {
            if let Some(&first) = index_of.get(code) {
                let first_row = items.rows[first].0 + 1;
                report.at(&items, *r, items.columns.get("实施编码").copied(), Some(code), format!("the same 实施编码 as row {first_row}: one row per item"));
            } else {
                index_of.insert(code.clone(), rows.len());
            }
        }
        rows.push(obj);
    }
    let mut material_rows = vec![Vec::new(); rows.len()];
    if let Some(m) = &materials {
        for col in MATERIAL_COLUMNS.iter().filter(|c| **c != "材料编码" && !m.columns.contains_key(**c)) {
            report.sheet(MATERIALS_SHEET, m.header_row + 1, Some(col), "this column is missing from the header row".into());
            missing.insert((MATERIALS_SHEET, (*col).to_owned()));
        }
        for (r, row) in &m.rows {
            let code = m.value(row, "实施编码").map(|d| d.to_string().trim().to_owned());
            let Some(n) = code.as_ref().and_then(|c| index_of.get(c).copied()) else {
                if let (Some(c), Some(&col)) = (&code, m.columns.get("实施编码")) {
                    report.at(m, *r, Some(col), Some(c), format!("no item on the {ITEMS_SHEET} sheet has 实施编码 {c}"));
                } else if let Some(&col) = m.columns.get("实施编码") {
                    report.at(m, *r, Some(col), None, "empty: which item's material is this?".into());
                }
                continue;
            };
            let mut obj = Map::new();
            for col in MATERIAL_COLUMNS.iter().skip(1) {
                let Some(d) = m.value(row, col) else { continue };
                match to_json(d, col) {
                    Ok(v) => {
                        obj.insert((*col).into(), v);
                    }
                    Err(problem) => {
                        obj.insert((*col).into(), json!(d.to_string()));
                        report.at(m, *r, Some(m.columns[*col]), code.as_deref(), problem);
                    }
                }
            }
            if let Some(Value::Array(list)) = rows[n].get_mut("申请材料") {
                list.push(Value::Object(obj));
            }
            material_rows[n].push(*r);
        }
    }
    root.insert(ITEMS_SHEET.into(), Value::Array(rows.into_iter().map(Value::Object).collect()));
    Some(Layout { export: Value::Object(root), items, materials, material_rows, missing })
}

/// The catalog the workbook describes, or every problem found in it.
pub fn convert(bytes: &[u8], previous: Option<&Catalog>) -> Result<Catalog, Vec<CellError>> {
    let mut report = Report::default();
    let Some(layout) = read(bytes, &mut report) else {
        return Err(report.errors);
    };
    if layout.export.get("version").is_none() {
        // Reported while reading; the checks below still run on the items.
        let mut e = layout.export.clone();
        e["version"] = json!(1);
        place(&layout, convert_value(&e, previous).err().unwrap_or_default(), &mut report);
        return Err(report.errors);
    }
    match convert_value(&layout.export, previous) {
        Ok(c) if report.errors.is_empty() => Ok(c),
        Ok(_) => Err(report.errors),
        Err(errors) => {
            place(&layout, errors, &mut report);
            Err(report.errors)
        }
    }
}

/// Puts the JSON validation's problems where they are in the workbook.
fn place(layout: &Layout, errors: Vec<RowError>, report: &mut Report) {
    for e in errors {
        let item_row = e.row.checked_sub(1).and_then(|n| layout.items.rows.get(n).map(|(r, _)| *r));
        let Some(r) = item_row else {
            report.sheet("(workbook)", 0, None, format!("{}: {}", e.field, e.problem));
            continue;
        };
        // `申请材料[2].材料来源`: the item's second material row.
        if let Some(rest) = e.field.strip_prefix("申请材料[") {
            let (j, col) = rest.split_once("].").unwrap_or((rest, ""));
            let mr = j.parse::<usize>().ok().and_then(|j| layout.material_rows.get(e.row - 1)?.get(j.checked_sub(1)?).copied());
            if let (Some(m), Some(mr)) = (&layout.materials, mr) {
                if !layout.missing.contains(&(MATERIALS_SHEET, col.to_owned())) {
                    report.at(m, mr, m.columns.get(col).copied(), e.code.as_deref(), e.problem);
                }
                continue;
            }
        }
        if layout.missing.contains(&(ITEMS_SHEET, e.field.clone())) {
            continue; // Said once for the header row.
        }
        report.at(&layout.items, r, layout.items.columns.get(&e.field).copied(), e.code.as_deref(), format!("{}{}", if layout.items.columns.contains_key(&e.field) { "" } else { "(column missing) " }, e.problem));
    }
}

/// A problem in either layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Json(RowError),
    #[error("{0}")]
    Xlsx(CellError),
}

/// `hub catalog import FILE`: a workbook (a ZIP, as every XLSX is) or the
/// JSON export.
pub fn convert_file(bytes: &[u8], previous: Option<&Catalog>) -> Result<Catalog, Vec<Problem>> {
    if bytes.starts_with(b"PK\x03\x04") {
        return convert(bytes, previous).map_err(|e| e.into_iter().map(Problem::Xlsx).collect());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| vec![Problem::Json(RowError { row: 0, code: None, field: "(file)".into(), problem: "neither an XLSX workbook nor UTF-8 JSON".into() })])?;
    crate::catalog_import::convert(text, previous).map_err(|e| e.into_iter().map(Problem::Json).collect())
}
