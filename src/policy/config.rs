//! The pieces a policy is configured with: lifetime, delay warnings, hint bounds,
//! per-category and per-scope rules.

use super::*;

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
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "a lifetime: a map with limit and mode"
    )
)]
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
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "delay warnings: a map with at (a list of durations) and repeat"
    )
)]
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
#[cfg_attr(
    feature = "serde",
    serde(deny_unknown_fields, expecting = "hint bounds: a map with min and max")
)]
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
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "a category rule: a map with category and optional never_retry, backoff, give_up_after, honour_hint, hold_destination"
    )
)]
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

    /// With its own backoff, which counts only the failures of this rule's category
    /// (`RetryState::category_failures`), not those of other kinds.
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
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "a scope rule: a map with scope and backoff"
    )
)]
pub struct ScopeRule {
    /// The scope.
    pub scope: Scope,
    /// Its backoff.
    pub backoff: AnyBackoff,
}
