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
