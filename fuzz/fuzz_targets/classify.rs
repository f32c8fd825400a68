//! Fuzzes the classifier on arbitrary replies and bounce text.
//!
//! Input: one header byte chooses the stage, the rest is the text. Properties checked,
//! not just survival:
//! - a classification keeps its contract: no category exactly for a success, a retry
//!   hint within 1 s – 24 h, low confidence exactly for the fallback rules;
//! - a 2xx/3xx reply is a success and a 4xx is transient (the one documented
//!   exception, Yahoo's [TS03], aside); a reply whose lines disagree about the
//!   code is transient, never a success nor permanent, and so is one whose text begins
//!   with a code of the other failure class (`550 451 …`: a library's default code in
//!   front of the one meant), flagged low confidence;
//! - the same input classifies the same way twice (no hidden state);
//! - the evidence engine's explain view gives the same verdict, its winner first;
//! - the text path, fed the same bytes, never panics and keeps the same contract;
//! - the learned tie-breaker (on in the built-in classifier) never changes a
//!   disposition: the verdict with the model off has the same disposition, and is the
//!   same verdict unless the model decided (`model.category`, low confidence) where the
//!   rules were weak (no rule, or a winning cause scoring at most the gate's `weak`),
//!   whose explanation then carries the model's vote.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tempfail::classify::Explanation;
use tempfail::classify::model::Gate;
use tempfail::{Classification, Classifier, Disposition, EnhancedCode, Reply, Stage};

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(Classifier::builtin)
}

fn without_model() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::builtin().with_model(false))
}

/// The model may change the category and scope of a verdict the rules were not
/// confident about (no rule held, or the winning cause scored at most the gate's
/// `weak`: a code alone), never the disposition.
fn model_safe(with: &Classification, rules: &Explanation) {
    let without = &rules.classification;
    assert_eq!(with.disposition, without.disposition);
    assert_ne!(without.rule, "model.category");
    if with.rule == "model.category" {
        let weak = without.low_confidence
            || rules
                .considered
                .first()
                .is_none_or(|c| c.category_score <= Gate::BUILTIN.weak);
        assert!(weak, "the model overruled a confident verdict: {without:?}");
        assert!(with.category.is_some());
    } else if !((with.rule == "reply.mixed_codes" || with.rule == "reply.inner_code")
        && with.description.contains("model.category"))
    {
        // (A reply whose codes disagree keeps the model's category, transient.)
        assert_eq!(with, without);
    }
}

fn contract(v: &Classification) {
    assert_eq!(v.category.is_none(), v.disposition == Disposition::Success);
    if let Some(d) = v.retry_after {
        assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(86_400));
    }
    assert_eq!(
        v.low_confidence,
        v.rule.starts_with("fallback.")
            || v.rule == "reply.mixed_codes"
            || v.rule == "reply.inner_code"
            || v.rule == "model.category"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let stage = Stage::ALL[usize::from(head) % Stage::ALL.len()];
    let c = classifier();
    if let Ok(reply) = Reply::parse(body) {
        let v = c.classify(&reply, stage);
        contract(&v);
        if reply.has_mixed_codes() {
            // Lines that disagree are never a success nor final.
            assert_eq!(v.disposition, Disposition::Transient);
            assert_eq!(v.rule, "reply.mixed_codes");
        }
        // A first line that begins with a code of the other failure class followed by
        // an enhanced code of its own class (an oracle of its own: `NNN N.x.y ` at the
        // line's start).
        let first = reply.text_lines().next().unwrap_or_default();
        let inner_class = match first {
            [c @ (b'4' | b'5'), d, e, b' ', rest @ ..]
                if d.is_ascii_digit()
                    && e.is_ascii_digit()
                    && EnhancedCode::parse_prefix(rest).is_some_and(|(x, n)| {
                        x.class() == c - b'0'
                            && rest.get(n).is_none_or(|b| !b.is_ascii_alphanumeric())
                    }) =>
            {
                Some(c - b'0')
            }
            _ => None,
        };
        if !reply.has_mixed_codes()
            && matches!((reply.code().class(), inner_class), (4, Some(5)) | (5, Some(4)))
        {
            assert_eq!(v.disposition, Disposition::Transient);
            assert_eq!(v.rule, "reply.inner_code");
        }
        if v.rule == "reply.inner_code" {
            assert_eq!(v.disposition, Disposition::Transient);
            assert!(matches!(reply.code().class(), 4 | 5));
        }
        match reply.code().class() {
            _ if reply.has_mixed_codes() => {}
            2 | 3 => assert_eq!(v.disposition, Disposition::Success),
            4 if v.rule != "yahoo.ts03_permanently_deferred" => {
                assert_eq!(v.disposition, Disposition::Transient)
            }
            _ => {}
        }
        assert_eq!(v, c.classify(&reply, stage));
        // The explain view agrees with the verdict and names the winner first.
        let e = c.explain(&reply, stage);
        assert_eq!(e.classification, v);
        model_safe(&v, &without_model().explain(&reply, stage));
        if v.rule == "model.category" {
            assert!(e.model.as_ref().is_some_and(|m| m.decided));
        }
        if let Some(first) = e.considered.first() {
            if !v.low_confidence && v.disposition != Disposition::Success {
                assert_eq!(first.rule, v.rule);
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let v = c.classify_text(&text, stage);
    contract(&v);
    assert_eq!(v, c.classify_text(&text, stage));
    let e = c.explain_text(&text, stage);
    assert_eq!(e.classification, v);
    model_safe(&v, &without_model().explain_text(&text, stage));
    if v.rule == "model.category" {
        assert!(e.model.as_ref().is_some_and(|m| m.decided && !m.features.is_empty()));
    }
});
