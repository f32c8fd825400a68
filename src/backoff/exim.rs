//! Exim-style retry rule chains: `F,2h,15m; G,16h,1h,1.5; F,4d,6h`.

use core::fmt;
use core::str::FromStr;
use std::time::Duration;

use super::parse::{Compact, ParseError, parse_duration, split_with_offsets, trim_with_offset};
use super::{Backoff, Entropy, Factor, Next, RetryState};
use crate::Timestamp;

/// One parameter set of an Exim retry rule.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum EximRule {
    /// `F,cutoff,interval`: retry every `interval`.
    Fixed {
        /// Applies while the failing interval is at most this.
        cutoff: Duration,
        /// The wait.
        interval: Duration,
    },
    /// `G,cutoff,start,mult`: geometric: the previous gap (the smaller of the planned
    /// and the actual one) times `mult`, or `start` when that gap was below `start`.
    Geometric {
        /// Applies while the failing interval is at most this.
        cutoff: Duration,
        /// The smallest gap.
        start: Duration,
        /// The multiplier (thousandths, as Exim keeps it).
        mult: Factor,
    },
    /// `H,cutoff,start,mult`: like `G`, but the gap is drawn uniformly from the upper
    /// half `[(start + gap) / 2, gap)` of what `G` would give.
    Randomized {
        /// Applies while the failing interval is at most this.
        cutoff: Duration,
        /// The smallest gap.
        start: Duration,
        /// The multiplier.
        mult: Factor,
    },
}

impl EximRule {
    /// The cutoff: the rule applies while the failing interval is at most this.
    pub fn cutoff(&self) -> Duration {
        match *self {
            EximRule::Fixed { cutoff, .. }
            | EximRule::Geometric { cutoff, .. }
            | EximRule::Randomized { cutoff, .. } => cutoff,
        }
    }
}

impl fmt::Display for EximRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EximRule::Fixed { cutoff, interval } => {
                write!(f, "F,{},{}", Compact(cutoff), Compact(interval))
            }
            EximRule::Geometric {
                cutoff,
                start,
                mult,
            } => {
                write!(f, "G,{},{},{}", Compact(cutoff), Compact(start), mult)
            }
            EximRule::Randomized {
                cutoff,
                start,
                mult,
            } => {
                write!(f, "H,{},{},{}", Compact(cutoff), Compact(start), mult)
            }
        }
    }
}

/// An Exim retry rule chain: the parameter sets of one rule, tried in order.
///
/// The clock is the *failing interval*: the time since the first failure, raised to
/// the message's age when that is larger (Exim does so for message and address
/// errors, so a flaky destination whose successes keep resetting the first failure
/// cannot keep a message forever; [`EximRules::floor_by_age`] turns it off, as for
/// host errors). The first parameter set whose cutoff is at least the failing
/// interval gives the next gap; when none is left, the chain gives up (Exim times
/// the address out). Every gap is capped at [`EximRules::max_interval`]
/// (Exim's `retry_interval_max`, 24 h). Arithmetic is in whole seconds, as in Exim.
///
/// ```
/// use std::time::Duration;
/// use tempfail::Timestamp;
/// use tempfail::backoff::{Backoff, EximRules, Next, RetryState};
///
/// let rules: EximRules = "F,2h,15m; G,16h,1h,1.5; F,4d,6h".parse().unwrap();
/// assert_eq!(rules.to_string(), "F,2h,15m; G,16h,1h,1.5; F,4d,6h");
/// let state = RetryState::new(Timestamp::from_secs(0));
/// assert_eq!(rules.next_delay_seeded(&state, Timestamp::from_secs(0)), Next::Retry(Duration::from_secs(900)));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct EximRules {
    /// The parameter sets, in order.
    pub rules: Vec<EximRule>,
    /// The cap on every gap (`retry_interval_max`, default 24 h).
    pub max_interval: Duration,
    /// Raise the failing interval to the message's age (message/address errors; default true).
    pub floor_by_age: bool,
}

/// Exim's `retry_interval_max` default.
pub const EXIM_MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

impl EximRules {
    /// A chain from parameter sets, with Exim's defaults for the rest.
    pub fn new(rules: Vec<EximRule>) -> Self {
        EximRules {
            rules,
            max_interval: EXIM_MAX_INTERVAL,
            floor_by_age: true,
        }
    }

    /// Exim's default rule, `F,2h,15m; G,16h,1h,1.5; F,4d,6h`.
    pub fn exim_default() -> Self {
        let h = |n: u64| Duration::from_secs(n * 3600);
        EximRules::new(vec![
            EximRule::Fixed {
                cutoff: h(2),
                interval: Duration::from_secs(900),
            },
            EximRule::Geometric {
                cutoff: h(16),
                start: h(1),
                mult: Factor::from_milli(1500),
            },
            EximRule::Fixed {
                cutoff: h(96),
                interval: h(6),
            },
        ])
    }

    /// Sets the cap on every gap.
    pub fn with_max_interval(mut self, cap: Duration) -> Self {
        self.max_interval = cap;
        self
    }

    /// Sets whether the failing interval is floored by the message's age.
    pub fn with_floor_by_age(mut self, on: bool) -> Self {
        self.floor_by_age = on;
        self
    }
}

impl Backoff for EximRules {
    fn next_delay(&self, state: &RetryState, now: Timestamp, entropy: &mut Entropy<'_>) -> Next {
        let now_s = now.as_secs();
        let first = state.first_failure.unwrap_or(now).as_secs();
        let mut failing = now_s.saturating_sub(first);
        if self.floor_by_age {
            failing = failing.max(now_s.saturating_sub(state.arrival.as_secs()));
        }
        let Some(rule) = self.rules.iter().find(|r| r.cutoff().as_secs() >= failing) else {
            return Next::GiveUp;
        };
        let lastgap = || -> u64 {
            match (state.last_attempt, state.planned_delay) {
                (Some(last), Some(planned)) => {
                    planned.as_secs().min(now_s.saturating_sub(last.as_secs()))
                }
                (Some(last), None) => now_s.saturating_sub(last.as_secs()),
                _ => 0,
            }
        };
        let gap = match *rule {
            EximRule::Fixed { interval, .. } => interval.as_secs(),
            EximRule::Geometric { start, mult, .. } => {
                let lg = lastgap();
                if lg < start.as_secs() {
                    start.as_secs()
                } else {
                    mult.apply(lg)
                }
            }
            EximRule::Randomized { start, mult, .. } => {
                let start = start.as_secs();
                let next = mult.apply(lastgap()).max(start);
                let lo = start + (next - start) / 2;
                if next > lo {
                    entropy.between(lo, next - 1)
                } else {
                    lo
                }
            }
        };
        // A gap is at least one second: a zero interval ("retry at once", which Exim
        // does on its next queue run) must still let the failing interval grow, so the
        // chain reaches its last cutoff instead of retrying at the same instant forever.
        Next::Retry(Duration::from_secs(
            gap.min(self.max_interval.as_secs()).max(1),
        ))
    }
}

impl fmt::Display for EximRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// The most parameter sets in one chain.
pub const MAX_EXIM_RULES: usize = 64;

impl FromStr for EximRules {
    type Err = ParseError;

    /// Parses `F,2h,15m; G,16h,1h,1.5; F,4d,6h` (parameter sets separated by `;`,
    /// fields by `,`; spaces allowed). Cutoffs must not decrease, and waits (an
    /// `F` interval, a `G`/`H` start) must be more than 0. Errors point at the bad
    /// token. An empty string is refused: an empty chain would give up at the
    /// first failure (to give up at once, use a category rule that never retries).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let mut rules = Vec::new();
        if s.trim().is_empty() {
            return Err(ParseError::new(
                s.len() - s.trim_start().len(),
                "",
                "a parameter set such as F,2h,15m (the rule chain is empty: it would give up at the first failure)",
            ));
        }
        let mut prev_cutoff = Duration::ZERO;
        for (off, raw) in split_with_offsets(s, ';') {
            let (set, set_off) = trim_with_offset(raw, off);
            if set.is_empty() {
                return Err(ParseError::new(
                    set_off,
                    set,
                    "a parameter set such as F,2h,15m",
                ));
            }
            if rules.len() == MAX_EXIM_RULES {
                return Err(ParseError::new(set_off, set, "at most 64 parameter sets"));
            }
            let fields: Vec<(usize, &str)> = split_with_offsets(set, ',')
                .take(5)
                .map(|(o, f)| {
                    let (t, to) = trim_with_offset(f, set_off + o);
                    (to, t)
                })
                .collect();
            let (kind_off, kind) = fields[0];
            let want = match kind {
                "F" | "f" => 3,
                "G" | "g" | "H" | "h" => 4,
                _ => return Err(ParseError::new(kind_off, kind, "F, G or H")),
            };
            if fields.len() != want {
                let (o, t) = fields.get(want).copied().unwrap_or((set_off, set));
                let expected = if want == 3 {
                    "F,cutoff,interval"
                } else {
                    "G,cutoff,start,multiplier or H,cutoff,start,multiplier"
                };
                return Err(ParseError::new(o, t, expected));
            }
            let dur = |(o, t): (usize, &str)| parse_duration(t).map_err(|e| e.shifted(o));
            let wait = |(o, t): (usize, &str)| match dur((o, t)) {
                Ok(d) if d.is_zero() => Err(ParseError::new(
                    o,
                    t,
                    "a wait of more than 0 (a zero wait retries at once, without end)",
                )),
                other => other,
            };
            let cutoff = dur(fields[1])?;
            if cutoff < prev_cutoff {
                return Err(ParseError::new(
                    fields[1].0,
                    fields[1].1,
                    "a cutoff no smaller than the previous one",
                ));
            }
            prev_cutoff = cutoff;
            let rule = if want == 3 {
                EximRule::Fixed {
                    cutoff,
                    interval: wait(fields[2])?,
                }
            } else {
                let start = wait(fields[2])?;
                let (mo, mt) = fields[3];
                let mult: Factor = mt.parse().map_err(|e: ParseError| e.shifted(mo))?;
                if matches!(kind, "G" | "g") {
                    EximRule::Geometric {
                        cutoff,
                        start,
                        mult,
                    }
                } else {
                    EximRule::Randomized {
                        cutoff,
                        start,
                        mult,
                    }
                }
            };
            rules.push(rule);
        }
        Ok(EximRules::new(rules))
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(
        deny_unknown_fields,
        expecting = "an Exim backoff: a map with rules (such as \"F,2h,15m; G,16h,1h,1.5\") and optional max_interval, floor_by_age"
    )]
    struct Wire {
        #[serde(deserialize_with = "chain")]
        rules: String,
        #[serde(
            with = "crate::backoff::parse::serde_duration",
            default = "default_max"
        )]
        max_interval: Duration,
        #[serde(default = "default_true")]
        floor_by_age: bool,
    }

    /// The chain's text, described as such when something else is given.
    fn chain<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an Exim rule chain such as \"F,2h,15m; G,16h,1h,1.5; F,4d,6h\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_owned())
            }
        }
        d.deserialize_str(V)
    }

    fn default_max() -> Duration {
        EXIM_MAX_INTERVAL
    }
    fn default_true() -> bool {
        true
    }

    impl Serialize for EximRules {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            Wire {
                rules: self.to_string(),
                max_interval: self.max_interval,
                floor_by_age: self.floor_by_age,
            }
            .serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for EximRules {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let w = Wire::deserialize(d)?;
            let rules: EximRules = w
                .rules
                .parse()
                .map_err(|e| serde::de::Error::custom(format_args!("rules: {e}")))?;
            Ok(rules
                .with_max_interval(w.max_interval)
                .with_floor_by_age(w.floor_by_age))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_point_at_tokens() {
        let e = "F,2h,15m; X,16h,1h".parse::<EximRules>().unwrap_err();
        assert_eq!((e.position, e.token.as_str()), (10, "X"));
        let e = "F,2h,15q".parse::<EximRules>().unwrap_err();
        assert_eq!((e.position, e.token.as_str()), (5, "15q"));
        let e = "G,16h,1h,1.5x".parse::<EximRules>().unwrap_err();
        assert_eq!((e.position, e.token.as_str()), (9, "1.5x"));
        let e = "F,2h".parse::<EximRules>().unwrap_err();
        assert_eq!(e.expected, "F,cutoff,interval");
        let e = "F,2h,15m,3".parse::<EximRules>().unwrap_err();
        assert_eq!((e.position, e.token.as_str()), (9, "3"));
        let e = "F,4d,6h; F,2h,15m".parse::<EximRules>().unwrap_err();
        assert_eq!((e.position, e.token.as_str()), (11, "2h"));
        let e = "  ".parse::<EximRules>().unwrap_err();
        assert!(e.to_string().contains("the rule chain is empty"), "{e}");
        let e = "F,2h,15m; G,4h,0s,2".parse::<EximRules>().unwrap_err();
        assert_eq!((e.position, e.token.as_str()), (15, "0s"));
        assert!(e.to_string().contains("zero wait"), "{e}");
        assert!("F,2h,15m;".parse::<EximRules>().is_err());
    }

    #[test]
    fn display_round_trips() {
        let s = "F,2h,15m; H,16h,1h,1.125; F,4d,6h";
        assert_eq!(s.parse::<EximRules>().unwrap().to_string(), s);
    }
}
