//! One persistence convention: every persisted type writes its version in
//! `format_version`, reads the spellings earlier builds wrote, and refuses a version
//! it does not read with one error shape naming what it was reading.
#![cfg(feature = "serde")]

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tempfail::Timestamp;
use tempfail::backoff::RetryState;
use tempfail::persist::{FormatVersion, PersistError, Persisted, VERSION_FIELD};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::queue::{DeferralQueue, HeapQueue, QueueSnapshot, SnapshotError, WheelQueue};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

fn state() -> RetryState {
    let mut st = RetryState::new(T0).with_seed(9);
    st.failures = 3;
    st.deferrals = 4;
    st.first_failure = Some(T0);
    st.last_attempt = Some(T0 + std::time::Duration::from_secs(600));
    st.planned_delay = Some(std::time::Duration::from_secs(1200));
    st.warnings = 1;
    st
}

fn snapshot() -> QueueSnapshot<String> {
    let mut q = HeapQueue::new();
    q.insert("a".to_string(), T0, 1).unwrap();
    q.insert("b".to_string(), T0, 0).unwrap();
    q.snapshot()
}

/// Serializes, checks the version field comes first under its one name, reads back.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) -> String {
    let json = serde_json::to_string(v).unwrap();
    assert!(
        json.starts_with(&format!("{{\"{VERSION_FIELD}\":1,"))
            || json.starts_with(&format!("{{\"{VERSION_FIELD}\":2,")),
        "{json}"
    );
    assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v, "{json}");
    let toml = toml::to_string(v).unwrap();
    assert!(
        toml.starts_with("format_version = 1\n") || toml.starts_with("format_version = 2\n"),
        "{toml}"
    );
    assert_eq!(&toml::from_str::<T>(&toml).unwrap(), v, "{toml}");
    json
}

#[test]
fn every_persisted_type_round_trips_with_one_version_field() {
    round_trip(&state());
    for &p in Preset::ALL {
        round_trip(&RetryPolicy::preset(p));
    }
    round_trip(&snapshot());
}

/// `json` with its version field spelt `name`.
fn respelt(json: &str, name: &str) -> String {
    json.replacen("\"format_version\"", &format!("\"{name}\""), 1)
}

#[test]
fn the_spellings_of_earlier_builds_still_load() {
    let st = serde_json::to_string(&state()).unwrap();
    let policy = serde_json::to_string(&RetryPolicy::preset(Preset::Exim)).unwrap();
    let snap = serde_json::to_string(&snapshot()).unwrap();
    for name in ["version", "v"] {
        assert_eq!(
            serde_json::from_str::<RetryState>(&respelt(&st, name)).unwrap(),
            state()
        );
        assert_eq!(
            serde_json::from_str::<RetryPolicy>(&respelt(&policy, name)).unwrap(),
            RetryPolicy::preset(Preset::Exim)
        );
        assert_eq!(
            serde_json::from_str::<QueueSnapshot<String>>(&respelt(&snap, name)).unwrap(),
            snapshot()
        );
    }
    // A retry state as earlier builds wrote it, field for field.
    let old = r#"{"v":1,"arrival":1700000000000,"seed":9,"failures":3,"deferrals":4,
        "first_failure":1700000000000,"last_attempt":1700000600000,
        "planned_delay_ms":1200000,"warnings":1}"#;
    assert_eq!(serde_json::from_str::<RetryState>(old).unwrap(), state());
    // A queue snapshot as earlier builds wrote it.
    let old = r#"{"version":1,"now":0,"entries":[{"item":"a","due":5,"priority":0,"seq":0}]}"#;
    let mut q: WheelQueue<String> =
        WheelQueue::from_snapshot(serde_json::from_str(old).unwrap()).unwrap();
    assert_eq!(q.pop_due(Timestamp::from_millis(5)).unwrap().item, "a");
    // Two spellings at once are one field given twice.
    let twice = st.replacen('{', "{\"v\":1,", 1);
    let e = serde_json::from_str::<RetryState>(&twice)
        .unwrap_err()
        .to_string();
    assert!(e.contains("duplicate field `format_version`"), "{e}");
    let twice = snap.replacen('{', "{\"v\":1,", 1);
    let e = serde_json::from_str::<QueueSnapshot<String>>(&twice)
        .unwrap_err()
        .to_string();
    assert!(e.contains("duplicate field `format_version`"), "{e}");
}

#[test]
fn an_unknown_version_is_refused_in_one_shape_naming_the_kind() {
    // The retry state is at version 2 and still reads 1: make its document a
    // version-1 one, whose refusals below name version 2 as what this build reads.
    let cases = [
        (
            "retry state",
            serde_json::to_string(&state()).unwrap().replacen(
                "\"format_version\":2",
                "\"format_version\":1",
                1,
            ),
        ),
        (
            "retry policy",
            serde_json::to_string(&RetryPolicy::preset(Preset::Postfix)).unwrap(),
        ),
        (
            "queue snapshot",
            serde_json::to_string(&snapshot()).unwrap(),
        ),
    ];
    for (kind, json) in cases {
        let current = if kind == "retry state" { 2 } else { 1 };
        for (name, found) in [
            ("format_version", 3u32),
            ("version", 0),
            ("v", 4_000_000_000),
        ] {
            let future = respelt(json.as_str(), name).replacen(
                &format!("\"{name}\":1"),
                &format!("\"{name}\":{found}"),
                1,
            );
            let e = match kind {
                "retry state" => serde_json::from_str::<RetryState>(&future).err(),
                "retry policy" => serde_json::from_str::<RetryPolicy>(&future).err(),
                _ => serde_json::from_str::<QueueSnapshot<String>>(&future).err(),
            }
            .expect(&future)
            .to_string();
            let shape = PersistError::UnsupportedVersion {
                kind,
                found,
                expected: current,
            };
            assert!(e.starts_with(&shape.to_string()), "{e}");
        }
    }
    // The same shape, as a value, from a snapshot restored in memory.
    let mut snap = snapshot();
    snap.version = 2;
    let Err(SnapshotError::UnsupportedVersion(e)) = HeapQueue::from_snapshot(snap) else {
        panic!("a version-2 snapshot was restored");
    };
    assert_eq!(e.kind(), "queue snapshot");
    assert_eq!(
        e,
        PersistError::UnsupportedVersion {
            kind: "queue snapshot",
            found: 2,
            expected: 1
        }
    );
    // The version is read before anything else of the document.
    let future = r#"{"format_version":3,"arrival":"in a new shape"}"#;
    let e = serde_json::from_str::<RetryState>(future)
        .unwrap_err()
        .to_string();
    assert!(e.contains("retry state format version 3"), "{e}");
}

/// A type of the caller's, made persistent the documented way.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Health {
    #[serde(rename = "format_version", alias = "version", alias = "v", default)]
    format_version: FormatVersion<Health>,
    failures: u32,
}

impl Persisted for Health {
    const KIND: &'static str = "destination health";
    const FORMAT_VERSION: u32 = 3;
}

#[test]
fn the_convention_applies_to_a_new_type_in_a_few_lines() {
    let h = Health {
        format_version: FormatVersion::current(),
        failures: 2,
    };
    assert_eq!(
        serde_json::to_string(&h).unwrap(),
        r#"{"format_version":3,"failures":2}"#
    );
    assert_eq!(
        serde_json::from_str::<Health>(r#"{"v":3,"failures":2}"#).unwrap(),
        h
    );
    // With `default`, a document from before the type had a version reads as current.
    assert_eq!(
        serde_json::from_str::<Health>(r#"{"failures":2}"#).unwrap(),
        h
    );
    let e = serde_json::from_str::<Health>(r#"{"format_version":1,"failures":2}"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "destination health format version 1 is not supported (this build reads version 3)"
        ),
        "{e}"
    );
    let e = toml::from_str::<Health>("format_version = -3\nfailures = 2\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "expected a destination health format version: a whole number (3 for this build)"
        ),
        "{e}"
    );
    let e = serde_json::from_str::<Health>(r#"{"format_version":3,"failurs":2}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `failurs`"), "{e}");
}

#[test]
fn an_unusable_value_is_refused_naming_kind_and_field() {
    let e = serde_json::from_str::<RetryPolicy>(r#"{"format_version":1,"base":"qmail"}"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("retry policy: base: unknown preset \"qmail\": expected one of postfix"),
        "{e}"
    );
    let invalid = PersistError::invalid("retry policy", "base", "unknown preset");
    assert_eq!(invalid.kind(), "retry policy");
    assert_eq!(invalid.to_string(), "retry policy: base: unknown preset");
}
