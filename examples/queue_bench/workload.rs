//! The deferral-queue workload shared by `examples/queue_bench` and
//! `benches/queue.rs`: the same phases, run on tempfail's queues and on the
//! structures a user would otherwise pick.
//!
//! Entries carry a `u64` id and no other payload; all have the same priority.
//! Times are virtual milliseconds starting at 0; due times are whole seconds.

#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tempfail::Timestamp;
use tempfail::queue::{DeferralQueue, Handle, HeapQueue, KeyedQueue, WheelQueue};

/// How phases are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Wall-clock time (`Instant`).
    Wall,
    /// CPU time of this thread (user + system, from `/proc/thread-self/stat`,
    /// 10 ms resolution): on a shared machine it leaves out the time other
    /// processes held the CPU. Falls back to wall-clock time elsewhere.
    Cpu,
}

/// A started measurement.
pub struct Timer {
    clock: Clock,
    wall: Instant,
    cpu: Option<u64>,
}

/// CPU time of the calling thread in ns (clock ticks of 10 ms), if the OS says.
pub fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let mut f = after.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some((utime + stime) * 10_000_000)
}

impl Clock {
    /// Starts a measurement.
    #[allow(clippy::disallowed_methods)] // a benchmark reads the clock
    pub fn start(self) -> Timer {
        let cpu = if self == Clock::Cpu {
            thread_cpu_ns()
        } else {
            None
        };
        Timer {
            clock: self,
            wall: Instant::now(),
            cpu,
        }
    }
}

impl Timer {
    /// Time since `start`.
    pub fn elapsed(&self) -> Duration {
        match (self.clock, self.cpu, thread_cpu_ns()) {
            (Clock::Cpu, Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
            _ => self.wall.elapsed(),
        }
    }
}

/// Five days in seconds: due times are uniform over it.
pub const SPAN_SECS: u64 = 5 * 86_400;

/// Pre-drawn random numbers, so every structure sees the same sequence and no
/// RNG cost is timed.
pub struct Workload {
    /// Due time of entry `id`, ms (whole seconds in `1..=5 d`).
    pub dues: Vec<u64>,
    /// Reinsertion delays for `steady`, ms (whole seconds in `1..=5 d`).
    pub delays: Vec<u64>,
    /// `(id, new due in ms)` for `reschedule`.
    pub moves: Vec<(u64, u64)>,
}

impl Workload {
    /// `n` entries, `ops` steady pairs and reschedule moves, from `seed`.
    pub fn new(n: usize, ops: usize, seed: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let secs = |rng: &mut SmallRng| rng.random_range(1..=SPAN_SECS) * 1_000;
        let dues = (0..n).map(|_| secs(&mut rng)).collect();
        let delays = (0..ops).map(|_| secs(&mut rng)).collect();
        let moves = (0..ops)
            .map(|_| (rng.random_range(0..n as u64), secs(&mut rng)))
            .collect();
        Workload {
            dues,
            delays,
            moves,
        }
    }
}

/// What the workload needs from a queue.
#[allow(async_fn_in_trait)]
pub trait BenchQueue {
    /// The `impl` name printed.
    const NAME: &'static str;
    /// Whether it can move an entry by key (`binaryheap` cannot).
    const RESCHEDULE: bool = true;
    /// An empty queue; `n` sizes the benchmark's own bookkeeping only.
    fn new(n: usize) -> Self;
    /// Adds entry `id` due at `due` ms.
    fn insert(&mut self, id: u64, due: u64);
    /// Removes a due entry at `now` ms: `(id, due)`.
    fn pop(&mut self, now: u64) -> Option<(u64, u64)>;
    /// Moves entry `id` (live) to `due` ms.
    fn reschedule(&mut self, id: u64, due: u64);
    /// Heap bytes of the benchmark's own bookkeeping (id → handle tables),
    /// excluded from the structure's memory.
    fn bookkeeping_bytes(&self) -> usize {
        0
    }
    /// Lets a runtime-driven structure see the virtual clock move to `now` ms.
    async fn advance(&mut self, _now: u64) {}
}

fn ts(ms: u64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// `tempfail-heap`.
pub struct TfHeap {
    q: HeapQueue<u64>,
    handles: Vec<Handle>,
}

impl BenchQueue for TfHeap {
    const NAME: &'static str = "tempfail-heap";
    fn new(n: usize) -> Self {
        TfHeap {
            q: HeapQueue::new(),
            handles: vec![Handle::new(0, 0); n],
        }
    }
    fn insert(&mut self, id: u64, due: u64) {
        if let Ok(h) = self.q.insert(id, ts(due), 0) {
            self.handles[id as usize] = h;
        }
    }
    fn pop(&mut self, now: u64) -> Option<(u64, u64)> {
        self.q.pop_due(ts(now)).map(|p| (p.item, p.due.as_millis()))
    }
    fn reschedule(&mut self, id: u64, due: u64) {
        let _ = self.q.reschedule(self.handles[id as usize], ts(due), None);
    }
    fn bookkeeping_bytes(&self) -> usize {
        self.handles.capacity() * size_of::<Handle>()
    }
}

/// `tempfail-wheel`.
pub struct TfWheel {
    q: WheelQueue<u64>,
    handles: Vec<Handle>,
}

impl BenchQueue for TfWheel {
    const NAME: &'static str = "tempfail-wheel";
    fn new(n: usize) -> Self {
        TfWheel {
            q: WheelQueue::new(),
            handles: vec![Handle::new(0, 0); n],
        }
    }
    #[inline]
    fn insert(&mut self, id: u64, due: u64) {
        if let Ok(h) = self.q.insert(id, ts(due), 0) {
            self.handles[id as usize] = h;
        }
    }
    #[inline]
    fn pop(&mut self, now: u64) -> Option<(u64, u64)> {
        self.q.pop_due(ts(now)).map(|p| (p.item, p.due.as_millis()))
    }
    #[inline]
    fn reschedule(&mut self, id: u64, due: u64) {
        let _ = self.q.reschedule(self.handles[id as usize], ts(due), None);
    }
    fn bookkeeping_bytes(&self) -> usize {
        self.handles.capacity() * size_of::<Handle>()
    }
}

/// `tempfail-keyed`: the keyed adapter over the wheel, keyed by the id.
pub struct TfKeyed {
    q: KeyedQueue<u64, ()>,
}

impl BenchQueue for TfKeyed {
    const NAME: &'static str = "tempfail-keyed";
    fn new(_n: usize) -> Self {
        TfKeyed {
            q: KeyedQueue::new(),
        }
    }
    fn insert(&mut self, id: u64, due: u64) {
        let _ = self.q.insert(id, (), ts(due), 0);
    }
    fn pop(&mut self, now: u64) -> Option<(u64, u64)> {
        self.q.pop_due(ts(now)).map(|p| (p.key, p.due.as_millis()))
    }
    fn reschedule(&mut self, id: u64, due: u64) {
        let _ = self.q.reschedule(&id, ts(due), None);
    }
}

/// `binaryheap`: `BinaryHeap<Reverse<(due, id)>>`, no reschedule.
pub struct StdHeap {
    q: BinaryHeap<Reverse<(u64, u64)>>,
}

impl BenchQueue for StdHeap {
    const NAME: &'static str = "binaryheap";
    const RESCHEDULE: bool = false;
    fn new(_n: usize) -> Self {
        StdHeap {
            q: BinaryHeap::new(),
        }
    }
    fn insert(&mut self, id: u64, due: u64) {
        self.q.push(Reverse((due, id)));
    }
    fn pop(&mut self, now: u64) -> Option<(u64, u64)> {
        match self.q.peek() {
            Some(Reverse((due, _))) if *due <= now => self.q.pop().map(|Reverse((d, id))| (id, d)),
            _ => None,
        }
    }
    fn reschedule(&mut self, _id: u64, _due: u64) {}
}

/// `priority-queue`: the crate's `PriorityQueue<id, Reverse<due>>`.
pub struct PQueue {
    q: priority_queue::PriorityQueue<u64, Reverse<u64>>,
}

impl BenchQueue for PQueue {
    const NAME: &'static str = "priority-queue";
    fn new(_n: usize) -> Self {
        PQueue {
            q: priority_queue::PriorityQueue::new(),
        }
    }
    fn insert(&mut self, id: u64, due: u64) {
        self.q.push(id, Reverse(due));
    }
    fn pop(&mut self, now: u64) -> Option<(u64, u64)> {
        match self.q.peek() {
            Some((_, Reverse(due))) if *due <= now => self.q.pop().map(|(id, Reverse(d))| (id, d)),
            _ => None,
        }
    }
    fn reschedule(&mut self, id: u64, due: u64) {
        self.q.change_priority(&id, Reverse(due));
    }
}

/// `delayqueue`: tokio-util's `DelayQueue` on a paused current-thread runtime
/// (run the phases inside its `block_on`); the virtual clock is tokio's.
pub struct TokioDelay {
    q: tokio_util::time::DelayQueue<u64>,
    keys: Vec<Option<tokio_util::time::delay_queue::Key>>,
    due_of: Vec<u64>,
    now: u64,
}

impl BenchQueue for TokioDelay {
    const NAME: &'static str = "delayqueue";
    fn new(n: usize) -> Self {
        TokioDelay {
            q: tokio_util::time::DelayQueue::new(),
            keys: vec![None; n],
            due_of: vec![0; n],
            now: 0,
        }
    }
    fn insert(&mut self, id: u64, due: u64) {
        let key = self
            .q
            .insert(id, Duration::from_millis(due.saturating_sub(self.now)));
        self.keys[id as usize] = Some(key);
        self.due_of[id as usize] = due;
    }
    fn pop(&mut self, _now: u64) -> Option<(u64, u64)> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.q.poll_expired(&mut cx) {
            Poll::Ready(Some(e)) => {
                let id = e.into_inner();
                Some((id, self.due_of[id as usize]))
            }
            _ => None,
        }
    }
    fn reschedule(&mut self, id: u64, due: u64) {
        if let Some(key) = &self.keys[id as usize] {
            self.q
                .reset(key, Duration::from_millis(due.saturating_sub(self.now)));
            self.due_of[id as usize] = due;
        }
    }
    fn bookkeeping_bytes(&self) -> usize {
        self.keys.capacity() * size_of::<Option<tokio_util::time::delay_queue::Key>>()
            + self.due_of.capacity() * 8
    }
    async fn advance(&mut self, now: u64) {
        if now > self.now {
            tokio::time::advance(Duration::from_millis(now - self.now)).await;
            self.now = now;
        }
    }
}

/// A paused current-thread runtime (needed by `delayqueue`, harmless to the others).
pub fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build the tokio runtime: {e}"),
    }
}

/// What a popping phase saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Popped {
    /// Entries popped.
    pub count: u64,
    /// Largest `pop time - due`, ms (`None` if nothing popped).
    pub max_lateness_ms: Option<u64>,
    /// Entries popped before their due time (must be 0).
    pub early: u64,
}

impl Popped {
    fn saw(&mut self, now: u64, due: u64) {
        self.count += 1;
        if due > now {
            self.early += 1;
        }
        let late = now.saturating_sub(due);
        self.max_lateness_ms = Some(self.max_lateness_ms.map_or(late, |m| m.max(late)));
    }
}

/// Inserts the first `count` entries (ids `0..count`); returns the time taken.
pub fn fill<Q: BenchQueue>(q: &mut Q, w: &Workload, count: usize, clock: Clock) -> Duration {
    let start = clock.start();
    for (id, &due) in (0u64..).zip(&w.dues[..count]) {
        q.insert(id, due);
    }
    start.elapsed()
}

/// Advances the clock 1 s at a time from 0 past `last_due`, popping everything
/// due; returns the time taken (empty ticks included).
pub async fn drain<Q: BenchQueue>(q: &mut Q, last_due: u64, clock: Clock) -> (Duration, Popped) {
    let mut seen = Popped::default();
    let start = clock.start();
    let mut now = 0;
    while now <= last_due {
        q.advance(now).await;
        while let Some((_, due)) = q.pop(now) {
            seen.saw(now, due);
        }
        now += 1_000;
    }
    (start.elapsed(), seen)
}

/// Advances the clock 1 s at a time from 0; every popped entry is reinserted
/// at `now + delay`; stops after `pairs` pop+reinsert pairs.
pub async fn steady<Q: BenchQueue>(
    q: &mut Q,
    w: &Workload,
    pairs: usize,
    clock: Clock,
) -> (Duration, Popped) {
    let mut seen = Popped::default();
    let mut delays = w.delays.iter().cycle();
    let mut left = pairs;
    let start = clock.start();
    let mut now = 0;
    'ticks: while left > 0 {
        q.advance(now).await;
        while let Some((id, due)) = q.pop(now) {
            seen.saw(now, due);
            q.insert(id, now + delays.next().copied().unwrap_or(1_000));
            left -= 1;
            if left == 0 {
                break 'ticks;
            }
        }
        now += 1_000;
    }
    (start.elapsed(), seen)
}

/// Moves `count` random entries to random new due times.
pub fn reschedule<Q: BenchQueue>(q: &mut Q, w: &Workload, count: usize, clock: Clock) -> Duration {
    let start = clock.start();
    for &(id, due) in w.moves.iter().cycle().take(count) {
        q.reschedule(id, due);
    }
    start.elapsed()
}
