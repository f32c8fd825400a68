//! One persistence convention for everything that outlives a connection: retry
//! state, policies, deliveries, queue snapshots.
//!
//! Every persisted form carries its format version in one field,
//! [`VERSION_FIELD`] (`format_version`); the spellings earlier builds wrote (`v` for
//! a retry state, `version` for a policy or a queue snapshot) still load. A form of a
//! version this build does not read is refused with one error shape,
//! [`UnsupportedVersion`], naming what it was; unknown fields are refused naming the
//! field.

/// The field every persisted form carries its format version in.
pub const VERSION_FIELD: &str = "format_version";

/// A persisted form of a format version this build does not read.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tempfail::backoff::RetryState;
/// let err = serde_json::from_str::<RetryState>(r#"{"format_version": 9, "arrival": 0}"#)
///     .unwrap_err();
/// assert!(err.to_string().contains("retry state format version 9 is not supported"));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{kind} format version {found} is not supported (this build reads version {supported})")]
#[non_exhaustive]
pub struct UnsupportedVersion {
    /// What was being read: `retry state`, `retry policy`, `delivery`, `queue snapshot`.
    pub kind: &'static str,
    /// The version found.
    pub found: u32,
    /// The version this build reads and writes.
    pub supported: u32,
}

impl UnsupportedVersion {
    /// `Ok` when `found` is `supported`.
    pub(crate) fn check(kind: &'static str, found: u32, supported: u32) -> Result<(), Self> {
        if found == supported {
            Ok(())
        } else {
            Err(UnsupportedVersion {
                kind,
                found,
                supported,
            })
        }
    }
}
