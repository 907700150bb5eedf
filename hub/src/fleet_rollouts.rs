//! The fleet page's rollout section (issue 19): each rollout, where it
//! stands, and the staff's pause / resume / halt buttons (forms posting to
//! `/fleet/rollouts/{version}/{action}`, no script). Halting asks why.

use std::fmt::Write as _;

use crate::fleet::esc;
use crate::rollout::{Rollout, RolloutState, Stage};

fn stage_words(s: &Stage) -> String {
    match s {
        Stage::Pilot(ids) => format!("试点 pilot: {}", esc(&ids.join(", "))),
        Stage::County(c) => format!("县 county {}{}", esc(c), model::divisions::county_name(c).map(|n| format!(" {n}")).unwrap_or_default()),
        Stage::Percent(p) => format!("{p}% 终端 of terminals"),
    }
}

/// The section, or nothing when no update was ever rolled out.
pub fn section(rollouts: &[Rollout]) -> String {
    if rollouts.is_empty() {
        return String::new();
    }
    let mut h = String::from("<h2>更新推送 · Update rollouts</h2>\n<table><tr><th>版本 version</th><th>阶段 stages</th><th>状态 state</th><th>操作 actions</th></tr>\n");
    for r in rollouts {
        let v = esc(&r.version);
        let stages: Vec<String> = r
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}{}. {}", if i <= r.open { "▶ " } else { "" }, i + 1, stage_words(s)))
            .collect();
        let (state, class) = match &r.state {
            RolloutState::Running => ("推送中 RUNNING".to_owned(), "ok"),
            RolloutState::Paused => ("已暂停 PAUSED".to_owned(), "attention"),
            RolloutState::Halted(why) => (format!("已终止 HALTED: {}", esc(why)), "stale"),
            RolloutState::Done => ("已完成 DONE".to_owned(), "ok"),
        };
        let button = |action: &str, label: &str| format!("<form method=\"post\" action=\"/fleet/rollouts/{v}/{action}\"><button type=\"submit\">{label}</button></form>");
        let actions = match r.state {
            RolloutState::Running => format!(
                "{}<form method=\"post\" action=\"/fleet/rollouts/{v}/halt\"><label>终止原因 reason <input name=\"reason\" required maxlength=\"200\"></label> <button type=\"submit\">终止 halt</button></form>",
                button("pause", "暂停 pause")
            ),
            RolloutState::Paused => format!(
                "{}<form method=\"post\" action=\"/fleet/rollouts/{v}/halt\"><label>终止原因 reason <input name=\"reason\" required maxlength=\"200\"></label> <button type=\"submit\">终止 halt</button></form>",
                button("resume", "继续 resume")
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            h,
            "<tr class=\"{class}\" id=\"rollout-{v}\"><td>{v}</td><td>{}<br><span class=\"muted\">失败 {} 次即终止 · halts at {} failure(s)</span></td><td class=\"cond\">{state}</td><td>{actions}</td></tr>",
            stages.join("<br>"),
            r.max_failures,
            r.max_failures
        );
    }
    h.push_str("</table>\n");
    h
}
