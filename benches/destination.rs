//! Destination health at one million destinations: the cost of a permit decision
//! and the memory per tracked destination, beside `governor`'s keyed GCRA limiter
//! (the crate a user would otherwise pick for per-destination pacing).
//!
//! `cargo bench --bench destination`. The memory figure is printed first: the heap
//! bytes the registry holds per destination (requested sizes, counted by a global
//! allocator wrapper), keys included.

use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tempfail::Timestamp;
use tempfail::destination::{Decision, HealthConfig, Rate, Registry, Report};

#[path = "../examples/queue_bench/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::Counting;

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 1_000_000;
const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

fn keys() -> Vec<String> {
    (0..N).map(|i| format!("d{i}.example.com")).collect()
}

/// A registry holding every key, each used once (a connection that succeeded).
fn registry(cfg: HealthConfig, keys: &[String]) -> Registry<String> {
    let mut r = Registry::new(cfg).unwrap();
    for k in keys {
        if let Decision::Go(p) = r.acquire_connection(k.as_str(), T0) {
            r.release(p, T0, Report::Success).unwrap();
        }
    }
    r
}

/// A cheap deterministic index sequence over the keys.
struct Pick(u64);
impl Pick {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % N as u64) as usize
    }
}

fn bench(c: &mut Criterion) {
    let keys = keys();
    let before = counting_alloc::held();
    let mut reg = registry(HealthConfig::postfix(), &keys);
    let held = counting_alloc::held() - before;
    eprintln!(
        "destination registry: {} destinations, {} bytes held, {:.1} bytes per destination (keys included)",
        reg.len(),
        held,
        held as f64 / reg.len() as f64
    );
    let mut paced_cfg = HealthConfig::postfix();
    paced_cfg.message_rate = Some(Rate::new(1_000_000, Duration::from_secs(1)));
    let mut paced = registry(paced_cfg, &keys);
    let governor = governor::RateLimiter::keyed(governor::Quota::per_second(
        NonZeroU32::new(1_000_000).unwrap(),
    ));
    for k in &keys {
        let _ = governor.check_key(k);
    }

    // A mail-like mix: a few destinations take most of the traffic (Zipf, s = 1: the
    // r-th most used gets a share proportional to 1/r).
    let mut rng = Pick(0x2545_f491_4f6c_dd1d);
    let zipf: Vec<u32> = (0..1u32 << 20)
        .map(|_| {
            let u = (rng.next() as f64) / (N as f64);
            ((N as f64).powf(u) as usize).clamp(1, N) as u32 - 1
        })
        .collect();
    let mut z = 0usize;

    let mut g = c.benchmark_group("destination_1m");
    let mut pick = Pick(0x9e37_79b9_7f4a_7c15);
    let mut t = 0u64;
    g.bench_function("tempfail_connection_acquire_release", |b| {
        b.iter(|| {
            let k = keys[pick.next()].as_str();
            t += 1;
            let now = Timestamp::from_millis(T0.as_millis() + t / 1000);
            match reg.acquire_connection(k, now) {
                Decision::Go(p) => reg.release(p, now, Report::Unused).is_ok(),
                _ => false,
            }
        })
    });
    g.bench_function("tempfail_paced_message_acquire_release", |b| {
        b.iter(|| {
            let k = keys[pick.next()].as_str();
            t += 1;
            let now = Timestamp::from_millis(T0.as_millis() + t / 1000);
            match paced.acquire_message(k, now, false) {
                Decision::Go(p) => paced.release(p, now, Report::Success).is_ok(),
                _ => false,
            }
        })
    });
    g.bench_function("governor_keyed_check", |b| {
        b.iter(|| {
            let k = &keys[pick.next()];
            governor.check_key(k).is_ok()
        })
    });
    g.bench_function("tempfail_connection_acquire_release_zipf", |b| {
        b.iter(|| {
            z = (z + 1) & ((1 << 20) - 1);
            let k = keys[zipf[z] as usize].as_str();
            t += 1;
            let now = Timestamp::from_millis(T0.as_millis() + t / 1000);
            match reg.acquire_connection(k, now) {
                Decision::Go(p) => reg.release(p, now, Report::Unused).is_ok(),
                _ => false,
            }
        })
    });
    g.bench_function("governor_keyed_check_zipf", |b| {
        b.iter(|| {
            z = (z + 1) & ((1 << 20) - 1);
            governor.check_key(&keys[zipf[z] as usize]).is_ok()
        })
    });
    g.bench_function("tempfail_connection_acquire_release_one_destination", |b| {
        let k = keys[12345].as_str();
        b.iter(|| {
            t += 1;
            let now = Timestamp::from_millis(T0.as_millis() + t / 1000);
            match reg.acquire_connection(k, now) {
                Decision::Go(p) => reg.release(p, now, Report::Unused).is_ok(),
                _ => false,
            }
        })
    });
    g.bench_function("governor_keyed_check_one_destination", |b| {
        let k = &keys[12345];
        b.iter(|| governor.check_key(k).is_ok())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
