//! The range checks of an append to a partial upload, over the length
//! held: one rule for the folder (`crate::blobs`) and the bucket
//! (`super::s3`).

use crate::store::StoreError;

/// What appending `len` bytes at `offset` to an upload of `size` bytes, of
/// which `held` are held, must write: `Ok(None)` when every byte is held
/// already (a resent range: content addressed, the same bytes), else
/// `Ok(Some(skip))`, the leading bytes given that are held already and
/// are not written again. Refused: past the announced size
/// ([`StoreError::TooLong`]), or starting past what is held, which would
/// leave a gap ([`StoreError::RangeMismatch`]).
pub(crate) fn bytes_to_write(sha256: &str, offset: u64, len: usize, size: u64, held: u64) -> Result<Option<usize>, StoreError> {
    let end = offset.saturating_add(len as u64);
    if end > size {
        return Err(StoreError::TooLong { sha256: sha256.to_owned(), size });
    }
    if offset > held {
        return Err(StoreError::RangeMismatch { sha256: sha256.to_owned(), offset, received: held });
    }
    if end <= held {
        return Ok(None);
    }
    Ok(Some(usize::try_from(held - offset).unwrap_or(usize::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_are_checked_against_the_size_and_what_is_held() {
        let sha = "ab".repeat(32);
        assert!(matches!(bytes_to_write(&sha, 8, 3, 10, 8), Err(StoreError::TooLong { size: 10, .. })));
        assert!(matches!(bytes_to_write(&sha, 5, 1, 10, 4), Err(StoreError::RangeMismatch { offset: 5, received: 4, .. })));
        assert_eq!(bytes_to_write(&sha, 0, 4, 10, 4).unwrap(), None, "held already");
        assert_eq!(bytes_to_write(&sha, 4, 0, 10, 4).unwrap(), None, "nothing to write");
        assert_eq!(bytes_to_write(&sha, 2, 5, 10, 4).unwrap(), Some(2), "the held part skipped");
        assert_eq!(bytes_to_write(&sha, 4, 6, 10, 4).unwrap(), Some(0));
        assert!(bytes_to_write(&sha, u64::MAX, 2, 10, 4).is_err(), "no overflow");
    }
}
