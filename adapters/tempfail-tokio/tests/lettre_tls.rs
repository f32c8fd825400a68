//! The core's `lettre` feature against lettre's own STARTTLS failures on the real
//! servers of `driver_servers.rs`: TLS required by lettre at the Postfix service
//! without STARTTLS is `tls_required`; a certificate for another name, or from a
//! CA lettre does not trust, is `tls_failed` (rule `transport.tls_certificate`).
//! Skipped with a notice when the servers cannot run here, unless
//! `TEMPFAIL_REQUIRE_SERVERS=1` or `TEMPFAIL_REQUIRE_SMTP_SINK=1`.

mod servers;

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport};
use servers::{PLAIN_ADDR, Servers, TLS_ADDR};
use tempfail::{Category, Classifier, Disposition, Stage};

fn send(s: &Servers, addr: &str, name: &str, ca: &[u8]) -> tempfail::RcptOutcome {
    let tls = TlsParameters::builder(name.to_string())
        .add_root_certificate(Certificate::from_pem(ca).unwrap())
        .build_rustls()
        .unwrap();
    let t = SmtpTransport::builder_dangerous(addr)
        .port(s.port)
        .tls(Tls::Required(tls))
        .timeout(Some(Duration::from_secs(10)))
        .build();
    let env = Envelope::new(
        Some("a@tempfail.test".parse().unwrap()),
        vec!["user@good.test".parse().unwrap()],
    )
    .unwrap();
    let r = t.send_raw(&env, b"Subject: t\r\n\r\nHello.\r\n");
    if let Err(e) = &r {
        eprintln!("lettre: {e}");
    }
    tempfail::lettre::outcome(&Classifier::builtin(), 0, &r)
}

#[test]
fn lettre_requiring_tls_where_starttls_is_not_offered_is_tls_required() {
    let Some(s) = servers::servers() else { return };
    let o = send(&s, PLAIN_ADDR, "mx-plain.good.test", &s.ca_pem);
    assert_eq!(o.stage, Stage::Starttls);
    assert_eq!(o.classification.category, Some(Category::TlsRequired));
    assert_eq!(o.classification.disposition, Disposition::Transient);
}

#[test]
fn lettre_refusing_a_certificate_is_tls_failed() {
    let Some(s) = servers::servers() else { return };
    // The certificate is not valid for this name.
    let o = send(&s, TLS_ADDR, "wrong-name.badcert.test", &s.ca_pem);
    assert_eq!(o.stage, Stage::Starttls, "{o:#?}");
    assert_eq!(o.classification.category, Some(Category::TlsFailed));
    assert_eq!(o.classification.rule, "transport.tls_certificate");
    // The CA is not the one that signed it.
    let o = send(&s, TLS_ADDR, "mx-tls.good.test", &s.other_ca_pem);
    assert_eq!(
        o.classification.category,
        Some(Category::TlsFailed),
        "{o:#?}"
    );
    // And with the right name and CA, lettre delivers: the failures above are the
    // certificate's, not the setup's.
    let o = send(&s, TLS_ADDR, "mx-tls.good.test", &s.ca_pem);
    assert!(o.is_success(), "{o:#?}");
}
