//! `hub catalog import FILE`: the platform's item export (JSON with the
//! GB/T 39046 Chinese field names, layout in the hub README) made into a
//! catalog. Every bad row and field is reported, not just the first, so
//! provincial staff fix their list in one pass. The platform does not
//! export kiosk forms, keywords or translations: those are kept from the
//! catalog published before for the same 实施编码, or (for a new item)
//! taken from the row's optional `表单`.

use serde_json::{json, Map, Value};

use model::Catalog;

/// One problem: the row (1-based), its code when readable, the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub code: Option<String>,
    pub field: String,
    pub problem: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(c) = &self.code {
            write!(f, " ({c})")?;
        }
        write!(f, ", {}: {}", self.field, self.problem)
    }
}

const ITEM_TYPES: [(&str, &str); 5] = [
    ("行政许可", "administrative_license"),
    ("行政给付", "administrative_payment"),
    ("行政确认", "administrative_confirmation"),
    ("公共服务", "public_service"),
    ("其他行政权力", "other"),
];
const RESULTS: [(&str, &str); 4] = [("证照", "certificate"), ("批文", "decision"), ("待遇发放", "payment"), ("登记备案", "registration")];
const SOURCES: [(&str, &str); 6] =
    [("身份证", "id_card"), ("扫描", "scan"), ("拍照", "photo"), ("人脸", "face_photo"), ("电子证照", "e_license"), ("签名", "signature")];

fn pick(table: &[(&str, &'static str)], v: &str) -> Option<&'static str> {
    table.iter().find(|(zh, _)| *zh == v).map(|(_, en)| *en)
}

fn one_of(table: &[(&str, &str)]) -> String {
    table.iter().map(|(zh, _)| *zh).collect::<Vec<_>>().join("、")
}

/// `即办`, `N个工作日`, `N天` (自然日).
fn time_limit(v: &str) -> Option<Value> {
    if v == "即办" {
        return Some(json!({"amount": 1, "unit": "immediate"}));
    }
    let (n, unit) = if let Some(n) = v.strip_suffix("个工作日") { (n, "working_days") } else { (v.strip_suffix('天')?, "natural_days") };
    let n: u32 = n.trim().parse().ok().filter(|n| *n > 0)?;
    Some(json!({"amount": n, "unit": unit}))
}

fn err(row: usize, code: Option<&str>, field: &str, problem: String) -> RowError {
    RowError { row, code: code.map(str::to_owned), field: field.to_owned(), problem }
}

/// The catalog the export describes, or every problem found in it.
pub fn convert(export: &str, previous: Option<&Catalog>) -> Result<Catalog, Vec<RowError>> {
    let root: Value = serde_json::from_str(export).map_err(|e| vec![err(0, None, "(file)", format!("not JSON: {e}"))])?;
    convert_value(&root, previous)
}

/// The same as [`convert`] on an export already read (the XLSX reader,
/// `catalog_xlsx`, builds this value from the sheets so both layouts go
/// through one validation).
pub fn convert_value(root: &Value, previous: Option<&Catalog>) -> Result<Catalog, Vec<RowError>> {
    let Some(rows) = root.get("事项").and_then(Value::as_array) else {
        return Err(vec![err(0, None, "事项", "the export has no 事项 list".into())]);
    };
    let Some(version) = root.get("version").and_then(Value::as_u64) else {
        return Err(vec![err(0, None, "version", "missing or not a positive whole number".into())]);
    };
    let mut errors = Vec::new();
    let mut items = Vec::new();
    let mut rows_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let code = row.get("实施编码").and_then(Value::as_str);
        let before = errors.len();
        if let Some(c) = code.map(str::trim).filter(|c| !c.is_empty()) {
            if let Some(first) = rows_of.insert(c, n) {
                errors.push(err(n, code, "实施编码", format!("the same code as row {first}: one row per item")));
            }
        }
        let text = |field: &str, errors: &mut Vec<RowError>| -> String {
            match row.get(field).and_then(Value::as_str).map(str::trim) {
                Some(s) if !s.is_empty() => s.to_owned(),
                _ => {
                    errors.push(err(n, code, field, "missing or empty".into()));
                    String::new()
                }
            }
        };
        let code_s = text("实施编码", &mut errors);
        let code_ok = model::ImplementCode::parse(&code_s).is_ok();
        if !code_s.is_empty() && !code_ok {
            errors.push(err(n, code, "实施编码", "not 1..24 letters or digits".into()));
        }
        let prev = previous.and_then(|p| p.item(&code_s));
        let name = text("事项名称", &mut errors);
        let dept = text("实施主体名称", &mut errors);
        let theme = text("主题分类", &mut errors);
        let basis = text("设定依据", &mut errors);
        let place = text("办理地点", &mut errors);
        let phone = text("咨询电话", &mut errors);
        let cond = text("受理条件", &mut errors);
        let mapped = |field: &str, table: &[(&str, &'static str)], errors: &mut Vec<RowError>| {
            let v = text(field, errors);
            match pick(table, &v) {
                Some(x) => x,
                None => {
                    if !v.is_empty() {
                        errors.push(err(n, code, field, format!("{v:?} is not one of {}", one_of(table))));
                    }
                    ""
                }
            }
        };
        let itype = mapped("事项类型", &ITEM_TYPES, &mut errors);
        let result = mapped("办件结果类型", &RESULTS, &mut errors);
        let limit = |field: &str, errors: &mut Vec<RowError>| {
            let v = text(field, errors);
            time_limit(&v).unwrap_or_else(|| {
                if !v.is_empty() {
                    errors.push(err(n, code, field, format!("{v:?} is not 即办, N个工作日 or N天")));
                }
                Value::Null
            })
        };
        let legal = limit("法定办结时限", &mut errors);
        let promised = limit("承诺办结时限", &mut errors);
        let fee = match row.get("收费").and_then(Value::as_str).map(str::trim) {
            Some("否" | "不收费") => json!({"kind": "free"}),
            Some(v) => match v.strip_suffix('元').and_then(|y| y.parse::<f64>().ok()).filter(|y| *y > 0.0 && y.is_finite()) {
                Some(yuan) => json!({"kind": "charged", "fen": (yuan * 100.0).round() as u64}),
                None => {
                    errors.push(err(n, code, "收费", format!("{v:?} is not 否 or an amount like 10元")));
                    Value::Null
                }
            },
            None => {
                errors.push(err(n, code, "收费", "missing".into()));
                Value::Null
            }
        };
        let availability = match row.get("办理形式").and_then(Value::as_str) {
            Some("自助") => "self_service",
            Some("代办") => "assisted_only",
            other => {
                errors.push(err(n, code, "办理形式", format!("{other:?} is not 自助 or 代办")));
                ""
            }
        };
        let mut materials = Vec::new();
        match row.get("申请材料").and_then(Value::as_array) {
            None => errors.push(err(n, code, "申请材料", "missing or not a list".into())),
            Some(list) => {
                for (j, m) in list.iter().enumerate() {
                    let at = |f: &str| format!("申请材料[{}].{f}", j + 1);
                    let mname = m.get("材料名称").and_then(Value::as_str).unwrap_or("");
                    if mname.trim().is_empty() {
                        errors.push(err(n, code, &at("材料名称"), "missing or empty".into()));
                    }
                    let count = |f: &str, errors: &mut Vec<RowError>| match m.get(f).and_then(Value::as_u64).filter(|c| *c <= 9) {
                        Some(c) => c,
                        None => {
                            errors.push(err(n, code, &at(f), "missing or not 0..9".into()));
                            0
                        }
                    };
                    let originals = count("原件份数", &mut errors);
                    let copies = count("复印件份数", &mut errors);
                    let required = match m.get("是否必要").and_then(Value::as_str) {
                        Some("是") => true,
                        Some("否") => false,
                        other => {
                            errors.push(err(n, code, &at("是否必要"), format!("{other:?} is not 是 or 否")));
                            false
                        }
                    };
                    let src = m.get("材料来源").and_then(Value::as_str).unwrap_or("");
                    let source = pick(&SOURCES, src).unwrap_or_else(|| {
                        errors.push(err(n, code, &at("材料来源"), format!("{src:?} is not one of {}", one_of(&SOURCES))));
                        ""
                    });
                    let mcode = m.get("材料编码").and_then(Value::as_str).map_or_else(|| format!("m{}", j + 1), str::to_owned);
                    // Translations of a material, and whose it is (the platform
                    // does not say), kept when its Chinese name is unchanged.
                    let prev_m = prev.and_then(|p| p.materials.iter().find(|pm| pm.name.get(model::Lang::ZhCn) == mname));
                    let mtext = prev_m.map_or_else(|| json!({"zh-CN": mname}), |pm| serde_json::to_value(&pm.name).unwrap_or(Value::Null));
                    let holder = serde_json::to_value(prev_m.map(|pm| pm.holder).unwrap_or_default()).unwrap_or(Value::Null);
                    materials.push(json!({"code": mcode, "name": mtext, "originals": originals, "copies": copies, "required": required, "source": source, "holder": holder}));
                }
            }
        }
        let form = match (row.get("表单"), prev) {
            (Some(f), _) => f.clone(),
            (None, Some(p)) => serde_json::to_value(&p.form).unwrap_or(Value::Null),
            // A bad code finds no published item; that it needs a form is no news.
            (None, None) if !code_ok => Value::Null,
            (None, None) => {
                errors.push(err(n, code, "表单", "a new item needs its kiosk form (表单), the platform export has none".into()));
                Value::Null
            }
        };
        if errors.len() > before {
            continue;
        }
        // Texts keep their translations while the Chinese is unchanged.
        let keep = |zh: &str, old: Option<&model::LocalizedText>| match old.filter(|o| o.get(model::Lang::ZhCn) == zh) {
            Some(o) => serde_json::to_value(o).unwrap_or(Value::Null),
            None => json!({"zh-CN": zh}),
        };
        let mut item = Map::new();
        item.insert("implement_code".into(), json!(code_s));
        item.insert("name".into(), keep(&name, prev.map(|p| &p.name)));
        item.insert("department".into(), keep(&dept, prev.map(|p| &p.department)));
        item.insert("theme".into(), json!(theme));
        if let Some(p) = prev {
            item.insert("keywords".into(), json!(p.keywords));
            item.insert("also_in".into(), json!(p.also_in));
        }
        item.insert("item_type".into(), json!(itype));
        item.insert("legal_basis".into(), keep(&basis, prev.map(|p| &p.legal_basis)));
        item.insert("location".into(), keep(&place, prev.map(|p| &p.location)));
        item.insert("phone".into(), json!(phone));
        item.insert("conditions".into(), keep(&cond, prev.map(|p| &p.conditions)));
        item.insert("materials".into(), Value::Array(materials));
        item.insert("form".into(), form);
        item.insert("legal_time_limit".into(), legal);
        item.insert("promised_time_limit".into(), promised);
        item.insert("result_type".into(), json!(result));
        item.insert("fee".into(), fee);
        item.insert("availability".into(), json!(availability));
        item.insert("source".into(), json!({"guide": format!("platform export, row {n}"), "checked": true}));
        items.push(Value::Object(item));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let themes = root.get("themes").cloned().or_else(|| previous.map(|p| serde_json::to_value(&p.themes).unwrap_or(Value::Null))).unwrap_or(json!([]));
    let bundles = root.get("bundles").cloned().or_else(|| previous.map(|p| serde_json::to_value(&p.bundles).unwrap_or(Value::Null))).unwrap_or(json!([]));
    let mut catalog = json!({"version": version, "themes": themes, "items": items, "bundles": bundles});
    if let Some(p) = previous {
        catalog["source_note"] = json!(p.source_note);
        catalog["translation_status"] = serde_json::to_value(&p.translation_status).unwrap_or(Value::Null);
    }
    // What the rows cannot say alone (unknown themes, bundles naming
    // removed items, a form field twice) the catalog check says.
    Catalog::from_json(&catalog.to_string()).map_err(|e| vec![err(0, None, "(catalog)", e.to_string())])
}
