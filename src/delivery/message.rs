//! The message a delivery is about: one type feeds the SMTP envelope and the DSN.

use crate::dsn::DsnMessage;
use crate::session::{BodyType, Ret};
use crate::time::Timestamp;

/// What the delivery machine knows of its message besides its recipients: the
/// envelope sender and the `MAIL FROM` parameters. [`Attempt::envelope`] builds the
/// session's envelope from it, and [`Delivery::dsn_message`] the notices' per-message
/// fields, so the two can never disagree.
///
/// ```
/// use tempfail::delivery::{Delivery, MessageInfo, Recipient};
/// use tempfail::session::Ret;
/// use tempfail::Timestamp;
///
/// let t0 = Timestamp::from_secs(1_700_000_000);
/// let msg = MessageInfo::new("alice@example.org").envid("q-7").ret(Ret::Hdrs).size(2_048);
/// let d = Delivery::new(t0, 7, vec![Recipient::new("bob@example.com")]).with_message(msg);
/// assert_eq!(d.message().sender, "alice@example.org");
/// assert_eq!(d.dsn_message(Vec::new()).envid.as_deref(), Some("q-7"));
/// ```
///
/// [`Attempt::envelope`]: super::Attempt::envelope
/// [`Delivery::dsn_message`]: super::Delivery::dsn_message
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct MessageInfo {
    /// The reverse path (`MAIL FROM`) without angle brackets; empty for the null
    /// sender `<>`, which never gets a notice.
    pub sender: String,
    /// The message size in bytes, declared with `SIZE=`.
    pub size: Option<u64>,
    /// `BODY=`.
    pub body: BodyType,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `RET=` (RFC 3461).
    pub ret: Option<Ret>,
    /// `ENVID=` (RFC 3461), echoed in notices as `Original-Envelope-Id`.
    pub envid: Option<String>,
}

impl MessageInfo {
    /// A message from `sender` with no optional parameters.
    pub fn new(sender: impl Into<String>) -> Self {
        MessageInfo {
            sender: sender.into(),
            ..MessageInfo::default()
        }
    }

    /// Sets the declared size.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    /// Sets the body type.
    pub fn body(mut self, body: BodyType) -> Self {
        self.body = body;
        self
    }

    /// Requests `SMTPUTF8`.
    pub fn smtputf8(mut self, on: bool) -> Self {
        self.smtputf8 = on;
        self
    }

    /// Sets `RET=`.
    pub fn ret(mut self, ret: Ret) -> Self {
        self.ret = Some(ret);
        self
    }

    /// Sets `ENVID=`.
    pub fn envid(mut self, envid: impl Into<String>) -> Self {
        self.envid = Some(envid.into());
        self
    }

    /// The per-message part of a notice about this message.
    pub(crate) fn dsn_message(&self, arrival: Timestamp, original: Vec<u8>) -> DsnMessage {
        DsnMessage {
            envelope_sender: self.sender.clone(),
            envid: self.envid.clone(),
            ret_full: self.ret == Some(Ret::Full),
            arrival: Some(arrival),
            original,
        }
    }
}
