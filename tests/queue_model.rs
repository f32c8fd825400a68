//! Model-based property tests: random operation sequences run against each
//! queue and a trivially correct model (a sorted `Vec`), for both
//! implementations and both adapters.
#![cfg(feature = "testing")]

use std::collections::{BTreeMap, VecDeque};

use proptest::prelude::*;
use tempfail::Timestamp;
use tempfail::queue::conformance::{Op, check_ops};
use tempfail::queue::{DeferralQueue, FairQueue, Handle, HeapQueue, KeyedQueue, WheelQueue};

fn time(span: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..span,
        1 => Just(0u64),
        1 => Just(u64::MAX),
        1 => (0u64..4).prop_map(move |k| span.saturating_mul(1 << (10 * k))),
    ]
}

fn op(span: u64) -> impl Strategy<Value = Op> {
    op_with(
        span,
        prop_oneof![Just(0u8), Just(1u8), Just(255u8), any::<u8>()].boxed(),
    )
}

/// Mostly one priority with a rare other one: the wheel serves due entries
/// differently while all priorities are equal, and must switch when one differs.
fn op_mostly_uniform(span: u64) -> impl Strategy<Value = Op> {
    op_with(
        span,
        prop_oneof![30 => Just(7u8), 1 => Just(9u8), 1 => Just(3u8)].boxed(),
    )
}

fn op_with(span: u64, prio: BoxedStrategy<u8>) -> impl Strategy<Value = Op> {
    op_in(time(span).boxed(), prio)
}

/// Hundreds of entries due within a few minutes of each other, some at the
/// same millisecond, about ten minutes ahead: the clock enters them as one
/// crowded stretch (cancelled, moved and popped while it is worked through).
fn op_crowded() -> impl Strategy<Value = Op> {
    let at = prop_oneof![
        3 => 600_000u64..900_000,
        1 => (0u64..8).prop_map(|k| 700_000 + k),
        1 => 0u64..1_000_000,
    ];
    op_in(
        at.boxed(),
        prop_oneof![9 => Just(7u8), 1 => Just(2u8)].boxed(),
    )
}

fn op_in(at: BoxedStrategy<u64>, prio: BoxedStrategy<u8>) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (at.clone(), prio.clone()).prop_map(|(due, priority)| Op::Insert { due, priority }),
        2 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        2 => (any::<usize>(), at.clone(), proptest::option::of(prio))
            .prop_map(|(pick, due, priority)| Op::Reschedule { pick, due, priority }),
        4 => at.clone().prop_map(|now| Op::Pop { now }),
        1 => at.clone().prop_map(|now| Op::DrainDue { now }),
        1 => at.prop_map(|now| Op::Stats { now }),
        1 => Just(Op::NextDue),
        1 => any::<usize>().prop_map(|pick| Op::Get { pick }),
        1 => (1u64..6).prop_map(|modulus| Op::Retain { modulus }),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop_oneof![
        // Ties galore.
        proptest::collection::vec(op(40), 0..200),
        // Crosses wheel slots and levels.
        proptest::collection::vec(op(1 << 30), 0..200),
        // Years.
        proptest::collection::vec(op(1 << 45), 0..200),
        // Equal priorities, now and then another one.
        proptest::collection::vec(op_mostly_uniform(40), 0..200),
        proptest::collection::vec(op_mostly_uniform(1 << 22), 0..200),
        // Crowded minutes.
        (
            proptest::collection::vec(
                (600_000u64..900_000).prop_map(|due| Op::Insert { due, priority: 7 }),
                0..400,
            ),
            proptest::collection::vec(op_crowded(), 0..400),
        )
            .prop_map(|(mut fill, more)| {
                fill.extend(more);
                fill
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn heap_queue_matches_model(ops in ops()) {
        check_ops(&mut HeapQueue::new(), &ops).map_err(|f| TestCaseError::fail(f.to_string()))?;
    }

    #[test]
    fn wheel_queue_matches_model(ops in ops()) {
        check_ops(&mut WheelQueue::new(), &ops).map_err(|f| TestCaseError::fail(f.to_string()))?;
    }

    #[test]
    fn fair_queue_with_one_group_matches_model(ops in ops()) {
        let mut q = FairQueue::new(|_: &u64| ());
        check_ops(&mut q, &ops).map_err(|f| TestCaseError::fail(f.to_string()))?;
    }

    #[test]
    fn restored_wheel_pops_like_the_original(ops in ops(), now in time(1 << 30)) {
        let mut q = WheelQueue::new();
        let mut handles = Vec::new();
        for (i, op) in (0u64..).zip(ops.iter()) {
            match *op {
                Op::Insert { due, priority } => handles.push(q.insert(i, Timestamp::from_millis(due), priority).unwrap()),
                Op::Pop { now } => { q.pop_due(Timestamp::from_millis(now)); }
                Op::Reschedule { pick, due, priority } if !handles.is_empty() => {
                    let _ = q.reschedule(handles[pick % handles.len()], Timestamp::from_millis(due), priority);
                }
                _ => {}
            }
        }
        let mut heap = HeapQueue::from_snapshot(q.snapshot()).unwrap();
        let mut wheel = WheelQueue::from_snapshot(q.snapshot()).unwrap();
        prop_assert_eq!(heap.now(), q.now());
        let orig: Vec<_> = std::iter::from_fn(|| q.pop_due(Timestamp::from_millis(now)).map(|p| (p.item, p.due, p.priority))).collect();
        let a: Vec<_> = std::iter::from_fn(|| heap.pop_due(Timestamp::from_millis(now)).map(|p| (p.item, p.due, p.priority))).collect();
        let b: Vec<_> = std::iter::from_fn(|| wheel.pop_due(Timestamp::from_millis(now)).map(|p| (p.item, p.due, p.priority))).collect();
        prop_assert_eq!(&a, &orig);
        prop_assert_eq!(&b, &orig);
        prop_assert_eq!(heap.len(), q.len());
        prop_assert_eq!(wheel.len(), q.len());
    }
}

// ---- keyed adapter ---------------------------------------------------------

#[derive(Debug, Clone)]
enum KOp {
    Insert {
        key: u8,
        due: u64,
        priority: u8,
    },
    Cancel {
        key: u8,
    },
    Reschedule {
        key: u8,
        due: u64,
        priority: Option<u8>,
    },
    Pop {
        now: u64,
    },
}

fn kop() -> impl Strategy<Value = KOp> {
    let key = 0u8..12;
    prop_oneof![
        4 => (key.clone(), time(1 << 20), 0u8..3).prop_map(|(key, due, priority)| KOp::Insert { key, due, priority }),
        1 => key.clone().prop_map(|key| KOp::Cancel { key }),
        2 => (key, time(1 << 20), proptest::option::of(0u8..3))
            .prop_map(|(key, due, priority)| KOp::Reschedule { key, due, priority }),
        3 => time(1 << 20).prop_map(|now| KOp::Pop { now }),
    ]
}

/// (key, item, due, priority, seq), sorted in pop order.
#[derive(Default)]
struct KeyedModel {
    v: Vec<(u8, u64, u64, u8, u64)>,
    now: u64,
    seq: u64,
}

impl KeyedModel {
    fn sort(&mut self) {
        self.v.sort_by_key(|e| (std::cmp::Reverse(e.3), e.2, e.4));
    }
    fn remove(&mut self, key: u8) -> Option<u64> {
        let i = self.v.iter().position(|e| e.0 == key)?;
        Some(self.v.remove(i).1)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn keyed_queue_matches_model(ops in proptest::collection::vec(kop(), 0..200)) {
        let mut q: KeyedQueue<u8, u64> = KeyedQueue::new();
        let mut over_heap: KeyedQueue<u8, u64, HeapQueue<(u8, u64)>> = KeyedQueue::default();
        let mut m = KeyedModel::default();
        for (item, op) in (0u64..).zip(ops) {
            match op {
                KOp::Insert { key, due, priority } => {
                    let want = m.remove(key);
                    m.v.push((key, item, due, priority, m.seq));
                    m.seq += 1;
                    m.sort();
                    prop_assert_eq!(q.insert(key, item, Timestamp::from_millis(due), priority).unwrap(), want);
                    prop_assert_eq!(over_heap.insert(key, item, Timestamp::from_millis(due), priority).unwrap(), want);
                }
                KOp::Cancel { key } => {
                    let want = m.remove(key);
                    prop_assert_eq!(q.cancel(&key), want);
                    prop_assert_eq!(over_heap.cancel(&key), want);
                }
                KOp::Reschedule { key, due, priority } => {
                    let found = m.v.iter_mut().find(|e| e.0 == key).map(|e| {
                        e.2 = due;
                        if let Some(p) = priority { e.3 = p; }
                    }).is_some();
                    m.sort();
                    let got = q.reschedule(&key, Timestamp::from_millis(due), priority);
                    prop_assert_eq!(got.is_ok(), found);
                    let got = over_heap.reschedule(&key, Timestamp::from_millis(due), priority);
                    prop_assert_eq!(got.is_ok(), found);
                }
                KOp::Pop { now } => {
                    m.now = m.now.max(now);
                    let want = m.v.iter().position(|e| e.2 <= m.now).map(|i| m.v.remove(i)).map(|e| (e.0, e.1, e.2, e.3));
                    let got = q.pop_due(Timestamp::from_millis(now)).map(|p| (p.key, p.item, p.due.as_millis(), p.priority));
                    prop_assert_eq!(got, want);
                    let got = over_heap.pop_due(Timestamp::from_millis(now)).map(|p| (p.key, p.item, p.due.as_millis(), p.priority));
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(q.len(), m.v.len());
            prop_assert_eq!(q.next_due().map(Timestamp::as_millis), m.v.iter().map(|e| e.2).min());
            for e in &m.v {
                prop_assert!(q.contains_key(&e.0));
                prop_assert_eq!(q.get(&e.0), Some((&e.1, Timestamp::from_millis(e.2), e.3)));
            }
        }
    }
}

// ---- fairness adapter ------------------------------------------------------

#[derive(Debug, Clone)]
enum FOp {
    Insert {
        group: u8,
        due: u64,
        priority: u8,
    },
    Cancel {
        pick: usize,
    },
    Reschedule {
        pick: usize,
        due: u64,
        priority: Option<u8>,
    },
    Pop {
        now: u64,
    },
}

fn fop() -> impl Strategy<Value = FOp> {
    prop_oneof![
        5 => (0u8..4, 0u64..60, 0u8..2).prop_map(|(group, due, priority)| FOp::Insert { group, due, priority }),
        1 => any::<usize>().prop_map(|pick| FOp::Cancel { pick }),
        2 => (any::<usize>(), 0u64..60, proptest::option::of(0u8..2))
            .prop_map(|(pick, due, priority)| FOp::Reschedule { pick, due, priority }),
        4 => (0u64..80).prop_map(|now| FOp::Pop { now }),
    ]
}

#[derive(Clone, Copy, Debug)]
struct FE {
    h: Handle,
    item: (u8, u64),
    due: u64,
    prio: u8,
    seq: u64,
    staged: bool,
}

/// Round-robin semantics written out plainly: per priority, a turn order of
/// groups with due entries; groups join at the back as their entries become due
/// (in pop order), leave when they have none left.
#[derive(Default)]
struct FairModel {
    v: Vec<FE>,
    rings: BTreeMap<u8, VecDeque<u8>>,
    now: u64,
    seq: u64,
}

impl FairModel {
    fn staged_at(&self, g: u8, p: u8) -> bool {
        self.v
            .iter()
            .any(|e| e.staged && e.item.0 == g && e.prio == p)
    }
    fn stage(&mut self, i: usize) {
        let (g, p) = (self.v[i].item.0, self.v[i].prio);
        let joined = !self.staged_at(g, p);
        self.v[i].staged = true;
        if joined {
            self.rings.entry(p).or_default().push_back(g);
        }
    }
    fn unstage(&mut self, i: usize) {
        let (g, p) = (self.v[i].item.0, self.v[i].prio);
        self.v[i].staged = false;
        if !self.staged_at(g, p) {
            let ring = self.rings.entry(p).or_default();
            ring.retain(|&x| x != g);
            if ring.is_empty() {
                self.rings.remove(&p);
            }
        }
    }
    fn pop(&mut self, now: u64) -> Option<(Handle, (u8, u64))> {
        self.now = self.now.max(now);
        let mut newly: Vec<usize> = (0..self.v.len())
            .filter(|&i| !self.v[i].staged && self.v[i].due <= self.now)
            .collect();
        newly.sort_by_key(|&i| {
            (
                std::cmp::Reverse(self.v[i].prio),
                self.v[i].due,
                self.v[i].seq,
            )
        });
        for i in newly {
            self.stage(i);
        }
        let (&p, ring) = self.rings.iter_mut().next_back()?;
        let g = ring.pop_front()?;
        let i = (0..self.v.len())
            .filter(|&i| self.v[i].staged && self.v[i].item.0 == g && self.v[i].prio == p)
            .min_by_key(|&i| (self.v[i].due, self.v[i].seq))?;
        let e = self.v.remove(i);
        if self.staged_at(g, p) {
            self.rings.entry(p).or_default().push_back(g);
        } else if self.rings.get(&p).is_some_and(VecDeque::is_empty) {
            self.rings.remove(&p);
        }
        Some((e.h, e.item))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn fair_queue_matches_round_robin_model(ops in proptest::collection::vec(fop(), 0..200)) {
        let mut q = FairQueue::new(|item: &(u8, u64)| item.0);
        let mut m = FairModel::default();
        let mut handles: Vec<Handle> = Vec::new();
        for (n, op) in (0u64..).zip(ops) {
            match op {
                FOp::Insert { group, due, priority } => {
                    let h = q.insert((group, n), Timestamp::from_millis(due), priority).unwrap();
                    m.v.push(FE { h, item: (group, n), due, prio: priority, seq: m.seq, staged: false });
                    m.seq += 1;
                    handles.push(h);
                }
                FOp::Cancel { pick } if !handles.is_empty() => {
                    let h = handles[pick % handles.len()];
                    let want = m.v.iter().position(|e| e.h == h).map(|i| {
                        if m.v[i].staged { m.unstage(i); }
                        m.v.remove(i).item
                    });
                    prop_assert_eq!(q.cancel(h).ok(), want);
                }
                FOp::Reschedule { pick, due, priority } if !handles.is_empty() => {
                    let h = handles[pick % handles.len()];
                    let found = match m.v.iter().position(|e| e.h == h) {
                        Some(i) => {
                            let was = m.v[i].staged;
                            if was { m.unstage(i); }
                            m.v[i].due = due;
                            if let Some(p) = priority { m.v[i].prio = p; }
                            if was && due <= m.now { m.stage(i); }
                            true
                        }
                        None => false,
                    };
                    prop_assert_eq!(q.reschedule(h, Timestamp::from_millis(due), priority).is_ok(), found);
                }
                FOp::Pop { now } => {
                    let want = m.pop(now);
                    let got = q.pop_due(Timestamp::from_millis(now)).map(|p| (p.handle, p.item));
                    prop_assert_eq!(got, want);
                }
                _ => {}
            }
            prop_assert_eq!(q.len(), m.v.len());
            prop_assert_eq!(q.next_due().map(Timestamp::as_millis), m.v.iter().map(|e| e.due).min());
        }
    }
}

#[test]
fn one_huge_domain_does_not_starve_the_others() {
    let mut q =
        FairQueue::new(|rcpt: &String| rcpt.split('@').nth(1).unwrap_or_default().to_string());
    let t = Timestamp::from_secs(1_000);
    for i in 0..10_000 {
        q.insert(format!("user{i}@huge.example"), t, 0).unwrap();
    }
    for d in ["a.example", "b.example", "c.example"] {
        q.insert(
            format!("postmaster@{d}"),
            t + std::time::Duration::from_secs(1),
            0,
        )
        .unwrap();
    }
    // The small domains became due later, yet each is served within the next
    // round of turns, not after the 10,000 entries of huge.example.
    let first: Vec<String> = std::iter::from_fn(|| {
        q.pop_due(t + std::time::Duration::from_secs(1))
            .map(|p| p.item)
    })
    .take(8)
    .collect();
    let small = first
        .iter()
        .filter(|r| !r.ends_with("@huge.example"))
        .count();
    assert_eq!(small, 3, "{first:?}");
    assert_eq!(q.len(), 10_000 - 5);
    assert_eq!(q.groups(), 1);
    // Priority still comes first.
    q.insert("urgent@huge.example".to_string(), t, 9).unwrap();
    assert_eq!(q.pop_due(t).unwrap().item, "urgent@huge.example");
}
