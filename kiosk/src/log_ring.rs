//! The kiosk's last log lines, kept in memory for remote diagnostics
//! (issue 19): a second `tracing` output that writes into a ring of
//! [`LogRing::CAPACITY`] lines. The journal stays the real log; this ring
//! exists because the kiosk user may not read the system journal (and
//! should not: other services log there). Lines are masked as they come
//! in, and the sync client masks them again before a bundle leaves
//! (`model::mask::mask_free_text`).

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use offline_cache::DiagnosticsSource;
use tracing_subscriber::fmt::MakeWriter;

/// Shared ring of formatted log lines, oldest first.
#[derive(Clone, Default)]
pub struct LogRing(Arc<Mutex<VecDeque<String>>>);

impl LogRing {
    /// Lines kept.
    pub const CAPACITY: usize = 500;

    /// The lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}

/// One event's text, added to the ring when the formatter is done with it.
pub struct RingLine {
    ring: LogRing,
    buf: Vec<u8>,
}

impl io::Write for RingLine {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for RingLine {
    fn drop(&mut self) {
        // Masked on the way in too: a line that wrongly carried personal data
        // does not keep it in memory past the visit either.
        let line = model::mask::mask_free_text(String::from_utf8_lossy(&self.buf).trim_end());
        if line.is_empty() {
            return;
        }
        let mut ring = self.ring.0.lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() == LogRing::CAPACITY {
            ring.pop_front();
        }
        ring.push_back(line);
    }
}

impl<'a> MakeWriter<'a> for LogRing {
    type Writer = RingLine;

    fn make_writer(&'a self) -> RingLine {
        RingLine { ring: self.clone(), buf: Vec::new() }
    }
}

impl DiagnosticsSource for LogRing {
    /// The device checks are in the bundle already (the device table the
    /// workers report); the kiosk adds none of its own here.
    fn selftest(&self) -> Vec<String> {
        Vec::new()
    }

    fn recent_logs(&self) -> Vec<String> {
        self.lines()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

    #[test]
    fn the_ring_keeps_the_last_lines_as_formatted() {
        let ring = LogRing::default();
        let subscriber = tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(ring.clone()));
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..(LogRing::CAPACITY + 3) {
                tracing::info!(n = i, "line");
            }
        });
        let lines = ring.recent_logs();
        assert_eq!(lines.len(), LogRing::CAPACITY);
        assert!(lines[0].contains("n=3") && lines.last().unwrap().contains(&format!("n={}", LogRing::CAPACITY + 2)), "{:?}", &lines[..2]);
    }
}
