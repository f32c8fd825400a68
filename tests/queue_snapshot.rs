//! Queue snapshots through serde: a restored queue pops the same entries in the
//! same order; unknown format versions are refused with a clear error.
#![cfg(feature = "serde")]

use tempfail::Timestamp;
use tempfail::persist::PersistError;
use tempfail::queue::{
    DeferralQueue, HeapQueue, KeyedQueue, QueueSnapshot, SnapshotError, WheelQueue,
};

fn ms(v: u64) -> Timestamp {
    Timestamp::from_millis(v)
}

fn pop_all<Q: DeferralQueue<String>>(q: &mut Q, now: u64) -> Vec<(String, u64, u8)> {
    std::iter::from_fn(|| {
        q.pop_due(ms(now))
            .map(|p| (p.item, p.due.as_millis(), p.priority))
    })
    .collect()
}

fn sample() -> WheelQueue<String> {
    let mut q = WheelQueue::new();
    let mut hs = Vec::new();
    for i in 0..50u64 {
        let due = 1_700_000_000_000 + (i % 7) * 1_000;
        #[allow(clippy::cast_possible_truncation)]
        let p = (i % 3) as u8;
        hs.push(q.insert(format!("msg-{i}"), ms(due), p).unwrap());
    }
    // Moves keep insertion order; the clock is part of the snapshot.
    q.reschedule(hs[40], ms(1_700_000_000_000), Some(2))
        .unwrap();
    q.cancel(hs[3]).unwrap();
    q.pop_due(ms(1_700_000_002_500));
    q.insert("far".into(), ms(1_900_000_000_000), 0).unwrap();
    q.insert("already due".into(), ms(0), 0).unwrap();
    q
}

#[test]
fn json_round_trip_restores_the_same_pop_order_in_both_implementations() {
    let q = sample();
    let json = serde_json::to_string(&q.snapshot()).unwrap();
    let snap: QueueSnapshot<String> = serde_json::from_str(&json).unwrap();
    assert_eq!(snap.version, QueueSnapshot::<String>::FORMAT_VERSION);
    assert_eq!(snap.now, ms(1_700_000_002_500));

    let mut orig = q;
    let mut wheel = WheelQueue::from_snapshot(snap.clone()).unwrap();
    let mut heap = HeapQueue::from_snapshot(snap).unwrap();
    assert_eq!(wheel.now(), orig.now());
    assert_eq!(heap.next_due(), orig.next_due());
    for now in [0, 1_700_000_004_000, 1_700_000_010_000, u64::MAX] {
        let want = pop_all(&mut orig, now);
        assert!(!want.is_empty());
        assert_eq!(pop_all(&mut wheel, now), want, "wheel at {now}");
        assert_eq!(pop_all(&mut heap, now), want, "heap at {now}");
    }
}

#[test]
fn snapshot_json_shape() {
    let mut q = HeapQueue::new();
    q.insert("a".to_string(), ms(5), 3).unwrap();
    let json = serde_json::to_string(&q.snapshot()).unwrap();
    assert_eq!(
        json,
        r#"{"format_version":1,"now":0,"entries":[{"item":"a","due":5,"priority":3,"seq":0}]}"#
    );
    // The spelling earlier builds wrote still loads.
    let old = json.replace("format_version", "version");
    let back: QueueSnapshot<String> = serde_json::from_str(&old).unwrap();
    assert_eq!(back, q.snapshot());
}

#[test]
fn unknown_version_is_refused_before_reading_entries() {
    // A future format whose entries this build could not even parse.
    let json = r#"{"version":2,"now":0,"entries":[{"payload":[1,2,3]}]}"#;
    let err = serde_json::from_str::<QueueSnapshot<String>>(json).unwrap_err();
    assert!(
        err.to_string().contains(
            "queue snapshot format version 2 is not supported (this build reads version 1)"
        ),
        "{err}"
    );
    // A snapshot built in memory with a wrong version is refused on restore.
    let mut snap = sample().snapshot();
    snap.version = 7;
    match WheelQueue::from_snapshot(snap.clone()).err() {
        Some(SnapshotError::UnsupportedVersion(e)) => assert_eq!(
            e,
            PersistError::UnsupportedVersion {
                kind: "queue snapshot",
                found: 7,
                expected: 1
            }
        ),
        other => panic!("{other:?}"),
    }
    assert!(HeapQueue::from_snapshot(snap).is_err());
    let missing = r#"{"now":0,"entries":[]}"#;
    assert!(serde_json::from_str::<QueueSnapshot<String>>(missing).is_err());
}

#[test]
fn keyed_queue_keeps_its_keys_across_a_restart() {
    let mut q: KeyedQueue<String, u32> = KeyedQueue::new();
    q.insert("m1".into(), 1, ms(20), 0).unwrap();
    q.insert("m2".into(), 2, ms(10), 0).unwrap();
    let json = serde_json::to_string(&q.queue().snapshot()).unwrap();
    let inner = WheelQueue::from_snapshot(serde_json::from_str(&json).unwrap()).unwrap();
    let mut r: KeyedQueue<String, u32> = KeyedQueue::from_queue(inner).unwrap();
    r.reschedule(&"m1".to_string(), ms(5), None).unwrap();
    assert_eq!(r.pop_due(ms(20)).map(|p| p.key), Some("m1".to_string()));
    assert_eq!(r.cancel(&"m2".to_string()), Some(2));

    let dup = r#"{"version":1,"now":0,"entries":[
        {"item":["k",1],"due":1,"priority":0,"seq":0},
        {"item":["k",2],"due":2,"priority":0,"seq":1}]}"#;
    let inner = WheelQueue::from_snapshot(serde_json::from_str(dup).unwrap()).unwrap();
    assert_eq!(
        KeyedQueue::<String, u32>::from_queue(inner).err(),
        Some(SnapshotError::DuplicateKey)
    );
}
