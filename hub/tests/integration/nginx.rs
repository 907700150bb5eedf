//! Two `hub` processes on one PostgreSQL database behind nginx (Debian
//! `nginx-light`), one of them killed and restarted again and again while a
//! terminal files: every filing is on the hub exactly once (issue 17).

use std::time::Duration;

use model::submission::AttachmentRef;
use reqwest::StatusCode;

use super::common::{child_run, hub_process, pg_server, platform_key, random_key, seal, submission, Api};
use testkit::ports::free_port;

const FILINGS: usize = 150;

/// Sends until the hub answers one of `ok` (a killed instance, a replayed
/// nonce after nginx's retry, 502/503 while both are down: try again).
async fn until(ok: &[StatusCode], mut send: impl AsyncFnMut() -> Result<reqwest::Response, reqwest::Error>) -> reqwest::Response {
    for _ in 0..600 {
        if let Ok(r) = send().await {
            if ok.contains(&r.status()) {
                return r;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no answer in {ok:?} after 600 tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_one_killed_again_and_again_lose_and_duplicate_nothing() {
    if child_run() {
        return; // the child run of the PostgreSQL suite
    }
    let server = pg_server();
    let url = server.create_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let terminal = random_key();
    {
        let (u, blobs) = (url.clone(), dir.path().join("blobs"));
        let store = hub::open_store_blocking(std::path::Path::new(&u), Some(&blobs)).unwrap();
        let t = hub::NewTerminal { id: "GS-0001".into(), public_key: terminal.public_key(), village_code: None, label: None };
        store.add_terminal(&t, time::OffsetDateTime::now_utc()).unwrap();
    }
    let ports = [free_port().unwrap(), free_port().unwrap()];
    // A process that outlives a failed test would keep its port: killed below, or by the guard.
    let steady = hub_process(&url, dir.path().join("blobs"), dir.path(), ports[1]);
    let mut victim = hub_process(&url, dir.path().join("blobs"), dir.path(), ports[0]);
    let nginx = testkit::nginx::Nginx::start_in(&dir.path().join("nginx"), &ports.map(|p| ([127, 0, 0, 1], p).into())).unwrap();

    // Kill and restart the first instance every 250 ms while filing.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (stop2, url2, dir2) = (stop.clone(), url.clone(), dir.path().to_owned());
    let killer = std::thread::spawn(move || {
        let mut kills = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(250));
            let _ = victim.kill();
            let _ = victim.wait();
            kills += 1;
            std::thread::sleep(Duration::from_millis(100));
            victim = hub_process(&url2, dir2.join("blobs"), &dir2, ports[0]);
        }
        let _ = victim.kill();
        let _ = victim.wait();
        kills
    });

    let api = Api { key: terminal, ..Api::at(&nginx.url(), "GS-0001") };
    let key = platform_key();
    let mut cases = Vec::new();
    for i in 0..FILINGS {
        let scan = vec![(i % 251) as u8; 20_000 + i * 97];
        let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
        let sealed = seal(&key, &sub, &[&scan]);
        let body = sealed.envelope.to_bytes();
        let part = &sealed.attachments[0];
        let (created, replayed) = (StatusCode::CREATED, StatusCode::OK);
        until(&[created, replayed], async || api.build(reqwest::Method::PUT, &format!("/v1/submissions/{}", sub.id), None, body.clone(), &Default::default()).send().await).await;
        until(&[created, replayed], async || {
            api.build(reqwest::Method::PUT, &format!("/v1/submissions/{}/attachments/{}", sub.id, part.sha256), None, part.bytes.clone(), &Default::default()).send().await
        })
        .await;
        let r = until(&[replayed], async || api.build(reqwest::Method::POST, &format!("/v1/submissions/{}/commit", sub.id), None, Vec::new(), &Default::default()).send().await).await;
        let c: model::protocol::CommitResponse = r.json().await.unwrap();
        cases.push((sub.id, c.case_number));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let kills = killer.join().unwrap();
    let mut steady = steady;
    let _ = steady.kill();
    let _ = steady.wait();

    let db = hub::HubDb::open_any(std::path::Path::new(&url), Some(&dir.path().join("blobs"))).unwrap();
    let at_hub = db.total_submissions().unwrap() as usize;
    let mut lost = 0;
    for (id, case) in &cases {
        if db.case_of("GS-0001", *id).unwrap().as_ref() != Some(case) || !db.has_attachment(&sealed_sha(&db, *id)).unwrap() {
            lost += 1;
        }
    }
    let distinct: std::collections::BTreeSet<_> = cases.iter().map(|(_, c)| c.as_str().to_owned()).collect();
    let duplicated = db.case_count().unwrap() as usize - distinct.len();
    println!("instance killed {kills} times; submitted={FILINGS} at_hub={at_hub} lost={lost} duplicated={duplicated}");
    assert!(kills >= 3, "the instance was killed only {kills} times");
    assert_eq!((at_hub, lost, duplicated), (FILINGS, 0, 0));
}

/// The sealed attachment's hash, from the manifest the hub holds.
fn sealed_sha(db: &hub::HubDb, id: model::SubmissionId) -> String {
    let body = db.submission_body(id).unwrap().expect("held");
    let envelope = model::seal::SealedEnvelope::from_bytes(&body).unwrap();
    envelope.attachments[0].sha256.clone()
}
