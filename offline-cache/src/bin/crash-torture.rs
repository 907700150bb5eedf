//! crash-torture: SIGKILL a process that keeps filing, again and again, and
//! check that nothing it was told is saved went missing, changed or doubled.
//!
//! ```text
//! cargo run --release -p offline-cache --bin crash-torture -- --kills 200
//! ```
//!
//! The parent keeps the platform's private key and starts a child (this
//! binary with `--child`) that opens the outbox and files submissions with
//! an attachment, sealed to the public key, printing `saved <seq> <id>
//! <sealed-sha256>` after each `enqueue` returns. The parent kills it with
//! SIGKILL at a random moment (mostly mid-filing, sometimes while it is
//! still opening and checking the database), reads what it reported, and
//! starts a new child that resumes at the first unreported sequence number,
//! so a filing that committed but was not reported is filed again and must
//! come back as a replay, not a second copy.
//!
//! At the end it opens the outbox itself and checks: `integrity_check` is
//! ok, the audit chain is intact and has one entry per filing, and every
//! reported submission is present once, its stored sealed bytes hash to
//! what was reported, and it opens with the private key to exactly the
//! content filed. The last line is
//! `kills=<k> saved=<n> lost=<l> corrupt=<c> duplicated=<d>`; the exit code
//! is 0 only when the last three are 0.
//!
//! SIGKILL tests process crashes (the kernel keeps what was written); a
//! power cut additionally relies on `synchronous=FULL` and the disk honouring fsync.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use model::catalog::ImplementCode;
use model::identity::check_char;
use model::seal::{open_envelope, PlatformPublicKey, PlatformSecretKey, SealedEnvelope};
use model::submission::{sha256_hex, Applicant, AttachmentRef, FiledBy, Consent};
use model::{CardType, Gender, IdNumber, Submission, SubmissionId, VillageCode};
use offline_cache::{Outbox, OutboxConfig};
use rand_core::Rng as _;

const USAGE: &str = "usage: crash-torture [--kills N] [--dir DIR] [--min-life-ms MS] [--max-life-ms MS]";

struct Args {
    kills: u32,
    dir: Option<PathBuf>,
    min_life: Duration,
    max_life: Duration,
    child: Option<ChildArgs>,
}

struct ChildArgs {
    public_key: String,
    run: u64,
    start: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        kills: 20,
        dir: None,
        min_life: Duration::from_millis(0),
        max_life: Duration::from_millis(150),
        child: None,
    };
    let (mut child, mut public_key, mut run, mut start) = (false, None, 0u64, 0u64);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        let num = |v: String, name: &str| v.parse::<u64>().map_err(|_| format!("{name} takes a number\n{USAGE}"));
        match a.as_str() {
            "--kills" => args.kills = u32::try_from(num(value("--kills")?, "--kills")?).map_err(|_| "--kills is too large".to_owned())?,
            "--dir" => args.dir = Some(PathBuf::from(value("--dir")?)),
            "--min-life-ms" => args.min_life = Duration::from_millis(num(value("--min-life-ms")?, "--min-life-ms")?),
            "--max-life-ms" => args.max_life = Duration::from_millis(num(value("--max-life-ms")?, "--max-life-ms")?),
            "--child" => child = true,
            "--public-key" => public_key = Some(value("--public-key")?),
            "--run" => run = num(value("--run")?, "--run")?,
            "--start" => start = num(value("--start")?, "--start")?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.max_life < args.min_life {
        args.max_life = args.min_life;
    }
    if child {
        let public_key = public_key.ok_or("--child needs --public-key")?;
        args.child = Some(ChildArgs { public_key, run, start });
        if args.dir.is_none() {
            return Err("--child needs --dir".into());
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match &args.child {
        Some(c) => child_main(args.dir.as_deref().unwrap_or(Path::new(".")), c),
        None => parent_main(&args),
    }
}

// ---------------------------------------------------------------- the filings

/// Deterministic bytes from a seed (xorshift64*): the same seq always files
/// the same content, so a resumed child re-files an unreported one exactly.
fn bytes_for(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// The submission number `seq` of run `run`, with its one attachment.
fn filing(run: u64, seq: u64) -> (Submission, AttachmentRef, Vec<u8>) {
    let seed = sha256_hex(format!("{run}:{seq}").as_bytes());
    let seed_bytes = hex_prefix(&seed);
    let size = 1024 + (u64::from_le_bytes(seed_bytes) % (31 * 1024)) as usize;
    let scan = bytes_for(u64::from_le_bytes(seed_bytes), size);
    let scan_ref = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
    let base_ms: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let mut rand10 = [0u8; 10];
    rand10.copy_from_slice(&bytes_for(u64::from_le_bytes(seed_bytes) ^ 0xA5A5, 10));
    let id = SubmissionId(uuid::Builder::from_unix_timestamp_millis(base_ms + seq, &rand10).into_uuid());
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds((base_ms + seq) as i64);
    let first17 = *b"62010219900307123";
    let sub = Submission {
        id,
        item_code: ImplementCode::parse("620000RS0001").expect("valid code"),
        bundle_code: None,
        parts: Vec::new(),
        catalog_version: None,
        applicant: Applicant {
            name: "张三".into(),
            id_number: IdNumber::parse(&format!("62010219900307123{}", check_char(&first17))).expect("valid number"),
            card_type: CardType::ResidentId,
            gender: Gender::Male,
            nation_code: "01".into(),
            birth_date: time::macros::date!(1990 - 03 - 07),
            address: "甘肃省兰州市城关区".into(),
        },
        form: [("torture_seq".to_owned(), seq.to_string()), ("phone".to_owned(), "13800000000".to_owned())].into(),
        attachments: vec![scan_ref.clone()],
        e_licenses: vec![],
        consent: Consent { text_version: "v1".into(), given_at: at },
        filed_by: FiledBy::SelfServiceTerminal,
        village_code: VillageCode::parse("620102001001").expect("valid village"),
        created_at: at,
        terminal_id: "TORTURE".into(),
    };
    (sub, scan_ref, scan)
}

fn hex_prefix(hex: &str) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    out
}

fn config(public_key: PlatformPublicKey) -> OutboxConfig {
    let mut c = OutboxConfig::new(public_key, "TORTURE");
    // The torture measures crash safety, not the reserve: only refuse on a nearly full disk.
    c.disk_reserve_bytes = 16 * 1024 * 1024;
    c
}

// ---------------------------------------------------------------- the child

fn child_main(dir: &Path, args: &ChildArgs) -> ExitCode {
    let key = match PlatformPublicKey::parse(&args.public_key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("child: bad public key: {e}");
            return ExitCode::from(2);
        }
    };
    let outbox = match Outbox::open(&dir.join("outbox.db"), config(key)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("child: cannot open the outbox: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    if let Some(m) = &outbox.open_report().moved_aside {
        let _ = writeln!(out, "moved-aside {}", m.problem.replace('\n', " "));
        let _ = out.flush();
    }
    if writeln!(out, "ready").and_then(|()| out.flush()).is_err() {
        return ExitCode::from(2);
    }
    // A reader beside the writer, as the sync worker is beside the kiosk session.
    let reader = outbox.clone();
    std::thread::spawn(move || loop {
        let _ = reader.pending(50);
        let _ = reader.counts();
        std::thread::sleep(Duration::from_millis(3));
    });
    let mut seq = args.start;
    loop {
        let (sub, scan_ref, scan) = filing(args.run, seq);
        match outbox.enqueue(&sub, &[(scan_ref, scan)]) {
            Ok(saved) => {
                // One short line per write: atomic on a pipe, so the parent never sees half.
                if writeln!(out, "saved {seq} {} {}", saved.id, saved.sealed_sha256).and_then(|()| out.flush()).is_err() {
                    return ExitCode::from(2);
                }
            }
            Err(e) => {
                eprintln!("child: filing {seq} failed: {e}");
                return ExitCode::from(3);
            }
        }
        seq += 1;
    }
}

// ---------------------------------------------------------------- the parent

struct Tally {
    /// seq → (id, sealed sha256) as reported.
    reported: BTreeMap<u64, (SubmissionId, String)>,
    corrupt: u64,
    duplicated: u64,
}

fn spawn_child(dir: &Path, public_key: &PlatformPublicKey, run: u64, start: u64) -> Result<(Child, Receiver<String>), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let mut child = Command::new(exe)
        .arg("--child")
        .arg("--dir")
        .arg(dir)
        .args(["--public-key", &public_key.to_string(), "--run", &run.to_string(), "--start", &start.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the child: {e}"))?;
    let stdout = child.stdout.take().ok_or("the child has no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                // A line cut by the kill has no newline: it was never fully reported.
                Ok(n) if n > 0 && line.ends_with('\n') => {
                    if tx.send(line.trim_end().to_owned()).is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
    });
    Ok((child, rx))
}

fn record(line: &str, tally: &mut Tally) -> Result<(), String> {
    let parts: Vec<&str> = line.split(' ').collect();
    match parts.as_slice() {
        ["saved", seq, id, sha] => {
            let seq: u64 = seq.parse().map_err(|_| format!("bad line {line:?}"))?;
            let id = SubmissionId::parse(id).ok_or_else(|| format!("bad line {line:?}"))?;
            match tally.reported.get(&seq) {
                // Reported twice (a replay after a kill): the stored copy must be the first one.
                Some((first_id, first_sha)) if (first_id, first_sha.as_str()) != (&id, *sha) => tally.duplicated += 1,
                Some(_) => {}
                None => {
                    tally.reported.insert(seq, (id, (*sha).to_owned()));
                }
            }
            Ok(())
        }
        ["moved-aside", ..] => {
            eprintln!("integrity check failed at a child's start: {line}");
            tally.corrupt += 1;
            Ok(())
        }
        ["ready"] => Ok(()),
        _ => Err(format!("unexpected line from the child: {line:?}")),
    }
}

fn parent_main(args: &Args) -> ExitCode {
    match run_parent(args) {
        Ok(ok) => {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("crash-torture: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_parent(args: &Args) -> Result<bool, String> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("cunban-crash-torture-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if dir.join("outbox.db").exists() {
        return Err(format!("{} already holds an outbox; give an empty --dir", dir.display()));
    }
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let secret: PlatformSecretKey = offline_cache::generate_platform_key();
    let public = secret.public_key();
    let run = rng.next_u64() >> 1;
    println!("crash-torture: {} kills, outbox in {}", args.kills, dir.display());

    let started = Instant::now();
    let mut tally = Tally { reported: BTreeMap::new(), corrupt: 0, duplicated: 0 };
    let mut kills = 0u32;
    while kills < args.kills {
        let start = tally.reported.keys().next_back().map_or(0, |s| s + 1);
        let (mut child, rx) = spawn_child(&dir, &public, run, start)?;
        // Mostly kill while filing; one time in ten, while it is still
        // opening (integrity check, migration) by not waiting for "ready".
        let wait_ready = !rng.next_u32().is_multiple_of(10);
        if wait_ready {
            loop {
                match rx.recv_timeout(Duration::from_secs(60)) {
                    Ok(line) => {
                        let ready = line == "ready";
                        record(&line, &mut tally)?;
                        if ready {
                            break;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        let _ = child.kill();
                        return Err("the child did not open the outbox within 60 s".into());
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        let span = args.max_life.saturating_sub(args.min_life).as_micros() as u64;
        let delay = args.min_life + Duration::from_micros(if span == 0 { 0 } else { rng.next_u64() % span });
        std::thread::sleep(delay);
        if let Ok(Some(status)) = child.try_wait() {
            for line in rx.iter() {
                record(&line, &mut tally)?;
            }
            return Err(format!("the child stopped by itself ({status}) before it was killed"));
        }
        // Child::kill sends SIGKILL on Unix.
        child.kill().map_err(|e| format!("cannot kill the child: {e}"))?;
        let _ = child.wait();
        kills += 1;
        for line in rx.iter() {
            record(&line, &mut tally)?;
        }
        if kills.is_multiple_of(20) {
            println!("  {kills} kills, {} saved, {:.0} s", tally.reported.len(), started.elapsed().as_secs_f64());
        }
    }

    let lost = check(&dir, &secret, run, &mut tally)?;
    println!("elapsed {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "kills={kills} saved={} lost={lost} corrupt={} duplicated={}",
        tally.reported.len(),
        tally.corrupt,
        tally.duplicated
    );
    Ok(lost == 0 && tally.corrupt == 0 && tally.duplicated == 0)
}

/// Opens the outbox after the last kill and checks everything; returns the number lost.
fn check(dir: &Path, secret: &PlatformSecretKey, run: u64, tally: &mut Tally) -> Result<u64, String> {
    let outbox = Outbox::open(&dir.join("outbox.db"), config(secret.public_key())).map_err(|e| format!("final open: {e}"))?;
    if outbox.open_report().moved_aside.is_some() {
        println!("the database failed its integrity check at the final open");
        tally.corrupt += 1;
    }
    let integrity = outbox.integrity_check().map_err(|e| e.to_string())?;
    if integrity != ["ok"] {
        println!("integrity_check: {}", integrity.join("; "));
        tally.corrupt += 1;
    }
    let audit = outbox.verify_audit().map_err(|e| e.to_string())?;
    let rows = outbox.pending(usize::MAX).map_err(|e| e.to_string())?;
    if let Some(b) = &audit.first_broken {
        println!("audit chain broken: {b}");
        tally.corrupt += 1;
    } else if audit.entries != rows.len() as u64 + 1 {
        // One entry per filing, plus the platform key pinned at the first open.
        println!("audit has {} entries for {} filings (and the key pin)", audit.entries, rows.len());
        tally.corrupt += 1;
    }

    // Every stored row: opens, and which seq it holds.
    let mut stored_seqs: BTreeMap<u64, u64> = BTreeMap::new();
    for e in &rows {
        let seq = match outbox.sealed_copy(e.id) {
            Ok(Some(copy)) => SealedEnvelope::from_bytes(&copy.envelope)
                .ok()
                .and_then(|env| open_envelope(secret, &env).ok())
                .and_then(|o| o.submission.form.get("torture_seq").and_then(|s| s.parse::<u64>().ok())),
            _ => None,
        };
        match seq {
            Some(seq) => *stored_seqs.entry(seq).or_default() += 1,
            None => {
                println!("stored submission {} does not open", e.id);
                tally.corrupt += 1;
            }
        }
    }
    tally.duplicated += stored_seqs.values().filter(|n| **n > 1).map(|n| n - 1).sum::<u64>();

    let mut lost = 0;
    for (seq, (id, sha)) in &tally.reported {
        let copy = match outbox.sealed_copy(*id) {
            Ok(Some(c)) => c,
            Ok(None) => {
                println!("submission {seq} ({id}) has no sealed copy");
                tally.corrupt += 1;
                continue;
            }
            Err(offline_cache::StoreError::UnknownSubmission(_)) => {
                println!("submission {seq} ({id}) was reported saved and is gone");
                lost += 1;
                continue;
            }
            Err(e) => {
                println!("submission {seq} ({id}): {e}");
                tally.corrupt += 1;
                continue;
            }
        };
        let (expected, _, scan) = filing(run, *seq);
        let intact = sha256_hex(&copy.envelope) == *sha
            && SealedEnvelope::from_bytes(&copy.envelope)
                .ok()
                .and_then(|env| open_envelope(secret, &env).ok())
                .is_some_and(|o| {
                    o.submission == expected
                        && copy.attachments.len() == 1
                        && o.open_attachment(0, &copy.attachments[0].bytes).is_ok_and(|(_, plain)| plain.as_slice() == scan.as_slice())
                });
        if !intact {
            println!("submission {seq} ({id}) is not what was filed");
            tally.corrupt += 1;
        }
    }
    Ok(lost)
}
