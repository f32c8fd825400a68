//! A shared deferral queue: many workers, on many machines, one queue, and
//! leases that survive a worker dying mid-attempt.
//!
//! [`DeferralQueue`](crate::queue::DeferralQueue) serves one process. A sender
//! that runs several workers against one store needs more: an entry handed to
//! a worker must not be handed to another while that worker holds it, and an
//! entry whose worker died must come back. [`SharedQueue`] is that contract:
//!
//! - **insert** an entry: a caller key (a message id, unique among the live
//!   entries of the queue), a due time, a [`Priority`] and the item's bytes
//!   (typically a small record pointing at the caller's spool);
//! - **claim** up to `n` due entries with a **lease**: each claim gets a fresh
//!   [`LeaseToken`] and an expiry `now + lease`; the order is the in-memory
//!   queues' order: highest priority first, then earliest due, then first
//!   inserted (an entry returned to waiting by defer, release or reap counts as
//!   inserted again);
//! - **complete** (delivered or bounced: remove it), **defer** (a failed
//!   attempt: wait again until a new due time), **release** (give it back
//!   untried) and **extend** the lease, each guarded by the claim's token:
//!   a worker whose lease expired, or whose entry was reaped and claimed by
//!   another, gets [`SharedQueueError::LeaseLost`] and changes nothing
//!   (fencing);
//! - **reap** expired leases: their entries wait again, due at once, with
//!   their attempt count kept;
//! - **cancel** and **reschedule** by key: an entry under a live lease answers
//!   [`SharedQueueError::Busy`] and never silently changes;
//! - **get** one entry and **stats** for monitoring.
//!
//! Time is the caller's `now`, as everywhere in the crate: a lease is live
//! while `now < expires`, an entry is due when `due <= now`, and nothing reads
//! the database's clock, so the whole contract runs in virtual time. Workers
//! on several machines pass their own clocks; keep them synchronised (NTP) to
//! well under the lease length.
//!
//! `attempts` counts the claims of an entry that were not released: a claim
//! adds one, [`release`](SharedQueue::release) takes it back, and
//! [`defer`](SharedQueue::defer), an expired lease and a reap keep it, so a
//! worker that crashed mid-attempt is counted as an attempt (the conservative
//! reading: the message may have been sent).
//!
//! The trait is async and runtime-agnostic (its futures are `Send`).
//! Implementations: [`MemorySharedQueue`] here (one process, over
//! [`WheelQueue`](crate::queue::WheelQueue)); PostgreSQL and Redis in the
//! workspace's adapter crates `tempfail-pg` and `tempfail-redis`. With the
//! `testing` feature, `conformance` is the suite all three pass; run it against
//! your own implementation.
//!
//! ```
//! use std::time::Duration;
//! use tempfail::shared_queue::{MemorySharedQueue, NewEntry, SharedQueue};
//! use tempfail::Timestamp;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let q = MemorySharedQueue::new();
//! let t0 = Timestamp::from_secs(1_700_000_000);
//! q.insert(NewEntry::new("msg-1", t0, 0, *b"spool/1")).await?;
//! q.insert(NewEntry::new("msg-2", t0, 9, *b"spool/2")).await?;
//!
//! let claims = q.claim(t0, 10, Duration::from_secs(60)).await?;
//! assert_eq!(claims[0].key, "msg-2"); // priority first
//! q.complete("msg-2", claims[0].token, t0).await?;
//! // msg-1 failed: try again in 5 minutes
//! q.defer("msg-1", claims[1].token, t0, t0 + Duration::from_secs(300)).await?;
//! // the old token no longer acts on it
//! assert!(q.complete("msg-1", claims[1].token, t0).await.is_err());
//! assert_eq!(q.get("msg-1").await?.unwrap().attempts, 1);
//! # Ok::<(), tempfail::shared_queue::SharedQueueError>(())
//! # }).unwrap();
//! ```

use core::fmt;
use core::future::Future;
use std::time::Duration;

use crate::Timestamp;
use crate::queue::Priority;

mod memory;
pub use memory::MemorySharedQueue;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod conformance;

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;
/// Most entries one [`claim`](SharedQueue::claim) may ask for.
pub const MAX_CLAIM: usize = 10_000;
/// Item size limit of an implementation unless configured otherwise (64 KiB):
/// an item is a pointer into the caller's spool, not the message.
pub const DEFAULT_MAX_ITEM_LEN: usize = 64 * 1024;

/// The token of one claim: unique among all claims a queue ever handed out,
/// so a worker holding an old token can never act on a later claim (fencing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct LeaseToken(pub u64);

impl fmt::Display for LeaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lease#{}", self.0)
    }
}

/// An entry to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The caller's key (a message id): unique among the queue's live entries,
    /// 1 to [`MAX_KEY_LEN`] bytes, no NUL.
    pub key: String,
    /// When it becomes claimable.
    pub due: Timestamp,
    /// Higher is more urgent; orders due entries only.
    pub priority: Priority,
    /// The caller's bytes, returned with each claim.
    pub item: Vec<u8>,
}

impl NewEntry {
    /// An entry with this key, due time, priority and item.
    pub fn new(
        key: impl Into<String>,
        due: Timestamp,
        priority: Priority,
        item: impl Into<Vec<u8>>,
    ) -> Self {
        NewEntry {
            key: key.into(),
            due,
            priority,
            item: item.into(),
        }
    }
}

/// One claimed entry: the worker owns it until `lease_expires` or until it
/// completes, defers or releases it with `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The entry's key.
    pub key: String,
    /// The entry's bytes.
    pub item: Vec<u8>,
    /// The due time it was claimed at.
    pub due: Timestamp,
    /// Its priority.
    pub priority: Priority,
    /// Claims of this entry not released, this one included (so `1` on the
    /// first attempt).
    pub attempts: u32,
    /// The claim's token, for complete, defer, release and extend.
    pub token: LeaseToken,
    /// The lease ends here; after it the token acts on nothing.
    pub lease_expires: Timestamp,
}

/// Where an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    /// Waiting for its due time (or due and not yet claimed).
    Waiting,
    /// Claimed under this token until `expires` (an expired lease stays here
    /// until [`reap`](SharedQueue::reap) or a cancel returns it).
    Leased {
        /// The claim's token.
        token: LeaseToken,
        /// When the lease ends.
        expires: Timestamp,
    },
}

/// One entry as [`get`](SharedQueue::get) reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// Its key.
    pub key: String,
    /// Its due time.
    pub due: Timestamp,
    /// Its priority.
    pub priority: Priority,
    /// Claims not released.
    pub attempts: u32,
    /// Waiting or leased.
    pub state: EntryState,
    /// Its bytes.
    pub item: Vec<u8>,
}

/// What a monitoring page shows about a shared queue at `now`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SharedStats {
    /// Entries in the queue, waiting or leased.
    pub len: u64,
    /// `(priority, entries)` for every priority that has entries, most urgent
    /// first.
    pub by_priority: Vec<(Priority, u64)>,
    /// Waiting entries whose due time is at or before `now` (claimable now).
    pub due_now: u64,
    /// Entries under a lease, live or expired.
    pub leased: u64,
    /// Leases that ended at or before `now` and wait for a reap.
    pub expired_leases: u64,
    /// How long the oldest claimable entry has been due (`now - due`); `None`
    /// when nothing is claimable.
    pub oldest_due_age: Option<Duration>,
}

/// What went wrong with a shared-queue operation.
///
/// The first group is the contract's answers (a stale token, a busy entry);
/// the second is misuse (a bad key, an oversized item); the third is the store
/// (schema, connection, server).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SharedQueueError {
    /// `insert` with a key whose entry is still in the queue.
    #[error("duplicate key {0:?}: an entry with this key is still queued")]
    DuplicateKey(String),
    /// No entry has this key.
    #[error("unknown key {0:?}: no entry with this key is queued")]
    NotFound(String),
    /// The entry is under a live lease: cancel and reschedule refuse to change
    /// it until the lease ends or its worker gives it back.
    #[error("entry {0:?} is busy: a worker holds a live lease on it")]
    Busy(String),
    /// The token does not hold this entry any more (its lease expired, was
    /// reaped, or the entry was completed, deferred, released or claimed again).
    #[error("lease lost on {key:?}: {token} no longer holds this entry")]
    LeaseLost {
        /// The entry's key.
        key: String,
        /// The token that was refused.
        token: LeaseToken,
    },
    /// The key is empty, longer than [`MAX_KEY_LEN`] bytes or contains NUL.
    #[error("invalid key: expected 1 to 255 bytes without NUL, got {0}")]
    InvalidKey(String),
    /// The item is larger than the queue accepts.
    #[error("item too large: {len} bytes, this queue accepts at most {max}")]
    ItemTooLarge {
        /// The item's length.
        len: usize,
        /// The queue's limit.
        max: usize,
    },
    /// An argument outside its range (`max` of 0 or above [`MAX_CLAIM`], a zero
    /// lease).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// The store's schema is of another version than this crate's.
    #[error(
        "schema version mismatch: the store has version {found}, this crate expects {expected}"
    )]
    SchemaVersion {
        /// The version found in the store.
        found: i64,
        /// The version this crate writes.
        expected: i64,
    },
    /// The queue's table or keys do not exist (not created, or dropped).
    #[error("queue storage missing: {0}")]
    MissingStorage(String),
    /// The server could not be reached or the connection broke.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Any other error the store reported.
    #[error("store error: {0}")]
    Backend(String),
}

/// Checks a key against the contract.
pub fn validate_key(key: &str) -> Result<(), SharedQueueError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || key.contains('\0') {
        let shown: String = key.chars().take(40).collect();
        return Err(SharedQueueError::InvalidKey(format!(
            "{} bytes ({shown:?}{})",
            key.len(),
            if shown.len() < key.len() { "…" } else { "" }
        )));
    }
    Ok(())
}

/// Checks a claim's `max` and `lease` against the contract.
pub fn validate_claim(max: usize, lease: Duration) -> Result<(), SharedQueueError> {
    if max == 0 || max > MAX_CLAIM {
        return Err(SharedQueueError::InvalidArgument(
            "claim max must be 1 to 10000",
        ));
    }
    if lease.as_millis() == 0 {
        return Err(SharedQueueError::InvalidArgument(
            "lease must be at least 1 ms",
        ));
    }
    Ok(())
}

/// A deferral queue shared by many workers, with leases and fencing tokens.
/// See the [module documentation](self) for the contract; `conformance`
/// (feature `testing`) checks it.
///
/// Every method takes `&self` (implementations synchronise inside) and returns
/// a `Send` future, so one queue value can be shared by tasks on a
/// multi-threaded runtime.
pub trait SharedQueue: Send + Sync {
    /// The largest item this queue accepts, in bytes.
    fn max_item_len(&self) -> usize;

    /// Inserts an entry. [`SharedQueueError::DuplicateKey`] if an entry with
    /// this key is queued (waiting or leased).
    fn insert(&self, entry: NewEntry) -> impl Future<Output = Result<(), SharedQueueError>> + Send;

    /// Claims up to `max` waiting entries due at `now`, in order (priority,
    /// due, insertion), each under a new lease ending at `now + lease`. Never
    /// returns more than `max`, never an entry under a lease, live or expired.
    fn claim(
        &self,
        now: Timestamp,
        max: usize,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<Claim>, SharedQueueError>> + Send;

    /// Removes a claimed entry (delivered, bounced, given up).
    fn complete(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), SharedQueueError>> + Send;

    /// Completes several claimed entries; one result per `(key, token)`, in
    /// order, each exactly what [`complete`](Self::complete) would answer
    /// called in turn (a pair listed twice answers `lease_lost` the second
    /// time).
    /// The outer error is the store's (nothing is known to have changed for
    /// the entries without a result). Stores override it to save round trips.
    fn complete_batch(
        &self,
        done: &[(&str, LeaseToken)],
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<Result<(), SharedQueueError>>, SharedQueueError>> + Send
    {
        async move {
            let mut out = Vec::with_capacity(done.len());
            for &(key, token) in done {
                match self.complete(key, token, now).await {
                    Err(
                        e @ (SharedQueueError::Unavailable(_)
                        | SharedQueueError::Backend(_)
                        | SharedQueueError::MissingStorage(_)
                        | SharedQueueError::SchemaVersion { .. }),
                    ) => return Err(e),
                    r => out.push(r),
                }
            }
            Ok(out)
        }
    }

    /// Returns a claimed entry to waiting until `due` after a failed attempt;
    /// its attempt count is kept.
    fn defer(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        due: Timestamp,
    ) -> impl Future<Output = Result<(), SharedQueueError>> + Send;

    /// Returns a claimed entry untried: waiting again with its due time, and
    /// this claim not counted as an attempt.
    fn release(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), SharedQueueError>> + Send;

    /// Extends a live lease to `now + lease`; returns the new expiry.
    fn extend(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        lease: Duration,
    ) -> impl Future<Output = Result<Timestamp, SharedQueueError>> + Send;

    /// Returns every entry whose lease ended at or before `now` to waiting,
    /// with its due time and attempt count kept (so it is due at once).
    /// Returns how many it reaped.
    fn reap(&self, now: Timestamp) -> impl Future<Output = Result<u64, SharedQueueError>> + Send;

    /// Removes a waiting entry (or one whose lease ended before `now`) and
    /// returns its bytes; [`SharedQueueError::Busy`] under a live lease.
    fn cancel(
        &self,
        key: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<u8>, SharedQueueError>> + Send;

    /// Moves a waiting entry to a new due time and priority, keeping its
    /// insertion order; [`SharedQueueError::Busy`] under a live lease. An entry
    /// whose lease ended before `now` is returned to waiting first.
    fn reschedule(
        &self,
        key: &str,
        now: Timestamp,
        due: Timestamp,
        priority: Priority,
    ) -> impl Future<Output = Result<(), SharedQueueError>> + Send;

    /// Reads one entry, or `None`.
    fn get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<EntryInfo>, SharedQueueError>> + Send;

    /// Counts for monitoring at `now`.
    fn stats(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<SharedStats, SharedQueueError>> + Send;
}
