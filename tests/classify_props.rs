//! Properties of the classifier on arbitrary input: it never panics, its output obeys
//! its own contract, and its time stays linear in the input (no backtracking blow-up).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use tempfail::classify::{Classifier, UserRule};
use tempfail::{Category, Disposition, Reply, ReplyCode, Stage};

fn stage() -> impl Strategy<Value = Stage> {
    proptest::sample::select(Stage::ALL.to_vec())
}

/// Text that is likely to hit phrases, hint triggers and codes, mixed with noise.
fn smtpish() -> impl Strategy<Value = String> {
    let words = proptest::sample::select(vec![
        "550",
        "5.1.1",
        "4.2.2",
        "user",
        "unknown",
        "mailbox",
        "full",
        "try again in",
        "retry after",
        "5",
        "minutes",
        "00:05:00",
        "greylisted",
        "spam",
        "blocked using",
        "rate limit",
        "421",
        "552",
        "too many recipients",
        "(in reply to RCPT TO command)",
        "\r\n",
        "-",
        "said:",
        "smtp;",
        "dnsbl",
        "quota",
        "é",
        "\u{0}",
        "[TS03]",
        "454",
        "seconds",
        "hour",
    ]);
    proptest::collection::vec(prop_oneof![words.prop_map(String::from), ".{0,12}"], 0..40)
        .prop_map(|v| v.join(" "))
}

fn check_contract(v: &tempfail::Classification) {
    match v.disposition {
        Disposition::Success => assert_eq!(v.category, None),
        _ => assert!(v.category.is_some()),
    }
    if let Some(d) = v.retry_after {
        assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(86_400));
    }
    assert!(!v.rule.is_empty());
    assert_eq!(
        v.low_confidence,
        v.rule.starts_with("fallback.")
            || v.rule == "reply.mixed_codes"
            || v.rule == "reply.inner_code"
            || v.rule == "model.category"
    );
    if v.rule.starts_with("fallback.") {
        assert_eq!(v.category, Some(Category::Other));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A failure whose text begins with a code of the other failure class (a server
    /// library's default code in front of the one the application meant: `550 451 …`,
    /// `450 550 …`) is never final, whatever its words: transient, low confidence,
    /// `reply.inner_code`, by either path.
    #[test]
    fn a_code_in_front_of_another_class_is_never_final(
        outer in prop_oneof![400u16..=499, 500u16..=599],
        pick in 0usize..64,
        enh in proptest::option::of((1u16..=7, 0u16..=9)),
        text in smtpish(),
        st in stage(),
    ) {
        // A code SMTP servers send (a bare number outside them is a count or an HTTP
        // status, unless an enhanced code of its class follows).
        const TRANSIENT: [u16; 6] = [421, 450, 451, 452, 454, 455];
        const PERMANENT: [u16; 17] = [
            500, 501, 502, 503, 504, 521, 530, 534, 535, 538, 550, 551, 552, 553, 554, 555, 556,
        ];
        let inner = if outer < 500 {
            PERMANENT[pick % PERMANENT.len()]
        } else {
            TRANSIENT[pick % TRANSIENT.len()]
        };
        let enh = enh.map_or(String::new(), |(s, d)| format!("{}.{s}.{d} ", inner / 100));
        // (A word first: the text may begin with an enhanced code of the other class.)
        let line = format!("{inner} {enh}Refused {text}");
        let c = Classifier::builtin();
        let reply = Reply::new(ReplyCode::new(outer).unwrap(), [line.as_bytes()]);
        let v = c.classify(&reply, st);
        check_contract(&v);
        prop_assert_eq!(v.disposition, Disposition::Transient);
        prop_assert!(v.low_confidence);
        prop_assert_eq!(&v.rule, "reply.inner_code");
        let t = c.classify_text(&format!("{outer} {line}"), st);
        check_contract(&t);
        prop_assert_eq!(t.disposition, Disposition::Transient);
        prop_assert_eq!(&t.rule, "reply.inner_code");
    }

    #[test]
    fn arbitrary_text_never_panics(text in smtpish(), st in stage()) {
        let c = Classifier::builtin();
        check_contract(&c.classify_text(&text, st));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), st in stage()) {
        let c = Classifier::builtin();
        let text = String::from_utf8_lossy(&bytes);
        check_contract(&c.classify_text(&text, st));
    }

    #[test]
    fn arbitrary_replies_never_panic(
        code in 200u16..=599,
        lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..5),
        st in stage(),
    ) {
        let c = Classifier::builtin();
        let reply = Reply::new(ReplyCode::new(code).unwrap(), lines);
        let v = c.classify(&reply, st);
        check_contract(&v);
        // The first digit decides unless a rule says otherwise; a positive reply is a success.
        if code < 400 {
            prop_assert_eq!(v.disposition, Disposition::Success);
        } else if code < 500 && v.rule != "yahoo.ts03_permanently_deferred" {
            prop_assert_eq!(v.disposition, Disposition::Transient);
        }
        // The same reply from lines that disagreed is never a success nor final.
        let mixed = c.classify(&reply.with_mixed_codes(true), st);
        check_contract(&mixed);
        prop_assert_eq!(mixed.disposition, Disposition::Transient);
        prop_assert!(mixed.low_confidence);
    }

}

proptest! {
    // Each case compiles a rule set (an automaton over every phrase): few cases.
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// A phrase with `{a|b}` groups matches exactly what its expansions, listed one by
    /// one, match: the same verdict on a text holding one expansion, on one holding a
    /// word that is no alternative, and on one holding the alternatives run together.
    #[test]
    fn alternatives_match_as_their_expansions(
        a in "[a-z]{3,6}", b in "[a-z]{3,6}", x in "[a-z]{3,6}", y in "[a-z]{3,6}",
        pick in 0usize..4, other in "[a-z]{3,6}", code in 400u16..=599, st in stage(),
    ) {
        let grouped = UserRule::new("mine", Category::Policy).words([format!("{{{a}|{b}}} zq {{{x}|{y}}}")]);
        let listed = UserRule::new("mine", Category::Policy).words([
            format!("{a} zq {x}"), format!("{a} zq {y}"), format!("{b} zq {x}"), format!("{b} zq {y}"),
        ]);
        let g = Classifier::from_rules_only(vec![grouped]).unwrap();
        let l = Classifier::from_rules_only(vec![listed]).unwrap();
        let first = [&a, &b][pick / 2];
        let second = [&x, &y][pick % 2];
        for text in [
            format!("refused: {first} zq {second} here"),
            format!("refused: {other} zq {second} here"),
            format!("refused: {a}|{b} zq {second}"),
            format!("refused: {{{a}|{b}}} zq {{{x}|{y}}}"),
        ] {
            let reply = Reply::new(ReplyCode::new(code).unwrap(), [text.clone()]);
            let (vg, vl) = (g.classify(&reply, st), l.classify(&reply, st));
            prop_assert_eq!(&vg.rule, &vl.rule, "{}", text);
            prop_assert_eq!(vg.category, vl.category);
        }
        let hit = Reply::new(ReplyCode::new(code).unwrap(), [format!("refused: {first} zq {second} here")]);
        prop_assert_eq!(g.classify(&hit, st).rule, "mine");
    }

    /// `codes = ["none"]` holds for text without a basic code only; with other patterns,
    /// for those codes or none.
    #[test]
    fn a_none_code_pattern_holds_for_text_without_a_code(code in 400u16..=599, st in stage()) {
        let only = UserRule::new("mine", Category::Policy).codes(["none"]).words(["zq"]);
        let c = Classifier::from_rules_only(vec![only]).unwrap();
        prop_assert_eq!(c.classify_text("refused: zq", st).rule, "mine");
        let live = Reply::new(ReplyCode::new(code).unwrap(), ["refused: zq"]);
        prop_assert_ne!(c.classify(&live, st).rule, "mine");
        let with = UserRule::new("mine", Category::Policy).codes(["550", "none"]).words(["zq"]);
        let c = Classifier::from_rules_only(vec![with]).unwrap();
        prop_assert_eq!(c.classify_text("refused: zq", st).rule, "mine");
        prop_assert_eq!(c.classify(&live, st).rule == "mine", code == 550);
        // A phrase-less rule for text without a code.
        let bare = UserRule::new("mine", Category::Policy).codes(["none"]);
        let c = Classifier::from_rules_only(vec![bare]).unwrap();
        prop_assert_eq!(c.classify_text("anything at all", st).rule, "mine");
        prop_assert_ne!(c.classify(&live, st).rule, "mine");
    }

    /// `!pattern` excludes: a rule with `["5.*.*", "!5.7.*"]` holds exactly for the
    /// enhanced codes `5.*.*` matches and `5.7.*` does not.
    #[test]
    fn an_excluded_enhanced_pattern_never_holds(subject in 0u16..=9, detail in 0u16..=20, class in prop::sample::select(vec![4u8, 5])) {
        let rule = UserRule::new("mine", Category::Policy).enhanced(["5.*.*", "!5.7.*"]).text(["zq"]);
        let c = Classifier::from_rules_only(vec![rule]).unwrap();
        let code = if class == 4 { 451 } else { 551 };
        let reply = Reply::new(ReplyCode::new(code).unwrap(), [format!("{class}.{subject}.{detail} zq")]);
        let v = c.classify(&reply, Stage::RcptTo);
        let holds = class == 5 && subject != 7;
        prop_assert_eq!(v.rule == "mine", holds, "{}.{}.{}: {}", class, subject, detail, v.rule);
        // Only exclusions: any code but the excluded, or none.
        let only_not = UserRule::new("mine", Category::Policy).enhanced(["!5.7.*"]).text(["zq"]);
        let c = Classifier::from_rules_only(vec![only_not]).unwrap();
        let v = c.classify(&reply, Stage::RcptTo);
        prop_assert_eq!(v.rule == "mine", !(class == 5 && subject == 7));
        let bare = Reply::new(ReplyCode::new(code).unwrap(), ["zq"]);
        prop_assert_eq!(c.classify(&bare, Stage::RcptTo).rule, "mine");
    }

    #[test]
    fn user_rules_come_first(phrase in "[a-z]{6,12}", code in 400u16..=599, st in stage()) {
        let rule = UserRule::new("mine", Category::Policy).text([phrase.clone()]);
        let c = Classifier::builtin().with_rules(vec![rule]).unwrap();
        let reply = Reply::new(ReplyCode::new(code).unwrap(), [format!("5.1.1 user unknown {phrase}")]);
        let v = c.classify(&reply, st);
        prop_assert_eq!(v.rule, "mine");
        prop_assert_eq!(v.category, Some(Category::Policy));
    }
}

/// The time to classify grows linearly with the text: 1 MB of hostile text (phrase
/// fragments, hint triggers with no number, repeated codes) classifies within a bound,
/// and 4× the text takes well under 16× the time (a quadratic matcher would).
#[test]
#[allow(clippy::disallowed_methods)] // measuring wall time is the point of this test
fn hostile_text_is_linear_time() {
    let c = Classifier::builtin();
    let unit = "550 5.1.1 try again in retry after user unknow mailbox ful spa greylis rate limi ";
    let make = |n: usize| unit.repeat(n / unit.len() + 1)[..n].to_owned();
    let small = make(256 * 1024);
    let big = make(1024 * 1024);
    let time = |t: &str| {
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let v = c.classify_text(t, Stage::RcptTo);
            best = best.min(start.elapsed());
            assert_eq!(v.category, Some(Category::UserUnknown));
        }
        best
    };
    let ts = time(&small);
    let tb = time(&big);
    // Generous bound for a debug build on a shared machine.
    assert!(tb < Duration::from_secs(5), "1 MB took {tb:?}");
    assert!(
        tb < ts * 12 + Duration::from_millis(50),
        "4x the text took {tb:?} vs {ts:?}: not linear"
    );
    // A text made only of phrase matches (every position matches something).
    let dense = "spam ".repeat(200_000);
    let start = Instant::now();
    let v = c.classify_text(&dense, Stage::DataEnd);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(v.category, Some(Category::SpamContent));
}

#[test]
fn bad_user_rules_name_the_rule_and_field() {
    let cases = [
        (
            UserRule::new("a", Category::Policy).codes(["5x"]),
            "a",
            "codes",
        ),
        (
            UserRule::new("b", Category::Policy).codes(["650"]),
            "b",
            "codes",
        ),
        (
            UserRule::new("c", Category::Policy).enhanced(["5.7"]),
            "c",
            "enhanced",
        ),
        (
            UserRule::new("d", Category::Policy).enhanced(["3.1.1"]),
            "d",
            "enhanced",
        ),
        (UserRule::new("e", Category::Policy).text([""]), "e", "text"),
        (
            UserRule {
                stages: vec!["rcpt".into()],
                ..UserRule::new("f", Category::Policy)
            },
            "f",
            "stages",
        ),
        (
            UserRule {
                category: "spammy".into(),
                ..UserRule::new("g", Category::Policy)
            },
            "g",
            "category",
        ),
        (
            UserRule {
                disposition: Some("maybe".into()),
                ..UserRule::new("h", Category::Policy)
            },
            "h",
            "disposition",
        ),
        (
            UserRule {
                scope: Some("planet".into()),
                ..UserRule::new("i", Category::Policy)
            },
            "i",
            "scope",
        ),
        (
            UserRule {
                retry_after: Some("5 fortnights".into()),
                ..UserRule::new("j", Category::Policy)
            },
            "j",
            "retry_after",
        ),
        (UserRule::new("", Category::Policy), "#0", "id"),
        (
            UserRule::new("k", Category::Policy).words(["{won't|cannot accept"]),
            "k",
            "words",
        ),
        (
            UserRule::new("l", Category::Policy).words(["{a|{b|c}}"]),
            "l",
            "words",
        ),
        (
            UserRule::new("m", Category::Policy).words(["a} b"]),
            "m",
            "words",
        ),
        (
            // 4 × 4 × 5 = 80 phrases from one entry: more than 64.
            UserRule::new("n", Category::Policy).words(["{a|b|c|d} {e|f|g|h} {i|j|k|l|m}"]),
            "n",
            "words",
        ),
        (
            UserRule::new("o", Category::Policy).words(["{|}"]),
            "o",
            "words",
        ),
        (
            UserRule::new("p", Category::Policy).enhanced(["!5.7"]),
            "p",
            "enhanced",
        ),
        (
            // A `*` runs a phrase into a word only at its start or end; inside, it would
            // silently never match.
            UserRule::new("q", Category::Policy).words(["spam* mail"]),
            "q",
            "words",
        ),
    ];
    for (rule, id, field) in cases {
        let err = Classifier::builtin().with_rules(vec![rule]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(id) && msg.contains(field), "{msg}");
    }
    let dup = vec![
        UserRule::new("x", Category::Policy),
        UserRule::new("x", Category::Policy),
    ];
    let err = Classifier::builtin().with_rules(dup).unwrap_err();
    assert!(err.to_string().contains("\"x\""));
}

#[test]
fn user_rules_replace_or_extend_builtins() {
    let rule = UserRule::new("acme.grey", Category::Greylisted)
        .codes(["45x"])
        .enhanced(["none", "4.7.*"])
        .text(["acme says wait"])
        .stages([Stage::RcptTo])
        .retry_after(Duration::from_secs(600));
    let only = Classifier::from_rules_only(vec![rule.clone()]).unwrap();
    assert_eq!(only.rule_count(), 1);
    let r = |s: &str| Reply::new(ReplyCode::new(451).unwrap(), [s]);
    let v = only.classify(&r("4.7.1 ACME says wait"), Stage::RcptTo);
    assert_eq!(v.rule, "acme.grey");
    assert_eq!(v.retry_after, Some(Duration::from_secs(600)));
    // The server's own hint wins over the rule's default.
    let v = only.classify(&r("acme says wait, try again in 60 seconds"), Stage::RcptTo);
    assert_eq!(v.retry_after, Some(Duration::from_secs(60)));
    // Wrong stage or code: no rule, built-ins are gone, so the codes decide.
    let v = only.classify(&r("acme says wait"), Stage::MailFrom);
    assert!(v.low_confidence);
    let v = only.classify(&r("5.7.1 acme says wait"), Stage::RcptTo);
    assert!(v.low_confidence, "enhanced 5.7.1 is not 4.7.*");
    // Extending keeps the built-ins for everything else.
    let both = Classifier::builtin().with_rules(vec![rule]).unwrap();
    assert_eq!(both.rule_count(), Classifier::builtin().rule_count() + 1);
    let v = both.classify(
        &Reply::new(ReplyCode::new(550).unwrap(), ["5.1.1 user unknown"]),
        Stage::RcptTo,
    );
    assert_eq!(v.category, Some(Category::UserUnknown));
}

#[test]
fn user_rule_text_is_a_case_insensitive_substring() {
    let rule =
        UserRule::new("de.full", Category::MailboxFull).text(["Postfach ÜBERFÜLLT", "quota-x"]);
    let c = Classifier::from_rules_only(vec![rule]).unwrap();
    let r = |s: &str| Reply::new(ReplyCode::new(552).unwrap(), [s]);
    // ASCII letters match in any case; other bytes match exactly.
    assert_eq!(
        c.classify(&r("Das POSTFACH ÜBERFÜLLT"), Stage::RcptTo).rule,
        "de.full"
    );
    // A substring, not a word: "quota-x" inside "myquota-xyz" matches.
    assert_eq!(c.classify(&r("myquota-xyz"), Stage::RcptTo).rule, "de.full");
    assert!(
        c.classify(&r("Postfach voll"), Stage::RcptTo)
            .low_confidence
    );
}

#[cfg(feature = "serde")]
#[test]
fn user_rules_from_json() {
    let json = r#"[
        {"id": "a", "category": "rate_limited", "codes": ["4xx"], "text": ["slow"], "scope": "destination"},
        {"id": "b", "category": "policy", "stages": ["rcpt_to"], "disposition": "permanent", "retry_after": "5m"}
    ]"#;
    let rules: Vec<UserRule> = serde_json::from_str(json).unwrap();
    let c = Classifier::builtin().with_rules(rules).unwrap();
    let v = c.classify_text("451 please slow down", Stage::MailFrom);
    assert_eq!((v.rule.as_ref(), v.scope.name()), ("a", "destination"));
    // Unknown fields are refused rather than silently ignored.
    let bad = r#"[{"id": "a", "category": "policy", "cdoes": ["550"]}]"#;
    assert!(serde_json::from_str::<Vec<UserRule>>(bad).is_err());
}

#[test]
fn classifier_is_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone + Default>() {}
    assert_send_sync::<Classifier>();
    let c = Classifier::default();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || {
                let r = Reply::new(
                    ReplyCode::new(550).unwrap(),
                    [format!("5.1.1 user {i} unknown")],
                );
                c.classify(&r, Stage::RcptTo).category
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Some(Category::UserUnknown));
    }
}
