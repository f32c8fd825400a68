//! Section: three messages over three simulated days, every piece together.
//!
//! A scripted SMTP server greylists one recipient, rate-limits one destination,
//! refuses an unknown user, keeps a full mailbox full, and accepts the rest. The
//! sans-io session machine speaks SMTP to it, the classifier explains each reply,
//! the delivery machine decides per recipient with the `tempfail` retry policy,
//! a deferral queue orders the retries, and the DSN builder writes the notices.
//! Time is virtual: three days pass in a few milliseconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::driver::Driver;
use tempfail::delivery::{Delivery, MessageInfo, Output as Decision, Recipient};
use tempfail::dsn::DsnBuilder;
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::queue::KeyedQueue;
use tempfail::session::{Session, SessionConfig};
use tempfail::{Classifier, RcptOutcome, Timestamp};

/// A scripted receiving MTA for several domains, speaking SMTP line by line.
struct ScriptedServer {
    /// When each greylisted triplet was first seen.
    greylist: HashMap<String, Timestamp>,
    /// rate.example throttles us until this time.
    throttled_until: Timestamp,
}

/// What one connection of the scripted server holds.
struct Connection<'a> {
    server: &'a mut ScriptedServer,
    host: &'static str,
    now: Timestamp,
    in_data: bool,
    accepted: usize,
    closed: bool,
    pending: Vec<u8>,
}

impl Connection<'_> {
    fn greeting(&self) -> Vec<u8> {
        format!("220 {} ESMTP ready\r\n", self.host).into_bytes()
    }

    /// Consumes the client's bytes and returns the server's replies.
    fn handle(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.pending.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = self.pending.drain(..end + 2).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
            if self.closed {
                break;
            }
            if self.in_data {
                if line == "." {
                    self.in_data = false;
                    out.extend_from_slice(b"250 2.0.0 Ok: queued as 4XyZ12\r\n");
                }
                continue;
            }
            let reply = self.command(&line);
            out.extend_from_slice(reply.as_bytes());
        }
        out
    }

    fn command(&mut self, line: &str) -> String {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            return format!(
                "250-{}\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
                self.host
            );
        }
        if upper.starts_with("MAIL FROM") {
            self.accepted = 0;
            if self.host == "mx.rate.example" && self.now < self.server.throttled_until {
                self.closed = true;
                return "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to \
                        unexpected volume or user complaints - 4.16.55.1; see \
                        https://postmaster.yahooinc.com/error-codes\r\n"
                    .into();
            }
            return "250 2.1.0 Ok\r\n".into();
        }
        if let Some(rest) = upper.strip_prefix("RCPT TO:<") {
            let addr = rest.split('>').next().unwrap_or("").to_ascii_lowercase();
            return self.rcpt(&addr);
        }
        if upper == "DATA" {
            if self.accepted == 0 {
                return "554 5.5.1 Error: no valid recipients\r\n".into();
            }
            self.in_data = true;
            return "354 End data with <CR><LF>.<CR><LF>\r\n".into();
        }
        if upper == "QUIT" {
            self.closed = true;
            return "221 2.0.0 Bye\r\n".into();
        }
        if upper == "RSET" {
            return "250 2.0.0 Ok\r\n".into();
        }
        "502 5.5.2 Error: command not recognized\r\n".into()
    }

    fn rcpt(&mut self, addr: &str) -> String {
        match addr {
            "carol@example.com" => {
                let first = *self
                    .server
                    .greylist
                    .entry(addr.to_string())
                    .or_insert(self.now);
                if self.now < first + Duration::from_secs(300) {
                    return format!(
                        "450 4.2.0 <{addr}>: Recipient address rejected: Greylisted, see \
                         http://postgrey.schweikert.ch/help/example.com.html\r\n"
                    );
                }
            }
            "nobody@example.com" => {
                return format!(
                    "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in local recipient table\r\n"
                );
            }
            "dave@gmail.example" => {
                return "452-4.2.2 The recipient's inbox is out of storage space.\r\n\
                        452-4.2.2 Please direct the recipient to\r\n\
                        452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp - gsmtp\r\n"
                    .into();
            }
            _ => {}
        }
        self.accepted += 1;
        "250 2.1.5 Ok\r\n".into()
    }
}

/// One message in our spool.
struct Message {
    id: &'static str,
    body: &'static [u8],
    delivery: Delivery,
    priority: u8,
}

fn offset(t0: Timestamp, t: Timestamp) -> String {
    let d = t.saturating_duration_since(t0);
    let s = d.as_secs();
    if s == 0 {
        return "+0s".into();
    }
    let (days, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let mut out = String::from("+");
    if days > 0 {
        out += &format!("{days}d");
    }
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if sec > 0 && days == 0 {
        out += &format!("{sec}s");
    }
    out
}

/// Runs one SMTP session for message `m` against the scripted host: greeting, EHLO,
/// one pipelined transaction, QUIT, through the examples' shared driver. The
/// session's events go straight to the delivery (in its own index space); each
/// recipient's outcome is also returned, for printing. `None` when nothing was due.
fn attempt(
    server: &mut ScriptedServer,
    host: &'static str,
    clock: &VirtualClock,
    m: &mut Message,
    policy: &RetryPolicy,
    classifier: &Classifier,
) -> Option<Vec<RcptOutcome>> {
    let now = clock.now;
    let instant = clock.instant();
    let mut driver = Driver::new(
        Session::new(SessionConfig::new("mta.example.org"), instant),
        policy,
    );
    match driver.add(&mut m.delivery, m.body, now, host) {
        Ok(Some(_)) => {}
        Ok(None) => return None,
        Err(e) => {
            println!("    (envelope refused: {e})");
            return Some(Vec::new());
        }
    }
    driver.session.quit();
    let mut conn = Connection {
        server,
        host,
        now,
        in_data: false,
        accepted: 0,
        closed: false,
        pending: Vec::new(),
    };
    let mut outcomes = Vec::new();
    let mut input = conn.greeting();
    for _round in 0..32 {
        if input.is_empty() {
            driver.session.handle_eof(instant);
        } else {
            driver.session.handle_input(instant, &input);
        }
        let step = driver.poll(instant, now);
        outcomes.extend(step.outcomes.into_iter().map(|(_, o)| o));
        if step.close {
            break;
        }
        input = if conn.closed {
            Vec::new()
        } else {
            conn.handle(&step.transmit)
        };
        // The scripted server takes every byte at once.
        let _ = driver.session.handle_written(instant, step.transmit.len());
    }
    driver.finish(now, classifier);
    Some(outcomes)
}

/// Virtual time: wall-clock `now` for the policy and queue, and the matching
/// `Instant` for the session machine's timers.
struct VirtualClock {
    base: Instant,
    t0: Timestamp,
    now: Timestamp,
}

impl VirtualClock {
    fn instant(&self) -> Instant {
        self.base + self.now.saturating_duration_since(self.t0)
    }
}

/// The MX host of an address's domain, in this scripted world.
fn mx_for(addr: &str) -> &'static str {
    match addr.rsplit('@').next().unwrap_or("") {
        "rate.example" => "mx.rate.example",
        "gmail.example" => "gmail-smtp-in.gmail.example",
        _ => "mx.example.com",
    }
}

pub fn show() {
    crate::heading("Three messages over three days (virtual time)");
    // The only clock read in the tour: a base for the session machine's Instants.
    #[allow(clippy::disallowed_methods)]
    let base = Instant::now();
    let t0 = Timestamp::from_secs(1_764_288_000); // 2025-11-28T00:00:00Z
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let classifier = Classifier::builtin();
    let dsn = DsnBuilder::new("mta.example.org");
    let mut server = ScriptedServer {
        greylist: HashMap::new(),
        throttled_until: t0 + Duration::from_secs(600),
    };
    let spec: [(&str, &[&str], u8); 3] = [
        (
            "msg-1",
            &["bob@example.com", "carol@example.com", "nobody@example.com"],
            0,
        ),
        ("msg-2", &["dave@gmail.example"], 0),
        ("msg-3", &["erin@rate.example"], 9),
    ];
    let mut spool: Vec<Message> = spec
        .iter()
        .enumerate()
        .map(|(i, (id, to, prio))| Message {
            id,
            body: b"From: alice@example.org\r\nSubject: Quarterly report\r\n\r\nHello!\r\n",
            delivery: Delivery::new(
                t0,
                i as u64 + 1,
                to.iter().map(|a| Recipient::new(*a)).collect(),
            )
            .with_message(MessageInfo::new("alice@example.org").envid(*id)),
            priority: *prio,
        })
        .collect();
    let mut queue: KeyedQueue<usize, ()> = KeyedQueue::new();
    for (i, m) in spool.iter().enumerate() {
        let _ = queue.insert(i, (), t0, m.priority);
    }
    println!("Policy: {policy}");
    println!(
        "Queue at +0s: msg-3 (priority 9) first, then msg-1 and msg-2 (priority 0) in insertion order."
    );
    let mut now = t0;
    let mut printed_attempts: HashMap<usize, u32> = HashMap::new();
    let mut dsn_count = 0;
    while let Some(due) = queue.next_due() {
        now = now.max(due);
        let mut batch = Vec::new();
        while let Some(p) = queue.pop_due(now) {
            batch.push(p.key);
        }
        if batch.len() > 1 {
            let order: Vec<&str> = batch.iter().map(|&i| spool[i].id).collect();
            println!(
                "\n[{}] due now, popped in order: {}",
                offset(t0, now),
                order.join(", ")
            );
        }
        for i in batch {
            let m = &mut spool[i];
            let host = mx_for(&m.delivery.recipients()[0].recipient.address);
            let due = m.delivery.due(now);
            let shown = printed_attempts.entry(i).or_insert(0);
            *shown += 1;
            let verbose = *shown <= 3 || m.delivery.recipients().len() > 1;
            if !due.is_empty() {
                // One connection to the message's destination host.
                let addrs: Vec<String> = due
                    .iter()
                    .map(|&r| m.delivery.recipients()[r].recipient.address.clone())
                    .collect();
                if verbose {
                    println!(
                        "\n[{}] {} attempt {} to {host} for {}",
                        offset(t0, now),
                        m.id,
                        m.delivery.attempts() + 1,
                        addrs.join(", ")
                    );
                }
                let outcomes = {
                    let clock = VirtualClock { base, t0, now };
                    attempt(&mut server, host, &clock, m, &policy, &classifier).unwrap_or_default()
                };
                for o in &outcomes {
                    let c = &o.classification;
                    if !verbose {
                        let code = o.reply.as_ref().map(|r| {
                            let e = r.enhanced().map(|e| format!(" {e}")).unwrap_or_default();
                            format!("{}{e}", r.code())
                        });
                        print!(
                            "[{}] {} attempt {}: {} {}",
                            offset(t0, now),
                            m.id,
                            m.delivery.attempts(),
                            code.unwrap_or_else(|| "no reply".into()),
                            c.category.map(|c| c.name()).unwrap_or("delivered"),
                        );
                        continue;
                    }
                    let reply = o
                        .reply
                        .as_ref()
                        .map(|r| {
                            let t = r.text();
                            let t: String = t.chars().take(60).collect();
                            format!("{} {}", r.code(), t)
                        })
                        .unwrap_or_else(|| "(no reply)".into());
                    println!(
                        "    {:<20} {:<9} {}",
                        m.delivery.recipients()[o.rcpt].recipient.address,
                        o.stage,
                        reply
                    );
                    println!(
                        "    {:<20} => {} {} (scope {}, rule {})",
                        "",
                        c.disposition,
                        c.category.map(|c| c.name()).unwrap_or("-"),
                        c.scope,
                        c.rule
                    );
                }
            }
            // Lifetime expiry and delay warnings, whether or not an attempt happened.
            m.delivery.handle_timeout(now, &policy);
            // Decisions, in order.
            let mut wake = None;
            while let Some(d) = m.delivery.poll_output() {
                let names = |r: &[usize]| {
                    r.iter()
                        .map(|&i| m.delivery.recipients()[i].recipient.address.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                match &d {
                    Decision::Delivered { rcpts } => {
                        println!("    -> delivered: {}", names(rcpts))
                    }
                    Decision::RetryAt { at, rcpts } => {
                        if verbose {
                            println!("    -> retry {} at {}", names(rcpts), offset(t0, *at));
                        } else {
                            println!(" -> retry at {}", offset(t0, *at));
                        }
                        wake = wake.min(Some(*at)).or(Some(*at));
                    }
                    Decision::Failed { rcpts, reason } => {
                        println!(
                            "\n[{}] {} -> failed ({reason}): {}",
                            offset(t0, now),
                            m.id,
                            names(rcpts)
                        );
                        dsn_count += 1;
                        print_dsn(&dsn, m, rcpts, &policy, now, dsn_count, "failure");
                    }
                    Decision::DelayWarning { rcpts, number } => {
                        println!(
                            "\n[{}] {} -> delay warning {number} for {}",
                            offset(t0, now),
                            m.id,
                            names(rcpts)
                        );
                        dsn_count += 1;
                        print_dsn(&dsn, m, rcpts, &policy, now, dsn_count, "delay");
                    }
                    Decision::Cancelled { rcpts } => println!("    -> cancelled: {}", names(rcpts)),
                    Decision::Destination(sig) => {
                        if let Some(hold) = sig.hold_until {
                            println!(
                                "    -> destination signal: {} ({}), hold the destination until {}",
                                sig.classification.category.map(|c| c.name()).unwrap_or("-"),
                                sig.classification.scope,
                                offset(t0, hold)
                            );
                        }
                    }
                    Decision::WakeAt(t) => wake = Some(*t),
                }
            }
            if !m.delivery.is_finished() {
                // One queue entry per message, due at its one wake-up time.
                if let Some(at) = wake {
                    let _ = queue.insert(i, (), at, m.priority);
                }
            } else {
                println!(
                    "    {} is finished: every recipient has its final state",
                    m.id
                );
            }
        }
    }
    println!();
    for m in &spool {
        let states: Vec<String> = m
            .delivery
            .recipients()
            .iter()
            .map(|r| {
                format!(
                    "{} {} after {} failed attempt(s)",
                    r.recipient.address,
                    r.status.name(),
                    r.retry.failures
                )
            })
            .collect();
        println!("{}: {}", m.id, states.join("; "));
    }
    let delivered: usize = spool
        .iter()
        .flat_map(|m| m.delivery.recipients())
        .filter(|r| r.status.name() == "delivered")
        .count();
    println!(
        "{delivered} recipients delivered, {dsn_count} notices written, virtual clock at {}.",
        offset(t0, now)
    );
}

fn print_dsn(
    dsn: &DsnBuilder,
    m: &Message,
    rcpts: &[usize],
    policy: &RetryPolicy,
    now: Timestamp,
    n: usize,
    kind: &str,
) {
    // The notice's per-message fields come from the same MessageInfo as the envelope.
    let message = m.delivery.dsn_message(m.body.to_vec());
    let entries = m.delivery.dsn_recipients(rcpts, policy);
    let id = format!("dsn-{n}@mta.example.org");
    match dsn.build(&message, &entries, now, &id) {
        Some(bytes) if n > 2 && kind == "delay" => {
            println!(
                "    ({} bytes: another delay notice like the one above)",
                bytes.len()
            );
        }
        Some(bytes) => {
            println!(
                "    --- {kind} notice to {} (in full) ---",
                m.delivery.message().sender
            );
            for line in String::from_utf8_lossy(&bytes).lines() {
                println!("    | {line}");
            }
            println!("    --- end of notice ---");
        }
        None => println!("    (no {kind} notice: NOTIFY or a null sender says none)"),
    }
}
