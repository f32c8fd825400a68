//! Deferral queues: a due-time gate, then priority among the due items.
//!
//! A deferral queue holds items (messages, recipients, retry attempts) with a
//! **due time** ([`Timestamp`]) and a **priority** ([`Priority`], a `u8`, higher is
//! more urgent). [`DeferralQueue::pop_due`] returns only items whose due time has
//! come, and among those the highest priority first, then the earliest due, then
//! the first inserted. Every entry is identified by the [`Handle`] returned when it
//! was inserted; handles carry a generation, so a handle to an entry that was
//! popped or cancelled is refused with [`QueueError::StaleHandle`] and never
//! applied to another entry that reuses its storage.
//!
//! The queue never reads a clock: `now` is an argument. A `now` earlier than one
//! already seen is clamped to the latest seen (the queue's clock never runs
//! backwards), never a panic. An entry inserted with a due time at or before the
//! queue's clock is due at once.
//!
//! Implementations:
//!
//! - [`HeapQueue`]: two indexed binary heaps; simple, the reference.
//! - [`WheelQueue`]: a hierarchical timing wheel over slab storage, built for
//!   millions of entries: O(1) insert, cancel and reschedule, 32 bytes per entry
//!   for an 8-byte item, exact millisecond release, far-future entries without
//!   rescans.
//!
//! Adapters:
//!
//! - [`KeyedQueue`]: your own key (a message id) instead of handles, with
//!   insert-or-replace semantics.
//! - [`FairQueue`]: among due entries of equal priority, groups (recipient
//!   domains) are served round-robin, so one huge domain cannot starve the rest.
//!
//! With the `testing` feature, `conformance` is a public suite that any
//! implementation (including one backed by your database) can run against itself.
//!
//! ```
//! use tempfail::queue::{DeferralQueue, WheelQueue};
//! use tempfail::Timestamp;
//!
//! let mut q = WheelQueue::new();
//! let t0 = Timestamp::from_secs(1_700_000_000);
//! q.insert("bulk", t0, 0)?;
//! let urgent = q.insert("password reset", t0, 9)?;
//! q.insert("later", Timestamp::from_secs(1_700_000_060), 9)?;
//!
//! assert_eq!(q.next_due(), Some(t0));
//! assert!(q.pop_due(Timestamp::from_secs(1_699_999_999)).is_none()); // nothing due yet
//! let first = q.pop_due(t0).unwrap();
//! assert_eq!((first.handle, first.item), (urgent, "password reset")); // priority first
//! assert_eq!(q.pop_due(t0).unwrap().item, "bulk");
//! assert!(q.pop_due(t0).is_none()); // "later" is not due
//! assert_eq!(q.cancel(urgent), Err(tempfail::queue::QueueError::StaleHandle(urgent)));
//! # Ok::<(), tempfail::queue::QueueError>(())
//! ```

use core::fmt;
use std::time::Duration;

use crate::Timestamp;

mod fair;
mod gen_slab;
mod heap;
mod idxheap;
mod keyed;
mod snapshot;
mod wheel;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod conformance;

pub use fair::FairQueue;
pub use heap::HeapQueue;
pub use keyed::{KeyedPopped, KeyedQueue};
pub use snapshot::{QueueSnapshot, SnapshotEntry, SnapshotError};
pub use wheel::WheelQueue;

/// Priority of an entry: `0` is the least urgent, `255` the most urgent.
///
/// Priority only orders entries that are already due; it never makes an entry
/// due earlier.
pub type Priority = u8;

/// Identifies one entry of one queue: a slot index and a generation.
///
/// A handle stays valid until its entry is popped, cancelled, drained or removed
/// by `retain`; after that, every operation with it returns
/// [`QueueError::StaleHandle`], even if the slot has been reused.
/// Implementations outside this crate mint handles with [`Handle::new`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(from = "HandleParts", into = "HandleParts")
)]
pub struct Handle {
    /// `index << 32 | generation`: one word, so storing a handle is one write
    /// (and the order is by index, then generation).
    bits: u64,
}

/// How a handle is written by serde: its two parts.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename = "Handle")]
struct HandleParts {
    index: u32,
    generation: u32,
}

#[cfg(feature = "serde")]
impl From<HandleParts> for Handle {
    fn from(p: HandleParts) -> Self {
        Handle::new(p.index, p.generation)
    }
}

#[cfg(feature = "serde")]
impl From<Handle> for HandleParts {
    fn from(h: Handle) -> Self {
        HandleParts {
            index: h.index(),
            generation: h.generation(),
        }
    }
}

impl Handle {
    /// A handle from its parts (for implementations of [`DeferralQueue`]).
    pub const fn new(index: u32, generation: u32) -> Self {
        Handle {
            bits: (index as u64) << 32 | generation as u64,
        }
    }

    /// The slot index part.
    #[allow(clippy::cast_possible_truncation)] // the high half
    pub const fn index(self) -> u32 {
        (self.bits >> 32) as u32
    }

    /// The generation part.
    #[allow(clippy::cast_possible_truncation)] // the low half
    pub const fn generation(self) -> u32 {
        self.bits as u32
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("index", &self.index())
            .field("generation", &self.generation())
            .finish()
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}v{}", self.index(), self.generation())
    }
}

/// Misuse of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The handle does not name a live entry of this queue (already popped,
    /// cancelled, removed, or never issued by it).
    #[error(
        "stale handle {0}: expected a live entry of this queue, got one that was popped, cancelled or never issued"
    )]
    StaleHandle(Handle),
    /// The key is not in the keyed queue.
    #[error("unknown key: expected a key present in the queue")]
    UnknownKey,
    /// The queue holds as many entries as its storage can index.
    #[error("queue full: it already holds the maximum number of entries ({0})")]
    Full(usize),
}

/// An entry removed from a queue by [`DeferralQueue::pop_due`], drained, or
/// removed by `retain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popped<T> {
    /// The handle it had (now stale).
    pub handle: Handle,
    /// The item.
    pub item: T,
    /// Its due time.
    pub due: Timestamp,
    /// Its priority.
    pub priority: Priority,
}

/// A borrowed view of one live entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a, T> {
    /// Its handle.
    pub handle: Handle,
    /// The item.
    pub item: &'a T,
    /// Its due time.
    pub due: Timestamp,
    /// Its priority.
    pub priority: Priority,
}

/// A monitoring snapshot from [`DeferralQueue::stats`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct QueueStats {
    /// Entries in the queue.
    pub len: usize,
    /// `(priority, entries)` for every priority that has entries, most urgent first.
    pub by_priority: Vec<(Priority, usize)>,
    /// Entries whose due time is at or before `now`.
    pub due_now: usize,
    /// How long the oldest due entry has been waiting (`now - its due time`);
    /// `None` when nothing is due.
    pub oldest_due_age: Option<Duration>,
}

/// A deferral queue: a due-time gate, then priority among the due entries.
///
/// # Contract
///
/// - [`pop_due(now)`](Self::pop_due) returns only entries with `due <= now`;
///   among them the highest priority first, then the earliest due, then the
///   first inserted (a reschedule keeps the entry's insertion order).
/// - The queue's clock is the largest `now` passed to `pop_due`, `drain_due` or
///   `stats`; an earlier `now` is clamped to it.
/// - Every operation on a handle that does not name a live entry returns
///   [`QueueError::StaleHandle`] and changes nothing.
/// - [`next_due`](Self::next_due) is the exact earliest due time of all entries.
///
/// `conformance` (feature `testing`) checks all of this against any implementation.
pub trait DeferralQueue<T> {
    /// Inserts `item`, due at `due`, with `priority`; returns its handle.
    ///
    /// # Errors
    /// [`QueueError::Full`] when the queue cannot index another entry.
    fn insert(&mut self, item: T, due: Timestamp, priority: Priority)
    -> Result<Handle, QueueError>;

    /// Removes the entry and returns its item.
    ///
    /// # Errors
    /// [`QueueError::StaleHandle`] if `handle` names no live entry.
    fn cancel(&mut self, handle: Handle) -> Result<T, QueueError>;

    /// Moves the entry to a new due time, and to a new priority if `priority` is
    /// `Some`. The entry keeps its place in insertion order.
    ///
    /// # Errors
    /// [`QueueError::StaleHandle`] if `handle` names no live entry.
    fn reschedule(
        &mut self,
        handle: Handle,
        due: Timestamp,
        priority: Option<Priority>,
    ) -> Result<(), QueueError>;

    /// Removes and returns the most urgent due entry at `now` (clamped, see the
    /// contract), or `None` if nothing is due.
    fn pop_due(&mut self, now: Timestamp) -> Option<Popped<T>>;

    /// Moves every entry due at `now` into `out`, in pop order; returns how many.
    fn drain_due(&mut self, now: Timestamp, out: &mut Vec<Popped<T>>) -> usize {
        let before = out.len();
        while let Some(p) = self.pop_due(now) {
            out.push(p);
        }
        out.len() - before
    }

    /// The earliest due time of all entries (the caller may sleep until then),
    /// `None` when the queue is empty.
    fn next_due(&self) -> Option<Timestamp>;

    /// The queue's clock: the largest `now` it has seen ([`Timestamp::EPOCH`] at first).
    fn now(&self) -> Timestamp;

    /// The live entry named by `handle`.
    ///
    /// # Errors
    /// [`QueueError::StaleHandle`] if `handle` names no live entry.
    fn get(&self, handle: Handle) -> Result<EntryRef<'_, T>, QueueError>;

    /// Number of entries.
    fn len(&self) -> usize;

    /// Whether the queue has no entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, in no particular order.
    fn iter<'a>(&'a self) -> impl Iterator<Item = EntryRef<'a, T>>
    where
        T: 'a;

    /// Removes every entry and returns them, in no particular order.
    fn drain(&mut self) -> Vec<Popped<T>> {
        self.retain(|_| false)
    }

    /// Keeps only the entries for which `keep` returns `true`; returns the
    /// removed ones, in no particular order. The default cancels each removed
    /// entry by its handle, so it costs what [`DeferralQueue::cancel`] costs.
    fn retain<F: FnMut(EntryRef<'_, T>) -> bool>(&mut self, mut keep: F) -> Vec<Popped<T>> {
        let remove: Vec<(Handle, Timestamp, Priority)> = self
            .iter()
            .filter_map(|e| {
                let key = (e.handle, e.due, e.priority);
                (!keep(e)).then_some(key)
            })
            .collect();
        remove
            .into_iter()
            .filter_map(|(handle, due, priority)| {
                let item = self.cancel(handle).ok()?;
                Some(Popped {
                    handle,
                    item,
                    due,
                    priority,
                })
            })
            .collect()
    }

    /// Monitoring figures at `now` (which advances the clock like `pop_due`).
    fn stats(&mut self, now: Timestamp) -> QueueStats;
}

/// Builds the `by_priority` list of [`QueueStats`] from per-priority counts.
pub(crate) fn by_priority(counts: &[usize; 256]) -> Vec<(Priority, usize)> {
    (0..=255u8)
        .rev()
        .filter_map(|p| {
            let c = counts[usize::from(p)];
            (c > 0).then_some((p, c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Handle;

    #[test]
    fn handle_parts_round_trip_and_order_by_index_then_generation() {
        for (i, g) in [
            (0, 0),
            (1, 2),
            (u32::MAX, 0),
            (7, u32::MAX),
            (u32::MAX, u32::MAX),
        ] {
            let h = Handle::new(i, g);
            assert_eq!((h.index(), h.generation()), (i, g));
        }
        let mut hs = [Handle::new(2, 1), Handle::new(1, 9), Handle::new(2, 0)];
        hs.sort();
        let parts: Vec<(u32, u32)> = hs.iter().map(|h| (h.index(), h.generation())).collect();
        assert_eq!(parts, vec![(1, 9), (2, 0), (2, 1)]);
        assert_eq!(Handle::new(3, 4).to_string(), "3v4");
        assert_eq!(
            format!("{:?}", Handle::new(3, 4)),
            "Handle { index: 3, generation: 4 }"
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn handle_serializes_as_its_parts() {
        let h = Handle::new(3, 7);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, r#"{"index":3,"generation":7}"#);
        assert_eq!(serde_json::from_str::<Handle>(&json).unwrap(), h);
    }
}
