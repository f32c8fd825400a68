//! Tier 7 of the built-in rules: Vague enhanced codes (`X.7.1`, `X.7.0`, `X.1.0`…).
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

use super::*;

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
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
}
