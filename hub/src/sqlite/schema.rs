//! The hub database's schema, as an append-only list of migrations.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::store::StoreError;

/// Schema history; entry `n` takes `user_version` from `n` to `n + 1`.
/// Append only: a released migration is never edited.
pub(super) const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE submissions (
    id          TEXT PRIMARY KEY,
    body        BLOB NOT NULL,
    body_sha256 TEXT NOT NULL,
    item_code   TEXT NOT NULL,
    received_at TEXT NOT NULL
);
-- Which attachments each submission references, for the commit check.
CREATE TABLE submission_attachments (
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    sha256        TEXT NOT NULL,
    PRIMARY KEY (submission_id, sha256)
) WITHOUT ROWID;
-- Content-addressed: the same scan in two submissions is kept once.
CREATE TABLE attachments (
    sha256      TEXT PRIMARY KEY,
    bytes       BLOB NOT NULL,
    received_at TEXT NOT NULL
);
-- The case-number sequence. AUTOINCREMENT never reuses a number, and the
-- day is stored so a replayed commit rebuilds the same case number.
CREATE TABLE case_numbers (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT UNIQUE NOT NULL REFERENCES submissions(id),
    day           TEXT NOT NULL
);
CREATE TABLE cases (
    case_number   TEXT UNIQUE NOT NULL,
    submission_id TEXT UNIQUE NOT NULL REFERENCES submissions(id),
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
"#, r#"
-- v2 (issue 4): device authentication, resumable uploads, case decisions,
-- heartbeats, terminal config, evaluations, signed catalogs.
CREATE TABLE terminals (
    id           TEXT PRIMARY KEY,
    public_key   TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    village_code TEXT,
    label        TEXT,
    added_at     TEXT NOT NULL,
    revoked_at   TEXT,
    last_seen_at TEXT
);
-- Nonces of signed requests inside the timestamp window: a replay hits the key.
CREATE TABLE seen_nonces (
    terminal_id TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, nonce)
) WITHOUT ROWID;
CREATE INDEX seen_nonces_at ON seen_nonces (at);
-- The terminal that sent each submission: only it may continue and read its case.
ALTER TABLE submissions ADD COLUMN terminal_id TEXT;
-- Sealed size per attachment, from the envelope: an upload is complete at this size.
ALTER TABLE submission_attachments ADD COLUMN size INTEGER;
UPDATE submission_attachments SET size = (
    SELECT json_extract(j.value, '$.size')
    FROM submissions s, json_each(CAST(s.body AS TEXT), '$.attachments') j
    WHERE s.id = submission_attachments.submission_id AND json_extract(j.value, '$.sha256') = submission_attachments.sha256
);
-- Bytes of unfinished uploads, appended in arrival order; contiguous from 0.
CREATE TABLE upload_chunks (
    sha256 TEXT NOT NULL,
    lo     INTEGER NOT NULL,
    hi     INTEGER NOT NULL,
    bytes  BLOB NOT NULL,
    UNIQUE (sha256, lo)
);
ALTER TABLE cases ADD COLUMN updated_at TEXT;
ALTER TABLE cases ADD COLUMN reason TEXT;
UPDATE cases SET updated_at = created_at;
CREATE TABLE case_events (
    seq         INTEGER PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    status      TEXT NOT NULL,
    reason      TEXT,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE TABLE case_results (
    case_number TEXT PRIMARY KEY REFERENCES cases(case_number),
    media_type  TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    sha256      TEXT NOT NULL,
    added_at    TEXT NOT NULL
);
CREATE TABLE heartbeats (
    terminal_id TEXT PRIMARY KEY REFERENCES terminals(id),
    received_at TEXT NOT NULL,
    body        TEXT NOT NULL
);
-- terminal_id '*' is the default for every terminal.
CREATE TABLE terminal_configs (
    terminal_id TEXT PRIMARY KEY,
    body        TEXT NOT NULL
);
CREATE TABLE evaluations (
    id          TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    case_number TEXT NOT NULL,
    rating      TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE catalogs (
    version      INTEGER PRIMARY KEY,
    signed       TEXT NOT NULL,
    published_at TEXT NOT NULL
);
"#, r#"
-- v3: attachment bytes, partial and complete, live in files beside the
-- database (blobs.rs); rows of `attachments` from before stay readable.
DROP TABLE upload_chunks;
"#, r#"
-- v4 (issue 8): enrollment. A code is known only by its hash; the primary
-- key makes it single-use across hub instances.
CREATE TABLE enrollments (
    code_hash    TEXT PRIMARY KEY,
    serial       TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    presented_at TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'bound', 'delivered')),
    terminal_id  TEXT,
    village_code TEXT,
    profile      TEXT CHECK (profile IN ('kiosk', 'van')),
    bound_at     TEXT,
    bound_by     TEXT,
    delivered_at TEXT
);
CREATE INDEX enrollments_expires ON enrollments (expires_at);
"#, r#"
-- v5 (issue 7): assistants of the service vans. The PIN is only ever an
-- Argon2id PHC string; terminals pull the accounts assigned to them.
CREATE TABLE operators (
    staff_number TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    pin_hash     TEXT NOT NULL,
    villages     TEXT NOT NULL,
    valid_until  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    added_at     TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE TABLE operator_terminals (
    staff_number TEXT NOT NULL REFERENCES operators(staff_number),
    terminal_id  TEXT NOT NULL,
    PRIMARY KEY (staff_number, terminal_id)
) WITHOUT ROWID;
CREATE INDEX operator_terminals_by_terminal ON operator_terminals (terminal_id);
"#, r#"
-- v6 (issue 12): a submission is known by its terminal AND its id, so another
-- terminal claiming an id (read off a receipt QR) never touches the owner's
-- filing. Rows from before terminal ids existed get the owner '' that no
-- terminal can authenticate as: the back office still opens them, no
-- terminal reads or commits them. Runs with foreign keys off (see migrate).
CREATE TABLE submissions_v6 (
    terminal_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    body        BLOB NOT NULL,
    body_sha256 TEXT NOT NULL,
    item_code   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    -- 1 once its case is open: quotas and clean-up look only at the rest.
    committed   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal_id, id)
);
INSERT INTO submissions_v6 (terminal_id, id, body, body_sha256, item_code, received_at, committed)
    SELECT COALESCE(s.terminal_id, ''), s.id, s.body, s.body_sha256, s.item_code, s.received_at,
           EXISTS (SELECT 1 FROM cases c WHERE c.submission_id = s.id)
    FROM submissions s;
CREATE TABLE submission_attachments_v6 (
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER,
    PRIMARY KEY (terminal_id, submission_id, sha256),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions(terminal_id, id)
) WITHOUT ROWID;
INSERT INTO submission_attachments_v6 (terminal_id, submission_id, sha256, size)
    SELECT COALESCE(s.terminal_id, ''), a.submission_id, a.sha256, a.size
    FROM submission_attachments a JOIN submissions s ON s.id = a.submission_id;
CREATE INDEX submission_attachments_by_sha ON submission_attachments_v6 (sha256);
CREATE TABLE case_numbers_v6 (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    day           TEXT NOT NULL,
    UNIQUE (terminal_id, submission_id),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions(terminal_id, id)
);
INSERT INTO case_numbers_v6 (seq, terminal_id, submission_id, day)
    SELECT n.seq, COALESCE(s.terminal_id, ''), n.submission_id, n.day FROM case_numbers n JOIN submissions s ON s.id = n.submission_id;
-- The sequence never goes back, whatever rows there are.
INSERT INTO sqlite_sequence (name, seq) SELECT 'case_numbers_v6', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'case_numbers_v6');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'case_numbers'), 0)) WHERE name = 'case_numbers_v6';
CREATE TABLE cases_v6 (
    case_number   TEXT UNIQUE NOT NULL,
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT,
    reason        TEXT,
    UNIQUE (terminal_id, submission_id),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions(terminal_id, id)
);
INSERT INTO cases_v6 (case_number, terminal_id, submission_id, status, created_at, updated_at, reason)
    SELECT c.case_number, COALESCE(s.terminal_id, ''), c.submission_id, c.status, c.created_at, c.updated_at, c.reason
    FROM cases c JOIN submissions s ON s.id = c.submission_id;
DROP TABLE cases;
DROP TABLE case_numbers;
DROP TABLE submission_attachments;
DROP TABLE submissions;
ALTER TABLE submissions_v6 RENAME TO submissions;
ALTER TABLE submission_attachments_v6 RENAME TO submission_attachments;
ALTER TABLE case_numbers_v6 RENAME TO case_numbers;
ALTER TABLE cases_v6 RENAME TO cases;
-- Uncommitted filings per terminal (quotas, clean-up): a few rows, however
-- many a terminal filed.
CREATE INDEX submissions_open ON submissions (terminal_id, received_at) WHERE committed = 0;
CREATE INDEX evaluations_by_case ON evaluations (case_number);
-- A second key presenting a pending code: someone else read it off the screen.
ALTER TABLE enrollments ADD COLUMN contested_at TEXT;
-- E-license lookups, audited: who asked, when, for which material, the ID
-- number masked (and tagged with a keyed hash, to count distinct people
-- per terminal and day without keeping the number).
CREATE TABLE e_license_lookups (
    seq           INTEGER PRIMARY KEY,
    terminal_id   TEXT NOT NULL,
    at            TEXT NOT NULL,
    day           TEXT NOT NULL,
    material_code TEXT NOT NULL,
    id_masked     TEXT NOT NULL,
    id_tag        TEXT NOT NULL,
    outcome       TEXT NOT NULL
);
CREATE INDEX e_license_lookups_by_terminal_day ON e_license_lookups (terminal_id, day);
CREATE TABLE hub_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
INSERT INTO hub_secrets (name, value) VALUES ('lookup_tag', randomblob(32));
-- Staff who may read the fleet page and back-office HTTP (Basic auth);
-- the password only as an Argon2id PHC string.
CREATE TABLE staff (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    added_at      TEXT NOT NULL
);
"#, r#"
-- v7 (issue 19): terminals' audit chains anchored at the hub. One head per
-- terminal (the last one that extended the one before); every head that did
-- not is kept as a break. And the hub's own audit, append-only.
CREATE TABLE audit_anchors (
    terminal_id TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    anchored_at TEXT NOT NULL
);
CREATE TABLE audit_breaks (
    id            INTEGER PRIMARY KEY,
    terminal_id   TEXT NOT NULL,
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    from_seq      INTEGER,
    anchored_seq  INTEGER NOT NULL,
    anchored_hash TEXT NOT NULL,
    reported_seq  INTEGER NOT NULL,
    reported_hash TEXT NOT NULL
);
CREATE INDEX audit_breaks_by_terminal ON audit_breaks (terminal_id);
CREATE TABLE hub_audit (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    outcome TEXT NOT NULL
);
CREATE TRIGGER hub_audit_no_update BEFORE UPDATE ON hub_audit BEGIN SELECT RAISE(ABORT, 'the hub audit is append-only'); END;
CREATE TRIGGER hub_audit_no_delete BEFORE DELETE ON hub_audit BEGIN SELECT RAISE(ABORT, 'the hub audit is append-only'); END;
CREATE TRIGGER audit_breaks_no_delete BEFORE DELETE ON audit_breaks BEGIN SELECT RAISE(ABORT, 'audit breaks are kept'); END;
"#, r#"
-- v8 (issue 19): diagnostics bundles staff ask terminals for. The bundle's
-- bytes are a blob like an attachment's (same resumable upload), named by
-- the hash the terminal announced.
CREATE TABLE diagnostics_requests (
    id           TEXT PRIMARY KEY,
    terminal_id  TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    sha256       TEXT,
    size         INTEGER,
    announced_at TEXT
);
CREATE INDEX diagnostics_by_terminal ON diagnostics_requests (terminal_id, requested_at);
"#, r#"
-- v9 (issue 19): updates published on the hub and their staged rollouts
-- (state as hub::rollout::Rollout JSON), and what each terminal reported.
CREATE TABLE update_bundles (
    version      TEXT PRIMARY KEY,
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL
);
CREATE TABLE rollouts (
    version    TEXT PRIMARY KEY REFERENCES update_bundles(version),
    body       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE update_reports (
    terminal_id TEXT NOT NULL,
    version     TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('installed', 'failed')),
    detail      TEXT,
    at          TEXT NOT NULL,
    PRIMARY KEY (terminal_id, version)
) WITHOUT ROWID;
"#, r#"
-- v10 (issue 16): progress texts, one row per status change worth a text,
-- written in the transaction that makes the change, so a change is texted
-- once whatever fails after. The key is the idempotency key every try
-- carries to the gateway. The villager's number is NOT kept here: it stays
-- in the sealed filing and is read with the platform key when sending.
CREATE TABLE sms_outbox (
    key         TEXT PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    status      TEXT NOT NULL,
    reason      TEXT,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'delivered', 'failed', 'no_number', 'expired')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    gateway_id  TEXT,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX sms_outbox_due ON sms_outbox (created_at) WHERE state IN ('pending', 'sent');
CREATE INDEX sms_outbox_by_case ON sms_outbox (case_number);
-- Every 不满意/非常不满意 rating is followed up (差评整改): a task with a
-- deadline, answered by the back office; the answer is for the villager.
CREATE TABLE rating_followups (
    evaluation_id TEXT PRIMARY KEY REFERENCES evaluations(id),
    case_number   TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    due_at        TEXT NOT NULL,
    reply         TEXT,
    replied_by    TEXT,
    replied_at    TEXT
);
CREATE INDEX rating_followups_by_case ON rating_followups (case_number);
-- A rating created before this step that needs one gets it now.
INSERT INTO rating_followups (evaluation_id, case_number, opened_at, due_at)
    SELECT id, case_number, received_at, strftime('%Y-%m-%dT%H:%M:%fZ', received_at, '+15 days')
    FROM evaluations WHERE rating IN ('dissatisfied', 'very_dissatisfied');
"#, r#"
-- v11 (issue 15): catalog deltas. Each published version keeps the signed
-- delta from the version published before it (NULL for the first, or when
-- the publisher had none), so a terminal one item behind downloads one item.
ALTER TABLE catalogs ADD COLUMN delta TEXT;
"#, r#"
-- v12 (issue 19): staff acknowledge a terminal's audit-chain breaks on the fleet
-- page (who, when, why). A break is acknowledged once and stays as it was.
ALTER TABLE audit_breaks ADD COLUMN acknowledged_by TEXT;
ALTER TABLE audit_breaks ADD COLUMN acknowledged_at TEXT;
ALTER TABLE audit_breaks ADD COLUMN acknowledged_why TEXT;
CREATE TRIGGER audit_breaks_acknowledged_once BEFORE UPDATE ON audit_breaks
WHEN OLD.acknowledged_at IS NOT NULL
  OR NEW.terminal_id IS NOT OLD.terminal_id OR NEW.at IS NOT OLD.at OR NEW.kind IS NOT OLD.kind
  OR NEW.from_seq IS NOT OLD.from_seq OR NEW.anchored_seq IS NOT OLD.anchored_seq OR NEW.anchored_hash IS NOT OLD.anchored_hash
  OR NEW.reported_seq IS NOT OLD.reported_seq OR NEW.reported_hash IS NOT OLD.reported_hash
BEGIN SELECT RAISE(ABORT, 'an audit break is acknowledged once and otherwise kept as it was'); END;
"#, r#"
-- v13 (issue 16): progress at any terminal. A keyed hash (HMAC-SHA256 under
-- a secret of this hub) of the applicant's ID number, taken from the opened
-- filing when the hub holds the platform key; a lookup from another
-- terminal must bring the same number. Misses are kept per terminal and day
-- to cap guessing (never the number or the receipt tried, only when).
ALTER TABLE submissions ADD COLUMN applicant_tag TEXT;
CREATE INDEX submissions_by_applicant ON submissions (applicant_tag) WHERE applicant_tag IS NOT NULL;
CREATE TABLE progress_misses (
    seq         INTEGER PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    day         TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX progress_misses_by_day ON progress_misses (terminal_id, day);
INSERT OR IGNORE INTO hub_secrets (name, value) VALUES ('applicant_tag', randomblob(32));
-- The back office's answer to a bad rating goes to the villager by text
-- too: a row of the SMS outbox whose words are the reply.
ALTER TABLE sms_outbox ADD COLUMN reply TEXT;
-- Ratings on their way to the provincial platform (rating_forward.rs): one
-- row per rating, written with it; the evaluation id is the platform's
-- idempotency key. Ratings kept before this step are forwarded too.
CREATE TABLE rating_forwards (
    evaluation_id TEXT PRIMARY KEY REFERENCES evaluations(id),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'refused')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX rating_forwards_pending ON rating_forwards (created_at) WHERE state = 'pending';
INSERT INTO rating_forwards (evaluation_id, state, created_at, updated_at)
    SELECT id, 'pending', received_at, received_at FROM evaluations;
"#, r#"
-- v14 (issue 15): a bundle filing (一件事一次办) is one submission and one
-- case (the receipt's number); each of its items is a case of its own here,
-- numbered <bundle case>P<n>, decided on its own and reported to the kiosk.
CREATE TABLE case_parts (
    case_number TEXT PRIMARY KEY,
    bundle_case TEXT NOT NULL REFERENCES cases(case_number),
    position    INTEGER NOT NULL,
    item_code   TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    updated_at  TEXT NOT NULL,
    UNIQUE (bundle_case, position)
);
"#, r#"
-- v15 (issue 17): rate limits every process on this database shares (one
-- token bucket per key; see store/rate_limit.rs). A row whose bucket is
-- full again (idle_after passed) means nothing and is deleted.
CREATE TABLE rate_limits (
    key        TEXT PRIMARY KEY,
    tokens     REAL NOT NULL,
    at         REAL NOT NULL,
    idle_after REAL NOT NULL
);
CREATE INDEX rate_limits_idle ON rate_limits (idle_after);
"#, r#"
-- v16: result mailing's outbox (store/mail_orders.rs). A row per case whose
-- filing's delivery choice the hub has read; a mail order stays 'pending'
-- until the platform takes or refuses it. Case numbers and states only: the
-- address is read again from the sealed filing for each try.
CREATE TABLE mail_orders (
    case_number     TEXT PRIMARY KEY REFERENCES cases(case_number),
    case_created_at TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('not_mail', 'pending', 'sent', 'refused')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_try_at     TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX mail_orders_pending ON mail_orders (julianday(next_try_at)) WHERE state = 'pending';
CREATE INDEX mail_orders_newest ON mail_orders (julianday(case_created_at));
CREATE INDEX cases_by_created ON cases (julianday(created_at));
"#, r#"
-- v17: the fleet page counts each outbox to the platform by state on every
-- load (store/backlog.rs: pending, the oldest pending, given up in 30 days).
-- By state and time, so it reads those rows only, never the whole history
-- of texts, ratings and orders long taken.
CREATE INDEX sms_outbox_by_state_made ON sms_outbox (state, julianday(created_at));
CREATE INDEX sms_outbox_by_state_updated ON sms_outbox (state, julianday(updated_at));
CREATE INDEX rating_forwards_by_state_made ON rating_forwards (state, julianday(created_at));
CREATE INDEX rating_forwards_by_state_updated ON rating_forwards (state, julianday(updated_at));
CREATE INDEX mail_orders_by_state_made ON mail_orders (state, julianday(case_created_at));
CREATE INDEX mail_orders_by_state_updated ON mail_orders (state, julianday(updated_at));
"#];

pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // Rebuilding a table others refer to (v6) needs foreign keys off, which
    // SQLite only allows outside a transaction; each migration checks them
    // itself before it commits.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let r = migrate_steps(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    r
}

pub(super) fn migrate_steps(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read inside the write transaction: another process may have migrated meanwhile.
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > known {
            return Err(StoreError::SchemaTooNew { found: version, known });
        }
        let Some(sql) = MIGRATIONS.get(version as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        let broken: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
        if let Some(table) = broken {
            return Err(StoreError::Corrupt(format!("migration to v{} leaves a dangling reference in {table}", version + 1)));
        }
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}
