//! What can go wrong starting a server.

/// Why a server did not start, or a step of its set-up failed.
///
/// `Debug` prints the same sentence as `Display`, so a test's `unwrap()`
/// says what to install or where the server's log is.
#[derive(thiserror::Error)]
pub enum Error {
    /// A tool the server needs is not on this machine.
    #[error("{tool} is not installed: {hint}")]
    Missing {
        /// The program looked for.
        tool: &'static str,
        /// Where it was looked for and how to install it.
        hint: String,
    },
    /// A command of the set-up ran and failed.
    #[error("{what} failed: {output}")]
    Failed {
        /// The step.
        what: String,
        /// What it printed (stdout, then stderr), or its log.
        output: String,
    },
    /// The server did not come up.
    #[error("{what} did not start: {detail}")]
    NotStarted {
        /// The server.
        what: &'static str,
        /// Why, or where its log is.
        detail: String,
    },
    /// No free port found (see [`crate::ports`]).
    #[error("no free loopback port found after {0} tries")]
    NoPort(usize),
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// The operation.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;

/// `map_err` for I/O: the operation named.
pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}
