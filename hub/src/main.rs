//! `hub`: serve the terminal sync API, and administer it.
//!
//! Serving prints `listening on ADDR` on stdout once it accepts connections,
//! so a parent process started with `--listen 127.0.0.1:0` can learn the port.
//!
//! - `hub --generate-platform-key FILE` / `--generate-catalog-key FILE`: a new
//!   private key (mode 0600, never overwriting); prints the public half.
//! - `hub terminal add|revoke|list|config`: the registry of trusted terminals.
//! - `hub enroll --code C --village V [--profile kiosk|van]`: bind an enrolling terminal.
//! - `hub cases list`, `hub case open|accept|process|reject|complete`: the back office.
//! - `hub catalog publish`: sign and publish a catalog.
//! - `hub operator add|revoke` (vans' assistants), `hub import FILE` (a van's sealed queue).
//! - `hub update publish|rollout|pause|resume|halt|list`: signed updates in stages.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use hub::backoffice;
use hub::HubOptions;
use model::auth::SigningKey;
use model::seal::{default_suite, PlatformSecretKey};
use model::VillageCode;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

mod cli_cases;
mod cli_common;
mod cli_mail;
mod cli_ratings;
mod cli_sms;
mod cli_update;
mod cli_van;

use cli_cases::{case_cmd, terminal_cmd, CaseCmd, CasesCmd, TerminalCmd};
use cli_common::{load_catalog_key, load_platform_key, now, open_store_sync, parse_trust, random_seed, shown_db, sign_catalog, stamp, status_word, write_secret, BLOB_DIR};

#[derive(Debug, Parser)]
#[command(name = "hub", version, about = "The server Cunban terminals sync with")]
struct Args {
    /// SQLite database file (created if missing), or a PostgreSQL URL
    /// (`postgres://user@host/db`; needs --blob-dir and --signing-key-file).
    #[arg(long, default_value = "hub.db", global = true, env = "CUNBAN_HUB_DB")]
    db: PathBuf,
    /// With PostgreSQL: where attachments, result documents and update
    /// bundles go, shared by every instance: a folder, or an S3-compatible
    /// bucket, `s3://BUCKET[/PREFIX]?endpoint=URL&region=R&credentials_file=PATH`
    /// (credentials from that file or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).
    #[arg(long, visible_alias = "objects", global = true, env = "CUNBAN_BLOB_DIR")]
    blob_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: SocketAddr,
    /// The platform's private key (text from --generate-platform-key). With
    /// it, sealed manifests that don't open are refused at upload.
    #[arg(long, env = "CUNBAN_PLATFORM_KEY_FILE")]
    platform_key_file: Option<PathBuf>,
    /// Trust a terminal's device key at start: `ID:ed25519:BASE64` (demos and
    /// tests; `hub terminal add` is the lasting way). May be repeated.
    #[arg(long, value_name = "ID:PUBLIC_KEY")]
    trust_terminal: Vec<String>,
    /// Publish this catalog (JSON), signed with --catalog-key-file, at start.
    #[arg(long, requires = "catalog_key_file")]
    catalog_file: Option<PathBuf>,
    /// The catalog signing key (text from --generate-catalog-key).
    #[arg(long)]
    catalog_key_file: Option<PathBuf>,
    /// The hub's signing key for operator lists and terminal configs
    /// (default: `<db>.signing.key`, made on first start, 0600).
    #[arg(long, env = "CUNBAN_SIGNING_KEY_FILE")]
    signing_key_file: Option<PathBuf>,
    /// Print the public half of the hub's signing key (what terminals pin as
    /// `hub_public_key`; enrollment hands it out), then exit.
    #[arg(long)]
    print_signing_key: bool,
    /// Fleet page: minutes without contact before a terminal counts as stale.
    #[arg(long, default_value_t = 30)]
    stale_after_mins: u64,
    /// Write a new platform private key to FILE, print its public key, exit.
    #[arg(long, value_name = "FILE", conflicts_with = "platform_key_file")]
    generate_platform_key: Option<PathBuf>,
    /// Write a new catalog signing key to FILE, print its public key, exit.
    #[arg(long, value_name = "FILE")]
    generate_catalog_key: Option<PathBuf>,
    #[command(flatten)]
    sms: cli_sms::GatewayArgs,
    #[command(flatten)]
    mail: cli_mail::MailArgs,
    /// The province's e-license library (电子证照库; HTTP contract in
    /// hub/README.md). Without it every lookup says "not available", and the
    /// configs this hub signs tell terminals to ask for a scan.
    #[arg(long, env = "CUNBAN_E_LICENSE_URL")]
    e_license_url: Option<String>,
    /// File holding the library's bearer token (one line).
    #[arg(long, env = "CUNBAN_E_LICENSE_TOKEN_FILE", requires = "e_license_url")]
    e_license_token_file: Option<PathBuf>,
    /// The provincial platform that takes 好差评 (GB/T 39734 terms,
    /// hub/README.md "Ratings to the platform"). With it the serving hub
    /// forwards every rating once a minute; without it they wait for
    /// `hub ratings forward`.
    #[arg(long, env = "CUNBAN_RATINGS_PLATFORM_URL")]
    ratings_platform_url: Option<String>,
    /// File (root-only) holding the platform's bearer token.
    #[arg(long, env = "CUNBAN_RATINGS_TOKEN_FILE", requires = "ratings_platform_url")]
    ratings_token_file: Option<PathBuf>,
    /// A load balancer's address (repeatable): its X-Forwarded-For names the client.
    #[arg(long, value_name = "IP")]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Requests a second and burst one terminal may make to this instance
    /// (`PER_SEC:BURST`; over it, 429 with Retry-After). A guard against a
    /// taken-over kiosk flooding the hub, far above what a kiosk does.
    #[arg(long, value_name = "PER_SEC:BURST", value_parser = parse_rate, default_value = "100:1000")]
    terminal_rate: (f64, f64),
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The registry of terminals allowed to sync.
    #[command(subcommand)]
    Terminal(TerminalCmd),
    /// List cases.
    #[command(subcommand)]
    Cases(CasesCmd),
    /// Work on one case.
    #[command(subcommand)]
    Case(CaseCmd),
    /// The service catalog terminals pull.
    #[command(subcommand)]
    Catalog(CatalogCmd),
    /// Bind a terminal that shows an enrollment code to a village (or `--list` codes waiting).
    Enroll {
        /// The code on the terminal's screen (dashes and case don't matter).
        #[arg(long, required_unless_present = "list")]
        code: Option<String>,
        /// 12-digit village code (行政区划) the terminal serves.
        #[arg(long, required_unless_present = "list")]
        village: Option<String>,
        #[arg(long, value_enum, default_value_t = ProfileArg::Kiosk)]
        profile: ProfileArg,
        /// Terminal id to register; by default T- and the serial.
        #[arg(long)]
        id: Option<String>,
        /// Key fingerprint shown on the terminal's screen (and in its QR).
        /// Required: the code alone can be read off the screen by anyone
        /// near it; binding goes ahead only if the key that presented the
        /// code has this fingerprint (a refusal names the presenter's).
        #[arg(long, required_unless_present = "list")]
        fingerprint: Option<String>,
        /// List terminals waiting with a live code instead.
        #[arg(long, conflicts_with_all = ["code", "village", "id", "fingerprint"])]
        list: bool,
    },
    /// Move a SQLite hub (every row and attachment) into an empty
    /// PostgreSQL database (attachments into --blob-dir); its terminals
    /// notice nothing if the new hub keeps the old signing key.
    Migrate {
        /// `sqlite:PATH` of the pilot's database.
        #[arg(long)]
        from: String,
        /// `postgres://…` of the empty database.
        #[arg(long)]
        to: String,
    },
    /// Assistants of the service vans (assisted mode).
    #[command(subcommand)]
    Operator(cli_van::OperatorCmd),
    /// Staff who may read the fleet page (HTTP Basic: name and token).
    #[command(subcommand)]
    Staff(StaffCmd),
    /// Apply a van's sealed queue from removable media (`kioskctl export`).
    Import(cli_van::ImportArgs),
    /// Progress texts: send what waits, list a case's texts.
    #[command(subcommand)]
    Sms(cli_sms::SmsCmd),
    /// 好差评 per village and item.
    #[command(subcommand)]
    Ratings(cli_ratings::RatingsCmd),
    /// Follow-ups of bad ratings (差评整改): list, answer.
    #[command(subcommand)]
    Followup(cli_ratings::FollowUpCmd),
    /// Signed updates: publish a bundle, roll it out in stages, pause, resume, halt.
    #[command(subcommand)]
    Update(cli_update::UpdateCmd),
}

#[derive(Debug, Subcommand)]
enum StaffCmd {
    /// Add a staff member, or give one a new token; prints the token once
    /// (the hub keeps only its hash).
    Add {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProfileArg {
    Kiosk,
    Van,
}


#[derive(Debug, Subcommand)]
enum CatalogCmd {
    /// Import the platform's item export (JSON with GB/T 39046 names, or
    /// the same as an XLSX workbook; see the README), report every bad row
    /// and field, and publish it signed.
    Import {
        file: PathBuf,
        #[arg(long)]
        catalog_key_file: PathBuf,
        /// Also write the resulting catalog JSON here (for review).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Sign a catalog JSON file and publish it.
    Publish {
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        catalog_key_file: PathBuf,
    },
}



#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();

    if let Some(path) = &args.generate_platform_key {
        let key = PlatformSecretKey::generate(default_suite(), &mut rand_core::UnwrapErr(getrandom::SysRng));
        write_secret(path, &key.to_text())?;
        println!("{}", key.public_key());
        return Ok(());
    }
    if let Some(path) = &args.generate_catalog_key {
        let key = SigningKey::from_seed(&*random_seed()?);
        write_secret(path, &key.to_text())?;
        println!("{}", key.public_key());
        return Ok(());
    }
    let _ = BLOB_DIR.set(args.blob_dir.clone());
    let postgres = args.db.to_str().is_some_and(hub::postgres::is_postgres_url);
    if postgres && args.signing_key_file.is_none() {
        anyhow::bail!("with a PostgreSQL database, give --signing-key-file (every instance uses the same key file)");
    }
    let signing_key_path = args.signing_key_file.clone().unwrap_or_else(|| hub::signing::default_path(&args.db));
    if args.print_signing_key {
        println!("{}", hub::signing::load_or_create(&signing_key_path)?.public_key());
        return Ok(());
    }
    match args.command {
        Some(Command::Terminal(cmd)) => return terminal_cmd(&args.db, cmd).await,
        Some(Command::Migrate { from, to }) => {
            let path = Path::new(from.strip_prefix("sqlite:").ok_or_else(|| anyhow!("--from takes sqlite:PATH"))?);
            if !hub::postgres::is_postgres_url(&to) {
                bail!("--to takes a postgres:// URL");
            }
            let blob_dir = args.blob_dir.clone().ok_or_else(|| anyhow!("give --blob-dir: the attachment folder of the PostgreSQL hub"))?;
            let store = hub::PgStore::open(&to, &blob_dir).with_context(|| format!("opening {}", shown_db(Path::new(&to))))?;
            let report = hub::migrate_to_postgres(path, &store).with_context(|| format!("moving {}", path.display()))?;
            for (table, n) in &report.rows {
                println!("{table}\t{n}");
            }
            println!("attachment files\t{}", report.blobs);
            println!("serve with --signing-key-file {} (terminals pin that key)", hub::signing::default_path(path).display());
            return Ok(());
        }
        Some(Command::Case(cmd)) => return case_cmd(&args.db, &args.sms, cmd).await,
        Some(Command::Cases(CasesCmd::List { status, limit })) => {
            let store = open_store_sync(&args.db)?;
            for c in backoffice::list_cases(store.as_ref(), status.map(Into::into), limit)? {
                println!(
                    "{}\t{}\t{}\tterminal {}\tfiled {}\tupdated {}{}",
                    c.case_number,
                    status_word(c.status),
                    c.item_code,
                    c.terminal_id.as_deref().unwrap_or("-"),
                    stamp(c.created_at),
                    stamp(c.updated_at),
                    if c.has_result { "\tresult" } else { "" }
                );
            }
            return Ok(());
        }
        Some(Command::Enroll { code, village, profile, id, fingerprint, list }) => {
            let store = open_store_sync(&args.db)?;
            if list {
                for e in store.pending_enrollments(now())? {
                    println!(
                        "serial {}\tkey {}\t{}\tpresented {}\texpires {}{}",
                        e.serial,
                        e.public_key.fingerprint(),
                        e.status,
                        stamp(e.presented_at),
                        stamp(e.expires_at),
                        e.terminal_id.map(|t| format!("\tas {t}")).unwrap_or_default()
                    );
                }
                return Ok(());
            }
            let (Some(code), Some(village)) = (code, village) else { bail!("--code and --village are needed") };
            let normalized = model::enroll::normalize_code(&code)
                .ok_or_else(|| anyhow!("{code:?} is not an enrollment code (8 letters and digits, as the terminal shows)"))?;
            let village_code = VillageCode::parse(&village).map_err(|_| anyhow!("village {village:?} is not a 12-digit division code"))?;
            let profile = match profile {
                ProfileArg::Kiosk => model::enroll::Profile::Kiosk,
                ProfileArg::Van => model::enroll::Profile::Van,
            };
            let binding = hub::EnrollBinding {
                terminal_id: id,
                village_code: village_code.clone(),
                profile,
                expected_fingerprint: fingerprint,
                actor: std::env::var("USER").unwrap_or_else(|_| "technician".into()),
            };
            let rec = store.bind_enrollment(&model::enroll::code_hash(&normalized), &binding, now())?;
            println!(
                "terminal {} (serial {}, key {}) bound to {} {} as a {}; it receives its config when it next asks",
                rec.terminal_id.as_deref().unwrap_or("?"),
                rec.serial,
                rec.public_key.fingerprint(),
                village_code.as_str(),
                village_code.name().unwrap_or(""),
                profile.as_str()
            );
            return Ok(());
        }
        Some(Command::Ratings(cmd)) => return cli_ratings::ratings_cmd(open_store_sync(&args.db)?.as_ref(), cmd).await,
        Some(Command::Update(cmd)) => return cli_update::update_cmd(open_store_sync(&args.db)?.as_ref(), cmd),
        Some(Command::Followup(cmd)) => return cli_ratings::followup_cmd(open_store_sync(&args.db)?.as_ref(), cmd),
        Some(Command::Sms(cmd)) => {
            let store = open_store_sync(&args.db)?;
            return cli_sms::sms_cmd(&args.db, args.blob_dir.as_deref(), store.as_ref(), &args.sms, cmd, load_platform_key).await;
        }
        Some(Command::Operator(cmd)) => return cli_van::operator_cmd(open_store_sync(&args.db)?.as_ref(), cmd),
        Some(Command::Staff(StaffCmd::Add { name })) => {
            if name.is_empty() || name.len() > 64 || name.contains(':') || name.chars().any(char::is_control) {
                bail!("a staff name is 1..64 characters without ':' or control characters");
            }
            let token = zeroize::Zeroizing::new(hub::new_staff_token()?);
            open_store_sync(&args.db)?.set_staff(&name, &hub::staff_token_hash(&token), now())?;
            // The only place the token is ever shown: stdout, for the technician.
            println!("staff {name}: token {}", token.as_str());
            println!("the fleet page asks for this name and token (HTTP Basic); keep the token like a password");
            return Ok(());
        }
        Some(Command::Import(a)) => {
            let key = a.platform_key_file.as_deref().or(args.platform_key_file.as_deref()).map(load_platform_key).transpose()?;
            return cli_van::import_cmd(open_store_sync(&args.db)?.as_ref(), &a.file, key.as_ref());
        }
        Some(Command::Catalog(CatalogCmd::Import { file, catalog_key_file, out })) => {
            let key = load_catalog_key(&catalog_key_file)?;
            let export = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let store = open_store_sync(&args.db)?;
            let previous_signed = store.latest_catalog()?;
            let previous = previous_signed.as_ref().and_then(|s| s.verify(&key.public_key()).ok()).map(|(c, _)| c);
            let catalog = match hub::catalog_xlsx::convert_file(&export, previous.as_ref()) {
                Ok(c) => c,
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    anyhow::bail!("{} problem(s) in {}; nothing was published", errors.len(), file.display());
                }
            };
            let json = serde_json::to_vec_pretty(&catalog)?;
            if let Some(out) = &out {
                std::fs::write(out, &json).with_context(|| format!("cannot write {}", out.display()))?;
            }
            let p = hub::catalog::prepare(&key, &json, previous_signed.as_ref()).map_err(|e| anyhow!("{}: {e}", file.display()))?;
            store.publish_catalog(&p.full, p.delta.as_ref(), now())?;
            println!("{} items imported; catalog version {} published (key {})", catalog.items.len(), p.full.version, p.full.key_fingerprint);
            return Ok(());
        }
        Some(Command::Catalog(CatalogCmd::Publish { file, catalog_key_file })) => {
            let key = load_catalog_key(&catalog_key_file)?;
            let json = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let store = open_store_sync(&args.db)?;
            let previous = store.latest_catalog()?;
            let p = hub::catalog::prepare(&key, &json, previous.as_ref()).map_err(|e| anyhow!("{}: {e}", file.display()))?;
            store.publish_catalog(&p.full, p.delta.as_ref(), now())?;
            match &p.delta {
                Some(d) => println!("catalog version {} published (key {}), with a delta from {} ({} bytes, full {} bytes)", p.full.version, p.full.key_fingerprint, d.from_version, d.body.len(), p.full.body.len()),
                None => println!("catalog version {} published (key {})", p.full.version, p.full.key_fingerprint),
            }
            return Ok(());
        }
        None => {}
    }

    let platform_key = match &args.platform_key_file {
        Some(path) => {
            let key = load_platform_key(path)?;
            tracing::info!(public_key = %key.public_key().fingerprint(), "platform key loaded");
            Some(Arc::new(key))
        }
        None => {
            tracing::warn!("no platform key: sealed submissions are stored without checking that they open");
            None
        }
    };
    let signing_key = hub::signing::load_or_create(&signing_key_path)?;
    tracing::info!(key = %signing_key.public_key().fingerprint(), "hub signing key");
    let trusted = args.trust_terminal.iter().map(|s| parse_trust(s)).collect::<anyhow::Result<Vec<_>>>()?;
    let signed_catalog = match (&args.catalog_file, &args.catalog_key_file) {
        (Some(file), Some(key)) => Some(sign_catalog(file, key)?),
        _ => None,
    };
    let store = open_store_sync(&args.db)?;
    for t in &trusted {
        store.add_terminal(t, now()).with_context(|| format!("trusting terminal {}", t.id))?;
        tracing::info!(terminal = %t.id, key = %t.public_key.fingerprint(), "terminal trusted");
    }
    if let Some(signed) = &signed_catalog {
        store.publish_catalog(signed, None, now())?;
        tracing::info!(version = signed.version, "catalog published");
    }
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;

    // Announce only when ready: the line is what a parent waits for.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {addr}").context("writing to stdout")?;
    out.flush().context("flushing stdout")?;
    drop(out);
    tracing::info!(%addr, db = %shown_db(&args.db), "hub listening");

    let catalog_public_key = match &args.catalog_key_file {
        Some(path) => Some(load_catalog_key(path)?.public_key()),
        None => None,
    };
    let connector: Option<std::sync::Arc<dyn hub::PlatformConnector>> = match &args.e_license_url {
        Some(url) => {
            if !(url.starts_with("https://") || url.starts_with("http://127.") || url.starts_with("http://localhost")) {
                anyhow::bail!("the e-license library URL must be https:// (plain http only on loopback): ID numbers travel to it");
            }
            let token = match &args.e_license_token_file {
                Some(p) => zeroize::Zeroizing::new(std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?.trim().to_owned()),
                None => zeroize::Zeroizing::new(String::new()),
            };
            let library = hub::e_license::ELicenseLibrary::new(url, &token, std::time::Duration::from_secs(8))?;
            Some(std::sync::Arc::new(hub::e_license::LibraryConnector { library }))
        }
        None => None,
    };
    let options = HubOptions {
        result_mail: args.mail.platform(platform_key.is_some())?,
        connector,
        platform_key,
        catalog_public_key,
        signing_key: Some(std::sync::Arc::new(signing_key)),
        sms_gateway: args.sms.sms_gateway_url.is_some(),
        stale_after: Some(std::time::Duration::from_secs(args.stale_after_mins.saturating_mul(60))),
        trusted_proxies: args.trusted_proxy.clone(),
        terminal_rate: Some(args.terminal_rate),
        ..HubOptions::default()
    };
    // The outbox loops stop with the hub: nothing is sent after it stopped.
    let mut outboxes = Vec::new();
    match (args.sms.gateway()?, &options.platform_key) {
        (Some(gw), Some(key)) => {
            outboxes.push(hub::sms::spawn_loop(args.db.clone(), args.blob_dir.clone(), store.clone(), gw, key.clone(), std::time::Duration::from_secs(60)))
        }
        (Some(_), None) => tracing::warn!("an SMS gateway without the platform key: texts wait for `hub sms send`"),
        _ => tracing::info!("no SMS gateway: no progress texts, and terminals promise none"),
    }
    match (&args.ratings_platform_url, &args.ratings_token_file) {
        (Some(url), Some(token_file)) => {
            let sink = cli_ratings::platform_sink(url, token_file)?;
            outboxes.push(hub::rating_forward::spawn_loop(store.clone(), sink, std::time::Duration::from_secs(60)));
        }
        (Some(_), None) => anyhow::bail!("--ratings-platform-url needs --ratings-token-file"),
        _ => tracing::info!("no ratings platform: ratings wait for `hub ratings forward`"),
    }
    let served = hub::serve_until(listener, store, options, shutdown_signal()).await;
    for outbox in outboxes {
        outbox.stop().await;
    }
    served?;
    tracing::info!("hub stopped");
    Ok(())
}

/// Completes on ctrl-c or SIGTERM (systemd's stop).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// `100:1000` → (100.0, 1000.0): both positive.
fn parse_rate(s: &str) -> Result<(f64, f64), String> {
    let (r, b) = s.split_once(':').ok_or("PER_SEC:BURST, e.g. 100:1000")?;
    let (r, b): (f64, f64) = (r.trim().parse().map_err(|_| "PER_SEC is not a number")?, b.trim().parse().map_err(|_| "BURST is not a number")?);
    if !(r > 0.0 && b >= 1.0 && r.is_finite() && b.is_finite()) {
        return Err("PER_SEC must be above 0 and BURST at least 1".into());
    }
    Ok((r, b))
}
