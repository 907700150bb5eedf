//! The window tests' harness is ui's (`ui::testing`, one for every crate);
//! this adds where this crate's snapshots go: `<target>/journey/<test>/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use drivers::SamSimulator;
use kiosk::app::{App, Parts};
use kiosk::config::PrinterConfig;
use kiosk::devices::{Printer, Reader};
use kiosk::session::Session;
use offline_cache::{Outbox, SyncClient};

pub use ui::testing::*;

/// Numbered snapshots of one test's window under `<target>/journey/<name>/`.
pub fn shots(name: &str) -> Shots {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    Shots::in_dir(target.parent().map_or_else(|| target.clone(), PathBuf::from).join("journey").join(name))
}

/// Starts the kiosk app on `rt` as the end-to-end tests run it: cards from
/// `sim` through the real reader driver, receipts appended to `receipts`,
/// background sync only hourly (a test syncs when it decides to), and no
/// idle wipe within a test (10 minutes).
pub fn start_app(
    rt: &tokio::runtime::Runtime,
    session: Session,
    outbox: Arc<Outbox>,
    sync: SyncClient,
    sim: &SamSimulator,
    receipts: &Path,
) -> App {
    App::start(
        Parts {
            session,
            outbox,
            sync,
            card: Box::new(Reader::new(sim.path().to_string_lossy().into_owned())),
            printer: Box::new(Printer::new(PrinterConfig::File { path: receipts.to_owned() })),
            sync_interval: Duration::from_secs(3600),
            idle_timeout: Duration::from_secs(600),
        },
        rt.handle().clone(),
        Box::new(|_| {}),
        Box::new(|_| {}),
    )
}
