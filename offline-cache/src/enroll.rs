//! The terminal's side of enrollment (`model::enroll`): make the device
//! key, pick a one-time code, present it to the hub and poll until a
//! technician has bound it, then keep what the hub sent in
//! `enrollment.json` beside the outbox.
//!
//! TPM 2.0: not used yet (no TPM on the machines this was built on); the
//! key is a 0600 file in the data directory (see [`DeviceIdentity`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use model::enroll::{code_from_bytes, qr_payload, EnrollAnswer, EnrollRequest, Enrollment};
use model::protocol::{ErrorBody, ErrorCode};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::identity::{DeviceIdentity, IdentityError};

/// The id a device key is loaded under before the hub names the terminal.
pub const UNENROLLED_ID: &str = "UNENROLLED";
/// File in the data directory that holds the enrollment.
pub const ENROLLMENT_FILE: &str = "enrollment.json";
/// The device key file in the data directory.
pub const DEVICE_KEY_FILE: &str = "device.key";

#[derive(Debug, Error)]
pub enum EnrollError {
    #[error("hub URL {0:?} must start with http:// or https://")]
    BadUrl(String),
    #[error("serial {0:?} must be 1..64 letters, digits, '-', '_' or '.'")]
    BadSerial(String),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The hub answered with a refusal that polling will not change.
    #[error("the hub refused enrollment ({code:?}): {message}")]
    Refused { code: ErrorCode, message: String },
    #[error("the hub's answer is not an enrollment answer (HTTP {0})")]
    Malformed(u16),
    #[error("no technician bound the code before it expired")]
    TimedOut,
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{path} is not an enrollment record: {reason}")]
    BadRecord { path: PathBuf, reason: String },
    #[error("cannot reach the hub: {0}")]
    Unreachable(String),
}

impl EnrollError {
    /// The refusal's code, if the hub refused.
    pub fn refusal(&self) -> Option<ErrorCode> {
        match self {
            EnrollError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// What the terminal keeps once enrolled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledTerminal {
    pub hub_url: String,
    pub serial: String,
    pub public_key_fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: time::OffsetDateTime,
    pub enrollment: Enrollment,
}

impl EnrolledTerminal {
    /// The enrollment in `data_dir`, if the terminal was enrolled.
    pub fn load(data_dir: &Path) -> Result<Option<EnrolledTerminal>, EnrollError> {
        let path = data_dir.join(ENROLLMENT_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| EnrollError::BadRecord { path, reason: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(EnrollError::Io { what: "cannot read", path, source }),
        }
    }

    /// Writes `enrollment.json` whole or not at all (temp file, fsync, rename).
    pub fn save(&self, data_dir: &Path) -> Result<PathBuf, EnrollError> {
        let path = data_dir.join(ENROLLMENT_FILE);
        // A random name, created exclusive (O_EXCL never follows a symlink):
        // `kioskctl enroll` runs as root in a directory the kiosk user owns,
        // and a symlink planted at a fixed temp name would be written through.
        let mut rnd = [0u8; 8];
        rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut rnd)
            .map_err(|e| EnrollError::Identity(IdentityError::Entropy(e.to_string())))?;
        let tmp = data_dir.join(format!(".{ENROLLMENT_FILE}.{}.tmp", hex::encode(rnd)));
        let io = |what, source| EnrollError::Io { what, path: path.clone(), source };
        let json = serde_json::to_vec_pretty(self).map_err(|e| EnrollError::BadRecord { path: path.clone(), reason: e.to_string() })?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(|e| io("cannot create", e))?;
        if let Err(e) = f.write_all(&json).and_then(|()| f.sync_all()).and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io("cannot write", e));
        }
        if let Ok(d) = std::fs::File::open(data_dir) {
            let _ = d.sync_all();
        }
        Ok(path)
    }

    /// The device identity under the id the hub gave.
    pub fn identity(&self, data_dir: &Path) -> Result<DeviceIdentity, EnrollError> {
        Ok(DeviceIdentity::load_or_create(&data_dir.join(DEVICE_KEY_FILE), &self.enrollment.terminal_id)?.0)
    }
}

/// One enrollment attempt: a device key and a fresh one-time code.
pub struct Enroller {
    http: reqwest::Client,
    url: String,
    hub_url: String,
    identity: DeviceIdentity,
    serial: String,
    code: String,
}

/// A fresh one-time code from the OS's CSPRNG.
pub fn fresh_code() -> Result<String, EnrollError> {
    let mut bytes = [0u8; 5];
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut bytes)
        .map_err(|e| EnrollError::Identity(IdentityError::Entropy(e.to_string())))?;
    Ok(code_from_bytes(bytes))
}

impl Enroller {
    /// Loads (or makes, 0600) the device key in `data_dir` and picks a new code.
    pub fn new(hub_url: &str, data_dir: &Path, serial: &str) -> Result<Enroller, EnrollError> {
        Enroller::with_code(hub_url, data_dir, serial, &fresh_code()?)
    }

    /// With a given code (tests replay one).
    pub fn with_code(hub_url: &str, data_dir: &Path, serial: &str, code: &str) -> Result<Enroller, EnrollError> {
        // https, or http to this machine only: enrollment hands out the keys the terminal pins.
        crate::hub_url::check_hub_url(hub_url, false).map_err(|e| EnrollError::BadUrl(e.to_string()))?;
        if !model::enroll::valid_serial(serial) {
            return Err(EnrollError::BadSerial(serial.to_owned()));
        }
        let code = model::enroll::normalize_code(code).ok_or_else(|| EnrollError::Refused {
            code: ErrorCode::Invalid,
            message: "not an enrollment code".into(),
        })?;
        std::fs::create_dir_all(data_dir).map_err(|source| EnrollError::Io { what: "cannot create", path: data_dir.to_owned(), source })?;
        let (identity, _) = DeviceIdentity::load_or_create(&data_dir.join(DEVICE_KEY_FILE), UNENROLLED_ID)?;
        crate::sync::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| EnrollError::Unreachable(e.to_string()))?;
        let base = hub_url.trim_end_matches('/');
        Ok(Enroller { http, url: format!("{base}/v1/enroll"), hub_url: base.to_owned(), identity, serial: serial.to_owned(), code })
    }

    /// The code to show (normalized; show it with `model::enroll::display_code`).
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn fingerprint(&self) -> String {
        self.identity.public_key().fingerprint()
    }

    /// What the QR on screen carries: serial, key fingerprint, code.
    pub fn qr_payload(&self) -> String {
        qr_payload(&self.serial, &self.identity.public_key(), &self.code)
    }

    /// Presents the code once. Transport failures are [`EnrollError::Unreachable`]
    /// (worth retrying); a 429 or busy hub is `Ok(Err(wait))`.
    pub async fn present(&self) -> Result<Result<EnrollAnswer, Duration>, EnrollError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let req = EnrollRequest::sign(self.identity.key(), &self.serial, &self.code, now);
        let resp = self.http.post(&self.url).json(&req).send().await.map_err(|e| EnrollError::Unreachable(e.to_string()))?;
        let status = resp.status();
        let retry = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = resp.bytes().await.map_err(|e| EnrollError::Unreachable(e.to_string()))?;
        if status == StatusCode::OK {
            return serde_json::from_slice(&body).map(Ok).map_err(|_| EnrollError::Malformed(status.as_u16()));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Ok(Err(retry.unwrap_or(Duration::from_secs(5))));
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            // A busy hub, or a proxy in the way: try again.
            Ok(e) if e.code == ErrorCode::Busy => Ok(Err(retry.unwrap_or(Duration::from_secs(5)))),
            Ok(e) => Err(EnrollError::Refused { code: e.code, message: e.message }),
            Err(_) if status.is_server_error() => Err(EnrollError::Unreachable(format!("HTTP {status}"))),
            Err(_) => Err(EnrollError::Malformed(status.as_u16())),
        }
    }

    /// Presents and polls every `poll_every` until bound, refused, or
    /// `give_up_after`; `on_wait` hears each pending answer's expiry (unix
    /// seconds) or transport problem. Saves and returns the enrollment.
    pub async fn wait(
        &self,
        data_dir: &Path,
        poll_every: Duration,
        give_up_after: Duration,
        mut on_wait: impl FnMut(Result<i64, &EnrollError>),
    ) -> Result<EnrolledTerminal, EnrollError> {
        let deadline = tokio::time::Instant::now() + give_up_after;
        loop {
            let pause = match self.present().await {
                Ok(Ok(EnrollAnswer::Enrolled(enrollment))) => {
                    let done = EnrolledTerminal {
                        hub_url: self.hub_url.clone(),
                        serial: self.serial.clone(),
                        public_key_fingerprint: self.fingerprint(),
                        enrolled_at: time::OffsetDateTime::now_utc(),
                        enrollment,
                    };
                    done.save(data_dir)?;
                    tracing::info!(terminal = %done.enrollment.terminal_id, village = %done.enrollment.village_code, "enrolled");
                    return Ok(done);
                }
                Ok(Ok(EnrollAnswer::Pending { expires_at })) => {
                    on_wait(Ok(expires_at));
                    poll_every
                }
                Ok(Err(wait)) => wait.max(poll_every),
                Err(e @ EnrollError::Unreachable(_)) => {
                    on_wait(Err(&e));
                    poll_every
                }
                Err(e) => return Err(e),
            };
            if tokio::time::Instant::now() + pause > deadline {
                return Err(EnrollError::TimedOut);
            }
            tokio::time::sleep(pause).await;
        }
    }
}
