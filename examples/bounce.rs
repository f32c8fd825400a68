//! Reads bounce, delay-notice and feedback-report messages and prints one line per
//! recipient found.
//!
//! ```text
//! cargo run --release --example bounce --features bounce -- [--json] PATH...
//! ```
//!
//! Each PATH is a message file, or a directory whose files are messages (one message
//! per file, read in name order; a file that is an mbox gives each of its messages).
//! With `--json`, each line is a JSON object:
//! `{"file", "kind": "dsn"|"arf"|"heuristic", "recipient", "action", "status",
//! "diagnostic", "remote_mta", "disposition", "category", "scope", "rule"}` per
//! recipient; `{"file", "kind": "not_bounce"}` for a message that is not a bounce;
//! `{"file", "error"}` for one that cannot be read. The exit code is 0 unless an
//! argument is unusable (an unknown option, a path that does not exist, no path):
//! then the usage goes to stderr and the exit code is 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Value, json};
use tempfail::bounce::{Error, Parser, mbox_messages};

const USAGE: &str = "usage: bounce [--json] PATH...\n  \
PATH: a message file (an mbox gives each message), or a directory of message files";

fn main() -> ExitCode {
    let mut json_out = false;
    let mut paths = Vec::new();
    for a in std::env::args_os().skip(1) {
        if a == "--json" {
            json_out = true;
        } else if a.to_string_lossy().starts_with('-') {
            eprintln!("bounce: unknown option {}\n{USAGE}", a.to_string_lossy());
            return ExitCode::from(2);
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    if paths.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    if let Some(p) = paths.iter().find(|p| !p.exists()) {
        eprintln!(
            "bounce: no such file or directory: {}\n{USAGE}",
            p.display()
        );
        return ExitCode::from(2);
    }
    let parser = Parser::new();
    for p in &paths {
        for file in files(p) {
            report(&parser, &file, json_out);
        }
    }
    ExitCode::SUCCESS
}

/// The file itself, or the files of a directory in name order.
fn files(p: &Path) -> Vec<PathBuf> {
    if !p.is_dir() {
        return vec![p.to_path_buf()];
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn report(parser: &Parser, file: &Path, json_out: bool) {
    let name = file.display().to_string();
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return print_line(json_out, json!({"file": name, "error": e.to_string()})),
    };
    // A file that is an mbox (`From ` postmarks) gives each of its messages.
    for message in mbox_messages(&bytes) {
        report_message(parser, &name, message, json_out);
    }
}

fn report_message(parser: &Parser, name: &str, message: &[u8], json_out: bool) {
    match parser.parse(message) {
        Ok(r) => {
            for rc in &r.recipients {
                let c = &rc.classification;
                let v = json!({
                    "file": name,
                    "kind": rc.found_by.name(),
                    "recipient": rc.recipient,
                    "action": rc.action.name(),
                    "status": rc.status.map(|s| s.to_string()),
                    "diagnostic": rc.diagnostic,
                    "remote_mta": rc.remote_mta,
                    "disposition": c.disposition.name(),
                    "category": c.category.map(|c| c.name()),
                    "scope": c.scope.name(),
                    "rule": c.rule,
                });
                if json_out {
                    println!("{v}");
                } else {
                    println!(
                        "{name}: {} {} {} ({}) {} [{}]",
                        rc.recipient,
                        rc.action,
                        rc.status
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "-".into()),
                        rc.found_by,
                        c,
                        rc.diagnostic.as_deref().unwrap_or("")
                    );
                }
            }
        }
        Err(Error::NotBounce(why)) => {
            if json_out {
                println!("{}", json!({"file": name, "kind": "not_bounce"}));
            } else {
                println!("{name}: not a bounce ({why})");
            }
        }
        Err(e) => print_line(json_out, json!({"file": name, "error": e.to_string()})),
    }
}

fn print_line(json_out: bool, v: Value) {
    if json_out {
        println!("{v}");
    } else {
        println!(
            "{}: error: {}",
            v["file"].as_str().unwrap_or(""),
            v["error"].as_str().unwrap_or("")
        );
    }
}
