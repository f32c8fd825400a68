//! How a destination is treated: concurrency feedback, dead-destination probing,
//! pacing, warm-up, suspension rules, retry budget. Plain data (serde with feature
//! `serde`), checked by [`HealthConfig::validate`].

use std::borrow::Cow;
use std::time::Duration;

#[cfg(feature = "serde")]
use crate::backoff::serde_duration;
use crate::classify::{Category, Classification, Scope};

/// How the concurrency window reacts to successes and failures.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Feedback {
    /// Postfix's qmgr feedback (2.5+ defaults): each success adds `1/window`, and a
    /// whole unit raises the window by one; a failure lowers it by one at once at the
    /// start of a run of failures (reverse hysteresis) and by one more for each unit
    /// of negative feedback (`1` per failure). A fresh window of 5 goes 5 → 3 → 2.
    Postfix,
    /// Additive increase, multiplicative decrease: `+1` per window of successes,
    /// halved on a failure (at least 1).
    Aimd,
}

/// A rate: `count` events per `per`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Rate {
    /// How many events.
    pub count: u32,
    /// In how long.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub per: Duration,
    /// How many events may come at once above the steady spacing (GCRA tolerance);
    /// 0 spaces every event evenly.
    #[cfg_attr(feature = "serde", serde(default))]
    pub burst: u32,
}

impl Rate {
    /// `count` events per `per`, evenly spaced.
    pub const fn new(count: u32, per: Duration) -> Self {
        Rate {
            count,
            per,
            burst: 0,
        }
    }

    /// Allows `burst` events at once above the steady spacing.
    pub const fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// Thousandths of an event per minute (the registry's unit), saturating.
    pub fn per_minute_milli(self) -> u64 {
        let per_ms = u64::try_from(self.per.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        u64::from(self.count)
            .saturating_mul(60_000_000)
            .checked_div(per_ms)
            .unwrap_or(0)
    }
}

/// How long a warm-up period lasts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum WarmupPeriod {
    /// Caps per hour.
    Hourly,
    /// Caps per day.
    Daily,
}

impl WarmupPeriod {
    pub(crate) fn millis(self) -> u64 {
        match self {
            WarmupPeriod::Hourly => 3_600_000,
            WarmupPeriod::Daily => 86_400_000,
        }
    }
}

/// A warm-up schedule for a new sending IP or domain: at most `caps[i]` messages in
/// the `i`-th period after `start`; after the last cap, the last one grows by
/// `growth_permille` each period (1500 = ×1.5; the `k`-th period after the list
/// allows `last × (growth/1000)^k`, rounded down), or holds with 1000. No cap before
/// `start`, none once a cap exceeds `until_cap`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Warmup {
    /// When the first period starts (milliseconds since the Unix epoch in serde).
    pub start: crate::Timestamp,
    /// Hourly or daily caps.
    pub period: WarmupPeriod,
    /// The cap of each period, in order.
    pub caps: Vec<u32>,
    /// After the last cap, it grows by this factor per period, in ‰ (1000 holds).
    #[cfg_attr(feature = "serde", serde(default = "default_growth"))]
    pub growth_permille: u32,
    /// Once a period's cap reaches this, the warm-up is over (no cap).
    #[cfg_attr(feature = "serde", serde(default))]
    pub until_cap: Option<u32>,
}

#[cfg(feature = "serde")]
fn default_growth() -> u32 {
    1000
}

impl Warmup {
    /// The cap of period `i` (`None`: no cap any more).
    pub(crate) fn cap(&self, i: u64) -> Option<u64> {
        let n = self.caps.len() as u64;
        let base = u64::from(*self.caps.last()?);
        let cap = if i < n {
            u64::from(self.caps[usize::try_from(i).unwrap_or(0)])
        } else {
            // The last cap grown `k` times, in closed form (one step per request
            // would cost as many steps as periods have passed), rounded down.
            let k = (i - n).saturating_add(1).min(i32::MAX as u64) as i32;
            let grown = base as f64 * (f64::from(self.growth_permille) / 1000.0).powi(k);
            if grown >= u64::MAX as f64 {
                u64::MAX
            } else {
                grown as u64
            }
        };
        if self.until_cap.is_some_and(|u| cap >= u64::from(u)) {
            return None;
        }
        Some(cap)
    }
}

/// Retries into a destination are at most a share of its first attempts over a
/// sliding window, so a failing destination never receives a retry storm
/// (Envoy's retry budget: 20 %, at least 3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RetryBudget {
    /// Retries allowed per first attempt in the window, in ‰ (200 = 20 %).
    pub ratio_permille: u32,
    /// Retries always allowed in a window, whatever the first attempts.
    pub min_retries: u32,
    /// The sliding window (kept as four sub-windows of a quarter each).
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub window: Duration,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            ratio_permille: 200,
            min_retries: 3,
            window: Duration::from_secs(60),
        }
    }
}

/// What a suspension rule does when it fires.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "snake_case", deny_unknown_fields)
)]
pub enum RuleAction {
    /// Suspend the destination for this long.
    Suspend {
        /// How long.
        #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
        duration: Duration,
    },
    /// Limit the destination's message rate to `rate` for this long.
    SetRate {
        /// The rate.
        rate: Rate,
        /// How long.
        #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
        duration: Duration,
    },
}

/// "`threshold` classifications matching within `window` → `action`", counted per
/// destination over a true sliding window (the last `threshold` matching times are
/// kept; the rule fires when the oldest of them is within `window` of the newest).
///
/// A classification matches when every condition that is set holds: its category is
/// one of `categories`, its rule id one of `rules`, its scope one of `scopes`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct SuspensionRule {
    /// Unique, non-empty; reported as the cause.
    pub id: String,
    /// Category names (`rate_limited`, …); empty means any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub categories: Vec<Category>,
    /// Classification rule ids (`gmail.rate_limited`); empty means any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub rules: Vec<String>,
    /// Scopes (`destination`); empty means any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub scopes: Vec<Scope>,
    /// How many matches (at least 1).
    pub threshold: u32,
    /// Within how long.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub window: Duration,
    /// What then.
    pub action: RuleAction,
}

impl SuspensionRule {
    pub(crate) fn matches(&self, c: &Classification) -> bool {
        (self.categories.is_empty() || c.category.is_some_and(|k| self.categories.contains(&k)))
            && (self.rules.is_empty() || self.rules.iter().any(|r| *r == c.rule))
            && (self.scopes.is_empty() || self.scopes.contains(&c.scope))
            && c.disposition != crate::Disposition::Success
    }
}

/// Everything the registry needs to know about how to treat a destination.
///
/// Start from a preset ([`HealthConfig::postfix`], [`HealthConfig::aimd`]) and change
/// what you need; [`Registry::new`](super::Registry::new) refuses a configuration
/// that [`validate`](Self::validate) refuses. Through serde, a field left out takes
/// the [`HealthConfig::postfix`] value; an unknown field is refused.
///
/// # Fields
///
/// | field | type | meaning | default (`postfix`) |
/// |---|---|---|---|
/// | `initial_concurrency` | integer | a new destination's concurrency window | 5 |
/// | `max_concurrency` | integer | the window never grows above it | 20 |
/// | `feedback` | `postfix` / `aimd` | how the window moves ([`Feedback`]) | `postfix` |
/// | `cohort_limit_permille` | integer, ‰ | dead when the failure cohorts reach it | 1000 |
/// | `probe_initial`, `probe_max` | duration | wait before the first probe; doubling up to | `5m`, `1h6m40s` |
/// | `lease` | duration | a permit not returned is void after it | `30m` |
/// | `forget_after` | duration | a destination with nothing to remember is forgotten | `1h` |
/// | `ceiling_recovery` | duration | the `too_many_connections` ceiling rises one per | `1m` |
/// | `message_rate`, `connection_rate` | [`Rate`] `{count, per, burst}` | GCRA limits | none |
/// | `rate_cut_permille` | integer, ‰ | a `rate_limited` reply multiplies the rate by it | 500 |
/// | `rate_pause`, `rate_pause_max` | duration | pause after `rate_limited`, doubling up to | `5s`, `5m` |
/// | `rate_recovery` | duration | a cut rate climbs back linearly over it | `10m` |
/// | `min_rate` | [`Rate`] | never cut below it | 1 per `1m` |
/// | `warmup` | [`Warmup`] `{start, period, caps, growth_permille, until_cap}` | volume caps for a new IP or domain | none |
/// | `rules` | list of [`SuspensionRule`] `{id, categories, rules, scopes, threshold, window, action}` | N matches within W → suspend or set a rate | none |
/// | `retry_budget` | [`RetryBudget`] `{ratio_permille, min_retries, window}` | retries per first attempt | 200 ‰, 3, `1m` |
/// | `max_hint` | duration | a server's retry hint suspends up to | `6h` |
///
/// Durations are human strings (`"300s"`, `"5m"`, `"2h30m"`); enums are snake_case.
///
/// # JSON
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tempfail::destination::{HealthConfig, Registry};
/// let json = r#"{
///     "initial_concurrency": 2, "max_concurrency": 10, "feedback": "aimd",
///     "message_rate": {"count": 100, "per": "1m", "burst": 5},
///     "rules": [{"id": "grey_storm", "categories": ["greylisted"], "threshold": 3,
///                "window": "5m", "action": {"suspend": {"duration": "10m"}}}],
///     "retry_budget": {"ratio_permille": 200, "min_retries": 3, "window": "1m"}
/// }"#;
/// let cfg: HealthConfig = serde_json::from_str(json).unwrap();
/// assert_eq!(cfg.probe_initial, HealthConfig::postfix().probe_initial); // left out
/// let reg: Registry<String> = Registry::new(cfg).unwrap();
/// # }
/// ```
///
/// # TOML
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tempfail::destination::HealthConfig;
/// let toml = r#"
/// initial_concurrency = 2
/// max_concurrency = 10
/// feedback = "aimd"
/// message_rate = { count = 100, per = "1m", burst = 5 }
///
/// [[rules]]
/// id = "grey_storm"
/// categories = ["greylisted"]
/// threshold = 3
/// window = "5m"
/// action = { suspend = { duration = "10m" } }
/// "#;
/// let cfg: HealthConfig = toml::from_str(toml).unwrap();
/// assert_eq!(cfg.rules[0].threshold, 3);
/// cfg.validate().unwrap();
/// # }
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct HealthConfig {
    /// The concurrency window a new destination starts with.
    pub initial_concurrency: u32,
    /// The window never grows above this.
    pub max_concurrency: u32,
    /// How the window moves.
    pub feedback: Feedback,
    /// The destination is dead once the failure cohorts (each connection failure adds
    /// `1/window`) reach this (Postfix: 1).
    pub cohort_limit_permille: u32,
    /// How long a dead destination waits before its first probe.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub probe_initial: Duration,
    /// The wait doubles with each failed probe, up to this.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub probe_max: Duration,
    /// A permit not returned by then is void and its slot free again.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub lease: Duration,
    /// A destination with nothing to remember (no permit out, not dead, suspended
    /// or slowed) is forgotten after this long without use.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub forget_after: Duration,
    /// After a `too_many_connections` reply, the lowered ceiling rises by one per
    /// this long.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub ceiling_recovery: Duration,
    /// Messages per destination, if limited.
    #[cfg_attr(feature = "serde", serde(default))]
    pub message_rate: Option<Rate>,
    /// New connections per destination, if limited.
    #[cfg_attr(feature = "serde", serde(default))]
    pub connection_rate: Option<Rate>,
    /// A `rate_limited` reply multiplies the message rate by this, in ‰ (500 halves it).
    pub rate_cut_permille: u32,
    /// A `rate_limited` reply also pauses the destination this long (0: no pause);
    /// the pause doubles while replies stay `rate_limited` with nothing accepted in
    /// between, up to `rate_pause_max`.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub rate_pause: Duration,
    /// The longest pause.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub rate_pause_max: Duration,
    /// After a cut, the rate climbs back linearly over this long (additive increase).
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub rate_recovery: Duration,
    /// The message rate is never cut below this.
    pub min_rate: Rate,
    /// A warm-up schedule, if any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub warmup: Option<Warmup>,
    /// Suspension rules, tried in order.
    #[cfg_attr(feature = "serde", serde(default))]
    pub rules: Vec<SuspensionRule>,
    /// The retry budget, if any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub retry_budget: Option<RetryBudget>,
    /// A server's retry hint on a destination-scope reply suspends the destination,
    /// up to this long.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub max_hint: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig::postfix()
    }
}

impl HealthConfig {
    /// Postfix's qmgr defaults: initial concurrency 5, limit 20, ±1 feedback,
    /// cohort limit 1 (dead at the third connection failure in a row on a fresh
    /// destination), probed again after `minimal_backoff_time` (300 s), the wait
    /// doubling up to `maximal_backoff_time` (4000 s) while probes fail. Plus what
    /// Postfix lacks: rate cuts on `rate_limited`, the `too_many_connections` ceiling,
    /// server hints, a 20 % retry budget.
    pub fn postfix() -> Self {
        HealthConfig {
            initial_concurrency: 5,
            max_concurrency: 20,
            feedback: Feedback::Postfix,
            cohort_limit_permille: 1000,
            probe_initial: Duration::from_secs(300),
            probe_max: Duration::from_secs(4000),
            lease: Duration::from_secs(30 * 60),
            forget_after: Duration::from_secs(3600),
            ceiling_recovery: Duration::from_secs(60),
            message_rate: None,
            connection_rate: None,
            rate_cut_permille: 500,
            rate_pause: Duration::from_secs(5),
            rate_pause_max: Duration::from_secs(300),
            rate_recovery: Duration::from_secs(600),
            min_rate: Rate::new(1, Duration::from_secs(60)),
            warmup: None,
            rules: Vec::new(),
            retry_budget: Some(RetryBudget::default()),
            max_hint: Duration::from_secs(6 * 3600),
        }
    }

    /// [`HealthConfig::postfix`] with AIMD feedback.
    pub fn aimd() -> Self {
        HealthConfig {
            feedback: Feedback::Aimd,
            ..HealthConfig::postfix()
        }
    }

    /// Checks every field; the error names the field (and the rule).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field: &'static str, reason: &str| {
            Err(ConfigError {
                rule: None,
                field: Cow::Borrowed(field),
                reason: reason.to_owned(),
            })
        };
        if self.initial_concurrency == 0 || self.initial_concurrency > u32::from(u16::MAX) {
            return bad("initial_concurrency", "must be from 1 to 65535");
        }
        if self.max_concurrency < self.initial_concurrency
            || self.max_concurrency > u32::from(u16::MAX)
        {
            return bad(
                "max_concurrency",
                "must be at least initial_concurrency and at most 65535",
            );
        }
        if self.cohort_limit_permille == 0 {
            return bad("cohort_limit_permille", "must be more than 0");
        }
        if self.probe_initial.is_zero() {
            return bad("probe_initial", "must be more than 0");
        }
        if self.probe_max < self.probe_initial {
            return bad("probe_max", "must be at least probe_initial");
        }
        if self.lease.is_zero() {
            return bad("lease", "must be more than 0");
        }
        if self.ceiling_recovery.is_zero() {
            return bad("ceiling_recovery", "must be more than 0");
        }
        for (field, r) in [
            ("message_rate", self.message_rate),
            ("connection_rate", self.connection_rate),
            ("min_rate", Some(self.min_rate)),
        ] {
            if let Some(r) = r {
                if r.count == 0 || r.per.is_zero() || r.per_minute_milli() == 0 {
                    return bad(
                        field,
                        "needs a count and a period more than 0 (at most one event per 60,000 minutes is too slow)",
                    );
                }
            }
        }
        if self.rate_cut_permille == 0 || self.rate_cut_permille >= 1000 {
            return bad("rate_cut_permille", "must be from 1 to 999 (a cut)");
        }
        if self.rate_pause_max < self.rate_pause {
            return bad("rate_pause_max", "must be at least rate_pause");
        }
        if self.rate_recovery.is_zero() {
            return bad("rate_recovery", "must be more than 0");
        }
        if let Some(w) = &self.warmup {
            if w.caps.is_empty() {
                return bad("warmup.caps", "needs at least one cap");
            }
            if w.growth_permille < 1000 {
                return bad(
                    "warmup.growth_permille",
                    "must be at least 1000 (a cap never shrinks)",
                );
            }
        }
        if let Some(b) = &self.retry_budget {
            if b.window.as_millis() < 4 {
                return bad("retry_budget.window", "must be at least 4 ms");
            }
        }
        for (i, r) in self.rules.iter().enumerate() {
            let err = |field: &'static str, reason: String| {
                Err(ConfigError {
                    rule: Some(if r.id.trim().is_empty() {
                        format!("#{i}")
                    } else {
                        r.id.clone()
                    }),
                    field: Cow::Borrowed(field),
                    reason,
                })
            };
            if r.id.trim().is_empty() {
                return err("id", "the id is empty".into());
            }
            if self.rules[..i].iter().any(|o| o.id == r.id) {
                return err("id", "the id is used by more than one rule".into());
            }
            if r.threshold == 0 || r.threshold > 10_000 {
                return err("threshold", "must be from 1 to 10000".into());
            }
            if r.window.is_zero() {
                return err("window", "must be more than 0".into());
            }
            match r.action {
                RuleAction::Suspend { duration } if duration.is_zero() => {
                    return err("action.duration", "must be more than 0".into());
                }
                RuleAction::SetRate { rate, duration } => {
                    if duration.is_zero() {
                        return err("action.duration", "must be more than 0".into());
                    }
                    if rate.count == 0 || rate.per.is_zero() || rate.per_minute_milli() == 0 {
                        return err(
                            "action.rate",
                            "needs a count and a period more than 0".into(),
                        );
                    }
                }
                RuleAction::Suspend { .. } => {}
            }
        }
        Ok(())
    }
}

/// A [`HealthConfig`] that cannot be used.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("destination health config: {}field `{field}`: {reason}", rule.as_ref().map(|r| format!("rule {r:?}: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The suspension rule at fault, if the field is one of a rule's.
    pub rule: Option<String>,
    /// The field at fault.
    pub field: Cow<'static, str>,
    /// What is expected.
    pub reason: String,
}
