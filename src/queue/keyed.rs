//! [`KeyedQueue`]: your own key instead of handles.

use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use std::collections::HashMap;
use std::hash::RandomState;

use super::snapshot::SnapshotError;
use super::{DeferralQueue, Handle, Popped, Priority, QueueError, QueueStats, WheelQueue};
use crate::Timestamp;

/// An entry removed from a [`KeyedQueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedPopped<K, T> {
    /// Its key (no longer in the queue).
    pub key: K,
    /// The item.
    pub item: T,
    /// Its due time.
    pub due: Timestamp,
    /// Its priority.
    pub priority: Priority,
}

impl<K, T> KeyedPopped<K, T> {
    fn from_inner(p: Popped<(K, T)>) -> Self {
        let (key, item) = p.item;
        KeyedPopped {
            key,
            item,
            due: p.due,
            priority: p.priority,
        }
    }
}

/// A deferral queue addressed by the caller's own key (a message id, a
/// `(message, recipient)` pair) instead of handles. At most one entry per key.
///
/// **Insert-or-replace:** [`insert`](Self::insert) with a key already present
/// replaces that entry (item, due time and priority) and returns the old item;
/// the new entry counts as inserted now for the "first inserted" tie-break.
/// [`reschedule`](Self::reschedule) moves an entry and keeps its place in
/// insertion order.
///
/// It wraps any [`DeferralQueue`] of `(K, T)`, a [`WheelQueue`] by default, and
/// pops in that queue's order.
///
/// ```
/// use tempfail::queue::KeyedQueue;
/// use tempfail::Timestamp;
///
/// let mut q: KeyedQueue<&str, u32> = KeyedQueue::new();
/// q.insert("msg-1", 1, Timestamp::from_secs(60), 0)?;
/// q.insert("msg-2", 2, Timestamp::from_secs(30), 0)?;
/// assert_eq!(q.insert("msg-1", 10, Timestamp::from_secs(10), 0)?, Some(1)); // replaced
/// q.reschedule(&"msg-2", Timestamp::from_secs(5), Some(3))?;
///
/// let p = q.pop_due(Timestamp::from_secs(10)).unwrap();
/// assert_eq!((p.key, p.item), ("msg-2", 2));
/// assert_eq!(q.pop_due(Timestamp::from_secs(10)).unwrap().key, "msg-1");
/// assert!(q.is_empty());
/// # Ok::<(), tempfail::queue::QueueError>(())
/// ```
pub struct KeyedQueue<K, T, Q = WheelQueue<(K, T)>, S = RandomState> {
    inner: Q,
    map: HashMap<K, Handle, S>,
    _item: PhantomData<fn() -> T>,
}

impl<K, T, Q: Default, S: Default> Default for KeyedQueue<K, T, Q, S> {
    fn default() -> Self {
        KeyedQueue {
            inner: Q::default(),
            map: HashMap::default(),
            _item: PhantomData,
        }
    }
}

impl<K, T, Q, S> core::fmt::Debug for KeyedQueue<K, T, Q, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyedQueue")
            .field("len", &self.map.len())
            .finish_non_exhaustive()
    }
}

impl<K, T> KeyedQueue<K, T> {
    /// An empty queue over a [`WheelQueue`].
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K, T, Q, S> KeyedQueue<K, T, Q, S>
where
    K: Hash + Eq + Clone,
    Q: DeferralQueue<(K, T)>,
    S: BuildHasher + Default,
{
    /// Wraps `inner`, which may already hold entries (a restored snapshot): its
    /// keys are indexed.
    ///
    /// # Errors
    /// [`SnapshotError::DuplicateKey`] if two entries of `inner` share a key.
    pub fn from_queue(inner: Q) -> Result<Self, SnapshotError> {
        let mut map = HashMap::with_capacity_and_hasher(inner.len(), S::default());
        for e in inner.iter() {
            if map.insert(e.item.0.clone(), e.handle).is_some() {
                return Err(SnapshotError::DuplicateKey);
            }
        }
        Ok(KeyedQueue {
            inner,
            map,
            _item: PhantomData,
        })
    }

    /// The wrapped queue (for `snapshot()` and monitoring).
    pub fn queue(&self) -> &Q {
        &self.inner
    }

    /// Inserts an entry under `key`, replacing (and returning the item of) the
    /// entry already under it, if any.
    ///
    /// # Errors
    /// [`QueueError::Full`] from the wrapped queue; the old entry is then gone.
    pub fn insert(
        &mut self,
        key: K,
        item: T,
        due: Timestamp,
        priority: Priority,
    ) -> Result<Option<T>, QueueError> {
        let old = match self.map.remove(&key) {
            Some(h) => self.inner.cancel(h).ok().map(|(_, t)| t),
            None => None,
        };
        let h = self.inner.insert((key.clone(), item), due, priority)?;
        self.map.insert(key, h);
        Ok(old)
    }

    /// Removes the entry under `key` and returns its item, `None` if absent.
    pub fn cancel(&mut self, key: &K) -> Option<T> {
        let h = self.map.remove(key)?;
        self.inner.cancel(h).ok().map(|(_, t)| t)
    }

    /// Moves the entry under `key` to `due` (and `priority` if `Some`).
    ///
    /// # Errors
    /// [`QueueError::UnknownKey`] if no entry has this key.
    pub fn reschedule(
        &mut self,
        key: &K,
        due: Timestamp,
        priority: Option<Priority>,
    ) -> Result<(), QueueError> {
        let h = *self.map.get(key).ok_or(QueueError::UnknownKey)?;
        self.inner.reschedule(h, due, priority)
    }

    /// Removes and returns the most urgent due entry at `now`, see
    /// [`DeferralQueue::pop_due`].
    #[inline]
    pub fn pop_due(&mut self, now: Timestamp) -> Option<KeyedPopped<K, T>> {
        let p = self.inner.pop_due(now)?;
        self.map.remove(&p.item.0);
        Some(KeyedPopped::from_inner(p))
    }

    /// Moves every entry due at `now` into `out`, in pop order; returns how many.
    pub fn drain_due(&mut self, now: Timestamp, out: &mut Vec<KeyedPopped<K, T>>) -> usize {
        let before = out.len();
        while let Some(p) = self.pop_due(now) {
            out.push(p);
        }
        out.len() - before
    }

    /// The earliest due time of all entries.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.inner.next_due()
    }

    /// The queue's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.now()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether an entry has this key.
    pub fn contains_key(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// The item, due time and priority of the entry under `key`.
    pub fn get(&self, key: &K) -> Option<(&T, Timestamp, Priority)> {
        let e = self.inner.get(*self.map.get(key)?).ok()?;
        Some((&e.item.1, e.due, e.priority))
    }

    /// Every entry as `(key, item, due, priority)`, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &T, Timestamp, Priority)> {
        self.inner
            .iter()
            .map(|e| (&e.item.0, &e.item.1, e.due, e.priority))
    }

    /// Keeps only the entries for which `keep(key, item, due, priority)` is
    /// true; returns the removed ones.
    pub fn retain<F: FnMut(&K, &T, Timestamp, Priority) -> bool>(
        &mut self,
        mut keep: F,
    ) -> Vec<KeyedPopped<K, T>> {
        let removed = self
            .inner
            .retain(|e| keep(&e.item.0, &e.item.1, e.due, e.priority));
        removed
            .into_iter()
            .map(|p| {
                self.map.remove(&p.item.0);
                KeyedPopped::from_inner(p)
            })
            .collect()
    }

    /// Removes every entry and returns them, in no particular order.
    pub fn drain(&mut self) -> Vec<KeyedPopped<K, T>> {
        self.map.clear();
        self.inner
            .drain()
            .into_iter()
            .map(KeyedPopped::from_inner)
            .collect()
    }

    /// Monitoring figures at `now`, see [`DeferralQueue::stats`].
    pub fn stats(&mut self, now: Timestamp) -> QueueStats {
        self.inner.stats(now)
    }
}
