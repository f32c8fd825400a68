//! What the session tells its driver: outputs, events, why it ended, misuse.

use std::time::Instant;

use crate::classify::{Classification, Stage};
use crate::outcome::RcptOutcome;
use crate::reply::{ParseWarning, Reply};

#[allow(unused_imports)] // named in docs
use super::{Envelope, Session, SessionConfig, Timeouts};

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

/// Identifies one submitted [`Envelope`] in the events about it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TransactionId(pub(super) u64);

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
