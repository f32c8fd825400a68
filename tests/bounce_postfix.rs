//! Real bounces from a real MTA: a private Postfix on loopback
//! (`tests/servers/postfix-bounce.sh`) relays one message to three Postfix smtp-sink
//! servers, one refusing its recipient at RCPT (`550 5.1.1`), one deferring it (`452
//! 4.2.2`) past a short `maximal_queue_lifetime`, one accepting it; the notices Postfix
//! mails back (a bounce, a delay warning, then the expiry bounce) are saved by a fourth
//! sink, parsed, and each recipient's result checked against what its sink was told.
//!
//! Runs when Postfix is installed and the test runs as root; otherwise prints a notice
//! and passes, unless `TEMPFAIL_REQUIRE_SMTP_SINK=1`.
#![cfg(feature = "bounce")]
#![allow(clippy::disallowed_methods)] // Postfix's retries and expiry are wall-clock time

mod smtp_sink_util;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tempfail::bounce::{Action, FoundBy, Parser, Report};
use tempfail::{Category, Disposition, Stage};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/servers/postfix-bounce.sh"
);

struct Postfix {
    dir: PathBuf,
    port: u16,
}

impl Postfix {
    fn start() -> Option<Postfix> {
        let needed = [
            "/usr/sbin/postfix",
            "/usr/sbin/postconf",
            "/usr/sbin/smtp-sink",
        ];
        if needed.iter().any(|p| !Path::new(p).exists()) || !smtp_sink_util::is_root() {
            if std::env::var("TEMPFAIL_REQUIRE_SMTP_SINK").as_deref() == Ok("1") {
                panic!("TEMPFAIL_REQUIRE_SMTP_SINK=1 but postfix is not installed or not root");
            }
            eprintln!(
                "notice: postfix and smtp-sink (as root) are needed: skipping this real-server test"
            );
            return None;
        }
        let port = smtp_sink_util::free_port();
        // Four consecutive ports for the sinks, away from the other tests' fixed ones.
        let base = 26_000 + (std::process::id() % 500) as u16 * 8;
        // One fixed directory: the script allows it once in the system's main.cf.
        let dir = std::env::temp_dir().join("tempfail-postfix-bounce");
        let st = Command::new("bash")
            .args([SCRIPT, "start", &port.to_string(), &base.to_string()])
            .arg(&dir)
            .status()
            .expect("run postfix-bounce.sh");
        assert!(
            st.success(),
            "postfix-bounce.sh start failed (see {}/maillog)",
            dir.display()
        );
        Some(Postfix { dir, port })
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([SCRIPT, "stop"])
            .arg(&self.dir)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Submits one message over SMTP; returns Postfix's final reply.
fn submit(port: u16, message_id: &str) -> String {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    let mut w = s;
    let mut reply = || {
        let mut last = String::new();
        loop {
            let mut l = String::new();
            if r.read_line(&mut l).expect("read") == 0 {
                return last;
            }
            let done = l.as_bytes().get(3) != Some(&b'-');
            last = l;
            if done {
                return last;
            }
        }
    };
    assert!(reply().starts_with("220"));
    let cmd = |c: &str, w: &mut TcpStream| {
        w.write_all(c.as_bytes()).expect("write");
    };
    cmd("EHLO client.example.org\r\n", &mut w);
    assert!(reply().starts_with("250"));
    for c in [
        "MAIL FROM:<sender@bounces.test> RET=HDRS ENVID=env-4711\r\n",
        "RCPT TO:<gone@hard.test>\r\n",
        "RCPT TO:<full@soft.test> NOTIFY=DELAY,FAILURE\r\n",
        "RCPT TO:<fine@ok.test>\r\n",
    ] {
        cmd(c, &mut w);
        let rep = reply();
        assert!(rep.starts_with("250"), "{c}: {rep}");
    }
    cmd("DATA\r\n", &mut w);
    assert!(reply().starts_with("354"));
    let body = format!(
        "From: sender@bounces.test\r\nTo: gone@hard.test, full@soft.test, fine@ok.test\r\n\
         Subject: bounce test\r\nMessage-ID: <{message_id}>\r\n\r\nHello.\r\n.\r\n"
    );
    cmd(&body, &mut w);
    let done = reply();
    cmd("QUIT\r\n", &mut w);
    done
}

fn notices(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("notices"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
}

#[test]
fn postfix_bounces_and_delay_warnings_parse_to_what_the_sinks_said() {
    let Some(pf) = Postfix::start() else { return };
    let message_id = format!("bounce-test-{}@example.org", std::process::id());
    let done = submit(pf.port, &message_id);
    assert!(done.starts_with("250"), "queued: {done}");

    // The refusal bounces at once; the deferral warns after ~2 s and expires after 8 s.
    let parser = Parser::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let reports: Vec<Report> = loop {
        let got = notices(&pf.dir);
        if got.len() >= 3 || Instant::now() > deadline {
            break got
                .iter()
                .map(|n| parser.parse(n).expect("every notice Postfix sends parses"))
                .collect();
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(
        reports.len(),
        3,
        "a bounce, a delay warning and an expiry bounce"
    );

    for r in &reports {
        assert_eq!(r.reporting_mta.as_deref(), Some("mx.example.com"));
        assert!(r.arrival_date.is_some());
    }
    let all: Vec<_> = reports.iter().flat_map(|r| r.recipients.iter()).collect();
    for r in &all {
        assert_eq!(r.found_by, FoundBy::Dsn);
        assert_eq!(
            r.correlation.message_id.as_deref(),
            Some(message_id.as_str())
        );
        assert_eq!(r.correlation.envelope_id.as_deref(), Some("env-4711"));
        assert_eq!(
            r.correlation.report_to.as_deref(),
            Some("sender@bounces.test")
        );
        assert_eq!(r.remote_mta.as_deref(), Some("127.0.0.1"));
    }
    assert!(
        all.iter().all(|r| r.recipient != "fine@ok.test"),
        "the accepted recipient is in no notice"
    );

    let gone: Vec<_> = all
        .iter()
        .filter(|r| r.recipient == "gone@hard.test")
        .collect();
    assert_eq!(gone.len(), 1, "one bounce for the refused recipient");
    let g = gone[0];
    assert_eq!(g.action, Action::Failed);
    assert_eq!(g.status.map(|s| s.to_string()).as_deref(), Some("5.1.1"));
    assert_eq!(g.stage, Stage::RcptTo);
    assert_eq!(g.classification.disposition, Disposition::Permanent);
    assert_eq!(g.classification.category, Some(Category::UserUnknown));
    assert!(
        g.diagnostic
            .as_deref()
            .unwrap_or("")
            .contains("550 5.1.1 User unknown")
    );

    let full: Vec<_> = all
        .iter()
        .filter(|r| r.recipient == "full@soft.test")
        .collect();
    assert_eq!(
        full.len(),
        2,
        "a delay warning and an expiry bounce: {full:#?}"
    );
    let delayed = full
        .iter()
        .find(|r| r.action == Action::Delayed)
        .expect("delay warning");
    let expired = full
        .iter()
        .find(|r| r.action == Action::Failed)
        .expect("expiry bounce");
    for r in [delayed, expired] {
        assert_eq!(r.status.map(|s| s.class()), Some(4));
        assert_eq!(r.stage, Stage::RcptTo);
        assert_eq!(r.classification.category, Some(Category::MailboxFull));
        assert_eq!(r.classification.disposition, Disposition::Transient);
        assert!(
            r.diagnostic
                .as_deref()
                .unwrap_or("")
                .contains("452 4.2.2 Mailbox full")
        );
    }
    assert!(
        delayed.will_retry_until.is_some(),
        "a delay warning says until when"
    );
}
