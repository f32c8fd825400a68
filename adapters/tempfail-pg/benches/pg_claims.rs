//! Throughput of the PostgreSQL queue: entries claimed and completed per
//! second by 4 workers (one connection each), batched claims
//! (`FOR UPDATE SKIP LOCKED`, 100 per claim) and batched completes, against
//! a naive baseline in the same run: one entry per claim with
//! `ORDER BY … LIMIT 1 FOR UPDATE` (no `SKIP LOCKED`, so workers queue behind
//! each other's row locks), then one complete per entry.
//!
//! Each iteration refills the queue with `ENTRIES` due entries (not timed),
//! then times the workers draining it. criterion's "thrpt" is entries
//! claimed+completed per second.
//!
//! ```text
//! cargo bench -p tempfail-pg --bench pg_claims
//! TEMPFAIL_PG_BENCH_FSYNC=off cargo bench -p tempfail-pg --bench pg_claims
//! ```
//!
//! The private server runs with PostgreSQL's defaults (`fsync=on`,
//! `synchronous_commit=on`: every statement waits for its WAL flush) unless
//! `TEMPFAIL_PG_BENCH_FSYNC=off`. Without PostgreSQL binaries the bench
//! prints a notice and measures nothing.

#[path = "../tests/support/server.rs"]
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use tempfail::Timestamp;
use tempfail::shared_queue::{NewEntry, SharedQueue};
use tempfail_pg::{PgQueue, PgQueueOptions};
use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls};

const WORKERS: usize = 4;
const ENTRIES: usize = 4000;
const BATCH: usize = 100;
const T0: Timestamp = Timestamp::from_secs(1_700_000_000);
const LEASE: Duration = Duration::from_secs(600);

struct Setup {
    workers: Vec<Arc<PgQueue>>,
    raw: Vec<Arc<Client>>,
    table: String,
    seq: String,
}

async fn setup(url: &str, name: &str) -> Setup {
    let mut workers = Vec::new();
    let mut raw = Vec::new();
    for _ in 0..WORKERS {
        let q = PgQueue::connect(url, PgQueueOptions::new(name))
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        workers.push(Arc::new(q));
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        tokio::spawn(conn);
        raw.push(Arc::new(client));
    }
    Setup {
        table: workers[0].table(),
        seq: format!("\"public\".\"{name}_seq\""),
        workers,
        raw,
    }
}

async fn refill(q: &PgQueue, round: u64) {
    let entries: Vec<NewEntry> = (0..ENTRIES)
        .map(|i| {
            NewEntry::new(
                format!("r{round}-m{i:06}"),
                T0,
                (i % 3) as u8,
                format!("spool/{round}/{i}").into_bytes(),
            )
        })
        .collect();
    for chunk in entries.chunks(1000) {
        for r in q
            .insert_batch(chunk)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        {
            r.unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// 4 workers, claim 100 at a time, complete each batch in one statement.
async fn drain_batched(s: &Setup) -> usize {
    let mut tasks = Vec::new();
    for q in &s.workers {
        let q = Arc::clone(q);
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                let claims = q
                    .claim(T0, BATCH, LEASE)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                if claims.is_empty() {
                    return done;
                }
                let batch: Vec<_> = claims.iter().map(|c| (c.key.as_str(), c.token)).collect();
                let results = q
                    .complete_batch(&batch, T0)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                done += results.iter().filter(|r| r.is_ok()).count();
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    total
}

/// 4 workers, one entry per claim with `LIMIT 1 FOR UPDATE` (no SKIP
/// LOCKED), then one complete per entry.
async fn drain_naive(s: &Setup) -> usize {
    let claim = format!(
        "WITH c AS MATERIALIZED (SELECT key FROM {t} WHERE lease_token IS NULL AND due <= $1 \
         ORDER BY priority DESC, due, seq LIMIT 1 FOR UPDATE) \
         UPDATE {t} q SET lease_token = nextval('{seq}'::regclass), lease_expires = $2, \
         attempts = q.attempts + 1 FROM c WHERE q.key = c.key AND q.lease_token IS NULL \
         RETURNING q.key, q.lease_token",
        t = s.table,
        seq = s.seq
    );
    let mut tasks = Vec::new();
    for (q, client) in s.workers.iter().zip(&s.raw) {
        let (q, client, claim) = (Arc::clone(q), Arc::clone(client), claim.clone());
        tasks.push(tokio::spawn(async move {
            let st = client
                .prepare(&claim)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let now = i64::try_from(T0.as_millis()).unwrap_or(i64::MAX);
            let expires = now + i64::try_from(LEASE.as_millis()).unwrap_or(0);
            let mut done = 0;
            let mut empty = 0;
            loop {
                let rows = client
                    .query(&st, &[&now, &expires])
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let Some(row) = rows.first() else {
                    // A waiter whose locked row was taken gets nothing even
                    // when entries remain: retry a few times before leaving.
                    empty += 1;
                    if empty > 3 {
                        return done;
                    }
                    continue;
                };
                empty = 0;
                let key: String = row.get(0);
                let token: i64 = row.get(1);
                let token = tempfail::shared_queue::LeaseToken(u64::try_from(token).unwrap_or(0));
                q.complete(&key, token, T0)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                done += 1;
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    total
}

#[allow(clippy::disallowed_methods)] // a benchmark reads the clock
fn bench(c: &mut Criterion) {
    let durable = std::env::var("TEMPFAIL_PG_BENCH_FSYNC").map_or(true, |v| v != "off");
    let srv = match server::PgServer::start(durable) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("NOTICE: no PostgreSQL server, nothing measured: {e}");
            return;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    let url = srv.url();
    let batched = rt.block_on(setup(&url, "bench_batched"));
    let naive = rt.block_on(setup(&url, "bench_naive"));
    let mut g = c.benchmark_group(if durable {
        "pg_claims_fsync_on"
    } else {
        "pg_claims_fsync_off"
    });
    g.throughput(Throughput::Elements(ENTRIES as u64));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    let mut round = 0u64;
    let mut run = |rt: &Runtime, s: &Setup, naive: bool, iters: u64| {
        let mut spent = Duration::ZERO;
        for _ in 0..iters {
            round += 1;
            rt.block_on(refill(&s.workers[0], round));
            let start = Instant::now();
            let done = rt.block_on(async {
                if naive {
                    drain_naive(s).await
                } else {
                    drain_batched(s).await
                }
            });
            spent += start.elapsed();
            assert_eq!(done, ENTRIES, "every entry claimed and completed once");
        }
        spent
    };
    g.bench_function("batched_skip_locked_4_workers", |b| {
        b.iter_custom(|iters| run(&rt, &batched, false, iters));
    });
    g.bench_function("naive_limit_1_for_update_4_workers", |b| {
        b.iter_custom(|iters| run(&rt, &naive, true, iters));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
