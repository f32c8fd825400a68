//! The deferral-queue workload of `examples/queue_bench` under criterion, at a
//! smaller size: `cargo bench --bench queue`.
//!
//! Per implementation: `fill` (per insert into a growing queue), `steady` (per
//! pop+reinsert pair on a queue of N entries advancing 1 s ticks), `reschedule`
//! (per random move among N entries) and `drain` (one whole drain of N entries
//! over 5 virtual days).

#[path = "../examples/queue_bench/workload.rs"]
mod workload;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use workload::{
    BenchQueue, Clock, PQueue, StdHeap, TfHeap, TfKeyed, TfWheel, TokioDelay, Workload, drain,
    fill, reschedule, runtime, steady,
};

const N: usize = 100_000;
const OPS: usize = 200_000;

fn one<Q: BenchQueue>(c: &mut Criterion, w: &Workload) {
    let rt = runtime();
    // `delayqueue` needs a runtime context even outside `block_on`.
    let _entered = rt.enter();
    let last_due = w.dues.iter().copied().max().unwrap_or(0);
    let mut g = c.benchmark_group("queue");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function(BenchmarkId::new("fill", Q::NAME), |b| {
        b.iter_custom(|iters| {
            let count = (iters as usize).min(N);
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                let mut q = Q::new(N);
                total += fill(&mut q, w, count.min(left), Clock::Wall);
                left = left.saturating_sub(count);
            }
            total
        });
    });
    g.bench_function(BenchmarkId::new("steady", Q::NAME), |b| {
        b.iter_custom(|iters| {
            let mut q = Q::new(N);
            fill(&mut q, w, N, Clock::Wall);
            rt.block_on(steady(&mut q, w, iters as usize, Clock::Wall))
                .0
        });
    });
    if Q::RESCHEDULE {
        g.bench_function(BenchmarkId::new("reschedule", Q::NAME), |b| {
            b.iter_custom(|iters| {
                let mut q = Q::new(N);
                fill(&mut q, w, N, Clock::Wall);
                reschedule(&mut q, w, iters as usize, Clock::Wall)
            });
        });
    }
    g.bench_function(BenchmarkId::new("drain_all", Q::NAME), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut q = Q::new(N);
                fill(&mut q, w, N, Clock::Wall);
                total += rt.block_on(drain(&mut q, last_due, Clock::Wall)).0;
            }
            total
        });
    });
    g.finish();
}

fn queues(c: &mut Criterion) {
    let w = Workload::new(N, OPS, 1);
    one::<TfWheel>(c, &w);
    one::<TfKeyed>(c, &w);
    one::<TfHeap>(c, &w);
    one::<StdHeap>(c, &w);
    one::<PQueue>(c, &w);
    one::<TokioDelay>(c, &w);
}

criterion_group!(benches, queues);
criterion_main!(benches);
