//! `Reply::parse_loose` over every reply text in the labelled corpus
//! (tests/data/corpus: Sisimai and Crisp, see its README and licences), compared with
//! the basic and enhanced codes those projects expect.

use std::path::PathBuf;

use tempfail::Reply;

#[derive(Default, Debug)]
struct Tally {
    rows: usize,
    with_reply: usize,
    found_code: usize,
    found_enhanced: usize,
    code_labelled: usize,
    code_agree: usize,
    code_missed: Vec<String>,
    code_wrong: Vec<String>,
    status_labelled: usize,
    status_agree: usize,
    status_missed: Vec<String>,
    status_wrong: Vec<String>,
}

fn tally(file: &str) -> Tally {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut t = Tally::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        t.rows += 1;
        let Some(reply) = row["reply"].as_str().filter(|s| !s.is_empty()) else {
            continue;
        };
        t.with_reply += 1;
        let parsed = Reply::parse_loose(reply);
        let code = parsed.as_ref().map(|r| u64::from(r.code().as_u16()));
        let enhanced = parsed
            .as_ref()
            .and_then(|r| r.enhanced())
            .map(|e| e.to_string());
        t.found_code += usize::from(code.is_some());
        t.found_enhanced += usize::from(enhanced.is_some());
        // A label the reply text itself contains (Sisimai sometimes labels from other
        // parts of the bounce).
        if let Some(want) = row["replycode"].as_u64() {
            if reply.contains(&want.to_string()) {
                t.code_labelled += 1;
                match code {
                    Some(c) if c == want => t.code_agree += 1,
                    Some(c) => t.code_wrong.push(format!("{want} vs {c}: {reply}")),
                    None => t.code_missed.push(format!("{want}: {reply}")),
                }
            }
        }
        let pseudo = row["status_is_pseudo"].as_bool().unwrap_or(false);
        if let (Some(want), false) = (row["status"].as_str(), pseudo) {
            if reply.contains(want) {
                t.status_labelled += 1;
                match enhanced {
                    Some(e) if e == want => t.status_agree += 1,
                    Some(e) => t.status_wrong.push(format!("{want} vs {e}: {reply}")),
                    None => t.status_missed.push(format!("{want}: {reply}")),
                }
            }
        }
    }
    println!("{file}: {t:#?}");
    t
}

fn check(t: &Tally) {
    assert!(t.with_reply > 100, "corpus not found or empty");
    // Every basic code a label gives and the text contains is found, and is the same.
    assert!(t.code_missed.is_empty(), "{:#?}", t.code_missed);
    assert!(t.code_wrong.is_empty(), "{:#?}", t.code_wrong);
    assert_eq!(t.code_agree, t.code_labelled);
    // No enhanced code found disagrees with the label; the few not found are inside the
    // text rather than at a line start (`(#5.1.1 - chkuser)`, `RCPT TO not accepted: 5.7.1`).
    assert!(t.status_wrong.is_empty(), "{:#?}", t.status_wrong);
    assert!(t.status_agree * 100 >= t.status_labelled * 98, "{t:#?}");
}

#[test]
fn sisimai() {
    check(&tally("sisimai.jsonl"));
}

#[test]
fn crisp() {
    check(&tally("crisp.jsonl"));
}
