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
//! ## Configuration reference
//!
//! With the `serde` feature a policy reads from JSON, TOML or any serde format.
//! Durations are human strings (`"300s"`, `"5m"`, `"2h26m40s"`, `"5d"`), enums
//! are snake_case. `format_version` is required (an unknown version is refused;
//! `version` and `v`, the spellings of earlier builds, still load: see
//! [`crate::persist`]); every other key is optional, and a missing key takes its
//! value from `base`. Unknown keys are refused, naming them, and so is a policy
//! that cannot be used ([`RetryPolicy::validate`]: a zero wait that repeats,
//! `min` above `max`, an empty Exim chain), naming the field. Serializing a policy
//! writes every field, so the output of one build reads back in the next.
//!
//! ### The policy ([`RetryPolicy`])
//!
//! | field | type | meaning | default |
//! |---|---|---|---|
//! | `format_version` | integer | the format; this build reads and writes [`POLICY_FORMAT_VERSION`] (1) | required |
//! | `base` | preset name: `postfix`, `exim`, `sendmail`, `stalwart`, `haraka`, `kumomta`, `rfc5321`, `tempfail` | every field left out comes from this [`Preset`] | `tempfail` |
//! | `name` | string | a name for logs | the base's name |
//! | `backoff` | backoff (below) | the default backoff | the base's |
//! | `categories` | list of category rules (below) | the first rule whose category matches applies; replaces the base's list | the base's |
//! | `scopes` | list of scope rules (below) | the first rule whose scope matches applies, for a failure without a category rule of its own | the base's |
//! | `lifetime` | lifetime (below), or `"none"` | how long a message is retried; `"none"` removes the base's | the base's (`tempfail`: `5d`, `failure_at_or_after`) |
//! | `delay_warnings` | delay warnings (below) | when to tell the sender that a message is late | the base's (`tempfail`: `4h`, `28h`, repeating) |
//! | `count_rate_limits` | boolean | whether `rate_limited`/`too_many_connections` deferrals count as failures for the backoff | the base's (`tempfail`: false) |
//! | `hint_bounds` | hint bounds (below) | the range a server's retry hint is clamped to | the base's (`tempfail`: `1m` to `4h`) |
//!
//! ### A backoff ([`AnyBackoff`])
//!
//! | field | type | meaning | default |
//! |---|---|---|---|
//! | `backoff` | a map with `kind` and that kind's fields (below) | the nominal delay | required |
//! | `jitter` | a map with `kind` and that kind's fields (below) | how the delay is spread | `{kind = "none"}` |
//!
//! Backoff kinds ([`BackoffKind`](crate::backoff::BackoffKind)):
//!
//! | `kind` | fields | delay after the failure with `n` earlier failures |
//! |---|---|---|
//! | `fixed` | `delay` (duration, required) | `delay` |
//! | `exponential` | `base` (duration, required), `factor` (number or string such as `2` or `"1.5"`, required), `cap` (duration, default none) | `base × factor^n`, at most `cap` |
//! | `list` | `delays` (list of durations, required), `after_last` (`repeat` or `stop`, required) | entry `n`; past the end the last repeats or the message gives up |
//! | `age_based` | `min`, `max` (durations, required), `queue_run` (duration, default none) | the message's age, within `[min, max]`, then rounded up to the next queue run (Postfix, Sendmail) |
//! | `exim` | `rules` (an Exim chain such as `"F,2h,15m; G,16h,1h,1.5; F,4d,6h"`, required), `max_interval` (duration, default `24h`), `floor_by_age` (boolean, default true) | Exim's retry rules ([`EximRules`](crate::backoff::EximRules)) |
//!
//! Jitter kinds ([`Jitter`](crate::backoff::Jitter); `d` is the nominal delay):
//!
//! | `kind` | fields | result |
//! |---|---|---|
//! | `none` | none | `d` |
//! | `full` | none | uniform in `[0, d]` |
//! | `equal` | none | `d/2` plus uniform in `[0, d/2]` |
//! | `decorrelated` | `base`, `cap` (durations, required) | uniform in `[base, min(cap, 3 × previous)]` |
//! | `proportional` | `permille` (integer 0 to 1000, required) | `d ± d × permille/1000` |
//! | `additive` | `minus`, `plus` (durations, required) | uniform in `[d − minus, d + plus]`, never below zero |
//!
//! ### A category rule ([`CategoryRule`])
//!
//! | field | type | meaning | default |
//! |---|---|---|---|
//! | `category` | a [`Category`] name (`greylisted`, `rate_limited`, `mailbox_full`, …) | the failures this rule is for | required |
//! | `never_retry` | boolean | give up at the first such failure, even after a 4xx | false |
//! | `backoff` | backoff (above) | its own backoff; it counts only the failures of this category | none: the scope's, else the policy's |
//! | `give_up_after` | duration | give up once failures of this category have lasted this long since the first | none |
//! | `honour_hint` | boolean | wait the server's retry hint (within `hint_bounds`) instead of the backoff | false |
//! | `hold_destination` | boolean | for a destination-scope failure, tell the caller to hold the whole destination until the retry | false |
//!
//! ### The smaller pieces
//!
//! | piece | fields |
//! |---|---|
//! | scope rule ([`ScopeRule`]) | `scope` (a [`Scope`] name: `recipient`, `message`, `connection`, `destination`; required), `backoff` (backoff, required) |
//! | lifetime ([`Lifetime`]) | `limit` (duration, required), `mode` ([`LifetimeMode`]: `failure_at_or_after`, `failure_after`, `exact`, `next_due_past`; required) |
//! | delay warnings ([`DelayWarnings`]) | `at` (list of durations from arrival, required), `repeat` (boolean: after the last, repeat its gap; required) |
//! | hint bounds ([`HintBounds`]) | `min`, `max` (durations, required) |
//!
//! ### TOML
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use std::time::Duration;
//! use tempfail::Category;
//! use tempfail::backoff::{BackoffKind, Jitter};
//! use tempfail::policy::{LifetimeMode, Preset, RetryPolicy};
//!
//! let toml = r#"
//! format_version = 1
//! base = "postfix"
//! name = "our-relay"
//! lifetime = { limit = "3d", mode = "failure_at_or_after" }
//! delay_warnings = { at = ["4h"], repeat = false }
//! hint_bounds = { min = "1m", max = "2h" }
//!
//! [backoff]
//! backoff = { kind = "age_based", min = "5m", max = "1h", queue_run = "5m" }
//! jitter = { kind = "proportional", permille = 100 }
//!
//! [[categories]]
//! category = "greylisted"
//! backoff = { backoff = { kind = "list", delays = ["5m", "10m", "30m"], after_last = "repeat" } }
//!
//! [[categories]]
//! category = "rate_limited"
//! honour_hint = true
//! hold_destination = true
//! backoff = { backoff = { kind = "exponential", base = "2m", factor = "1.5", cap = "1h" }, jitter = { kind = "full" } }
//!
//! [[categories]]
//! category = "mailbox_full"
//! give_up_after = "3d"
//!
//! [[categories]]
//! category = "user_unknown"
//! never_retry = true
//!
//! [[scopes]]
//! scope = "connection"
//! backoff = { backoff = { kind = "exim", rules = "F,2h,15m; G,16h,1h,1.5; F,4d,6h" } }
//! "#;
//! let p: RetryPolicy = toml::from_str(toml).unwrap();
//! assert_eq!(p.name, "our-relay");
//! assert_eq!(p.lifetime.unwrap().limit, Duration::from_secs(3 * 86_400));
//! assert_eq!(p.lifetime.unwrap().mode, LifetimeMode::FailureAtOrAfter);
//! assert_eq!(p.backoff.backoff.name(), "age_based");
//! assert_eq!(p.backoff.jitter, Jitter::Proportional { permille: 100 });
//! assert_eq!(p.categories.len(), 4);
//! assert_eq!(p.categories[1].category, Category::RateLimited);
//! assert!(p.categories[1].honour_hint && p.categories[1].hold_destination);
//! assert!(matches!(p.scopes[0].backoff.backoff, BackoffKind::Exim(_)));
//! assert_eq!(p.hint_bounds.max, Duration::from_secs(7200));
//! // Left out: taken from the base.
//! assert_eq!(p.count_rate_limits, Preset::Postfix.policy().count_rate_limits);
//! // A typo is refused, naming the key.
//! let err = toml::from_str::<RetryPolicy>("format_version = 1\nlifetme = \"3d\"").unwrap_err();
//! assert!(err.to_string().contains("lifetme"), "{err}");
//! # }
//! ```
//!
//! ### JSON
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use std::time::Duration;
//! use tempfail::backoff::{AfterLast, BackoffKind, Jitter};
//! use tempfail::policy::RetryPolicy;
//!
//! let json = r#"{"format_version": 1, "base": "tempfail", "name": "bulk",
//!  "lifetime": "none",
//!  "count_rate_limits": true,
//!  "backoff": {"backoff": {"kind": "fixed", "delay": "10m"},
//!              "jitter": {"kind": "additive", "minus": "1m", "plus": "2m"}},
//!  "categories": [
//!    {"category": "greylisted",
//!     "backoff": {"backoff": {"kind": "list", "delays": ["5m", "15m"], "after_last": "stop"},
//!                 "jitter": {"kind": "equal"}}},
//!    {"category": "server_error",
//!     "backoff": {"backoff": {"kind": "exponential", "base": "1m", "factor": 2},
//!                 "jitter": {"kind": "decorrelated", "base": "1m", "cap": "1h"}}}],
//!  "scopes": [{"scope": "destination", "backoff": {"backoff": {"kind": "fixed", "delay": "30m"}}}],
//!  "delay_warnings": {"at": ["1h", "5h"], "repeat": true}}"#;
//! let p: RetryPolicy = serde_json::from_str(json).unwrap();
//! assert!(p.lifetime.is_none());
//! assert!(p.count_rate_limits);
//! assert_eq!(p.backoff.jitter, Jitter::Additive { minus: Duration::from_secs(60), plus: Duration::from_secs(120) });
//! let BackoffKind::List(list) = &p.categories[0].backoff.as_ref().unwrap().backoff else { panic!() };
//! assert_eq!(list.after_last, AfterLast::Stop);
//! assert_eq!(p.delay_warnings.at.len(), 2);
//! // What a policy writes, it reads back.
//! let again: RetryPolicy = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
//! assert_eq!(again, p);
//! // A value out of range names the field.
//! let bad = json.replace(r#""delay": "10m""#, r#""delay": "0s""#);
//! let err = serde_json::from_str::<RetryPolicy>(&bad).unwrap_err();
//! assert!(err.to_string().contains("backoff"), "{err}");
//! # }
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
