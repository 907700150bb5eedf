//! The simulated terminals: real Ed25519 device keys (derived from a seed,
//! so a run is repeatable), registered in one bulk insert, and requests
//! signed exactly as a kiosk signs them (`model::auth::RequestToSign`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use hub::simulated::SimulatedTerminal;
use model::auth::{RequestToSign, HEADER_CONTENT_SHA256, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP};
use model::protocol::{Heartbeat, QueueSnapshot};
use model::submission::sha256_hex;
use model::VillageCode;
use time::OffsetDateTime;

/// Every terminal of a run.
pub struct Fleet {
    pub terminals: Vec<SimulatedTerminal>,
    /// Makes each request's nonce unique (nonces are kept for minutes).
    nonce_base: u64,
    next_nonce: AtomicU64,
}

impl Fleet {
    /// `n` terminals `GS-L000000`…, keys derived from `seed` and the index
    /// (`hub::simulated`, as sync-bench and the hub's fleet example make them).
    pub fn new(n: usize, seed: u64) -> Fleet {
        // A fixed, valid code: cannot fail.
        let village: Vec<VillageCode> = VillageCode::parse("622926100202").ok().into_iter().collect();
        let terminals = hub::simulated::simulated_terminals(n, seed, "GS-L", &village);
        let nonce_base = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
        Fleet { terminals, nonce_base, next_nonce: AtomicU64::new(0) }
    }

    /// Registers every terminal in one transaction (`add_terminals`).
    pub fn register(&self, store: &dyn hub::Store) -> Result<Duration> {
        let t = Instant::now();
        hub::simulated::register_simulated(store, &self.terminals, Some("hub-load"), OffsetDateTime::now_utc())?;
        Ok(t.elapsed())
    }

    fn nonce(&self) -> String {
        format!("{:016x}{:016x}", self.nonce_base, self.next_nonce.fetch_add(1, Ordering::Relaxed))
    }

    /// The headers of a signed request from terminal `i`.
    pub fn sign(&self, i: usize, method: &str, path_and_query: &str, body: &[u8]) -> Vec<(&'static str, String)> {
        let t = &self.terminals[i];
        let sha = sha256_hex(body);
        let nonce = self.nonce();
        let ts = OffsetDateTime::now_utc().unix_timestamp();
        let to_sign = RequestToSign { method, path_and_query, content_range: "", body_sha256: &sha, timestamp: ts, nonce: &nonce, terminal_id: &t.id };
        // The fields are ours and valid; a failure is a bug in this tool.
        #[allow(clippy::expect_used)]
        let sig = to_sign.sign(&t.key).expect("a valid request signs");
        vec![
            (HEADER_TERMINAL, t.id.clone()),
            (HEADER_TIMESTAMP, ts.to_string()),
            (HEADER_NONCE, nonce),
            (HEADER_CONTENT_SHA256, sha),
            (HEADER_SIGNATURE, sig),
            ("content-type", "application/json".into()),
        ]
    }
}

/// A kiosk's heartbeat, as `offline-cache` sends it (counters vary a little).
pub fn heartbeat_body(i: usize, catalog_version: u64) -> Vec<u8> {
    let hb = Heartbeat {
        sent_at: OffsetDateTime::now_utc(),
        app_version: "kiosk/0.1.0".into(),
        catalog_version: Some(catalog_version),
        config_version: Some(0),
        queue: QueueSnapshot { unsent: (i % 7) as u64, quarantined: 0, acknowledged: 3, oldest_unsent_secs: Some(60), evaluations_unsent: 0 },
        free_disk_bytes: Some(10 << 30),
        devices: vec![],
        alerts: vec![],
        clock_offset_secs: 0,
        audit: None,
        update: None,
    };
    #[allow(clippy::expect_used)]
    serde_json::to_vec(&hb).expect("a heartbeat serialises")
}

/// Sends one request; its status (None: no answer) and how long it took.
pub async fn send(http: &reqwest::Client, url: String, method: reqwest::Method, headers: Vec<(&'static str, String)>, body: Vec<u8>) -> (Option<u16>, Duration) {
    let mut req = http.request(method, url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    if !body.is_empty() {
        req = req.body(body);
    }
    let start = Instant::now();
    let status = match req.send().await {
        Ok(r) => {
            let s = r.status().as_u16();
            // Read the whole answer, as a terminal does.
            r.bytes().await.ok().map(|_| s)
        }
        Err(_) => None,
    };
    (status, start.elapsed())
}
