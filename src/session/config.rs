//! How a session behaves: TLS policy, timeouts, limits, the classifier.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::Credentials;
#[allow(unused_imports)] // named in docs
use super::{Event, LossReason, Output, Session};
#[allow(unused_imports)] // named in docs
use crate::classify::Classification;
use crate::classify::{Classifier, Stage};
use crate::reply::Limits;

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
pub(super) fn builtin_classifier() -> Arc<Classifier> {
    static BUILTIN: OnceLock<Arc<Classifier>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| Arc::new(Classifier::builtin()))
        .clone()
}
