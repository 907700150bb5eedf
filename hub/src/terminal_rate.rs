//! How fast one terminal may call the hub: a guard against a terminal
//! whose kiosk process was taken over (it holds the device key) flooding
//! the hub, and the database every terminal shares, with signed requests.
//!
//! Taken after the signature is checked, so only the terminal itself can
//! use up its allowance (an id in a header is not enough to starve another
//! terminal), and before its nonce is written, so a flood writes nothing.
//! A token bucket per terminal, in this process: a limit that is not
//! shared between instances lets a terminal N times the rate behind N
//! instances, which still bounds it, whereas a shared bucket would cost a
//! database write per request, the very load this guard is for. (The
//! enrollment limit is shared: it guards the guessing of codes.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests per second and burst: far above what a kiosk does (a heartbeat
/// every few minutes; a van's sync round a few dozen requests a second,
/// two in flight), far below what one instance serves.
pub const DEFAULT_RATE: (f64, f64) = (100.0, 1000.0);

pub struct TerminalRate {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<Buckets>,
}

struct Buckets {
    /// (tokens, when counted).
    map: HashMap<String, (f64, Instant)>,
    /// Full buckets are dropped once the map has grown past this.
    prune_at: usize,
}

impl TerminalRate {
    pub fn new(per_sec: f64, burst: f64) -> TerminalRate {
        let per_sec = per_sec.max(0.001);
        TerminalRate { per_sec, burst: burst.max(1.0), buckets: Mutex::new(Buckets { map: HashMap::new(), prune_at: 1024 }) }
    }

    /// Takes one request's token for `terminal`; `Err` with how long until
    /// the next one is there.
    pub fn take(&self, terminal: &str, now: Instant) -> Result<(), Duration> {
        // Counters only: consistent even if a holder panicked.
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.map.len() >= b.prune_at {
            let (per_sec, burst) = (self.per_sec, self.burst);
            b.map.retain(|_, (tokens, at)| *tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec < burst);
            b.prune_at = (b.map.len() * 2).max(1024);
        }
        let (tokens, at) = b.map.entry(terminal.to_owned()).or_insert((self.burst, now));
        let refilled = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * self.per_sec).min(self.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(Duration::from_secs_f64((1.0 - refilled) / self.per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_gets_its_burst_then_its_rate_and_others_are_untouched() {
        let r = TerminalRate::new(10.0, 5.0);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(r.take("GS-0001", t0).is_ok());
        }
        let wait = r.take("GS-0001", t0).unwrap_err();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100), "{wait:?}");
        assert!(r.take("GS-0002", t0).is_ok(), "another terminal has its own bucket");
        assert!(r.take("GS-0001", t0 + Duration::from_millis(100)).is_ok(), "a tenth of a second later: one more");
        assert!(r.take("GS-0001", t0 + Duration::from_millis(100)).is_err());
        for i in 0..5 {
            assert!(r.take("GS-0001", t0 + Duration::from_secs(10)).is_ok(), "refilled to the burst, not past it ({i})");
        }
        assert!(r.take("GS-0001", t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn idle_terminals_are_forgotten_and_the_map_stays_bounded() {
        let r = TerminalRate::new(1000.0, 2.0);
        let t0 = Instant::now();
        for i in 0..5000 {
            r.take(&format!("T{i}"), t0 + Duration::from_millis(i)).unwrap();
        }
        let held = r.buckets.lock().unwrap().map.len();
        assert!(held < 2100, "full buckets are pruned as the map grows: {held}");
    }
}
