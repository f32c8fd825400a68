//! Claims + completes per second on Redis, 4 workers, against a naive
//! baseline in the same run.
//!
//! ```text
//! cargo bench -p tempfail-redis --bench redis_claims
//! ```
//!
//! Both start from `N` entries due now in a fresh queue on a private
//! `redis-server` (127.0.0.1, `--save '' --appendonly no`), then 4 workers
//! (tokio tasks sharing one multiplexed connection) take entries until none
//! is left; only that phase is timed. The throughput criterion prints is
//! entries per second, each entry claimed under a lease and then completed.
//!
//! - `redis_queue/batch_100`: [`RedisQueue`], each worker claims 100 entries
//!   per call (one script) and completes them with one `complete_batch`.
//! - `naive/one_at_a_time`: one sorted set of waiting keys scored by due time;
//!   a worker reads the first due key (`ZRANGEBYSCORE … LIMIT 0 1`), takes it
//!   with `ZREM` (retrying when another worker's `ZREM` won), records the
//!   lease and reads the item (one pipelined round trip), and completes it by
//!   removing the lease and the item (one pipelined round trip): one entry per
//!   claim, one complete per entry.

#[path = "../tests/support/server.rs"]
mod server;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use redis::aio::MultiplexedConnection;
use tempfail::Timestamp;
use tempfail::shared_queue::{NewEntry, SharedQueue};
use tempfail_redis::RedisQueue;

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);
const LEASE: Duration = Duration::from_secs(60);
const WORKERS: usize = 4;
const ENTRIES: u64 = 20_000;
const NAIVE_ENTRIES: u64 = 4_000;

static RUN: AtomicU64 = AtomicU64::new(0);

fn item(i: u64) -> Vec<u8> {
    format!("spool/{i:08}").into_bytes()
}

async fn fill(q: &Arc<RedisQueue>, n: u64) {
    let tasks: Vec<_> = (0..16u64)
        .map(|t| {
            let q = Arc::clone(q);
            tokio::spawn(async move {
                let mut i = t;
                while i < n {
                    q.insert(NewEntry::new(
                        format!("m{i:08}"),
                        T0,
                        (i % 3) as u8,
                        item(i),
                    ))
                    .await
                    .unwrap();
                    i += 16;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// One timed run of the batched workload; returns the workers' wall time.
async fn batched(conn: &MultiplexedConnection, batch: usize) -> Duration {
    let name = format!("bench-{}", RUN.fetch_add(1, Ordering::Relaxed));
    let q = Arc::new(RedisQueue::open(conn.clone(), &name).await.unwrap());
    fill(&q, ENTRIES).await;
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let q = Arc::clone(&q);
            tokio::spawn(async move {
                let mut done = 0u64;
                loop {
                    let claims = q.claim(T0, batch, LEASE).await.unwrap();
                    if claims.is_empty() {
                        return done;
                    }
                    let keys: Vec<_> = claims.iter().map(|c| (c.key.as_str(), c.token)).collect();
                    let r = q.complete_batch(&keys, T0).await.unwrap();
                    done += r.iter().filter(|r| r.is_ok()).count() as u64;
                }
            })
        })
        .collect();
    let mut done = 0;
    for w in workers {
        done += w.await.unwrap();
    }
    let took = start.elapsed();
    assert_eq!(done, ENTRIES);
    took
}

/// One timed run of the naive workload.
async fn naive(conn: &MultiplexedConnection) -> Duration {
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let z = format!("naive:{{{run}}}:waiting");
    let leases = format!("naive:{{{run}}}:leases");
    let items = format!("naive:{{{run}}}:items");
    let score = T0.as_millis();
    let mut c = conn.clone();
    for chunk in (0..NAIVE_ENTRIES).collect::<Vec<_>>().chunks(1000) {
        let mut p = redis::pipe();
        for &i in chunk {
            p.zadd(&z, format!("m{i:08}"), score).ignore();
            p.hset(&items, format!("m{i:08}"), item(i)).ignore();
        }
        let () = p.query_async(&mut c).await.unwrap();
    }
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let mut c = conn.clone();
            let (z, leases, items) = (z.clone(), leases.clone(), items.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                let expires = score + 60_000;
                loop {
                    let first: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                        .arg(&z)
                        .arg("-inf")
                        .arg(score)
                        .arg("LIMIT")
                        .arg(0)
                        .arg(1)
                        .query_async(&mut c)
                        .await
                        .unwrap();
                    let Some(key) = first.into_iter().next() else {
                        return done;
                    };
                    let won: i64 = redis::cmd("ZREM")
                        .arg(&z)
                        .arg(&key)
                        .query_async(&mut c)
                        .await
                        .unwrap();
                    if won != 1 {
                        continue; // another worker took it first
                    }
                    let (_, item): (i64, Vec<u8>) = redis::pipe()
                        .zadd(&leases, &key, expires)
                        .hget(&items, &key)
                        .query_async(&mut c)
                        .await
                        .unwrap();
                    assert!(!item.is_empty());
                    let () = redis::pipe()
                        .zrem(&leases, &key)
                        .ignore()
                        .hdel(&items, &key)
                        .ignore()
                        .query_async(&mut c)
                        .await
                        .unwrap();
                    done += 1;
                }
            })
        })
        .collect();
    let mut done = 0;
    for w in workers {
        done += w.await.unwrap();
    }
    let took = start.elapsed();
    assert_eq!(done, NAIVE_ENTRIES);
    took
}

fn claims(c: &mut Criterion) {
    let Some(server) = server::RedisServer::start() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let conn = rt.block_on(async {
        redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    });
    let mut g = c.benchmark_group("redis_claim_complete");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(ENTRIES));
    g.bench_function("redis_queue/batch_100", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += batched(&conn, 100).await;
                }
                total
            })
        })
    });
    g.throughput(Throughput::Elements(NAIVE_ENTRIES));
    g.bench_function("naive/one_at_a_time", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += naive(&conn).await;
                }
                total
            })
        })
    });
    g.finish();
    // Free the server's memory between runs.
    rt.block_on(async {
        let mut c = conn.clone();
        let () = redis::cmd("FLUSHALL").query_async(&mut c).await.unwrap();
    });
}

criterion_group!(benches, claims);
criterion_main!(benches);
