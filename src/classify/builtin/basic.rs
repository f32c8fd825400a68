//! Tier 8 of the built-in rules: Basic codes with their RFC 5321 meaning, stage-aware.
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

use super::*;

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
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
            "535: authentication credentials invalid (RFC 4954 §6); only AUTH is answered with it, so it weighs as a code's meaning at its stage",
        )
        .codes("535")
        .ev(Evidence::Stage),
    );
    v.push(
        r(
            "rfc4954.538",
            C::TlsRequired,
            "538: encryption required for requested authentication mechanism (RFC 4954 §6); only AUTH is answered with it, so it weighs as a code's meaning at its stage",
        )
        .codes("538")
        .ev(Evidence::Stage),
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
    v.push(r("rfc1870.552_mail", C::MessageTooBig, "552 to MAIL FROM: the SIZE we declared exceeds the server's fixed maximum, a permanent refusal of this message (RFC 1870 §6)")
        .codes("552").at(&[S::MailFrom]));
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
}
