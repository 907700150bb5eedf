//! The kiosk's ports: the devices as the app needs them, how events get
//! back to the app, and the state the app shares with the screens. A leaf:
//! `app`, `devices`, `visit`, `diagnostics` and the UI glue all use it, and
//! it uses none of them, so the arrows between them point one way.

use std::sync::{Arc, Mutex};

use offline_cache::{Outbox, SyncClient};
use tokio::runtime::Handle;

use crate::session::{Event, ReceiptData};
use model::Identity;

/// The ID card reader as the kiosk needs it. Errors are plain sentences for
/// the villager (no personal data).
pub trait CardSource: Send + 'static {
    /// A card put on the reader since the last poll (each card once).
    fn poll(&mut self) -> Result<Option<Identity>, String>;
    /// Reading starts for a new step: a card already lying on the reader
    /// counts as put on.
    fn restart(&mut self) {}
}

/// The receipt printer as the kiosk needs it.
pub trait ReceiptSink: Send + 'static {
    /// Prints one receipt; an error is a plain Chinese sentence for the villager.
    fn print(&mut self, receipt: &ReceiptData) -> Result<(), String>;
}

/// The A4 printer as the result-printing journey needs it. Errors are
/// plain Chinese sentences for the villager.
pub trait DocumentPrinter: Send + 'static {
    /// Prints a PDF and waits until the printer has finished it.
    fn print_pdf(&mut self, pdf: Vec<u8>, title: &str) -> Result<(), String>;
}

/// Where the answers of effects go: the app, which feeds them to the
/// session (`App::dispatch`). Workers hold a clone.
pub trait Dispatch: Clone + Send + Sync + 'static {
    /// Hands an event to the session (from any thread).
    fn dispatch(&self, event: Event);
}

/// The link and the queue, for the footer (the UI words it in the
/// villager's language: `ui_glue::set_link_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkStatus {
    /// None until the first sync attempt.
    pub online: Option<bool>,
    /// Filings saved on this terminal that the hub does not have yet.
    pub unsent: u64,
}

/// What diagnostics read and test (from `App::diagnostics_parts`).
pub struct DiagnosticsParts {
    /// The outbox, for queue counts and its checks.
    pub outbox: Arc<Outbox>,
    /// The sync client, for the hub connection test.
    pub sync: Arc<SyncClient>,
    /// The ID card reader, shared with the app (the reader test locks it).
    pub card: Arc<Mutex<Box<dyn CardSource>>>,
    /// The receipt printer, shared with the app (for the test receipt).
    pub printer: Arc<Mutex<Box<dyn ReceiptSink>>>,
    /// The runtime to run the tests on.
    pub rt: Handle,
}
