//! Staged rollouts of a published update (issue 19), as pure decisions:
//! who is in which stage, when the next stage opens, when the rollout halts
//! itself. The store keeps the state (`sqlite/rollouts.rs`); the heartbeat
//! handler asks it for each terminal's target and hands it their reports.
//!
//! A rollout is a list of stages: a named pilot set, a county, or a
//! percentage of all terminals (the same terminals for a version every time
//! it is asked: a hash of version and terminal id). Stages open one after
//! another: the next opens when every terminal of the open ones has
//! reported the version installed and healthy, except terminals not heard
//! from for [`OFFLINE_AFTER`]: at 20,000 kiosks some are always without
//! power or link, and waiting for them would stall every rollout. They are
//! not skipped for good: open stages stay open, and the rollout is done
//! only when they have installed too, so a terminal back online is offered
//! the version then. At least
//! one terminal must have reported healthy before a stage opens: offline
//! terminals are never evidence. As soon as `max_failures`
//! terminals report it failed, the rollout halts and no terminal is offered
//! it any more; the failed ones rolled back by themselves (deploy's
//! updater), so halting asks nothing of them. Staff pause (nothing new is
//! offered, resume goes on) or halt (final) by hand.

use serde::{Deserialize, Serialize};
use time::Duration;
use model::submission::sha256_hex;
use model::VillageCode;

/// A terminal not heard from for this long is not waited for (see above).
pub const OFFLINE_AFTER: Duration = Duration::hours(24);

/// Who a stage reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Named terminals.
    Pilot(Vec<String>),
    /// Every terminal in a county (6-digit division code).
    County(String),
    /// This share of all terminals, 1..=100.
    Percent(u8),
}

impl Stage {
    /// Parses `pilot:T1,T2`, `county:622926`, `percent:20` (hub update rollout).
    pub fn parse(s: &str) -> Option<Stage> {
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "pilot" => {
                let ids: Vec<String> = rest.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
                (!ids.is_empty()).then_some(Stage::Pilot(ids))
            }
            "county" => (rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_digit())).then(|| Stage::County(rest.to_owned())),
            "percent" => rest.parse::<u8>().ok().filter(|p| (1..=100).contains(p)).map(Stage::Percent),
            _ => None,
        }
    }

    /// Whether `terminal` (in `village`) is in this stage of `version`'s rollout.
    pub fn includes(&self, version: &str, terminal: &str, village: Option<&VillageCode>) -> bool {
        match self {
            Stage::Pilot(ids) => ids.iter().any(|t| t == terminal),
            Stage::County(code) => village.is_some_and(|v| v.as_str().starts_with(code.as_str())),
            Stage::Percent(p) => bucket(version, terminal) < u32::from(*p),
        }
    }
}

/// 0..100, stable for a version and terminal, independent across versions.
fn bucket(version: &str, terminal: &str) -> u32 {
    let h = sha256_hex(format!("cunban-rollout\n{version}\n{terminal}").as_bytes());
    u32::from_str_radix(&h[..8], 16).unwrap_or(0) % 100
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    Running,
    Paused,
    /// Stopped for good, with the reason (staff, or too many failures).
    Halted(String),
    /// Every stage open and every terminal in them healthy.
    Done,
}

/// One version's rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    pub version: String,
    pub stages: Vec<Stage>,
    /// Stages `0..=open` are open.
    pub open: usize,
    pub state: RolloutState,
    /// Failed installs that halt the rollout.
    pub max_failures: u32,
}

/// A terminal as the rollout sees it, with its report for this version.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub id: &'a str,
    pub village: Option<&'a VillageCode>,
    /// None: not reported yet; Some(true): installed and healthy.
    pub healthy: Option<bool>,
    /// Heard from (heartbeat or upload) within [`OFFLINE_AFTER`], or
    /// registered within it: a kiosk just enrolled is not offline yet.
    pub live: bool,
}

/// What a change of reports did to the rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    None,
    Opened(usize),
    Done,
    Halted(String),
}

impl Rollout {
    /// Offered to `terminal` now?
    pub fn offers(&self, terminal: &str, village: Option<&VillageCode>) -> bool {
        self.state == RolloutState::Running && self.stages.iter().take(self.open + 1).any(|s| s.includes(&self.version, terminal, village))
    }

    /// Moves the rollout on after reports: halts at `max_failures` failed,
    /// opens the next stage (or finishes) when every live member of the open
    /// stages reported healthy and at least one did. `members`: every active
    /// terminal. Several stages may open at once (their members reported
    /// already): every change is returned, in order, each to be audited.
    pub fn advance(&mut self, members: &[Member<'_>]) -> Vec<Step> {
        if self.state != RolloutState::Running {
            return Vec::new();
        }
        let failed = members.iter().filter(|m| m.healthy == Some(false)).count();
        if failed as u64 >= u64::from(self.max_failures.max(1)) {
            let why = format!("{failed} terminal(s) failed the health check of {}", self.version);
            self.state = RolloutState::Halted(why.clone());
            return vec![Step { change: Change::Halted(why), not_waited_for: self.not_waited_for(members) }];
        }
        let mut steps = Vec::new();
        loop {
            let in_open: Vec<&Member<'_>> = members.iter().filter(|m| self.offers(m.id, m.village)).collect();
            let waiting = in_open.iter().any(|m| m.healthy != Some(true) && (m.live || m.healthy.is_some()));
            if waiting || !in_open.iter().any(|m| m.healthy == Some(true)) {
                return steps;
            }
            if self.open + 1 >= self.stages.len() {
                // Done only when the offline ones have installed too: until
                // then every stage stays open for them.
                if in_open.iter().any(|m| m.healthy.is_none()) {
                    return steps;
                }
                self.state = RolloutState::Done;
                steps.push(Step { change: Change::Done, not_waited_for: 0 });
                return steps;
            }
            // Counted before the stage opens: the offline ones it did not wait for.
            let not_waited_for = self.not_waited_for(members);
            self.open += 1;
            steps.push(Step { change: Change::Opened(self.open), not_waited_for });
        }
    }
}

/// One change of a rollout, with the offline terminals of the open stages
/// it did not wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub change: Change,
    pub not_waited_for: usize,
}

impl Step {
    /// The audit's words for it.
    pub fn describe(&self) -> String {
        self.change.describe(self.not_waited_for)
    }
}

impl Change {
    /// The audit's words for a change, with the offline terminals the open
    /// stages did not wait for.
    pub fn describe(&self, not_waited_for: usize) -> String {
        let offline = if not_waited_for > 0 { format!(" ({not_waited_for} terminal(s) offline for a day or more not waited for)") } else { String::new() };
        match self {
            Change::Opened(n) => format!("stage {} opened{offline}", n + 1),
            Change::Done => "every stage installed and healthy".to_owned(),
            Change::Halted(why) => format!("halted: {why}"),
            Change::None => String::new(),
        }
    }
}

impl Rollout {
    /// Members of the open stages that have not reported and are offline.
    pub fn not_waited_for(&self, members: &[Member<'_>]) -> usize {
        members.iter().filter(|m| m.healthy.is_none() && !m.live && self.stages.iter().take(self.open + 1).any(|s| s.includes(&self.version, m.id, m.village))).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The changes alone, for short asserts.
    fn ch(steps: Vec<Step>) -> Vec<Change> {
        steps.into_iter().map(|s| s.change).collect()
    }

    fn v(code: &str) -> VillageCode {
        VillageCode::parse(code).unwrap()
    }

    #[test]
    fn stages_open_one_after_another_and_failures_halt() {
        let (a, b, c) = (v("622926100201"), v("622926100202"), v("620102001001"));
        let mut r = Rollout {
            version: "0.2.0".into(),
            stages: vec![Stage::parse("pilot:T1").unwrap(), Stage::parse("county:622926").unwrap(), Stage::parse("percent:100").unwrap()],
            open: 0,
            state: RolloutState::Running,
            max_failures: 1,
        };
        let m = |h: [Option<bool>; 3]| vec![
            Member { id: "T1", village: Some(&a), healthy: h[0], live: true },
            Member { id: "T2", village: Some(&b), healthy: h[1], live: true },
            Member { id: "T3", village: Some(&c), healthy: h[2], live: true },
        ];
        assert!(r.offers("T1", Some(&a)) && !r.offers("T2", Some(&b)) && !r.offers("T3", Some(&c)));
        assert_eq!(ch(r.advance(&m([None, None, None]))), vec![]);
        assert_eq!(ch(r.advance(&m([Some(true), None, None]))), vec![Change::Opened(1)]);
        assert!(r.offers("T2", Some(&b)) && !r.offers("T3", Some(&c)));
        assert_eq!(ch(r.advance(&m([Some(true), Some(true), None]))), vec![Change::Opened(2)]);
        assert_eq!(ch(r.advance(&m([Some(true), Some(true), Some(true)]))), vec![Change::Done]);
        assert!(!r.offers("T3", Some(&c)), "a finished rollout offers nothing new");

        let mut bad = Rollout { version: "0.3.0".into(), open: 0, state: RolloutState::Running, ..r.clone() };
        assert!(matches!(ch(bad.advance(&m([Some(false), None, None]))).as_slice(), [Change::Halted(_)]));
        assert!(!bad.offers("T1", Some(&a)) && !bad.offers("T2", Some(&b)));
        assert_eq!(ch(bad.advance(&m([Some(true), Some(true), Some(true)]))), vec![], "halted stays halted");
    }

    /// Terminals that installed before their stage opened (e.g. from a
    /// USB stick) can let several stages open at once: each is its own step.
    #[test]
    fn stages_that_open_at_once_are_each_a_step() {
        let (a, b, c) = (v("622926100201"), v("622926100202"), v("620102001001"));
        let mut r = Rollout {
            version: "0.2.0".into(),
            stages: vec![Stage::parse("pilot:T1").unwrap(), Stage::parse("county:622926").unwrap(), Stage::parse("county:620102").unwrap(), Stage::parse("percent:100").unwrap()],
            open: 0,
            state: RolloutState::Running,
            max_failures: 1,
        };
        let members = [
            Member { id: "T1", village: Some(&a), healthy: Some(true), live: true },
            Member { id: "T2", village: Some(&b), healthy: Some(true), live: true },
            Member { id: "T3", village: Some(&c), healthy: Some(true), live: true },
            Member { id: "T4", village: None, healthy: None, live: true },
        ];
        let steps = r.advance(&members);
        assert_eq!(steps.iter().map(Step::describe).collect::<Vec<_>>(), ["stage 2 opened", "stage 3 opened", "stage 4 opened"]);
        assert_eq!(r.open, 3);
        let mut done = Rollout { open: 0, state: RolloutState::Running, ..r.clone() };
        let all = [Member { healthy: Some(true), ..members[3].clone() }];
        let everyone: Vec<Member<'_>> = members[..3].iter().cloned().chain(all).collect();
        assert_eq!(ch(done.advance(&everyone)), vec![Change::Opened(1), Change::Opened(2), Change::Opened(3), Change::Done]);
    }

    #[test]
    fn offline_terminals_are_not_waited_for_but_are_never_evidence() {
        let (a, b) = (v("622926100201"), v("622926100202"));
        let mut r = Rollout {
            version: "0.2.0".into(),
            stages: vec![Stage::parse("pilot:T1,T2").unwrap(), Stage::parse("county:622926").unwrap()],
            open: 0,
            state: RolloutState::Running,
            max_failures: 1,
        };
        let m = |h: [(Option<bool>, bool); 3]| vec![
            Member { id: "T1", village: Some(&a), healthy: h[0].0, live: h[0].1 },
            Member { id: "T2", village: Some(&a), healthy: h[1].0, live: h[1].1 },
            Member { id: "T3", village: Some(&b), healthy: h[2].0, live: h[2].1 },
        ];
        assert_eq!(ch(r.advance(&m([(None, false), (None, false), (None, true)]))), vec![], "a pilot all offline proves nothing");
        assert_eq!(ch(r.advance(&m([(Some(true), true), (None, true), (None, true)]))), vec![], "a live pilot is waited for");
        assert_eq!(ch(r.advance(&m([(Some(true), true), (None, false), (None, true)]))), vec![Change::Opened(1)], "an offline pilot is not");
        assert!(r.offers("T2", Some(&a)), "the offline pilot is still offered the version when it is back");
        assert_eq!(ch(r.advance(&m([(Some(true), true), (None, false), (None, false)]))), vec![], "every stage open, two offline");
        assert!(r.offers("T3", Some(&b)) && r.offers("T2", Some(&a)), "the offline ones catch up when they are back");
        assert_eq!(ch(r.advance(&m([(Some(true), true), (Some(true), true), (Some(true), true)]))), vec![Change::Done]);
        let mut late = Rollout { version: "0.3.0".into(), open: 0, state: RolloutState::Running, ..r.clone() };
        assert_eq!(ch(late.advance(&m([(Some(true), true), (Some(false), false), (None, true)]))), vec![Change::Halted("1 terminal(s) failed the health check of 0.3.0".into())], "a failure reported before going offline counts");
    }

    #[test]
    fn a_percentage_picks_the_same_terminals_each_time_and_about_that_many() {
        let s = Stage::Percent(20);
        let picked = (0..1000).filter(|i| s.includes("0.2.0", &format!("T{i}"), None)).count();
        assert!((150..250).contains(&picked), "{picked}");
        assert_eq!(s.includes("0.2.0", "T7", None), s.includes("0.2.0", "T7", None));
        assert!(Stage::parse("percent:0").is_none() && Stage::parse("county:62").is_none() && Stage::parse("pilot:").is_none());
    }
}
