//! Backoff behaviour a caller relies on: Exim's G/H details, saturation at absurd
//! attempt numbers, parsers that point at the bad token.

use std::time::Duration;

use tempfail::Timestamp;
use tempfail::backoff::{
    AgeBased, Backoff, DelayList, Entropy, EximRule, EximRules, Exponential, Factor, Fixed, Jitter,
    Jittered, Next, RetryState, parse_duration,
};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

fn h(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

fn m(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// A state whose last counted failure was at `last` with `planned` chosen then.
fn after(first: Timestamp, last: Timestamp, planned: Duration) -> RetryState {
    let mut s = RetryState::new(first);
    s.record_failure(first, Some(planned));
    s.failures = 5;
    s.last_attempt = Some(last);
    s.planned_delay = Some(planned);
    s
}

#[test]
fn exim_g_uses_the_smaller_of_planned_and_actual_gap() {
    let rules: EximRules = "G,16h,1h,1.5".parse().unwrap();
    // Planned 2 h, but the attempt ran after only 1 h 30 m: the gap used is 1 h 30 m.
    let last = T0 + h(3);
    let st = after(T0, last, h(2));
    let now = last + m(90);
    assert_eq!(rules.next_delay_seeded(&st, now), Next::Retry(m(135)));
    // Ran late (3 h after a planned 2 h): the planned gap is used.
    let now = last + h(3);
    assert_eq!(rules.next_delay_seeded(&st, now), Next::Retry(h(3)));
    // A gap below `start` restarts at `start`.
    let st = after(T0, last, m(20));
    assert_eq!(
        rules.next_delay_seeded(&st, last + m(20)),
        Next::Retry(h(1))
    );
}

#[test]
fn exim_h_draws_from_the_upper_half() {
    let rules: EximRules = "H,16h,1h,2".parse().unwrap();
    let last = T0 + h(3);
    let st = after(T0, last, h(4));
    let now = last + h(4);
    // G would give 8 h; H draws from [(1 h + 8 h) / 2, 8 h).
    let mut seen = std::collections::BTreeSet::new();
    for attempt in 0..500 {
        let Next::Retry(d) = rules.next_delay(&st, now, &mut Entropy::hashed(9, attempt)) else {
            panic!("within the cutoff")
        };
        assert!(d >= Duration::from_secs(16_200) && d < h(8), "{d:?}");
        seen.insert(d);
    }
    assert!(seen.len() > 100);
}

#[test]
fn exim_caps_gaps_at_24h_and_floors_by_age() {
    let rules: EximRules = "F,30d,3d".parse().unwrap();
    let st = RetryState::new(T0);
    assert_eq!(rules.next_delay_seeded(&st, T0), Next::Retry(h(24)));
    let rules = rules.with_max_interval(h(48));
    assert_eq!(rules.next_delay_seeded(&st, T0), Next::Retry(h(48)));

    // A message 5 days old whose first failure (of this host) was a minute ago:
    // the failing interval is floored by the message's age, so it times out.
    let default = EximRules::exim_default();
    let mut st = RetryState::new(T0);
    st.first_failure = Some(T0 + h(120));
    let now = T0 + h(120) + m(1);
    assert_eq!(default.next_delay_seeded(&st, now), Next::GiveUp);
    // Host errors are not floored: still in the first 2 h of failures.
    let host = default.with_floor_by_age(false);
    assert_eq!(host.next_delay_seeded(&st, now), Next::Retry(m(15)));
}

#[test]
fn exim_rule_strings_parse_and_report_bad_tokens() {
    let rules: EximRules = "F,2h,15m; G,16h,1h,1.5; F,4d,6h".parse().unwrap();
    assert_eq!(rules, EximRules::exim_default());
    assert_eq!(
        rules.rules[1],
        EximRule::Geometric {
            cutoff: h(16),
            start: h(1),
            mult: Factor::from_milli(1500)
        }
    );
    let err = "F,2h,15m; G,16h,1h,x1.5; F,4d,6h"
        .parse::<EximRules>()
        .unwrap_err();
    assert_eq!((err.position, err.token.as_str()), (19, "x1.5"));
    assert!(err.to_string().contains("multiplier"), "{err}");
    let err = "F,2h,15m; Q,1h,1m".parse::<EximRules>().unwrap_err();
    assert_eq!(
        (err.position, err.token.as_str(), err.expected),
        (10, "Q", "F, G or H")
    );
    let err = "F,2h,fifteen".parse::<EximRules>().unwrap_err();
    assert_eq!((err.position, err.token.as_str()), (5, "fifteen"));
}

#[test]
fn exponential_saturates_at_absurd_attempts() {
    let mut st = RetryState::new(T0);
    st.failures = 10_000;
    let exp = Exponential::new(Duration::from_secs(1), Factor::integer(10));
    // Documented answer without a cap: u64::MAX ms; the retry time saturates at
    // Timestamp::MAX, never wrapping into the past.
    let Next::Retry(d) = exp.next_delay_seeded(&st, T0) else {
        panic!()
    };
    assert_eq!(d, Duration::from_millis(u64::MAX));
    assert_eq!(T0 + d, Timestamp::MAX);
    // With a cap: the cap.
    let capped = exp.with_cap(h(6));
    assert_eq!(capped.next_delay_seeded(&st, T0), Next::Retry(h(6)));
    st.failures = u32::MAX;
    assert_eq!(
        capped.next_delay_seeded(&st, Timestamp::MAX),
        Next::Retry(h(6))
    );
    // Factor 1.5 follows floor(x × 1.5) step by step.
    let exp = Exponential::new(Duration::from_millis(3), Factor::from_milli(1500));
    let got: Vec<u128> = (0..5).map(|n| exp.delay_for(n).as_millis()).collect();
    assert_eq!(got, [3, 4, 6, 9, 13]);
    // A factor below one shrinks and never panics.
    let shrink = Exponential::new(h(1), Factor::from_milli(500));
    assert_eq!(shrink.delay_for(1), m(30));
    assert_eq!(shrink.delay_for(u32::MAX), Duration::ZERO);
}

#[test]
fn lists_repeat_or_stop() {
    let repeat = DelayList::repeat_last(vec![m(2), m(5)]);
    let stop = DelayList::stop_after(vec![m(2), m(5)]);
    let mut st = RetryState::new(T0);
    st.failures = 7;
    assert_eq!(repeat.next_delay_seeded(&st, T0), Next::Retry(m(5)));
    assert_eq!(stop.next_delay_seeded(&st, T0), Next::GiveUp);
    assert_eq!(
        DelayList::repeat_last(vec![]).next_delay_seeded(&st, T0),
        Next::GiveUp
    );
}

#[test]
fn age_based_is_postfix_clamp() {
    let pf = AgeBased::postfix();
    let st = RetryState::new(T0);
    for (age, wait) in [
        (0, 300),
        (299, 300),
        (1200, 1200),
        (3999, 3999),
        (100_000, 4000),
    ] {
        let now = T0 + Duration::from_secs(age);
        assert_eq!(
            pf.next_delay_seeded(&st, now),
            Next::Retry(Duration::from_secs(wait))
        );
    }
    // A clock before arrival is age zero, not a panic.
    assert_eq!(
        pf.next_delay_seeded(&st, Timestamp::EPOCH),
        Next::Retry(Duration::from_secs(300))
    );
    // min > max: no panic; max wins.
    let odd = AgeBased::new(h(2), h(1));
    assert_eq!(odd.next_delay_seeded(&st, T0), Next::Retry(h(1)));
}

#[test]
fn decorrelated_jitter_keeps_spreading_at_the_cap() {
    let j = Jitter::Decorrelated {
        base: m(1),
        cap: h(1),
    };
    let b = Jittered {
        backoff: Fixed { delay: m(1) },
        jitter: j,
    };
    let mut st = RetryState::new(T0);
    let mut now = T0;
    let mut at_cap = Vec::new();
    for i in 0..200 {
        let Next::Retry(d) = b.next_delay_seeded(&st, now) else {
            panic!()
        };
        assert!(d >= m(1) && d <= h(1));
        if i >= 20 {
            at_cap.push(d);
        }
        st.record_failure(now, Some(d));
        now += d;
    }
    // Not stuck at the cap: draws keep landing well below it.
    assert!(at_cap.iter().any(|&d| d < m(40)));
    assert!(at_cap.iter().any(|&d| d > m(50)));
}

#[test]
fn hashed_jitter_is_reproducible_and_keyed() {
    let b = Jittered {
        backoff: Fixed { delay: h(1) },
        jitter: Jitter::Full,
    };
    let st = RetryState::new(T0).with_seed(42);
    let a = b.next_delay_seeded(&st, T0);
    assert_eq!(a, b.next_delay_seeded(&st, T0));
    let other = (0..20)
        .map(|s| b.next_delay_seeded(&RetryState::new(T0).with_seed(s), T0))
        .collect::<std::collections::HashSet<_>>();
    assert!(other.len() > 15);
}

#[test]
fn durations_parse_with_or_without_humantime() {
    for (s, secs) in [
        ("300s", 300),
        ("5m", 300),
        ("2h", 7200),
        ("4d", 345_600),
        ("1h 30m", 5400),
        ("1h30m", 5400),
    ] {
        assert_eq!(parse_duration(s).unwrap(), Duration::from_secs(secs), "{s}");
    }
    let err = parse_duration("5 parsecs").unwrap_err();
    assert_eq!(err.position, 0);
    assert_eq!(err.token, "5 parsecs");
}

/// A zero interval is refused by the parser and by `validate`; one built in code
/// still ends: every gap is at least a second, so the failing interval grows until
/// the last cutoff passes.
#[test]
fn exim_zero_intervals_still_reach_the_cutoff() {
    use std::borrow::Cow;
    use tempfail::backoff::{EximRule, EximRules, Factor};
    use tempfail::policy::RetryPolicy;
    use tempfail::{Category, Classification, Disposition, Scope};
    assert!("G,1m,0s,0; F,2m,0s".parse::<EximRules>().is_err());
    let rules = EximRules::new(vec![
        EximRule::Geometric {
            cutoff: m(1),
            start: Duration::ZERO,
            mult: Factor::from_milli(0),
        },
        EximRule::Fixed {
            cutoff: m(2),
            interval: Duration::ZERO,
        },
    ]);
    assert!(rules.validate().is_err());
    let policy = RetryPolicy::new(rules).without_lifetime();
    let c = Classification {
        disposition: Disposition::Transient,
        category: Some(Category::ServerError),
        scope: Scope::Destination,
        retry_after: None,
        rule: Cow::Borrowed("t"),
        description: Cow::Borrowed(""),
        low_confidence: false,
    };
    let sim = policy.simulate(&c, RetryState::new(Timestamp::EPOCH), 10_000);
    assert!(sim.end.is_some(), "the chain gave up");
    assert!(sim.attempts.len() <= 122, "{} attempts", sim.attempts.len());
    assert!(sim.attempts.windows(2).all(|w| w[1] > w[0]));
}

/// Backoffs that would retry at once without end, or give up at the first failure
/// by accident, are refused by the library, naming the field; what is sound passes.
#[test]
fn unusable_backoffs_are_refused_by_the_library() {
    use tempfail::backoff::{AnyBackoff, BackoffKind, BackoffProblem};
    use tempfail::policy::{Preset, RetryPolicy};
    let e = AgeBased::try_new(Duration::ZERO, h(1)).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.problem),
        ("min", BackoffProblem::ZeroWait)
    );
    assert_eq!(
        e.to_string(),
        "min must be more than 0 (a zero wait retries at once, without end)"
    );
    let e = AgeBased::try_new(h(2), h(1)).unwrap_err();
    assert_eq!(e.to_string(), "min (2h) must not be more than max (1h)");
    assert_eq!(
        AgeBased::try_new(h(1), h(1)).unwrap(),
        AgeBased::new(h(1), h(1))
    );

    let e = EximRules::try_new(vec![]).unwrap_err();
    assert_eq!(e.problem, BackoffProblem::EmptyChain);
    let zero = EximRule::Fixed {
        cutoff: h(2),
        interval: Duration::ZERO,
    };
    let e = EximRules::try_new(vec![zero]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rules: parameter set 1 (F,2h,0s): interval must be more than 0 (a zero wait retries at once, without end)"
    );
    // The parser refuses the same, pointing at the token.
    let e = "".parse::<EximRules>().unwrap_err();
    assert!(e.to_string().contains("the rule chain is empty"), "{e}");
    let e = "F,2h,15m; H,1d,0s,1.5".parse::<EximRules>().unwrap_err();
    assert_eq!((e.position, e.token.as_str()), (15, "0s"));

    assert!(
        Fixed {
            delay: Duration::ZERO
        }
        .validate()
        .is_err()
    );
    let shrinking = Exponential::new(m(1), Factor::from_milli(500));
    assert_eq!(
        shrinking.validate().unwrap_err().problem,
        BackoffProblem::FactorBelowOne(Factor::from_milli(500))
    );
    assert!(
        Exponential::new(h(1), Factor::integer(2))
            .with_cap(m(5))
            .validate()
            .is_err()
    );
    assert!(DelayList::repeat_last(vec![]).validate().is_err());
    assert_eq!(
        DelayList::repeat_last(vec![m(1), Duration::ZERO])
            .validate()
            .unwrap_err()
            .field,
        "delays[1]"
    );
    // A list that stops may be empty (Haraka's `none`) or hold a zero wait: it ends.
    assert!(DelayList::stop_after(vec![]).validate().is_ok());
    assert!(
        DelayList::stop_after(vec![Duration::ZERO, m(5)])
            .validate()
            .is_ok()
    );
    let j = AnyBackoff::from(Fixed { delay: m(5) }).with_jitter(Jitter::Decorrelated {
        base: Duration::ZERO,
        cap: h(1),
    });
    assert_eq!(j.validate().unwrap_err().field, "jitter.base");
    assert!(matches!(j.backoff, BackoffKind::Fixed(_)));
    // Every preset is sound.
    for &p in Preset::ALL {
        assert_eq!(RetryPolicy::preset(p).validate(), Ok(()), "{p}");
    }
}
