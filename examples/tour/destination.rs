//! Section: destination health. Three destinations under a virtual clock: one that
//! throttles us (`421 4.7.28`), one that is down for an hour, one that greylists.

use std::time::Duration;

use tempfail::destination::{Decision, HealthConfig, Registry, Report, RuleAction, SuspensionRule};
use tempfail::{Category, Classifier, Reply, Stage, Timestamp, TransportFailure};

fn at(t0: Timestamp, t: Timestamp) -> String {
    let s = t.as_millis().saturating_sub(t0.as_millis()) / 1000;
    format!("+{}m{:02}s", s / 60, s % 60)
}

fn show_decision(t0: Timestamp, now: Timestamp, what: &str, d: &Decision) {
    let answer = match d {
        Decision::Go(p) if p.is_probe() => "go (the one probe)".to_string(),
        Decision::Go(_) => "go".to_string(),
        Decision::Wait { until, reason } => format!("wait until {}: {reason}", at(t0, *until)),
        Decision::Suspended { until, cause } => {
            format!("suspended until {}: {cause}", at(t0, *until))
        }
        Decision::Dead { until, cause } => format!("dead until {}: {cause}", at(t0, *until)),
    };
    println!("  {:>8}  {what:<10} {answer}", at(t0, now));
}

pub fn show() {
    crate::heading("Destination health");
    let t0 = Timestamp::from_secs(1_700_000_000);
    let sec = |s: u64| t0 + Duration::from_secs(s);
    let classifier = Classifier::builtin();
    let reply = |text: &str, stage| {
        classifier.classify(
            &Reply::parse(format!("{text}\r\n").as_bytes()).unwrap(),
            stage,
        )
    };
    let mut cfg = HealthConfig::postfix();
    // A deployment's own rule: three greylistings within five minutes mean this
    // destination greylists everything new; send it one message a minute for a while.
    cfg.rules = vec![SuspensionRule {
        id: "greylists_everything".into(),
        categories: vec![Category::Greylisted],
        rules: vec![],
        scopes: vec![],
        threshold: 3,
        window: Duration::from_secs(300),
        action: RuleAction::SetRate {
            rate: tempfail::destination::Rate::new(1, Duration::from_secs(60)),
            duration: Duration::from_secs(900),
        },
    }];
    let mut reg: Registry<String> = Registry::new(cfg).expect("a valid configuration");

    println!("throttle.example: sends fast, then answers 421 4.7.28");
    let throttled = reply(
        "421 4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.",
        Stage::DataEnd,
    );
    println!(
        "  reply read as {} / {} / {} ({})",
        throttled.disposition,
        throttled.category.map_or("-", |c| c.name()),
        throttled.scope,
        throttled.rule
    );
    let mut sent = 0;
    for i in 0..30u64 {
        let now = t0 + Duration::from_millis(i * 500);
        if let Decision::Go(p) = reg.acquire_message("throttle.example", now, false) {
            sent += 1;
            let _ = reg.release(p, now, Report::Success);
        }
    }
    println!(
        "  {:>8}  messages   {sent} accepted in 15 s (no rate configured)",
        at(t0, sec(15))
    );
    let Decision::Go(p) = reg.acquire_message("throttle.example", sec(15), false) else {
        return;
    };
    let _ = reg.release(p, sec(16), Report::Failure(&throttled));
    for s in [16, 21, 30, 60] {
        let d = reg.acquire_message("throttle.example", sec(s), false);
        show_decision(t0, sec(s), "message", &d);
        if let Decision::Go(p) = d {
            let _ = reg.release(p, sec(s), Report::Success);
        }
    }
    if let Some(st) = reg.stats("throttle.example", sec(60)) {
        println!(
            "  {:>8}  stats      rate {:.1}/min, climbing back over 10 min",
            at(t0, sec(60)),
            st.message_rate_per_minute.unwrap_or(0.0)
        );
    }

    println!();
    println!("down.example: refuses connections for an hour");
    let refused = classifier.classify_failure(TransportFailure::ConnectionRefused, Stage::Connect);
    let mut now = t0;
    let end = sec(3600);
    let mut shown = 0;
    while now < sec(2 * 3600) && shown < 14 {
        let d = reg.acquire_connection("down.example", now);
        match d {
            Decision::Go(p) => {
                let up = now >= end;
                let probe = if p.is_probe() { "the probe " } else { "" };
                if up {
                    let _ = reg.release(p, now, Report::Success);
                    let w = reg.stats("down.example", now).map_or(0, |s| s.window);
                    println!(
                        "  {:>8}  connect    go: {probe}got through, open again (window {w})",
                        at(t0, now)
                    );
                    break;
                }
                let _ = reg.release(p, now, Report::Failure(&refused));
                let s = reg.stats("down.example", now);
                println!(
                    "  {:>8}  connect    go: {probe}refused ({}), window {}, failure cohorts {:.2}",
                    at(t0, now),
                    refused.rule,
                    s.as_ref().map_or(0, |s| s.window),
                    s.as_ref().map_or(0.0, |s| s.fail_cohorts)
                );
                shown += 1;
            }
            other => {
                show_decision(t0, now, "connect", &other);
                shown += 1;
                now = other
                    .until()
                    .unwrap_or(now)
                    .max(now + Duration::from_secs(1));
            }
        }
    }

    println!();
    println!("grey.example: greylists new senders (450 4.2.0)");
    let grey = reply(
        "450 4.2.0 <b@grey.example>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/grey.example.html",
        Stage::RcptTo,
    );
    println!(
        "  reply read as {} / {} / {} ({}): the recipient waits, the destination stays open",
        grey.disposition,
        grey.category.map_or("-", |c| c.name()),
        grey.scope,
        grey.rule
    );
    for s in [0, 60, 120] {
        let d = reg.acquire_message("grey.example", sec(s), false);
        show_decision(t0, sec(s), "message", &d);
        if let Decision::Go(p) = d {
            let _ = reg.release(p, sec(s), Report::Failure(&grey));
        }
    }
    for s in [121, 150, 181] {
        let d = reg.acquire_message("grey.example", sec(s), false);
        show_decision(t0, sec(s), "message", &d);
        if let Decision::Go(p) = d {
            let _ = reg.release(p, sec(s), Report::Success);
        }
    }
    println!("  (rule greylists_everything: 3 greylistings in 5 min set 1 message/min for 15 min)");
}
