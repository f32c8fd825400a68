//! tempfail wrapped around lettre's `SmtpTransport`: lettre sends, tempfail
//! decides what its errors mean and when to try again.
//!
//! ```text
//! smtp-sink -u nobody -r RCPT 127.0.0.1:2525 50 &     # 4xx to every RCPT
//! cargo run --example lettre_retry -- --server 127.0.0.1:2525 \
//!     --from a@example.org --to b@example.com [--to ...] [--attempts 3]
//! ```
//!
//! lettre returns one error for the whole send and stops at the first refused
//! `RCPT`, so each recipient goes in a transaction of its own: every recipient
//! then gets its own outcome and keeps its own retry clock. lettre's error carries
//! the server's code and text (classified like any reply) or a transport failure
//! (refused, timed out, lost: classified as such). The [`Delivery`] machine turns
//! the outcomes into decisions, and a deferral queue holds the message until its
//! next retry. Time is virtual: the example jumps to each retry time instead of
//! sleeping, so a schedule of hours runs in a second.

use std::error::Error as _;
use std::time::Duration;

use lettre::address::Envelope as LettreEnvelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::{SmtpTransport, Transport};
use tempfail::classify::{Classifier, Stage, TransportFailure};
use tempfail::delivery::{Delivery, Output, Recipient};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::queue::{DeferralQueue, WheelQueue};
use tempfail::{RcptOutcome, Reply, Timestamp};

/// What lettre's result means for recipient `rcpt`: its reply classified, or its
/// transport failure classified. lettre does not say which command failed, so the
/// stage is unknown (the classifier then goes by codes and wording).
pub fn outcome_from_lettre(
    classifier: &Classifier,
    rcpt: usize,
    result: &Result<lettre::transport::smtp::response::Response, SmtpError>,
) -> RcptOutcome {
    let stage = Stage::Unknown;
    let (reply, classification) = match result {
        Ok(resp) => {
            let text = format!(
                "{} {}",
                resp.code(),
                resp.message().collect::<Vec<_>>().join(" ")
            );
            let reply = Reply::parse_loose(&text);
            let c = match &reply {
                Some(r) => classifier.classify(r, Stage::DataEnd),
                None => classifier.classify_text(&text, Stage::DataEnd),
            };
            (reply, c)
        }
        Err(e) => match e.status() {
            // The server answered 4xx/5xx: lettre's Display is "… error (CODE): TEXT".
            Some(code) => {
                let text = e.source().map(|s| s.to_string()).unwrap_or_default();
                let line = format!("{code} {text}");
                let reply = Reply::parse_loose(&line);
                let c = match &reply {
                    Some(r) => classifier.classify(r, stage),
                    None => classifier.classify_text(&line, stage),
                };
                (reply, c)
            }
            None => (
                None,
                classifier.classify_failure(transport_failure(e), stage),
            ),
        },
    };
    RcptOutcome {
        rcpt,
        reply,
        stage,
        classification,
    }
}

/// An address lettre cannot even put in an envelope: a permanent failure of that
/// recipient, as a local `553 5.1.3` (bad destination address syntax, RFC 3463),
/// so it bounces at once instead of being retried as if the connection had failed.
pub fn bad_address_outcome(classifier: &Classifier, rcpt: usize, problem: &str) -> RcptOutcome {
    let text: String = problem
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let reply = Reply::new(
        tempfail::ReplyCode::new(553).expect("553 is a valid reply code"),
        [format!("5.1.3 Bad recipient address syntax: {text}")],
    );
    let classification = classifier.classify(&reply, Stage::RcptTo);
    RcptOutcome {
        rcpt,
        reply: Some(reply),
        stage: Stage::RcptTo,
        classification,
    }
}

/// lettre's transport errors as tempfail's transport failures.
fn transport_failure(e: &SmtpError) -> TransportFailure {
    if e.is_timeout() {
        return TransportFailure::ReadTimeout;
    }
    let mut src = e.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => TransportFailure::ConnectionRefused,
                std::io::ErrorKind::ConnectionReset => TransportFailure::ConnectionReset,
                std::io::ErrorKind::TimedOut => TransportFailure::ConnectTimeout,
                _ => TransportFailure::UnexpectedClose,
            };
        }
        src = s.source();
    }
    if e.is_response() {
        TransportFailure::ProtocolViolation
    } else {
        TransportFailure::UnexpectedClose
    }
}

struct Options {
    server: String,
    from: String,
    to: Vec<String>,
    attempts: u32,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        server: "127.0.0.1:2525".into(),
        from: "a@example.org".into(),
        to: Vec::new(),
        attempts: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--server" => o.server = val()?,
            "--from" => o.from = val()?,
            "--to" => o.to.push(val()?),
            "--attempts" => o.attempts = val()?.parse().map_err(|e| format!("--attempts: {e}"))?,
            "--help" | "-h" => {
                return Err("usage: lettre_retry --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--attempts N]".into());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.to.is_empty() {
        o.to.push("b@example.com".into());
    }
    Ok(o)
}

fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let (host, port) = match opts.server.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().unwrap_or(25)),
        None => (opts.server.clone(), 25),
    };
    // lettre applies this timeout to every socket read and write (it sets both on
    // its stream): a server that stops reading, or stops answering, ends the send
    // within it, and the error classifies as a transient network failure. lettre
    // has no whole-session budget; each recipient's send is one short session here.
    let transport = SmtpTransport::builder_dangerous(host.as_str())
        .port(port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    let classifier = Classifier::builtin();
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let body = b"From: a@example.org\r\nSubject: tempfail + lettre\r\n\r\nHello.\r\n";

    // Virtual time: the message arrives at t0; the queue says when to look again.
    let t0 = Timestamp::from_secs(1_764_288_000);
    let mut delivery = Delivery::new(
        t0,
        1,
        opts.to.iter().map(|a| Recipient::new(a.as_str())).collect(),
    );
    let mut queue = WheelQueue::new();
    let _ = queue.insert("msg-1", t0, 0);

    let mut attempts = 0;
    while let Some(at) = queue.next_due() {
        if attempts == opts.attempts {
            println!(
                "stopping after {attempts} attempts (--attempts); next due at +{}s",
                at.saturating_duration_since(t0).as_secs()
            );
            break;
        }
        let Some(_msg) = queue.pop_due(at) else { break };
        let now = at;
        attempts += 1;
        let due: Vec<usize> = delivery
            .start_attempt(now, Some(&host))
            .map(|a| a.recipients().to_vec())
            .unwrap_or_default();
        println!(
            "attempt {attempts} at +{}s for {} recipient(s)",
            now.saturating_duration_since(t0).as_secs(),
            due.len()
        );
        let mut outcomes = Vec::new();
        for &i in &due {
            let to = &opts.to[i];
            let o = match (opts.from.parse(), to.parse()) {
                (Ok(from), Ok(rcpt)) => match LettreEnvelope::new(Some(from), vec![rcpt]) {
                    Ok(env) => outcome_from_lettre(&classifier, i, &transport.send_raw(&env, body)),
                    Err(e) => bad_address_outcome(&classifier, i, &e.to_string()),
                },
                (Err(e), _) => {
                    // Our own sender address is wrong: nothing can be sent; say so and stop.
                    eprintln!("bad --from {}: {e}", opts.from);
                    std::process::exit(2);
                }
                (_, Err(e)) => bad_address_outcome(&classifier, i, &e.to_string()),
            };
            let c = &o.classification;
            println!(
                "  {to}: {} {} -> {} {} (rule {})",
                o.reply
                    .as_ref()
                    .map(|r| r.code().to_string())
                    .unwrap_or_else(|| "---".into()),
                o.reply.as_ref().map(Reply::text).unwrap_or_default(),
                c.disposition,
                c.category.map(|c| c.name()).unwrap_or("-"),
                c.rule
            );
            outcomes.push(o);
        }
        let _ = delivery.handle_outcomes(now, &policy, &outcomes);
        delivery.end_attempt(now, &policy, &classifier);
        delivery.handle_timeout(now, &policy);
        while let Some(out) = delivery.poll_output() {
            match out {
                Output::Delivered { rcpts } => println!("  delivered: {rcpts:?}"),
                Output::RetryAt { at, rcpts } => println!(
                    "  deferred: {rcpts:?}, retry at +{}s",
                    at.saturating_duration_since(t0).as_secs()
                ),
                Output::Failed { rcpts, reason } => println!("  failed ({reason}): {rcpts:?}"),
                Output::DelayWarning { rcpts, number } => {
                    println!("  delay warning {number}: {rcpts:?}")
                }
                _ => {}
            }
        }
        if let Some(next) = delivery.next_wakeup(&policy) {
            let _ = queue.insert("msg-1", next, 0);
        }
    }
    for r in delivery.recipients() {
        println!(
            "{}: {} ({} failed attempts)",
            r.recipient.address,
            r.status.name(),
            r.retry.failures
        );
    }
}
