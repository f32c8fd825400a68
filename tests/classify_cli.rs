//! The `classify` example's command-line contract, run in-process.

#[allow(dead_code)]
#[path = "../examples/classify.rs"]
mod classify_cli;

use classify_cli::{
    MAX_LINE, Mode, builtin_rules_json, classify_all_with, classify_line, parse_args,
    read_line_bounded,
};
use tempfail::Classifier;

#[test]
fn a_huge_line_is_skipped_with_memory_bounded() {
    // 100 MB without a line feed, then a normal line: the reader never holds more
    // than MAX_LINE bytes of it.
    struct Huge {
        left: usize,
        tail: &'static [u8],
        block: Vec<u8>,
        pos: usize,
    }
    impl std::io::Read for Huge {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            unreachable!("read through BufRead")
        }
    }
    impl std::io::BufRead for Huge {
        fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
            if self.left > 0 {
                let n = self.left.min(self.block.len());
                return Ok(&self.block[..n]);
            }
            Ok(&self.tail[self.pos..])
        }
        fn consume(&mut self, n: usize) {
            if self.left > 0 {
                self.left -= n;
            } else {
                self.pos += n;
            }
        }
    }
    let mut input = Huge {
        left: 100 << 20,
        tail: b"\n550 5.1.1 user unknown\n",
        block: vec![b'x'; 1 << 16],
        pos: 0,
    };
    let mut buf = Vec::new();
    assert_eq!(
        read_line_bounded(&mut input, &mut buf, MAX_LINE).unwrap(),
        Some(100 << 20)
    );
    assert!(buf.len() <= MAX_LINE && buf.capacity() <= 2 * MAX_LINE);
    assert_eq!(
        read_line_bounded(&mut input, &mut buf, MAX_LINE).unwrap(),
        Some(22)
    );
    assert_eq!(buf, b"550 5.1.1 user unknown");
    assert_eq!(
        read_line_bounded(&mut input, &mut buf, MAX_LINE).unwrap(),
        None
    );
}

#[test]
fn json_that_is_not_an_object_is_an_error_line() {
    let c = Classifier::builtin();
    for line in [
        "[1, 2]",
        "[\"550 5.1.1 x\"]",
        "{\"stage\": \"rcpt_to\"}",
        "{oops",
    ] {
        let v = classify_line(&c, line);
        assert!(v["error"].is_string(), "{line}: {v}");
        assert!(v["disposition"].is_null(), "{line}: {v}");
    }
    let v = classify_line(
        &c,
        r#"{"reply": "550 5.1.1 user unknown", "stage": "rcpt_to"}"#,
    );
    assert_eq!(v["category"], "user_unknown");
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn rules_from_a_file_come_first_and_bad_ones_name_the_field() {
    let dir = std::env::temp_dir().join(format!("tempfail-classify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(
        &good,
        r#"[{"id": "acme.quota", "codes": ["552"], "words": ["acme quota"],
             "disposition": "transient", "category": "mailbox_full"}]"#,
    )
    .unwrap();
    let line = "552 5.2.2 Acme quota reached";
    let Ok(Mode::Classify(c, _)) = parse_args(&args(&["--rules", good.to_str().unwrap()])) else {
        panic!("--rules refused");
    };
    let v = classify_line(&c, line);
    assert_eq!(v["rule"], "acme.quota");
    assert_eq!(v["disposition"], "transient");
    // Without the file, the built-in rules decide.
    let v = classify_line(&Classifier::builtin(), line);
    assert_ne!(v["rule"], "acme.quota");
    assert_eq!(v["disposition"], "permanent");

    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"[{"id": "x", "category": "mailbox_ful"}]"#).unwrap();
    let Err(e) = parse_args(&args(&["--rules", bad.to_str().unwrap()])) else {
        panic!("bad rule accepted");
    };
    assert!(
        e.contains("`category`") && e.contains("mailbox_full"),
        "{e}"
    );
    // `passes` takes true or false, nothing else; with true, a quota that asks for a
    // later retry is transient.
    std::fs::write(
        &bad,
        r#"[{"id": "x", "category": "mailbox_full", "passes": "yes"}]"#,
    )
    .unwrap();
    let Err(e) = parse_args(&args(&["--rules", bad.to_str().unwrap()])) else {
        panic!("a non-boolean passes accepted");
    };
    assert!(e.contains("`passes`"), "{e}");
    std::fs::write(
        &good,
        r#"[{"id": "acme.window", "words": ["acme window"], "category": "mailbox_full",
             "evidence": "wording", "passes": true}]"#,
    )
    .unwrap();
    let Ok(Mode::Classify(c, _)) = parse_args(&args(&["--rules", good.to_str().unwrap()])) else {
        panic!("--rules refused passes");
    };
    let v = classify_line(&c, "552 5.2.2 Acme window full, try again later");
    assert_eq!(v["category"], "mailbox_full");
    assert_eq!(v["disposition"], "transient");
    assert!(parse_args(&args(&["--rules"])).is_err());
    assert!(parse_args(&args(&["--frobnicate"])).is_err());
    let Ok(Mode::Classify(_, files)) = parse_args(&args(&["a.txt", "-", "b.txt"])) else {
        panic!("file arguments refused");
    };
    assert_eq!(files, ["a.txt", "-", "b.txt"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_printed_built_in_rules_load_back_as_rules_only() {
    let json = builtin_rules_json().to_string();
    let dir = std::env::temp_dir().join(format!("tempfail-classify-dump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("builtin.json");
    std::fs::write(&f, json).unwrap();
    let Ok(Mode::Classify(c, _)) = parse_args(&args(&["--rules-only", f.to_str().unwrap()])) else {
        panic!("--rules-only refused the built-in rules");
    };
    for line in [
        "550 5.1.1 <a@b>: Recipient address rejected: User unknown",
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred",
        "450 4.2.0 <a@b>: Recipient address rejected: Greylisted",
        // The lock-out rule says its cause passes (`passes`): the printed rules keep it.
        "535 5.7.8 Too many failed login attempts. Try again in 300 seconds.",
        "550 Message rejected: Greylisting active",
    ] {
        assert_eq!(
            classify_line(&c, line),
            classify_line(&Classifier::builtin(), line)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_stage_used_is_reported_and_a_typo_is_an_error_line() {
    let c = Classifier::builtin();
    let v = classify_line(
        &c,
        r#"{"reply": "550 5.1.1 no such user", "stage": "RCPT TO"}"#,
    );
    assert_eq!(v["stage"], "rcpt_to");
    assert_eq!(v["category"], "user_unknown");
    let v = classify_line(
        &c,
        r#"{"reply": "550 5.1.1 no such user", "stage": "rcpt_too"}"#,
    );
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("unknown stage \"rcpt_too\""),
        "{v}"
    );
    assert_eq!(v["disposition"], serde_json::Value::Null);
    // Bounce text names its stage.
    let v = classify_line(
        &c,
        "host mx[192.0.2.1] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command)",
    );
    assert_eq!(v["stage"], "rcpt_to");
    let v = classify_line(&c, "421 4.7.0 try later");
    assert_eq!(v["stage"], "unknown");
}

#[test]
fn explain_adds_the_evidence_and_keeps_the_contract() {
    let Ok(Mode::Explain(c, files)) = parse_args(&args(&["--explain", "a.txt"])) else {
        panic!("--explain is an option")
    };
    assert_eq!(files, vec!["a.txt".to_owned()]);
    let mut input: &[u8] = b"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred\n{\"reply\": \"550 sorry, no mailbox here by that name. (#5.1.1)\", \"stage\": \"rcpt_to\"}\n";
    let mut out = Vec::new();
    classify_all_with(&c, &mut input, &mut out, true).unwrap();
    let lines: Vec<&str> = std::str::from_utf8(&out).unwrap().lines().collect();
    assert_eq!(lines.len(), 2, "one line out per line in");
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        for k in ["code", "disposition", "category", "scope", "rule", "stage"] {
            assert!(v.get(k).is_some(), "{k} in {l}");
        }
        let e = &v["explain"];
        assert!(e["reason"].is_string());
        assert_eq!(e["considered"][0]["rule"], v["rule"], "{l}");
    }
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let plain = classify_line(
        &c,
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred",
    );
    assert_eq!(first["rule"], plain["rule"]);
    assert!(
        plain.get("explain").is_none(),
        "no explain field without --explain"
    );
    let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second["category"], "user_unknown");
    assert_eq!(second["explain"]["enhanced"], "5.1.1");
}
