//! One message's life across attempts: per-recipient state, decisions, DSN triggers.
//!
//! A [`Delivery`] is a sans-io machine for one message with many recipients, over
//! days. It never sends anything and never reads a clock: the caller tells it
//! what happened and drains what to do next.
//!
//! ## Drive loop
//!
//! ```text
//! let mut att = d.start_attempt(now, Some("mx.example.com"))?;  the recipients due now
//! att.submit(&d, &mut session)?;        the envelope: MessageInfo + each Recipient
//!   ... drive the session; for every session::Event:
//!   d.handle_event(now, &policy, &att, &event)?;   outcomes in the delivery's indices
//! d.end_attempt(now, &policy, &classifier);        anyone left without an outcome
//! while let Some(o) = d.poll_output() { ... }      Delivered, RetryAt, Failed, DelayWarning,
//!                                                  Cancelled, Destination, WakeAt
//! at WakeAt(t): d.handle_timeout(t, &policy); if d.is_due(t) { start the next attempt }
//! ```
//!
//! A sender other than the session machine (lettre, an MTA) sends to
//! [`Attempt::recipients`] and reports [`RcptOutcome`]s in the delivery's indices
//! with [`Delivery::handle_outcomes`], or [`Delivery::handle_transport_failure`] when
//! the connection failed for everyone; [`Delivery::cancel`] gives up on recipients.
//!
//! ## Rules
//!
//! - Every recipient ends in exactly one terminal state: delivered, failed (for
//!   the policy's [`GiveUpReason`], taken as it decided it: `permanent`,
//!   `never_retried`, `schedule_exhausted`, `category_limit`, `lifetime`) or
//!   cancelled. Each keeps its own [`RetryState`] (attempt count,
//!   first-failure time): partial success keeps only the others pending, and
//!   nothing is ever reset (a split never restarts a recipient's clock).
//! - Each outcome settles its own recipient and no other. Whoever knows the
//!   transactions fans a failure out: the session machine gives every recipient of
//!   a refused transaction (one part of a split envelope) its outcome. A permanent
//!   reply to `MAIL FROM` bounces those recipients for this message only: nothing is
//!   remembered for other messages (RFC 5321 §4.5.4.1: a 5yz to MAIL is never
//!   cached).
//! - Outcomes whose scope is the destination also come out as
//!   [`Output::Destination`] signals, plain data for a destination-health layer.
//! - The policy is an argument of every call that decides, not part of the state:
//!   pass the same [`RetryPolicy`] after a restore and the decisions are the same.
//! - A `now` earlier than one already seen is clamped to it. Every call notes its
//!   `now`, even one refused with an `Err`; a refused call changes no recipient.
//! - One wake-up time: every input ends with [`Output::WakeAt`], the earliest retry
//!   time still ahead, exact lifetime end or delay warning
//!   ([`Delivery::next_wakeup`]); keep it in a deferral queue. A retry time already
//!   reached makes the message [`Delivery::is_due`] instead.
//!
//! ```
//! use tempfail::delivery::{Delivery, MessageInfo, Output, Recipient};
//! use tempfail::policy::{Preset, RetryPolicy};
//! use tempfail::{Classifier, RcptOutcome, Reply, Stage, Timestamp};
//!
//! let (classifier, policy) = (Classifier::builtin(), RetryPolicy::preset(Preset::Postfix));
//! let t0 = Timestamp::from_secs(1_700_000_000);
//! let rcpts = vec![Recipient::new("a@example.com"), Recipient::new("b@example.com")];
//! let mut d = Delivery::new(t0, 7, rcpts).with_message(MessageInfo::new("s@example.org"));
//! let attempt = d.start_attempt(t0, Some("mx.example.com")).unwrap();
//! assert_eq!(attempt.recipients(), [0, 1]);
//! let ok = Reply::parse(b"250 2.0.0 queued\r\n").unwrap();
//! let grey = Reply::parse(b"450 4.2.0 Greylisted, try again later\r\n").unwrap();
//! d.handle_outcomes(t0, &policy, &[
//!     RcptOutcome::from_reply(&classifier, 0, ok, Stage::DataEnd),
//!     RcptOutcome::from_reply(&classifier, 1, grey, Stage::RcptTo),
//! ]).unwrap();
//! assert!(matches!(d.poll_output(), Some(Output::Delivered { ref rcpts }) if rcpts == &[0]));
//! assert!(matches!(d.poll_output(), Some(Output::RetryAt { ref rcpts, .. }) if rcpts == &[1]));
//! assert_eq!(d.poll_output(), d.next_wakeup(&policy).map(Output::WakeAt));
//! ```

mod attempt;
mod message;
mod tally;

pub use crate::session::MessageInfo;
pub use attempt::Attempt;
pub use tally::Tally;

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use crate::backoff::{RetryState, stable_hash};
use crate::classify::{
    Category, Classification, Classifier, Disposition, Scope, Stage, TransportFailure,
};
use crate::dsn::DsnMessage;
use crate::dsn::{Action, DsnRecipient};
use crate::outcome::RcptOutcome;
use crate::policy::{GiveUpReason, LifetimeMode, RetryDecision, RetryPolicy};
use crate::reply::{EnhancedCode, Reply};
use crate::session::Event;
use crate::time::Timestamp;

/// The persisted format's version. [`Delivery`] snapshots carry it; a snapshot with
/// another version is refused.
pub const DELIVERY_FORMAT_VERSION: u32 = 1;

/// How many attempts [`Delivery::history`] keeps by default (the oldest are dropped).
pub const DEFAULT_HISTORY: usize = 32;

/// One recipient of the message, as given in `RCPT TO` (address, `NOTIFY`, `ORCPT`):
/// the session machine's recipient type, so an envelope and a delivery share it.
pub use crate::session::Recipient;

/// Where one recipient stands.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum RcptStatus {
    /// Not tried yet.
    Pending,
    /// Part of the attempt in progress.
    InFlight,
    /// Waiting to be retried at `until`.
    Deferred {
        /// The retry time.
        until: Timestamp,
    },
    /// No more attempts: the lifetime ends exactly at `at`, when it becomes expired.
    Expiring {
        /// The expiry instant.
        at: Timestamp,
    },
    /// Terminal: delivered.
    Delivered {
        /// When.
        at: Timestamp,
    },
    /// Terminal: no more attempts, for the policy's reason (a permanent failure, a
    /// category never retried, a rule that ran out, or the lifetime's end). Send a
    /// failure notice.
    #[cfg_attr(feature = "serde", serde(alias = "bounced", alias = "expired"))]
    Failed {
        /// When.
        at: Timestamp,
        /// Why: the policy's [`GiveUpReason`] as it decided it.
        #[cfg_attr(feature = "serde", serde(default = "expired_before"))]
        reason: GiveUpReason,
    },
    /// Terminal: cancelled by the caller.
    Cancelled {
        /// When.
        at: Timestamp,
    },
}

impl RcptStatus {
    /// Delivered, failed or cancelled.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RcptStatus::Delivered { .. } | RcptStatus::Failed { .. } | RcptStatus::Cancelled { .. }
        )
    }

    /// The snake_case name (`pending`, `in_flight`, `deferred`, `expiring`,
    /// `delivered`, `failed`, `cancelled`).
    pub const fn name(self) -> &'static str {
        match self {
            RcptStatus::Pending => "pending",
            RcptStatus::InFlight => "in_flight",
            RcptStatus::Deferred { .. } => "deferred",
            RcptStatus::Expiring { .. } => "expiring",
            RcptStatus::Delivered { .. } => "delivered",
            RcptStatus::Failed { .. } => "failed",
            RcptStatus::Cancelled { .. } => "cancelled",
        }
    }
}

/// The last failure seen for a recipient.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct LastFailure {
    /// When.
    pub at: Timestamp,
    /// Where in the session.
    pub stage: Stage,
    /// The server's reply, if there was one.
    pub reply: Option<Reply>,
    /// What it meant.
    pub classification: Classification,
    /// The host that answered, as given to [`Delivery::start_attempt`].
    pub remote_mta: Option<String>,
}

/// One recipient's full record.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RcptRecord {
    /// Who.
    pub recipient: Recipient,
    /// Where it stands.
    pub status: RcptStatus,
    /// Its own retry history: attempts, first failure, planned delay, warnings.
    pub retry: RetryState,
    /// Its last failure, for logs and DSNs.
    pub last_failure: Option<LastFailure>,
    /// The attempt number that last settled it (outcomes repeated in that attempt are ignored).
    settled_in: u32,
}

impl RcptRecord {
    fn is_due(&self, now: Timestamp) -> bool {
        match self.status {
            RcptStatus::Pending => true,
            RcptStatus::Deferred { until } => until <= now,
            _ => false,
        }
    }
}

/// A summary of one attempt, kept in a bounded history.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct AttemptRecord {
    /// 1-based attempt number.
    pub number: u32,
    /// When it started.
    pub started: Timestamp,
    /// The host tried.
    pub remote_mta: Option<String>,
    /// How many recipients it covered.
    pub recipients: u32,
    /// How many were delivered.
    pub delivered: u32,
    /// How many were deferred.
    pub deferred: u32,
    /// How many failed (or now wait only for an exact lifetime's end).
    pub ended: u32,
}

/// A signal for the destination-health layer: an outcome whose scope is the
/// destination (rate limit, blocklist, greylisting of our host, dead host).
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DestinationSignal {
    /// When it was seen.
    pub at: Timestamp,
    /// The host that answered.
    pub remote_mta: Option<String>,
    /// What it meant.
    pub classification: Classification,
    /// Hold every message to this destination until then (the policy's
    /// `hold_destination` for rate limiting and too many connections).
    pub hold_until: Option<Timestamp>,
}

/// What the caller must do, drained with [`Delivery::poll_output`] in this order
/// after each input: delivered, retry, failed, delay warning, cancelled,
/// destination signals, and last the next [`Output::WakeAt`].
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Output {
    /// These recipients were delivered.
    Delivered {
        /// Recipient indices.
        rcpts: Vec<usize>,
    },
    /// Retry these recipients at `at` (one output per distinct time).
    RetryAt {
        /// When.
        at: Timestamp,
        /// Recipient indices.
        rcpts: Vec<usize>,
    },
    /// These recipients failed, for the policy's reason: send a failure notice
    /// ([`Delivery::dsn_recipients`]).
    #[cfg_attr(feature = "serde", serde(alias = "bounced", alias = "expired"))]
    Failed {
        /// Recipient indices.
        rcpts: Vec<usize>,
        /// Why (an expiry is [`GiveUpReason::Lifetime`]).
        #[cfg_attr(feature = "serde", serde(default = "expired_before"))]
        reason: GiveUpReason,
    },
    /// Delivery to these recipients is late: send delay warning number `number` (1-based).
    DelayWarning {
        /// Recipient indices.
        rcpts: Vec<usize>,
        /// Which warning.
        number: u32,
    },
    /// These recipients were cancelled by the caller.
    Cancelled {
        /// Recipient indices.
        rcpts: Vec<usize>,
    },
    /// A destination-scope outcome.
    Destination(DestinationSignal),
    /// Look at this message again at this time, the earliest of its retry times,
    /// its exact expiry and its next delay warning: call
    /// [`Delivery::handle_timeout`], then [`Delivery::start_attempt`] when
    /// [`Delivery::is_due`]. The one wake-up time to keep in a deferral queue; always
    /// last, and the same as [`Delivery::next_wakeup`].
    #[cfg_attr(feature = "serde", serde(alias = "timeout"))]
    WakeAt(Timestamp),
}

/// One line per output, snake_case names: `delivered [0, 2]`, `retry_at
/// 2023-11-14T22:18:20.000Z [1]`, `failed [3]: permanent`, `wake_at …`.
impl core::fmt::Display for Output {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Output::Delivered { rcpts } => write!(f, "delivered {rcpts:?}"),
            Output::RetryAt { at, rcpts } => write!(f, "retry_at {at} {rcpts:?}"),
            Output::Failed { rcpts, reason } => write!(f, "failed {rcpts:?}: {reason}"),
            Output::DelayWarning { rcpts, number } => {
                write!(f, "delay_warning {number} {rcpts:?}")
            }
            Output::Cancelled { rcpts } => write!(f, "cancelled {rcpts:?}"),
            Output::Destination(s) => {
                write!(f, "destination {}", s.classification)?;
                if let Some(h) = s.hold_until {
                    write!(f, ", hold until {h}")?;
                }
                Ok(())
            }
            Output::WakeAt(t) => write!(f, "wake_at {t}"),
        }
    }
}

/// Misuse of a [`Delivery`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// `start_attempt` while an attempt is in progress.
    #[error("an attempt is already in progress (attempt {0}); end it first")]
    AttemptInProgress(u32),
    /// An outcome for a recipient index the message does not have.
    #[error("recipient index {rcpt} out of range (the message has {len})")]
    UnknownRecipient {
        /// The index given.
        rcpt: usize,
        /// How many recipients there are.
        len: usize,
    },
    /// An outcome for a recipient that is not part of the attempt in progress.
    #[error("recipient {rcpt} is not in flight (it is {status})")]
    NotInFlight {
        /// The index given.
        rcpt: usize,
        /// Where it stands, snake_case.
        status: &'static str,
    },
    /// An outcome or failure with no attempt in progress.
    #[error("no attempt in progress: call start_attempt first")]
    NoAttempt,
    /// An [`Attempt`] that is not the one in progress (an earlier one, or another
    /// message's).
    #[error("attempt {given} is not the attempt in progress ({current})")]
    StaleAttempt {
        /// The attempt's number.
        given: u32,
        /// The number of the attempt in progress (0: none).
        current: u32,
    },
    /// A session event about a transaction this attempt did not submit: it belongs
    /// to another message's attempt.
    #[error("session transaction {0} does not belong to this attempt")]
    ForeignTransaction(u64),
    /// A snapshot whose parts contradict each other (edited or corrupted): restoring
    /// it could leave a recipient waiting forever.
    #[error("delivery snapshot is inconsistent: {0}")]
    InconsistentSnapshot(String),
    /// A snapshot of another format version.
    #[error(transparent)]
    UnsupportedVersion(#[from] crate::persist::UnsupportedVersion),
}

/// One message's delivery state. See the [module docs](self).
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "wire::DeliveryWire", into = "wire::DeliveryWire")
)]
pub struct Delivery {
    arrival: Timestamp,
    message: MessageInfo,
    rcpts: Vec<RcptRecord>,
    attempt: u32,
    in_progress: bool,
    remote_mta: Option<String>,
    history: VecDeque<AttemptRecord>,
    history_cap: usize,
    last_now: Timestamp,
    out: VecDeque<Output>,
}

/// Outputs of one input, grouped by kind before they are queued in order.
#[derive(Default)]
struct Batch {
    delivered: Vec<usize>,
    retry: Vec<(Timestamp, usize)>,
    failed: Vec<(GiveUpReason, usize)>,
    warnings: Vec<(u32, usize)>,
    cancelled: Vec<usize>,
    destination: Vec<DestinationSignal>,
}

impl Delivery {
    /// A message that arrived at `arrival`, with its recipients in `RCPT TO` order.
    /// `seed` (e.g. [`stable_hash`] of the queue id) keys each recipient's jitter, so
    /// a restored delivery draws the same delays.
    pub fn new(arrival: Timestamp, seed: u64, recipients: Vec<Recipient>) -> Self {
        let rcpts = recipients
            .into_iter()
            .enumerate()
            .map(|(i, recipient)| RcptRecord {
                retry: RetryState::new(arrival).with_seed(stable_hash(
                    &[seed.to_le_bytes(), (i as u64).to_le_bytes()].concat(),
                )),
                recipient,
                status: RcptStatus::Pending,
                last_failure: None,
                settled_in: 0,
            })
            .collect();
        Delivery {
            arrival,
            message: MessageInfo::default(),
            rcpts,
            attempt: 0,
            in_progress: false,
            remote_mta: None,
            history: VecDeque::new(),
            history_cap: DEFAULT_HISTORY,
            last_now: arrival,
            out: VecDeque::new(),
        }
    }

    /// Keep at most `n` attempts in [`Delivery::history`] (at least 1).
    pub fn with_history(mut self, n: usize) -> Self {
        self.history_cap = n.max(1);
        while self.history.len() > self.history_cap {
            self.history.pop_front();
        }
        self
    }

    /// Sets what is known of the message (sender, `MAIL FROM` parameters): the
    /// envelope of every [`Attempt`] and the notices are built from it.
    pub fn with_message(mut self, message: MessageInfo) -> Self {
        self.message = message;
        self
    }

    /// What is known of the message (default: the null sender, no parameters).
    pub fn message(&self) -> &MessageInfo {
        &self.message
    }

    /// The per-message part of a notice about this message (sender, `ENVID`, `RET`,
    /// arrival), with `original` (the message or its headers) to return.
    pub fn dsn_message(&self, original: Vec<u8>) -> DsnMessage {
        message::dsn_message(&self.message, self.arrival, original)
    }

    /// When the message arrived.
    pub fn arrival(&self) -> Timestamp {
        self.arrival
    }

    /// Every recipient's record, by index.
    pub fn recipients(&self) -> &[RcptRecord] {
        &self.rcpts
    }

    /// The last attempts, oldest first (bounded, see [`Delivery::with_history`]).
    pub fn history(&self) -> impl ExactSizeIterator<Item = &AttemptRecord> {
        self.history.iter()
    }

    /// How many attempts were started.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Whether an attempt is in progress.
    pub fn is_attempt_in_progress(&self) -> bool {
        self.in_progress
    }

    /// Whether every recipient is in a terminal state.
    pub fn is_finished(&self) -> bool {
        self.rcpts.iter().all(|r| r.status.is_terminal())
    }

    /// The earliest retry time still ahead (later than the latest `now` seen); one
    /// already reached makes the message [`is_due`](Self::is_due) instead.
    fn next_retry(&self) -> Option<Timestamp> {
        self.rcpts
            .iter()
            .filter_map(|r| match r.status {
                RcptStatus::Deferred { until } if until > self.last_now => Some(until),
                _ => None,
            })
            .min()
    }

    /// Starts an attempt at `now` with every recipient that is pending or whose retry
    /// time has come. The [`Attempt`] lists them and builds the session's envelope;
    /// an empty attempt means nothing is due and no attempt started. `remote_mta` is
    /// recorded for DSNs and destination signals.
    ///
    /// Errors: an attempt is already in progress.
    pub fn start_attempt(
        &mut self,
        now: Timestamp,
        remote_mta: Option<&str>,
    ) -> Result<Attempt, DeliveryError> {
        let now = self.clamp(now);
        if self.in_progress {
            return Err(DeliveryError::AttemptInProgress(self.attempt));
        }
        let due = self.due(now);
        if due.is_empty() {
            return Ok(Attempt::new(0, due));
        }
        self.attempt = self.attempt.saturating_add(1);
        self.in_progress = true;
        self.remote_mta = remote_mta.map(str::to_owned);
        for &i in &due {
            self.rcpts[i].status = RcptStatus::InFlight;
        }
        self.history.push_back(AttemptRecord {
            number: self.attempt,
            started: now,
            remote_mta: self.remote_mta.clone(),
            recipients: u32::try_from(due.len()).unwrap_or(u32::MAX),
            delivered: 0,
            deferred: 0,
            ended: 0,
        });
        while self.history.len() > self.history_cap {
            self.history.pop_front();
        }
        Ok(Attempt::new(self.attempt, due))
    }

    /// True when recipients are waiting for an attempt at `now` (pending, or deferred
    /// until `now` or earlier): [`start_attempt`](Self::start_attempt) would start one.
    #[must_use]
    pub fn is_due(&self, now: Timestamp) -> bool {
        !self.in_progress && self.rcpts.iter().any(|r| r.is_due(now))
    }

    /// The recipients an attempt at `now` would cover (pending, or deferred until
    /// `now` or earlier), in order; empty while an attempt is in progress.
    #[must_use]
    pub fn due(&self, now: Timestamp) -> Vec<usize> {
        if self.in_progress {
            return Vec::new();
        }
        (0..self.rcpts.len())
            .filter(|&i| self.rcpts[i].is_due(now))
            .collect()
    }

    /// One event of the session machine for `attempt` (see [`Attempt::submit`]):
    /// a recipient's outcome is applied in the delivery's own index space; the other
    /// events (ready, body wanted, transaction done, lost, closed) change nothing
    /// here, since the session reports an outcome for every recipient before it
    /// reports a loss.
    ///
    /// Errors: `attempt` is not this delivery's latest attempt, the event is about
    /// another attempt's transaction (route it to the delivery whose attempt
    /// [`owns`](Attempt::owns) it), or a recipient's outcome comes after the
    /// attempt was ended with [`end_attempt`](Self::end_attempt).
    pub fn handle_event(
        &mut self,
        now: Timestamp,
        policy: &RetryPolicy,
        attempt: &Attempt,
        event: &Event,
    ) -> Result<(), DeliveryError> {
        self.clamp(now);
        if attempt.number() != self.attempt || attempt.is_empty() {
            return Err(DeliveryError::StaleAttempt {
                given: attempt.number(),
                current: self.attempt,
            });
        }
        // The attempt ends by itself once every recipient has its outcome; the
        // session's later events (transaction done, closed) change nothing.
        let Event::Recipient { transaction, .. } = event else {
            return Ok(());
        };
        if !attempt.owns(*transaction) {
            return Err(DeliveryError::ForeignTransaction(transaction.get()));
        }
        match attempt.translate(event) {
            Some(o) => self.handle_outcomes(now, policy, std::slice::from_ref(&o)),
            // An envelope index the attempt did not submit: the session never makes one.
            None => Ok(()),
        }
    }

    /// One recipient's outcome; see [`Delivery::handle_outcomes`].
    pub fn handle_outcome(
        &mut self,
        now: Timestamp,
        policy: &RetryPolicy,
        outcome: &RcptOutcome,
    ) -> Result<(), DeliveryError> {
        self.handle_outcomes(now, policy, std::slice::from_ref(outcome))
    }

    /// Outcomes of the attempt in progress, from any sender, in the delivery's index
    /// space (the session machine's go through [`handle_event`](Self::handle_event)).
    /// Each outcome settles its own recipient and no other: the sender that knows
    /// the transactions fans a failure out (the session machine gives every
    /// recipient of a refused transaction its outcome; for a failure that hits
    /// everything in flight use [`handle_transport_failure`](Self::handle_transport_failure)).
    /// A second outcome for a recipient already settled in this attempt is ignored.
    /// Outcomes are checked first: on `Err` no recipient changed.
    ///
    /// The attempt ends by itself when no recipient is left in flight.
    pub fn handle_outcomes(
        &mut self,
        now: Timestamp,
        policy: &RetryPolicy,
        outcomes: &[RcptOutcome],
    ) -> Result<(), DeliveryError> {
        let now = self.clamp(now);
        if !self.in_progress {
            return Err(DeliveryError::NoAttempt);
        }
        for o in outcomes {
            let len = self.rcpts.len();
            let r = self
                .rcpts
                .get(o.rcpt)
                .ok_or(DeliveryError::UnknownRecipient { rcpt: o.rcpt, len })?;
            if r.status != RcptStatus::InFlight && r.settled_in != self.attempt {
                return Err(DeliveryError::NotInFlight {
                    rcpt: o.rcpt,
                    status: r.status.name(),
                });
            }
        }
        let mut batch = Batch::default();
        for o in outcomes {
            if self.rcpts[o.rcpt].status != RcptStatus::InFlight {
                continue; // already settled in this attempt
            }
            let c = &o.classification;
            if c.disposition != Disposition::Success && c.scope == Scope::Destination {
                self.signal(&mut batch, now, c);
            }
            self.settle(
                o.rcpt,
                now,
                policy,
                o.stage,
                o.reply.as_ref(),
                c,
                &mut batch,
            );
        }
        self.finish_input(now, policy, batch);
        Ok(())
    }

    /// The transport failed (refused, timed out, lost, TLS): every recipient in flight
    /// gets `classification`, with no reply, at `stage`. Ends the attempt.
    pub fn handle_transport_failure(
        &mut self,
        now: Timestamp,
        policy: &RetryPolicy,
        classification: &Classification,
        stage: Stage,
    ) -> Result<(), DeliveryError> {
        let now = self.clamp(now);
        if !self.in_progress {
            return Err(DeliveryError::NoAttempt);
        }
        let mut batch = Batch::default();
        if classification.disposition != Disposition::Success
            && classification.scope == Scope::Destination
        {
            self.signal(&mut batch, now, classification);
        }
        let targets: Vec<usize> = self.in_flight().collect();
        for i in targets {
            self.settle(i, now, policy, stage, None, classification, &mut batch);
        }
        self.finish_input(now, policy, batch);
        Ok(())
    }

    /// Ends the attempt in progress. A recipient still in flight got no outcome: it
    /// is classified by `classifier` as [`TransportFailure::NoOutcome`] (built-in
    /// rule `delivery.no_outcome`: a lost connection, transient `network`, RFC 5321
    /// §3.8; a user rule may override it). A no-op when no attempt is in progress.
    pub fn end_attempt(&mut self, now: Timestamp, policy: &RetryPolicy, classifier: &Classifier) {
        let now = self.clamp(now);
        if !self.in_progress {
            return;
        }
        let c = classifier.classify_failure(TransportFailure::NoOutcome, Stage::Unknown);
        // handle_transport_failure only fails when no attempt is in progress.
        let _ = self.handle_transport_failure(now, policy, &c, Stage::Unknown);
        self.in_progress = false;
    }

    /// Lifetime expiry and delay warnings at `now`, whether or not an attempt happens.
    /// Call it at every [`Output::WakeAt`] time (calling it at other times is harmless).
    pub fn handle_timeout(&mut self, now: Timestamp, policy: &RetryPolicy) {
        let now = self.clamp(now);
        let mut batch = Batch::default();
        let exact = policy
            .lifetime
            .filter(|l| l.mode == LifetimeMode::Exact)
            .map(|l| self.arrival + l.limit);
        for i in 0..self.rcpts.len() {
            let r = &mut self.rcpts[i];
            let expire_at = match r.status {
                RcptStatus::Expiring { at } => Some(at),
                RcptStatus::Deferred { .. } | RcptStatus::Pending => exact,
                _ => None,
            };
            if let Some(at) = expire_at.filter(|at| *at <= now) {
                r.status = RcptStatus::Failed {
                    at,
                    reason: GiveUpReason::Lifetime,
                };
                r.settled_in = self.attempt;
                batch.failed.push((GiveUpReason::Lifetime, i));
                continue;
            }
            if matches!(
                r.status,
                RcptStatus::Pending | RcptStatus::Deferred { .. } | RcptStatus::Expiring { .. }
            ) {
                if let Some(k) = policy.delay_warning_due(&r.retry, now) {
                    r.retry.warnings = r.retry.warnings.max(k);
                    batch.warnings.push((k, i));
                }
            }
        }
        self.finish_input(now, policy, batch);
    }

    /// Cancels one recipient (`Some(i)`) or every recipient not yet terminal (`None`).
    /// Terminal recipients are left as they are. Cancelling the last in-flight
    /// recipients ends the attempt.
    pub fn cancel(
        &mut self,
        now: Timestamp,
        policy: &RetryPolicy,
        rcpt: Option<usize>,
    ) -> Result<(), DeliveryError> {
        let now = self.clamp(now);
        let len = self.rcpts.len();
        if let Some(i) = rcpt {
            if i >= len {
                return Err(DeliveryError::UnknownRecipient { rcpt: i, len });
            }
        }
        let mut batch = Batch::default();
        for i in 0..len {
            if rcpt.is_some_and(|j| j != i) {
                continue;
            }
            let r = &mut self.rcpts[i];
            if !r.status.is_terminal() {
                r.status = RcptStatus::Cancelled { at: now };
                r.settled_in = self.attempt;
                batch.cancelled.push(i);
            }
        }
        self.finish_input(now, policy, batch);
        Ok(())
    }

    /// The next output, in order; `None` when drained.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        let o = self.out.pop_front();
        #[cfg(feature = "tracing")]
        if let Some(o) = &o {
            trace_event!(info, output = %o, "delivery output");
        }
        o
    }

    /// The next time [`Delivery::handle_timeout`] must be called: the earliest exact
    /// expiry or delay warning of a recipient still waiting (pending, deferred or
    /// expiring). `None` when nothing waits.
    fn next_deadline(&self, policy: &RetryPolicy) -> Option<Timestamp> {
        let exact = policy
            .lifetime
            .filter(|l| l.mode == LifetimeMode::Exact)
            .map(|l| self.arrival + l.limit);
        self.rcpts
            .iter()
            .filter_map(|r| match r.status {
                RcptStatus::Expiring { at } => {
                    let w = policy.next_delay_warning(&r.retry).filter(|w| *w < at);
                    Some(w.map_or(at, |w| w.min(at)))
                }
                // A recipient not attempted yet (the caller may hold the message
                // without an attempt) is late, and expires, like a deferred one.
                RcptStatus::Pending | RcptStatus::Deferred { .. } => {
                    let w = policy.next_delay_warning(&r.retry);
                    match (w, exact) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                }
                _ => None,
            })
            .min()
    }

    /// When the caller should next look at this message: the earliest retry time
    /// still ahead, exact expiry or delay warning of a recipient still waiting;
    /// `None` when nothing waits. Every input ends with the same time as
    /// [`Output::WakeAt`]: the one due time to keep in a deferral queue. A retry
    /// time already reached is not a wake-up but [`is_due`](Self::is_due): attempt
    /// now, or, holding the message (its destination is down), sleep until this.
    #[must_use]
    pub fn next_wakeup(&self, policy: &RetryPolicy) -> Option<Timestamp> {
        [self.next_retry(), self.next_deadline(policy)]
            .into_iter()
            .flatten()
            .min()
    }

    /// DSN entries for `rcpts`: `failed` for failed recipients (5.4.7 for a lifetime's end), `delayed`
    /// (with `Will-Retry-Until` from the policy's lifetime, left out when it has none)
    /// for waiting ones (pending ones included: `4.4.7` when nothing was tried yet),
    /// `relayed` (2.0.0) for delivered ones; others are skipped. Feed
    /// them to [`crate::dsn::DsnBuilder::build`], which applies NOTIFY: a `relayed`
    /// entry is only reported to a recipient that asked for `NOTIFY=SUCCESS`. When the
    /// next hop announced the DSN extension and took the recipient's `NOTIFY`
    /// parameter, it reports success itself: leave delivered recipients out then.
    pub fn dsn_recipients(&self, rcpts: &[usize], policy: &RetryPolicy) -> Vec<DsnRecipient> {
        let mut out = Vec::new();
        for &i in rcpts {
            let Some(r) = self.rcpts.get(i) else { continue };
            let action = match r.status {
                RcptStatus::Failed { .. } => Action::Failed,
                RcptStatus::Pending | RcptStatus::Deferred { .. } | RcptStatus::Expiring { .. } => {
                    Action::Delayed
                }
                RcptStatus::Delivered { at } => {
                    // Handed to the next hop: `relayed` (RFC 3461 §6.2.2), which the
                    // builder keeps only for NOTIFY=SUCCESS.
                    let Some(status) = EnhancedCode::new(2, 0, 0) else {
                        continue;
                    };
                    let mut d =
                        DsnRecipient::without_reply(&r.recipient.address, Action::Relayed, status);
                    d.original_recipient = r.recipient.orcpt.clone();
                    d.notify = r.recipient.notify;
                    d.remote_mta = self
                        .history
                        .iter()
                        .rev()
                        .find(|h| h.number == r.settled_in)
                        .and_then(|h| h.remote_mta.clone());
                    d.last_attempt = Some(at);
                    out.push(d);
                    continue;
                }
                _ => continue,
            };
            let lf = r.last_failure.as_ref();
            let addr = r.recipient.address.as_str();
            // The last retry can come no later than the lifetime's end; without a
            // lifetime (a rule ends the schedule) there is no instant to promise and
            // the optional field is left out (RFC 3464 §2.3.9).
            let until = match r.status {
                RcptStatus::Expiring { at } => Some(at),
                _ => policy.expires_at(&r.retry),
            };
            let mut d = match (lf.and_then(|l| l.reply.as_ref()), action) {
                (Some(reply), Action::Failed) => DsnRecipient::failed(addr, reply),
                (Some(reply), _) => {
                    let mut d = DsnRecipient::delayed(addr, reply, Timestamp::EPOCH);
                    d.will_retry_until = until;
                    d
                }
                (None, _) => {
                    // No reply: RFC 3463 X.4.7 (delivery time expired) for an expiry,
                    // X.4.1/X.4.2 style network codes otherwise, in the right class.
                    let class = if action == Action::Failed { 5 } else { 4 };
                    let (s, det) = match (r.status, lf.and_then(|l| l.classification.category)) {
                        // Late without an attempt, or expired: delivery time (X.4.7).
                        (
                            RcptStatus::Failed {
                                reason: GiveUpReason::Lifetime,
                                ..
                            }
                            | RcptStatus::Pending,
                            _,
                        ) => (4, 7),
                        (_, Some(Category::Network)) => (4, 2),
                        (_, Some(Category::Dns | Category::DomainNotFound)) => (4, 4),
                        _ => (0, 0),
                    };
                    let status = EnhancedCode::new(class, s, det)
                        .or_else(|| EnhancedCode::new(class, 0, 0))
                        .unwrap_or_else(|| {
                            // Invariant: class is 4 or 5 and the parts are below 1000.
                            EnhancedCode::new(5, 0, 0).expect("5.0.0 is valid")
                        });
                    let mut d = DsnRecipient::without_reply(addr, action, status);
                    if action == Action::Delayed {
                        d.will_retry_until = until;
                    }
                    // Say what went wrong on this side: the rule, the stage and its
                    // description (`Diagnostic-Code: X-tempfail; …`).
                    if let Some(l) = lf {
                        let c = &l.classification;
                        d = d.local_diagnostic(&format!(
                            "{} at {}: {}",
                            c.rule,
                            l.stage.name(),
                            c.description
                        ));
                    }
                    d
                }
            };
            if let RcptStatus::Failed {
                reason: GiveUpReason::Lifetime,
                ..
            } = r.status
            {
                // An expiry's status says so, whatever the last reply was.
                d.status = EnhancedCode::new(5, 4, 7).unwrap_or(d.status);
            }
            d.original_recipient = r.recipient.orcpt.clone();
            d.notify = r.recipient.notify;
            if let Some(l) = lf {
                d.remote_mta = l.remote_mta.clone();
                d.last_attempt = Some(l.at);
            }
            out.push(d);
        }
        out
    }

    fn clamp(&mut self, now: Timestamp) -> Timestamp {
        self.last_now = self.last_now.max(now);
        self.last_now
    }

    /// Queues a destination signal for a destination-scope failure.
    fn signal(&self, batch: &mut Batch, now: Timestamp, c: &Classification) {
        batch.destination.push(DestinationSignal {
            at: now,
            remote_mta: self.remote_mta.clone(),
            classification: c.clone(),
            hold_until: None,
        });
    }

    fn in_flight(&self) -> impl Iterator<Item = usize> + '_ {
        self.rcpts
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status == RcptStatus::InFlight)
            .map(|(i, _)| i)
    }

    /// Applies one outcome to in-flight recipient `i`.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &mut self,
        i: usize,
        now: Timestamp,
        policy: &RetryPolicy,
        stage: Stage,
        reply: Option<&Reply>,
        c: &Classification,
        batch: &mut Batch,
    ) {
        let attempt = self.attempt;
        let remote_mta = self.remote_mta.clone();
        let r = &mut self.rcpts[i];
        r.settled_in = attempt;
        if c.disposition != Disposition::Success {
            r.last_failure = Some(LastFailure {
                at: now,
                stage,
                reply: reply.cloned(),
                classification: c.clone(),
                remote_mta,
            });
        }
        // The policy's verdict is the recipient's state, arm for arm.
        let decision = policy.on_failure(c, &mut r.retry, now);
        match decision {
            RetryDecision::Delivered => {
                r.status = RcptStatus::Delivered { at: now };
                batch.delivered.push(i);
            }
            RetryDecision::Retry {
                at,
                hold_destination,
                delay_warning,
                ..
            } => {
                r.status = RcptStatus::Deferred { until: at };
                batch.retry.push((at, i));
                if let Some(k) = delay_warning {
                    batch.warnings.push((k, i));
                }
                if let Some(hold) = hold_destination {
                    match batch.destination.last_mut() {
                        Some(sig) if sig.classification == *c => {
                            sig.hold_until = sig.hold_until.max(Some(hold))
                        }
                        _ => batch.destination.push(DestinationSignal {
                            at: now,
                            remote_mta: self.remote_mta.clone(),
                            classification: c.clone(),
                            hold_until: Some(hold),
                        }),
                    }
                }
            }
            // An exact lifetime ends later: the recipient waits for that instant.
            RetryDecision::GiveUp {
                at,
                reason: GiveUpReason::Lifetime,
            } if at > now => r.status = RcptStatus::Expiring { at },
            RetryDecision::GiveUp { reason, .. } => {
                r.status = RcptStatus::Failed { at: now, reason };
                batch.failed.push((reason, i));
            }
        }
        if let Some(h) = self.history.back_mut().filter(|h| h.number == attempt) {
            let n = match decision {
                RetryDecision::Delivered => &mut h.delivered,
                RetryDecision::Retry { .. } => &mut h.deferred,
                RetryDecision::GiveUp { .. } => &mut h.ended,
            };
            *n = n.saturating_add(1);
        }
    }

    /// Queues a batch's outputs in the documented order, ends the attempt when nobody
    /// is left in flight, and queues the next deadline.
    fn finish_input(&mut self, _now: Timestamp, policy: &RetryPolicy, b: Batch) {
        if self.in_progress && self.in_flight().next().is_none() {
            self.in_progress = false;
        }
        if !b.delivered.is_empty() {
            self.out.push_back(Output::Delivered { rcpts: b.delivered });
        }
        for (at, rcpts) in group(b.retry) {
            self.out.push_back(Output::RetryAt { at, rcpts });
        }
        for (reason, rcpts) in group(b.failed) {
            self.out.push_back(Output::Failed { rcpts, reason });
        }
        for (number, rcpts) in group(b.warnings) {
            self.out.push_back(Output::DelayWarning { rcpts, number });
        }
        if !b.cancelled.is_empty() {
            self.out.push_back(Output::Cancelled { rcpts: b.cancelled });
        }
        for s in b.destination {
            self.out.push_back(Output::Destination(s));
        }
        // Only the latest deadline matters: drop a stale one still queued.
        self.out.retain(|o| !matches!(o, Output::WakeAt(_)));
        if let Some(t) = self.next_wakeup(policy) {
            self.out.push_back(Output::WakeAt(t));
        }
    }
}

/// Groups `(key, rcpt)` pairs by key, keys in first-seen order, recipients in order.
/// Linear: with per-recipient jitter a large message has about as many distinct retry
/// times as recipients.
fn group<K: Eq + Hash + Copy>(pairs: Vec<(K, usize)>) -> Vec<(K, Vec<usize>)> {
    let mut out: Vec<(K, Vec<usize>)> = Vec::new();
    let mut index: HashMap<K, usize> = HashMap::new();
    for (k, i) in pairs {
        match index.get(&k) {
            Some(&at) => out[at].1.push(i),
            None => {
                index.insert(k, out.len());
                out.push((k, vec![i]));
            }
        }
    }
    out
}

#[cfg(feature = "serde")]
mod wire {
    use super::*;
    use serde::{Deserialize, Serialize};

    /// The persisted form: versioned, every field explicit.
    #[derive(Serialize, Deserialize)]
    #[serde(
        deny_unknown_fields,
        expecting = "a delivery snapshot: a map with format_version, arrival, recipients, …"
    )]
    pub(super) struct DeliveryWire {
        format_version: u32,
        arrival: Timestamp,
        #[serde(default)]
        message: MessageInfo,
        recipients: Vec<RcptRecord>,
        attempt: u32,
        in_progress: bool,
        remote_mta: Option<String>,
        history: Vec<AttemptRecord>,
        history_cap: usize,
        last_now: Timestamp,
        pending_outputs: Vec<Output>,
    }

    impl From<Delivery> for DeliveryWire {
        fn from(d: Delivery) -> Self {
            DeliveryWire {
                format_version: DELIVERY_FORMAT_VERSION,
                arrival: d.arrival,
                message: d.message,
                recipients: d.rcpts,
                attempt: d.attempt,
                in_progress: d.in_progress,
                remote_mta: d.remote_mta,
                history: d.history.into(),
                history_cap: d.history_cap,
                last_now: d.last_now,
                pending_outputs: d.out.into(),
            }
        }
    }

    impl TryFrom<DeliveryWire> for Delivery {
        type Error = DeliveryError;
        fn try_from(w: DeliveryWire) -> Result<Self, DeliveryError> {
            crate::persist::UnsupportedVersion::check(
                "delivery",
                w.format_version,
                DELIVERY_FORMAT_VERSION,
            )?;
            let len = w.recipients.len();
            if !w.in_progress {
                if let Some(i) = w
                    .recipients
                    .iter()
                    .position(|r| r.status == RcptStatus::InFlight)
                {
                    return Err(DeliveryError::InconsistentSnapshot(format!(
                        "recipient {i} is in flight but no attempt is in progress"
                    )));
                }
            }
            for o in &w.pending_outputs {
                let rcpts: &[usize] = match o {
                    Output::Delivered { rcpts }
                    | Output::RetryAt { rcpts, .. }
                    | Output::Failed { rcpts, .. }
                    | Output::DelayWarning { rcpts, .. }
                    | Output::Cancelled { rcpts } => rcpts,
                    Output::Destination(_) | Output::WakeAt(_) => &[],
                };
                if let Some(&i) = rcpts.iter().find(|&&i| i >= len) {
                    return Err(DeliveryError::InconsistentSnapshot(format!(
                        "a pending output names recipient {i} (the message has {len})"
                    )));
                }
            }
            let cap = w.history_cap.max(1);
            let mut history: VecDeque<AttemptRecord> = w.history.into();
            while history.len() > cap {
                history.pop_front();
            }
            Ok(Delivery {
                arrival: w.arrival,
                message: w.message,
                rcpts: w.recipients,
                attempt: w.attempt,
                in_progress: w.in_progress,
                remote_mta: w.remote_mta,
                history,
                history_cap: cap,
                last_now: w.last_now,
                out: w.pending_outputs.into(),
            })
        }
    }
}

/// Snapshots written before the verdict had one vocabulary had an `expired` state
/// (and output) without a reason: it was the lifetime's end.
#[cfg(feature = "serde")]
fn expired_before() -> GiveUpReason {
    GiveUpReason::Lifetime
}
