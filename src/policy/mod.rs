//! From a classification and the retry history to a verdict: retry at `t`, give
//! up, or not retryable.
//!
//! A [`RetryPolicy`] holds a default [`AnyBackoff`], per-category rules
//! ([`CategoryRule`]: never retry, own backoff, give up after a time, honour the
//! server's hint, hold the destination), per-scope backoffs ([`ScopeRule`]), a
//! message [`Lifetime`] with the semantics of your choice ([`LifetimeMode`]),
//! [`DelayWarnings`], and whether rate-limit deferrals count as attempts.
//! [`Preset`] builds the policies of Postfix, Exim, Sendmail, Stalwart, Haraka,
//! KumoMTA, RFC 5321 and tempfail's recommended default.
//!
//! [`RetryPolicy::decide`] is pure: the same classification, state and `now`
//! always give the same [`RetryDecision`]. [`RetryPolicy::on_failure`] decides
//! and records the decision in the state, which is what a sender persists.
//!
//! ```
//! use std::borrow::Cow;
//! use tempfail::{Category, Classification, Disposition, Scope, Timestamp};
//! use tempfail::backoff::RetryState;
//! use tempfail::policy::{Preset, RetryDecision, RetryPolicy};
//!
//! let policy = RetryPolicy::preset(Preset::Postfix);
//! let failure = Classification {
//!     disposition: Disposition::Transient,
//!     category: Some(Category::ServerError),
//!     scope: Scope::Destination,
//!     retry_after: None,
//!     rule: Cow::Borrowed("example"),
//!     description: Cow::Borrowed("451 4.3.0 local error"),
//!     low_confidence: false,
//! };
//! let t0 = Timestamp::from_secs(1_700_000_000);
//! let mut state = RetryState::new(t0);
//! let d = policy.on_failure(&failure, &mut state, t0);
//! assert_eq!(d.retry_at(), Some(Timestamp::from_secs(1_700_000_300)));
//! ```
//!
//! ## Config files
//!
//! With the `serde` feature a policy reads from JSON, TOML or any serde format.
//! Durations are human strings (`5m`, `2h26m40s`, `5d`), enums are snake_case,
//! `version` is required (an unknown version is refused), and every other key
//! is optional: missing keys take their value from `base` (a preset name,
//! default `tempfail`); `lifetime = "none"` removes the base's lifetime. In TOML:
//!
//! ```toml
//! version = 1
//! base = "postfix"
//! name = "our-relay"
//! lifetime = { limit = "3d", mode = "failure_at_or_after" }
//! delay_warnings = { at = ["4h"], repeat = false }
//!
//! [backoff]
//! backoff = { kind = "age_based", min = "5m", max = "1h" }
//! jitter = { kind = "proportional", permille = 100 }
//!
//! [[categories]]
//! category = "user_unknown"
//! never_retry = true
//! ```
//!
//! The same in JSON:
//!
//! ```json
//! {"version": 1, "base": "postfix", "name": "our-relay",
//!  "lifetime": {"limit": "3d", "mode": "failure_at_or_after"},
//!  "delay_warnings": {"at": ["4h"], "repeat": false},
//!  "backoff": {"backoff": {"kind": "age_based", "min": "5m", "max": "1h"},
//!              "jitter": {"kind": "proportional", "permille": 100}},
//!  "categories": [{"category": "user_unknown", "never_retry": true}]}
//! ```

mod presets;

use core::fmt;
use std::borrow::Cow;
use std::time::Duration;

pub use presets::{POSTGREY_DELAY, Preset};

use crate::Timestamp;
use crate::backoff::{AnyBackoff, Backoff, Compact, Entropy, Next, RetryState};
use crate::classify::{Category, Classification, Disposition, Scope};
use crate::time::duration_millis;

#[cfg(feature = "serde")]
use crate::backoff::serde_duration;

/// The policy format version written and read by this build.
pub const POLICY_FORMAT_VERSION: u32 = 1;

/// The lifetime of a [`RetryPolicy::new`] policy: 5 days (Postfix's
/// `maximal_queue_lifetime`, Sendmail's `Timeout.queuereturn`), ending at the first
/// failure at or after it.
pub const DEFAULT_LIFETIME: Lifetime = Lifetime::new(
    Duration::from_secs(5 * 86_400),
    LifetimeMode::FailureAtOrAfter,
);

// ---------------------------------------------------------------------------
// Pieces
// ---------------------------------------------------------------------------

/// When a message's lifetime ends it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum LifetimeMode {
    /// Give up at the first failure at or after the lifetime (Postfix's
    /// `maximal_queue_lifetime`). Retries planned past the lifetime still happen.
    FailureAtOrAfter,
    /// Give up at the first failure strictly after the lifetime (Sendmail's
    /// `Timeout.queuereturn`, checked on a queue run).
    FailureAfter,
    /// Expire exactly at arrival + lifetime (Stalwart): a retry that would come
    /// later becomes a give-up *at that instant*, which is not an attempt.
    Exact,
    /// Give up at a failure as soon as the next due time would pass the lifetime
    /// (KumoMTA's `max_age`).
    NextDuePast,
}

impl LifetimeMode {
    /// The snake_case name.
    pub const fn name(self) -> &'static str {
        match self {
            LifetimeMode::FailureAtOrAfter => "failure_at_or_after",
            LifetimeMode::FailureAfter => "failure_after",
            LifetimeMode::Exact => "exact",
            LifetimeMode::NextDuePast => "next_due_past",
        }
    }
}

impl fmt::Display for LifetimeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How long a message may be retried, and what "ends" means.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Lifetime {
    /// The time from arrival.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub limit: Duration,
    /// The semantics.
    pub mode: LifetimeMode,
}

impl Lifetime {
    /// A lifetime of `limit` with `mode`.
    pub const fn new(limit: Duration, mode: LifetimeMode) -> Self {
        Lifetime { limit, mode }
    }
}

/// When to tell the sender that a message is delayed: times since arrival,
/// and whether the last gap repeats (Exim's `delay_warning` list) or the list
/// ends (Postfix, Sendmail: one warning).
///
/// ```
/// use std::time::Duration;
/// use tempfail::policy::DelayWarnings;
/// let h = |n: u64| Duration::from_secs(n * 3600);
/// let w = DelayWarnings::repeating(vec![h(4), h(28)]);
/// // 4 h, 28 h, then every 24 h: by 100 h, warnings at 4, 28, 52, 76 and 100 h are due.
/// assert_eq!(w.due_by(h(100)), 5);
/// assert_eq!(w.nth(5), Some(h(124)));
/// assert_eq!(DelayWarnings::once(h(4)).due_by(h(100)), 1);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DelayWarnings {
    /// Warning times, measured from arrival (taken in ascending order, whatever
    /// order they are listed in).
    #[cfg_attr(feature = "serde", serde(with = "serde_duration::vec"))]
    pub at: Vec<Duration>,
    /// After the last, repeat its gap.
    pub repeat: bool,
}

impl DelayWarnings {
    /// No warnings.
    pub fn none() -> Self {
        DelayWarnings::default()
    }

    /// One warning at `at`.
    pub fn once(at: Duration) -> Self {
        DelayWarnings {
            at: vec![at],
            repeat: false,
        }
    }

    /// Warnings at `at`, then the last gap repeats (a single entry repeats itself).
    pub fn repeating(mut at: Vec<Duration>) -> Self {
        at.sort();
        DelayWarnings { at, repeat: true }
    }

    /// The times in ascending order: `at` may come from a config file in any order,
    /// and warning `k` is always the `k`-th earliest.
    fn sorted(&self) -> Cow<'_, [Duration]> {
        if self.at.is_sorted() {
            Cow::Borrowed(&self.at)
        } else {
            let mut v = self.at.clone();
            v.sort_unstable();
            Cow::Owned(v)
        }
    }

    fn gap(at: &[Duration], repeat: bool) -> Option<u64> {
        let (&last, head) = at.split_last()?;
        let last = duration_millis(last);
        let prev = head.last().map_or(0, |&p| duration_millis(p));
        Some(last.saturating_sub(prev)).filter(|&g| g > 0 && repeat)
    }

    /// How many warnings are due by `age` (saturating).
    pub fn due_by(&self, age: Duration) -> u32 {
        let at = self.sorted();
        let age = duration_millis(age);
        let listed = at.iter().filter(|&&t| duration_millis(t) <= age).count();
        let mut n = u32::try_from(listed).unwrap_or(u32::MAX);
        if let (Some(gap), Some(&last)) = (Self::gap(&at, self.repeat), at.last()) {
            let last = duration_millis(last);
            if age > last {
                let extra = (age - last) / gap;
                n = n.saturating_add(u32::try_from(extra).unwrap_or(u32::MAX));
            }
        }
        n
    }

    /// The time from arrival of warning number `k` (0-based), if there is one.
    pub fn nth(&self, k: u32) -> Option<Duration> {
        let at = self.sorted();
        let idx = usize::try_from(k).unwrap_or(usize::MAX);
        if let Some(&t) = at.get(idx) {
            return Some(t);
        }
        let gap = Self::gap(&at, self.repeat)?;
        let last = duration_millis(*at.last()?);
        // k >= at.len() >= 1 here, so this is at least 1.
        let beyond = u64::from(k).saturating_sub(at.len() as u64 - 1);
        Some(Duration::from_millis(
            last.saturating_add(gap.saturating_mul(beyond)),
        ))
    }
}

/// Bounds on a server's retry hint ("try again in 5 minutes").
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct HintBounds {
    /// A shorter hint is raised to this.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub min: Duration,
    /// A longer hint is lowered to this.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub max: Duration,
}

impl HintBounds {
    /// Clamps `hint` (a misordered pair takes `max`).
    pub fn clamp(&self, hint: Duration) -> Duration {
        hint.max(self.min).min(self.max)
    }
}

/// What a policy does for one [`Category`].
///
/// ```
/// use std::time::Duration;
/// use tempfail::Category;
/// use tempfail::policy::CategoryRule;
/// let rule = CategoryRule::new(Category::MailboxFull).give_up_after(Duration::from_secs(7 * 86_400));
/// assert_eq!(rule.give_up_after, Some(Duration::from_secs(604_800)));
/// assert!(CategoryRule::never(Category::UserUnknown).never_retry);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct CategoryRule {
    /// The category this rule is for.
    pub category: Category,
    /// Never retry, even when the reply was a 4xx.
    #[cfg_attr(feature = "serde", serde(default))]
    pub never_retry: bool,
    /// Its own backoff (else the scope's, else the policy's default).
    #[cfg_attr(feature = "serde", serde(default))]
    pub backoff: Option<AnyBackoff>,
    /// Give up once this category's failures have lasted this long since the
    /// first failure (Exim's `quota_7d` idea for full mailboxes).
    #[cfg_attr(feature = "serde", serde(with = "serde_duration::option", default))]
    pub give_up_after: Option<Duration>,
    /// Use the server's retry hint, within the policy's [`HintBounds`], instead of the backoff.
    #[cfg_attr(feature = "serde", serde(default))]
    pub honour_hint: bool,
    /// For a destination-scope classification, tell the caller to hold the whole
    /// destination until the retry time ([`RetryDecision::Retry::hold_destination`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub hold_destination: bool,
}

impl CategoryRule {
    /// A rule that changes nothing (add settings with the builder methods).
    pub const fn new(category: Category) -> Self {
        CategoryRule {
            category,
            never_retry: false,
            backoff: None,
            give_up_after: None,
            honour_hint: false,
            hold_destination: false,
        }
    }

    /// Never retry this category.
    pub const fn never(category: Category) -> Self {
        let mut r = CategoryRule::new(category);
        r.never_retry = true;
        r
    }

    /// With its own backoff.
    pub fn backoff(mut self, b: impl Into<AnyBackoff>) -> Self {
        self.backoff = Some(b.into());
        self
    }

    /// Give up after this long since the first failure.
    pub fn give_up_after(mut self, d: Duration) -> Self {
        self.give_up_after = Some(d);
        self
    }

    /// Honour the server's retry hint.
    pub fn honour_hint(mut self) -> Self {
        self.honour_hint = true;
        self
    }

    /// Hold the destination (destination scope only).
    pub fn hold_destination(mut self) -> Self {
        self.hold_destination = true;
        self
    }
}

/// A backoff for every transient failure of one [`Scope`] without a category rule of its own.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ScopeRule {
    /// The scope.
    pub scope: Scope,
    /// Its backoff.
    pub backoff: AnyBackoff,
}

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

// ---------------------------------------------------------------------------
// The policy
// ---------------------------------------------------------------------------

/// A complete retry policy. See the [module docs](self) and [`Preset`].
///
/// Resolution for a transient failure: the category's rule (never retry,
/// time limit, hint, own backoff), else the scope's backoff, else
/// [`RetryPolicy::backoff`]; then the lifetime.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "wire::PolicyWire", into = "wire::PolicyWire")
)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// A name for logs (the preset's name for presets).
    pub name: Cow<'static, str>,
    /// The default backoff.
    pub backoff: AnyBackoff,
    /// Per-category rules (the first matching one applies).
    pub categories: Vec<CategoryRule>,
    /// Per-scope backoffs (the first matching one applies).
    pub scopes: Vec<ScopeRule>,
    /// The message lifetime; `None`: only the backoff ends retries.
    pub lifetime: Option<Lifetime>,
    /// Delay-warning times.
    pub delay_warnings: DelayWarnings,
    /// Whether rate-limit deferrals (`rate_limited`, `too_many_connections`, and the
    /// caller's own throttling) count as failed attempts.
    pub count_rate_limits: bool,
    /// Bounds on the server's retry hint.
    pub hint_bounds: HintBounds,
}

impl RetryPolicy {
    /// A policy with `backoff`, the default lifetime ([`DEFAULT_LIFETIME`]: 5 days,
    /// giving up at the first failure at or after it), no category or scope rules,
    /// no delay warnings, rate limits counted, hints bounded to 1 min – 4 h.
    pub fn new(backoff: impl Into<AnyBackoff>) -> Self {
        RetryPolicy {
            name: Cow::Borrowed("custom"),
            backoff: backoff.into(),
            categories: Vec::new(),
            scopes: Vec::new(),
            lifetime: Some(DEFAULT_LIFETIME),
            delay_warnings: DelayWarnings::none(),
            count_rate_limits: true,
            hint_bounds: HintBounds {
                min: Duration::from_secs(60),
                max: Duration::from_secs(4 * 3600),
            },
        }
    }

    /// A preset policy.
    pub fn preset(p: Preset) -> Self {
        p.policy()
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the lifetime.
    pub fn with_lifetime(mut self, limit: Duration, mode: LifetimeMode) -> Self {
        self.lifetime = Some(Lifetime::new(limit, mode));
        self
    }

    /// Removes the lifetime.
    pub fn without_lifetime(mut self) -> Self {
        self.lifetime = None;
        self
    }

    /// Adds (in front) a category rule, replacing any earlier rule for that category.
    pub fn with_category(mut self, rule: CategoryRule) -> Self {
        self.categories.retain(|r| r.category != rule.category);
        self.categories.insert(0, rule);
        self
    }

    /// Adds a scope backoff, replacing any earlier one for that scope.
    pub fn with_scope(mut self, scope: Scope, backoff: impl Into<AnyBackoff>) -> Self {
        self.scopes.retain(|r| r.scope != scope);
        self.scopes.insert(
            0,
            ScopeRule {
                scope,
                backoff: backoff.into(),
            },
        );
        self
    }

    /// Sets the delay warnings.
    pub fn with_delay_warnings(mut self, w: DelayWarnings) -> Self {
        self.delay_warnings = w;
        self
    }

    /// Sets whether rate-limit deferrals count as attempts.
    pub fn count_rate_limits(mut self, count: bool) -> Self {
        self.count_rate_limits = count;
        self
    }

    /// Sets the bounds on server hints.
    pub fn with_hint_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.hint_bounds = HintBounds { min, max };
        self
    }

    /// The rule for `category`, if any.
    pub fn category_rule(&self, category: Category) -> Option<&CategoryRule> {
        self.categories.iter().find(|r| r.category == category)
    }

    /// The instant the lifetime ends (arrival + limit), if there is a lifetime.
    pub fn expires_at(&self, state: &RetryState) -> Option<Timestamp> {
        self.lifetime.map(|l| state.arrival + l.limit)
    }

    /// When the next delay warning falls due, if any.
    pub fn next_delay_warning(&self, state: &RetryState) -> Option<Timestamp> {
        self.delay_warnings
            .nth(state.warnings)
            .map(|d| state.arrival + d)
    }

    /// The warning to send at `now` (1-based number of the latest one due), if one
    /// is due that `state` has not recorded. Several overdue warnings collapse into one.
    pub fn delay_warning_due(&self, state: &RetryState, now: Timestamp) -> Option<u32> {
        let due = self.delay_warnings.due_by(state.age(now));
        (due > state.warnings).then_some(due)
    }

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

impl fmt::Display for RetryPolicy {
    /// A one-paragraph summary: `postfix: age_based, lifetime 5d (failure_at_or_after)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.backoff.backoff.name())?;
        if self.backoff.jitter != crate::backoff::Jitter::None {
            write!(f, " with {} jitter", self.backoff.jitter)?;
        }
        match self.lifetime {
            Some(l) => write!(f, ", lifetime {} ({})", Compact(l.limit), l.mode)?,
            None => f.write_str(", no lifetime")?,
        }
        Ok(())
    }
}

/// A policy config that could not be read.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The format version is not one this build reads.
    #[error(transparent)]
    UnsupportedVersion(#[from] crate::persist::UnsupportedVersion),
    /// An unknown preset name.
    #[error(
        "unknown preset {0:?}: expected one of postfix, exim, sendmail, stalwart, haraka, kumomta, rfc5321, tempfail"
    )]
    UnknownPreset(String),
}

#[cfg(feature = "serde")]
mod wire {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    #[serde(
        deny_unknown_fields,
        expecting = "a retry policy: a map with format_version and optional base, name, backoff, categories, scopes, lifetime, delay_warnings, count_rate_limits, hint_bounds"
    )]
    pub(crate) struct PolicyWire {
        #[serde(rename = "format_version", alias = "version")]
        version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        backoff: Option<AnyBackoff>,
        #[serde(default)]
        categories: Option<Vec<CategoryRule>>,
        #[serde(default)]
        scopes: Option<Vec<ScopeRule>>,
        /// `null` and absent differ: absent takes the base's lifetime, `"none"` removes it.
        #[serde(default)]
        lifetime: Option<LifetimeWire>,
        #[serde(default)]
        delay_warnings: Option<DelayWarnings>,
        #[serde(default)]
        count_rate_limits: Option<bool>,
        #[serde(default)]
        hint_bounds: Option<HintBounds>,
    }

    /// A lifetime, or `"none"` to remove the base's. Read by hand so that a typo
    /// inside the map names the field (an untagged enum would only say that nothing
    /// matched).
    enum LifetimeWire {
        Set(Lifetime),
        None(NoLifetime),
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum NoLifetime {
        None,
    }

    impl Serialize for LifetimeWire {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self {
                LifetimeWire::Set(l) => l.serialize(s),
                LifetimeWire::None(n) => n.serialize(s),
            }
        }
    }

    impl<'de> Deserialize<'de> for LifetimeWire {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = LifetimeWire;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str(
                        "a lifetime: {\"limit\": \"5d\", \"mode\": \"failure_at_or_after\"}, or \"none\"",
                    )
                }
                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LifetimeWire, E> {
                    if v == "none" {
                        Ok(LifetimeWire::None(NoLifetime::None))
                    } else {
                        Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                    }
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    map: A,
                ) -> Result<LifetimeWire, A::Error> {
                    Lifetime::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                        .map(LifetimeWire::Set)
                }
            }
            d.deserialize_any(V)
        }
    }

    impl From<RetryPolicy> for PolicyWire {
        fn from(p: RetryPolicy) -> Self {
            PolicyWire {
                version: POLICY_FORMAT_VERSION,
                base: None,
                name: Some(p.name.into_owned()),
                backoff: Some(p.backoff),
                categories: Some(p.categories),
                scopes: Some(p.scopes),
                lifetime: Some(match p.lifetime {
                    Some(l) => LifetimeWire::Set(l),
                    None => LifetimeWire::None(NoLifetime::None),
                }),
                delay_warnings: Some(p.delay_warnings),
                count_rate_limits: Some(p.count_rate_limits),
                hint_bounds: Some(p.hint_bounds),
            }
        }
    }

    impl TryFrom<PolicyWire> for RetryPolicy {
        type Error = PolicyError;
        fn try_from(w: PolicyWire) -> Result<Self, PolicyError> {
            crate::persist::UnsupportedVersion::check(
                "retry policy",
                w.version,
                POLICY_FORMAT_VERSION,
            )?;
            let base = match w.base.as_deref() {
                None => Preset::Tempfail,
                Some(name) => Preset::from_name(name)
                    .ok_or_else(|| PolicyError::UnknownPreset(name.to_owned()))?,
            };
            let mut p = base.policy();
            if let Some(n) = w.name {
                p.name = Cow::Owned(n);
            }
            if let Some(b) = w.backoff {
                p.backoff = b;
            }
            if let Some(c) = w.categories {
                p.categories = c;
            }
            if let Some(s) = w.scopes {
                p.scopes = s;
            }
            match w.lifetime {
                Some(LifetimeWire::Set(l)) => p.lifetime = Some(l),
                Some(LifetimeWire::None(_)) => p.lifetime = None,
                None => {}
            }
            if let Some(d) = w.delay_warnings {
                p.delay_warnings = d;
            }
            if let Some(c) = w.count_rate_limits {
                p.count_rate_limits = c;
            }
            if let Some(h) = w.hint_bounds {
                p.hint_bounds = h;
            }
            Ok(p)
        }
    }
}
