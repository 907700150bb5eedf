//! When a visit nobody attends ends (DESIGN §3, §7: no time limit without a
//! warning and a way to extend). After `timeout - warning` without a touch
//! the screen counts down, spoken and visible, with a big 继续; at `timeout`
//! the visit is dropped. Pure arithmetic here; the app's idle worker asks
//! [`IdlePolicy::check`] a few times a second.

use std::time::Duration;

use crate::session::Event;

/// When an unattended visit warns and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdlePolicy {
    /// From the last touch to the end of the visit.
    pub timeout: Duration,
    /// How long the countdown shows before that.
    pub warning: Duration,
}

impl IdlePolicy {
    /// The longest countdown: long enough to walk back to the screen.
    pub const MAX_WARNING: Duration = Duration::from_secs(30);

    /// A countdown of 30 s, or a third of a short timeout.
    pub fn for_timeout(timeout: Duration) -> IdlePolicy {
        IdlePolicy { timeout, warning: Self::MAX_WARNING.min(timeout / 3) }
    }

    /// How often to check: often enough for a smooth countdown.
    pub fn tick(&self) -> Duration {
        Duration::from_secs(1).min(self.warning / 4).max(Duration::from_millis(50))
    }

    /// What `idle` time without a touch means on a screen away from home.
    pub fn check(&self, idle: Duration) -> Option<Event> {
        if idle >= self.timeout {
            return Some(Event::IdleTimeout);
        }
        let left = self.timeout - idle;
        if left <= self.warning {
            // Whole seconds, rounded up: "1" shows until the very end.
            let seconds_left = left.as_millis().div_ceil(1000).max(1) as u32;
            return Some(Event::IdleWarning { seconds_left });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_for_the_last_thirty_seconds_then_ends() {
        let p = IdlePolicy::for_timeout(Duration::from_secs(120));
        assert_eq!(p.warning, Duration::from_secs(30));
        assert!(p.check(Duration::from_secs(89)).is_none());
        assert!(matches!(p.check(Duration::from_secs(90)), Some(Event::IdleWarning { seconds_left: 30 })));
        assert!(matches!(p.check(Duration::from_millis(119_500)), Some(Event::IdleWarning { seconds_left: 1 })));
        assert!(matches!(p.check(Duration::from_secs(120)), Some(Event::IdleTimeout)));
        assert_eq!(p.tick(), Duration::from_secs(1));
    }

    #[test]
    fn short_timeouts_get_a_proportionate_countdown() {
        let p = IdlePolicy::for_timeout(Duration::from_secs(3));
        assert_eq!(p.warning, Duration::from_secs(1));
        assert_eq!(p.tick(), Duration::from_millis(250));
        assert!(p.check(Duration::from_millis(1900)).is_none());
        assert!(matches!(p.check(Duration::from_millis(2100)), Some(Event::IdleWarning { seconds_left: 1 })));
    }
}
