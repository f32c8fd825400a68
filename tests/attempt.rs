//! One attempt, one flow: the session machine and the delivery machine composed
//! through `Attempt`, against a scripted server that counts what it accepted. Large
//! envelopes are split into several SMTP transactions; a failure in one must never
//! settle the recipients of another, so no recipient is ever sent twice.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use tempfail::delivery::{Delivery, MessageInfo, Output, RcptStatus, Recipient};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::session::{Event, Output as SOut, Session, SessionConfig, TlsMode};
use tempfail::{Classifier, Timestamp};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

/// A base for the session's timers; virtual time never advances it.
fn base() -> Instant {
    #[allow(clippy::disallowed_methods)] // one base instant, never read again
    Instant::now()
}

/// Reply codes the scripted server gives, chosen per attempt and per command.
#[derive(Clone, Debug)]
struct Script {
    pipelining: bool,
    /// Per MAIL command of the attempt, cycling.
    mail: Vec<u16>,
    /// Per recipient address (hashed), cycling.
    rcpt: Vec<u16>,
    /// Per final dot of the attempt, cycling.
    data_end: Vec<u16>,
}

impl Script {
    fn all_ok(pipelining: bool) -> Self {
        Script {
            pipelining,
            mail: vec![250],
            rcpt: vec![250],
            data_end: vec![250],
        }
    }
}

/// A line-oriented SMTP server that follows `script` and records every recipient
/// of every transaction it accepted after the final dot.
struct Server {
    script: Script,
    buf: Vec<u8>,
    in_data: bool,
    mail_ok: bool,
    mails: usize,
    dots: usize,
    txn: Vec<String>,
    accepted: HashMap<String, u32>,
}

impl Server {
    fn new(script: Script) -> Self {
        Server {
            script,
            buf: Vec::new(),
            in_data: false,
            mail_ok: false,
            mails: 0,
            dots: 0,
            txn: Vec::new(),
            accepted: HashMap::new(),
        }
    }

    fn greeting(&self) -> Vec<u8> {
        b"220 mx.example.com ESMTP\r\n".to_vec()
    }

    fn pick(table: &[u16], k: usize) -> u16 {
        table[k % table.len()]
    }

    fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = self.buf.drain(..p + 2).take(p).collect();
            let line = String::from_utf8_lossy(&line).into_owned();
            out.extend_from_slice(self.line(&line).as_bytes());
        }
        out
    }

    fn line(&mut self, line: &str) -> String {
        if self.in_data {
            if line == "." {
                self.in_data = false;
                let code = Self::pick(&self.script.data_end, self.dots);
                self.dots += 1;
                let txn = std::mem::take(&mut self.txn);
                self.mail_ok = false;
                if code == 250 {
                    for r in txn {
                        *self.accepted.entry(r).or_default() += 1;
                    }
                    return "250 2.0.0 queued\r\n".into();
                }
                return format!("{code} {}.0.0 not this time\r\n", code / 100);
            }
            return String::new();
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            return if self.script.pipelining {
                "250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n".into()
            } else {
                "250-mx.example.com\r\n250 8BITMIME\r\n".into()
            };
        }
        if upper.starts_with("MAIL FROM:") {
            let code = Self::pick(&self.script.mail, self.mails);
            self.mails += 1;
            self.txn.clear();
            self.mail_ok = code == 250;
            return match code {
                250 => "250 2.1.0 ok\r\n".into(),
                c => format!("{c} {}.3.0 sender deferred\r\n", c / 100),
            };
        }
        if upper.starts_with("RCPT TO:<") {
            if !self.mail_ok {
                return "503 5.5.1 Error: need MAIL command\r\n".into();
            }
            let addr = line[9..].split('>').next().unwrap_or("").to_string();
            let k: usize = addr.bytes().map(usize::from).sum();
            let code = Self::pick(&self.script.rcpt, k);
            return match code {
                250 => {
                    self.txn.push(addr);
                    "250 2.1.5 ok\r\n".into()
                }
                450 => "450 4.2.0 greylisted, try again later\r\n".into(),
                _ => "550 5.1.1 no such user here\r\n".into(),
            };
        }
        if upper == "DATA" {
            if !self.mail_ok {
                return "503 5.5.1 Error: need RCPT command\r\n".into();
            }
            if self.txn.is_empty() {
                return "554 5.5.1 Error: no valid recipients\r\n".into();
            }
            self.in_data = true;
            return "354 End data with <CR><LF>.<CR><LF>\r\n".into();
        }
        if upper == "RSET" {
            self.txn.clear();
            self.mail_ok = false;
            return "250 2.0.0 Ok\r\n".into();
        }
        if upper == "QUIT" {
            return "221 2.0.0 Bye\r\n".into();
        }
        "502 5.5.2 Error: command not recognized\r\n".into()
    }
}

/// One attempt of `d` over a fresh session to `server`, driven to the end.
fn run_attempt(
    d: &mut Delivery,
    policy: &RetryPolicy,
    server: &mut Server,
    now: Timestamp,
    max_per_txn: usize,
) -> Vec<Output> {
    let start = base();
    let mut attempt = d.start_attempt(now, Some("mx.example.com")).unwrap();
    if attempt.is_empty() {
        return Vec::new();
    }
    let mut cfg = SessionConfig::new("client.example.org");
    cfg.tls = TlsMode::Disabled;
    cfg.max_recipients_per_transaction = max_per_txn;
    let mut s = Session::new(cfg, start);
    attempt.submit(d, &mut s).unwrap();
    s.quit();
    let mut inbox = server.greeting();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 10_000, "the session does not end");
        if !inbox.is_empty() {
            s.handle_input(start, &std::mem::take(&mut inbox));
        }
        let mut closed = false;
        while let Some(o) = s.poll_output() {
            match o {
                SOut::Transmit(bytes) => {
                    inbox.extend(server.feed(&bytes));
                    s.handle_written(start, bytes.len()).unwrap();
                }
                SOut::Event(Event::BodyWanted { .. }) => {
                    s.send_body_chunk(start, b"Subject: t\r\n\r\nhello\r\n")
                        .unwrap();
                    s.finish_body(start).unwrap();
                }
                SOut::Event(e) => d.handle_event(now, policy, &attempt, &e).unwrap(),
                SOut::Close => closed = true,
                SOut::StartTls | SOut::Timeout(_) => {}
            }
        }
        if closed || s.is_closed() {
            break;
        }
        if inbox.is_empty() {
            s.handle_eof(start);
        }
    }
    d.end_attempt(now, policy, &Classifier::builtin());
    std::iter::from_fn(|| d.poll_output()).collect()
}

fn rcpts(n: usize) -> Vec<Recipient> {
    (0..n)
        .map(|i| Recipient::new(format!("r{i}@example.com")))
        .collect()
}

/// Checks the delivery's final states against what the server accepted.
fn check_against_server(d: &Delivery, server: &Server) -> Result<(), TestCaseError> {
    for (i, r) in d.recipients().iter().enumerate() {
        let times = server
            .accepted
            .get(&r.recipient.address)
            .copied()
            .unwrap_or(0);
        prop_assert!(times <= 1, "recipient {i} was sent {times} times");
        match r.status {
            RcptStatus::Delivered { .. } => {
                prop_assert_eq!(times, 1, "recipient {} delivered but not accepted", i)
            }
            other => prop_assert_eq!(
                times,
                0,
                "recipient {} accepted by the server but {}",
                i,
                other.name()
            ),
        }
    }
    Ok(())
}

#[test]
fn a_transient_mail_from_in_the_first_of_two_transactions_leaves_the_second_alone() {
    for pipelining in [true, false] {
        let policy = RetryPolicy::preset(Preset::Tempfail);
        let mut d =
            Delivery::new(T0, 9, rcpts(150)).with_message(MessageInfo::new("a@example.org"));
        // The first MAIL FROM of the attempt is deferred, the second accepted.
        let mut server = Server::new(Script {
            mail: vec![451, 250],
            ..Script::all_ok(pipelining)
        });
        let out = run_attempt(&mut d, &policy, &mut server, T0, 100);
        assert_eq!(server.mails, 2, "two transactions");
        let delivered: Vec<usize> = out
            .iter()
            .flat_map(|o| match o {
                Output::Delivered { rcpts } => rcpts.clone(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(
            delivered,
            (100..150).collect::<Vec<_>>(),
            "pipelining {pipelining}"
        );
        for (i, r) in d.recipients().iter().enumerate() {
            let expect = if i < 100 { "deferred" } else { "delivered" };
            assert_eq!(r.status.name(), expect, "recipient {i}");
        }
        // The retries (each recipient has its own jittered time) cover only the
        // deferred hundred; nobody gets the message twice.
        server.script = Script::all_ok(pipelining);
        let mut rounds = 0;
        while let Some(t) = d.next_wakeup(&policy) {
            rounds += 1;
            assert!(rounds <= 100, "each round delivers at least one recipient");
            server.mails = 0;
            let _ = run_attempt(&mut d, &policy, &mut server, t, 100);
        }
        assert!(d.is_finished());
        assert!(server.accepted.values().all(|&n| n == 1));
        assert_eq!(server.accepted.len(), 150);
    }
}

#[test]
fn each_recipient_keeps_its_notify_and_orcpt_on_the_wire() {
    use tempfail::dsn::Notify;
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let mut r = Recipient::new("b@example.com");
    r.notify = Some(Notify::NEVER);
    r.orcpt = Some("rfc822;bob@example.com".into());
    let d = Delivery::new(T0, 1, vec![Recipient::new("a@example.com"), r])
        .with_message(MessageInfo::new("s@example.org").envid("q1"));
    let mut d2 = d.clone();
    let attempt = d2.start_attempt(T0, None).unwrap();
    let env = attempt.envelope(&d2);
    assert_eq!(env.message.sender, "s@example.org");
    assert_eq!(env.message.envid.as_deref(), Some("q1"));
    assert_eq!(env.recipients[1].notify, Some(Notify::NEVER));
    assert_eq!(
        env.recipients[1].orcpt.as_deref(),
        Some("rfc822;bob@example.com")
    );
    let _ = policy;
}

#[test]
fn events_of_another_attempt_are_refused() {
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let mut a = Delivery::new(T0, 1, rcpts(1)).with_message(MessageInfo::new("s@example.org"));
    let mut b = Delivery::new(T0, 2, rcpts(1)).with_message(MessageInfo::new("s@example.org"));
    let mut s = Session::new(SessionConfig::new("c.example.org"), base());
    let mut att_a = a.start_attempt(T0, None).unwrap();
    let mut att_b = b.start_attempt(T0, None).unwrap();
    att_a.submit(&a, &mut s).unwrap();
    let tb = att_b.submit(&b, &mut s).unwrap();
    let o = tempfail::RcptOutcome::from_failure(
        &Classifier::builtin(),
        0,
        tempfail::TransportFailure::UnexpectedClose,
        tempfail::Stage::RcptTo,
    );
    let ev = Event::Recipient {
        transaction: tb,
        outcome: o,
    };
    assert!(matches!(
        a.handle_event(T0, &policy, &att_a, &ev),
        Err(tempfail::delivery::DeliveryError::ForeignTransaction(_))
    ));
    b.handle_event(T0, &policy, &att_b, &ev).unwrap();
    assert_eq!(b.recipients()[0].status.name(), "deferred");
    assert_eq!(a.recipients()[0].status, RcptStatus::InFlight);
}

fn code(allowed: &'static [u16]) -> impl Strategy<Value = u16> {
    proptest::sample::select(allowed)
}

fn script() -> impl Strategy<Value = Script> {
    (
        any::<bool>(),
        proptest::collection::vec(code(&[250, 250, 451, 550]), 1..4),
        proptest::collection::vec(code(&[250, 250, 450, 550]), 1..5),
        proptest::collection::vec(code(&[250, 250, 451, 554]), 1..4),
    )
        .prop_map(|(pipelining, mail, rcpt, data_end)| Script {
            pipelining,
            mail,
            rcpt,
            data_end,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Over several attempts with split transactions, random refusals at every
    /// stage and save/restore between attempts: a recipient is delivered exactly
    /// when the server accepted it, never twice, and every recipient ends.
    #[test]
    fn split_transactions_never_deliver_twice(
        n in 1usize..220,
        per_txn in 1usize..120,
        scripts in proptest::collection::vec(script(), 1..4),
        restore in any::<bool>(),
    ) {
        let policy = RetryPolicy::preset(Preset::Tempfail);
        let mut d = Delivery::new(T0, 5, rcpts(n)).with_message(MessageInfo::new("s@example.org"));
        let mut server = Server::new(Script::all_ok(true));
        let mut now = T0;
        for k in 0..1_000 {
            if d.is_finished() {
                break;
            }
            // After the scripted attempts, the server accepts everything.
            server.script = scripts.get(k).cloned().unwrap_or_else(|| Script::all_ok(k % 2 == 0));
            server.mails = 0;
            server.dots = 0;
            let _ = run_attempt(&mut d, &policy, &mut server, now, per_txn);
            check_against_server(&d, &server)?;
            #[cfg(feature = "serde")]
            if restore {
                let json = serde_json::to_string(&d).unwrap();
                let back: Delivery = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(&back, &d);
                d = back;
            }
            #[cfg(not(feature = "serde"))]
            let _ = restore;
            match d.next_wakeup(&policy) {
                Some(t) => now = now.max(t),
                None => prop_assert!(d.is_finished() || d.is_due(now)),
            }
            d.handle_timeout(now, &policy);
            let _: Vec<Output> = std::iter::from_fn(|| d.poll_output()).collect();
        }
        prop_assert!(d.is_finished(), "{:?}", d.recipients().iter().map(|r| r.status.name()).collect::<Vec<_>>());
        check_against_server(&d, &server)?;
    }
}

#[test]
fn the_wake_up_is_the_only_time_to_keep() {
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let mut d = Delivery::new(T0, 3, rcpts(2)).with_message(MessageInfo::new("s@example.org"));
    let mut server = Server::new(Script {
        rcpt: vec![450],
        ..Script::all_ok(true)
    });
    let out = run_attempt(&mut d, &policy, &mut server, T0, 100);
    let wake = match out.last() {
        Some(Output::WakeAt(t)) => *t,
        other => panic!("a wake-up comes last: {other:?}"),
    };
    assert_eq!(Some(wake), d.next_wakeup(&policy));
    assert!(!d.is_due(wake - Duration::from_secs(1)));
    assert!(d.is_due(wake));
}
