//! Fuzzes the in-memory shared queue against the contract's reference model.
//!
//! Input: any bytes, read three at a time as operations (insert, claim,
//! complete, defer, release, extend, reap, cancel, reschedule, clock moves,
//! get, stats, batch completes), with stale tokens from earlier claims.
//! Property: after every operation the queue answers exactly what the model
//! answers (results, error kinds, claimed entries and their order, attempts,
//! lease expiries, stats), and the end state matches entry by entry.
#![no_main]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use tempfail::shared_queue::{MemorySharedQueue, conformance};

/// The in-memory queue's futures never wait: one poll finishes them.
fn now_or_never<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let ops = conformance::ops_from_bytes(&data[..data.len().min(3 * 2_000)]);
    let q = MemorySharedQueue::with_max_item_len(3);
    if let Err(f) = now_or_never(conformance::check_ops(&q, &ops)) {
        panic!("{f}");
    }
});
