//! What makes a backoff unusable, checked in one place: waits of zero that repeat
//! without end, bounds in the wrong order, chains with nothing in them.

use super::*;

/// A backoff that cannot be used as configured, and where.
///
/// ```
/// use std::time::Duration;
/// use tempfail::backoff::{AgeBased, BackoffProblem};
/// let err = AgeBased::try_new(Duration::from_secs(600), Duration::from_secs(300)).unwrap_err();
/// assert_eq!(err.field, "min");
/// assert!(matches!(err.problem, BackoffProblem::MinAboveMax { .. }));
/// assert_eq!(err.to_string(), "min (10m) must not be more than max (5m)");
/// ```
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{field} {problem}")]
#[non_exhaustive]
pub struct BackoffError {
    /// Where, as the field's name in config (`min`, `delays[3]`,
    /// `backoff.backoff.base`, `rules`).
    pub field: String,
    /// What is wrong.
    pub problem: BackoffProblem,
}

/// What is wrong with a backoff ([`BackoffError`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum BackoffProblem {
    /// A wait of zero that repeats: the message would be retried at once, without end.
    ZeroWait,
    /// A lower bound above its upper bound.
    MinAboveMax {
        /// The lower bound (the field's value).
        min: Duration,
        /// The upper bound's field name.
        max_field: &'static str,
        /// The upper bound.
        max: Duration,
    },
    /// A growth factor below 1: the waits shrink to zero.
    FactorBelowOne(Factor),
    /// An Exim rule chain with no parameter set: it would give up at the first failure.
    EmptyChain,
    /// An empty list that repeats its last entry, which it does not have.
    EmptyRepeatingList,
}

impl BackoffError {
    pub(crate) fn new(field: impl Into<String>, problem: BackoffProblem) -> Self {
        BackoffError {
            field: field.into(),
            problem,
        }
    }

    /// The same error, its field inside `outer` (`min` inside `backoff` is `backoff.min`).
    pub fn within(mut self, outer: &str) -> Self {
        self.field = if self.field.is_empty() {
            outer.to_owned()
        } else {
            format!("{outer}.{}", self.field)
        };
        self
    }
}

/// A predicate on the field: `must be more than 0 (…)`, `(10m) must not be more
/// than max (5m)`, `is empty: …`.
impl fmt::Display for BackoffProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BackoffProblem::ZeroWait => {
                f.write_str("must be more than 0 (a zero wait retries at once, without end)")
            }
            BackoffProblem::MinAboveMax {
                min,
                max_field,
                max,
            } => write!(
                f,
                "({}) must not be more than {max_field} ({})",
                Compact(min),
                Compact(max)
            ),
            BackoffProblem::FactorBelowOne(x) => write!(
                f,
                "({x}) must be at least 1 (a smaller factor shrinks the waits to 0)"
            ),
            BackoffProblem::EmptyChain => f.write_str(
                "is empty: the rule chain would give up at the first failure; give at least one parameter set such as F,2h,15m",
            ),
            BackoffProblem::EmptyRepeatingList => f.write_str(
                "is empty but repeats its last entry: give at least one delay, or after_last = stop to give up at the first failure",
            ),
        }
    }
}

fn nonzero(field: &str, d: Duration) -> Result<(), BackoffError> {
    if d.is_zero() {
        Err(BackoffError::new(field, BackoffProblem::ZeroWait))
    } else {
        Ok(())
    }
}

fn ordered(
    min_field: &str,
    min: Duration,
    max_field: &'static str,
    max: Duration,
) -> Result<(), BackoffError> {
    if min > max {
        Err(BackoffError::new(
            min_field,
            BackoffProblem::MinAboveMax {
                min,
                max_field,
                max,
            },
        ))
    } else {
        Ok(())
    }
}

impl Fixed {
    /// `Err` for a zero delay.
    pub fn validate(&self) -> Result<(), BackoffError> {
        nonzero("delay", self.delay)
    }
}

impl Exponential {
    /// `Err` for a zero base, a factor below 1 or a cap below the base.
    pub fn validate(&self) -> Result<(), BackoffError> {
        nonzero("base", self.base)?;
        if self.factor < Factor::integer(1) {
            return Err(BackoffError::new(
                "factor",
                BackoffProblem::FactorBelowOne(self.factor),
            ));
        }
        match self.cap {
            Some(cap) => ordered("base", self.base, "cap", cap),
            None => Ok(()),
        }
    }
}

impl DelayList {
    /// `Err` for a list that repeats its last entry when that entry is zero or
    /// missing. A list that stops may be empty (Haraka's `none`: give up at the
    /// first failure) and may hold zero waits (they do not repeat).
    pub fn validate(&self) -> Result<(), BackoffError> {
        if self.after_last == AfterLast::Stop {
            return Ok(());
        }
        match self.delays.last() {
            None => Err(BackoffError::new(
                "delays",
                BackoffProblem::EmptyRepeatingList,
            )),
            Some(&last) => nonzero(&format!("delays[{}]", self.delays.len() - 1), last),
        }
    }
}

impl AgeBased {
    /// `clamp(age, min, max)`, refusing a zero `min` (the first failure of a new
    /// message would be retried at once, and again, without end) and `min > max`.
    pub fn try_new(min: Duration, max: Duration) -> Result<Self, BackoffError> {
        let b = AgeBased::new(min, max);
        b.validate()?;
        Ok(b)
    }

    /// `Err` for a zero `min` or `min > max`.
    pub fn validate(&self) -> Result<(), BackoffError> {
        nonzero("min", self.min)?;
        ordered("min", self.min, "max", self.max)
    }
}

impl EximRules {
    /// A chain from parameter sets, refusing an empty chain and a zero wait
    /// ([`EximRules::validate`]).
    pub fn try_new(rules: Vec<EximRule>) -> Result<Self, BackoffError> {
        let r = EximRules::new(rules);
        r.validate()?;
        Ok(r)
    }

    /// `Err` for an empty chain, a parameter set with a zero wait, or a zero
    /// `max_interval`. Cutoffs that decrease are refused by the parser.
    pub fn validate(&self) -> Result<(), BackoffError> {
        if self.rules.is_empty() {
            return Err(BackoffError::new("rules", BackoffProblem::EmptyChain));
        }
        for (i, r) in self.rules.iter().enumerate() {
            let (what, wait) = match *r {
                EximRule::Fixed { interval, .. } => ("interval", interval),
                EximRule::Geometric { start, .. } | EximRule::Randomized { start, .. } => {
                    ("start", start)
                }
            };
            nonzero(
                &format!("rules: parameter set {} ({r}): {what}", i + 1),
                wait,
            )?;
        }
        nonzero("max_interval", self.max_interval)
    }
}

impl Jitter {
    /// `Err` for decorrelated jitter with a zero base (every draw would be 0) or a
    /// base above its cap.
    pub fn validate(&self) -> Result<(), BackoffError> {
        match *self {
            Jitter::Decorrelated { base, cap } => {
                nonzero("base", base)?;
                ordered("base", base, "cap", cap)
            }
            _ => Ok(()),
        }
    }
}

impl BackoffKind {
    /// The built-in backoff's own check.
    pub fn validate(&self) -> Result<(), BackoffError> {
        match self {
            BackoffKind::Fixed(b) => b.validate(),
            BackoffKind::Exponential(b) => b.validate(),
            BackoffKind::List(b) => b.validate(),
            BackoffKind::AgeBased(b) => b.validate(),
            BackoffKind::Exim(b) => b.validate(),
        }
    }
}

impl AnyBackoff {
    /// The backoff's and the jitter's checks, fields named as in config
    /// (`backoff.min`, `jitter.base`).
    pub fn validate(&self) -> Result<(), BackoffError> {
        self.backoff.validate().map_err(|e| e.within("backoff"))?;
        self.jitter.validate().map_err(|e| e.within("jitter"))
    }
}
