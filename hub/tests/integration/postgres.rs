//! The hub's store-exercising tests again, on PostgreSQL: this test starts
//! a server (`pg.rs`) and runs this very test binary once more with
//! `CUNBAN_TEST_PG` set, which makes `common::spawn_hub` serve each test
//! from a fresh database on it. One suite, both backends; it fails (not
//! skips) when PostgreSQL is not installed.

use std::process::Command;

use super::common::{child_run, pg_server, PG_ENV, S3_ENV};

/// The modules whose tests run on PostgreSQL too.
pub(super) const MODULES: &[&str] = &["api::", "auth::", "uploads::", "terminal_api::", "heartbeat_round::", "ratings::", "rollout::", "fleet_paging::", "progress::", "bundles::", "rate_limits::", "registry::", "result_mail::", "rating_forward::", "sms::", "backlog::"];

/// Tests of SQLite's own schema history (rows as an older hub left them).
pub(super) const SQLITE_ONLY: &[&str] =
    &["api::a_filing_from_before_terminal_ids", "api::an_existing_hub_database_keeps_its_cases", "ratings::bad_ratings_from_before_the_migration"];

/// Fewer passing than this means the filters stopped matching.
pub(super) const AT_LEAST: usize = 70;

#[test]
fn the_store_tests_pass_on_postgresql() {
    if child_run() {
        return; // the child run itself
    }
    run_store_suite(&pg_server(), None);
}

/// Runs this test binary again on `pg` (`CUNBAN_TEST_PG`) with the
/// objects in the bucket `objects` (`CUNBAN_TEST_S3`), or in folders: the
/// `MODULES` pass there, at least `AT_LEAST` of their tests.
pub(super) fn run_store_suite(pg: &testkit::pg::PgServer, objects: Option<&testkit::garage::Garage>) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(MODULES).args(["--skip", "postgres::", "--skip", "s3::"]).env(PG_ENV, pg.base()).env("RUST_TEST_THREADS", "2");
    if let Some(garage) = objects {
        cmd.env(S3_ENV, garage.base_url());
    }
    for t in SQLITE_ONLY {
        cmd.args(["--skip", t]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let on = if objects.is_some() { "PostgreSQL + S3" } else { "PostgreSQL" };
    let logs = match objects {
        Some(g) => format!("{} and {}", pg.log().display(), g.log().display()),
        None => pg.log().display().to_string(),
    };
    assert!(out.status.success(), "the suite failed on {on} (logs: {logs})");
    let passed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("test result: ok. ").and_then(|r| r.split(' ').next()).and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(0);
    println!("on {on}: {passed} tests passed");
    assert!(passed >= AT_LEAST, "only {passed} tests ran on {on}");
}

/// Two hub instances (two stores, two pools, two listeners) over one
/// database and one blob folder serve the same terminal: a manifest sent
/// to one is a replay at the other, an upload started on one finishes on
/// the other, commits racing on both open one case, and a nonce used on
/// one is refused by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_over_one_database_act_as_one_hub() {
    use super::common::{nonce, seal, submission, platform_key, Api, Tamper};
    use model::submission::AttachmentRef;
    use reqwest::{Method, StatusCode};

    if child_run() {
        return; // the child run of the test above
    }
    let server = pg_server();
    let url = server.create_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let signing = std::sync::Arc::new(hub::signing::load_or_create(&dir.path().join("signing.key")).unwrap());
    let mut hubs = Vec::new();
    for _ in 0..2 {
        let (url, blobs) = (url.clone(), dir.path().join("blobs"));
        let store = tokio::task::spawn_blocking(move || hub::open_store_blocking(std::path::Path::new(&url), Some(&blobs))).await.unwrap().unwrap();
        let options = hub::HubOptions { signing_key: Some(signing.clone()), ..hub::HubOptions::default() };
        hubs.push(hub::Hub::spawn_store("127.0.0.1:0".parse().unwrap(), store, options).await.unwrap());
    }
    let a = Api::new(&hubs[0], "GS-0001");
    a.register(&hubs[0]).await;
    let b = Api { key: a.key.clone(), ..Api::at(&hubs[1].base_url(), "GS-0001") };

    let scan = vec![7u8; 300_000];
    let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let sealed = seal(&platform_key(), &sub, &[&scan]);
    let body = sealed.envelope.to_bytes();
    assert_eq!(a.put_manifest(sub.id, body.clone()).await.status(), StatusCode::CREATED);
    assert_eq!(b.put_manifest(sub.id, body).await.status(), StatusCode::OK, "a replay at the other instance");

    // Half the sealed bytes to one instance, the rest to the other.
    let part = &sealed.attachments[0];
    let bytes = part.bytes.clone();
    let half = bytes.len() / 2;
    let range = |lo: usize, hi: usize| format!("bytes {lo}-{}/{}", hi - 1, bytes.len());
    assert_eq!(a.put_range(sub.id, &part.sha256, &range(0, half), bytes[..half].to_vec()).await.status(), StatusCode::ACCEPTED);
    assert_eq!(b.put_range(sub.id, &part.sha256, &range(half, bytes.len()), bytes[half..].to_vec()).await.status(), StatusCode::CREATED);

    // Commits racing on both instances: one case, the same number to both.
    let (ra, rb) = tokio::join!(a.commit(sub.id), b.commit(sub.id));
    let ca: model::protocol::CommitResponse = ra.json().await.unwrap();
    let cb: model::protocol::CommitResponse = rb.json().await.unwrap();
    assert_eq!(ca.case_number, cb.case_number);

    // A nonce seen by one instance is a replay at the other.
    let n = nonce();
    let t = Tamper { nonce: Some(n), ..Tamper::default() };
    let first = a.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &t).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let again = b.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &t).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(super::common::error_code(again).await.code, model::protocol::ErrorCode::Replayed);
    for h in hubs {
        h.shutdown().await.unwrap();
    }
}

/// `hub migrate --from sqlite:… --to postgres://…`: a pilot's hub moves and
/// its terminal notices nothing: its manifest is already held, its commit
/// answers the same case number, the next case number follows on, a nonce
/// it used before the move is still a replay, and the signing key is the one
/// it pinned. A second migration into the now full database is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_pilot_moves_to_postgresql_and_its_terminal_notices_nothing() {
    use super::common::{nonce, platform_key, seal, spawn_hub, submission, Api, Tamper};
    use model::submission::AttachmentRef;
    use reqwest::{Method, StatusCode};

    if child_run() {
        return; // the child run of the suite
    }
    let server = pg_server();
    let url = server.create_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pilot = spawn_hub(dir.path(), hub::HubOptions::default()).await;
    let api = Api::new(&pilot, "GS-0001");
    api.register(&pilot).await;
    let scan = vec![3u8; 100_000];
    let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let (sealed, case) = super::common::file_sealed(&api, &platform_key(), &sub, &scan).await;
    let body = sealed.envelope.to_bytes();
    let used = nonce();
    let t = Tamper { nonce: Some(used.clone()), ..Tamper::default() };
    assert_eq!(api.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &t).send().await.unwrap().status(), StatusCode::OK);
    let pinned = pilot.signing_public_key();
    pilot.shutdown().await.unwrap();

    let blobs = dir.path().join("pg-blobs");
    let migrate = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hub"))
            .args(["migrate", "--from"])
            .arg(format!("sqlite:{}", dir.path().join("hub.db").display()))
            .args(["--to", &url, "--blob-dir"])
            .arg(&blobs)
            .output()
            .unwrap()
    };
    let out = migrate();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("cases\t1") && printed.contains("seen_nonces\t") && printed.contains("attachment files\t1"), "{printed}");

    let key = std::sync::Arc::new(hub::signing::load_or_create(&dir.path().join("hub.db.signing.key")).unwrap());
    let (u, b) = (url.clone(), blobs.clone());
    let store = tokio::task::spawn_blocking(move || hub::open_store_blocking(std::path::Path::new(&u), Some(&b))).await.unwrap().unwrap();
    let province = hub::Hub::spawn_store("127.0.0.1:0".parse().unwrap(), store, hub::HubOptions { signing_key: Some(key), ..hub::HubOptions::default() }).await.unwrap();
    assert_eq!(province.signing_public_key(), pinned);
    let moved = Api { key: api.key.clone(), ..Api::at(&province.base_url(), "GS-0001") };
    assert_eq!(moved.put_manifest(sub.id, body).await.status(), StatusCode::OK, "already held");
    let again: model::protocol::CommitResponse = moved.commit(sub.id).await.json().await.unwrap();
    assert_eq!(again.case_number, case.case_number);
    let replay = moved.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &t).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED, "a nonce used before the move is still a replay");
    // The next filing gets the next number, not one the pilot gave out.
    let next = submission(vec![]);
    assert_eq!(moved.put_manifest(next.id, seal(&platform_key(), &next, &[]).envelope.to_bytes()).await.status(), StatusCode::CREATED);
    let next_case: model::protocol::CommitResponse = moved.commit(next.id).await.json().await.unwrap();
    let seq = |c: &model::CaseNumber| c.as_str()[10..].parse::<u64>().unwrap();
    assert_eq!(seq(&next_case.case_number), seq(&case.case_number) + 1);
    province.shutdown().await.unwrap();

    let refused = migrate();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("empty"), "{}", String::from_utf8_lossy(&refused.stderr));
}

/// The backup procedure of hub/README.md: `pg_dump` first, then a copy of
/// the blob folder; restored into a new database and folder, the hub still
/// answers the terminal's replay as already held, its commit with the same
/// case number, and an old nonce as a replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restored_from_pg_dump_and_the_blob_folder_still_knows_its_terminals_filings() {
    use super::common::{nonce, platform_key, submission, Api, Tamper};
    use model::submission::AttachmentRef;
    use reqwest::{Method, StatusCode};

    if child_run() {
        return; // the child run of the suite
    }
    let server = pg_server();
    let dir = tempfile::tempdir().unwrap();
    let key = std::sync::Arc::new(hub::signing::load_or_create(&dir.path().join("signing.key")).unwrap());
    let serve = |url: String, blobs: std::path::PathBuf| {
        let key = key.clone();
        async move {
            let store = tokio::task::spawn_blocking(move || hub::open_store_blocking(std::path::Path::new(&url), Some(&blobs))).await.unwrap().unwrap();
            hub::Hub::spawn_store("127.0.0.1:0".parse().unwrap(), store, hub::HubOptions { signing_key: Some(key), ..hub::HubOptions::default() }).await.unwrap()
        }
    };
    let url = server.create_database().unwrap();
    let live = serve(url.clone(), dir.path().join("blobs")).await;
    let api = Api::new(&live, "GS-0001");
    api.register(&live).await;
    let scan = vec![5u8; 80_000];
    let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let (sealed, case) = super::common::file_sealed(&api, &platform_key(), &sub, &scan).await;
    let (body, part) = (sealed.envelope.to_bytes(), &sealed.attachments[0]);
    let t = Tamper { nonce: Some(nonce()), ..Tamper::default() };
    assert_eq!(api.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &t).send().await.unwrap().status(), StatusCode::OK);

    // Backup while serving: the dump, then the folder (blobs are written
    // once and before any case refers to them, so the copy holds every one the dump needs).
    let dump = dir.path().join("hub.dump");
    let out = std::process::Command::new(testkit::pg::tool("pg_dump").unwrap()).args(["-Fc", "-f"]).arg(&dump).arg(&url).output().unwrap();
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
    let copy = std::process::Command::new("cp").arg("-a").arg(dir.path().join("blobs")).arg(dir.path().join("restored-blobs")).status().unwrap();
    assert!(copy.success());
    live.shutdown().await.unwrap();

    // Restore into a new database and folder.
    let restored_url = server.create_database().unwrap();
    let out = std::process::Command::new(testkit::pg::tool("pg_restore").unwrap()).args(["--no-owner", "-d"]).arg(&restored_url).arg(&dump).output().unwrap();
    assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));
    let restored = serve(restored_url, dir.path().join("restored-blobs")).await;
    let back = Api { key: api.key.clone(), ..Api::at(&restored.base_url(), "GS-0001") };
    assert_eq!(back.put_manifest(sub.id, body).await.status(), StatusCode::OK, "already held");
    let status: model::protocol::UploadStatus = back.get(&format!("/v1/submissions/{}/attachments/{}", sub.id, part.sha256)).await.json().await.unwrap();
    assert!(status.complete);
    let again: model::protocol::CommitResponse = back.commit(sub.id).await.json().await.unwrap();
    assert_eq!(again.case_number, case.case_number);
    let replay = back.build(Method::GET, "/v1/terminal/config", None, Vec::new(), &t).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    restored.shutdown().await.unwrap();
}

/// With the database gone (restarting, out of reach) a terminal is told to
/// wait (503 `busy`, `Retry-After`), which its outbox treats as "keep and
/// retry", not a server fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_whose_database_is_gone_says_busy() {
    if child_run() {
        return; // the child run of the suite
    }
    let server = pg_server();
    let (hub, api, _dir, _db) = hub_on_a_new_database(&server).await;
    assert_eq!(api.get("/v1/terminal/config").await.status(), reqwest::StatusCode::OK);
    drop(server); // pg_ctl stop -m immediate
    let resp = api.get("/v1/terminal/config").await;
    assert_eq!(resp.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(super::common::error_code(resp).await.code, model::protocol::ErrorCode::Busy);
    hub.shutdown().await.unwrap();
}

/// The heartbeat's shared connections (`pool.rs`) are opened again after
/// the server closed them (an administrator's terminate, a failover).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_go_on_after_the_server_closed_the_hubs_connections() {
    if child_run() {
        return; // the child run of the suite
    }
    let server = pg_server();
    let (hub, api, _dir, db) = hub_on_a_new_database(&server).await;
    let beat = || api.send(reqwest::Method::POST, "/v1/heartbeat", serde_json::to_vec(&super::common::heartbeat(time::OffsetDateTime::now_utc())).unwrap());
    // The first looks the key up; the others go over the shared connections.
    for k in 0..6 {
        assert_eq!(beat().await.status(), reqwest::StatusCode::OK, "heartbeat {k}");
    }
    let closed = server
        .psql(&db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .unwrap();
    assert!(closed.trim().parse::<u32>().unwrap() >= 1, "the hub's connections were open: {closed:?}");
    // The hub's side reads the server's goodbye and closes the connection.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for k in 0..6 {
        assert_eq!(beat().await.status(), reqwest::StatusCode::OK, "heartbeat {k} after the server closed the connections");
    }
    hub.shutdown().await.unwrap();
}

/// A hub on a new database of `server` (blobs and signing key in the
/// returned directory) with terminal GS-0001 registered; answers the
/// database's name too.
async fn hub_on_a_new_database(server: &testkit::pg::PgServer) -> (hub::Hub, super::common::Api, tempfile::TempDir, String) {
    let (url, dir) = (server.create_database().unwrap(), tempfile::tempdir().unwrap());
    let db = url.rsplit('/').next().unwrap().to_owned();
    let blobs = dir.path().join("blobs");
    let store = tokio::task::spawn_blocking(move || hub::open_store_blocking(std::path::Path::new(&url), Some(&blobs))).await.unwrap().unwrap();
    let key = std::sync::Arc::new(hub::signing::load_or_create(&dir.path().join("signing.key")).unwrap());
    let hub = hub::Hub::spawn_store("127.0.0.1:0".parse().unwrap(), store, hub::HubOptions { signing_key: Some(key), ..hub::HubOptions::default() }).await.unwrap();
    let api = super::common::Api::new(&hub, "GS-0001");
    api.register(&hub).await;
    (hub, api, dir, db)
}
