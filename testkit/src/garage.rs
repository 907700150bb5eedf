//! Garage, an S3-compatible object store, as a single node on loopback
//! with one key and one bucket (`cunban`). `./dev test` installs Garage
//! once per machine into `~/.cache/cunban-tools/garage-<VERSION>`
//! (`CUNBAN_TOOLS_DIR` moves that folder; `CUNBAN_GARAGE` names another
//! binary). Killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{io, Error, Result};
use crate::process::{random_hex, reap_stale, run, tail, Dir, Killed, SERVER_PID};

/// The release `./dev` installs.
pub const VERSION: &str = "2.5.0";

/// The bucket created, and the name of its key.
pub const BUCKET: &str = "cunban";

/// A running node with its bucket; killed when dropped.
#[derive(Debug)]
pub struct Garage {
    // Declared first: killed before its directory goes.
    child: Killed,
    dir: Dir,
    bin: PathBuf,
    s3_port: u16,
}

/// The Garage binary: `CUNBAN_GARAGE`, else where `./dev` installs it.
pub fn binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CUNBAN_GARAGE") {
        return binary_at(PathBuf::from(p));
    }
    let tools = match std::env::var_os("CUNBAN_TOOLS_DIR") {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root")).join(".cache/cunban-tools"),
    };
    binary_at(tools.join(format!("garage-{VERSION}/bin/garage")))
}

/// `bin`, if it is a file.
pub fn binary_at(bin: PathBuf) -> Result<PathBuf> {
    if bin.is_file() {
        return Ok(bin);
    }
    Err(Error::Missing { tool: "Garage", hint: format!("no Garage {VERSION} at {}: run ./dev test (it installs it) or set CUNBAN_GARAGE", bin.display()) })
}

/// `s3://bucket?query` with `/prefix` after the bucket.
pub fn with_prefix(base: &str, prefix: &str) -> String {
    match base.split_once('?') {
        Some((b, q)) => format!("{}/{prefix}?{q}", b.trim_end_matches('/')),
        None => format!("{}/{prefix}", base.trim_end_matches('/')),
    }
}

impl Garage {
    /// A node in a temporary directory.
    pub fn start() -> Result<Garage> {
        Self::launch(None)
    }

    /// A node with its data, configuration and log in `dir` (kept).
    pub fn start_in(dir: &Path) -> Result<Garage> {
        Self::launch(Some(dir))
    }

    fn launch(dir: Option<&Path>) -> Result<Garage> {
        let bin = binary()?;
        reap_stale("cunban-garage", SERVER_PID, rustix::process::Signal::KILL);
        let dir = Dir::new(dir, "cunban-garage")?;
        let (rpc, s3) = (crate::ports::free_port()?, crate::ports::free_port()?);
        let conf = format!(
            "metadata_dir = \"{d}/meta\"\ndata_dir = \"{d}/data\"\ndb_engine = \"lmdb\"\nreplication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc}\"\nrpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{secret}\"\n\
             [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{s3}\"\nroot_domain = \".s3.garage.localhost\"\n",
            d = dir.path().display(),
            secret = random_hex(32)?
        );
        let conf_path = dir.path().join("garage.toml");
        std::fs::write(&conf_path, conf).map_err(io(format!("writing {}", conf_path.display())))?;
        let log = std::fs::File::create(dir.path().join("garage.log")).map_err(io("creating garage.log"))?;
        let log2 = log.try_clone().map_err(io("garage.log"))?;
        let child = Command::new(&bin)
            .arg("-c")
            .arg(&conf_path)
            .arg("server")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(io(format!("starting {}", bin.display())))?;
        let mut garage = Garage { child: Killed(child), dir, bin, s3_port: s3 };
        std::fs::write(garage.dir().join(SERVER_PID), garage.child.0.id().to_string()).map_err(io("writing the server's pid"))?;
        // The node answers its CLI once its RPC is up.
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            if let Ok(out) = run(&mut garage.cli(&["node", "id", "-q"]), "garage node id") {
                break out.trim().split('@').next().unwrap_or_default().to_owned();
            }
            if garage.child.exited() || Instant::now() > deadline {
                return Err(Error::NotStarted { what: "Garage", detail: tail(&garage.log(), 2000) });
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        garage.ok(&["layout", "assign", "-z", "dc1", "-c", "1G", &id])?;
        garage.ok(&["layout", "apply", "--version", "1"])?;
        let key = garage.ok(&["key", "create", BUCKET])?;
        let field = |name: &str| {
            key.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned())).ok_or_else(|| Error::Failed { what: "garage key create".into(), output: format!("no {name:?} in {key}") })
        };
        let creds = format!("access_key_id = {}\nsecret_access_key = {}\n", field("Key ID:")?, field("Secret key:")?);
        std::fs::write(garage.credentials_file(), creds).map_err(io("writing the S3 credentials"))?;
        garage.ok(&["bucket", "create", BUCKET])?;
        garage.ok(&["bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", BUCKET])?;
        Ok(garage)
    }

    fn cli(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("-c").arg(self.dir().join("garage.toml")).args(args).env("RUST_LOG", "warn").stdin(Stdio::null());
        c
    }

    /// Runs a set-up command, again for up to 20 s while it fails: a node
    /// that has just answered `node id` may still refuse the next step
    /// (seen with many servers starting at once).
    fn ok(&self, args: &[&str]) -> Result<String> {
        let what = format!("garage {}", args.join(" "));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match run(&mut self.cli(args), &what) {
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(250)),
                r => return r,
            }
        }
    }

    /// Its log file.
    pub fn log(&self) -> PathBuf {
        self.dir().join("garage.log")
    }

    /// Its directory (configuration, data, log, credentials).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The key's credentials, in the hub's `credentials_file` format.
    pub fn credentials_file(&self) -> PathBuf {
        self.dir().join("s3-credentials")
    }

    /// The S3 endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// The bucket's `s3://` URL (the hub's `--objects`), no prefix.
    pub fn base_url(&self) -> String {
        format!("s3://{BUCKET}?endpoint={}&region=garage&credentials_file={}", self.endpoint(), self.credentials_file().display())
    }

    /// The bucket's URL with its objects under `prefix` (one hub each).
    pub fn url(&self, prefix: &str) -> String {
        with_prefix(&self.base_url(), prefix)
    }

    /// `rclone` (Debian `rclone`) with this node as its `:s3:` remote,
    /// credentials in its environment (as hub/README.md's backup does).
    pub fn rclone(&self) -> Result<Command> {
        let path = self.credentials_file();
        let creds = std::fs::read_to_string(&path).map_err(io(format!("reading {}", path.display())))?;
        let field = |k: &str| creds.lines().find_map(|l| l.strip_prefix(k)).unwrap_or_default().trim_start_matches([' ', '=']).to_owned();
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
        Ok(c)
    }

    /// The `:s3:` path of `prefix` in the bucket, for `rclone`.
    pub fn rclone_path(&self, prefix: &str) -> String {
        format!(":s3:{BUCKET}/{prefix}")
    }
}
