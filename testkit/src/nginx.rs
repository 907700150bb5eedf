//! nginx (Debian's `nginx-light`) in front of N upstreams on loopback, as
//! hub/README.md describes a province's load balancer: one worker,
//! keep-alive to the upstreams, the client's address forwarded, and a
//! request retried on another upstream only when nothing reached a dead
//! one or it answered 502/503. Killed on drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{io, Error, Result};
use crate::process::{reap_stale, tail, Dir, Killed};

/// Where Debian's packages put the binary.
const CANDIDATES: &[&str] = &["/usr/sbin/nginx", "/usr/bin/nginx"];

/// A running nginx; killed when dropped.
#[derive(Debug)]
pub struct Nginx {
    // Declared first: killed before its directory goes.
    child: Killed,
    dir: Dir,
    port: u16,
}

/// The nginx binary.
pub fn binary() -> Result<PathBuf> {
    binary_among(CANDIDATES)
}

/// The first of `candidates` that exists.
pub fn binary_among(candidates: &[&str]) -> Result<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file()).ok_or_else(|| Error::Missing {
        tool: "nginx",
        hint: format!("not at {}: install the Debian package `nginx-light` (./dev test does)", candidates.join(" or ")),
    })
}

/// The configuration: `upstreams` behind `port`, temporary files in `dir`.
pub fn config(dir: &Path, port: u16, upstreams: &[SocketAddr]) -> String {
    let d = dir.display();
    let servers: String = upstreams.iter().map(|a| format!("server {a} max_fails=0;\n")).collect();
    format!(
        "daemon off; master_process off; user root; worker_processes 1; worker_rlimit_nofile 20000; pid {d}/nginx.pid; error_log {d}/nginx-error.log;
events {{ worker_connections 8192; }}
http {{
  access_log off; client_max_body_size 20m;
  client_body_temp_path {d}/nx-body; proxy_temp_path {d}/nx-proxy; fastcgi_temp_path {d}/nx-fcgi; uwsgi_temp_path {d}/nx-uwsgi; scgi_temp_path {d}/nx-scgi;
  upstream hubs {{ {servers} keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{ proxy_pass http://hubs; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_next_upstream error timeout http_502 http_503; proxy_connect_timeout 2s; proxy_read_timeout 60s; }}
  }}
}}\n"
    )
}

impl Nginx {
    /// In front of `upstreams`, in a temporary directory.
    pub fn start(upstreams: &[SocketAddr]) -> Result<Nginx> {
        Self::launch(None, upstreams)
    }

    /// In front of `upstreams`, its configuration and logs in `dir` (kept).
    pub fn start_in(dir: &Path, upstreams: &[SocketAddr]) -> Result<Nginx> {
        Self::launch(Some(dir), upstreams)
    }

    fn launch(dir: Option<&Path>, upstreams: &[SocketAddr]) -> Result<Nginx> {
        let exe = binary()?;
        reap_stale("cunban-nginx", "nginx.pid", rustix::process::Signal::KILL);
        let dir = Dir::new(dir, "cunban-nginx")?;
        let port = crate::ports::free_port()?;
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config(dir.path(), port, upstreams)).map_err(io(format!("writing {}", conf.display())))?;
        let child = Command::new(&exe)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("nginx-start.log"))
            // Nothing inherited: an nginx outliving its test must not hold the test's output open.
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io(format!("starting {}", exe.display())))?;
        let mut nginx = Nginx { child: Killed(child), dir, port };
        // nginx writes its pid file after binding its port: the pid file
        // with its own pid means the port is its own.
        let deadline = Instant::now() + Duration::from_secs(10);
        let own = nginx.child.0.id().to_string();
        loop {
            if nginx.child.exited() {
                return Err(Error::NotStarted { what: "nginx", detail: tail(&nginx.dir().join("nginx-error.log"), 2000) });
            }
            let pid = std::fs::read_to_string(nginx.dir().join("nginx.pid")).unwrap_or_default();
            if pid.trim() == own && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(nginx);
            }
            if Instant::now() > deadline {
                return Err(Error::NotStarted { what: "nginx", detail: format!("not listening after 10 s; {}", tail(&nginx.dir().join("nginx-error.log"), 2000)) });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// Its directory (configuration, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
