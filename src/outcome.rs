//! What happened to one recipient in one attempt.
//!
//! Shared by the session machine (which produces it), the delivery machine (which
//! consumes it) and adapters for any other sender (lettre, mail-send, an MTA's logs).

use crate::classify::{Classification, Stage};
use crate::reply::Reply;

/// One recipient's result in one attempt.
#[derive(Clone, PartialEq, Eq, Debug)]
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
