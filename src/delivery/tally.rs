//! [`Tally`]: counts of a delivery machine's outputs, as plain data for metrics.

use std::collections::BTreeMap;

use super::Output;
use crate::classify::Category;

/// Counts of what delivery machines decided: feed every [`Output`] you drain
/// (from one message or all of them) to [`Tally::record`] and export the fields
/// to your metrics library. Recipients are counted per output, so a recipient
/// retried three times counts three retries.
///
/// ```
/// use tempfail::delivery::{Output, Tally};
/// use tempfail::policy::GiveUpReason;
/// use tempfail::{Category, Timestamp};
/// let mut t = Tally::default();
/// t.record(&Output::Delivered { rcpts: vec![0, 1] });
/// t.record(&Output::RetryAt { at: Timestamp::from_secs(60), rcpts: vec![2] });
/// t.record(&Output::Failed { rcpts: vec![3], reason: GiveUpReason::NeverRetried(Category::UserUnknown) });
/// assert_eq!((t.delivered, t.retries), (2, 1));
/// assert_eq!(t.failed_by_reason["never_retried"], 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Tally {
    /// Recipients delivered.
    pub delivered: u64,
    /// Recipient retries scheduled.
    pub retries: u64,
    /// Recipients failed, by the policy's reason (`permanent`, `never_retried`,
    /// `schedule_exhausted`, `category_limit`, `lifetime`).
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Delay warnings due (recipients).
    pub delay_warnings: u64,
    /// Recipients cancelled.
    pub cancelled: u64,
    /// Destination signals, by category.
    pub destination_signals: BTreeMap<Category, u64>,
}

fn add(n: &mut u64, k: usize) {
    *n = n.saturating_add(u64::try_from(k).unwrap_or(u64::MAX));
}

impl Tally {
    /// Counts one output.
    pub fn record(&mut self, o: &Output) {
        match o {
            Output::Delivered { rcpts } => add(&mut self.delivered, rcpts.len()),
            Output::RetryAt { rcpts, .. } => add(&mut self.retries, rcpts.len()),
            Output::Failed { rcpts, reason } => {
                let n = match self.failed_by_reason.get_mut(reason.name()) {
                    Some(n) => n,
                    None => self
                        .failed_by_reason
                        .entry(reason.name().to_owned())
                        .or_default(),
                };
                add(n, rcpts.len());
            }
            Output::DelayWarning { rcpts, .. } => add(&mut self.delay_warnings, rcpts.len()),
            Output::Cancelled { rcpts } => add(&mut self.cancelled, rcpts.len()),
            Output::Destination(s) => {
                if let Some(c) = s.classification.category {
                    add(self.destination_signals.entry(c).or_default(), 1);
                }
            }
            Output::WakeAt(_) => {}
        }
    }
}
