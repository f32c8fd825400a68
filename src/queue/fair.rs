//! [`FairQueue`]: round-robin across groups among due entries of equal priority.

use core::cmp::Reverse;
use core::hash::Hash;
use std::collections::{BTreeMap, HashMap, VecDeque};

use super::gen_slab::GenSlab;
use super::{
    DeferralQueue, EntryRef, Handle, Popped, Priority, QueueError, QueueStats, WheelQueue,
    by_priority,
};
use crate::Timestamp;

const MAX_ENTRIES: usize = u32::MAX as usize - 1;

#[derive(Debug, Clone, Copy)]
enum State {
    /// Not yet due: in the wrapped queue under this handle.
    Waiting(Handle),
    /// Due: in its group's staged set.
    Staged,
}

#[derive(Debug)]
struct Rec<T> {
    item: T,
    due: u64,
    seq: u64,
    priority: Priority,
    group: u32,
    state: State,
}

impl<T> Rec<T> {
    fn staged_key(&self) -> (Reverse<Priority>, u64, u64) {
        (Reverse(self.priority), self.due, self.seq)
    }
}

#[derive(Debug)]
struct Group<G> {
    key: G,
    members: usize,
    /// Due entries of this group in pop order.
    staged: BTreeMap<(Reverse<Priority>, u64, u64), u32>,
}

impl<G> Group<G> {
    fn has_staged_at(&self, p: Priority) -> bool {
        self.staged
            .range((Reverse(p), 0, 0)..=(Reverse(p), u64::MAX, u64::MAX))
            .next()
            .is_some()
    }
}

/// A deferral queue that serves groups (recipient domains, tenants) in turn:
/// among due entries of the highest priority, the groups that have such entries
/// take turns, one entry each, so one domain with a million due messages cannot
/// starve a domain with one. Within a group, entries pop in the usual order
/// (earliest due, then first inserted). Priority still comes first.
///
/// A group joins the back of the turn order of a priority when it gets a due
/// entry of that priority; it leaves when it has none left.
///
/// The group of an item is `group_of(&item)`, computed once at insert. Entries
/// not yet due wait in a wrapped [`DeferralQueue`] of slot indices (a
/// [`WheelQueue`] by default). With a single group, it pops exactly like any
/// other [`DeferralQueue`] (it passes the same conformance suite).
///
/// ```
/// use tempfail::queue::{DeferralQueue, FairQueue};
/// use tempfail::Timestamp;
///
/// let domain = |rcpt: &&str| rcpt.split('@').nth(1).unwrap_or("").to_string();
/// let mut q = FairQueue::new(domain);
/// let t = Timestamp::from_secs(100);
/// for i in 0..3 {
///     q.insert(["a@big.example", "b@big.example", "c@big.example"][i], t, 0)?;
/// }
/// q.insert("x@small.example", t, 0)?;
/// let order: Vec<&str> = std::iter::from_fn(|| q.pop_due(t).map(|p| p.item)).collect();
/// assert_eq!(order, ["a@big.example", "x@small.example", "b@big.example", "c@big.example"]);
/// # Ok::<(), tempfail::queue::QueueError>(())
/// ```
pub struct FairQueue<T, G, F, Q = WheelQueue<u32>> {
    inner: Q,
    group_of: F,
    slots: GenSlab<Rec<T>>,
    len: usize,
    now: u64,
    next_seq: u64,
    group_ids: HashMap<G, u32>,
    groups: Vec<Option<Group<G>>>,
    free_groups: Vec<u32>,
    /// Per priority: the groups with due entries of it, in turn order.
    rings: BTreeMap<Priority, VecDeque<u32>>,
    staged: usize,
    counts: Box<[usize; 256]>,
    /// Reused buffer for newly due entries.
    batch: Vec<u32>,
}

impl<T, G, F, Q> core::fmt::Debug for FairQueue<T, G, F, Q> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FairQueue")
            .field("len", &self.len)
            .field("groups", &self.group_ids.len())
            .finish_non_exhaustive()
    }
}

impl<T, G, F> FairQueue<T, G, F>
where
    G: Hash + Eq + Clone,
    F: Fn(&T) -> G,
{
    /// An empty queue over a [`WheelQueue`], grouping items with `group_of`.
    pub fn new(group_of: F) -> Self {
        Self::with_queue(WheelQueue::new(), group_of)
    }
}

impl<T, G, F, Q> FairQueue<T, G, F, Q>
where
    G: Hash + Eq + Clone,
    F: Fn(&T) -> G,
    Q: DeferralQueue<u32>,
{
    /// An empty queue whose waiting entries live in `inner` (which must be empty).
    pub fn with_queue(inner: Q, group_of: F) -> Self {
        FairQueue {
            inner,
            group_of,
            slots: GenSlab::new(MAX_ENTRIES),
            len: 0,
            now: 0,
            next_seq: 0,
            group_ids: HashMap::new(),
            groups: Vec::new(),
            free_groups: Vec::new(),
            rings: BTreeMap::new(),
            staged: 0,
            counts: Box::new([0; 256]),
            batch: Vec::new(),
        }
    }

    /// Number of groups that have entries.
    pub fn groups(&self) -> usize {
        self.group_ids.len()
    }

    fn rec(&self, h: Handle) -> Result<&Rec<T>, QueueError> {
        self.slots.get(h).ok_or(QueueError::StaleHandle(h))
    }

    fn rec_mut(&mut self, idx: u32) -> &mut Rec<T> {
        match self.slots.at_mut(idx) {
            Some(r) => r,
            None => unreachable!("staged sets and the wrapped queue name live slots"),
        }
    }

    fn group_mut(&mut self, gid: u32) -> &mut Group<G> {
        match &mut self.groups[gid as usize] {
            Some(g) => g,
            None => unreachable!("live entries name live groups"),
        }
    }

    fn group_id(&mut self, key: G) -> u32 {
        if let Some(&gid) = self.group_ids.get(&key) {
            return gid;
        }
        let g = Group {
            key: key.clone(),
            members: 0,
            staged: BTreeMap::new(),
        };
        #[allow(clippy::cast_possible_truncation)] // at most one group per entry
        let gid = match self.free_groups.pop() {
            Some(gid) => {
                self.groups[gid as usize] = Some(g);
                gid
            }
            None => {
                self.groups.push(Some(g));
                (self.groups.len() - 1) as u32
            }
        };
        self.group_ids.insert(key, gid);
        gid
    }

    fn stage(&mut self, idx: u32) {
        let r = self.rec_mut(idx);
        r.state = State::Staged;
        let (key, gid, p) = (r.staged_key(), r.group, r.priority);
        let g = self.group_mut(gid);
        let joined = !g.has_staged_at(p);
        g.staged.insert(key, idx);
        if joined {
            self.rings.entry(p).or_default().push_back(gid);
        }
        self.staged += 1;
    }

    fn unstage(&mut self, idx: u32) {
        let r = self.rec_mut(idx);
        let (key, gid, p) = (r.staged_key(), r.group, r.priority);
        let g = self.group_mut(gid);
        g.staged.remove(&key);
        if !g.has_staged_at(p) {
            if let Some(ring) = self.rings.get_mut(&p) {
                ring.retain(|&x| x != gid);
                if ring.is_empty() {
                    self.rings.remove(&p);
                }
            }
        }
        self.staged -= 1;
    }

    /// Takes a live entry out of the wrapped queue or its staged set.
    fn detach(&mut self, idx: u32) {
        match self.rec_mut(idx).state {
            State::Waiting(h) => {
                let _ = self.inner.cancel(h);
            }
            State::Staged => self.unstage(idx),
        }
    }

    fn release(&mut self, idx: u32) -> Popped<T> {
        let Some((r, handle)) = self.slots.remove(idx) else {
            unreachable!("release is only called on live slots")
        };
        self.len -= 1;
        self.counts[usize::from(r.priority)] -= 1;
        let g = self.group_mut(r.group);
        g.members -= 1;
        if g.members == 0 {
            if let Some(g) = self.groups[r.group as usize].take() {
                self.group_ids.remove(&g.key);
            }
            self.free_groups.push(r.group);
        }
        Popped {
            handle,
            item: r.item,
            due: Timestamp::from_millis(r.due),
            priority: r.priority,
        }
    }

    /// Advances the clock and stages every entry that has become due.
    fn advance(&mut self, now: Timestamp) {
        self.now = self.now.max(now.as_millis());
        let mut batch = core::mem::take(&mut self.batch);
        while let Some(p) = self.inner.pop_due(Timestamp::from_millis(self.now)) {
            batch.push(p.item);
        }
        // Groups join the turn order in pop order of their newly due entries,
        // by this queue's own insertion order (the wrapped queue's may differ
        // after a due entry was moved back into the future).
        if batch.len() > 1 {
            batch.sort_by_cached_key(|&idx| {
                self.slots
                    .at(idx)
                    .map_or((Reverse(0), 0, 0), Rec::staged_key)
            });
        }
        for &idx in &batch {
            self.stage(idx);
        }
        batch.clear();
        self.batch = batch;
    }

    fn staged_min_due(&self) -> Option<u64> {
        self.groups
            .iter()
            .flatten()
            .flat_map(|g| g.staged.keys().map(|k| k.1))
            .min()
    }
}

impl<T, G, F, Q> DeferralQueue<T> for FairQueue<T, G, F, Q>
where
    G: Hash + Eq + Clone,
    F: Fn(&T) -> G,
    Q: DeferralQueue<u32>,
{
    fn insert(
        &mut self,
        item: T,
        due: Timestamp,
        priority: Priority,
    ) -> Result<Handle, QueueError> {
        // The slot is taken only once the wrapped queue has taken the entry.
        let idx = self.slots.next_handle()?.index();
        let inner = self.inner.insert(idx, due, priority)?;
        let gid = self.group_id((self.group_of)(&item));
        self.group_mut(gid).members += 1;
        let handle = self.slots.insert(Rec {
            item,
            due: due.as_millis(),
            seq: self.next_seq,
            priority,
            group: gid,
            state: State::Waiting(inner),
        })?;
        self.next_seq += 1;
        self.len += 1;
        self.counts[usize::from(priority)] += 1;
        Ok(handle)
    }

    fn cancel(&mut self, handle: Handle) -> Result<T, QueueError> {
        self.rec(handle)?;
        self.detach(handle.index());
        Ok(self.release(handle.index()).item)
    }

    fn reschedule(
        &mut self,
        handle: Handle,
        due: Timestamp,
        priority: Option<Priority>,
    ) -> Result<(), QueueError> {
        let old_priority = self.rec(handle)?.priority;
        let idx = handle.index();
        let new_priority = priority.unwrap_or(old_priority);
        match self.rec_mut(idx).state {
            State::Waiting(h) => {
                self.inner.reschedule(h, due, priority)?;
                let r = self.rec_mut(idx);
                r.due = due.as_millis();
                r.priority = new_priority;
            }
            State::Staged => {
                self.unstage(idx);
                let r = self.rec_mut(idx);
                r.due = due.as_millis();
                r.priority = new_priority;
                if due.as_millis() <= self.now {
                    self.stage(idx);
                } else {
                    let h = self.inner.insert(idx, due, new_priority)?;
                    self.rec_mut(idx).state = State::Waiting(h);
                }
            }
        }
        self.counts[usize::from(old_priority)] -= 1;
        self.counts[usize::from(new_priority)] += 1;
        Ok(())
    }

    fn pop_due(&mut self, now: Timestamp) -> Option<Popped<T>> {
        self.advance(now);
        let (&p, ring) = self.rings.iter_mut().next_back()?;
        let gid = ring.pop_front()?;
        let g = self.group_mut(gid);
        let (_, idx) = g
            .staged
            .range((Reverse(p), 0, 0)..)
            .next()
            .map(|(k, v)| (*k, *v))?;
        let r = self.rec_mut(idx);
        let key = r.staged_key();
        let g = self.group_mut(gid);
        g.staged.remove(&key);
        let more = g.has_staged_at(p);
        if let Some(ring) = self.rings.get_mut(&p) {
            if more {
                ring.push_back(gid);
            } else if ring.is_empty() {
                self.rings.remove(&p);
            }
        }
        self.staged -= 1;
        Some(self.release(idx))
    }

    fn next_due(&self) -> Option<Timestamp> {
        let staged = self.staged_min_due();
        let waiting = self.inner.next_due().map(Timestamp::as_millis);
        match (staged, waiting) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(Timestamp::from_millis)
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now)
    }

    fn get(&self, handle: Handle) -> Result<EntryRef<'_, T>, QueueError> {
        let r = self.rec(handle)?;
        Ok(EntryRef {
            handle,
            item: &r.item,
            due: Timestamp::from_millis(r.due),
            priority: r.priority,
        })
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter<'a>(&'a self) -> impl Iterator<Item = EntryRef<'a, T>>
    where
        T: 'a,
    {
        self.slots.iter().map(|(handle, r)| EntryRef {
            handle,
            item: &r.item,
            due: Timestamp::from_millis(r.due),
            priority: r.priority,
        })
    }

    fn stats(&mut self, now: Timestamp) -> QueueStats {
        self.advance(now);
        QueueStats {
            len: self.len,
            by_priority: by_priority(&self.counts),
            due_now: self.staged,
            oldest_due_age: self.staged_min_due().map(|d| {
                Timestamp::from_millis(self.now)
                    .saturating_duration_since(Timestamp::from_millis(d))
            }),
        }
    }
}
