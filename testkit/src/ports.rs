//! Free loopback ports that no other test on this machine is handed too.
//!
//! Asking the kernel for port 0 and closing the socket (the usual trick)
//! returns a port from the ephemeral range, which the kernel hands out
//! again at once as the source port of outgoing connections (the load
//! tests open thousands), and which a parallel test process may be handed
//! as well. Here a port is drawn at random from outside the ephemeral
//! range, reserved machine-wide by binding an abstract Unix socket named
//! after it (released by the kernel when this process ends, even by
//! SIGKILL), checked to be free on 127.0.0.1, and never handed out twice
//! by one process.

use std::collections::HashSet;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The reservations this process holds (kept until it exits).
static HELD: Mutex<Vec<(u16, UnixListener)>> = Mutex::new(Vec::new());

const TRIES: usize = 500;

/// The kernel's ephemeral range (`ip_local_port_range`), Linux's default if unreadable.
pub fn ephemeral_range() -> (u16, u16) {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut it = text.split_whitespace().filter_map(|v| v.parse::<u16>().ok());
    match (it.next(), it.next()) {
        (Some(lo), Some(hi)) if lo <= hi => (lo, hi),
        _ => (32768, 60999),
    }
}

/// The ports drawn from: the larger stretch of 10000–65535 outside the
/// ephemeral range.
pub fn candidate_range() -> (u16, u16) {
    let (lo, hi) = ephemeral_range();
    let below = (10_000u16, lo.saturating_sub(1));
    let above = (hi.saturating_add(1), u16::MAX);
    let len = |r: (u16, u16)| r.1.saturating_sub(r.0);
    if len(below) >= len(above) {
        below
    } else {
        above
    }
}

/// A free loopback port, reserved for this process until it exits.
pub fn free_port() -> Result<u16> {
    let (lo, hi) = candidate_range();
    let span = u64::from(hi - lo) + 1;
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    let taken: HashSet<u16> = held.iter().map(|(p, _)| *p).collect();
    let mut x = seed();
    for _ in 0..TRIES {
        // xorshift: enough to spread processes over the range.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let port = lo + (x % span) as u16;
        if taken.contains(&port) {
            continue;
        }
        let Ok(name) = SocketAddr::from_abstract_name(format!("cunban-testkit-port-{port}")) else { continue };
        let Ok(reservation) = UnixListener::bind_addr(&name) else { continue }; // another process holds it
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue; // something else listens there
        }
        held.push((port, reservation));
        return Ok(port);
    }
    Err(Error::NoPort(TRIES))
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish() | 1
}
