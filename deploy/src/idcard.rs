//! `kioskctl idcard decode`: one captured SAM response frame, decoded for
//! field diagnosis. Personal data is masked unless `--reveal` is given.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use drivers::idcard::frame::{Decoder, Response};
use drivers::idcard::status::SamError;
use drivers::idcard::text::split_read_data;
use drivers::idcard::{Card, CardBlock, ForeignResident, ResidencePermit};
use model::identity::nation_name_zh;
use model::mask::{mask_name, mask_number};
use model::{Identity, Validity};
use serde_json::{json, Value};
use time::Date;

/// Decodes `hex_text` and prints the result as JSON. Exit 0 for a frame
/// whose card (if any) is usable, 1 for a valid frame carrying an unusable
/// card, error (exit 2) for input that is no frame.
pub fn decode(hex_text: &str, reveal: bool) -> Result<ExitCode> {
    let cleaned: String = hex_text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    let bytes = hex::decode(&cleaned).context("--hex is not hexadecimal")?;
    let mut decoder = Decoder::new();
    decoder.push(&bytes);
    let frame = match decoder.next_frame() {
        Some(Ok(f)) => f,
        Some(Err(e)) => bail!("not a valid SAM frame: {e}"),
        None => bail!("no complete SAM frame (preamble AA AA AA 96 69, length, body, checksum) in the input"),
    };
    let trailing = decoder.buffered();
    let resp = frame.into_response().context("not a SAM response")?;
    let (out, usable) = describe(&resp, reveal);
    let mut out = out;
    if trailing > 0 {
        out["trailing_bytes"] = json!(trailing);
    }
    println!("{out:#}");
    Ok(if usable { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn describe(resp: &Response, reveal: bool) -> (Value, bool) {
    let meaning = match SamError::from_status(resp.sw1, resp.sw2, resp.sw3) {
        None => "success".to_owned(),
        Some(e) => e.to_string(),
    };
    let mut out = json!({
        "status": format!("{:02X} {:02X} {:02X}", resp.sw1, resp.sw2, resp.sw3),
        "meaning": meaning,
        "data_len": resp.data.len(),
        "masked": !reveal,
    });
    let mut usable = true;
    // Only a text+photo answer carries a card.
    if let Ok((text, photo)) = split_read_data(&resp.data) {
        match CardBlock::decode(text).and_then(|b| b.to_card(photo.to_vec())) {
            Ok(card) => out["card"] = card_json(&card, reveal),
            Err(e) => {
                out["card_error"] = json!(e.to_string());
                usable = false;
            }
        }
    }
    (out, usable)
}

fn date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

fn validity(v: Validity) -> String {
    match v {
        Validity::LongTerm => "长期".into(),
        Validity::Until(d) => date(d),
    }
}

/// Birth dates are personal: masked to the year.
fn birth(d: Date, reveal: bool) -> String {
    if reveal {
        date(d)
    } else {
        format!("{:04}-**-**", d.year())
    }
}

/// Addresses are personal: the first six characters (province, city) stay.
fn address(a: &str, reveal: bool) -> String {
    if reveal {
        return a.to_owned();
    }
    let kept: String = a.chars().take(6).collect();
    if a.chars().count() > 6 {
        format!("{kept}****")
    } else {
        kept
    }
}

fn card_json(card: &Card, reveal: bool) -> Value {
    let photo = json!({ "format": "wlt", "bytes": card.photo_wlt().len() });
    let mut v = match card {
        Card::Citizen { identity, permit } => citizen_json(identity, permit.as_ref(), reveal),
        Card::Foreign(r) => foreign_json(r, reveal),
    };
    v["photo"] = photo;
    if reveal {
        v["photo"]["wlt_hex"] = json!(hex::encode(card.photo_wlt()));
    }
    v
}

fn citizen_json(id: &Identity, permit: Option<&ResidencePermit>, reveal: bool) -> Value {
    let name = if reveal { id.name.clone() } else { id.masked_name() };
    let number = if reveal { id.id_number.expose().to_owned() } else { id.id_number.masked() };
    let mut v = json!({
        "card_type": id.card_type,
        "name": name,
        "id_number": number,
        "gender": id.gender.label_zh(),
        "nation_code": id.nation_code,
        "nation": nation_name_zh(&id.nation_code),
        "birth_date": birth(id.birth_date, reveal),
        "address": address(&id.address, reveal),
        "authority": id.authority,
        "valid_from": date(id.valid_from),
        "valid_until": validity(id.valid_until),
        "region_code": id.id_number.region_code(),
        "county_known": id.id_number.county_known(),
    });
    if let Some(p) = permit {
        let pass = if reveal { p.pass_number.clone() } else { mask_number(&p.pass_number) };
        v["permit"] = json!({ "pass_number": pass, "issue_count": p.issue_count });
    }
    v
}

fn foreign_json(r: &ForeignResident, reveal: bool) -> Value {
    let m = |s: &str| if reveal { s.to_owned() } else { mask_name(s) };
    let number = if reveal { r.number.expose().to_owned() } else { r.number.masked() };
    json!({
        "card_type": r.card_type,
        "name_en": m(&r.name_en),
        "name_zh": m(&r.name_zh),
        "number": number,
        "number_check_digit_ok": r.number.check_digit_ok(),
        "gender": r.gender.label_zh(),
        "nationality": r.nationality,
        "birth_date": birth(r.birth_date, reveal),
        "valid_from": date(r.valid_from),
        "valid_until": validity(r.valid_until),
        "card_version": r.card_version,
        "issuing_office": r.issuing_office,
        "renewal_count": r.renewal_count,
        "previous_number_link": r.previous_number_link,
    })
}
