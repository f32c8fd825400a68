//! The built-in rules, one file per tier; [`TIERS`] gives each tier its kind of
//! [`Evidence`](super::Evidence): every rule that holds is weighed, the strongest cause
//! wins, and the order only breaks ties.
//!
//! Each rule is a [`UserRule`](super::UserRule): the same fields, the same checks and
//! the same matcher as a deployment's own rules, which come before them.
//!
//! Tiers, from first to last:
//!
//! 0. **Transport failures** (no reply): connection refused, timeouts, DNS, TLS, and
//!    what the session and the delivery machine conclude on their own (a
//!    desynchronised pipeline, an exhausted budget, an attempt with no outcome). These
//!    rules match failures only, never a reply, so their place among the tiers changes
//!    no reply's decision.
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
mod transport;
mod vague_enhanced;
mod vague_wording;
mod wording;

use super::rule::{Rule, UserRule};
use super::{Category, Disposition, Evidence, Scope, Stage, TransportFailure};

use Category as C;
use Stage as S;

/// A rule being declared: a [`UserRule`], built with short names so that a tier
/// reads as a table.
struct B(UserRule);

fn r(id: &'static str, category: Category, description: &'static str) -> B {
    B(UserRule::new(id, category).description(description))
}

impl B {
    /// The text contains one of these phrases (lower case, at word boundaries; a
    /// leading or trailing `*` lets a phrase run into a word).
    fn t(mut self, phrases: &[&'static str]) -> B {
        self.0.words.extend(phrases.iter().map(|p| (*p).to_owned()));
        self
    }

    /// Basic code patterns, space-separated.
    fn codes(mut self, pats: &'static str) -> B {
        self.0
            .codes
            .extend(pats.split_whitespace().map(str::to_owned));
        self
    }

    /// Enhanced code patterns, space-separated (`none` = no enhanced code).
    fn enh(mut self, pats: &'static str) -> B {
        self.0
            .enhanced
            .extend(pats.split_whitespace().map(str::to_owned));
        self
    }

    /// Enhanced codes `class.subject.detail` for every detail in `details`.
    fn enh_details(mut self, class_subject: &str, details: core::ops::Range<u16>) -> B {
        self.0
            .enhanced
            .extend(details.map(|d| format!("{class_subject}.{d}")));
        self
    }

    fn at(mut self, stages: &[Stage]) -> B {
        self.0 = self.0.stages(stages.iter().copied());
        self
    }

    fn disp(mut self, d: Disposition) -> B {
        self.0 = self.0.disposition(d);
        self
    }

    fn scope(mut self, s: Scope) -> B {
        self.0 = self.0.scope(s);
        self
    }

    /// This kind of evidence, instead of its tier's.
    fn ev(mut self, e: Evidence) -> B {
        self.0 = self.0.evidence(e);
        self
    }

    /// The cause passes with time (or not), whatever the category usually says.
    fn passes(mut self, passes: bool) -> B {
        self.0 = self.0.passes(passes);
        self
    }

    /// A rule for these transport failures.
    fn fails(mut self, failures: &[TransportFailure]) -> B {
        self.0 = self.0.failures(failures.iter().copied());
        self
    }
}

/// Every stage but these (a rule that holds outside some stages).
fn all_but(excluded: &[Stage]) -> Vec<Stage> {
    Stage::ALL
        .iter()
        .copied()
        .filter(|s| !excluded.contains(s))
        .collect()
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

/// The transaction's stages once a recipient has been named (RCPT TO on), and text whose
/// stage is unknown: where a reply can be about a recipient.
const RCPT_ON: &[Stage] = &[S::RcptTo, S::Data, S::DataEnd, S::Bdat, S::Unknown];

/// "No such user" wording (Postfix, Exim, Sendmail, qmail, Exchange, Gmail, Yahoo, iCloud,
/// Proton, Mail.ru, QQ/163, Orange, Cisco, Lotus Domino): about the recipient, except at
/// MAIL FROM where it is about our sender address.
#[rustfmt::skip]
const USER_UNKNOWN: &[&str] = &["user unknown", "unknown user", "is not known here", "address is not known", "don't accept mail for this user", "don't accept mail for this address", "no such user", "no such recipient", "no such mailbox", "could not find account", "mailbox not found", "mailbox does not exist", "no inbox for",
                 "address does not exist", "does not exist", "*n't exist", "recipient not found", "recipient unknown", "unknown recipient",
                 "user not found", "cannot find user", "can't find user", "invalid recipient", "invalid mailbox", "recipnotfound", "recipientnotfound", "not our customer", "not our user",
                 "no mailbox here by that name", "no mail-box here", "no mailbox by that name", "addressee unknown", "unknown or illegal",
                 "user not exist", "no such address", "unknown address", "nosuchuser", "mailbox unavailable", "no mailbox", "utilisateur inconnu",
                 "destinataire invalide", "invalid address", "not a valid user", "unknown local part", "recipient does not exist",
                 "no longer on server", "this user doesn't have a", "no such person", "address unknown", "unknown account",
                 "not configured to receive", "bad destination mailbox", "undeliverable address", "recipient undeliverable", "recipient address unknown",
                 "account does not exist", "mailbox not available", "user is unknown", "invalid user", "unknown alias", "unknown mailbox", "not listed in domino directory", "not listed in public name",
    "not listed in the directory", "no such local user", "recipient address rejected: user unknown", "invalid rcpt", "invalid rcptto", "invalid-recipient", "not in recipient list",
    "address is marked as invalid", "mailbox name not allowed", "nonexistent user", "non-existent user", "nonexistent mailbox",
    "non-existent mailbox", "nonexistent recipient", "non-existent recipient", "nonexistent address", "non-existent address",
    // Microsoft 365 directory-based edge blocking: the recipient is not in the directory
    "recipient address rejected: access denied", "is no longer valid", "address not found",
    "not a valid address", "is not a valid address",
    // fresh36: "Recipient address no longer exists", broken English "user path no exist",
    // "User not a member of domain"
    "{address|recipient|user|mailbox|account} no longer exists", "{user|path|mailbox|recipient|address} no exist", "not a member of domain",
    // French, German, Spanish, Italian, Portuguese, Dutch, Polish, Czech, Russian wording
    "destinataire inconnu", "adresse inconnue", "benutzer unbekannt", "empfänger unbekannt", "unbekannter empfänger", "unbekannter benutzer",
    "usuario desconocido", "usuario no existe", "{usuário|usuario} não encontrado", "usuario no encontrado", "utente sconosciuto", "utente inesistente", "destinatario inesistente", "indirizzo inesistente",
    "casella inesistente", "utente non trovato", "destinatario sconosciuto", "indirizzo destinatario sconosciuto", "usuário desconhecido", "usuario desconhecido",
    "onbekende gebruiker", "nieznany użytkownik", "nieznany adresat", "adres nie istnieje", "neznámý uživatel", "uživatel neexistuje", "adresa neexistuje",
    "*ользователь не найден", "*ет такого пользователя", "не существует",
    // qmail's validrcptto list holds the addresses that exist here
    "not in my validrcptto", "mail-box not found"];

/// The built-in rules, in priority order, in the user rules' format.
pub(crate) fn rules() -> Vec<UserRule> {
    declared().into_iter().map(|b| b.0).collect()
}

/// The built-in rules checked into the engine's form, once per process. A rule that
/// does not check is left out; the `builtin_rules_are_valid` test proves there is none.
pub(crate) fn compiled() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        rules()
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.compile(i).ok())
            .collect()
    })
}

/// A tier: appends its rules, in its own order.
type Tier = fn(&mut Vec<B>);

/// The tiers: a rule's kind of evidence is its tier's unless the rule says otherwise
/// (transport-failure rules have none: they are tried in order, and never weighed
/// against a reply). The order here and in each file breaks ties between rules of
/// equal weight.
const TIERS: &[(&str, Tier, Option<Evidence>)] = &[
    ("transport", transport::rules, None),
    ("exceptions", exceptions::rules, Some(Evidence::Exception)),
    (
        "destination",
        destination::rules,
        Some(Evidence::DestinationWording),
    ),
    ("stage", stage::rules, Some(Evidence::Stage)),
    ("wording", wording::rules, Some(Evidence::Wording)),
    ("enhanced", enhanced::rules, Some(Evidence::EnhancedCode)),
    (
        "vague_wording",
        vague_wording::rules,
        Some(Evidence::VagueWording),
    ),
    (
        "vague_enhanced",
        vague_enhanced::rules,
        Some(Evidence::VagueEnhancedCode),
    ),
    ("basic", basic::rules, Some(Evidence::BasicCode)),
];

fn declared() -> Vec<B> {
    let mut v: Vec<B> = Vec::with_capacity(256);
    for (_, tier, evidence) in TIERS {
        let start = v.len();
        tier(&mut v);
        if let Some(e) = evidence {
            for b in &mut v[start..] {
                if b.0.evidence.is_none() {
                    b.0.evidence = Some(e.name().to_owned());
                }
            }
        }
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
        let ids: Vec<String> = rules().iter().map(|r| r.id.clone()).collect();
        let recorded: Vec<&str> = include_str!("../../../tests/data/builtin_rule_order.txt")
            .lines()
            .collect();
        assert_eq!(ids, recorded);
        assert_eq!(TIERS.len(), 9);
    }

    #[test]
    fn builtin_rules_are_valid() {
        let mut ids = std::collections::HashSet::new();
        let all = rules();
        for (i, r) in all.iter().enumerate() {
            if let Err(e) = r.compile(i) {
                panic!("built-in rule does not check: {e}");
            }
            assert!(
                ids.insert(r.id.clone()),
                "duplicate built-in rule id {}",
                r.id
            );
            assert!(!r.description.is_empty(), "{} has no description", r.id);
            let mut seen = std::collections::HashSet::new();
            for p in &r.words {
                assert!(seen.insert(p), "{}: phrase {p:?} given twice", r.id);
                assert_eq!(
                    p,
                    &p.to_ascii_lowercase(),
                    "{}: phrase {p:?} not lower case",
                    r.id
                );
                assert!(!p.trim_matches('*').is_empty(), "{}: empty phrase", r.id);
            }
        }
        assert_eq!(compiled().len(), all.len());
    }

    /// No rule holds a phrase twice once its alternatives are expanded. (A phrase lying
    /// inside a longer one of the same rule is allowed: the longer one makes another
    /// rule's phrase inside it give way.)
    #[test]
    fn no_rule_repeats_a_phrase_after_expansion() {
        for r in rules() {
            let mut seen = std::collections::HashSet::new();
            for w in &r.words {
                for e in super::super::rule::expand_alternatives(w).unwrap() {
                    assert!(
                        seen.insert(e.trim().to_owned()),
                        "{}: phrase {e:?} twice",
                        r.id
                    );
                }
            }
        }
    }

    /// Every transport failure has a built-in rule at every stage.
    #[test]
    fn every_failure_is_covered() {
        let c = crate::Classifier::builtin();
        for f in TransportFailure::ALL {
            for s in Stage::ALL {
                let v = c.classify_failure(*f, *s);
                assert!(!v.low_confidence, "{f} at {s}: {}", v.rule);
                assert_ne!(v.disposition, Disposition::Success);
            }
        }
    }
}
