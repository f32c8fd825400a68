//! Tier 1 of the built-in rules: Exceptions that override the code's first digit, each with its source.
//!
//! Within a tier, the first rule whose conditions all hold decides; the tiers' order
//! is [`super::TIERS`].

use super::*;

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
    v.push(
        r("yahoo.ts03_permanently_deferred", C::Reputation,
          "Yahoo/AOL [TS03], [TSS09] 'permanently deferred; retrying will NOT succeed': a 421 that will not succeed; Yahoo's help article SLN3436 says not to resend until the sending practices change")
            .t(&["[ts03]", "permanently deferred"])
            .codes("4xx")
            .disp(Disposition::Permanent)
            .scope(Scope::Destination),
    );
}
