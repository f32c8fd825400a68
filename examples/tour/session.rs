//! Section: one SMTP session, driven without a socket.
//!
//! The session machine is fed the replies a real Postfix with postgrey sent (one
//! recipient greylisted, one unknown, one accepted, all in one pipelined flight) and
//! prints what it would write to the socket and what each recipient's outcome is.
//! Then a second session whose server goes silent meets its timer, on a virtual clock.

use std::time::{Duration, Instant};

use tempfail::session::{Envelope, Event, Output, Session, SessionConfig, TlsMode};

/// Postfix 3.7 + postgrey, captured on loopback; one flight per element.
const FLIGHTS: &[&[u8]] = &[
    b"220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n",
    b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n",
    b"250 2.1.0 Ok\r\n\
450 4.2.0 <root@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n\
550 5.1.1 <nosuchuser@example.com>: Recipient address rejected: User unknown in local recipient table\r\n\
250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
    b"250 2.0.0 Ok: queued as 6B23E98C273\r\n221 2.0.0 Bye\r\n",
];

const RCPTS: [&str; 3] = [
    "root@example.com",
    "nosuchuser@example.com",
    "postmaster@example.com",
];

fn print_wire(bytes: &[u8]) {
    for line in String::from_utf8_lossy(bytes).split_inclusive("\r\n") {
        println!("  C: {}", line.trim_end());
    }
}

/// Drains outputs, streaming the body when asked; returns true once closed.
fn drain(s: &mut Session, now: Instant, rcpts: &[&str]) -> bool {
    while let Some(out) = s.poll_output() {
        match out {
            Output::Transmit(bytes) => {
                print_wire(&bytes);
                let _ = s.handle_written(now, bytes.len());
            }
            Output::Event(Event::BodyWanted { .. }) => {
                // Bare LF and a leading dot: the machine sends CRLF and "..".
                s.send_body_chunk(now, b"Subject: tour\n\n.signature\n")
                    .unwrap();
                s.finish_body(now).unwrap();
            }
            Output::Event(Event::Recipient { outcome, .. }) => {
                let c = &outcome.classification;
                println!(
                    "  -> {:<24} {:<9} {:<13} at {:<8} ({}; rule {})",
                    rcpts[outcome.rcpt],
                    c.disposition.name(),
                    c.category.map_or("-", |c| c.name()),
                    outcome.stage.name(),
                    outcome
                        .reply
                        .as_ref()
                        .map_or("no reply".to_string(), |r| r.code().to_string()),
                    c.rule,
                );
            }
            Output::Event(Event::Lost { stage, reason, .. }) => {
                println!("  -> session lost at {stage}: {reason}");
            }
            Output::Event(Event::TransactionDone {
                transaction,
                delivered,
                transient,
                permanent,
            }) => println!(
                "  -> transaction {transaction} done: {delivered} delivered, {transient} transient, {permanent} permanent"
            ),
            Output::Event(Event::Ready) => println!("  -> ready (greeting and EHLO done)"),
            Output::Event(Event::Closed) => println!("  -> closed after QUIT"),
            Output::Event(_) => {}
            Output::StartTls => println!("  (start TLS now)"),
            Output::Close => {
                println!("  (close the connection)");
                return true;
            }
            Output::Timeout(at) => println!("  (next timer in {:?})", at - now),
        }
    }
    false
}

pub fn show() {
    crate::heading("An SMTP session without a socket");
    #[allow(clippy::disallowed_methods)] // the tour's virtual clock starts at the real now
    let t0 = Instant::now();
    let mut cfg = SessionConfig::new("client.example.org");
    cfg.tls = TlsMode::Disabled;
    let mut s = Session::new(cfg, t0);
    s.submit(Envelope::new("cap@example.org", RCPTS)).unwrap();
    s.quit();
    drain(&mut s, t0, &RCPTS);
    for (i, flight) in FLIGHTS.iter().enumerate() {
        let now = t0 + Duration::from_millis(10 * (i as u64 + 1));
        for line in String::from_utf8_lossy(flight).split_inclusive("\r\n") {
            println!("  S: {}", line.trim_end());
        }
        s.handle_input(now, flight);
        if drain(&mut s, now, &RCPTS) {
            break;
        }
    }

    println!();
    println!(
        "A server that accepts DATA and then says nothing (RFC 5321's 10 minutes for the final reply):"
    );
    let mut cfg = SessionConfig::new("client.example.org");
    cfg.tls = TlsMode::Disabled;
    let mut s = Session::new(cfg, t0);
    let one = ["postmaster@example.com"];
    s.submit(Envelope::new("cap@example.org", one)).unwrap();
    drain(&mut s, t0, &one);
    for flight in [
        &b"220 mx.example.com ESMTP\r\n"[..],
        b"250-mx.example.com\r\n250 PIPELINING\r\n",
        b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n",
    ] {
        s.handle_input(t0, flight);
        drain(&mut s, t0, &one);
    }
    let later = t0 + Duration::from_secs(600);
    s.handle_timeout(later);
    drain(&mut s, later, &one);
}
