//! Properties over arbitrary inputs: caps and jitter bounds hold, nothing panics,
//! decisions never point into the past, and a serialized-and-restored policy
//! decides exactly like the original.

use std::borrow::Cow;
use std::time::Duration;

use proptest::prelude::*;
use tempfail::backoff::{
    AgeBased, AnyBackoff, Backoff, Compact, DelayList, Entropy, EximRule, EximRules, Exponential,
    Factor, Fixed, Jitter, Next, RetryState, parse_duration, parse_haraka,
};
use tempfail::policy::{CategoryRule, DelayWarnings, LifetimeMode, RetryDecision, RetryPolicy};
use tempfail::{Category, Classification, Disposition, Scope, Timestamp};

fn dur() -> impl Strategy<Value = Duration> {
    prop_oneof![
        4 => (0u64..10_000_000_000).prop_map(Duration::from_millis),
        1 => any::<u64>().prop_map(Duration::from_millis),
    ]
}

fn small_dur() -> impl Strategy<Value = Duration> {
    (0u64..30 * 86_400).prop_map(Duration::from_secs)
}

fn ts() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        4 => (1_600_000_000_000u64..1_800_000_000_000).prop_map(Timestamp::from_millis),
        1 => any::<u64>().prop_map(Timestamp::from_millis),
    ]
}

fn state() -> impl Strategy<Value = RetryState> {
    (
        ts(),
        any::<u64>(),
        prop_oneof![0u32..50, any::<u32>()],
        proptest::option::of(ts()),
        proptest::option::of(ts()),
        proptest::option::of(dur()),
        0u32..20,
    )
        .prop_map(
            |(arrival, seed, failures, first, last, planned, warnings)| {
                let mut s = RetryState::new(arrival).with_seed(seed);
                s.failures = failures;
                s.deferrals = failures.saturating_add(warnings);
                s.first_failure = first;
                s.last_attempt = last;
                s.planned_delay = planned;
                s.warnings = warnings;
                s
            },
        )
}

fn factor() -> impl Strategy<Value = Factor> {
    prop_oneof![
        (0u32..20_000).prop_map(Factor::from_milli),
        any::<u32>().prop_map(Factor::from_milli)
    ]
}

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        (dur(), dur()).prop_map(|(base, cap)| Jitter::Decorrelated { base, cap }),
        any::<u16>().prop_map(|permille| Jitter::Proportional { permille }),
        (dur(), dur()).prop_map(|(minus, plus)| Jitter::Additive { minus, plus }),
    ]
}

fn exim_rule() -> impl Strategy<Value = EximRule> {
    (0u8..3, small_dur(), small_dur(), factor()).prop_map(|(k, cutoff, d, mult)| match k {
        0 => EximRule::Fixed {
            cutoff,
            interval: d,
        },
        1 => EximRule::Geometric {
            cutoff,
            start: d,
            mult,
        },
        _ => EximRule::Randomized {
            cutoff,
            start: d,
            mult,
        },
    })
}

fn exim() -> impl Strategy<Value = EximRules> {
    (
        proptest::collection::vec(exim_rule(), 0..5),
        small_dur(),
        any::<bool>(),
    )
        .prop_map(|(mut rules, cap, floor)| {
            rules.sort_by_key(EximRule::cutoff);
            EximRules::new(rules)
                .with_max_interval(cap)
                .with_floor_by_age(floor)
        })
}

fn backoff() -> impl Strategy<Value = AnyBackoff> {
    let kind = prop_oneof![
        dur().prop_map(|delay| AnyBackoff::from(Fixed { delay })),
        (dur(), factor(), proptest::option::of(dur())).prop_map(|(b, f, cap)| {
            let mut e = Exponential::new(b, f);
            e.cap = cap;
            AnyBackoff::from(e)
        }),
        (proptest::collection::vec(dur(), 0..12), any::<bool>()).prop_map(|(v, repeat)| {
            AnyBackoff::from(if repeat {
                DelayList::repeat_last(v)
            } else {
                DelayList::stop_after(v)
            })
        }),
        (dur(), dur(), proptest::option::of(dur())).prop_map(|(a, b, q)| {
            let mut ab = AgeBased::new(a, b);
            ab.queue_run = q;
            AnyBackoff::from(ab)
        }),
        exim().prop_map(AnyBackoff::from),
    ];
    (kind, jitter()).prop_map(|(k, j)| k.with_jitter(j))
}

fn classification() -> impl Strategy<Value = Classification> {
    (
        prop::sample::select(Disposition::ALL),
        proptest::option::of(prop::sample::select(Category::ALL)),
        prop::sample::select(Scope::ALL),
        proptest::option::of(dur()),
    )
        .prop_map(
            |(disposition, category, scope, retry_after)| Classification {
                disposition,
                category,
                scope,
                retry_after,
                rule: Cow::Borrowed("prop"),
                description: Cow::Borrowed("prop"),
                low_confidence: false,
            },
        )
}

fn mode() -> impl Strategy<Value = LifetimeMode> {
    prop::sample::select(vec![
        LifetimeMode::FailureAtOrAfter,
        LifetimeMode::FailureAfter,
        LifetimeMode::Exact,
        LifetimeMode::NextDuePast,
    ])
}

fn category_rule() -> impl Strategy<Value = CategoryRule> {
    (
        prop::sample::select(Category::ALL),
        any::<bool>(),
        proptest::option::of(backoff()),
        proptest::option::of(dur()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(cat, never, b, limit, hint, hold)| {
            let mut r = if never {
                CategoryRule::never(cat)
            } else {
                CategoryRule::new(cat)
            };
            r.backoff = b;
            r.give_up_after = limit;
            r.honour_hint = hint;
            r.hold_destination = hold;
            r
        })
}

fn policy() -> impl Strategy<Value = RetryPolicy> {
    (
        backoff(),
        proptest::collection::vec(category_rule(), 0..4),
        proptest::collection::vec((prop::sample::select(Scope::ALL), backoff()), 0..3),
        proptest::option::of((dur(), mode())),
        proptest::collection::vec(dur(), 0..4),
        any::<bool>(),
        any::<bool>(),
        (dur(), dur()),
    )
        .prop_map(
            |(b, cats, scopes, life, warn, repeat, count, (hmin, hmax))| {
                let mut p = RetryPolicy::new(b)
                    .count_rate_limits(count)
                    .with_hint_bounds(hmin, hmax)
                    .with_delay_warnings(if repeat {
                        DelayWarnings::repeating(warn)
                    } else {
                        DelayWarnings {
                            at: warn,
                            repeat: false,
                        }
                    });
                for r in cats {
                    p = p.with_category(r);
                }
                for (s, b) in scopes {
                    p = p.with_scope(s, b);
                }
                p = match life {
                    Some((limit, m)) => p.with_lifetime(limit, m),
                    None => p.without_lifetime(),
                };
                p
            },
        )
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn exponential_respects_its_cap_and_grows(base in dur(), f in factor(), cap in dur(), n in any::<u32>()) {
        let e = Exponential::new(base, f).with_cap(cap);
        let d = e.delay_for(n);
        prop_assert!(d <= cap);
        if f.milli() >= 1000 {
            prop_assert!(e.delay_for(n.saturating_add(1)) >= d);
            prop_assert!(d >= base.min(cap) || base.as_millis() > u64::MAX as u128);
        }
    }

    #[test]
    fn factor_is_exact_floor_with_saturation(x in any::<u64>(), f in factor()) {
        let exact = u128::from(x) * u128::from(f.milli()) / 1000;
        prop_assert_eq!(u128::from(f.apply(x)), exact.min(u128::from(u64::MAX)));
    }

    #[test]
    fn jitter_stays_within_its_formula(j in jitter(), d in dur(), st in state(), key in any::<u64>()) {
        let x = ms(j.apply(d, &st, &mut Entropy::hashed(key, 1)));
        let dm = ms(d).min(u64::MAX as u128);
        match j {
            Jitter::None => prop_assert_eq!(x, dm),
            Jitter::Full => prop_assert!(x <= dm),
            Jitter::Equal => prop_assert!(x >= dm / 2 && x <= dm),
            Jitter::Proportional { permille } => {
                let r = dm * u128::from(permille.min(1000)) / 1000;
                prop_assert!(x + r >= dm && x <= dm + r);
            }
            Jitter::Additive { minus, plus } => {
                prop_assert!(x + ms(minus) >= dm);
                prop_assert!(x <= (dm + ms(plus)).min(u64::MAX as u128));
            }
            Jitter::Decorrelated { base, cap } => {
                // The cap is applied before the draw.
                prop_assert!(x <= ms(cap));
                prop_assert!(x >= ms(base).min(ms(cap)));
                let prev = st.planned_delay.map_or(ms(base), ms);
                prop_assert!(x <= ms(base).max(prev * 3));
            }
            _ => {}
        }
        let (lo, hi) = j.bounds(d, &st);
        prop_assert!(ms(lo) <= x && x <= ms(hi));
    }

    #[test]
    fn exim_gaps_never_exceed_the_cap(rules in exim(), st in state(), now in ts(), key in any::<u64>()) {
        if let Next::Retry(d) = rules.next_delay(&st, now, &mut Entropy::hashed(key, 0)) {
            prop_assert!(d.as_secs() <= rules.max_interval.as_secs());
        }
    }

    #[test]
    fn any_backoff_never_panics(b in backoff(), st in state(), now in ts()) {
        let a = b.next_delay_seeded(&st, now);
        // Hash-based entropy: the same question gets the same answer.
        prop_assert_eq!(a, b.next_delay_seeded(&st, now));
        if let Next::Retry(d) = a {
            prop_assert!(now + d >= now);
        }
    }

    #[test]
    fn policy_decisions_never_point_into_the_past(p in policy(), c in classification(), st in state(), now in ts()) {
        let clamped = st.clamp_now(now);
        let d = p.decide(&c, &st, now);
        match d {
            RetryDecision::Retry { at, hold_destination, .. } => {
                prop_assert!(at >= clamped);
                if let Some(h) = hold_destination { prop_assert_eq!(h, at); }
            }
            RetryDecision::GiveUp { at, .. } => prop_assert!(at >= clamped),
            _ => {}
        }
        match c.disposition {
            Disposition::Success => prop_assert_eq!(d, RetryDecision::Delivered),
            Disposition::Permanent => {
                let permanent = matches!(
                    d,
                    RetryDecision::GiveUp { reason: tempfail::policy::GiveUpReason::Permanent, .. }
                );
                prop_assert!(permanent, "{:?}", d);
            }
            Disposition::Transient => {}
        }
        let mut st2 = st;
        d.record(&mut st2, now);
        prop_assert!(st2.deferrals >= st.deferrals);
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let _ = parse_duration(&s);
        let _ = parse_haraka(&s);
        let _ = s.parse::<EximRules>();
        let _ = s.parse::<Factor>();
    }

    #[test]
    fn exim_rules_round_trip_through_text(rules in exim()) {
        let text = rules.to_string();
        // The text holds the chain, not max_interval: judge the chain alone.
        let chain = EximRules::new(rules.rules.clone());
        match chain.validate() {
            Ok(()) => {
                let back: EximRules = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
                prop_assert_eq!(back.rules, rules.rules);
            }
            // An empty chain or a zero wait is refused, never read back as something else.
            Err(e) => prop_assert!(text.parse::<EximRules>().is_err(), "{text}: {e}"),
        }
    }

    #[test]
    fn haraka_lists_round_trip(entries in proptest::collection::vec((5u64..200_000, 1usize..4), 1..8)) {
        let text: Vec<String> = entries
            .iter()
            .map(|&(s, n)| format!("{}*{n}", Compact(Duration::from_secs(s))))
            .collect();
        let parsed = parse_haraka(&text.join(", ")).unwrap();
        let expected: Vec<Duration> = entries
            .iter()
            .flat_map(|&(s, n)| std::iter::repeat_n(Duration::from_secs(s), n))
            .collect();
        prop_assert_eq!(parsed, expected);
    }
}

#[cfg(feature = "serde")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn serialized_policy_decides_identically(
        p in policy(),
        cases in proptest::collection::vec((classification(), state(), ts()), 1..8),
    ) {
        let json = serde_json::to_string(&p).unwrap();
        if let Err(invalid) = p.validate() {
            // An unusable policy is refused when read, naming a field: the policy's
            // check names its path; an Exim chain's parser names the field it reads.
            let e = serde_json::from_str::<RetryPolicy>(&json).expect_err(&json).to_string();
            let named = e.starts_with("retry policy: ") || e.starts_with("rules: at byte");
            prop_assert!(named, "{invalid}: {e}");
            return Ok(());
        }
        let back: RetryPolicy = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{json}: {e}")))?;
        prop_assert_eq!(&back, &p);
        for (c, st, now) in cases {
            let st_json = serde_json::to_string(&st).unwrap();
            let st_back: RetryState = serde_json::from_str(&st_json).unwrap();
            prop_assert_eq!(back.decide(&c, &st_back, now), p.decide(&c, &st, now));
        }
    }
}

#[cfg(feature = "rand")]
proptest! {
    #[test]
    fn injected_rng_jitter_stays_within_bounds(j in jitter(), d in dur(), st in state(), seed in any::<u64>()) {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (lo, hi) = j.bounds(d, &st);
        for _ in 0..8 {
            let x = j.apply(d, &st, &mut Entropy::from_rng(&mut rng));
            prop_assert!(lo <= x && x <= hi);
        }
    }
}
