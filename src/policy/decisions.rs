//! What a policy decides: the verdict on one failure, and how it is reached.

use super::*;

// ---------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------

/// Why a recipient's retries end: the policy's reason, which the delivery machine
/// keeps as the recipient's terminal reason as is (one vocabulary for the verdict,
/// from [`RetryDecision::GiveUp`] to `delivery::RcptStatus::Failed` and the
/// notices). The category involved is the classification's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum GiveUpReason {
    /// A permanent reply or failure.
    Permanent,
    /// A transient failure of a category the policy never retries
    /// ([`CategoryRule::never_retry`], e.g. `user_unknown`).
    NeverRetried,
    /// The backoff's schedule ran out (Exim's last cutoff passed, Haraka's list ended).
    ScheduleExhausted,
    /// The category's own time limit passed ([`CategoryRule::give_up_after`]).
    CategoryLimit,
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
    /// `category_limit`, `lifetime`).
    pub const fn name(self) -> &'static str {
        match self {
            GiveUpReason::Permanent => "permanent",
            GiveUpReason::NeverRetried => "never_retried",
            GiveUpReason::ScheduleExhausted => "schedule_exhausted",
            GiveUpReason::CategoryLimit => "category_limit",
            GiveUpReason::Lifetime => "lifetime",
        }
    }
}

/// The snake_case name.
impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The verdict on one failure.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
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
    pub fn retry_at(&self) -> Option<Timestamp> {
        match *self {
            RetryDecision::Retry { at, .. } => Some(at),
            _ => None,
        }
    }

    /// The give-up time, if giving up.
    pub fn give_up_at(&self) -> Option<Timestamp> {
        match *self {
            RetryDecision::GiveUp { at, .. } => Some(at),
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
                    "give up at {at}: {} (ended by {})",
                    reason.name(),
                    reason.ended_by().name()
                )
            }
            RetryDecision::Delivered => f.write_str("delivered"),
        }
    }
}

impl RetryPolicy {
    /// The verdict on a failure at `now` classified as `c`, given the history in
    /// `state` (which this does not change; see [`RetryPolicy::on_failure`]).
    /// Jitter draws from a hash of `state.seed` and the deferral count.
    #[must_use]
    pub fn decide(&self, c: &Classification, state: &RetryState, now: Timestamp) -> RetryDecision {
        self.decide_with(c, state, now, &mut Entropy::for_state(state))
    }

    /// [`RetryPolicy::decide`] with jitter drawn from `entropy` (e.g. an injected RNG).
    #[must_use]
    pub fn decide_with(
        &self,
        c: &Classification,
        state: &RetryState,
        now: Timestamp,
        entropy: &mut Entropy<'_>,
    ) -> RetryDecision {
        self.decide_using(&self.backoff, c, state, now, entropy)
    }

    /// [`RetryPolicy::decide_with`] with your own [`Backoff`] in place of
    /// [`RetryPolicy::backoff`] (category and scope backoffs, hints, lifetime and
    /// warnings still apply): the way to plug in a delay function tempfail does not
    /// ship.
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
    /// let d = p.decide_using(&Linear, &c, &st, Timestamp::EPOCH, &mut Entropy::for_state(&st));
    /// assert_eq!(d.retry_at(), Some(Timestamp::from_secs(180)));
    /// ```
    #[must_use]
    pub fn decide_using<B: Backoff + ?Sized>(
        &self,
        default: &B,
        c: &Classification,
        state: &RetryState,
        now: Timestamp,
        entropy: &mut Entropy<'_>,
    ) -> RetryDecision {
        let default: &dyn Backoff = &default;
        let now = state.clamp_now(now);
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
        if rule.is_some_and(|r| r.never_retry) {
            return RetryDecision::GiveUp {
                at: now,
                reason: GiveUpReason::NeverRetried,
            };
        }
        if let Some(d) = self.lifetime_passed(state, now) {
            return d;
        }
        if let Some(limit) = rule.and_then(|r| r.give_up_after) {
            if now.saturating_duration_since(state.first_failure.unwrap_or(now)) >= limit {
                return RetryDecision::GiveUp {
                    at: now,
                    reason: GiveUpReason::CategoryLimit,
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
                let backoff = specific.unwrap_or(default);
                match backoff.next_delay(state, now, entropy) {
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

    /// The verdict when the caller defers a message by its own throttling
    /// (a connection or rate cap of its own) until `resume_at`. Counted as an
    /// attempt only when [`RetryPolicy::count_rate_limits`] is set; the lifetime
    /// still applies.
    #[must_use]
    pub fn decide_throttled(
        &self,
        state: &RetryState,
        now: Timestamp,
        resume_at: Timestamp,
    ) -> RetryDecision {
        let now = state.clamp_now(now);
        if let Some(d) = self.lifetime_passed(state, now) {
            return d;
        }
        self.finish(
            state,
            now,
            resume_at.saturating_duration_since(now),
            self.count_rate_limits,
            false,
        )
    }

    /// Decides ([`RetryPolicy::decide`]) and records the decision in `state`.
    pub fn on_failure(
        &self,
        c: &Classification,
        state: &mut RetryState,
        now: Timestamp,
    ) -> RetryDecision {
        let d = self.decide(c, state, now);
        d.record(state, now);
        d
    }

    /// Decides with `entropy` and records the decision in `state`.
    pub fn on_failure_with(
        &self,
        c: &Classification,
        state: &mut RetryState,
        now: Timestamp,
        entropy: &mut Entropy<'_>,
    ) -> RetryDecision {
        let d = self.decide_with(c, state, now, entropy);
        d.record(state, now);
        d
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
    /// The final decision (give up or not retryable); `None` if the attempt limit came first.
    pub end: Option<RetryDecision>,
    /// Delay warnings issued along the way.
    pub warnings: u32,
}
