//! The fleet page for the operations centre: one row per terminal with its
//! village, when it was last heard from, its queue and its devices. Stale
//! terminals come first and stand out in words and colour (colour is never
//! the only cue). Plain HTML, no script: it must work on any browser in a
//! county office.

use std::fmt::Write as _;
use std::time::Duration;

use model::protocol::DeviceState;
use time::OffsetDateTime;

use crate::store::{DiagnosticsRecord, TerminalRecord, TerminalStatus};

/// A queue older than this is worth a technician's look even when the
/// terminal is in touch (a van's day offline is normal, three are not).
const QUEUE_WARN_SECS: u64 = 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Condition {
    /// Its audit chain stopped extending what the hub anchored (entries
    /// deleted, rewritten, an older disk restored): someone must look, first.
    AuditBroken,
    /// Not heard from within the staleness limit (or never).
    Stale,
    /// In touch, but something needs a look (device, quarantine, old queue).
    Attention,
    Ok,
    Revoked,
}

pub fn condition(t: &TerminalRecord, now: OffsetDateTime, stale_after: Duration) -> Condition {
    if t.status == TerminalStatus::Revoked {
        return Condition::Revoked;
    }
    // Staff acknowledged every break (fleet page): the row goes back to
    // what the rest says; the breaks stay listed with who, when and why.
    if t.audit_breaks.iter().any(|b| b.acknowledged.is_none()) {
        return Condition::AuditBroken;
    }
    let stale_after = time::Duration::try_from(stale_after).unwrap_or(time::Duration::MAX);
    let seen = t.last_heartbeat.as_ref().map(|(at, _)| *at).into_iter().chain(t.last_seen_at).max();
    match seen {
        None => return Condition::Stale,
        Some(at) if now - at > stale_after => return Condition::Stale,
        _ => {}
    }
    if let Some((_, hb)) = &t.last_heartbeat {
        let device_trouble = hb.devices.iter().any(|d| d.state != DeviceState::Ok);
        let queue_old = hb.queue.oldest_unsent_secs.is_some_and(|s| s > QUEUE_WARN_SECS);
        if device_trouble || queue_old || hb.queue.quarantined > 0 || !hb.alerts.is_empty() {
            return Condition::Attention;
        }
    }
    Condition::Ok
}

pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "3 分钟前 · 3 min ago" style, coarse on purpose.
pub(crate) fn ago(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=59 => format!("{secs} 秒前 · {secs} s ago"),
        60..=3599 => format!("{} 分钟前 · {} min ago", secs / 60, secs / 60),
        3600..=172_799 => format!("{} 小时前 · {} h ago", secs / 3600, secs / 3600),
        _ => format!("{} 天前 · {} days ago", secs / 86_400, secs / 86_400),
    }
}

fn span(secs: u64) -> String {
    match secs {
        0..=3599 => format!("{} 分钟 · {} min", secs / 60, secs / 60),
        3600..=172_799 => format!("{} 小时 · {} h", secs / 3600, secs / 3600),
        _ => format!("{} 天 · {} days", secs / 86_400, secs / 86_400),
    }
}

fn stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::macros::offset!(+8));
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// The whole page.
pub fn render(terminals: &[TerminalRecord], now: OffsetDateTime, stale_after: Duration) -> String {
    render_with(terminals, &[], now, stale_after)
}

/// The whole page, with each terminal's diagnostics requests (newest first).
pub fn render_with(terminals: &[TerminalRecord], diagnostics: &[DiagnosticsRecord], now: OffsetDateTime, stale_after: Duration) -> String {
    render_inner(terminals, diagnostics, now, stale_after, None)
}

/// Terminals per page of `/fleet`.
pub const PAGE_SIZE: u64 = 200;

/// Where a page of the fleet stands: the filter and counts over every
/// matching terminal (the store computes them, see `FleetQuery`).
#[derive(Debug, Clone)]
pub struct Paging<'a> {
    /// From 1.
    pub page: u64,
    pub place: Option<&'a str>,
    pub total: u64,
    pub broken: u64,
    pub stale: u64,
}

/// One page of the fleet: its terminals, a filter by division code and links to the other pages.
pub fn render_page(page: &crate::store::FleetPage, paging: &Paging<'_>, diagnostics: &[DiagnosticsRecord], now: OffsetDateTime, stale_after: Duration) -> String {
    render_inner(&page.terminals, diagnostics, now, stale_after, Some(paging))
}

/// The filter and the page links, on one line (the rows must stay in view).
fn pager(p: &Paging<'_>) -> String {
    let pages = p.total.div_ceil(PAGE_SIZE).max(1);
    let place = p.place.map(|pl| format!("&place={}", esc(pl))).unwrap_or_default();
    let mut h = format!(
        "<form method=\"get\" action=\"/fleet\" class=\"muted\">县/乡/村代码 County, township or village code <input name=\"place\" inputmode=\"numeric\" pattern=\"[0-9]{{2,12}}\" size=\"12\" value=\"{}\"> <button type=\"submit\">筛选 · filter</button> — ",
        esc(p.place.unwrap_or(""))
    );
    if p.page > 1 {
        let _ = write!(h, "<a href=\"/fleet?page={}{place}\">← 上一页 · previous</a> ", p.page - 1);
    }
    let _ = write!(h, "第 {} / {pages} 页 · page {} of {pages}", p.page, p.page);
    if p.page < pages {
        let _ = write!(h, " <a href=\"/fleet?page={}{place}\">下一页 · next →</a>", p.page + 1);
    }
    h.push_str("</form>\n");
    h
}

fn render_inner(terminals: &[TerminalRecord], diagnostics: &[DiagnosticsRecord], now: OffsetDateTime, stale_after: Duration, paging: Option<&Paging<'_>>) -> String {
    let mut rows: Vec<(Condition, &TerminalRecord)> = terminals.iter().map(|t| (condition(t, now, stale_after), t)).collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let count = |c| rows.iter().filter(|(x, _)| *x == c).count();
    let (stale, attention, ok) = (count(Condition::Stale), count(Condition::Attention), count(Condition::Ok));
    let broken = count(Condition::AuditBroken);

    let mut h = String::with_capacity(4096 + rows.len() * 800);
    h.push_str(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="60">
<title>终端运行状态 · Fleet</title>
<style>
body { font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; margin: 24px; color: #1a1a1a; background: #fff; font-size: 18px; line-height: 1.4; }
h1 { font-size: 30px; margin: 0 0 8px; }
.summary { margin: 0 0 16px; font-size: 20px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid #bbb; vertical-align: top; }
th { background: #eee; }
tr.stale td { background: #fde0dc; }
tr.stale td.cond { color: #fff; background: #b3261e; font-weight: bold; }
tr.broken td { background: #f3d6f5; }
tr.broken td.cond { color: #fff; background: #6a1b7a; font-weight: bold; }
tr.attention td.cond { color: #1a1a1a; background: #ffd966; font-weight: bold; }
tr.ok td.cond { color: #fff; background: #1e6b30; font-weight: bold; }
tr.revoked td { color: #555; }
button { font-size: 18px; padding: 8px 12px; min-height: 44px; }
.dev-bad { color: #b3261e; font-weight: bold; }
.muted { color: #555; font-size: 16px; }
</style></head><body>
<h1>终端运行状态 · Terminal fleet</h1>
"#,
    );
    match paging {
        None => {
            let _ = writeln!(
                h,
                r#"<p class="summary">共 {} 台 · {} terminals — <strong>审计链断裂 {broken} · audit broken {broken}</strong> — <strong>失联 {stale} · stale {stale}</strong> — 需处理 {attention} · attention {attention} — 正常 {ok} · ok {ok}</p>"#,
                rows.len(),
                rows.len()
            );
        }
        Some(p) => {
            // Broken and stale are counted over the whole filter; attention
            // needs each heartbeat read, so it is this page's.
            let (total, broken, stale) = (p.total, p.broken, p.stale);
            let _ = writeln!(
                h,
                r#"<p class="summary">共 {total} 台 · {total} terminals — <strong>审计链断裂 {broken} · audit broken {broken}</strong> — <strong>失联 {stale} · stale {stale}</strong> — 本页需处理 {attention} · attention on this page {attention}</p>"#
            );
            h.push_str(&pager(p));
        }
    }
    let _ = writeln!(
        h,
        r#"<p class="muted">更新于 {} (UTC+8) · 超过 {} 分钟未联系即为失联 · stale after {} min without contact</p>"#,
        stamp(now),
        stale_after.as_secs() / 60,
        stale_after.as_secs() / 60
    );
    h.push_str("<table><thead><tr><th>状态 Status</th><th>终端 Terminal</th><th>村 Village</th><th>最后联系 Last seen</th><th>待发送 Queue</th><th>最久未发 Oldest unsent</th><th>设备 Devices</th><th>版本 Versions</th><th>审计 Audit</th><th>诊断 Diagnostics</th></tr></thead><tbody>\n");
    for (cond, t) in &rows {
        let (class, label) = match cond {
            Condition::AuditBroken => ("broken", "⚠ 审计链断裂 AUDIT BROKEN"),
            Condition::Stale => ("stale", "⚠ 失联 STALE"),
            Condition::Attention => ("attention", "! 需处理 ATTENTION"),
            Condition::Ok => ("ok", "✓ 正常 OK"),
            Condition::Revoked => ("revoked", "已停用 REVOKED"),
        };
        let village = match &t.village_code {
            Some(v) => {
                let county = model::divisions::county_name(&v.as_str()[..6]).unwrap_or_default();
                format!("{} {}<br><span class=\"muted\">{}</span>", esc(county), esc(v.name().unwrap_or("")), esc(v.as_str()))
            }
            None => "<span class=\"muted\">未绑定 · not bound</span>".to_owned(),
        };
        let seen = t.last_heartbeat.as_ref().map(|(at, _)| *at).into_iter().chain(t.last_seen_at).max();
        let seen = match seen {
            Some(at) => format!("{}<br><span class=\"muted\">{}</span>", esc(&ago((now - at).whole_seconds())), stamp(at)),
            None => "从未联系 · never".to_owned(),
        };
        let (queue, oldest, devices, versions) = match &t.last_heartbeat {
            Some((_, hb)) => {
                let mut q = format!("{} 件 unsent", hb.queue.unsent);
                if hb.queue.quarantined > 0 {
                    let _ = write!(q, "<br><span class=\"dev-bad\">隔离 {} quarantined</span>", hb.queue.quarantined);
                }
                let oldest = hb.queue.oldest_unsent_secs.map(span).unwrap_or_else(|| "—".to_owned());
                let mut d = String::new();
                for dev in &hb.devices {
                    let (cls, word) = match dev.state {
                        DeviceState::Ok => ("", "正常 ok"),
                        DeviceState::Degraded => ("dev-bad", "异常 degraded"),
                        DeviceState::Absent => ("dev-bad", "缺失 absent"),
                    };
                    let _ = write!(d, "<span class=\"{cls}\">{}: {word}", esc(&dev.device));
                    if let Some(detail) = &dev.detail {
                        let _ = write!(d, " ({})", esc(detail));
                    }
                    d.push_str("</span><br>");
                }
                if let Some(free) = hb.free_disk_bytes {
                    let _ = write!(d, "<span class=\"muted\">磁盘余 {} MiB free</span>", free >> 20);
                }
                for a in &hb.alerts {
                    let _ = write!(d, "<br><span class=\"dev-bad\">{}</span>", esc(a));
                }
                let v = format!(
                    "app {}<br><span class=\"muted\">catalog {} · config {}</span>",
                    esc(&hb.app_version),
                    hb.catalog_version.map_or("—".to_owned(), |v| v.to_string()),
                    hb.config_version.map_or("—".to_owned(), |v| v.to_string())
                );
                (q, oldest, d, v)
            }
            None => ("—".into(), "—".into(), "<span class=\"muted\">无心跳 · no heartbeat</span>".into(), "—".into()),
        };
        let audit = audit_cell(t);
        let diag = diagnostics_cell(t, diagnostics.iter().filter(|d| d.terminal_id == t.id));
        let label_text = t.label.as_deref().map(|l| format!("<br><span class=\"muted\">{}</span>", esc(l))).unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr class=\"{class}\" id=\"{}\"><td class=\"cond\">{label}</td><td>{}{label_text}</td><td>{village}</td><td>{seen}</td><td>{queue}</td><td>{oldest}</td><td>{devices}</td><td>{versions}</td><td>{audit}</td><td>{diag}</td></tr>",
            esc(&t.id),
            esc(&t.id)
        );
    }
    h.push_str("</tbody></table>\n");
    if let Some(p) = paging.filter(|p| p.total > PAGE_SIZE) {
        h.push_str(&pager(p));
    }
    h.push_str("</body></html>\n");
    h
}

/// The audit column: each break in words (newest first, at most three), then
/// the head the hub holds.
fn audit_cell(t: &TerminalRecord) -> String {
    let mut c = String::new();
    for b in t.audit_breaks.iter().take(3) {
        let what = match (b.kind.as_str(), b.from_seq) {
            ("went_back", _) => "记录变少:删除或旧盘恢复 · entries deleted or an older disk restored".to_owned(),
            (_, Some(seq)) => format!("自第 {seq} 条起被改写 · rewritten from entry {seq}"),
            _ => "被改写 · rewritten".to_owned(),
        };
        let _ = write!(
            c,
            "<span class=\"dev-bad\">{what}</span><br><span class=\"muted\">中心记录 hub held #{} · 终端报告 terminal reports #{} · {}</span><br>",
            b.anchored.seq,
            b.reported.seq,
            stamp(b.at)
        );
        if let Some(a) = &b.acknowledged {
            let _ = write!(c, "<span class=\"muted\">已确认 acknowledged: {} · {} · {}</span><br>", esc(&a.by), stamp(a.at), esc(&a.why));
        }
    }
    if t.audit_breaks.iter().any(|b| b.acknowledged.is_none()) {
        let _ = write!(
            c,
            // Folded: the row stays one line tall until staff open it.
            "<details><summary>确认已核查 · acknowledge…</summary><form method=\"post\" action=\"/fleet/terminals/{}/audit-breaks\"><label>原因 why <input name=\"reason\" required maxlength=\"200\"></label> <button type=\"submit\">确认 · acknowledge</button></form></details>",
            esc(&t.id)
        );
    }
    if t.audit_breaks.len() > 3 {
        let _ = write!(c, "<span class=\"muted\">另有 {} 次 · {} more</span><br>", t.audit_breaks.len() - 3, t.audit_breaks.len() - 3);
    }
    match &t.audit_anchor {
        Some((head, at)) => {
            let _ = write!(c, "<span class=\"muted\">已锚定 anchored #{} <code>{}</code> · {}</span>", head.seq, esc(head.hash.get(..12).unwrap_or("")), stamp(*at));
        }
        None => c.push_str("<span class=\"muted\">未锚定 · not anchored</span>"),
    }
    c
}

/// The diagnostics column: the latest request's state (a download link once
/// the bundle is on the hub), and the button that asks for a new one. The
/// terminal answers at its next heartbeat; the page says so rather than
/// promising a bundle now.
fn diagnostics_cell<'a>(t: &TerminalRecord, mut requests: impl Iterator<Item = &'a DiagnosticsRecord>) -> String {
    let mut c = String::new();
    if let Some(d) = requests.next() {
        let when = stamp(d.requested_at);
        let who = esc(&d.requested_by);
        if d.complete {
            let size = d.announced.as_ref().map_or(0, |(_, n)| *n);
            let _ = write!(
                c,
                "<a href=\"/fleet/diagnostics/{}\">下载诊断包 · download bundle</a> <span class=\"muted\">({} KiB)</span><br><span class=\"muted\">{who} · {when}</span><br>",
                d.id,
                size.div_ceil(1024)
            );
        } else if d.announced.is_some() {
            let _ = write!(c, "正在上传 · uploading<br><span class=\"muted\">{who} · {when}</span><br>");
        } else {
            let _ = write!(c, "等待终端下次联系 · waits for the next heartbeat<br><span class=\"muted\">{who} · {when}</span><br>");
        }
    }
    if t.status == TerminalStatus::Active {
        let _ = write!(
            c,
            "<form method=\"post\" action=\"/fleet/terminals/{}/diagnostics\"><button type=\"submit\">请求诊断包 · request diagnostics</button></form>",
            esc(&t.id)
        );
    }
    c
}
