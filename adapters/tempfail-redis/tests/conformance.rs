//! The core's shared-queue conformance suite on Redis (`--save ''
//! --appendonly no`: a private server per test binary, a fresh queue name per
//! check): the hand-written checks, model-based sequences from proptest, and
//! many workers on a multi-threaded runtime.

mod support;

use std::sync::Arc;

use proptest::prelude::*;
use tempfail::shared_queue::conformance::{self, Spawn, WorkerFuture};
use tempfail_redis::RedisQueue;

use support::{fresh_name, fresh_queue, server};

fn rt() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    }
}

fn tokio_spawn() -> Spawn {
    Box::new(|w: WorkerFuture| {
        Box::pin(async move { tokio::spawn(w).await.map_err(|e| e.to_string()) })
    })
}

#[test]
fn redis_queue_passes_the_whole_suite() {
    let Some(server) = server() else { return };
    let url = server.url();
    rt().block_on(async {
        let r = conformance::run_all(|| fresh_queue(&url, "suite")).await;
        assert!(r.is_ok(), "{}", r.unwrap_err());
        // A small item limit, as a user may configure it.
        let r = conformance::run_all(|| async {
            fresh_queue(&url, "suite-small").await.with_max_item_len(64)
        })
        .await;
        assert!(r.is_ok(), "{}", r.unwrap_err());
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn redis_queue_matches_the_model(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let Some(server) = server() else { return Ok(()) };
        let ops = conformance::ops_from_bytes(&bytes);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let r = rt.block_on(async {
            // Items of at most 3 bytes, so `item_too_large` is exercised too.
            let q = RedisQueue::connect(&server.url(), &fresh_name("model")).await.unwrap()
                .with_max_item_len(3);
            conformance::check_ops(&q, &ops).await
        });
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

#[test]
fn many_workers_on_threads_never_share_a_live_lease() {
    let Some(server) = server() else { return };
    let url = server.url();
    rt().block_on(async {
        for kill in [false, true] {
            let q = Arc::new(fresh_queue(&url, "concurrent").await);
            let r =
                conformance::check_concurrent(Arc::clone(&q), 8, 2_000, kill, tokio_spawn()).await;
            let r = match r {
                Ok(r) => r,
                Err(f) => panic!("kill_one={kill}: {f}"),
            };
            assert_eq!(
                (r.completed, r.lost, r.claimed_twice_while_leased),
                (2_000, 0, 0)
            );
            assert!(
                !kill || r.reaped > 0,
                "the dead worker's entries were not reaped: {r:?}"
            );
        }
    });
}
