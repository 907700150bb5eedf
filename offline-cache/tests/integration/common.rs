//! Fixtures shared by the integration tests.


use model::submission::AttachmentRef;
use model::{Submission, SubmissionId, VillageCode};

/// The sample filing every crate's tests use (model's `fixtures`).
pub fn submission(attachments: Vec<AttachmentRef>) -> Submission {
    model::fixtures::sample_submission(attachments)
}

/// A submission with one scanned attachment, and the bytes to enqueue with it.
pub fn with_scan(content: &[u8]) -> (Submission, Vec<(AttachmentRef, Vec<u8>)>) {
    let r = AttachmentRef::for_bytes("hukou", "application/pdf", content);
    (submission(vec![r.clone()]), vec![(r, content.to_vec())])
}

/// A platform key pair for one test: the outbox seals to its public half,
/// the test plays the platform with the private half.
pub fn platform_key() -> model::seal::PlatformSecretKey {
    offline_cache::generate_platform_key()
}

pub fn config(key: &model::seal::PlatformSecretKey) -> offline_cache::OutboxConfig {
    let mut c = offline_cache::OutboxConfig::new(key.public_key(), "T-0001");
    // Tests run on whatever disk CI has; the reserve test sets its own.
    c.disk_reserve_bytes = 0;
    c
}

/// An outbox at `dir/outbox.db` and the platform key it seals to.
pub fn open(dir: &std::path::Path) -> (offline_cache::Outbox, model::seal::PlatformSecretKey) {
    let key = platform_key();
    let outbox = offline_cache::Outbox::open(&dir.join("outbox.db"), config(&key)).unwrap();
    (outbox, key)
}

/// Opens what the outbox stored for `id`, as the platform would.
pub fn unseal(outbox: &offline_cache::Outbox, key: &model::seal::PlatformSecretKey, id: SubmissionId) -> Submission {
    let copy = outbox.sealed_copy(id).unwrap().expect("sealed copy present");
    let env = model::seal::SealedEnvelope::from_bytes(&copy.envelope).unwrap();
    model::seal::open_envelope(key, &env).unwrap().submission
}

/// Every byte of the database and its WAL, as a thief copying the data
/// directory would get them.
pub fn raw_files(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("outbox.db") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A device identity for the tests' terminal.
pub fn identity() -> offline_cache::DeviceIdentity {
    offline_cache::DeviceIdentity::generate("T-0001").unwrap()
}

/// Trusts `identity` on `hub`, as a technician's registration would.
pub async fn register(hub: &hub::Hub, identity: &offline_cache::DeviceIdentity) {
    hub.register_terminal(hub::NewTerminal {
        id: identity.terminal_id().to_owned(),
        public_key: identity.public_key(),
        village_code: Some(VillageCode::parse("622926100202").unwrap()),
        label: None,
    })
    .await
    .unwrap();
}

/// Short timeouts: tests should fail fast, not wait on a 4G budget.
pub fn quick() -> offline_cache::SyncConfig {
    offline_cache::SyncConfig {
        connect_timeout: std::time::Duration::from_secs(2),
        read_timeout: std::time::Duration::from_millis(500),
        request_timeout: std::time::Duration::from_secs(5),
        ..offline_cache::SyncConfig::default()
    }
}

/// A sync client for a fresh terminal identity registered on `hub`. It
/// pins the hub's signing key, as enrollment would, unless `config` names one.
pub async fn client(hub: &hub::Hub, config: offline_cache::SyncConfig) -> offline_cache::SyncClient {
    let id = identity();
    register(hub, &id).await;
    let config = offline_cache::SyncConfig { hub_key: config.hub_key.or(Some(hub.signing_public_key())), ..config };
    offline_cache::SyncClient::with_config(&hub.base_url(), id, config).unwrap()
}

/// One terminal's outbox and registered sync client against a fresh hub on
/// loopback, all in one temp dir: where most sync tests start.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub outbox: offline_cache::Outbox,
    pub key: model::seal::PlatformSecretKey,
    pub hub: hub::Hub,
    pub client: offline_cache::SyncClient,
}

impl Rig {
    pub async fn start() -> Rig {
        Self::with_sync(quick()).await
    }

    /// The same, with the client configured by `config` (a catalog key, say).
    pub async fn with_sync(config: offline_cache::SyncConfig) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let (outbox, key) = open(dir.path());
        let hub = hub::Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db")).await.unwrap();
        let client = client(&hub, config).await;
        Rig { dir, outbox, key, hub, client }
    }
}
