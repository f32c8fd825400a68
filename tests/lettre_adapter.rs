//! The `lettre` feature's mapping against Postfix's real `smtp-sink` on loopback:
//! lettre's responses and errors become the reply (code and enhanced code) or
//! the transport failure they are, classified. Skipped with a notice when
//! smtp-sink is not installed, unless `TEMPFAIL_REQUIRE_SMTP_SINK=1`.
#![cfg(feature = "lettre")]

mod smtp_sink_util;

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::Error;
use lettre::transport::smtp::response::Response;
use lettre::{SmtpTransport, Transport};
use smtp_sink_util::{Sink, free_port};
use tempfail::{Category, Classifier, Disposition, Stage, TransportFailure};

fn send(addr: &str, to: &str, timeout: Duration) -> Result<Response, Error> {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let transport = SmtpTransport::builder_dangerous(host)
        .port(port.parse().unwrap())
        .timeout(Some(timeout))
        .build();
    let env = Envelope::new(
        Some("a@example.org".parse().unwrap()),
        vec![to.parse().unwrap()],
    )
    .unwrap();
    transport.send_raw(&env, b"Subject: t\r\n\r\nHello.\r\n")
}

#[test]
fn an_accepted_message_is_a_success_at_data_end_with_its_reply() {
    let Some(sink) = Sink::start(&[]) else { return };
    let r = send(&sink.addr, "b@example.com", Duration::from_secs(10));
    let resp = r.as_ref().expect("smtp-sink accepts");
    let reply = tempfail::lettre::reply(resp).unwrap();
    assert_eq!(reply.code().as_u16(), 250);
    let o = tempfail::lettre::outcome(&Classifier::builtin(), 3, &r);
    assert_eq!(o.rcpt, 3);
    assert_eq!(o.stage, Stage::DataEnd);
    assert_eq!(o.classification.disposition, Disposition::Success);
}

#[test]
fn a_4xx_keeps_its_code_and_enhanced_code_and_is_transient() {
    let Some(sink) = Sink::start(&["-r", "RCPT"]) else {
        return;
    };
    let r = send(&sink.addr, "b@example.com", Duration::from_secs(10));
    let e = r.as_ref().expect_err("smtp-sink -r RCPT refuses");
    assert!(tempfail::lettre::transport_failure(e).is_none());
    let reply = tempfail::lettre::error_reply(e).expect("a reply");
    assert_eq!(reply.code().as_u16(), 450);
    assert_eq!(reply.enhanced().unwrap().to_string(), "4.3.0");
    let (_, stage, c) = tempfail::lettre::classify_error(&Classifier::builtin(), e);
    assert_eq!(stage, Stage::Unknown);
    assert_eq!(c.disposition, Disposition::Transient);
}

#[test]
fn a_5xx_keeps_its_code_and_is_permanent() {
    let Some(sink) = Sink::start(&["-f", "RCPT"]) else {
        return;
    };
    let r = send(&sink.addr, "b@example.com", Duration::from_secs(10));
    let o = tempfail::lettre::outcome(&Classifier::builtin(), 0, &r);
    let reply = o.reply.as_ref().expect("a reply");
    assert_eq!(reply.code().as_u16() / 100, 5);
    assert_eq!(reply.enhanced().unwrap().class(), 5);
    assert_eq!(o.classification.disposition, Disposition::Permanent);
}

#[test]
fn a_refused_connection_is_connection_refused_at_connect() {
    let port = free_port(); // nothing listens there
    let r = send(
        &format!("127.0.0.1:{port}"),
        "b@example.com",
        Duration::from_secs(5),
    );
    let e = r.as_ref().unwrap_err();
    assert_eq!(
        tempfail::lettre::transport_failure(e),
        Some((TransportFailure::ConnectionRefused, Stage::Connect))
    );
    let o = tempfail::lettre::outcome(&Classifier::builtin(), 0, &r);
    assert!(o.reply.is_none());
    assert_eq!(o.classification.disposition, Disposition::Transient);
    assert_eq!(o.classification.category, Some(Category::Network));
    assert_eq!(o.classification.rule, "transport.connection_refused");
}

#[test]
fn a_server_that_stops_answering_is_a_read_timeout() {
    let Some(sink) = Sink::start(&["-p", "-W", "DATA:3"]) else {
        return;
    };
    let r = send(&sink.addr, "b@example.com", Duration::from_millis(500));
    let e = r.as_ref().unwrap_err();
    assert_eq!(
        tempfail::lettre::transport_failure(e),
        Some((TransportFailure::ReadTimeout, Stage::Unknown))
    );
    let o = tempfail::lettre::outcome(&Classifier::builtin(), 0, &r);
    assert_eq!(o.classification.disposition, Disposition::Transient);
    assert_eq!(o.classification.category, Some(Category::Network));
}

#[test]
fn an_address_lettre_refuses_is_a_permanent_bad_address() {
    let err = "not an address".parse::<lettre::Address>().unwrap_err();
    let o = tempfail::lettre::address_error_outcome(&Classifier::builtin(), 2, &err);
    assert_eq!(o.rcpt, 2);
    assert_eq!(o.stage, Stage::RcptTo);
    assert_eq!(o.classification.disposition, Disposition::Permanent);
    let reply = o.reply.unwrap();
    assert_eq!(reply.code().as_u16(), 553);
    assert_eq!(reply.enhanced().unwrap().to_string(), "5.1.3");
}
