//! Destination health: how hard may we push this destination right now?
//!
//! A [`Registry`] keeps one small record per destination (the key is yours: a
//! recipient domain, an MX host, an `(our IP, their MX)` pair, a provider). Before
//! opening a connection or starting a message, ask it; it answers
//! [`Decision::Go`] with a [`Permit`] to return when done, [`Decision::Wait`] until a
//! time (concurrency full, pacing, warm-up, retry budget, a probe out),
//! [`Decision::Suspended`] until a time (a server's retry hint, a suspension rule),
//! or [`Decision::Dead`] until a time (connection failures; then one probe decides).
//! Every answer that is not `Go` says why. Feed it what happened: return each permit
//! with a [`Report`], and give it the classifications the session and the delivery
//! machine produce ([`Registry::observe`], [`Registry::observe_signal`]).
//!
//! - **Dead destinations** (Postfix's qmgr): each connection failure adds `1/window`
//!   to the failure cohorts; at the cohort limit (1) the destination is dead for
//!   `probe_initial`, then half-open: exactly one probe connection is allowed, whose
//!   success reopens it and whose failure closes it again for twice as long (up to
//!   `probe_max`). With Postfix's defaults a fresh destination dies at the third
//!   connection failure in a row, its window going 5 → 3 → 2.
//! - **Adaptive concurrency**: successes raise the window (`+1/window` each),
//!   failures lower it ([`Feedback::Postfix`] or [`Feedback::Aimd`]); a
//!   `too_many_connections` reply lowers a ceiling to the connections in flight
//!   minus one at once, relearned one step per `ceiling_recovery`.
//! - **Pacing** (GCRA, exact, no ticking): optional message and connection rates; a
//!   `rate_limited` reply (destination scope) cuts the message rate (×0.5; learned
//!   from the traffic when none is set), which climbs back linearly over
//!   `rate_recovery`; a destination-scope reply's retry hint suspends the
//!   destination until then. A [`Warmup`] caps messages per hour or day.
//! - **Suspension rules** ([`SuspensionRule`]): `N` matching classifications within a
//!   sliding window suspend the destination or set its rate for a while.
//! - **Retry budget** ([`RetryBudget`]): retries at most 20 % of first attempts over a
//!   sliding window (at least 3), so a failing destination never gets a retry storm.
//!
//! Pure and sans-io: `now` is always an argument, nothing is random, and a
//! [`Registry`] restored from its [`snapshot`](Registry::snapshot) decides exactly as
//! the original. Memory is bounded: a permit not returned expires after the lease,
//! a destination with nothing to remember is forgotten after `forget_after` (swept
//! a little at a time as the registry is used), and one destination's record takes
//! well under 256 bytes (see BENCHMARKS.md).
//!
//! ```
//! use std::time::Duration;
//! use tempfail::destination::{Decision, HealthConfig, Registry, Report};
//! use tempfail::{Classifier, Stage, Timestamp, TransportFailure};
//!
//! let mut reg = Registry::new(HealthConfig::postfix()).unwrap();
//! let t0 = Timestamp::from_secs(1_700_000_000);
//! let refused = Classifier::builtin().classify_failure(TransportFailure::ConnectionRefused, Stage::Connect);
//! // Three refused connections in a row: the destination is dead for 300 s.
//! for _ in 0..3 {
//!     let Decision::Go(p) = reg.acquire_connection("example.com", t0) else { panic!() };
//!     reg.release(p, t0, Report::Failure(&refused)).unwrap();
//! }
//! match reg.acquire_connection("example.com", t0) {
//!     Decision::Dead { until, cause } => {
//!         assert_eq!(until, t0 + Duration::from_secs(300));
//!         assert_eq!(cause.classification_rule, "transport.connection_refused");
//!     }
//!     other => panic!("{other:?}"),
//! }
//! // After 300 s exactly one probe may go; its success reopens the destination.
//! let t1 = t0 + Duration::from_secs(300);
//! let Decision::Go(probe) = reg.acquire_connection("example.com", t1) else { panic!() };
//! assert!(probe.is_probe());
//! assert!(matches!(reg.acquire_connection("example.com", t1), Decision::Wait { .. }));
//! reg.release(probe, t1, Report::Success).unwrap();
//! assert!(matches!(reg.acquire_connection("example.com", t1), Decision::Go(_)));
//! ```

mod config;
mod state;

use core::fmt;
use core::hash::{BuildHasher, Hash};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::RandomState;

pub use config::{
    ConfigError, Feedback, HealthConfig, Rate, RetryBudget, RuleAction, SuspensionRule, Warmup,
    WarmupPeriod,
};
use state::{Ask, Dest, No, Phase};

use crate::Timestamp;
use crate::classify::{Category, Classification};
use crate::delivery::DestinationSignal;
#[cfg(feature = "serde")]
use crate::persist::{FormatVersion, Persisted};

/// What a permit is for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum PermitKind {
    /// A connection: counts against the concurrency window.
    Connection,
    /// A message (transaction): counts against the message rate, the warm-up and
    /// the retry budget.
    Message,
}

/// Leave to open a connection or start a message; return it with
/// [`Registry::release`]. A permit not returned is void after the configured lease,
/// and then refused.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[must_use = "a permit holds a slot until it is released or expires"]
pub struct Permit {
    slot: u32,
    dest: u32,
    lease: u32,
    kind: PermitKind,
    probe: bool,
    expires: Timestamp,
}

impl Permit {
    /// What it is for.
    pub fn kind(&self) -> PermitKind {
        self.kind
    }

    /// Whether this connection is the one probe of a half-open destination: its
    /// outcome decides whether the destination reopens.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// When it becomes void if not returned.
    pub fn expires(&self) -> Timestamp {
        self.expires
    }
}

/// Why a request must wait.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum WaitReason {
    /// As many connections as the window (or the `too_many_connections` ceiling)
    /// allows are open; a released permit frees a slot before `until` (the
    /// earliest lease expiry).
    Concurrency {
        /// Connections open.
        in_flight: u32,
        /// The current limit.
        limit: u32,
    },
    /// The message rate (configured, cut after `rate_limited`, or set by a rule).
    MessageRate {
        /// The rate in force, in thousandths of a message per minute.
        per_minute_milli: u64,
    },
    /// The connection rate.
    ConnectionRate {
        /// The rate, in thousandths of a connection per minute.
        per_minute_milli: u64,
    },
    /// This warm-up period's cap is used up.
    WarmUp {
        /// The period's cap.
        cap: u64,
    },
    /// Retries would exceed the retry budget.
    RetryBudget {
        /// Retries started in the window.
        retries: u32,
        /// Retries the window allows.
        allowed: u32,
    },
    /// The destination is half-open and its one probe is out.
    Probing,
    /// Too many message permits are out and not returned.
    PermitsOutstanding,
}

impl WaitReason {
    /// The snake_case name (`concurrency`, `message_rate`, …).
    pub fn name(&self) -> &'static str {
        match self {
            WaitReason::Concurrency { .. } => "concurrency",
            WaitReason::MessageRate { .. } => "message_rate",
            WaitReason::ConnectionRate { .. } => "connection_rate",
            WaitReason::WarmUp { .. } => "warm_up",
            WaitReason::RetryBudget { .. } => "retry_budget",
            WaitReason::Probing => "probing",
            WaitReason::PermitsOutstanding => "permits_outstanding",
        }
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WaitReason::Concurrency { in_flight, limit } => {
                write!(f, "concurrency: {in_flight} of {limit} connections open")
            }
            WaitReason::MessageRate { per_minute_milli } => write!(
                f,
                "message_rate: {:.3} per minute",
                per_minute_milli as f64 / 1000.0
            ),
            WaitReason::ConnectionRate { per_minute_milli } => write!(
                f,
                "connection_rate: {:.3} per minute",
                per_minute_milli as f64 / 1000.0
            ),
            WaitReason::WarmUp { cap } => write!(f, "warm_up: {cap} messages this period"),
            WaitReason::RetryBudget { retries, allowed } => {
                write!(f, "retry_budget: {retries} of {allowed} retries used")
            }
            WaitReason::Probing => f.write_str("probing: the one probe connection is out"),
            WaitReason::PermitsOutstanding => {
                f.write_str("permits_outstanding: too many message permits not returned")
            }
        }
    }
}

/// What closed or suspended a destination.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Cause {
    /// What decided: `connection_failures`, `retry_hint`, or a suspension rule's id.
    pub rule: String,
    /// The category of the classification that tipped it.
    pub category: Option<Category>,
    /// That classification's rule (`transport.connection_refused`, …).
    pub classification_rule: String,
    /// How many classifications it took (a rule's threshold; 1 otherwise).
    pub count: u32,
}

impl Cause {
    fn unknown() -> Cause {
        Cause {
            rule: "unknown".into(),
            category: None,
            classification_rule: String::new(),
            count: 0,
        }
    }

    fn from_classification(c: &Classification) -> Cause {
        Cause {
            rule: if c.retry_after.is_some() {
                "retry_hint".into()
            } else {
                "connection_failures".into()
            },
            category: c.category,
            classification_rule: c.rule.to_string(),
            count: 1,
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rule)?;
        if let Some(c) = self.category {
            write!(f, " ({c}")?;
            if !self.classification_rule.is_empty() {
                write!(f, ", {}", self.classification_rule)?;
            }
            f.write_str(")")?;
        }
        if self.count > 1 {
            write!(f, " x{}", self.count)?;
        }
        Ok(())
    }
}

/// The answer to a request.
#[derive(Clone, PartialEq, Eq, Debug)]
#[must_use]
pub enum Decision {
    /// Go ahead; return the permit when done.
    Go(Permit),
    /// Not now: ask again at `until` (or when a permit is returned).
    Wait {
        /// When to ask again.
        until: Timestamp,
        /// Why.
        reason: WaitReason,
    },
    /// The destination is suspended until then.
    Suspended {
        /// Until when.
        until: Timestamp,
        /// Why.
        cause: Cause,
    },
    /// The destination is dead until then; then one probe connection decides.
    Dead {
        /// Until when.
        until: Timestamp,
        /// Why.
        cause: Cause,
    },
}

impl Decision {
    /// The snake_case name: `go`, `wait`, `suspended`, `dead`.
    pub fn name(&self) -> &'static str {
        match self {
            Decision::Go(_) => "go",
            Decision::Wait { .. } => "wait",
            Decision::Suspended { .. } => "suspended",
            Decision::Dead { .. } => "dead",
        }
    }

    /// When to ask again (`None` for `Go`).
    pub fn until(&self) -> Option<Timestamp> {
        match self {
            Decision::Go(_) => None,
            Decision::Wait { until, .. }
            | Decision::Suspended { until, .. }
            | Decision::Dead { until, .. } => Some(*until),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Go(p) => write!(
                f,
                "go ({}{})",
                match p.kind {
                    PermitKind::Connection => "connection",
                    PermitKind::Message => "message",
                },
                if p.probe { ", probe" } else { "" }
            ),
            Decision::Wait { until, reason } => write!(f, "wait until {until}: {reason}"),
            Decision::Suspended { until, cause } => write!(f, "suspended until {until}: {cause}"),
            Decision::Dead { until, cause } => write!(f, "dead until {until}: {cause}"),
        }
    }
}

/// What became of a permit.
#[derive(Clone, Copy, Debug)]
pub enum Report<'a> {
    /// Connection: the server answered and the handshake succeeded (whatever became
    /// of the messages). Message: accepted.
    Success,
    /// Connection: the connection or its handshake failed so. Message: refused or
    /// deferred so (the classification of its reply).
    Failure(&'a Classification),
    /// Not used: the slot is returned, nothing is learned.
    Unused,
}

/// A permit that cannot be returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PermitError {
    /// Already returned, expired (its slot was given back), or from a destination the
    /// registry has since forgotten.
    #[error("stale permit: already returned, expired, or its destination was forgotten")]
    Stale,
}

/// One destination's state, for monitoring.
#[derive(Clone, PartialEq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stats {
    /// `open`, `dead` or `half_open`.
    pub state: &'static str,
    /// The concurrency window.
    pub window: u32,
    /// The `too_many_connections` ceiling now.
    pub ceiling: u32,
    /// Connections open (permits out).
    pub in_flight: u32,
    /// Message permits out.
    pub messages_in_flight: u32,
    /// Failure cohorts so far (the destination dies at the cohort limit).
    pub fail_cohorts: f64,
    /// Dead until, if dead.
    pub dead_until: Option<Timestamp>,
    /// Suspended until, if suspended.
    pub suspended_until: Option<Timestamp>,
    /// Why it is dead or suspended.
    pub cause: Option<Cause>,
    /// The message rate in force, messages per minute.
    pub message_rate_per_minute: Option<f64>,
    /// First attempts and retries in the retry budget's window.
    pub first_attempts_in_window: u32,
    /// Retries in the retry budget's window.
    pub retries_in_window: u32,
}

/// Destinations by key, with bounded memory. See the [module docs](self).
///
/// Each destination is one slot of a slab (its key stored once), found through an
/// index from the key's hash to its slot; a permit names its slot, so returning one
/// does not look the key up again. Destinations with nothing to remember are swept a
/// few slots per call, so no call pays for the whole registry.
#[derive(Clone)]
pub struct Registry<K, S = RandomState> {
    cfg: HealthConfig,
    hasher: S,
    slots: Vec<Option<Entry<K>>>,
    /// Key hash → the first slot with that hash (further ones chained in `next`).
    index: HashMap<u64, u32, BuildHashed>,
    free: Vec<u32>,
    len: usize,
    next_uid: u32,
    /// The next slot the sweep looks at.
    cursor: u32,
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
struct Entry<K> {
    key: K,
    dest: Dest,
    #[cfg_attr(feature = "serde", serde(skip))]
    hash: u64,
    /// The next slot whose key has the same hash (`u32::MAX`: none).
    #[cfg_attr(feature = "serde", serde(skip, default = "no_slot"))]
    next: u32,
}

#[cfg(feature = "serde")]
fn no_slot() -> u32 {
    u32::MAX
}

/// The index's keys are already hashes (with the registry's keyed hasher): they are
/// used as they are.
#[derive(Clone, Copy, Default, Debug)]
struct BuildHashed;

#[derive(Default)]
struct Hashed(u64);

impl core::hash::Hasher for Hashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl BuildHasher for BuildHashed {
    type Hasher = Hashed;
    fn build_hasher(&self) -> Hashed {
        Hashed(0)
    }
}

/// Slots the sweep looks at per request.
const SWEEP_PER_CALL: u32 = 1;

impl<K: fmt::Debug, S> fmt::Debug for Registry<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("destinations", &self.len)
            .field("config", &self.cfg)
            .finish()
    }
}

impl<K: Hash + Eq> Registry<K, RandomState> {
    /// An empty registry; refuses a configuration [`HealthConfig::validate`] refuses.
    pub fn new(cfg: HealthConfig) -> Result<Self, ConfigError> {
        Registry::with_hasher(cfg, RandomState::new())
    }
}

impl<K: Hash + Eq, S: BuildHasher> Registry<K, S> {
    /// An empty registry with this hasher (keyed: destinations are chosen by
    /// strangers, so the default hasher's random keys matter).
    pub fn with_hasher(cfg: HealthConfig, hasher: S) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Registry {
            cfg,
            hasher,
            slots: Vec::new(),
            index: HashMap::with_hasher(BuildHashed),
            free: Vec::new(),
            len: 0,
            next_uid: 0,
            cursor: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HealthConfig {
        &self.cfg
    }

    /// Destinations tracked now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no destination is tracked.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn find<Q>(&self, key: &Q, hash: u64) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let mut at = *self.index.get(&hash)?;
        while let Some(Some(e)) = self.slots.get(at as usize) {
            if e.hash == hash && e.key.borrow() == key {
                return Some(at);
            }
            at = e.next;
        }
        None
    }

    /// The slot of `key`'s destination, created if new.
    fn slot<Q>(&mut self, key: &Q, now: Timestamp) -> u32
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        if let Some(at) = self.find(key, hash) {
            return at;
        }
        self.next_uid = self.next_uid.wrapping_add(1);
        let next = self.index.get(&hash).copied().unwrap_or(u32::MAX);
        let entry = Entry {
            key: key.to_owned(),
            dest: Dest::new(self.next_uid, &self.cfg, now),
            hash,
            next,
        };
        let at = match self.free.pop() {
            Some(at) => {
                self.slots[at as usize] = Some(entry);
                at
            }
            None => {
                self.slots.push(Some(entry));
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.index.insert(hash, at);
        self.len += 1;
        at
    }

    fn dest_mut(&mut self, at: u32) -> Option<&mut Dest> {
        self.slots
            .get_mut(at as usize)?
            .as_mut()
            .map(|e| &mut e.dest)
    }

    /// May we open a connection to `key` at `now`?
    pub fn acquire_connection<Q>(&mut self, key: &Q, now: Timestamp) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.acquire(
            key,
            now,
            Ask {
                kind: PermitKind::Connection,
                retry: false,
            },
        )
    }

    /// May we start a message to `key` at `now`? `retry` is whether this message was
    /// attempted before (retries count against the retry budget).
    pub fn acquire_message<Q>(&mut self, key: &Q, now: Timestamp, retry: bool) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.acquire(
            key,
            now,
            Ask {
                kind: PermitKind::Message,
                retry,
            },
        )
    }

    fn acquire<Q>(&mut self, key: &Q, now: Timestamp, ask: Ask) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.sweep(now);
        let at = self.slot(key, now);
        let Some(Some(e)) = self.slots.get_mut(at as usize) else {
            // `slot` just made it.
            return Decision::Wait {
                until: now,
                reason: WaitReason::PermitsOutstanding,
            };
        };
        let cfg = &self.cfg;
        let d = &mut e.dest;
        d.tick(now);
        match d.check(cfg, now, ask) {
            Ok(()) => {
                let lease = d.grant(cfg, now, ask);
                Decision::Go(Permit {
                    slot: at,
                    dest: d.uid,
                    lease: lease.id,
                    kind: lease.kind,
                    probe: lease.probe,
                    expires: lease.expires,
                })
            }
            Err(No::Wait(until, reason)) => Decision::Wait {
                until: until.max(now),
                reason,
            },
            Err(No::Suspended(until, cause)) => Decision::Suspended { until, cause },
            Err(No::Dead(until, cause)) => Decision::Dead { until, cause },
        }
    }

    /// Returns a permit with what became of it. A stale permit (returned before,
    /// expired, or from a forgotten destination) is refused and changes nothing.
    pub fn release(
        &mut self,
        permit: Permit,
        now: Timestamp,
        report: Report<'_>,
    ) -> Result<(), PermitError> {
        let cfg = &self.cfg;
        let Some(Some(e)) = self.slots.get_mut(permit.slot as usize) else {
            return Err(PermitError::Stale);
        };
        let d = &mut e.dest;
        if d.uid != permit.dest {
            return Err(PermitError::Stale);
        }
        d.tick(now);
        let in_flight = d.connections();
        let lease = d.leases.take(permit.lease).ok_or(PermitError::Stale)?;
        match (lease.kind, report) {
            (_, Report::Unused) => {}
            (PermitKind::Connection, Report::Success) => d.connection_succeeded(cfg, lease.probe),
            (PermitKind::Connection, Report::Failure(c)) => {
                if state::is_connection_failure(c) {
                    d.connection_failed(cfg, now, c, lease.probe);
                } else {
                    if lease.probe {
                        // The server answered: the destination is up.
                        d.connection_succeeded(cfg, true);
                    }
                    d.observe(cfg, now, c, in_flight, None);
                }
            }
            (PermitKind::Message, Report::Success) => d.message_accepted(),
            (PermitKind::Message, Report::Failure(c)) => {
                let granted_at = lease.expires.saturating_sub(cfg.lease);
                d.observe(cfg, now, c, in_flight, Some(granted_at));
            }
        }
        Ok(())
    }

    /// Tells the registry about a classification concerning `key` (any reply or
    /// transport failure): `rate_limited` cuts the rate, `too_many_connections`
    /// lowers the ceiling, a destination-scope retry hint suspends, suspension rules
    /// count it. Connection failures should come through [`Registry::release`] of
    /// the connection's permit instead (they count towards a dead destination).
    pub fn observe<Q>(&mut self, key: &Q, now: Timestamp, c: &Classification)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if c.disposition == crate::Disposition::Success {
            return;
        }
        let at = self.slot(key, now);
        let cfg = &self.cfg;
        if let Some(Some(e)) = self.slots.get_mut(at as usize) {
            let d = &mut e.dest;
            d.tick(now);
            let in_flight = d.connections();
            d.observe(cfg, now, c, in_flight, None);
        }
    }

    /// A delivery's [`Output::Destination`](crate::delivery::Output::Destination)
    /// signal, as is: its classification is observed at its time, and its
    /// `hold_until` suspends the destination until then.
    pub fn observe_signal<Q>(&mut self, key: &Q, signal: &DestinationSignal)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.observe(key, signal.at, &signal.classification);
        if let Some(hold) = signal.hold_until {
            let at = self.slot(key, signal.at);
            if let Some(d) = self.dest_mut(at) {
                if hold > d.suspended_until {
                    d.suspended_until = hold;
                    let e = d.extra.get_or_insert_with(Box::default);
                    let mut cause = Cause::from_classification(&signal.classification);
                    cause.rule = "policy_hold".into();
                    e.cause = Some(cause);
                }
            }
        }
    }

    /// The destination's state at `now`, if it is tracked.
    #[must_use]
    pub fn stats<Q>(&self, key: &Q, now: Timestamp) -> Option<Stats>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let at = self.find(key, self.hasher.hash_one(key))?;
        let d = &self.slots.get(at as usize)?.as_ref()?.dest;
        Some(stats(&self.cfg, d, now))
    }

    /// Forgets every destination with nothing to remember (no permit out, not dead,
    /// suspended or slowed, unused for `forget_after`). The registry also does this
    /// by itself, one slot per request, so a registry of `n` destinations is swept
    /// every `n` requests.
    pub fn forget_idle(&mut self, now: Timestamp) -> usize {
        let before = self.len;
        for at in 0..u32::try_from(self.slots.len()).unwrap_or(u32::MAX) {
            self.forget_if_idle(at, now);
        }
        before - self.len
    }

    fn sweep(&mut self, now: Timestamp) {
        let n = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        if n == 0 {
            return;
        }
        for _ in 0..SWEEP_PER_CALL {
            if self.cursor >= n {
                self.cursor = 0;
            }
            let at = self.cursor;
            self.cursor += 1;
            self.forget_if_idle(at, now);
        }
    }

    fn forget_if_idle(&mut self, at: u32, now: Timestamp) {
        let idle = match self.slots.get_mut(at as usize) {
            Some(Some(e)) => {
                e.dest.tick_leases(now);
                e.dest.forgettable(&self.cfg, now)
            }
            _ => false,
        };
        if !idle {
            return;
        }
        let Some(e) = self.slots.get_mut(at as usize).and_then(Option::take) else {
            return;
        };
        // Unlink the slot from its hash chain.
        if self.index.get(&e.hash) == Some(&at) {
            if e.next == u32::MAX {
                self.index.remove(&e.hash);
            } else {
                self.index.insert(e.hash, e.next);
            }
        } else {
            let mut p = self.index.get(&e.hash).copied().unwrap_or(u32::MAX);
            while let Some(Some(pe)) = self.slots.get_mut(p as usize) {
                if pe.next == at {
                    pe.next = e.next;
                    break;
                }
                p = pe.next;
            }
        }
        self.free.push(at);
        self.len -= 1;
    }
}

fn stats(cfg: &HealthConfig, d: &Dest, now: Timestamp) -> Stats {
    let live = |l: &&state::Lease| l.expires > now;
    let conns = d
        .leases
        .iter()
        .filter(live)
        .filter(|l| l.kind == PermitKind::Connection)
        .count();
    let msgs = d.leases.iter().filter(live).count() - conns;
    let phase = match d.phase {
        Phase::Dead if now >= d.dead_until => Phase::HalfOpen,
        p => p,
    };
    let (firsts, retries) = match &cfg.retry_budget {
        Some(b) => {
            let q = (u64::try_from(b.window.as_millis()).unwrap_or(u64::MAX) / 4).max(1);
            let mut budget = d.budget;
            budget.advance(now.as_millis() / q);
            budget.sums()
        }
        None => (0, 0),
    };
    Stats {
        state: match phase {
            Phase::Open => "open",
            Phase::Dead => "dead",
            Phase::HalfOpen => "half_open",
        },
        window: u32::from(d.window),
        ceiling: u32::from(d.ceiling_at(cfg, now)),
        in_flight: u32::try_from(conns).unwrap_or(u32::MAX),
        messages_in_flight: u32::try_from(msgs).unwrap_or(u32::MAX),
        fail_cohorts: f64::from(d.fail_cohorts) / state::UNIT as f64,
        dead_until: (phase == Phase::Dead).then_some(d.dead_until),
        suspended_until: (now < d.suspended_until).then_some(d.suspended_until),
        cause: if phase == Phase::Dead || now < d.suspended_until {
            d.extra.as_ref().and_then(|e| e.cause.clone())
        } else {
            None
        },
        message_rate_per_minute: d.message_rate(cfg, now).map(|(mpm, _)| mpm as f64 / 1000.0),
        first_attempts_in_window: firsts,
        retries_in_window: retries,
    }
}

/// A registry's persisted form (feature `serde`): every destination's state in its
/// slot, so that a restored registry decides exactly as the original and the permits
/// out stay valid. The configuration is kept by the caller and given back to
/// [`Registry::restore`].
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RegistrySnapshot<K> {
    #[cfg(feature = "serde")]
    #[serde(rename = "format_version", alias = "version", alias = "v")]
    format_version: FormatVersion<RegistrySnapshot<()>>,
    next_uid: u32,
    cursor: u32,
    slots: Vec<Option<Entry<K>>>,
    free: Vec<u32>,
}

#[cfg(feature = "serde")]
impl<K> Persisted for RegistrySnapshot<K> {
    const KIND: &'static str = "destination registry";
    const FORMAT_VERSION: u32 = 1;
}

impl<K: Hash + Eq + Clone, S: BuildHasher + Default> Registry<K, S> {
    /// Every destination's state, for [`Registry::restore`].
    #[must_use]
    pub fn snapshot(&self) -> RegistrySnapshot<K> {
        RegistrySnapshot {
            #[cfg(feature = "serde")]
            format_version: FormatVersion::current(),
            next_uid: self.next_uid,
            cursor: self.cursor,
            slots: self.slots.clone(),
            free: self.free.clone(),
        }
    }

    /// A registry from a snapshot and the configuration it ran with.
    pub fn restore(cfg: HealthConfig, snapshot: RegistrySnapshot<K>) -> Result<Self, ConfigError> {
        let mut r = Registry::with_hasher(cfg, S::default())?;
        r.next_uid = snapshot.next_uid;
        r.cursor = snapshot.cursor;
        r.slots = snapshot.slots;
        for (at, slot) in r.slots.iter_mut().enumerate() {
            let at = u32::try_from(at).unwrap_or(u32::MAX);
            if let Some(e) = slot {
                // The hasher's keys are new: hash again and chain.
                e.hash = r.hasher.hash_one(&e.key);
                e.next = r.index.get(&e.hash).copied().unwrap_or(u32::MAX);
                r.index.insert(e.hash, at);
                r.len += 1;
            }
        }
        // The free slots in the order they will be reused; a snapshot that names a
        // slot in use, or misses a free one, is mended.
        let mut seen = vec![false; r.slots.len()];
        for at in snapshot.free {
            if let (Some(None), Some(s)) = (r.slots.get(at as usize), seen.get_mut(at as usize)) {
                if !*s {
                    *s = true;
                    r.free.push(at);
                }
            }
        }
        let missing: Vec<u32> = (0..r.slots.len())
            .filter(|&i| r.slots[i].is_none() && !seen[i])
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        r.free.splice(0..0, missing);
        Ok(r)
    }
}
