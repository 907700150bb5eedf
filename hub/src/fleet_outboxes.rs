//! The fleet page's section on what waits for the provincial platform:
//! texts, ratings and mail orders the hub retries by itself, and those
//! refused or given up, which need a person (`hub case open` shows a
//! case's mail order; the SMS and rating commands theirs).

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::fleet::ago;
use crate::store::Backlog;

fn name(outbox: &str) -> &'static str {
    match outbox {
        "sms" => "短信 texts to villagers",
        "ratings" => "好差评 ratings to the platform",
        _ => "邮寄 result mail orders",
    }
}

/// The section; every outbox is listed, empty ones too (an empty row says
/// nothing waits, which is what staff check for).
pub fn section(backlog: &[Backlog], now: OffsetDateTime) -> String {
    let mut h = String::from(
        "<h2>发往省平台 · Waiting for the platform</h2>\n<table><tr><th>队列 outbox</th><th>待发 pending</th><th>最早 oldest</th><th>被拒/放弃 (30 天) refused or given up</th></tr>\n",
    );
    for b in backlog {
        let oldest = b.oldest_pending.map(|t| ago((now - t).whole_seconds())).unwrap_or_else(|| "—".into());
        // Pending for a day is an outage worth a look; given up needs a person.
        let class = if b.given_up > 0 {
            "stale"
        } else if b.oldest_pending.is_some_and(|t| now - t > time::Duration::days(1)) {
            "attention"
        } else {
            "ok"
        };
        let _ = writeln!(h, "<tr class=\"{class}\"><td>{}</td><td class=\"cond\">{}</td><td>{oldest}</td><td>{}</td></tr>", name(b.outbox), b.pending, b.given_up);
    }
    h.push_str("</table>\n");
    h
}
