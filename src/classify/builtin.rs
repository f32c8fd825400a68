//! The built-in rules, in priority order (the first rule whose conditions all hold
//! decides).
//!
//! Tiers, from first to last:
//!
//! 1. **Exceptions** that override the code's first digit, each with its source.
//! 2. **Destination-level wording**: content URLs on blocklists, greylisting, too many
//!    connections, rate limits, blocklists, reputation, reverse DNS / HELO checks.
//!    These come first because a server that throttles or blocks us often does it
//!    with a recipient-looking code (`550 5.1.1 … has sent to too many recipients`).
//! 3. **Stage rules** (RFC 5321/7504): `521`/`556`, `5xx` to `EHLO` (fall back to
//!    `HELO`), a `5xx` greeting.
//! 4. **Receivers' and MTAs' own wording**, provider-specific before generic.
//! 5. **Specific enhanced codes** (RFC 3463, RFC 7505, RFC 7372, RFC 8689 and
//!    providers' documented extensions).
//! 6. **Vaguer wording** (`recipient address rejected`, `access denied`, `try again later`).
//! 7. **Vague enhanced codes** (`X.7.1`, `X.7.0`, `X.1.0`…).
//! 8. **Basic codes** with their RFC 5321 meaning, stage-aware.
//!
//! Phrases are lower case and matched ASCII case-insensitively at word boundaries: a
//! leading `*` lets the phrase start inside a word, a trailing `*` lets it end inside
//! one (`greylist*` matches `greylisted` and `greylisting`).

use std::borrow::Cow;

use super::rule::{CodePat, EnhPat, Phrase, Rule, stage_bit};
use super::{Category, Disposition, Scope, Stage};

use Category as C;
use Stage as S;

/// A rule being declared, and any pattern in it that did not parse.
struct B(Rule, Vec<String>);

fn r(id: &'static str, category: Category, description: &'static str) -> B {
    B(
        Rule {
            id: Cow::Borrowed(id),
            description: Cow::Borrowed(description),
            stages: 0,
            codes: Vec::new(),
            enhanced: Vec::new(),
            phrases: Vec::new(),
            disposition: None,
            category,
            scope: None,
            retry_after: None,
        },
        Vec::new(),
    )
}

impl B {
    /// The text contains one of these phrases.
    fn t(mut self, phrases: &[&'static str]) -> B {
        for p in phrases {
            let mut s: &'static str = p;
            let word_start = !s.starts_with('*');
            if !word_start {
                s = &s[1..];
            }
            let word_end = !s.ends_with('*');
            if !word_end {
                s = &s[..s.len() - 1];
            }
            debug_assert_eq!(s, s.to_ascii_lowercase(), "built-in phrases are lower case");
            self.0.phrases.push(Phrase {
                text: Cow::Borrowed(s),
                word_start,
                word_end,
            });
        }
        self
    }

    /// Basic code patterns, space-separated.
    fn codes(mut self, pats: &'static str) -> B {
        for p in pats.split_whitespace() {
            match CodePat::parse(p) {
                Ok(c) => self.0.codes.push(c),
                Err(e) => self.1.push(e),
            }
        }
        self
    }

    /// Enhanced code patterns, space-separated (`none` = no enhanced code).
    fn enh(mut self, pats: &'static str) -> B {
        for p in pats.split_whitespace() {
            match EnhPat::parse(p) {
                Ok(c) => self.0.enhanced.push(c),
                Err(e) => self.1.push(e),
            }
        }
        self
    }

    fn at(mut self, stages: &[Stage]) -> B {
        self.0.stages = stages.iter().fold(0, |acc, s| acc | stage_bit(*s));
        self
    }

    fn disp(mut self, d: Disposition) -> B {
        self.0.disposition = Some(d);
        self
    }

    fn scope(mut self, s: Scope) -> B {
        self.0.scope = Some(s);
        self
    }
}

/// Stages that belong to a transaction's envelope or content (not the set-up).
const TXN: &[Stage] = &[
    S::MailFrom,
    S::RcptTo,
    S::Data,
    S::DataEnd,
    S::Bdat,
    S::Unknown,
];

/// "No such user" wording (Postfix, Exim, Sendmail, qmail, Exchange, Gmail, Yahoo, iCloud,
/// Proton, Mail.ru, QQ/163, Orange, Cisco, Lotus Domino): about the recipient, except at
/// MAIL FROM where it is about our sender address.
#[rustfmt::skip]
const USER_UNKNOWN: &[&str] = &["user unknown", "unknown user", "no such user", "no such recipient", "no such mailbox", "mailbox not found", "mailbox does not exist",
                 "address does not exist", "does not exist", "*n't exist", "recipient not found", "recipient unknown", "unknown recipient",
                 "user not found", "invalid recipient", "invalid mailbox", "recipnotfound", "recipientnotfound", "not our customer", "not our user",
                 "no mailbox here by that name", "no mail-box here", "no mailbox by that name", "addressee unknown", "unknown or illegal",
                 "user not exist", "no such address", "unknown address", "nosuchuser", "mailbox unavailable", "no mailbox", "utilisateur inconnu",
                 "destinataire invalide", "invalid address", "not a valid user", "unknown local part", "recipient does not exist",
                 "no longer on server", "this user doesn't have a", "no such person", "address unknown", "unknown account",
                 "not configured to receive", "bad destination mailbox", "undeliverable address", "recipient address unknown",
                 "account does not exist", "mailbox not available", "user is unknown", "invalid user", "unknown alias", "unknown mailbox", "not listed in domino directory", "not listed in public name",
    "not listed in the directory", "no such local user", "recipient address rejected: user unknown"];

/// Every stage but MAIL FROM.
const NOT_MAIL_FROM: &[Stage] = &[
    S::Connect,
    S::Greeting,
    S::Ehlo,
    S::Helo,
    S::Starttls,
    S::Auth,
    S::RcptTo,
    S::Data,
    S::DataEnd,
    S::Bdat,
    S::Rset,
    S::Quit,
    S::Unknown,
];

/// The built-in rules, in priority order. A pattern that does not parse is left out
/// of its rule; the `builtin_rules_are_valid` test proves there is none.
pub(crate) fn rules() -> Vec<Rule> {
    declared().into_iter().map(|b| b.0).collect()
}

#[rustfmt::skip]
fn declared() -> Vec<B> {
    let mut v: Vec<B> = Vec::with_capacity(256);

    // ---- 1. Exceptions to the first digit --------------------------------------
    v.push(
        r("yahoo.ts03_permanently_deferred", C::Reputation,
          "Yahoo [TS03]: a 421 that will not succeed; Yahoo's help article SLN3436 says not to resend until the sending practices change")
            .t(&["[ts03]", "permanently deferred"])
            .codes("4xx")
            .disp(Disposition::Permanent)
            .scope(Scope::Destination),
    );
    // ---- 2. Destination-level wording ------------------------------------------
    v.push(
        r("dnsbl.content_url_listed", C::SpamContent,
          "a URL or domain in the message is on a URI blocklist (URIBL, SURBL, Spamhaus DBL): the content, not our IP")
            .t(&["uribl", "surbl", "dbl.spamhaus", "blacklisted url", "blacklisted link", "url in this email", "url in the message", "spamtext", "spam pattern"]),
    );
    v.push(
        r(
            "google_groups.spam_classification",
            C::SpamContent,
            "Google Groups: the message was rejected by the group's spam classification",
        )
        .t(&["rejected due to spam classification", "spam classification"]),
    );
    v.push(
        r("greylisting", C::Greylisted,
          "greylisting (postgrey, milter-greylist, sqlgrey, greylistd, Exim/Rspamd greylisting): retry after the server's delay")
            .t(&["greylist*", "graylist*", "grey-list*", "gray-list*", "grey list*", "gray list*", "postgrey", "greylisted", "greylisting in action", "temporarily deferred by greylisting"]),
    );
    v.push(
        r("text.too_many_connections", C::TooManyConnections,
          "too many concurrent connections from our IP (Postfix, Exim, Sendmail, Cisco, Mimecast, Comcast, Orange OFR_104/OFR004_104 wording)")
            .t(&["too many connections", "too many concurrent", "too many simultaneous", "too many sessions", "too many open connections",
                 "too many smtp sessions", "too many smtp connections", "connection limit exceeded", "connection limit reached",
                 "concurrency limit", "concurrent connection limit", "maximum number of connections", "maximum number of concurrent", "max connections", "trop de connexions",
                 "connection frequency limited", "connection rate limit", "too many connection*", "number of connections",
                 "too many concurrent smtp connections"])
            .scope(Scope::Destination),
    );
    v.push(
        r("gmail.rate_limited", C::RateLimited,
          "Gmail: unusual rate of (unsolicited) mail / the user is receiving mail at a rate that prevents delivery (4.7.28, 4.2.1 ReceivingRate)")
            .t(&["unusual rate", "peak smtp relay limit", "daily sending quota", "daily user sending limit"]),
    );
    v.push(
        r("text.recipient_rate", C::RateLimited,
          "this recipient receives mail too fast (Gmail 4.2.1/5.2.1 ReceivingRate, Outlook, Mail.ru per-mailbox ratelimit): only this recipient must wait")
            .t(&["receiving mail at a rate", "receivingrateperm", "receivingratetemp", "receiving mail too quickly", "is receiving mail too",
                 "ratelimit exceeded for mailbox", "user is receiving mail"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("yahoo.deferred_volume_complaints", C::RateLimited,
          "Yahoo/AOL [TSS04]/[TS01]/[TS02]: temporarily deferred due to unexpected volume or user complaints (Yahoo Sender Hub error codes)")
            .t(&["[tss0*", "[ts01]", "[ts02]", "[gl01]", "unexpected volume", "temporarily deferred due to user complaints"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "comcast.rate_limited",
            C::RateLimited,
            "Comcast RL-codes: rate limited (Comcast postmaster error codes)",
        )
        .t(&["rl0000*", "rl00*"]),
    );
    v.push(
        r(
            "qq.frequency_limited",
            C::RateLimited,
            "QQ Mail: IP frequency limited (service.mail.qq.com help 1000725)",
        )
        .t(&[
            "ip frequency limited",
            "frequency limited",
            "mail frequency limited",
        ]),
    );
    v.push(
        r("netease.codes", C::RateLimited,
          "NetEase 163/126/yeah.net RP:* codes: too many recipients, connections or errors from our IP (NetEase help pages)")
            .t(&["rp:trc", "rp:qrc", "rp:cel", "rp:cdr", "rp:rcl", "rp:tqc"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "text.rate_limited",
            C::RateLimited,
            "rate limiting or throttling wording without a specific code",
        )
        .t(&[
            "rate limit*",
            "ratelimit*",
            "rate-limit*",
            "throttl*",
            "too many messages",
            "too many mails",
            "too many emails",
            "too many recipients this hour", "sent to too many recipients", "received this hour", "sending rate", "message rate", "too many login attempts", "unusual sending activity",
            "too quickly",
            "too fast",
            "slow down",
            "exceeded the rate",
            "daily relay quota",
            "sending quota",
            "sending limit*",
            "messages per hour",
            "messages per minute",
            "emails per hour",
            "mails per",
            "hourly limit",
            "daily limit",
            "volume limit",
            "submission rate",
            "received too many messages",
            "try again later, closing connection",
            "hit our rate",
        ])
        .scope(Scope::Destination),
    );
    v.push(
        r("comcast.blocklisted", C::Blocklisted,
          "Comcast BL-codes: the IP is on a blocklist Comcast uses (Spamhaus, Cloudmark CSI, SenderScore; Comcast postmaster error codes)")
            .t(&["bl0000*", "bl00*"]),
    );
    v.push(
        r("microsoft.banned_ip", C::Blocklisted,
          "Microsoft 365/Outlook.com: banned sending IP / on the block list (5.7.606-649, S3140/S3150); delist at sender.office.com")
            .t(&["banned sending ip", "on our block list", "part of their network is on our block list", "sender.office.com", "(s3140)", "(s3150)", "weren't sent. please contact your internet service provider"]),
    );
    v.push(
        r(
            "att.dnsbl",
            C::Blocklisted,
            "AT&T: DNSBL:RBL / DNSBL:ATTRBL 521 <ip>_is_blocked (AT&T postmaster)",
        )
        .t(&["dnsbl:rbl", "dnsbl:attrbl", "*_is_blocked"]),
    );
    v.push(
        r("proofpoint.blocked", C::Blocklisted,
          "Proofpoint (also iCloud inbound): Blocked - see ipcheck.proofpoint.com / dnsbl-lookup.cgi")
            .t(&["ipcheck.proofpoint", "proofpoint.com/dnsbl", "dnsbl-lookup"]),
    );
    v.push(
        r(
            "barracuda.reputation",
            C::Blocklisted,
            "Barracuda: blocked using Barracuda Reputation (b.barracudacentral.org)",
        )
        .t(&[
            "barracuda reputation",
            "barracudacentral",
            "barracudanetworks.com/reputation",
        ]),
    );
    v.push(
        r("spectrum.rate_limited", C::RateLimited,
          "Spectrum/Charter AUP#In-1310…1340: Cloudmark-based rate and concurrency limits on our IP (Spectrum 'understanding email error codes')")
            .t(&["aup#in-131*", "aup#in-132*", "aup#in-133*", "aup#in-134*", "aup#1310", "aup#1320", "aup#1330", "aup#1340"])
            .scope(Scope::Destination),
    );
    v.push(
        r("spectrum.blocked", C::Blocklisted,
          "Spectrum/Charter AUP#In-1370 / AUP#I-1010: our IP is blocked (Spectrum 'understanding email error codes')")
            .t(&["aup#in-1370", "aup#i-1010", "aup#i-1300"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "cox.blocklisted",
            C::Blocklisted,
            "Cox/Spectrum AUP#CDRBL, AUP#RBL: the IP is on a DNS blocklist (Cox email error codes)",
        )
        .t(&["aup#cdrbl", "aup#rbl", "aup#bl"]),
    );
    v.push(
        r("dnsbl.listed", C::Blocklisted,
          "our IP is on a DNS blocklist (Spamhaus, SpamCop, SORBS, CBL, UCEPROTECT, Cloudmark, ivmSIP, PSBL, Barracuda…)")
            .t(&["blocked using", "blacklist*", "blocklist*", "block list", "black list", "dnsbl*", "rbl", "spamhaus", "spamcop",
                 "sorbs", "abuseat", "uceprotect", "psbl", "ivmsip", "cloudmark", "is listed on", "is listed in", "are listed on", "listed on our", "ip is listed", "client host blocked",
                 "client host rejected: blocked", "blocked for abuse", "blocked for spam*", "bloquee pour incident de spam",
                 "ip blocked", "blocked ip", "ip address blocked", "blocked - see", "zen.spamhaus",
                 "mailspike", "spamrats", "hostkarma", "s5h.net", "0spam", "nordspam", "lashback"])
            .scope(Scope::Destination),
    );
    v.push(
        r("t_online.ip_block", C::Reputation,
          "T-Online: 554 IP=… - A problem occurred. (Ask your postmaster … tobr@rx.t-online.de): the sending IP is not accepted (T-Online postmaster)")
            .t(&["tobr@rx.t-online.de", "a problem occurred. (ask your postmaster", "(nowl)"])
            .scope(Scope::Destination),
    );
    v.push(
        r("orange.service_refused", C::Policy,
          "Orange/Wanadoo 'Service refusé, veuillez essayer plus tard' (OFR_999, OFR004_105, LPN…): the platform refuses our IP for now (Orange postmaster error codes)")
            .t(&["service refuse", "service refused", "ofr_999", "ofr004_105"])
            .scope(Scope::Destination),
    );
    v.push(
        r("microsoft.reputation", C::Reputation,
          "Microsoft: traffic not accepted from this IP / too many unwanted messages / tenant over threshold (5.7.708, 5.7.705, SC-004)")
            .t(&["traffic not accepted", "unwanted messages", "exceeded threshold", "tenant has exceeded", "client blocked from sending", "unregistered domain*"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.reputation", C::Reputation,
          "low IP or domain reputation (Gmail 5.7.1 low reputation, Microsoft 4.7.650 IP reputation, Cisco SenderBase, Mimecast, Proofpoint)")
            .t(&["reputation", "senderbase", "sender score", "senderscore", "untrusted ip", "new or untrusted", "poor reputation",
                 "bad reputation", "low reputation", "ip score", "suspicious due to"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.reverse_dns", C::Reputation,
          "our IP has no valid reverse DNS (PTR) or it does not match (Gmail 5.7.25, Comcast, GMX, Postfix reject_unknown_client_hostname)")
            .t(&["reverse dns", "reverse-dns", "rdns", "ptr record", "ptr resource record", "dns ptr", "no ptr", "missing ptr", "reverse lookup",
                 "ip name lookup failed", "name lookup failed", "cannot find your hostname", "unverifyable sending", "unverifiable sending",
                 "reverse dns lookup", "client host rejected: cannot find your", "no reverse", "invalid rdns", "fcrdns", "reverse mapping",
                 "does not resolve to", "hostname does not match"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.client_host_policy", C::Policy,
          "our client host or HELO is refused (dynamic/residential space, HELO checks, not an MX, wrong network)")
            .t(&["helo command rejected", "invalid helo", "bad helo", "helo name", "ehlo name", "helo/ehlo", "mismatches client ip",
                 "may not be mail exchanger", "use the smtp server of your isp", "smtp server of your isp", "dynamic ip", "dynamic/residential",
                 "residential ip", "dialup", "dial-up", "es0000*", "host network not allowed", "your host is not allowed",
                 "not allowed to connect", "not accepting connections", "connections not accepted", "client host rejected",
                 "not welcome"])
            .scope(Scope::Destination),
    );

    v.push(
        r("rfc5321.too_many_recipients", C::TooManyRecipients,
          "too many recipients in one transaction: transient even as a 552 (RFC 5321 §4.5.3.1.10); send the rest in another transaction")
            .t(&["too many recipients", "too many rcpt*", "recipient limit exceeded", "maximum number of recipients", "too many addresses", "too many envelope recipients"])
            .codes("452 552 451 450 550 554 553 455 555")
            .disp(Disposition::Transient),
    );

    // ---- 3. Stage rules ---------------------------------------------------------
    v.push(
        r(
            "rfc7504.521_no_mail",
            C::NoMailService,
            "521: the host does not accept mail (RFC 7504)",
        )
        .codes("521"),
    );
    v.push(
        r(
            "rfc7504.556_no_mail",
            C::NoMailService,
            "556: the domain does not accept mail (RFC 7504, null MX RFC 7505)",
        )
        .codes("556"),
    );
    v.push(
        r("rfc5321.ehlo_5xx_fallback_helo", C::Protocol,
          "5xx to EHLO: the server does not support ESMTP; fall back to HELO (RFC 5321 §3.2, §4.1.4), this is not a bounce")
            .at(&[S::Ehlo])
            .codes("5xx")
            .disp(Disposition::Transient)
            .scope(Scope::Connection),
    );
    v.push(
        r("rfc5321.greeting_5xx", C::Policy,
          "a 554 (or other 5xx) greeting: the server refuses this connection, 'no SMTP service here' (RFC 5321 §3.1, §4.3.2); another MX may accept")
            .at(&[S::Greeting, S::Connect])
            .codes("5xx")
            .scope(Scope::Destination),
    );

    // ---- 4. Receivers' and MTAs' wording ------------------------------------------
    v.push(
        r("text.content_format", C::ContentFormat,
          "the message breaks RFC 5322/5321 format rules (Gmail RfcMessageNonCompliant, duplicate or bad headers, 8-bit data, bare LF)")
            .t(&["rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfcmessagenoncompliant", "not rfc", "duplicate header", "multiple addresses in from",
                 "multiple subject", "multiple from", "bad header", "invalid header", "malformed header", "headers too large",
                 "header too large", "too many equal", "x-headers", "8-bit data", "8bit data", "bare lf", "bare linefeed", "bare newline",
                 "missing message-id", "no message-id", "date header", "missing header", "improper use of 8-bit", "non-compliant", "noncompliant",
                 "line too long", "lines too long", "from header", "from: header", "header is missing", "invalid mime"]),
    );
    // Sender authentication (must precede the generic spam wording: Gmail's SPF text
    // says "to best protect our users from spam").
    v.push(
        r("gmail.unauthenticated", C::SenderAuthentication,
          "Gmail 5.7.26/5.7.27/5.7.30: unauthenticated email, DMARC policy, SPF/DKIM failures (Gmail SMTP error reference)")
            .t(&["unauthenticated email", "sender is unauthenticated", "gmail requires all senders to authenticate", "does not have authentication information",
                 "fails to pass spf", "hard fail policy", "authentication results:"]),
    );
    v.push(
        r("microsoft.dmarc", C::SenderAuthentication,
          "Microsoft 365 5.7.509/5.7.510/5.7.515: the sending domain does not pass DMARC/DKIM/SPF")
            .t(&["does not pass dmarc", "dmarcrejection", "the 5322.from", "domain in the 5322.from", "failed to pass the required authentication"]),
    );
    v.push(
        r(
            "text.sender_authentication",
            C::SenderAuthentication,
            "DMARC, SPF, DKIM, ARC or Sender ID failures",
        )
        .t(&[
            "dmarc",
            "spf",
            "dkim",
            "sender policy framework",
            "authentication checks failed",
            "sender authentication",
            "purported responsible address",
            "sender id",
            "senderid",
            "domainkeys",
            "arc validation",
            "invalid ip for sending mail of domain",
            "not authorized to send on behalf",
            "not designated as permitted sender",
            "is not allowed to send mail from",
            "spoof*",
            "forged",
        ]),
    );
    // Content.
    v.push(
        r("text.spam_or_virus", C::SpamContent,
          "'spam or virus' classification without saying which (T-Online, various filters): treated as spam")
            .t(&["spam or virus", "spam/virus", "spam and virus"])
            .scope(Scope::Message),
    );
    v.push(
        r("netease.spam", C::SpamContent,
          "NetEase 163/126 DT:SPM / DT:SUM: the message was judged spam (NetEase help_spam pages)")
            .t(&["dt:spm", "dt:sum", "mail.163.com/help/help_spam"])
            .scope(Scope::Message),
    );
    v.push(
        r("text.virus", C::VirusContent,
          "a virus or malware was found (ClamAV, Amavis, Sophos, Mimecast 'Email rejected due to security policies')")
            .t(&["virus", "malware", "infected", "trojan", "worm", "clamav", "rejected due to security policies", "contains a virus",
                 "banned attachment", "dangerous attachment", "malicious"]),
    );
    v.push(
        r("text.spam_content", C::SpamContent,
          "the message was judged spam (Gmail, Yahoo, iCloud, Mail.ru, Yandex, QQ, Amavis UBE, SpamAssassin, Rspamd, Proofpoint, Mimecast, Barracuda, Orange OFR_506)")
            .t(&["spam", "unsolicited", "junk*", "ube", "bulk mail", "content rejected", "message content rejected", "mail content denied",
                 "mail rejete", "ofr_506", "scored as", "high probability", "looks like spam", "spam score", "spamassassin", "rspamd",
                 "content filter", "message filtered", "suspicious content", "phishing", "fraud", "scam", "reported as spam",
                 "suspected spam", "spam message", "identified as spam", "classified as spam", "content presents a potential"])
            .scope(Scope::Message),
    );
    // Domain and DNS (before "does not exist" wording for users).
    v.push(
        r("gmx.sender_domain_dns", C::SenderRejected,
          "GMX/web.de/mail.com: our sender domain has no valid MX or A record ('invalid DNS MX or A/AAAA resource record')")
            .t(&["invalid dns mx or a/aaaa", "sender domain resolve fail", "sender domain must exist", "sender domain does not exist",
                 "has no a, aaaa, or mx dns records", "domain of sender address", "unresolvable rfc.5321 from domain"]),
    );
    v.push(
        r("text.sender_rejected", C::SenderRejected,
          "the envelope sender is refused (Postfix 'Sender address rejected', Exim sender verify, Exchange SenderFilterAgent)")
            .t(&["sender address rejected", "sender rejected", "sender denied", "sender blocked", "invalid sender", "sender verify failed",
                 "sender verification failed", "unroutable sender", "unrouteable sender", "sender address does not exist", "from: domain is invalid",
                 "senderfilter*", "bad sender", "sender not allowed", "sender is not allowed", "envelope sender", "return-path",
                 "mail from address", "sender address is not valid", "permissions to send as", "sender verify", "verification failed for", "sender domain", "not a registered gateway user"])
            .scope(Scope::Message),
    );
    v.push(
        r(
            "text.null_mx",
            C::NoMailService,
            "the domain accepts no mail: null MX (RFC 7505), 'does not accept mail'",
        )
        .t(&[
            "null mx",
            "nullmx",
            "rfc7505",
            "rfc 7505",
            "does not accept mail",
            "doesn't receive email",
            "does not receive email",
            "accepts no mail",
            "domain does not accept",
            "no mail service",
            "recipient address has a null mx",
        ]),
    );
    v.push(
        r(
            "postfix.dns_try_again",
            C::Dns,
            "Postfix: 'Host not found, try again': a temporary resolver failure (TRY_AGAIN)",
        )
        .t(&[
            "host not found, try again",
            "temporary failure in name resolution",
            "servfail",
            "malformed or unexpected name server reply",
            "dns temporary failure",
            "temporary dns",
            "dns lookup failed temporarily",
            "name server timeout",
            "dns timeout",
        ])
        .disp(Disposition::Transient),
    );
    v.push(
        r(
            "microsoft.dns_domain_missing",
            C::DomainNotFound,
            "Microsoft 365 5.4.310/5.4.316: DNS domain does not exist (InfoDomainNonexistent)",
        )
        .t(&["infodomainnonexistent", "dns domain"]),
    );
    v.push(
        r("rfc5321.501_invalid_domain", C::Policy,
          "501 'invalid domain': a 501 refuses the syntax of an argument we sent (our HELO name or sender domain, RFC 5321 §4.2.2), not the recipient domain's existence")
            .t(&["invalid domain", "invalid hostname", "invalid host name", "bad domain"])
            .codes("501")
            .scope(Scope::Destination),
    );
    v.push(
        r("text.domain_not_found", C::DomainNotFound,
          "the recipient's domain or host does not exist or has no mail route (NXDOMAIN, no MX and no address record, Postfix/Sendmail/Exim wording)")
            .t(&["host unknown", "host or domain name not found", "domain not found", "domain name not found", "no such domain", "domain does not exist",
                 "domain doesn't exist", "nxdomain", "unrouteable address", "unroutable address", "domain is not reachable", "invalid domain",
                 "had no relevant answers", "no mx record", "no mx or a", "host not found", "unknown domain", "domain unknown",
                 "unrouteable mail domain", "mail domain does not exist", "no route for", "no mail exchanger", "domain has no mx", "point to non-existent hosts", "no valid mx"])
            .at(&[S::RcptTo, S::Data, S::DataEnd, S::Bdat, S::Unknown, S::Connect, S::Greeting]),
    );
    v.push(
        r(
            "text.dns",
            C::Dns,
            "a resolver error that is not a definite 'no such domain'",
        )
        .t(&[
            "name service error",
            "dns error",
            "dns failure",
            "dns lookup",
            "lookup failure",
            "resolver error", "resolver failure", "host lookup did not complete"])
        .disp(Disposition::Transient),
    );
    // Sender side (before the recipient wording: at MAIL FROM, "does not exist"
    // means our sender address).
    v.push(
        r(
            "mail_from.address_unknown",
            C::SenderRejected,
            "at MAIL FROM, 'no such user/domain' wording is about our sender address",
        )
        .t(USER_UNKNOWN).t(&["no such domain", "domain not found", "not exist"])
        .at(&[S::MailFrom]),
    );
    // Relay and our own authentication / TLS.
    v.push(
        r("text.auth_required", C::AuthRequired,
          "SMTP AUTH is required (relaying without authentication, Exchange RESOLVER.RST.AuthRequired, MessageLabs)")
            .t(&["authentication required", "authentication is required", "auth required", "authrequired", "requires authentication",
                 "must authenticate", "without authentication", "turn on smtp authentication", "unauthenticated senders",
                 "smtp authentication is required", "client was not authenticated", "not authenticated"]),
    );
    v.push(
        r(
            "text.auth_failed",
            C::AuthFailed,
            "our SMTP AUTH credentials were refused (535 5.7.8 and similar)",
        )
        .t(&[
            "authentication failed",
            "authentication unsuccessful",
            "invalid credentials",
            "username and password not accepted",
            "bad username or password",
            "incorrect authentication data",
            "invalid login",
            "login failed",
            "auth failed",
        ])
        .at(&[S::Auth, S::Unknown, S::MailFrom]),
    );
    v.push(
        r("text.tls_required", C::TlsRequired,
          "the server requires TLS (530 5.7.0 Must issue a STARTTLS command first; 'does not support TLS' when we require it)")
            .t(&["starttls command first", "must issue a starttls", "starttls required", "tls required", "requires tls", "tls is required",
                 "must use tls", "encryption required", "requires encryption", "not support tls", "does not support starttls",
                 "tls not available", "requiretls"]),
    );
    v.push(
        r(
            "text.tls_failed",
            C::TlsFailed,
            "the TLS negotiation or certificate check failed",
        )
        .t(&[
            "tls negotiation failed",
            "tls handshake",
            "ssl handshake",
            "certificate verif*",
            "certificate has expired",
            "cannot start tls",
            "starttls failed",
            "tls error",
            "ssl error",
            "handshake failed",
            "certificate rejected",
        ]),
    );
    v.push(
        r(
            "text.relay_denied",
            C::RelayDenied,
            "relaying refused (Postfix 'Relay access denied', qmail rcpthosts, Exim, Exchange)",
        )
        .t(&[
            "relay access denied",
            "relaying denied",
            "relay denied",
            "relay not permitted",
            "not permitted to relay",
            "relaying not allowed",
            "relay not allowed",
            "we do not relay",
            "not allowed to relay",
            "isn't allowed to relay",
            "unable to relay",
            "not configured to relay",
            "allowed rcpthosts",
            "open relay",
            "mail relay",
            "relaying prohibited",
            "relay prohibited",
            "no relaying",
            "cannot relay",
            "relaying disallowed",
            "relay not authorized",
            "email address is not verified",
        ]),
    );
    // Mailbox state.
    v.push(
        r("text.mailbox_full", C::MailboxFull,
          "the mailbox is over quota (RFC 3463 X.2.2 is persistent-transient; Gmail OverQuotaTemp/OverQuotaPerm, Exchange QuotaExceeded, GMX/web.de, Yandex)")
            .t(&["mailbox full", "mailbox is full", "mailbox quota", "over quota", "overquota*", "quota exceeded", "*quotaexceeded*", "exceeded storage",
                 "disk quota", "out of storage space", "inbox is full", "user is over quota", "quota violation", "mailbox size limit", "mailbox limit",
                 "blocks limit exceeded", "inode limit exceeded", "storage allocation", "exceeds quota", "exceeded quota", "mailbox has exceeded",
                 "mailboxfull", "full mailbox", "not enough storage", "storage is full", "quota reached", "over its quota", "over the quota",
                 "overquotatemp", "overquotaperm", "postfach voll", "boite pleine", "insufficient storage for the user"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("mailru.invalid_mailbox", C::UserUnknown,
          "Mail.ru: 'Message was not accepted -- invalid mailbox': Mail.ru's reply for an address that cannot receive mail (not created, or closed)")
            .t(&["message was not accepted -- invalid mailbox"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.mailbox_disabled", C::MailboxDisabled,
          "the mailbox exists but is disabled, inactive, suspended, frozen or locked (Gmail DisabledUser, Yahoo 554.30, Mail.ru, i.ua)")
            .t(&["mailbox disabled", "mailbox is disabled", "account disabled", "account is disabled", "account has been disabled", "is disabled",
                 "disabled recipient", "disableduser", "suspended", "mailbox is frozen", "frozen", "temporary locked",
                 "temporarily locked", "account is locked", "account locked", "deactivated", "not activated", "account closed", "account expired",
                 "discontinued", "account is blocked", "recipient account is blocked", "compte du destinataire est bloque", "no longer available",
                 "mailbox is not active", "account has been suspended", "mailbox has been disabled"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.user_unknown", C::UserUnknown,
          "no such user or mailbox (Postfix, Exim, Sendmail, qmail, Exchange RecipientNotFound, Gmail NoSuchUser, Yahoo, iCloud, Proton, Mail.ru, QQ/163, Orange OFR_416, Cisco, Lotus Domino)")
            .t(USER_UNKNOWN)
            .at(NOT_MAIL_FROM)
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.message_too_big", C::MessageTooBig,
          "the message is larger than the receiver accepts (RFC 1870 SIZE; Microsoft RecipSizeLimit; Gmail 5.2.3)")
            .t(&["message too large", "message too big", "message is too large", "message is too big", "message size exceeds", "size exceeds",
                 "exceeds the maximum size", "exceeds maximum", "message length exceeds", "maximum message size", "message exceeded",
                 "recipsizelimit", "size limit", "mailsize limit", "databytes limit", "too large for", "mail too large", "message size", "exceeds size", "exceeded the size",
                 "exceeds the size", "exceeded fixed maximum", "exceeds fixed maximum", "mesgtoobig", "file too large", "too big", "line limit exceeded"]),
    );
    // Policy.
    v.push(
        r("microsoft.restricted_recipient", C::Policy,
          "Microsoft 365 5.7.129 RestrictedToRecipientsPermission / 5.7.133-134 group restrictions: not authorised to send to this recipient")
            .t(&["restrictedtorecipientspermission", "not authorized to send", "not authorised to send", "restricted to", "restrictedtosenders*"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.policy", C::Policy,
          "refused by the receiver's policy (Yahoo 5.7.9 'not accepted for policy reasons', GMX/web.de 'policy restrictions', iCloud CS01)")
            .t(&["policy reasons", "denied by policy", "local policy", "policy violation", "mailpolicy", "policy restrictions", "content policy",
                 "rejected by policy", "rejected per policy", "prohibited", "administrative prohibition", "recipient preferences", "policy rejection",
                 "violates our policy", "against policy", "acceptable use", "aup#", "not accepted for policy", "header error"]),
    );
    // Server and network trouble.
    v.push(
        r("mimecast.internal_resource", C::ServerError,
          "Mimecast 451 'Internal resource temporarily unavailable': a problem inside the receiving platform (Mimecast SMTP error code list)")
            .t(&["internal resource temporarily unavailable"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.service_unavailable", C::ServiceUnavailable,
          "the service is busy, shutting down or unavailable (Microsoft 4.7.500 'Server busy', Postfix/Exim 'Service unavailable')")
            .t(&["server busy", "service unavailable", "service not available", "service currently unavailable", "service is unavailable", "currently unavailable",
                 "temporarily unavailable", "shutting down", "too busy", "system busy", "try again later, closing", "closing transmission channel",
                 "service temporarily", "not available at this time", "maintenance"]),
    );
    v.push(
        r("text.network", C::Network,
          "the transport failed: refused, timed out, reset, lost connection, routing loop (Postfix/Exim/Sendmail bounce wording; RFC 5321 §3.8)")
            .t(&["connection refused", "connection timed out", "timed out", "timeout", "no route to host", "network is unreachable",
                 "host is unreachable", "lost connection", "connection reset", "connection closed", "broken pipe", "conversation with",
                 "too many hops", "hop count exceeded", "routing loop", "mail loop", "mailloop", "loop detected", "loops back",
                 "unable to connect", "could not connect", "connection dropped", "connection lost", "remote host closed", "connection died"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "text.server_error",
            C::ServerError,
            "a server-side error (local error in processing, disk full, configuration error)",
        )
        .t(&[
            "local error",
            "internal error",
            "system error",
            "internal server error",
            "temporary local problem",
            "temporary failure",
            "insufficient system storage", "insufficient system", "insufficient disk space",
            "disk full",
            "out of memory",
            "transaction failed",
            "configuration error",
            "misconfigur*",
            "temporarily unable to process",
            "internal resource",
            "resources temporarily",
            "database error",
            "processing error",
            "queue file write error",
            "temporary problem",
            "storage failure",
            "could not load",
        ])
        .scope(Scope::Destination),
    );
    v.push(
        r(
            "text.protocol",
            C::Protocol,
            "syntax or sequence errors (500/501/502/503/504 wording)",
        )
        .t(&[
            "command not recognized",
            "syntax error",
            "unrecognized command",
            "unrecognised command",
            "bad sequence",
            "improper sequence",
            "command parameter not implemented",
            "not implemented",
            "command unrecognized",
            "protocol error",
            "protocol violation",
            "pipelining",
            "invalid command",
            "unknown command",
            "parameter not recognized",
        ])
        .scope(Scope::Connection),
    );

    // ---- 5. Specific enhanced codes ------------------------------------------------
    v.push(
        r("rfc5321.552_rcpt_too_many_recipients", C::TooManyRecipients,
          "552 at RCPT with no other meaning (no X.2.2, no quota wording): too many recipients, to be treated as 452 (RFC 5321 §4.5.3.1.10)")
            .at(&[S::RcptTo])
            .codes("552")
            .enh("none *.5.3")
            .disp(Disposition::Transient),
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
            C::UserUnknown,
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
            C::ServiceUnavailable,
            "X.4.5 mail system congestion (RFC 3463)",
        ),
        (
            "rfc3463.x.4.6",
            "*.4.6",
            C::Network,
            "X.4.6 routing loop detected (RFC 3463)",
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
            "microsoft.x.7.650",
            "*.7.650",
            C::RateLimited,
            "X.7.650 temporarily rate limited due to IP reputation (Microsoft 365)",
        ),
        (
            "microsoft.x.7.500",
            "*.7.500",
            C::ServiceUnavailable,
            "X.7.500 server busy (Microsoft 365)",
        ),
    ];
    for (id, pat, cat, desc) in enh {
        v.push(r(id, *cat, desc).enh(pat));
    }

    // ---- 6. Vaguer wording -----------------------------------------------------------
    v.push(
        r("text.greylisting_try_later", C::Greylisted,
          "a 450/451 'please try again later' with no other meaning: how several greylisting filters word it")
            .t(&["try again later", "try later", "please try again", "come back later", "retry later", "temporarily rejected", "try again in"])
            .codes("450 451")
            .enh("none *.7.1 *.7.0 *.0.0 *.2.0 *.1.1 *.1.0")
            .at(&[S::RcptTo, S::MailFrom, S::Data, S::DataEnd, S::Bdat, S::Unknown]),
    );
    v.push(
        r("text.mailbox_inactive", C::MailboxDisabled,
          "'inactive' wording (Gmail 5.2.1 'is inactive', iCloud 'inactive email address'): weaker than a specific enhanced code, so a 5.1.1 'inactive email address' stays an unknown user")
            .t(&["is inactive", "account is inactive", "mailbox is inactive", "inactive account", "inactive mailbox", "inactive email address",
                 "inactive user", "no longer active", "inactive recipient"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.recipient_rejected", C::UserUnknown,
          "'Recipient address rejected' with no other reason (Postfix, Microsoft 365 5.4.1 directory-based edge blocking)")
            .t(&["recipient address rejected", "recipient rejected", "rejected recipient", "address rejected", "recipient not accepted",
                 "rcpt to not accepted", "recipient refused", "invalid rcpt"])
            .at(TXN),
    );
    v.push(
        r(
            "text.access_denied",
            C::Policy,
            "'access denied' / 'not allowed' / 'refused' with no other reason: a local policy",
        )
        .t(&[
            "access denied",
            "not allowed",
            "not permitted",
            "denied",
            "refused",
            "blocked",
            "forbidden",
            "rejected for policy",
            "unacceptable",
            "administratively",
            "not authorized",
            "unauthorized",
            "rejected",
            "cannot send",
            "can't send",
            "not accepted",
        ]),
    );

    v.push(r("rfc5321.421", C::ServiceUnavailable,
             "421: service not available, closing the transmission channel (RFC 5321 §4.2.2); the session ends")
        .codes("421").scope(Scope::Connection));
    // ---- 7. Vague enhanced codes -------------------------------------------------------
    v.push(
        r(
            "rfc3463.x.1.0_rcpt",
            C::UserUnknown,
            "X.1.0 other address status, at RCPT: the recipient address (RFC 3463)",
        )
        .enh("*.1.0")
        .at(&[S::RcptTo, S::Unknown]),
    );
    v.push(
        r(
            "rfc3463.x.1.0_mail",
            C::SenderRejected,
            "X.1.0 other address status, at MAIL FROM: the sender address (RFC 3463)",
        )
        .enh("*.1.0")
        .at(&[S::MailFrom]),
    );
    v.push(
        r(
            "rfc3463.x.4.1",
            C::Network,
            "X.4.1 no answer from host (RFC 3463)",
        )
        .enh("4.4.1"),
    );
    v.push(r("rfc3463.x.4.1_rcpt", C::UserUnknown, "5.4.1 at RCPT: Microsoft 365 directory-based edge blocking refuses unknown recipients with 5.4.1")
        .enh("5.4.1").at(&[S::RcptTo, S::Unknown]));
    v.push(
        r(
            "rfc3463.x.3.0",
            C::ServerError,
            "X.3.0 other or undefined mail system status (RFC 3463)",
        )
        .enh("*.3.0"),
    );
    v.push(
        r(
            "rfc3463.x.4.0",
            C::Network,
            "X.4.0 other or undefined network or routing status (RFC 3463)",
        )
        .enh("*.4.0"),
    );
    v.push(
        r(
            "rfc3463.x.5.0",
            C::Protocol,
            "X.5.0 other or undefined protocol status (RFC 3463)",
        )
        .enh("*.5.0")
        .at(&[
            S::Ehlo,
            S::Helo,
            S::Starttls,
            S::Auth,
            S::Rset,
            S::Quit,
            S::Data,
        ]),
    );
    v.push(
        r(
            "rfc3463.x.6.0",
            C::ContentFormat,
            "X.6.0 other or undefined media error (RFC 3463)",
        )
        .enh("*.6.0"),
    );
    v.push(
        r(
            "rfc3463.x.7.x_greeting",
            C::Policy,
            "X.7.0/X.7.1 before the transaction: our client host is refused (RFC 3463)",
        )
        .enh("*.7.0 *.7.1")
        .at(&[S::Connect, S::Greeting, S::Ehlo, S::Helo])
        .scope(Scope::Destination),
    );
    v.push(
        r(
            "rfc3463.x.7.1",
            C::Policy,
            "X.7.1 delivery not authorized, message refused (RFC 3463)",
        )
        .enh("*.7.1"),
    );
    v.push(
        r(
            "rfc3463.x.7.0",
            C::Policy,
            "X.7.0 other or undefined security status (RFC 3463)",
        )
        .enh("*.7.0"),
    );
    v.push(
        r(
            "rfc3463.x.7.x",
            C::Policy,
            "X.7.X security or policy status (RFC 3463)",
        )
        .enh("*.7.*"),
    );

    // ---- 8. Basic codes (RFC 5321 §4.2.2/§4.2.3, RFC 4954, RFC 7504) -------------------------
    v.push(r("rfc5321.452_rcpt", C::TooManyRecipients,
             "452 at RCPT with no enhanced code: too many recipients (RFC 5321 §4.5.3.1.10); send the rest in another transaction")
        .codes("452").enh("none").at(&[S::RcptTo]));
    v.push(
        r(
            "rfc5321.452",
            C::ServerError,
            "452: insufficient system storage (RFC 5321 §4.2.2)",
        )
        .codes("452"),
    );
    v.push(
        r(
            "rfc5321.451",
            C::ServerError,
            "451: local error in processing (RFC 5321 §4.2.2)",
        )
        .codes("451"),
    );
    v.push(
        r(
            "rfc5321.455",
            C::Protocol,
            "455: server unable to accommodate parameters (RFC 5321 §4.2.2)",
        )
        .codes("455"),
    );
    v.push(
        r(
            "rfc5321.5xx_syntax",
            C::Protocol,
            "500/501/502/503/504/555: syntax error or bad sequence (RFC 5321 §4.2.2)",
        )
        .codes("500 501 502 503 504 555")
        .scope(Scope::Connection),
    );
    v.push(
        r(
            "rfc4954.530",
            C::AuthRequired,
            "530: authentication required (RFC 4954 §6)",
        )
        .codes("530"),
    );
    v.push(
        r(
            "rfc4954.534",
            C::AuthRequired,
            "534: authentication mechanism too weak (RFC 4954 §6)",
        )
        .codes("534"),
    );
    v.push(
        r(
            "rfc4954.535",
            C::AuthFailed,
            "535: authentication credentials invalid (RFC 4954 §6)",
        )
        .codes("535"),
    );
    v.push(
        r(
            "rfc4954.538",
            C::TlsRequired,
            "538: encryption required for requested authentication mechanism (RFC 4954 §6)",
        )
        .codes("538"),
    );
    v.push(r("rfc5321.550_rcpt", C::UserUnknown, "550/551/553 at RCPT: mailbox unavailable, user not local, mailbox name not allowed (RFC 5321 §4.2.2)")
        .codes("550 551 553").at(&[S::RcptTo]));
    v.push(
        r(
            "rfc5321.551",
            C::UserUnknown,
            "551: user not local (RFC 5321 §4.2.2)",
        )
        .codes("551"),
    );
    v.push(
        r(
            "rfc5321.550_mail",
            C::SenderRejected,
            "550/553 at MAIL FROM: the sender mailbox is refused (RFC 5321 §4.2.2)",
        )
        .codes("550 553")
        .at(&[S::MailFrom]),
    );
    v.push(r("rfc5321.552_data", C::MessageTooBig, "552 after the data: exceeded storage allocation, i.e. too big (RFC 5321 §4.2.2, RFC 1870)")
        .codes("552").at(&[S::DataEnd, S::Bdat, S::Data]));
    v.push(
        r(
            "rfc5321.552",
            C::MailboxFull,
            "552: exceeded storage allocation (RFC 5321 §4.2.2)",
        )
        .codes("552"),
    );

    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_are_valid() {
        let mut ids = std::collections::HashSet::new();
        for B(r, errors) in declared() {
            assert!(errors.is_empty(), "{}: bad patterns {errors:?}", r.id);
            assert!(
                ids.insert(r.id.clone()),
                "duplicate built-in rule id {}",
                r.id
            );
            assert!(!r.description.is_empty(), "{} has no description", r.id);
            for p in &r.phrases {
                assert_eq!(
                    p.text,
                    p.text.to_ascii_lowercase(),
                    "{}: phrase {:?} not lower case",
                    r.id,
                    p.text
                );
                assert!(!p.text.is_empty(), "{}: empty phrase", r.id);
            }
        }
    }
}
