//! The `hub` binary as the kiosk demo starts it: a child process on port 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use model::protocol::{Health, SERVICE_NAME};

#[test]
fn binary_announces_its_address_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("hub.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned();
    assert!(addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"), "{addr}");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let health: Health = rt.block_on(async {
        // See api.rs: reqwest's rustls may have no provider when built beside offline-cache.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::get(format!("http://{addr}/v1/health")).await.unwrap().json().await.unwrap()
    });
    assert_eq!(health.service, SERVICE_NAME);

    // SIGTERM is how systemd and the kiosk stop it.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hub did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
}
