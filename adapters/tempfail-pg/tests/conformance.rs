//! The shared-queue conformance suite on PostgreSQL: every hand-written check,
//! model-based sequences from proptest, the concurrency check with workers on
//! a multi-threaded runtime, and a real crash (a worker task aborted holding
//! its claims, its connection dropped).

#[path = "support/server.rs"]
mod server;

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use server::{PgServer, unique_name};
use tempfail::Timestamp;
use tempfail::shared_queue::conformance::{self, Spawn, WorkerFuture};
use tempfail::shared_queue::{EntryState, NewEntry, SharedQueue, SharedQueueError};
use tempfail_pg::{PgQueue, PgQueueOptions};

async fn fresh(srv: &PgServer, prefix: &str) -> PgQueue {
    match PgQueue::connect(&srv.url(), PgQueueOptions::new(unique_name(prefix))).await {
        Ok(q) => q,
        Err(e) => panic!("cannot open a queue: {e}"),
    }
}

fn tokio_spawn() -> Spawn {
    Box::new(|w: WorkerFuture| {
        Box::pin(async move { tokio::spawn(w).await.map_err(|e| e.to_string()) })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    if let Err(f) = conformance::run_all(|| fresh(srv, "suite")).await {
        panic!("conformance: {f:?}");
    }
}

/// The same in a schema of its own, with operations spread over three
/// connections taken in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes_in_another_schema_on_three_connections() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    let make = || async {
        let opts = PgQueueOptions::new(unique_name("suite"))
            .schema("mail_queues")
            .connections(3);
        match PgQueue::connect(&srv.url(), opts).await {
            Ok(q) => q,
            Err(e) => panic!("cannot open a queue: {e}"),
        }
    };
    if let Err(f) = conformance::run_all(make).await {
        panic!("conformance: {f:?}");
    }
}

/// W workers on their own tokio tasks, each claim a statement on the server:
/// no entry held by two live leases, nothing lost, the killed worker's
/// entries reaped and completed by the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_on_tasks() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    for (workers, kill) in [(4, true), (8, false)] {
        let q = Arc::new(fresh(srv, "concurrent").await);
        let report = conformance::check_concurrent(q, workers, 600, kill, tokio_spawn()).await;
        match report {
            Ok(r) => assert!(!kill || r.reaped > 0, "killed worker never reaped: {r:?}"),
            Err(f) => panic!("{workers} workers: {f:?}"),
        }
    }
}

/// Several handles (one connection each) claiming the same queue at the same
/// time: every claim returns at most `max`, no key is handed out twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_on_separate_connections_never_overlap() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    let name = unique_name("overlap");
    let first = PgQueue::connect(&srv.url(), PgQueueOptions::new(name.clone()))
        .await
        .unwrap();
    let t0 = Timestamp::from_secs(1_700_000_000);
    let entries: Vec<NewEntry> = (0..2000)
        .map(|i| NewEntry::new(format!("m{i}"), t0, (i % 4) as u8, vec![1; 16]))
        .collect();
    for r in first.insert_batch(&entries).await.unwrap() {
        r.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..6 {
        let url = srv.url();
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            let q = PgQueue::connect(&url, PgQueueOptions::new(name).create_if_missing(false))
                .await
                .unwrap();
            let mut got = Vec::new();
            loop {
                let max = 1 + (w * 7) % 50;
                let claims = q.claim(t0, max, Duration::from_secs(600)).await.unwrap();
                assert!(claims.len() <= max, "{} claims for max {max}", claims.len());
                if claims.is_empty() {
                    return got;
                }
                got.extend(claims.into_iter().map(|c| c.key));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "a key was claimed twice");
    assert_eq!(n, 2000, "every entry claimed once");
}

/// A worker task aborted mid-batch while holding claims, its connection gone
/// with it: after the lease its entries come back with their attempts kept,
/// its tokens are refused, and another worker completes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashed_worker_entries_come_back() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    let name = unique_name("crash");
    let url = srv.url();
    let t0 = Timestamp::from_secs(1_700_000_000);
    let lease = Duration::from_secs(30);
    let survivor = PgQueue::connect(&url, PgQueueOptions::new(name.clone()))
        .await
        .unwrap();
    for i in 0..10 {
        survivor
            .insert(NewEntry::new(format!("m{i}"), t0, 0, vec![i]))
            .await
            .unwrap();
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let doomed = tokio::spawn({
        let url = url.clone();
        let name = name.clone();
        async move {
            let q = PgQueue::connect(&url, PgQueueOptions::new(name))
                .await
                .unwrap();
            let claims = q.claim(t0, 4, lease).await.unwrap();
            let _ = tx.send(claims);
            // Mid-attempt: never completes.
            std::future::pending::<()>().await;
        }
    });
    let claims = rx.await.unwrap();
    doomed.abort();
    let _ = doomed.await;
    assert_eq!(claims.len(), 4);

    // Before the lease ends: busy, not claimable, not reaped.
    let live = t0 + Duration::from_secs(10);
    assert!(matches!(
        survivor.cancel(&claims[0].key, live).await,
        Err(SharedQueueError::Busy(_))
    ));
    assert_eq!(survivor.reap(live).await.unwrap(), 0);
    let others = survivor.claim(live, 100, lease).await.unwrap();
    assert_eq!(others.len(), 6);
    for c in &others {
        survivor.complete(&c.key, c.token, live).await.unwrap();
    }

    // After it: reaped, due at once, attempts kept.
    let after = t0 + lease;
    assert_eq!(survivor.reap(after).await.unwrap(), 4);
    for c in &claims {
        let info = survivor.get(&c.key).await.unwrap().unwrap();
        assert_eq!(info.state, EntryState::Waiting);
        assert_eq!(info.attempts, 1);
        assert!(matches!(
            survivor.complete(&c.key, c.token, after).await,
            Err(SharedQueueError::LeaseLost { .. })
        ));
    }
    let again = survivor.claim(after, 100, lease).await.unwrap();
    assert_eq!(again.len(), 4);
    for c in &again {
        assert_eq!(c.attempts, 2);
        assert!(claims.iter().all(|old| old.token != c.token));
    }
    let done: Vec<_> = again.iter().map(|c| (c.key.as_str(), c.token)).collect();
    let results = survivor.complete_batch(&done, after).await.unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(survivor.stats(after).await.unwrap().len, 0);
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Random operation sequences answer exactly as the reference model.
    #[test]
    fn model_based_sequences(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let Some(srv) = PgServer::shared() else {
            return Ok(());
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result = rt.block_on(async {
            let q = fresh(srv, "model").await;
            let r = conformance::check_ops(&q, &conformance::ops_from_bytes(&bytes)).await;
            q.drop_storage().await.unwrap();
            r
        });
        if let Err(f) = result {
            return Err(TestCaseError::fail(format!("{f:?}")));
        }
    }
}
