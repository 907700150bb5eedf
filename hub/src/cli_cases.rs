//! `hub terminal …`, `hub cases list` and `hub case open|accept|process|reject|complete`:
//! the registry of trusted terminals and the back office's decisions.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use clap::{Subcommand, ValueEnum};
use hub::backoffice::{self, Decision};
use hub::HubDb;
use model::{CaseStatus, VillageCode};

use crate::cli_common::{load_platform_key, now, open_store_sync, parse_trust, stamp, status_word, write_private, BLOB_DIR};
use crate::cli_sms;

#[derive(Debug, Subcommand)]
pub enum TerminalCmd {
    /// Trust a terminal's device key.
    Add {
        #[arg(long)]
        id: String,
        /// `ed25519:BASE64`, as the terminal's key file's public half.
        #[arg(long)]
        public_key: String,
        /// 12-digit village code the terminal serves.
        #[arg(long)]
        village: Option<String>,
        #[arg(long)]
        label: Option<String>,
    },
    /// Refuse a terminal's requests from now on (lost, stolen, replaced).
    Revoke { id: String },
    List,
    /// Set the config terminals pull (one terminal with --id, else the default).
    Config {
        #[arg(long)]
        id: Option<String>,
        #[arg(long, default_value_t = 15)]
        sync_interval_secs: u64,
        #[arg(long, default_value_t = 300)]
        heartbeat_interval_secs: u64,
        #[arg(long)]
        notice: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Received,
    Accepted,
    Processing,
    Done,
    Rejected,
}

impl From<StatusArg> for CaseStatus {
    fn from(s: StatusArg) -> CaseStatus {
        match s {
            StatusArg::Received => CaseStatus::Received,
            StatusArg::Accepted => CaseStatus::Accepted,
            StatusArg::Processing => CaseStatus::Processing,
            StatusArg::Done => CaseStatus::Done,
            StatusArg::Rejected => CaseStatus::Rejected,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CasesCmd {
    List {
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum CaseCmd {
    /// Unseal a case's submission with the platform key and show it.
    Open {
        case_number: String,
        #[arg(long, env = "CUNBAN_PLATFORM_KEY_FILE")]
        platform_key_file: PathBuf,
        /// Write the attachments (plain) into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 受理.
    Accept {
        case_number: String,
        /// With the platform key, the villager's number is read and a progress SMS goes out.
        #[arg(long)]
        platform_key_file: Option<PathBuf>,
    },
    /// 办理中.
    Process {
        case_number: String,
        #[arg(long)]
        platform_key_file: Option<PathBuf>,
    },
    /// 不予受理 / 退回, with a reason for the villager.
    Reject {
        case_number: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        platform_key_file: Option<PathBuf>,
    },
    /// 办结, optionally with the result document (PDF).
    Complete {
        case_number: String,
        #[arg(long)]
        result: Option<PathBuf>,
        #[arg(long)]
        platform_key_file: Option<PathBuf>,
    },
}

pub async fn terminal_cmd(db: &Path, cmd: TerminalCmd) -> anyhow::Result<()> {
    let store = open_store_sync(db)?;
    match cmd {
        TerminalCmd::Add { id, public_key, village, label } => {
            let mut t = parse_trust(&format!("{id}:{public_key}"))?;
            t.village_code = village.map(|v| VillageCode::parse(&v).map_err(|_| anyhow!("village {v:?} is not a 12-digit division code"))).transpose()?;
            t.label = label;
            let fp = t.public_key.fingerprint();
            store.add_terminal(&t, now())?;
            println!("terminal {id} trusted (key {fp})");
        }
        TerminalCmd::Revoke { id } => {
            store.revoke_terminal(&id, now())?;
            println!("terminal {id} revoked");
        }
        TerminalCmd::List => {
            for t in store.terminals()? {
                let village = t.village_code.as_ref().map(|v| v.as_str().to_owned()).unwrap_or_else(|| "-".into());
                let seen = t.last_seen_at.map(stamp).unwrap_or_else(|| "never".into());
                println!("{}\t{}\t{}\tkey {}\tlast seen {}", t.id, t.status.as_str(), village, t.public_key.fingerprint(), seen);
            }
        }
        TerminalCmd::Config { id, sync_interval_secs, heartbeat_interval_secs, notice } => {
            let current = store.terminal_config(id.as_deref().unwrap_or("*"))?;
            let config = model::protocol::TerminalConfig { version: current.version + 1, sync_interval_secs, heartbeat_interval_secs, notice, ..Default::default() };
            store.set_terminal_config(id.as_deref(), &config)?;
            println!("config version {} set for {}", config.version, id.as_deref().unwrap_or("all terminals"));
        }
    }
    Ok(())
}

pub async fn case_cmd(db: &Path, sms: &cli_sms::GatewayArgs, cmd: CaseCmd) -> anyhow::Result<()> {
    let store = open_store_sync(db)?;
    let (case_number, decision, key_file) = match cmd {
        CaseCmd::Open { case_number, platform_key_file, out } => {
            let key = load_platform_key(&platform_key_file)?;
            let hubdb = HubDb::open_any(db, BLOB_DIR.get().cloned().flatten().as_deref())?;
            let (summary, filing) = backoffice::open_case(&hubdb, store.as_ref(), &case_number, &key)?;
            let s = &filing.submission;
            // Stdout only, for the authorised clerk: never the log. Every
            // string the terminal supplied goes through `printable`.
            let p = backoffice::printable;
            println!("case {}  status {}  item {}", summary.case_number, status_word(summary.status), p(s.item_code.as_str()));
            println!("submission {}  from terminal {}  village {}", s.id, p(&s.terminal_id), p(s.village_code.as_str()));
            println!("filed {}", stamp(s.created_at));
            println!("applicant {}  ID {}  born {}", p(&s.applicant.name), p(s.applicant.id_number.expose()), s.applicant.birth_date);
            println!("address {}", p(&s.applicant.address));
            if let Some(o) = s.filed_by.on_behalf() {
                println!(
                    "filed on the villager's behalf by {} (staff {}), relation {}, trip {}, signed with {} stroke(s)",
                    p(&o.agent.name),
                    p(&o.agent.staff_number.to_string()),
                    p(&format!("{:?}", o.relation)),
                    p(&o.trip_id.to_string()),
                    o.signature.strokes().len()
                );
            }
            for (k, v) in &s.form {
                println!("  {}: {}", p(k), p(v));
            }
            // Mailing the result: what the platform answered, so the clerk
            // knows whether to arrange the post by hand.
            match store.mail_state(&case_number)? {
                Some((state, tries, last)) => println!("mail order {state}  tries {tries}{}", last.map(|e| format!("  last answer: {}", p(&e))).unwrap_or_default()),
                None if s.form.get(hub::result_mail::DELIVERY_KEY).map(String::as_str) == Some("mail") => {
                    println!("mail chosen, no order recorded yet (is the hub served with --result-mail-url?)")
                }
                None => {}
            }
            // A bundle filing: each item is a case of its own.
            if let Some(view) = store.case(&case_number)? {
                for part in &view.parts {
                    println!("part {}  status {}  item {}", part.case_number, status_word(part.status), p(&part.item_code));
                }
            }
            backoffice::e_license_lines(s).iter().for_each(|l| println!("{l}"));
            for (i, (r, bytes)) in filing.attachments.iter().enumerate() {
                println!("attachment {i}: {} {} {} bytes sha256 {}", p(&r.material_code), p(&r.media_type), r.size, p(&r.sha256));
                if let Some(dir) = &out {
                    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
                    let path = dir.join(backoffice::attachment_file_name(i, &r.material_code, &r.media_type));
                    write_private(&path, bytes.as_slice())?;
                    println!("  written to {}", p(&path.display().to_string()));
                }
            }
            return Ok(());
        }
        CaseCmd::Accept { case_number, platform_key_file } => (case_number, Decision::Accept, platform_key_file),
        CaseCmd::Process { case_number, platform_key_file } => (case_number, Decision::Process, platform_key_file),
        CaseCmd::Reject { case_number, reason, platform_key_file } => (case_number, Decision::Reject { reason }, platform_key_file),
        CaseCmd::Complete { case_number, result, platform_key_file } => {
            let result_pdf = result.map(|p| std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))).transpose()?;
            (case_number, Decision::Complete { result_pdf }, platform_key_file)
        }
    };
    let actor = std::env::var("USER").unwrap_or_else(|_| "back office".into());
    // A part of a bundle filing (一件事一次办) is decided on its own.
    if let Some((bundle, _)) = store.case_part(&case_number)? {
        let part = backoffice::decide_part(store.clone(), &case_number, decision, &actor).await?;
        println!("case {} (part of {bundle}, item {}) is now {}", part.case_number, part.item_code, status_word(part.status));
        return Ok(());
    }
    let summary = backoffice::decide(store.clone(), &case_number, decision, &actor).await?;
    println!("case {} is now {}", summary.case_number, status_word(summary.status));
    // The text of this change (and any held up before) goes now when it can;
    // otherwise it waits in the outbox for `hub sms send` or the serving hub.
    if let (Some(gw), Some(key_file)) = (sms.gateway()?, key_file) {
        let key = load_platform_key(&key_file)?;
        let blob_dir = BLOB_DIR.get().cloned().flatten();
        let mut phones = hub::sms::phone_reader(db, blob_dir.as_deref(), store.as_ref(), &key);
        cli_sms::print_report(&hub::sms::dispatch(store.as_ref(), &gw, &mut *phones, now()).await?);
    }
    Ok(())
}
