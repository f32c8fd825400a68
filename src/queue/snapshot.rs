//! Queue snapshots: everything needed to rebuild a queue that pops the same
//! entries in the same order, with a format version.

use super::Priority;
use crate::Timestamp;
use crate::persist::{PersistError, Persisted};

/// A queue's content as plain data: its clock and every entry with its
/// insertion sequence. Produced by `snapshot()` and consumed by
/// `from_snapshot()` of [`HeapQueue`](super::HeapQueue),
/// [`WheelQueue`](super::WheelQueue) and [`KeyedQueue`](super::KeyedQueue); a
/// snapshot of one implementation restores into the other.
///
/// With the `serde` feature it serializes as
/// `{"format_version":1,"now":…,"entries":[{"item":…,"due":…,"priority":…,"seq":…}]}`
/// (see [`crate::persist`]; `version` from earlier builds still loads);
/// deserializing a snapshot whose version this build does not know fails with
/// [`PersistError::UnsupportedVersion`]'s message naming both versions, and is
/// never misread; an unknown field is refused, naming it.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tempfail::queue::{DeferralQueue, QueueSnapshot, WheelQueue};
/// use tempfail::Timestamp;
///
/// let mut q = WheelQueue::new();
/// q.insert("a".to_string(), Timestamp::from_secs(5), 1).unwrap();
/// let json = serde_json::to_string(&q.snapshot()).unwrap();
/// let back: QueueSnapshot<String> = serde_json::from_str(&json).unwrap();
/// let mut r = WheelQueue::from_snapshot(back).unwrap();
/// assert_eq!(r.pop_due(Timestamp::from_secs(5)).unwrap().item, "a");
///
/// let future = json.replace("\"format_version\":1", "\"format_version\":99");
/// let err = serde_json::from_str::<QueueSnapshot<String>>(&future).unwrap_err();
/// assert!(err.to_string().contains("version 99"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct QueueSnapshot<T> {
    /// Format version; [`QueueSnapshot::FORMAT_VERSION`] for snapshots this build
    /// writes. Written as `format_version` ([`crate::persist`]); `version` still loads.
    #[cfg_attr(feature = "serde", serde(rename = "format_version"))]
    pub version: u32,
    /// The queue's clock (the latest `now` it saw).
    pub now: Timestamp,
    /// The entries, in any order; `seq` gives the insertion order.
    pub entries: Vec<SnapshotEntry<T>>,
}

/// One entry of a [`QueueSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "a queue snapshot entry: a map with item, due, priority and seq"
    )
)]
pub struct SnapshotEntry<T> {
    /// The item.
    pub item: T,
    /// Its due time.
    pub due: Timestamp,
    /// Its priority.
    pub priority: Priority,
    /// Its insertion sequence: among entries of equal priority and due time, the
    /// lower pops first. Only the order matters, not the values.
    pub seq: u64,
}

/// Why a snapshot could not be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The snapshot was written in a format version this build does not read
    /// ([`PersistError::UnsupportedVersion`]).
    #[error(transparent)]
    UnsupportedVersion(#[from] PersistError),
    /// The snapshot holds more entries than the queue can index.
    #[error("queue snapshot holds more entries than the queue can index")]
    Full,
    /// Two entries of a keyed queue's snapshot share a key.
    #[error("keyed queue snapshot holds two entries with the same key")]
    DuplicateKey,
}

impl<T> QueueSnapshot<T> {
    /// The snapshot format version this build writes and reads.
    pub const FORMAT_VERSION: u32 = <Self as Persisted>::FORMAT_VERSION;

    /// A snapshot in the current format.
    pub fn new(now: Timestamp, entries: Vec<SnapshotEntry<T>>) -> Self {
        QueueSnapshot {
            version: Self::FORMAT_VERSION,
            now,
            entries,
        }
    }

    /// Checks the version; returns the clock and the entries in insertion order.
    pub(crate) fn into_ordered(self) -> Result<(Timestamp, Vec<SnapshotEntry<T>>), SnapshotError> {
        check_version(self.version)?;
        let mut entries = self.entries;
        entries.sort_by_key(|e| e.seq);
        Ok((self.now, entries))
    }
}

impl<T> Persisted for QueueSnapshot<T> {
    const KIND: &'static str = "queue snapshot";
    const FORMAT_VERSION: u32 = 1;
}

fn check_version(found: u32) -> Result<(), SnapshotError> {
    Ok(PersistError::check_version(
        <QueueSnapshot<()> as Persisted>::KIND,
        found,
        QueueSnapshot::<()>::FORMAT_VERSION,
    )?)
}

// Hand-written so that the version is checked as soon as it is read (snapshots
// put it first), before entries of an unknown format are looked at.
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for QueueSnapshot<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use crate::persist::FormatVersion;
        use serde::de::{Error, MapAccess, Visitor};
        struct V<T>(core::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = QueueSnapshot<T>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a queue snapshot: a map with format_version, now and entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let (mut version, mut now, mut entries) = (None, None, None);
                while let Some(key) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "format_version" | "version" | "v" => {
                            if version.is_some() {
                                return Err(A::Error::duplicate_field("format_version"));
                            }
                            let v: FormatVersion<QueueSnapshot<()>> = m.next_value()?;
                            version = Some(v.get());
                        }
                        "now" if now.is_some() => return Err(A::Error::duplicate_field("now")),
                        "now" => now = Some(m.next_value()?),
                        "entries" if entries.is_some() => {
                            return Err(A::Error::duplicate_field("entries"));
                        }
                        "entries" => entries = Some(m.next_value()?),
                        other => {
                            return Err(A::Error::unknown_field(
                                other,
                                &["format_version", "now", "entries"],
                            ));
                        }
                    }
                }
                Ok(QueueSnapshot {
                    version: version.ok_or_else(|| A::Error::missing_field("format_version"))?,
                    now: now.ok_or_else(|| A::Error::missing_field("now"))?,
                    entries: entries.ok_or_else(|| A::Error::missing_field("entries"))?,
                })
            }
        }
        d.deserialize_struct(
            "QueueSnapshot",
            &["format_version", "now", "entries"],
            V(core::marker::PhantomData),
        )
    }
}
