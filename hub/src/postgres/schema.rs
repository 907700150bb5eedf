//! The PostgreSQL schema, as its own append-only list of migrations (the
//! SQLite history is not replayed here: this store starts at the shape
//! SQLite reached at its v11, with PostgreSQL types).
//!
//! Instances that start together migrate one at a time (an advisory lock).

use tokio_postgres::Client;

use crate::store::StoreError;

/// Entry `n` takes `hub_schema.version` from `n` to `n + 1`. Append only.
pub(super) const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE terminals (
    id           TEXT PRIMARY KEY,
    public_key   TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    village_code TEXT,
    label        TEXT,
    added_at     TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ
);
CREATE INDEX terminals_by_village ON terminals (village_code);
CREATE TABLE seen_nonces (
    terminal_id TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (terminal_id, nonce)
);
CREATE INDEX seen_nonces_at ON seen_nonces (at);
CREATE TABLE submissions (
    terminal_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    body        BYTEA NOT NULL,
    body_sha256 TEXT NOT NULL,
    item_code   TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    committed   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (terminal_id, id)
);
CREATE INDEX submissions_open ON submissions (terminal_id, received_at) WHERE NOT committed;
CREATE TABLE submission_attachments (
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    PRIMARY KEY (terminal_id, submission_id, sha256),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions (terminal_id, id)
);
CREATE INDEX submission_attachments_by_sha ON submission_attachments (sha256);
-- The hub-wide case sequence lives here, in the database every instance shares.
CREATE TABLE case_numbers (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    day           TEXT NOT NULL,
    UNIQUE (terminal_id, submission_id),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions (terminal_id, id)
);
CREATE TABLE cases (
    case_number   TEXT PRIMARY KEY,
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    reason        TEXT,
    UNIQUE (terminal_id, submission_id),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions (terminal_id, id)
);
CREATE INDEX cases_by_status ON cases (status, created_at);
CREATE TABLE case_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES cases (case_number),
    status      TEXT NOT NULL,
    reason      TEXT,
    actor       TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE TABLE case_results (
    case_number TEXT PRIMARY KEY REFERENCES cases (case_number),
    media_type  TEXT NOT NULL,
    bytes       BYTEA NOT NULL,
    sha256      TEXT NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE heartbeats (
    terminal_id TEXT PRIMARY KEY REFERENCES terminals (id),
    received_at TIMESTAMPTZ NOT NULL,
    body        TEXT NOT NULL
);
CREATE TABLE terminal_configs (
    terminal_id TEXT PRIMARY KEY,
    body        TEXT NOT NULL
);
CREATE TABLE evaluations (
    id          TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    case_number TEXT NOT NULL UNIQUE,
    rating      TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE rating_followups (
    evaluation_id TEXT PRIMARY KEY REFERENCES evaluations (id),
    case_number   TEXT NOT NULL,
    opened_at     TIMESTAMPTZ NOT NULL,
    due_at        TIMESTAMPTZ NOT NULL,
    reply         TEXT,
    replied_by    TEXT,
    replied_at    TIMESTAMPTZ
);
CREATE TABLE catalogs (
    version      BIGINT PRIMARY KEY,
    signed       TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    delta        TEXT
);
CREATE TABLE enrollments (
    code_hash    TEXT PRIMARY KEY,
    serial       TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    presented_at TIMESTAMPTZ NOT NULL,
    expires_at   BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'bound', 'delivered')),
    terminal_id  TEXT,
    village_code TEXT,
    profile      TEXT CHECK (profile IN ('kiosk', 'van')),
    bound_at     TIMESTAMPTZ,
    bound_by     TEXT,
    delivered_at TIMESTAMPTZ,
    contested_at TIMESTAMPTZ
);
CREATE INDEX enrollments_expires ON enrollments (expires_at);
CREATE TABLE operators (
    staff_number TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    pin_hash     TEXT NOT NULL,
    villages     TEXT NOT NULL,
    valid_until  TIMESTAMPTZ,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    added_at     TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE TABLE operator_terminals (
    staff_number TEXT NOT NULL REFERENCES operators (staff_number),
    terminal_id  TEXT NOT NULL,
    PRIMARY KEY (staff_number, terminal_id)
);
CREATE INDEX operator_terminals_by_terminal ON operator_terminals (terminal_id);
CREATE TABLE e_license_lookups (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    terminal_id   TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    day           TEXT NOT NULL,
    material_code TEXT NOT NULL,
    id_masked     TEXT NOT NULL,
    id_tag        TEXT NOT NULL,
    outcome       TEXT NOT NULL
);
CREATE INDEX e_license_lookups_by_terminal_day ON e_license_lookups (terminal_id, day);
CREATE TABLE hub_secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
CREATE TABLE staff (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    added_at      TIMESTAMPTZ NOT NULL
);
CREATE TABLE audit_anchors (
    terminal_id TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    anchored_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE audit_breaks (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    terminal_id   TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    kind          TEXT NOT NULL,
    from_seq      BIGINT,
    anchored_seq  BIGINT NOT NULL,
    anchored_hash TEXT NOT NULL,
    reported_seq  BIGINT NOT NULL,
    reported_hash TEXT NOT NULL
);
CREATE INDEX audit_breaks_by_terminal ON audit_breaks (terminal_id);
CREATE TABLE hub_audit (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    outcome TEXT NOT NULL
);
CREATE FUNCTION hub_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
CREATE TRIGGER hub_audit_append_only BEFORE UPDATE OR DELETE ON hub_audit FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
CREATE TRIGGER audit_breaks_kept BEFORE DELETE ON audit_breaks FOR EACH ROW EXECUTE FUNCTION hub_refuse_change();
CREATE TABLE diagnostics_requests (
    id           TEXT PRIMARY KEY,
    terminal_id  TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    sha256       TEXT,
    size         BIGINT,
    announced_at TIMESTAMPTZ
);
CREATE INDEX diagnostics_by_terminal ON diagnostics_requests (terminal_id, requested_at);
CREATE TABLE update_bundles (
    version      TEXT PRIMARY KEY,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE rollouts (
    version    TEXT PRIMARY KEY REFERENCES update_bundles (version),
    body       TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE update_reports (
    terminal_id TEXT NOT NULL,
    version     TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('installed', 'failed')),
    detail      TEXT,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (terminal_id, version)
);
CREATE TABLE sms_outbox (
    key         TEXT PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES cases (case_number),
    status      TEXT NOT NULL,
    reason      TEXT,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'delivered', 'failed', 'no_number', 'expired')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    gateway_id  TEXT,
    last_error  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sms_outbox_due ON sms_outbox (created_at) WHERE state IN ('pending', 'sent');
CREATE INDEX sms_outbox_by_case ON sms_outbox (case_number);
CREATE INDEX rating_followups_by_case ON rating_followups (case_number);
"#, r#"
-- v2: staff acknowledge a terminal's audit-chain breaks on the fleet page
-- (who, when, why). A break is acknowledged once and otherwise kept as it was.
ALTER TABLE audit_breaks ADD COLUMN acknowledged_by TEXT;
ALTER TABLE audit_breaks ADD COLUMN acknowledged_at TIMESTAMPTZ;
ALTER TABLE audit_breaks ADD COLUMN acknowledged_why TEXT;
CREATE FUNCTION audit_break_acknowledged_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.acknowledged_at IS NOT NULL
     OR (NEW.terminal_id, NEW.at, NEW.kind, NEW.from_seq, NEW.anchored_seq, NEW.anchored_hash, NEW.reported_seq, NEW.reported_hash)
        IS DISTINCT FROM (OLD.terminal_id, OLD.at, OLD.kind, OLD.from_seq, OLD.anchored_seq, OLD.anchored_hash, OLD.reported_seq, OLD.reported_hash)
  THEN RAISE EXCEPTION 'an audit break is acknowledged once and otherwise kept as it was';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_breaks_acknowledged_once BEFORE UPDATE ON audit_breaks FOR EACH ROW EXECUTE FUNCTION audit_break_acknowledged_once();
"#, r#"
-- v3 (issue 16): progress at any terminal (a keyed hash of the applicant's
-- ID number beside each filing the hub opened; misses per terminal and day
-- to cap guessing), the reply to a bad rating texted, and ratings on their
-- way to the provincial platform. As SQLite's v13.
ALTER TABLE submissions ADD COLUMN applicant_tag TEXT;
CREATE INDEX submissions_by_applicant ON submissions (applicant_tag) WHERE applicant_tag IS NOT NULL;
CREATE TABLE progress_misses (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    day         TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX progress_misses_by_day ON progress_misses (terminal_id, day);
ALTER TABLE sms_outbox ADD COLUMN reply TEXT;
CREATE TABLE rating_forwards (
    evaluation_id TEXT PRIMARY KEY REFERENCES evaluations (id),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'refused')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX rating_forwards_pending ON rating_forwards (created_at) WHERE state = 'pending';
INSERT INTO rating_forwards (evaluation_id, state, created_at, updated_at)
    SELECT id, 'pending', received_at, received_at FROM evaluations;
"#, r#"
-- v4 (issue 15): a bundle filing's (一件事一次办) items, each a case of its
-- own, numbered <bundle case>P<n> (as SQLite's case_parts).
CREATE TABLE case_parts (
    case_number TEXT PRIMARY KEY,
    bundle_case TEXT NOT NULL REFERENCES cases (case_number),
    position    INTEGER NOT NULL,
    item_code   TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (bundle_case, position)
);
"#, r#"
-- v5 (issue 17): rate limits every instance shares (one token bucket per
-- key, as SQLite's rate_limits).
CREATE TABLE rate_limits (
    key        TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    at         DOUBLE PRECISION NOT NULL,
    idle_after DOUBLE PRECISION NOT NULL
);
CREATE INDEX rate_limits_idle ON rate_limits (idle_after);
"#, r#"
-- v6: result mailing's outbox (as SQLite's v16; store/mail_orders.rs).
CREATE TABLE mail_orders (
    case_number     TEXT PRIMARY KEY REFERENCES cases (case_number),
    case_created_at TIMESTAMPTZ NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('not_mail', 'pending', 'sent', 'refused')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_try_at     TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX mail_orders_pending ON mail_orders (next_try_at) WHERE state = 'pending';
CREATE INDEX mail_orders_newest ON mail_orders (case_created_at);
CREATE INDEX cases_by_created ON cases (created_at);
"#, r#"
-- v7: the fleet page's platform backlog by state and time (as SQLite's v17;
-- store/backlog.rs): the pending and recently given-up rows only.
CREATE INDEX sms_outbox_by_state_made ON sms_outbox (state, created_at);
CREATE INDEX sms_outbox_by_state_updated ON sms_outbox (state, updated_at);
CREATE INDEX rating_forwards_by_state_made ON rating_forwards (state, created_at);
CREATE INDEX rating_forwards_by_state_updated ON rating_forwards (state, updated_at);
CREATE INDEX mail_orders_by_state_made ON mail_orders (state, case_created_at);
CREATE INDEX mail_orders_by_state_updated ON mail_orders (state, updated_at);
"#];

/// Brings the schema up to date; refuses a database a newer hub migrated.
pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    // One instance at a time; the lock ends with the transaction.
    tx.execute("SELECT pg_advisory_xact_lock(7263860017)", &[]).await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS hub_schema (version INTEGER NOT NULL)").await?;
    let found: Option<i32> = tx.query_opt("SELECT version FROM hub_schema", &[]).await?.map(|r| r.get(0));
    let known = MIGRATIONS.len() as i64;
    let mut version = i64::from(found.unwrap_or(0));
    if version > known {
        return Err(StoreError::SchemaTooNew { found: version, known });
    }
    if found.is_none() {
        tx.execute("INSERT INTO hub_schema (version) VALUES (0)", &[]).await?;
    }
    while (version as usize) < MIGRATIONS.len() {
        tx.batch_execute(MIGRATIONS[version as usize]).await?;
        version += 1;
    }
    tx.execute("UPDATE hub_schema SET version = $1", &[&(version as i32)]).await?;
    // The key of e-license lookup tags: random, made once, kept in the database.
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| StoreError::Corrupt(format!("no randomness for the lookup secret: {e}")))?;
    tx.execute("INSERT INTO hub_secrets (name, value) VALUES ('lookup_tag', $1) ON CONFLICT DO NOTHING", &[&&secret[..]]).await?;
    // The key of applicants' progress tags (issue 16), likewise.
    getrandom::fill(&mut secret).map_err(|e| StoreError::Corrupt(format!("no randomness for the applicant secret: {e}")))?;
    tx.execute("INSERT INTO hub_secrets (name, value) VALUES ('applicant_tag', $1) ON CONFLICT DO NOTHING", &[&&secret[..]]).await?;
    tx.commit().await?;
    Ok(())
}
