//! The built-in rules, one file per tier; [`TIERS`] lists the tiers in priority
//! order (the first rule whose conditions all hold decides).
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

mod basic;
mod destination;
mod enhanced;
mod exceptions;
mod stage;
mod vague_enhanced;
mod vague_wording;
mod wording;

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

/// A tier: appends its rules, in its own order.
type Tier = fn(&mut Vec<B>);

/// The tiers, first to last: a rule's priority is its tier's place here, then its
/// place in its tier's file. The first rule whose conditions all hold decides.
const TIERS: &[(&str, Tier)] = &[
    ("exceptions", exceptions::rules),
    ("destination", destination::rules),
    ("stage", stage::rules),
    ("wording", wording::rules),
    ("enhanced", enhanced::rules),
    ("vague_wording", vague_wording::rules),
    ("vague_enhanced", vague_enhanced::rules),
    ("basic", basic::rules),
];

fn declared() -> Vec<B> {
    let mut v: Vec<B> = Vec::with_capacity(256);
    for (_, tier) in TIERS {
        tier(&mut v);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The precedence of every built-in rule, tier by tier, as recorded before the
    /// rules were split into one file per tier: moving a rule changes a decision.
    #[test]
    fn precedence_is_the_recorded_one() {
        let ids: Vec<String> = rules().iter().map(|r| r.id.to_string()).collect();
        let recorded: Vec<&str> = include_str!("../../../tests/data/builtin_rule_order.txt")
            .lines()
            .collect();
        assert_eq!(ids, recorded);
        assert_eq!(TIERS.len(), 8);
    }

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
