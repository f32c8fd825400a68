//! Tier 3 of the built-in rules: Stage rules (RFC 5321/7504): `521`/`556`, `5xx` to `EHLO`, a `5xx` greeting.
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

use super::*;

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
    v.push(
        r(
            "rfc7504.521_no_mail",
            C::NoMailService,
            "521: the host does not accept mail (RFC 7504)",
        )
        .codes("521")
        .ev(Evidence::BasicCode),
    );
    v.push(
        r(
            "rfc7504.556_no_mail",
            C::NoMailService,
            "556: the domain does not accept mail (RFC 7504, null MX RFC 7505)",
        )
        .codes("556")
        .ev(Evidence::BasicCode),
    );
    v.push(
        r("lmtp.lhlo_required", C::Protocol,
          "a 500/502/504 to EHLO or HELO that asks for LHLO: the host speaks LMTP (RFC 2033), which accepts no HELO either, so falling back cannot help; the host is not an SMTP server")
            .at(&[S::Ehlo, S::Helo])
            .codes("500 502 504")
            .t(&["lhlo"])
            .scope(Scope::Destination),
    );
    v.push(
        r("rfc5321.ehlo_5xx_fallback_helo", C::Protocol,
          "500/502/504 to EHLO: the server does not support ESMTP; fall back to HELO (RFC 5321 §3.2, §4.1.4), this is not a bounce")
            .at(&[S::Ehlo])
            .codes("500 502 504")
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
    v.push(
        r("rfc5321.helo_refused", C::Policy,
          "a 550/554 to EHLO or HELO: the server refuses our client (RFC 5321 §4.1.4 lists 550 for an EHLO that is not acceptable); another MX may accept")
            .at(&[S::Ehlo, S::Helo])
            .codes("550 554")
            .scope(Scope::Destination),
    );
}
