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

mod jitter;
mod kinds;
mod state;
mod validate;

pub use jitter::{AnyBackoff, Entropy, Jitter, Jittered};
pub use kinds::{AfterLast, AgeBased, BackoffKind, DelayList, Exponential, Factor, Fixed};
pub(crate) use state::splitmix64;
pub use state::{CategoryFailures, RetryState, stable_hash};
pub use validate::{BackoffError, BackoffProblem};

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
    #[must_use]
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next;

    /// [`Backoff::next_delay`] with hash-based entropy keyed by the state
    /// ([`Entropy::for_state`]): reproducible without any RNG.
    #[must_use]
    fn next_delay_seeded(&self, state: &RetryState, now: Timestamp) -> Next {
        self.next_delay(state, now, &mut Entropy::for_state(state))
    }
}

impl<B: Backoff + ?Sized> Backoff for &B {
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next {
        (**self).next_delay(state, now, entropy)
    }
}

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
