//! Modelled destinations: how a server answers an attempt, from real behaviour and
//! with real reply texts.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Rng, SimError};
use crate::backoff::{serde_duration, splitmix64};
use crate::classify::{Classifier, Stage, TransportFailure};
use crate::outcome::RcptOutcome;
use crate::reply::Reply;
use crate::time::{Timestamp, days, duration_millis, hours, mins};

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
        #[serde(with = "serde_duration", default = "default_two_days")]
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
    mins(5)
}
fn default_two_days() -> Duration {
    days(2)
}
fn default_minute() -> Duration {
    mins(1)
}
fn default_block() -> Duration {
    mins(10)
}
fn default_escalate() -> u32 {
    20
}
fn default_max_block() -> Duration {
    hours(4)
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
        let longest = super::MAX_HORIZON;
        match *self {
            Behaviour::Greylisting {
                delay,
                retry_window,
            } => {
                if delay.is_zero() || delay > longest {
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
                if window < Duration::from_secs(1) || window > longest {
                    return bad("window", "must be between 1s and 60 days");
                }
                if block.is_zero() || block > longest {
                    return bad("block", "must be above zero and at most 60 days");
                }
                if escalate_after == 0 {
                    return bad("escalate_after", "must be at least 1");
                }
                if max_block < block || max_block > longest {
                    return bad("max_block", "must be at least block and at most 60 days");
                }
            }
            Behaviour::Outage {
                start, duration, ..
            } => {
                if start > longest {
                    return bad("start", "must be at most 60 days");
                }
                if duration.is_zero() || duration > longest {
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
                if start > longest {
                    return bad("start", "must be at most 60 days");
                }
                if duration.is_zero() || duration > longest {
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
        self.0.answer(message, duration_millis(at))
    }
}

/// The replies and failures a model answers with, classified once by the
/// classifier under test (the classification is a pure function of reply and stage).
pub(super) struct Responses {
    accepted: Response,
    refusals: [Response; Refusal::ALL.len()],
}

pub(super) struct Response {
    /// The outcome every attempt answered this way reports (recipient 0), built once.
    pub(super) outcome: RcptOutcome,
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

impl Responses {
    pub(super) fn new(classifier: &Classifier) -> Self {
        let failure = |f: TransportFailure| Response {
            outcome: RcptOutcome::from_failure(classifier, 0, f, Stage::Connect),
            at_connect: true,
        };
        let reply = |bytes: &[u8], stage: Stage, at_connect: bool| match Reply::parse(bytes) {
            Ok(r) => Response {
                outcome: RcptOutcome::from_reply(classifier, 0, r, stage),
                at_connect,
            },
            // The texts above are well-formed; a parse failure would be a bug here,
            // answered as a transient failure rather than a panic or a delivery.
            Err(_) => failure(TransportFailure::ProtocolViolation),
        };
        Responses {
            accepted: reply(ACCEPTED, Stage::DataEnd, false),
            refusals: Refusal::ALL.map(|r| match (r.reply(), r.failure()) {
                (Some(bytes), _) => reply(bytes, r.stage(), r.at_connect()),
                (None, Some(f)) => failure(f),
                (None, None) => failure(TransportFailure::ProtocolViolation),
            }),
        }
    }

    pub(super) fn get(&self, answer: Result<(), Refusal>) -> &Response {
        match answer {
            Ok(()) => &self.accepted,
            Err(r) => &self.refusals[r as usize],
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
        passed: HashSet<u32>,
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
                            passed: HashSet::new(),
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
            salt: splitmix64(seed ^ 0x5bd1_e995),
        }
    }

    /// Whether message `msg` is one of the `permille` chosen for a trait.
    fn chosen(&self, msg: u32, permille: u32, which: u64) -> bool {
        splitmix64(self.salt ^ u64::from(msg) ^ which.wrapping_mul(0x9e37_79b9_7f4a_7c15)) % 1000
            < u64::from(permille)
    }

    /// The answer to an attempt of message `msg` at `t` (milliseconds since the
    /// scenario's start): the behaviours are asked in order and the first refusal
    /// answers.
    pub(super) fn answer(&mut self, msg: u32, t: u64) -> Result<(), Refusal> {
        for i in 0..self.behaviours.len() {
            if let Some(r) = self.refusal(i, msg, t) {
                return Err(r);
            }
        }
        // Every behaviour let it through: the rate limits count it as accepted.
        for (_, st) in &mut self.behaviours {
            if let State::Rate { accepted, .. } = st {
                *accepted = accepted.saturating_add(1);
            }
        }
        Ok(())
    }

    /// Whether behaviour `i` refuses this attempt.
    fn refusal(&mut self, i: usize, msg: u32, t: u64) -> Option<Refusal> {
        // Whether this message's recipient is one of the share a behaviour picks.
        let picked = match &self.behaviours[i].0 {
            Behaviour::MailboxFull { permille, .. } => self.chosen(msg, *permille, 1),
            Behaviour::UnknownUsers { permille } => self.chosen(msg, *permille, 2),
            _ => false,
        };
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
                if passed.contains(&msg) {
                    return None;
                }
                let delay = duration_millis(*delay);
                let window = duration_millis(*retry_window);
                match first_seen.get(&msg).copied() {
                    Some(first) if t.saturating_sub(first) > window => {
                        first_seen.insert(msg, t);
                        Some(Refusal::Greylisted)
                    }
                    Some(first) if t.saturating_sub(first) >= delay => {
                        first_seen.remove(&msg);
                        passed.insert(msg);
                        None
                    }
                    Some(_) => Some(Refusal::Greylisted),
                    None => {
                        first_seen.insert(msg, t);
                        Some(Refusal::Greylisted)
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
                    return Some(Refusal::RateLimited);
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
                    return Some(Refusal::RateLimited);
                }
                None
            }
            (
                Behaviour::Outage {
                    start,
                    duration,
                    failure,
                },
                _,
            ) => {
                if within(t, *start, *duration) {
                    Some(match failure {
                        OutageFailure::Refused => Refusal::ConnectionRefused,
                        OutageFailure::Timeout => Refusal::ConnectTimeout,
                    })
                } else {
                    None
                }
            }
            (
                Behaviour::MailboxFull {
                    start, duration, ..
                },
                _,
            ) => (within(t, *start, *duration) && picked).then_some(Refusal::MailboxFull),
            (Behaviour::UnknownUsers { .. }, _) => picked.then_some(Refusal::UserUnknown),
            (Behaviour::ConnectionThrottle { per_minute }, State::Minute { minute, count }) => {
                (count_in_minute(minute, count, t) > *per_minute)
                    .then_some(Refusal::TooManyConnections)
            }
            (
                Behaviour::Congested {
                    capacity_per_minute,
                },
                State::Minute { minute, count },
            ) => {
                let n = u64::from(count_in_minute(minute, count, t));
                let c = u64::from(*capacity_per_minute);
                if n <= c {
                    return None;
                }
                // Accept with probability (c/n)^2, in millionths.
                let p = c.saturating_mul(c).saturating_mul(1_000_000) / n.saturating_mul(n).max(1);
                (rng.below(1_000_000) >= p).then_some(Refusal::Congested)
            }
            _ => None,
        }
    }
}

/// Whether `t` (milliseconds) falls in `[start, start + duration)`.
fn within(t: u64, start: Duration, duration: Duration) -> bool {
    let s = duration_millis(start);
    t >= s && t < s.saturating_add(duration_millis(duration))
}

/// Counts an attempt in the calendar minute of `t` and returns the count so far.
fn count_in_minute(minute: &mut u64, count: &mut u32, t: u64) -> u32 {
    let m = t / 60_000;
    if m != *minute {
        *minute = m;
        *count = 0;
    }
    *count = count.saturating_add(1);
    *count
}

/// Milliseconds of `t` since `start`.
pub(super) fn since(t: Timestamp, start: Timestamp) -> u64 {
    t.as_millis().saturating_sub(start.as_millis())
}
