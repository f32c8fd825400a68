//! What bounce notices say in their own words when they quote no SMTP reply the
//! built-in rules recognise: a mail system's or a provider's wording for a failure it
//! decided on its own (a list refusing a poster, a carrier's mailbox limit, a mail
//! store's localised "not in the directory").
//!
//! This is bounce-only knowledge: such phrases never come in a live reply, so they are
//! not built-in classifier rules. They are [`UserRule`]s (ids `bounce.notice.*`) loaded
//! into a classifier of their own, consulted only when the main classifier finds no
//! rule (a low-confidence verdict): a recognised reply always wins.

use std::sync::OnceLock;

use crate::classify::{Category, Classifier, Scope, UserRule};

fn rule(id: &str, category: Category, description: &str, phrases: &[&str]) -> UserRule {
    UserRule::new(format!("bounce.notice.{id}"), category)
        .description(description)
        .text(phrases.iter().copied())
}

/// The notice rules, in priority order.
pub(crate) fn rules() -> Vec<UserRule> {
    vec![
        rule(
            "list_refused_poster",
            Category::Policy,
            "a Google Groups notice (in any of its languages; its help link is the same in all): \
             the group does not exist or does not accept posts from this sender",
            &["groups.google.com/support"],
        )
        .scope(Scope::Recipient),
        rule(
            "list_members_only",
            Category::Policy,
            "a mailing list that takes posts from its members only refused this sender \
             (FML 'You are not a member of this mailing list')",
            &[
                "not a member of this mailing list",
                "not a member of this list",
                "you are not member",
            ],
        )
        .scope(Scope::Recipient),
        rule(
            "list_loop_alert",
            Category::Policy,
            "a mailing list dropped a post it had already seen, to break a loop (FML \
             'Loop Alert: Duplicated Message-ID'); a loop is policy, as in the reply rules",
            &["duplicated message-id", "loop alert"],
        )
        .scope(Scope::Recipient),
        rule(
            "dns_failed",
            Category::Dns,
            "the reporting MTA could not resolve the destination (Microsoft 365 5.4.312 \
             'DNS query failed')",
            &["dns query failed"],
        ),
        rule(
            "host_unknown",
            Category::DomainNotFound,
            "the destination domain has no mail host ('unknown host', 'host unknown', \
             'no such domain', OpenSMTPD 'No MX found for domain')",
            &[
                "unknown host",
                "host unknown",
                "no such domain",
                "domain not found",
                "no mx found for domain",
            ],
        ),
        rule(
            "no_smtp_service",
            Category::NoMailService,
            "the destination publishes that it takes no mail (Mail.ru: 'an MX or SRV \
             record indicated no SMTP service')",
            &["indicated no smtp service", "does not accept mail"],
        ),
        rule(
            "mailbox_limit",
            Category::MailboxFull,
            "the recipient's mailbox is over its size or message limit (IMail 'User mailbox \
             exceeds allowed size', a carrier's 'messages in recipient's mailbox exceeded \
             the local limit', X4 'mailfolder is full')",
            &[
                "mailbox exceeds allowed size",
                "exceeds allowed size",
                "mailbox exceeded the local limit",
                "mailfolder is full",
                "mail folder is full",
                "mailbox is full",
                "over quota",
                "quota exceeded",
            ],
        ),
        rule(
            "address_not_found",
            Category::UserUnknown,
            "the notice says the address does not exist (Gmail 'the address couldn't be \
             found', Exchange 'the recipient name is not recognized', Lotus Domino's Japanese \
             'not found in the Domino directory' / 'not in the directory list')",
            &[
                "address couldn't be found",
                "no valid recipients",
                "check if address is correct",
                "invalid final delivery userid",
                "address could not be found",
                "address not found",
                "recipient name is not recognized",
                "unknown recipient",
                "user unknown",
                "no such user",
                "\u{30c7}\u{30a3}\u{30ec}\u{30af}\u{30c8}\u{30ea}\u{306b}\u{306f}\u{898b}\u{3064}\u{304b}\u{308a}\u{307e}\u{305b}\u{3093}",
                "\u{30c7}\u{30a3}\u{30ec}\u{30af}\u{30c8}\u{30ea}\u{306e}\u{30ea}\u{30b9}\u{30c8}\u{306b}\u{3042}\u{308a}\u{307e}\u{305b}\u{3093}",
            ],
        ),
        rule(
            "malformed_address",
            Category::Protocol,
            "the recipient address was malformed (Exim 'malformed address')",
            &["malformed address", "incorrectly constructed"],
        ),
    ]
}

/// The notice rules as a classifier of their own (built once per process).
pub(crate) fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        // The rules are constants checked by `notice_rules_are_valid`; an empty
        // classifier (everything low confidence) is the harmless fallback.
        Classifier::from_rules_only(rules()).unwrap_or_else(|_| {
            Classifier::from_rules_only(Vec::new()).unwrap_or_else(|_| Classifier::builtin())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Stage;

    #[test]
    fn notice_rules_are_valid() {
        assert!(Classifier::from_rules_only(rules()).is_ok());
    }

    #[test]
    fn notice_wording() {
        let c = classifier();
        let v = c.classify_text(
            "5.0.0 Your message wasn't delivered to a@example.it because the address couldn't be found.",
            Stage::Unknown,
        );
        assert_eq!(v.category, Some(Category::UserUnknown));
        assert_eq!(v.rule, "bounce.notice.address_not_found");
        let v = c.classify_text("5.0.0 something else entirely", Stage::Unknown);
        assert!(v.low_confidence);
    }
}
