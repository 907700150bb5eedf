//! Read-only views of a PostgreSQL hub database, for [`crate::HubDb`]
//! (tests, the back office's `hub case open`, the SMS sender).

use model::{CaseNumber, SubmissionId};

use crate::store::StoreError;

use super::pool::PgPool;
use super::rows::{parse_case_number, parse_id, u64_of};

pub struct PgReader {
    pool: PgPool,
}

impl PgReader {
    pub fn open(url: &str) -> Result<PgReader, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| StoreError::Corrupt(format!("not a PostgreSQL connection string: {e}")))?;
        Ok(PgReader { pool: PgPool::new(config)? })
    }

    fn one(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Result<Option<tokio_postgres::Row>, StoreError> {
        let client = self.pool.get()?;
        Ok(self.pool.wait(client.query_opt(sql, params))?)
    }

    fn all(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let client = self.pool.get()?;
        Ok(self.pool.wait(client.query(sql, params))?)
    }

    fn count(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Result<u64, StoreError> {
        let row = self.one(sql, params)?.ok_or_else(|| StoreError::Corrupt("a count returned no row".into()))?;
        Ok(u64_of(row.try_get(0)?))
    }

    pub fn submission_count(&self, id: SubmissionId) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) FROM submissions WHERE id = $1", &[&id.to_string()])
    }

    pub fn submission_ids(&self) -> Result<Vec<SubmissionId>, StoreError> {
        self.all("SELECT id FROM submissions ORDER BY id", &[])?.iter().map(|r| parse_id(r.try_get(0)?)).collect()
    }

    pub fn total_submissions(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) FROM submissions", &[])
    }

    pub fn submission_body(&self, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self.one("SELECT body FROM submissions WHERE id = $1 ORDER BY received_at, terminal_id LIMIT 1", &[&id.to_string()])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub fn submission_body_of(&self, terminal: &str, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self.one("SELECT body FROM submissions WHERE terminal_id = $1 AND id = $2", &[&terminal, &id.to_string()])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub fn case_of(&self, terminal: &str, id: SubmissionId) -> Result<Option<CaseNumber>, StoreError> {
        let row = self.one("SELECT case_number FROM cases WHERE terminal_id = $1 AND submission_id = $2", &[&terminal, &id.to_string()])?;
        row.map(|r| parse_case_number(r.try_get(0)?)).transpose()
    }

    pub fn case_for(&self, id: SubmissionId) -> Result<Option<CaseNumber>, StoreError> {
        let row = self.one("SELECT case_number FROM cases WHERE submission_id = $1 ORDER BY created_at LIMIT 1", &[&id.to_string()])?;
        row.map(|r| parse_case_number(r.try_get(0)?)).transpose()
    }

    pub fn case_count(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) FROM cases", &[])
    }

    pub fn evaluations(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.all("SELECT case_number, rating FROM evaluations ORDER BY received_at, id", &[])?.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    pub fn e_license_audit(&self) -> Result<Vec<(String, String, String, String)>, StoreError> {
        self.all("SELECT terminal_id, material_code, id_masked, outcome FROM e_license_lookups ORDER BY seq", &[])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect()
    }
}
