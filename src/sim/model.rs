//! Modelled destinations: how a server answers an attempt, from real behaviour and
//! with real reply texts.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Rng, SimError};
use crate::backoff::serde_duration;
use crate::classify::{Classification, Classifier, Stage, TransportFailure};
use crate::reply::Reply;
use crate::time::{Timestamp, duration_millis};

/// One behaviour of a modelled destination. A destination's behaviours are asked in
/// order at each attempt; the first that refuses answers ([`Refusal`]), and when none refuses the
/// message is accepted (`250 2.0.0`).
///
/// | `kind` | fields (defaults) | answers |
/// |---|---|---|
/// | `greylisting` | `delay` (`300s`), `retry_window` (`2d`) | postgrey: the first attempt of a triplet (here: a message) and every retry before `delay` get `450 4.2.0 … Greylisted`; a retry after `delay` and within `retry_window` passes, and the triplet is remembered from then on; a retry after `retry_window` starts over |
/// | `rate_limit` | `limit`, `window` (`1m`), `block` (`10m`), `escalate_after` (`20`), `max_block` (`4h`) | past `limit` messages accepted in a fixed `window`, Gmail's `421 4.7.28 … rate limited`; at the `escalate_after`-th refusal within one window a block of `block` starts (every attempt refused), and each further block is twice as long, up to `max_block`; a window without refusals after a block resets the length |
/// | `outage` | `start`, `duration`, `failure` (`refused` or `timeout`; `refused`) | from `start` (after the scenario's start) for `duration`, the connection is refused or times out |
/// | `mailbox_full` | `permille`, `start` (`0s`), `duration` (`2d`) | that share of recipients (chosen by message) get Gmail's `452 4.2.2 … out of storage space` from `start` for `duration`, then their mailbox is emptied |
/// | `unknown_users` | `permille` | that share of recipients get Gmail's `550 5.1.1 … does not exist` |
/// | `connection_throttle` | `per_minute` | past `per_minute` connections in a calendar minute, `421 Too many connections` at the greeting |
/// | `congested` | `capacity_per_minute` | an overwhelmed server: with `n` attempts so far in the current minute above the capacity `c`, an attempt is refused at the greeting (`421 … Service not available`) with probability `1 − (c/n)²`: retries make it worse |
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Behaviour {
    /// postgrey's greylisting.
    Greylisting {
        /// Retries before this are refused (postgrey `--delay`, 300 s).
        #[serde(with = "serde_duration", default = "default_grey_delay")]
        delay: Duration,
        /// A retry later than this after the first attempt starts over (postgrey
        /// `--max-age`… its retry window, 2 days).
        #[serde(with = "serde_duration", default = "default_retry_window")]
        retry_window: Duration,
    },
    /// A provider's volume limit that escalates when pushed.
    RateLimit {
        /// Messages accepted per window.
        limit: u32,
        /// The fixed window.
        #[serde(with = "serde_duration", default = "default_minute")]
        window: Duration,
        /// The first block's length.
        #[serde(with = "serde_duration", default = "default_block")]
        block: Duration,
        /// Refused attempts in a window (or a block) that start a block (the next one).
        #[serde(default = "default_escalate")]
        escalate_after: u32,
        /// The longest block.
        #[serde(with = "serde_duration", default = "default_max_block")]
        max_block: Duration,
    },
    /// The server is down for a while.
    Outage {
        /// When it goes down, from the scenario's start.
        #[serde(with = "serde_duration")]
        start: Duration,
        /// For how long.
        #[serde(with = "serde_duration")]
        duration: Duration,
        /// How the connection fails.
        #[serde(default)]
        failure: OutageFailure,
    },
    /// Full mailboxes, emptied after a while.
    MailboxFull {
        /// The share of recipients, in thousandths.
        permille: u32,
        /// When they fill, from the scenario's start.
        #[serde(with = "serde_duration", default)]
        start: Duration,
        /// For how long.
        #[serde(with = "serde_duration", default = "default_two_days")]
        duration: Duration,
    },
    /// Recipients that do not exist.
    UnknownUsers {
        /// The share of recipients, in thousandths.
        permille: u32,
    },
    /// A limit on connections per minute.
    ConnectionThrottle {
        /// Connections accepted per calendar minute.
        per_minute: u32,
    },
    /// A server whose acceptance falls as its load rises.
    Congested {
        /// Attempts per minute it handles.
        capacity_per_minute: u32,
    },
}

/// How an outage fails a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageFailure {
    /// `connection_refused`.
    #[default]
    Refused,
    /// `connect_timeout`.
    Timeout,
}

fn default_grey_delay() -> Duration {
    Duration::from_secs(300)
}
fn default_retry_window() -> Duration {
    Duration::from_secs(2 * 86_400)
}
fn default_minute() -> Duration {
    Duration::from_secs(60)
}
fn default_block() -> Duration {
    Duration::from_secs(600)
}
fn default_escalate() -> u32 {
    20
}
fn default_max_block() -> Duration {
    Duration::from_secs(4 * 3600)
}
fn default_two_days() -> Duration {
    Duration::from_secs(2 * 86_400)
}

impl Behaviour {
    /// The snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            Behaviour::Greylisting { .. } => "greylisting",
            Behaviour::RateLimit { .. } => "rate_limit",
            Behaviour::Outage { .. } => "outage",
            Behaviour::MailboxFull { .. } => "mailbox_full",
            Behaviour::UnknownUsers { .. } => "unknown_users",
            Behaviour::ConnectionThrottle { .. } => "connection_throttle",
            Behaviour::Congested { .. } => "congested",
        }
    }

    pub(super) fn validate(&self, at: &str) -> Result<(), SimError> {
        let bad = |field: &str, reason: &str| {
            Err(SimError::invalid(
                format!("{at}.{field}"),
                reason.to_owned(),
            ))
        };
        let week = Duration::from_secs(60 * 86_400);
        match *self {
            Behaviour::Greylisting {
                delay,
                retry_window,
            } => {
                if delay.is_zero() || delay > week {
                    return bad("delay", "must be above zero and at most 60 days");
                }
                if retry_window < delay {
                    return bad("retry_window", "must be at least the delay");
                }
            }
            Behaviour::RateLimit {
                limit,
                window,
                block,
                escalate_after,
                max_block,
            } => {
                if limit == 0 {
                    return bad("limit", "must be at least 1");
                }
                if window < Duration::from_secs(1) || window > week {
                    return bad("window", "must be between 1s and 60 days");
                }
                if block.is_zero() || block > week {
                    return bad("block", "must be above zero and at most 60 days");
                }
                if escalate_after == 0 {
                    return bad("escalate_after", "must be at least 1");
                }
                if max_block < block || max_block > week {
                    return bad("max_block", "must be at least block and at most 60 days");
                }
            }
            Behaviour::Outage {
                start, duration, ..
            } => {
                if start > week {
                    return bad("start", "must be at most 60 days");
                }
                if duration.is_zero() || duration > week {
                    return bad("duration", "must be above zero and at most 60 days");
                }
            }
            Behaviour::MailboxFull {
                permille,
                start,
                duration,
            } => {
                if permille > 1000 {
                    return bad("permille", "must be at most 1000");
                }
                if start > week {
                    return bad("start", "must be at most 60 days");
                }
                if duration.is_zero() || duration > week {
                    return bad("duration", "must be above zero and at most 60 days");
                }
            }
            Behaviour::UnknownUsers { permille } => {
                if permille > 1000 {
                    return bad("permille", "must be at most 1000");
                }
            }
            Behaviour::ConnectionThrottle { per_minute } => {
                if per_minute == 0 {
                    return bad("per_minute", "must be at least 1");
                }
            }
            Behaviour::Congested {
                capacity_per_minute,
            } => {
                if capacity_per_minute == 0 {
                    return bad("capacity_per_minute", "must be at least 1");
                }
            }
        }
        Ok(())
    }
}

/// What a modelled server did with one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Answer {
    /// Accepted.
    Accepted,
    /// Refused.
    Refused(Refusal),
}

/// How a modelled server refuses an attempt: each with the reply a real server
/// sends ([`Refusal::reply`]) or a transport failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// postgrey's `450 4.2.0 … Greylisted` at `RCPT TO`.
    Greylisted,
    /// Gmail's `421 4.7.28 … rate limited` at `MAIL FROM`.
    RateLimited,
    /// Gmail's `452 4.2.2 … out of storage space` at `RCPT TO`.
    MailboxFull,
    /// Gmail's `550 5.1.1 … does not exist` at `RCPT TO`.
    UserUnknown,
    /// `421 Too many connections` at the greeting.
    TooManyConnections,
    /// `421 Service not available, closing transmission channel` at the greeting.
    Congested,
    /// The connection is refused.
    ConnectionRefused,
    /// The connection times out.
    ConnectTimeout,
}

impl Refusal {
    const ALL: [Refusal; 8] = [
        Refusal::Greylisted,
        Refusal::RateLimited,
        Refusal::MailboxFull,
        Refusal::UserUnknown,
        Refusal::TooManyConnections,
        Refusal::Congested,
        Refusal::ConnectionRefused,
        Refusal::ConnectTimeout,
    ];

    /// The reply, CRLF-terminated lines (none for a transport failure).
    pub fn reply(self) -> Option<&'static [u8]> {
        match self {
            Refusal::Greylisted => Some(GREYLISTED),
            Refusal::RateLimited => Some(RATE_LIMITED),
            Refusal::MailboxFull => Some(MAILBOX_FULL),
            Refusal::UserUnknown => Some(USER_UNKNOWN),
            Refusal::TooManyConnections => Some(TOO_MANY_CONNECTIONS),
            Refusal::Congested => Some(CONGESTED),
            Refusal::ConnectionRefused | Refusal::ConnectTimeout => None,
        }
    }

    /// The transport failure (none for a reply).
    pub fn failure(self) -> Option<TransportFailure> {
        match self {
            Refusal::ConnectionRefused => Some(TransportFailure::ConnectionRefused),
            Refusal::ConnectTimeout => Some(TransportFailure::ConnectTimeout),
            _ => None,
        }
    }

    /// The command the reply answers, or where the transport fails.
    pub fn stage(self) -> Stage {
        match self {
            Refusal::Greylisted | Refusal::MailboxFull | Refusal::UserUnknown => Stage::RcptTo,
            Refusal::RateLimited => Stage::MailFrom,
            Refusal::TooManyConnections | Refusal::Congested => Stage::Greeting,
            Refusal::ConnectionRefused | Refusal::ConnectTimeout => Stage::Connect,
        }
    }

    /// Before the server took a message: the connection failed.
    pub fn at_connect(self) -> bool {
        matches!(self.stage(), Stage::Greeting | Stage::Connect)
    }
}

/// A modelled destination on its own, to check a model or drive it from your own
/// harness: [`Model::answer`] is what [`run`](super::run) asks at every attempt.
///
/// ```
/// use std::time::Duration;
/// use tempfail::sim::{Behaviour, Model, Refusal};
/// let mut m = Model::new(&[Behaviour::Greylisting {
///     delay: Duration::from_secs(300),
///     retry_window: Duration::from_secs(2 * 86_400),
/// }], 1);
/// assert_eq!(m.answer(7, Duration::ZERO), Err(Refusal::Greylisted));
/// assert_eq!(m.answer(7, Duration::from_secs(299)), Err(Refusal::Greylisted));
/// assert_eq!(m.answer(7, Duration::from_secs(300)), Ok(()));
/// ```
pub struct Model(Server);

impl Model {
    /// A destination with these behaviours; `seed` keys its draws.
    pub fn new(behaviours: &[Behaviour], seed: u64) -> Self {
        Model(Server::new(behaviours, seed))
    }

    /// The answer to an attempt of `message` (any stable number: the greylisting
    /// triplet, the recipient drawn for a full mailbox) at `at` after the scenario's
    /// start. Times should not go backwards.
    pub fn answer(&mut self, message: u32, at: Duration) -> Result<(), Refusal> {
        match self.0.answer(message, duration_millis(at)) {
            Answer::Accepted => Ok(()),
            Answer::Refused(r) => Err(r),
        }
    }
}

/// The replies and failures a model answers with, classified once by the
/// classifier under test (the classification is a pure function of reply and stage).
pub(super) struct Responses {
    pub(super) accepted: Response,
    pub(super) refusals: Vec<Response>,
}

pub(super) struct Response {
    pub(super) stage: Stage,
    pub(super) reply: Option<Reply>,
    pub(super) classification: Classification,
    /// Refused before the server took a message (greeting or connection): the
    /// connection failed, the message permit went unused.
    pub(super) at_connect: bool,
}

// Reply texts. Sources: postgrey's documented default reply (the same text appears
// in the Sisimai corpus, ../shared/corpus); Gmail's 421 4.7.28, 452 4.2.2 and 550
// 5.1.1 from the Crisp corpus (../shared/corpus/crisp.jsonl, fixtures
// 421_4_7_28_ip_blocked_spam, 452 OverQuotaTemp, 550_5_1_1_no_such_recipient);
// "421 Too many connections" from the Sisimai corpus (reason toomanyconn); the 421
// greeting text is RFC 5321 §4.2.3's.
const ACCEPTED: &[u8] = b"250 2.0.0 OK: queued\r\n";
const GREYLISTED: &[u8] = b"450 4.2.0 <rcpt@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n";
const RATE_LIMITED: &[u8] = b"421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating\r\n421-4.7.28 from your IP address. To protect our users from spam, mail sent from\r\n421 4.7.28 your IP address has been temporarily rate limited.\r\n";
const MAILBOX_FULL: &[u8] = b"452-4.2.2 The recipient's inbox is out of storage space. Please direct the\r\n452 4.2.2 recipient to https://support.google.com/mail/?p=OverQuotaTemp\r\n";
const USER_UNKNOWN: &[u8] = b"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550 5.1.1 double-checking the recipient's email address for typos.\r\n";
const TOO_MANY_CONNECTIONS: &[u8] = b"421 Too many connections\r\n";
const CONGESTED: &[u8] = b"421 Service not available, closing transmission channel\r\n";

const R_GREY: Refusal = Refusal::Greylisted;
const R_RATE: Refusal = Refusal::RateLimited;
const R_FULL: Refusal = Refusal::MailboxFull;
const R_UNKNOWN: Refusal = Refusal::UserUnknown;
const R_THROTTLE: Refusal = Refusal::TooManyConnections;
const R_CONGESTED: Refusal = Refusal::Congested;
const R_REFUSED: Refusal = Refusal::ConnectionRefused;
const R_TIMEOUT: Refusal = Refusal::ConnectTimeout;

impl Responses {
    pub(super) fn new(classifier: &Classifier) -> Self {
        let failure = |classifier: &Classifier, f: TransportFailure| Response {
            stage: Stage::Connect,
            reply: None,
            classification: classifier.classify_failure(f, Stage::Connect),
            at_connect: true,
        };
        let reply = |bytes: &[u8], stage: Stage, at_connect: bool| {
            // The texts above are well-formed; a parse failure would be a bug here,
            // answered as an unknown failure rather than a panic.
            match Reply::parse(bytes) {
                Ok(r) => Response {
                    stage,
                    classification: classifier.classify(&r, stage),
                    reply: Some(r),
                    at_connect,
                },
                Err(_) => failure(classifier, TransportFailure::ProtocolViolation),
            }
        };
        Responses {
            accepted: reply(ACCEPTED, Stage::DataEnd, false),
            refusals: Refusal::ALL
                .iter()
                .map(|&r| match (r.reply(), r.failure()) {
                    (Some(bytes), _) => reply(bytes, r.stage(), r.at_connect()),
                    (None, Some(f)) => failure(classifier, f),
                    (None, None) => failure(classifier, TransportFailure::ProtocolViolation),
                })
                .collect(),
        }
    }

    pub(super) fn get(&self, a: Answer) -> &Response {
        match a {
            Answer::Accepted => &self.accepted,
            Answer::Refused(r) => self.refusals.get(r as usize).unwrap_or(&self.accepted),
        }
    }
}

/// A destination's behaviours and their state.
pub(super) struct Server {
    behaviours: Vec<(Behaviour, State)>,
    rng: Rng,
    salt: u64,
}

enum State {
    None,
    Grey {
        first_seen: HashMap<u32, u64>,
        passed: HashMap<u32, ()>,
    },
    Rate {
        window_start: u64,
        accepted: u32,
        refused: u32,
        block_until: u64,
        next_block: u64,
        quiet_since: u64,
    },
    Minute {
        minute: u64,
        count: u32,
    },
}

impl Server {
    pub(super) fn new(behaviours: &[Behaviour], seed: u64) -> Self {
        Server {
            behaviours: behaviours
                .iter()
                .map(|b| {
                    let st = match b {
                        Behaviour::Greylisting { .. } => State::Grey {
                            first_seen: HashMap::new(),
                            passed: HashMap::new(),
                        },
                        Behaviour::RateLimit { block, .. } => State::Rate {
                            window_start: 0,
                            accepted: 0,
                            refused: 0,
                            block_until: 0,
                            next_block: duration_millis(*block),
                            quiet_since: 0,
                        },
                        Behaviour::ConnectionThrottle { .. } | Behaviour::Congested { .. } => {
                            State::Minute {
                                minute: u64::MAX,
                                count: 0,
                            }
                        }
                        _ => State::None,
                    };
                    (b.clone(), st)
                })
                .collect(),
            rng: Rng::new(seed),
            salt: super::mix(seed ^ 0x5bd1_e995),
        }
    }

    /// Whether message `msg` is one of the `permille` chosen for a trait.
    fn chosen(&self, msg: u32, permille: u32, which: u64) -> bool {
        super::mix(self.salt ^ u64::from(msg) ^ which.wrapping_mul(0x9e37_79b9_7f4a_7c15)) % 1000
            < u64::from(permille)
    }

    /// The answer to an attempt of message `msg` at `t` (milliseconds since the
    /// scenario's start).
    pub(super) fn answer(&mut self, msg: u32, t: u64) -> Answer {
        // Connection-level behaviours first: they answer before any message.
        let salt = self.salt;
        let mut refused: Option<Refusal> = None;
        let mut accepted_by_rate: Vec<usize> = Vec::new();
        for i in 0..self.behaviours.len() {
            let answer = self.answer_one(i, msg, t, salt);
            match answer {
                Some(Answer::Refused(n)) => {
                    refused = Some(n);
                    break;
                }
                Some(Answer::Accepted) => accepted_by_rate.push(i),
                None => {}
            }
        }
        match refused {
            Some(n) => Answer::Refused(n),
            None => {
                // Counted as accepted by the rate limits only once the message passed
                // every behaviour.
                for i in accepted_by_rate {
                    if let (_, State::Rate { accepted, .. }) = &mut self.behaviours[i] {
                        *accepted = accepted.saturating_add(1);
                    }
                }
                Answer::Accepted
            }
        }
    }

    /// `None`: this behaviour lets the attempt through; `Some(Accepted)`: lets it
    /// through and wants to count it if the message is accepted.
    fn answer_one(&mut self, i: usize, msg: u32, t: u64, salt: u64) -> Option<Answer> {
        let _ = salt;
        let chosen_full;
        let chosen_unknown;
        {
            let (b, _) = &self.behaviours[i];
            chosen_full = match b {
                Behaviour::MailboxFull { permille, .. } => self.chosen(msg, *permille, 1),
                _ => false,
            };
            chosen_unknown = match b {
                Behaviour::UnknownUsers { permille } => self.chosen(msg, *permille, 2),
                _ => false,
            };
        }
        let rng = &mut self.rng;
        let (b, st) = &mut self.behaviours[i];
        match (b, st) {
            (
                Behaviour::Greylisting {
                    delay,
                    retry_window,
                },
                State::Grey { first_seen, passed },
            ) => {
                if passed.contains_key(&msg) {
                    return None;
                }
                let delay = duration_millis(*delay);
                let window = duration_millis(*retry_window);
                match first_seen.get(&msg).copied() {
                    Some(first) if t.saturating_sub(first) > window => {
                        first_seen.insert(msg, t);
                        Some(Answer::Refused(R_GREY))
                    }
                    Some(first) if t.saturating_sub(first) >= delay => {
                        first_seen.remove(&msg);
                        passed.insert(msg, ());
                        None
                    }
                    Some(_) => Some(Answer::Refused(R_GREY)),
                    None => {
                        first_seen.insert(msg, t);
                        Some(Answer::Refused(R_GREY))
                    }
                }
            }
            (
                Behaviour::RateLimit {
                    limit,
                    window,
                    block,
                    escalate_after,
                    max_block,
                },
                State::Rate {
                    window_start,
                    accepted,
                    refused,
                    block_until,
                    next_block,
                    quiet_since,
                },
            ) => {
                let w = duration_millis(*window).max(1);
                if t >= window_start.saturating_add(w) {
                    // A window with no refusal since the last block resets its length.
                    if *refused == 0 && t >= *block_until && t.saturating_sub(*quiet_since) >= w {
                        *next_block = duration_millis(*block);
                    }
                    *window_start = t - t % w;
                    *accepted = 0;
                    *refused = 0;
                }
                if t < *block_until {
                    *refused = refused.saturating_add(1);
                    *quiet_since = t;
                    return Some(Answer::Refused(R_RATE));
                }
                if *accepted >= *limit {
                    *refused = refused.saturating_add(1);
                    *quiet_since = t;
                    if *refused >= *escalate_after {
                        *block_until = t.saturating_add(*next_block);
                        *next_block = next_block
                            .saturating_mul(2)
                            .min(duration_millis(*max_block));
                        *refused = 0;
                    }
                    return Some(Answer::Refused(R_RATE));
                }
                Some(Answer::Accepted)
            }
            (
                Behaviour::Outage {
                    start,
                    duration,
                    failure,
                },
                _,
            ) => {
                let s = duration_millis(*start);
                if t >= s && t < s.saturating_add(duration_millis(*duration)) {
                    Some(Answer::Refused(match failure {
                        OutageFailure::Refused => R_REFUSED,
                        OutageFailure::Timeout => R_TIMEOUT,
                    }))
                } else {
                    None
                }
            }
            (
                Behaviour::MailboxFull {
                    start, duration, ..
                },
                _,
            ) => {
                let s = duration_millis(*start);
                let full = t >= s && t < s.saturating_add(duration_millis(*duration));
                (full && chosen_full).then_some(Answer::Refused(R_FULL))
            }
            (Behaviour::UnknownUsers { .. }, _) => {
                chosen_unknown.then_some(Answer::Refused(R_UNKNOWN))
            }
            (Behaviour::ConnectionThrottle { per_minute }, State::Minute { minute, count }) => {
                let m = t / 60_000;
                if m != *minute {
                    *minute = m;
                    *count = 0;
                }
                *count = count.saturating_add(1);
                (*count > *per_minute).then_some(Answer::Refused(R_THROTTLE))
            }
            (
                Behaviour::Congested {
                    capacity_per_minute,
                },
                State::Minute { minute, count },
            ) => {
                let m = t / 60_000;
                if m != *minute {
                    *minute = m;
                    *count = 0;
                }
                *count = count.saturating_add(1);
                let (c, n) = (u64::from(*capacity_per_minute), u64::from(*count));
                if n <= c {
                    return None;
                }
                // Accept with probability (c/n)^2, in millionths.
                let p = c.saturating_mul(c).saturating_mul(1_000_000) / n.saturating_mul(n).max(1);
                (rng.below(1_000_000) >= p).then_some(Answer::Refused(R_CONGESTED))
            }
            _ => None,
        }
    }
}

/// Milliseconds of `t` since `start`.
pub(super) fn since(t: Timestamp, start: Timestamp) -> u64 {
    t.as_millis().saturating_sub(start.as_millis())
}
