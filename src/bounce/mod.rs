//! What comes back after the `250`: bounces, delay notices and feedback-loop
//! complaints, parsed into one [`BounceRecipient`] per recipient carrying the same
//! [`Classification`] as a live reply (feature `bounce`).
//!
//! A smarthost or a receiving MTA may accept a message and fail later; it then mails
//! back a bounce. A mailbox provider's feedback loop mails back a complaint. A
//! [`Parser`] reads such a message and finds, for each recipient it is about:
//!
//! - the [`Action`] (`failed`, `delayed`, `delivered`, `relayed`, `expanded`, or a
//!   `complaint`), the status code, the diagnostic text and the remote MTA;
//! - the [`Classification`] from the crate's [`Classifier`], with the [`Stage`]
//!   recovered from the text where the bounce names it ("in reply to RCPT TO
//!   command", a Sendmail transcript's `>>> RCPT To:`);
//! - [`Correlation`] keys to find the message it is about: the returned message's
//!   `Message-ID`, the envelope id, the return path (VERP-encoded or tagged, see
//!   [`verp_decode`]) and the address the bounce was sent to;
//! - how it was found ([`FoundBy`]): an RFC 3464 report, an RFC 5965 report, or
//!   which MTA's plain-text format ([`Format`]).
//!
//! Auto-replies (vacation, out of office) are never failures: they are
//! [`Error::NotBounce`] with [`NotBounce::AutoReply`].
//!
//! ```
//! use tempfail::bounce::{Action, FoundBy, Parser};
//! use tempfail::{Category, Stage};
//!
//! let bounce = b"From: MAILER-DAEMON@mx.example.org\r\n\
//! To: alice@example.org\r\n\
//! Subject: Undelivered Mail Returned to Sender\r\n\
//! MIME-Version: 1.0\r\n\
//! Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\
//! \r\n\
//! --b\r\n\
//! Content-Type: text/plain\r\n\
//! \r\n\
//! <bob@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 <bob@example.com>:\r\n\
//!     Recipient address rejected: User unknown (in reply to RCPT TO command)\r\n\
//! --b\r\n\
//! Content-Type: message/delivery-status\r\n\
//! \r\n\
//! Reporting-MTA: dns; mx.example.org\r\n\
//! \r\n\
//! Final-Recipient: rfc822; bob@example.com\r\n\
//! Action: failed\r\n\
//! Status: 5.1.1\r\n\
//! Remote-MTA: dns; mx.example.com\r\n\
//! Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown\r\n\
//! --b\r\n\
//! Content-Type: text/rfc822-headers\r\n\
//! \r\n\
//! Message-ID: <m1@example.org>\r\n\
//! --b--\r\n";
//!
//! let report = Parser::new().parse(bounce).unwrap();
//! assert_eq!(report.found_by, FoundBy::Dsn);
//! let r = &report.recipients[0];
//! assert_eq!(r.recipient, "bob@example.com");
//! assert_eq!(r.action, Action::Failed);
//! assert_eq!(r.status.unwrap().to_string(), "5.1.1");
//! assert_eq!(r.remote_mta.as_deref(), Some("mx.example.com"));
//! assert_eq!(r.stage, Stage::RcptTo); // from the notice's "(in reply to RCPT TO command)"
//! assert_eq!(r.classification.category, Some(Category::UserUnknown));
//! assert_eq!(r.correlation.message_id.as_deref(), Some("m1@example.org"));
//! ```
//!
//! # Limits
//!
//! Any input is read in bounded memory and in time linear in its size: only the
//! first [`MAX_MESSAGE_BYTES`] are read, and no more than [`MAX_BOUNDARY_LINES`]
//! lines that could be MIME boundaries; at most [`MAX_PARTS`] parts are visited, no
//! deeper than [`MAX_DEPTH`]; at most [`MAX_RECIPIENTS`] recipients are reported
//! ([`Report::truncated`] says when more were left out); every field value is cut at
//! [`MAX_VALUE_BYTES`]. No regular expression is used: phrases are found with
//! Aho-Corasick automata, one pass each.

mod fields;
mod text;

use std::borrow::Cow;
use std::sync::OnceLock;

use mailparse::{MailHeaderMap, ParsedMail};

use crate::classify::{Category, Classification, Classifier, Disposition, Scope, Stage};
use crate::outcome::RcptOutcome;
use crate::reply::{EnhancedCode, Reply};
use crate::time::Timestamp;

use fields::{Block, bounded, get, get_all, typed_address, typed_name};

/// Only this many bytes of a message are read (the reports come before the returned
/// message, which may be large).
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;
/// Lines starting with `--` (possible MIME boundaries) read at most; the message is
/// read up to the next such line.
pub const MAX_BOUNDARY_LINES: usize = 1024;
/// MIME parts visited at most.
pub const MAX_PARTS: usize = 128;
/// MIME nesting visited at most.
pub const MAX_DEPTH: usize = 8;
/// Recipients reported at most.
pub const MAX_RECIPIENTS: usize = 1000;
/// Any field value or diagnostic is cut at this many bytes.
pub const MAX_VALUE_BYTES: usize = 2048;
/// A report part (or a notice's text) is read up to this many bytes.
pub const MAX_PART_BYTES: usize = 1 << 20;

/// What happened to one recipient, as the report says.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Action {
    /// Not delivered, and it will not be retried.
    Failed,
    /// Not delivered yet; the reporting MTA still tries.
    Delayed,
    /// Delivered to the recipient's mailbox.
    Delivered,
    /// Relayed to a system that does not issue reports.
    Relayed,
    /// Delivered and forwarded to further recipients.
    Expanded,
    /// The recipient (or their provider) complained about the message (a feedback report).
    Complaint,
}

impl Action {
    /// The snake_case name: `failed`, `delayed`, `delivered`, `relayed`, `expanded`, `complaint`.
    pub const fn name(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
            Action::Complaint => "complaint",
        }
    }

    /// The action of an RFC 3464 `Action` field value (any case; RFC 3464 allows a
    /// comment after it). `None` for anything else.
    pub fn from_field(value: &str) -> Option<Action> {
        let w = value
            .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
            .next()
            .unwrap_or("");
        [
            Action::Failed,
            Action::Delayed,
            Action::Delivered,
            Action::Relayed,
            Action::Expanded,
        ]
        .into_iter()
        .find(|a| w.eq_ignore_ascii_case(a.name()))
    }
}

impl core::fmt::Display for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<crate::dsn::Action> for Action {
    fn from(a: crate::dsn::Action) -> Self {
        match a {
            crate::dsn::Action::Failed => Action::Failed,
            crate::dsn::Action::Delayed => Action::Delayed,
            crate::dsn::Action::Delivered => Action::Delivered,
            crate::dsn::Action::Relayed => Action::Relayed,
            crate::dsn::Action::Expanded => Action::Expanded,
        }
    }
}

/// The plain-text bounce formats the heuristics recognise (by the software's own
/// words); [`Format::Generic`] when none is recognised but the message is a bounce.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Format {
    /// Postfix's bounce text (`This is the mail system at host …`).
    Postfix,
    /// Exim's (`This message was created automatically by mail delivery software`).
    Exim,
    /// qmail's (`Hi. This is the qmail-send program`).
    Qmail,
    /// Sendmail's (`----- The following addresses had permanent fatal errors -----`).
    Sendmail,
    /// Microsoft 365 / Exchange non-delivery reports.
    Exchange,
    /// Gmail's (`Delivery to the following recipient failed permanently`).
    Gmail,
    /// Yahoo's (`Sorry, we were unable to deliver your message`).
    Yahoo,
    /// RFC 3464 fields written into the text of a message that is not a report.
    InlineReport,
    /// A bounce in none of the known wordings: recipients found by their lines.
    Generic,
}

impl Format {
    /// The snake_case name (`postfix`, `inline_report`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Format::Postfix => "postfix",
            Format::Exim => "exim",
            Format::Qmail => "qmail",
            Format::Sendmail => "sendmail",
            Format::Exchange => "exchange",
            Format::Gmail => "gmail",
            Format::Yahoo => "yahoo",
            Format::InlineReport => "inline_report",
            Format::Generic => "generic",
        }
    }
}

/// How a recipient was found.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum FoundBy {
    /// An RFC 3464 `message/delivery-status` part.
    Dsn,
    /// An RFC 5965 `message/feedback-report` part.
    Arf,
    /// A plain-text bounce, read by the heuristic for this format.
    Heuristic(Format),
}

impl FoundBy {
    /// `dsn`, `arf` or `heuristic` (the command line's `kind`).
    pub const fn name(self) -> &'static str {
        match self {
            FoundBy::Dsn => "dsn",
            FoundBy::Arf => "arf",
            FoundBy::Heuristic(_) => "heuristic",
        }
    }
}

impl core::fmt::Display for FoundBy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FoundBy::Heuristic(fmt) => write!(f, "heuristic {}", fmt.name()),
            other => f.write_str(other.name()),
        }
    }
}

/// What identifies the message a report is about.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Correlation {
    /// The returned message's `Message-ID` (without angle brackets).
    pub message_id: Option<String>,
    /// The envelope id the sender gave (`ENVID`), echoed as `Original-Envelope-Id`.
    pub envelope_id: Option<String>,
    /// The returned message's `Return-Path` (the envelope sender the caller used,
    /// where VERP or a tag would be; without angle brackets).
    pub return_path: Option<String>,
    /// The address the report was delivered to (`Delivered-To`, `X-Original-To`, or
    /// its `To:`): the envelope sender of the original message, so a VERP-encoded or
    /// tagged one is here even when the message was not returned.
    pub report_to: Option<String>,
    /// The returned message's `Subject`.
    pub subject: Option<String>,
}

impl Correlation {
    /// The recipient encoded VERP-style in [`return_path`](Self::return_path) or
    /// [`report_to`](Self::report_to), with local-part `prefix`: see [`verp_decode`].
    ///
    /// ```
    /// use tempfail::bounce::Correlation;
    /// let mut c = Correlation::default();
    /// c.report_to = Some("bounces+bob=example.com@lists.example.org".into());
    /// assert_eq!(c.verp_recipient("bounces").as_deref(), Some("bob@example.com"));
    /// ```
    pub fn verp_recipient(&self, prefix: &str) -> Option<String> {
        [&self.return_path, &self.report_to]
            .into_iter()
            .flatten()
            .find_map(|a| verp_decode(a, prefix))
    }
}

/// The recipient encoded in a VERP address: `prefix` + `+` or `-` + `user=domain` +
/// `@` + the sender's domain → `user@domain` (Variable Envelope Return Paths, the
/// convention of qmail, Postfix and mailing-list managers). `None` when `address` is
/// not one with this prefix.
///
/// ```
/// use tempfail::bounce::verp_decode;
/// assert_eq!(verp_decode("bounce-bob=example.com@sender.org", "bounce").as_deref(), Some("bob@example.com"));
/// assert_eq!(verp_decode("<bounce+x=y.z@s.org>", "bounce").as_deref(), Some("x@y.z"));
/// assert_eq!(verp_decode("alice@sender.org", "bounce"), None);
/// ```
pub fn verp_decode(address: &str, prefix: &str) -> Option<String> {
    let a = fields::strip_angles(address);
    let (local, _) = a.rsplit_once('@')?;
    let rest = local.get(prefix.len()..)?;
    if !local.get(..prefix.len())?.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = rest.strip_prefix(['+', '-'])?;
    let (user, domain) = rest.rsplit_once('=')?;
    let out = format!("{user}@{domain}");
    text::is_address(&out).then_some(out)
}

/// The feedback type of an RFC 5965 report (RFC 5965 §7.3, RFC 6591).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum FeedbackType {
    /// Unsolicited mail or other abuse (a "this is spam" click).
    Abuse,
    /// Fraud or phishing.
    Fraud,
    /// A virus.
    Virus,
    /// Any other kind.
    Other,
    /// Not spam (the recipient took it out of the spam folder).
    NotSpam,
    /// An authentication failure report (RFC 6591).
    AuthFailure,
    /// A type this parser does not know.
    Unknown,
}

impl FeedbackType {
    /// The snake_case name (`abuse`, `not_spam`, `auth_failure`, …).
    pub const fn name(self) -> &'static str {
        match self {
            FeedbackType::Abuse => "abuse",
            FeedbackType::Fraud => "fraud",
            FeedbackType::Virus => "virus",
            FeedbackType::Other => "other",
            FeedbackType::NotSpam => "not_spam",
            FeedbackType::AuthFailure => "auth_failure",
            FeedbackType::Unknown => "unknown",
        }
    }

    /// The type of a `Feedback-Type` field value (any case).
    pub fn from_field(value: &str) -> FeedbackType {
        let v = value.trim().to_ascii_lowercase();
        match v.as_str() {
            "abuse" | "complaint" => FeedbackType::Abuse,
            "fraud" => FeedbackType::Fraud,
            "virus" => FeedbackType::Virus,
            "other" => FeedbackType::Other,
            "not-spam" => FeedbackType::NotSpam,
            "auth-failure" => FeedbackType::AuthFailure,
            _ => FeedbackType::Unknown,
        }
    }
}

/// The fields of an RFC 5965 feedback report.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Feedback {
    /// `Feedback-Type`.
    pub feedback_type: FeedbackType,
    /// `Feedback-Type` as written.
    pub feedback_type_field: String,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `Source-IP`.
    pub source_ip: Option<String>,
    /// `Original-Mail-From` (without angle brackets).
    pub original_mail_from: Option<String>,
    /// Every `Original-Rcpt-To` (without angle brackets).
    pub original_rcpt_to: Vec<String>,
    /// `Arrival-Date` (or `Received-Date`).
    pub arrival_date: Option<Timestamp>,
    /// Every `Reported-Domain`.
    pub reported_domain: Vec<String>,
    /// Every `Reported-URI`.
    pub reported_uri: Vec<String>,
    /// `Authentication-Results`.
    pub authentication_results: Option<String>,
    /// `Incidents`.
    pub incidents: Option<u64>,
}

/// One recipient's result, from any kind of report.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct BounceRecipient {
    /// The recipient (`Final-Recipient`, or the address the notice names), without
    /// angle brackets or address type.
    pub recipient: String,
    /// `Original-Recipient` (the `ORCPT` address), without its type.
    pub original_recipient: Option<String>,
    /// What happened.
    pub action: Action,
    /// The status code: `Status`, or the enhanced code the diagnostic holds.
    pub status: Option<EnhancedCode>,
    /// The reply found in the diagnostic, if any (for its codes).
    pub reply: Option<Reply>,
    /// The diagnostic text (`Diagnostic-Code` without its type, or the notice's
    /// words about this recipient, blanks collapsed).
    pub diagnostic: Option<String>,
    /// The `Diagnostic-Code` type (`smtp`, `X-Postfix`…).
    pub diagnostic_type: Option<String>,
    /// The remote MTA (`Remote-MTA` without its type, or the host the notice names).
    pub remote_mta: Option<String>,
    /// `Last-Attempt-Date`.
    pub last_attempt: Option<Timestamp>,
    /// `Will-Retry-Until`.
    pub will_retry_until: Option<Timestamp>,
    /// The command the failure answered, when the report says.
    pub stage: Stage,
    /// How this recipient was found.
    pub found_by: FoundBy,
    /// What identifies the message this is about.
    pub correlation: Correlation,
    /// What it means, from the crate's classifier.
    pub classification: Classification,
}

impl BounceRecipient {
    /// This result as the outcome of recipient `rcpt` (its index in the message's
    /// recipient list), for a [`Delivery`](crate::Delivery), a policy or destination
    /// health.
    pub fn to_outcome(&self, rcpt: usize) -> RcptOutcome {
        RcptOutcome {
            rcpt,
            reply: self.reply.clone(),
            stage: self.stage,
            classification: self.classification.clone(),
        }
    }
}

/// A parsed report: the per-message fields and one entry per recipient.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Report {
    /// How the recipients were found.
    pub found_by: FoundBy,
    /// `Reporting-MTA` without its type.
    pub reporting_mta: Option<String>,
    /// `Arrival-Date`.
    pub arrival_date: Option<Timestamp>,
    /// The fields of a feedback report.
    pub feedback: Option<Feedback>,
    /// What identifies the message the report is about.
    pub correlation: Correlation,
    /// One entry per recipient (never empty).
    pub recipients: Vec<BounceRecipient>,
    /// True when a limit left something out (recipients beyond [`MAX_RECIPIENTS`],
    /// the message beyond [`MAX_MESSAGE_BYTES`]).
    pub truncated: bool,
}

/// Why a message is not read as a bounce.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum NotBounce {
    /// An auto-reply (vacation, out of office): never a failure.
    AutoReply,
    /// Neither a report part nor any sign of a bounce.
    NoReport,
    /// It looks like a bounce, but names no recipient.
    NoRecipient,
}

impl NotBounce {
    /// The snake_case name: `auto_reply`, `no_report`, `no_recipient`.
    pub const fn name(self) -> &'static str {
        match self {
            NotBounce::AutoReply => "auto_reply",
            NotBounce::NoReport => "no_report",
            NotBounce::NoRecipient => "no_recipient",
        }
    }
}

impl core::fmt::Display for NotBounce {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// What [`Parser::parse`] refuses.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message is not a bounce or complaint.
    #[error("not a bounce ({0})")]
    NotBounce(NotBounce),
    /// The input is empty or blank.
    #[error("empty message")]
    Empty,
    /// The MIME structure cannot be read.
    #[error("unreadable message: {0}")]
    Unreadable(String),
}

/// Reads bounces and complaints. Cheap to clone; share one.
#[derive(Clone, Default)]
pub struct Parser {
    classifier: Classifier,
}

impl core::fmt::Debug for Parser {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Parser").finish_non_exhaustive()
    }
}

/// Parses `message` with the built-in classifier: [`Parser::parse`].
///
/// ```
/// use tempfail::bounce::{self, Error, NotBounce};
/// let r = bounce::parse(b"From: bob@example.com\r\nSubject: Out of Office\r\nAuto-Submitted: auto-replied\r\n\r\nBack Monday.\r\n");
/// assert_eq!(r, Err(Error::NotBounce(NotBounce::AutoReply)));
/// ```
pub fn parse(message: &[u8]) -> Result<Report, Error> {
    static P: OnceLock<Parser> = OnceLock::new();
    P.get_or_init(Parser::new).parse(message)
}

/// What the walk over the MIME tree collected.
#[derive(Default)]
struct Parts {
    status: Option<String>,
    feedback: Option<String>,
    returned: Option<Vec<u8>>,
    notice: String,
    html: String,
}

impl Parser {
    /// A parser classifying with the built-in rules.
    pub fn new() -> Self {
        Parser {
            classifier: Classifier::builtin(),
        }
    }

    /// A parser classifying with `classifier` (your own rules first, for example).
    pub fn with_classifier(classifier: Classifier) -> Self {
        Parser { classifier }
    }

    /// Reads one message (headers and body, as received).
    ///
    /// An RFC 3464 report gives its recipients ([`FoundBy::Dsn`]); an RFC 5965 report
    /// its complaint ([`FoundBy::Arf`]); otherwise a message that shows the signs of a
    /// bounce (a mail system's sender, a bounce subject, a known MTA's wording,
    /// `X-Failed-Recipients`) is read by the heuristics ([`FoundBy::Heuristic`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotBounce`] for an auto-reply or a message that is neither a report
    /// nor a bounce, or a bounce naming no recipient; [`Error::Empty`];
    /// [`Error::Unreadable`] when the MIME parser refuses the message.
    pub fn parse(&self, message: &[u8]) -> Result<Report, Error> {
        if message.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Empty);
        }
        let (input, cut) = bounded_input(message);
        let mail = mailparse::parse_mail(input).map_err(|e| Error::Unreadable(e.to_string()))?;
        // Only the headers the heuristics read are decoded.
        let top: Vec<(String, String)> = TOP_HEADERS
            .iter()
            .filter_map(|name| {
                mail.headers
                    .get_first_value(name)
                    .map(|v| ((*name).to_owned(), bounded(&v, MAX_VALUE_BYTES)))
            })
            .collect();
        let header = |name: &str| {
            top.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let parts = collect(&mail);
        let notice = if parts.notice.trim().is_empty() {
            parts.html.as_str()
        } else {
            parts.notice.as_str()
        };
        let (own_text, inline_returned) = text::split_returned(notice);

        let mut correlation = Correlation {
            report_to: ["delivered-to", "x-original-to", "to"]
                .iter()
                .find_map(|h| header(h).and_then(first_address)),
            ..Correlation::default()
        };
        let returned = parts
            .returned
            .as_deref()
            .or_else(|| (!inline_returned.is_empty()).then_some(inline_returned.as_bytes()));
        let mut returned_to = Vec::new();
        if let Some(r) = returned {
            returned_headers(r, &mut correlation, &mut returned_to);
        }

        let ctx = Ctx {
            own_text,
            returned_to,
            correlation,
            cut,
        };
        if let Some(status) = &parts.status {
            if let Ok(r) = self.dsn(status, FoundBy::Dsn, &ctx) {
                return Ok(r);
            }
        }
        if let Some(fb) = &parts.feedback {
            if let Some(r) = self.arf(fb, &ctx) {
                return Ok(r);
            }
        }

        let subject = header("subject").unwrap_or("");
        let from = header("from").unwrap_or("");
        let failed_header = header("x-failed-recipients");
        let format = text::format_of(own_text.get(..own_text.len().min(8192)).unwrap_or(""));
        let bounce_like = format.is_some()
            || failed_header.is_some()
            || text::bounce_sender(from)
            || text::bounce_subject(subject)
            || parts.status.is_some();
        if !bounce_like {
            if text::auto_reply(&top, subject) {
                return Err(Error::NotBounce(NotBounce::AutoReply));
            }
            return Err(Error::NotBounce(NotBounce::NoReport));
        }
        if !text::bounce_sender(from) && failed_header.is_none() && text::auto_reply(&top, subject)
        {
            return Err(Error::NotBounce(NotBounce::AutoReply));
        }
        if own_text.lines().any(|l| {
            l.len() >= 16
                && l.get(..16)
                    .is_some_and(|p| p.eq_ignore_ascii_case("final-recipient:"))
        }) {
            if let Ok(r) = self.dsn(own_text, FoundBy::Heuristic(Format::InlineReport), &ctx) {
                return Ok(r);
            }
        }
        let delayed = text::says_delayed(subject);
        self.heuristic(
            &ctx,
            format.unwrap_or(Format::Generic),
            failed_header,
            delayed,
        )
    }

    /// Classifies one recipient's diagnostic (with its status), finding the stage in
    /// the diagnostic or, failing that, in `context` (the notice's words about it).
    fn classify(
        &self,
        action: Action,
        diagnostic: Option<&str>,
        status: Option<EnhancedCode>,
        context: Option<&str>,
    ) -> (Classification, Option<Reply>, Stage) {
        if matches!(
            action,
            Action::Delivered | Action::Relayed | Action::Expanded
        ) {
            let stage = diagnostic
                .and_then(Stage::from_text)
                .unwrap_or(Stage::Unknown);
            return (
                Classification::success().with_rule("bounce.action_success"),
                None,
                stage,
            );
        }
        let stage = diagnostic
            .and_then(Stage::from_text)
            .or_else(|| context.and_then(Stage::from_text))
            .or_else(|| context.and_then(text::transcript_stage))
            .unwrap_or(Stage::Unknown);
        let status = status
            .or_else(|| EnhancedCode::new(if action == Action::Delayed { 4 } else { 5 }, 0, 0));
        let text = with_status(diagnostic.unwrap_or(""), status);
        let (mut c, mut reply) = self.classifier.classify_text_with_reply(&text, stage);
        if c.low_confidence {
            if let Some(ctx) = context {
                let t = with_status(&bounded(ctx, MAX_VALUE_BYTES), status);
                let (c2, r2) = self.classifier.classify_text_with_reply(&t, stage);
                if !c2.low_confidence && c2.disposition != Disposition::Success {
                    c = c2;
                    reply = reply.or(r2);
                }
            }
        }
        if c.disposition == Disposition::Success {
            // A failure or delay report never means success, whatever its text quotes.
            let code = status.map(|s| s.to_string()).unwrap_or_default();
            c = self.classifier.classify_text(&code, stage);
        }
        // The reply is the one the diagnostic quotes, never one made of the status.
        let _ = reply;
        let reply = diagnostic
            .and_then(Reply::parse_loose)
            .filter(|r| !r.code().is_positive());
        (c, reply, stage)
    }

    fn dsn(&self, status: &str, found_by: FoundBy, ctx: &Ctx<'_>) -> Result<Report, NotBounce> {
        let (blocks, cut) = fields::blocks(
            status,
            MAX_RECIPIENTS.saturating_add(1),
            64,
            MAX_VALUE_BYTES,
        );
        let mut per_message: Option<&Block> = None;
        let mut recipients = Vec::new();
        let mut correlation = ctx.correlation.clone();
        for b in &blocks {
            let rcpt = get(b, "final-recipient").or_else(|| get(b, "original-recipient"));
            let Some(rcpt) = rcpt else {
                if per_message.is_none() {
                    per_message = Some(b);
                    if let Some(e) = get(b, "original-envelope-id") {
                        correlation.envelope_id = Some(e.to_owned());
                    }
                }
                continue;
            };
            if recipients.len() >= MAX_RECIPIENTS {
                break;
            }
            // A delivery to a program or a file (`X-Unix; |/usr/bin/x`) names no
            // mail recipient to correlate: only addresses are reported.
            let Some(recipient) = typed_address(rcpt).filter(|a| a.contains('@')) else {
                continue;
            };
            let status = get(b, "status").and_then(status_code);
            let action = get(b, "action").and_then(Action::from_field).unwrap_or(
                match status.map(EnhancedCode::class) {
                    Some(2) => Action::Delivered,
                    Some(4) => Action::Delayed,
                    _ => Action::Failed,
                },
            );
            let (diagnostic_type, diagnostic) = match get(b, "diagnostic-code") {
                Some(d) => match d.split_once(';') {
                    Some((t, rest)) if !t.contains(' ') && t.len() <= 32 => {
                        (Some(t.trim().to_owned()), non_empty(rest))
                    }
                    _ => (None, non_empty(d)),
                },
                None => (None, None),
            };
            let context = paragraph_about(ctx.own_text, &recipient);
            let (classification, reply, stage) =
                self.classify(action, diagnostic.as_deref(), status, context.as_deref());
            let status = status.or_else(|| {
                reply
                    .as_ref()
                    .and_then(Reply::enhanced)
                    .or_else(|| diagnostic.as_deref().and_then(enhanced_in))
            });
            recipients.push(BounceRecipient {
                original_recipient: get(b, "original-recipient").and_then(typed_address),
                recipient,
                action,
                status,
                reply,
                diagnostic,
                diagnostic_type,
                remote_mta: get(b, "remote-mta").and_then(typed_name),
                last_attempt: get(b, "last-attempt-date").and_then(fields::date),
                will_retry_until: get(b, "will-retry-until").and_then(fields::date),
                stage,
                found_by,
                correlation: Correlation::default(),
                classification,
            });
        }
        if recipients.is_empty() {
            return Err(NotBounce::NoRecipient);
        }
        for r in &mut recipients {
            r.correlation = correlation.clone();
        }
        Ok(Report {
            found_by,
            reporting_mta: per_message
                .and_then(|b| get(b, "reporting-mta"))
                .and_then(typed_name),
            arrival_date: per_message
                .and_then(|b| get(b, "arrival-date"))
                .and_then(fields::date),
            feedback: None,
            correlation,
            recipients,
            truncated: cut || ctx.cut,
        })
    }

    fn arf(&self, report: &str, ctx: &Ctx<'_>) -> Option<Report> {
        let (blocks, _) = fields::blocks(report, 4, 256, MAX_VALUE_BYTES);
        let b = blocks.iter().find(|b| get(b, "feedback-type").is_some())?;
        let type_field = get(b, "feedback-type").unwrap_or("");
        let addr_list = |name: &'static str| -> Vec<String> {
            get_all(b, name)
                .filter_map(|v| {
                    let a = fields::strip_angles(v);
                    text::is_address(a).then(|| a.to_owned())
                })
                .take(MAX_RECIPIENTS)
                .collect()
        };
        let feedback = Feedback {
            feedback_type: FeedbackType::from_field(type_field),
            feedback_type_field: type_field.to_owned(),
            user_agent: get(b, "user-agent").map(str::to_owned),
            version: get(b, "version").map(str::to_owned),
            source_ip: get(b, "source-ip").map(str::to_owned),
            original_mail_from: get(b, "original-mail-from")
                .map(|v| fields::strip_angles(v).to_owned()),
            original_rcpt_to: addr_list("original-rcpt-to"),
            arrival_date: get(b, "arrival-date")
                .or_else(|| get(b, "received-date"))
                .and_then(fields::date),
            reported_domain: get_all(b, "reported-domain")
                .take(64)
                .map(str::to_owned)
                .collect(),
            reported_uri: get_all(b, "reported-uri")
                .take(64)
                .map(str::to_owned)
                .collect(),
            authentication_results: get(b, "authentication-results").map(str::to_owned),
            incidents: get(b, "incidents").and_then(|v| v.trim().parse().ok()),
        };
        let mut rcpts = feedback.original_rcpt_to.clone();
        if rcpts.is_empty() {
            rcpts.extend(ctx.returned_to.iter().cloned());
        }
        if rcpts.is_empty() {
            rcpts.extend(ctx.correlation.report_to.iter().cloned());
        }
        if rcpts.is_empty() {
            return None;
        }
        let (category, disposition, rule) = match feedback.feedback_type {
            FeedbackType::NotSpam => (None, Disposition::Success, "bounce.arf.not_spam"),
            FeedbackType::Virus => (
                Some(Category::VirusContent),
                Disposition::Permanent,
                "bounce.arf.virus",
            ),
            FeedbackType::AuthFailure => (
                Some(Category::SenderAuthentication),
                Disposition::Permanent,
                "bounce.arf.auth_failure",
            ),
            FeedbackType::Fraud => (
                Some(Category::SpamContent),
                Disposition::Permanent,
                "bounce.arf.fraud",
            ),
            _ => (
                Some(Category::SpamContent),
                Disposition::Permanent,
                "bounce.arf.abuse",
            ),
        };
        let classification = Classification {
            disposition,
            category,
            scope: Scope::Recipient,
            retry_after: None,
            rule: Cow::Borrowed(rule),
            description: Cow::Borrowed(
                "a feedback-loop complaint: stop mailing this recipient (RFC 5965)",
            ),
            low_confidence: false,
        };
        let recipients = rcpts
            .into_iter()
            .map(|recipient| BounceRecipient {
                recipient,
                original_recipient: None,
                action: Action::Complaint,
                status: None,
                reply: None,
                diagnostic: non_empty(ctx.own_text),
                diagnostic_type: None,
                remote_mta: None,
                last_attempt: None,
                will_retry_until: None,
                stage: Stage::Unknown,
                found_by: FoundBy::Arf,
                correlation: ctx.correlation.clone(),
                classification: classification.clone(),
            })
            .collect();
        Some(Report {
            found_by: FoundBy::Arf,
            reporting_mta: feedback.user_agent.clone(),
            arrival_date: feedback.arrival_date,
            feedback: Some(feedback),
            correlation: ctx.correlation.clone(),
            recipients,
            truncated: ctx.cut,
        })
    }

    fn heuristic(
        &self,
        ctx: &Ctx<'_>,
        format: Format,
        failed_header: Option<&str>,
        delayed_subject: bool,
    ) -> Result<Report, Error> {
        let notice = ctx.own_text;
        let lines: Vec<&str> = notice.lines().take(20_000).collect();
        // (address, index of its line, rest of that line)
        let mut found: Vec<(String, usize, &str)> = Vec::new();
        let excluded = [
            ctx.correlation.report_to.as_deref(),
            ctx.correlation.return_path.as_deref(),
        ];
        for (i, line) in lines.iter().enumerate() {
            if let Some((addr, rest)) = text::line_address(line, true) {
                let lower = addr.to_ascii_lowercase();
                if excluded
                    .iter()
                    .flatten()
                    .any(|e| e.eq_ignore_ascii_case(&lower))
                {
                    continue;
                }
                if !found.iter().any(|(a, _, _)| *a == lower) {
                    if found.len() >= MAX_RECIPIENTS {
                        break;
                    }
                    found.push((lower, i, rest));
                }
            }
        }
        if found.is_empty() {
            for (i, line) in lines.iter().enumerate() {
                if let Some(addr) = text::loose_line_address(line) {
                    let lower = addr.to_ascii_lowercase();
                    if excluded
                        .iter()
                        .flatten()
                        .any(|e| e.eq_ignore_ascii_case(&lower))
                        || found.iter().any(|(a, _, _)| *a == lower)
                    {
                        continue;
                    }
                    if found.len() >= MAX_RECIPIENTS {
                        break;
                    }
                    found.push((lower, i, ""));
                }
            }
        }
        if let Some(h) = failed_header {
            let listed: Vec<String> = h
                .split([',', ' ', '\t'])
                .map(|a| fields::strip_angles(a).to_ascii_lowercase())
                .filter(|a| text::is_address(a))
                .take(MAX_RECIPIENTS)
                .collect();
            if !listed.is_empty() {
                let mut out = Vec::new();
                for a in listed {
                    let (at, rest) = found
                        .iter()
                        .find(|(f, _, _)| *f == a)
                        .map_or((usize::MAX, ""), |(_, i, r)| (*i, *r));
                    if !out.iter().any(|(f, _, _): &(String, usize, &str)| *f == a) {
                        out.push((a, at, rest));
                    }
                }
                found = out;
            }
        }
        if found.is_empty() {
            return Err(Error::NotBounce(NotBounce::NoRecipient));
        }
        let first_line = found.iter().map(|f| f.1).min().unwrap_or(0);
        let preamble = lines
            .get(..first_line.min(lines.len()))
            .map(|l| l.join("\n"))
            .unwrap_or_default();
        let delayed = delayed_subject || text::says_delayed(&preamble);
        let mut starts: Vec<usize> = found
            .iter()
            .map(|f| f.1)
            .filter(|i| *i != usize::MAX)
            .collect();
        starts.sort_unstable();
        let found_by = FoundBy::Heuristic(format);
        let mut recipients = Vec::with_capacity(found.len());
        for (addr, at, rest) in &found {
            let block = if *at == usize::MAX {
                paragraph_about(notice, addr).unwrap_or_default()
            } else {
                let end = starts
                    .iter()
                    .find(|s| **s > *at)
                    .copied()
                    .unwrap_or(lines.len());
                let mut b = String::new();
                fields::push_bounded(&mut b, rest, MAX_VALUE_BYTES * 4);
                for l in lines.get(at + 1..end).unwrap_or(&[]) {
                    if b.len() >= MAX_VALUE_BYTES * 4 {
                        break;
                    }
                    b.push('\n');
                    fields::push_bounded(&mut b, l, MAX_VALUE_BYTES * 4);
                }
                b
            };
            let diagnostic = non_empty(&collapse(&block));
            let context = if found.len() == 1 {
                collapse(&bounded(notice, MAX_VALUE_BYTES * 8))
            } else {
                collapse(&block)
            };
            let status = enhanced_in(&block);
            let action = if delayed {
                Action::Delayed
            } else {
                Action::Failed
            };
            let (classification, reply, stage) =
                self.classify(action, diagnostic.as_deref(), status, Some(&context));
            let stage = if stage == Stage::Unknown {
                text::transcript_stage(&block).unwrap_or(stage)
            } else {
                stage
            };
            let status = status.or_else(|| reply.as_ref().and_then(Reply::enhanced));
            recipients.push(BounceRecipient {
                recipient: addr.clone(),
                original_recipient: None,
                action,
                status,
                reply,
                diagnostic: diagnostic.map(|d| bounded(&d, MAX_VALUE_BYTES)),
                diagnostic_type: None,
                remote_mta: text::remote_host(&block),
                last_attempt: None,
                will_retry_until: None,
                stage,
                found_by,
                correlation: ctx.correlation.clone(),
                classification,
            });
        }
        Ok(Report {
            found_by,
            reporting_mta: None,
            arrival_date: None,
            feedback: None,
            correlation: ctx.correlation.clone(),
            recipients,
            truncated: ctx.cut,
        })
    }
}

/// The top-level headers the parser reads.
const TOP_HEADERS: &[&str] = &[
    "subject",
    "from",
    "to",
    "delivered-to",
    "x-original-to",
    "x-failed-recipients",
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-mail-autoreply",
    "x-vacation",
    "precedence",
];

/// What the report parsers share about one message.
struct Ctx<'a> {
    own_text: &'a str,
    /// The returned message's `To:` addresses.
    returned_to: Vec<String>,
    correlation: Correlation,
    cut: bool,
}

/// The part of `message` that is read: at most [`MAX_MESSAGE_BYTES`], and up to the
/// [`MAX_BOUNDARY_LINES`]-th line starting with `--`. `true` when something was cut.
fn bounded_input(message: &[u8]) -> (&[u8], bool) {
    let mut end = message.len().min(MAX_MESSAGE_BYTES);
    let mut cut = end < message.len();
    let mut dashes = 0usize;
    let mut at_line_start = true;
    let mut i = 0usize;
    let head = message.get(..end).unwrap_or(message);
    while i < head.len() {
        if at_line_start && head.get(i..i + 2) == Some(b"--") {
            dashes += 1;
            if dashes > MAX_BOUNDARY_LINES {
                end = i;
                cut = true;
                break;
            }
        }
        match head
            .get(i..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'))
        {
            Some(p) => {
                i = i + p + 1;
                at_line_start = true;
            }
            None => break,
        }
    }
    (message.get(..end).unwrap_or(message), cut)
}

/// Walks the MIME tree (explicit stack; at most [`MAX_PARTS`] parts, [`MAX_DEPTH`]
/// deep) and keeps the first report parts, the first returned message, and the
/// text before the returned message.
fn collect(mail: &ParsedMail<'_>) -> Parts {
    let mut parts = Parts::default();
    let mut stack: Vec<(&ParsedMail<'_>, usize)> = vec![(mail, 0)];
    let mut visited = 0usize;
    let mut seen_returned = false;
    while let Some((p, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_PARTS {
            break;
        }
        let mime = p.ctype.mimetype.to_ascii_lowercase();
        if mime.starts_with("multipart/") {
            if depth < MAX_DEPTH {
                for sub in p.subparts.iter().rev().take(MAX_PARTS) {
                    stack.push((sub, depth + 1));
                }
            }
            continue;
        }
        match mime.as_str() {
            "message/delivery-status" | "message/global-delivery-status"
                if parts.status.is_none() =>
            {
                parts.status = Some(body_text(p));
            }
            "message/feedback-report" if parts.feedback.is_none() => {
                parts.feedback = Some(body_text(p));
            }
            "message/rfc822"
            | "message/global"
            | "text/rfc822-headers"
            | "message/rfc822-headers"
            | "message/global-headers"
            | "message/partial" => {
                if parts.returned.is_none() {
                    // Only its headers are read: no need to decode a 7bit/8bit body.
                    let raw = match p.get_body_encoded() {
                        mailparse::body::Body::SevenBit(b) | mailparse::body::Body::EightBit(b) => {
                            b.get_raw()
                                .get(..b.get_raw().len().min(MAX_PART_BYTES))
                                .unwrap_or(&[])
                                .to_vec()
                        }
                        _ => {
                            let mut raw = p.get_body_raw().unwrap_or_default();
                            raw.truncate(MAX_PART_BYTES);
                            raw
                        }
                    };
                    parts.returned = Some(raw);
                }
                seen_returned = true;
            }
            "text/html" if !seen_returned && parts.html.len() < MAX_PART_BYTES => {
                let t = text::html_text(&body_text(p));
                fields::push_bounded(&mut parts.html, &t, MAX_PART_BYTES);
                parts.html.push('\n');
            }
            m if (m.starts_with("text/") || m.is_empty())
                && !seen_returned
                && parts.notice.len() < MAX_PART_BYTES =>
            {
                fields::push_bounded(&mut parts.notice, &body_text(p), MAX_PART_BYTES);
                parts.notice.push('\n');
            }
            _ => {}
        }
    }
    parts
}

/// A part's body, transfer-decoded and as text (its charset decoded; undecodable
/// bytes replaced), at most [`MAX_PART_BYTES`].
fn body_text(p: &ParsedMail<'_>) -> String {
    let s = p
        .get_body()
        .or_else(|_| {
            p.get_body_raw()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        })
        .unwrap_or_default();
    if s.len() > MAX_PART_BYTES {
        bounded(&s, MAX_PART_BYTES)
    } else {
        s
    }
}

/// Fills the correlation keys from the returned message's (or headers') bytes.
fn returned_headers(raw: &[u8], c: &mut Correlation, to: &mut Vec<String>) {
    let start = raw
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(raw.len());
    let raw = raw.get(start..).unwrap_or(&[]);
    let raw = raw.get(..raw.len().min(256 << 10)).unwrap_or(raw);
    let Ok((headers, _)) = mailparse::parse_headers(raw) else {
        return;
    };
    let val = |name: &str| {
        headers
            .get_first_value(name)
            .map(|v| bounded(v.trim(), MAX_VALUE_BYTES))
            .filter(|v| !v.is_empty())
    };
    c.message_id = val("Message-ID").map(|v| fields::strip_angles(&v).to_owned());
    c.return_path = val("Return-Path")
        .map(|v| fields::strip_angles(&v).to_owned())
        .filter(|v| !v.is_empty());
    c.subject = val("Subject");
    if let Some(v) = val("To") {
        to.extend(v.split(',').filter_map(first_address).take(MAX_RECIPIENTS));
    }
    if c.envelope_id.is_none() {
        c.envelope_id = val("X-Envelope-Id");
    }
}

/// The first address in a header value (`Name <a@b.c>`, `a@b.c`).
fn first_address(value: &str) -> Option<String> {
    let v = value.trim();
    let inner = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => v.get(a + 1..b).unwrap_or(""),
        _ => v.split([',', ' ']).next().unwrap_or(""),
    };
    let inner = inner.trim();
    text::is_address(inner).then(|| inner.to_owned())
}

/// The paragraph of `notice` that mentions `addr` (case-insensitive): from that line
/// to the next blank line.
fn paragraph_about(notice: &str, addr: &str) -> Option<String> {
    if notice.is_empty() || addr.is_empty() {
        return None;
    }
    let lower = notice.to_ascii_lowercase();
    let a = addr.to_ascii_lowercase();
    let pos = lower.find(&a)?;
    let start = lower
        .get(..pos)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |p| p + 1);
    let tail = notice.get(start..)?;
    let end = tail
        .find("\n\n")
        .or_else(|| tail.find("\r\n\r\n"))
        .unwrap_or(tail.len());
    non_empty(&collapse(&bounded(tail.get(..end)?, MAX_VALUE_BYTES * 2)))
}

/// `text` with `status` put after the reply code when the text has a reply code but
/// no enhanced code (`550 no such user` + 5.1.1 → `550 5.1.1 no such user`), or in
/// front when it has no code at all: the status is the report's own verdict.
fn with_status(text: &str, status: Option<EnhancedCode>) -> String {
    let t = text.trim();
    let Some(status) = status else {
        return t.to_owned();
    };
    if enhanced_in(t).is_some() {
        return t.to_owned();
    }
    let b = t.as_bytes();
    if b.len() >= 3
        && b.iter().take(3).all(u8::is_ascii_digit)
        && b.get(3).is_none_or(|c| matches!(c, b' ' | b'-'))
    {
        let code = t.get(..3).unwrap_or("");
        let rest = t.get(3..).unwrap_or("").trim_start_matches(['-', ' ']);
        return format!("{code} {status} {rest}");
    }
    if status.subject() == 0 && status.detail() == 0 && !t.is_empty() {
        // A bare class says nothing the text does not; keep the words first.
        return format!("{t} {status}");
    }
    format!("{status} {t}")
}

fn enhanced_in(text: &str) -> Option<EnhancedCode> {
    crate::classify::text::enhanced_in_text(text.as_bytes())
}

/// A `Status` field value (`5.1.1`, `5.1.1 (comment)`).
fn status_code(value: &str) -> Option<EnhancedCode> {
    let v = value.trim();
    EnhancedCode::parse_prefix(v.as_bytes()).map(|(e, _)| e)
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| bounded(t, MAX_VALUE_BYTES))
}

/// Blanks (line breaks included) collapsed to one space.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}
