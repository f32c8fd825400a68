//! Delivery status notifications (RFC 3464) for delayed and failed recipients.
//!
//! A [`DsnBuilder`] turns what happened to a message's recipients into a
//! `multipart/report; report-type=delivery-status` message, ready to be queued
//! back to the envelope sender:
//!
//! 1. a `text/plain` part a person can read,
//! 2. a `message/delivery-status` part with the per-message fields
//!    (`Reporting-MTA`, `Original-Envelope-Id`, `Arrival-Date`) and one block of
//!    per-recipient fields per recipient (`Original-Recipient`, `Final-Recipient`,
//!    `Action`, `Status`, `Remote-MTA`, `Diagnostic-Code`, `Last-Attempt-Date`,
//!    `Will-Retry-Until`); without a remote reply (a refused connection, a
//!    timeout, a DNS failure) the diagnostic says what happened on this side as
//!    `Diagnostic-Code: X-tempfail; …`,
//! 3. the returned content: the whole original message (`message/rfc822`) when
//!    the sender asked for `RET=FULL`, otherwise its headers only
//!    (`text/rfc822-headers`).
//!
//! It honours RFC 3461: a recipient whose `NOTIFY` excludes the event (or says
//! `NEVER`) is left out, and no report is produced when nobody is left. Mail
//! with a null envelope sender (`MAIL FROM:<>`, itself a notification) never gets
//! one: no error messages about error messages (RFC 5321 §4.5.5).
//!
//! The builder is pure: the report's date, message id and MIME boundary come
//! from its arguments, so the same inputs give byte-identical output.
//!
//! Send the report with a null envelope sender (`MAIL FROM:<>`, RFC 3461 §6.2 and
//! RFC 5321 §4.5.5), to the original envelope sender, so that a report that cannot
//! be delivered is dropped instead of answered.
//!
//! ```
//! use tempfail::dsn::{DsnBuilder, DsnMessage, DsnRecipient, Notify};
//! use tempfail::{EnhancedCode, Reply, ReplyCode, Timestamp};
//!
//! let now = Timestamp::from_secs(1_700_000_000);
//! let message = DsnMessage {
//!     envelope_sender: "alice@example.org".into(),
//!     envid: Some("QQ314159".into()),
//!     ret_full: false,
//!     arrival: Some(now),
//!     original: b"From: alice@example.org\r\nSubject: hi\r\n\r\nbody\r\n".to_vec(),
//! };
//! let reply = Reply::new(ReplyCode::new(550).unwrap(), ["5.1.1 <bob@example.com>: User unknown"]);
//! let rcpt = DsnRecipient::failed("bob@example.com", &reply)
//!     .remote_mta("mx.example.com")
//!     .last_attempt(now);
//! let report = DsnBuilder::new("mta.example.org")
//!     .build(&message, &[rcpt], now, "dsn-1@mta.example.org")
//!     .expect("a failure notice for a non-null sender");
//! let text = String::from_utf8(report).unwrap();
//! assert!(text.contains("Action: failed\r\n"));
//! assert!(text.contains("Status: 5.1.1\r\n"));
//! assert!(text.contains("Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: User unknown\r\n"));
//! ```

use crate::reply::{EnhancedCode, Reply};
use crate::time::{Timestamp, civil_from_days};
use core::fmt::Write as _;

/// RFC 3461 `NOTIFY` for one recipient: which events the sender wants to hear about.
///
/// `Notify::default()` is what applies when the sender gave no `NOTIFY`
/// parameter: failures and, at the MTA's discretion, delays (RFC 3461 §4.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Notify {
    /// `SUCCESS`: report successful delivery.
    pub success: bool,
    /// `FAILURE`: report failure.
    pub failure: bool,
    /// `DELAY`: report delays.
    pub delay: bool,
}

impl Notify {
    /// `NOTIFY=NEVER`: no notification at all.
    pub const NEVER: Notify = Notify {
        success: false,
        failure: false,
        delay: false,
    };

    /// Parses the value of an ESMTP `NOTIFY=` parameter: `NEVER` or a comma-separated
    /// list of `SUCCESS`, `FAILURE`, `DELAY` (any case). `None` for anything else,
    /// including `NEVER` combined with another keyword (RFC 3461 §4.1 forbids it).
    ///
    /// ```
    /// use tempfail::dsn::Notify;
    /// let n = Notify::parse("FAILURE,DELAY").unwrap();
    /// assert!(n.failure && n.delay && !n.success);
    /// assert_eq!(Notify::parse("never"), Some(Notify::NEVER));
    /// assert_eq!(Notify::parse("NEVER,DELAY"), None);
    /// ```
    pub fn parse(value: &str) -> Option<Notify> {
        if value.eq_ignore_ascii_case("NEVER") {
            return Some(Notify::NEVER);
        }
        let mut n = Notify::NEVER;
        for word in value.split(',') {
            let w = word.trim();
            if w.eq_ignore_ascii_case("SUCCESS") {
                n.success = true;
            } else if w.eq_ignore_ascii_case("FAILURE") {
                n.failure = true;
            } else if w.eq_ignore_ascii_case("DELAY") {
                n.delay = true;
            } else {
                return None;
            }
        }
        Some(n)
    }

    /// Whether this `NOTIFY` asks for a report of `action`.
    pub fn wants(self, action: Action) -> bool {
        match action {
            Action::Failed => self.failure,
            Action::Delayed => self.delay,
            Action::Delivered | Action::Relayed | Action::Expanded => self.success,
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify {
            success: false,
            failure: true,
            delay: true,
        }
    }
}

/// The `Action` field of a per-recipient block (RFC 3464 §2.3.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Action {
    /// The message could not be delivered and will not be retried.
    Failed,
    /// Delivery has been delayed; it will be retried (see `Will-Retry-Until`).
    Delayed,
    /// Delivered to the recipient's mailbox.
    Delivered,
    /// Relayed to a system that does not issue DSNs.
    Relayed,
    /// Delivered and forwarded to further recipients.
    Expanded,
}

impl Action {
    /// The field value: `failed`, `delayed`, `delivered`, `relayed` or `expanded`.
    pub const fn name(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
        }
    }
}

impl core::fmt::Display for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The message a report is about, as its envelope and content were received.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct DsnMessage {
    /// The envelope sender (`MAIL FROM`), with or without angle brackets; empty (or
    /// `<>`) for the null sender, which never gets a report.
    pub envelope_sender: String,
    /// `ENVID` from `MAIL FROM`, echoed as `Original-Envelope-Id`.
    pub envid: Option<String>,
    /// `RET=FULL`: return the whole message; otherwise (`RET=HDRS` or none) its headers only.
    pub ret_full: bool,
    /// When the message arrived (`Arrival-Date`).
    pub arrival: Option<Timestamp>,
    /// The original message (headers and body, CRLF line endings preferred).
    pub original: Vec<u8>,
}

/// One recipient's entry in a report.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DsnRecipient {
    /// The recipient address as given in `RCPT TO` (without angle brackets).
    pub final_recipient: String,
    /// `ORCPT` from `RCPT TO`, as `addr-type;address` (e.g. `rfc822;bob@example.com`),
    /// decoded from its xtext wire form.
    pub original_recipient: Option<String>,
    /// `NOTIFY` from `RCPT TO`; `None` means the default (failure and delay).
    pub notify: Option<Notify>,
    /// What happened.
    pub action: Action,
    /// The status code (`Status`), e.g. 5.1.1 or 4.2.0.
    pub status: EnhancedCode,
    /// The remote MTA that answered (`Remote-MTA: dns; host`).
    pub remote_mta: Option<String>,
    /// The remote reply (`Diagnostic-Code: smtp; …`).
    pub diagnostic: Option<Reply>,
    /// What went wrong on this side when no reply came (a refused or lost
    /// connection, a timeout, a DNS failure): written as `Diagnostic-Code:
    /// X-tempfail; …` when [`diagnostic`](Self::diagnostic) is `None`, on one
    /// line of printable ASCII (anything else becomes `?`), at most
    /// [`MAX_FIELD_BYTES`] long.
    pub local_diagnostic: Option<String>,
    /// When delivery was last attempted.
    pub last_attempt: Option<Timestamp>,
    /// For `delayed`: when the last retry will be made (`Will-Retry-Until`).
    pub will_retry_until: Option<Timestamp>,
}

impl DsnRecipient {
    /// A `failed` entry from the reply that ended it. `Status` is the reply's enhanced
    /// code in class 5 (a `450 4.2.2` that ended it after days gives `5.2.2`), or
    /// `5.0.0` when it had none (RFC 3463 §3.1).
    pub fn failed(recipient: &str, reply: &Reply) -> Self {
        Self::from_reply(recipient, Action::Failed, reply)
    }

    /// A `delayed` entry from the last transient reply; `Status` is its enhanced code
    /// in class 4 (`4.0.0` without one).
    pub fn delayed(recipient: &str, reply: &Reply, will_retry_until: Timestamp) -> Self {
        let mut r = Self::from_reply(recipient, Action::Delayed, reply);
        r.will_retry_until = Some(will_retry_until);
        r
    }

    /// An entry with no remote reply (a transport failure, an expiry): the caller gives the status.
    pub fn without_reply(recipient: &str, action: Action, status: EnhancedCode) -> Self {
        DsnRecipient {
            final_recipient: recipient.to_owned(),
            original_recipient: None,
            notify: None,
            action,
            status,
            remote_mta: None,
            diagnostic: None,
            local_diagnostic: None,
            last_attempt: None,
            will_retry_until: None,
        }
    }

    fn from_reply(recipient: &str, action: Action, reply: &Reply) -> Self {
        let class = match action {
            Action::Failed => 5,
            Action::Delayed => 4,
            _ => 2,
        };
        let status = reply
            .enhanced()
            .or_else(|| EnhancedCode::new(class, 0, 0))
            .map(|e| status_for(action, e))
            .unwrap_or_else(|| {
                // Invariant: class is 2, 4 or 5, which EnhancedCode::new always accepts.
                EnhancedCode::new(5, 0, 0).expect("5.0.0 is a valid enhanced code")
            });
        let mut r = Self::without_reply(recipient, action, status);
        r.diagnostic = Some(reply.clone());
        r
    }

    /// Sets the local diagnostic, for an entry without a remote reply (see
    /// [`local_diagnostic`](Self::local_diagnostic)); an empty text leaves it out.
    pub fn local_diagnostic(mut self, text: &str) -> Self {
        let text = text.trim();
        self.local_diagnostic = (!text.is_empty()).then(|| text.to_owned());
        self
    }

    /// Sets `Remote-MTA` (an empty name leaves it out).
    pub fn remote_mta(mut self, host: &str) -> Self {
        let host = host.trim();
        self.remote_mta = (!host.is_empty()).then(|| host.to_owned());
        self
    }

    /// Sets `Last-Attempt-Date`.
    pub fn last_attempt(mut self, at: Timestamp) -> Self {
        self.last_attempt = Some(at);
        self
    }

    /// Sets the `ORCPT` value (`addr-type;address`; an empty value leaves it out).
    pub fn original_recipient(mut self, orcpt: &str) -> Self {
        let orcpt = orcpt.trim();
        self.original_recipient = (!orcpt.is_empty()).then(|| orcpt.to_owned());
        self
    }

    /// Sets the recipient's `NOTIFY`.
    pub fn notify(mut self, notify: Notify) -> Self {
        self.notify = Some(notify);
        self
    }
}

/// Builds RFC 3464 reports. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct DsnBuilder {
    reporting_mta: String,
    postmaster: String,
}

impl DsnBuilder {
    /// A builder reporting as `reporting_mta` (a host name, `Reporting-MTA: dns; …`).
    /// Reports come from `MAILER-DAEMON@reporting_mta` unless [`DsnBuilder::from_address`] says otherwise.
    pub fn new(reporting_mta: &str) -> Self {
        DsnBuilder {
            reporting_mta: sanitize_line(reporting_mta),
            postmaster: format!("MAILER-DAEMON@{}", sanitize_line(reporting_mta)),
        }
    }

    /// The `From:` address of the reports.
    pub fn from_address(mut self, address: &str) -> Self {
        self.postmaster = sanitize_line(address);
        self
    }

    /// The recipients of `recipients` that this report would include: those whose
    /// `NOTIFY` asks for their action. Empty for the null sender.
    pub fn notifiable<'a>(
        &self,
        message: &DsnMessage,
        recipients: &'a [DsnRecipient],
    ) -> Vec<&'a DsnRecipient> {
        if bare_address(&message.envelope_sender).is_empty() {
            return Vec::new();
        }
        recipients
            .iter()
            .filter(|r| r.notify.unwrap_or_default().wants(r.action))
            .collect()
    }

    /// The report, or `None` when nothing is to be sent: a null envelope sender, or no
    /// recipient whose `NOTIFY` asks for its action.
    ///
    /// `now` becomes the `Date:` header; `message_id` (without angle brackets) the
    /// report's `Message-ID` and the seed of its MIME boundary, which is chosen so that
    /// it occurs nowhere in the parts (the server's reply text and the returned
    /// message included). Every line stays within RFC 5322's 998 bytes: a field value
    /// longer than [`MAX_FIELD_BYTES`] is cut there. Each recipient's `Status` takes
    /// the class its `Action` requires (RFC 3464 §2.3.4: 5 for `failed`, 4 for
    /// `delayed`, 2 otherwise), keeping the subject and detail.
    pub fn build(
        &self,
        message: &DsnMessage,
        recipients: &[DsnRecipient],
        now: Timestamp,
        message_id: &str,
    ) -> Option<Vec<u8>> {
        let rcpts = self.notifiable(message, recipients);
        if rcpts.is_empty() {
            return None;
        }
        let any_failed = rcpts.iter().any(|r| r.action == Action::Failed);
        let all_delayed = rcpts.iter().all(|r| r.action == Action::Delayed);
        let subject = if any_failed {
            "Undelivered Mail Returned to Sender"
        } else if all_delayed {
            "Delayed Mail (still being retried)"
        } else {
            "Delivery Status Notification"
        };

        // Part 1: for people.
        let mut text = String::with_capacity(1024);
        let _ = write!(
            text,
            "This is the mail system at {}.\r\n\r\n",
            self.reporting_mta
        );
        if any_failed {
            text.push_str("Your message could not be delivered to one or more recipients.\r\n");
            text.push_str("It will not be retried for them.\r\n");
        }
        if rcpts.iter().any(|r| r.action == Action::Delayed) {
            text.push_str("Delivery to one or more recipients has been delayed.\r\n");
            text.push_str("The mail system will keep trying; no action is needed yet.\r\n");
        }
        if rcpts
            .iter()
            .any(|r| !matches!(r.action, Action::Delayed | Action::Failed))
        {
            text.push_str("Your message was delivered to one or more recipients.\r\n");
        }
        text.push_str("\r\n");
        for r in &rcpts {
            let _ = write!(
                text,
                "<{}>: {}",
                sanitize_line(&r.final_recipient),
                r.action.name()
            );
            if let Some(until) = r.will_retry_until.filter(|_| r.action == Action::Delayed) {
                let _ = write!(text, " (will retry until {})", rfc5322_date(until));
            }
            text.push_str("\r\n");
            if let Some(reply) = &r.diagnostic {
                let host = r.remote_mta.as_deref().unwrap_or("the remote server");
                // The reply goes on lines of its own, so a long host name and a long
                // reply line never share one line.
                let _ = write!(text, "    {} said:\r\n    ", sanitize_line(host));
                push_reply_folded(&mut text, reply, "    ");
                text.push_str("\r\n");
            } else if let Some(d) = r.local_diagnostic.as_deref() {
                let d = sanitize_line(d);
                if !d.trim().is_empty() {
                    let _ = write!(text, "    {}\r\n", d.trim());
                }
            }
        }

        // Part 2: machine-readable status, 7-bit.
        let mut status = String::with_capacity(512);
        let _ = write!(
            status,
            "Reporting-MTA: dns; {}\r\n",
            seven_bit(&self.reporting_mta)
        );
        if let Some(envid) = &message.envid {
            let _ = write!(status, "Original-Envelope-Id: {}\r\n", seven_bit(envid));
        }
        if let Some(arrival) = message.arrival {
            let _ = write!(status, "Arrival-Date: {}\r\n", rfc5322_date(arrival));
        }
        for r in &rcpts {
            status.push_str("\r\n");
            if let Some(orcpt) = &r.original_recipient {
                let _ = write!(
                    status,
                    "Original-Recipient: {}\r\n",
                    address_field(orcpt, true)
                );
            }
            let _ = write!(
                status,
                "Final-Recipient: {}\r\n",
                address_field(&r.final_recipient, false)
            );
            let _ = write!(status, "Action: {}\r\n", r.action.name());
            let _ = write!(status, "Status: {}\r\n", status_for(r.action, r.status));
            if let Some(mta) = r.remote_mta.as_deref().filter(|m| !m.trim().is_empty()) {
                let _ = write!(status, "Remote-MTA: dns; {}\r\n", seven_bit(mta));
            }
            if let Some(reply) = &r.diagnostic {
                status.push_str("Diagnostic-Code: smtp; ");
                push_reply_folded(&mut status, reply, " ");
                status.push_str("\r\n");
            } else if let Some(text) = r.local_diagnostic.as_deref() {
                let text = seven_bit(text);
                if !text.trim().is_empty() {
                    let _ = write!(status, "Diagnostic-Code: X-tempfail; {}\r\n", text.trim());
                }
            }
            if let Some(at) = r.last_attempt {
                let _ = write!(status, "Last-Attempt-Date: {}\r\n", rfc5322_date(at));
            }
            if r.action == Action::Delayed {
                if let Some(until) = r.will_retry_until {
                    let _ = write!(status, "Will-Retry-Until: {}\r\n", rfc5322_date(until));
                }
            }
        }

        // Part 3: the returned content.
        let mut returned = Vec::with_capacity(message.original.len().min(1 << 16) + 4);
        if message.ret_full {
            push_crlf(&mut returned, &message.original);
        } else {
            push_crlf(&mut returned, header_block(&message.original));
        }
        if !returned.ends_with(b"\r\n") {
            returned.extend_from_slice(b"\r\n");
        }

        let boundary = boundary_for(
            message_id,
            now,
            &[text.as_bytes(), status.as_bytes(), &returned],
        );
        // Non-ASCII in the text part (international addresses) or the returned
        // message is declared, as RFC 2045 §6 requires; the status part is 7-bit.
        let text_8bit = !text.is_ascii();
        let returned_8bit = returned.iter().any(|b| !b.is_ascii());

        let mut s = String::with_capacity(2048 + text.len() + status.len());
        // Top-level headers.
        let _ = write!(s, "From: Mail Delivery System <{}>\r\n", self.postmaster);
        let _ = write!(
            s,
            "To: <{}>\r\n",
            sanitize_line(bare_address(&message.envelope_sender))
        );
        let _ = write!(s, "Subject: {subject}\r\n");
        let _ = write!(s, "Date: {}\r\n", rfc5322_date(now));
        let _ = write!(s, "Message-ID: <{}>\r\n", sanitize_line(message_id));
        s.push_str("Auto-Submitted: auto-replied\r\n");
        s.push_str("MIME-Version: 1.0\r\n");
        let _ = write!(
            s,
            "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n"
        );
        if text_8bit || returned_8bit {
            s.push_str("Content-Transfer-Encoding: 8bit\r\n");
        }
        s.push_str("\r\nThis is a MIME-encapsulated delivery status notification.\r\n");

        let _ = write!(s, "\r\n--{boundary}\r\n");
        s.push_str("Content-Type: text/plain; charset=utf-8\r\n");
        if text_8bit {
            s.push_str("Content-Transfer-Encoding: 8bit\r\n");
        }
        s.push_str("Content-Description: Notification\r\n\r\n");
        s.push_str(&text);

        let _ = write!(s, "\r\n--{boundary}\r\n");
        s.push_str("Content-Type: message/delivery-status\r\n");
        s.push_str("Content-Description: Delivery report\r\n\r\n");
        s.push_str(&status);

        let _ = write!(s, "\r\n--{boundary}\r\n");
        if message.ret_full {
            s.push_str("Content-Type: message/rfc822\r\n");
            if returned_8bit {
                s.push_str("Content-Transfer-Encoding: 8bit\r\n");
            }
            s.push_str("Content-Description: Undelivered message\r\n\r\n");
        } else {
            s.push_str("Content-Type: text/rfc822-headers\r\n");
            if returned_8bit {
                s.push_str("Content-Transfer-Encoding: 8bit\r\n");
            }
            s.push_str("Content-Description: Undelivered message headers\r\n\r\n");
        }
        let mut out = s.into_bytes();
        out.reserve(returned.len() + boundary.len() + 8);
        out.extend_from_slice(&returned);
        out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Some(out)
    }
}

/// An address without surrounding blanks and angle brackets: `<>` is the null sender.
fn bare_address(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s)
        .trim()
}

/// The longest field value, in bytes, a report writes (a longer one is cut at a
/// character boundary): with its field name it stays within RFC 5322's 998 bytes.
/// RFC 5321 §4.5.3.1 caps real paths at 256 octets, so only hostile or broken
/// values are ever cut.
pub const MAX_FIELD_BYTES: usize = 900;

/// `status` with the class `action` requires: 5 for `failed`, 4 for `delayed`, 2
/// otherwise (RFC 3464 §2.3.4); subject and detail are kept (RFC 3463 gives them the
/// same meaning in every class).
fn status_for(action: Action, status: EnhancedCode) -> EnhancedCode {
    let class = match action {
        Action::Failed => 5,
        Action::Delayed => 4,
        Action::Delivered | Action::Relayed | Action::Expanded => 2,
    };
    EnhancedCode::new(class, status.subject(), status.detail()).unwrap_or(status)
}

/// The header block of a message: everything before the first empty line.
fn header_block(msg: &[u8]) -> &[u8] {
    let mut i = 0;
    while i < msg.len() {
        let end = msg[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(msg.len(), |p| i + p + 1);
        let line = &msg[i..end];
        if line == b"\r\n" || line == b"\n" {
            return &msg[..i];
        }
        i = end;
    }
    msg
}

/// Appends `data` with every line ending normalised to CRLF.
fn push_crlf(out: &mut Vec<u8>, data: &[u8]) {
    let mut prev = 0u8;
    for &b in data {
        match b {
            b'\n' if prev != b'\r' => out.extend_from_slice(b"\r\n"),
            b'\r' => {}
            b'\n' => out.extend_from_slice(b"\r\n"),
            _ => {
                if prev == b'\r' {
                    out.extend_from_slice(b"\r\n");
                }
                out.push(b);
            }
        }
        prev = b;
    }
    if prev == b'\r' {
        out.extend_from_slice(b"\r\n");
    }
}

/// The reply as `CODE text`, its lines folded onto continuation lines that start with `indent`.
/// Bytes outside printable ASCII become `?`: the delivery-status part is 7-bit (RFC 3464 §2.1).
fn push_reply_folded(s: &mut String, reply: &Reply, indent: &str) {
    let code = reply.code();
    for (i, line) in reply.lines().enumerate() {
        if i > 0 {
            s.push_str("\r\n");
            s.push_str(indent);
        }
        let _ = write!(s, "{code}");
        if !line.is_empty() {
            s.push(' ');
        }
        // Keep each physical line within RFC 5322's 998-byte limit.
        for &b in line.iter().take(MAX_FIELD_BYTES) {
            s.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            });
        }
    }
}

/// An `address-type; address` field value. A value that already names its type
/// (`rfc822;x`, as ORCPT does) is kept; otherwise `rfc822` for ASCII addresses and
/// `utf-8` with RFC 6533 `\x{HEX}` escapes for internationalised ones. At most
/// [`MAX_FIELD_BYTES`] long: escapes can make a value nine times its length.
fn address_field(addr: &str, typed: bool) -> String {
    let addr = sanitize_line(addr);
    let mut addr = addr.as_str();
    let mut ty = "rfc822";
    if typed {
        if let Some((t, rest)) = addr.split_once(';') {
            if !t.is_empty()
                && t.len() <= 64
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                ty = t;
                addr = rest.trim();
            }
        }
    }
    let mut out = String::with_capacity(addr.len().min(MAX_FIELD_BYTES) + 16);
    if addr.is_ascii() {
        out.push_str(ty);
        out.push_str("; ");
        for c in addr.chars() {
            if out.len() >= MAX_FIELD_BYTES {
                break;
            }
            out.push(c);
        }
    } else {
        out.push_str("utf-8; ");
        let mut esc = String::new();
        for c in addr.chars() {
            esc.clear();
            if c.is_ascii() && c != '\\' {
                esc.push(c);
            } else {
                let _ = write!(esc, "\\x{{{:X}}}", c as u32);
            }
            if out.len() + esc.len() > MAX_FIELD_BYTES {
                break;
            }
            out.push_str(&esc);
        }
    }
    out
}

/// One line of header text: control characters (CR, LF, NUL…) become spaces, so no
/// caller-supplied value can inject a header or end the header block; cut at
/// [`MAX_FIELD_BYTES`] bytes, on a character boundary.
fn sanitize_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_FIELD_BYTES));
    for c in s.chars() {
        if out.len() + c.len_utf8() > MAX_FIELD_BYTES {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// Printable ASCII only (anything else becomes `?`): the delivery-status part is 7-bit.
fn seven_bit(s: &str) -> String {
    s.chars()
        .take(MAX_FIELD_BYTES)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The fixed start of every boundary.
const BOUNDARY_STEM: &[u8] = b"=_tempfail_";

/// A MIME boundary that depends only on the arguments and occurs in none of `parts`
/// (RFC 2046 §5.1.1 allows 70 characters; this uses 36). Linear in the parts' size
/// whatever they hold: every candidate starts with [`BOUNDARY_STEM`], so one scan
/// collects the candidates the parts already contain, and the first other one is taken.
fn boundary_for(message_id: &str, now: Timestamp, parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in message_id
        .as_bytes()
        .iter()
        .chain(&now.as_millis().to_le_bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let candidate = |salt: u32| format!("=_tempfail_{h:016x}_{salt:08x}");
    let len = candidate(0).len();
    let mut taken = std::collections::HashSet::new();
    for part in parts {
        let mut i = 0;
        while let Some(p) = find(&part[i..], BOUNDARY_STEM) {
            let at = i + p;
            if let Some(c) = part.get(at..at + len) {
                taken.insert(c);
            }
            i = at + 1;
        }
    }
    // At most `taken.len()` candidates are refused, so this ends quickly.
    let mut salt = 0u32;
    loop {
        let b = candidate(salt);
        if !taken.contains(b.as_bytes()) {
            return b;
        }
        salt = salt.wrapping_add(1);
    }
}

/// The first position of `needle` (non-empty) in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut i = 0;
    while let Some(p) = hay[i..].iter().position(|&b| b == first) {
        let at = i + p;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// RFC 5322 `date-time` in UTC, e.g. `Tue, 14 Nov 2023 22:13:20 +0000`.
pub fn rfc5322_date(t: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let month = MONTHS
        .get(usize::try_from(m.saturating_sub(1)).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{}, {d} {month} {y} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc5322() {
        assert_eq!(
            rfc5322_date(Timestamp::from_secs(1_700_000_000)),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
        assert_eq!(
            rfc5322_date(Timestamp::EPOCH),
            "Thu, 1 Jan 1970 00:00:00 +0000"
        );
        let _ = rfc5322_date(Timestamp::MAX);
    }

    #[test]
    fn crlf_normalisation() {
        let mut out = Vec::new();
        push_crlf(&mut out, b"a\nb\r\nc\rd");
        assert_eq!(out, b"a\r\nb\r\nc\r\nd");
    }

    #[test]
    fn header_block_stops_at_blank_line() {
        assert_eq!(
            header_block(b"A: b\r\nC: d\r\n\r\nbody"),
            b"A: b\r\nC: d\r\n"
        );
        assert_eq!(header_block(b"A: b\nbody-less"), b"A: b\nbody-less");
    }

    #[test]
    fn utf8_addresses_use_rfc6533_escapes() {
        assert_eq!(
            address_field("jörg@example.de", false),
            "utf-8; j\\x{F6}rg@example.de"
        );
        assert_eq!(
            address_field("rfc822;bob@example.com", true),
            "rfc822; bob@example.com"
        );
    }
}
