//! `hub catalog import`: the platform's export with GB/T 39046 names, every
//! bad row and field reported; translations and forms kept from before.

use hub::catalog_import::convert;
use model::{Catalog, Lang};
use serde_json::{json, Value};

/// The export row the platform would send for a starter item.
pub fn row(c: &Catalog, code: &str) -> Value {
    let i = c.item(code).unwrap();
    let limit = |t: &model::catalog::TimeLimit| t.label_zh().replace("天", "天");
    json!({
        "实施编码": code, "事项名称": i.name.get(Lang::ZhCn), "实施主体名称": i.department.get(Lang::ZhCn),
        "主题分类": i.theme, "事项类型": "公共服务", "设定依据": i.legal_basis.get(Lang::ZhCn),
        "办理地点": i.location.get(Lang::ZhCn), "咨询电话": i.phone, "受理条件": i.conditions.get(Lang::ZhCn),
        "申请材料": i.materials.iter().map(|m| json!({"材料编码": m.code, "材料名称": m.name.get(Lang::ZhCn), "原件份数": m.originals,
            "复印件份数": m.copies, "是否必要": if m.required { "是" } else { "否" }, "材料来源": "扫描"})).collect::<Vec<_>>(),
        "法定办结时限": limit(&i.legal_time_limit), "承诺办结时限": limit(&i.promised_time_limit),
        "办件结果类型": "登记备案", "收费": "否", "办理形式": "自助"
    })
}

#[test]
fn an_export_becomes_a_catalog_keeping_forms_and_translations() {
    let starter = Catalog::starter();
    let two = json!({"version": starter.version + 1, "事项": [row(&starter, "620000RS0001"), row(&starter, "620000YB0001")]});
    // Bundles kept from before must still find their items: said, not dropped.
    let err = convert(&two.to_string(), Some(&starter)).unwrap_err();
    assert_eq!(err[0].to_string(), "row 0, (catalog): bundle 620000YJS001 names item 620000RS0002, which the catalog does not hold");
    let mut export = two.clone();
    export["bundles"] = json!([]);
    let c = convert(&export.to_string(), Some(&starter)).unwrap();
    assert_eq!(c.items.len(), 2);
    let card = c.item("620000RS0001").unwrap();
    assert_eq!(card.form, starter.item("620000RS0001").unwrap().form, "the kiosk form is kept");
    assert_eq!(card.name.get(Lang::Bo), starter.item("620000RS0001").unwrap().name.get(Lang::Bo), "translations kept");
    assert!(card.source.checked && card.source.guide.contains("row 1"));
    assert_eq!(c.themes, starter.themes);
}

#[test]
fn every_bad_row_and_field_is_reported() {
    let starter = Catalog::starter();
    let mut bad = row(&starter, "620000RS0001");
    bad["事项类型"] = json!("行政许可证");
    bad["承诺办结时限"] = json!("很快");
    bad["申请材料"][1]["是否必要"] = json!("可能");
    bad.as_object_mut().unwrap().remove("咨询电话");
    let mut new_item = row(&starter, "620000YB0001");
    new_item["实施编码"] = json!("620000YB0999");
    new_item["收费"] = json!("十元");
    let export = json!({"version": starter.version + 1, "事项": [row(&starter, "620000MZ0001"), bad, new_item, row(&starter, "620000MZ0001")]});
    let errors = convert(&export.to_string(), Some(&starter)).unwrap_err();
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for expected in [
        "row 2 (620000RS0001), 咨询电话: missing or empty",
        "row 2 (620000RS0001), 事项类型: \"行政许可证\" is not one of 行政许可、行政给付、行政确认、公共服务、其他行政权力",
        "row 2 (620000RS0001), 承诺办结时限: \"很快\" is not 即办, N个工作日 or N天",
        "row 2 (620000RS0001), 申请材料[2].是否必要: Some(\"可能\") is not 是 or 否",
        "row 3 (620000YB0999), 收费: \"十元\" is not 否 or an amount like 10元",
        "row 3 (620000YB0999), 表单: a new item needs its kiosk form (表单), the platform export has none",
        "row 4 (620000MZ0001), 实施编码: the same code as row 1: one row per item",
    ] {
        assert!(lines.iter().any(|l| l == expected), "missing {expected:?} in {lines:#?}");
    }
    assert_eq!(lines.len(), 7, "{lines:#?}");
}
