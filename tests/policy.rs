//! Retry-policy behaviour: per-category and per-scope choices, hints, throttling,
//! lifetimes, delay warnings, and config files.

use std::borrow::Cow;
use std::time::Duration;

use tempfail::backoff::{DelayList, Exponential, Factor, Fixed, RetryState};
use tempfail::policy::{
    CategoryRule, DelayWarnings, Failure, GiveUpReason, LifetimeMode, Preset, RetryDecision,
    RetryPolicy,
};
use tempfail::{Category, Classification, Disposition, Scope, Timestamp};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

fn m(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}
fn h(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}
fn d(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

fn class(
    disposition: Disposition,
    category: Category,
    scope: Scope,
    hint: Option<Duration>,
) -> Classification {
    Classification {
        disposition,
        category: Some(category),
        scope,
        retry_after: hint,
        rule: Cow::Borrowed("test"),
        description: Cow::Borrowed("test"),
        low_confidence: false,
    }
}

fn transient(category: Category, scope: Scope) -> Classification {
    class(Disposition::Transient, category, scope, None)
}

#[test]
fn permanent_and_never_retried_categories() {
    let p = RetryPolicy::preset(Preset::Tempfail);
    let st = RetryState::new(T0);
    // 550 5.1.1: permanent.
    let c = class(
        Disposition::Permanent,
        Category::UserUnknown,
        Scope::Recipient,
        None,
    );
    assert_eq!(
        p.decide(&c, &st, T0),
        RetryDecision::GiveUp {
            at: T0,
            reason: GiveUpReason::Permanent
        }
    );
    // 450 4.1.1 "user unknown": a 4xx, but tempfail never retries an unknown user.
    let c = transient(Category::UserUnknown, Scope::Recipient);
    assert_eq!(
        p.decide(&c, &st, T0),
        RetryDecision::GiveUp {
            at: T0,
            reason: GiveUpReason::NeverRetried(Category::UserUnknown)
        }
    );
    // Postfix has no such rule: a 4xx is retried.
    assert!(
        RetryPolicy::preset(Preset::Postfix)
            .decide(&c, &st, T0)
            .retry_at()
            .is_some()
    );
    // A success is not retried.
    let mut ok = c.clone();
    ok.disposition = Disposition::Success;
    assert_eq!(p.decide(&ok, &st, T0), RetryDecision::Delivered);
}

#[test]
fn greylisting_retries_after_the_greylist_delay_then_soon() {
    let p = RetryPolicy::preset(Preset::Tempfail);
    let c = transient(Category::Greylisted, Scope::Recipient);
    let sim = p.simulate(&c, RetryState::new(T0), 5);
    let gaps: Vec<u64> = sim
        .attempts
        .windows(2)
        .map(|w| w[1].saturating_duration_since(w[0]).as_secs())
        .collect();
    assert_eq!(gaps, [300, 300, 600, 1200]);
    // A greylister with a longer delay: set it.
    let p = p.with_category(CategoryRule::greylisted(m(15)));
    assert_eq!(
        p.decide(&c, &RetryState::new(T0), T0).retry_at(),
        Some(T0 + m(15))
    );
}

#[test]
fn rate_limits_honour_hints_within_bounds_and_hold_the_destination() {
    let p = RetryPolicy::preset(Preset::Tempfail);
    let st = RetryState::new(T0);
    let now = T0 + m(1);
    let c = class(
        Disposition::Transient,
        Category::RateLimited,
        Scope::Destination,
        Some(m(10)),
    );
    assert_eq!(
        p.decide(&c, &st, now),
        RetryDecision::Retry {
            at: now + m(10),
            counted: false,
            hold_destination: Some(now + m(10)),
            delay_warning: None
        }
    );
    // Out-of-bounds hints are clamped to 1 min – 4 h.
    let short = class(
        Disposition::Transient,
        Category::RateLimited,
        Scope::Destination,
        Some(Duration::from_secs(1)),
    );
    assert_eq!(p.decide(&short, &st, now).retry_at(), Some(now + m(1)));
    let long = class(
        Disposition::Transient,
        Category::TooManyConnections,
        Scope::Destination,
        Some(h(20)),
    );
    assert_eq!(p.decide(&long, &st, now).retry_at(), Some(now + h(4)));
    // A per-recipient rate limit does not hold the destination.
    let rcpt = class(
        Disposition::Transient,
        Category::RateLimited,
        Scope::Recipient,
        Some(m(10)),
    );
    assert!(matches!(
        p.decide(&rcpt, &st, now),
        RetryDecision::Retry {
            hold_destination: None,
            ..
        }
    ));
    // No hint: the category's own backoff (15 min ± 10 %).
    let none = transient(Category::RateLimited, Scope::Destination);
    let at = p.decide(&none, &st, now).retry_at().unwrap();
    let gap = at.saturating_duration_since(now);
    assert!(
        gap >= Duration::from_secs(810) && gap <= Duration::from_secs(990),
        "{gap:?}"
    );
}

#[test]
fn uncounted_rate_limits_keep_the_schedule_position() {
    // Stalwart: rate-limit deferrals do not count as attempts.
    let p = RetryPolicy::preset(Preset::Stalwart);
    let fail = transient(Category::ServerError, Scope::Destination);
    let rate = transient(Category::RateLimited, Scope::Destination);
    let mut st = RetryState::new(T0);
    let d1 = p.on_failure(&fail, &mut st, T0);
    assert_eq!(d1.retry_at(), Some(T0 + m(2)));
    // Three rate-limit deferrals (and one of the caller's own) in a row…
    let mut now = T0 + m(2);
    for _ in 0..3 {
        let d = p.on_failure(&rate, &mut st, now);
        assert!(matches!(d, RetryDecision::Retry { counted: false, .. }));
        now = d.retry_at().unwrap();
    }
    let own = p.decide(Failure::Throttled { until: now + m(1) }, &st, now);
    assert!(matches!(own, RetryDecision::Retry { counted: false, .. }));
    own.record(&mut st, now);
    now += m(1);
    assert_eq!(st.failures, 1);
    assert_eq!(st.deferrals, 5);
    // …and the next real failure still gets the schedule's second entry (5 min).
    assert_eq!(
        p.on_failure(&fail, &mut st, now).retry_at(),
        Some(now + m(5))
    );

    // Counted (Postfix): the caller's throttling and rate limits count.
    let pf = RetryPolicy::preset(Preset::Postfix);
    let mut st = RetryState::new(T0);
    let own = pf.decide(Failure::Throttled { until: T0 + m(3) }, &st, T0);
    assert!(matches!(own, RetryDecision::Retry { counted: true, .. }));
    own.record(&mut st, T0);
    let _ = pf.on_failure(&rate, &mut st, T0 + m(3));
    assert_eq!(st.failures, 2);
}

#[test]
fn mailbox_full_gives_up_after_its_own_limit() {
    let p = RetryPolicy::preset(Preset::Tempfail);
    let c = transient(Category::MailboxFull, Scope::Recipient);
    let sim = p.simulate(&c, RetryState::new(T0), 10_000);
    let Some(RetryDecision::GiveUp { at, reason }) = sim.end else {
        panic!("{:?}", sim.end)
    };
    assert_eq!(reason, GiveUpReason::CategoryLimit(Category::MailboxFull));
    assert_eq!(reason.ended_by().name(), "rule");
    // Its own backoff caps at 6 h (±10 %): the give-up comes within one wait of 3 d.
    assert!(at >= T0 + d(3) && at < T0 + d(3) + h(7), "{at}");
    // Exim's quota_7d idea: a user-set limit.
    let p = p.with_category(CategoryRule::new(Category::MailboxFull).give_up_after(d(7)));
    let sim = p.simulate(&c, RetryState::new(T0), 10_000);
    let Some(RetryDecision::GiveUp { reason, .. }) = sim.end else {
        panic!()
    };
    assert_eq!(
        reason,
        GiveUpReason::Lifetime,
        "the 5 d lifetime comes first"
    );
}

#[test]
fn a_give_up_names_the_category_that_ended_it() {
    let p = RetryPolicy::preset(Preset::Tempfail)
        .with_category(CategoryRule::never(Category::SpamContent))
        .with_category(CategoryRule::new(Category::Greylisted).give_up_after(h(1)));
    let spam = transient(Category::SpamContent, Scope::Message);
    let d = p.decide(&spam, &RetryState::new(T0), T0);
    assert_eq!(
        d.give_up_reason(),
        Some(GiveUpReason::NeverRetried(Category::SpamContent))
    );
    assert_eq!(
        d.to_string(),
        format!("give up at {T0}: never_retried (spam_content), ended by rule")
    );
    let grey = transient(Category::Greylisted, Scope::Recipient);
    let sim = p.simulate(&grey, RetryState::new(T0), 1000);
    let reason = sim.end.and_then(|d| d.give_up_reason());
    assert_eq!(
        reason,
        Some(GiveUpReason::CategoryLimit(Category::Greylisted))
    );
    assert_eq!(
        reason.and_then(GiveUpReason::category),
        Some(Category::Greylisted)
    );
}

#[test]
fn one_custom_backoff_and_entropy_through_the_decider() {
    // The decider's backoff replaces only the default: a category's own backoff wins.
    let p = RetryPolicy::new(Fixed { delay: h(1) })
        .with_category(CategoryRule::new(Category::Greylisted).backoff(Fixed { delay: m(5) }));
    let mine = Fixed { delay: m(7) };
    let st = RetryState::new(T0);
    let other = transient(Category::ServerError, Scope::Destination);
    let grey = transient(Category::Greylisted, Scope::Recipient);
    let mut dec = p.decider().backoff(&mine);
    assert_eq!(dec.decide(&other, &st, T0).retry_at(), Some(T0 + m(7)));
    assert_eq!(dec.decide(&grey, &st, T0).retry_at(), Some(T0 + m(5)));
    assert_eq!(p.decide(&other, &st, T0).retry_at(), Some(T0 + h(1)));
    // The caller's own throttling goes through the same call, as a Failure.
    let mut st2 = st;
    let d = dec.on_failure(Failure::Throttled { until: T0 + m(2) }, &mut st2, T0);
    assert_eq!(d.retry_at(), Some(T0 + m(2)));
    assert_eq!(st2.deferrals, 1);
}

#[test]
fn scope_backoff_applies_without_a_category_rule() {
    let p = RetryPolicy::new(Fixed { delay: h(1) })
        .with_scope(Scope::Connection, Fixed { delay: m(1) })
        .with_category(CategoryRule::new(Category::TlsFailed).backoff(Fixed { delay: m(30) }));
    let st = RetryState::new(T0);
    let conn = transient(Category::ServiceUnavailable, Scope::Connection);
    assert_eq!(p.decide(&conn, &st, T0).retry_at(), Some(T0 + m(1)));
    let tls = transient(Category::TlsFailed, Scope::Connection);
    assert_eq!(p.decide(&tls, &st, T0).retry_at(), Some(T0 + m(30)));
    let dest = transient(Category::Network, Scope::Destination);
    assert_eq!(p.decide(&dest, &st, T0).retry_at(), Some(T0 + h(1)));
}

#[test]
fn lifetime_semantics() {
    let c = transient(Category::ServerError, Scope::Destination);
    let base = RetryPolicy::new(Fixed { delay: h(10) });
    let mut st = RetryState::new(T0);
    st.record_failure(T0, Some(h(10)));
    let at_limit = T0 + d(1);
    let near = T0 + d(1) - h(1);

    let p = base
        .clone()
        .with_lifetime(d(1), LifetimeMode::FailureAtOrAfter);
    assert_eq!(
        p.decide(&c, &st, near).retry_at(),
        Some(near + h(10)),
        "planned past: still retried"
    );
    assert_eq!(p.decide(&c, &st, at_limit).give_up_at(), Some(at_limit));

    let p = base.clone().with_lifetime(d(1), LifetimeMode::FailureAfter);
    assert!(
        p.decide(&c, &st, at_limit).retry_at().is_some(),
        "not after yet"
    );
    let just_after = at_limit + Duration::from_millis(1);
    assert_eq!(p.decide(&c, &st, just_after).give_up_at(), Some(just_after));

    let p = base.clone().with_lifetime(d(1), LifetimeMode::Exact);
    assert_eq!(
        p.decide(&c, &st, near).give_up_at(),
        Some(at_limit),
        "expires at the instant"
    );
    assert_eq!(p.expires_at(&st), Some(at_limit));

    let p = base.with_lifetime(d(1), LifetimeMode::NextDuePast);
    assert_eq!(
        p.decide(&c, &st, near).give_up_at(),
        Some(near),
        "gives up now"
    );
    let early = T0 + h(2);
    assert_eq!(p.decide(&c, &st, early).retry_at(), Some(early + h(10)));
}

#[test]
fn delay_warnings_are_surfaced() {
    let p = RetryPolicy::new(Fixed { delay: h(5) })
        .with_delay_warnings(DelayWarnings::repeating(vec![h(4), h(24)]));
    let c = transient(Category::ServerError, Scope::Destination);
    let mut st = RetryState::new(T0);
    assert_eq!(p.next_delay_warning(&st), Some(T0 + h(4)));
    let mut warned_at = Vec::new();
    let mut now = T0;
    while now < T0 + d(3) {
        let dec = p.on_failure(&c, &mut st, now);
        if let RetryDecision::Retry {
            delay_warning: Some(k),
            ..
        } = dec
        {
            warned_at.push((k, now.saturating_duration_since(T0).as_secs() / 3600));
        }
        now = dec.retry_at().unwrap();
    }
    // Due at 4 h, 24 h, 44 h, 64 h; sent at the first failure at or after each.
    assert_eq!(warned_at, [(1, 5), (2, 25), (3, 45), (4, 65)]);
    assert_eq!(p.next_delay_warning(&st), Some(T0 + h(84)));
    // A long silence collapses overdue warnings into one.
    let mut st = RetryState::new(T0);
    // (4, 24, 44, 64 and 84 h are due by 100 h.)
    assert_eq!(p.delay_warning_due(&st, T0 + h(100)), Some(5));
    st.warnings = 5;
    assert_eq!(p.delay_warning_due(&st, T0 + h(100)), None);
}

#[test]
fn delay_warnings_in_any_order_mean_the_same() {
    // A config file may list warning times unsorted: warning k is the k-th earliest,
    // and the repeating gap is the one between the two latest.
    let sorted = DelayWarnings::repeating(vec![h(4), h(28)]);
    let shuffled = DelayWarnings {
        at: vec![h(28), h(4)],
        repeat: true,
    };
    for k in 0..6 {
        assert_eq!(shuffled.nth(k), sorted.nth(k), "warning {k}");
    }
    for age in [0, 3, 4, 27, 28, 51, 52, 100] {
        assert_eq!(shuffled.due_by(h(age)), sorted.due_by(h(age)), "by {age} h");
    }
    assert_eq!(shuffled.nth(2), Some(h(52)));
}

#[test]
fn time_going_backwards_is_clamped() {
    let p = RetryPolicy::new(Exponential::new(m(5), Factor::integer(2))).without_lifetime();
    let c = transient(Category::ServerError, Scope::Destination);
    let mut st = RetryState::new(T0);
    let _ = p.on_failure(&c, &mut st, T0 + h(1));
    let d = p.decide(&c, &st, T0);
    assert_eq!(d.retry_at(), Some(T0 + h(1) + m(10)));
    let d = p.decide(&c, &st, Timestamp::MAX);
    assert_eq!(d.retry_at(), Some(Timestamp::MAX));
    // With the default lifetime, the end of time is past it.
    let p = RetryPolicy::new(Exponential::new(m(5), Factor::integer(2)));
    assert_eq!(p.lifetime.unwrap().limit, Duration::from_secs(5 * 86_400));
    assert_eq!(
        p.decide(&c, &st, Timestamp::MAX).give_up_at(),
        Some(Timestamp::MAX)
    );
}

#[test]
fn a_list_policy_ends_by_rule() {
    let p = RetryPolicy::new(DelayList::haraka("1m, 5m*2, 1h*3").unwrap()).without_lifetime();
    let c = transient(Category::Network, Scope::Destination);
    let sim = p.simulate(&c, RetryState::new(T0), 100);
    assert_eq!(sim.attempts.len(), 7);
    let Some(RetryDecision::GiveUp { reason, .. }) = sim.end else {
        panic!()
    };
    assert_eq!(reason, GiveUpReason::ScheduleExhausted);
}

#[cfg(feature = "serde")]
mod serde_config {
    use super::*;

    #[test]
    fn config_file_with_base_and_overrides() {
        let json = r#"{"version": 1, "base": "postfix", "name": "our-relay",
            "lifetime": {"limit": "3d", "mode": "failure_at_or_after"},
            "delay_warnings": {"at": ["4h"], "repeat": false},
            "backoff": {"backoff": {"kind": "age_based", "min": "5m", "max": "1h"},
                        "jitter": {"kind": "proportional", "permille": 100}},
            "categories": [{"category": "user_unknown", "never_retry": true}]}"#;
        let p: RetryPolicy = serde_json::from_str(json).unwrap();
        assert_eq!(p.name, "our-relay");
        assert_eq!(p.lifetime.unwrap().limit, d(3));
        assert!(p.category_rule(Category::UserUnknown).unwrap().never_retry);
        assert_eq!(p.delay_warnings, DelayWarnings::once(h(4)));
        // A multiplier may be written as a number too.
        let p: RetryPolicy = serde_json::from_str(
            r#"{"version": 1, "backoff": {"backoff": {"kind": "exponential", "base": "1m", "factor": 1.5}}}"#,
        )
        .unwrap();
        assert_eq!(
            p.backoff,
            tempfail::backoff::AnyBackoff::from(Exponential::new(m(1), Factor::from_milli(1500)))
        );
        // Keys left out come from the base.
        let minimal: RetryPolicy =
            serde_json::from_str(r#"{"version": 1, "base": "exim"}"#).unwrap();
        assert_eq!(minimal, RetryPolicy::preset(Preset::Exim));
        // "none" removes a base's lifetime.
        let p: RetryPolicy =
            serde_json::from_str(r#"{"version": 1, "base": "postfix", "lifetime": "none"}"#)
                .unwrap();
        assert_eq!(p.lifetime, None);
    }

    #[test]
    fn unknown_versions_and_bad_values_are_refused_clearly() {
        let err = serde_json::from_str::<RetryPolicy>(r#"{"version": 2, "base": "postfix"}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains(
                "retry policy format version 2 is not supported (this build reads version 1)"
            ),
            "{err}"
        );
        let err =
            serde_json::from_str::<RetryPolicy>(r#"{"version": 1, "base": "qmail"}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown preset \"qmail\""),
            "{err}"
        );
        let err = serde_json::from_str::<RetryPolicy>(
            r#"{"version": 1, "backoff": {"backoff": {"kind": "exim", "rules": "F,2h,15m; G,16h,1h,x"}}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"x\""), "{err}");
        let err = serde_json::from_str::<RetryState>(r#"{"v": 9, "arrival": 0}"#).unwrap_err();
        assert!(
            err.to_string().contains("retry state format version 9"),
            "{err}"
        );
    }

    #[test]
    fn presets_round_trip() {
        for &preset in Preset::ALL {
            let p = RetryPolicy::preset(preset);
            let json = serde_json::to_string(&p).unwrap();
            let back: RetryPolicy = serde_json::from_str(&json).unwrap();
            assert_eq!(back, p, "{json}");
            let c = transient(Category::ServerError, Scope::Destination);
            assert_eq!(
                back.simulate(&c, RetryState::new(T0).with_seed(5), 1000),
                p.simulate(&c, RetryState::new(T0).with_seed(5), 1000)
            );
        }
    }

    #[test]
    fn retry_state_round_trips_mid_schedule() {
        let p = RetryPolicy::preset(Preset::Exim);
        let c = transient(Category::ServerError, Scope::Destination);
        let mut st = RetryState::new(T0).with_seed(77);
        let mut now = T0;
        for _ in 0..12 {
            now = p.on_failure(&c, &mut st, now).retry_at().unwrap();
        }
        let json = serde_json::to_string(&st).unwrap();
        let back: RetryState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, st);
        assert_eq!(p.decide(&c, &back, now), p.decide(&c, &st, now));
    }

    #[test]
    fn decisions_serialize_in_one_readable_vocabulary() {
        let p = RetryPolicy::preset(Preset::Tempfail);
        let st = RetryState::new(T0);
        let unknown = p.decide(&transient(Category::UserUnknown, Scope::Recipient), &st, T0);
        let json = serde_json::to_string(&unknown).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"give_up":{{"at":{},"reason":{{"never_retried":"user_unknown"}}}}}}"#,
                serde_json::to_string(&T0).unwrap()
            )
        );
        assert_eq!(
            serde_json::from_str::<RetryDecision>(&json).unwrap(),
            unknown
        );
        for r in [
            GiveUpReason::Permanent,
            GiveUpReason::NeverRetried(Category::UserUnknown),
            GiveUpReason::ScheduleExhausted,
            GiveUpReason::CategoryLimit(Category::MailboxFull),
            GiveUpReason::Lifetime,
        ] {
            let j = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<GiveUpReason>(&j).unwrap(), r, "{j}");
            // The name is the string, or the map's one key.
            assert!(
                j.starts_with(&format!("\"{}\"", r.name()))
                    || j.starts_with(&format!("{{\"{}\"", r.name())),
                "{j}"
            );
            assert!(!j.contains(char::is_uppercase), "{j}");
        }
        assert_eq!(
            serde_json::to_string(&RetryDecision::Delivered).unwrap(),
            r#""delivered""#
        );
        // Reasons written before they carried their category still load.
        assert_eq!(
            serde_json::from_str::<GiveUpReason>(r#""category_limit""#).unwrap(),
            GiveUpReason::CategoryLimit(Category::Other)
        );
        // A wrong form names what is expected.
        let e = serde_json::from_str::<GiveUpReason>(r#""expird""#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown variant `expird`") && e.contains("`lifetime`"),
            "{e}"
        );
        let e = serde_json::from_str::<GiveUpReason>(r#"{"never_retried":"nobody"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nobody") && e.contains("user_unknown"), "{e}");
        let e = serde_json::from_str::<GiveUpReason>("3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a give-up reason"), "{e}");
    }
}
