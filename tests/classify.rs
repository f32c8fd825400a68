//! The classifier on real replies, category by category: receivers' and filters'
//! published wording (Gmail, Microsoft 365/Outlook.com/Exchange, Yahoo/AOL, iCloud,
//! Comcast, AT&T, GMX/web.de, T-Online, Orange, Mail.ru, Yandex, QQ/163, Zoho, Proton,
//! Fastmail, Proofpoint, Mimecast, Barracuda, Cisco, Spamhaus and other DNSBLs) and the
//! stock replies of Postfix, Exim, Sendmail, qmail, Exchange and postgrey.

use std::time::Duration;

use tempfail::classify::Classifier;
use tempfail::{
    Category, Classification, Disposition, Reply, ReplyCode, Scope, Stage, TransportFailure,
};

use Category as C;
use Disposition::{Permanent as P, Success as OK, Transient as T};
use Stage as S;

fn c() -> Classifier {
    Classifier::builtin()
}

/// Parses `"550 5.1.1 text"` or a multi-line `"550-…\r\n550 …"` into a reply.
fn reply(wire: &str) -> Reply {
    let mut code = None;
    let mut lines = Vec::new();
    for l in wire.split("\r\n") {
        code = ReplyCode::new(l[..3].parse().expect("test reply starts with a code"));
        lines.push(l.get(4..).unwrap_or("").as_bytes().to_vec());
    }
    Reply::new(code.expect("valid code"), lines)
}

/// Classifies a live reply and checks category and disposition.
#[track_caller]
fn check(wire: &str, stage: Stage, cat: Category, disp: Disposition) -> Classification {
    let v = c().classify(&reply(wire), stage);
    assert_eq!(
        (v.category, v.disposition),
        (Some(cat), disp),
        "{wire:?} at {stage}: got {} {} by {} ({})",
        v.category.map_or("none", |c| c.name()),
        v.disposition,
        v.rule,
        v.description
    );
    assert!(!v.low_confidence, "{wire:?}: decided by a rule");
    assert!(!v.description.is_empty());
    v
}

/// [`check`] for each `(reply, stage, category, disposition, scope)`, and the scope too.
fn check_scoped(cases: &[(&str, Stage, Category, Disposition, Scope)]) {
    for &(wire, stage, cat, disp, scope) in cases {
        let v = check(wire, stage, cat, disp);
        assert_eq!(v.scope, scope, "{wire:?} at {stage}: scope");
    }
}

/// Classifies bounce/log text and checks category and disposition.
#[track_caller]
fn check_text(text: &str, cat: Category, disp: Disposition) -> Classification {
    let v = c().classify_text(text, S::Unknown);
    assert_eq!(
        (v.category, v.disposition),
        (Some(cat), disp),
        "{text:?}: got {} {} by {}",
        v.category.map_or("none", |c| c.name()),
        v.disposition,
        v.rule
    );
    v
}

#[test]
fn greylisted() {
    let v = check(
        "450 4.2.0 <user@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html",
        S::RcptTo,
        C::Greylisted,
        T,
    );
    assert_eq!(v.scope, Scope::Recipient);
    check(
        "451 4.7.1 Please try again later",
        S::RcptTo,
        C::Greylisted,
        T,
    );
    check("451 Please try again later", S::RcptTo, C::Greylisted, T);
    let v = check(
        "451 4.7.1 Greylisting in action, please come back in 00:05:00",
        S::RcptTo,
        C::Greylisted,
        T,
    );
    assert_eq!(v.retry_after, Some(Duration::from_secs(300)));
    let v = check(
        "450 4.7.1 Greylisted for 300 seconds (see http://isg.ee.ethz.ch/tools/postgrey/help/example.com.html)",
        S::RcptTo,
        C::Greylisted,
        T,
    );
    assert_eq!(v.retry_after, Some(Duration::from_secs(300)));
    check(
        "451 4.7.1 <user@example.com>: Recipient address rejected: Temporarily greylisted",
        S::RcptTo,
        C::Greylisted,
        T,
    );
    check(
        "450 Graylisted, try again in 5 minutes",
        S::RcptTo,
        C::Greylisted,
        T,
    );
}

#[test]
fn rate_limited() {
    let v = check(
        "421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating\r\n421-4.7.28 from your IP address. To protect our users from spam, mail sent from your IP\r\n421 4.7.28 address has been temporarily rate limited.",
        S::DataEnd,
        C::RateLimited,
        T,
    );
    assert_eq!(v.scope, Scope::Destination);
    check(
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        S::MailFrom,
        C::RateLimited,
        T,
    );
    check(
        "451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S843)",
        S::RcptTo,
        C::RateLimited,
        T,
    );
    let v = check(
        "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n450-4.2.1 prevents additional messages from being delivered. Please resend your\r\n450 4.2.1 message at a later time.",
        S::RcptTo,
        C::RateLimited,
        T,
    );
    assert_eq!(v.scope, Scope::Recipient, "a per-recipient rate");
    check(
        "550 5.4.5 Daily user sending quota exceeded.",
        S::MailFrom,
        C::RateLimited,
        P,
    );
    // QQ documents its 550 frequency limits as "send more slowly": transient.
    let v = check(
        "550 Ip frequency limited [x]",
        S::MailFrom,
        C::RateLimited,
        T,
    );
    assert!(v.description.contains("1000725"));
    check(
        "421 4.7.0 Ratelimit exceeded for mailbox user@mail.ru. Try again later.",
        S::RcptTo,
        C::RateLimited,
        T,
    );
    check(
        "452 Too many recipients received this hour",
        S::RcptTo,
        C::RateLimited,
        T,
    );
    check(
        "550 5.1.0 <a@example.com> sender rejected. AUP#In-1310",
        S::MailFrom,
        C::RateLimited,
        P,
    );
    check(
        "450 4.7.1 Rate limit exceeded, please slow down",
        S::RcptTo,
        C::RateLimited,
        T,
    );
    check(
        "451 4.7.1 Client throttled due to too many messages",
        S::MailFrom,
        C::RateLimited,
        T,
    );
    check(
        "421 4.7.1 Sending rate exceeded",
        S::MailFrom,
        C::RateLimited,
        T,
    );
    check(
        "454 4.7.0 Too many login attempts, please try again later.",
        S::Auth,
        C::RateLimited,
        T,
    );
    check(
        "421 RP:TRC Too many recipients today",
        S::RcptTo,
        C::RateLimited,
        T,
    );
    check(
        "554 5.7.1 RL000010 rate limit exceeded - comcast",
        S::MailFrom,
        C::RateLimited,
        P,
    );
}

#[test]
fn too_many_connections() {
    let v = check(
        "421 4.7.0 Too many concurrent SMTP connections from this IP address; please try again later.",
        S::Greeting,
        C::TooManyConnections,
        T,
    );
    assert_eq!(v.scope, Scope::Destination);
    check(
        "421 opmta Trop de connexions, veuillez verifier votre configuration. Too many connections, slow down. OFR004_104 [104]",
        S::Greeting,
        C::TooManyConnections,
        T,
    );
    check(
        "421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1",
        S::Greeting,
        C::TooManyConnections,
        T,
    );
    check(
        "421 [Too many sessions opened]",
        S::Greeting,
        C::TooManyConnections,
        T,
    );
    check(
        "550 Connection frequency limited",
        S::Greeting,
        C::TooManyConnections,
        T,
    );
    check(
        "421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing transmission channel",
        S::Greeting,
        C::TooManyConnections,
        T,
    );
}

#[test]
fn too_many_recipients_is_stage_aware() {
    // RFC 5321 §4.5.3.1.10: a 552 that means "too many recipients" is transient.
    let v = check(
        "552 Too many recipients",
        S::RcptTo,
        C::TooManyRecipients,
        T,
    );
    assert_eq!(v.scope, Scope::Message);
    check(
        "452 4.5.3 Too many recipients",
        S::RcptTo,
        C::TooManyRecipients,
        T,
    );
    check(
        "452 4.5.3 Your message has too many recipients.",
        S::RcptTo,
        C::TooManyRecipients,
        T,
    );
    check(
        "452 4.5.3 Error: too many recipients",
        S::RcptTo,
        C::TooManyRecipients,
        T,
    );
    // A bare 552 at RCPT means too many recipients …
    let v = check(
        "552 Requested action aborted",
        S::RcptTo,
        C::TooManyRecipients,
        T,
    );
    assert_eq!(v.rule, "rfc5321.552_rcpt_too_many_recipients");
    check(
        "452 Requested action not taken",
        S::RcptTo,
        C::TooManyRecipients,
        T,
    );
    // … but 552 5.2.2 at RCPT is a full mailbox, and quota wording too.
    check("552 5.2.2 Mailbox full", S::RcptTo, C::MailboxFull, P);
    check("552 Mailbox quota exceeded", S::RcptTo, C::MailboxFull, P);
    // After the data, a bare 552 is a size problem; elsewhere a 452 is storage.
    check(
        "552 Requested mail action aborted",
        S::DataEnd,
        C::MessageTooBig,
        P,
    );
    check(
        "452 Requested action not taken",
        S::MailFrom,
        C::ServerError,
        T,
    );
}

#[test]
fn mailbox_full() {
    let v = check(
        "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\r\n452-4.2.2 recipient to\r\n452 4.2.2 https://support.google.com/mail/?p=OverQuotaTemp",
        S::RcptTo,
        C::MailboxFull,
        T,
    );
    assert_eq!(v.scope, Scope::Recipient);
    check(
        "552-5.2.2 The recipient's inbox is out of storage space and inactive. Please\r\n552 5.2.2 direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm",
        S::RcptTo,
        C::MailboxFull,
        P,
    );
    check(
        "552 5.2.2 <a@icloud.com>: user is over quota",
        S::RcptTo,
        C::MailboxFull,
        P,
    );
    check(
        "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException",
        S::DataEnd,
        C::MailboxFull,
        P,
    );
    check(
        "552 Requested mail action aborted: exceeded storage allocation",
        S::DataEnd,
        C::MailboxFull,
        P,
    );
    check(
        "552 5.2.2 Mailbox size limit exceeded",
        S::RcptTo,
        C::MailboxFull,
        P,
    );
    check(
        "552 sorry, mailbox a@example.org is over quota temporarily (#5.1.1)",
        S::RcptTo,
        C::MailboxFull,
        P,
    );
    check("452 4.2.2 Over quota", S::RcptTo, C::MailboxFull, T);
}

#[test]
fn enhanced_code_class_beats_a_permanent_basic_code() {
    // KumoMTA bounces this (it decides from the basic code alone); it is a full mailbox
    // the server itself calls temporary.
    let v = check("550 4.2.2 Mailbox full", S::RcptTo, C::MailboxFull, T);
    assert_eq!(v.scope, Scope::Recipient);
    // A 4xx is transient whatever its enhanced code says.
    check("450 5.1.1 User unknown", S::RcptTo, C::UserUnknown, T);
}

#[test]
fn user_unknown() {
    let v = check(
        "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    assert_eq!(v.scope, Scope::Recipient);
    check(
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.1.1 <a@example.com>... User unknown",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    // A receiving Exim says this of a recipient it cannot route in its own domains.
    check("550 Unrouteable address", S::RcptTo, C::UserUnknown, P);
    check(
        "511 sorry, no mailbox here by that name (#5.1.1 - chkuser)",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.1.1 <a@example.com>... Not our Customer",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "552 1 Requested mail action aborted, mailbox not found",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0] - mta1061.mail.ne1.yahoo.com",
        S::DataEnd,
        C::UserUnknown,
        P,
    );
    check(
        "550 Requested action not taken: mailbox unavailable",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.1.1 <a@icloud.com>: inactive email address",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.1.1 <a@pm.me>: Recipient address rejected: Address does not exist",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 Message was not accepted -- invalid mailbox. Local mailbox a@mail.ru is unavailable: user not found",
        S::DataEnd,
        C::UserUnknown,
        P,
    );
    check("550 5.7.1 No such user!", S::RcptTo, C::UserUnknown, P);
    check(
        "550 User not found: a@163.com",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.1.1 User does not exist - <a@zoho.com>",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check("550 #5.1.0 Address rejected.", S::RcptTo, C::UserUnknown, P);
    check(
        "553 5.3.0 <a@example.com>... No such user here",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
    check(
        "550 5.1.6 recipient no longer on server: a@example.jp",
        S::RcptTo,
        C::UserUnknown,
        P,
    );
}

#[test]
fn mailbox_disabled() {
    let v = check(
        "550-5.2.1 The email account that you tried to reach is disabled. Learn more at\r\n550 5.2.1 https://support.google.com/mail/?p=DisabledUser",
        S::RcptTo,
        C::MailboxDisabled,
        P,
    );
    assert_eq!(v.scope, Scope::Recipient);
    check(
        "554 30 Sorry, your message to a@yahoo.com cannot be delivered. This mailbox is disabled (554.30).",
        S::DataEnd,
        C::MailboxDisabled,
        P,
    );
    check(
        "525 5.7.13 Disabled recipient address",
        S::RcptTo,
        C::MailboxDisabled,
        P,
    );
    check(
        "550 Mailbox is frozen. See http://mail.i.ua/err/3/",
        S::RcptTo,
        C::MailboxDisabled,
        P,
    );
    check(
        "550 5.2.1 Account Closed, Please Remove",
        S::RcptTo,
        C::MailboxDisabled,
        P,
    );
    check(
        "450 4.2.1 <a@laposte.net>: Recipient address rejected: this mailbox is inactive and has been disabled",
        S::RcptTo,
        C::MailboxDisabled,
        T,
    );
}

#[test]
fn domain_not_found_and_no_mail_service() {
    let v = check_text(
        "Host or domain name not found. Name service error for name=example.com type=MX: Host not found",
        C::DomainNotFound,
        P,
    );
    assert_eq!(v.scope, Scope::Destination);
    check_text(
        "DNS Error: 80335577 DNS type 'mx' lookup of example.jp responded with code NXDOMAIN Domain name not found: example.jp",
        C::DomainNotFound,
        P,
    );
    check(
        "550 5.4.310 DNS domain example.moc does not exist [Message=InfoDomainNonexistent]",
        S::Unknown,
        C::DomainNotFound,
        P,
    );
    check(
        "553 5.1.2 We weren't able to find the recipient domain.",
        S::RcptTo,
        C::DomainNotFound,
        P,
    );
    check(
        "450 4.1.2 <a@example.invalid>: Recipient address rejected: Domain not found",
        S::RcptTo,
        C::DomainNotFound,
        T,
    );
    check_text(
        "Domain example.com does not accept mail (nullMX)",
        C::NoMailService,
        P,
    );
    check(
        "556 5.1.10 <a@example.com>: Recipient address has a null MX",
        S::RcptTo,
        C::NoMailService,
        P,
    );
    check(
        "521 5.3.2 mx.example.com does not accept mail",
        S::Greeting,
        C::NoMailService,
        P,
    );
}

#[test]
fn dns_and_network_from_bounce_text() {
    let v = check_text(
        "Host or domain name not found. Name service error for name=example.com type=MX: Host not found, try again",
        C::Dns,
        T,
    );
    assert_eq!(v.rule, "postfix.dns_try_again");
    check_text(
        "connect to mx.example.com[192.0.2.1]:25: Connection refused",
        C::Network,
        T,
    );
    let v = check_text(
        "lost connection with mx.example.com[192.0.2.1] while receiving the initial server greeting",
        C::Network,
        T,
    );
    assert_eq!(v.scope, Scope::Destination);
    check_text(
        "conversation with mx.example.com[192.0.2.1] timed out while sending end of data -- message may be sent more than once",
        C::Network,
        T,
    );
    check_text(
        "connect to mx.example.com[192.0.2.1]:25: No route to host",
        C::Network,
        T,
    );
    check_text(
        "T=remote_smtp defer (111): Connection refused",
        C::Network,
        T,
    );
    check(
        "421 4.4.2 mx.example.net Error: timeout exceeded",
        S::DataEnd,
        C::Network,
        T,
    );
    // A loop is no network error (issue 14): the message cannot be delivered as routed.
    check("554 5.4.6 Too many hops", S::DataEnd, C::Policy, P);
}

#[test]
fn relay_auth_tls() {
    check(
        "554 5.7.1 <a@example.org>: Relay access denied",
        S::RcptTo,
        C::RelayDenied,
        P,
    );
    check(
        "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        S::RcptTo,
        C::RelayDenied,
        P,
    );
    check("550 relay not permitted", S::RcptTo, C::RelayDenied, P);
    check(
        "550 5.7.64 TenantAttribution; Relay Access Denied",
        S::RcptTo,
        C::RelayDenied,
        P,
    );
    let v = check(
        "530 5.7.0 Must issue a STARTTLS command first.",
        S::MailFrom,
        C::TlsRequired,
        P,
    );
    assert_eq!(v.scope, Scope::Connection);
    check(
        "530 5.7.0 Authentication required",
        S::MailFrom,
        C::AuthRequired,
        P,
    );
    check(
        "530 5.7.57 Client not authenticated to send mail.",
        S::MailFrom,
        C::AuthRequired,
        P,
    );
    let v = check(
        "535 5.7.8 Username and Password not accepted.",
        S::Auth,
        C::AuthFailed,
        P,
    );
    assert_eq!(v.scope, Scope::Connection);
    check(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
        S::Auth,
        C::AuthFailed,
        P,
    );
    check(
        "454 4.7.0 TLS not available due to local problem",
        S::Starttls,
        C::TlsFailed,
        T,
    );
}

#[test]
fn message_too_big_and_content_format() {
    check(
        "552-5.2.3 Your message exceeded Google's message size limits.",
        S::DataEnd,
        C::MessageTooBig,
        P,
    );
    check(
        "552 5.3.4 Message size exceeds fixed limit",
        S::DataEnd,
        C::MessageTooBig,
        P,
    );
    check(
        "552 sorry, that message size exceeds my databytes limit (#5.3.4)",
        S::DataEnd,
        C::MessageTooBig,
        P,
    );
    check(
        "550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient",
        S::DataEnd,
        C::MessageTooBig,
        P,
    );
    check(
        "550-5.7.1 This message is not RFC 5322 compliant. There are multiple Subject\r\n550-5.7.1 headers. To reduce the amount of spam sent to Gmail, this message has\r\n550 5.7.1 been blocked.",
        S::DataEnd,
        C::ContentFormat,
        P,
    );
    check(
        "554 Transaction failed: Duplicate header 'DKIM-Signature'.",
        S::DataEnd,
        C::ContentFormat,
        P,
    );
    check(
        "554 5.6.211 Invalid MIME Content: Single text value size (32000) exceeded allowed maximum",
        S::DataEnd,
        C::ContentFormat,
        P,
    );
}

#[test]
fn spam_and_virus() {
    check(
        "550-5.7.1 [192.0.2.1 12] Gmail has detected that this message is likely\r\n550-5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail, this\r\n550 5.7.1 message has been blocked.",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    let v = check(
        "550 5.7.1 Message rejected under suspicion of SPAM; https://ya.cc/1IrBc",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    assert_eq!(v.scope, Scope::Message);
    check(
        "550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    check(
        "554 DT:SPM 163 smtp10,DsCowAC: Mail from a@example.com is rejected, please visit http://mail.163.com/help/help_spam_16.htm",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    check(
        "550 spam message rejected. Please visit http://help.mail.ru/notspam-support",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    check(
        "550 5.2.0 Mail rejete. Mail rejected. OFR_506 [506]",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    check(
        "550 5.7.1 Message content rejected, UBE, id=00000-22-225",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    check(
        "550-REJECTED - Blacklisted URL in message. (example.com) in [black].",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    check(
        "550 Virus Detected; Content Rejected",
        S::DataEnd,
        C::VirusContent,
        P,
    );
    check(
        "554 5.7.0 Reject, id=11111-01 - INFECTED: Eicar-Test-Signature",
        S::DataEnd,
        C::VirusContent,
        P,
    );
}

#[test]
fn blocklisted_and_reputation() {
    let v = check(
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1",
        S::RcptTo,
        C::Blocklisted,
        P,
    );
    assert_eq!(v.scope, Scope::Destination);
    check(
        "550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/",
        S::MailFrom,
        C::Blocklisted,
        P,
    );
    check(
        "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
        S::MailFrom,
        C::Blocklisted,
        P,
    );
    check(
        "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
        S::Greeting,
        C::Blocklisted,
        P,
    );
    check(
        "554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1",
        S::Greeting,
        C::Blocklisted,
        P,
    );
    check(
        "550 5.7.0 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.1",
        S::MailFrom,
        C::Blocklisted,
        P,
    );
    check(
        "554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1",
        S::RcptTo,
        C::Blocklisted,
        P,
    );
    check(
        "554 resimta-po-34v.sys.comcast.net 192.0.2.1 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000001",
        S::Greeting,
        C::Blocklisted,
        P,
    );
    check(
        "553 5.3.0 flph829 DNSBL:RBL 521< 192.0.2.1 >_is_blocked.For assistance forward this error to abuse_rbl@abuse-att.net",
        S::MailFrom,
        C::Blocklisted,
        P,
    );
    check(
        "550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. Client host blocked for spamming issues. OFR006_102 [102]",
        S::Greeting,
        C::Blocklisted,
        P,
    );
    check(
        "550 5.7.1 Mail from 192.0.2.1 refused, see http://www.spamcop.net/bl.shtml?192.0.2.1",
        S::MailFrom,
        C::Blocklisted,
        P,
    );
    check(
        "550-5.7.1 [192.0.2.1 18] Our system has detected that this message is\r\n550-5.7.1 likely suspicious due to the very low reputation of the sending IP\r\n550 5.7.1 address.",
        S::DataEnd,
        C::Reputation,
        P,
    );
    check(
        "554 IP=192.0.2.1 - A problem occurred. (Ask your postmaster for help or to contact tobr@rx.t-online.de to clarify.)",
        S::Greeting,
        C::Reputation,
        P,
    );
    check(
        "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
        S::MailFrom,
        C::Reputation,
        P,
    );
    let v = check(
        "550-5.7.25 [192.0.2.1] The IP address sending this message does not have a\r\n550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not\r\n550 5.7.25 point to the sending IP.",
        S::DataEnd,
        C::Reputation,
        P,
    );
    assert_eq!(v.scope, Scope::Destination);
    check(
        "421 4.7.0 [Reverse DNS failure : Try again later]",
        S::Greeting,
        C::Reputation,
        T,
    );
    check(
        "554-mail.com Nemesis ESMTP Service not available 554-No SMTP service 554-Bad DNS PTR resource record.",
        S::Greeting,
        C::Reputation,
        P,
    );
}

#[test]
fn more_published_wording() {
    check(
        "550 5.7.511 Access denied, banned sender[192.0.2.1]. To request removal from this list please forward this message to delist@messaging.microsoft.com",
        S::MailFrom,
        C::Blocklisted,
        P,
    );
    check(
        "550 5.7.350 Remote server returned message detected as spam",
        S::DataEnd,
        C::SpamContent,
        P,
    );
    check(
        "554 5.7.5 Permanent error evaluating DMARC policy",
        S::DataEnd,
        C::SenderAuthentication,
        P,
    );
    check(
        "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
        S::MailFrom,
        C::SenderRejected,
        P,
    );
    check(
        "550 5.4.6 Unusual sending activity detected. Please try after sometime.",
        S::MailFrom,
        C::RateLimited,
        P,
    );
    check(
        "451 4.7.1 <smtp.example.jp[192.0.2.3]>: Client host rejected: Please try again slower",
        S::RcptTo,
        C::RateLimited,
        T,
    );
    check("550 5.0.0 Mail system full", S::RcptTo, C::ServerError, P);
    check(
        "554 5.7.1 Mail Score (59) over MessageScoringUpperLimit (50)",
        S::DataEnd,
        C::SpamContent,
        P,
    );
}

#[test]
fn documented_exceptions_override_the_first_digit() {
    // Yahoo's help article SLN3436: a 421 [TS03] will not succeed on retry.
    let v = check(
        "421 4.7.1 [TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes",
        S::MailFrom,
        C::Reputation,
        P,
    );
    assert!(
        v.description.contains("SLN3436"),
        "the source is named: {}",
        v.description
    );
    // RFC 5321 §4.5.3.1.10: 552 "too many recipients" is transient.
    let v = check(
        "552 5.5.3 Too many recipients",
        S::RcptTo,
        C::TooManyRecipients,
        T,
    );
    assert!(v.description.contains("4.5.3.1.10"));
}

#[test]
fn sender_side() {
    check(
        "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's\r\n550-5.7.26 DMARC policy. Please contact the administrator of example.com domain",
        S::DataEnd,
        C::SenderAuthentication,
        P,
    );
    check(
        "550 5.7.509 Access denied, sending domain [EXAMPLE.COM] does not pass DMARC verification and has a DMARC policy of reject.",
        S::DataEnd,
        C::SenderAuthentication,
        P,
    );
    check(
        "550-5.7.26 The MAIL FROM domain [example.com] has an SPF record with a hard fail\r\n550-5.7.26 policy (-all) but it fails to pass SPF checks with the ip: [192.0.2.1]. To best\r\n550 5.7.26 protect our users from spam and phishing, the message has been blocked.",
        S::DataEnd,
        C::SenderAuthentication,
        P,
    );
    check(
        "550 Rejected by header based Anti-Spoofing policy: a@example.com",
        S::DataEnd,
        C::SenderAuthentication,
        P,
    );
    check(
        "501 5.0.2 Mail rejected. DMARC check failed.",
        S::DataEnd,
        C::SenderAuthentication,
        P,
    );
    check(
        "553 5.1.8 <a@example.invalid>... Domain of sender address a@example.invalid does not exist",
        S::MailFrom,
        C::SenderRejected,
        P,
    );
    check(
        "450 4.1.8 <a@example.invalid>: Sender address rejected: Domain not found",
        S::MailFrom,
        C::SenderRejected,
        T,
    );
    check(
        "550 Requested action not taken: mailbox unavailable invalid DNS MX or A/AAAA resource record",
        S::MailFrom,
        C::SenderRejected,
        P,
    );
    check(
        "554 5.7.105 SenderFilterAgent; Sender denied as sender's email address is on SenderFilterConfig list",
        S::DataEnd,
        C::SenderRejected,
        P,
    );
    check(
        "550 5.1.7 No such domain example.com.",
        S::MailFrom,
        C::SenderRejected,
        P,
    );
}

#[test]
fn policy() {
    check(
        "554 5.7.9 Message not accepted for policy reasons. See https://senders.yahooinc.com/error-codes",
        S::DataEnd,
        C::Policy,
        P,
    );
    check(
        "554-Transaction failed 554-Reject due to policy restrictions. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0301",
        S::DataEnd,
        C::Policy,
        P,
    );
    check(
        "554 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
        S::DataEnd,
        C::Policy,
        P,
    );
    check(
        "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550",
        S::RcptTo,
        C::Policy,
        P,
    );
    check(
        "550 5.7.129 RESOLVER.RST.RestrictedToRecipientsPermission; not authorized to send to recipient",
        S::RcptTo,
        C::Policy,
        P,
    );
    let v = check(
        "450 4.7.1 <mx.example.com>: Helo command rejected: Host not found",
        S::RcptTo,
        C::Protocol,
        T,
    );
    assert_eq!(v.scope, Scope::Destination, "about our client host");
    check("554 Host network not allowed", S::Greeting, C::Policy, P);
    check(
        "421 mwinf5c77 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR_999 [999]",
        S::Greeting,
        C::Policy,
        T,
    );
}

#[test]
fn server_side_and_protocol() {
    check(
        "451 4.3.0 Error: queue file write error",
        S::DataEnd,
        C::ServerError,
        T,
    );
    check(
        "452 4.3.1 Insufficient system storage",
        S::MailFrom,
        C::ServerError,
        T,
    );
    check(
        "451 Temporary local problem - please try later",
        S::RcptTo,
        C::ServerError,
        T,
    );
    check(
        "451 qq temporary problem (#4.3.0)",
        S::DataEnd,
        C::ServerError,
        T,
    );
    check(
        "451 Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451",
        S::RcptTo,
        C::ServerError,
        T,
    );
    check(
        "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714)",
        S::DataEnd,
        C::RateLimited,
        T,
    );
    // Microsoft's 4.7.500-4.7.699 range is throttling of our IP: the destination waits.
    let v = check(
        "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714)",
        S::RcptTo,
        C::RateLimited,
        T,
    );
    assert_eq!(v.scope, Scope::Destination);
    let v = check(
        "421 4.3.2 Service shutting down",
        S::RcptTo,
        C::ServiceUnavailable,
        T,
    );
    assert_eq!(v.scope, Scope::Connection);
    check(
        "451 4.7.1 Sorry, the service is currently unavailable. Please come back later.",
        S::RcptTo,
        C::ServiceUnavailable,
        T,
    );
    check(
        "502 5.5.2 Error: command not recognized",
        S::Rset,
        C::Protocol,
        P,
    );
    check(
        "503 5.5.1 Error: need RCPT command",
        S::Data,
        C::Protocol,
        P,
    );
    check(
        "501 5.5.4 Syntax: MAIL FROM:<address>",
        S::MailFrom,
        C::Protocol,
        P,
    );
}

#[test]
fn stage_rules() {
    // RFC 5321 §3.2: a 5xx to EHLO means "try HELO", not a bounce.
    let v = check(
        "502 5.5.2 Error: command not recognized",
        S::Ehlo,
        C::Protocol,
        T,
    );
    assert_eq!(v.rule, "rfc5321.ehlo_5xx_fallback_helo");
    assert_eq!(v.scope, Scope::Connection);
    check("500 Command unrecognized: EHLO", S::Ehlo, C::Protocol, T);
    // … and after HELO the same reply is a permanent protocol failure.
    check(
        "502 5.5.2 Error: command not recognized",
        S::Helo,
        C::Protocol,
        P,
    );
    // A 554 greeting refuses the connection.
    let v = check(
        "554 mx.example.com ESMTP not accepting messages",
        S::Greeting,
        C::Policy,
        P,
    );
    assert_eq!(v.scope, Scope::Destination);
    assert_eq!(v.rule, "rfc5321.greeting_5xx");
    // A 421 anywhere ends the session.
    for stage in [S::Greeting, S::MailFrom, S::RcptTo, S::DataEnd] {
        let v = check(
            "421 Service not available, closing transmission channel",
            stage,
            C::ServiceUnavailable,
            T,
        );
        assert_eq!(v.scope, Scope::Connection);
    }
    let v = check("421 4.2.2 Mailbox full", S::RcptTo, C::MailboxFull, T);
    assert_eq!(
        v.scope,
        Scope::Connection,
        "a 421 closes the channel whatever it says"
    );
}

#[test]
fn success_and_fallback() {
    let v = c().classify(&reply("250 2.1.5 Ok"), S::RcptTo);
    assert_eq!((v.disposition, v.category), (OK, None));
    assert!(!v.low_confidence);
    let v = c().classify(&reply("354 End data with <CR><LF>.<CR><LF>"), S::Data);
    assert_eq!(v.disposition, OK);
    let v = c().classify_text("smtp; 250 2.0.0 Ok: queued as 12345", S::DataEnd);
    assert_eq!(v.disposition, OK);
    // An exit status in a bounce is not a 2xx reply.
    let v = c().classify_text("X-Unix; 255", S::Unknown);
    assert_ne!(v.disposition, OK);
    // Nothing recognisable: decided by the code, flagged.
    let v = c().classify(&reply("550 Kthxbye"), S::DataEnd);
    assert_eq!((v.disposition, v.category), (P, Some(C::Other)));
    assert!(v.low_confidence);
    assert_eq!(v.rule, "fallback.code_only");
    assert_eq!(v.scope, Scope::Message);
    let v = c().classify(&reply("459 Kthxbye"), S::RcptTo);
    assert_eq!((v.disposition, v.scope), (T, Scope::Recipient));
    assert!(v.low_confidence);
    // No code and no known wording: transient, never a bounce on a guess.
    let v = c().classify_text("something went wrong somewhere", S::Unknown);
    assert_eq!((v.disposition, v.category), (T, Some(C::Other)));
    assert!(v.low_confidence);
    assert_eq!(v.rule, "fallback.unrecognised_text");
}

#[test]
fn text_path_finds_reply_and_stage() {
    let c = c();
    let v = c.classify_text(
        "host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)",
        S::Unknown,
    );
    assert_eq!(
        (v.category, v.disposition, v.scope),
        (Some(C::UserUnknown), P, Scope::Recipient)
    );
    // The stage the bounce names makes a bare 552 "too many recipients".
    let v = c.classify_text(
        "host mx.example.com[192.0.2.1] said: 552 Requested action aborted (in reply to RCPT TO command)",
        S::Unknown,
    );
    assert_eq!(v.category, Some(C::TooManyRecipients));
    let v = c.classify_text(
        "smtp; 550-5.1.1 The email account that you tried to reach does not exist.",
        S::Unknown,
    );
    assert_eq!(v.category, Some(C::UserUnknown));
}

#[test]
fn enhanced_code_without_basic_code() {
    let c = c();
    let v = c.classify_text("X-Postfix; 5.1.1 mailbox lookup failed", S::Unknown);
    assert_eq!((v.category, v.disposition), (Some(C::UserUnknown), P));
    let v = c.classify_text("Status: 4.2.2", S::Unknown);
    assert_eq!((v.category, v.disposition), (Some(C::MailboxFull), T));
}

#[test]
fn retry_after_hints() {
    let c = c();
    let cases = [
        ("451 4.7.1 Greylisted, try again in 5 minutes", 300),
        ("450 4.7.1 Rate limited, retry after 300 seconds", 300),
        (
            "421 4.7.0 Too many connections, try again in 900 seconds",
            900,
        ),
        ("451 Please retry in 1 hour", 3600),
        ("421 Try again in 0 seconds", 1),
        ("421 Rate limited: retry after 30 days", 86_400),
    ];
    for (wire, secs) in cases {
        let v = c.classify(&reply(wire), S::RcptTo);
        assert_eq!(v.retry_after, Some(Duration::from_secs(secs)), "{wire}");
    }
    let v = c.classify(&reply("451 4.7.1 Please try again later"), S::RcptTo);
    assert_eq!(v.retry_after, None);
}

#[test]
fn transport_failures() {
    let c = c();
    let cases = [
        (
            TransportFailure::ConnectionRefused,
            C::Network,
            T,
            Scope::Destination,
        ),
        (
            TransportFailure::ConnectTimeout,
            C::Network,
            T,
            Scope::Destination,
        ),
        (
            TransportFailure::ConnectionReset,
            C::Network,
            T,
            Scope::Connection,
        ),
        (
            TransportFailure::ReadTimeout,
            C::Network,
            T,
            Scope::Connection,
        ),
        (
            TransportFailure::UnexpectedClose,
            C::Network,
            T,
            Scope::Connection,
        ),
        (
            TransportFailure::DnsNxDomain,
            C::DomainNotFound,
            P,
            Scope::Destination,
        ),
        (
            TransportFailure::DnsNoAddress,
            C::DomainNotFound,
            P,
            Scope::Destination,
        ),
        (
            TransportFailure::NullMx,
            C::NoMailService,
            P,
            Scope::Destination,
        ),
        (
            TransportFailure::DnsTemporary,
            C::Dns,
            T,
            Scope::Destination,
        ),
        (
            TransportFailure::TlsHandshake,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        (
            TransportFailure::TlsCertificate,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        (
            TransportFailure::ProtocolViolation,
            C::Protocol,
            T,
            Scope::Connection,
        ),
    ];
    for (f, cat, disp, scope) in cases {
        let v = c.classify_failure(f, S::RcptTo);
        assert_eq!(
            (v.category, v.disposition, v.scope),
            (Some(cat), disp, scope),
            "{f:?}"
        );
        assert!(v.rule.starts_with("transport."));
        assert!(!v.low_confidence);
    }
    let v = c.classify_failure(TransportFailure::UnexpectedClose, S::RcptTo);
    assert!(v.description.contains("§3.8"));
    let v = c.classify_failure(TransportFailure::ReadTimeout, S::DataEnd);
    assert_eq!((v.category, v.disposition), (Some(C::Network), T));
    assert_eq!(v.rule, "transport.lost_after_data");
}

#[test]
fn every_category_is_reachable_from_real_text() {
    // Each category (but `other`) is produced by at least one built-in rule on a real reply
    // above; this keeps the taxonomy and the rules in step.
    let c = c();
    let samples: &[(&str, Stage)] = &[
        ("450 4.2.0 Greylisted", S::RcptTo),
        ("421 4.7.28 unusual rate", S::DataEnd),
        ("421 Too many concurrent SMTP connections", S::Greeting),
        ("452 4.5.3 Too many recipients", S::RcptTo),
        ("552 5.2.2 Mailbox full", S::RcptTo),
        ("550 5.1.1 User unknown", S::RcptTo),
        ("550 5.2.1 Mailbox disabled", S::RcptTo),
        ("550 5.1.2 Host unknown", S::RcptTo),
        ("556 5.1.10 null MX", S::RcptTo),
        ("554 5.7.1 Relay access denied", S::RcptTo),
        ("530 5.7.0 Authentication required", S::MailFrom),
        ("535 5.7.8 Authentication credentials invalid", S::Auth),
        ("530 5.7.0 Must issue a STARTTLS command first", S::MailFrom),
        ("454 4.7.0 TLS handshake failed", S::Starttls),
        ("552 5.3.4 Message too big", S::DataEnd),
        ("550 5.7.1 Spam detected", S::DataEnd),
        ("554 5.7.1 Virus found", S::DataEnd),
        ("554 5.7.1 blocked using zen.spamhaus.org", S::RcptTo),
        ("550 5.7.1 low reputation", S::DataEnd),
        ("550 5.7.26 DMARC failure", S::DataEnd),
        ("553 5.1.8 Sender address rejected", S::MailFrom),
        ("550 5.7.1 Denied by policy", S::RcptTo),
        ("550 5.6.0 Duplicate header", S::DataEnd),
        ("500 5.5.1 Command unrecognized", S::Rset),
        ("421 4.3.2 Service shutting down", S::RcptTo),
        ("451 4.3.0 Local error in processing", S::DataEnd),
        ("421 4.4.2 Connection timed out", S::DataEnd),
        ("451 4.4.3 Directory server failure", S::RcptTo),
    ];
    let mut seen: Vec<Category> = samples
        .iter()
        .filter_map(|(w, s)| c.classify(&reply(w), *s).category)
        .collect();
    seen.sort();
    seen.dedup();
    let missing: Vec<&str> = Category::ALL
        .iter()
        .filter(|k| **k != C::Other && !seen.contains(k))
        .map(|k| k.name())
        .collect();
    assert!(missing.is_empty(), "categories never produced: {missing:?}");
}

/// A relay's verdict on one recipient's domain, or a lookup or network failure it
/// reports for one recipient, holds that recipient, not the whole destination; the
/// same cause in a sending MTA's own bounce text, or at the greeting, is the
/// destination's.
#[test]
fn rcpt_time_domain_and_network_verdicts_hold_the_recipient() {
    let v = check(
        "550 5.1.2 <user@example.org>: Recipient address rejected: Domain not found",
        S::RcptTo,
        C::DomainNotFound,
        P,
    );
    assert_eq!(v.scope, Scope::Recipient);
    let v = check(
        "451 4.4.1 <user@example.org>: Recipient address rejected: unverified address: connect to mx.example.org[192.0.2.1]:25: Connection timed out",
        S::RcptTo,
        C::Network,
        T,
    );
    assert_eq!(v.scope, Scope::Recipient);
    let v = check(
        "521 5.3.2 mx.example.org does not accept mail",
        S::Greeting,
        C::NoMailService,
        P,
    );
    assert_eq!(v.scope, Scope::Destination);
    let v = check_text(
        "Host or domain name not found. Name service error for name=example.org type=MX: Host not found",
        C::DomainNotFound,
        P,
    );
    assert_eq!(v.scope, Scope::Destination);
}

/// Words that many replies carry whatever their cause ("invalid command", "service
/// unavailable") lose to the words that name the cause, even when the enhanced code
/// agrees with the generic words.
#[test]
fn specific_wording_beats_generic_wording_and_its_code() {
    let v = check(
        "530 5.5.1 Invalid command: Must issue a STARTTLS command first",
        S::MailFrom,
        C::TlsRequired,
        P,
    );
    assert_eq!(v.rule, "text.tls_required");
    check(
        "530 5.5.1 Invalid command: Must issue an AUTH command first",
        S::MailFrom,
        C::AuthRequired,
        P,
    );
    // Generic words alone still decide.
    check("500 5.5.1 Invalid command", S::MailFrom, C::Protocol, P);
}

/// Wording found on providers' pages that the rules once missed: an allow-list, a
/// suspicious link, repeated failed logins, a size limit worded "larger than", bare
/// line feeds, a sender blocked by the recipient, an IP suspended for abuse, a local
/// denylist behind a generic first phrase.
#[test]
fn broader_vocabulary() {
    let cases = [
        (
            "550 5.7.1 Recipient address rejected: This mailbox is only accepting mail from authorised senders",
            S::RcptTo,
            C::Policy,
            P,
        ),
        (
            "554 5.7.1 Message blocked due to suspicious link",
            S::DataEnd,
            C::SpamContent,
            P,
        ),
        (
            "421 4.7.1 Rejecting connection from 192.0.2.10: too many failed authentication attempts",
            S::Unknown,
            C::AuthFailed,
            T,
        ),
        (
            "552 5.2.2 This message is larger than the current system limit",
            S::DataEnd,
            C::MessageTooBig,
            P,
        ),
        (
            "550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds",
            S::DataEnd,
            C::ContentFormat,
            P,
        ),
        (
            "550 5.7.1 This sender has been blocked by the recipient",
            S::RcptTo,
            C::SenderRejected,
            P,
        ),
        (
            "421 4.7.0 Connection refused, IP temporarily suspended due to abuse",
            S::Greeting,
            C::Reputation,
            T,
        ),
        (
            "554 5.7.1 Service unavailable; Client host [192.0.2.10] is on our local denylist",
            S::RcptTo,
            C::Blocklisted,
            P,
        ),
        (
            "550 5.7.1 Message contains a file type that is not permitted",
            S::DataEnd,
            C::VirusContent,
            P,
        ),
        (
            "550 5.7.0 Your message could not be delivered because the recipient has been inactive for a long time",
            S::RcptTo,
            C::MailboxDisabled,
            P,
        ),
        (
            "421 4.7.0 Temporary System Problem. Try again later (10)",
            S::Unknown,
            C::ServerError,
            T,
        ),
        (
            "421 4.7.66 TLS 1.0 and 1.1 are not supported",
            S::Unknown,
            C::TlsFailed,
            T,
        ),
        (
            "421 4.7.1 Connection rejected: rate of connections from your IP exceeds our limit",
            S::Greeting,
            C::RateLimited,
            T,
        ),
        (
            "550 5.7.1 Your IP address has been blocked due to suspicious activity",
            S::Greeting,
            C::Blocklisted,
            P,
        ),
        (
            "550 5.7.1 Messages from this sender are blocked due to excessive complaints",
            S::MailFrom,
            C::Reputation,
            P,
        ),
        (
            "550 5.7.1 Recipient address rejected: Your sending IP is temporarily blocked due to excessive messages",
            S::RcptTo,
            C::RateLimited,
            P,
        ),
        (
            "450 4.4.317 Cannot connect to remote server",
            S::Unknown,
            C::Network,
            T,
        ),
        (
            "451 Unable to contact LDAP server. (#4.4.3)",
            S::RcptTo,
            C::ServerError,
            T,
        ),
        (
            "501 <a@example.org>... no access from mail server [192.0.2.55] which is an open relay",
            S::MailFrom,
            C::Blocklisted,
            P,
        ),
    ];
    for (wire, stage, cat, disp) in cases {
        check(wire, stage, cat, disp);
    }
}

/// Mailbox providers outside the English-speaking world answer in their language.
#[test]
fn non_english_mailbox_wording() {
    for (wire, cat, disp) in [
        (
            "550 5.1.1 <a@example.de>: Benutzer unbekannt",
            C::UserUnknown,
            P,
        ),
        ("550 Empfänger unbekannt", C::UserUnknown, P),
        ("550 Пользователь не найден", C::UserUnknown, P),
        ("550 5.1.1 Neznámý uživatel", C::UserUnknown, P),
        ("452 4.2.2 Skrzynka pełna", C::MailboxFull, T),
        ("452 Почтовый ящик переполнен", C::MailboxFull, T),
        ("552 Casella piena", C::MailboxFull, P),
    ] {
        check(wire, S::RcptTo, cat, disp);
    }
}

/// The second round of issue 14: frames whose cause follows them, spam wording about us
/// rather than the message, sending quotas, failed scanners, and what a `421` keeps.
/// Replies written from providers' and servers' documentation, no corpus row in view.
#[test]
fn second_round_frames_and_sources() {
    // (reply, stage, category, disposition, scope)
    let cases = [
        // Postfix's frame with a cause nobody names a user by: a restriction.
        (
            "450 4.7.1 <a@example.org>: Recipient address rejected: office closed",
            S::RcptTo,
            C::Policy,
            T,
            Scope::Recipient,
        ),
        // ... but a bare "Recipient address rejected." is still an unknown user.
        (
            "550 Recipient address rejected.",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        // A sending quota is a rate, not a full mailbox.
        (
            "550 5.4.7 <a@example.org>: Recipient address rejected: Domain Hourly Quota Exceeded",
            S::RcptTo,
            C::RateLimited,
            P,
            Scope::Destination,
        ),
        // Our address on someone's list is the sender's refusal, not a DNSBL listing.
        (
            "550 5.7.1 Recipient address rejected: Sender is on the recipient's blocklist",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // Spam wording about us as a source is our reputation.
        (
            "550 5.7.1 example.org has been sending mostly spam",
            S::MailFrom,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "554 5.7.1 Spam IP rejected",
            S::Greeting,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // A 5xx greeting that says blocked: our IP.
        (
            "550 IP 192.0.2.10 is blocked",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        // The receiver's own scanner failing is its trouble, not a virus.
        (
            "451 4.3.0 Problem running virus-scanner",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // A 421 whose cause is this message keeps the message's scope.
        (
            "421 4.7.0 This message is suspicious due to the nature of the content",
            S::DataEnd,
            C::SpamContent,
            T,
            Scope::Message,
        ),
        // ... while a server-side failure answered with a 421 is the connection's.
        (
            "421 4.3.0 Temporary system problem",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Connection,
        ),
        // A refusal naming our IP and nothing else holds the destination. Its cause is
        // a near tie: the fourth round read it as our IP's standing (every labelled such
        // row then said so), but later sets label most bare refusals of an IP as the
        // receiver's policy ("mail from this IP address is refused", "your IP is
        // temporarily denied"); the model retrained on them in the thirteenth round broke
        // this tie that way, and since a curated case is decided by a rule, an IP "not
        // allowed to send" is now a phrase of the receiver's policy about our host. What
        // waits is the same: the destination.
        (
            "550 5.7.1 Sorry, your IP is not allowed to send mail to this server",
            S::MailFrom,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // A rate of new connections is paced, not a concurrency limit.
        (
            "421 4.7.0 connection rate limit exceeded",
            S::Greeting,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        // At EHLO, DNS wording is a check of our host name: the 5xx stands.
        (
            "550 HELO hostname does not exist",
            S::Ehlo,
            C::Dns,
            P,
            Scope::Destination,
        ),
    ];
    check_scoped(&cases);
}

/// The third round of issue 14: what a sequence error at RCPT holds, codes about
/// mailboxes outside a transaction, LMTP hosts, and wording in more languages. Replies
/// written from RFCs and documentation, no corpus row in view.
#[test]
fn third_round_sequence_lmtp_and_languages() {
    // (reply, stage, category, disposition, scope)
    let cases = [
        // RCPT before MAIL is the transaction's fault: the message waits, not the
        // recipient.
        (
            "503 5.5.1 Error: need MAIL command",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Message,
        ),
        // ... while a malformed recipient argument is that recipient's (a syntax
        // error, not an unknown user: X.1.3).
        (
            "501 5.1.3 Bad recipient address syntax",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Recipient,
        ),
        // A mailbox code at the greeting names no mailbox: the 421 decides.
        (
            "421 4.2.1 Connection deferred",
            S::Greeting,
            C::ServiceUnavailable,
            T,
            Scope::Connection,
        ),
        // An LMTP host answers EHLO asking for LHLO: HELO will not help.
        (
            "500 5.5.1 Use LHLO, this is an LMTP server",
            S::Ehlo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        (
            "500 5.5.1 Use LHLO, this is an LMTP server",
            S::Helo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        // ... while a plain 502 to EHLO still falls back to HELO.
        (
            "502 5.5.2 Error: command not recognized",
            S::Ehlo,
            C::Protocol,
            T,
            Scope::Connection,
        ),
        (
            "554 5.7.1 Your server has been blackholed",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        (
            "451 4.7.1 Hourly message quota exceeded for your account",
            S::MailFrom,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "554 5.7.1 Su IP esta en una lista negra",
            S::RcptTo,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        (
            "554 Ваш IP в черном списке",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        (
            "451 4.7.1 Zu viele Nachrichten, bitte später erneut versuchen",
            S::MailFrom,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "550 Ящик заблокирован",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
    ];
    check_scoped(&cases);
}

/// The fourth round's rules (tuning rows of the retired `fresh4/` set, RFC 3463 and
/// RFC 4954): each case fails if its rule is taken out.
#[test]
fn fourth_round_attachments_auth_syntax_and_stage_scope() {
    let cases = [
        // A blocklisted attachment is the content, not our IP.
        (
            "550 5.7.1 Attached file extension is blacklisted: .scr",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Message rejected: unsafe attachments",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        // A listing as an open relay is a blocklisting of our host, not relaying denied.
        (
            "554 5.7.1 Your host is listed as possible open relay",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        // RFC 4954: an unknown mechanism is our AUTH's fault; an insecure one needs TLS.
        (
            "504 5.5.4 Unrecognized authentication type",
            S::Auth,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        (
            "538 5.7.11 Insecure authentication mechanism requires SSL",
            S::Auth,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "550 5.1.1 <u@example.org>: Recipient address rejected: nonexistent user",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        // X.1.3 and malformed-address wording: a syntax error in our RCPT argument.
        (
            "501 5.1.3 Malformed destination address",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Recipient,
        ),
        (
            "451 4.1.8 Temporary failure in sender address verification",
            S::MailFrom,
            C::SenderRejected,
            T,
            Scope::Message,
        ),
        (
            "550 5.7.1 Domain must resolve",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // A refusal naming our IP with no other cause: our IP's standing.
        (
            "550 Sorry, no access for this ip",
            S::MailFrom,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // A policy refusal before any transaction can only be of us.
        (
            "553 sorry, your HELO host name has been denied",
            S::Ehlo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // A receiving-side error after the data holds this message, not the host.
        (
            "451 4.3.0 Error queuing message",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "554 5.3.0 Cannot allocate memory",
            S::DataEnd,
            C::ServerError,
            P,
            Scope::Message,
        ),
        (
            "421 Server temporarily unavailable",
            S::Greeting,
            C::ServiceUnavailable,
            T,
            Scope::Connection,
        ),
        (
            "450 4.2.1 You sent to many mails in the last 10 minutes",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "552 Mailbox of user@example.org does not have enough space",
            S::RcptTo,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
        (
            "511 sorry, can't find a valid MX for rcpt domain (#5.1.1)",
            S::RcptTo,
            C::DomainNotFound,
            P,
            Scope::Recipient,
        ),
        (
            "553 5.7.1 Please use POP before SMTP",
            S::RcptTo,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "503 5.5.1 No recipients",
            S::Data,
            C::Protocol,
            P,
            Scope::Message,
        ),
        (
            "454 4.7.0 TLS unavailable on this server",
            S::Starttls,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        (
            "530 5.7.0 You must use encryption to send mail here",
            S::MailFrom,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "451 4.4.0 Unable to connect to DNS servers, try again later",
            S::RcptTo,
            C::Dns,
            T,
            Scope::Recipient,
        ),
        // The receiver answered: what timed out is its own work, not our connection.
        (
            "451 4.4.5 Queue write timed out",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "554 5.6.0 Could not parse mail data",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "421 4.3.2 Server closing connection",
            S::MailFrom,
            C::ServiceUnavailable,
            T,
            Scope::Connection,
        ),
    ];
    check_scoped(&cases);
}

/// The fifth round's rules (tuning rows of the retired `fresh5/` set): sending limits
/// and relays' wording, blocklist lookups that failed, HELO checks, qmail's lists.
#[test]
fn fifth_round_limits_relays_and_lookups() {
    let cases = [
        (
            "452 4.4.5 Limit of 20 messages per second exceeded",
            S::MailFrom,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "550 5.7.1 Your daily mail limit has been reached",
            S::MailFrom,
            C::RateLimited,
            P,
            Scope::Destination,
        ),
        (
            "421 Connection from your IP dropped by rate control",
            S::Greeting,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        // A relay refuses a sender domain its account has not verified.
        (
            "550 5.7.1 Sender domain not verified for this account",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "554 sorry, please use APOP authentication first",
            S::RcptTo,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "530 5.7.0 This recipient requires encrypted transmission",
            S::RcptTo,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        // Since the seventh round a server counting our errors holds the destination
        // (the session's fault, whatever stage it ends at), not just this connection.
        (
            "503 5.5.0 Too many bad commands, goodbye",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        // Closing the connection is not by itself the service being unavailable.
        (
            "500 5.5.1 Too many errors, closing connection",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        // qmail's badrcptto: a local refusal of this address, whatever X.1.1 says.
        (
            "553 5.7.1 Sorry, that recipient is in my badrcptto list",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        // A forged or spoofed HELO is the receiver's own HELO rule (a policy about our
        // host since the eleventh round), not the message's authentication.
        (
            "554 5.7.1 Forged HELO: you are not me",
            S::Ehlo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // A blocklist the receiver could not query is not a listing of our IP; its resolver
        // fails for all our mail, so the destination waits.
        (
            "451 4.7.1 RBL lookup failed, try again later",
            S::RcptTo,
            C::Dns,
            T,
            Scope::Destination,
        ),
        (
            "451 4.3.0 Temporary DNS error on bl.spamcop.net",
            S::Greeting,
            C::Dns,
            T,
            Scope::Destination,
        ),
        (
            "452 4.5.3 Limit of recipients per message reached",
            S::RcptTo,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
        (
            "552 5.2.2 Message would exceed maximum mailbox size",
            S::DataEnd,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
        (
            "501 5.1.3 Address format error",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Recipient,
        ),
        (
            "451 4.3.0 Internal service error",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "554 5.6.0 Malformed mail headers",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "421 4.3.0 Too many sessions: the number of sessions exceeds the maximum",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "450 4.7.1 Failed PTR lookup for 192.0.2.10",
            S::RcptTo,
            C::Reputation,
            T,
            Scope::Destination,
        ),
    ];
    check_scoped(&cases);
}

/// The sixth round (written from `fresh6/`'s misses once it joined the tuning files):
/// AUTH lock-outs, a 4xx "mailbox unavailable", a missing HELO, macros and suspicious
/// archives, and "service unavailable" without a 421 held by its stage.
#[test]
fn sixth_round_lockouts_busy_mailboxes_and_sequence() {
    let cases = [
        // A lock-out after failed logins names our IP, but it is our credentials.
        (
            "421 4.7.0 Too many failed login attempts from your IP, try later",
            S::Auth,
            C::AuthFailed,
            T,
            Scope::Connection,
        ),
        // 535 only ever answers AUTH: a locked account is ours, not a recipient's.
        (
            "535 5.7.8 Your account has been suspended",
            S::Auth,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        // RFC 5321's text for 450 is not an unknown user.
        (
            "450 4.2.1 Requested action not taken: mailbox temporarily unavailable",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
        (
            "450 Mailbox unavailable, try again",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // ...while a 5xx one still is.
        (
            "550 Requested action not taken: mailbox unavailable",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        // No HELO yet at MAIL FROM is a sequence fault, scoped like the transaction's other
        // sequence faults (the message's; round 26 moved it from the session's).
        (
            "503 5.5.1 Send EHLO first, please",
            S::MailFrom,
            C::Protocol,
            P,
            Scope::Message,
        ),
        (
            "503 5.5.1 TLS already negotiated on this session",
            S::Starttls,
            C::Protocol,
            P,
            Scope::Connection,
        ),
        (
            "550 5.7.1 Document contains macros, rejected",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 Suspicious attachment refused",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Rejected: known spam host",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "451 Could not store the message, retry",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // "Service unavailable" without a 421 keeps the session: its stage holds.
        (
            "451 4.3.0 Service unavailable, try again later",
            S::RcptTo,
            C::ServiceUnavailable,
            T,
            Scope::Recipient,
        ),
        (
            "451 4.3.0 Service unavailable, try again later",
            S::DataEnd,
            C::ServiceUnavailable,
            T,
            Scope::Message,
        ),
        // A 421 still closes the session.
        (
            "421 4.3.0 Service unavailable, closing channel",
            S::DataEnd,
            C::ServiceUnavailable,
            T,
            Scope::Connection,
        ),
        (
            "554 5.7.1 rejected: inactive user",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
    ];
    check_scoped(&cases);
}

/// The seventh round's rules (written from `fresh7/`'s misses once it was retired),
/// each with wording of our own.
#[test]
fn seventh_round_failed_checks_tls_and_greylisting_that_closes() {
    let cases = [
        // The receiver's own check failed to run: its trouble, not the check's verdict.
        (
            "451 4.7.1 Temporary failure of the spam check, error checking content",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "451 4.3.0 Error checking sender rate limit, try later",
            S::MailFrom,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // ...while a permanent verdict of the same check stays the verdict.
        (
            "550 5.7.1 Spam check failed: message looks like spam",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "454 4.7.0 SSL certificate error, cannot continue",
            S::Starttls,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        (
            "530 5.7.0 Login requires a secure connection",
            S::Auth,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        // A greylisting that closes the session still holds only the recipient.
        (
            "421 4.7.0 You are greylisted, come back in 5 minutes",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        // A 421 that is not about one recipient still holds the connection.
        (
            "421 4.3.2 System shutting down",
            S::RcptTo,
            C::ServiceUnavailable,
            T,
            Scope::Connection,
        ),
        (
            "553 5.7.1 We take no mail from an open relay such as 192.0.2.10",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "553 5.7.1 Your machine does not have a hostname",
            S::MailFrom,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "551 5.1.6 User not local; please try another path",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Delivery refused: the sender's policy prohibits this message",
            S::DataEnd,
            C::SenderAuthentication,
            P,
            Scope::Message,
        ),
        (
            "553 sorry, that address is not in my validrcptto list (#5.1.1)",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        (
            "554 5.5.0 Too many errors; transaction failed",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        (
            "500 5.5.2 Command line size exceeds the limit",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Connection,
        ),
        (
            "451 4.3.0 A technical problem on our end, please try again",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
        (
            "421 4.4.3 Cannot serve you: could not resolve your hostname",
            S::Greeting,
            C::Dns,
            T,
            Scope::Destination,
        ),
        (
            "553 5.7.1 Bounces must have a single envelope recipient",
            S::RcptTo,
            C::TooManyRecipients,
            P,
            Scope::Message,
        ),
    ];
    check_scoped(&cases);
    // RFC 5321's stock text alone says no more than the code: the rules' reading of
    // the code at its stage stands, and the model is not consulted.
    let v = c().classify(&reply("452 Requested mail action not taken"), S::RcptTo);
    assert_eq!(v.category, Some(C::TooManyRecipients));
    assert!(!v.low_confidence);
}

/// Issue 14, eighth round: wording found missing by paraphrase probes and the retired
/// `fresh8/` set, with its neighbours that must keep their reading.
#[test]
fn eighth_round_capacity_complaints_groups_and_a_data_reply_after_every_rcpt_failed() {
    let cases = [
        (
            "552 5.2.2 Mailbox has reached its size limit",
            S::RcptTo,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
        // ...while a message over the size limit stays too big.
        (
            "552 5.3.4 Message exceeds the size limit",
            S::DataEnd,
            C::MessageTooBig,
            P,
            Scope::Message,
        ),
        (
            "550 This address is no longer in service",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "421 4.7.0 Your IP has been temporarily suspended due to complaints",
            S::MailFrom,
            C::Reputation,
            T,
            Scope::Destination,
        ),
        (
            "421 4.7.0 Connection count limit for your host reached",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        // ...while a limit per connection on something else is about that thing.
        (
            "452 4.5.3 Per-connection limit of 100 recipients reached",
            S::RcptTo,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
        (
            "451 4.7.1 Sending rate limit exceeded (connection limit policy)",
            S::MailFrom,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "550 5.7.1 The message was identified as bulk email",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        // Microsoft 365: a group or mailbox open to authenticated senders only; no AUTH
        // of ours changes that, and only this recipient is refused.
        (
            "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        (
            "503 5.5.1 Bad sequence of commands: expecting EHLO",
            S::MailFrom,
            C::Protocol,
            P,
            Scope::Message,
        ),
        (
            "550-Your domain example.com is not allowed in\r\n550 header From",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
    ];
    check_scoped(&cases);
    // Exim's reply to DATA once every RCPT failed is about the transaction; the
    // recipients' own errors came at RCPT.
    let v = c().classify(
        &reply("503-All RCPT commands were rejected with this error:\r\n503-550 No such user here\r\n503 Valid RCPT command must precede DATA"),
        S::Data,
    );
    assert_eq!((v.category, v.scope), (Some(C::Protocol), Scope::Message));
    assert_eq!(v.rule, "exim.all_rcpt_rejected");
}

#[test]
fn fifteenth_round_words_from_the_retired_fresh15() {
    let cases = [
        // A recipient check that could not finish is the receiver's trouble, not a network
        // failure of ours nor greylisting, however it asks us to come back.
        (
            "452 4.4.3 Recipient verification timed out, try again later",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
        (
            "450 4.7.1 Cannot verify recipient now, please retry",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
        // A connection cap outranks the generic words of the 421 that closes.
        (
            "421 mx.example.org Maximum connections exceeded, try later",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "550 5.7.1 Only authenticated users may send from this port",
            S::RcptTo,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "550 Unknown host or domain: example.net",
            S::RcptTo,
            C::DomainNotFound,
            P,
            Scope::Recipient,
        ),
        // The receiver's resolver timing out is DNS, not a network failure of ours; our
        // address not resolving is our reverse DNS.
        (
            "451 4.4.3 Nameserver timeout while looking up example.com",
            S::MailFrom,
            C::Dns,
            T,
            Scope::Message,
        ),
        (
            "421 mx.example.org cannot resolve your address 192.0.2.7",
            S::Greeting,
            C::Reputation,
            T,
            Scope::Destination,
        ),
        (
            "530 5.7.0 PLAIN not available without TLS",
            S::Unknown,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "550 Mail body error, rejected",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "554 Incorrect CRLF in the message text",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        // ...while a command line not ended by CRLF stays a protocol error (a guard: the
        // round first had "crlf sequence", which took this reply for the content).
        (
            "500 Bad input, Lines must be terminated by CRLF sequence",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Connection,
        ),
        (
            "551 5.7.1 We don't accept mail for example.net",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // ...but not for one user: the longer phrase of the unknown-user rule wins.
        (
            "550 We don't accept mail for this user",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        (
            "553 Address rejected: missing domain part",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Recipient,
        ),
        // "To request removal" is a block list's word, even without the list's name.
        (
            "550 5.7.1 Rejected. Visit https://example.net/lookup to request removal",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        (
            "550 <user@example.org>... Can't create output",
            S::RcptTo,
            C::ServerError,
            P,
            Scope::Recipient,
        ),
    ];
    check_scoped(&cases);
}

#[test]
fn sixteenth_round_words_from_the_retired_fresh16() {
    let cases = [
        // An allow-list of connecting hosts refuses our client: every message to that
        // host waits alike, so the destination holds, not one message.
        (
            "550 5.7.1 Client not authorized",
            S::MailFrom,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "550 Your IP is not allowed",
            S::MailFrom,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // ...but a client not authorized to relay is a relay refusal for that recipient.
        (
            "554 5.7.1 Client not authorized to relay",
            S::Unknown,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "521 IP is not allowed",
            S::DataEnd,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // A relay that takes one To address per message is a recipient count.
        (
            "450 Cannot send a message with multiple To addresses",
            S::DataEnd,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
        // An empty message is its format, whatever the enhanced code says of size.
        (
            "552 5.3.4 message is empty",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "451 Failed to parse message",
            S::DataEnd,
            C::ContentFormat,
            T,
            Scope::Message,
        ),
        (
            "550 5.7.1 Recipient domain not allowed: example.net",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 Both you and the recipient are unknown to me. I will not relay.",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // A relay's own login to the service behind it failing is its trouble, not our
        // AUTH, at any stage: the rule with the longer phrase is declared before the AUTH
        // rule, whose "authentication failure" it contains, and their weights are equal.
        (
            "451 4.4.0 Upstream authentication failure, try later",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "451 4.7.0 Upstream authentication failure",
            S::Unknown,
            C::ServerError,
            T,
            Scope::Destination,
        ),
        (
            "454 Upstream auth failed",
            S::MailFrom,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // ...while our own AUTH locked out for a while stays our authentication, not a
        // verdict on our reputation.
        (
            "454 4.7.0 Authentication temporarily blocked, retry in 600 seconds",
            S::Auth,
            C::AuthFailed,
            T,
            Scope::Connection,
        ),
        (
            "450 Could not find account for user@example.org",
            S::DataEnd,
            C::UserUnknown,
            T,
            Scope::Recipient,
        ),
    ];
    check_scoped(&cases);
}

#[test]
fn seventeenth_round_words_from_the_retired_fresh17() {
    let cases = [
        // Postfix's "Helo command rejected" with an admin's own reason and a 5.7.x code
        // is a local rule about our HELO name...
        (
            "554 5.7.1 <localhost>: Helo command rejected: You are not me",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // ...while, even with a 5.7.x code, a reason naming the HELO's syntax or its
        // lookup stays the HELO's syntax or resolution (the HELO-syntax rule ties with the
        // 5.7.x rule and is declared first).
        (
            "550 5.7.1 <localhost>: Helo command rejected: need fully-qualified hostname",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        (
            "550 5.7.1 <mail.example.com>: Helo command rejected: Host not found",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        // Our IP blocked for spam is a block on our IP, not a verdict on this message.
        (
            "550 Your IP was blocked due to spam",
            S::RcptTo,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        // A blacklisted attachment is the message's content, not our IP on a list.
        (
            "552 Message blocked due to blacklisted attachment",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "550 This domain requires a TLS connection",
            S::RcptTo,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "550 Sender unknown",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 This message contains a broken MIME container",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "454 certificate not yet valid",
            S::Unknown,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        // A cap on recipients per connection counts recipients, not connections.
        (
            "452 Recipients per connection limit reached",
            S::RcptTo,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
    ];
    check_scoped(&cases);
    let v = c().classify(
        &reply("554 5.7.1 <localhost>: Helo command rejected: You are not me"),
        S::RcptTo,
    );
    assert_eq!(v.rule, "text.helo_policy_code");
    let v = c().classify(
        &reply("550 This message contains a broken MIME container"),
        S::DataEnd,
    );
    assert_eq!(v.rule, "text.content_format");
}

#[test]
fn eighteenth_round_words_from_the_retired_fresh18() {
    let cases = [
        // Our domain or server named as a spam source is its standing, holding the
        // destination...
        (
            "550 5.7.1 Your domain has been associated with spam",
            S::DataEnd,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "554 5.7.1 We do not accept mail from your server as it appears to be an open relay",
            S::DataEnd,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "550 We do not accept email from your IP",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "550 This server does not accept mail from your IP",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // ...while a message associated with spam is its content, a named cause (SPF) of
        // equal weight wins the tie (declared before), and refusing mail from a domain
        // stays a refusal of our sender.
        (
            "550 Your message has been associated with spam",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "550 We do not accept mail from your IP without a valid SPF record",
            S::RcptTo,
            C::SenderAuthentication,
            P,
            Scope::Message,
        ),
        (
            "550 We do not accept mail from example.com",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
    ];
    check_scoped(&cases);
    // Our MTA's own account of the connection lost while it waited for the greeting is a
    // failed transport (the text names the greeting, so that is the stage it reads).
    let v = c().classify_text(
        "lost connection with mx.example.net[192.0.2.7] while receiving the initial server greeting",
        S::Unknown,
    );
    assert_eq!(v.category, Some(C::Network));
    assert_eq!(v.rule, "text.network_at_greeting");
    assert_eq!(v.disposition, T);
    let v = c().classify_text(
        "conversation with mx.example.net[192.0.2.7] timed out while receiving the initial server greeting",
        S::Unknown,
    );
    assert_eq!(v.category, Some(C::Network));
    assert_eq!(v.rule, "text.network_at_greeting");
}

#[test]
fn twentieth_round_words_from_the_retired_fresh20() {
    let cases = [
        // An allow-list of client IPs is a rule about our host: the destination waits.
        (
            "550 Mail from your IP is not accepted: allowlisted IPs only",
            S::MailFrom,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "503 Relaying is restricted to whitelisted hosts",
            S::Unknown,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // Asked to log in, or told that authentication is required (misspelt).
        (
            "550 Please log in before sending mail",
            S::RcptTo,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "530 Authentication requires before MAIL command",
            S::MailFrom,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "550 Messages not permitted from your IP [192.0.2.10]",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "550 Message headers contain invalid syntax",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "550 Executables are not accepted here",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 Mail sent by spamware rejected",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Only DMARC reports are accepted at this address",
            S::DataEnd,
            C::Policy,
            P,
            Scope::Message,
        ),
        // The sender refused, in several languages, and a sender on a block list.
        (
            "554 5.7.1 Remitente rechazado",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 Адрес отправителя отклонён",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Sender e-mail address is prohibited",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 Sender matched blocklist",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 Your IP in EHLO is not allowed",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
    ];
    check_scoped(&cases);
    // The misspelt phrase decides, not the 530's own meaning.
    let v = c().classify(
        &reply("530 Authentication requires before MAIL command"),
        S::MailFrom,
    );
    assert_eq!(v.rule, "text.auth_required");
    // Words from the older tuning files' misses, found in the same round.
    let older = [
        // Told to use our provider's relay: our host looks like an end user's.
        (
            "550 5.7.1 Use the SMTP relay of your provider",
            S::MailFrom,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // Not authorised to send as this sender: a refusal of our envelope sender.
        (
            "550 You are not authorised to send mail from example.com",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Sender not authorised",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // Bulk and mass mailing, a filter's score, German "Spamschutz".
        (
            "550 5.7.1 No mass mailers, please",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Bulk identified",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        // At RCPT there is no message to score yet (the twenty-third round): a policy
        // service's score there is its own rule on this transaction, not a content
        // verdict. After the data the same words are about the content.
        (
            "554 5.7.1 <user@example.org>: Recipient address rejected: filter score too high",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        (
            "554 5.7.1 filter score too high",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Abgelehnt durch Spamschutz",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
    ];
    check_scoped(&older);
    // Our server called a sender of spam is a verdict on our standing, not on this
    // message's content (the tie the nineteenth round left).
    check_scoped(&[(
        "550 We do not accept mail from your server because it sends spam",
        S::RcptTo,
        C::Reputation,
        P,
        Scope::Destination,
    )]);
    // In our MTA's bounce text, with no RCPT stage, the phrase stays a domain without
    // a route.
    let v = c().classify_text("Unrouteable address", S::Unknown);
    assert_eq!(v.category, Some(C::DomainNotFound), "{}", v.rule);
}

/// A 5xx whose cause passes with time (a rate limit, too many connections) and whose
/// text asks for a later retry is transient; without the request, or with another
/// cause, the first digit stands.
#[test]
fn a_passing_cause_that_asks_for_a_retry_is_transient() {
    let cases = [
        (
            "550 Too many messages, try again in 60 seconds",
            S::RcptTo,
            C::RateLimited,
            T,
        ),
        (
            "554 5.7.1 Rate limit exceeded, please try again later",
            S::DataEnd,
            C::RateLimited,
            T,
        ),
        (
            "554 Too many connections from your host, try again later",
            S::Greeting,
            C::TooManyConnections,
            T,
        ),
        (
            "550 5.7.1 Rate limit exceeded",
            S::DataEnd,
            C::RateLimited,
            P,
        ),
        (
            "550 5.1.1 User unknown, try again later",
            S::RcptTo,
            C::UserUnknown,
            P,
        ), // A duration that says how long a refusal lasts asks for nothing.
        (
            "554 Too many connections, deferred for 30 minutes",
            S::Greeting,
            C::TooManyConnections,
            P,
        ),
    ];
    for (wire, stage, cat, disp) in cases {
        check(wire, stage, cat, disp);
    }
    let v = c().classify(
        &reply("550 Too many messages, try again in 60 seconds"),
        S::RcptTo,
    );
    assert_eq!(v.retry_after, Some(Duration::from_secs(60)));
    let e = c().explain(
        &reply("554 Rate limit exceeded, try again later"),
        S::DataEnd,
    );
    assert_eq!(e.classification.disposition, T);
    assert!(e.reason.contains("asks for a later retry"), "{}", e.reason);
    // A rule that sets the disposition keeps it: a user rule saying a 550 rate limit is
    // final is obeyed.
    let strict = Classifier::builtin()
        .with_rules(vec![
            tempfail::classify::UserRule::new("acme.final_limit", C::RateLimited)
                .words(["rate limit exceeded"])
                .disposition(P),
        ])
        .unwrap();
    let v = strict.classify(
        &reply("550 Rate limit exceeded, try again later"),
        S::RcptTo,
    );
    assert_eq!((v.rule.as_ref(), v.disposition), ("acme.final_limit", P));
}

/// At the greeting a live reply is the server speaking: network wording in it ("you cannot
/// connect", "connection closed") is the server refusing us, not a failed transport; our
/// MTA's own account of the greeting failing is.
#[test]
fn network_wording_at_the_greeting() {
    for wire in [
        "550 You cannot connect for 1 more days",
        "554 You are banned from this server. Connection closed.",
        "554 Connection refused",
    ] {
        let v = c().classify(&reply(wire), S::Greeting);
        assert_ne!(v.category, Some(C::Network), "{wire}: {}", v.rule);
    }
    let v = c().classify_text(
        "connect to mx.example.net[192.0.2.7]:25: Connection refused",
        S::Unknown,
    );
    assert_eq!(v.category, Some(C::Network), "{}", v.rule);
    let v = c().classify(&reply("421 Unable to connect to the backend"), S::RcptTo);
    assert_eq!(v.category, Some(C::Network), "{}", v.rule);
    // Our MTA's account of the greeting failing, in any network wording: text without a
    // basic code at the greeting (rule `text.network_at_greeting`, `codes = ["none"]`).
    for text in [
        "connection closed by mx.example.net[192.0.2.7] while receiving the initial server greeting",
        "connect to mx.example.net[192.0.2.7]: no route to host while receiving the initial server greeting",
    ] {
        let v = c().classify_text(text, S::Unknown);
        assert_eq!(
            (v.category, v.rule.as_ref()),
            (Some(C::Network), "text.network_at_greeting"),
            "{text}"
        );
    }
    // The same words in a live greeting reply are the server speaking.
    let v = c().classify(&reply("554 Connection timed out"), S::Greeting);
    assert_ne!(v.category, Some(C::Network), "{}", v.rule);
}

#[test]
fn nineteenth_round_words_from_the_retired_fresh19() {
    let cases = [
        // An alias disabled, or an address nobody reads, is that mailbox's state, not a
        // local policy about us.
        (
            "554 5.7.1 <user@example.org>: Recipient address rejected: This alias has been disabled",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 <noreply@example.org>: Recipient address rejected: This address is not monitored",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        // "Relay via your ISP" says our host looks dynamic: its standing.
        (
            "554 5.7.1 <host-192-0-2-10.example.net>: Client host rejected: Generic - please relay via your ISP",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // A HELO naming the receiver itself is refused by its own rule, not as malformed.
        (
            "550 HELO command rejected: Impersonating me",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // ...while a sender check's words about impersonation stay about our sender (a
        // phrase with no HELO in it is left to the sender rules).
        (
            "550 Sender address rejected: you are pretending to be us",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
    ];
    check_scoped(&cases);
}

#[test]
fn fourteenth_round_wording_inside_longer_wording_other_scripts_and_words_from_the_retired_fresh14()
{
    let cases = [
        // A phrase lying inside a longer phrase of another rule gives way to it: "sent too
        // many times" is a command repeated out of turn, not the sender's rate.
        (
            "421 4.7.0 MAIL sent too many times",
            S::Unknown,
            C::Protocol,
            T,
            Scope::Connection,
        ),
        // A scanner the receiver cannot reach is its own failure, not a content verdict.
        (
            "451 4.3.0 Unable to connect to rspamd",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "451 4.5.1 Internal confusion",
            S::Unknown,
            C::ServerError,
            T,
            Scope::Destination,
        ),
        // Other scripts' phrases match capitalised at the start of a sentence (the
        // automaton folds only ASCII case), and more languages have words.
        (
            "450 Слишком много писем, попробуйте позже",
            S::MailFrom,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "421 Слишком много соединений",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "554 邮件被拒绝: 垃圾邮件",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        // A relay refused for want of authentication is the relay refusal: the
        // authentication is what would lift it.
        (
            "554 5.7.1 Relaying denied: authentication required",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // A limit the receiver puts down to our reputation is reputation, even worded as
        // a rate limit (LABELLING.md).
        (
            "421 4.7.0 Temporarily rate limited due to IP reputation",
            S::RcptTo,
            C::Reputation,
            T,
            Scope::Destination,
        ),
        (
            "451 Message temporarily deferred due to volume",
            S::DataEnd,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        // A reply with other scripts' bytes is still read for its ASCII wording.
        (
            "554 5.7.1 Relay access denied — доставка невозможна",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Ihre IP-Adresse ist auf einer Sperrliste",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
    ];
    check_scoped(&cases);
}

#[test]
fn thirteenth_round_auth_codes_tls_before_auth_and_words_from_the_retired_fresh13() {
    let cases = [
        // 535 answers only AUTH: it outranks vague wording such as "access denied".
        (
            "535 Access denied, invalid scope",
            S::Unknown,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        // AUTH refused until the session is encrypted is TLS being required...
        (
            "538 auth not available without TLS (#5.3.3)",
            S::Auth,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "530 STARTTLS before authentication required.",
            S::Auth,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        // ...and a handshake the server could not start is a TLS failure.
        (
            "503 Failed to start TLS",
            S::Starttls,
            C::TlsFailed,
            P,
            Scope::Connection,
        ),
        (
            "550 a@example.com not found. Domain is not managed.",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "452 max size of message is 10485760",
            S::Data,
            C::MessageTooBig,
            T,
            Scope::Message,
        ),
        (
            "452 max rcpt limit exceeded (#5.7.1)",
            S::RcptTo,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
    ];
    check_scoped(&cases);
}

#[test]
fn twelfth_round_named_resources_tls_offers_and_words_from_the_retired_fresh12() {
    let cases = [
        // A named resource failure outranks the generic "service not available" around it...
        (
            "421 mx.example.net Service not available - queue full",
            S::Greeting,
            C::ServerError,
            T,
            Scope::Destination,
        ),
        (
            "451 Service temporarily unavailable - disk is full, try again later",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // ...while the bare wording stays a service outage.
        (
            "421 mx.example.net Service not available, closing transmission channel",
            S::Greeting,
            C::ServiceUnavailable,
            T,
            Scope::Connection,
        ),
        // A server that cannot offer TLS at all is a TLS failure, whatever its code.
        (
            "502 STARTTLS not available on this port",
            S::Starttls,
            C::TlsFailed,
            P,
            Scope::Connection,
        ),
        (
            "503 Can't verify sender",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // A local list naming our sender is about the sender, not a DNSBL listing of our IP.
        (
            "550 Sender or domain is blacklisted",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Rejected pool address, see http://example.net/unblock",
            S::Unknown,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "421 4.3.2 too many external connections; try again later",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "550 5.1.1 Address suppressed",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
    ];
    check_scoped(&cases);
}

#[test]
fn eleventh_round_helo_rules_wrapped_errors_and_words_from_the_retired_fresh11() {
    let cases = [
        // A HELO refused by the receiver's own access rule is a policy about our host...
        (
            "554 5.7.1 <mx.example.net>: Helo command rejected: Access denied",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "550 Bad HELO - host impersonating [mx.example.org]",
            S::Ehlo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // ...while a malformed one stays a protocol fault.
        (
            "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        // A library's generic wrapper ("transaction failed") loses to the cause it wraps.
        (
            "554 5.0.0 Error: transaction failed: message does not contain a body part",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "554 5.0.0 Error: transaction failed: unknown sender address",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // The receiver's own scanner being down is its error, not a virus in our mail.
        (
            "451 4.3.0 Anti-virus unavailable, try again later",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "501 Authentication fail",
            S::Auth,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        (
            "550 Closed mailbox: <someone@example.com>",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "554 5.7.1 <a@example.com>: Recipient address rejected: no mail from servers in your country",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "550 5.1.1 recipient domain is not accepted here",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
    ];
    check_scoped(&cases);
}

#[test]
fn tenth_round_quotas_storage_and_words_from_the_retired_fresh10() {
    let cases = [
        // A mailbox quota is the mailbox's, even worded as a limit...
        (
            "552 5.2.2 User quota limit exceeded",
            S::RcptTo,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
        // ...while a sending quota stays a rate limit.
        (
            "550 5.7.1 Daily sending quota exceeded",
            S::MailFrom,
            C::RateLimited,
            P,
            Scope::Destination,
        ),
        // The server's own storage is its error, not a full mailbox.
        (
            "452 4.3.1 Server storage exhausted, try later",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
        (
            "550 5.1.1 Address no longer in use",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "550 Not relaying: example.org is not in host_list",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "535 5.7.8 Password error",
            S::Auth,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        (
            "550 5.7.1 Rejected by Sender-ID check",
            S::DataEnd,
            C::SenderAuthentication,
            P,
            Scope::Message,
        ),
        (
            "554 5.6.0 The message cannot be parsed",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
    ];
    check_scoped(&cases);
}

#[test]
fn ninth_round_throttles_sessions_standing_and_tls_worded_without_their_keywords() {
    let cases = [
        // One mailbox taking mail faster than it may: only that recipient waits.
        (
            "452 4.2.1 The user is receiving mail faster than allowed, retry later",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Recipient,
        ),
        (
            "451 4.7.0 Slowdown in effect for your IP, try again in 10 minutes",
            S::MailFrom,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "450 4.7.0 Daily budget of messages for 192.0.2.1 used up",
            S::MailFrom,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "421 4.7.0 Too many open sessions; 192.0.2.7 already connected",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "452 4.5.3 Recipient count exceeds this server's limit",
            S::RcptTo,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
        (
            "550 5.7.1 Your IP has a track record of abuse reports",
            S::MailFrom,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "554 5.7.1 192.0.2.9 found in our abuse feeds",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        (
            "550 5.7.23 192.0.2.9 is not a permitted sender for example.org",
            S::MailFrom,
            C::SenderAuthentication,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 Rejected: message looks like advertising",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 Rejected: a potentially harmful link was found",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "550 5.2.1 The account holder's mailbox has been retired",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 This server is not configured to accept mail for example.net",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Mail to this domain must arrive over an encrypted connection",
            S::MailFrom,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "454 4.7.5 Client certificate is expired",
            S::Starttls,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        (
            "451 4.7.1 Sender not yet known here, please retry",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        // From the retired `fresh9/`: AUTH asked for in other words, Plesk's greylisting,
        // a quota worded as an error.
        (
            "451 4.7.0 Please authenticate before sending mail",
            S::MailFrom,
            C::AuthRequired,
            T,
            Scope::Connection,
        ),
        (
            "451 temporary envelope failure (#4.3.0)",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        (
            "552 Quota error for this mailbox",
            S::RcptTo,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
        (
            "451 4.7.1 Deferred: new sender triplet, retry shortly",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Quarantined: suspected credential theft",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        // Neighbours the new words must not take: Postfix's lookup failure is a table
        // lookup of its own, a server that is too busy is its own error, and a 554
        // greeting that accepts nothing stays the greeting's refusal.
        (
            "451 4.3.0 <user@example.org>: Temporary lookup failure",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
        (
            "421 Too busy; please try again later",
            S::Greeting,
            C::ServerError,
            T,
            Scope::Destination,
        ),
        // "Dane" is also Polish for "data": a DANE failure is named with its check.
        (
            "451 4.7.5 DANE validation failed for mx.example.net",
            S::Starttls,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        (
            "550 5.1.1 Nieprawidłowe dane adresata",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
    ];
    check_scoped(&cases);
}

/// The twenty-first round: wording from `fresh21/`'s misses, written after its one look
/// and its retirement into tuning (BENCHMARKS.md, "Twenty-first round"). Every case
/// was checked to come out differently on cee8672, the commit before the round.
#[test]
fn twenty_first_round_words_from_the_retired_fresh21() {
    check_scoped(&[
        // A throttle of one recipient holds that recipient, not every recipient.
        (
            "421 4.7.0 Rate limit exceeded for this recipient",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Too many messages for this recipient. Please retry later",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Recipient,
        ),
        (
            "452 4.2.2 Recipient has reached their message limit for today.",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Recipient,
        ),
        // A header From the authenticated sender may not use: the sender, not the format.
        (
            "550 5.7.1 From header is not owned by authenticated user",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "553 5.7.1 header From must match authenticated user or an owned alias",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 Rejected: Mail from this address prohibited.",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Absenderdomäne für das Relay nicht zulässig",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Failed DKIM from header alignment",
            S::DataEnd,
            C::SenderAuthentication,
            P,
            Scope::Message,
        ),
        // A disabled domain, organisation or recipient is a disabled mailbox.
        (
            "550 5.7.1 Domain disabled",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.1.1 recipient disabled",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        // Our relay is switched off: relaying refused, not a disabled mailbox.
        (
            "550 5.7.1 relaying is disabled on this server",
            S::DataEnd,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // The receiver's scanner is down: its own failure, not a verdict on the message.
        (
            "451 4.7.1 virus scanner temporarily unavailable, retry later",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // Sending quotas and outgoing limits are rate limits, not a full mailbox.
        (
            "452 4.3.2 Outbound send limit exceeded",
            S::DataEnd,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "535 5.7.0 Monthly messages limit reached",
            S::Unknown,
            C::RateLimited,
            P,
            Scope::Destination,
        ),
        (
            "451 4.7.4 too many recipients in a short time, please retry later",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        // A 554 whose limit passes and which asks for a retry is transient.
        (
            "554 5.7.0 Your message could not be sent. The limit on the number of allowed outgoing messages was exceeded. Try again later.",
            S::Unknown,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        // 552 to MAIL FROM: the declared SIZE is too big (RFC 1870).
        (
            "552 bit too much",
            S::MailFrom,
            C::MessageTooBig,
            P,
            Scope::Message,
        ),
        // A lock-out after failed logins is about our credentials.
        (
            "421 Too many failed attempts, try later",
            S::Unknown,
            C::AuthFailed,
            T,
            Scope::Connection,
        ),
        (
            "550 5.7.1 Adjunto ejecutable bloqueado por politica de seguridad",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "421 4.7.0 Your IP has been temporarily blocked due to excessive connections. Try again in 10 minutes.",
            S::Ehlo,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "554 5.3.0 Message content could not be parsed",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
    ]);
    // Not a recipient's throttle, nor a burst: the words stay with their own causes.
    let v = c().classify_text(
        "552 5.2.2 Recipient has reached their mailbox quota",
        S::RcptTo,
    );
    assert_eq!(v.category, Some(C::MailboxFull), "{}", v.rule);
    let v = c().classify_text("554 Empty From header not allowed", S::DataEnd);
    assert_eq!(v.category, Some(C::ContentFormat), "{}", v.rule);
}

/// The twenty-second round: words from the retired `fresh22/` (every case here came out
/// differently on the previous main), and the header From's format faults named one by
/// one instead of a bare "from header" (the last three cases pin that mend).
#[test]
fn twenty_second_round_words_from_the_retired_fresh22() {
    check_scoped(&[
        // A server without TLS to offer: the negotiation we need cannot happen.
        (
            "502 5.5.1 STARTTLS not offered",
            S::Starttls,
            C::TlsFailed,
            P,
            Scope::Connection,
        ),
        // A recipient domain this host does not take mail for is a refused relay.
        (
            "550 5.1.1 Recipient domain not served here",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 I do not handle mail for example.net",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // A message the receiver cannot parse is a format fault, whatever the code says.
        (
            "554 Error parsing email",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "451 Invalid message format",
            S::DataEnd,
            C::ContentFormat,
            T,
            Scope::Message,
        ),
        (
            "500 Expected only 7 bit data",
            S::Data,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "554 MIME part limit exceeded",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "550 Unknown content type",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        // A suppressed recipient holds only that recipient.
        (
            "550 5.1.1 <user@example.org>: recipient is suppressed",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        // The service behind a relay refused, no cause given: reason unknown, not our server's error.
        (
            "554 5.3.0 Message rejected by upstream provider",
            S::DataEnd,
            C::Other,
            P,
            Scope::Message,
        ),
        // policyd-spf's softfail text is an SPF verdict.
        (
            "550 5.7.23 <user@example.org>: Sender address rejected: Message rejected due to: domain owner discourages use of this host. Please see http://www.openspf.net/Why?s=mfrom;id=a@example.com",
            S::RcptTo,
            C::SenderAuthentication,
            P,
            Scope::Message,
        ),
        // Turkish: too many concurrent connections, authentication required, too many failed attempts.
        (
            "421 4.7.0 Çok fazla eşzamanlı bağlantı",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "530 5.7.0 Kimlik doğrulama gerekli",
            S::MailFrom,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "421 4.7.0 Çok fazla başarısız deneme, sonra tekrar deneyin",
            S::Auth,
            C::AuthFailed,
            T,
            Scope::Connection,
        ),
        (
            "503 5.0.0 Need AUTH before MAIL",
            S::MailFrom,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        // One mailbox receiving too much mail holds that recipient.
        (
            "451 4.7.1 Too much mail for this mailbox, try again later",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Recipient,
        ),
        // A header From that differs from the envelope sender refuses the sender.
        (
            "550 MAIL FROM and From: header mismatch",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // A greytrap hit lists our address.
        (
            "450 Your address 192.0.2.1 has mailed to spamtraps here",
            S::RcptTo,
            C::Blocklisted,
            T,
            Scope::Destination,
        ),
        // The mend: alignment is sender authentication, the From header's own faults format.
        (
            "550 5.7.1 Failed SPF from header alignment",
            S::DataEnd,
            C::SenderAuthentication,
            P,
            Scope::Message,
        ),
        (
            "554 5.6.0 Message has no From header",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Message must contain exactly one From header",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
    ]);
}

/// A server library's default code in front of the code the application meant: when the
/// two disagree about passing, nothing is final (transient, low confidence,
/// `reply.inner_code`), the category is still read; when they agree, nothing changes.
#[test]
fn a_default_code_in_front_of_the_meant_one_is_never_final() {
    let cases = [
        (
            "550 451 4.3.0 Temporary lookup failure",
            S::RcptTo,
            C::ServerError,
        ),
        (
            "554 421 4.7.0 Too many concurrent connections from your address",
            S::Greeting,
            C::TooManyConnections,
        ),
        (
            "450 550 Spam detected: suspicious subject",
            S::DataEnd,
            C::SpamContent,
        ),
        (
            "554 5.0.0 Error: transaction failed: 451 4.3.0 failed to accept message",
            S::DataEnd,
            C::ServerError,
        ),
        (
            "451 4.0.0 550 5.1.1 address rejected: permanently bounced",
            S::RcptTo,
            C::UserUnknown,
        ),
    ];
    for (wire, stage, cat) in cases {
        let v = c().classify_text(wire, stage);
        assert_eq!(
            (v.disposition, v.category),
            (T, Some(cat)),
            "{wire}: {}",
            v.rule
        );
        assert!(v.low_confidence, "{wire}");
        assert_eq!(v.rule, "reply.inner_code", "{wire}");
        let reply = Reply::parse(format!("{wire}\r\n").as_bytes()).unwrap();
        assert_eq!(
            c().classify(&reply, stage),
            v,
            "{wire}: the reply path agrees"
        );
        let e = c().explain(&reply, stage);
        assert!(
            e.reason.contains("begins with another code"),
            "{}",
            e.reason
        );
    }
    // Codes of one class: the wire's code holds, with the inner enhanced code read.
    let v = c().classify_text("550 550 5.1.1 <user@example.org>: unknown user", S::RcptTo);
    assert_eq!((v.disposition, v.category), (P, Some(C::UserUnknown)));
    assert!(!v.low_confidence);
    // Numbers that are no code (a size, a count, an HTTP status) change nothing.
    for (wire, stage, cat, disp) in [
        (
            "552 5.2.2 400 MB mailbox quota exceeded",
            S::RcptTo,
            C::MailboxFull,
            P,
        ),
        (
            "550 5.7.1 450 recipients per day limit exceeded",
            S::RcptTo,
            C::RateLimited,
            P,
        ),
        (
            "451 4.7.1 500 messages per hour limit reached, try again later",
            S::MailFrom,
            C::RateLimited,
            T,
        ),
        ("550 404 Not Found", S::RcptTo, C::UserUnknown, P),
    ] {
        let v = c().classify_text(wire, stage);
        assert_ne!(v.rule, "reply.inner_code", "{wire}");
        assert_eq!(
            (v.disposition, v.category),
            (disp, Some(cat)),
            "{wire}: {}",
            v.rule
        );
    }
    // Quoted by an MTA in a bounce, the first code is still the reply's.
    let text = "host mx.example.com[192.0.2.1] said: 450 550 5.7.1 Spam detected (in reply to RCPT TO command)";
    let v = c().classify_text(text, S::Unknown);
    assert_eq!((v.disposition, v.rule.as_ref()), (T, "reply.inner_code"));
    let e = c().explain_text(text, S::Unknown);
    assert!(
        e.reason.contains("begins with another code"),
        "{}",
        e.reason
    );
}

/// A lock-out after failed logins passes with time: a 5xx that says so and asks for a
/// later retry is transient; refused credentials, or a lock-out that asks for nothing,
/// stay as the code says.
#[test]
fn a_login_lockout_that_asks_for_a_retry_passes() {
    check_scoped(&[
        (
            "535 Too many failed attempts. Try again in 300 seconds.",
            S::Auth,
            C::AuthFailed,
            T,
            Scope::Connection,
        ),
        (
            "535 5.7.8 Authentication credentials invalid, try again later",
            S::Auth,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        (
            "535 Too many failed logins",
            S::Auth,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
    ]);
    // Only an answer to AUTH is a lock-out: the same words at RCPT stay as the code says.
    let v = c().classify_text(
        "550 5.1.1 Too many failed attempts for this recipient; try again later",
        S::RcptTo,
    );
    assert_eq!(v.disposition, P, "{}", v.rule);
}

/// Words from the retired `fresh23/`'s misses (the twenty-third round). Every case came
/// out differently on the previous main (b16b127).
#[test]
fn twenty_third_round_words_from_the_retired_fresh23() {
    check_scoped(&[
        // A disabled address is a disabled mailbox, whatever its X.1.1 says.
        (
            "550 5.1.1 Address disabled",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        // STARTTLS before AUTH: the words outrank AUTH's 535.
        (
            "535 STARTTLS is required before AUTH",
            S::Auth,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "501 Must be signed in to send from domain",
            S::MailFrom,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "500 Invalid user/password",
            S::Auth,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        (
            "550 5.7.1 Your email has a date in the future. Fix your system clock and try again.",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 <user@example.org>: Recipient address rejected: Recipient domain not resolvable: example.org",
            S::RcptTo,
            C::DomainNotFound,
            P,
            Scope::Recipient,
        ),
        // Portuguese: "for security reasons we refuse this type of attached file".
        (
            "550 5.7.1 Por razões de segurança, rejeitamos este tipo de arquivo em anexo",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "554 5.0.0 Upstream relay rejected the message",
            S::DataEnd,
            C::Other,
            P,
            Scope::Message,
        ),
        // While the data is sent, a timeout is the receiver waiting for our bytes: the
        // transport, not its own work (which a timeout after the end of the data is).
        (
            "421 Data transfer timeout",
            S::Data,
            C::Network,
            T,
            Scope::Connection,
        ),
        (
            "451 4.3.0 spool write timed out",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // Spam wording at MAIL FROM and RCPT TO is no verdict on content (there is no
        // message yet): the frame says what was refused, here our envelope sender.
        (
            "554 5.7.1 <bounce@example.com>: Sender address rejected: Rejected as spam.",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 <bounce@example.com>: Sender address rejected: Your spam is not wanted here",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // Words kept narrow: an ISP relay offered as a way to relay stays a relay
        // refusal, and BDAT's reply
        // (its last chunk ends the data) keeps the receiver's own timeout.
        (
            "550 5.7.1 Relaying denied. Use your ISP relay, or authenticate",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "451 4.3.0 spool write timed out",
            S::Bdat,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // After the data it is the content.
        (
            "550 5.7.1 Message identified as spam",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
    ]);
    // Our sender's disabled address is no disabled mailbox: "address disabled" names one
    // only at RCPT TO.
    let v = c().classify_text("553 5.7.1 Sender address disabled", S::MailFrom);
    assert_ne!(v.category, Some(C::MailboxDisabled), "{}", v.rule);
}

/// Words from the retired `fresh24/`'s misses (the twenty-fourth round). Every case came
/// out differently on the previous main (4daf47f), apart from the guards marked as such.
#[test]
fn twenty_fourth_round_words_from_the_retired_fresh24() {
    check_scoped(&[
        // A recipient domain this host does not serve is relaying refused, whatever its X.1.1 says.
        (
            "550 5.1.1 Sorry, not our domain",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.1.1 Recipient domain not handled here",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 This server only accepts mail for example.org",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "451 4.0.0 recipient is to the wrong domain",
            S::RcptTo,
            C::RelayDenied,
            T,
            Scope::Recipient,
        ),
        // Format faults named after the data outrank X.7.1's policy and X.5.2's syntax.
        (
            "554 5.7.1 no headers sent",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Date in remote past",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "451 4.3.0 MIME parse error, try again",
            S::DataEnd,
            C::ContentFormat,
            T,
            Scope::Message,
        ),
        (
            "554 5.5.2 Malformed From domain",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        // One address receiving too fast holds that recipient only.
        (
            "450 4.2.1 Too many messages to this address, slow down",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Recipient,
        ),
        // The receiver's own scanner, signer or store failing is its trouble, not a verdict (nor X.2.1's disabled mailbox).
        (
            "452 4.2.1 Antivirus software failed to scan the message",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "451 4.3.0 Spam filter unavailable",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "451 4.3.0 DKIM signing failed, try later",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "550 Error saving email",
            S::DataEnd,
            C::ServerError,
            P,
            Scope::Message,
        ),
        // The envelope sender named at RCPT is refused as the sender.
        (
            "550 5.1.7 The from address <bounce@example.com> does not exist on this server",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Bounces not accepted",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // A blocked client holds the destination.
        (
            "554 5.7.1 Client blocked",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "550 User disabled",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        // An hourly or daily recipient limit is a rate, not one message's recipient count.
        (
            "451 4.7.0 Daily recipient limit reached, try again later",
            S::DataEnd,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "451 anonymous users are not allowed to send mail",
            S::MailFrom,
            C::AuthRequired,
            T,
            Scope::Connection,
        ),
        (
            "550 Only one alias per transaction",
            S::RcptTo,
            C::TooManyRecipients,
            P,
            Scope::Message,
        ),
        (
            "550 no residential connections",
            S::Greeting,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // Guards from the review (unchanged from the previous main, or mended before landing):
        // an IP that is not registered is no unknown user; a quota over its soft limit is
        // a full mailbox; a recipient domain with no valid TLD is that recipient's; a relay
        // refused at the greeting holds the destination.
        (
            "550 5.7.1 Client IP address not registered",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "452 4.2.2 Quota exceeds soft limit",
            S::RcptTo,
            C::MailboxFull,
            T,
            Scope::Recipient,
        ),
        (
            "550 5.1.2 Recipient domain has no valid TLD",
            S::RcptTo,
            C::DomainNotFound,
            P,
            Scope::Recipient,
        ),
        (
            "553 5.1.7 Malformed from domain",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "554 Relay access denied",
            S::Greeting,
            C::RelayDenied,
            P,
            Scope::Destination,
        ),
        // Guards (unchanged from the previous main): a spam verdict and an unknown user.
        (
            "550 5.7.1 Message rejected as spam",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "550 5.1.1 User unknown",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
    ]);
}

/// A greylisting's own words ("greylisted", "greylisting active") ask to be tried again:
/// a 5xx that says it greylists us is transient (never a bounce for mail a retry would
/// deliver). At RCPT TO it holds that
/// recipient; at MAIL FROM, at DATA and after the data, the whole message.
#[test]
fn a_greylisting_is_never_final_and_holds_what_it_answered() {
    check_scoped(&[
        (
            "550 Message rejected: Greylisting active",
            S::DataEnd,
            C::Greylisted,
            T,
            Scope::Message,
        ),
        (
            "554 5.7.1 <user@example.org>: Recipient address rejected: Greylisted by example",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        (
            "451 4.7.1 Greylisted, please try again later",
            S::DataEnd,
            C::Greylisted,
            T,
            Scope::Message,
        ),
        (
            "421 You have been temporarily greylisted. Please try back later.",
            S::MailFrom,
            C::Greylisted,
            T,
            Scope::Message,
        ),
        (
            "451 4.7.1 Greylisted, please try again later",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
    ]);
    let v = c().classify_text("550 Message rejected: Greylisting active", S::DataEnd);
    let e = c().explain_text("550 Message rejected: Greylisting active", S::DataEnd);
    assert_eq!(e.classification, v);
    assert!(e.reason.contains("asks for a later retry"), "{}", e.reason);
    // Greylisting named in passing, with another cause or without being in force, is no
    // request to come back: the code decides.
    for (text, stage) in [
        ("550 5.1.1 User unknown (greylisting passed)", S::RcptTo),
        (
            "550 5.7.1 your IP was blacklisted after failing greylisting",
            S::RcptTo,
        ),
        (
            "554 5.7.1 Please prove you are not a spammer: register at example.org",
            S::RcptTo,
        ),
        (
            "550 5.7.1 First-time sender rejected by policy",
            S::MailFrom,
        ),
    ] {
        let v = c().classify_text(text, stage);
        assert_eq!(v.disposition, P, "{text}: {} {:?}", v.rule, v.category);
    }
}

/// A rule says whether its cause passes with time (`passes`); by default the category
/// says ([`Category::usually_passes`]). A 5xx whose cause passes and whose text asks for
/// a later retry is transient; one whose cause does not pass stays permanent.
#[test]
fn a_rule_says_whether_its_cause_passes_with_time() {
    use tempfail::classify::{Evidence, UserRule};
    let text = "552 5.2.2 Acme hourly quota reached, try again later";
    let quota = |passes: Option<bool>, evidence: Option<Evidence>| {
        let mut r = UserRule::new("acme.hourly_quota", C::MailboxFull).words(["acme hourly quota"]);
        if let Some(p) = passes {
            r = r.passes(p);
        }
        if let Some(e) = evidence {
            r = r.evidence(e);
        }
        Classifier::builtin().with_rules(vec![r]).unwrap()
    };
    // A mailbox that is full does not pass by itself.
    assert!(!C::MailboxFull.usually_passes());
    let v = quota(None, None).classify_text(text, S::RcptTo);
    assert_eq!((v.rule.as_ref(), v.disposition), ("acme.hourly_quota", P));
    // Said to pass: the request for a later retry makes it transient, tried first or weighed.
    let v = quota(Some(true), None).classify_text(text, S::RcptTo);
    assert_eq!((v.rule.as_ref(), v.disposition), ("acme.hourly_quota", T));
    let v = quota(Some(true), Some(Evidence::DestinationWording)).classify_text(text, S::RcptTo);
    assert_eq!((v.category, v.disposition), (Some(C::MailboxFull), T));
    // Without a request for a later retry it stays as the code says.
    let v = quota(Some(true), None).classify_text("552 5.2.2 Acme hourly quota reached", S::RcptTo);
    assert_eq!(v.disposition, P);
    // A rate limit passes by default, unless its rule says otherwise.
    let limit = "550 5.7.1 Acme sending limit reached, try again later";
    let rule = |passes: Option<bool>| {
        let mut r = UserRule::new("acme.limit", C::RateLimited).words(["acme sending limit"]);
        if let Some(p) = passes {
            r = r.passes(p);
        }
        Classifier::builtin().with_rules(vec![r]).unwrap()
    };
    assert_eq!(rule(None).classify_text(limit, S::MailFrom).disposition, T);
    assert_eq!(
        rule(Some(false))
            .classify_text(limit, S::MailFrom)
            .disposition,
        P
    );
    // A rule's own `false` decides even where built-in rules of its cause also hold
    // (they lend only to a winner that says nothing).
    let said = |category: Category, words: &str| {
        Classifier::builtin()
            .with_rules(vec![
                UserRule::new("ours.final", category)
                    .words([words])
                    .passes(false),
            ])
            .unwrap()
    };
    let v = said(C::RateLimited, "acme rate limit").classify_text(
        "550 5.7.1 Acme rate limit exceeded, try again later",
        S::MailFrom,
    );
    assert_eq!((v.rule.as_ref(), v.disposition), ("ours.final", P));
    let v = said(C::Greylisted, "greylisting active")
        .classify_text("550 5.7.1 Greylisting active, try again later", S::RcptTo);
    assert_eq!((v.rule.as_ref(), v.disposition), ("ours.final", P));
    // Without the user rule both pass.
    for (text, stage) in [
        (
            "550 5.7.1 Acme rate limit exceeded, try again later",
            S::MailFrom,
        ),
        ("550 5.7.1 Greylisting active, try again later", S::RcptTo),
    ] {
        assert_eq!(c().classify_text(text, stage).disposition, T, "{text}");
    }
    // The built-in lock-out rule is one such rule: it says so in the rule table.
    let lockout = Classifier::builtin_rules()
        .into_iter()
        .find(|r| r.id == "auth.too_many_failures")
        .unwrap();
    assert_eq!(lockout.passes, Some(true));
}
/// Words from the retired `fresh25/`'s misses (the twenty-fifth round). Every case came
/// out differently on the previous main (d10d38a), apart from the guards marked as such.
#[test]
fn twenty_fifth_round_words_from_the_retired_fresh25() {
    check_scoped(&[
        // An hourly or daily sending quota is a rate on our account, not a full mailbox.
        (
            "550 Daily e-mail quota exceeded for this account",
            S::DataEnd,
            C::RateLimited,
            P,
            Scope::Destination,
        ),
        // The antivirus's own verdict, and a detected threat, are a virus verdict.
        (
            "550 5.7.1 Message rejected by antivirus",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "554 Threat detected",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        // Too many recipient addresses (or Cc/Bcc recipients) in one message.
        (
            "550 5.7.1 Too many recipient addresses in one message",
            S::DataEnd,
            C::TooManyRecipients,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Too many Bcc recipients",
            S::DataEnd,
            C::TooManyRecipients,
            P,
            Scope::Message,
        ),
        // A recipient domain this host does not serve, said with other words.
        (
            "550 This gateway only accepts messages for example.org",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Address not served by this server",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // STARTTLS required, unavailable or not enabled; a second STARTTLS inside TLS is a sequence error.
        (
            "530 Not allowed: must STARTTLS",
            S::Unknown,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "502 5.5.1 STARTTLS is not available",
            S::Unknown,
            C::TlsFailed,
            P,
            Scope::Connection,
        ),
        (
            "502 STARTTLS not enabled on this port",
            S::Unknown,
            C::TlsFailed,
            P,
            Scope::Connection,
        ),
        (
            "530 Denied, TLS is already enabled",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Connection,
        ),
        // An address's syntax.
        (
            "553 5.1.0 Imbalanced angle brackets",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Recipient,
        ),
        // A header's control character is a format fault, not spam; obfuscation is a spam verdict.
        (
            "550 5.7.1 Subject has a disallowed control character",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Text obfuscation detected",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        // Our sending domain's DNS, and a suppressed sender, are the sender refused.
        (
            "554 Sending domain has no MX records",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Sender suppressed",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // A server offline, a client that talked before the greeting, a disabled EXPN.
        (
            "554 Server is offline",
            S::Greeting,
            C::ServiceUnavailable,
            P,
            Scope::Connection,
        ),
        (
            "554 5.7.1 You talked before the greeting",
            S::Greeting,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        (
            "550 EXPN is not available",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Connection,
        ),
        // Only authorised relay IPs: a rule about our host.
        (
            "550 5.7.1 Mail accepted only from authorised relay IPs",
            S::DataEnd,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // Our sending account, tenant or project suspended or inactive holds the destination, not a recipient.
        (
            "550 5.7.1 Sending suspended: too many bounces",
            S::MailFrom,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "450 Project is inactive",
            S::DataEnd,
            C::Policy,
            T,
            Scope::Destination,
        ),
        // The receiver's own onward hand-off failing is its trouble, not a relay refusal.
        (
            "451 4.4.0 Failed relaying to upstream, try again later",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // A command out of order inside the transaction, or a malformed address with no
        // stage named, holds the message, not every message to the host.
        (
            "503 Need MAIL before RCPT",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Message,
        ),
        (
            "503 5.5.1 Bad sequence of commands: expected DATA",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Message,
        ),
        (
            "553 5.1.0 Address incomplete",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Message,
        ),
        // After the review: our sending account suspended holds the destination from
        // RCPT TO on too (the longer phrase wins over the mailbox rule's "suspended"), and
        // before any recipient "your account has been suspended" is ours.
        (
            "451 4.7.1 Sending temporarily suspended, try again later",
            S::DataEnd,
            C::Policy,
            T,
            Scope::Destination,
        ),
        (
            "550 5.7.1 Your account has been suspended",
            S::MailFrom,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // Guards (the same on the previous main): a recipient's suspended account at RCPT, a relay refusal, 'sender not permitted' at EHLO, a full mailbox, a HELO-first error's session scope.
        (
            "550 5.2.1 Account suspended",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Relaying to example.org denied",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Sender not permitted",
            S::Ehlo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "452 4.2.2 Mailbox quota exceeded",
            S::RcptTo,
            C::MailboxFull,
            T,
            Scope::Recipient,
        ),
        (
            "503 5.5.1 Send EHLO first",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Connection,
        ),
        // Review guards: "control character" in a command, "threat detected" before the
        // data, a mailbox's message count.
        (
            "500 5.5.2 Error: bad syntax (control character in command)",
            S::Ehlo,
            C::Protocol,
            T,
            Scope::Connection,
        ),
        (
            "554 5.7.1 Threat detected, connection refused",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        (
            "552 5.2.2 Mailbox full: maximum number of messages per mailbox reached",
            S::RcptTo,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
    ]);
}

/// Words from the retired `fresh26/`'s misses (the twenty-sixth round). Every case came
/// out differently on the previous main (7357c37), apart from the guards marked as such.
#[test]
fn twenty_sixth_round_words_from_the_retired_fresh26() {
    check_scoped(&[
        // Postfix's "Sender address rejected:" frame gives way to the operator's more
        // specific cause after it.
        (
            "553 5.7.1 <bounce@example.com>: Sender address rejected: authentication required for local senders",
            S::RcptTo,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "550 5.7.1 <bounce@example.com>: Sender address rejected: recipient domain not local",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // Guards: words about the sender address itself stay the sender's.
        (
            "450 4.1.8 <bounce@example.com>: Sender address rejected: Domain not found",
            S::RcptTo,
            C::SenderRejected,
            T,
            Scope::Message,
        ),
        (
            "550 5.1.7 <bounce@example.com>: Sender address rejected: undeliverable address: host mx.example.com said: 550 5.1.1 User unknown",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // A command before HELO/EHLO at MAIL FROM is a sequence fault, scoped like the others.
        (
            "503 5.5.1 Please send EHLO first",
            S::MailFrom,
            C::Protocol,
            P,
            Scope::Message,
        ),
        // A sending or relay limit on our account.
        (
            "452 4.3.1 Send limit reached, try again later",
            S::DataEnd,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "454 4.7.0 Monthly mail relay limit exceeded",
            S::Unknown,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        // A recipient this host does not serve.
        (
            "550 5.7.1 Not a recipient on this server",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "551 5.7.1 Forwarding to remote hosts is not allowed",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // TLS unavailable.
        (
            "503 5.5.1 TLS is not available",
            S::Unknown,
            C::TlsFailed,
            P,
            Scope::Connection,
        ),
        // Our IP, or we, blocked for good.
        (
            "554 5.7.1 Your IP address has been permanently blocked",
            S::RcptTo,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        // Sending as an address the account does not own.
        (
            "550 5.7.1 You are not allowed to send as this address",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "554 Sender mailbox not found",
            S::DataEnd,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // The message's MIME structure, and verdicts after the data.
        (
            "552 Message MIME structure exceeds limits",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "450 4.7.1 Your mail is temporarily unwanted",
            S::DataEnd,
            C::SpamContent,
            T,
            Scope::Message,
        ),
        (
            "554 Message refused by the scanner",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        // Review guards (same on the previous main): a recipient or a hop count
        // "blocked" or "limited", a size limit, a virus inside the MIME structure, and the
        // scanner's own failure keep their causes.
        (
            "550 5.2.1 Recipient mailbox permanently blocked",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "550 5.4.6 Relay limit (hop count) exceeded - possible mail loop",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        (
            "552 5.3.4 Message size exceeds send limit of 10485760 bytes",
            S::DataEnd,
            C::MessageTooBig,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Virus found in MIME structure: Eicar-Test-Signature",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "451 4.3.0 Message rejected by the scanner: temporary scanner failure",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
    ]);
}

/// The same causes in other languages (German, French, Dutch, Polish, Russian, Chinese,
/// Japanese) and a few English forms, found by a probe set of replies written for this
/// purpose by someone who did not read the classifier (never scored as held-out). Every
/// case came out differently on the previous main (57a2724), apart from the guards.
#[test]
fn causes_worded_in_other_languages() {
    check_scoped(&[
        (
            "421 4.7.0 Слишком много одновременных подключений, попробуйте позже",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "421 Zu viele gleichzeitige Verbindungen",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "550 5.7.1 Adresse IP de mauvaise réputation",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "554 发件IP信誉度低",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "451 4.7.1 Liste grise, réessayez plus tard",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        (
            "450 4.7.1 Серый список: повторите попытку позже",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        (
            "550 5.7.1 Bericht bevat ongewenste inhoud",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "554 邮件中含有病毒",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Письмо содержит вирус",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 Ретрансляция запрещена",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "550 收件人域名不存在",
            S::RcptTo,
            C::DomainNotFound,
            P,
            Scope::Recipient,
        ),
        (
            "530 5.7.0 TLS erforderlich",
            S::MailFrom,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "451 4.7.1 Превышен лимит отправки писем",
            S::MailFrom,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "552 邮箱空间已满",
            S::RcptTo,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
        (
            "451 4.7.1 グレイリスティング中です。後で再送してください",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        (
            "554 根据本地策略拒绝",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        // A sending domain too young to be trusted, or traffic found suspicious: standing.
        (
            "550 5.7.1 Sending domain registered too recently",
            S::MailFrom,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "421 4.7.0 Suspicious traffic from your network, try later",
            S::Greeting,
            C::Reputation,
            T,
            Scope::Destination,
        ),
        // Guards from the review: a size, an unknown user asked to protect our reputation,
        // an antivirus outage and our own inactive account keep their causes.
        (
            "552 5.3.4 Превышен лимит размера письма",
            S::DataEnd,
            C::MessageTooBig,
            P,
            Scope::Message,
        ),
        (
            "550 5.1.1 Adresse inconnue, pour protéger votre réputation retirez-la",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        (
            "451 4.3.0 Антивирус временно недоступен",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "550 5.7.1 Your account is not active",
            S::MailFrom,
            C::Policy,
            P,
            Scope::Destination,
        ),
        // A certificate check, not the sender verification whose words it holds.
        (
            "454 4.7.5 Certificate verification failed for mx.example.org",
            S::Unknown,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        // An exception name in the reply is the receiver's own fault.
        (
            "500 Error: (NullPointerException) null",
            S::DataEnd,
            C::ServerError,
            P,
            Scope::Message,
        ),
        // Guard: a sender verification stays the sender's.
        (
            "550 5.7.1 Sender verification failed for <a@example.org>",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // Guard: a blocklisting in French stays one.
        (
            "550 5.7.1 Adresse IP refusée : liste noire Spamhaus",
            S::RcptTo,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
    ]);
}

/// Words from the retired `fresh28/`'s misses (the twenty-eighth round). Every case came
/// out differently on the previous main (57a2724), apart from the guards marked as such.
#[test]
fn twenty_eighth_round_words_from_the_retired_fresh28() {
    check_scoped(&[
        // A command the receiver switched off is the session's refusal, not a mailbox.
        (
            "502 5.5.2 EXPN command has been disabled",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        (
            "502 5.5.1 VRFY is disabled",
            S::Unknown,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        // Guard: a disabled mailbox stays one.
        (
            "550 5.2.1 Mailbox is disabled",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        // A cap on one session's commands is a local limit on our session.
        (
            "421 4.7.0 Too many commands in this session",
            S::Unknown,
            C::Policy,
            T,
            Scope::Destination,
        ),
        (
            "421 Too many MAIL commands, closing connection",
            S::MailFrom,
            C::Policy,
            T,
            Scope::Destination,
        ),
        // Guard: too many bad commands is the error counter's.
        (
            "421 Too many invalid commands, closing connection",
            S::Unknown,
            C::Protocol,
            T,
            Scope::Destination,
        ),
        (
            "421 mx.example.org no free connection slots, try later",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "554 No inbox for this address",
            S::DataEnd,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        (
            "550 Alias is not active",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "550 Credentials no longer valid, please re-authenticate",
            S::MailFrom,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        // Python's email package names the format fault it found.
        (
            "500 Error: (NoBoundaryInMultipartDefect)",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "451 Message deferred by policy",
            S::DataEnd,
            C::Policy,
            T,
            Scope::Message,
        ),
        // The receiver's own HTTP call failed: its trouble, not our network.
        (
            "500 Error: (ConnectionError) HTTPConnectionPool(host='hooks.example.org', port=80): Max retries exceeded with url: /in",
            S::DataEnd,
            C::ServerError,
            P,
            Scope::Message,
        ),
        // Guard: a timeout after the data stays the receiver's own work.
        (
            "451 4.4.1 Connection timed out",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
    ]);
}

/// Words from the retired `fresh27/`'s misses (the twenty-seventh round). Every case came
/// out differently on the previous main (1e0f7ea), apart from the guards marked as such.
#[test]
fn twenty_seventh_round_words_from_the_retired_fresh27() {
    check_scoped(&[
        // A connection limit however it is worded, not the server's outage.
        (
            "421 4.3.2 Server connection capacity exceeded",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "421 4.3.2 Connection limit",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        // Too many unknown recipients is a harvest guard, not a rate.
        (
            "550 5.7.1 Rejected for too many invalid recipients",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "421 4.7.0 Too many unknown recipients in this session, closing connection",
            S::RcptTo,
            C::Policy,
            T,
            Scope::Destination,
        ),
        // The receiver's scanner, queue, verification or authentication service failed: its trouble.
        (
            "451 4.3.0 Virus scanning is unavailable, message deferred",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "451 4.3.0 Spam scanner is unavailable, try again later",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "554 5.6.0 Message could not be queued",
            S::DataEnd,
            C::ServerError,
            P,
            Scope::Message,
        ),
        (
            "450 4.3.0 Sender verification is temporarily unavailable",
            S::MailFrom,
            C::ServerError,
            T,
            Scope::Message,
        ),
        (
            "451 4.7.0 Authentication is busy, please retry",
            S::Unknown,
            C::ServerError,
            T,
            Scope::Destination,
        ),
        (
            "454 4.7.0 Temporary authentication failure",
            S::Unknown,
            C::ServerError,
            T,
            Scope::Destination,
        ),
        // Guard: refused credentials stay ours.
        (
            "535 5.7.8 Authentication failed: bad credentials",
            S::Unknown,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        // Words a cause states.
        (
            "452 4.3.1 Monthly email allowance reached for this account",
            S::DataEnd,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "550 Usuário não encontrado neste servidor",
            S::DataEnd,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        (
            "421 4.7.0 Failed setting up TLS, closing connection",
            S::Unknown,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        (
            "553 You should be authenticated",
            S::MailFrom,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        (
            "550 5.5.1 Null-sender messages should only have one recipient",
            S::RcptTo,
            C::TooManyRecipients,
            P,
            Scope::Message,
        ),
        // A HELO name that is not fully qualified holds the destination, whatever stage says it.
        (
            "550 HELO is not an FQDN",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        (
            "550 5.7.1 HELO domain must be a valid FQDN",
            S::DataEnd,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        // Guards: a recipients-per-connection limit and a host without a name stay what they were.
        (
            "452 4.5.3 Too many recipients, recipients per connection limit reached",
            S::RcptTo,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
        (
            "554 5.7.1 Client host rejected: cannot find your hostname, not fully qualified",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // Guards from the review: a cause named after the new phrases' words still decides.
        (
            "554 5.7.1 Message not queued: spam detected",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        (
            "552 5.2.2 Mailbox storage allowance exceeded for user jdoe",
            S::RcptTo,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
        (
            "535 5.7.8 Falha na autenticação: usuário não encontrado",
            S::Unknown,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        (
            "553 5.1.8 Sender domain must be a FQDN or address literal",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 Encrypted archive: virus scanning not available, message rejected",
            S::DataEnd,
            C::VirusContent,
            P,
            Scope::Message,
        ),
        // After the review: TLS set-up in other words, and a HELO that must be an FQDN.
        (
            "454 4.7.0 Failed to set up TLS",
            S::Ehlo,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        (
            "501 HELO must be a FQDN",
            S::Ehlo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
    ]);
}

/// The twenty-ninth round: words from the retired `fresh29/` and from two probe sets that
/// were read (`tests/data/probes/probe3.jsonl`, `probe5.jsonl`; written replies, not real:
/// design.md, "Probe sets"). Every case but the marked guards is decided differently on
/// the previous main (1a02845).
#[test]
fn twenty_ninth_round_words_from_fresh29_and_the_read_probes() {
    check_scoped(&[
        // A queue file the receiver cannot write is its own failure, not greylisting.
        (
            "450 can't create queuefile. please try again later.",
            S::Data,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // One mailbox receiving too fast, said with abbreviations.
        (
            "450 4.7.1 Too many incoming msgs for this rcpt, slow down",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Recipient,
        ),
        // Concurrency said without the word "connection".
        (
            "421 4.3.2 Max simultaneous conns reached for your host",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        (
            "421 Concurrency cap reached, try later",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        // An allowance is a rate limit.
        (
            "550 5.7.1 Daily sending allowance for smtp-user shop01 used up",
            S::MailFrom,
            C::RateLimited,
            P,
            Scope::Destination,
        ),
        // Guard: under a recipient-count code the same words give way to the code.
        (
            "452 4.5.3 Your host has exceeded its daily message allowance",
            S::RcptTo,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
        // A spam verdict without the word "spam".
        (
            "550 5.7.1 Message scored 9.1 points by the Bayesian filter",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        // Reputation said as low trust or abuse reports.
        (
            "554 5.7.1 Message refused: sending domain has low trust with our filter",
            S::DataEnd,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "450 4.7.1 Mail from your network has generated excessive abuse reports",
            S::MailFrom,
            C::Reputation,
            T,
            Scope::Destination,
        ),
        // TLS required or failed, said as cleartext refused or a negotiation error.
        (
            "554 5.7.1 Plaintext connections are not accepted here",
            S::MailFrom,
            C::TlsRequired,
            P,
            Scope::Connection,
        ),
        (
            "421 4.7.0 SSL negotiation error",
            S::Unknown,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        // OpenSSL's function name runs on past the phrase ("ssl3_*").
        (
            "421 4.7.0 SSL3_GET_RECORD:wrong version number, closing",
            S::Unknown,
            C::TlsFailed,
            T,
            Scope::Connection,
        ),
        // Greylisting said as a sender not seen before.
        (
            "451 4.7.1 Your server has not been seen before, retry in 2 minutes",
            S::RcptTo,
            C::Greylisted,
            T,
            Scope::Recipient,
        ),
        // A host that takes no mail at all (RFC 7504's 521).
        (
            "521 Host does not receive mail",
            S::Greeting,
            C::NoMailService,
            P,
            Scope::Destination,
        ),
        // The cause on the second line under a generic first one.
        (
            "452-4.2.2 Delivery temporarily suspended\r\n452 4.2.2 The mailbox of user@example.org would exceed its allotted space",
            S::RcptTo,
            C::MailboxFull,
            T,
            Scope::Recipient,
        ),
        (
            "554 5.7.1 ARC chain broken",
            S::DataEnd,
            C::SenderAuthentication,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 This account is closed",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        // Guard: an account that bounced too much is the receiver's rule on it, not our
        // host's reputation.
        (
            "550 5.7.1 Your account generated too many bounces",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        // Guard: a receiver's own upstream refusing its connection is its error, not our
        // network.
        (
            "451 4.3.0 Upstream failed: connect ECONNREFUSED 192.0.2.10:443",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
    ]);
}

/// The thirtieth round's words from the retired `fresh30/`, and two scopes a user relies
/// on: a reply to the end of the data that opens with one recipient's address is that
/// recipient's (LMTP answers each recipient after the data), and a limit on one mailbox's
/// concurrent deliveries holds that recipient, not the destination. Every case gives
/// another verdict on 0e415f2 (the previous main) except the marked guards.
#[test]
fn thirtieth_round_words_from_fresh30_and_one_recipients_scopes() {
    check_scoped(&[
        // "Back off" asks us to slow down: a rate limit, whatever else the line says.
        (
            "421 Too much load, please back off",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        (
            "421 4.7.0 too many errors, please back off",
            S::Greeting,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        // Unknown users counted against our host are a verdict on it, not on this
        // recipient, even inside Postfix's recipient frame.
        (
            "550 5.7.1 <user@example.org>: Recipient address rejected: Too many users unknown from this host",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // The percent hack is a relaying trick.
        (
            "553 5.7.1 \"%\" character disallowed in recipients",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        (
            "553 Percent hack not allowed here",
            S::RcptTo,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // A SIZE parameter the server cannot parse is our syntax, not a message too big.
        (
            "501 Invalid message size parameter",
            S::MailFrom,
            C::Protocol,
            P,
            Scope::Message,
        ),
        // Guard: a size over the limit stays a message too big.
        (
            "552 5.3.4 Message size exceeds fixed limit",
            S::DataEnd,
            C::MessageTooBig,
            P,
            Scope::Message,
        ),
        // An LMTP-style reply after the data naming one recipient is that recipient's.
        (
            "451 4.3.0 <user@example.org> Temporary internal error",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
        // Guard: without the address the same error is this message's.
        (
            "451 4.3.0 Temporary internal error",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // Guard: a role address first is not the recipient's result.
        (
            "451 4.3.0 <postmaster@example.org> Temporary internal error, write to this address",
            S::DataEnd,
            C::ServerError,
            T,
            Scope::Message,
        ),
        // Guard: a temporary shutdown that asks us to back off is still a shutdown.
        (
            "421 4.3.2 Service shutting down for maintenance, please back off",
            S::Greeting,
            C::ServiceUnavailable,
            T,
            Scope::Connection,
        ),
        // Guard: the message's own cause stays the message's.
        (
            "550 5.7.1 <user@example.org> Message rejected as spam",
            S::DataEnd,
            C::SpamContent,
            P,
            Scope::Message,
        ),
        // One mailbox's concurrent deliveries: that recipient waits, also under a 421.
        (
            "451 4.3.0 <user@example.org> Too many concurrent deliveries for user",
            S::DataEnd,
            C::TooManyConnections,
            T,
            Scope::Recipient,
        ),
        (
            "421 4.7.1 Too many concurrent deliveries for this mailbox",
            S::RcptTo,
            C::TooManyConnections,
            T,
            Scope::Recipient,
        ),
        // Guard: a recipient's domain is not one mailbox.
        (
            "451 4.7.1 Too many concurrent deliveries to the recipient domain",
            S::RcptTo,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
        // Guard: concurrency from our IP holds the destination.
        (
            "421 4.7.0 Too many concurrent connections from your IP",
            S::Greeting,
            C::TooManyConnections,
            T,
            Scope::Destination,
        ),
    ]);
}

/// The same reply to the end of the data, naming one recipient, is scoped alike whether it
/// arrives live, as a DSN's `Diagnostic-Code` or quoted in a Postfix bounce; a role
/// address first stays the message's on every path.
#[test]
fn a_data_end_reply_naming_one_recipient_is_scoped_alike_on_every_path() {
    let c = c();
    let wire = "450 4.3.0 <user@example.org> System resource problem";
    let live = c.classify(&reply(wire), S::DataEnd);
    assert_eq!(live.scope, Scope::Recipient, "{live:?}");
    for text in [
        format!("smtp; {wire}"),
        format!("host mx.example.org[192.0.2.1] said: {wire} (in reply to end of DATA command)"),
    ] {
        let v = c.classify_text(&text, S::DataEnd);
        assert_eq!(
            (v.category, v.scope, v.disposition),
            (live.category, live.scope, live.disposition),
            "{text}"
        );
    }
    // The bounce names the stage itself.
    let bounce =
        format!("host mx.example.org[192.0.2.1] said: {wire} (in reply to end of DATA command)");
    assert_eq!(c.classify_text(&bounce, S::Unknown).scope, Scope::Recipient);
    let role = "host mx.example.org[192.0.2.1] said: 450 4.3.0 <postmaster@example.org> System resource problem (in reply to end of DATA command)";
    assert_eq!(c.classify_text(role, S::Unknown).scope, Scope::Message);
}

/// The thirty-first round's words from the retired `fresh31/`. Every case gives another
/// verdict on b2f197d (the previous main) except the marked guards.
#[test]
fn thirty_first_round_words_from_fresh31() {
    check_scoped(&[
        // A host that cannot receive mail now is unavailable, not throttling us.
        (
            "450 Cannot accept mail at this time",
            S::Greeting,
            C::ServiceUnavailable,
            T,
            Scope::Connection,
        ),
        // A receiver that cannot determine our address or host name refuses our host.
        (
            "421 4.7.0 Unable to determine your hostname",
            S::Greeting,
            C::Reputation,
            T,
            Scope::Destination,
        ),
        // A limit per IP is a rate limit on our host, even when it counts recipients.
        (
            "451 4.7.1 Recipient count exceeded our IP limit, try later",
            S::RcptTo,
            C::RateLimited,
            T,
            Scope::Destination,
        ),
        // Guard: refusing mail from our IP "at this time" is still about our host.
        (
            "550 5.7.1 We cannot accept mail from your IP at this time",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // Guard: a recipient count without an IP limit stays the message's.
        (
            "452 4.5.3 Too many recipients",
            S::RcptTo,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
    ]);
}

/// Words from `fresh32/`'s misses, read once it retired into tuning (round 32).
#[test]
fn thirty_second_round_words_from_fresh32() {
    check_scoped(&[
        // A listener that wants every connection authenticated asks for AUTH, whatever
        // code it uses; it is not an unknown recipient.
        (
            "550 All SMTP connections must be authenticated",
            S::RcptTo,
            C::AuthRequired,
            P,
            Scope::Connection,
        ),
        // A failed lookup of our host's name is a reverse-DNS check of our host.
        (
            "450 4.7.1 Temporary lookup failure of hostname for connection to IP address 192.0.2.10",
            S::RcptTo,
            C::Reputation,
            T,
            Scope::Destination,
        ),
        // Refusing mail to the customers of a blocklist service is the operator's rule
        // about that recipient, not a listing of our IP.
        (
            "554 5.7.1 <user@example.org>: Recipient address rejected: this server does not deliver mail to UCEProtect customers",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        // Guard: "too much spam" from our client host is our host's standing (the model
        // decided it before; the retrained one no longer does, the words do now).
        (
            "554 5.7.1 <mx.example.net[192.0.2.10]>: Client host rejected: Too much spam",
            S::RcptTo,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        // Guard: an address that takes mail only from inside its organisation restricts
        // that recipient (the model decided it before; the retrained one reads our
        // sender, the words decide now).
        (
            "550 5.7.1 Mail from external senders to this internal-only list is rejected",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Recipient,
        ),
        // Guard: a listing on the blocklist itself is still a listing.
        (
            "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using dnsbl-1.uceprotect.net",
            S::RcptTo,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        // Guard: a listing that mentions the blocklist's customers is still a listing.
        (
            "554 5.7.1 Blocked: your IP is listed by UCEPROTECT; uceprotect customers can pay for delisting",
            S::RcptTo,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        // Guard: a failed lookup of the recipient domain's host name is not about our host.
        (
            "451 4.3.0 Temporary lookup failure of hostname for recipient domain",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
        // Guard: a temporary lookup failure of the receiver's own tables is its error.
        (
            "451 4.3.0 <user@example.org>: Temporary lookup failure",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
    ]);
}

/// Words from `fresh33/`'s misses, read once it retired into tuning (round 33).
#[test]
fn thirty_third_round_words_from_fresh33() {
    check_scoped(&[
        // An address the receiver "could not resolve" under a bad-mailbox code is an
        // unknown recipient, and permanent: not a passing DNS fault.
        (
            "554 5.1.1 bounced address: could not resolve address user@example.org",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        // A 550 or 553 to MAIL FROM with the undefined X.3.0 refuses our sender.
        (
            "553 5.3.0 <news@example.net>... SPAM REJECT",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.3.0 <news@example.net>... SPAM REJECT",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // A sender claiming the receiver's own domain from the internet is refused as
        // our sender, the message's, even inside a recipient frame.
        (
            "554 5.7.1 <user@example.org>: Recipient address rejected: internal sender from the internet",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "554 5.7.1 <user@example.org>: Recipient address rejected: mail refusé car émetteur interne depuis internet",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        // Guard: a resolver failure without a mailbox code stays a passing DNS fault.
        (
            "451 4.4.3 could not resolve host mx.example.org",
            S::RcptTo,
            C::Dns,
            T,
            Scope::Recipient,
        ),
        // Guard: a 553 5.3.0 to RCPT TO is not about our sender.
        (
            "553 5.3.0 Mailbox unavailable, system error",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
    ]);
}

/// The thirty-fourth round's words, from the misses of `fresh34/` (retired into tuning):
/// Exim ACL texts a receiving server logged. A null-sender bounce refused as faked is a
/// refusal of our (empty) sender, the message's; an ACL's words about our HELO argument
/// (a bare address, the receiver's own host name, a bad name "given in HELO/EHLO") hold
/// the destination, as every HELO check does, even when said to one recipient.
#[test]
fn thirty_fourth_round_words_from_fresh34() {
    check_scoped(&[
        (
            "550 Faked bounce",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 5.7.1 Forged bounce message rejected",
            S::RcptTo,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "550 HELO of bare IP: 192.0.2.10",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        (
            "550 HELO of systems hostname: mx.example.org",
            S::RcptTo,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "550 Invalid domain or IP given in HELO/EHLO",
            S::RcptTo,
            C::Protocol,
            P,
            Scope::Destination,
        ),
        // Guard: an invalid domain said without HELO is still the recipient's domain.
        (
            "550 5.1.2 Invalid domain example.org",
            S::RcptTo,
            C::DomainNotFound,
            P,
            Scope::Recipient,
        ),
    ]);
}

/// The thirty-fifth round's words, from the misses of `fresh35/` (retired into tuning): a
/// server's reply table and a Java MTA's built-in replies, short texts the basic code or the
/// model had read as a protocol error or an outage. A blocklisting said at the greeting
/// ("your IP is on a blacklist") is no longer outvoted by Orange's "Service refused" rule,
/// which now needs Orange's own sentence.
#[test]
fn thirty_fifth_round_words_from_fresh35() {
    check_scoped(&[
        (
            "451 out of allow RCPT numbers.",
            S::Unknown,
            C::TooManyRecipients,
            T,
            Scope::Message,
        ),
        (
            "550 user is locked.",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "551 auth error.",
            S::Auth,
            C::AuthFailed,
            P,
            Scope::Connection,
        ),
        (
            "454 4.7.0 Connection lost to authentication server",
            S::Auth,
            C::ServerError,
            T,
            Scope::Destination,
        ),
        (
            "454 4.7.0 Authentication server unavailable",
            S::Auth,
            C::ServerError,
            T,
            Scope::Destination,
        ),
        (
            "552 mail from invalid.",
            S::Unknown,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "552 looping message.",
            S::DataEnd,
            C::Policy,
            P,
            Scope::Message,
        ),
        (
            "554 attachment is too long.",
            S::DataEnd,
            C::MessageTooBig,
            P,
            Scope::Message,
        ),
        (
            "554 openrelay check.",
            S::Unknown,
            C::Reputation,
            P,
            Scope::Destination,
        ),
        (
            "555 helohost error.",
            S::MailFrom,
            C::Policy,
            P,
            Scope::Destination,
        ),
        (
            "550 Service refused - your IP is on a blacklist",
            S::Greeting,
            C::Blocklisted,
            P,
            Scope::Destination,
        ),
        (
            "451 4.7.1 Service refused by local policy (rule 17). Please contact postmaster@example.org",
            S::RcptTo,
            C::Policy,
            T,
            Scope::Recipient,
        ),
        // Guards: a syntax code keeps "MAIL FROM invalid" and "auth error" the command's
        // form, not a refused sender or refused credentials.
        (
            "501 5.5.4 MAIL FROM invalid syntax",
            S::MailFrom,
            C::Protocol,
            P,
            Scope::Message,
        ),
        (
            "501 5.5.2 Auth error: cannot decode response",
            S::Auth,
            C::Protocol,
            P,
            Scope::Connection,
        ),
        // Guard: Orange's own sentence still reads as Orange's refusal of our IP for now.
        (
            "421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR005_505 [505]",
            S::Greeting,
            C::Policy,
            T,
            Scope::Destination,
        ),
    ]);
}

/// The thirty-sixth round's words, from the misses of `fresh36/` (retired into tuning): two
/// bounce-classification tables' example replies. A `552` at RCPT that says the recipient's
/// storage is full is a full mailbox, not too many recipients; "no longer exists", broken
/// English "no exist" and "not a member of domain" name an unknown address; "account
/// inactive" a disabled one; "invalid structure" a malformed message; "not handled by this
/// system" a domain this host does not take mail for.
#[test]
fn thirty_sixth_round_words_from_fresh36() {
    check_scoped(&[
        (
            "552 user storage full",
            S::RcptTo,
            C::MailboxFull,
            P,
            Scope::Recipient,
        ),
        (
            "554 5.0.0 the address no longer exists",
            S::Unknown,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        (
            "451 path no exist",
            S::Unknown,
            C::UserUnknown,
            T,
            Scope::Recipient,
        ),
        (
            "550 Sorry, user not a member of domain example.org",
            S::RcptTo,
            C::UserUnknown,
            P,
            Scope::Recipient,
        ),
        (
            "550 <bob@example.org>: account inactive",
            S::RcptTo,
            C::MailboxDisabled,
            P,
            Scope::Recipient,
        ),
        (
            "552 invalid structure",
            S::DataEnd,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "554 message rejected: invalid structure",
            S::Unknown,
            C::ContentFormat,
            P,
            Scope::Message,
        ),
        (
            "553 5.0.0 not handled by this system",
            S::Unknown,
            C::RelayDenied,
            P,
            Scope::Recipient,
        ),
        // Guards: at MAIL FROM "no longer exists" is our sender's address; the system's
        // own storage is still a server resource, not a recipient's mailbox.
        (
            "553 sender address no longer exists",
            S::MailFrom,
            C::SenderRejected,
            P,
            Scope::Message,
        ),
        (
            "452 4.3.1 system storage full",
            S::RcptTo,
            C::ServerError,
            T,
            Scope::Recipient,
        ),
    ]);
}
