//! [`WheelQueue`]: a hierarchical timing wheel over slab storage.
//!
//! Layout, from the entry outwards:
//!
//! - **Slab.** Every entry lives in one slab slot: the item, the due time (`u64`
//!   milliseconds, exact), its location (wheel slot or heap) and position there
//!   (two `u32`), a `u32` insertion sequence and a `u32` holding a 24-bit
//!   generation and the 8-bit priority: 24 bytes beside the item, 32 bytes for
//!   an 8-byte item. The slab grows in chunks of 4096 slots, so growing never
//!   copies and wastes at most one chunk. Free slots form a list through it.
//! - **Wheel.** Time is cut into ticks of 2^18 ms (about 262 s). Four levels of
//!   4096 slots each (12 bits of the tick per level) cover every `u64` due time,
//!   so entries years away sit in a high-level slot and are never rescanned.
//!   Level 0 spans about 12 days, so retry delays of hours to days mostly go
//!   straight to their final slot instead of cascading down once. An
//!   entry lives in the level of the highest tick bit in which its due time
//!   differs from the wheel's current tick. A slot is a vector of slab indices
//!   (4 bytes per entry, grown by half when full) and every entry knows its
//!   position in it, so insert, cancel and reschedule are O(1) (a removal
//!   leaves a tombstone; a slot that is more than three quarters tombstones
//!   is compacted, amortized O(1): compacting rewrites the position of every
//!   live member, a random write each, so it waits until a third of a write
//!   per removal pays for it; a slot vector holds at most four indices per
//!   live entry, plus 16), and processing
//!   a slot reads its entries' due times as independent loads the CPU overlaps
//!   (a linked list would serialize one cache miss per entry). Occupancy
//!   bitmaps find the next non-empty slot without scanning empty ones. When the
//!   clock enters a slot, its entries are placed again relative to the new
//!   tick: each entry moves down at most once per level.
//! - **Near run.** When the clock enters a tick, that tick's entries are copied
//!   out as `(due, insertion, index)` and sorted once: counted into 256
//!   buckets of about a second by due time, then each bucket sorted on its
//!   own (a few entries each when due times spread over the tick; never worse
//!   than one comparison sort). They are released from the front as the clock
//!   passes their due time: release is exact to the millisecond whatever the
//!   slot width. A cancelled one leaves a tombstone, found by binary search
//!   (the run is sorted), so entering a tick writes nothing back but a mark
//!   in each entry as it is read. While
//!   every entry has the same priority, `pop_due` takes due entries straight
//!   from the run (merged with the ready heap), since the ready order is then
//!   the run's own; otherwise they go through the ready heap. Entries inserted
//!   into the current tick after that wait in a small binary heap beside the run.
//! - **Ready heap.** Entries whose due time has come, ordered by
//!   `(priority desc, due, insertion)`: `pop_due` takes from here.
//!
//! The insertion sequence is a `u32`; after 2^32 − 1 insertions the live entries
//! are renumbered in order (O(n log n), once every four billion insertions).
//! A slot whose 24-bit generation is exhausted is retired, never reused, so a
//! stale handle can never name another entry.

use core::cell::Cell;
use core::num::NonZeroU32;

use super::idxheap::{IdxHeap, SetPos};
use super::snapshot::{QueueSnapshot, SnapshotEntry, SnapshotError};
use super::{
    DeferralQueue, EntryRef, Handle, Popped, Priority, QueueError, QueueStats, by_priority,
};
use crate::Timestamp;

/// log2 of the tick width in milliseconds.
const TICK_BITS: u32 = 18;
/// log2 of the slots per level.
const LEVEL_BITS: u32 = 12;
const SLOTS: usize = 1 << LEVEL_BITS;
const SLOT_MASK: u64 = (SLOTS as u64) - 1;
/// Levels needed to cover every tick of a `u64` millisecond due time.
const LEVELS: usize = (64 - TICK_BITS).div_ceil(LEVEL_BITS) as usize;
const WORDS: usize = SLOTS / 64;

/// `loc` of an entry in the near run.
const NEAR_RUN: u32 = u32::MAX - 2;
/// `loc` of an entry in the near heap.
const NEAR: u32 = u32::MAX - 1;
/// `loc` of an entry in the ready heap.
const READY: u32 = u32::MAX;
const NIL: u32 = u32::MAX;
const MAX_ENTRIES: usize = u32::MAX as usize - 1;
/// Entries whose due times are read ahead in one batch when a slot is processed.
const BATCH: usize = 64;
const GEN_MAX: u32 = (1 << 24) - 1;

#[derive(Debug, Clone)]
struct Entry<T> {
    item: T,
    due: u64,
    /// Where it is: a wheel slot (`level * SLOTS + digit`), `NEAR_RUN`,
    /// `NEAR` or `READY`.
    loc: u32,
    /// Its position in that slot's vector or heap.
    pos: u32,
    seq: u32,
    /// generation << 8 | priority; the generation starts at 1, so never zero.
    meta: NonZeroU32,
}

impl<T> Entry<T> {
    fn generation(&self) -> u32 {
        self.meta.get() >> 8
    }
    #[allow(clippy::cast_possible_truncation)] // the low 8 bits
    fn priority(&self) -> Priority {
        self.meta.get() as u8
    }
    fn ready_key(&self) -> (u8, u64, u32) {
        (u8::MAX - self.priority(), self.due, self.seq)
    }
}

fn meta(generation: u32, priority: Priority) -> NonZeroU32 {
    // generation is in 1..=GEN_MAX, so the value is never zero.
    NonZeroU32::new(generation << 8 | u32::from(priority)).unwrap_or(NonZeroU32::MIN)
}

/// An entry of the near run, with its sort key `(due, seq)` copied out of
/// the slab so that sorting and popping the run compare without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RunEntry {
    due: u64,
    seq: u32,
    /// The slab index, `NIL` for a tombstone.
    idx: u32,
}

const RUN_NIL: RunEntry = RunEntry {
    due: 0,
    seq: 0,
    idx: NIL,
};

/// The run's order within one tick: due time, then insertion, in one `u64`
/// (a tick's entries share the due time's high bits).
#[inline]
fn run_key(due: u64, seq: u32) -> u64 {
    (due & ((1 << TICK_BITS) - 1)) << 32 | u64::from(seq)
}

/// Buckets of the run's counting sort: by the due time's top 8 bits within
/// the tick (about one second each).
const RUN_BUCKETS: usize = 256;
/// Buckets up to this size are insertion-sorted.
const SMALL_BUCKET: usize = 24;

/// Sorts `input` by [`run_key`] into `out`: one counting pass by bucket,
/// then each bucket on its own (a few entries each when due times spread
/// over the tick). Never worse than one comparison sort of the whole run.
fn sort_run(input: &[RunEntry], out: &mut Vec<RunEntry>) {
    out.clear();
    let shift = TICK_BITS - RUN_BUCKETS.trailing_zeros();
    #[allow(clippy::cast_possible_truncation)] // masked to 8 bits
    let bucket = |r: &RunEntry| ((r.due >> shift) as usize) % RUN_BUCKETS;
    if input.len() <= SMALL_BUCKET {
        out.extend_from_slice(input);
        insertion_sort(out);
        return;
    }
    let mut starts = [0u32; RUN_BUCKETS + 1];
    for r in input.iter() {
        starts[bucket(r) + 1] += 1;
    }
    for b in 0..RUN_BUCKETS {
        starts[b + 1] += starts[b];
    }
    out.resize(input.len(), RUN_NIL);
    let mut next = starts;
    for r in input.iter() {
        let b = bucket(r);
        out[next[b] as usize] = *r;
        next[b] += 1;
    }
    for b in 0..RUN_BUCKETS {
        let (lo, hi) = (starts[b] as usize, starts[b + 1] as usize);
        match hi - lo {
            0 | 1 => {}
            n if n <= SMALL_BUCKET => insertion_sort(&mut out[lo..hi]),
            _ => out[lo..hi].sort_unstable_by_key(|r| run_key(r.due, r.seq)),
        }
    }
}

#[inline]
fn insertion_sort(v: &mut [RunEntry]) {
    for i in 1..v.len() {
        let x = v[i];
        let k = run_key(x.due, x.seq);
        let mut j = i;
        while j > 0 && run_key(v[j - 1].due, v[j - 1].seq) > k {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

#[derive(Debug, Clone)]
enum Slot<T> {
    Occupied(Entry<T>),
    Vacant { next_free: u32, generation: u32 },
}

/// log2 of the entries per slab chunk.
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

/// Slab storage in chunks of `CHUNK` entries: growing never copies, and the
/// unused tail is at most one chunk (a doubling `Vec` wastes up to half).
#[derive(Debug, Clone)]
struct Slab<T> {
    chunks: Vec<Vec<Slot<T>>>,
    len: usize,
}

impl<T> Slab<T> {
    fn with_capacity(n: usize) -> Self {
        let mut chunks = Vec::new();
        if n > 0 {
            chunks.push(Vec::with_capacity(n.min(CHUNK)));
        }
        Slab { chunks, len: 0 }
    }

    #[inline]
    fn get(&self, idx: u32) -> Option<&Slot<T>> {
        self.chunks
            .get((idx >> CHUNK_BITS) as usize)?
            .get(idx as usize % CHUNK)
    }

    #[inline]
    fn slot_mut(&mut self, idx: u32) -> Option<&mut Slot<T>> {
        self.chunks
            .get_mut((idx >> CHUNK_BITS) as usize)?
            .get_mut(idx as usize % CHUNK)
    }

    /// The slot at `idx`, which must be below `len`.
    #[inline]
    fn slot(&mut self, idx: u32) -> &mut Slot<T> {
        &mut self.chunks[(idx >> CHUNK_BITS) as usize][idx as usize % CHUNK]
    }

    #[inline]
    fn e(&mut self, idx: u32) -> &mut Entry<T> {
        match self.slot(idx) {
            Slot::Occupied(e) => e,
            // Slots and heaps only ever name occupied slots.
            Slot::Vacant { .. } => unreachable!("a slot or heap names a vacant slab entry"),
        }
    }

    fn push(&mut self, s: Slot<T>) {
        match self.chunks.last_mut() {
            // The first chunk grows like a Vec, so a small queue stays small.
            Some(c) if c.len() < CHUNK => c.push(s),
            _ => {
                // Later chunks are whole from the start, so they never move.
                let first = self.chunks.is_empty();
                let mut c = Vec::with_capacity(if first { 16 } else { CHUNK });
                c.push(s);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = &Slot<T>> {
        self.chunks.iter().flatten()
    }
}

impl<T> SetPos for Slab<T> {
    #[inline]
    fn set_pos(&mut self, idx: u32, pos: u32) {
        self.e(idx).pos = pos;
    }
}

/// The wheel slot (`level * SLOTS + digit`) for an entry due at `due` ms,
/// given the clock and the wheel's current tick; `None` when it belongs to
/// the current tick (the near heap) or is already due.
#[inline]
fn wheel_slot(now: u64, cur_tick: u64, due: u64) -> Option<usize> {
    let tick = due >> TICK_BITS;
    if due <= now || tick <= cur_tick {
        return None;
    }
    let high = 63 - (tick ^ cur_tick).leading_zeros();
    let level = high / LEVEL_BITS;
    #[allow(clippy::cast_possible_truncation)] // masked to 12 bits
    let digit = ((tick >> (LEVEL_BITS * level)) & SLOT_MASK) as usize;
    Some(level as usize * SLOTS + digit)
}

/// The wheel proper: per slot (`level * SLOTS + digit`) the slab indices of
/// its entries and how many of them are tombstones, and occupancy bitmaps.
#[derive(Debug, Clone)]
struct Wheel {
    slots: Box<[Vec<u32>]>,
    /// Per slot, how many of its vector's members are tombstones (`NIL`).
    dead: Box<[u32]>,
    bits: Box<[u64]>,
    summary: [u64; LEVELS],
}

impl Wheel {
    fn new() -> Self {
        Wheel {
            slots: (0..LEVELS * SLOTS).map(|_| Vec::new()).collect(),
            dead: vec![0; LEVELS * SLOTS].into_boxed_slice(),
            bits: vec![0; LEVELS * WORDS].into_boxed_slice(),
            summary: [0; LEVELS],
        }
    }

    /// Appends `idx` to `slot` and returns its position there.
    #[inline(always)]
    fn push(&mut self, slot: usize, idx: u32) -> u32 {
        let v = &mut self.slots[slot];
        if v.len() == v.capacity() {
            grow_slot(v);
        }
        #[allow(clippy::cast_possible_truncation)] // at most MAX_ENTRIES entries
        let pos = v.len() as u32;
        v.push(idx);
        if pos == 0 {
            self.set_bit(slot);
        }
        pos
    }

    /// Leaves a tombstone at member `pos` of `slot` (moving the last member
    /// into the hole would touch a third random entry on every cancel and
    /// reschedule); true when the slot is now mostly tombstones and should be
    /// compacted.
    #[inline(always)]
    fn remove(&mut self, slot: usize, pos: usize) -> bool {
        let v = &mut self.slots[slot];
        if let Some(x) = v.get_mut(pos) {
            *x = NIL;
        }
        let dead = &mut self.dead[slot];
        *dead += 1;
        let d = *dead as usize;
        if d == v.len() {
            self.clear(slot);
            false
        } else {
            d > 16 && d * 4 > v.len() * 3
        }
    }

    /// Gives an all-tombstone slot's memory back (it is reused only much later).
    #[cold]
    fn clear(&mut self, slot: usize) {
        self.slots[slot] = Vec::new();
        self.dead[slot] = 0;
        self.clear_bit(slot);
    }

    /// Empties a slot and returns its members (with tombstones).
    fn take(&mut self, slot: usize) -> Vec<u32> {
        self.dead[slot] = 0;
        self.clear_bit(slot);
        core::mem::take(&mut self.slots[slot])
    }

    #[inline]
    fn set_bit(&mut self, slot: usize) {
        let (level, digit) = (slot / SLOTS, slot % SLOTS);
        self.bits[level * WORDS + digit / 64] |= 1 << (digit % 64);
        self.summary[level] |= 1 << (digit / 64);
    }

    #[inline]
    fn clear_bit(&mut self, slot: usize) {
        let (level, digit) = (slot / SLOTS, slot % SLOTS);
        let w = &mut self.bits[level * WORDS + digit / 64];
        *w &= !(1 << (digit % 64));
        if *w == 0 {
            self.summary[level] &= !(1 << (digit / 64));
        }
    }

    /// The first occupied digit `>= from` in `level`.
    #[inline]
    fn next_set(&self, level: usize, from: usize) -> Option<usize> {
        if from >= SLOTS {
            return None;
        }
        let (w, b) = (from / 64, from % 64);
        let word = self.bits[level * WORDS + w] & (!0u64 << b);
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        let later = if w + 1 < WORDS {
            self.summary[level] & (!0u64 << (w + 1))
        } else {
            0
        };
        if later == 0 {
            return None;
        }
        let w2 = later.trailing_zeros() as usize;
        Some(w2 * 64 + self.bits[level * WORDS + w2].trailing_zeros() as usize)
    }

    /// The earliest occupied slot after tick `cur_tick`: `(slot, start tick)`.
    ///
    /// Entries of level `l` share every digit above `l` with the current tick
    /// and have a larger digit `l`, so the lowest level with an occupied slot
    /// ahead holds the earliest entries.
    fn next_slot(&self, cur_tick: u64) -> Option<(usize, u64)> {
        for level in 0..LEVELS {
            let shift = LEVEL_BITS * level as u32;
            #[allow(clippy::cast_possible_truncation)] // masked to 12 bits
            let cur_digit = ((cur_tick >> shift) & SLOT_MASK) as usize;
            if let Some(d) = self.next_set(level, cur_digit + 1) {
                let up = shift + LEVEL_BITS;
                let base = if up >= 64 { 0 } else { (cur_tick >> up) << up };
                return Some((level * SLOTS + d, base | ((d as u64) << shift)));
            }
        }
        None
    }
}

/// Grows a slot vector by half, not double: slot vectors hold 4 of the 32
/// bytes an entry costs, and their slack is most of the rest.
#[cold]
fn grow_slot(v: &mut Vec<u32>) {
    v.reserve_exact((v.len() / 2).max(4));
}

/// A [`DeferralQueue`] for millions of entries: a hierarchical timing wheel
/// over slab storage.
///
/// - Insert, cancel and reschedule are O(1) (except for entries already due,
///   which sit in a small heap); `pop_due` is amortized O(1) per entry plus
///   O(log k) in the `k` entries due within the same ~262 s tick.
/// - Release is exact to the millisecond: an entry is never popped before its
///   due time nor missed at it, whatever its alignment to the wheel's slots.
/// - An 8-byte item costs about 37 bytes per entry in all (32 in the slab, 4
///   in its wheel slot, plus growth slack); see BENCHMARKS.md.
/// - An empty queue already holds about 452 KiB: the wheel's per-slot arrays
///   (16,384 vector headers, tombstone counts, bitmaps). Keep one queue and
///   group its entries with [`FairQueue`](super::FairQueue) rather than one
///   queue per destination; for a few thousand entries
///   [`HeapQueue`](super::HeapQueue) is smaller.
/// - Far-future entries (years, up to [`Timestamp::MAX`]) cost nothing until
///   the clock approaches them.
/// - [`next_due`](DeferralQueue::next_due) is exact; it reads the near entries,
///   or scans the earliest occupied wheel slot, or (when entries are due but
///   not popped yet) scans those; the answer is remembered until the next change.
///
/// See the module source for the layout.
///
/// ```
/// use tempfail::queue::{DeferralQueue, WheelQueue};
/// use tempfail::Timestamp;
///
/// let mut q = WheelQueue::new();
/// let due = Timestamp::from_millis(1_537_000); // not aligned to any slot
/// q.insert(7u64, due, 0)?;
/// q.insert(8u64, Timestamp::from_secs(3 * 365 * 86_400), 0)?; // years away
/// assert!(q.pop_due(Timestamp::from_millis(1_536_999)).is_none());
/// let p = q.pop_due(due).unwrap();
/// assert_eq!((p.item, p.due), (7, due));
/// assert_eq!(q.next_due(), Some(Timestamp::from_secs(3 * 365 * 86_400)));
/// # Ok::<(), tempfail::queue::QueueError>(())
/// ```
pub struct WheelQueue<T> {
    slab: Slab<T>,
    free_head: u32,
    len: usize,
    /// The queue's clock, in ms.
    now: u64,
    /// The wheel's current tick; never after `now >> TICK_BITS`.
    cur_tick: u64,
    next_seq: u32,
    wheel: Wheel,
    /// The current tick's entries, sorted by due time when the clock entered
    /// it, consumed from `run_head`; cancelled ones are tombstoned (`NIL`).
    run: Vec<RunEntry>,
    run_head: usize,
    /// Scratch space for sorting the next run.
    scratch: Vec<RunEntry>,
    /// Entries that arrived in the current tick after it was entered.
    near: IdxHeap<u64>,
    ready: IdxHeap<(u8, u64, u32)>,
    counts: Box<[usize; 256]>,
    /// How many priorities have entries: while at most one does, due entries
    /// of the run are popped from it directly (merged with the ready heap by
    /// `(due, insertion)`) instead of passing through the ready heap.
    kinds: u32,
    /// `next_due()` remembered until the next change.
    next_due_memo: Cell<Option<Option<u64>>>,
}

impl<T> Default for WheelQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> core::fmt::Debug for WheelQueue<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WheelQueue")
            .field("len", &self.len)
            .field("now", &Timestamp::from_millis(self.now))
            .finish_non_exhaustive()
    }
}

impl<T> WheelQueue<T> {
    /// An empty queue whose clock is at [`Timestamp::EPOCH`].
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `capacity` entries before it reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        WheelQueue {
            slab: Slab::with_capacity(capacity.min(MAX_ENTRIES)),
            free_head: NIL,
            len: 0,
            now: 0,
            cur_tick: 0,
            next_seq: 0,
            wheel: Wheel::new(),
            run: Vec::new(),
            run_head: 0,
            scratch: Vec::new(),
            near: IdxHeap::default(),
            ready: IdxHeap::default(),
            counts: Box::new([0; 256]),
            kinds: 0,
            next_due_memo: Cell::new(None),
        }
    }

    fn live(&self, h: Handle) -> Result<&Entry<T>, QueueError> {
        match self.slab.get(h.index()) {
            Some(Slot::Occupied(e)) if e.generation() == h.generation() => Ok(e),
            _ => Err(QueueError::StaleHandle(h)),
        }
    }

    /// Drops the remembered `next_due()` (a store only when there is one).
    #[inline]
    fn forget_next_due(&self) {
        if self.next_due_memo.get().is_some() {
            self.next_due_memo.set(None);
        }
    }

    /// Puts an entry (out of any slot or heap) where its due time calls for.
    #[inline]
    fn place(&mut self, idx: u32, due: u64) {
        match wheel_slot(self.now, self.cur_tick, due) {
            Some(slot) => {
                let pos = self.wheel.push(slot, idx);
                let e = self.slab.e(idx);
                #[allow(clippy::cast_possible_truncation)] // slot < LEVELS * SLOTS
                let loc = slot as u32;
                e.loc = loc;
                e.pos = pos;
            }
            None => self.place_near(idx, due),
        }
    }

    /// Puts an entry of the current tick, or already due, in the near or
    /// ready heap.
    fn place_near(&mut self, idx: u32, due: u64) {
        if due <= self.now {
            self.make_ready(idx);
        } else {
            self.slab.e(idx).loc = NEAR;
            self.near.push(due, idx, &mut self.slab);
        }
    }

    /// Takes an entry out of its slot or heap.
    #[inline]
    fn unlink(&mut self, idx: u32) {
        let e = self.slab.e(idx);
        let (loc, pos) = (e.loc, e.pos as usize);
        match loc {
            READY => {
                self.ready.remove(pos, &mut self.slab);
            }
            NEAR_RUN => {
                let (due, seq) = (e.due, e.seq);
                let key = run_key(due, seq);
                let live = self.run.get(self.run_head..).unwrap_or(&[]);
                if let Ok(i) = live.binary_search_by_key(&key, |r| run_key(r.due, r.seq)) {
                    let i = self.run_head + i;
                    self.run[i].idx = NIL;
                }
            }
            NEAR => {
                self.near.remove(pos, &mut self.slab);
            }
            slot => {
                if self.wheel.remove(slot as usize, pos) {
                    self.compact(slot as usize);
                }
            }
        }
    }

    /// Drops a slot's tombstones (amortized O(1): at least three quarters are
    /// tombstones).
    #[cold]
    fn compact(&mut self, slot: usize) {
        let mut v = core::mem::take(&mut self.wheel.slots[slot]);
        v.retain(|&i| i != NIL);
        for (pos, &idx) in (0u32..).zip(v.iter()) {
            self.slab.e(idx).pos = pos;
        }
        v.shrink_to(v.len() + v.len() / 2);
        self.wheel.slots[slot] = v;
        self.wheel.dead[slot] = 0;
    }

    /// Moves the clock to `now` (clamped) and every entry due by then to the
    /// ready heap (or, while priorities are uniform, leaves the run's due
    /// entries for `pop_due` to take in order).
    #[inline]
    fn advance(&mut self, now: Timestamp) {
        let now = now.as_millis();
        if now > self.now {
            self.now = now;
            self.forget_next_due();
        }
        if self.now >> TICK_BITS > self.cur_tick {
            self.advance_ticks();
        }
        if self.near.len() == 0 && self.uniform() {
            self.clear_consumed_run();
        } else {
            self.flush_near();
        }
    }

    /// Enters every wheel slot up to the clock's tick.
    #[cold]
    fn advance_ticks(&mut self) {
        let now_tick = self.now >> TICK_BITS;
        while self.cur_tick < now_tick {
            match self.wheel.next_slot(self.cur_tick) {
                Some((slot, start)) if start <= now_tick => {
                    // Everything near is due by now: it is before `start`.
                    self.flush_run();
                    self.flush_near();
                    self.cur_tick = start;
                    if slot < SLOTS {
                        self.enter_tick(slot);
                    } else {
                        self.cascade(slot);
                    }
                }
                _ => self.cur_tick = now_tick,
            }
        }
    }

    #[inline]
    fn make_ready(&mut self, idx: u32) {
        let e = self.slab.e(idx);
        e.loc = READY;
        let key = e.ready_key();
        self.ready.push(key, idx, &mut self.slab);
    }

    /// Whether every entry has the same priority: then the ready order is
    /// `(due, insertion)`, the run's own order.
    #[inline]
    fn uniform(&self) -> bool {
        self.kinds <= 1
    }

    /// Moves the run's entries due by the clock to the ready heap.
    fn flush_run(&mut self) {
        while let Some(&r) = self.run.get(self.run_head) {
            if r.due > self.now {
                break;
            }
            self.run_head += 1;
            if r.idx != NIL {
                self.make_ready(r.idx);
            }
        }
        self.clear_consumed_run();
    }

    #[inline]
    fn clear_consumed_run(&mut self) {
        if self.run_head == self.run.len() && self.run_head > 0 {
            self.reset_run();
        }
    }

    #[cold]
    fn reset_run(&mut self) {
        self.run.clear();
        // Do not keep the memory of one exceptionally crowded tick.
        self.run.shrink_to(4096);
        self.run_head = 0;
    }

    /// Moves the near entries due by the clock to the ready heap; the run's
    /// due entries too, unless priorities are uniform (then `pop_due` takes
    /// them from the run).
    fn flush_near(&mut self) {
        if self.uniform() {
            self.clear_consumed_run();
        } else {
            self.flush_run();
        }
        while let Some((due, idx)) = self.near.peek() {
            if due > self.now {
                break;
            }
            self.near.pop(&mut self.slab);
            self.make_ready(idx);
        }
    }

    /// The clock entered level-0 slot `digit` (the current tick): its entries
    /// become the near run, sorted once instead of pushed through a heap.
    fn enter_tick(&mut self, digit: usize) {
        // Left-overs cannot happen (see `advance`), but keep them if they do.
        for i in self.run_head..self.run.len() {
            let r = self.run[i];
            if r.idx != NIL {
                self.slab.e(r.idx).loc = NEAR;
                self.near.push(r.due, r.idx, &mut self.slab);
            }
        }
        self.run.clear();
        self.run_head = 0;
        let members = self.wheel.take(digit);
        let mut scratch = core::mem::take(&mut self.scratch);
        scratch.clear();
        // Read every member's due time and insertion first (independent loads
        // the CPU overlaps) and mark it as in the run: its position there is
        // found by binary search when it is cancelled, so sorting needs no
        // second pass over the slab.
        for &idx in &members {
            if idx == NIL {
                continue;
            }
            let e = self.slab.e(idx);
            e.loc = NEAR_RUN;
            scratch.push(RunEntry {
                due: e.due,
                seq: e.seq,
                idx,
            });
        }
        sort_run(&scratch, &mut self.run);
        self.scratch = scratch;
        // Do not keep the memory of one exceptionally crowded tick.
        self.scratch.shrink_to(4096);
    }

    /// Places again every entry of a slot the clock has entered.
    fn cascade(&mut self, slot: usize) {
        let members = self.wheel.take(slot);
        let mut batch = [RUN_NIL; BATCH];
        let mut live = members.iter().copied().filter(|&i| i != NIL);
        loop {
            let k = self.read_batch(&mut live, &mut batch);
            for r in &batch[..k] {
                self.place(r.idx, r.due);
            }
            if k < BATCH {
                break;
            }
        }
    }

    /// Reads the due times of up to `BATCH` entries first: independent loads
    /// the CPU overlaps, instead of one cache miss at a time.
    #[inline]
    fn read_batch(
        &mut self,
        members: &mut impl Iterator<Item = u32>,
        batch: &mut [RunEntry; BATCH],
    ) -> usize {
        let mut k = 0;
        while k < BATCH {
            let Some(idx) = members.next() else { break };
            let e = self.slab.e(idx);
            batch[k] = RunEntry {
                due: e.due,
                seq: e.seq,
                idx,
            };
            k += 1;
        }
        k
    }

    #[inline]
    fn count_in(&mut self, p: Priority) {
        let c = &mut self.counts[usize::from(p)];
        if *c == 0 {
            self.kinds += 1;
        }
        *c += 1;
    }

    #[inline]
    fn count_out(&mut self, p: Priority) {
        let c = &mut self.counts[usize::from(p)];
        *c -= 1;
        if *c == 0 {
            self.kinds -= 1;
        }
    }

    /// Frees the slot of an unlinked entry and returns the entry.
    #[inline]
    fn release(&mut self, idx: u32) -> Popped<T> {
        let free_head = self.free_head;
        let slot = self.slab.slot(idx);
        let generation = match slot {
            Slot::Occupied(e) => e.generation(),
            Slot::Vacant { generation, .. } => *generation,
        };
        // A slot whose generations are used up is retired, never reused.
        let retired = generation >= GEN_MAX;
        let next_free = if retired { NIL } else { free_head };
        let Slot::Occupied(e) = core::mem::replace(
            slot,
            Slot::Vacant {
                next_free,
                generation,
            },
        ) else {
            unreachable!("release is only called on occupied slots")
        };
        if !retired {
            self.free_head = idx;
        }
        self.len -= 1;
        let priority = e.priority();
        self.count_out(priority);
        self.forget_next_due();
        Popped {
            handle: Handle::new(idx, generation),
            due: Timestamp::from_millis(e.due),
            priority,
            item: e.item,
        }
    }

    #[inline]
    fn insert_with_seq(
        &mut self,
        item: T,
        due: Timestamp,
        priority: Priority,
        seq: u32,
    ) -> Result<Handle, QueueError> {
        let (idx, generation) = self.take_free()?;
        let due = due.as_millis();
        let meta = meta(generation, priority);
        // The common case, a wheel slot, writes the entry once.
        let at = wheel_slot(self.now, self.cur_tick, due);
        let (loc, pos) = match at {
            #[allow(clippy::cast_possible_truncation)] // slot < LEVELS * SLOTS
            Some(slot) => (slot as u32, self.wheel.push(slot, idx)),
            None => (NIL, 0),
        };
        *self.slab.slot(idx) = Slot::Occupied(Entry {
            item,
            due,
            loc,
            pos,
            seq,
            meta,
        });
        if at.is_none() {
            self.place_near(idx, due);
        }
        self.len += 1;
        self.count_in(priority);
        self.forget_next_due();
        Ok(Handle::new(idx, generation))
    }

    /// A free slab slot and its next generation.
    #[inline]
    fn take_free(&mut self) -> Result<(u32, u32), QueueError> {
        let idx = self.free_head;
        if let Some(&mut Slot::Vacant {
            next_free,
            generation,
        }) = self.slab.slot_mut(idx)
        {
            self.free_head = next_free;
            return Ok((idx, generation + 1));
        }
        self.new_slot()
    }

    /// A slot at the end of the slab.
    #[cold]
    fn new_slot(&mut self) -> Result<(u32, u32), QueueError> {
        if self.slab.len >= MAX_ENTRIES {
            return Err(QueueError::Full(MAX_ENTRIES));
        }
        #[allow(clippy::cast_possible_truncation)] // bounded by MAX_ENTRIES
        let idx = self.slab.len as u32;
        self.slab.push(Slot::Vacant {
            next_free: NIL,
            generation: 0,
        });
        Ok((idx, 1))
    }

    /// Gives the live entries sequence numbers `0..len` in their current order
    /// (when the `u32` counter runs out).
    fn renumber(&mut self) {
        let mut order: Vec<(u32, u32)> = (0u32..)
            .zip(self.slab.iter())
            .filter_map(|(i, s)| match s {
                Slot::Occupied(e) => Some((e.seq, i)),
                Slot::Vacant { .. } => None,
            })
            .collect();
        order.sort_unstable();
        for (seq, &(_, idx)) in (0u32..).zip(order.iter()) {
            self.slab.e(idx).seq = seq;
            self.next_seq = seq + 1;
        }
        let slab = &mut self.slab;
        let keys: Vec<((u8, u64, u32), u32)> = self
            .ready
            .elems()
            .iter()
            .map(|&(_, i)| (slab.e(i).ready_key(), i))
            .collect();
        self.ready.replace_all(keys, slab);
        // Renumbering keeps the order, so the run stays sorted.
        for r in &mut self.run[self.run_head..] {
            if r.idx != NIL {
                r.seq = slab.e(r.idx).seq;
            }
        }
    }

    #[cfg(test)]
    fn set_next_seq(&mut self, s: u32) {
        self.next_seq = s;
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
            .filter_map(|s| match s {
                Slot::Occupied(e) => Some(SnapshotEntry {
                    item: e.item.clone(),
                    due: Timestamp::from_millis(e.due),
                    priority: e.priority(),
                    seq: u64::from(e.seq),
                }),
                Slot::Vacant { .. } => None,
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
        if entries.len() >= MAX_ENTRIES {
            return Err(SnapshotError::Full);
        }
        let mut q = WheelQueue::with_capacity(entries.len());
        q.advance(now);
        for (seq, e) in (0u32..).zip(entries) {
            q.insert_with_seq(e.item, e.due, e.priority, seq)
                .map_err(|_| SnapshotError::Full)?;
            q.next_seq = seq + 1;
        }
        Ok(q)
    }

    fn compute_next_due(&self) -> Option<u64> {
        // Due entries are ordered by priority first: their earliest due
        // time needs a scan of the entries not popped yet.
        let ready = self.ready.elems().iter().map(|((_, due, _), _)| *due).min();
        let run = self.run[self.run_head.min(self.run.len())..]
            .iter()
            .find(|r| r.idx != NIL)
            .map(|r| r.due);
        let near = self.near.peek().map(|(due, _)| due);
        if ready.is_some() || run.is_some() || near.is_some() {
            return ready.into_iter().chain(run).chain(near).min();
        }
        let (slot, _) = self.wheel.next_slot(self.cur_tick)?;
        self.wheel.slots[slot]
            .iter()
            .filter_map(|&idx| match self.slab.get(idx) {
                Some(Slot::Occupied(e)) => Some(e.due),
                _ => None,
            })
            .min()
    }
}

impl<T> DeferralQueue<T> for WheelQueue<T> {
    #[inline]
    fn insert(
        &mut self,
        item: T,
        due: Timestamp,
        priority: Priority,
    ) -> Result<Handle, QueueError> {
        if self.next_seq == u32::MAX {
            self.renumber();
        }
        let seq = self.next_seq;
        let h = self.insert_with_seq(item, due, priority, seq)?;
        self.next_seq += 1;
        Ok(h)
    }

    fn cancel(&mut self, handle: Handle) -> Result<T, QueueError> {
        self.live(handle)?;
        self.unlink(handle.index());
        Ok(self.release(handle.index()).item)
    }

    #[inline]
    fn reschedule(
        &mut self,
        handle: Handle,
        due: Timestamp,
        priority: Option<Priority>,
    ) -> Result<(), QueueError> {
        let idx = handle.index();
        let due = due.as_millis();
        let to = wheel_slot(self.now, self.cur_tick, due);
        let e = match self.slab.slot_mut(idx) {
            Some(Slot::Occupied(e)) if e.generation() == handle.generation() => e,
            _ => return Err(QueueError::StaleHandle(handle)),
        };
        // The common case: from one wheel slot to another, priority kept.
        if let (Some(to), None) = (to, priority) {
            let from = e.loc as usize;
            if from < LEVELS * SLOTS {
                let compact = self.wheel.remove(from, e.pos as usize);
                e.pos = self.wheel.push(to, idx);
                #[allow(clippy::cast_possible_truncation)] // slot < LEVELS * SLOTS
                let loc = to as u32;
                e.loc = loc;
                e.due = due;
                if compact {
                    self.compact(from);
                }
                self.forget_next_due();
                return Ok(());
            }
        }
        self.unlink(idx);
        let e = self.slab.e(idx);
        e.due = due;
        if let Some(p) = priority {
            let (old, generation) = (e.priority(), e.generation());
            e.meta = meta(generation, p);
            self.count_out(old);
            self.count_in(p);
        }
        self.forget_next_due();
        self.place(idx, due);
        Ok(())
    }

    #[inline]
    fn pop_due(&mut self, now: Timestamp) -> Option<Popped<T>> {
        self.advance(now);
        // The run holds due entries only while priorities are uniform: then
        // the next one is the earlier by `(due, insertion)` of its head and
        // the ready heap's top.
        while self.run.get(self.run_head).is_some_and(|r| r.idx == NIL) {
            self.run_head += 1;
        }
        let head = self
            .run
            .get(self.run_head)
            .copied()
            .filter(|r| r.due <= self.now);
        let idx = match (head, self.ready.peek()) {
            (Some(r), top) if top.is_none_or(|((_, due, seq), _)| (r.due, r.seq) < (due, seq)) => {
                self.run_head += 1;
                r.idx
            }
            _ => self.ready.pop(&mut self.slab)?.1,
        };
        Some(self.release(idx))
    }

    fn next_due(&self) -> Option<Timestamp> {
        let v = match self.next_due_memo.get() {
            Some(v) => v,
            None => {
                let v = self.compute_next_due();
                self.next_due_memo.set(Some(v));
                v
            }
        };
        v.map(Timestamp::from_millis)
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now)
    }

    fn get(&self, handle: Handle) -> Result<EntryRef<'_, T>, QueueError> {
        let e = self.live(handle)?;
        Ok(EntryRef {
            handle,
            item: &e.item,
            due: Timestamp::from_millis(e.due),
            priority: e.priority(),
        })
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter<'a>(&'a self) -> impl Iterator<Item = EntryRef<'a, T>>
    where
        T: 'a,
    {
        (0u32..).zip(self.slab.iter()).filter_map(|(i, s)| match s {
            Slot::Occupied(e) => Some(EntryRef {
                handle: Handle::new(i, e.generation()),
                item: &e.item,
                due: Timestamp::from_millis(e.due),
                priority: e.priority(),
            }),
            Slot::Vacant { .. } => None,
        })
    }

    fn stats(&mut self, now: Timestamp) -> QueueStats {
        self.advance(now);
        self.flush_run();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_queue_allocates_a_small_slab() {
        let mut q = WheelQueue::new();
        for i in 0..20u64 {
            q.insert(i, Timestamp::from_secs(i), 0).unwrap();
        }
        assert!(
            q.slab.chunks[0].capacity() <= 32,
            "{}",
            q.slab.chunks[0].capacity()
        );
        for i in 20..10_000u64 {
            q.insert(i, Timestamp::from_secs(i), 0).unwrap();
        }
        // The first chunk grew to a whole one; later ones are whole from the start.
        assert!(q.slab.chunks.iter().all(|c| c.capacity() == CHUNK));
        let got: Vec<u64> = core::iter::from_fn(|| q.pop_due(Timestamp::MAX))
            .map(|p| p.item)
            .collect();
        assert_eq!(got, (0..10_000).collect::<Vec<u64>>());
    }

    #[test]
    fn entry_is_32_bytes_for_an_8_byte_item() {
        assert_eq!(core::mem::size_of::<Slot<u64>>(), 32);
    }

    #[test]
    fn sequence_wrap_renumbers_and_keeps_order() {
        let mut q = WheelQueue::new();
        q.insert(0u32, Timestamp::from_millis(5), 1).unwrap();
        q.pop_due(Timestamp::from_millis(3));
        q.set_next_seq(u32::MAX - 2);
        // Two already due (in the ready heap), two waiting; all of equal priority and due.
        for i in 1..=2 {
            q.insert(i, Timestamp::from_millis(1), 1).unwrap();
        }
        for i in 3..=6 {
            q.insert(i, Timestamp::from_millis(5), 1).unwrap();
        }
        assert!(q.next_seq < 10, "renumbered");
        let got: Vec<u32> =
            core::iter::from_fn(|| q.pop_due(Timestamp::from_millis(5)).map(|p| p.item)).collect();
        assert_eq!(got, vec![1, 2, 0, 3, 4, 5, 6]);
    }

    #[test]
    fn tombstones_are_compacted_and_never_released() {
        let mut q = WheelQueue::new();
        let base = 10u64 << 30; // far: a level-1 slot
        let hs: Vec<Handle> = (0..200u64)
            .map(|i| q.insert(i, Timestamp::from_millis(base + i), 0).unwrap())
            .collect();
        let slot = match q.slab.e(hs[0].index()).loc {
            l if (l as usize) < LEVELS * SLOTS => l as usize,
            other => panic!("expected a wheel slot, got {other}"),
        };
        // Cancel or move away 170 of them: the slot compacts at least once
        // (when more than three quarters are tombstones), and every slot
        // vector stays within four members per live entry plus 16.
        for (i, &h) in hs.iter().enumerate().take(170) {
            if i % 2 == 0 {
                q.cancel(h).unwrap();
            } else {
                q.reschedule(h, Timestamp::from_millis(base * 3 + i as u64), None)
                    .unwrap();
            }
            let (len, dead) = (q.wheel.slots[slot].len(), q.wheel.dead[slot] as usize);
            assert!(len <= 4 * (len - dead) + 16, "{len} members, {dead} dead");
        }
        assert!(q.wheel.slots[slot].len() < 200, "compacted");
        assert_eq!(q.wheel.slots[slot].len() - q.wheel.dead[slot] as usize, 30);
        for &h in &hs[170..] {
            let e = q.slab.e(h.index());
            assert_eq!(
                q.wheel.slots[slot][e.pos as usize],
                h.index(),
                "positions follow compaction"
            );
        }
        let got: Vec<u64> = core::iter::from_fn(|| q.pop_due(Timestamp::from_millis(base + 1_000)))
            .map(|p| p.item)
            .collect();
        assert_eq!(got, (170..200).collect::<Vec<u64>>());
        let moved: Vec<u64> = core::iter::from_fn(|| q.pop_due(Timestamp::MAX))
            .map(|p| p.item)
            .collect();
        assert_eq!(moved, (1..170).step_by(2).collect::<Vec<u64>>());
        assert!(q.is_empty());
    }

    #[test]
    fn exhausted_generation_retires_the_slot() {
        let mut q = WheelQueue::new();
        let h = q.insert(1u8, Timestamp::EPOCH, 0).unwrap();
        q.cancel(h).unwrap();
        *q.slab.slot(0) = Slot::Vacant {
            next_free: NIL,
            generation: GEN_MAX - 1,
        };
        q.free_head = 0;
        let last = q.insert(2u8, Timestamp::EPOCH, 0).unwrap();
        assert_eq!(last.generation(), GEN_MAX);
        q.cancel(last).unwrap();
        let next = q.insert(3u8, Timestamp::EPOCH, 0).unwrap();
        assert_ne!(next.index(), last.index(), "a retired slot is never reused");
        assert_eq!(q.cancel(last), Err(QueueError::StaleHandle(last)));
    }
}
