//! Classify SMTP replies, bounce text or log lines from standard input.
//!
//! ```text
//! cargo run --release --example classify < replies.txt
//! ```
//!
//! One record per input line: a line starting with `{` is a JSON object with `reply`
//! (a string; a multi-line reply joined with `\r\n`) and an optional `stage` (`rcpt_to`,
//! `RCPT TO`, `data_end`…; a name that is not a stage is an error line listing the
//! valid ones, so a typo never classifies at the wrong stage); any other line is the reply
//! or bounce text itself. Exactly one JSON line is written per input line, in order:
//!
//! ```text
//! {"code":550,"enhanced":"5.1.1","disposition":"permanent","category":"user_unknown",
//!  "scope":"recipient","retry_after_secs":null,"rule":"text.user_unknown","low_confidence":false,
//!  "stage":"rcpt_to"}
//! ```
//!
//! `stage` is the stage the classification used (named in the input, or read from
//! bounce text such as `(in reply to RCPT TO command)`, else `unknown`).
//!
//! ```text
//! ```
//!
//! Options:
//!
//! - `--rules FILE`: a JSON array of user rules (see `tempfail::classify::UserRule`),
//!   tried before the built-in rules;
//! - `--rules-only FILE`: the same, instead of the built-in rules;
//! - `--explain`: each output line also has an `explain` field: the enhanced code read
//!   (also one buried in the text, `(#5.1.1)`), every rule that held with its kind of
//!   evidence, weight and its cause's score, strongest first, why the winner won, and
//!   (`model`, else null) what the learned tie-breaker said when it was consulted: its
//!   pick, the rules' category it was weighed against, its margin, whether it decided,
//!   and the features that weighed most; the other fields are unchanged;
//! - `--builtin-rules`: print the built-in rules, in priority order, as a JSON array in
//!   the same format (edit them and load the result with `--rules-only`), and exit.
//!
//! A bad option or a rule that does not check is a message on standard error (naming
//! the rule and the field) and exit status 2.
//!
//! Input that cannot be understood still gets a line, with an `error` field and whatever
//! could be decided. A line longer than [`MAX_LINE`] bytes gets an error line and is
//! skipped without being held in memory (the program's memory stays bounded on a
//! 100 MB line); a JSON value that is not an object is an error line too.

use std::io::{self, BufRead, BufWriter, Write};

/// The longest input line read (64 KiB: a reply is at most a few KiB, RFC 5321
/// §4.5.3.1.5 sets 512 bytes per line).
pub const MAX_LINE: usize = 64 * 1024;

/// Reads one line (up to and without its LF) into `buf`, at most `max` bytes of
/// it: the rest of a longer line is consumed and dropped. Returns the line's full
/// length, or `None` at the end of the input.
pub fn read_line_bounded(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<usize>> {
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any.then_some(total));
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..take.min(room)]);
        total = total.saturating_add(take);
        input.consume(if done { take + 1 } else { take });
        if done {
            return Ok(Some(total));
        }
    }
}

use serde_json::{Value, json};
use tempfail::classify::{Explanation, UserRule};
use tempfail::{Classification, Classifier, Reply, Stage};

/// What the command line asked for.
pub enum Mode {
    /// Classify these files (standard input when none) with this classifier.
    Classify(Classifier, Vec<String>),
    /// Print the built-in rules.
    PrintBuiltins,
    /// Like `Classify`, and each line also carries an `explain` field.
    Explain(Classifier, Vec<String>),
}

/// Reads the options (without the program name).
pub fn parse_args(args: &[String]) -> Result<Mode, String> {
    let mut classifier = Classifier::builtin();
    let mut files = Vec::new();
    let mut explain = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--builtin-rules" => return Ok(Mode::PrintBuiltins),
            "--explain" => explain = true,
            "--rules" | "--rules-only" => {
                let path = it.next().ok_or_else(|| format!("{a} needs a file name"))?;
                let text = std::fs::read_to_string(path).map_err(|e| format!("{a} {path}: {e}"))?;
                let rules = rules_from_json(&text).map_err(|e| format!("{a} {path}: {e}"))?;
                classifier = if a == "--rules" {
                    classifier.with_rules(rules)
                } else {
                    Classifier::from_rules_only(rules)
                }
                .map_err(|e| format!("{a} {path}: {e}"))?;
            }
            other if other.starts_with('-') && other != "-" => {
                return Err(format!(
                    "unknown option {other:?} (expected --rules FILE, --rules-only FILE, --builtin-rules, --explain or file names)"
                ));
            }
            file => files.push(file.to_owned()),
        }
    }
    Ok(if explain {
        Mode::Explain(classifier, files)
    } else {
        Mode::Classify(classifier, files)
    })
}

/// A JSON array of user rules (read field by field, so that this program needs no
/// crate feature; with feature `serde`, `UserRule` deserializes directly).
pub fn rules_from_json(text: &str) -> Result<Vec<UserRule>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Array(items) = v else {
        return Err("expected a JSON array of rules".into());
    };
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(obj) = item else {
            return Err(format!("rule #{i}: expected a JSON object"));
        };
        let mut r = UserRule::default();
        for (k, v) in obj {
            let string = || {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("rule #{i}: field `{k}`: expected a string"))
            };
            let list = || -> Result<Vec<String>, String> {
                v.as_array()
                    .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_owned)).collect())
                    .ok_or_else(|| format!("rule #{i}: field `{k}`: expected a list of strings"))
            };
            match k.as_str() {
                "id" => r.id = string()?,
                "description" => r.description = string()?,
                "category" => r.category = string()?,
                "disposition" => r.disposition = Some(string()?),
                "scope" => r.scope = Some(string()?),
                "retry_after" => r.retry_after = Some(string()?),
                "stages" => r.stages = list()?,
                "codes" => r.codes = list()?,
                "enhanced" => r.enhanced = list()?,
                "text" => r.text = list()?,
                "words" => r.words = list()?,
                "failures" => r.failures = list()?,
                "evidence" => r.evidence = Some(string()?),
                "passes" => {
                    r.passes =
                        Some(v.as_bool().ok_or_else(|| {
                            format!("rule #{i}: field `{k}`: expected true or false")
                        })?)
                }
                other => return Err(format!("rule #{i}: unknown field `{other}`")),
            }
        }
        rules.push(r);
    }
    Ok(rules)
}

/// The built-in rules as a JSON array, in the format [`rules_from_json`] reads.
pub fn builtin_rules_json() -> Value {
    let rule = |r: UserRule| {
        let mut o = serde_json::Map::new();
        o.insert("id".into(), json!(r.id));
        o.insert("description".into(), json!(r.description));
        for (k, v) in [
            ("stages", r.stages),
            ("codes", r.codes),
            ("enhanced", r.enhanced),
            ("text", r.text),
            ("words", r.words),
            ("failures", r.failures),
        ] {
            if !v.is_empty() {
                o.insert(k.into(), json!(v));
            }
        }
        for (k, v) in [
            ("disposition", r.disposition),
            ("scope", r.scope),
            ("retry_after", r.retry_after),
            ("evidence", r.evidence),
        ] {
            if let Some(v) = v {
                o.insert(k.into(), json!(v));
            }
        }
        if let Some(p) = r.passes {
            o.insert("passes".into(), json!(p));
        }
        o.insert("category".into(), json!(r.category));
        Value::Object(o)
    };
    Value::Array(Classifier::builtin_rules().into_iter().map(rule).collect())
}

/// The contract, for `--help`.
pub const HELP: &str = "classify: SMTP replies, bounce text or log lines from standard input (or the files named),
one JSON line out per line in.

usage: classify [--rules FILE | --rules-only FILE] [--explain] [FILE ...]
       classify --builtin-rules

A line starting with { is a JSON object {\"reply\": \"...\", \"stage\": \"rcpt_to\"}; any other line is the
reply or bounce text itself. Output:
  {\"code\":550,\"enhanced\":\"5.1.1\",\"disposition\":\"permanent\",\"category\":\"user_unknown\",
   \"scope\":\"recipient\",\"retry_after_secs\":null,\"rule\":\"text.user_unknown\",\"low_confidence\":false,\"stage\":\"rcpt_to\"}
A line that cannot be understood (bad JSON, an unknown stage name, over 64 KiB) gets a line with
an \"error\" field. --rules FILE: a JSON array of user rules tried before the built-in ones;
--rules-only FILE: instead of them; --builtin-rules: print the built-in rules in that format;
--explain: each output line also has an \"explain\" field: every rule that held (rule, category,
evidence, weight, category_score), strongest first, the reason the winner won, and the learned
model's vote when it was consulted.
Exit status 2 for unusable options or rules.
";

#[allow(dead_code)] // the tests include this file for its functions
fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return Ok(());
    }
    let (classifier, files, explain) = match parse_args(&args) {
        Ok(Mode::Classify(c, files)) => (c, files, false),
        Ok(Mode::Explain(c, files)) => (c, files, true),
        Ok(Mode::PrintBuiltins) => {
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &builtin_rules_json())?;
            out.write_all(b"\n")?;
            return Ok(());
        }
        Err(e) => {
            eprintln!("classify: {e}");
            std::process::exit(2);
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if files.is_empty() {
        classify_all_with(&classifier, &mut io::stdin().lock(), &mut out, explain)?;
    }
    for f in &files {
        if f == "-" {
            classify_all_with(&classifier, &mut io::stdin().lock(), &mut out, explain)?;
            continue;
        }
        match std::fs::File::open(f) {
            Ok(file) => classify_all_with(
                &classifier,
                &mut io::BufReader::new(file),
                &mut out,
                explain,
            )?,
            Err(e) => {
                out.flush()?;
                eprintln!("classify: {f}: {e}");
                std::process::exit(2);
            }
        }
    }
    out.flush()
}

/// Classifies every line of `input` onto `out`, one JSON line each.
pub fn classify_all(
    classifier: &Classifier,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<()> {
    classify_all_with(classifier, input, out, false)
}

/// [`classify_all`], with an `explain` field on each line when `explain` is set.
pub fn classify_all_with(
    classifier: &Classifier,
    input: &mut impl BufRead,
    out: &mut impl Write,
    explain: bool,
) -> io::Result<()> {
    let mut buf = Vec::new();
    while let Some(len) = read_line_bounded(input, &mut buf, MAX_LINE)? {
        let record = if len > MAX_LINE {
            error_record(format!(
                "line of {len} bytes skipped: at most {MAX_LINE} bytes per line"
            ))
        } else {
            // Bytes that are not UTF-8 are replaced, never fatal.
            let line = String::from_utf8_lossy(&buf);
            line_record(classifier, line.trim_end_matches(['\n', '\r']), explain)
        };
        serde_json::to_writer(&mut *out, &record)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// One input line's output record.
pub fn classify_line(c: &Classifier, line: &str) -> Value {
    line_record(c, line, false)
}

/// One input line's output record with its `explain` field (`--explain`).
pub fn explain_line(c: &Classifier, line: &str) -> Value {
    line_record(c, line, true)
}

fn line_record(c: &Classifier, line: &str, explain: bool) -> Value {
    let t = line.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let obj: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return error_record(format!("invalid JSON: {e}")),
        };
        if !obj.is_object() {
            return error_record(
                "JSON input must be an object {\"reply\": …, \"stage\": …}".into(),
            );
        }
        let Some(text) = obj.get("reply").and_then(Value::as_str) else {
            return error_record("JSON object without a string field `reply`".into());
        };
        let stage = match obj.get("stage") {
            None | Some(Value::Null) => Stage::Unknown,
            Some(Value::String(name)) => match Stage::parse_strict(name) {
                Ok(st) => st,
                Err(e) => return error_record(e.to_string()),
            },
            Some(_) => return error_record("`stage` must be a string".into()),
        };
        // A reply as sent on the wire (lines joined with CRLF) parses exactly; anything
        // else is searched like bounce text.
        match Reply::parse(text.as_bytes()) {
            Ok(reply) => {
                let mut rec = record(&c.classify(&reply, stage), Some(&reply), stage);
                if explain {
                    rec["explain"] = explanation(&c.explain(&reply, stage));
                }
                rec
            }
            Err(_) => from_text(c, text, stage, explain),
        }
    } else {
        from_text(c, line, Stage::Unknown, explain)
    }
}

fn explanation(e: &Explanation) -> Value {
    json!({
        "enhanced": e.enhanced,
        "considered": e.considered.iter().map(|x| json!({
            "rule": x.rule,
            "category": x.category.name(),
            "evidence": x.evidence.map(|k| k.name()),
            "weight": x.weight,
            "category_score": x.category_score,
        })).collect::<Vec<_>>(),
        "reason": e.reason,
        "model": e.model.as_ref().map(|m| json!({
            "category": m.category.name(),
            "against": m.against.name(),
            "margin": m.margin,
            "decided": m.decided,
            "why": m.why,
            "features": m.features.iter().map(|f| json!({
                "feature": f.feature,
                "weight": f.weight,
            })).collect::<Vec<_>>(),
        })),
    })
}

fn from_text(c: &Classifier, text: &str, stage: Stage, explain: bool) -> Value {
    if text.trim().is_empty() {
        return error_record("empty input".into());
    }
    let (v, reply) = c.classify_text_with_reply(text, stage);
    let used = if stage == Stage::Unknown {
        Stage::from_text(text).unwrap_or(Stage::Unknown)
    } else {
        stage
    };
    let mut rec = record(&v, reply.as_ref(), used);
    if reply.is_none() && v.low_confidence {
        rec["error"] = json!("no SMTP reply code and no recognised wording");
    }
    if explain {
        rec["explain"] = explanation(&c.explain_text(text, stage));
    }
    rec
}

fn record(v: &Classification, reply: Option<&Reply>, stage: Stage) -> Value {
    json!({
        "code": reply.map(|r| r.code().as_u16()),
        "enhanced": reply.and_then(|r| r.enhanced()).map(|e| e.to_string()),
        "disposition": v.disposition.name(),
        "category": v.category.map(|c| c.name()),
        "scope": v.scope.name(),
        "retry_after_secs": v.retry_after.map(|d| d.as_secs()),
        "rule": v.rule,
        "low_confidence": v.low_confidence,
        "stage": stage.name(),
    })
}

/// A record for input that could not be understood.
pub fn error_record(error: String) -> Value {
    json!({
        "code": null,
        "enhanced": null,
        "disposition": null,
        "category": null,
        "scope": null,
        "retry_after_secs": null,
        "rule": null,
        "low_confidence": true,
        "stage": null,
        "error": error,
    })
}
