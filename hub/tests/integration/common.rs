//! Fixtures for the hub's tests: submissions, sealing, and a terminal that
//! signs its requests as a real one does.

use std::path::Path;

use hub::{Hub, HubOptions, NewTerminal};
use model::auth::{RequestToSign, SigningKey, HEADER_CONTENT_SHA256, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP};
use model::seal::{default_suite, seal_submission, PlatformSecretKey, Sealed};
use model::submission::{sha256_hex, AttachmentRef};
use model::{Submission, SubmissionId, VillageCode};
use reqwest::Method;
use time::OffsetDateTime;

/// The sample filing every crate's tests use (model's `fixtures`).
pub fn submission(attachments: Vec<AttachmentRef>) -> Submission {
    model::fixtures::sample_submission(attachments)
}

pub fn platform_key() -> PlatformSecretKey {
    PlatformSecretKey::generate(default_suite(), &mut rand_core::UnwrapErr(getrandom::SysRng))
}

/// Seals `sub` (with the plain bytes of its distinct attachments, in order) as a terminal would.
pub fn seal(key: &PlatformSecretKey, sub: &Submission, attachments: &[&[u8]]) -> Sealed {
    seal_submission(&key.public_key(), sub, attachments, &mut rand_core::UnwrapErr(getrandom::SysRng)).unwrap()
}

pub fn random_key() -> SigningKey {
    let mut seed = [0u8; 32];
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut seed).unwrap();
    SigningKey::from_seed(&seed)
}

pub fn nonce() -> String {
    let mut b = [0u8; 16];
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut b).unwrap();
    hex::encode(b)
}

/// A plain-HTTP client. Installs ring as rustls's provider first: when this
/// crate is built beside offline-cache, reqwest's rustls has none by default.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// What a test may change about a signed request before it goes out.
#[derive(Debug, Clone, Default)]
pub struct Tamper {
    pub timestamp: Option<i64>,
    pub nonce: Option<String>,
    /// Sign this body hash, send the real body.
    pub signed_sha256: Option<String>,
    /// Sign with this key instead.
    pub key: Option<String>,
}

/// A terminal talking to one hub, signing every request.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub terminal_id: String,
    pub key: SigningKey,
}

impl Api {
    pub fn new(hub: &Hub, terminal_id: &str) -> Api {
        Api::at(&hub.base_url(), terminal_id)
    }

    /// A terminal talking to the hub at `base` (e.g. a hub child process).
    pub fn at(base: &str, terminal_id: &str) -> Api {
        Api { http: http(), base: base.to_owned(), terminal_id: terminal_id.to_owned(), key: random_key() }
    }

    /// Registers this terminal on `hub`.
    pub async fn register(&self, hub: &Hub) {
        hub.register_terminal(NewTerminal {
            id: self.terminal_id.clone(),
            public_key: self.key.public_key(),
            village_code: Some(VillageCode::parse("622926100202").unwrap()),
            label: None,
        })
        .await
        .unwrap();
    }

    pub fn build(&self, method: Method, path: &str, range: Option<&str>, body: Vec<u8>, t: &Tamper) -> reqwest::RequestBuilder {
        let sha = sha256_hex(&body);
        let ts = t.timestamp.unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp());
        let nonce = t.nonce.clone().unwrap_or_else(nonce);
        let signed_sha = t.signed_sha256.clone().unwrap_or_else(|| sha.clone());
        let to_sign = RequestToSign {
            method: method.as_str(),
            path_and_query: path,
            content_range: range.unwrap_or(""),
            body_sha256: &signed_sha,
            timestamp: ts,
            nonce: &nonce,
            terminal_id: &self.terminal_id,
        };
        let sig = match &t.key {
            Some(k) => to_sign.sign(&SigningKey::parse(k).unwrap()).unwrap(),
            None => to_sign.sign(&self.key).unwrap(),
        };
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(HEADER_TERMINAL, &self.terminal_id)
            .header(HEADER_TIMESTAMP, ts.to_string())
            .header(HEADER_NONCE, nonce)
            .header(HEADER_CONTENT_SHA256, signed_sha)
            .header(HEADER_SIGNATURE, sig);
        if let Some(r) = range {
            req = req.header("content-range", r);
        }
        if !body.is_empty() {
            req = req.body(body);
        }
        req
    }

    pub async fn send(&self, method: Method, path: &str, body: Vec<u8>) -> reqwest::Response {
        self.build(method, path, None, body, &Tamper::default()).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(Method::GET, path, Vec::new()).await
    }

    pub async fn put_manifest(&self, id: SubmissionId, body: Vec<u8>) -> reqwest::Response {
        self.send(Method::PUT, &format!("/v1/submissions/{id}"), body).await
    }

    pub async fn put_attachment(&self, id: SubmissionId, sha256: &str, bytes: Vec<u8>) -> reqwest::Response {
        self.send(Method::PUT, &format!("/v1/submissions/{id}/attachments/{sha256}"), bytes).await
    }

    pub async fn put_range(&self, id: SubmissionId, sha256: &str, range: &str, bytes: Vec<u8>) -> reqwest::Response {
        self.build(Method::PUT, &format!("/v1/submissions/{id}/attachments/{sha256}"), Some(range), bytes, &Tamper::default())
            .send()
            .await
            .unwrap()
    }

    pub async fn commit(&self, id: SubmissionId) -> reqwest::Response {
        self.send(Method::POST, &format!("/v1/submissions/{id}/commit"), Vec::new()).await
    }
}

/// A hub on 127.0.0.1:0 with one registered terminal.
pub async fn start(dir: &Path) -> (Hub, Api) {
    start_with(dir, HubOptions::default()).await
}

pub async fn start_with(dir: &Path, options: HubOptions) -> (Hub, Api) {
    let hub = spawn_hub(dir, options).await;
    let api = Api::new(&hub, "GS-0001");
    api.register(&hub).await;
    (hub, api)
}

/// A staff member who may read the fleet page: (name, token).
pub fn staff(hub: &Hub) -> (String, String) {
    let token = hub::new_staff_token().unwrap();
    hub.store().set_staff("ops", &hub::staff_token_hash(&token), OffsetDateTime::now_utc()).unwrap();
    ("ops".to_owned(), token)
}

/// Files `sub`, sealed to `key` with the bytes of its one attachment,
/// `scan`: the manifest, the attachment whole, the commit (each accepted).
/// The sealed filing and the commit's answer.
pub async fn file_sealed(api: &Api, key: &PlatformSecretKey, sub: &Submission, scan: &[u8]) -> (Sealed, model::protocol::CommitResponse) {
    let sealed = seal(key, sub, &[scan]);
    assert_eq!(api.put_manifest(sub.id, sealed.envelope.to_bytes()).await.status(), reqwest::StatusCode::CREATED);
    let part = &sealed.attachments[0];
    assert_eq!(api.put_attachment(sub.id, &part.sha256, part.bytes.clone()).await.status(), reqwest::StatusCode::CREATED);
    let commit = api.commit(sub.id).await;
    assert_eq!(commit.status(), reqwest::StatusCode::OK);
    let answer = commit.json().await.unwrap();
    (sealed, answer)
}

/// The villager's rating of `case` sent by `api`: its id.
pub async fn rate(api: &Api, case: &model::CaseNumber, rating: model::evaluation::Rating, reasons: &[&str]) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let ev = model::protocol::EvaluationUpload {
        id,
        evaluation: model::evaluation::Evaluation { case_number: case.clone(), rating, reasons: reasons.iter().map(|r| (*r).to_owned()).collect(), text: String::new() },
        rated_at: OffsetDateTime::now_utc(),
    };
    let resp = api.send(Method::PUT, &format!("/v1/evaluations/{id}"), serde_json::to_vec(&ev).unwrap()).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    id
}

/// A heartbeat of a quiet terminal: nothing queued, no devices, no alerts, no update.
pub fn heartbeat(now: OffsetDateTime) -> model::protocol::Heartbeat {
    model::protocol::Heartbeat {
        sent_at: now,
        app_version: "kiosk/0.1.0".into(),
        catalog_version: None,
        config_version: None,
        queue: model::protocol::QueueSnapshot { unsent: 0, quarantined: 0, acknowledged: 0, oldest_unsent_secs: None, evaluations_unsent: 0 },
        free_disk_bytes: None,
        devices: vec![],
        alerts: vec![],
        clock_offset_secs: 0,
        audit: None,
        update: None,
    }
}

/// A `hub` process on `port` over the database `url`, its objects at
/// `objects` (a folder or an `s3://` URL), its signing key in `dir`, its
/// log appended to `dir/hub-PORT.log`; returned once it listens.
pub fn hub_process(url: &str, objects: impl AsRef<std::ffi::OsStr>, dir: &Path, port: u16) -> std::process::Child {
    use std::io::BufRead;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("hub-{port}.log"))).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(["--db", url, "--listen", &format!("127.0.0.1:{port}"), "--objects"])
        .arg(objects)
        .arg("--signing-key-file")
        .arg(dir.join("signing.key"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on"), "hub said {line:?}");
    child
}

/// Files a submission without attachments from `api` and commits it: (submission, case number).
pub async fn file_case(api: &Api) -> (SubmissionId, model::CaseNumber) {
    let sub = submission(vec![]);
    let sealed = seal(&platform_key(), &sub, &[]);
    assert_eq!(api.put_manifest(sub.id, sealed.envelope.to_bytes()).await.status(), reqwest::StatusCode::CREATED);
    let commit: model::protocol::CommitResponse = api.commit(sub.id).await.json().await.unwrap();
    (sub.id, commit.case_number)
}

pub async fn error_code(resp: reqwest::Response) -> model::protocol::ErrorBody {
    resp.json::<model::protocol::ErrorBody>().await.unwrap()
}

/// Where the child run of the PostgreSQL suite finds its server: the
/// key=value settings of `testkit::pg::PgServer::base` (see `postgres.rs`).
pub const PG_ENV: &str = "CUNBAN_TEST_PG";

/// Where the child run finds the test bucket (an `s3://` URL; see `s3.rs`).
pub const S3_ENV: &str = "CUNBAN_TEST_S3";

/// Whether this process is the child run of the PostgreSQL suite: tests
/// that start servers of their own run in the parent only.
pub fn child_run() -> bool {
    std::env::var_os(PG_ENV).is_some()
}

/// A PostgreSQL for one test (fsync off: only speed matters here); the
/// test fails, saying what to install, when PostgreSQL is missing.
pub fn pg_server() -> testkit::pg::PgServer {
    testkit::pg::PgServer::builder().no_fsync().start().unwrap()
}

/// A hub over `dir/hub.db`, or, when the suite runs on PostgreSQL (see
/// `postgres.rs`), over a fresh database on the test server with its
/// attachments in `dir/hub.blobs`.
pub async fn spawn_hub(dir: &Path, mut options: HubOptions) -> Hub {
    let addr = "127.0.0.1:0".parse().unwrap();
    let Ok(base) = std::env::var(PG_ENV) else {
        return Hub::spawn_with(addr, &dir.join("hub.db"), options).await.unwrap();
    };
    // The same directory again is the same hub restarted: same database.
    let marker = dir.join("pg.url");
    let url = match std::fs::read_to_string(&marker) {
        Ok(url) => url,
        Err(_) => {
            let url = testkit::pg::create_database(&base).unwrap();
            std::fs::write(&marker, &url).unwrap();
            url
        }
    };
    let blobs = blob_location(dir);
    let store = tokio::task::spawn_blocking(move || hub::open_store_blocking(Path::new(&url), Some(&blobs))).await.unwrap().unwrap();
    if options.signing_key.is_none() {
        options.signing_key = Some(std::sync::Arc::new(hub::signing::load_or_create(&dir.join("hub.db.signing.key")).unwrap()));
    }
    Hub::spawn_store(addr, store, options).await.unwrap()
}

/// Where the PostgreSQL hub of `dir` keeps its objects: `dir/hub.blobs`,
/// or, when the suite runs on S3 too (`garage.rs`), its own prefix in the
/// test bucket (the same again for the same directory: a restart).
pub fn blob_location(dir: &Path) -> std::path::PathBuf {
    let Ok(base) = std::env::var(S3_ENV) else { return dir.join("hub.blobs") };
    let marker = dir.join("s3.url");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return url.into();
    }
    let url = testkit::garage::with_prefix(&base, &uuid::Uuid::now_v7().simple().to_string());
    std::fs::write(&marker, &url).unwrap();
    url.into()
}

/// Read-only checks of the hub started in `dir`, on whichever backend it runs.
pub fn db(dir: &Path) -> hub::HubDb {
    match std::fs::read_to_string(dir.join("pg.url")) {
        Ok(url) => hub::HubDb::open_any(Path::new(&url), Some(&blob_location(dir))).unwrap(),
        Err(_) => hub::HubDb::open(&dir.join("hub.db")).unwrap(),
    }
}

/// `--db …` for the `hub` binary over the hub started in `dir` (with
/// `--blob-dir` and `--signing-key-file` on PostgreSQL).
pub fn cli_db(dir: &Path) -> Vec<std::ffi::OsString> {
    match std::fs::read_to_string(dir.join("pg.url")) {
        Ok(url) => vec!["--db".into(), url.into(), "--blob-dir".into(), dir.join("hub.blobs").into(), "--signing-key-file".into(), dir.join("hub.db.signing.key").into()],
        Err(_) => vec!["--db".into(), dir.join("hub.db").into()],
    }
}

/// The hub in `dir` as the `hub` binary's `--db` and `--blob-dir` name it
/// (a PostgreSQL URL and the objects' place, or the SQLite file).
pub fn db_location(dir: &Path) -> (std::path::PathBuf, Option<std::path::PathBuf>) {
    match std::fs::read_to_string(dir.join("pg.url")) {
        Ok(url) => (url.into(), Some(blob_location(dir))),
        Err(_) => (dir.join("hub.db"), None),
    }
}

/// Waits (up to 20 s, polling) until `done`; fails naming `what`.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
