//! Configuration and state refuse what they do not understand: an unknown field is an
//! error naming it, and a wrong form is described, never an internal type name.
#![cfg(feature = "serde")]

use tempfail::backoff::RetryState;
use tempfail::classify::UserRule;
use tempfail::delivery::Delivery;
use tempfail::policy::RetryPolicy;
use tempfail::queue::QueueSnapshot;

fn json_err<T: serde::de::DeserializeOwned + std::fmt::Debug>(j: &str) -> String {
    serde_json::from_str::<T>(j).expect_err(j).to_string()
}

fn toml_err<T: serde::de::DeserializeOwned + std::fmt::Debug>(t: &str) -> String {
    toml::from_str::<T>(t).expect_err(t).to_string()
}

#[test]
fn a_typo_in_a_policy_names_the_field() {
    // A typo in `lifetime` must not leave the default five days in place silently.
    let e = json_err::<RetryPolicy>(r#"{"version":1,"lifetim":{"limit":"3d","mode":"exact"}}"#);
    assert!(e.contains("unknown field `lifetim`"), "{e}");
    let e =
        toml_err::<RetryPolicy>("version = 1\nlifetim = { limit = \"3d\", mode = \"exact\" }\n");
    assert!(e.contains("lifetim"), "{e}");
    let e = json_err::<RetryPolicy>(r#"{"version":1,"lifetime":{"limit":"3d","mod":"exact"}}"#);
    assert!(e.contains("unknown field `mod`"), "{e}");
    let e = json_err::<RetryPolicy>(r#"{"version":1,"lifetime":"forever"}"#);
    assert!(e.contains("expected a lifetime"), "{e}");
    let e = json_err::<RetryPolicy>(
        r#"{"version":1,"backoff":{"backoff":{"kind":"fixed","dela":"5m"}}}"#,
    );
    assert!(e.contains("unknown field `dela`"), "{e}");
    let e = json_err::<RetryPolicy>(
        r#"{"version":1,"categories":[{"category":"greylisted","nevr_retry":true}]}"#,
    );
    assert!(e.contains("unknown field `nevr_retry`"), "{e}");
    let e =
        json_err::<RetryPolicy>(r#"{"version":1,"delay_warnings":{"at":["4h"],"repaet":true}}"#);
    assert!(e.contains("unknown field `repaet`"), "{e}");
    // The wrong form is described in words, not by an internal type's name.
    let e = json_err::<RetryPolicy>(r#""postfix""#);
    assert!(e.contains("a retry policy"), "{e}");
    assert!(!e.contains("Wire"), "{e}");
}

#[test]
fn unknown_fields_in_state_and_rules_are_refused() {
    let e = json_err::<RetryState>(r#"{"v":1,"arrival":0,"failurs":3}"#);
    assert!(e.contains("unknown field `failurs`"), "{e}");
    let e = json_err::<RetryState>("5");
    assert!(e.contains("a retry state") && !e.contains("Wire"), "{e}");
    let e = json_err::<UserRule>(
        r#"{"id":"r","category":"greylisted","text":["grey"],"disposition":"transient","scoep":"recipient"}"#,
    );
    assert!(e.contains("scoep"), "{e}");
    let e = json_err::<Delivery>("[1]");
    assert!(
        e.contains("a delivery snapshot") && !e.contains("Wire"),
        "{e}"
    );
    let e = json_err::<QueueSnapshot<u32>>(r#"{"version":1,"now":0,"entries":[],"extra":true}"#);
    assert!(e.contains("unknown field `extra`"), "{e}");
}

#[test]
fn one_persistence_convention_for_every_persisted_type() {
    use tempfail::Timestamp;
    use tempfail::delivery::Recipient;
    use tempfail::policy::Preset;
    use tempfail::queue::{DeferralQueue, HeapQueue};
    let t0 = Timestamp::from_secs(1_700_000_000);
    let state = serde_json::to_string(&RetryState::new(t0)).unwrap();
    let policy = serde_json::to_string(&Preset::Postfix.policy()).unwrap();
    let delivery =
        serde_json::to_string(&Delivery::new(t0, 1, vec![Recipient::new("b@example.com")]))
            .unwrap();
    let mut q = HeapQueue::new();
    q.insert(1u32, t0, 0).unwrap();
    let snapshot = serde_json::to_string(&q.snapshot()).unwrap();
    // One field name, written by every type.
    for json in [&policy, &delivery, &snapshot] {
        assert!(json.contains("\"format_version\":1"), "{json}");
    }
    // The retry state is at version 2 (per-category counts); version 1 still loads.
    assert!(state.starts_with("{\"format_version\":2"), "{state}");
    let v1 = state.replace("\"format_version\":2", "\"format_version\":1");
    assert_eq!(
        serde_json::from_str::<RetryState>(&v1).unwrap(),
        RetryState::new(t0)
    );
    // The spellings earlier builds wrote still load.
    let old_state = state.replace("\"format_version\"", "\"v\"");
    assert_eq!(
        serde_json::from_str::<RetryState>(&old_state).unwrap(),
        RetryState::new(t0)
    );
    let old_policy = policy.replace("\"format_version\"", "\"version\"");
    assert_eq!(
        serde_json::from_str::<RetryPolicy>(&old_policy).unwrap(),
        Preset::Postfix.policy()
    );
    let old_snapshot = snapshot.replace("\"format_version\"", "\"version\"");
    assert!(serde_json::from_str::<QueueSnapshot<u32>>(&old_snapshot).is_ok());
    // One error shape for a version this build does not read, naming the kind.
    for (json, kind, current) in [
        (&state, "retry state", 2),
        (&policy, "retry policy", 1),
        (&delivery, "delivery", 1),
        (&snapshot, "queue snapshot", 1),
    ] {
        let future = json.replacen(
            &format!("\"format_version\":{current}"),
            "\"format_version\":7",
            1,
        );
        let e = match kind {
            "retry state" => json_err::<RetryState>(&future),
            "retry policy" => json_err::<RetryPolicy>(&future),
            "delivery" => json_err::<Delivery>(&future),
            _ => json_err::<QueueSnapshot<u32>>(&future),
        };
        assert!(
            e.contains(&format!(
                "{kind} format version 7 is not supported (this build reads version {current})"
            )),
            "{kind}: {e}"
        );
    }
}
