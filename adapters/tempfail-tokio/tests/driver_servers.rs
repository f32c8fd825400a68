//! The sender end to end on real servers on loopback: dnsmasq with MX, A,
//! null-MX and missing-domain records; Postfix with STARTTLS (a certificate of a
//! CA made for the test, the only one the client trusts) on 127.0.0.3, the same
//! Postfix without STARTTLS on 127.0.0.4, nothing on 127.0.0.2.
//!
//! Skipped with a notice when dnsmasq, Postfix or root are missing, unless
//! `TEMPFAIL_REQUIRE_SERVERS=1` (CI) or `TEMPFAIL_REQUIRE_SMTP_SINK=1`.

mod servers;

use std::time::Duration;

use servers::{Servers, queue_id, wait_log};
use tempfail::route::MxAnswer;
use tempfail::session::{Envelope, MessageInfo, Timeouts, TlsMode};
use tempfail::{Category, Disposition, Stage, TransportFailure};
use tempfail_tokio::{DnsResolver, Resolve, Reuse, Sender, SenderConfig, Sent, TlsSettings};

fn sender(s: &Servers, mode: TlsMode, ca: &[u8]) -> Sender {
    let tls = TlsSettings::with_ca_pem(mode, ca).expect("test CA");
    let mut cfg = SenderConfig::new("client.tempfail.test", tls);
    cfg.port = s.port;
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.session.timeouts = Timeouts::all(Duration::from_secs(20));
    Sender::new(cfg, DnsResolver::at(s.dns, Duration::from_secs(2)))
}

fn body(mid: &str) -> Vec<u8> {
    format!(
        "From: <a@tempfail.test>\r\nSubject: driver test\r\nMessage-ID: <{mid}>\r\n\r\nHello over the driver.\r\n.leading dot\r\n"
    )
    .into_bytes()
}

fn mid(tag: &str) -> String {
    format!("{tag}.{}@tempfail.test", std::process::id())
}

async fn send(sender: &mut Sender, to: &[&str], mid: &str) -> Sent {
    let env = Envelope::new(MessageInfo::new("a@tempfail.test"), to.iter().copied());
    sender.send(&env, &body(mid)).await.expect("valid envelope")
}

/// The Postfix log shows the message (by Message-ID) received in a session where
/// TLS was established, and its delivery to `rcpt`.
fn assert_delivered_over_tls(s: &Servers, mid: &str, rcpt: &str) {
    let log = wait_log(s, |log| {
        queue_id(log, mid).is_some_and(|q| {
            log.lines()
                .any(|l| l.contains(&format!("{q}: to=<{rcpt}>")) && l.contains("status=sent"))
        })
    })
    .unwrap_or_else(|| {
        panic!(
            "no delivery of {mid} to {rcpt} in the log:\n{}",
            s.maillog()
        )
    });
    let q = queue_id(&log, mid).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let client = lines
        .iter()
        .position(|l| l.contains(&format!("{q}: client=")))
        .expect("the smtpd line of the message");
    // `…/smtpd[PID]: QID: client=…`: the same smtpd process established TLS before.
    let pid = lines[client]
        .split("smtpd[")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .expect("smtpd pid");
    let tag = format!("smtpd[{pid}]: ");
    // The session's start: the last `connect from` of that process before it.
    let start = lines[..client]
        .iter()
        .rposition(|l| l.contains(&tag) && l.contains(": connect from"))
        .expect("the session's connect line");
    let tls = lines[start..client]
        .iter()
        .any(|l| l.contains(&tag) && l.contains("TLS connection established"));
    assert!(tls, "no TLS session before {q}'s client line:\n{log}");
}

#[tokio::test(flavor = "current_thread")]
async fn first_mx_refuses_second_mx_delivers_over_tls() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Opportunistic, &s.ca_pem);
    let m = mid("fallback");
    let sent = send(&mut tx, &["user@good.test"], &m).await;
    let o = &sent.outcomes[0];
    assert!(o.is_success(), "{o:#?}");
    assert_eq!(o.stage, Stage::DataEnd);
    let d = &sent.destinations[0];
    assert_eq!(d.destination, "good.test");
    assert_eq!(d.tries.len(), 2, "{d:#?}");
    // Preference 10 refuses the connection: transient network at connect, next host.
    assert_eq!(d.tries[0].host, "mx-refuse.good.test");
    let (stage, c) = d.tries[0].failure.clone().expect("a connect failure");
    assert_eq!(
        (stage, c.category),
        (Stage::Connect, Some(Category::Network))
    );
    assert_eq!(c.disposition, Disposition::Transient);
    // Preference 20 takes it, over TLS.
    let host = d.ended_on().expect("ended on a host");
    assert_eq!(host.host, "mx-tls.good.test");
    assert_eq!(host.preference, 20);
    assert!(host.tls && host.failure.is_none() && host.delivered == 1);
    assert_delivered_over_tls(&s, &m, "user@good.test");
}

#[tokio::test(flavor = "current_thread")]
async fn required_tls_is_transient_tls_required_at_a_host_without_starttls_and_moves_on() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Required, &s.ca_pem);
    // The only MX does not offer STARTTLS.
    let sent = send(&mut tx, &["user@plainonly.test"], &mid("plainonly")).await;
    let o = &sent.outcomes[0];
    assert_eq!(
        o.classification.disposition,
        Disposition::Transient,
        "{o:#?}"
    );
    assert_eq!(o.classification.category, Some(Category::TlsRequired));
    assert_eq!(o.stage, Stage::Starttls);
    assert!(o.reply.is_none());
    // With a second MX that offers it, the attempt moves on and delivers over TLS.
    let m = mid("plainfirst");
    let sent = send(&mut tx, &["user@plainfirst.test"], &m).await;
    assert!(sent.outcomes[0].is_success(), "{sent:#?}");
    let d = &sent.destinations[0];
    assert_eq!(d.tries.len(), 2);
    assert_eq!(d.tries[0].host, "mx-plain.good.test");
    let (stage, c) = d.tries[0].failure.clone().expect("tls_required");
    assert_eq!(
        (stage, c.category),
        (Stage::Starttls, Some(Category::TlsRequired))
    );
    assert!(d.ended_on().unwrap().tls);
    assert_delivered_over_tls(&s, &m, "user@plainfirst.test");
}

#[tokio::test(flavor = "current_thread")]
async fn opportunistic_tls_goes_on_in_plain_text_without_starttls() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Opportunistic, &s.ca_pem);
    let sent = send(&mut tx, &["user@plainonly.test"], &mid("plainok")).await;
    assert!(sent.outcomes[0].is_success(), "{sent:#?}");
    let host = sent.destinations[0].ended_on().unwrap();
    assert!(!host.tls);
    assert_eq!(host.host, "mx-plain.good.test");
}

#[tokio::test(flavor = "current_thread")]
async fn a_certificate_for_another_name_is_tls_failed_and_the_next_mx_is_tried() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Opportunistic, &s.ca_pem);
    // The only MX presents a certificate that is not valid for its name.
    let sent = send(&mut tx, &["user@badcertonly.test"], &mid("badcertonly")).await;
    let o = &sent.outcomes[0];
    assert_eq!(
        o.classification.disposition,
        Disposition::Transient,
        "{o:#?}"
    );
    assert_eq!(o.classification.category, Some(Category::TlsFailed));
    assert_eq!(o.classification.rule, "transport.tls_certificate");
    assert_eq!(o.stage, Stage::Starttls);
    let t = &sent.destinations[0].tries[0];
    assert!(!t.tls);
    assert!(
        t.tls_error
            .as_deref()
            .is_some_and(|e| e.starts_with("certificate:")),
        "{t:#?}"
    );
    // Nothing reached Postfix's queue from that session: no plain-text fallback.
    // With a second MX whose name matches, the attempt moves on and delivers.
    let m = mid("badcert");
    let sent = send(&mut tx, &["user@badcert.test"], &m).await;
    assert!(sent.outcomes[0].is_success(), "{sent:#?}");
    let d = &sent.destinations[0];
    assert_eq!(d.tries[0].host, "wrong-name.badcert.test");
    assert_eq!(
        d.tries[0].failure.as_ref().map(|f| f.1.category),
        Some(Some(Category::TlsFailed))
    );
    assert_eq!(d.ended_on().unwrap().host, "mx-tls.good.test");
    assert_delivered_over_tls(&s, &m, "user@badcert.test");
}

#[tokio::test(flavor = "current_thread")]
async fn a_server_signed_by_a_ca_the_client_does_not_trust_is_refused() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Required, &s.other_ca_pem);
    let m = mid("untrusted");
    let sent = send(&mut tx, &["user@good.test"], &m).await;
    let o = &sent.outcomes[0];
    // Both MX fail: the first refuses, the second's certificate does not verify;
    // the last host's answer is the recipient's.
    assert_eq!(
        o.classification.category,
        Some(Category::TlsFailed),
        "{o:#?}"
    );
    assert_eq!(o.classification.disposition, Disposition::Transient);
    assert_eq!(sent.destinations[0].tries.len(), 2);
    let log = s.maillog();
    assert!(queue_id(&log, &m).is_none(), "the message reached Postfix");
}

#[tokio::test(flavor = "current_thread")]
async fn null_mx_is_permanent_no_mail_service_without_any_connection() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Opportunistic, &s.ca_pem);
    let sent = send(&mut tx, &["user@nullmx.test"], &mid("nullmx")).await;
    let o = &sent.outcomes[0];
    assert_eq!(
        o.classification.disposition,
        Disposition::Permanent,
        "{o:#?}"
    );
    assert_eq!(o.classification.category, Some(Category::NoMailService));
    let d = &sent.destinations[0];
    assert_eq!(d.routing_failure, Some(TransportFailure::NullMx));
    assert!(d.tries.is_empty() && d.ended_on.is_none());
    // DNS was asked for the MX, and for nothing else of the domain.
    let log = s.dns_log();
    assert!(log.contains("query[MX] nullmx.test"), "{log}");
    assert!(!log.contains("query[A] nullmx.test"), "{log}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_domain_that_does_not_exist_is_permanent_domain_not_found() {
    let Some(s) = servers::servers() else { return };
    let resolver = DnsResolver::at(s.dns, Duration::from_secs(2));
    assert_eq!(resolver.mx("nosuch.test").await, MxAnswer::NxDomain);
    let mut tx = sender(&s, TlsMode::Opportunistic, &s.ca_pem);
    let sent = send(&mut tx, &["user@nosuch.test"], &mid("nxdomain")).await;
    let o = &sent.outcomes[0];
    assert_eq!(
        o.classification.disposition,
        Disposition::Permanent,
        "{o:#?}"
    );
    assert_eq!(o.classification.category, Some(Category::DomainNotFound));
    assert_eq!(
        sent.destinations[0].routing_failure,
        Some(TransportFailure::DnsNxDomain)
    );
    assert!(sent.destinations[0].tries.is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_domain_without_mx_is_its_own_host() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Required, &s.ca_pem);
    let m = mid("implicit");
    let sent = send(&mut tx, &["user@implicit.test"], &m).await;
    assert!(sent.outcomes[0].is_success(), "{sent:#?}");
    let d = &sent.destinations[0];
    assert!(d.route.as_ref().unwrap().implicit);
    assert_eq!(d.ended_on().unwrap().host, "implicit.test");
    assert_delivered_over_tls(&s, &m, "user@implicit.test");
}

#[tokio::test(flavor = "current_thread")]
async fn one_envelope_to_several_domains_gets_one_outcome_per_recipient() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Opportunistic, &s.ca_pem);
    let sent = send(
        &mut tx,
        &[
            "a@good.test",
            "b@nullmx.test",
            "c@nosuch.test",
            "d@good.test",
        ],
        &mid("multi"),
    )
    .await;
    let cats: Vec<_> = sent
        .outcomes
        .iter()
        .map(|o| {
            (
                o.rcpt,
                o.classification.disposition,
                o.classification.category,
            )
        })
        .collect();
    assert_eq!(
        cats,
        [
            (0, Disposition::Success, None),
            (1, Disposition::Permanent, Some(Category::NoMailService)),
            (2, Disposition::Permanent, Some(Category::DomainNotFound)),
            (3, Disposition::Success, None),
        ]
    );
    assert_eq!(sent.destinations.len(), 3);
    assert_eq!(sent.destinations[0].recipients, [0, 3]);
    assert_eq!(sent.destinations[0].ended_on().unwrap().delivered, 2);
}

#[tokio::test(flavor = "current_thread")]
async fn connection_reuse_carries_the_next_messages_on_the_same_tls_session() {
    let Some(s) = servers::servers() else { return };
    let mut tx = sender(&s, TlsMode::Required, &s.ca_pem);
    tx = {
        let mut cfg = tx.config().clone();
        cfg.reuse = Some(Reuse::default());
        Sender::new(cfg, DnsResolver::at(s.dns, Duration::from_secs(2)))
    };
    let mut mids = Vec::new();
    for i in 0..3 {
        let m = mid(&format!("reuse{i}"));
        let sent = send(&mut tx, &["user@good.test"], &m).await;
        assert!(sent.outcomes[0].is_success(), "{sent:#?}");
        let d = &sent.destinations[0];
        if i == 0 {
            assert_eq!(d.tries.len(), 2);
            assert!(!d.tries[1].reused);
        } else {
            // Straight onto the kept connection: no DNS, no refused first MX.
            assert_eq!(d.tries.len(), 1, "{d:#?}");
            assert!(d.tries[0].reused && d.tries[0].tls);
            assert_eq!(d.tries[0].host, "mx-tls.good.test");
        }
        assert_eq!(tx.idle_connections(), 1);
        mids.push(m);
    }
    tx.close().await;
    assert_eq!(tx.idle_connections(), 0);
    // The three messages came through one smtpd session.
    let log = wait_log(&s, |log| mids.iter().all(|m| queue_id(log, m).is_some())).unwrap();
    let pids: std::collections::HashSet<String> = mids
        .iter()
        .map(|m| {
            let q = queue_id(&log, m).unwrap();
            let l = log
                .lines()
                .find(|l| l.contains(&format!("{q}: client=")))
                .unwrap();
            l.split("smtpd[")
                .nth(1)
                .unwrap()
                .split(']')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(pids.len(), 1, "{log}");
    for m in &mids {
        assert_delivered_over_tls(&s, m, "user@good.test");
    }
}
