//! The policy lab: determinism, the models against their documented behaviour,
//! assertions a user writes about a policy, and hostile scenario files.
#![cfg(feature = "sim")]

#[allow(dead_code)]
#[path = "../examples/simulate.rs"]
mod simulate;

use std::time::Duration;

use tempfail::backoff::{DelayList, Fixed};
use tempfail::sim::{
    self, Behaviour, Class, Contender, DestinationModel, Model, Refusal, Scenario, Stream,
};
use tempfail::{Category, Classifier, Disposition, Preset, Reply, RetryPolicy};

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn json(m: &sim::Metrics) -> String {
    serde_json::to_string(m).unwrap()
}

#[test]
fn the_same_scenario_and_seed_give_byte_identical_metrics() {
    let c = Classifier::builtin();
    for name in ["mixed", "campaign_storm"] {
        let s = sim::builtin(name).unwrap().with_messages(4_000);
        for contender in [
            Contender::preset(Preset::Tempfail),
            Contender::preset(Preset::Postfix),
        ] {
            let a = sim::run(&s, &contender, &c).unwrap();
            let b = sim::run(&s, &contender, &c).unwrap();
            assert_eq!(json(&a), json(&b));
            assert_eq!(a.series, b.series);
            assert_eq!(a.delivered + a.bounced + a.expired + a.pending, a.messages);
        }
        // Another seed draws other arrivals: the figures move.
        let other = sim::run(
            &s.clone().with_seed(99),
            &Contender::preset(Preset::Postfix),
            &c,
        )
        .unwrap();
        let first = sim::run(&s, &Contender::preset(Preset::Postfix), &c).unwrap();
        assert_ne!(json(&other), json(&first), "{name}");
    }
}

#[test]
fn every_refusal_classifies_as_the_server_means_it() {
    let c = Classifier::builtin();
    let expect = [
        (
            Refusal::Greylisted,
            Category::Greylisted,
            Disposition::Transient,
        ),
        (
            Refusal::RateLimited,
            Category::RateLimited,
            Disposition::Transient,
        ),
        (
            Refusal::MailboxFull,
            Category::MailboxFull,
            Disposition::Transient,
        ),
        (
            Refusal::UserUnknown,
            Category::UserUnknown,
            Disposition::Permanent,
        ),
        (
            Refusal::TooManyConnections,
            Category::TooManyConnections,
            Disposition::Transient,
        ),
        (
            Refusal::Congested,
            Category::ServiceUnavailable,
            Disposition::Transient,
        ),
        (
            Refusal::ConnectionRefused,
            Category::Network,
            Disposition::Transient,
        ),
        (
            Refusal::ConnectTimeout,
            Category::Network,
            Disposition::Transient,
        ),
    ];
    for (r, category, disposition) in expect {
        let v = match (r.reply(), r.failure()) {
            (Some(bytes), _) => c.classify(&Reply::parse(bytes).unwrap(), r.stage()),
            (None, Some(f)) => c.classify_failure(f, r.stage()),
            _ => unreachable!(),
        };
        assert_eq!(
            (v.category, v.disposition),
            (Some(category), disposition),
            "{r:?}: {v}"
        );
    }
}

/// postgrey (the real one is driven the same way in tests/session_postfix.rs): the
/// first attempt of a triplet and every retry before the delay are refused with
/// 450 4.2.0; a retry after the delay passes and the triplet is remembered; a retry
/// after the retry window starts over.
#[test]
fn the_greylisting_model_follows_postgrey() {
    let mut m = Model::new(
        &[Behaviour::Greylisting {
            delay: secs(300),
            retry_window: secs(2 * 86_400),
        }],
        1,
    );
    assert_eq!(m.answer(1, secs(0)), Err(Refusal::Greylisted));
    assert_eq!(m.answer(1, secs(120)), Err(Refusal::Greylisted));
    // A retry before the delay does not restart the clock.
    assert_eq!(m.answer(1, secs(300)), Ok(()));
    assert_eq!(
        m.answer(1, secs(9 * 86_400)),
        Ok(()),
        "remembered once passed"
    );
    // Another triplet, retried only after the window: greylisted again, from then.
    assert_eq!(m.answer(2, secs(0)), Err(Refusal::Greylisted));
    let late = 2 * 86_400 + 1;
    assert_eq!(m.answer(2, secs(late)), Err(Refusal::Greylisted));
    assert_eq!(m.answer(2, secs(late + 299)), Err(Refusal::Greylisted));
    assert_eq!(m.answer(2, secs(late + 300)), Ok(()));
}

/// The throttling model against its documented thresholds: `limit` per window, then
/// 421 4.7.28; `escalate_after` refusals in a window start a block of `block`, the
/// next block twice as long, at most `max_block`.
#[test]
fn the_rate_limit_model_keeps_its_thresholds() {
    let mut m = Model::new(
        &[Behaviour::RateLimit {
            limit: 20,
            window: secs(60),
            block: secs(600),
            escalate_after: 5,
            max_block: secs(1000),
        }],
        1,
    );
    let mut msg = 0;
    let mut ask = |m: &mut Model, t: u64| {
        msg += 1;
        m.answer(msg, secs(t))
    };
    for _ in 0..20 {
        assert_eq!(ask(&mut m, 0), Ok(()));
    }
    for _ in 0..4 {
        assert_eq!(ask(&mut m, 1), Err(Refusal::RateLimited));
    }
    // The fifth refusal in the window starts a 600 s block.
    assert_eq!(ask(&mut m, 2), Err(Refusal::RateLimited));
    assert_eq!(ask(&mut m, 120), Err(Refusal::RateLimited), "blocked");
    assert_eq!(ask(&mut m, 601), Err(Refusal::RateLimited), "blocked");
    assert_eq!(ask(&mut m, 602), Ok(()), "the block ended");
    // Pushed again at once: the next block is 1000 s (600 doubled, capped).
    for _ in 0..19 {
        let _ = ask(&mut m, 603);
    }
    for _ in 0..5 {
        assert_eq!(ask(&mut m, 604), Err(Refusal::RateLimited));
    }
    assert_eq!(ask(&mut m, 604 + 999), Err(Refusal::RateLimited));
    assert_eq!(ask(&mut m, 604 + 1001), Ok(()));
}

#[test]
fn outage_congestion_and_throttle_models() {
    let mut m = Model::new(
        &[Behaviour::Outage {
            start: secs(3600),
            duration: secs(600),
            failure: sim::OutageFailure::Timeout,
        }],
        1,
    );
    assert_eq!(m.answer(1, secs(3599)), Ok(()));
    assert_eq!(m.answer(1, secs(3600)), Err(Refusal::ConnectTimeout));
    assert_eq!(m.answer(1, secs(4199)), Err(Refusal::ConnectTimeout));
    assert_eq!(m.answer(1, secs(4200)), Ok(()));

    let mut m = Model::new(&[Behaviour::ConnectionThrottle { per_minute: 3 }], 1);
    let answers: Vec<_> = (0..5).map(|i| m.answer(i, secs(10)).is_ok()).collect();
    assert_eq!(answers, [true, true, true, false, false]);
    assert_eq!(m.answer(9, secs(60)), Ok(()), "a new minute");

    // Within capacity everything goes; the n-th attempt of a minute beyond it goes
    // with probability (c/n)²: 100 + Σ_{n=101}^{400} (100/n)² ≈ 175 of 400.
    let mut m = Model::new(
        &[Behaviour::Congested {
            capacity_per_minute: 100,
        }],
        3,
    );
    let mut ok = 0;
    for i in 0..400 {
        if m.answer(i, secs(60)).is_ok() {
            ok += 1;
        }
    }
    assert!((155..=195).contains(&ok), "{ok}");
}

#[test]
fn a_user_asserts_on_a_policy_in_an_ordinary_test() {
    let c = Classifier::builtin();
    // "95 % of greylisted mail delivered within 10 minutes."
    let m = sim::run(
        &sim::builtin("greylisting").unwrap().with_messages(5_000),
        &Contender::preset(Preset::Tempfail),
        &c,
    )
    .unwrap();
    let l = m.latency_secs.time_sensitive;
    assert_eq!(m.delivered, m.messages);
    assert!(l.p90 <= 600 && l.p99 <= 600, "{l:?}");
    // "Never more than 30 attempts per minute at the throttling provider."
    let m = sim::run(
        &sim::builtin("provider_throttling").unwrap(),
        &Contender::preset(Preset::Tempfail),
        &c,
    )
    .unwrap();
    let provider = m
        .destinations
        .iter()
        .find(|d| d.name == "provider.example")
        .unwrap();
    assert!(provider.peak_attempts_per_min <= 30, "{provider:?}");
    assert_eq!(m.expired + m.pending, m.expired, "nothing left queued");

    // A policy of your own, in code: retry greylisting after exactly 300 s.
    let scenario = Scenario::new("mine", 1)
        .destination(DestinationModel::new(
            "grey.example",
            1,
            vec![Behaviour::Greylisting {
                delay: secs(300),
                retry_window: secs(2 * 86_400),
            }],
        ))
        .stream(Stream::new(
            Class::TimeSensitive,
            100,
            Duration::ZERO,
            secs(3600),
        ));
    let policy = RetryPolicy::new(DelayList::repeat_last(vec![secs(300)]));
    let m = sim::run(&scenario, &Contender::new("mine", policy, None), &c).unwrap();
    assert_eq!(m.latency_secs.time_sensitive.max, 300);
    assert_eq!((m.attempts, m.wasted_attempts), (200, 100));
    // Retrying every minute costs five refused attempts per message instead.
    let m = sim::run(
        &scenario,
        &Contender::new("eager", RetryPolicy::new(Fixed { delay: secs(60) }), None),
        &c,
    )
    .unwrap();
    assert_eq!((m.attempts, m.wasted_attempts), (600, 500));
}

/// The seed's storm: with destination health, time-sensitive mail keeps a p99
/// within a few minutes of what it is without the campaign.
#[test]
fn a_campaign_storm_does_not_delay_time_sensitive_mail() {
    let c = Classifier::builtin();
    let storm = sim::builtin("campaign_storm").unwrap();
    let mut calm = storm.clone();
    calm.streams.retain(|s| s.class == Class::TimeSensitive);
    let t = Contender::preset(Preset::Tempfail);
    let with = sim::run(&storm, &t, &c)
        .unwrap()
        .latency_secs
        .time_sensitive
        .p99;
    let without = sim::run(&calm, &t, &c)
        .unwrap()
        .latency_secs
        .time_sensitive
        .p99;
    assert!(
        with <= without + 300,
        "p99 {with} s with the storm, {without} s without"
    );
}

#[test]
fn hostile_scenarios_are_refused_naming_the_field() {
    let base = r#"{"name": "x", "streams": [{"class": "bulk", "messages": 10, "over": "1h"}],
                   "destinations": [{"name": "a", "share": 1}]}"#;
    let ok: Scenario = serde_json::from_str(base).unwrap();
    ok.validate().unwrap();
    let cases = [
        (base.replace("\"messages\": 10", "\"messages\": 1000000000000"), "streams[0].messages"),
        (base.replace("\"over\": \"1h\"", "\"over\": \"0s\""), "streams[0].over"),
        (base.replace("\"over\": \"1h\"", "\"over\": \"400d\""), "streams[0].over"),
        (base.replace("\"share\": 1", "\"share\": 0"), "destinations[0].share"),
        (
            base.replace(
                "\"share\": 1}",
                "\"share\": 1, \"behaviours\": [{\"kind\": \"rate_limit\", \"limit\": 0}]}",
            ),
            "destinations[0].behaviours[0].limit",
        ),
        (
            base.replace(
                "\"share\": 1}",
                "\"share\": 1, \"behaviours\": [{\"kind\": \"unknown_users\", \"permille\": 5000}]}",
            ),
            "destinations[0].behaviours[0].permille",
        ),
        (base.replace("\"name\": \"x\"", "\"name\": \"x\", \"horizon\": \"0s\""), "horizon"),
    ];
    for (text, field) in cases {
        let err = serde_json::from_str::<Scenario>(&text)
            .map_err(|e| e.to_string())
            .and_then(|s| s.validate().map_err(|e| e.to_string()))
            .unwrap_err();
        assert!(err.contains(field), "{field}: {err}");
    }
    // Refused by the reader: unknown fields, negative or malformed durations, a
    // count too large for its type.
    for (text, word) in [
        (
            base.replace("\"name\": \"x\"", "\"name\": \"x\", \"sed\": 1"),
            "sed",
        ),
        (
            base.replace("\"over\": \"1h\"", "\"over\": \"-1h\""),
            "duration",
        ),
        (
            base.replace("\"messages\": 10", "\"messages\": 1e30"),
            "u64",
        ),
        (
            base.replace("\"class\": \"bulk\"", "\"class\": \"urgent\""),
            "urgent",
        ),
    ] {
        let err = serde_json::from_str::<Scenario>(&text)
            .unwrap_err()
            .to_string();
        assert!(err.contains(word), "{word}: {err}");
    }
    // Too many destinations.
    let mut s = ok.clone();
    s.destinations = (0..1001)
        .map(|i| DestinationModel::new(format!("d{i}"), 1, vec![]))
        .collect();
    assert!(
        s.validate()
            .unwrap_err()
            .to_string()
            .contains("destinations")
    );
    // run() checks too.
    let mut s = ok;
    s.streams[0].messages = 0;
    assert!(
        sim::run(
            &s,
            &Contender::preset(Preset::Postfix),
            &Classifier::builtin()
        )
        .is_err()
    );
}

#[test]
fn the_command_line_names_what_is_wrong() {
    let err = simulate::load("no_such_scenario").err().unwrap();
    assert!(
        err.contains("no_such_scenario") && err.contains("campaign_storm"),
        "{err}"
    );
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let err = simulate::parse(args(&["--scenario", "mixed", "--preset", "qmail"]))
        .err()
        .unwrap();
    assert!(err.contains("qmail") && err.contains("postfix"), "{err}");
    let dir = std::env::temp_dir().join(format!("tempfail-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nstreams = []\ndestinations = []\n").unwrap();
    let err = simulate::load(bad.to_str().unwrap()).err().unwrap();
    assert!(err.contains("destinations"), "{err}");
    std::fs::write(&bad, "name = ").unwrap();
    assert!(simulate::load(bad.to_str().unwrap()).is_err());
    let good = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/scenarios/five_days.toml"
    );
    let s = simulate::load(good).unwrap();
    assert_eq!(s.messages(), 1_000_000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_builtin_scenario_is_valid_and_the_policy_under_test_matters() {
    let c = Classifier::builtin();
    for name in sim::BUILTIN {
        let s = sim::builtin(name).unwrap();
        s.validate().unwrap();
        let m = sim::run(
            &s.clone().with_messages(1_000),
            &Contender::preset(Preset::Exim),
            &c,
        )
        .unwrap();
        assert_eq!(
            m.delivered + m.bounced + m.expired + m.pending,
            m.messages,
            "{name}"
        );
        assert!(m.attempts >= m.delivered + m.bounced, "{name}");
    }
    assert!(sim::builtin("nope").is_err());
}

#[test]
fn the_fuzz_seed_scenarios_are_valid_and_run() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/sim_scenario");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let s: Scenario = serde_json::from_str(&text).unwrap();
        let m = sim::run(
            &s,
            &Contender::preset(Preset::Tempfail),
            &Classifier::builtin(),
        )
        .unwrap();
        assert_eq!(m.delivered + m.bounced + m.expired + m.pending, m.messages);
        n += 1;
    }
    assert!(n >= 1);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn behaviour() -> impl Strategy<Value = Behaviour> {
        prop_oneof![
            (1u64..900, 0u64..3).prop_map(|(d, w)| Behaviour::Greylisting {
                delay: secs(d),
                retry_window: secs(d + w * 86_400),
            }),
            (1u32..30, 1u64..600, 1u64..3600, 1u32..30).prop_map(|(limit, w, b, e)| {
                Behaviour::RateLimit {
                    limit,
                    window: secs(w),
                    block: secs(b),
                    escalate_after: e,
                    max_block: secs(b * 4),
                }
            }),
            (0u64..86_400, 1u64..86_400, any::<bool>()).prop_map(|(s, d, t)| Behaviour::Outage {
                start: secs(s),
                duration: secs(d),
                failure: if t {
                    sim::OutageFailure::Timeout
                } else {
                    sim::OutageFailure::Refused
                },
            }),
            (0u32..=1000, 1u64..200_000).prop_map(|(p, d)| Behaviour::MailboxFull {
                permille: p,
                start: Duration::ZERO,
                duration: secs(d),
            }),
            (0u32..=1000).prop_map(|p| Behaviour::UnknownUsers { permille: p }),
            (1u32..20).prop_map(|n| Behaviour::ConnectionThrottle { per_minute: n }),
            (1u32..20).prop_map(|n| Behaviour::Congested {
                capacity_per_minute: n
            }),
        ]
    }

    fn scenario() -> impl Strategy<Value = Scenario> {
        (
            any::<u64>(),
            prop::collection::vec((1u32..5, prop::collection::vec(behaviour(), 0..3)), 1..4),
            1u64..120,
            1u64..86_400,
            any::<bool>(),
        )
            .prop_map(|(seed, dests, n, over, ts)| {
                let mut s = Scenario::new("prop", seed);
                for (i, (share, b)) in dests.into_iter().enumerate() {
                    s = s.destination(DestinationModel::new(format!("d{i}"), share, b));
                }
                let class = if ts {
                    Class::TimeSensitive
                } else {
                    Class::Bulk
                };
                s.stream(Stream::new(class, n, Duration::ZERO, secs(over)))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Every message is accounted for, every delivery took at least one attempt,
        /// and the run is deterministic.
        #[test]
        fn any_small_scenario_runs_and_accounts_for_every_message(s in scenario()) {
            s.validate().unwrap();
            let c = Classifier::builtin();
            for contender in [
                Contender::preset(Preset::Tempfail),
                Contender::preset(Preset::Haraka),
                Contender::named("tempfail_no_health").unwrap(),
            ] {
                let a = sim::run(&s, &contender, &c).unwrap();
                prop_assert_eq!(a.delivered + a.bounced + a.expired + a.pending, a.messages);
                prop_assert!(a.attempts >= a.delivered + a.bounced);
                prop_assert!(a.wasted_attempts <= a.attempts);
                prop_assert!(a.latency_secs.time_sensitive.p50 <= a.latency_secs.time_sensitive.max);
                let b = sim::run(&s, &contender, &c).unwrap();
                prop_assert_eq!(json(&a), json(&b));
            }
        }
    }

    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            any::<u64>().prop_map(Duration::from_millis)
        ]
    }

    /// Any behaviour, unvalidated: zero and huge limits, windows and durations.
    fn hostile_behaviour() -> impl Strategy<Value = Behaviour> {
        prop_oneof![
            (any_duration(), any_duration()).prop_map(|(delay, retry_window)| {
                Behaviour::Greylisting {
                    delay,
                    retry_window,
                }
            }),
            (
                any::<u32>(),
                any_duration(),
                any_duration(),
                any::<u32>(),
                any_duration()
            )
                .prop_map(|(limit, window, block, escalate_after, max_block)| {
                    Behaviour::RateLimit {
                        limit,
                        window,
                        block,
                        escalate_after,
                        max_block,
                    }
                }),
            (any_duration(), any_duration()).prop_map(|(start, duration)| Behaviour::Outage {
                start,
                duration,
                failure: sim::OutageFailure::Refused,
            }),
            (any::<u32>(), any_duration(), any_duration()).prop_map(
                |(permille, start, duration)| {
                    Behaviour::MailboxFull {
                        permille,
                        start,
                        duration,
                    }
                }
            ),
            any::<u32>().prop_map(|permille| Behaviour::UnknownUsers { permille }),
            any::<u32>().prop_map(|per_minute| Behaviour::ConnectionThrottle { per_minute }),
            any::<u32>().prop_map(|capacity_per_minute| Behaviour::Congested {
                capacity_per_minute
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// A model driven directly, with behaviours no scenario would accept and times
        /// that jump back and forth, answers every attempt without a panic, and the
        /// same inputs give the same answers.
        #[test]
        fn a_model_answers_any_input_without_panicking(
            behaviours in prop::collection::vec(hostile_behaviour(), 0..20),
            attempts in prop::collection::vec((any::<u32>(), any_duration()), 1..200),
            seed in any::<u64>(),
        ) {
            let mut a = Model::new(&behaviours, seed);
            let mut b = Model::new(&behaviours, seed);
            for &(msg, at) in &attempts {
                prop_assert_eq!(a.answer(msg, at), b.answer(msg, at));
            }
        }
    }
}
