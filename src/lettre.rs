//! lettre's results as tempfail's classifications (feature `lettre`).
//!
//! [lettre](https://crates.io/crates/lettre)'s `SmtpTransport` returns one
//! `Result<Response, Error>` per send. This module turns either side into what
//! the rest of tempfail consumes: the server's reply (code, enhanced code, text)
//! classified like any reply, or the transport failure behind an error that has
//! no reply (refused, timed out, lost, TLS) classified as such.
//!
//! | lettre gives | tempfail sees |
//! |---|---|
//! | `Ok(Response)` | the reply at [`Stage::DataEnd`] (lettre's send ends with the reply to the dot) |
//! | `Err` with a status (`is_transient()`/`is_permanent()`) | the reply, code and enhanced code, at [`Stage::Unknown`] (lettre does not say which command it answered) |
//! | `Err`, a timeout (`is_timeout()`, or the socket's timeout as `WouldBlock`) | [`TransportFailure::ReadTimeout`] |
//! | `Err`, connection refused / reset / timed out, name not resolved | `connection_refused` / `connection_reset` / `connect_timeout` / `dns_temporary`, at [`Stage::Connect`] |
//! | `Err`, TLS: the certificate (a `tls error`, or rustls's `invalid peer certificate` behind a network error) | [`TransportFailure::TlsCertificate`] at [`Stage::Starttls`] |
//! | `Err`, TLS: anything else | [`TransportFailure::TlsHandshake`] at [`Stage::Starttls`] |
//! | `Err`, `STARTTLS` required but not offered | [`TransportFailure::StartTlsNotOffered`] (`tls_required`) |
//! | `Err`, no usable AUTH mechanism | [`TransportFailure::AuthUnavailable`] at [`Stage::Auth`] |
//! | `Err`, a reply lettre could not parse | [`TransportFailure::ProtocolViolation`] |
//! | `Err`, anything else (lost connection, transport shut down) | [`TransportFailure::UnexpectedClose`] |
//!
//! lettre's error kinds for connection, network and TLS failures are not public;
//! they are read from its `Display` text and its `source()` chain (the
//! `std::io::Error` kind where there is one), which lettre 0.11 keeps stable.
//!
//! lettre stops at the first refused `RCPT` and returns one result for the whole
//! send; send one recipient per transaction to give each its own outcome (see
//! `examples/lettre_retry.rs`).
//!
//! ```
//! use lettre::transport::smtp::response::{Category, Code, Detail, Response, Severity};
//! use tempfail::{Classifier, Disposition};
//!
//! let greylisted = Response::new(
//!     Code::new(Severity::TransientNegativeCompletion, Category::MailSystem, Detail::Zero),
//!     vec!["4.2.0 Greylisted, try again in 5 minutes".into()],
//! );
//! let c = Classifier::builtin();
//! let o = tempfail::lettre::outcome(&c, 0, &Ok(greylisted));
//! assert_eq!(o.reply.as_ref().unwrap().enhanced().unwrap().to_string(), "4.2.0");
//! assert_eq!(o.classification.disposition, Disposition::Transient);
//! assert_eq!(o.classification.category.unwrap().name(), "greylisted");
//! ```

use std::error::Error as _;

use ::lettre::address::AddressError;
use ::lettre::transport::smtp::Error;
use ::lettre::transport::smtp::response::Response;

use crate::classify::{Classification, Classifier, Stage, TransportFailure};
use crate::outcome::RcptOutcome;
use crate::reply::{Reply, ReplyCode};

/// Text kept from one reply line at most (lettre bounds its replies too).
const MAX_TEXT: usize = 4096;

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect()
}

/// The reply in a lettre response: its code and every line (the enhanced code,
/// when the first line starts with one, comes with it). `None` only for a code
/// outside 200–599, which lettre does not produce.
pub fn reply(response: &Response) -> Option<Reply> {
    let code = ReplyCode::new(u16::from(response.code()))?;
    Some(Reply::new(code, response.message().map(clean)))
}

/// The server's reply behind a lettre error with a status (a `4yz` or `5yz`
/// reply): its code and text, with the enhanced code when the text starts with
/// one. `None` for an error without a reply.
pub fn error_reply(error: &Error) -> Option<Reply> {
    let code = ReplyCode::new(u16::from(error.status()?))?;
    // lettre keeps the reply's lines, joined with spaces, as the error's source.
    let text = error
        .source()
        .map(|s| clean(&s.to_string()))
        .unwrap_or_default();
    Some(Reply::new(code, [text]))
}

/// The transport failure behind a lettre error without a reply, and the stage
/// it belongs to. `None` for an error that carries a reply ([`error_reply`]).
pub fn transport_failure(error: &Error) -> Option<(TransportFailure, Stage)> {
    if error.status().is_some() {
        return None;
    }
    let shown = error.to_string();
    let lower = shown.to_ascii_lowercase();
    if lower.starts_with("tls error") {
        let f = if lower.contains("certificate") {
            TransportFailure::TlsCertificate
        } else {
            TransportFailure::TlsHandshake
        };
        return Some((f, Stage::Starttls));
    }
    if error.is_client() {
        if lower.contains("starttls") || lower.contains("not encrypted") {
            return Some((TransportFailure::StartTlsNotOffered, Stage::Starttls));
        }
        if lower.contains("authentication mechanism") {
            return Some((TransportFailure::AuthUnavailable, Stage::Auth));
        }
    }
    // rustls's handshake runs on lettre's first read or write after STARTTLS: a
    // certificate or handshake failure then comes as a network error whose
    // source is rustls's error.
    let mut src = error.source();
    while let Some(s) = src {
        let text = s.to_string().to_ascii_lowercase();
        if text.contains("peer certificate") || text.contains("certificate verify") {
            return Some((TransportFailure::TlsCertificate, Stage::Starttls));
        }
        if text.contains("received fatal alert") || text.contains("handshake") {
            return Some((TransportFailure::TlsHandshake, Stage::Starttls));
        }
        src = s.source();
    }
    if error.is_timeout() {
        return Some((TransportFailure::ReadTimeout, Stage::Unknown));
    }
    let connecting = lower.starts_with("connection error");
    let mut src = error.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            let f = match io.kind() {
                K::ConnectionRefused => TransportFailure::ConnectionRefused,
                K::ConnectionReset | K::ConnectionAborted => TransportFailure::ConnectionReset,
                K::TimedOut if connecting => TransportFailure::ConnectTimeout,
                // A blocking socket's read or write timeout is EAGAIN on Unix:
                // lettre's `is_timeout()` misses it.
                K::TimedOut | K::WouldBlock => TransportFailure::ReadTimeout,
                _ if connecting && io.to_string().contains("lookup") => {
                    TransportFailure::DnsTemporary
                }
                _ if connecting => TransportFailure::ConnectionRefused,
                _ => TransportFailure::UnexpectedClose,
            };
            let stage = if connecting {
                Stage::Connect
            } else {
                Stage::Unknown
            };
            return Some((f, stage));
        }
        src = s.source();
    }
    if connecting {
        let f = if lower.contains("resolve") {
            TransportFailure::DnsTemporary
        } else {
            TransportFailure::ConnectionRefused
        };
        return Some((f, Stage::Connect));
    }
    if error.is_response() {
        return Some((TransportFailure::ProtocolViolation, Stage::Unknown));
    }
    Some((TransportFailure::UnexpectedClose, Stage::Unknown))
}

/// A successful response classified at [`Stage::DataEnd`] (where lettre's send
/// ends), or at `stage` when you know better.
pub fn classify_response(
    classifier: &Classifier,
    response: &Response,
    stage: Stage,
) -> Classification {
    match reply(response) {
        Some(r) => classifier.classify(&r, stage),
        None => classifier.classify_text(&response.message().collect::<Vec<_>>().join(" "), stage),
    }
}

/// A lettre error classified: its reply when it has one (stage unknown), its
/// transport failure otherwise. Returns the reply (if any) and the stage too.
pub fn classify_error(
    classifier: &Classifier,
    error: &Error,
) -> (Option<Reply>, Stage, Classification) {
    if let Some(r) = error_reply(error) {
        let c = classifier.classify(&r, Stage::Unknown);
        return (Some(r), Stage::Unknown, c);
    }
    let (f, stage) =
        transport_failure(error).unwrap_or((TransportFailure::UnexpectedClose, Stage::Unknown));
    (None, stage, classifier.classify_failure(f, stage))
}

/// One recipient's outcome from the result of a lettre send that carried it
/// (alone, or with recipients that share its fate).
pub fn outcome(
    classifier: &Classifier,
    rcpt: usize,
    result: &Result<Response, Error>,
) -> RcptOutcome {
    match result {
        Ok(resp) => {
            let stage = Stage::DataEnd;
            RcptOutcome {
                rcpt,
                reply: reply(resp),
                stage,
                classification: classify_response(classifier, resp, stage),
            }
        }
        Err(e) => {
            let (reply, stage, classification) = classify_error(classifier, e);
            RcptOutcome {
                rcpt,
                reply,
                stage,
                classification,
            }
        }
    }
}

/// An address lettre cannot put in an envelope: a permanent failure of that
/// recipient, as a local `553 5.1.3` (bad destination address syntax, RFC 3463),
/// so it bounces at once instead of being retried as a lost connection.
pub fn address_error_outcome(
    classifier: &Classifier,
    rcpt: usize,
    error: &AddressError,
) -> RcptOutcome {
    const BAD_ADDRESS: ReplyCode = match ReplyCode::new(553) {
        Some(c) => c,
        None => ReplyCode::LOCAL_ERROR,
    };
    let reply = Reply::new(
        BAD_ADDRESS,
        [format!(
            "5.1.3 Bad recipient address syntax: {}",
            clean(&error.to_string())
        )],
    );
    let classification = classifier.classify(&reply, Stage::RcptTo);
    RcptOutcome {
        rcpt,
        reply: Some(reply),
        stage: Stage::RcptTo,
        classification,
    }
}
