//! Enrollment codes on PostgreSQL: single use across instances (the code
//! hash is the primary key; each decision holds the code's advisory lock).

use model::auth::PublicKey;
use model::enroll::{Profile, ENROLL_CODE_TTL_SECS};
use model::VillageCode;
use time::OffsetDateTime;

use crate::store::{terminal_id_for_serial, EnrollBinding, EnrollPresentation, EnrollRecord, EnrollState, EnrollmentStore, StoreError};

use super::rows::*;
use super::PgStore;

fn key_of(text: &str) -> Result<PublicKey, StoreError> {
    PublicKey::parse(text).map_err(|_| StoreError::Corrupt("enrollment key".into()))
}

impl EnrollmentStore for PgStore {
    fn present_enrollment(&self, p: &EnrollPresentation<'_>, at: OffsetDateTime) -> Result<EnrollState, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&p.code_hash]).await?;
            let key = p.public_key.to_string();
            if let Some(r) = tx.query_opt("SELECT id, status FROM terminals WHERE public_key = $1", &[&key]).await? {
                if r.try_get::<_, &str>(1)? == "revoked" {
                    return Err(StoreError::TerminalRevoked(r.try_get(0)?));
                }
            }
            let row = tx
                .query_opt("SELECT public_key, expires_at, status, terminal_id, village_code, profile FROM enrollments WHERE code_hash = $1", &[&p.code_hash])
                .await?;
            let now = at.unix_timestamp();
            let state = match row {
                None => {
                    let expires = now + ENROLL_CODE_TTL_SECS;
                    tx.execute(
                        "INSERT INTO enrollments (code_hash, serial, public_key, presented_at, expires_at, status) VALUES ($1, $2, $3, $4, $5, 'pending')",
                        &[&p.code_hash, &p.serial, &key, &at, &expires],
                    )
                    .await?;
                    EnrollState::Pending { expires_at: unix(expires) }
                }
                Some(r) => {
                    let (k, expires, status): (String, i64, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                    let bound: (Option<String>, Option<String>, Option<String>) = (r.try_get(3)?, r.try_get(4)?, r.try_get(5)?);
                    if k != key {
                        // Another key presenting a known code: someone read it
                        // off the screen. Refused; a pending code can then be
                        // bound to neither key.
                        if status == "pending" {
                            tx.execute("UPDATE enrollments SET contested_at = COALESCE(contested_at, $2) WHERE code_hash = $1", &[&p.code_hash, &at]).await?;
                            tx.commit().await?;
                            tracing::warn!(presenter = %p.public_key.fingerprint(), "an enrollment code was presented by a second key; it can no longer be bound");
                        }
                        return Err(StoreError::EnrollCodeUsed);
                    }
                    match (status.as_str(), bound) {
                        ("pending", _) => {
                            if now > expires {
                                return Err(StoreError::EnrollCodeExpired);
                            }
                            EnrollState::Pending { expires_at: unix(expires) }
                        }
                        ("bound", (Some(terminal_id), Some(village), Some(profile))) => {
                            tx.execute("UPDATE enrollments SET status = 'delivered', delivered_at = $2 WHERE code_hash = $1", &[&p.code_hash, &at]).await?;
                            EnrollState::Bound {
                                terminal_id,
                                village_code: VillageCode::parse(&village).map_err(|_| StoreError::Corrupt("enrollment village code".into()))?,
                                profile: Profile::parse(&profile).ok_or_else(|| StoreError::Corrupt("enrollment profile".into()))?,
                            }
                        }
                        _ => return Err(StoreError::EnrollCodeUsed),
                    }
                }
            };
            // Expired pending codes are of no use to anyone: forget them now and then.
            tx.execute("DELETE FROM enrollments WHERE status = 'pending' AND expires_at < $1", &[&(now - 86_400)]).await?;
            tx.commit().await?;
            Ok(state)
        })
    }

    fn bind_enrollment(&self, code_hash: &str, b: &EnrollBinding, at: OffsetDateTime) -> Result<EnrollRecord, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&code_hash]).await?;
            let row = tx
                .query_opt("SELECT serial, public_key, expires_at, status, contested_at IS NOT NULL, presented_at FROM enrollments WHERE code_hash = $1", &[&code_hash])
                .await?;
            let Some(row) = row else { return Err(StoreError::UnknownEnrollCode) };
            let (serial, key_text, expires, status, contested): (String, String, i64, String, bool) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            let presented_at: OffsetDateTime = row.try_get(5)?;
            if status != "pending" {
                return Err(StoreError::EnrollCodeUsed);
            }
            if at.unix_timestamp() > expires {
                return Err(StoreError::EnrollCodeExpired);
            }
            if contested {
                return Err(StoreError::EnrollCodeContested);
            }
            let key = key_of(&key_text)?;
            // The code alone proves nothing: the technician confirms the key the terminal shows.
            let Some(expected) = b.expected_fingerprint.as_deref().map(str::trim).filter(|f| !f.is_empty()) else {
                return Err(StoreError::EnrollFingerprintRequired { found: key.fingerprint() });
            };
            if !expected.eq_ignore_ascii_case(&key.fingerprint()) {
                return Err(StoreError::EnrollFingerprintMismatch { expected: expected.to_owned(), found: key.fingerprint() });
            }
            let id = b.terminal_id.clone().unwrap_or_else(|| terminal_id_for_serial(&serial));
            if !model::auth::valid_terminal_id(&id) {
                return Err(StoreError::TerminalConflict(format!("{id} (not a valid terminal id)")));
            }
            let by_key = tx.query_opt("SELECT id, status FROM terminals WHERE public_key = $1", &[&key_text]).await?;
            match by_key {
                Some(r) if r.try_get::<_, &str>(1)? == "revoked" => return Err(StoreError::TerminalRevoked(r.try_get(0)?)),
                Some(r) if r.try_get::<_, &str>(0)? != id => return Err(StoreError::TerminalConflict(r.try_get(0)?)),
                Some(_) => {
                    tx.execute("UPDATE terminals SET village_code = $2 WHERE id = $1", &[&id, &b.village_code.as_str()]).await?;
                }
                None => {
                    let inserted = tx
                        .execute(
                            "INSERT INTO terminals (id, public_key, status, village_code, label, added_at) VALUES ($1, $2, 'active', $3, $4, $5)
                             ON CONFLICT DO NOTHING",
                            &[&id, &key_text, &b.village_code.as_str(), &format!("{} {serial}", b.profile.as_str()), &at],
                        )
                        .await?;
                    if inserted == 0 {
                        return Err(StoreError::TerminalConflict(id));
                    }
                }
            }
            tx.execute(
                "UPDATE enrollments SET status = 'bound', terminal_id = $2, village_code = $3, profile = $4, bound_at = $5, bound_by = $6
                 WHERE code_hash = $1 AND status = 'pending'",
                &[&code_hash, &id, &b.village_code.as_str(), &b.profile.as_str(), &at, &b.actor],
            )
            .await?;
            tx.commit().await?;
            Ok(EnrollRecord {
                serial,
                public_key: key,
                presented_at,
                expires_at: unix(expires),
                status: "bound".into(),
                terminal_id: Some(id),
                village_code: Some(b.village_code.as_str().to_owned()),
                profile: Some(b.profile),
            })
        })
    }

    fn pending_enrollments(&self, at: OffsetDateTime) -> Result<Vec<EnrollRecord>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            "SELECT serial, public_key, presented_at, expires_at,
                    CASE WHEN status = 'pending' AND contested_at IS NOT NULL THEN 'contested' ELSE status END,
                    terminal_id, village_code, profile FROM enrollments
             WHERE status = 'bound' OR (status = 'pending' AND expires_at >= $1) ORDER BY presented_at DESC",
            &[&at.unix_timestamp()],
        ))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(EnrollRecord {
                serial: r.try_get(0)?,
                public_key: key_of(r.try_get(1)?)?,
                presented_at: r.try_get(2)?,
                expires_at: unix(r.try_get(3)?),
                status: r.try_get(4)?,
                terminal_id: r.try_get(5)?,
                village_code: r.try_get(6)?,
                profile: r.try_get::<_, Option<&str>>(7)?.and_then(Profile::parse),
            });
        }
        Ok(out)
    }
}
