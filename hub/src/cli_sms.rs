//! The province's SMS gateway on the command line: `--sms-gateway-url` and
//! `--sms-gateway-token-file`, `hub sms send|list`, and the serving hub's
//! periodic pass over the SMS outbox.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use hub::sms::{dispatch, phone_reader, DispatchReport};
use hub::{HttpSmsConfig, HttpSmsGateway, Store};
use model::seal::PlatformSecretKey;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// The province's SMS gateway (HTTP contract in hub/README.md). Without
    /// it no text is sent, and the configs this hub signs tell terminals
    /// not to promise one.
    #[arg(long, env = "CUNBAN_SMS_GATEWAY_URL", global = true)]
    pub sms_gateway_url: Option<String>,
    /// File holding the gateway's bearer token (one line).
    #[arg(long, env = "CUNBAN_SMS_GATEWAY_TOKEN_FILE", global = true, requires = "sms_gateway_url")]
    pub sms_gateway_token_file: Option<PathBuf>,
}

impl GatewayArgs {
    pub fn gateway(&self) -> anyhow::Result<Option<HttpSmsGateway>> {
        let Some(url) = &self.sms_gateway_url else { return Ok(None) };
        if !(url.starts_with("https://") || url.starts_with("http://127.") || url.starts_with("http://localhost")) {
            bail!("the SMS gateway URL must be https:// (plain http only on loopback): numbers travel to it");
        }
        let token = match &self.sms_gateway_token_file {
            Some(p) => Zeroizing::new(std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?.trim().to_owned()),
            None => Zeroizing::new(String::new()),
        };
        Ok(Some(HttpSmsGateway::new(HttpSmsConfig::new(url, &token))?))
    }
}

#[derive(Debug, Subcommand)]
pub enum SmsCmd {
    /// One pass over the SMS outbox: send what waits (after a gateway
    /// outage, under the same idempotency keys), ask after what was sent.
    /// Needs the platform key: the numbers are read from the sealed filings.
    Send {
        #[arg(long)]
        platform_key_file: PathBuf,
    },
    /// The progress texts of a case and where each stands (no numbers shown).
    List {
        #[arg(long)]
        case: String,
    },
}

pub fn print_report(r: &DispatchReport) {
    println!(
        "SMS: {} sent, {} waiting for the gateway, {} delivered, {} failed, {} without a number, {} expired",
        r.sent, r.deferred, r.delivered, r.failed, r.no_number, r.expired
    );
}

pub async fn sms_cmd(db: &Path, blob_dir: Option<&Path>, store: &dyn Store, gateway: &GatewayArgs, cmd: SmsCmd, load: impl Fn(&Path) -> anyhow::Result<PlatformSecretKey>) -> anyhow::Result<()> {
    match cmd {
        SmsCmd::Send { platform_key_file } => {
            let Some(gw) = gateway.gateway()? else { bail!("no SMS gateway configured (--sms-gateway-url)") };
            let key = load(&platform_key_file)?;
            let mut phones = phone_reader(db, blob_dir, store, &key);
            let report = dispatch(store, &gw, &mut *phones, time::OffsetDateTime::now_utc()).await?;
            print_report(&report);
        }
        SmsCmd::List { case } => {
            for r in store.sms_of_case(&case)? {
                println!("{}\t{:?}\t{}\tattempts {}\t{}", r.key, r.status, r.state.as_str(), r.attempts, r.last_error.as_deref().unwrap_or(""));
            }
        }
    }
    Ok(())
}

