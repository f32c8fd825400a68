//! What a policy decides: the verdict on one failure, and how it is reached.

use super::*;

// ---------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------

/// Why a recipient's retries end: the policy's reason, which the delivery machine
/// keeps as the recipient's terminal reason as is (one vocabulary for the verdict,
/// from [`RetryDecision::GiveUp`] to `delivery::RcptStatus::Failed` and the
/// notices).
///
/// Names ([`GiveUpReason::name`], `Display`, serde) are snake_case. With the
/// `serde` feature a reason without a category is a string and a reason with one
/// is a one-key map from the reason to the category:
///
/// | reason | JSON | TOML |
/// |---|---|---|
/// | `Permanent` | `"permanent"` | `reason = "permanent"` |
/// | `NeverRetried(UserUnknown)` | `{"never_retried": "user_unknown"}` | `reason = { never_retried = "user_unknown" }` |
/// | `ScheduleExhausted` | `"schedule_exhausted"` | `reason = "schedule_exhausted"` |
/// | `CategoryLimit(MailboxFull)` | `{"category_limit": "mailbox_full"}` | `reason = { category_limit = "mailbox_full" }` |
/// | `Lifetime` | `"lifetime"` | `reason = "lifetime"` |
///
/// A bare `"never_retried"` or `"category_limit"` (written before the reason
/// carried its category) still loads, with the category [`Category::Other`].
///
/// ```
/// use tempfail::Category;
/// use tempfail::policy::GiveUpReason;
/// let r = GiveUpReason::NeverRetried(Category::UserUnknown);
/// assert_eq!(r.name(), "never_retried");
/// assert_eq!(r.category(), Some(Category::UserUnknown));
/// assert_eq!(r.to_string(), "never_retried (user_unknown)");
/// # #[cfg(feature = "serde")]
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"never_retried":"user_unknown"}"#);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum GiveUpReason {
    /// A permanent reply or failure.
    Permanent,
    /// A transient failure of a category the policy never retries
    /// ([`CategoryRule::never_retry`], e.g. `user_unknown`).
    NeverRetried(Category),
    /// The backoff's schedule ran out (Exim's last cutoff passed, Haraka's list ended).
    ScheduleExhausted,
    /// The category's own time limit passed ([`CategoryRule::give_up_after`]).
    CategoryLimit(Category),
    /// The message's lifetime ended it.
    Lifetime,
}

/// What ended the retries: the lifetime or a rule.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EndedBy {
    /// The message lifetime.
    Lifetime,
    /// A schedule or category rule.
    Rule,
}

impl EndedBy {
    /// `lifetime` or `rule`.
    pub const fn name(self) -> &'static str {
        match self {
            EndedBy::Lifetime => "lifetime",
            EndedBy::Rule => "rule",
        }
    }
}

impl GiveUpReason {
    /// Whether the lifetime or a rule ended it.
    pub const fn ended_by(self) -> EndedBy {
        match self {
            GiveUpReason::Lifetime => EndedBy::Lifetime,
            _ => EndedBy::Rule,
        }
    }

    /// The snake_case name (`permanent`, `never_retried`, `schedule_exhausted`,
    /// `category_limit`, `lifetime`), without the category.
    pub const fn name(self) -> &'static str {
        match self {
            GiveUpReason::Permanent => "permanent",
            GiveUpReason::NeverRetried(_) => "never_retried",
            GiveUpReason::ScheduleExhausted => "schedule_exhausted",
            GiveUpReason::CategoryLimit(_) => "category_limit",
            GiveUpReason::Lifetime => "lifetime",
        }
    }

    /// The category the reason is about (`never_retried`, `category_limit`).
    pub const fn category(self) -> Option<Category> {
        match self {
            GiveUpReason::NeverRetried(c) | GiveUpReason::CategoryLimit(c) => Some(c),
            _ => None,
        }
    }
}

/// The snake_case name, and the category in parentheses when there is one:
/// `permanent`, `never_retried (user_unknown)`.
impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self.category() {
            Some(c) => write!(f, " ({c})"),
            None => Ok(()),
        }
    }
}

/// Reads the forms in the type's docs, and a bare `"never_retried"` or
/// `"category_limit"` from earlier builds (category [`Category::Other`]).
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for GiveUpReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, Unexpected, Visitor};
        const NAMES: &[&str] = &[
            "permanent",
            "never_retried",
            "schedule_exhausted",
            "category_limit",
            "lifetime",
        ];
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GiveUpReason;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a give-up reason: \"permanent\", \"schedule_exhausted\", \"lifetime\", \
                     {\"never_retried\": CATEGORY} or {\"category_limit\": CATEGORY}",
                )
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<GiveUpReason, E> {
                match v {
                    "permanent" => Ok(GiveUpReason::Permanent),
                    "schedule_exhausted" => Ok(GiveUpReason::ScheduleExhausted),
                    "lifetime" => Ok(GiveUpReason::Lifetime),
                    "never_retried" => Ok(GiveUpReason::NeverRetried(Category::Other)),
                    "category_limit" => Ok(GiveUpReason::CategoryLimit(Category::Other)),
                    other => Err(E::unknown_variant(other, NAMES)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<GiveUpReason, A::Error> {
                let Some(key) = m.next_key::<std::borrow::Cow<'de, str>>()? else {
                    return Err(A::Error::invalid_value(Unexpected::Map, &self));
                };
                let r = match &*key {
                    "never_retried" => GiveUpReason::NeverRetried(m.next_value()?),
                    "category_limit" => GiveUpReason::CategoryLimit(m.next_value()?),
                    "permanent" | "schedule_exhausted" | "lifetime" => {
                        return Err(A::Error::custom(format_args!(
                            "the give-up reason {key:?} carries no category: write it as the string \"{key}\""
                        )));
                    }
                    other => return Err(A::Error::unknown_variant(other, NAMES)),
                };
                match m.next_key::<std::borrow::Cow<'de, str>>()? {
                    None => Ok(r),
                    Some(extra) => Err(A::Error::custom(format_args!(
                        "a give-up reason is a map with one key, found another: {extra:?}"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The verdict on one failure.
///
/// With the `serde` feature it is externally tagged in snake_case:
/// `{"retry": {"at": …, "counted": true, "hold_destination": null, "delay_warning": null}}`,
/// `{"give_up": {"at": …, "reason": "permanent"}}` (the reason as in
/// [`GiveUpReason`]), `"delivered"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Try again at `at`.
    Retry {
        /// When.
        at: Timestamp,
        /// Whether this deferral counted as a failed attempt (a rate limit may not).
        counted: bool,
        /// Hold every message to this destination until this time (rate limiting,
        /// too many connections, on a destination-scope classification).
        hold_destination: Option<Timestamp>,
        /// Send delay warning number `k` (1-based) now. Warnings are only surfaced
        /// with a retry: when the same failure gives up, the bounce supersedes them.
        delay_warning: Option<u32>,
    },
    /// No more attempts: the recipient fails at `at` (now for a permanent failure,
    /// a category never retried or a rule that ran out; the expiry instant under
    /// [`LifetimeMode::Exact`], which may be later than now).
    GiveUp {
        /// When the recipient fails.
        at: Timestamp,
        /// Why.
        reason: GiveUpReason,
    },
    /// The classification was a success: there is nothing to retry.
    Delivered,
}

impl RetryDecision {
    /// The retry time, if retrying.
    #[must_use]
    pub fn retry_at(&self) -> Option<Timestamp> {
        match *self {
            RetryDecision::Retry { at, .. } => Some(at),
            _ => None,
        }
    }

    /// The give-up time, if giving up.
    #[must_use]
    pub fn give_up_at(&self) -> Option<Timestamp> {
        match *self {
            RetryDecision::GiveUp { at, .. } => Some(at),
            _ => None,
        }
    }

    /// The give-up reason, if giving up.
    #[must_use]
    pub fn give_up_reason(&self) -> Option<GiveUpReason> {
        match *self {
            RetryDecision::GiveUp { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// `retry`, `give_up` or `delivered`.
    pub const fn name(&self) -> &'static str {
        match self {
            RetryDecision::Retry { .. } => "retry",
            RetryDecision::GiveUp { .. } => "give_up",
            RetryDecision::Delivered => "delivered",
        }
    }

    /// Records this decision, taken for the failure at `now`, in `state`.
    pub fn record(&self, state: &mut RetryState, now: Timestamp) {
        let now = state.clamp_now(now);
        match *self {
            RetryDecision::Retry {
                at,
                counted,
                delay_warning,
                ..
            } => {
                if counted {
                    state.record_failure(now, Some(at.saturating_duration_since(now)));
                } else {
                    state.record_uncounted();
                }
                if let Some(k) = delay_warning {
                    state.warnings = state.warnings.max(k);
                }
            }
            RetryDecision::GiveUp { .. } => state.record_failure(now, None),
            RetryDecision::Delivered => {}
        }
    }
}

impl fmt::Display for RetryDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RetryDecision::Retry {
                at,
                counted,
                hold_destination,
                delay_warning,
            } => {
                write!(f, "retry at {at}")?;
                if !counted {
                    f.write_str(" (not counted)")?;
                }
                if hold_destination.is_some() {
                    f.write_str(", hold destination")?;
                }
                if let Some(k) = delay_warning {
                    write!(f, ", delay warning {k}")?;
                }
                Ok(())
            }
            RetryDecision::GiveUp { at, reason } => {
                write!(
                    f,
                    "give up at {at}: {reason}, ended by {}",
                    reason.ended_by().name()
                )
            }
            RetryDecision::Delivered => f.write_str("delivered"),
        }
    }
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// What a policy decides on: an attempt's classified outcome, or a deferral by
/// the caller's own throttling. A `&Classification` converts into it, so
/// `policy.decide(&c, &state, now)` reads as it did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Failure<'a> {
    /// An attempt's outcome as classified: a success is
    /// [`RetryDecision::Delivered`], a permanent failure gives up, a transient one
    /// goes through the category and scope rules, the backoff and the lifetime.
    Classified(&'a Classification),
    /// The caller defers the message by its own throttling (a connection or rate
    /// cap of its own) until `until`: a retry at `until`, counted as an attempt
    /// only when [`RetryPolicy::count_rate_limits`] is set; the lifetime still
    /// applies.
    Throttled {
        /// When the caller will let the message go again.
        until: Timestamp,
    },
}

impl<'a> From<&'a Classification> for Failure<'a> {
    fn from(c: &'a Classification) -> Self {
        Failure::Classified(c)
    }
}

/// A policy with its defaults replaced for some decisions: your own [`Backoff`]
/// in place of [`RetryPolicy::backoff`], or jitter drawn from your own
/// [`Entropy`] (an injected RNG) instead of the hash of the state's seed.
/// Made by [`RetryPolicy::decider`]; it decides like the policy otherwise
/// (category and scope backoffs, hints, lifetime and warnings still apply).
///
/// ```
/// use std::borrow::Cow;
/// use std::time::Duration;
/// use tempfail::backoff::{Backoff, Entropy, Next, RetryState};
/// use tempfail::policy::{Preset, RetryPolicy};
/// use tempfail::{Category, Classification, Disposition, Scope, Timestamp};
///
/// /// Waits grow by one minute per failure.
/// struct Linear;
/// impl Backoff for Linear {
///     fn next_delay(&self, s: &RetryState, _: Timestamp, _: &mut Entropy<'_>) -> Next {
///         Next::Retry(Duration::from_secs(60 * (u64::from(s.failures) + 1)))
///     }
/// }
/// let c = Classification {
///     disposition: Disposition::Transient, category: Some(Category::Network),
///     scope: Scope::Destination, retry_after: None, rule: Cow::Borrowed("x"),
///     description: Cow::Borrowed(""), low_confidence: false,
/// };
/// let p = RetryPolicy::preset(Preset::Tempfail);
/// let mut st = RetryState::new(Timestamp::EPOCH);
/// st.failures = 2;
/// let d = p.decider().backoff(&Linear).decide(&c, &st, Timestamp::EPOCH);
/// assert_eq!(d.retry_at(), Some(Timestamp::from_secs(180)));
/// ```
pub struct Decider<'p, 'e> {
    policy: &'p RetryPolicy,
    backoff: Option<&'p dyn Backoff>,
    entropy: Option<Entropy<'e>>,
}

impl<'p, 'e> Decider<'p, 'e> {
    /// Uses `backoff` in place of [`RetryPolicy::backoff`]: the way to plug in a
    /// delay function tempfail does not ship.
    #[must_use]
    pub fn backoff(mut self, backoff: &'p dyn Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Draws jitter from `entropy` (e.g. `Entropy::from_rng` with the `rand`
    /// feature) for every decision this decider takes.
    #[must_use]
    pub fn entropy<'f>(self, entropy: Entropy<'f>) -> Decider<'p, 'f> {
        Decider {
            policy: self.policy,
            backoff: self.backoff,
            entropy: Some(entropy),
        }
    }

    /// The verdict, as [`RetryPolicy::decide`] gives it with these replacements.
    #[must_use]
    pub fn decide<'a>(
        &mut self,
        failure: impl Into<Failure<'a>>,
        state: &RetryState,
        now: Timestamp,
    ) -> RetryDecision {
        self.policy.decide_inner(
            failure.into(),
            state,
            now,
            self.backoff,
            self.entropy.as_mut(),
        )
    }

    /// Decides ([`Decider::decide`]) and records the decision in `state`.
    #[must_use]
    pub fn on_failure<'a>(
        &mut self,
        failure: impl Into<Failure<'a>>,
        state: &mut RetryState,
        now: Timestamp,
    ) -> RetryDecision {
        let failure = failure.into();
        let d = self.decide(failure, state, now);
        d.record(state, now);
        trace_event!(
            debug,
            policy = %self.policy.name,
            decision = %d,
            failures = state.failures,
            "retry decision"
        );
        if let (RetryDecision::Retry { .. }, Failure::Classified(c)) = (&d, failure) {
            if let Some(cat) = c.category {
                state.category_failures.add(cat);
            }
        }
        d
    }
}

impl fmt::Debug for Decider<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decider")
            .field("policy", &self.policy.name)
            .field("own_backoff", &self.backoff.is_some())
            .field("entropy", &self.entropy)
            .finish()
    }
}

impl RetryPolicy {
    /// The verdict on `failure` at `now` (a [`Classification`], or
    /// [`Failure::Throttled`]), given the history in `state`, which this does not
    /// change (see [`RetryPolicy::on_failure`]). Pure: the same input always gives
    /// the same verdict; jitter draws from a hash of `state.seed` and the deferral
    /// count. To replace the backoff or the entropy, see [`RetryPolicy::decider`].
    #[must_use]
    pub fn decide<'a>(
        &self,
        failure: impl Into<Failure<'a>>,
        state: &RetryState,
        now: Timestamp,
    ) -> RetryDecision {
        self.decide_inner(failure.into(), state, now, None, None)
    }

    /// Decides ([`RetryPolicy::decide`]) and records the decision in `state`:
    /// what a sender calls after each failure, then persists `state`.
    #[must_use]
    pub fn on_failure<'a>(
        &self,
        failure: impl Into<Failure<'a>>,
        state: &mut RetryState,
        now: Timestamp,
    ) -> RetryDecision {
        self.decider().on_failure(failure, state, now)
    }

    /// This policy with its default backoff or its entropy replaced ([`Decider`]).
    #[must_use]
    pub fn decider(&self) -> Decider<'_, 'static> {
        Decider {
            policy: self,
            backoff: None,
            entropy: None,
        }
    }

    fn decide_inner(
        &self,
        failure: Failure<'_>,
        state: &RetryState,
        now: Timestamp,
        default: Option<&dyn Backoff>,
        entropy: Option<&mut Entropy<'_>>,
    ) -> RetryDecision {
        let now = state.clamp_now(now);
        let c = match failure {
            Failure::Classified(c) => c,
            Failure::Throttled { until } => {
                if let Some(d) = self.lifetime_passed(state, now) {
                    return d;
                }
                return self.finish(
                    state,
                    now,
                    until.saturating_duration_since(now),
                    self.count_rate_limits,
                    false,
                );
            }
        };
        match c.disposition {
            Disposition::Success => return RetryDecision::Delivered,
            Disposition::Permanent => {
                return RetryDecision::GiveUp {
                    at: now,
                    reason: GiveUpReason::Permanent,
                };
            }
            Disposition::Transient => {}
        }
        let rule = c.category.and_then(|cat| self.category_rule(cat));
        if let Some(r) = rule.filter(|r| r.never_retry) {
            return RetryDecision::GiveUp {
                at: now,
                reason: GiveUpReason::NeverRetried(r.category),
            };
        }
        if let Some(d) = self.lifetime_passed(state, now) {
            return d;
        }
        if let Some((r, limit)) = rule.and_then(|r| Some((r, r.give_up_after?))) {
            if now.saturating_duration_since(state.first_failure.unwrap_or(now)) >= limit {
                return RetryDecision::GiveUp {
                    at: now,
                    reason: GiveUpReason::CategoryLimit(r.category),
                };
            }
        }
        let throttle = matches!(
            c.category,
            Some(Category::RateLimited | Category::TooManyConnections)
        );
        let hint = rule
            .filter(|r| r.honour_hint)
            .and(c.retry_after)
            .map(|h| self.hint_bounds.clamp(h));
        let delay = match hint {
            Some(h) => h,
            None => {
                let specific: Option<&dyn Backoff> = rule
                    .and_then(|r| r.backoff.as_ref())
                    .or_else(|| {
                        self.scopes
                            .iter()
                            .find(|s| s.scope == c.scope)
                            .map(|s| &s.backoff)
                    })
                    .map(|b| b as &dyn Backoff);
                let backoff = specific.or(default).unwrap_or(&self.backoff);
                // A category rule's own backoff counts the failures of its category
                // only: "greylisted: 5 min, then 15 min" holds after other failures.
                let own = rule.filter(|r| r.backoff.is_some()).map(|r| {
                    let mut view = *state;
                    view.failures = state.category_failures.get(r.category);
                    view
                });
                let state = own.as_ref().unwrap_or(state);
                let next = match entropy {
                    Some(e) => backoff.next_delay(state, now, e),
                    None => backoff.next_delay(state, now, &mut Entropy::for_state(state)),
                };
                match next {
                    Next::Retry(d) => d,
                    Next::GiveUp => {
                        return RetryDecision::GiveUp {
                            at: now,
                            reason: GiveUpReason::ScheduleExhausted,
                        };
                    }
                }
            }
        };
        let hold = rule.is_some_and(|r| r.hold_destination) && c.scope == Scope::Destination;
        self.finish(state, now, delay, !throttle || self.count_rate_limits, hold)
    }

    fn lifetime_passed(&self, state: &RetryState, now: Timestamp) -> Option<RetryDecision> {
        let l = self.lifetime?;
        let age = state.age(now);
        let passed = match l.mode {
            LifetimeMode::FailureAfter => age > l.limit,
            _ => age >= l.limit,
        };
        passed.then_some(RetryDecision::GiveUp {
            at: now,
            reason: GiveUpReason::Lifetime,
        })
    }

    fn finish(
        &self,
        state: &RetryState,
        now: Timestamp,
        delay: Duration,
        counted: bool,
        hold: bool,
    ) -> RetryDecision {
        let at = now + delay;
        if let Some(l) = self.lifetime {
            let expiry = state.arrival + l.limit;
            if at > expiry {
                match l.mode {
                    LifetimeMode::Exact => {
                        return RetryDecision::GiveUp {
                            at: expiry,
                            reason: GiveUpReason::Lifetime,
                        };
                    }
                    LifetimeMode::NextDuePast => {
                        return RetryDecision::GiveUp {
                            at: now,
                            reason: GiveUpReason::Lifetime,
                        };
                    }
                    _ => {}
                }
            }
        }
        RetryDecision::Retry {
            at,
            counted,
            hold_destination: hold.then_some(at),
            delay_warning: self.delay_warning_due(state, now),
        }
    }

    /// Replays `failures`, one per attempt, through this policy from `arrival`, each
    /// attempt made exactly when the previous decision said; returns each attempt's
    /// offset from arrival (the first is zero). Stops early when the policy gives up.
    /// The shortest way to test a schedule:
    ///
    /// ```
    /// use tempfail::prelude::*;
    /// let grey = Classification::transient(Category::Greylisted);
    /// let down = Classification::transient(Category::ServerError);
    /// let offsets = RetryPolicy::preset(Preset::Postfix)
    ///     .replay(&[down.clone(), down, grey], Timestamp::from_secs(1_700_000_000));
    /// assert_eq!(offsets.iter().map(|d| d.as_secs() / 60).collect::<Vec<_>>(), [0, 5, 10]);
    /// ```
    #[must_use]
    pub fn replay(&self, failures: &[Classification], arrival: Timestamp) -> Vec<Duration> {
        let mut state = RetryState::new(arrival);
        let mut now = arrival;
        let mut out = Vec::with_capacity(failures.len());
        for c in failures {
            out.push(now - arrival);
            match self.on_failure(c, &mut state, now) {
                RetryDecision::Retry { at, .. } => now = at,
                _ => break,
            }
        }
        out
    }

    /// Replays failures in virtual time: the first attempt at `state.arrival`,
    /// each next one exactly when due, every one failing as `c`, until the
    /// policy stops or `max_attempts` attempts have been made.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use tempfail::{Category, Classification, Disposition, Scope, Timestamp};
    /// use tempfail::backoff::RetryState;
    /// use tempfail::policy::{Preset, RetryPolicy};
    /// let c = Classification {
    ///     disposition: Disposition::Transient, category: Some(Category::ServerError),
    ///     scope: Scope::Destination, retry_after: None, rule: Cow::Borrowed("x"),
    ///     description: Cow::Borrowed(""), low_confidence: false,
    /// };
    /// let sim = RetryPolicy::preset(Preset::Haraka).simulate(&c, RetryState::new(Timestamp::EPOCH), 1000);
    /// assert_eq!(sim.attempts.len(), 13);
    /// ```
    #[must_use]
    pub fn simulate(
        &self,
        c: &Classification,
        mut state: RetryState,
        max_attempts: usize,
    ) -> Simulation {
        let mut attempts = Vec::new();
        let mut now = state.arrival;
        loop {
            if attempts.len() >= max_attempts {
                return Simulation {
                    attempts,
                    end: None,
                    warnings: state.warnings,
                };
            }
            attempts.push(now);
            let d = self.on_failure(c, &mut state, now);
            match d {
                RetryDecision::Retry { at, .. } => now = at,
                _ => {
                    return Simulation {
                        attempts,
                        end: Some(d),
                        warnings: state.warnings,
                    };
                }
            }
        }
    }
}

/// The result of [`RetryPolicy::simulate`].
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Simulation {
    /// The attempt times, the first being the arrival.
    pub attempts: Vec<Timestamp>,
    /// The final decision (give up, or delivered for a success); `None` if the attempt
    /// limit came first.
    pub end: Option<RetryDecision>,
    /// Delay warnings issued along the way.
    pub warnings: u32,
}
