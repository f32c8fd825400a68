//! Tier 1 of the built-in rules: Exceptions that override the code's first digit, each with its source.
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

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
    v.push(
        r("godaddy.temporary_ip_block", C::Reputation,
          "GoDaddy IB110-IB113 'This IP has been temporarily blocked / blocked for the day': a 554 block that GoDaddy's bounce list says lifts by itself (within the day), so retrying later can succeed")
            .t(&["ib110", "ib111", "ib112", "ib113"])
            .codes("5xx")
            .disp(Disposition::Transient)
            .scope(Scope::Destination),
    );
    v.push(
        r("godaddy.hourly_limit", C::RateLimited,
          "GoDaddy IB504/IB510/IB607 'This IP has sent too many messages / to too many recipients this hour': a 550 that GoDaddy's bounce list documents as an hourly limit, so retrying later can succeed")
            .t(&["ib504", "ib510", "ib607"])
            .codes("5xx")
            .disp(Disposition::Transient)
            .scope(Scope::Destination),
    );
    v.push(
        r("microsoft.throttling_range", C::RateLimited,
          "Microsoft 365/Outlook.com 4.7.500-4.7.699: the documented throttling range (server busy, IP reputation rate limits): a rate or reputation limit on the sending IP, so every message to this destination waits (Microsoft's NDR reference)")
            .enh_details("4.7", 500..700)
            .scope(Scope::Destination),
    );
}
