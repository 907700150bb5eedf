//! Timestamps as stored: fixed-width UTC text, so text order is time order.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::StoreError;

const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub(crate) fn format_ts(t: OffsetDateTime) -> String {
    // Formatting a UTC time with this description cannot fail for years 0..9999.
    t.to_offset(time::UtcOffset::UTC).format(TIMESTAMP).unwrap_or_default()
}

pub(crate) fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    PrimitiveDateTime::parse(s, TIMESTAMP)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| StoreError::Corrupt(format!("timestamp {s:?} is malformed")))
}

/// A compact UTC stamp for file names: `20260314T093000Z`.
pub(crate) fn file_stamp(t: OffsetDateTime) -> String {
    let f = format_description!("[year][month][day]T[hour][minute][second]Z");
    t.to_offset(time::UtcOffset::UTC).format(f).unwrap_or_default()
}
