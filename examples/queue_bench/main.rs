//! Deferral-queue benchmark: tempfail's queues beside the usual alternatives,
//! in one run, on one seeded workload.
//!
//! ```text
//! cargo run --release --example queue_bench -- --n 1000000
//! ```
//!
//! Prints one JSON line per (implementation, phase):
//! `{"impl":…,"phase":…,"ns_per_op":…,"bytes_per_entry":…,"max_lateness_secs":…}`.
//!
//! - `fill`: insert `n` entries due uniformly over 5 days at 1 s resolution; per
//!   insert. `bytes_per_entry`: heap bytes held by the structure after the fill
//!   (counted by this program's allocator) / n, minus the 8-byte id.
//! - `drain`: advance a virtual clock 1 s at a time from 0 past the last due
//!   time, popping everything due; total time / n (empty ticks included).
//! - `steady`: fill n, then advance 1 s at a time, reinserting each popped entry
//!   at now + U(1 s, 5 d); per pop+reinsert pair, over `--ops` pairs.
//! - `reschedule`: fill n, then move `--ops` random entries to random new due
//!   times; per move (no row for `binaryheap`, which cannot).
//! - `max_lateness_secs`: largest (virtual pop time − due time); `null` where
//!   nothing was popped.
//!
//! Options: `--n N` (1000000), `--ops N` (1000000), `--seed N` (1),
//! `--impl NAME` and `--phase NAME` (repeatable; default all), `--reps R` (1: run every phase R
//! times on fresh queues and report total time / total operations; memory and
//! lateness from all runs), `--clock cpu|wall` (cpu: the
//! thread's CPU time from `/proc/thread-self/stat`, 10 ms resolution, which
//! leaves out time other processes held the CPU on a shared machine; wall:
//! elapsed time), `--calibrate` (first print one line with this machine's
//! cost of a random 8-byte read from a 32 MiB array, dependent — each address
//! from the previous read — and independent, to compare figures across machines).

mod workload;

use std::time::Duration;

use workload::{
    BenchQueue, Clock, PQueue, StdHeap, TfHeap, TfKeyed, TfWheel, TokioDelay, Workload, drain,
    fill, reschedule, runtime, steady,
};

mod counting_alloc;
use counting_alloc::Counting;

#[global_allocator]
static ALLOC: Counting = Counting;

struct Args {
    n: usize,
    ops: usize,
    seed: u64,
    only: Vec<String>,
    clock: Clock,
    reps: usize,
    phases: Vec<String>,
    calibrate: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        n: 1_000_000,
        ops: 1_000_000,
        seed: 1,
        only: Vec::new(),
        clock: Clock::Cpu,
        reps: 1,
        phases: Vec::new(),
        calibrate: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--n" => a.n = value()?.parse().map_err(|e| format!("--n: {e}"))?,
            "--ops" => a.ops = value()?.parse().map_err(|e| format!("--ops: {e}"))?,
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--impl" => a.only.push(value()?),
            "--phase" => a.phases.push(value()?),
            "--calibrate" => a.calibrate = true,
            "--reps" => a.reps = value()?.parse().map_err(|e| format!("--reps: {e}"))?,
            "--clock" => {
                a.clock = match value()?.as_str() {
                    "cpu" => Clock::Cpu,
                    "wall" => Clock::Wall,
                    other => return Err(format!("--clock: expected cpu or wall, got {other}")),
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if a.reps == 0 {
        return Err("--reps must be at least 1".into());
    }
    if a.n == 0 {
        return Err("--n must be at least 1".into());
    }
    Ok(a)
}

fn row(name: &str, phase: &str, ns: f64, bytes: Option<f64>, late_ms: Option<u64>) {
    let bytes = bytes.map_or("null".to_string(), |b| format!("{b:.2}"));
    let late = late_ms.map_or("null".to_string(), |l| format!("{}", l as f64 / 1000.0));
    println!(
        "{{\"impl\":\"{name}\",\"phase\":\"{phase}\",\"ns_per_op\":{ns:.1},\"bytes_per_entry\":{bytes},\"max_lateness_secs\":{late}}}"
    );
}

fn per_op(d: Duration, ops: usize) -> f64 {
    d.as_nanos() as f64 / ops.max(1) as f64
}

fn run<Q: BenchQueue>(a: &Args, w: &Workload, rt: &tokio::runtime::Runtime) {
    if !a.only.is_empty() && !a.only.iter().any(|o| o == Q::NAME) {
        return;
    }
    let want = |p: &str| a.phases.is_empty() || a.phases.iter().any(|x| x == p);
    let reps = |p: &str| if want(p) { a.reps } else { 0 };
    let n = a.n;
    let last_due = w.dues.iter().copied().max().unwrap_or(0);
    let lateness = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    };
    rt.block_on(async {
        // fill, then drain the same queue.
        let (mut fill_t, mut drain_t, mut bytes, mut late) =
            (Duration::ZERO, Duration::ZERO, 0.0, None);
        for _ in 0..reps("fill").max(reps("drain")) {
            let before = counting_alloc::held();
            let mut q = Q::new(n);
            fill_t += fill(&mut q, w, n, a.clock);
            let held = counting_alloc::held().saturating_sub(before + q.bookkeeping_bytes());
            bytes = f64::max(bytes, held as f64 / n as f64 - 8.0);
            let (took, seen) = drain(&mut q, last_due, a.clock).await;
            check(Q::NAME, "drain", seen.count, n as u64, seen.early);
            drain_t += took;
            late = lateness(late, seen.max_lateness_ms);
        }
        if want("fill") {
            let ns = per_op(fill_t, n * a.reps);
            row(Q::NAME, "fill", ns, Some(bytes), None);
        }
        if want("drain") {
            row(Q::NAME, "drain", per_op(drain_t, n * a.reps), None, late);
        }

        let (mut steady_t, mut late) = (Duration::ZERO, None);
        for _ in 0..reps("steady") {
            let mut q = Q::new(n);
            fill(&mut q, w, n, a.clock);
            let (took, seen) = steady(&mut q, w, a.ops, a.clock).await;
            check(Q::NAME, "steady", seen.count, a.ops as u64, seen.early);
            steady_t += took;
            late = lateness(late, seen.max_lateness_ms);
        }
        if want("steady") {
            let ns = per_op(steady_t, a.ops * a.reps);
            row(Q::NAME, "steady", ns, None, late);
        }

        if Q::RESCHEDULE && want("reschedule") {
            let mut resched_t = Duration::ZERO;
            for _ in 0..a.reps {
                let mut q = Q::new(n);
                fill(&mut q, w, n, a.clock);
                resched_t += reschedule(&mut q, w, a.ops, a.clock);
            }
            let ns = per_op(resched_t, a.ops * a.reps);
            row(Q::NAME, "reschedule", ns, None, None);
        }
    });
}

/// Random reads from a 32 MiB array: one chain of dependent reads (each miss
/// waits for the previous) and independent reads (misses overlap).
fn calibrate(clock: Clock) {
    const LEN: usize = 1 << 22;
    const READS: usize = 4_000_000;
    let mut next: Vec<usize> = (0..LEN).collect();
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    // One cycle through every element (Sattolo's shuffle).
    for i in (1..LEN).rev() {
        let j = (rnd() % i as u64) as usize;
        next.swap(i, j);
    }
    let t = clock.start();
    let mut p = 0;
    for _ in 0..READS {
        p = next[p];
    }
    let dependent = per_op(t.elapsed(), READS);
    let t = clock.start();
    let mut acc = 0usize;
    for _ in 0..READS {
        acc = acc.wrapping_add(next[rnd() as usize & (LEN - 1)]);
    }
    let independent = per_op(t.elapsed(), READS);
    std::hint::black_box((p, acc));
    println!(
        "{{\"calibration\":\"random_read_32mib\",\"dependent_ns\":{dependent:.1},\"independent_ns\":{independent:.1}}}"
    );
}

fn check(name: &str, phase: &str, got: u64, want: u64, early: u64) {
    if got != want || early != 0 {
        eprintln!(
            "{name} {phase}: popped {got} entries (expected {want}), {early} before their due time"
        );
        std::process::exit(1);
    }
}

/// The contract, for `--help`.
const HELP: &str =
    "queue_bench: tempfail's deferral queues beside the usual alternatives, one seeded workload.

usage: queue_bench [--n N] [--ops N] [--seed N] [--impl NAME ...] [--phase NAME ...] [--reps R]
                   [--clock cpu|wall] [--calibrate]

Prints one JSON line per (implementation, phase):
  {\"impl\":...,\"phase\":...,\"ns_per_op\":...,\"bytes_per_entry\":...,\"max_lateness_secs\":...}
Phases: fill, drain, steady, reschedule (see the example's source documentation).
";

fn main() {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        // The module documentation is the contract.
        println!("{}", HELP);
        return;
    }
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("queue_bench: {e}");
            std::process::exit(2);
        }
    };
    if a.calibrate {
        calibrate(a.clock);
    }
    let w = Workload::new(a.n, a.ops, a.seed);
    let rt = runtime();
    run::<TfWheel>(&a, &w, &rt);
    run::<TfKeyed>(&a, &w, &rt);
    run::<TfHeap>(&a, &w, &rt);
    run::<StdHeap>(&a, &w, &rt);
    run::<PQueue>(&a, &w, &rt);
    run::<TokioDelay>(&a, &w, &rt);
}
