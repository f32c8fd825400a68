//! Policies and user rules read from TOML config files, exactly as the docs show them,
//! decide the same as their JSON twins.
#![cfg(feature = "serde")]

use std::time::Duration;

use tempfail::backoff::RetryState;
use tempfail::classify::{Classifier, UserRule};
use tempfail::policy::{GiveUpReason, RetryDecision, RetryPolicy};
use tempfail::{Category, Disposition, Reply, ReplyCode, Stage, Timestamp};

const POLICY_TOML: &str = r#"
format_version = 1
base = "postfix"
name = "our-relay"
lifetime = { limit = "3d", mode = "failure_at_or_after" }
delay_warnings = { at = ["4h"], repeat = false }

[backoff]
backoff = { kind = "age_based", min = "5m", max = "1h" }
jitter = { kind = "proportional", permille = 100 }

[[categories]]
category = "user_unknown"
never_retry = true
"#;

const POLICY_JSON: &str = r#"
{"format_version": 1, "base": "postfix", "name": "our-relay",
 "lifetime": {"limit": "3d", "mode": "failure_at_or_after"},
 "delay_warnings": {"at": ["4h"], "repeat": false},
 "backoff": {"backoff": {"kind": "age_based", "min": "5m", "max": "1h"},
             "jitter": {"kind": "proportional", "permille": 100}},
 "categories": [{"category": "user_unknown", "never_retry": true}]}
"#;

#[test]
fn a_policy_from_toml_equals_its_json_twin_and_decides() {
    let from_toml: RetryPolicy = toml::from_str(POLICY_TOML).expect("the documented TOML parses");
    let from_json: RetryPolicy = serde_json::from_str(POLICY_JSON).unwrap();
    assert_eq!(from_toml, from_json);
    assert_eq!(from_toml.name, "our-relay");
    let classifier = Classifier::builtin();
    let t0 = Timestamp::from_secs(1_764_288_000);
    let unknown = classifier.classify(
        &Reply::new(
            ReplyCode::new(450).unwrap(),
            ["4.1.1 <x@example.com>: user unknown"],
        ),
        Stage::RcptTo,
    );
    assert_eq!(unknown.category, Some(Category::UserUnknown));
    assert!(matches!(
        from_toml.decide(&unknown, &RetryState::new(t0), t0),
        RetryDecision::GiveUp {
            reason: GiveUpReason::NeverRetried(Category::UserUnknown),
            ..
        }
    ));
    // Age-based between 5 min and 1 h, ±10 %: the first retry is 5 min ± 30 s.
    let busy = classifier.classify(
        &Reply::new(
            ReplyCode::new(451).unwrap(),
            ["4.3.0 Local error in processing"],
        ),
        Stage::RcptTo,
    );
    match from_toml.decide(&busy, &RetryState::new(t0), t0) {
        RetryDecision::Retry { at, .. } => {
            let d = at.saturating_duration_since(t0);
            assert!(
                d >= Duration::from_secs(270) && d <= Duration::from_secs(330),
                "{d:?}"
            );
        }
        other => panic!("{other}"),
    }
    // An unknown version is refused from TOML as from JSON, naming what was read.
    let v2 = POLICY_TOML.replace("format_version = 1", "format_version = 2");
    let e = toml::from_str::<RetryPolicy>(&v2).unwrap_err().to_string();
    assert!(
        e.contains("retry policy format version 2 is not supported (this build reads version 1)"),
        "{e}"
    );
    // The spelling earlier builds documented still loads.
    let old = POLICY_TOML.replace("format_version = 1", "version = 1");
    assert_eq!(toml::from_str::<RetryPolicy>(&old).unwrap(), from_toml);
}

/// The policy of [`POLICY_TOML`] with `line` in place of its `[backoff]` table's
/// `backoff =` line.
fn with_backoff(line: &str) -> String {
    POLICY_TOML.replace(
        r#"backoff = { kind = "age_based", min = "5m", max = "1h" }"#,
        line,
    )
}

fn toml_err(t: &str) -> String {
    toml::from_str::<RetryPolicy>(t).expect_err(t).to_string()
}

fn json_err(j: &str) -> String {
    serde_json::from_str::<RetryPolicy>(j)
        .expect_err(j)
        .to_string()
}

#[test]
fn unusable_backoffs_are_refused_naming_the_field() {
    // Each of these loaded before, and retried at once without end, bounced at the
    // first failure, or took `max` as every wait.
    for (line, says) in [
        (
            r#"backoff = { kind = "age_based", min = "0s", max = "1h" }"#,
            "retry policy: backoff.backoff.min: must be more than 0",
        ),
        (
            r#"backoff = { kind = "age_based", min = "2h", max = "1h" }"#,
            "retry policy: backoff.backoff.min: (2h) must not be more than max (1h)",
        ),
        (
            r#"backoff = { kind = "fixed", delay = "0s" }"#,
            "retry policy: backoff.backoff.delay: must be more than 0",
        ),
        (
            r#"backoff = { kind = "exponential", base = "10m", factor = 2, cap = "5m" }"#,
            "retry policy: backoff.backoff.base: (10m) must not be more than cap (5m)",
        ),
        (
            r#"backoff = { kind = "list", delays = [], after_last = "repeat" }"#,
            "retry policy: backoff.backoff.delays: is empty",
        ),
        (
            r#"backoff = { kind = "exim", rules = "" }"#,
            "the rule chain is empty",
        ),
        (
            r#"backoff = { kind = "exim", rules = "F,2h,15m; F,4d,0s" }"#,
            "zero wait",
        ),
    ] {
        let e = toml_err(&with_backoff(line));
        assert!(e.contains(says), "{line}: {e}");
    }
    // A category's or a scope's own backoff is named by its place in the list.
    let e = json_err(
        r#"{"format_version": 1, "categories": [{"category": "greylisted"},
            {"category": "rate_limited", "backoff": {"backoff": {"kind": "fixed", "delay": "0s"}}}]}"#,
    );
    assert!(
        e.contains("retry policy: categories[1].backoff.backoff.delay: must be more than 0"),
        "{e}"
    );
    let e = json_err(r#"{"format_version": 1, "hint_bounds": {"min": "4h", "max": "1m"}}"#);
    assert!(
        e.contains("retry policy: hint_bounds.min: (4h) must not be more than max (1m)"),
        "{e}"
    );
    // Haraka's explicit `none` (a list that stops) is a choice, not a mistake.
    let none = with_backoff(r#"backoff = { kind = "list", delays = [], after_last = "stop" }"#);
    assert!(toml::from_str::<RetryPolicy>(&none).is_ok());
}

#[test]
fn a_field_given_to_a_jitter_without_fields_is_refused() {
    // `full` has no ratio: `permille` here is a mistake (meant `proportional`) that
    // loaded silently before.
    let t = POLICY_TOML.replace(
        r#"jitter = { kind = "proportional", permille = 100 }"#,
        r#"jitter = { kind = "full", permille = 100 }"#,
    );
    let e = toml_err(&t);
    assert!(e.contains("unknown field `permille`"), "{e}");
    let e = json_err(
        r#"{"format_version": 1, "backoff": {"backoff": {"kind": "fixed", "delay": "5m"},
            "jitter": {"kind": "equal", "ratio": 5}}}"#,
    );
    assert!(e.contains("unknown field `ratio`"), "{e}");
}

#[test]
fn wrong_forms_are_described_not_named_by_internal_types() {
    for (t, says) in [
        (
            with_backoff(r#"backoff = { kind = "fixed", delay = 300 }"#),
            r#"expected a duration string such as "300s""#,
        ),
        (
            with_backoff(r#"backoff = "fixed""#),
            "expected a backoff: a map with kind (fixed, exponential, list, age_based or exim)",
        ),
        (
            POLICY_TOML.replace(
                r#"jitter = { kind = "proportional", permille = 100 }"#,
                r#"jitter = "full""#,
            ),
            "expected a jitter: a map with kind",
        ),
        (
            POLICY_TOML.replace("permille = 100", r#"permille = "10%""#),
            "expected a ratio in thousandths",
        ),
        (
            with_backoff(r#"backoff = { kind = "exim", rules = 5 }"#),
            "expected an Exim rule chain",
        ),
        (
            POLICY_TOML.replace(r#"at = ["4h"]"#, r#"at = "4h""#),
            "expected a list of durations",
        ),
    ] {
        let e = toml_err(&t);
        assert!(
            e.contains(says),
            "{t}
{e}"
        );
        for internal in [
            "Jittered",
            "BackoffKind",
            "internally tagged",
            "u16",
            "Wire",
            "a string",
        ] {
            assert!(!e.contains(internal), "{internal}: {e}");
        }
    }
    for (j, says) in [
        (
            r#"{"format_version": 1, "backoff": "5m"}"#,
            "expected a backoff and its jitter",
        ),
        (
            r#"{"format_version": 1, "hint_bounds": "1m"}"#,
            "expected hint bounds: a map with min and max",
        ),
        (
            r#"{"format_version": 1, "categories": [{"category": "greylisted", "backoff": "5m"}]}"#,
            "expected a backoff and its jitter",
        ),
        (
            r#"{"format_version": "1"}"#,
            "expected a retry policy format version",
        ),
    ] {
        let e = json_err(j);
        assert!(
            e.contains(says),
            "{j}
{e}"
        );
        for internal in ["Jittered", "HintBounds", "struct", "u32"] {
            assert!(!e.contains(internal), "{internal}: {e}");
        }
    }
    let e = serde_json::from_str::<RetryState>(r#"{"format_version": 1, "arrival": "yesterday"}"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("expected a time: whole milliseconds since the Unix epoch"),
        "{e}"
    );
}

#[derive(serde::Deserialize)]
struct RulesFile {
    rules: Vec<UserRule>,
}

const RULES_TOML: &str = r#"
[[rules]]
id = "acme.quota_is_temporary"
description = "Acme's 552 quota replies clear within hours (Acme support article 42)"
stages = ["rcpt_to"]
codes = ["55x"]
enhanced = ["5.2.*"]
text = ["acme quota"]
disposition = "transient"
category = "mailbox_full"
retry_after = "2h"
"#;

#[test]
fn user_rules_from_toml_are_checked_before_the_builtins() {
    let file: RulesFile = toml::from_str(RULES_TOML).expect("the documented TOML parses");
    let c = Classifier::builtin().with_rules(file.rules).unwrap();
    let reply = Reply::new(ReplyCode::new(552).unwrap(), ["5.2.2 Acme quota reached"]);
    let v = c.classify(&reply, Stage::RcptTo);
    assert_eq!(v.rule, "acme.quota_is_temporary");
    assert_eq!(v.disposition, Disposition::Transient);
    assert_eq!(v.retry_after, Some(Duration::from_secs(7200)));
    // At another stage the rule does not apply and the built-ins decide.
    let v = c.classify(&reply, Stage::DataEnd);
    assert_ne!(v.rule, "acme.quota_is_temporary");
    // A misspelt field is refused, naming it.
    let bad = RULES_TOML.replace("disposition", "dispositon");
    let err = toml::from_str::<RulesFile>(&bad).err().expect("refused");
    assert!(err.to_string().contains("dispositon"), "{err}");
}
