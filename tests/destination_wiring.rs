//! Destination health wired to the delivery machine and a deferral queue, with no
//! type translated by hand: a dead or suspended destination's messages are put back
//! in the queue at the reopening time without an attempt, the delivery's destination
//! signals go to the registry as they are, and the policy's attempt count only sees
//! real attempts.

use std::time::Duration;

use tempfail::delivery::{Delivery, Output, Recipient};
use tempfail::destination::{Decision, HealthConfig, Registry, Report};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::queue::{DeferralQueue, WheelQueue};
use tempfail::{Classifier, RcptOutcome, Reply, Stage, Timestamp, TransportFailure};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);
const DEST: &str = "down.example";

#[test]
fn a_dead_destination_defers_its_messages_without_attempts() {
    let classifier = Classifier::builtin();
    let policy = RetryPolicy::preset(Preset::Postfix);
    let mut reg: Registry<String> = Registry::new(HealthConfig::postfix()).unwrap();
    let mut deliveries: Vec<Delivery> = (0..6)
        .map(|i| Delivery::new(T0, i, vec![Recipient::new(format!("u{i}@down.example"))]))
        .collect();
    let mut queue = WheelQueue::new();
    for i in 0..deliveries.len() {
        queue.insert(i, T0, 0).unwrap();
    }
    let refused = classifier.classify_failure(TransportFailure::ConnectionRefused, Stage::Connect);
    let up_at = T0 + Duration::from_secs(3600);
    let mut now = T0;
    let mut connections = 0;
    let mut held = 0;
    while let Some(next) = queue.next_due() {
        now = now.max(next);
        assert!(now < T0 + Duration::from_secs(5 * 86_400), "never finished");
        while let Some(popped) = queue.pop_due(now) {
            let i = popped.item;
            let d = &mut deliveries[i];
            d.handle_timeout(now, &policy);
            if d.is_finished() {
                continue;
            }
            if !d.is_due(now) {
                if let Some(t) = d.next_wakeup(&policy) {
                    queue.insert(i, t, 0).unwrap();
                }
                continue;
            }
            match reg.acquire_connection(DEST, now) {
                Decision::Go(permit) => {
                    connections += 1;
                    let attempt = d.start_attempt(now, Some("mx.down.example")).unwrap();
                    if now >= up_at {
                        for r in attempt.recipients() {
                            let ok = RcptOutcome::from_reply(
                                &classifier,
                                *r,
                                Reply::parse(b"250 2.0.0 queued\r\n").unwrap(),
                                Stage::DataEnd,
                            );
                            d.handle_outcome(now, &policy, &ok).unwrap();
                        }
                        d.end_attempt(now, &policy, &classifier);
                        reg.release(permit, now, Report::Success).unwrap();
                    } else {
                        d.handle_transport_failure(now, &policy, &refused, Stage::Connect)
                            .unwrap();
                        reg.release(permit, now, Report::Failure(&refused)).unwrap();
                    }
                    while let Some(out) = d.poll_output() {
                        if let Output::Destination(signal) = out {
                            reg.observe_signal(DEST, &signal);
                        }
                    }
                    if let Some(t) = d.next_wakeup(&policy) {
                        queue.insert(i, t, 0).unwrap();
                    }
                }
                other => {
                    // Not now: back in the queue at the reopening time, no attempt.
                    held += 1;
                    let attempts = d.attempts();
                    let until = other.until().unwrap();
                    assert!(until > now, "{other}");
                    queue.insert(i, until, 0).unwrap();
                    assert_eq!(d.attempts(), attempts);
                }
            }
        }
    }
    let delivered = deliveries
        .iter()
        .filter(|d| d.recipients()[0].status.name() == "delivered")
        .count();
    assert_eq!(delivered, 6);
    // Without the registry every message would have tried on its own schedule
    // (Postfix's: 5, 10, 20, 40 min, …: about 5 attempts each in the hour, 30 in
    // all); with it, three connections found the destination dead, then one probe
    // per dead period (5, 10, 20, 40 min apart) and one more to deliver everything.
    let attempts: u32 = deliveries.iter().map(Delivery::attempts).sum();
    assert!(connections <= 3 + 5 + 6, "{connections} connections");
    assert!(attempts <= 3 + 5 + 6, "{attempts} attempts");
    assert!(held > 0);
    // Every message waited for the destination, none gave up.
    assert!(
        now >= up_at && now <= up_at + Duration::from_secs(40 * 60),
        "{now}"
    );
}
