//! Tier 0 of the built-in rules: transport failures, where there is no reply (a refused
//! or lost connection, a timeout, DNS, TLS), and what the session and the delivery
//! machine conclude on their own. A user rule with the same `failures` overrides them.
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

use super::*;

use Scope::{Connection as Conn, Destination as Dest};
use TransportFailure as F;

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
    // After the final dot the server may already have taken the message: a retry can
    // deliver it twice (RFC 1047). Still transient, but say so. First, so that it
    // wins over the general rules for the same failures.
    v.push(r("transport.lost_after_data", C::Network,
             "the connection failed after the end of the data, before the reply: the message may have been delivered and a retry may duplicate it (RFC 1047); RFC 5321 §3.8 says to treat it as a 451")
        .fails(&[F::ReadTimeout, F::UnexpectedClose, F::ConnectionReset])
        .at(&[S::DataEnd, S::Bdat]).disp(Disposition::Transient).scope(Conn));
    let table: &[(&'static str, F, C, Disposition, Scope, &'static str)] = &[
        ("transport.connection_refused", F::ConnectionRefused, C::Network, Disposition::Transient, Dest,
         "TCP connection refused: the host is up but not listening; try later or another MX"),
        ("transport.connect_timeout", F::ConnectTimeout, C::Network, Disposition::Transient, Dest,
         "TCP connect timed out: the host is unreachable; try later or another MX"),
        ("transport.connection_reset", F::ConnectionReset, C::Network, Disposition::Transient, Conn,
         "the connection was reset; a new connection may succeed"),
        ("transport.read_timeout", F::ReadTimeout, C::Network, Disposition::Transient, Conn,
         "no reply within the stage's timeout (RFC 5321 §4.5.3.2)"),
        ("transport.unexpected_close", F::UnexpectedClose, C::Network, Disposition::Transient, Conn,
         "the server closed the connection without a reply; RFC 5321 §3.8 says to treat this as a 451"),
        ("transport.dns_nxdomain", F::DnsNxDomain, C::DomainNotFound, Disposition::Permanent, Dest,
         "the domain does not exist (NXDOMAIN)"),
        ("transport.dns_no_address", F::DnsNoAddress, C::DomainNotFound, Disposition::Permanent, Dest,
         "no MX and no A/AAAA record (no MX alone means: use the address records, RFC 5321 §5.1)"),
        ("transport.null_mx", F::NullMx, C::NoMailService, Disposition::Permanent, Dest,
         "the domain publishes a null MX: it accepts no mail (RFC 7505)"),
        ("transport.dns_temporary", F::DnsTemporary, C::Dns, Disposition::Transient, Dest,
         "the resolver failed temporarily (SERVFAIL, timeout)"),
        ("transport.mx_loop", F::MxLoop, C::Dns, Disposition::Transient, Dest,
         "the domain's MX records lead back to this sender with no more preferred host (RFC 5321 §5.1): a DNS or configuration error that may be fixed"),
        ("transport.mx_unusable", F::MxUnusable, C::Dns, Disposition::Transient, Dest,
         "the domain's MX records exist but none is usable (address literals, malformed names): RFC 5321 §5.1 says to report an error; DNS may be fixed"),
        ("transport.tls_handshake", F::TlsHandshake, C::TlsFailed, Disposition::Transient, Conn,
         "the TLS handshake failed"),
        ("transport.tls_certificate", F::TlsCertificate, C::TlsFailed, Disposition::Transient, Conn,
         "the server's certificate did not verify"),
        ("transport.protocol_violation", F::ProtocolViolation, C::Protocol, Disposition::Transient, Conn,
         "the server sent something that is not SMTP, or broke a parser limit"),
        ("session.pipeline_desync", F::PipelineDesync, C::Protocol, Disposition::Transient, Conn,
         "the server's replies no longer match the commands in flight (extra, missing or impossible replies): nothing decided from them is final; retry, without pipelining"),
        ("transport.write_timeout", F::WriteTimeout, C::Network, Disposition::Transient, Conn,
         "the server stopped reading: queued bytes did not drain within the timeout (RFC 5321 §4.5.3.2)"),
        ("session.budget_exhausted", F::SessionBudget, C::Network, Disposition::Transient, Conn,
         "the session's overall time budget ran out before the server finished"),
        ("session.starttls_not_offered", F::StartTlsNotOffered, C::TlsRequired, Disposition::Transient, Conn,
         "TLS is required by the sender but the server does not offer STARTTLS"),
        ("session.auth_unavailable", F::AuthUnavailable, C::AuthFailed, Disposition::Permanent, Conn,
         "credentials are configured but the server offers no usable AUTH mechanism (or TLS, required before AUTH, is not established)"),
        ("session.smtputf8_not_offered", F::Smtputf8NotOffered, C::ContentFormat, Disposition::Permanent, Conn,
         "the message needs SMTPUTF8 but the server does not offer it (RFC 6531 §3.4)"),
        ("session.size_exceeds_limit", F::SizeExceedsLimit, C::MessageTooBig, Disposition::Permanent, Conn,
         "the declared message size exceeds the server's advertised SIZE limit (RFC 1870)"),
        ("delivery.no_outcome", F::NoOutcome, C::Network, Disposition::Transient, Conn,
         "the attempt ended without an outcome for this recipient: treated as a lost connection (RFC 5321 §3.8)"),
    ];
    for &(id, f, category, d, scope, description) in table {
        v.push(r(id, category, description).fails(&[f]).disp(d).scope(scope));
    }
}
