//! A sans-io SMTP client session: bytes from the server in, bytes to send,
//! events and deadlines out. It never touches a socket or a clock.
//!
//! [`Session`] speaks the client side of one SMTP (or LMTP) connection: the
//! greeting, `EHLO` with a `HELO` fallback, `STARTTLS` (the caller performs the
//! handshake), `AUTH` (`PLAIN`, `LOGIN`, `XOAUTH2`), then any number of mail
//! transactions, pipelined when the server offers `PIPELINING` (RFC 2920), and
//! `QUIT`. Every recipient of every submitted [`Envelope`] ends in exactly one
//! [`RcptOutcome`]: the reply that decided it (or the transport failure), the stage,
//! and its [`Classification`].
//!
//! # The drive loop
//!
//! ```
//! use std::time::{Duration, Instant};
//! use tempfail::session::{Envelope, Event, Output, Session, SessionConfig};
//!
//! let start = Instant::now();
//! let mut s = Session::new(SessionConfig::new("client.example.org"), start);
//! let tx = s.submit(Envelope::new("a@example.org", ["b@example.com"])).unwrap();
//! s.quit();
//!
//! // What a real driver reads from its socket, here scripted.
//! let mut server = vec![
//!     &b"220 mx.example.com ESMTP\r\n"[..],
//!     b"250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
//!     b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n",
//!     b"250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n",
//! ].into_iter();
//! let mut wire = Vec::new();
//! let mut delivered = 0;
//! let now = start + Duration::from_millis(1);
//! loop {
//!     while let Some(out) = s.poll_output() {
//!         match out {
//!             Output::Transmit(bytes) => {
//!                 wire.extend_from_slice(&bytes); // write to the socket, then report it
//!                 s.handle_written(now, bytes.len()).unwrap();
//!             }
//!             Output::Event(Event::BodyWanted { .. }) => {
//!                 s.send_body_chunk(now, b"Subject: hi\n\nHello.\n").unwrap();
//!                 s.finish_body(now).unwrap();
//!             }
//!             Output::Event(Event::Recipient { outcome, .. }) => {
//!                 delivered += usize::from(outcome.classification.disposition.name() == "success");
//!             }
//!             Output::Event(_) => {}
//!             Output::StartTls => unreachable!("not offered"),
//!             Output::Close => break,
//!             Output::Timeout(_deadline) => break, // sleep until then, or until input
//!         }
//!     }
//!     if s.is_closed() {
//!         break;
//!     }
//!     match server.next() {
//!         Some(bytes) => s.handle_input(now, bytes),
//!         None => s.handle_eof(now),
//!     }
//! }
//! assert_eq!(delivered, 1);
//! assert!(wire.starts_with(b"EHLO client.example.org\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"));
//! # let _ = tx;
//! ```
//!
//! # What it does not do
//!
//! It opens no connection, performs no TLS handshake and resolves no MX: those are
//! the driver's. `CHUNKING`/`BDAT` is recognised in the capabilities but the body
//! always goes through `DATA`.

mod body;
mod caps;
mod command;
mod config;
mod events;
mod handshake;
mod timers;
mod transactions;
mod transitions;

use std::collections::VecDeque;
use std::time::Instant;

use crate::classify::{Classification, Disposition, Stage, TransportFailure};
use crate::outcome::RcptOutcome;
use crate::reply::{ParseWarning, Reply, ReplyParser};

pub use body::BodyEncoder;
pub use caps::{Capabilities, Mechanism};
pub use command::{BodyType, Credentials, Envelope, MessageInfo, Notify, Recipient, Ret};
pub use config::{SessionConfig, Timeouts, TlsMode};
pub use events::{Event, LossReason, Output, TransactionId, UsageError};
pub use timers::{Timer, TimerReason};
use transitions::Step;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AuthStep {
    /// The final reply to `AUTH PLAIN …`, the LOGIN password or `AUTH XOAUTH2 …`.
    Final { xoauth2: bool },
    /// LOGIN's username challenge.
    LoginUser,
    /// LOGIN's password challenge.
    LoginPass,
    /// After the empty response to XOAUTH2's error challenge.
    Xoauth2Error,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    Greeting,
    Hello {
        ehlo: bool,
    },
    StartTls,
    Auth(AuthStep),
    Mail(u64),
    Rcpt(u64, usize),
    Data(u64),
    /// The reply to the final dot; `Some(i)` in LMTP for recipient `i`.
    DataEnd(u64, Option<usize>),
    Rset,
    Quit,
}

impl Expect {
    fn stage(self, lmtp: bool) -> Stage {
        match self {
            Expect::Greeting => Stage::Greeting,
            Expect::Hello { ehlo: true } if !lmtp => Stage::Ehlo,
            Expect::Hello { .. } => Stage::Helo,
            Expect::StartTls => Stage::Starttls,
            Expect::Auth(_) => Stage::Auth,
            Expect::Mail(_) => Stage::MailFrom,
            Expect::Rcpt(..) => Stage::RcptTo,
            Expect::Data(_) => Stage::Data,
            Expect::DataEnd(..) => Stage::DataEnd,
            Expect::Rset => Stage::Rset,
            Expect::Quit => Stage::Quit,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Greeting, EHLO, STARTTLS, AUTH.
    Handshake,
    /// Between STARTTLS's 220 and the caller's TLS report.
    AwaitTls,
    /// Mail transactions.
    Ready,
    /// QUIT sent.
    Quitting,
    /// Nothing more will happen.
    Closed,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PartState {
    /// MAIL/RCPT/DATA replies outstanding.
    Envelope,
    /// 354 received, body being streamed.
    Body,
    /// Final dot sent.
    AwaitDot,
}

/// One SMTP transaction: a slice of an envelope's recipients.
#[derive(Debug)]
struct Part {
    seq: u64,
    txn: TransactionId,
    start: usize,
    end: usize,
    /// Next recipient to send RCPT for (without pipelining).
    next_rcpt: usize,
    accepted: Vec<usize>,
    mail_failed: Option<(Reply, Classification)>,
    state: PartState,
}

#[derive(Debug)]
struct Txn {
    id: TransactionId,
    env: Envelope,
    /// First recipient not yet put in a part.
    dispatched: usize,
    /// Recipients without an outcome.
    open: usize,
    /// Which recipients have their outcome.
    decided: Vec<bool>,
    delivered: usize,
    transient: usize,
    permanent: usize,
}

/// The client side of one SMTP session. See the [module docs](self) for the drive loop.
///
/// Inputs are `handle_*` (bytes, EOF, timer expiry, TLS hand-off), commands are
/// [`submit`](Self::submit), [`send_body_chunk`](Self::send_body_chunk),
/// [`finish_body`](Self::finish_body) and [`quit`](Self::quit); after each, drain
/// [`poll_output`](Self::poll_output) until it returns `None`.
///
/// Timers started by a command count from the `now` of the latest input (or of
/// [`Session::new`]); `now` values earlier than one already seen are clamped.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    now: Instant,
    phase: Phase,
    parser: ReplyParser,
    caps: Option<Capabilities>,
    tls: bool,
    authenticated: bool,
    out: VecDeque<Output>,
    out_bytes: usize,
    report_timeout: bool,
    pending: VecDeque<Expect>,
    front_since: Instant,
    txns: VecDeque<Txn>,
    parts: VecDeque<Part>,
    next_txn: u64,
    next_part: u64,
    quit_requested: bool,
    body: Option<BodyEncoder>,
    body_since: Instant,
    tls_since: Instant,
    last_stage: Stage,
    /// Refusals waiting for the replies to be proven aligned (see `hold`).
    held: Vec<(TransactionId, usize, Option<Reply>, Stage, Classification)>,
    /// When the session started (its budget counts from here).
    started: Instant,
    /// Bytes handed out in `Output::Transmit` and not yet reported written.
    unwritten: usize,
    /// Since when the oldest unwritten bytes wait without progress.
    write_since: Instant,
}

impl Session {
    /// A session on a connection that has just been opened at `now`; it waits for
    /// the server's greeting.
    pub fn new(mut config: SessionConfig, now: Instant) -> Self {
        config.max_recipients_per_transaction =
            config.max_recipients_per_transaction.clamp(1, 10_000);
        let mut pending = VecDeque::with_capacity(8);
        pending.push_back(Expect::Greeting);
        let parser = ReplyParser::with_limits(config.reply_limits).strict(config.strict_replies);
        Session {
            cfg: config,
            now,
            phase: Phase::Handshake,
            parser,
            caps: None,
            tls: false,
            authenticated: false,
            out: VecDeque::with_capacity(8),
            out_bytes: 0,
            report_timeout: true,
            pending,
            front_since: now,
            txns: VecDeque::new(),
            parts: VecDeque::new(),
            next_txn: 0,
            next_part: 0,
            quit_requested: false,
            body: None,
            body_since: now,
            tls_since: now,
            last_stage: Stage::Greeting,
            held: Vec::new(),
            started: now,
            unwritten: 0,
            write_since: now,
        }
    }

    // ---- queries ----------------------------------------------------------

    /// What the server advertised in its last `EHLO` reply (after `STARTTLS`, the
    /// second one); `None` before that reply.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.caps.as_ref()
    }

    /// True once TLS has been established through `STARTTLS`.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// True once the session has ended; only buffered outputs remain.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// True when nothing is in progress: handshake done, no transaction open, no
    /// reply awaited. A driver may submit more or quit.
    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Ready && self.pending.is_empty() && self.txns.is_empty()
    }

    /// The number of replies the session is waiting for (bounded by the recipients
    /// per transaction plus a handful).
    pub fn replies_awaited(&self) -> usize {
        self.pending.len()
    }

    /// The deadline for the next [`handle_timeout`](Self::handle_timeout), if a timer runs.
    #[must_use]
    pub fn deadline(&self) -> Option<Instant> {
        self.timer().map(|t| t.at)
    }

    /// The running timer that expires first, with the reason it runs: the timer
    /// table has one row for the awaited reply (or the TLS handshake, or the next
    /// body chunk), one for unwritten output, and one for the session's budget.
    #[must_use]
    pub fn timer(&self) -> Option<Timer> {
        use timers::row;
        let t = &self.cfg.timeouts;
        let waiting = match self.phase {
            Phase::Closed => return None,
            Phase::AwaitTls => row(self.tls_since, t.command, TimerReason::TlsHandshake),
            _ => match self.pending.front() {
                Some(front) => {
                    let stage = front.stage(self.cfg.lmtp);
                    row(
                        self.front_since,
                        t.for_stage(stage),
                        TimerReason::Reply { stage },
                    )
                }
                None if self.body.is_some() => {
                    row(self.body_since, t.data_block, TimerReason::BodyBlock)
                }
                None => None,
            },
        };
        let writing = (self.unwritten > 0)
            .then(|| row(self.write_since, t.write, TimerReason::Write))
            .flatten();
        let budget = self
            .cfg
            .max_session_time
            .and_then(|b| row(self.started, b, TimerReason::SessionBudget));
        timers::earliest([waiting, writing, budget])
    }

    // ---- commands ---------------------------------------------------------

    /// Queues a mail transaction. It starts as soon as the handshake is done and the
    /// transactions before it have gone through their `DATA`. Every recipient will
    /// get exactly one [`Event::Recipient`].
    ///
    /// Errors: the envelope is invalid ([`Envelope::validate`]), or the session has
    /// ended or [`quit`](Self::quit) was called.
    pub fn submit(&mut self, envelope: Envelope) -> Result<TransactionId, UsageError> {
        if self.phase == Phase::Closed || self.quit_requested {
            return Err(UsageError::new(
                "a session that is open and not quitting",
                "submit after the session ended or quit was called".to_string(),
            ));
        }
        envelope.validate()?;
        let id = TransactionId(self.next_txn);
        self.next_txn += 1;
        let open = envelope.recipients.len();
        self.txns.push_back(Txn {
            id,
            env: envelope,
            dispatched: 0,
            open,
            decided: vec![false; open],
            delivered: 0,
            transient: 0,
            permanent: 0,
        });
        self.report_timeout = true;
        self.pump();
        Ok(id)
    }

    /// Streams the next chunk of the body after [`Event::BodyWanted`]: line endings
    /// become CRLF and leading dots are doubled, across chunk boundaries; the body is
    /// never buffered beyond the pending [`Output::Transmit`]s. `now` restarts the
    /// data-block timer.
    ///
    /// After an input that ended the session (a timeout, a `421` during the body) the
    /// chunk is discarded and `Ok` returned: the events say what happened.
    ///
    /// Errors: no body is wanted, or more than `max_buffered_output` bytes wait to be
    /// transmitted (drain [`poll_output`](Self::poll_output) first).
    pub fn send_body_chunk(&mut self, now: Instant, chunk: &[u8]) -> Result<(), UsageError> {
        self.tick(now);
        if self.phase == Phase::Closed {
            // An input since the body was requested ended the session: nothing to send.
            return Ok(());
        }
        if self.body.is_none() {
            return Err(UsageError::new(
                "send_body_chunk only after Event::BodyWanted",
                "a body chunk with no body wanted".to_string(),
            ));
        }
        if self.out_bytes > 0
            && self.out_bytes.saturating_add(chunk.len()) > self.cfg.max_buffered_output
        {
            return Err(UsageError::new(
                "poll_output drained before more body",
                format!("{} bytes waiting and {} more", self.out_bytes, chunk.len()),
            ));
        }
        self.body_since = self.now;
        if let Some(mut enc) = self.body.take() {
            self.send(|b| enc.encode(chunk, b));
            self.body = Some(enc);
        }
        self.report_timeout = true;
        Ok(())
    }

    /// Ends the body (terminating `.` line) and waits for the server's verdict. A
    /// no-op returning `Ok` once the session has ended.
    ///
    /// Errors: no body is being sent.
    pub fn finish_body(&mut self, now: Instant) -> Result<(), UsageError> {
        self.tick(now);
        if self.phase == Phase::Closed {
            return Ok(());
        }
        let Some(mut enc) = self.body.take() else {
            return Err(UsageError::new(
                "finish_body only after Event::BodyWanted",
                "finish_body with no body wanted".to_string(),
            ));
        };
        self.send(|b| enc.finish(b));
        let lmtp = self.cfg.lmtp;
        if let Some(p) = self.parts.iter_mut().find(|p| p.state == PartState::Body) {
            p.state = PartState::AwaitDot;
            let seq = p.seq;
            if lmtp {
                let acc = p.accepted.clone();
                for i in acc {
                    self.expect(Expect::DataEnd(seq, Some(i)));
                }
            } else {
                self.expect(Expect::DataEnd(seq, None));
            }
        }
        self.report_timeout = true;
        self.pump();
        Ok(())
    }

    /// Ends the session politely: once every submitted transaction is done, `QUIT`
    /// is sent and [`Output::Close`] follows its reply. Calling it again, or after
    /// the session ended, does nothing.
    pub fn quit(&mut self) {
        if self.phase == Phase::Closed {
            return;
        }
        self.quit_requested = true;
        self.report_timeout = true;
        self.pump();
    }

    // ---- inputs -----------------------------------------------------------

    /// Feeds bytes read from the connection. Call it with whatever a read returned
    /// (any split), then drain [`poll_output`](Self::poll_output). Bytes after the
    /// session ended, and bytes between `STARTTLS`'s `220` and
    /// [`handle_tls_established`](Self::handle_tls_established), are discarded.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        self.tick(now);
        self.report_timeout = true;
        if self.phase == Phase::Closed || self.phase == Phase::AwaitTls {
            return;
        }
        let mut input = bytes;
        loop {
            match self.parser.parse(&mut input) {
                None => break,
                Some(Ok(reply)) => {
                    if reply.has_mixed_codes() {
                        let stage = self.current_stage();
                        let warnings: Vec<ParseWarning> = self.parser.take_warnings().collect();
                        for warning in warnings {
                            self.event(Event::ReplyWarning { stage, warning });
                        }
                    }
                    self.on_reply(reply);
                    if matches!(self.phase, Phase::Closed | Phase::AwaitTls) {
                        break;
                    }
                }
                Some(Err(e)) => {
                    let stage = self.current_stage();
                    let c = self
                        .cfg
                        .classifier
                        .classify_failure(TransportFailure::ProtocolViolation, stage);
                    self.lose(stage, LossReason::Malformed(e.to_string()), c, None, false);
                    break;
                }
            }
        }
        self.pump();
    }

    /// The connection was closed by the server (a read returned 0 bytes, or the
    /// connection was reset). After our `QUIT` this is the normal end; otherwise
    /// every open recipient gets a transient `network` outcome (RFC 5321 §3.8).
    pub fn handle_eof(&mut self, now: Instant) {
        self.tick(now);
        self.report_timeout = true;
        match self.phase {
            Phase::Closed => {}
            Phase::Quitting => {
                let stage = self.current_stage();
                if self.pending.iter().any(|e| *e != Expect::Quit) {
                    let c = self
                        .cfg
                        .classifier
                        .classify_failure(TransportFailure::UnexpectedClose, stage);
                    self.fail_open(None, stage, &c);
                }
                self.closed();
            }
            _ => {
                let stage = self.current_stage();
                let c = self
                    .cfg
                    .classifier
                    .classify_failure(TransportFailure::UnexpectedClose, stage);
                self.lose(stage, LossReason::ConnectionClosed, c, None, false);
            }
        }
    }

    /// The timer from [`Output::Timeout`] fired. Early calls are harmless; at or past
    /// the deadline the session ends with a transient outcome for every open
    /// recipient and an [`Event::Lost`] naming the stage: [`LossReason::TimedOut`]
    /// for a reply, the TLS handshake or the next body chunk,
    /// [`LossReason::WriteTimedOut`] for unwritten output,
    /// [`LossReason::BudgetExhausted`] for the session's budget ([`Session::timer`]
    /// tells which will fire).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        self.report_timeout = true;
        let Some(timer) = self.timer() else {
            return;
        };
        if self.now < timer.at {
            return;
        }
        let stage = self.current_stage();
        let c = self
            .cfg
            .classifier
            .classify_failure(timer.reason.failure(), stage);
        let reason = match timer.reason {
            TimerReason::Write => LossReason::WriteTimedOut,
            TimerReason::SessionBudget => LossReason::BudgetExhausted,
            _ => LossReason::TimedOut,
        };
        self.lose(stage, reason, c, None, false);
    }

    /// The driver wrote `n` more bytes of the [`Output::Transmit`] data it was given
    /// (call it after every write, with what the write took). While handed-out bytes
    /// remain unwritten, the write timer ([`Timeouts::write`]) runs from the last
    /// progress: a server that stops reading ends the session. A driver that writes
    /// each `Transmit` whole before reading calls it once per `Transmit` with its
    /// length. Ignored once the session has ended.
    ///
    /// Errors: `n` is more than was handed out and not yet reported.
    pub fn handle_written(&mut self, now: Instant, n: usize) -> Result<(), UsageError> {
        self.tick(now);
        if self.phase == Phase::Closed {
            return Ok(());
        }
        if n > self.unwritten {
            return Err(UsageError::new(
                "at most the bytes handed out in Output::Transmit and not yet reported",
                format!("{n} bytes written, {} outstanding", self.unwritten),
            ));
        }
        self.unwritten -= n;
        if n > 0 {
            self.write_since = self.now;
        }
        self.report_timeout = true;
        Ok(())
    }

    /// The common start of a TLS handshake report: the clock moves, and the
    /// report is refused unless a handshake was requested.
    fn tls_report(&mut self, now: Instant, expected: &'static str) -> Result<(), UsageError> {
        self.tick(now);
        if self.phase != Phase::AwaitTls {
            return Err(UsageError::new(
                expected,
                "a TLS report with no handshake requested".to_string(),
            ));
        }
        self.report_timeout = true;
        Ok(())
    }

    /// The TLS handshake after [`Output::StartTls`] succeeded: from now on the bytes
    /// fed to [`handle_input`](Self::handle_input) are the decrypted stream. The
    /// session sends `EHLO` again (RFC 3207 §4.2).
    ///
    /// Errors: no TLS handshake was requested.
    pub fn handle_tls_established(&mut self, now: Instant) -> Result<(), UsageError> {
        self.tls_report(now, "handle_tls_established only after Output::StartTls")?;
        self.tls = true;
        self.caps = None;
        self.parser.reset();
        self.phase = Phase::Handshake;
        self.send_hello(true);
        Ok(())
    }

    /// The TLS handshake after [`Output::StartTls`] failed: the session ends
    /// (transient, `tls_failed`), and the connection must be closed.
    ///
    /// Errors: no TLS handshake was requested.
    pub fn handle_tls_failed(&mut self, now: Instant) -> Result<(), UsageError> {
        self.tls_report(now, "handle_tls_failed only after Output::StartTls")?;
        let c = self
            .cfg
            .classifier
            .classify_failure(TransportFailure::TlsHandshake, Stage::Starttls);
        self.lose(Stage::Starttls, LossReason::TlsFailed, c, None, false);
        Ok(())
    }

    // ---- output -----------------------------------------------------------

    /// The next thing to do. Call after every input and command, until `None`.
    /// Outputs come in the order they must be acted on; [`Output::Timeout`] comes
    /// last, once per drain.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.out.pop_front() {
            if let Output::Transmit(b) = &o {
                self.out_bytes = self.out_bytes.saturating_sub(b.len());
                if self.unwritten == 0 {
                    self.write_since = self.now;
                }
                self.unwritten = self.unwritten.saturating_add(b.len());
            }
            return Some(o);
        }
        if self.report_timeout {
            self.report_timeout = false;
            return self.deadline().map(Output::Timeout);
        }
        None
    }

    // ---- internals --------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    fn current_stage(&self) -> Stage {
        if self.phase == Phase::AwaitTls {
            return Stage::Starttls;
        }
        if let Some(e) = self.pending.front() {
            return e.stage(self.cfg.lmtp);
        }
        if self.body.is_some() {
            return Stage::Data;
        }
        self.last_stage
    }

    /// The transmit buffer at the back of the output queue.
    fn tx_buf(&mut self) -> &mut Vec<u8> {
        if !matches!(self.out.back(), Some(Output::Transmit(_))) {
            self.out
                .push_back(Output::Transmit(Vec::with_capacity(256)));
        }
        match self.out.back_mut() {
            Some(Output::Transmit(b)) => b,
            // The back was made a Transmit just above.
            _ => unreachable!("the back of the output queue is a Transmit"),
        }
    }

    fn send(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        let buf = self.tx_buf();
        let before = buf.len();
        f(buf);
        let added = buf.len() - before;
        self.out_bytes = self.out_bytes.saturating_add(added);
    }

    fn send_line(&mut self, line: &[u8]) {
        self.send(|b| {
            b.extend_from_slice(line);
            b.extend_from_slice(b"\r\n");
        });
    }

    fn expect(&mut self, e: Expect) {
        if self.pending.is_empty() {
            self.front_since = self.now;
        }
        self.pending.push_back(e);
    }

    fn event(&mut self, e: Event) {
        #[cfg(feature = "tracing")]
        {
            let (name, detail) = match &e {
                Event::Ready => ("ready", String::new()),
                Event::BodyWanted { .. } => ("body_wanted", String::new()),
                Event::Recipient { outcome, .. } => {
                    ("recipient", outcome.classification.to_string())
                }
                Event::TransactionDone { .. } => ("transaction_done", String::new()),
                Event::Lost { reason, .. } => ("lost", reason.to_string()),
                Event::Closed => ("closed", String::new()),
                Event::ReplyWarning { .. } => ("reply_warning", String::new()),
            };
            trace_event!(
                debug,
                event = name,
                detail = %detail,
                stage = self.last_stage.name(),
                "session event"
            );
        }
        self.out.push_back(Output::Event(e));
    }

    fn classify(&self, reply: &Reply, stage: Stage) -> Classification {
        self.cfg.classifier.classify(reply, stage)
    }

    fn on_reply(&mut self, reply: Reply) {
        let Some(exp) = self.pending.pop_front() else {
            if reply.code().as_u16() == 421 {
                let stage = self.current_stage();
                self.refused(stage, reply, false);
            } else {
                self.unexpected(reply);
            }
            return;
        };
        self.front_since = self.now;
        let stage = exp.stage(self.cfg.lmtp);
        self.last_stage = stage;
        if reply.code().as_u16() == 421 && exp != Expect::Quit {
            self.refused(stage, reply, false);
            return;
        }
        match transitions::step(exp, &reply) {
            Step::SendEhlo => self.send_hello(true),
            Step::Capabilities => {
                self.caps = Some(if exp == (Expect::Hello { ehlo: true }) {
                    Capabilities::from_ehlo(&reply)
                } else {
                    Capabilities::default()
                });
                self.after_hello();
            }
            Step::FallbackToHelo if !self.cfg.lmtp => self.send_hello(false),
            Step::AwaitTls => {
                self.phase = Phase::AwaitTls;
                self.tls_since = self.now;
                self.parser.reset();
                self.out.push_back(Output::StartTls);
            }
            // Opportunistic: go on without TLS (RFC 3207 §4).
            Step::TlsDeclined if self.cfg.tls != TlsMode::Required => self.after_tls_decision(),
            Step::Auth => match exp {
                Expect::Auth(step) => self.on_auth_reply(step, reply),
                _ => self.unexpected(reply),
            },
            Step::Transaction => match exp {
                Expect::Mail(seq) => self.on_mail_reply(seq, reply),
                Expect::Rcpt(seq, i) => self.on_rcpt_reply(seq, i, reply),
                Expect::Data(seq) => self.on_data_reply(seq, reply),
                Expect::DataEnd(seq, lmtp_rcpt) => self.on_data_end_reply(seq, lmtp_rcpt, reply),
                _ => self.unexpected(reply),
            },
            // RSET's own 250 after a refused transaction: the replies before it were
            // aligned, and what they refused is final.
            Step::Release => self.release(),
            Step::Refuse | Step::FallbackToHelo | Step::TlsDeclined => {
                self.refused(stage, reply, true)
            }
            Step::Unexpected => self.unexpected(reply),
            Step::Closed => self.closed(),
        }
    }

    /// The server's reply ends the session: it is classified at `stage`, every open
    /// recipient gets it, and `QUIT` is sent first when `polite`.
    fn refused(&mut self, stage: Stage, reply: Reply, polite: bool) {
        let c = self.classify(&reply, stage);
        self.lose(
            stage,
            LossReason::Reply(reply.clone()),
            c,
            Some(&reply),
            polite,
        );
    }

    fn unexpected(&mut self, reply: Reply) {
        // The stage of the command this reply answered (or the last one answered).
        let stage = self.last_stage;
        if matches!(self.phase, Phase::Ready | Phase::Quitting) {
            // In mail transactions a reply that fits no command in flight means the
            // replies are shifted: nothing unverified may be final.
            let c = self
                .cfg
                .classifier
                .classify_failure(TransportFailure::PipelineDesync, stage);
            self.lose(stage, LossReason::Desync(reply), c, None, false);
            return;
        }
        let c = self
            .cfg
            .classifier
            .classify_failure(TransportFailure::ProtocolViolation, stage);
        self.lose(stage, LossReason::Unexpected(reply), c, None, false);
    }

    /// Ends the session: outcomes for everything open, [`Event::Lost`], optionally a
    /// `QUIT`, then [`Output::Close`].
    fn lose(
        &mut self,
        stage: Stage,
        reason: LossReason,
        c: Classification,
        reply: Option<&Reply>,
        polite: bool,
    ) {
        self.fail_open(reply, stage, &c);
        // A body request the caller has not seen yet is void: the session is over.
        self.out
            .retain(|o| !matches!(o, Output::Event(Event::BodyWanted { .. })));
        self.event(Event::Lost {
            stage,
            reason,
            classification: c,
        });
        if polite {
            self.send_line(b"QUIT");
        }
        self.out.push_back(Output::Close);
        self.phase = Phase::Closed;
        self.parser.reset();
    }

    fn closed(&mut self) {
        if !self.held.is_empty() || self.txns.iter().any(|t| t.open > 0) {
            // Every recipient gets its outcome, even when the server closes after
            // QUIT with refusals never proven aligned or transactions unfinished.
            let stage = self.current_stage();
            let c = self
                .cfg
                .classifier
                .classify_failure(TransportFailure::UnexpectedClose, stage);
            self.fail_open(None, stage, &c);
        }
        self.pending.clear();
        self.event(Event::Closed);
        self.out.push_back(Output::Close);
        self.phase = Phase::Closed;
        self.parser.reset();
    }
}
