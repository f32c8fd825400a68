//! What happened to one recipient in one attempt.
//!
//! Shared by the session machine (which produces it), the delivery machine (which
//! consumes it) and adapters for any other sender (lettre, mail-send, an MTA's logs).

use crate::classify::{Classification, Classifier, Disposition, Stage, TransportFailure};
use crate::reply::Reply;

/// One recipient's result in one attempt.
///
/// ```
/// use tempfail::{Classifier, Disposition, RcptOutcome, Reply, ReplyCode, Stage};
///
/// let c = Classifier::builtin();
/// let reply = Reply::new(ReplyCode::new(452).unwrap(), ["4.2.2 Mailbox full"]);
/// let o = RcptOutcome::from_reply(&c, 3, reply, Stage::RcptTo);
/// assert_eq!(o.rcpt, 3);
/// assert!(o.is_transient());
/// assert_eq!(o.classification.category.unwrap().name(), "mailbox_full");
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RcptOutcome {
    /// The recipient's index in the message's recipient list.
    pub rcpt: usize,
    /// The server's reply, when there was one (none for a transport failure).
    pub reply: Option<Reply>,
    /// The command the reply answered, or where the transport failed.
    pub stage: Stage,
    /// What it means.
    pub classification: Classification,
}

impl RcptOutcome {
    /// The outcome of a reply, classified with `classifier`.
    pub fn from_reply(classifier: &Classifier, rcpt: usize, reply: Reply, stage: Stage) -> Self {
        let classification = classifier.classify(&reply, stage);
        RcptOutcome {
            rcpt,
            reply: Some(reply),
            stage,
            classification,
        }
    }

    /// The outcome of a transport failure at `stage`, classified with `classifier`.
    pub fn from_failure(
        classifier: &Classifier,
        rcpt: usize,
        failure: TransportFailure,
        stage: Stage,
    ) -> Self {
        RcptOutcome {
            rcpt,
            reply: None,
            stage,
            classification: classifier.classify_failure(failure, stage),
        }
    }

    /// The recipient was accepted (or the message delivered to it).
    pub fn is_success(&self) -> bool {
        self.classification.disposition == Disposition::Success
    }

    /// Try this recipient again later.
    pub fn is_transient(&self) -> bool {
        self.classification.disposition == Disposition::Transient
    }

    /// Do not retry this recipient.
    pub fn is_permanent(&self) -> bool {
        self.classification.disposition == Disposition::Permanent
    }
}
