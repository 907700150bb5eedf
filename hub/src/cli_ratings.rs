//! `hub ratings report`, `hub followup list|reply`: 好差评 for the
//! operations centre and the back office (差评整改).

use anyhow::{bail, Context};
use clap::Subcommand;
use hub::Store;
use model::evaluation::Rating;

#[derive(Debug, Subcommand)]
pub enum RatingsCmd {
    /// Ratings per village and item: 非常满意 满意 基本满意 不满意 非常不满意, open follow-ups.
    Report,
    /// Forwards the ratings not yet taken to the provincial platform (GB/T
    /// 39734 terms, hub/README.md "Ratings to the platform"); run it from a
    /// timer. Each rating goes under its own key, so it is recorded once.
    Forward {
        /// The platform's base URL, e.g. https://zwfw.example.gansu.gov.cn.
        #[arg(long)]
        platform_url: String,
        /// A file (root-only) holding the platform's bearer token.
        #[arg(long)]
        token_file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum FollowUpCmd {
    /// Follow-ups of 不满意/非常不满意 ratings, nearest deadline first.
    List {
        /// Also those already answered.
        #[arg(long)]
        all: bool,
    },
    /// Answer one; the villager sees the answer at any terminal's progress query.
    Reply {
        /// The evaluation id (`hub followup list` shows it).
        #[arg(long)]
        id: String,
        /// The answer, in words a villager reads.
        #[arg(long)]
        text: String,
    },
}

/// The provincial platform's rating endpoint: https only (plain http on
/// loopback, for tests), its bearer token read from a root-only file.
pub fn platform_sink(platform_url: &str, token_file: &std::path::Path) -> anyhow::Result<hub::rating_forward::HttpRatingSink> {
    if !(platform_url.starts_with("https://") || platform_url.starts_with("http://127.") || platform_url.starts_with("http://localhost")) {
        bail!("the platform URL must be https:// (plain http only on loopback)");
    }
    let token = zeroize::Zeroizing::new(
        std::fs::read_to_string(token_file).with_context(|| format!("reading the platform token from {}", token_file.display()))?,
    );
    Ok(hub::rating_forward::HttpRatingSink::new(platform_url, token.trim(), std::time::Duration::from_secs(15))?)
}

fn grade(r: Rating) -> &'static str {
    r.label_zh()
}

pub async fn ratings_cmd(store: &dyn Store, cmd: RatingsCmd) -> anyhow::Result<()> {
    match cmd {
        RatingsCmd::Forward { platform_url, token_file } => {
            let sink = platform_sink(&platform_url, &token_file)?;
            let r = hub::rating_forward::forward_ratings(store, &sink, time::OffsetDateTime::now_utc()).await?;
            println!("forwarded {}, refused {}, waiting {}", r.sent, r.refused, r.deferred);
        }
        RatingsCmd::Report => {
            println!("village\titem\t非常满意\t满意\t基本满意\t不满意\t非常不满意\topen follow-ups");
            for t in store.ratings_report()? {
                let c = t.counts;
                println!("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}", t.village_code, t.item_code, c[0], c[1], c[2], c[3], c[4], t.open_followups);
            }
        }
    }
    Ok(())
}

pub fn followup_cmd(store: &dyn Store, cmd: FollowUpCmd) -> anyhow::Result<()> {
    match cmd {
        FollowUpCmd::List { all } => {
            let now = time::OffsetDateTime::now_utc();
            for f in store.followups(!all)? {
                let state = match &f.reply {
                    Some((_, by, at)) => format!("answered by {} at {}", hub::backoffice::printable(by), at.date()),
                    None if f.due_at < now => "OVERDUE".to_owned(),
                    None => "open".to_owned(),
                };
                let reasons: Vec<String> = f.reasons.iter().map(|r| hub::backoffice::printable(r)).collect();
                println!(
                    "{}\tcase {}\t{}\t{}\tterminal {}\tdue {}\t{}\t{}",
                    f.evaluation_id,
                    f.case_number,
                    f.item_code,
                    grade(f.rating),
                    f.terminal_id,
                    f.due_at.date(),
                    state,
                    reasons.join("；")
                );
            }
        }
        FollowUpCmd::Reply { id, text } => {
            let text = text.trim();
            if text.is_empty() || text.chars().count() > 500 || text.chars().any(char::is_control) {
                bail!("a reply is 1..500 characters without control characters");
            }
            let id = uuid::Uuid::parse_str(&id).context("the follow-up id is the evaluation's UUID")?;
            let actor = std::env::var("USER").unwrap_or_else(|_| "back office".into());
            let f = store.reply_followup(id, text, &actor, time::OffsetDateTime::now_utc())?;
            println!("follow-up of case {} answered", f.case_number);
        }
    }
    Ok(())
}
