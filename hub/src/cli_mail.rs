//! `hub --result-mail-url URL --result-mail-token-file FILE`: the platform
//! mails results (结果物流快递; contract in hub/README.md, "Result mailing").

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use hub::result_mail::ResultMailPlatform;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// The provincial platform's endpoint that takes mail orders for
    /// results. Say it only where the platform really mails them: with it
    /// (and --platform-key-file, to read the villager's choice) the configs
    /// this hub signs let terminals offer 邮寄到家, and each such case is
    /// ordered from the platform. Without it no terminal offers mailing.
    #[arg(long, env = "CUNBAN_RESULT_MAIL_URL")]
    pub result_mail_url: Option<String>,
    /// File holding the platform's bearer token (one line).
    #[arg(long, env = "CUNBAN_RESULT_MAIL_TOKEN_FILE", requires = "result_mail_url")]
    pub result_mail_token_file: Option<PathBuf>,
}

impl MailArgs {
    /// The platform's mail endpoint, when configured; it needs the platform key.
    pub fn platform(&self, has_platform_key: bool) -> anyhow::Result<Option<Arc<ResultMailPlatform>>> {
        let Some(url) = &self.result_mail_url else {
            tracing::info!("no result mailing: terminals offer collection at the village point only");
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://127.") || url.starts_with("http://localhost")) {
            bail!("the result mailing URL must be https:// (plain http only on loopback): addresses travel to it");
        }
        if !has_platform_key {
            bail!("--result-mail-url needs --platform-key-file: the villager's choice is read from the sealed filing");
        }
        let Some(p) = &self.result_mail_token_file else { bail!("--result-mail-url needs --result-mail-token-file") };
        let token = Zeroizing::new(std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?.trim().to_owned());
        Ok(Some(Arc::new(ResultMailPlatform::new(url, &token, std::time::Duration::from_secs(10))?)))
    }
}
