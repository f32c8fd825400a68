//! The wheel against the reference heap at scale: tens of thousands of entries,
//! hundreds per wheel tick, heavy cancel and reschedule traffic (so slots fill
//! with tombstones and get compacted), entries cascading down from far
//! levels, and a second priority appearing and disappearing. Both queues must
//! pop exactly the same entries in the same order at every step.

use tempfail::Timestamp;
use tempfail::queue::{DeferralQueue, Handle, HeapQueue, Popped, WheelQueue};

/// splitmix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const DAY: u64 = 86_400_000;

/// A due time in one of four crowded seconds (half of them at its first
/// millisecond).
fn crowded(rng: &mut Rng) -> u64 {
    let second = (1 + rng.below(4)) * DAY / 3;
    if rng.below(2) == 0 {
        second
    } else {
        second + rng.below(1_000)
    }
}

/// Both queues, and for each item its handle in each (`None` once gone).
struct Pair {
    wheel: WheelQueue<u64>,
    heap: HeapQueue<u64>,
    handles: Vec<Option<(Handle, Handle)>>,
    live: Vec<u64>,
}

impl Pair {
    fn insert(&mut self, due: u64, priority: u8) {
        let item = self.handles.len() as u64;
        let hw = self
            .wheel
            .insert(item, Timestamp::from_millis(due), priority);
        let hh = self
            .heap
            .insert(item, Timestamp::from_millis(due), priority);
        self.handles.push(Some((hw.unwrap(), hh.unwrap())));
        self.live.push(item);
    }

    /// A random live item (swap-removed from `live` when `take`).
    fn pick(&mut self, rng: &mut Rng, take: bool) -> Option<u64> {
        loop {
            if self.live.is_empty() {
                return None;
            }
            let i = rng.below(self.live.len() as u64) as usize;
            let item = self.live[i];
            if self.handles[item as usize].is_none() {
                self.live.swap_remove(i);
                continue;
            }
            if take {
                self.live.swap_remove(i);
            }
            return Some(item);
        }
    }

    fn pop_all(&mut self, now: u64) -> usize {
        let now = Timestamp::from_millis(now);
        let mut n = 0;
        loop {
            let w = self.wheel.pop_due(now);
            let h = self.heap.pop_due(now);
            let key = |p: &Popped<u64>| (p.item, p.due, p.priority);
            assert_eq!(w.as_ref().map(key), h.as_ref().map(key), "pop at {now:?}");
            let Some(p) = w else { return n };
            assert!(p.due <= now, "popped early");
            self.handles[p.item as usize] = None;
            n += 1;
        }
    }
}

fn run(seed: u64, initial: usize, steps: usize) {
    let mut rng = Rng(seed);
    let mut q = Pair {
        wheel: WheelQueue::new(),
        heap: HeapQueue::new(),
        handles: Vec::new(),
        live: Vec::new(),
    };
    for _ in 0..initial {
        // Millisecond due times over five days; one in eight in a few crowded
        // seconds, half of those at one instant.
        let due = if rng.below(8) == 0 {
            crowded(&mut rng)
        } else {
            1 + rng.below(5 * DAY)
        };
        q.insert(due, 5);
    }
    let mut now = 0u64;
    let mut popped = 0;
    for step in 0..steps {
        // A second priority exists during the middle third of the run.
        let other = steps / 3 <= step && step < 2 * steps / 3;
        match rng.below(100) {
            0..=24 => {
                now += 1_000 + rng.below(600_000);
                popped += q.pop_all(now);
                assert_eq!(q.wheel.len(), q.heap.len());
                assert_eq!(q.wheel.next_due(), q.heap.next_due(), "next_due at {now}");
            }
            25..=49 => {
                let due = match rng.below(10) {
                    0 => now.saturating_sub(rng.below(60_000)), // already due
                    1 => now + rng.below(200_000),              // the current tick
                    2 => now + 365 * DAY + rng.below(3 * 365 * DAY), // years away
                    _ => now + 1_000 + rng.below(5 * DAY),
                };
                let priority = if other && rng.below(4) == 0 { 9 } else { 5 };
                q.insert(due, priority);
            }
            50..=84 => {
                let Some(item) = q.pick(&mut rng, false) else {
                    continue;
                };
                let (hw, hh) = q.handles[item as usize].unwrap();
                let due = Timestamp::from_millis(match rng.below(6) {
                    0 => now + rng.below(200_000),
                    // Into a crowded second, out of insertion order.
                    2 => crowded(&mut rng).max(now),
                    1 => now + 40 * DAY + rng.below(400 * DAY),
                    _ => now + 1_000 + rng.below(5 * DAY),
                });
                let priority = (other && rng.below(8) == 0).then_some(9);
                q.wheel.reschedule(hw, due, priority).unwrap();
                q.heap.reschedule(hh, due, priority).unwrap();
            }
            _ => {
                let Some(item) = q.pick(&mut rng, true) else {
                    continue;
                };
                let (hw, hh) = q.handles[item as usize].take().unwrap();
                assert_eq!(q.wheel.cancel(hw), Ok(item));
                assert_eq!(q.heap.cancel(hh), Ok(item));
                assert!(q.wheel.get(hw).is_err(), "a cancelled handle is stale");
            }
        }
    }
    popped += q.pop_all(u64::MAX);
    assert!(q.wheel.is_empty() && q.heap.is_empty());
    assert!(popped > initial / 2, "the run popped {popped} entries");
}

#[test]
fn wheel_pops_like_the_heap_at_scale() {
    for seed in 1..=3 {
        run(seed, 40_000, 60_000);
    }
}
