//! A throwaway S3-compatible server for the tests: Garage (installed once
//! per machine by `./dev test` into `~/.cache/cunban-tools/garage-<version>`;
//! `CUNBAN_GARAGE` names another binary), a single node on free loopback
//! ports in a temporary directory, with one key and one bucket; killed on
//! drop. It panics, failing the test, when Garage is not installed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the suite's child run finds the bucket (an `s3://` URL; see `postgres.rs`).
pub const ENV: &str = "CUNBAN_TEST_S3";

/// The version `./dev` installs.
pub const VERSION: &str = "2.5.0";

pub struct GarageServer {
    dir: tempfile::TempDir,
    child: Child,
    bin: PathBuf,
    s3_port: u16,
    bucket: String,
}

/// The Garage binary, or a panic saying how to install it.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("CUNBAN_GARAGE") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"));
    let bin = home.join(format!(".cache/cunban-tools/garage-{VERSION}/bin/garage"));
    assert!(bin.is_file(), "Garage {VERSION} is not installed at {}: run ./dev test (it installs it) or set CUNBAN_GARAGE", bin.display());
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl GarageServer {
    pub fn start() -> GarageServer {
        let bin = binary();
        let dir = tempfile::Builder::new().prefix("cunban-garage").tempdir().unwrap();
        let (rpc, s3) = (free_port(), free_port());
        let secret = format!("{}{}", uuid::Uuid::now_v7().simple(), uuid::Uuid::now_v7().simple());
        let conf = format!(
            "metadata_dir = \"{d}/meta\"\ndata_dir = \"{d}/data\"\ndb_engine = \"lmdb\"\nreplication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc}\"\nrpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{secret}\"\n\
             [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{s3}\"\nroot_domain = \".s3.garage.localhost\"\n",
            d = dir.path().display()
        );
        std::fs::write(dir.path().join("garage.toml"), conf).unwrap();
        let log = std::fs::File::create(dir.path().join("garage.log")).unwrap();
        let child = Command::new(&bin)
            .arg("-c")
            .arg(dir.path().join("garage.toml"))
            .arg("server")
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let server = GarageServer { dir, child, bin, s3_port: s3, bucket: "cunban".into() };
        // The node answers its CLI once its RPC is up.
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            let out = server.cli(&["node", "id", "-q"]);
            if out.status.success() {
                break String::from_utf8_lossy(&out.stdout).trim().split('@').next().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "Garage did not start: {}", server.log());
            std::thread::sleep(Duration::from_millis(100));
        };
        server.ok(&["layout", "assign", "-z", "dc1", "-c", "1G", &id]);
        server.ok(&["layout", "apply", "--version", "1"]);
        let key = server.ok(&["key", "create", "cunban-test"]);
        let field = |name: &str| {
            key.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned())).unwrap_or_else(|| panic!("no {name:?} in {key}"))
        };
        let (key_id, secret_key) = (field("Key ID:"), field("Secret key:"));
        std::fs::write(server.credentials_file(), format!("access_key_id = {key_id}\nsecret_access_key = {secret_key}\n")).unwrap();
        let bucket = server.bucket.clone();
        server.ok(&["bucket", "create", &bucket]);
        server.ok(&["bucket", "allow", "--read", "--write", "--owner", &bucket, "--key", "cunban-test"]);
        server
    }

    fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.bin).arg("-c").arg(self.dir.path().join("garage.toml")).args(args).env("RUST_LOG", "warn").stdin(Stdio::null()).output().unwrap()
    }

    /// Runs a setup command, again for up to 20 s while it fails: a node
    /// that has just answered `node id` may still refuse the next step
    /// (seen once in a full run with many servers starting at once).
    fn ok(&self, args: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut out = self.cli(args);
        while !out.status.success() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(250));
            out = self.cli(args);
        }
        assert!(out.status.success(), "garage {args:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("garage.log")).unwrap_or_default()
    }

    pub fn credentials_file(&self) -> PathBuf {
        self.dir.path().join("s3-credentials")
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// The bucket's URL with its objects under `prefix` (one hub each).
    pub fn url(&self, prefix: &str) -> String {
        with_prefix(&self.base_url(), prefix)
    }

    /// The bucket's URL, no prefix.
    pub fn base_url(&self) -> String {
        format!("s3://{}?endpoint={}&region=garage&credentials_file={}", self.bucket, self.endpoint(), self.credentials_file().display())
    }

    /// `rclone` (Debian `rclone`) with this server as its `:s3:` remote,
    /// credentials in its environment (as hub/README.md's backup does).
    pub fn rclone(&self) -> Command {
        let creds = std::fs::read_to_string(self.credentials_file()).unwrap();
        let field = |k: &str| creds.lines().find_map(|l| l.strip_prefix(k)).unwrap().trim_start_matches([' ', '=']).to_owned();
        let mut c = Command::new("rclone");
        c.env("RCLONE_S3_PROVIDER", "Other")
            .env("RCLONE_S3_ENDPOINT", self.endpoint())
            .env("RCLONE_S3_REGION", "garage")
            .env("RCLONE_S3_ACCESS_KEY_ID", field("access_key_id"))
            .env("RCLONE_S3_SECRET_ACCESS_KEY", field("secret_access_key"))
            .env("RCLONE_CONFIG", "/dev/null")
            // Plain HTTP on loopback: a CA bundle from the environment only
            // breaks rclone's S3 client (it wants its own transport for one).
            .env_remove("AWS_CA_BUNDLE");
        c
    }

    /// The `:s3:` path of `prefix` in the bucket, for `rclone`.
    pub fn rclone_path(&self, prefix: &str) -> String {
        format!(":s3:{}/{prefix}", self.bucket)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// `s3://bucket?query` with `/prefix` after the bucket.
pub fn with_prefix(base: &str, prefix: &str) -> String {
    match base.split_once('?') {
        Some((b, q)) => format!("{}/{prefix}?{q}", b.trim_end_matches('/')),
        None => format!("{}/{prefix}", base.trim_end_matches('/')),
    }
}

impl Drop for GarageServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
