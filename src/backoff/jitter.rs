//! Randomness as an argument ([`Entropy`]), jitter, and a backoff with jitter
//! applied ([`Jittered`], [`AnyBackoff`]).

use super::*;

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
#[cfg_attr(
    feature = "serde",
    serde(tag = "kind", rename_all = "snake_case", from = "wire::JitterWire")
)]
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
    #[must_use]
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

/// Any backoff with jitter applied to its delays. [`AnyBackoff`] is this with a
/// built-in backoff: the serializable form a policy holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        deny_unknown_fields,
        expecting = "a backoff and its jitter: a map with backoff (a map with kind and its fields) and optional jitter"
    )
)]
pub struct Jittered<B> {
    /// The backoff giving the nominal delay.
    pub backoff: B,
    /// The spread applied to its delays.
    #[cfg_attr(feature = "serde", serde(default))]
    pub jitter: Jitter,
}

impl<B> Jittered<B> {
    /// The same backoff with `jitter`.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }
}

impl<B: Backoff> Backoff for Jittered<B> {
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next {
        match self.backoff.next_delay(state, now, entropy) {
            Next::Retry(d) => Next::Retry(self.jitter.apply(d, state, entropy)),
            Next::GiveUp => Next::GiveUp,
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
pub type AnyBackoff = Jittered<BackoffKind>;

#[cfg(feature = "serde")]
mod wire {
    use super::*;

    /// What a jitter reads from: the kinds without fields are empty struct variants
    /// so that a field given to them is refused, naming it (serde would ignore it
    /// on a unit variant).
    #[derive(serde::Deserialize)]
    #[serde(
        tag = "kind",
        rename_all = "snake_case",
        deny_unknown_fields,
        expecting = "a jitter: a map with kind (none, full, equal, decorrelated, proportional or additive) and its fields"
    )]
    pub(super) enum JitterWire {
        None {},
        Full {},
        Equal {},
        Decorrelated {
            #[serde(with = "serde_duration")]
            base: Duration,
            #[serde(with = "serde_duration")]
            cap: Duration,
        },
        Proportional {
            #[serde(deserialize_with = "permille")]
            permille: u16,
        },
        Additive {
            #[serde(with = "serde_duration")]
            minus: Duration,
            #[serde(with = "serde_duration")]
            plus: Duration,
        },
    }

    impl From<JitterWire> for Jitter {
        fn from(w: JitterWire) -> Self {
            match w {
                JitterWire::None {} => Jitter::None,
                JitterWire::Full {} => Jitter::Full,
                JitterWire::Equal {} => Jitter::Equal,
                JitterWire::Decorrelated { base, cap } => Jitter::Decorrelated { base, cap },
                JitterWire::Proportional { permille } => Jitter::Proportional { permille },
                JitterWire::Additive { minus, plus } => Jitter::Additive { minus, plus },
            }
        }
    }

    fn permille<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = u16;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a ratio in thousandths: a whole number, 0 to 1000 (100 is ±10 %)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u16, E> {
                u16::try_from(v)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u16, E> {
                u16::try_from(v)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_u64(V)
    }
}
