//! The session machine against a scripted server and a virtual clock.

mod session_util;

use std::time::Duration;

use session_util::{EHLO_PIPELINING, EHLO_PLAIN, Harness};
use tempfail::session::{
    Credentials, Envelope, Event, LossReason, Mechanism, MessageInfo, Notify, Recipient,
    SessionConfig, Timeouts, TlsMode,
};
use tempfail::{Disposition, Stage};

fn greeted(ehlo: &[u8]) -> Harness {
    let mut h = Harness::new(Harness::config());
    h.input(b"220 mx.example.com ESMTP\r\n");
    assert_eq!(h.take_wire(), "EHLO client.example.org\r\n");
    h.input(ehlo);
    assert!(h.events.contains(&Event::Ready));
    h
}

#[test]
fn pipelined_transaction_is_two_flights() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new(
        MessageInfo::new("a@example.org").size(100),
        ["b@example.com", "c@example.com"],
    ));
    assert_eq!(
        h.take_wire(),
        "MAIL FROM:<a@example.org> SIZE=100\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n"
    );
    h.input(
        b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
    );
    assert_eq!(h.take_wire(), "Subject: test\r\n\r\nHello.\r\n.\r\n");
    h.input(b"250 2.0.0 Ok: queued as 4ABCD\r\n");
    let o = h.outcomes();
    assert_eq!(o.len(), 2);
    for (i, f) in o.iter().enumerate() {
        assert_eq!(f.rcpt, i);
        assert_eq!(f.code, Some(250));
        assert_eq!(f.disposition, Disposition::Success);
        assert_eq!(f.stage, Stage::DataEnd);
    }
    assert!(matches!(
        h.events.last(),
        Some(Event::TransactionDone {
            delivered: 2,
            transient: 0,
            permanent: 0,
            ..
        })
    ));
    assert!(h.s.is_idle());
    h.quit();
    assert_eq!(h.take_wire(), "QUIT\r\n");
    h.input(b"221 2.0.0 Bye\r\n");
    assert!(h.closed);
    assert_eq!(h.events.last(), Some(&Event::Closed));
}

#[test]
fn without_pipelining_one_command_at_a_time() {
    let mut h = greeted(EHLO_PLAIN);
    h.submit(Envelope::new(
        "a@example.org",
        ["b@example.com", "c@example.com"],
    ));
    assert_eq!(h.take_wire(), "MAIL FROM:<a@example.org>\r\n");
    h.input(b"250 2.1.0 Ok\r\n");
    assert_eq!(h.take_wire(), "RCPT TO:<b@example.com>\r\n");
    h.input(b"550 5.1.1 <b@example.com>: Recipient address rejected: User unknown\r\n");
    assert_eq!(h.take_wire(), "RCPT TO:<c@example.com>\r\n");
    h.input(b"250 2.1.5 Ok\r\n");
    assert_eq!(h.take_wire(), "DATA\r\n");
    h.input(b"354 go\r\n");
    assert!(h.take_wire().ends_with("\r\n.\r\n"));
    h.input(b"250 2.0.0 Ok\r\n");
    let o = h.outcomes();
    assert_eq!(o[0].rcpt, 0);
    assert_eq!(o[0].code, Some(550));
    assert_eq!(o[0].stage, Stage::RcptTo);
    assert_eq!(o[0].disposition, Disposition::Permanent);
    assert_eq!(o[0].category.as_deref(), Some("user_unknown"));
    assert_eq!(
        (o[1].rcpt, o[1].code, o[1].stage),
        (1, Some(250), Stage::DataEnd)
    );
}

#[test]
fn greeting_554_refuses_the_connection() {
    let mut h = Harness::new(Harness::config());
    h.s.submit(Envelope::new("a@example.org", ["b@example.com"]))
        .unwrap();
    h.input(b"554 5.7.1 No SMTP service here\r\n");
    assert_eq!(h.take_wire(), "QUIT\r\n");
    assert!(h.closed);
    let o = h.outcomes();
    assert_eq!(o.len(), 1);
    assert_eq!((o[0].code, o[0].stage), (Some(554), Stage::Greeting));
    assert_eq!(o[0].disposition, Disposition::Permanent);
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            stage: Stage::Greeting,
            reason: LossReason::Reply(_),
            ..
        })
    ));
    // QUIT is written before the close.
    assert_eq!(h.order[h.order.len() - 2..], ["T", "C"]);
}

#[test]
fn ehlo_refused_falls_back_to_helo() {
    let mut h = Harness::new(Harness::config());
    h.input(b"220 old.example.com SMTP\r\n");
    h.take_wire();
    h.input(b"502 5.5.2 Error: command not recognized\r\n");
    assert_eq!(h.take_wire(), "HELO client.example.org\r\n");
    h.input(b"250 old.example.com\r\n");
    assert!(h.events.contains(&Event::Ready));
    assert_eq!(h.s.capabilities().map(|c| c.pipelining), Some(false));
    h.submit(Envelope::new(
        MessageInfo::new("a@example.org").size(10),
        ["b@example.com"],
    ));
    // No SIZE= without the extension, and no pipelining.
    assert_eq!(h.take_wire(), "MAIL FROM:<a@example.org>\r\n");
}

#[test]
fn ehlo_and_helo_refused_end_the_session() {
    let mut h = Harness::new(Harness::config());
    h.input(b"220 x\r\n");
    h.input(b"500 no\r\n");
    h.input(b"550 5.7.1 go away\r\n");
    assert!(h.closed);
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            stage: Stage::Helo,
            ..
        })
    ));
}

#[test]
fn starttls_discards_bytes_sent_before_the_handshake() {
    let mut cfg = Harness::config();
    cfg.tls = TlsMode::Required;
    let mut h = Harness::new(cfg);
    h.input(b"220 mx ESMTP\r\n");
    h.take_wire();
    h.input(b"250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
    assert_eq!(h.take_wire(), "STARTTLS\r\n");
    // The reply and an injected "reply" in the same read (the CVE-2011-0411 class).
    h.input(b"220 2.0.0 Ready to start TLS\r\n250 2.1.0 injected\r\n");
    assert_eq!(h.starttls, 1);
    // StartTls comes after the STARTTLS command was transmitted.
    let s = h.order.iter().position(|o| *o == "S").unwrap();
    assert_eq!(h.order[s - 1], "T");
    // More plaintext before the handshake completes: discarded too.
    h.input(b"250 2.1.5 injected\r\n");
    assert!(h.lost().is_none());
    h.tls_established();
    assert!(h.s.is_tls());
    assert_eq!(h.take_wire(), "EHLO client.example.org\r\n");
    h.input(b"250-mx\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n");
    assert!(h.events.contains(&Event::Ready));
    assert!(h.s.capabilities().unwrap().supports_auth(Mechanism::Plain));
    assert!(h.lost().is_none());
}

#[test]
fn starttls_required_but_not_offered() {
    let mut cfg = Harness::config();
    cfg.tls = TlsMode::Required;
    let mut h = Harness::new(cfg);
    h.s.submit(Envelope::new("a@example.org", ["b@example.com"]))
        .unwrap();
    h.input(b"220 mx\r\n");
    h.input(EHLO_PIPELINING);
    assert!(h.take_wire().ends_with("QUIT\r\n"));
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::TlsUnavailable,
            stage: Stage::Starttls,
            ..
        })
    ));
    let o = h.outcomes();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].disposition, Disposition::Transient);
    assert_eq!(o[0].category.as_deref(), Some("tls_required"));
}

#[test]
fn opportunistic_starttls_refused_goes_on_in_plain_text() {
    let mut cfg = Harness::config();
    cfg.tls = TlsMode::Opportunistic;
    let mut h = Harness::new(cfg);
    h.input(b"220 mx\r\n");
    h.input(b"250-mx\r\n250 STARTTLS\r\n");
    h.take_wire();
    h.input(b"454 4.7.0 TLS not available due to local problem\r\n");
    assert!(h.events.contains(&Event::Ready));
    assert!(!h.s.is_tls());
}

#[test]
fn tls_handshake_failure_ends_the_session() {
    let mut cfg = Harness::config();
    cfg.tls = TlsMode::Opportunistic;
    let mut h = Harness::new(cfg);
    h.input(b"220 mx\r\n");
    h.input(b"250-mx\r\n250 STARTTLS\r\n");
    h.input(b"220 go\r\n");
    h.s.handle_tls_failed(h.now).unwrap();
    h.drive();
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::TlsFailed,
            ..
        })
    ));
    assert!(h.closed);
}

fn auth_session(creds: Credentials, ehlo: &[u8]) -> Harness {
    let mut cfg = Harness::config();
    cfg.credentials = Some(creds);
    cfg.auth_requires_tls = false;
    let mut h = Harness::new(cfg);
    h.input(b"220 mx\r\n");
    h.take_wire();
    h.input(ehlo);
    h
}

#[test]
fn auth_plain() {
    let mut h = auth_session(
        Credentials::password("user", "pass"),
        b"250-mx\r\n250 AUTH LOGIN PLAIN\r\n",
    );
    assert_eq!(h.take_wire(), "AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
    h.input(b"235 2.7.0 Authentication successful\r\n");
    assert!(h.events.contains(&Event::Ready));
}

#[test]
fn auth_login() {
    let mut h = auth_session(
        Credentials::password("user", "pass").with_mechanisms([Mechanism::Login]),
        b"250-mx\r\n250 AUTH=LOGIN\r\n",
    );
    assert_eq!(h.take_wire(), "AUTH LOGIN\r\n");
    h.input(b"334 VXNlcm5hbWU6\r\n");
    assert_eq!(h.take_wire(), "dXNlcg==\r\n");
    h.input(b"334 UGFzc3dvcmQ6\r\n");
    assert_eq!(h.take_wire(), "cGFzcw==\r\n");
    h.input(b"235 2.7.0 Authentication successful\r\n");
    assert!(h.events.contains(&Event::Ready));
}

#[test]
fn auth_xoauth2_failure_challenge() {
    let mut h = auth_session(
        Credentials::oauth2("u@example.com", "tok"),
        b"250-smtp.gmail.com\r\n250 AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER\r\n",
    );
    assert!(h.take_wire().starts_with("AUTH XOAUTH2 "));
    h.input(b"334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n");
    assert_eq!(h.take_wire(), "\r\n");
    h.input(b"535-5.7.8 Username and Password not accepted.\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials\r\n");
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            stage: Stage::Auth,
            reason: LossReason::Reply(_),
            ..
        })
    ));
    assert!(h.closed);
}

#[test]
fn auth_refuses_plain_text_by_default() {
    let mut cfg = Harness::config();
    cfg.credentials = Some(Credentials::password("u", "p"));
    let mut h = Harness::new(cfg);
    h.input(b"220 mx\r\n");
    h.input(b"250-mx\r\n250 AUTH PLAIN\r\n");
    assert!(!h.take_wire().contains("AUTH"));
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::AuthUnavailable,
            ..
        })
    ));
}

#[test]
fn pipelined_mixed_recipients() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new(
        "a@example.org",
        [
            "grey@example.com",
            "unknown@example.com",
            "root@example.com",
        ],
    ));
    h.take_wire();
    h.input(
        b"250 2.1.0 Ok\r\n\
450 4.2.0 <grey@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n\
550 5.1.1 <unknown@example.com>: Recipient address rejected: User unknown in local recipient table\r\n\
250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
    );
    h.input(b"250 2.0.0 Ok: queued as 1234\r\n");
    let o = h.outcomes();
    assert_eq!(o.len(), 3);
    let by = |i| o.iter().find(|f| f.rcpt == i).unwrap();
    assert_eq!(by(0).disposition, Disposition::Transient);
    assert_eq!(by(0).category.as_deref(), Some("greylisted"));
    assert_eq!(by(0).enhanced.as_deref(), Some("4.2.0"));
    assert_eq!(by(1).disposition, Disposition::Permanent);
    assert_eq!(by(1).category.as_deref(), Some("user_unknown"));
    assert_eq!((by(2).code, by(2).stage), (Some(250), Stage::DataEnd));
    assert!(matches!(
        h.events.last(),
        Some(Event::TransactionDone {
            delivered: 1,
            transient: 1,
            permanent: 1,
            ..
        })
    ));
}

#[test]
fn all_recipients_refused_but_354_sends_a_lone_dot() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new("a@example.org", ["x@example.com"]));
    h.take_wire();
    h.input(b"250 2.1.0 Ok\r\n550 5.1.1 no such user\r\n354 go ahead\r\n");
    assert_eq!(h.take_wire(), ".\r\n");
    assert_eq!(h.body_requests(), 0);
    h.input(b"554 5.5.1 Error: no valid recipients\r\n");
    let o = h.outcomes();
    assert_eq!(o.len(), 1);
    assert_eq!((o[0].code, o[0].stage), (Some(550), Stage::RcptTo));
    assert!(h.s.is_idle());
}

#[test]
fn data_refused_sends_rset_and_the_next_transaction_runs() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new("a@example.org", ["x@example.com"]));
    h.submit(Envelope::new("a@example.org", ["y@example.com"]));
    assert_eq!(
        h.take_wire(),
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"
    );
    h.input(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.7.1 Data refused\r\n");
    // RSET, pipelined with the next transaction.
    assert_eq!(
        h.take_wire(),
        "RSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<y@example.com>\r\nDATA\r\n"
    );
    // The refusal is final once RSET's own reply shows the replies were aligned.
    assert!(h.outcomes().is_empty());
    h.input(b"250 2.0.0 Ok\r\n");
    let o = h.outcomes();
    assert_eq!((o[0].code, o[0].stage), (Some(554), Stage::Data));
    h.input(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
    h.input(b"250 2.0.0 Ok: queued\r\n");
    let o = h.outcomes();
    assert_eq!(o.len(), 2);
    assert_eq!(
        (o[1].txn, o[1].code, o[1].stage),
        (1, Some(250), Stage::DataEnd)
    );
}

#[test]
fn mail_refused_pipelined_gives_every_recipient_the_mail_reply() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new(
        "bad@example.org",
        ["x@example.com", "y@example.com"],
    ));
    h.take_wire();
    h.input(b"553 5.7.1 <bad@example.org>: Sender address rejected: not owned by user\r\n503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n");
    assert_eq!(h.take_wire(), "RSET\r\n");
    assert!(h.outcomes().is_empty(), "held until RSET's reply");
    h.input(b"250 2.0.0 Ok\r\n");
    let o = h.outcomes();
    assert_eq!(o.len(), 2);
    for f in &o {
        assert_eq!((f.code, f.stage), (Some(553), Stage::MailFrom));
    }
}

#[test]
fn mail_refused_without_pipelining() {
    let mut h = greeted(EHLO_PLAIN);
    h.submit(Envelope::new(
        "bad@example.org",
        ["x@example.com", "y@example.com"],
    ));
    h.take_wire();
    h.input(b"451 4.3.0 Temporary failure\r\n");
    assert_eq!(h.take_wire(), "RSET\r\n");
    h.input(b"250 2.0.0 Ok\r\n");
    let o = h.outcomes();
    assert_eq!(o.len(), 2);
    assert!(
        o.iter()
            .all(|f| f.stage == Stage::MailFrom && f.disposition == Disposition::Transient)
    );
}

#[test]
fn many_recipients_are_split_into_transactions() {
    let mut cfg = Harness::config();
    cfg.max_recipients_per_transaction = 2;
    let mut h = Harness::new(cfg);
    h.input(b"220 mx\r\n");
    h.input(EHLO_PIPELINING);
    h.take_wire();
    let rcpts: Vec<String> = (0..5).map(|i| format!("r{i}@example.com")).collect();
    h.submit(Envelope::new("a@example.org", rcpts));
    for part in [2usize, 2, 1] {
        let w = h.take_wire();
        assert_eq!(w.matches("RCPT TO").count(), part, "{w}");
        let mut replies = String::from("250 2.1.0 Ok\r\n");
        for _ in 0..part {
            replies.push_str("250 2.1.5 Ok\r\n");
        }
        replies.push_str("354 go\r\n");
        h.input(replies.as_bytes());
        h.input(b"250 2.0.0 Ok\r\n");
    }
    assert_eq!(h.body_requests(), 3);
    let o = h.outcomes();
    let mut idx: Vec<usize> = o.iter().map(|f| f.rcpt).collect();
    idx.sort();
    assert_eq!(idx, vec![0, 1, 2, 3, 4]);
    assert!(
        o.iter()
            .all(|f| f.txn == 0 && f.disposition == Disposition::Success)
    );
    let done: Vec<_> = h
        .events
        .iter()
        .filter(|e| matches!(e, Event::TransactionDone { .. }))
        .collect();
    assert_eq!(done.len(), 1);
}

#[test]
fn default_limit_is_100_recipients() {
    let mut h = greeted(EHLO_PIPELINING);
    let rcpts: Vec<String> = (0..101).map(|i| format!("r{i}@example.com")).collect();
    h.submit(Envelope::new("a@example.org", rcpts));
    assert_eq!(h.take_wire().matches("RCPT TO").count(), 100);
}

#[test]
fn size_over_the_advertised_limit_fails_before_sending() {
    let mut h = greeted(b"250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
    h.submit(Envelope::new(
        MessageInfo::new("a@example.org").size(1001),
        ["b@example.com"],
    ));
    assert_eq!(h.take_wire(), "");
    let o = h.outcomes();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].code, None);
    assert_eq!(o[0].disposition, Disposition::Permanent);
    assert_eq!(o[0].category.as_deref(), Some("message_too_big"));
    // SIZE 0 means no limit.
    let mut h = greeted(b"250-mx\r\n250 SIZE 0\r\n");
    h.submit(Envelope::new(
        MessageInfo::new("a@example.org").size(u64::MAX),
        ["b@example.com"],
    ));
    assert!(
        h.take_wire()
            .starts_with("MAIL FROM:<a@example.org> SIZE=18446744073709551615\r\n")
    );
}

#[test]
fn smtputf8_needs_the_extension() {
    let mut h = greeted(EHLO_PLAIN);
    h.submit(Envelope::new(
        MessageInfo::new("a@example.org").smtputf8(true),
        ["jösé@example.com"],
    ));
    assert_eq!(h.take_wire(), "");
    assert_eq!(h.outcomes()[0].disposition, Disposition::Permanent);
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new(
        MessageInfo::new("a@example.org").smtputf8(true),
        ["jösé@example.com"],
    ));
    assert!(
        h.take_wire()
            .starts_with("MAIL FROM:<a@example.org> SMTPUTF8\r\nRCPT TO:<jösé@example.com>\r\n")
    );
}

#[test]
fn dsn_parameters_when_offered() {
    let mut h = greeted(EHLO_PIPELINING);
    let mut r = Recipient::new("b@example.com");
    r.notify = Some(Notify {
        success: false,
        failure: true,
        delay: true,
    });
    r.orcpt = Some("b@example.com".into());
    let mut env = Envelope::new(MessageInfo::new("a@example.org").envid("id 1"), [r]);
    env.message.ret = Some(tempfail::session::Ret::Hdrs);
    h.submit(env);
    assert_eq!(
        h.take_wire(),
        "MAIL FROM:<a@example.org> RET=HDRS ENVID=id+201\r\nRCPT TO:<b@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@example.com\r\nDATA\r\n"
    );
}

#[test]
fn reply_421_anywhere_ends_the_session() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new(
        "a@example.org",
        ["x@example.com", "y@example.com"],
    ));
    h.submit(Envelope::new("a@example.org", ["z@example.com"]));
    h.take_wire();
    h.input(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n421 4.7.0 mx.example.com Error: too many errors\r\n");
    assert!(h.closed);
    assert_eq!(h.take_wire(), "", "no QUIT after a 421");
    let o = h.outcomes();
    assert_eq!(o.len(), 3);
    for f in &o {
        assert_eq!(f.code, Some(421));
        assert_eq!(f.disposition, Disposition::Transient);
        assert_eq!(f.stage, Stage::RcptTo);
    }
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            stage: Stage::RcptTo,
            ..
        })
    ));
    // Lost comes after the outcomes, and Close last.
    assert!(matches!(h.events.last(), Some(Event::Lost { .. })));
    assert_eq!(h.order.last(), Some(&"C"));
}

#[test]
fn unsolicited_421_while_idle() {
    let mut h = greeted(EHLO_PIPELINING);
    h.input(b"421 4.4.2 mx.example.com Error: timeout exceeded\r\n");
    assert!(h.closed);
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::Reply(_),
            ..
        })
    ));
}

#[test]
fn unexpected_close_counts_as_transient_network() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new(
        "a@example.org",
        ["x@example.com", "y@example.com"],
    ));
    h.take_wire();
    h.input(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
    h.eof();
    let o = h.outcomes();
    assert_eq!(o.len(), 2);
    for f in &o {
        assert_eq!(f.code, None);
        assert_eq!(f.disposition, Disposition::Transient);
        assert_eq!(f.category.as_deref(), Some("network"));
        assert_eq!(f.stage, Stage::RcptTo);
    }
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::ConnectionClosed,
            ..
        })
    ));
}

#[test]
fn eof_after_quit_is_a_clean_close() {
    let mut h = greeted(EHLO_PIPELINING);
    h.quit();
    assert_eq!(h.take_wire(), "QUIT\r\n");
    h.eof();
    assert_eq!(h.events.last(), Some(&Event::Closed));
    assert!(h.lost().is_none());
}

#[test]
fn stage_timeouts_follow_rfc5321_defaults() {
    let mut h = Harness::new(Harness::config());
    assert_eq!(h.deadline, Some(h.t0 + Duration::from_secs(300)));
    h.input(b"220 mx\r\n");
    h.input(EHLO_PIPELINING);
    // Idle: no timer.
    assert_eq!(h.s.deadline(), None);
    h.submit(Envelope::new("a@example.org", ["b@example.com"]));
    assert_eq!(h.deadline, Some(h.now + Duration::from_secs(300)));
    h.advance(Duration::from_secs(1));
    h.input(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
    // Waiting for DATA's 354: two minutes.
    assert_eq!(h.s.deadline(), Some(h.now + Duration::from_secs(120)));
    h.advance(Duration::from_secs(1));
    h.input(b"354 go\r\n");
    // Waiting for the final dot's reply: ten minutes.
    assert_eq!(h.s.deadline(), Some(h.now + Duration::from_secs(600)));
    h.advance(Duration::from_secs(599));
    h.timeout();
    assert!(h.lost().is_none(), "an early timer call is harmless");
    h.advance(Duration::from_secs(1));
    h.timeout();
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            stage: Stage::DataEnd,
            reason: LossReason::TimedOut,
            ..
        })
    ));
    let o = h.outcomes();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].stage, Stage::DataEnd);
    assert_eq!(o[0].category.as_deref(), Some("network"));
    assert!(h.closed);
}

#[test]
fn data_block_timeout_while_the_body_stalls() {
    let mut h = greeted(EHLO_PIPELINING);
    h.s.submit(Envelope::new("a@example.org", ["b@example.com"]))
        .unwrap();
    h.input(b"250 Ok\r\n250 Ok\r\n354 go\r\n");
    // The harness streamed the body at once; now a session that asks and waits.
    let mut s = tempfail::Session::new(Harness::config(), h.t0);
    s.handle_input(h.t0, b"220 mx\r\n");
    s.handle_input(h.t0, EHLO_PIPELINING);
    s.submit(Envelope::new("a@example.org", ["b@example.com"]))
        .unwrap();
    s.handle_input(h.t0, b"250 Ok\r\n250 Ok\r\n354 go\r\n");
    while s.poll_output().is_some() {}
    s.send_body_chunk(h.t0, b"part").unwrap();
    assert_eq!(s.deadline(), Some(h.t0 + Duration::from_secs(180)));
    s.handle_timeout(h.t0 + Duration::from_secs(180));
    let mut lost = None;
    while let Some(o) = s.poll_output() {
        if let tempfail::session::Output::Event(Event::Lost { stage, .. }) = o {
            lost = Some(stage);
        }
    }
    assert_eq!(lost, Some(Stage::Data));
}

#[test]
fn configured_timeouts_apply() {
    let mut cfg = Harness::config();
    cfg.timeouts = Timeouts::all(Duration::from_secs(2));
    let mut h = Harness::new(cfg);
    assert_eq!(h.deadline, Some(h.t0 + Duration::from_secs(2)));
    h.advance(Duration::from_secs(2));
    h.timeout();
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            stage: Stage::Greeting,
            reason: LossReason::TimedOut,
            ..
        })
    ));
}

#[test]
fn enhanced_codes_used_without_the_extension() {
    let mut h = greeted(b"250-mx\r\n250 PIPELINING\r\n");
    assert!(!h.s.capabilities().unwrap().enhanced_status_codes);
    h.submit(Envelope::new("a@example.org", ["b@example.com"]));
    h.input(b"250 2.1.0 Ok\r\n550 5.1.1 <b@example.com>: Recipient address rejected: User unknown\r\n554 5.5.1 Error: no valid recipients\r\n");
    h.input(b"250 2.0.0 Ok\r\n"); // RSET
    let o = h.outcomes();
    assert_eq!(o[0].enhanced.as_deref(), Some("5.1.1"));
    assert_eq!(o[0].category.as_deref(), Some("user_unknown"));
}

#[test]
fn misuse_is_an_error() {
    let mut h = greeted(EHLO_PIPELINING);
    let e = h.s.send_body_chunk(h.now, b"x").unwrap_err();
    assert!(e.to_string().contains("BodyWanted"), "{e}");
    assert!(h.s.finish_body(h.now).is_err());
    assert!(h.s.handle_tls_established(h.now).is_err());
    assert!(
        h.s.submit(Envelope::new("a@x", Vec::<String>::new()))
            .is_err()
    );
    h.quit();
    assert!(h.s.submit(Envelope::new("a@x", ["b@y"])).is_err());
}

#[test]
fn unsolicited_reply_is_peer_misbehaviour() {
    let mut h = greeted(EHLO_PIPELINING);
    h.input(b"250 2.0.0 surprise\r\n");
    // One reply more than commands in flight: the replies are out of step.
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::Desync(_),
            ..
        })
    ));
    assert!(h.closed);
}

#[test]
fn wrong_positive_reply_is_peer_misbehaviour() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new("a@example.org", ["b@example.com"]));
    h.input(b"354 what\r\n");
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::Desync(_),
            stage: Stage::MailFrom,
            ..
        })
    ));
    assert_eq!(h.outcomes().len(), 1);
}

#[test]
fn garbage_is_malformed() {
    let mut h = Harness::new(Harness::config());
    h.s.submit(Envelope::new("a@example.org", ["b@example.com"]))
        .unwrap();
    h.input(b"HTTP/1.1 400 Bad Request\r\n");
    assert!(matches!(
        h.lost(),
        Some(Event::Lost {
            reason: LossReason::Malformed(_),
            ..
        })
    ));
    assert_eq!(h.outcomes().len(), 1);
}

#[test]
fn a_server_that_never_ends_a_line_hits_a_limit() {
    let mut h = Harness::new(Harness::config());
    let junk = vec![b'2'; 4096];
    for _ in 0..1024 {
        h.input(&junk);
        if h.closed {
            break;
        }
    }
    assert!(h.closed, "4 MiB without a line ending must end the session");
}

#[test]
fn several_transactions_back_to_back_are_pipelined_after_the_dot() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new("a@example.org", ["x@example.com"]));
    h.submit(Envelope::new("a@example.org", ["y@example.com"]));
    h.quit();
    assert_eq!(
        h.take_wire(),
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"
    );
    h.input(b"250 Ok\r\n250 Ok\r\n354 go\r\n");
    // Body, dot, and the next transaction's envelope in the same flight.
    assert_eq!(
        h.take_wire(),
        "Subject: test\r\n\r\nHello.\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<y@example.com>\r\nDATA\r\n"
    );
    h.input(b"250 2.0.0 Ok: queued as A\r\n250 Ok\r\n250 Ok\r\n354 go\r\n");
    // Last body, then QUIT after its dot.
    assert!(h.take_wire().ends_with(".\r\nQUIT\r\n"));
    h.input(b"250 2.0.0 Ok: queued as B\r\n221 2.0.0 Bye\r\n");
    assert_eq!(h.outcomes().len(), 2);
    assert!(
        h.outcomes()
            .iter()
            .all(|f| f.disposition == Disposition::Success)
    );
    assert_eq!(h.events.last(), Some(&Event::Closed));
}

#[test]
fn lmtp_gets_a_reply_per_recipient_after_the_dot() {
    let mut cfg = Harness::config();
    cfg.lmtp = true;
    let mut h = Harness::new(cfg);
    h.input(b"220 lmtp.example.com LMTP\r\n");
    assert_eq!(h.take_wire(), "LHLO client.example.org\r\n");
    h.input(b"250-lmtp.example.com\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n");
    h.submit(Envelope::new(
        "a@example.org",
        ["x@example.com", "y@example.com", "z@example.com"],
    ));
    h.take_wire();
    h.input(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 unknown\r\n250 2.1.5 Ok\r\n354 go\r\n");
    h.input(b"250 2.0.0 <x@example.com> delivered\r\n452 4.2.2 <z@example.com> Mailbox full\r\n");
    let o = h.outcomes();
    assert_eq!(o.len(), 3);
    let z = o.iter().find(|f| f.rcpt == 2).unwrap();
    assert_eq!(
        (z.code, z.stage, z.disposition),
        (Some(452), Stage::DataEnd, Disposition::Transient)
    );
    let x = o.iter().find(|f| f.rcpt == 0).unwrap();
    assert_eq!((x.code, x.disposition), (Some(250), Disposition::Success));
}

#[test]
fn body_output_is_bounded() {
    let mut cfg = Harness::config();
    cfg.max_buffered_output = 1000;
    let t = Harness::new(Harness::config()).t0;
    let mut s = tempfail::Session::new(cfg, t);
    s.handle_input(t, b"220 mx\r\n");
    s.handle_input(t, EHLO_PIPELINING);
    s.submit(Envelope::new("a@example.org", ["b@example.com"]))
        .unwrap();
    s.handle_input(t, b"250 Ok\r\n250 Ok\r\n354 go\r\n");
    while s.poll_output().is_some() {}
    s.send_body_chunk(t, &[b'a'; 600]).unwrap();
    let e = s.send_body_chunk(t, &[b'a'; 600]).unwrap_err();
    assert!(e.expected.contains("poll_output"));
    while s.poll_output().is_some() {}
    s.send_body_chunk(t, &[b'a'; 600]).unwrap();
}

#[test]
fn never_greeted_session_quits_by_closing_after_greeting() {
    let mut h = Harness::new(Harness::config());
    h.quit();
    assert_eq!(h.take_wire(), "");
    h.input(b"220 mx\r\n");
    h.input(EHLO_PIPELINING);
    assert_eq!(h.take_wire(), "EHLO client.example.org\r\nQUIT\r\n");
}

#[test]
fn cfg_default_is_opportunistic_tls() {
    let c = SessionConfig::new("x");
    assert_eq!(c.tls, TlsMode::Opportunistic);
    assert_eq!(c.max_recipients_per_transaction, 100);
}

#[test]
fn a_body_request_voided_by_the_same_read_is_never_seen() {
    let mut h = greeted(EHLO_PIPELINING);
    h.submit(Envelope::new("a@example.org", ["b@example.com"]));
    // 354 and, in the same read, something that ends the session.
    h.input(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n421 4.4.2 timeout\r\n");
    assert_eq!(h.body_requests(), 0);
    assert!(h.closed);
    let o = h.outcomes();
    assert_eq!((o.len(), o[0].code), (1, Some(421)));
}

#[test]
fn body_calls_after_the_session_ended_are_harmless() {
    let t = Harness::new(Harness::config()).t0;
    let mut s = tempfail::Session::new(Harness::config(), t);
    s.handle_input(t, b"220 mx\r\n");
    s.handle_input(t, EHLO_PIPELINING);
    s.submit(Envelope::new("a@example.org", ["b@example.com"]))
        .unwrap();
    s.handle_input(t, b"250 Ok\r\n250 Ok\r\n354 go\r\n");
    let mut wanted = false;
    while let Some(o) = s.poll_output() {
        wanted |= matches!(
            o,
            tempfail::session::Output::Event(Event::BodyWanted { .. })
        );
    }
    assert!(wanted);
    // The server gives up while the body is being streamed.
    s.handle_input(t, b"421 4.4.2 Error: timeout exceeded\r\n");
    assert!(s.is_closed());
    assert_eq!(s.send_body_chunk(t, b"more"), Ok(()));
    assert_eq!(s.finish_body(t), Ok(()));
    let mut transmitted = 0;
    while let Some(o) = s.poll_output() {
        if let tempfail::session::Output::Transmit(b) = o {
            transmitted += b.len();
        }
    }
    assert_eq!(transmitted, 0, "nothing is sent after the session ended");
}
