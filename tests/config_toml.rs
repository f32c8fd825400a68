//! Policies and user rules read from TOML config files, exactly as the docs show them,
//! decide the same as their JSON twins.
#![cfg(feature = "serde")]

use std::time::Duration;

use tempfail::backoff::RetryState;
use tempfail::classify::{Classifier, UserRule};
use tempfail::policy::{GiveUpReason, RetryDecision, RetryPolicy};
use tempfail::{Category, Disposition, Reply, ReplyCode, Stage, Timestamp};

const POLICY_TOML: &str = r#"
version = 1
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
{"version": 1, "base": "postfix", "name": "our-relay",
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
    // An unknown version is refused from TOML as from JSON.
    let v2 = POLICY_TOML.replace("version = 1", "version = 2");
    assert!(toml::from_str::<RetryPolicy>(&v2).is_err());
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
