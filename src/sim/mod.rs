//! The policy lab: days of mail against modelled servers, in virtual time.
//!
//! A [`Scenario`] is data: modelled destinations ([`DestinationModel`], each a list of
//! [`Behaviour`]s answering with real reply texts), their shares of the traffic,
//! streams of messages ([`Stream`]: time-sensitive or bulk, how many, over what
//! time) and a seed. [`run`] sends every message through the crate's own parts, as
//! a sender would: the [`Classifier`] reads each reply, a [`Delivery`] per message
//! takes the outcomes and asks the [`RetryPolicy`], a [`WheelQueue`] holds each
//! message until its next wake-up, and, when the [`Contender`] has a
//! [`HealthConfig`], a destination [`Registry`] grants or withholds every connection
//! and message. The [`Metrics`] say what it cost: delivered, bounced, expired,
//! latency percentiles for each class of mail, attempts, wasted attempts, the load
//! on each destination, DSNs, and series to plot.
//!
//! Everything is deterministic: the same scenario, seed and contender give the same
//! metrics on every machine (no clock, no global RNG, no hash-order dependence). An
//! attempt takes no virtual time; its answer depends on the model's state at that
//! instant.
//!
//! ```
//! use tempfail::sim::{self, Contender};
//! use tempfail::{Classifier, Preset};
//!
//! let scenario = sim::builtin("greylisting").unwrap().with_messages(2_000);
//! let m = sim::run(&scenario, &Contender::preset(Preset::Tempfail), &Classifier::builtin()).unwrap();
//! assert_eq!(m.delivered + m.bounced + m.expired + m.pending, m.messages);
//! // Greylisted mail goes through on the retry right after postgrey's 300 s delay.
//! assert!(m.latency_secs.time_sensitive.p90 <= 360, "{}", m.latency_secs.time_sensitive.p90);
//! ```
//!
//! # Scenario files
//!
//! | field | type | meaning | default |
//! |---|---|---|---|
//! | `name` | string | reported with the metrics | required |
//! | `seed` | integer | arrivals, choices of destination and the models' draws | 0 |
//! | `horizon` | duration | the run stops then; messages still queued are `pending` | `10d` |
//! | `streams` | list of [`Stream`] `{class, messages, start, over, to}` | the messages | required |
//! | `destinations` | list of [`DestinationModel`] `{name, share, behaviours}` | the servers | required |
//!
//! Limits: at most [`MAX_MESSAGES`] messages, [`MAX_DESTINATIONS`] destinations, 100
//! streams, 16 behaviours per destination, a horizon of 60 days. Unknown fields,
//! zero or out-of-range durations and counts are refused with the field named
//! ([`SimError::Invalid`]).
//!
//! ```
//! use tempfail::sim::Scenario;
//! let toml = r#"
//! name = "greylisting_and_outage"
//! seed = 7
//! horizon = "3d"
//!
//! [[streams]]
//! class = "time_sensitive"
//! messages = 500
//! over = "6h"
//!
//! [[destinations]]
//! name = "grey.example"
//! share = 3
//! behaviours = [{ kind = "greylisting", delay = "5m" }]
//!
//! [[destinations]]
//! name = "down.example"
//! share = 1
//! behaviours = [{ kind = "outage", start = "1h", duration = "2h", failure = "timeout" }]
//! "#;
//! let s: Scenario = toml::from_str(toml).unwrap();
//! s.validate().unwrap();
//! let err = toml::from_str::<Scenario>("name = \"x\"\nstreams = []\ndestinations = []\nsed = 1").unwrap_err();
//! assert!(err.to_string().contains("sed"), "{err}");
//! ```
//!
//! The same kind of file in JSON, with every behaviour:
//!
//! ```
//! use tempfail::sim::{self, Contender, Scenario};
//! use tempfail::{Classifier, Preset};
//! let json = r#"{
//!   "name": "everything", "seed": 3, "horizon": "4d",
//!   "streams": [
//!     {"class": "time_sensitive", "messages": 200, "over": "1d"},
//!     {"class": "bulk", "messages": 800, "start": "2h", "over": "30m", "to": ["provider.example"]}
//!   ],
//!   "destinations": [
//!     {"name": "grey.example", "share": 2, "behaviours": [
//!       {"kind": "greylisting", "delay": "5m", "retry_window": "2d"},
//!       {"kind": "unknown_users", "permille": 20}]},
//!     {"name": "provider.example", "share": 2, "behaviours": [
//!       {"kind": "rate_limit", "limit": 20, "window": "1m", "block": "10m",
//!        "escalate_after": 20, "max_block": "4h"},
//!       {"kind": "congested", "capacity_per_minute": 60}]},
//!     {"name": "down.example", "share": 1, "behaviours": [
//!       {"kind": "outage", "start": "1h", "duration": "3h", "failure": "refused"},
//!       {"kind": "connection_throttle", "per_minute": 30}]},
//!     {"name": "full.example", "share": 1, "behaviours": [
//!       {"kind": "mailbox_full", "permille": 100, "start": "0s", "duration": "2d"}]}
//!   ]
//! }"#;
//! let s: Scenario = serde_json::from_str(json).unwrap();
//! let m = sim::run(&s, &Contender::preset(Preset::Tempfail), &Classifier::builtin()).unwrap();
//! assert_eq!(m.messages, 1_000);
//! assert_eq!(m.destinations.len(), 4);
//! ```

mod builtin;
mod model;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use builtin::{BUILTIN, builtin};
pub use model::{Behaviour, Model, OutageFailure, Refusal};

use crate::backoff::serde_duration;
use std::collections::VecDeque;

use crate::backoff::splitmix64;
use crate::classify::{Classifier, Disposition, Scope};
use crate::delivery::{Delivery, Output, Recipient};
use crate::destination::{Decision, HealthConfig, Registry, Report};
use crate::policy::{GiveUpReason, Preset, RetryPolicy};
use crate::queue::{DeferralQueue, Handle, WheelQueue};
use crate::time::{Timestamp, duration_millis};
use model::{Responses, Server, since};

/// The most messages a scenario may hold (a run keeps every waiting message's
/// delivery state, about 800 bytes each: 1.6 GB at this limit).
pub const MAX_MESSAGES: u64 = 2_000_000;
/// The most destinations a scenario may hold.
pub const MAX_DESTINATIONS: usize = 1_000;
const MAX_STREAMS: usize = 100;
const MAX_BEHAVIOURS: usize = 16;
const MAX_HORIZON: Duration = Duration::from_secs(60 * 86_400);
/// Width of a bucket of the plotted series.
pub const SERIES_STEP: Duration = Duration::from_secs(600);
/// Destinations whose attempts per minute are kept as a series (the first ones).
const SERIES_DESTINATIONS: usize = 16;

/// The virtual time a scenario starts at (2026-01-05T00:00:00Z, a Monday).
pub const START: Timestamp = Timestamp::from_secs(1_767_571_200);

/// A scenario: destinations, traffic and a seed. See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Scenario {
    /// Reported with the metrics.
    pub name: String,
    /// Seeds every draw.
    #[serde(default)]
    pub seed: u64,
    /// The run stops then; messages still queued are counted as pending.
    #[serde(with = "serde_duration", default = "default_horizon")]
    pub horizon: Duration,
    /// The messages.
    pub streams: Vec<Stream>,
    /// The servers.
    pub destinations: Vec<DestinationModel>,
}

fn default_horizon() -> Duration {
    Duration::from_secs(10 * 86_400)
}

/// A stream of messages, spread evenly (with a random offset each) over `over` from
/// `start`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Stream {
    /// Time-sensitive or bulk.
    pub class: Class,
    /// How many.
    pub messages: u64,
    /// When the stream starts, from the scenario's start.
    #[serde(with = "serde_duration", default)]
    pub start: Duration,
    /// Over how long.
    #[serde(with = "serde_duration")]
    pub over: Duration,
    /// The destinations it goes to (by name, in proportion to their shares); empty:
    /// all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
}

/// The class of a message: its queue priority and its latency figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// A password reset, a receipt: priority 200 in the queue.
    TimeSensitive,
    /// A newsletter: priority 0.
    Bulk,
}

impl Class {
    /// The snake_case name.
    pub const fn name(self) -> &'static str {
        match self {
            Class::TimeSensitive => "time_sensitive",
            Class::Bulk => "bulk",
        }
    }

    const fn priority(self) -> u8 {
        match self {
            Class::TimeSensitive => 200,
            Class::Bulk => 0,
        }
    }
}

/// A modelled destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DestinationModel {
    /// Its name (the destination key in the registry).
    pub name: String,
    /// Its weight among the destinations a stream goes to.
    pub share: u32,
    /// How it answers; none: it accepts everything.
    #[serde(default)]
    pub behaviours: Vec<Behaviour>,
}

impl DestinationModel {
    /// A destination with this name, share and behaviours.
    pub fn new(name: impl Into<String>, share: u32, behaviours: Vec<Behaviour>) -> Self {
        DestinationModel {
            name: name.into(),
            share,
            behaviours,
        }
    }
}

impl Stream {
    /// `messages` of `class`, over `over` from `start`, to every destination.
    pub fn new(class: Class, messages: u64, start: Duration, over: Duration) -> Self {
        Stream {
            class,
            messages,
            start,
            over,
            to: Vec::new(),
        }
    }

    /// Only to these destinations.
    pub fn to<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.to = names.into_iter().map(Into::into).collect();
        self
    }
}

/// A scenario that cannot run, or a name that is not known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A field out of range.
    #[error("scenario field {field}: {reason}")]
    Invalid {
        /// Where (`streams[0].over`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// No built-in scenario by that name.
    #[error("unknown scenario {0:?} (built-in: {list})", list = BUILTIN.join(", "))]
    UnknownScenario(String),
    /// The contender's health configuration was refused.
    #[error("health configuration: {0}")]
    Health(String),
}

impl SimError {
    fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SimError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl Scenario {
    /// A scenario with no streams or destinations yet.
    pub fn new(name: impl Into<String>, seed: u64) -> Self {
        Scenario {
            name: name.into(),
            seed,
            horizon: default_horizon(),
            streams: Vec::new(),
            destinations: Vec::new(),
        }
    }

    /// Adds a destination.
    pub fn destination(mut self, d: DestinationModel) -> Self {
        self.destinations.push(d);
        self
    }

    /// Adds a stream.
    pub fn stream(mut self, s: Stream) -> Self {
        self.streams.push(s);
        self
    }

    /// With another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// With another horizon.
    pub fn with_horizon(mut self, horizon: Duration) -> Self {
        self.horizon = horizon;
        self
    }

    /// The same traffic mix scaled to `n` messages in all (each stream keeps its
    /// share, at least one message).
    pub fn with_messages(mut self, n: u64) -> Self {
        let total: u64 = self.streams.iter().map(|s| s.messages).sum();
        if total == 0 {
            return self;
        }
        for s in &mut self.streams {
            let scaled = u128::from(n) * u128::from(s.messages) / u128::from(total);
            s.messages = u64::try_from(scaled).unwrap_or(u64::MAX).max(1);
        }
        self
    }

    /// The number of messages.
    pub fn messages(&self) -> u64 {
        self.streams
            .iter()
            .fold(0u64, |a, s| a.saturating_add(s.messages))
    }

    /// Checks every field; [`run`] does it first.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.name.is_empty() || self.name.len() > 100 {
            return Err(SimError::invalid("name", "1 to 100 bytes"));
        }
        if self.horizon.is_zero() || self.horizon > MAX_HORIZON {
            return Err(SimError::invalid(
                "horizon",
                "must be above zero and at most 60 days",
            ));
        }
        if self.destinations.is_empty() || self.destinations.len() > MAX_DESTINATIONS {
            return Err(SimError::invalid(
                "destinations",
                format!("between 1 and {MAX_DESTINATIONS} destinations"),
            ));
        }
        for (i, d) in self.destinations.iter().enumerate() {
            let at = format!("destinations[{i}]");
            if d.name.is_empty() || d.name.len() > 255 {
                return Err(SimError::invalid(format!("{at}.name"), "1 to 255 bytes"));
            }
            if self.destinations[..i].iter().any(|o| o.name == d.name) {
                return Err(SimError::invalid(
                    format!("{at}.name"),
                    format!("{:?} is given twice", d.name),
                ));
            }
            if d.share == 0 || d.share > 1_000_000 {
                return Err(SimError::invalid(
                    format!("{at}.share"),
                    "between 1 and 1000000",
                ));
            }
            if d.behaviours.len() > MAX_BEHAVIOURS {
                return Err(SimError::invalid(
                    format!("{at}.behaviours"),
                    format!("at most {MAX_BEHAVIOURS}"),
                ));
            }
            for (j, b) in d.behaviours.iter().enumerate() {
                b.validate(&format!("{at}.behaviours[{j}]"))?;
            }
        }
        if self.streams.is_empty() || self.streams.len() > MAX_STREAMS {
            return Err(SimError::invalid(
                "streams",
                format!("between 1 and {MAX_STREAMS} streams"),
            ));
        }
        let mut total: u64 = 0;
        for (i, s) in self.streams.iter().enumerate() {
            let at = format!("streams[{i}]");
            if s.messages == 0 || s.messages > MAX_MESSAGES {
                return Err(SimError::invalid(
                    format!("{at}.messages"),
                    format!("between 1 and {MAX_MESSAGES}"),
                ));
            }
            total = total.saturating_add(s.messages);
            if s.over.is_zero() {
                return Err(SimError::invalid(
                    format!("{at}.over"),
                    "must be above zero",
                ));
            }
            if s.start.saturating_add(s.over) > self.horizon {
                return Err(SimError::invalid(
                    format!("{at}.over"),
                    "the stream must end within the horizon",
                ));
            }
            for name in &s.to {
                if !self.destinations.iter().any(|d| &d.name == name) {
                    return Err(SimError::invalid(
                        format!("{at}.to"),
                        format!("{name:?} is not a destination"),
                    ));
                }
            }
        }
        if total > MAX_MESSAGES {
            return Err(SimError::invalid(
                "streams",
                format!("{total} messages in all, more than {MAX_MESSAGES}"),
            ));
        }
        Ok(())
    }
}

/// What runs through a scenario: a retry policy and, optionally, destination health.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Contender {
    /// Reported as `preset`.
    pub name: String,
    /// The retry policy.
    pub policy: RetryPolicy,
    /// Destination health; none: every due message is tried at once.
    pub health: Option<HealthConfig>,
    /// With destination health, also apply the policy's `hold_destination` signals
    /// to the registry ([`Registry::observe_signal`]). Off by default: the registry's
    /// own reaction to `rate_limited` and `too_many_connections` (a short pause
    /// that doubles, a learned rate) measured better than adding the policy's fixed
    /// hold on top of it (see BENCHMARKS.md, policy lab).
    pub policy_holds: bool,
}

impl Contender {
    /// A preset as the lab runs it: its retry policy, and for [`Preset::Tempfail`]
    /// (the crate's recommended setup) destination health with
    /// [`HealthConfig::postfix`]. The other MTAs' presets run their retry schedules
    /// alone.
    pub fn preset(p: Preset) -> Self {
        Contender {
            name: p.name().to_owned(),
            policy: p.policy(),
            health: (p == Preset::Tempfail).then(HealthConfig::postfix),
            policy_holds: false,
        }
    }

    /// Your own policy and health settings.
    pub fn new(name: impl Into<String>, policy: RetryPolicy, health: Option<HealthConfig>) -> Self {
        Contender {
            name: name.into(),
            policy,
            health,
            policy_holds: false,
        }
    }

    /// With the policy's `hold_destination` signals applied to the registry.
    pub fn with_policy_holds(mut self, on: bool) -> Self {
        self.policy_holds = on;
        self
    }

    /// A contender by name: a preset name, `tempfail_no_health` (the tempfail
    /// policy without destination health) or `tempfail_policy_holds` (with the
    /// policy's holds applied to the registry).
    pub fn named(name: &str) -> Option<Self> {
        if name == "tempfail_no_health" {
            return Some(Contender::new(name, Preset::Tempfail.policy(), None));
        }
        if name == "tempfail_policy_holds" {
            let mut c = Contender::preset(Preset::Tempfail).with_policy_holds(true);
            c.name = name.to_owned();
            return Some(c);
        }
        Preset::from_name(name).map(Contender::preset)
    }
}

/// Latency percentiles of delivered messages, in whole seconds (0 when none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Percentiles {
    /// Delivered messages of the class.
    pub delivered: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Slowest.
    pub max: u64,
}

/// Latency of each class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Latencies {
    /// Time-sensitive mail.
    pub time_sensitive: Percentiles,
    /// Bulk mail.
    pub bulk: Percentiles,
}

/// The load on one destination.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DestinationMetrics {
    /// Its name.
    pub name: String,
    /// Attempts made to it.
    pub attempts: u64,
    /// Attempts that ended in a transient failure.
    pub wasted_attempts: u64,
    /// The most attempts in one calendar minute.
    pub peak_attempts_per_min: u32,
    /// Attempts per minute between its first and last attempt.
    pub mean_attempts_per_min: f64,
}

/// What a run cost. Serialized as the `simulate` example's JSON line (which adds
/// `sim_wall_secs`, measured by the caller: the library reads no clock).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metrics {
    /// The scenario's name.
    pub scenario: String,
    /// The contender's name.
    pub preset: String,
    /// Messages in the scenario.
    pub messages: u64,
    /// Delivered.
    pub delivered: u64,
    /// Failed for a reason other than the lifetime (a permanent reply, a category
    /// never retried, a schedule or category limit).
    pub bounced: u64,
    /// Failed at the end of their lifetime.
    pub expired: u64,
    /// Still queued at the horizon.
    pub pending: u64,
    /// Delivery latency from arrival.
    pub latency_secs: Latencies,
    /// Attempts in all.
    pub attempts: u64,
    /// Attempts divided by delivered messages.
    pub attempts_per_delivered: f64,
    /// Attempts that ended in a transient failure: tries into a destination that
    /// was still failing.
    pub wasted_attempts: u64,
    /// Times destination health held a due message back (no attempt made).
    pub held: u64,
    /// The most attempts in one minute at any one destination.
    pub peak_attempts_per_min: u32,
    /// Failure notices and delay warnings sent.
    pub dsns: u64,
    /// Per destination.
    pub destinations: Vec<DestinationMetrics>,
    /// Series for plots, one value per [`SERIES_STEP`] from the start.
    #[serde(skip)]
    pub series: Series,
}

/// Series for plots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Series {
    /// Messages delivered by the end of each step (cumulative).
    pub delivered: Vec<u64>,
    /// The most messages queued during each step.
    pub queue_depth: Vec<u64>,
    /// Attempts per minute at each of the first 16 destinations (index: minute).
    pub attempts_per_min: Vec<Vec<u32>>,
}

/// SplitMix64 (the crate's own mixer, [`splitmix64`]) as a sequence: the lab's only
/// source of randomness, seeded from the scenario.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(splitmix64(seed))
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix64(self.0)
    }
    /// Uniform in `[0, n)` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

struct Msg {
    arrival: Timestamp,
    dest: u32,
    class: Class,
    /// The last attempt failed for the whole destination (connection or destination
    /// scope): the next one is a retry in the retry budget's sense. A retry after a
    /// recipient's own deferral (greylisting, a full mailbox) is expected traffic,
    /// not a retry storm.
    destination_failure: bool,
    /// Held back by its destination, waiting in its parked list (its own deadlines,
    /// expiry and delay warnings, still come from the queue).
    parked: bool,
    /// Its entry in the queue, if any.
    wake: Option<Handle>,
    delivery: Option<Box<Delivery>>,
}

struct DestLoad {
    attempts: u64,
    wasted: u64,
    minute: u64,
    in_minute: u32,
    peak: u32,
    first: Option<u64>,
    last: u64,
}

/// Due messages a destination holds back, by class, in order (Postfix's qmgr keeps a
/// queue per destination the same way): one wake-up per destination, not one per
/// message, so a held destination costs nothing per waiting message.
#[derive(Default)]
struct Parked {
    until: Option<Timestamp>,
    wake_scheduled: Option<Timestamp>,
    time_sensitive: VecDeque<u32>,
    bulk: VecDeque<u32>,
}

impl Parked {
    fn push(&mut self, class: Class, i: u32, front: bool) {
        let q = match class {
            Class::TimeSensitive => &mut self.time_sensitive,
            Class::Bulk => &mut self.bulk,
        };
        if front {
            q.push_front(i);
        } else {
            q.push_back(i);
        }
    }

    fn pop(&mut self) -> Option<u32> {
        self.time_sensitive
            .pop_front()
            .or_else(|| self.bulk.pop_front())
    }
}

struct Lab<'a> {
    scenario: &'a Scenario,
    policy: &'a RetryPolicy,
    registry: Option<Registry<String>>,
    responses: Responses,
    servers: Vec<Server>,
    msgs: Vec<Msg>,
    parked: Vec<Parked>,
    policy_holds: bool,
    queue: WheelQueue<u32>,
    load: Vec<DestLoad>,
    /// Per step; `delivered` counts deliveries in each step until [`Lab::finish`]
    /// makes it cumulative.
    series: Series,
    latencies: [Vec<u64>; 2],
    live: u64,
    m: Metrics,
}

/// Runs `scenario` with `contender`, classifying with `classifier`.
///
/// Errors: the scenario is invalid, or the contender's health configuration is
/// refused.
pub fn run(
    scenario: &Scenario,
    contender: &Contender,
    classifier: &Classifier,
) -> Result<Metrics, SimError> {
    scenario.validate()?;
    let registry = match &contender.health {
        Some(cfg) => Some(
            Registry::<String>::new(cfg.clone()).map_err(|e| SimError::Health(e.to_string()))?,
        ),
        None => None,
    };
    let mut rng = Rng::new(scenario.seed);
    let msgs = arrivals(scenario, &mut rng);
    let steps = usize::try_from(duration_millis(scenario.horizon) / duration_millis(SERIES_STEP))
        .unwrap_or(0)
        .saturating_add(1);
    let minutes = usize::try_from(scenario.horizon.as_secs() / 60)
        .unwrap_or(0)
        .saturating_add(1);
    let n_dest = scenario.destinations.len();
    let mut lab = Lab {
        scenario,
        policy: &contender.policy,
        registry,
        responses: Responses::new(classifier),
        servers: scenario
            .destinations
            .iter()
            .enumerate()
            .map(|(i, d)| Server::new(&d.behaviours, splitmix64(scenario.seed ^ (i as u64 + 1))))
            .collect(),
        m: Metrics {
            scenario: scenario.name.clone(),
            preset: contender.name.clone(),
            messages: msgs.len() as u64,
            ..Metrics::default()
        },
        msgs,
        parked: (0..n_dest).map(|_| Parked::default()).collect(),
        policy_holds: contender.policy_holds,
        queue: WheelQueue::new(),
        load: (0..n_dest)
            .map(|_| DestLoad {
                attempts: 0,
                wasted: 0,
                minute: u64::MAX,
                in_minute: 0,
                peak: 0,
                first: None,
                last: 0,
            })
            .collect(),
        series: Series {
            delivered: vec![0; steps],
            queue_depth: vec![0; steps],
            attempts_per_min: vec![vec![0; minutes]; n_dest.min(SERIES_DESTINATIONS)],
        },
        latencies: [Vec::new(), Vec::new()],
        live: 0,
    };
    lab.run();
    Ok(lab.finish())
}

impl Lab<'_> {
    fn run(&mut self) {
        let horizon_end = START + self.scenario.horizon;
        let n = self.msgs.len();
        let mut next_arrival = 0usize;
        loop {
            let arrival_at = self.msgs.get(next_arrival).map(|x| x.arrival);
            let due_at = self.queue.next_due();
            let (now, is_arrival) = match (arrival_at, due_at) {
                (None, None) => break,
                (Some(a), Some(d)) if a <= d => (a, true),
                (Some(a), None) => (a, true),
                (_, Some(d)) => (d, false),
            };
            if now > horizon_end {
                break;
            }
            if is_arrival {
                let i = next_arrival;
                next_arrival += 1;
                let msg = &mut self.msgs[i];
                let d = Delivery::new(
                    msg.arrival,
                    splitmix64(self.scenario.seed ^ (i as u64)),
                    vec![Recipient::new("rcpt@example.com")],
                )
                .with_history(0);
                msg.delivery = Some(Box::new(d));
                self.live += 1;
                self.visit(i, now, false);
                continue;
            }
            let Some(p) = self.queue.pop_due(now) else {
                continue;
            };
            let item = p.item as usize;
            if item < n {
                self.msgs[item].wake = None;
                self.visit(item, now, false);
            } else {
                self.wake_destination(item - n, now);
            }
        }
        self.m.pending = self.live + (n - next_arrival) as u64;
    }

    /// A held destination's time has come: its parked messages go, in order
    /// (time-sensitive first), until it holds one back again.
    fn wake_destination(&mut self, dest: usize, now: Timestamp) {
        let p = &mut self.parked[dest];
        if p.wake_scheduled.is_some_and(|w| w > now) {
            return; // a stale wake-up: a later one is scheduled
        }
        p.wake_scheduled = None;
        if p.until.is_some_and(|u| u > now) {
            self.schedule_destination(dest, now);
            return;
        }
        p.until = None;
        while let Some(i) = self.parked[dest].pop() {
            let i = i as usize;
            if !self.msgs[i].parked {
                continue; // it ended while parked (expired)
            }
            self.msgs[i].parked = false;
            if self.visit(i, now, true) {
                break;
            }
        }
    }

    fn schedule_destination(&mut self, dest: usize, now: Timestamp) {
        let p = &mut self.parked[dest];
        let at = p.until.unwrap_or(now).max(now + Duration::from_millis(1));
        if p.wake_scheduled.is_some_and(|w| w <= at) {
            return;
        }
        p.wake_scheduled = Some(at);
        let item = u32::try_from(self.msgs.len() + dest).unwrap_or(u32::MAX);
        let _ = self.queue.insert(item, at, 255);
    }

    /// Looks at message `i` at `now`: expiry and warnings, then an attempt if it is
    /// due and its destination lets it go. True when the destination held it back
    /// (it is parked, at the front of its class when `front`).
    fn visit(&mut self, i: usize, now: Timestamp, front: bool) -> bool {
        let policy = self.policy;
        let dest = self.msgs[i].dest as usize;
        let class = self.msgs[i].class;
        let Some(mut d) = self.msgs[i].delivery.take() else {
            return false;
        };
        let step = self.step_of(now);
        self.series.queue_depth[step] = self.series.queue_depth[step].max(self.live);
        d.handle_timeout(now, policy);
        // A parked message's own deadline (expiry, delay warnings) while it waits for
        // its destination: no attempt.
        let parked = self.msgs[i].parked;
        let mut held = false;
        if !parked && !d.is_finished() && d.is_due(now) {
            let key = self.scenario.destinations[dest].name.as_str();
            let mut permits = None;
            if let Some(reg) = self.registry.as_mut() {
                let waiting = &mut self.parked[dest];
                if waiting.until.is_some_and(|u| u > now) {
                    held = true;
                } else {
                    let retry = self.msgs[i].destination_failure;
                    let decision = match reg.acquire_connection(key, now) {
                        Decision::Go(conn) => match reg.acquire_message(key, now, retry) {
                            Decision::Go(mp) => {
                                permits = Some((conn, mp));
                                None
                            }
                            other => {
                                let _ = reg.release(conn, now, Report::Unused);
                                Some(other)
                            }
                        },
                        other => Some(other),
                    };
                    if let Some(other) = decision {
                        held = true;
                        waiting.until = Some(other.until().unwrap_or(now));
                    }
                }
            }
            if held {
                self.m.held += 1;
                self.msgs[i].parked = true;
                self.parked[dest].push(class, i as u32, front);
                self.schedule_destination(dest, now);
            } else {
                self.attempt(i, &mut d, dest, key, now, permits);
            }
        }
        self.drain(i, &mut d, dest, now);
        if d.is_finished() {
            // A parked one stays in its destination's list, skipped when it comes up.
            self.msgs[i].parked = false;
            self.live = self.live.saturating_sub(1);
            return held;
        }
        // Next: its retry time, or, while it waits for its destination, its next
        // deadline. No wake-up and not finished cannot happen with a valid policy;
        // such a message is counted as pending at the horizon.
        let waiting = held || parked;
        if let Some(t) = d.next_wakeup(policy).filter(|&t| !waiting || t > now) {
            self.schedule_msg(i, t);
        }
        self.msgs[i].delivery = Some(d);
        held
    }

    /// The series step of `t` (the last one for anything at or past the horizon).
    fn step_of(&self, t: Timestamp) -> usize {
        let s = since(t, START) / duration_millis(SERIES_STEP);
        let last = self.series.queue_depth.len().saturating_sub(1);
        usize::try_from(s).unwrap_or(usize::MAX).min(last)
    }

    fn schedule_msg(&mut self, i: usize, t: Timestamp) {
        if let Some(h) = self.msgs[i].wake.take() {
            let _ = self.queue.cancel(h);
        }
        let prio = self.msgs[i].class.priority();
        self.msgs[i].wake = self.queue.insert(i as u32, t, prio).ok();
    }

    fn attempt(
        &mut self,
        i: usize,
        d: &mut Delivery,
        dest: usize,
        key: &str,
        now: Timestamp,
        permits: Option<(crate::destination::Permit, crate::destination::Permit)>,
    ) {
        let policy = self.policy;
        let answer = self.servers[dest].answer(i as u32, since(now, START));
        let resp = self.responses.get(answer);
        let _ = d.start_attempt(now, Some(key));
        let o = &resp.outcome;
        let c = &o.classification;
        let _ = match o.reply {
            Some(_) => d.handle_outcome(now, policy, o),
            None => d.handle_transport_failure(now, policy, c, o.stage),
        };
        let transient = c.disposition == Disposition::Transient;
        self.msgs[i].destination_failure =
            transient && matches!(c.scope, Scope::Connection | Scope::Destination);
        count_attempt(&mut self.load[dest], &mut self.series, dest, now, transient);
        self.m.attempts += 1;
        if transient {
            self.m.wasted_attempts += 1;
        }
        if let (Some(reg), Some((conn, mp))) = (self.registry.as_mut(), permits) {
            if resp.at_connect {
                let _ = reg.release(mp, now, Report::Unused);
                let _ = reg.release(conn, now, Report::Failure(c));
            } else {
                let report = if answer.is_ok() {
                    Report::Success
                } else {
                    Report::Failure(c)
                };
                let _ = reg.release(mp, now, report);
                let _ = reg.release(conn, now, Report::Success);
            }
        }
    }

    fn drain(&mut self, i: usize, d: &mut Delivery, dest: usize, now: Timestamp) {
        while let Some(out) = d.poll_output() {
            match out {
                Output::Delivered { .. } => {
                    self.m.delivered += 1;
                    let msg = &self.msgs[i];
                    self.latencies[usize::from(msg.class == Class::Bulk)]
                        .push(since(now, msg.arrival));
                    let step = self.step_of(now);
                    self.series.delivered[step] += 1;
                }
                Output::Failed { reason, .. } => {
                    self.m.dsns += 1;
                    if reason == GiveUpReason::Lifetime {
                        self.m.expired += 1;
                    } else {
                        self.m.bounced += 1;
                    }
                }
                Output::DelayWarning { .. } => self.m.dsns += 1,
                Output::Destination(signal) => {
                    // The reply itself reached the registry with the permit; the
                    // policy's hold (hold_destination) is what the signal adds.
                    if let (Some(reg), true) = (
                        self.registry.as_mut(),
                        signal.hold_until.is_some() && self.policy_holds,
                    ) {
                        reg.observe_signal(self.scenario.destinations[dest].name.as_str(), &signal);
                    }
                }
                _ => {}
            }
        }
    }

    fn finish(mut self) -> Metrics {
        let mut m = self.m;
        let mut cumulative = 0;
        for d in &mut self.series.delivered {
            cumulative += *d;
            *d = cumulative;
        }
        for l in &mut self.latencies {
            l.sort_unstable();
        }
        m.latency_secs.time_sensitive = percentiles(&self.latencies[0]);
        m.latency_secs.bulk = percentiles(&self.latencies[1]);
        m.attempts_per_delivered = if m.delivered == 0 {
            0.0
        } else {
            round3(m.attempts as f64 / m.delivered as f64)
        };
        for (d, l) in self.scenario.destinations.iter().zip(&self.load) {
            let span_min = l.first.map_or(0, |f| l.last.saturating_sub(f) / 60_000 + 1);
            let peak = l.peak.max(l.in_minute);
            m.peak_attempts_per_min = m.peak_attempts_per_min.max(peak);
            m.destinations.push(DestinationMetrics {
                name: d.name.clone(),
                attempts: l.attempts,
                wasted_attempts: l.wasted,
                peak_attempts_per_min: peak,
                mean_attempts_per_min: if span_min == 0 {
                    0.0
                } else {
                    round3(l.attempts as f64 / span_min as f64)
                },
            });
        }
        m.series = self.series;
        m
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn count_attempt(l: &mut DestLoad, series: &mut Series, dest: usize, now: Timestamp, wasted: bool) {
    let t = since(now, START);
    let minute = t / 60_000;
    if minute != l.minute {
        l.peak = l.peak.max(l.in_minute);
        l.minute = minute;
        l.in_minute = 0;
    }
    l.in_minute = l.in_minute.saturating_add(1);
    l.attempts += 1;
    if wasted {
        l.wasted += 1;
    }
    l.first.get_or_insert(t);
    l.last = t;
    if let Some(per_min) = series.attempts_per_min.get_mut(dest) {
        if let Some(slot) = usize::try_from(minute)
            .ok()
            .and_then(|m| per_min.get_mut(m))
        {
            *slot = slot.saturating_add(1);
        }
    }
}

fn percentiles(sorted_ms: &[u64]) -> Percentiles {
    let n = sorted_ms.len();
    if n == 0 {
        return Percentiles::default();
    }
    // Nearest rank.
    let at = |q: usize| sorted_ms[(n * q).div_ceil(100).clamp(1, n) - 1] / 1000;
    Percentiles {
        delivered: n as u64,
        p50: at(50),
        p90: at(90),
        p99: at(99),
        max: sorted_ms[n - 1] / 1000,
    }
}

/// Every message, in arrival order.
fn arrivals(s: &Scenario, rng: &mut Rng) -> Vec<Msg> {
    let total = usize::try_from(s.messages()).unwrap_or(0);
    let mut out = Vec::with_capacity(total);
    for stream in &s.streams {
        let targets: Vec<(u32, u64)> = s
            .destinations
            .iter()
            .enumerate()
            .filter(|(_, d)| stream.to.is_empty() || stream.to.contains(&d.name))
            .map(|(i, d)| (i as u32, u64::from(d.share)))
            .collect();
        let weight: u64 = targets.iter().map(|t| t.1).sum();
        let start = duration_millis(stream.start);
        let over = duration_millis(stream.over).max(1);
        let n = stream.messages;
        for k in 0..n {
            // Evenly spread, each with a random offset within its slot.
            let slot_start = u128::from(over) * u128::from(k) / u128::from(n);
            let slot_end = u128::from(over) * u128::from(k + 1) / u128::from(n);
            let width = u64::try_from(slot_end - slot_start).unwrap_or(0);
            let offset = u64::try_from(slot_start).unwrap_or(0) + rng.below(width.max(1));
            let mut pick = rng.below(weight.max(1));
            let mut dest = targets.first().map_or(0, |t| t.0);
            for &(i, w) in &targets {
                if pick < w {
                    dest = i;
                    break;
                }
                pick -= w;
            }
            out.push(Msg {
                arrival: START + Duration::from_millis(start.saturating_add(offset)),
                dest,
                class: stream.class,
                destination_failure: false,
                parked: false,
                wake: None,
                delivery: None,
            });
        }
    }
    // Stable: equal times keep stream order, so the result does not depend on the sort.
    out.sort_by_key(|m| m.arrival);
    out
}
