//! Section: several workers sharing one queue; one dies holding a lease, its
//! mail comes back, and its stale token no longer acts.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::time::Duration;

use tempfail::Timestamp;
use tempfail::shared_queue::{
    MemorySharedQueue, NewEntry, SharedQueue, SharedQueueError, SharedStats,
};

/// The in-memory queue's futures finish on their first poll; a real program
/// awaits them on its runtime (the PostgreSQL and Redis queues need one).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn stats(q: &MemorySharedQueue, now: Timestamp) -> String {
    match ready(q.stats(now)) {
        Ok(SharedStats {
            len,
            leased,
            expired_leases,
            due_now,
            ..
        }) => format!(
            "queue: {len} entries, {due_now} due, {leased} leased ({expired_leases} expired)"
        ),
        Err(e) => format!("queue: {e}"),
    }
}

pub fn show() {
    crate::heading("Many workers, one queue");
    if let Err(e) = run() {
        println!("unexpected: {e}");
    }
}

fn run() -> Result<(), SharedQueueError> {
    let q = MemorySharedQueue::new();
    let t0 = Timestamp::from_secs(1_700_000_000);
    let secs = |s: u64| t0 + Duration::from_secs(s);
    for (key, prio) in [("msg-a", 0), ("msg-b", 5), ("msg-c", 0), ("msg-d", 0)] {
        ready(q.insert(NewEntry::new(key, t0, prio, format!("spool/{key}"))))?;
    }
    let lease = Duration::from_secs(60);
    let a = ready(q.claim(t0, 3, lease))?;
    let b = ready(q.claim(t0, 3, lease))?;
    let keys = |c: &[tempfail::shared_queue::Claim]| {
        c.iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "+0 s   worker A claims [{}] (priority first), lease 60 s",
        keys(&a)
    );
    println!(
        "+0 s   worker B claims [{}]: never an entry A holds",
        keys(&b)
    );
    if let Some(first) = a.first() {
        ready(q.complete(&first.key, first.token, secs(2)))?;
        println!("+2 s   worker A delivers {} and completes it", first.key);
    }
    println!(
        "+3 s   worker A dies holding the rest ({})",
        stats(&q, secs(3))
    );
    for c in &b {
        ready(q.defer(&c.key, c.token, secs(5), secs(300)))?;
        println!("+5 s   worker B: {} greylisted, deferred to +300 s", c.key);
    }
    println!(
        "+59 s  B finds nothing to claim; reap returns {} entries",
        ready(q.reap(secs(59)))?
    );
    println!(
        "+60 s  A's lease ends; reap returns {} entries",
        ready(q.reap(secs(60)))?
    );
    for c in ready(q.claim(secs(60), 10, lease))? {
        println!(
            "+60 s  worker B claims {} (attempt {}: the crash counts)",
            c.key, c.attempts
        );
        ready(q.complete(&c.key, c.token, secs(61)))?;
    }
    if let Some(stale) = a.get(1) {
        match ready(q.complete(&stale.key, stale.token, secs(62))) {
            Err(SharedQueueError::LeaseLost { .. }) => println!(
                "+62 s  worker A wakes up and completes {}: refused, lease_lost (its token is stale)",
                stale.key
            ),
            other => println!("+62 s  unexpected answer to a stale token: {other:?}"),
        }
    }
    if let Some(c) = b.first() {
        match ready(q.cancel(&c.key, secs(62))) {
            Ok(_) => println!("+62 s  operator cancels {} (waiting, so it goes)", c.key),
            Err(e) => println!("+62 s  cancel {}: {e}", c.key),
        }
    }
    println!("+62 s  {}", stats(&q, secs(62)));
    Ok(())
}
