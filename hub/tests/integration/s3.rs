//! Objects in an S3-compatible bucket (Garage, `garage.rs`) with the
//! database on PostgreSQL (`pg.rs`): the store suite again on both, an
//! upload whose instance is killed mid-way finishing on another instance,
//! result documents in the bucket, a pilot moved into PostgreSQL + S3.
//! Each fails (not skips) when PostgreSQL or Garage is not installed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use model::submission::AttachmentRef;
use reqwest::{Method, StatusCode};

use super::common::{platform_key, seal, submission, Api};
use super::garage::GarageServer;
use super::pg::{create_database, PgServer, ENV};

#[test]
fn the_store_tests_pass_on_postgresql_with_objects_in_s3() {
    if std::env::var(ENV).is_ok() {
        return; // a child run
    }
    let (pg, garage) = (PgServer::start(), GarageServer::start());
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(super::postgres::MODULES)
        .args(["--skip", "postgres::", "--skip", "s3::"])
        .env(ENV, pg.base())
        .env(super::garage::ENV, garage.base_url())
        .env("RUST_TEST_THREADS", "2");
    for t in super::postgres::SQLITE_ONLY {
        cmd.args(["--skip", t]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the suite failed on PostgreSQL + S3 (Garage log: {})", garage.dir().join("garage.log").display());
    let passed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("test result: ok. ").and_then(|r| r.split(' ').next()).and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(0);
    println!("on PostgreSQL + S3: {passed} tests passed");
    assert!(passed >= super::postgres::AT_LEAST, "only {passed} tests ran on PostgreSQL + S3");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `hub` process on `port` over `url` with its objects at `objects`.
fn hub_process(url: &str, objects: &str, dir: &Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(["--db", url, "--listen", &format!("127.0.0.1:{port}"), "--objects", objects])
        .arg("--signing-key-file")
        .arg(dir.join("signing.key"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on"), "hub said {line:?}");
    child
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
    if std::env::var(ENV).is_ok() {
        return;
    }
    let (pg, garage) = (PgServer::start(), GarageServer::start());
    let url = create_database(&pg.base());
    let objects = garage.url("kill-test");
    let dir = tempfile::tempdir().unwrap();
    let terminal = super::common::random_key();
    {
        let store = hub::open_store_blocking(Path::new(&url), Some(Path::new(&objects))).unwrap();
        let t = hub::NewTerminal { id: "GS-0001".into(), public_key: terminal.public_key(), village_code: None, label: None };
        store.add_terminal(&t, time::OffsetDateTime::now_utc()).unwrap();
    }
    let (pa, pb) = (free_port(), free_port());
    let a_proc = Killed(hub_process(&url, &objects, dir.path(), pa));
    let _b_proc = Killed(hub_process(&url, &objects, dir.path(), pb));
    let a = Api { key: terminal.clone(), ..Api::at(&format!("http://127.0.0.1:{pa}"), "GS-0001") };
    let b = Api { key: terminal, ..Api::at(&format!("http://127.0.0.1:{pb}"), "GS-0001") };

    let scan: Vec<u8> = (0..6_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let sealed = seal(&platform_key(), &sub, &[&scan]);
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
    let opened = db.open_submission(sub.id, &platform_key()).unwrap().expect("held");
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
