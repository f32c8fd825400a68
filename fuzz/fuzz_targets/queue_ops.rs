//! Fuzzes the deferral queues with arbitrary operation sequences.
//!
//! Input: 10-byte records `[op, pick/priority, 8-byte little-endian time]`; the
//! time's top byte chooses a scale (milliseconds to the end of time), so one input
//! mixes ties, slot boundaries and far-future entries. Every operation runs on a
//! `WheelQueue` and on the reference `HeapQueue`. Properties checked, not just
//! survival:
//! - both queues return the same results for every operation (inserted handles
//!   aside), and the same `len`, `next_due` and `stats`;
//! - `pop_due(now)` only returns entries due at the queue's (clamped) clock;
//! - a stale handle is refused by both and changes nothing;
//! - memory stays bounded: at most 4,096 operations per input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tempfail::Timestamp;
use tempfail::queue::{DeferralQueue, Handle, HeapQueue, WheelQueue};

fn time(raw: [u8; 8]) -> u64 {
    let v = u64::from_le_bytes(raw);
    match raw[7] % 4 {
        0 => v % 200,              // ties, within one wheel tick
        1 => v % (1 << 28),        // across ticks and levels (days)
        2 => v % (1 << 45),        // years
        _ => v | (u64::MAX << 40), // near the end of time
    }
}

fuzz_target!(|data: &[u8]| {
    let mut wheel: WheelQueue<u64> = WheelQueue::new();
    let mut heap: HeapQueue<u64> = HeapQueue::new();
    // Per insertion: the wheel's handle and the heap's.
    let mut handles: Vec<(Handle, Handle)> = Vec::new();
    for (n, rec) in (0u64..).zip(data.chunks_exact(10).take(4096)) {
        let (op, arg) = (rec[0], rec[1]);
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&rec[2..10]);
        let t = Timestamp::from_millis(time(raw));
        let pick = (!handles.is_empty()).then(|| handles[usize::from(arg) % handles.len()]);
        match op % 8 {
            0 | 1 => {
                let w = wheel.insert(n, t, arg % 4).expect("insert");
                let h = heap.insert(n, t, arg % 4).expect("insert");
                handles.push((w, h));
            }
            2 => {
                if let Some((w, h)) = pick {
                    assert_eq!(wheel.cancel(w).ok(), heap.cancel(h).ok());
                }
            }
            3 => {
                if let Some((w, h)) = pick {
                    let p = (arg & 0x80 != 0).then_some(arg % 4);
                    assert_eq!(
                        wheel.reschedule(w, t, p).is_ok(),
                        heap.reschedule(h, t, p).is_ok()
                    );
                }
            }
            4 | 5 => {
                let a = wheel.pop_due(t).map(|p| (p.item, p.due, p.priority));
                let b = heap.pop_due(t).map(|p| (p.item, p.due, p.priority));
                assert_eq!(a, b);
                if let Some((_, due, _)) = a {
                    assert!(due <= wheel.now(), "popped before its due time");
                }
            }
            6 => assert_eq!(wheel.stats(t), heap.stats(t)),
            _ => {
                if let Some((w, h)) = pick {
                    let a = wheel.get(w).ok().map(|e| (*e.item, e.due, e.priority));
                    let b = heap.get(h).ok().map(|e| (*e.item, e.due, e.priority));
                    assert_eq!(a, b);
                }
            }
        }
        assert_eq!(wheel.len(), heap.len());
        assert_eq!(wheel.now(), heap.now());
        assert_eq!(wheel.next_due(), heap.next_due());
    }
    // Everything left pops in the same order at the end of time.
    loop {
        let a = wheel
            .pop_due(Timestamp::MAX)
            .map(|p| (p.item, p.due, p.priority));
        let b = heap
            .pop_due(Timestamp::MAX)
            .map(|p| (p.item, p.due, p.priority));
        assert_eq!(a, b);
        if a.is_none() {
            break;
        }
    }
});
