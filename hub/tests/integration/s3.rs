//! Objects in an S3-compatible bucket (Garage, `testkit::garage`) with the
//! database on PostgreSQL (`testkit::pg`): the store suite again on both, an
//! upload whose instance is killed mid-way finishing on another instance,
//! result documents in the bucket, a pilot moved into PostgreSQL + S3.
//! Each fails (not skips) when PostgreSQL or Garage is not installed.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use model::submission::AttachmentRef;
use reqwest::{Method, StatusCode};

use super::common::{child_run, file_sealed, hub_process, pg_server, platform_key, seal, submission, Api};
use hub::{Hub, Store};
use testkit::garage::Garage;

/// What each test here starts from: its own PostgreSQL and Garage on
/// loopback and a folder (a hub's signing key, logs, backups). None in a
/// child run of the PostgreSQL suite (`postgres.rs`), which runs none of these.
struct Province {
    pg: testkit::pg::PgServer,
    garage: Garage,
    dir: tempfile::TempDir,
}

impl Province {
    fn start() -> Option<Province> {
        if child_run() {
            return None;
        }
        Some(Province { pg: pg_server(), garage: Garage::start().unwrap(), dir: tempfile::tempdir().unwrap() })
    }

    /// A fresh database's URL.
    fn database(&self) -> String {
        self.pg.create_database().unwrap()
    }

    /// A store over the database `url` with its objects under `prefix` in the bucket.
    async fn store(&self, url: &str, prefix: &str) -> Arc<dyn Store> {
        let (url, objects) = (url.to_owned(), self.garage.url(prefix));
        tokio::task::spawn_blocking(move || hub::open_store_blocking(Path::new(&url), Some(Path::new(&objects)))).await.unwrap().unwrap()
    }

    /// The signing key in the folder under `name` (made once).
    fn signing_key(&self, name: &str) -> Arc<model::auth::SigningKey> {
        Arc::new(hub::signing::load_or_create(&self.dir.path().join(name)).unwrap())
    }

    /// A hub on loopback over `store`, signing with `key`.
    async fn hub(store: Arc<dyn Store>, key: &Arc<model::auth::SigningKey>) -> Hub {
        let options = hub::HubOptions { signing_key: Some(key.clone()), ..hub::HubOptions::default() };
        Hub::spawn_store("127.0.0.1:0".parse().unwrap(), store, options).await.unwrap()
    }
}

#[test]
fn the_store_tests_pass_on_postgresql_with_objects_in_s3() {
    let Some(p) = Province::start() else { return };
    super::postgres::run_store_suite(&p.pg, Some(&p.garage));
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn received(api: &Api, id: model::SubmissionId, sha: &str) -> model::protocol::UploadStatus {
    let r = api.get(&format!("/v1/submissions/{id}/attachments/{sha}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Instance A receives the first 4.5 MB of a 6 MB attachment and is
/// SIGKILLed with the request still open; instance B (another process,
/// same database and bucket) reports the chunk A wrote, takes the rest,
/// checks the whole against its hash, and the filing commits once. A
/// second attachment with one byte changed is refused and leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_instance_is_killed_mid_way_resumes_on_another_instance() {
    let Some(p) = Province::start() else { return };
    let (url, objects) = (p.database(), p.garage.url("kill-test"));
    let terminal = super::common::random_key();
    {
        let store = p.store(&url, "kill-test").await;
        let t = hub::NewTerminal { id: "GS-0001".into(), public_key: terminal.public_key(), village_code: None, label: None };
        tokio::task::spawn_blocking(move || store.add_terminal(&t, time::OffsetDateTime::now_utc())).await.unwrap().unwrap();
    }
    let (pa, pb) = (testkit::ports::free_port().unwrap(), testkit::ports::free_port().unwrap());
    let a_proc = Killed(hub_process(&url, &objects, p.dir.path(), pa));
    let _b_proc = Killed(hub_process(&url, &objects, p.dir.path(), pb));
    let a = Api { key: terminal.clone(), ..Api::at(&format!("http://127.0.0.1:{pa}"), "GS-0001") };
    let b = Api { key: terminal, ..Api::at(&format!("http://127.0.0.1:{pb}"), "GS-0001") };

    let scan: Vec<u8> = (0..6_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let platform = platform_key();
    let sealed = seal(&platform, &sub, &[&scan]);
    assert_eq!(a.put_manifest(sub.id, sealed.envelope.to_bytes()).await.status(), StatusCode::CREATED);
    let part = &sealed.attachments[0];
    let bytes = part.bytes.clone();
    let path = format!("/v1/submissions/{}/attachments/{}", sub.id, part.sha256);

    // The whole body signed, 4.5 MB of it sent, the connection held open.
    let req = a.build(Method::PUT, &path, None, bytes.clone(), &Default::default()).build().unwrap();
    let mut head = format!("PUT {path} HTTP/1.1\r\nhost: 127.0.0.1:{pa}\r\ncontent-length: {}\r\n", bytes.len());
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str("\r\n");
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", pa)).unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&bytes[..4_500_000]).unwrap();
    conn.flush().unwrap();
    // Instance A writes what arrived in 4 MiB chunks; B sees the chunk in the bucket.
    let mut held = 0;
    for _ in 0..200 {
        held = received(&b, sub.id, &part.sha256).await.received;
        if held > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(held >= 4 << 20 && held <= 4_500_000, "instance B sees {held} bytes held");
    drop(a_proc); // SIGKILL, request still open
    drop(conn);
    assert_eq!(received(&b, sub.id, &part.sha256).await.received, held, "what A wrote survives A");

    let lo = usize::try_from(held).unwrap();
    let range = format!("bytes {lo}-{}/{}", bytes.len() - 1, bytes.len());
    assert_eq!(b.put_range(sub.id, &part.sha256, &range, bytes[lo..].to_vec()).await.status(), StatusCode::CREATED);
    let status = received(&b, sub.id, &part.sha256).await;
    assert!(status.complete && status.received == bytes.len() as u64);
    let first: model::protocol::CommitResponse = b.commit(sub.id).await.json().await.unwrap();
    let again: model::protocol::CommitResponse = b.commit(sub.id).await.json().await.unwrap();
    assert_eq!(first.case_number, again.case_number, "exactly once");
    let db = hub::HubDb::open_any(Path::new(&url), Some(Path::new(&objects))).unwrap();
    let opened = db.open_submission(sub.id, &platform).unwrap().expect("held");
    assert!(opened.attachments[0].1.as_slice() == &scan[..], "the bucket holds exactly what was sealed");
    assert_eq!(db.total_submissions().unwrap(), 1);

    // Bytes that do not hash to their name: refused at completion, nothing kept.
    let other = vec![9u8; 300_000];
    let sub2 = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &other)]);
    let sealed2 = seal(&platform_key(), &sub2, &[&other]);
    assert_eq!(b.put_manifest(sub2.id, sealed2.envelope.to_bytes()).await.status(), StatusCode::CREATED);
    let mut bad = sealed2.attachments[0].bytes.clone();
    bad[1000] ^= 1;
    let r = b.put_attachment(sub2.id, &sealed2.attachments[0].sha256, bad).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let s2 = received(&b, sub2.id, &sealed2.attachments[0].sha256).await;
    assert_eq!((s2.received, s2.complete), (0, false));
    assert!(!db.has_attachment(&sealed2.attachments[0].sha256).unwrap());
}

/// A result PDF set on one instance is kept in the bucket (the row holds
/// its hash, not its bytes) and served to the terminal by another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_document_goes_to_the_bucket_and_another_instance_serves_it() {
    use hub::StatusChange;
    use model::CaseStatus;
    let Some(p) = Province::start() else { return };
    let url = p.database();
    let key = p.signing_key("signing.key");
    let mut hubs = Vec::new();
    let mut stores = Vec::new();
    for _ in 0..2 {
        let store = p.store(&url, "results").await;
        stores.push(store.clone());
        hubs.push(Province::hub(store, &key).await);
    }
    let a = Api::new(&hubs[0], "GS-0001");
    a.register(&hubs[0]).await;
    let b = Api { key: a.key.clone(), ..Api::at(&hubs[1].base_url(), "GS-0001") };
    let (_, case) = super::common::file_case(&a).await;
    let pdf = [b"%PDF-1.7 residence certificate ".as_slice(), &[0x5a; 70_000]].concat();
    let store = stores[0].clone();
    let (n, doc) = (case.as_str().to_owned(), pdf.clone());
    tokio::task::spawn_blocking(move || {
        let now = time::OffsetDateTime::now_utc();
        store.set_case_status(&n, &StatusChange { to: CaseStatus::Accepted, reason: None, result: None, actor: "clerk" }, now)?;
        store.set_case_status(&n, &StatusChange { to: CaseStatus::Done, reason: None, result: Some(("application/pdf", &doc)), actor: "clerk" }, now)
    })
    .await
    .unwrap()
    .unwrap();

    let r = b.get(&format!("/v1/cases/{}/result", case.as_str())).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().as_ref() == pdf.as_slice(), "the PDF round-trips through the bucket");
    let out = Command::new(testkit::pg::tool("psql").unwrap())
        .args(["-At", "-c", "SELECT length(bytes), sha256 FROM case_results"])
        .arg(&url)
        .output()
        .unwrap();
    let row = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(row, format!("0|{}", model::submission::sha256_hex(&pdf)), "the row names the object; its bytes are in the bucket");
    for h in hubs {
        h.shutdown().await.unwrap();
    }
}

/// `hub migrate --from sqlite:… --to postgres://… --objects s3://…`: the
/// pilot's attachment files go into the bucket, each checked against its
/// name, and its terminal finds its filing already held. A pilot whose
/// blob folder holds a file that does not hash to its name is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pilot_moves_into_postgresql_and_a_bucket_and_its_terminal_notices_nothing() {
    use super::common::spawn_hub;
    let Some(p) = Province::start() else { return };
    let dir = &p.dir;
    let pilot = spawn_hub(dir.path(), hub::HubOptions::default()).await;
    let api = Api::new(&pilot, "GS-0001");
    api.register(&pilot).await;
    let scan = vec![3u8; 100_000];
    let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let platform = platform_key();
    let (sealed, case) = file_sealed(&api, &platform, &sub, &scan).await;
    let (body, part) = (sealed.envelope.to_bytes(), &sealed.attachments[0]);
    pilot.shutdown().await.unwrap();

    let migrate = |url: &str, objects: &str| {
        Command::new(env!("CARGO_BIN_EXE_hub"))
            .args(["migrate", "--from"])
            .arg(format!("sqlite:{}", dir.path().join("hub.db").display()))
            .args(["--to", url, "--objects", objects])
            .output()
            .unwrap()
    };
    let (url, objects) = (p.database(), p.garage.url("moved"));
    let out = migrate(&url, &objects);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("cases\t1") && printed.contains("attachment files\t1"), "{printed}");

    let key = p.signing_key("hub.db.signing.key");
    let province = Province::hub(p.store(&url, "moved").await, &key).await;
    let moved = Api { key: api.key.clone(), ..Api::at(&province.base_url(), "GS-0001") };
    assert_eq!(moved.put_manifest(sub.id, body).await.status(), StatusCode::OK, "already held");
    let status = received(&moved, sub.id, &part.sha256).await;
    assert!(status.complete, "the attachment is in the bucket");
    let again: model::protocol::CommitResponse = moved.commit(sub.id).await.json().await.unwrap();
    assert_eq!(again.case_number, case.case_number);
    let db = hub::HubDb::open_any(Path::new(&url), Some(Path::new(&objects))).unwrap();
    assert!(db.open_submission(sub.id, &platform).unwrap().expect("held").attachments[0].1.as_slice() == &scan[..]);
    province.shutdown().await.unwrap();

    // A damaged file in the pilot's folder is not carried into a bucket.
    let blob = dir.path().join("hub.db.blobs").join(&part.sha256[..2]).join(&part.sha256);
    let mut damaged = std::fs::read(&blob).unwrap();
    damaged[10] ^= 1;
    std::fs::write(&blob, damaged).unwrap();
    let out = migrate(&p.database(), &p.garage.url("damaged"));
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("does not hash to its name"), "{said}");
}

/// The backup procedure of hub/README.md with objects in a bucket:
/// `pg_dump`, then `rclone copy` of the bucket (complete objects; partial
/// uploads left out) to a folder; restored into a new database and a new
/// prefix, the hub still answers the terminal's replay as already held,
/// the attachment as complete, its commit with the same case number, an
/// old nonce as a replay, and serves the result PDF.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restored_from_pg_dump_and_a_bucket_copy_still_knows_its_terminals_filings() {
    use super::common::{nonce, Tamper};
    use hub::StatusChange;
    use model::CaseStatus;
    let Some(p) = Province::start() else { return };
    let (dir, garage) = (&p.dir, &p.garage);
    let key = p.signing_key("signing.key");
    let url = p.database();
    let store = p.store(&url, "live").await;
    let live = Province::hub(store.clone(), &key).await;
    let api = Api::new(&live, "GS-0001");
    api.register(&live).await;
    let scan = vec![5u8; 80_000];
    let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let (sealed, case) = file_sealed(&api, &platform_key(), &sub, &scan).await;
    let (body, part) = (sealed.envelope.to_bytes(), &sealed.attachments[0]);
    let pdf = b"%PDF-1.7 certificate".to_vec();
    let (n, doc) = (case.case_number.as_str().to_owned(), pdf.clone());
    tokio::task::spawn_blocking(move || {
        let now = time::OffsetDateTime::now_utc();
        store.set_case_status(&n, &StatusChange { to: CaseStatus::Accepted, reason: None, result: None, actor: "clerk" }, now)?;
        store.set_case_status(&n, &StatusChange { to: CaseStatus::Done, reason: None, result: Some(("application/pdf", &doc)), actor: "clerk" }, now)
    })
    .await
    .unwrap()
    .unwrap();
    let t = Tamper { nonce: Some(nonce()), ..Tamper::default() };
    assert_eq!(api.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &t).send().await.unwrap().status(), StatusCode::OK);

    // Backup while serving: the dump, then the bucket.
    let dump = dir.path().join("hub.dump");
    let out = Command::new(testkit::pg::tool("pg_dump").unwrap()).args(["-Fc", "-f"]).arg(&dump).arg(&url).output().unwrap();
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
    let backup = dir.path().join("objects-backup");
    let out = garage.rclone().unwrap().args(["copy", &garage.rclone_path("live")]).arg(&backup).args(["--exclude", "partial/**"]).output().expect("rclone: install the Debian package `rclone` (./dev test does)");
    assert!(out.status.success(), "rclone: {}", String::from_utf8_lossy(&out.stderr));
    live.shutdown().await.unwrap();

    // Restore into a new database and a new place in the bucket.
    let restored_url = p.database();
    let out = Command::new(testkit::pg::tool("pg_restore").unwrap()).args(["--no-owner", "-d"]).arg(&restored_url).arg(&dump).output().unwrap();
    assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));
    let out = garage.rclone().unwrap().arg("copy").arg(&backup).arg(garage.rclone_path("restored")).output().unwrap();
    assert!(out.status.success(), "rclone: {}", String::from_utf8_lossy(&out.stderr));
    let restored = Province::hub(p.store(&restored_url, "restored").await, &key).await;
    let back = Api { key: api.key.clone(), ..Api::at(&restored.base_url(), "GS-0001") };
    assert_eq!(back.put_manifest(sub.id, body).await.status(), StatusCode::OK, "already held");
    assert!(received(&back, sub.id, &part.sha256).await.complete);
    let again: model::protocol::CommitResponse = back.commit(sub.id).await.json().await.unwrap();
    assert_eq!(again.case_number, case.case_number);
    let replay = back.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &t).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let r = back.get(&format!("/v1/cases/{}/result", case.case_number.as_str())).await;
    assert!(r.bytes().await.unwrap().as_ref() == pdf.as_slice(), "the result PDF came back with the bucket");
    restored.shutdown().await.unwrap();
}
