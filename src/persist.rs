//! One persistence convention for everything that outlives a connection: retry
//! state, policies, queue snapshots, deliveries.
//!
//! - Every persisted form carries its format version in one field,
//!   [`VERSION_FIELD`] (`format_version`), written first. The spellings earlier
//!   builds wrote ([`OLD_VERSION_FIELDS`]: `version` for a policy or a queue
//!   snapshot, `v` for a retry state) still load.
//! - Every failure to read one has one shape, [`PersistError`], naming what was
//!   being read (its [`Persisted::KIND`]): a version this build does not read
//!   ([`PersistError::UnsupportedVersion`]), or a value that parses but cannot be
//!   used ([`PersistError::Invalid`], naming the field). Through serde the error's
//!   text is the serde error's message.
//! - Unknown fields are refused, naming the field (a typo must not silently leave a
//!   default in place).
//!
//! ## Making a type persistent
//!
//! Implement [`Persisted`] and give the type's wire form a [`FormatVersion`] field
//! with the one name and the old spellings:
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use serde::{Deserialize, Serialize};
//! use tempfail::persist::{FormatVersion, Persisted};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(deny_unknown_fields)]
//! struct Health {
//!     #[serde(rename = "format_version", alias = "version", alias = "v")]
//!     format_version: FormatVersion<Health>,
//!     failures: u32,
//! }
//! impl Persisted for Health {
//!     const KIND: &'static str = "destination health";
//!     const FORMAT_VERSION: u32 = 1;
//! }
//!
//! let h = Health { format_version: FormatVersion::current(), failures: 3 };
//! let json = serde_json::to_string(&h).unwrap();
//! assert_eq!(json, r#"{"format_version":1,"failures":3}"#);
//! assert_eq!(serde_json::from_str::<Health>(r#"{"v":1,"failures":3}"#).unwrap(), h);
//! let err = serde_json::from_str::<Health>(r#"{"format_version":2,"failures":3}"#).unwrap_err();
//! assert!(err.to_string().starts_with(
//!     "destination health format version 2 is not supported (this build reads version 1)"
//! ));
//! # }
//! ```
//!
//! A type that was persisted before it had a version adds `#[serde(default)]` to
//! the field: a document without one reads as the current version.
//! With `#[serde(try_from = "Wire", into = "Wire")]` on the public type, checks
//! that need the whole document return [`PersistError::Invalid`] from `try_from`.

use core::fmt;
use core::marker::PhantomData;

/// The field every persisted form carries its format version in.
pub const VERSION_FIELD: &str = "format_version";

/// Spellings of [`VERSION_FIELD`] that earlier builds wrote, still read by every
/// persisted type.
pub const OLD_VERSION_FIELDS: &[&str] = &["version", "v"];

/// A persisted form that could not be read: the one error shape of every
/// persisted type.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tempfail::backoff::RetryState;
/// let err = serde_json::from_str::<RetryState>(r#"{"format_version": 9, "arrival": 0}"#)
///     .unwrap_err();
/// assert!(err.to_string().contains("retry state format version 9 is not supported"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// A format version this build does not read.
    #[error("{kind} format version {found} is not supported (this build reads version {expected})")]
    UnsupportedVersion {
        /// What was being read: `retry state`, `retry policy`, `queue snapshot`,
        /// `delivery`.
        kind: &'static str,
        /// The version found.
        found: u32,
        /// The version this build reads and writes.
        expected: u32,
    },
    /// A value that parses but cannot be used (a zero wait, `min` above `max`, an
    /// unknown preset name, parts that contradict each other).
    #[error("{kind}: {field}: {detail}")]
    Invalid {
        /// What was being read.
        kind: &'static str,
        /// Where: a field name or path (`backoff.backoff.min`, `categories[2].backoff`).
        field: String,
        /// What is wrong and what is expected instead.
        detail: String,
    },
}

impl PersistError {
    /// What was being read (`retry state`, `retry policy`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            PersistError::UnsupportedVersion { kind, .. } | PersistError::Invalid { kind, .. } => {
                kind
            }
        }
    }

    /// `Ok` when `found` is `expected`, else [`PersistError::UnsupportedVersion`].
    pub fn check_version(kind: &'static str, found: u32, expected: u32) -> Result<(), Self> {
        if found == expected {
            Ok(())
        } else {
            Err(PersistError::UnsupportedVersion {
                kind,
                found,
                expected,
            })
        }
    }

    /// [`PersistError::Invalid`] for `field` of a `kind`.
    pub fn invalid(
        kind: &'static str,
        field: impl Into<String>,
        detail: impl fmt::Display,
    ) -> Self {
        PersistError::Invalid {
            kind,
            field: field.into(),
            detail: detail.to_string(),
        }
    }

    /// [`PersistError::check_version`] under the name earlier code used.
    #[doc(hidden)]
    pub fn check(kind: &'static str, found: u32, expected: u32) -> Result<(), Self> {
        Self::check_version(kind, found, expected)
    }
}

/// The error type earlier builds named for a version mismatch; it is [`PersistError`].
#[doc(hidden)]
pub type UnsupportedVersion = PersistError;

/// A type with a persisted form: its name in errors and the format version this
/// build reads and writes.
pub trait Persisted {
    /// What it is called in errors (`retry state`, `retry policy`, …).
    const KIND: &'static str;
    /// The format version this build reads and writes.
    const FORMAT_VERSION: u32;
    /// The oldest version this build still reads (and migrates); by default only
    /// the current one.
    const OLDEST_VERSION: u32 = Self::FORMAT_VERSION;
}

/// The version field of `T`'s persisted form: writes [`Persisted::FORMAT_VERSION`]
/// and, when read, refuses any other version with
/// [`PersistError::UnsupportedVersion`] naming [`Persisted::KIND`], as soon as the
/// field is read. See the [module docs](self) for its use.
pub struct FormatVersion<T: ?Sized>(u32, PhantomData<fn() -> T>);

impl<T: Persisted + ?Sized> FormatVersion<T> {
    /// The version this build writes.
    pub const fn current() -> Self {
        FormatVersion(T::FORMAT_VERSION, PhantomData)
    }

    /// The version number.
    pub const fn get(&self) -> u32 {
        self.0
    }
}

impl<T: Persisted + ?Sized> Default for FormatVersion<T> {
    /// The current version: what a document without a version field is read as
    /// (with `#[serde(default)]`).
    fn default() -> Self {
        Self::current()
    }
}

impl<T: ?Sized> Clone for FormatVersion<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for FormatVersion<T> {}
impl<T: ?Sized> PartialEq for FormatVersion<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<T: ?Sized> Eq for FormatVersion<T> {}
impl<T: ?Sized> fmt::Debug for FormatVersion<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FormatVersion({})", self.0)
    }
}

#[cfg(feature = "serde")]
impl<T: ?Sized> serde::Serialize for FormatVersion<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de, T: Persisted + ?Sized> serde::Deserialize<'de> for FormatVersion<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected, Visitor};
        struct V<T: ?Sized>(PhantomData<fn() -> T>);
        impl<T: Persisted + ?Sized> Visitor<'_> for V<T> {
            type Value = FormatVersion<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a {} format version: a whole number ({} for this build)",
                    T::KIND,
                    T::FORMAT_VERSION
                )
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
                let found = u32::try_from(v).unwrap_or(u32::MAX);
                if !(T::OLDEST_VERSION..=T::FORMAT_VERSION).contains(&found) {
                    PersistError::check_version(T::KIND, found, T::FORMAT_VERSION)
                        .map_err(E::custom)?;
                }
                Ok(FormatVersion(found, PhantomData))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
                }
            }
        }
        d.deserialize_u64(V(PhantomData))
    }
}
