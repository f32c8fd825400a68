//! The public conformance suite for [`DeferralQueue`] implementations
//! (feature `testing`).
//!
//! Run it against your own implementation (one backed by a database, say) to
//! check that it keeps the contract every caller relies on: due-time gate,
//! priority then due then insertion order, exact release, stale handles
//! refused, a clock that never runs backwards, exact `next_due`, and `stats`.
//! Every check returns a [`Failure`] naming what broke instead of panicking.
//!
//! The checks compare the queue under test with [`Model`], a trivially correct
//! queue (a `Vec` kept sorted in pop order), on hand-written scenarios and on
//! pseudo-random operation sequences ([`random_ops`], [`check_ops`]); your own
//! property tests can generate [`Op`] sequences too.
//!
//! ```
//! use tempfail::queue::{conformance, HeapQueue, WheelQueue};
//!
//! conformance::run_all(HeapQueue::<u64>::new).unwrap();
//! conformance::run_all(WheelQueue::<u64>::new).unwrap();
//! ```

use core::cmp::Reverse;
use core::fmt;
use std::time::Duration;

use super::{DeferralQueue, EntryRef, Handle, Popped, Priority, QueueError, QueueStats};
use crate::Timestamp;

/// A conformance check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The check's name (`pop_order`, `exact_release`, …).
    pub check: &'static str,
    /// What was expected and what the queue did.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conformance check `{}` failed: {}",
            self.check, self.detail
        )
    }
}

impl std::error::Error for Failure {}

fn fail(check: &'static str, detail: String) -> Failure {
    Failure { check, detail }
}

macro_rules! ensure_eq {
    ($check:expr, $got:expr, $want:expr, $($ctx:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            return Err(fail($check, format!("{}: expected {:?}, got {:?}", format!($($ctx)+), want, got)));
        }
    }};
}

/// One entry of the [`Model`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelEntry {
    /// The handle the queue under test returned for it.
    pub handle: Handle,
    /// The item.
    pub item: u64,
    /// Due time in milliseconds.
    pub due: u64,
    /// Priority.
    pub priority: Priority,
    /// Insertion sequence.
    pub seq: u64,
}

impl ModelEntry {
    fn order(&self) -> (Reverse<Priority>, u64, u64) {
        (Reverse(self.priority), self.due, self.seq)
    }
    fn popped(&self) -> Popped<u64> {
        Popped {
            handle: self.handle,
            item: self.item,
            due: Timestamp::from_millis(self.due),
            priority: self.priority,
        }
    }
}

/// The trivially correct queue: a `Vec` sorted by `(priority desc, due,
/// insertion)`; popping at `now` takes the first entry with `due <= now`.
#[derive(Debug, Clone, Default)]
pub struct Model {
    entries: Vec<ModelEntry>,
    now: u64,
    next_seq: u64,
}

impl Model {
    /// An empty model with its clock at the epoch.
    pub fn new() -> Self {
        Self::default()
    }

    fn sort(&mut self) {
        self.entries.sort_by_key(ModelEntry::order);
    }

    fn position(&self, h: Handle) -> Option<usize> {
        self.entries.iter().position(|e| e.handle == h)
    }

    /// Records an insertion under the handle the queue returned.
    pub fn insert(&mut self, handle: Handle, item: u64, due: u64, priority: Priority) {
        self.entries.push(ModelEntry {
            handle,
            item,
            due,
            priority,
            seq: self.next_seq,
        });
        self.next_seq += 1;
        self.sort();
    }

    /// Removes the entry; `None` if the handle is stale.
    pub fn cancel(&mut self, h: Handle) -> Option<u64> {
        self.position(h).map(|i| self.entries.remove(i).item)
    }

    /// Moves the entry; `false` if the handle is stale.
    pub fn reschedule(&mut self, h: Handle, due: u64, priority: Option<Priority>) -> bool {
        let Some(i) = self.position(h) else {
            return false;
        };
        self.entries[i].due = due;
        if let Some(p) = priority {
            self.entries[i].priority = p;
        }
        self.sort();
        true
    }

    /// The entry popped at `now` (clamped).
    pub fn pop_due(&mut self, now: u64) -> Option<Popped<u64>> {
        self.now = self.now.max(now);
        let i = self.entries.iter().position(|e| e.due <= self.now)?;
        Some(self.entries.remove(i).popped())
    }

    /// The earliest due time.
    pub fn next_due(&self) -> Option<u64> {
        self.entries.iter().map(|e| e.due).min()
    }

    /// The entry under `h`.
    pub fn get(&self, h: Handle) -> Option<&ModelEntry> {
        self.entries.iter().find(|e| e.handle == h)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the model is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in pop order ignoring the due-time gate.
    pub fn entries(&self) -> &[ModelEntry] {
        &self.entries
    }

    /// Removes the entries whose item `keep` rejects; returns them.
    pub fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) -> Vec<Popped<u64>> {
        let (kept, removed): (Vec<_>, Vec<_>) = self.entries.iter().partition(|e| keep(e.item));
        self.entries = kept;
        removed.iter().map(ModelEntry::popped).collect()
    }

    /// Monitoring figures at `now` (clamped).
    pub fn stats(&mut self, now: u64) -> QueueStats {
        self.now = self.now.max(now);
        let mut counts = [0usize; 256];
        for e in &self.entries {
            counts[usize::from(e.priority)] += 1;
        }
        let due: Vec<u64> = self
            .entries
            .iter()
            .filter(|e| e.due <= self.now)
            .map(|e| e.due)
            .collect();
        QueueStats {
            len: self.entries.len(),
            by_priority: super::by_priority(&counts),
            due_now: due.len(),
            oldest_due_age: due
                .iter()
                .min()
                .map(|d| Duration::from_millis(self.now - d)),
        }
    }
}

/// One operation of a generated sequence. `pick` selects among every handle
/// issued so far (live or stale), modulo their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Insert the next item.
    Insert {
        /// Due time, ms.
        due: u64,
        /// Priority.
        priority: Priority,
    },
    /// Cancel a handle.
    Cancel {
        /// Which handle.
        pick: usize,
    },
    /// Reschedule a handle.
    Reschedule {
        /// Which handle.
        pick: usize,
        /// New due time, ms.
        due: u64,
        /// New priority, if any.
        priority: Option<Priority>,
    },
    /// Pop once at `now`.
    Pop {
        /// The time, ms.
        now: u64,
    },
    /// Drain everything due at `now`.
    DrainDue {
        /// The time, ms.
        now: u64,
    },
    /// Compare `stats(now)`.
    Stats {
        /// The time, ms.
        now: u64,
    },
    /// Compare `next_due()`.
    NextDue,
    /// Compare `get(handle)`.
    Get {
        /// Which handle.
        pick: usize,
    },
    /// Remove the items divisible by `modulus` (at least 1) with `retain`.
    Retain {
        /// The divisor.
        modulus: u64,
    },
}

/// Compares two lists of removed entries as sets.
fn same_set(mut a: Vec<Popped<u64>>, mut b: Vec<Popped<u64>>) -> bool {
    a.sort_by_key(|p| p.item);
    b.sort_by_key(|p| p.item);
    a == b
}

/// Runs `ops` on `q` (which must be empty, clock at the epoch) and on a
/// [`Model`], and fails at the first difference.
///
/// # Errors
/// A [`Failure`] naming the operation index and the difference.
pub fn check_ops<Q: DeferralQueue<u64>>(q: &mut Q, ops: &[Op]) -> Result<(), Failure> {
    const C: &str = "model";
    let mut m = Model::new();
    let mut handles: Vec<Handle> = Vec::new();
    let mut next_item = 0u64;
    for (i, op) in ops.iter().enumerate() {
        let pick = |p: usize| (!handles.is_empty()).then(|| handles[p % handles.len()]);
        match *op {
            Op::Insert { due, priority } => {
                let h = q
                    .insert(next_item, Timestamp::from_millis(due), priority)
                    .map_err(|e| fail(C, format!("op {i} {op:?}: insert failed: {e}")))?;
                if m.get(h).is_some() {
                    return Err(fail(
                        C,
                        format!("op {i}: insert returned live handle {h} again"),
                    ));
                }
                m.insert(h, next_item, due, priority);
                handles.push(h);
                next_item += 1;
            }
            Op::Cancel { pick: p } => {
                let Some(h) = pick(p) else { continue };
                let want = m.cancel(h).ok_or(QueueError::StaleHandle(h));
                ensure_eq!(C, q.cancel(h), want, "op {i} {op:?} on {h}");
            }
            Op::Reschedule {
                pick: p,
                due,
                priority,
            } => {
                let Some(h) = pick(p) else { continue };
                let want = if m.reschedule(h, due, priority) {
                    Ok(())
                } else {
                    Err(QueueError::StaleHandle(h))
                };
                let got = q.reschedule(h, Timestamp::from_millis(due), priority);
                ensure_eq!(C, got, want, "op {i} {op:?} on {h}");
            }
            Op::Pop { now } => {
                let want = m.pop_due(now);
                ensure_eq!(
                    C,
                    q.pop_due(Timestamp::from_millis(now)),
                    want,
                    "op {i} {op:?}"
                );
            }
            Op::DrainDue { now } => {
                let mut want = Vec::new();
                while let Some(p) = m.pop_due(now) {
                    want.push(p);
                }
                let mut got = Vec::new();
                let n = q.drain_due(Timestamp::from_millis(now), &mut got);
                ensure_eq!(C, got, want, "op {i} {op:?}");
                ensure_eq!(C, n, want.len(), "op {i} {op:?} count");
            }
            Op::Stats { now } => {
                ensure_eq!(
                    C,
                    q.stats(Timestamp::from_millis(now)),
                    m.stats(now),
                    "op {i} {op:?}"
                );
            }
            Op::NextDue => {
                ensure_eq!(
                    C,
                    q.next_due(),
                    m.next_due().map(Timestamp::from_millis),
                    "op {i}"
                );
            }
            Op::Get { pick: p } => {
                let Some(h) = pick(p) else { continue };
                let want = m.get(h).map(|e| (e.item, e.due, e.priority));
                let got = q
                    .get(h)
                    .ok()
                    .map(|e| (*e.item, e.due.as_millis(), e.priority));
                ensure_eq!(C, got, want, "op {i} {op:?} on {h}");
            }
            Op::Retain { modulus } => {
                let modulus = modulus.max(1);
                let want = m.retain(|item| item % modulus != 0);
                let got = q.retain(|e| e.item % modulus != 0);
                if !same_set(got.clone(), want.clone()) {
                    return Err(fail(
                        C,
                        format!("op {i} {op:?}: expected removed {want:?}, got {got:?}"),
                    ));
                }
            }
        }
        ensure_eq!(C, q.len(), m.len(), "op {i} {op:?}: len");
        ensure_eq!(C, q.is_empty(), m.is_empty(), "op {i} {op:?}: is_empty");
        ensure_eq!(
            C,
            q.now(),
            Timestamp::from_millis(m.now),
            "op {i} {op:?}: now"
        );
    }
    let mut live: Vec<(u64, u64, Priority)> = q
        .iter()
        .map(|e| (*e.item, e.due.as_millis(), e.priority))
        .collect();
    live.sort_unstable();
    let mut want: Vec<(u64, u64, Priority)> = m
        .entries()
        .iter()
        .map(|e| (e.item, e.due, e.priority))
        .collect();
    want.sort_unstable();
    ensure_eq!(C, live, want, "iter() after all operations");
    Ok(())
}

/// A deterministic pseudo-random sequence of `n` operations whose times lie in
/// `0..span` ms (a small span makes ties likely; a large one exercises long
/// jumps). Times mostly move forward, sometimes backward (the clock must clamp).
pub fn random_ops(seed: u64, n: usize, span: u64) -> Vec<Op> {
    let mut s = seed;
    let mut next = move || {
        // splitmix64
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let span = span.max(1);
    let mut clock = 0u64;
    let mut ops = Vec::with_capacity(n);
    for _ in 0..n {
        let r = next();
        let t = next() % span;
        #[allow(clippy::cast_possible_truncation)] // small values by construction
        let prio = (next() % 4) as u8 * 60;
        #[allow(clippy::cast_possible_truncation)]
        let pick = next() as usize;
        let op = match r % 100 {
            0..=39 => Op::Insert {
                due: t,
                priority: prio,
            },
            40..=49 => Op::Cancel { pick },
            50..=59 => Op::Reschedule {
                pick,
                due: t,
                priority: (next() % 2 == 0).then_some(prio),
            },
            60..=79 => {
                clock = if next() % 8 == 0 {
                    t
                } else {
                    clock.saturating_add(next() % (span / 8 + 1))
                };
                Op::Pop { now: clock }
            }
            80..=84 => Op::DrainDue { now: clock },
            85..=88 => Op::Stats { now: clock },
            89..=93 => Op::NextDue,
            94..=98 => Op::Get { pick },
            _ => Op::Retain {
                modulus: 2 + next() % 5,
            },
        };
        ops.push(op);
    }
    ops
}

fn t(ms: u64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn ins<Q: DeferralQueue<u64>>(
    q: &mut Q,
    check: &'static str,
    item: u64,
    due: u64,
    p: Priority,
) -> Result<Handle, Failure> {
    q.insert(item, t(due), p)
        .map_err(|e| fail(check, format!("insert failed: {e}")))
}

fn pop_all<Q: DeferralQueue<u64>>(q: &mut Q, now: u64) -> Vec<u64> {
    core::iter::from_fn(|| q.pop_due(t(now)).map(|p| p.item)).collect()
}

/// Due entries pop by priority (higher first), then due time, then insertion;
/// entries not due do not pop.
///
/// # Errors
/// A [`Failure`] if the order differs.
pub fn pop_order<Q: DeferralQueue<u64>>(q: &mut Q) -> Result<(), Failure> {
    const C: &str = "pop_order";
    ins(q, C, 1, 300, 0)?;
    ins(q, C, 2, 100, 0)?;
    ins(q, C, 3, 200, 5)?;
    ins(q, C, 4, 100, 0)?;
    ins(q, C, 5, 50, 255)?;
    ins(q, C, 6, 1_000, 255)?;
    ins(q, C, 7, 200, 5)?;
    ensure_eq!(
        C,
        pop_all(q, 49),
        Vec::<u64>::new(),
        "nothing is due at 49 ms"
    );
    ensure_eq!(
        C,
        pop_all(q, 500),
        vec![5, 3, 7, 2, 4, 1],
        "pop order at 500 ms"
    );
    ensure_eq!(C, q.len(), 1, "entry due at 1000 ms remains");
    ensure_eq!(C, pop_all(q, 1_000), vec![6], "entry due at 1000 ms");
    Ok(())
}

/// An entry is released exactly at its due time, never a millisecond early
/// or late, whatever its alignment, distance (ms to years) and the path the
/// clock took to get there.
///
/// # Errors
/// A [`Failure`] naming the first early or late entry.
pub fn exact_release<Q: DeferralQueue<u64>>(q: &mut Q) -> Result<(), Failure> {
    const C: &str = "exact_release";
    let base = 1_700_000_000_000u64;
    let offsets: [u64; 14] = [
        0,
        1,
        999,
        1_537_000,
        1_537_001,
        3_000,
        65_535,
        65_536,
        65_537,
        86_400_000 * 5 + 7,
        268_435_455,
        268_435_457,
        86_400_000 * 365 * 3 + 123,
        86_400_000 * 365 * 200 + 1,
    ];
    // First, only the clock at the epoch: every entry is far away.
    let mut dues: Vec<u64> = offsets.iter().map(|o| base + o).collect();
    dues.push(u64::MAX);
    dues.push(u64::MAX - 1);
    for (i, &d) in (0u64..).zip(dues.iter()) {
        ins(q, C, i, d, 0)?;
    }
    let mut sorted = dues.clone();
    sorted.sort_unstable();
    for &d in &sorted {
        ensure_eq!(C, q.next_due(), Some(t(d)), "next_due before releasing {d}");
        if let Some(p) = q.pop_due(t(d - 1)) {
            return Err(fail(
                C,
                format!(
                    "entry due at {} popped at {} ms (early)",
                    p.due.as_millis(),
                    d - 1
                ),
            ));
        }
        match q.pop_due(t(d)) {
            Some(p) if p.due.as_millis() == d => {}
            other => {
                return Err(fail(
                    C,
                    format!("at {d} ms expected the entry due then, got {other:?}"),
                ));
            }
        }
    }
    ensure_eq!(C, q.len(), 0, "all released");
    Ok(())
}

/// The same as [`exact_release`] after the clock has started late and moved in
/// uneven steps: entries inserted relative to a clock far from the epoch, due
/// at unaligned times, popped in 1 s ticks.
///
/// # Errors
/// A [`Failure`] naming the first early or late entry.
pub fn exact_release_ticking<Q: DeferralQueue<u64>>(q: &mut Q) -> Result<(), Failure> {
    const C: &str = "exact_release_ticking";
    let start = 1_700_000_000_123u64;
    ensure_eq!(C, q.pop_due(t(start)).map(|p| p.item), None, "empty queue");
    let mut want = Vec::new();
    for i in 0..400u64 {
        // Unaligned offsets up to ~3 days, some due within the current second.
        let off = (i * 7_919_993 + i * i * 1_013) % 260_000_000 + (i % 3);
        ins(q, C, i, start + off, 0)?;
        want.push((start + off, i));
    }
    want.sort_unstable();
    let mut now = start;
    let mut got = Vec::new();
    let end = want.last().map_or(start, |w| w.0) + 1_000;
    while now <= end {
        while let Some(p) = q.pop_due(t(now)) {
            let due = p.due.as_millis();
            // Released at the first tick at or after its due time, never before.
            if due > now || now - due >= 1_000 {
                return Err(fail(C, format!("entry due at {due} popped at {now}")));
            }
            got.push((due, p.item));
        }
        now += 1_000;
    }
    ensure_eq!(C, got, want, "release order over three days of 1 s ticks");
    Ok(())
}

/// Handles of popped, cancelled or never-issued entries are refused and change
/// nothing, even after their slot is reused.
///
/// # Errors
/// A [`Failure`] if a stale handle is accepted or applied to another entry.
pub fn stale_handles<Q: DeferralQueue<u64>>(q: &mut Q) -> Result<(), Failure> {
    const C: &str = "stale_handles";
    let a = ins(q, C, 1, 10, 0)?;
    let b = ins(q, C, 2, 20, 0)?;
    ensure_eq!(
        C,
        q.pop_due(t(10)).map(|p| (p.handle, p.item)),
        Some((a, 1)),
        "pop a"
    );
    ensure_eq!(C, q.cancel(b), Ok(2), "cancel b");
    // Reuse the storage.
    let c = ins(q, C, 3, 30, 1)?;
    let d = ins(q, C, 4, 40, 1)?;
    for h in [a, b] {
        ensure_eq!(
            C,
            q.cancel(h),
            Err(QueueError::StaleHandle(h)),
            "cancel stale {h}"
        );
        ensure_eq!(
            C,
            q.reschedule(h, t(0), Some(9)),
            Err(QueueError::StaleHandle(h)),
            "reschedule stale {h}"
        );
        ensure_eq!(
            C,
            q.get(h).err(),
            Some(QueueError::StaleHandle(h)),
            "get stale {h}"
        );
    }
    let never = Handle::new(u32::MAX - 7, 3);
    ensure_eq!(
        C,
        q.cancel(never),
        Err(QueueError::StaleHandle(never)),
        "never issued"
    );
    ensure_eq!(C, q.len(), 2, "stale operations changed nothing");
    let got: Vec<(Handle, u64, u64, Priority)> = core::iter::from_fn(|| q.pop_due(t(40)))
        .map(|p| (p.handle, p.item, p.due.as_millis(), p.priority))
        .collect();
    ensure_eq!(
        C,
        got,
        vec![(c, 3, 30, 1), (d, 4, 40, 1)],
        "live entries untouched"
    );
    Ok(())
}

/// Cancel returns the item; reschedule moves the entry (earlier, later, to
/// another priority) and keeps its insertion order.
///
/// # Errors
/// A [`Failure`] if an entry is lost, duplicated or misordered.
pub fn cancel_and_reschedule<Q: DeferralQueue<u64>>(q: &mut Q) -> Result<(), Failure> {
    const C: &str = "cancel_and_reschedule";
    let h: Vec<Handle> = (0..6)
        .map(|i| ins(q, C, i, 1_000 + i * 1_000, 0))
        .collect::<Result<_, _>>()?;
    ensure_eq!(C, q.cancel(h[2]), Ok(2), "cancel");
    ensure_eq!(
        C,
        q.reschedule(h[5], t(1_000), None),
        Ok(()),
        "move earlier"
    );
    ensure_eq!(
        C,
        q.reschedule(h[0], t(9_000_000_000), None),
        Ok(()),
        "move far later"
    );
    ensure_eq!(
        C,
        q.reschedule(h[4], t(2_000), Some(7)),
        Ok(()),
        "move and raise"
    );
    ensure_eq!(
        C,
        q.get(h[4]).map(|e| (e.due, e.priority)),
        Ok((t(2_000), 7)),
        "get after move"
    );
    // Same due as item 1 after the move: item 1 was inserted first.
    ensure_eq!(
        C,
        q.reschedule(h[3], t(2_000), None),
        Ok(()),
        "tie with an earlier insert"
    );
    ensure_eq!(C, pop_all(q, 2_000), vec![4, 5, 1, 3], "order after moves");
    ensure_eq!(
        C,
        pop_all(q, 8_999_999_999),
        Vec::<u64>::new(),
        "moved entry not early"
    );
    ensure_eq!(C, pop_all(q, 9_000_000_000), vec![0], "moved entry on time");
    // A due entry moved back into the future is no longer due.
    let x = ins(q, C, 10, 100, 0)?;
    ensure_eq!(C, q.reschedule(x, t(9_000_000_500), None), Ok(()), "un-due");
    ensure_eq!(
        C,
        pop_all(q, 9_000_000_400),
        Vec::<u64>::new(),
        "not due after moving back"
    );
    ensure_eq!(C, pop_all(q, 9_000_000_500), vec![10], "due again");
    Ok(())
}

/// The clock never runs backwards: an earlier `now` acts as the latest seen,
/// and an entry inserted at or before the clock is due at once.
///
/// # Errors
/// A [`Failure`] if an earlier `now` hides due entries.
pub fn clock_clamp<Q: DeferralQueue<u64>>(q: &mut Q) -> Result<(), Failure> {
    const C: &str = "clock_clamp";
    ensure_eq!(C, q.now(), Timestamp::EPOCH, "fresh clock");
    ins(q, C, 1, 5_000, 0)?;
    ensure_eq!(
        C,
        q.pop_due(t(10_000)).map(|p| p.item),
        Some(1),
        "due at 10 s"
    );
    ensure_eq!(C, q.now(), t(10_000), "clock moved");
    ins(q, C, 2, 8_000, 0)?;
    ins(q, C, 3, 10_000, 0)?;
    ins(q, C, 4, 10_001, 0)?;
    ensure_eq!(C, pop_all(q, 1_000), vec![2, 3], "earlier now is clamped");
    ensure_eq!(C, q.now(), t(10_000), "clock not moved back");
    ensure_eq!(C, pop_all(q, 10_001), vec![4], "then on time");
    Ok(())
}

/// `next_due` is the exact earliest due time, including entries already due
/// and entries far away.
///
/// # Errors
/// A [`Failure`] if it differs.
pub fn next_due<Q: DeferralQueue<u64>>(q: &mut Q) -> Result<(), Failure> {
    const C: &str = "next_due";
    ensure_eq!(C, q.next_due(), None, "empty");
    let far = ins(q, C, 1, 3 * 365 * 86_400_000 + 17, 0)?;
    ensure_eq!(
        C,
        q.next_due(),
        Some(t(3 * 365 * 86_400_000 + 17)),
        "one far entry"
    );
    ins(q, C, 2, 70_001, 0)?;
    ins(q, C, 3, 70_000, 9)?;
    ensure_eq!(C, q.next_due(), Some(t(70_000)), "two near entries");
    ensure_eq!(C, q.stats(t(80_000)).due_now, 2, "both due");
    ensure_eq!(C, q.next_due(), Some(t(70_000)), "earliest of due entries");
    ensure_eq!(C, pop_all(q, 80_000), vec![3, 2], "pop both");
    ensure_eq!(
        C,
        q.next_due(),
        Some(t(3 * 365 * 86_400_000 + 17)),
        "far entry again"
    );
    ensure_eq!(C, q.cancel(far), Ok(1), "cancel");
    ensure_eq!(C, q.next_due(), None, "empty again");
    Ok(())
}

/// `iter`, `retain`, `drain` and `stats` see exactly the live entries.
///
/// # Errors
/// A [`Failure`] if an entry is missing or extra.
pub fn iterate_retain_drain_stats<Q: DeferralQueue<u64>>(q: &mut Q) -> Result<(), Failure> {
    const C: &str = "iterate_retain_drain_stats";
    let mut handles = Vec::new();
    for i in 0..10u64 {
        #[allow(clippy::cast_possible_truncation)] // small
        let p = (i % 3) as u8;
        handles.push(ins(q, C, i, 1_000 * i, p)?);
    }
    let mut seen: Vec<(u64, Handle)> = q
        .iter()
        .map(|e: EntryRef<'_, u64>| (*e.item, e.handle))
        .collect();
    seen.sort_unstable();
    let want: Vec<(u64, Handle)> = (0u64..).zip(handles.iter().copied()).collect();
    ensure_eq!(C, seen, want, "iter");
    let s = q.stats(t(4_500));
    ensure_eq!(C, s.len, 10, "stats len");
    ensure_eq!(
        C,
        s.by_priority,
        vec![(2, 3), (1, 3), (0, 4)],
        "stats by priority"
    );
    ensure_eq!(C, s.due_now, 5, "stats due now");
    ensure_eq!(
        C,
        s.oldest_due_age,
        Some(Duration::from_millis(4_500)),
        "stats oldest age"
    );
    let mut removed: Vec<u64> = q
        .retain(|e| e.item % 2 == 0)
        .into_iter()
        .map(|p| p.item)
        .collect();
    removed.sort_unstable();
    ensure_eq!(
        C,
        removed,
        vec![1, 3, 5, 7, 9],
        "retain removed the odd items"
    );
    ensure_eq!(
        C,
        q.cancel(handles[1]),
        Err(QueueError::StaleHandle(handles[1])),
        "retained-out handle is stale"
    );
    ensure_eq!(
        C,
        pop_all(q, 4_500),
        vec![2, 4, 0],
        "pop after retain, priority first"
    );
    let mut rest: Vec<u64> = q.drain().into_iter().map(|p| p.item).collect();
    rest.sort_unstable();
    ensure_eq!(C, rest, vec![6, 8], "drain");
    ensure_eq!(C, q.len(), 0, "empty after drain");
    ensure_eq!(
        C,
        q.stats(t(0)),
        QueueStats::default(),
        "stats of empty queue"
    );
    Ok(())
}

/// [`check_ops`] on [`random_ops`] sequences: `seeds` sequences of `n`
/// operations each, with time spans from milliseconds to years.
///
/// # Errors
/// The first [`Failure`], with its seed.
pub fn random_against_model<Q, F>(make: &mut F, seeds: u64, n: usize) -> Result<(), Failure>
where
    Q: DeferralQueue<u64>,
    F: FnMut() -> Q,
{
    let spans = [50u64, 5_000, 1 << 20, 432_000_000, 1 << 40];
    for seed in 0..seeds {
        for (k, &span) in (0u64..).zip(spans.iter()) {
            let ops = random_ops(seed * 31 + k, n, span);
            check_ops(&mut make(), &ops).map_err(|f| Failure {
                check: "random_against_model",
                detail: format!("seed {seed}, span {span} ms: {}", f.detail),
            })?;
        }
    }
    Ok(())
}

/// Runs every check, each on a fresh queue from `make`.
///
/// # Errors
/// The first [`Failure`].
pub fn run_all<Q, F>(mut make: F) -> Result<(), Failure>
where
    Q: DeferralQueue<u64>,
    F: FnMut() -> Q,
{
    pop_order(&mut make())?;
    exact_release(&mut make())?;
    exact_release_ticking(&mut make())?;
    stale_handles(&mut make())?;
    cancel_and_reschedule(&mut make())?;
    clock_clamp(&mut make())?;
    next_due(&mut make())?;
    iterate_retain_drain_stats(&mut make())?;
    random_against_model(&mut make, 8, 400)?;
    Ok(())
}
