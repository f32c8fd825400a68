//! Sends N copies of a small message over one SMTP connection with a blocking
//! `std::net` driver around the sans-io [`Session`], pipelining when offered.
//!
//! ```text
//! cargo run --example send -- --server 127.0.0.1:2525 --from a@example.org \
//!     --to b@example.com [--to c@example.com ...] [--count N] [--json] [--timeout SECS]
//! ```
//!
//! With `--json`, one line per recipient per message:
//! `{"message":0,"rcpt":"b@example.com","outcome":"delivered","code":250,"enhanced":"2.0.0","category":null,"stage":"data_end"}`.
//! `outcome` is `delivered`, `transient` or `permanent`; a connection lost without a
//! reply gives `"code":null`, `"outcome":"transient"`, `"category":"network"`.
//! TLS is not used (this example links no TLS library): `STARTTLS` is not sent.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tempfail::session::{
    Envelope, Event, MessageInfo, Output, Session, SessionConfig, Timeouts, TlsMode,
};
use tempfail::{Disposition, RcptOutcome};

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
    /// Every reply timeout (default: RFC 5321's).
    pub timeout: Option<Duration>,
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
    format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: tempfail test message {i}\r\nMessage-ID: <{i}.tempfail@example.org>\r\n\r\nThis is test message {i}.\r\n.A line that starts with a dot.\r\n",
        opts.from,
        opts.to.join(">, <"),
    )
    .into_bytes()
}

/// The session configuration `run` uses: no TLS, `--timeout` for every stage.
pub fn config(opts: &Options) -> SessionConfig {
    let mut cfg = SessionConfig::new("client.example.org");
    cfg.tls = TlsMode::Disabled;
    if let Some(t) = opts.timeout {
        cfg.timeouts = Timeouts::all(t);
    }
    cfg
}

/// Delivers `opts.count` messages over one connection.
pub fn run(opts: &Options) -> io::Result<Report> {
    run_with(opts, config(opts))
}

/// [`run`] with a session configuration of the caller's (AUTH, LMTP…).
#[allow(clippy::disallowed_methods)] // a driver reads the clock for the machine
pub fn run_with(opts: &Options, cfg: SessionConfig) -> io::Result<Report> {
    let mut report = Report::default();
    let mut stream = match TcpStream::connect(&opts.server) {
        Ok(s) => s,
        Err(e) => {
            // No session at all: every recipient of every message failed to connect.
            for message in 0..opts.count {
                for rcpt in &opts.to {
                    report.lines.push(Line {
                        message,
                        rcpt: rcpt.clone(),
                        outcome: "transient",
                        code: None,
                        enhanced: None,
                        category: Some("network"),
                        stage: "connect",
                    });
                }
            }
            eprintln!("connect to {}: {e}", opts.server);
            return Ok(report);
        }
    };
    stream.set_nodelay(true)?;
    let mut session = Session::new(cfg, Instant::now());
    let mut message_of = HashMap::new();
    let bodies: Vec<Vec<u8>> = (0..opts.count).map(|i| message(opts, i)).collect();
    for (i, body) in bodies.iter().enumerate() {
        let env = Envelope::new(
            MessageInfo::new(opts.from.as_str()).size(body.len() as u64),
            opts.to.iter().map(String::as_str),
        );
        match session.submit(env) {
            Ok(id) => {
                message_of.insert(id, i);
            }
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidInput, e)),
        }
    }
    session.quit();

    let mut rbuf = vec![0u8; 64 * 1024];
    let mut wbuf = Vec::with_capacity(8192);
    loop {
        let mut deadline = None;
        let mut close = false;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Transmit(bytes) => wbuf.extend_from_slice(&bytes),
                Output::Event(Event::BodyWanted { transaction }) => {
                    let i = message_of.get(&transaction).copied().unwrap_or(0);
                    let now = Instant::now();
                    // A real sender would stream from its spool in chunks.
                    session
                        .send_body_chunk(now, &bodies[i])
                        .and_then(|()| session.finish_body(now))
                        .map_err(|e| io::Error::other(e.to_string()))?;
                }
                Output::Event(Event::Recipient {
                    transaction,
                    outcome,
                }) => {
                    let i = message_of.get(&transaction).copied().unwrap_or(0);
                    let rcpt = opts.to.get(outcome.rcpt).cloned().unwrap_or_default();
                    let line = Line::from_outcome(i, rcpt, &outcome);
                    if opts.json {
                        println!("{}", line.to_json());
                    }
                    report.lines.push(line);
                }
                Output::Event(Event::Lost { stage, reason, .. }) => {
                    if !opts.json {
                        eprintln!("session lost at {stage}: {reason:?}");
                    }
                }
                Output::Event(Event::Ready) => {
                    report.capabilities = session.capabilities().cloned();
                }
                Output::Event(_) => {}
                Output::StartTls => unreachable!("TLS is disabled in this example"),
                Output::Close => close = true,
                Output::Timeout(d) => deadline = Some(d),
            }
        }
        if !wbuf.is_empty() {
            report.writes += 1;
            if stream.write_all(&wbuf).is_err() {
                wbuf.clear();
                session.handle_eof(Instant::now());
                continue;
            }
            wbuf.clear();
        }
        if close || session.is_closed() {
            break;
        }
        let wait = deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        });
        stream.set_read_timeout(wait)?;
        match stream.read(&mut rbuf) {
            Ok(0) => session.handle_eof(Instant::now()),
            Ok(n) => session.handle_input(Instant::now(), &rbuf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                session.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => session.handle_eof(Instant::now()),
        }
    }
    Ok(report)
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
            "--timeout" => {
                let s: f64 = val("--timeout")?
                    .parse()
                    .map_err(|e| format!("--timeout: {e}"))?;
                o.timeout = Some(Duration::from_secs_f64(s.clamp(0.001, 86_400.0)));
            }
            "--json" => o.json = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.server.is_empty() || o.to.is_empty() {
        return Err("--server and at least one --to are required".into());
    }
    Ok(o)
}

#[allow(dead_code)] // the tests and benches include this file for `run`
fn main() {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}\nusage: send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--count N] [--json] [--timeout SECS]"
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
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
