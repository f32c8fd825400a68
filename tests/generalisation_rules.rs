//! The decision from all the evidence (issue 14): specific wording outranks a generic
//! code meaning, a later line can name the cause, provider code families, scope rules,
//! codes buried in the text, the explain view, and user rules still first.

use tempfail::classify::{Classifier, Evidence, UserRule};
use tempfail::{Category, Disposition, Reply, ReplyCode, Scope, Stage};

fn reply(code: u16, lines: &[&str]) -> Reply {
    Reply::new(ReplyCode::new(code).unwrap(), lines.iter().copied())
}

#[test]
fn specific_words_outrank_a_generic_code() {
    let c = Classifier::builtin();
    // A 421 naming a volume limit is a rate limit, not a service outage.
    let v = c.classify(
        &reply(
            421,
            &["4.7.0 Messages from 192.0.2.1 deferred due to excessive volume"],
        ),
        Stage::RcptTo,
    );
    assert_eq!(v.category, Some(Category::RateLimited));
    assert_eq!(v.disposition, Disposition::Transient);
    // A 421 naming failed authentication.
    let v = c.classify(&reply(421, &["4.7.0 too many auth failures"]), Stage::Auth);
    assert_eq!(v.category, Some(Category::AuthFailed));
    // A 421 naming an allow-list.
    let v = c.classify(
        &reply(
            421,
            &["4.7.0 IP not in whitelist for RCPT domain, closing connection."],
        ),
        Stage::RcptTo,
    );
    assert_eq!(v.category, Some(Category::Policy));
    // A 521 naming a protocol error is not "no mail service".
    let v = c.classify(&reply(521, &["5.5.1 Protocol error"]), Stage::Unknown);
    assert_eq!(v.category, Some(Category::Protocol));
    // A bare 421 still decides by its code.
    let v = c.classify(&reply(421, &["mx.example.org closing"]), Stage::RcptTo);
    assert_eq!(v.category, Some(Category::ServiceUnavailable));
    assert_eq!(v.rule, "rfc5321.421");
}

#[test]
fn a_later_line_names_the_cause() {
    let c = Classifier::builtin();
    let v = c.classify(
        &reply(
            554,
            &[
                "mx.example.net ESMTP Service not available",
                "No SMTP service",
                "IP address is block listed.",
            ],
        ),
        Stage::Greeting,
    );
    assert_eq!(v.category, Some(Category::Blocklisted));
    assert_eq!(v.scope, Scope::Destination);
}

#[test]
fn loops_are_not_network_errors() {
    let c = Classifier::builtin();
    for text in [
        "550 Too many \"Received\" headers - suspected mail loop",
        "554 5.4.6 Too many hops 26 (25 max)",
        "550 Loop detected",
    ] {
        let v = c.classify_text(text, Stage::DataEnd);
        assert_eq!(v.category, Some(Category::Policy), "{text}");
        assert_eq!(v.scope, Scope::Message, "{text}");
    }
}

#[test]
fn microsoft_throttling_range_holds_the_destination() {
    let c = Classifier::builtin();
    for enh in ["4.7.500", "4.7.599", "4.7.650", "4.7.699"] {
        let v = c.classify(
            &reply(
                451,
                &[&format!("{enh} Server busy. Please try again later")],
            ),
            Stage::RcptTo,
        );
        assert_eq!(v.category, Some(Category::RateLimited), "{enh}");
        assert_eq!(v.scope, Scope::Destination, "{enh}");
        assert_eq!(v.disposition, Disposition::Transient);
    }
    // Outside the range, the enhanced code's own meaning.
    let v = c.classify(
        &reply(451, &["4.7.700 PFA agent busy, please try again."]),
        Stage::RcptTo,
    );
    assert_ne!(v.category, Some(Category::RateLimited));
}

#[test]
fn scope_rules() {
    let c = Classifier::builtin();
    // One mailbox receiving too fast: only that recipient waits, even on a 421.
    let v = c.classify(
        &reply(
            450,
            &["4.2.1 The recipient has exceeded message rate limit. Try again later."],
        ),
        Stage::RcptTo,
    );
    assert_eq!(
        (v.category, v.scope),
        (Some(Category::RateLimited), Scope::Recipient)
    );
    let v = c.classify(
        &reply(421, &["4.2.1 user is receiving mail too quickly"]),
        Stage::RcptTo,
    );
    assert_eq!(
        (v.category, v.scope),
        (Some(Category::RateLimited), Scope::Recipient)
    );
    // A refusal of our IP: the destination.
    let v = c.classify(
        &reply(
            554,
            &["5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"],
        ),
        Stage::RcptTo,
    );
    assert_eq!(v.scope, Scope::Destination);
    // A refusal of the content or the sender: the message.
    let v = c.classify(
        &reply(550, &["5.7.1 Message rejected as spam"]),
        Stage::DataEnd,
    );
    assert_eq!(v.scope, Scope::Message);
    let v = c.classify(
        &reply(553, &["5.1.8 Domain of sender address does not exist"]),
        Stage::MailFrom,
    );
    assert_eq!(v.scope, Scope::Message);
    // A server error answered to one recipient concerns that recipient.
    let v = c.classify(
        &reply(451, &["4.3.0 Temporary internal error"]),
        Stage::RcptTo,
    );
    assert_eq!(
        (v.category, v.scope),
        (Some(Category::ServerError), Scope::Recipient)
    );
}

#[test]
fn codes_buried_in_the_text() {
    let c = Classifier::builtin();
    // qmail: the enhanced code in parentheses after the text.
    let v = c.classify(
        &reply(550, &["sorry, no mailbox here by that name. (#5.1.1)"]),
        Stage::RcptTo,
    );
    assert_eq!(v.category, Some(Category::UserUnknown));
    let e = c.explain(
        &reply(
            553,
            &["sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"],
        ),
        Stage::RcptTo,
    );
    assert_eq!(e.enhanced.as_deref(), Some("5.7.1"));
    // A relayed reply inside bounce text.
    let text = "554 delivery failed; host mx.example.org said: 5.1.1 gone away";
    let e = c.explain_text(text, Stage::DataEnd);
    assert_eq!(e.code, Some(554));
    assert_eq!(e.enhanced.as_deref(), Some("5.1.1"));
    assert_eq!(e.classification.category, Some(Category::UserUnknown));
    assert_eq!(e.classification, c.classify_text(text, Stage::DataEnd));
    // Not a code: a ticket number.
    let e = c.explain(&reply(550, &["rejected, see ticket #5"]), Stage::RcptTo);
    assert_eq!(e.enhanced, None);
}

#[test]
fn explain_lists_the_evidence_and_agrees_with_classify() {
    let c = Classifier::builtin();
    let r = reply(
        550,
        &["5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"],
    );
    let e = c.explain(&r, Stage::RcptTo);
    assert_eq!(e.classification, c.classify(&r, Stage::RcptTo));
    assert_eq!(e.code, Some(550));
    assert_eq!(e.considered[0].rule, e.classification.rule);
    assert_eq!(e.considered[0].evidence, Some(Evidence::DestinationWording));
    // The losers are listed too: the vague code and the generic wording.
    assert!(e.considered.iter().any(|x| x.rule == "rfc3463.x.7.1"));
    assert!(
        e.considered
            .iter()
            .any(|x| x.category == Category::ServiceUnavailable)
    );
    assert!(e.reason.contains("blocklisted"), "{}", e.reason);
    // Text: the same verdict as classify_text.
    let t = "smtp; 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred";
    let e = c.explain_text(t, Stage::Unknown);
    assert_eq!(e.classification, c.classify_text(t, Stage::Unknown));
    // No rule: the codes decide, and explain says so.
    let e = c.explain(&reply(550, &["Kthxbye"]), Stage::DataEnd);
    assert!(e.considered.is_empty());
    assert!(e.classification.low_confidence);
}

#[test]
fn user_rules_still_come_first_and_can_join_the_weighing() {
    let first = UserRule::new("ours.slow", Category::RateLimited).words(["slow down"]);
    let c = Classifier::builtin().with_rules(vec![first]).unwrap();
    // Tried first, even against stronger built-in evidence.
    let v = c.classify(
        &reply(550, &["5.1.1 user unknown, slow down"]),
        Stage::RcptTo,
    );
    assert_eq!(v.rule, "ours.slow");
    // A rule with an evidence kind is weighed instead: here it loses to the built-in
    // wording, which is heavier.
    let weighed = UserRule::new("ours.vague", Category::Policy)
        .words(["user unknown"])
        .evidence(Evidence::VagueWording);
    let c = Classifier::builtin().with_rules(vec![weighed]).unwrap();
    let v = c.classify(&reply(550, &["5.1.1 user unknown"]), Stage::RcptTo);
    assert_eq!(v.category, Some(Category::UserUnknown));
    // The built-in rules loaded as user rules decide as the built-ins do.
    let copy = Classifier::from_rules_only(Classifier::builtin_rules()).unwrap();
    for (code, text, stage) in [
        (
            421,
            "4.7.0 Service not available; blocked using zen.spamhaus.org",
            Stage::RcptTo,
        ),
        (451, "4.7.500 Server busy", Stage::RcptTo),
        (
            550,
            "sorry, no mailbox here by that name. (#5.1.1)",
            Stage::RcptTo,
        ),
        (502, "5.5.2 Error: command not recognized", Stage::Ehlo),
    ] {
        let r = reply(code, &[text]);
        assert_eq!(
            copy.classify(&r, stage),
            Classifier::builtin().classify(&r, stage),
            "{text}"
        );
    }
}

#[test]
fn mixed_codes_are_never_final() {
    let c = Classifier::builtin();
    let wire = b"250-2.1.5 ok\r\n550 5.1.1 user unknown\r\n";
    if let Ok(r) = Reply::parse(wire) {
        let v = c.classify(&r, Stage::RcptTo);
        assert_eq!(v.disposition, Disposition::Transient);
        assert!(v.low_confidence);
    }
}

#[test]
fn hostile_text_keeps_a_bounded_candidate_set() {
    // Every cause at once: still one verdict, never a panic, and specific causes win
    // over the vague ones.
    let mut text = String::new();
    for rule in Classifier::builtin_rules() {
        for w in rule.words.iter().take(2) {
            text.push_str(w.trim_matches('*'));
            text.push(' ');
        }
    }
    let v = Classifier::builtin().classify_text(&format!("550 5.7.1 {text}"), Stage::RcptTo);
    assert_ne!(v.disposition, Disposition::Success);
    assert!(!v.low_confidence);
}

#[test]
fn explain_puts_the_deciding_rule_first_even_when_lighter() {
    // The stage's handling (fall back to HELO) is reported for the protocol cause even
    // though the protocol wording weighs more; explain lists it first.
    let c = Classifier::builtin();
    let r = reply(502, &["5.5.2 Error: command not recognized"]);
    let e = c.explain(&r, Stage::Ehlo);
    assert_eq!(e.classification.rule, "rfc5321.ehlo_5xx_fallback_helo");
    assert_eq!(e.classification.disposition, Disposition::Transient);
    assert_eq!(e.considered[0].rule, e.classification.rule);
    assert!(e.considered.iter().any(|x| x.rule == "text.protocol"));
}

#[test]
fn a_phrase_inside_a_longer_one_gives_way_only_to_wording_that_holds() {
    // Built-in: the rate limit's "too many times" inside "MAIL sent too many times".
    let c = Classifier::builtin();
    let v = c.classify_text("421 4.7.0 MAIL sent too many times", Stage::Unknown);
    assert_eq!(v.category, Some(Category::Protocol), "{}", v.rule);
    // The same wherever the phrase falls: other phrases before it change nothing (up to
    // the bound on matches held back, 32; hostile text repeating more is only bounded).
    let noisy = format!("421 4.7.0 {} MAIL sent too many times", "spam ".repeat(10));
    let w = c.classify_text(&noisy, Stage::Unknown);
    assert_ne!(w.category, Some(Category::RateLimited), "{}", w.rule);
    // A user rule tried in order keeps its meaning inside a longer built-in phrase.
    let u = Classifier::builtin()
        .with_rules(vec![
            UserRule::new("user.times", Category::Policy).text(["too many times"]),
        ])
        .expect("valid rule");
    assert_eq!(
        u.classify_text("421 4.7.0 MAIL sent too many times", Stage::Unknown)
            .rule,
        "user.times"
    );
    // A longer phrase whose rule does not hold at this stage takes nothing away.
    let rules = vec![
        UserRule::new("user.outer", Category::MailboxFull)
            .text(["mailbox full today"])
            .stages([Stage::DataEnd])
            .evidence(Evidence::Wording),
        UserRule::new("user.inner", Category::MailboxFull)
            .text(["mailbox full"])
            .evidence(Evidence::Wording),
    ];
    let only = Classifier::from_rules_only(rules).expect("valid rules");
    assert_eq!(
        only.classify_text("452 mailbox full today", Stage::RcptTo)
            .rule,
        "user.inner"
    );
    assert_eq!(
        only.classify_text("452 mailbox full today", Stage::DataEnd)
            .rule,
        "user.outer"
    );
}

#[test]
fn other_scripts_match_capitalised_but_never_as_ascii() {
    let c = Classifier::builtin()
        .with_rules(vec![
            UserRule::new("user.cyr", Category::MailboxFull)
                .words(["ящик переполнен"])
                .evidence(Evidence::Wording),
            UserRule::new("user.sz", Category::MailboxFull)
                .words(["ßpeicher voll"])
                .evidence(Evidence::Wording),
        ])
        .expect("valid rules");
    assert_eq!(
        c.classify_text("452 Ящик переполнен", Stage::RcptTo).rule,
        "user.cyr"
    );
    // 'ß' has no single capital: no ASCII "SS" variant that would match other text.
    assert_ne!(
        c.classify_text("452 sspeicher voll", Stage::RcptTo).rule,
        "user.sz"
    );
    assert_eq!(
        c.classify_text("452 ßpeicher voll", Stage::RcptTo).rule,
        "user.sz"
    );
}

#[test]
#[allow(clippy::disallowed_methods)] // a test may read the clock
fn a_large_nested_rule_set_builds_in_bounded_time() {
    // 2,000 phrases each inside the next ("x", "xx", ...): containment is worked out
    // within a budget, so building stays fast.
    let rules: Vec<UserRule> = (1..=2000)
        .map(|n| {
            UserRule::new(format!("n{n}"), Category::Policy)
                .text(["x".repeat(n)])
                .evidence(Evidence::Wording)
        })
        .collect();
    let t = std::time::Instant::now();
    let c = Classifier::from_rules_only(rules).expect("valid rules");
    let v = c.classify_text(&format!("550 {}", "x".repeat(50)), Stage::RcptTo);
    assert_eq!(v.category, Some(Category::Policy));
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn explain_says_when_a_tie_decided() {
    // Two causes with the same weight: the earlier-declared rule's cause wins, and the
    // reason says it tied rather than that it outweighed the other.
    let rules = |first: Category, second: Category| {
        vec![
            UserRule::new("user.first", first)
                .words(["scan"])
                .evidence(Evidence::Wording),
            UserRule::new("user.second", second)
                .words(["archive"])
                .evidence(Evidence::Wording),
        ]
    };
    for (first, second) in [
        (Category::ServerError, Category::VirusContent),
        (Category::VirusContent, Category::ServerError),
    ] {
        let c = Classifier::from_rules_only(rules(first, second)).expect("valid rules");
        let e = c.explain_text("451 Unable to scan encrypted archive", Stage::DataEnd);
        assert_eq!(e.classification.category, Some(first), "{}", e.reason);
        assert_eq!(e.classification.rule, "user.first");
        assert!(e.reason.contains("ties with user.second"), "{}", e.reason);
        assert!(!e.reason.contains("outweighs user.second"), "{}", e.reason);
    }
    // A heavier cause still outweighs, and no tie is claimed.
    let c = Classifier::from_rules_only(vec![
        UserRule::new("user.heavy", Category::VirusContent)
            .words(["archive"])
            .evidence(Evidence::DestinationWording),
        UserRule::new("user.light", Category::ServerError)
            .words(["scan"])
            .evidence(Evidence::Wording),
        UserRule::new("user.lighter", Category::ServerError)
            .words(["unable"])
            .evidence(Evidence::VagueWording),
    ])
    .expect("valid rules");
    let e = c.explain_text("451 Unable to scan encrypted archive", Stage::DataEnd);
    assert_eq!(e.classification.rule, "user.heavy");
    assert!(e.reason.contains("outweighs user.light "), "{}", e.reason);
    assert!(!e.reason.contains("ties with"), "{}", e.reason);
    // Each other cause is named once, by its heaviest rule; `considered` keeps them all.
    assert!(!e.reason.contains("user.lighter"), "{}", e.reason);
    assert!(e.considered.iter().any(|x| x.rule == "user.lighter"));
}
