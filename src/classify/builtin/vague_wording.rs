//! Tier 6 of the built-in rules: Vaguer wording (`recipient address rejected`, `access denied`, `try again later`).
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

use super::*;

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
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
        r("text.recipient_restricted", C::Policy,
          "Postfix's 'Recipient address rejected: <cause>' frame with no cause recognised: a restriction on this recipient (access maps, policy services); an unknown user says so after the colon")
            .t(&["recipient address rejected: "])
            .at(TXN)
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.recipient_rejected", C::UserUnknown,
          "'Recipient address rejected' with no other reason (Postfix, Microsoft 365 5.4.1 directory-based edge blocking)")
            .t(&["recipient address rejected", "recipient rejected", "rejected recipient", "address rejected", "recipient not accepted",
                 "rcpt to not accepted", "recipient refused"])
            .at(TXN),
    );
    v.push(
        r("text.client_host_rejected", C::Policy,
          "Postfix 'Client host rejected: <cause>' with no cause recognised: a restriction on our client host (the cause after the colon decides when it names one)")
            .t(&["client host rejected"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.client_not_allowed", C::Policy,
          "our client IP or host is not on the receiver's allow-list ('client not authorized', 'IP is not allowed'): a local rule about the connecting host, holding the destination, not one message")
            .t(&["client not authorized", "client is not authorized", "client not allowed", "client is not allowed", "ip not authorized",
                 "ip is not authorized", "ip not allowed", "ip is not allowed", "ip address not allowed", "ip address is not allowed", "client blocked", "ip address not registered", "ip not registered", "refused connection by site policy", "refused connection temporarily"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.ip_refused", C::Reputation,
          "a refusal that names our IP or host ('mail from your IP', 'from this IP') with no other cause: a verdict on our IP's standing, holding the destination, not one message (an IP 'not allowed' or 'not authorized' is the allow-list rule's, declared before this one)")
            .t(&["your ip", "your ip address", "sending ip", "from this ip", "this ip address", "your host", "your server", "your mail server",
                 "sending server", "sending host", "client ip", "from this host", "from your host", "client does not have permission", "for this ip"])
            .scope(Scope::Destination),
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
        .codes("421").scope(Scope::Connection).ev(Evidence::BasicCode));
}
