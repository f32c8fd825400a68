//! Transport failures are classified by rules like any reply: the session's and the
//! delivery machine's own conclusions (a timeout, a lost connection, an attempt with
//! no outcome) come from the classifier, and a user rule overrides them.

mod session_util;

use std::sync::Arc;
use std::time::Duration;

use session_util::{EHLO_PLAIN, Harness};
use tempfail::classify::{RuleError, UserRule};
use tempfail::delivery::{Delivery, Recipient};
use tempfail::session::{Envelope, Event};
use tempfail::{
    Category, Classifier, Disposition, Preset, RetryPolicy, Scope, Stage, Timestamp,
    TransportFailure,
};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

fn slow_server_rule() -> UserRule {
    UserRule::new("ops.slow_server", Category::ServerError)
        .description("our partner's MX stalls under load: wait ten minutes, whole destination")
        .failures([TransportFailure::ReadTimeout])
        .stages([Stage::RcptTo, Stage::MailFrom])
        .scope(Scope::Destination)
        .retry_after(Duration::from_secs(600))
}

#[test]
fn a_user_rule_overrides_the_built_in_transport_rule_only_where_it_matches() {
    let c = Classifier::builtin()
        .with_rules(vec![slow_server_rule()])
        .unwrap();
    let v = c.classify_failure(TransportFailure::ReadTimeout, Stage::RcptTo);
    assert_eq!(v.rule, "ops.slow_server");
    assert_eq!(v.category, Some(Category::ServerError));
    assert_eq!(v.scope, Scope::Destination);
    assert_eq!(v.retry_after, Some(Duration::from_secs(600)));
    assert_eq!(v.disposition, Disposition::Transient);
    // Another stage, another failure: the built-in rules still decide.
    let v = c.classify_failure(TransportFailure::ReadTimeout, Stage::DataEnd);
    assert_eq!(v.rule, "transport.lost_after_data");
    let v = c.classify_failure(TransportFailure::ConnectionReset, Stage::RcptTo);
    assert_eq!(v.rule, "transport.connection_reset");
    // A failure rule never decides a reply, whatever its text.
    let v = c.classify_text("451 4.4.2 read timeout", Stage::RcptTo);
    assert_ne!(v.rule, "ops.slow_server");
}

#[test]
fn the_session_takes_its_timeout_classification_from_the_classifier() {
    let classifier = Classifier::builtin()
        .with_rules(vec![slow_server_rule()])
        .unwrap();
    let mut custom = Harness::config();
    custom.classifier = Arc::new(classifier);
    for (name, cfg) in [("builtin", Harness::config()), ("user", custom)] {
        let mut h = Harness::new(cfg);
        h.input(b"220 mx.example.com ESMTP\r\n");
        h.input(EHLO_PLAIN);
        h.submit(Envelope::new("a@example.org", ["b@example.com"]));
        h.input(b"250 2.1.0 Ok\r\n");
        // No reply to RCPT TO: the read timer fires.
        h.advance(Duration::from_secs(301));
        h.timeout();
        let rules: Vec<String> = h
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Recipient { outcome, .. } => Some(outcome.classification.rule.to_string()),
                _ => None,
            })
            .collect();
        let want = if name == "user" {
            "ops.slow_server"
        } else {
            "transport.read_timeout"
        };
        assert_eq!(rules, [want], "{name}: {:?}", h.events);
    }
}

#[test]
fn the_delivery_no_outcome_rule_can_be_overridden() {
    let p = RetryPolicy::preset(Preset::Postfix);
    let careful = Classifier::builtin()
        .with_rules(vec![
            UserRule::new("ops.no_outcome_waits_an_hour", Category::Network)
                .failures([TransportFailure::NoOutcome])
                .scope(Scope::Message)
                .retry_after(Duration::from_secs(3600)),
        ])
        .unwrap();
    for (c, rule) in [
        (Classifier::builtin(), "delivery.no_outcome"),
        (careful, "ops.no_outcome_waits_an_hour"),
    ] {
        let mut d = Delivery::new(T0, 1, vec![Recipient::new("b@example.com")]);
        let _ = d.start_attempt(T0, None).unwrap();
        d.end_attempt(T0, &p, &c);
        let r = &d.recipients()[0];
        assert_eq!(r.status.name(), "deferred");
        let last = r.last_failure.as_ref().unwrap();
        assert_eq!(last.classification.rule, rule);
        assert_eq!(last.classification.disposition, Disposition::Transient);
    }
}

#[test]
fn failure_rules_are_checked() {
    let bad = |r: UserRule| Classifier::builtin().with_rules(vec![r]).unwrap_err();
    let field = |e: RuleError| match e {
        RuleError::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let mut r = UserRule::new("x", Category::Network);
    r.failures = vec!["read_timout".into()];
    let e = bad(r);
    assert!(e.to_string().contains("read_timeout"), "{e}");
    assert_eq!(field(e), "failures");
    let r = UserRule::new("x", Category::Network)
        .failures([TransportFailure::ReadTimeout])
        .codes(["451"]);
    assert_eq!(field(bad(r)), "failures");
    let r = UserRule::new("x", Category::Network)
        .failures([TransportFailure::UnexpectedClose])
        .disposition(Disposition::Success);
    assert_eq!(field(bad(r)), "disposition");
    let r = UserRule::new("x", Category::Network).words(["*"]);
    assert_eq!(field(bad(r)), "words");
}

#[test]
fn words_match_at_word_boundaries_and_text_anywhere() {
    let c = Classifier::from_rules_only(vec![
        UserRule::new("w", Category::RateLimited).words(["slow*"]),
        UserRule::new("t", Category::Policy).text(["ban"]),
    ])
    .unwrap();
    assert_eq!(
        c.classify_text("451 please slowdown", Stage::RcptTo).rule,
        "w"
    );
    assert_eq!(c.classify_text("451 too slow", Stage::RcptTo).rule, "w");
    // `slow` inside a word does not start at a boundary.
    assert_eq!(
        c.classify_text("451 ultraslow", Stage::RcptTo).rule,
        "fallback.code_only"
    );
    assert_eq!(c.classify_text("550 urbanised", Stage::RcptTo).rule, "t");
}

/// Every transport failure at every stage, and every corpus reply, classify the same
/// whether the built-in rules are built in or loaded back from their user-rule form.
#[cfg(feature = "serde")]
#[test]
fn the_built_in_rules_round_trip_through_their_data_form() {
    let json = serde_json::to_string(&Classifier::builtin_rules()).unwrap();
    let rules: Vec<UserRule> = serde_json::from_str(&json).unwrap();
    // The learned tie-breaker is not a rule: turned on for the copy, it decides the same.
    let copy = Classifier::from_rules_only(rules).unwrap().with_model(true);
    let builtin = Classifier::builtin();
    assert_eq!(copy.rule_count(), builtin.rule_count());
    for f in TransportFailure::ALL {
        for s in Stage::ALL {
            assert_eq!(
                copy.classify_failure(*f, *s),
                builtin.classify_failure(*f, *s)
            );
        }
    }
    let mut n = 0;
    for file in ["sisimai.jsonl", "crisp.jsonl"] {
        let path = format!("{}/tests/data/corpus/{file}", env!("CARGO_MANIFEST_DIR"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("corpus {path} missing");
        };
        for line in text.lines().take(3000) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for field in ["reply", "diagnostic"] {
                let Some(t) = v.get(field).and_then(|t| t.as_str()) else {
                    continue;
                };
                n += 1;
                assert_eq!(
                    copy.classify_text(t, Stage::Unknown),
                    builtin.classify_text(t, Stage::Unknown),
                    "{t}"
                );
            }
        }
    }
    assert!(n > 1000, "only {n} corpus texts");
}
