//! The flow of `examples/lettre_retry.rs` against Postfix's real `smtp-sink` on
//! loopback: lettre's errors classified by the `lettre` feature, fed to
//! `Delivery`, deferred and retried.
#![cfg(feature = "lettre")]

mod smtp_sink_util;

use std::time::Duration;

use lettre::address::Envelope;
use lettre::{SmtpTransport, Transport};
use smtp_sink_util::{Sink, free_port};
use tempfail::classify::Classifier;
use tempfail::delivery::{Delivery, Output, RcptStatus, Recipient};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::{Category, Disposition, RcptOutcome, Timestamp};

const T0: Timestamp = Timestamp::from_secs(1_764_288_000);

fn send(addr: &str, to: &str) -> RcptOutcome {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let transport = SmtpTransport::builder_dangerous(host)
        .port(port.parse().unwrap())
        .timeout(Some(Duration::from_secs(10)))
        .build();
    let env = Envelope::new(
        Some("a@example.org".parse().unwrap()),
        vec![to.parse().unwrap()],
    )
    .unwrap();
    let result = transport.send_raw(&env, b"Subject: t\r\n\r\nHello.\r\n");
    tempfail::lettre::outcome(&Classifier::builtin(), 0, &result)
}

#[test]
fn a_4xx_rcpt_is_deferred_and_retried_with_its_clock_kept() {
    let Some(sink) = Sink::start(&["-r", "RCPT"]) else {
        return;
    };
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let mut d = Delivery::new(T0, 1, vec![Recipient::new("b@example.com")]);
    let mut now = T0;
    for attempt in 1..=2u32 {
        assert_eq!(
            d.start_attempt(now, Some("sink")).unwrap().recipients(),
            [0]
        );
        let o = send(&sink.addr, "b@example.com");
        let reply = o
            .reply
            .as_ref()
            .expect("the server's reply came through lettre");
        assert_eq!(reply.code().as_u16(), 450);
        assert_eq!(
            reply.enhanced().map(|e| e.to_string()).as_deref(),
            Some("4.3.0")
        );
        assert_eq!(o.classification.disposition, Disposition::Transient);
        d.handle_outcome(now, &policy, &o).unwrap();
        let retry = std::iter::from_fn(|| d.poll_output())
            .find_map(|out| match out {
                Output::RetryAt { at, .. } => Some(at),
                _ => None,
            })
            .expect("a retry time");
        assert!(retry > now);
        let r = &d.recipients()[0];
        assert_eq!(r.retry.failures, attempt);
        assert_eq!(r.retry.first_failure, Some(T0));
        now = retry;
    }
}

#[test]
fn acceptance_is_delivered_and_a_5xx_bounces() {
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let Some(ok) = Sink::start(&[]) else { return };
    let mut d = Delivery::new(T0, 1, vec![Recipient::new("b@example.com")]);
    let _ = d.start_attempt(T0, None).unwrap();
    let o = send(&ok.addr, "b@example.com");
    assert_eq!(o.classification.disposition, Disposition::Success);
    d.handle_outcome(T0, &policy, &o).unwrap();
    assert_eq!(d.recipients()[0].status, RcptStatus::Delivered { at: T0 });

    let Some(refuse) = Sink::start(&["-f", "RCPT"]) else {
        return;
    };
    let mut d = Delivery::new(T0, 1, vec![Recipient::new("b@example.com")]);
    let _ = d.start_attempt(T0, None).unwrap();
    let o = send(&refuse.addr, "b@example.com");
    assert_eq!(o.classification.disposition, Disposition::Permanent);
    d.handle_outcome(T0, &policy, &o).unwrap();
    assert!(d.is_finished());
    assert_eq!(d.recipients()[0].status.name(), "failed");
}

#[test]
fn a_refused_connection_is_a_transient_network_failure() {
    let port = free_port(); // nothing listens there
    let o = send(&format!("127.0.0.1:{port}"), "b@example.com");
    assert!(o.reply.is_none());
    assert_eq!(o.classification.disposition, Disposition::Transient);
    assert_eq!(o.classification.category, Some(Category::Network));
}

#[test]
fn an_address_lettre_refuses_bounces_instead_of_being_retried() {
    // No server needed: the address never reaches one. Treating it as a silent
    // recipient would make it a lost connection, retried for days.
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let bad = "not an address";
    let err = bad.parse::<lettre::Address>().unwrap_err();
    let o = tempfail::lettre::address_error_outcome(&Classifier::builtin(), 0, &err);
    assert_eq!(o.classification.disposition, Disposition::Permanent);
    let mut d = Delivery::new(T0, 1, vec![Recipient::new(bad)]);
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcome(T0, &policy, &o).unwrap();
    assert_eq!(d.recipients()[0].status.name(), "failed");
    let entries = d.dsn_recipients(&[0], &policy);
    assert_eq!(entries[0].status.to_string(), "5.1.3");
}
