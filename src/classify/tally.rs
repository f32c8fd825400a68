//! [`Tally`]: counts of classifications, as plain data for a metrics library.

use std::collections::BTreeMap;

use super::{Category, Classification, Disposition};

/// Counts of the classifications a sender saw, by disposition, category and rule:
/// feed each [`Classification`] to [`Tally::record`] and export the maps to your
/// metrics library (they are plain data; nothing here reads a clock or allocates
/// per call beyond a new rule id).
///
/// ```
/// use tempfail::classify::Tally;
/// use tempfail::{Category, Classifier, Stage};
/// let c = Classifier::builtin();
/// let mut tally = Tally::default();
/// for line in ["450 4.2.0 Greylisted", "550 5.1.1 user unknown", "450 4.2.0 Greylisted"] {
///     tally.record(&c.classify_text(line, Stage::RcptTo));
/// }
/// assert_eq!(tally.total, 3);
/// assert_eq!(tally.by_category[&Category::Greylisted], 2);
/// assert_eq!(tally.by_disposition[&tempfail::Disposition::Permanent], 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Tally {
    /// Classifications recorded.
    pub total: u64,
    /// By disposition.
    pub by_disposition: BTreeMap<Disposition, u64>,
    /// By category (successes have none).
    pub by_category: BTreeMap<Category, u64>,
    /// By the rule that decided.
    pub by_rule: BTreeMap<String, u64>,
    /// How many were low confidence (no rule matched).
    pub low_confidence: u64,
}

impl Tally {
    /// Counts one classification.
    pub fn record(&mut self, c: &Classification) {
        self.total = self.total.saturating_add(1);
        bump(self.by_disposition.entry(c.disposition).or_default());
        if let Some(cat) = c.category {
            bump(self.by_category.entry(cat).or_default());
        }
        match self.by_rule.get_mut(c.rule.as_ref()) {
            Some(n) => bump(n),
            None => {
                self.by_rule.insert(c.rule.to_string(), 1);
            }
        }
        if c.low_confidence {
            self.low_confidence = self.low_confidence.saturating_add(1);
        }
    }
}

fn bump(n: &mut u64) {
    *n = n.saturating_add(1);
}
