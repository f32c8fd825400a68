//! The delay functions: fixed, exponential, explicit lists, Postfix's age-based wait,
//! the factors they use, and their serializable union.

use super::*;

// ---------------------------------------------------------------------------
// Factor
// ---------------------------------------------------------------------------

/// A multiplier in fixed point (thousandths), as Exim keeps its G/H multipliers:
/// `1.5` is 1500. Exact for every decimal with up to three places; products are
/// rounded down and saturate.
///
/// ```
/// use tempfail::backoff::Factor;
/// let f: Factor = "1.5".parse().unwrap();
/// assert_eq!(f, Factor::from_milli(1500));
/// assert_eq!(f.apply(3375), 5062);
/// assert_eq!(f.to_string(), "1.5");
/// assert!("1.5x".parse::<Factor>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Factor(u32);

impl Factor {
    /// A factor from thousandths (`1500` is ×1.5).
    pub const fn from_milli(milli: u32) -> Self {
        Factor(milli)
    }

    /// A whole factor (saturating at ×4,294,967).
    pub const fn integer(n: u32) -> Self {
        Factor(n.saturating_mul(1000))
    }

    /// The factor in thousandths.
    pub const fn milli(self) -> u32 {
        self.0
    }

    /// `⌊x × self⌋`, saturating at `u64::MAX`.
    pub fn apply(self, x: u64) -> u64 {
        // Fast paths first: a whole factor needs no division, and a product that
        // fits in 64 bits divides by the constant 1000 without a 128-bit division.
        if self.0 % 1000 == 0 {
            return x.saturating_mul(u64::from(self.0 / 1000));
        }
        if let Some(p) = x.checked_mul(u64::from(self.0)) {
            return p / 1000;
        }
        let p = u128::from(x) * u128::from(self.0) / 1000;
        u64::try_from(p).unwrap_or(u64::MAX)
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = (self.0 / 1000, self.0 % 1000);
        if frac == 0 {
            return write!(f, "{int}");
        }
        let mut s = format!("{frac:03}");
        while s.ends_with('0') {
            s.pop();
        }
        write!(f, "{int}.{s}")
    }
}

impl FromStr for Factor {
    type Err = ParseError;

    /// Parses `2`, `1.5`, `1.125` (at most three decimals).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        const EXPECTED: &str = "a multiplier such as 2 or 1.5 (at most three decimals)";
        let err = || ParseError::new(0, s, EXPECTED);
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !digits(int)
            || !digits(frac)
            || frac.len() > 3
            || (s.contains('.') && frac.is_empty())
        {
            return Err(err());
        }
        let int: u32 = int.parse().map_err(|_| err())?;
        let mut frac_milli: u32 = 0;
        for (i, b) in frac.bytes().enumerate() {
            frac_milli += u32::from(b - b'0') * [100, 10, 1][i];
        }
        int.checked_mul(1000)
            .and_then(|m| m.checked_add(frac_milli))
            .map(Factor)
            .ok_or_else(err)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Factor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Reads `"1.5"`, `2` or `1.5` (a number is rounded to thousandths).
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Factor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Factor;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a multiplier such as 2 or \"1.5\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Factor, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Factor, E> {
                u32::try_from(n)
                    .ok()
                    .and_then(|n| n.checked_mul(1000))
                    .map(Factor)
                    .ok_or_else(|| E::custom("multiplier too large"))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Factor, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom("a multiplier cannot be negative"))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_f64<E: serde::de::Error>(self, x: f64) -> Result<Factor, E> {
                let milli = (x * 1000.0).round();
                if milli.is_finite() && (0.0..=f64::from(u32::MAX)).contains(&milli) {
                    Ok(Factor(milli as u32))
                } else {
                    Err(E::custom("a multiplier between 0 and 4294967"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// Implementations
// ---------------------------------------------------------------------------

/// The same delay after every failure.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(deny_unknown_fields, expecting = "a fixed backoff: a map with delay")
)]
pub struct Fixed {
    /// The delay.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub delay: Duration,
}

impl Backoff for Fixed {
    fn next_delay(&self, _: &RetryState, _: Timestamp, _: &mut Entropy<'_>) -> Next {
        Next::Retry(self.delay)
    }
}

/// `base × factor^n` after the failure with `n` earlier failures (so `base`
/// after the first), capped.
///
/// Computed in integer milliseconds, rounding down at each step, saturating:
/// at attempt 10,000 with factor 10 the answer is the cap, or `u64::MAX` ms with
/// no cap. The loop stops as soon as the value reaches the cap or stops
/// changing, so any attempt number costs at most a few dozen steps for a
/// factor of 2.
///
/// ```
/// use std::time::Duration;
/// use tempfail::Timestamp;
/// use tempfail::backoff::{Backoff, Exponential, Factor, Next, RetryState};
/// let exp = Exponential::new(Duration::from_secs(1), Factor::integer(10));
/// let mut state = RetryState::new(Timestamp::EPOCH);
/// state.failures = 10_000;
/// assert_eq!(exp.next_delay_seeded(&state, Timestamp::EPOCH), Next::Retry(Duration::from_millis(u64::MAX)));
/// let capped = exp.with_cap(Duration::from_secs(3600));
/// assert_eq!(capped.next_delay_seeded(&state, Timestamp::EPOCH), Next::Retry(Duration::from_secs(3600)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "an exponential backoff: a map with base, factor and optional cap"
    )
)]
pub struct Exponential {
    /// The first delay.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub base: Duration,
    /// The growth per failure.
    pub factor: Factor,
    /// The largest delay (none: saturate at `u64::MAX` milliseconds).
    #[cfg_attr(feature = "serde", serde(with = "serde_duration::option", default))]
    pub cap: Option<Duration>,
}

impl Exponential {
    /// `base × factor^n`, no cap.
    pub const fn new(base: Duration, factor: Factor) -> Self {
        Exponential {
            base,
            factor,
            cap: None,
        }
    }

    /// With a cap on the delay.
    pub const fn with_cap(mut self, cap: Duration) -> Self {
        self.cap = Some(cap);
        self
    }

    /// The nominal delay after a failure with `n` earlier failures.
    pub fn delay_for(&self, n: u32) -> Duration {
        let cap = self.cap.map_or(u64::MAX, duration_millis);
        let mut v = duration_millis(self.base).min(cap);
        for _ in 0..n {
            let next = self.factor.apply(v).min(cap);
            if next == v {
                break;
            }
            v = next;
        }
        Duration::from_millis(v)
    }
}

impl Backoff for Exponential {
    fn next_delay(&self, state: &RetryState, _: Timestamp, _: &mut Entropy<'_>) -> Next {
        Next::Retry(self.delay_for(state.failures))
    }
}

/// What an explicit list does after its last entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AfterLast {
    /// The last entry repeats (Stalwart).
    Repeat,
    /// Give up (Haraka: bounce when the failures exceed the list).
    Stop,
}

impl AfterLast {
    /// The snake_case name (`repeat`, `stop`).
    pub const fn name(self) -> &'static str {
        match self {
            AfterLast::Repeat => "repeat",
            AfterLast::Stop => "stop",
        }
    }
}

/// An explicit list of delays: entry `n` after the failure with `n` earlier
/// failures; then the last repeats, or the list gives up. An empty list gives
/// up at once (Haraka's `none`).
///
/// ```
/// use std::time::Duration;
/// use tempfail::Timestamp;
/// use tempfail::backoff::{Backoff, DelayList, Next, RetryState};
/// let list = DelayList::haraka("1m, 5m*2").unwrap();
/// let mut st = RetryState::new(Timestamp::EPOCH);
/// st.failures = 2;
/// assert_eq!(list.next_delay_seeded(&st, Timestamp::EPOCH), Next::Retry(Duration::from_secs(300)));
/// st.failures = 3;
/// assert_eq!(list.next_delay_seeded(&st, Timestamp::EPOCH), Next::GiveUp);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "a list backoff: a map with delays and after_last"
    )
)]
pub struct DelayList {
    /// The delays.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration::vec"))]
    pub delays: Vec<Duration>,
    /// After the last entry.
    pub after_last: AfterLast,
}

impl DelayList {
    /// A list whose last entry repeats.
    pub fn repeat_last(delays: Vec<Duration>) -> Self {
        DelayList {
            delays,
            after_last: AfterLast::Repeat,
        }
    }

    /// A list that gives up after its last entry.
    pub fn stop_after(delays: Vec<Duration>) -> Self {
        DelayList {
            delays,
            after_last: AfterLast::Stop,
        }
    }

    /// A Haraka `temp_fail_intervals` list (`1m, 5m*2, 1h*3`, `none`); see [`parse_haraka`].
    pub fn haraka(s: &str) -> Result<Self, ParseError> {
        parse_haraka(s).map(DelayList::stop_after)
    }

    /// Haraka's default: 12 waits of 2^(i+5) s for i = 1…12 (64 s … 36 h 24 m 32 s),
    /// so the 13th failure bounces.
    pub fn haraka_default() -> Self {
        DelayList::stop_after(
            (1..=12)
                .map(|i| Duration::from_secs(1 << (i + 5)))
                .collect(),
        )
    }
}

impl Backoff for DelayList {
    fn next_delay(&self, state: &RetryState, _: Timestamp, _: &mut Entropy<'_>) -> Next {
        let n = usize::try_from(state.failures).unwrap_or(usize::MAX);
        match (self.delays.get(n), self.after_last, self.delays.last()) {
            (Some(&d), _, _) => Next::Retry(d),
            (None, AfterLast::Repeat, Some(&last)) => Next::Retry(last),
            _ => Next::GiveUp,
        }
    }
}

/// Wait as long as the message is old, within bounds (Postfix's qmgr:
/// `clamp(age, minimal_backoff_time, maximal_backoff_time)`, so waits double
/// until the cap), optionally aligned to queue runs (Sendmail: the retry
/// happens at the first queue run at or after the wait, runs every `queue_run`
/// from the message's arrival).
///
/// ```
/// use std::time::Duration;
/// use tempfail::Timestamp;
/// use tempfail::backoff::{AgeBased, Backoff, Next, RetryState};
/// let pf = AgeBased::postfix();
/// let st = RetryState::new(Timestamp::EPOCH);
/// assert_eq!(pf.next_delay_seeded(&st, Timestamp::from_secs(600)), Next::Retry(Duration::from_secs(600)));
/// assert_eq!(pf.next_delay_seeded(&st, Timestamp::from_secs(9000)), Next::Retry(Duration::from_secs(4000)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "an age-based backoff: a map with min, max and optional queue_run"
    )
)]
pub struct AgeBased {
    /// The shortest wait (Postfix `minimal_backoff_time`).
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub min: Duration,
    /// The longest wait (Postfix `maximal_backoff_time`, Sendmail `MaxQueueAge`).
    #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
    pub max: Duration,
    /// Retries happen only on queue runs this far apart, counted from arrival.
    #[cfg_attr(feature = "serde", serde(with = "serde_duration::option", default))]
    pub queue_run: Option<Duration>,
}

impl AgeBased {
    /// `clamp(age, min, max)`.
    pub const fn new(min: Duration, max: Duration) -> Self {
        AgeBased {
            min,
            max,
            queue_run: None,
        }
    }

    /// Postfix's defaults: 300 s to 4000 s.
    pub const fn postfix() -> Self {
        AgeBased::new(Duration::from_secs(300), Duration::from_secs(4000))
    }

    /// Aligns retries to queue runs every `every` from arrival.
    pub const fn with_queue_runs(mut self, every: Duration) -> Self {
        self.queue_run = Some(every);
        self
    }
}

impl Backoff for AgeBased {
    fn next_delay(&self, state: &RetryState, now: Timestamp, _: &mut Entropy<'_>) -> Next {
        let age = state.age(now);
        // `clamp` panics when min > max; a misconfigured pair takes max as the wait.
        let wait = age.max(self.min).min(self.max);
        let Some(run) = self.queue_run.map(duration_millis).filter(|&r| r > 0) else {
            return Next::Retry(wait);
        };
        let due = duration_millis(age).saturating_add(duration_millis(wait));
        let aligned = due.div_ceil(run).saturating_mul(run).max(due);
        Next::Retry(Duration::from_millis(
            aligned.saturating_sub(duration_millis(age)),
        ))
    }
}

/// The serializable union of the built-in backoffs. Every kind and field, with
/// JSON and TOML examples: the [configuration reference](crate::policy#configuration-reference).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        tag = "kind",
        rename_all = "snake_case",
        expecting = "a backoff: a map with kind (fixed, exponential, list, age_based or exim) and its fields"
    )
)]
#[non_exhaustive]
pub enum BackoffKind {
    /// [`Fixed`].
    Fixed(Fixed),
    /// [`Exponential`].
    Exponential(Exponential),
    /// [`DelayList`].
    List(DelayList),
    /// [`AgeBased`].
    AgeBased(AgeBased),
    /// [`EximRules`].
    Exim(EximRules),
}

impl BackoffKind {
    /// The snake_case name (`fixed`, `exponential`, `list`, `age_based`, `exim`).
    pub const fn name(&self) -> &'static str {
        match self {
            BackoffKind::Fixed(_) => "fixed",
            BackoffKind::Exponential(_) => "exponential",
            BackoffKind::List(_) => "list",
            BackoffKind::AgeBased(_) => "age_based",
            BackoffKind::Exim(_) => "exim",
        }
    }
}

impl Backoff for BackoffKind {
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next {
        match self {
            BackoffKind::Fixed(b) => b.next_delay(state, now, entropy),
            BackoffKind::Exponential(b) => b.next_delay(state, now, entropy),
            BackoffKind::List(b) => b.next_delay(state, now, entropy),
            BackoffKind::AgeBased(b) => b.next_delay(state, now, entropy),
            BackoffKind::Exim(b) => b.next_delay(state, now, entropy),
        }
    }
}

macro_rules! into_any {
    ($($t:ident => $v:ident),*) => {$(
        impl From<$t> for AnyBackoff {
            fn from(b: $t) -> Self {
                AnyBackoff { backoff: BackoffKind::$v(b), jitter: Jitter::None }
            }
        }
    )*};
}
into_any!(Fixed => Fixed, Exponential => Exponential, DelayList => List, AgeBased => AgeBased, EximRules => Exim);
