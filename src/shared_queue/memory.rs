//! The in-memory [`SharedQueue`]: a [`WheelQueue`] of waiting keys, a map of
//! entries and an index of leases by expiry, behind one mutex.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::{
    Claim, DEFAULT_MAX_ITEM_LEN, EntryInfo, EntryState, LeaseToken, NewEntry, SharedQueue,
    SharedQueueError, SharedStats, validate_claim, validate_key,
};
use crate::Timestamp;
use crate::queue::{DeferralQueue, Handle, Priority, WheelQueue};

/// The in-memory [`SharedQueue`]: the same contract as the PostgreSQL and
/// Redis adapters, for tests and for one machine (workers are tasks or threads
/// sharing one value, e.g. in an `Arc`).
///
/// Waiting entries live in a [`WheelQueue`], so claims follow its order and
/// cost; leases are indexed by expiry, so a reap touches only expired ones.
/// Its clock is the wheel's: a `now` earlier than one already seen by a claim
/// or stats is clamped for the due-time gate (lease checks use the `now`
/// given). Nothing survives the process.
pub struct MemorySharedQueue {
    inner: Mutex<Inner>,
    max_item_len: usize,
}

struct Inner {
    waiting: WheelQueue<String>,
    entries: HashMap<String, Slot>,
    /// `(expires, token) -> key` for every leased entry.
    leases: BTreeMap<(Timestamp, u64), String>,
    next_token: u64,
}

struct Slot {
    due: Timestamp,
    priority: Priority,
    attempts: u32,
    item: Vec<u8>,
    state: SlotState,
}

#[derive(Clone, Copy)]
enum SlotState {
    Waiting(Handle),
    Leased { token: u64, expires: Timestamp },
}

impl Default for MemorySharedQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for MemorySharedQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let inner = self.lock();
        f.debug_struct("MemorySharedQueue")
            .field("entries", &inner.entries.len())
            .field("leased", &inner.leases.len())
            .field("max_item_len", &self.max_item_len)
            .finish()
    }
}

impl MemorySharedQueue {
    /// An empty queue accepting items up to [`DEFAULT_MAX_ITEM_LEN`] bytes.
    pub fn new() -> Self {
        Self::with_max_item_len(DEFAULT_MAX_ITEM_LEN)
    }

    /// An empty queue accepting items up to `max_item_len` bytes.
    pub fn with_max_item_len(max_item_len: usize) -> Self {
        MemorySharedQueue {
            inner: Mutex::new(Inner {
                waiting: WheelQueue::new(),
                entries: HashMap::new(),
                leases: BTreeMap::new(),
                next_token: 1,
            }),
            max_item_len,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in another thread cannot leave `Inner` half-changed in a way
        // that breaks the contract worse than losing the queue would.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert_now(&self, entry: NewEntry) -> Result<(), SharedQueueError> {
        validate_key(&entry.key)?;
        if entry.item.len() > self.max_item_len {
            return Err(SharedQueueError::ItemTooLarge {
                len: entry.item.len(),
                max: self.max_item_len,
            });
        }
        let mut inner = self.lock();
        if inner.entries.contains_key(&entry.key) {
            return Err(SharedQueueError::DuplicateKey(entry.key));
        }
        let handle = inner
            .waiting
            .insert(entry.key.clone(), entry.due, entry.priority)
            .map_err(|e| SharedQueueError::Backend(e.to_string()))?;
        inner.entries.insert(
            entry.key,
            Slot {
                due: entry.due,
                priority: entry.priority,
                attempts: 0,
                item: entry.item,
                state: SlotState::Waiting(handle),
            },
        );
        Ok(())
    }

    fn claim_now(
        &self,
        now: Timestamp,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, SharedQueueError> {
        validate_claim(max, lease)?;
        let expires = now.saturating_add(lease);
        let mut inner = self.lock();
        let inner = &mut *inner;
        let mut out = Vec::new();
        while out.len() < max {
            let Some(popped) = inner.waiting.pop_due(now) else {
                break;
            };
            let Some(slot) = inner.entries.get_mut(&popped.item) else {
                continue; // unreachable by construction; skipping is the safe answer
            };
            let token = inner.next_token;
            inner.next_token = inner.next_token.saturating_add(1);
            slot.attempts = slot.attempts.saturating_add(1);
            slot.state = SlotState::Leased { token, expires };
            out.push(Claim {
                key: popped.item.clone(),
                item: slot.item.clone(),
                due: slot.due,
                priority: slot.priority,
                attempts: slot.attempts,
                token: LeaseToken(token),
                lease_expires: expires,
            });
            inner.leases.insert((expires, token), popped.item);
        }
        Ok(out)
    }
}

impl Inner {
    /// The slot `token` holds at `now`, or `LeaseLost`.
    fn held(
        &mut self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<&mut Slot, SharedQueueError> {
        match self.entries.get_mut(key) {
            Some(slot)
                if matches!(slot.state, SlotState::Leased { token: t, expires }
                    if t == token.0 && now < expires) =>
            {
                Ok(slot)
            }
            _ => Err(SharedQueueError::LeaseLost {
                key: key.to_owned(),
                token,
            }),
        }
    }

    /// Ends the lease of `key` (which must be leased) and returns it to
    /// waiting at `due` with `priority`.
    fn requeue(&mut self, key: &str, due: Timestamp, priority: Priority) {
        let Some(slot) = self.entries.get_mut(key) else {
            return;
        };
        if let SlotState::Leased { token, expires } = slot.state {
            self.leases.remove(&(expires, token));
        }
        match self.waiting.insert(key.to_owned(), due, priority) {
            Ok(handle) => {
                slot.due = due;
                slot.priority = priority;
                slot.state = SlotState::Waiting(handle);
            }
            // The wheel is full (billions of entries): drop the lease index
            // entry but keep the slot leased-expired so a later reap retries.
            Err(_) => {
                if let SlotState::Leased { token, expires } = slot.state {
                    self.leases.insert((expires, token), key.to_owned());
                }
            }
        }
    }

    /// The state of `key` if no live lease holds it at `now`: `NotFound` for an
    /// unknown key, `Busy` under a live lease.
    fn unleased_state(&self, key: &str, now: Timestamp) -> Result<SlotState, SharedQueueError> {
        match self.entries.get(key).map(|slot| slot.state) {
            None => Err(SharedQueueError::NotFound(key.to_owned())),
            Some(SlotState::Leased { expires, .. }) if now < expires => {
                Err(SharedQueueError::Busy(key.to_owned()))
            }
            Some(state) => Ok(state),
        }
    }

    /// Removes `key` if it is waiting or its lease ended at `now`.
    fn remove_unleased(&mut self, key: &str, now: Timestamp) -> Result<Slot, SharedQueueError> {
        match self.unleased_state(key, now)? {
            SlotState::Leased { token, expires } => {
                self.leases.remove(&(expires, token));
            }
            // Ignoring a stale handle is safe: the slot is removed either way.
            SlotState::Waiting(handle) => {
                let _ = self.waiting.cancel(handle);
            }
        }
        self.entries
            .remove(key)
            .ok_or_else(|| SharedQueueError::NotFound(key.to_owned()))
    }
}

impl SharedQueue for MemorySharedQueue {
    fn max_item_len(&self) -> usize {
        self.max_item_len
    }

    async fn insert(&self, entry: NewEntry) -> Result<(), SharedQueueError> {
        self.insert_now(entry)
    }

    async fn claim(
        &self,
        now: Timestamp,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, SharedQueueError> {
        self.claim_now(now, max, lease)
    }

    async fn complete(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        let mut inner = self.lock();
        inner.held(key, token, now)?;
        if let Some(Slot {
            state: SlotState::Leased { token, expires },
            ..
        }) = inner.entries.remove(key)
        {
            inner.leases.remove(&(expires, token));
        }
        Ok(())
    }

    async fn defer(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        due: Timestamp,
    ) -> Result<(), SharedQueueError> {
        let mut inner = self.lock();
        let priority = inner.held(key, token, now)?.priority;
        inner.requeue(key, due, priority);
        Ok(())
    }

    async fn release(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        let mut inner = self.lock();
        let slot = inner.held(key, token, now)?;
        slot.attempts = slot.attempts.saturating_sub(1);
        let (due, priority) = (slot.due, slot.priority);
        inner.requeue(key, due, priority);
        Ok(())
    }

    async fn extend(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Timestamp, SharedQueueError> {
        validate_claim(1, lease)?;
        let mut inner = self.lock();
        let slot = inner.held(key, token, now)?;
        let SlotState::Leased { expires: old, .. } = slot.state else {
            return Err(SharedQueueError::LeaseLost {
                key: key.to_owned(),
                token,
            });
        };
        let expires = now.saturating_add(lease);
        slot.state = SlotState::Leased {
            token: token.0,
            expires,
        };
        inner.leases.remove(&(old, token.0));
        inner.leases.insert((expires, token.0), key.to_owned());
        Ok(expires)
    }

    async fn reap(&self, now: Timestamp) -> Result<u64, SharedQueueError> {
        let mut inner = self.lock();
        let expired: Vec<String> = inner
            .leases
            .range(..=(now, u64::MAX))
            .map(|(_, key)| key.clone())
            .collect();
        let mut reaped = 0u64;
        for key in expired {
            if let Some((due, priority)) = inner.entries.get(&key).map(|s| (s.due, s.priority)) {
                inner.requeue(&key, due, priority);
                reaped = reaped.saturating_add(1);
            }
        }
        Ok(reaped)
    }

    async fn cancel(&self, key: &str, now: Timestamp) -> Result<Vec<u8>, SharedQueueError> {
        Ok(self.lock().remove_unleased(key, now)?.item)
    }

    async fn reschedule(
        &self,
        key: &str,
        now: Timestamp,
        due: Timestamp,
        priority: Priority,
    ) -> Result<(), SharedQueueError> {
        let mut inner = self.lock();
        match inner.unleased_state(key, now)? {
            SlotState::Leased { .. } => {
                inner.requeue(key, due, priority);
                Ok(())
            }
            SlotState::Waiting(handle) => {
                inner
                    .waiting
                    .reschedule(handle, due, Some(priority))
                    .map_err(|e| SharedQueueError::Backend(e.to_string()))?;
                if let Some(slot) = inner.entries.get_mut(key) {
                    slot.due = due;
                    slot.priority = priority;
                }
                Ok(())
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Option<EntryInfo>, SharedQueueError> {
        let inner = self.lock();
        Ok(inner.entries.get(key).map(|slot| EntryInfo {
            key: key.to_owned(),
            due: slot.due,
            priority: slot.priority,
            attempts: slot.attempts,
            state: match slot.state {
                SlotState::Waiting(_) => EntryState::Waiting,
                SlotState::Leased { token, expires } => EntryState::Leased {
                    token: LeaseToken(token),
                    expires,
                },
            },
            item: slot.item.clone(),
        }))
    }

    async fn stats(&self, now: Timestamp) -> Result<SharedStats, SharedQueueError> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let waiting = inner.waiting.stats(now);
        let mut by_priority: BTreeMap<Priority, u64> = waiting
            .by_priority
            .iter()
            .map(|&(p, n)| (p, n as u64))
            .collect();
        for key in inner.leases.values() {
            if let Some(slot) = inner.entries.get(key) {
                *by_priority.entry(slot.priority).or_default() += 1;
            }
        }
        Ok(SharedStats {
            len: inner.entries.len() as u64,
            by_priority: by_priority.into_iter().rev().collect(),
            due_now: waiting.due_now as u64,
            leased: inner.leases.len() as u64,
            expired_leases: inner.leases.range(..=(now, u64::MAX)).count() as u64,
            oldest_due_age: waiting.oldest_due_age,
        })
    }
}
