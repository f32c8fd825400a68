//! Classify SMTP replies, bounce text or log lines from standard input.
//!
//! ```text
//! cargo run --release --example classify < replies.txt
//! ```
//!
//! One record per input line: a line starting with `{` is a JSON object with `reply`
//! (a string; a multi-line reply joined with `\r\n`) and an optional `stage` (`rcpt_to`,
//! `RCPT TO`, `data_end`…; an unknown name means unknown); any other line is the reply
//! or bounce text itself. Exactly one JSON line is written per input line, in order:
//!
//! ```text
//! {"code":550,"enhanced":"5.1.1","disposition":"permanent","category":"user_unknown",
//!  "scope":"recipient","retry_after_secs":null,"rule":"text.user_unknown","low_confidence":false}
//! ```
//!
//! Input that cannot be understood still gets a line, with an `error` field and whatever
//! could be decided.

use std::io::{self, BufRead, BufWriter, Write};

use serde_json::{Value, json};
use tempfail::{Classification, Classifier, Reply, Stage};

fn main() -> io::Result<()> {
    let classifier = Classifier::builtin();
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    let mut input = stdin.lock();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        // Bytes that are not UTF-8 are replaced, never fatal.
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        let record = classify_line(&classifier, line);
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn classify_line(c: &Classifier, line: &str) -> Value {
    if line.trim_start().starts_with('{') {
        let obj: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return error_record(format!("invalid JSON: {e}")),
        };
        let Some(text) = obj.get("reply").and_then(Value::as_str) else {
            return error_record("JSON object without a string field `reply`".into());
        };
        let stage = obj
            .get("stage")
            .and_then(Value::as_str)
            .map_or(Stage::Unknown, Stage::parse_lenient);
        // A reply as sent on the wire (lines joined with CRLF) parses exactly; anything
        // else is searched like bounce text.
        match Reply::parse(text.as_bytes()) {
            Ok(reply) => record(&c.classify(&reply, stage), Some(&reply)),
            Err(_) => from_text(c, text, stage),
        }
    } else {
        from_text(c, line, Stage::Unknown)
    }
}

fn from_text(c: &Classifier, text: &str, stage: Stage) -> Value {
    if text.trim().is_empty() {
        return error_record("empty input".into());
    }
    let (v, reply) = c.classify_text_with_reply(text, stage);
    let mut rec = record(&v, reply.as_ref());
    if reply.is_none() && v.low_confidence {
        rec["error"] = json!("no SMTP reply code and no recognised wording");
    }
    rec
}

fn record(v: &Classification, reply: Option<&Reply>) -> Value {
    json!({
        "code": reply.map(|r| r.code().as_u16()),
        "enhanced": reply.and_then(|r| r.enhanced()).map(|e| e.to_string()),
        "disposition": v.disposition.name(),
        "category": v.category.map(|c| c.name()),
        "scope": v.scope.name(),
        "retry_after_secs": v.retry_after.map(|d| d.as_secs()),
        "rule": v.rule,
        "low_confidence": v.low_confidence,
    })
}

fn error_record(error: String) -> Value {
    json!({
        "code": null,
        "enhanced": null,
        "disposition": null,
        "category": null,
        "scope": null,
        "retry_after_secs": null,
        "rule": null,
        "low_confidence": true,
        "error": error,
    })
}
