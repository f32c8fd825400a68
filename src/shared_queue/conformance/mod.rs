//! The public conformance suite for [`SharedQueue`] implementations (feature
//! `testing`).
//!
//! [`MemorySharedQueue`](super::MemorySharedQueue), the PostgreSQL adapter and
//! the Redis adapter all pass it; run it against your own implementation. Every
//! check returns a [`Failure`] naming what broke instead of panicking.
//!
//! - [`run_all`] runs every hand-written check and a set of model-based
//!   sequences, each on a fresh queue from your factory (whose
//!   `max_item_len` must be at least 64 bytes).
//! - [`check_ops`] replays an [`Op`] sequence on the queue under test and on
//!   [`Model`], a trivially correct shared queue, and compares every answer.
//!   [`ops_from_bytes`] turns any bytes into a sequence, so a property test or a
//!   fuzzer drives it (`proptest::collection::vec(any::<u8>(), 0..300)`).
//! - [`check_concurrent`] runs many workers at once in virtual time and checks
//!   that no entry is ever held by two live leases, nothing is lost and a
//!   worker killed mid-batch has its entries reaped; [`stress`] is the same
//!   harness on a real clock, with throughput.
//!
//! The suite is async and runtime-agnostic: it only awaits the queue's
//! futures, and takes a `spawn` function where it runs workers in parallel.
//!
//! ```
//! use tempfail::shared_queue::{MemorySharedQueue, conformance};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! conformance::run_all(|| async { MemorySharedQueue::new() }).await.unwrap();
//! # });
//! ```

use core::future::Future;
use std::time::Duration;

use super::{Claim, EntryState, LeaseToken, NewEntry, SharedQueue, SharedQueueError, SharedStats};
use crate::Timestamp;

pub use crate::queue::conformance::Failure;

mod model;
pub mod stress;

pub use model::{Model, Op, check_ops, ops_from_bytes};
pub use stress::{
    Clock, Spawn, StressConfig, StressReport, VirtualClock, WorkerFuture, check_concurrent,
};

pub(crate) fn fail(check: &'static str, detail: impl Into<String>) -> Failure {
    Failure {
        check,
        detail: detail.into(),
    }
}

macro_rules! ensure_eq {
    ($check:expr, $got:expr, $want:expr, $($ctx:tt)+) => {{
        match (&$got, &$want) {
            (got, want) => {
                if got != want {
                    return Err(fail($check, format!("{}: expected {:?}, got {:?}", format!($($ctx)+), want, got)));
                }
            }
        }
    }};
}

/// The contract's name for an error: its variant in snake_case
/// (`lease_lost`, `busy`, …). Errors are compared by kind, never by text.
pub fn error_kind(e: &SharedQueueError) -> &'static str {
    match e {
        SharedQueueError::DuplicateKey(_) => "duplicate_key",
        SharedQueueError::NotFound(_) => "not_found",
        SharedQueueError::Busy(_) => "busy",
        SharedQueueError::LeaseLost { .. } => "lease_lost",
        SharedQueueError::InvalidKey(_) => "invalid_key",
        SharedQueueError::ItemTooLarge { .. } => "item_too_large",
        SharedQueueError::InvalidArgument(_) => "invalid_argument",
        SharedQueueError::SchemaVersion { .. } => "schema_version",
        SharedQueueError::MissingStorage(_) => "missing_storage",
        SharedQueueError::Unavailable(_) => "unavailable",
        SharedQueueError::Backend(_) => "backend",
    }
}

/// `Ok` → `"ok"`, an error → its [`error_kind`].
fn outcome<T>(r: &Result<T, SharedQueueError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => error_kind(e),
    }
}

fn store<T>(check: &'static str, r: Result<T, SharedQueueError>) -> Result<T, Failure> {
    r.map_err(|e| fail(check, format!("unexpected error: {e}")))
}

fn expect_err<T: core::fmt::Debug>(
    check: &'static str,
    r: Result<T, SharedQueueError>,
    kind: &'static str,
    what: &str,
) -> Result<(), Failure> {
    match r {
        Err(e) if error_kind(&e) == kind => Ok(()),
        other => Err(fail(
            check,
            format!("{what}: expected {kind}, got {other:?}"),
        )),
    }
}

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);
const MIN: Duration = Duration::from_secs(60);

fn at(ms: u64) -> Timestamp {
    T0.saturating_add(Duration::from_millis(ms))
}

fn keys(claims: &[Claim]) -> Vec<&str> {
    claims.iter().map(|c| c.key.as_str()).collect()
}

/// Claim order: priority first, then due, then insertion; the due-time gate;
/// `max` respected; items, attempts and lease expiry returned.
pub async fn claim_order<Q: SharedQueue>(q: &Q) -> Result<(), Failure> {
    const C: &str = "claim_order";
    for (key, due, prio) in [
        ("late-urgent", 50, 9),
        ("a-bulk", 0, 0),
        ("b-bulk", 0, 0),
        ("urgent", 10, 9),
        ("early-bulk", 0, 0),
        ("future", 10_000, 255),
    ] {
        store(
            C,
            q.insert(NewEntry::new(key, at(due), prio, key.as_bytes()))
                .await,
        )?;
    }
    // Insertion order among equal (priority, due): a-bulk, b-bulk, early-bulk.
    ensure_eq!(
        C,
        keys(&store(
            C,
            q.claim(at(0).saturating_sub(MIN), 10, MIN).await
        )?),
        Vec::<&str>::new(),
        "claim before anything is due"
    );
    let first = store(C, q.claim(at(100), 2, MIN).await)?;
    ensure_eq!(
        C,
        keys(&first),
        vec!["urgent", "late-urgent"],
        "max 2 at +100 ms"
    );
    let c = &first[0];
    ensure_eq!(C, c.item, b"urgent".to_vec(), "claimed item");
    ensure_eq!(
        C,
        (c.attempts, c.priority, c.due),
        (1, 9, at(10)),
        "claim fields"
    );
    ensure_eq!(
        C,
        c.lease_expires,
        at(100).saturating_add(MIN),
        "lease expiry"
    );
    if first[0].token == first[1].token {
        return Err(fail(C, "two claims got the same token"));
    }
    let rest = store(C, q.claim(at(100), 10, MIN).await)?;
    ensure_eq!(
        C,
        keys(&rest),
        vec!["a-bulk", "b-bulk", "early-bulk"],
        "the rest at +100 ms (insertion order among equal due and priority)"
    );
    ensure_eq!(
        C,
        keys(&store(C, q.claim(at(100), 10, MIN).await)?),
        Vec::<&str>::new(),
        "leased entries are never claimed again"
    );
    let future = store(C, q.claim(at(10_000), 10, MIN).await)?;
    ensure_eq!(
        C,
        keys(&future),
        vec!["future"],
        "claim exactly at its due time"
    );
    Ok(())
}

/// Fencing: a wrong, expired, completed or superseded token changes nothing.
pub async fn fencing<Q: SharedQueue>(q: &Q) -> Result<(), Failure> {
    const C: &str = "fencing";
    store(C, q.insert(NewEntry::new("m", at(0), 0, *b"x")).await)?;
    let c1 = store(C, q.claim(at(0), 1, MIN).await)?;
    let Some(c1) = c1.into_iter().next() else {
        return Err(fail(C, "nothing claimed"));
    };
    let wrong = LeaseToken(c1.token.0 ^ 0x5555_5555);
    expect_err(
        C,
        q.complete("m", wrong, at(1)).await,
        "lease_lost",
        "wrong token",
    )?;
    expect_err(
        C,
        q.complete("other", c1.token, at(1)).await,
        "lease_lost",
        "other key",
    )?;
    let late = c1.lease_expires;
    expect_err(
        C,
        q.complete("m", c1.token, late).await,
        "lease_lost",
        "complete at expiry",
    )?;
    expect_err(
        C,
        q.defer("m", c1.token, late, late).await,
        "lease_lost",
        "defer at expiry",
    )?;
    expect_err(
        C,
        q.release("m", c1.token, late).await,
        "lease_lost",
        "release at expiry",
    )?;
    expect_err(
        C,
        q.extend("m", c1.token, late, MIN).await,
        "lease_lost",
        "extend at expiry",
    )?;
    // The entry is still leased (expired) until a reap: not claimable.
    ensure_eq!(
        C,
        store(C, q.claim(late, 5, MIN).await)?.len(),
        0,
        "claim of an expired, unreaped lease"
    );
    ensure_eq!(C, store(C, q.reap(late).await)?, 1, "reap at expiry");
    let c2 = store(C, q.claim(late, 1, MIN).await)?;
    let Some(c2) = c2.into_iter().next() else {
        return Err(fail(C, "reaped entry not claimable"));
    };
    ensure_eq!(C, c2.attempts, 2, "attempts after a reap and a new claim");
    if c2.token == c1.token {
        return Err(fail(C, "a new claim reused the old token"));
    }
    expect_err(
        C,
        q.complete("m", c1.token, late).await,
        "lease_lost",
        "the stale token after a new claim",
    )?;
    store(C, q.complete("m", c2.token, late).await)?;
    expect_err(
        C,
        q.complete("m", c2.token, late).await,
        "lease_lost",
        "complete twice",
    )?;
    ensure_eq!(C, store(C, q.get("m").await)?, None, "completed entry");
    Ok(())
}

/// Attempts: +1 per claim, −1 on release, kept by defer and reap; defer moves
/// the due time; extend moves the lease.
pub async fn attempts_and_leases<Q: SharedQueue>(q: &Q) -> Result<(), Failure> {
    const C: &str = "attempts_and_leases";
    store(C, q.insert(NewEntry::new("m", at(0), 3, *b"i")).await)?;
    let tok = |v: Vec<Claim>| v.into_iter().next().map(|c| (c.token, c.attempts));
    let Some((t1, a1)) = tok(store(C, q.claim(at(0), 1, MIN).await)?) else {
        return Err(fail(C, "first claim empty"));
    };
    ensure_eq!(C, a1, 1, "attempts on the first claim");
    store(C, q.release("m", t1, at(1)).await)?;
    let info = store(C, q.get("m").await)?;
    ensure_eq!(
        C,
        info.map(|i| (i.attempts, i.state, i.due, i.priority)),
        Some((0, EntryState::Waiting, at(0), 3)),
        "after release"
    );
    let Some((t2, a2)) = tok(store(C, q.claim(at(2), 1, MIN).await)?) else {
        return Err(fail(C, "claim after release empty"));
    };
    ensure_eq!(C, a2, 1, "attempts after release and claim");
    let new_exp = store(C, q.extend("m", t2, at(30_000), MIN).await)?;
    ensure_eq!(
        C,
        new_exp,
        at(30_000).saturating_add(MIN),
        "extend's expiry"
    );
    // The old expiry (+62 s) has passed, the extended one (+90 s) has not.
    let mid = at(70_000);
    ensure_eq!(
        C,
        store(C, q.reap(mid).await)?,
        0,
        "reap before the extended expiry"
    );
    store(C, q.defer("m", t2, mid, at(200_000)).await)?;
    let info = store(C, q.get("m").await)?;
    ensure_eq!(
        C,
        info.map(|i| (i.attempts, i.state, i.due)),
        Some((1, EntryState::Waiting, at(200_000))),
        "after defer"
    );
    ensure_eq!(
        C,
        store(C, q.claim(at(199_999), 1, MIN).await)?.len(),
        0,
        "claim before the deferred due time"
    );
    let Some((_, a3)) = tok(store(C, q.claim(at(200_000), 1, MIN).await)?) else {
        return Err(fail(C, "claim at the deferred due time empty"));
    };
    ensure_eq!(C, a3, 2, "attempts after defer and claim");
    Ok(())
}

/// Cancel and reschedule: busy under a live lease, allowed once it ended,
/// not_found for unknown keys; reschedule keeps insertion order.
pub async fn cancel_and_reschedule<Q: SharedQueue>(q: &Q) -> Result<(), Failure> {
    const C: &str = "cancel_and_reschedule";
    for k in ["a", "b", "c", "d"] {
        store(
            C,
            q.insert(NewEntry::new(k, at(1_000), 0, k.as_bytes())).await,
        )?;
    }
    expect_err(
        C,
        q.cancel("nope", at(0)).await,
        "not_found",
        "cancel unknown",
    )?;
    expect_err(
        C,
        q.reschedule("nope", at(0), at(0), 0).await,
        "not_found",
        "reschedule unknown",
    )?;
    ensure_eq!(
        C,
        store(C, q.cancel("b", at(0)).await)?,
        b"b".to_vec(),
        "cancelled item"
    );
    ensure_eq!(C, store(C, q.get("b").await)?, None, "cancelled entry");
    // Reschedule "a" later, then back: it keeps its place before "c".
    store(C, q.reschedule("a", at(0), at(5_000), 0).await)?;
    ensure_eq!(
        C,
        store(C, q.get("a").await)?.map(|i| i.due),
        Some(at(5_000)),
        "rescheduled due"
    );
    store(C, q.reschedule("a", at(0), at(1_000), 0).await)?;
    let got = store(C, q.claim(at(1_000), 1, MIN).await)?;
    ensure_eq!(
        C,
        keys(&got),
        vec!["a"],
        "rescheduled entry keeps its insertion order"
    );
    expect_err(
        C,
        q.cancel("a", at(1_001)).await,
        "busy",
        "cancel under a live lease",
    )?;
    expect_err(
        C,
        q.reschedule("a", at(1_001), at(0), 9).await,
        "busy",
        "reschedule under a live lease",
    )?;
    let info = store(C, q.get("a").await)?;
    if !matches!(
        info.as_ref().map(|i| i.state),
        Some(EntryState::Leased { .. })
    ) {
        return Err(fail(
            C,
            format!("a busy answer changed the entry: {info:?}"),
        ));
    }
    // Once the lease ended (not yet reaped), reschedule and cancel proceed.
    let ended = at(1_000).saturating_add(MIN);
    let far = ended.saturating_add(MIN * 60);
    store(C, q.reschedule("a", ended, far, 7).await)?;
    ensure_eq!(
        C,
        store(C, q.get("a").await)?.map(|i| (i.state, i.due, i.priority)),
        Some((EntryState::Waiting, far, 7)),
        "reschedule after the lease ended"
    );
    // Raise "d" above "c": priority change applies.
    store(C, q.reschedule("d", ended, at(1_000), 5).await)?;
    let got = store(C, q.claim(ended, 5, MIN).await)?;
    ensure_eq!(
        C,
        keys(&got),
        vec!["d", "c"],
        "reschedule to a higher priority"
    );
    let end2 = ended.saturating_add(MIN);
    ensure_eq!(
        C,
        store(C, q.cancel("c", end2).await)?,
        b"c".to_vec(),
        "cancel after the lease ended"
    );
    Ok(())
}

/// Misuse: duplicate keys, bad keys, oversized items, bad claim arguments.
pub async fn bad_inputs<Q: SharedQueue>(q: &Q) -> Result<(), Failure> {
    const C: &str = "bad_inputs";
    store(C, q.insert(NewEntry::new("k", at(0), 0, Vec::new())).await)?;
    expect_err(
        C,
        q.insert(NewEntry::new("k", at(9), 1, *b"x")).await,
        "duplicate_key",
        "same key again",
    )?;
    let claimed = store(C, q.claim(at(0), 1, MIN).await)?;
    expect_err(
        C,
        q.insert(NewEntry::new("k", at(9), 1, *b"x")).await,
        "duplicate_key",
        "same key while leased",
    )?;
    if let Some(c) = claimed.first() {
        store(C, q.complete("k", c.token, at(0)).await)?;
    }
    store(C, q.insert(NewEntry::new("k", at(9), 1, *b"again")).await)?;
    for bad in [
        String::new(),
        "x".repeat(super::MAX_KEY_LEN + 1),
        "a\0b".to_owned(),
    ] {
        expect_err(
            C,
            q.insert(NewEntry::new(bad.clone(), at(0), 0, Vec::new()))
                .await,
            "invalid_key",
            &format!("key of {} bytes", bad.len()),
        )?;
    }
    store(
        C,
        q.insert(NewEntry::new(
            "x".repeat(super::MAX_KEY_LEN),
            at(0),
            0,
            Vec::new(),
        ))
        .await,
    )?;
    store(
        C,
        q.insert(NewEntry::new("ключ-✉", at(0), 0, Vec::new()))
            .await,
    )?;
    let max = q.max_item_len();
    store(
        C,
        q.insert(NewEntry::new("big-ok", at(0), 0, vec![0xff; max]))
            .await,
    )?;
    ensure_eq!(
        C,
        store(C, q.get("big-ok").await)?.map(|i| i.item.len()),
        Some(max),
        "largest item round trip"
    );
    match q
        .insert(NewEntry::new("big", at(0), 0, vec![0; max + 1]))
        .await
    {
        Err(SharedQueueError::ItemTooLarge { len, max: m }) if len == max + 1 && m == max => {}
        other => {
            return Err(fail(
                C,
                format!("oversized item: expected item_too_large, got {other:?}"),
            ));
        }
    }
    expect_err(
        C,
        q.claim(at(0), 0, MIN).await,
        "invalid_argument",
        "claim max 0",
    )?;
    expect_err(
        C,
        q.claim(at(0), super::MAX_CLAIM + 1, MIN).await,
        "invalid_argument",
        "claim max too large",
    )?;
    expect_err(
        C,
        q.claim(at(0), 1, Duration::ZERO).await,
        "invalid_argument",
        "zero lease",
    )?;
    // Binary items survive exactly.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(max.min(256)).collect();
    store(
        C,
        q.insert(NewEntry::new("bin", at(0), 0, bytes.clone()))
            .await,
    )?;
    ensure_eq!(
        C,
        store(C, q.get("bin").await)?.map(|i| i.item),
        Some(bytes),
        "binary item"
    );
    Ok(())
}

/// Stats: counts by priority, due now, leased, expired leases, oldest due age.
pub async fn stats<Q: SharedQueue>(q: &Q) -> Result<(), Failure> {
    const C: &str = "stats";
    ensure_eq!(
        C,
        store(C, q.stats(at(0)).await)?,
        SharedStats::default(),
        "empty queue"
    );
    for (k, due, p) in [("a", 0, 1), ("b", 500, 1), ("c", 2_000, 9), ("d", 100, 0)] {
        store(C, q.insert(NewEntry::new(k, at(due), p, Vec::new())).await)?;
    }
    let leased = store(C, q.claim(at(100), 1, Duration::from_secs(1)).await)?; // "a"
    ensure_eq!(C, keys(&leased), vec!["a"], "claim");
    let s = store(C, q.stats(at(1_000)).await)?;
    let want = SharedStats {
        len: 4,
        by_priority: vec![(9, 1), (1, 2), (0, 1)],
        due_now: 2, // b and d
        leased: 1,
        expired_leases: 0,
        oldest_due_age: Some(Duration::from_millis(900)), // d, due at +100
    };
    ensure_eq!(C, s, want, "stats at +1 s");
    let s = store(C, q.stats(at(1_100)).await)?;
    ensure_eq!(
        C,
        (s.leased, s.expired_leases),
        (1, 1),
        "leased and expired at +1.1 s"
    );
    Ok(())
}

/// `complete_batch`: one answer per entry, in order.
pub async fn batch_complete<Q: SharedQueue>(q: &Q) -> Result<(), Failure> {
    const C: &str = "batch_complete";
    for k in ["a", "b", "c"] {
        store(C, q.insert(NewEntry::new(k, at(0), 0, Vec::new())).await)?;
    }
    let got = store(C, q.claim(at(0), 3, MIN).await)?;
    ensure_eq!(C, got.len(), 3, "claimed");
    let stale = LeaseToken(got[1].token.0.wrapping_add(1_000_000));
    let batch = [
        (got[0].key.as_str(), got[0].token),
        (got[1].key.as_str(), stale),
        ("missing", got[2].token),
        (got[2].key.as_str(), got[2].token),
    ];
    let res = store(C, q.complete_batch(&batch, at(1)).await)?;
    let kinds: Vec<&str> = res.iter().map(outcome).collect();
    ensure_eq!(
        C,
        kinds,
        vec!["ok", "lease_lost", "lease_lost", "ok"],
        "answers"
    );
    ensure_eq!(
        C,
        store(C, q.stats(at(1)).await)?.len,
        1,
        "left after the batch"
    );
    ensure_eq!(
        C,
        store(C, q.complete_batch(&[], at(1)).await)?.len(),
        0,
        "empty batch"
    );
    Ok(())
}

/// A crashed worker: its claims are never completed; after the lease they are
/// reaped with their attempt count kept, the stale tokens are refused, and
/// another worker completes them.
pub async fn crash<Q: SharedQueue>(q: &Q) -> Result<(), Failure> {
    const C: &str = "crash";
    for i in 0..6u8 {
        store(
            C,
            q.insert(NewEntry::new(format!("m{i}"), at(0), 0, vec![i]))
                .await,
        )?;
    }
    let lease = Duration::from_secs(30);
    let dead = store(C, q.claim(at(0), 4, lease).await)?; // the worker dies holding these
    let live = store(C, q.claim(at(1), 4, lease).await)?;
    ensure_eq!(C, (dead.len(), live.len()), (4, 2), "claims");
    for c in &live {
        store(C, q.complete(&c.key, c.token, at(2)).await)?;
    }
    ensure_eq!(
        C,
        store(C, q.reap(at(29_999)).await)?,
        0,
        "reap before the lease ends"
    );
    ensure_eq!(
        C,
        store(C, q.reap(at(30_000)).await)?,
        4,
        "reap at the lease's end"
    );
    ensure_eq!(C, store(C, q.reap(at(30_000)).await)?, 0, "reap twice");
    let again = store(C, q.claim(at(30_000), 10, lease).await)?;
    ensure_eq!(
        C,
        keys(&again),
        keys(&dead),
        "the dead worker's entries, in order"
    );
    for (old, new) in dead.iter().zip(&again) {
        ensure_eq!(
            C,
            new.attempts,
            2,
            "attempts of {} kept across the crash",
            new.key
        );
        ensure_eq!(C, new.item, old.item, "item of {}", new.key);
        expect_err(
            C,
            q.complete(&old.key, old.token, at(30_001)).await,
            "lease_lost",
            "the dead worker's token",
        )?;
        store(C, q.complete(&new.key, new.token, at(30_001)).await)?;
    }
    ensure_eq!(
        C,
        store(C, q.stats(at(30_001)).await)?.len,
        0,
        "all completed"
    );
    Ok(())
}

/// Runs every check, each on a fresh queue from `make`, then model-based
/// sequences ([`check_ops`]) and the concurrency check in virtual time
/// (workers polled together on the caller's task).
pub async fn run_all<Q, F, Fut>(mut make: F) -> Result<(), Failure>
where
    Q: SharedQueue + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Q>,
{
    claim_order(&make().await).await?;
    fencing(&make().await).await?;
    attempts_and_leases(&make().await).await?;
    cancel_and_reschedule(&make().await).await?;
    bad_inputs(&make().await).await?;
    stats(&make().await).await?;
    batch_complete(&make().await).await?;
    crash(&make().await).await?;
    for seed in 0..6u64 {
        let bytes: Vec<u8> = (0..240u64)
            .map(|i| {
                (crate::backoff::splitmix64(seed.wrapping_mul(1_000).wrapping_add(i)) & 0xff) as u8
            })
            .collect();
        check_ops(&make().await, &ops_from_bytes(&bytes)).await?;
    }
    let q = std::sync::Arc::new(make().await);
    let report = check_concurrent(q, 4, 200, true, stress::inline()).await?;
    if report.reaped == 0 {
        return Err(fail(
            "concurrent",
            "the killed worker's claims were never reaped",
        ));
    }
    Ok(())
}
