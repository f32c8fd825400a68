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

/// The replies a server that accepts the recipients in `accept` sends to one
/// pipelined transaction: MAIL, one per RCPT, DATA, and after the body the dot.
fn true_replies(accept: &[bool]) -> Vec<&'static [u8]> {
    let mut r: Vec<&'static [u8]> = vec![b"250 2.1.0 Ok\r\n"];
    for &a in accept {
        r.push(if a {
            b"250 2.1.5 Ok\r\n"
        } else {
            b"550 5.1.1 <x@example.com>: Recipient address rejected: User unknown\r\n"
        });
    }
    if accept.iter().any(|&a| a) {
        r.push(b"354 End data with <CR><LF>.<CR><LF>\r\n");
        r.push(b"250 2.0.0 Ok: queued as 4ABCD\r\n");
    } else {
        r.push(b"554 5.5.1 Error: no valid recipients\r\n");
        r.push(b"250 2.0.0 Ok\r\n"); // RSET
    }
    r
}

fn rcpts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r{i}@example.com")).collect()
}

/// Feeds `replies` one by one, then lets every timer run out: the session ends.
fn run(h: &mut Harness, replies: &[&[u8]]) {
    h.quit();
    for r in replies {
        if h.closed {
            break;
        }
        h.input(r);
    }
    for _ in 0..4 {
        if h.closed {
            break;
        }
        h.advance(std::time::Duration::from_secs(3600));
        h.timeout();
    }
    assert!(h.closed, "the session ends");
}

#[test]
fn an_extra_reply_after_mail_never_bounces_an_accepted_recipient() {
    // b is accepted, c refused. The server repeats MAIL's 250: every later reply is
    // read one command late, and DATA gets c's 550 5.1.1.
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new(
        "a@example.org",
        ["b@example.com", "c@example.com"],
    ));
    let mut replies = true_replies(&[true, false]);
    replies.insert(1, b"250 2.1.0 Ok\r\n");
    run(&mut h, &replies);
    let o = h.outcomes();
    assert_eq!(o.len(), 2);
    assert!(
        o.iter().all(|f| f.disposition == Disposition::Transient),
        "{o:?}"
    );
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::Desync(_),
            ..
        })
    ));
    // The next attempt can go without pipelining.
    let mut cfg = Harness::config();
    cfg.pipelining = false;
    let mut h = greeted_with(cfg, EHLO_PIPELINING);
    h.submit(Envelope::new("a@example.org", ["b@example.com"]));
    assert_eq!(h.take_wire(), "MAIL FROM:<a@example.org>\r\n");
}

#[test]
fn a_missing_rcpt_reply_is_detected_and_nothing_is_final() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new("a@example.org", rcpts(3)));
    let mut replies = true_replies(&[false, true, true]);
    replies.remove(2); // the second RCPT's reply never comes: 354 lands on RCPT 3
    run(&mut h, &replies);
    let o = h.outcomes();
    assert_eq!(o.len(), 3);
    assert!(
        o.iter().all(|f| f.disposition == Disposition::Transient),
        "{o:?}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// A server that sends one reply too many or too few anywhere in a pipelined
    /// transaction: no recipient it accepted is reported permanent, none it refused
    /// is reported delivered, and every recipient gets exactly one outcome.
    #[test]
    fn a_desynchronised_pipeline_retracts_nothing_it_cannot_prove(
        accept in proptest::collection::vec(proptest::prelude::any::<bool>(), 1..6),
        extra in proptest::prelude::any::<bool>(),
        pos in 0usize..16,
        which in 0usize..5,
        pipelined in proptest::prelude::any::<bool>(),
    ) {
        let mut h = greeted(if pipelined { EHLO_PIPELINING } else { EHLO_PLAIN });
        let n = accept.len();
        h.submit(Envelope::new("a@example.org", rcpts(n)));
        let mut replies = true_replies(&accept);
        let pos = pos % replies.len();
        if extra {
            let stray: [&[u8]; 5] = [
                b"250 2.1.0 Ok\r\n",
                b"250 2.1.5 Ok\r\n",
                b"550 5.1.1 <y@example.com>: User unknown\r\n",
                b"354 go ahead\r\n",
                b"451 4.3.0 try again\r\n",
            ];
            replies.insert(pos, stray[which]);
        } else {
            replies.remove(pos);
        }
        run(&mut h, &replies);
        let o = h.outcomes();
        proptest::prop_assert_eq!(o.len(), n, "{:?}", o);
        let mut seen = vec![0; n];
        for f in &o {
            seen[f.rcpt] += 1;
            if accept[f.rcpt] {
                proptest::prop_assert!(f.disposition != Disposition::Permanent, "accepted {} reported permanent: {:?}", f.rcpt, o);
            } else {
                proptest::prop_assert!(f.disposition != Disposition::Success, "refused {} reported delivered: {:?}", f.rcpt, o);
            }
        }
        proptest::prop_assert!(seen.iter().all(|&k| k == 1));
    }
}

#[test]
fn a_server_that_stops_reading_ends_the_session_within_the_write_timeout() {
    use std::time::Duration;
    use tempfail::session::{Output, Session, TimerReason};
    let mut cfg = Harness::config();
    cfg.timeouts.write = Duration::from_secs(30);
    #[allow(clippy::disallowed_methods)] // the virtual clock's origin
    let t0 = std::time::Instant::now();
    let mut s = Session::new(cfg, t0);
    let _ = s.submit(Envelope::new(
        "a@example.org",
        ["b@example.com", "c@example.com"],
    ));
    let drain = |s: &mut Session, write: bool| {
        let mut deadline = None;
        while let Some(o) = s.poll_output() {
            match o {
                Output::Transmit(b) if write => s.handle_written(t0, b.len()).unwrap(),
                Output::Timeout(at) => deadline = Some(at),
                _ => {}
            }
        }
        deadline
    };
    drain(&mut s, true);
    s.handle_input(t0, b"220 mx ESMTP\r\n");
    drain(&mut s, true);
    s.handle_input(t0, EHLO_PIPELINING);
    // MAIL, RCPT, RCPT, DATA are handed out; the peer never takes them.
    let deadline = drain(&mut s, false).expect("a deadline");
    let timer = s.timer().unwrap();
    assert_eq!(timer.reason, TimerReason::Write);
    assert_eq!(deadline, t0 + Duration::from_secs(30));
    // Progress restarts the timer; its absence ends the session.
    s.handle_written(t0 + Duration::from_secs(20), 10).unwrap();
    assert_eq!(s.deadline(), Some(t0 + Duration::from_secs(50)));
    s.handle_timeout(t0 + Duration::from_secs(50));
    let mut events = Vec::new();
    while let Some(o) = s.poll_output() {
        if let Output::Event(e) = o {
            events.push(e);
        }
    }
    let outcomes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Recipient { outcome, .. } => Some(outcome.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|o| o.is_transient()));
    assert_eq!(outcomes[0].classification.rule, "transport.write_timeout");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Lost {
            reason: LossReason::WriteTimedOut,
            ..
        }
    )));
    assert!(s.is_closed());
    // Reporting more than was handed out is misuse.
    let mut s = Session::new(Harness::config(), t0);
    assert!(s.handle_written(t0, 1).is_err());
}

#[test]
fn a_server_that_trickles_replies_is_ended_by_the_budget() {
    use std::time::Duration;
    use tempfail::session::{Timeouts, TimerReason};
    let mut cfg = Harness::config();
    cfg.timeouts = Timeouts::all(Duration::from_secs(60));
    cfg.max_session_time = Some(Duration::from_secs(150));
    let mut h = Harness::new(cfg);
    h.submit(Envelope::new("a@example.org", ["b@example.com"]));
    // Each reply comes 59 s after the command: inside every stage's timeout.
    for reply in [
        &b"220 mx ESMTP\r\n"[..],
        EHLO_PIPELINING,
        b"250 2.1.0 Ok\r\n",
        b"250 2.1.5 Ok\r\n",
    ] {
        h.advance(Duration::from_secs(59));
        if h.closed {
            break;
        }
        h.timeout(); // early: harmless until a deadline passes
        h.input(reply);
        if h.s.timer().map(|t| t.reason) == Some(TimerReason::SessionBudget) {
            break;
        }
    }
    assert_eq!(
        h.s.timer().map(|t| (t.reason, t.at - h.t0)),
        Some((TimerReason::SessionBudget, Duration::from_secs(150)))
    );
    h.advance(Duration::from_secs(59));
    h.timeout();
    let o = h.outcomes();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].disposition, Disposition::Transient);
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::BudgetExhausted,
            ..
        })
    ));
    // The whole session took no more than its budget.
    assert!(h.now - h.t0 <= Duration::from_secs(150 + 59));
}
