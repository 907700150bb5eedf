//! What the kiosk hands the sync client for remote diagnostics (a leaf).

/// What the kiosk process knows that the sync client does not.
pub trait DiagnosticsSource: Send + Sync {
    /// Self-test lines: each device's check, in words.
    fn selftest(&self) -> Vec<String>;
    /// Recent log lines, oldest first (masked again before they leave).
    fn recent_logs(&self) -> Vec<String>;
}
