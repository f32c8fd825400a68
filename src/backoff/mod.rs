//! Pure delay functions: how long to wait after a failed attempt.
//!
//! A [`Backoff`] is a *query*: given the message's [`RetryState`] (what happened
//! so far) and `now` (the time of the failure being decided), it returns the
//! next delay or [`Next::GiveUp`]. It keeps no clock and no hidden iterator;
//! the state is small, `Copy`, and (with the `serde` feature) serializable, so it
//! lives with the message in the caller's spool and a restored message gets the
//! same answers.
//!
//! Implementations: [`Fixed`], [`Exponential`], [`DelayList`] (explicit list,
//! Stalwart- and Haraka-style), [`AgeBased`] (Postfix, Sendmail), [`EximRules`]
//! (Exim's F/G/H chains). [`Jitter`] spreads a delay (none, full, equal,
//! decorrelated, proportional, additive), drawing from an [`Entropy`]: an
//! injected `rand` RNG, or a hash of a stable id and the attempt number so
//! results are reproducible without any RNG. [`AnyBackoff`] is the serializable
//! union used by [`crate::policy::RetryPolicy`].
//!
//! All arithmetic is on integer milliseconds and saturates: attempt 10,000 of
//! an exponential backoff with factor 10 is a valid question; its answer is the
//! cap (or, with no cap, `u64::MAX` milliseconds, which a [`Timestamp`] turns
//! into [`Timestamp::MAX`]: never a time in the past, never a panic).
//!
//! ```
//! use std::time::Duration;
//! use tempfail::Timestamp;
//! use tempfail::backoff::{Backoff, Exponential, Factor, Next, RetryState};
//!
//! let exp = Exponential::new(Duration::from_secs(60), Factor::integer(2))
//!     .with_cap(Duration::from_secs(3600));
//! let t0 = Timestamp::from_secs(1_700_000_000);
//! let mut state = RetryState::new(t0);
//! let mut now = t0;
//! let mut waits = Vec::new();
//! for _ in 0..8 {
//!     let Next::Retry(d) = exp.next_delay_seeded(&state, now) else { unreachable!() };
//!     waits.push(d.as_secs());
//!     state.record_failure(now, Some(d));
//!     now += d;
//! }
//! assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
//! ```

mod exim;
mod parse;

use core::fmt;
use core::marker::PhantomData;
use core::str::FromStr;
use std::time::Duration;

pub use exim::{EXIM_MAX_INTERVAL, EximRule, EximRules, MAX_EXIM_RULES};
pub use parse::{
    Compact, HARAKA_MIN_INTERVAL, MAX_LIST_ENTRIES, ParseError, parse_duration, parse_haraka,
};

#[cfg(feature = "serde")]
pub(crate) use parse::serde_duration;

use crate::Timestamp;
use crate::time::duration_millis;

// ---------------------------------------------------------------------------
// Retry state
// ---------------------------------------------------------------------------

/// What happened to a message (or one recipient) so far: the input of every
/// [`Backoff`] and of [`crate::policy::RetryPolicy`].
///
/// Small and `Copy`; keep it with the message. With the `serde` feature it
/// serializes with a format version (`"v": 1`); an unknown version is refused.
///
/// The state describes the history *before* the failure being decided: ask the
/// backoff (or policy) with the current state and the failure's time, then record
/// the failure with [`RetryState::record_failure`] (or
/// [`crate::policy::RetryPolicy::on_failure`], which does both).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "wire::RetryStateWire", into = "wire::RetryStateWire")
)]
#[non_exhaustive]
pub struct RetryState {
    /// When the message arrived (its age is measured from here).
    pub arrival: Timestamp,
    /// A stable per-message value (e.g. [`stable_hash`] of the queue id): the key of
    /// hash-based jitter, so a restored message draws the same jitter.
    pub seed: u64,
    /// Failed attempts that counted (rate-limit deferrals may not count).
    pub failures: u32,
    /// Every deferral, counted or not (keys the jitter draws).
    pub deferrals: u32,
    /// The first counted failure.
    pub first_failure: Option<Timestamp>,
    /// The last counted failed attempt.
    pub last_attempt: Option<Timestamp>,
    /// The delay planned after the last counted failure (Exim's G and H rules use
    /// the smaller of it and the actual gap).
    pub planned_delay: Option<Duration>,
    /// How many delay warnings have been issued (see the policy's delay warnings).
    pub warnings: u32,
}

impl RetryState {
    /// A message that arrived at `arrival` and has not failed yet; seed 0.
    pub const fn new(arrival: Timestamp) -> Self {
        RetryState {
            arrival,
            seed: 0,
            failures: 0,
            deferrals: 0,
            first_failure: None,
            last_attempt: None,
            planned_delay: None,
            warnings: 0,
        }
    }

    /// The same state with the jitter key `seed` (use a hash of a stable id, see [`stable_hash`]).
    pub const fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The message's age at `now` (zero if `now` is before its arrival).
    pub fn age(&self, now: Timestamp) -> Duration {
        now.saturating_duration_since(self.arrival)
    }

    /// `now`, raised to the last recorded attempt so time never runs backwards.
    pub fn clamp_now(&self, now: Timestamp) -> Timestamp {
        match self.last_attempt {
            Some(last) => now.max(last),
            None => now,
        }
    }

    /// Records a counted failure at `now` after which `planned` was the chosen
    /// delay (`None` when giving up).
    pub fn record_failure(&mut self, now: Timestamp, planned: Option<Duration>) {
        let now = self.clamp_now(now);
        self.failures = self.failures.saturating_add(1);
        self.deferrals = self.deferrals.saturating_add(1);
        self.first_failure.get_or_insert(now);
        self.last_attempt = Some(now);
        self.planned_delay = planned;
    }

    /// Records a deferral that does not count as a failed attempt (a rate limit
    /// under a policy that does not count them): only the jitter key moves on.
    pub fn record_uncounted(&mut self) {
        self.deferrals = self.deferrals.saturating_add(1);
    }
}

/// A stable 64-bit hash of bytes (FNV-1a, finished with SplitMix64), for
/// [`RetryState::seed`]: hash the message's queue id or Message-ID once.
///
/// ```
/// use tempfail::backoff::stable_hash;
/// assert_eq!(stable_hash(b"4Xyz12"), stable_hash(b"4Xyz12"));
/// assert_ne!(stable_hash(b"4Xyz12"), stable_hash(b"4Xyz13"));
/// ```
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(h)
}

/// SplitMix64's finaliser (Steele, Lea and Flood, 2014): a bijective mix with
/// good avalanche, enough to turn (seed, attempt, draw) into uniform bits.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(feature = "serde")]
mod wire {
    use super::*;
    use serde::{Deserialize, Serialize};

    pub(crate) const VERSION: u32 = 1;

    #[derive(Serialize, Deserialize)]
    #[serde(
        deny_unknown_fields,
        expecting = "a retry state: a map with format_version, arrival, failures, …"
    )]
    pub(crate) struct RetryStateWire {
        #[serde(rename = "format_version", alias = "v")]
        v: u32,
        arrival: Timestamp,
        #[serde(default)]
        seed: u64,
        #[serde(default)]
        failures: u32,
        #[serde(default)]
        deferrals: u32,
        #[serde(default)]
        first_failure: Option<Timestamp>,
        #[serde(default)]
        last_attempt: Option<Timestamp>,
        /// Milliseconds.
        #[serde(default)]
        planned_delay_ms: Option<u64>,
        #[serde(default)]
        warnings: u32,
    }

    impl From<RetryState> for RetryStateWire {
        fn from(s: RetryState) -> Self {
            RetryStateWire {
                v: VERSION,
                arrival: s.arrival,
                seed: s.seed,
                failures: s.failures,
                deferrals: s.deferrals,
                first_failure: s.first_failure,
                last_attempt: s.last_attempt,
                planned_delay_ms: s.planned_delay.map(duration_millis),
                warnings: s.warnings,
            }
        }
    }

    impl TryFrom<RetryStateWire> for RetryState {
        type Error = crate::persist::UnsupportedVersion;
        fn try_from(w: RetryStateWire) -> Result<Self, Self::Error> {
            crate::persist::UnsupportedVersion::check("retry state", w.v, VERSION)?;
            Ok(RetryState {
                arrival: w.arrival,
                seed: w.seed,
                failures: w.failures,
                deferrals: w.deferrals.max(w.failures),
                first_failure: w.first_failure,
                last_attempt: w.last_attempt,
                planned_delay: w.planned_delay_ms.map(Duration::from_millis),
                warnings: w.warnings,
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------

/// Where jitter draws its randomness: an injected RNG (feature `rand`) or a
/// hash of a stable key and a counter (always available, reproducible).
///
/// ```
/// use tempfail::backoff::Entropy;
/// let a = Entropy::hashed(42, 3).next_u64();
/// let b = Entropy::hashed(42, 3).next_u64();
/// assert_eq!(a, b);
/// assert_ne!(a, Entropy::hashed(42, 4).next_u64());
/// ```
pub struct Entropy<'a> {
    key: u64,
    counter: u64,
    #[cfg(feature = "rand")]
    rng: Option<&'a mut dyn rand::RngCore>,
    _borrow: PhantomData<&'a mut ()>,
}

impl fmt::Debug for Entropy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "rand")]
        if self.rng.is_some() {
            return f.write_str("Entropy::Rng");
        }
        write!(f, "Entropy::Hashed({:#x})", self.key)
    }
}

impl Entropy<'static> {
    /// Reproducible draws from `id` (a stable per-message value) and `attempt`.
    pub fn hashed(id: u64, attempt: u64) -> Self {
        Entropy {
            key: splitmix64(id ^ splitmix64(attempt)),
            counter: 0,
            #[cfg(feature = "rand")]
            rng: None,
            _borrow: PhantomData,
        }
    }

    /// Reproducible draws for the next decision on `state`: keyed by its seed and
    /// deferral count.
    pub fn for_state(state: &RetryState) -> Self {
        Entropy::hashed(state.seed, u64::from(state.deferrals))
    }
}

#[cfg(feature = "rand")]
impl<'a> Entropy<'a> {
    /// Draws from an injected RNG (rand 0.9), e.g. a seeded `StdRng`.
    pub fn from_rng<R: rand::RngCore>(rng: &'a mut R) -> Self {
        Entropy {
            key: 0,
            counter: 0,
            rng: Some(rng),
            _borrow: PhantomData,
        }
    }
}

impl Entropy<'_> {
    /// 64 uniform bits.
    pub fn next_u64(&mut self) -> u64 {
        #[cfg(feature = "rand")]
        if let Some(rng) = self.rng.as_mut() {
            return rng.next_u64();
        }
        self.counter = self.counter.wrapping_add(1);
        splitmix64(self.key ^ self.counter.wrapping_mul(0xd1b5_4a32_d192_ed03))
    }

    /// A value in `[lo, hi]` (inclusive); `lo` when `hi < lo`. Multiply-shift
    /// mapping: the bias is below 2^-32 for ranges under 2^32.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        let x = self.next_u64();
        if span == u64::MAX {
            return x;
        }
        lo + ((u128::from(x) * u128::from(span + 1)) >> 64) as u64
    }
}

// ---------------------------------------------------------------------------
// The trait
// ---------------------------------------------------------------------------

/// What a backoff says after a failure.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Next {
    /// Try again after this delay.
    Retry(Duration),
    /// Stop retrying: the schedule is exhausted.
    GiveUp,
}

impl Next {
    /// The delay, if retrying.
    pub fn delay(self) -> Option<Duration> {
        match self {
            Next::Retry(d) => Some(d),
            Next::GiveUp => None,
        }
    }
}

/// A pure delay function.
///
/// `next_delay(state, now, entropy)` answers: the attempt that just failed at
/// `now` was failure number `state.failures + 1`; how long until the next one?
/// It must not panic for any input and must be deterministic given the same
/// entropy.
pub trait Backoff {
    /// The delay after the failure at `now`, given the history in `state`.
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next;

    /// [`Backoff::next_delay`] with hash-based entropy keyed by the state
    /// ([`Entropy::for_state`]): reproducible without any RNG.
    fn next_delay_seeded(&self, state: &RetryState, now: Timestamp) -> Next {
        self.next_delay(state, now, &mut Entropy::for_state(state))
    }
}

impl<B: Backoff + ?Sized> Backoff for &B {
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next {
        (**self).next_delay(state, now, entropy)
    }
}

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
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
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
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
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
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
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
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
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

// ---------------------------------------------------------------------------
// Jitter
// ---------------------------------------------------------------------------

/// How a nominal delay `d` is spread.
///
/// Every variant's bounds are closed intervals and hold for every draw
/// ([`Jitter::bounds`]):
///
/// | jitter | result |
/// |---|---|
/// | `none` | `d` |
/// | `full` | `U[0, d]` (AWS "full jitter" once `d` is capped) |
/// | `equal` | `d/2 + U[0, d/2]` |
/// | `decorrelated` | `U[base, min(cap, 3 × previous)]`: the cap is applied before the draw, so the spread does not vanish at the cap; ignores `d` |
/// | `proportional` | `U[d − r·d, d + r·d]`, `r` in thousandths |
/// | `additive` | `U[d − minus, d + plus]`, never below zero |
///
/// ```
/// use std::time::Duration;
/// use tempfail::Timestamp;
/// use tempfail::backoff::{Entropy, Jitter, RetryState};
/// let st = RetryState::new(Timestamp::EPOCH);
/// let j = Jitter::Proportional { permille: 100 };
/// let d = j.apply(Duration::from_secs(600), &st, &mut Entropy::hashed(7, 1));
/// assert!(d >= Duration::from_secs(540) && d <= Duration::from_secs(660));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Jitter {
    /// No spread.
    #[default]
    None,
    /// `U[0, d]`.
    Full,
    /// `d/2 + U[0, d/2]`.
    Equal,
    /// `U[base, min(cap, 3 × previous planned delay)]` (previous: `base` at first).
    Decorrelated {
        /// The smallest delay.
        #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
        base: Duration,
        /// The largest delay.
        #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
        cap: Duration,
    },
    /// `d ± r·d`, `r = permille / 1000` (values above 1000 act as 1000).
    Proportional {
        /// The ratio in thousandths.
        permille: u16,
    },
    /// `d − minus … d + plus`.
    Additive {
        /// The most taken off.
        #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
        minus: Duration,
        /// The most added.
        #[cfg_attr(feature = "serde", serde(with = "serde_duration"))]
        plus: Duration,
    },
}

impl Jitter {
    /// The snake_case name (`none`, `full`, `equal`, `decorrelated`, `proportional`, `additive`).
    pub const fn name(&self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
            Jitter::Decorrelated { .. } => "decorrelated",
            Jitter::Proportional { .. } => "proportional",
            Jitter::Additive { .. } => "additive",
        }
    }

    /// The closed interval `[lo, hi]` of results for nominal delay `d`, in milliseconds.
    pub fn bounds(&self, d: Duration, state: &RetryState) -> (Duration, Duration) {
        let ms = duration_millis(d);
        let (lo, hi) = match *self {
            Jitter::None => (ms, ms),
            Jitter::Full => (0, ms),
            Jitter::Equal => (ms / 2, ms),
            Jitter::Decorrelated { base, cap } => {
                let (base, cap) = (duration_millis(base), duration_millis(cap));
                let prev = state.planned_delay.map_or(base, duration_millis);
                let hi = cap.min(base.max(prev.saturating_mul(3)));
                (base.min(hi), hi)
            }
            Jitter::Proportional { permille } => {
                let r = Factor::from_milli(u32::from(permille.min(1000))).apply(ms);
                (ms - r, ms.saturating_add(r))
            }
            Jitter::Additive { minus, plus } => (
                ms.saturating_sub(duration_millis(minus)),
                ms.saturating_add(duration_millis(plus)),
            ),
        };
        (Duration::from_millis(lo), Duration::from_millis(hi))
    }

    /// Spreads `d`, drawing from `entropy` (no draw for [`Jitter::None`]).
    pub fn apply(&self, d: Duration, state: &RetryState, entropy: &mut Entropy<'_>) -> Duration {
        if *self == Jitter::None {
            return d;
        }
        let (lo, hi) = self.bounds(d, state);
        Duration::from_millis(entropy.between(duration_millis(lo), duration_millis(hi)))
    }
}

impl fmt::Display for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Jitter::Decorrelated { base, cap } => {
                write!(f, "decorrelated {}..{}", Compact(base), Compact(cap))
            }
            Jitter::Proportional { permille } => write!(
                f,
                "proportional ±{}",
                Factor::from_milli(u32::from(permille))
            ),
            Jitter::Additive { minus, plus } => {
                write!(f, "additive -{} +{}", Compact(minus), Compact(plus))
            }
            _ => f.write_str(self.name()),
        }
    }
}

/// Any backoff with jitter applied to its delays.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Jittered<B> {
    /// The backoff giving the nominal delay.
    pub inner: B,
    /// The spread.
    pub jitter: Jitter,
}

impl<B: Backoff> Backoff for Jittered<B> {
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next {
        match self.inner.next_delay(state, now, entropy) {
            Next::Retry(d) => Next::Retry(self.jitter.apply(d, state, entropy)),
            Next::GiveUp => Next::GiveUp,
        }
    }
}

/// The serializable union of the built-in backoffs.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
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

/// A built-in backoff and its jitter: the serializable form a policy holds.
///
/// ```
/// use std::time::Duration;
/// use tempfail::backoff::{AnyBackoff, Exponential, Factor, Jitter};
/// let b = AnyBackoff::from(Exponential::new(Duration::from_secs(300), Factor::integer(2)))
///     .with_jitter(Jitter::Full);
/// assert_eq!(b.jitter, Jitter::Full);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct AnyBackoff {
    /// The delay function.
    pub backoff: BackoffKind,
    /// The spread applied to its delays.
    #[cfg_attr(feature = "serde", serde(default))]
    pub jitter: Jitter,
}

impl AnyBackoff {
    /// The same backoff with `jitter`.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }
}

impl Backoff for AnyBackoff {
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next {
        match self.backoff.next_delay(state, now, entropy) {
            Next::Retry(d) => Next::Retry(self.jitter.apply(d, state, entropy)),
            Next::GiveUp => Next::GiveUp,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_parse_and_display() {
        for (s, m) in [
            ("2", 2000),
            ("1.5", 1500),
            ("1.125", 1125),
            ("0.5", 500),
            ("10", 10_000),
        ] {
            let f: Factor = s.parse().unwrap();
            assert_eq!(f.milli(), m);
            assert_eq!(f.to_string(), s);
        }
        for bad in ["", ".5", "1.", "1.2345", "-1", "1e3", "99999999"] {
            assert!(bad.parse::<Factor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn entropy_between_is_inclusive_and_bounded() {
        let mut e = Entropy::hashed(1, 1);
        let mut seen = [false; 3];
        for _ in 0..200 {
            let v = e.between(10, 12);
            assert!((10..=12).contains(&v));
            seen[(v - 10) as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
        assert_eq!(e.between(5, 5), 5);
        assert_eq!(e.between(9, 3), 9);
        let _ = e.between(0, u64::MAX);
    }

    #[test]
    fn age_based_queue_runs_align() {
        let b = AgeBased::new(Duration::from_secs(1800), Duration::from_secs(4 * 3600))
            .with_queue_runs(Duration::from_secs(1800));
        let st = RetryState::new(Timestamp::EPOCH);
        // Failure at 10 min: clamp gives 30 min (due 40 min), next run is at 1 h.
        assert_eq!(
            b.next_delay_seeded(&st, Timestamp::from_secs(600)),
            Next::Retry(Duration::from_secs(3000))
        );
    }
}
