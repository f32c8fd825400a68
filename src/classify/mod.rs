//! Turning what a server said (or how the transport failed) into what it means
//! for the sender: [`Disposition`], [`Category`], [`Scope`], a retry hint, and the
//! rule that decided it.
//!
//! Every enum here is spelled in snake_case wherever a user sees it: on command
//! lines, in serde, in the tour (`rate_limited`, `rcpt_to`). [`Category::name`],
//! [`Stage::name`] and friends give that spelling; `from_name` accepts it.
//!
//! # Three inputs
//!
//! - [`Classifier::classify`]: a live [`Reply`](crate::Reply) and the [`Stage`] it
//!   answered.
//! - [`Classifier::classify_text`]: a DSN `Diagnostic-Code`, the reply quoted in a bounce,
//!   a log line; MTAs' own words for transport failures (`Connection refused`, `Host or
//!   domain name not found`, `does not accept mail (nullMX)`) are recognised too.
//! - [`Classifier::classify_failure`]: a [`TransportFailure`] with no reply at all.
//!
//! # Rules
//!
//! The built-in rules come from the RFC 3463/5248 enhanced-code registry (and RFC 7505,
//! 7372, 8689, 4954, 7504), RFC 5321's stage semantics, and the published wording of
//! major receivers and filters (Gmail, Microsoft 365/Outlook.com/Exchange, Yahoo/AOL,
//! iCloud, Comcast, AT&T, GMX/web.de, T-Online, Orange, Mail.ru, Yandex, QQ/163, Zoho,
//! Proton, Fastmail, Proofpoint, Mimecast, Barracuda, Cisco, Spamhaus and other DNSBLs)
//! and of Postfix, Exim, Sendmail, qmail, Exchange and postgrey. Each classification names
//! its rule ([`Classification::rule`]) and says why ([`Classification::description`]);
//! when no rule matched, the codes decided and [`Classification::low_confidence`] is set.
//! Your own rules ([`UserRule`]) are tried first, or replace the built-ins.
//!
//! # Evidence, not first match
//!
//! A reply is decided from all its evidence together, not by the first rule that
//! matches. Every built-in rule stands for one kind of [`Evidence`]: a documented
//! exception, destination-level wording (blocklists, rate limits, reputation), a
//! receiver's wording, a specific enhanced code, a stage's meaning, vague wording, a
//! vague enhanced code, a basic code, in decreasing [`Evidence::weight`]. The matcher
//! finds every rule that holds: phrases anywhere in any line of the reply, the enhanced
//! code (also one buried in the text: qmail's `(#5.1.1)`, a relayed `said: 550 5.1.1`),
//! the basic code and the stage. Each cause (category) those rules name is scored: the
//! weight of its heaviest rule, plus 5 for each other specific kind of evidence that
//! agrees (at most 10). The best-scored cause wins (ties: the cause whose heaviest rule
//! was declared first),
//! and the rule reported is that cause's documented exception or stage rule if it has
//! one, else its heaviest. So specific wording outranks a generic code meaning, a later
//! line naming the cause outranks a generic first line, and a code outranks nothing at
//! all. [`Classifier::explain`] lists the evidence and why the winner won.
//!
//! # A learned tie-breaker
//!
//! Where no rule holds, or only a code carries the verdict, a small learned model
//! ([`model`]: logistic regression over the reply's words, word pairs, codes and stage,
//! trained on the shipped corpora, integer scoring) may choose the category when it
//! knows some of the reply's words and prefers its pick by a clear margin. Its verdict keeps the codes' disposition (never more final), is low
//! confidence and names rule `model.category`; [`Explanation::model`] shows its pick and
//! the features that weighed most. [`Classifier::with_model`] turns it off.
//!
//! # Cost
//!
//! One classification is one pass over the text that looks every rule's phrases up at
//! once (a bit filter over each four-byte window, ASCII case-insensitive, word
//! boundaries checked on the matches), plus look-ups in tables keyed by basic and
//! enhanced code; only the rules
//! those hits name are checked. Time is linear in the text, whatever it contains, and
//! does not grow with rules the text does not mention. See BENCHMARKS.md.

use core::fmt;
use std::borrow::Cow;
use std::time::Duration;

mod builtin;
mod classifier;
mod engine;
mod hint;
pub mod model;
mod rule;
mod tally;
pub(crate) mod text;

pub use classifier::Classifier;
pub use model::{ModelFeature, ModelVote};
pub use rule::{RuleError, UserRule};
pub use tally::Tally;

macro_rules! snake_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $s:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        pub enum $name { $( $(#[$vmeta])* $variant, )+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The snake_case name users see (command lines, serde, logs).
            pub const fn name(self) -> &'static str {
                match self { $( $name::$variant => $s, )+ }
            }

            /// The variant with this snake_case name.
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $( $s => Some($name::$variant), )+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

snake_enum! {
    /// The kind of evidence a rule stands for, from the strongest to the weakest. The
    /// built-in rules each carry one; the classifier weighs every rule that holds for a
    /// reply and the strongest cause wins (see [`Classifier`]'s "How a reply is
    /// decided"). A [`UserRule`] with no evidence kind is tried first, in order, before
    /// any weighing.
    pub enum Evidence {
        /// A documented exception to the code's first digit, with its source.
        Exception => "exception",
        /// Wording about us as a sender, said by the destination: blocklistings, rate
        /// limits, reputation, reverse DNS, greylisting, connection limits.
        DestinationWording => "destination_wording",
        /// A receiver's or an MTA's own wording naming a cause (`user unknown`,
        /// `mailbox full`, DMARC, a virus).
        Wording => "wording",
        /// A receiver's wording that names only a generic cause, one that many replies
        /// carry whatever their cause (`invalid command`, `service unavailable`,
        /// `policy violation`, `internal error`): it loses to specific wording elsewhere in
        /// the reply even when a code agrees with it.
        GenericWording => "generic_wording",
        /// A specific enhanced status code (`X.1.1`, `X.2.2`, `X.7.26`…).
        EnhancedCode => "enhanced_code",
        /// The meaning of a code at a stage (RFC 5321/7504: `5xx` to `EHLO`, a `5xx`
        /// greeting).
        Stage => "stage",
        /// Vague wording (`access denied`, `try again later`).
        VagueWording => "vague_wording",
        /// A vague enhanced status code (`X.7.1`, `X.7.0`, `X.1.0`).
        VagueEnhancedCode => "vague_enhanced_code",
        /// A basic code's RFC 5321 meaning.
        BasicCode => "basic_code",
    }
}

impl Evidence {
    /// How much this kind of evidence weighs: specific wording outranks generic
    /// wording even with one kind of evidence agreeing with it (5 points), which
    /// outranks a specific code, which outranks vague wording, which outranks a vague code, which outranks
    /// a basic code. Documented exceptions weigh most.
    pub const fn weight(self) -> u16 {
        match self {
            Evidence::Exception => 90,
            Evidence::DestinationWording => 75,
            Evidence::Wording => 65,
            Evidence::GenericWording => 59,
            Evidence::EnhancedCode => 50,
            Evidence::Stage => 45,
            Evidence::VagueWording => 35,
            Evidence::VagueEnhancedCode => 25,
            Evidence::BasicCode => 20,
        }
    }
}

/// One piece of evidence the classifier considered: a rule that held for the reply.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Considered {
    /// The rule's id.
    pub rule: Cow<'static, str>,
    /// The category the rule names.
    pub category: Category,
    /// The rule's kind of evidence; `None` for a user rule tried in order before any
    /// weighing.
    pub evidence: Option<Evidence>,
    /// The rule's own weight ([`Evidence::weight`]); 0 for a user rule without one.
    pub weight: u16,
    /// The score of the rule's category once every rule that supports it is counted.
    pub category_score: u16,
}

/// Why a reply was classified as it was ([`Classifier::explain`]): the verdict, every
/// rule that held (the evidence), and why the winner won.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Explanation {
    /// The verdict, the same as [`Classifier::classify`] or
    /// [`Classifier::classify_text`] gives.
    pub classification: Classification,
    /// The stage the classification used.
    pub stage: Stage,
    /// The basic code read, if any.
    pub code: Option<u16>,
    /// The enhanced code used, if any (at the start of a line, or buried in the text:
    /// `(#5.1.1)`, `said: 550 5.1.1`).
    pub enhanced: Option<String>,
    /// Every rule that held: the one that decided first, then the others, strongest
    /// cause first.
    pub considered: Vec<Considered>,
    /// Why the winner won, in words.
    pub reason: String,
    /// What the learned model said, when the classifier consulted it (the rules'
    /// verdict was weak or nearly tied; see [`Classifier::with_model`]): its pick, its
    /// margin, whether it decided, and the reply's features that weighed most.
    pub model: Option<ModelVote>,
}

snake_enum! {
    /// What the sender should do with the outcome.
    pub enum Disposition {
        /// Delivered / accepted.
        Success => "success",
        /// Try again later.
        Transient => "transient",
        /// Do not retry.
        Permanent => "permanent",
    }
}

snake_enum! {
    /// What the outcome is about, and therefore what must wait.
    pub enum Scope {
        /// This recipient only (unknown user, mailbox full, recipient rate).
        Recipient => "recipient",
        /// This message, for every recipient (size, content, DMARC failure).
        Message => "message",
        /// This session or its set-up (state, authentication, TLS, protocol).
        Connection => "connection",
        /// Everything from this sender to this domain/MX/IP (rate limit, blocklist, dead host).
        Destination => "destination",
    }
}

snake_enum! {
    /// Why an attempt failed. See [`Category::usual_scope`] and
    /// [`Category::usual_disposition`] for each category's usual
    /// disposition and scope.
    pub enum Category {
        /// Greylisting: come back after a delay (`450 4.2.0 Greylisted`).
        Greylisted => "greylisted",
        /// The receiver throttles our rate (`421 4.7.28`, `421 4.7.0 [TSS04]`).
        RateLimited => "rate_limited",
        /// Too many concurrent connections from us.
        TooManyConnections => "too_many_connections",
        /// Too many recipients in one transaction (`452 4.5.3`): split the batch.
        TooManyRecipients => "too_many_recipients",
        /// The mailbox is over quota.
        MailboxFull => "mailbox_full",
        /// No such user.
        UserUnknown => "user_unknown",
        /// The mailbox exists but is disabled or inactive.
        MailboxDisabled => "mailbox_disabled",
        /// The domain or host does not exist.
        DomainNotFound => "domain_not_found",
        /// The domain accepts no mail (null MX, `521`).
        NoMailService => "no_mail_service",
        /// Relaying refused.
        RelayDenied => "relay_denied",
        /// Our SMTP AUTH is required.
        AuthRequired => "auth_required",
        /// Our SMTP AUTH failed.
        AuthFailed => "auth_failed",
        /// TLS is required.
        TlsRequired => "tls_required",
        /// The TLS handshake or certificate check failed.
        TlsFailed => "tls_failed",
        /// The message is too large.
        MessageTooBig => "message_too_big",
        /// Refused as spam.
        SpamContent => "spam_content",
        /// Refused for a virus.
        VirusContent => "virus_content",
        /// Our IP or domain is on a blocklist.
        Blocklisted => "blocklisted",
        /// Low IP/domain reputation, missing PTR.
        Reputation => "reputation",
        /// DMARC, SPF or DKIM failures.
        SenderAuthentication => "sender_authentication",
        /// The envelope sender was refused.
        SenderRejected => "sender_rejected",
        /// Other local policy.
        Policy => "policy",
        /// RFC 5322 non-compliance, bad headers.
        ContentFormat => "content_format",
        /// Syntax or sequence errors (`500`, `501`, `503`).
        Protocol => "protocol",
        /// The service is shutting down or unavailable (`421 4.3.2`).
        ServiceUnavailable => "service_unavailable",
        /// A server-side error (`451 4.3.0`, disk full).
        ServerError => "server_error",
        /// Refused, timed out, reset, lost connection (RFC 5321 §3.8: as a 451).
        Network => "network",
        /// A temporary resolver failure.
        Dns => "dns",
        /// No rule matched: decided from the codes alone (low confidence).
        Other => "other",
    }
}

impl Category {
    /// The disposition this category usually has (the crate's taxonomy). Used only
    /// for text without any reply code; a reply's codes decide otherwise.
    pub const fn usual_disposition(self) -> Disposition {
        use Category::*;
        match self {
            Greylisted | RateLimited | TooManyConnections | TooManyRecipients | MailboxFull
            | TlsFailed | ServiceUnavailable | ServerError | Network | Dns | Other => {
                Disposition::Transient
            }
            UserUnknown | MailboxDisabled | DomainNotFound | NoMailService | RelayDenied
            | AuthRequired | AuthFailed | TlsRequired | MessageTooBig | SpamContent
            | VirusContent | Blocklisted | Reputation | SenderAuthentication | SenderRejected
            | Policy | ContentFormat | Protocol => Disposition::Permanent,
        }
    }

    /// Whether this cause usually passes with time, when a rule does not say
    /// ([`UserRule`]'s `passes`): a rate limit, a connection limit and a greylisting do.
    /// A `5xx` whose cause passes and whose text asks for a later retry is transient; a
    /// greylisting's own words ("greylisted", "greylisting active") are such a request, so
    /// a `5xx` that says it greylists us is transient (see [`Classifier`]'s disposition
    /// precedence).
    ///
    /// ```
    /// use tempfail::Category;
    /// assert!(Category::RateLimited.usually_passes());
    /// assert!(Category::Greylisted.usually_passes());
    /// assert!(!Category::AuthFailed.usually_passes());
    /// ```
    pub const fn usually_passes(self) -> bool {
        matches!(
            self,
            Category::RateLimited | Category::TooManyConnections | Category::Greylisted
        )
    }

    /// The scope this category usually has, when a rule does not set one. For
    /// [`Category::Other`] it follows the stage: `rcpt_to` (and unknown) → recipient;
    /// `mail_from`, `data`, `data_end`, `bdat` → message; the connection's set-up
    /// and `rset`/`quit` → connection. A greylisting holds the recipient, except at
    /// `mail_from`, `data`, `data_end` and `bdat`, where it holds the message.
    /// `domain_not_found` and `no_mail_service` answered to `rcpt_to` are the recipient's
    /// (a relay's verdict on one recipient's domain), elsewhere the destination's. A
    /// `policy` refusal is the message's, except
    /// before any transaction (connect, greeting, `EHLO`/`HELO`), where the receiver's
    /// rules can only have refused us: the destination's.
    ///
    /// ```
    /// use tempfail::{Category, Scope, Stage};
    /// assert_eq!(Category::RateLimited.usual_scope(Stage::RcptTo), Scope::Destination);
    /// assert_eq!(Category::Other.usual_scope(Stage::DataEnd), Scope::Message);
    /// assert_eq!(Category::Policy.usual_scope(Stage::Ehlo), Scope::Destination);
    /// ```
    pub const fn usual_scope(self, stage: Stage) -> Scope {
        use Category::*;
        match self {
            MailboxFull | UserUnknown | MailboxDisabled => Scope::Recipient,
            // A relay refusal answers one recipient; before any transaction (a greeting or
            // EHLO that says the host takes no mail for us) it holds the destination.
            RelayDenied => match stage {
                Stage::Connect | Stage::Greeting | Stage::Ehlo | Stage::Helo => Scope::Destination,
                _ => Scope::Recipient,
            },
            // A greylisting answers a triplet: at RCPT TO it holds that recipient; at
            // MAIL FROM, at DATA and after the data it holds the whole message (no
            // recipient is named, or every one is).
            Greylisted => match stage {
                Stage::MailFrom | Stage::Data | Stage::DataEnd | Stage::Bdat => Scope::Message,
                _ => Scope::Recipient,
            },
            RateLimited | TooManyConnections | Blocklisted | Reputation | ServerError | Network
            | Dns => Scope::Destination,
            // A receiving server that answers one RCPT TO with "no such domain" speaks of
            // that recipient (a relay takes many domains); anywhere else (our own DNS
            // lookup, a 521 greeting, a bounce's text) it is the destination.
            DomainNotFound | NoMailService => match stage {
                Stage::RcptTo => Scope::Recipient,
                _ => Scope::Destination,
            },
            Policy => match stage {
                Stage::Connect | Stage::Greeting | Stage::Ehlo | Stage::Helo => Scope::Destination,
                _ => Scope::Message,
            },
            TooManyRecipients | MessageTooBig | SpamContent | VirusContent
            | SenderAuthentication | SenderRejected | ContentFormat => Scope::Message,
            AuthRequired | AuthFailed | TlsRequired | TlsFailed | Protocol | ServiceUnavailable => {
                Scope::Connection
            }
            Other => match stage {
                Stage::RcptTo | Stage::Unknown => Scope::Recipient,
                Stage::MailFrom | Stage::Data | Stage::DataEnd | Stage::Bdat => Scope::Message,
                Stage::Connect
                | Stage::Greeting
                | Stage::Ehlo
                | Stage::Helo
                | Stage::Starttls
                | Stage::Auth
                | Stage::Rset
                | Stage::Quit => Scope::Connection,
            },
        }
    }
}

snake_enum! {
    /// The SMTP command (or phase) a reply answered.
    ///
    /// An unrecognised stage name in input ([`Stage::parse_lenient`]) means
    /// [`Stage::Unknown`], not an error.
    pub enum Stage {
        /// Opening the TCP connection (before any reply).
        Connect => "connect",
        /// The server's greeting (`220`).
        Greeting => "greeting",
        /// `EHLO`.
        Ehlo => "ehlo",
        /// `HELO` (fallback, or LMTP `LHLO`).
        Helo => "helo",
        /// `STARTTLS` and the handshake after it.
        Starttls => "starttls",
        /// `AUTH`.
        Auth => "auth",
        /// `MAIL FROM`.
        MailFrom => "mail_from",
        /// `RCPT TO`.
        RcptTo => "rcpt_to",
        /// `DATA` (the `354` go-ahead).
        Data => "data",
        /// After the final dot of the body.
        DataEnd => "data_end",
        /// `BDAT` (CHUNKING).
        Bdat => "bdat",
        /// `RSET`.
        Rset => "rset",
        /// `QUIT`.
        Quit => "quit",
        /// Not known.
        Unknown => "unknown",
    }
}

/// A stage name that is not one ([`Stage::parse_strict`], `str::parse`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage {found:?} (expected one of: {})", Stage::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownStage {
    /// What was given.
    pub found: String,
}

impl core::str::FromStr for Stage {
    type Err = UnknownStage;
    /// [`Stage::parse_strict`].
    fn from_str(s: &str) -> Result<Stage, UnknownStage> {
        Stage::parse_strict(s)
    }
}

impl Stage {
    /// Parses a stage name given by a user: what [`Stage::parse_lenient`] accepts,
    /// and an error listing the valid names for anything else, so that a typo cannot
    /// silently classify at an unknown stage.
    ///
    /// ```
    /// use tempfail::Stage;
    /// assert_eq!(Stage::parse_strict("RCPT TO"), Ok(Stage::RcptTo));
    /// assert_eq!("unknown".parse::<Stage>(), Ok(Stage::Unknown));
    /// let e = "rcpt_too".parse::<Stage>().unwrap_err();
    /// assert!(e.to_string().starts_with("unknown stage \"rcpt_too\" (expected one of: connect, greeting"));
    /// ```
    pub fn parse_strict(s: &str) -> Result<Stage, UnknownStage> {
        match Stage::parse_lenient(s) {
            Stage::Unknown if !s.trim().eq_ignore_ascii_case("unknown") => Err(UnknownStage {
                found: s.to_owned(),
            }),
            st => Ok(st),
        }
    }

    /// The stage bounce or log text names, if any (`(in reply to RCPT TO command)`,
    /// `while receiving the initial server greeting`): what
    /// [`Classifier::classify_text`] uses when given [`Stage::Unknown`].
    ///
    /// ```
    /// use tempfail::Stage;
    /// assert_eq!(Stage::from_text("550 5.1.1 no such user (in reply to RCPT TO command)"), Some(Stage::RcptTo));
    /// ```
    #[must_use]
    pub fn from_text(text: &str) -> Option<Stage> {
        text::stage_from_text(text.as_bytes())
    }

    /// Parses a stage name leniently: the snake_case names, SMTP command words
    /// (`RCPT`, `RCPT TO`, `MAIL FROM`, `DATA`, `EHLO`, `CONN`…, any case); anything
    /// else is [`Stage::Unknown`].
    ///
    /// ```
    /// use tempfail::Stage;
    /// assert_eq!(Stage::parse_lenient("rcpt_to"), Stage::RcptTo);
    /// assert_eq!(Stage::parse_lenient("RCPT TO"), Stage::RcptTo);
    /// assert_eq!(Stage::parse_lenient("frobnicate"), Stage::Unknown);
    /// ```
    pub fn parse_lenient(s: &str) -> Stage {
        if let Some(st) = Stage::from_name(s) {
            return st;
        }
        let up = s.trim().to_ascii_uppercase();
        match up.as_str() {
            "CONNECT" | "CONN" => Stage::Connect,
            "GREETING" | "BANNER" => Stage::Greeting,
            "EHLO" => Stage::Ehlo,
            "HELO" | "LHLO" => Stage::Helo,
            "STARTTLS" => Stage::Starttls,
            "AUTH" => Stage::Auth,
            "MAIL" | "MAIL FROM" | "MAIL_FROM" => Stage::MailFrom,
            "RCPT" | "RCPT TO" | "RCPT_TO" => Stage::RcptTo,
            "DATA" => Stage::Data,
            "." | "DATA_END" | "END OF DATA" | "EOD" => Stage::DataEnd,
            "BDAT" => Stage::Bdat,
            "RSET" => Stage::Rset,
            "QUIT" => Stage::Quit,
            _ => Stage::Unknown,
        }
    }
}

/// The verdict on one reply or failure: what to do, why, what must wait, and
/// which rule decided it.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Classification {
    /// Delivered, retry later, or give up.
    pub disposition: Disposition,
    /// Why; `None` only for [`Disposition::Success`].
    pub category: Option<Category>,
    /// What must wait.
    pub scope: Scope,
    /// The server's own hint of when to retry ("try again in 5 minutes"), clamped to 1 s – 24 h.
    pub retry_after: Option<Duration>,
    /// The id of the rule that decided, e.g. `rfc3463.x.1.1` or a user rule's id.
    pub rule: Cow<'static, str>,
    /// A human description of that rule, with its source for documented exceptions.
    pub description: Cow<'static, str>,
    /// True when no rule matched and the codes alone decided, when the rules were not
    /// confident and the learned model chose the category (rule `model.category`, see
    /// [`Classifier::with_model`]), or when the reply's codes disagreed about passing
    /// (`reply.mixed_codes`: its lines; `reply.inner_code`: its text begins with a code of
    /// the other class), which are never final.
    pub low_confidence: bool,
}

impl Classification {
    /// A transient classification of `category`, with the category's usual scope,
    /// for tests and for a sender's own conclusions (rule `user.transient`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tempfail::{Category, Classification, Scope};
    /// let c = Classification::transient(Category::RateLimited)
    ///     .with_retry_after(Duration::from_secs(300));
    /// assert_eq!(c.scope, Scope::Destination);
    /// assert_eq!(c.to_string(), "transient rate_limited (scope destination, rule user.transient, retry after 5m)");
    /// ```
    #[must_use]
    pub fn transient(category: Category) -> Self {
        Classification::of(Disposition::Transient, category, "user.transient")
    }

    /// A permanent classification of `category`, with the category's usual scope
    /// (rule `user.permanent`).
    ///
    /// ```
    /// use tempfail::{Category, Classification, Disposition, Scope};
    /// let c = Classification::permanent(Category::UserUnknown);
    /// assert_eq!((c.disposition, c.scope), (Disposition::Permanent, Scope::Recipient));
    /// ```
    #[must_use]
    pub fn permanent(category: Category) -> Self {
        Classification::of(Disposition::Permanent, category, "user.permanent")
    }

    /// A success (rule `user.success`).
    ///
    /// ```
    /// use tempfail::{Classification, Disposition};
    /// assert_eq!(Classification::success().disposition, Disposition::Success);
    /// ```
    #[must_use]
    pub fn success() -> Self {
        Classification {
            disposition: Disposition::Success,
            category: None,
            scope: Scope::Message,
            retry_after: None,
            rule: Cow::Borrowed("user.success"),
            description: Cow::Borrowed(""),
            low_confidence: false,
        }
    }

    fn of(disposition: Disposition, category: Category, rule: &'static str) -> Self {
        Classification {
            disposition,
            category: Some(category),
            scope: category.usual_scope(Stage::Unknown),
            retry_after: None,
            rule: Cow::Borrowed(rule),
            description: Cow::Borrowed(""),
            low_confidence: false,
        }
    }

    /// With this scope.
    ///
    /// ```
    /// use tempfail::{Category, Classification, Scope};
    /// let c = Classification::transient(Category::Greylisted).with_scope(Scope::Destination);
    /// assert_eq!(c.scope, Scope::Destination);
    /// ```
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// With the server's retry hint.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tempfail::{Category, Classification};
    /// let c = Classification::transient(Category::RateLimited).with_retry_after(Duration::from_secs(60));
    /// assert_eq!(c.retry_after, Some(Duration::from_secs(60)));
    /// ```
    #[must_use]
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// With this rule id.
    ///
    /// ```
    /// use tempfail::{Category, Classification};
    /// let c = Classification::permanent(Category::UserUnknown).with_rule("acme.gone");
    /// assert_eq!(c.rule, "acme.gone");
    /// ```
    #[must_use]
    pub fn with_rule(mut self, rule: impl Into<Cow<'static, str>>) -> Self {
        self.rule = rule.into();
        self
    }
}

/// `transient rate_limited (scope destination, rule gmail.rate_limited, retry after
/// 5m)`: snake_case names, durations in compact human form.
impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.disposition)?;
        if let Some(c) = self.category {
            write!(f, " {c}")?;
        }
        write!(f, " (scope {}, rule {}", self.scope, self.rule)?;
        if let Some(d) = self.retry_after {
            write!(f, ", retry after {}", crate::backoff::Compact(d))?;
        }
        if self.low_confidence {
            f.write_str(", low confidence")?;
        }
        f.write_str(")")
    }
}

snake_enum! {
    /// How the transport failed, when there is no reply to classify.
    ///
    /// Classify with the classifier's transport-failure entry point; MTAs' own words for
    /// these failures in bounce text (`connect to host[ip]:25: Connection refused`, `lost
    /// connection with … while receiving the initial server greeting`) go through the
    /// text path instead.
    #[non_exhaustive]
    pub enum TransportFailure {
        /// TCP connection refused (RST to SYN).
        ConnectionRefused => "connection_refused",
        /// TCP connect did not complete in time.
        ConnectTimeout => "connect_timeout",
        /// The connection was reset by the peer.
        ConnectionReset => "connection_reset",
        /// No reply within the stage's timeout (RFC 5321 §4.5.3.2).
        ReadTimeout => "read_timeout",
        /// The server closed the connection without a reply (RFC 5321 §3.8: treat as 451).
        UnexpectedClose => "unexpected_close",
        /// The domain does not exist (NXDOMAIN).
        DnsNxDomain => "dns_nx_domain",
        /// No MX and no A/AAAA record (no MX alone means: use the address records, RFC 5321 §5.1).
        DnsNoAddress => "dns_no_address",
        /// The domain publishes a null MX (RFC 7505): it accepts no mail.
        NullMx => "null_mx",
        /// The resolver failed temporarily (SERVFAIL, timeout).
        DnsTemporary => "dns_temporary",
        /// The domain's MX records lead back to this sender, with no more
        /// preferred host to hand the mail to (RFC 5321 §5.1).
        MxLoop => "mx_loop",
        /// The domain has MX records, but none is usable (address literals,
        /// malformed names): RFC 5321 §5.1 says to report an error.
        MxUnusable => "mx_unusable",
        /// The TLS handshake failed.
        TlsHandshake => "tls_handshake",
        /// The server's certificate did not verify.
        TlsCertificate => "tls_certificate",
        /// The server sent something that is not SMTP, or broke a parser limit.
        ProtocolViolation => "protocol_violation",
        /// The server's replies no longer match the commands in flight (an extra or a
        /// missing reply in a pipelined batch, a reply impossible for its command): no
        /// outcome decided from them can be trusted.
        PipelineDesync => "pipeline_desync",
        /// The server stopped reading: queued bytes did not drain within the timeout.
        WriteTimeout => "write_timeout",
        /// The session's overall time budget ran out.
        SessionBudget => "session_budget",
        /// TLS is required by the sender but the server does not offer `STARTTLS`.
        StartTlsNotOffered => "start_tls_not_offered",
        /// Credentials are configured but no offered `AUTH` mechanism is usable (or TLS,
        /// required before `AUTH`, is not established).
        AuthUnavailable => "auth_unavailable",
        /// The message needs `SMTPUTF8` but the server does not offer it (RFC 6531 §3.4).
        Smtputf8NotOffered => "smtputf8_not_offered",
        /// The declared message size exceeds the server's advertised `SIZE` (RFC 1870).
        SizeExceedsLimit => "size_exceeds_limit",
        /// The attempt ended without an outcome for this recipient (the sender never
        /// reported one): treated as a lost connection.
        NoOutcome => "no_outcome",
    }
}
