//! The reference model of the shared-queue contract and the model-based check.

use core::cmp::Reverse;
use std::collections::HashMap;
use std::time::Duration;

use super::{T0, error_kind, fail, outcome};
use crate::Timestamp;
use crate::queue::Priority;
use crate::queue::conformance::Failure;
use crate::shared_queue::{
    Claim, EntryInfo, EntryState, LeaseToken, NewEntry, SharedQueue, SharedQueueError, SharedStats,
    validate_claim, validate_key,
};

#[derive(Debug, Clone)]
struct MEntry {
    key: String,
    due: Timestamp,
    priority: Priority,
    seq: u64,
    attempts: u32,
    item: Vec<u8>,
    lease: Option<(u64, Timestamp)>,
}

/// The trivially correct shared queue: a `Vec` scanned and sorted on every
/// claim. Every method answers exactly what the contract says.
#[derive(Debug, Clone)]
pub struct Model {
    entries: Vec<MEntry>,
    next_seq: u64,
    next_token: u64,
    max_item_len: usize,
}

fn lost(key: &str, token: LeaseToken) -> SharedQueueError {
    SharedQueueError::LeaseLost {
        key: key.to_owned(),
        token,
    }
}

impl Model {
    /// An empty model accepting items up to `max_item_len` bytes.
    pub fn new(max_item_len: usize) -> Self {
        Model {
            entries: Vec::new(),
            next_seq: 0,
            next_token: 1,
            max_item_len,
        }
    }

    fn pos(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.key == key)
    }

    fn held(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<usize, SharedQueueError> {
        match self.pos(key) {
            Some(i) if matches!(self.entries[i].lease, Some((t, exp)) if t == token.0 && now < exp) => {
                Ok(i)
            }
            _ => Err(lost(key, token)),
        }
    }

    fn requeue(&mut self, i: usize) {
        self.entries[i].lease = None;
        self.entries[i].seq = self.next_seq;
        self.next_seq += 1;
    }

    /// [`SharedQueue::insert`].
    pub fn insert(&mut self, e: NewEntry) -> Result<(), SharedQueueError> {
        validate_key(&e.key)?;
        if e.item.len() > self.max_item_len {
            return Err(SharedQueueError::ItemTooLarge {
                len: e.item.len(),
                max: self.max_item_len,
            });
        }
        if self.pos(&e.key).is_some() {
            return Err(SharedQueueError::DuplicateKey(e.key));
        }
        self.entries.push(MEntry {
            key: e.key,
            due: e.due,
            priority: e.priority,
            seq: self.next_seq,
            attempts: 0,
            item: e.item,
            lease: None,
        });
        self.next_seq += 1;
        Ok(())
    }

    /// [`SharedQueue::claim`]; tokens count up from 1.
    pub fn claim(
        &mut self,
        now: Timestamp,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, SharedQueueError> {
        validate_claim(max, lease)?;
        let mut due: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries[i].lease.is_none() && self.entries[i].due <= now)
            .collect();
        due.sort_by_key(|&i| {
            let e = &self.entries[i];
            (Reverse(e.priority), e.due, e.seq)
        });
        due.truncate(max);
        let expires = now.saturating_add(lease);
        let mut out = Vec::with_capacity(due.len());
        for i in due {
            let token = self.next_token;
            self.next_token += 1;
            let e = &mut self.entries[i];
            e.attempts += 1;
            e.lease = Some((token, expires));
            out.push(Claim {
                key: e.key.clone(),
                item: e.item.clone(),
                due: e.due,
                priority: e.priority,
                attempts: e.attempts,
                token: LeaseToken(token),
                lease_expires: expires,
            });
        }
        Ok(out)
    }

    /// [`SharedQueue::complete`].
    pub fn complete(
        &mut self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        let i = self.held(key, token, now)?;
        self.entries.remove(i);
        Ok(())
    }

    /// [`SharedQueue::defer`].
    pub fn defer(
        &mut self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        due: Timestamp,
    ) -> Result<(), SharedQueueError> {
        let i = self.held(key, token, now)?;
        self.entries[i].due = due;
        self.requeue(i);
        Ok(())
    }

    /// [`SharedQueue::release`].
    pub fn release(
        &mut self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        let i = self.held(key, token, now)?;
        self.entries[i].attempts -= 1;
        self.requeue(i);
        Ok(())
    }

    /// [`SharedQueue::extend`].
    pub fn extend(
        &mut self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Timestamp, SharedQueueError> {
        validate_claim(1, lease)?;
        let i = self.held(key, token, now)?;
        let expires = now.saturating_add(lease);
        self.entries[i].lease = Some((token.0, expires));
        Ok(expires)
    }

    /// [`SharedQueue::reap`]: expired leases, in order of expiry then token.
    pub fn reap(&mut self, now: Timestamp) -> u64 {
        let mut expired: Vec<(Timestamp, u64, usize)> = (0..self.entries.len())
            .filter_map(|i| match self.entries[i].lease {
                Some((t, exp)) if exp <= now => Some((exp, t, i)),
                _ => None,
            })
            .collect();
        expired.sort_unstable();
        for &(_, _, i) in &expired {
            self.requeue(i);
        }
        expired.len() as u64
    }

    fn unleased(&self, key: &str, now: Timestamp) -> Result<usize, SharedQueueError> {
        let i = self
            .pos(key)
            .ok_or_else(|| SharedQueueError::NotFound(key.to_owned()))?;
        match self.entries[i].lease {
            Some((_, exp)) if now < exp => Err(SharedQueueError::Busy(key.to_owned())),
            _ => Ok(i),
        }
    }

    /// [`SharedQueue::cancel`].
    pub fn cancel(&mut self, key: &str, now: Timestamp) -> Result<Vec<u8>, SharedQueueError> {
        let i = self.unleased(key, now)?;
        Ok(self.entries.remove(i).item)
    }

    /// [`SharedQueue::reschedule`].
    pub fn reschedule(
        &mut self,
        key: &str,
        now: Timestamp,
        due: Timestamp,
        priority: Priority,
    ) -> Result<(), SharedQueueError> {
        let i = self.unleased(key, now)?;
        if self.entries[i].lease.is_some() {
            self.requeue(i);
        }
        self.entries[i].due = due;
        self.entries[i].priority = priority;
        Ok(())
    }

    /// [`SharedQueue::get`].
    pub fn get(&self, key: &str) -> Option<EntryInfo> {
        self.pos(key).map(|i| {
            let e = &self.entries[i];
            EntryInfo {
                key: e.key.clone(),
                due: e.due,
                priority: e.priority,
                attempts: e.attempts,
                state: match e.lease {
                    None => EntryState::Waiting,
                    Some((t, expires)) => EntryState::Leased {
                        token: LeaseToken(t),
                        expires,
                    },
                },
                item: e.item.clone(),
            }
        })
    }

    /// [`SharedQueue::stats`].
    pub fn stats(&self, now: Timestamp) -> SharedStats {
        let mut by: Vec<(Priority, u64)> = Vec::new();
        for e in &self.entries {
            match by.iter_mut().find(|(p, _)| *p == e.priority) {
                Some((_, n)) => *n += 1,
                None => by.push((e.priority, 1)),
            }
        }
        by.sort_by_key(|&(p, _)| Reverse(p));
        let claimable = || {
            self.entries
                .iter()
                .filter(|e| e.lease.is_none() && e.due <= now)
        };
        SharedStats {
            len: self.entries.len() as u64,
            by_priority: by,
            due_now: claimable().count() as u64,
            leased: self.entries.iter().filter(|e| e.lease.is_some()).count() as u64,
            expired_leases: self
                .entries
                .iter()
                .filter(|e| matches!(e.lease, Some((_, exp)) if exp <= now))
                .count() as u64,
            oldest_due_age: claimable()
                .map(|e| now.saturating_duration_since(e.due))
                .max(),
        }
    }

    /// Whether any entry other than `key` is due exactly at `due`.
    fn due_taken(&self, key: &str, due: Timestamp) -> bool {
        self.entries.iter().any(|e| e.key != key && e.due == due)
    }
}

/// One step of a model-based sequence. Keys come from a pool of eight
/// (`k0`…`k7`); claims are named by their index in the sequence's history of
/// claims (taken modulo its length), so stale tokens are exercised; offsets and
/// leases are milliseconds from the sequence's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    Insert {
        key: u8,
        due_in: u32,
        priority: Priority,
        item_len: u8,
    },
    Claim {
        max: u8,
        lease_ms: u32,
    },
    Complete {
        claim: u8,
    },
    Defer {
        claim: u8,
        due_in: u32,
    },
    Release {
        claim: u8,
    },
    Extend {
        claim: u8,
        lease_ms: u32,
    },
    Reap,
    Cancel {
        key: u8,
    },
    Reschedule {
        key: u8,
        due_in: u32,
        priority: Priority,
    },
    Advance {
        ms: u32,
    },
    Get {
        key: u8,
    },
    Stats,
    CompleteBatch {
        a: u8,
        b: u8,
    },
}

const PRIORITIES: [Priority; 4] = [0, 1, 5, 255];

/// Any bytes as a sequence of [`Op`]s (three bytes per op), for property tests
/// and fuzzers.
pub fn ops_from_bytes(bytes: &[u8]) -> Vec<Op> {
    bytes
        .chunks_exact(3)
        .map(|c| {
            let (a, b) = (c[1], c[2]);
            let lease_ms = (1 + u32::from(b % 8)) * 250;
            match c[0] % 14 {
                0 => Op::Insert {
                    key: a % 8,
                    due_in: u32::from(b) * 40,
                    priority: PRIORITIES[usize::from(a >> 3) % 4],
                    item_len: b % 5,
                },
                1 => Op::Claim {
                    max: 1 + a % 4,
                    lease_ms,
                },
                2 => Op::Complete { claim: a },
                3 => Op::Defer {
                    claim: a,
                    due_in: u32::from(b) * 40,
                },
                4 => Op::Release { claim: a },
                5 => Op::Extend { claim: a, lease_ms },
                6 => Op::Reap,
                7 => Op::Cancel { key: a % 8 },
                8 => Op::Reschedule {
                    key: a % 8,
                    due_in: u32::from(b) * 40,
                    priority: PRIORITIES[usize::from(a >> 3) % 4],
                },
                9 | 10 => Op::Advance {
                    ms: u32::from(a) * 20 + u32::from(b % 20),
                },
                11 => Op::Get { key: a % 8 },
                12 => Op::Stats,
                _ => Op::CompleteBatch { a, b },
            }
        })
        .collect()
}

struct Replay {
    model: Model,
    now: Timestamp,
    /// `(key, model token, store token)` of every claim, in order.
    claims: Vec<(String, LeaseToken, LeaseToken)>,
    /// store token → model token.
    tokens: HashMap<LeaseToken, LeaseToken>,
}

impl Replay {
    fn claim(&self, i: u8) -> Option<&(String, LeaseToken, LeaseToken)> {
        if self.claims.is_empty() {
            None
        } else {
            self.claims.get(usize::from(i) % self.claims.len())
        }
    }

    /// `now + ms`, moved forward until no other entry has that due time, so
    /// the order of claims is fully determined by priority and due.
    fn unique_due(&self, key: &str, ms: u32) -> Timestamp {
        let mut due = self
            .now
            .saturating_add(Duration::from_millis(u64::from(ms)));
        while self.model.due_taken(key, due) {
            due = due.saturating_add(Duration::from_millis(1));
        }
        due
    }

    fn map_info(&self, info: Option<EntryInfo>) -> Result<Option<EntryInfo>, String> {
        let Some(mut info) = info else {
            return Ok(None);
        };
        if let EntryState::Leased { token, expires } = info.state {
            let Some(&m) = self.tokens.get(&token) else {
                return Err(format!("get returned a token no claim handed out: {token}"));
            };
            info.state = EntryState::Leased { token: m, expires };
        }
        Ok(Some(info))
    }
}

fn same<T: PartialEq + core::fmt::Debug>(
    step: usize,
    op: &Op,
    got: &Result<T, SharedQueueError>,
    want: &Result<T, SharedQueueError>,
) -> Result<(), Failure> {
    let ok = match (got, want) {
        (Ok(g), Ok(w)) => g == w,
        (Err(g), Err(w)) => error_kind(g) == error_kind(w),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(fail(
            "model",
            format!("step {step} {op:?}: the model answers {want:?}, the queue {got:?}"),
        ))
    }
}

/// Replays `ops` on `q` (which must be empty) and on a [`Model`], comparing
/// every answer: results and error kinds, claimed entries and their order,
/// attempts, lease expiries, `get`, `stats` and `complete_batch`. Tokens are
/// compared by the claim that issued them.
pub async fn check_ops<Q: SharedQueue>(q: &Q, ops: &[Op]) -> Result<(), Failure> {
    let mut r = Replay {
        model: Model::new(q.max_item_len()),
        now: T0,
        claims: Vec::new(),
        tokens: HashMap::new(),
    };
    for (step, op) in ops.iter().enumerate() {
        let now = r.now;
        match *op {
            Op::Insert {
                key,
                due_in,
                priority,
                item_len,
            } => {
                let k = format!("k{key}");
                let due = r.unique_due(&k, due_in);
                let e = NewEntry::new(k, due, priority, vec![key; usize::from(item_len)]);
                same(step, op, &q.insert(e.clone()).await, &r.model.insert(e))?;
            }
            Op::Claim { max, lease_ms } => {
                let lease = Duration::from_millis(u64::from(lease_ms));
                let got = q.claim(now, usize::from(max), lease).await;
                let want = r.model.claim(now, usize::from(max), lease);
                let (Ok(g), Ok(w)) = (&got, &want) else {
                    same(step, op, &got, &want)?;
                    continue;
                };
                let strip = |c: &Claim| {
                    (
                        c.key.clone(),
                        c.item.clone(),
                        c.due,
                        c.priority,
                        c.attempts,
                        c.lease_expires,
                    )
                };
                let gs: Vec<_> = g.iter().map(strip).collect();
                let ws: Vec<_> = w.iter().map(strip).collect();
                if gs != ws {
                    return Err(fail(
                        "model",
                        format!("step {step} {op:?}: the model claims {ws:?}, the queue {gs:?}"),
                    ));
                }
                for (gc, wc) in g.iter().zip(w) {
                    if r.tokens.insert(gc.token, wc.token).is_some() {
                        return Err(fail(
                            "model",
                            format!("step {step}: token {} handed out twice", gc.token),
                        ));
                    }
                    r.claims.push((gc.key.clone(), wc.token, gc.token));
                }
            }
            Op::Complete { claim } | Op::Release { claim } => {
                let Some((k, m, s)) = r.claim(claim).cloned() else {
                    continue;
                };
                let (got, want) = if matches!(op, Op::Complete { .. }) {
                    (q.complete(&k, s, now).await, r.model.complete(&k, m, now))
                } else {
                    (q.release(&k, s, now).await, r.model.release(&k, m, now))
                };
                same(step, op, &got, &want)?;
            }
            Op::Defer { claim, due_in } => {
                let Some((k, m, s)) = r.claim(claim).cloned() else {
                    continue;
                };
                let due = r.unique_due(&k, due_in);
                same(
                    step,
                    op,
                    &q.defer(&k, s, now, due).await,
                    &r.model.defer(&k, m, now, due),
                )?;
            }
            Op::Extend { claim, lease_ms } => {
                let Some((k, m, s)) = r.claim(claim).cloned() else {
                    continue;
                };
                let lease = Duration::from_millis(u64::from(lease_ms));
                same(
                    step,
                    op,
                    &q.extend(&k, s, now, lease).await,
                    &r.model.extend(&k, m, now, lease),
                )?;
            }
            Op::Reap => {
                let want = Ok(r.model.reap(now));
                same(step, op, &q.reap(now).await, &want)?;
            }
            Op::Cancel { key } => {
                let k = format!("k{key}");
                same(step, op, &q.cancel(&k, now).await, &r.model.cancel(&k, now))?;
            }
            Op::Reschedule {
                key,
                due_in,
                priority,
            } => {
                let k = format!("k{key}");
                let due = r.unique_due(&k, due_in);
                let want = r.model.reschedule(&k, now, due, priority);
                same(step, op, &q.reschedule(&k, now, due, priority).await, &want)?;
            }
            Op::Advance { ms } => {
                r.now = r.now.saturating_add(Duration::from_millis(u64::from(ms)));
            }
            Op::Get { key } => {
                let k = format!("k{key}");
                let got = match q.get(&k).await {
                    Ok(info) => r
                        .map_info(info)
                        .map_err(|e| fail("model", format!("step {step}: {e}")))?,
                    Err(e) => return Err(fail("model", format!("step {step} {op:?}: {e}"))),
                };
                same(
                    step,
                    op,
                    &Ok::<_, SharedQueueError>(got),
                    &Ok(r.model.get(&k)),
                )?;
            }
            Op::Stats => {
                same(step, op, &q.stats(now).await, &Ok(r.model.stats(now)))?;
            }
            Op::CompleteBatch { a, b } => {
                let (Some(x), Some(y)) = (r.claim(a).cloned(), r.claim(b).cloned()) else {
                    continue;
                };
                let got = q.complete_batch(&[(&x.0, x.2), (&y.0, y.2)], now).await;
                let want = [
                    r.model.complete(&x.0, x.1, now),
                    r.model.complete(&y.0, y.1, now),
                ];
                match got {
                    Ok(g) if g.iter().map(outcome).eq(want.iter().map(outcome)) => {}
                    other => {
                        return Err(fail(
                            "model",
                            format!(
                                "step {step} {op:?}: the model answers {want:?}, the queue {other:?}"
                            ),
                        ));
                    }
                }
            }
        }
    }
    // The end state, entry by entry.
    for key in 0..8u8 {
        let k = format!("k{key}");
        let got = q
            .get(&k)
            .await
            .map_err(|e| fail("model", format!("final get {k}: {e}")))?;
        let got = r.map_info(got).map_err(|e| fail("model", e))?;
        if got != r.model.get(&k) {
            return Err(fail(
                "model",
                format!(
                    "final state of {k}: the model has {:?}, the queue {got:?}",
                    r.model.get(&k)
                ),
            ));
        }
    }
    Ok(())
}
