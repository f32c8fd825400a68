//! Golden transcripts (`S:`/`C:` lines) drive the session machine: the server's
//! lines are fed in blocks, and before each block the client must have sent exactly
//! the `C:` lines above it (so pipelined flights are checked, not only the order).
//! Header comments give the envelopes, options, body and the expected outcomes.

mod session_util;

use std::path::Path;

use session_util::Harness;
use tempfail::Stage;
use tempfail::session::{Envelope, Event, Ret, TlsMode};

struct Script {
    name: String,
    envelopes: Vec<Envelope>,
    tls: TlsMode,
    lmtp: bool,
    body: Option<Vec<u8>>,
    expects: Vec<String>,
    lines: Vec<(char, String)>,
}

fn parse(path: &Path) -> Script {
    let text = std::fs::read_to_string(path).unwrap();
    let mut s = Script {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        envelopes: Vec::new(),
        tls: TlsMode::Disabled,
        lmtp: false,
        body: None,
        expects: Vec::new(),
        lines: Vec::new(),
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# envelope ") {
            let mut env = Envelope::default();
            for kv in rest.split_whitespace() {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                match k {
                    "from" => env.message.sender = v.to_string(),
                    "to" => env.recipients = v.split(',').map(Into::into).collect(),
                    "size" => env.message.size = Some(v.parse().unwrap()),
                    "smtputf8" => env.message.smtputf8 = true,
                    "ret" => {
                        env.message.ret = Some(if v == "hdrs" { Ret::Hdrs } else { Ret::Full })
                    }
                    "envid" => env.message.envid = Some(v.to_string()),
                    other => panic!("{}: unknown envelope key {other}", s.name),
                }
            }
            s.envelopes.push(env);
        } else if let Some(rest) = line.strip_prefix("# option ") {
            match rest.trim() {
                "tls=required" => s.tls = TlsMode::Required,
                "tls=opportunistic" => s.tls = TlsMode::Opportunistic,
                "tls=disabled" => s.tls = TlsMode::Disabled,
                "lmtp" => s.lmtp = true,
                other => panic!("{}: unknown option {other}", s.name),
            }
        } else if line == "# body" || line.starts_with("# body ") {
            let b = s.body.get_or_insert_with(Vec::new);
            b.extend_from_slice(line.get(7..).unwrap_or("").as_bytes());
            b.push(b'\n');
        } else if let Some(rest) = line.strip_prefix("# expect ") {
            s.expects.push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix("S: ") {
            s.lines.push(('S', rest.to_string()));
        } else if let Some(rest) = line.strip_prefix("C: ") {
            s.lines.push(('C', rest.to_string()));
        } else if line == "S:" || line == "C:" {
            s.lines.push((line.chars().next().unwrap(), String::new()));
        }
    }
    s
}

fn run(s: &Script) -> Harness {
    let mut cfg = Harness::config();
    cfg.tls = s.tls;
    cfg.lmtp = s.lmtp;
    let mut h = Harness::new(cfg);
    if let Some(b) = &s.body {
        h.body = b.clone();
    }
    for e in &s.envelopes {
        h.s.submit(e.clone()).unwrap();
    }
    h.quit();
    let mut expected_c = String::new();
    let mut i = 0;
    while i < s.lines.len() {
        let (who, _) = s.lines[i];
        let mut block = String::new();
        while i < s.lines.len() && s.lines[i].0 == who {
            block.push_str(&s.lines[i].1);
            block.push_str("\r\n");
            i += 1;
        }
        if who == 'C' {
            expected_c.push_str(&block);
            continue;
        }
        assert_eq!(
            String::from_utf8_lossy(&h.wire),
            expected_c,
            "{}: what the client sent before server block {block:?}",
            s.name
        );
        let tls_before = h.starttls;
        h.input(block.as_bytes());
        if h.starttls > tls_before {
            h.tls_established();
        }
    }
    if !h.closed {
        h.eof();
    }
    assert_eq!(
        String::from_utf8_lossy(&h.wire),
        expected_c,
        "{}: the whole client side",
        s.name
    );
    h
}

fn check(s: &Script, h: &Harness) {
    let outcomes = h.outcomes();
    let n_rcpts: usize = s.envelopes.iter().map(|e| e.recipients.len()).sum();
    assert_eq!(
        outcomes.len(),
        n_rcpts,
        "{}: one outcome per recipient: {outcomes:#?}",
        s.name
    );
    for e in &s.expects {
        let w: Vec<&str> = e.split_whitespace().collect();
        match w[0] {
            "closed" => assert!(
                h.events.contains(&Event::Closed),
                "{}: expected a clean close",
                s.name
            ),
            "lost" => {
                let stage = Stage::from_name(w[1]).unwrap();
                assert!(
                    h.events
                        .iter()
                        .any(|e| matches!(e, Event::Lost { stage: st, .. } if *st == stage)),
                    "{}: expected the session lost at {stage}: {:?}",
                    s.name,
                    h.events
                );
            }
            id => {
                let (t, r) = id.split_once(':').unwrap();
                let (t, r): (u64, usize) = (t.parse().unwrap(), r.parse().unwrap());
                let f = outcomes
                    .iter()
                    .find(|f| f.txn == t && f.rcpt == r)
                    .unwrap_or_else(|| panic!("{}: no outcome for {id}", s.name));
                assert_eq!(
                    f.disposition.name(),
                    w[1],
                    "{}: {id} disposition: {f:?}",
                    s.name
                );
                match w[2] {
                    "*" => {}
                    "-" => assert_eq!(f.category, None, "{}: {id}", s.name),
                    c => assert_eq!(
                        f.category.as_deref(),
                        Some(c),
                        "{}: {id} category: {f:?}",
                        s.name
                    ),
                }
                assert_eq!(f.stage.name(), w[3], "{}: {id} stage", s.name);
                match w[4] {
                    "*" => {}
                    "-" => assert_eq!(f.code, None, "{}: {id}", s.name),
                    c => assert_eq!(f.code, Some(c.parse().unwrap()), "{}: {id} code", s.name),
                }
            }
        }
    }
}

#[test]
fn golden_transcripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 8, "transcripts missing in {}", dir.display());
    for p in paths {
        let s = parse(&p);
        assert!(!s.envelopes.is_empty(), "{}: no envelope", s.name);
        let h = run(&s);
        check(&s, &h);
    }
}
