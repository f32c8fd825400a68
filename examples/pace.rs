//! Delivers N messages to one destination through the session machine, opening as
//! many connections as the destination's health allows.
//!
//! ```text
//! cargo run --release --example pace -- --server HOST:PORT --from A --to B --messages N [--naive] [--json]
//! ```
//!
//! With destination health (the default), a [`Registry`] decides when a connection
//! may open and when a message may start: concurrency feedback, the
//! `too_many_connections` ceiling, the message rate cut on `rate_limited` (learned
//! from the traffic, since nothing is configured), server hints. `--naive` is the
//! baseline every sender without this layer is: a fixed 20 connections and the
//! retry policy alone. Both use the same retry policy (1 s, doubling, at most 16 s)
//! for each deferred message.
//!
//! It ends with one JSON line:
//! `{"delivered": n, "transient_replies": k, "permanent_replies": p, "connections": c, "peak_concurrency": m, "wall_secs": t}`
//! (`transient_replies` counts every 4xx reply, a refused greeting included;
//! `connections` every TCP connection that reached the server). With `--json`,
//! decisions are printed as JSON lines on standard error as they happen. It gives
//! up after `--max-secs` (default 300) and reports what it had.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tempfail::backoff::{Exponential, Factor};
use tempfail::delivery::{Delivery, MessageInfo, Recipient};
use tempfail::destination::{Decision, HealthConfig, Permit, Registry, Report};
use tempfail::policy::RetryPolicy;
use tempfail::session::{Event, Output, Session, SessionConfig, TlsMode};
use tempfail::{Classification, Classifier, Disposition, Timestamp};

/// What to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// `host:port`.
    pub server: String,
    /// Envelope sender.
    pub from: String,
    /// The recipient of every message.
    pub to: String,
    /// How many messages.
    pub messages: usize,
    /// Fixed 20 connections, no destination health.
    pub naive: bool,
    /// Print decisions as JSON lines on standard error.
    pub json: bool,
    /// Give up after this long.
    pub max: Duration,
}

/// The result line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Messages accepted.
    pub delivered: usize,
    /// 4xx replies received.
    pub transient_replies: usize,
    /// 5xx replies received.
    pub permanent_replies: usize,
    /// TCP connections made.
    pub connections: usize,
    /// The most connections open at once.
    pub peak_concurrency: usize,
    /// Wall-clock seconds.
    pub wall_secs: f64,
}

impl Summary {
    /// The JSON line.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"delivered\": {}, \"transient_replies\": {}, \"permanent_replies\": {}, \"connections\": {}, \"peak_concurrency\": {}, \"wall_secs\": {:.3}}}",
            self.delivered,
            self.transient_replies,
            self.permanent_replies,
            self.connections,
            self.peak_concurrency,
            self.wall_secs
        )
    }
}

/// The naive sender's connections.
const NAIVE_CONNECTIONS: usize = 20;
/// How long a connection stays open with nothing due.
const IDLE: Duration = Duration::from_secs(3);
/// The destination's key in the registry.
const DEST: &str = "destination";

/// A message waiting: its delivery and when it is next due.
struct Waiting {
    delivery: Delivery,
    due: Timestamp,
}

struct Shared {
    waiting: VecDeque<Waiting>,
    /// Messages taken by a connection right now.
    busy: usize,
    finished: usize,
    open: usize,
    summary: Summary,
    reg: Option<Registry<String>>,
    json: bool,
}

impl Shared {
    fn done(&self, total: usize) -> bool {
        self.finished >= total
    }

    /// How many waiting messages are due at `now`.
    fn due(&self, now: Timestamp) -> usize {
        self.waiting.iter().filter(|w| w.due <= now).count()
    }

    fn count_reply(&mut self, code: Option<u16>) {
        match code.map(|c| c / 100) {
            Some(4) => self.summary.transient_replies += 1,
            Some(5) => self.summary.permanent_replies += 1,
            _ => {}
        }
    }

    fn log(&self, what: &str, detail: String) {
        if self.json {
            eprintln!(
                "{{\"event\": {}, \"detail\": {}}}",
                serde_json::Value::from(what),
                serde_json::Value::from(detail)
            );
        }
    }
}

#[allow(clippy::disallowed_methods)] // a driver reads the clock for the machines
fn wall() -> Timestamp {
    Timestamp::from(SystemTime::now())
}

fn policy() -> RetryPolicy {
    RetryPolicy::new(
        Exponential::new(Duration::from_secs(1), Factor::integer(2))
            .with_cap(Duration::from_secs(16)),
    )
    .with_name("pace")
}

/// The destination-health configuration `pace` uses: Postfix's feedback, and rate
/// cuts that recover within a minute (the test servers' limits are per seconds).
pub fn health() -> HealthConfig {
    let mut cfg = HealthConfig::postfix();
    cfg.rate_recovery = Duration::from_secs(60);
    cfg.rate_pause = Duration::from_secs(1);
    cfg.rate_pause_max = Duration::from_secs(16);
    cfg.ceiling_recovery = Duration::from_secs(30);
    cfg.probe_initial = Duration::from_secs(5);
    cfg.probe_max = Duration::from_secs(60);
    cfg.lease = Duration::from_secs(120);
    cfg
}

/// Delivers `opts.messages` messages and reports.
#[allow(clippy::disallowed_methods)] // a driver reads the clock for the machines
pub fn run(opts: &Options) -> Summary {
    let start = Instant::now();
    let t0 = wall();
    let waiting = (0..opts.messages)
        .map(|i| Waiting {
            delivery: Delivery::new(t0, i as u64, vec![Recipient::new(opts.to.as_str())])
                .with_message(MessageInfo::new(opts.from.as_str())),
            due: t0,
        })
        .collect();
    let shared = Arc::new(Mutex::new(Shared {
        waiting,
        busy: 0,
        finished: 0,
        open: 0,
        summary: Summary::default(),
        reg: (!opts.naive).then(|| Registry::new(health()).expect("valid health config")),
        json: opts.json,
    }));
    let total = opts.messages;
    let deadline = start + opts.max;
    let mut workers = Vec::new();
    if opts.naive {
        for _ in 0..NAIVE_CONNECTIONS {
            let (shared, opts) = (shared.clone(), opts.clone());
            workers.push(std::thread::spawn(move || {
                while Instant::now() < deadline {
                    // A pool connection opens for a due message, which the retry
                    // policy defers if the connection fails.
                    let reserved = {
                        let mut s = shared.lock().unwrap();
                        if s.done(total) {
                            return;
                        }
                        let now = wall();
                        match s.waiting.iter().position(|w| w.due <= now) {
                            Some(pos) => {
                                s.busy += 1;
                                s.waiting.remove(pos)
                            }
                            None => None,
                        }
                    };
                    match reserved {
                        Some(w) => connection(&shared, &opts, None, Some(w), deadline),
                        None => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            }));
        }
    } else {
        // The dispatcher: opens a connection whenever messages are due beyond what the
        // open connections carry and the registry says go.
        while Instant::now() < deadline {
            let mut s = shared.lock().unwrap();
            if s.done(total) {
                break;
            }
            let now = wall();
            let due = s.due(now);
            if due == 0 || s.open >= due {
                drop(s);
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            let decision = s.reg.as_mut().unwrap().acquire_connection(DEST, now);
            match decision {
                Decision::Go(permit) => {
                    s.open += 1;
                    s.log("connection", "go".into());
                    drop(s);
                    let (shared, opts) = (shared.clone(), opts.clone());
                    workers.push(std::thread::spawn(move || {
                        connection(&shared, &opts, Some(permit), None, deadline);
                    }));
                }
                other => {
                    s.log("connection", other.to_string());
                    drop(s);
                    let until = other.until().unwrap_or(now);
                    let ms = until
                        .as_millis()
                        .saturating_sub(now.as_millis())
                        .clamp(5, 200);
                    std::thread::sleep(Duration::from_millis(ms));
                }
            }
        }
    }
    for w in workers {
        let _ = w.join();
    }
    let mut s = shared.lock().unwrap();
    s.summary.wall_secs = start.elapsed().as_secs_f64();
    s.summary.clone()
}

/// One connection: delivers due messages one transaction at a time until none is
/// due (or the session ends).
#[allow(clippy::disallowed_methods)] // a driver reads the clock for the machines
fn connection(
    shared: &Arc<Mutex<Shared>>,
    opts: &Options,
    permit: Option<Permit>,
    mut reserved: Option<Waiting>,
    deadline: Instant,
) {
    let classifier = Classifier::builtin();
    let policy = policy();
    let release = |permit: Option<Permit>, report: Report<'_>| {
        let mut s = shared.lock().unwrap();
        if permit.is_some() {
            s.open -= 1;
        }
        if let (Some(p), Some(reg)) = (permit, s.reg.as_mut()) {
            let _ = reg.release(p, wall(), report);
        }
    };
    let Ok(stream) = TcpStream::connect(&opts.server) else {
        let c = classifier.classify_failure(
            tempfail::TransportFailure::ConnectionRefused,
            tempfail::Stage::Connect,
        );
        defer(shared, &mut reserved, &c, &policy);
        release(permit, Report::Failure(&c));
        std::thread::sleep(Duration::from_millis(100));
        return;
    };
    let _ = stream.set_nodelay(true);
    {
        let mut s = shared.lock().unwrap();
        s.summary.connections += 1;
        if permit.is_none() {
            s.open += 1;
        }
        s.summary.peak_concurrency = s.summary.peak_concurrency.max(s.open);
    }
    let mut cfg = SessionConfig::new("client.example.org");
    cfg.tls = TlsMode::Disabled;
    let mut session = Session::new(cfg, Instant::now());
    let mut io = Io {
        stream,
        buf: vec![0; 16 * 1024],
    };
    // The handshake.
    let mut lost: Option<Classification> = None;
    let mut ready = false;
    while !ready && lost.is_none() && !session.is_closed() {
        for e in io.turn(&mut session) {
            match e {
                Event::Ready => ready = true,
                Event::Lost {
                    classification,
                    reason,
                    ..
                } => {
                    let code = match &reason {
                        tempfail::session::LossReason::Reply(r) => Some(r.code().as_u16()),
                        _ => None,
                    };
                    shared.lock().unwrap().count_reply(code);
                    lost = Some(classification);
                }
                _ => {}
            }
        }
    }
    if !ready {
        let c = lost.unwrap_or_else(|| {
            classifier.classify_failure(
                tempfail::TransportFailure::UnexpectedClose,
                tempfail::Stage::Greeting,
            )
        });
        shared.lock().unwrap().log("greeting", c.rule.to_string());
        if permit.is_none() {
            shared.lock().unwrap().open -= 1;
        }
        defer(shared, &mut reserved, &c, &policy);
        release(permit, Report::Failure(&c));
        return;
    }
    // Messages, one transaction at a time; the connection stays open while messages
    // wait (a pool's connection would), up to a few idle seconds.
    let mut idle_since = Instant::now();
    while !session.is_closed() && Instant::now() < deadline {
        let now = wall();
        let mut s = shared.lock().unwrap();
        if let Some(w) = reserved.take() {
            s.busy -= 1;
            s.waiting.push_front(w);
        }
        let Some(pos) = s.waiting.iter().position(|w| w.due <= now) else {
            if s.done(opts.messages) || idle_since.elapsed() > IDLE {
                break;
            }
            drop(s);
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        idle_since = Instant::now();
        let retry = s.waiting[pos].delivery.attempts() > 0;
        let msg_permit = match s.reg.as_mut().map(|r| r.acquire_message(DEST, now, retry)) {
            None => None,
            Some(Decision::Go(p)) => Some(p),
            Some(other) => {
                s.log("message", other.to_string());
                let until = other.until().unwrap_or(now);
                drop(s);
                let wait = until.as_millis().saturating_sub(now.as_millis());
                if wait > 2000 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(wait.max(5)));
                continue;
            }
        };
        let Some(mut w) = s.waiting.remove(pos) else {
            break;
        };
        s.busy += 1;
        drop(s);
        let body = format!(
            "From: <{}>\r\nTo: <{}>\r\nSubject: pace\r\n\r\nA paced message.\r\n",
            opts.from, opts.to,
        )
        .into_bytes();
        let outcome = transaction(&mut session, &mut io, &mut w.delivery, &policy, &body);
        let end = wall();
        w.delivery.end_attempt(end, &policy, &classifier);
        let mut s = shared.lock().unwrap();
        s.busy -= 1;
        if let Some((_, code)) = &outcome {
            s.count_reply(*code);
        }
        if let (Some(p), Some(reg)) = (msg_permit, s.reg.as_mut()) {
            let report = match &outcome {
                Some((c, _)) if c.disposition != Disposition::Success => Report::Failure(c),
                Some(_) => Report::Success,
                None => Report::Unused,
            };
            let _ = reg.release(p, end, report);
        }
        if w.delivery.is_finished() {
            let delivered = w.delivery.recipients()[0].status.name() == "delivered";
            s.finished += 1;
            if delivered {
                s.summary.delivered += 1;
            }
        } else {
            w.due = w.delivery.next_wakeup(&policy).unwrap_or(end);
            s.waiting.push_back(w);
        }
    }
    session.quit();
    while !session.is_closed() {
        let _ = io.turn(&mut session);
    }
    if permit.is_none() {
        shared.lock().unwrap().open -= 1;
    }
    release(permit, Report::Success);
}

/// A message reserved for a connection that failed: the failure is its attempt's
/// outcome, and the retry policy decides when it is due again.
fn defer(
    shared: &Arc<Mutex<Shared>>,
    reserved: &mut Option<Waiting>,
    c: &Classification,
    policy: &RetryPolicy,
) {
    let Some(mut w) = reserved.take() else {
        return;
    };
    let now = wall();
    if w.delivery.start_attempt(now, Some("destination")).is_ok() {
        let _ = w
            .delivery
            .handle_transport_failure(now, policy, c, tempfail::Stage::Greeting);
    }
    w.due = w.delivery.next_wakeup(policy).unwrap_or(now);
    let mut s = shared.lock().unwrap();
    s.busy -= 1;
    s.waiting.push_back(w);
}

/// One message's transaction; its recipient's classification and reply code.
#[allow(clippy::disallowed_methods)] // a driver reads the clock for the machines
fn transaction(
    session: &mut Session,
    io: &mut Io,
    delivery: &mut Delivery,
    policy: &RetryPolicy,
    body: &[u8],
) -> Option<(Classification, Option<u16>)> {
    let now = wall();
    let mut attempt = delivery.start_attempt(now, Some("destination")).ok()?;
    attempt.submit(delivery, session).ok()?;
    let mut result = None;
    loop {
        let events = io.turn(session);
        let mut done = false;
        for e in events {
            if let Event::BodyWanted { .. } = e {
                let _ = session.send_body_chunk(Instant::now(), body);
                let _ = session.finish_body(Instant::now());
                continue;
            }
            if let Event::Recipient { outcome, .. } = &e {
                let code = outcome.reply.as_ref().map(|r| r.code().as_u16());
                result = Some((outcome.classification.clone(), code));
            }
            if matches!(e, Event::TransactionDone { .. } | Event::Lost { .. }) {
                done = true;
            }
            let _ = delivery.handle_event(wall(), policy, &attempt, &e);
        }
        if done || session.is_closed() {
            return result;
        }
    }
}

struct Io {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Io {
    /// Drains the session's outputs (writing what it transmits); if nothing came out
    /// and the session waits for the server, reads once (bounded by its deadline)
    /// and drains again. Returns the events.
    #[allow(clippy::disallowed_methods)] // a driver reads the clock for the machines
    fn turn(&mut self, s: &mut Session) -> Vec<Event> {
        let mut events = Vec::new();
        if self.drain(s, &mut events) || s.is_closed() {
            return events;
        }
        let wait = s.deadline().map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        });
        let _ = self
            .stream
            .set_read_timeout(wait.or(Some(Duration::from_secs(30))));
        match self.stream.read(&mut self.buf) {
            Ok(0) => s.handle_eof(Instant::now()),
            Ok(n) => s.handle_input(Instant::now(), &self.buf[..n]),
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
        self.drain(s, &mut events);
        events
    }

    /// Writes what the session transmits and collects its events; whether anything
    /// came out.
    #[allow(clippy::disallowed_methods)] // a driver reads the clock for the machines
    fn drain(&mut self, s: &mut Session, events: &mut Vec<Event>) -> bool {
        let mut any = false;
        while let Some(o) = s.poll_output() {
            any = true;
            match o {
                Output::Transmit(b) => {
                    if self.stream.write_all(&b).is_ok() {
                        let _ = s.handle_written(Instant::now(), b.len());
                    } else {
                        s.handle_eof(Instant::now());
                    }
                }
                Output::Event(e) => events.push(e),
                Output::Close => {
                    let _ = self.stream.shutdown(std::net::Shutdown::Both);
                }
                _ => {}
            }
        }
        any
    }
}

/// Parses the command line.
pub fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        server: String::new(),
        from: String::new(),
        to: String::new(),
        messages: 0,
        naive: false,
        json: false,
        max: Duration::from_secs(300),
    };
    let mut args = args;
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--server" => o.server = val()?,
            "--from" => o.from = val()?,
            "--to" => o.to = val()?,
            "--messages" => {
                o.messages = val()?
                    .parse()
                    .map_err(|_| "--messages needs a whole number".to_string())?
            }
            "--max-secs" => {
                let v: u64 = val()?
                    .parse()
                    .map_err(|_| "--max-secs needs a whole number".to_string())?;
                if v == 0 || v > 86_400 {
                    return Err("--max-secs must be from 1 to 86400".into());
                }
                o.max = Duration::from_secs(v);
            }
            "--naive" => o.naive = true,
            "--json" => o.json = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.server.is_empty() || o.from.is_empty() || o.to.is_empty() || o.messages == 0 {
        return Err("--server, --from, --to and --messages (at least 1) are required".into());
    }
    Ok(o)
}

/// The contract, for `--help`.
pub const HELP: &str = "pace: N messages to one destination through the session machine, as many connections
as destination health allows.

usage: pace --server HOST:PORT --from A --to B --messages N [--naive] [--json] [--max-secs S]

--naive: a fixed 20 connections and the retry policy alone (the baseline).
--json: decisions as JSON lines on standard error.
Ends with one JSON line:
  {\"delivered\": n, \"transient_replies\": k, \"permanent_replies\": p, \"connections\": c, \"peak_concurrency\": m, \"wall_secs\": t}
Exit status 2 for unusable arguments.
";

#[allow(dead_code)] // the tests include this file for its functions
fn main() {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return;
    }
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}\nusage: pace --server HOST:PORT --from A --to B --messages N [--naive] [--json] [--max-secs S]"
            );
            std::process::exit(2);
        }
    };
    println!("{}", run(&opts).to_json());
}
