//! Nanoseconds per retry decision for every preset, and the cost of one
//! exponential delay next to `backon` and `exponential-backoff` in the same run.
//!
//! `cargo bench --bench backoff`

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Duration;

use backon::BackoffBuilder;
use criterion::{Criterion, criterion_group, criterion_main};
use tempfail::backoff::{AnyBackoff, Backoff, Exponential, Factor, Jitter, RetryState};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::{Category, Classification, Disposition, Scope, Timestamp};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

fn failure() -> Classification {
    Classification {
        disposition: Disposition::Transient,
        category: Some(Category::ServerError),
        scope: Scope::Destination,
        retry_after: None,
        rule: Cow::Borrowed("bench"),
        description: Cow::Borrowed("451 4.3.0"),
        low_confidence: false,
    }
}

/// A message after `n` failed attempts under `policy`, and the time of the next one.
fn mid_schedule(policy: &RetryPolicy, n: usize) -> (RetryState, Timestamp) {
    let c = failure();
    let mut st = RetryState::new(T0).with_seed(42);
    let mut now = T0;
    for _ in 0..n {
        match policy.on_failure(&c, &mut st, now).retry_at() {
            Some(at) => now = at,
            None => break,
        }
    }
    (st, now)
}

fn decisions(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide");
    let class = failure();
    for &p in Preset::ALL {
        let policy = RetryPolicy::preset(p);
        let (st, now) = mid_schedule(&policy, 6);
        g.bench_function(p.name(), |b| {
            b.iter(|| black_box(&policy).decide(black_box(&class), black_box(&st), black_box(now)))
        });
    }
    g.finish();
}

/// The 10th delay of 5 min × 2^n capped at 3 h, from scratch, as each crate lets you ask for it.
fn exponential(c: &mut Criterion) {
    let mut g = c.benchmark_group("exponential_10th_delay");
    let base = Duration::from_secs(300);
    let cap = Duration::from_secs(3 * 3600);

    let exp = Exponential::new(base, Factor::integer(2)).with_cap(cap);
    let mut st = RetryState::new(T0).with_seed(42);
    st.failures = 9;
    g.bench_function("tempfail", |b| {
        b.iter(|| black_box(&exp).next_delay_seeded(black_box(&st), T0))
    });
    let jittered = AnyBackoff::from(exp).with_jitter(Jitter::Full);
    g.bench_function("tempfail_full_jitter", |b| {
        b.iter(|| black_box(&jittered).next_delay_seeded(black_box(&st), T0))
    });

    let builder = backon::ExponentialBuilder::default()
        .with_min_delay(base)
        .with_max_delay(cap)
        .with_factor(2.0)
        .without_max_times();
    g.bench_function("backon", |b| {
        b.iter(|| black_box(builder).build().nth(black_box(9)))
    });
    let seeded = builder.with_jitter().with_jitter_seed(42);
    g.bench_function("backon_jitter", |b| {
        b.iter(|| black_box(seeded).build().nth(black_box(9)))
    });

    let mut eb = exponential_backoff::Backoff::new(u32::MAX, base, cap);
    eb.set_factor(2);
    eb.set_jitter(0.0);
    g.bench_function("exponential_backoff", |b| {
        b.iter(|| black_box(&eb).iter().nth(black_box(9)))
    });
    let mut ebj = eb.clone();
    ebj.set_jitter(0.3);
    g.bench_function("exponential_backoff_jitter", |b| {
        b.iter(|| black_box(&ebj).iter().nth(black_box(9)))
    });
    g.finish();

    // All three agree on the unjittered value (5 min × 2^9, capped at 3 h).
    let ours = exp.delay_for(9);
    assert_eq!(builder.build().nth(9), Some(ours));
    assert_eq!(eb.iter().nth(9), Some(Some(ours)));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = decisions, exponential
}
criterion_main!(benches);
