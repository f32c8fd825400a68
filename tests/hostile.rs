//! Hostile servers on 127.0.0.1 against the `send` example (its code compiled in,
//! and the built binary for the command line): a server that stops reading, one that
//! trickles its replies, mixed reply codes at every stage, extra and missing
//! pipelined replies, a refused port. Each has its expected per-recipient outcomes
//! and a bound on wall time; every server thread stops by itself.
#![allow(clippy::disallowed_methods)] // wall time is what these tests bound

#[allow(dead_code)]
#[path = "../examples/send.rs"]
mod send;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use send::{Options, Report};

/// How a scripted server answers one command line (the line without CRLF).
type Answer = Box<dyn FnMut(&str) -> Action + Send>;

enum Action {
    /// Send these bytes.
    Reply(&'static [u8]),
    /// Send these bytes one at a time, `gap` apart.
    Trickle(&'static [u8], Duration),
    /// Stop reading (and answering) until the client goes away.
    StopReading,
}

/// A one-connection SMTP server on 127.0.0.1 that greets with `greeting`, answers
/// each command line with `answer`, and swallows the body after a `354`. It stops
/// when the client closes, or after 20 s at most.
fn server(greeting: &'static [u8], mut answer: Answer) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let h = thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let started = Instant::now();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut w = stream.try_clone().unwrap();
        let mut r = BufReader::new(stream);
        if w.write_all(greeting).is_err() {
            return;
        }
        let mut in_data = false;
        let mut line = Vec::new();
        while started.elapsed() < Duration::from_secs(20) {
            line.clear();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            if in_data {
                if text != "." {
                    continue;
                }
                in_data = false;
            }
            let action = answer(text);
            if text.eq_ignore_ascii_case("DATA") {
                if let Action::Reply(b) | Action::Trickle(b, _) = &action {
                    // The body follows a 354 that is the reply's last line.
                    in_data = b
                        .split(|c| *c == b'\n')
                        .rev()
                        .nth(1)
                        .is_some_and(|l| l.starts_with(b"354 "));
                }
            }
            match action {
                Action::Reply(b) => {
                    if w.write_all(b).is_err() {
                        return;
                    }
                }
                Action::Trickle(b, gap) => {
                    for byte in b {
                        thread::sleep(gap);
                        if w.write_all(&[*byte]).is_err() {
                            return;
                        }
                    }
                }
                Action::StopReading => {
                    // Hold the connection open without reading: the client's
                    // writes fill the socket buffers and block.
                    let mut probe = [0u8; 1];
                    let _ = r.get_mut().set_read_timeout(Some(Duration::from_secs(15)));
                    thread::sleep(Duration::from_secs(3));
                    let _ = r.get_mut().read(&mut probe);
                    return;
                }
            }
        }
    });
    (addr, h)
}

/// Answers like a plain Postfix: pipelining offered, everything accepted; `over`
/// replaces the answer for the commands it names.
fn postfix_like(mut over: impl FnMut(&str) -> Option<Action> + Send + 'static) -> Answer {
    Box::new(move |cmd: &str| {
        if let Some(a) = over(cmd) {
            return a;
        }
        let c = cmd.to_ascii_uppercase();
        Action::Reply(if c.starts_with("EHLO") {
            b"250-mx.example.com\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"
        } else if c.starts_with("MAIL") {
            b"250 2.1.0 Ok\r\n"
        } else if c.starts_with("RCPT") {
            b"250 2.1.5 Ok\r\n"
        } else if c == "DATA" {
            b"354 End data with <CR><LF>.<CR><LF>\r\n"
        } else if c == "." {
            b"250 2.0.0 Ok: queued as 4ABCD\r\n"
        } else if c == "RSET" {
            b"250 2.0.0 Ok\r\n"
        } else if c == "QUIT" {
            b"221 2.0.0 Bye\r\n"
        } else {
            b"502 5.5.2 Error: command not recognized\r\n"
        })
    })
}

const GREETING: &[u8] = b"220 mx.example.com ESMTP\r\n";

fn opts(addr: &str, to: &[&str], timeout: f64, budget: Option<f64>) -> Options {
    Options {
        server: addr.to_string(),
        from: "a@example.org".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        count: 1,
        json: false,
        timeout: Some(Duration::from_secs_f64(timeout)),
        budget: budget.map(Duration::from_secs_f64),
        pad: 0,
    }
}

/// Runs `send` against `answer`, returning the report and the wall time.
fn run(o: &Options, h: JoinHandle<()>) -> (Report, Duration) {
    let t = Instant::now();
    let r = send::run(o).expect("send runs");
    let took = t.elapsed();
    let _ = h.join();
    (r, took)
}

fn outcomes(r: &Report) -> Vec<(&str, &'static str)> {
    r.lines
        .iter()
        .map(|l| (l.rcpt.as_str(), l.outcome))
        .collect()
}

#[test]
fn a_server_that_stops_reading_ends_the_attempt_within_the_timeout() {
    // After 354 the server reads nothing more: 32 MB of body cannot drain.
    let (addr, h) = server(GREETING, {
        let mut after_data = false;
        postfix_like(move |cmd| {
            if after_data {
                return Some(Action::StopReading);
            }
            if cmd.eq_ignore_ascii_case("DATA") {
                after_data = true;
                return Some(Action::Reply(b"354 go ahead\r\n"));
            }
            None
        })
    });
    let mut o = opts(&addr, &["b@example.com", "c@example.com"], 1.0, None);
    o.pad = 32 << 20;
    let (r, took) = run(&o, h);
    assert_eq!(
        outcomes(&r),
        [
            ("b@example.com", "transient"),
            ("c@example.com", "transient")
        ],
        "{:?}",
        r.lines
    );
    assert!(r.lines.iter().all(|l| l.category == Some("network")));
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_server_that_trickles_replies_is_ended_by_the_budget() {
    let gap = Duration::from_millis(40);
    let (addr, h) = server(
        GREETING,
        Box::new(move |cmd: &str| {
            let c = cmd.to_ascii_uppercase();
            // Every reply completes within 1 s of its command: no stage times out.
            Action::Trickle(
                if c.starts_with("EHLO") {
                    b"250-mx.example.com\r\n250 8BITMIME\r\n"
                } else if c == "DATA" {
                    b"354 go ahead\r\n"
                } else if c == "QUIT" {
                    b"221 2.0.0 Bye\r\n"
                } else {
                    b"250 2.0.0 Ok\r\n"
                },
                gap,
            )
        }),
    );
    let o = opts(&addr, &["b@example.com"], 2.0, Some(1.5));
    let (r, took) = run(&o, h);
    assert_eq!(
        outcomes(&r),
        [("b@example.com", "transient")],
        "{:?}",
        r.lines
    );
    assert!(took < Duration::from_millis(2_500), "took {took:?}");
}

#[test]
fn mixed_codes_at_every_stage_are_never_delivered() {
    let stages: [(&str, &'static [u8]); 6] = [
        (
            "greeting",
            b"220-mx.example.com hello\r\n554 5.7.1 go away\r\n",
        ),
        ("EHLO", b"250-mx.example.com\r\n451 4.3.2 try later\r\n"),
        ("MAIL", b"250-2.1.0 Ok\r\n451 4.3.0 try later\r\n"),
        ("RCPT", b"250-2.1.5 Ok\r\n550 5.1.1 no such user\r\n"),
        ("DATA", b"354-go ahead\r\n554 5.7.1 no\r\n"),
        (
            ".",
            b"250-2.0.0 Ok: queued\r\n451 4.3.0 error in processing\r\n",
        ),
    ];
    for (stage, bad) in stages {
        let greeting: &'static [u8] = if stage == "greeting" { bad } else { GREETING };
        let (addr, h) = server(
            greeting,
            postfix_like(move |cmd| {
                let hit = if stage == "." {
                    cmd == "."
                } else {
                    cmd.to_ascii_uppercase().starts_with(stage)
                };
                (hit && stage != "greeting").then_some(Action::Reply(bad))
            }),
        );
        let o = opts(&addr, &["b@example.com"], 2.0, Some(5.0));
        let (r, took) = run(&o, h);
        assert_eq!(
            outcomes(&r),
            [("b@example.com", "transient")],
            "{stage}: {:?}",
            r.lines
        );
        assert!(took < Duration::from_secs(3), "{stage}: took {took:?}");
    }
}

#[test]
fn an_extra_pipelined_reply_never_bounces_an_accepted_recipient() {
    // b is accepted, c refused; the server repeats MAIL's 250, shifting the rest.
    let (addr, h) = server(
        GREETING,
        postfix_like(|cmd| {
            let c = cmd.to_ascii_uppercase();
            if c.starts_with("MAIL") {
                Some(Action::Reply(b"250 2.1.0 Ok\r\n250 2.1.0 Ok\r\n"))
            } else if c.starts_with("RCPT TO:<C@") {
                Some(Action::Reply(
                    b"550 5.1.1 <c@example.com>: User unknown\r\n",
                ))
            } else {
                None
            }
        }),
    );
    let o = opts(&addr, &["b@example.com", "c@example.com"], 2.0, Some(5.0));
    let (r, took) = run(&o, h);
    let b = r.lines.iter().find(|l| l.rcpt == "b@example.com").unwrap();
    assert_ne!(b.outcome, "permanent", "{:?}", r.lines);
    assert!(
        r.lines.iter().all(|l| l.outcome != "delivered"),
        "{:?}",
        r.lines
    );
    assert_eq!(r.lines.len(), 2);
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn a_missing_pipelined_reply_makes_nothing_final() {
    // The reply to the first RCPT never comes: DATA's 354 lands on the second.
    let (addr, h) = server(GREETING, {
        let mut rcpts = 0;
        postfix_like(move |cmd| {
            if cmd.to_ascii_uppercase().starts_with("RCPT") {
                rcpts += 1;
                if rcpts == 1 {
                    return Some(Action::Reply(b""));
                }
                return Some(Action::Reply(
                    b"550 5.1.1 <c@example.com>: User unknown\r\n",
                ));
            }
            None
        })
    });
    let o = opts(&addr, &["b@example.com", "c@example.com"], 2.0, Some(5.0));
    let (r, took) = run(&o, h);
    assert_eq!(
        outcomes(&r),
        [
            ("b@example.com", "transient"),
            ("c@example.com", "transient")
        ],
        "{:?}",
        r.lines
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

/// A port nothing listens on.
fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap().to_string();
    drop(l);
    a
}

#[test]
fn a_refused_port_gives_every_recipient_a_transient_line() {
    let mut o = opts(
        &closed_port(),
        &["b@example.com", "c@example.com"],
        2.0,
        None,
    );
    o.count = 2;
    let t = Instant::now();
    let r = send::run(&o).expect("send runs");
    assert_eq!(r.lines.len(), 4);
    assert!(r.lines.iter().all(|l| l.outcome == "transient"
        && l.category == Some("network")
        && l.stage == "connect"
        && l.code.is_none()));
    assert!(t.elapsed() < Duration::from_secs(3));
}

/// The built `send` example (cargo builds examples with the tests).
fn send_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples")
        .join(format!("send{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_command_line_prints_a_line_per_recipient_and_refuses_bad_arguments() {
    let bin = send_binary();
    assert!(bin.exists(), "{} is built by cargo test", bin.display());
    let out = std::process::Command::new(&bin)
        .args(["--server", &closed_port(), "--from", "a@example.org"])
        .args([
            "--to",
            "b@example.com",
            "--to",
            "c@example.com",
            "--count",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a refused port is an outcome, not an error"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for l in &lines {
        assert_eq!(l["outcome"], "transient");
        assert_eq!(l["category"], "network");
        assert_eq!(l["stage"], "connect");
    }
    // A name that does not resolve is a dns outcome.
    let out = std::process::Command::new(&bin)
        .args([
            "--server",
            "no-such-host.invalid:25",
            "--from",
            "a@example.org",
        ])
        .args(["--to", "b@example.com", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let l: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(l["category"], "dns");
    // Unusable arguments: exit 2 with a message, never a panic.
    for bad in ["NaN", "-1", "1e300", "inf", "abc", "0"] {
        let out = std::process::Command::new(&bin)
            .args([
                "--server",
                "127.0.0.1:1",
                "--to",
                "b@example.com",
                "--timeout",
                bad,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--timeout {bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--timeout"),
            "--timeout {bad}"
        );
    }
}
