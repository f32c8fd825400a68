//! DSN output parsed back: MIME structure, RFC 3464 field rules, RFC 3461 NOTIFY.

use proptest::prelude::*;
use tempfail::dsn::{Action, DsnBuilder, DsnMessage, DsnRecipient, Notify};
use tempfail::{EnhancedCode, Reply, ReplyCode, Timestamp};

/// A parsed report: top-level headers, and the parts (headers, body) between boundaries.
struct Parsed {
    headers: Vec<(String, String)>,
    parts: Vec<(Vec<(String, String)>, String)>,
}

/// Unfolds and splits a header block into (lowercased name, value).
fn parse_headers(block: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.split("\r\n") {
        if line.starts_with(' ') || line.starts_with('\t') {
            let last = out.last_mut().expect("continuation line after a header");
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else if !line.is_empty() {
            let (name, value) = line.split_once(':').expect("header has a colon");
            out.push((name.to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn parse(report: &[u8]) -> Parsed {
    let text = std::str::from_utf8(report).expect("report is UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("header/body separator");
    // Header lines are short, with no bare CR/LF and no control characters.
    for line in head.split("\r\n") {
        assert!(line.len() <= 998, "header line over 998 bytes");
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\t'),
            "control character in {line:?}"
        );
        assert!(
            !line.contains('\r') && !line.contains('\n'),
            "bare CR or LF"
        );
    }
    let headers = parse_headers(head);
    let ct = header(&headers, "content-type").expect("content-type");
    assert!(ct.starts_with("multipart/report;"), "{ct}");
    assert!(ct.contains("report-type=delivery-status"), "{ct}");
    let boundary = ct
        .split("boundary=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("boundary parameter");
    let delim = format!("\r\n--{boundary}");
    let close = format!("\r\n--{boundary}--\r\n");
    assert!(body.ends_with(&close), "closing delimiter");
    let inner = &body[..body.len() - close.len()];
    let mut pieces = inner.split(&delim);
    pieces.next(); // preamble
    let parts = pieces
        .map(|p| {
            let p = p.strip_prefix("\r\n").expect("CRLF after delimiter");
            let (h, b) = p.split_once("\r\n\r\n").expect("part headers end");
            (parse_headers(h), b.to_string())
        })
        .collect();
    Parsed { headers, parts }
}

/// The delivery-status part as groups of fields: the per-message group, then one per recipient.
fn status_groups(body: &str) -> Vec<Vec<(String, String)>> {
    body.trim_end_matches("\r\n")
        .split("\r\n\r\n")
        .map(parse_headers)
        .collect()
}

fn reply(code: u16, lines: &[&str]) -> Reply {
    Reply::new(ReplyCode::new(code).unwrap(), lines.iter().copied())
}

fn message(sender: &str, ret_full: bool) -> DsnMessage {
    DsnMessage {
        envelope_sender: sender.into(),
        envid: Some("ENV-42".into()),
        ret_full,
        arrival: Some(Timestamp::from_secs(1_700_000_000)),
        original:
            b"From: a@example.org\r\nTo: b@example.com\r\nSubject: report\r\n\r\nHello\r\n.dot line\r\n"
                .to_vec(),
    }
}

/// Checks RFC 3464 §2.2/§2.3 field rules on a parsed report and returns the recipient groups.
fn check_rfc3464(p: &Parsed) -> Vec<Vec<(String, String)>> {
    assert_eq!(p.parts.len(), 3, "text, delivery-status, returned content");
    assert!(
        header(&p.parts[0].0, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        header(&p.parts[1].0, "content-type"),
        Some("message/delivery-status")
    );
    let status = &p.parts[1].1;
    assert!(status.is_ascii(), "delivery-status is 7-bit");
    for line in status.split("\r\n") {
        assert!(line.len() <= 998, "status line over 998 bytes");
    }
    let groups = status_groups(status);
    let per_message = &groups[0];
    let mta = header(per_message, "reporting-mta").expect("Reporting-MTA is required");
    assert!(mta.starts_with("dns; "));
    for g in &groups[1..] {
        let fr = header(g, "final-recipient").expect("Final-Recipient is required");
        let (ty, _) = fr.split_once(';').expect("address-type; address");
        assert!(
            !ty.is_empty() && ty.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "address type in {fr}"
        );
        let action = header(g, "action").expect("Action is required");
        let status: EnhancedCode = header(g, "status")
            .expect("Status is required")
            .parse()
            .unwrap();
        match action {
            "failed" => assert_eq!(status.class(), 5),
            "delayed" => assert_eq!(status.class(), 4),
            "delivered" | "relayed" | "expanded" => assert_eq!(status.class(), 2),
            other => panic!("unknown action {other}"),
        }
        if header(g, "will-retry-until").is_some() {
            assert_eq!(action, "delayed", "Will-Retry-Until only for delayed");
        }
        if let Some(d) = header(g, "diagnostic-code") {
            // RFC 3464 §2.3.6: a diagnostic type, `;`, the text. `smtp` for a
            // remote reply, an `X-` type for one of our own.
            assert!(
                d.starts_with("smtp; ") || d.starts_with("X-tempfail; "),
                "{d}"
            );
            assert!(
                d.trim_end().len() > d.find(';').unwrap() + 1,
                "empty text: {d}"
            );
        }
        if let Some(r) = header(g, "remote-mta") {
            assert!(r.starts_with("dns; "), "{r}");
        }
    }
    groups[1..].to_vec()
}

#[test]
fn failure_notice_carries_every_field() {
    let now = Timestamp::from_secs(1_700_003_600);
    let r = reply(
        550,
        &["5.1.1 <bob@example.com>: Recipient address rejected: User unknown"],
    );
    let rcpt = DsnRecipient::failed("bob@example.com", &r)
        .remote_mta("mx.example.com")
        .original_recipient("rfc822;Bob@Example.com")
        .last_attempt(now);
    let out = DsnBuilder::new("mta.example.org")
        .build(
            &message("a@example.org", false),
            &[rcpt],
            now,
            "dsn.1@mta.example.org",
        )
        .unwrap();
    let p = parse(&out);
    assert_eq!(header(&p.headers, "to"), Some("<a@example.org>"));
    assert_eq!(header(&p.headers, "auto-submitted"), Some("auto-replied"));
    assert_eq!(
        header(&p.headers, "date"),
        Some("Tue, 14 Nov 2023 23:13:20 +0000")
    );
    let groups = check_rfc3464(&p);
    let per_msg = status_groups(&p.parts[1].1).remove(0);
    assert_eq!(header(&per_msg, "original-envelope-id"), Some("ENV-42"));
    assert_eq!(
        header(&per_msg, "arrival-date"),
        Some("Tue, 14 Nov 2023 22:13:20 +0000")
    );
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(
        header(g, "original-recipient"),
        Some("rfc822; Bob@Example.com")
    );
    assert_eq!(
        header(g, "final-recipient"),
        Some("rfc822; bob@example.com")
    );
    assert_eq!(header(g, "action"), Some("failed"));
    assert_eq!(header(g, "status"), Some("5.1.1"));
    assert_eq!(header(g, "remote-mta"), Some("dns; mx.example.com"));
    assert_eq!(
        header(g, "diagnostic-code"),
        Some("smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown")
    );
    assert_eq!(
        header(g, "last-attempt-date"),
        Some("Tue, 14 Nov 2023 23:13:20 +0000")
    );
    // RET=HDRS (the default): headers only, no body.
    assert_eq!(
        header(&p.parts[2].0, "content-type"),
        Some("text/rfc822-headers")
    );
    assert!(p.parts[2].1.contains("Subject: report"));
    assert!(!p.parts[2].1.contains("Hello"));
}

#[test]
fn without_a_reply_the_diagnostic_says_what_happened_here() {
    let now = Timestamp::from_secs(1_700_003_600);
    let status = tempfail::reply::EnhancedCode::new(5, 4, 2).unwrap();
    // A hostile text: CR LF (header injection), NUL, non-ASCII, and far too long.
    let text = format!(
        "transport.connection_refused at connect: refused\r\nX-Injected: yes\0 \u{e9}{}",
        "z".repeat(2_000)
    );
    let rcpt = DsnRecipient::without_reply("bob@example.com", Action::Failed, status)
        .local_diagnostic(&text)
        .last_attempt(now);
    let out = DsnBuilder::new("mta.example.org")
        .build(
            &message("a@example.org", false),
            &[rcpt],
            now,
            "dsn.7@mta.example.org",
        )
        .unwrap();
    assert_short_lines(&out);
    let p = parse(&out);
    let groups = check_rfc3464(&p);
    let g = &groups[0];
    let diag = header(g, "diagnostic-code").unwrap();
    assert!(
        diag.starts_with(
            "X-tempfail; transport.connection_refused at connect: refused??X-Injected: yes? ?zzz"
        ),
        "{diag}"
    );
    assert!(header(g, "x-injected").is_none(), "nothing injected");
    assert!(diag.is_ascii());
    // The readable part says it too.
    assert!(
        p.parts[0]
            .1
            .contains("transport.connection_refused at connect: refused")
    );
    // An empty diagnostic is left out, and a remote reply wins over a local one.
    let quiet = DsnRecipient::without_reply("bob@example.com", Action::Failed, status)
        .local_diagnostic("  ");
    assert_eq!(quiet.local_diagnostic, None);
    let r = reply(550, &["5.1.1 no such user"]);
    let both = DsnRecipient::failed("bob@example.com", &r).local_diagnostic("ignored");
    let out = DsnBuilder::new("mta.example.org")
        .build(
            &message("a@example.org", false),
            &[both],
            now,
            "dsn.8@mta.example.org",
        )
        .unwrap();
    let p = parse(&out);
    let groups = check_rfc3464(&p);
    assert_eq!(
        header(&groups[0], "diagnostic-code"),
        Some("smtp; 550 5.1.1 no such user")
    );
}

#[test]
fn delay_notice_has_will_retry_until_and_multiline_diagnostic() {
    let now = Timestamp::from_secs(1_700_086_400);
    let until = Timestamp::from_secs(1_700_604_800);
    let r = reply(
        421,
        &[
            "4.7.28 [192.0.2.1] Our system has detected an unusual rate of",
            "4.7.28 unsolicited mail originating from your IP address.",
        ],
    );
    let rcpt = DsnRecipient::delayed("carol@example.net", &r, until).last_attempt(now);
    let out = DsnBuilder::new("mta.example.org")
        .build(
            &message("a@example.org", true),
            &[rcpt],
            now,
            "dsn.2@mta.example.org",
        )
        .unwrap();
    let p = parse(&out);
    assert_eq!(
        header(&p.headers, "subject"),
        Some("Delayed Mail (still being retried)")
    );
    let groups = check_rfc3464(&p);
    let g = &groups[0];
    assert_eq!(header(g, "action"), Some("delayed"));
    assert_eq!(header(g, "status"), Some("4.7.28"));
    assert_eq!(
        header(g, "will-retry-until"),
        Some("Tue, 21 Nov 2023 22:13:20 +0000")
    );
    // Both reply lines survive, folded into one field.
    let diag = header(g, "diagnostic-code").unwrap();
    assert!(
        diag.contains("unusual rate of 421 4.7.28 unsolicited"),
        "{diag}"
    );
    // RET=FULL: the whole message comes back.
    assert_eq!(
        header(&p.parts[2].0, "content-type"),
        Some("message/rfc822")
    );
    assert!(p.parts[2].1.contains("Hello\r\n.dot line"));
}

#[test]
fn notify_and_null_sender_are_honoured() {
    let now = Timestamp::from_secs(1_700_000_000);
    let r = reply(550, &["5.1.1 no such user"]);
    let b = DsnBuilder::new("mta.example.org");
    let failed = DsnRecipient::failed("x@example.com", &r);
    // Null sender: never a report.
    assert!(
        b.build(
            &message("", false),
            std::slice::from_ref(&failed),
            now,
            "id"
        )
        .is_none()
    );
    // NOTIFY=NEVER and NOTIFY=DELAY exclude a failure.
    let never = failed.clone().notify(Notify::NEVER);
    let delay_only = failed.clone().notify(Notify::parse("DELAY").unwrap());
    assert!(
        b.build(
            &message("a@example.org", false),
            &[never.clone(), delay_only],
            now,
            "id"
        )
        .is_none()
    );
    // Default NOTIFY reports failures and delays, not successes.
    let delivered = DsnRecipient::without_reply(
        "y@example.com",
        Action::Delivered,
        EnhancedCode::new(2, 0, 0).unwrap(),
    );
    assert!(
        b.build(
            &message("a@example.org", false),
            std::slice::from_ref(&delivered),
            now,
            "id"
        )
        .is_none()
    );
    let success = delivered.clone().notify(Notify::parse("SUCCESS").unwrap());
    let out = b
        .build(
            &message("a@example.org", false),
            &[never, success, failed],
            now,
            "id",
        )
        .unwrap();
    let groups = check_rfc3464(&parse(&out));
    let who: Vec<_> = groups
        .iter()
        .map(|g| header(g, "final-recipient").unwrap().to_string())
        .collect();
    assert_eq!(who, ["rfc822; y@example.com", "rfc822; x@example.com"]);
}

#[test]
fn a_status_of_the_wrong_class_is_replaced() {
    // A 550 carrying 4.2.2 (KumoMTA's favourite confusion) still reports a 5.x.x
    // failure; the subject and detail (2.2: mailbox full) mean the same in every class.
    let r = reply(550, &["4.2.2 mailbox full"]);
    let d = DsnRecipient::failed("x@example.com", &r);
    assert_eq!(d.status.to_string(), "5.2.2");
}

#[test]
fn output_is_deterministic() {
    let now = Timestamp::from_secs(1_700_000_000);
    let r = reply(554, &["5.7.1 spam"]);
    let b = DsnBuilder::new("mta.example.org");
    let rc = [DsnRecipient::failed("x@example.com", &r)];
    let m = message("a@example.org", false);
    assert_eq!(b.build(&m, &rc, now, "id1"), b.build(&m, &rc, now, "id1"));
}

fn arb_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..60).prop_map(|v| v.into_iter().collect())
}

proptest! {
    /// Whatever the addresses, reply bytes and ids contain (CR, LF, NUL, non-ASCII),
    /// the report parses back with one recipient block per notifiable recipient and
    /// nothing injected.
    #[test]
    fn hostile_inputs_never_break_the_structure(
        rcpts in proptest::collection::vec(
            (arb_text(), proptest::collection::vec(any::<u8>(), 0..80), any::<bool>(), 0u8..4),
            1..6,
        ),
        sender in arb_text(),
        envid in arb_text(),
        original in proptest::collection::vec(any::<u8>(), 0..200),
        ret_full in any::<bool>(),
    ) {
        let now = Timestamp::from_secs(1_700_000_000);
        let list: Vec<DsnRecipient> = rcpts.iter().map(|(addr, text, transient, notify)| {
            let code = if *transient { 451 } else { 550 };
            let r = Reply::new(ReplyCode::new(code).unwrap(), [text.clone()]);
            let base = if *transient {
                DsnRecipient::delayed(addr, &r, now)
            } else {
                DsnRecipient::failed(addr, &r)
            };
            // Half the entries have no reply, only a local diagnostic.
            let base = if text.len() % 2 == 1 {
                let status = tempfail::reply::EnhancedCode::new(if *transient { 4 } else { 5 }, 4, 2).unwrap();
                let action = if *transient { Action::Delayed } else { Action::Failed };
                DsnRecipient::without_reply(addr, action, status)
                    .local_diagnostic(&String::from_utf8_lossy(text))
            } else {
                base
            };
            match notify {
                0 => base,
                1 => base.notify(Notify::NEVER),
                2 => base.notify(Notify { success: false, failure: true, delay: false }),
                _ => base.remote_mta(addr).original_recipient(addr),
            }
        }).collect();
        let m = DsnMessage {
            envelope_sender: sender.clone(),
            envid: Some(envid),
            ret_full,
            arrival: Some(now),
            original: original.clone(),
        };
        let b = DsnBuilder::new("mta.example.org");
        let expected = b.notifiable(&m, &list).len();
        match b.build(&m, &list, now, "prop@mta.example.org") {
            None => prop_assert_eq!(expected, 0),
            Some(out) => {
                prop_assert!(!sender.trim().is_empty());
                // The returned content may hold any bytes; check the structure on a
                // copy whose content is ASCII-safe by building again with a clean body.
                let clean = DsnMessage { original: b"Subject: x\r\n\r\nbody\r\n".to_vec(), ..m.clone() };
                let out2 = b.build(&clean, &list, now, "prop@mta.example.org").unwrap();
                let p = parse(&out2);
                let groups = check_rfc3464(&p);
                prop_assert_eq!(groups.len(), expected);
                // And the original-content variant still ends with its closing delimiter.
                prop_assert!(out.ends_with(b"--\r\n"));
            }
        }
    }
}

/// Every line of the report, header or body, within RFC 5322's 998 bytes.
fn assert_short_lines(out: &[u8]) {
    for line in out.split(|&b| b == b'\n') {
        assert!(
            line.len() <= 999, // 998 + the CR
            "line of {} bytes: {:?}…",
            line.len(),
            String::from_utf8_lossy(&line[..80.min(line.len())])
        );
    }
}

#[test]
fn long_and_international_fields_keep_lines_short() {
    let now = Timestamp::from_secs(1_700_000_000);
    let long_utf8 = "é".repeat(950) + "@example.com";
    let long_emoji = "😀".repeat(950) + "@example.com";
    let host = "h".repeat(950);
    let r = reply(550, &[&format!("5.1.1 {}", "x".repeat(2000))]);
    let rcpts = [
        DsnRecipient::failed(&long_utf8, &r)
            .remote_mta(&host)
            .original_recipient(&format!("utf-8;{long_emoji}")),
        DsnRecipient::failed(&long_emoji, &r).remote_mta(&"ü".repeat(950)),
    ];
    let m = DsnMessage {
        envelope_sender: long_utf8.clone(),
        ..message("x", false)
    };
    let b = DsnBuilder::new(&"m".repeat(950)).from_address(&long_emoji);
    let out = b.build(&m, &rcpts, now, &"i".repeat(2000)).unwrap();
    assert_short_lines(&out);
    let groups = check_rfc3464(&parse(&out));
    assert_eq!(groups.len(), 2);
}

#[test]
fn the_boundary_never_occurs_inside_any_part() {
    // The server's reply text ends up in the text and delivery-status parts: a
    // server that can guess the boundary must not be able to close the report early.
    let now = Timestamp::from_secs(1_700_000_000);
    let b = DsnBuilder::new("mta.example.org");
    let m = message("a@example.org", false);
    let first = b
        .build(
            &m,
            &[DsnRecipient::failed(
                "x@example.com",
                &reply(550, &["5.1.1 no"]),
            )],
            now,
            "id",
        )
        .unwrap();
    let text = String::from_utf8(first).unwrap();
    let boundary = text
        .split("boundary=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let evil = reply(550, &[&format!("5.1.1 --{boundary}--")]);
    let host = format!("--{boundary}");
    let rc = [DsnRecipient::failed(&format!("--{boundary}"), &evil).remote_mta(&host)];
    let out = b.build(&m, &rc, now, "id").unwrap();
    let p = parse(&out);
    let groups = check_rfc3464(&p);
    assert_eq!(groups.len(), 1);
    let text = String::from_utf8(out).unwrap();
    let ct = header(&p.headers, "content-type").unwrap();
    let used = ct
        .split("boundary=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    // Three part delimiters and the closing one, nothing else.
    assert_eq!(text.matches(&format!("--{used}")).count(), 4, "{used}");
}

#[test]
#[allow(clippy::disallowed_methods)] // measures its own running time
fn a_hostile_original_cannot_make_boundary_selection_slow() {
    // The original is attacker-controlled: fill it with every boundary candidate
    // the builder would try first. Choosing a boundary must stay linear.
    let now = Timestamp::from_secs(1_700_000_000);
    let b = DsnBuilder::new("mta.example.org");
    let probe = b
        .build(
            &message("a@example.org", true),
            &[DsnRecipient::failed(
                "x@example.com",
                &reply(550, &["5.1.1 no"]),
            )],
            now,
            "id",
        )
        .unwrap();
    let text = String::from_utf8(probe).unwrap();
    let boundary = text
        .split("boundary=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    // Candidates differ in their last 8 hex digits: write the first 50,000 of them.
    let stem = &boundary[..boundary.len() - 8];
    let mut original = b"Subject: x\r\n\r\n".to_vec();
    for salt in 0u32..50_000 {
        original.extend_from_slice(format!("{stem}{salt:08x}\r\n").as_bytes());
    }
    let m = DsnMessage {
        original,
        ..message("a@example.org", true)
    };
    let started = std::time::Instant::now();
    let out = b
        .build(
            &m,
            &[DsnRecipient::failed(
                "x@example.com",
                &reply(550, &["5.1.1 no"]),
            )],
            now,
            "id",
        )
        .unwrap();
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
    assert!(out.ends_with(b"--\r\n"));
}

#[test]
fn the_status_class_always_matches_the_action() {
    // Fields are public: a caller can set a status of the wrong class. RFC 3464
    // §2.3.4 ties the class to the action, so the report fixes the class.
    let now = Timestamp::from_secs(1_700_000_000);
    let mut d = DsnRecipient::delayed("x@example.com", &reply(452, &["4.2.2 full"]), now);
    d.status = "5.2.2".parse().unwrap();
    let mut f = DsnRecipient::failed("y@example.com", &reply(550, &["5.1.1 no"]));
    f.status = "4.4.7".parse().unwrap();
    let out = DsnBuilder::new("mta.example.org")
        .build(&message("a@example.org", false), &[d, f], now, "id")
        .unwrap();
    let groups = check_rfc3464(&parse(&out));
    assert_eq!(header(&groups[0], "status"), Some("4.2.2"));
    assert_eq!(header(&groups[1], "status"), Some("5.4.7"));
}

#[test]
fn a_null_sender_written_with_brackets_gets_no_report() {
    // `<>` is how the null reverse-path appears in MAIL FROM and in logs: it is as
    // null as the empty string, and a bracketed sender is not bracketed twice.
    let now = Timestamp::from_secs(1_700_000_000);
    let b = DsnBuilder::new("mta.example.org");
    let rc = [DsnRecipient::failed(
        "x@example.com",
        &reply(550, &["5.1.1 no"]),
    )];
    for null in ["<>", " < > ", ""] {
        assert!(
            b.build(&message(null, false), &rc, now, "id").is_none(),
            "{null:?}"
        );
    }
    let out = b
        .build(&message("<a@example.org>", false), &rc, now, "id")
        .unwrap();
    let p = parse(&out);
    assert_eq!(header(&p.headers, "to"), Some("<a@example.org>"));
}

fn long_text() -> impl Strategy<Value = String> {
    prop_oneof![
        arb_text(),
        (any::<char>(), 100usize..1200).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the lengths and characters of every caller- or server-provided value,
    /// the headers and the first two parts keep every line within 998 bytes, the
    /// status part is 7-bit, and the boundary appears only where MIME puts it.
    #[test]
    fn long_hostile_values_keep_lines_short_and_the_boundary_unique(
        addr in long_text(),
        orcpt in long_text(),
        host in long_text(),
        mta in long_text(),
        id in long_text(),
        sender in long_text(),
        text in proptest::collection::vec(any::<u8>(), 0..3000),
        original in proptest::collection::vec(any::<u8>(), 0..400),
        failed in any::<bool>(),
    ) {
        let now = Timestamp::from_secs(1_700_000_000);
        let r = Reply::new(ReplyCode::new(if failed { 550 } else { 451 }).unwrap(), [text]);
        let rc = if failed {
            DsnRecipient::failed(&addr, &r)
        } else {
            DsnRecipient::delayed(&addr, &r, now)
        }
        .remote_mta(&host)
        .original_recipient(&orcpt);
        let m = DsnMessage {
            envelope_sender: format!("x{sender}"),
            envid: Some(id.clone()),
            ret_full: true,
            arrival: Some(now),
            original,
        };
        let out = DsnBuilder::new(&mta).from_address(&sender).build(&m, &[rc], now, &id).unwrap();
        let text = String::from_utf8_lossy(&out);
        let ct_at = text.find("boundary=\"").unwrap() + "boundary=\"".len();
        let boundary = &text[ct_at..ct_at + text[ct_at..].find('"').unwrap()];
        // The header parameter, three part delimiters and the closing delimiter.
        prop_assert_eq!(text.matches(boundary).count(), 5);
        // Everything before the returned content (whose lines are the original's).
        let third = text.find(&format!("\r\n--{boundary}\r\nContent-Type: message/rfc822")).unwrap();
        assert_short_lines(text[..third].as_bytes());
        let status_at = text.find("Content-Type: message/delivery-status").unwrap();
        prop_assert!(text[status_at..third].is_ascii());
    }
}
