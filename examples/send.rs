//! Sends N copies of a small message over one SMTP connection with a blocking
//! `std::net` driver around the sans-io [`Session`], pipelining when offered.
//!
//! ```text
//! cargo run --example send -- --server 127.0.0.1:2525 --from a@example.org \
//!     --to b@example.com [--to c@example.com ...] [--count N] [--json] [--timeout SECS] \
//!     [--budget SECS] [--pad BYTES]
//! ```
//!
//! It exits with 2 for unusable arguments only; whatever the server does (refuses
//! the connection, stops reading, trickles replies), every (message, recipient)
//! gets its line and the exit status is 0.
//!
//! With `--json`, one line per recipient per message:
//! `{"message":0,"rcpt":"b@example.com","outcome":"delivered","code":250,"enhanced":"2.0.0","category":null,"stage":"data_end"}`.
//! `outcome` is `delivered`, `transient` or `permanent`; a connection lost without a
//! reply gives `"code":null`, `"outcome":"transient"`, `"category":"network"`; a
//! refused connection `"stage":"connect"` with `"network"`, a name that does not
//! resolve `"dns"`.
//! TLS is not used (this example links no TLS library): `STARTTLS` is not sent.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime};

#[allow(dead_code)] // the examples' shared drive loop; this one uses part of it
#[path = "driver/mod.rs"]
pub mod driver;

use driver::Driver;
use tempfail::delivery::{Delivery, MessageInfo, Recipient};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::session::{Session, SessionConfig, Timeouts, TlsMode};
use tempfail::{Classifier, Disposition, RcptOutcome, Timestamp};

/// What to send.
#[derive(Clone, Debug)]
pub struct Options {
    /// `host:port`.
    pub server: String,
    /// Envelope sender.
    pub from: String,
    /// Recipients of every message.
    pub to: Vec<String>,
    /// How many messages.
    pub count: usize,
    /// Print JSON lines.
    pub json: bool,
    /// Every reply and write timeout (default: RFC 5321's).
    pub timeout: Option<Duration>,
    /// The whole session's budget (default: none).
    pub budget: Option<Duration>,
    /// Bytes of filler lines appended to each message's body (default 0).
    pub pad: usize,
}

/// One recipient of one message, as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Message number, from 0.
    pub message: usize,
    /// The recipient address.
    pub rcpt: String,
    /// `delivered`, `transient` or `permanent`.
    pub outcome: &'static str,
    /// The reply code, if there was a reply.
    pub code: Option<u16>,
    /// The enhanced code, if the reply had one.
    pub enhanced: Option<String>,
    /// The category (snake_case), `None` when delivered.
    pub category: Option<&'static str>,
    /// The stage (snake_case).
    pub stage: &'static str,
}

impl Line {
    pub fn from_outcome(message: usize, rcpt: String, o: &RcptOutcome) -> Self {
        let c = &o.classification;
        Line {
            message,
            rcpt,
            outcome: match c.disposition {
                Disposition::Success => "delivered",
                Disposition::Transient => "transient",
                Disposition::Permanent => "permanent",
            },
            code: o.reply.as_ref().map(|r| r.code().as_u16()),
            enhanced: o
                .reply
                .as_ref()
                .and_then(|r| r.enhanced())
                .map(|e| e.to_string()),
            category: if c.disposition == Disposition::Success {
                None
            } else {
                c.category.map(|c| c.name())
            },
            stage: o.stage.name(),
        }
    }

    /// The JSON line, keys in the documented order.
    pub fn to_json(&self) -> String {
        fn js(s: Option<&str>) -> String {
            s.map_or_else(|| "null".into(), |s| serde_json::Value::from(s).to_string())
        }
        format!(
            "{{\"message\":{},\"rcpt\":{},\"outcome\":{},\"code\":{},\"enhanced\":{},\"category\":{},\"stage\":{}}}",
            self.message,
            js(Some(&self.rcpt)),
            js(Some(self.outcome)),
            self.code.map_or_else(|| "null".into(), |c| c.to_string()),
            js(self.enhanced.as_deref()),
            js(self.category),
            js(Some(self.stage)),
        )
    }
}

/// What happened.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per recipient per message, in the order the outcomes came.
    pub lines: Vec<Line>,
    /// `write` calls made (each a flight of commands).
    pub writes: usize,
    /// What the server offered (`None` if the handshake did not complete).
    pub capabilities: Option<tempfail::session::Capabilities>,
}

/// The small message `i`.
pub fn message(opts: &Options, i: usize) -> Vec<u8> {
    let mut m = format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: tempfail test message {i}\r\nMessage-ID: <{i}.tempfail@example.org>\r\n\r\nThis is test message {i}.\r\n.A line that starts with a dot.\r\n",
        opts.from,
        opts.to.join(">, <"),
    )
    .into_bytes();
    const LINE: &[u8] =
        b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n";
    let target = m.len().saturating_add(opts.pad);
    while m.len() < target {
        m.extend_from_slice(LINE);
    }
    m
}

/// The session configuration `run` uses: no TLS, `--timeout` for every stage and
/// for writes, `--budget` for the whole session.
pub fn config(opts: &Options) -> SessionConfig {
    let mut cfg = SessionConfig::new("client.example.org");
    cfg.tls = TlsMode::Disabled;
    if let Some(t) = opts.timeout {
        cfg.timeouts = Timeouts::all(t);
    }
    cfg.max_session_time = opts.budget;
    cfg
}

/// Delivers `opts.count` messages over one connection.
pub fn run(opts: &Options) -> io::Result<Report> {
    run_with(opts, config(opts))
}

/// One line per (message, recipient) when no session could start: the name did
/// not resolve (`dns`) or the connection failed (`network`), at stage `connect`.
fn no_session(opts: &Options, report: &mut Report, category: &'static str) {
    for message in 0..opts.count {
        for rcpt in &opts.to {
            let line = Line {
                message,
                rcpt: rcpt.clone(),
                outcome: "transient",
                code: None,
                enhanced: None,
                category: Some(category),
                stage: "connect",
            };
            if opts.json {
                println!("{}", line.to_json());
            }
            report.lines.push(line);
        }
    }
}

/// [`run`] with a session configuration of the caller's (AUTH, LMTP…).
///
/// The drive loop is the examples' shared one (`examples/driver`): each message is a
/// [`Delivery`] whose attempt goes into the session; this function only moves bytes,
/// with the socket's read and write timeouts set from the session's next deadline,
/// so a server that stops reading or trickles its replies cannot hold it longer
/// than the session's timeouts and budget allow.
#[allow(clippy::disallowed_methods)] // a driver reads the clock for the machine
pub fn run_with(opts: &Options, cfg: SessionConfig) -> io::Result<Report> {
    let mut report = Report::default();
    // Resolve first: a name that does not resolve is `dns`, a refused or
    // unreachable address is `network`.
    let addrs: Vec<SocketAddr> = match opts.server.to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            eprintln!("resolve {}: {e}", opts.server);
            no_session(opts, &mut report, "dns");
            return Ok(report);
        }
    };
    let connect_timeout = cfg.timeouts.greeting;
    let connected = addrs
        .iter()
        .find_map(|a| TcpStream::connect_timeout(a, connect_timeout).ok());
    let Some(mut stream) = connected else {
        eprintln!(
            "connect to {}: no address accepted the connection",
            opts.server
        );
        no_session(opts, &mut report, "network");
        return Ok(report);
    };
    stream.set_nodelay(true)?;
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let classifier = Classifier::builtin();
    let wall = Timestamp::from(SystemTime::now());
    let bodies: Vec<Vec<u8>> = (0..opts.count).map(|i| message(opts, i)).collect();
    let mut deliveries: Vec<Delivery> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            Delivery::new(
                wall,
                i as u64,
                opts.to.iter().map(|t| Recipient::new(t.as_str())).collect(),
            )
            .with_message(MessageInfo::new(opts.from.as_str()).size(body.len() as u64))
        })
        .collect();
    let mut driver = Driver::new(Session::new(cfg, Instant::now()), &policy);
    for (d, body) in deliveries.iter_mut().zip(&bodies) {
        driver
            .add(d, body, wall, &opts.server)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    }
    driver.session.quit();

    let mut rbuf = vec![0u8; 64 * 1024];
    loop {
        let step = driver.poll(Instant::now(), wall);
        if let Some(caps) = step.ready {
            report.capabilities = Some(caps);
        }
        for (i, o) in &step.outcomes {
            let rcpt = opts.to.get(o.rcpt).cloned().unwrap_or_default();
            let line = Line::from_outcome(*i, rcpt, o);
            if opts.json {
                println!("{}", line.to_json());
            }
            report.lines.push(line);
        }
        if !step.transmit.is_empty() {
            report.writes += 1;
            write_out(&mut driver.session, &mut stream, &step.transmit)?;
            continue; // the session may have more to say (or have ended)
        }
        if step.close {
            break;
        }
        let wait = step.deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        });
        stream.set_read_timeout(wait)?;
        let s = &mut driver.session;
        match stream.read(&mut rbuf) {
            Ok(0) => s.handle_eof(Instant::now()),
            Ok(n) => s.handle_input(Instant::now(), &rbuf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                s.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => s.handle_eof(Instant::now()),
        }
    }
    driver.finish(wall, &classifier);
    Ok(report)
}

/// Writes `bytes`, reporting each write's progress to the session; a write that
/// blocks past the session's next deadline (a server that stops reading, or the
/// budget) lets the session's timer end it.
#[allow(clippy::disallowed_methods)] // a driver reads the clock for the machine
fn write_out(s: &mut Session, stream: &mut TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() && !s.is_closed() {
        let wait = s.deadline().map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        });
        stream.set_write_timeout(wait)?;
        match stream.write(bytes) {
            Ok(0) => s.handle_eof(Instant::now()),
            Ok(n) => {
                // n never exceeds what the session handed out.
                let _ = s.handle_written(Instant::now(), n);
                bytes = &bytes[n..];
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                s.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => s.handle_eof(Instant::now()),
        }
    }
    Ok(())
}

/// Parses the command line.
pub fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        server: String::new(),
        from: String::new(),
        to: Vec::new(),
        count: 1,
        json: false,
        timeout: None,
        budget: None,
        pad: 0,
    };
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--server" => o.server = val("--server")?,
            "--from" => o.from = val("--from")?,
            "--to" => o.to.push(val("--to")?),
            "--count" => {
                o.count = val("--count")?
                    .parse()
                    .map_err(|e| format!("--count: {e}"))?
            }
            "--timeout" => o.timeout = Some(seconds("--timeout", &val("--timeout")?)?),
            "--budget" => o.budget = Some(seconds("--budget", &val("--budget")?)?),
            "--json" => o.json = true,
            "--pad" => {
                let v = val("--pad")?;
                o.pad = v.parse().ok().filter(|n| *n <= 1 << 30).ok_or(format!(
                    "--pad: expected a number of bytes up to 1 GiB, got {v:?}"
                ))?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.server.is_empty() || o.to.is_empty() {
        return Err("--server and at least one --to are required".into());
    }
    Ok(o)
}

/// A number of seconds for `flag`: finite, more than 0 and at most a day.
fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    let s: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("{flag}: expected a number of seconds, got {v:?}"))?;
    if !s.is_finite() || s <= 0.0 || s > 86_400.0 {
        return Err(format!(
            "{flag}: expected more than 0 and at most 86400 seconds, got {v:?}"
        ));
    }
    Ok(Duration::from_secs_f64(s))
}

#[allow(dead_code)] // the tests and benches include this file for `run`
/// The contract, for `--help`.
pub const HELP: &str = "send: N copies of a small message over one SMTP connection (sans-io session, blocking socket).

usage: send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--count N] [--json]
            [--timeout SECS] [--budget SECS] [--pad BYTES]

With --json, one line per recipient per message:
  {\"message\":0,\"rcpt\":\"b@example.com\",\"outcome\":\"delivered\",\"code\":250,\"enhanced\":\"2.0.0\",\"category\":null,\"stage\":\"data_end\"}
outcome is delivered, transient or permanent. Exit status 2 for unusable arguments only;
whatever the server does, every (message, recipient) gets its line and the status is 0.
";

/// Prints the help and exits 0 when `--help` or `-h` is among the arguments.
fn help_requested(text: &str) {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{text}");
        std::process::exit(0);
    }
}

fn main() {
    help_requested(HELP);
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}\nusage: send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--count N] [--json] [--timeout SECS] [--budget SECS] [--pad BYTES]"
            );
            std::process::exit(2);
        }
    };
    match run(&opts) {
        Ok(r) => {
            if !opts.json {
                let delivered = r.lines.iter().filter(|l| l.outcome == "delivered").count();
                println!(
                    "{delivered} of {} recipient deliveries accepted",
                    r.lines.len()
                );
            }
        }
        Err(e) => {
            // Only arguments the machine refuses (an invalid address) get here.
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
