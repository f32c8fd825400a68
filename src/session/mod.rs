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
mod timers;

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::classify::{Classification, Classifier, Disposition, Stage, TransportFailure};
use crate::outcome::RcptOutcome;
use crate::reply::{Limits, ParseWarning, Reply, ReplyParser};

pub use body::BodyEncoder;
pub use caps::{Capabilities, Mechanism};
pub use command::{
    BodyType, Credentials, Envelope, MessageInfo, Notify, Recipient, Ret, base64_encode,
    xtext_encode,
};
pub use timers::{Timer, TimerReason};

/// Caller misuse of a [`Session`]: what the session expected, and what it got.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {got}")]
#[non_exhaustive]
pub struct UsageError {
    /// What the session expected at this point.
    pub expected: &'static str,
    /// What the caller did instead.
    pub got: String,
}

impl UsageError {
    pub(crate) fn new(expected: &'static str, got: String) -> Self {
        UsageError { expected, got }
    }
}

/// Whether to use `STARTTLS` (RFC 3207).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum TlsMode {
    /// Never send `STARTTLS`.
    Disabled,
    /// Use `STARTTLS` when offered; go on in plain text when it is not offered or
    /// refused.
    #[default]
    Opportunistic,
    /// Use `STARTTLS`; end the session when it is not offered or refused.
    Required,
}

/// Per-stage reply timeouts. Defaults are RFC 5321 §4.5.3.2's minimums.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Timeouts {
    /// The greeting (5 minutes).
    pub greeting: Duration,
    /// `EHLO`, `HELO`, `STARTTLS` and its handshake, `AUTH`, `RSET`, `QUIT` (5 minutes).
    pub command: Duration,
    /// `MAIL FROM` (5 minutes).
    pub mail: Duration,
    /// Each `RCPT TO` (5 minutes).
    pub rcpt: Duration,
    /// The `354` after `DATA` (2 minutes).
    pub data: Duration,
    /// Between two body chunks handed to [`Session::send_body_chunk`] (3 minutes).
    pub data_block: Duration,
    /// The reply to the final dot (10 minutes).
    pub data_end: Duration,
    /// Bytes handed out in [`Output::Transmit`] must be written (reported with
    /// [`Session::handle_written`]) within this time of their hand-out or of the
    /// last progress (3 minutes, RFC 5321 §4.5.3.2's data block timeout): a server
    /// that stops reading ends the session.
    pub write: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        const MIN: u64 = 60;
        Timeouts {
            greeting: Duration::from_secs(5 * MIN),
            command: Duration::from_secs(5 * MIN),
            mail: Duration::from_secs(5 * MIN),
            rcpt: Duration::from_secs(5 * MIN),
            data: Duration::from_secs(2 * MIN),
            data_block: Duration::from_secs(3 * MIN),
            data_end: Duration::from_secs(10 * MIN),
            write: Duration::from_secs(3 * MIN),
        }
    }
}

impl Timeouts {
    /// Every timeout set to `d` (for tests and impatient senders).
    pub fn all(d: Duration) -> Self {
        Timeouts {
            greeting: d,
            command: d,
            mail: d,
            rcpt: d,
            data: d,
            data_block: d,
            data_end: d,
            write: d,
        }
    }

    /// The timeout for a reply to `stage`.
    pub fn for_stage(&self, stage: Stage) -> Duration {
        match stage {
            Stage::Greeting | Stage::Connect => self.greeting,
            Stage::MailFrom => self.mail,
            Stage::RcptTo => self.rcpt,
            Stage::Data => self.data,
            Stage::DataEnd | Stage::Bdat => self.data_end,
            _ => self.command,
        }
    }
}

/// How a [`Session`] behaves.
///
/// ```
/// use std::time::Duration;
/// use tempfail::session::{SessionConfig, TlsMode, Timeouts};
/// let mut cfg = SessionConfig::new("mta.example.org");
/// cfg.tls = TlsMode::Required;
/// cfg.max_recipients_per_transaction = 50;
/// cfg.timeouts = Timeouts::all(Duration::from_secs(30));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The name sent in `EHLO`/`HELO`/`LHLO` (a fully-qualified domain name, or an
    /// address literal like `[192.0.2.1]`).
    pub client_name: String,
    /// `STARTTLS` policy (default: opportunistic).
    pub tls: TlsMode,
    /// Credentials for `AUTH`; `None` to not authenticate.
    pub credentials: Option<Credentials>,
    /// Refuse to send credentials before TLS is established (default: true).
    pub auth_requires_tls: bool,
    /// Reply timeouts.
    pub timeouts: Timeouts,
    /// Recipients per mail transaction (default 100, RFC 5321 §4.5.3.1.8's minimum a
    /// server must accept); an envelope with more is split across transactions.
    /// Clamped to `1..=10_000`.
    pub max_recipients_per_transaction: usize,
    /// Speak LMTP (RFC 2033): `LHLO`, and one reply per accepted recipient after the dot.
    pub lmtp: bool,
    /// The most bytes waiting in [`Output::Transmit`]s before
    /// [`Session::send_body_chunk`] refuses more (default 1 MiB): drain
    /// [`Session::poll_output`] between chunks.
    pub max_buffered_output: usize,
    /// Limits on the server's replies (line length, lines, bytes): a server that
    /// breaks them ends the session ([`LossReason::Malformed`]).
    pub reply_limits: Limits,
    /// A multi-line reply whose lines disagree about the code (`250-ok` then
    /// `550 5.1.1 …`) ends the session as a protocol error (transient, connection
    /// scope) instead of being read by its safest code. Default false: the reply
    /// counts as its safest code (a negative one over a positive one, 4yz over 5yz),
    /// is never a success nor permanent, and an [`Event::ReplyWarning`] says so.
    pub strict_replies: bool,
    /// Pipeline commands when the server offers `PIPELINING` (default true). Set it
    /// to false for a destination whose session ended with [`LossReason::Desync`]:
    /// its replies did not match the commands in flight, and lockstep commands are
    /// the remedy (a hint to persist per destination).
    pub pipelining: bool,
    /// The most time the whole session may take, from [`Session::new`]'s `now`
    /// (default `None`: only the per-stage timeouts apply). A server that answers
    /// each command just inside its timeout controls the total time otherwise; a
    /// sender with many messages to other destinations sets a budget. Its expiry
    /// ends the session like a timeout (rule `session.budget_exhausted`).
    pub max_session_time: Option<Duration>,
    /// Turns replies and failures into [`Classification`]s (default: the built-in
    /// rules, shared by every session).
    pub classifier: Arc<Classifier>,
}

impl SessionConfig {
    /// Defaults: opportunistic TLS, no AUTH, RFC 5321 timeouts, 100 recipients per
    /// transaction, SMTP, the built-in classifier.
    pub fn new(client_name: impl Into<String>) -> Self {
        SessionConfig {
            client_name: client_name.into(),
            tls: TlsMode::default(),
            credentials: None,
            auth_requires_tls: true,
            timeouts: Timeouts::default(),
            max_recipients_per_transaction: 100,
            lmtp: false,
            max_buffered_output: 1 << 20,
            reply_limits: Limits::default(),
            strict_replies: false,
            pipelining: true,
            max_session_time: None,
            classifier: builtin_classifier(),
        }
    }
}

/// The built-in classifier, built once per process and shared.
fn builtin_classifier() -> Arc<Classifier> {
    static BUILTIN: OnceLock<Arc<Classifier>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| Arc::new(Classifier::builtin()))
        .clone()
}

/// Identifies one submitted [`Envelope`] in the events about it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TransactionId(u64);

impl TransactionId {
    /// The number, counting from 0 in submission order.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl core::fmt::Display for TransactionId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a session ended other than by our `QUIT`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum LossReason {
    /// The server's reply ended it: `421` at any point, a `554` greeting, a refused
    /// `EHLO` and `HELO`, a refused `AUTH`, a refused `STARTTLS` when TLS is required.
    Reply(Reply),
    /// No reply within the stage's timeout.
    TimedOut,
    /// Handed-out bytes were not written within [`Timeouts::write`]: the server
    /// stopped reading.
    WriteTimedOut,
    /// [`SessionConfig::max_session_time`] ran out.
    BudgetExhausted,
    /// The server closed the connection (RFC 5321 §3.8: counts as a `451`).
    ConnectionClosed,
    /// The server sent bytes that are not an SMTP reply, or broke a size limit.
    Malformed(String),
    /// A well-formed reply that makes no sense at this point (a positive code of the
    /// wrong kind, like `354` to `EHLO`) outside mail transactions.
    Unexpected(Reply),
    /// During mail transactions the server's replies stopped matching the commands
    /// in flight: a reply when none was due, a `354` where a `RCPT` reply was due, a
    /// `2yz` to `DATA`, a code impossible for its command. Nothing decided from
    /// replies that were not yet verified is kept: every open recipient gets a
    /// transient outcome (rule `session.pipeline_desync`). Persist a hint not to
    /// pipeline to this destination ([`SessionConfig::pipelining`]).
    Desync(Reply),
    /// TLS is required but the server does not offer `STARTTLS`.
    TlsUnavailable,
    /// The caller reported a failed TLS handshake.
    TlsFailed,
    /// Credentials are configured but no offered mechanism is usable (or TLS, which
    /// `auth_requires_tls` asks for, is not established).
    AuthUnavailable,
}

impl LossReason {
    /// The snake_case name (`reply`, `timed_out`, `write_timed_out`,
    /// `budget_exhausted`, `connection_closed`, `malformed`,
    /// `unexpected`, `desync`, `tls_unavailable`, `tls_failed`, `auth_unavailable`).
    pub const fn name(&self) -> &'static str {
        match self {
            LossReason::Reply(_) => "reply",
            LossReason::TimedOut => "timed_out",
            LossReason::WriteTimedOut => "write_timed_out",
            LossReason::BudgetExhausted => "budget_exhausted",
            LossReason::ConnectionClosed => "connection_closed",
            LossReason::Malformed(_) => "malformed",
            LossReason::Unexpected(_) => "unexpected",
            LossReason::Desync(_) => "desync",
            LossReason::TlsUnavailable => "tls_unavailable",
            LossReason::TlsFailed => "tls_failed",
            LossReason::AuthUnavailable => "auth_unavailable",
        }
    }
}

/// The name, then the reply's code or the parse error where there is one
/// (`timed_out`, `reply 421`, `malformed: …`).
impl core::fmt::Display for LossReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LossReason::Reply(r) | LossReason::Unexpected(r) | LossReason::Desync(r) => {
                write!(f, "{} {}", self.name(), r.code())
            }
            LossReason::Malformed(e) => write!(f, "{}: {e}", self.name()),
            _ => f.write_str(self.name()),
        }
    }
}

/// Something the caller should know, in order.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Event {
    /// The handshake (greeting, `EHLO`/`HELO`, `STARTTLS`, `AUTH`) is complete;
    /// [`Session::capabilities`] tells what the server offers.
    Ready,
    /// The server is ready for this transaction's body: call
    /// [`Session::send_body_chunk`] with the whole message, then
    /// [`Session::finish_body`]. When an envelope's recipients are split across
    /// transactions this comes once per part: send the whole body each time.
    BodyWanted {
        /// The transaction.
        transaction: TransactionId,
    },
    /// One recipient's final outcome for this attempt. Comes exactly once per
    /// recipient of every submitted envelope.
    Recipient {
        /// The transaction.
        transaction: TransactionId,
        /// Its outcome (`outcome.rcpt` is the index in the envelope's recipients).
        outcome: RcptOutcome,
    },
    /// Every recipient of this transaction has its outcome.
    TransactionDone {
        /// The transaction.
        transaction: TransactionId,
        /// Recipients accepted after the final dot.
        delivered: usize,
        /// Recipients with a transient outcome.
        transient: usize,
        /// Recipients with a permanent outcome.
        permanent: usize,
    },
    /// The session ended other than by our `QUIT`. Outcomes for every recipient still
    /// open came before this event.
    Lost {
        /// Where it ended.
        stage: Stage,
        /// What ended it.
        reason: LossReason,
        /// What it means (a lost connection or timeout is transient, `network`).
        classification: Classification,
    },
    /// The session ended after our `QUIT`.
    Closed,
    /// The server's reply to `stage` was odd but readable: its lines disagreed about
    /// the code. It was read by its safest code, never as a success nor as final
    /// (see [`SessionConfig::strict_replies`] to end the session instead).
    ReplyWarning {
        /// The command the reply answered.
        stage: Stage,
        /// What the parser forgave.
        warning: ParseWarning,
    },
}

/// What the driver must do next, in order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Output {
    /// Write these bytes to the connection.
    Transmit(Vec<u8>),
    /// Something happened.
    Event(Event),
    /// Everything before this has been written: start the TLS handshake now, then
    /// call [`Session::handle_tls_established`] (or [`Session::handle_tls_failed`]).
    StartTls,
    /// Close the connection. Nothing else will be output.
    Close,
    /// Call [`Session::handle_timeout`] at this instant if no input arrives before.
    /// Always last: [`Session::poll_output`] returns `None` after it until the next
    /// input or command.
    Timeout(Instant),
}

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
    pub fn deadline(&self) -> Option<Instant> {
        self.timer().map(|t| t.at)
    }

    /// The running timer that expires first, with the reason it runs: the timer
    /// table has one row for the awaited reply (or the TLS handshake, or the next
    /// body chunk), one for unwritten output, and one for the session's budget.
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
        self.out.push_back(Output::Event(e));
    }

    fn classify(&self, reply: &Reply, stage: Stage) -> Classification {
        self.cfg.classifier.classify(reply, stage)
    }

    fn send_hello(&mut self, ehlo: bool) {
        let verb: &[u8] = if self.cfg.lmtp {
            b"LHLO "
        } else if ehlo {
            b"EHLO "
        } else {
            b"HELO "
        };
        let name = core::mem::take(&mut self.cfg.client_name);
        self.send(|b| {
            b.extend_from_slice(verb);
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(b"\r\n");
        });
        self.cfg.client_name = name;
        self.expect(Expect::Hello { ehlo });
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
        if !fits(exp, &reply) {
            self.unexpected(reply);
            return;
        }
        let code = reply.code();
        match exp {
            Expect::Greeting => {
                if code.is_positive_completion() {
                    self.send_hello(true);
                } else if code.is_intermediate() {
                    self.unexpected(reply);
                } else {
                    self.refused(stage, reply, true);
                }
            }
            Expect::Hello { ehlo } => {
                if code.is_positive_completion() {
                    self.caps = Some(if ehlo {
                        Capabilities::from_ehlo(&reply)
                    } else {
                        Capabilities::default()
                    });
                    self.after_hello();
                } else if code.is_intermediate() {
                    self.unexpected(reply);
                } else if ehlo && code.is_permanent() && !self.cfg.lmtp {
                    self.send_hello(false);
                } else {
                    self.refused(stage, reply, true);
                }
            }
            Expect::StartTls => {
                if code.is_positive_completion() {
                    self.phase = Phase::AwaitTls;
                    self.tls_since = self.now;
                    self.parser.reset();
                    self.out.push_back(Output::StartTls);
                } else if code.is_intermediate() {
                    self.unexpected(reply);
                } else if self.cfg.tls == TlsMode::Required {
                    self.refused(stage, reply, true);
                } else {
                    // Opportunistic: go on without TLS (RFC 3207 §4).
                    self.after_tls_decision();
                }
            }
            Expect::Auth(step) => self.on_auth_reply(step, reply),
            Expect::Mail(seq) => self.on_mail_reply(seq, reply),
            Expect::Rcpt(seq, i) => self.on_rcpt_reply(seq, i, reply),
            Expect::Data(seq) => self.on_data_reply(seq, reply),
            Expect::DataEnd(seq, lmtp_rcpt) => self.on_data_end_reply(seq, lmtp_rcpt, reply),
            Expect::Rset => {
                if code.is_positive_completion() {
                    // RSET's own 250 after a refused transaction: the replies before
                    // it were aligned, and what they refused is final.
                    self.release();
                } else {
                    if code.is_intermediate() {
                        self.unexpected(reply);
                    } else {
                        self.refused(stage, reply, true);
                    }
                }
            }
            Expect::Quit => self.closed(),
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

    /// Keeps a refusal decided from a reply in a mail transaction until the replies
    /// are proven aligned (a `354` to `DATA`, `RSET`'s `250`): a server that sent one
    /// reply too many or too few shifts every later reply, and a refusal read from a
    /// shifted reply must not become final. A loss before then gives the recipient
    /// the loss's transient outcome instead.
    fn hold(
        &mut self,
        txn: TransactionId,
        rcpt: usize,
        reply: Option<Reply>,
        stage: Stage,
        c: Classification,
    ) {
        self.held.push((txn, rcpt, reply, stage, c));
    }

    /// The replies so far were aligned: the held refusals become outcomes.
    fn release(&mut self) {
        for (txn, rcpt, reply, stage, c) in core::mem::take(&mut self.held) {
            self.outcome(txn, rcpt, reply, stage, c);
        }
    }

    fn after_hello(&mut self) {
        let offered = self.caps.as_ref().is_some_and(|c| c.starttls);
        if !self.tls && self.cfg.tls != TlsMode::Disabled {
            if offered {
                self.send_line(b"STARTTLS");
                self.expect(Expect::StartTls);
                return;
            }
            if self.cfg.tls == TlsMode::Required {
                let c = self
                    .cfg
                    .classifier
                    .classify_failure(TransportFailure::StartTlsNotOffered, Stage::Starttls);
                self.lose(Stage::Starttls, LossReason::TlsUnavailable, c, None, true);
                return;
            }
        }
        self.after_tls_decision();
    }

    fn after_tls_decision(&mut self) {
        if let Some(creds) = self.cfg.credentials.clone() {
            if !self.authenticated {
                let mech = self.caps.as_ref().and_then(|c| creds.choose(c));
                let Some(mech) = mech.filter(|_| self.tls || !self.cfg.auth_requires_tls) else {
                    let c = self
                        .cfg
                        .classifier
                        .classify_failure(TransportFailure::AuthUnavailable, Stage::Auth);
                    self.lose(Stage::Auth, LossReason::AuthUnavailable, c, None, true);
                    return;
                };
                match mech {
                    Mechanism::Plain => {
                        self.send(|b| creds.plain_command(b));
                        self.expect(Expect::Auth(AuthStep::Final { xoauth2: false }));
                    }
                    Mechanism::Login => {
                        self.send_line(b"AUTH LOGIN");
                        self.expect(Expect::Auth(AuthStep::LoginUser));
                    }
                    Mechanism::Xoauth2 => {
                        self.send(|b| creds.xoauth2_command(b));
                        self.expect(Expect::Auth(AuthStep::Final { xoauth2: true }));
                    }
                }
                return;
            }
        }
        self.ready();
    }

    fn ready(&mut self) {
        self.phase = Phase::Ready;
        self.event(Event::Ready);
    }

    fn on_auth_reply(&mut self, step: AuthStep, reply: Reply) {
        let code = reply.code();
        let creds = self.cfg.credentials.clone();
        match (step, code.as_u16(), creds) {
            (AuthStep::Final { .. } | AuthStep::Xoauth2Error, 200..=299, _) => {
                self.authenticated = true;
                self.ready();
            }
            (AuthStep::Final { xoauth2: true }, 334, _) => {
                // XOAUTH2 error challenge: answer with an empty line to get the final reply.
                self.send_line(b"");
                self.expect(Expect::Auth(AuthStep::Xoauth2Error));
            }
            (AuthStep::LoginUser, 334, Some(c)) => {
                self.send(|b| c.login_line(false, b));
                self.expect(Expect::Auth(AuthStep::LoginPass));
            }
            (AuthStep::LoginPass, 334, Some(c)) => {
                self.send(|b| c.login_line(true, b));
                self.expect(Expect::Auth(AuthStep::Final { xoauth2: false }));
            }
            (_, 400..=599, _) => {
                self.refused(Stage::Auth, reply, true);
            }
            _ => self.unexpected(reply),
        }
    }

    fn part_index(&self, seq: u64) -> Option<usize> {
        self.parts.iter().position(|p| p.seq == seq)
    }

    fn on_mail_reply(&mut self, seq: u64, reply: Reply) {
        let Some(pi) = self.part_index(seq) else {
            return;
        };
        let code = reply.code();
        if code.is_positive_completion() {
            if !self.pipelining() {
                self.send_next_rcpt(pi);
            }
        } else if code.is_intermediate() {
            self.unexpected(reply);
        } else {
            let c = self.classify(&reply, Stage::MailFrom);
            if self.pipelining() {
                self.parts[pi].mail_failed = Some((reply, c));
            } else {
                let (txn, start, end) = {
                    let p = &self.parts[pi];
                    (p.txn, p.start, p.end)
                };
                for i in start..end {
                    self.hold(txn, i, Some(reply.clone()), Stage::MailFrom, c.clone());
                }
                self.parts.remove(pi);
                self.rset();
            }
        }
    }

    fn send_next_rcpt(&mut self, pi: usize) {
        let caps = self.caps.take().unwrap_or_default();
        self.send_next_rcpt_with(pi, &caps);
        self.caps = Some(caps);
    }

    fn send_next_rcpt_with(&mut self, pi: usize, caps: &Capabilities) {
        let (seq, txn, i) = {
            let p = &mut self.parts[pi];
            let i = p.next_rcpt;
            p.next_rcpt += 1;
            (p.seq, p.txn, i)
        };
        if let Some(t) = self.txns.iter().find(|t| t.id == txn) {
            if let Some(r) = t.env.recipients.get(i) {
                let mut line = Vec::with_capacity(64);
                command::rcpt_to(r, caps, &mut line);
                self.send(|b| b.extend_from_slice(&line));
            }
        }
        self.expect(Expect::Rcpt(seq, i));
    }

    fn on_rcpt_reply(&mut self, seq: u64, i: usize, reply: Reply) {
        let Some(pi) = self.part_index(seq) else {
            return;
        };
        let code = reply.code();
        if code.is_intermediate() {
            self.unexpected(reply);
            return;
        }
        let txn = self.parts[pi].txn;
        if let Some((mreply, mc)) = self.parts[pi].mail_failed.clone() {
            self.hold(txn, i, Some(mreply), Stage::MailFrom, mc);
        } else if code.is_positive_completion() && !reply.has_mixed_codes() {
            self.parts[pi].accepted.push(i);
        } else {
            // A refusal, or an acceptance whose lines disagree: not a clear yes.
            let c = self.classify(&reply, Stage::RcptTo);
            self.hold(txn, i, Some(reply), Stage::RcptTo, c);
        }
        if self.pipelining() {
            return;
        }
        let p = &self.parts[pi];
        if p.next_rcpt < p.end {
            self.send_next_rcpt(pi);
        } else if p.accepted.is_empty() {
            self.parts.remove(pi);
            self.rset();
        } else {
            self.send_line(b"DATA");
            self.expect(Expect::Data(seq));
        }
    }

    fn on_data_reply(&mut self, seq: u64, reply: Reply) {
        let Some(pi) = self.part_index(seq) else {
            return;
        };
        let code = reply.code();
        if code.as_u16() == 354 || code.is_intermediate() {
            // Only DATA gets a 354: the replies of this transaction were aligned,
            // and what they refused is final.
            self.release();
            if self.parts[pi].accepted.is_empty() {
                // Every RCPT was refused (or MAIL was) but the server wants data:
                // end the transaction with an empty body.
                self.parts[pi].state = PartState::AwaitDot;
                self.send_line(b".");
                self.expect(Expect::DataEnd(seq, None));
            } else {
                self.parts[pi].state = PartState::Body;
                self.body = Some(BodyEncoder::new());
                self.body_since = self.now;
                let txn = self.parts[pi].txn;
                self.event(Event::BodyWanted { transaction: txn });
            }
        } else {
            let c = self.classify(&reply, Stage::Data);
            let txn = self.parts[pi].txn;
            let acc = core::mem::take(&mut self.parts[pi].accepted);
            for i in acc {
                self.hold(txn, i, Some(reply.clone()), Stage::Data, c.clone());
            }
            self.parts.remove(pi);
            self.rset();
        }
    }

    fn on_data_end_reply(&mut self, seq: u64, lmtp_rcpt: Option<usize>, reply: Reply) {
        let Some(pi) = self.part_index(seq) else {
            return;
        };
        let c = self.classify(&reply, Stage::DataEnd);
        let txn = self.parts[pi].txn;
        match lmtp_rcpt {
            Some(i) => {
                self.parts[pi].accepted.retain(|a| *a != i);
                self.outcome(txn, i, Some(reply), Stage::DataEnd, c);
                if self.parts[pi].accepted.is_empty() {
                    self.parts.remove(pi);
                }
            }
            None => {
                let acc = core::mem::take(&mut self.parts[pi].accepted);
                if let Some((&last, rest)) = acc.split_last() {
                    for &i in rest {
                        self.outcome(txn, i, Some(reply.clone()), Stage::DataEnd, c.clone());
                    }
                    // The last recipient takes the reply itself.
                    self.outcome(txn, last, Some(reply), Stage::DataEnd, c);
                }
                self.parts.remove(pi);
            }
        }
    }

    fn rset(&mut self) {
        self.send_line(b"RSET");
        self.expect(Expect::Rset);
    }

    fn pipelining(&self) -> bool {
        self.cfg.pipelining && self.caps.as_ref().is_some_and(|c| c.pipelining)
    }

    /// Starts the next transaction or QUIT when the state allows.
    fn pump(&mut self) {
        loop {
            if self.phase != Phase::Ready || self.body.is_some() {
                return;
            }
            let pipelining = self.pipelining();
            let may_send = if pipelining {
                self.parts.iter().all(|p| p.state == PartState::AwaitDot)
            } else {
                self.pending.is_empty() && self.parts.is_empty()
            };
            if !may_send {
                return;
            }
            let Some(ti) = self
                .txns
                .iter()
                .position(|t| t.dispatched < t.env.recipients.len())
            else {
                if self.quit_requested {
                    self.send_line(b"QUIT");
                    self.expect(Expect::Quit);
                    self.phase = Phase::Quitting;
                }
                return;
            };
            if !self.start_part(ti) {
                // Failed before sending anything: try the next one.
                continue;
            }
            if !pipelining {
                return;
            }
        }
    }

    /// Starts the next part of transaction `ti`; false if it failed without a command.
    fn start_part(&mut self, ti: usize) -> bool {
        // Taken out and put back to avoid cloning it on every transaction.
        let caps = self.caps.take().unwrap_or_default();
        let started = self.start_part_with(ti, &caps);
        self.caps = Some(caps);
        started
    }

    fn start_part_with(&mut self, ti: usize, caps: &Capabilities) -> bool {
        let max = self.cfg.max_recipients_per_transaction;
        let t = &mut self.txns[ti];
        let start = t.dispatched;
        let end = start.saturating_add(max).min(t.env.recipients.len());
        t.dispatched = end;
        let txn = t.id;
        // Checks the server's capabilities allow before sending anything.
        let refuse = if t.env.message.smtputf8 && !caps.smtputf8 {
            Some(TransportFailure::Smtputf8NotOffered)
        } else if let (Some(n), Some(limit)) = (t.env.message.size, caps.size) {
            (limit > 0 && n > limit).then_some(TransportFailure::SizeExceedsLimit)
        } else {
            None
        };
        if let Some(failure) = refuse {
            let c = self
                .cfg
                .classifier
                .classify_failure(failure, Stage::MailFrom);
            for i in start..end {
                self.outcome(txn, i, None, Stage::MailFrom, c.clone());
            }
            return false;
        }
        let seq = self.next_part;
        self.next_part += 1;
        let pipelining = self.cfg.pipelining && caps.pipelining;
        {
            let t = &self.txns[ti];
            let buf = match self.out.back_mut() {
                Some(Output::Transmit(b)) => b,
                _ => {
                    self.out
                        .push_back(Output::Transmit(Vec::with_capacity(256)));
                    match self.out.back_mut() {
                        Some(Output::Transmit(b)) => b,
                        _ => unreachable!("the back of the output queue is a Transmit"),
                    }
                }
            };
            let before = buf.len();
            command::mail_from(&t.env, caps, buf);
            if pipelining {
                for r in &t.env.recipients[start..end] {
                    command::rcpt_to(r, caps, buf);
                }
                buf.extend_from_slice(b"DATA\r\n");
            }
            let added = buf.len() - before;
            self.out_bytes = self.out_bytes.saturating_add(added);
        }
        self.expect(Expect::Mail(seq));
        if pipelining {
            for i in start..end {
                self.expect(Expect::Rcpt(seq, i));
            }
            self.expect(Expect::Data(seq));
        }
        self.parts.push_back(Part {
            seq,
            txn,
            start,
            end,
            next_rcpt: start,
            accepted: Vec::new(),
            mail_failed: None,
            state: PartState::Envelope,
        });
        true
    }

    /// Records one recipient's outcome, and the transaction's end when it was the last.
    fn outcome(
        &mut self,
        txn: TransactionId,
        rcpt: usize,
        reply: Option<Reply>,
        stage: Stage,
        classification: Classification,
    ) {
        let Some(ti) = self.txns.iter().position(|t| t.id == txn) else {
            return;
        };
        let t = &mut self.txns[ti];
        match t.decided.get_mut(rcpt) {
            Some(d) if !*d => *d = true,
            // Already decided (or not a recipient): exactly one outcome each.
            _ => return,
        }
        t.open = t.open.saturating_sub(1);
        match classification.disposition {
            Disposition::Success => t.delivered += 1,
            Disposition::Transient => t.transient += 1,
            Disposition::Permanent => t.permanent += 1,
        }
        let done = t.open == 0;
        self.event(Event::Recipient {
            transaction: txn,
            outcome: RcptOutcome {
                rcpt,
                reply,
                stage,
                classification,
            },
        });
        if done {
            if let Some(t) = self.txns.remove(ti) {
                self.event(Event::TransactionDone {
                    transaction: t.id,
                    delivered: t.delivered,
                    transient: t.transient,
                    permanent: t.permanent,
                });
            }
        }
    }

    /// Gives every recipient still open (in parts in flight and in queued
    /// transactions) the same outcome.
    fn fail_open(&mut self, reply: Option<&Reply>, stage: Stage, c: &Classification) {
        // Refusals not yet proven aligned are not kept: those recipients are open.
        self.held.clear();
        self.parts.clear();
        self.pending.clear();
        self.body = None;
        let open: Vec<(TransactionId, usize)> = self
            .txns
            .iter()
            .flat_map(|t| {
                t.decided
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| !**d)
                    .map(move |(i, _)| (t.id, i))
            })
            .collect();
        for (txn, i) in open {
            self.outcome(txn, i, reply.cloned(), stage, c.clone());
        }
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

/// Whether `reply` can answer the mail-transaction command `exp` (RFC 5321 §4.3.2,
/// RFC 3463). A reply that cannot means the replies are shifted: the server sent one
/// too many or too few. One row per command:
///
/// | command | impossible |
/// |---|---|
/// | `MAIL` | `3yz`; a destination address status (`X.1.1`–`X.1.6`) |
/// | `RCPT` | `3yz` |
/// | `DATA` | `2yz`; an address status (`X.1.x`) |
/// | final dot (SMTP) | `3yz`; an address status (`X.1.x`) |
/// | final dot (LMTP, per recipient) | `3yz` |
/// | `RSET` | `3yz`; a destination address status (`X.1.1`–`X.1.6`; `X.1.0` is seen: Postfix's `smtp-sink` answers `250 2.1.0`) |
///
/// Other commands (greeting, `EHLO`, `STARTTLS`, `AUTH`, `QUIT`) have their own
/// handling in the dispatcher.
fn fits(exp: Expect, reply: &Reply) -> bool {
    let class = reply.code().as_u16() / 100;
    let (subject, detail) = reply
        .enhanced()
        .map_or((0, 0), |e| (e.subject(), e.detail()));
    let address = subject == 1;
    // X.1.1–X.1.6 describe a destination address (RFC 3463 §3.2): only RCPT's reply.
    let destination = address && (1..=6).contains(&detail);
    match exp {
        Expect::Mail(_) => class != 3 && !destination,
        Expect::Rcpt(..) | Expect::DataEnd(_, Some(_)) => class != 3,
        Expect::Data(_) => class != 2 && !address,
        Expect::DataEnd(_, None) => class != 3 && !address,
        Expect::Rset => class != 3 && !destination,
        _ => true,
    }
}
