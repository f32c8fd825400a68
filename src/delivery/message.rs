//! The message a delivery is about: one type ([`MessageInfo`]) feeds the SMTP
//! envelope and the delivery status notices.

use crate::dsn::DsnMessage;
use crate::session::{MessageInfo, Ret};
use crate::time::Timestamp;

/// The per-message part of a notice about `message`, which arrived at `arrival`.
pub(super) fn dsn_message(
    message: &MessageInfo,
    arrival: Timestamp,
    original: Vec<u8>,
) -> DsnMessage {
    DsnMessage {
        envelope_sender: message.sender.clone(),
        envid: message.envid.clone(),
        ret_full: message.ret == Some(Ret::Full),
        arrival: Some(arrival),
        original,
    }
}
