//! From a classification and the retry history to a verdict: retry at `t`, give
//! up (with the reason the delivery keeps as the recipient's terminal state), or
//! delivered.
//!
//! A [`RetryPolicy`] holds a default [`AnyBackoff`], per-category rules
//! ([`CategoryRule`]: never retry, own backoff, give up after a time, honour the
//! server's hint, hold the destination), per-scope backoffs ([`ScopeRule`]), a
//! message [`Lifetime`] with the semantics of your choice ([`LifetimeMode`]),
//! [`DelayWarnings`], and whether rate-limit deferrals count as attempts.
//! [`Preset`] builds the policies of Postfix, Exim, Sendmail, Stalwart, Haraka,
//! KumoMTA, RFC 5321 and tempfail's recommended default.
//!
//! Two calls decide: [`RetryPolicy::decide`] is pure (the same classification,
//! state and `now` always give the same [`RetryDecision`]);
//! [`RetryPolicy::on_failure`] decides and records the decision in the state,
//! which is what a sender persists. Both take a [`Failure`]: a `&Classification`,
//! or [`Failure::Throttled`] for a deferral by the caller's own throttling.
//! [`RetryPolicy::decider`] replaces the default backoff or the entropy.
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
//! `format_version` is required (an unknown version is refused; `version`, the
//! spelling of earlier builds, still loads: see [`crate::persist`]), and every
//! other key is optional: missing keys take their value from `base` (a preset
//! name, default `tempfail`); `lifetime = "none"` removes the base's lifetime.
//! Unknown keys are refused, naming them, and so is a policy that cannot be used
//! ([`RetryPolicy::validate`]: a zero wait that repeats, `min` above `max`, an
//! empty Exim chain), naming the field. In TOML:
//!
//! ```toml
//! format_version = 1
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
//! {"format_version": 1, "base": "postfix", "name": "our-relay",
//!  "lifetime": {"limit": "3d", "mode": "failure_at_or_after"},
//!  "delay_warnings": {"at": ["4h"], "repeat": false},
//!  "backoff": {"backoff": {"kind": "age_based", "min": "5m", "max": "1h"},
//!              "jitter": {"kind": "proportional", "permille": 100}},
//!  "categories": [{"category": "user_unknown", "never_retry": true}]}
//! ```

mod config;
mod decisions;
mod presets;

use core::fmt;
use std::borrow::Cow;
use std::time::Duration;

pub use config::{CategoryRule, DelayWarnings, HintBounds, Lifetime, LifetimeMode, ScopeRule};
pub use decisions::{Decider, EndedBy, Failure, GiveUpReason, RetryDecision, Simulation};
pub use presets::{POSTGREY_DELAY, Preset};

use crate::Timestamp;
use crate::backoff::{
    AnyBackoff, Backoff, BackoffError, BackoffProblem, Compact, Entropy, Next, RetryState,
};
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
    #[must_use]
    pub fn expires_at(&self, state: &RetryState) -> Option<Timestamp> {
        self.lifetime.map(|l| state.arrival + l.limit)
    }

    /// When the next delay warning falls due, if any.
    #[must_use]
    pub fn next_delay_warning(&self, state: &RetryState) -> Option<Timestamp> {
        self.delay_warnings
            .nth(state.warnings)
            .map(|d| state.arrival + d)
    }

    /// The warning to send at `now` (1-based number of the latest one due), if one
    /// is due that `state` has not recorded. Several overdue warnings collapse into one.
    #[must_use]
    pub fn delay_warning_due(&self, state: &RetryState, now: Timestamp) -> Option<u32> {
        let due = self.delay_warnings.due_by(state.age(now));
        (due > state.warnings).then_some(due)
    }
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

/// A policy that cannot be used, or a preset name that names none.
///
/// Reading a policy through serde reports these as
/// [`PersistError::Invalid`](crate::persist::PersistError::Invalid) naming the
/// field, and a version this build does not read as
/// [`PersistError::UnsupportedVersion`](crate::persist::PersistError::UnsupportedVersion).
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// An unknown preset name.
    #[error(
        "unknown preset {0:?}: expected one of postfix, exim, sendmail, stalwart, haraka, kumomta, rfc5321, tempfail"
    )]
    UnknownPreset(String),
    /// A backoff (or bounds) that cannot be used; its field is named from the
    /// policy (`backoff.backoff.min`, `categories[2].backoff.jitter.base`,
    /// `hint_bounds.min`).
    #[error(transparent)]
    Invalid(#[from] BackoffError),
}

impl RetryPolicy {
    /// `Err` naming the field of the first unusable part: a backoff (default,
    /// category or scope) with a zero wait that repeats, bounds in the wrong order
    /// or an empty Exim chain ([`AnyBackoff::validate`]), or hint bounds with
    /// `min > max`. Every preset passes; a policy read through serde is checked.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tempfail::backoff::AgeBased;
    /// use tempfail::policy::RetryPolicy;
    /// let p = RetryPolicy::new(AgeBased::new(Duration::ZERO, Duration::from_secs(3600)));
    /// let err = p.validate().unwrap_err();
    /// assert!(err.to_string().starts_with("backoff.backoff.min must be more than 0"), "{err}");
    /// ```
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.backoff.validate().map_err(|e| e.within("backoff"))?;
        for (i, r) in self.categories.iter().enumerate() {
            if let Some(b) = &r.backoff {
                b.validate()
                    .map_err(|e| e.within(&format!("categories[{i}].backoff")))?;
            }
        }
        for (i, r) in self.scopes.iter().enumerate() {
            r.backoff
                .validate()
                .map_err(|e| e.within(&format!("scopes[{i}].backoff")))?;
        }
        if self.hint_bounds.min > self.hint_bounds.max {
            return Err(BackoffError::new(
                "hint_bounds.min",
                BackoffProblem::MinAboveMax {
                    min: self.hint_bounds.min,
                    max_field: "max",
                    max: self.hint_bounds.max,
                },
            )
            .into());
        }
        Ok(())
    }
}

impl crate::persist::Persisted for RetryPolicy {
    const KIND: &'static str = "retry policy";
    const FORMAT_VERSION: u32 = POLICY_FORMAT_VERSION;
}

#[cfg(feature = "serde")]
mod wire {
    use super::*;
    use crate::persist::{FormatVersion, PersistError, Persisted};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    #[serde(
        deny_unknown_fields,
        expecting = "a retry policy: a map with format_version and optional base, name, backoff, categories, scopes, lifetime, delay_warnings, count_rate_limits, hint_bounds"
    )]
    pub(crate) struct PolicyWire {
        #[serde(rename = "format_version", alias = "version", alias = "v")]
        version: FormatVersion<RetryPolicy>,
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
                version: FormatVersion::current(),
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
        type Error = PersistError;
        fn try_from(w: PolicyWire) -> Result<Self, PersistError> {
            let kind = <RetryPolicy as Persisted>::KIND;
            let base = match w.base.as_deref() {
                None => Preset::Tempfail,
                Some(name) => name
                    .parse::<Preset>()
                    .map_err(|e| PersistError::invalid(kind, "base", e))?,
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
            p.validate().map_err(|e| match e {
                PolicyError::Invalid(b) => PersistError::invalid(kind, b.field, b.problem),
                other => PersistError::invalid(kind, "", other),
            })?;
            Ok(p)
        }
    }
}
