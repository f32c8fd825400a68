//! Both queue implementations and the fairness adapter (with one group) pass the
//! public conformance suite.
#![cfg(feature = "testing")]

use tempfail::queue::{FairQueue, HeapQueue, WheelQueue, conformance};

#[test]
fn heap_queue_conforms() {
    conformance::run_all(HeapQueue::<u64>::new).unwrap();
}

#[test]
fn wheel_queue_conforms() {
    conformance::run_all(WheelQueue::<u64>::new).unwrap();
}

#[test]
fn fair_queue_with_one_group_conforms() {
    conformance::run_all(|| FairQueue::new(|_: &u64| ())).unwrap();
}

#[test]
fn fair_queue_over_heap_with_one_group_conforms() {
    conformance::run_all(|| FairQueue::with_queue(HeapQueue::new(), |_: &u64| 0u8)).unwrap();
}

#[test]
fn the_suite_catches_a_broken_queue() {
    /// Pops the most urgent entry even when it is not due yet.
    struct Eager(HeapQueue<u64>);
    impl tempfail::DeferralQueue<u64> for Eager {
        fn insert(
            &mut self,
            item: u64,
            due: tempfail::Timestamp,
            p: u8,
        ) -> Result<tempfail::queue::Handle, tempfail::queue::QueueError> {
            self.0.insert(item, due, p)
        }
        fn cancel(
            &mut self,
            h: tempfail::queue::Handle,
        ) -> Result<u64, tempfail::queue::QueueError> {
            self.0.cancel(h)
        }
        fn reschedule(
            &mut self,
            h: tempfail::queue::Handle,
            due: tempfail::Timestamp,
            p: Option<u8>,
        ) -> Result<(), tempfail::queue::QueueError> {
            self.0.reschedule(h, due, p)
        }
        fn pop_due(&mut self, now: tempfail::Timestamp) -> Option<tempfail::queue::Popped<u64>> {
            // Off by one millisecond: releases entries 1 ms early.
            self.0.pop_due(now + std::time::Duration::from_millis(1))
        }
        fn next_due(&self) -> Option<tempfail::Timestamp> {
            self.0.next_due()
        }
        fn now(&self) -> tempfail::Timestamp {
            self.0.now()
        }
        fn get(
            &self,
            h: tempfail::queue::Handle,
        ) -> Result<tempfail::queue::EntryRef<'_, u64>, tempfail::queue::QueueError> {
            self.0.get(h)
        }
        fn len(&self) -> usize {
            self.0.len()
        }
        fn iter<'a>(&'a self) -> impl Iterator<Item = tempfail::queue::EntryRef<'a, u64>>
        where
            u64: 'a,
        {
            self.0.iter()
        }
        fn drain(&mut self) -> Vec<tempfail::queue::Popped<u64>> {
            self.0.drain()
        }
        fn retain<F: FnMut(tempfail::queue::EntryRef<'_, u64>) -> bool>(
            &mut self,
            keep: F,
        ) -> Vec<tempfail::queue::Popped<u64>> {
            self.0.retain(keep)
        }
        fn stats(&mut self, now: tempfail::Timestamp) -> tempfail::queue::QueueStats {
            self.0.stats(now)
        }
    }
    let err = conformance::exact_release(&mut Eager(HeapQueue::new())).unwrap_err();
    assert_eq!(err.check, "exact_release");
    assert!(conformance::run_all(|| Eager(HeapQueue::new())).is_err());
}
