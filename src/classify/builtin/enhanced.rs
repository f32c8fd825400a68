//! Tier 5 of the built-in rules: Specific enhanced codes (RFC 3463, RFC 7505, RFC 7372, RFC 8689 and providers' documented extensions).
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

use super::*;

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
    v.push(
        r("rfc5321.552_rcpt_too_many_recipients", C::TooManyRecipients,
          "552 at RCPT with no other meaning (no X.2.2, no quota wording): too many recipients, to be treated as 452 (RFC 5321 §4.5.3.1.10)")
            .at(&[S::RcptTo])
            .codes("552")
            .enh("none *.5.3")
            .disp(Disposition::Transient)
            .ev(Evidence::Stage),
    );
    let enh: &[(&'static str, &'static str, Category, &'static str)] = &[
        (
            "rfc3463.x.1.1",
            "*.1.1",
            C::UserUnknown,
            "X.1.1 bad destination mailbox address (RFC 3463)",
        ),
        (
            "rfc3463.x.1.2",
            "*.1.2",
            C::DomainNotFound,
            "X.1.2 bad destination system address (RFC 3463)",
        ),
        (
            "rfc3463.x.1.3",
            "*.1.3",
            C::Protocol,
            "X.1.3 bad destination mailbox address syntax (RFC 3463)",
        ),
        (
            "rfc3463.x.1.4",
            "*.1.4",
            C::UserUnknown,
            "X.1.4 destination mailbox address ambiguous (RFC 3463)",
        ),
        (
            "rfc3463.x.1.6",
            "*.1.6",
            C::UserUnknown,
            "X.1.6 destination mailbox has moved, no forwarding address (RFC 3463)",
        ),
        (
            "rfc3463.x.1.7",
            "*.1.7",
            C::SenderRejected,
            "X.1.7 bad sender's mailbox address syntax (RFC 3463)",
        ),
        (
            "rfc3463.x.1.8",
            "*.1.8",
            C::SenderRejected,
            "X.1.8 bad sender's system address (RFC 3463)",
        ),
        (
            "rfc7505.x.1.10",
            "*.1.10",
            C::NoMailService,
            "X.1.10 recipient address has null MX (RFC 7505)",
        ),
        (
            "rfc3463.x.2.1",
            "*.2.1",
            C::MailboxDisabled,
            "X.2.1 mailbox disabled, not accepting messages (RFC 3463)",
        ),
        (
            "rfc3463.x.2.2",
            "*.2.2",
            C::MailboxFull,
            "X.2.2 mailbox full (RFC 3463: persistent transient)",
        ),
        (
            "rfc3463.x.2.3",
            "*.2.3",
            C::MessageTooBig,
            "X.2.3 message length exceeds administrative limit (RFC 3463)",
        ),
        (
            "rfc3463.x.3.1",
            "*.3.1",
            C::ServerError,
            "X.3.1 mail system full (RFC 3463)",
        ),
        (
            "rfc3463.x.3.2",
            "*.3.2",
            C::ServiceUnavailable,
            "X.3.2 system not accepting network messages (RFC 3463)",
        ),
        (
            "rfc3463.x.3.3",
            "*.3.3",
            C::Protocol,
            "X.3.3 system not capable of selected features (RFC 3463)",
        ),
        (
            "rfc3463.x.3.4",
            "*.3.4",
            C::MessageTooBig,
            "X.3.4 message too big for system (RFC 3463)",
        ),
        (
            "rfc3463.x.3.5",
            "*.3.5",
            C::ServerError,
            "X.3.5 system incorrectly configured (RFC 3463)",
        ),
        (
            "rfc3463.x.4.2",
            "*.4.2",
            C::Network,
            "X.4.2 bad connection (RFC 3463)",
        ),
        (
            "rfc3463.x.4.3",
            "*.4.3",
            C::Dns,
            "X.4.3 directory server failure (RFC 3463)",
        ),
        (
            "rfc3463.x.4.4",
            "*.4.4",
            C::DomainNotFound,
            "X.4.4 unable to route (RFC 3463)",
        ),
        (
            "rfc3463.x.4.5",
            "*.4.5",
            C::ServerError,
            "X.4.5 mail system congestion (RFC 3463)",
        ),
        (
            "rfc3463.x.4.6",
            "*.4.6",
            C::Policy,
            "X.4.6 routing loop detected (RFC 3463): a loop is no network error; this message cannot be delivered as routed",
        ),
        (
            "rfc3463.x.4.7",
            "*.4.7",
            C::Network,
            "X.4.7 delivery time expired (RFC 3463)",
        ),
        (
            "microsoft.x.4.310",
            "*.4.310",
            C::DomainNotFound,
            "X.4.310 DNS domain does not exist (Microsoft 365 NDR reference)",
        ),
        (
            "microsoft.x.4.316",
            "*.4.316",
            C::Network,
            "X.4.316 connection refused (Microsoft 365 NDR reference)",
        ),
        (
            "rfc3463.x.5.1",
            "*.5.1",
            C::Protocol,
            "X.5.1 invalid command (RFC 3463)",
        ),
        (
            "rfc3463.x.5.2",
            "*.5.2",
            C::Protocol,
            "X.5.2 syntax error (RFC 3463)",
        ),
        (
            "rfc3463.x.5.3",
            "*.5.3",
            C::TooManyRecipients,
            "X.5.3 too many recipients (RFC 3463)",
        ),
        (
            "rfc3463.x.5.4",
            "*.5.4",
            C::Protocol,
            "X.5.4 invalid command arguments (RFC 3463)",
        ),
        (
            "rfc3463.x.5.5",
            "*.5.5",
            C::Protocol,
            "X.5.5 wrong protocol version (RFC 3463)",
        ),
        (
            "rfc3463.x.5.6",
            "*.5.6",
            C::Protocol,
            "X.5.6 authentication exchange line too long (RFC 4954)",
        ),
        (
            "rfc3463.x.6.1",
            "*.6.1",
            C::ContentFormat,
            "X.6.1 media not supported (RFC 3463)",
        ),
        (
            "rfc3463.x.6.2",
            "*.6.2",
            C::ContentFormat,
            "X.6.2 conversion required and prohibited (RFC 3463)",
        ),
        (
            "rfc3463.x.6.3",
            "*.6.3",
            C::ContentFormat,
            "X.6.3 conversion required but not supported (RFC 3463)",
        ),
        (
            "rfc6531.x.6.7",
            "*.6.7",
            C::ContentFormat,
            "X.6.7 non-ASCII addresses not permitted (RFC 6531)",
        ),
        (
            "rfc6531.x.6.8",
            "*.6.8",
            C::ContentFormat,
            "X.6.8 UTF-8 string reply required (RFC 6531)",
        ),
        (
            "rfc6531.x.6.9",
            "*.6.9",
            C::ContentFormat,
            "X.6.9 UTF-8 header message cannot be transferred (RFC 6531)",
        ),
        (
            "rfc3463.x.7.2",
            "*.7.2",
            C::Policy,
            "X.7.2 mailing list expansion prohibited (RFC 3463)",
        ),
        (
            "rfc3463.x.7.7",
            "*.7.7",
            C::ContentFormat,
            "X.7.7 message integrity failure (RFC 3463)",
        ),
        (
            "rfc4954.x.7.8",
            "*.7.8",
            C::AuthFailed,
            "X.7.8 authentication credentials invalid (RFC 4954)",
        ),
        (
            "rfc4954.x.7.9",
            "*.7.9",
            C::AuthRequired,
            "X.7.9 authentication mechanism too weak (RFC 4954)",
        ),
        (
            "rfc4954.x.7.10",
            "*.7.10",
            C::TlsRequired,
            "X.7.10 encryption needed (RFC 5248)",
        ),
        (
            "rfc4954.x.7.11",
            "*.7.11",
            C::TlsRequired,
            "X.7.11 encryption required for requested authentication mechanism (RFC 4954)",
        ),
        (
            "rfc4954.x.7.12",
            "*.7.12",
            C::AuthFailed,
            "X.7.12 a password transition is needed (RFC 4954)",
        ),
        (
            "rfc5248.x.7.13",
            "*.7.13",
            C::MailboxDisabled,
            "X.7.13 user account disabled (RFC 5248)",
        ),
        (
            "rfc5248.x.7.14",
            "*.7.14",
            C::AuthRequired,
            "X.7.14 trust relationship required (RFC 5248)",
        ),
        (
            "rfc7293.x.7.17",
            "*.7.17",
            C::UserUnknown,
            "X.7.17 mailbox owner has changed (RFC 7293)",
        ),
        (
            "rfc7293.x.7.18",
            "*.7.18",
            C::UserUnknown,
            "X.7.18 domain owner has changed (RFC 7293)",
        ),
        (
            "rfc7372.x.7.20",
            "*.7.20",
            C::SenderAuthentication,
            "X.7.20 no passing DKIM signature found (RFC 7372)",
        ),
        (
            "rfc7372.x.7.21",
            "*.7.21",
            C::SenderAuthentication,
            "X.7.21 no acceptable DKIM signature found (RFC 7372)",
        ),
        (
            "rfc7372.x.7.22",
            "*.7.22",
            C::SenderAuthentication,
            "X.7.22 no valid author-matched DKIM signature found (RFC 7372)",
        ),
        (
            "rfc7372.x.7.23",
            "*.7.23",
            C::SenderAuthentication,
            "X.7.23 SPF validation failed (RFC 7372)",
        ),
        (
            "rfc7372.x.7.24",
            "*.7.24",
            C::SenderAuthentication,
            "X.7.24 SPF validation error (RFC 7372)",
        ),
        (
            "rfc7372.x.7.25",
            "*.7.25",
            C::Reputation,
            "X.7.25 reverse DNS validation failed (RFC 7372)",
        ),
        (
            "rfc7372.x.7.26",
            "*.7.26",
            C::SenderAuthentication,
            "X.7.26 multiple authentication checks failed (RFC 7372)",
        ),
        (
            "rfc7505.x.7.27",
            "*.7.27",
            C::SenderRejected,
            "X.7.27 sender address has null MX (RFC 7505)",
        ),
        (
            "rfc7372.x.7.28",
            "*.7.28",
            C::RateLimited,
            "X.7.28 mail flood detected (RFC 7372; Gmail's 4.7.28 rate limit)",
        ),
        (
            "rfc8617.x.7.29",
            "*.7.29",
            C::SenderAuthentication,
            "X.7.29 ARC validation failure (RFC 8617)",
        ),
        (
            "rfc8689.x.7.30",
            "*.7.30",
            C::TlsRequired,
            "X.7.30 REQUIRETLS support required (RFC 8689)",
        ),
        (
            "microsoft.x.7.509",
            "*.7.509",
            C::SenderAuthentication,
            "X.7.509 sending domain does not pass DMARC (Microsoft 365)",
        ),
        (
            "microsoft.x.7.510",
            "*.7.510",
            C::SenderAuthentication,
            "X.7.510 DKIM/DMARC failure (Microsoft 365)",
        ),
        (
            "microsoft.x.7.515",
            "*.7.515",
            C::SenderAuthentication,
            "X.7.515 does not meet the required authentication level (Microsoft 365)",
        ),
        (
            "microsoft.x.7.57",
            "*.7.57",
            C::AuthRequired,
            "X.7.57 client was not authenticated to send anonymous mail (Microsoft 365)",
        ),
        (
            "microsoft.x.7.606",
            "*.7.606",
            C::Blocklisted,
            "X.7.606 access denied, banned sending IP (Microsoft 365)",
        ),
        (
            "microsoft.x.7.705",
            "*.7.705",
            C::Reputation,
            "X.7.705 tenant has exceeded threshold (Microsoft 365)",
        ),
        (
            "microsoft.x.7.708",
            "*.7.708",
            C::Reputation,
            "X.7.708 traffic not accepted from this IP (Microsoft 365)",
        ),
        (
            "microsoft.x.7.750",
            "*.7.750",
            C::Reputation,
            "X.7.750 unregistered domain / tenant exceeded threshold (Microsoft 365)",
        ),
        (
            "microsoft.x.7.129",
            "*.7.129",
            C::Policy,
            "X.7.129 restricted to the recipient's allowed senders (Microsoft 365)",
        ),
        (
            "microsoft.x.7.133",
            "*.7.133 *.7.134 *.7.135 *.7.136",
            C::Policy,
            "X.7.133-136 the recipient group, mailbox, public folder or mail user takes mail only from authenticated (internal) senders (Microsoft 365 SenderNotAuthenticatedFor…)",
        ),
        (
            "microsoft.x.7.650",
            "*.7.650",
            C::RateLimited,
            "X.7.650 temporarily rate limited due to IP reputation (Microsoft 365)",
        ),
        (
            "microsoft.x.7.500",
            "*.7.500",
            C::RateLimited,
            "X.7.500 server busy: Microsoft's throttling of the sending IP (Microsoft 365)",
        ),
    ];
    for (id, pat, cat, desc) in enh {
        let rule = r(id, *cat, desc).enh(pat);
        // Addresses and mailboxes (subjects 1 and 2) exist only inside a transaction: at
        // the greeting or EHLO such a code names no mailbox ("421 4.2.1 Connection
        // deferred"), and the stage's or the wording's meaning decides.
        v.push(if pat.starts_with("*.1.") || pat.starts_with("*.2.") { rule.at(TXN) } else { rule });
    }

    v.push(
        r("rfc3463.x.3.0_mail", C::SenderRejected,
          "X.3.0 other or undefined mail system status under a 550 or 553 to MAIL FROM: the undefined status names no system fault, the code refuses the sender mailbox (RFC 5321 §4.2.2; sendmail access maps' 'ERROR:553 5.3.0 … SPAM REJECT'), as X.1.0 does at MAIL FROM")
            .codes("550 553")
            .enh("*.3.0")
            .at(&[S::MailFrom]),
    );
    v.push(
        r(
            "rfc3463.x.3.0",
            C::ServerError,
            "X.3.0 other or undefined mail system status (RFC 3463)",
        )
        .enh("*.3.0"),
    );
}
