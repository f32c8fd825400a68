//! Properties of destination health over arbitrary sequences of requests, reports,
//! classifications and times.

use std::time::Duration;

use proptest::prelude::*;
use tempfail::destination::{
    Decision, HealthConfig, Permit, Rate, Registry, Report, RetryBudget, RuleAction, SuspensionRule,
};
use tempfail::{
    Category, Classification, Classifier, Reply, Scope, Stage, Timestamp, TransportFailure,
};

const T0: u64 = 1_700_000_000_000;

fn classifications() -> Vec<Classification> {
    let c = Classifier::builtin();
    let r = |t: &str, s| c.classify(&Reply::parse(format!("{t}\r\n").as_bytes()).unwrap(), s);
    let mut hinted = r("421 4.7.0 Try again later", Stage::MailFrom);
    hinted.scope = Scope::Destination;
    hinted.retry_after = Some(Duration::from_secs(90));
    vec![
        c.classify_failure(TransportFailure::ConnectionRefused, Stage::Connect),
        c.classify_failure(TransportFailure::ReadTimeout, Stage::Greeting),
        r(
            "421 4.7.0 mx Error: too many connections from 192.0.2.1",
            Stage::Greeting,
        ),
        r(
            "450 4.7.1 Error: too much mail from 192.0.2.1",
            Stage::MailFrom,
        ),
        r(
            "450 4.2.0 <b@example.com>: Recipient address rejected: Greylisted",
            Stage::RcptTo,
        ),
        r(
            "550 5.1.1 <b@example.com>: Recipient address rejected: User unknown",
            Stage::RcptTo,
        ),
        hinted,
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Advance(u32),
    Connect(u8),
    Message(u8, bool),
    Release(usize, u8),
    Observe(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u32..120_000).prop_map(Op::Advance),
        4 => (0u8..3).prop_map(Op::Connect),
        4 => (0u8..3, any::<bool>()).prop_map(|(k, r)| Op::Message(k, r)),
        5 => (any::<usize>(), 0u8..9).prop_map(|(i, o)| Op::Release(i, o)),
        2 => (0u8..3, 0u8..7).prop_map(|(k, c)| Op::Observe(k, c)),
    ]
}

fn config(rate: bool) -> HealthConfig {
    let mut cfg = HealthConfig::postfix();
    cfg.probe_initial = Duration::from_secs(30);
    cfg.probe_max = Duration::from_secs(240);
    cfg.lease = Duration::from_secs(300);
    cfg.forget_after = Duration::from_secs(120);
    if rate {
        cfg.message_rate = Some(Rate::new(7, Duration::from_secs(13)).with_burst(2));
    }
    cfg.retry_budget = Some(RetryBudget {
        ratio_permille: 250,
        min_retries: 2,
        window: Duration::from_secs(40),
    });
    cfg.rules = vec![SuspensionRule {
        id: "grey".into(),
        categories: vec![Category::Greylisted],
        rules: vec![],
        scopes: vec![],
        threshold: 2,
        window: Duration::from_secs(30),
        action: RuleAction::Suspend {
            duration: Duration::from_secs(45),
        },
    }];
    cfg
}

const KEYS: [&str; 3] = ["a.example", "b.example", "c.example"];

/// Runs `ops`, checking the invariants after each step; returns every decision.
fn run(cfg: &HealthConfig, ops: &[Op], restore_at: Option<usize>) -> Vec<String> {
    let cs = classifications();
    let mut reg: Registry<String> = Registry::new(cfg.clone()).unwrap();
    let mut now = T0;
    let mut permits: Vec<Permit> = Vec::new();
    let mut grants: Vec<Vec<u64>> = vec![Vec::new(); 3];
    let mut log = Vec::new();
    let mut probing: [Option<u64>; 3] = [None; 3];
    for (step, op) in ops.iter().enumerate() {
        if restore_at == Some(step) {
            #[cfg(feature = "serde")]
            {
                let json = serde_json::to_string(&reg.snapshot()).unwrap();
                reg = Registry::restore(cfg.clone(), serde_json::from_str(&json).unwrap()).unwrap();
            }
            #[cfg(not(feature = "serde"))]
            {
                reg = Registry::restore(cfg.clone(), reg.snapshot()).unwrap();
            }
        }
        let t = Timestamp::from_millis(now);
        match *op {
            Op::Advance(ms) => now += u64::from(ms),
            Op::Connect(k) => {
                let key = KEYS[usize::from(k)];
                let before = reg.stats(key, t);
                let d = reg.acquire_connection(key, t);
                log.push(format!("{d}"));
                if let Decision::Go(p) = d {
                    let s = reg.stats(key, t).unwrap();
                    if p.is_probe() {
                        // Only a half-open destination is probed, and no other
                        // connection is granted while its probe is out.
                        assert_eq!(before.map(|b| b.state), Some("half_open"));
                        probing[usize::from(k)] = Some(p.expires().as_millis());
                    } else {
                        let probe_out = probing[usize::from(k)].is_some_and(|e| e > now)
                            && before.as_ref().is_some_and(|b| b.state == "half_open");
                        assert!(!probe_out, "a connection granted beside the probe");
                        let limit = before
                            .map_or(cfg.initial_concurrency, |b| b.window.min(b.ceiling).max(1));
                        assert!(
                            s.in_flight <= limit,
                            "{} in flight > limit {limit}",
                            s.in_flight
                        );
                    }
                    permits.push(p);
                } else if let Some(u) = d.until() {
                    assert!(u >= t, "a wait ends in the future");
                }
            }
            Op::Message(k, retry) => {
                let key = KEYS[usize::from(k)];
                let d = reg.acquire_message(key, t, retry);
                log.push(format!("{d}"));
                if let Decision::Go(p) = d {
                    grants[usize::from(k)].push(now);
                    if let (Some(b), Some(s)) = (&cfg.retry_budget, reg.stats(key, t)) {
                        let allowed = (u64::from(s.first_attempts_in_window)
                            * u64::from(b.ratio_permille)
                            / 1000)
                            .max(u64::from(b.min_retries));
                        assert!(
                            u64::from(s.retries_in_window) <= allowed,
                            "retry budget exceeded"
                        );
                    }
                    permits.push(p);
                }
            }
            Op::Release(i, o) => {
                if permits.is_empty() {
                    continue;
                }
                let p = permits.swap_remove(i % permits.len());
                let report = match o {
                    0 | 1 => Report::Success,
                    2 => Report::Unused,
                    o => Report::Failure(&cs[usize::from(o) - 3]),
                };
                let r = reg.release(p, t, report);
                log.push(format!("{r:?}"));
            }
            Op::Observe(k, c) => reg.observe(KEYS[usize::from(k)], t, &cs[usize::from(c)]),
        }
    }
    // Never faster than the configured rate: for grants i < j, GCRA spacing holds.
    if let Some(r) = cfg.message_rate {
        let t_us = 60_000_000_000u64.div_ceil(r.per_minute_milli());
        for g in &grants {
            for i in 0..g.len() {
                for j in i + 1..g.len() {
                    let n = (j - i) as u64;
                    let need = n.saturating_sub(u64::from(r.burst)) * t_us;
                    assert!(
                        (g[j] - g[i]) * 1000 >= need,
                        "grants {i}..{j} in {} ms: faster than the rate",
                        g[j] - g[i]
                    );
                }
            }
        }
    }
    log
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn invariants_hold(ops in prop::collection::vec(op(), 1..200), rate in any::<bool>()) {
        run(&config(rate), &ops, None);
    }

    #[test]
    fn a_restored_registry_decides_exactly_as_the_original(
        ops in prop::collection::vec(op(), 1..150),
        at in 0usize..150,
        rate in any::<bool>(),
    ) {
        let cfg = config(rate);
        prop_assert_eq!(run(&cfg, &ops, None), run(&cfg, &ops, Some(at)));
    }

    /// A destination that is down from the start until `outage_ms`: a sender that asks
    /// whenever told to is connected again within one probe interval of the end.
    #[test]
    fn after_an_outage_it_reopens_within_one_probe_interval(outage_ms in 0u64..3_000_000) {
        let cfg = config(false);
        let refused = Classifier::builtin().classify_failure(TransportFailure::ConnectionRefused, Stage::Connect);
        let mut reg: Registry<String> = Registry::new(cfg.clone()).unwrap();
        let end = T0 + outage_ms;
        let mut now = T0;
        let mut last_probe_wait = 0u64;
        loop {
            let t = Timestamp::from_millis(now);
            match reg.acquire_connection("a", t) {
                Decision::Go(p) => {
                    if now >= end {
                        reg.release(p, t, Report::Success).unwrap();
                        break;
                    }
                    reg.release(p, t, Report::Failure(&refused)).unwrap();
                }
                Decision::Dead { until, .. } => {
                    last_probe_wait = until.as_millis() - now;
                    now = until.as_millis();
                }
                Decision::Wait { until, .. } | Decision::Suspended { until, .. } => {
                    prop_assert!(until.as_millis() > now);
                    now = until.as_millis();
                }
            }
            prop_assert!(now < T0 + 10_000_000_000, "never reopened");
        }
        let max = u64::try_from(cfg.probe_max.as_millis()).unwrap();
        prop_assert!(now - end <= last_probe_wait, "reopened {} ms after the end, probe interval {}", now - end, last_probe_wait);
        prop_assert!(last_probe_wait <= max);
    }
}
