//! Hostile and broken servers against the session machine: replies whose lines
//! disagree, desynchronised pipelines, servers that stop reading or trickle. None of
//! them may turn into a wrong final outcome or an unbounded wait.

mod session_util;

use session_util::{EHLO_PIPELINING, EHLO_PLAIN, Harness};
use tempfail::session::{Envelope, Event, LossReason, SessionConfig};
use tempfail::{Disposition, Stage};

fn greeted_with(cfg: SessionConfig, ehlo: &[u8]) -> Harness {
    let mut h = Harness::new(cfg);
    h.input(b"220 mx.example.com ESMTP\r\n");
    let _ = h.take_wire();
    h.input(ehlo);
    assert!(h.events.contains(&Event::Ready));
    h
}

fn greeted(ehlo: &[u8]) -> Harness {
    greeted_with(Harness::config(), ehlo)
}

fn warnings(h: &Harness) -> Vec<Stage> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::ReplyWarning { stage, .. } => Some(*stage),
            _ => None,
        })
        .collect()
}

#[test]
fn mixed_codes_at_rcpt_are_neither_accepted_nor_permanent() {
    for ehlo in [EHLO_PLAIN, EHLO_PIPELINING] {
        let mut h = greeted(ehlo);
        h.submit(Envelope::new(
            "a@example.org",
            ["b@example.com", "c@example.com"],
        ));
        let _ = h.take_wire();
        if ehlo == EHLO_PIPELINING {
            h.input(b"250 2.1.0 Ok\r\n250-2.1.5 Ok\r\n550 5.1.1 <b@example.com>: no such user\r\n250 2.1.5 Ok\r\n354 go\r\n");
        } else {
            h.input(b"250 2.1.0 Ok\r\n");
            h.input(b"250-2.1.5 Ok\r\n550 5.1.1 <b@example.com>: no such user\r\n");
            h.input(b"250 2.1.5 Ok\r\n");
            h.input(b"354 go\r\n");
        }
        h.input(b"250 2.0.0 queued\r\n");
        let o = h.outcomes();
        assert_eq!(o.len(), 2);
        let b = o.iter().find(|f| f.rcpt == 0).unwrap();
        assert_eq!(b.disposition, Disposition::Transient, "{o:?}");
        assert_eq!(b.code, Some(550));
        let c = o.iter().find(|f| f.rcpt == 1).unwrap();
        assert_eq!(c.disposition, Disposition::Success);
        assert_eq!(warnings(&h), [Stage::RcptTo]);
    }
}

#[test]
fn mixed_codes_are_never_a_success_at_any_stage() {
    // The reply to each stage in turn is `250-…` then a negative line; every
    // recipient must end transient (never delivered, never permanent).
    let stages: [(&str, &[u8]); 4] = [
        ("mail", b"250-2.1.0 Ok\r\n451 4.3.0 try later\r\n"),
        ("rcpt", b"250-2.1.5 Ok\r\n550 5.1.1 no such user\r\n"),
        ("data", b"354-go ahead\r\n554 5.7.1 no\r\n"),
        (
            "dot",
            b"250-2.0.0 Ok: queued\r\n451 4.3.0 error in processing\r\n",
        ),
    ];
    for (at, bad) in stages {
        let mut h = greeted(EHLO_PLAIN);
        h.submit(Envelope::new("a@example.org", ["b@example.com"]));
        for (step, good) in [
            ("mail", &b"250 2.1.0 Ok\r\n"[..]),
            ("rcpt", b"250 2.1.5 Ok\r\n"),
            ("data", b"354 go ahead\r\n"),
            ("dot", b"250 2.0.0 queued\r\n"),
        ] {
            if h.s.is_closed() || !h.outcomes().is_empty() {
                break;
            }
            h.input(if step == at { bad } else { good });
        }
        let o = h.outcomes();
        assert_eq!(o.len(), 1, "{at}: {:?}", h.events);
        assert_eq!(o[0].disposition, Disposition::Transient, "{at}: {o:?}");
        assert!(!warnings(&h).is_empty(), "{at}: a warning event");
    }
    // At the greeting and EHLO: the session ends, transient.
    for (greeting, ehlo) in [
        (&b"220-hello\r\n554 5.7.1 go away\r\n"[..], EHLO_PLAIN),
        (
            b"220 hello\r\n",
            b"250-mx.example.com\r\n421 4.3.2 shutting down\r\n",
        ),
    ] {
        let mut h = Harness::new(Harness::config());
        h.submit(Envelope::new("a@example.org", ["b@example.com"]));
        h.input(greeting);
        if !h.s.is_closed() {
            h.input(ehlo);
        }
        let o = h.outcomes();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].disposition, Disposition::Transient, "{o:?}");
    }
}

#[test]
fn strict_replies_end_the_session_as_a_protocol_error() {
    let mut cfg = Harness::config();
    cfg.strict_replies = true;
    let mut h = greeted_with(cfg, EHLO_PLAIN);
    h.submit(Envelope::new("a@example.org", ["b@example.com"]));
    h.input(b"250 2.1.0 Ok\r\n");
    h.input(b"250-2.1.5 Ok\r\n550 5.1.1 no such user\r\n");
    let o = h.outcomes();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].disposition, Disposition::Transient);
    assert_eq!(o[0].category.as_deref(), Some("protocol"));
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::Malformed(_),
            ..
        })
    ));
    assert!(h.closed);
}
