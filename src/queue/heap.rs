//! [`HeapQueue`]: the reference implementation, two indexed binary heaps.

use super::gen_slab::GenSlab;
use super::idxheap::{IdxHeap, SetPos};
use super::snapshot::{QueueSnapshot, SnapshotEntry, SnapshotError};
use super::{
    DeferralQueue, EntryRef, Handle, Popped, Priority, QueueError, QueueStats, by_priority,
};
use crate::Timestamp;

/// The largest number of entries a [`HeapQueue`] holds.
const MAX_ENTRIES: usize = u32::MAX as usize;

#[derive(Debug, Clone)]
struct Entry<T> {
    item: T,
    due: u64,
    seq: u64,
    priority: Priority,
    ready: bool,
    pos: u32,
}

impl<T> SetPos for GenSlab<Entry<T>> {
    fn set_pos(&mut self, idx: u32, pos: u32) {
        if let Some(e) = self.at_mut(idx) {
            e.pos = pos;
        }
    }
}

/// The reference [`DeferralQueue`]: entries not yet due wait in a binary heap
/// ordered by `(due, insertion)`; when the clock reaches them they move to a
/// second heap ordered by `(priority desc, due, insertion)`, from which
/// `pop_due` takes. Insert, cancel, reschedule and pop are O(log n).
///
/// Simple enough to be obviously right; [`WheelQueue`](super::WheelQueue) is
/// the one to use for millions of entries.
///
/// ```
/// use tempfail::queue::{DeferralQueue, HeapQueue};
/// use tempfail::Timestamp;
///
/// let mut q = HeapQueue::new();
/// let h = q.insert(1u64, Timestamp::from_secs(10), 0)?;
/// q.reschedule(h, Timestamp::from_secs(5), None)?;
/// assert_eq!(q.next_due(), Some(Timestamp::from_secs(5)));
/// assert_eq!(q.pop_due(Timestamp::from_secs(5)).map(|p| p.item), Some(1));
/// # Ok::<(), tempfail::queue::QueueError>(())
/// ```
pub struct HeapQueue<T> {
    slab: GenSlab<Entry<T>>,
    waiting: IdxHeap<(u64, u64)>,
    ready: IdxHeap<(u8, u64, u64)>,
    now: u64,
    next_seq: u64,
    len: usize,
    counts: Box<[usize; 256]>,
}

impl<T> Default for HeapQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> core::fmt::Debug for HeapQueue<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HeapQueue")
            .field("len", &self.len)
            .field("now", &Timestamp::from_millis(self.now))
            .finish_non_exhaustive()
    }
}

impl<T> HeapQueue<T> {
    /// An empty queue whose clock is at [`Timestamp::EPOCH`].
    pub fn new() -> Self {
        HeapQueue {
            slab: GenSlab::new(MAX_ENTRIES),
            waiting: IdxHeap::default(),
            ready: IdxHeap::default(),
            now: 0,
            next_seq: 0,
            len: 0,
            counts: Box::new([0; 256]),
        }
    }

    fn entry(&self, h: Handle) -> Result<&Entry<T>, QueueError> {
        self.slab.get(h).ok_or(QueueError::StaleHandle(h))
    }

    /// Takes the entry out of whichever heap holds it.
    fn unlink(&mut self, idx: u32) {
        let Some(&Entry { ready, pos, .. }) = self.slab.at(idx) else {
            return;
        };
        let pos = pos as usize;
        if ready {
            self.ready.remove(pos, &mut self.slab);
        } else {
            self.waiting.remove(pos, &mut self.slab);
        }
    }

    /// Puts the entry into the heap its due time calls for.
    fn link(&mut self, idx: u32) {
        let Some(e) = self.slab.at_mut(idx) else {
            return;
        };
        if e.due <= self.now {
            e.ready = true;
            let key = (u8::MAX - e.priority, e.due, e.seq);
            self.ready.push(key, idx, &mut self.slab);
        } else {
            e.ready = false;
            let key = (e.due, e.seq);
            self.waiting.push(key, idx, &mut self.slab);
        }
    }

    /// Frees the slot and returns its entry.
    fn release(&mut self, idx: u32) -> Option<Popped<T>> {
        let (e, handle) = self.slab.remove(idx)?;
        self.len -= 1;
        self.counts[usize::from(e.priority)] -= 1;
        Some(Popped {
            handle,
            item: e.item,
            due: Timestamp::from_millis(e.due),
            priority: e.priority,
        })
    }

    fn advance(&mut self, now: Timestamp) {
        self.now = self.now.max(now.as_millis());
        while let Some(((due, _), idx)) = self.waiting.peek() {
            if due > self.now {
                break;
            }
            self.waiting.pop(&mut self.slab);
            self.link(idx);
        }
    }

    fn insert_seq(
        &mut self,
        item: T,
        due: Timestamp,
        priority: Priority,
        seq: u64,
    ) -> Result<Handle, QueueError> {
        let h = self.slab.insert(Entry {
            item,
            due: due.as_millis(),
            seq,
            priority,
            ready: false,
            pos: 0,
        })?;
        self.len += 1;
        self.counts[usize::from(priority)] += 1;
        self.link(h.index());
        Ok(h)
    }

    /// A copy of every entry, the clock and the insertion order, for
    /// [`from_snapshot`](Self::from_snapshot) (or another implementation's).
    pub fn snapshot(&self) -> QueueSnapshot<T>
    where
        T: Clone,
    {
        let entries = self
            .slab
            .iter()
            .map(|(_, e)| SnapshotEntry {
                item: e.item.clone(),
                due: Timestamp::from_millis(e.due),
                priority: e.priority,
                seq: e.seq,
            })
            .collect();
        QueueSnapshot::new(Timestamp::from_millis(self.now), entries)
    }

    /// A queue that pops the same entries in the same order as the one the
    /// snapshot was taken from. Handles are not carried over: use
    /// [`KeyedQueue`](super::KeyedQueue) to keep your own keys across a restart.
    ///
    /// # Errors
    /// [`SnapshotError::UnsupportedVersion`] for a snapshot of another format
    /// version; [`SnapshotError::Full`] if it holds too many entries.
    pub fn from_snapshot(snapshot: QueueSnapshot<T>) -> Result<Self, SnapshotError> {
        let (now, entries) = snapshot.into_ordered()?;
        let mut q = HeapQueue::new();
        q.now = now.as_millis();
        for (seq, e) in (0u64..).zip(entries) {
            q.insert_seq(e.item, e.due, e.priority, seq)
                .map_err(|_| SnapshotError::Full)?;
            q.next_seq = seq + 1;
        }
        Ok(q)
    }
}

impl<T> DeferralQueue<T> for HeapQueue<T> {
    fn insert(
        &mut self,
        item: T,
        due: Timestamp,
        priority: Priority,
    ) -> Result<Handle, QueueError> {
        let seq = self.next_seq;
        let h = self.insert_seq(item, due, priority, seq)?;
        self.next_seq += 1;
        Ok(h)
    }

    fn cancel(&mut self, handle: Handle) -> Result<T, QueueError> {
        self.entry(handle)?;
        self.unlink(handle.index());
        self.release(handle.index())
            .map(|p| p.item)
            .ok_or(QueueError::StaleHandle(handle))
    }

    fn reschedule(
        &mut self,
        handle: Handle,
        due: Timestamp,
        priority: Option<Priority>,
    ) -> Result<(), QueueError> {
        self.entry(handle)?;
        let idx = handle.index();
        self.unlink(idx);
        if let Some(e) = self.slab.at_mut(idx) {
            e.due = due.as_millis();
            if let Some(p) = priority {
                self.counts[usize::from(e.priority)] -= 1;
                self.counts[usize::from(p)] += 1;
                e.priority = p;
            }
        }
        self.link(idx);
        Ok(())
    }

    fn pop_due(&mut self, now: Timestamp) -> Option<Popped<T>> {
        self.advance(now);
        let (_, idx) = self.ready.pop(&mut self.slab)?;
        self.release(idx)
    }

    fn next_due(&self) -> Option<Timestamp> {
        // Due entries are ordered by priority first, so their earliest due time
        // needs a scan; there are only as many as the caller has not popped yet.
        let ready = self.ready.elems().iter().map(|((_, due, _), _)| *due).min();
        let waiting = self.waiting.peek().map(|((due, _), _)| due);
        ready.or(waiting).map(Timestamp::from_millis)
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now)
    }

    fn get(&self, handle: Handle) -> Result<EntryRef<'_, T>, QueueError> {
        let e = self.entry(handle)?;
        Ok(EntryRef {
            handle,
            item: &e.item,
            due: Timestamp::from_millis(e.due),
            priority: e.priority,
        })
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter<'a>(&'a self) -> impl Iterator<Item = EntryRef<'a, T>>
    where
        T: 'a,
    {
        self.slab.iter().map(|(handle, e)| EntryRef {
            handle,
            item: &e.item,
            due: Timestamp::from_millis(e.due),
            priority: e.priority,
        })
    }

    fn stats(&mut self, now: Timestamp) -> QueueStats {
        self.advance(now);
        let oldest = self.ready.elems().iter().map(|((_, due, _), _)| *due).min();
        QueueStats {
            len: self.len,
            by_priority: by_priority(&self.counts),
            due_now: self.ready.len(),
            oldest_due_age: oldest.map(|d| {
                Timestamp::from_millis(self.now)
                    .saturating_duration_since(Timestamp::from_millis(d))
            }),
        }
    }
}
