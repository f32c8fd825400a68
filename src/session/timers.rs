//! The session's timers as data: each running timer is a row with its deadline and
//! its reason; the earliest row is what `Output::Timeout` reports, and its reason
//! decides what an expiry means.

use std::time::{Duration, Instant};

use crate::classify::{Stage, TransportFailure};

/// Why a deadline runs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TimerReason {
    /// Waiting for the reply to the command of `stage` (RFC 5321 §4.5.3.2).
    Reply {
        /// The command whose reply is awaited.
        stage: Stage,
    },
    /// Waiting for the driver's TLS handshake report after `STARTTLS`.
    TlsHandshake,
    /// Waiting for the next body chunk from the caller.
    BodyBlock,
    /// Bytes handed out in [`Output::Transmit`](super::Output::Transmit) are not
    /// written yet ([`Session::handle_written`](super::Session::handle_written)):
    /// a server that stops reading.
    Write,
    /// The session's overall budget ([`SessionConfig::max_session_time`](super::SessionConfig::max_session_time)).
    SessionBudget,
}

impl TimerReason {
    /// The snake_case name: `reply`, `tls_handshake`, `body_block`, `write`,
    /// `session_budget`.
    pub const fn name(self) -> &'static str {
        match self {
            TimerReason::Reply { .. } => "reply",
            TimerReason::TlsHandshake => "tls_handshake",
            TimerReason::BodyBlock => "body_block",
            TimerReason::Write => "write",
            TimerReason::SessionBudget => "session_budget",
        }
    }

    /// What an expiry of this timer is, for the classifier.
    pub(crate) fn failure(self) -> TransportFailure {
        match self {
            TimerReason::Reply { .. } | TimerReason::BodyBlock => TransportFailure::ReadTimeout,
            TimerReason::TlsHandshake => TransportFailure::TlsHandshake,
            TimerReason::Write => TransportFailure::WriteTimeout,
            TimerReason::SessionBudget => TransportFailure::SessionBudget,
        }
    }
}

/// `reply rcpt_to`, `write`, …
impl core::fmt::Display for TimerReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TimerReason::Reply { stage } => write!(f, "reply {stage}"),
            other => f.write_str(other.name()),
        }
    }
}

/// A running timer: when it expires, and why it runs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Timer {
    /// The deadline.
    pub at: Instant,
    /// Why it runs.
    pub reason: TimerReason,
}

/// One row of the timer table: the timer runs from `since` for `limit`.
pub(crate) fn row(since: Instant, limit: Duration, reason: TimerReason) -> Option<Timer> {
    since.checked_add(limit).map(|at| Timer { at, reason })
}

/// The earliest of the running timers (the first row wins a tie: the table lists
/// the most specific reason first).
pub(crate) fn earliest(rows: impl IntoIterator<Item = Option<Timer>>) -> Option<Timer> {
    rows.into_iter()
        .flatten()
        .fold(None, |best: Option<Timer>, t| match best {
            Some(b) if b.at <= t.at => Some(b),
            _ => Some(t),
        })
}
