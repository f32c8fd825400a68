//! tempfail wrapped around lettre's `SmtpTransport`: lettre sends, tempfail
//! decides what its errors mean and when to try again.
//!
//! ```text
//! smtp-sink -u nobody -r RCPT 127.0.0.1:2525 50 &     # 4xx to every RCPT
//! cargo run --features lettre --example lettre_retry -- --server 127.0.0.1:2525 \
//!     --from a@example.org --to b@example.com [--to ...] [--attempts 3]
//! ```
//!
//! lettre returns one error for the whole send and stops at the first refused
//! `RCPT`, so each recipient goes in a transaction of its own: every recipient
//! then gets its own outcome and keeps its own retry clock. The core's `lettre`
//! feature (`tempfail::lettre`) turns lettre's result into that outcome: the
//! server's code and text classified like any reply, or the transport failure
//! (refused, timed out, lost, TLS) classified as such. The [`Delivery`] machine
//! turns the outcomes into decisions, and a deferral queue holds the message
//! until its next retry. Time is virtual: the example jumps to each retry time instead of
//! sleeping, so a schedule of hours runs in a second.

use std::time::Duration;

use lettre::address::{AddressError, Envelope as LettreEnvelope};
use lettre::{SmtpTransport, Transport};
use tempfail::classify::Classifier;
use tempfail::delivery::{Delivery, Output, Recipient};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::queue::{DeferralQueue, WheelQueue};
use tempfail::{Reply, Timestamp};

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
                    Ok(env) => {
                        tempfail::lettre::outcome(&classifier, i, &transport.send_raw(&env, body))
                    }
                    // One recipient is always enough for lettre's envelope.
                    Err(_) => tempfail::lettre::address_error_outcome(
                        &classifier,
                        i,
                        &AddressError::MissingParts,
                    ),
                },
                (Err(e), _) => {
                    // Our own sender address is wrong: nothing can be sent; say so and stop.
                    eprintln!("bad --from {}: {e}", opts.from);
                    std::process::exit(2);
                }
                (_, Err(e)) => tempfail::lettre::address_error_outcome(&classifier, i, &e),
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
