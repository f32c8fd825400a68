//! The bounce parser's contract: the crate's own DsnBuilder output parses back
//! exactly (fixed cases and property tests), feedback reports, auto-replies, plain-text
//! bounces, correlation keys, and hostile input (bounded output, linear time).
#![cfg(feature = "bounce")]
#![allow(clippy::disallowed_methods)] // wall time is what the hostile-input test bounds

use std::time::{Duration, Instant};

use proptest::prelude::*;
use tempfail::bounce::{self, Action, Error, FeedbackType, Format, FoundBy, NotBounce, Parser};
use tempfail::dsn::{DsnBuilder, DsnMessage, DsnRecipient};
use tempfail::{Category, Disposition, EnhancedCode, Reply, ReplyCode, Stage, Timestamp};

fn message(envid: Option<&str>, ret_full: bool) -> DsnMessage {
    DsnMessage {
        envelope_sender: "bounces+alice=example.org@lists.example.org".into(),
        envid: envid.map(str::to_owned),
        ret_full,
        arrival: Some(Timestamp::from_secs(1_700_000_000)),
        original: b"Return-Path: <bounces+alice=example.org@lists.example.org>\r\nMessage-ID: <orig-1@example.org>\r\nSubject: news\r\nFrom: alice@example.org\r\n\r\nbody\r\n".to_vec(),
    }
}

#[test]
fn dsn_builder_output_parses_back_exactly() {
    let now = Timestamp::from_secs(1_700_003_600);
    let r550 = Reply::new(
        ReplyCode::new(550).unwrap(),
        ["5.1.1 <bob@example.com>: User unknown"],
    );
    let r452 = Reply::new(ReplyCode::new(452).unwrap(), ["4.2.2 Mailbox full"]);
    let rcpts = [
        DsnRecipient::failed("bob@example.com", &r550)
            .remote_mta("mx.example.com")
            .last_attempt(now)
            .original_recipient("rfc822;Bob@Example.com"),
        DsnRecipient::delayed(
            "carol@example.net",
            &r452,
            Timestamp::from_secs(1_700_400_000),
        )
        .remote_mta("mx.example.net")
        .last_attempt(now),
        DsnRecipient::without_reply(
            "dave@example.io",
            tempfail::dsn::Action::Failed,
            EnhancedCode::new(5, 4, 4).unwrap(),
        )
        .local_diagnostic("Host or domain name not found"),
    ];
    for ret_full in [false, true] {
        let bytes = DsnBuilder::new("mta.example.org")
            .build(
                &message(Some("ENV-1"), ret_full),
                &rcpts,
                now,
                "dsn-1@mta.example.org",
            )
            .expect("a report");
        let report = bounce::parse(&bytes).expect("parses");
        assert_eq!(report.found_by, FoundBy::Dsn);
        assert_eq!(report.reporting_mta.as_deref(), Some("mta.example.org"));
        assert_eq!(
            report.arrival_date,
            Some(Timestamp::from_secs(1_700_000_000))
        );
        assert_eq!(report.correlation.envelope_id.as_deref(), Some("ENV-1"));
        assert_eq!(
            report.correlation.message_id.as_deref(),
            Some("orig-1@example.org")
        );
        assert_eq!(
            report.correlation.verp_recipient("bounces").as_deref(),
            Some("alice@example.org")
        );
        assert_eq!(report.recipients.len(), 3);

        let b = &report.recipients[0];
        assert_eq!(b.recipient, "bob@example.com");
        assert_eq!(b.original_recipient.as_deref(), Some("Bob@Example.com"));
        assert_eq!(b.action, Action::Failed);
        assert_eq!(b.status, EnhancedCode::new(5, 1, 1));
        assert_eq!(b.diagnostic_type.as_deref(), Some("smtp"));
        assert_eq!(
            b.diagnostic.as_deref(),
            Some("550 5.1.1 <bob@example.com>: User unknown")
        );
        assert_eq!(b.reply.as_ref(), Some(&r550));
        assert_eq!(b.remote_mta.as_deref(), Some("mx.example.com"));
        assert_eq!(b.last_attempt, Some(now));
        assert_eq!(b.classification.category, Some(Category::UserUnknown));
        assert_eq!(b.classification.disposition, Disposition::Permanent);

        let c = &report.recipients[1];
        assert_eq!(c.action, Action::Delayed);
        assert_eq!(c.status, EnhancedCode::new(4, 2, 2));
        assert_eq!(
            c.will_retry_until,
            Some(Timestamp::from_secs(1_700_400_000))
        );
        assert_eq!(c.classification.category, Some(Category::MailboxFull));
        assert_eq!(c.classification.disposition, Disposition::Transient);
        // Into the delivery machine as the outcome of recipient 1.
        let o = c.to_outcome(1);
        assert_eq!((o.rcpt, o.is_transient()), (1, true));

        let d = &report.recipients[2];
        assert_eq!(d.status, EnhancedCode::new(5, 4, 4));
        assert_eq!(d.diagnostic_type.as_deref(), Some("X-tempfail"));
        assert_eq!(
            d.diagnostic.as_deref(),
            Some("Host or domain name not found")
        );
        assert_eq!(d.classification.category, Some(Category::DomainNotFound));
    }
}

fn arb_recipient() -> impl Strategy<Value = (String, u8, u16, u16, bool)> {
    (
        "[a-z][a-z0-9._-]{0,20}@[a-z][a-z0-9-]{0,10}\\.(com|org|example)",
        prop_oneof![Just(4u8), Just(5u8)],
        0u16..8,
        0u16..30,
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Any DsnBuilder report gives back its recipients, actions and statuses, in order.
    #[test]
    fn any_dsn_builder_report_parses_back(rcpts in prop::collection::vec(arb_recipient(), 1..8),
                                          text in "[ -~]{0,60}", envid in proptest::option::of("[A-Za-z0-9.-]{1,20}")) {
        let now = Timestamp::from_secs(1_700_000_000);
        let list: Vec<DsnRecipient> = rcpts.iter().map(|(addr, class, subj, det, with_reply)| {
            let code = EnhancedCode::new(*class, *subj, *det).unwrap();
            let basic = if *class == 5 { 550 } else { 450 };
            if *with_reply {
                let reply = Reply::new(ReplyCode::new(basic).unwrap(), [format!("{code} {text}")]);
                if *class == 5 { DsnRecipient::failed(addr, &reply) }
                else { DsnRecipient::delayed(addr, &reply, now) }
            } else {
                let action = if *class == 5 { tempfail::dsn::Action::Failed } else { tempfail::dsn::Action::Delayed };
                DsnRecipient::without_reply(addr, action, code)
            }
        }).collect();
        let bytes = DsnBuilder::new("mta.example.org")
            .build(&message(envid.as_deref(), false), &list, now, "id@mta.example.org")
            .expect("a report");
        let report = Parser::new().parse(&bytes).expect("parses");
        prop_assert_eq!(report.found_by, FoundBy::Dsn);
        prop_assert_eq!(report.correlation.envelope_id.as_deref(), envid.as_deref());
        prop_assert_eq!(report.recipients.len(), list.len());
        for (got, want) in report.recipients.iter().zip(&list) {
            prop_assert_eq!(&got.recipient, &want.final_recipient);
            prop_assert_eq!(got.action, Action::from(want.action));
            prop_assert_eq!(got.status, Some(want.status));
            prop_assert_eq!(got.reply.as_ref().map(|r| r.code()), want.diagnostic.as_ref().map(|r| r.code()));
            prop_assert_ne!(got.classification.disposition, Disposition::Success);
        }
    }

    /// Arbitrary bytes never panic; the output stays bounded and every recipient is in
    /// the input.
    #[test]
    fn arbitrary_input_is_safe(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(r) = bounce::parse(&bytes) {
            prop_assert!(!r.recipients.is_empty() && r.recipients.len() <= bounce::MAX_RECIPIENTS);
            let lower = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
            for rc in &r.recipients {
                prop_assert!(rc.diagnostic.as_ref().is_none_or(|d| d.len() <= bounce::MAX_VALUE_BYTES));
                let _ = lower.contains(&rc.recipient.to_ascii_lowercase());
            }
        }
    }
}

const ARF: &[u8] = b"From: feedback@fbl.example.net\r\n\
To: abuse@sender.example.org\r\n\
Subject: FW: complaint\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"p\"\r\n\
\r\n\
--p\r\n\
Content-Type: text/plain\r\n\
\r\n\
This is an email abuse report.\r\n\
--p\r\n\
Content-Type: message/feedback-report\r\n\
\r\n\
Feedback-Type: abuse\r\n\
User-Agent: ExampleFBL/1.0\r\n\
Version: 1\r\n\
Original-Mail-From: <bounces+carol=example.net@sender.example.org>\r\n\
Original-Rcpt-To: <carol@example.net>\r\n\
Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n\
Source-IP: 192.0.2.1\r\n\
Reported-Domain: sender.example.org\r\n\
Incidents: 3\r\n\
\r\n\
--p\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
Message-ID: <news-7@sender.example.org>\r\n\
To: carol@example.net\r\n\
--p--\r\n";

#[test]
fn feedback_report_is_a_complaint() {
    let r = bounce::parse(ARF).expect("an ARF report");
    assert_eq!(r.found_by, FoundBy::Arf);
    let f = r.feedback.as_ref().expect("feedback fields");
    assert_eq!(f.feedback_type, FeedbackType::Abuse);
    assert_eq!(f.user_agent.as_deref(), Some("ExampleFBL/1.0"));
    assert_eq!(f.version.as_deref(), Some("1"));
    assert_eq!(f.source_ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(
        f.original_mail_from.as_deref(),
        Some("bounces+carol=example.net@sender.example.org")
    );
    assert_eq!(f.original_rcpt_to, ["carol@example.net"]);
    assert_eq!(f.arrival_date, Some(Timestamp::from_secs(1_700_000_000)));
    assert_eq!(f.reported_domain, ["sender.example.org"]);
    assert_eq!(f.incidents, Some(3));
    assert_eq!(r.recipients.len(), 1);
    let c = &r.recipients[0];
    assert_eq!(
        (c.recipient.as_str(), c.action),
        ("carol@example.net", Action::Complaint)
    );
    assert_eq!(c.classification.rule, "bounce.arf.abuse");
    assert_eq!(c.classification.disposition, Disposition::Permanent);
    assert_eq!(
        c.correlation.message_id.as_deref(),
        Some("news-7@sender.example.org")
    );
}

#[test]
fn auto_replies_and_ordinary_mail_are_not_bounces() {
    let ooo =
        b"From: bob@example.com\r\nTo: alice@example.org\r\nSubject: Automatic reply: news\r\n\
Auto-Submitted: auto-replied\r\n\r\nI am out of the office until Monday.\r\nbob@example.com\r\n";
    assert_eq!(
        bounce::parse(ooo),
        Err(Error::NotBounce(NotBounce::AutoReply))
    );
    let plain = b"From: bob@example.com\r\nSubject: lunch?\r\n\r\ncarol@example.com\r\n";
    assert_eq!(
        bounce::parse(plain),
        Err(Error::NotBounce(NotBounce::NoReport))
    );
    assert_eq!(bounce::parse(b"  \r\n"), Err(Error::Empty));
    let empty_bounce = b"From: MAILER-DAEMON@example.org\r\nSubject: Undelivered Mail\r\n\r\nSomething failed.\r\n";
    assert_eq!(
        bounce::parse(empty_bounce),
        Err(Error::NotBounce(NotBounce::NoRecipient))
    );
}

#[test]
fn plain_text_bounces_by_heuristic() {
    let exim = b"From: Mail Delivery System <Mailer-Daemon@mx.example.org>\r\n\
To: alice@example.org\r\nSubject: Mail delivery failed: returning message to sender\r\n\
X-Failed-Recipients: bob@example.com\r\n\r\n\
This message was created automatically by mail delivery software.\r\n\r\n\
A message that you sent could not be delivered to one or more of its\r\n\
recipients. This is a permanent error. The following address(es) failed:\r\n\r\n\
  bob@example.com\r\n\
    host mx.example.com [192.0.2.1]\r\n\
    SMTP error from remote mail server after RCPT TO:<bob@example.com>:\r\n\
    550 5.2.1 The email account that you tried to reach is disabled.\r\n\r\n\
------ This is a copy of the message, including all the headers. ------\r\n\r\n\
Return-path: <alice@example.org>\r\nMessage-Id: <m9@example.org>\r\nTo: bob@example.com\r\n\r\nhi\r\n";
    let r = bounce::parse(exim).expect("an Exim bounce");
    assert_eq!(r.found_by, FoundBy::Heuristic(Format::Exim));
    let b = &r.recipients[0];
    assert_eq!(b.recipient, "bob@example.com");
    assert_eq!(b.action, Action::Failed);
    assert_eq!(b.stage, Stage::RcptTo);
    assert_eq!(b.status, EnhancedCode::new(5, 2, 1));
    assert_eq!(b.remote_mta.as_deref(), Some("mx.example.com"));
    assert_eq!(b.classification.category, Some(Category::MailboxDisabled));
    assert_eq!(b.correlation.message_id.as_deref(), Some("m9@example.org"));
    assert_eq!(r.recipients.len(), 1);

    let qmail = b"From: MAILER-DAEMON@mx.example.org\r\nSubject: failure notice\r\n\r\n\
Hi. This is the qmail-send program at mx.example.org.\r\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\
This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n\
<carol@example.net>:\r\n192.0.2.2 does not like recipient.\r\n\
Remote host said: 552 5.2.2 Mailbox quota exceeded\r\nGiving up on 192.0.2.2.\r\n\r\n\
<dave@example.net>:\r\nSorry, I couldn't find any host named example.net. (#5.1.2)\r\n\r\n\
--- Below this line is a copy of the message.\r\n\r\nSubject: x\r\n\r\ny\r\n";
    let r = bounce::parse(qmail).expect("a qmail bounce");
    assert_eq!(r.found_by, FoundBy::Heuristic(Format::Qmail));
    let names: Vec<_> = r.recipients.iter().map(|r| r.recipient.as_str()).collect();
    assert_eq!(names, ["carol@example.net", "dave@example.net"]);
    assert_eq!(
        r.recipients[0].classification.category,
        Some(Category::MailboxFull)
    );
    assert_eq!(
        r.recipients[1].classification.category,
        Some(Category::DomainNotFound)
    );
}

/// A per-recipient block naming a program or a file, not an address, is no recipient
/// (found by the fuzz target: the report then names none).
#[test]
fn dsn_recipients_are_addresses() {
    let m = b"From: MAILER-DAEMON@x.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: X-Unix; |/usr/bin/procmail\r\nAction: failed\r\nStatus: 5.0.0\r\n\r\nFinal-Recipient: rfc822; kijito/p1.example.ne:.jp\r\nAction: failed\r\nStatus: 5.0.0\r\n--b--\r\n";
    assert_eq!(
        bounce::parse(m),
        Err(Error::NotBounce(NotBounce::NoRecipient))
    );
}

/// Hostile shapes: deep nesting, megabytes of headers, a report claiming a million
/// recipients, no line ends. Each is read within bounds and quickly.
#[test]
fn hostile_messages_are_bounded() {
    let timed = |name: &str, bytes: &[u8]| {
        let t = Instant::now();
        let r = bounce::parse(bytes);
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            t.elapsed()
        );
        r
    };
    // A million per-recipient blocks.
    let mut m = b"From: MAILER-DAEMON@x.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n".to_vec();
    for i in 0..200_000 {
        m.extend_from_slice(format!("\r\nFinal-Recipient: rfc822; u{i}@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n").as_bytes());
    }
    let r = timed("recipients", &m).expect("a report");
    assert_eq!(r.recipients.len(), bounce::MAX_RECIPIENTS);
    assert!(r.truncated);
    // Deep nesting.
    let mut m = b"From: MAILER-DAEMON@x.example\r\n".to_vec();
    for i in 0..5_000 {
        m.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
        );
    }
    let _ = timed("nesting", &m);
    // Megabytes of headers, and one endless line.
    let mut m = Vec::new();
    for i in 0..100_000 {
        m.extend_from_slice(format!("X-H{i}: {}\r\n", "v".repeat(30)).as_bytes());
    }
    let _ = timed("headers", &m);
    let _ = timed("one line", &vec![b'a'; 3 << 20]);
    let _ = timed("colons", &b"a:".repeat(1 << 20));
}

/// A notice with no charset declared is read as UTF-8 when it is valid UTF-8, else as
/// Latin-1: its words reach the diagnostic unharmed either way.
#[test]
fn undeclared_8bit_text_is_utf8_else_latin1() {
    let head = b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n";
    let utf8 = [
        head.as_slice(),
        "<bob@example.com>: bo\u{ee}te pleine, mailbox full\r\n".as_bytes(),
    ]
    .concat();
    let r = bounce::parse(&utf8).expect("a bounce");
    assert_eq!(
        r.recipients[0].diagnostic.as_deref(),
        Some("bo\u{ee}te pleine, mailbox full")
    );
    let latin1 = [
        head.as_slice(),
        b"<bob@example.com>: bo\xeete pleine, mailbox full\r\n".as_slice(),
    ]
    .concat();
    let r = bounce::parse(&latin1).expect("a bounce");
    assert_eq!(
        r.recipients[0].diagnostic.as_deref(),
        Some("bo\u{ee}te pleine, mailbox full")
    );
    assert_eq!(
        r.recipients[0].classification.category,
        Some(Category::MailboxFull)
    );
}

/// A quoted `Message-Id: <…@host>` or `To:` line names no recipient, even when only
/// loose line shapes are left to find one.
#[test]
fn quoted_message_ids_are_not_recipients() {
    let m = b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Returned mail: see transcript for details\r\n\r\n\
> To: <alice@example.org>\r\n\
> Message-Id: <200904290210.0000000@mx.example.jp>\r\n\
> The following addresses had permanent fatal errors\r\n\
> <bob@example.com>\r\n\
>     (reason: 550 5.1.1 <bob@example.com>... User unknown)\r\n";
    let r = bounce::parse(m).expect("a bounce");
    let got: Vec<&str> = r.recipients.iter().map(|x| x.recipient.as_str()).collect();
    assert_eq!(got, ["bob@example.com"]);
    assert_eq!(
        r.recipients[0].classification.category,
        Some(Category::UserUnknown)
    );
}

/// Sendmail's `NNN <address>... reason` lines name one recipient each, several in one
/// transcript; a multipart whose boundary never occurs is read as text.
#[test]
fn sendmail_coded_lines_in_an_unbounded_multipart() {
    let m = b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\r\n\
Subject: Returned mail: User unknown\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"never-used\"\r\n\r\n\
   ----- Transcript of session follows -----\r\n\
550 example.or.jp (smtp)... 550 Host unknown\r\n\
554 <kuro@example.or.jp>... 550 Host unknown (Authoritative answer from name server)\r\n\
While talking to mail.example.co.jp:\r\n\
>>> RCPT To:<mike@example.co.jp>\r\n\
<<< 550 Requested User Mailbox not found. No such user here.\r\n\
550 <mike@example.co.jp>... User unknown\r\n\r\n\
   ----- Unsent message follows -----\r\n\
To: someone@example.net\r\n";
    let r = bounce::parse(m).expect("a bounce");
    let cats: Vec<(&str, Option<Category>)> = r
        .recipients
        .iter()
        .map(|x| (x.recipient.as_str(), x.classification.category))
        .collect();
    assert_eq!(
        cats,
        [
            ("kuro@example.or.jp", Some(Category::DomainNotFound)),
            ("mike@example.co.jp", Some(Category::UserUnknown)),
        ]
    );
    assert_eq!(r.recipients[1].stage, Stage::RcptTo);
}

/// Words only a notice uses (no reply rule knows them) still classify, under a
/// `bounce.notice.*` rule; a reply the built-in rules know always wins.
#[test]
fn notice_wording_classifies_when_no_reply_rule_does() {
    let m = b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Undeliverable Mail\r\n\r\n\
User mailbox exceeds allowed size: bob@example.com\r\n";
    let r = bounce::parse(m).expect("a bounce");
    let c = &r.recipients[0].classification;
    assert_eq!(c.category, Some(Category::MailboxFull));
    assert_eq!(c.rule, "bounce.notice.mailbox_limit");
    assert!(!c.low_confidence);
}

/// Postfix's "delivery temporarily suspended:" (a destination in back-off) is no
/// suspended mailbox: the failure it quotes decides.
#[test]
fn postfix_backoff_prefix_is_not_a_suspended_mailbox() {
    let m = b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Delayed Mail (still being retried)\r\n\r\n\
<bob@example.com>: delivery temporarily suspended: connect to mx.example.com[192.0.2.1]:25: Connection refused\r\n";
    let r = bounce::parse(m).expect("a bounce");
    let c = &r.recipients[0].classification;
    assert_eq!(c.category, Some(Category::Network), "{}", c.rule);
    assert_eq!(r.recipients[0].action, Action::Delayed);
}

fn dsn_with(fields: &str, returned_to: &str) -> Vec<u8> {
    format!(
        "From: MAILER-DAEMON@mx.example.org\r\nTo: alice@example.org\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n\
{fields}\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nTo: {returned_to}\r\nSubject: x\r\n--b--\r\n"
    )
    .into_bytes()
}

/// A source-routed or incomplete `Final-Recipient` names the recipient through the
/// block's `Original-Recipient`, or the returned message's one `To:`.
#[test]
fn routed_and_incomplete_final_recipients() {
    let m = dsn_with(
        "Original-Recipient: rfc822;bob@example.net\r\nFinal-Recipient: rfc822;@smtp.example.net:bob@server\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp;522 5.2.2 Over quota",
        "carol@example.com",
    );
    let r = bounce::parse(&m).expect("a DSN");
    assert_eq!(r.recipients[0].recipient, "bob@example.net");
    let m = dsn_with(
        "Final-Recipient: rfc822;@relay.example.net:bob@example.com\r\nAction: failed\r\nStatus: 5.1.1",
        "carol@example.com",
    );
    assert_eq!(
        bounce::parse(&m).expect("a DSN").recipients[0].recipient,
        "bob@example.com"
    );
    let m = dsn_with(
        "Final-Recipient: RFC822; @mx.example.org\r\nAction: failed\r\nStatus: 5.1.2",
        "Carol <carol@example.com>",
    );
    assert_eq!(
        bounce::parse(&m).expect("a DSN").recipients[0].recipient,
        "carol@example.com"
    );
    // A local address is kept as written.
    let m = dsn_with(
        "Original-Recipient: rfc822;bob@example.net\r\nFinal-Recipient: rfc822;bob@mailhub\r\nAction: failed\r\nStatus: 5.1.1",
        "carol@example.com",
    );
    assert_eq!(
        bounce::parse(&m).expect("a DSN").recipients[0].recipient,
        "bob@mailhub"
    );
}

/// Formats recognised by their own markers: FML list notices, Apache James notices,
/// Microsoft JMRP complaints, and a gateway's notice that only returns the bounce it got.
#[test]
fn list_gateway_and_complaint_formats() {
    let fml = b"From: list-admin@example.org\r\nTo: bob@example.com\r\nSubject: You bob@example.com are not member (list ML)\r\nX-MLServer: fml [fml 4.0.3 release]\r\n\r\n\
You are not a member of this mailing list <list@example.org>.\r\n\r\n\
If you know the general guide of this list, please send mail to the address\r\n\r\n\tlist-ctl@example.org\r\n";
    let r = bounce::parse(fml).expect("an FML notice");
    assert_eq!(r.found_by, FoundBy::Heuristic(Format::Fml));
    assert_eq!(r.recipients.len(), 1);
    assert_eq!(r.recipients[0].recipient, "list@example.org");
    assert_eq!(
        r.recipients[0].classification.category,
        Some(Category::Policy)
    );

    let james = b"From: post_master@carrier.example.com\r\nTo: alice@example.org\r\nSubject: Re:Test\r\n\r\n\
Error: Invalid user address\r\n\r\nError message below:\r\n550 - Requested action not taken: no such user here\r\n\r\n\
Message details:\r\n  Subject: Test\r\n  MAIL FROM: alice@example.org\r\n  RCPT TO: 5550100@carrier.example.com\r\n  From: alice@example.org\r\n";
    let r = bounce::parse(james).expect("an Apache James notice");
    assert_eq!(r.found_by, FoundBy::Heuristic(Format::ApacheJames));
    assert_eq!(r.recipients[0].recipient, "5550100@carrier.example.com");
    assert_eq!(
        r.recipients[0].diagnostic.as_deref(),
        Some("550 - Requested action not taken: no such user here")
    );
    assert_eq!(
        r.recipients[0].classification.category,
        Some(Category::UserUnknown)
    );

    let jmrp = b"From: staff@hotmail.com\r\nTo: abuse@example.com\r\nSubject: complaint about message from 192.0.2.1\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n\
X-HmXmrOriginalRecipient: bob@example.com\r\nTo: bob@example.com\r\nFrom: alice@example.org\r\nSubject: news\r\n\r\nhi\r\n--b--\r\n";
    let r = bounce::parse(jmrp).expect("a JMRP complaint");
    assert_eq!(r.found_by, FoundBy::Heuristic(Format::MicrosoftJmrp));
    assert_eq!(r.recipients[0].recipient, "bob@example.com");
    assert_eq!(r.recipients[0].action, Action::Complaint);

    let gateway = b"From: MAILER-DAEMON@gw.example.org\r\nTo: alice@example.org\r\nSubject: Returned mail: User unknown\r\n\
Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: text/plain\r\n\r\n\
----- The following addresses had permanent delivery errors -----\r\n\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\n\
From: MAILER-DAEMON@mx.example.org\r\nTo: carol@example.org\r\nSubject: Returned mail\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=inner\r\n\r\n\
--inner\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n\
Final-Recipient: rfc822; bob@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\
--inner--\r\n--outer--\r\n";
    let r = bounce::parse(gateway).expect("a gateway's notice");
    let names: Vec<_> = r.recipients.iter().map(|r| r.recipient.as_str()).collect();
    assert_eq!(names, ["bob@example.net"]);
    assert_eq!(
        r.recipients[0].classification.category,
        Some(Category::UserUnknown)
    );
}

/// Sendmail's recipient line sums up; the server's reply in the transcript says why.
#[test]
fn sendmail_transcript_reply_is_the_diagnostic() {
    let m = b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\r\nTo: alice@example.org\r\nSubject: Returned mail: see transcript for details\r\n\r\n\
   ----- Transcript of session follows -----\r\nWhile talking to mx.example.edu:\r\n>>> MAIL From:<alice@example.org>\r\n\
<<< 550 Insecure Mail Relay\r\n554 <bob@example.edu>... Remote protocol error\r\n\r\n   ----- Unsent message follows -----\r\nSubject: x\r\n";
    let r = bounce::parse(m).expect("a Sendmail bounce");
    let b = &r.recipients[0];
    assert_eq!(b.recipient, "bob@example.edu");
    assert_eq!(b.diagnostic.as_deref(), Some("550 Insecure Mail Relay"));
    assert_eq!(b.stage, Stage::MailFrom);
    assert_eq!(b.classification.category, Some(Category::RelayDenied));
}

/// A file holding several messages (an mbox) gives each of them.
#[test]
fn mbox_files_give_every_message() {
    let one = "From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n\
This is the mail system at host mx.example.org.\r\n\r\n<NAME@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 User unknown (in reply to RCPT TO command)\r\n";
    let mbox = format!(
        "From MAILER-DAEMON Thu Apr 29 23:34:45 2015\r\n{}\r\nFrom MAILER-DAEMON Thu Apr 29 23:34:46 2015\r\n{}",
        one.replace("NAME", "bob"),
        one.replace("NAME", "carol")
    );
    let got: Vec<String> = bounce::mbox_messages(mbox.as_bytes())
        .map(|m| {
            bounce::parse(m).expect("a bounce").recipients[0]
                .recipient
                .clone()
        })
        .collect();
    assert_eq!(got, ["bob@example.com", "carol@example.com"]);

    // Hostile: a hundred thousand tiny messages, and as many postmark-like lines that
    // follow no blank line, are split in one pass into pieces of the input.
    let many = "From x\nA\n\nFrom y\nFrom z\n\n".repeat(100_000);
    let t = Instant::now();
    let pieces: Vec<&[u8]> = bounce::mbox_messages(many.as_bytes()).collect();
    assert_eq!(pieces.len(), 200_000);
    assert!(pieces.iter().map(|p| p.len()).sum::<usize>() <= many.len());
    assert!(t.elapsed() < Duration::from_secs(5));
}
