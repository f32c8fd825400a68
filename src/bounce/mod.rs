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
mod notices;
mod ses;
mod text;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::OnceLock;

use mailparse::ParsedMail;

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
    /// An Amazon SES notification (JSON, `notificationType`) delivered by e-mail.
    AmazonSes,
    /// A notice of the FML mailing-list server (`X-MLServer: fml`): the list refused
    /// or dropped a post; the recipient is the list address it names.
    Fml,
    /// Apache James's (and carriers' gateways built on it: `Error message below:`,
    /// then `Message details:` with the envelope's `RCPT TO:`).
    ApacheJames,
    /// A complaint of Microsoft's Junk Mail Reporting Program (Outlook.com, Hotmail):
    /// not an RFC 5965 report, the reported message attached with its
    /// `X-HmXmrOriginalRecipient` header naming the complaining recipient.
    MicrosoftJmrp,
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
            Format::AmazonSes => "amazon_ses",
            Format::Fml => "fml",
            Format::ApacheJames => "apache_james",
            Format::MicrosoftJmrp => "microsoft_jmrp",
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

/// The messages of an mbox file (one message alone is one message): each starts at a
/// `From ` postmark line at the start of the input or after a blank line. Bounces
/// saved from a mail client, and some of Sisimai's test messages, hold several.
///
/// The postmark line itself is left out; a message with no postmark is returned
/// whole. Linear in the input; the slices borrow it.
///
/// ```
/// use tempfail::bounce::mbox_messages;
/// let mbox = b"From a@b Thu Apr 29 23:34:45 2015\nSubject: one\n\nbody\n\nFrom c@d Thu Apr 29 23:34:46 2015\nSubject: two\n\nbody\n";
/// let m: Vec<&[u8]> = mbox_messages(mbox).collect();
/// assert_eq!(m.len(), 2);
/// assert!(m[1].starts_with(b"Subject: two"));
/// ```
pub fn mbox_messages(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    // The start of the next message's postmark line, if any (lazy: one pass, nothing
    // kept but the position).
    let next_mark = move |from: usize| -> Option<usize> {
        let rest = input.get(from..)?;
        memchr::memmem::find_iter(rest, b"\nFrom ")
            .find(|&p| {
                let before = input.get(..from + p).unwrap_or(&[]);
                before.ends_with(b"\n") || before.ends_with(b"\n\r")
            })
            .map(|p| from + p + 1)
    };
    let after_line = move |at: usize| {
        memchr::memchr(b'\n', input.get(at..).unwrap_or(&[])).map_or(input.len(), |p| at + p + 1)
    };
    let mbox = input.starts_with(b"From ");
    // (where the current message's postmark line starts, done)
    let mut state: Option<usize> = Some(0);
    let mut whole = !mbox;
    std::iter::from_fn(move || {
        if whole {
            whole = false;
            state = None;
            return Some(input);
        }
        loop {
            let mark = state?;
            let start = after_line(mark);
            let end = next_mark(start.saturating_sub(1).max(mark));
            state = end;
            let m = input.get(start..end.unwrap_or(input.len()).max(start))?;
            if !m.iter().all(u8::is_ascii_whitespace) {
                return Some(m);
            }
        }
    })
}

/// What the walk over the MIME tree collected. Text and HTML parts are kept as
/// parts and decoded only when the notice's words are needed.
struct Parts<'p, 'm> {
    status: Option<String>,
    feedback: Option<String>,
    returned: Option<Cow<'p, [u8]>>,
    notice: Vec<&'p ParsedMail<'m>>,
    html: Vec<&'p ParsedMail<'m>>,
}

impl Parts<'_, '_> {
    /// The notice's text: its text parts before the returned message, else its HTML
    /// parts as text, at most [`MAX_PART_BYTES`].
    fn notice_text(&self) -> String {
        let mut out = String::new();
        for p in &self.notice {
            if out.len() >= MAX_PART_BYTES {
                break;
            }
            fields::push_bounded(&mut out, &body_text(p), MAX_PART_BYTES);
            out.push('\n');
        }
        if out.trim().is_empty() {
            out.clear();
            for p in &self.html {
                if out.len() >= MAX_PART_BYTES {
                    break;
                }
                fields::push_bounded(&mut out, &text::html_text(&body_text(p)), MAX_PART_BYTES);
                out.push('\n');
            }
        }
        out
    }
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
        self.parse_at(message, 0)
    }

    /// [`Parser::parse`] of a message nested `depth` bounces deep (a bounce of a
    /// bounce is read once, never deeper).
    fn parse_at(&self, message: &[u8], depth: usize) -> Result<Report, Error> {
        if message.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Empty);
        }
        let (input, cut) = bounded_input(message);
        // The top-level header block is read here, in one pass: only the headers the
        // parser reads are decoded, and `mailparse` sees only those that give the MIME
        // structure (a bounce's top often holds dozens of Received, DKIM and ARC lines).
        let mut top: Vec<(&'static str, String)> = Vec::new();
        let mut structural: Vec<u8> = Vec::with_capacity(512);
        let body_start = fields::scan_headers(input, |name, header| {
            if name.eq_ignore_ascii_case(b"content-type")
                || name.eq_ignore_ascii_case(b"content-transfer-encoding")
                || name.eq_ignore_ascii_case(b"mime-version")
            {
                if structural.len() < 64 << 10 {
                    structural.extend_from_slice(header);
                    if !header.ends_with(b"\n") {
                        structural.extend_from_slice(b"\r\n");
                    }
                }
                return;
            }
            let Some(n) = TOP_HEADERS
                .iter()
                .find(|n| name.eq_ignore_ascii_case(n.as_bytes()))
            else {
                return;
            };
            if top.iter().any(|(t, _)| t == n) {
                return;
            }
            if let Some(v) = fields::header_value(header) {
                top.push((n, bounded(&v, MAX_VALUE_BYTES)));
            }
        });
        structural.extend_from_slice(b"\r\n");
        structural.extend_from_slice(input.get(body_start..).unwrap_or(&[]));
        let mut mail =
            mailparse::parse_mail(&structural).map_err(|e| Error::Unreadable(e.to_string()))?;
        let plain: Vec<u8>;
        if mail.subparts.is_empty() && is_multipart(&mail.ctype.mimetype) {
            // A multipart whose boundary never occurs (a mail system that declared one
            // and wrote plain text): the body is read as text.
            plain = [b"\r\n".as_slice(), input.get(body_start..).unwrap_or(&[])].concat();
            mail = mailparse::parse_mail(&plain).map_err(|e| Error::Unreadable(e.to_string()))?;
        }
        let header = |name: &str| {
            top.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        let parts = collect(&mail);

        let mut correlation = Correlation {
            report_to: ["delivered-to", "x-original-to", "to"]
                .iter()
                .find_map(|h| header(h).and_then(first_address)),
            ..Correlation::default()
        };
        let notice = Notice {
            parts: &parts,
            text: OnceCell::new(),
            lower: OnceCell::new(),
        };
        let mut returned_to = Vec::new();
        match parts.returned.as_deref() {
            Some(r) => returned_headers(r, &mut correlation, &mut returned_to),
            None => {
                let inline = notice.inline_returned();
                if !inline.is_empty() {
                    returned_headers(inline.as_bytes(), &mut correlation, &mut returned_to);
                }
            }
        }

        let ctx = Ctx {
            notice: &notice,
            returned_to,
            failed_header: header("x-failed-recipients").map(str::to_owned),
            returned: parts.returned.as_deref(),
            depth,
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
        let own_text = notice.own();
        if memchr::memmem::find(own_text.as_bytes(), b"notificationType").is_some() {
            if let Some(r) = self.ses(&ctx) {
                return Ok(r);
            }
        }

        if parts.status.is_none() && parts.feedback.is_none() {
            if let Some(r) = self.jmrp(&ctx) {
                return Ok(r);
            }
        }

        let subject = header("subject").unwrap_or("");
        let from = header("from").unwrap_or("");
        let failed_header = header("x-failed-recipients");
        let fml = header("x-mlserver").is_some_and(|v| {
            v.trim_start()
                .get(..3)
                .is_some_and(|p| p.eq_ignore_ascii_case("fml"))
        });
        let format = if fml {
            Some(Format::Fml)
        } else {
            text::format_of(own_text.get(..own_text.len().min(8192)).unwrap_or(""))
        };
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
    /// the diagnostic or, failing that, in `context` (the notice's words about it,
    /// computed only when needed).
    fn classify(
        &self,
        action: Action,
        diagnostic: Option<&str>,
        status: Option<EnhancedCode>,
        context: &dyn Fn() -> Option<String>,
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
        let cell: OnceCell<Option<String>> = OnceCell::new();
        let context = || cell.get_or_init(context).as_deref();
        let stage = diagnostic
            .and_then(Stage::from_text)
            .or_else(|| context().and_then(Stage::from_text))
            .or_else(|| context().and_then(text::transcript_stage))
            .unwrap_or(Stage::Unknown);
        let status = status
            .or_else(|| EnhancedCode::new(if action == Action::Delayed { 4 } else { 5 }, 0, 0));
        let banner = diagnostic.and_then(failure_after_banner);
        let stage = if banner.is_some() && stage == Stage::Unknown {
            Stage::Greeting
        } else {
            stage
        };
        let diag = banner
            .or(diagnostic)
            .map(|d| quoted_remote_reply(d).unwrap_or_else(|| d.to_owned()));
        let text = with_status(strip_cached_prefix(diag.as_deref().unwrap_or("")), status);
        let usable =
            |v: &Classification| !v.low_confidence && v.disposition != Disposition::Success;
        // A protocol verdict is about the session's commands (`554 No valid recipients`
        // answers a DATA after every RCPT failed); in a notice, written after the
        // session and about one recipient, the notice's own words about it say more.
        let judge = |t: &str| {
            let v = self.classifier.classify_text(t, stage);
            if v.category == Some(Category::Protocol) && !v.low_confidence {
                let n = notices::classifier().classify_text(t, stage);
                if usable(&n) {
                    return n;
                }
            }
            v
        };
        let mut c = judge(&text);
        if c.low_confidence && diagnostic.is_some() {
            // The recipient's own line in a notice's words beats the notice's preamble
            // in reply words (`no valid recipients were found` above `bob@… unknown host`).
            let c3 = notices::classifier().classify_text(&text, stage);
            if usable(&c3) {
                c = c3;
            }
        }
        if c.low_confidence {
            let around = context().map(|ctx| with_status(&bounded(ctx, MAX_VALUE_BYTES), status));
            if let Some(t) = &around {
                let c2 = judge(t);
                if usable(&c2) {
                    c = c2;
                }
            }
            if c.low_confidence {
                // No reply rule knows these words: a notice's own wording may.
                let notices = notices::classifier();
                if let Some(c3) = [Some(&text), around.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|t| notices.classify_text(t, stage))
                    .find(usable)
                {
                    c = c3;
                }
            }
        }
        if c.disposition == Disposition::Success {
            // A failure or delay report never means success, whatever its text quotes.
            let code = status.map(|s| s.to_string()).unwrap_or_default();
            c = self.classifier.classify_text(&code, stage);
        }
        // The reply is the one the diagnostic quotes, never one made of the status.
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
        // A block naming several recipients (a reporting MTA that left out the blank
        // lines between them) is one block per `Final-Recipient`.
        let blocks: Vec<Block> = blocks
            .into_iter()
            .flat_map(|b| {
                let finals = b.iter().filter(|(n, _)| n == "final-recipient").count();
                if finals < 2 {
                    return vec![b];
                }
                let mut out: Vec<Block> = Vec::new();
                for field in b {
                    if field.0 == "final-recipient" || out.is_empty() {
                        out.push(Vec::new());
                    }
                    if let Some(last) = out.last_mut() {
                        last.push(field);
                    }
                }
                out
            })
            .take(MAX_RECIPIENTS.saturating_add(1))
            .collect();
        let recipient_blocks = blocks
            .iter()
            .filter(|b| {
                get(b, "final-recipient")
                    .or_else(|| get(b, "original-recipient"))
                    .is_some()
            })
            .count();
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
            let Some(recipient) = dsn_recipient(b, rcpt, ctx, recipient_blocks == 1) else {
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
            // The notice may name the recipient only as what it was delivered to
            // (Sendmail's `X-Actual-Recipient`, a program: `|procmail …#bob@host`,
            // which its transcript writes without the `@host` it appends here).
            let context = || {
                let actual = get(b, "x-actual-recipient")
                    .and_then(typed_address)
                    .filter(|a| !a.eq_ignore_ascii_case(&recipient) && a.len() >= 8);
                let program = actual
                    .as_deref()
                    .and_then(|a| a.rsplit_once('@'))
                    .map(|(p, _)| p)
                    .filter(|p| p.len() >= 8);
                let mut out: Option<String> = None;
                for name in [Some(recipient.as_str()), actual.as_deref(), program]
                    .into_iter()
                    .flatten()
                {
                    if let Some(p) = ctx.notice.paragraph_about(name) {
                        match &mut out {
                            Some(o) if !o.contains(&p) => {
                                o.push(' ');
                                o.push_str(&p);
                            }
                            Some(_) => {}
                            None => out = Some(p),
                        }
                    }
                }
                out
            };
            let (classification, reply, stage) =
                self.classify(action, diagnostic.as_deref(), status, &context);
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
        let classification = complaint_classification(feedback.feedback_type);
        let recipients = rcpts
            .into_iter()
            .map(|recipient| BounceRecipient {
                recipient,
                original_recipient: None,
                action: Action::Complaint,
                status: None,
                reply: None,
                diagnostic: non_empty(ctx.notice.own()),
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

    /// An Amazon SES notification (`notificationType` JSON) in the notice's text.
    fn ses(&self, ctx: &Ctx<'_>) -> Option<Report> {
        let n = ses::parse(ctx.notice.own())?;
        let found_by = FoundBy::Heuristic(Format::AmazonSes);
        let mut recipients = Vec::with_capacity(n.recipients.len());
        for r in n.recipients {
            let (action, status, diagnostic_type, diagnostic) = match n.kind.as_str() {
                "Delivery" => (
                    Action::Delivered,
                    None,
                    None,
                    n.smtp_response.as_deref().and_then(non_empty),
                ),
                "Complaint" => (Action::Complaint, None, None, None),
                _ => {
                    let status = r.status.as_deref().and_then(status_code);
                    let action = r.action.as_deref().and_then(Action::from_field).unwrap_or(
                        if n.bounce_type.as_deref() == Some("Transient") {
                            Action::Delayed
                        } else {
                            Action::Failed
                        },
                    );
                    let (t, d) = match r.diagnostic.as_deref().map(|d| d.split_once(';')) {
                        Some(Some((t, rest))) if !t.contains(' ') && t.len() <= 32 => {
                            (Some(t.trim().to_owned()), non_empty(rest))
                        }
                        _ => (None, r.diagnostic.as_deref().and_then(non_empty)),
                    };
                    (action, status, t, d)
                }
            };
            let (classification, reply, stage) = if action == Action::Complaint {
                let ty = FeedbackType::from_field(n.feedback_type.as_deref().unwrap_or("abuse"));
                (complaint_classification(ty), None, Stage::Unknown)
            } else {
                self.classify(action, diagnostic.as_deref(), status, &|| None)
            };
            recipients.push(BounceRecipient {
                recipient: r.address,
                original_recipient: None,
                action,
                status: status.or_else(|| reply.as_ref().and_then(Reply::enhanced)),
                reply,
                diagnostic,
                diagnostic_type,
                remote_mta: None,
                last_attempt: None,
                will_retry_until: None,
                stage,
                found_by,
                correlation: ctx.correlation.clone(),
                classification,
            });
        }
        if recipients.is_empty() {
            return None;
        }
        Some(Report {
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

impl Parser {
    /// A Microsoft JMRP complaint: the attached message's `X-HmXmrOriginalRecipient`.
    fn jmrp(&self, ctx: &Ctx<'_>) -> Option<Report> {
        let raw = ctx.returned?;
        let raw = raw.get(..raw.len().min(256 << 10)).unwrap_or(raw);
        let mut rcpt: Option<String> = None;
        fields::scan_headers(raw, |name, header| {
            if rcpt.is_none() && name.eq_ignore_ascii_case(b"x-hmxmroriginalrecipient") {
                rcpt = fields::header_value(header)
                    .map(|v| fields::strip_angles(&v).to_owned())
                    .filter(|a| text::is_address(a));
            }
        });
        let recipient = rcpt?;
        let found_by = FoundBy::Heuristic(Format::MicrosoftJmrp);
        Some(Report {
            found_by,
            reporting_mta: None,
            arrival_date: None,
            feedback: None,
            correlation: ctx.correlation.clone(),
            recipients: vec![BounceRecipient {
                recipient,
                original_recipient: None,
                action: Action::Complaint,
                status: None,
                reply: None,
                diagnostic: None,
                diagnostic_type: None,
                remote_mta: None,
                last_attempt: None,
                will_retry_until: None,
                stage: Stage::Unknown,
                found_by,
                correlation: ctx.correlation.clone(),
                classification: complaint_classification(FeedbackType::Abuse),
            }],
            truncated: ctx.cut,
        })
    }
}

/// The recipient a DSN block is about, from its `Final-Recipient` value `rcpt`.
///
/// A source route is removed (`@relay.example:bob@example.com` → `bob@example.com`,
/// RFC 5321 4.1.1.3). When what is left is not a full address (a route with no
/// mailbox, `@mx.example.org`; an internal name, `bob@server`; a delivery to a program,
/// `|/usr/bin/x bob@example.com`), the block's `Original-Recipient` is the recipient
/// if it is one; else, when the block is the report's only recipient (`only`), the
/// message's other witness of it: the one address of `X-Failed-Recipients`, or the
/// returned message's one `To:` address. A delivery to a program or a file with no
/// such witness names no mail recipient to correlate and gives none.
fn dsn_recipient(b: &Block, rcpt: &str, ctx: &Ctx<'_>, only: bool) -> Option<String> {
    let raw = typed_address(rcpt)?;
    let routed = raw.starts_with('@');
    let addr = if routed {
        raw.rsplit_once(':').map_or("", |(_, a)| a).trim()
    } else {
        raw.as_str()
    };
    let plain = addr.contains('@')
        && !addr.starts_with(['@', '|', '/'])
        && !addr.contains(char::is_whitespace);
    if text::is_address(addr) || (plain && !routed) {
        // `bob@localhost`, `"a..b"@example.com`: as written, the recipient.
        return Some(addr.to_owned());
    }
    let original = get(b, "original-recipient")
        .and_then(typed_address)
        .filter(|a| text::is_address(a));
    if original.is_some() {
        return original;
    }
    if !only {
        return None;
    }
    let listed: Vec<&str> = ctx
        .failed_header
        .as_deref()
        .unwrap_or("")
        .split([',', ' ', '\t'])
        .map(fields::strip_angles)
        .filter(|a| text::is_address(a))
        .take(2)
        .collect();
    if let [one] = listed.as_slice() {
        return Some((*one).to_owned());
    }
    match ctx.returned_to.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The classification of a complaint of this feedback type (rule `bounce.arf.<type>`).
fn complaint_classification(feedback_type: FeedbackType) -> Classification {
    let (category, disposition, rule) = match feedback_type {
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
    Classification {
        disposition,
        category,
        scope: Scope::Recipient,
        retry_after: None,
        rule: Cow::Borrowed(rule),
        description: Cow::Borrowed(
            "a feedback-loop complaint: stop mailing this recipient (RFC 5965)",
        ),
        low_confidence: false,
    }
}

impl Parser {
    fn heuristic(
        &self,
        ctx: &Ctx<'_>,
        format: Format,
        failed_header: Option<&str>,
        delayed_subject: bool,
    ) -> Result<Report, Error> {
        let notice = ctx.notice.own();
        let lines: Vec<&str> = notice.lines().take(20_000).collect();
        // (address, index of its line, what that line says about it, whether it is a
        // Sendmail `NNN <address>... reason` line, whose transcript comes before it)
        let mut found: Vec<(String, usize, &str, bool)> = Vec::new();
        // Every line that names a recipient, repeated ones too: each ends the block of
        // another recipient.
        let mut starts: Vec<(usize, String)> = Vec::new();
        let excluded = [
            ctx.correlation.report_to.as_deref(),
            ctx.correlation.return_path.as_deref(),
        ];
        let is_excluded = |a: &str| excluded.iter().flatten().any(|e| e.eq_ignore_ascii_case(a));
        for (i, line) in lines.iter().enumerate() {
            let hit = text::line_address(line, true)
                .map(|(a, r)| (a, r, false))
                .or_else(|| text::coded_line_address(line).map(|(a, r)| (a, r, true)))
                .or_else(|| text::dated_line_address(line).map(|a| (a, "", false)));
            let Some((addr, rest, coded)) = hit else {
                continue;
            };
            let lower = addr.to_ascii_lowercase();
            if starts.len() < MAX_RECIPIENTS * 4 {
                starts.push((i, lower.clone()));
            }
            if !found.iter().any(|(a, _, _, _)| *a == lower) {
                if found.len() >= MAX_RECIPIENTS {
                    break;
                }
                found.push((lower, i, rest, coded));
            }
        }
        // The address the notice was sent to (or the returned message's return path)
        // is no recipient when the notice names others; alone on a recipient line, it
        // is (a sender that mailed itself).
        if found.iter().any(|f| !is_excluded(&f.0)) {
            found.retain(|f| !is_excluded(&f.0));
            starts.retain(|(_, a)| !is_excluded(a));
        }
        if found.is_empty() {
            starts.clear();
            for (i, line) in lines.iter().enumerate() {
                if let Some((addr, words)) = text::loose_line_address(line) {
                    let lower = addr.to_ascii_lowercase();
                    if is_excluded(&lower) {
                        continue;
                    }
                    if starts.len() < MAX_RECIPIENTS * 4 {
                        starts.push((i, lower.clone()));
                    }
                    if found.iter().any(|(a, _, _, _)| *a == lower) {
                        continue;
                    }
                    if found.len() >= MAX_RECIPIENTS {
                        break;
                    }
                    found.push((lower, i, words, false));
                }
            }
        }
        if format == Format::Fml {
            // FML names the list that refused the post, in angle brackets, in its
            // first lines (`You are not a member of this mailing list <list@…>.`);
            // the addresses further down are its help and control addresses.
            let hit = lines.iter().enumerate().take(40).find_map(|(i, l)| {
                text::bracketed_address(l).map(|a| (a.to_ascii_lowercase(), i, *l))
            });
            if let Some((a, i, l)) = hit {
                found = vec![(a, i, l, false)];
                starts.clear();
            }
        }
        if found.is_empty() && failed_header.is_none() && ctx.depth == 0 {
            // A notice that names no one and returns a bounce (a gateway passing on
            // the bounce it got): the returned bounce names the recipients.
            if let Some(raw) = ctx.returned {
                if let Ok(r) = self.parse_at(raw, ctx.depth + 1) {
                    return Ok(r);
                }
            }
        }
        if found.is_empty() && failed_header.is_none() {
            // A notice that names no recipient in any line shape (a carrier's or a
            // filter's "could not be delivered"): the returned message's one `To:`
            // address is the recipient, as for a feedback report.
            if let [only] = ctx.returned_to.as_slice() {
                let lower = only.to_ascii_lowercase();
                if !is_excluded(&lower) {
                    found.push((lower, usize::MAX, "", false));
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
            // The header against two witnesses: when the notice's recipient lines name
            // none of its addresses, and the returned message was addressed to exactly
            // the ones they name, the header is the odd one out.
            let outvoted = !found.is_empty()
                && listed.iter().all(|a| !found.iter().any(|f| f.0 == *a))
                && found
                    .iter()
                    .all(|f| ctx.returned_to.iter().any(|t| t.eq_ignore_ascii_case(&f.0)));
            if !listed.is_empty() && !outvoted {
                let mut out: Vec<(String, usize, &str, bool)> = Vec::new();
                for a in listed {
                    let (at, rest, coded) = found
                        .iter()
                        .find(|(f, _, _, _)| *f == a)
                        .map_or((usize::MAX, "", false), |(_, i, r, c)| (*i, *r, *c));
                    if !out.iter().any(|(f, _, _, _)| *f == a) {
                        out.push((a, at, rest, coded));
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
        let found_by = FoundBy::Heuristic(format);
        let mut recipients = Vec::with_capacity(found.len());
        let join = |from: usize, to: usize, first: &str| {
            let mut b = String::new();
            fields::push_bounded(&mut b, first, MAX_VALUE_BYTES * 4);
            for l in lines.get(from..to).unwrap_or(&[]) {
                if b.len() >= MAX_VALUE_BYTES * 4 {
                    break;
                }
                b.push('\n');
                fields::push_bounded(&mut b, l, MAX_VALUE_BYTES * 4);
            }
            b
        };
        // The returned message read as a bounce, when a recipient needs it.
        let inner: OnceCell<Option<Report>> = OnceCell::new();
        for (addr, at, rest, coded) in &found {
            let (block, before) = if *at == usize::MAX {
                (
                    ctx.notice.paragraph_about(addr).unwrap_or_default(),
                    String::new(),
                )
            } else if *coded {
                // Sendmail: the reason is on the line; the transcript that led to it
                // is on the lines since the previous recipient line.
                let prev = starts.partition_point(|(s, _)| *s < *at);
                let from = prev
                    .checked_sub(1)
                    .and_then(|p| starts.get(p))
                    .map_or(0, |(p, _)| p + 1);
                let before = join(from, *at, "");
                // Sendmail's line sums the failure up in its own words (`Remote
                // protocol error`); the server's reply in the transcript above it
                // (`<<< 550 Insecure Mail Relay`) says why.
                let reason = text::last_remote_reply(&before).unwrap_or_else(|| (*rest).to_owned());
                (reason, before)
            } else {
                // To the next line naming another recipient (`starts` is in line order).
                let next = starts.partition_point(|(s, _)| *s <= *at);
                let end = starts
                    .get(next..)
                    .unwrap_or(&[])
                    .iter()
                    .find(|(_, a)| a != addr)
                    .map_or(lines.len(), |(s, _)| *s);
                (join(at + 1, end, rest), String::new())
            };
            // Apache James writes the remote reply after `Error message below:`, the
            // envelope (and the recipient line) after it.
            let block = match format {
                Format::ApacheJames => text::paragraph_after(&lines, "error message below:")
                    .map_or(block, |p| bounded(&p, MAX_VALUE_BYTES * 4)),
                _ => block,
            };
            let diagnostic = non_empty(&collapse(&block));
            let single = found.len() == 1;
            let context = || {
                Some(if single {
                    collapse(&bounded(notice, MAX_VALUE_BYTES * 8))
                } else if !before.is_empty() {
                    collapse(&format!("{before}\n{block}"))
                } else {
                    collapse(&block)
                })
            };
            let status = enhanced_in(&block);
            let action = if delayed {
                Action::Delayed
            } else {
                Action::Failed
            };
            let (mut classification, mut reply, mut stage) =
                self.classify(action, diagnostic.as_deref(), status, &context);
            let mut diagnostic = diagnostic;
            let mut status = status;
            if classification.low_confidence {
                // A gateway's notice that says only "could not be delivered" and
                // returns the bounce it got: that bounce says why.
                let inner = inner.get_or_init(|| match ctx.returned {
                    Some(raw) if ctx.depth == 0 => self.parse_at(raw, ctx.depth + 1).ok(),
                    _ => None,
                });
                if let Some(r) = inner.as_ref().and_then(|r| {
                    r.recipients.iter().find(|r| {
                        r.recipient.eq_ignore_ascii_case(addr) && !r.classification.low_confidence
                    })
                }) {
                    classification = r.classification.clone();
                    reply = r.reply.clone();
                    stage = r.stage;
                    status = status.or(r.status);
                    diagnostic = r.diagnostic.clone().or(diagnostic);
                }
            }
            let stage = if stage == Stage::Unknown {
                text::transcript_stage(&block)
                    .or_else(|| text::transcript_stage(&before))
                    .unwrap_or(stage)
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
    "x-mlserver",
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-mail-autoreply",
    "x-vacation",
    "precedence",
];

/// The notice's own words (its text before the returned message), decoded on first
/// use: a report part often says all that is needed.
struct Notice<'a, 'p, 'm> {
    parts: &'a Parts<'p, 'm>,
    /// The decoded notice and where its own text ends and the returned message starts.
    text: OnceCell<(String, usize, usize)>,
    /// The own text in ASCII lower case (same byte offsets).
    lower: OnceCell<String>,
}

impl Notice<'_, '_, '_> {
    fn decoded(&self) -> &(String, usize, usize) {
        self.text.get_or_init(|| {
            let t = self.parts.notice_text();
            let t = text::unquote_forwarded(&t).unwrap_or(t);
            let (own, rest) = text::split_returned(&t);
            let (own_end, rest_start) = (own.len(), t.len().saturating_sub(rest.len()));
            (t, own_end, rest_start)
        })
    }

    /// The notice's own text.
    fn own(&self) -> &str {
        let (t, end, _) = self.decoded();
        t.get(..*end).unwrap_or("")
    }

    /// The returned message written into the notice's text, if any.
    fn inline_returned(&self) -> &str {
        let (t, _, start) = self.decoded();
        t.get(*start..).unwrap_or("")
    }

    fn own_lower(&self) -> &str {
        self.lower.get_or_init(|| self.own().to_ascii_lowercase())
    }

    /// The paragraph of the own text that mentions `addr`: see [`paragraph_about`].
    fn paragraph_about(&self, addr: &str) -> Option<String> {
        paragraph_about(self.own(), self.own_lower(), addr)
    }
}

/// What the report parsers share about one message.
struct Ctx<'a> {
    notice: &'a Notice<'a, 'a, 'a>,
    /// The returned message's `To:` addresses.
    returned_to: Vec<String>,
    /// The top-level `X-Failed-Recipients` value.
    failed_header: Option<String>,
    /// The returned message (or its headers), as attached.
    returned: Option<&'a [u8]>,
    /// How many bounces deep this message is (0: the message given to the parser).
    depth: usize,
    correlation: Correlation,
    cut: bool,
}

/// The part of `message` that is read: at most [`MAX_MESSAGE_BYTES`], and up to the
/// [`MAX_BOUNDARY_LINES`]-th line starting with `--`. `true` when something was cut.
fn bounded_input(message: &[u8]) -> (&[u8], bool) {
    let end = message.len().min(MAX_MESSAGE_BYTES);
    let head = message.get(..end).unwrap_or(message);
    let mut dashes = usize::from(head.starts_with(b"--"));
    for p in memchr::memmem::find_iter(head, b"\n--") {
        dashes += 1;
        if dashes > MAX_BOUNDARY_LINES {
            return (head.get(..p + 1).unwrap_or(head), true);
        }
    }
    (head, end < message.len())
}

/// Walks the MIME tree (explicit stack; at most [`MAX_PARTS`] parts, [`MAX_DEPTH`]
/// deep) and keeps the first report parts, the first returned message, and the
/// text parts before the returned message.
fn collect<'p, 'm>(mail: &'p ParsedMail<'m>) -> Parts<'p, 'm> {
    let mut parts = Parts {
        status: None,
        feedback: None,
        returned: None,
        notice: Vec::new(),
        html: Vec::new(),
    };
    let mut stack: Vec<(&'p ParsedMail<'m>, usize)> = vec![(mail, 0)];
    let mut visited = 0usize;
    let mut seen_returned = false;
    while let Some((p, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_PARTS {
            break;
        }
        let mime = p.ctype.mimetype.as_str();
        let is = |m: &str| mime.eq_ignore_ascii_case(m);
        if is_multipart(mime) && p.subparts.is_empty() {
            // A multipart whose boundary was lost (a `boundary=` parameter written on
            // a line of its own, not folded) or never occurs: its body is read as text.
            if !seen_returned {
                parts.notice.push(p);
            }
            continue;
        }
        if is_multipart(mime) {
            if depth < MAX_DEPTH {
                for sub in p.subparts.iter().rev().take(MAX_PARTS) {
                    stack.push((sub, depth + 1));
                }
            }
            continue;
        }
        if is("message/delivery-status") || is("message/global-delivery-status") {
            if parts.status.is_none() {
                parts.status = Some(body_text(p).into_owned());
            }
        } else if is("message/feedback-report") {
            if parts.feedback.is_none() {
                parts.feedback = Some(body_text(p).into_owned());
            }
        } else if is("message/rfc822")
            || is("message/global")
            || is("text/rfc822-headers")
            || is("message/rfc822-headers")
            || is("message/global-headers")
            || is("message/partial")
        {
            if parts.returned.is_none() {
                // Only its headers are read: a 7bit/8bit body is not copied.
                let raw: Cow<'p, [u8]> = match p.get_body_encoded() {
                    mailparse::body::Body::SevenBit(b) | mailparse::body::Body::EightBit(b) => {
                        let r = b.get_raw();
                        Cow::Borrowed(r.get(..r.len().min(MAX_PART_BYTES)).unwrap_or(&[]))
                    }
                    _ => {
                        let mut raw = p.get_body_raw().unwrap_or_default();
                        raw.truncate(MAX_PART_BYTES);
                        Cow::Owned(raw)
                    }
                };
                parts.returned = Some(raw);
            }
            seen_returned = true;
        } else if seen_returned {
        } else if is("text/html") {
            parts.html.push(p);
        } else if mime.is_empty()
            || mime
                .get(..5)
                .is_some_and(|m| m.eq_ignore_ascii_case("text/"))
        {
            // A text attachment after the notice (a mail system's copy of the
            // headers) is not the notice's words.
            if parts.notice.is_empty() || !is_attachment(p) {
                parts.notice.push(p);
            }
        }
    }
    parts
}

fn is_multipart(mime: &str) -> bool {
    mime.get(..10)
        .is_some_and(|m| m.eq_ignore_ascii_case("multipart/"))
}

/// Whether a part is marked as an attachment (`Content-Disposition: attachment`).
fn is_attachment(p: &ParsedMail<'_>) -> bool {
    p.headers.iter().any(|h| {
        h.get_key_raw().eq_ignore_ascii_case(b"content-disposition")
            && h.get_value_raw()
                .trim_ascii_start()
                .get(..10)
                .is_some_and(|v| v.eq_ignore_ascii_case(b"attachment"))
    })
}

/// A part's body, transfer-decoded and as text, at most [`MAX_PART_BYTES`].
///
/// A declared charset other than US-ASCII or UTF-8 is decoded by `mailparse`. Text
/// with no charset declared (or US-ASCII declared, which 8-bit bytes contradict) is
/// read as UTF-8 when it is valid UTF-8, else as Latin-1 (every byte one
/// character): MTAs write their notices in UTF-8 or in a Latin-1 family charset
/// without saying so, and Latin-1 never fails. Nothing is copied for 7bit/8bit text
/// that is already valid UTF-8.
fn body_text<'p>(p: &'p ParsedMail<'_>) -> Cow<'p, str> {
    use mailparse::body::Body;
    let declared = p.ctype.params.get("charset").map(|c| c.trim());
    let plain = declared.is_none_or(|c| {
        c.eq_ignore_ascii_case("us-ascii")
            || c.eq_ignore_ascii_case("ascii")
            || c.eq_ignore_ascii_case("utf-8")
            || c.eq_ignore_ascii_case("utf8")
    });
    if !plain {
        let s = p
            .get_body()
            .or_else(|_| {
                p.get_body_raw()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            })
            .unwrap_or_default();
        return Cow::Owned(if s.len() > MAX_PART_BYTES {
            bounded(&s, MAX_PART_BYTES)
        } else {
            s
        });
    }
    let bytes: Cow<'p, [u8]> = match p.get_body_encoded() {
        Body::SevenBit(b) | Body::EightBit(b) => Cow::Borrowed(b.get_raw()),
        Body::Binary(b) => Cow::Borrowed(b.get_raw()),
        Body::QuotedPrintable(b) => Cow::Owned(fields::decode_qp(b.get_raw())),
        Body::Base64(b) => Cow::Owned(b.get_decoded().unwrap_or_default()),
    };
    match bytes {
        Cow::Borrowed(b) => {
            let cut = b.len() > MAX_PART_BYTES;
            let b = b.get(..MAX_PART_BYTES).unwrap_or(b);
            match utf8_or_latin1(b, cut) {
                Ok(s) => Cow::Borrowed(s),
                Err(s) => Cow::Owned(s),
            }
        }
        Cow::Owned(mut v) => {
            let cut = v.len() > MAX_PART_BYTES;
            v.truncate(MAX_PART_BYTES);
            match String::from_utf8(v) {
                Ok(s) => Cow::Owned(s),
                Err(e) => {
                    let v = e.into_bytes();
                    Cow::Owned(utf8_or_latin1(&v, cut).map_or_else(|s| s, str::to_owned))
                }
            }
        }
    }
}

/// `b` as UTF-8 when it is (a character cut by `cut` at the end left out), else as
/// Latin-1 (owned).
fn utf8_or_latin1(b: &[u8], cut: bool) -> Result<&str, String> {
    match core::str::from_utf8(b) {
        Ok(s) => Ok(s),
        Err(e) if cut && e.error_len().is_none() => {
            Ok(core::str::from_utf8(b.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or(""))
        }
        Err(_) => Err(latin1(b)),
    }
}

/// Latin-1 bytes as text: every byte is the character of that number.
fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// The headers of a returned message that are read for correlation.
const RETURNED_HEADERS: [&str; 5] = [
    "message-id",
    "return-path",
    "subject",
    "to",
    "x-envelope-id",
];

/// Fills the correlation keys from the returned message's (or headers') bytes. The
/// header lines are found in one pass; only the wanted ones are decoded (by
/// `mailparse`, for RFC 2047 words and folding).
fn returned_headers(raw: &[u8], c: &mut Correlation, to: &mut Vec<String>) {
    let start = raw
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(raw.len());
    let raw = raw.get(start..).unwrap_or(&[]);
    let raw = raw.get(..raw.len().min(256 << 10)).unwrap_or(raw);
    let mut values: [Option<String>; 5] = Default::default();
    fields::scan_headers(raw, |name, header| {
        let Some(slot) = RETURNED_HEADERS
            .iter()
            .position(|n| name.eq_ignore_ascii_case(n.as_bytes()))
            .and_then(|i| values.get_mut(i))
            .filter(|v| v.is_none())
        else {
            return;
        };
        if let Some(v) = fields::header_value(header) {
            let v = bounded(v.trim(), MAX_VALUE_BYTES);
            if !v.is_empty() {
                *slot = Some(v);
            }
        }
    });
    let [message_id, return_path, subject, to_value, envelope_id] = values;
    c.message_id = message_id.map(|v| fields::strip_angles(&v).to_owned());
    c.return_path = return_path
        .map(|v| fields::strip_angles(&v).to_owned())
        .filter(|v| !v.is_empty());
    c.subject = subject;
    if let Some(v) = to_value {
        to.extend(v.split(',').filter_map(first_address).take(MAX_RECIPIENTS));
    }
    if c.envelope_id.is_none() {
        c.envelope_id = envelope_id;
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

/// The paragraph of `notice` (`lower` is it in ASCII lower case) that mentions
/// `addr` (case-insensitive): from that line to the next blank line.
fn paragraph_about(notice: &str, lower: &str, addr: &str) -> Option<String> {
    if notice.is_empty() || addr.is_empty() || addr.len() > 512 {
        return None;
    }
    let mut a = [0u8; 512];
    let a = a.get_mut(..addr.len())?;
    a.copy_from_slice(addr.as_bytes());
    a.make_ascii_lowercase();
    let a = core::str::from_utf8(a).ok()?;
    // Every mention's paragraph, in order (a notice may name the recipient in its
    // list and again in its transcript), at most 2 * MAX_VALUE_BYTES in all.
    let mut out = String::new();
    let mut from = 0usize;
    while out.len() < MAX_VALUE_BYTES * 2 {
        let Some(pos) = lower.get(from..).and_then(|l| l.find(a)).map(|p| p + from) else {
            break;
        };
        let mut start = lower
            .get(..pos)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |p| p + 1);
        let line_end = lower
            .get(start..)
            .and_then(|s| s.find('\n'))
            .map_or(lower.len(), |p| start + p);
        if lower
            .get(start..line_end)
            .and_then(text::coded_line_address)
            .is_some()
        {
            // Sendmail's `554 <bob@…>... Service unavailable` ends the transcript that
            // led to it (`mail.local: unknown user: bob`): the lines above it, back to
            // the blank line or to a line naming a recipient, are its context too.
            start = transcript_start(lower, start, from);
        }
        let Some(tail) = notice.get(start..) else {
            break;
        };
        // To the next blank line, or to the next line naming another recipient.
        let mut end = 0usize;
        for (n, line) in tail.split_inclusive('\n').enumerate() {
            if end > MAX_VALUE_BYTES * 2 || line.trim().is_empty() {
                break;
            }
            if n > 0 {
                let other = text::line_address(line, false)
                    .map(|(x, _)| x)
                    .or_else(|| text::coded_line_address(line).map(|(x, _)| x));
                if other.is_some_and(|x| !x.eq_ignore_ascii_case(a)) {
                    break;
                }
            }
            end += line.len();
        }
        if !out.is_empty() {
            out.push(' ');
        }
        fields::push_bounded(&mut out, tail.get(..end).unwrap_or(""), MAX_VALUE_BYTES * 2);
        // Past this mention (and its paragraph): linear in the notice.
        from = (start + end).max(pos + a.len());
    }
    non_empty(&collapse(&out))
}

/// The failure reply in a diagnostic that quotes the server's greeting banner first
/// (`220-mx.example.com 421 4.2.1 Service refused, please try later`): the server
/// refused the connection after its banner's first line, so the reply from the first
/// 4xx/5xx code on is the diagnostic (and the stage is the greeting). `None` unless
/// the diagnostic starts with a `220` line and a failure code follows.
fn failure_after_banner(diagnostic: &str) -> Option<&str> {
    let t = diagnostic.trim_start();
    let b = t.as_bytes();
    if !(b.starts_with(b"220") && matches!(b.get(3), Some(b'-' | b' '))) {
        return None;
    }
    let at = (4..b.len().saturating_sub(3)).find(|&i| {
        b.get(i - 1) == Some(&b' ')
            && matches!(b.get(i), Some(b'4' | b'5'))
            && b.get(i + 1..i + 3)
                .is_some_and(|c| c.iter().all(u8::is_ascii_digit))
            && matches!(b.get(i + 3), Some(b' ' | b'-') | None)
    })?;
    t.get(at..)
}

/// The remote server's reply quoted in a relay's own summary of a failure: Amazon
/// SES writes `5.1.0 - Unknown address error 550-'5.7.1 <…>... Access denied'
/// (delivery attempts: 0)`, its status's description first (which says nothing of
/// the cause), the reply in single quotes. `None` unless `diagnostic` starts with a
/// status, ` - ` and words, then a reply code and a quoted reply.
fn quoted_remote_reply(diagnostic: &str) -> Option<String> {
    let t = diagnostic.trim();
    let (code, rest) = t.split_once(" - ")?;
    status_code(code).filter(|_| code.len() <= 12)?;
    // The first `NNN-'` or `NNN '` after the summary's words.
    let b = rest.as_bytes();
    let at = (0..b.len().saturating_sub(4)).find(|&i| {
        (i == 0 || b.get(i - 1) == Some(&b' '))
            && b.get(i..i + 3)
                .is_some_and(|c| c.iter().all(u8::is_ascii_digit))
            && matches!(b.get(i), Some(b'4' | b'5'))
            && matches!(b.get(i + 3), Some(b'-' | b' '))
            && b.get(i + 4) == Some(&b'\'')
    })?;
    let reply_code = rest.get(at..at + 3)?;
    let quoted = rest.get(at + 5..)?;
    let end = quoted.rfind('\'')?;
    let reply = quoted.get(..end)?.trim();
    (!reply.is_empty()).then(|| format!("{reply_code} {reply}"))
}

/// Where the transcript that ends at the line starting at `line` begins: the start of
/// the lowest of the lines above it (at most 16, none before `floor`) that are neither
/// blank nor naming a recipient.
fn transcript_start(lower: &str, line: usize, floor: usize) -> usize {
    let mut start = line;
    for _ in 0..16 {
        if start <= floor || start == 0 {
            break;
        }
        let prev_end = start - 1;
        let prev_start = lower
            .get(..prev_end)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |p| p + 1);
        let Some(prev) = lower.get(prev_start..prev_end) else {
            break;
        };
        if prev_start < floor
            || prev.trim().is_empty()
            || text::line_address(prev, true).is_some()
            || text::coded_line_address(prev).is_some()
        {
            break;
        }
        start = prev_start;
    }
    start
}

/// A diagnostic without Postfix's `delivery temporarily suspended: ` prefix: Postfix
/// writes it before the failure it remembers for a destination in back-off; it says
/// nothing about the mailbox (the classifier would read "suspended" as a suspended
/// account).
fn strip_cached_prefix(diagnostic: &str) -> &str {
    const P: &str = "delivery temporarily suspended:";
    let t = diagnostic.trim_start();
    match t.get(..P.len()) {
        Some(head) if head.eq_ignore_ascii_case(P) => t.get(P.len()..).unwrap_or(t).trim_start(),
        _ => diagnostic,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_summaries_and_banners() {
        assert_eq!(
            quoted_remote_reply(
                "5.1.0 - Unknown address error 550-'5.7.1 <a@b.c>... Access denied' (delivery attempts: 0)"
            )
            .as_deref(),
            Some("550 5.7.1 <a@b.c>... Access denied")
        );
        assert_eq!(quoted_remote_reply("550 5.1.1 user unknown"), None);
        assert_eq!(
            failure_after_banner("220-mx.example.com 421 4.2.1 Service refused"),
            Some("421 4.2.1 Service refused")
        );
        assert_eq!(failure_after_banner("421 4.2.1 Service refused"), None);
        assert_eq!(failure_after_banner("220 ready"), None);
    }

    #[test]
    fn mbox_splits_on_postmarks_after_blank_lines() {
        let one = b"Subject: x\n\nbody\nFrom here on\n";
        assert_eq!(mbox_messages(one).collect::<Vec<_>>(), vec![&one[..]]);
        let two = b"From a Thu\r\nSubject: 1\r\n\r\nbody\r\nFrom inside a paragraph\r\n\r\nFrom b Fri\r\nSubject: 2\r\n";
        let m: Vec<&[u8]> = mbox_messages(two).collect();
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].starts_with(b"Subject: 1"));
        assert!(m[1].starts_with(b"Subject: 2"));
    }
}
