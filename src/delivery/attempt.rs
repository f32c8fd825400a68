//! One attempt: which recipients it covers, the session transactions that carry
//! them, and the translation of the session's events into the delivery's index space.

use crate::outcome::RcptOutcome;
use crate::session::{Envelope, Event, Session, TransactionId, UsageError};

use super::Delivery;

/// One attempt at a message, returned by [`Delivery::start_attempt`].
///
/// It knows the recipients it covers (indices into [`Delivery::recipients`], in the
/// order they go into the envelope) and, once [`submit`](Self::submit)ted, the
/// session transaction that carries them. [`Delivery::handle_event`] takes the
/// session's events back through it, so a caller never renumbers recipients and
/// never keeps its own transaction map: with several messages on one connection,
/// hand each event to the delivery whose attempt [`owns`](Self::owns) it.
///
/// A sender other than the session machine (lettre, an MTA) reads
/// [`recipients`](Self::recipients), sends to them, and reports
/// [`RcptOutcome`]s with delivery indices through [`Delivery::handle_outcomes`].
#[derive(Clone, PartialEq, Eq, Debug)]
#[must_use = "an attempt carries the recipients to send to; end it with Delivery::end_attempt"]
pub struct Attempt {
    number: u32,
    rcpts: Vec<usize>,
    txn: Option<TransactionId>,
}

impl Attempt {
    pub(super) fn new(number: u32, rcpts: Vec<usize>) -> Self {
        Attempt {
            number,
            rcpts,
            txn: None,
        }
    }

    /// The attempt's number (1-based; 0 for the empty attempt returned when
    /// nothing was due).
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The recipients this attempt covers, as indices into
    /// [`Delivery::recipients`], in envelope order.
    pub fn recipients(&self) -> &[usize] {
        &self.rcpts
    }

    /// True when nothing was due: no attempt was started and there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.rcpts.is_empty()
    }

    /// The session transaction carrying this attempt, once submitted.
    pub fn transaction(&self) -> Option<TransactionId> {
        self.txn
    }

    /// Whether a session event with this transaction belongs to this attempt.
    pub fn owns(&self, transaction: TransactionId) -> bool {
        self.txn == Some(transaction)
    }

    /// The envelope for this attempt: the message's sender and parameters from
    /// [`Delivery::message`], and each covered recipient with its own `NOTIFY` and
    /// `ORCPT`.
    pub fn envelope(&self, delivery: &Delivery) -> Envelope {
        Envelope::new(
            delivery.message().clone(),
            self.rcpts
                .iter()
                .filter_map(|&i| delivery.recipients().get(i))
                .map(|r| r.recipient.clone()),
        )
    }

    /// Builds the [`envelope`](Self::envelope) and submits it to `session`; the
    /// session's events about it then go to [`Delivery::handle_event`]. The session
    /// splits a large envelope into several SMTP transactions itself; they all carry
    /// this one transaction id.
    ///
    /// Errors: the attempt is empty or already submitted, or the session refuses the
    /// envelope (see [`Session::submit`]).
    pub fn submit(
        &mut self,
        delivery: &Delivery,
        session: &mut Session,
    ) -> Result<TransactionId, UsageError> {
        if self.rcpts.is_empty() {
            return Err(UsageError::new(
                "an attempt with recipients",
                "submit of an empty attempt (nothing was due)".to_string(),
            ));
        }
        if let Some(t) = self.txn {
            return Err(UsageError::new(
                "one submit per attempt",
                format!("a second submit (already transaction {t})"),
            ));
        }
        let txn = session.submit(self.envelope(delivery))?;
        self.txn = Some(txn);
        Ok(txn)
    }

    /// The session's per-recipient outcome in the delivery's index space, when the
    /// event is a recipient outcome of this attempt.
    pub fn translate(&self, event: &Event) -> Option<RcptOutcome> {
        match event {
            Event::Recipient {
                transaction,
                outcome,
            } if self.owns(*transaction) => {
                let rcpt = *self.rcpts.get(outcome.rcpt)?;
                Some(RcptOutcome {
                    rcpt,
                    ..outcome.clone()
                })
            }
            _ => None,
        }
    }
}
