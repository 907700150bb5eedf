//! The `hub` binary as the kiosk demo starts it: a child process on port 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use model::protocol::{Health, SERVICE_NAME};

/// The hub binary listening on a free port with its database in `dir`, and
/// `extra` arguments; returns the child and the first line it printed.
fn spawn_hub(dir: &std::path::Path, extra: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.join("hub.db"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line)
}

#[test]
fn binary_announces_its_address_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, line) = spawn_hub(dir.path(), &[]);
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

#[test]
fn generates_a_platform_key_once_and_serves_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("platform.key");
    let out = Command::new(env!("CARGO_BIN_EXE_hub")).arg("--generate-platform-key").arg(&key_file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let public = String::from_utf8(out.stdout).unwrap();
    let public = model::seal::PlatformPublicKey::parse(public.trim()).expect("prints the public key a terminal is given");
    let secret = model::seal::PlatformSecretKey::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    assert_eq!(secret.public_key(), public);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // An existing key is never overwritten.
    let again = Command::new(env!("CARGO_BIN_EXE_hub")).arg("--generate-platform-key").arg(&key_file).output().unwrap();
    assert!(!again.status.success());
    assert_eq!(model::seal::PlatformSecretKey::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap().public_key(), public);

    // A junk key file stops the hub with a sentence, before it listens.
    let junk = dir.path().join("junk.key");
    std::fs::write(&junk, "not a key").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("hub.db"))
        .arg("--platform-key-file")
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a platform private key"), "{}", String::from_utf8_lossy(&out.stderr));

    let (mut child, line) = spawn_hub(dir.path(), &["--platform-key-file".as_ref(), key_file.as_os_str()]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("listening on "), "{line:?}");
}
