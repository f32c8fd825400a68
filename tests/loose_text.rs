//! Bounce and log text is not a reply by accident: numbers in free text never read
//! as a success, and no bounce text can mark a recipient delivered.

use proptest::prelude::*;
use tempfail::delivery::{Delivery, Output, Recipient};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::{Classifier, Disposition, RcptOutcome, Reply, Stage, Timestamp};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

#[test]
fn numbers_after_a_colon_are_not_replies() {
    let c = Classifier::builtin();
    for text in [
        "Mailbox full: 250 MB quota exceeded",
        "rejected: 300 messages per hour",
        "Message rejected: 250 recipients per day allowed",
        "quota exceeded: 220 of 200 MB used",
        "Delivery failed: 354 attempts made",
    ] {
        let found = Reply::parse_loose(text);
        assert!(
            found.as_ref().is_none_or(|r| !r.code().is_positive()),
            "{text:?} read as {found:?}"
        );
        let v = c.classify_text(text, Stage::Unknown);
        assert_ne!(v.disposition, Disposition::Success, "{text:?}: {v:?}");
    }
}

#[test]
fn a_positive_reply_is_still_read_where_a_reply_starts() {
    let c = Classifier::builtin();
    for text in [
        "250 2.0.0 Ok: queued as 4ABCD",
        "250 ok",
        "smtp; 250 2.0.0 OK 1700000000 a1si2 - gsmtp",
        "host mx.example.com[192.0.2.1] said: 250 2.0.0 Ok: queued as 4ABCD (in reply to end of DATA command)",
    ] {
        let r = Reply::parse_loose(text).unwrap_or_else(|| panic!("{text:?}"));
        assert_eq!(r.code().as_u16(), 250, "{text:?}");
        assert_eq!(
            c.classify_text(text, Stage::DataEnd).disposition,
            Disposition::Success,
            "{text:?}"
        );
    }
    // A negative reply with an enhanced code is found wherever it stands.
    let r = Reply::parse_loose("Mailbox full: 552 5.2.2 quota exceeded").unwrap();
    assert_eq!(r.code().as_u16(), 552);
}

/// Free text: words, then a colon, then a number that looks like a positive code,
/// then more words.
fn free_text() -> impl Strategy<Value = String> {
    let word = proptest::sample::select(vec![
        "Mailbox",
        "full",
        "quota",
        "exceeded",
        "rejected",
        "messages",
        "per",
        "hour",
        "MB",
        "limit",
        "user",
        "over",
        "size",
        "sent",
        "recipients",
        "delivery",
        "failed",
        "the",
        "of",
        "(",
        ")",
        "-",
        "#",
        "x",
        "[192.0.2.1]",
    ]);
    (
        proptest::collection::vec(word.clone(), 1..6),
        proptest::sample::select(vec![":", ": ", " - ", ", ", ". "]),
        200u16..400,
        proptest::option::of(proptest::sample::select(vec!["2.0.0", "2.1.5", "3.0.0"])),
        proptest::collection::vec(word, 0..6),
    )
        .prop_map(|(a, sep, code, enh, b)| {
            let enh = enh.map(|e| format!("{e} ")).unwrap_or_default();
            format!("{}{sep}{code} {enh}{}", a.join(" "), b.join(" "))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn free_text_numbers_never_read_as_success(text in free_text()) {
        let c = Classifier::builtin();
        let v = c.classify_text(&text, Stage::Unknown);
        prop_assert_ne!(v.disposition, Disposition::Success, "{:?}: {:?}", text, v);
    }

    /// Whatever bounce text a sender feeds the delivery machine (here free text with
    /// positive-looking numbers, through `classify_text`), no recipient is delivered.
    #[test]
    fn bounce_text_never_marks_a_recipient_delivered(text in free_text()) {
        let c = Classifier::builtin();
        let policy = RetryPolicy::preset(Preset::Tempfail);
        let mut d = Delivery::new(T0, 1, vec![Recipient::new("b@example.com")]);
        let _ = d.start_attempt(T0, None).unwrap();
        let (classification, reply) = c.classify_text_with_reply(&text, Stage::Unknown);
        let o = RcptOutcome { rcpt: 0, reply, stage: Stage::Unknown, classification };
        d.handle_outcome(T0, &policy, &o).unwrap();
        while let Some(out) = d.poll_output() {
            prop_assert!(!matches!(out, Output::Delivered { .. }), "{:?}", text);
        }
    }
}
