//! The session machine, driven by `examples/send.rs`, against Postfix's real
//! `smtp-sink` on loopback with its fault-injection flags.
//!
//! Skipped (with a notice) when smtp-sink is not installed, unless
//! `TEMPFAIL_REQUIRE_SMTP_SINK=1`.

mod smtp_sink_util;

#[allow(dead_code)]
#[path = "../examples/send.rs"]
mod send;

use std::time::Duration;

use send::{Line, Options, Report};
use smtp_sink_util::Sink;

fn opts(sink: &Sink, to: &[&str], count: usize) -> Options {
    Options {
        server: sink.addr.clone(),
        from: "a@example.org".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        count,
        json: false,
        timeout: None,
        budget: None,
        pad: 0,
    }
}

fn run(flags: &[&str], to: &[&str], count: usize) -> Option<Report> {
    let sink = Sink::start(flags)?;
    let r = send::run(&opts(&sink, to, count)).expect("send");
    Some(r)
}

/// Every recipient of every message appears exactly once.
fn assert_complete(r: &Report, to: &[&str], count: usize) {
    assert_eq!(r.lines.len(), to.len() * count, "{:#?}", r.lines);
    for m in 0..count {
        for t in to {
            assert_eq!(
                r.lines
                    .iter()
                    .filter(|l| l.message == m && l.rcpt == *t)
                    .count(),
                1,
                "message {m} rcpt {t}"
            );
        }
    }
}

fn all(r: &Report, f: impl Fn(&Line) -> bool) -> bool {
    r.lines.iter().all(f)
}

#[test]
fn plain_delivery_pipelined() {
    let to = ["b@example.com", "c@example.com"];
    let Some(r) = run(&[], &to, 3) else { return };
    assert_complete(&r, &to, 3);
    assert!(all(&r, |l| l.outcome == "delivered"
        && l.code == Some(250)
        && l.enhanced.as_deref() == Some("2.0.0")
        && l.category.is_none()
        && l.stage == "data_end"));
    let caps = r.capabilities.as_ref().unwrap();
    assert!(caps.pipelining && caps.enhanced_status_codes);
    // EHLO, then one flight per message (envelope, then body + dot + the next
    // envelope), the last with QUIT: two round trips per message.
    assert!(r.writes <= 2 + 3, "{} writes", r.writes);
}

#[test]
fn no_pipelining_one_command_at_a_time() {
    let to = ["b@example.com", "c@example.com"];
    let Some(r) = run(&["-p"], &to, 2) else {
        return;
    };
    assert_complete(&r, &to, 2);
    assert!(all(&r, |l| l.outcome == "delivered"));
    assert!(!r.capabilities.as_ref().unwrap().pipelining);
    // EHLO, then MAIL, RCPT, RCPT, DATA, body per message, QUIT.
    assert!(r.writes >= 2 + 2 * 5, "{} writes", r.writes);
}

#[test]
fn transient_rcpt_rejection() {
    let to = ["b@example.com", "c@example.com"];
    let Some(r) = run(&["-r", "RCPT"], &to, 2) else {
        return;
    };
    assert_complete(&r, &to, 2);
    assert!(all(&r, |l| l.outcome == "transient"
        && l.code == Some(450)
        && l.enhanced.as_deref() == Some("4.3.0")
        && l.stage == "rcpt_to"
        && l.category.is_some()));
}

#[test]
fn permanent_rcpt_rejection() {
    let to = ["b@example.com"];
    let Some(r) = run(&["-f", "RCPT"], &to, 2) else {
        return;
    };
    assert_complete(&r, &to, 2);
    assert!(all(&r, |l| l.outcome == "permanent"
        && l.code == Some(500)
        && l.enhanced.as_deref() == Some("5.3.0")
        && l.stage == "rcpt_to"));
}

#[test]
fn permanent_data_rejection_then_rset_and_next_message() {
    let to = ["b@example.com", "c@example.com"];
    let Some(r) = run(&["-f", "DATA"], &to, 2) else {
        return;
    };
    assert_complete(&r, &to, 2);
    assert!(all(&r, |l| l.outcome == "permanent"
        && l.code == Some(500)
        && l.stage == "data"));
}

#[test]
fn reply_421_at_mail_ends_the_session() {
    let to = ["b@example.com", "c@example.com"];
    let Some(r) = run(&["-Q", "MAIL"], &to, 2) else {
        return;
    };
    assert_complete(&r, &to, 2);
    assert!(all(&r, |l| l.outcome == "transient"
        && l.code == Some(421)
        && l.stage == "mail_from"));
}

#[test]
fn disconnect_without_reply_is_transient_network() {
    let to = ["b@example.com", "c@example.com"];
    let Some(r) = run(&["-q", "RCPT"], &to, 2) else {
        return;
    };
    assert_complete(&r, &to, 2);
    assert!(all(&r, |l| l.outcome == "transient"
        && l.code.is_none()
        && l.enhanced.is_none()
        && l.category == Some("network")
        && l.stage == "rcpt_to"));
}

#[test]
fn no_esmtp_falls_back_to_helo() {
    let to = ["b@example.com"];
    let Some(r) = run(&["-e"], &to, 2) else {
        return;
    };
    assert_complete(&r, &to, 2);
    assert!(all(&r, |l| l.outcome == "delivered"));
    // HELO: no extensions at all.
    assert_eq!(r.capabilities, Some(Default::default()));
}

#[test]
fn enhanced_codes_without_enhancedstatuscodes() {
    let to = ["b@example.com"];
    let Some(r) = run(&["-E"], &to, 1) else {
        return;
    };
    assert!(!r.capabilities.as_ref().unwrap().enhanced_status_codes);
    assert!(all(&r, |l| l.outcome == "delivered"
        && l.enhanced.as_deref() == Some("2.0.0")));
    let Some(r) = run(&["-E", "-f", "RCPT"], &to, 1) else {
        return;
    };
    assert!(all(&r, |l| l.enhanced.as_deref() == Some("5.3.0")
        && l.outcome == "permanent"));
}

fn delayed(flags: &[&str]) -> Option<Report> {
    let sink = Sink::start(flags)?;
    let mut o = opts(&sink, &["b@example.com"], 1);
    o.timeout = Some(Duration::from_millis(700));
    let r = send::run(&o).expect("send");
    assert_complete(&r, &["b@example.com"], 1);
    assert!(all(&r, |l| l.outcome == "transient"
        && l.code.is_none()
        && l.category == Some("network")));
    Some(r)
}

#[test]
fn delay_beyond_the_configured_timeout() {
    // One command at a time: the timer that expires is DATA's.
    let Some(r) = delayed(&["-p", "-W", "DATA:3"]) else {
        return;
    };
    assert!(all(&r, |l| l.stage == "data"), "{:?}", r.lines);
    // Pipelined: smtp-sink holds back the MAIL and RCPT replies with the DATA one,
    // so the oldest reply awaited (MAIL's) is the one that times out.
    let Some(r) = delayed(&["-W", "DATA:3"]) else {
        return;
    };
    assert!(
        all(&r, |l| l.stage == "mail_from" || l.stage == "data"),
        "{:?}",
        r.lines
    );
}

#[test]
fn auth_plain_with_credentials() {
    let Some(sink) = Sink::start(&[]) else { return };
    let o = opts(&sink, &["b@example.com"], 2);
    let mut cfg = send::config(&o);
    cfg.credentials = Some(tempfail::session::Credentials::password("user", "secret"));
    // smtp-sink has no TLS: allow credentials in plain text for this test.
    cfg.auth_requires_tls = false;
    let r = send::run_with(&o, cfg).expect("send");
    assert_complete(&r, &["b@example.com"], 2);
    assert!(all(&r, |l| l.outcome == "delivered"));
    assert!(
        r.capabilities
            .as_ref()
            .unwrap()
            .supports_auth(tempfail::session::Mechanism::Plain)
    );
}

#[test]
fn auth_refused_without_tls_by_default() {
    let Some(sink) = Sink::start(&[]) else { return };
    let o = opts(&sink, &["b@example.com"], 1);
    let mut cfg = send::config(&o);
    cfg.credentials = Some(tempfail::session::Credentials::password("user", "secret"));
    let r = send::run_with(&o, cfg).expect("send");
    assert_complete(&r, &["b@example.com"], 1);
    assert!(all(&r, |l| l.outcome == "permanent"
        && l.stage == "auth"
        && l.code.is_none()));
}

#[test]
fn lmtp_reply_per_recipient() {
    let to = ["b@example.com", "c@example.com", "d@example.com"];
    let Some(sink) = Sink::start(&["-L"]) else {
        return;
    };
    let o = opts(&sink, &to, 2);
    let mut cfg = send::config(&o);
    cfg.lmtp = true;
    let r = send::run_with(&o, cfg).expect("send");
    assert_complete(&r, &to, 2);
    // smtp-sink -L answers each recipient with its own "250 2.2.0 Ok".
    assert!(all(&r, |l| l.outcome == "delivered"
        && l.enhanced.as_deref() == Some("2.2.0")
        && l.stage == "data_end"));
}
