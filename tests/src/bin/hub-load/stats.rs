//! What a phase measured: answers by class, latencies, and the CPU the
//! server processes used (from /proc). A leaf: the other modules use it.

use std::time::Duration;

/// Answers of one phase.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Latency of every answered request (any status).
    pub lat: Vec<Duration>,
    pub ok: u64,
    /// 4xx and other non-2xx, non-5xx answers.
    pub non_2xx: u64,
    pub server_err: u64,
    /// No answer (connection refused, reset, timeout).
    pub transport: u64,
}

impl Tally {
    pub fn record(&mut self, status: Option<u16>, took: Duration) {
        match status {
            Some(s) => {
                self.lat.push(took);
                match s {
                    200..=299 => self.ok += 1,
                    500..=599 => self.server_err += 1,
                    _ => self.non_2xx += 1,
                }
            }
            None => self.transport += 1,
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.lat.extend(other.lat);
        self.ok += other.ok;
        self.non_2xx += other.non_2xx;
        self.server_err += other.server_err;
        self.transport += other.transport;
    }

    pub fn sent(&self) -> u64 {
        self.ok + self.non_2xx + self.server_err + self.transport
    }

    /// Anything but a 2xx answer.
    pub fn failures(&self) -> u64 {
        self.non_2xx + self.server_err + self.transport
    }

    /// The `p` quantile (0..1) of the latencies, in milliseconds.
    pub fn pct_ms(&mut self, p: f64) -> f64 {
        pct_ms(&mut self.lat, p)
    }
}

/// The `p` quantile (0..1) of `lat` in milliseconds (sorts it).
pub fn pct_ms(lat: &mut [Duration], p: f64) -> f64 {
    if lat.is_empty() {
        return 0.0;
    }
    lat.sort_unstable();
    let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
    lat[i].as_secs_f64() * 1000.0
}

/// Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux).
pub fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Fields of /proc/PID/stat after the command name and state (ppid, field
/// 4, is index 0).
fn stat_fields(pid: u32) -> Option<Vec<u64>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces.
    let rest = &text[text.rfind(')')? + 2..];
    Some(rest.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0)).collect())
}

/// CPU ticks `pid` used (user + system); with `reaped`, also those of its
/// children it has waited for (a PostgreSQL backend that exited).
fn ticks_of(pid: u32, reaped: bool) -> u64 {
    // ppid(4) is index 0 … utime(14) stime(15) cutime(16) cstime(17).
    stat_fields(pid).map_or(0, |f| f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0) + if reaped { f.get(12).copied().unwrap_or(0) + f.get(13).copied().unwrap_or(0) } else { 0 })
}

/// Live children of `pid` (PostgreSQL's backends are the postmaster's).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|c| stat_fields(*c).and_then(|f| f.first().copied()) == Some(u64::from(pid)))
        .collect()
}

/// A group of processes whose CPU is counted together.
#[derive(Debug, Clone, Default)]
pub struct Procs {
    /// Counted alone (hub instances, nginx).
    pub pids: Vec<u32>,
    /// Counted with every child, live or reaped (the postmaster).
    pub trees: Vec<u32>,
}

impl Procs {
    /// CPU ticks used so far.
    pub fn ticks(&self) -> u64 {
        let own: u64 = self.pids.iter().map(|p| ticks_of(*p, false)).sum();
        let trees: u64 = self.trees.iter().map(|p| ticks_of(*p, true) + children_of(*p).iter().map(|c| ticks_of(*c, false)).sum::<u64>()).sum();
        own + trees
    }

    pub fn is_empty(&self) -> bool {
        self.pids.is_empty() && self.trees.is_empty()
    }
}

/// The 1-minute load average (other engineers' builds share the machine).
pub fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| s.split_whitespace().next().map(str::to_owned)).unwrap_or_else(|| "?".into())
}

/// Cores the machine has (the CPU budget is a share of all of them).
pub fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}
