//! The shared-queue contract on the in-memory implementation: the public
//! conformance suite, model-based property sequences, many workers on a
//! multi-threaded runtime, and broken queues that the suite must catch.
#![cfg(feature = "testing")]

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tempfail::Timestamp;
use tempfail::queue::Priority;
use tempfail::shared_queue::conformance::{self, Spawn, StressConfig, VirtualClock, WorkerFuture};
use tempfail::shared_queue::{
    Claim, EntryInfo, LeaseToken, MemorySharedQueue, NewEntry, SharedQueue, SharedQueueError,
    SharedStats,
};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("runtime")
}

fn tokio_spawn() -> Spawn {
    Box::new(|w: WorkerFuture| {
        Box::pin(async move { tokio::spawn(w).await.map_err(|e| e.to_string()) })
    })
}

#[test]
fn memory_queue_passes_the_whole_suite() {
    rt().block_on(async {
        conformance::run_all(|| async { MemorySharedQueue::new() })
            .await
            .unwrap();
        conformance::run_all(|| async { MemorySharedQueue::with_max_item_len(64) })
            .await
            .unwrap();
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn memory_queue_matches_the_model(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let ops = conformance::ops_from_bytes(&bytes);
        let q = MemorySharedQueue::with_max_item_len(3);
        let r = tokio::runtime::Builder::new_current_thread().build().unwrap()
            .block_on(conformance::check_ops(&q, &ops));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

#[test]
fn many_workers_on_threads_never_share_a_live_lease() {
    rt().block_on(async {
        for kill in [false, true] {
            let q = Arc::new(MemorySharedQueue::new());
            let r = conformance::check_concurrent(Arc::clone(&q), 8, 5_000, kill, tokio_spawn())
                .await
                .unwrap();
            assert_eq!(
                (r.completed, r.lost, r.claimed_twice_while_leased),
                (5_000, 0, 0)
            );
            // Virtual time runs ahead while workers wait, so leases may also
            // expire without a death; a death must be reaped.
            assert!(
                !kill || r.reaped > 0,
                "the dead worker's entries were not reaped: {r:?}"
            );
        }
    });
}

#[test]
fn stress_report_is_the_documented_json_line() {
    rt().block_on(async {
        let q = Arc::new(MemorySharedQueue::new());
        let clock = Arc::new(VirtualClock::new(Timestamp::from_secs(1_700_000_000)));
        let mut cfg = StressConfig::new("memory", 3, 1_000);
        cfg.kill_one = true;
        cfg.idle_wait = Duration::from_millis(100);
        let r = conformance::stress::run(cfg, q, &conformance::stress::inline(), clock)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&r.json_line()).unwrap();
        for f in [
            "engine",
            "workers",
            "entries",
            "completed",
            "claimed_twice_while_leased",
            "lost",
            "reaped",
            "claims_per_sec",
            "wall_secs",
        ] {
            assert!(v.get(f).is_some(), "missing {f} in {}", r.json_line());
        }
        assert_eq!(v["engine"], "memory");
        assert_eq!(v["completed"], 1_000);
        assert_eq!(v["lost"], 0);
        assert!(v["reaped"].as_u64().unwrap() > 0);
    });
}

/// A queue with one bug, to show the suite catches it.
struct Broken<const BUG: u8>(MemorySharedQueue);

impl<const BUG: u8> SharedQueue for Broken<BUG> {
    fn max_item_len(&self) -> usize {
        self.0.max_item_len()
    }
    async fn insert(&self, e: NewEntry) -> Result<(), SharedQueueError> {
        self.0.insert(e).await
    }
    async fn claim(
        &self,
        now: Timestamp,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, SharedQueueError> {
        let mut c = self.0.claim(now, max, lease).await?;
        if BUG == 1 {
            c.reverse(); // wrong order
        }
        Ok(c)
    }
    async fn complete(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        if BUG == 2 {
            // no fencing: whatever token, remove it
            return match self.0.get(key).await? {
                Some(EntryInfo {
                    state: tempfail::shared_queue::EntryState::Leased { token, .. },
                    ..
                }) => self.0.complete(key, token, Timestamp::EPOCH).await,
                _ => Err(SharedQueueError::LeaseLost {
                    key: key.into(),
                    token,
                }),
            };
        }
        self.0.complete(key, token, now).await
    }
    async fn defer(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        due: Timestamp,
    ) -> Result<(), SharedQueueError> {
        self.0.defer(key, token, now, due).await
    }
    async fn release(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        self.0.release(key, token, now).await
    }
    async fn extend(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Timestamp, SharedQueueError> {
        self.0.extend(key, token, now, lease).await
    }
    async fn reap(&self, now: Timestamp) -> Result<u64, SharedQueueError> {
        if BUG == 3 {
            return Ok(0); // never reaps: a dead worker's entries are stuck
        }
        self.0.reap(now).await
    }
    async fn cancel(&self, key: &str, now: Timestamp) -> Result<Vec<u8>, SharedQueueError> {
        // BUG 4: cancels under a live lease
        let now = if BUG == 4 { Timestamp::MAX } else { now };
        self.0.cancel(key, now).await
    }
    async fn reschedule(
        &self,
        key: &str,
        now: Timestamp,
        due: Timestamp,
        priority: Priority,
    ) -> Result<(), SharedQueueError> {
        self.0.reschedule(key, now, due, priority).await
    }
    async fn get(&self, key: &str) -> Result<Option<EntryInfo>, SharedQueueError> {
        self.0.get(key).await
    }
    async fn stats(&self, now: Timestamp) -> Result<SharedStats, SharedQueueError> {
        self.0.stats(now).await
    }
}

#[test]
fn the_suite_catches_each_broken_queue() {
    let rt = rt();
    let f1 = rt.block_on(conformance::run_all(|| async {
        Broken::<1>(MemorySharedQueue::new())
    }));
    assert_eq!(f1.unwrap_err().check, "claim_order");
    let f2 = rt.block_on(conformance::run_all(|| async {
        Broken::<2>(MemorySharedQueue::new())
    }));
    assert_eq!(f2.unwrap_err().check, "fencing");
    let f3 = rt.block_on(conformance::run_all(|| async {
        Broken::<3>(MemorySharedQueue::new())
    }));
    assert_eq!(f3.unwrap_err().check, "fencing");
    let f4 = rt.block_on(conformance::run_all(|| async {
        Broken::<4>(MemorySharedQueue::new())
    }));
    assert_eq!(f4.unwrap_err().check, "cancel_and_reschedule");
    // The model-based sequences alone find the missing fencing too.
    let found = (0..200u64).any(|seed| {
        let bytes: Vec<u8> = (0..300u64)
            .map(|i| (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (i % 57)) as u8 ^ i as u8)
            .collect();
        let q = Broken::<2>(MemorySharedQueue::new());
        rt.block_on(conformance::check_ops(
            &q,
            &conformance::ops_from_bytes(&bytes),
        ))
        .is_err()
    });
    assert!(found, "no sequence caught a queue without fencing");
}
