//! The retry state that lives with each message, and stable hashing for seeds.

use super::*;
use crate::classify::Category;

// ---------------------------------------------------------------------------
// Retry state
// ---------------------------------------------------------------------------

/// What happened to a message (or one recipient) so far: the input of every
/// [`Backoff`] and of [`crate::policy::RetryPolicy`].
///
/// Small and `Copy`; keep it with the message. With the `serde` feature it
/// serializes with its format version (`"format_version": 2`; version 1, without
/// the per-category counts, and `v` from earlier builds still load); an unknown
/// version is refused
/// ([`crate::persist::PersistError::UnsupportedVersion`]).
///
/// The state describes the history *before* the failure being decided: ask the
/// backoff (or policy) with the current state and the failure's time, then record
/// the failure with [`RetryState::record_failure`] (or
/// [`crate::policy::RetryPolicy::on_failure`], which does both).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(from = "wire::RetryStateWire", into = "wire::RetryStateWire")
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
    /// Failures of each category so far: a category rule's own backoff counts only
    /// the failures of its category.
    pub category_failures: CategoryFailures,
}

/// Failures counted per [`Category`] (saturating).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct CategoryFailures([u16; 32]);

const _: () = assert!(Category::ALL.len() <= 32, "a count per category");

impl CategoryFailures {
    fn index(c: Category) -> usize {
        Category::ALL.iter().position(|x| *x == c).unwrap_or(0) & 31
    }

    /// Failures of `c` so far.
    pub fn get(&self, c: Category) -> u32 {
        u32::from(self.0[Self::index(c)])
    }

    /// Counts one more failure of `c`.
    pub fn add(&mut self, c: Category) {
        let i = Self::index(c);
        self.0[i] = self.0[i].saturating_add(1);
    }

    /// Each category with a non-zero count.
    pub fn iter(&self) -> impl Iterator<Item = (Category, u32)> + '_ {
        Category::ALL
            .iter()
            .map(|c| (*c, self.get(*c)))
            .filter(|(_, n)| *n > 0)
    }
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
            category_failures: CategoryFailures([0; 32]),
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
    use crate::persist::FormatVersion;
    use serde::{Deserialize, Serialize};

    impl crate::persist::Persisted for RetryState {
        const KIND: &'static str = "retry state";
        const FORMAT_VERSION: u32 = 2;
        /// Version 1 had no per-category counts: they start at zero.
        const OLDEST_VERSION: u32 = 1;
    }

    #[derive(Serialize, Deserialize)]
    #[serde(
        deny_unknown_fields,
        expecting = "a retry state: a map with format_version, arrival, failures, …"
    )]
    pub(crate) struct RetryStateWire {
        #[serde(rename = "format_version", alias = "version", alias = "v")]
        format_version: FormatVersion<RetryState>,
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
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        category_failures: std::collections::BTreeMap<Category, u32>,
    }

    impl From<RetryState> for RetryStateWire {
        fn from(s: RetryState) -> Self {
            RetryStateWire {
                format_version: FormatVersion::current(),
                arrival: s.arrival,
                seed: s.seed,
                failures: s.failures,
                deferrals: s.deferrals,
                first_failure: s.first_failure,
                last_attempt: s.last_attempt,
                planned_delay_ms: s.planned_delay.map(duration_millis),
                warnings: s.warnings,
                category_failures: s.category_failures.iter().collect(),
            }
        }
    }

    impl From<RetryStateWire> for RetryState {
        fn from(w: RetryStateWire) -> Self {
            RetryState {
                arrival: w.arrival,
                seed: w.seed,
                failures: w.failures,
                deferrals: w.deferrals.max(w.failures),
                first_failure: w.first_failure,
                last_attempt: w.last_attempt,
                planned_delay: w.planned_delay_ms.map(Duration::from_millis),
                warnings: w.warnings,
                category_failures: {
                    let mut f = CategoryFailures::default();
                    for (c, n) in w.category_failures {
                        f.0[CategoryFailures::index(c)] = u16::try_from(n).unwrap_or(u16::MAX);
                    }
                    f
                },
            }
        }
    }
}
