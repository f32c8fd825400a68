//! Fuzz destination health with arbitrary sequences of requests, reports,
//! classifications, time steps and configurations.
//!
//! Input: one byte chooses the configuration (feedback, cohort limit, rates, rules,
//! budget, warm-up), then 3-byte operations: an opcode, a key (8 destinations) and an
//! argument. Asserted: no panic; a connection is granted only below the current limit
//! (window and ceiling) or as the one probe of a half-open destination; every wait,
//! suspension and death ends at or after now; no stale permit is accepted (a permit
//! returned twice is refused); the number of destinations tracked never exceeds the
//! keys used; a snapshot taken at any point restores to a registry that decides the
//! same for the rest of the input.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tempfail::destination::{
    Decision, Feedback, HealthConfig, Permit, Rate, Registry, Report, RetryBudget, RuleAction,
    SuspensionRule, Warmup, WarmupPeriod,
};
use tempfail::{Category, Classification, Classifier, Reply, Scope, Stage, Timestamp, TransportFailure};

const T0: u64 = 1_700_000_000_000;

fn config(b: u8) -> HealthConfig {
    let mut c = if b & 1 == 0 {
        HealthConfig::postfix()
    } else {
        HealthConfig::aimd()
    };
    c.initial_concurrency = u32::from(b >> 5) + 1;
    c.max_concurrency = c.initial_concurrency + u32::from(b >> 6) * 3;
    c.cohort_limit_permille = if b & 2 == 0 { 1000 } else { 1 };
    c.probe_initial = Duration::from_secs(10);
    c.probe_max = Duration::from_secs(80);
    c.lease = Duration::from_secs(60);
    c.forget_after = Duration::from_secs(30);
    c.rate_pause = Duration::from_secs(u64::from(b & 4));
    c.rate_pause_max = Duration::from_secs(20);
    if b & 8 != 0 {
        c.message_rate = Some(Rate::new(5, Duration::from_secs(7)).with_burst(u32::from(b & 3)));
        c.connection_rate = Some(Rate::new(3, Duration::from_secs(2)));
    }
    c.retry_budget = (b & 16 != 0).then_some(RetryBudget {
        ratio_permille: 300,
        min_retries: 1,
        window: Duration::from_secs(20),
    });
    if b & 32 != 0 {
        c.rules = vec![SuspensionRule {
            id: "grey".into(),
            categories: vec![Category::Greylisted],
            rules: vec![],
            scopes: vec![],
            threshold: 2,
            window: Duration::from_secs(15),
            action: RuleAction::SetRate {
                rate: Rate::new(1, Duration::from_secs(3)),
                duration: Duration::from_secs(40),
            },
        }];
        c.warmup = Some(Warmup {
            start: Timestamp::from_millis(T0 + 5_000),
            period: WarmupPeriod::Hourly,
            caps: vec![3, 5],
            growth_permille: 1500,
            until_cap: Some(40),
        });
    }
    if b & 128 != 0 {
        c.feedback = Feedback::Aimd;
    }
    c
}

fn classifications() -> Vec<Classification> {
    let cl = Classifier::builtin();
    let r = |t: &str, s| cl.classify(&Reply::parse(format!("{t}\r\n").as_bytes()).unwrap(), s);
    let mut hinted = r("421 4.7.0 try later", Stage::MailFrom);
    hinted.scope = Scope::Destination;
    hinted.retry_after = Some(Duration::from_secs(12));
    vec![
        cl.classify_failure(TransportFailure::ConnectionRefused, Stage::Connect),
        cl.classify_failure(TransportFailure::ReadTimeout, Stage::Greeting),
        r("421 4.7.0 mx Error: too many connections from 192.0.2.1", Stage::Greeting),
        r("450 4.7.1 Error: too much mail from 192.0.2.1", Stage::MailFrom),
        r("450 4.2.0 Greylisted, see http://postgrey", Stage::RcptTo),
        r("550 5.1.1 user unknown", Stage::RcptTo),
        r("250 2.0.0 ok", Stage::DataEnd),
        hinted,
    ]
}

struct Run {
    reg: Registry<u8>,
    permits: Vec<Permit>,
    returned: Vec<Permit>,
    log: Vec<String>,
}

fn step(run: &mut Run, cs: &[Classification], now: u64, op: &[u8]) -> u64 {
    let t = Timestamp::from_millis(now);
    let key = op[1] & 7;
    let arg = op[2];
    match op[0] % 8 {
        0 => return now + u64::from(arg) * 250,
        1 => {
            let before = run.reg.stats(&key, t);
            let d = run.reg.acquire_connection(&key, t);
            if let Some(u) = d.until() {
                assert!(u >= t, "{d}");
            }
            if let Decision::Go(p) = &d {
                let s = run.reg.stats(&key, t).unwrap();
                if !p.is_probe() {
                    let limit = before.map_or(run.reg.config().initial_concurrency, |b| {
                        b.window.min(b.ceiling).max(1)
                    });
                    assert!(s.in_flight <= limit, "{} > {limit}", s.in_flight);
                }
            }
            run.log.push(d.to_string());
            if let Decision::Go(p) = d {
                run.permits.push(p);
            }
        }
        2 => {
            let d = run.reg.acquire_message(&key, t, arg & 1 == 1);
            if let Some(u) = d.until() {
                assert!(u >= t, "{d}");
            }
            run.log.push(d.to_string());
            if let Decision::Go(p) = d {
                run.permits.push(p);
            }
        }
        3 | 4 => {
            if !run.permits.is_empty() {
                let p = run.permits.swap_remove(usize::from(arg) % run.permits.len());
                let c = &cs[usize::from(arg >> 4) % cs.len()];
                let report = match arg % 3 {
                    0 => Report::Success,
                    1 => Report::Unused,
                    _ => Report::Failure(c),
                };
                let r = run.reg.release(p.clone(), t, report);
                run.log.push(format!("{r:?}"));
                if r.is_ok() {
                    run.returned.push(p);
                }
            }
        }
        5 => {
            if !run.returned.is_empty() {
                let p = run.returned[usize::from(arg) % run.returned.len()].clone();
                assert!(run.reg.release(p, t, Report::Success).is_err(), "a permit returned twice");
            }
        }
        6 => run.reg.observe(&key, t, &cs[usize::from(arg) % cs.len()]),
        _ => {
            let s = run.reg.stats(&key, t);
            run.log.push(format!("{s:?}"));
        }
    }
    assert!(run.reg.len() <= 8);
    now
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg_byte, rest)) = data.split_first() else {
        return;
    };
    let cfg = config(cfg_byte);
    let cs = classifications();
    let ops: Vec<&[u8]> = rest.chunks_exact(3).take(2000).collect();
    let restore_at = ops.len() / 2;
    let mut a = Run {
        reg: Registry::new(cfg.clone()).unwrap(),
        permits: Vec::new(),
        returned: Vec::new(),
        log: Vec::new(),
    };
    let mut now = T0;
    let mut b: Option<(Run, u64)> = None;
    for (i, op) in ops.iter().enumerate() {
        if i == restore_at {
            let reg = Registry::restore(cfg.clone(), a.reg.snapshot()).unwrap();
            b = Some((
                Run {
                    reg,
                    permits: a.permits.clone(),
                    returned: a.returned.clone(),
                    log: Vec::new(),
                },
                now,
            ));
            a.log.clear();
        }
        now = step(&mut a, &cs, now, op);
        if let Some((run, t)) = &mut b {
            *t = step(run, &cs, *t, op);
        }
    }
    if let Some((run, _)) = b {
        assert_eq!(run.log, a.log, "a restored registry decided differently");
    }
});
