//! Destination health: Postfix's documented behaviour as vectors, and each reaction
//! a sender relies on.

use std::time::Duration;

use tempfail::destination::{
    Decision, Feedback, HealthConfig, Permit, Rate, Registry, Report, RetryBudget, RuleAction,
    SuspensionRule, WaitReason, Warmup, WarmupPeriod,
};
use tempfail::{
    Category, Classification, Classifier, Reply, Scope, Stage, Timestamp, TransportFailure,
};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);
const SEC: Duration = Duration::from_secs(1);

fn refused() -> Classification {
    Classifier::builtin().classify_failure(TransportFailure::ConnectionRefused, Stage::Connect)
}

fn reply(text: &str, stage: Stage) -> Classification {
    let r = Reply::parse(format!("{text}\r\n").as_bytes()).unwrap();
    Classifier::builtin().classify(&r, stage)
}

fn go(d: Decision) -> Permit {
    match d {
        Decision::Go(p) => p,
        other => panic!("expected go, got {other:?}"),
    }
}

fn reg(cfg: HealthConfig) -> Registry<String> {
    Registry::new(cfg).unwrap()
}

#[test]
fn postfix_dead_at_the_third_connection_failure_with_window_5_3_2() {
    let mut r = reg(HealthConfig::postfix());
    let c = refused();
    let mut windows = Vec::new();
    let mut cohorts = Vec::new();
    for i in 0..3 {
        let p = go(r.acquire_connection("example.com", T0));
        windows.push(r.stats("example.com", T0).unwrap().window);
        r.release(p, T0, Report::Failure(&c)).unwrap();
        let s = r.stats("example.com", T0).unwrap();
        cohorts.push(s.fail_cohorts);
        assert_eq!(s.state, if i < 2 { "open" } else { "dead" }, "failure {i}");
    }
    assert_eq!(windows, [5, 3, 2]);
    assert!((cohorts[0] - 0.2).abs() < 1e-6, "{cohorts:?}");
    assert!((cohorts[1] - (0.2 + 1.0 / 3.0)).abs() < 1e-5, "{cohorts:?}");
    // Dead: the cohorts reached 1.03 ≥ 1 and were reset.
    match r.acquire_connection("example.com", T0 + 299 * SEC) {
        Decision::Dead { until, cause } => {
            assert_eq!(until, T0 + 300 * SEC);
            assert_eq!(cause.rule, "connection_failures");
            assert_eq!(cause.category, Some(Category::Network));
        }
        other => panic!("{other:?}"),
    }
    // Messages for a dead destination are deferred without an attempt.
    assert_eq!(r.acquire_message("example.com", T0, false).name(), "dead");
}

#[test]
fn aimd_halves_the_window_once_per_run_of_failures() {
    let mut cfg = HealthConfig::aimd();
    cfg.initial_concurrency = 8;
    cfg.cohort_limit_permille = 10_000;
    let mut r = reg(cfg);
    let c = refused();
    let mut windows = Vec::new();
    for _ in 0..3 {
        let p = go(r.acquire_connection("a", T0));
        r.release(p, T0, Report::Failure(&c)).unwrap();
        windows.push(r.stats("a", T0).unwrap().window);
    }
    assert_eq!(windows, [4, 4, 4]);
    let p = go(r.acquire_connection("a", T0));
    r.release(p, T0, Report::Success).unwrap();
    let p = go(r.acquire_connection("a", T0));
    r.release(p, T0, Report::Failure(&c)).unwrap();
    assert_eq!(r.stats("a", T0).unwrap().window, 2);
}

#[test]
fn a_dead_destination_is_probed_once_and_the_wait_grows_to_its_cap() {
    let mut cfg = HealthConfig::postfix();
    cfg.cohort_limit_permille = 1; // dead at the first failure
    let mut r = reg(cfg);
    let c = refused();
    let p = go(r.acquire_connection("a", T0));
    r.release(p, T0, Report::Failure(&c)).unwrap();
    let mut t = T0;
    let mut waits = Vec::new();
    for _ in 0..7 {
        let until = match r.acquire_connection("a", t) {
            Decision::Dead { until, .. } => until,
            other => panic!("{other:?}"),
        };
        waits.push(until.saturating_duration_since(t).as_secs());
        t = until;
        let probe = go(r.acquire_connection("a", t));
        assert!(probe.is_probe());
        // While the probe is out, nobody else connects.
        match r.acquire_connection("a", t) {
            Decision::Wait { reason, .. } => assert_eq!(reason, WaitReason::Probing),
            other => panic!("{other:?}"),
        }
        r.release(probe, t, Report::Failure(&c)).unwrap();
    }
    assert_eq!(waits, [300, 600, 1200, 2400, 4000, 4000, 4000]);
    // The outage ends: the next probe succeeds and the destination reopens.
    t += 4000 * SEC;
    let probe = go(r.acquire_connection("a", t));
    r.release(probe, t, Report::Success).unwrap();
    let s = r.stats("a", t).unwrap();
    assert_eq!((s.state, s.window), ("open", 5));
    let p = go(r.acquire_connection("a", t));
    assert!(!p.is_probe());
}

#[test]
fn concurrency_is_never_exceeded_and_a_forgotten_permit_expires() {
    let mut cfg = HealthConfig::postfix();
    cfg.lease = Duration::from_secs(600);
    let mut r = reg(cfg);
    let permits: Vec<_> = (0..5).map(|_| go(r.acquire_connection("a", T0))).collect();
    match r.acquire_connection("a", T0) {
        Decision::Wait { until, reason } => {
            assert_eq!(until, T0 + 600 * SEC);
            assert_eq!(
                reason,
                WaitReason::Concurrency {
                    in_flight: 5,
                    limit: 5
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // A returned permit frees its slot at once; returning it twice is refused.
    let mut permits = permits.into_iter();
    let first = permits.next().unwrap();
    r.release(first.clone(), T0, Report::Unused).unwrap();
    assert_eq!(
        r.release(first, T0, Report::Unused),
        Err(tempfail::destination::PermitError::Stale)
    );
    let again = go(r.acquire_connection("a", T0));
    assert!(matches!(
        r.acquire_connection("a", T0),
        Decision::Wait { .. }
    ));
    // Nobody returns the others: at the lease's end their slots are free again, and
    // the late permits are refused.
    let t = T0 + 600 * SEC;
    for _ in 0..5 {
        let _ = go(r.acquire_connection("a", t));
    }
    let late = permits.next().unwrap();
    assert!(r.release(late, t, Report::Success).is_err());
    assert!(r.release(again, t, Report::Success).is_err());
}

#[test]
fn too_many_connections_lowers_the_ceiling_at_once_and_it_is_relearned() {
    let mut r = reg(HealthConfig::postfix());
    let c = reply(
        "421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1",
        Stage::Greeting,
    );
    assert_eq!(c.category, Some(Category::TooManyConnections));
    let mut open: Vec<_> = (0..4).map(|_| go(r.acquire_connection("a", T0))).collect();
    r.release(open.pop().unwrap(), T0, Report::Failure(&c))
        .unwrap();
    let s = r.stats("a", T0).unwrap();
    assert_eq!((s.ceiling, s.window, s.state), (3, 3, "open"));
    // It is push-back, not a dead host.
    assert_eq!(s.fail_cohorts, 0.0);
    match r.acquire_connection("a", T0) {
        Decision::Wait { reason, .. } => {
            assert_eq!(
                reason,
                WaitReason::Concurrency {
                    in_flight: 3,
                    limit: 3
                }
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.stats("a", T0 + 60 * SEC).unwrap().ceiling, 4);
    assert_eq!(r.stats("a", T0 + 600 * SEC).unwrap().ceiling, 13);
    assert_eq!(r.stats("a", T0 + 3600 * SEC).unwrap().ceiling, 20);
}

#[test]
fn rate_limited_cuts_the_configured_rate_and_it_recovers_linearly() {
    let mut cfg = HealthConfig::postfix();
    cfg.message_rate = Some(Rate::new(60, Duration::from_secs(60)));
    cfg.rate_recovery = Duration::from_secs(600);
    cfg.rate_pause = Duration::ZERO;
    let mut r = reg(cfg);
    let _ = go(r.acquire_message("a", T0, false));
    match r.acquire_message("a", T0, false) {
        Decision::Wait { until, reason } => {
            assert_eq!(until, T0 + SEC);
            assert_eq!(reason.name(), "message_rate");
        }
        other => panic!("{other:?}"),
    }
    let c = reply(
        "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address.",
        Stage::DataEnd,
    );
    r.observe("a", T0, &c);
    let rate = |r: &Registry<String>, t| r.stats("a", t).unwrap().message_rate_per_minute.unwrap();
    assert_eq!(rate(&r, T0), 30.0);
    assert_eq!(rate(&r, T0 + 300 * SEC), 45.0);
    assert_eq!(rate(&r, T0 + 600 * SEC), 60.0);
    // The next message waits one new interval (2 s).
    match r.acquire_message("a", T0 + SEC, false) {
        Decision::Wait { until, .. } => assert_eq!(until, T0 + 2 * SEC),
        other => panic!("{other:?}"),
    }
    // A second rate-limit reply with nothing accepted since is the same episode: no
    // second cut.
    r.observe("a", T0 + SEC, &c);
    assert_eq!(rate(&r, T0 + SEC), 30.0 + 30.0 / 600.0);
    // One accepted since, and it is still too fast: cut again.
    let p = go(r.acquire_message("a", T0 + 2 * SEC, false));
    r.release(p, T0 + 2 * SEC, Report::Success).unwrap();
    r.observe("a", T0 + 3 * SEC, &c);
    assert_eq!(rate(&r, T0 + 3 * SEC), (30.0 + 90.0 / 600.0) / 2.0);
}

#[test]
fn without_a_configured_rate_one_is_learned_from_the_traffic() {
    let mut cfg = HealthConfig::postfix();
    cfg.rate_pause = Duration::ZERO;
    let mut r = reg(cfg);
    // 20 messages in 10 s, then the server says too much mail.
    for i in 0..20u64 {
        let p = go(r.acquire_message("a", T0 + Duration::from_millis(i * 500), false));
        r.release(p, T0, Report::Success).unwrap();
    }
    assert_eq!(r.stats("a", T0).unwrap().message_rate_per_minute, None);
    let c = reply(
        "450 4.7.1 Error: too much mail from 192.0.2.1",
        Stage::MailFrom,
    );
    assert_eq!(c.category, Some(Category::RateLimited));
    assert_eq!(c.scope, Scope::Destination);
    let t = T0 + 10 * SEC;
    r.observe("a", t, &c);
    // 20 in 10 s is 120 per minute; halved: 60.
    assert_eq!(r.stats("a", t).unwrap().message_rate_per_minute, Some(60.0));
    assert!(matches!(
        r.acquire_message("a", t, false),
        Decision::Wait { .. }
    ));
    assert!(matches!(
        r.acquire_message("a", t + SEC, false),
        Decision::Go(_)
    ));
}

/// A limiter that counts in fixed windows answers `rate_limited` to everything until
/// its window ends: the registry pauses (doubling) instead of cutting again and again.
#[test]
fn rate_limited_replies_pause_the_destination_and_cut_once_per_episode() {
    let mut cfg = HealthConfig::postfix();
    cfg.message_rate = Some(Rate::new(600, Duration::from_secs(60)));
    cfg.rate_pause = Duration::from_secs(2);
    cfg.rate_pause_max = Duration::from_secs(8);
    let mut r = reg(cfg);
    let c = reply(
        "450 4.7.1 Error: too much mail from 192.0.2.1",
        Stage::MailFrom,
    );
    let rate = |r: &Registry<String>, t| r.stats("a", t).unwrap().message_rate_per_minute.unwrap();
    let mut t = T0;
    let mut pauses = Vec::new();
    for _ in 0..5 {
        let p = go(r.acquire_message("a", t, false));
        r.release(p, t, Report::Failure(&c)).unwrap();
        match r.acquire_message("a", t, false) {
            Decision::Suspended { until, cause } => {
                assert_eq!(cause.rule, "rate_limited");
                pauses.push(until.saturating_duration_since(t).as_secs());
                t = until;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(pauses, [2, 4, 8, 8, 8]);
    // One cut for the whole episode.
    assert!(
        (rate(&r, t) - (300.0 + 300.0 * 30.0 / 600.0)).abs() < 0.1,
        "{}",
        rate(&r, t)
    );
    // Accepted, then limited again: a new episode, the pause starts over.
    let p = go(r.acquire_message("a", t, false));
    r.release(p, t, Report::Success).unwrap();
    let p = go(r.acquire_message("a", t + SEC, false));
    r.release(p, t + SEC, Report::Failure(&c)).unwrap();
    assert_eq!(
        r.acquire_message("a", t + SEC, false).until(),
        Some(t + 3 * SEC)
    );
}

#[test]
fn a_destination_retry_hint_suspends_it_until_then() {
    let mut r = reg(HealthConfig::postfix());
    let mut c = reply("421 4.7.0 Try again in 2 minutes", Stage::MailFrom);
    c.scope = Scope::Destination;
    c.retry_after = Some(Duration::from_secs(120));
    r.observe("a", T0, &c);
    for d in [
        r.acquire_connection("a", T0),
        r.acquire_message("a", T0 + 119 * SEC, true),
    ] {
        match d {
            Decision::Suspended { until, cause } => {
                assert_eq!(until, T0 + 120 * SEC);
                assert_eq!(cause.rule, "retry_hint");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(r.acquire_connection("a", T0 + 120 * SEC).name(), "go");
}

fn grey_rule() -> SuspensionRule {
    SuspensionRule {
        id: "greylisted_thrice".into(),
        categories: vec![Category::Greylisted],
        rules: vec![],
        scopes: vec![],
        threshold: 3,
        window: Duration::from_secs(60),
        action: RuleAction::Suspend {
            duration: Duration::from_secs(600),
        },
    }
}

#[test]
fn a_suspension_rule_counts_over_a_true_sliding_window() {
    let mut cfg = HealthConfig::postfix();
    cfg.rules = vec![grey_rule()];
    let mut r = reg(cfg);
    let c = reply(
        "450 4.2.0 <b@example.com>: Recipient address rejected: Greylisted",
        Stage::RcptTo,
    );
    assert_eq!(c.category, Some(Category::Greylisted));
    // Three in 90 s, but never three within 60 s: no suspension.
    for s in [0, 45, 90] {
        r.observe("a", T0 + s * SEC, &c);
        assert_eq!(
            r.acquire_connection("a", T0 + s * SEC).name(),
            "go",
            "at {s}"
        );
    }
    // A fourth at 100 s: 45, 90, 100 are within 60 s.
    r.observe("a", T0 + 100 * SEC, &c);
    match r.acquire_message("a", T0 + 100 * SEC, false) {
        Decision::Suspended { until, cause } => {
            assert_eq!(until, T0 + 700 * SEC);
            assert_eq!(cause.rule, "greylisted_thrice");
            assert_eq!(cause.count, 3);
            assert_eq!(cause.category, Some(Category::Greylisted));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_rule_can_set_the_rate_for_a_while() {
    let mut cfg = HealthConfig::postfix();
    cfg.rules = vec![SuspensionRule {
        id: "slow_after_throttle".into(),
        categories: vec![Category::RateLimited],
        rules: vec![],
        scopes: vec![Scope::Destination],
        threshold: 1,
        window: Duration::from_secs(60),
        action: RuleAction::SetRate {
            rate: Rate::new(6, Duration::from_secs(60)),
            duration: Duration::from_secs(3600),
        },
    }];
    let mut r = reg(cfg);
    let c = reply(
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred",
        Stage::MailFrom,
    );
    r.observe("a", T0, &c);
    assert_eq!(r.stats("a", T0).unwrap().message_rate_per_minute, Some(6.0));
    assert_eq!(
        r.stats("a", T0 + 3599 * SEC)
            .unwrap()
            .message_rate_per_minute,
        Some(6.0)
    );
    // Then the rate the reply itself cut (learned from the traffic) is in force until
    // it has recovered and is dropped.
    assert_eq!(
        r.stats("a", T0 + 3600 * SEC)
            .unwrap()
            .message_rate_per_minute,
        None
    );
}

#[test]
fn warm_up_caps_grow_day_by_day() {
    let mut cfg = HealthConfig::postfix();
    cfg.warmup = Some(Warmup {
        start: T0,
        period: WarmupPeriod::Daily,
        caps: vec![2, 4],
        growth_permille: 2000,
        until_cap: Some(16),
    });
    let mut r = reg(cfg);
    let day = Duration::from_secs(86_400);
    let mut sent = Vec::new();
    for d in 0..5u32 {
        let start = T0 + day * d;
        let mut n = 0;
        loop {
            match r.acquire_message("a", start, false) {
                Decision::Go(_) => n += 1,
                Decision::Wait { until, reason } => {
                    assert_eq!(until, start + day);
                    assert_eq!(reason.name(), "warm_up");
                    break;
                }
                other => panic!("{other:?}"),
            }
            if n > 100 {
                break;
            }
        }
        sent.push(n);
    }
    // 2, 4, then ×2 a day until the cap reaches 16: no cap from then on.
    assert_eq!(sent, [2, 4, 8, 101, 101]);
}

#[test]
fn the_retry_budget_bounds_retries_by_first_attempts() {
    let mut cfg = HealthConfig::postfix();
    cfg.retry_budget = Some(RetryBudget {
        ratio_permille: 200,
        min_retries: 3,
        window: Duration::from_secs(60),
    });
    let mut r = reg(cfg);
    // Three retries are always allowed; the fourth waits.
    for _ in 0..3 {
        let _ = go(r.acquire_message("a", T0, true));
    }
    match r.acquire_message("a", T0, true) {
        Decision::Wait { reason, until } => {
            assert_eq!(
                reason,
                WaitReason::RetryBudget {
                    retries: 3,
                    allowed: 3
                }
            );
            // The window is four quarter-windows: the retries leave it when the
            // quarter they were counted in does, 45 to 60 s from now.
            assert!(until > T0 + 45 * SEC && until <= T0 + 60 * SEC, "{until}");
        }
        other => panic!("{other:?}"),
    }
    // First attempts are never held by it, and each five allow one more retry.
    for _ in 0..20 {
        let _ = go(r.acquire_message("a", T0, false));
    }
    let _ = go(r.acquire_message("a", T0, true));
    assert_eq!(r.acquire_message("a", T0, true).name(), "wait");
    let s = r.stats("a", T0).unwrap();
    assert_eq!((s.first_attempts_in_window, s.retries_in_window), (20, 4));
}

#[test]
fn a_delivery_signal_is_taken_as_is() {
    let mut r = reg(HealthConfig::postfix());
    let signal = tempfail::delivery::DestinationSignal {
        at: T0,
        remote_mta: Some("mx.example.com".into()),
        classification: reply(
            "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred",
            Stage::MailFrom,
        ),
        hold_until: Some(T0 + 900 * SEC),
    };
    r.observe_signal("example.com", &signal);
    match r.acquire_connection("example.com", T0 + SEC) {
        Decision::Suspended { until, cause } => {
            assert_eq!(until, T0 + 900 * SEC);
            assert_eq!(cause.rule, "policy_hold");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn idle_healthy_destinations_are_forgotten_and_the_rest_kept() {
    let mut cfg = HealthConfig::postfix();
    cfg.forget_after = Duration::from_secs(600);
    cfg.cohort_limit_permille = 1;
    let mut r = reg(cfg);
    let c = refused();
    for i in 0..5000 {
        let k = format!("d{i}.example");
        let p = go(r.acquire_connection(&k, T0));
        let report = if i % 1000 == 0 {
            Report::Failure(&c)
        } else {
            Report::Success
        };
        r.release(p, T0, report).unwrap();
    }
    assert_eq!(r.len(), 5000);
    // Later, traffic to other destinations sweeps the idle ones a little at a time.
    let t = T0 + 601 * SEC;
    for i in 0..6000 {
        let k = format!("e{}.example", i % 10);
        let p = go(r.acquire_connection(&k, t));
        r.release(p, t, Report::Success).unwrap();
    }
    // The five dead destinations stay (until their probe), the ten busy ones too.
    assert_eq!(r.len(), 15);
    assert_eq!(r.stats("d1000.example", t).unwrap().state, "half_open");
}

#[test]
fn bad_configurations_name_the_field_and_the_rule() {
    let mut cfg = HealthConfig::postfix();
    cfg.max_concurrency = 2;
    let e = Registry::<String>::new(cfg).unwrap_err();
    assert_eq!(e.field, "max_concurrency");
    let mut cfg = HealthConfig::postfix();
    let mut rule = grey_rule();
    rule.threshold = 0;
    cfg.rules = vec![rule];
    let e = Registry::<String>::new(cfg).unwrap_err();
    assert_eq!(
        (e.rule.as_deref(), &*e.field),
        (Some("greylisted_thrice"), "threshold")
    );
    assert!(
        e.to_string()
            .contains("rule \"greylisted_thrice\": field `threshold`"),
        "{e}"
    );
    let mut cfg = HealthConfig::postfix();
    cfg.rules = vec![grey_rule(), grey_rule()];
    assert_eq!(Registry::<String>::new(cfg).unwrap_err().field, "id");
    let mut cfg = HealthConfig::postfix();
    cfg.message_rate = Some(Rate::new(0, Duration::from_secs(1)));
    assert_eq!(
        Registry::<String>::new(cfg).unwrap_err().field,
        "message_rate"
    );
    assert_eq!(HealthConfig::aimd().feedback, Feedback::Aimd);
}

#[cfg(feature = "serde")]
#[test]
fn configuration_is_data() {
    let json = r#"{
        "initial_concurrency": 5, "max_concurrency": 20, "feedback": "postfix",
        "cohort_limit_permille": 1000, "probe_initial": "5m", "probe_max": "1h6m40s",
        "lease": "30m", "forget_after": "1h", "ceiling_recovery": "1m",
        "message_rate": {"count": 100, "per": "1m", "burst": 10},
        "rate_cut_permille": 500, "rate_recovery": "10m",
        "min_rate": {"count": 1, "per": "1m"},
        "rules": [{"id": "grey", "categories": ["greylisted"], "threshold": 3,
                   "window": "1m", "action": {"suspend": {"duration": "10m"}}}],
        "retry_budget": {"ratio_permille": 200, "min_retries": 3, "window": "1m"},
        "max_hint": "6h"
    }"#;
    let cfg: HealthConfig = serde_json::from_str(json).unwrap();
    assert_eq!(cfg.rules[0].threshold, 3);
    // Left out: the Postfix preset's value.
    assert_eq!(cfg.rate_pause, HealthConfig::postfix().rate_pause);
    assert!(Registry::<String>::new(cfg).is_ok());
    let bad = json.replace("\"threshold\": 3", "\"treshold\": 3");
    let e = serde_json::from_str::<HealthConfig>(&bad).unwrap_err();
    assert!(e.to_string().contains("treshold"), "{e}");
}

#[cfg(feature = "serde")]
#[test]
fn a_restored_registry_keeps_its_permits_and_decides_the_same() {
    let mut r = reg(HealthConfig::postfix());
    let p = go(r.acquire_connection("a", T0));
    let c = refused();
    let q = go(r.acquire_connection("a", T0));
    r.release(q, T0, Report::Failure(&c)).unwrap();
    let json = serde_json::to_string(&r.snapshot()).unwrap();
    assert!(json.starts_with(r#"{"format_version":1"#), "{json}");
    let mut back: Registry<String> = Registry::restore(
        HealthConfig::postfix(),
        serde_json::from_str(&json).unwrap(),
    )
    .unwrap();
    assert_eq!(back.stats("a", T0), r.stats("a", T0));
    back.release(p.clone(), T0, Report::Success).unwrap();
    r.release(p, T0, Report::Success).unwrap();
    assert_eq!(
        back.acquire_connection("a", T0),
        r.acquire_connection("a", T0)
    );
    let e = serde_json::from_str::<tempfail::destination::RegistrySnapshot<String>>(
        &json.replacen("\"format_version\":1", "\"format_version\":9", 1),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("destination registry format version 9"),
        "{e}"
    );
}

/// A warm-up long past its list answers in constant time and never overflows,
/// whatever its growth.
#[test]
fn a_warm_up_centuries_on_holds_or_saturates() {
    for (growth, want) in [(1000, Some(7u64)), (u32::MAX, None)] {
        let mut cfg = HealthConfig::postfix();
        cfg.warmup = Some(Warmup {
            start: T0,
            period: WarmupPeriod::Hourly,
            caps: vec![7],
            growth_permille: growth,
            until_cap: None,
        });
        let mut r = reg(cfg);
        let t = T0 + Duration::from_secs(3600 * 24 * 365 * 300);
        let mut sent = 0u64;
        let reason = loop {
            match r.acquire_message("a", t, false) {
                Decision::Go(_) => sent += 1,
                Decision::Wait { reason, .. } => break Some(reason),
                other => panic!("{other:?}"),
            }
            if sent > 50 {
                break None;
            }
        };
        match want {
            Some(cap) => {
                assert_eq!(sent, cap);
                assert_eq!(reason, Some(WaitReason::WarmUp { cap }));
            }
            // Grown past u64::MAX: saturated, so nothing this side of it waits.
            None => assert!(reason.is_none() && sent > 50),
        }
    }
}
