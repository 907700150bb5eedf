//! The back office through the `hub` CLI, against a hub serving terminals
//! at the same time: terminals registry, cases list, open with the platform
//! key, accept / reject / complete with a PDF, and what terminals then see.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::{submission, Api};
use model::protocol::{CaseStatusList, CaseStatusQuery};
use model::submission::AttachmentRef;
use model::CaseStatus;
use reqwest::{Method, StatusCode};

fn hub_cmd(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hub"));
    c.arg("--db").arg(db).env("RUST_LOG", "info");
    c
}

/// Runs the CLI; returns (stdout, stderr), asserting the exit status.
fn run(cmd: &mut Command, ok: bool) -> (String, String) {
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert_eq!(out.status.success(), ok, "stdout: {stdout}\nstderr: {stderr}");
    (stdout, stderr)
}

struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(db: &Path, extra: &[&str]) -> Served {
    let mut child = hub_cmd(db).args(["--listen", "127.0.0.1:0"]).args(extra).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_owned();
    Served(child, format!("http://{addr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_decides_and_the_terminal_sees_it_on_its_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let key_file = dir.path().join("platform.key");
    run(Command::new(env!("CARGO_BIN_EXE_hub")).arg("--generate-platform-key").arg(&key_file), true);
    let platform = model::seal::PlatformSecretKey::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap();

    // A technician registers the terminal; a second one is trusted at start.
    let hub = serve(&db, &[]);
    let mut api = Api::at(&hub.1, "GS-0001");
    let second = Api::at(&hub.1, "GS-0002");
    let (out, _) = run(
        hub_cmd(&db).args(["terminal", "add", "--id", "GS-0001", "--village", "622926100202", "--public-key"]).arg(api.key.public_key().to_string()),
        true,
    );
    assert!(out.contains(&api.key.public_key().fingerprint()), "{out}");
    drop(hub);
    let trust = format!("GS-0002:{}", second.key.public_key());
    let hub = serve(&db, &["--platform-key-file", key_file.to_str().unwrap(), "--trust-terminal", &trust]);
    api.base = hub.1.clone();
    let second = Api { base: hub.1.clone(), ..second };
    assert_eq!(second.get("/v1/terminal/config").await.status(), StatusCode::OK);
    let (out, _) = run(hub_cmd(&db).args(["terminal", "list"]), true);
    assert!(out.contains("GS-0001\tactive\t622926100202") && out.contains("GS-0002\tactive"), "{out}");

    // The terminal files, with a scan.
    let scan = b"%PDF-1.4 household register scan".to_vec();
    let sub = submission(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
    let (_, case) = common::file_sealed(&api, &platform, &sub, &scan).await;
    let n = case.case_number.to_string();

    let (out, _) = run(hub_cmd(&db).args(["cases", "list"]), true);
    assert!(out.contains(&format!("{n}\treceived\t620000RS0001\tterminal GS-0001")), "{out}");
    assert!(!out.contains("张三"), "the list shows no personal data");

    // Opening needs the platform key and shows the filing to the clerk.
    let files = dir.path().join("opened");
    let (out, stderr) = run(
        hub_cmd(&db).args(["case", "open", &n, "--platform-key-file"]).arg(&key_file).arg("--out").arg(&files),
        true,
    );
    assert!(out.contains("applicant 张三") && out.contains("phone: 13800000000"), "{out}");
    assert!(!stderr.contains("张三") && !stderr.contains("13800000000"), "nothing personal in the log: {stderr}");
    let written = std::fs::read(files.join("00-hukou.pdf")).unwrap();
    assert_eq!(written, scan);

    // Completing before accepting is refused with a reason.
    let (_, err) = run(hub_cmd(&db).args(["case", "complete", &n]), false);
    assert!(err.contains("received") && err.contains("done"), "{err}");

    // Accepting with the key tries the progress SMS at once; the province's
    // gateway is down (nothing listens there), so it waits in the outbox,
    // and the log names the number masked only.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let gateway = format!("http://127.0.0.1:{down}");
    let (out, stderr) =
        run(hub_cmd(&db).args(["case", "accept", &n, "--sms-gateway-url", &gateway, "--platform-key-file"]).arg(&key_file), true);
    assert!(out.contains("is now accepted") && out.contains("0 sent, 1 waiting for the gateway"), "{out}");
    assert!(stderr.contains("138******00") && !stderr.contains("13800000000"), "{stderr}");
    let (out, _) = run(hub_cmd(&db).args(["sms", "list", "--case", &n]), true);
    assert!(out.contains(&format!("cunban-{n}-")) && out.contains("pending") && !out.contains("13800000000"), "{out}");

    async fn status(api: &Api, id: model::SubmissionId) -> reqwest::Response {
        let body = serde_json::to_vec(&CaseStatusQuery { submission_ids: vec![id] }).unwrap();
        api.send(Method::POST, "/v1/case-status", body).await
    }
    let list: CaseStatusList = status(&api, sub.id).await.json().await.unwrap();
    assert_eq!(list.cases[0].status, CaseStatus::Accepted);
    assert!(!list.cases[0].result_available);
    // Another terminal learns nothing about it.
    let theirs: CaseStatusList = status(&second, sub.id).await.json().await.unwrap();
    assert!(theirs.cases.is_empty());

    // A result that isn't a PDF is refused; a PDF completes the case.
    let not_pdf = dir.path().join("result.txt");
    std::fs::write(&not_pdf, "hello").unwrap();
    run(hub_cmd(&db).args(["case", "complete", &n, "--result"]).arg(&not_pdf), false);
    let pdf = dir.path().join("result.pdf");
    std::fs::write(&pdf, b"%PDF-1.7 decision").unwrap();
    run(hub_cmd(&db).args(["case", "complete", &n, "--result"]).arg(&pdf), true);
    let list: CaseStatusList = status(&api, sub.id).await.json().await.unwrap();
    assert_eq!((list.cases[0].status, list.cases[0].result_available), (CaseStatus::Done, true));
    let doc = api.get(&format!("/v1/cases/{n}/result")).await;
    assert_eq!(doc.headers()["content-type"], "application/pdf");
    assert_eq!(doc.bytes().await.unwrap().as_ref(), b"%PDF-1.7 decision");
    assert_eq!(second.get(&format!("/v1/cases/{n}/result")).await.status(), StatusCode::NOT_FOUND);
    let (out, _) = run(hub_cmd(&db).args(["cases", "list", "--status", "done"]), true);
    assert!(out.contains(&n) && out.contains("\tresult"), "{out}");

    // Revoked: the terminal is refused from its next request.
    run(hub_cmd(&db).args(["terminal", "revoke", "GS-0001"]), true);
    assert_eq!(api.get("/v1/terminal/config").await.status(), StatusCode::FORBIDDEN);
}

#[test]
fn a_rejection_needs_words_for_the_villager_and_bad_input_is_refused_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let (_, err) = run(hub_cmd(&db).args(["case", "reject", "62202601010000001", "--reason", " "]), false);
    assert!(err.contains("reason"), "{err}");
    let (_, err) = run(hub_cmd(&db).args(["case", "accept", "62202601010000001"]), false);
    assert!(err.contains("no case"), "{err}");
    let (_, err) = run(hub_cmd(&db).args(["terminal", "add", "--id", "GS 1", "--public-key", "ed25519:AAAA"]), false);
    assert!(err.contains("GS 1"), "{err}");
    let (_, err) = run(hub_cmd(&db).args(["terminal", "revoke", "GS-0404"]), false);
    assert!(err.contains("GS-0404"), "{err}");
}

#[test]
fn a_catalog_is_signed_with_the_catalog_key_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let key_file = dir.path().join("catalog.key");
    let (public, _) = run(Command::new(env!("CARGO_BIN_EXE_hub")).arg("--generate-catalog-key").arg(&key_file), true);
    let public = model::auth::PublicKey::parse(public.trim()).unwrap();
    let catalog = dir.path().join("catalog.json");
    std::fs::write(&catalog, model::Catalog::starter_json()).unwrap();
    let (out, _) = run(hub_cmd(&db).args(["catalog", "publish", "--file"]).arg(&catalog).arg("--catalog-key-file").arg(&key_file), true);
    assert!(out.contains("published"), "{out}");
    let hub = serve(&db, &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let signed: model::auth::SignedCatalog =
        rt.block_on(async { common::http().get(format!("{}/v1/catalog", hub.1)).send().await.unwrap().json().await.unwrap() });
    assert_eq!(signed.verify(&public).unwrap().0, model::Catalog::starter());
    // A file that is not a catalog is not signed.
    std::fs::write(&catalog, "{}").unwrap();
    run(hub_cmd(&db).args(["catalog", "publish", "--file"]).arg(&catalog).arg("--catalog-key-file").arg(&key_file), false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filing_cannot_drive_the_clerks_terminal_or_write_outside_the_folder() {
    // A rogue terminal seals escape sequences into the filing and a path
    // into the material code; the clerk opens it with `hub case open --out`.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let key_file = dir.path().join("platform.key");
    run(Command::new(env!("CARGO_BIN_EXE_hub")).arg("--generate-platform-key").arg(&key_file), true);
    let platform = model::seal::PlatformSecretKey::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let (hub, api) = common::start(dir.path()).await;
    let scan = b"%PDF-1.4 anything".to_vec();
    let mut sub = submission(vec![AttachmentRef::for_bytes("../../escaped\u{1b}[2J", "application/pdf", &scan)]);
    sub.applicant.address = "甘肃省\u{1b}]0;pwned\u{7}\u{1b}[31m红\u{202e}txt.exe".into();
    sub.form.insert("note\u{1b}[1A".into(), "\u{9b}31m".into());
    let (_, case) = common::file_sealed(&api, &platform, &sub, &scan).await;
    hub.shutdown().await.unwrap();

    let out_dir = dir.path().join("a").join("b").join("opened");
    let (out, _) = run(
        hub_cmd(&db).args(["case", "open", case.case_number.as_str(), "--platform-key-file"]).arg(&key_file).arg("--out").arg(&out_dir),
        true,
    );
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{9b}') && !out.contains('\u{202e}'), "{out:?}");
    assert!(out.contains("甘肃省\\u{1b}]0;pwned\\u{7}") && out.contains("红"), "shown escaped, Chinese as it is: {out}");
    let written: Vec<String> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].starts_with("00-") && written[0].ends_with(".pdf") && !written[0].contains('/'), "{written:?}");
    assert!(!written[0].contains('\u{1b}') && written[0].matches('.').count() == 1, "{written:?}");
    assert_eq!(std::fs::read(out_dir.join(&written[0])).unwrap(), scan);
    assert!(!dir.path().join("a").join("escaped\u{1b}[2J.pdf").exists() && !dir.path().join("a").read_dir().unwrap().any(|e| e.unwrap().file_name() != "b"));
}
