//! Fuzzes user rules: compiling arbitrary rule fields, then classifying with them.
//!
//! Input: lines. The first line's first byte chooses the stage; the last line is the
//! text to classify; the lines between are rule fields, one per line, `w…` a `words`
//! entry, `t…` a `text` entry, `c…` a code pattern, `e…` an enhanced pattern (`!`
//! excludes), `s…` a stage name, `k…` a category name, `v…` an evidence name (the rule is
//! weighed instead of tried first), `p1`/`p0` says the cause passes with time or not, and
//! `--` starts the next rule (at most four). Properties checked, not just survival:
//! - compiling never panics: a rule is accepted or refused with an error naming a rule
//!   and a field;
//! - a rule whose `words` entries hold `{a|b}` groups classifies every text exactly as the
//!   same rule with the entries expanded by hand (every combination, in order) when it is
//!   accepted, and it is refused when an entry expands to more than 64 phrases or to a
//!   phrase with a `*` anywhere but at its start or end;
//! - saying a cause passes only ever moves a verdict from permanent to transient: the
//!   same rules with every `passes` false give the same rule and category, and the same
//!   disposition or a permanent one where these gave transient;
//! - with the rules accepted, the verdict keeps the classification contract (no category
//!   exactly for a success), for the text read as a reply and as bounce text (and, when
//!   the first line starts with `B`, with the built-in rules after them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tempfail::classify::UserRule;
use tempfail::{Category, Classification, Classifier, Disposition, Reply, Stage};

/// Every combination of an entry's `{a|b}` groups, or `None` when a brace is unbalanced
/// or nested (the library refuses those).
fn expand(entry: &str) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    let mut rest = entry;
    loop {
        match rest.find(['{', '}']) {
            None => break,
            Some(i) if rest.as_bytes()[i] == b'}' => return None,
            Some(i) => {
                let (head, tail) = rest.split_at(i);
                let tail = &tail[1..];
                let close = tail.find(['{', '}'])?;
                if tail.as_bytes()[close] != b'}' {
                    return None;
                }
                let alts: Vec<&str> = tail[..close].split('|').collect();
                if out.len().saturating_mul(alts.len()) > 4096 {
                    // Far over the library's limit: no need to build it.
                    return Some(vec![String::new(); 4097]);
                }
                out = out
                    .iter()
                    .flat_map(|p| alts.iter().map(move |a| format!("{p}{head}{a}")))
                    .collect();
                rest = &tail[close + 1..];
            }
        }
    }
    for p in &mut out {
        p.push_str(rest);
    }
    Some(out)
}

fn contract(v: &Classification) {
    assert_eq!(v.category.is_none(), v.disposition == Disposition::Success);
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = s.split('\n').collect();
    if lines.len() < 3 {
        return;
    }
    let stage = Stage::ALL[usize::from(lines[0].bytes().next().unwrap_or(0)) % Stage::ALL.len()];
    let text = lines[lines.len() - 1];
    let mut rules: Vec<UserRule> = vec![UserRule::new("r0", Category::Policy)];
    for line in &lines[1..lines.len() - 1] {
        if *line == "--" {
            if rules.len() == 4 {
                break;
            }
            rules.push(UserRule::new(format!("r{}", rules.len()), Category::Policy));
            continue;
        }
        let Some(r) = rules.last_mut() else { return };
        let (kind, value) = line.split_at(line.char_indices().nth(1).map_or(line.len(), |(i, _)| i));
        let value = value.to_owned();
        match kind {
            "w" => r.words.push(value),
            "t" => r.text.push(value),
            "c" => r.codes.push(value),
            "e" => r.enhanced.push(value),
            "s" => r.stages.push(value),
            "k" => r.category = value,
            "p" => r.passes = Some(value == "1"),
            "v" => r.evidence = Some(value),
            _ => {}
        }
    }
    let grouped = Classifier::from_rules_only(rules.clone());
    // The same rules with every `words` entry expanded by hand.
    let mut listed = rules.clone();
    let mut expandable = true;
    let mut too_many = false;
    // A `*` left inside a phrase once one leading and one trailing `*` are taken off.
    let mut inner_star = false;
    for r in &mut listed {
        let mut words = Vec::new();
        for w in &r.words {
            match expand(w) {
                Some(e) => {
                    too_many |= e.len() > 64;
                    inner_star |= e.iter().any(|p| {
                        let t = p.trim();
                        let t = t.strip_prefix('*').unwrap_or(t);
                        let t = t.strip_suffix('*').unwrap_or(t);
                        t.contains('*')
                    });
                    words.extend(e);
                }
                None => expandable = false,
            }
        }
        r.words = words;
    }
    match &grouped {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("rule "), "{msg}");
        }
        Ok(_) => assert!(
            expandable && !too_many && !inner_star,
            "accepted a rule the hand expansion refuses"
        ),
    }
    if !expandable {
        assert!(grouped.is_err(), "an unbalanced or nested brace was accepted");
    }
    if too_many {
        assert!(grouped.is_err(), "an entry of more than 64 phrases was accepted");
    }
    if inner_star {
        assert!(grouped.is_err(), "a phrase with a `*` inside it was accepted");
    }
    let Ok(grouped) = grouped else { return };
    let listed = Classifier::from_rules_only(listed).expect("the expansions of accepted rules are accepted");
    let a = grouped.classify_text(text, stage);
    let b = listed.classify_text(text, stage);
    contract(&a);
    assert_eq!((&a.rule, a.category, a.disposition), (&b.rule, b.category, b.disposition));
    // Every cause said not to pass: only dispositions may differ, and only towards permanent.
    let mut never: Vec<UserRule> = rules.clone();
    for r in &mut never {
        r.passes = Some(false);
    }
    let never = Classifier::from_rules_only(never).expect("the same rules with passes false are accepted");
    let n = never.classify_text(text, stage);
    assert_eq!((&a.rule, a.category), (&n.rule, n.category));
    assert!(
        a.disposition == n.disposition
            || (a.disposition == Disposition::Transient && n.disposition == Disposition::Permanent),
        "passes moved {:?} to {:?}",
        n.disposition,
        a.disposition
    );
    if let Ok(reply) = Reply::parse(text.as_bytes()) {
        let a = grouped.classify(&reply, stage);
        let b = listed.classify(&reply, stage);
        contract(&a);
        assert_eq!((&a.rule, a.category), (&b.rule, b.category));
    }
    // With the built-in rules too, now and then (building their automaton is slow).
    if lines[0].starts_with('B') {
        if let Ok(c) = Classifier::builtin().with_rules(rules) {
            contract(&c.classify_text(text, stage));
        }
    }
});
